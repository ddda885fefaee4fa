//! The fuzz harnesses, kept in the library so that the cargo-fuzz targets in `fuzz/` and
//! the corpus replay in `cargo test` (on stable Rust) run the very same checks. Each
//! function takes arbitrary bytes and panics only when an invariant is broken.

use crate::codec::{Codec, InvalidMessage};
use crate::msgs::enums::{AlertDescription, ContentType};
use crate::msgs::{AlertMessage, ChangeCipherSpec, HandshakeMessage, KeyExchange};
use crate::record::{Deframer, HandshakeJoiner, OpaqueRecord, RecordError};

/// Bytes → one handshake message, in each key-exchange context. Whatever decodes must
/// re-encode to the same bytes and decode again to an equal value; whatever does not must
/// name `decode_error` or `illegal_parameter`.
pub fn message(data: &[u8]) {
    for kx in KeyExchange::ALL {
        check_message(data, kx);
    }
}

fn check_message(data: &[u8], kx: KeyExchange) {
    match HandshakeMessage::read_bytes(data, kx) {
        Ok(msg) => {
            let encoded = msg.get_encoding();
            assert_eq!(encoded, data, "{msg:?} does not re-encode to its input");
            let again = HandshakeMessage::read_bytes(&encoded, kx);
            assert_eq!(
                again.as_ref(),
                Ok(&msg),
                "re-encoding of {msg:?} decodes differently"
            );
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
    let whole = deframe(data, data.len().max(1));
    let chunked = deframe(data, 7);
    assert_eq!(whole, chunked, "deframing depends on chunking");

    let (records, _) = whole;
    let mut reencoded = Vec::new();
    let mut joiner = HandshakeJoiner::new();
    let mut pushed = Vec::new();
    let mut popped = Vec::new();
    for record in &records {
        record.encode(&mut reencoded);
        match record.typ {
            ContentType::Handshake => {
                if joiner.push(&record.payload).is_err() {
                    break;
                }
                pushed.extend_from_slice(&record.payload);
                while let Some(msg) = joiner.pop() {
                    message(&msg);
                    popped.extend_from_slice(&msg);
                }
            }
            ContentType::ChangeCipherSpec => {
                if let Err(err) = ChangeCipherSpec::read_bytes(&record.payload) {
                    assert_alert(err);
                }
                break;
            }
            ContentType::Alert => {
                if let Err(err) = AlertMessage::read_bytes(&record.payload) {
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

/// All records in `data`, pushed `chunk` bytes at a time, and the error that ended them.
fn deframe(data: &[u8], chunk: usize) -> (Vec<OpaqueRecord>, Option<RecordError>) {
    let mut deframer = Deframer::new();
    let mut records = Vec::new();
    for piece in data.chunks(chunk) {
        deframer.push(piece);
        loop {
            match deframer.pop() {
                Ok(Some(record)) => records.push(record),
                Ok(None) => break,
                Err(err) => return (records, Some(err)),
            }
        }
    }
    (records, None)
}
