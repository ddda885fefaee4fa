//! The branches beyond certificate suites and session IDs against real peers on
//! 127.0.0.1: PSK and ECDHE_PSK (`openssl s_client -psk`, `openssl s_server -psk
//! -nocert`), session tickets (`openssl s_client -reconnect`, `openssl s_server` with
//! tickets on) and ALPN (`openssl s_client -alpn`, `curl --http2`). Every child process
//! is bounded in time.

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test

mod support;

use support::{
    field, openssl, run_client, s_server, write_pems, OurServer, Proc, TempDir, TIMEOUT,
};
use tls12::pki::KeyKind;

const KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// `openssl s_client` to our server; waits for `line` to come back, then closes.
fn s_client(port: u16, args: &[&str], line: &str) -> Proc {
    let connect = format!("127.0.0.1:{port}");
    let mut all = vec!["s_client", "-connect", &connect, "-tls1_2", "-nocommands"];
    all.extend_from_slice(args);
    let mut proc = Proc::spawn("openssl s_client", openssl(), &all);
    proc.write(format!("{line}\n").as_bytes());
    proc.stdout.wait_until(TIMEOUT, |t| t.contains(line));
    proc.close_stdin();
    proc.wait();
    proc
}

/// RFC 4279 / RFC 5489 against OpenSSL's client: our server, which also has a
/// certificate, serves `s_client -psk` with PSK and ECDHE_PSK suites (no certificate
/// sent), and reports the identity.
#[test]
fn s_client_psk_and_ecdhe_psk_on_our_server() {
    let dir = TempDir::new("psk-s-client");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let psk = format!("client1:{KEY_HEX}");
    let suites = [
        ("PSK-AES128-GCM-SHA256", "TLS_PSK_WITH_AES_128_GCM_SHA256"),
        ("PSK-AES256-GCM-SHA384", "TLS_PSK_WITH_AES_256_GCM_SHA384"),
        (
            "ECDHE-PSK-CHACHA20-POLY1305",
            "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        ),
    ];
    let mut server = OurServer::start(&[
        "--cert",
        &pems.server_cert,
        "--key",
        &pems.server_key,
        "--psk",
        &psk,
        "--psk-hint",
        "gate",
        "--exit-after",
        "4",
    ]);
    for (openssl_suite, _) in suites {
        let line = format!("echo {openssl_suite}");
        let client = s_client(
            server.port,
            &[
                "-psk",
                KEY_HEX,
                "-psk_identity",
                "client1",
                "-cipher",
                openssl_suite,
            ],
            &line,
        );
        let text = client.transcript();
        assert!(text.contains(&line), "{text}");
        assert!(
            text.contains(&format!("Cipher is {openssl_suite}")),
            "{text}"
        );
        assert!(text.contains("no peer certificate available"), "{text}");
    }
    // The certificate suites still work beside them.
    let client = s_client(
        server.port,
        &[
            "-CAfile",
            &pems.ca,
            "-servername",
            "localhost",
            "-cipher",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
        ],
        "echo certificate",
    );
    assert!(
        client.transcript().contains("Verify return code: 0 (ok)"),
        "{}",
        client.transcript()
    );
    let outcomes = server.finish();
    assert_eq!(outcomes.len(), 4, "{outcomes:#?}");
    for (outcome, (_, ours)) in outcomes.iter().zip(suites) {
        assert_eq!(field(outcome, "suite"), ours, "{outcome}");
        assert_eq!(field(outcome, "psk_identity"), "client1", "{outcome}");
    }
}

/// Our client with a PSK against `openssl s_server -psk -nocert`: a server without a
/// certificate, and a client without a CA.
#[test]
fn our_client_psk_with_s_server_nocert() {
    for (cipher, ours) in [
        ("PSK-AES128-GCM-SHA256", "TLS_PSK_WITH_AES_128_GCM_SHA256"),
        (
            "ECDHE-PSK-CHACHA20-POLY1305",
            "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        ),
    ] {
        let (mut server, port) = s_server(&[
            "-tls1_2",
            "-nocert",
            "-psk",
            KEY_HEX,
            "-psk_identity",
            "client1",
            "-psk_hint",
            "gate",
            "-cipher",
            cipher,
            "-rev",
            "-naccept",
            "1",
        ]);
        let address = format!("127.0.0.1:{port}");
        let psk = format!("client1:{KEY_HEX}");
        let (status, out, err) = run_client(&[&address, "--psk", &psk], &[]);
        assert!(status.success(), "{out}{err}\n{}", server.transcript());
        assert!(out.contains(&format!("suite={ours} ")), "{out}");
        assert!(out.contains("psk_identity=client1"), "{out}");
        assert!(out.contains("received: 21slt morf olleh\\n"), "{out}");
        server.wait();
    }
}

/// RFC 5077 with OpenSSL's client: `s_client -reconnect` (tickets on) is issued a ticket
/// and resumes with it; our server reports every reconnection as resumed.
#[test]
fn s_client_reconnect_resumes_with_a_ticket() {
    let dir = TempDir::new("ticket-s-client");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let mut server = OurServer::start(&[
        "--cert",
        &pems.server_cert,
        "--key",
        &pems.server_key,
        "--exit-after",
        "6",
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
            "-reconnect",
            "-CAfile",
            &pems.ca,
            "-servername",
            "localhost",
        ],
    );
    client.close_stdin();
    client.wait();
    let text = client.transcript();
    assert!(text.contains("TLS session ticket lifetime hint"), "{text}");
    assert_eq!(text.matches("Reused, TLSv1.2").count(), 5, "{text}");
    let outcomes = server.finish();
    let resumed: Vec<&str> = outcomes.iter().map(|o| field(o, "resumed")).collect();
    assert_eq!(resumed, ["false", "true", "true", "true", "true", "true"]);
    // No session ID from a full handshake that issued a ticket.
    assert_eq!(field(&outcomes[0], "session_id"), "none");
}

/// Our client resumes with tickets against `openssl s_server` with tickets on.
#[test]
fn our_client_resumes_with_tickets_from_s_server() {
    let dir = TempDir::new("ticket-s-server");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let (mut server, port) = s_server(&[
        "-tls1_2",
        "-cert",
        &pems.server_cert,
        "-key",
        &pems.server_key,
        "-rev",
        "-naccept",
        "3",
    ]);
    let address = format!("localhost:{port}");
    let (status, out, err) = run_client(&[&address, "--ca", &pems.ca, "--reconnect", "2"], &[]);
    assert!(status.success(), "{out}{err}\n{}", server.transcript());
    let resumed: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("handshake: "))
        .map(|l| field(l, "resumed"))
        .collect();
    assert_eq!(resumed, ["false", "true", "true"], "{out}");
    server.wait();
}

/// RFC 7301: `s_client -alpn` gets our server's choice by our order, and our client gets
/// `s_server -alpn`'s.
#[test]
fn alpn_with_openssl_both_ways() {
    let dir = TempDir::new("alpn");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let mut server = OurServer::start(&[
        "--cert",
        &pems.server_cert,
        "--key",
        &pems.server_key,
        "--alpn",
        "h2,http/1.1",
        "--exit-after",
        "1",
    ]);
    let client = s_client(
        server.port,
        &[
            "-alpn",
            "http/1.1,h2",
            "-CAfile",
            &pems.ca,
            "-servername",
            "localhost",
        ],
        "echo alpn",
    );
    assert!(
        client.transcript().contains("ALPN protocol: h2"),
        "{}",
        client.transcript()
    );
    let outcomes = server.finish();
    assert_eq!(field(&outcomes[0], "alpn"), "h2");

    let (mut server, port) = s_server(&[
        "-tls1_2",
        "-cert",
        &pems.server_cert,
        "-key",
        &pems.server_key,
        "-alpn",
        "http/1.1",
        "-rev",
        "-naccept",
        "1",
    ]);
    let address = format!("localhost:{port}");
    let (status, out, err) =
        run_client(&[&address, "--ca", &pems.ca, "--alpn", "h2,http/1.1"], &[]);
    assert!(status.success(), "{out}{err}\n{}", server.transcript());
    assert!(out.contains("alpn=http/1.1"), "{out}");
    server.wait();
}

/// `curl --http2` negotiates h2 with our `--www` server over ALPN (the page that follows
/// is HTTP/1.0, which an HTTP/2 client cannot read: only the negotiation is tested).
#[test]
fn curl_http2_negotiates_h2() {
    let Ok(curl) = which("curl") else {
        panic!("curl is needed for this test (apt-get install curl; .ci/run installs it)");
    };
    let dir = TempDir::new("curl-alpn");
    let pems = write_pems(&dir, "pki", KeyKind::EcdsaP256);
    let mut server = OurServer::start(&[
        "--cert",
        &pems.server_cert,
        "--key",
        &pems.server_key,
        "--www",
        "--alpn",
        "h2,http/1.1",
        "--exit-after",
        "1",
    ]);
    let url = format!("https://localhost:{}/", server.port);
    let mut proc = Proc::spawn(
        "curl",
        &curl,
        &[
            "--http2",
            "-v",
            "-sS",
            "--max-time",
            "10",
            "--tlsv1.2",
            "--tls-max",
            "1.2",
            "--cacert",
            &pems.ca,
            &url,
        ],
    );
    proc.close_stdin();
    proc.wait();
    let text = proc.transcript();
    assert!(
        text.contains("ALPN: server accepted h2")
            || text.contains("ALPN, server accepted to use h2"),
        "{text}"
    );
    let outcomes = server.finish();
    assert_eq!(field(&outcomes[0], "alpn"), "h2", "{outcomes:#?}");
}

fn which(program: &str) -> Result<String, ()> {
    let paths = std::env::var("PATH").map_err(|_| ())?;
    paths
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
        .ok_or(())
}
