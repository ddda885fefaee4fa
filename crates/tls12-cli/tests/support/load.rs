//! What the reliability tests share: the server process seen from /proc (its open file
//! descriptors, its resident memory), its `stats:` lines, the open-file limit of the
//! test process, and honest clients on tls12-tokio.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tls12::crypto::ring::{RingProvider, RingRoots};
use tls12::handshake::client::ClientConfig;
use tls12::handshake::HandshakeSummary;
use tls12::msgs::CertificateDer;
use tls12::stream::system_time;
use tls12::ClientConnection;
use tls12_tokio::TlsConnector;

use super::OurServer;

/// How long one honest exchange may take before it counts as a failure.
pub const EXCHANGE_LIMIT: Duration = Duration::from_secs(10);

/// The open file descriptors of process `pid` (sockets included).
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap_or_else(|e| panic!("cannot list /proc/{pid}/fd: {e}"))
        .count()
}

/// The resident memory of process `pid`, KiB (VmRSS).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// Raises this process's soft open-file limit to `needed`, or fails the test saying why:
/// a test that cannot open its sockets must not pass on fewer.
pub fn raise_fd_limit(needed: u64) {
    let got = rlimit::increase_nofile_limit(needed).unwrap();
    assert!(
        got >= needed,
        "this test needs {needed} open files and the hard limit allows {got}: raise it \
         (`ulimit -Hn {needed}` as root) to run it"
    );
}

/// A client configuration trusting the CA in the PEM file `ca`.
pub fn client_config(ca: &str) -> Arc<ClientConfig<RingProvider>> {
    let certs: Vec<CertificateDer> = rustls_pki_types::CertificateDer::pem_file_iter(Path::new(ca))
        .unwrap()
        .map(|c| CertificateDer(c.unwrap().to_vec()))
        .collect();
    Arc::new(ClientConfig::new(
        RingRoots::from_der_certs(&certs).unwrap(),
    ))
}

/// The first flight of a real client: a ClientHello to start (and abandon) a handshake.
pub fn client_hello(config: &Arc<ClientConfig<RingProvider>>) -> Vec<u8> {
    ClientConnection::new(
        Arc::clone(config),
        RingProvider::new(),
        Some("localhost".into()),
        None,
        system_time(),
    )
    .unwrap()
    .take_output()
}

/// A runtime for the test's clients: two workers, like the machine.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One honest exchange with an echo server: connect, handshake, `message` sent and read
/// back, close_notify both ways; within [`EXCHANGE_LIMIT`]. `Err` says what went wrong.
pub async fn exchange(
    connector: &TlsConnector,
    address: SocketAddr,
    message: &[u8],
) -> Result<HandshakeSummary, String> {
    let run = async {
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut tls = connector
            .connect("localhost", tcp)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let summary = tls.summary().cloned().ok_or("no summary")?;
        tls.write_all(message)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut echoed = vec![0u8; message.len()];
        tls.read_exact(&mut echoed)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if echoed != message {
            return Err(format!("echoed {echoed:?}, sent {message:?}"));
        }
        tls.shutdown().await.map_err(|e| format!("close: {e}"))?;
        let mut rest = Vec::new();
        tls.read_to_end(&mut rest)
            .await
            .map_err(|e| format!("reading the close: {e}"))?;
        Ok(summary)
    };
    tokio::time::timeout(EXCHANGE_LIMIT, run)
        .await
        .unwrap_or_else(|_| Err(format!("no exchange within {EXCHANGE_LIMIT:?}")))
}

/// The fields of the last complete `stats:` line in `text`.
pub fn last_stats(text: &str) -> Option<BTreeMap<String, u64>> {
    let line = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| l.trim_end().strip_prefix("stats: "))
        .next_back()?;
    line.split(' ')
        .map(|field| {
            let (key, value) = field.split_once('=')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// Waits (at most `limit`) for a `stats:` line of `server` for which `done` holds, and
/// returns it; panics with the transcript if none comes.
pub fn wait_for_stats(
    server: &OurServer,
    limit: Duration,
    what: &str,
    done: impl Fn(&BTreeMap<String, u64>) -> bool,
) -> BTreeMap<String, u64> {
    let found = server
        .proc
        .stdout
        .wait_until(limit, |text| last_stats(text).is_some_and(|s| done(&s)));
    let last = last_stats(&server.proc.stdout.text());
    match (found, last) {
        (true, Some(stats)) => stats,
        (_, last) => panic!(
            "no stats line with {what} within {limit:?}; the last: {last:?}\n{}",
            server.proc.transcript()
        ),
    }
}

/// Waits (at most `limit`) until process `pid` has at most `fds` file descriptors open;
/// returns how many it has then.
pub fn wait_for_fds(pid: u32, fds: usize, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let now = fd_count(pid);
        if now <= fds || Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
