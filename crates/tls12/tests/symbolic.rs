//! The symbolic provider: each primitive's contract (agreement, unforgeability within the
//! API, chain rules, AEAD integrity, determinism), then real handshakes between our
//! client and server running on it, their determinism and their `Clone + Eq + Hash`.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::sync::Arc;
use std::time::Instant;

use tls12::crypto::symbolic::{
    issue, self_signed_ca, SymbolicKeyKind, SymbolicPki, SymbolicProvider, SymbolicRoots,
    SymbolicSigningKey, SymbolicUsage,
};
use tls12::crypto::{AeadAlgorithm, CertError, CryptoError, HashAlgorithm, Provider, UnixTime};
use tls12::handshake::client::{ClientConfig, ClientIdentity};
use tls12::handshake::server::ServerConfig;
use tls12::handshake::{ClientAuth, Event, Phase};
use tls12::msgs::enums::{AlertDescription, NamedGroup, SignatureScheme};
use tls12::msgs::CertificateDer;
use tls12::session::{InMemoryCache, Session};
use tls12::suites::ALL_SUITES;
use tls12::{ClientConnection, Error, ServerConnection};

const NOW: UnixTime = UnixTime(1_800_000_000);
const NAME: &str = "localhost";
const GROUPS: [NamedGroup; 3] = [
    NamedGroup::X25519,
    NamedGroup::secp256r1,
    NamedGroup::secp384r1,
];

type Sym = SymbolicProvider;
type Client = ClientConnection<Sym>;
type Server = ServerConnection<Sym>;

fn provider() -> Sym {
    SymbolicProvider::new(0)
}

fn hash_of<T: std::hash::Hash>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    std::hash::Hash::hash(value, &mut h);
    h.finish()
}

// ---------------------------------------------------------------------------------------
// Randomness.
// ---------------------------------------------------------------------------------------

#[test]
fn randoms_are_a_function_of_the_seed_and_distinct_across_seeds_and_draws() {
    let draw = |p: &mut Sym| {
        let mut r = [0u8; 32];
        p.fill_random(&mut r).unwrap();
        r
    };
    let (mut a, mut b) = (SymbolicProvider::new(7), SymbolicProvider::new(7));
    let from_a: Vec<_> = (0..50).map(|_| draw(&mut a)).collect();
    let from_b: Vec<_> = (0..50).map(|_| draw(&mut b)).collect();
    assert_eq!(from_a, from_b);
    assert_eq!(a, b);
    assert_eq!(a.draws(), 50);

    let mut all: Vec<[u8; 32]> = Vec::new();
    for seed in 0..20 {
        let mut p = SymbolicProvider::new(seed);
        all.extend((0..20).map(|_| draw(&mut p)));
    }
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count, "two draws collided");
    // Not trivially structured: no all-zero half, bytes spread.
    assert!(all.iter().all(|r| r[..16] != [0; 16] && r[16..] != [0; 16]));

    // Any length, including short and odd ones.
    let mut p = SymbolicProvider::new(1);
    for len in [0, 1, 15, 16, 17, 33, 100] {
        let mut out = vec![0u8; len];
        p.fill_random(&mut out).unwrap();
    }
    assert_eq!(p.draws(), 7);
}

// ---------------------------------------------------------------------------------------
// Key exchange.
// ---------------------------------------------------------------------------------------

#[test]
fn key_exchange_agrees_with_realistic_lengths() {
    for (group, public_len, secret_len) in [
        (NamedGroup::X25519, 32, 32),
        (NamedGroup::secp256r1, 65, 32),
        (NamedGroup::secp384r1, 97, 48),
    ] {
        let (mut alice, mut bob, mut eve) = (
            SymbolicProvider::new(1),
            SymbolicProvider::new(2),
            SymbolicProvider::new(3),
        );
        assert!(alice.supports_group(group));
        let (a, a_pub) = alice.kx_start(group).unwrap();
        let (b, b_pub) = bob.kx_start(group).unwrap();
        let (e, _) = eve.kx_start(group).unwrap();
        assert_eq!((a_pub.len(), b_pub.len()), (public_len, public_len));
        if group != NamedGroup::X25519 {
            assert_eq!(a_pub[0], 0x04);
        }
        assert_ne!(a_pub, b_pub);
        assert_eq!(a.group(), group);
        let ab = alice.kx_complete(a.clone(), &b_pub).unwrap();
        let ba = bob.kx_complete(b, &a_pub).unwrap();
        assert_eq!(ab, ba);
        assert_eq!(ab.expose().len(), secret_len);
        // Eve, with a key of her own and both public keys, gets other secrets.
        assert_ne!(eve.kx_complete(e.clone(), &a_pub).unwrap(), ab);
        assert_ne!(eve.kx_complete(e, &b_pub).unwrap(), ab);
        // The same exchange again from the same seeds: the same secret.
        let (mut alice2, mut bob2) = (SymbolicProvider::new(1), SymbolicProvider::new(2));
        let (a2, _) = alice2.kx_start(group).unwrap();
        let (_, b2_pub) = bob2.kx_start(group).unwrap();
        assert_eq!(a2, a);
        assert_eq!(alice2.kx_complete(a2, &b2_pub).unwrap(), ab);
    }
}

