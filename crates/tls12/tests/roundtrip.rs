//! Property tests of the wire codec and the record layer.
//!
//! The generators below build only values the RFCs allow, so that "decodes back to itself"
//! is a fair demand of every one of them; the decoders are then held to being exact: no
//! strict prefix and no extra byte decodes, and whatever they do accept re-encodes to the
//! very bytes it came from. The record layer must hand back exactly what went in, however
//! the stream is chunked.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::collections::BTreeSet;
use std::fmt::Debug;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::{TestCaseResult, TestRunner};

use tls12::codec::{Codec, InvalidMessage, Reader};
use tls12::msgs::enums::{
    AlertDescription, AlertLevel, CipherSuite, ClientCertificateType, Compression, ContentType,
    ECPointFormat, ExtensionType, HandshakeType, NamedGroup, ProtocolVersion, ServerNameType,
    SignatureScheme,
};
use tls12::msgs::extensions::{encode_extensions, read_extensions, Extension};
use tls12::msgs::header::{MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN};
use tls12::msgs::{
    AlertMessage, CertificateChain, CertificateDer, CertificateRequest, ChangeCipherSpec,
    ClientExtension, ClientHello, ClientKeyExchange, DigitallySigned, DistinguishedName,
    EcdheParams, HandshakeMessage, HandshakePayload, KeyExchange, NewSessionTicket, ProtocolName,
    Random, RecordHeader, ServerExtension, ServerHello, ServerKeyExchange, ServerName, SessionId,
    UnknownExtension,
};
use tls12::record::{Deframer, HandshakeJoiner, OpaqueRecord};

// Small sizes keep a case cheap; the bounds that matter (floors, 32-byte session IDs) are
// reached anyway.
const MAX_ITEMS: usize = 8;
const MAX_BYTES: usize = 40;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Generators of valid values
// ---------------------------------------------------------------------------------------

fn bytes(min: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), min..MAX_BYTES)
}

/// A code point built from an arbitrary `u8`, or half the time a registered one: uniform
/// integers would almost never hit the few values the decoders treat specially.
fn code8<T: From<u8> + Clone + Debug + 'static>(known: &'static [T]) -> impl Strategy<Value = T> {
    prop_oneof![select(known), any::<u8>().prop_map(T::from)]
}

/// As [`code8`], for `u16` code points.
fn code16<T: From<u16> + Clone + Debug + 'static>(known: &'static [T]) -> impl Strategy<Value = T> {
    prop_oneof![select(known), any::<u16>().prop_map(T::from)]
}

fn kx() -> impl Strategy<Value = KeyExchange> {
    select(KeyExchange::ALL.to_vec())
}

fn random() -> impl Strategy<Value = Random> {
    any::<[u8; 32]>().prop_map(Random)
}

fn session_id() -> impl Strategy<Value = SessionId> {
    vec(any::<u8>(), 0..=SessionId::MAX_LEN)
        .prop_map(|id| SessionId::new(&id).expect("at most 32 bytes"))
}

fn server_name() -> impl Strategy<Value = ServerName> {
    // RFC 6066 §3 makes a host_name non-empty; the body of any other name type is opaque.
    (code8(ServerNameType::KNOWN), bytes(0))
        .prop_filter("a host_name is not empty", |(typ, name)| {
            *typ != ServerNameType::HostName || !name.is_empty()
        })
        .prop_map(|(typ, name)| ServerName { typ, name })
}

fn server_names() -> impl Strategy<Value = Vec<ServerName>> {
    // At most one name per name type (RFC 6066 §3); keeping the first of each leaves the
    // list non-empty.
    vec(server_name(), 1..4).prop_map(|mut names| {
        let mut seen = BTreeSet::new();
        names.retain(|name| seen.insert(name.typ));
        names
    })
}

fn protocol_name() -> impl Strategy<Value = ProtocolName> {
    bytes(1).prop_map(ProtocolName)
}

/// The extension types `ClientExtension` decodes into a variant of its own. Any other
/// type, registered (status_request, padding, ...) or not, decodes as `Unknown`, so
/// `Unknown` is generated with exactly those.
const CLIENT_TYPED: &[ExtensionType] = &[
    ExtensionType::ServerName,
    ExtensionType::SupportedGroups,
    ExtensionType::EcPointFormats,
    ExtensionType::SignatureAlgorithms,
    ExtensionType::ApplicationLayerProtocolNegotiation,
    ExtensionType::ExtendedMasterSecret,
    ExtensionType::SessionTicket,
    ExtensionType::RenegotiationInfo,
];

/// As [`CLIENT_TYPED`], for `ServerExtension` (a server's supported_groups is `Unknown`).
const SERVER_TYPED: &[ExtensionType] = &[
    ExtensionType::ServerName,
    ExtensionType::EcPointFormats,
    ExtensionType::ApplicationLayerProtocolNegotiation,
    ExtensionType::ExtendedMasterSecret,
    ExtensionType::SessionTicket,
    ExtensionType::RenegotiationInfo,
];

fn unknown_extension(typed: &'static [ExtensionType]) -> impl Strategy<Value = UnknownExtension> {
    let typ = code16(ExtensionType::KNOWN)
        .prop_filter("a type with a variant of its own", move |typ| {
            !typed.contains(typ)
        });
    (typ, bytes(0)).prop_map(|(typ, data)| UnknownExtension { typ, data })
}

