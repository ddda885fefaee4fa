//! tls12-tokio: the sans-IO connections of [`tls12`] over tokio, in the shape of
//! tokio-rustls. A [`TlsAcceptor`] wraps a `ServerConfig` and a session cache, a
//! [`TlsConnector`] a `ClientConfig` and (optionally) a client session store; `accept` and
//! `connect` run the handshake over any `AsyncRead + AsyncWrite + Unpin` transport and
//! return a [`TlsStream`], which is `AsyncRead + AsyncWrite` itself and carries the
//! handshake's summary. `shutdown()` sends close_notify.
//!
//! The adapter holds no protocol logic: it moves bytes between the transport and a
//! `ServerConnection` / `ClientConnection`, passes the time in as [`UnixTime`], and closes
//! sockets so that the peer can read the last records (see
//! [`TlsStream::lingering_close`]). Deadlines are the application's: wrap `accept`,
//! `connect`, reads and writes in `tokio::time::timeout`.
//!
//! An idle stream costs its connection state and the socket: reads go through a buffer on
//! the stack of the poll, and a stream's queues release their memory once emptied.
//!
//! # Example: both ends on one runtime
//!
//! ```
//! use std::sync::Arc;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tokio::net::{TcpListener, TcpStream};
//! use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
//! use tls12::handshake::{client::ClientConfig, server::ServerConfig};
//! use tls12::pki::{KeyKind, TestPki};
//! use tls12::session::InMemoryCache;
//! use tls12_tokio::{TlsAcceptor, TlsConnector};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! // A test CA and a certificate for "localhost"; a real server loads its own.
//! let pki = TestPki::generate(KeyKind::EcdsaP256, &["localhost"]).expect("pki");
//! let key = RingSigningKey::from_der(&pki.server.private_key()).expect("key");
//! let server_config = Arc::new(ServerConfig::<RingProvider>::new(pki.server.chain.clone(), key));
//! let acceptor = TlsAcceptor::new(server_config, InMemoryCache::new(1000, 3600));
//!
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let address = listener.local_addr()?;
//! let server = tokio::spawn(async move {
//!     let (tcp, _) = listener.accept().await?;
//!     let mut tls = acceptor.accept(tcp).await?;
//!     let mut line = [0u8; 5];
//!     tls.read_exact(&mut line).await?;
//!     tls.write_all(&line).await?;
//!     tls.shutdown().await // close_notify
//! });
//!
//! let roots = RingRoots::from_der_certs(std::slice::from_ref(&pki.ca)).expect("roots");
//! let connector = TlsConnector::new(Arc::new(ClientConfig::<RingProvider>::new(roots)));
//! let tcp = TcpStream::connect(address).await?;
//! let mut tls = connector.connect("localhost", tcp).await?;
//! assert!(!tls.summary().expect("handshake done").resumed);
//! tls.write_all(b"hello").await?;
//! let mut echoed = Vec::new();
//! tls.read_to_end(&mut echoed).await?; // until the server's close_notify
//! assert_eq!(echoed, b"hello");
//! assert!(tls.received_close_notify());
//! server.await.expect("server task")?;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod connection;
mod stream;

use std::io;
use std::sync::{Arc, Mutex};

use tls12::crypto::ring::RingProvider;
use tls12::crypto::{Provider, UnixTime};
use tls12::handshake::client::ClientConfig;
use tls12::handshake::server::ServerConfig;
use tls12::handshake::Event;
use tls12::session::{ClientSessionStore, InMemoryCache, SessionCache};
use tls12::stream::system_time;
use tls12::{ClientConnection, ServerConnection};
use tokio::io::{AsyncRead, AsyncWrite};

pub use connection::{Connection, ServerSide, SharedCache};
pub use stream::{tls_error, Linger, TlsStream};

/// A server's stream: a [`TlsStream`] over a [`ServerSide`].
pub type ServerTlsStream<IO, P = RingProvider, C = InMemoryCache> = TlsStream<IO, ServerSide<P, C>>;

/// A client's stream: a [`TlsStream`] over a `ClientConnection`.
pub type ClientTlsStream<IO, P = RingProvider> = TlsStream<IO, ClientConnection<P>>;