#[test]
fn malformed_key_shares_are_bad_key_share() {
    let p = provider();
    let mut alice = SymbolicProvider::new(1);
    let mut bob = SymbolicProvider::new(2);
    let (x, _) = alice.kx_start(NamedGroup::X25519).unwrap();
    let (p256, _) = alice.kx_start(NamedGroup::secp256r1).unwrap();
    let (_, bob_x) = bob.kx_start(NamedGroup::X25519).unwrap();
    let (_, bob_p256) = bob.kx_start(NamedGroup::secp256r1).unwrap();
    let (_, bob_p384) = bob.kx_start(NamedGroup::secp384r1).unwrap();

    let mut flipped = bob_x.clone();
    flipped[10] ^= 1;
    let mut wrong_tag = bob_x.clone();
    wrong_tag[0] ^= 0xff;
    let mut compressed = bob_p256.clone();
    compressed[0] = 0x02;
    let mut relabelled = bob_p256.clone();
    relabelled[3] = 24; // claims secp384r1 at secp256r1's length
    for (name, secret, peer) in [
        ("empty", x.clone(), vec![]),
        ("short", x.clone(), bob_x[..31].to_vec()),
        ("long", x.clone(), [bob_x.as_slice(), &[0]].concat()),
        ("flipped byte", x.clone(), flipped),
        ("wrong tag", x.clone(), wrong_tag),
        ("zeros", x.clone(), vec![0; 32]),
        ("P-256 key for X25519", x.clone(), bob_p256[..32].to_vec()),
        ("X25519 key for P-256", p256.clone(), bob_x.clone()),
        ("P-384 key for P-256", p256.clone(), bob_p384[..65].to_vec()),
        ("compressed point", p256.clone(), compressed),
        ("wrong group", p256.clone(), relabelled),
    ] {
        assert_eq!(
            p.kx_complete(secret, &peer),
            Err(CryptoError::BadKeyShare),
            "{name}"
        );
    }
    assert!(!p.supports_group(NamedGroup::X448));
    assert_eq!(
        alice.kx_start(NamedGroup::FFDHE2048),
        Err(CryptoError::Unsupported)
    );
}

// ---------------------------------------------------------------------------------------
// Signatures.
// ---------------------------------------------------------------------------------------

#[test]
fn signatures_verify_only_for_the_key_the_message_and_the_scheme() {
    let mut p = provider();
    let pki = SymbolicPki::new(NAME);
    let ecdsa_cert = &pki.server_chain[0];
    let rsa_pki = SymbolicPki::with(NAME, SymbolicKeyKind::Rsa, 100);
    let rsa_cert = &rsa_pki.server_chain[0];
    let msg = b"client_random server_random params";

    assert_eq!(
        p.signing_schemes(&pki.server_key),
        [SignatureScheme::ECDSA_NISTP256_SHA256]
    );
    assert_eq!(
        p.signing_schemes(&rsa_pki.server_key),
        [
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PKCS1_SHA256
        ]
    );

    let ecdsa = SignatureScheme::ECDSA_NISTP256_SHA256;
    let sig = p.sign(&pki.server_key, ecdsa, msg).unwrap();
    assert_eq!(sig.len(), 32);
    assert_eq!(p.sign(&pki.server_key, ecdsa, msg).unwrap(), sig);
    assert_eq!(p.verify_signature(ecdsa_cert, ecdsa, msg, &sig), Ok(()));

    // Wrong message, wrong key, wrong scheme of the right kind, corrupted signature.
    let bad = Err(CryptoError::BadSignature);
    assert_eq!(p.verify_signature(ecdsa_cert, ecdsa, b"other", &sig), bad);
    let client_cert = &pki.client_chain[0];
    assert_eq!(p.verify_signature(client_cert, ecdsa, msg, &sig), bad);
    let p384 = SignatureScheme::ECDSA_NISTP384_SHA384;
    assert_eq!(p.verify_signature(ecdsa_cert, p384, msg, &sig), bad);
    let mut corrupted = sig.clone();
    corrupted[0] ^= 1;
    assert_eq!(p.verify_signature(ecdsa_cert, ecdsa, msg, &corrupted), bad);
    assert_eq!(p.verify_signature(ecdsa_cert, ecdsa, msg, &sig[..31]), bad);
    assert_eq!(p.verify_signature(ecdsa_cert, ecdsa, msg, &[]), bad);
    // A certificate we cannot read.
    let junk = CertificateDer(b"not a certificate".to_vec());
    assert_eq!(p.verify_signature(&junk, ecdsa, msg, &sig), bad);
    // A scheme of the other kind, and one we do not verify at all.
    let unsupported = Err(CryptoError::Unsupported);
    let pss = SignatureScheme::RSA_PSS_SHA256;
    assert_eq!(p.verify_signature(ecdsa_cert, pss, msg, &sig), unsupported);
    let sha1 = SignatureScheme::RSA_PKCS1_SHA1;
    assert_eq!(p.verify_signature(rsa_cert, sha1, msg, &sig), unsupported);

    // Signing with a scheme the key does not have.
    assert_eq!(
        p.sign(&pki.server_key, pss, msg),
        Err(CryptoError::Unsupported)
    );
    assert_eq!(
        p.sign(&rsa_pki.server_key, ecdsa, msg),
        Err(CryptoError::Unsupported)
    );

    // RSA: both schemes, and a signature under one does not pass for the other.
    let pkcs1 = SignatureScheme::RSA_PKCS1_SHA256;
    let sig_pss = p.sign(&rsa_pki.server_key, pss, msg).unwrap();
    let sig_pkcs1 = p.sign(&rsa_pki.server_key, pkcs1, msg).unwrap();
    assert_ne!(sig_pss, sig_pkcs1);
    assert_eq!(p.verify_signature(rsa_cert, pss, msg, &sig_pss), Ok(()));
    assert_eq!(p.verify_signature(rsa_cert, pkcs1, msg, &sig_pkcs1), Ok(()));
    assert_eq!(p.verify_signature(rsa_cert, pkcs1, msg, &sig_pss), bad);
    assert_eq!(p.verify_signature(rsa_cert, ecdsa, msg, &sig), unsupported);

    // The same id as another kind is another key.
    let as_rsa = SymbolicSigningKey::rsa(pki.server_key.id());
    assert_ne!(as_rsa.public_id(), pki.server_key.public_id());
    // The public id on the wire is not the private id.
    assert_ne!(pki.server_key.public_id(), pki.server_key.id());
}

