#!/usr/bin/env python3
"""Regenerate the TLS 1.2 handshake test vectors in this directory.

Run from the repository root:

    python3 crates/tls12/tests/data/capture.py

Requirements: Python 3.11 standard library and the `openssl` binary
(OpenSSL 3.0.x) on PATH.  Nothing here needs network access beyond
127.0.0.1.

What it does
------------
1. Makes throwaway keys/certificates (ECDSA P-256 and RSA-2048) with
   `openssl req -x509` inside a temporary directory.  Keys never touch the
   repository.
2. Captures, byte for byte as they appeared on the wire:
   a. client_hello_tls12.bin   -- `openssl s_client -tls1_2 ...` first flight
   b. client_hello_default.bin -- `openssl s_client ...` (TLS 1.3 capable)
   c. server_flight_ecdsa.bin  -- `openssl s_server -tls1_2` (ECDSA cert,
      ECDHE-ECDSA-AES128-GCM-SHA256) answering capture (a), up to and
      including ServerHelloDone
   d. server_flight_rsa_client_auth.bin -- same with an RSA cert,
      ECDHE-RSA-AES256-GCM-SHA384 and `-Verify 1 -CAfile`, so the flight
      includes a CertificateRequest with one distinguished name.
3. For every NAME.bin writes NAME.txt: the command lines used and a
   field-by-field description parsed from the captured bytes (never guessed).

Randoms, keys, certificates and signatures differ on every run; the
message structure does not.  Everything is written to a temp directory first
and only moved into place once all captures succeeded.

Every socket operation and every wait has a timeout, free ports are chosen
at run time (bind to port 0) and every openssl child is killed on exit.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"
TIMEOUT = 5.0  # seconds; upper bound for every individual wait
OUT_DIR = Path(__file__).resolve().parent
SNI = "example.com"

# --------------------------------------------------------------------------
# Name tables (only used to make the .txt files readable)
# --------------------------------------------------------------------------

CONTENT_TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}

HANDSHAKE_TYPES = {
    0: "hello_request", 1: "client_hello", 2: "server_hello", 4: "new_session_ticket",
    8: "encrypted_extensions", 11: "certificate", 12: "server_key_exchange",
    13: "certificate_request", 14: "server_hello_done", 15: "certificate_verify",
    16: "client_key_exchange", 20: "finished",
}

EXTENSION_TYPES = {
    0: "server_name", 1: "max_fragment_length", 5: "status_request", 10: "supported_groups",
    11: "ec_point_formats", 13: "signature_algorithms", 15: "heartbeat",
    16: "application_layer_protocol_negotiation", 18: "signed_certificate_timestamp",
    21: "padding", 22: "encrypt_then_mac", 23: "extended_master_secret",
    35: "session_ticket", 41: "pre_shared_key", 42: "early_data", 43: "supported_versions",
    44: "cookie", 45: "psk_key_exchange_modes", 47: "certificate_authorities",
    49: "post_handshake_auth", 50: "signature_algorithms_cert", 51: "key_share",
    0xFF01: "renegotiation_info",
}

NAMED_GROUPS = {
    0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1", 0x001D: "x25519",
    0x001E: "x448", 0x0100: "ffdhe2048", 0x0101: "ffdhe3072", 0x0102: "ffdhe4096",
    0x0103: "ffdhe6144", 0x0104: "ffdhe8192",
}

SIGNATURE_SCHEMES = {
    0x0201: "rsa_pkcs1_sha1", 0x0202: "dsa_sha1", 0x0203: "ecdsa_sha1",
    0x0302: "dsa_sha224", 0x0402: "dsa_sha256", 0x0502: "dsa_sha384", 0x0602: "dsa_sha512", 0x0301: "sha224_rsa", 0x0303: "sha224_ecdsa",
    0x0401: "rsa_pkcs1_sha256", 0x0403: "ecdsa_secp256r1_sha256",
    0x0501: "rsa_pkcs1_sha384", 0x0503: "ecdsa_secp384r1_sha384",
    0x0601: "rsa_pkcs1_sha512", 0x0603: "ecdsa_secp521r1_sha512",
    0x0804: "rsa_pss_rsae_sha256", 0x0805: "rsa_pss_rsae_sha384", 0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519", 0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256", 0x080A: "rsa_pss_pss_sha384", 0x080B: "rsa_pss_pss_sha512",
    0x081A: "ecdsa_brainpoolP256r1tls13_sha256", 0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
    0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
}

CERT_TYPES = {1: "rsa_sign", 2: "dss_sign", 3: "rsa_fixed_dh", 4: "dss_fixed_dh", 64: "ecdsa_sign"}

SUITE_ECDHE_ECDSA_AES128_GCM_SHA256 = 0xC02B
SUITE_ECDHE_RSA_AES256_GCM_SHA384 = 0xC030

# --------------------------------------------------------------------------
# Process handling
# --------------------------------------------------------------------------

_children: list[subprocess.Popen] = []


def spawn(args: list[str], log: Path) -> subprocess.Popen:
    """Start an openssl child.  stdin stays open (s_client/s_server would
    otherwise react to EOF); stdout+stderr go to a log file so no pipe can
    fill up and block the child."""
    logf = open(log, "wb")
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=logf, stderr=subprocess.STDOUT)
    logf.close()  # the child holds its own copy of the descriptor
    _children.append(proc)
    return proc


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pass
    if proc.stdin:
        try:
            proc.stdin.close()
        except OSError:
            pass


def kill_all() -> None:
    while _children:
        kill(_children.pop())


def run(args: list[str], cwd: Path) -> None:
    """Run a short openssl command (key/cert generation) with a timeout."""
    res = subprocess.run(args, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=30)
    if res.returncode != 0:
        sys.exit(f"command failed: {' '.join(args)}\n{res.stderr.decode(errors='replace')}")


def free_port() -> int:
    """Ask the kernel for a free loopback port (bind port 0).  Used only for
    s_server, which has to bind itself; a lost race is retried by the caller."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# Wire reading helpers
