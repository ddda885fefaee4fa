//! The ring provider against real keys and certificates.
//!
//! Certificates are made at test time with rcgen: an ECDSA P-256 CA (and an intermediate)
//! issuing ECDSA P-256, ECDSA P-384, Ed25519 and RSA-2048 leaves. ring cannot generate
//! RSA keys, so the RSA key is committed under `tests/data/certs/` (see the README
//! there). Known answers come from outside the code under test: `openssl dgst` for hashes
//! and HMACs (RFC 4231 test case 2), Python's `cryptography` package for the AEAD
//! ciphertexts.

// clippy.toml allows unwrap in `#[test]` functions only; the helpers here unwrap too.
#![allow(clippy::unwrap_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};
use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::crypto::{AeadAlgorithm, CertError, CryptoError, HashAlgorithm, Provider, UnixTime};
use tls12::msgs::enums::{NamedGroup, SignatureScheme};
use tls12::msgs::CertificateDer;

/// The committed RSA-2048 test key, PKCS#8.
const RSA_PKCS8_PEM: &str = include_str!("data/certs/rsa2048.pkcs8.pem");
/// The same key, PKCS#1.
const RSA_PKCS1_PEM: &str = include_str!("data/certs/rsa2048.pkcs1.pem");

const ALL_AEADS: [AeadAlgorithm; 3] = [
    AeadAlgorithm::Aes128Gcm,
    AeadAlgorithm::Aes256Gcm,
    AeadAlgorithm::ChaCha20Poly1305,
];

const GROUPS: [NamedGroup; 3] = [
    NamedGroup::X25519,
    NamedGroup::secp256r1,
    NamedGroup::secp384r1,
];

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

/// A calendar date (year, month, day), for certificate validity.
type Ymd = (i32, u8, u8);

/// Midnight UTC of a date, as the provider's clock.
fn at((year, month, day): Ymd) -> UnixTime {
    UnixTime(rcgen::date_time_ymd(year, month, day).unix_timestamp() as u64)
}

// ---------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------

/// A certificate authority: its certificate and what rcgen needs to issue under it.
struct Ca {
    cert: CertificateDer,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// A self-signed root.
    fn root(name: &str) -> Self {
        let params = ca_params(name);
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            cert: CertificateDer(cert.der().to_vec()),
            issuer: Issuer::new(params, key),
        }
    }

    /// An intermediate CA issued by `self`.
    fn intermediate(&self, name: &str) -> Self {
        let params = ca_params(name);
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Self {
            cert: CertificateDer(cert.der().to_vec()),
            issuer: Issuer::new(params, key),
        }
    }

    fn roots(&self) -> RingRoots {
        RingRoots::from_der_certs(std::slice::from_ref(&self.cert)).unwrap()
    }

    /// A server leaf for `names` (DNS names or IP addresses).
    fn server_leaf(&self, key: &KeyPair, names: &[&str]) -> CertificateDer {
        self.leaf(key, names, ExtendedKeyUsagePurpose::ServerAuth, None)
    }

    fn leaf(
        &self,
        key: &KeyPair,
        names: &[&str],
        eku: ExtendedKeyUsagePurpose,
        validity: Option<(Ymd, Ymd)>,
    ) -> CertificateDer {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "test leaf");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![eku];
        if let Some(((y0, m0, d0), (y1, m1, d1))) = validity {
            params.not_before = rcgen::date_time_ymd(y0, m0, d0);
            params.not_after = rcgen::date_time_ymd(y1, m1, d1);
        }
        let cert = params.signed_by(key, &self.issuer).unwrap();
        CertificateDer(cert.der().to_vec())
    }
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// A key type of the tests: how rcgen makes it and how the provider loads it.
struct TestKey {
    /// The key for rcgen, to put it in a certificate.
    rcgen: KeyPair,
    /// The key as the provider loads it.
    der: PrivateKeyDer<'static>,
}

impl TestKey {
    fn generate(alg: &'static rcgen::SignatureAlgorithm) -> Self {
        let rcgen = KeyPair::generate_for(alg).unwrap();
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(rcgen.serialize_der()));
        Self { rcgen, der }
    }

    fn p256() -> Self {
        Self::generate(&rcgen::PKCS_ECDSA_P256_SHA256)
    }

    fn p384() -> Self {
        Self::generate(&rcgen::PKCS_ECDSA_P384_SHA384)
    }

    /// The committed RSA key, loaded from `pem` (PKCS#8 or PKCS#1).
    fn rsa(pem: &str) -> Self {
        Self {
            rcgen: KeyPair::from_pem(RSA_PKCS8_PEM).unwrap(),
            der: PrivateKeyDer::from_pem_slice(pem.as_bytes()).unwrap(),
        }
    }

    fn signing_key(&self) -> RingSigningKey {
        RingSigningKey::from_der(&self.der).unwrap()
    }
}

/// A P-256 key signs with SHA-256 (ring) and, for a client that offers nothing else,
/// with SHA-384 (the `p256` crate): TLS 1.2 binds no hash to the curve.
const ECDSA_P256_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
];
const ECDSA_P384_SCHEMES: &[SignatureScheme] = &[SignatureScheme::ECDSA_NISTP384_SHA384];
const RSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
];