/// Accepts TLS connections: a server configuration, the session cache every connection
/// shares, and a crypto provider to clone for each connection. Cloning an acceptor shares
/// its configuration and cache.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use tokio::net::TcpListener;
/// use tls12::crypto::ring::{RingProvider, RingSigningKey};
/// use tls12::handshake::server::ServerConfig;
/// use tls12::msgs::CertificateDer;
/// use tls12_tokio::TlsAcceptor;
///
/// /// An echo server: one task per connection, a deadline on every handshake.
/// async fn serve(chain: Vec<CertificateDer>, key: RingSigningKey) -> std::io::Result<()> {
///     let config = Arc::new(ServerConfig::<RingProvider>::new(chain, key));
///     let cache = tls12::session::InMemoryCache::new(10_000, 3600);
///     let acceptor = TlsAcceptor::new(config, cache);
///     let listener = TcpListener::bind("[::]:4433").await?;
///     loop {
///         let (tcp, peer) = listener.accept().await?;
///         let acceptor = acceptor.clone();
///         tokio::spawn(async move {
///             let deadline = Duration::from_secs(10);
///             let mut tls = match tokio::time::timeout(deadline, acceptor.accept(tcp)).await {
///                 Ok(Ok(tls)) => tls,
///                 Ok(Err(err)) => return eprintln!("{peer}: {err}"), // our alert is sent
///                 Err(_) => return eprintln!("{peer}: no handshake within {deadline:?}"),
///             };
///             let mut buf = vec![0u8; 16 * 1024];
///             while let Ok(n @ 1..) = tls.read(&mut buf).await {
///                 if tls.write_all(&buf[..n]).await.is_err() {
///                     break;
///                 }
///             }
///             let _ = tls.shutdown().await; // close_notify
///         });
///     }
/// }
/// ```
#[derive(Debug)]
pub struct TlsAcceptor<P: Provider = RingProvider, C = InMemoryCache> {
    config: Arc<ServerConfig<P>>,
    cache: SharedCache<C>,
    provider: P,
    clock: fn() -> UnixTime,
    linger: Linger,
}

impl<P: Provider + Clone, C> Clone for TlsAcceptor<P, C> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
            cache: self.cache.clone(),
            provider: self.provider.clone(),
            clock: self.clock,
            linger: self.linger,
        }
    }
}

impl<C: SessionCache> TlsAcceptor<RingProvider, C> {
    /// An acceptor with the ring provider, the system clock and [`Linger::default`].
    pub fn new(config: Arc<ServerConfig<RingProvider>>, cache: C) -> Self {
        Self::with_provider(config, cache, RingProvider::new())
    }
}

impl<P: Provider + Clone, C: SessionCache> TlsAcceptor<P, C> {
    /// An acceptor whose connections each get a clone of `provider`.
    pub fn with_provider(config: Arc<ServerConfig<P>>, cache: C, provider: P) -> Self {
        Self {
            config,
            cache: SharedCache::new(cache),
            provider,
            clock: system_time,
            linger: Linger::default(),
        }
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: fn() -> UnixTime) -> Self {
        self.clock = clock;
        self
    }

    /// How [`TlsAcceptor::accept`] closes a connection whose handshake failed.
    pub fn with_linger(mut self, linger: Linger) -> Self {
        self.linger = linger;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<ServerConfig<P>> {
        &self.config
    }

    /// The session cache, shared with every connection.
    pub fn cache(&self) -> &SharedCache<C> {
        &self.cache
    }

    /// The linger of failed handshakes.
    pub fn linger(&self) -> Linger {
        self.linger
    }

    /// A stream over `io` whose handshake has not run: [`TlsStream::handshake`] runs it.
    /// For a server that wants the events of a failed handshake too (its flights, say);
    /// [`TlsAcceptor::accept`] is the usual way in.
    pub fn start<IO>(&self, io: IO) -> ServerTlsStream<IO, P, C> {
        let conn = ServerConnection::new(Arc::clone(&self.config), self.provider.clone());
        TlsStream::new(ServerSide::new(conn, self.cache.clone()), io, self.clock)
    }

    /// Runs a server handshake over `io`. On a TLS error the peer gets the fatal alert,
    /// through a [lingering close](TlsStream::lingering_close) of up to
    /// [`TlsAcceptor::linger`], and the error comes back as an I/O error that
    /// [`tls_error`] opens.
    pub async fn accept<IO: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: IO,
    ) -> io::Result<ServerTlsStream<IO, P, C>> {
        let mut stream = self.start(io);
        match stream.handshake().await.map(|_| ()) {
            Ok(()) => Ok(stream),
            Err(err) => {
                if tls_error(&err).is_some() {
                    stream.lingering_close(self.linger).await;
                }
                Err(err)
            }
        }
    }
}

