//! `cargo run --release -p tls12-benches --bin summary [-- --quick]`
//!
//! Measures the scenarios of `tls12_benches::scenarios` in one process with a calibrated,
//! interleaved loop (see `tls12_benches::measure`) and prints, per scenario, tls12's time,
//! rustls' time, their ratio, the crypto floor and the ratios to it, and the rate; then
//! each side's share, the record layer beside raw ring, and the targets. Every ratio comes
//! from this one run. Criterion's HTML report (`cargo bench -p tls12-benches`) is where
//! to look for distributions.

use std::time::{Duration, Instant};

use tls12::crypto::AeadAlgorithm;
use tls12::pki::KeyKind;
use tls12_benches::fixture::Aead;
use tls12_benches::measure::{human, measure, Clock, Estimate, Sampler};
use tls12_benches::{scenarios, Role, Scenario, Unit};

const USAGE: &str =
    "usage: summary [--quick] [--sample-ms N] [--rounds N] [--blocks N] [--only TEXT]

  --quick        shorter samples and fewer rounds (a rough look in ~10 s)
  --sample-ms N  target duration of one sample (default 20)
  --rounds N     samples per block and contender (default 7)
  --blocks N     blocks; the best block median is kept (default 3)
  --wall         count wall time (default: wall time scaled by the share of it the
                 thread ran, so that time descheduled by other work is not counted)
  --only TEXT    only scenarios whose name contains TEXT (or one of TEXT,TEXT,...)
  --profile ROLE run only contender ROLE (tls12, rustls, floor, ring, tls12-client, ...)
                 of the selected scenarios for --seconds each, for perf or callgrind
  --seconds N    how long --profile runs each (default 5)";

struct Options {
    sampler: Sampler,
    only: Option<String>,
    profile: Option<String>,
    seconds: u64,
}

fn options() -> Result<Options, String> {
    let mut sampler = Sampler::default();
    let mut only = None;
    let mut profile = None;
    let mut seconds = 5;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--quick" => {
                sampler = Sampler {
                    sample: Duration::from_millis(10),
                    rounds: 5,
                    blocks: 2,
                    ..sampler
                }
            }
            "--sample-ms" => sampler.sample = Duration::from_millis(number("--sample-ms")?),
            "--rounds" => sampler.rounds = number("--rounds")? as usize,
            "--blocks" => sampler.blocks = number("--blocks")? as usize,
            "--wall" => sampler.clock = Clock::Wall,
            "--only" => only = Some(args.next().ok_or("--only needs a text")?),
            "--profile" => profile = Some(args.next().ok_or("--profile needs a role")?),
            "--seconds" => seconds = number("--seconds")?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    Ok(Options {
        sampler,
        only,
        profile,
        seconds,
    })
}

/// A scenario's results by role.
struct Results {
    name: String,
    unit: Unit,
    estimates: Vec<(Role, Estimate)>,
}

impl Results {
    fn secs(&self, role: Role) -> Option<f64> {
        self.estimates
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, e)| e.secs)
    }

    fn spread(&self) -> f64 {
        self.estimates
            .iter()
            .map(|(_, e)| e.spread)
            .fold(0.0, f64::max)
    }

    /// Handshakes/s or MB/s at `secs` per iteration.
    fn rate(&self, secs: f64) -> String {
        match self.unit {
            Unit::Handshake => format!("{:.0} hs/s", 1.0 / secs),
            Unit::Bytes(n) => format!("{:.0} MB/s", n as f64 / secs / 1e6),
        }
    }
}

/// Runs `role` of `scenario` for about `seconds` (for a profiler).
fn profile(mut scenario: Scenario, role: &str, seconds: u64) {
    let Some(contender) = scenario
        .contenders
        .iter_mut()
        .find(|c| c.role.name() == role)
    else {
        eprintln!("{}: no contender {role}", scenario.name);
        return;
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let (mut iters, mut batch, mut counted) = (0u64, 1u64, Duration::ZERO);
    while Instant::now() < deadline {
        let took = (contender.run)(batch);
        iters += batch;
        counted += took;
        if took < Duration::from_millis(20) {
            batch *= 2;
        }
    }
    eprintln!(
        "  {} {role}: {iters} iterations, {} each",
        scenario.name,
        human(counted.as_secs_f64() / iters as f64)
    );
}

fn run(mut scenario: Scenario, sampler: Sampler) -> Results {
    let start = Instant::now();
    let estimates = measure(&mut scenario, sampler);
    eprintln!(
        "  measured {} in {:.1} s",
        scenario.name,
        start.elapsed().as_secs_f64()
    );
    Results {
        name: scenario.name.clone(),
        unit: scenario.unit,
        estimates: scenario
            .contenders
            .iter()
            .map(|c| c.role)
            .zip(estimates)
            .collect(),
    }
}

fn opt(secs: Option<f64>) -> String {
    secs.map_or_else(|| "-".into(), human)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", a / b),
        _ => "-".into(),
    }
}

fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    let wanted = |name: &str| {
        options
            .only
            .as_deref()
            .is_none_or(|o| o.split(',').any(|part| name.contains(part)))
    };
    let sampler = options.sampler;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "tls12 summary: samples of ~{} ms ({}), {} rounds x {} blocks, contenders \
         interleaved; load average {}",
        sampler.sample.as_millis(),
        match sampler.clock {
            Clock::Cpu => "time the thread ran",
            Clock::Wall => "wall time",
        },
        sampler.rounds,
        sampler.blocks,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    type Make = Box<dyn Fn() -> Scenario>;
    let protocol: Vec<(&str, Make)> = vec![
        (
            "full-ecdsa-p256-x25519",
            Box::new(|| scenarios::full(KeyKind::EcdsaP256)),
        ),
        (
            "full-rsa2048-x25519",
            Box::new(|| scenarios::full(KeyKind::Rsa2048)),
        ),
        ("resumed-session-id", Box::new(scenarios::resumed)),
        (
            "bulk-aes-128-gcm",
            Box::new(|| scenarios::bulk(Aead::Aes128Gcm)),
        ),
        (
            "bulk-chacha20-poly1305",
            Box::new(|| scenarios::bulk(Aead::ChaCha20Poly1305)),
        ),
    ];
    if let Some(role) = &options.profile {
        for (name, make) in &protocol {
            if wanted(name) {
                profile(make(), role, options.seconds);
            }
        }
        return;
    }
    let mut results = Vec::new();
    for (name, make) in &protocol {
        if wanted(name) {
            results.push(run(make(), sampler));
        }
    }
    let mut records = Vec::new();
    for aead in [AeadAlgorithm::Aes128Gcm, AeadAlgorithm::ChaCha20Poly1305] {
        for make in [scenarios::seal, scenarios::open] {
            let name = format!("{}-16384", scenarios::aead_name(aead));
            if wanted(&name) || wanted("record") {
                records.push(run(make(aead, 16384), sampler));
            }
        }
    }

    println!();
    println!(
        "{:<24} {:>11} {:>11} {:>8} {:>11} {:>8} {:>8} {:>13} {:>13} {:>7}",
        "scenario",
        "tls12",
        "rustls",
        "/rustls",
        "floor",
        "/floor",
        "rustls/fl",
        "tls12 rate",
        "rustls rate",
        "spread"
    );
    for r in &results {
        let (t, u, f) = (
            r.secs(Role::Tls12),
            r.secs(Role::Rustls),
            r.secs(Role::Floor),
        );
        println!(
            "{:<24} {:>11} {:>11} {:>8} {:>11} {:>8} {:>8} {:>13} {:>13} {:>6.0}%",
            r.name,
            opt(t),
            opt(u),
            ratio(t, u),
            opt(f),
            ratio(t, f),
            ratio(u, f),
            t.map_or_else(|| "-".into(), |s| r.rate(s)),
            u.map_or_else(|| "-".into(), |s| r.rate(s)),
            r.spread() * 100.0
        );
    }

    println!();
    println!("each side's share (bulk: the server sends, the client receives)");
    println!(
        "{:<24} {:>13} {:>13} {:>13} {:>13}",
        "scenario", "tls12 client", "tls12 server", "rustls client", "rustls server"
    );
    for r in &results {
        println!(
            "{:<24} {:>13} {:>13} {:>13} {:>13}",
            r.name,
            opt(r.secs(Role::Tls12Client)),
            opt(r.secs(Role::Tls12Server)),
            opt(r.secs(Role::RustlsClient)),
            opt(r.secs(Role::RustlsServer)),
        );
    }

    if !records.is_empty() {
        println!();
        println!("one 16 KiB record: tls12's RecordCipher beside ring alone");
        println!(
            "{:<32} {:>11} {:>11} {:>10} {:>12}",
            "operation", "tls12", "ring", "tls12/ring", "tls12 rate"
        );
        for r in &records {
            let (t, g) = (r.secs(Role::Tls12), r.secs(Role::Ring));
            println!(
                "{:<32} {:>11} {:>11} {:>10} {:>12}",
                r.name,
                opt(t),
                opt(g),
                ratio(t, g),
                t.map_or_else(|| "-".into(), |s| r.rate(s)),
            );
        }
    }

    println!();
    println!("targets (time ratios; lower is better unless noted)");
    let find = |list: &[Results], name: &str| {
        list.iter().find(|r| r.name == name).map(|r| {
            (
                r.secs(Role::Tls12),
                r.secs(Role::Rustls),
                r.secs(Role::Floor),
                r.secs(Role::Ring),
            )
        })
    };
    let target = |what: &str, value: Option<f64>, limit: f64, at_most: bool| {
        let Some(v) = value else {
            return;
        };
        let met = match at_most {
            true => v <= limit,
            false => v >= limit,
        };
        let sign = if at_most { "<=" } else { ">=" };
        let verdict = if met { "met" } else { "NOT met" };
        println!("  {what:<52} {v:>6.2} {sign} {limit:<5} {verdict}");
    };
    for name in ["full-ecdsa-p256-x25519", "full-rsa2048-x25519"] {
        if let Some((Some(t), Some(u), f, _)) = find(&results, name) {
            target(&format!("{name}: tls12 / rustls"), Some(t / u), 0.95, true);
            target(
                &format!("{name}: tls12 / floor"),
                f.map(|f| t / f),
                1.10,
                true,
            );
        }
    }
    if let Some((Some(t), Some(u), _, _)) = find(&results, "resumed-session-id") {
        target("resumed-session-id: tls12 / rustls", Some(t / u), 0.8, true);
    }
    for name in ["bulk-aes-128-gcm", "bulk-chacha20-poly1305"] {
        if let Some((Some(t), Some(u), _, _)) = find(&results, name) {
            target(
                &format!("{name}: throughput tls12 / rustls"),
                Some(u / t),
                1.0,
                false,
            );
        }
    }
    for aead in ["aes-128-gcm", "chacha20-poly1305"] {
        let name = format!("seal-{aead}-16384");
        if let Some((Some(t), _, _, Some(g))) = find(&records, &name) {
            target(
                &format!("{name}: throughput tls12 / ring"),
                Some(g / t),
                0.9,
                false,
            );
        }
    }
    println!();
    println!(
        "memory: cargo run --release -p tls12-benches --bin memory; \
         over TCP: benches/s_time.sh"
    );
}
