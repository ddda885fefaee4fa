//! The cipher suites this crate negotiates: ECDHE with ECDSA or RSA signatures and an
//! AEAD (RFC 5289, RFC 7905). No CBC suites (their MAC-then-encrypt construction has
//! produced a decade of padding-oracle attacks, Lucky13 among them) and no RSA key
//! transport (no forward secrecy, and Bleichenbacher-style oracles).

use crate::crypto::{AeadAlgorithm, HashAlgorithm};
use crate::msgs::enums::{CipherSuite, SignatureScheme};

/// The signature algorithm a suite's server certificate carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureKind {
    /// ECDHE_ECDSA suites.
    Ecdsa,
    /// ECDHE_RSA suites.
    Rsa,
}

impl SignatureKind {
    /// Whether `scheme` signs with this kind of key.
    pub fn allows(self, scheme: SignatureScheme) -> bool {
        use SignatureScheme::*;
        match self {
            Self::Ecdsa => matches!(
                scheme,
                ECDSA_NISTP256_SHA256 | ECDSA_NISTP384_SHA384 | ECDSA_NISTP521_SHA512 | ED25519
            ),
            Self::Rsa => matches!(
                scheme,
                RSA_PKCS1_SHA256
                    | RSA_PKCS1_SHA384
                    | RSA_PKCS1_SHA512
                    | RSA_PSS_SHA256
                    | RSA_PSS_SHA384
                    | RSA_PSS_SHA512
            ),
        }
    }
}

/// What a supported cipher suite is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Suite {
    /// The code point.
    pub suite: CipherSuite,
    /// The server's signature kind.
    pub sig: SignatureKind,
    /// The record protection.
    pub aead: AeadAlgorithm,
    /// The PRF hash (RFC 5246 §5; SHA-384 for the `_SHA384` suites, RFC 5289 §3.2).
    pub hash: HashAlgorithm,
}

impl Suite {
    /// The part of the nonce that comes from the key block: 4 bytes of salt for AES-GCM
    /// (RFC 5288 §3), the whole 12-byte IV for ChaCha20-Poly1305 (RFC 7905 §2).
    pub fn fixed_iv_len(&self) -> usize {
        crate::keys::fixed_iv_len(self.aead)
    }

    /// The nonce bytes each record carries in the clear: 8 for AES-GCM, none for
    /// ChaCha20-Poly1305.
    pub fn explicit_nonce_len(&self) -> usize {
        match self.aead {
            AeadAlgorithm::Aes128Gcm | AeadAlgorithm::Aes256Gcm => 8,
            AeadAlgorithm::ChaCha20Poly1305 => 0,
        }
    }

    /// The suite for a code point, if we support it.
    pub fn lookup(suite: CipherSuite) -> Option<Suite> {
        ALL_SUITES.iter().copied().find(|s| s.suite == suite)
    }
}

const fn suite(
    suite: CipherSuite,
    sig: SignatureKind,
    aead: AeadAlgorithm,
    hash: HashAlgorithm,
) -> Suite {
    Suite {
        suite,
        sig,
        aead,
        hash,
    }
}

/// Every supported suite, in our default order of preference.
pub const ALL_SUITES: [Suite; 6] = {
    use AeadAlgorithm::*;
    use CipherSuite::*;
    use HashAlgorithm::*;
    use SignatureKind::*;
    [
        suite(
            TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            Ecdsa,
            Aes128Gcm,
            Sha256,
        ),
        suite(
            TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            Ecdsa,
            Aes256Gcm,
            Sha384,
        ),
        suite(
            TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            Ecdsa,
            ChaCha20Poly1305,
            Sha256,
        ),
        suite(
            TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            Rsa,
            Aes128Gcm,
            Sha256,
        ),
        suite(
            TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            Rsa,
            Aes256Gcm,
            Sha384,
        ),
        suite(
            TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            Rsa,
            ChaCha20Poly1305,
            Sha256,
        ),
    ]
};
