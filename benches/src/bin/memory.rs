//! `cargo run --release -p tls12-benches --bin memory`
//!
//! Heap bytes per connection after the handshake and per cached session, tls12 beside
//! rustls, counted by dhat's global allocator (no `unsafe` of ours). Also the
//! allocations and bytes allocated per handshake, both sides together.
//!
//! Per connection: `N` connected pairs are kept; dropping all the clients, then all the
//! servers, frees what each side held (the sessions cached on the way stay in the cache
//! and are not counted). The connection's own inline size (`size_of`) is added: an
//! application keeps it somewhere too.
//!
//! Per cached session: the server sessions of `N` real handshakes are put into a fresh
//! cache of capacity `N`; everything the full cache allocated, divided by `N`. For rustls
//! the session values are recorded on their way into its `ServerSessionMemoryCache` and
//! replayed into a fresh one.
//!
//! `memory -- --dhat-json PATH [--resumed]` instead runs 200 tls12 handshakes (full, or
//! resumed) under dhat's heap profiler and writes its profile to PATH, for dhat's viewer
//! (`dh_view.html`) or a script: every allocation site with its count and bytes.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use rustls::server::{ServerSessionMemoryCache, StoresServerSessions};
use tls12::pki::KeyKind;
use tls12::session::{InMemoryCache, SessionCache};
use tls12_benches::fixture::{Aead, Fixture};
use tls12_benches::{ours, theirs, Whole, CACHE_SIZE, NOW};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Connections kept, and sessions cached.
const N: usize = CACHE_SIZE;

fn heap() -> dhat::HeapStats {
    dhat::HeapStats::get()
}

/// rustls' session storage, recording what goes in.
#[derive(Debug)]
struct Recording {
    inner: Arc<ServerSessionMemoryCache>,
    seen: Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl StoresServerSessions for Recording {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push((key.clone(), value.clone()));
        }
        self.inner.put(key, value)
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.get(key)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.take(key)
    }

    fn can_cache(&self) -> bool {
        self.inner.can_cache()
    }
}

/// Bytes per connection of each side, given the pairs.
fn per_connection<C, S>(pairs: Vec<(C, S)>) -> (usize, usize) {
    let (clients, servers): (Vec<C>, Vec<S>) = pairs.into_iter().unzip();
    let all = heap().curr_bytes;
    drop(clients);
    let without_clients = heap().curr_bytes;
    drop(servers);
    let without_servers = heap().curr_bytes;
    (
        (all - without_clients) / N + std::mem::size_of::<C>(),
        (without_clients - without_servers) / N + std::mem::size_of::<S>(),
    )
}

/// Allocations and bytes allocated per call of `f`, over `n` calls.
fn allocations(n: u64, mut f: impl FnMut()) -> (f64, f64) {
    let before = heap();
    for _ in 0..n {
        f();
    }
    let after = heap();
    (
        (after.total_blocks - before.total_blocks) as f64 / n as f64,
        (after.total_bytes - before.total_bytes) as f64 / n as f64,
    )
}

struct Row {
    what: String,
    ours: f64,
    theirs: f64,
    unit: &'static str,
}

