//! `tls12 bench`: a TLS 1.2 handshake load generator. Connections in flight
//! (`--concurrency`) or handshakes started per second (`--rate`, open loop), a share of
//! them resuming (`--resume-ratio`), against any TLS 1.2 server; a progress line on
//! stderr while it runs, and at the end handshakes per second (full and resumed apart),
//! latency percentiles from HDR histograms, failures by cause and the client's CPU time
//! per handshake, as text or `--json`.
//!
//! The load runs on tls12-tokio ([`engine`]), the numbers are summed up in [`stats`], the
//! certificate check that `--insecure-no-verify` skips is in [`provider`], CPU time comes
//! from `/proc` ([`cpu`]).

mod cpu;
mod engine;
mod provider;
mod stats;

use std::fmt::Write as _;
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tls12::crypto::ring::RingRoots;
use tls12::handshake::client::ClientConfig;
use tls12::msgs::enums::{CipherSuite, NamedGroup};
use tls12::suites::{Suite, ALL_SUITES};

use self::cpu::Process;
use self::engine::{Live, Negotiated, Plan};
use self::provider::BenchProvider;
use self::stats::{Percentiles, Summary};
use crate::common::{fail, load_roots, unescape, usage, CliError};
use crate::server::parse_duration;

/// `tls12 bench` options.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The server, as HOST:PORT (e.g. 127.0.0.1:4433, localhost:443, [::1]:4433).
    #[arg(value_name = "HOST:PORT")]
    address: String,
    /// Connections in flight at once. With --rate: the most in flight [default: 1; with
    /// --rate: 1000].
    #[arg(long, short = 'c', value_name = "C",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    concurrency: Option<u32>,
    /// How long to measure, after --warmup (e.g. 10s, 500ms, 2m) [default: 10s, or no
    /// limit with --handshakes].
    #[arg(long, short = 'd', value_name = "TIME", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Start this many handshakes (after --warmup), then stop; with --duration too,
    /// whichever comes first.
    #[arg(long, short = 'n', value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    handshakes: Option<u64>,
    /// The share of handshakes, 0 to 1, that offer the stored session (the latest the
    /// server gave); they are spread evenly, not drawn at random.
    #[arg(long, value_name = "R", default_value_t = 0.0, value_parser = parse_ratio)]
    resume_ratio: f64,
    /// Open loop: start this many handshakes per second on a fixed schedule, whatever the
    /// server's pace, and count each one's latency from its scheduled start (so a server
    /// that falls behind shows as latency, not as a lower rate: no coordinated omission).
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate)]
    rate: Option<f64>,
    /// Worker threads of the client's runtime (1: one thread does everything).
    #[arg(long, value_name = "T", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: u16,
    /// Cipher suites to offer, in order (IANA or OpenSSL names, e.g.
    /// ECDHE-ECDSA-AES128-GCM-SHA256) [default: all six].
    #[arg(long, value_name = "SUITE,..", value_delimiter = ',')]
    suite: Vec<String>,
    /// ECDHE groups to offer, in order: x25519, p256 (secp256r1), p384 (secp384r1)
    /// [default: all three].
    #[arg(long, value_name = "GROUP,..", value_delimiter = ',')]
    group: Vec<String>,
    /// The name the certificate must be valid for, sent as SNI when it is a DNS name
    /// [default: HOST].
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
    /// CA certificates (PEM) the server's chain must lead to.
    #[arg(long, value_name = "CA.pem")]
    ca: Option<PathBuf>,
    /// Do not check the server's certificate chain at all (servers with throwaway
    /// certificates). Anyone could be answering: for benchmarks only.
    #[arg(long, conflicts_with = "ca")]
    insecure_no_verify: bool,
    /// Send this after each handshake and read the response (\r, \n, \t and \\ are
    /// unescaped), e.g. 'GET / HTTP/1.0\r\n\r\n'. The response is read until the server
    /// closes, or up to --response-bytes.
    #[arg(long, value_name = "TEXT")]
    request: Option<String>,
    /// With --request: the response's length, for a server that does not close after it
    /// (an echo server such as `tls12 server`: the request's length).
    #[arg(long, value_name = "BYTES", requires = "request")]
    response_bytes: Option<usize>,
    /// Run this long before measuring (connections, caches and sessions warm up; none of
    /// it is counted).
    #[arg(long, value_name = "TIME", default_value = "0s", value_parser = parse_warmup)]
    warmup: Duration,
    /// The most one connection may take, from its TCP connect to the end of the response:
    /// past it the connection fails as a timeout.
    #[arg(long, value_name = "TIME", default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// Resume by session ID only: do not ask for session tickets (RFC 5077). By default
    /// the client asks for tickets and resumes with them when the server gives one, as
    /// browsers and curl do.
    #[arg(long)]
    no_tickets: bool,
    /// Print the results as one JSON object on stdout instead of the text report.
    #[arg(long)]
    json: bool,
    /// No progress line.
    #[arg(long, short)]
    quiet: bool,
    /// Also report this process's CPU time per handshake (the server's, when it runs on
    /// this machine), read from /proc at the start and end of the measured window.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
}

