//! The symbolic provider (cargo feature `symbolic`): deterministic, cheap stand-ins for
//! every primitive, so that the model checker and the fuzzers can drive the real
//! [`ClientConnection`](crate::ClientConnection) and
//! [`ServerConnection`](crate::ServerConnection) through millions of states.
//!
//! # What is modelled
//!
//! Every value the handshake relies on keeps the *shape* and the *security property* the
//! protocol needs of it, and nothing else:
//!
//! - **Randomness.** [`SymbolicProvider::new`] takes a seed; each draw advances a counter
//!   held in the provider (so in each connection's state) and yields a Feistel permutation
//!   of `(seed, counter)`. The permutation is a bijection, so the first 16 bytes of every
//!   random (and every ephemeral key id) differ between any two draws of any two providers
//!   with different seeds, and between any two draws of one provider: never merely "with
//!   high probability". Same seed and same inputs, same bytes.
//! - **Key exchange.** A private key ([`SymbolicKxSecret`]) is a fresh 128-bit id from the
//!   generator; its public key is an encoding of the group and id with the length of the
//!   real thing (32 bytes for X25519; `0x04 ‖ …`, 65 bytes for secp256r1 and 97 for
//!   secp384r1) padded with check bytes derived from both, which stand for "the point is
//!   on the curve": a string that is not such an encoding is `BadKeyShare`, as is a wrong
//!   length, tag or group. The pre-master secret is a keyed mix of `(group, min(a, b), max(a, b))`,
//!   symmetric, so both ends agree; it has the length of the real one (32, 32, 48 bytes).
//! - **Signatures.** A [`SymbolicSigningKey`] is a private id and a kind (ECDSA or RSA).
//!   Certificates carry only its *public* id, a one-way mix of `(kind, id)`. A signature is
//!   32 bytes binding `(public id, scheme, message)`; verification recomputes it from the
//!   certificate's public id. ECDSA keys sign with `ecdsa_secp256r1_sha256`, RSA keys with
//!   `rsa_pss_rsae_sha256` or `rsa_pkcs1_sha256`.
//! - **Certificates.** A symbolic certificate ([`issue`], [`self_signed_ca`]) is a
//!   [`CertificateDer`] holding a tag, the subject's public key id and kind, the issuer's
//!   public key id, a CA flag, a usage (server, client, any), the subject name, and the
//!   issuer's signature over all of that. [`SymbolicRoots`] is the sorted list of trusted
//!   public key ids. Chains are verified link by link up to a root, with the usage and the
//!   name (exact, case-insensitive) of the end entity; the error cases map onto
//!   [`CertError`] as the ring provider's do (the order of the checks is documented on
//!   `verify_chain` in the [`Provider`] impl of [`SymbolicProvider`]).
//! - **Hash and HMAC.** A two-lane 64-bit mixing function (a multiply-xorshift per word
//!   and lane, splitmix64's finaliser at the end), fed 8 bytes at a time and squeezed to
//!   32, 48 or 64 bytes; every use is domain-separated. It is a function of the byte
//!   stream only, so HMAC over parts equals HMAC over their concatenation, which the PRF
//!   relies on; the key schedule of [`crate::keys`] runs on it unchanged. It would not
//!   resist a search for collisions, but nothing searches: the model hashes a few
//!   thousand distinct values, and two of them collide only if both 64-bit lanes do.
//! - **AEAD.** [`SymbolicAeadKey`] is the algorithm and the key bytes (compared by value).
//!   `seal` XORs the plaintext with a keystream of `(key, nonce)` and appends a 16-byte
//!   tag over `(algorithm, key, nonce, aad, plaintext)`; `open` fails with
//!   `BadRecordMac` when any of these differ, so a tampered, truncated, replayed (other
//!   sequence number, hence other nonce and aad), reordered or misdirected (other key)
//!   record is refused exactly where a real AEAD refuses it.
//!
//! # What is abstracted, and why that is enough for the model
//!
//! Nothing here is cryptography: a determined program that knows these functions can
//! invert the public-key mix, compute a pre-master secret from two public keys, or forge
//! a tag. The model does not need more because its attacker is *symbolic* (Dolev–Yao): it
//! can drop, duplicate, reorder, replay and inject records, read every byte on the wire
//! and run honest code with keys of its own, but it never computes a secret. This module
//! makes that restriction structural for anything that goes through the crate's API:
//!
//! - the mixing functions are private, and every use of them is domain-separated, so
//!   [`Provider::hash`] and [`Provider::hmac`] cannot be made to output a pre-master
//!   secret, a signature, a certificate signature or an AEAD tag;
//! - a [`SymbolicKxSecret`] has no public constructor: only `kx_start` makes one, fresh
//!   from the caller's own provider, so `kx_complete` against an honest party's public key
//!   gives the attacker a secret different from the honest one;
//! - a signature needs a [`SymbolicSigningKey`], i.e. the *private* id, which never goes
//!   on the wire (certificates carry the public id).
//!
//! The model's attacker must in turn respect two rules that no type can enforce: it uses
//! a provider seed no honest party uses (a provider re-created with an honest seed
//! replays the honest keys), and signing-key ids of its own.
//!
//! Also abstracted: time (chains never expire; `now` is accepted and ignored), name
//! matching (no wildcards, no IP addresses), path building (the chain must be in order,
//! end entity first, as RFC 5246 §7.4.2 requires; webpki would also tolerate extra
//! certificates), and sizes of signatures and certificates (shorter than real ones; the
//! key shares, randoms, secrets, digests and record overheads have their real lengths).

