//! The model-checked specification of tls12 (a shell for now).
//!
//! This crate will hold a stateright model that drives the real `ClientConnection` and
//! `ServerConnection` of the `tls12` crate, with its symbolic crypto provider, through
//! every interleaving of several clients, a server with a bounded session cache, fatal
//! ignores and a network attacker with a small budget, and checks the protocol's
//! invariants (agreement, no application data before Finished, resumption only from a
//! cached and compatible session, the coarse phase table). It lands with the engine: the
//! model has nothing to drive until the state machines exist, and it must never hold a
//! second copy of the protocol logic.
