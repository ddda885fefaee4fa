//! The ring provider: real cryptography from ring, certificates from rustls-webpki.
//!
//! Everything here is a thin mapping from the [`Provider`] vocabulary (TLS code points,
//! [`CryptoError`], [`CertError`]) onto ring and webpki calls. The choices that are not
//! forced by those libraries come from the RFCs cited next to them.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ring::rand::SecureRandom;
use ring::{aead, agreement, digest, hmac, rand, signature};
use rustls_pki_types as pki;
use rustls_pki_types::SignatureVerificationAlgorithm;
use zeroize::Zeroizing;

use super::{
    AeadAlgorithm, CertError, CryptoError, Digest, HashAlgorithm, Provider, Secret, UnixTime,
};
use crate::msgs::enums::{NamedGroup, SignatureScheme};
use crate::msgs::CertificateDer;

/// The [`Provider`] backed by ring and rustls-webpki.
///
/// It holds a handle to the operating system's randomness source and a cache of the last
/// PRF key, so creating one per connection costs nothing and cloning it (which starts an
/// empty cache) is cheap. Every `RingProvider` equals every other: none has state that
/// changes what it computes.
pub struct RingProvider {
    /// The source of every random byte: randoms, session IDs, ephemeral keys, ECDSA
    /// nonces and PSS salts.
    rng: rand::SystemRandom,
    /// The secret the SHA-256 PRF was last keyed with, and the keyed HMAC: a connection
    /// runs the PRF three times under its master secret (key block, both Finished), and
    /// keying costs two compressions each time. Only a cache: it changes no result, and a
    /// clone starts without it.
    prf_key: Mutex<Option<PrfKey>>,
}

/// A keyed HMAC-SHA256 and the secret it was keyed with (the secret is wiped on drop; the
/// keyed state, like ring's HMAC keys, is not: the `hmac` crate cannot wipe it).
struct PrfKey {
    secret: Zeroizing<[u8; MAX_CACHED_SECRET]>,
    len: usize,
    key: super::sha256::HmacKey,
}

/// The longest secret the PRF key cache keeps: master secrets are 48 bytes.
const MAX_CACHED_SECRET: usize = 48;

impl RingProvider {
    /// A provider drawing randomness from the operating system.
    pub fn new() -> Self {
        Self {
            rng: rand::SystemRandom::new(),
            prf_key: Mutex::new(None),
        }
    }

    /// `P_SHA256(secret, label + seed)` over `super::sha256`, keyed from the cache when
    /// `secret` is the one it holds.
    fn prf_sha256(&self, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
        let Ok(mut cached) = self.prf_key.lock() else {
            // A poisoned cache is only a cache.
            let key = super::sha256::HmacKey::new(secret);
            return super::sha256::prf_keyed(&key, label, seed, out);
        };
        let hit = cached.as_ref().is_some_and(|c| {
            c.len == secret.len() && super::constant_time_eq(&c.secret[..c.len], secret)
        });
        if !hit {
            *cached = None;
            if secret.len() <= MAX_CACHED_SECRET {
                let mut copy = Zeroizing::new([0u8; MAX_CACHED_SECRET]);
                copy[..secret.len()].copy_from_slice(secret);
                *cached = Some(PrfKey {
                    secret: copy,
                    len: secret.len(),
                    key: super::sha256::HmacKey::new(secret),
                });
            }
        }
        match cached.as_ref() {
            Some(c) => super::sha256::prf_keyed(&c.key, label, seed, out),
            None => {
                super::sha256::prf_keyed(&super::sha256::HmacKey::new(secret), label, seed, out)
            }
        }
    }
}

impl Clone for RingProvider {
    fn clone(&self) -> Self {
        Self {
            rng: self.rng.clone(),
            prf_key: Mutex::new(None),
        }
    }
}

impl fmt::Debug for RingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingProvider").finish_non_exhaustive()
    }
}

impl Default for RingProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for RingProvider {
    fn eq(&self, _: &Self) -> bool {
        // Stateless apart from the OS randomness handle: all providers are alike.
        true
    }
}

impl Eq for RingProvider {}

impl Hash for RingProvider {
    fn hash<H: Hasher>(&self, _: &mut H) {
        // Consistent with `eq`: nothing distinguishes two providers.
    }
}

