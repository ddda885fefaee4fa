//! The server's first flight for ClientHellos with long lists: N cipher suites, N
//! signature schemes, or N extensions (up to the largest a ClientHello can hold). The
//! cost must grow linearly with N (a quadratic decoder or negotiation would make 32k
//! entries take seconds): the `per-entry` figure stays flat when it does.
//!
//! `cargo bench -p tls12-benches --bench hello -- --warm-up-time 1 --measurement-time 2`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tls12::crypto::ring::{RingProvider, RingRoots, RingSigningKey};
use tls12::crypto::UnixTime;
use tls12::handshake::client::ClientConfig;
use tls12::handshake::server::ServerConfig;
use tls12::msgs::enums::{CipherSuite, ExtensionType, SignatureScheme};
use tls12::msgs::extensions::UnknownExtension;
use tls12::msgs::{ClientExtension, HandshakeMessage, HandshakePayload, KeyExchange};
use tls12::pki::{KeyKind, TestPki};
use tls12::record::OpaqueRecord;
use tls12::session::InMemoryCache;
use tls12::ServerConnection;

const NOW: UnixTime = UnixTime(1_800_000_000);

/// Which list grows.
#[derive(Clone, Copy)]
enum Long {
    Suites,
    Schemes,
    Extensions,
}

/// Our client's hello with one list grown to `n` entries (the real entries last, so the
/// server walks the whole list), as records of at most 2^14 bytes.
fn hello(config: &Arc<ClientConfig<RingProvider>>, long: Long, n: usize) -> Vec<u8> {
    let mut client = tls12::ClientConnection::new(
        Arc::clone(config),
        RingProvider::new(),
        Some("localhost".into()),
        None,
        NOW,
    )
    .expect("a client");
    let out = client.take_output();
    let mut msg = HandshakeMessage::read_bytes(&out[5..], KeyExchange::Ecdhe).expect("a hello");
    let HandshakePayload::ClientHello(ch) = &mut msg.payload else {
        unreachable!("our client sends a ClientHello first")
    };
    match long {
        Long::Suites => {
            let ours = std::mem::take(&mut ch.cipher_suites);
            ch.cipher_suites = (0x0100u16..)
                .take(n)
                .map(CipherSuite::from)
                .chain(ours)
                .collect();
        }
        Long::Schemes => {
            for ext in ch.extensions.iter_mut().flatten() {
                if let ClientExtension::SignatureAlgorithms(schemes) = ext {
                    let filler = (0..n).map(|i| SignatureScheme::from(0x0101 + (i % 0x600) as u16));
                    schemes.splice(0..0, filler);
                }
            }
        }
        Long::Extensions => {
            let exts = ch.extensions.get_or_insert_default();
            let filler = (0..n as u16).map(|i| {
                ClientExtension::Unknown(UnknownExtension {
                    typ: ExtensionType::from(64 + i),
                    data: Vec::new(),
                })
            });
            exts.splice(0..0, filler);
        }
    }
    let bytes = msg.get_encoding();
    let mut wire = Vec::new();
    for chunk in bytes.chunks(1 << 14) {
        OpaqueRecord {
            typ: tls12::msgs::enums::ContentType::Handshake,
            version: tls12::msgs::enums::ProtocolVersion::TLSv1_2,
            payload: chunk.to_vec(),
        }
        .encode(&mut wire);
    }
    wire
}

fn large_hellos(c: &mut Criterion) {
    let pki = TestPki::generate(KeyKind::EcdsaP256, &["localhost"]).expect("a PKI");
    let key = RingSigningKey::from_der(&pki.server.private_key()).expect("a key");
    let mut server = ServerConfig::new(pki.server.chain.clone(), key);
    server.flight_trace = false;
    let server = Arc::new(server);
    let roots = RingRoots::from_der_certs(std::slice::from_ref(&pki.ca)).expect("roots");
    let client = Arc::new(ClientConfig::new(roots));
    for (name, long, sizes) in [
        ("suites", Long::Suites, &[64usize, 1024, 8192, 32_700][..]),
        ("schemes", Long::Schemes, &[64, 1024, 8192, 32_700]),
        ("extensions", Long::Extensions, &[64, 1024, 8192, 16_300]),
    ] {
        let mut group = c.benchmark_group(format!("large-hello-{name}"));
        group.sample_size(20);
        for &n in sizes {
            let wire = hello(&client, long, n);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &wire, |b, wire| {
                b.iter(|| {
                    let mut conn = ServerConnection::new(Arc::clone(&server), RingProvider::new());
                    let mut cache = InMemoryCache::new(1, 3600);
                    conn.receive(wire, NOW, &mut cache).expect("served");
                    conn.take_output()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, large_hellos);
criterion_main!(benches);
