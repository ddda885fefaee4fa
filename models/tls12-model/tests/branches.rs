//! The branches the certificate-only model never took: a server without a certificate
//! (PSK and ECDHE_PSK), session tickets with a key rotation and a forging attacker, and
//! ALPN. Each configuration must hold every property and reach each of its `sometimes`.

use tls12::handshake::ClientAuth;
use tls12_model::check::check;
use tls12_model::{Config, Move};

fn holds_and_reaches(cfg: Config, must_reach: &[&str]) {
    let report = check(&cfg, 2);
    assert!(report.ok, "{report}");
    for name in must_reach {
        assert!(
            report.properties.iter().any(|p| p.name == *name && p.holds),
            "{name} not reached:\n{report}"
        );
    }
}

#[test]
fn a_psk_server_takes_both_branches_of_the_seed() {
    holds_and_reaches(
        Config {
            psk: true,
            client_auth: ClientAuth::Required,
            unwilling: true,
            ..Config::plain(1)
        },
        &[
            "an ECDHE_PSK handshake completes without a certificate",
            "a plain PSK handshake completes without ServerKeyExchange",
            "a PSK handshake never carries Certificate or CertificateRequest",
            "a resumed handshake completes",
        ],
    );
}

#[test]
fn tickets_resume_survive_one_rotation_and_refuse_forgeries() {
    holds_and_reaches(
        Config {
            tickets: true,
            conns: 3,
            attacker: 1,
            moves: vec![Move::Replay],
            ..Config::plain(1)
        },
        &[
            "a ticket resumes",
            "a ticket sealed before a key rotation still resumes",
            "a ticket whose key was dropped falls back to a full handshake",
            "the attacker forges a ticket and the connection fails",
            "a ticket resumes only the session sealed in it, under a key the server keeps, and never when forged",
        ],
    );
}

#[test]
fn alpn_agrees_under_every_interleaving() {
    holds_and_reaches(
        Config {
            alpn: true,
            attacker: 1,
            moves: Move::ALL.to_vec(),
            ..Config::plain(1)
        },
        &["both ends agree on an application protocol"],
    );
}

/// Cause 7 of the conformance issue under the model: with the server choosing by its own
/// order (the reverse of the clients'), every property still holds and handshakes
/// complete.
#[test]
fn the_servers_order_holds_under_every_interleaving() {
    holds_and_reaches(
        Config {
            server_order: true,
            unwilling: true,
            attacker: 1,
            moves: Move::ALL.to_vec(),
            ..Config::plain(1)
        },
        &[
            "a full handshake completes",
            "a resumed handshake completes",
        ],
    );
}

/// `eventually` with closing clients: a client may close its first connection before its
/// second completes, and every connection still reaches AppData at some point.
#[test]
fn closing_clients_still_reach_app_data_eventually() {
    holds_and_reaches(
        Config {
            close: true,
            ..Config::plain(2)
        },
        &["every connection reaches AppData"],
    );
}