/// Every signing key type with the schemes it must offer.
fn signing_cases() -> Vec<(&'static str, TestKey, &'static [SignatureScheme])> {
    vec![
        ("ECDSA P-256", TestKey::p256(), ECDSA_P256_SCHEMES),
        ("ECDSA P-384", TestKey::p384(), ECDSA_P384_SCHEMES),
        ("RSA PKCS#8", TestKey::rsa(RSA_PKCS8_PEM), RSA_SCHEMES),
        ("RSA PKCS#1", TestKey::rsa(RSA_PKCS1_PEM), RSA_SCHEMES),
    ]
}

fn flip_bit(bytes: &[u8], index: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[index] ^= 0x01;
    out
}

// ---------------------------------------------------------------------------------------
// Randomness, hashes, HMAC
// ---------------------------------------------------------------------------------------

#[test]
fn fill_random_fills() {
    let mut p = RingProvider::new();
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    p.fill_random(&mut a).unwrap();
    p.fill_random(&mut b).unwrap();
    assert_ne!(a, [0; 32]);
    assert_ne!(a, b);
}

#[test]
fn providers_are_interchangeable() {
    // Stateless: every provider equals every other, so states holding one compare by
    // their real contents.
    assert_eq!(RingProvider::new(), RingProvider::default());
    assert_eq!(RingProvider::new(), RingProvider::new().clone());
}

