//! The `tls12` binary against OpenSSL 3.0 over TCP on 127.0.0.1, in both roles: every
//! suite and group, session resumption and cache eviction, client authentication; and
//! our client against our server. Ports are picked at run time; every child process is
//! bounded in time and killed if a test fails. Without an `openssl` command these tests
//! fail (CI installs it).

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test

mod support;

use support::{
    field, openssl, run_client, s_server, write_pems, OurServer, Pems, Proc, TempDir, TIMEOUT,
};
use tls12::pki::KeyKind;

/// The six suites: OpenSSL's name, ours, and the key the server needs.
const SUITES: [(&str, &str, KeyKind); 6] = [
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        KeyKind::EcdsaP256,
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        KeyKind::EcdsaP256,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        KeyKind::EcdsaP256,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        KeyKind::Rsa2048,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        KeyKind::Rsa2048,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        KeyKind::Rsa2048,
    ),
];

/// The groups: OpenSSL's name, ours, and how s_client reports the server's key.
const GROUPS: [(&str, &str, &str); 2] = [
    ("X25519", "X25519", "Server Temp Key: X25519"),
    ("P-256", "secp256r1", "Server Temp Key: ECDH, prime256v1"),
];

/// `openssl s_client` to our server, waiting for `line` to come back before closing
/// stdin (without a line, stdin is closed at once). Returns the finished process.
fn s_client(port: u16, args: &[&str], line: Option<&str>) -> Proc {
    let connect = format!("127.0.0.1:{port}");
    let mut all = vec!["s_client", "-connect", &connect, "-tls1_2", "-nocommands"];
    all.extend_from_slice(args);
    let mut proc = Proc::spawn("openssl s_client", openssl(), &all);
    if let Some(line) = line {
        proc.write(format!("{line}\n").as_bytes());
        // Only the echo puts the line on s_client's stdout; a failed handshake ends the
        // wait early (stdout closes).
        proc.stdout.wait_until(TIMEOUT, |t| t.contains(line));
    }
    proc.close_stdin();
    proc.wait();
    proc
}

fn assert_contains(proc: &Proc, needles: &[&str]) {
    let text = format!("{}{}", proc.stdout.text(), proc.stderr.text());
    for needle in needles {
        assert!(
            text.contains(needle),
            "{}: no {needle:?}\n{}",
            proc.name,
            proc.transcript()
        );
    }
}

/// Matrix 1: our server × `openssl s_client`, each suite of `kind` with each group; the
/// line sent comes back, the chain verifies, both ends agree on suite and group.
fn our_server_against_s_client(kind: KeyKind, test: &str) {
    let dir = TempDir::new(test);
    let pems = write_pems(&dir, "pki", kind);
    let suites: Vec<_> = SUITES.iter().filter(|s| s.2 == kind).collect();
    let cases: Vec<_> = suites
        .iter()
        .flat_map(|suite| GROUPS.iter().map(move |group| (*suite, group)))
        .collect();
    let max = cases.len().to_string();
    let mut server = OurServer::start(&[
        "--cert",
        &pems.server_cert,
        "--key",
        &pems.server_key,
        "--exit-after",
        &max,
    ]);
    for ((openssl_suite, _, kind), (openssl_group, _, temp_key)) in &cases {
        let line = format!("echo {openssl_suite} {openssl_group}");
        // In TLS 1.2 supported_groups also bounds the curve of an ECDSA certificate
        // (RFC 8422 §5.1.1), and OpenSSL enforces it: to get X25519 for ECDHE with a P-256
        // certificate the client must offer both. Our server prefers X25519.
        let curves = match (kind, *openssl_group) {
            (KeyKind::EcdsaP256, "X25519") => "X25519:P-256",
            (_, group) => group,
        };
        let client = s_client(
            server.port,
            &[
                "-cipher",
                openssl_suite,
                "-curves",
                curves,
                "-CAfile",
                &pems.ca,
                "-servername",
                "localhost",
            ],
            Some(&line),
        );
        let cipher = format!("New, TLSv1.2, Cipher is {openssl_suite}");
        assert_contains(
            &client,
            &[&line, "Verify return code: 0 (ok)", &cipher, temp_key],
        );
    }
    let outcomes = server.finish();
    assert_eq!(outcomes.len(), cases.len(), "{outcomes:#?}");
    for (outcome, ((_, our_suite, _), (_, our_group, _))) in outcomes.iter().zip(&cases) {
        assert_eq!(field(outcome, "suite"), *our_suite, "{outcome}");
        assert_eq!(field(outcome, "group"), *our_group, "{outcome}");
        assert_eq!(field(outcome, "resumed"), "false", "{outcome}");
        assert_eq!(field(outcome, "extended_master_secret"), "true");
    }
}

