//! The CI-sized check: every property holds, every `sometimes` is reached (none is
//! vacuous), the unique state count is pinned (a change in the state machines that
//! changes the explored space must be noticed), and explicit witnesses exist for a cache
//! hit, a cache miss and a fatal ignore.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use stateright::{Checker, Model};
use tls12::handshake::{ClientAuth, Phase};
use tls12::msgs::enums::HandshakeType;
use tls12_model::check::check;
use tls12_model::{Action, Config, Expect, Move, Side, State, Tamper, Tls12Model};

/// Small enough for `cargo test` (well under two minutes here), big enough to reach
/// every case: two clients whose second connections compete for a one-session cache.
fn ci_config() -> Config {
    Config {
        unwilling: true,
        ignore: true,
        ..Config::plain(2)
    }
}

/// Honest deliveries on one connection until both of its channels are empty.
fn run_conn(model: &Tls12Model, state: &mut State, conn: usize, actions: &mut Vec<Action>) {
    loop {
        let c = &state.conns[conn];
        let side = match (c.to_server.queue.is_empty(), c.to_client.queue.is_empty()) {
            (false, _) => Side::ToServer,
            (true, false) => Side::ToClient,
            (true, true) => return,
        };
        let action = Action::Deliver { conn, side };
        *state = model.next_state(state, action.clone()).unwrap();
        actions.push(action);
    }
}

fn step(model: &Tls12Model, state: &mut State, action: Action, actions: &mut Vec<Action>) {
    *state = model.next_state(state, action.clone()).unwrap();
    actions.push(action);
}

#[test]
fn the_ci_configuration_holds_and_reaches_every_case() {
    let report = check(&ci_config(), 2);
    println!("{report}");
    assert!(report.ok, "{report}");
    for p in &report.properties {
        assert!(p.holds, "{}", p.name);
    }
}

#[test]
fn the_state_count_is_pinned() {
    // The state machines and the model determine this exactly: a change that changes the
    // explored space must be noticed (and this number updated on purpose). Kept apart from
    // the property checks so that mutation testing counts only what the properties catch.
    let report = check(&ci_config(), 2);
    assert_eq!(
        report.unique_states, 17001,
        "unique states changed: {report}"
    );
}

#[test]
fn witnesses_of_a_cache_hit_a_cache_miss_and_a_fatal_ignore() {
    let model = Tls12Model::new(ci_config());
    let init = model.init_states().remove(0);

    // Cache hit: client 0 connects twice; the second connection resumes.
    let (mut state, mut hit) = (init.clone(), Vec::new());
    step(&model, &mut state, Action::Connect { client: 0 }, &mut hit);
    run_conn(&model, &mut state, 0, &mut hit);
    step(&model, &mut state, Action::Connect { client: 0 }, &mut hit);
    run_conn(&model, &mut state, 1, &mut hit);
    assert!(
        state.conns[1]
            .client
            .as_ref()
            .unwrap()
            .summary()
            .unwrap()
            .resumed
    );

    // Cache miss: client 1's full handshake evicts client 0's session (capacity 1).
    let (mut state, mut miss) = (init.clone(), Vec::new());
    step(&model, &mut state, Action::Connect { client: 0 }, &mut miss);
    run_conn(&model, &mut state, 0, &mut miss);
    step(&model, &mut state, Action::Connect { client: 1 }, &mut miss);
    run_conn(&model, &mut state, 2, &mut miss);
    step(&model, &mut state, Action::Connect { client: 0 }, &mut miss);
    run_conn(&model, &mut state, 1, &mut miss);
    assert_eq!(state.conns[1].cache_hit, Some(false));

    // Fatal ignore: the server ignores the ClientHello; the client's timer fires.
    let (mut state, mut ignore) = (init, Vec::new());
    step(
        &model,
        &mut state,
        Action::Connect { client: 0 },
        &mut ignore,
    );
    step(&model, &mut state, Action::Ignore { conn: 0 }, &mut ignore);
    step(&model, &mut state, Action::Timeout { conn: 0 }, &mut ignore);
    assert_eq!(state.conns[0].client_phase(), Phase::Closed);

    let checker = model.checker().spawn_bfs().join();
    checker.assert_discovery("a resumed handshake completes", hit);
    checker.assert_discovery("a cache miss falls back to a full handshake", miss);
    checker.assert_discovery("a fatal ignore closes the client", ignore);
}

