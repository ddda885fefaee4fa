//! tls12 in memory: handshakes and bulk transfer between our client and our server in one
//! thread, bytes handed over as `take_output` returns them.

use std::sync::Arc;

use tls12::crypto::ring::RingProvider;
use tls12::handshake::client::ClientConfig;
use tls12::handshake::server::ServerConfig;
use tls12::handshake::{Event, Phase};
use tls12::msgs::enums::CipherSuite;
use tls12::session::{InMemoryCache, Session};
use tls12::{ClientConnection, ServerConnection};

use crate::fixture::Fixture;
use crate::{Stopwatch, CACHE_SIZE, NOW, SERVER_NAME};

/// Our client connection.
pub type Client = ClientConnection<RingProvider>;
/// Our server connection.
pub type Server = ServerConnection<RingProvider>;

/// Seconds a cached session lives (a day, as in the CLI).
const LIFETIME: u64 = 24 * 3600;

/// Repeated handshakes between one client configuration and one server configuration
/// sharing one session cache.
#[derive(Debug)]
pub struct Handshakes {
    client: Arc<ClientConfig<RingProvider>>,
    server: Arc<ServerConfig<RingProvider>>,
    cache: InMemoryCache,
    /// The session the client offers (resumed scenarios).
    session: Option<Session>,
    /// The last session the client was given (what an application would store).
    stored: Option<Session>,
}

impl Handshakes {
    /// Full handshakes with `suite` (`resume` false), or abbreviated ones resuming a
    /// session made by one full handshake first.
    pub fn new(fixture: &Fixture, suite: CipherSuite, resume: bool) -> Self {
        let mut this = Self {
            client: Arc::new(fixture.tls12_client(suite)),
            server: Arc::new(fixture.tls12_server(suite)),
            cache: InMemoryCache::new(CACHE_SIZE, LIFETIME),
            session: None,
            stored: None,
        };
        if resume {
            this.connect(&mut crate::Whole);
            this.session = this.stored.take();
            assert!(this.session.is_some(), "the server gave no session ID");
        }
        let (client, server) = this.connect(&mut crate::Whole);
        let (c, s) = (
            client.summary().expect("client done"),
            server.summary().expect("server done"),
        );
        assert_eq!((c.suite, s.suite), (suite, suite));
        assert_eq!((c.resumed, s.resumed), (resume, resume));
        assert_eq!(c.master_secret, s.master_secret);
        this
    }

    /// One handshake; each side's calls are timed by `sw`. The connections are returned
    /// with their events and output drained, as an application leaves them.
    pub fn connect<S: Stopwatch>(&mut self, sw: &mut S) -> (Client, Server) {
        let (client_config, server_config, session) = (&self.client, &self.server, &self.session);
        let mut client = sw.client(|| {
            ClientConnection::new(
                Arc::clone(client_config),
                RingProvider::new(),
                Some(SERVER_NAME.to_owned()),
                session.clone(),
                NOW,
            )
            .expect("ClientHello")
        });
        let mut server =
            sw.server(|| ServerConnection::new(Arc::clone(server_config), RingProvider::new()));
        let cache = &mut self.cache;
        loop {
            let to_server = sw.client(|| client.take_output());
            if !to_server.is_empty() {
                sw.server(|| server.receive(&to_server, NOW, cache))
                    .expect("server accepts our client");
            }
            let to_client = sw.server(|| server.take_output());
            if to_client.is_empty() && to_server.is_empty() {
                break;
            }
            if !to_client.is_empty() {
                sw.client(|| client.receive(&to_client, NOW))
                    .expect("client accepts our server");
            }
        }
        // An application reads its events and keeps the client's NewSession.
        let stored = &mut self.stored;
        sw.client(|| {
            while let Some(event) = client.next_event() {
                if let Event::NewSession(session) = event {
                    *stored = Some(*session);
                }
            }
        });
        sw.server(|| while server.next_event().is_some() {});
        assert_eq!(
            (client.phase(), server.phase()),
            (Phase::AppData, Phase::AppData)
        );
        (client, server)
    }

    /// One handshake, the connections dropped by their side.
    pub fn handshake<S: Stopwatch>(&mut self, sw: &mut S) {
        let (client, server) = self.connect(sw);
        sw.client(|| drop(client));
        sw.server(|| drop(server));
    }
}

/// A connected pair moving application data from the server to the client.
#[derive(Debug)]
pub struct Bulk {
    client: Client,
    server: Server,
    data: Vec<u8>,
}

impl Bulk {
    /// A pair connected with `suite`, and [`crate::TRANSFER`] bytes to send.
    pub fn new(fixture: &Fixture, suite: CipherSuite) -> Self {
        let (client, server) = Handshakes::new(fixture, suite, false).connect(&mut crate::Whole);
        let mut this = Self {
            client,
            server,
            data: vec![0x5a; crate::TRANSFER],
        };
        assert_eq!(this.transfer(&mut crate::Whole), crate::TRANSFER);
        this
    }

    /// Sends the data in writes of [`crate::WRITE_SIZE`], each received before the next
    /// is written; the sender's work is the server's, the receiver's the client's.
    /// Returns the bytes received.
    ///
    /// Each side uses the API that copies least, as [`crate::theirs::Bulk`] does for
    /// rustls: the sender's records are read where it sealed them ([`Server::output`],
    /// then `consume_output`), and the receiver's application data where it was
    /// decrypted ([`Client::received`], then `consume_received`).
    pub fn transfer<S: Stopwatch>(&mut self, sw: &mut S) -> usize {
        let mut received = 0;
        for chunk in self.data.chunks(crate::WRITE_SIZE) {
            let server = &mut self.server;
            sw.server(|| server.send(chunk).expect("send"));
            let (client, wire) = (&mut self.client, self.server.output());
            received += sw.client(|| {
                client.receive(wire, NOW).expect("receive");
                let mut got = 0;
                loop {
                    let data = std::hint::black_box(client.received());
                    if data.is_empty() {
                        break got;
                    }
                    got += data.len();
                    client.consume_received(data.len());
                }
            });
            let server = &mut self.server;
            sw.server(|| server.consume_output(usize::MAX));
        }
        received
    }
}
