//! The two one- and two-byte record-layer messages: Alert (RFC 5246 §7.2) and
//! ChangeCipherSpec (RFC 5246 §7.1).

use crate::codec::{Codec, InvalidMessage, Reader};
use crate::msgs::enums::{AlertDescription, AlertLevel};

/// An `Alert`, RFC 5246 §7.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AlertMessage {
    /// Warning or fatal; any other level is refused on decode (`decode_error`).
    pub level: AlertLevel,
    /// What went wrong; unknown descriptions are kept.
    pub description: AlertDescription,
}

impl AlertMessage {
    /// A fatal alert.
    pub fn fatal(description: AlertDescription) -> Self {
        Self {
            level: AlertLevel::Fatal,
            description,
        }
    }

    /// A warning alert (close_notify, no_renegotiation).
    pub fn warning(description: AlertDescription) -> Self {
        Self {
            level: AlertLevel::Warning,
            description,
        }
    }
}

impl Codec for AlertMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.level.encode(out);
        self.description.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        let level = AlertLevel::read(r)?;
        if let AlertLevel::Unknown(_) = level {
            return Err(InvalidMessage::OutOfRange("AlertLevel"));
        }
        let description = AlertDescription::read(r)?;
        Ok(Self { level, description })
    }
}

/// `ChangeCipherSpec`, RFC 5246 §7.1: exactly one byte, of value 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChangeCipherSpec;

impl Codec for ChangeCipherSpec {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(1);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        match r.u8("ChangeCipherSpec")? {
            1 => Ok(Self),
            _ => Err(InvalidMessage::OutOfRange("ChangeCipherSpec")),
        }
    }
}

impl InvalidMessage {
    /// The fatal alert that answers this fault (RFC 5246 §7.2.2): a message that cannot
    /// be parsed is `decode_error`; a parsed handshake field whose value is forbidden or
    /// inconsistent (a duplicate extension, an explicit curve, ...) is
    /// `illegal_parameter`.
    pub fn alert(&self) -> AlertDescription {
        match self {
            Self::Truncated(_)
            | Self::TrailingData(_)
            | Self::LengthOutOfRange { .. }
            | Self::UnevenLength(_)
            | Self::OutOfRange(_) => AlertDescription::DecodeError,
            Self::RecordOverflow(_) => AlertDescription::RecordOverflow,
            Self::DuplicateExtension(_) | Self::IllegalValue(_) => {
                AlertDescription::IllegalParameter
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_cipher_spec_is_exactly_one_byte_of_value_one() {
        assert_eq!(ChangeCipherSpec::read_bytes(&[1]), Ok(ChangeCipherSpec));
        for bad in [&[][..], &[0], &[2], &[1, 1]] {
            let err = ChangeCipherSpec::read_bytes(bad).unwrap_err();
            assert_eq!(err.alert(), AlertDescription::DecodeError, "{bad:?}");
        }
    }

    #[test]
    fn alert_levels_other_than_warning_and_fatal_are_refused() {
        assert_eq!(
            AlertMessage::read_bytes(&[2, 40]),
            Ok(AlertMessage::fatal(AlertDescription::HandshakeFailure))
        );
        assert_eq!(
            AlertMessage::read_bytes(&[1, 0]),
            Ok(AlertMessage::warning(AlertDescription::CloseNotify))
        );
        assert_eq!(
            AlertMessage::read_bytes(&[3, 0]),
            Err(InvalidMessage::OutOfRange("AlertLevel"))
        );
        assert_eq!(
            AlertMessage::read_bytes(&[2, 200]).map(|a| a.description),
            Ok(AlertDescription::Unknown(200))
        );
    }
}
