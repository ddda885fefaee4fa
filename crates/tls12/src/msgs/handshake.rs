//! Handshake messages, RFC 5246 §7.4, with the ECDHE forms of RFC 8422 §5, the PSK forms
//! of RFC 4279 §2 and RFC 5489 §2, and NewSessionTicket of RFC 5077 §3.3.
//!
//! ServerKeyExchange and ClientKeyExchange do not say which key exchange they carry: the
//! negotiated cipher suite does. Their decoding therefore takes a [`KeyExchange`].

use crate::codec::{Bounds, Codec, InvalidMessage, Prefix, Reader};
use crate::msgs::base::{Random, SessionId};
use crate::msgs::enums::{
    CipherSuite, ClientCertificateType, Compression, ECCurveType, HandshakeType, NamedGroup,
    ProtocolVersion, SignatureScheme,
};
use crate::msgs::extensions::{
    encode_extensions, read_extensions, ClientExtension, Extension, ServerExtension,
};

/// The largest handshake message body we accept other than a ClientHello: 64 KiB of
/// certificate chain is already far beyond what real chains need, and bounds what a peer
/// can make us buffer.
pub const MAX_HANDSHAKE_LEN: usize = 0x1_0000;

/// The largest ClientHello body RFC 5246 §7.4.1.2 can describe: version, random, a
/// 32-byte session ID, 32,767 cipher suites, 255 compression methods and a full
/// 65,535-byte extensions block. Every legal ClientHello fits, so a server accepts any
/// (OpenSSL's ceiling is the same 131,396 bytes); a longer one cannot parse.
pub const MAX_CLIENT_HELLO_LEN: usize =
    2 + 32 + (1 + 32) + (2 + 0xfffe) + (1 + 0xff) + (2 + 0xffff);

/// The longest body we buffer for a handshake message of type `typ`.
pub fn max_body_len(typ: HandshakeType) -> usize {
    match typ {
        HandshakeType::ClientHello => MAX_CLIENT_HELLO_LEN,
        _ => MAX_HANDSHAKE_LEN,
    }
}

const HANDSHAKE_BODY: Bounds = Bounds::new("Handshake", Prefix::U24, 0, MAX_HANDSHAKE_LEN);
const CLIENT_HELLO_BODY: Bounds = Bounds::new("ClientHello", Prefix::U24, 0, MAX_CLIENT_HELLO_LEN);
fn body_bounds(typ: HandshakeType) -> Bounds {
    match typ {
        HandshakeType::ClientHello => CLIENT_HELLO_BODY,
        _ => HANDSHAKE_BODY,
    }
}

const CIPHER_SUITES: Bounds = Bounds::new("cipher_suites", Prefix::U16, 2, 0xfffe);
const COMPRESSION_METHODS: Bounds = Bounds::new("compression_methods", Prefix::U8, 1, 0xff);
const CERTIFICATE_LIST: Bounds = Bounds::new("certificate_list", Prefix::U24, 0, 0xff_ffff);
const ASN1_CERT: Bounds = Bounds::new("ASN.1Cert", Prefix::U24, 1, 0xff_ffff);
const EC_POINT: Bounds = Bounds::new("ECPoint", Prefix::U8, 1, 0xff);
const SIGNATURE: Bounds = Bounds::new("signature", Prefix::U16, 0, 0xffff);
const PSK_IDENTITY_HINT: Bounds = Bounds::new("psk_identity_hint", Prefix::U16, 0, 0xffff);
const PSK_IDENTITY: Bounds = Bounds::new("psk_identity", Prefix::U16, 0, 0xffff);
const CERTIFICATE_TYPES: Bounds = Bounds::new("certificate_types", Prefix::U8, 1, 0xff);
const SUPPORTED_SIGNATURE_ALGORITHMS: Bounds =
    Bounds::new("supported_signature_algorithms", Prefix::U16, 2, 0xfffe);
const CERTIFICATE_AUTHORITIES: Bounds =
    Bounds::new("certificate_authorities", Prefix::U16, 0, 0xffff);