/// `--resume-ratio`: a number from 0 to 1.
fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("{text:?}: a share from 0 to 1, e.g. 0.5")),
    }
}

/// `--rate`: handshakes per second, above zero.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 10_000_000.0 => Ok(r),
        _ => Err(format!("{text:?}: handshakes per second, above 0")),
    }
}

/// `--warmup`: a time, or 0 for none.
fn parse_warmup(text: &str) -> Result<Duration, String> {
    match text
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .parse::<f64>()
    {
        Ok(0.0) => Ok(Duration::ZERO),
        _ => parse_duration(text),
    }
}

/// A suite by its IANA name (`TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`) or OpenSSL's
/// (`ECDHE-ECDSA-AES128-GCM-SHA256`), any case.
fn parse_suite(name: &str) -> Result<Suite, CliError> {
    let wanted = name.trim().to_ascii_uppercase();
    ALL_SUITES
        .iter()
        .find(|s| {
            let iana = format!("{:?}", s.suite);
            iana == wanted || openssl_name(s.suite).is_some_and(|o| o == wanted)
        })
        .copied()
        .ok_or_else(|| {
            let known: Vec<String> = ALL_SUITES
                .iter()
                .map(|s| format!("{:?}", s.suite))
                .collect();
            usage(format!(
                "--suite {name:?}: not one of ours: {} (or their OpenSSL names)",
                known.join(", ")
            ))
        })
}

/// OpenSSL's name of a suite we speak.
fn openssl_name(suite: CipherSuite) -> Option<&'static str> {
    use CipherSuite::*;
    Some(match suite {
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        _ => return None,
    })
}

/// A group by name: x25519, p256 / p-256 / secp256r1 / prime256v1, p384 / p-384 /
/// secp384r1.
fn parse_group(name: &str) -> Result<NamedGroup, CliError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "x25519" => Ok(NamedGroup::X25519),
        "p256" | "p-256" | "secp256r1" | "prime256v1" => Ok(NamedGroup::secp256r1),
        "p384" | "p-384" | "secp384r1" => Ok(NamedGroup::secp384r1),
        _ => Err(usage(format!(
            "--group {name:?}: one of x25519, p256 (secp256r1), p384 (secp384r1)"
        ))),
    }
}

/// The JSON report (`--json`); the text report prints the same.
#[derive(Debug, Serialize)]
struct Report {
    /// HOST:PORT as given.
    target: String,
    server_name: String,
    /// "closed-loop" or "open-loop".
    mode: &'static str,
    concurrency: u32,
    /// `--rate`: handshakes started per second in the open loop.
    scheduled_rate: Option<f64>,
    threads: u16,
    resume_ratio: f64,
    /// How sessions were offered: "ticket" (RFC 5077, falling back to the session ID when
    /// the server gives no ticket) or "session-id".
    resumption: &'static str,
    verify: bool,
    warmup_s: f64,
    negotiated: Option<Negotiated>,
    #[serde(flatten)]
    summary: Summary,
    client_cpu: Option<CpuUse>,
    server_cpu: Option<CpuUse>,
    /// Why the run stopped before its end, if it did.
    gave_up: Option<String>,
}

/// CPU time of a process over the measured window.
#[derive(Debug, Serialize)]
struct CpuUse {
    seconds: f64,
    /// Per completed handshake.
    per_handshake_ms: Option<f64>,
    /// CPU seconds per second of wall time: 1.0 is one core kept busy.
    cores: f64,
}

impl CpuUse {
    fn new(cpu: Duration, summary: &Summary) -> Self {
        let seconds = cpu.as_secs_f64();
        let handshakes = summary.handshakes.total;
        Self {
            seconds,
            per_handshake_ms: (handshakes > 0).then(|| seconds * 1000.0 / handshakes as f64),
            cores: match summary.elapsed_s > 0.0 {
                true => seconds / summary.elapsed_s,
                false => 0.0,
            },
        }
    }
}