fn client_extension() -> impl Strategy<Value = ClientExtension> {
    prop_oneof![
        server_names().prop_map(ClientExtension::ServerName),
        vec(code16(NamedGroup::KNOWN), 1..MAX_ITEMS).prop_map(ClientExtension::SupportedGroups),
        vec(code8(ECPointFormat::KNOWN), 1..MAX_ITEMS).prop_map(ClientExtension::EcPointFormats),
        vec(code16(SignatureScheme::KNOWN), 1..MAX_ITEMS)
            .prop_map(ClientExtension::SignatureAlgorithms),
        vec(protocol_name(), 1..MAX_ITEMS).prop_map(ClientExtension::Alpn),
        Just(ClientExtension::ExtendedMasterSecret),
        bytes(0).prop_map(ClientExtension::SessionTicket),
        bytes(0).prop_map(ClientExtension::RenegotiationInfo),
        unknown_extension(CLIENT_TYPED).prop_map(ClientExtension::Unknown),
    ]
}

fn server_extension() -> impl Strategy<Value = ServerExtension> {
    prop_oneof![
        Just(ServerExtension::ServerNameAck),
        vec(code8(ECPointFormat::KNOWN), 1..MAX_ITEMS).prop_map(ServerExtension::EcPointFormats),
        protocol_name().prop_map(ServerExtension::Alpn),
        Just(ServerExtension::ExtendedMasterSecret),
        Just(ServerExtension::SessionTicketAck),
        bytes(0).prop_map(ServerExtension::RenegotiationInfo),
        unknown_extension(SERVER_TYPED).prop_map(ServerExtension::Unknown),
    ]
}

/// A block names each type once (RFC 5246 §7.4.1.4): later duplicates are dropped.
fn distinct<E: Extension>(mut extensions: Vec<E>) -> Vec<E> {
    let mut seen = BTreeSet::new();
    extensions.retain(|ext| seen.insert(ext.ext_type()));
    extensions
}

fn client_extensions() -> impl Strategy<Value = Vec<ClientExtension>> {
    vec(client_extension(), 0..MAX_ITEMS).prop_map(distinct)
}

fn server_extensions() -> impl Strategy<Value = Vec<ServerExtension>> {
    vec(server_extension(), 0..MAX_ITEMS).prop_map(distinct)
}

fn client_hello(
    extensions: impl Strategy<Value = Option<Vec<ClientExtension>>>,
) -> impl Strategy<Value = ClientHello> {
    (
        code16(ProtocolVersion::KNOWN),
        random(),
        session_id(),
        vec(code16(CipherSuite::KNOWN), 1..MAX_ITEMS),
        vec(code8(Compression::KNOWN), 1..MAX_ITEMS),
        extensions,
    )
        .prop_map(
            |(
                client_version,
                random,
                session_id,
                cipher_suites,
                compression_methods,
                extensions,
            )| {
                ClientHello {
                    client_version,
                    random,
                    session_id,
                    cipher_suites,
                    compression_methods,
                    extensions,
                }
            },
        )
}

fn server_hello(
    extensions: impl Strategy<Value = Option<Vec<ServerExtension>>>,
) -> impl Strategy<Value = ServerHello> {
    (
        code16(ProtocolVersion::KNOWN),
        random(),
        session_id(),
        code16(CipherSuite::KNOWN),
        code8(Compression::KNOWN),
        extensions,
    )
        .prop_map(
            |(server_version, random, session_id, cipher_suite, compression_method, extensions)| {
                ServerHello {
                    server_version,
                    random,
                    session_id,
                    cipher_suite,
                    compression_method,
                    extensions,
                }
            },
        )
}

fn certificate_chain() -> impl Strategy<Value = CertificateChain> {
    vec(bytes(1).prop_map(CertificateDer), 0..MAX_ITEMS).prop_map(CertificateChain)
}

fn ecdhe_params() -> impl Strategy<Value = EcdheParams> {
    (code16(NamedGroup::KNOWN), bytes(1)).prop_map(|(group, public)| EcdheParams { group, public })
}

fn digitally_signed() -> impl Strategy<Value = DigitallySigned> {
    (code16(SignatureScheme::KNOWN), bytes(0))
        .prop_map(|(scheme, signature)| DigitallySigned { scheme, signature })
}

fn server_key_exchange() -> impl Strategy<Value = ServerKeyExchange> {
    prop_oneof![
        (ecdhe_params(), digitally_signed())
            .prop_map(|(params, signed)| ServerKeyExchange::Ecdhe { params, signed }),
        bytes(0).prop_map(|hint| ServerKeyExchange::Psk { hint }),
        (bytes(0), ecdhe_params())
            .prop_map(|(hint, params)| ServerKeyExchange::EcdhePsk { hint, params }),
    ]
}

fn client_key_exchange() -> impl Strategy<Value = ClientKeyExchange> {
    prop_oneof![
        bytes(1).prop_map(|public| ClientKeyExchange::Ecdhe { public }),
        bytes(0).prop_map(|identity| ClientKeyExchange::Psk { identity }),
        (bytes(0), bytes(1))
            .prop_map(|(identity, public)| ClientKeyExchange::EcdhePsk { identity, public }),
    ]
}

