//! `tls12 decode`: prints the records and handshake messages of a capture, with the
//! parsers the fuzzers exercise.

use tls12::codec::Codec;
use tls12::codec::Reader;
use tls12::msgs::enums::ContentType;
use tls12::msgs::{
    AlertMessage, ChangeCipherSpec, HandshakeMessage, HandshakePayload, KeyExchange,
};
use tls12::record::{Deframer, HandshakeJoiner};

/// Prints the records and messages in `bytes`; the error names the fault and its alert.
pub fn decode(bytes: &[u8], verbose: bool) -> Result<(), String> {
    let mut deframer = Deframer::new();
    let mut joiner = HandshakeJoiner::new();
    // ServerKeyExchange and ClientKeyExchange are read in the context of the suite a
    // ServerHello chose; a lone client flight has only ECDHE to go on.
    let mut kx = KeyExchange::Ecdhe;
    deframer.push(bytes);
    while let Some(record) = deframer
        .pop()
        .map_err(|e| format!("{e} (alert {:?})", e.alert()))?
    {
        println!(
            "record {:?} {:?} {} bytes",
            record.typ,
            record.version,
            record.payload.len()
        );
        match record.typ {
            ContentType::Handshake => {
                joiner
                    .push(&record.payload)
                    .map_err(|e| format!("{e} (alert {:?})", e.alert()))?;
                while let Some(raw) = joiner.pop() {
                    let msg = HandshakeMessage::read_bytes(&raw, kx)
                        .map_err(|e| format!("{e} (alert {:?})", e.alert()))?;
                    if let HandshakePayload::ServerHello(sh) = &msg.payload {
                        kx = KeyExchange::of_suite(sh.cipher_suite).unwrap_or(kx);
                    }
                    match verbose {
                        true => println!("  {:#?}", msg.payload),
                        false => println!("  {:?} ({} bytes)", msg.typ(), raw.len()),
                    }
                }
            }
            ContentType::ChangeCipherSpec => {
                ChangeCipherSpec::read(&mut Reader::new(&record.payload))
                    .map_err(|e| format!("{e} (alert {:?})", e.alert()))?;
                println!("  ChangeCipherSpec: the rest is encrypted");
                return Ok(());
            }
            ContentType::Alert => {
                let alert = AlertMessage::read_bytes(&record.payload)
                    .map_err(|e| format!("{e} (alert {:?})", e.alert()))?;
                println!("  {:?} {:?}", alert.level, alert.description);
            }
            _ => println!("  {} bytes of application data", record.payload.len()),
        }
    }
    match (deframer.buffered(), joiner.is_empty()) {
        (0, true) => Ok(()),
        (0, false) => Err("the input ends inside a handshake message".into()),
        (left, _) => Err(format!(
            "the input ends inside a record ({left} bytes left)"
        )),
    }
}