const DISTINGUISHED_NAME: Bounds = Bounds::new("DistinguishedName", Prefix::U16, 1, 0xffff);
const TICKET: Bounds = Bounds::new("ticket", Prefix::U16, 0, 0xffff);

/// The length of `verify_data` for every TLS 1.2 cipher suite we know (RFC 5246 §7.4.9).
pub const VERIFY_DATA_LEN: usize = 12;

/// Which key exchange the negotiated suite uses: the context that ServerKeyExchange and
/// ClientKeyExchange need to be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyExchange {
    /// ECDHE with a signed ServerKeyExchange (RFC 8422).
    Ecdhe,
    /// Plain PSK (RFC 4279 §2).
    Psk,
    /// ECDHE_PSK (RFC 5489 §2).
    EcdhePsk,
}

impl KeyExchange {
    /// Every key exchange, for tests and fuzzers that try each context.
    pub const ALL: [Self; 3] = [Self::Ecdhe, Self::Psk, Self::EcdhePsk];

    /// The key exchange of a known suite whose ServerKeyExchange and ClientKeyExchange
    /// this crate can read; `None` for any other (RSA key transport, DHE, TLS 1.3).
    pub fn of_suite(suite: CipherSuite) -> Option<Self> {
        use CipherSuite::*;
        match suite {
            TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
            | TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
            | TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
            | TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
            | TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
            | TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
            | TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
            | TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
            | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
            | TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
            | TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
            | TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
            | TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => Some(Self::Ecdhe),
            TLS_PSK_WITH_AES_128_GCM_SHA256
            | TLS_PSK_WITH_AES_256_GCM_SHA384
            | TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 => Some(Self::Psk),
            TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256
            | TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
            | TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256
            | TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 => Some(Self::EcdhePsk),
            _ => None,
        }
    }
}

/// Reads an optional trailing extensions block: absent and empty are different
/// encodings, so both are kept apart to re-encode byte for byte (RFC 5246 §7.4.1.2).
fn read_optional_extensions<E: Extension>(
    r: &mut Reader<'_>,
) -> Result<Option<Vec<E>>, InvalidMessage> {
    match r.any_left() {
        true => read_extensions(r).map(Some),
        false => Ok(None),
    }
}

/// `ClientHello`, RFC 5246 §7.4.1.2.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientHello {
    /// The highest version the client speaks.
    pub client_version: ProtocolVersion,
    /// `ClientHello.random`.
    pub random: Random,
    /// The session the client would resume, or empty.
    pub session_id: SessionId,
    /// `cipher_suites<2..2^16-2>`, SCSVs included.
    pub cipher_suites: Vec<CipherSuite>,
    /// `compression_methods<1..2^8-1>`.
    pub compression_methods: Vec<Compression>,
    /// `None` when the message ends before an extensions block.
    pub extensions: Option<Vec<ClientExtension>>,
}

impl ClientHello {
    /// The extensions, empty when there is no block.
    pub fn extensions(&self) -> &[ClientExtension] {
        self.extensions.as_deref().unwrap_or_default()
    }
}

impl Codec for ClientHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.client_version.encode(out);
        self.random.encode(out);
        self.session_id.encode(out);
        CIPHER_SUITES.encode_items(out, &self.cipher_suites);
        COMPRESSION_METHODS.encode_items(out, &self.compression_methods);
        if let Some(extensions) = &self.extensions {
            encode_extensions(out, extensions);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        Ok(Self {
            client_version: ProtocolVersion::read(r)?,
            random: Random::read(r)?,
            session_id: SessionId::read(r)?,
            cipher_suites: CIPHER_SUITES.read_u16s(r)?,
            compression_methods: COMPRESSION_METHODS.read_u8s(r)?,
            extensions: read_optional_extensions(r)?,
        })
    }
}

/// `ServerHello`, RFC 5246 §7.4.1.3.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerHello {
    /// The version both will speak.
    pub server_version: ProtocolVersion,
    /// `ServerHello.random`.
    pub random: Random,
    /// The session's ID: the client's when resuming, a fresh one, or empty for "not
    /// cached".
    pub session_id: SessionId,
    /// The chosen suite.
    pub cipher_suite: CipherSuite,
    /// The chosen compression method.
    pub compression_method: Compression,
    /// `None` when the message ends before an extensions block.
    pub extensions: Option<Vec<ServerExtension>>,
}

