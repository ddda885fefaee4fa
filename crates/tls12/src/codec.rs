//! Floor 1: reading and writing the TLS presentation language (RFC 5246 §4).
//!
//! A [`Reader`] walks a borrowed byte slice and never reads past it; every length taken
//! from the wire is checked against the bytes actually present before anything is
//! allocated, so a decoder allocates at most in proportion to its input. Vectors are read
//! through [`read_vec`] with the `<floor..ceiling>` bounds the RFC gives, so an empty list
//! the RFC forbids, an over-long session ID or an odd byte count in a list of `u16`s is
//! refused where it is read.

use std::fmt;

/// Why bytes from the peer did not decode. Each variant names the field at fault and maps
/// onto the alert RFC 5246 §7.2.2 asks for (see `InvalidMessage::alert` in [`crate::msgs`]):
/// a malformed encoding is `decode_error`, a well-formed but forbidden value is
/// `illegal_parameter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvalidMessage {
    /// The input ended inside the named field.
    Truncated(&'static str),
    /// Bytes were left over after the named structure.
    TrailingData(&'static str),
    /// A vector's length lies outside its `<floor..ceiling>` bounds (an empty list the RFC
    /// forbids, a session ID over 32 bytes, a record over 2^14 + 2048 bytes, ...).
    LengthOutOfRange {
        /// The field at fault.
        what: &'static str,
        /// The length on the wire.
        len: usize,
    },
    /// A vector of fixed-size elements whose byte count is not a multiple of their size
    /// (an odd number of bytes in a list of `u16`s).
    UnevenLength(&'static str),
    /// A record longer than 2^14 + 2048 bytes: `record_overflow`, RFC 5246 §6.2.3.
    RecordOverflow(usize),
    /// The same extension type twice in one block (RFC 5246 §7.4.1.4).
    DuplicateExtension(u16),
    /// A record-layer field outside its enumeration (a ChangeCipherSpec byte other than 1,
    /// an alert level other than warning or fatal): `decode_error`, RFC 5246 §7.2.2.
    OutOfRange(&'static str),
    /// A well-formed handshake field holding a value the RFC forbids in that place, or
    /// one inconsistent with another field: `illegal_parameter`, RFC 5246 §7.2.2.
    IllegalValue(&'static str),
}

impl fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated(what) => write!(f, "truncated {what}"),
            Self::TrailingData(what) => write!(f, "trailing bytes after {what}"),
            Self::LengthOutOfRange { what, len } => {
                write!(f, "{what}: length {len} out of range")
            }
            Self::UnevenLength(what) => write!(f, "{what}: length is not a whole number of items"),
            Self::RecordOverflow(len) => write!(f, "record of {len} bytes is too long"),
            Self::DuplicateExtension(typ) => write!(f, "duplicate extension {typ:#06x}"),
            Self::OutOfRange(what) => write!(f, "{what}: value out of range"),
            Self::IllegalValue(what) => write!(f, "illegal value in {what}"),
        }
    }
}

impl std::error::Error for InvalidMessage {}

/// A cursor over bytes received from the peer.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    offs: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, offs: 0 }
    }

    /// The bytes not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.offs..];
        self.offs = self.buf.len();
        rest
    }

    /// Takes exactly `len` bytes, or fails naming `what`.
    pub fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], InvalidMessage> {
        if self.left() < len {
            return Err(InvalidMessage::Truncated(what));
        }
        let taken = &self.buf[self.offs..self.offs + len];
        self.offs += len;
        Ok(taken)
    }

    /// A sub-reader over the next `len` bytes.
    pub fn sub(&mut self, len: usize, what: &'static str) -> Result<Reader<'a>, InvalidMessage> {
        self.take(len, what).map(Reader::new)
    }

    /// How many bytes are left.
    pub fn left(&self) -> usize {
        self.buf.len() - self.offs
    }

    /// Whether any bytes are left.
    pub fn any_left(&self) -> bool {
        self.offs < self.buf.len()
    }

    /// Fails with [`InvalidMessage::TrailingData`] if any bytes are left after `what`.
    pub fn expect_empty(&self, what: &'static str) -> Result<(), InvalidMessage> {
        match self.any_left() {
            true => Err(InvalidMessage::TrailingData(what)),
            false => Ok(()),
        }
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, InvalidMessage> {
        Ok(self.take(1, what)?[0])
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, InvalidMessage> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Reads a big-endian `uint24`.
    pub fn u24(&mut self, what: &'static str) -> Result<u32, InvalidMessage> {
        let b = self.take(3, what)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, InvalidMessage> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a fixed-size array such as `Random` or `verify_data`.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], InvalidMessage> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }
}

/// A value with one wire encoding.
pub trait Codec: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value from `r`, leaving whatever follows it.
    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage>;

    /// The encoding of `self` as a fresh vector.
    fn get_encoding(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes exactly one value from `bytes`: trailing bytes are an error.
    fn read_bytes(bytes: &[u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(bytes);
        let value = Self::read(&mut r)?;
        r.expect_empty(std::any::type_name::<Self>())?;
        Ok(value)
    }
}

impl Codec for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        r.u8("u8")
    }
}

