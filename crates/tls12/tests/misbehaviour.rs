//! A table of misbehaving peers (in the manner of BoGo): each case takes a real flight
//! from our own client or server, breaks one rule, feeds it to the other side, and names
//! the alert that side must answer with. After the alert the victim accepts nothing.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::sync::Arc;

use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::crypto::UnixTime;
use tls12::handshake::client::{ClientConfig, ClientIdentity};
use tls12::handshake::server::ServerConfig;
use tls12::handshake::{ClientAuth, Event, Phase};
use tls12::msgs::enums::{AlertDescription, ContentType, HandshakeType, ProtocolVersion};
use tls12::msgs::{
    ClientExtension, ClientHello, HandshakeMessage, HandshakePayload, KeyExchange, ServerExtension,
    ServerHello, ServerName,
};
use tls12::pki::{KeyKind, TestPki};
use tls12::record::{Deframer, OpaqueRecord};
use tls12::session::{InMemoryCache, Session};
use tls12::{ClientConnection, ServerConnection};

const NOW: UnixTime = UnixTime(1_800_000_000);

/// A client and a server mid-handshake, with what each has sent so far.
struct Env {
    client: ClientConnection<RingProvider>,
    server: ServerConnection<RingProvider>,
    cache: InMemoryCache,
    client_config: Arc<ClientConfig<RingProvider>>,
    server_config: Arc<ServerConfig<RingProvider>>,
}

fn env(client_auth: ClientAuth) -> Env {
    let pki = TestPki::generate(KeyKind::EcdsaP256, &["localhost"]).unwrap();
    let key = RingSigningKey::from_der(&pki.server.private_key()).unwrap();
    let roots = RingRoots::from_der_certs(std::slice::from_ref(&pki.ca)).unwrap();
    let mut server = ServerConfig::new(pki.server.chain.clone(), key);
    server.client_auth = client_auth;
    server.client_roots = Some(roots.clone());
    let mut client = ClientConfig::new(roots);
    client.identity = Some(ClientIdentity {
        chain: pki.client.chain.clone(),
        key: RingSigningKey::from_der(&pki.client.private_key()).unwrap(),
    });
    let (client, server) = (Arc::new(client), Arc::new(server));
    Env {
        client: ClientConnection::new(
            Arc::clone(&client),
            RingProvider::new(),
            Some("localhost".into()),
            None,
            NOW,
        )
        .unwrap(),
        server: ServerConnection::new(Arc::clone(&server), RingProvider::new()),
        cache: InMemoryCache::new(4, 3600),
        client_config: client,
        server_config: server,
    }
}

/// Completes the handshake in `e`, then starts a new client connection offering its
/// session to a new server connection that shares the cache.
fn resuming(e: &mut Env) -> Session {
    for _ in 0..4 {
        let to_server = e.client.take_output();
        e.server.receive(&to_server, NOW, &mut e.cache).unwrap();
        let to_client = e.server.take_output();
        e.client.receive(&to_client, NOW).unwrap();
    }
    assert_eq!(e.client.phase(), Phase::AppData);
    let session = std::iter::from_fn(|| e.client.next_event())
        .find_map(|ev| match ev {
            Event::NewSession(s) => Some(*s),
            _ => None,
        })
        .unwrap();
    assert_eq!(e.cache.len(), 1);
    e.client = ClientConnection::new(
        Arc::clone(&e.client_config),
        RingProvider::new(),
        Some("localhost".into()),
        Some(session.clone()),
        NOW,
    )
    .unwrap();
    e.server = ServerConnection::new(Arc::clone(&e.server_config), RingProvider::new());
    session
}

/// Replaces both ends with a PSK-only server (ECDHE_PSK with ChaCha20) and a client
/// that knows its key.
fn psk_only(e: &mut Env) {
    let mut store = tls12::psk::InMemoryPskStore::new();
    store.insert(b"client1", tls12::crypto::Secret::new(vec![9; 32]));
    let psk = tls12::psk::ServerPsk::new(Arc::new(store), None);
    let mut server = ServerConfig::psk_only(psk);
    server.suites.truncate(1);
    let mut client = (*e.client_config).clone();
    client.suites = server.suites.clone();
    client.psk = vec![tls12::psk::ClientPsk {
        identity: b"client1".to_vec(),
        key: tls12::crypto::Secret::new(vec![9; 32]),
        hint: None,
    }];
    e.client_config = Arc::new(client);
    e.server_config = Arc::new(server);
    e.client = ClientConnection::new(
        Arc::clone(&e.client_config),
        RingProvider::new(),
        Some("localhost".into()),
        None,
        NOW,
    )
    .unwrap();
    e.server = ServerConnection::new(Arc::clone(&e.server_config), RingProvider::new());
}

/// A handshake message of type `typ` with `body`, in one plaintext record.
fn message_record(typ: u8, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_be_bytes();
    let msg = [&[typ, len[1], len[2], len[3]][..], body].concat();
    encode(&[plain(ContentType::Handshake, &msg)])
}

fn records(bytes: &[u8]) -> Vec<OpaqueRecord> {
    let mut deframer = Deframer::new();
    deframer.push(bytes);
    std::iter::from_fn(|| deframer.pop().unwrap()).collect()
}