/// An ephemeral ECDHE private key, the group it belongs to and its public key.
///
/// ring's key can be used for exactly one agreement (`agree_ephemeral` consumes it) and
/// cannot be copied, which suits an ephemeral key (the "E" of ECDHE, RFC 8422 §2).
/// Connection states must be `Clone` all the same, so clones share one slot and the
/// first [`Provider::kx_complete`] empties it; completing a clone afterwards fails with
/// `CryptoError::Internal`. Equality and hashing go by the group and public key, which
/// identify the key pair.
#[derive(Clone)]
pub struct RingKxSecret {
    /// The group negotiated in supported_groups / ServerKeyExchange; kept so that
    /// `kx_complete` can check the peer's encoding for it.
    group: NamedGroup,
    /// Our public key as sent to the peer.
    public: Vec<u8>,
    /// The private scalar until it is used; never printed.
    key: Arc<Mutex<Option<agreement::EphemeralPrivateKey>>>,
}

impl RingKxSecret {
    /// The group this key belongs to.
    pub fn group(&self) -> NamedGroup {
        self.group
    }

    /// Our public key, as `kx_start` returned it.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }
}

impl PartialEq for RingKxSecret {
    fn eq(&self, other: &Self) -> bool {
        self.group == other.group && self.public == other.public
    }
}

impl Eq for RingKxSecret {}

impl Hash for RingKxSecret {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.group.hash(state);
        self.public.hash(state);
    }
}

impl fmt::Debug for RingKxSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key is deliberately left out.
        f.debug_struct("RingKxSecret")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

/// The ring algorithm for a key-exchange group, if we support it.
fn kx_algorithm(group: NamedGroup) -> Option<&'static agreement::Algorithm> {
    match group {
        NamedGroup::X25519 => Some(&agreement::X25519),
        NamedGroup::secp256r1 => Some(&agreement::ECDH_P256),
        NamedGroup::secp384r1 => Some(&agreement::ECDH_P384),
        _ => None,
    }
}

/// Whether `peer` has the only encoding we accept for `group`: the 32-byte u-coordinate
/// for X25519 (RFC 7748 §5), and the uncompressed form `0x04 || x || y` for the NIST
/// curves (RFC 8422 §5.4.1; §5.1.2 deprecates the compressed forms, and we never offer
/// them in ec_point_formats).
fn peer_encoding_ok(group: NamedGroup, peer: &[u8]) -> bool {
    match group {
        NamedGroup::X25519 => peer.len() == 32,
        NamedGroup::secp256r1 => peer.len() == 1 + 2 * 32 && peer[0] == 0x04,
        NamedGroup::secp384r1 => peer.len() == 1 + 2 * 48 && peer[0] == 0x04,
        _ => false,
    }
}

/// A long-term signing key: the server's certificate key, or the client's for client
/// authentication.
///
/// The key lives behind an [`Arc`] because one key serves every connection of a
/// configuration, and ring's key pairs are not `Clone`. Equality and hashing go by the
/// public key: two loads of the same private key are the same signing key.
#[derive(Clone)]
pub struct RingSigningKey {
    /// The loaded key pair.
    kind: Arc<SigningKeyKind>,
    /// The public key as ring encodes it (an uncompressed point for ECDSA, a DER
    /// `RSAPublicKey` for RSA): the key's identity.
    public: Vec<u8>,
}

impl PartialEq for RingSigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}

impl Eq for RingSigningKey {}

impl Hash for RingSigningKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.public.hash(state);
    }
}

/// The key types we can sign with.
enum SigningKeyKind {
    /// An ECDSA key on P-256 or P-384. ring binds the key to one curve-and-hash pair at
    /// load time, so the key signs with exactly one scheme.
    Ecdsa {
        /// The loaded key pair.
        key: signature::EcdsaKeyPair,
        /// The scheme the key pair signs with.
        scheme: SignatureScheme,
        /// For a P-256 key, the same key loaded by the `p256` crate, which signs a
        /// SHA-384 digest (ecdsa_secp384r1_sha384): in TLS 1.2 the code point names only
        /// the hash (RFC 8422 §5.1.3), and a client may offer nothing else.
        sha384: Option<p256::ecdsa::SigningKey>,
    },
    /// An RSA key (2048 to 4096 bits: ring's limits), which signs with PSS or PKCS#1 v1.5
    /// over SHA-256/384/512.
    Rsa(signature::RsaKeyPair),
}

/// The schemes an RSA key offers, most preferred first: PSS before PKCS#1 v1.5 (PSS has
/// a security proof; RFC 8446 §4.2.3 makes it mandatory for TLS 1.3 and RFC 8446 §1.3
/// defines the same code points for TLS 1.2), and stronger hashes first.
const RSA_SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
];

