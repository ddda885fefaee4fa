#!/usr/bin/env python3
"""Measures `tls12 bench` against `openssl s_server` and `tls12 server` on 127.0.0.1 and
writes docs/bench/results.json; `plot.py` draws docs/bench/bench.svg and prints the
README's tables from it.

    python3 docs/bench/run.py [SECONDS]    # default 5 s per run; about 4 minutes in all
    python3 docs/bench/plot.py             # redraw the plot, print the tables

Three parts, each run one after the other on one machine (the ratios are what to read;
absolute rates depend on the machine and its load):

1. s_time beside tls12 bench, concurrency 1, against openssl s_server: `s_time -new`,
   then `tls12 bench --resume-ratio 0`, then `s_time -reuse`, then `tls12 bench
   --resume-ratio 1`, three rounds interleaved so that a change of load hits both.
   s_time's rate is its connection count over the wall time of its run.
2. A concurrency sweep (1, 2, 4, 16, 64) of full (--resume-ratio 0) and resumed
   (--resume-ratio 1) handshakes against openssl s_server and tls12 server (one thread
   per core), with each server's CPU time per handshake (--server-pid).
3. tls12 server with --threads 1 and --threads 2 under the same load (concurrency 16).

Same ECDSA P-256 certificate, suite ECDHE-ECDSA-AES128-GCM-SHA256 and group X25519
everywhere; session tickets on (both servers' default, and the bench's). Only
127.0.0.1; every child is bounded by a timeout and killed at the end.
"""

import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TLS12 = ROOT / "target" / "release" / "tls12"
OUT = ROOT / "docs" / "bench" / "results.json"
SUITE = "ECDHE-ECDSA-AES128-GCM-SHA256"
CONCURRENCY = [1, 2, 4, 16, 64]
WARMUP = "1s"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_line(path, pattern, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = Path(path).read_text(errors="replace") if Path(path).exists() else ""
        m = re.search(pattern, text)
        if m:
            return m
        time.sleep(0.05)
    sys.exit(f"no {pattern!r} in {path}:\n{Path(path).read_text(errors='replace')}")


class Servers:
    """openssl s_server and tls12 server (1 or N threads), killed by PID on exit."""

    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.procs = []
        key, cert = self.tmp / "key.pem", self.tmp / "cert.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(cert),
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
             "-days", "2"],
            check=True, capture_output=True)
        self.key, self.cert = str(key), str(cert)

    def start(self, name, args, ready):
        log = self.tmp / f"{name}.out"
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=open(log, "w"),
                                stderr=subprocess.STDOUT)
        self.procs.append(proc)
        m = wait_for_line(log, ready)
        return proc, m

    def openssl(self):
        port = free_port()
        proc, _ = self.start(
            "openssl",
            ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", self.cert,
             "-key", self.key, "-tls1_2", "-www", "-cipher", SUITE, "-groups", "X25519",
            ],
            r"ACCEPT")
        return proc, port

    def tls12(self, threads=None):
        args = [str(TLS12), "server", "--port", "0", "--cert", self.cert, "--key",
                self.key, "--cache-size", "10000"]
        if threads:
            args += ["--threads", str(threads)]
        proc, m = self.start(f"tls12-{threads}", args, r"listening on 127\.0\.0\.1:(\d+)")
        return proc, int(m.group(1))

    def stop(self, proc):
        proc.kill()
        proc.wait()
        self.procs.remove(proc)

    def stop_all(self):
        for proc in list(self.procs):
            self.stop(proc)