// ---------------------------------------------------------------------------------------
// Certificates.
// ---------------------------------------------------------------------------------------

#[test]
fn chains_are_accepted_up_to_a_root_for_their_usage_and_name() {
    let p = provider();
    let pki = SymbolicPki::new(NAME);
    assert_eq!(
        SymbolicRoots::from_certs(std::slice::from_ref(&pki.ca)),
        Ok(pki.roots.clone())
    );
    assert_eq!(pki.roots.len(), 1);
    assert!(pki.roots.contains(pki.ca_key.public_id()));

    let ok =
        |chain: &[CertificateDer], name: Option<&str>| p.verify_chain(&pki.roots, chain, name, NOW);
    assert_eq!(ok(&pki.server_chain, Some(NAME)), Ok(()));
    assert_eq!(ok(&pki.server_chain, Some("LocalHost")), Ok(()));
    assert_eq!(ok(&pki.client_chain, None), Ok(()));
    // Time is not modelled.
    assert_eq!(
        p.verify_chain(
            &pki.roots,
            &pki.server_chain,
            Some(NAME),
            UnixTime(u64::MAX)
        ),
        Ok(())
    );
    // The root itself may end the chain.
    let with_root = [pki.server_chain[0].clone(), pki.ca.clone()];
    assert_eq!(ok(&with_root, Some(NAME)), Ok(()));

    // CA → intermediate CA → leaf.
    let inter_key = SymbolicSigningKey::ecdsa(50);
    let inter = issue(&pki.ca_key, "inter", &inter_key, true, SymbolicUsage::Any);
    let leaf_key = SymbolicSigningKey::rsa(51);
    let leaf = issue(&inter_key, NAME, &leaf_key, false, SymbolicUsage::Server);
    let client_leaf = issue(&inter_key, "c", &leaf_key, false, SymbolicUsage::Client);
    assert_eq!(ok(&[leaf.clone(), inter.clone()], Some(NAME)), Ok(()));
    assert_eq!(ok(&[client_leaf.clone(), inter.clone()], None), Ok(()));
    assert_eq!(
        ok(&[leaf.clone(), inter.clone(), pki.ca.clone()], Some(NAME)),
        Ok(())
    );
    // Any-usage end entities serve both ways.
    let any = issue(&pki.ca_key, NAME, &leaf_key, false, SymbolicUsage::Any);
    assert_eq!(ok(std::slice::from_ref(&any), Some(NAME)), Ok(()));
    assert_eq!(ok(std::slice::from_ref(&any), None), Ok(()));
}

