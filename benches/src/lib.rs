//! Benchmarks of tls12 beside rustls 0.23 (ring provider, TLS 1.2 only) and beside the
//! ring operations they are built on.
//!
//! Everything measured is defined once here, as [`Contender`]s grouped into
//! [`Scenario`]s, and measured twice: by the criterion benches (`benches/handshake.rs`,
//! `benches/crypto.rs`; HTML report under `target/criterion/`) and by the `summary`
//! binary, a calibrated loop that interleaves the contenders of a scenario so that every
//! ratio it prints comes from one run on one machine state. The `memory` binary counts
//! heap bytes per connection and per cached session with dhat's global allocator.
//!
//! - [`fixture`]: certificates ([`tls12::pki::TestPki`]) and the matching configurations
//!   of both libraries: one suite, one group (X25519), session IDs and no tickets.
//! - [`ours`] and [`theirs`]: in-memory handshakes and bulk transfer, client and server
//!   in one thread, with each side's share timed apart ([`Stopwatch`]).
//! - [`floor`]: the public-key operations of a full handshake that no implementation can
//!   avoid, straight from ring.
//! - [`reference`]: ring-only references for the record layer, the PRF and the transcript.
//! - [`scenarios`]: the scenarios themselves; [`measure`]: the summary's sampler.

pub mod fixture;
pub mod floor;
pub mod measure;
pub mod ours;
pub mod reference;
pub mod scenarios;
pub mod theirs;

use std::time::{Duration, Instant};

pub use scenarios::{Contender, Role, Scenario, Unit};

/// The name both servers' certificates are for.
pub const SERVER_NAME: &str = "localhost";

/// The time our connections are told it is (rcgen's certificates are valid from 1975 to
/// 4096).
pub const NOW: tls12::crypto::UnixTime = tls12::crypto::UnixTime(1_800_000_000);

/// Sessions each server cache holds (rustls's default for `ServerSessionMemoryCache`).
pub const CACHE_SIZE: usize = 256;

/// Bytes moved per iteration of a bulk scenario.
pub const TRANSFER: usize = 1 << 20;

/// Bytes the application hands to the sender at a time in a bulk scenario.
pub const WRITE_SIZE: usize = 64 * 1024;

/// Times the client's and the server's work apart within one in-memory exchange.
pub trait Stopwatch {
    /// Runs `f` as the client's work.
    fn client<R>(&mut self, f: impl FnOnce() -> R) -> R;
    /// Runs `f` as the server's work.
    fn server<R>(&mut self, f: impl FnOnce() -> R) -> R;
}

/// The stopwatch that does not time: the whole exchange is measured from outside.
#[derive(Clone, Copy, Debug, Default)]
pub struct Whole;

impl Stopwatch for Whole {
    #[inline(always)]
    fn client<R>(&mut self, f: impl FnOnce() -> R) -> R {
        f()
    }

    #[inline(always)]
    fn server<R>(&mut self, f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// Adds up the time spent in each side's calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct Split {
    /// Time in the client's calls.
    pub client: Duration,
    /// Time in the server's calls.
    pub server: Duration,
}

impl Stopwatch for Split {
    #[inline(always)]
    fn client<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let out = f();
        self.client += start.elapsed();
        out
    }

    #[inline(always)]
    fn server<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let out = f();
        self.server += start.elapsed();
        out
    }
}
