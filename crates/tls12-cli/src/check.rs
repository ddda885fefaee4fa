//! `tls12 check` and `tls12 explore`: the model checker over the real state machines.

use clap::{Args, ValueEnum};
use stateright::Model;
use tls12::handshake::ClientAuth;
use tls12_model::check::{
    decode_path, human_bytes, run, shard, sweep, CheckOptions, CheckReport, Search,
};
use tls12_model::partition::{merge, PartFile};
use tls12_model::search::{Partition, Progress};
use tls12_model::{Config, Move, Tls12Model};

use crate::common::{fail, usage, CliError};

/// The server's client-authentication policy.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AuthArg {
    /// No CertificateRequest.
    None,
    /// Request a certificate; go on without one.
    Optional,
    /// Request a certificate; refuse without one.
    Required,
}

impl From<AuthArg> for ClientAuth {
    fn from(arg: AuthArg) -> Self {
        match arg {
            AuthArg::None => ClientAuth::None,
            AuthArg::Optional => ClientAuth::Optional,
            AuthArg::Required => ClientAuth::Required,
        }
    }
}

/// An attacker move.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MoveArg {
    /// Drop the next record.
    Drop,
    /// Deliver the next record twice.
    Duplicate,
    /// Swap the next two records.
    Reorder,
    /// Put a record of another connection in front.
    Replay,
    /// Remove one handshake message from a flight.
    Skip,
    /// Inject a plaintext ChangeCipherSpec.
    InjectCcs,
    /// Inject a plaintext Finished.
    InjectFinished,
    /// Inject plaintext application data.
    InjectAppData,
    /// Strip extended_master_secret from a plaintext hello.
    Downgrade,
    /// Edit one field of a plaintext hello, key exchange or certificate request.
    Tamper,
}

impl From<MoveArg> for Move {
    fn from(arg: MoveArg) -> Self {
        match arg {
            MoveArg::Drop => Move::Drop,
            MoveArg::Duplicate => Move::Duplicate,
            MoveArg::Reorder => Move::Reorder,
            MoveArg::Replay => Move::Replay,
            MoveArg::Skip => Move::Skip,
            MoveArg::InjectCcs => Move::InjectCcs,
            MoveArg::InjectFinished => Move::InjectFinished,
            MoveArg::InjectAppData => Move::InjectAppData,
            MoveArg::Downgrade => Move::Downgrade,
            MoveArg::Tamper => Move::Tamper,
        }
    }
}

/// The model's configuration on the command line.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Number of clients.
    #[arg(long, default_value_t = 2)]
    pub clients: usize,
    /// Connections per client, opened one after the other (later ones offer the
    /// session of earlier ones).
    #[arg(long, default_value_t = 2)]
    pub conns: usize,
    /// Server session-cache capacity (oldest evicted first).
    #[arg(long, default_value_t = 1)]
    pub cache: usize,
    /// Attacker budget: how many attacker moves in total.
    #[arg(long, default_value_t = 1)]
    pub attacker: u8,
    /// The attacker's moves (comma-separated); all of them by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub moves: Vec<MoveArg>,
    /// The server's client-authentication policy.
    #[arg(long, value_enum, default_value_t = AuthArg::None)]
    pub client_auth: AuthArg,
    /// Clients have a certificate to present.
    #[arg(long)]
    pub client_cert: bool,
    /// Clients present the honest client's certificate with another key (a stolen
    /// certificate): the server must refuse them.
    #[arg(long)]
    pub impostor: bool,
    /// Do not explore the server ignoring a ClientHello.
    #[arg(long)]
    pub no_ignore: bool,
    /// Do not explore the server being unwilling to resume a cached session.
    #[arg(long)]
    pub no_unwilling: bool,
    /// Let a client's later connection ask for another name or offer fewer suites than
    /// the one that made its stored session (which it must then not offer).
    #[arg(long)]
    pub vary: bool,
    /// Let clients close completed connections (close_notify both ways).
    #[arg(long)]
    pub close: bool,
    /// Give the server an ECDSA P-384 certificate key instead of P-256.
    #[arg(long)]
    pub p384: bool,
    /// Let clients ask to renegotiate completed connections (the server must decline).
    #[arg(long)]
    pub renegotiate: bool,
    /// A server without a certificate, on pre-shared keys (ECDHE_PSK and plain PSK).
    #[arg(long)]
    pub psk: bool,
    /// Session tickets: clients ask for and offer them; the server may rotate its ticket
    /// key once; with an attacker, a forged ticket too.
    #[arg(long)]
    pub tickets: bool,
    /// ALPN: clients offer h2 and http/1.1, the server prefers http/1.1.
    #[arg(long)]
    pub alpn: bool,
    /// The server chooses suites by its own order (the reverse of the clients').
    #[arg(long)]
    pub server_order: bool,
    /// Checker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