fn encode(records: &[OpaqueRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    records.iter().for_each(|r| r.encode(&mut out));
    out
}

fn plain(typ: ContentType, payload: &[u8]) -> OpaqueRecord {
    OpaqueRecord {
        typ,
        version: ProtocolVersion::TLSv1_2,
        payload: payload.to_vec(),
    }
}

/// The handshake messages of one plaintext record, as raw bytes.
fn messages(record: &OpaqueRecord) -> Vec<Vec<u8>> {
    let mut joiner = tls12::record::HandshakeJoiner::new();
    joiner.push(&record.payload).unwrap();
    std::iter::from_fn(|| joiner.pop()).collect()
}

fn without(msgs: &[Vec<u8>], typ: HandshakeType) -> Vec<u8> {
    msgs.iter()
        .filter(|m| HandshakeType::from(m[0]) != typ)
        .flatten()
        .copied()
        .collect()
}

/// Client hello → server; returns the server's first flight (one plaintext record).
fn server_flight(e: &mut Env) -> OpaqueRecord {
    let hello = e.client.take_output();
    e.server.receive(&hello, NOW, &mut e.cache).unwrap();
    let mut flight = records(&e.server.take_output());
    assert_eq!(flight.len(), 1, "the server's flight fits one record");
    flight.remove(0)
}

/// The client's second flight: [handshake record, ChangeCipherSpec, encrypted Finished].
fn client_flight(e: &mut Env) -> Vec<OpaqueRecord> {
    let flight = server_flight(e);
    e.client.receive(&encode(&[flight]), NOW).unwrap();
    records(&e.client.take_output())
}

enum Victim {
    Client,
    Server,
}

struct Case {
    name: &'static str,
    client_auth: ClientAuth,
    /// Plays the handshake up to the fault; returns who gets the bad bytes and the bytes.
    attack: fn(&mut Env) -> (Victim, Vec<u8>),
    alert: AlertDescription,
}

/// The server's first flight with its ServerHello edited, for the client.
fn edited_server_hello(e: &mut Env, edit: fn(&mut ServerHello)) -> (Victim, Vec<u8>) {
    let flight = server_flight(e);
    let mut msgs = messages(&flight);
    let mut msg = HandshakeMessage::read_bytes(&msgs[0], KeyExchange::Ecdhe).unwrap();
    let HandshakePayload::ServerHello(sh) = &mut msg.payload else {
        panic!("{msg:?}")
    };
    edit(sh);
    msgs[0] = msg.get_encoding();
    (
        Victim::Client,
        encode(&[plain(ContentType::Handshake, &msgs.concat())]),
    )
}

/// The client's ClientHello, edited, for the server.
fn edited_client_hello(e: &mut Env, edit: fn(&mut ClientHello)) -> (Victim, Vec<u8>) {
    let hello = records(&e.client.take_output()).remove(0);
    let mut msg = HandshakeMessage::read_bytes(&hello.payload, KeyExchange::Ecdhe).unwrap();
    let HandshakePayload::ClientHello(ch) = &mut msg.payload else {
        panic!("{msg:?}")
    };
    edit(ch);
    (
        Victim::Server,
        encode(&[plain(ContentType::Handshake, &msg.get_encoding())]),
    )
}

const FINISHED_PLAINTEXT: [u8; 16] = [20, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

fn cases() -> Vec<Case> {
    use AlertDescription::*;
    vec![
        Case {
            name: "Finished without ChangeCipherSpec",
            client_auth: ClientAuth::None,
            attack: |e| {
                let flight = client_flight(e);
                let finished = plain(ContentType::Handshake, &FINISHED_PLAINTEXT);
                (Victim::Server, encode(&[flight[0].clone(), finished]))
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "ChangeCipherSpec before ClientKeyExchange",
            client_auth: ClientAuth::None,
            attack: |e| {
                server_flight(e);
                (
                    Victim::Server,
                    encode(&[plain(ContentType::ChangeCipherSpec, &[1])]),
                )
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "ServerKeyExchange missing for ECDHE",
            client_auth: ClientAuth::None,
            attack: |e| {
                let flight = server_flight(e);
                let msgs = without(&messages(&flight), HandshakeType::ServerKeyExchange);
                (
                    Victim::Client,
                    encode(&[plain(ContentType::Handshake, &msgs)]),
                )
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "CertificateVerify missing after a client certificate",
            client_auth: ClientAuth::Required,
            attack: |e| {
                let flight = client_flight(e);
                let msgs = without(&messages(&flight[0]), HandshakeType::CertificateVerify);
                (
                    Victim::Server,
                    encode(&[plain(ContentType::Handshake, &msgs), flight[1].clone()]),
                )
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "application data before Finished",
            client_auth: ClientAuth::None,
            attack: |e| {
                server_flight(e);
                (
                    Victim::Server,
                    encode(&[plain(ContentType::ApplicationData, b"early")]),
                )
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "a handshake message split across ChangeCipherSpec",
            client_auth: ClientAuth::None,
            attack: |e| {
                let flight = client_flight(e);
                let (head, _) = flight[0].payload.split_at(3);
                let bytes = encode(&[plain(ContentType::Handshake, head), flight[1].clone()]);
                (Victim::Server, bytes)
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "ServerHello twice",
            client_auth: ClientAuth::None,
            attack: |e| {
                let flight = server_flight(e);
                let msgs = messages(&flight);
                let twice = [msgs[0].clone(), msgs[0].clone()].concat();
                (
                    Victim::Client,
                    encode(&[plain(ContentType::Handshake, &twice)]),
                )
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "a forged Finished",
            client_auth: ClientAuth::None,
            attack: |e| {
                let mut flight = client_flight(e);
                // Flip a ciphertext bit of the encrypted Finished: the AEAD catches it.
                let last = flight[2].payload.len() - 1;
                flight[2].payload[last] ^= 0x80;
                (Victim::Server, encode(&flight))
            },
            alert: BadRecordMac,
        },
        Case {
            name: "a ServerKeyExchange signed by someone else",
            client_auth: ClientAuth::None,
            attack: |e| {
                let flight = server_flight(e);
                let mut msgs = messages(&flight);
                let ske = msgs.iter_mut().find(|m| m[0] == 12).unwrap();
                let n = ske.len() - 1;
                ske[n] ^= 1; // the last byte of the signature
                (
                    Victim::Client,
                    encode(&[plain(ContentType::Handshake, &msgs.concat())]),
                )
            },
            alert: DecryptError,
        },
        Case {
            name: "a ClientHello below TLS 1.2",
            client_auth: ClientAuth::None,
            attack: |e| {
                let hello = records(&e.client.take_output()).remove(0);
                let mut msg =
                    HandshakeMessage::read_bytes(&hello.payload, tls12::msgs::KeyExchange::Ecdhe)
                        .unwrap();
                if let HandshakePayload::ClientHello(ch) = &mut msg.payload {
                    ch.client_version = tls12::msgs::enums::ProtocolVersion::TLSv1_1;
                }
                (
                    Victim::Server,
                    encode(&[plain(ContentType::Handshake, &msg.get_encoding())]),
                )
            },
            alert: ProtocolVersion,
        },
        Case {
            name: "a ClientHello without null compression",
            client_auth: ClientAuth::None,
            attack: |e| {
                let hello = records(&e.client.take_output()).remove(0);
                let mut msg =
                    HandshakeMessage::read_bytes(&hello.payload, tls12::msgs::KeyExchange::Ecdhe)
                        .unwrap();
                if let HandshakePayload::ClientHello(ch) = &mut msg.payload {
                    ch.compression_methods = vec![tls12::msgs::enums::Compression::Deflate];
                }
                (
                    Victim::Server,
                    encode(&[plain(ContentType::Handshake, &msg.get_encoding())]),
                )
            },
            alert: IllegalParameter,
        },
        Case {
            name: "a ServerHello choosing a suite we did not offer",
            client_auth: ClientAuth::None,
            attack: |e| {
                let flight = server_flight(e);
                let mut msgs = messages(&flight);
                let mut sh =
                    HandshakeMessage::read_bytes(&msgs[0], tls12::msgs::KeyExchange::Ecdhe)
                        .unwrap();
                if let HandshakePayload::ServerHello(sh) = &mut sh.payload {
                    sh.cipher_suite =
                        tls12::msgs::enums::CipherSuite::TLS_RSA_WITH_AES_128_GCM_SHA256;
                }
                msgs[0] = sh.get_encoding();
                (
                    Victim::Client,
                    encode(&[plain(ContentType::Handshake, &msgs.concat())]),
                )
            },
            alert: IllegalParameter,
        },
        Case {
            name: "a ServerHello with a non-empty renegotiation_info",
            client_auth: ClientAuth::None,
            attack: |e| {
                edited_server_hello(e, |sh| {
                    for ext in sh.extensions.iter_mut().flatten() {
                        if let ServerExtension::RenegotiationInfo(info) = ext {
                            *info = vec![0; 24];
                        }
                    }
                })
            },
            alert: HandshakeFailure,
        },
        Case {
            name: "a ServerHello whose ec_point_formats lacks uncompressed",
            client_auth: ClientAuth::None,
            attack: |e| {
                edited_server_hello(e, |sh| {
                    for ext in sh.extensions.iter_mut().flatten() {
                        if let ServerExtension::EcPointFormats(formats) = ext {
                            *formats =
                                vec![tls12::msgs::enums::ECPointFormat::ANSIX962CompressedPrime];
                        }
                    }
                })
            },
            alert: IllegalParameter,
        },
        Case {
            name: "a ServerHello with an extension the client did not offer",
            client_auth: ClientAuth::None,
            attack: |e| {
                edited_server_hello(e, |sh| {
                    sh.extensions
                        .get_or_insert_default()
                        .push(ServerExtension::SessionTicketAck)
                })
            },
            alert: UnsupportedExtension,
        },
        Case {
            name: "a ServerHello choosing TLS 1.1",
            client_auth: ClientAuth::None,
            attack: |e| {
                edited_server_hello(e, |sh| {
                    sh.server_version = tls12::msgs::enums::ProtocolVersion::TLSv1_1
                })
            },
            alert: ProtocolVersion,
        },
        Case {
            name: "a ServerHello choosing compression",
            client_auth: ClientAuth::None,
            attack: |e| {
                edited_server_hello(e, |sh| {
                    sh.compression_method = tls12::msgs::enums::Compression::Deflate
                })
            },
            alert: IllegalParameter,
        },
        Case {
            name: "a ClientHello whose ec_point_formats lacks uncompressed",
            client_auth: ClientAuth::None,
            attack: |e| {
                edited_client_hello(e, |ch| {
                    for ext in ch.extensions.iter_mut().flatten() {
                        if let ClientExtension::EcPointFormats(formats) = ext {
                            *formats =
                                vec![tls12::msgs::enums::ECPointFormat::ANSIX962CompressedPrime];
                        }
                    }
                })
            },
            alert: IllegalParameter,
        },
        Case {
            name: "a ClientHello whose server_name is not a host name",
            client_auth: ClientAuth::None,
            attack: |e| {
                edited_client_hello(e, |ch| {
                    for ext in ch.extensions.iter_mut().flatten() {
                        if let ClientExtension::ServerName(names) = ext {
                            names[0] = ServerName {
                                typ: names[0].typ,
                                name: b"bad name.".to_vec(),
                            };
                        }
                    }
                })
            },
            alert: IllegalParameter,
        },
        Case {
            name: "a ClientHello with a non-empty renegotiation_info",
            client_auth: ClientAuth::None,
            attack: |e| {
                edited_client_hello(e, |ch| {
                    for ext in ch.extensions.iter_mut().flatten() {
                        if let ClientExtension::RenegotiationInfo(info) = ext {
                            *info = vec![0; 12];
                        }
                    }
                })
            },
            alert: HandshakeFailure,
        },
        Case {
            name: "a record over 2^14 bytes of plaintext before encryption",
            client_auth: ClientAuth::None,
            attack: |_| {
                (
                    Victim::Server,
                    encode(&[plain(ContentType::Handshake, &vec![0; (1 << 14) + 1])]),
                )
            },
            alert: RecordOverflow,
        },
        Case {
            name: "a ServerHello selecting a protocol the client did not offer",
            client_auth: ClientAuth::None,
            attack: |e| {
                // The client offers h2 (its config asks for it), the server picks spdy/3.
                let mut client = (*e.client_config).clone();
                client.alpn = vec![b"h2".to_vec()];
                let mut server = (*e.server_config).clone();
                server.alpn = vec![b"h2".to_vec()];
                e.client_config = Arc::new(client);
                e.server_config = Arc::new(server);
                e.client = ClientConnection::new(
                    Arc::clone(&e.client_config),
                    RingProvider::new(),
                    Some("localhost".into()),
                    None,
                    NOW,
                )
                .unwrap();
                e.server = ServerConnection::new(Arc::clone(&e.server_config), RingProvider::new());
                edited_server_hello(e, |sh| {
                    for ext in sh.extensions.iter_mut().flatten() {
                        if let ServerExtension::Alpn(name) = ext {
                            name.0 = b"spdy/3".to_vec();
                        }
                    }
                })
            },
            alert: IllegalParameter,
        },
        Case {
            name: "a Certificate under a PSK suite",
            client_auth: ClientAuth::None,
            attack: |e| {
                psk_only(e);
                let flight = server_flight(e);
                let mut msgs = messages(&flight);
                // An (empty) Certificate right after ServerHello: RFC 4279 §2 sends none.
                msgs.insert(1, vec![11, 0, 0, 3, 0, 0, 0]);
                (
                    Victim::Client,
                    encode(&[plain(ContentType::Handshake, &msgs.concat())]),
                )
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "an ECDHE_PSK ServerHelloDone without ServerKeyExchange",
            client_auth: ClientAuth::None,
            attack: |e| {
                psk_only(e);
                let flight = server_flight(e);
                let msgs = without(&messages(&flight), HandshakeType::ServerKeyExchange);
                (
                    Victim::Client,
                    encode(&[plain(ContentType::Handshake, &msgs)]),
                )
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "an unknown PSK identity",
            client_auth: ClientAuth::None,
            attack: |e| {
                psk_only(e);
                server_flight(e);
                // ECDHE_PSK: identity "nobody!", then a 32-byte X25519 share.
                let cke = [&[16u8, 0, 0, 42, 0, 7][..], b"nobody!", &[32], &[9; 32]].concat();
                (
                    Victim::Server,
                    encode(&[plain(ContentType::Handshake, &cke)]),
                )
            },
            alert: UnknownPskIdentity,
        },
        Case {
            name: "a promised NewSessionTicket that never comes",
            client_auth: ClientAuth::None,
            attack: |e| {
                let mut client = (*e.client_config).clone();
                client.tickets = true;
                e.client_config = Arc::new(client);
                e.client = ClientConnection::new(
                    Arc::clone(&e.client_config),
                    RingProvider::new(),
                    Some("localhost".into()),
                    None,
                    NOW,
                )
                .unwrap();
                e.cache =
                    InMemoryCache::new(4, 3600).with_tickets(tls12::session::TicketKeys::new(3600));
                let flight = client_flight(e);
                e.server
                    .receive(&encode(&flight), NOW, &mut e.cache)
                    .unwrap();
                // NewSessionTicket, ChangeCipherSpec, Finished: drop the first.
                let last = records(&e.server.take_output());
                assert_eq!(last.len(), 3);
                assert_eq!(messages(&last[0])[0][0], 4);
                (Victim::Client, encode(&last[1..]))
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "a NewSessionTicket nobody asked for",
            client_auth: ClientAuth::None,
            attack: |e| {
                let flight = client_flight(e);
                e.server
                    .receive(&encode(&flight), NOW, &mut e.cache)
                    .unwrap();
                let ticket = plain(ContentType::Handshake, &[4, 0, 0, 6, 0, 0, 0, 0, 0, 0]);
                (
                    Victim::Client,
                    encode(&[&[ticket][..], &records(&e.server.take_output())].concat()),
                )
            },
            alert: UnexpectedMessage,
        },
        // Cause 4 of the conformance issue: the type decides before the body.
        Case {
            name: "ClientKeyExchange with ClientHello skipped",
            client_auth: ClientAuth::None,
            attack: |e| {
                e.client.take_output();
                let mut body = vec![32];
                body.extend_from_slice(&[9; 32]);
                (Victim::Server, message_record(16, &body))
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "a ChangeCipherSpec of two bytes",
            client_auth: ClientAuth::None,
            attack: |e| {
                let flight = client_flight(e);
                let ccs = plain(ContentType::ChangeCipherSpec, &[1, 1]);
                (Victim::Server, encode(&[flight[0].clone(), ccs]))
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "a ChangeCipherSpec of value 2",
            client_auth: ClientAuth::None,
            attack: |e| {
                let flight = client_flight(e);
                let ccs = plain(ContentType::ChangeCipherSpec, &[2]);
                (Victim::Server, encode(&[flight[0].clone(), ccs]))
            },
            alert: UnexpectedMessage,
        },
        Case {
            name: "an undecodable Certificate where ServerHello belongs",
            client_auth: ClientAuth::None,
            attack: |_| (Victim::Client, message_record(11, &[0, 0, 9, 1])),
            alert: UnexpectedMessage,
        },
        Case {
            name: "a malformed HelloRequest while negotiating",
            client_auth: ClientAuth::None,
            attack: |_| (Victim::Client, message_record(0, &[1])),
            alert: DecodeError,
        },
        // Cause 5: RFC 7627 §5.3, the server side.
        Case {
            name: "a resumption offer that drops extended master secret",
            client_auth: ClientAuth::None,
            attack: |e| {
                resuming(e);
                edited_client_hello(e, |ch| {
                    ch.extensions
                        .get_or_insert_default()
                        .retain(|x| !matches!(x, ClientExtension::ExtendedMasterSecret))
                })
            },
            alert: HandshakeFailure,
        },
        // Cause 5, the client side (RFC 7627 §5.4).
        Case {
            name: "a resumed ServerHello that drops extended master secret",
            client_auth: ClientAuth::None,
            attack: |e| {
                resuming(e);
                let hello = e.client.take_output();
                e.server.receive(&hello, NOW, &mut e.cache).unwrap();
                let flight = records(&e.server.take_output());
                assert_eq!(flight.len(), 3, "ServerHello, ChangeCipherSpec, Finished");
                let mut msg =
                    HandshakeMessage::read_bytes(&flight[0].payload, KeyExchange::Ecdhe).unwrap();
                let HandshakePayload::ServerHello(sh) = &mut msg.payload else {
                    panic!("{msg:?}")
                };
                sh.extensions
                    .get_or_insert_default()
                    .retain(|x| !matches!(x, ServerExtension::ExtendedMasterSecret));
                let edited = plain(ContentType::Handshake, &msg.get_encoding());
                (Victim::Client, encode(&[edited]))
            },
            alert: HandshakeFailure,
        },
        // Cause 6: RFC 5246 §7.4.1.2.
        Case {
            name: "a resumption offer without its session's suite",
            client_auth: ClientAuth::None,
            attack: |e| {
                let session = resuming(e);
                let hello = records(&e.client.take_output()).remove(0);
                let mut msg =
                    HandshakeMessage::read_bytes(&hello.payload, KeyExchange::Ecdhe).unwrap();
                let HandshakePayload::ClientHello(ch) = &mut msg.payload else {
                    panic!("{msg:?}")
                };
                ch.cipher_suites.retain(|s| *s != session.suite);
                assert!(!ch.cipher_suites.is_empty());
                (
                    Victim::Server,
                    encode(&[plain(ContentType::Handshake, &msg.get_encoding())]),
                )
            },
            alert: IllegalParameter,
        },
        Case {
            name: "an undecodable ClientKeyExchange",
            client_auth: ClientAuth::None,
            attack: |e| {
                server_flight(e);
                (
                    Victim::Server,
                    encode(&[plain(ContentType::Handshake, &[16, 0, 0, 1, 0])]),
                )
            },
            alert: DecodeError,
        },
    ]
}

#[test]
fn misbehaving_peers_get_the_right_fatal_alert() {
    for case in cases() {
        let mut e = env(case.client_auth);
        let (victim, bytes) = (case.attack)(&mut e);
        let cached_before = e.cache.len();
        let (result, phase, output) = match victim {
            Victim::Server => {
                let r = e.server.receive(&bytes, NOW, &mut e.cache);
                (r, e.server.phase(), e.server.take_output())
            }
            Victim::Client => {
                let r = e.client.receive(&bytes, NOW);
                (r, e.client.phase(), e.client.take_output())
            }
        };
        let err = result.expect_err(case.name);
        assert_eq!(err.alert_sent(), Some(case.alert), "{}: {err}", case.name);
        assert_eq!(phase, Phase::Closed, "{}", case.name);
        // The alert went out (encrypted or not, it is the last record).
        let last = records(&output)
            .pop()
            .unwrap_or_else(|| panic!("{}: no alert sent", case.name));
        assert_eq!(last.typ, ContentType::Alert, "{}", case.name);
        // Sticky: the dead connection refuses anything more.
        let again = match victim {
            Victim::Server => e.server.receive(&bytes, NOW, &mut e.cache),
            Victim::Client => e.client.receive(&bytes, NOW),
        };
        assert_eq!(again, Err(err), "{}", case.name);
        // Nothing new is cached after a fatal alert. A session cached by an earlier,
        // completed connection stays: the failed offer never resumed it.
        assert!(
            e.cache.len() <= cached_before,
            "{}: a session cached after a fatal alert",
            case.name
        );
    }
}

#[test]
fn an_encrypted_alert_is_readable_by_the_peer() {
    // A fatal alert after the epoch switch is sent under the new keys.
    let mut e = env(ClientAuth::None);
    let mut flight = client_flight(&mut e);
    let last = flight[2].payload.len() - 1;
    flight[2].payload[last] ^= 0x80;
    let server_err = e
        .server
        .receive(&encode(&flight), NOW, &mut e.cache)
        .unwrap_err();
    assert_eq!(
        server_err.alert_sent(),
        Some(AlertDescription::BadRecordMac)
    );
    let alert = e.server.take_output();
    assert_eq!(
        records(&alert).last().map(|r| r.typ),
        Some(ContentType::Alert)
    );
}

/// Cause 4 of the conformance issue: whatever its body, a first message that is not a
/// ClientHello is `unexpected_message` (OpenSSL, NSS and GnuTLS agree), not a decode
/// error of a message the server never waited for.
#[test]
fn a_first_message_other_than_client_hello_is_unexpected() {
    let bodies: [&[u8]; 3] = [&[], &[1, 2, 3], &[0; 40]];
    for typ in [0u8, 2, 3, 4, 11, 12, 13, 14, 15, 16, 20, 99, 255] {
        for body in bodies {
            let mut e = env(ClientAuth::None);
            let err = e
                .server
                .receive(&message_record(typ, body), NOW, &mut e.cache)
                .unwrap_err();
            assert_eq!(
                err.alert_sent(),
                Some(AlertDescription::UnexpectedMessage),
                "type {typ}, {} body bytes: {err}",
                body.len()
            );
        }
    }
}

/// RFC 5246 §7.4.1.1: a well-formed HelloRequest while negotiating is ignored (and kept
/// out of the transcript, or the Finished messages would not verify).
#[test]
fn a_hello_request_while_negotiating_is_ignored() {
    let mut e = env(ClientAuth::None);
    let hello = e.client.take_output();
    e.server.receive(&hello, NOW, &mut e.cache).unwrap();
    let flight = e.server.take_output();
    let with_request = [message_record(0, &[]), flight].concat();
    e.client.receive(&with_request, NOW).unwrap();
    let to_server = e.client.take_output();
    e.server.receive(&to_server, NOW, &mut e.cache).unwrap();
    e.client.receive(&e.server.take_output(), NOW).unwrap();
    assert_eq!(e.client.phase(), Phase::AppData);
    assert_eq!(e.server.phase(), Phase::AppData);
}

/// Cause 1: RFC 5246 §7.4.1.4, "an extension type MUST NOT appear in the ServerHello
/// unless the same extension type appeared in the corresponding ClientHello" (RFC 8422
/// §5.2 for ec_point_formats). The one exception: RFC 5746 §3.6 answers the SCSV with an
/// empty renegotiation_info. Every subset of the client's optional extensions is tried.
#[test]
fn server_hello_extensions_are_a_subset_of_the_client_hellos() {
    use tls12::msgs::enums::{CipherSuite, ExtensionType};
    use tls12::msgs::extensions::Extension;
    let optional = [
        ExtensionType::ServerName,
        ExtensionType::EcPointFormats,
        ExtensionType::ExtendedMasterSecret,
        ExtensionType::RenegotiationInfo,
    ];
    for mask in 0..(1u32 << optional.len()) {
        for scsv in [false, true] {
            let mut e = env(ClientAuth::None);
            let hello = records(&e.client.take_output()).remove(0);
            let mut msg = HandshakeMessage::read_bytes(&hello.payload, KeyExchange::Ecdhe).unwrap();
            let HandshakePayload::ClientHello(ch) = &mut msg.payload else {
                panic!("{msg:?}")
            };
            let dropped: Vec<_> = (0..optional.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| optional[i])
                .collect();
            let exts = ch.extensions.get_or_insert_default();
            exts.retain(|x| !dropped.contains(&x.ext_type()));
            if scsv {
                ch.cipher_suites
                    .push(CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
            }
            let offered: Vec<ExtensionType> =
                ch.extensions().iter().map(|x| x.ext_type()).collect();
            let bytes = encode(&[plain(ContentType::Handshake, &msg.get_encoding())]);
            e.server.receive(&bytes, NOW, &mut e.cache).unwrap();
            let flight = server_flight_records(&mut e);
            let sh =
                HandshakeMessage::read_bytes(&messages(&flight)[0], KeyExchange::Ecdhe).unwrap();
            let HandshakePayload::ServerHello(sh) = sh.payload else {
                panic!("{sh:?}")
            };
            for ext in sh.extensions() {
                let typ = ext.ext_type();
                let scsv_answer = scsv && typ == ExtensionType::RenegotiationInfo;
                assert!(
                    offered.contains(&typ) || scsv_answer,
                    "dropped {dropped:?}, scsv {scsv}: ServerHello sent {typ:?}"
                );
            }
            // And what was offered is answered: secure renegotiation, EMS, and (RFC 8422
            // §5.2) ec_point_formats under an ECC suite.
            let answered: Vec<_> = sh.extensions().iter().map(|x| x.ext_type()).collect();
            assert_eq!(
                answered.contains(&ExtensionType::EcPointFormats),
                offered.contains(&ExtensionType::EcPointFormats)
            );
            let reneg = offered.contains(&ExtensionType::RenegotiationInfo) || scsv;
            assert_eq!(answered.contains(&ExtensionType::RenegotiationInfo), reneg);
            assert_eq!(
                answered.contains(&ExtensionType::ExtendedMasterSecret),
                offered.contains(&ExtensionType::ExtendedMasterSecret)
            );
        }
    }
}

/// The server's first flight, already produced.
fn server_flight_records(e: &mut Env) -> OpaqueRecord {
    let mut flight = records(&e.server.take_output());
    assert_eq!(flight.len(), 1, "the server's flight fits one record");
    flight.remove(0)
}

/// Large but legal ClientHellos (cause 3): the shapes an outside suite sends, each built
/// from our client's own hello, and the largest hello RFC 5246 can describe. Each must be
/// answered with a ServerHello, however it is spread over records.
#[test]
fn large_legal_client_hellos_are_served() {
    use tls12::msgs::enums::{CipherSuite, ExtensionType, SignatureScheme};
    use tls12::msgs::extensions::UnknownExtension;
    use tls12::msgs::handshake::MAX_CLIENT_HELLO_LEN;
    use tls12::msgs::SessionId;

    /// Room left in the extensions block (at most 65,535 bytes) after `exts`.
    fn room(exts: &[ClientExtension]) -> usize {
        let mut block = Vec::new();
        tls12::msgs::extensions::encode_extensions(&mut block, exts);
        0xffff - (block.len() - 2)
    }
    fn unknown(typ: u16, len: usize) -> ClientExtension {
        ClientExtension::Unknown(UnknownExtension {
            typ: ExtensionType::from(typ),
            data: vec![0x61; len],
        })
    }
    fn unassigned_suites(n: usize) -> impl Iterator<Item = CipherSuite> {
        // 0x0100..0x55ff and 0x5601..0xbfff hold no assigned suite.
        (0x0100u16..0x5600)
            .chain(0x5601..0xc000)
            .take(n)
            .map(CipherSuite::from)
    }

    type Shape = (&'static str, fn(&mut ClientHello), usize);
    let shapes: [Shape; 8] = [
        (
            "one extension of ~65,470 bytes",
            |ch| {
                let exts = ch.extensions.get_or_insert_default();
                let len = room(exts) - 4;
                exts.insert(0, unknown(0x4000, len));
            },
            16_384,
        ),
        (
            "16,375 empty extensions before renegotiation_info",
            |ch| {
                let exts = ch.extensions.get_or_insert_default();
                let n = room(exts) / 4;
                let filler = (0..n as u16).map(|i| unknown(64 + i, 0));
                exts.splice(0..0, filler);
                assert!(n >= 16_000, "{n}");
            },
            16_384,
        ),
        (
            "10,968 unknown cipher suites and a padding extension filling the block",
            |ch| {
                let ours = std::mem::take(&mut ch.cipher_suites);
                ch.cipher_suites = unassigned_suites(10_968).chain(ours).collect();
                let exts = ch.extensions.get_or_insert_default();
                let len = room(exts) - 4;
                exts.push(unknown(21, len)); // padding (RFC 7685)
            },
            16_384,
        ),
        (
            "32,765 cipher suites, ours last",
            |ch| {
                let ours = std::mem::take(&mut ch.cipher_suites);
                ch.cipher_suites = unassigned_suites(0x7ffd - ours.len()).chain(ours).collect();
            },
            16_384,
        ),
        (
            "signature_algorithms with ~32,760 entries, duplicates included",
            |ch| {
                let exts = ch.extensions.get_or_insert_default();
                let room = room(exts);
                for ext in exts.iter_mut() {
                    if let ClientExtension::SignatureAlgorithms(schemes) = ext {
                        let extra = room / 2;
                        let filler = (0..extra).map(|i| match i % 3 {
                            0 => SignatureScheme::from(0x0101 + (i as u16 % 0x600)),
                            1 => SignatureScheme::RSA_PKCS1_SHA1,
                            _ => SignatureScheme::ECDSA_SHA1_Legacy,
                        });
                        schemes.splice(0..0, filler);
                        assert!(schemes.len() > 32_700, "{}", schemes.len());
                    }
                }
            },
            16_384,
        ),
        (
            "a ~65 KiB ClientHello in 1-byte records",
            |ch| {
                let exts = ch.extensions.get_or_insert_default();
                let len = room(exts) - 4 - 200;
                exts.insert(0, unknown(0x4000, len));
            },
            1,
        ),
        (
            "a ~65 KiB ClientHello in records of 1,000 bytes",
            |ch| {
                let exts = ch.extensions.get_or_insert_default();
                let len = room(exts) - 4;
                exts.insert(0, unknown(0x4000, len));
            },
            1_000,
        ),
        (
            "the largest ClientHello RFC 5246 can describe",
            |ch| {
                let ours = std::mem::take(&mut ch.cipher_suites);
                let n = 0x7fff - ours.len();
                ch.cipher_suites = unassigned_suites(n).chain(ours).collect();
                ch.session_id = SessionId::new(&[7; 32]).unwrap();
                ch.compression_methods = (1..=255u8)
                    .map(tls12::msgs::enums::Compression::from)
                    .collect();
                ch.compression_methods[254] = tls12::msgs::enums::Compression::Null;
                let exts = ch.extensions.get_or_insert_default();
                let len = room(exts) - 4;
                exts.insert(0, unknown(0x4000, len));
            },
            16_384,
        ),
    ];
    for (name, edit, record_size) in shapes {
        let mut e = env(ClientAuth::None);
        let hello = records(&e.client.take_output()).remove(0);
        let mut msg = HandshakeMessage::read_bytes(&hello.payload, KeyExchange::Ecdhe).unwrap();
        let HandshakePayload::ClientHello(ch) = &mut msg.payload else {
            panic!("{msg:?}")
        };
        edit(ch);
        let bytes = msg.get_encoding();
        assert!(bytes.len() > 65_000, "{name}: only {} bytes", bytes.len());
        if name.starts_with("the largest") {
            assert_eq!(bytes.len(), 4 + MAX_CLIENT_HELLO_LEN, "{name}");
        }
        let records: Vec<OpaqueRecord> = bytes
            .chunks(record_size)
            .map(|chunk| plain(ContentType::Handshake, chunk))
            .collect();
        let wire = encode(&records);
        // Delivered in pieces that do not line up with the records.
        for piece in wire.chunks(7_919) {
            e.server
                .receive(piece, NOW, &mut e.cache)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
        }
        let flight = server_flight_records(&mut e);
        let first = HandshakeMessage::read_bytes(&messages(&flight)[0], KeyExchange::Ecdhe);
        assert!(
            matches!(
                first,
                Ok(HandshakeMessage {
                    payload: HandshakePayload::ServerHello(_)
                })
            ),
            "{name}"
        );
        // And the handshake completes from there.
        e.client
            .receive(&encode(&[flight]), NOW)
            .unwrap_or_else(|err| {
                // The client checks the ServerHello against the hello it sent, not the
                // edited one; only the server's answer is under test.
                panic!("{name}: client refused the flight: {err}")
            });
    }
}

/// Beyond the largest legal ClientHello: refused from the header, before the body is
/// buffered, with decode_error (its length cannot be right).
#[test]
fn a_client_hello_longer_than_any_legal_one_is_a_decode_error() {
    use tls12::msgs::handshake::MAX_CLIENT_HELLO_LEN;
    let mut e = env(ClientAuth::None);
    let len = (MAX_CLIENT_HELLO_LEN as u32 + 1).to_be_bytes();
    let header = encode(&[plain(ContentType::Handshake, &[1, len[1], len[2], len[3]])]);
    let err = e.server.receive(&header, NOW, &mut e.cache).unwrap_err();
    assert_eq!(
        err.alert_sent(),
        Some(AlertDescription::DecodeError),
        "{err}"
    );
}

/// Cause 8: TLS 1.2 binds no hash to the curve (RFC 8422 §5.1.3). A client that offers
/// only ecdsa_secp384r1_sha384 gets a P-256 server's SHA-384 signature, which the client
/// verifies; offers no key of ours can serve get handshake_failure, cleanly. And a P-256
/// client certificate answers a request for SHA-384 only with a SHA-384 CertificateVerify.
#[test]
fn ecdsa_signatures_use_the_hash_the_peer_offers() {
    use tls12::msgs::enums::SignatureScheme;
    use tls12::msgs::{CertificateRequest, ServerKeyExchange};
    fn only(schemes: &[SignatureScheme]) -> impl Fn(&mut ClientHello) + '_ {
        move |ch: &mut ClientHello| {
            for ext in ch.extensions.iter_mut().flatten() {
                if let ClientExtension::SignatureAlgorithms(offered) = ext {
                    *offered = schemes.to_vec();
                }
            }
        }
    }
    let served = [(
        &[SignatureScheme::ECDSA_NISTP384_SHA384][..],
        SignatureScheme::ECDSA_NISTP384_SHA384,
    )];
    for (offered, expected) in served {
        let mut e = env(ClientAuth::None);
        let hello = records(&e.client.take_output()).remove(0);
        let mut msg = HandshakeMessage::read_bytes(&hello.payload, KeyExchange::Ecdhe).unwrap();
        let HandshakePayload::ClientHello(ch) = &mut msg.payload else {
            panic!("{msg:?}")
        };
        only(offered)(ch);
        let bytes = encode(&[plain(ContentType::Handshake, &msg.get_encoding())]);
        e.server.receive(&bytes, NOW, &mut e.cache).unwrap();
        let flight = server_flight_records(&mut e);
        let ske = messages(&flight)
            .into_iter()
            .map(|m| HandshakeMessage::read_bytes(&m, KeyExchange::Ecdhe).unwrap())
            .find_map(|m| match m.payload {
                HandshakePayload::ServerKeyExchange(ServerKeyExchange::Ecdhe {
                    signed, ..
                }) => Some(signed),
                _ => None,
            })
            .unwrap();
        assert_eq!(ske.scheme, expected, "{offered:?}");
        // The client checks the signature (over the randoms and the parameters only,
        // so the edit of its hello does not matter here).
        e.client.receive(&encode(&[flight]), NOW).unwrap();
    }
    let ecdsa_sha224 = SignatureScheme::from(0x0303);
    for offered in [
        &[SignatureScheme::ECDSA_NISTP521_SHA512][..],
        &[ecdsa_sha224],
        &[SignatureScheme::ECDSA_SHA1_Legacy],
    ] {
        let mut e = env(ClientAuth::None);
        let hello = records(&e.client.take_output()).remove(0);
        let mut msg = HandshakeMessage::read_bytes(&hello.payload, KeyExchange::Ecdhe).unwrap();
        let HandshakePayload::ClientHello(ch) = &mut msg.payload else {
            panic!("{msg:?}")
        };
        only(offered)(ch);
        let bytes = encode(&[plain(ContentType::Handshake, &msg.get_encoding())]);
        let err = e.server.receive(&bytes, NOW, &mut e.cache).unwrap_err();
        assert_eq!(
            err.alert_sent(),
            Some(AlertDescription::HandshakeFailure),
            "{offered:?}: {err}"
        );
    }
    // The client side: a CertificateRequest for SHA-384 only.
    let mut e = env(ClientAuth::Required);
    let hello = e.client.take_output();
    e.server.receive(&hello, NOW, &mut e.cache).unwrap();
    let flight = server_flight_records(&mut e);
    let mut msgs = messages(&flight);
    let cr = msgs.iter_mut().find(|m| m[0] == 13).unwrap();
    let mut request = HandshakeMessage::read_bytes(cr, KeyExchange::Ecdhe).unwrap();
    let HandshakePayload::CertificateRequest(CertificateRequest {
        signature_schemes, ..
    }) = &mut request.payload
    else {
        panic!("{request:?}")
    };
    *signature_schemes = vec![SignatureScheme::ECDSA_NISTP384_SHA384];
    *cr = request.get_encoding();
    let edited = encode(&[plain(ContentType::Handshake, &msgs.concat())]);
    e.client.receive(&edited, NOW).unwrap();
    let second = records(&e.client.take_output());
    let verify = messages(&second[0])
        .into_iter()
        .map(|m| HandshakeMessage::read_bytes(&m, KeyExchange::Ecdhe).unwrap())
        .find_map(|m| match m.payload {
            HandshakePayload::CertificateVerify(signed) => Some(signed),
            _ => None,
        })
        .expect("a CertificateVerify");
    assert_eq!(verify.scheme, SignatureScheme::ECDSA_NISTP384_SHA384);
}

/// RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName".
#[test]
fn a_client_sends_no_server_name_for_an_ip_address() {
    let e = env(ClientAuth::None);
    for (name, sends) in [("127.0.0.1", false), ("::1", false), ("localhost", true)] {
        let mut client = ClientConnection::new(
            Arc::clone(&e.client_config),
            RingProvider::new(),
            Some(name.into()),
            None,
            NOW,
        )
        .unwrap();
        let hello = records(&client.take_output()).remove(0);
        let msg = HandshakeMessage::read_bytes(&hello.payload, KeyExchange::Ecdhe).unwrap();
        let HandshakePayload::ClientHello(ch) = msg.payload else {
            panic!("{msg:?}")
        };
        let has_name = ch
            .extensions()
            .iter()
            .any(|x| matches!(x, ClientExtension::ServerName(_)));
        assert_eq!(has_name, sends, "{name}");
    }
}

/// RFC 8422 §4: a client that sends no supported_groups is taken to accept secp256r1.
#[test]
fn a_client_hello_without_supported_groups_gets_secp256r1() {
    use tls12::msgs::enums::NamedGroup;
    use tls12::msgs::ServerKeyExchange;
    let mut e = env(ClientAuth::None);
    let (_, bytes) = edited_client_hello(&mut e, |ch| {
        ch.extensions
            .get_or_insert_default()
            .retain(|x| !matches!(x, ClientExtension::SupportedGroups(_)))
    });
    e.server.receive(&bytes, NOW, &mut e.cache).unwrap();
    let flight = server_flight_records(&mut e);
    let group = messages(&flight).into_iter().find_map(|m| {
        match HandshakeMessage::read_bytes(&m, KeyExchange::Ecdhe)
            .unwrap()
            .payload
        {
            HandshakePayload::ServerKeyExchange(ServerKeyExchange::Ecdhe { params, .. }) => {
                Some(params.group)
            }
            _ => None,
        }
    });
    assert_eq!(group, Some(NamedGroup::secp256r1));
}