impl RingSigningKey {
    /// Loads a private key: PKCS#8 ECDSA (P-256 or P-384), PKCS#8 RSA or PKCS#1 RSA.
    ///
    /// SEC1 (`EC PRIVATE KEY`) keys and any other key type are `Unsupported`, as is a
    /// key ring refuses (malformed, or an RSA modulus outside 2048..=4096 bits).
    pub fn from_der(der: &pki::PrivateKeyDer<'_>) -> Result<Self, CryptoError> {
        let kind = match der {
            pki::PrivateKeyDer::Pkcs8(pkcs8) => Self::from_pkcs8(pkcs8.secret_pkcs8_der())?,
            pki::PrivateKeyDer::Pkcs1(pkcs1) => SigningKeyKind::Rsa(
                signature::RsaKeyPair::from_der(pkcs1.secret_pkcs1_der())
                    .map_err(|_| CryptoError::Unsupported)?,
            ),
            _ => return Err(CryptoError::Unsupported),
        };
        let public = match &kind {
            SigningKeyKind::Ecdsa { key, .. } => {
                signature::KeyPair::public_key(key).as_ref().to_vec()
            }
            SigningKeyKind::Rsa(key) => key.public().as_ref().to_vec(),
        };
        Ok(Self {
            kind: Arc::new(kind),
            public,
        })
    }

    /// Tries each key type PKCS#8 may hold. The AlgorithmIdentifier inside decides which
    /// one accepts, so at most one succeeds.
    fn from_pkcs8(pkcs8: &[u8]) -> Result<SigningKeyKind, CryptoError> {
        // ECDSA key loading needs randomness only to blind a self-check; a local handle
        // keeps this constructor free of a provider.
        let rng = rand::SystemRandom::new();
        let ecdsa = [
            (
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                SignatureScheme::ECDSA_NISTP256_SHA256,
            ),
            (
                &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
                SignatureScheme::ECDSA_NISTP384_SHA384,
            ),
        ];
        for (alg, scheme) in ecdsa {
            if let Ok(key) = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8, &rng) {
                let sha384 = match scheme {
                    SignatureScheme::ECDSA_NISTP256_SHA256 => {
                        use p256::pkcs8::DecodePrivateKey;
                        p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8).ok()
                    }
                    _ => None,
                };
                return Ok(SigningKeyKind::Ecdsa {
                    key,
                    scheme,
                    sha384,
                });
            }
        }
        signature::RsaKeyPair::from_pkcs8(pkcs8)
            .map(SigningKeyKind::Rsa)
            .map_err(|_| CryptoError::Unsupported)
    }

    /// The schemes this key signs with, most preferred first.
    pub fn schemes(&self) -> Vec<SignatureScheme> {
        match &*self.kind {
            SigningKeyKind::Ecdsa { scheme, sha384, .. } => {
                let mut schemes = vec![*scheme];
                if sha384.is_some() {
                    schemes.push(SignatureScheme::ECDSA_NISTP384_SHA384);
                }
                schemes
            }
            SigningKeyKind::Rsa(_) => RSA_SCHEMES.to_vec(),
        }
    }

    /// The curve of an ECDSA key (RFC 8422 §5.1.1: the client's supported_groups bounds
    /// it), `None` for RSA.
    pub fn curve(&self) -> Option<NamedGroup> {
        match &*self.kind {
            SigningKeyKind::Ecdsa { scheme, .. } => match *scheme {
                SignatureScheme::ECDSA_NISTP256_SHA256 => Some(NamedGroup::secp256r1),
                _ => Some(NamedGroup::secp384r1),
            },
            SigningKeyKind::Rsa(_) => None,
        }
    }
}

impl fmt::Debug for RingSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the key type: a private key has nothing else worth printing.
        match &*self.kind {
            SigningKeyKind::Ecdsa { scheme, .. } => write!(f, "RingSigningKey(ECDSA {scheme:?})"),
            SigningKeyKind::Rsa(key) => write!(
                f,
                "RingSigningKey(RSA {} bits)",
                key.public().modulus_len() * 8
            ),
        }
    }
}

