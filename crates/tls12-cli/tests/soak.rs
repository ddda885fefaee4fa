//! The soak: the reliability mix against one `tls12 server` for N minutes, with counts at
//! the end. Each round holds 200 idle sockets and 20 that dribble a ClientHello a byte a
//! second, runs every fault of `support::attacks` once, and meanwhile, until the faults
//! are done, batches of 100 honest clients at once, 50 of them resuming their session of
//! the batch before. Not part of the default run:
//!
//!     TLS12_SOAK_MINUTES=10 cargo test -p tls12-cli --test soak -- --ignored --nocapture
//!
//! (default 1 minute). It fails on any failed honest exchange, a resumption that should
//! have hit and did not, a fault the server mishandled, or a task, socket or memory left
//! behind at the end.

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::attacks::FAULTS;
use support::attacks::{HANDSHAKE_TIMEOUT, IDLE_TIMEOUT};
use support::load::{
    client_config, client_hello, exchange, fd_count, raise_fd_limit, rss_kib, runtime,
    wait_for_fds, wait_for_stats,
};
use support::OurServer;
use tls12::session::ClientSessionStore;
use tls12_tokio::TlsConnector;

const IDLE: usize = 200;
const DRIBBLING: usize = 20;
const HONEST: usize = 100;
const RESUMING: usize = HONEST / 2;
/// The server's `--cache-size`. Its eviction is oldest-first and a resumption does not
/// refresh a session, so a resuming client's session is evicted after this many newer
/// ones: a miss then is the cache doing its job, and the soak counts it apart.
const CACHE: u64 = 2000;

