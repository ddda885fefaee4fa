//! A breadth-first checker over stateright's [`Model`] trait, for what stateright 0.31's
//! own checkers do not offer: a progress report while it runs, a memory ceiling that stops
//! it cleanly, and partitions of one state space over many machines.
//!
//! **Levels.** The search is level-synchronous: level `d` holds exactly the states whose
//! shortest distance from an initial state is `d - 1` (the initial states are level 1, as
//! stateright counts depth). A level is expanded by all threads at once; a state enters
//! the next level only if its fingerprint is new. Because levels are exact, the set of
//! states in each level is the same in every run, whatever the thread count or order.
//!
//! **Memory.** The visited set holds fingerprints only (each with its parent's, so a
//! counterexample can be rebuilt by replaying the model from an initial state); full
//! states exist only for the level being expanded and the one being built, and a chunk of
//! the current level is freed as soon as it is expanded. Neither stateright's per-state
//! path of action indices nor a copy of its properties per job is kept.
//!
//! **Partitions by class** ([`search_by_class`]): when the model offers a class that a
//! step may set once and never change (for tls12: the attacker's move, when its budget
//! is one), part `i` explores every unclassified state and only the classified states of
//! its classes; the parts then cover the space with no overlap below what they share.
//!
//! **Partitions by level.** With [`Partition`] `i/n` and split level `k`, every part explores
//! levels `1..=k` in full (the same states in every part), keeps from level `k` only its
//! share, and explores everything reachable from those. The parts together visit every
//! reachable state: a state at level `> k` has a shortest path whose level-`k` state `f`
//! belongs to exactly one part `p`; the states after `f` on that path are all at levels
//! `> k`, so part `p` never finds them pre-marked and expands each in turn. A state's
//! properties are checked in every part that visits it, so a violation reachable only
//! below `f` is reported by part `p` (and by any other part whose share also reaches it).
//! Shares may overlap below the split, where interleavings reconverge: exhaustive, but
//! for an interleaving model not much faster than one part.
//!
//! The share is decided by position, not by fingerprint: fingerprints are not the same
//! in two processes (a server configuration's hook hashes as a function address, which
//! moves with address-space randomisation), but the order in which one thread discovers
//! the levels before the split is: the model's actions come in a fixed order and whether
//! a state is new depends only on its contents. So a part expands the levels before the
//! split on one thread, and owns the states of the split level whose position in that
//! order is `i - 1` modulo `n` (which also balances the shares to within one state).
//!
//! The semantics of the three kinds of property are stateright's: `always` and
//! `sometimes` are checked on every visited state; `eventually` is tracked along paths
//! and reported at terminal states. One difference: where stateright keeps, for a state
//! reached by several paths, only the first path's pending `eventually` properties (and
//! so can miss a path on which one never holds), this driver expands a state again when
//! it is reached with a property pending that it was not expanded with. On acyclic models
//! that makes `eventually` exact; on cyclic ones it stays unsound, as stateright's.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use nohash_hasher::NoHashHasher;
use stateright::{Expectation, Model, Path};

/// A state's fingerprint: the hash stateright uses (ahash, fixed seeds), so unique-state
/// counts agree with stateright's checkers.
pub fn fingerprint<T: Hash>(value: &T) -> u64 {
    let h = ahash::RandomState::with_seeds(123_456_789_987_654_321, 98_765_432_123_456_789, 0, 0)
        .hash_one(value);
    // stateright reserves 0; so do we (0 marks "no parent").
    h.max(1)
}

/// One part of a partitioned search: part `index` (1-based) of `count`, split at level
/// `split` (`None`: the first level with at least [`AUTO_SPLIT_FACTOR`]` × count`
/// states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Which part, from 1.
    pub index: usize,
    /// How many parts.
    pub count: usize,
    /// The level at which the frontier is split.
    pub split: Option<usize>,
}

/// With an automatic split level, split at the first level holding at least this many
/// states per part, so that each part's share is large enough to balance.
pub const AUTO_SPLIT_FACTOR: usize = 64;