/// Runs the benchmark; `Err` is printed by `main` with the matching exit status: 2 for a
/// command line that cannot work, 1 when any connection failed (the report is printed
/// first) or none completed.
pub fn run(args: BenchArgs) -> Result<(), CliError> {
    let (host, port) = crate::client::split_address(&args.address)?;
    let server_name = args.server_name.clone().unwrap_or_else(|| host.clone());
    let roots = match (&args.ca, args.insecure_no_verify) {
        (Some(ca), _) => load_roots(ca)?,
        (None, true) => {
            RingRoots::from_der_certs(&[]).map_err(|e| fail(format!("no roots: {e:?}")))?
        }
        (None, false) => {
            return Err(usage(
                "pass --ca CA.pem (the CA of the server's certificate), or \
                 --insecure-no-verify for a server with a throwaway certificate",
            ))
        }
    };
    let mut config = ClientConfig::<BenchProvider>::new(roots);
    if !args.suite.is_empty() {
        config.suites = args
            .suite
            .iter()
            .map(|s| parse_suite(s))
            .collect::<Result<_, _>>()?;
    }
    if !args.group.is_empty() {
        config.groups = args
            .group
            .iter()
            .map(|g| parse_group(g))
            .collect::<Result<_, _>>()?;
    }
    config.tickets = !args.no_tickets;
    // Nobody prints the flights: do not build them.
    config.flight_trace = false;
    config.handshake_timeout = args.timeout.as_secs().max(1);
    let addrs: Vec<_> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| fail(format!("cannot resolve {host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(fail(format!("{host} resolves to no address")));
    }
    let concurrency = args
        .concurrency
        .unwrap_or(if args.rate.is_some() { 1000 } else { 1 });
    let duration = match (args.duration, args.handshakes) {
        (None, None) => Some(Duration::from_secs(10)),
        (duration, _) => duration,
    };
    let request = args.request.as_deref().map(|r| unescape(r).into_bytes());
    if args.insecure_no_verify {
        eprintln!(
            "WARNING: --insecure-no-verify: the server's certificate is NOT checked; anyone \
             could be answering. For benchmarks of throwaway servers only."
        );
    }
    raise_open_file_limit(u64::from(concurrency));

    let mut cpu_of = vec![Process::Me];
    if let Some(pid) = args.server_pid {
        if Process::Pid(pid).cpu_time().is_none() {
            return Err(usage(format!(
                "--server-pid {pid}: no such process in /proc"
            )));
        }
        cpu_of.push(Process::Pid(pid));
    }
    let plan = Plan {
        addrs,
        server_name: server_name.clone(),
        config: Arc::new(config),
        provider: BenchProvider::new(!args.insecure_no_verify),
        concurrency: concurrency as usize,
        rate: args.rate,
        duration,
        handshakes: args.handshakes,
        warmup: args.warmup,
        resume_ratio: args.resume_ratio,
        timeout: args.timeout,
        request,
        response_bytes: args.response_bytes,
        cpu_of,
    };

    let runtime = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(n))
            .enable_all()
            .build(),
    }
    .map_err(|e| fail(format!("cannot start the runtime: {e}")))?;
    let live = Arc::new(Live::default());
    let done = Arc::new(AtomicBool::new(false));
    let progress = (!args.quiet).then(|| {
        let (live, done, warmup) = (Arc::clone(&live), Arc::clone(&done), args.warmup);
        std::thread::spawn(move || show_progress(&live, &done, warmup))
    });
    let result = runtime.block_on(engine::run(plan, Arc::clone(&live)));
    // Lingering closes of failed connections may still be running: they are not ours to
    // wait for.
    runtime.shutdown_background();
    done.store(true, Ordering::Relaxed);
    if let Some(progress) = progress {
        let _ = progress.join();
    }

    let summary = result.recorder.summary(result.elapsed);
    let cpu_use = |i: usize| {
        result
            .cpu
            .get(i)
            .copied()
            .flatten()
            .map(|cpu| CpuUse::new(cpu, &summary))
    };
    let report = Report {
        target: args.address.clone(),
        server_name,
        mode: match args.rate {
            Some(_) => "open-loop",
            None => "closed-loop",
        },
        concurrency,
        scheduled_rate: args.rate,
        threads: args.threads,
        resume_ratio: args.resume_ratio,
        resumption: match args.no_tickets {
            true => "session-id",
            false => "ticket",
        },
        verify: !args.insecure_no_verify,
        warmup_s: args.warmup.as_secs_f64(),
        negotiated: result.negotiated.clone(),
        client_cpu: cpu_use(0),
        server_cpu: cpu_use(1),
        gave_up: result.gave_up.clone(),
        summary,
    };
    if args.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| fail(format!("cannot write JSON: {e}")))?;
        println!("{json}");
    } else {
        print!("{}", render(&report));
    }
    verdict(&report, result.measured_nothing)
}