#[test]
fn each_chain_failure_has_its_cert_error() {
    let p = provider();
    let pki = SymbolicPki::new(NAME);
    let stranger = SymbolicPki::with(NAME, SymbolicKeyKind::Ecdsa, 1000);
    let check =
        |chain: &[CertificateDer], name: Option<&str>| p.verify_chain(&pki.roots, chain, name, NOW);
    let server = pki.server_chain[0].clone();
    let inter_key = SymbolicSigningKey::ecdsa(50);
    let inter = issue(&pki.ca_key, "inter", &inter_key, true, SymbolicUsage::Any);
    let leaf = issue(
        &inter_key,
        NAME,
        &SymbolicSigningKey::ecdsa(51),
        false,
        SymbolicUsage::Server,
    );
    let not_ca_inter = issue(&pki.ca_key, "inter", &inter_key, false, SymbolicUsage::Any);
    let leaf_as_ca = issue(&pki.ca_key, NAME, &inter_key, true, SymbolicUsage::Server);
    let mut tampered = server.clone();
    let last_name_byte = tampered.0.len() - 33;
    tampered.0[last_name_byte] ^= 0x20; // "localhosT": the issuer did not sign that
    let mut bad_magic = server.clone();
    bad_magic.0[0] ^= 1;
    let mut bad_usage = server.clone();
    bad_usage.0[9] = 9;
    let forged = issue(
        &SymbolicSigningKey::ecdsa(999), // not the CA's key...
        NAME,
        &SymbolicSigningKey::ecdsa(998),
        false,
        SymbolicUsage::Server,
    );
    let mut forged_issuer = forged.clone();
    // ...claiming the CA as issuer: the signature does not verify under the CA's key.
    forged_issuer.0[19..27].copy_from_slice(&pki.ca_key.public_id().to_be_bytes());

    use CertError::*;
    for (name, chain, server_name, expected) in [
        ("empty", vec![], Some(NAME), BadCertificate),
        (
            "junk",
            vec![CertificateDer(vec![1, 2, 3])],
            Some(NAME),
            BadCertificate,
        ),
        ("bad magic", vec![bad_magic], Some(NAME), BadCertificate),
        (
            "bad usage code",
            vec![bad_usage],
            Some(NAME),
            BadCertificate,
        ),
        (
            "junk after a good one",
            vec![server.clone(), CertificateDer(vec![0; 60])],
            Some(NAME),
            BadCertificate,
        ),
        ("tampered body", vec![tampered], Some(NAME), BadCertificate),
        (
            "forged issuer signature",
            vec![forged_issuer],
            Some(NAME),
            BadCertificate,
        ),
        ("leaf is a CA", vec![leaf_as_ca], Some(NAME), BadCertificate),
        (
            "intermediate not a CA",
            vec![leaf.clone(), not_ca_inter],
            Some(NAME),
            BadCertificate,
        ),
        (
            "another CA",
            stranger.server_chain.clone(),
            Some(NAME),
            UnknownIssuer,
        ),
        (
            "self-signed stranger",
            vec![forged],
            Some(NAME),
            UnknownIssuer,
        ),
        (
            "missing intermediate",
            vec![leaf.clone()],
            Some(NAME),
            UnknownIssuer,
        ),
        (
            "out of order",
            vec![inter.clone(), leaf.clone()],
            Some(NAME),
            BadCertificate,
        ),
        (
            "unrelated second",
            vec![leaf.clone(), stranger.ca.clone()],
            Some(NAME),
            UnknownIssuer,
        ),
        (
            "wrong name",
            vec![server.clone()],
            Some("example.com"),
            NotValidForName,
        ),
        (
            "name prefix",
            vec![server.clone()],
            Some("localhos"),
            NotValidForName,
        ),
        (
            "client cert as server",
            pki.client_chain.clone(),
            Some(NAME),
            UnsupportedCertificate,
        ),
        (
            "server cert as client",
            vec![server.clone()],
            None,
            UnsupportedCertificate,
        ),
    ] {
        assert_eq!(check(&chain, server_name), Err(expected), "{name}");
    }
    // No roots at all.
    assert_eq!(
        p.verify_chain(
            &SymbolicRoots::default(),
            &pki.server_chain,
            Some(NAME),
            NOW
        ),
        Err(UnknownIssuer)
    );
    // Roots are built from CA certificates only.
    assert_eq!(
        SymbolicRoots::from_certs(&[pki.ca.clone(), server]),
        Err(BadCertificate)
    );
    assert_eq!(
        SymbolicRoots::from_certs(&[CertificateDer(vec![0])]),
        Err(BadCertificate)
    );
    let both =
        SymbolicRoots::from_certs(&[stranger.ca.clone(), pki.ca.clone(), pki.ca.clone()]).unwrap();
    assert_eq!(both.len(), 2);
    assert_eq!(
        both,
        SymbolicRoots::from_keys(&[pki.ca_key.clone(), stranger.ca_key.clone()])
    );
    assert_eq!(self_signed_ca(&pki.ca_key), pki.ca);
}

// ---------------------------------------------------------------------------------------
// Hash, HMAC, AEAD.
// ---------------------------------------------------------------------------------------

#[test]
fn hash_and_hmac_have_the_right_lengths_and_separate_their_inputs() {
    let p = provider();
    for alg in [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ] {
        let h = p.hash(alg, b"abc");
        assert_eq!(h.as_ref().len(), alg.output_len());
        assert_eq!(p.hash(alg, b"abc"), h);
        assert_ne!(p.hash(alg, b"abd"), h);
        assert_ne!(p.hash(alg, b"abc\0"), h);
        assert_ne!(p.hash(alg, b""), h);
        let m = p.hmac(alg, b"key", &[b"ab", b"c"]);
        assert_eq!(m.as_ref().len(), alg.output_len());
        assert_eq!(p.hmac(alg, b"key", &[b"abc"]), m);
        assert_eq!(p.hmac(alg, b"key", &[b"a", b"", b"bc"]), m);
        assert_ne!(p.hmac(alg, b"kez", &[b"abc"]), m);
        assert_ne!(p.hmac(alg, b"keya", &[b"bc"]), m, "key/data boundary");
        assert_ne!(m.as_ref(), h.as_ref());
    }
    // Different algorithms are different functions, not truncations of one another.
    let h256 = p.hash(HashAlgorithm::Sha256, b"abc");
    let h384 = p.hash(HashAlgorithm::Sha384, b"abc");
    assert_ne!(h256.as_ref(), &h384.as_ref()[..32]);
    // The provider's state does not enter hashes.
    assert_eq!(
        SymbolicProvider::new(5).hash(HashAlgorithm::Sha256, b"abc"),
        h256
    );
}