impl ModelArgs {
    fn config(&self) -> Result<Config, CliError> {
        if self.clients == 0 || self.conns == 0 {
            return Err(usage("--clients and --conns must be at least 1"));
        }
        let moves = match self.moves.is_empty() {
            true => Move::ALL.to_vec(),
            false => self.moves.iter().map(|&m| m.into()).collect(),
        };
        Ok(Config {
            clients: self.clients,
            conns: self.conns,
            cache: self.cache,
            unwilling: !self.no_unwilling,
            ignore: !self.no_ignore,
            client_auth: self.client_auth.into(),
            client_cert: self.client_cert,
            impostor: self.impostor,
            attacker: self.attacker,
            moves,
            vary: self.vary,
            close: self.close,
            p384: self.p384,
            renegotiate: self.renegotiate,
            psk: self.psk,
            tickets: self.tickets,
            alpn: self.alpn,
            server_order: self.server_order,
        })
    }
}

/// `tls12 check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Print the report as JSON (on stdout; progress lines stay on stderr).
    #[arg(long)]
    json: bool,
    /// No progress lines on stderr while checking, and no final time line.
    #[arg(long, short)]
    quiet: bool,
    /// Check the CI sweep of configurations instead of one (see --shard).
    #[arg(long)]
    sweep: bool,
    /// With --sweep: run only shard I of N (e.g. 2/4), for a CI matrix.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Explore only part I of N of this configuration's state space (e.g. 3/8): every
    /// part explores up to the split depth, then only from the states of that depth whose
    /// fingerprint maps to part I. Run parts 1/N .. N/N (on N machines), then --merge.
    #[arg(long, value_name = "I/N")]
    partition: Option<String>,
    /// With --partition: the depth at which the parts split (by default the first depth
    /// with at least 64 states per part). Every part of one check must use the same.
    #[arg(long, value_name = "D")]
    split_depth: Option<usize>,
    /// Merge the --json reports of parts 1/N .. N/N into one verdict.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    merge: Vec<std::path::PathBuf>,
    /// Stop cleanly with a partial report once the process's resident memory passes
    /// this (bytes, or with a suffix K, M, G, T: powers of 1024). Exit status 3 when
    /// nothing was violated in what was explored.
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,
    /// Draw a counterexample as a message sequence chart (SVG) into FILE: the first
    /// violated property's, or --svg-property's discovery.
    #[arg(long, value_name = "FILE")]
    svg: Option<std::path::PathBuf>,
    /// With --svg: draw this property's discovery (e.g. a `sometimes` witness such as
    /// "a resumed handshake completes") instead of a violation.
    #[arg(long, value_name = "NAME", requires = "svg")]
    svg_property: Option<String>,
    /// Search breadth-first, level by level: counterexamples are shortest, but the
    /// levels being expanded are held as full states (about 1 kB per unique state where
    /// depth-first needs some 35 bytes).
    #[arg(long, conflicts_with = "dfs")]
    bfs: bool,
    /// Search depth-first (the default): memory for the visited states' fingerprints and
    /// each thread's stack only; counterexamples are valid paths, not always shortest.
    #[arg(long)]
    dfs: bool,
}

fn parse_fraction(flag: &str, text: &str) -> Result<(usize, usize), CliError> {
    let bad = || usage(format!("{flag} wants I/N with 1 <= I <= N, got {text:?}"));
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.parse::<usize>().map_err(|_| bad())?,
        n.parse::<usize>().map_err(|_| bad())?,
    );
    match (1..=n).contains(&i) {
        true => Ok((i, n)),
        false => Err(bad()),
    }
}