/// Writes a dhat heap profile of 200 tls12 handshakes to `path`.
fn sites(path: &str, resume: bool) {
    let fixture = Fixture::new(KeyKind::EcdsaP256);
    let suite = fixture.suite(Aead::Aes128Gcm);
    let mut handshakes = ours::Handshakes::new(&fixture, suite, resume);
    let profiler = dhat::Profiler::builder()
        .file_name(path)
        .trim_backtraces(Some(24))
        .build();
    for _ in 0..200 {
        handshakes.handshake(&mut Whole);
    }
    drop(profiler);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--dhat-json") {
        let path = args.get(i + 1).map_or("dhat-heap.json", String::as_str);
        sites(path, args.iter().any(|a| a == "--resumed"));
        return;
    }
    let _profiler = dhat::Profiler::builder().testing().build();
    let fixture = Fixture::new(KeyKind::EcdsaP256);
    let suite = fixture.suite(Aead::Aes128Gcm);
    let mut rows = Vec::new();

    for resume in [false, true] {
        let kind = if resume { "resumed" } else { "full" };
        // tls12: N pairs, then the sessions its server cached.
        let mut handshakes = ours::Handshakes::new(&fixture, suite, resume);
        let pairs: Vec<_> = (0..N).map(|_| handshakes.connect(&mut Whole)).collect();
        let sessions: Vec<_> = pairs
            .iter()
            .map(|(_, server)| server.summary().expect("done").session(NOW))
            .collect();
        let (our_client, our_server) = per_connection(pairs);
        let (our_allocs, our_bytes) = allocations(64, || handshakes.handshake(&mut Whole));

        // rustls: the same, its session storage recording.
        let recording = Arc::new(Recording {
            inner: ServerSessionMemoryCache::new(CACHE_SIZE),
            seen: Mutex::new(Vec::new()),
        });
        let mut server_config = fixture.rustls_server(suite);
        server_config.session_storage = recording.clone();
        let client_config = fixture.rustls_client(suite, resume);
        let mut handshakes =
            theirs::Handshakes::with_configs(client_config, server_config, suite, resume);
        let pairs: Vec<_> = (0..N).map(|_| handshakes.connect(&mut Whole)).collect();
        let (their_client, their_server) = per_connection(pairs);
        let (their_allocs, their_bytes) = allocations(64, || handshakes.handshake(&mut Whole));

        rows.push(Row {
            what: format!("client connection after a {kind} handshake"),
            ours: our_client as f64,
            theirs: their_client as f64,
            unit: "bytes",
        });
        rows.push(Row {
            what: format!("server connection after a {kind} handshake"),
            ours: our_server as f64,
            theirs: their_server as f64,
            unit: "bytes",
        });
        rows.push(Row {
            what: format!("allocations per {kind} handshake (both sides)"),
            ours: our_allocs,
            theirs: their_allocs,
            unit: "allocs",
        });
        rows.push(Row {
            what: format!("bytes allocated per {kind} handshake (both sides)"),
            ours: our_bytes,
            theirs: their_bytes,
            unit: "bytes",
        });

        if !resume {
            // Per cached session: N real server sessions into a fresh cache of N.
            let before = heap().curr_bytes;
            let mut cache = InMemoryCache::new(N, 24 * 3600);
            for session in &sessions {
                cache.put(session.clone(), NOW);
            }
            assert_eq!(cache.len(), N);
            let ours_per = (heap().curr_bytes - before) as f64 / N as f64;
            drop(cache);

            let seen = recording.seen.lock().expect("not poisoned").clone();
            assert!(seen.len() >= N, "rustls cached every full handshake");
            let before = heap().curr_bytes;
            let cache = ServerSessionMemoryCache::new(N);
            for (key, value) in &seen[seen.len() - N..] {
                cache.put(key.clone(), value.clone());
            }
            let theirs_per = (heap().curr_bytes - before) as f64 / N as f64;
            drop(cache);
            rows.push(Row {
                what: "server cache, per session (a full cache of 256)".into(),
                ours: ours_per,
                theirs: theirs_per,
                unit: "bytes",
            });
        }
    }

    println!("heap per connection and per session: ECDSA P-256, X25519, AES-128-GCM; {N} kept");
    println!(
        "{:<52} {:>10} {:>10} {:>8}",
        "", "tls12", "rustls", "/rustls"
    );
    for row in &rows {
        println!(
            "{:<52} {:>10.0} {:>10.0} {:>8.2}  {}",
            row.what,
            row.ours,
            row.theirs,
            row.ours / row.theirs,
            row.unit
        );
    }
    let client = &rows[0];
    let server = &rows[1];
    let met = client.ours <= client.theirs && server.ours <= server.theirs;
    println!();
    println!(
        "target: memory per connection <= rustls (full handshake, each side): {}",
        if met { "met" } else { "NOT met" }
    );
}