#[test]
fn aead_round_trips_and_refuses_every_tamper() {
    let p = provider();
    for alg in [
        AeadAlgorithm::Aes128Gcm,
        AeadAlgorithm::Aes256Gcm,
        AeadAlgorithm::ChaCha20Poly1305,
    ] {
        let key_bytes: Vec<u8> = (0..alg.key_len() as u8).collect();
        let key = p.aead_key(alg, &key_bytes).unwrap();
        assert_eq!(key.algorithm(), alg);
        assert_eq!(key, p.aead_key(alg, &key_bytes).unwrap(), "by value");
        assert_eq!(
            hash_of(&key),
            hash_of(&p.aead_key(alg, &key_bytes).unwrap())
        );
        let other_key = p.aead_key(alg, &vec![9; alg.key_len()]).unwrap();
        assert_ne!(key, other_key);
        assert_eq!(
            p.aead_key(alg, &key_bytes[1..]),
            Err(CryptoError::Unsupported)
        );
        assert_eq!(
            p.aead_key(alg, &[0; 33][..alg.key_len() + 1]),
            Err(CryptoError::Unsupported)
        );

        let nonce = [7u8; 12];
        let aad = b"seq type version len";
        for plaintext in [&b""[..], b"x", b"hello, symbolic world", &[0u8; 1000]] {
            let mut sealed = plaintext.to_vec();
            p.seal(&key, nonce, aad, &mut sealed).unwrap();
            assert_eq!(sealed.len(), plaintext.len() + AeadAlgorithm::TAG_LEN);
            if !plaintext.is_empty() {
                assert_ne!(&sealed[..plaintext.len()], plaintext, "encrypted");
            }
            let mut opened = sealed.clone();
            let len = p.open(&key, nonce, aad, &mut opened).unwrap();
            assert_eq!(&opened[..len], plaintext);

            let fails = |key, nonce, aad: &[u8], mut bytes: Vec<u8>| {
                assert_eq!(
                    p.open(key, nonce, aad, &mut bytes),
                    Err(CryptoError::BadRecordMac),
                    "{alg:?} {} bytes",
                    plaintext.len()
                )
            };
            for i in 0..sealed.len() {
                let mut t = sealed.clone();
                t[i] ^= 0x01;
                fails(&key, nonce, aad, t);
            }
            let mut other_nonce = nonce;
            other_nonce[11] ^= 1;
            fails(&key, other_nonce, aad, sealed.clone());
            fails(&key, nonce, b"seq type version lem", sealed.clone());
            fails(&key, nonce, b"", sealed.clone());
            fails(&other_key, nonce, aad, sealed.clone());
            fails(&key, nonce, aad, sealed[..sealed.len() - 1].to_vec());
            fails(&key, nonce, aad, sealed[1..].to_vec());
            fails(&key, nonce, aad, [sealed.as_slice(), &[0]].concat());
        }
        for short in 0..AeadAlgorithm::TAG_LEN {
            let mut bytes = vec![0u8; short];
            assert_eq!(
                p.open(&key, nonce, aad, &mut bytes),
                Err(CryptoError::BadRecordMac)
            );
        }
        // Same inputs, same ciphertext; another nonce, another keystream.
        let (mut a, mut b, mut c) = (b"abc".to_vec(), b"abc".to_vec(), b"abc".to_vec());
        p.seal(&key, nonce, aad, &mut a).unwrap();
        p.seal(&key, nonce, aad, &mut b).unwrap();
        p.seal(&key, [8; 12], aad, &mut c).unwrap();
        assert_eq!(a, b);
        assert_ne!(a[..3], c[..3]);
    }
}

// ---------------------------------------------------------------------------------------
// Handshakes.
// ---------------------------------------------------------------------------------------

struct Setup {
    pki: SymbolicPki,
    server: ServerConfig<Sym>,
    client: ClientConfig<Sym>,
}

fn setup(kind: SymbolicKeyKind) -> Setup {
    let pki = SymbolicPki::with(NAME, kind, 1);
    let server = ServerConfig::new(pki.server_chain.clone(), pki.server_key.clone());
    let client = ClientConfig::new(pki.roots.clone());
    Setup {
        pki,
        server,
        client,
    }
}

