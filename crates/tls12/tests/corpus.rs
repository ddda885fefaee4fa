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

#[test]
fn only_key_exchange_messages_read_differently_per_key_exchange() {
    // The message harness checks other messages in one context only: every seed, under
    // every handshake type byte, must decode alike in all of them.
    use tls12::msgs::{HandshakeMessage, KeyExchange};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/message");
    for entry in fs::read_dir(&dir).unwrap() {
        let mut data = fs::read(entry.unwrap().path()).unwrap();
        if data.is_empty() {
            continue;
        }
        for typ in 0..=255u8 {
            data[0] = typ;
            if tls12::fuzzing::contexts(&data).len() > 1 {
                continue;
            }
            let decoded = KeyExchange::ALL.map(|kx| HandshakeMessage::read_bytes(&data, kx));
            assert!(
                decoded.iter().all(|d| *d == decoded[0]),
                "type {typ}: {decoded:?}"
            );
        }
    }
}
