//! `tls12 check` and `tls12 explore`: the model checker over the real state machines.

use clap::{Args, ValueEnum};
use stateright::Model;
use tls12::handshake::ClientAuth;
use tls12_model::check::{check_with, shard, sweep, CheckReport, Search};
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
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Check the CI sweep of configurations instead of one (see --shard).
    #[arg(long)]
    sweep: bool,
    /// With --sweep: run only shard I of N (e.g. 2/4), for a CI matrix.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Search depth-first: needs memory only for visited states' fingerprints, not for a
    /// breadth-first frontier, for configurations too large otherwise (counterexamples
    /// may be longer than breadth-first's shortest ones).
    #[arg(long)]
    dfs: bool,
}

fn parse_shard(text: &str) -> Result<(usize, usize), CliError> {
    let bad = || usage(format!("--shard wants I/N with 1 <= I <= N, got {text:?}"));
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

/// Runs the check(s); `Ok(false)` when a property fails.
pub fn run_check(args: CheckArgs) -> Result<bool, CliError> {
    let configs = match (args.sweep, &args.shard) {
        (true, Some(text)) => {
            let (i, n) = parse_shard(text)?;
            shard(sweep(), i, n)
        }
        (true, None) => sweep(),
        (false, Some(_)) => return Err(usage("--shard needs --sweep")),
        (false, None) => vec![args.model.config()?],
    };
    let search = match args.dfs {
        true => Search::Dfs,
        false => Search::Bfs,
    };
    let reports: Vec<CheckReport> = configs
        .iter()
        .map(|cfg| check_with(cfg, args.model.threads, search))
        .collect();
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
    Ok(ok)
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