fn with_client_auth(mut s: Setup, policy: ClientAuth) -> Setup {
    s.server.client_auth = policy;
    s.server.client_roots = Some(s.pki.roots.clone());
    s.client.identity = Some(ClientIdentity {
        chain: s.pki.client_chain.clone(),
        key: s.pki.client_key.clone(),
    });
    s
}

fn client_with(setup: &Setup, seed: u64, session: Option<Session>) -> Client {
    ClientConnection::new(
        Arc::new(setup.client.clone()),
        SymbolicProvider::new(seed),
        Some(NAME.into()),
        session,
        NOW,
    )
    .unwrap()
}

fn server_with(setup: &Setup, seed: u64) -> Server {
    ServerConnection::new(Arc::new(setup.server.clone()), SymbolicProvider::new(seed))
}

/// Every byte each side sent, in order: `(client output, server output)`.
type Wire = (Vec<u8>, Vec<u8>);

/// Moves bytes both ways until neither side has anything to say; returns the first error
/// of each side.
fn pump(
    client: &mut Client,
    server: &mut Server,
    cache: &mut InMemoryCache,
    wire: &mut Wire,
) -> (Option<Error>, Option<Error>) {
    let (mut client_err, mut server_err) = (None, None);
    for _ in 0..20 {
        let to_server = client.take_output();
        let to_client = server.take_output();
        if to_server.is_empty() && to_client.is_empty() {
            break;
        }
        wire.0.extend_from_slice(&to_server);
        wire.1.extend_from_slice(&to_client);
        if !to_server.is_empty() {
            if let Err(e) = server.receive(&to_server, NOW, cache) {
                server_err.get_or_insert(e);
            }
        }
        if !to_client.is_empty() {
            if let Err(e) = client.receive(&to_client, NOW) {
                client_err.get_or_insert(e);
            }
        }
    }
    (client_err, server_err)
}

fn connect(
    setup: &Setup,
    seeds: (u64, u64),
    cache: &mut InMemoryCache,
    session: Option<Session>,
) -> (Client, Server, Wire) {
    let mut client = client_with(setup, seeds.0, session);
    let mut server = server_with(setup, seeds.1);
    let mut wire = Wire::default();
    let errors = pump(&mut client, &mut server, cache, &mut wire);
    assert_eq!(errors, (None, None));
    assert_eq!(client.phase(), Phase::AppData);
    assert_eq!(server.phase(), Phase::AppData);
    assert_agree(&client, &server);
    (client, server, wire)
}

fn assert_agree(client: &Client, server: &Server) {
    let (c, s) = (client.summary().unwrap(), server.summary().unwrap());
    assert_eq!(c.suite, s.suite);
    assert_eq!(c.session_id, s.session_id);
    assert_eq!(c.master_secret, s.master_secret);
    assert_eq!(c.master_secret.expose().len(), 48);
    assert_eq!(c.extended_master_secret, s.extended_master_secret);
    assert_eq!(c.resumed, s.resumed);
    assert_eq!(c.client_random, s.client_random);
    // On a resumed handshake the server reports the client certificate of the cached
    // session while the client reports none (its `Session` keeps only the peer's
    // certificate): compared on full handshakes only.
    if !c.resumed {
        assert_eq!(c.client_certificate, s.client_certificate);
    }
}

fn new_session(client: &mut Client) -> Option<Session> {
    std::iter::from_fn(|| client.next_event()).find_map(|e| match e {
        Event::NewSession(s) => Some(*s),
        _ => None,
    })
}

fn exchange_data(client: &mut Client, server: &mut Server, cache: &mut InMemoryCache) {
    let big = vec![0x5a; 40_000];
    client.send(b"ping").unwrap();
    server.send(&big).unwrap();
    let mut wire = Wire::default();
    assert_eq!(pump(client, server, cache, &mut wire), (None, None));
    assert_eq!(server.take_received(), b"ping");
    assert_eq!(client.take_received(), big);
    assert!(!wire.1.windows(64).any(|w| w == &big[..64]), "encrypted");
}

#[test]
fn every_suite_and_group_completes_on_the_symbolic_provider() {
    for (kind, suites) in [
        (SymbolicKeyKind::Ecdsa, &ALL_SUITES[..3]),
        (SymbolicKeyKind::Rsa, &ALL_SUITES[3..]),
    ] {
        let mut s = setup(kind);
        for suite in suites {
            for group in GROUPS {
                s.client.suites = vec![*suite];
                // RFC 8422 §5.1.1: the client must also list the certificate's curve.
                s.client.groups = vec![group, NamedGroup::secp256r1];
                s.server.groups = vec![group];
                let mut cache = InMemoryCache::new(4, 3600);
                let (mut client, mut server, _) = connect(&s, (1, 2), &mut cache, None);
                let summary = client.summary().unwrap();
                assert_eq!((summary.suite, summary.group), (suite.suite, Some(group)));
                assert!(summary.extended_master_secret && !summary.resumed);
                assert_eq!(
                    summary.server_certificate.as_ref(),
                    Some(&s.pki.server_chain[0])
                );
                exchange_data(&mut client, &mut server, &mut cache);
            }
        }
    }
}