fn certificate_request() -> impl Strategy<Value = CertificateRequest> {
    (
        vec(code8(ClientCertificateType::KNOWN), 1..MAX_ITEMS),
        vec(code16(SignatureScheme::KNOWN), 1..MAX_ITEMS),
        vec(bytes(1).prop_map(DistinguishedName), 0..MAX_ITEMS),
    )
        .prop_map(
            |(certificate_types, signature_schemes, authorities)| CertificateRequest {
                certificate_types,
                signature_schemes,
                authorities,
            },
        )
}

fn new_session_ticket() -> impl Strategy<Value = NewSessionTicket> {
    (any::<u32>(), bytes(0)).prop_map(|(lifetime_hint, ticket)| NewSessionTicket {
        lifetime_hint,
        ticket,
    })
}

fn unknown_handshake() -> impl Strategy<Value = HandshakePayload> {
    let typ = any::<u8>()
        .prop_map(HandshakeType::from)
        .prop_filter("not a known handshake type", |typ| {
            matches!(typ, HandshakeType::Unknown(_))
        });
    (typ, bytes(0)).prop_map(|(typ, body)| HandshakePayload::Unknown { typ, body })
}

fn alert() -> impl Strategy<Value = AlertMessage> {
    (
        select(vec![AlertLevel::Warning, AlertLevel::Fatal]),
        any::<u8>().prop_map(AlertDescription::from),
    )
        .prop_map(|(level, description)| AlertMessage { level, description })
}

fn record_header() -> impl Strategy<Value = RecordHeader> {
    (
        any::<u8>().prop_map(ContentType::from),
        any::<u16>().prop_map(ProtocolVersion::from),
        0..=MAX_CIPHERTEXT_LEN as u16,
    )
        .prop_map(|(typ, version, len)| RecordHeader { typ, version, len })
}

/// One generator per kind of handshake message, both hellos with and without extensions
/// and each key exchange form on its own, so that a test drawing one of each covers them
/// all in every case.
fn every_kind() -> Vec<BoxedStrategy<HandshakePayload>> {
    use HandshakePayload as P;
    vec![
        Just(P::HelloRequest).boxed(),
        client_hello(Just(None)).prop_map(P::ClientHello).boxed(),
        client_hello(client_extensions().prop_map(Some))
            .prop_map(P::ClientHello)
            .boxed(),
        server_hello(Just(None)).prop_map(P::ServerHello).boxed(),
        server_hello(server_extensions().prop_map(Some))
            .prop_map(P::ServerHello)
            .boxed(),
        certificate_chain().prop_map(P::Certificate).boxed(),
        server_key_exchange().prop_map(P::ServerKeyExchange).boxed(),
        certificate_request()
            .prop_map(P::CertificateRequest)
            .boxed(),
        Just(P::ServerHelloDone).boxed(),
        digitally_signed().prop_map(P::CertificateVerify).boxed(),
        client_key_exchange().prop_map(P::ClientKeyExchange).boxed(),
        any::<[u8; 12]>().prop_map(P::Finished).boxed(),
        new_session_ticket().prop_map(P::NewSessionTicket).boxed(),
        unknown_handshake().boxed(),
    ]
}

fn payload() -> impl Strategy<Value = HandshakePayload> {
    Union::new(every_kind())
}

/// The key exchange to decode `payload` in: its own for a key exchange message, `other`
/// (which must not matter) for the rest.
fn kx_for(payload: &HandshakePayload, other: KeyExchange) -> KeyExchange {
    match payload {
        HandshakePayload::ServerKeyExchange(ske) => ske.kx(),
        HandshakePayload::ClientKeyExchange(cke) => cke.kx(),
        _ => other,
    }
}

/// A handshake message with the key exchange to decode it in.
fn message() -> impl Strategy<Value = (HandshakeMessage, KeyExchange)> {
    (payload(), kx()).prop_map(|(payload, other)| {
        let kx = kx_for(&payload, other);
        (HandshakeMessage { payload }, kx)
    })
}

/// One value of every `Codec` type with a wire form of its own.
#[derive(Clone, Debug)]
struct CodecValues {
    client_hello: ClientHello,
    server_hello: ServerHello,
    chain: CertificateChain,
    request: CertificateRequest,
    signed: DigitallySigned,
    ticket: NewSessionTicket,
    params: EcdheParams,
    alert: AlertMessage,
    header: RecordHeader,
    session_id: SessionId,
    server_name: ServerName,
    protocol_name: ProtocolName,
}

fn codec_values() -> impl Strategy<Value = CodecValues> {
    (
        (
            client_hello(proptest::option::of(client_extensions())),
            server_hello(proptest::option::of(server_extensions())),
            certificate_chain(),
            certificate_request(),
            digitally_signed(),
            new_session_ticket(),
        ),
        (
            ecdhe_params(),
            alert(),
            record_header(),
            session_id(),
            server_name(),
            protocol_name(),
        ),
    )
        .prop_map(
            |(
                (client_hello, server_hello, chain, request, signed, ticket),
                (params, alert, header, session_id, server_name, protocol_name),
            )| CodecValues {
                client_hello,
                server_hello,
                chain,
                request,
                signed,
                ticket,
                params,
                alert,
                header,
                session_id,
                server_name,
                protocol_name,
            },
        )
}

fn record() -> impl Strategy<Value = OpaqueRecord> {
    // RFC 5246 §6.2.1: only application data may come in an empty fragment.
    prop_oneof![
        (
            select(vec![
                ContentType::ChangeCipherSpec,
                ContentType::Alert,
                ContentType::Handshake,
            ]),
            vec(any::<u8>(), 1..=64),
        ),
        (Just(ContentType::ApplicationData), vec(any::<u8>(), 0..=64)),
    ]
    .prop_map(|(typ, payload)| OpaqueRecord {
        typ,
        version: ProtocolVersion::TLSv1_2,
        payload,
    })
}

