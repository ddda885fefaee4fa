#!/usr/bin/env python3
"""Writes the committed seed corpora from the OpenSSL captures in crates/tls12/tests/data.

record/seed-NAME: each capture as it came off the wire.
message/seed-NAME-N: each handshake message in it, header included.

Run from the repository root: python3 fuzz/make_seeds.py
"""

from pathlib import Path

DATA = Path("crates/tls12/tests/data")
CORPUS = Path("fuzz/corpus")


def handshake_messages(stream: bytes):
    """Yields the handshake messages of a stream of plaintext handshake records."""
    payload = b""
    while stream:
        length = int.from_bytes(stream[3:5], "big")
        assert stream[0] == 22, "only handshake records are captured"
        payload += stream[5 : 5 + length]
        stream = stream[5 + length :]
    while payload:
        length = 4 + int.from_bytes(payload[1:4], "big")
        yield payload[:length]
        payload = payload[length:]


for target in ("record", "message"):
    (CORPUS / target).mkdir(parents=True, exist_ok=True)
for capture in sorted(DATA.glob("*.bin")):
    stream = capture.read_bytes()
    (CORPUS / "record" / f"seed-{capture.stem}").write_bytes(stream)
    for n, msg in enumerate(handshake_messages(stream)):
        (CORPUS / "message" / f"seed-{capture.stem}-{n}").write_bytes(msg)
