//! Running the checker and reporting: what `tls12 check` prints, as text or JSON, and
//! what the tests assert on.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use stateright::{Expectation, Model, Path};

use crate::search::{self, Options, Partition, Progress, Stop};
use crate::{explain, Action, Config, State, Tls12Model};

/// The verdict on one property.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PropertyReport {
    /// The property's prose name.
    pub name: String,
    /// `always`, `sometimes` or `eventually`.
    pub kind: String,
    /// Whether it holds (for `sometimes`: whether its case was reached).
    pub holds: bool,
    /// For a violated `always` / `eventually`: the counterexample as a message sequence.
    pub counterexample: Option<Vec<String>>,
    /// For any discovery: the path in Explorer's encoding (`tls12 explore`, then
    /// `/#/steps/<path>`).
    pub explorer_path: Option<String>,
}

/// What one part of a partitioned check explored (see [`crate::search`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionReport {
    /// Which part, from 1.
    pub index: usize,
    /// Of how many.
    pub count: usize,
    /// The level at which the frontier was split (0: split by class, or the space ended
    /// before any level was large enough, so this part explored all of it).
    pub split_level: usize,
    /// Whether the parts split by the attacker's move ([`crate::partition::attack_class`])
    /// rather than at a level: then `prefix_*` count the unattacked states, which every
    /// part explores.
    #[serde(default)]
    pub by_class: bool,
    /// Distinct states before the split level, explored by every part.
    pub prefix_unique: usize,
    /// States generated while expanding them, by every part.
    pub prefix_states: usize,
    /// States in the split level, all parts together.
    pub frontier: usize,
    /// Those that this part owns and explored below.
    pub owned: usize,
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
    /// Peak resident memory of the process in bytes, where the OS tells.
    pub peak_memory: Option<u64>,
    /// Whether every reachable state was explored (false: stopped at the memory limit).
    pub complete: bool,
    /// Why the check stopped early, if it did.
    pub stopped: Option<String>,
    /// For one part of a partitioned check: what it explored.
    pub partition: Option<PartitionReport>,
    /// Every property's verdict.
    pub properties: Vec<PropertyReport>,
    /// Whether every property holds (and, for `sometimes`, was reached) and the check
    /// was complete.
    pub ok: bool,
}

/// How the state space is searched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Search {
    /// Breadth-first, level by level ([`crate::search`]): counterexamples are shortest.
    #[default]
    Bfs,
    /// Depth-first (the same driver): holds the fingerprints of visited states and only
    /// the states on each thread's stack, so configurations too large for breadth-first
    /// fit in memory (counterexamples are valid paths but may be longer).
    Dfs,
}

/// How to run a check.
pub struct CheckOptions<'a> {
    /// Checker threads.
    pub threads: usize,
    /// Breadth- or depth-first.
    pub search: Search,
    /// One part of a partitioned check.
    pub partition: Option<Partition>,
    /// Stop cleanly, with a partial report, past this resident memory in bytes.
    pub max_memory: Option<u64>,
    /// Called about every two seconds while checking.
    pub progress: Option<&'a (dyn Fn(&Progress) + Sync)>,
}

impl CheckOptions<'_> {
    /// Breadth-first on `threads` threads, nothing else.
    pub fn threads(threads: usize) -> Self {
        Self {
            threads,
            search: Search::Bfs,
            partition: None,
            max_memory: None,
            progress: None,
        }
    }
}

/// Explores every state of `cfg` breadth-first on `threads` threads.
pub fn check(cfg: &Config, threads: usize) -> CheckReport {
    check_with(cfg, threads, Search::Bfs)
}

/// Explores every state of `cfg` on `threads` threads, searching as `search` says.
pub fn check_with(cfg: &Config, threads: usize, search: Search) -> CheckReport {
    run(
        cfg,
        &CheckOptions {
            search,
            ..CheckOptions::threads(threads)
        },
    )
}

/// Explores the state space of `cfg` as `options` say.
pub fn run(cfg: &Config, options: &CheckOptions<'_>) -> CheckReport {
    let model = Tls12Model::new(cfg.clone());
    let order = match options.search {
        Search::Bfs => search::Order::BreadthFirst,
        Search::Dfs => search::Order::DepthFirst,
    };
    // With an attacker of budget one, parts split by the attacker's move, without
    // overlap (unless a split depth is asked for); otherwise at a level, where the
    // parts' shares may overlap below.
    let by_class = options
        .partition
        .is_some_and(|p| p.split.is_none() && cfg.attacker == 1);
    let class = crate::partition::attack_class;
    let outcome = search::search_by_class(
        &model,
        &Options {
            threads: options.threads.max(1),
            order,
            partition: options.partition,
            max_memory: options.max_memory,
            progress: options.progress,
            ..Options::default()
        },
        by_class.then_some(&class as &(dyn Fn(&State) -> Option<u64> + Sync)),
    );
    let partition = options.partition.map(|p| {
        let split = outcome.split.unwrap_or(search::Split {
            level: 0,
            prefix_unique: 0,
            prefix_states: 0,
            frontier: 0,
            owned: 0,
        });
        PartitionReport {
            index: p.index,
            count: p.count,
            split_level: split.level,
            by_class,
            prefix_unique: split.prefix_unique,
            prefix_states: split.prefix_states,
            frontier: split.frontier,
            owned: split.owned,
        }
    });
    let stopped = outcome.stopped.map(|Stop::MemoryLimit(max)| {
        format!(
            "resident memory passed --max-memory ({}) at depth {}",
            human_bytes(max),
            outcome.max_depth
        )
    });
    let mut discoveries = outcome.discoveries;
    report(
        &model,
        Measured {
            search: options.search,
            states: outcome.states,
            unique_states: outcome.unique,
            max_depth: outcome.max_depth,
            elapsed: outcome.elapsed,
            peak_memory: outcome.peak_rss,
            stopped,
            partition,
        },
        |name| discoveries.remove(name),
    )
}

