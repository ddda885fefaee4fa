//! Our client against our server over TCP on 127.0.0.1, through the blocking `Stream`
//! adapter: a full handshake, an echo both ways, then a resumed handshake on a second
//! connection that shares the server's cache.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::handshake::client::ClientConfig;
use tls12::handshake::server::ServerConfig;
use tls12::handshake::Event;
use tls12::pki::{KeyKind, TestPki};
use tls12::session::{InMemoryCache, Session};
use tls12::stream::{system_time, ServerEndpoint, Stream};
use tls12::{ClientConnection, ServerConnection};

#[test]
fn client_and_server_over_tcp_with_resumption() {
    let pki = TestPki::generate(KeyKind::EcdsaP256, &["localhost"]).unwrap();
    let key = RingSigningKey::from_der(&pki.server.private_key()).unwrap();
    let server_config = Arc::new(ServerConfig::<RingProvider>::new(
        pki.server.chain.clone(),
        key,
    ));
    let roots = RingRoots::from_der_certs(std::slice::from_ref(&pki.ca)).unwrap();
    let client_config = Arc::new(ClientConfig::<RingProvider>::new(roots));

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let cache = Arc::new(Mutex::new(InMemoryCache::new(8, 3600)));
    let server = std::thread::spawn(move || {
        let mut resumed = Vec::new();
        for _ in 0..2 {
            let (socket, _) = listener.accept().unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let conn = ServerConnection::new(server_config.clone(), RingProvider::new());
            let endpoint = ServerEndpoint {
                conn,
                cache: cache.clone(),
            };
            let mut stream = Stream::new(endpoint, socket);
            resumed.push(stream.handshake().unwrap().resumed);
            // Echo until the client closes.
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                stream.write_all(&buf[..n]).unwrap();
            }
        }
        resumed
    });

    let mut session: Option<Session> = None;
    for round in 0..2 {
        let socket = TcpStream::connect(addr).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let conn = ClientConnection::new(
            client_config.clone(),
            RingProvider::new(),
            Some("localhost".into()),
            session.clone(),
            system_time(),
        )
        .unwrap();
        let mut stream = Stream::new(conn, socket);
        let summary = stream.handshake().unwrap().clone();
        assert_eq!(summary.resumed, round == 1);
        let message = vec![round as u8; 50_000];
        stream.write_all(&message).unwrap();
        let mut echoed = vec![0u8; message.len()];
        stream.read_exact(&mut echoed).unwrap();
        assert_eq!(echoed, message);
        while let Some(event) = stream.endpoint.next_event() {
            if let Event::NewSession(s) = event {
                session = Some(*s);
            }
        }
        stream.close().unwrap();
    }
    assert_eq!(server.join().unwrap(), [false, true]);
}

/// Cause 9 of the conformance issue: a client that keeps writing after the server's
/// fatal alert must still read the alert. Closing a socket with unread bytes makes the
/// kernel answer with a reset, which can throw the alert away before the peer reads it;
/// `Stream::close_gracefully` shuts down the write side and drains first.
#[test]
fn the_fatal_alert_arrives_although_the_client_keeps_writing() {
    // A plaintext fatal unexpected_message alert, then the end of the stream. Without
    // `close_gracefully` (`alert_after_unread_bytes(false)`) Linux delivers the alert
    // here, then "connection reset by peer"; across a real network the reset can
    // overtake the alert.
    assert_eq!(
        alert_after_unread_bytes(true),
        Ok(vec![21, 3, 3, 0, 2, 2, 10])
    );
}

/// A server that fails on the first record while 64 KiB more wait unread; what the
/// client reads back, or the error it gets.
fn alert_after_unread_bytes(graceful: bool) -> Result<Vec<u8>, String> {
    let pki = TestPki::generate(KeyKind::EcdsaP256, &["localhost"]).unwrap();
    let key = RingSigningKey::from_der(&pki.server.private_key()).unwrap();
    let config = Arc::new(ServerConfig::<RingProvider>::new(
        pki.server.chain.clone(),
        key,
    ));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (written, start) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Everything the client sends is already here before the server reads.
        start.recv().unwrap();
        let endpoint = ServerEndpoint {
            conn: ServerConnection::new(config, RingProvider::new()),
            cache: Arc::new(Mutex::new(InMemoryCache::new(1, 3600))),
        };
        let mut stream = Stream::new(endpoint, socket);
        let err = stream.handshake().unwrap_err();
        if graceful {
            stream
                .close_gracefully(Duration::from_secs(2), 1 << 20)
                .unwrap();
        }
        err.to_string()
    });
    let mut client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // A handshake record holding a ServerHelloDone (not a ClientHello), then 64 KiB of
    // application data records the server will never process.
    let mut bytes = vec![22, 3, 3, 0, 4, 14, 0, 0, 0];
    for _ in 0..4 {
        bytes.extend_from_slice(&[23, 3, 3, 0x40, 0]);
        bytes.extend_from_slice(&[0; 0x4000]);
    }
    client.write_all(&bytes).unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    written.send(()).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let result = loop {
        match client.read(&mut buf) {
            Ok(0) => break Ok(answer),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(err) => break Err(format!("read {:?}, then {err}", answer)),
        }
    };
    let err = server.join().unwrap();
    assert!(err.contains("unexpected"), "{err}");
    result
}