#[test]
fn hash_matches_openssl() {
    let p = RingProvider::new();
    let cases = [
        (
            HashAlgorithm::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            HashAlgorithm::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            HashAlgorithm::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];
    for (alg, want) in cases {
        let got = p.hash(alg, b"abc");
        assert_eq!(got.as_ref(), hex(want), "{alg:?}");
        assert_eq!(got.as_ref().len(), alg.output_len());
    }
}

/// RFC 4231 test case 2 (key "Jefe"), re-checked with `openssl dgst -hmac Jefe`; the
/// data is passed in three parts to check they are concatenated.
#[test]
fn hmac_matches_rfc4231_over_parts() {
    let p = RingProvider::new();
    let cases = [
        (
            HashAlgorithm::Sha256,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            HashAlgorithm::Sha384,
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
             8e2240ca5e69e2c78b3239ecfab21649",
        ),
        (
            HashAlgorithm::Sha512,
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
             9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        ),
    ];
    for (alg, want) in cases {
        let whole = p.hmac(alg, b"Jefe", &[b"what do ya want for nothing?"]);
        let parts = p.hmac(alg, b"Jefe", &[b"what do ya", b"", b" want for nothing?"]);
        assert_eq!(whole.as_ref(), hex(want), "{alg:?}");
        assert_eq!(parts, whole, "{alg:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Key exchange
// ---------------------------------------------------------------------------------------

#[test]
fn kx_both_sides_agree_for_every_group() {
    let mut p = RingProvider::new();
    for (group, public_len, secret_len) in [
        (NamedGroup::X25519, 32, 32),
        (NamedGroup::secp256r1, 65, 32),
        (NamedGroup::secp384r1, 97, 48),
    ] {
        assert!(p.supports_group(group));
        let (client, client_pub) = p.kx_start(group).unwrap();
        let (server, server_pub) = p.kx_start(group).unwrap();
        assert_eq!(client.group(), group);
        assert_eq!(client_pub.len(), public_len, "{group:?}");
        if group != NamedGroup::X25519 {
            assert_eq!(client_pub[0], 0x04, "{group:?}: not uncompressed");
        }
        assert_ne!(client_pub, server_pub);
        let a = p.kx_complete(client, &server_pub).unwrap();
        let b = p.kx_complete(server, &client_pub).unwrap();
        assert_eq!(a, b, "{group:?}");
        // RFC 8422 §5.10: the NIST pre-master secret is the x-coordinate alone.
        assert_eq!(a.expose().len(), secret_len, "{group:?}");
    }
}

#[test]
fn kx_unsupported_groups() {
    let mut p = RingProvider::new();
    for group in [
        NamedGroup::secp521r1,
        NamedGroup::X448,
        NamedGroup::FFDHE2048,
        NamedGroup::Unknown(0x1234),
    ] {
        assert!(!p.supports_group(group), "{group:?}");
        assert_eq!(
            p.kx_start(group).unwrap_err(),
            CryptoError::Unsupported,
            "{group:?}"
        );
    }
}

/// Peer keys that must be refused with `BadKeyShare` (illegal_parameter).
#[test]
fn kx_rejects_bad_peer_keys() {
    let mut p = RingProvider::new();
    let (_, p256_pub) = p.kx_start(NamedGroup::secp256r1).unwrap();
    let (_, p384_pub) = p.kx_start(NamedGroup::secp384r1).unwrap();
    let (_, x25519_pub) = p.kx_start(NamedGroup::X25519).unwrap();

    // A valid point's x-coordinate with a compressed-form prefix: compressed points are
    // never negotiated (RFC 8422 §5.1.2).
    let mut compressed = vec![0x02];
    compressed.extend_from_slice(&p256_pub[1..33]);
    // (1, 1) is not on P-256.
    let mut off_curve = vec![0x04];
    off_curve.extend_from_slice(&[0; 31]);
    off_curve.push(1);
    off_curve.extend_from_slice(&[0; 31]);
    off_curve.push(1);
    // A valid point with a wrong format byte.
    let mut bad_prefix = p256_pub.clone();
    bad_prefix[0] = 0x06;
    // u = 1 is a point of small order: X25519 with it yields all zeroes (RFC 7748 §6.1).
    let mut x25519_one = [0u8; 32];
    x25519_one[0] = 1;

    let cases: Vec<(NamedGroup, Vec<u8>, &str)> = vec![
        (NamedGroup::X25519, vec![], "empty"),
        (NamedGroup::X25519, x25519_pub[..31].to_vec(), "31 bytes"),
        (
            NamedGroup::X25519,
            [&x25519_pub[..], &[0]].concat(),
            "33 bytes",
        ),
        (NamedGroup::X25519, vec![0; 32], "all zeroes"),
        (NamedGroup::X25519, x25519_one.to_vec(), "u = 1"),
        (NamedGroup::X25519, p256_pub.clone(), "a P-256 point"),
        (NamedGroup::secp256r1, vec![], "empty"),
        (NamedGroup::secp256r1, compressed, "compressed"),
        (NamedGroup::secp256r1, off_curve, "off the curve"),
        (NamedGroup::secp256r1, bad_prefix, "prefix 0x06"),
        (NamedGroup::secp256r1, vec![0x04; 65], "garbage"),
        (NamedGroup::secp256r1, p256_pub[..64].to_vec(), "truncated"),
        (NamedGroup::secp256r1, p384_pub.clone(), "a P-384 point"),
        (NamedGroup::secp256r1, x25519_pub.clone(), "an X25519 key"),
        (NamedGroup::secp384r1, vec![0; 97], "zeroes"),
        (NamedGroup::secp384r1, p256_pub.clone(), "a P-256 point"),
    ];
    for (group, peer, what) in cases {
        let (secret, _) = p.kx_start(group).unwrap();
        assert_eq!(
            p.kx_complete(secret, &peer),
            Err(CryptoError::BadKeyShare),
            "{group:?}: {what}"
        );
    }
}

/// A key-exchange secret is good for one agreement even when the state holding it was
/// cloned; clones compare equal.
#[test]
fn kx_secret_clones_share_one_use() {
    let mut p = RingProvider::new();
    for group in GROUPS {
        let (secret, public) = p.kx_start(group).unwrap();
        let (_, peer) = p.kx_start(group).unwrap();
        let clone = secret.clone();
        assert_eq!(clone, secret);
        assert_eq!(secret.public_key(), public);
        let (other, _) = p.kx_start(group).unwrap();
        assert_ne!(other, secret);
        assert!(p.kx_complete(secret, &peer).is_ok());
        assert_eq!(p.kx_complete(clone, &peer), Err(CryptoError::Internal));
    }
}

#[test]
fn kx_secret_debug_hides_the_key() {
    let mut p = RingProvider::new();
    let (secret, _) = p.kx_start(NamedGroup::X25519).unwrap();
    let printed = format!("{secret:?}");
    assert_eq!(printed, "RingKxSecret { group: X25519, .. }");
}

// ---------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------

#[test]
fn sign_and_verify_every_scheme_of_every_key() {
    let mut p = RingProvider::new();
    let ca = Ca::root("sign CA");
    let message = b"ServerKeyExchange params: client_random + server_random + ECParameters";
    for (what, key, schemes) in signing_cases() {
        let signing = key.signing_key();
        assert_eq!(p.signing_schemes(&signing), schemes, "{what}");
        let cert = ca.server_leaf(&key.rcgen, &["sign.example"]);
        for &scheme in schemes {
            assert!(p.verify_schemes().contains(&scheme), "{what} {scheme:?}");
            let sig = p.sign(&signing, scheme, message).unwrap();
            if schemes == RSA_SCHEMES {
                // RSA signatures are as long as the modulus.
                assert_eq!(sig.len(), 256, "{what}");
            } else {
                // ECDSA signatures are DER `ECDSA-Sig-Value` SEQUENCEs (RFC 8422 §5.4).
                assert_eq!(sig[0], 0x30, "{what}");
            }
            p.verify_signature(&cert, scheme, message, &sig)
                .unwrap_or_else(|e| panic!("{what} {scheme:?}: {e:?}"));

            let last = sig.len() - 1;
            for bad_sig in [flip_bit(&sig, last), flip_bit(&sig, sig.len() / 2)] {
                assert_eq!(
                    p.verify_signature(&cert, scheme, message, &bad_sig),
                    Err(CryptoError::BadSignature),
                    "{what} {scheme:?}: flipped signature"
                );
            }
            assert_eq!(
                p.verify_signature(&cert, scheme, &flip_bit(message, 0), &sig),
                Err(CryptoError::BadSignature),
                "{what} {scheme:?}: flipped message"
            );
            assert_eq!(
                p.verify_signature(&cert, scheme, message, &[]),
                Err(CryptoError::BadSignature),
                "{what} {scheme:?}: empty signature"
            );
        }
    }
}

/// RSA signatures are randomised for PSS and deterministic for PKCS#1 v1.5; both verify
/// only under the scheme they were made with.
#[test]
fn rsa_signature_binds_its_scheme() {
    let mut p = RingProvider::new();
    let ca = Ca::root("rsa CA");
    let key = TestKey::rsa(RSA_PKCS8_PEM);
    let cert = ca.server_leaf(&key.rcgen, &["rsa.example"]);
    let signing = key.signing_key();
    let msg = b"message";
    let pss = p
        .sign(&signing, SignatureScheme::RSA_PSS_SHA256, msg)
        .unwrap();
    assert_ne!(
        pss,
        p.sign(&signing, SignatureScheme::RSA_PSS_SHA256, msg)
            .unwrap(),
        "PSS salts must differ"
    );
    let pkcs1 = p
        .sign(&signing, SignatureScheme::RSA_PKCS1_SHA256, msg)
        .unwrap();
    assert_eq!(
        pkcs1,
        p.sign(&signing, SignatureScheme::RSA_PKCS1_SHA256, msg)
            .unwrap()
    );
    for (sig, wrong) in [
        (&pss, SignatureScheme::RSA_PKCS1_SHA256),
        (&pss, SignatureScheme::RSA_PSS_SHA384),
        (&pkcs1, SignatureScheme::RSA_PSS_SHA256),
        (&pkcs1, SignatureScheme::RSA_PKCS1_SHA512),
    ] {
        assert_eq!(
            p.verify_signature(&cert, wrong, msg, sig),
            Err(CryptoError::BadSignature),
            "{wrong:?}"
        );
    }
}

#[test]
fn sign_refuses_schemes_the_key_cannot_make() {
    let mut p = RingProvider::new();
    let cases = [
        (TestKey::p256(), SignatureScheme::ECDSA_NISTP521_SHA512),
        (TestKey::p256(), SignatureScheme::RSA_PSS_SHA256),
        (TestKey::p384(), SignatureScheme::ECDSA_NISTP256_SHA256),
        (
            TestKey::rsa(RSA_PKCS8_PEM),
            SignatureScheme::ECDSA_NISTP256_SHA256,
        ),
        (TestKey::rsa(RSA_PKCS8_PEM), SignatureScheme::RSA_PKCS1_SHA1),
        (
            TestKey::rsa(RSA_PKCS8_PEM),
            SignatureScheme::RSA_PSS_PSS_SHA256,
        ),
        (TestKey::rsa(RSA_PKCS8_PEM), SignatureScheme::ED25519),
    ];
    for (key, scheme) in cases {
        assert_eq!(
            p.sign(&key.signing_key(), scheme, b"m"),
            Err(CryptoError::Unsupported),
            "{scheme:?}"
        );
    }
}

#[test]
fn verify_refuses_signatures_from_the_wrong_key_type() {
    let mut p = RingProvider::new();
    let ca = Ca::root("mismatch CA");
    let ecdsa = TestKey::p256();
    let rsa = TestKey::rsa(RSA_PKCS8_PEM);
    let ecdsa_cert = ca.server_leaf(&ecdsa.rcgen, &["e.example"]);
    let rsa_cert = ca.server_leaf(&rsa.rcgen, &["r.example"]);
    let ecdsa_sig = p
        .sign(
            &ecdsa.signing_key(),
            SignatureScheme::ECDSA_NISTP256_SHA256,
            b"m",
        )
        .unwrap();
    let rsa_sig = p
        .sign(&rsa.signing_key(), SignatureScheme::RSA_PSS_SHA256, b"m")
        .unwrap();
    // An ECDSA signature claimed as RSA, against the ECDSA and the RSA certificate.
    for cert in [&ecdsa_cert, &rsa_cert] {
        assert_eq!(
            p.verify_signature(cert, SignatureScheme::RSA_PSS_SHA256, b"m", &ecdsa_sig),
            Err(CryptoError::BadSignature)
        );
    }
    // An RSA signature against the ECDSA certificate, and an ECDSA scheme against RSA.
    assert_eq!(
        p.verify_signature(&ecdsa_cert, SignatureScheme::RSA_PSS_SHA256, b"m", &rsa_sig),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        p.verify_signature(
            &rsa_cert,
            SignatureScheme::ECDSA_NISTP256_SHA256,
            b"m",
            &ecdsa_sig
        ),
        Err(CryptoError::BadSignature)
    );
    // A garbage certificate cannot vouch for anything.
    assert_eq!(
        p.verify_signature(
            &CertificateDer(vec![0x30, 0x00]),
            SignatureScheme::ECDSA_NISTP256_SHA256,
            b"m",
            &ecdsa_sig
        ),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn verify_refuses_unknown_schemes() {
    let p = RingProvider::new();
    let ca = Ca::root("unknown CA");
    let key = TestKey::rsa(RSA_PKCS8_PEM);
    let cert = ca.server_leaf(&key.rcgen, &["u.example"]);
    for scheme in [
        SignatureScheme::RSA_PKCS1_SHA1,
        SignatureScheme::ECDSA_SHA1_Legacy,
        SignatureScheme::ECDSA_NISTP521_SHA512,
        SignatureScheme::RSA_PSS_PSS_SHA256,
        SignatureScheme::ED448,
        SignatureScheme::Unknown(0xfefe),
    ] {
        assert!(!p.verify_schemes().contains(&scheme));
        assert_eq!(
            p.verify_signature(&cert, scheme, b"m", &[0; 256]),
            Err(CryptoError::Unsupported),
            "{scheme:?}"
        );
    }
}

/// A P-384 key and its ECDSA-with-SHA-256 signature over [`CROSS_MESSAGE`], made with
/// Python's `cryptography` package (ring signs only the matched curve-and-hash pairs).
const P384_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCV/Z92ZjfeBwtOWqYs
1K34Lu1C9ONVvellt1UOB89IRa8K2+K+OO+MhrfUD63MaEuhZANiAAQGQoJ2ir/p
bwn8fyiP/9+WBS/a64XxPnQeZ9dkIpnGI661sXi0pCSMp/0yA2nPIUi0qCNoSZZm
GKSCwHXMXZAgNVBp8B0rAIwkL1SD2zknMuINfbzasELY1TiKPufKnJk=
-----END PRIVATE KEY-----
";
const P384_SHA256_SIG: &str = "3065023035afdfe001b45297edd7bc4449de884bac18c6096b4bb042fd1e7df3\
                               f96886a7bb5ce9a134516ce8d46149f96105111a023100888be58259c883de\
                               17be5995537761e82fdf03bec865cea9919fc67282587c334ce91dfbc0b09c\
                               10781117c356f4feba";
/// A P-256 key and its ECDSA-with-SHA-384 signature, made the same way.
const P256_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzgQRsskg8F18rvnd
rugnsuwaPecGlMNm6Y5vriTp+VChRANCAAQH0P+jWR9PB0l0RdwWE51MkIsecUuf
m6OVmOP8ria1beBzOiEKXC+IExVonWhfW0Ys1jUD1XZh2Bkv+KUVj43b
-----END PRIVATE KEY-----
";
const P256_SHA384_SIG: &str = "3044022015a1dcff590541814972e5a5621e82074cea2f6c98dd595cb3760ac8\
                               055e243f02203efd99a81f7c917f365a4ba39c36812c5a8aeee8a8091d76e1\
                               ee5366f130a9e0";
const CROSS_MESSAGE: &[u8] = b"TLS 1.2 ECDSA";

/// In TLS 1.2, `ecdsa_secp256r1_sha256` means only "ECDSA with SHA-256" (RFC 5246
/// §7.4.1.4.1, RFC 8422 §5.1.3): a peer with a P-384 certificate may sign with it, and
/// a P-256 one with `ecdsa_secp384r1_sha384`.
#[test]
fn verify_accepts_tls12_ecdsa_hash_on_the_other_curve() {
    let p = RingProvider::new();
    let ca = Ca::root("cross CA");
    for (pem, sig, scheme) in [
        (
            P384_KEY_PEM,
            P384_SHA256_SIG,
            SignatureScheme::ECDSA_NISTP256_SHA256,
        ),
        (
            P256_KEY_PEM,
            P256_SHA384_SIG,
            SignatureScheme::ECDSA_NISTP384_SHA384,
        ),
    ] {
        let key = KeyPair::from_pem(pem).unwrap();
        let cert = ca.server_leaf(&key, &["cross.example"]);
        let sig = hex(sig);
        assert_eq!(
            p.verify_signature(&cert, scheme, CROSS_MESSAGE, &sig),
            Ok(()),
            "{scheme:?}"
        );
        assert_eq!(
            p.verify_signature(&cert, scheme, b"another message", &sig),
            Err(CryptoError::BadSignature),
            "{scheme:?}"
        );
    }
}

/// Ed25519 is verified (RFC 8422 §5.1.3) though not offered for signing.
#[test]
fn verify_ed25519() {
    let p = RingProvider::new();
    let ca = Ca::root("ed CA");
    let key = TestKey::generate(&rcgen::PKCS_ED25519);
    let cert = ca.server_leaf(&key.rcgen, &["ed.example"]);
    let signer =
        ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(key.der.secret_der()).unwrap();
    let sig = signer.sign(b"m");
    assert!(p.verify_schemes().contains(&SignatureScheme::ED25519));
    assert_eq!(
        p.verify_signature(&cert, SignatureScheme::ED25519, b"m", sig.as_ref()),
        Ok(())
    );
    assert_eq!(
        p.verify_signature(
            &cert,
            SignatureScheme::ED25519,
            b"m",
            &flip_bit(sig.as_ref(), 3)
        ),
        Err(CryptoError::BadSignature)
    );
    // We do not sign with Ed25519 keys.
    assert_eq!(
        RingSigningKey::from_der(&key.der).unwrap_err(),
        CryptoError::Unsupported
    );
}

#[test]
fn signing_key_loading() {
    // The same RSA key from PKCS#8 and PKCS#1 is the same signing key.
    let pkcs8 = TestKey::rsa(RSA_PKCS8_PEM).signing_key();
    let pkcs1 = TestKey::rsa(RSA_PKCS1_PEM).signing_key();
    assert_eq!(pkcs8, pkcs1);
    assert_eq!(format!("{pkcs8:?}"), "RingSigningKey(RSA 2048 bits)");

    let a = TestKey::p256();
    assert_eq!(a.signing_key(), a.signing_key());
    assert_ne!(a.signing_key(), TestKey::p256().signing_key());
    assert_eq!(
        format!("{:?}", a.signing_key()),
        "RingSigningKey(ECDSA ECDSA_NISTP256_SHA256)"
    );

    let refused: Vec<(&str, PrivateKeyDer<'static>)> = vec![
        (
            "garbage PKCS#8",
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00])),
        ),
        ("empty PKCS#1", PrivateKeyDer::Pkcs1(Vec::new().into())),
        (
            "SEC1",
            PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(vec![0x30, 0x00])),
        ),
    ];
    for (what, der) in refused {
        assert_eq!(
            RingSigningKey::from_der(&der).unwrap_err(),
            CryptoError::Unsupported,
            "{what}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Certificate chains
// ---------------------------------------------------------------------------------------

#[test]
fn chain_verifies_for_its_names_with_every_key_type() {
    let p = RingProvider::new();
    let ca = Ca::root("chain CA");
    let roots = ca.roots();
    assert_eq!(roots.len(), 1);
    for (what, key) in [
        ("P-256", TestKey::p256()),
        ("P-384", TestKey::p384()),
        ("RSA", TestKey::rsa(RSA_PKCS8_PEM)),
        ("Ed25519", TestKey::generate(&rcgen::PKCS_ED25519)),
    ] {
        let leaf = ca.server_leaf(&key.rcgen, &["www.example.com", "192.0.2.7", "::1"]);
        let chain = [leaf];
        for name in ["www.example.com", "192.0.2.7", "::1"] {
            assert_eq!(
                p.verify_chain(&roots, &chain, Some(name), now()),
                Ok(()),
                "{what} {name}"
            );
        }
        for name in ["example.com", "other.example.com", "192.0.2.8"] {
            assert_eq!(
                p.verify_chain(&roots, &chain, Some(name), now()),
                Err(CertError::NotValidForName),
                "{what} {name}"
            );
        }
    }
}

#[test]
fn chain_through_an_intermediate() {
    let p = RingProvider::new();
    let root = Ca::root("root");
    let intermediate = root.intermediate("intermediate");
    let key = TestKey::p256();
    let leaf = intermediate.server_leaf(&key.rcgen, &["deep.example"]);
    let roots = root.roots();
    assert_eq!(
        p.verify_chain(
            &roots,
            &[leaf.clone(), intermediate.cert.clone()],
            Some("deep.example"),
            now()
        ),
        Ok(())
    );
    // Without the intermediate the chain leads nowhere.
    assert_eq!(
        p.verify_chain(&roots, &[leaf], Some("deep.example"), now()),
        Err(CertError::UnknownIssuer)
    );
}

#[test]
fn chain_from_another_ca_is_unknown() {
    let p = RingProvider::new();
    let ca = Ca::root("issuing CA");
    let other = Ca::root("other CA");
    let key = TestKey::p256();
    let leaf = ca.server_leaf(&key.rcgen, &["a.example"]);
    assert_eq!(
        p.verify_chain(
            &other.roots(),
            std::slice::from_ref(&leaf),
            Some("a.example"),
            now()
        ),
        Err(CertError::UnknownIssuer)
    );
    // A root with the issuer's name but another key: webpki finds it by name, then the
    // leaf's signature does not verify, which is a bad certificate rather than an
    // unknown issuer.
    let impostor = Ca::root("issuing CA");
    assert_eq!(
        p.verify_chain(
            &impostor.roots(),
            std::slice::from_ref(&leaf),
            Some("a.example"),
            now()
        ),
        Err(CertError::BadCertificate)
    );
    let none = RingRoots::from_der_certs(&[]).unwrap();
    assert!(none.is_empty());
    assert_eq!(
        p.verify_chain(&none, &[leaf], Some("a.example"), now()),
        Err(CertError::UnknownIssuer)
    );
}

#[test]
fn chain_outside_its_validity_is_expired() {
    let p = RingProvider::new();
    let ca = Ca::root("time CA");
    let key = TestKey::p256();
    let leaf = ca.leaf(
        &key.rcgen,
        &["time.example"],
        ExtendedKeyUsagePurpose::ServerAuth,
        Some(((2020, 1, 1), (2030, 1, 1))),
    );
    let roots = ca.roots();
    let chain = [leaf];
    let verify = |t| p.verify_chain(&roots, &chain, Some("time.example"), t);
    assert_eq!(verify(at((2025, 6, 1))), Ok(()));
    assert_eq!(verify(at((2030, 1, 2))), Err(CertError::Expired));
    assert_eq!(verify(at((2040, 1, 1))), Err(CertError::Expired));
    assert_eq!(verify(at((2019, 12, 31))), Err(CertError::Expired));
    assert_eq!(verify(UnixTime(0)), Err(CertError::Expired));
}

#[test]
fn client_certificates() {
    let p = RingProvider::new();
    let ca = Ca::root("client CA");
    let roots = ca.roots();
    let key = TestKey::p256();
    let client = ca.leaf(&key.rcgen, &[], ExtendedKeyUsagePurpose::ClientAuth, None);
    let server = ca.server_leaf(&key.rcgen, &["s.example"]);
    // Server name `None`: verified as a client certificate.
    assert_eq!(
        p.verify_chain(&roots, std::slice::from_ref(&client), None, now()),
        Ok(())
    );
    // Each EKU is refused for the other use.
    assert_eq!(
        p.verify_chain(&roots, &[server], None, now()),
        Err(CertError::UnsupportedCertificate)
    );
    assert_eq!(
        p.verify_chain(&roots, &[client], Some("s.example"), now()),
        Err(CertError::UnsupportedCertificate)
    );
    // A client certificate from a CA we do not trust.
    let other = Ca::root("other client CA");
    let stranger = other.leaf(&key.rcgen, &[], ExtendedKeyUsagePurpose::ClientAuth, None);
    assert_eq!(
        p.verify_chain(&roots, &[stranger], None, now()),
        Err(CertError::UnknownIssuer)
    );
}

#[test]
fn malformed_chains_and_roots() {
    let p = RingProvider::new();
    let ca = Ca::root("malformed CA");
    let roots = ca.roots();
    assert_eq!(
        p.verify_chain(&roots, &[], Some("x.example"), now()),
        Err(CertError::BadCertificate)
    );
    assert_eq!(
        p.verify_chain(&roots, &[], None, now()),
        Err(CertError::BadCertificate)
    );
    for garbage in [vec![], vec![0x30, 0x00], vec![0xff; 40]] {
        assert_eq!(
            p.verify_chain(&roots, &[CertificateDer(garbage.clone())], None, now()),
            Err(CertError::BadCertificate),
            "{garbage:?}"
        );
        assert_eq!(
            RingRoots::from_der_certs(&[ca.cert.clone(), CertificateDer(garbage)]),
            Err(CertError::BadCertificate)
        );
    }
    // The root itself presented as the end entity is trusted as it is, but it names no
    // server; another CA's certificate is refused as a CA.
    assert_eq!(
        p.verify_chain(
            &roots,
            std::slice::from_ref(&ca.cert),
            Some("x.example"),
            now()
        ),
        Err(CertError::NotValidForName)
    );
    assert_eq!(
        p.verify_chain(
            &Ca::root("other").roots(),
            std::slice::from_ref(&ca.cert),
            Some("x.example"),
            now()
        ),
        Err(CertError::CaUsedAsEndEntity)
    );
    // A server name that is neither a DNS name nor an IP address.
    let key = TestKey::p256();
    let leaf = ca.server_leaf(&key.rcgen, &["x.example"]);
    assert_eq!(
        p.verify_chain(&roots, &[leaf], Some("not a name!"), now()),
        Err(CertError::NotValidForName)
    );
}

// ---------------------------------------------------------------------------------------
// AEAD
// ---------------------------------------------------------------------------------------

const NONCE: [u8; 12] = [
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
];
/// A TLS 1.2 AEAD additional data: seq_num(8) + type + version + length.
const AAD: [u8; 13] = [0, 0, 0, 0, 0, 0, 0, 1, 0x17, 0x03, 0x03, 0x00, 0x0e];

fn test_key(alg: AeadAlgorithm) -> Vec<u8> {
    (0x80..0x80 + alg.key_len() as u8).collect()
}

/// Ciphertexts computed with Python's `cryptography` package (`AESGCM`,
/// `ChaCha20Poly1305`) from the key 80 81 82 ..., NONCE, AAD and "TLS 1.2 record".
#[test]
fn aead_known_answers() {
    let p = RingProvider::new();
    for (alg, want) in [
        (
            AeadAlgorithm::Aes128Gcm,
            "37ccfadfc85ee67553367f926f1412d5e370266fb28ca2518673a487870a",
        ),
        (
            AeadAlgorithm::Aes256Gcm,
            "e4730f5edc57373633824aad48c4426540891f42b419376480f5880f43e1",
        ),
        (
            AeadAlgorithm::ChaCha20Poly1305,
            "95e604e91bfed1180ba2347bdb995f53b0449dbc71f6d87c58c1b5d2f2a4",
        ),
    ] {
        let key = p.aead_key(alg, &test_key(alg)).unwrap();
        let mut record = b"TLS 1.2 record".to_vec();
        p.seal(&key, NONCE, &AAD, &mut record).unwrap();
        assert_eq!(record, hex(want), "{alg:?}");
        let len = p.open(&key, NONCE, &AAD, &mut record).unwrap();
        assert_eq!(&record[..len], b"TLS 1.2 record", "{alg:?}");
    }
}

#[test]
fn aead_round_trips_every_length() {
    let p = RingProvider::new();
    for alg in ALL_AEADS {
        let key = p.aead_key(alg, &test_key(alg)).unwrap();
        for len in [0, 1, 15, 16, 17, 255, 1 << 14] {
            let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut record = plaintext.clone();
            p.seal(&key, NONCE, &AAD, &mut record).unwrap();
            assert_eq!(record.len(), len + AeadAlgorithm::TAG_LEN);
            let n = p.open(&key, NONCE, &AAD, &mut record).unwrap();
            assert_eq!(&record[..n], &plaintext[..], "{alg:?} {len}");
        }
    }
}

#[test]
fn aead_refuses_tampering() {
    let p = RingProvider::new();
    for alg in ALL_AEADS {
        let key = p.aead_key(alg, &test_key(alg)).unwrap();
        let mut sealed = b"attack at dawn".to_vec();
        p.seal(&key, NONCE, &AAD, &mut sealed).unwrap();

        let open = |nonce: [u8; 12], aad: &[u8], mut record: Vec<u8>| {
            p.open(&key, nonce, aad, &mut record)
        };
        let mut other_nonce = NONCE;
        other_nonce[11] ^= 1;
        let mut other_aad = AAD;
        other_aad[7] = 2; // the next sequence number
        let other_key = p.aead_key(alg, &vec![0x42; alg.key_len()]).unwrap();

        for i in [0, 5, sealed.len() - 1] {
            assert_eq!(
                open(NONCE, &AAD, flip_bit(&sealed, i)),
                Err(CryptoError::BadRecordMac),
                "{alg:?}: byte {i}"
            );
        }
        assert_eq!(
            open(other_nonce, &AAD, sealed.clone()),
            Err(CryptoError::BadRecordMac),
            "{alg:?}: nonce"
        );
        assert_eq!(
            open(NONCE, &other_aad, sealed.clone()),
            Err(CryptoError::BadRecordMac),
            "{alg:?}: aad"
        );
        assert_eq!(
            p.open(&other_key, NONCE, &AAD, &mut sealed.clone()),
            Err(CryptoError::BadRecordMac),
            "{alg:?}: key"
        );
        for len in [0, 1, AeadAlgorithm::TAG_LEN - 1, sealed.len() - 1] {
            assert_eq!(
                open(NONCE, &AAD, sealed[..len].to_vec()),
                Err(CryptoError::BadRecordMac),
                "{alg:?}: truncated to {len}"
            );
        }
        assert!(open(NONCE, &AAD, sealed).is_ok());
    }
}

#[test]
fn aead_key_lengths_and_identity() {
    let p = RingProvider::new();
    for alg in ALL_AEADS {
        for len in [0, 15, 17, 31, 33] {
            if len == alg.key_len() {
                continue;
            }
            assert_eq!(
                p.aead_key(alg, &vec![0; len]).unwrap_err(),
                CryptoError::Unsupported,
                "{alg:?} {len}"
            );
        }
        let key = p.aead_key(alg, &test_key(alg)).unwrap();
        assert_eq!(key.algorithm(), alg);
        // Keys compare by identity: clones share the key; a second expansion is another.
        assert_eq!(key.clone(), key);
        assert_ne!(p.aead_key(alg, &test_key(alg)).unwrap(), key);
        assert!(!format!("{key:?}").contains("80"), "{key:?}");
    }
}

/// Cause 10 of the conformance issue: a self-signed CA certificate presented as the
/// peer's own is trusted when that exact certificate is configured as a root (as OpenSSL
/// and GnuTLS trust it), within its validity period; otherwise it is refused with a
/// reason that says what is required.
#[test]
fn a_directly_trusted_self_signed_ca_certificate_is_accepted() {
    let p = RingProvider::new();
    let mut params = ca_params("self-signed client");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = CertificateDer(params.self_signed(&key).unwrap().der().to_vec());
    let pinned = RingRoots::from_der_certs(std::slice::from_ref(&cert)).unwrap();
    let chain = std::slice::from_ref(&cert);
    assert_eq!(
        p.verify_chain(&pinned, chain, None, at((2025, 6, 1))),
        Ok(())
    );
    assert_eq!(
        p.verify_chain(&pinned, chain, None, at((2031, 1, 1))),
        Err(CertError::Expired)
    );
    assert_eq!(
        p.verify_chain(&pinned, chain, None, at((2019, 1, 1))),
        Err(CertError::Expired)
    );
    // Not configured as trusted: refused, with a reason that says what is required.
    let other = Ca::root("another root");
    let refused = p.verify_chain(&other.roots(), chain, None, at((2025, 6, 1)));
    assert_eq!(refused, Err(CertError::CaUsedAsEndEntity));
    // Trusted among other roots: accepted.
    let both = RingRoots::from_der_certs(&[other.cert.clone(), cert.clone()]).unwrap();
    assert_eq!(p.verify_chain(&both, chain, None, at((2025, 6, 1))), Ok(()));
    // A sub-CA whose issuer is trusted is still not a client certificate.
    let ca = Ca::root("issuing CA");
    let sub = ca.intermediate("a sub-CA presented as a client");
    let refused = p.verify_chain(&ca.roots(), std::slice::from_ref(&sub.cert), None, now());
    assert_eq!(refused, Err(CertError::CaUsedAsEndEntity));
    assert!(CertError::CaUsedAsEndEntity
        .to_string()
        .contains("configuring that exact certificate as a root"));
}
