//! Cutting a byte stream into records, and the receive buffer records are opened in.

use std::collections::VecDeque;
use std::ops::Range;

use crate::codec::{Codec, Reader};
use crate::msgs::enums::{ContentType, ProtocolVersion};
use crate::msgs::header::{RecordHeader, MAX_CIPHERTEXT_LEN};
use crate::record::{extend_from, RecordError, RETAIN};

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

/// A record cut out of the [`Deframer`]'s buffer without moving it: its header, and where
/// its fragment lies in the buffer ([`Deframer::fragment`], [`Deframer::fragment_mut`]).
/// The range stays valid until the next [`Deframer::push`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordInPlace {
    /// The content type from the header.
    pub typ: ContentType,
    /// The record-layer version from the header.
    pub version: ProtocolVersion,
    /// Where the fragment lies in the deframer's buffer.
    pub fragment: Range<usize>,
}

/// Buffers received bytes and hands out whole records. It never holds more than one
/// partial record beyond what the caller has not popped yet, and a broken header is
/// reported as soon as its five bytes are in, before its body arrives.
///
/// It is also the receive buffer of a connection: a record is opened in place where it
/// lies ([`Deframer::pop_in_place`], [`Deframer::fragment_mut`]), and the plaintext of
/// application data stays there, held for the application ([`Deframer::hold`]), until
/// it is read ([`Deframer::held`], [`Deframer::release`]). Nothing is copied on the way.
///
/// Popped records are not cut from the front of the buffer one by one (that moves the
/// rest of a large read once per record); a read offset advances instead. Bytes that are
/// done with are dropped when everything is (no move at all: the common case of whole
/// records read whole), or when a push would otherwise grow the buffer (then what is
/// still needed, a partial record and unread plaintext, moves to the front once).
#[derive(Clone, Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    /// Where the unread bytes start.
    start: usize,
    /// Plaintext held for the application, oldest first: ranges of `buf` before `start`.
    held: VecDeque<Range<usize>>,
    /// Where the record at `start` ends, once its header has been read and found good but
    /// its body is not all in: until the buffer reaches it, a pop need not read the
    /// header again (a record arriving in many small reads is parsed once, not per read).
    /// 0 when unknown.
    pending_end: usize,
}

/// Two deframers are equal when they hold the same unread bytes and the same plaintext
/// for the application, wherever those sit and however the plaintext is cut in records.
impl PartialEq for Deframer {
    fn eq(&self, other: &Self) -> bool {
        self.unread() == other.unread()
            && self.held_len() == other.held_len()
            && self.held_bytes().eq(other.held_bytes())
    }
}

impl Eq for Deframer {}

