//! `tls12 client`: connects, handshakes, sends a line and prints what comes back; can
//! reconnect resuming the session, and save or load a session file.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use tls12::crypto::ring::RingProvider;
use tls12::handshake::client::{ClientConfig, ClientIdentity};
use tls12::handshake::Event;
use tls12::session::Session;
use tls12::stream::{system_time, Stream};
use tls12::ClientConnection;

use crate::common::{
    describe, escape, fail, flights, load_certs, load_key, load_roots, log_key, outcome_line,
    print_block, run_handshake, unescape, usage, CliError, IO_TIMEOUT,
};
use crate::session_file;

/// How long the client waits for the answer to `--send`.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// `tls12 client` options.
#[derive(Args, Debug)]
pub struct ClientArgs {
    /// The server, as HOST:PORT (e.g. 127.0.0.1:4433, localhost:4433, [::1]:4433).
    #[arg(value_name = "HOST:PORT")]
    address: String,
    /// CA certificates (PEM) the server's certificate must chain to. Required: for
    /// `tls12 server` without --cert, the file it printed as "CA certificate: ...".
    #[arg(long, value_name = "CA.pem")]
    ca: Option<PathBuf>,
    /// The name the server's certificate must be valid for, sent as SNI when it is a DNS
    /// name [default: HOST].
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
    /// Client certificate chain (PEM), presented when the server asks for one.
    #[arg(long, value_name = "C.pem", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key of the client certificate (PEM, PKCS#8 or PKCS#1).
    #[arg(long, value_name = "K.pem", requires = "cert")]
    key: Option<PathBuf>,
    /// A pre-shared key, IDENTITY:HEXKEY (repeatable; picked by the server's hint when
    /// one is named after it): the PSK and ECDHE_PSK suites are offered too. With --psk,
    /// --ca may be left out for a server without a certificate.
    #[arg(long, value_name = "IDENTITY:HEXKEY", value_parser = psk_arg)]
    pub psk: Vec<(Vec<u8>, tls12::crypto::Secret)>,
    /// Application protocols to offer with ALPN (e.g. h2,http/1.1).
    #[arg(long, value_name = "P1,P2", value_delimiter = ',')]
    pub alpn: Vec<String>,
    /// Do not ask for or offer session tickets (RFC 5077): resume by session ID only.
    #[arg(long)]
    pub no_tickets: bool,
    /// After the first connection, connect N more times, each offering the latest session.
    #[arg(long, value_name = "N", default_value_t = 0)]
    reconnect: u32,
    /// Write the session of the last connection to this file (JSON; it holds the master
    /// secret, so it is made readable by you only).
    #[arg(long, value_name = "FILE")]
    sess_out: Option<PathBuf>,
    /// Offer the session in this file (written by --sess-out) on the first connection.
    #[arg(long, value_name = "FILE")]
    sess_in: Option<PathBuf>,
    /// Print every flight of every handshake before its outcome.
    #[arg(long)]
    trace: bool,
    /// Text to send after each handshake, `hello from tls12\n` unless given (\n, \r, \t
    /// and \\ are unescaped); the client then waits up to 5 s for as many bytes back and
    /// prints them. Empty (`--send ''`): send nothing.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = r"hello from tls12\n",
        hide_default_value = true
    )]
    send: String,
}

/// `--psk IDENTITY:HEXKEY`.
fn psk_arg(text: &str) -> Result<(Vec<u8>, tls12::crypto::Secret), String> {
    crate::common::parse_psk(text)
}

/// Runs the connections; `Err` is printed by `main` with the matching exit status.
pub fn run(args: ClientArgs) -> Result<(), CliError> {
    let (host, port) = split_address(&args.address)?;
    let roots = match (&args.ca, args.psk.is_empty()) {
        (Some(ca), _) => load_roots(ca)?,
        // A PSK alone may do without a CA (a server without a certificate).
        (None, false) => tls12::crypto::ring::RingRoots::from_der_certs(&[])
            .map_err(|e| fail(format!("no roots: {e}")))?,
        (None, true) => {
            return Err(usage(
                "no trust anchors: pass --ca CA.pem, the CA that issued the server's \
                 certificate (`tls12 server` without --cert prints its path as \"CA \
                 certificate: ...\"), or --psk IDENTITY:HEXKEY",
            ))
        }
    };
    let mut config = ClientConfig::new(roots);
    if !args.psk.is_empty() {
        let keys = args
            .psk
            .iter()
            .map(|(identity, key)| tls12::psk::ClientPsk {
                identity: identity.clone(),
                key: key.clone(),
                hint: None,
            })
            .collect();
        config = config.with_psk(keys);
    }
    config.alpn = crate::common::parse_alpn(&args.alpn)?;
    config.tickets = !args.no_tickets;
    // Flights are noted only for --trace, the one place they are printed.
    config.flight_trace = args.trace;
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        config.identity = Some(ClientIdentity {
            chain: load_certs(cert)?,
            key: load_key(key)?,
        });
    }
    let config = Arc::new(config);
    let server_name = args.server_name.clone().unwrap_or_else(|| host.clone());
    let mut session = match &args.sess_in {
        Some(path) => {
            let session = session_file::load(path)?;
            if session.server_name.as_deref() != Some(server_name.as_str()) {
                tracing::warn!(
                    "the session in {} is for {:?}, not {server_name:?}: it will not be offered",
                    path.display(),
                    session.server_name
                );
            }
            Some(session)
        }
        None => None,
    };
    let message = unescape(&args.send);
    let client = Client {
        config,
        host,
        port,
        server_name,
        message,
        trace: args.trace,
    };
    for _ in 0..=args.reconnect {
        session = client.connect_once(session)?;
    }
    if let Some(path) = &args.sess_out {
        let session = session.as_ref().ok_or_else(|| {
            fail("the server gave no session ID or ticket: nothing to write to --sess-out")
        })?;
        session_file::save(path, session)?;
    }
    Ok(())
}

