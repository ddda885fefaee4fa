//! Floor 3: the crypto [`Provider`]. Every secret and every random byte the handshake
//! uses passes through it, so the state machines never name a crypto library: the ring
//! provider ([`ring`]) completes real handshakes; a symbolic provider (for the model and
//! the fuzzers) makes the same state machines deterministic and `Clone + Eq + Hash`.
//!
//! The associated types carry whatever a provider keeps for a key. Every one of them, and
//! the provider itself, is a [`StateValue`], so that every connection state derives
//! `Clone + Debug + Eq + Hash`: the model checker clones states and deduplicates them by
//! hash. A provider whose keys cannot be compared (ring's cannot) compares them by
//! identity, which is sound for everything but the model, where the symbolic provider's
//! keys compare by value.

pub mod ring;
mod sha256;
#[cfg(feature = "symbolic")]
pub mod symbolic;
mod x509_time;

use std::fmt;

use crate::msgs::enums::{AlertDescription, NamedGroup, SignatureScheme};
use crate::msgs::CertificateDer;

/// Seconds since the Unix epoch. The core never reads a clock: the caller passes the time
/// in with every input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnixTime(pub u64);

/// A hash function of the handshake: the suite's PRF hash, or the hash of a signature
/// scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// An AEAD of the record layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AeadAlgorithm {
    /// AES-128-GCM (RFC 5288).
    Aes128Gcm,
    /// AES-256-GCM (RFC 5288).
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 7905).
    ChaCha20Poly1305,
}

impl AeadAlgorithm {
    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    /// The length of the authentication tag each record carries.
    pub const TAG_LEN: usize = 16;
}

/// A hash or HMAC output, at most 64 bytes, held inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest {
    len: u8,
    bytes: [u8; 64],
}

impl Digest {
    /// A digest holding `bytes` (at most 64).
    ///
    /// # Panics
    /// If `bytes` is longer than 64: a provider bug, never peer input.
    pub fn new(bytes: &[u8]) -> Self {
        let mut out = [0u8; 64];
        out[..bytes.len()].copy_from_slice(bytes);
        Self {
            len: bytes.len() as u8,
            bytes: out,
        }
    }
}

impl AsRef<[u8]> for Digest {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", crate::msgs::base::hex(self.as_ref()))
    }
}

/// Secret bytes (a pre-master secret, a master secret, traffic keys): wiped on drop and
/// never printed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Takes ownership of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The secret's bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// A failure inside the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CryptoError {
    /// The peer's key share is not a valid point of the group (RFC 8422 §5.11:
    /// `illegal_parameter`).
    BadKeyShare,
    /// A group, scheme or key this provider does not support.
    Unsupported,
    /// A signature did not verify (`decrypt_error`, RFC 5246 §7.2.2).
    BadSignature,
    /// An AEAD tag did not verify (`bad_record_mac`).
    BadRecordMac,
    /// The randomness source or signer failed.
    Internal,
}

impl CryptoError {
    /// The alert that answers this failure.
    pub fn alert(self) -> AlertDescription {
        match self {
            Self::BadKeyShare => AlertDescription::IllegalParameter,
            Self::Unsupported => AlertDescription::HandshakeFailure,
            Self::BadSignature => AlertDescription::DecryptError,
            Self::BadRecordMac => AlertDescription::BadRecordMac,
            Self::Internal => AlertDescription::InternalError,
        }
    }
}

/// Why a certificate chain was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertError {
    /// The chain does not lead to a configured root.
    UnknownIssuer,
    /// A certificate is expired or not yet valid.
    Expired,
    /// The end-entity certificate is not valid for the server name.
    NotValidForName,
    /// The chain is empty, malformed, or uses an algorithm we do not accept.
    BadCertificate,
    /// The certificate is not for this use (extended key usage).
    UnsupportedCertificate,
    /// A CA certificate (basicConstraints CA:TRUE) presented as the peer's own, without
    /// being configured as trusted itself.
    CaUsedAsEndEntity,
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownIssuer => "the chain does not lead to a trusted root",
            Self::Expired => "a certificate is expired or not yet valid",
            Self::NotValidForName => "the certificate is not valid for the name asked for",
            Self::BadCertificate => {
                "a certificate is malformed, or signed with an algorithm we do not accept"
            }
            Self::UnsupportedCertificate => {
                "the certificate's extended key usage does not allow this use"
            }
            Self::CaUsedAsEndEntity => {
                "a CA certificate (CA:TRUE) was presented as the peer's own certificate; \
                 trust it directly by configuring that exact certificate as a root, or \
                 issue a leaf certificate from the CA"
            }
        })
    }
}

impl CertError {
    /// The alert that answers this failure (RFC 5246 §7.2.2).
    pub fn alert(self) -> AlertDescription {
        match self {
            Self::UnknownIssuer => AlertDescription::UnknownCa,
            Self::Expired => AlertDescription::CertificateExpired,
            Self::NotValidForName | Self::BadCertificate | Self::CaUsedAsEndEntity => {
                AlertDescription::BadCertificate
            }
            Self::UnsupportedCertificate => AlertDescription::UnsupportedCertificate,
        }
    }
}

/// What every value held in a connection state must be.
pub trait StateValue: Clone + fmt::Debug + PartialEq + Eq + std::hash::Hash {}

