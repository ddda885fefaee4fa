//! tls12: a sans-IO TLS 1.2 handshake that is both a reference implementation and the
//! code a stateright model explores.
//!
//! The crate is built in floors; a lower floor never imports a higher one:
//!
//! 1. [`codec`]: the [`codec::Reader`], length-prefixed vectors and the [`codec::Codec`]
//!    trait. Decoding never panics, never trusts a length beyond the bytes present, and
//!    rejects trailing bytes.
//! 2. [`msgs`]: one type per wire message of RFC 5246 and the extension RFCs.
//! 3. [`crypto`]: the [`crypto::Provider`] trait and the ring provider. Every secret and
//!    every random byte passes through it.
//! 4. [`keys`]: the PRF, (extended) master secret, key block and verify_data.
//! 5. [`record`]: deframing, handshake reassembly, AEAD protection, the record layer.
//! 6. [`session`]: sessions, the server's bounded cache, the client's store.
//! 7. [`handshake`]: the client and server state machines, with [`suites`].
//! 8. [`conn`]: the sans-IO [`ClientConnection`] and [`ServerConnection`]; [`stream`], a
//!    blocking adapter over `Read + Write`.
//!
//! No state machine names a crypto library, reads a clock or draws randomness itself: a
//! symbolic provider can drive the very same code through a model checker.

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
pub mod psk;
pub mod record;
pub mod session;
pub mod stream;
pub mod suites;

pub use codec::InvalidMessage;
pub use conn::{ClientConnection, ServerConnection};
pub use error::Error;
