//! `tls12 server`: a TLS 1.2 server on one tokio runtime (`tls12-tokio`), a task per
//! connection and no fixed pool: an idle or slow socket costs its memory, not a worker.
//! Every handshake has a deadline and every read or write after it an idle timeout, so a
//! socket that sends nothing, or a byte a second, is dropped on time; beyond `--max-conns`
//! open sockets a new one is closed at once. Sessions live in a shared bounded cache. It
//! echoes application data back, or (`--www`) answers one HTTP request with a page
//! describing the connection. Each connection's outcome is printed only with `--verbose`
//! (or `--trace`): a line per connection costs more than a resumed handshake.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::handshake::server::ServerConfig;
use tls12::handshake::{ClientAuth, Event, HandshakeSummary};
use tls12::pki::{KeyKind, TestPki};
use tls12::session::InMemoryCache;
use tls12_tokio::{tls_error, Linger, ServerTlsStream, TlsAcceptor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;

use crate::common::{
    escape, fail, flights, load_certs, load_key, load_roots, log_key, outcome_line, print_block,
    session_id_hex, usage, write_private, CliError,
};

/// How long a cached session may be resumed: one day.
const SESSION_LIFETIME: u64 = 24 * 3600;

/// The longest HTTP request head `--www` reads.
const MAX_REQUEST: usize = 16 * 1024;

/// Whether and how the server asks for client certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClientAuthArg {
    /// Never ask.
    None,
    /// Ask; a client without a certificate is still served.
    Optional,
    /// Ask; a client without a certificate fails with handshake_failure.
    Required,
}

/// `tls12 server` options.
#[derive(Args, Debug)]
pub struct ServerArgs {
    /// TCP port on 127.0.0.1 (0 picks a free one; the first line printed names it): short
    /// for --bind 127.0.0.1:PORT.
    #[arg(long, default_value_t = 4433)]
    port: u16,
    /// Address to listen on, IPv4 or IPv6: 0.0.0.0:4433 (every IPv4 interface), [::]:4433
    /// (every interface), [::1]:0 (IPv6 loopback, a free port).
    #[arg(long, value_name = "ADDR:PORT", conflicts_with = "port")]
    bind: Option<SocketAddr>,
    /// Certificate chain, PEM, end entity first. Without --cert/--key a fresh test CA
    /// and an ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1 are generated.
    #[arg(long, value_name = "C.pem", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key of the certificate, PEM (PKCS#8 ECDSA P-256/P-384 or RSA, or PKCS#1 RSA).
    #[arg(long, value_name = "K.pem", requires = "cert")]
    key: Option<PathBuf>,
    /// Ask clients for a certificate.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ClientAuthArg::None)]
    client_auth: ClientAuthArg,
    /// CA certificates (PEM) that client certificates must chain to. Without it (and
    /// without --cert) the generated CA's client certificate, written next to it, is
    /// trusted.
    #[arg(long, value_name = "CA.pem")]
    client_ca: Option<PathBuf>,
    /// Choose suite and group by the server's order of preference, not the client's
    /// (OpenSSL's and rustls' default is the client's).
    #[arg(long)]
    prefer_server_order: bool,
    /// A pre-shared key, IDENTITY:HEXKEY (repeatable): the PSK and ECDHE_PSK suites are
    /// served beside the certificate suites (RFC 4279, RFC 5489).
    #[arg(long, value_name = "IDENTITY:HEXKEY", value_parser = psk_arg)]
    pub psk: Vec<(Vec<u8>, tls12::crypto::Secret)>,
    /// The PSK identity hint to send (RFC 4279 §2).
    #[arg(long, value_name = "TEXT", requires = "psk")]
    pub psk_hint: Option<String>,
    /// Serve without a certificate: PSK suites only (needs --psk).
    #[arg(long, requires = "psk", conflicts_with_all = ["cert", "key"])]
    pub psk_only: bool,
    /// Do not issue or accept session tickets (RFC 5077); resumption by session ID only.
    #[arg(long)]
    pub no_tickets: bool,
    /// How often the ticket key rotates (e.g. 12h); tickets sealed under the previous key
    /// still resume (and are renewed) for one more period.
    #[arg(long, value_name = "TIME", default_value = "12h", value_parser = parse_duration)]
    pub ticket_lifetime: Duration,
    /// Application protocols for ALPN, in our order of preference (e.g. h2,http/1.1).
    #[arg(long, value_name = "P1,P2", value_delimiter = ',')]
    pub alpn: Vec<String>,
    /// Sessions kept for resumption (oldest evicted first; 0 turns resumption off).
    #[arg(long, value_name = "N", default_value_t = 100)]
    cache_size: usize,
    /// Answer one HTTP request per connection with a page of the negotiated parameters
    /// (like `openssl s_server -www`) instead of echoing.
    #[arg(long)]
    www: bool,
    /// Print each connection's outcome (`[conn N] handshake: ...` or `[conn N] error:
    /// ...`).
    #[arg(long, short)]
    verbose: bool,
    /// Print every flight of every handshake as well as its outcome (implies --verbose).
    #[arg(long)]
    trace: bool,
    /// Threads that serve connections [default: one per core]. With 1, everything runs on
    /// the main thread (a current-thread runtime: no wake-ups between threads).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Connections open at once at most; one accepted beyond that is closed at once. The
    /// server raises its open-file limit to fit, as far as the hard limit allows.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_conns: u64,
    /// Time a client has to complete its handshake, counted from the accept (e.g. 10s,
    /// 500ms): a socket that sends nothing, or too little too slowly, is closed then.
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = parse_duration)]
    handshake_timeout: Duration,
    /// After the handshake, how long one read or write may wait for the peer before the
    /// connection is closed.
    #[arg(long, value_name = "TIME", default_value = "60s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Exit (status 0) once this many connections have been served (for tests and
    /// benchmarks).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    exit_after: Option<u64>,
    /// Print a `stats:` line every TIME (e.g. 1s): open connections, those still in their
    /// handshake, and counts of outcomes and cached sessions; and once more at exit.
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    stats: Option<Duration>,
}