/// `4G`, `512M`, `1.5G`, `100000000`: bytes (suffixes are powers of 1024).
fn parse_size(text: &str) -> Result<u64, CliError> {
    let bad = || {
        usage(format!(
            "--max-memory wants a size like 4G or 512M, got {text:?}"
        ))
    };
    let t = text
        .trim()
        .trim_end_matches(['B', 'b'])
        .trim_end_matches('i');
    let (number, scale) = match t.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => {
            let power = match c.to_ascii_uppercase() {
                'K' => 1,
                'M' => 2,
                'G' => 3,
                'T' => 4,
                _ => return Err(bad()),
            };
            (&t[..at], 1024f64.powi(power))
        }
        _ => (t, 1.0),
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    match value.is_finite() && value > 0.0 {
        true => Ok((value * scale) as u64),
        false => Err(bad()),
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The progress line: `check: 1,234,567 states, 456,789 unique, depth 23, 98,765
/// states/s, 1.2 GB, 12 s`.
fn progress_line(p: &Progress) -> String {
    let secs = p.elapsed.as_secs_f64();
    format!(
        "check: {} states, {} unique, depth {}, {} states/s, {} memory, {:.0} s",
        thousands(p.states),
        thousands(p.unique),
        p.depth,
        thousands((p.states as f64 / secs.max(1e-9)) as usize),
        p.rss.map_or("?".into(), human_bytes),
        secs
    )
}

fn final_line(r: &CheckReport) -> String {
    format!(
        "check: {} in {:.1} s: {} states, {} unique, depth {}{}",
        match r.complete {
            true => "done",
            false => "stopped",
        },
        r.seconds,
        thousands(r.states),
        thousands(r.unique_states),
        r.max_depth,
        r.peak_memory.map_or(String::new(), |m| format!(
            ", peak memory {}",
            human_bytes(m)
        ))
    )
}

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every property holds (exit status 0).
    Holds,
    /// A property is violated or a `sometimes` was never reached (exit status 1).
    Fails,
    /// Stopped at the memory limit with no violation in what was explored (exit status 3).
    Incomplete,
}

/// Runs the check(s), or merges part reports.
pub fn run_check(args: CheckArgs) -> Result<Verdict, CliError> {
    if !args.merge.is_empty() {
        return run_merge(&args);
    }
    let configs = match (args.sweep, &args.shard) {
        (true, Some(text)) => {
            let (i, n) = parse_fraction("--shard", text)?;
            shard(sweep(), i, n)
        }
        (true, None) => sweep(),
        (false, Some(_)) => return Err(usage("--shard needs --sweep")),
        (false, None) => vec![args.model.config()?],
    };
    let search = match args.bfs {
        true => Search::Bfs,
        false => Search::Dfs,
    };
    let partition = match &args.partition {
        Some(text) => {
            let (index, count) = parse_fraction("--partition", text)?;
            Some(Partition {
                index,
                count,
                split: args.split_depth,
            })
        }
        None if args.split_depth.is_some() => return Err(usage("--split-depth needs --partition")),
        None => None,
    };
    if args.split_depth == Some(0) {
        return Err(usage("--split-depth counts from 1 (the initial state)"));
    }
    let max_memory = args.max_memory.as_deref().map(parse_size).transpose()?;
    if args.sweep && (partition.is_some() || args.svg.is_some()) {
        return Err(usage(
            "--partition and --svg check one configuration, not --sweep",
        ));
    }
    let print = |p: &Progress| eprintln!("{}", progress_line(p));
    let reports: Vec<CheckReport> = configs
        .iter()
        .map(|cfg| {
            let report = run(
                cfg,
                &CheckOptions {
                    threads: args.model.threads,
                    search,
                    partition,
                    max_memory,
                    progress: (!args.quiet).then_some(&print as &(dyn Fn(&Progress) + Sync)),
                },
            );
            if !args.quiet {
                eprintln!("{}", final_line(&report));
            }
            report
        })
        .collect();
    if let Some(file) = &args.svg {
        write_svg(
            &configs[0],
            &reports[0],
            file,
            args.svg_property.as_deref(),
            args.quiet,
        )?;
    }
    let ok = reports.iter().all(|r| r.ok);
    if args.json {
        let json = match reports.len() {
            1 => serde_json::to_string_pretty(&reports[0]),
            _ => serde_json::to_string_pretty(&reports),
        };
        println!(
            "{}",
            json.map_err(|e| fail(format!("cannot encode the report: {e}")))?
        );
    } else {
        for report in &reports {
            println!("{report}\n");
        }
    }
    let violated = reports.iter().any(|r| {
        r.complete && !r.ok
            || r.properties
                .iter()
                .any(|p| !p.holds && p.kind != "sometimes")
    });
    Ok(match (ok, violated) {
        (true, _) => Verdict::Holds,
        (false, true) => Verdict::Fails,
        (false, false) => Verdict::Incomplete,
    })
}

fn write_svg(
    cfg: &Config,
    report: &CheckReport,
    file: &std::path::Path,
    property: Option<&str>,
    quiet: bool,
) -> Result<(), CliError> {
    let chosen = match property {
        Some(name) => report
            .properties
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| usage(format!("--svg-property: no property named {name:?}")))?,
        None => match report
            .properties
            .iter()
            .find(|p| !p.holds && p.explorer_path.is_some())
        {
            Some(p) => p,
            None => {
                eprintln!("check: nothing violated: no counterexample to draw (--svg-property NAME draws a discovery)");
                return Ok(());
            }
        },
    };
    let encoded = chosen
        .explorer_path
        .as_deref()
        .ok_or_else(|| fail(format!("{:?} has no discovery to draw", chosen.name)))?;
    let model = Tls12Model::new(cfg.clone());
    let path =
        decode_path(&model, encoded).ok_or_else(|| fail("cannot replay the discovery's path"))?;
    let svg = model
        .as_svg(path)
        .ok_or_else(|| fail("the model drew no picture"))?;
    std::fs::write(file, svg).map_err(|e| fail(format!("cannot write {}: {e}", file.display())))?;
    if !quiet {
        eprintln!("check: drew {:?} into {}", chosen.name, file.display());
    }
    Ok(())
}