impl std::hash::Hash for Deframer {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.unread().hash(state);
        // Byte by byte, so that the hash does not depend on how the plaintext was cut
        // into records (as equality does not). Only the model hashes connections, and
        // its states hold no unread plaintext.
        state.write_usize(self.held_len());
        for byte in self.held_bytes() {
            state.write_u8(byte);
        }
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
        if self.buf.capacity() - self.buf.len() < bytes.len() {
            self.compact();
        }
        extend_from(&mut self.buf, bytes);
    }

    /// Drops the bytes nobody needs any more from the front of the buffer: popped
    /// records, except the plaintext still held.
    fn compact(&mut self) {
        let keep = self.held.front().map_or(self.start, |r| r.start);
        if keep == 0 {
            return;
        }
        self.buf.drain(..keep);
        self.start -= keep;
        self.pending_end = self.pending_end.saturating_sub(keep);
        for range in &mut self.held {
            *range = range.start - keep..range.end - keep;
        }
    }

    /// Empties the buffer once nothing in it is needed: no unread bytes, no held
    /// plaintext. No byte moves.
    fn reset_if_done(&mut self) {
        if self.start == self.buf.len() && self.held.is_empty() {
            self.start = 0;
            self.pending_end = 0;
            if self.buf.capacity() > RETAIN {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
        }
    }

    /// Bytes received and not yet handed out as a record.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The next whole record, copied out, `Ok(None)` if more bytes are needed, or the
    /// fatal error the stream has.
    pub fn pop(&mut self) -> Result<Option<OpaqueRecord>, RecordError> {
        let Some(record) = self.pop_in_place()? else {
            return Ok(None);
        };
        let payload = self.fragment(&record).to_vec();
        self.reset_if_done();
        Ok(Some(OpaqueRecord {
            typ: record.typ,
            version: record.version,
            payload,
        }))
    }

    /// The next whole record, left where it lies in the buffer, `Ok(None)` if more bytes
    /// are needed, or the fatal error the stream has.
    pub fn pop_in_place(&mut self) -> Result<Option<RecordInPlace>, RecordError> {
        if self.buffered() < RecordHeader::LEN || self.buf.len() < self.pending_end {
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
        let from = self.start + RecordHeader::LEN;
        let to = from + header.len as usize;
        if to > self.buf.len() {
            self.pending_end = to;
            return Ok(None);
        }
        self.start = to;
        self.pending_end = 0;
        Ok(Some(RecordInPlace {
            typ: header.typ,
            version: header.version,
            fragment: from..to,
        }))
    }

    /// The fragment of a record [`Deframer::pop_in_place`] handed out (empty if the
    /// buffer has since been pushed to and the range no longer fits).
    pub fn fragment(&self, record: &RecordInPlace) -> &[u8] {
        self.buf.get(record.fragment.clone()).unwrap_or_default()
    }

    /// The same, to open in place.
    pub fn fragment_mut(&mut self, record: &RecordInPlace) -> &mut [u8] {
        self.buf
            .get_mut(record.fragment.clone())
            .unwrap_or_default()
    }

    /// Keeps `range` (a part of a popped record's fragment: its plaintext) for the
    /// application, after what is held already. An empty range is not kept.
    pub fn hold(&mut self, range: Range<usize>) {
        debug_assert!(range.end <= self.start);
        if range.start < range.end {
            self.held.push_back(range);
        }
    }

    /// The oldest plaintext held for the application (one record's, or what is left of
    /// it); empty when none is.
    pub fn held(&self) -> &[u8] {
        self.held
            .front()
            .and_then(|r| self.buf.get(r.clone()))
            .unwrap_or_default()
    }

    /// All plaintext held, in order, record by record.
    pub fn held_chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.held
            .iter()
            .map(|r| self.buf.get(r.clone()).unwrap_or_default())
    }

    fn held_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.held_chunks().flatten().copied()
    }

    /// How many plaintext bytes are held.
    pub fn held_len(&self) -> usize {
        self.held.iter().map(|r| r.end - r.start).sum()
    }

    /// Marks the first `n` held bytes read (at most what is held).
    pub fn release(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.held.front_mut() else {
                break;
            };
            let take = n.min(front.end - front.start);
            front.start += take;
            n -= take;
            if front.start == front.end {
                self.held.pop_front();
            }
        }
        self.reset_if_done();
    }

    /// Everything held, copied out and released.
    pub fn take_held(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.held_len());
        for chunk in self.held_chunks() {
            extend_from(&mut out, chunk);
        }
        self.held.clear();
        self.reset_if_done();
        out
    }

    /// Marks every popped record done with: the buffer empties if nothing is held and
    /// nothing unread. The record layer calls it when it has no more records to pop.
    pub fn tidy(&mut self) {
        self.reset_if_done();
    }

    /// The buffer's allocation, for tests of what it keeps.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::enums::AlertDescription;
    use crate::record::hash_of;

    #[test]
    fn deframers_holding_other_bytes_hash_apart() {
        let mut a = Deframer::new();
        let mut b = Deframer::new();
        a.push(&[23, 3, 3, 0, 4, 1]);
        b.push(&[23, 3, 3, 0, 4, 2]);
        assert_ne!(a, b);
        assert_ne!(hash_of(&a), hash_of(&b));
        // The same unread bytes, reached differently, hash alike.
        let mut c = Deframer::new();
        c.push(&[21, 3, 3, 0, 2, 1, 0, 23, 3, 3]);
        c.push(&[0, 4, 1]);
        assert!(c.pop().ok().flatten().is_some());
        assert_eq!(a, c);
        assert_eq!(hash_of(&a), hash_of(&c));
    }

    /// A deframer holding, as application plaintext, bytes 1.. of each record's fragment,
    /// the records received in one read (so that no held range starts at 0).
    fn holding(fragments: &[&[u8]]) -> Deframer {
        let mut d = Deframer::new();
        let mut stream = Vec::new();
        for fragment in fragments {
            stream.extend_from_slice(&[23, 3, 3, 0, fragment.len() as u8]);
            stream.extend_from_slice(fragment);
        }
        d.push(&stream);
        while let Ok(Some(r)) = d.pop_in_place() {
            d.hold(r.fragment.start + 1..r.fragment.end);
        }
        d
    }

    #[test]
    fn held_plaintext_is_released_across_records_and_compared_by_content() {
        let mut d = holding(&[&[0, 1, 2, 3], &[0, 4, 5, 6, 7]]);
        assert_eq!(d.held_len(), 7);
        assert_eq!(d.held(), [1, 2, 3]);
        d.release(5);
        assert_eq!(d.held(), [6, 7]);
        assert_eq!(d.held_len(), 2);
        d.release(2);
        assert_eq!(d.held(), [] as [u8; 0]);
        assert_eq!(d.held_len(), 0);

        // Equal when the same plaintext is held, however it is cut in records.
        let a = holding(&[&[0, 1, 2, 3], &[0, 4, 5]]);
        let b = holding(&[&[0, 1, 2], &[0, 3, 4, 5]]);
        let c = holding(&[&[0, 1, 2, 3], &[0, 4, 9]]);
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_ne!(a, c);
        assert_ne!(hash_of(&a), hash_of(&c));
    }

    #[test]
    fn the_largest_legal_record_occupies_max_record_bytes() {
        let mut stream = vec![23, 3, 3];
        stream.extend_from_slice(&(MAX_CIPHERTEXT_LEN as u16).to_be_bytes());
        stream.resize(Deframer::MAX_RECORD, 7);
        let mut d = Deframer::new();
        d.push(&stream);
        let r = d.pop_in_place().unwrap().unwrap();
        assert_eq!(
            RecordHeader::LEN + d.fragment(&r).len(),
            Deframer::MAX_RECORD
        );
        assert_eq!(d.buffered(), 0);
    }

    /// An empty record's plaintext (legal for application data) is not held: an empty
    /// range at the front would hide the plaintext held behind it.
    #[test]
    fn an_empty_range_is_not_held() {
        let mut d = Deframer::new();
        d.push(&[23, 3, 3, 0, 0, 23, 3, 3, 0, 2, 8, 9]);
        let empty = d.pop_in_place().unwrap().unwrap();
        d.hold(empty.fragment.clone());
        let full = d.pop_in_place().unwrap().unwrap();
        d.hold(full.fragment.clone());
        assert_eq!(d.held(), [8, 9]);
        assert_eq!(d.held_chunks().count(), 1);
    }

    #[test]
    fn a_stream_that_always_ends_inside_a_record_keeps_a_bounded_buffer() {
        // Each read brings the rest of one record and half of the next: the buffer is
        // never all consumed, so only compaction keeps it from growing with the stream.
        let record = |n: u8| {
            let mut r = vec![23, 3, 3, 0, 200];
            r.resize(205, n);
            r
        };
        let stream: Vec<u8> = (0..=255u8).flat_map(record).collect();
        let mut d = Deframer::new();
        let mut popped = 0;
        for piece in stream.chunks(205 + 100) {
            d.push(piece);
            while let Ok(Some(r)) = d.pop_in_place() {
                assert_eq!(d.fragment(&r).len(), 200);
                popped += 1;
            }
        }
        assert_eq!(popped, 256);
        assert!(d.capacity() < 4 * 1024, "capacity {}", d.capacity());
    }

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
    fn records_pop_in_place_and_held_plaintext_survives_later_pushes() {
        let mut d = Deframer::new();
        // Two application data records and the first byte of a third.
        d.push(&[23, 3, 3, 0, 3, 1, 2, 3, 23, 3, 3, 0, 2, 4, 5, 23]);
        let first = d.pop_in_place().unwrap().unwrap();
        assert_eq!(first.typ, ContentType::ApplicationData);
        assert_eq!(d.fragment(&first), [1, 2, 3]);
        // Hold the "plaintext" 2, 3 (as if a byte of nonce came first).
        d.hold(first.fragment.start + 1..first.fragment.end);
        let second = d.pop_in_place().unwrap().unwrap();
        d.fragment_mut(&second)[0] = 9;
        d.hold(second.fragment.clone());
        assert!(d.pop_in_place().unwrap().is_none());
        assert_eq!(d.held(), [2, 3]);
        assert_eq!(d.held_len(), 4);
        // A push that does not fit compacts: the held bytes and the partial record move,
        // nothing is lost.
        d.push(&[3, 3, 0, 1, 6]);
        d.push(&[0; 64]);
        assert_eq!(d.held_chunks().collect::<Vec<_>>(), [&[2, 3][..], &[9, 5]]);
        d.release(3);
        assert_eq!(d.held(), [5]);
        assert_eq!(d.take_held(), [5]);
        assert_eq!(d.held_len(), 0);
        assert_eq!(d.pop().unwrap().map(|r| r.payload), Some(vec![6]));
    }

    #[test]
    fn deframers_compare_by_held_plaintext_however_it_is_cut() {
        let (mut a, mut b) = (Deframer::new(), Deframer::new());
        a.push(&[23, 3, 3, 0, 2, 1, 2, 23, 3, 3, 0, 1, 3]);
        while let Some(r) = a.pop_in_place().unwrap() {
            a.hold(r.fragment);
        }
        b.push(&[23, 3, 3, 0, 3, 1, 2, 3]);
        let r = b.pop_in_place().unwrap().unwrap();
        b.hold(r.fragment);
        assert_eq!(a, b);
        use std::hash::BuildHasher;
        let state = std::hash::RandomState::new();
        assert_eq!(state.hash_one(&a), state.hash_one(&b));
        b.release(1);
        assert_ne!(a, b);
    }

    #[test]
    fn a_fully_read_buffer_empties_without_moving_a_byte() {
        let mut d = Deframer::new();
        d.push(&[23, 3, 3, 0, 2, 1, 2]);
        let r = d.pop_in_place().unwrap().unwrap();
        d.hold(r.fragment);
        d.tidy();
        assert_eq!(d.held(), [1, 2]);
        d.release(2);
        assert_eq!(d.buf.len(), 0);
        assert_eq!(d.start, 0);
    }

    #[test]
    fn empty_application_data_is_allowed() {
        let mut d = Deframer::new();
        d.push(&[23, 3, 3, 0, 0]);
        assert_eq!(d.pop().unwrap().map(|r| r.payload.len()), Some(0));
    }
}