/// Cuts `bytes` at arbitrary points; repeated points give empty chunks, which must be
/// harmless too.
fn chunks<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    points.extend([0, bytes.len()]);
    points.sort_unstable();
    points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

fn cuts() -> impl Strategy<Value = Vec<Index>> {
    vec(any::<Index>(), 0..12)
}

/// How many of the consecutive `items` lie wholly within the first `pushed` bytes.
fn whole_items(items: &[Vec<u8>], pushed: usize) -> usize {
    let mut end = 0;
    items
        .iter()
        .take_while(|item| {
            end += item.len();
            end <= pushed
        })
        .count()
}

fn fail(err: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(err.to_string())
}

// ---------------------------------------------------------------------------------------
// The properties, written once for any encoder/decoder pair
// ---------------------------------------------------------------------------------------

/// `decode(encode(value)) == value`, and the decoded value encodes to the same bytes.
fn assert_round_trip<T: PartialEq + Debug>(
    value: &T,
    encode: impl Fn(&T) -> Vec<u8>,
    decode: impl Fn(&[u8]) -> Result<T, InvalidMessage>,
) -> TestCaseResult {
    let bytes = encode(value);
    let decoded = decode(&bytes);
    prop_assert_eq!(decoded.as_ref(), Ok(value));
    if let Ok(decoded) = decoded {
        prop_assert_eq!(encode(&decoded), bytes);
    }
    Ok(())
}

/// No strict prefix of `bytes` decodes, except the one `valid_prefix` names: a shorter
/// valid value whose encoding happens to be a prefix (a hello cut where its optional
/// extensions block starts).
fn assert_prefixes_fail<T: PartialEq + Debug>(
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, InvalidMessage>,
    valid_prefix: Option<(Vec<u8>, T)>,
) -> TestCaseResult {
    for len in 0..bytes.len() {
        let prefix = &bytes[..len];
        match &valid_prefix {
            Some((shorter, value)) if shorter == prefix => {
                let decoded = decode(prefix);
                prop_assert_eq!(decoded.as_ref(), Ok(value));
            }
            _ => prop_assert!(
                decode(prefix).is_err(),
                "prefix of {} of {} bytes decoded: {:?}",
                len,
                bytes.len(),
                decode(prefix)
            ),
        }
    }
    Ok(())
}

/// `bytes` with one more byte does not decode; the error is returned to be inspected.
fn assert_trailing_byte_fails<T: Debug>(
    bytes: &[u8],
    extra: u8,
    decode: impl Fn(&[u8]) -> Result<T, InvalidMessage>,
) -> Result<InvalidMessage, TestCaseError> {
    let mut longer = bytes.to_vec();
    longer.push(extra);
    match decode(&longer) {
        Ok(value) => Err(TestCaseError::fail(format!(
            "decoded with a trailing byte: {value:?}"
        ))),
        Err(err) => {
            prop_assert_eq!(err.alert(), AlertDescription::DecodeError);
            Ok(err)
        }
    }
}

/// If `bytes` decode at all, they are exactly the encoding of what they decode to.
fn assert_exact<T: Debug>(
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, InvalidMessage>,
    encode: impl Fn(&T) -> Vec<u8>,
) -> TestCaseResult {
    if let Ok(value) = decode(bytes) {
        prop_assert_eq!(encode(&value), bytes, "{:?}", value);
    }
    Ok(())
}

fn codec_round_trip<T: Codec + PartialEq + Debug>(value: &T) -> TestCaseResult {
    assert_round_trip(value, T::get_encoding, T::read_bytes)
}

fn codec_prefixes_fail<T: Codec + PartialEq + Debug>(value: &T) -> TestCaseResult {
    assert_prefixes_fail(&value.get_encoding(), T::read_bytes, None)
}

fn codec_trailing_byte_fails<T: Codec + Debug>(value: &T, extra: u8) -> TestCaseResult {
    assert_trailing_byte_fails(&value.get_encoding(), extra, T::read_bytes).map(drop)
}

fn codec_exact<T: Codec + Debug>(bytes: &[u8]) -> TestCaseResult {
    assert_exact(bytes, T::read_bytes, T::get_encoding)
}

// `&Vec` to be the encoder of a `Vec<E>` value in the generic checks above.
#[allow(clippy::ptr_arg)]
fn encode_block<E: Extension>(extensions: &Vec<E>) -> Vec<u8> {
    let mut out = Vec::new();
    encode_extensions(&mut out, extensions);
    out
}

/// Reads exactly one extensions block.
fn read_block<E: Extension>(bytes: &[u8]) -> Result<Vec<E>, InvalidMessage> {
    let mut r = Reader::new(bytes);
    let extensions = read_extensions(&mut r)?;
    r.expect_empty("extensions block")?;
    Ok(extensions)
}

/// Decodes `bytes` as a handshake message in every key exchange context; whatever
/// decodes must be exactly `bytes` again.
fn assert_message_exact(bytes: &[u8]) -> TestCaseResult {
    for kx in KeyExchange::ALL {
        assert_exact(
            bytes,
            |b| HandshakeMessage::read_bytes(b, kx),
            HandshakeMessage::get_encoding,
        )?;
    }
    Ok(())
}