impl ServerHello {
    /// The extensions, empty when there is no block.
    pub fn extensions(&self) -> &[ServerExtension] {
        self.extensions.as_deref().unwrap_or_default()
    }
}

impl Codec for ServerHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.server_version.encode(out);
        self.random.encode(out);
        self.session_id.encode(out);
        self.cipher_suite.encode(out);
        self.compression_method.encode(out);
        if let Some(extensions) = &self.extensions {
            encode_extensions(out, extensions);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        Ok(Self {
            server_version: ProtocolVersion::read(r)?,
            random: Random::read(r)?,
            session_id: SessionId::read(r)?,
            cipher_suite: CipherSuite::read(r)?,
            compression_method: Compression::read(r)?,
            extensions: read_optional_extensions(r)?,
        })
    }
}

/// One DER certificate, as carried in `ASN.1Cert<1..2^24-1>`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CertificateDer(pub Vec<u8>);

impl std::fmt::Debug for CertificateDer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertificateDer({} bytes)", self.0.len())
    }
}

impl Codec for CertificateDer {
    fn encode(&self, out: &mut Vec<u8>) {
        ASN1_CERT.encode_bytes(out, &self.0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        ASN1_CERT.read_bytes(r).map(Self)
    }
}

/// `Certificate`, RFC 5246 §7.4.2 and §7.4.6: the sender's certificate first, each
/// following one certifying the one before. A client with no certificate sends an empty
/// list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertificateChain(pub Vec<CertificateDer>);

impl Codec for CertificateChain {
    fn encode(&self, out: &mut Vec<u8>) {
        CERTIFICATE_LIST.encode_items(out, &self.0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        CERTIFICATE_LIST.read_items(r, 0).map(Self)
    }
}

/// `ServerECDHParams`, RFC 8422 §5.4, restricted to `named_curve`: the explicit curve
/// forms were deprecated and are refused with `illegal_parameter`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EcdheParams {
    /// The group of the ephemeral key.
    pub group: NamedGroup,
    /// The server's ephemeral public key, `ECPoint<1..2^8-1>`.
    pub public: Vec<u8>,
}

impl Codec for EcdheParams {
    fn encode(&self, out: &mut Vec<u8>) {
        ECCurveType::NamedCurve.encode(out);
        self.group.encode(out);
        EC_POINT.encode_bytes(out, &self.public);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        if ECCurveType::read(r)? != ECCurveType::NamedCurve {
            return Err(InvalidMessage::IllegalValue("ECCurveType"));
        }
        Ok(Self {
            group: NamedGroup::read(r)?,
            public: EC_POINT.read_bytes(r)?,
        })
    }
}

/// `digitally-signed struct`, RFC 5246 §4.7: in TLS 1.2 always with the algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DigitallySigned {
    /// The `SignatureAndHashAlgorithm`.
    pub scheme: SignatureScheme,
    /// `signature<0..2^16-1>`.
    pub signature: Vec<u8>,
}

impl Codec for DigitallySigned {
    fn encode(&self, out: &mut Vec<u8>) {
        self.scheme.encode(out);
        SIGNATURE.encode_bytes(out, &self.signature);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        Ok(Self {
            scheme: SignatureScheme::read(r)?,
            signature: SIGNATURE.read_bytes(r)?,
        })
    }
}

/// `ServerKeyExchange`, RFC 5246 §7.4.3 in the forms of the key exchanges we know.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerKeyExchange {
    /// ECDHE_ECDSA / ECDHE_RSA (RFC 8422 §5.4): the parameters, signed over both randoms.
    Ecdhe {
        /// The ephemeral key.
        params: EcdheParams,
        /// The signature over `client_random + server_random + params`.
        signed: DigitallySigned,
    },
    /// PSK (RFC 4279 §2): only a hint.
    Psk {
        /// `psk_identity_hint<0..2^16-1>`.
        hint: Vec<u8>,
    },
    /// ECDHE_PSK (RFC 5489 §2): a hint and unsigned parameters.
    EcdhePsk {
        /// `psk_identity_hint<0..2^16-1>`.
        hint: Vec<u8>,
        /// The ephemeral key.
        params: EcdheParams,
    },
}

