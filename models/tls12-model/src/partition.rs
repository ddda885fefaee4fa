//! Merging the reports of a partitioned check (`tls12 check --partition i/n --json`, one
//! per part) into one verdict: `tls12 check --merge parts/*.json`.
//!
//! Why the parts cover the state space is in [`crate::search`]. What merging adds up:
//! every part explored the levels before the split (the *prefix*) and saw the whole split
//! level; below it each explored from its own share. So the merged counts are the prefix
//! once plus each part's own exploration. Two parts may both reach a state below the
//! split (from different shares), and the reports hold counts, not state sets, so the
//! merged unique count is an upper bound on the union (equal to it when no state is
//! shared; the tests measure the union exactly on small configurations).

use serde::{Deserialize, Serialize};

use crate::check::{PartitionReport, PropertyReport};
use crate::{Move, State};

/// The partition class of a state when the attacker has a budget of one move: unset
/// until the attacker moves, then the connection it moved on and the move, which no
/// later step changes (its budget is spent, and a connection's `attacked` is only ever
/// set by an attack). Parts split the attacked states by this class without overlap
/// (see [`crate::search::search_by_class`]); the unattacked states, a small share of the
/// space (17,001 of 5,255,551 states for the default configuration), are explored by
/// every part.
pub fn attack_class(state: &State) -> Option<u64> {
    state.conns.iter().enumerate().find_map(|(i, c)| {
        let mv = c.attacked?;
        let index = Move::ALL.iter().position(|m| *m == mv).unwrap_or(0);
        Some((i * Move::ALL.len() + index) as u64)
    })
}

/// One part's report, as `tls12 check --partition i/n --json` wrote it.
#[derive(Clone, Debug, Deserialize)]
pub struct PartFile {
    /// The configuration, as written (compared between parts, not interpreted).
    pub config: serde_json::Value,
    /// States generated.
    pub states: usize,
    /// Distinct states.
    pub unique_states: usize,
    /// Deepest level.
    pub max_depth: usize,
    /// Wall time.
    pub seconds: f64,
    /// Peak resident memory in bytes.
    pub peak_memory: Option<u64>,
    /// Whether the part finished.
    pub complete: bool,
    /// Which part.
    pub partition: Option<PartitionReport>,
    /// The verdicts.
    pub properties: Vec<PropertyReport>,
}

/// The verdict of all parts together.
#[derive(Clone, Debug, Serialize)]
pub struct MergedReport {
    /// The configuration every part checked.
    pub config: serde_json::Value,
    /// How many parts.
    pub parts: usize,
    /// The level at which the parts split (0: no split, or split by class).
    pub split_level: usize,
    /// Whether the parts split by the attacker's move (then the unique count is exact).
    pub by_class: bool,
    /// States generated, the prefix counted once.
    pub states: usize,
    /// Distinct states, the shared prefix counted once: exact when split by class, else
    /// an upper bound on the union of the parts' state sets (a state two parts both
    /// reached counts twice).
    pub unique_states: usize,
    /// The deepest level any part reached.
    pub max_depth: usize,
    /// The slowest part's wall time: what a matrix of parallel jobs takes.
    pub seconds_max: f64,
    /// All parts' wall times added: what running them one after another takes.
    pub seconds_total: f64,
    /// The largest part's peak resident memory in bytes.
    pub peak_memory_max: Option<u64>,
    /// Each part's figures, in part order.
    pub per_part: Vec<PartFigures>,
    /// Every property's verdict over all parts.
    pub properties: Vec<PropertyReport>,
    /// Whether every part finished.
    pub complete: bool,
    /// Whether every property holds and every part finished.
    pub ok: bool,
}

/// One part's figures in a merged report.
#[derive(Clone, Debug, Serialize)]
pub struct PartFigures {
    /// Which part, from 1.
    pub index: usize,
    /// States of the split level it owned.
    pub owned: usize,
    /// Distinct states it visited (the prefix included).
    pub unique_states: usize,
    /// Its wall time.
    pub seconds: f64,
    /// Its peak resident memory in bytes.
    pub peak_memory: Option<u64>,
}

