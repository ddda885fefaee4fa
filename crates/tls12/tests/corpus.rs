//! Replays every committed fuzz corpus file through the harness its fuzz target runs, so
//! `cargo test` on stable Rust re-checks each input the fuzzers were seeded with or found.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::fs;
use std::path::Path;

fn replay(target: &str, harness: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        harness(&fs::read(&path).unwrap());
        count += 1;
    }
    // The seeds from the OpenSSL captures are committed; an empty directory means the
    // replay silently tests nothing.
    assert!(count > 0, "no corpus files in {}", dir.display());
}

#[test]
fn message_corpus_replays() {
    replay("message", tls12::fuzzing::message);
}

#[test]
fn record_corpus_replays() {
    replay("record", tls12::fuzzing::record);
}

#[test]
fn server_corpus_replays() {
    replay("server", tls12::fuzzing::server);
}

#[test]
fn client_corpus_replays() {
    replay("client", tls12::fuzzing::client);
}
