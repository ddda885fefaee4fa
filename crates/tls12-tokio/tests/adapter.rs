//! The adapter over real sockets on 127.0.0.1: handshakes and data both ways, resumption
//! through a shared cache, many connections on one runtime, and peers that vanish, send
//! garbage, or keep writing after our fatal alert; and (over a scripted transport) no
//! close_notify written into a reset connection.

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::handshake::client::ClientConfig;
use tls12::handshake::server::ServerConfig;
use tls12::handshake::{ClientAuth, Event};
use tls12::msgs::enums::AlertDescription;
use tls12::pki::{KeyKind, TestPki};
use tls12::session::{ClientSessionStore, InMemoryCache};
use tls12::stream::system_time;
use tls12::ClientConnection;
use tls12_tokio::{tls_error, Linger, TlsAcceptor, TlsConnector};

/// Every wait in these tests is bounded by this.
const LIMIT: Duration = Duration::from_secs(20);

struct Pki {
    acceptor: TlsAcceptor,
    client_config: Arc<ClientConfig<RingProvider>>,
}

fn pki(client_auth: ClientAuth) -> Pki {
    let pki = TestPki::generate(KeyKind::EcdsaP256, &["localhost"]).unwrap();
    let key = RingSigningKey::from_der(&pki.server.private_key()).unwrap();
    let roots = RingRoots::from_der_certs(std::slice::from_ref(&pki.ca)).unwrap();
    let mut server = ServerConfig::<RingProvider>::new(pki.server.chain.clone(), key);
    server.client_auth = client_auth;
    if client_auth != ClientAuth::None {
        server.client_roots = Some(roots.clone());
    }
    Pki {
        acceptor: TlsAcceptor::new(Arc::new(server), InMemoryCache::new(1000, 3600)),
        client_config: Arc::new(ClientConfig::new(roots)),
    }
}

async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    (listener, address)
}

/// A server that echoes each connection until the peer closes, then sends close_notify;
/// returns, per connection, whether it resumed.
fn echo_server(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    connections: usize,
) -> tokio::task::JoinHandle<Vec<bool>> {
    tokio::spawn(async move {
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tasks.push(tokio::spawn(async move {
                let mut tls = acceptor.accept(tcp).await.unwrap();
                let resumed = tls.summary().unwrap().resumed;
                let mut buf = vec![0u8; 8192];
                loop {
                    let n = tls.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    tls.write_all(&buf[..n]).await.unwrap();
                }
                tls.shutdown().await.unwrap();
                resumed
            }));
        }
        let mut resumed = Vec::new();
        for task in tasks {
            resumed.push(task.await.unwrap());
        }
        resumed
    })
}

