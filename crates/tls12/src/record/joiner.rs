//! Reassembling handshake messages across records (RFC 5246 §6.2.1: "multiple client
//! messages of the same ContentType MAY be coalesced into a single TLSPlaintext record,
//! or a single message MAY be fragmented across several records").

use crate::msgs::handshake::MAX_HANDSHAKE_LEN;
use crate::record::RecordError;

const HEADER_LEN: usize = 4;

/// Collects handshake fragments and hands out whole messages as their exact bytes
/// (header included): the transcript hash needs those bytes, and the state machine,
/// which knows the negotiated key exchange, decodes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HandshakeJoiner {
    buf: Vec<u8>,
}

impl HandshakeJoiner {
    /// An empty joiner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the payload of one handshake record. An announced length over the limit is
    /// refused as soon as its header is in, so a peer cannot make us buffer it.
    pub fn push(&mut self, fragment: &[u8]) -> Result<(), RecordError> {
        self.buf.extend_from_slice(fragment);
        self.check_lengths()
    }

    /// The next whole message, if one is complete.
    pub fn pop(&mut self) -> Option<Vec<u8>> {
        let len = self.next_len()?;
        if self.buf.len() < len {
            return None;
        }
        let rest = self.buf.split_off(len);
        Some(std::mem::replace(&mut self.buf, rest))
    }

    /// Whether no partial message is held. A ChangeCipherSpec or an epoch change while a
    /// message is half received is an `unexpected_message` (RFC 5246 §7.1: the handshake
    /// messages before it belong to the old epoch).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The total length (header included) of the first buffered message, once its header
    /// is in.
    fn next_len(&self) -> Option<usize> {
        let header = self.buf.get(..HEADER_LEN)?;
        Some(HEADER_LEN + u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize)
    }

    fn check_lengths(&self) -> Result<(), RecordError> {
        let mut offset = 0;
        while let Some(header) = self.buf.get(offset..offset + HEADER_LEN) {
            let len = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
            if len > MAX_HANDSHAKE_LEN {
                return Err(RecordError::HandshakeTooLong(len));
            }
            offset += HEADER_LEN + len;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_and_coalesced_come_out_whole() {
        // ServerHelloDone, then a 3-byte unknown message, then Finished split in three.
        let stream = [
            &[14, 0, 0, 0][..],
            &[99, 0, 0, 3, 1, 2, 3],
            &[20, 0, 0, 12],
            &[0; 12],
        ]
        .concat();
        for chunk in 1..=stream.len() {
            let mut j = HandshakeJoiner::new();
            let mut out = Vec::new();
            for piece in stream.chunks(chunk) {
                j.push(piece).unwrap();
                while let Some(msg) = j.pop() {
                    out.push(msg);
                }
            }
            assert!(j.is_empty(), "chunk size {chunk}");
            assert_eq!(out.len(), 3, "chunk size {chunk}");
            assert_eq!(out.concat(), stream);
        }
    }

    #[test]
    fn an_oversized_message_is_refused_from_its_header() {
        let mut j = HandshakeJoiner::new();
        j.push(&[14, 0, 0, 0]).unwrap();
        assert_eq!(j.push(&[11, 0x01, 0x00]), Ok(()));
        assert_eq!(j.push(&[0x01]), Err(RecordError::HandshakeTooLong(0x10001)));
    }

    #[test]
    fn a_partial_message_is_visible() {
        let mut j = HandshakeJoiner::new();
        j.push(&[20, 0, 0, 12, 1]).unwrap();
        assert_eq!(j.pop(), None);
        assert!(!j.is_empty());
    }
}
