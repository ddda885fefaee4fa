//! The checker at scale: our breadth-first driver agrees with stateright's checkers,
//! reports progress, stops at a memory ceiling, and partitions one state space into parts
//! that together cover it (the same states, every `sometimes`, a planted bug in exactly the
//! parts that hold it); the picture of a path is a message sequence chart.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use stateright::{Checker, Model, Property};
use tls12_model::check::{run, CheckOptions, CheckReport};
use tls12_model::partition::{merge, PartFile};
use tls12_model::search::{fingerprint, search, search_by_class, Options, Order, Partition};
use tls12_model::{Action, Config, Move, State, Tls12Model};

/// One client, two connections, ignores, declined resumptions and an attacker of budget
/// 1 with every move: 10,550 states, every kind of step.
fn attacked() -> Config {
    Config {
        unwilling: true,
        ignore: true,
        attacker: 1,
        moves: Move::ALL.to_vec(),
        ..Config::plain(1)
    }
}

/// One client, an attacker who drops, duplicates and reorders: 2,260 states, small
/// enough to split many ways in a debug build.
fn small() -> Config {
    Config {
        unwilling: true,
        ignore: true,
        attacker: 1,
        moves: vec![Move::Drop, Move::Duplicate, Move::Reorder],
        ..Config::plain(1)
    }
}

/// Two clients without attacker, with ignores: 3,785 states.
fn two_clients() -> Config {
    Config {
        ignore: true,
        ..Config::plain(2)
    }
}

fn visited(model: &impl SearchModel, partition: Option<Partition>, order: Order) -> HashSet<u64> {
    model
        .run(&Options {
            threads: 2,
            order,
            partition,
            keep_visited: true,
            ..Options::default()
        })
        .into_iter()
        .collect()
}