/// `10s`, `500ms`, `2m`, `1.5s`, or a bare number of seconds; more than zero.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let seconds_per_unit = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("{text:?}: the unit is ms, s, m or h (e.g. 10s)")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a time (e.g. 10s, 500ms)"))?;
    let seconds = value * seconds_per_unit;
    if !(seconds.is_finite() && seconds > 0.0 && seconds < 1e9) {
        return Err(format!("{text:?}: a time above zero, please"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `--psk IDENTITY:HEXKEY`.
fn psk_arg(text: &str) -> Result<(Vec<u8>, tls12::crypto::Secret), String> {
    crate::common::parse_psk(text)
}

/// What the server counts; printed by `--stats`.
#[derive(Default)]
struct Counters {
    /// Connections accepted and served (beyond the cap they are refused, not counted).
    accepted: AtomicU64,
    /// Connections closed at once because --max-conns were open.
    refused: AtomicU64,
    /// Connections open now (their tasks are alive).
    open: AtomicU64,
    /// Connections open now and still in their handshake.
    handshaking: AtomicU64,
    /// Handshakes completed, and of those resumed.
    completed: AtomicU64,
    resumed: AtomicU64,
    /// Handshakes that failed (a TLS error, or the peer went away).
    failed: AtomicU64,
    /// Handshakes not completed by the deadline.
    timed_out: AtomicU64,
    /// Connections whose task has ended.
    finished: AtomicU64,
}

/// What every connection shares.
struct Shared {
    acceptor: TlsAcceptor<RingProvider, InMemoryCache>,
    www: bool,
    /// Print each connection's outcome.
    verbose: bool,
    /// Print each connection's flights too.
    trace: bool,
    handshake_timeout: Duration,
    idle_timeout: Duration,
    linger: Linger,
    max_conns: u64,
    exit_after: Option<u64>,
    counters: Counters,
    /// Told when the `--exit-after`th connection has ended.
    done: Notify,
}

impl Shared {
    /// The `stats:` line.
    fn stats_line(&self) -> String {
        let c = &self.counters;
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        format!(
            "stats: open={} handshaking={} accepted={} refused={} handshakes={} resumed={} \
             failed={} timed_out={} cached={}",
            get(&c.open),
            get(&c.handshaking),
            get(&c.accepted),
            get(&c.refused),
            get(&c.completed),
            get(&c.resumed),
            get(&c.failed),
            get(&c.timed_out),
            self.acceptor.cache().lock().len(),
        )
    }
}

/// Holds a connection's place among the open ones; its drop (at the end of the task,
/// panic included) frees it and counts the connection as finished.
struct OpenGuard(Arc<Shared>);

impl OpenGuard {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.counters.open.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(shared))
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        let counters = &self.0.counters;
        if std::thread::panicking() {
            tracing::error!("a connection's task panicked");
        }
        counters.open.fetch_sub(1, Ordering::SeqCst);
        let finished = counters.finished.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(finished) == self.0.exit_after {
            self.0.done.notify_one();
        }
    }
}

/// The server's configuration and what to tell the user about generated files.
struct Setup {
    config: ServerConfig<RingProvider>,
    /// The generated CA's file, if the certificate was generated.
    ca_file: Option<PathBuf>,
    /// Lines to print once listening.
    notes: Vec<String>,
}

/// Runs the server until `--exit-after` connections have been served (or forever).
pub fn run(args: ServerArgs) -> Result<(), CliError> {
    let setup = configure(&args)?;
    raise_open_file_limit(args.max_conns);
    let threads = match args.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut builder = match threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        _ => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        }
    };
    let runtime = builder
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| fail(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(serve(args, setup))
}

