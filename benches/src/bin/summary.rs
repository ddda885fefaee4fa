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

  --quick        fewer rounds and blocks (a rougher look in ~15 s)
  --sample-ms N  target duration of one sample (default 20)
  --rounds N     samples per block and contender (default 7)
  --blocks N     blocks; the best block median is kept (default 3)
  --exit-status  exit with status 1 when a target is not met (benches/check.sh)
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
    exit_status: bool,
}

fn options() -> Result<Options, String> {
    let mut sampler = Sampler::default();
    let mut only = None;
    let mut profile = None;
    let mut seconds = 5;
    let mut exit_status = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--quick" => {
                // Samples as long as by default (shorter ones favour the contender with
                // the smallest working set: each sample starts with caches the previous
                // contender filled), fewer of them.
                sampler = Sampler {
                    rounds: 5,
                    blocks: 2,
                    ..sampler
                }
            }
            "--sample-ms" => sampler.sample = Duration::from_millis(number("--sample-ms")?),
            "--rounds" => sampler.rounds = number("--rounds")? as usize,
            "--blocks" => sampler.blocks = number("--blocks")? as usize,
            "--wall" => sampler.clock = Clock::Wall,
            "--exit-status" => exit_status = true,
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
        exit_status,
    })
}

/// The processor the figures come from: its name, family and model (an "AMD EPYC" is
/// Zen 2, 3 or 4 by its family and model), cores, and the features the record layer and
/// the handshake's hashing depend on.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let flags = field("flags");
    let flags: Vec<&str> = flags.split_whitespace().collect();
    let features: Vec<&str> = [
        "aes",
        "pclmulqdq",
        "vaes",
        "vpclmulqdq",
        "avx2",
        "avx512f",
        "sha_ni",
    ]
    .into_iter()
    .filter(|f| flags.contains(f))
    .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "{} (family {}, model {}), {cores} cores, {}",
        field("model name"),
        field("cpu family"),
        field("model"),
        features.join(" ")
    )
}

/// How many times slower a 16 KiB `memcpy` runs with its destination 8 bytes past its
/// source, modulo the 4 KiB page, than with the two lined up. Far above 1 (about 80 on an
/// AMD Zen 4 with glibc 2.36) means this machine has the `rep movsb` slow path of glibc
/// BZ 30994: an implementation whose buffers happen to lie that way copies at 1 GB/s
/// instead of 50 or more, so its bulk figures depend on heap layout.
fn copy_trap() -> f64 {
    const LEN: usize = 16 * 1024;
    let src = vec![1u8; LEN + 8192];
    let mut dst = vec![0u8; LEN + 8192];
    let page = |p: *const u8| (4096 - p as usize % 4096) % 4096;
    let (s, d) = (page(src.as_ptr()), page(dst.as_ptr()));
    let mut time = |shift: usize| {
        (0..5)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..100 {
                    dst[d + shift..d + shift + LEN].copy_from_slice(&src[s..s + LEN]);
                    std::hint::black_box(&mut dst);
                }
                start.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let lined_up = time(0);
    time(8) / lined_up.max(1e-12)
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
    eprintln!("machine: {}", machine());
    let trap = copy_trap();
    eprintln!(
        "memcpy of 16 KiB, destination 8 bytes past the source modulo 4 KiB: {trap:.1} x the \
         lined-up time{}",
        match trap > 5.0 {
            true =>
                " (glibc's rep movsb slow path, BZ 30994: tls12 cuts such copies, rustls \
                     does not, so rustls's bulk figures depend on where its buffers lie)",
            false => "",
        }
    );
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
    fn find<'a>(list: &'a [Results], name: &str) -> Option<&'a Results> {
        list.iter().find(|r| r.name == name)
    }
    let mut missed = 0;
    let mut target = |what: &str, value: Option<f64>, limit: f64, at_most: bool| {
        let Some(v) = value else {
            return;
        };
        let met = match at_most {
            true => v <= limit,
            false => v >= limit,
        };
        let sign = if at_most { "<=" } else { ">=" };
        let verdict = if met { "met" } else { "NOT met" };
        missed += usize::from(!met);
        println!("  {what:<58} {v:>6.2} {sign} {limit:<5} {verdict}");
    };
    let ratio_of = |r: &Results, a: Role, b: Role| Some(r.secs(a)? / r.secs(b)?);
    if let Some(r) = find(&results, "full-ecdsa-p256-x25519") {
        target(
            "full-ecdsa-p256-x25519: tls12 / rustls",
            ratio_of(r, Role::Tls12, Role::Rustls),
            0.95,
            true,
        );
        target(
            "full-ecdsa-p256-x25519: tls12 / floor",
            ratio_of(r, Role::Tls12, Role::Floor),
            1.05,
            true,
        );
    }
    if let Some(r) = find(&results, "full-rsa2048-x25519") {
        // 0.95 x rustls is below the floor itself here (rustls is about 1.05 x it).
        target(
            "full-rsa2048-x25519: tls12 / floor",
            ratio_of(r, Role::Tls12, Role::Floor),
            1.10,
            true,
        );
    }
    if let Some(r) = find(&results, "resumed-session-id") {
        target(
            "resumed-session-id: tls12 / rustls",
            ratio_of(r, Role::Tls12, Role::Rustls),
            0.6,
            true,
        );
    }
    for name in ["bulk-aes-128-gcm", "bulk-chacha20-poly1305"] {
        if let Some(r) = find(&results, name) {
            target(
                &format!("{name}: throughput tls12 / rustls"),
                ratio_of(r, Role::Rustls, Role::Tls12),
                1.0,
                false,
            );
            target(
                &format!("{name}: receiver tls12 / rustls"),
                ratio_of(r, Role::Tls12Client, Role::RustlsClient),
                1.0,
                true,
            );
            target(
                &format!("{name}: sender tls12 / rustls"),
                ratio_of(r, Role::Tls12Server, Role::RustlsServer),
                1.0,
                true,
            );
        }
    }
    for aead in ["aes-128-gcm", "chacha20-poly1305"] {
        if let Some(r) = find(&records, &format!("seal-{aead}-16384")) {
            target(
                &format!("seal-{aead}-16384: throughput tls12 / ring"),
                ratio_of(r, Role::Ring, Role::Tls12),
                0.9,
                false,
            );
        }
    }
    // The open target is AES-GCM's, whose explicit nonce used to be shifted out of the
    // way; ChaCha20-Poly1305 has none (its ratio is in the table above).
    if let Some(r) = find(&records, "open-aes-128-gcm-16384") {
        target(
            "open-aes-128-gcm-16384: tls12 / ring",
            ratio_of(r, Role::Tls12, Role::Ring),
            1.05,
            true,
        );
    }
    println!(
        "  {}",
        match missed {
            0 => "every target met".to_owned(),
            n => format!("{n} target(s) NOT met"),
        }
    );
    println!();
    println!(
        "memory: cargo run --release -p tls12-benches --bin memory; \
         over TCP: benches/s_time.sh"
    );
    if options.exit_status && missed > 0 {
        std::process::exit(1);
    }
}
