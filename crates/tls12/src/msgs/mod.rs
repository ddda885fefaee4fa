//! Floor 2: one type per wire message of TLS 1.2 (RFC 5246) and the extension RFCs, each
//! with a strict `encode` / `read`.

pub mod alert;
pub mod base;
pub mod enums;
pub mod extensions;
pub mod handshake;
pub mod header;

pub use alert::{AlertMessage, ChangeCipherSpec};
pub use base::{Random, SessionId};
pub use extensions::{
    ClientExtension, ProtocolName, ServerExtension, ServerName, UnknownExtension,
};
pub use handshake::{
    CertificateChain, CertificateDer, CertificateRequest, ClientHello, ClientKeyExchange,
    DigitallySigned, DistinguishedName, EcdheParams, HandshakeMessage, HandshakePayload,
    KeyExchange, NewSessionTicket, ServerHello, ServerKeyExchange,
};
pub use header::RecordHeader;