/// A handshake message of type `typ` around an arbitrary `body`.
fn handshake(typ: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).expect("a small test body");
    let mut out = vec![typ];
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// Rewrites a handshake header's length to match the bytes present, so that a mutation
/// reaches the body's own parser instead of failing on the outer length.
fn fix_handshake_length(bytes: &mut [u8]) {
    if let Some(len) = bytes.len().checked_sub(4) {
        let len = u32::try_from(len).expect("a small test message");
        bytes[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Set(Index, u8),
    Insert(Index, u8),
    Remove(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        1 => any::<Index>().prop_map(Mutation::Remove),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    match mutation {
        Mutation::Set(at, b) if !bytes.is_empty() => {
            let at = at.index(bytes.len());
            bytes[at] = *b;
        }
        Mutation::Insert(at, b) => bytes.insert(at.index(bytes.len() + 1), *b),
        Mutation::Remove(at) if !bytes.is_empty() => {
            bytes.remove(at.index(bytes.len()));
        }
        _ => {}
    }
}

/// Bytes that look enough like a record stream to get past the deframer now and then:
/// noise, and records of mostly valid headers around handshake-like payloads.
fn noisy_stream() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        vec(any::<u8>(), 0..32),
        payload().prop_map(|payload| HandshakeMessage { payload }.get_encoding()),
        // A header announcing more or fewer bytes than follow: the joiner must wait for
        // the rest, or take the surplus as the start of the next message.
        (
            code8(HandshakeType::KNOWN),
            0..48u32,
            vec(any::<u8>(), 0..32)
        )
            .prop_map(|(typ, announced, body)| {
                let mut out = vec![typ.get()];
                out.extend_from_slice(&announced.to_be_bytes()[1..]);
                out.extend_from_slice(&body);
                out
            }),
    ];
    let record = (
        prop_oneof![6 => Just(22u8), 4 => 20u8..=23, 1 => any::<u8>()],
        prop_oneof![12 => Just(0x0303u16), 1 => any::<u16>()],
        fragment,
    )
        .prop_map(|(typ, version, fragment)| {
            let mut out = RecordHeader {
                typ: ContentType::from(typ),
                version: ProtocolVersion::from(version),
                len: u16::try_from(fragment.len()).expect("a small fragment"),
            }
            .get_encoding();
            out.extend_from_slice(&fragment);
            out
        });
    vec(
        prop_oneof![1 => vec(any::<u8>(), 0..8), 16 => record],
        0..12,
    )
    .prop_map(|pieces| pieces.concat())
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_handshake_message_round_trips(payloads in every_kind(), other in kx()) {
        for payload in payloads {
            let kx = kx_for(&payload, other);
            assert_round_trip(
                &HandshakeMessage { payload },
                HandshakeMessage::get_encoding,
                |b| HandshakeMessage::read_bytes(b, kx),
            )?;
        }
    }

    #[test]
    fn every_codec_value_round_trips(v in codec_values()) {
        codec_round_trip(&v.client_hello)?;
        codec_round_trip(&v.server_hello)?;
        codec_round_trip(&v.chain)?;
        codec_round_trip(&v.request)?;
        codec_round_trip(&v.signed)?;
        codec_round_trip(&v.ticket)?;
        codec_round_trip(&v.params)?;
        codec_round_trip(&v.alert)?;
        codec_round_trip(&ChangeCipherSpec)?;
        codec_round_trip(&v.header)?;
        codec_round_trip(&v.session_id)?;
        codec_round_trip(&v.server_name)?;
        codec_round_trip(&v.protocol_name)?;
    }

    #[test]
    fn extension_blocks_round_trip(
        client in client_extensions(),
        server in server_extensions(),
    ) {
        assert_round_trip(&client, encode_block, read_block::<ClientExtension>)?;
        assert_round_trip(&server, encode_block, read_block::<ServerExtension>)?;
    }

    #[test]
    fn no_strict_prefix_of_a_handshake_message_decodes(
        payloads in every_kind(),
        other in kx(),
    ) {
        // The header's length fixes where the body ends, so a cut anywhere leaves a
        // truncated body: no exception, not even for hellos (whose optional extensions
        // only matter inside the body, below) nor for ServerHelloDone and HelloRequest,
        // whose whole encoding is the 4-byte header and whose prefixes are all shorter
        // than a header.
        for payload in payloads {
            let kx = kx_for(&payload, other);
            let bytes = HandshakeMessage { payload }.get_encoding();
            assert_prefixes_fail(&bytes, |b| HandshakeMessage::read_bytes(b, kx), None)?;
        }
    }

    #[test]
    fn no_strict_prefix_of_a_body_decodes(v in codec_values()) {
        // A hello body may stop right before its extensions block: the cut that ends
        // there is the same hello without extensions (identical bytes to a prefix when
        // the original had a block, and not a strict prefix when it had none). Any other
        // cut in the block leaves its length or its contents short.
        let bare = ClientHello { extensions: None, ..v.client_hello.clone() };
        assert_prefixes_fail(
            &v.client_hello.get_encoding(),
            ClientHello::read_bytes,
            Some((bare.get_encoding(), bare)),
        )?;
        let bare = ServerHello { extensions: None, ..v.server_hello.clone() };
        assert_prefixes_fail(
            &v.server_hello.get_encoding(),
            ServerHello::read_bytes,
            Some((bare.get_encoding(), bare)),
        )?;
        codec_prefixes_fail(&v.chain)?;
        codec_prefixes_fail(&v.request)?;
        codec_prefixes_fail(&v.signed)?;
        codec_prefixes_fail(&v.ticket)?;
        codec_prefixes_fail(&v.params)?;
        codec_prefixes_fail(&v.alert)?;
        codec_prefixes_fail(&ChangeCipherSpec)?;
        codec_prefixes_fail(&v.header)?;
        codec_prefixes_fail(&v.session_id)?;
        codec_prefixes_fail(&v.server_name)?;
        codec_prefixes_fail(&v.protocol_name)?;
    }

    #[test]
    fn no_strict_prefix_of_an_extension_block_decodes(
        client in client_extensions(),
        server in server_extensions(),
    ) {
        assert_prefixes_fail(&encode_block(&client), read_block::<ClientExtension>, None)?;
        assert_prefixes_fail(&encode_block(&server), read_block::<ServerExtension>, None)?;
    }

    #[test]
    fn a_trailing_byte_is_refused(
        payloads in every_kind(),
        other in kx(),
        v in codec_values(),
        extra in any::<u8>(),
    ) {
        // After a whole handshake message the byte lies outside the length its header
        // announced, so even a hello without extensions reports trailing data here.
        for payload in payloads {
            let kx = kx_for(&payload, other);
            let bytes = HandshakeMessage { payload }.get_encoding();
            let err = assert_trailing_byte_fails(&bytes, extra, |b| {
                HandshakeMessage::read_bytes(b, kx)
            })?;
            prop_assert!(matches!(err, InvalidMessage::TrailingData(_)), "{:?}", err);
        }
        // Inside a body a byte after a bare hello starts a truncated extensions block
        // instead: still refused, for another reason.
        codec_trailing_byte_fails(&v.client_hello, extra)?;
        codec_trailing_byte_fails(&v.server_hello, extra)?;
        codec_trailing_byte_fails(&v.chain, extra)?;
        codec_trailing_byte_fails(&v.request, extra)?;
        codec_trailing_byte_fails(&v.signed, extra)?;
        codec_trailing_byte_fails(&v.ticket, extra)?;
        codec_trailing_byte_fails(&v.params, extra)?;
        codec_trailing_byte_fails(&v.alert, extra)?;
        codec_trailing_byte_fails(&ChangeCipherSpec, extra)?;
        codec_trailing_byte_fails(&v.header, extra)?;
        codec_trailing_byte_fails(&v.session_id, extra)?;
        codec_trailing_byte_fails(&v.server_name, extra)?;
        codec_trailing_byte_fails(&v.protocol_name, extra)?;
    }

    #[test]
    fn arbitrary_bytes_decode_to_themselves_or_fail(
        // Short inputs often enough to hit the two-byte alert and the five-byte header.
        bytes in prop_oneof![vec(any::<u8>(), 0..8), vec(any::<u8>(), 0..128)],
    ) {
        assert_message_exact(&bytes)?;
        codec_exact::<AlertMessage>(&bytes)?;
        if let Ok(alert) = AlertMessage::read_bytes(&bytes) {
            prop_assert!(matches!(alert.level, AlertLevel::Warning | AlertLevel::Fatal));
        }
        codec_exact::<ChangeCipherSpec>(&bytes)?;
        codec_exact::<RecordHeader>(&bytes)?;
        if let Ok(header) = RecordHeader::read_bytes(&bytes) {
            prop_assert!(usize::from(header.len) <= MAX_CIPHERTEXT_LEN);
        }
        codec_exact::<ClientHello>(&bytes)?;
        codec_exact::<ServerHello>(&bytes)?;
        codec_exact::<CertificateChain>(&bytes)?;
        codec_exact::<CertificateRequest>(&bytes)?;
        codec_exact::<NewSessionTicket>(&bytes)?;
        assert_exact(&bytes, read_block::<ClientExtension>, encode_block)?;
        assert_exact(&bytes, read_block::<ServerExtension>, encode_block)?;
    }

    #[test]
    fn arbitrary_bodies_decode_to_themselves_or_fail(
        typ in code8(HandshakeType::KNOWN),
        body in vec(any::<u8>(), 0..64),
    ) {
        // Arbitrary bytes almost never carry a consistent header; this reaches the body
        // parsers directly.
        assert_message_exact(&handshake(typ.get(), &body))?;
    }

    #[test]
    fn mutated_messages_decode_to_themselves_or_fail(
        payload in payload(),
        mutations in vec(mutation(), 1..4),
    ) {
        let mut bytes = HandshakeMessage { payload }.get_encoding();
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        assert_message_exact(&bytes)?;
        fix_handshake_length(&mut bytes);
        assert_message_exact(&bytes)?;
    }

    #[test]
    fn arbitrary_streams_are_cut_exactly_or_refused(
        stream in noisy_stream(),
        cuts in cuts(),
    ) {
        let mut deframer = Deframer::new();
        let mut joiner = HandshakeJoiner::new();
        let (mut pushed, mut records, mut fragments, mut messages) = (0, vec![], vec![], vec![]);
        'stream: for chunk in chunks(&stream, &cuts) {
            deframer.push(chunk);
            pushed += chunk.len();
            loop {
                let record = match deframer.pop() {
                    Ok(Some(record)) => record,
                    Ok(None) => break,
                    Err(_) => break 'stream,
                };
                // What the deframer lets through is a record RFC 5246 §6.2.1 allows.
                prop_assert!(
                    matches!(
                        record.typ,
                        ContentType::ChangeCipherSpec
                            | ContentType::Alert
                            | ContentType::Handshake
                            | ContentType::ApplicationData
                    ),
                    "{:?}",
                    record
                );
                prop_assert_eq!(record.version.get() >> 8, 3);
                prop_assert!(
                    !record.payload.is_empty() || record.typ == ContentType::ApplicationData
                );
                record.encode(&mut records);
                match record.typ {
                    ContentType::Alert => codec_exact::<AlertMessage>(&record.payload)?,
                    ContentType::ChangeCipherSpec => {
                        codec_exact::<ChangeCipherSpec>(&record.payload)?
                    }
                    ContentType::Handshake => {
                        fragments.extend_from_slice(&record.payload);
                        if joiner.push(&record.payload).is_err() {
                            break 'stream;
                        }
                        while let Some(msg) = joiner.pop() {
                            assert_message_exact(&msg)?;
                            messages.extend_from_slice(&msg);
                        }
                    }
                    _ => {}
                }
            }
            prop_assert_eq!(records.len() + deframer.buffered(), pushed);
        }
        prop_assert!(stream.starts_with(&records));
        prop_assert!(fragments.starts_with(&messages));
    }

    #[test]
    fn the_joiner_returns_messages_whole_in_order_and_at_once(
        msgs in vec(message(), 0..MAX_ITEMS),
        cuts in cuts(),
    ) {
        let encodings: Vec<Vec<u8>> = msgs.iter().map(|(msg, _)| msg.get_encoding()).collect();
        let stream = encodings.concat();
        let mut joiner = HandshakeJoiner::new();
        let (mut pushed, mut out) = (0, Vec::new());
        for chunk in chunks(&stream, &cuts) {
            prop_assert_eq!(joiner.push(chunk), Ok(()));
            pushed += chunk.len();
            while let Some(msg) = joiner.pop() {
                out.push(msg);
            }
            // Nothing complete is held back waiting for more bytes.
            prop_assert_eq!(out.len(), whole_items(&encodings, pushed));
        }
        prop_assert_eq!(out, encodings);
        prop_assert!(joiner.is_empty());
    }

    #[test]
    fn the_deframer_returns_records_whole_in_order_and_at_once(
        records in vec(record(), 0..MAX_ITEMS),
        cuts in cuts(),
    ) {
        let encodings: Vec<Vec<u8>> = records
            .iter()
            .map(|record| {
                let mut out = Vec::new();
                record.encode(&mut out);
                out
            })
            .collect();
        let stream = encodings.concat();
        let mut deframer = Deframer::new();
        let (mut pushed, mut out) = (0, Vec::new());
        for chunk in chunks(&stream, &cuts) {
            deframer.push(chunk);
            pushed += chunk.len();
            while let Some(record) = deframer.pop().map_err(fail)? {
                out.push(record);
            }
            prop_assert_eq!(out.len(), whole_items(&encodings, pushed));
        }
        prop_assert_eq!(out, records);
        prop_assert_eq!(deframer.buffered(), 0);
    }

    #[test]
    fn a_flight_survives_fragmentation_into_records_and_chunking(
        msgs in vec(message(), 1..MAX_ITEMS),
        record_cuts in cuts(),
        cuts in cuts(),
    ) {
        // Messages split across records and packed several to a record (RFC 5246
        // §6.2.1), then the records split across reads.
        let flight: Vec<u8> = msgs.iter().flat_map(|(msg, _)| msg.get_encoding()).collect();
        let mut stream = Vec::new();
        for fragment in chunks(&flight, &record_cuts) {
            for fragment in fragment.chunks(MAX_PLAINTEXT_LEN) {
                let record = OpaqueRecord {
                    typ: ContentType::Handshake,
                    version: ProtocolVersion::TLSv1_2,
                    payload: fragment.to_vec(),
                };
                record.encode(&mut stream);
            }
        }
        let mut deframer = Deframer::new();
        let mut joiner = HandshakeJoiner::new();
        let mut out = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            deframer.push(chunk);
            while let Some(record) = deframer.pop().map_err(fail)? {
                joiner.push(&record.payload).map_err(fail)?;
                while let Some(bytes) = joiner.pop() {
                    out.push(bytes);
                }
            }
        }
        prop_assert_eq!(out.len(), msgs.len());
        for (bytes, (msg, kx)) in out.iter().zip(&msgs) {
            prop_assert_eq!(&HandshakeMessage::read_bytes(bytes, *kx), &Ok(msg.clone()));
        }
        prop_assert!(joiner.is_empty());
        prop_assert_eq!(deframer.buffered(), 0);
    }
}

