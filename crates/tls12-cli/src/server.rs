//! `tls12 server`: a TLS 1.2 server on 127.0.0.1, a fixed pool of worker threads that
//! each accept and serve one connection at a time, sessions in a shared bounded cache. It
//! echoes application data back, or (`--www`) answers one HTTP request with a page
//! describing the connection. Each connection's outcome is printed only with
//! `--verbose` (or `--trace`): a line per connection costs more than a resumed handshake.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use clap::{Args, ValueEnum};
use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::handshake::server::ServerConfig;
use tls12::handshake::{ClientAuth, HandshakeSummary};
use tls12::pki::{KeyKind, TestPki};
use tls12::session::InMemoryCache;
use tls12::stream::{ServerEndpoint, Stream};
use tls12::ServerConnection;

use crate::common::{
    describe, escape, fail, flights, load_certs, load_key, load_roots, log_key, outcome_line,
    print_block, run_handshake, session_id_hex, usage, write_private, CliError, IO_TIMEOUT,
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
    /// TCP port on 127.0.0.1 (0 picks a free one; the first line printed names it).
    #[arg(long, default_value_t = 4433)]
    port: u16,
    /// Certificate chain, PEM, end entity first. Without --cert/--key a fresh test CA
    /// and an ECDSA P-256 certificate for localhost and 127.0.0.1 are generated.
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
    /// Connections served at once, each by its own long-lived worker thread; more wait
    /// in the listen queue.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    workers: u64,
    /// Exit (status 0) once this many connections have been served.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_conns: Option<u64>,
}

/// What the workers share.
struct Shared {
    config: Arc<ServerConfig<RingProvider>>,
    cache: Arc<Mutex<InMemoryCache>>,
    www: bool,
    /// Print each connection's outcome.
    verbose: bool,
    /// Print each connection's flights too.
    trace: bool,
    /// Connections accepted so far: the next one's number is this plus one.
    accepted: AtomicU64,
    /// Connections served to the end so far.
    finished: AtomicU64,
    /// `--max-conns`.
    max_conns: Option<u64>,
}

/// The server's configuration and what to tell the user about generated files.
struct Setup {
    config: ServerConfig<RingProvider>,
    /// The generated CA's file, if the certificate was generated.
    ca_file: Option<PathBuf>,
    /// Lines to print once listening.
    notes: Vec<String>,
}