use std::fmt;

use super::{
    constant_time_eq, AeadAlgorithm, CertError, CryptoError, Digest, HashAlgorithm, Provider,
    Secret, UnixTime,
};
use crate::msgs::enums::{NamedGroup, SignatureScheme};
use crate::msgs::CertificateDer;

// ---------------------------------------------------------------------------------------
// The mixing function.
// ---------------------------------------------------------------------------------------

/// The 64-bit golden ratio, splitmix64's increment.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
/// The second lane's initial constant.
const LANE_B: u64 = 0xC2B2_AE3D_27D4_EB4F;
/// Mixed into the second lane's words so that the lanes differ.
const LANE_B_XOR: u64 = 0x1656_67B1_9E37_79F9;
/// The first lane's multiplier (odd).
const MUL_A: u64 = 0xFF51_AFD7_ED55_8CCD;
/// The second lane's multiplier (odd).
const MUL_B: u64 = 0xC4CE_B9FE_1A85_EC53;

/// The splitmix64 finaliser: a bijection of `u64` with full avalanche.
fn fmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The domains of the mixer: no two uses share one, so no output of one use can be
/// obtained through another (e.g. a pre-master secret through `hash`).
#[derive(Clone, Copy)]
#[repr(u8)]
enum Domain {
    Hash = 1,
    Hmac = 2,
    KxShared = 3,
    KxCheck = 4,
    PublicId = 5,
    Signature = 6,
    AeadTag = 7,
    AeadStream = 8,
}

/// A streaming two-lane mixer over a byte stream: the output depends only on the domain
/// and the concatenation of everything absorbed, not on how it was split.
struct Mixer {
    a: u64,
    b: u64,
    /// Bytes not yet forming a whole word.
    buf: [u8; 8],
    fill: usize,
    len: u64,
}

impl Mixer {
    fn new(domain: Domain) -> Self {
        let d = domain as u64;
        Self {
            a: fmix(GOLDEN ^ d),
            b: fmix(LANE_B ^ d.rotate_left(32)),
            buf: [0; 8],
            fill: 0,
            len: 0,
        }
    }

    /// One multiply per lane and word. For a fixed word each update is a bijection of
    /// the lane (xor, odd multiply, xorshift), so two streams of one length that differ
    /// in a single word never collide; the finaliser does the avalanche.
    fn word(&mut self, w: u64) {
        let a = (self.a ^ w).wrapping_mul(MUL_A);
        self.a = a ^ (a >> 29);
        let b = (self.b ^ w.rotate_left(32) ^ LANE_B_XOR).wrapping_mul(MUL_B);
        self.b = b ^ (b >> 31);
    }

    fn bytes(&mut self, mut data: &[u8]) -> &mut Self {
        self.len = self.len.wrapping_add(data.len() as u64);
        if self.fill > 0 {
            let take = (8 - self.fill).min(data.len());
            self.buf[self.fill..self.fill + take].copy_from_slice(&data[..take]);
            self.fill += take;
            data = &data[take..];
            if self.fill < 8 {
                return self;
            }
            self.fill = 0;
            self.word(u64::from_le_bytes(self.buf));
        }
        let mut words = data.chunks_exact(8);
        for chunk in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            self.word(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        self.buf[..rest.len()].copy_from_slice(rest);
        self.fill = rest.len();
        self
    }

    fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    fn u128(&mut self, v: u128) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// The two 64-bit words of the final state.
    fn finish_words(&mut self) -> (u64, u64) {
        if self.fill > 0 {
            let mut last = [0u8; 8];
            last[..self.fill].copy_from_slice(&self.buf[..self.fill]);
            self.word(u64::from_le_bytes(last));
        }
        self.word(self.len);
        let s0 = fmix(self.a ^ self.b.rotate_left(29));
        let s1 = fmix(self.b ^ s0.rotate_left(17) ^ GOLDEN);
        (s0, s1)
    }

    /// Squeezes `out.len()` bytes.
    fn finish(&mut self, out: &mut [u8]) {
        let (s0, s1) = self.finish_words();
        expand(s0, s1, out);
    }

    fn finish_vec(&mut self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.finish(&mut out);
        out
    }
}

/// The stream of 64-bit words keyed by `(s0, s1)`, word `i` for `i >= 0`.
fn stream_word(s0: u64, s1: u64, i: u64) -> u64 {
    fmix(s0.wrapping_add(i.wrapping_add(1).wrapping_mul(GOLDEN))) ^ fmix(s1 ^ i)
}

/// Fills `out` with the stream keyed by `(s0, s1)`.
fn expand(s0: u64, s1: u64, out: &mut [u8]) {
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let w = stream_word(s0, s1, i as u64).to_le_bytes();
        chunk.copy_from_slice(&w[..chunk.len()]);
    }
}

