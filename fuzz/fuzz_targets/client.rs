//! Bytes → a real client state machine on the symbolic provider; see `tls12::fuzzing::client`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tls12::fuzzing::client(data));
