//! `tls12 bench` end to end: short real runs against `tls12 server` (handshakes happen,
//! resumption hits at the requested share, the open loop keeps its schedule, `--json`
//! parses) and failure handling against local servers that refuse, stall, reset, answer
//! garbage, speak TLS 1.3 only or hold a certificate for another name: each must end with
//! its cause named, a hint, a non-zero exit, and on time. Everything on 127.0.0.1, each
//! run a second or two.

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{free_port, s_server, write_pems, OurServer, Proc, TempDir, BIN};
use tls12::pki::KeyKind;

/// What a run of `tls12 bench` left.
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("--json printed no JSON ({e}):\n{}", self.stdout))
    }

    /// The count of failures of `cause` in the JSON report.
    fn failures(&self, cause: &str) -> u64 {
        self.json()["failures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["cause"] == cause)
            .map(|f| f["count"].as_u64().unwrap())
            .sum()
    }
}

fn bench(args: &[&str]) -> Ran {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    let started = Instant::now();
    let mut proc = Proc::spawn("tls12 bench", BIN, &all);
    proc.close_stdin();
    let status = proc.wait();
    Ran {
        status,
        stdout: proc.stdout.text(),
        stderr: proc.stderr.text(),
        took: started.elapsed(),
    }
}

/// A local server that misbehaves in one way, on its own thread until dropped (at most
/// 20 s).
struct FakeServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How a [`FakeServer`] treats each connection.
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// Accepts and says nothing, holding the socket.
    Stall,
    /// Reads the first bytes of the ClientHello, then closes with the rest unread: the
    /// kernel answers with a reset.
    Reset,
    /// Answers with an HTTP error, as a plain HTTP server on the port would, and closes.
    Garbage,
}