#[test]
#[ignore = "a soak of minutes: run with --ignored (TLS12_SOAK_MINUTES, default 1)"]
fn soak_the_reliability_mix() {
    let minutes: f64 = std::env::var("TLS12_SOAK_MINUTES")
        .ok()
        .map(|m| m.parse().expect("TLS12_SOAK_MINUTES: a number of minutes"))
        .unwrap_or(1.0);
    let duration = Duration::from_secs_f64(minutes * 60.0);
    raise_fd_limit((IDLE + DRIBBLING + HONEST) as u64 * 2 + 512);
    let server = OurServer::start_exactly(
        &[
            "--handshake-timeout",
            HANDSHAKE_TIMEOUT,
            "--idle-timeout",
            IDLE_TIMEOUT,
            "--cache-size",
            &CACHE.to_string(),
            "--stats",
            "1s",
        ],
        &[],
    );
    let pid = server.pid();
    let config = client_config(&server.printed_path("CA certificate"));
    let address = server.listening;
    let rt = runtime();
    let fds_before = fd_count(pid);
    rt.block_on(exchange(
        &TlsConnector::new(config.clone()),
        address,
        b"warm-up",
    ))
    .unwrap();
    let rss_before = rss_kib(pid);
    let resuming: Vec<TlsConnector> = (0..RESUMING)
        .map(|_| {
            TlsConnector::new(config.clone())
                .with_session_store(Arc::new(Mutex::new(ClientSessionStore::new())))
        })
        .collect();

    let started = Instant::now();
    let (mut rounds, mut exchanges, mut resumed, mut misses) = (0u64, 0u64, 0u64, 0u64);
    let mut failures: Vec<String> = Vec::new();
    // Sessions created so far (full handshakes, the stalled readers' included), and the
    // count when each resuming client got its current one.
    let (mut created, mut evicted) = (0u64, 0u64);
    let mut created_at = vec![0u64; RESUMING];
    let mut faults: BTreeMap<&str, u64> = BTreeMap::new();
    let mut worst = Duration::ZERO;
    let mut rss_peak = rss_before;
    while started.elapsed() < duration {
        let idle: Vec<TcpStream> = (0..IDLE)
            .filter_map(|_| TcpStream::connect(address).ok())
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let dribbler = {
            let (stop, hello) = (stop.clone(), client_hello(&config));
            thread::spawn(move || {
                let mut sockets: Vec<TcpStream> = (0..DRIBBLING)
                    .filter_map(|_| TcpStream::connect(address).ok())
                    .collect();
                for byte in hello.iter().cycle() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    for socket in &mut sockets {
                        let _ = socket.write(std::slice::from_ref(byte));
                    }
                    thread::sleep(Duration::from_secs(1));
                }
            })
        };
        let attacker = {
            let config = config.clone();
            thread::spawn(move || {
                FAULTS
                    .iter()
                    .map(|(name, fault)| (*name, fault(address, &config)))
                    .collect::<Vec<_>>()
            })
        };
        // Batches of honest clients for as long as the faults take.
        let round_started = Instant::now();
        let mut batches = 0;
        while batches == 0 || !attacker.is_finished() {
            let outcomes = rt.block_on(async {
                let tasks: Vec<_> = (0..HONEST)
                    .map(|i| {
                        let connector = match resuming.get(i) {
                            Some(c) => c.clone(),
                            None => TlsConnector::new(config.clone()),
                        };
                        tokio::spawn(async move {
                            let began = Instant::now();
                            let outcome = exchange(&connector, address, b"soak").await;
                            (outcome, began.elapsed())
                        })
                    })
                    .collect();
                let mut outcomes = Vec::new();
                for task in tasks {
                    outcomes.push(task.await.unwrap());
                }
                outcomes
            });
            let before = created;
            for (i, (outcome, took)) in outcomes.into_iter().enumerate() {
                exchanges += 1;
                worst = worst.max(took);
                match outcome {
                    Ok(summary) if summary.resumed => resumed += 1,
                    Ok(_) => {
                        created += 1;
                        if i < RESUMING {
                            // After its first go every client with a store has a session
                            // to offer: a miss is an eviction only if enough newer
                            // sessions came (a batch's worth of slack: they run at once).
                            if rounds > 0 || batches > 0 {
                                match before - created_at[i] + HONEST as u64 >= CACHE {
                                    true => evicted += 1,
                                    false => misses += 1,
                                }
                            }
                            created_at[i] = before;
                        }
                    }
                    Err(e) => failures.push(format!("round {rounds}, client {i}: {e}")),
                }
            }
            batches += 1;
        }
        let honest_took = round_started.elapsed();
        // The stalled reader's handshake completes, and its session is cached.
        created += 1;
        for (name, outcome) in attacker.join().unwrap() {
            *faults.entry(name).or_default() += 1;
            if let Err(e) = outcome {
                failures.push(format!("round {rounds}, {name}: {e}"));
            }
        }
        stop.store(true, Ordering::SeqCst);
        dribbler.join().unwrap();
        drop(idle);
        rss_peak = rss_peak.max(rss_kib(pid));
        rounds += 1;
        println!(
            "round {rounds}: {} honest exchanges in {honest_took:.2?} beside {IDLE} idle, \
             {DRIBBLING} dribbling and {} faults; {:.0} s elapsed",
            batches * HONEST,
            FAULTS.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let stats = wait_for_stats(&server, Duration::from_secs(10), "nothing open", |s| {
        s["open"] == 0
    });
    let fds_after = wait_for_fds(pid, fds_before, Duration::from_secs(5));
    let rss_after = rss_kib(pid);
    println!(
        "soak of {:.1} min: {rounds} rounds, {exchanges} honest exchanges ({resumed} resumed, \
         {evicted} sessions evicted before their turn, {misses} resumptions missed, {} \
         failed, worst {worst:.1?}); faults {faults:?}",
        started.elapsed().as_secs_f64() / 60.0,
        failures.len()
    );
    println!(
        "server: {stats:?}; fds {fds_before} before, {fds_after} after; RSS {rss_before} KiB \
         before, {rss_peak} KiB at most, {rss_after} KiB after"
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(misses, 0, "resumptions that should have hit");
    assert!(
        fds_after <= fds_before,
        "{fds_after} fds after, {fds_before} before"
    );
    assert!(
        rss_after < rss_before + 64 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
}
