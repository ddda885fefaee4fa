//! The record layer, the PRF and the transcript hash, each twice: through tls12, and as
//! ring alone does the same job with the least work (one copy of the plaintext, one HMAC
//! key per PRF, one running hash). The gap between the two is what tls12 adds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ring::{aead, digest, hmac};
use tls12::crypto::ring::RingProvider;
use tls12::crypto::{AeadAlgorithm, HashAlgorithm};
use tls12::handshake::Transcript;
use tls12::msgs::enums::{ContentType, ProtocolVersion};
use tls12::record::{OpaqueRecord, RecordCipher};
use tls12::suites::{Suite, ALL_SUITES};

use crate::fixture::Fixture;

/// Records sealed ahead (untimed) of each timed batch of opens.
const BATCH: u64 = 32;

/// A suite with `aead` (the ECDSA one: the signature does not matter here).
pub fn suite_of(aead: AeadAlgorithm) -> Suite {
    *ALL_SUITES
        .iter()
        .find(|s| s.aead == aead)
        .expect("a suite per AEAD")
}

/// A key and IV of the right sizes for `aead`.
fn key_material(aead: AeadAlgorithm) -> (Vec<u8>, Vec<u8>) {
    let iv_len = suite_of(aead).fixed_iv_len();
    (vec![0x11; aead.key_len()], vec![0x22; iv_len])
}

/// tls12's [`RecordCipher`]: a sealer and an opener keyed alike, and a plaintext of the
/// record size.
pub struct OurRecords {
    provider: RingProvider,
    sealer: RecordCipher<RingProvider>,
    opener: RecordCipher<RingProvider>,
    plaintext: Vec<u8>,
    out: Vec<u8>,
}

impl OurRecords {
    /// Records of `len` plaintext bytes under `aead`.
    pub fn new(aead: AeadAlgorithm, len: usize) -> Self {
        let provider = RingProvider::new();
        let suite = suite_of(aead);
        let (key, iv) = key_material(aead);
        let cipher = || RecordCipher::new(&provider, &suite, &key, &iv).expect("keys");
        let (sealer, opener) = (cipher(), cipher());
        let mut this = Self {
            provider,
            sealer,
            opener,
            plaintext: vec![0x5a; len],
            out: Vec::new(),
        };
        let mut record = this.sealed();
        this.opener
            .open(&this.provider, &mut record)
            .expect("our own record opens");
        assert!(record.payload == this.plaintext, "the record round-trips");
        this
    }

    /// Seals one record into the reused output buffer.
    pub fn seal(&mut self) {
        self.out.clear();
        self.sealer
            .seal(
                &self.provider,
                ContentType::ApplicationData,
                &self.plaintext,
                &mut self.out,
            )
            .expect("seal");
        black_box(&self.out);
    }

    fn sealed(&mut self) -> OpaqueRecord {
        self.seal();
        OpaqueRecord {
            typ: ContentType::ApplicationData,
            version: ProtocolVersion::TLSv1_2,
            payload: self.out[5..].to_vec(),
        }
    }

    /// Opens `iters` records, sealed in batches beforehand; returns the time spent
    /// opening.
    pub fn open(&mut self, iters: u64) -> Duration {
        let mut spent = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let n = left.min(BATCH);
            let mut records: Vec<OpaqueRecord> = (0..n).map(|_| self.sealed()).collect();
            let start = Instant::now();
            for record in &mut records {
                // In place, as the record layer opens records in its receive buffer.
                let plain = self
                    .opener
                    .open_in_place(&self.provider, record.typ, &mut record.payload)
                    .expect("our own record opens");
                black_box(&record.payload[plain]);
            }
            spent += start.elapsed();
            left -= n;
        }
        spent
    }
}

/// The same records with ring alone: the TLS 1.2 nonce and additional data built on the
/// stack, the plaintext copied once after the header, sealed in place, the tag appended.
pub struct RingRecords {
    sealer: aead::LessSafeKey,
    opener: aead::LessSafeKey,
    aead: AeadAlgorithm,
    iv: [u8; 12],
    explicit_len: usize,
    seal_seq: u64,
    open_seq: u64,
    plaintext: Vec<u8>,
    out: Vec<u8>,
}