/// What the tests need of a model: a search that keeps its visited fingerprints.
trait SearchModel {
    fn run(&self, options: &Options<'_>) -> Vec<u64>;
}

impl SearchModel for Tls12Model {
    fn run(&self, options: &Options<'_>) -> Vec<u64> {
        search(self, options).visited.unwrap()
    }
}

#[test]
fn our_driver_counts_what_stateright_counts() {
    for cfg in [
        small(),
        two_clients(),
        // With an `eventually` (no attacker, no ignores).
        Config::plain(2),
    ] {
        let ours = search(&Tls12Model::new(cfg.clone()), &Options::default());
        let deep = search(
            &Tls12Model::new(cfg.clone()),
            &Options {
                threads: 2,
                order: Order::DepthFirst,
                ..Options::default()
            },
        );
        assert_eq!(deep.unique, ours.unique, "{cfg:?}");
        let mut d: Vec<_> = deep.discoveries.keys().copied().collect();
        let theirs = Tls12Model::new(cfg.clone())
            .checker()
            .threads(2)
            .spawn_bfs()
            .join();
        assert_eq!(ours.unique, theirs.unique_state_count(), "{cfg:?}");
        // A state reached again with an `eventually` pending is expanded again (see
        // `search`), so only configurations without one generate exactly as many.
        match cfg.attacker == 0 && !cfg.ignore {
            true => assert!(ours.states >= theirs.state_count(), "{cfg:?}"),
            false => assert_eq!(ours.states, theirs.state_count(), "{cfg:?}"),
        }
        assert_eq!(ours.max_depth, theirs.max_depth(), "{cfg:?}");
        // The same properties are discovered.
        let mut a: Vec<_> = ours.discoveries.keys().copied().collect();
        let mut b: Vec<_> = theirs.discoveries().keys().copied().collect();
        a.sort();
        b.sort();
        d.sort();
        assert_eq!(a, b, "{cfg:?}");
        assert_eq!(d, b, "{cfg:?}");
        assert!(a.contains(&"a full handshake completes"));
        // Thread count changes neither the count nor the levels.
        let one = search(
            &Tls12Model::new(cfg.clone()),
            &Options {
                threads: 1,
                ..Options::default()
            },
        );
        assert_eq!((one.unique, one.max_depth), (ours.unique, ours.max_depth));
    }
}

#[test]
fn progress_is_reported_while_searching() {
    let calls = AtomicUsize::new(0);
    let last_unique = AtomicUsize::new(0);
    let report = |p: &tls12_model::search::Progress| {
        calls.fetch_add(1, Ordering::Relaxed);
        last_unique.fetch_max(p.unique, Ordering::Relaxed);
        assert!(p.depth >= 1 && p.unique >= 1);
    };
    let outcome = search(
        &Tls12Model::new(attacked()),
        &Options {
            threads: 2,
            progress: Some(&report),
            interval: Duration::from_millis(1),
            ..Options::default()
        },
    );
    assert!(calls.load(Ordering::Relaxed) >= 1);
    assert!(last_unique.load(Ordering::Relaxed) <= outcome.unique);
    assert!(outcome.stopped.is_none());
}

#[test]
fn a_memory_ceiling_stops_the_check_with_a_partial_report() {
    // A ceiling below what the process already holds: the check stops at once.
    let report = run(
        &two_clients(),
        &CheckOptions {
            max_memory: Some(1),
            ..CheckOptions::threads(2)
        },
    );
    assert!(!report.complete);
    assert!(!report.ok);
    assert!(report.stopped.as_deref().unwrap().contains("--max-memory"));
    assert!(report.unique_states < 3785);
    // Nothing is violated in what was explored: the partial report says so.
    assert!(report
        .properties
        .iter()
        .all(|p| p.holds || p.kind == "sometimes"));
    assert!(report.to_string().contains("INCOMPLETE"));
}

#[test]
fn partitions_cover_the_state_space_exactly() {
    let model = Tls12Model::new(small());
    let whole = visited(&model, None, Order::BreadthFirst);
    assert_eq!(whole.len(), 2260);
    assert_eq!(visited(&model, None, Order::DepthFirst), whole);
    for (order, splits) in [
        (
            Order::BreadthFirst,
            &[(2, None), (8, Some(10)), (4, Some(16))][..],
        ),
        (Order::DepthFirst, &[(3, Some(4)), (5, Some(9))][..]),
    ] {
        for &(count, split) in splits {
            let mut union = HashSet::new();
            let mut sizes = Vec::new();
            for index in 1..=count {
                let part = visited(
                    &model,
                    Some(Partition {
                        index,
                        count,
                        split,
                    }),
                    order,
                );
                sizes.push(part.len());
                union.extend(part);
            }
            // Every state of the whole is in some part, and no part invents one.
            assert_eq!(union, whole, "{order:?}: {count} parts split at {split:?}");
            // And the work is actually shared: no part explores nearly everything.
            assert!(
                sizes.iter().all(|&s| s < whole.len()),
                "{order:?}: {count} parts split at {split:?}: {sizes:?}"
            );
        }
    }
}

fn part_file(report: &CheckReport) -> PartFile {
    serde_json::from_value(serde_json::to_value(report).unwrap()).unwrap()
}

#[test]
fn parts_split_by_the_attackers_move_cover_the_space_without_overlap() {
    let model = Tls12Model::new(small());
    let class = tls12_model::partition::attack_class;
    let explore = |partition: Option<Partition>, order: Order| -> HashSet<u64> {
        search_by_class(
            &model,
            &Options {
                threads: 2,
                order,
                partition,
                keep_visited: true,
                ..Options::default()
            },
            Some(&class),
        )
        .visited
        .unwrap()
        .into_iter()
        .collect()
    };
    let whole = explore(None, Order::DepthFirst);
    assert_eq!(whole.len(), 2260);
    let unattacked = search(
        &Tls12Model::new(Config {
            attacker: 0,
            ..small()
        }),
        &Options::default(),
    )
    .unique;
    for (count, order) in [(3, Order::DepthFirst), (4, Order::BreadthFirst)] {
        let parts: Vec<HashSet<u64>> = (1..=count)
            .map(|index| {
                explore(
                    Some(Partition {
                        index,
                        count,
                        split: None,
                    }),
                    order,
                )
            })
            .collect();
        let union: HashSet<u64> = parts.iter().flatten().copied().collect();
        assert_eq!(union, whole, "{count} parts");
        // Every part holds the unattacked states; beyond them, no state is in two parts.
        let sum: usize = parts.iter().map(|p| p.len() - unattacked).sum();
        assert_eq!(sum + unattacked, whole.len(), "{count} parts overlap");
        assert!(parts.iter().all(|p| p.len() < whole.len()), "{count} parts");
    }
}

#[test]
fn merged_parts_reach_every_sometimes_and_cover_the_count() {
    for cfg in [small(), two_clients()] {
        let whole = run(&cfg, &CheckOptions::threads(2));
        assert!(whole.ok);
        let count = 3;
        let parts: Vec<CheckReport> = (1..=count)
            .map(|index| {
                run(
                    &cfg,
                    &CheckOptions {
                        partition: Some(Partition {
                            index,
                            count,
                            split: None,
                        }),
                        ..CheckOptions::threads(2)
                    },
                )
            })
            .collect();
        // A part alone may miss a `sometimes`; together they reach each one.
        let merged = merge(parts.iter().map(part_file).collect()).unwrap();
        assert!(merged.ok, "{merged}");
        match cfg.attacker {
            // Split by the attacker's move: no overlap, so the counts are exact.
            1 => {
                assert!(merged.by_class);
                assert_eq!(merged.unique_states, whole.unique_states);
                assert_eq!(merged.states, whole.states);
            }
            _ => {
                assert!(merged.split_level > 1);
                assert!(merged.unique_states >= whole.unique_states);
                assert!(merged.states >= whole.states);
            }
        }
        let names = |ps: &[tls12_model::check::PropertyReport]| {
            ps.iter()
                .map(|p| (p.name.clone(), p.holds))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&merged.properties), names(&whole.properties));
        // Merging refuses a missing or repeated part.
        let missing = merge(parts[..2].iter().map(part_file).collect());
        assert!(missing.unwrap_err().contains("exactly once"));
        let repeated = merge(vec![
            part_file(&parts[0]),
            part_file(&parts[0]),
            part_file(&parts[2]),
        ]);
        assert!(repeated.is_err());
        // ... and an unpartitioned report.
        assert!(merge(vec![part_file(&whole)]).is_err());
    }
}

