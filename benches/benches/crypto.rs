//! The crypto hot path, each through tls12 and as ring alone does it: the PRF (master
//! secret, extended master secret, key block, verify_data), transcript hashing, record
//! seal and open (16 KiB, 1 KiB and 64 B for each AEAD), ECDHE key generation and
//! agreement per group, and signing and verification per signature scheme.
//!
//! `cargo bench -p tls12-benches --bench crypto -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ring::rand::SystemRandom;
use ring::{agreement, digest, signature};
use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::crypto::{AeadAlgorithm, HashAlgorithm, Provider, Secret};
use tls12::keys;
use tls12::msgs::enums::{NamedGroup, SignatureScheme};
use tls12::pki::KeyKind;
use tls12_benches::fixture::{Aead, Fixture};
use tls12_benches::reference::{self, ring_prf};
use tls12_benches::{scenarios, Scenario, Unit, NOW, SERVER_NAME};

const CR: [u8; 32] = [0x40; 32];
const SR: [u8; 32] = [0x60; 32];
const HASH: [u8; 32] = [0xa0; 32];

fn prf(c: &mut Criterion) {
    let p = RingProvider::new();
    let alg = HashAlgorithm::Sha256;
    let pms = Secret::new(vec![0x11; 32]);
    let master = Secret::new(vec![0x22; 48]);

    // The ring reference computes the same bytes.
    let mut ms = [0u8; 48];
    ring_prf(alg, pms.expose(), b"master secret", &[&CR, &SR], &mut ms);
    assert_eq!(keys::master_secret(&p, alg, &pms, &CR, &SR).expose(), ms);

    let mut g = c.benchmark_group("prf");
    g.bench_function("master_secret/tls12", |b| {
        b.iter(|| keys::master_secret(&p, alg, black_box(&pms), &CR, &SR))
    });
    g.bench_function("master_secret/ring", |b| {
        b.iter(|| {
            let mut out = [0u8; 48];
            ring_prf(
                alg,
                black_box(pms.expose()),
                b"master secret",
                &[&CR, &SR],
                &mut out,
            );
            out
        })
    });
    g.bench_function("extended_master_secret/tls12", |b| {
        b.iter(|| keys::extended_master_secret(&p, alg, black_box(&pms), &HASH))
    });
    g.bench_function("extended_master_secret/ring", |b| {
        b.iter(|| {
            let mut out = [0u8; 48];
            let label = b"extended master secret";
            ring_prf(alg, black_box(pms.expose()), label, &[&HASH], &mut out);
            out
        })
    });
    for (name, aead) in [
        ("aes-128-gcm", AeadAlgorithm::Aes128Gcm),
        ("chacha20-poly1305", AeadAlgorithm::ChaCha20Poly1305),
    ] {
        let (key_len, iv_len) = (aead.key_len(), keys::fixed_iv_len(aead));
        let len = 2 * key_len + 2 * iv_len;
        g.bench_function(format!("key_block-{name}/tls12"), |b| {
            b.iter(|| keys::key_block(&p, alg, black_box(&master), &CR, &SR, key_len, iv_len))
        });
        g.bench_function(format!("key_block-{name}/ring"), |b| {
            b.iter(|| {
                let mut out = [0u8; 88];
                let label = b"key expansion";
                ring_prf(
                    alg,
                    black_box(master.expose()),
                    label,
                    &[&SR, &CR],
                    &mut out[..len],
                );
                out
            })
        });
    }
    g.bench_function("verify_data/tls12", |b| {
        b.iter(|| keys::verify_data(&p, alg, black_box(&master), true, &HASH))
    });
    g.bench_function("verify_data/ring", |b| {
        b.iter(|| {
            let mut out = [0u8; 12];
            ring_prf(
                alg,
                black_box(master.expose()),
                b"client finished",
                &[&HASH],
                &mut out,
            );
            out
        })
    });
    g.finish();
}

