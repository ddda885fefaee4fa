//! The summary's sampler: a calibrated loop that interleaves the contenders of one
//! scenario, so that a neighbour's build slows all of them alike rather than one.
//!
//! Each contender is calibrated to take about `sample` per sample. Then `blocks` blocks
//! of `rounds` rounds run; a round takes one sample of every contender, starting with a
//! different one each round. A contender's result is the best (lowest) of its per-block
//! medians: a block disturbed by other load on the machine is discarded as a whole.
//!
//! On a shared machine most samples are disturbed: with more runnable threads than
//! cores, the scheduler takes the processor away in the middle of a sample, and wall time
//! counts the wait as ours. So by default ([`Clock::Cpu`]) each sample is scaled by the
//! share of its wall time that the thread actually ran (thread CPU time over wall time,
//! both read around the sample): for a contender timed from outside that is exactly its
//! CPU time; for a side's share, timed call by call inside the sample, it removes the
//! waits in proportion (the scheduler's interruptions fall on calls in proportion to
//! their length). What load still costs (caches and the memory bus shared with other
//! work) falls on interleaved contenders alike. [`Clock::Wall`] is the plain wall clock.

use std::time::{Duration, Instant};

use crate::scenarios::Scenario;

/// What a sample's time is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Wall time scaled by the share of it the thread ran: time descheduled does not
    /// count.
    Cpu,
    /// Wall time.
    Wall,
}

/// The thread's CPU time so far.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Runs one sample of `run` and returns the time to count (see [`Clock`]).
fn sample(run: &mut dyn FnMut(u64) -> Duration, iters: u64, clock: Clock) -> Duration {
    match clock {
        Clock::Wall => run(iters),
        Clock::Cpu => {
            let (cpu, wall) = (thread_cpu(), Instant::now());
            let took = run(iters);
            let (wall, cpu) = (wall.elapsed(), thread_cpu().saturating_sub(cpu));
            // Never scale up: CPU time read a little later than the wall clock.
            let ran = (cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9)).min(1.0);
            took.mul_f64(ran)
        }
    }
}

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Sampler {
    /// The target duration of one sample.
    pub sample: Duration,
    /// Samples per block and contender.
    pub rounds: usize,
    /// Blocks; the best block median is kept.
    pub blocks: usize,
    /// What a sample's time is.
    pub clock: Clock,
}

impl Default for Sampler {
    fn default() -> Self {
        Self {
            sample: Duration::from_millis(20),
            rounds: 7,
            blocks: 3,
            clock: Clock::Cpu,
        }
    }
}

/// One contender's result.
#[derive(Clone, Copy, Debug)]
pub struct Estimate {
    /// Seconds per iteration: the best block median.
    pub secs: f64,
    /// The spread of that block: (max - min) / median of its samples.
    pub spread: f64,
    /// Iterations per sample.
    pub iters: u64,
}

/// Iterations of `run` that take about `target`.
fn calibrate(run: &mut dyn FnMut(u64) -> Duration, target: Duration, clock: Clock) -> u64 {
    let mut iters = 1u64;
    loop {
        let took = sample(run, iters, clock);
        if took >= target / 4 || iters >= 1 << 40 {
            let per = took.as_secs_f64() / iters as f64;
            return ((target.as_secs_f64() / per.max(1e-12)) as u64).max(1);
        }
        iters *= 2;
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n % 2 {
        1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Measures every contender of `scenario`, in the order of its contenders.
pub fn measure(scenario: &mut Scenario, sampler: Sampler) -> Vec<Estimate> {
    let n = scenario.contenders.len();
    let iters: Vec<u64> = scenario
        .contenders
        .iter_mut()
        .map(|c| calibrate(&mut c.run, sampler.sample, sampler.clock))
        .collect();
    let mut best: Vec<Option<Estimate>> = vec![None; n];
    for _ in 0..sampler.blocks.max(1) {
        let mut samples = vec![Vec::with_capacity(sampler.rounds); n];
        for round in 0..sampler.rounds.max(1) {
            for k in 0..n {
                let i = (round + k) % n;
                let took = sample(&mut scenario.contenders[i].run, iters[i], sampler.clock);
                samples[i].push(took.as_secs_f64() / iters[i] as f64);
            }
        }
        for (i, s) in samples.iter_mut().enumerate() {
            let med = median(s);
            let spread = (s[s.len() - 1] - s[0]) / med;
            let estimate = Estimate {
                secs: med,
                spread,
                iters: iters[i],
            };
            if best[i].is_none_or(|b| med < b.secs) {
                best[i] = Some(estimate);
            }
        }
    }
    best.into_iter()
        .map(|b| b.expect("at least one block"))
        .collect()
}

/// A duration in seconds, printed with a unit that suits it.
pub fn human(secs: f64) -> String {
    match secs {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 1e-3 => format!("{:.3} ms", s * 1e3),
        s if s >= 1e-6 => format!("{:.2} µs", s * 1e6),
        s => format!("{:.1} ns", s * 1e9),
    }
}