#[test]
fn client_authentication_required_holds() {
    let cfg = Config {
        client_auth: ClientAuth::Required,
        client_cert: true,
        ..Config::plain(1)
    };
    let report = check(&cfg, 2);
    assert!(report.ok, "{report}");
    assert!(report
        .properties
        .iter()
        .any(|p| p.name == "client authentication completes" && p.holds));
}

#[test]
fn every_attacker_move_is_applied_and_rejected() {
    let cfg = Config {
        attacker: 1,
        moves: Move::ALL.to_vec(),
        ..Config::plain(1)
    };
    let report = check(&cfg, 2);
    assert!(report.ok, "{report}");
    let attacks = report
        .properties
        .iter()
        .filter(|p| p.name.starts_with("the attacker"))
        .count();
    assert_eq!(attacks, Move::ALL.len());
}

#[test]
fn an_impostor_with_a_stolen_certificate_is_refused() {
    let cfg = Config {
        conns: 1,
        client_auth: ClientAuth::Required,
        impostor: true,
        ..Config::plain(1)
    };
    let report = check(&cfg, 2);
    assert!(report.ok, "{report}");
    assert!(report
        .properties
        .iter()
        .any(|p| p.name == "an impostor's CertificateVerify is refused" && p.holds));
}

/// One client with a certificate, asked for it optionally, whose second connection may
/// ask for another name or offer fewer suites: every message a field edit applies to is
/// on the wire, and the client has reasons not to offer its session.
fn tamper_config() -> Config {
    Config {
        client_auth: ClientAuth::Optional,
        client_cert: true,
        attacker: 1,
        moves: vec![Move::Tamper],
        vary: true,
        ..Config::plain(1)
    }
}

#[test]
fn every_field_edit_is_answered_as_the_rfcs_say() {
    let model = Tls12Model::new(tamper_config());
    for (arg, edit) in Tamper::ALL.iter().copied().enumerate() {
        let mut state = model.init_states().remove(0);
        let mut path = Vec::new();
        step(&model, &mut state, Action::Connect { client: 0 }, &mut path);
        let side = match edit.target() {
            HandshakeType::ClientHello => Side::ToServer,
            _ => {
                step(
                    &model,
                    &mut state,
                    Action::Deliver {
                        conn: 0,
                        side: Side::ToServer,
                    },
                    &mut path,
                );
                Side::ToClient
            }
        };
        let attack = Action::Attack {
            conn: 0,
            side,
            mv: Move::Tamper,
            arg,
        };
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        assert!(actions.contains(&attack), "{edit:?} is not offered");
        step(&model, &mut state, attack, &mut path);
        step(
            &model,
            &mut state,
            Action::Deliver { conn: 0, side },
            &mut path,
        );
        let conn = &state.conns[0];
        let receiver_alert = match side {
            Side::ToServer => conn.server.as_ref().unwrap().error().cloned(),
            Side::ToClient => conn.client.as_ref().unwrap().error().cloned(),
        }
        .and_then(|e| e.alert_sent());
        match edit.expect() {
            Expect::Refuse(alert) => assert_eq!(receiver_alert, Some(alert), "{edit:?}"),
            Expect::Group(_) | Expect::NoCertificate => {
                assert_eq!(receiver_alert, None, "{edit:?}")
            }
        }
        assert!(!state.violations.tamper_answered, "{edit:?}");
    }
}

#[test]
fn field_edits_and_changed_clients_hold() {
    let report = check(&tamper_config(), 2);
    assert!(report.ok, "{report}");
    assert!(report.properties.iter().any(|p| p.name
        == "a client keeps a stored session made for another name or suite to itself"
        && p.holds));
}

