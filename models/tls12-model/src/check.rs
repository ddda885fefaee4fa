//! Running the checker and reporting: what `tls12 check` prints, as text or JSON, and
//! what the tests assert on.

use std::time::Instant;

use serde::Serialize;
use stateright::{Checker, Expectation, Model};

use crate::{explain, Config, Tls12Model};

/// The verdict on one property.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyReport {
    /// The property's prose name.
    pub name: String,
    /// `always`, `sometimes` or `eventually`.
    pub kind: &'static str,
    /// Whether it holds (for `sometimes`: whether its case was reached).
    pub holds: bool,
    /// For a violated `always` / `eventually`: the counterexample as a message sequence.
    pub counterexample: Option<Vec<String>>,
    /// For any discovery: the path in Explorer's encoding (`tls12 explore`, then
    /// `/#/steps/<path>`).
    pub explorer_path: Option<String>,
}

/// The outcome of one exhaustive check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// What was explored.
    pub config: Config,
    /// How.
    pub search: Search,
    /// States generated, duplicates included.
    pub states: usize,
    /// Distinct states.
    pub unique_states: usize,
    /// The longest path explored.
    pub max_depth: usize,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Generated states per second.
    pub states_per_second: f64,
    /// Every property's verdict.
    pub properties: Vec<PropertyReport>,
    /// Whether every property holds.
    pub ok: bool,
}

/// How the state space is searched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Search {
    /// Breadth-first: counterexamples are shortest.
    #[default]
    Bfs,
    /// Depth-first: holds only the current path and the fingerprints of visited states,
    /// so configurations too large for breadth-first fit in memory (counterexamples may
    /// be longer).
    Dfs,
}

/// Explores every state of `cfg` breadth-first on `threads` threads.
pub fn check(cfg: &Config, threads: usize) -> CheckReport {
    check_with(cfg, threads, Search::Bfs)
}

/// Explores every state of `cfg` on `threads` threads, searching as `search` says.
pub fn check_with(cfg: &Config, threads: usize, search: Search) -> CheckReport {
    let start = Instant::now();
    let builder = Tls12Model::new(cfg.clone())
        .checker()
        .threads(threads.max(1));
    match search {
        Search::Bfs => report(cfg, search, start, builder.spawn_bfs().join()),
        Search::Dfs => report(cfg, search, start, builder.spawn_dfs().join()),
    }
}

fn report(
    cfg: &Config,
    search: Search,
    start: Instant,
    checker: impl Checker<Tls12Model>,
) -> CheckReport {
    let seconds = start.elapsed().as_secs_f64();
    let model = checker.model();
    let properties: Vec<PropertyReport> = model
        .properties()
        .into_iter()
        .map(|p| {
            let found = checker.discovery(p.name);
            let (kind, holds) = match p.expectation {
                Expectation::Always => ("always", found.is_none()),
                Expectation::Eventually => ("eventually", found.is_none()),
                Expectation::Sometimes => ("sometimes", found.is_some()),
            };
            let counterexample = found
                .as_ref()
                .filter(|_| !holds)
                .map(|path| explain(model, &path.clone().into_vec()));
            PropertyReport {
                name: p.name.to_string(),
                kind,
                holds,
                counterexample,
                explorer_path: found.map(|path| path.encode(model)),
            }
        })
        .collect();
    let states = checker.state_count();
    CheckReport {
        config: cfg.clone(),
        search,
        states,
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        seconds,
        states_per_second: states as f64 / seconds.max(1e-9),
        ok: properties.iter().all(|p| p.holds),
        properties,
    }
}

