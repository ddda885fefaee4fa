//! Floor 5: the record layer. [`Deframer`] cuts a byte stream into records;
//! [`HandshakeJoiner`] reassembles handshake messages that were split over records or
//! packed several to a record (RFC 5246 §6.2.1); [`RecordCipher`] protects and opens
//! records with the negotiated AEAD.

mod deframer;
mod joiner;
mod layer;
mod protect;

pub use deframer::{Deframer, OpaqueRecord, RecordInPlace};
pub use joiner::HandshakeJoiner;
pub use layer::{FlightItem, Incoming, RecordLayer};
pub use protect::RecordCipher;

use std::fmt;

use crate::codec::InvalidMessage;
use crate::msgs::enums::{AlertDescription, ContentType};

/// A receive or send buffer this large or smaller keeps its allocation when it empties: a
/// connection that moves bulk data reuses it for every read and write instead of asking
/// the allocator for tens of KiB each time. That matters beyond the allocator's own cost:
/// glibc gives the top of its heap back to the kernel once more than 128 KiB is free there
/// (`M_TRIM_THRESHOLD`), so a large buffer freed and allocated again can be faulted in
/// afresh, page by page, on every read, and whether it is depends on what else happens to
/// lie above it in the heap. A larger buffer, left by one unusually large read or write, is
/// given back.
pub(crate) const RETAIN: usize = 128 * 1024;

/// The largest piece [`extend_from`] and [`copy_from`] copy at once when the copy would
/// run into the trap they avoid: below glibc's smallest `rep movsb` threshold (2112 bytes on
/// AMD Zen 4 with AVX2), so glibc copies it with vector loads and stores.
const PIECE: usize = 2048;

/// Whether copying `len` bytes from `src` to `dst` could be one of the copies that glibc
/// (before 2.39, BZ 30994) does with `rep movsb` and that AMD Zen 3 and Zen 4 run some 50
/// to 80 times slower than usual: between 2112 bytes and 1 MiB, with the destination 1 to
/// 63 bytes past the source modulo the 4 KiB page (measured here on an EPYC Zen 4 with
/// glibc 2.36: 16 KiB in 15.6 µs instead of 0.19 µs). Whether a copy hits it depends only
/// on where the two buffers happen to lie in memory, which made bulk transfer bimodal on
/// such machines, for rustls as for us. Cutting such a copy into pieces below the
/// threshold costs about 0.2 µs per 16 KiB; other copies are left whole.
fn copy_is_trapped(dst: *const u8, src: *const u8, len: usize) -> bool {
    let distance = (dst as usize).wrapping_sub(src as usize) % 4096;
    len > PIECE && (1..64).contains(&distance)
}

/// `dst.extend_from_slice(src)`, without the slow path of [`copy_is_trapped`].
pub(crate) fn extend_from(dst: &mut Vec<u8>, src: &[u8]) {
    dst.reserve(src.len());
    let end = dst.as_ptr().wrapping_add(dst.len());
    if copy_is_trapped(end, src.as_ptr(), src.len()) {
        for piece in src.chunks(PIECE) {
            dst.extend_from_slice(piece);
        }
    } else {
        dst.extend_from_slice(src);
    }
}

/// `dst.copy_from_slice(src)`, without the slow path of [`copy_is_trapped`].
///
/// # Panics
/// If the lengths differ, as `copy_from_slice` does.
pub(crate) fn copy_from(dst: &mut [u8], src: &[u8]) {
    if copy_is_trapped(dst.as_ptr(), src.as_ptr(), src.len()) && dst.len() == src.len() {
        for (to, from) in dst.chunks_mut(PIECE).zip(src.chunks(PIECE)) {
            to.copy_from_slice(from);
        }
    } else {
        dst.copy_from_slice(src);
    }
}

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

/// A value's hash under the standard hasher: the record tests check that equal deframers
/// and joiners hash alike and unequal ones apart.
#[cfg(test)]
pub(crate) fn hash_of<T: std::hash::Hash>(value: &T) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buffer of three pages and a pointer `offset` bytes into it.
    fn at(buf: &[u8], offset: usize) -> *const u8 {
        buf.as_ptr().wrapping_add(offset)
    }

    #[test]
    fn only_copies_past_the_source_by_1_to_63_bytes_modulo_a_page_are_trapped() {
        let buf = vec![0u8; 3 * 4096];
        let src = at(&buf, 0);
        for distance in [1, 8, 63] {
            assert!(copy_is_trapped(at(&buf, 4096 + distance), src, 4096));
            assert!(copy_is_trapped(at(&buf, distance), src, PIECE + 1));
            // Small copies take the vector path whatever the distance.
            assert!(!copy_is_trapped(at(&buf, 4096 + distance), src, PIECE));
        }
        for distance in [0, 64, 100, 4095] {
            assert!(!copy_is_trapped(at(&buf, 4096 + distance), src, 4096));
        }
        // The destination before the source: the distance wraps, far from 1..64.
        assert!(!copy_is_trapped(src, at(&buf, 8), 4096));
    }

    #[test]
    fn cut_copies_copy_the_same_bytes() {
        let src: Vec<u8> = (0..40_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        for len in [0, 1, PIECE, PIECE + 1, 16_384, 40_000] {
            for prefix in [0, 1, 8, 63, 64, 4096 + 8] {
                let mut dst = vec![0xee; prefix];
                extend_from(&mut dst, &src[..len]);
                assert_eq!(dst.len(), prefix + len);
                assert_eq!(&dst[prefix..], &src[..len]);
                assert!(dst[..prefix].iter().all(|&b| b == 0xee));

                let mut dst = vec![0u8; len];
                copy_from(&mut dst, &src[..len]);
                assert_eq!(dst, &src[..len]);
            }
        }
    }

    #[test]
    fn record_errors_say_what_is_wrong() {
        assert_eq!(
            RecordError::NotTls(0x0200).to_string(),
            "record version 0x0200 is not TLS"
        );
        assert_eq!(
            RecordError::HandshakeTooLong(70_000).to_string(),
            "handshake message of 70000 bytes is too long"
        );
    }

    /// `n` whole application-data records of `len` bytes each.
    fn records(n: usize, len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.extend_from_slice(&[23, 3, 3]);
            out.extend_from_slice(&u16::try_from(len).unwrap_or(0).to_be_bytes());
            out.resize(out.len() + len, 0x5a);
        }
        out
    }

    #[test]
    fn a_receive_buffer_keeps_its_allocation_up_to_the_bound_only() {
        // 16 KiB read and consumed: the allocation stays for the next read.
        let mut d = Deframer::new();
        d.push(&records(1, 16_384));
        while d.pop().ok().flatten().is_some() {}
        assert!(d.capacity() >= 16_384, "kept: {}", d.capacity());
        const { assert!(RETAIN >= 16_384 + 5) };
        // A read larger than the bound is given back once consumed.
        let mut d = Deframer::new();
        d.push(&records(10, 16_384));
        while d.pop().ok().flatten().is_some() {}
        assert_eq!(d.capacity(), 0);
        const { assert!(RETAIN < 10 * (16_384 + 5)) };
    }
}