impl Partition {
    /// Whether the state at `position` in the split level's canonical order belongs to
    /// this part.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

/// A snapshot of a running search.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    /// States generated, duplicates included.
    pub states: usize,
    /// Distinct states.
    pub unique: usize,
    /// The level being expanded.
    pub depth: usize,
    /// Time since the start.
    pub elapsed: Duration,
    /// Resident memory of the process, in bytes, where the OS tells.
    pub rss: Option<u64>,
}

/// The order in which states are expanded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Level by level: counterexamples are shortest; the two levels being expanded and
    /// built are held in memory as full states.
    #[default]
    BreadthFirst,
    /// Depth-first on each thread, threads sharing the visited set and splitting work:
    /// only the states on each thread's stack are held, so memory is the visited set's
    /// (counterexamples are valid paths, not shortest ones). Partitions still split at an
    /// exact level: the levels before the split are expanded breadth-first.
    DepthFirst,
}

/// How to search.
pub struct Options<'a> {
    /// Worker threads.
    pub threads: usize,
    /// Breadth- or depth-first.
    pub order: Order,
    /// Explore only this part of the state space.
    pub partition: Option<Partition>,
    /// Stop cleanly when the process's resident memory exceeds this many bytes.
    pub max_memory: Option<u64>,
    /// Called about every `interval` while searching.
    pub progress: Option<&'a (dyn Fn(&Progress) + Sync)>,
    /// How often `progress` is called.
    pub interval: Duration,
    /// Keep the visited fingerprints in the outcome (for tests that compare state sets).
    pub keep_visited: bool,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            threads: 1,
            order: Order::BreadthFirst,
            partition: None,
            max_memory: None,
            progress: None,
            interval: Duration::from_secs(2),
            keep_visited: false,
        }
    }
}

/// Why a search ended before exploring everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The process's resident memory passed the ceiling (bytes).
    MemoryLimit(u64),
}

/// What a partitioned search saw at its split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// The split level.
    pub level: usize,
    /// Distinct states in levels before the split level (explored by every part).
    pub prefix_unique: usize,
    /// States generated while expanding those levels (by every part).
    pub prefix_states: usize,
    /// States in the split level, all parts together.
    pub frontier: usize,
    /// Those that belong to this part.
    pub owned: usize,
}

/// The result of a search.
pub struct Outcome<M: Model> {
    /// States generated, duplicates included.
    pub states: usize,
    /// Distinct states visited.
    pub unique: usize,
    /// The deepest level expanded (initial states: 1).
    pub max_depth: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Peak resident memory of the process, in bytes, where the OS tells.
    pub peak_rss: Option<u64>,
    /// Set when the search stopped early.
    pub stopped: Option<Stop>,
    /// For a partitioned search: what the split looked like.
    pub split: Option<Split>,
    /// Each discovered property's path from an initial state.
    pub discoveries: HashMap<&'static str, Path<M::State, M::Action>>,
    /// With `Options::keep_visited`: the fingerprints of the states this search checked
    /// (for a part: not the split level's states of other parts, which it only saw).
    pub visited: Option<Vec<u64>>,
}

type NoHash = BuildHasherDefault<NoHashHasher<u64>>;

/// The visited set: fingerprint → parent fingerprint (0 for an initial state), in shards
/// so threads rarely contend.
struct Visited {
    shards: Vec<Mutex<HashMap<u64, u64, NoHash>>>,
}

const SHARDS: usize = 64;