impl Codec for u16 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, InvalidMessage> {
        r.u16("u16")
    }
}

/// The width of a vector's length prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefix {
    /// `<..2^8-1>`
    U8,
    /// `<..2^16-1>`
    U16,
    /// `<..2^24-1>`
    U24,
}

impl Prefix {
    fn width(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::U16 => 2,
            Self::U24 => 3,
        }
    }

    fn read(self, r: &mut Reader<'_>, what: &'static str) -> Result<usize, InvalidMessage> {
        Ok(match self {
            Self::U8 => r.u8(what)? as usize,
            Self::U16 => r.u16(what)? as usize,
            Self::U24 => r.u24(what)? as usize,
        })
    }
}

/// The `<floor..ceiling>` bounds of a vector in bytes, with the width of its prefix and
/// the field's name for errors.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// The field's name, used in errors.
    pub what: &'static str,
    /// The width of the length prefix.
    pub prefix: Prefix,
    /// The fewest bytes allowed.
    pub min: usize,
    /// The most bytes allowed.
    pub max: usize,
}

impl Bounds {
    /// Bounds `<min..max>` behind a prefix of the given width.
    pub const fn new(what: &'static str, prefix: Prefix, min: usize, max: usize) -> Self {
        Self {
            what,
            prefix,
            min,
            max,
        }
    }