/// One side's transcript work in a full handshake (every message added, three hashes).
fn transcript(c: &mut Criterion) {
    let p = RingProvider::new();
    let mut g = c.benchmark_group("transcript");
    for (name, kind) in [
        ("ecdsa-p256", KeyKind::EcdsaP256),
        ("rsa2048", KeyKind::Rsa2048),
    ] {
        let fixture = Fixture::new(kind);
        let suite_code = fixture.suite(Aead::Aes128Gcm);
        let suite = tls12::suites::Suite::lookup(suite_code).expect("suite");
        let messages = reference::handshake_messages(&fixture, suite_code);
        let bytes: usize = messages.iter().map(Vec::len).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format!("{name}/tls12"), |b| {
            b.iter(|| reference::our_transcript(&p, &suite, black_box(&messages)))
        });
        g.bench_function(format!("{name}/ring"), |b| {
            b.iter(|| reference::ring_transcript(&digest::SHA256, black_box(&messages)))
        });
    }
    g.finish();
}

/// A scenario's contenders as one criterion group.
fn run(c: &mut Criterion, group: &str, mut scenario: Scenario) {
    let mut g = c.benchmark_group(group);
    if let Unit::Bytes(n) = scenario.unit {
        g.throughput(Throughput::Bytes(n));
    }
    for contender in &mut scenario.contenders {
        let run = &mut contender.run;
        let id = BenchmarkId::new(contender.role.name(), &scenario.name);
        g.bench_function(id, |b| b.iter_custom(&mut *run));
    }
    g.finish();
}

fn records(c: &mut Criterion) {
    for aead in [
        AeadAlgorithm::Aes128Gcm,
        AeadAlgorithm::Aes256Gcm,
        AeadAlgorithm::ChaCha20Poly1305,
    ] {
        for len in [16384, 1024, 64] {
            run(c, "record-seal", scenarios::seal(aead, len));
            run(c, "record-open", scenarios::open(aead, len));
        }
    }
}

/// One side's ECDHE: a key pair, then the agreement with the peer's public key.
fn ecdhe(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let mut g = c.benchmark_group("ecdhe");
    for (group, alg) in [
        (NamedGroup::X25519, &agreement::X25519),
        (NamedGroup::secp256r1, &agreement::ECDH_P256),
        (NamedGroup::secp384r1, &agreement::ECDH_P384),
    ] {
        let peer = agreement::EphemeralPrivateKey::generate(alg, &rng).expect("key");
        let peer = peer.compute_public_key().expect("public").as_ref().to_vec();
        let mut p = RingProvider::new();
        g.bench_function(format!("{group:?}/tls12"), |b| {
            b.iter(|| {
                let (secret, public) = p.kx_start(group).expect("kx_start");
                let shared = p
                    .kx_complete(secret, black_box(&peer))
                    .expect("kx_complete");
                (public, shared)
            })
        });
        g.bench_function(format!("{group:?}/ring"), |b| {
            b.iter(|| {
                let key = agreement::EphemeralPrivateKey::generate(alg, &rng).expect("key");
                let public = key.compute_public_key().expect("public");
                let peer = agreement::UnparsedPublicKey::new(alg, black_box(&peer));
                let shared = agreement::agree_ephemeral(key, &peer, |k| k.to_vec());
                (public, shared)
            })
        });
    }
    g.finish();
}

