//! rustls in memory, driven as its own examples drive it: `write_tls` into a buffer the
//! application owns (and reuses), `read_tls` + `process_new_packets` on the peer.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::{ConnectionCommon, HandshakeKind};
use rustls_pki_types::ServerName;
use tls12::msgs::enums::CipherSuite;

use crate::fixture::{rustls_server_name, Fixture};
use crate::Stopwatch;

/// rustls' client connection.
pub type Client = rustls::ClientConnection;
/// rustls' server connection.
pub type Server = rustls::ServerConnection;

/// Everything `conn` has to send, into `buf` (cleared first). Whether there was any.
fn flush<D>(conn: &mut ConnectionCommon<D>, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    while conn.wants_write() {
        conn.write_tls(buf).expect("write_tls into a Vec");
    }
    !buf.is_empty()
}

/// Feeds `data` to `conn`, processing as it goes.
fn feed<D>(conn: &mut ConnectionCommon<D>, mut data: &[u8]) {
    while !data.is_empty() {
        conn.read_tls(&mut data).expect("read_tls from a slice");
        conn.process_new_packets().expect("rustls accepts its peer");
    }
}

/// Repeated handshakes between one client configuration and one server configuration.
#[derive(Debug)]
pub struct Handshakes {
    client: Arc<rustls::ClientConfig>,
    server: Arc<rustls::ServerConfig>,
    name: ServerName<'static>,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
}

impl Handshakes {
    /// Full handshakes with `suite`, or (`resume`) abbreviated ones resuming the session
    /// ID of a full handshake run first.
    pub fn new(fixture: &Fixture, suite: CipherSuite, resume: bool) -> Self {
        let (client, server) = (
            fixture.rustls_client(suite, resume),
            fixture.rustls_server(suite),
        );
        Self::with_configs(client, server, suite, resume)
    }

    /// The same with configurations of the caller's (the `memory` binary wraps the
    /// server's session storage).
    pub fn with_configs(
        client: rustls::ClientConfig,
        server: rustls::ServerConfig,
        suite: CipherSuite,
        resume: bool,
    ) -> Self {
        let mut this = Self {
            client: Arc::new(client),
            server: Arc::new(server),
            name: rustls_server_name(),
            to_server: Vec::new(),
            to_client: Vec::new(),
        };
        let (client, server) = this.connect(&mut crate::Whole);
        assert_eq!(client.handshake_kind(), Some(HandshakeKind::Full));
        drop((client, server));
        let (client, server) = this.connect(&mut crate::Whole);
        let kind = match resume {
            true => HandshakeKind::Resumed,
            false => HandshakeKind::Full,
        };
        assert_eq!(client.handshake_kind(), Some(kind));
        assert_eq!(server.handshake_kind(), Some(kind));
        for conn in [&*client as &rustls::CommonState, &*server] {
            let negotiated = conn.negotiated_cipher_suite().expect("a suite");
            assert_eq!(u16::from(negotiated.suite()), suite.get());
            assert_eq!(
                conn.protocol_version(),
                Some(rustls::ProtocolVersion::TLSv1_2)
            );
        }
        this
    }

    /// One handshake; each side's calls are timed by `sw`.
    pub fn connect<S: Stopwatch>(&mut self, sw: &mut S) -> (Client, Server) {
        let (client_config, server_config, name) = (&self.client, &self.server, &self.name);
        let mut client = sw.client(|| {
            Client::new(Arc::clone(client_config), name.clone()).expect("client starts")
        });
        let mut server = sw.server(|| Server::new(Arc::clone(server_config)).expect("server"));
        let (to_server, to_client) = (&mut self.to_server, &mut self.to_client);
        loop {
            let c = sw.client(|| flush(&mut client, to_server));
            if c {
                sw.server(|| feed(&mut server, to_server));
            }
            let s = sw.server(|| flush(&mut server, to_client));
            if !c && !s {
                break;
            }
            if s {
                sw.client(|| feed(&mut client, to_client));
            }
        }
        assert!(!client.is_handshaking() && !server.is_handshaking());
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
    wire: Vec<u8>,
    plaintext: Vec<u8>,
}

impl Bulk {
    /// A pair connected with `suite`, and [`crate::TRANSFER`] bytes to send.
    pub fn new(fixture: &Fixture, suite: CipherSuite) -> Self {
        let (client, server) = Handshakes::new(fixture, suite, false).connect(&mut crate::Whole);
        let mut this = Self {
            client,
            server,
            data: vec![0x5a; crate::TRANSFER],
            wire: Vec::with_capacity(2 * crate::WRITE_SIZE),
            plaintext: vec![0; crate::WRITE_SIZE],
        };
        assert_eq!(this.transfer(&mut crate::Whole), crate::TRANSFER);
        this
    }

    /// Sends the data in writes of [`crate::WRITE_SIZE`], each received before the next
    /// is written, read into one application buffer. Returns the bytes received.
    pub fn transfer<S: Stopwatch>(&mut self, sw: &mut S) -> usize {
        let mut received = 0;
        for chunk in self.data.chunks(crate::WRITE_SIZE) {
            let (server, wire) = (&mut self.server, &mut self.wire);
            sw.server(|| {
                wire.clear();
                let mut rest = chunk;
                while !rest.is_empty() {
                    let n = server.writer().write(rest).expect("write");
                    rest = &rest[n..];
                    while server.wants_write() {
                        server.write_tls(wire).expect("write_tls into a Vec");
                    }
                }
            });
            let (client, wire, plaintext) = (&mut self.client, &self.wire, &mut self.plaintext);
            received += sw.client(|| {
                let mut got = 0;
                let mut data = &wire[..];
                while !data.is_empty() {
                    client.read_tls(&mut data).expect("read_tls from a slice");
                    client.process_new_packets().expect("records open");
                    loop {
                        match client.reader().read(plaintext) {
                            Ok(0) => break,
                            Ok(n) => got += n,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) => panic!("read: {e}"),
                        }
                    }
                }
                got
            });
        }
        received
    }
}