// ---------------------------------------------------------------------------------------
// The provider and randomness.
// ---------------------------------------------------------------------------------------

/// The symbolic [`Provider`]: its whole state is a seed and the number of draws so far,
/// compared and hashed by value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymbolicProvider {
    seed: u64,
    draws: u64,
}

/// The round keys of the Feistel permutation of `(seed, counter)`.
const FEISTEL_KEYS: [u64; 4] = [
    0x243F_6A88_85A3_08D3,
    0x1319_8A2E_0370_7344,
    0xA409_3822_299F_31D0,
    0x082E_FA98_EC4E_6C89,
];

impl SymbolicProvider {
    /// A provider whose randoms and keys are a function of `seed` and the order of calls.
    /// Give every endpoint (and the attacker) its own seed.
    pub fn new(seed: u64) -> Self {
        Self { seed, draws: 0 }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many values (randoms and ephemeral keys) were drawn so far.
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// The next value: a bijection of `(seed, counter)`, so unique across providers of
    /// distinct seeds and across the draws of one provider.
    fn draw(&mut self) -> Result<u128, CryptoError> {
        self.draws = self.draws.checked_add(1).ok_or(CryptoError::Internal)?;
        let (mut l, mut r) = (self.seed, self.draws);
        for key in FEISTEL_KEYS {
            (l, r) = (r, l ^ fmix(r ^ key));
        }
        Ok((u128::from(l) << 64) | u128::from(r))
    }
}

// ---------------------------------------------------------------------------------------
// Key exchange.
// ---------------------------------------------------------------------------------------

/// The first byte of a symbolic key share (after `0x04` for the NIST curves).
const KX_TAG: u8 = 0x5b;

/// An ephemeral private key: the group and a fresh id. Only
/// [`Provider::kx_start`] makes one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SymbolicKxSecret {
    group: NamedGroup,
    id: u128,
}

impl SymbolicKxSecret {
    /// The group this key belongs to.
    pub fn group(&self) -> NamedGroup {
        self.group
    }
}

/// `(encoding length, shared-secret length)` of a supported group.
fn group_lengths(group: NamedGroup) -> Option<(usize, usize)> {
    match group {
        NamedGroup::X25519 => Some((32, 32)),
        NamedGroup::secp256r1 => Some((1 + 2 * 32, 32)),
        NamedGroup::secp384r1 => Some((1 + 2 * 48, 48)),
        _ => None,
    }
}

/// The public key naming `id` in `group`: `[0x04]? ‖ tag ‖ group ‖ id ‖ check bytes`.
fn encode_public(group: NamedGroup, id: u128) -> Option<Vec<u8>> {
    let (len, _) = group_lengths(group)?;
    let mut out = Vec::with_capacity(len);
    if group != NamedGroup::X25519 {
        out.push(0x04);
    }
    out.push(KX_TAG);
    out.extend_from_slice(&group.get().to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    let header = out.len();
    out.resize(len, 0);
    Mixer::new(Domain::KxCheck)
        .u64(u64::from(group.get()))
        .u128(id)
        .finish(&mut out[header..]);
    Some(out)
}

/// The id a well-formed public key of `group` names.
fn decode_public(group: NamedGroup, public: &[u8]) -> Option<u128> {
    let start = match group {
        NamedGroup::X25519 => 3,
        _ => 4,
    };
    let id_bytes: [u8; 16] = public.get(start..start + 16)?.try_into().ok()?;
    let id = u128::from_be_bytes(id_bytes);
    (encode_public(group, id)?.as_slice() == public).then_some(id)
}

// ---------------------------------------------------------------------------------------
// Signing keys and signatures.
// ---------------------------------------------------------------------------------------

/// The kind of a symbolic signing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolicKeyKind {
    /// Stands for ECDSA P-256: signs with `ecdsa_secp256r1_sha256`, ECDHE_ECDSA suites.
    Ecdsa,
    /// Stands for ECDSA P-384: signs with `ecdsa_secp384r1_sha384`, ECDHE_ECDSA suites.
    EcdsaP384,
    /// Stands for RSA: signs with `rsa_pss_rsae_sha256` or `rsa_pkcs1_sha256`, ECDHE_RSA
    /// suites.
    Rsa,
}