/// The ring padding scheme of an RSA signature scheme. The PSS ones are the "rsae"
/// schemes of RFC 8446 §4.2.3 (an rsaEncryption key, salt as long as the hash), which is
/// what ring's `RSA_PSS_SHA*` implement.
fn rsa_encoding(scheme: SignatureScheme) -> Option<&'static dyn signature::RsaEncoding> {
    match scheme {
        SignatureScheme::RSA_PSS_SHA256 => Some(&signature::RSA_PSS_SHA256),
        SignatureScheme::RSA_PSS_SHA384 => Some(&signature::RSA_PSS_SHA384),
        SignatureScheme::RSA_PSS_SHA512 => Some(&signature::RSA_PSS_SHA512),
        SignatureScheme::RSA_PKCS1_SHA256 => Some(&signature::RSA_PKCS1_SHA256),
        SignatureScheme::RSA_PKCS1_SHA384 => Some(&signature::RSA_PKCS1_SHA384),
        SignatureScheme::RSA_PKCS1_SHA512 => Some(&signature::RSA_PKCS1_SHA512),
        _ => None,
    }
}

/// Verifiers for `ecdsa_secp256r1_sha256` (0x0403). In TLS 1.2 the code point means only
/// "ECDSA with SHA-256" (RFC 5246 §7.4.1.4.1, RFC 8422 §5.1.3): the curve is the
/// certificate's, so a P-384 key may sign with it. webpki refuses an algorithm whose
/// curve is not the key's, so at most one of these applies to a given certificate.
static ECDSA_SHA256: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P384_SHA256,
];

/// Verifiers for `ecdsa_secp384r1_sha384` (0x0503); see [`ECDSA_SHA256`].
static ECDSA_SHA384: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ECDSA_P256_SHA384,
];

/// Verifier for `rsa_pkcs1_sha256`.
static RSA_PKCS1_SHA256: &[&dyn SignatureVerificationAlgorithm] =
    &[webpki::ring::RSA_PKCS1_2048_8192_SHA256];

/// Verifier for `rsa_pkcs1_sha384`.
static RSA_PKCS1_SHA384: &[&dyn SignatureVerificationAlgorithm] =
    &[webpki::ring::RSA_PKCS1_2048_8192_SHA384];

/// Verifier for `rsa_pkcs1_sha512`.
static RSA_PKCS1_SHA512: &[&dyn SignatureVerificationAlgorithm] =
    &[webpki::ring::RSA_PKCS1_2048_8192_SHA512];

/// Verifier for `rsa_pss_rsae_sha256`: PSS with an rsaEncryption ("legacy") key.
static RSA_PSS_SHA256: &[&dyn SignatureVerificationAlgorithm] =
    &[webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY];

/// Verifier for `rsa_pss_rsae_sha384`.
static RSA_PSS_SHA384: &[&dyn SignatureVerificationAlgorithm] =
    &[webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY];

/// Verifier for `rsa_pss_rsae_sha512`.
static RSA_PSS_SHA512: &[&dyn SignatureVerificationAlgorithm] =
    &[webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY];

/// Verifier for `ed25519` (RFC 8422 §5.1.3 brings it to TLS 1.2).
static ED25519: &[&dyn SignatureVerificationAlgorithm] = &[webpki::ring::ED25519];

/// The webpki algorithms that may verify a signature made with `scheme`.
fn verify_algorithms(
    scheme: SignatureScheme,
) -> Option<&'static [&'static dyn SignatureVerificationAlgorithm]> {
    match scheme {
        SignatureScheme::ECDSA_NISTP256_SHA256 => Some(ECDSA_SHA256),
        SignatureScheme::ECDSA_NISTP384_SHA384 => Some(ECDSA_SHA384),
        SignatureScheme::RSA_PKCS1_SHA256 => Some(RSA_PKCS1_SHA256),
        SignatureScheme::RSA_PKCS1_SHA384 => Some(RSA_PKCS1_SHA384),
        SignatureScheme::RSA_PKCS1_SHA512 => Some(RSA_PKCS1_SHA512),
        SignatureScheme::RSA_PSS_SHA256 => Some(RSA_PSS_SHA256),
        SignatureScheme::RSA_PSS_SHA384 => Some(RSA_PSS_SHA384),
        SignatureScheme::RSA_PSS_SHA512 => Some(RSA_PSS_SHA512),
        SignatureScheme::ED25519 => Some(ED25519),
        _ => None,
    }
}

/// The trust anchors a peer's chain must lead to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RingRoots {
    /// Owned anchors (subject, public key, name constraints) extracted from the root
    /// certificates.
    anchors: Vec<pki::TrustAnchor<'static>>,
    /// The root certificates themselves: a peer presenting one of them exactly is
    /// trusted as it is (see [`RingProvider::verify_chain`]).
    certs: Vec<CertificateDer>,
}

