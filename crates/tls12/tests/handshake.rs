//! In-memory handshakes between our client and our server with real crypto (ring): every
//! suite, resumption and its refusals, client authentication, and the fatal paths.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::sync::Arc;

use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::crypto::UnixTime;
use tls12::handshake::client::{ClientConfig, ClientIdentity};
use tls12::handshake::server::ServerConfig;
use tls12::handshake::{ClientAuth, Event, Phase};
use tls12::msgs::enums::{AlertDescription, CipherSuite, NamedGroup};
use tls12::pki::{KeyKind, TestPki};
use tls12::session::{InMemoryCache, Session};
use tls12::suites::{Suite, ALL_SUITES};
use tls12::{ClientConnection, Error, ServerConnection};

const NOW: UnixTime = UnixTime(1_800_000_000);

type Client = ClientConnection<RingProvider>;
type Server = ServerConnection<RingProvider>;

struct Setup {
    pki: TestPki,
    server: ServerConfig<RingProvider>,
    client: ClientConfig<RingProvider>,
}

fn setup(kind: KeyKind) -> Setup {
    let pki = TestPki::generate(kind, &["localhost"]).unwrap();
    let key = RingSigningKey::from_der(&pki.server.private_key()).unwrap();
    let server = ServerConfig::new(pki.server.chain.clone(), key);
    let roots = RingRoots::from_der_certs(std::slice::from_ref(&pki.ca)).unwrap();
    let client = ClientConfig::new(roots);
    Setup {
        pki,
        server,
        client,
    }
}

fn client_with(config: &ClientConfig<RingProvider>, session: Option<Session>) -> Client {
    ClientConnection::new(
        Arc::new(config.clone()),
        RingProvider::new(),
        Some("localhost".into()),
        session,
        NOW,
    )
    .unwrap()
}

/// Moves bytes both ways until neither side has anything to say; returns the first error
/// of each side.
fn pump(
    client: &mut Client,
    server: &mut Server,
    cache: &mut InMemoryCache,
) -> (Option<Error>, Option<Error>) {
    let (mut client_err, mut server_err) = (None, None);
    for _ in 0..20 {
        let to_server = client.take_output();
        let to_client = server.take_output();
        if to_server.is_empty() && to_client.is_empty() {
            break;
        }
        if !to_server.is_empty() {
            if let Err(e) = server.receive(&to_server, NOW, cache) {
                server_err.get_or_insert(e);
            }
        }
        if !to_client.is_empty() {
            if let Err(e) = client.receive(&to_client, NOW) {
                client_err.get_or_insert(e);
            }
        }
    }
    (client_err, server_err)
}

fn new_session(client: &mut Client) -> Option<Session> {
    std::iter::from_fn(|| client.next_event()).find_map(|e| match e {
        Event::NewSession(s) => Some(*s),
        _ => None,
    })
}

fn connect(setup: &Setup, cache: &mut InMemoryCache, session: Option<Session>) -> (Client, Server) {
    let mut client = client_with(&setup.client, session);
    let mut server = ServerConnection::new(Arc::new(setup.server.clone()), RingProvider::new());
    let (client_err, server_err) = pump(&mut client, &mut server, cache);
    assert_eq!((client_err, server_err), (None, None));
    assert_eq!(client.phase(), Phase::AppData);
    assert_eq!(server.phase(), Phase::AppData);
    (client, server)
}

fn assert_agree(client: &Client, server: &Server) {
    let (c, s) = (client.summary().unwrap(), server.summary().unwrap());
    assert_eq!(c.suite, s.suite);
    assert_eq!(c.session_id, s.session_id);
    assert_eq!(c.master_secret, s.master_secret);
    assert_eq!(c.extended_master_secret, s.extended_master_secret);
    assert_eq!(c.resumed, s.resumed);
    assert_eq!(c.client_certificate, s.client_certificate);
}