impl<T: Clone + fmt::Debug + PartialEq + Eq + std::hash::Hash> StateValue for T {}

/// What the handshake asks of cryptography.
pub trait Provider: StateValue {
    /// An ephemeral key-exchange private key.
    type KxSecret: StateValue;
    /// A long-term signing key (the server's, or the client's for client auth).
    type SigningKey: StateValue;
    /// The trust anchors a chain is verified against.
    type Roots: StateValue;
    /// An expanded AEAD key of the record layer.
    type AeadKey: StateValue;
    /// A running hash of the handshake transcript: what it has absorbed can be hashed at
    /// any point while it goes on absorbing.
    type TranscriptHash: StateValue;

    /// Fills `out` with random bytes (randoms, session IDs).
    fn fill_random(&mut self, out: &mut [u8]) -> Result<(), CryptoError>;

    /// Whether key exchange over `group` is supported.
    fn supports_group(&self, group: NamedGroup) -> bool;

    /// Generates an ephemeral key pair: the private half and the public key's encoding
    /// (an `ECPoint`, RFC 8422 §5.4; 32 bytes for X25519, RFC 8422 §5.11).
    fn kx_start(&mut self, group: NamedGroup) -> Result<(Self::KxSecret, Vec<u8>), CryptoError>;

    /// Completes key exchange with the peer's public key: the pre-master secret.
    fn kx_complete(
        &self,
        secret: Self::KxSecret,
        peer_public: &[u8],
    ) -> Result<Secret, CryptoError>;

    /// The hash of `data`.
    fn hash(&self, alg: HashAlgorithm, data: &[u8]) -> Digest;

    /// Starts a running hash under `alg`.
    fn transcript_start(&self, alg: HashAlgorithm) -> Self::TranscriptHash;

    /// Absorbs `data` into `hash`.
    fn transcript_update(&self, hash: &mut Self::TranscriptHash, data: &[u8]);

    /// The hash of everything `hash` has absorbed so far; `hash` itself goes on.
    fn transcript_digest(&self, hash: &Self::TranscriptHash) -> Digest;

    /// HMAC over the concatenation of `data`, keyed with `key`.
    fn hmac(&self, alg: HashAlgorithm, key: &[u8], data: &[&[u8]]) -> Digest;

    /// The TLS 1.2 PRF (RFC 5246 §5): `P_hash(secret, label + seed)` truncated to
    /// `out.len()`, where `seed` is the concatenation of its parts. [`crate::keys::prf`]
    /// documents the construction.
    ///
    /// The default runs it over [`Provider::hmac`] ([`crate::keys::prf_over_hmac`]);
    /// a provider whose HMAC key setup costs something (ring's hashes the key into two
    /// digest states) overrides it to key HMAC once per call rather than once per block.
    ///
    /// # Panics
    /// If the provider's HMAC is shorter than `alg.output_len()`: a provider bug, never
    /// peer input.
    fn prf(&self, alg: HashAlgorithm, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
        crate::keys::prf_over_hmac(self, alg, secret, label, seed, out);
    }

    /// The schemes `key` can sign with, most preferred first.
    fn signing_schemes(&self, key: &Self::SigningKey) -> Vec<SignatureScheme>;

    /// The curve of an ECDSA `key`, `None` for other key types: a client's
    /// supported_groups bounds the curve of the certificate it will accept (RFC 8422
    /// §5.1.1), whatever hash the signature uses.
    fn signing_curve(&self, key: &Self::SigningKey) -> Option<NamedGroup>;

    /// Signs `message` (the scheme hashes it) with `key`.
    fn sign(
        &mut self,
        key: &Self::SigningKey,
        scheme: SignatureScheme,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;

    /// The schemes this provider verifies, most preferred first: what we advertise in
    /// signature_algorithms and CertificateRequest.
    fn verify_schemes(&self) -> Vec<SignatureScheme>;

    /// Verifies that `signature` over `message` was made by the key of `end_entity`.
    fn verify_signature(
        &self,
        end_entity: &CertificateDer,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;

    /// Verifies `chain` (end entity first) up to `roots` at `now`: as a server
    /// certificate valid for `server_name` when that is `Some`, else as a client
    /// certificate.
    fn verify_chain(
        &self,
        roots: &Self::Roots,
        chain: &[CertificateDer],
        server_name: Option<&str>,
        now: UnixTime,
    ) -> Result<(), CertError>;

    /// Expands a record-layer key.
    fn aead_key(&self, alg: AeadAlgorithm, key: &[u8]) -> Result<Self::AeadKey, CryptoError>;

    /// Encrypts `in_out` in place and appends the tag.
    fn seal(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), CryptoError>;

    /// Encrypts `buf[from..]` in place and appends the tag: the record layer seals
    /// straight into its output buffer. The default goes through [`Provider::seal`] on a
    /// copy; providers that can seal a slice in place override it.
    fn seal_tail(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        buf: &mut Vec<u8>,
        from: usize,
    ) -> Result<(), CryptoError> {
        let mut body = buf.split_off(from);
        self.seal(key, nonce, aad, &mut body)?;
        buf.extend_from_slice(&body);
        Ok(())
    }

    /// Decrypts `in_out` (ciphertext and tag) in place; returns the plaintext length.
    fn open(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<usize, CryptoError>;
}

/// Compares two byte strings in time that depends only on their lengths (Finished
/// verify_data, RFC 5246 §7.4.9).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}
