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

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::load::{
    client_config, client_hello, exchange, fd_count, runtime, wait_for_fds, wait_for_stats,
};
use support::OurServer;
use tls12::crypto::ring::RingProvider;
use tls12::handshake::client::ClientConfig;
use tls12::msgs::enums::AlertDescription;
use tls12::stream::system_time;
use tls12::ClientConnection;
use tls12_tokio::TlsConnector;

/// The server's `--handshake-timeout` and `--idle-timeout` here: short, so that the
/// faults that wait for them end soon.
const HANDSHAKE_TIMEOUT: &str = "2s";
const IDLE_TIMEOUT: &str = "1s";

/// How long any one fault may take to be dealt with.
const LIMIT: Duration = Duration::from_secs(10);

type Config = Arc<ClientConfig<RingProvider>>;

fn connect(address: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(address).unwrap();
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    tcp.set_write_timeout(Some(LIMIT)).unwrap();
    tcp
}

/// Reads until the server closes; `Err` if it does not within [`LIMIT`].
fn read_until_closed(tcp: &mut TcpStream) -> Result<Vec<u8>, String> {
    let started = Instant::now();
    let mut got = Vec::new();
    match tcp.read_to_end(&mut got) {
        Ok(_) => Ok(got),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(got),
        Err(e) => Err(format!(
            "the server did not close within {:?}: {e}",
            started.elapsed()
        )),
    }
}

/// Runs the client's side of a handshake by hand up to its second flight (queued in
/// `conn`, not yet written).
fn up_to_the_clients_flight(
    tcp: &mut TcpStream,
    config: &Config,
) -> ClientConnection<RingProvider> {
    let mut conn = ClientConnection::new(
        Arc::clone(config),
        RingProvider::new(),
        Some("localhost".into()),
        None,
        system_time(),
    )
    .unwrap();
    tcp.write_all(&conn.take_output()).unwrap();
    let mut buf = vec![0u8; 32 * 1024];
    while !conn.has_output() {
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0, "the server closed before its flight");
        conn.receive(&buf[..n], system_time()).unwrap();
    }
    conn
}

/// The fatal alert in `bytes` (the server's answer, plaintext records), if any.
fn plaintext_alert(bytes: &[u8]) -> Option<AlertDescription> {
    let mut rest = bytes;
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let record = rest.get(5..5 + len)?;
        if rest[0] == 21 && record.len() == 2 && record[0] == 2 {
            return Some(AlertDescription::from(record[1]));
        }
        rest = &rest[5 + len..];
    }
    None
}

fn reset_mid_handshake(address: SocketAddr, config: &Config) -> Result<String, String> {
    let tcp = connect(address);
    (&tcp).write_all(&client_hello(config)).unwrap();
    // Wait for the server's flight, then close with it unread: the kernel sends a reset.
    let mut byte = [0u8; 1];
    tcp.peek(&mut byte).map_err(|e| format!("no flight: {e}"))?;
    drop(tcp);
    Ok("reset sent".into())
}

fn close_after_client_hello(address: SocketAddr, config: &Config) -> Result<String, String> {
    let mut tcp = connect(address);
    tcp.write_all(&client_hello(config)).unwrap();
    tcp.shutdown(Shutdown::Write).unwrap();
    let got = read_until_closed(&mut tcp)?;
    Ok(format!("{} bytes, then the server closed", got.len()))
}

/// A record header that promises 256 bytes, and 10 of them.
const TRUNCATED: [u8; 15] = [22, 3, 1, 1, 0, 1, 0, 0, 252, 3, 3, 0, 0, 0, 0];

fn truncated_record_then_close(address: SocketAddr, _: &Config) -> Result<String, String> {
    let mut tcp = connect(address);
    tcp.write_all(&TRUNCATED).unwrap();
    tcp.shutdown(Shutdown::Write).unwrap();
    let got = read_until_closed(&mut tcp)?;
    Ok(format!("{} bytes, then the server closed", got.len()))
}

