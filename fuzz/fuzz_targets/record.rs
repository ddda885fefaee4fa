//! Bytes → records → reassembled handshake messages; see `tls12::fuzzing::record`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tls12::fuzzing::record(data));
