//! Many clients at once against `tls12 server`: 500 concurrent clients, half of them
//! resuming a session from an earlier connection, each with a request and its response.
//! No client may fail, every resumption that should hit must hit (same session ID), and
//! the server must end with no connection open and the sessions it should hold.

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::load::{
    client_config, exchange, fd_count, raise_fd_limit, runtime, wait_for_fds, wait_for_stats,
};
use support::OurServer;
use tls12::handshake::HandshakeSummary;
use tls12::session::ClientSessionStore;
use tls12_tokio::TlsConnector;

const CLIENTS: usize = 500;
const RESUMING: usize = CLIENTS / 2;

/// Runs one exchange per connector, all at once; their outcomes in order.
fn all_at_once(
    rt: &tokio::runtime::Runtime,
    connectors: &[TlsConnector],
    address: SocketAddr,
) -> Vec<Result<HandshakeSummary, String>> {
    rt.block_on(async {
        let tasks: Vec<_> = connectors
            .iter()
            .enumerate()
            .map(|(i, connector)| {
                let connector = connector.clone();
                tokio::spawn(async move {
                    exchange(&connector, address, format!("request {i}").as_bytes()).await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        outcomes
    })
}

#[test]
fn concurrency_500_clients_half_resuming_all_served() {
    raise_fd_limit(CLIENTS as u64 * 2 + 512);
    let server = OurServer::start_exactly(&["--cache-size", "1000", "--stats", "100ms"], &[]);
    let pid = server.pid();
    let config = client_config(&server.printed_path("CA certificate"));
    let address = server.listening;
    let fds_before = fd_count(pid);
    let rt = runtime();
    // A session store per client: each resumes its own session.
    let connectors: Vec<TlsConnector> = (0..CLIENTS)
        .map(|_| {
            TlsConnector::new(config.clone())
                .with_session_store(Arc::new(Mutex::new(ClientSessionStore::new())))
        })
        .collect();

    // The sessions to resume: half the clients connect once first.
    let first = all_at_once(&rt, &connectors[..RESUMING], address);
    let ids: Vec<_> = first
        .iter()
        .enumerate()
        .map(|(i, outcome)| {
            let summary = outcome
                .as_ref()
                .unwrap_or_else(|e| panic!("first round, client {i}: {e}"));
            assert!(!summary.resumed, "client {i} had nothing to resume");
            summary.session_id
        })
        .collect();

    // All 500 at once: the first half offers its sessions, the second half is new.
    let started = Instant::now();
    let second = all_at_once(&rt, &connectors, address);
    let took = started.elapsed();
    let failures: Vec<String> = second
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.as_ref().err().map(|e| format!("client {i}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {CLIENTS} failed: {failures:#?}",
        failures.len()
    );
    let mut resumed = 0;
    for (i, outcome) in second.iter().enumerate() {
        let summary = outcome.as_ref().unwrap();
        match i < RESUMING {
            true => {
                assert!(summary.resumed, "client {i} should have resumed");
                assert_eq!(summary.session_id, ids[i], "client {i}: another session");
                resumed += 1;
            }
            false => assert!(!summary.resumed, "client {i} had nothing to resume"),
        }
    }
    assert_eq!(resumed, RESUMING);

    // The server saw the same, and let every connection go.
    let stats = wait_for_stats(&server, Duration::from_secs(10), "nothing open", |s| {
        s["open"] == 0 && s["handshakes"] == (CLIENTS + RESUMING) as u64
    });
    assert_eq!(stats["resumed"], RESUMING as u64, "{stats:?}");
    assert_eq!(stats["failed"] + stats["timed_out"], 0, "{stats:?}");
    assert_eq!(stats["cached"], CLIENTS as u64, "{stats:?}");
    let fds_after = wait_for_fds(pid, fds_before, Duration::from_secs(3));
    assert!(
        fds_after <= fds_before,
        "{fds_after} fds after, {fds_before} before"
    );
    println!(
        "{CLIENTS} clients at once ({RESUMING} resuming): all served in {took:.2?} \
         ({:.0} exchanges/s); server stats {stats:?}",
        CLIENTS as f64 / took.as_secs_f64()
    );
}
