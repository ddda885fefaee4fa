//! `tls12`: the command-line face of the tls12 workspace.
//!
//! Today it decodes captured TLS records (`tls12 decode`), the same parsers the fuzzers
//! exercise. The engine issue adds `server` and `client`; the model issue adds `check` and
//! `explore`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tls12::codec::Codec;
use tls12::codec::Reader;
use tls12::msgs::enums::ContentType;
use tls12::msgs::{
    AlertMessage, ChangeCipherSpec, HandshakeMessage, HandshakePayload, KeyExchange,
};
use tls12::record::{Deframer, HandshakeJoiner};

/// TLS 1.2 reference implementation and model-checked specification.
#[derive(Parser, Debug)]
#[command(name = "tls12", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode a file of raw TLS records (one direction of a connection, unencrypted part)
    /// and print each record and handshake message.
    ///
    /// Exits 0 when every byte decodes, 1 at the first fault (with the alert a TLS peer
    /// would send), 2 on bad usage.
    Decode {
        /// The file of raw records, e.g. crates/tls12/tests/data/server_flight_ecdsa.bin.
        file: PathBuf,
        /// Print every decoded message in full (Rust debug notation).
        #[arg(long)]
        verbose: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode { file, verbose } => {
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(err) => {
                    eprintln!("tls12: cannot read {}: {err}", file.display());
                    return ExitCode::from(2);
                }
            };
            match decode(&bytes, verbose) {
                Ok(()) => ExitCode::SUCCESS,
                Err(fault) => {
                    println!("error: {fault}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// Prints the records and messages in `bytes`; the error names the fault and its alert.
fn decode(bytes: &[u8], verbose: bool) -> Result<(), String> {
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