impl SymbolicKeyKind {
    fn code(self) -> u8 {
        match self {
            Self::Ecdsa => 1,
            Self::Rsa => 2,
            Self::EcdsaP384 => 3,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Ecdsa),
            2 => Some(Self::Rsa),
            3 => Some(Self::EcdsaP384),
            _ => None,
        }
    }

    /// The schemes a key of this kind signs with, most preferred first.
    fn signing_schemes(self) -> &'static [SignatureScheme] {
        match self {
            Self::Ecdsa => &[SignatureScheme::ECDSA_NISTP256_SHA256],
            Self::EcdsaP384 => &[SignatureScheme::ECDSA_NISTP384_SHA384],
            Self::Rsa => &[
                SignatureScheme::RSA_PSS_SHA256,
                SignatureScheme::RSA_PKCS1_SHA256,
            ],
        }
    }

    /// Whether a signature with `scheme` can come from a key of this kind: the split of
    /// RFC 5246 §7.4.1.4.1 that the suite table already draws.
    fn allows(self, scheme: SignatureScheme) -> bool {
        let kind = match self {
            Self::Ecdsa | Self::EcdsaP384 => crate::suites::SignatureKind::Ecdsa,
            Self::Rsa => crate::suites::SignatureKind::Rsa,
        };
        kind.allows(scheme)
    }
}

/// A long-term signing key: a private id and a kind, compared by value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymbolicSigningKey {
    id: u64,
    kind: SymbolicKeyKind,
}

impl SymbolicSigningKey {
    /// The key with private id `id` (keep it off the wire: it is the key).
    pub fn new(id: u64, kind: SymbolicKeyKind) -> Self {
        Self { id, kind }
    }

    /// An ECDSA key.
    pub fn ecdsa(id: u64) -> Self {
        Self::new(id, SymbolicKeyKind::Ecdsa)
    }

    /// An RSA key.
    pub fn rsa(id: u64) -> Self {
        Self::new(id, SymbolicKeyKind::Rsa)
    }

    /// The private id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The kind.
    pub fn kind(&self) -> SymbolicKeyKind {
        self.kind
    }

    /// The public id certificates carry: a one-way mix of the kind and private id.
    pub fn public_id(&self) -> u64 {
        let (s0, _) = Mixer::new(Domain::PublicId)
            .u64(u64::from(self.kind.code()))
            .u64(self.id)
            .finish_words();
        s0
    }
}

/// The length of a symbolic signature.
const SIGNATURE_LEN: usize = 32;

/// What a signature is for: a TLS signature with a scheme, or a certificate's.
#[derive(Clone, Copy)]
enum Purpose {
    Tls(SignatureScheme),
    Certificate,
}

impl Purpose {
    fn code(self) -> u64 {
        match self {
            Self::Tls(scheme) => u64::from(scheme.get()),
            Self::Certificate => 1 << 16,
        }
    }
}

/// The signature by the key of public id `public_id` over `message` for `purpose`.
fn signature(public_id: u64, purpose: Purpose, message: &[u8]) -> [u8; SIGNATURE_LEN] {
    let mut out = [0u8; SIGNATURE_LEN];
    Mixer::new(Domain::Signature)
        .u64(public_id)
        .u64(purpose.code())
        .bytes(message)
        .finish(&mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Certificates and roots.
// ---------------------------------------------------------------------------------------

/// What a certificate may authenticate (the extended key usage).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolicUsage {
    /// A TLS server (`id-kp-serverAuth`).
    Server,
    /// A TLS client (`id-kp-clientAuth`).
    Client,
    /// Either (no extended key usage): what CA certificates carry.
    Any,
}

impl SymbolicUsage {
    fn code(self) -> u8 {
        match self {
            Self::Server => 1,
            Self::Client => 2,
            Self::Any => 3,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Server),
            2 => Some(Self::Client),
            3 => Some(Self::Any),
            _ => None,
        }
    }

    fn allows_server(self) -> bool {
        matches!(self, Self::Server | Self::Any)
    }

    fn allows_client(self) -> bool {
        matches!(self, Self::Client | Self::Any)
    }
}

/// The first bytes of every symbolic certificate.
const CERT_MAGIC: &[u8; 8] = b"SYMCERT1";
/// Magic, CA flag, usage, kind, subject public id, issuer public id.
const CERT_HEADER_LEN: usize = 8 + 1 + 1 + 1 + 8 + 8;

/// A parsed symbolic certificate.
#[derive(Clone, Copy, Debug)]
struct ParsedCert<'a> {
    is_ca: bool,
    usage: SymbolicUsage,
    kind: SymbolicKeyKind,
    subject: u64,
    issuer: u64,
    name: &'a [u8],
    /// Everything the issuer signed.
    body: &'a [u8],
    signature: &'a [u8],
}

