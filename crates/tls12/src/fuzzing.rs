//! The fuzz harnesses, kept in the library so that the cargo-fuzz targets in `fuzz/` and
//! the corpus replay in `cargo test` (on stable Rust) run the very same checks. Each
//! function takes arbitrary bytes and panics only when an invariant is broken.

use crate::codec::{Codec, InvalidMessage};
use crate::msgs::enums::{AlertDescription, ContentType, HandshakeType};
use crate::msgs::header::RecordHeader;
use crate::msgs::{AlertMessage, ChangeCipherSpec, HandshakeMessage, KeyExchange};
use crate::record::{Deframer, HandshakeJoiner, RecordError, RecordInPlace};

/// Bytes → one handshake message, in each key-exchange context it can be read in.
/// Whatever decodes must re-encode to the same bytes (and so decodes again to an equal
/// value); whatever does not must name `decode_error` or `illegal_parameter`.
///
/// Only ServerKeyExchange and ClientKeyExchange read differently per key exchange; any
/// other message is checked once (`tests/corpus.rs` holds every seed to that).
pub fn message(data: &[u8]) {
    for &kx in contexts(data) {
        check_message(data, kx);
    }
}

/// The key-exchange contexts in which `data` can decode differently.
pub fn contexts(data: &[u8]) -> &'static [KeyExchange] {
    match data.first().map(|&typ| HandshakeType::from(typ)) {
        Some(HandshakeType::ServerKeyExchange | HandshakeType::ClientKeyExchange) => {
            &KeyExchange::ALL
        }
        _ => &KeyExchange::ALL[..1],
    }
}

fn check_message(data: &[u8], kx: KeyExchange) {
    match HandshakeMessage::read_bytes(data, kx) {
        Ok(msg) => {
            // Byte for byte: decoding is a function of the bytes, so the encoding then
            // also decodes to `msg`; decoding it a second time would prove nothing more.
            let mut encoded = Vec::with_capacity(data.len());
            msg.encode(&mut encoded);
            assert!(encoded == data, "{msg:?} does not re-encode to its input");
        }
        Err(err) => assert_alert(err),
    }
}

fn assert_alert(err: InvalidMessage) {
    let alert = err.alert();
    assert!(
        matches!(
            alert,
            AlertDescription::DecodeError | AlertDescription::IllegalParameter
        ),
        "{err} maps to {alert:?}"
    );
}

/// Bytes → records → handshake messages reassembled across records. Checks that
/// deframing does not depend on how the bytes were chunked, that each record re-encodes to
/// the bytes it came from, that the joiner neither loses nor invents a byte, and that each
/// reassembled message obeys [`message`]. Stops at the first ChangeCipherSpec, after which
/// a real stream is encrypted.
pub fn record(data: &[u8]) {
    // The records stay where the deframer cut them: no copy per record.
    let mut deframer = Deframer::new();
    deframer.push(data);
    let mut records = Vec::new();
    let error = loop {
        match deframer.pop_in_place() {
            Ok(Some(record)) => records.push(record),
            Ok(None) => break None,
            Err(err) => break Some(err),
        }
    };
    deframe_in_pieces(data, &deframer, &records, error);

    let mut reencoded = Vec::with_capacity(data.len());
    let mut joiner = HandshakeJoiner::new();
    let mut pushed = Vec::new();
    let mut popped = Vec::new();
    for record in &records {
        let payload = deframer.fragment(record);
        RecordHeader {
            typ: record.typ,
            version: record.version,
            len: payload.len() as u16,
        }
        .encode(&mut reencoded);
        reencoded.extend_from_slice(payload);
        match record.typ {
            ContentType::Handshake => {
                if joiner.push(payload).is_err() {
                    break;
                }
                pushed.extend_from_slice(payload);
                while let Some(msg) = joiner.pop() {
                    message(&msg);
                    popped.extend_from_slice(&msg);
                }
            }
            ContentType::ChangeCipherSpec => {
                if let Err(err) = ChangeCipherSpec::read_bytes(payload) {
                    assert_alert(err);
                }
                break;
            }
            ContentType::Alert => {
                if let Err(err) = AlertMessage::read_bytes(payload) {
                    assert_alert(err);
                }
            }
            _ => {}
        }
    }
    assert!(
        data.starts_with(&reencoded),
        "records do not re-encode to their bytes"
    );
    assert!(
        pushed.starts_with(&popped),
        "the joiner changed handshake bytes"
    );
    if joiner.is_empty() {
        assert_eq!(
            pushed.len(),
            popped.len(),
            "the joiner lost handshake bytes"
        );
    }
}

