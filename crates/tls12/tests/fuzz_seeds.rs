//! The state-machine fuzz targets' seeds are the honest symbolic handshake, byte for
//! byte. This test checks that the committed seeds still are (the symbolic provider and
//! the state machines are deterministic), and that the honest flights drive each harness
//! through a whole handshake. `TLS12_WRITE_SEEDS=1 cargo test --test fuzz_seeds`
//! rewrites them after an intended change.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::path::PathBuf;

fn corpus(target: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
        .join(name)
}

#[test]
fn seeds_are_the_honest_symbolic_handshake() {
    let (client, server) = tls12::fuzzing::honest_flights();
    assert!(
        client.len() >= 2 && server.len() >= 2,
        "a full handshake has two flights each"
    );
    // One chunk (length byte 0) holding everything the peer said up to its Finished.
    let seeds = [
        (
            "server",
            "seed-honest-client-hello",
            [&[0u8][..], &client[0]].concat(),
        ),
        (
            "server",
            "seed-honest-client-flights",
            [&[0u8][..], &client[0], &client[1]].concat(),
        ),
        (
            "client",
            "seed-honest-server-flights",
            [&[0u8][..], &server[0], &server[1]].concat(),
        ),
    ];
    for (target, name, bytes) in seeds {
        let path = corpus(target, name);
        if std::env::var_os("TLS12_WRITE_SEEDS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{} is stale",
            path.display()
        );
    }
}