/// Each open socket is a file descriptor: raise the soft limit towards `--max-conns`
/// (plus room for the listener, the runtime and files), as far as the hard limit allows.
fn raise_open_file_limit(max_conns: u64) {
    const SPARE: u64 = 64;
    match rlimit::increase_nofile_limit(max_conns + SPARE) {
        Ok(limit) if limit < max_conns + SPARE => tracing::warn!(
            "the open-file limit is {limit}: about {} connections can be open, not \
             --max-conns {max_conns} (raise the hard limit, `ulimit -Hn`)",
            limit.saturating_sub(SPARE)
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!("cannot raise the open-file limit: {err}"),
    }
}

/// Listens, says where, and accepts until `--exit-after` connections have ended (or
/// forever).
async fn serve(args: ServerArgs, setup: Setup) -> Result<(), CliError> {
    let address = args
        .bind
        .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)));
    let listener = listen(address).map_err(|e| fail(format!("cannot listen on {address}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| fail(format!("cannot read the listening address: {e}")))?;
    print_block(&[format!("listening on {local}")]);
    let mut notes = setup.notes;
    if let Some(ca) = &setup.ca_file {
        notes.push(format!(
            "try: tls12 client {} --ca {}",
            reachable(local),
            ca.display()
        ));
    }
    print_block(&notes);

    let mut cache = InMemoryCache::new(args.cache_size, SESSION_LIFETIME);
    if !args.no_tickets {
        let rotate_after = args.ticket_lifetime.as_secs().max(1);
        cache = cache.with_tickets(tls12::session::TicketKeys::new(rotate_after));
    }
    let shared = Arc::new(Shared {
        acceptor: TlsAcceptor::new(Arc::new(setup.config), cache),
        www: args.www,
        verbose: args.verbose || args.trace,
        trace: args.trace,
        handshake_timeout: args.handshake_timeout,
        idle_timeout: args.idle_timeout,
        linger: Linger::default(),
        max_conns: args.max_conns,
        exit_after: args.exit_after,
        counters: Counters::default(),
        done: Notify::new(),
    });
    if let Some(every) = args.stats {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                print_block(&[shared.stats_line()]);
            }
        });
    }
    let accepting = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
    match args.exit_after {
        Some(_) => shared.done.notified().await,
        // The loop never ends unless its task panics.
        None => {
            let _ = accepting.await;
            return Err(fail("the accept loop stopped"));
        }
    }
    if args.stats.is_some() {
        print_block(&[shared.stats_line()]);
    }
    Ok(())
}

/// Connections the kernel may queue for `accept` (it caps this at
/// `net.core.somaxconn`). A burst of clients beyond the queue has its SYNs dropped and
/// retried a second later or more: tokio's default of 1024 is small for a server meant to
/// hold --max-conns 10,000.
const BACKLOG: u32 = 4096;

/// A listening socket on `address`, with address reuse (a restarted server can bind at
/// once) and [`BACKLOG`].
fn listen(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}