#[test]
fn our_server_with_s_client_ecdsa_suites_and_groups() {
    our_server_against_s_client(KeyKind::EcdsaP256, "s-client-ecdsa");
}

#[test]
fn our_server_with_s_client_rsa_suites_and_groups() {
    our_server_against_s_client(KeyKind::Rsa2048, "s-client-rsa");
}

/// Matrix 2a: `s_client -reconnect` resumes five times on one session.
#[test]
fn s_client_reconnect_resumes_on_our_server() {
    let dir = TempDir::new("reconnect");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    // Session IDs (tickets, on by default, have interop_branches.rs).
    let mut server = OurServer::start(&[
        "--cert",
        &pems.server_cert,
        "--key",
        &pems.server_key,
        "--no-tickets",
        "--exit-after",
        "6",
    ]);
    let connect = format!("127.0.0.1:{}", server.port);
    let mut client = Proc::spawn(
        "openssl s_client -reconnect",
        openssl(),
        &[
            "s_client",
            "-connect",
            &connect,
            "-tls1_2",
            "-reconnect",
            "-CAfile",
            &pems.ca,
        ],
    );
    client.expect_stdout("six handshakes", |t| {
        t.matches("Verify return code: 0 (ok)").count() == 6
    });
    client.close_stdin();
    client.wait();
    let text = client.stdout.text();
    assert_eq!(text.matches("New, TLSv1.2").count(), 1, "{text}");
    assert_eq!(text.matches("Reused, TLSv1.2").count(), 5, "{text}");

    let outcomes = server.finish();
    let resumed: Vec<&str> = outcomes.iter().map(|l| field(l, "resumed")).collect();
    assert_eq!(resumed, ["false", "true", "true", "true", "true", "true"]);
    let ids: Vec<&str> = outcomes.iter().map(|l| field(l, "session_id")).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{outcomes:#?}");
    assert!(outcomes[1..].iter().all(|l| field(l, "group") == "none"));
}

/// Matrix 2b: with a cache of one, a second client's session evicts the first, whose
/// `-sess_in` then gets a full handshake with a new ID; with room in the cache (the
/// control) the same steps resume.
#[test]
fn an_evicted_session_is_not_resumed_by_s_client() {
    let dir = TempDir::new("eviction");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let sess = dir.path("a.sess");
    let sess = sess.to_str().unwrap();
    for (cache_size, third_resumes) in [("1", false), ("100", true)] {
        let mut server = OurServer::start(&[
            "--cert",
            &pems.server_cert,
            "--key",
            &pems.server_key,
            "--cache-size",
            cache_size,
            "--no-tickets",
            "--exit-after",
            "3",
        ]);
        let verify = ["-CAfile", pems.ca.as_str(), "-servername", "localhost"];
        let a_args = [&verify[..], &["-sess_out", sess]].concat();
        let c_args = [&verify[..], &["-sess_in", sess]].concat();
        let a = s_client(server.port, &a_args, Some("client A"));
        let b = s_client(server.port, &verify, Some("client B"));
        let c = s_client(server.port, &c_args, Some("client C"));
        for client in [&a, &b] {
            assert_contains(client, &["New, TLSv1.2", "Verify return code: 0 (ok)"]);
        }
        let expected = match third_resumes {
            true => "Reused, TLSv1.2",
            false => "New, TLSv1.2",
        };
        assert_contains(&c, &[expected, "client C"]);

        let outcomes = server.finish();
        assert_eq!(outcomes.len(), 3, "{outcomes:#?}");
        let resumed: Vec<&str> = outcomes.iter().map(|l| field(l, "resumed")).collect();
        let third = if third_resumes { "true" } else { "false" };
        assert_eq!(resumed, ["false", "false", third], "cache {cache_size}");
        let (id_a, id_c) = (
            field(&outcomes[0], "session_id"),
            field(&outcomes[2], "session_id"),
        );
        assert_eq!(
            id_a == id_c,
            third_resumes,
            "cache {cache_size}: {outcomes:#?}"
        );
    }
}

/// Matrix 3: `--client-auth required`: s_client with a certificate from the CA is served,
/// without one it gets handshake_failure, which our server names.
#[test]
fn our_server_requires_a_client_certificate_from_s_client() {
    let dir = TempDir::new("client-auth");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let mut server = OurServer::start(&[
        "--cert",
        &pems.server_cert,
        "--key",
        &pems.server_key,
        "--client-auth",
        "required",
        "--client-ca",
        &pems.ca,
        "--exit-after",
        "2",
    ]);
    let base = ["-CAfile", pems.ca.as_str(), "-servername", "localhost"];
    let with_cert = [
        &base[..],
        &["-cert", &pems.client_cert, "-key", &pems.client_key],
    ]
    .concat();
    let served = s_client(server.port, &with_cert, Some("authenticated"));
    assert_contains(&served, &["authenticated", "Verify return code: 0 (ok)"]);
    let refused = s_client(server.port, &base, None);
    assert_contains(&refused, &["alert handshake failure"]);

    let outcomes = server.finish();
    assert_eq!(field(&outcomes[0], "resumed"), "false", "{outcomes:#?}");
    assert!(
        outcomes[1].starts_with("error: ") && outcomes[1].contains("HandshakeFailure"),
        "{outcomes:#?}"
    );
}

fn s_server_args<'a>(pems: &'a Pems, suite: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "-tls1_2",
        "-cert",
        &pems.server_cert,
        "-key",
        &pems.server_key,
        "-cipher",
        suite,
        "-no_ticket",
        "-rev",
    ];
    args.extend_from_slice(extra);
    args
}

