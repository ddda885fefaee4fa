//! Real bytes from OpenSSL 3.0 (`openssl s_client` and `openssl s_server -tls1_2`, captured
//! on loopback by `tests/data/capture.py`; each `.txt` beside a `.bin` lists its fields).
//! Each capture must decode to the fields OpenSSL sent and re-encode byte for byte.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use tls12::msgs::enums::{
    CipherSuite, ClientCertificateType, Compression, ContentType, ECPointFormat, ExtensionType,
    NamedGroup, ProtocolVersion, ServerNameType, SignatureScheme,
};
use tls12::msgs::{
    ClientExtension, ClientHello, HandshakeMessage, HandshakePayload, KeyExchange, ServerExtension,
    ServerHello,
};
use tls12::record::{Deframer, HandshakeJoiner, OpaqueRecord};

/// A capture split into its records and its handshake messages, each message decoded in
/// the context of the suite the ServerHello chose.
struct Capture {
    records: Vec<OpaqueRecord>,
    messages: Vec<HandshakeMessage>,
}

fn load(name: &str) -> Capture {
    let path = format!("{}/tests/data/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut deframer = Deframer::new();
    deframer.push(&bytes);
    let mut records = Vec::new();
    while let Some(record) = deframer.pop().unwrap() {
        records.push(record);
    }
    assert_eq!(
        deframer.buffered(),
        0,
        "{name}: bytes after the last record"
    );

    let mut reencoded = Vec::new();
    records
        .iter()
        .for_each(|record| record.encode(&mut reencoded));
    assert_eq!(
        reencoded, bytes,
        "{name}: records do not re-encode byte for byte"
    );

    let mut joiner = HandshakeJoiner::new();
    let mut kx = KeyExchange::Ecdhe;
    let mut messages = Vec::new();
    for record in &records {
        assert_eq!(record.typ, ContentType::Handshake);
        joiner.push(&record.payload).unwrap();
        while let Some(raw) = joiner.pop() {
            let msg = HandshakeMessage::read_bytes(&raw, kx).unwrap();
            assert_eq!(
                msg.get_encoding(),
                raw,
                "{name}: {:?} does not re-encode",
                msg.typ()
            );
            if let HandshakePayload::ServerHello(sh) = &msg.payload {
                kx = KeyExchange::of_suite(sh.cipher_suite).unwrap();
            }
            messages.push(msg);
        }
    }
    assert!(joiner.is_empty(), "{name}: ends inside a handshake message");
    Capture { records, messages }
}

fn client_hello(capture: &Capture) -> &ClientHello {
    match &capture.messages[..] {
        [HandshakeMessage {
            payload: HandshakePayload::ClientHello(ch),
        }] => ch,
        other => panic!("expected one ClientHello, got {other:?}"),
    }
}

fn ext_types(exts: &[ClientExtension]) -> Vec<u16> {
    use tls12::msgs::extensions::Extension;
    exts.iter().map(|ext| ext.ext_type().get()).collect()
}

fn signature_algorithms_of_openssl_3() -> Vec<SignatureScheme> {
    [
        0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804, 0x0805, 0x0806,
        0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602,
    ]
    .map(SignatureScheme::from)
    .to_vec()
}

#[test]
fn openssl_tls12_client_hello() {
    let capture = load("client_hello_tls12");
    assert_eq!(capture.records.len(), 1);
    assert_eq!(capture.records[0].version, ProtocolVersion::TLSv1_0);
    let ch = client_hello(&capture);
    assert_eq!(ch.client_version, ProtocolVersion::TLSv1_2);
    assert!(ch.session_id.is_empty());
    assert_eq!(ch.cipher_suites.len(), 28);
    assert_eq!(
        ch.cipher_suites[0],
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    );
    assert_eq!(
        ch.cipher_suites[4],
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    );
    assert_eq!(
        ch.cipher_suites[27],
        CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    );
    assert_eq!(ch.compression_methods, [Compression::Null]);
    assert_eq!(ext_types(ch.extensions()), [0, 11, 10, 35, 22, 23, 13]);

    let exts = ch.extensions();
    let ClientExtension::ServerName(names) = &exts[0] else {
        panic!("{:?}", exts[0])
    };
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].typ, ServerNameType::HostName);
    assert_eq!(names[0].name, b"example.com");
    let formats = [
        ECPointFormat::Uncompressed,
        ECPointFormat::ANSIX962CompressedPrime,
        ECPointFormat::ANSIX962CompressedChar2,
    ];
    assert_eq!(exts[1], ClientExtension::EcPointFormats(formats.to_vec()));
    let groups = [
        NamedGroup::X25519,
        NamedGroup::secp256r1,
        NamedGroup::X448,
        NamedGroup::secp521r1,
        NamedGroup::secp384r1,
    ];
    assert_eq!(exts[2], ClientExtension::SupportedGroups(groups.to_vec()));
    assert_eq!(exts[3], ClientExtension::SessionTicket(vec![]));
    let ClientExtension::Unknown(etm) = &exts[4] else {
        panic!("{:?}", exts[4])
    };
    assert_eq!(
        (etm.typ, etm.data.len()),
        (ExtensionType::EncryptThenMac, 0)
    );
    assert_eq!(exts[5], ClientExtension::ExtendedMasterSecret);
    assert_eq!(
        exts[6],
        ClientExtension::SignatureAlgorithms(signature_algorithms_of_openssl_3())
    );
}

