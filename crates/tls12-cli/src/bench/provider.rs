//! The crypto provider of `tls12 bench`: ring's, with certificate chain verification
//! that `--insecure-no-verify` turns off (for servers with throwaway certificates).
//!
//! The core verifies chains through its `Provider` and has no "accept anything" switch,
//! and should not grow one for a benchmark: this wrapper delegates every operation to
//! [`RingProvider`] and only `verify_chain` looks at the flag. The ServerKeyExchange
//! signature is still checked against the certificate's key, so the server must hold the
//! key of the certificate it sends, whatever that certificate says.

use tls12::crypto::ring::RingProvider;
use tls12::crypto::{
    AeadAlgorithm, CertError, CryptoError, Digest, HashAlgorithm, Provider, Secret, UnixTime,
};
use tls12::msgs::enums::{NamedGroup, SignatureScheme};
use tls12::msgs::CertificateDer;

/// [`RingProvider`], verifying certificate chains or not.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BenchProvider {
    ring: RingProvider,
    verify: bool,
}

impl BenchProvider {
    /// ring's provider; chains are verified when `verify` is true, accepted unseen when
    /// it is false.
    pub fn new(verify: bool) -> Self {
        Self {
            ring: RingProvider::new(),
            verify,
        }
    }
}

type Ring = RingProvider;

impl Provider for BenchProvider {
    type KxSecret = <Ring as Provider>::KxSecret;
    type SigningKey = <Ring as Provider>::SigningKey;
    type Roots = <Ring as Provider>::Roots;
    type AeadKey = <Ring as Provider>::AeadKey;
    type TranscriptHash = <Ring as Provider>::TranscriptHash;

    fn fill_random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        self.ring.fill_random(out)
    }

    fn supports_group(&self, group: NamedGroup) -> bool {
        self.ring.supports_group(group)
    }

    fn kx_start(&mut self, group: NamedGroup) -> Result<(Self::KxSecret, Vec<u8>), CryptoError> {
        self.ring.kx_start(group)
    }

    fn kx_complete(
        &self,
        secret: Self::KxSecret,
        peer_public: &[u8],
    ) -> Result<Secret, CryptoError> {
        self.ring.kx_complete(secret, peer_public)
    }

    fn hash(&self, alg: HashAlgorithm, data: &[u8]) -> Digest {
        self.ring.hash(alg, data)
    }

    fn transcript_start(&self, alg: HashAlgorithm) -> Self::TranscriptHash {
        self.ring.transcript_start(alg)
    }

    fn transcript_update(&self, hash: &mut Self::TranscriptHash, data: &[u8]) {
        self.ring.transcript_update(hash, data);
    }

    fn transcript_digest(&self, hash: &Self::TranscriptHash) -> Digest {
        self.ring.transcript_digest(hash)
    }

    fn hmac(&self, alg: HashAlgorithm, key: &[u8], data: &[&[u8]]) -> Digest {
        self.ring.hmac(alg, key, data)
    }

    // ring overrides the PRF and seal_tail for speed: delegate them too, not the
    // trait's defaults, or the client would pay more than a ring client does.
    fn prf(&self, alg: HashAlgorithm, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
        self.ring.prf(alg, secret, label, seed, out);
    }

    fn signing_schemes(&self, key: &Self::SigningKey) -> Vec<SignatureScheme> {
        self.ring.signing_schemes(key)
    }

    fn signing_curve(&self, key: &Self::SigningKey) -> Option<NamedGroup> {
        self.ring.signing_curve(key)
    }

    fn sign(
        &mut self,
        key: &Self::SigningKey,
        scheme: SignatureScheme,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.ring.sign(key, scheme, message)
    }

    fn verify_schemes(&self) -> Vec<SignatureScheme> {
        self.ring.verify_schemes()
    }

    fn verify_signature(
        &self,
        end_entity: &CertificateDer,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.ring
            .verify_signature(end_entity, scheme, message, signature)
    }

    fn verify_chain(
        &self,
        roots: &Self::Roots,
        chain: &[CertificateDer],
        server_name: Option<&str>,
        now: UnixTime,
    ) -> Result<(), CertError> {
        match self.verify {
            true => self.ring.verify_chain(roots, chain, server_name, now),
            // --insecure-no-verify: any chain, any name, any date.
            false => Ok(()),
        }
    }

    fn aead_key(&self, alg: AeadAlgorithm, key: &[u8]) -> Result<Self::AeadKey, CryptoError> {
        self.ring.aead_key(alg, key)
    }

    fn seal(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        self.ring.seal(key, nonce, aad, in_out)
    }

    fn seal_tail(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        buf: &mut Vec<u8>,
        from: usize,
    ) -> Result<(), CryptoError> {
        self.ring.seal_tail(key, nonce, aad, buf, from)
    }

    fn open(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        self.ring.open(key, nonce, aad, in_out)
    }
}
