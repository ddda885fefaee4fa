//! A table of misbehaving peers (in the manner of BoGo): each case takes a real flight
//! from our own client or server, breaks one rule, feeds it to the other side, and names
//! the alert that side must answer with. After the alert the victim accepts nothing.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::sync::Arc;

use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::crypto::UnixTime;
use tls12::handshake::client::{ClientConfig, ClientIdentity};
use tls12::handshake::server::ServerConfig;
use tls12::handshake::{ClientAuth, Phase};
use tls12::msgs::enums::{AlertDescription, ContentType, HandshakeType, ProtocolVersion};
use tls12::msgs::{
    ClientExtension, ClientHello, HandshakeMessage, HandshakePayload, KeyExchange, ServerExtension,
    ServerHello, ServerName,
};
use tls12::pki::{KeyKind, TestPki};
use tls12::record::{Deframer, OpaqueRecord};
use tls12::session::InMemoryCache;
use tls12::{ClientConnection, ServerConnection};

const NOW: UnixTime = UnixTime(1_800_000_000);

/// A client and a server mid-handshake, with what each has sent so far.
struct Env {
    client: ClientConnection<RingProvider>,
    server: ServerConnection<RingProvider>,
    cache: InMemoryCache,
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
    Env {
        client: ClientConnection::new(
            Arc::new(client),
            RingProvider::new(),
            Some("localhost".into()),
            None,
            NOW,
        )
        .unwrap(),
        server: ServerConnection::new(Arc::new(server), RingProvider::new()),
        cache: InMemoryCache::new(4, 3600),
    }
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
        assert_eq!(
            e.cache.len(),
            0,
            "{}: nothing cached after a fatal alert",
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