/// Merges the reports of parts `1..=n` of one partitioned check. Refuses parts of
/// different configurations or splits, a missing or repeated part, or a report of an
/// unpartitioned check.
pub fn merge(mut parts: Vec<PartFile>) -> Result<MergedReport, String> {
    let first = parts.first().ok_or("no part reports to merge")?.clone();
    let info = |p: &PartFile| {
        p.partition
            .ok_or_else(|| "a report is not of a partitioned check (--partition i/n)".to_string())
    };
    let head = info(&first)?;
    parts.sort_by_key(|p| p.partition.map_or(0, |x| x.index));
    let indices: Vec<usize> = parts
        .iter()
        .map(|p| info(p).map(|x| x.index))
        .collect::<Result<_, _>>()?;
    if indices != (1..=head.count).collect::<Vec<_>>() {
        return Err(format!(
            "need each of the parts 1..={} exactly once, got parts {indices:?}",
            head.count
        ));
    }
    for p in &parts {
        let x = info(p)?;
        if p.config != first.config {
            return Err(format!("part {} checked another configuration", x.index));
        }
        let same_split = x.count == head.count
            && x.by_class == head.by_class
            && x.split_level == head.split_level
            && x.prefix_unique == head.prefix_unique
            && x.prefix_states == head.prefix_states
            && x.frontier == head.frontier;
        if !same_split {
            return Err(format!(
                "part {} split differently (another --split-depth, or another model version)",
                x.index
            ));
        }
    }
    let (states, unique_states) = match head.split_level {
        // No level was large enough: every part explored everything.
        0 if !head.by_class => (first.states, first.unique_states),
        _ => {
            let below = |p: &PartFile| p.unique_states - head.prefix_unique - head.frontier;
            (
                head.prefix_states
                    + parts
                        .iter()
                        .map(|p| p.states - head.prefix_states)
                        .sum::<usize>(),
                head.prefix_unique + head.frontier + parts.iter().map(below).sum::<usize>(),
            )
        }
    };
    let mut properties: Vec<PropertyReport> = Vec::new();
    for p in &parts {
        for prop in &p.properties {
            match properties.iter_mut().find(|q| q.name == prop.name) {
                None => properties.push(prop.clone()),
                Some(merged) => merge_property(merged, prop),
            }
        }
    }
    let complete = parts.iter().all(|p| p.complete);
    Ok(MergedReport {
        config: first.config.clone(),
        parts: head.count,
        split_level: head.split_level,
        by_class: head.by_class,
        states,
        unique_states,
        max_depth: parts.iter().map(|p| p.max_depth).max().unwrap_or(0),
        seconds_max: parts.iter().map(|p| p.seconds).fold(0.0, f64::max),
        seconds_total: parts.iter().map(|p| p.seconds).sum(),
        peak_memory_max: parts.iter().filter_map(|p| p.peak_memory).max(),
        per_part: parts
            .iter()
            .map(|p| PartFigures {
                index: p.partition.map_or(0, |x| x.index),
                owned: p.partition.map_or(0, |x| x.owned),
                unique_states: p.unique_states,
                seconds: p.seconds,
                peak_memory: p.peak_memory,
            })
            .collect(),
        ok: complete && properties.iter().all(|p| p.holds),
        complete,
        properties,
    })
}

/// A `sometimes` is reached if any part reached it; an `always` or `eventually` holds if
/// it holds in every part, and the shortest counterexample of the parts is kept.
fn merge_property(merged: &mut PropertyReport, part: &PropertyReport) {
    let discovery = |p: &PropertyReport| p.explorer_path.is_some();
    let better = match merged.kind.as_str() {
        "sometimes" => !discovery(merged) && discovery(part),
        _ => {
            let len = |p: &PropertyReport| p.counterexample.as_ref().map_or(usize::MAX, Vec::len);
            len(part) < len(merged)
        }
    };
    match merged.kind.as_str() {
        "sometimes" => merged.holds |= part.holds,
        _ => merged.holds &= part.holds,
    }
    if better {
        merged.counterexample = part.counterexample.clone();
        merged.explorer_path = part.explorer_path.clone();
    }
}

impl std::fmt::Display for MergedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::check::human_bytes;
        writeln!(f, "config: {}", self.config)?;
        let split = match (self.by_class, self.split_level) {
            (true, _) => "split by the attacker's move".to_string(),
            (false, 0) => "no split: each part explored everything".to_string(),
            (false, level) => format!("split at depth {level}"),
        };
        writeln!(
            f,
            "merged {} parts ({split}): {} generated, {} {} unique, depth {}",
            self.parts,
            self.states,
            match self.by_class {
                true => "exactly",
                false => "at most",
            },
            self.unique_states,
            self.max_depth
        )?;
        writeln!(
            f,
            "time: slowest part {:.1} s, all parts {:.1} s; largest part's peak memory {}",
            self.seconds_max,
            self.seconds_total,
            self.peak_memory_max.map_or("unknown".into(), human_bytes)
        )?;
        for p in &self.per_part {
            writeln!(
                f,
                "  part {}: owns {}, {} unique, {:.1} s, {}",
                p.index,
                p.owned,
                p.unique_states,
                p.seconds,
                p.peak_memory.map_or("unknown".into(), human_bytes)
            )?;
        }
        if !self.complete {
            writeln!(f, "INCOMPLETE: a part stopped early")?;
        }
        for p in &self.properties {
            let verdict = match (p.kind.as_str(), p.holds) {
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
            match (self.ok, self.complete) {
                (true, _) => "all properties hold",
                (false, false) if self.properties.iter().all(|p| p.holds) => {
                    "INCOMPLETE: no violation in the states explored"
                }
                _ => "FAILED",
            }
        )
    }
}