    /// Reads the length prefix, checks it against the bounds and the bytes present, and
    /// returns a reader over exactly the vector's body.
    pub fn body<'a>(&self, r: &mut Reader<'a>) -> Result<Reader<'a>, InvalidMessage> {
        let len = self.prefix.read(r, self.what)?;
        if len < self.min || len > self.max {
            return Err(InvalidMessage::LengthOutOfRange {
                what: self.what,
                len,
            });
        }
        r.sub(len, self.what)
    }

    /// Reads an opaque vector.
    pub fn read_bytes(&self, r: &mut Reader<'_>) -> Result<Vec<u8>, InvalidMessage> {
        Ok(self.body(r)?.rest().to_vec())
    }

    /// Reads a vector of `T`, each of `item_size` bytes when that is fixed (so that an
    /// uneven byte count is refused before any item is read), or 0 when items vary.
    pub fn read_items<T: Codec>(
        &self,
        r: &mut Reader<'_>,
        item_size: usize,
    ) -> Result<Vec<T>, InvalidMessage> {
        let mut body = self.body(r)?;
        if item_size > 1 && body.left() % item_size != 0 {
            return Err(InvalidMessage::UnevenLength(self.what));
        }
        let mut items = Vec::new();
        while body.any_left() {
            items.push(T::read(&mut body)?);
        }
        Ok(items)
    }

    /// Reads a vector of one-byte code points (`CompressionMethod`, `ECPointFormat`, ...):
    /// the same as [`Bounds::read_items`] with items of 1 byte, in one pass over the body.
    pub fn read_u8s<T: From<u8>>(&self, r: &mut Reader<'_>) -> Result<Vec<T>, InvalidMessage> {
        Ok(self.body(r)?.rest().iter().map(|&b| T::from(b)).collect())
    }

    /// Reads a vector of two-byte code points (`CipherSuite`, `SignatureScheme`,
    /// `NamedGroup`): the same as [`Bounds::read_items`] with items of 2 bytes (an odd byte
    /// count is [`InvalidMessage::UnevenLength`]), in one pass over the body with no bounds
    /// check per item. A ClientHello may carry 32,000 suites.
    pub fn read_u16s<T: From<u16>>(&self, r: &mut Reader<'_>) -> Result<Vec<T>, InvalidMessage> {
        let body = self.body(r)?.rest();
        if body.len() % 2 != 0 {
            return Err(InvalidMessage::UnevenLength(self.what));
        }
        Ok(body
            .chunks_exact(2)
            .map(|pair| T::from(u16::from_be_bytes([pair[0], pair[1]])))
            .collect())
    }

    /// Writes `body` with this prefix. Keeping the length in bounds is the caller's job
    /// (our own messages are built within them); debug builds assert the ceiling. The
    /// floor is not checked, so tests can build the out-of-range messages a hostile peer
    /// would send.
    pub fn encode_with(&self, out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
        let width = self.prefix.width();
        let start = out.len();
        out.extend_from_slice(&[0u8; 3][..width]);
        body(out);
        let len = out.len() - start - width;
        debug_assert!(
            len <= self.max,
            "{}: encoding {len} bytes over {}",
            self.what,
            self.max
        );
        let be = (len as u32).to_be_bytes();
        out[start..start + width].copy_from_slice(&be[4 - width..]);
    }

    /// Writes an opaque vector.
    pub fn encode_bytes(&self, out: &mut Vec<u8>, bytes: &[u8]) {
        self.encode_with(out, |out| out.extend_from_slice(bytes));
    }

    /// Writes a vector of `T`.
    pub fn encode_items<T: Codec>(&self, out: &mut Vec<u8>, items: &[T]) {
        self.encode_with(out, |out| items.iter().for_each(|item| item.encode(out)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: Bounds = Bounds::new("list", Prefix::U16, 2, 6);

    #[test]
    fn reader_never_reads_past_the_end() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16("x"), Ok(0x0102));
        assert_eq!(r.u16("y"), Err(InvalidMessage::Truncated("y")));
        assert_eq!(r.u8("z"), Ok(3));
        assert_eq!(r.u8("z"), Err(InvalidMessage::Truncated("z")));
    }

    #[test]
    fn bounds_are_enforced_both_ways() {
        let read = |bytes: &[u8]| LIST.read_items::<u16>(&mut Reader::new(bytes), 2);
        assert_eq!(read(&[0, 2, 0xab, 0xcd]), Ok(vec![0xabcd]));
        assert_eq!(
            read(&[0, 0]),
            Err(InvalidMessage::LengthOutOfRange {
                what: "list",
                len: 0
            })
        );
        assert_eq!(
            read(&[0, 8]),
            Err(InvalidMessage::LengthOutOfRange {
                what: "list",
                len: 8
            })
        );
        assert_eq!(
            read(&[0, 3, 1, 2, 3]),
            Err(InvalidMessage::UnevenLength("list"))
        );
        assert_eq!(read(&[0, 4, 1, 2]), Err(InvalidMessage::Truncated("list")));
    }

    /// The one-pass readers of code points agree with `read_items` on every input of up
    /// to 7 bytes whose bytes are drawn from a few values (lengths in and out of bounds,
    /// odd and even, truncated bodies, trailing bytes).
    #[test]
    fn code_point_readers_agree_with_read_items() {
        const BYTES: [u8; 5] = [0, 1, 2, 3, 0xff];
        let mut inputs = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..7 {
            last = last
                .iter()
                .flat_map(|prefix: &Vec<u8>| {
                    BYTES
                        .iter()
                        .map(move |&b| [prefix.as_slice(), &[b]].concat())
                })
                .collect();
            inputs.extend(last.iter().cloned());
        }
        let lists = [LIST, Bounds::new("u8 list", Prefix::U8, 1, 5)];
        for bounds in lists {
            for input in &inputs {
                let (mut a, mut b) = (Reader::new(input), Reader::new(input));
                assert_eq!(
                    bounds.read_u16s::<u16>(&mut a),
                    bounds.read_items::<u16>(&mut b, 2),
                    "{input:?}"
                );
                assert_eq!(a.left(), b.left(), "{input:?}");
                let (mut a, mut b) = (Reader::new(input), Reader::new(input));
                assert_eq!(
                    bounds.read_u8s::<u8>(&mut a),
                    bounds.read_items::<u8>(&mut b, 1),
                    "{input:?}"
                );
                assert_eq!(a.left(), b.left(), "{input:?}");
            }
        }
    }

    #[test]
    fn a_length_prefix_is_patched_after_the_body() {
        let mut out = vec![0xff];
        Bounds::new("u24", Prefix::U24, 0, 1 << 24).encode_bytes(&mut out, &[7; 5]);
        assert_eq!(out, [0xff, 0, 0, 5, 7, 7, 7, 7, 7]);
    }

    #[test]
    fn read_bytes_refuses_trailing_data() {
        assert!(matches!(
            u16::read_bytes(&[0, 1, 2]),
            Err(InvalidMessage::TrailingData(_))
        ));
    }
}