impl ServerKeyExchange {
    /// The key exchange this message belongs to.
    pub fn kx(&self) -> KeyExchange {
        match self {
            Self::Ecdhe { .. } => KeyExchange::Ecdhe,
            Self::Psk { .. } => KeyExchange::Psk,
            Self::EcdhePsk { .. } => KeyExchange::EcdhePsk,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Ecdhe { params, signed } => {
                params.encode(out);
                signed.encode(out);
            }
            Self::Psk { hint } => PSK_IDENTITY_HINT.encode_bytes(out, hint),
            Self::EcdhePsk { hint, params } => {
                PSK_IDENTITY_HINT.encode_bytes(out, hint);
                params.encode(out);
            }
        }
    }

    fn read(r: &mut Reader<'_>, kx: KeyExchange) -> Result<Self, InvalidMessage> {
        Ok(match kx {
            KeyExchange::Ecdhe => Self::Ecdhe {
                params: EcdheParams::read(r)?,
                signed: DigitallySigned::read(r)?,
            },
            KeyExchange::Psk => Self::Psk {
                hint: PSK_IDENTITY_HINT.read_bytes(r)?,
            },
            KeyExchange::EcdhePsk => Self::EcdhePsk {
                hint: PSK_IDENTITY_HINT.read_bytes(r)?,
                params: EcdheParams::read(r)?,
            },
        })
    }
}

/// `ClientKeyExchange`, RFC 5246 §7.4.7 in the forms of the key exchanges we know.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientKeyExchange {
    /// `ClientECDiffieHellmanPublic` in explicit form (RFC 8422 §5.7): ECDHE has no
    /// implicit form.
    Ecdhe {
        /// `ECPoint<1..2^8-1>`.
        public: Vec<u8>,
    },
    /// PSK (RFC 4279 §2).
    Psk {
        /// `psk_identity<0..2^16-1>`.
        identity: Vec<u8>,
    },
    /// ECDHE_PSK (RFC 5489 §2).
    EcdhePsk {
        /// `psk_identity<0..2^16-1>`.
        identity: Vec<u8>,
        /// `ECPoint<1..2^8-1>`.
        public: Vec<u8>,
    },
}

impl ClientKeyExchange {
    /// The key exchange this message belongs to.
    pub fn kx(&self) -> KeyExchange {
        match self {
            Self::Ecdhe { .. } => KeyExchange::Ecdhe,
            Self::Psk { .. } => KeyExchange::Psk,
            Self::EcdhePsk { .. } => KeyExchange::EcdhePsk,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Ecdhe { public } => EC_POINT.encode_bytes(out, public),
            Self::Psk { identity } => PSK_IDENTITY.encode_bytes(out, identity),
            Self::EcdhePsk { identity, public } => {
                PSK_IDENTITY.encode_bytes(out, identity);
                EC_POINT.encode_bytes(out, public);
            }
        }
    }

    fn read(r: &mut Reader<'_>, kx: KeyExchange) -> Result<Self, InvalidMessage> {
        Ok(match kx {
            KeyExchange::Ecdhe => Self::Ecdhe {
                public: EC_POINT.read_bytes(r)?,
            },
            KeyExchange::Psk => Self::Psk {
                identity: PSK_IDENTITY.read_bytes(r)?,
            },
            KeyExchange::EcdhePsk => Self::EcdhePsk {
                identity: PSK_IDENTITY.read_bytes(r)?,
                public: EC_POINT.read_bytes(r)?,
            },
        })
    }
}

/// `DistinguishedName<1..2^16-1>`: a DER-encoded X.501 name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DistinguishedName(pub Vec<u8>);

