//! The record header, RFC 5246 §6.2.1.

use crate::codec::{Codec, InvalidMessage, Reader};
use crate::msgs::enums::{ContentType, ProtocolVersion};

/// The most plaintext one record may carry: 2^14 bytes (RFC 5246 §6.2.1).
pub const MAX_PLAINTEXT_LEN: usize = 1 << 14;

/// The most one protected record may carry: 2^14 + 2048 bytes (RFC 5246 §6.2.3).
pub const MAX_CIPHERTEXT_LEN: usize = MAX_PLAINTEXT_LEN + 2048;

/// The five bytes in front of every record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    /// What the fragment holds.
    pub typ: ContentType,
    /// The record-layer version (a ClientHello's record may say 3.1; RFC 5246 App. E.1).
    pub version: ProtocolVersion,
    /// The fragment's length, at most [`MAX_CIPHERTEXT_LEN`].
    pub len: u16,
}

impl RecordHeader {
    /// The header's size on the wire.
    pub const LEN: usize = 5;
}

impl Codec for RecordHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        self.typ.encode(out);
        self.version.encode(out);
        self.len.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        let typ = ContentType::read(r)?;
        let version = ProtocolVersion::read(r)?;
        let len = r.u16("record length")?;
        if len as usize > MAX_CIPHERTEXT_LEN {
            return Err(InvalidMessage::RecordOverflow(len as usize));
        }
        Ok(Self { typ, version, len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::enums::AlertDescription;

    #[test]
    fn the_longest_record_is_2_to_the_14_plus_2048() {
        let at_limit = [22, 3, 3, 0x48, 0x00];
        assert_eq!(
            RecordHeader::read_bytes(&at_limit).map(|h| h.len as usize),
            Ok(MAX_CIPHERTEXT_LEN)
        );
        let over = RecordHeader::read_bytes(&[22, 3, 3, 0x48, 0x01]).unwrap_err();
        assert_eq!(over.alert(), AlertDescription::RecordOverflow);
    }
}