#[test]
fn server_policies_are_part_of_the_state() {
    // The checker tells states apart by hash and equality: two servers that differ only
    // in their resumption policy must differ in both, or it would merge states whose
    // futures differ.
    use std::hash::BuildHasher;
    use std::sync::Arc;
    use tls12::crypto::symbolic::{SymbolicPki, SymbolicProvider};
    use tls12::handshake::server::{Hook, ServerConfig};
    use tls12::ServerConnection;
    let pki = SymbolicPki::new("server.example");
    let willing = ServerConfig::new(pki.server_chain.clone(), pki.server_key.clone());
    let mut unwilling = willing.clone();
    unwilling.willing_to_resume = Some(Hook(|_| false));
    let mut picky = willing.clone();
    picky.willing_to_resume = Some(Hook(|s| s.extended_master_secret));
    let conn = |cfg: &ServerConfig<_>| {
        ServerConnection::new(Arc::new(cfg.clone()), SymbolicProvider::new(2))
    };
    let fixed =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
    let fingerprint = |c: &ServerConnection<SymbolicProvider>| fixed.hash_one(c);
    let (a, b, c) = (conn(&willing), conn(&unwilling), conn(&picky));
    // Separately built (no shared allocation to short-cut the comparison).
    assert_eq!(b, conn(&unwilling));
    assert_ne!(a, b);
    assert_ne!(b, c);
    assert_ne!(fingerprint(&b), fingerprint(&c));
    assert_eq!(fingerprint(&b), fingerprint(&conn(&unwilling)));
}

#[test]
fn closing_keeps_the_outcome_even_when_close_notify_is_duplicated() {
    // A close_notify delivered twice, or a record after it, must not erase what the
    // handshake settled.
    let cfg = Config {
        conns: 1,
        attacker: 1,
        moves: vec![Move::Duplicate, Move::InjectAppData],
        close: true,
        ..Config::plain(1)
    };
    let report = check(&cfg, 2);
    assert!(report.ok, "{report}");
    assert!(report
        .properties
        .iter()
        .any(|p| p.name == "a client closes and both ends keep the outcome" && p.holds));
}

#[test]
fn a_p384_server_certificate_needs_its_curve_offered() {
    // RFC 8422 §5.1.1: the curve of an ECDSA certificate must be one the client lists.
    let cfg = Config {
        conns: 1,
        attacker: 1,
        moves: vec![Move::Tamper],
        p384: true,
        ..Config::plain(1)
    };
    let report = check(&cfg, 2);
    assert!(report.ok, "{report}");
}

#[test]
fn a_renegotiating_client_is_declined() {
    let cfg = Config {
        renegotiate: true,
        ..Config::plain(1)
    };
    let report = check(&cfg, 2);
    assert!(report.ok, "{report}");
    assert!(report
        .properties
        .iter()
        .any(|p| p.name == "a client asks to renegotiate and the server declines" && p.holds));
}

#[test]
fn the_ci_sweep_stays_within_a_ci_job_and_covers_every_option() {
    let configs = tls12_model::check::sweep();
    assert_eq!(configs.len(), 54);
    // Three clients with an attacker are far beyond a CI job (see the README's table).
    assert!(configs.iter().all(|c| c.clients < 3 || c.attacker == 0));
    for option in [
        |c: &Config| c.vary,
        |c: &Config| c.close,
        |c: &Config| c.renegotiate,
        |c: &Config| c.p384,
        |c: &Config| c.impostor,
        |c: &Config| c.psk,
        |c: &Config| c.tickets,
        |c: &Config| c.alpn,
        |c: &Config| c.server_order,
    ] {
        assert!(configs.iter().any(|c| option(c) && c.attacker > 0));
    }
    // Sharding splits the sweep without losing or repeating a configuration.
    let mut shards: Vec<Config> = (1..=4)
        .flat_map(|i| tls12_model::check::shard(configs.clone(), i, 4))
        .collect();
    assert_eq!(shards.len(), configs.len());
    shards.sort_by_key(|c| format!("{c:?}"));
    let mut all = configs;
    all.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(shards, all);
}