#[test]
fn a_session_resumes_with_the_same_master_secret() {
    let s = setup(SymbolicKeyKind::Ecdsa);
    let mut cache = InMemoryCache::new(4, 3600);
    let (mut first, first_server, _) = connect(&s, (1, 2), &mut cache, None);
    let session = new_session(&mut first).expect("the server gave the session an ID");
    assert_eq!(cache.len(), 1);
    let (mut second, mut server, _) = connect(&s, (3, 4), &mut cache, Some(session.clone()));
    let summary = second.summary().unwrap();
    assert!(summary.resumed);
    assert_eq!(summary.session_id, session.id);
    assert_eq!(
        summary.master_secret,
        first_server.summary().unwrap().master_secret
    );
    exchange_data(&mut second, &mut server, &mut cache);
}

#[test]
fn client_authentication_on_the_symbolic_provider() {
    for (policy, with_cert, expected) in [
        (ClientAuth::Required, true, None),
        (ClientAuth::Optional, true, None),
        (ClientAuth::Optional, false, None),
        (
            ClientAuth::Required,
            false,
            Some(AlertDescription::HandshakeFailure),
        ),
    ] {
        let mut s = with_client_auth(setup(SymbolicKeyKind::Ecdsa), policy);
        if !with_cert {
            s.client.identity = None;
        }
        let mut cache = InMemoryCache::new(4, 3600);
        let mut client = client_with(&s, 1, None);
        let mut server = server_with(&s, 2);
        let errors = pump(&mut client, &mut server, &mut cache, &mut Wire::default());
        match expected {
            None => {
                assert_eq!(errors, (None, None), "{policy:?} {with_cert}");
                assert_agree(&client, &server);
                assert_eq!(
                    server.summary().unwrap().client_certificate.as_ref(),
                    with_cert.then_some(&s.pki.client_chain[0])
                );
            }
            Some(alert) => {
                assert_eq!(errors.1.unwrap().alert_sent(), Some(alert));
                assert_eq!(errors.0, Some(Error::PeerAlert(alert)));
            }
        }
    }

    // A client certificate from another CA, and a server from another CA.
    let mut s = with_client_auth(setup(SymbolicKeyKind::Ecdsa), ClientAuth::Required);
    let stranger = SymbolicPki::with(NAME, SymbolicKeyKind::Ecdsa, 77);
    s.client.identity = Some(ClientIdentity {
        chain: stranger.client_chain.clone(),
        key: stranger.client_key.clone(),
    });
    let mut cache = InMemoryCache::new(4, 3600);
    let (mut client, mut server) = (client_with(&s, 1, None), server_with(&s, 2));
    let (_, server_err) = pump(&mut client, &mut server, &mut cache, &mut Wire::default());
    assert_eq!(
        server_err.unwrap().alert_sent(),
        Some(AlertDescription::UnknownCa)
    );
    let mut s = setup(SymbolicKeyKind::Ecdsa);
    s.client.roots = stranger.roots.clone();
    let (mut client, mut server) = (client_with(&s, 1, None), server_with(&s, 2));
    let (client_err, _) = pump(&mut client, &mut server, &mut cache, &mut Wire::default());
    assert_eq!(
        client_err.unwrap().alert_sent(),
        Some(AlertDescription::UnknownCa)
    );
}

#[test]
fn records_replayed_duplicated_or_moved_between_connections_are_bad_record_mac() {
    let s = setup(SymbolicKeyKind::Ecdsa);
    let mut cache = InMemoryCache::new(4, 3600);
    let (mut client, mut server, _) = connect(&s, (1, 2), &mut cache, None);
    let (_, mut other_server, _) = connect(&s, (3, 4), &mut cache, None);
    client.send(b"pay 10").unwrap();
    let record = client.take_output();
    let mut replayer = server.clone();
    replayer.receive(&record, NOW, &mut cache).unwrap();
    assert_eq!(replayer.take_received(), b"pay 10");
    let replayed = replayer.receive(&record, NOW, &mut cache).unwrap_err();
    assert_eq!(replayed.alert_sent(), Some(AlertDescription::BadRecordMac));
    let moved = other_server.receive(&record, NOW, &mut cache).unwrap_err();
    assert_eq!(moved.alert_sent(), Some(AlertDescription::BadRecordMac));
    let mut tampered = record.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let err = server.receive(&tampered, NOW, &mut cache).unwrap_err();
    assert_eq!(err.alert_sent(), Some(AlertDescription::BadRecordMac));
}