impl RingRecords {
    /// Records of `len` plaintext bytes under `aead`.
    pub fn new(aead: AeadAlgorithm, len: usize) -> Self {
        let suite = suite_of(aead);
        let (key, iv) = key_material(aead);
        let alg = match aead {
            AeadAlgorithm::Aes128Gcm => &aead::AES_128_GCM,
            AeadAlgorithm::Aes256Gcm => &aead::AES_256_GCM,
            AeadAlgorithm::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        };
        let key = || aead::LessSafeKey::new(aead::UnboundKey::new(alg, &key).expect("key"));
        let mut fixed = [0u8; 12];
        fixed[..iv.len()].copy_from_slice(&iv);
        let mut this = Self {
            sealer: key(),
            opener: key(),
            aead,
            iv: fixed,
            explicit_len: suite.explicit_nonce_len(),
            seal_seq: 0,
            open_seq: 0,
            plaintext: vec![0x5a; len],
            out: Vec::new(),
        };
        this.seal();
        let mut payload = this.out[5..].to_vec();
        this.open_one(&mut payload);
        // The same bytes as tls12's second record (its first was opened in `new` too):
        // the two implement one protocol.
        this.seal();
        let mut ours = OurRecords::new(aead, len);
        ours.seal();
        assert!(this.out == ours.out, "ring reference and tls12 agree");
        // Opens follow seals: the next record sealed is the next one opened.
        this.seal_seq = this.open_seq;
        this
    }

    fn nonce(&self, seq: u64) -> aead::Nonce {
        let mut nonce = self.iv;
        let explicit = seq.to_be_bytes();
        match self.aead {
            AeadAlgorithm::Aes128Gcm | AeadAlgorithm::Aes256Gcm => {
                nonce[4..].copy_from_slice(&explicit)
            }
            AeadAlgorithm::ChaCha20Poly1305 => {
                for (n, s) in nonce[4..].iter_mut().zip(explicit) {
                    *n ^= s;
                }
            }
        }
        aead::Nonce::assume_unique_for_key(nonce)
    }

    fn aad(seq: u64, len: usize) -> aead::Aad<[u8; 13]> {
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&seq.to_be_bytes());
        aad[8] = 23;
        aad[9..11].copy_from_slice(&[3, 3]);
        aad[11..].copy_from_slice(&(len as u16).to_be_bytes());
        aead::Aad::from(aad)
    }

    /// Seals one record into the reused output buffer.
    pub fn seal(&mut self) {
        let seq = self.seal_seq;
        self.seal_seq += 1;
        let len = self.plaintext.len();
        let payload_len = self.explicit_len + len + 16;
        self.out.clear();
        self.out.extend_from_slice(&[23, 3, 3]);
        self.out
            .extend_from_slice(&(payload_len as u16).to_be_bytes());
        self.out
            .extend_from_slice(&seq.to_be_bytes()[..self.explicit_len]);
        let start = self.out.len();
        self.out.extend_from_slice(&self.plaintext);
        let tag = self
            .sealer
            .seal_in_place_separate_tag(
                self.nonce(seq),
                Self::aad(seq, len),
                &mut self.out[start..],
            )
            .expect("seal");
        self.out.extend_from_slice(tag.as_ref());
        black_box(&self.out);
    }

    /// Opens one record's payload in place.
    fn open_one(&mut self, payload: &mut [u8]) {
        let seq = self.open_seq;
        self.open_seq += 1;
        let len = payload.len() - self.explicit_len - 16;
        let plain = self
            .opener
            .open_in_place(
                self.nonce(seq),
                Self::aad(seq, len),
                &mut payload[self.explicit_len..],
            )
            .expect("ring opens its own record");
        black_box(plain);
    }

    /// Opens `iters` records, sealed in batches beforehand; returns the time spent
    /// opening.
    pub fn open(&mut self, iters: u64) -> Duration {
        let mut spent = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let n = left.min(BATCH);
            let mut payloads: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    self.seal();
                    self.out[5..].to_vec()
                })
                .collect();
            let start = Instant::now();
            for payload in &mut payloads {
                self.open_one(payload);
            }
            spent += start.elapsed();
            left -= n;
        }
        spent
    }
}