impl<'a> ParsedCert<'a> {
    /// `magic ‖ is_ca ‖ usage ‖ kind ‖ subject id ‖ issuer id ‖ name ‖ signature`.
    fn parse(der: &'a CertificateDer) -> Option<Self> {
        let bytes = der.0.as_slice();
        let body_len = bytes.len().checked_sub(SIGNATURE_LEN)?;
        if body_len < CERT_HEADER_LEN {
            return None;
        }
        let (body, signature) = bytes.split_at(body_len);
        let (header, name) = body.split_at(CERT_HEADER_LEN);
        if &header[..8] != CERT_MAGIC {
            return None;
        }
        let is_ca = match header[8] {
            0 => false,
            1 => true,
            _ => return None,
        };
        let u64_at = |at: usize| -> Option<u64> {
            Some(u64::from_be_bytes(header.get(at..at + 8)?.try_into().ok()?))
        };
        Some(Self {
            is_ca,
            usage: SymbolicUsage::from_code(header[9])?,
            kind: SymbolicKeyKind::from_code(header[10])?,
            subject: u64_at(11)?,
            issuer: u64_at(19)?,
            name,
            body,
            signature,
        })
    }

    /// Whether the key of public id `issuer` signed this certificate.
    fn signed_by(&self, issuer: u64) -> bool {
        self.issuer == issuer
            && constant_time_eq(
                &signature(issuer, Purpose::Certificate, self.body),
                self.signature,
            )
    }
}

/// A certificate for `subject`'s key, named `subject_name`, signed by `issuer`.
pub fn issue(
    issuer: &SymbolicSigningKey,
    subject_name: &str,
    subject: &SymbolicSigningKey,
    is_ca: bool,
    usage: SymbolicUsage,
) -> CertificateDer {
    let mut bytes = Vec::with_capacity(CERT_HEADER_LEN + subject_name.len() + SIGNATURE_LEN);
    bytes.extend_from_slice(CERT_MAGIC);
    bytes.push(u8::from(is_ca));
    bytes.push(usage.code());
    bytes.push(subject.kind.code());
    bytes.extend_from_slice(&subject.public_id().to_be_bytes());
    bytes.extend_from_slice(&issuer.public_id().to_be_bytes());
    bytes.extend_from_slice(subject_name.as_bytes());
    let sig = signature(issuer.public_id(), Purpose::Certificate, &bytes);
    bytes.extend_from_slice(&sig);
    CertificateDer(bytes)
}

/// A self-signed CA certificate for `key`.
pub fn self_signed_ca(key: &SymbolicSigningKey) -> CertificateDer {
    issue(key, "symbolic CA", key, true, SymbolicUsage::Any)
}

/// The trust anchors: the sorted public ids of the trusted CA keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymbolicRoots {
    ids: Vec<u64>,
}

impl SymbolicRoots {
    /// Trusts the subject key of each of `certs`, which must be symbolic CA
    /// certificates (`BadCertificate` otherwise).
    pub fn from_certs(certs: &[CertificateDer]) -> Result<Self, CertError> {
        let mut ids = certs
            .iter()
            .map(|cert| match ParsedCert::parse(cert) {
                Some(parsed) if parsed.is_ca => Ok(parsed.subject),
                _ => Err(CertError::BadCertificate),
            })
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort_unstable();
        ids.dedup();
        Ok(Self { ids })
    }

    /// Trusts `keys` directly.
    pub fn from_keys(keys: &[SymbolicSigningKey]) -> Self {
        let mut ids: Vec<u64> = keys.iter().map(SymbolicSigningKey::public_id).collect();
        ids.sort_unstable();
        ids.dedup();
        Self { ids }
    }

    /// Whether the key of public id `public_id` is trusted.
    pub fn contains(&self, public_id: u64) -> bool {
        self.ids.binary_search(&public_id).is_ok()
    }

    /// How many keys are trusted.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

// ---------------------------------------------------------------------------------------
// Transcript hash.
// ---------------------------------------------------------------------------------------

/// A running transcript hash that keeps the bytes it absorbed and hashes them whole on
/// demand: equal exactly when the transcripts are, so that the model tells states apart
/// by their transcripts just as it did before the running hash existed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SymbolicTranscriptHash {
    alg: HashAlgorithm,
    bytes: Vec<u8>,
}

// ---------------------------------------------------------------------------------------
// AEAD.
// ---------------------------------------------------------------------------------------

/// A record-layer key: the AEAD and the key bytes (the first `alg.key_len()` of `key`),
/// compared by value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SymbolicAeadKey {
    alg: AeadAlgorithm,
    key: [u8; 32],
}