/// The exit status in words: `Ok` only when every measured connection completed.
fn verdict(report: &Report, measured_nothing: bool) -> Result<(), CliError> {
    let s = &report.summary;
    let failed = s.handshakes.failed;
    let worst = s.failures.first();
    let why = |line: &stats::FailureLine| {
        let hint = hint(&line.cause, &line.example, report);
        format!("{}: {}{hint}", line.cause, line.example)
    };
    if let Some(gave_up) = &report.gave_up {
        let hint = worst
            .map(|w| hint(&w.cause, &w.example, report))
            .unwrap_or_default();
        return Err(fail(format!("{gave_up}{hint}")));
    }
    match (s.handshakes.total, worst) {
        (0, Some(line)) => Err(fail(format!(
            "no handshake completed; {failed} connections failed, the most common way: {}",
            why(line)
        ))),
        (0, None) if measured_nothing => {
            Err(fail("nothing was measured: the run ended within --warmup"))
        }
        (0, None) => Err(fail("no handshake completed within the run")),
        (_, Some(line)) => Err(fail(format!(
            "{failed} of {} connections failed, the most common way: {}",
            failed + s.handshakes.total,
            why(line)
        ))),
        (_, None) => Ok(()),
    }
}

/// What to try about a failure cause, as ` (...)`, or nothing.
fn hint(cause: &str, example: &str, report: &Report) -> String {
    let text = if cause == "refused" {
        format!("nothing accepts connections at {}", report.target)
    } else if cause == "alert received: protocol_version" {
        "the server does not speak TLS 1.2 (a TLS 1.3-only server answers so)".into()
    } else if cause == "alert received: handshake_failure" {
        "no cipher suite or group in common: see --suite and --group; an ECDSA \
         certificate's curve must be among the groups offered (RFC 8422 §5.1.1)"
            .into()
    } else if cause == "alert sent: bad_certificate" && example.contains("not valid for the name") {
        format!(
            "the certificate is not for {:?}: pass the name it is for with --server-name",
            report.server_name
        )
    } else if cause == "alert sent: unknown_ca" {
        "the chain does not lead to --ca; a throwaway certificate needs --insecure-no-verify".into()
    } else if cause.starts_with("timeout") {
        "the server took longer than --timeout; is it stalled or overloaded?".into()
    } else if cause.starts_with("closed by peer") || cause.starts_with("reset by peer") {
        "the server hung up without a TLS alert: not a TLS server, or it refused us".into()
    } else if cause.starts_with("alert sent: decode_error")
        || cause.starts_with("alert sent: unexpected_message")
        || cause.starts_with("alert sent: record_overflow")
    {
        "the server's answer is not TLS 1.2 records: is it a TLS server?".into()
    } else {
        return String::new();
    };
    format!(" ({text})")
}