impl RingRoots {
    /// Trusts each of `certs` (DER, typically self-signed roots).
    ///
    /// A certificate webpki cannot parse is `BadCertificate`: silently dropping a root
    /// would turn a configuration mistake into confusing `UnknownIssuer` failures later.
    pub fn from_der_certs(certs: &[CertificateDer]) -> Result<Self, CertError> {
        let anchors = certs
            .iter()
            .map(|cert| {
                let der = pki::CertificateDer::from(cert.0.as_slice());
                webpki::anchor_from_trusted_cert(&der)
                    .map(|anchor| anchor.to_owned())
                    .map_err(|_| CertError::BadCertificate)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            anchors,
            certs: certs.to_vec(),
        })
    }

    /// Whether `cert` is, byte for byte, one of the configured roots.
    fn pins(&self, cert: &[u8]) -> bool {
        self.certs.iter().any(|root| root.0 == cert)
    }

    /// How many anchors are trusted.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether no anchor is trusted (every chain will then fail with `UnknownIssuer`).
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// Maps a webpki failure onto the alert-level reasons of [`CertError`] (RFC 5246
/// §7.2.2 picks the alert from those).
#[allow(deprecated)] // `RequiredEkuNotFound` is deprecated, yet older paths may return it.
fn cert_error(error: webpki::Error) -> CertError {
    use webpki::Error as E;
    match error {
        E::UnknownIssuer => CertError::UnknownIssuer,
        E::CertExpired { .. } | E::CertNotValidYet { .. } => CertError::Expired,
        E::CertNotValidForName(_) => CertError::NotValidForName,
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
            CertError::UnsupportedCertificate
        }
        _ => CertError::BadCertificate,
    }
}

/// An expanded record-layer key and the AEAD it is for.
///
/// ring's expanded key cannot be compared, and keeping the raw key beside it only for
/// comparisons would double the copies of it in memory; so equality and hashing go by
/// identity: a key equals its clones (which share it) and nothing else.
#[derive(Clone)]
pub struct RingAeadKey {
    /// The AEAD, kept for `Debug`.
    alg: AeadAlgorithm,
    /// ring's key. `LessSafeKey` because TLS 1.2 builds each nonce itself (RFC 5288 §3,
    /// RFC 7905 §2) and ring's safer `SealingKey` wants to own the nonce sequence.
    key: Arc<aead::LessSafeKey>,
}

impl PartialEq for RingAeadKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.key, &other.key)
    }
}

impl Eq for RingAeadKey {}

impl Hash for RingAeadKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The address identifies the shared key, consistently with `eq`.
        std::ptr::hash(Arc::as_ptr(&self.key), state);
    }
}

impl RingAeadKey {
    /// The AEAD this key is for.
    pub fn algorithm(&self) -> AeadAlgorithm {
        self.alg
    }
}

impl fmt::Debug for RingAeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key bytes are deliberately left out.
        f.debug_struct("RingAeadKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// A running transcript hash: one ring digest context, cloned whenever a hash of the
/// transcript so far is needed (RFC 5246 §7.4.9, RFC 7627 §3).
///
/// ring's context cannot be compared, so equality and hashing go by the algorithm and
/// the digest of what it has absorbed: two transcripts are equal when their hashes are.
#[derive(Clone)]
pub struct RingTranscriptHash(Running);

/// The hash under way: SHA-256 on the SHA extensions is the `sha2` crate's (see
/// `super::sha256`: a digest taken mid-transcript copies a small state instead of ring's
/// context), anything else ring's.
#[derive(Clone)]
enum Running {
    Ring(digest::Context),
    Sha256(super::sha256::Hash),
}

impl RingTranscriptHash {
    fn new(alg: HashAlgorithm) -> Self {
        match alg {
            HashAlgorithm::Sha256 if super::sha256::accelerated() => {
                Self(Running::Sha256(super::sha256::Hash::new()))
            }
            _ => Self(Running::Ring(digest::Context::new(digest_algorithm(alg)))),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            Running::Ring(context) => context.update(data),
            Running::Sha256(hash) => hash.update(data),
        }
    }

    /// The digest of everything absorbed so far.
    fn current(&self) -> Digest {
        match &self.0 {
            Running::Ring(context) => Digest::new(context.clone().finish().as_ref()),
            Running::Sha256(hash) => Digest::new(&hash.clone().finish()),
        }
    }

    /// The algorithm's name, for `Debug`.
    fn algorithm(&self) -> &'static str {
        match &self.0 {
            Running::Ring(context) if context.algorithm() == &digest::SHA384 => "SHA384",
            Running::Ring(context) if context.algorithm() == &digest::SHA512 => "SHA512",
            Running::Ring(_) | Running::Sha256(_) => "SHA256",
        }
    }
}