/// Connects, sends `message` and reads it back, then closes with close_notify and reads
/// the server's; returns what came back and whether the handshake resumed. (TLS 1.2 has
/// no half-close: data that arrives with our close_notify is not echoed.)
async fn echo_client(
    connector: &TlsConnector,
    address: SocketAddr,
    message: &[u8],
) -> (Vec<u8>, bool) {
    let tcp = TcpStream::connect(address).await.unwrap();
    let tls = connector.connect("localhost", tcp).await.unwrap();
    let resumed = tls.summary().unwrap().resumed;
    // Write and read at once: 100 KiB echoed does not fit in the socket buffers.
    let (mut reader, mut writer) = tokio::io::split(tls);
    let mut echoed = vec![0u8; message.len()];
    let (written, read) = tokio::join!(writer.write_all(message), reader.read_exact(&mut echoed));
    written.unwrap();
    read.unwrap();
    let mut tls = reader.unsplit(writer);
    tls.shutdown().await.unwrap();
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "{rest:?}");
    assert!(tls.received_close_notify(), "the server's close_notify");
    (echoed, resumed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_and_data_both_ways() {
    let pki = pki(ClientAuth::None);
    let (listener, address) = listen().await;
    let server = echo_server(listener, pki.acceptor.clone(), 1);
    let connector = TlsConnector::new(pki.client_config);
    let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let (echoed, resumed) = timeout(LIMIT, echo_client(&connector, address, &message))
        .await
        .unwrap();
    assert_eq!(echoed, message);
    assert!(!resumed);
    assert_eq!(timeout(LIMIT, server).await.unwrap().unwrap(), [false]);
    // A full handshake is cached once both Finished verified.
    assert_eq!(pki.acceptor.cache().lock().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumption_through_a_shared_cache() {
    let pki = pki(ClientAuth::None);
    let (listener, address) = listen().await;
    let server = echo_server(listener, pki.acceptor.clone(), 3);
    let store = Arc::new(Mutex::new(ClientSessionStore::new()));
    let connector = TlsConnector::new(pki.client_config).with_session_store(store.clone());
    let mut resumed = Vec::new();
    let mut ids = Vec::new();
    for round in 0..3u8 {
        let (echoed, was_resumed) = timeout(LIMIT, echo_client(&connector, address, &[round; 10]))
            .await
            .unwrap();
        assert_eq!(echoed, [round; 10]);
        resumed.push(was_resumed);
        ids.push(store.lock().unwrap().get("localhost").unwrap().id);
    }
    assert_eq!(resumed, [false, true, true]);
    assert!(ids.iter().all(|id| *id == ids[0]), "one session: {ids:?}");
    assert_eq!(
        timeout(LIMIT, server).await.unwrap().unwrap(),
        [false, true, true]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_connections_on_one_runtime() {
    const CLIENTS: usize = 200;
    let pki = pki(ClientAuth::None);
    let (listener, address) = listen().await;
    let server = echo_server(listener, pki.acceptor.clone(), CLIENTS);
    let connector = TlsConnector::new(pki.client_config);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let connector = connector.clone();
            tokio::spawn(async move {
                let message = format!("client {i}").into_bytes();
                let (echoed, _) = echo_client(&connector, address, &message).await;
                assert_eq!(echoed, message);
            })
        })
        .collect();
    for client in clients {
        timeout(LIMIT, client).await.unwrap().unwrap();
    }
    let resumed = timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(resumed.len(), CLIENTS);
    assert_eq!(pki.acceptor.cache().lock().len(), CLIENTS);
}

/// The first flight of a real client, to start a handshake with.
fn client_hello(config: &Arc<ClientConfig<RingProvider>>) -> Vec<u8> {
    let mut conn = ClientConnection::new(
        Arc::clone(config),
        RingProvider::new(),
        Some("localhost".into()),
        None,
        system_time(),
    )
    .unwrap();
    conn.take_output()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_vanishes_mid_handshake() {
    let pki = pki(ClientAuth::None);
    let (listener, address) = listen().await;
    let hello = client_hello(&pki.client_config);
    for reset in [false, true] {
        let mut tcp = TcpStream::connect(address).await.unwrap();
        let (server_tcp, _) = listener.accept().await.unwrap();
        let acceptor = pki.acceptor.clone();
        let server = tokio::spawn(async move { acceptor.accept(server_tcp).await.map(|_| ()) });
        tcp.write_all(&hello).await.unwrap();
        if reset {
            // Closing with the server's flight unread makes the kernel send a reset.
            tcp.readable().await.unwrap();
        }
        drop(tcp);
        let started = Instant::now();
        let err = timeout(LIMIT, server).await.unwrap().unwrap().unwrap_err();
        assert!(tls_error(&err).is_none(), "reset={reset}: {err}");
        assert!(
            matches!(
                err.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
            ),
            "reset={reset}: {err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(1), "at once");
    }
    assert_eq!(pki.acceptor.cache().lock().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_sends_garbage_gets_an_alert() {
    let pki = pki(ClientAuth::None);
    let (listener, address) = listen().await;
    // 16 KiB that no TLS stack would send; the first bytes look like a handshake record
    // with a version nobody speaks, the rest is noise.
    let mut garbage: Vec<u8> = (0..16 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    garbage[..5].copy_from_slice(&[0x16, 0x07, 0x07, 0x00, 0x40]);
    let mut tcp = TcpStream::connect(address).await.unwrap();
    let (server_tcp, _) = listener.accept().await.unwrap();
    let acceptor = pki.acceptor.clone();
    let server = tokio::spawn(async move { acceptor.accept(server_tcp).await.map(|_| ()) });
    tcp.write_all(&garbage).await.unwrap();
    let mut answer = Vec::new();
    timeout(LIMIT, tcp.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let err = timeout(LIMIT, server).await.unwrap().unwrap().unwrap_err();
    let tls = tls_error(&err).unwrap_or_else(|| panic!("a TLS error: {err}"));
    // One plaintext fatal alert record: 21, version, length 2, level 2, description.
    assert_eq!(answer.len(), 7, "{answer:?}");
    assert_eq!(answer[0], 21);
    assert_eq!(&answer[3..6], &[0, 2, 2]);
    assert_eq!(Some(AlertDescription::from(answer[6])), tls.alert_sent());
    assert_eq!(pki.acceptor.cache().lock().len(), 0);
}

/// What a client that keeps writing after its flight reads back: it writes its second
/// flight without a certificate (the server requires one), then 512 bytes every 5 ms for
/// 300 ms as a client would write a request body, then reads until the server closes.
/// `Err` if a write failed (the server's kernel reset the connection).
fn keep_writing_after_the_flight(
    address: SocketAddr,
    config: Arc<ClientConfig<RingProvider>>,
) -> Result<(ClientConnection<RingProvider>, tls12::Error), String> {
    let mut tcp = std::net::TcpStream::connect(address).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut conn = ClientConnection::new(
        config,
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
    tcp.write_all(&conn.take_output()).unwrap();
    // 512 bytes a record: 300 ms of them stay well under the 64 KiB the server drains.
    let mut record = vec![23u8, 3, 3, 2, 0];
    record.resize(5 + 512, 0xaa);
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(300) {
        tcp.write_all(&record)
            .map_err(|e| format!("write failed after {:?}: {e}", started.elapsed()))?;
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer)
        .map_err(|e| format!("read failed: {e}"))?;
    let err = conn
        .receive(&answer, system_time())
        .expect_err("the server's alert");
    Ok((conn, err))
}

/// "The alert never arrives": after a fatal alert the server must not close with the
/// client's bytes unread, or the kernel resets the connection and the client, still
/// writing, sees the reset instead of the alert. The lingering close drains them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_keeps_writing_after_the_alert_still_reads_it() {
    let pki = pki(ClientAuth::Required);
    let (listener, address) = listen().await;
    let acceptor = pki.acceptor.clone();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(tcp).await.map(|_| ())
    });
    let config = Arc::clone(&pki.client_config);
    let client =
        tokio::task::spawn_blocking(move || keep_writing_after_the_flight(address, config));
    let (_, err) = timeout(LIMIT, client).await.unwrap().unwrap().unwrap();
    assert_eq!(
        err,
        tls12::Error::PeerAlert(AlertDescription::HandshakeFailure)
    );
    let server_err = timeout(LIMIT, server).await.unwrap().unwrap().unwrap_err();
    assert_eq!(
        tls_error(&server_err).and_then(tls12::Error::alert_sent),
        Some(AlertDescription::HandshakeFailure)
    );
}

/// The control for the test above: with no linger the same client meets a reset, which
/// is what the lingering close is for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_lingering_close_the_writing_client_meets_a_reset() {
    let pki = pki(ClientAuth::Required);
    let (listener, address) = listen().await;
    let acceptor = pki.acceptor.clone().with_linger(Linger {
        time: Duration::ZERO,
        bytes: 0,
    });
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(tcp).await.map(|_| ())
    });
    let config = Arc::clone(&pki.client_config);
    let client =
        tokio::task::spawn_blocking(move || keep_writing_after_the_flight(address, config));
    let outcome = timeout(LIMIT, client).await.unwrap().unwrap();
    assert!(
        outcome.is_err(),
        "expected a reset, got {:?}",
        outcome.map(|(_, e)| e)
    );
    timeout(LIMIT, server).await.unwrap().unwrap().unwrap_err();
}

/// A trace configuration reports the flights of the handshake on the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_carries_the_handshake_events() {
    let pki = pki(ClientAuth::None);
    let (listener, address) = listen().await;
    let server = echo_server(listener, pki.acceptor.clone(), 1);
    let mut config = (*pki.client_config).clone();
    config.flight_trace = true;
    let connector = TlsConnector::new(Arc::new(config));
    let tcp = TcpStream::connect(address).await.unwrap();
    let mut tls = timeout(LIMIT, connector.connect("localhost", tcp))
        .await
        .unwrap()
        .unwrap();
    let events: Vec<Event> = std::iter::from_fn(|| tls.next_event()).collect();
    let flights: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Flight(f) => Some(f.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(flights[0], "-> ClientHello");
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::HandshakeComplete(_))));
    tls.shutdown().await.unwrap();
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    timeout(LIMIT, server).await.unwrap().unwrap();
}

/// A transport that yields `input`, then the end of the input or, with `reset`, a
/// connection reset on every read; it keeps what is written and whether it was shut.
struct Scripted {
    input: Vec<u8>,
    reset: bool,
    written: Arc<Mutex<Vec<u8>>>,
    shut: Arc<Mutex<bool>>,
}

impl tokio::io::AsyncRead for Scripted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if !self.input.is_empty() {
            let n = self.input.len().min(buf.remaining());
            buf.put_slice(&self.input[..n]);
            self.input.drain(..n);
        } else if self.reset {
            return std::task::Poll::Ready(Err(std::io::ErrorKind::ConnectionReset.into()));
        }
        std::task::Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Scripted {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.written.lock().unwrap().extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        *self.shut.lock().unwrap() = true;
        std::task::Poll::Ready(Ok(()))
    }
}