/// An address a local client can reach the listener at: the loopback one for a
/// wildcard bind.
fn reachable(local: SocketAddr) -> SocketAddr {
    let mut address = local;
    if local.ip().is_unspecified() {
        address.set_ip(match local {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    address
}

/// Accepts forever: each connection gets a task, unless `--max-conns` are open (then it
/// is closed at once) or `--exit-after` connections were already taken in.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let counters = &shared.counters;
    let mut failures = 0u64;
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(err) => {
                // Out of file descriptors, most likely: sockets already open will close
                // by their deadlines. Say so once in a while, and do not spin.
                if failures % 1000 == 0 {
                    tracing::warn!("accept failed: {err}");
                }
                failures += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if counters.open.load(Ordering::SeqCst) >= shared.max_conns {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            drop(tcp);
            continue;
        }
        let n = counters.accepted.fetch_add(1, Ordering::SeqCst) + 1;
        if shared.exit_after.is_some_and(|max| n > max) {
            // The server is about to exit: refuse by closing.
            drop(tcp);
            continue;
        }
        let guard = OpenGuard::new(&shared);
        tokio::spawn(async move {
            connection(n, tcp, &guard.0).await;
            drop(guard);
        });
    }
}

type ServerStream = ServerTlsStream<TcpStream, RingProvider, InMemoryCache>;

/// One connection: handshake within the deadline, report, echo or answer the HTTP
/// request, then a lingering close.
async fn connection(n: u64, tcp: TcpStream, shared: &Shared) {
    let counters = &shared.counters;
    let prefix = format!("[conn {n}] ");
    // A system call per connection: only when the line is wanted.
    if tracing::enabled!(tracing::Level::INFO) {
        if let Ok(peer) = tcp.peer_addr() {
            tracing::info!("{prefix}accepted from {peer}");
        }
    }
    // Flights are small: do not let Nagle hold them back.
    let _ = tcp.set_nodelay(true);
    let mut tls = shared.acceptor.start(tcp);
    counters.handshaking.fetch_add(1, Ordering::SeqCst);
    let handshake = tokio::time::timeout(shared.handshake_timeout, tls.handshake())
        .await
        .map(|done| done.cloned());
    counters.handshaking.fetch_sub(1, Ordering::SeqCst);
    let events: Vec<Event> = std::iter::from_fn(|| tls.next_event()).collect();
    let mut lines = Vec::new();
    if shared.trace {
        lines.extend(flights(&events).into_iter().map(|f| format!("{prefix}{f}")));
    }
    let summary = match handshake {
        Ok(Ok(summary)) => summary,
        Ok(Err(err)) => {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            lines.push(format!("{prefix}error: {}", describe(&err)));
            report(shared, &lines);
            if tls_error(&err).is_some() {
                // Our alert must reach a peer that may still be writing.
                tls.lingering_close(shared.linger).await;
            }
            return;
        }
        Err(_) => {
            counters.timed_out.fetch_add(1, Ordering::Relaxed);
            lines.push(format!(
                "{prefix}error: no handshake within {}",
                seconds(shared.handshake_timeout)
            ));
            report(shared, &lines);
            // Nothing to say to a peer this slow: the socket just closes.
            return;
        }
    };
    counters.completed.fetch_add(1, Ordering::Relaxed);
    if summary.resumed {
        counters.resumed.fetch_add(1, Ordering::Relaxed);
    }
    if shared.verbose {
        lines.push(format!("{prefix}{}", outcome_line(&summary)));
        print_block(&lines);
    }
    log_key(&summary);
    let idle = shared.idle_timeout;
    let served = match shared.www {
        true => answer_http(&mut tls, &summary, idle).await,
        false => echo(&mut tls, idle).await,
    };
    match served {
        Ok(()) => tracing::info!("{prefix}closed"),
        Err(err) => report(shared, &[format!("{prefix}error: {}", describe(&err))]),
    }
    // close_notify (unless the connection failed: then its alert), then drain.
    tls.lingering_close(shared.linger).await;
}

/// `10 s`, `0.5 s`.
fn seconds(time: Duration) -> String {
    format!("{} s", time.as_secs_f64())
}

/// An error of a connection in words: the TLS error it carries, if any, else what
/// happened to the socket.
fn describe(err: &io::Error) -> String {
    match tls_error(err) {
        Some(tls) => tls.to_string(),
        None => err.to_string(),
    }
}

/// A connection's error lines: printed with --verbose, else logged at `info` (clients
/// that close without close_notify, as `openssl s_time` does, are not worth a line each).
fn report(shared: &Shared, lines: &[String]) {
    match shared.verbose {
        true => print_block(lines),
        false => lines.iter().for_each(|line| tracing::info!("{line}")),
    }
}

/// `io` within the idle timeout, or a `TimedOut` error.
async fn within<T>(idle: Duration, io: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    match tokio::time::timeout(idle, io).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("timed out: the peer was idle for {}", seconds(idle)),
        )),
    }
}