def bench(port, pid, secs, concurrency, ratio, threads, warmup=WARMUP):
    args = [str(TLS12), "bench", f"127.0.0.1:{port}", "--ca", CERT, "--server-name",
            "localhost", "-c", str(concurrency), "-d", f"{secs}s", "--warmup", warmup,
            "--resume-ratio", str(ratio), "--threads", str(threads), "--suite", SUITE,
            "--server-pid", str(pid), "--json", "--quiet"]
    run = subprocess.run(args, capture_output=True, text=True, timeout=secs * 3 + 60)
    if run.returncode not in (0, 1):
        sys.exit(f"{' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
    r = json.loads(run.stdout)
    if r["failures"]:
        print(f"   failures: {r['failures']}", flush=True)
    cmd = "tls12 bench 127.0.0.1:PORT " + " ".join(args[3:-4])
    all_ = r["latency_ms"]["all"] or {}
    return {
        "command": cmd,
        "rate": r["rate"]["total"],
        "full_rate": r["rate"]["full"],
        "resumed_rate": r["rate"]["resumed"],
        "resumed_share": r["resumed_share"],
        "failed": r["handshakes"]["failed"],
        "p50_ms": all_.get("p50"),
        "p99_ms": all_.get("p99"),
        "p99_9_ms": all_.get("p99_9"),
        "client_cpu_ms": (r["client_cpu"] or {}).get("per_handshake_ms"),
        "server_cpu_ms": (r["server_cpu"] or {}).get("per_handshake_ms"),
        "server_cores": (r["server_cpu"] or {}).get("cores"),
        "negotiated": r["negotiated"],
    }


def s_time(port, pid, mode, secs):
    args = ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", f"-{mode}", "-time",
            str(secs), "-cipher", SUITE, "-tls1_2"]
    before, server_before = children_cpu(), proc_cpu(pid)
    start = time.time()
    run = subprocess.run(args, capture_output=True, text=True, timeout=secs * 10 + 30)
    wall = time.time() - start
    cpu, server_cpu = children_cpu() - before, proc_cpu(pid) - server_before
    m = re.search(r"(\d+) connections in [\d.]+ real seconds", run.stdout)
    if not m:
        sys.exit(f"s_time -{mode}: no count\n{run.stdout}\n{run.stderr}")
    n = int(m.group(1))
    return {"command": " ".join(args), "connections": n, "rate": n / wall,
            "client_cpu_ms": cpu * 1000 / n, "server_cpu_ms": server_cpu * 1000 / n}


def proc_cpu(pid):
    """User + system CPU seconds of a running process, from /proc (USER_HZ ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    """User + system CPU seconds of the children that have ended (s_time's, here)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def machine():
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    return {
        "cpu": model.group(1) if model else "unknown",
        "cores": os.cpu_count(),
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
        "openssl": subprocess.run(["openssl", "version"], capture_output=True,
                                  text=True).stdout.strip(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main():
    global CERT
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "tls12-cli"], cwd=ROOT,
                   check=True)
    results = {"seconds_per_run": secs, "machine_before": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        servers = Servers(tmp)
        CERT = servers.cert
        try:
            ossl, ossl_port = servers.openssl()
            print("1. s_time beside tls12 bench, concurrency 1, openssl s_server", flush=True)
            rounds = []
            for n in range(3):
                row = {
                    "s_time_new": s_time(ossl_port, ossl.pid, "new", secs),
                    "bench_full": bench(ossl_port, ossl.pid, secs, 1, 0, 1, warmup="0"),
                    "s_time_reuse": s_time(ossl_port, ossl.pid, "reuse", secs),
                    "bench_resumed": bench(ossl_port, ossl.pid, secs, 1, 1, 1, warmup="0"),
                }
                print(f"   round {n + 1}: " + ", ".join(
                    f"{k} {v['rate']:.0f}/s" for k, v in row.items()), flush=True)
                rounds.append(row)
            results["s_time"] = rounds

            print("2. concurrency sweep", flush=True)
            ours, ours_port = servers.tls12()
            sweep = []
            for c in CONCURRENCY:
                threads = 1 if c == 1 else 2
                for name, (proc, port) in [("openssl s_server", (ossl, ossl_port)),
                                           ("tls12 server", (ours, ours_port))]:
                    for mode, ratio in [("full", 0), ("resumed", 1)]:
                        r = bench(port, proc.pid, secs, c, ratio, threads)
                        r.update(server=name, mode=mode, concurrency=c)
                        sweep.append(r)
                        print(f"   {name:17} {mode:8} c={c:<3} {r['rate']:8.0f}/s "
                              f"p99 {r['p99_ms']} ms, server {r['server_cpu_ms']} ms/hs",
                              flush=True)
            results["sweep"] = sweep
            servers.stop(ours)

            print("3. tls12 server, 1 and 2 threads, concurrency 16", flush=True)
            scaling = []
            for threads in [1, 2]:
                proc, port = servers.tls12(threads)
                for mode, ratio in [("full", 0), ("resumed", 1)]:
                    r = bench(port, proc.pid, secs, 16, ratio, 2)
                    r.update(server_threads=threads, mode=mode, concurrency=16)
                    scaling.append(r)
                    print(f"   --threads {threads} {mode:8} {r['rate']:8.0f}/s, server "
                          f"{r['server_cpu_ms']} ms/hs ({r['server_cores']:.2f} cores)",
                          flush=True)
                servers.stop(proc)
            results["scaling"] = scaling
        finally:
            servers.stop_all()
    results["machine_after"] = machine()
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}; now: python3 docs/bench/plot.py")


if __name__ == "__main__":
    main()
