//! Reassembling handshake messages across records (RFC 5246 §6.2.1: "multiple client
//! messages of the same ContentType MAY be coalesced into a single TLSPlaintext record,
//! or a single message MAY be fragmented across several records").

use crate::msgs::enums::HandshakeType;
use crate::msgs::handshake::max_body_len;
use crate::record::RecordError;

const HEADER_LEN: usize = 4;

/// Collects handshake fragments and hands out whole messages as their exact bytes
/// (header included): the transcript hash needs those bytes, and the state machine,
/// which knows the negotiated key exchange, decodes them.
///
/// Popped messages are not cut from the front one by one (a record packed with many
/// small messages would move the rest of the buffer once per message, quadratic in the
/// record's size); a read offset advances instead, and the consumed prefix is dropped on
/// the next push.
#[derive(Clone, Debug, Default)]
pub struct HandshakeJoiner {
    buf: Vec<u8>,
    /// Where the bytes not yet popped start.
    start: usize,
    /// How far [`HandshakeJoiner::check_lengths`] has checked headers.
    checked: usize,
}

/// Two joiners are equal when they hold the same unpopped bytes.
impl PartialEq for HandshakeJoiner {
    fn eq(&self, other: &Self) -> bool {
        self.unread() == other.unread()
    }
}

impl Eq for HandshakeJoiner {}

impl std::hash::Hash for HandshakeJoiner {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.unread().hash(state);
    }
}

impl HandshakeJoiner {
    /// An empty joiner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the payload of one handshake record. An announced length over the limit for
    /// its message type (see [`max_body_len`]) is refused as soon as its header is in, so
    /// a peer cannot make us buffer it.
    pub fn push(&mut self, fragment: &[u8]) -> Result<(), RecordError> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.checked = self.checked.saturating_sub(self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(fragment);
        self.check_lengths()
    }

    /// The next whole message, if one is complete.
    pub fn pop(&mut self) -> Option<Vec<u8>> {
        let len = self.next_len()?;
        let msg = self.unread().get(..len)?.to_vec();
        self.start += len;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.checked = 0;
        }
        Some(msg)
    }

    /// Whether no partial message is held. A ChangeCipherSpec or an epoch change while a
    /// message is half received is an `unexpected_message` (RFC 5246 §7.1: the handshake
    /// messages before it belong to the old epoch).
    pub fn is_empty(&self) -> bool {
        self.unread().is_empty()
    }

    fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The total length (header included) of the first buffered message, once its header
    /// is in.
    fn next_len(&self) -> Option<usize> {
        let header = self.unread().get(..HEADER_LEN)?;
        Some(HEADER_LEN + u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize)
    }

    /// Checks each message header not checked before, from the first unpopped message on.
    fn check_lengths(&mut self) -> Result<(), RecordError> {
        let mut offset = self.checked.max(self.start);
        while let Some(header) = self.buf.get(offset..offset + HEADER_LEN) {
            let len = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
            if len > max_body_len(HandshakeType::from(header[0])) {
                return Err(RecordError::HandshakeTooLong(len));
            }
            offset += HEADER_LEN + len;
        }
        self.checked = offset;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::hash_of;

    /// Equality and hashing (the model's state deduplication relies on both) are by the
    /// bytes not yet popped, however they arrived.
    #[test]
    fn joiners_compare_by_their_unpopped_bytes() {
        let mut a = HandshakeJoiner::new();
        a.push(&[20, 0, 0, 12, 1]).unwrap();
        let mut b = HandshakeJoiner::new();
        b.push(&[20, 0, 0, 12, 2]).unwrap();
        assert_ne!(a, b);
        let mut c = HandshakeJoiner::new();
        c.push(&[14, 0, 0, 0, 20, 0, 0, 12, 1]).unwrap();
        assert_eq!(c.pop().as_deref(), Some(&[14, 0, 0, 0][..]));
        assert_eq!(a, c);
        assert_ne!(hash_of(&a), hash_of(&b));
        assert_eq!(hash_of(&a), hash_of(&c));
    }

    /// A stream whose reads never end on a message boundary: the joiner is never empty,
    /// so only the drop of popped bytes at the next push keeps its buffer from holding
    /// the whole stream.
    #[test]
    fn popped_bytes_are_dropped_while_a_message_is_pending() {
        let finished = [&[20, 0, 0, 12][..], &[7; 12]].concat();
        // A 5-byte message first: every later message ends 5 bytes past a multiple of 16.
        let stream = [&[99, 0, 0, 1, 0][..], &finished.repeat(1000)].concat();
        let mut j = HandshakeJoiner::new();
        let mut popped = 0;
        for piece in stream.chunks(16) {
            j.push(piece).unwrap();
            while j.pop().is_some() {
                popped += 1;
            }
            assert!(j.buf.len() <= 32, "{} bytes buffered", j.buf.len());
        }
        assert_eq!(popped, 1001);
    }

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
    fn a_client_hello_may_be_as_long_as_its_structure_allows() {
        use crate::msgs::handshake::MAX_CLIENT_HELLO_LEN;
        let max = (MAX_CLIENT_HELLO_LEN as u32).to_be_bytes();
        let mut j = HandshakeJoiner::new();
        assert_eq!(j.push(&[1, max[1], max[2], max[3]]), Ok(()));
        let over = (MAX_CLIENT_HELLO_LEN as u32 + 1).to_be_bytes();
        let mut j = HandshakeJoiner::new();
        assert_eq!(
            j.push(&[1, over[1], over[2], over[3]]),
            Err(RecordError::HandshakeTooLong(MAX_CLIENT_HELLO_LEN + 1))
        );
    }

    #[test]
    fn many_small_messages_in_one_record_come_out_in_order() {
        // 4,096 empty HelloRequests, then a Finished split over the next push.
        let mut record = [0u8, 0, 0, 0].repeat(4096);
        record.extend_from_slice(&[20, 0, 0, 12, 7]);
        let mut j = HandshakeJoiner::new();
        j.push(&record).unwrap();
        let mut n = 0;
        while let Some(msg) = j.pop() {
            assert_eq!(msg, [0, 0, 0, 0]);
            n += 1;
        }
        assert_eq!(n, 4096);
        assert!(!j.is_empty());
        j.push(&[7; 11]).unwrap();
        assert_eq!(j.pop().unwrap(), [&[20, 0, 0, 12][..], &[7; 12]].concat());
        assert!(j.is_empty());
    }

    #[test]
    fn a_partial_message_is_visible() {
        let mut j = HandshakeJoiner::new();
        j.push(&[20, 0, 0, 12, 1]).unwrap();
        assert_eq!(j.pop(), None);
        assert!(!j.is_empty());
    }
}