/// The model with planted properties in place of its own: the searches below must find
/// their violations.
struct Planted(Tls12Model, fn() -> Vec<Property<Planted>>);

impl Model for Planted {
    type State = State;
    type Action = Action;
    fn init_states(&self) -> Vec<State> {
        self.0.init_states()
    }
    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        self.0.actions(state, actions)
    }
    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        self.0.next_state(last, action)
    }
    fn properties(&self) -> Vec<Property<Self>> {
        (self.1)()
    }
}

/// A planted bug: an `always` that fails where the attacker has reordered the records of
/// the server's second connection's flight.
fn planted_bug(state: &State) -> bool {
    state
        .conns
        .iter()
        .enumerate()
        .any(|(i, c)| i == 1 && c.attacked == Some(Move::Reorder) && c.to_client.delivered > 0)
}

fn planted_always() -> Vec<Property<Planted>> {
    vec![Property::always("planted", |_, s| !planted_bug(s))]
}

#[test]
fn a_planted_bug_is_reported_by_exactly_the_parts_that_hold_it() {
    let model = Planted(Tls12Model::new(small()), planted_always);
    // The ground truth, by a plain breadth-first walk: which states are violations.
    let mut bad = HashSet::new();
    let mut seen = HashSet::new();
    let mut queue: VecDeque<State> = model.init_states().into();
    while let Some(state) = queue.pop_front() {
        if planted_bug(&state) {
            bad.insert(fingerprint(&state));
        }
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        for a in actions {
            if let Some(next) = model.next_state(&state, a) {
                if seen.insert(fingerprint(&next)) {
                    queue.push_back(next);
                }
            }
        }
    }
    assert!(!bad.is_empty());
    let whole = search(&model, &Options::default());
    assert!(whole.discoveries.contains_key("planted"));
    let count = 8;
    let mut mixed = 0;
    for split in [6, 8, 12] {
        let (mut holding, mut reporting) = (Vec::new(), Vec::new());
        for index in 1..=count {
            let outcome = search(
                &model,
                &Options {
                    threads: 2,
                    partition: Some(Partition {
                        index,
                        count,
                        split: Some(split),
                    }),
                    keep_visited: true,
                    ..Options::default()
                },
            );
            let holds_bug = outcome.visited.unwrap().iter().any(|fp| bad.contains(fp));
            holding.push(holds_bug);
            reporting.push(outcome.discoveries.contains_key("planted"));
            // A reported counterexample replays to a violating state.
            if let Some(path) = outcome.discoveries.get("planted") {
                assert!(planted_bug(path.last_state()));
            }
        }
        assert_eq!(reporting, holding, "split at {split}");
        assert!(holding.iter().any(|&h| h), "split at {split}");
        mixed += usize::from(holding.iter().any(|&h| !h));
    }
    // Split where its states are few, some parts hold the bug and some do not.
    assert!(mixed > 0);
}