#[test]
fn the_generators_cover_every_handshake_type() {
    let mut runner = TestRunner::deterministic();
    let mut covered = BTreeSet::new();
    for strategy in every_kind() {
        let payload = strategy.new_tree(&mut runner).unwrap().current();
        covered.insert(HandshakeMessage { payload }.typ());
    }
    for typ in HandshakeType::KNOWN {
        assert!(covered.contains(typ), "no generator for {typ:?}");
    }
    assert!(covered
        .iter()
        .any(|typ| matches!(typ, HandshakeType::Unknown(_))));
}

fn base_client_hello() -> ClientHello {
    ClientHello {
        client_version: ProtocolVersion::TLSv1_2,
        random: Random([7; 32]),
        session_id: SessionId::EMPTY,
        cipher_suites: vec![CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256],
        compression_methods: vec![Compression::Null],
        extensions: None,
    }
}

fn base_server_hello() -> ServerHello {
    ServerHello {
        server_version: ProtocolVersion::TLSv1_2,
        random: Random([7; 32]),
        session_id: SessionId::EMPTY,
        cipher_suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        compression_method: Compression::Null,
        extensions: None,
    }
}

/// A ClientHello message, edited from a valid one.
fn client(edit: impl FnOnce(&mut ClientHello)) -> Vec<u8> {
    let mut ch = base_client_hello();
    edit(&mut ch);
    HandshakeMessage::from(HandshakePayload::ClientHello(ch)).get_encoding()
}