impl Codec for DistinguishedName {
    fn encode(&self, out: &mut Vec<u8>) {
        DISTINGUISHED_NAME.encode_bytes(out, &self.0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        DISTINGUISHED_NAME.read_bytes(r).map(Self)
    }
}

/// `CertificateRequest`, RFC 5246 §7.4.4.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertificateRequest {
    /// `certificate_types<1..2^8-1>`.
    pub certificate_types: Vec<ClientCertificateType>,
    /// `supported_signature_algorithms<2..2^16-2>`.
    pub signature_schemes: Vec<SignatureScheme>,
    /// `certificate_authorities<0..2^16-1>`: the CAs whose names the server accepts.
    pub authorities: Vec<DistinguishedName>,
}

impl Codec for CertificateRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        CERTIFICATE_TYPES.encode_items(out, &self.certificate_types);
        SUPPORTED_SIGNATURE_ALGORITHMS.encode_items(out, &self.signature_schemes);
        CERTIFICATE_AUTHORITIES.encode_items(out, &self.authorities);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        Ok(Self {
            certificate_types: CERTIFICATE_TYPES.read_u8s(r)?,
            signature_schemes: SUPPORTED_SIGNATURE_ALGORITHMS.read_u16s(r)?,
            authorities: CERTIFICATE_AUTHORITIES.read_items(r, 0)?,
        })
    }
}

/// `NewSessionTicket`, RFC 5077 §3.3.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NewSessionTicket {
    /// Seconds the ticket may be kept; 0 for "unspecified".
    pub lifetime_hint: u32,
    /// `ticket<0..2^16-1>`.
    pub ticket: Vec<u8>,
}

impl Codec for NewSessionTicket {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.lifetime_hint.to_be_bytes());
        TICKET.encode_bytes(out, &self.ticket);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        Ok(Self {
            lifetime_hint: r.u32("ticket_lifetime_hint")?,
            ticket: TICKET.read_bytes(r)?,
        })
    }
}

/// The body of a handshake message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HandshakePayload {
    /// RFC 5246 §7.4.1.1: empty.
    HelloRequest,
    /// RFC 5246 §7.4.1.2.
    ClientHello(ClientHello),
    /// RFC 5246 §7.4.1.3.
    ServerHello(ServerHello),
    /// RFC 5246 §7.4.2 (server) and §7.4.6 (client).
    Certificate(CertificateChain),
    /// RFC 5246 §7.4.3.
    ServerKeyExchange(ServerKeyExchange),
    /// RFC 5246 §7.4.4.
    CertificateRequest(CertificateRequest),
    /// RFC 5246 §7.4.5: empty.
    ServerHelloDone,
    /// RFC 5246 §7.4.8.
    CertificateVerify(DigitallySigned),
    /// RFC 5246 §7.4.7.
    ClientKeyExchange(ClientKeyExchange),
    /// RFC 5246 §7.4.9: `verify_data[12]`.
    Finished([u8; VERIFY_DATA_LEN]),
    /// RFC 5077 §3.3.
    NewSessionTicket(NewSessionTicket),
    /// A handshake type we do not know (the state machines answer it with
    /// `unexpected_message`), kept as its type and body.
    Unknown {
        /// The type on the wire.
        typ: HandshakeType,
        /// The body.
        body: Vec<u8>,
    },
}

/// A handshake message: `Handshake`, RFC 5246 §7.4.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HandshakeMessage {
    /// The message.
    pub payload: HandshakePayload,
}

impl From<HandshakePayload> for HandshakeMessage {
    fn from(payload: HandshakePayload) -> Self {
        Self { payload }
    }
}