/// Sends every byte received back, until the peer closes.
async fn echo(tls: &mut ServerStream, idle: Duration) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0usize;
    loop {
        let n = within(idle, tls.read(&mut buf)).await?;
        if n == 0 {
            break;
        }
        within(idle, tls.write_all(&buf[..n])).await?;
        total += n;
    }
    tracing::debug!("echoed {total} bytes");
    Ok(())
}

/// Where an HTTP request head ends: after its empty line. Lines end in CRLF or, as RFC
/// 9112 §2.2 lets a recipient accept (and `openssl s_server -www` does), a bare LF. An
/// empty line before the request line is not the end (RFC 9112 §2.2: ignore it).
fn head_end(bytes: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    let mut seen_line = false;
    for (i, &byte) in bytes.iter().enumerate() {
        if byte != b'\n' {
            continue;
        }
        let line = &bytes[line_start..i];
        let empty = line.is_empty() || line == b"\r";
        if empty && seen_line {
            return Some(i + 1);
        }
        seen_line |= !empty;
        line_start = i + 1;
    }
    None
}

/// The request line: the first line that is not empty, without its CR.
fn request_line(head: &[u8]) -> &[u8] {
    head.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .find(|line| !line.is_empty())
        .unwrap_or_default()
}

/// Reads one HTTP request head and answers with a text page of the connection's
/// parameters.
async fn answer_http(
    tls: &mut ServerStream,
    summary: &HandshakeSummary,
    idle: Duration,
) -> io::Result<()> {
    let mut request = Vec::new();
    let mut buf = vec![0u8; 4096];
    let end = loop {
        if let Some(end) = head_end(&request) {
            break end;
        }
        if request.len() > MAX_REQUEST {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "HTTP request head too long",
            ));
        }
        let n = within(idle, tls.read(&mut buf)).await?;
        if n == 0 {
            tracing::info!("closed before a complete HTTP request");
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    };
    let body = page(summary, &escape(request_line(&request[..end])));
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    within(idle, tls.write_all(response.as_bytes())).await
}

/// Loads or generates the certificate and settles client authentication.
fn configure(args: &ServerArgs) -> Result<Setup, CliError> {
    let mut notes = Vec::new();
    let psk = (!args.psk.is_empty()).then(|| {
        let mut store = tls12::psk::InMemoryPskStore::new();
        for (identity, key) in &args.psk {
            store.insert(identity, key.clone());
        }
        let hint = args.psk_hint.as_ref().map(|h| h.as_bytes().to_vec());
        tls12::psk::ServerPsk::new(Arc::new(store), hint)
    });
    if args.psk_only {
        let psk = psk.ok_or_else(|| usage("--psk-only needs --psk IDENTITY:HEXKEY"))?;
        let mut config = ServerConfig::psk_only(psk);
        apply_common(args, &mut config)?;
        if args.client_auth != ClientAuthArg::None {
            tracing::warn!("--client-auth is ignored with --psk-only: the key authenticates");
        }
        notes.push("no certificate: PSK suites only".into());
        return Ok(Setup {
            config,
            ca_file: None,
            notes,
        });
    }
    let (chain, key, generated) = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => (load_certs(cert)?, load_key(key)?, None),
        (None, None) => {
            let pki = TestPki::generate(KeyKind::EcdsaP256, &["localhost", "127.0.0.1", "::1"])
                .map_err(|e| fail(e.to_string()))?;
            let key = RingSigningKey::from_der(&pki.server.private_key())
                .map_err(|e| fail(format!("generated key unusable: {e:?}")))?;
            let ca_file = temp_file("ca", "pem");
            write_file(&ca_file, pki.ca_pem.as_bytes(), false)?;
            notes.push(format!("CA certificate: {}", ca_file.display()));
            (pki.server.chain.clone(), key, Some((pki, ca_file)))
        }
        _ => return Err(usage("--cert and --key go together")),
    };
    let mut config = ServerConfig::new(chain, key);
    if let Some(psk) = psk {
        config = config.with_psk(psk);
    }
    apply_common(args, &mut config)?;
    config.client_auth = match args.client_auth {
        ClientAuthArg::None => ClientAuth::None,
        ClientAuthArg::Optional => ClientAuth::Optional,
        ClientAuthArg::Required => ClientAuth::Required,
    };
    if config.client_auth != ClientAuth::None {
        let roots = match (&args.client_ca, &generated) {
            (Some(path), _) => load_roots(path)?,
            (None, Some((pki, _))) => {
                let cert_file = temp_file("client", "pem");
                let key_file = temp_file("client", "key");
                write_file(&cert_file, pki.client.cert_pem.as_bytes(), false)?;
                write_file(&key_file, pki.client.key_pem.as_bytes(), true)?;
                notes.push(format!("client certificate: {}", cert_file.display()));
                notes.push(format!("client key: {}", key_file.display()));
                RingRoots::from_der_certs(std::slice::from_ref(&pki.ca))
                    .map_err(|e| fail(format!("generated CA unusable: {e:?}")))?
            }
            (None, None) => {
                return Err(usage(
                    "--client-auth with your own --cert needs --client-ca CA.pem (the CA \
                     that issued the client certificates)",
                ))
            }
        };
        config.client_roots = Some(roots);
    } else if args.client_ca.is_some() {
        tracing::warn!("--client-ca is ignored without --client-auth optional|required");
    }
    Ok(Setup {
        config,
        ca_file: generated.map(|(_, ca_file)| ca_file),
        notes,
    })
}

