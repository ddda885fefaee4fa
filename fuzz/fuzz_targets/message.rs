//! Bytes → one handshake message in each key-exchange context; see `tls12::fuzzing::message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tls12::fuzzing::message(data));