#[test]
fn openssl_default_client_hello_keeps_tls13_extensions() {
    let capture = load("client_hello_default");
    let ch = client_hello(&capture);
    assert_eq!(ch.client_version, ProtocolVersion::TLSv1_2);
    // OpenSSL sends a 32-byte legacy session ID for TLS 1.3 middlebox compatibility.
    assert_eq!(ch.session_id.as_bytes().len(), 32);
    assert_eq!(ch.cipher_suites.len(), 31);
    assert_eq!(ch.cipher_suites[0], CipherSuite::TLS13_AES_256_GCM_SHA384);
    assert_eq!(
        ext_types(ch.extensions()),
        [0, 11, 10, 35, 22, 23, 13, 43, 45, 51]
    );
    let ClientExtension::SupportedGroups(groups) = &ch.extensions()[2] else {
        panic!()
    };
    assert_eq!(groups.len(), 10);
    assert_eq!(groups[5], NamedGroup::FFDHE2048);
    // ffdhe6144 and ffdhe8192 are not in our registry: they survive as unknown.
    assert_eq!(
        groups[8..],
        [NamedGroup::Unknown(0x0103), NamedGroup::Unknown(0x0104)]
    );
    for ext in &ch.extensions()[7..] {
        assert!(matches!(ext, ClientExtension::Unknown(_)), "{ext:?}");
    }
}

/// What both server flights send in ServerHello (OpenSSL 3.0 with a ticket-capable
/// client): renegotiation_info, ec_point_formats, session_ticket, extended_master_secret.
fn assert_openssl_server_hello(sh: &ServerHello, suite: CipherSuite) {
    assert_eq!(sh.server_version, ProtocolVersion::TLSv1_2);
    // Empty: OpenSSL will issue a ticket instead of caching by ID.
    assert!(sh.session_id.is_empty());
    assert_eq!(sh.cipher_suite, suite);
    assert_eq!(sh.compression_method, Compression::Null);
    let formats = [
        ECPointFormat::Uncompressed,
        ECPointFormat::ANSIX962CompressedPrime,
        ECPointFormat::ANSIX962CompressedChar2,
    ];
    assert_eq!(
        sh.extensions(),
        [
            ServerExtension::RenegotiationInfo(vec![]),
            ServerExtension::EcPointFormats(formats.to_vec()),
            ServerExtension::SessionTicketAck,
            ServerExtension::ExtendedMasterSecret,
        ]
    );
}

#[test]
fn openssl_server_flight_ecdhe_ecdsa() {
    let capture = load("server_flight_ecdsa");
    assert_eq!(capture.records.len(), 4);
    let [sh, cert, ske, done] = &capture.messages[..] else {
        panic!("{:?}", capture.messages)
    };
    let HandshakePayload::ServerHello(sh) = &sh.payload else {
        panic!("{sh:?}")
    };
    assert_openssl_server_hello(sh, CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    let HandshakePayload::Certificate(chain) = &cert.payload else {
        panic!("{cert:?}")
    };
    assert_eq!(chain.0.iter().map(|c| c.0.len()).collect::<Vec<_>>(), [389]);
    let HandshakePayload::ServerKeyExchange(tls12::msgs::ServerKeyExchange::Ecdhe {
        params,
        signed,
    }) = &ske.payload
    else {
        panic!("{ske:?}")
    };
    assert_eq!(
        (params.group, params.public.len()),
        (NamedGroup::X25519, 32)
    );
    assert_eq!(signed.scheme, SignatureScheme::ECDSA_NISTP256_SHA256);
    assert_eq!(signed.signature.len(), 72);
    assert_eq!(done.payload, HandshakePayload::ServerHelloDone);
}

#[test]
fn openssl_server_flight_ecdhe_rsa_with_certificate_request() {
    let capture = load("server_flight_rsa_client_auth");
    assert_eq!(capture.records.len(), 5);
    let [sh, cert, ske, req, done] = &capture.messages[..] else {
        panic!("{:?}", capture.messages)
    };
    let HandshakePayload::ServerHello(sh) = &sh.payload else {
        panic!("{sh:?}")
    };
    assert_openssl_server_hello(sh, CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384);
    let HandshakePayload::Certificate(chain) = &cert.payload else {
        panic!("{cert:?}")
    };
    assert_eq!(chain.0.iter().map(|c| c.0.len()).collect::<Vec<_>>(), [785]);
    let HandshakePayload::ServerKeyExchange(tls12::msgs::ServerKeyExchange::Ecdhe {
        params,
        signed,
    }) = &ske.payload
    else {
        panic!("{ske:?}")
    };
    assert_eq!(
        (params.group, params.public.len()),
        (NamedGroup::X25519, 32)
    );
    assert_eq!(
        (signed.scheme, signed.signature.len()),
        (SignatureScheme::RSA_PSS_SHA256, 256)
    );
    let HandshakePayload::CertificateRequest(req) = &req.payload else {
        panic!("{req:?}")
    };
    assert_eq!(
        req.certificate_types,
        [
            ClientCertificateType::RSASign,
            ClientCertificateType::DSSSign,
            ClientCertificateType::ECDSASign
        ]
    );
    assert_eq!(req.signature_schemes, signature_algorithms_of_openssl_3());
    assert_eq!(
        req.authorities
            .iter()
            .map(|dn| dn.0.len())
            .collect::<Vec<_>>(),
        [24]
    );
    assert_eq!(done.payload, HandshakePayload::ServerHelloDone);
}