/// The flight trace among a connection's pending events (`next_event` of either end).
fn flights(next_event: impl FnMut() -> Option<Event>) -> Vec<String> {
    std::iter::from_fn(next_event)
        .filter_map(|e| match e {
            Event::Flight(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn exchange_data(client: &mut Client, server: &mut Server, cache: &mut InMemoryCache) {
    let big = vec![0x5a; 40_000];
    client.send(b"ping").unwrap();
    server.send(&big).unwrap();
    assert_eq!(pump(client, server, cache), (None, None));
    assert_eq!(server.take_received(), b"ping");
    assert_eq!(client.take_received(), big);
}

#[test]
fn every_suite_completes_and_carries_data_both_ways() {
    for (kind, suites) in [
        (KeyKind::EcdsaP256, &ALL_SUITES[..3]),
        (KeyKind::Rsa2048, &ALL_SUITES[3..]),
    ] {
        let mut base = setup(kind);
        for suite in suites {
            for group in [
                NamedGroup::X25519,
                NamedGroup::secp256r1,
                NamedGroup::secp384r1,
            ] {
                base.client.suites = vec![*suite];
                // RFC 8422 §5.1.1: the client must also list the certificate's curve.
                base.client.groups = vec![group, NamedGroup::secp256r1];
                base.server.groups = vec![group];
                let mut cache = InMemoryCache::new(10, 3600);
                let (mut client, mut server) = connect(&base, &mut cache, None);
                assert_agree(&client, &server);
                let summary = client.summary().unwrap();
                assert_eq!((summary.suite, summary.group), (suite.suite, Some(group)));
                assert!(summary.extended_master_secret);
                assert!(!summary.resumed);
                exchange_data(&mut client, &mut server, &mut cache);
            }
        }
    }
}

#[test]
fn application_data_is_read_in_place_and_output_is_lent() {
    // AES-GCM (an explicit nonce in front of each record's plaintext) and ChaCha20 (none).
    for suite in &ALL_SUITES[..3] {
        let mut base = setup(KeyKind::EcdsaP256);
        base.client.suites = vec![*suite];
        let mut cache = InMemoryCache::new(10, 3600);
        let (mut client, mut server) = connect(&base, &mut cache, None);
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        server.send(&data).unwrap();
        server.send(b"").unwrap();
        server.send(b"tail").unwrap();
        // The wire in pieces that cut records anywhere, each consumed as it is written.
        let mut got = Vec::new();
        let mut piece = 1;
        while !server.output().is_empty() {
            let n = piece.min(server.output().len());
            client.receive(&server.output()[..n], NOW).unwrap();
            server.consume_output(n);
            piece = piece * 3 + 1;
            // Read by slice, a little of it, then through a small buffer.
            let chunk = client.received();
            let take = chunk.len().min(1000);
            got.extend_from_slice(&chunk[..take]);
            client.consume_received(take);
            let mut buf = [0u8; 777];
            let n = client.read_received(&mut buf);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(client.received_len(), data.len() + 4 - got.len());
        got.extend(client.take_received());
        assert_eq!(got.len(), data.len() + 4);
        assert_eq!(&got[..data.len()], data, "{:?}", suite.suite);
        assert_eq!(&got[data.len()..], b"tail");
        assert!(client.received().is_empty());
        assert_eq!(client.read_received(&mut [0; 8]), 0);
        // Nothing is lost when the reader waits: two writes, then one read of both.
        server.send(b"one").unwrap();
        server.send(b"two").unwrap();
        let wire = server.take_output();
        client.receive(&wire, NOW).unwrap();
        assert_eq!(client.received(), b"one");
        assert_eq!(client.received_len(), 6);
        assert_eq!(client.take_received(), b"onetwo");
    }
}

#[test]
fn a_stored_session_resumes_with_the_same_master_secret() {
    let setup = setup(KeyKind::EcdsaP256);
    let mut cache = InMemoryCache::new(10, 3600);
    let (mut first, first_server) = connect(&setup, &mut cache, None);
    let session = new_session(&mut first).expect("the server gave the session an ID");
    assert_eq!(cache.len(), 1);
    let (mut second, mut server) = connect(&setup, &mut cache, Some(session.clone()));
    assert_agree(&second, &server);
    let summary = second.summary().unwrap();
    assert!(summary.resumed);
    assert_eq!(summary.session_id, session.id);
    assert_eq!(
        summary.master_secret,
        first_server.summary().unwrap().master_secret
    );
    exchange_data(&mut second, &mut server, &mut cache);
    // The flights of an abbreviated handshake, from the client's side.
    assert_eq!(
        flights(|| second.next_event()),
        [
            "-> ClientHello",
            "<- ServerHello, ChangeCipherSpec, Finished",
            "-> ChangeCipherSpec, Finished"
        ]
    );
}

#[test]
fn a_session_not_resumable_falls_back_to_a_full_handshake_with_a_new_id() {
    let base = setup(KeyKind::EcdsaP256);
    type Change = Box<dyn Fn(&mut Setup, &mut InMemoryCache)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "evicted",
            Box::new(|s, cache| {
                // A cache of one: another client's session pushes ours out.
                *cache = InMemoryCache::new(1, 3600);
                let mut other = client_with(&s.client, None);
                let mut server =
                    ServerConnection::new(Arc::new(s.server.clone()), RingProvider::new());
                assert_eq!(pump(&mut other, &mut server, cache), (None, None));
            }),
        ),
        (
            "server unwilling",
            Box::new(|s, _| {
                s.server.willing_to_resume = Some(tls12::handshake::server::Hook(|_| false))
            }),
        ),
        (
            "resumption off",
            Box::new(|s, _| s.server.resumption = false),
        ),
        (
            "suite no longer offered by the server",
            Box::new(|s, _| s.server.suites = vec![ALL_SUITES[1]]),
        ),
        (
            "client requires a certificate now",
            Box::new(|s, _| s.server.client_auth = ClientAuth::Required),
        ),
    ];
    for (name, change) in cases {
        let mut s = Setup {
            pki: base.pki.clone(),
            server: base.server.clone(),
            client: base.client.clone(),
        };
        s.client.identity = Some(ClientIdentity {
            chain: s.pki.client.chain.clone(),
            key: RingSigningKey::from_der(&s.pki.client.private_key()).unwrap(),
        });
        s.server.client_roots =
            Some(RingRoots::from_der_certs(std::slice::from_ref(&s.pki.ca)).unwrap());
        let mut cache = InMemoryCache::new(1, 3600);
        let (mut first, _) = connect(&s, &mut cache, None);
        let session = new_session(&mut first).unwrap();
        change(&mut s, &mut cache);
        let (second, server) = connect(&s, &mut cache, Some(session.clone()));
        let summary = second.summary().unwrap();
        assert!(!summary.resumed, "{name}");
        assert_ne!(summary.session_id, session.id, "{name}");
        assert_agree(&second, &server);
    }
}

/// Cause 7 of the conformance issue: by default the client's order of suites and groups
/// decides, as in OpenSSL and rustls; `prefer_server_order` makes ours decide.
#[test]
fn suite_and_group_follow_the_clients_order_unless_the_server_prefers_its_own() {
    let mut s = setup(KeyKind::EcdsaP256);
    s.client.suites = vec![ALL_SUITES[2], ALL_SUITES[0], ALL_SUITES[1]];
    s.client.groups = vec![NamedGroup::secp384r1, NamedGroup::secp256r1];
    s.server.suites = vec![ALL_SUITES[1], ALL_SUITES[0], ALL_SUITES[2]];
    s.server.groups = vec![NamedGroup::secp256r1, NamedGroup::secp384r1];
    for (prefer_server_order, suite, group) in [
        (false, ALL_SUITES[2], NamedGroup::secp384r1),
        (true, ALL_SUITES[1], NamedGroup::secp256r1),
    ] {
        s.server.prefer_server_order = prefer_server_order;
        let mut cache = InMemoryCache::new(4, 3600);
        let (client, server) = connect(&s, &mut cache, None);
        assert_agree(&client, &server);
        let summary = server.summary().unwrap();
        assert_eq!(
            (summary.suite, summary.group),
            (suite.suite, Some(group)),
            "prefer_server_order = {prefer_server_order}"
        );
    }
}

/// RFC 7301: the server picks the first of its protocols that the client offers, in full
/// and resumed handshakes alike; with none in common it answers no_application_protocol;
/// either side without protocols leaves ALPN out.
#[test]
fn alpn_picks_by_the_servers_order_or_refuses() {
    let mut s = setup(KeyKind::EcdsaP256);
    let p = |names: &[&str]| {
        names
            .iter()
            .map(|n| n.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };
    let cases: [(&[&str], &[&str], Option<&str>); 4] = [
        (&["http/1.1", "h2"], &["h2", "http/1.1"], Some("h2")),
        (&["h2"], &[], None),
        (&[], &["h2"], None),
        (
            &["http/1.1", "spdy/3"],
            &["h2", "http/1.1"],
            Some("http/1.1"),
        ),
    ];
    for (client, server, agreed) in cases {
        s.client.alpn = p(client);
        s.server.alpn = p(server);
        let mut cache = InMemoryCache::new(4, 3600);
        let (mut first, server_end) = connect(&s, &mut cache, None);
        let expected = agreed.map(|a| a.as_bytes().to_vec());
        assert_eq!(
            first.summary().unwrap().alpn,
            expected,
            "{client:?} {server:?}"
        );
        assert_eq!(server_end.summary().unwrap().alpn, expected);
        let session = new_session(&mut first).unwrap();
        let (resumed, _) = connect(&s, &mut cache, Some(session));
        assert!(resumed.summary().unwrap().resumed);
        assert_eq!(resumed.summary().unwrap().alpn, expected, "resumed");
    }
    s.client.alpn = p(&["h2"]);
    s.server.alpn = p(&["http/1.1"]);
    let mut cache = InMemoryCache::new(4, 3600);
    let mut c = client_with(&s.client, None);
    let mut srv = ServerConnection::new(Arc::new(s.server.clone()), RingProvider::new());
    let (client_err, server_err) = pump(&mut c, &mut srv, &mut cache);
    assert_eq!(
        server_err.unwrap().alert_sent(),
        Some(AlertDescription::NoApplicationProtocol)
    );
    assert_eq!(
        client_err,
        Some(Error::PeerAlert(AlertDescription::NoApplicationProtocol))
    );
}

/// RFC 7301 §3.1: "Empty strings MUST NOT be included", and a name is at most 255
/// bytes: names a client cannot send are left out of its offer.
#[test]
fn alpn_names_that_cannot_be_sent_are_left_out() {
    use tls12::msgs::{ClientExtension, HandshakeMessage, HandshakePayload, KeyExchange};
    let mut s = setup(KeyKind::EcdsaP256);
    s.client.alpn = vec![Vec::new(), b"h2".to_vec(), vec![b'x'; 256]];
    let mut client = client_with(&s.client, None);
    let out = client.take_output();
    let msg = HandshakeMessage::read_bytes(&out[5..], KeyExchange::Ecdhe).unwrap();
    let HandshakePayload::ClientHello(ch) = msg.payload else {
        panic!("{msg:?}")
    };
    let offered: Vec<Vec<u8>> = ch
        .extensions()
        .iter()
        .find_map(|e| match e {
            ClientExtension::Alpn(names) => Some(names.iter().map(|n| n.0.clone()).collect()),
            _ => None,
        })
        .unwrap();
    assert_eq!(offered, [b"h2".to_vec()]);
}

#[test]
fn an_expired_session_is_not_resumed() {
    let s = setup(KeyKind::EcdsaP256);
    let mut cache = InMemoryCache::new(4, 10);
    let (mut first, _) = connect(&s, &mut cache, None);
    let session = new_session(&mut first).unwrap();
    let mut client = ClientConnection::new(
        Arc::new(s.client.clone()),
        RingProvider::new(),
        Some("localhost".into()),
        Some(session),
        UnixTime(NOW.0 + 11),
    )
    .unwrap();
    let mut server = ServerConnection::new(Arc::new(s.server.clone()), RingProvider::new());
    let hello = client.take_output();
    server
        .receive(&hello, UnixTime(NOW.0 + 11), &mut cache)
        .unwrap();
    assert_eq!(server.state_name(), "server expect_client_key_exchange");
}

#[test]
fn client_authentication_policies() {
    let base = setup(KeyKind::EcdsaP256);
    let identity = ClientIdentity {
        chain: base.pki.client.chain.clone(),
        key: RingSigningKey::from_der(&base.pki.client.private_key()).unwrap(),
    };
    let roots = RingRoots::from_der_certs(std::slice::from_ref(&base.pki.ca)).unwrap();
    for (policy, with_cert, expected_alert) in [
        (ClientAuth::Optional, true, None),
        (ClientAuth::Optional, false, None),
        (ClientAuth::Required, true, None),
        (
            ClientAuth::Required,
            false,
            Some(AlertDescription::HandshakeFailure),
        ),
    ] {
        let mut s = Setup {
            pki: base.pki.clone(),
            server: base.server.clone(),
            client: base.client.clone(),
        };
        s.server.client_auth = policy;
        s.server.client_roots = Some(roots.clone());
        s.client.identity = with_cert.then(|| identity.clone());
        let mut cache = InMemoryCache::new(4, 3600);
        let mut client = client_with(&s.client, None);
        let mut server = ServerConnection::new(Arc::new(s.server.clone()), RingProvider::new());
        let (client_err, server_err) = pump(&mut client, &mut server, &mut cache);
        match expected_alert {
            None => {
                assert_eq!(
                    (client_err, server_err),
                    (None, None),
                    "{policy:?} {with_cert}"
                );
                assert_agree(&client, &server);
                assert_eq!(
                    server.summary().unwrap().client_certificate.is_some(),
                    with_cert
                );
            }
            Some(alert) => {
                assert_eq!(server_err.unwrap().alert_sent(), Some(alert));
                assert_eq!(client_err, Some(Error::PeerAlert(alert)));
                assert_eq!(cache.len(), 0, "no session is cached after a fatal alert");
            }
        }
    }
}

#[test]
fn a_client_certificate_from_another_ca_is_unknown_ca() {
    let mut s = setup(KeyKind::EcdsaP256);
    let stranger = TestPki::generate(KeyKind::EcdsaP256, &["localhost"]).unwrap();
    s.server.client_auth = ClientAuth::Required;
    s.server.client_roots =
        Some(RingRoots::from_der_certs(std::slice::from_ref(&s.pki.ca)).unwrap());
    s.client.identity = Some(ClientIdentity {
        chain: stranger.client.chain.clone(),
        key: RingSigningKey::from_der(&stranger.client.private_key()).unwrap(),
    });
    let mut cache = InMemoryCache::new(4, 3600);
    let mut client = client_with(&s.client, None);
    let mut server = ServerConnection::new(Arc::new(s.server.clone()), RingProvider::new());
    let (_, server_err) = pump(&mut client, &mut server, &mut cache);
    assert_eq!(
        server_err.unwrap().alert_sent(),
        Some(AlertDescription::UnknownCa)
    );
}

#[test]
fn the_server_certificate_must_match_the_name_and_the_roots() {
    let s = setup(KeyKind::EcdsaP256);
    let mut cache = InMemoryCache::new(4, 3600);
    let mut client = ClientConnection::new(
        Arc::new(s.client.clone()),
        RingProvider::new(),
        Some("example.com".into()),
        None,
        NOW,
    )
    .unwrap();
    let mut server = ServerConnection::new(Arc::new(s.server.clone()), RingProvider::new());
    let (client_err, _) = pump(&mut client, &mut server, &mut cache);
    assert_eq!(
        client_err.unwrap().alert_sent(),
        Some(AlertDescription::BadCertificate)
    );

    let other = setup(KeyKind::EcdsaP256);
    let mut client = client_with(&other.client, None);
    let mut server = ServerConnection::new(Arc::new(s.server.clone()), RingProvider::new());
    let (client_err, server_err) = pump(&mut client, &mut server, &mut cache);
    assert_eq!(
        client_err.unwrap().alert_sent(),
        Some(AlertDescription::UnknownCa)
    );
    assert_eq!(
        server_err,
        Some(Error::PeerAlert(AlertDescription::UnknownCa))
    );
}

#[test]
fn refusals_name_the_right_alert() {
    let s = setup(KeyKind::EcdsaP256);
    let mut no_common_suite = s.client.clone();
    no_common_suite.suites = ALL_SUITES[3..].to_vec(); // RSA suites against an ECDSA key
    let mut no_common_group = s.client.clone();
    no_common_group.groups = vec![NamedGroup::secp384r1];
    let mut picky_server = s.server.clone();
    picky_server.groups = vec![NamedGroup::X25519];
    let mut hook_server = s.server.clone();
    hook_server.accept = Some(tls12::handshake::server::Hook(|_| false));
    // The client accepts the certificate's curve, but the server is configured for
    // X25519 alone: a group ring supports is still not ours to use.
    let mut nist_client = s.client.clone();
    nist_client.groups = vec![NamedGroup::secp384r1, NamedGroup::secp256r1];
    for (name, client, server) in [
        ("no common suite", no_common_suite, s.server.clone()),
        ("no common group", no_common_group, picky_server.clone()),
        (
            "only groups the server is not configured for",
            nist_client,
            picky_server,
        ),
        ("acceptance hook", s.client.clone(), hook_server),
    ] {
        let mut cache = InMemoryCache::new(4, 3600);
        let mut c = client_with(&client, None);
        let mut srv = ServerConnection::new(Arc::new(server), RingProvider::new());
        let (client_err, server_err) = pump(&mut c, &mut srv, &mut cache);
        assert_eq!(
            server_err.unwrap().alert_sent(),
            Some(AlertDescription::HandshakeFailure),
            "{name}"
        );
        assert_eq!(
            client_err,
            Some(Error::PeerAlert(AlertDescription::HandshakeFailure)),
            "{name}"
        );
        assert_eq!(c.phase(), Phase::Closed);
        assert_eq!(srv.phase(), Phase::Closed);
    }
}

#[test]
fn errors_are_sticky_and_close_notify_closes() {
    let s = setup(KeyKind::EcdsaP256);
    let mut cache = InMemoryCache::new(4, 3600);
    let (mut client, mut server) = connect(&s, &mut cache, None);
    client.close();
    let bye = client.take_output();
    server.receive(&bye, NOW, &mut cache).unwrap();
    assert_eq!(server.phase(), Phase::Closed);
    assert!(std::iter::from_fn(|| server.next_event()).any(|e| e == Event::PeerClosed));
    assert_eq!(server.send(b"late"), Err(Error::Closed));
    assert!(client.send(b"late").is_err());
    // The closer still reads: the server's answering close_notify closes the client, and
    // what the handshake settled stays readable on both ends.
    assert_eq!(client.phase(), Phase::AppData);
    let answer = server.take_output();
    assert!(!answer.is_empty());
    client.receive(&answer, NOW).unwrap();
    assert_eq!(client.phase(), Phase::Closed);
    assert!(client.summary().is_some() && server.summary().is_some());

    let mut server = ServerConnection::new(Arc::new(s.server.clone()), RingProvider::new());
    let err = server
        .receive(b"GET / HTTP/1.0\r\n\r\n", NOW, &mut cache)
        .unwrap_err();
    assert_eq!(err.alert_sent(), Some(AlertDescription::UnexpectedMessage));
    assert_eq!(
        server.receive(&[22, 3, 3, 0, 4, 14, 0, 0, 0], NOW, &mut cache),
        Err(err)
    );
    // The fatal alert is queued for the peer.
    assert_eq!(server.take_output(), [21, 3, 3, 0, 2, 2, 10]);
}

#[test]
fn tampered_records_are_bad_record_mac_and_long_ones_record_overflow() {
    let s = setup(KeyKind::EcdsaP256);
    let mut cache = InMemoryCache::new(4, 3600);
    let (mut client, mut server) = connect(&s, &mut cache, None);
    client.send(b"hello").unwrap();
    let mut record = client.take_output();
    let last = record.len() - 1;
    record[last] ^= 1;
    let err = server.receive(&record, NOW, &mut cache).unwrap_err();
    assert_eq!(err.alert_sent(), Some(AlertDescription::BadRecordMac));

    let (_, mut server) = connect(&s, &mut cache, None);
    let mut long = vec![23, 3, 3, 0x48, 0x01];
    long.extend(std::iter::repeat_n(0, 0x4801));
    let err = server.receive(&long, NOW, &mut cache).unwrap_err();
    assert_eq!(err.alert_sent(), Some(AlertDescription::RecordOverflow));
}

#[test]
fn a_silent_server_times_the_client_out() {
    let s = setup(KeyKind::EcdsaP256);
    let mut client = client_with(&s.client, None);
    client.tick(UnixTime(NOW.0 + 1)).unwrap();
    let err = client
        .tick(UnixTime(NOW.0 + s.client.handshake_timeout))
        .unwrap_err();
    assert_eq!(err.alert_sent(), Some(AlertDescription::HandshakeFailure));
    assert_eq!(client.phase(), Phase::Closed);
}

#[test]
fn suites_are_named_consistently() {
    // The suite table and the code points agree (RFC 5289, RFC 7905).
    assert_eq!(
        Suite::lookup(CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
        Some(ALL_SUITES[5])
    );
    assert_eq!(
        Suite::lookup(CipherSuite::TLS_RSA_WITH_AES_128_GCM_SHA256),
        None
    );
}

fn psk_store(keys: &[(&str, &[u8])]) -> Arc<tls12::psk::InMemoryPskStore> {
    let mut store = tls12::psk::InMemoryPskStore::new();
    for (identity, key) in keys {
        store.insert(
            identity.as_bytes(),
            tls12::crypto::Secret::new(key.to_vec()),
        );
    }
    Arc::new(store)
}

fn client_psk(identity: &str, key: &[u8], hint: Option<&str>) -> tls12::psk::ClientPsk {
    tls12::psk::ClientPsk {
        identity: identity.as_bytes().to_vec(),
        key: tls12::crypto::Secret::new(key.to_vec()),
        hint: hint.map(|h| h.as_bytes().to_vec()),
    }
}

/// The handshake types of the server's first flight.
fn first_flight_types(server: &mut Server, hello: &[u8], cache: &mut InMemoryCache) -> Vec<u8> {
    server.receive(hello, NOW, cache).unwrap();
    let out = server.take_output();
    let mut deframer = tls12::record::Deframer::new();
    deframer.push(&out);
    let record = deframer.pop().unwrap().unwrap();
    let mut joiner = tls12::record::HandshakeJoiner::new();
    joiner.push(&record.payload).unwrap();
    std::iter::from_fn(|| joiner.pop()).map(|m| m[0]).collect()
}

/// RFC 4279 / RFC 5489: a server without a certificate. Every PSK suite completes, with
/// and without an identity hint; the server sends no Certificate and no
/// CertificateRequest (even when it would ask certificate clients for one), and
/// ServerKeyExchange only where the RFCs say (ECDHE_PSK always, PSK only with a hint).
#[test]
fn psk_suites_complete_without_a_certificate() {
    use tls12::suites::{KeyExchange, PSK_SUITES};
    let base = setup(KeyKind::EcdsaP256);
    let key = [0x5a; 32];
    for suite in PSK_SUITES {
        for hint in [None, Some("the north gate")] {
            let psk = tls12::psk::ServerPsk::new(
                psk_store(&[("client1", &key)]),
                hint.map(|h| h.as_bytes().to_vec()),
            );
            let mut server_config = ServerConfig::psk_only(psk);
            server_config.suites = vec![suite];
            server_config.client_auth = ClientAuth::Required;
            let mut client_config = base.client.clone();
            client_config.suites = vec![suite];
            client_config.psk = vec![
                client_psk("wrong", &[1; 32], Some("elsewhere")),
                client_psk("client1", &key, None),
            ];
            let mut cache = InMemoryCache::new(4, 3600);
            let mut client = client_with(&client_config, None);
            let mut server = ServerConnection::new(Arc::new(server_config), RingProvider::new());
            let hello = client.take_output();
            let types = first_flight_types(&mut server, &hello, &mut cache);
            let ske = suite.kx == KeyExchange::EcdhePsk || hint.is_some();
            let expected: Vec<u8> = match ske {
                true => vec![2, 12, 14],
                false => vec![2, 14],
            };
            assert_eq!(types, expected, "{:?} hint {hint:?}", suite.suite);
            // Replay the flight through a fresh pair to finish the handshake.
            let mut client = client_with(&client_config, None);
            let mut server = ServerConnection::new(
                Arc::new(server.config().as_ref().clone()),
                RingProvider::new(),
            );
            assert_eq!(pump(&mut client, &mut server, &mut cache), (None, None));
            assert_agree(&client, &server);
            let summary = client.summary().unwrap();
            assert_eq!(summary.suite, suite.suite);
            assert_eq!(summary.psk_identity.as_deref(), Some(&b"client1"[..]));
            assert_eq!(server.summary().unwrap().psk_identity, summary.psk_identity);
            assert_eq!(summary.server_certificate, None);
            exchange_data(&mut client, &mut server, &mut cache);
            // And the PSK session resumes, with its identity.
            let session = new_session(&mut client).unwrap();
            let mut again = client_with(&client_config, Some(session));
            let mut server2 = ServerConnection::new(
                Arc::new(server.config().as_ref().clone()),
                RingProvider::new(),
            );
            assert_eq!(pump(&mut again, &mut server2, &mut cache), (None, None));
            let resumed = again.summary().unwrap();
            assert!(resumed.resumed);
            assert_eq!(resumed.psk_identity.as_deref(), Some(&b"client1"[..]));
        }
    }
}

/// RFC 4279 §2: an identity the server does not know is unknown_psk_identity; a known
/// identity with the wrong key fails when the client's Finished does not open.
#[test]
fn an_unknown_psk_identity_or_a_wrong_key_fails() {
    let base = setup(KeyKind::EcdsaP256);
    let psk = tls12::psk::ServerPsk::new(psk_store(&[("client1", &[7; 16])]), None);
    let server_config = ServerConfig::psk_only(psk);
    for (identity, key, alert) in [
        ("stranger", [7u8; 16], AlertDescription::UnknownPskIdentity),
        ("client1", [8u8; 16], AlertDescription::BadRecordMac),
    ] {
        let client_config = base
            .client
            .clone()
            .with_psk(vec![client_psk(identity, &key, None)]);
        let mut cache = InMemoryCache::new(4, 3600);
        let mut client = client_with(&client_config, None);
        let mut server =
            ServerConnection::new(Arc::new(server_config.clone()), RingProvider::new());
        let (client_err, server_err) = pump(&mut client, &mut server, &mut cache);
        assert_eq!(server_err.unwrap().alert_sent(), Some(alert), "{identity}");
        assert_eq!(client_err, Some(Error::PeerAlert(alert)), "{identity}");
        assert_eq!(cache.len(), 0);
    }
}

/// A server with a certificate and PSKs serves both kinds of client: a certificate client
/// gets a certificate suite, a PSK-only client a PSK suite.
#[test]
fn certificate_and_psk_suites_coexist_on_one_server() {
    let base = setup(KeyKind::EcdsaP256);
    let psk =
        tls12::psk::ServerPsk::new(psk_store(&[("client1", &[3; 32])]), Some(b"hint".to_vec()));
    let server_config = base.server.clone().with_psk(psk);
    let mut psk_client = base
        .client
        .clone()
        .with_psk(vec![client_psk("client1", &[3; 32], None)]);
    psk_client.suites.retain(|s| s.uses_psk());
    for (client_config, expect_psk) in [(base.client.clone(), false), (psk_client, true)] {
        let mut cache = InMemoryCache::new(4, 3600);
        let mut client = client_with(&client_config, None);
        let mut server =
            ServerConnection::new(Arc::new(server_config.clone()), RingProvider::new());
        assert_eq!(pump(&mut client, &mut server, &mut cache), (None, None));
        let summary = client.summary().unwrap();
        assert_eq!(summary.psk_identity.is_some(), expect_psk);
        assert_eq!(summary.server_certificate.is_some(), !expect_psk);
        assert_agree(&client, &server);
    }
}

/// RFC 5077: a client that asks gets a ticket and no session ID (nothing is cached);
/// the ticket resumes; a forged or unknown ticket is a full handshake, never an error;
/// after one rotation the old ticket still resumes and is renewed, after two (or with
/// the previous key dropped) it no longer does.
#[test]
fn session_tickets_resume_rotate_and_fail_safe() {
    use tls12::session::TicketKeys;
    let mut s = setup(KeyKind::EcdsaP256);
    s.client.tickets = true;
    let fresh_cache = || InMemoryCache::new(8, 3600).with_tickets(TicketKeys::new(3600));
    let mut cache = fresh_cache();
    let (mut first, server) = connect(&s, &mut cache, None);
    assert!(first.summary().unwrap().session_id.is_empty());
    assert!(server.summary().unwrap().session_id.is_empty());
    let session = new_session(&mut first).unwrap();
    let ticket = session.ticket.clone().expect("a ticket");
    assert!(session.id.is_empty());
    assert_eq!(cache.len(), 0, "a ticketed session is not cached");

    // Resumes with the ticket; no renewal while the key is current.
    let (mut second, server) = connect(&s, &mut cache, Some(session.clone()));
    assert!(second.summary().unwrap().resumed);
    assert!(server.summary().unwrap().resumed);
    assert_eq!(
        second.summary().unwrap().master_secret,
        first.summary().unwrap().master_secret
    );
    assert!(new_session(&mut second).is_none());

    // A forged ticket, and a ticket from another server: full handshakes.
    let mut forged = session.clone();
    let mut bytes = ticket.clone();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    forged.ticket = Some(bytes);
    let (c, _) = connect(&s, &mut cache, Some(forged));
    assert!(!c.summary().unwrap().resumed);
    let (c, _) = connect(&s, &mut fresh_cache(), Some(session.clone()));
    assert!(!c.summary().unwrap().resumed);

    // One rotation: the previous key still opens, and the ticket is renewed.
    let mut provider = RingProvider::new();
    cache
        .ticket_keys_mut()
        .unwrap()
        .rotate(&mut provider, NOW)
        .unwrap();
    let (mut third, _) = connect(&s, &mut cache, Some(session.clone()));
    assert!(third.summary().unwrap().resumed);
    let renewed = new_session(&mut third).expect("a renewed ticket");
    assert_ne!(renewed.ticket, session.ticket);
    let (c, _) = connect(&s, &mut cache, Some(renewed.clone()));
    assert!(c.summary().unwrap().resumed, "the renewed ticket resumes");

    // Two rotations: the original ticket's key is gone.
    cache
        .ticket_keys_mut()
        .unwrap()
        .rotate(&mut provider, NOW)
        .unwrap();
    let (c, _) = connect(&s, &mut cache, Some(session.clone()));
    assert!(!c.summary().unwrap().resumed);

    // With the previous key dropped, one rotation is enough.
    let mut strict =
        InMemoryCache::new(8, 3600).with_tickets(TicketKeys::new(3600).keep_previous(false));
    let (mut c, _) = connect(&s, &mut strict, None);
    let session = new_session(&mut c).unwrap();
    strict
        .ticket_keys_mut()
        .unwrap()
        .rotate(&mut provider, NOW)
        .unwrap();
    let (c, _) = connect(&s, &mut strict, Some(session));
    assert!(!c.summary().unwrap().resumed);

    // An expired ticket: a full handshake.
    let mut old = s.server.clone();
    old.session_lifetime = 0;
    let t = Setup {
        pki: s.pki.clone(),
        server: old,
        client: s.client.clone(),
    };
    let mut cache = fresh_cache();
    let (mut c, _) = connect(&t, &mut cache, None);
    let session = new_session(&mut c).unwrap();
    let (c, _) = connect(&t, &mut cache, Some(session));
    assert!(!c.summary().unwrap().resumed);
}

/// A server that turned tickets off resumes none, even one its keys would open.
#[test]
fn a_server_with_tickets_off_ignores_tickets() {
    use tls12::session::TicketKeys;
    let mut s = setup(KeyKind::EcdsaP256);
    s.client.tickets = true;
    let mut cache = InMemoryCache::new(8, 3600).with_tickets(TicketKeys::new(3600));
    let (mut first, _) = connect(&s, &mut cache, None);
    let session = new_session(&mut first).unwrap();
    assert!(session.ticket.is_some());
    s.server.tickets = false;
    let (second, _) = connect(&s, &mut cache, Some(session));
    assert!(!second.summary().unwrap().resumed);
}

/// A server with resumption off issues no ticket either, even with ticket keys.
#[test]
fn resumption_off_means_no_ticket() {
    use tls12::session::TicketKeys;
    let mut s = setup(KeyKind::EcdsaP256);
    s.client.tickets = true;
    s.server.resumption = false;
    let mut cache = InMemoryCache::new(8, 3600).with_tickets(TicketKeys::new(3600));
    let (mut client, _) = connect(&s, &mut cache, None);
    assert!(new_session(&mut client).is_none());
    assert_eq!(cache.len(), 0);
}

/// Both resumption paths coexist: a client without tickets, or a server with tickets
/// off, resumes by session ID.
#[test]
fn session_ids_still_resume_beside_tickets() {
    use tls12::session::TicketKeys;
    let base = setup(KeyKind::EcdsaP256);
    for (client_tickets, server_tickets) in [(false, true), (true, false)] {
        let mut s = Setup {
            pki: base.pki.clone(),
            server: base.server.clone(),
            client: base.client.clone(),
        };
        s.client.tickets = client_tickets;
        s.server.tickets = server_tickets;
        let mut cache = InMemoryCache::new(8, 3600).with_tickets(TicketKeys::new(3600));
        let (mut first, _) = connect(&s, &mut cache, None);
        let session = new_session(&mut first).unwrap();
        assert!(session.ticket.is_none() && !session.id.is_empty());
        assert_eq!(cache.len(), 1);
        let (second, _) = connect(&s, &mut cache, Some(session));
        assert!(
            second.summary().unwrap().resumed,
            "{client_tickets} {server_tickets}"
        );
    }
}

#[test]
fn both_ends_trace_the_flights_of_a_full_handshake() {
    let setup = setup(KeyKind::EcdsaP256);
    let mut cache = InMemoryCache::new(10, 3600);
    let (mut client, mut server) = connect(&setup, &mut cache, None);
    assert_eq!(
        flights(|| client.next_event()),
        [
            "-> ClientHello",
            "<- ServerHello, Certificate, ServerKeyExchange, ServerHelloDone",
            "-> ClientKeyExchange, ChangeCipherSpec, Finished",
            "<- ChangeCipherSpec, Finished"
        ]
    );
    assert_eq!(
        flights(|| server.next_event()),
        [
            "<- ClientHello",
            "-> ServerHello, Certificate, ServerKeyExchange, ServerHelloDone",
            "<- ClientKeyExchange, ChangeCipherSpec, Finished",
            "-> ChangeCipherSpec, Finished"
        ]
    );
}

#[test]
fn application_data_before_the_handshake_ends_names_the_state_it_arrived_in() {
    let setup = setup(KeyKind::EcdsaP256);
    let mut cache = InMemoryCache::new(10, 3600);
    let mut client = client_with(&setup.client, None);
    let mut server = ServerConnection::new(Arc::new(setup.server.clone()), RingProvider::new());
    server
        .receive(&client.take_output(), NOW, &mut cache)
        .unwrap();
    let err = server
        .receive(&[23, 3, 3, 0, 1, 0x42], NOW, &mut cache)
        .unwrap_err();
    assert_eq!(err.alert_sent(), Some(AlertDescription::UnexpectedMessage));
    assert_eq!(
        err.to_string(),
        "server expect_client_key_exchange got unexpected \"ApplicationData\" (sent UnexpectedMessage)"
    );
    // The client's side of the same.
    let mut client = client_with(&setup.client, None);
    let _ = client.take_output();
    let err = client.receive(&[23, 3, 3, 0, 1, 0x42], NOW).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("client expect_server_hello got unexpected"),
        "{err}"
    );
}
