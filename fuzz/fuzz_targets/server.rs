//! Bytes → a real server state machine on the symbolic provider; see `tls12::fuzzing::server`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tls12::fuzzing::server(data));
