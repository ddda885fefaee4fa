//! Benchmarks of tls12 (a shell for now).
//!
//! This crate will hold the criterion benches: the crypto hot path (PRF, transcript
//! hashing, record seal and open beside raw ring, ECDHE, signatures), in-memory handshakes
//! and bulk transfer side by side with rustls in the same criterion group, the crypto floor
//! of a full handshake, and a summary of the ratios. They land with the engine, which is
//! what they measure.