impl PartialEq for RingTranscriptHash {
    fn eq(&self, other: &Self) -> bool {
        // The digest's length tells the algorithm apart.
        self.current() == other.current()
    }
}

impl Eq for RingTranscriptHash {}

impl Hash for RingTranscriptHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Consistent with `eq`: equal digests hash alike.
        self.current().as_ref().hash(state);
    }
}

impl fmt::Debug for RingTranscriptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RingTranscriptHash")
            .field(&self.algorithm())
            .finish()
    }
}

/// The ring digest of a hash algorithm.
fn digest_algorithm(alg: HashAlgorithm) -> &'static digest::Algorithm {
    match alg {
        HashAlgorithm::Sha256 => &digest::SHA256,
        HashAlgorithm::Sha384 => &digest::SHA384,
        HashAlgorithm::Sha512 => &digest::SHA512,
    }
}

/// The ring HMAC of a hash algorithm.
fn hmac_algorithm(alg: HashAlgorithm) -> hmac::Algorithm {
    match alg {
        HashAlgorithm::Sha256 => hmac::HMAC_SHA256,
        HashAlgorithm::Sha384 => hmac::HMAC_SHA384,
        HashAlgorithm::Sha512 => hmac::HMAC_SHA512,
    }
}

/// The ring AEAD of a record-layer AEAD.
fn aead_algorithm(alg: AeadAlgorithm) -> &'static aead::Algorithm {
    match alg {
        AeadAlgorithm::Aes128Gcm => &aead::AES_128_GCM,
        AeadAlgorithm::Aes256Gcm => &aead::AES_256_GCM,
        AeadAlgorithm::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
    }
}

impl Provider for RingProvider {
    type KxSecret = RingKxSecret;
    type SigningKey = RingSigningKey;
    type Roots = RingRoots;
    type AeadKey = RingAeadKey;
    type TranscriptHash = RingTranscriptHash;