/// The TLS 1.2 PRF as ring alone computes it: one HMAC key for every block (RFC 5246 §5).
pub fn ring_prf(alg: HashAlgorithm, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let alg = match alg {
        HashAlgorithm::Sha256 => hmac::HMAC_SHA256,
        HashAlgorithm::Sha384 => hmac::HMAC_SHA384,
        HashAlgorithm::Sha512 => hmac::HMAC_SHA512,
    };
    let key = hmac::Key::new(alg, secret);
    let with_seed = |first: &[u8]| {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(first);
        ctx.update(label);
        for part in seed {
            ctx.update(part);
        }
        ctx.sign()
    };
    let mut a = {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(label);
        for part in seed {
            ctx.update(part);
        }
        ctx.sign()
    };
    let len = alg.digest_algorithm().output_len();
    let mut chunks = out.chunks_mut(len).peekable();
    while let Some(chunk) = chunks.next() {
        let block = with_seed(a.as_ref());
        chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        if chunks.peek().is_some() {
            a = hmac::sign(&key, a.as_ref());
        }
    }
}

/// The handshake messages of one full handshake of `fixture` with `suite`, as sent
/// (ClientHello through ClientKeyExchange, in order), then two 16-byte Finished.
pub fn handshake_messages(
    fixture: &Fixture,
    suite: tls12::msgs::enums::CipherSuite,
) -> Vec<Vec<u8>> {
    use std::sync::Arc;
    let mut client = tls12::ClientConnection::new(
        Arc::new(fixture.tls12_client(suite)),
        RingProvider::new(),
        Some(crate::SERVER_NAME.to_owned()),
        None,
        crate::NOW,
    )
    .expect("ClientHello");
    let mut server =
        tls12::ServerConnection::new(Arc::new(fixture.tls12_server(suite)), RingProvider::new());
    let mut cache = tls12::session::InMemoryCache::new(1, 3600);
    // Plaintext handshake records until each side's ChangeCipherSpec.
    let mut plain = Vec::new();
    let mut keep = |wire: &[u8]| {
        let mut rest = wire;
        while rest.len() >= 5 {
            let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
            let (record, tail) = rest.split_at(5 + len);
            match record[0] {
                22 => plain.extend_from_slice(&record[5..]),
                _ => break,
            }
            rest = tail;
        }
    };
    for _ in 0..4 {
        let to_server = client.take_output();
        keep(&to_server);
        if !to_server.is_empty() {
            server
                .receive(&to_server, crate::NOW, &mut cache)
                .expect("server");
        }
        let to_client = server.take_output();
        keep(&to_client);
        if !to_client.is_empty() {
            client.receive(&to_client, crate::NOW).expect("client");
        }
    }
    let mut messages = Vec::new();
    let mut rest = &plain[..];
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
        let (msg, tail) = rest.split_at(4 + len);
        messages.push(msg.to_vec());
        rest = tail;
    }
    let finished = [20u8, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    messages.push(finished.to_vec());
    messages.push(finished.to_vec());
    messages
}

/// One side's transcript work in a full handshake with extended master secret, through
/// tls12's [`Transcript`]: every message added, and three hashes (the session hash, our
/// Finished, the peer's Finished).
pub fn our_transcript(provider: &RingProvider, suite: &Suite, messages: &[Vec<u8>]) {
    let (through_cke, finished) = messages.split_at(messages.len() - 2);
    let mut transcript = Transcript::default();
    let (client_hello, rest) = through_cke.split_first().expect("a ClientHello");
    transcript.add(provider, client_hello);
    // As a server without client authentication: the suite is known after ClientHello.
    transcript.start_hash(provider, suite, false);
    for msg in rest {
        transcript.add(provider, msg);
    }
    black_box(transcript.hash(provider, suite));
    black_box(transcript.hash(provider, suite));
    transcript.add(provider, &finished[0]);
    black_box(transcript.hash(provider, suite));
}

/// The same with one running ring digest, cloned at each hash point.
pub fn ring_transcript(alg: &'static digest::Algorithm, messages: &[Vec<u8>]) {
    let (through_cke, finished) = messages.split_at(messages.len() - 2);
    let mut ctx = digest::Context::new(alg);
    for msg in through_cke {
        ctx.update(msg);
    }
    black_box(ctx.clone().finish());
    black_box(ctx.clone().finish());
    ctx.update(&finished[0]);
    black_box(ctx.clone().finish());
}