/// The text report.
fn render(r: &Report) -> String {
    let s = &r.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "tls12 bench {} (server name {}): {:.1} s measured{}",
        r.target,
        r.server_name,
        s.elapsed_s,
        match r.warmup_s > 0.0 {
            true => format!(" after {:.1} s of warmup", r.warmup_s),
            false => String::new(),
        }
    );
    let load = match r.scheduled_rate {
        Some(rate) => format!(
            "open loop, {} handshakes/s scheduled, at most {} in flight",
            thousands(rate),
            r.concurrency
        ),
        None => format!(
            "closed loop, {} connection{} in flight",
            r.concurrency,
            if r.concurrency == 1 { "" } else { "s" }
        ),
    };
    let _ = writeln!(
        out,
        "  {load}, {} client thread{}; resume ratio {:.2} by {}; certificates {}",
        r.threads,
        if r.threads == 1 { "" } else { "s" },
        r.resume_ratio,
        match r.resumption {
            "ticket" => "session ticket",
            _ => "session ID",
        },
        match r.verify {
            true => "verified",
            false => "NOT verified",
        }
    );
    if let Some(n) = &r.negotiated {
        let _ = writeln!(
            out,
            "  negotiated {}, group {}, extended master secret {}",
            n.suite,
            n.group.as_deref().unwrap_or("none"),
            if n.extended_master_secret {
                "yes"
            } else {
                "no"
            }
        );
    }
    let h = &s.handshakes;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<14}{:>12}{:>12}{:>12}{:>12}",
        "handshakes", "total", "full", "resumed", "failed"
    );
    let _ = writeln!(
        out,
        "{:<14}{:>12}{:>12}{:>12}{:>12}",
        "  count",
        thousands(h.total as f64),
        thousands(h.full as f64),
        thousands(h.resumed as f64),
        thousands(h.failed as f64)
    );
    let _ = writeln!(
        out,
        "{:<14}{:>12.1}{:>12.1}{:>12.1}",
        "  per second", s.rate.total, s.rate.full, s.rate.resumed
    );
    if h.offered > 0 {
        let by = match (h.offered_ticket, h.offered - h.offered_ticket) {
            (0, _) => "session ID".to_owned(),
            (_, 0) => "session ticket".to_owned(),
            (t, i) => format!("ticket ({t}) or session ID ({i})"),
        };
        let _ = writeln!(
            out,
            "  resumed {} of {} offered ({:.1} %), offered by {by}; resumed share {:.1} %",
            thousands(h.resumed as f64),
            thousands(h.offered as f64),
            100.0 * s.resumption_hit.unwrap_or(0.0),
            100.0 * s.resumed_share.unwrap_or(0.0)
        );
    } else if r.resume_ratio > 0.0 && h.total > 0 {
        let _ = writeln!(
            out,
            "  no session was offered: the server gave neither a session ID nor a ticket"
        );
    }
    if let Some(all) = &s.latency_ms.all {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<14}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}",
            "latency (ms)", "p50", "p90", "p99", "p99.9", "max", "mean"
        );
        let row = |out: &mut String, name: &str, p: &Percentiles| {
            let _ = writeln!(
                out,
                "{:<14}{:>10.3}{:>10.3}{:>10.3}{:>10.3}{:>10.3}{:>10.3}",
                format!("  {name}"),
                p.p50,
                p.p90,
                p.p99,
                p.p99_9,
                p.max,
                p.mean
            );
        };
        row(&mut out, "all", all);
        if let (Some(full), Some(resumed)) = (&s.latency_ms.full, &s.latency_ms.resumed) {
            row(&mut out, "full", full);
            row(&mut out, "resumed", resumed);
        }
        if let Some(exchange) = &s.exchange_ms {
            row(&mut out, "response", exchange);
        }
        let _ = writeln!(
            out,
            "  (handshake: TCP connect to Finished{}; response: request sent to response read)",
            match r.scheduled_rate {
                Some(_) => ", from the scheduled start",
                None => "",
            }
        );
    }
    let _ = writeln!(out);
    for (who, cpu) in [("client", &r.client_cpu), ("server", &r.server_cpu)] {
        if let Some(cpu) = cpu {
            let _ = writeln!(
                out,
                "{who} CPU: {:.2} s, {} per handshake, {:.0} % of one core",
                cpu.seconds,
                cpu.per_handshake_ms
                    .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.3} ms")),
                100.0 * cpu.cores
            );
        }
    }
    if let Some(cpu) = &r.client_cpu {
        if cpu.cores >= 0.9 * f64::from(r.threads) {
            let _ = writeln!(
                out,
                "  note: the client kept its {} thread(s) busy: it may be what limits the rate \
                 (try --threads)",
                r.threads
            );
        }
    }
    if s.failures.is_empty() {
        let _ = writeln!(out, "failures: none");
    } else {
        let _ = writeln!(out, "{:<40}{:>10}  first seen", "failures", "count");
        for f in &s.failures {
            let _ = writeln!(
                out,
                "{:<40}{:>10}  {}",
                format!("  {}", f.cause),
                thousands(f.count as f64),
                f.example
            );
        }
    }
    if let Some(gave_up) = &r.gave_up {
        let _ = writeln!(out, "stopped early: {gave_up}");
    }
    out
}