/// A planted `eventually`: every connection completes on both ends before any client
/// closes. With closing, a client may close its first connection before its second
/// completes, and on that path it never holds.
fn planted_eventually() -> Vec<Property<Planted>> {
    vec![Property::eventually(
        "all complete before a close",
        |m: &Planted, s: &State| {
            s.conns.len() == m.0.cfg.clients * m.0.cfg.conns
                && s.conns
                    .iter()
                    .all(|c| c.completed.0 && c.completed.1 && !c.closing)
        },
    )]
}

#[test]
fn an_eventually_violation_behind_a_join_is_found() {
    // The planted property's violating paths end in terminal states that paths on which
    // it held reach too: the violation must be found whichever path arrives first.
    let cfg = Config {
        close: true,
        ..Config::plain(1)
    };
    let model = Planted(Tls12Model::new(cfg), planted_eventually);
    for threads in [1, 2] {
        let ours = search(
            &model,
            &Options {
                threads,
                ..Options::default()
            },
        );
        let path = &ours.discoveries["all complete before a close"];
        let last = path.last_state();
        assert!(
            last.conns.iter().any(|c| c.closing),
            "the violation closes a connection"
        );
        let mut next = Vec::new();
        model.actions(last, &mut next);
        assert!(next.is_empty(), "a terminal state");
    }
    // The unplanted model holds "every connection reaches AppData" on the same space.
    let plain = Tls12Model::new(Config {
        close: true,
        ..Config::plain(1)
    });
    let ours = search(&plain, &Options::default());
    assert!(!ours
        .discoveries
        .contains_key("every connection reaches AppData"));
}

#[test]
fn a_path_draws_as_a_message_sequence_chart() {
    let cfg = attacked();
    let model = Tls12Model::new(cfg.clone());
    let report = run(&cfg, &CheckOptions::threads(2));
    for (name, needles) in [
        (
            "a resumed handshake completes",
            &[
                "client 0",
                "server",
                "offers session",
                "conn 1: ServerHello",
            ][..],
        ),
        (
            "a fatal ignore closes the client",
            &["ignored by the server", "timer fires"][..],
        ),
        (
            "the attacker injects Finished and the connection fails",
            &["attacker: InjectFinished", "[attacker's]"][..],
        ),
    ] {
        let encoded = report
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.explorer_path.clone())
            .unwrap();
        let path = tls12_model::check::decode_path(&model, &encoded).unwrap();
        let svg = model.as_svg(path).unwrap();
        assert!(svg.starts_with("<svg"), "{name}");
        assert!(svg.trim_end().ends_with("</svg>"), "{name}");
        for needle in needles {
            assert!(svg.contains(needle), "{name}: no {needle:?} in\n{svg}");
        }
    }
}