impl HandshakeMessage {
    /// The `HandshakeType` on the wire.
    pub fn typ(&self) -> HandshakeType {
        match &self.payload {
            HandshakePayload::HelloRequest => HandshakeType::HelloRequest,
            HandshakePayload::ClientHello(_) => HandshakeType::ClientHello,
            HandshakePayload::ServerHello(_) => HandshakeType::ServerHello,
            HandshakePayload::Certificate(_) => HandshakeType::Certificate,
            HandshakePayload::ServerKeyExchange(_) => HandshakeType::ServerKeyExchange,
            HandshakePayload::CertificateRequest(_) => HandshakeType::CertificateRequest,
            HandshakePayload::ServerHelloDone => HandshakeType::ServerHelloDone,
            HandshakePayload::CertificateVerify(_) => HandshakeType::CertificateVerify,
            HandshakePayload::ClientKeyExchange(_) => HandshakeType::ClientKeyExchange,
            HandshakePayload::Finished(_) => HandshakeType::Finished,
            HandshakePayload::NewSessionTicket(_) => HandshakeType::NewSessionTicket,
            HandshakePayload::Unknown { typ, .. } => *typ,
        }
    }

    /// Appends the message with its 4-byte header: the bytes that go into the transcript.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.typ().encode(out);
        body_bounds(self.typ()).encode_with(out, |out| match &self.payload {
            HandshakePayload::HelloRequest | HandshakePayload::ServerHelloDone => {}
            HandshakePayload::ClientHello(ch) => ch.encode(out),
            HandshakePayload::ServerHello(sh) => sh.encode(out),
            HandshakePayload::Certificate(chain) => chain.encode(out),
            HandshakePayload::ServerKeyExchange(ske) => ske.encode(out),
            HandshakePayload::CertificateRequest(cr) => cr.encode(out),
            HandshakePayload::CertificateVerify(signed) => signed.encode(out),
            HandshakePayload::ClientKeyExchange(cke) => cke.encode(out),
            HandshakePayload::Finished(verify_data) => out.extend_from_slice(verify_data),
            HandshakePayload::NewSessionTicket(ticket) => ticket.encode(out),
            HandshakePayload::Unknown { body, .. } => out.extend_from_slice(body),
        });
    }

    /// The encoding as a fresh vector.
    pub fn get_encoding(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Reads one message, header included; `kx` says how to read a key exchange message.
    /// The body must be consumed exactly.
    pub fn read(r: &mut Reader<'_>, kx: KeyExchange) -> Result<Self, InvalidMessage> {
        let typ = HandshakeType::read(r)?;
        let mut body = body_bounds(typ).body(r)?;
        let payload = HandshakePayload::read_body(typ, &mut body, kx)?;
        body.expect_empty("handshake message body")?;
        Ok(Self { payload })
    }

    /// Decodes exactly one message from `bytes`.
    pub fn read_bytes(bytes: &[u8], kx: KeyExchange) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(bytes);
        let msg = Self::read(&mut r, kx)?;
        r.expect_empty("handshake message")?;
        Ok(msg)
    }
}

