//! Faulty and hostile peers, each a function that attacks a server at an address and
//! says what it saw: `Err` when the server did not deal with it as it should (it did not
//! close, or sent no alert where one is due).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tls12::crypto::ring::RingProvider;
use tls12::handshake::client::ClientConfig;
use tls12::msgs::enums::AlertDescription;
use tls12::stream::system_time;
use tls12::ClientConnection;

use super::load::client_hello;

/// The `--handshake-timeout` and `--idle-timeout` of a server these attacks are run
/// against: short, so that the faults that wait for them end soon.
pub const HANDSHAKE_TIMEOUT: &str = "2s";
pub const IDLE_TIMEOUT: &str = "1s";

/// How long any one fault may take to be dealt with.
pub const LIMIT: Duration = Duration::from_secs(10);

pub type Config = Arc<ClientConfig<RingProvider>>;

pub fn connect(address: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(address).unwrap();
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    tcp.set_write_timeout(Some(LIMIT)).unwrap();
    tcp
}

/// Reads until the server closes; `Err` if it does not within [`LIMIT`].
pub fn read_until_closed(tcp: &mut TcpStream) -> Result<Vec<u8>, String> {
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
pub fn up_to_the_clients_flight(
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
pub fn plaintext_alert(bytes: &[u8]) -> Option<AlertDescription> {
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

pub fn reset_mid_handshake(address: SocketAddr, config: &Config) -> Result<String, String> {
    let tcp = connect(address);
    (&tcp).write_all(&client_hello(config)).unwrap();
    // Wait for the server's flight, then close with it unread: the kernel sends a reset.
    let mut byte = [0u8; 1];
    tcp.peek(&mut byte).map_err(|e| format!("no flight: {e}"))?;
    drop(tcp);
    Ok("reset sent".into())
}

pub fn close_after_client_hello(address: SocketAddr, config: &Config) -> Result<String, String> {
    let mut tcp = connect(address);
    tcp.write_all(&client_hello(config)).unwrap();
    tcp.shutdown(Shutdown::Write).unwrap();
    let got = read_until_closed(&mut tcp)?;
    Ok(format!("{} bytes, then the server closed", got.len()))
}

/// A record header that promises 256 bytes, and 10 of them.
const TRUNCATED: [u8; 15] = [22, 3, 1, 1, 0, 1, 0, 0, 252, 3, 3, 0, 0, 0, 0];

pub fn truncated_record_then_close(address: SocketAddr, _: &Config) -> Result<String, String> {
    let mut tcp = connect(address);
    tcp.write_all(&TRUNCATED).unwrap();
    tcp.shutdown(Shutdown::Write).unwrap();
    let got = read_until_closed(&mut tcp)?;
    Ok(format!("{} bytes, then the server closed", got.len()))
}

pub fn truncated_record_then_silence(address: SocketAddr, _: &Config) -> Result<String, String> {
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

pub fn garbage(address: SocketAddr, _: &Config) -> Result<String, String> {
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

pub fn stop_reading_while_the_server_writes(
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

pub fn finished_then_garbage(address: SocketAddr, config: &Config) -> Result<String, String> {
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

/// An attack: what it saw, or why the server failed it.
pub type Fault = fn(SocketAddr, &Config) -> Result<String, String>;

/// Every attack, by name.
pub const FAULTS: [(&str, Fault); 7] = [
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

/// Of [`FAULTS`], how many end in a failed handshake and how many in a timed-out one; the
/// rest (the stalled reader) complete theirs.
pub const FAILED_HANDSHAKES: u64 = 5;
pub const TIMED_OUT_HANDSHAKES: u64 = 1;