fn run_merge(args: &CheckArgs) -> Result<Verdict, CliError> {
    if args.sweep || args.partition.is_some() || args.svg.is_some() {
        return Err(usage("--merge takes only part reports (and --json)"));
    }
    let mut parts = Vec::new();
    for file in &args.merge {
        let text = std::fs::read_to_string(file)
            .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
        let part: PartFile = serde_json::from_str(&text).map_err(|e| {
            usage(format!(
                "{} is not a part report of `tls12 check --partition I/N --json`: {e}",
                file.display()
            ))
        })?;
        parts.push(part);
    }
    let merged = merge(parts).map_err(usage)?;
    if args.json {
        let json = serde_json::to_string_pretty(&merged)
            .map_err(|e| fail(format!("cannot encode the report: {e}")))?;
        println!("{json}");
    } else {
        println!("{merged}\n");
    }
    let violated = merged
        .properties
        .iter()
        .any(|p| !p.holds && p.kind != "sometimes");
    Ok(match (merged.ok, violated || merged.complete) {
        (true, _) => Verdict::Holds,
        (false, true) => Verdict::Fails,
        (false, false) => Verdict::Incomplete,
    })
}

/// `tls12 explore`.
#[derive(Args, Debug)]
pub struct ExploreArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Port on 127.0.0.1 for Explorer.
    #[arg(long, default_value_t = 3000)]
    port: u16,
}

/// Serves stateright's Explorer until interrupted.
pub fn run_explore(args: ExploreArgs) -> Result<(), CliError> {
    let cfg = args.model.config()?;
    let address = format!("127.0.0.1:{}", args.port);
    println!("Explorer on http://{address}/ (Ctrl-C to stop)");
    let checker = Tls12Model::new(cfg)
        .checker()
        .threads(args.model.threads.max(1))
        .serve(address.as_str());
    // `serve` blocks while serving; reaching here means the server stopped.
    drop(checker);
    Ok(())
}