/// Runs the server until `--max-conns` connections have been served (or forever).
pub fn run(args: ServerArgs) -> Result<(), CliError> {
    let setup = configure(&args)?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .map_err(|e| fail(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let port = listener
        .local_addr()
        .map_err(|e| fail(format!("cannot read the listening address: {e}")))?
        .port();
    print_block(&[format!("listening on 127.0.0.1:{port}")]);
    let mut notes = setup.notes;
    if let Some(ca) = &setup.ca_file {
        notes.push(format!(
            "try: tls12 client 127.0.0.1:{port} --ca {}",
            ca.display()
        ));
    }
    print_block(&notes);

    let shared = Arc::new(Shared {
        config: Arc::new(setup.config),
        cache: Arc::new(Mutex::new(InMemoryCache::new(
            args.cache_size,
            SESSION_LIFETIME,
        ))),
        www: args.www,
        verbose: args.verbose || args.trace,
        trace: args.trace,
        accepted: AtomicU64::new(0),
        finished: AtomicU64::new(0),
        max_conns: args.max_conns,
    });
    // The workers never return unless --max-conns is reached; the one that finishes the
    // last connection says so, and the process exits with the others still in accept.
    let (done, all_served) = mpsc::channel();
    for worker in 0..args.workers {
        let listener = listener
            .try_clone()
            .map_err(|e| fail(format!("cannot share the listening socket: {e}")))?;
        let (shared, done) = (Arc::clone(&shared), done.clone());
        thread::Builder::new()
            .name(format!("worker-{worker}"))
            .spawn(move || work(&listener, &shared, &done))
            .map_err(|e| fail(format!("cannot start a worker thread: {e}")))?;
    }
    drop(done);
    // An error here means every worker has gone: only possible after panics.
    all_served
        .recv()
        .map_err(|_| fail("every worker thread stopped"))
}

/// One worker: accepts a connection, serves it to the end, and again. Accepting in each
/// worker (the kernel hands each connection to one waiting `accept`) keeps a hand-off
/// between threads off every connection's path.
fn work(listener: &TcpListener, shared: &Shared, done: &mpsc::Sender<()>) {
    loop {
        let socket = match listener.accept() {
            Ok((socket, _)) => socket,
            Err(err) => {
                tracing::warn!("accept failed: {err}");
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let n = shared.accepted.fetch_add(1, Ordering::SeqCst) + 1;
        if shared.max_conns.is_some_and(|max| n > max) {
            // Past --max-conns: the server is about to exit; refuse by closing.
            return;
        }
        // A panic is a bug, but it must not take the worker (and --max-conns) with it.
        if catch_unwind(AssertUnwindSafe(|| serve(n, socket, shared))).is_err() {
            tracing::error!("[conn {n}] the connection's handler panicked");
        }
        let finished = shared.finished.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(finished) == shared.max_conns {
            let _ = done.send(());
            return;
        }
    }
}

/// Loads or generates the certificate and settles client authentication.
fn configure(args: &ServerArgs) -> Result<Setup, CliError> {
    let mut notes = Vec::new();
    let (chain, key, generated) = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => (load_certs(cert)?, load_key(key)?, None),
        (None, None) => {
            let pki = TestPki::generate(KeyKind::EcdsaP256, &["localhost", "127.0.0.1"])
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
    config.session_lifetime = SESSION_LIFETIME;
    // Flights are noted only for --trace, the one place they are printed.
    config.flight_trace = args.trace;
    // A server that cannot cache gives no session IDs rather than IDs it cannot honour.
    config.resumption = args.cache_size > 0;
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

type ServerStream = Stream<ServerEndpoint<RingProvider, InMemoryCache>, TcpStream>;

/// One connection: handshake, report, then echo or answer the HTTP request.
fn serve(n: u64, socket: TcpStream, shared: &Shared) {
    let prefix = format!("[conn {n}] ");
    if let Ok(peer) = socket.peer_addr() {
        tracing::info!("{prefix}accepted from {peer}");
    }
    let timeouts = socket
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| socket.set_write_timeout(Some(IO_TIMEOUT)));
    if let Err(err) = timeouts {
        print_block(&[format!("{prefix}error: cannot set socket timeouts: {err}")]);
        return;
    }
    // Flights are small: do not let Nagle hold them back.
    let _ = socket.set_nodelay(true);
    let conn = ServerConnection::new(Arc::clone(&shared.config), RingProvider::new());
    let endpoint = ServerEndpoint {
        conn,
        cache: Arc::clone(&shared.cache),
    };
    let mut stream = Stream::new(endpoint, socket);
    let (events, handshake) = run_handshake(&mut stream);
    let mut lines = Vec::new();
    if shared.trace {
        lines.extend(flights(&events).into_iter().map(|f| format!("{prefix}{f}")));
    }
    let summary = match handshake {
        Ok(summary) => summary,
        Err(err) => {
            lines.push(format!("{prefix}error: {}", describe(&err)));
            report(shared, &lines);
            return;
        }
    };
    if shared.verbose {
        lines.push(format!("{prefix}{}", outcome_line(&summary)));
        print_block(&lines);
    }
    log_key(&summary);
    let served = match shared.www {
        true => answer_http(&mut stream, &summary),
        false => echo(&mut stream),
    };
    match served {
        Ok(()) => tracing::info!("{prefix}closed"),
        Err(err) => report(shared, &[format!("{prefix}error: {}", describe(&err))]),
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

/// Sends every byte received back, until the peer closes; then close_notify.
fn echo(stream: &mut ServerStream) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0usize;
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        stream.write_all(&buf[..n])?;
        total += n;
    }
    tracing::debug!("echoed {total} bytes");
    finish(stream);
    Ok(())
}

/// Sends our close_notify unless the connection already did (in answer to the peer's).
/// The peer may be gone already: nothing more can go wrong that matters.
fn finish(stream: &mut ServerStream) {
    if let Err(err) = stream.close() {
        tracing::debug!("close_notify not delivered: {err}");
    }
}

/// Reads one HTTP request head and answers with a text page of the connection's
/// parameters, then close_notify.
fn answer_http(stream: &mut ServerStream, summary: &HandshakeSummary) -> io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        if request.len() > MAX_REQUEST {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "HTTP request head too long",
            ));
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            tracing::info!("closed before a complete HTTP request");
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let first_line = request.split(|&b| b == b'\r').next().unwrap_or_default();
    let body = page(summary, &escape(first_line));
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    finish(stream);
    Ok(())
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