/// After the peer reset the connection, a lingering close writes nothing (a write would
/// only fail with EPIPE: one wasted system call per connection of `openssl s_time`, which
/// resets). A peer that merely closed still gets close_notify and a shutdown.
#[tokio::test]
async fn a_lingering_close_after_a_reset_writes_nothing() {
    let pki = pki(ClientAuth::None);
    let hello = client_hello(&pki.client_config);
    for reset in [true, false] {
        let written = Arc::new(Mutex::new(Vec::new()));
        let shut = Arc::new(Mutex::new(false));
        let io = Scripted {
            input: hello.clone(),
            reset,
            written: Arc::clone(&written),
            shut: Arc::clone(&shut),
        };
        let mut tls = pki.acceptor.start(io);
        let err = timeout(LIMIT, tls.handshake()).await.unwrap().unwrap_err();
        let expected = match reset {
            true => std::io::ErrorKind::ConnectionReset,
            false => std::io::ErrorKind::UnexpectedEof,
        };
        assert_eq!(err.kind(), expected, "reset={reset}: {err}");
        let flight = written.lock().unwrap().len();
        assert!(flight > 0, "reset={reset}: the server's flight was written");
        timeout(LIMIT, tls.lingering_close(Linger::default()))
            .await
            .unwrap();
        let after = written.lock().unwrap().len();
        let was_shut = *shut.lock().unwrap();
        match reset {
            true => assert!(after == flight && !was_shut, "wrote {after} > {flight}"),
            false => assert!(after > flight && was_shut, "close_notify and shutdown"),
        }
    }
}