/// A ClientHello message with `extensions`, duplicates and all.
fn client_with(extensions: Vec<ClientExtension>) -> Vec<u8> {
    client(|ch| ch.extensions = Some(extensions))
}

/// A ServerHello message with `extensions`, duplicates and all.
fn server_with(extensions: Vec<ServerExtension>) -> Vec<u8> {
    let sh = ServerHello {
        extensions: Some(extensions),
        ..base_server_hello()
    };
    HandshakeMessage::from(HandshakePayload::ServerHello(sh)).get_encoding()
}

fn host(name: &[u8]) -> ServerName {
    ServerName {
        typ: ServerNameType::HostName,
        name: name.to_vec(),
    }
}

/// An extension of type `typ` with raw `data`, whatever `typ` is: the encoder writes it
/// as it is, so a known type can be given a body its decoder refuses.
fn raw_ext(typ: u16, data: &[u8]) -> UnknownExtension {
    UnknownExtension {
        typ: ExtensionType::from(typ),
        data: data.to_vec(),
    }
}

#[test]
fn hostile_messages_get_the_right_alert() {
    use AlertDescription::{DecodeError, IllegalParameter};
    use ClientExtension as C;
    use ServerExtension as S;

    // The encoders do not police the RFC's floors or duplicates, so they can write what a
    // hostile peer would. SessionId cannot hold 33 bytes, though: lengthen a valid body by
    // hand, after version (2 bytes) and random (32).
    let mut long_session_id = base_client_hello().get_encoding();
    long_session_id.splice(34..35, [33].into_iter().chain([9; 33]));
    let two_hosts = C::ServerName(vec![host(b"a"), host(b"b")]);
    let no_host = C::ServerName(vec![host(b"")]);
    let dup = C::Unknown(raw_ext(0x1234, &[]));
    let name_ack = S::Unknown(raw_ext(0, &[0, 3, 0, 0, 1]));
    let two_alpn = S::Unknown(raw_ext(16, &[0, 4, 1, b'a', 1, b'b']));
    let no_suites = client(|ch| ch.cipher_suites.clear());
    let no_compression = client(|ch| ch.compression_methods.clear());

    let decode_errors = vec![
        ("33-byte session_id", handshake(1, &long_session_id)),
        ("no cipher suites", no_suites),
        ("no compression methods", no_compression),
        ("empty host name", client_with(vec![no_host])),
        ("server_name ack with a body", server_with(vec![name_ack])),
        ("11-byte Finished", handshake(20, &[0; 11])),
        ("ServerHelloDone with a body", handshake(14, &[0])),
    ];
    let illegal_parameters = vec![
        ("two host names", client_with(vec![two_hosts])),
        ("a type twice", client_with(vec![dup.clone(), dup])),
        ("EMS twice", server_with(vec![S::ExtendedMasterSecret; 2])),
        ("two protocols selected", server_with(vec![two_alpn])),
    ];
    for (alert, cases) in [
        (DecodeError, decode_errors),
        (IllegalParameter, illegal_parameters),
    ] {
        for (name, bytes) in cases {
            let err = HandshakeMessage::read_bytes(&bytes, KeyExchange::Ecdhe).expect_err(name);
            assert_eq!(err.alert(), alert, "{name}: {err}");
        }
    }
}

#[test]
fn key_exchange_messages_are_refused_in_the_wrong_context_or_with_an_explicit_curve() {
    let ske = ServerKeyExchange::Ecdhe {
        params: EcdheParams {
            group: NamedGroup::X25519,
            public: vec![4; 32],
        },
        signed: DigitallySigned {
            scheme: SignatureScheme::ED25519,
            signature: vec![5; 64],
        },
    };
    let bytes = HandshakeMessage::from(HandshakePayload::ServerKeyExchange(ske)).get_encoding();
    let read = |bytes: &[u8], kx| HandshakeMessage::read_bytes(bytes, kx).map_err(|e| e.alert());
    assert!(read(&bytes, KeyExchange::Ecdhe).is_ok());
    for kx in [KeyExchange::Psk, KeyExchange::EcdhePsk] {
        assert_eq!(
            read(&bytes, kx),
            Err(AlertDescription::DecodeError),
            "{kx:?}"
        );
    }
    // The curve type is the body's first byte: explicit_prime instead of named_curve.
    let mut explicit_curve = bytes;
    explicit_curve[4] = 1;
    assert_eq!(
        read(&explicit_curve, KeyExchange::Ecdhe),
        Err(AlertDescription::IllegalParameter)
    );
}