impl Visited {
    fn new() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::default()))
                .collect(),
        }
    }

    fn shard(&self, fp: u64) -> std::sync::MutexGuard<'_, HashMap<u64, u64, NoHash>> {
        // The hash table takes its bucket from the low bits and its control byte from the
        // top seven: the shard comes from bits in between, or every key of a shard would
        // share its control byte and each probe would compare keys all along.
        let index = (fp >> 32) as usize % SHARDS;
        match self.shards[index].lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Inserts `fp` with its parent; whether it was new.
    fn insert(&self, fp: u64, parent: u64) -> bool {
        use std::collections::hash_map::Entry;
        match self.shard(fp).entry(fp) {
            Entry::Vacant(slot) => {
                slot.insert(parent);
                true
            }
            Entry::Occupied(_) => false,
        }
    }

    fn parent(&self, fp: u64) -> Option<u64> {
        self.shard(fp).get(&fp).copied()
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |g| g.len()))
            .sum()
    }

    fn fingerprints(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for shard in &self.shards {
            if let Ok(g) = shard.lock() {
                out.extend(g.keys().copied());
            }
        }
        out
    }
}

/// A state waiting to be expanded.
struct Entry<S> {
    state: S,
    fp: u64,
    /// The length of the path that discovered it (initial states: 1).
    depth: u32,
    /// The `eventually` properties (by their rank among them) not yet satisfied on the
    /// path that discovered this state.
    ebits: u64,
}

/// States are handed to threads in chunks of this many.
const CHUNK: usize = 512;

/// Resident and peak resident memory of this process, from `/proc/self/status`.
pub fn memory() -> (Option<u64>, Option<u64>) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (None, None);
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A state's partition class (see [`search_by_class`]).
pub type ClassOf<'a, S> = &'a (dyn Fn(&S) -> Option<u64> + Sync);

/// A partition by class (see [`search_by_class`]).
struct Classes<'m, M: Model> {
    class: ClassOf<'m, M::State>,
    part: Partition,
}

/// Shared counters of a running search.
struct Shared<'m, M: Model> {
    model: &'m M,
    properties: Vec<stateright::Property<M>>,
    /// For each property: discovered yet?
    found: Vec<AtomicBool>,
    /// For each property: the fingerprint of the state that discovered it.
    discoveries: Mutex<HashMap<usize, u64>>,
    /// For each property: its rank among the `eventually` ones.
    eventually_rank: Vec<Option<u32>>,
    visited: Visited,
    /// With `eventually` properties: for each visited state, the union of the pending
    /// bits it was expanded with. A state reached again with a bit it was not expanded
    /// with is expanded again for that bit, so a path on which a property never holds is
    /// followed to its end even where it joins a path on which it held (stateright keeps
    /// the first path's bits only, and can miss such a violation).
    pending: Option<Mutex<HashMap<u64, u64, NoHash>>>,
    /// Split-level states of other parts: never expanded here, not even again.
    foreign: Mutex<std::collections::HashSet<u64, NoHash>>,
    /// With a partition by class: the class of a state, and the part that explores it.
    class: Option<Classes<'m, M>>,
    /// Distinct unclassified states, and the states generated into them (every part
    /// explores these).
    unclassified: (AtomicUsize, AtomicUsize),
    states: AtomicUsize,
    depth: AtomicUsize,
    stop: AtomicBool,
}