/// Bytes for people: `512 B`, `3.1 MB`, `4.4 GB` (powers of 1000, as `ls -h --si`).
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..=999 => format!("{bytes} B"),
        1_000..=999_999 => format!("{:.1} kB", b / 1e3),
        1_000_000..=999_999_999 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.2} GB", b / 1e9),
    }
}

/// What a search measured, before the properties are judged.
struct Measured {
    search: Search,
    states: usize,
    unique_states: usize,
    max_depth: usize,
    elapsed: Duration,
    peak_memory: Option<u64>,
    stopped: Option<String>,
    partition: Option<PartitionReport>,
}

fn report(
    model: &Tls12Model,
    measured: Measured,
    mut discovery: impl FnMut(&'static str) -> Option<Path<State, Action>>,
) -> CheckReport {
    let seconds = measured.elapsed.as_secs_f64();
    let complete = measured.stopped.is_none();
    let properties: Vec<PropertyReport> = model
        .properties()
        .into_iter()
        .map(|p| {
            let found = discovery(p.name);
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
                kind: kind.to_string(),
                holds,
                counterexample,
                explorer_path: found.map(|path| path.encode(model)),
            }
        })
        .collect();
    CheckReport {
        config: model.cfg.clone(),
        search: measured.search,
        states: measured.states,
        unique_states: measured.unique_states,
        max_depth: measured.max_depth,
        seconds,
        states_per_second: measured.states as f64 / seconds.max(1e-9),
        peak_memory: measured.peak_memory,
        // A part alone need not reach every `sometimes`: merging the parts decides.
        ok: complete
            && properties
                .iter()
                .all(|p| p.holds || (measured.partition.is_some() && p.kind == "sometimes")),
        complete,
        stopped: measured.stopped,
        partition: measured.partition,
        properties,
    }
}

/// The path that an Explorer encoding (`0/3/1/...`: the initial state's index, then each
/// action's index) names, replayed on `model`.
pub fn decode_path(model: &Tls12Model, encoded: &str) -> Option<Path<State, Action>> {
    let mut indices = encoded.split('/').map(|i| i.parse::<usize>().ok());
    let mut state = model.init_states().get(indices.next()??)?.clone();
    let init = state.clone();
    let mut actions = Vec::new();
    for index in indices {
        let mut offered = Vec::new();
        model.actions(&state, &mut offered);
        let action = offered.get(index?)?.clone();
        if let Some(next) = model.next_state(&state, action.clone()) {
            state = next;
        }
        actions.push(action);
    }
    Path::from_actions(model, init, actions.iter())
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
            "states: {} generated, {} unique{}, depth {}, {:.1} s, {:.0} states/s{}",
            self.states,
            self.unique_states,
            match self.search {
                Search::Bfs => " (breadth-first)",
                Search::Dfs => " (depth-first)",
            },
            self.max_depth,
            self.seconds,
            self.states_per_second,
            match self.peak_memory {
                Some(peak) => format!(
                    ", peak memory {} ({} bytes per unique state)",
                    human_bytes(peak),
                    peak / self.unique_states.max(1) as u64
                ),
                None => String::new(),
            }
        )?;
        if let Some(p) = &self.partition {
            match p.split_level {
                0 if p.by_class => writeln!(
                    f,
                    "partition {}/{}: split by the attacker's move; {} unattacked states (explored by every part), {} attacked states of this part's moves",
                    p.index, p.count, p.prefix_unique, p.owned
                )?,
                0 => writeln!(
                    f,
                    "partition {}/{}: no level was large enough to split; this part explored everything",
                    p.index, p.count
                )?,
                level => writeln!(
                    f,
                    "partition {}/{}: split at depth {} ({} states before it, explored by every part); owns {} of the {} states at that depth",
                    p.index, p.count, level, p.prefix_unique, p.owned, p.frontier
                )?,
            }
        }
        if let Some(why) = &self.stopped {
            writeln!(f, "INCOMPLETE: stopped early: {why}")?;
        }
        for p in &self.properties {
            let verdict = match (p.kind.as_str(), p.holds, self.complete) {
                ("sometimes", true, _) => "reached",
                ("sometimes", false, true) if self.partition.is_some() => {
                    "not reached in this part"
                }
                ("sometimes", false, true) => "NEVER REACHED (vacuous)",
                ("sometimes", false, false) => "not reached (incomplete)",
                (_, true, true) => "holds",
                (_, true, false) => "holds so far",
                (_, false, _) => "VIOLATED",
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
        let violated = self
            .properties
            .iter()
            .any(|p| !p.holds && p.kind != "sometimes");
        write!(
            f,
            "{}",
            match (self.ok, violated, self.complete) {
                (true, _, _) if self.partition.is_some() => {
                    "no violation in this part (merge the parts' --json reports for the verdict)"
                }
                (true, _, _) => "all properties hold",
                (false, true, _) => "FAILED",
                (false, false, false) => "INCOMPLETE: no violation in the states explored",
                (false, false, true) => "FAILED",
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