# --------------------------------------------------------------------------

def recv_exact(sock: socket.socket, n: int, deadline: float) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out after {len(buf)}/{n} bytes")
        sock.settimeout(remaining)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"peer closed after {len(buf)}/{n} bytes")
        buf += chunk
    return bytes(buf)


def read_handshake_records(sock: socket.socket, done, deadline: float) -> bytes:
    """Read whole TLS records (5-byte header + body) until `done(messages)`
    is true, where `messages` is the list of complete (type, body) handshake
    messages reassembled so far.  Returns the raw record bytes read, which
    always end at a record boundary."""
    raw = bytearray()
    hs = bytearray()
    while True:
        header = recv_exact(sock, 5, deadline)
        ctype, length = header[0], int.from_bytes(header[3:5], "big")
        body = recv_exact(sock, length, deadline)
        raw += header + body
        if ctype != 22:
            raise ValueError(f"unexpected record type {ctype}: {(header + body).hex()}")
        hs += body
        msgs, _rest = split_handshake(bytes(hs))
        if done(msgs):
            return bytes(raw)


# --------------------------------------------------------------------------
# Parsing (used for checks and for the .txt descriptions)
# --------------------------------------------------------------------------

class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError(f"truncated: need {n} bytes at {self.pos}, have {len(self.data)}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u24(self) -> int:
        return int.from_bytes(self.take(3), "big")

    def vec8(self) -> bytes:
        return self.take(self.u8())

    def vec16(self) -> bytes:
        return self.take(self.u16())

    def vec24(self) -> bytes:
        return self.take(self.u24())

    def empty(self) -> bool:
        return self.pos == len(self.data)

    def expect_end(self) -> None:
        if not self.empty():
            raise ValueError(f"{len(self.data) - self.pos} trailing bytes")


def split_records(raw: bytes) -> list[tuple[int, int, bytes]]:
    """-> [(content_type, legacy_version, fragment)]"""
    r, out = Reader(raw), []
    while not r.empty():
        ctype, version = r.u8(), r.u16()
        out.append((ctype, version, r.vec16()))
    return out


def split_handshake(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """-> ([(msg_type, body)], incomplete_tail)"""
    msgs, pos = [], 0
    while len(data) - pos >= 4:
        mtype, length = data[pos], int.from_bytes(data[pos + 1:pos + 4], "big")
        if len(data) - pos - 4 < length:
            break
        msgs.append((mtype, data[pos + 4:pos + 4 + length]))
        pos += 4 + length
    return msgs, data[pos:]


def parse_extensions(block: bytes) -> list[tuple[int, bytes]]:
    r, out = Reader(block), []
    while not r.empty():
        out.append((r.u16(), r.vec16()))
    return out


def parse_client_hello(body: bytes) -> dict:
    r = Reader(body)
    ch = {"client_version": r.u16(), "random": r.take(32), "session_id": r.vec8()}
    suites = Reader(r.vec16())
    ch["cipher_suites"] = []
    while not suites.empty():
        ch["cipher_suites"].append(suites.u16())
    ch["compression_methods"] = list(r.vec8())
    ch["extensions"] = parse_extensions(r.vec16()) if not r.empty() else []
    r.expect_end()
    return ch


def parse_server_hello(body: bytes) -> dict:
    r = Reader(body)
    sh = {"server_version": r.u16(), "random": r.take(32), "session_id": r.vec8(),
          "cipher_suite": r.u16(), "compression_method": r.u8()}
    sh["extensions"] = parse_extensions(r.vec16()) if not r.empty() else []
    r.expect_end()
    return sh


def parse_certificate(body: bytes) -> list[bytes]:
    r = Reader(body)
    lst = Reader(r.vec24())
    r.expect_end()
    certs = []
    while not lst.empty():
        certs.append(lst.vec24())
    return certs


def parse_server_key_exchange_ecdhe(body: bytes) -> dict:
    r = Reader(body)
    ske = {"curve_type": r.u8(), "named_group": r.u16(), "point": r.vec8(),
           "signature_scheme": r.u16(), "signature": r.vec16()}
    r.expect_end()
    return ske


def parse_certificate_request(body: bytes) -> dict:
    r = Reader(body)
    cr = {"certificate_types": list(r.vec8())}
    algs = Reader(r.vec16())
    cr["signature_schemes"] = []
    while not algs.empty():
        cr["signature_schemes"].append(algs.u16())
    dns = Reader(r.vec16())
    cr["distinguished_names"] = []
    while not dns.empty():
        cr["distinguished_names"].append(dns.vec16())
    r.expect_end()
    return cr


def u16_list_values(data: bytes) -> list[int]:
    r = Reader(data)
    return [r.u16() for _ in range(len(data) // 2)]


def hex16(v: int) -> str:
    return f"0x{v:04x}"


def name(table: dict, v: int) -> str:
    return table.get(v, "unknown")


# --------------------------------------------------------------------------
# .txt rendering
# --------------------------------------------------------------------------

def describe_extensions(lines: list[str], exts: list[tuple[int, bytes]], indent: str) -> None:
    lines.append(f"{indent}extension_count: {len(exts)}")
    lines.append(f"{indent}extension_types: {', '.join(str(t) for t, _ in exts)}")
    lines.append(f"{indent}extensions (type name data_length):")
    for t, d in exts:
        lines.append(f"{indent}  {t} ({hex16(t)}) {name(EXTENSION_TYPES, t)} {len(d)}")


def describe_client_hello_exts(lines: list[str], exts: list[tuple[int, bytes]]) -> None:
    """A few extension bodies that tests may want to look at."""
    for t, d in exts:
        r = Reader(d)
        if t == 0:  # server_name
            lst = Reader(r.vec16())
            names = []
            while not lst.empty():
                kind = lst.u8()
                names.append(f"type={kind} {lst.vec16().decode()}")
            lines.append(f"  server_name: {'; '.join(names)}")
        elif t == 10:  # supported_groups
            groups = u16_list_values(r.vec16())
            lines.append("  supported_groups: " + " ".join(hex16(g) for g in groups)
                         + "  (" + ", ".join(name(NAMED_GROUPS, g) for g in groups) + ")")
        elif t == 11:  # ec_point_formats
            lines.append(f"  ec_point_formats: {' '.join(f'{p:02x}' for p in r.vec8())}")
        elif t == 13:  # signature_algorithms
            algs = u16_list_values(r.vec16())
            lines.append("  signature_algorithms: " + " ".join(hex16(a) for a in algs))
        elif t == 43:  # supported_versions (ClientHello form)
            lines.append("  supported_versions: "
                         + " ".join(hex16(v) for v in u16_list_values(r.vec8())))
        elif t == 51:  # key_share (ClientHello form)
            shares = Reader(r.vec16())
            parts = []
            while not shares.empty():
                g = shares.u16()
                parts.append(f"{hex16(g)} ({name(NAMED_GROUPS, g)}) key_length={len(shares.vec16())}")
            lines.append(f"  key_share: {'; '.join(parts)}")
        elif t == 45:  # psk_key_exchange_modes
            lines.append(f"  psk_key_exchange_modes: {' '.join(f'{m:02x}' for m in r.vec8())}")


def describe(title: str, commands: list[str], raw: bytes) -> str:
    lines = [f"# {title}", "#", "# Generated by capture.py from the bytes in the .bin file of the same",
             "# name; do not edit by hand. PORT is chosen at run time. Randoms, keys,",
             "# certificates and signatures change on every regeneration.", ""]
    lines.append("commands:")
    lines += [f"  {c}" for c in commands]
    lines.append("")
    lines.append(f"total_bytes: {len(raw)}")
    records = split_records(raw)
    lines.append(f"record_count: {len(records)}")
    lines.append("records (content_type version length):")
    hs = bytearray()
    for ctype, ver, frag in records:
        lines.append(f"  {ctype} ({name(CONTENT_TYPES, ctype)}) {hex16(ver)} {len(frag)}")
        if ctype == 22:
            hs += frag
    msgs, tail = split_handshake(bytes(hs))
    if tail:
        raise ValueError(f"incomplete handshake message at end: {tail.hex()}")
    lines.append("")
    lines.append(f"handshake_message_count: {len(msgs)}")
    lines.append("handshake_messages (type name body_length):")
    for mtype, body in msgs:
        lines.append(f"  {mtype} {name(HANDSHAKE_TYPES, mtype)} {len(body)}")

    for mtype, body in msgs:
        lines.append("")
        if mtype == 1:
            ch = parse_client_hello(body)
            lines.append("client_hello:")
            lines.append(f"  client_version: {hex16(ch['client_version'])}")
            lines.append(f"  session_id_length: {len(ch['session_id'])}")
            lines.append(f"  cipher_suite_count: {len(ch['cipher_suites'])}")
            lines.append("  cipher_suites: " + " ".join(hex16(s) for s in ch["cipher_suites"]))
            lines.append("  compression_methods: "
                         + " ".join(f"{m:02x}" for m in ch["compression_methods"]))
            describe_extensions(lines, ch["extensions"], "  ")
            describe_client_hello_exts(lines, ch["extensions"])
        elif mtype == 2:
            sh = parse_server_hello(body)
            lines.append("server_hello:")
            lines.append(f"  server_version: {hex16(sh['server_version'])}")
            lines.append(f"  session_id_length: {len(sh['session_id'])}")
            lines.append(f"  cipher_suite: {hex16(sh['cipher_suite'])}")
            lines.append(f"  compression_method: {sh['compression_method']:02x}")
            describe_extensions(lines, sh["extensions"], "  ")
            for t, d in sh["extensions"]:
                if t == 11:
                    lines.append(f"  ec_point_formats: {' '.join(f'{p:02x}' for p in Reader(d).vec8())}")
                elif t == 0xFF01:
                    lines.append(f"  renegotiation_info: {d.hex() or '(empty)'}")
        elif mtype == 11:
            certs = parse_certificate(body)
            lines.append("certificate:")
            lines.append(f"  certificate_count: {len(certs)}")
            lines.append("  certificate_lengths: " + " ".join(str(len(c)) for c in certs))
        elif mtype == 12:
            ske = parse_server_key_exchange_ecdhe(body)
            lines.append("server_key_exchange:")
            lines.append(f"  curve_type: {ske['curve_type']}" + (" (named_curve)" if ske["curve_type"] == 3 else ""))
            lines.append(f"  named_group: {hex16(ske['named_group'])} ({name(NAMED_GROUPS, ske['named_group'])})")
            lines.append(f"  point_length: {len(ske['point'])}")
            lines.append(f"  signature_scheme: {hex16(ske['signature_scheme'])} ({name(SIGNATURE_SCHEMES, ske['signature_scheme'])})")
            lines.append(f"  signature_length: {len(ske['signature'])}")
        elif mtype == 13:
            cr = parse_certificate_request(body)
            lines.append("certificate_request:")
            lines.append("  certificate_types: " + " ".join(str(t) for t in cr["certificate_types"])
                         + "  (" + ", ".join(name(CERT_TYPES, t) for t in cr["certificate_types"]) + ")")
            lines.append(f"  signature_scheme_count: {len(cr['signature_schemes'])}")
            lines.append("  signature_schemes: " + " ".join(hex16(s) for s in cr["signature_schemes"]))
            lines.append(f"  distinguished_name_count: {len(cr['distinguished_names'])}")
            lines.append("  distinguished_name_lengths: "
                         + " ".join(str(len(d)) for d in cr["distinguished_names"]))
        elif mtype == 14:
            lines.append("server_hello_done:")
            lines.append(f"  body_length: {len(body)}")
        else:
            lines.pop()  # nothing to say about other types
    return "\n".join(lines) + "\n"


def handshake_types(raw: bytes) -> list[int]:
    hs = b"".join(f for t, _, f in split_records(raw) if t == 22)
    msgs, tail = split_handshake(hs)
    assert not tail
    return [t for t, _ in msgs]


# --------------------------------------------------------------------------
# Captures
# --------------------------------------------------------------------------

def capture_client_hello(extra_args: list[str], work: Path, tag: str) -> tuple[bytes, str]:
    """Listen on an ephemeral loopback port, point s_client at it and read
    exactly the records carrying the first complete handshake message."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as lsock:
        lsock.bind((HOST, 0))
        lsock.listen(1)
        lsock.settimeout(TIMEOUT)
        port = lsock.getsockname()[1]
        args = ["openssl", "s_client", *extra_args, "-connect", f"{HOST}:{port}",
                "-servername", SNI]
        proc = spawn(args, work / f"{tag}.log")
        try:
            conn, _ = lsock.accept()
            with conn:
                raw = read_handshake_records(conn, lambda msgs: len(msgs) >= 1,
                                             time.monotonic() + TIMEOUT)
        except Exception:
            print((work / f"{tag}.log").read_text(errors="replace"), file=sys.stderr)
            raise
        finally:
            kill(proc)
    cmd = " ".join(args).replace(f":{port}", ":PORT")
    return raw, cmd


def start_s_server(server_args: list[str], work: Path, tag: str) -> tuple[subprocess.Popen, int, list[str]]:
    """Start s_server on a free port and wait (bounded) until it prints
    ACCEPT.  Probing with a connect would eat the single -naccept slot, so
    the log is polled instead.  A lost port race is retried."""
    log = work / f"{tag}.log"
    for _attempt in range(3):
        port = free_port()
        args = ["openssl", "s_server", *server_args, "-accept", f"{HOST}:{port}", "-naccept", "1"]
        proc = spawn(args, log)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if b"ACCEPT" in log.read_bytes():
                return proc, port, args
            if proc.poll() is not None:
                break  # died, e.g. port taken in the meantime; retry
            time.sleep(0.02)
        kill(proc)
    sys.exit(f"s_server did not start:\n{log.read_text(errors='replace')}")


def capture_server_flight(client_hello: bytes, server_args: list[str], work: Path,
                          tag: str) -> tuple[bytes, str]:
    """Send a captured ClientHello flight to s_server and read its records up
    to and including the one that completes ServerHelloDone."""
    proc, port, args = start_s_server(server_args, work, tag)
    try:
        with socket.create_connection((HOST, port), timeout=TIMEOUT) as sock:
            sock.sendall(client_hello)
            raw = read_handshake_records(
                sock, lambda msgs: any(t == 14 for t, _ in msgs), time.monotonic() + TIMEOUT)
    except Exception:
        print((work / f"{tag}.log").read_text(errors="replace"), file=sys.stderr)
        raise
    finally:
        kill(proc)
    cmd = " ".join(args).replace(f":{port}", ":PORT").replace(str(work) + os.sep, "")
    return raw, cmd


def make_certs(work: Path) -> None:
    """Throwaway self-signed certificates, only ever inside `work`."""
    base = ["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", f"/CN={SNI}"]
    run(base + ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-keyout", "ec.key", "-out", "ec.pem"], work)
    run(base + ["-newkey", "rsa:2048", "-keyout", "rsa.key", "-out", "rsa.pem"], work)


def main() -> None:
    results: dict[str, tuple[bytes, str, list[str]]] = {}
    with tempfile.TemporaryDirectory(prefix="tls12-capture-") as tmp:
        work = Path(tmp)
        try:
            make_certs(work)
            key_cmds = [
                f"openssl req -x509 -nodes -days 2 -subj /CN={SNI} -newkey ec "
                "-pkeyopt ec_paramgen_curve:P-256 -keyout ec.key -out ec.pem",
                f"openssl req -x509 -nodes -days 2 -subj /CN={SNI} -newkey rsa:2048 "
                "-keyout rsa.key -out rsa.pem",
            ]

            # (a) TLS 1.2-only ClientHello
            ch12, cmd = capture_client_hello(["-tls1_2"], work, "client_tls12")
            suites = parse_client_hello(split_handshake(b"".join(
                f for _, _, f in split_records(ch12)))[0][0][1])["cipher_suites"]
            for s in (SUITE_ECDHE_ECDSA_AES128_GCM_SHA256, SUITE_ECDHE_RSA_AES256_GCM_SHA384):
                if s not in suites:
                    sys.exit(f"client_hello_tls12 does not offer suite {hex16(s)}")
            results["client_hello_tls12"] = (ch12, "ClientHello from openssl s_client -tls1_2",
                                             [cmd])

            # (b) default (TLS 1.3-capable) ClientHello
            chd, cmd = capture_client_hello([], work, "client_default")
            results["client_hello_default"] = (
                chd, "ClientHello from openssl s_client (default, TLS 1.3 capable)", [cmd])

            # (c) ECDHE-ECDSA server flight answering (a)
            raw, cmd = capture_server_flight(
                ch12, ["-tls1_2", "-cert", str(work / "ec.pem"), "-key", str(work / "ec.key"),
                       "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], work, "server_ecdsa")
            if handshake_types(raw) != [2, 11, 12, 14]:
                sys.exit(f"unexpected ECDSA flight: {handshake_types(raw)}")
            results["server_flight_ecdsa"] = (
                raw, "Server flight (up to ServerHelloDone) from openssl s_server -tls1_2, "
                     "ECDSA P-256 cert, in reply to client_hello_tls12.bin",
                key_cmds[:1] + [cmd])

            # (d) ECDHE-RSA server flight with CertificateRequest answering (a)
            raw, cmd = capture_server_flight(
                ch12, ["-tls1_2", "-cert", str(work / "rsa.pem"), "-key", str(work / "rsa.key"),
                       "-cipher", "ECDHE-RSA-AES256-GCM-SHA384", "-Verify", "1",
                       "-CAfile", str(work / "rsa.pem")], work, "server_rsa")
            if handshake_types(raw) != [2, 11, 12, 13, 14]:
                sys.exit(f"unexpected RSA flight: {handshake_types(raw)}")
            results["server_flight_rsa_client_auth"] = (
                raw, "Server flight (up to ServerHelloDone) from openssl s_server -tls1_2, "
                     "RSA-2048 cert, client auth requested, in reply to client_hello_tls12.bin",
                key_cmds[1:] + [cmd])
        finally:
            kill_all()

        # Render everything first, then move into place, so a failure never
        # leaves a half-updated set of vectors behind.
        staged = work / "out"
        staged.mkdir()
        for stem, (raw, title, cmds) in results.items():
            (staged / f"{stem}.bin").write_bytes(raw)
            (staged / f"{stem}.txt").write_text(describe(title, cmds, raw))
        for f in sorted(staged.iterdir()):
            shutil.copyfile(f, OUT_DIR / f.name)
            print(f"wrote {OUT_DIR / f.name} ({f.stat().st_size} bytes)")


if __name__ == "__main__":
    try:
        main()
    finally:
        kill_all()
