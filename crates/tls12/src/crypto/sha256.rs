//! HMAC-SHA256 (RFC 2104) and the TLS 1.2 PRF over it (RFC 5246 §5), and the running
//! transcript hash, on the RustCrypto `sha2` and `hmac` crates, whose SHA-256 runs on the
//! SHA extensions where the processor has them.
//!
//! Why not ring's HMAC there: the PRF hashes only short messages (a label, two randoms
//! or a transcript hash), so its cost is almost all per-call overhead, and ring's is
//! several times the compression itself: every HMAC copies the keyed inner state with
//! its 128-byte block buffer, finishing copies it again and byte-swaps the output, and
//! the outer hash starts over from another copy. A keyed `Hmac<Sha256>` is two 40-byte
//! core states and a 64-byte buffer; a MAC clones it and absorbs; a PRF keys once for all
//! its blocks. A resumed handshake runs the PRF six times (a key block and two
//! verify_data on each side), which made it a third of that handshake's time with ring.
//!
//! The same SHA-256 serves the running transcript hash, for the same reason: its current
//! digest is taken several times per handshake, each a copy and a finish.
//!
//! [`super::ring::RingProvider`] uses this only where SHA-256 is hardware-accelerated
//! ([`accelerated`]); elsewhere ring's assembly is the faster SHA-256, and ring's HMAC
//! stays. Like ring's, the keyed HMAC states are not wiped on drop (the `hmac` crate
//! has no zeroizing drop); the PRF's output blocks are.

use hmac::digest::KeyInit;
use hmac::Mac;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

/// The SHA-256 output size.
pub(crate) const OUTPUT: usize = 32;

/// Whether SHA-256 runs on dedicated instructions here (x86-64 SHA extensions, which the
/// `sha2` crate detects and uses): then this module's HMAC is the fast one. Checked at
/// run time; the answer is cached by the standard library.
pub(crate) fn accelerated() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // The features `sha2` itself requires for its SHA-NI backend.
        std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse2")
            && std::arch::is_x86_feature_detected!("ssse3")
            && std::arch::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A SHA-256 computation under way. Cloning it forks the computation, which is how a
/// running transcript hash gives its current digest and goes on.
#[derive(Clone)]
pub(crate) struct Hash(Sha256);

impl Hash {
    /// A new SHA-256 computation.
    pub(crate) fn new() -> Self {
        Self(Sha256::new())
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything absorbed.
    pub(crate) fn finish(self) -> [u8; OUTPUT] {
        self.0.finalize().into()
    }
}

/// An HMAC-SHA256 key: the inner and outer states after their padded key blocks.
pub(crate) struct HmacKey(hmac::Hmac<Sha256>);

impl HmacKey {
    /// Keys HMAC with `key` (RFC 2104 §2: a key longer than a block is hashed first,
    /// a shorter one padded with zeros to the block; the crate takes it as a block).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; 64];
        if key.len() > block.len() {
            let mut digest: [u8; OUTPUT] = Sha256::digest(key).into();
            block[..OUTPUT].copy_from_slice(&digest);
            digest.zeroize();
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mac = <hmac::Hmac<Sha256> as KeyInit>::new(&block.into());
        block.zeroize();
        Self(mac)
    }

    /// The MAC of the message `absorb` feeds in.
    fn mac(&self, absorb: impl FnOnce(&mut hmac::Hmac<Sha256>)) -> [u8; OUTPUT] {
        let mut mac = self.0.clone();
        absorb(&mut mac);
        mac.finalize().into_bytes().into()
    }

    /// The MAC of the concatenation of `parts`.
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> [u8; OUTPUT] {
        self.mac(|mac| {
            for part in parts {
                mac.update(part);
            }
        })
    }
}

/// `P_SHA256(secret, label + seed)` truncated to `out.len()` (RFC 5246 §5), HMAC keyed
/// once for every block.
#[cfg(test)]
pub(crate) fn prf(secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    prf_keyed(&HmacKey::new(secret), label, seed, out);
}

/// The same with HMAC already keyed with the secret.
pub(crate) fn prf_keyed(key: &HmacKey, label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let label_seed = |mac: &mut hmac::Hmac<Sha256>| {
        mac.update(label);
        for part in seed {
            mac.update(part);
        }
    };
    // A(1) = HMAC(secret, label + seed).
    let mut a = key.mac(label_seed);
    let mut chunks = out.chunks_mut(OUTPUT).peekable();
    while let Some(chunk) = chunks.next() {
        let mut block = key.mac(|mac| {
            mac.update(&a);
            label_seed(mac);
        });
        chunk.copy_from_slice(&block[..chunk.len()]);
        block.zeroize();
        // A(i+1) = HMAC(secret, A(i)), needed only if another block follows.
        if chunks.peek().is_some() {
            a = key.sign(&[&a]);
        }
    }
    a.zeroize();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use ring::{digest, hmac};

    /// Inputs of every length around the block boundaries.
    fn lengths() -> impl Iterator<Item = usize> {
        (0..=130).chain([183, 191, 192, 255, 256, 1000])
    }

    fn bytes(len: usize, salt: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ salt)
            .collect()
    }

    #[test]
    fn sha256_matches_ring_at_every_length_and_split() {
        for len in lengths() {
            let data = bytes(len, 1);
            let expected = digest::digest(&digest::SHA256, &data);
            for split in [0, 1.min(len), len / 3, len / 2, len] {
                let mut hash = Hash::new();
                hash.update(&data[..split]);
                hash.update(&data[split..]);
                assert_eq!(
                    hash.finish(),
                    expected.as_ref(),
                    "length {len}, split {split}"
                );
            }
        }
    }

    #[test]
    fn hmac_matches_ring_for_keys_and_messages_of_every_length() {
        for key_len in [0, 1, 32, 48, 63, 64, 65, 100, 200] {
            let key = bytes(key_len, 2);
            let ours = HmacKey::new(&key);
            let theirs = hmac::Key::new(hmac::HMAC_SHA256, &key);
            for len in lengths() {
                let msg = bytes(len, 3);
                let (a, b) = msg.split_at(len / 2);
                assert_eq!(
                    ours.sign(&[a, b]),
                    hmac::sign(&theirs, &msg).as_ref(),
                    "key {key_len} bytes, message {len} bytes"
                );
            }
        }
    }

    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
        let mac = HmacKey::new(b"Jefe").sign(&[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            crate::msgs::base::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn prf_matches_the_prf_over_ring_hmac() {
        let provider = crate::crypto::ring::RingProvider::new();
        for (secret_len, label, seed_len, out_len) in [
            (48, &b"key expansion"[..], 64, 40),
            (48, b"key expansion", 64, 72),
            (48, b"client finished", 32, 12),
            (32, b"extended master secret", 32, 48),
            (100, b"master secret", 64, 48),
            (0, b"", 0, 1),
            (48, b"x", 200, 128),
        ] {
            let secret = bytes(secret_len, 4);
            let seed = bytes(seed_len, 5);
            let (first, second) = seed.split_at(seed_len / 3);
            let mut ours = vec![0; out_len];
            prf(&secret, label, &[first, second], &mut ours);
            let mut theirs = vec![0; out_len];
            crate::keys::prf_over_hmac(
                &provider,
                crate::crypto::HashAlgorithm::Sha256,
                &secret,
                label,
                &[first, second],
                &mut theirs,
            );
            assert_eq!(ours, theirs, "{secret_len} {label:?} {seed_len} {out_len}");
        }
    }
}
