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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ring::RingProvider;
    use ring::aead;

    /// Seals two records with `suite` and checks the second against RFC 5246 §6.2.3.3 with
    /// ring alone: the header, the explicit nonce, the nonce (RFC 5288 §3 or RFC 7905 §2)
    /// and the additional data, computed here independently of [`RecordCipher`].
    fn second_record_is_as_the_rfcs_say(suite: &Suite, alg: &'static aead::Algorithm) {
        let provider = RingProvider::new();
        let key: Vec<u8> = (0..alg.key_len() as u8)
            .map(|i| i.wrapping_mul(13))
            .collect();
        let iv: Vec<u8> = match suite.aead {
            AeadAlgorithm::ChaCha20Poly1305 => (0xf0..0xfc).collect(),
            _ => vec![0xa1, 0xb2, 0xc3, 0xd4],
        };
        let mut cipher = RecordCipher::new(&provider, suite, &key, &iv).unwrap_or_else(|e| {
            panic!("keys: {e:?}");
        });
        let mut out = Vec::new();
        cipher
            .seal(&provider, ContentType::ApplicationData, b"first", &mut out)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let first_len = out.len();
        let plaintext = b"the second record";
        cipher
            .seal(&provider, ContentType::ApplicationData, plaintext, &mut out)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let record = &out[first_len..];

        let explicit_len = suite.explicit_nonce_len();
        let body_len = explicit_len + plaintext.len() + 16;
        assert_eq!(record[..3], [23, 3, 3]);
        assert_eq!(
            usize::from(u16::from_be_bytes([record[3], record[4]])),
            body_len
        );
        assert_eq!(record.len(), 5 + body_len);

        let seq: u64 = 1;
        let mut nonce = [0u8; 12];
        match suite.aead {
            AeadAlgorithm::ChaCha20Poly1305 => {
                assert_eq!(explicit_len, 0);
                nonce.copy_from_slice(&iv);
                for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
                    *n ^= s;
                }
            }
            _ => {
                assert_eq!(record[5..13], seq.to_be_bytes());
                nonce[..4].copy_from_slice(&iv);
                nonce[4..].copy_from_slice(&record[5..13]);
            }
        }
        let mut aad = seq.to_be_bytes().to_vec();
        aad.extend_from_slice(&[23, 3, 3]);
        aad.extend_from_slice(&(plaintext.len() as u16).to_be_bytes());

        let ring_key = aead::LessSafeKey::new(
            aead::UnboundKey::new(alg, &key).unwrap_or_else(|e| panic!("{e:?}")),
        );
        let mut sealed = record[5 + explicit_len..].to_vec();
        let opened = ring_key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(&aad),
                &mut sealed,
            )
            .unwrap_or_else(|e| panic!("ring does not open our record: {e:?}"));
        assert_eq!(opened, plaintext);

        // And our own opening, both ways, after the first record.
        for in_place in [false, true] {
            let mut opener =
                RecordCipher::new(&provider, suite, &key, &iv).unwrap_or_else(|e| panic!("{e:?}"));
            let mut first = out[5..first_len].to_vec();
            let range = opener
                .open_in_place(&provider, ContentType::ApplicationData, &mut first)
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(&first[range], b"first");
            let payload = record[5..].to_vec();
            if in_place {
                let mut payload = payload;
                let range = opener
                    .open_in_place(&provider, ContentType::ApplicationData, &mut payload)
                    .unwrap_or_else(|e| panic!("{e:?}"));
                assert_eq!(&payload[range], plaintext);
            } else {
                let mut opaque = OpaqueRecord {
                    typ: ContentType::ApplicationData,
                    version: ProtocolVersion::TLSv1_2,
                    payload,
                };
                opener
                    .open(&provider, &mut opaque)
                    .unwrap_or_else(|e| panic!("{e:?}"));
                assert_eq!(opaque.payload, plaintext);
            }
        }
    }

    fn suite(aead: AeadAlgorithm) -> Suite {
        let found = crate::suites::ALL_SUITES.iter().find(|s| s.aead == aead);
        found
            .copied()
            .unwrap_or_else(|| panic!("a suite with {aead:?}"))
    }

    #[test]
    fn aes_128_gcm_records_are_as_rfc_5288_says() {
        second_record_is_as_the_rfcs_say(&suite(AeadAlgorithm::Aes128Gcm), &aead::AES_128_GCM);
    }

    #[test]
    fn aes_256_gcm_records_are_as_rfc_5288_says() {
        second_record_is_as_the_rfcs_say(&suite(AeadAlgorithm::Aes256Gcm), &aead::AES_256_GCM);
    }

    #[test]
    fn chacha20_poly1305_records_are_as_rfc_7905_says() {
        second_record_is_as_the_rfcs_say(
            &suite(AeadAlgorithm::ChaCha20Poly1305),
            &aead::CHACHA20_POLY1305,
        );
    }
}