/// Opens TLS connections: a client configuration, optionally a session store shared by
/// every connection (sessions are offered again to the same server name), and a crypto
/// provider to clone for each connection.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use tokio::net::TcpStream;
/// use tls12::crypto::ring::{RingProvider, RingRoots};
/// use tls12::handshake::client::ClientConfig;
/// use tls12::session::ClientSessionStore;
/// use tls12_tokio::TlsConnector;
///
/// async fn fetch(address: &str, ca: &tls12::msgs::CertificateDer) -> std::io::Result<Vec<u8>> {
///     let roots = RingRoots::from_der_certs(std::slice::from_ref(ca)).expect("roots");
///     let config = Arc::new(ClientConfig::<RingProvider>::new(roots));
///     let store = Arc::new(Mutex::new(ClientSessionStore::new()));
///     let connector = TlsConnector::new(config).with_session_store(store);
///     let mut page = Vec::new();
///     for _ in 0..2 {
///         // The second connection offers the first one's session.
///         let tcp = TcpStream::connect(address).await?;
///         let mut tls = connector.connect("localhost", tcp).await?;
///         println!("resumed: {}", tls.summary().map_or(false, |s| s.resumed));
///         tls.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
///         page.clear();
///         tls.read_to_end(&mut page).await?;
///     }
///     Ok(page)
/// }
/// ```
#[derive(Debug)]
pub struct TlsConnector<P: Provider = RingProvider> {
    config: Arc<ClientConfig<P>>,
    store: Option<Arc<Mutex<ClientSessionStore>>>,
    provider: P,
    clock: fn() -> UnixTime,
    linger: Linger,
}

impl<P: Provider + Clone> Clone for TlsConnector<P> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
            store: self.store.clone(),
            provider: self.provider.clone(),
            clock: self.clock,
            linger: self.linger,
        }
    }
}

impl TlsConnector<RingProvider> {
    /// A connector with the ring provider, the system clock, no session store and
    /// [`Linger::default`].
    pub fn new(config: Arc<ClientConfig<RingProvider>>) -> Self {
        Self::with_provider(config, RingProvider::new())
    }
}

impl<P: Provider + Clone> TlsConnector<P> {
    /// A connector whose connections each get a clone of `provider`.
    pub fn with_provider(config: Arc<ClientConfig<P>>, provider: P) -> Self {
        Self {
            config,
            store: None,
            provider,
            clock: system_time,
            linger: Linger::default(),
        }
    }

    /// Offers sessions from `store` and keeps new ones there, by server name.
    pub fn with_session_store(mut self, store: Arc<Mutex<ClientSessionStore>>) -> Self {
        self.store = Some(store);
        self
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: fn() -> UnixTime) -> Self {
        self.clock = clock;
        self
    }

    /// How [`TlsConnector::connect`] closes a connection whose handshake failed.
    pub fn with_linger(mut self, linger: Linger) -> Self {
        self.linger = linger;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<ClientConfig<P>> {
        &self.config
    }

    /// The session store, if any.
    pub fn session_store(&self) -> Option<&Arc<Mutex<ClientSessionStore>>> {
        self.store.as_ref()
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut ClientSessionStore) -> T) -> Option<T> {
        let store = self.store.as_ref()?;
        let mut store = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Some(f(&mut store))
    }

    /// Runs a client handshake with `server_name` (checked against the server's
    /// certificate, and sent as SNI when it is a DNS name) over `io`, offering the stored
    /// session for that name if there is one. A new session goes to the store; on a TLS
    /// error the peer gets our alert through a lingering close, the stored session is
    /// forgotten, and the error comes back as an I/O error that [`tls_error`] opens.
    pub async fn connect<IO: AsyncRead + AsyncWrite + Unpin>(
        &self,
        server_name: &str,
        io: IO,
    ) -> io::Result<ClientTlsStream<IO, P>> {
        let offered = self
            .with_store(|store| store.get(server_name).cloned())
            .flatten();
        let conn = ClientConnection::new(
            Arc::clone(&self.config),
            self.provider.clone(),
            Some(server_name.to_owned()),
            offered,
            (self.clock)(),
        )
        .map_err(stream::io_error)?;
        let mut stream = TlsStream::new(conn, io, self.clock);
        let outcome = stream.handshake().await.map(|summary| summary.resumed);
        match outcome {
            Ok(resumed) => {
                let new_session = stream.events_iter().find_map(|event| match event {
                    Event::NewSession(session) => Some(session.as_ref().clone()),
                    _ => None,
                });
                self.with_store(|store| match new_session {
                    Some(session) => store.put(server_name, session),
                    // A full handshake without a session ID: nothing to offer next time.
                    None if !resumed => store.remove(server_name),
                    None => {}
                });
                Ok(stream)
            }
            Err(err) => {
                if tls_error(&err).is_some() {
                    // RFC 5246 §7.2: a fatal alert invalidates the session.
                    self.with_store(|store| store.remove(server_name));
                    stream.lingering_close(self.linger).await;
                }
                Err(err)
            }
        }
    }
}