/// Matrix 4: our client × `openssl s_server -rev` (which answers each line reversed),
/// every suite with each group: data goes both ways.
#[test]
fn our_client_with_s_server_every_suite_and_group() {
    let dir = TempDir::new("s-server-suites");
    let ecdsa = write_pems(&dir, "ecdsa", KeyKind::EcdsaP256);
    let rsa = write_pems(&dir, "rsa", KeyKind::Rsa2048);
    for (openssl_suite, our_suite, kind) in SUITES {
        let pems = match kind {
            KeyKind::Rsa2048 => &rsa,
            _ => &ecdsa,
        };
        for (openssl_group, our_group, _) in GROUPS {
            let args = s_server_args(pems, openssl_suite, &["-groups", openssl_group]);
            let (mut server, port) = s_server(&[&args[..], &["-naccept", "1"]].concat());
            let address = format!("localhost:{port}");
            let (status, out, err) = run_client(&[&address, "--ca", &pems.ca], &[]);
            let context = format!("{openssl_suite} {openssl_group}\n{out}{err}");
            assert!(status.success(), "{context}\n{}", server.transcript());
            assert!(out.contains(&format!("suite={our_suite} ")), "{context}");
            assert!(out.contains(&format!("group={our_group} ")), "{context}");
            assert!(out.contains("received: 21slt morf olleh\\n"), "{context}");
            server.wait();
        }
    }
}

/// Matrix 5: our client reconnecting to `s_server -no_ticket` resumes by session ID.
#[test]
fn our_client_resumes_with_s_server() {
    let dir = TempDir::new("s-server-resume");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let args = s_server_args(&pems, "ECDHE-ECDSA-AES256-GCM-SHA384", &["-naccept", "3"]);
    let (mut server, port) = s_server(&args);
    let address = format!("localhost:{port}");
    let (status, out, err) = run_client(&[&address, "--ca", &pems.ca, "--reconnect", "2"], &[]);
    assert!(status.success(), "{out}{err}");
    let outcomes: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("handshake: "))
        .collect();
    let resumed: Vec<&str> = outcomes.iter().map(|l| field(l, "resumed")).collect();
    assert_eq!(resumed, ["false", "true", "true"], "{out}");
    let ids: Vec<&str> = outcomes.iter().map(|l| field(l, "session_id")).collect();
    assert!(ids.iter().all(|id| *id == ids[0] && *id != "none"), "{out}");
    assert_eq!(
        out.matches("received: 21slt morf olleh\\n").count(),
        3,
        "{out}"
    );
    server.wait();
}

/// Matrix 6: our client authenticates to `s_server -Verify 1`; without a certificate
/// it is refused with handshake_failure.
#[test]
fn our_client_authenticates_to_s_server() {
    let dir = TempDir::new("s-server-client-auth");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let cases: [(&str, &[&str], Option<&str>); 2] = [
        (
            "with a certificate",
            &["--cert", &pems.client_cert, "--key", &pems.client_key],
            None,
        ),
        (
            "without a certificate",
            &[],
            Some("error: peer sent fatal alert HandshakeFailure"),
        ),
    ];
    for (name, extra, expected_error) in cases {
        let args = s_server_args(
            &pems,
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            &["-Verify", "1", "-CAfile", &pems.ca, "-naccept", "1"],
        );
        let (mut server, port) = s_server(&args);
        let address = format!("localhost:{port}");
        let args = [&[address.as_str(), "--ca", &pems.ca][..], extra].concat();
        let (status, out, err) = run_client(&args, &[]);
        let context = format!("{name}\n{out}{err}\n{}", server.transcript());
        match expected_error {
            None => {
                assert!(status.success(), "{context}");
                assert!(out.contains("received: 21slt morf olleh\\n"), "{context}");
                server.wait();
                // s_server verified the chain we sent.
                assert_contains(&server, &["CN = tls12 test client", "verify return:1"]);
            }
            Some(error) => {
                assert_eq!(status.code(), Some(1), "{context}");
                assert!(err.contains(error), "{context}");
                server.wait();
            }
        }
    }
}