impl std::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "config: clients={} conns={} cache={} unwilling={} ignore={} client_auth={:?} client_cert={} impostor={} attacker={} moves={:?} vary={} close={} renegotiate={} p384={} psk={} tickets={} alpn={} server_order={}",
            c.clients, c.conns, c.cache, c.unwilling, c.ignore, c.client_auth, c.client_cert, c.impostor, c.attacker, c.moves, c.vary, c.close, c.renegotiate, c.p384, c.psk, c.tickets, c.alpn, c.server_order
        )?;
        writeln!(
            f,
            "states: {} generated, {} unique{}, depth {}, {:.1} s, {:.0} states/s",
            self.states,
            self.unique_states,
            match self.search {
                Search::Bfs => " (breadth-first)",
                Search::Dfs => " (depth-first)",
            },
            self.max_depth,
            self.seconds,
            self.states_per_second
        )?;
        for p in &self.properties {
            let verdict = match (p.kind, p.holds) {
                ("sometimes", true) => "reached",
                ("sometimes", false) => "NEVER REACHED (vacuous)",
                (_, true) => "holds",
                (_, false) => "VIOLATED",
            };
            writeln!(f, "  {:<10} {:<24} {}", p.kind, verdict, p.name)?;
            if let Some(lines) = &p.counterexample {
                writeln!(f, "    counterexample:")?;
                for line in lines {
                    writeln!(f, "      {line}")?;
                }
            }
            if !p.holds {
                if let Some(path) = &p.explorer_path {
                    writeln!(f, "    explorer path: {path}")?;
                }
            }
        }
        write!(
            f,
            "{}",
            if self.ok {
                "all properties hold"
            } else {
                "FAILED"
            }
        )
    }
}

/// The configurations a CI matrix sweeps, in a fixed order: 1 and 2 clients of 2
/// connections under each client-authentication setting, with and without ignores,
/// without and with an attacker of budget 1 (every move); 3 clients under each
/// client-authentication setting without attacker or ignores (3 clients with an attacker
/// are beyond a CI job); and one client with each option (`vary`, `close`,
/// `renegotiate`, `p384`, `impostor`, `psk`, `tickets`, `alpn`, `server_order`) and the attacker. `--shard i/n` takes every n-th
/// from the i-th.
pub fn sweep() -> Vec<Config> {
    use tls12::handshake::ClientAuth;
    let base = Config {
        unwilling: true,
        ..Config::plain(1)
    };
    let auths = [
        (ClientAuth::None, false),
        (ClientAuth::Optional, false),
        (ClientAuth::Optional, true),
        (ClientAuth::Required, false),
        (ClientAuth::Required, true),
    ];
    let attacked = |cfg: Config| Config {
        attacker: 1,
        moves: crate::Move::ALL.to_vec(),
        ..cfg
    };
    let mut configs = Vec::new();
    for clients in 1..=2 {
        for (client_auth, client_cert) in auths {
            for ignore in [false, true] {
                let cfg = Config {
                    clients,
                    ignore,
                    client_auth,
                    client_cert,
                    ..base.clone()
                };
                configs.push(cfg.clone());
                configs.push(attacked(cfg));
            }
        }
    }
    for (client_auth, client_cert) in auths {
        configs.push(Config {
            clients: 3,
            unwilling: false,
            client_auth,
            client_cert,
            ..base.clone()
        });
    }
    let one = attacked(base);
    configs.extend([
        Config {
            vary: true,
            ..one.clone()
        },
        Config {
            close: true,
            ..one.clone()
        },
        Config {
            renegotiate: true,
            ..one.clone()
        },
        Config {
            p384: true,
            ..one.clone()
        },
        Config {
            impostor: true,
            client_auth: ClientAuth::Required,
            ..one.clone()
        },
        Config {
            psk: true,
            client_auth: ClientAuth::Required,
            ..one.clone()
        },
        Config {
            tickets: true,
            ..one.clone()
        },
        Config {
            alpn: true,
            ..one.clone()
        },
        Config {
            server_order: true,
            ..one
        },
    ]);
    configs
}

/// Shard `index` (1-based) of `count`: every `count`-th configuration from the
/// `index`-th.
pub fn shard(configs: Vec<Config>, index: usize, count: usize) -> Vec<Config> {
    configs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % count == index - 1)
        .map(|(_, c)| c)
        .collect()
}