impl SymbolicAeadKey {
    /// The AEAD this key is for.
    pub fn algorithm(&self) -> AeadAlgorithm {
        self.alg
    }

    fn bytes(&self) -> &[u8] {
        &self.key[..self.alg.key_len()]
    }

    fn code(&self) -> u64 {
        match self.alg {
            AeadAlgorithm::Aes128Gcm => 1,
            AeadAlgorithm::Aes256Gcm => 2,
            AeadAlgorithm::ChaCha20Poly1305 => 3,
        }
    }

    /// XORs `data` with the keystream of `nonce`.
    fn apply_keystream(&self, nonce: &[u8; 12], data: &mut [u8]) {
        let (s0, s1) = Mixer::new(Domain::AeadStream)
            .u64(self.code())
            .bytes(self.bytes())
            .bytes(nonce)
            .finish_words();
        for (i, chunk) in data.chunks_mut(8).enumerate() {
            let ks = stream_word(s0, s1, i as u64).to_le_bytes();
            for (d, k) in chunk.iter_mut().zip(ks) {
                *d ^= k;
            }
        }
    }

    /// The tag over the plaintext.
    fn tag(&self, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> [u8; AeadAlgorithm::TAG_LEN] {
        let mut tag = [0u8; AeadAlgorithm::TAG_LEN];
        Mixer::new(Domain::AeadTag)
            .u64(self.code())
            .bytes(self.bytes())
            .bytes(nonce)
            .u64(aad.len() as u64)
            .bytes(aad)
            .bytes(plaintext)
            .finish(&mut tag);
        tag
    }
}

impl fmt::Debug for SymbolicAeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to tell keys apart in a counterexample.
        write!(
            f,
            "SymbolicAeadKey({:?}, {}…)",
            self.alg,
            crate::msgs::base::hex(&self.key[..4])
        )
    }
}

// ---------------------------------------------------------------------------------------
// The provider.
// ---------------------------------------------------------------------------------------

fn hash_code(alg: HashAlgorithm) -> u64 {
    match alg {
        HashAlgorithm::Sha256 => 1,
        HashAlgorithm::Sha384 => 2,
        HashAlgorithm::Sha512 => 3,
    }
}

/// The schemes we verify: the ring provider's list, so that ClientHello and
/// CertificateRequest are the same bytes under either provider.
const VERIFY_SCHEMES: [SignatureScheme; 9] = [
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::ED25519,
];

impl Provider for SymbolicProvider {
    type KxSecret = SymbolicKxSecret;
    type SigningKey = SymbolicSigningKey;
    type Roots = SymbolicRoots;
    type AeadKey = SymbolicAeadKey;
    type TranscriptHash = SymbolicTranscriptHash;