/// Matrix 7: both binaries: one full and two abbreviated handshakes, flight by flight.
#[test]
fn our_client_resumes_with_our_server_flight_by_flight() {
    // By session ID: the flights of the cache's path (a ticket adds NewSessionTicket).
    let mut server = OurServer::start(&["--trace", "--no-tickets", "--exit-after", "3"]);
    let ca = server.printed_path("CA certificate");
    let (status, out, err) = run_client(
        &[
            &server.address(),
            "--ca",
            &ca,
            "--reconnect",
            "2",
            "--trace",
        ],
        &[],
    );
    assert!(status.success(), "{out}{err}");
    let full = [
        "-> ClientHello",
        "<- ServerHello, Certificate, ServerKeyExchange, ServerHelloDone",
        "-> ClientKeyExchange, ChangeCipherSpec, Finished",
        "<- ChangeCipherSpec, Finished",
    ];
    let resumed = [
        "-> ClientHello",
        "<- ServerHello, ChangeCipherSpec, Finished",
        "-> ChangeCipherSpec, Finished",
    ];
    let lines: Vec<&str> = out.lines().collect();
    let mut expected: Vec<String> = Vec::new();
    for (flights, resumed) in [
        (&full[..], false),
        (&resumed[..], true),
        (&resumed[..], true),
    ] {
        expected.extend(flights.iter().map(|f| f.to_string()));
        expected.push(format!("handshake: resumed={resumed}"));
        expected.push("received: hello from tls12\\n".into());
    }
    // Outcome lines compared on the field that matters here.
    let normalised: Vec<String> = lines
        .iter()
        .map(|l| match l.starts_with("handshake: ") {
            true => format!("handshake: resumed={}", field(l, "resumed")),
            false => l.to_string(),
        })
        .collect();
    assert_eq!(normalised, expected, "{out}");
    let outcomes: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("handshake: "))
        .collect();
    assert_eq!(field(outcomes[0], "group"), "X25519");
    assert_eq!(field(outcomes[1], "group"), "none");
    assert_eq!(
        field(outcomes[0], "session_id"),
        field(outcomes[2], "session_id")
    );

    let server_outcomes = server.finish();
    assert_eq!(server_outcomes.len(), 3);
    let text = server.proc.stdout.text();
    for flight in [
        "[conn 2] <- ClientHello",
        "[conn 2] -> ServerHello, ChangeCipherSpec, Finished",
        "[conn 2] <- ChangeCipherSpec, Finished",
        "[conn 1] -> ServerHello, Certificate, ServerKeyExchange, ServerHelloDone",
        "[conn 1] <- ClientKeyExchange, ChangeCipherSpec, Finished",
        "[conn 1] -> ChangeCipherSpec, Finished",
    ] {
        assert!(text.lines().any(|l| l == flight), "{flight}\n{text}");
    }
}

/// `--www` answers an HTTP request from s_client with the negotiated parameters.
#[test]
fn our_www_server_answers_s_client() {
    let dir = TempDir::new("www");
    let pems = write_pems(&dir, "pki", KeyKind::Rsa2048);
    let mut server = OurServer::start(&[
        "--cert",
        &pems.server_cert,
        "--key",
        &pems.server_key,
        "--www",
        "--exit-after",
        "1",
    ]);
    let connect = format!("127.0.0.1:{}", server.port);
    let mut client = Proc::spawn(
        "openssl s_client",
        openssl(),
        &[
            "s_client",
            "-connect",
            &connect,
            "-tls1_2",
            "-CAfile",
            &pems.ca,
            "-servername",
            "localhost",
            "-cipher",
            "ECDHE-RSA-CHACHA20-POLY1305",
            "-ign_eof",
        ],
    );
    client.write(b"GET / HTTP/1.0\r\n\r\n");
    // The server closes after its answer; s_client exits on the close_notify.
    client.wait();
    assert_contains(
        &client,
        &[
            "HTTP/1.0 200 OK",
            "Content-Type: text/plain",
            "request: GET / HTTP/1.0",
            "version: TLSv1_2",
            "suite: TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "group: X25519",
            "resumed: false",
            "extended master secret: true",
            "server name: localhost",
            "client certificate: absent",
        ],
    );
    server.finish();
}
