//! The `tls12` binary on its own: help and usage errors, `decode`, the zero-setup server
//! with client authentication, session files, the key log, and the `--www` page.

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test

mod support;

use std::path::Path;

use support::{field, run_client, write_pems, OurServer, Proc, TempDir, BIN};
use tls12::pki::KeyKind;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let mut proc = Proc::spawn("tls12", BIN, args);
    proc.close_stdin();
    let status = proc.wait();
    (status.code(), proc.stdout.text(), proc.stderr.text())
}

#[test]
fn every_subcommand_has_help_with_examples() {
    for (args, needles) in [
        (&["--help"][..], &["decode", "server", "client"][..]),
        (
            &["server", "--help"],
            &[
                "--exit-after",
                "--max-conns",
                "--bind",
                "--handshake-timeout",
                "--idle-timeout",
                "--threads",
                "--prefer-server-order",
                "--client-auth",
                "Examples:",
                "listening on",
            ],
        ),
        (
            &["client", "--help"],
            &[
                "HOST:PORT",
                "--reconnect",
                "--sess-out",
                "Examples:",
                "Exit status",
            ],
        ),
        (&["decode", "--help"], &["--verbose"]),
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        for needle in needles {
            assert!(out.contains(needle), "{args:?} lacks {needle:?}:\n{out}");
        }
    }
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1() {
    let dir = TempDir::new("usage");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let closed = format!("127.0.0.1:{}", support::free_port());
    let table: [(&str, Vec<&str>, i32, &str); 12] = [
        ("no --ca", vec!["client", "127.0.0.1:1"], 2, "pass --ca"),
        (
            "not HOST:PORT",
            vec!["client", "nowhere", "--ca", &pems.ca],
            2,
            "not HOST:PORT",
        ),
        (
            "--cert without --key",
            vec!["server", "--cert", &pems.server_cert],
            2,
            "--key",
        ),
        (
            "client auth with own cert and no --client-ca",
            vec![
                "server",
                "--cert",
                &pems.server_cert,
                "--key",
                &pems.server_key,
                "--client-auth",
                "required",
            ],
            2,
            "--client-ca",
        ),
        (
            "--exit-after 0",
            vec!["server", "--exit-after", "0"],
            2,
            "--exit-after",
        ),
        (
            "--max-conns 0",
            vec!["server", "--max-conns", "0"],
            2,
            "--max-conns",
        ),
        (
            "--bind and --port",
            vec!["server", "--bind", "127.0.0.1:0", "--port", "0"],
            2,
            "--port",
        ),
        (
            "a zero handshake timeout",
            vec!["server", "--handshake-timeout", "0s"],
            2,
            "above zero",
        ),
        (
            "a time without a known unit",
            vec!["server", "--idle-timeout", "3d"],
            2,
            "ms, s, m or h",
        ),
        (
            "bad --client-auth",
            vec!["server", "--client-auth", "maybe"],
            2,
            "maybe",
        ),
        (
            "nobody listening",
            vec!["client", &closed, "--ca", &pems.ca],
            1,
            "error: cannot connect",
        ),
        (
            "a key that is not a key",
            vec!["server", "--cert", &pems.server_cert, "--key", &pems.ca],
            1,
            "error: cannot read a private key",
        ),
    ];
    for (name, args, expected, message) in table {
        let (code, _, err) = run(&args);
        assert_eq!(code, Some(expected), "{name}: {err}");
        assert!(err.contains(message), "{name}: {err}");
    }
}

#[test]
fn decode_still_decodes_a_capture() {
    let capture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tls12/tests/data/server_flight_ecdsa.bin");
    let (code, out, err) = run(&["decode", capture.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ServerHello"), "{out}");
    assert!(out.contains("ServerHelloDone"), "{out}");
}

/// The zero-setup server with `--client-auth required` writes a client certificate that
/// `tls12 client` can use as printed; a client without one is refused.
#[test]
fn zero_setup_client_authentication() {
    let mut server = OurServer::start(&["--client-auth", "required", "--www", "--exit-after", "2"]);
    let ca = server.printed_path("CA certificate");
    let cert = server.printed_path("client certificate");
    let key = server.printed_path("client key");
    let address = server.address();
    let get = r"GET / HTTP/1.0\r\n\r\n";
    let (status, out, err) = run_client(
        &[
            &address, "--ca", &ca, "--cert", &cert, "--key", &key, "--send", get,
        ],
        &[],
    );
    assert!(status.success(), "{out}{err}");
    assert!(out.contains("received: HTTP/1.0 200 OK"), "{out}");
    assert!(out.contains("client certificate: present"), "{out}");
    let (status, out, err) = run_client(&[&address, "--ca", &ca], &[]);
    assert_eq!(status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("error: peer sent fatal alert HandshakeFailure"),
        "{err}"
    );
    let outcomes = server.finish();
    assert!(outcomes[0].starts_with("handshake: "), "{outcomes:#?}");
    assert!(
        outcomes[1].contains("client certificate required"),
        "{outcomes:#?}"
    );
}

/// `--sess-out` then `--sess-in` resumes across two runs of the client, by ticket (the
/// default) and by session ID (a server with `--no-tickets`); the file is private and
/// names the suite.
#[test]
fn a_session_file_resumes_in_a_later_run() {
    let dir = TempDir::new("sess-file");
    let pems = write_pems(&dir, "pki", KeyKind::Rsa2048);
    for tickets in [true, false] {
        let mut args = vec![
            "--cert",
            &pems.server_cert,
            "--key",
            &pems.server_key,
            "--exit-after",
            "2",
        ];
        if !tickets {
            args.push("--no-tickets");
        }
        let mut server = OurServer::start(&args);
        let sess = dir.path(&format!("session-{tickets}.json"));
        let sess = sess.to_str().unwrap();
        let address = format!("localhost:{}", server.port);
        let base = [address.as_str(), "--ca", &pems.ca, "--send", ""];
        let (status, first, err) = run_client(&[&base[..], &["--sess-out", sess]].concat(), &[]);
        assert!(status.success(), "{first}{err}");
        let json = std::fs::read_to_string(sess).unwrap();
        assert!(
            json.contains("\"suite\": \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\""),
            "{json}"
        );
        assert!(json.contains("\"server_name\": \"localhost\""), "{json}");
        assert_eq!(json.contains("\"ticket\": \""), tickets, "{json}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(sess).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (status, second, err) = run_client(&[&base[..], &["--sess-in", sess]].concat(), &[]);
        assert!(status.success(), "{second}{err}");
        assert!(
            !second.contains("received:"),
            "--send '' sends nothing: {second}"
        );
        let (first, second) = (first.trim(), second.trim());
        assert_eq!(field(first, "resumed"), "false");
        assert_eq!(field(second, "resumed"), "true", "tickets {tickets}");
        match tickets {
            // A ticket is the handle: no ID from the server, the client's own beside it.
            true => assert_eq!(field(first, "session_id"), "none"),
            false => assert_eq!(field(first, "session_id"), field(second, "session_id")),
        }
        server.finish();
    }
}

/// SSLKEYLOGFILE: both ends log the same line for the same connection.
#[test]
fn both_ends_write_the_same_key_log_line() {
    let dir = TempDir::new("keylog");
    let (server_log, client_log) = (dir.path("server.keys"), dir.path("client.keys"));
    let mut server =
        OurServer::start_with_env(&["--exit-after", "1"], &[("SSLKEYLOGFILE", &server_log)]);
    let ca = server.printed_path("CA certificate");
    let (status, out, err) = run_client(
        &[&server.address(), "--ca", &ca],
        &[("SSLKEYLOGFILE", &client_log)],
    );
    assert!(status.success(), "{out}{err}");
    server.finish();
    let (server_keys, client_keys) = (
        std::fs::read_to_string(&server_log).unwrap(),
        std::fs::read_to_string(&client_log).unwrap(),
    );
    assert_eq!(server_keys, client_keys);
    let words: Vec<&str> = client_keys.trim_end().split(' ').collect();
    assert_eq!(words.len(), 3, "{client_keys}");
    assert_eq!(words[0], "CLIENT_RANDOM");
    assert_eq!((words[1].len(), words[2].len()), (64, 96));
}

/// A server certificate from another CA: the client names the failure and exits 1, the
/// server reports the client's alert.
#[test]
fn an_untrusted_server_is_refused() {
    let dir = TempDir::new("untrusted");
    let other = write_pems(&dir, "other", KeyKind::EcdsaP256);
    let mut server = OurServer::start(&["--exit-after", "1"]);
    let (status, out, err) = run_client(&[&server.address(), "--ca", &other.ca], &[]);
    assert_eq!(status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("error: certificate refused: the chain does not lead to a trusted root"),
        "{err}"
    );
    let outcomes = server.finish();
    assert_eq!(outcomes, ["error: peer sent fatal alert UnknownCa"]);
}

/// Without --verbose the server prints nothing per connection, and --exit-after still
/// ends it once the last connection (served by its runtime's threads) is done.
#[test]
fn a_quiet_server_prints_nothing_per_connection() {
    let mut server = OurServer::start_exactly(&["--exit-after", "3", "--threads", "2"], &[]);
    let ca = server.printed_path("CA certificate");
    for _ in 0..3 {
        let (status, out, err) = run_client(&[&server.address(), "--ca", &ca], &[]);
        assert!(status.success(), "{out}{err}");
    }
    assert_eq!(server.finish(), Vec::<String>::new());
    let text = server.proc.stdout.text();
    assert!(!text.contains("[conn "), "{text}");
}

/// With `--threads 1` everything runs on one thread (a current-thread runtime): a socket
/// that connects and says nothing must still not keep that thread from serving others.
#[test]
fn a_one_thread_server_serves_past_an_idle_socket() {
    let mut server = OurServer::start_exactly(
        &[
            "--exit-after",
            "2",
            "--threads",
            "1",
            "--handshake-timeout",
            "30s",
        ],
        &[],
    );
    let ca = server.printed_path("CA certificate");
    let idle = std::net::TcpStream::connect(server.listening).unwrap();
    let (status, out, err) = run_client(&[&server.address(), "--ca", &ca], &[]);
    assert!(status.success(), "{out}{err}");
    // The idle socket is the other of the two connections: closing it lets the server exit.
    drop(idle);
    assert_eq!(server.finish(), Vec::<String>::new());
}

/// `--www` answers a request whose lines end in a bare LF, as `openssl s_server -www`
/// does and RFC 9112 §2.2 allows; before, only CRLF ended the head and the client waited
/// in vain.
#[test]
fn www_answers_a_request_whose_lines_end_in_a_bare_lf() {
    let mut server = OurServer::start(&["--www", "--exit-after", "2"]);
    let ca = server.printed_path("CA certificate");
    for request in [
        r"GET / HTTP/1.0\n\n",
        r"GET /lf HTTP/1.0\nHost: localhost\n\n",
    ] {
        let (status, out, err) =
            run_client(&[&server.address(), "--ca", &ca, "--send", request], &[]);
        assert!(status.success(), "{out}{err}");
        assert!(
            out.contains("received: HTTP/1.0 200 OK"),
            "{request}: {out}{err}"
        );
        let line = request.split(r"\n").next().unwrap();
        assert!(
            out.contains(&format!("request: {line}")),
            "{request}: {out}"
        );
    }
    server.finish();
}

/// `--bind` takes an IPv6 address; the generated certificate names ::1 too.
#[test]
fn the_server_listens_where_bind_says_ipv6_included() {
    for bind in ["[::1]:0", "127.0.0.1:0"] {
        let mut server = OurServer::start(&["--bind", bind, "--exit-after", "1"]);
        assert_eq!(
            server.listening.is_ipv6(),
            bind.starts_with('['),
            "{}",
            server.listening
        );
        let ca = server.printed_path("CA certificate");
        let (status, out, err) = run_client(&[&server.address(), "--ca", &ca], &[]);
        assert!(status.success(), "{bind}: {out}{err}");
        assert!(out.contains("received: hello from tls12"), "{bind}: {out}");
        let outcomes = server.finish();
        assert!(outcomes[0].starts_with("handshake: "), "{outcomes:?}");
    }
}

#[test]
fn check_reports_as_json_and_refuses_bad_usage() {
    let (code, out, err) = run(&[
        "check",
        "--clients",
        "1",
        "--conns",
        "2",
        "--moves",
        "tamper",
        "--vary",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], true);
    assert!(report["unique_states"].as_u64().unwrap() > 100);
    let properties = report["properties"].as_array().unwrap();
    assert!(properties.iter().any(|p| p["name"]
        == "an edited hello field is answered as the RFCs say, at once"
        && p["kind"] == "always"
        && p["holds"] == true));
    for (args, message) in [
        (vec!["check", "--shard", "1/2"], "--shard needs --sweep"),
        (
            vec!["check", "--sweep", "--shard", "3/2"],
            "--shard wants I/N",
        ),
        (vec!["check", "--clients", "0"], "at least 1"),
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
}
