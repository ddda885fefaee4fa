//! Faulty and hostile peers against `tls12 server`, each followed by an honest client:
//! a reset mid-handshake, a close right after ClientHello, a truncated record (then a
//! close, or then silence), 16 KiB of garbage, a client that stops reading while the
//! server writes, a Finished followed by garbage in the same write. Nothing may panic,
//! every connection's task and socket must go (counted by the server's `stats:` line and
//! in /proc), the next client must be served, and no session of a failed handshake may
//! stay in the cache. And "the alert never arrives": a client that keeps writing after
//! the server's fatal alert must still read it.

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::attacks::{
    connect, read_until_closed, up_to_the_clients_flight, FAILED_HANDSHAKES, FAULTS,
    HANDSHAKE_TIMEOUT, IDLE_TIMEOUT, LIMIT, TIMED_OUT_HANDSHAKES,
};
use support::load::{client_config, exchange, fd_count, runtime, wait_for_fds, wait_for_stats};
use support::OurServer;
use tls12::msgs::enums::AlertDescription;
use tls12::stream::system_time;
use tls12_tokio::TlsConnector;

#[test]
fn faults_leave_no_task_socket_or_session_behind() {
    let table = FAULTS;
    let server = OurServer::start_exactly(
        &[
            "--handshake-timeout",
            HANDSHAKE_TIMEOUT,
            "--idle-timeout",
            IDLE_TIMEOUT,
            "--stats",
            "100ms",
        ],
        &[],
    );
    let pid = server.pid();
    let config = client_config(&server.printed_path("CA certificate"));
    let address = server.listening;
    let rt = runtime();
    let fds_before = fd_count(pid);
    let honest = |after: &str| {
        // A fresh connector: a full handshake, whose session the cache keeps.
        let connector = TlsConnector::new(config.clone());
        let started = Instant::now();
        rt.block_on(exchange(&connector, address, b"still there?"))
            .unwrap_or_else(|e| panic!("the client after {after:?} was not served: {e}"));
        started.elapsed()
    };
    honest("nothing");
    let mut lines = Vec::new();
    for (name, fault) in table {
        let outcome = fault(address, &config).unwrap_or_else(|e| {
            panic!("{name}: {e}\n{}", server.proc.transcript());
        });
        let served_in = honest(name);
        lines.push(format!(
            "{name}: {outcome}; the next client served in {served_in:.1?}"
        ));
    }
    // Every task gone; every session one of an honest client's, or the stalled reader's
    // (its handshake completed: only a fatal alert invalidates a session, RFC 5246 §7.2).
    let sessions = table.len() as u64 + 1 + 1;
    let stats = wait_for_stats(&server, LIMIT, "no connection open", |s| {
        s["open"] == 0 && s["handshaking"] == 0
    });
    assert_eq!(stats["cached"], sessions, "{stats:?}");
    assert_eq!(stats["handshakes"], sessions, "{stats:?}");
    assert_eq!(
        (stats["failed"], stats["timed_out"]),
        (FAILED_HANDSHAKES, TIMED_OUT_HANDSHAKES),
        "{stats:?}"
    );
    let fds_after = wait_for_fds(pid, fds_before, Duration::from_secs(3));
    assert!(
        fds_after <= fds_before,
        "{fds_after} fds after, {fds_before} before"
    );
    let stderr = server.proc.stderr.text();
    assert!(!stderr.contains("panicked"), "{stderr}");
    for line in &lines {
        println!("{line}");
    }
    println!("server stats: {stats:?}");
}

/// "The alert never arrives": with client authentication required, a client without a
/// certificate writes its flight and keeps writing (512 bytes every 5 ms for 300 ms, as a
/// client sends a request body). The server must write its alert, shut its side and drain
/// the client's bytes before closing; closing with them unread makes the kernel reset the
/// connection, and the client meets the reset instead of the alert.
#[test]
fn a_client_that_keeps_writing_after_the_alert_still_reads_it() {
    let mut server = OurServer::start(&["--client-auth", "required", "--exit-after", "1"]);
    let config = client_config(&server.printed_path("CA certificate"));
    let mut tcp = connect(server.listening);
    let mut conn = up_to_the_clients_flight(&mut tcp, &config);
    tcp.write_all(&conn.take_output()).unwrap();
    // 512 bytes a record: 300 ms of them stay well under the 64 KiB the server drains.
    let mut record = vec![23u8, 3, 3, 2, 0];
    record.resize(5 + 512, 0xaa);
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(300) {
        if let Err(e) = tcp.write_all(&record) {
            panic!(
                "write failed {:?} after the flight: {e}\n{}",
                started.elapsed(),
                server.proc.transcript()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let answer = read_until_closed(&mut tcp).unwrap();
    assert_eq!(
        conn.receive(&answer, system_time()),
        Err(tls12::Error::PeerAlert(AlertDescription::HandshakeFailure))
    );
    let outcomes = server.finish();
    assert!(
        outcomes[0].contains("client certificate required"),
        "{outcomes:?}"
    );
}

/// `--max-conns`: with that many sockets open, one more is closed at once (and counted as
/// refused), long before any deadline; once the open ones go, clients are served again.
#[test]
fn max_conns_closes_the_sockets_beyond_the_cap_at_once() {
    let server = OurServer::start_exactly(
        &[
            "--max-conns",
            "5",
            "--handshake-timeout",
            "2s",
            "--stats",
            "100ms",
        ],
        &[],
    );
    let config = client_config(&server.printed_path("CA certificate"));
    let address = server.listening;
    let idle: Vec<TcpStream> = (0..5).map(|_| connect(address)).collect();
    wait_for_stats(&server, LIMIT, "five open", |s| s["open"] == 5);
    let mut beyond = connect(address);
    let started = Instant::now();
    let got = read_until_closed(&mut beyond).unwrap();
    let took = started.elapsed();
    assert!(got.is_empty(), "{got:?}");
    assert!(took < Duration::from_millis(500), "closed after {took:?}");
    let stats = wait_for_stats(&server, LIMIT, "one refused", |s| s["refused"] == 1);
    assert_eq!(stats["open"], 5, "{stats:?}");
    // The deadline frees the places; then a client is served.
    wait_for_stats(&server, LIMIT, "nothing open", |s| s["open"] == 0);
    drop(idle);
    let rt = runtime();
    rt.block_on(exchange(&TlsConnector::new(config), address, b"served"))
        .unwrap();
}