/// `HOST:PORT`, with `[v6]` brackets removed from the host.
pub(crate) fn split_address(address: &str) -> Result<(String, u16), CliError> {
    let bad = || {
        usage(format!(
            "{address:?} is not HOST:PORT (e.g. 127.0.0.1:4433)"
        ))
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse::<u16>().map_err(|_| bad())?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match host.is_empty() {
        true => Err(bad()),
        false => Ok((host.to_owned(), port)),
    }
}

/// What every connection of one invocation shares.
struct Client {
    config: Arc<ClientConfig<RingProvider>>,
    host: String,
    port: u16,
    server_name: String,
    message: String,
    trace: bool,
}

type ClientStream = Stream<ClientConnection<RingProvider>, TcpStream>;

impl Client {
    /// One connection offering `offered`; returns the session to offer next.
    fn connect_once(&self, offered: Option<Session>) -> Result<Option<Session>, CliError> {
        let socket = self.connect()?;
        let conn = ClientConnection::new(
            Arc::clone(&self.config),
            RingProvider::new(),
            Some(self.server_name.clone()),
            offered.clone(),
            system_time(),
        )
        .map_err(|e| fail(e.to_string()))?;
        let mut stream = Stream::new(conn, socket);
        let (events, handshake) = run_handshake(&mut stream);
        if self.trace {
            print_block(&flights(&events));
        }
        let summary = handshake.map_err(|e| fail(describe(&e)))?;
        print_block(&[outcome_line(&summary)]);
        log_key(&summary);
        let new_session = events.into_iter().find_map(|e| match e {
            Event::NewSession(session) => Some(*session),
            _ => None,
        });
        let next = match (new_session, summary.resumed) {
            (Some(session), _) => Some(session),
            (None, true) => offered,
            (None, false) => None,
        };
        if !self.message.is_empty() {
            let answer =
                exchange(&mut stream, self.message.as_bytes()).map_err(|e| fail(describe(&e)))?;
            print_block(&[format!("received: {}", escape(&answer))]);
        }
        if let Err(err) = stream.close() {
            tracing::debug!("close_notify not delivered: {err}");
        }
        Ok(next)
    }

    fn connect(&self) -> Result<TcpStream, CliError> {
        let target = format!("{}:{}", self.host, self.port);
        let addrs = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| fail(format!("cannot resolve {target}: {e}")))?;
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                Ok(socket) => {
                    socket
                        .set_read_timeout(Some(IO_TIMEOUT))
                        .and_then(|()| socket.set_write_timeout(Some(IO_TIMEOUT)))
                        .map_err(|e| fail(format!("cannot set socket timeouts: {e}")))?;
                    let _ = socket.set_nodelay(true);
                    return Ok(socket);
                }
                Err(err) => last = Some(err),
            }
        }
        Err(fail(match last {
            Some(err) => format!("cannot connect to {target}: {err}"),
            None => format!("{target} resolves to no address"),
        }))
    }
}

/// Sends `message`, then reads until as many bytes came back, the peer closed, or
/// [`ANSWER_TIMEOUT`] passed.
fn exchange(stream: &mut ClientStream, message: &[u8]) -> io::Result<Vec<u8>> {
    stream.write_all(message)?;
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    while answer.len() < message.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        stream.socket.set_read_timeout(Some(left))?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            Err(e) => return Err(e),
        }
    }
    if answer.len() < message.len() {
        tracing::warn!(
            "{} of {} bytes came back within {} s",
            answer.len(),
            message.len(),
            ANSWER_TIMEOUT.as_secs()
        );
    }
    stream.socket.set_read_timeout(Some(IO_TIMEOUT))?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(
            split_address("127.0.0.1:4433").unwrap(),
            ("127.0.0.1".into(), 4433)
        );
        assert_eq!(split_address("[::1]:1").unwrap(), ("::1".into(), 1));
        assert_eq!(
            split_address("localhost:0").unwrap(),
            ("localhost".into(), 0)
        );
        for bad in ["localhost", ":443", "host:port", "host:65536", ""] {
            assert!(
                matches!(split_address(bad), Err(CliError::Usage(_))),
                "{bad}"
            );
        }
    }
}