#[test]
fn handshakes_are_deterministic_byte_for_byte() {
    let run = |s: &Setup, seeds| {
        let mut cache = InMemoryCache::new(4, 3600);
        let (mut client, server, wire) = connect(s, seeds, &mut cache, None);
        let session = new_session(&mut client).unwrap();
        let (_, resumed_server, resumed_wire) =
            connect(s, (seeds.0 + 10, seeds.1 + 10), &mut cache, Some(session));
        (client, server, wire, resumed_server, resumed_wire, cache)
    };
    let plain = setup(SymbolicKeyKind::Ecdsa);
    let auth = with_client_auth(setup(SymbolicKeyKind::Rsa), ClientAuth::Required);
    for s in [&plain, &auth] {
        let a = run(s, (1, 2));
        let b = run(s, (1, 2));
        assert!(!a.2 .0.is_empty() && !a.2 .1.is_empty());
        assert_eq!(a.2, b.2, "full handshake bytes");
        assert_eq!(a.4, b.4, "resumed handshake bytes");
        assert_eq!((&a.0, &a.1, &a.3, &a.5), (&b.0, &b.1, &b.3, &b.5));
        assert_eq!(hash_of(&a.1), hash_of(&b.1));
        // Other seeds, other bytes and other secrets.
        let c = run(s, (5, 6));
        assert_ne!(a.2 .0, c.2 .0);
        assert_ne!(a.2 .1, c.2 .1);
        assert_ne!(
            a.1.summary().unwrap().master_secret,
            c.1.summary().unwrap().master_secret
        );
    }
}

#[test]
fn connections_clone_mid_handshake_and_stay_equal() {
    let s = with_client_auth(setup(SymbolicKeyKind::Ecdsa), ClientAuth::Required);
    let mut client = client_with(&s, 1, None);
    let mut server = server_with(&s, 2);
    let mut cache = InMemoryCache::new(4, 3600);
    // ClientHello to the server: both are mid-handshake.
    let hello = client.take_output();
    server.receive(&hello, NOW, &mut cache).unwrap();
    assert_eq!(server.phase(), Phase::Wait);

    let (mut client2, mut server2, mut cache2) = (client.clone(), server.clone(), cache.clone());
    assert_eq!((&client2, &server2), (&client, &server));
    assert_eq!(hash_of(&client2), hash_of(&client));
    assert_eq!(hash_of(&server2), hash_of(&server));
    // A different provider state is a different connection state.
    assert_ne!(server, server_with(&s, 3));

    let mut steps = 0;
    loop {
        let (to_client, to_client2) = (server.take_output(), server2.take_output());
        let (to_server, to_server2) = (client.take_output(), client2.take_output());
        assert_eq!((&to_client, &to_server), (&to_client2, &to_server2));
        if to_client.is_empty() && to_server.is_empty() {
            break;
        }
        if !to_client.is_empty() {
            client.receive(&to_client, NOW).unwrap();
            client2.receive(&to_client2, NOW).unwrap();
        }
        assert_eq!(client, client2);
        assert_eq!(hash_of(&client), hash_of(&client2));
        if !to_server.is_empty() {
            server.receive(&to_server, NOW, &mut cache).unwrap();
            server2.receive(&to_server2, NOW, &mut cache2).unwrap();
        }
        assert_eq!(server, server2);
        assert_eq!(hash_of(&server), hash_of(&server2));
        assert_eq!(cache, cache2);
        steps += 1;
        assert!(steps < 20);
    }
    assert_eq!(client.phase(), Phase::AppData);
    assert_eq!(server2.phase(), Phase::AppData);
    assert_agree(&client2, &server2);
    assert_eq!(cache.len(), 1);

    // A clone that diverges is no longer equal.
    client2.send(b"only on the clone").unwrap();
    assert_ne!(client, client2);
}

#[test]
fn symbolic_handshakes_are_cheap() {
    let s = setup(SymbolicKeyKind::Ecdsa);
    let auth = with_client_auth(setup(SymbolicKeyKind::Ecdsa), ClientAuth::Required);
    let n = 1000u64;
    for (name, setup) in [("full", &s), ("full + client auth", &auth)] {
        let start = Instant::now();
        for i in 0..n {
            let mut cache = InMemoryCache::new(4, 3600);
            let mut client = client_with(setup, 2 * i + 1, None);
            let mut server = server_with(setup, 2 * i + 2);
            let errors = pump(&mut client, &mut server, &mut cache, &mut Wire::default());
            assert_eq!(errors, (None, None));
        }
        let elapsed = start.elapsed();
        eprintln!(
            "{n} symbolic {name} handshakes: {elapsed:?} ({:?} each)",
            elapsed / n as u32
        );
    }
    // Resumed handshakes against one cached session.
    let mut cache = InMemoryCache::new(4, 3600);
    let (mut first, _, _) = connect(&s, (1, 2), &mut cache, None);
    let session = new_session(&mut first).unwrap();
    let start = Instant::now();
    for i in 0..n {
        let mut client = client_with(&s, 2 * i + 11, Some(session.clone()));
        let mut server = server_with(&s, 2 * i + 12);
        let errors = pump(&mut client, &mut server, &mut cache, &mut Wire::default());
        assert_eq!(errors, (None, None));
    }
    let elapsed = start.elapsed();
    eprintln!(
        "{n} symbolic resumed handshakes: {elapsed:?} ({:?} each)",
        elapsed / n as u32
    );
    // A state is small: the provider, and a full connection.
    eprintln!(
        "size_of: provider {} B, client connection {} B, server connection {} B",
        std::mem::size_of::<Sym>(),
        std::mem::size_of::<Client>(),
        std::mem::size_of::<Server>()
    );
}
