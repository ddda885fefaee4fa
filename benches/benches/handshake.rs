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

criterion_group!(benches, handshakes, bulk);
criterion_main!(benches);
