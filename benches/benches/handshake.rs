//! In-memory handshakes and bulk transfer, tls12 beside rustls 0.23 in the same criterion
//! group (so each ratio comes from one run), with the crypto floor of a full handshake
//! and each side's share. The scenarios are defined in `tls12_benches::scenarios`.
//!
//! `cargo bench -p tls12-benches --bench handshake -- --warm-up-time 1 --measurement-time 2`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tls12::pki::KeyKind;
use tls12_benches::fixture::Aead;
use tls12_benches::{scenarios, Scenario, Unit};

/// One criterion group per scenario, one bench per contender.
fn run(c: &mut Criterion, mut scenario: Scenario) {
    let mut group = c.benchmark_group(&scenario.name);
    match scenario.unit {
        Unit::Handshake => {
            group.throughput(Throughput::Elements(1));
            // A handshake takes up to a few milliseconds: fewer samples keep runs short.
            group.sample_size(20);
        }
        Unit::Bytes(n) => {
            group.throughput(Throughput::Bytes(n));
            group.sample_size(20);
        }
    }
    for contender in &mut scenario.contenders {
        let run = &mut contender.run;
        group.bench_function(contender.role.name(), |b| b.iter_custom(&mut *run));
    }
    group.finish();
}

fn handshakes(c: &mut Criterion) {
    run(c, scenarios::full(KeyKind::EcdsaP256));
    run(c, scenarios::full(KeyKind::Rsa2048));
    run(c, scenarios::resumed());
}

fn bulk(c: &mut Criterion) {
    run(c, scenarios::bulk(Aead::Aes128Gcm));
    run(c, scenarios::bulk(Aead::ChaCha20Poly1305));
}

/// A server's session lookup on a resumption: a hit in a full cache of 256 (rustls's
/// default size) and of 10,000 sessions.
fn cache(c: &mut Criterion) {
    use tls12::crypto::{Secret, UnixTime};
    use tls12::msgs::enums::{CipherSuite, ProtocolVersion};
    use tls12::msgs::SessionId;
    use tls12::session::{InMemoryCache, Session, SessionCache};

    let session = |n: u32| Session {
        id: SessionId::new(&[&n.to_be_bytes()[..], &[7; 28]].concat()).expect("32 bytes"),
        version: ProtocolVersion::TLSv1_2,
        suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        master_secret: Secret::new(vec![1; 48]),
        extended_master_secret: true,
        server_name: Some("localhost".into()),
        server_certificate: None,
        client_certificate: None,
        psk_identity: None,
        ticket: None,
        created: UnixTime(u64::from(n)),
    };
    let mut group = c.benchmark_group("session-cache-hit");
    for size in [256u32, 10_000] {
        let mut cache = InMemoryCache::new(size as usize, u64::MAX);
        for n in 0..size {
            cache.put(session(n), UnixTime(u64::from(n)));
        }
        let id = session(size / 2).id;
        group.bench_function(size.to_string(), |b| {
            b.iter(|| cache.get(std::hint::black_box(&id), UnixTime(u64::from(size))))
        });
    }
    group.finish();
}

criterion_group!(benches, handshakes, bulk, cache);
criterion_main!(benches);