    fn fill_random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        // The first 16 bytes are the draw itself (unique, see `draw`), the rest a stream
        // keyed by it.
        let value = self.draw()?;
        let bytes = value.to_be_bytes();
        let head = out.len().min(bytes.len());
        out[..head].copy_from_slice(&bytes[..head]);
        expand((value >> 64) as u64, value as u64, &mut out[head..]);
        Ok(())
    }

    fn supports_group(&self, group: NamedGroup) -> bool {
        group_lengths(group).is_some()
    }

    fn kx_start(&mut self, group: NamedGroup) -> Result<(Self::KxSecret, Vec<u8>), CryptoError> {
        if !self.supports_group(group) {
            return Err(CryptoError::Unsupported);
        }
        let id = self.draw()?;
        let public = encode_public(group, id).ok_or(CryptoError::Unsupported)?;
        Ok((SymbolicKxSecret { group, id }, public))
    }

    fn kx_complete(
        &self,
        secret: Self::KxSecret,
        peer_public: &[u8],
    ) -> Result<Secret, CryptoError> {
        let (_, shared_len) = group_lengths(secret.group).ok_or(CryptoError::Unsupported)?;
        let peer = decode_public(secret.group, peer_public).ok_or(CryptoError::BadKeyShare)?;
        let (low, high) = (secret.id.min(peer), secret.id.max(peer));
        let shared = Mixer::new(Domain::KxShared)
            .u64(u64::from(secret.group.get()))
            .u128(low)
            .u128(high)
            .finish_vec(shared_len);
        Ok(Secret::new(shared))
    }

    fn hash(&self, alg: HashAlgorithm, data: &[u8]) -> Digest {
        let mut out = [0u8; 64];
        let out = &mut out[..alg.output_len()];
        Mixer::new(Domain::Hash)
            .u64(hash_code(alg))
            .bytes(data)
            .finish(out);
        Digest::new(out)
    }

    fn transcript_start(&self, alg: HashAlgorithm) -> Self::TranscriptHash {
        SymbolicTranscriptHash {
            alg,
            bytes: Vec::new(),
        }
    }

    fn transcript_update(&self, hash: &mut Self::TranscriptHash, data: &[u8]) {
        hash.bytes.extend_from_slice(data);
    }

    fn transcript_digest(&self, hash: &Self::TranscriptHash) -> Digest {
        self.hash(hash.alg, &hash.bytes)
    }

    fn hmac(&self, alg: HashAlgorithm, key: &[u8], data: &[&[u8]]) -> Digest {
        let mut mixer = Mixer::new(Domain::Hmac);
        mixer.u64(hash_code(alg)).u64(key.len() as u64).bytes(key);
        for part in data {
            mixer.bytes(part);
        }
        let mut out = [0u8; 64];
        let out = &mut out[..alg.output_len()];
        mixer.finish(out);
        Digest::new(out)
    }

    fn signing_schemes(&self, key: &Self::SigningKey) -> Vec<SignatureScheme> {
        key.kind.signing_schemes().to_vec()
    }

    fn signing_curve(&self, key: &Self::SigningKey) -> Option<NamedGroup> {
        match key.kind {
            SymbolicKeyKind::Ecdsa => Some(NamedGroup::secp256r1),
            SymbolicKeyKind::EcdsaP384 => Some(NamedGroup::secp384r1),
            SymbolicKeyKind::Rsa => None,
        }
    }

    fn sign(
        &mut self,
        key: &Self::SigningKey,
        scheme: SignatureScheme,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if !key.kind.signing_schemes().contains(&scheme) {
            return Err(CryptoError::Unsupported);
        }
        Ok(signature(key.public_id(), Purpose::Tls(scheme), message).to_vec())
    }

    fn verify_schemes(&self) -> Vec<SignatureScheme> {
        VERIFY_SCHEMES.to_vec()
    }

    fn verify_signature(
        &self,
        end_entity: &CertificateDer,
        scheme: SignatureScheme,
        message: &[u8],
        signature_bytes: &[u8],
    ) -> Result<(), CryptoError> {
        if !VERIFY_SCHEMES.contains(&scheme) {
            return Err(CryptoError::Unsupported);
        }
        // As with ring: a certificate we cannot read cannot be credited with a signature.
        let cert = ParsedCert::parse(end_entity).ok_or(CryptoError::BadSignature)?;
        if !cert.kind.allows(scheme) {
            return Err(CryptoError::Unsupported);
        }
        let expected = signature(cert.subject, Purpose::Tls(scheme), message);
        match constant_time_eq(&expected, signature_bytes) {
            true => Ok(()),
            false => Err(CryptoError::BadSignature),
        }
    }

    /// Checks, in this order: every certificate parses and the chain is not empty
    /// (`BadCertificate`); the end entity is not a CA and every other certificate is
    /// (`BadCertificate`); each certificate names the next one's key as issuer
    /// (`UnknownIssuer`) and carries its valid signature (`BadCertificate`); the last one
    /// is issued by a root (`UnknownIssuer`) with a valid signature (`BadCertificate`);
    /// the end entity's usage fits the direction (`UnsupportedCertificate`, as webpki's
    /// extended key usage check); its name is `server_name`, ignoring ASCII case
    /// (`NotValidForName`). Time is not modelled: `now` is ignored.
    fn verify_chain(
        &self,
        roots: &Self::Roots,
        chain: &[CertificateDer],
        server_name: Option<&str>,
        _now: UnixTime,
    ) -> Result<(), CertError> {
        let certs = chain
            .iter()
            .map(ParsedCert::parse)
            .collect::<Option<Vec<_>>>()
            .ok_or(CertError::BadCertificate)?;
        let (end_entity, above) = certs.split_first().ok_or(CertError::BadCertificate)?;
        if end_entity.is_ca || above.iter().any(|c| !c.is_ca) {
            return Err(CertError::BadCertificate);
        }
        for pair in certs.windows(2) {
            let (cert, issuer) = (&pair[0], &pair[1]);
            if cert.issuer != issuer.subject {
                return Err(CertError::UnknownIssuer);
            }
            if !cert.signed_by(issuer.subject) {
                return Err(CertError::BadCertificate);
            }
        }
        let last = certs.last().ok_or(CertError::BadCertificate)?;
        if !roots.contains(last.issuer) {
            return Err(CertError::UnknownIssuer);
        }
        if !last.signed_by(last.issuer) {
            return Err(CertError::BadCertificate);
        }
        match server_name {
            Some(name) => {
                if !end_entity.usage.allows_server() {
                    return Err(CertError::UnsupportedCertificate);
                }
                if !end_entity.name.eq_ignore_ascii_case(name.as_bytes()) {
                    return Err(CertError::NotValidForName);
                }
            }
            None => {
                if !end_entity.usage.allows_client() {
                    return Err(CertError::UnsupportedCertificate);
                }
            }
        }
        Ok(())
    }

    fn aead_key(&self, alg: AeadAlgorithm, key: &[u8]) -> Result<Self::AeadKey, CryptoError> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::Unsupported);
        }
        let mut bytes = [0u8; 32];
        bytes[..key.len()].copy_from_slice(key);
        Ok(SymbolicAeadKey { alg, key: bytes })
    }

    fn seal(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let tag = key.tag(&nonce, aad, in_out);
        key.apply_keystream(&nonce, in_out);
        in_out.extend_from_slice(&tag);
        Ok(())
    }

    fn open(
        &self,
        key: &Self::AeadKey,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let len = in_out
            .len()
            .checked_sub(AeadAlgorithm::TAG_LEN)
            .ok_or(CryptoError::BadRecordMac)?;
        let (body, tag) = in_out.split_at_mut(len);
        key.apply_keystream(&nonce, body);
        match constant_time_eq(&key.tag(&nonce, aad, body), tag) {
            true => Ok(len),
            false => Err(CryptoError::BadRecordMac),
        }
    }
}