/// A key loaded by ring, to sign beside the provider.
enum RingKey {
    Ecdsa(signature::EcdsaKeyPair),
    Rsa(signature::RsaKeyPair, &'static dyn signature::RsaEncoding),
}

fn signatures(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let message = vec![0x42u8; 100];
    let ecdsa256 = Fixture::new(KeyKind::EcdsaP256);
    let ecdsa384 = Fixture::new(KeyKind::EcdsaP384);
    let rsa = Fixture::new(KeyKind::Rsa2048);
    let cases: [(
        &Fixture,
        SignatureScheme,
        &'static dyn signature::VerificationAlgorithm,
    ); 5] = [
        (
            &ecdsa256,
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &signature::ECDSA_P256_SHA256_ASN1,
        ),
        (
            &ecdsa384,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &signature::ECDSA_P384_SHA384_ASN1,
        ),
        (
            &rsa,
            SignatureScheme::RSA_PSS_SHA256,
            &signature::RSA_PSS_2048_8192_SHA256,
        ),
        (
            &rsa,
            SignatureScheme::RSA_PSS_SHA512,
            &signature::RSA_PSS_2048_8192_SHA512,
        ),
        (
            &rsa,
            SignatureScheme::RSA_PKCS1_SHA256,
            &signature::RSA_PKCS1_2048_8192_SHA256,
        ),
    ];
    let mut sign = c.benchmark_group("sign");
    for (fixture, scheme, _) in &cases {
        let mut p = RingProvider::new();
        let key = RingSigningKey::from_der(&fixture.pki.server.private_key()).expect("key");
        let pkcs8 = &fixture.pki.server.key_pkcs8;
        let ring_key = match scheme {
            SignatureScheme::ECDSA_NISTP256_SHA256 => RingKey::Ecdsa(
                signature::EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    pkcs8,
                    &rng,
                )
                .expect("key"),
            ),
            SignatureScheme::ECDSA_NISTP384_SHA384 => RingKey::Ecdsa(
                signature::EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
                    pkcs8,
                    &rng,
                )
                .expect("key"),
            ),
            SignatureScheme::RSA_PSS_SHA256 => RingKey::Rsa(
                signature::RsaKeyPair::from_pkcs8(pkcs8).expect("key"),
                &signature::RSA_PSS_SHA256,
            ),
            SignatureScheme::RSA_PSS_SHA512 => RingKey::Rsa(
                signature::RsaKeyPair::from_pkcs8(pkcs8).expect("key"),
                &signature::RSA_PSS_SHA512,
            ),
            _ => RingKey::Rsa(
                signature::RsaKeyPair::from_pkcs8(pkcs8).expect("key"),
                &signature::RSA_PKCS1_SHA256,
            ),
        };
        sign.bench_function(format!("{scheme:?}/tls12"), |b| {
            b.iter(|| p.sign(&key, *scheme, black_box(&message)).expect("sign"))
        });
        sign.bench_function(format!("{scheme:?}/ring"), |b| {
            b.iter(|| match &ring_key {
                RingKey::Ecdsa(k) => k
                    .sign(&rng, black_box(&message))
                    .expect("sign")
                    .as_ref()
                    .to_vec(),
                RingKey::Rsa(k, encoding) => {
                    let mut sig = vec![0; k.public().modulus_len()];
                    k.sign(*encoding, &rng, black_box(&message), &mut sig)
                        .expect("sign");
                    sig
                }
            })
        });
    }
    sign.finish();

    let mut verify = c.benchmark_group("verify");
    for (fixture, scheme, alg) in &cases {
        let mut p = RingProvider::new();
        let key = RingSigningKey::from_der(&fixture.pki.server.private_key()).expect("key");
        let sig = p.sign(&key, *scheme, &message).expect("sign");
        let cert = &fixture.pki.server.chain[0];
        let parsed = tls12_benches::floor::der::Certificate::parse(&cert.0).expect("cert");
        let public = parsed.public_key.to_vec();
        verify.bench_function(format!("{scheme:?}/tls12"), |b| {
            b.iter(|| {
                p.verify_signature(cert, *scheme, black_box(&message), &sig)
                    .expect("verifies")
            })
        });
        verify.bench_function(format!("{scheme:?}/ring"), |b| {
            b.iter(|| {
                signature::UnparsedPublicKey::new(*alg, &public)
                    .verify(black_box(&message), &sig)
                    .expect("verifies")
            })
        });
    }
    // The chain: tls12 through webpki (path building, name and validity checks), ring
    // the CA's one signature over the certificate.
    let p = RingProvider::new();
    let roots = RingRoots::from_der_certs(std::slice::from_ref(&ecdsa256.pki.ca)).expect("CA");
    let chain = &ecdsa256.pki.server.chain;
    let cert = tls12_benches::floor::der::Certificate::parse(&chain[0].0).expect("cert");
    let ca = tls12_benches::floor::der::Certificate::parse(&ecdsa256.pki.ca.0).expect("CA");
    verify.bench_function("chain-ecdsa-p256/tls12", |b| {
        b.iter(|| {
            p.verify_chain(&roots, black_box(chain), Some(SERVER_NAME), NOW)
                .expect("chain verifies")
        })
    });
    verify.bench_function("chain-ecdsa-p256/ring", |b| {
        b.iter(|| {
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, ca.public_key)
                .verify(black_box(cert.tbs), cert.signature)
                .expect("the CA signed it")
        })
    });
    verify.finish();
}

criterion_group!(benches, prf, transcript, records, ecdhe, signatures);
criterion_main!(benches);