/// Deframes `data` again, pushed in pieces cut where a deframer's decisions change: inside
/// each record's header (after 1 and 3 bytes), right after it, and inside its body; the
/// same in what follows the last whole record. It must give the same `records`, then the
/// same `error`. (Cutting every 7 bytes, as this harness once did, explores the same cases
/// at a cost that grows with the input's length instead of its number of records.)
fn deframe_in_pieces(
    data: &[u8],
    whole: &Deframer,
    records: &[RecordInPlace],
    error: Option<RecordError>,
) {
    let mut cuts = Vec::with_capacity(4 * records.len() + 4);
    let mut at = 0;
    let mut cut_record = |at: usize, body: usize| {
        cuts.extend([
            at + 1,
            at + 3,
            at + RecordHeader::LEN,
            at + RecordHeader::LEN + body / 2,
        ]);
    };
    for record in records {
        let len = record.fragment.len();
        cut_record(at, len);
        at += RecordHeader::LEN + len;
    }
    cut_record(at, data.len().saturating_sub(at + RecordHeader::LEN));
    cuts.push(data.len());

    let mut deframer = Deframer::new();
    let mut expected = records.iter();
    let mut from = 0;
    for cut in cuts {
        let cut = cut.clamp(from, data.len());
        deframer.push(&data[from..cut]);
        from = cut;
        loop {
            match deframer.pop_in_place() {
                Ok(Some(got)) => {
                    let want = expected.next();
                    assert!(
                        want.is_some_and(|w| w.typ == got.typ
                            && w.version == got.version
                            && whole.fragment(w) == deframer.fragment(&got)),
                        "deframing depends on chunking: {got:?} instead of {want:?}"
                    );
                }
                Ok(None) => break,
                Err(err) => {
                    assert_eq!(
                        (expected.next(), Some(err)),
                        (None, error),
                        "deframing depends on chunking"
                    );
                    return;
                }
            }
        }
    }
    assert_eq!(
        (expected.next(), error),
        (None, None),
        "deframing depends on chunking"
    );
}

/// Bytes → the records a client sends → a real [`crate::ServerConnection`] on the
/// symbolic provider, fed in chunks the input chooses. The server must never panic; when
/// it fails, its fatal alert must be the last thing it sent, and it must stay failed.
#[cfg(feature = "symbolic")]
pub fn server(data: &[u8]) {
    use crate::crypto::symbolic::{SymbolicPki, SymbolicProvider};
    use crate::handshake::server::ServerConfig;
    use crate::handshake::ClientAuth;
    use crate::session::InMemoryCache;

    let pki = SymbolicPki::new("fuzz.example");
    let mut config = ServerConfig::new(pki.server_chain.clone(), pki.server_key.clone());
    config.client_auth = ClientAuth::Optional;
    config.client_roots = Some(pki.roots.clone());
    let mut server =
        crate::ServerConnection::new(std::sync::Arc::new(config), SymbolicProvider::new(7));
    let mut cache = InMemoryCache::new(4, 3600);
    for chunk in chunks(data) {
        let result = server.receive(chunk, crate::crypto::UnixTime(0), &mut cache);
        let failed = result.is_err();
        check_failure(result, server.take_output(), || {
            server.receive(
                &[22, 3, 3, 0, 4, 14, 0, 0, 0],
                crate::crypto::UnixTime(0),
                &mut cache,
            )
        });
        if failed {
            return;
        }
    }
}