/// `n` rounded, with thousands separated by commas: `12,345`.
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Raises the open-file limit to fit `concurrency` sockets and some.
fn raise_open_file_limit(concurrency: u64) {
    const SPARE: u64 = 256;
    match rlimit::increase_nofile_limit(concurrency * 2 + SPARE) {
        Ok(limit) if limit < concurrency + SPARE => eprintln!(
            "warning: the open-file limit is {limit}: --concurrency {concurrency} may fail \
             with \"too many open files\" (raise it with `ulimit -n`)"
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!("cannot raise the open-file limit: {err}"),
    }
}

/// The progress line on stderr (when it is a terminal), four times a second until `done`:
/// elapsed time, handshakes, handshakes/s over the last second and overall, failures,
/// resumed share.
fn show_progress(live: &Live, done: &AtomicBool, warmup: Duration) {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    let started = Instant::now();
    // (time, completed) samples of the last second or so, for the rate "now".
    let mut recent = std::collections::VecDeque::from([(started, 0u64)]);
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(250));
        let now = Instant::now();
        let completed = live.completed.load(Ordering::Relaxed);
        let resumed = live.resumed.load(Ordering::Relaxed);
        let failed = live.failed.load(Ordering::Relaxed);
        recent.push_back((now, completed));
        while recent.len() > 5 {
            recent.pop_front();
        }
        let now_rate = match recent.front() {
            Some(&(then, before)) if now > then => {
                (completed - before) as f64 / (now - then).as_secs_f64()
            }
            _ => 0.0,
        };
        let elapsed = now - started;
        let overall = completed as f64 / elapsed.as_secs_f64().max(1e-9);
        let resumed_share = match completed {
            0 => 0.0,
            n => 100.0 * resumed as f64 / n as f64,
        };
        bar.set_message(format!(
            "{:.1} s{}  {} handshakes  {}/s now  {}/s avg  {} failed  {:.0} % resumed",
            elapsed.as_secs_f64(),
            if elapsed < warmup { " (warmup)" } else { "" },
            thousands(completed as f64),
            thousands(now_rate),
            thousands(overall),
            thousands(failed as f64),
            resumed_share
        ));
        bar.tick();
    }
    bar.finish_and_clear();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failure here is a failed test
    use super::*;
    use tls12::crypto::{Provider, UnixTime};
    use tls12::msgs::CertificateDer;

    #[test]
    fn suites_and_groups_are_found_by_iana_and_openssl_names() {
        let by_iana = parse_suite("tls_ecdhe_rsa_with_aes_256_gcm_sha384").unwrap();
        assert_eq!(
            by_iana.suite,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        );
        let by_openssl = parse_suite("ECDHE-ECDSA-CHACHA20-POLY1305").unwrap();
        assert_eq!(
            by_openssl.suite,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        );
        for suite in ALL_SUITES {
            assert!(openssl_name(suite.suite).is_some(), "{:?}", suite.suite);
        }
        assert!(matches!(parse_suite("AES128-SHA"), Err(CliError::Usage(_))));
        assert_eq!(parse_group("P-256").unwrap(), NamedGroup::secp256r1);
        assert_eq!(parse_group("X25519").unwrap(), NamedGroup::X25519);
        assert!(matches!(parse_group("ffdhe2048"), Err(CliError::Usage(_))));
    }

    #[test]
    fn ratios_rates_and_warmups_parse_within_their_bounds() {
        assert_eq!(parse_ratio("0.25"), Ok(0.25));
        assert!(parse_ratio("1.5").is_err() && parse_ratio("-0.1").is_err());
        assert_eq!(parse_rate("2000"), Ok(2000.0));
        assert!(parse_rate("0").is_err() && parse_rate("inf").is_err());
        assert_eq!(parse_warmup("0"), Ok(Duration::ZERO));
        assert_eq!(parse_warmup("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_warmup("2s"), Ok(Duration::from_secs(2)));
        assert!(parse_warmup("soon").is_err());
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1234.0), "1,234");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn without_verification_any_chain_passes_and_with_it_none_does() {
        let roots = RingRoots::from_der_certs(&[]).unwrap();
        let junk = [CertificateDer(vec![0x30, 0x03, 1, 2, 3])];
        let now = UnixTime(1_800_000_000);
        let unchecked = BenchProvider::new(false);
        assert_eq!(
            unchecked.verify_chain(&roots, &junk, Some("x"), now),
            Ok(())
        );
        let checked = BenchProvider::new(true);
        assert!(checked.verify_chain(&roots, &junk, Some("x"), now).is_err());
    }
}