impl FakeServer {
    fn start(how: Misbehaviour) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut held = Vec::new();
            while !stopped.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        tcp.set_nonblocking(false).unwrap();
                        tcp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                        misbehave(how, tcp, &mut held);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(2));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
        });
        FakeServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn misbehave(how: Misbehaviour, mut tcp: TcpStream, held: &mut Vec<TcpStream>) {
    match how {
        Misbehaviour::Stall => held.push(tcp),
        Misbehaviour::Reset => {
            let mut header = [0u8; 5];
            let _ = tcp.read_exact(&mut header);
            // Dropped with the rest of the ClientHello unread: RST, not FIN.
        }
        Misbehaviour::Garbage => {
            let mut header = [0u8; 5];
            let _ = tcp.read_exact(&mut header);
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            let _ = tcp.shutdown(std::net::Shutdown::Write);
            held.push(tcp);
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Asserts a failed run: exit status 1, the cause in the JSON report, the hint on stderr.
fn assert_failed_with(ran: &Ran, cause: &str, hint: &str) {
    assert_eq!(
        ran.status.code(),
        Some(1),
        "exit status\n{}\n{}",
        ran.stdout,
        ran.stderr
    );
    assert!(ran.failures(cause) > 0, "no {cause:?} in\n{}", ran.stdout);
    let report = ran.json();
    assert_eq!(report["handshakes"]["total"], 0, "{}", ran.stdout);
    assert!(
        ran.stderr.contains("error: ") && ran.stderr.contains(hint),
        "no hint {hint:?} in stderr:\n{}",
        ran.stderr
    );
}

#[test]
fn bench_against_a_closed_port_reports_refused_and_gives_up_at_once() {
    let address = format!("127.0.0.1:{}", free_port());
    let ran = bench(&[&address, "--insecure-no-verify", "-d", "10s", "--json"]);
    assert_failed_with(&ran, "refused", "nothing accepts connections");
    assert!(ran.json()["gave_up"].is_string());
    assert!(ran.took < Duration::from_secs(5), "took {:?}", ran.took);
}

#[test]
fn bench_against_a_server_that_stalls_times_out_and_ends_by_duration_plus_timeout() {
    let server = FakeServer::start(Misbehaviour::Stall);
    let ran = bench(&[
        &server.address(),
        "--insecure-no-verify",
        "-c",
        "3",
        "-d",
        "1500ms",
        "--timeout",
        "500ms",
        "--json",
    ]);
    assert_failed_with(&ran, "timeout in handshake", "longer than --timeout");
    // Three connections at a time, each given up after 0.5 s, for 1.5 s.
    let timeouts = ran.failures("timeout in handshake");
    assert!((6..=12).contains(&timeouts), "{timeouts} timeouts");
    // --duration + --timeout, and some for starting the process.
    assert!(
        ran.took < Duration::from_millis(3500),
        "took {:?}",
        ran.took
    );
}

#[test]
fn bench_against_a_server_that_resets_reports_the_reset() {
    let server = FakeServer::start(Misbehaviour::Reset);
    let ran = bench(&[
        &server.address(),
        "--insecure-no-verify",
        "-d",
        "5s",
        "--json",
    ]);
    assert_failed_with(
        &ran,
        "reset by peer in handshake",
        "hung up without a TLS alert",
    );
    assert!(ran.took < Duration::from_secs(5), "took {:?}", ran.took);
}

#[test]
fn bench_against_a_server_that_answers_garbage_names_our_alert() {
    let server = FakeServer::start(Misbehaviour::Garbage);
    let ran = bench(&[
        &server.address(),
        "--insecure-no-verify",
        "-d",
        "5s",
        "--json",
    ]);
    let causes: Vec<String> = ran.json()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["cause"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        causes.iter().all(|c| c.starts_with("alert sent: ")),
        "{causes:?}"
    );
    let first = causes.first().expect("a failure");
    assert_failed_with(&ran, first, "not TLS 1.2 records");
}

#[test]
fn bench_against_a_tls13_only_server_reports_protocol_version() {
    let dir = TempDir::new("bench-tls13");
    let pems = write_pems(&dir, "p", KeyKind::EcdsaP256);
    let (_server, port) = s_server(&[
        "-cert",
        &pems.server_cert,
        "-key",
        &pems.server_key,
        "-tls1_3",
        "-www",
    ]);
    let ran = bench(&[
        &format!("127.0.0.1:{port}"),
        "--ca",
        &pems.ca,
        "--server-name",
        "localhost",
        "-d",
        "5s",
        "--json",
    ]);
    assert_failed_with(
        &ran,
        "alert received: protocol_version",
        "does not speak TLS 1.2",
    );
}

#[test]
fn bench_with_the_wrong_server_name_says_which_flag_to_use() {
    let server = OurServer::start_exactly(&[], &[]);
    let ca = server.printed_path("CA certificate");
    let ran = bench(&[
        &server.address(),
        "--ca",
        &ca,
        "--server-name",
        "www.example.com",
        "--json",
    ]);
    assert_failed_with(&ran, "alert sent: bad_certificate", "--server-name");
}

#[test]
fn bench_without_trust_anchors_or_with_bad_flags_is_a_usage_error() {
    for args in [
        &["127.0.0.1:4433"][..],
        &[
            "127.0.0.1:4433",
            "--insecure-no-verify",
            "--resume-ratio",
            "2",
        ],
        &[
            "127.0.0.1:4433",
            "--insecure-no-verify",
            "--suite",
            "RC4-MD5",
        ],
        &["no-port", "--insecure-no-verify"],
    ] {
        let ran = bench(args);
        assert_eq!(ran.status.code(), Some(2), "{args:?}: {}", ran.stderr);
    }
}

#[test]
fn bench_against_our_server_resumes_at_the_requested_share_and_prints_json() {
    let server = OurServer::start_exactly(&["--threads", "1"], &[]);
    let ca = server.printed_path("CA certificate");
    let ran = bench(&[
        &server.address(),
        "--ca",
        &ca,
        "-c",
        "4",
        "-n",
        "400",
        "--resume-ratio",
        "0.25",
        "--server-pid",
        &server.pid().to_string(),
        "--json",
    ]);
    assert!(ran.status.success(), "{}\n{}", ran.stdout, ran.stderr);
    let r = ran.json();
    let h = &r["handshakes"];
    let count = |key: &str| h[key].as_u64().unwrap();
    assert_eq!(count("total"), 400, "{}", ran.stdout);
    assert_eq!(count("failed"), 0);
    assert_eq!(count("full") + count("resumed"), 400);
    // A quarter offer the stored session (less the few that start before the first
    // session exists), and the server resumes every one, by ticket by default.
    let offered = count("offered");
    assert!((90..=100).contains(&offered), "offered {offered}");
    assert_eq!(count("resumed"), offered);
    assert_eq!(count("resumed_by_ticket"), offered);
    assert_eq!(r["resumption"], "ticket");
    assert_eq!(r["resumption_hit"], 1.0);
    let share = r["resumed_share"].as_f64().unwrap();
    assert!((0.22..=0.25).contains(&share), "resumed share {share}");
    // Rates add up and latencies are ordered.
    let rate = |key: &str| r["rate"][key].as_f64().unwrap();
    assert!((rate("full") + rate("resumed") - rate("total")).abs() < 1e-6);
    assert!(rate("total") > 0.0);
    for kind in ["all", "full", "resumed"] {
        let p = &r["latency_ms"][kind];
        let at = |q: &str| p[q].as_f64().unwrap();
        assert!(
            0.0 < at("p50") && at("p50") <= at("p90") && at("p90") <= at("p99"),
            "{kind}: {p}"
        );
        assert!(
            at("p99") <= at("p99_9") && at("p99_9") <= at("max"),
            "{kind}: {p}"
        );
    }
    assert_eq!(r["latency_ms"]["all"]["count"], 400);
    assert!(r["client_cpu"]["per_handshake_ms"].as_f64().unwrap() > 0.0);
    assert!(r["server_cpu"]["seconds"].is_number());
    assert_eq!(
        r["negotiated"]["suite"],
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    );
}

#[test]
fn bench_resumes_by_session_id_with_no_tickets_and_exchanges_requests() {
    let server = OurServer::start_exactly(&[], &[]);
    let ca = server.printed_path("CA certificate");
    let ran = bench(&[
        &server.address(),
        "--ca",
        &ca,
        "-n",
        "60",
        "--resume-ratio",
        "1",
        "--no-tickets",
        "--request",
        r"ping\n",
        "--response-bytes",
        "5",
        "--suite",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "--group",
        "p256",
    ]);
    assert!(ran.status.success(), "{}\n{}", ran.stdout, ran.stderr);
    // The text report: every part there, with our numbers.
    for part in [
        "closed loop, 1 connection in flight",
        "resume ratio 1.00 by session ID",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, group secp256r1",
        "latency (ms)",
        "p99.9",
        "  response",
        "client CPU:",
        "failures: none",
    ] {
        assert!(ran.stdout.contains(part), "no {part:?} in\n{}", ran.stdout);
    }
    // One full handshake, then 59 resumed: `count` row is total, full, resumed, failed.
    let counts: Vec<&str> = ran
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("count"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(counts, ["count", "60", "1", "59", "0"], "{}", ran.stdout);
    assert!(ran
        .stdout
        .contains("resumed 59 of 59 offered (100.0 %), offered by session ID"));
    // stderr is no terminal here: no progress line, nothing at all.
    assert_eq!(ran.stderr, "");
}

#[test]
fn bench_open_loop_keeps_its_schedule_and_skips_the_warmup() {
    let server = OurServer::start_exactly(&[], &[]);
    let ca = server.printed_path("CA certificate");
    let ran = bench(&[
        &server.address(),
        "--ca",
        &ca,
        "--rate",
        "200",
        "--warmup",
        "300ms",
        "-d",
        "1s",
        "--json",
    ]);
    assert!(ran.status.success(), "{}\n{}", ran.stdout, ran.stderr);
    let r = ran.json();
    assert_eq!(r["mode"], "open-loop");
    assert_eq!(r["scheduled_rate"], 200.0);
    assert!(
        r["rate"]["total"].is_number(),
        "the setting must not shadow the result"
    );
    let elapsed = r["elapsed_s"].as_f64().unwrap();
    assert!((0.95..=1.1).contains(&elapsed), "measured {elapsed} s");
    // 200 a second for one second, warmup excluded; a loaded machine may start a few
    // late, none early.
    let total = r["handshakes"]["total"].as_u64().unwrap();
    assert!((170..=201).contains(&total), "{total} handshakes");
    assert!(ran.took < Duration::from_secs(5), "took {:?}", ran.took);
}