    fn fill_random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        self.rng.fill(out).map_err(|_| CryptoError::Internal)
    }

    fn supports_group(&self, group: NamedGroup) -> bool {
        kx_algorithm(group).is_some()
    }

    fn kx_start(&mut self, group: NamedGroup) -> Result<(Self::KxSecret, Vec<u8>), CryptoError> {
        let alg = kx_algorithm(group).ok_or(CryptoError::Unsupported)?;
        let key = agreement::EphemeralPrivateKey::generate(alg, &self.rng)
            .map_err(|_| CryptoError::Internal)?;
        // ring encodes NIST points uncompressed (RFC 8422 §5.4.1) and X25519 keys as
        // 32 bytes (RFC 7748 §5): the encodings peers expect.
        let public = key
            .compute_public_key()
            .map_err(|_| CryptoError::Internal)?
            .as_ref()
            .to_vec();
        let secret = RingKxSecret {
            group,
            public: public.clone(),
            key: Arc::new(Mutex::new(Some(key))),
        };
        Ok((secret, public))
    }

    fn kx_complete(
        &self,
        secret: Self::KxSecret,
        peer_public: &[u8],
    ) -> Result<Secret, CryptoError> {
        let alg = kx_algorithm(secret.group).ok_or(CryptoError::Unsupported)?;
        if !peer_encoding_ok(secret.group, peer_public) {
            return Err(CryptoError::BadKeyShare);
        }
        // ring validates NIST points (on the curve, not the identity) and rejects an
        // all-zero X25519 output, which a small-order peer key produces: both checks are
        // MUSTs of RFC 8422 §5.11 (and RFC 7748 §6.1). The shared secret is the
        // x-coordinate for the NIST curves (RFC 8422 §5.10) and the X25519 output as
        // is: exactly the pre-master secret.
        // Take the key out of the slot its clones share: it is good for one agreement.
        let key = secret
            .key
            .lock()
            .map_err(|_| CryptoError::Internal)?
            .take()
            .ok_or(CryptoError::Internal)?;
        let peer = agreement::UnparsedPublicKey::new(alg, peer_public);
        agreement::agree_ephemeral(key, &peer, |shared| Secret::new(shared.to_vec()))
            .map_err(|_| CryptoError::BadKeyShare)
    }

    fn hash(&self, alg: HashAlgorithm, data: &[u8]) -> Digest {
        Digest::new(digest::digest(digest_algorithm(alg), data).as_ref())
    }

    fn transcript_start(&self, alg: HashAlgorithm) -> Self::TranscriptHash {
        RingTranscriptHash::new(alg)
    }

    fn transcript_update(&self, hash: &mut Self::TranscriptHash, data: &[u8]) {
        hash.update(data);
    }

    fn transcript_digest(&self, hash: &Self::TranscriptHash) -> Digest {
        hash.current()
    }

    fn hmac(&self, alg: HashAlgorithm, key: &[u8], data: &[&[u8]]) -> Digest {
        let key = hmac::Key::new(hmac_algorithm(alg), key);
        let mut ctx = hmac::Context::with_key(&key);
        for part in data {
            ctx.update(part);
        }
        Digest::new(ctx.sign().as_ref())
    }

    fn prf(&self, alg: HashAlgorithm, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
        // With SHA-256 on the SHA extensions, the `hmac` crate's HMAC over `sha2`
        // costs about half of ring's (see `super::sha256`).
        if alg == HashAlgorithm::Sha256 && super::sha256::accelerated() {
            return self.prf_sha256(secret, label, seed, out);
        }
        // One key for every block: keying hashes the secret into the inner and outer
        // states, which each block's context then starts from (RFC 2104 §2). Nothing
        // is allocated: the A(i) and the blocks are ring tags on the stack.
        let key = hmac::Key::new(hmac_algorithm(alg), secret);
        let label_seed = |ctx: &mut hmac::Context| {
            ctx.update(label);
            for part in seed {
                ctx.update(part);
            }
        };
        let mut ctx = hmac::Context::with_key(&key);
        label_seed(&mut ctx);
        let mut a = ctx.sign();
        let mut chunks = out.chunks_mut(alg.output_len()).peekable();
        while let Some(chunk) = chunks.next() {
            let mut ctx = hmac::Context::with_key(&key);
            ctx.update(a.as_ref());
            label_seed(&mut ctx);
            chunk.copy_from_slice(&ctx.sign().as_ref()[..chunk.len()]);
            // A(i+1) is needed only if another block follows.
            if chunks.peek().is_some() {
                a = hmac::sign(&key, a.as_ref());
            }
        }
    }

    fn signing_schemes(&self, key: &Self::SigningKey) -> Vec<SignatureScheme> {
        key.schemes()
    }

    fn signing_curve(&self, key: &Self::SigningKey) -> Option<NamedGroup> {
        key.curve()
    }

    fn sign(
        &mut self,
        key: &Self::SigningKey,
        scheme: SignatureScheme,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        match &*key.kind {
            SigningKeyKind::Ecdsa {
                sha384: Some(flexible),
                ..
            } if scheme == SignatureScheme::ECDSA_NISTP384_SHA384 => {
                use p256::ecdsa::signature::hazmat::PrehashSigner;
                // ECDSA over P-256 keeps the leftmost 256 bits of the SHA-384 digest
                // (FIPS 186-4 §6.4); the signature is deterministic (RFC 6979).
                let digest = digest::digest(&digest::SHA384, message);
                let sig: p256::ecdsa::Signature = flexible
                    .sign_prehash(digest.as_ref())
                    .map_err(|_| CryptoError::Internal)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            SigningKeyKind::Ecdsa {
                key,
                scheme: supported,
                ..
            } => {
                if scheme != *supported {
                    return Err(CryptoError::Unsupported);
                }
                // ASN.1 DER `ECDSA-Sig-Value`, the wire form of RFC 8422 §5.4.
                key.sign(&self.rng, message)
                    .map(|sig| sig.as_ref().to_vec())
                    .map_err(|_| CryptoError::Internal)
            }
            SigningKeyKind::Rsa(key) => {
                let encoding = rsa_encoding(scheme).ok_or(CryptoError::Unsupported)?;
                let mut sig = vec![0; key.public().modulus_len()];
                key.sign(encoding, &self.rng, message, &mut sig)
                    .map_err(|_| CryptoError::Internal)?;
                Ok(sig)
            }
        }
    }

    fn verify_schemes(&self) -> Vec<SignatureScheme> {
        // ECDSA first (smaller, faster), then PSS before PKCS#1 v1.5 (see RSA_SCHEMES),
        // then Ed25519, which few TLS 1.2 peers use.
        vec![
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PSS_SHA512,
            SignatureScheme::RSA_PKCS1_SHA256,
            SignatureScheme::RSA_PKCS1_SHA384,
            SignatureScheme::RSA_PKCS1_SHA512,
            SignatureScheme::ED25519,
        ]
    }

    fn verify_signature(
        &self,
        end_entity: &CertificateDer,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let algs = verify_algorithms(scheme).ok_or(CryptoError::Unsupported)?;
        let der = pki::CertificateDer::from(end_entity.0.as_slice());
        // The chain was verified first, so an unparsable certificate here means the
        // signature cannot be attributed to it.
        let cert = webpki::EndEntityCert::try_from(&der).map_err(|_| CryptoError::BadSignature)?;
        for alg in algs {
            match cert.verify_signature(*alg, message, signature) {
                Ok(()) => return Ok(()),
                // This algorithm is for another key type or curve: try the next one.
                Err(webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)) => {}
                Err(_) => return Err(CryptoError::BadSignature),
            }
        }
        // No algorithm fits the certificate's key: the peer signed with a scheme its
        // certificate cannot make (RFC 5246 §7.4.1.4.1).
        Err(CryptoError::BadSignature)
    }

    fn verify_chain(
        &self,
        roots: &Self::Roots,
        chain: &[CertificateDer],
        server_name: Option<&str>,
        now: UnixTime,
    ) -> Result<(), CertError> {
        // RFC 5246 §7.4.2: the sender's certificate comes first.
        let (end_entity, rest) = chain.split_first().ok_or(CertError::BadCertificate)?;
        let end_entity = pki::CertificateDer::from(end_entity.0.as_slice());
        let cert = webpki::EndEntityCert::try_from(&end_entity).map_err(cert_error)?;
        let intermediates: Vec<pki::CertificateDer<'_>> = rest
            .iter()
            .map(|c| pki::CertificateDer::from(c.0.as_slice()))
            .collect();
        let time = pki::UnixTime::since_unix_epoch(Duration::from_secs(now.0));
        // A server name means we are the client checking a server; no name means we
        // are the server checking a client certificate (RFC 5246 §7.4.6).
        let usage = match server_name {
            Some(_) => webpki::KeyUsage::server_auth(),
            None => webpki::KeyUsage::client_auth(),
        };
        let path = cert.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &roots.anchors,
            &intermediates,
            time,
            usage,
            None,
            None,
        );
        match path {
            Ok(_) => {}
            // A certificate configured as a root is trusted as it is, even a self-signed
            // CA certificate that webpki will not take as an end entity (a common test
            // set-up, which OpenSSL and GnuTLS accept). Only its validity period is left
            // to check; the peer still proves its key by signing.
            Err(_) if roots.pins(&end_entity) => {
                let (not_before, not_after) =
                    super::x509_time::validity(&end_entity).ok_or(CertError::BadCertificate)?;
                if now.0 < not_before || now.0 > not_after {
                    return Err(CertError::Expired);
                }
            }
            Err(webpki::Error::CaUsedAsEndEntity) => return Err(CertError::CaUsedAsEndEntity),
            Err(err) => return Err(cert_error(err)),
        }
        if let Some(name) = server_name {
            // DNS names and IP addresses alike (RFC 6125; RFC 5280 §4.2.1.6).
            let name = pki::ServerName::try_from(name).map_err(|_| CertError::NotValidForName)?;
            cert.verify_is_valid_for_subject_name(&name)
                .map_err(cert_error)?;
        }
        Ok(())
    }

    fn aead_key(&self, alg: AeadAlgorithm, key: &[u8]) -> Result<Self::AeadKey, CryptoError> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::Unsupported);
        }
        let unbound = aead::UnboundKey::new(aead_algorithm(alg), key)
            .map_err(|_| CryptoError::Unsupported)?;
        Ok(RingAeadKey {
            alg,
            key: Arc::new(aead::LessSafeKey::new(unbound)),
        })
    }

    fn seal(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        // The record layer never repeats a nonce: it is built from the write sequence
        // number (RFC 5288 §3, RFC 7905 §2).
        key.key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                in_out,
            )
            .map_err(|_| CryptoError::Internal)
    }

    fn seal_tail(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        buf: &mut Vec<u8>,
        from: usize,
    ) -> Result<(), CryptoError> {
        let body = buf.get_mut(from..).ok_or(CryptoError::Internal)?;
        let tag = key
            .key
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                body,
            )
            .map_err(|_| CryptoError::Internal)?;
        buf.extend_from_slice(tag.as_ref());
        Ok(())
    }

    fn open(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        // Any failure, including a record shorter than the tag, is bad_record_mac
        // (RFC 5246 §6.2.3.3).
        key.key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                in_out,
            )
            .map(|plaintext| plaintext.len())
            .map_err(|_| CryptoError::BadRecordMac)
    }
}