impl HandshakePayload {
    fn read_body(
        typ: HandshakeType,
        r: &mut Reader<'_>,
        kx: KeyExchange,
    ) -> Result<Self, InvalidMessage> {
        Ok(match typ {
            HandshakeType::HelloRequest => Self::HelloRequest,
            HandshakeType::ClientHello => Self::ClientHello(ClientHello::read(r)?),
            HandshakeType::ServerHello => Self::ServerHello(ServerHello::read(r)?),
            HandshakeType::Certificate => Self::Certificate(CertificateChain::read(r)?),
            HandshakeType::ServerKeyExchange => {
                Self::ServerKeyExchange(ServerKeyExchange::read(r, kx)?)
            }
            HandshakeType::CertificateRequest => {
                Self::CertificateRequest(CertificateRequest::read(r)?)
            }
            HandshakeType::ServerHelloDone => Self::ServerHelloDone,
            HandshakeType::CertificateVerify => Self::CertificateVerify(DigitallySigned::read(r)?),
            HandshakeType::ClientKeyExchange => {
                Self::ClientKeyExchange(ClientKeyExchange::read(r, kx)?)
            }
            HandshakeType::Finished => Self::Finished(r.array("verify_data")?),
            HandshakeType::NewSessionTicket => Self::NewSessionTicket(NewSessionTicket::read(r)?),
            typ @ HandshakeType::Unknown(_) => Self::Unknown {
                typ,
                body: r.rest().to_vec(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::enums::AlertDescription;

    fn read(bytes: &[u8]) -> Result<HandshakeMessage, InvalidMessage> {
        HandshakeMessage::read_bytes(bytes, KeyExchange::Ecdhe)
    }

    /// A minimal ClientHello body: version, random, session_id, suites, compression.
    fn client_hello_body(session_id_len: u8, suites: &[u8], compression: &[u8]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]);
        body.push(session_id_len);
        body.extend(std::iter::repeat_n(7, session_id_len as usize));
        body.extend_from_slice(suites);
        body.extend_from_slice(compression);
        body
    }

    fn message(typ: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![typ];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn hostile_handshake_messages_get_the_right_alert() {
        use AlertDescription::{DecodeError, IllegalParameter};
        let ch =
            |sid, suites: &[u8], comp: &[u8]| message(1, &client_hello_body(sid, suites, comp));
        let mut explicit_curve = vec![1, 0, 23, 1, 4];
        explicit_curve.extend_from_slice(&[4, 3, 0, 0]);
        let cases: Vec<(&str, Vec<u8>, AlertDescription)> = vec![
            (
                "session_id of 33 bytes",
                ch(33, &[0, 2, 0xc0, 0x2b], &[1, 0]),
                DecodeError,
            ),
            ("no cipher suites", ch(0, &[0, 0], &[1, 0]), DecodeError),
            (
                "odd cipher suite bytes",
                ch(0, &[0, 3, 0xc0, 0x2b, 0], &[1, 0]),
                DecodeError,
            ),
            (
                "no compression methods",
                ch(0, &[0, 2, 0xc0, 0x2b], &[0]),
                DecodeError,
            ),
            (
                "truncated extensions",
                ch(0, &[0, 2, 0xc0, 0x2b], &[1, 0, 0]),
                DecodeError,
            ),
            ("finished of 11 bytes", message(20, &[0; 11]), DecodeError),
            ("finished of 13 bytes", message(20, &[0; 13]), DecodeError),
            (
                "non-empty server_hello_done",
                message(14, &[0]),
                DecodeError,
            ),
            ("non-empty hello_request", message(0, &[0]), DecodeError),
            ("empty ECPoint", message(16, &[0]), DecodeError),
            (
                "trailing byte after ECPoint",
                message(16, &[1, 4, 0]),
                DecodeError,
            ),
            (
                "explicit curve",
                message(12, &explicit_curve),
                IllegalParameter,
            ),
            (
                "empty ASN.1Cert",
                message(11, &[0, 0, 3, 0, 0, 0]),
                DecodeError,
            ),
            (
                "no certificate types",
                message(13, &[0, 0, 2, 4, 3, 0, 0]),
                DecodeError,
            ),
            (
                "empty distinguished name",
                message(13, &[1, 1, 0, 2, 4, 3, 0, 2, 0, 0]),
                DecodeError,
            ),
            ("length past the end", vec![2, 0, 0, 9, 3], DecodeError),
            ("message over 64 KiB", vec![11, 1, 0, 1], DecodeError),
        ];
        for (name, bytes, alert) in cases {
            let err = read(&bytes).expect_err(name);
            assert_eq!(err.alert(), alert, "{name}: {err}");
        }
    }

    #[test]
    fn extensions_absent_and_empty_are_told_apart() {
        let bare = client_hello_body(0, &[0, 2, 0xc0, 0x2b], &[1, 0]);
        let mut empty = bare.clone();
        empty.extend_from_slice(&[0, 0]);
        for body in [bare, empty] {
            let bytes = message(1, &body);
            let msg = read(&bytes).unwrap();
            assert_eq!(msg.get_encoding(), bytes);
        }
    }

    #[test]
    fn key_exchange_messages_read_in_their_context() {
        let psk = message(16, &[0, 2, b'i', b'd']);
        let msg = HandshakeMessage::read_bytes(&psk, KeyExchange::Psk).unwrap();
        let expected = ClientKeyExchange::Psk {
            identity: b"id".to_vec(),
        };
        assert_eq!(msg.payload, HandshakePayload::ClientKeyExchange(expected));
        // The same bytes are a truncated ECPoint for ECDHE.
        assert!(read(&psk).is_err());
    }
}
