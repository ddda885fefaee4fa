//! Cutting a byte stream into records.

use crate::codec::{Codec, Reader};
use crate::msgs::enums::{ContentType, ProtocolVersion};
use crate::msgs::header::{RecordHeader, MAX_CIPHERTEXT_LEN};
use crate::record::RecordError;

/// One record as it came off the wire: its payload may still be protected.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OpaqueRecord {
    /// The content type from the header.
    pub typ: ContentType,
    /// The record-layer version from the header.
    pub version: ProtocolVersion,
    /// The fragment, at most 2^14 + 2048 bytes.
    pub payload: Vec<u8>,
}

impl OpaqueRecord {
    /// Header and payload as they go on the wire.
    pub fn encode(&self, out: &mut Vec<u8>) {
        RecordHeader {
            typ: self.typ,
            version: self.version,
            len: self.payload.len() as u16,
        }
        .encode(out);
        out.extend_from_slice(&self.payload);
    }
}

/// Buffers received bytes and hands out whole records. It never holds more than one
/// partial record beyond what the caller has not popped yet, and a broken header is
/// reported as soon as its five bytes are in, before its body arrives.
///
/// Popped records are not cut from the front of the buffer one by one (that moves the
/// rest of a large read once per record); a read offset advances instead, and the
/// buffer is compacted when it is all consumed or on the next push.
#[derive(Clone, Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    /// Where the unread bytes start.
    start: usize,
}

/// Two deframers are equal when they hold the same unread bytes, wherever those sit.
impl PartialEq for Deframer {
    fn eq(&self, other: &Self) -> bool {
        self.unread() == other.unread()
    }
}

impl Eq for Deframer {}

impl std::hash::Hash for Deframer {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.unread().hash(state);
    }
}

impl Deframer {
    /// The most bytes one record occupies on the wire.
    pub const MAX_RECORD: usize = RecordHeader::LEN + MAX_CIPHERTEXT_LEN;

    /// An empty deframer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received and not yet handed out as a record.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The next whole record, `Ok(None)` if more bytes are needed, or the fatal error
    /// the stream has.
    pub fn pop(&mut self) -> Result<Option<OpaqueRecord>, RecordError> {
        if self.buffered() < RecordHeader::LEN {
            return Ok(None);
        }
        let mut r = Reader::new(self.unread());
        let header = RecordHeader::read(&mut r).map_err(RecordError::Header)?;
        // Heartbeat (RFC 6520) is not negotiated by this crate, so it is as unknown.
        if let ContentType::Unknown(_) | ContentType::Heartbeat = header.typ {
            return Err(RecordError::UnknownContentType(header.typ.get()));
        }
        if header.version.get() >> 8 != 3 {
            return Err(RecordError::NotTls(header.version.get()));
        }
        if header.len == 0 && header.typ != ContentType::ApplicationData {
            return Err(RecordError::EmptyFragment(header.typ));
        }
        let Ok(payload) = r.take(header.len as usize, "record") else {
            return Ok(None);
        };
        let record = OpaqueRecord {
            typ: header.typ,
            version: header.version,
            payload: payload.to_vec(),
        };
        self.start += RecordHeader::LEN + header.len as usize;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::enums::AlertDescription;

    #[test]
    fn records_come_out_whole_whatever_the_chunking() {
        let stream = [22, 3, 1, 0, 2, 0xaa, 0xbb, 20, 3, 3, 0, 1, 1];
        for chunk in 1..stream.len() {
            let mut d = Deframer::new();
            let mut records = Vec::new();
            for piece in stream.chunks(chunk) {
                d.push(piece);
                while let Some(record) = d.pop().unwrap() {
                    records.push(record);
                }
            }
            assert_eq!(records.len(), 2, "chunk size {chunk}");
            assert_eq!(records[0].payload, [0xaa, 0xbb]);
            assert_eq!(records[1].typ, ContentType::ChangeCipherSpec);
            assert_eq!(d.buffered(), 0);
        }
    }

    #[test]
    fn broken_headers_are_fatal_before_the_body_arrives() {
        let cases: &[(&str, [u8; 5], AlertDescription)] = &[
            (
                "unknown type",
                [99, 3, 3, 0, 1],
                AlertDescription::UnexpectedMessage,
            ),
            (
                "heartbeat",
                [24, 3, 3, 0, 1],
                AlertDescription::UnexpectedMessage,
            ),
            ("HTTP", *b"GET /", AlertDescription::UnexpectedMessage),
            (
                "SSLv2-ish version",
                [22, 2, 0, 0, 1],
                AlertDescription::ProtocolVersion,
            ),
            (
                "overflow",
                [23, 3, 3, 0x48, 0x01],
                AlertDescription::RecordOverflow,
            ),
            (
                "empty handshake",
                [22, 3, 3, 0, 0],
                AlertDescription::UnexpectedMessage,
            ),
            (
                "empty alert",
                [21, 3, 3, 0, 0],
                AlertDescription::UnexpectedMessage,
            ),
        ];
        for (name, header, alert) in cases {
            let mut d = Deframer::new();
            d.push(header);
            assert_eq!(d.pop().map_err(|e| e.alert()), Err(*alert), "{name}");
        }
    }

    #[test]
    fn deframers_compare_by_their_unread_bytes() {
        let (mut a, mut b) = (Deframer::new(), Deframer::new());
        a.push(&[23, 3, 3, 0, 1, 9, 23, 3]);
        assert!(a.pop().unwrap().is_some());
        b.push(&[23, 3]);
        assert_eq!(a, b);
        assert_eq!(a.buffered(), 2);
        // The offset is folded away on the next push; nothing is lost.
        a.push(&[3, 0, 1, 7]);
        assert_eq!(a.pop().unwrap().map(|r| r.payload), Some(vec![7]));
        assert_eq!(a.buffered(), 0);
    }

    #[test]
    fn empty_application_data_is_allowed() {
        let mut d = Deframer::new();
        d.push(&[23, 3, 3, 0, 0]);
        assert_eq!(d.pop().unwrap().map(|r| r.payload.len()), Some(0));
    }
}
