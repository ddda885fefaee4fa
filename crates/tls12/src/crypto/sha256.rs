//! HMAC-SHA256 (RFC 2104) and the TLS 1.2 PRF over it (RFC 5246 §5), built on SHA-256's
//! compression function alone (the `sha2` crate's `compress256`, which runs on the SHA
//! extensions where the processor has them).
//!
//! Why not ring's HMAC: the PRF hashes only short messages (a label, two randoms or a
//! transcript hash), so its cost is almost all per-call overhead, and ring's is several
//! times the compression itself: every HMAC copies the keyed inner state with its
//! 128-byte block buffer, finishing copies it again and byte-swaps the output, and the
//! outer hash starts over from another copy. Here a keyed HMAC is two 32-byte states;
//! each MAC absorbs its message straight into a 64-byte stack block and compresses; a
//! PRF keys once for all its blocks. A resumed handshake runs the PRF six times (a key
//! block and two verify_data on each side), which made it a third of that handshake's
//! time with ring.
//!
//! The same SHA-256 serves the running transcript hash, for the same reason: its current
//! digest is taken several times per handshake, each a copy and a finish.
//!
//! [`super::ring::RingProvider`] uses this only where `compress256` is hardware-accelerated
//! ([`accelerated`]); elsewhere ring's assembly is the faster SHA-256, and ring's HMAC stays.
//!
//! What is worth as much as the secret is wiped after use: the padded key blocks, the keyed
//! states (with them one can compute any MAC under the key) and the output blocks. A MAC's
//! working state is not: it is a hash state of the keyed state and a message, from which
//! no other MAC follows. (Wiping goes through volatile byte writes; doing it for every
//! working block would cost more than the hashing.)

use zeroize::Zeroize;

/// The SHA-256 block size.
const BLOCK: usize = 64;

/// The SHA-256 output size.
pub(crate) const OUTPUT: usize = 32;

/// SHA-256's initial state (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Whether SHA-256's compression function runs on dedicated instructions here (x86-64 SHA
/// extensions, which the `sha2` crate detects and uses): then this module's HMAC is the
/// fast one. Checked at run time; the answer is cached by the standard library.
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

fn compress(state: &mut [u32; 8], block: &[u8; BLOCK]) {
    sha2::compress256(state, std::slice::from_ref(block.into()));
}

/// A SHA-256 computation under way: a chaining state, the partial block, the length.
/// Cloning it (112 bytes) forks the computation, which is how a running transcript hash
/// gives its current digest and goes on.
#[derive(Clone)]
pub(crate) struct Hash {
    state: [u32; 8],
    block: [u8; BLOCK],
    fill: usize,
    len: u64,
}

impl Hash {
    /// A new SHA-256 computation.
    pub(crate) fn new() -> Self {
        Self::resume(IV, 0)
    }

    /// Continues from `state`, which has absorbed `len` bytes (a multiple of 64).
    fn resume(state: [u32; 8], len: u64) -> Self {
        Self {
            state,
            block: [0; BLOCK],
            fill: 0,
            len,
        }
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.fill > 0 {
            let n = (BLOCK - self.fill).min(data.len());
            self.block[self.fill..self.fill + n].copy_from_slice(&data[..n]);
            self.fill += n;
            data = &data[n..];
            if self.fill < BLOCK {
                return;
            }
            compress(&mut self.state, &self.block);
            self.fill = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK);
        for block in &mut blocks {
            if let Ok(block) = block.try_into() {
                compress(&mut self.state, block);
            }
        }
        let rest = blocks.remainder();
        self.block[..rest.len()].copy_from_slice(rest);
        self.fill = rest.len();
    }

    /// The digest (FIPS 180-4 §5.1.1 padding).
    pub(crate) fn finish(&mut self) -> [u8; OUTPUT] {
        let bits = self.len.wrapping_mul(8);
        self.block[self.fill] = 0x80;
        self.block[self.fill + 1..].fill(0);
        if self.fill + 1 > BLOCK - 8 {
            compress(&mut self.state, &self.block);
            self.block.fill(0);
        }
        self.block[BLOCK - 8..].copy_from_slice(&bits.to_be_bytes());
        compress(&mut self.state, &self.block);
        let mut out = [0u8; OUTPUT];
        for (bytes, word) in out.chunks_exact_mut(4).zip(self.state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// An HMAC-SHA256 key: the inner and outer states after their padded key blocks.
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    /// Keys HMAC with `key` (RFC 2104 §2: a key longer than a block is hashed first).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut padded = [0u8; BLOCK];
        if key.len() > BLOCK {
            let mut hash = Hash::new();
            hash.update(key);
            let mut digest = hash.finish();
            padded[..OUTPUT].copy_from_slice(&digest);
            digest.zeroize();
            // The block held the key's last bytes.
            hash.block.zeroize();
        } else {
            padded[..key.len()].copy_from_slice(key);
        }
        let mut pad = [0u8; BLOCK];
        let mut keyed = |byte: u8| {
            for (p, k) in pad.iter_mut().zip(&padded) {
                *p = k ^ byte;
            }
            let mut state = IV;
            compress(&mut state, &pad);
            state
        };
        let (inner, outer) = (keyed(0x36), keyed(0x5c));
        padded.zeroize();
        pad.zeroize();
        Self { inner, outer }
    }

    /// The MAC of the message `absorb` feeds in.
    fn mac(&self, absorb: impl FnOnce(&mut Hash)) -> [u8; OUTPUT] {
        let mut inner = Hash::resume(self.inner, BLOCK as u64);
        absorb(&mut inner);
        let mut outer = Hash::resume(self.outer, BLOCK as u64);
        outer.update(&inner.finish());
        outer.finish()
    }

    /// The MAC of the concatenation of `parts`.
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> [u8; OUTPUT] {
        self.mac(|hash| {
            for part in parts {
                hash.update(part);
            }
        })
    }
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
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
    let label_seed = |hash: &mut Hash| {
        hash.update(label);
        for part in seed {
            hash.update(part);
        }
    };
    // A(1) = HMAC(secret, label + seed).
    let mut a = key.mac(label_seed);
    let mut chunks = out.chunks_mut(OUTPUT).peekable();
    while let Some(chunk) = chunks.next() {
        let mut block = key.mac(|hash| {
            hash.update(&a);
            label_seed(hash);
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
