//! Floor 5: the record layer. [`Deframer`] cuts a byte stream into records;
//! [`HandshakeJoiner`] reassembles handshake messages that were split over records or
//! packed several to a record (RFC 5246 §6.2.1); [`RecordCipher`] protects and opens
//! records with the negotiated AEAD.

mod deframer;
mod joiner;
mod layer;
mod protect;

pub use deframer::{Deframer, OpaqueRecord};
pub use joiner::HandshakeJoiner;
pub use layer::{FlightItem, Incoming, RecordLayer};
pub use protect::RecordCipher;

use std::fmt;

use crate::codec::InvalidMessage;
use crate::msgs::enums::{AlertDescription, ContentType};

/// Why the record stream is broken. Every variant is fatal and names its alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordError {
    /// A header that does not decode, or a record over 2^14 + 2048 bytes.
    Header(InvalidMessage),
    /// A content type outside RFC 5246 §6.2.1 (RFC 5246 §6: `unexpected_message`).
    UnknownContentType(u8),
    /// A record whose version is not 3.x: not TLS at all.
    NotTls(u16),
    /// A zero-length handshake, alert or ChangeCipherSpec fragment (RFC 5246 §6.2.1).
    EmptyFragment(ContentType),
    /// A handshake message announced longer than we will buffer.
    HandshakeTooLong(usize),
}

impl RecordError {
    /// The fatal alert that answers this error.
    pub fn alert(&self) -> AlertDescription {
        match self {
            Self::Header(err) => err.alert(),
            Self::UnknownContentType(_) | Self::EmptyFragment(_) => {
                AlertDescription::UnexpectedMessage
            }
            Self::NotTls(_) => AlertDescription::ProtocolVersion,
            Self::HandshakeTooLong(_) => AlertDescription::DecodeError,
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header(err) => write!(f, "bad record header: {err}"),
            Self::UnknownContentType(typ) => write!(f, "unknown record content type {typ}"),
            Self::NotTls(version) => write!(f, "record version {version:#06x} is not TLS"),
            Self::EmptyFragment(typ) => write!(f, "empty {typ:?} fragment"),
            Self::HandshakeTooLong(len) => {
                write!(f, "handshake message of {len} bytes is too long")
            }
        }
    }
}

impl std::error::Error for RecordError {}