/// What every server configuration takes from the command line.
fn apply_common(
    args: &ServerArgs,
    config: &mut ServerConfig<RingProvider>,
) -> Result<(), CliError> {
    config.session_lifetime = SESSION_LIFETIME;
    config.prefer_server_order = args.prefer_server_order;
    // Flights are noted only for --trace, the one place they are printed.
    config.flight_trace = args.trace;
    // A server that cannot cache gives no session IDs rather than IDs it cannot honour;
    // with --cache-size 0 it issues no tickets either: resumption is off.
    config.resumption = args.cache_size > 0;
    config.tickets = !args.no_tickets;
    config.alpn = crate::common::parse_alpn(&args.alpn)?;
    Ok(())
}

/// `<tmp>/tls12-<what>-<pid>.<ext>`.
fn temp_file(what: &str, ext: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tls12-{what}-{}.{ext}", std::process::id()))
}

fn write_file(path: &Path, contents: &[u8], private: bool) -> Result<(), CliError> {
    let written = match private {
        true => write_private(path, contents),
        false => std::fs::write(path, contents),
    };
    written.map_err(|e| fail(format!("cannot write {}: {e}", path.display())))
}

/// The `--www` page.
fn page(summary: &HandshakeSummary, request: &str) -> String {
    let group = summary
        .group
        .map_or_else(|| "none".to_owned(), |g| format!("{g:?}"));
    let present = |yes: bool| if yes { "present" } else { "absent" };
    format!(
        "tls12 server\n\
         request: {request}\n\
         version: {:?}\n\
         suite: {:?}\n\
         group: {group}\n\
         resumed: {}\n\
         extended master secret: {}\n\
         session id: {}\n\
         server name: {}\n\
         client certificate: {}\n",
        summary.version,
        summary.suite,
        summary.resumed,
        summary.extended_master_secret,
        session_id_hex(summary),
        summary.server_name.as_deref().unwrap_or("none"),
        present(summary.client_certificate.is_some()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_head_ends_at_its_empty_line_with_or_without_cr() {
        let table: [(&[u8], Option<usize>); 8] = [
            (b"GET / HTTP/1.0\r\n\r\n", Some(18)),
            (b"GET / HTTP/1.0\n\n", Some(16)),
            (b"GET / HTTP/1.0\nHost: a\n\nbody", Some(24)),
            (b"GET / HTTP/1.0\r\nHost: a\n\r\n", Some(26)),
            (b"GET / HTTP/1.0\r\n", None),
            (b"GET / HTTP/1.0\r\n\r", None),
            (b"\r\n\r\n", None),
            (b"\nGET / HTTP/1.0\n\n", Some(17)),
        ];
        for (head, end) in table {
            assert_eq!(head_end(head), end, "{}", escape(head));
        }
        assert_eq!(
            request_line(b"\r\nGET / HTTP/1.0\r\n\r\n"),
            b"GET / HTTP/1.0"
        );
        assert_eq!(request_line(b"GET / HTTP/1.0\n\n"), b"GET / HTTP/1.0");
    }

    #[test]
    fn times_read_as_people_write_them() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        for bad in ["0s", "-1s", "ten", "10d", "", "nan", "1e300"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
