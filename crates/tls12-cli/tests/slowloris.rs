//! Slowloris against `tls12 server` with its default flags: 1,000 sockets that send
//! nothing and 100 that send a ClientHello one byte a second. While they are open an
//! honest client must still complete a handshake and an echo in under a second; the
//! handshake deadline (10 s by default) must close them all; the server's memory and file
//! descriptors must come back down. The figures are printed (`--nocapture`) for the README.

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::load::{
    client_config, client_hello, exchange, fd_count, raise_fd_limit, rss_kib, runtime, wait_for_fds,
};
use support::OurServer;
use tls12_tokio::TlsConnector;

const IDLE: usize = 1000;
const DRIBBLING: usize = 100;
/// `tls12 server`'s default `--handshake-timeout`.
const DEADLINE: Duration = Duration::from_secs(10);
/// The most an honest exchange may take while the attack is on.
const SERVICE: Duration = Duration::from_secs(1);

/// Whether the server has closed `socket`: its read says end of stream or reset, rather
/// than "nothing yet".
fn closed_by_peer(socket: &TcpStream) -> bool {
    socket.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 64];
    loop {
        match (&*socket).read(&mut byte) {
            Ok(0) => return true,
            // Bytes the server sent before closing (nothing, for these sockets): go on.
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// How long the throughput load runs.
const WINDOW: Duration = Duration::from_secs(2);

/// Two clients at once, each exchanging (full handshake + echo) again and again for
/// [`WINDOW`]: every exchange's time, per client, and exchanges per second.
fn throughput(
    rt: &tokio::runtime::Runtime,
    connector: &TlsConnector,
    address: std::net::SocketAddr,
) -> (Vec<Vec<Duration>>, f64) {
    let started = Instant::now();
    let per_loop = rt.block_on(async {
        let loops: Vec<_> = (0..2)
            .map(|l| {
                let connector = connector.clone();
                tokio::spawn(async move {
                    let mut times = Vec::new();
                    while started.elapsed() < WINDOW {
                        let began = Instant::now();
                        exchange(&connector, address, b"load")
                            .await
                            .unwrap_or_else(|e| panic!("load loop {l}: {e}"));
                        times.push(began.elapsed());
                    }
                    times
                })
            })
            .collect();
        let mut all = Vec::new();
        for l in loops {
            all.push(l.await.unwrap());
        }
        all
    });
    let count: usize = per_loop.iter().map(Vec::len).sum();
    (per_loop, count as f64 / started.elapsed().as_secs_f64())
}

#[test]
fn slowloris_idle_sockets_do_not_block_service() {
    // This process holds the attack's sockets and the honest clients'.
    raise_fd_limit(IDLE as u64 + DRIBBLING as u64 + 512);
    // The default flags: nothing but a free port.
    let server = OurServer::start_exactly(&[], &[]);
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
    // The same load without an attack, to compare with.
    let (_, calm_rate) = throughput(&rt, &TlsConnector::new(config.clone()), address);
    let rss_before = rss_kib(pid);

    // The attack.
    let attack = Instant::now();
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(address).unwrap())
        .collect();
    let dribbling: Arc<Vec<TcpStream>> = Arc::new(
        (0..DRIBBLING)
            .map(|_| TcpStream::connect(address).unwrap())
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let dribbler = {
        let (dribbling, stop, hello) = (dribbling.clone(), stop.clone(), client_hello(&config));
        thread::spawn(move || {
            for byte in hello.iter().take(30) {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                for socket in dribbling.iter() {
                    // A socket the server closed fails here: that is the point.
                    let _ = (&*socket).write(std::slice::from_ref(byte));
                }
                thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let held_target = fds_before + IDLE + DRIBBLING;
    let deadline = Instant::now() + Duration::from_secs(10);
    while fd_count(pid) < held_target && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let held = fd_count(pid) - fds_before;
    assert!(
        held >= IDLE + DRIBBLING,
        "the server accepted only {held} of {} sockets",
        IDLE + DRIBBLING
    );
    let accepted_in = attack.elapsed();

    // Service while the attack is on: one client at a time, then two at once for 2 s.
    let mut latencies = Vec::new();
    let connector = TlsConnector::new(config.clone());
    for i in 0..5 {
        let started = Instant::now();
        rt.block_on(exchange(
            &connector,
            address,
            format!("honest {i}").as_bytes(),
        ))
        .unwrap_or_else(|e| panic!("honest client {i} during the attack: {e}"));
        latencies.push(started.elapsed());
    }
    let (per_loop, rate) = throughput(&rt, &connector, address);
    let handshakes: usize = per_loop.iter().map(Vec::len).sum();
    latencies.extend(per_loop.into_iter().flatten());
    let worst = latencies.iter().max().copied().unwrap();
    let rss_during = rss_kib(pid);

    // They were served while the attack was on: every attacking socket is still open.
    let early: usize = idle.iter().filter(|s| closed_by_peer(s)).count()
        + dribbling.iter().filter(|s| closed_by_peer(s)).count();
    let checked_at = attack.elapsed();
    assert!(
        checked_at < DEADLINE,
        "the honest phase overran the deadline ({checked_at:?}): the test proves nothing"
    );
    assert_eq!(
        early, 0,
        "sockets closed before the deadline ({checked_at:?})"
    );

    // The deadline closes them all, on time.
    let grace = Duration::from_secs(3);
    let mut open = IDLE + DRIBBLING;
    thread::sleep((DEADLINE + accepted_in).saturating_sub(attack.elapsed()));
    while open > 0 && attack.elapsed() < DEADLINE + accepted_in + grace {
        open = idle.iter().filter(|s| !closed_by_peer(s)).count()
            + dribbling.iter().filter(|s| !closed_by_peer(s)).count();
        thread::sleep(Duration::from_millis(100));
    }
    let closed_at = attack.elapsed();
    stop.store(true, Ordering::SeqCst);
    dribbler.join().unwrap();
    assert_eq!(
        open, 0,
        "{open} attacking sockets still open {closed_at:?} after the attack began"
    );
    drop(idle);
    let fds_after = wait_for_fds(pid, fds_before, Duration::from_secs(3));
    let rss_after = rss_kib(pid);

    println!(
        "slowloris against `tls12 server` (default flags): {held} sockets held ({IDLE} idle, \
         {DRIBBLING} dribbling 1 byte/s), all accepted in {accepted_in:.2?}"
    );
    println!(
        "  during the attack: {} honest exchanges (full handshake + echo), worst {worst:.1?}; \
         {handshakes} in {WINDOW:?} from 2 clients at once = {rate:.0} handshakes/s \
         (without the attack: {calm_rate:.0}/s)",
        latencies.len()
    );
    println!(
        "  every attacking socket closed by {closed_at:.1?} (deadline {DEADLINE:?} after \
         accept); server fds {fds_before} before, {} during, {fds_after} after",
        fds_before + held
    );
    println!(
        "  server RSS: {rss_before} KiB before, {rss_during} KiB during ({:.1} KiB per \
         socket), {rss_after} KiB after",
        (rss_during.saturating_sub(rss_before)) as f64 / (IDLE + DRIBBLING) as f64
    );
    assert!(worst < SERVICE, "an honest exchange took {worst:?}");
    assert!(
        fds_after <= fds_before,
        "the server holds {fds_after} descriptors after the attack, {fds_before} before"
    );
    // Bounded: a held socket costs a few KiB, not a worker; 32 KiB each at most.
    let grown = rss_during.saturating_sub(rss_before);
    assert!(
        grown < 32 * (IDLE + DRIBBLING) as u64,
        "RSS grew by {grown} KiB for {} sockets",
        IDLE + DRIBBLING
    );
    assert!(
        rss_after <= rss_during + 1024,
        "RSS went on growing after the attack: {rss_during} -> {rss_after} KiB"
    );
}
