//! The cipher suites this crate negotiates: ECDHE with ECDSA or RSA signatures and an
//! AEAD (RFC 5289, RFC 7905), and the pre-shared-key suites with an AEAD: PSK (RFC 4279,
//! RFC 5487, RFC 7905) and ECDHE_PSK (RFC 5489, RFC 7905, RFC 8442). No CBC suites (their
//! MAC-then-encrypt construction has produced a decade of padding-oracle attacks, Lucky13
//! among them) and no RSA key transport (no forward secrecy, and Bleichenbacher-style
//! oracles).

use crate::crypto::{AeadAlgorithm, HashAlgorithm};
use crate::msgs::enums::{CipherSuite, SignatureScheme};
pub use crate::msgs::KeyExchange;

/// How a suite authenticates the server: the signature algorithm its certificate
/// carries, or a pre-shared key (no certificate at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureKind {
    /// ECDHE_ECDSA suites.
    Ecdsa,
    /// ECDHE_RSA suites.
    Rsa,
    /// PSK and ECDHE_PSK suites: no certificate, no signature.
    Psk,
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
            Self::Psk => false,
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
    /// The key exchange: what ServerKeyExchange and ClientKeyExchange carry.
    pub kx: KeyExchange,
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
        ALL_SUITES
            .iter()
            .chain(PSK_SUITES.iter())
            .copied()
            .find(|s| s.suite == suite)
    }

    /// Whether the server authenticates with a certificate (and sends Certificate).
    pub fn uses_certificate(&self) -> bool {
        self.kx == KeyExchange::Ecdhe
    }

    /// Whether the suite rests on a pre-shared key.
    pub fn uses_psk(&self) -> bool {
        matches!(self.kx, KeyExchange::Psk | KeyExchange::EcdhePsk)
    }

    /// Whether the suite needs an ECDHE group.
    pub fn uses_ecdhe(&self) -> bool {
        matches!(self.kx, KeyExchange::Ecdhe | KeyExchange::EcdhePsk)
    }
}

const fn suite(
    suite: CipherSuite,
    sig: SignatureKind,
    aead: AeadAlgorithm,
    hash: HashAlgorithm,
) -> Suite {
    let kx = match sig {
        SignatureKind::Ecdsa | SignatureKind::Rsa => KeyExchange::Ecdhe,
        SignatureKind::Psk => KeyExchange::Psk,
    };
    Suite {
        suite,
        sig,
        kx,
        aead,
        hash,
    }
}

const fn ecdhe_psk(suite: CipherSuite, aead: AeadAlgorithm, hash: HashAlgorithm) -> Suite {
    Suite {
        suite,
        sig: SignatureKind::Psk,
        kx: KeyExchange::EcdhePsk,
        aead,
        hash,
    }
}

/// The pre-shared-key suites, in our default order of preference: ECDHE_PSK first (it
/// adds forward secrecy to the key), then PSK. A configuration offers them only with a
/// key ([`crate::psk`]).
pub const PSK_SUITES: [Suite; 6] = {
    use AeadAlgorithm::*;
    use CipherSuite::*;
    use HashAlgorithm::*;
    [
        ecdhe_psk(
            TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
            ChaCha20Poly1305,
            Sha256,
        ),
        ecdhe_psk(TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, Aes128Gcm, Sha256),
        ecdhe_psk(TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384, Aes256Gcm, Sha384),
        suite(
            TLS_PSK_WITH_AES_128_GCM_SHA256,
            SignatureKind::Psk,
            Aes128Gcm,
            Sha256,
        ),
        suite(
            TLS_PSK_WITH_AES_256_GCM_SHA384,
            SignatureKind::Psk,
            Aes256Gcm,
            Sha384,
        ),
        suite(
            TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
            SignatureKind::Psk,
            ChaCha20Poly1305,
            Sha256,
        ),
    ]
};

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