fn truncated_record_then_silence(address: SocketAddr, _: &Config) -> Result<String, String> {
    let mut tcp = connect(address);
    tcp.write_all(&TRUNCATED).unwrap();
    let started = Instant::now();
    read_until_closed(&mut tcp)?;
    let took = started.elapsed();
    match took >= Duration::from_millis(1500) {
        true => Ok(format!("closed by the handshake deadline after {took:.1?}")),
        false => Err(format!("closed after {took:?}, before the deadline")),
    }
}

fn garbage(address: SocketAddr, _: &Config) -> Result<String, String> {
    let mut noise: Vec<u8> = (0..16 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    noise[..5].copy_from_slice(&[0x16, 0x03, 0x03, 0x00, 0x40]);
    let mut tcp = connect(address);
    tcp.write_all(&noise).unwrap();
    let got = read_until_closed(&mut tcp)?;
    match plaintext_alert(&got) {
        Some(alert) => Ok(format!("alert {alert:?}")),
        None => Err(format!("no alert in {got:?}")),
    }
}

fn stop_reading_while_the_server_writes(
    address: SocketAddr,
    config: &Config,
) -> Result<String, String> {
    let mut tcp = connect(address);
    let mut conn = up_to_the_clients_flight(&mut tcp, config);
    tcp.write_all(&conn.take_output()).unwrap();
    let mut buf = vec![0u8; 32 * 1024];
    while conn.is_handshaking() {
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0, "closed during the handshake");
        conn.receive(&buf[..n], system_time()).unwrap();
    }
    // Echo requests, and never a read: the server's writes fill our buffers and stall.
    tcp.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let chunk = vec![0x42u8; 64 * 1024];
    let started = Instant::now();
    let mut pending = Vec::new();
    while started.elapsed() < LIMIT {
        if pending.is_empty() {
            conn.send(&chunk).unwrap();
            pending = conn.take_output();
        }
        match tcp.write(&pending) {
            Ok(n) => {
                pending.drain(..n);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // The server gave up on us and closed: what this fault is waiting for.
            Err(e) => return Ok(format!("dropped after {:.1?} ({e})", started.elapsed())),
        }
    }
    Err(format!("still connected after {LIMIT:?}"))
}

fn finished_then_garbage(address: SocketAddr, config: &Config) -> Result<String, String> {
    let mut tcp = connect(address);
    let mut conn = up_to_the_clients_flight(&mut tcp, config);
    let mut flight = conn.take_output();
    // An application data record that no key opens, in the same write as Finished.
    flight.extend_from_slice(&[23, 3, 3, 0, 40]);
    flight.extend_from_slice(&[0x5a; 40]);
    tcp.write_all(&flight).unwrap();
    let got = read_until_closed(&mut tcp)?;
    // The server's Finished and its alert are encrypted: the client's connection reads
    // them.
    match conn.receive(&got, system_time()) {
        Err(tls12::Error::PeerAlert(alert)) => Ok(format!("alert {alert:?} after Finished")),
        other => Err(format!("expected the server's alert, got {other:?}")),
    }
}

type Fault = fn(SocketAddr, &Config) -> Result<String, String>;

#[test]
fn faults_leave_no_task_socket_or_session_behind() {
    let table: [(&str, Fault); 7] = [
        ("reset mid-handshake", reset_mid_handshake),
        ("close after ClientHello", close_after_client_hello),
        ("truncated record, then close", truncated_record_then_close),
        (
            "truncated record, then silence",
            truncated_record_then_silence,
        ),
        ("16 KiB of garbage", garbage),
        (
            "stop reading while the server writes",
            stop_reading_while_the_server_writes,
        ),
        (
            "Finished, then garbage in the same write",
            finished_then_garbage,
        ),
    ];
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
    // The five that fail their handshake, and the one that sends too little.
    assert_eq!((stats["failed"], stats["timed_out"]), (5, 1), "{stats:?}");
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
/// certificate writes its flight and keeps writing (1 KiB every 5 ms for 300 ms, as a
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
    let mut record = vec![23u8, 3, 3, 4, 0];
    record.resize(5 + 1024, 0xaa);
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