/// Bytes → the records a server sends → a real [`crate::ClientConnection`] on the
/// symbolic provider, after its ClientHello. Same invariants as [`server`].
#[cfg(feature = "symbolic")]
pub fn client(data: &[u8]) {
    use crate::crypto::symbolic::{SymbolicPki, SymbolicProvider};
    use crate::handshake::client::ClientConfig;

    let pki = SymbolicPki::new("fuzz.example");
    let config = std::sync::Arc::new(ClientConfig::new(pki.roots.clone()));
    let now = crate::crypto::UnixTime(0);
    let Ok(mut client) = crate::ClientConnection::new(
        config,
        SymbolicProvider::new(8),
        Some("fuzz.example".into()),
        None,
        now,
    ) else {
        panic!("a fresh client must start");
    };
    client.take_output();
    for chunk in chunks(data) {
        let result = client.receive(chunk, now);
        let failed = result.is_err();
        check_failure(result, client.take_output(), || {
            client.receive(&[21, 3, 3, 0, 2, 1, 0], now)
        });
        if failed {
            return;
        }
    }
}

/// The input cut where it says: each chunk is preceded by a one-byte length (0 = the
/// rest), so the fuzzer controls how records straddle reads.
#[cfg(feature = "symbolic")]
fn chunks(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let len = match len {
            0 => rest.len(),
            n => (n as usize).min(rest.len()),
        };
        let (chunk, rest) = rest.split_at(len);
        out.push(chunk);
        data = rest;
    }
    out
}

#[cfg(feature = "symbolic")]
fn check_failure(
    result: Result<(), crate::Error>,
    output: Vec<u8>,
    again: impl FnOnce() -> Result<(), crate::Error>,
) {
    let Err(err) = result else { return };
    if let Some(alert) = err.alert_sent() {
        let mut deframer = Deframer::new();
        deframer.push(&output);
        let last = std::iter::from_fn(|| deframer.pop().ok().flatten()).last();
        let last = last.unwrap_or_else(|| panic!("{err}: no record sent"));
        assert_eq!(
            last.typ,
            ContentType::Alert,
            "{err}: the last record is not the alert"
        );
        // A plaintext alert can be read back; a protected one has its type only.
        if last.payload.len() == 2 {
            assert_eq!(last.payload, [2, alert.get()], "{err}: wrong alert sent");
        }
    }
    assert_eq!(
        again(),
        Err(err.clone()),
        "a failed connection must stay failed"
    );
}

/// The honest symbolic handshake between the [`client`] and [`server`] harnesses' own
/// endpoints: `(client flights, server flights)`, each the bytes one side wrote per turn.
/// Being deterministic, these make seed inputs that get past Finished.
#[cfg(feature = "symbolic")]
pub fn honest_flights() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    use crate::crypto::symbolic::{SymbolicPki, SymbolicProvider};
    use crate::handshake::client::ClientConfig;
    use crate::handshake::server::ServerConfig;
    use crate::handshake::ClientAuth;
    use crate::session::InMemoryCache;
    use std::sync::Arc;

    let pki = SymbolicPki::new("fuzz.example");
    let mut server_config = ServerConfig::new(pki.server_chain.clone(), pki.server_key.clone());
    server_config.client_auth = ClientAuth::Optional;
    server_config.client_roots = Some(pki.roots.clone());
    let mut server =
        crate::ServerConnection::new(Arc::new(server_config), SymbolicProvider::new(7));
    let now = crate::crypto::UnixTime(0);
    let client_config = Arc::new(ClientConfig::new(pki.roots.clone()));
    let Ok(mut client) = crate::ClientConnection::new(
        client_config,
        SymbolicProvider::new(8),
        Some("fuzz.example".into()),
        None,
        now,
    ) else {
        panic!("a fresh client must start");
    };
    let mut cache = InMemoryCache::new(4, 3600);
    let (mut from_client, mut from_server) = (Vec::new(), Vec::new());
    let mut to_server = client.take_output();
    while !to_server.is_empty() {
        from_client.push(to_server.clone());
        let _ = server.receive(&to_server, now, &mut cache);
        let to_client = server.take_output();
        if to_client.is_empty() {
            break;
        }
        from_server.push(to_client.clone());
        let _ = client.receive(&to_client, now);
        to_server = client.take_output();
    }
    (from_client, from_server)
}