// ---------------------------------------------------------------------------------------
// A ready-made PKI.
// ---------------------------------------------------------------------------------------

/// A CA, a server identity and a client identity, all symbolic: the counterpart of
/// `tls12::pki::TestPki` for the model, the fuzzers and tests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SymbolicPki {
    /// The CA's key.
    pub ca_key: SymbolicSigningKey,
    /// The CA's self-signed certificate.
    pub ca: CertificateDer,
    /// Roots trusting the CA.
    pub roots: SymbolicRoots,
    /// The server's key.
    pub server_key: SymbolicSigningKey,
    /// The server's chain (server usage, named after the server), end entity first; the
    /// CA is not included.
    pub server_chain: Vec<CertificateDer>,
    /// The client's key.
    pub client_key: SymbolicSigningKey,
    /// The client's chain (client usage), end entity first; the CA is not included.
    pub client_chain: Vec<CertificateDer>,
}

impl SymbolicPki {
    /// ECDSA keys with private ids 1 (CA), 2 (server) and 3 (client); the server
    /// certificate is for `server_name`.
    pub fn new(server_name: &str) -> Self {
        Self::with(server_name, SymbolicKeyKind::Ecdsa, 1)
    }

    /// A server key of `server_kind` (an ECDSA CA and client key), with private ids
    /// `first_id` (CA), `first_id + 1` (server) and `first_id + 2` (client): give an
    /// attacker's PKI ids of its own.
    pub fn with(server_name: &str, server_kind: SymbolicKeyKind, first_id: u64) -> Self {
        let ca_key = SymbolicSigningKey::ecdsa(first_id);
        let server_key = SymbolicSigningKey::new(first_id.wrapping_add(1), server_kind);
        let client_key = SymbolicSigningKey::ecdsa(first_id.wrapping_add(2));
        let ca = self_signed_ca(&ca_key);
        let server = issue(
            &ca_key,
            server_name,
            &server_key,
            false,
            SymbolicUsage::Server,
        );
        let client = issue(
            &ca_key,
            "symbolic client",
            &client_key,
            false,
            SymbolicUsage::Client,
        );
        Self {
            roots: SymbolicRoots::from_keys(std::slice::from_ref(&ca_key)),
            ca_key,
            ca,
            server_key,
            server_chain: vec![server],
            client_key,
            client_chain: vec![client],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mixer_depends_on_the_stream_not_on_its_split() {
        let data: Vec<u8> = (0..=255u8).collect();
        let whole = Mixer::new(Domain::Hash).bytes(&data).finish_words();
        for split in [0, 1, 3, 7, 8, 9, 100, 255, 256] {
            let (a, b) = data.split_at(split);
            let parts = Mixer::new(Domain::Hash).bytes(a).bytes(b).finish_words();
            assert_eq!(parts, whole, "split at {split}");
        }
        // Trailing zeros and other domains change the output.
        let padded = Mixer::new(Domain::Hash)
            .bytes(&data)
            .bytes(&[0])
            .finish_words();
        assert_ne!(padded, whole);
        let other = Mixer::new(Domain::Hmac).bytes(&data).finish_words();
        assert_ne!(other, whole);
    }

    #[test]
    fn public_keys_decode_to_their_id_and_nothing_else_does() {
        for group in [
            NamedGroup::X25519,
            NamedGroup::secp256r1,
            NamedGroup::secp384r1,
        ] {
            let public = encode_public(group, 42).unwrap();
            assert_eq!(decode_public(group, &public), Some(42));
            for i in 0..public.len() {
                let mut bad = public.clone();
                bad[i] ^= 0x80;
                assert_eq!(decode_public(group, &bad), None, "{group:?} byte {i}");
            }
        }
    }
}
