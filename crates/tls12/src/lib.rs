//! tls12: a sans-IO TLS 1.2 handshake that is both a reference implementation and the
//! code a stateright model explores.
//!
//! The crate is built in floors; a lower floor never imports a higher one:
//!
//! 1. [`codec`]: the [`codec::Reader`], length-prefixed vectors and the [`codec::Codec`]
//!    trait. Decoding never panics, never trusts a length beyond the bytes present, and
//!    rejects trailing bytes.
//! 2. [`msgs`]: one type per wire message of RFC 5246 and the extension RFCs.
//! 3. [`record`]: record deframing and handshake-message reassembly.
//!
//! Later floors (crypto provider, key schedule, sessions, the state machines and the
//! sans-IO connections) build on these.

#![forbid(unsafe_code)]

pub mod codec;
pub mod conn;
pub mod crypto;
pub mod error;
pub mod fuzzing;
pub mod handshake;
pub mod keys;
pub mod msgs;
#[cfg(feature = "pki")]
pub mod pki;
pub mod record;
pub mod session;
pub mod suites;

pub use codec::InvalidMessage;
pub use conn::{ClientConnection, ServerConnection};
pub use error::Error;
