//! AEAD record protection, RFC 5246 §6.2.3.3 with the nonce construction of RFC 5288 §3
//! (AES-GCM: 4-byte salt from the key block + 8-byte explicit nonce carried in the record;
//! we send the sequence number as the explicit part, which is unique per key) and of
//! RFC 7905 §2 (ChaCha20-Poly1305: the 12-byte IV XORed with the padded sequence number,
//! nothing explicit).

use std::ops::Range;

use crate::codec::Codec;
use crate::crypto::{AeadAlgorithm, CryptoError, Provider};
use crate::error::Error;
use crate::msgs::enums::{AlertDescription, ContentType, ProtocolVersion};
use crate::msgs::header::{RecordHeader, MAX_PLAINTEXT_LEN};
use crate::record::{extend_from, OpaqueRecord, RecordError};
use crate::suites::Suite;

/// One direction's record keys and sequence number (RFC 5246 §6.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordCipher<P: Provider> {
    key: P::AeadKey,
    aead: AeadAlgorithm,
    /// 4 bytes (AES-GCM salt) or 12 (ChaCha20-Poly1305 IV), zero-padded.
    iv: [u8; 12],
    explicit_len: usize,
    seq: u64,
}

impl<P: Provider> RecordCipher<P> {
    /// Keys one direction with a key and IV from the key block.
    pub fn new(provider: &P, suite: &Suite, key: &[u8], iv: &[u8]) -> Result<Self, Error> {
        let mut fixed = [0u8; 12];
        fixed[..iv.len()].copy_from_slice(iv);
        Ok(Self {
            key: provider.aead_key(suite.aead, key)?,
            aead: suite.aead,
            iv: fixed,
            explicit_len: suite.explicit_nonce_len(),
            seq: 0,
        })
    }

    fn nonce(&self, explicit: [u8; 8]) -> [u8; 12] {
        let mut nonce = self.iv;
        match self.aead {
            AeadAlgorithm::Aes128Gcm | AeadAlgorithm::Aes256Gcm => {
                nonce[4..].copy_from_slice(&explicit);
            }
            AeadAlgorithm::ChaCha20Poly1305 => {
                for (n, s) in nonce[4..].iter_mut().zip(explicit) {
                    *n ^= s;
                }
            }
        }
        nonce
    }

    /// `seq_num + TLSCompressed.type + TLSCompressed.version + TLSCompressed.length`.
    fn aad(seq: u64, typ: ContentType, len: usize) -> [u8; 13] {
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&seq.to_be_bytes());
        aad[8] = typ.get();
        aad[9..11].copy_from_slice(&ProtocolVersion::TLSv1_2.get().to_be_bytes());
        aad[11..].copy_from_slice(&(len as u16).to_be_bytes());
        aad
    }

    /// The next sequence number; at 2^64 - 1 the keys are used up and, since we never
    /// renegotiate, the connection must close (RFC 5246 §6.1).
    fn next_seq(&mut self) -> Result<u64, Error> {
        let seq = self.seq;
        self.seq = seq.checked_add(1).ok_or_else(|| {
            Error::misbehaved(AlertDescription::InternalError, "sequence number exhausted")
        })?;
        Ok(seq)
    }

    /// Protects `plaintext` (at most 2^14 bytes) as one record appended to `out`.
    pub fn seal(
        &mut self,
        provider: &P,
        typ: ContentType,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        debug_assert!(plaintext.len() <= MAX_PLAINTEXT_LEN);
        let seq = self.next_seq()?;
        let explicit = seq.to_be_bytes();
        let payload_len = self.explicit_len + plaintext.len() + AeadAlgorithm::TAG_LEN;
        RecordHeader {
            typ,
            version: ProtocolVersion::TLSv1_2,
            len: payload_len as u16,
        }
        .encode(out);
        out.extend_from_slice(&explicit[..self.explicit_len]);
        out.reserve(plaintext.len() + AeadAlgorithm::TAG_LEN);
        let from = out.len();
        extend_from(out, plaintext);
        let aad = Self::aad(seq, typ, plaintext.len());
        provider.seal_tail(&self.key, self.nonce(explicit), &aad, out, from)?;
        Ok(())
    }

    /// Removes the protection of `record`; the plaintext must not exceed 2^14 bytes.
    /// The payload is cut down to the plaintext (the explicit nonce in front of it moves
    /// out of the way): [`RecordCipher::open_in_place`] is the same without the move.
    pub fn open(&mut self, provider: &P, record: &mut OpaqueRecord) -> Result<(), Error> {
        let plain = self.open_in_place(provider, record.typ, &mut record.payload)?;
        record.payload.truncate(plain.end);
        record.payload.drain(..plain.start);
        Ok(())
    }

    /// Removes the protection of the fragment of a `typ` record where it lies: returns
    /// where its plaintext is within `fragment` (behind the explicit nonce, if the AEAD
    /// has one, and before the tag). Nothing moves. The plaintext must not exceed 2^14
    /// bytes.
    pub fn open_in_place(
        &mut self,
        provider: &P,
        typ: ContentType,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, Error> {
        let overhead = self.explicit_len + AeadAlgorithm::TAG_LEN;
        let Some(plain_len) = fragment.len().checked_sub(overhead) else {
            // Too short to hold a tag: indistinguishable from a forged record.
            return Err(CryptoError::BadRecordMac.into());
        };
        let seq = self.next_seq()?;
        let mut explicit = seq.to_be_bytes();
        let (nonce_part, body) = fragment.split_at_mut(self.explicit_len);
        if let Ok(carried) = <[u8; 8]>::try_from(&*nonce_part) {
            explicit = carried;
        }
        let aad = Self::aad(seq, typ, plain_len);
        let len = provider.open(&self.key, self.nonce(explicit), &aad, body)?;
        if len > MAX_PLAINTEXT_LEN {
            return Err(RecordError::Header(crate::InvalidMessage::RecordOverflow(len)).into());
        }
        Ok(self.explicit_len..self.explicit_len + len)
    }
}