impl<M> Shared<'_, M>
where
    M: Model,
    M::State: Hash,
{
    fn discover(&self, property: usize, fp: u64) {
        if !self.found[property].swap(true, Ordering::Relaxed) {
            if let Ok(mut d) = self.discoveries.lock() {
                d.entry(property).or_insert(fp);
            }
        }
    }

    /// For a state reached again with pending bits `ebits`: the bits it must be expanded
    /// again for, if any.
    fn again(&self, fp: u64, ebits: u64) -> Option<u64> {
        let mut map = self.pending.as_ref()?.lock().ok()?;
        let known = map.entry(fp).or_insert(0);
        let delta = ebits & !*known;
        if delta == 0 || self.foreign.lock().ok()?.contains(&fp) {
            return None;
        }
        *known |= delta;
        Some(delta)
    }

    /// Checks one state's properties and expands it into `out`.
    fn expand(
        &self,
        entry: Entry<M::State>,
        out: &mut Vec<Entry<M::State>>,
        actions: &mut Vec<M::Action>,
    ) {
        let Entry {
            state,
            fp,
            depth,
            mut ebits,
        } = entry;
        self.depth.fetch_max(depth as usize, Ordering::Relaxed);
        let mut awaiting = false;
        for (i, property) in self.properties.iter().enumerate() {
            let rank = self.eventually_rank[i];
            let found = self.found[i].load(Ordering::Relaxed);
            if found && rank.is_some_and(|r| ebits & (1 << r) == 0) {
                continue;
            }
            let holds = (property.condition)(self.model, &state);
            match property.expectation {
                Expectation::Always if !holds => self.discover(i, fp),
                Expectation::Sometimes if holds => self.discover(i, fp),
                Expectation::Always | Expectation::Sometimes => awaiting = true,
                Expectation::Eventually => {
                    awaiting = true;
                    if holds {
                        if let Some(r) = rank {
                            ebits &= !(1 << r);
                        }
                    }
                }
            }
        }
        if !awaiting {
            return;
        }
        let mut terminal = true;
        self.model.actions(&state, actions);
        let mut generated = 0;
        for action in actions.drain(..) {
            let Some(next) = self.model.next_state(&state, action) else {
                continue;
            };
            if !self.model.within_boundary(&next) {
                continue;
            }
            terminal = false;
            let mut unclassified = false;
            if let Some(classes) = &self.class {
                let (from, to) = ((classes.class)(&state), (classes.class)(&next));
                // The class must never change once set, or parts would lose states.
                assert!(
                    from.is_none() || from == to,
                    "a partition class changed along a step: {from:?} -> {to:?}"
                );
                match to {
                    None => unclassified = true,
                    Some(c) if classes.part.owns(c as usize) => {}
                    Some(_) => continue,
                }
            }
            generated += 1;
            let next_fp = fingerprint(&next);
            if unclassified {
                self.unclassified.1.fetch_add(1, Ordering::Relaxed);
            }
            if self.visited.insert(next_fp, fp) {
                if unclassified {
                    self.unclassified.0.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(pending) = &self.pending {
                    if let Ok(mut map) = pending.lock() {
                        *map.entry(next_fp).or_insert(0) |= ebits;
                    }
                }
                out.push(Entry {
                    state: next,
                    fp: next_fp,
                    depth: depth + 1,
                    ebits,
                });
            } else if ebits != 0 {
                if let Some(delta) = self.again(next_fp, ebits) {
                    out.push(Entry {
                        state: next,
                        fp: next_fp,
                        depth: depth + 1,
                        ebits: delta,
                    });
                }
            }
        }
        self.states.fetch_add(generated, Ordering::Relaxed);
        if terminal {
            for (i, rank) in self.eventually_rank.iter().enumerate() {
                if rank.is_some_and(|r| ebits & (1 << r) != 0) {
                    self.discover(i, fp);
                }
            }
        }
    }

    /// Expands one level on `threads` threads; returns the next level.
    fn level(&self, chunks: Vec<Vec<Entry<M::State>>>, threads: usize) -> Vec<Vec<Entry<M::State>>>
    where
        M: Sync,
        M::State: Send,
        M::Action: Send,
    {
        let todo = Mutex::new(chunks);
        let next = Mutex::new(Vec::new());
        let work = || {
            let mut actions = Vec::new();
            let mut out = Vec::with_capacity(CHUNK);
            loop {
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
                let chunk = match todo.lock() {
                    Ok(mut t) => t.pop(),
                    Err(_) => None,
                };
                let Some(chunk) = chunk else { break };
                for entry in chunk {
                    self.expand(entry, &mut out, &mut actions);
                    if out.len() >= CHUNK {
                        let full = std::mem::replace(&mut out, Vec::with_capacity(CHUNK));
                        if let Ok(mut n) = next.lock() {
                            n.push(full);
                        }
                    }
                }
            }
            if !out.is_empty() {
                if let Ok(mut n) = next.lock() {
                    n.push(out);
                }
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..threads.max(1) {
                scope.spawn(work);
            }
            work();
        });
        next.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// The work shared between depth-first threads: stacks given away, and how many threads
/// wait for one.
struct Market<S> {
    stacks: Vec<Vec<Entry<S>>>,
    idle: usize,
    done: bool,
}

impl<M> Shared<'_, M>
where
    M: Model + Sync,
    M::State: Hash + Send,
    M::Action: Send,
{
    /// Explores everything reachable from `seeds` depth-first on `threads` threads. A
    /// thread whose stack runs dry takes a stack another thread gave away; a thread with
    /// a deep stack gives its bottom half away while another waits. It ends when every
    /// thread waits and nothing is left to take.
    fn depth_first(&self, seeds: Vec<Vec<Entry<M::State>>>, threads: usize) {
        let threads = threads.max(1);
        let market = Mutex::new(Market {
            stacks: seeds,
            idle: 0,
            done: false,
        });
        let wake = std::sync::Condvar::new();
        let work = || {
            let mut stack: Vec<Entry<M::State>> = Vec::new();
            let mut actions = Vec::new();
            let mut out = Vec::new();
            let mut since_share = 0usize;
            loop {
                if stack.is_empty() {
                    let Ok(mut m) = market.lock() else { return };
                    loop {
                        if m.done || self.stop.load(Ordering::Relaxed) {
                            m.done = true;
                            wake.notify_all();
                            return;
                        }
                        if let Some(taken) = m.stacks.pop() {
                            stack = taken;
                            break;
                        }
                        m.idle += 1;
                        if m.idle == threads {
                            m.done = true;
                            wake.notify_all();
                            return;
                        }
                        m = match wake.wait(m) {
                            Ok(m) => m,
                            Err(_) => return,
                        };
                        m.idle -= 1;
                    }
                }
                let Some(entry) = stack.pop() else { continue };
                self.expand(entry, &mut out, &mut actions);
                // Pushed in reverse, so the first action is explored first.
                stack.extend(out.drain(..).rev());
                since_share += 1;
                if since_share >= 64 && stack.len() > 1 {
                    since_share = 0;
                    if self.stop.load(Ordering::Relaxed) {
                        stack.clear();
                        continue;
                    }
                    if let Ok(mut m) = market.try_lock() {
                        if m.idle > 0 && m.stacks.is_empty() {
                            let rest = stack.split_off(stack.len() / 2);
                            let bottom = std::mem::replace(&mut stack, rest);
                            m.stacks.push(bottom);
                            wake.notify_one();
                        }
                    }
                }
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(work);
            }
            work();
        });
    }
}

fn count<S>(chunks: &[Vec<Entry<S>>]) -> usize {
    chunks.iter().map(Vec::len).sum()
}

/// Explores the model breadth-first as `options` say.
pub fn search<M>(model: &M, options: &Options<'_>) -> Outcome<M>
where
    M: Model + Sync,
    M::State: Clone + Hash + PartialEq + Send + Sync,
    M::Action: Clone + PartialEq + Send,
{
    search_by_class(model, options, None)
}

/// Explores the model as `options` say; with a partition and a `class`, splits by class
/// instead of by level: a state's class is `None` until a step sets it, and never changes
/// after. Every part explores every unclassified state, and of the classified ones only
/// those whose class `c` it owns (`c % count == index - 1`). Each classified state is
/// reached only through unclassified states and states of its own class, so its owner
/// reaches it, and no other part does: the parts cover the space without overlap below
/// the unclassified states they share.
pub fn search_by_class<M>(
    model: &M,
    options: &Options<'_>,
    class: Option<ClassOf<'_, M::State>>,
) -> Outcome<M>
where
    M: Model + Sync,
    M::State: Clone + Hash + PartialEq + Send + Sync,
    M::Action: Clone + PartialEq + Send,
{
    let start = Instant::now();
    let classes = class
        .zip(options.partition)
        .map(|(class, part)| Classes { class, part });
    let by_class = classes.is_some();
    let properties = model.properties();
    let mut eventually_rank = Vec::new();
    let mut ebits = 0u64;
    let mut rank = 0u32;
    for p in &properties {
        if p.expectation == Expectation::Eventually && rank < 64 {
            eventually_rank.push(Some(rank));
            ebits |= 1 << rank;
            rank += 1;
        } else {
            eventually_rank.push(None);
        }
    }
    let shared = Shared {
        model,
        found: properties.iter().map(|_| AtomicBool::new(false)).collect(),
        properties,
        discoveries: Mutex::new(HashMap::new()),
        eventually_rank,
        visited: Visited::new(),
        pending: (ebits != 0).then(|| Mutex::new(HashMap::default())),
        foreign: Mutex::new(Default::default()),
        class: classes,
        unclassified: (AtomicUsize::new(0), AtomicUsize::new(0)),
        states: AtomicUsize::new(0),
        depth: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    };
    let mut level: Vec<Entry<M::State>> = Vec::new();
    for state in model.init_states() {
        if !model.within_boundary(&state) {
            continue;
        }
        let fp = fingerprint(&state);
        shared.states.fetch_add(1, Ordering::Relaxed);
        if shared.visited.insert(fp, 0) {
            if by_class {
                shared.unclassified.0.fetch_add(1, Ordering::Relaxed);
                shared.unclassified.1.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(pending) = &shared.pending {
                if let Ok(mut map) = pending.lock() {
                    map.insert(fp, ebits);
                }
            }
            level.push(Entry {
                state,
                fp,
                depth: 1,
                ebits,
            });
        }
    }
    let mut chunks = vec![level];
    let mut split = None;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let peak_seen = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        // The watcher: memory every quarter second, progress every `interval`.
        let shared = &shared;
        let peak_seen = &peak_seen;
        scope.spawn(move || {
            let tick = Duration::from_millis(250).min(options.interval);
            let mut last = Instant::now();
            loop {
                match done_rx.recv_timeout(tick) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                let (rss, _) = memory();
                if let Some(rss) = rss {
                    peak_seen.fetch_max(rss as usize, Ordering::Relaxed);
                    if options.max_memory.is_some_and(|max| rss > max) {
                        shared.stop.store(true, Ordering::Relaxed);
                    }
                }
                if last.elapsed() >= options.interval {
                    last = Instant::now();
                    if let Some(report) = options.progress {
                        report(&Progress {
                            states: shared.states.load(Ordering::Relaxed),
                            unique: shared.visited.len(),
                            depth: shared.depth.load(Ordering::Relaxed),
                            elapsed: start.elapsed(),
                            rss,
                        });
                    }
                }
            }
        });
        let mut depth = 1;
        // Distinct states of the levels before the one being expanded.
        let mut before = 0;
        while count(&chunks) > 0 {
            // The watcher checks memory four times a second; a level boundary checks too,
            // so that a small search honours the ceiling as well.
            if let Some(max) = options.max_memory {
                if memory().0.is_some_and(|rss| rss > max) {
                    shared.stop.store(true, Ordering::Relaxed);
                }
            }
            if shared.stop.load(Ordering::Relaxed) {
                break;
            }
            let through = shared.visited.len();
            if let Some(part) = options.partition.filter(|_| !by_class) {
                let size = count(&chunks);
                let here = match part.split {
                    Some(level) => depth == level,
                    None => size >= AUTO_SPLIT_FACTOR * part.count,
                };
                if here && split.is_none() {
                    let mut foreign = Vec::new();
                    let mut position = 0;
                    for chunk in &mut chunks {
                        chunk.retain(|e| {
                            let mine = part.owns(position);
                            position += 1;
                            if !mine {
                                foreign.push(e.fp);
                            }
                            mine
                        });
                    }
                    if let Ok(mut set) = shared.foreign.lock() {
                        set.extend(foreign);
                    }
                    split = Some(Split {
                        level: depth,
                        prefix_unique: before,
                        prefix_states: shared.states.load(Ordering::Relaxed),
                        frontier: through - before,
                        owned: count(&chunks),
                    });
                }
            }
            before = through;
            if options.order == Order::DepthFirst
                && (options.partition.is_none() || by_class || split.is_some())
            {
                shared.depth_first(std::mem::take(&mut chunks), options.threads);
                break;
            }
            shared.depth.fetch_max(depth, Ordering::Relaxed);
            // Before a partition's split, one thread: the split level's order must be the
            // same in every part (see the module's documentation).
            let threads = match options.partition.is_some() && !by_class && split.is_none() {
                true => 1,
                false => options.threads.max(1),
            };
            // A level of few chunks is cut finer, so that every thread gets work.
            if chunks.len() < 4 * threads {
                let entries: Vec<Entry<M::State>> = chunks.into_iter().flatten().collect();
                let per = (entries.len() / (4 * threads)).clamp(1, CHUNK);
                let mut it = entries.into_iter().peekable();
                chunks = Vec::new();
                while it.peek().is_some() {
                    chunks.push(it.by_ref().take(per).collect());
                }
            }
            chunks = shared.level(chunks, threads);
            depth += 1;
        }
        let _ = done_tx.send(());
    });
    let stopped = match shared.stop.load(Ordering::Relaxed) {
        true => options.max_memory.map(Stop::MemoryLimit),
        false => None,
    };
    let unique = shared.visited.len();
    let found: Vec<(usize, u64)> = shared
        .discoveries
        .lock()
        .map(|d| d.iter().map(|(&k, &v)| (k, v)).collect())
        .unwrap_or_default();
    let mut discoveries = HashMap::new();
    for (property, fp) in found {
        let name = shared.properties[property].name;
        // Parents are inserted before their children, so the chain always ends at an
        // initial state; should a replay still fail (a fingerprint collision), the
        // discovery stands, with the initial state alone as its path.
        let path = rebuild(model, &shared.visited, fp).or_else(|| {
            eprintln!("check: could not rebuild the path to a discovery of {name:?}");
            let init = model.init_states().into_iter().next()?;
            Path::from_actions(model, init, std::iter::empty())
        });
        if let Some(path) = path {
            discoveries.insert(name, path);
        }
    }
    if by_class {
        split = Some(Split {
            level: 0,
            prefix_unique: shared.unclassified.0.load(Ordering::Relaxed),
            prefix_states: shared.unclassified.1.load(Ordering::Relaxed),
            frontier: 0,
            owned: unique - shared.unclassified.0.load(Ordering::Relaxed),
        });
    }
    let (_, peak) = memory();
    Outcome {
        states: shared.states.load(Ordering::Relaxed),
        unique,
        max_depth: shared.depth.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
        peak_rss: peak.or(Some(peak_seen.load(Ordering::Relaxed) as u64).filter(|&p| p > 0)),
        stopped,
        split,
        discoveries,
        visited: options.keep_visited.then(|| {
            let foreign = shared.foreign.lock().map(|f| f.clone()).unwrap_or_default();
            let mut all = shared.visited.fingerprints();
            all.retain(|fp| !foreign.contains(fp));
            all
        }),
    }
}

/// The path to the state with fingerprint `fp`: its ancestors' fingerprints from the
/// visited set, then a replay of the model from the initial state that matches them.
fn rebuild<M>(model: &M, visited: &Visited, fp: u64) -> Option<Path<M::State, M::Action>>
where
    M: Model,
    M::State: Clone + Hash + PartialEq,
    M::Action: Clone + PartialEq,
{
    let mut chain = vec![fp];
    loop {
        let parent = visited.parent(*chain.last()?)?;
        if parent == 0 {
            break;
        }
        chain.push(parent);
        if chain.len() > 1_000_000 {
            return None;
        }
    }
    chain.reverse();
    let init = model
        .init_states()
        .into_iter()
        .find(|s| fingerprint(s) == chain[0])?;
    let mut state = init.clone();
    let mut taken = Vec::new();
    for &want in &chain[1..] {
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        let (action, next) = actions.into_iter().find_map(|a| {
            let next = model.next_state(&state, a.clone())?;
            (model.within_boundary(&next) && fingerprint(&next) == want).then_some((a, next))
        })?;
        taken.push(action);
        state = next;
    }
    Path::from_actions(model, init, taken.iter())
}
