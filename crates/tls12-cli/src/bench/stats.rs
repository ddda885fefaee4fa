//! What `tls12 bench` counts and how it sums it up: latencies in HDR histograms (full and
//! resumed handshakes apart), failures by cause, and the summary with rates and
//! percentiles that the text report and `--json` print. Pure arithmetic on recorded
//! values, so the tests below feed it known inputs.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The largest latency a histogram holds, in microseconds (one hour); longer ones are
/// recorded as this. Handshakes have a timeout far below it.
const MAX_MICROS: u64 = 3_600_000_000;

/// Significant decimal digits the histograms keep: a recorded value comes back within
/// 0.1 % of itself.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A histogram of latencies in microseconds, 1 µs to [`MAX_MICROS`].
fn latency_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts (low >= 1, high >= 2 * low,
    // sigfig <= 5): this cannot fail.
    Histogram::new_with_bounds(1, MAX_MICROS, SIGNIFICANT_DIGITS)
        .unwrap_or_else(|_| unreachable!("constant histogram bounds are valid"))
}

/// How a completed handshake went, as far as the statistics care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completed {
    /// The server resumed the offered session (abbreviated handshake).
    pub resumed: bool,
    /// What was offered: `None` for nothing, `Some(true)` for a session ticket,
    /// `Some(false)` for a session ID.
    pub offered: Option<bool>,
}

/// A failure cause's count and the first detail seen, to show what it looked like.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Cause {
    count: u64,
    example: String,
}

/// Everything recorded during the measured part of a run.
#[derive(Clone, Debug)]
pub struct Recorder {
    full: Histogram<u64>,
    resumed: Histogram<u64>,
    exchange: Histogram<u64>,
    offered: u64,
    offered_ticket: u64,
    resumed_by_ticket: u64,
    failures: BTreeMap<String, Cause>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// Nothing recorded yet.
    pub fn new() -> Self {
        Self {
            full: latency_histogram(),
            resumed: latency_histogram(),
            exchange: latency_histogram(),
            offered: 0,
            offered_ticket: 0,
            resumed_by_ticket: 0,
            failures: BTreeMap::new(),
        }
    }

    /// A completed handshake that took `latency` (from its start, or from its scheduled
    /// start in open-loop runs, to the handshake's end).
    pub fn handshake(&mut self, latency: Duration, how: Completed) {
        let histogram = match how.resumed {
            true => &mut self.resumed,
            false => &mut self.full,
        };
        histogram.saturating_record(micros(latency));
        if let Some(ticket) = how.offered {
            self.offered += 1;
            if ticket {
                self.offered_ticket += 1;
                if how.resumed {
                    self.resumed_by_ticket += 1;
                }
            }
        }
    }

    /// The request/response exchange of a connection (`--request`) that took `latency`.
    pub fn exchange(&mut self, latency: Duration) {
        self.exchange.saturating_record(micros(latency));
    }

    /// A failed connection: `cause` is the class it is counted under ("refused",
    /// "alert received: protocol_version", ...), `detail` what happened in words.
    pub fn failure(&mut self, cause: &str, detail: &str) {
        let entry = self
            .failures
            .entry(cause.to_owned())
            .or_insert_with(|| Cause {
                count: 0,
                example: detail.to_owned(),
            });
        entry.count += 1;
    }

    /// Connections failed.
    pub fn failed(&self) -> u64 {
        self.failures.values().map(|c| c.count).sum()
    }

    /// The summary of what was recorded over `elapsed` of wall time.
    pub fn summary(&self, elapsed: Duration) -> Summary {
        let seconds = elapsed.as_secs_f64();
        let per_second = |count: u64| match seconds > 0.0 {
            true => count as f64 / seconds,
            false => 0.0,
        };
        let full = self.full.len();
        let resumed = self.resumed.len();
        let total = full + resumed;
        let mut all = self.full.clone();
        // Both histograms have the same bounds: adding one to the other cannot fail.
        let _ = all.add(&self.resumed);
        let mut failures: Vec<FailureLine> = self
            .failures
            .iter()
            .map(|(cause, c)| FailureLine {
                cause: cause.clone(),
                count: c.count,
                example: c.example.clone(),
            })
            .collect();
        // Most frequent first; the BTreeMap order breaks ties, so the order is stable.
        failures.sort_by_key(|f| std::cmp::Reverse(f.count));
        Summary {
            elapsed_s: seconds,
            handshakes: Counts {
                total,
                full,
                resumed,
                failed: self.failed(),
                offered: self.offered,
                offered_ticket: self.offered_ticket,
                resumed_by_ticket: self.resumed_by_ticket,
            },
            rate: Rates {
                total: per_second(total),
                full: per_second(full),
                resumed: per_second(resumed),
            },
            resumed_share: ratio(resumed, total),
            resumption_hit: ratio(resumed, self.offered),
            latency_ms: Latencies {
                all: Percentiles::of(&all),
                full: Percentiles::of(&self.full),
                resumed: Percentiles::of(&self.resumed),
            },
            exchange_ms: Percentiles::of(&self.exchange),
            failures,
        }
    }
}

/// A duration in whole microseconds, at least 1 (the histogram's floor).
fn micros(latency: Duration) -> u64 {
    u64::try_from(latency.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// `part / whole`, or `None` when `whole` is zero.
fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The summary of a run: what the text report and `--json` print.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The measured wall time, in seconds: the denominator of the rates.
    pub elapsed_s: f64,
    /// Counts of handshakes.
    pub handshakes: Counts,
    /// Completed handshakes per second of `elapsed_s`.
    pub rate: Rates,
    /// The share of completed handshakes that were resumed.
    pub resumed_share: Option<f64>,
    /// The share of handshakes that offered a session and were resumed (the server's
    /// hit rate).
    pub resumption_hit: Option<f64>,
    /// Handshake latency, from the start of the TCP connect (or its scheduled time, with
    /// `--rate`) to the end of the handshake.
    pub latency_ms: Latencies,
    /// With `--request`: from sending the request to the end of the response.
    pub exchange_ms: Option<Percentiles>,
    /// Failures by cause, most frequent first.
    pub failures: Vec<FailureLine>,
}

/// Counts of handshakes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Completed, full and resumed.
    pub total: u64,
    /// Completed full handshakes.
    pub full: u64,
    /// Completed abbreviated handshakes.
    pub resumed: u64,
    /// Connections that failed (refused, timed out, an alert, ...).
    pub failed: u64,
    /// Completed handshakes that offered a stored session.
    pub offered: u64,
    /// Of those, how many offered it by session ticket (the rest by session ID).
    pub offered_ticket: u64,
    /// Handshakes resumed by ticket.
    pub resumed_by_ticket: u64,
}

/// Handshakes per second.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rates {
    /// Full and resumed.
    pub total: f64,
    /// Full handshakes.
    pub full: f64,
    /// Resumed handshakes.
    pub resumed: f64,
}

/// Handshake latency percentiles, over all completed handshakes and each kind apart;
/// `None` where there was none of that kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latencies {
    /// Every completed handshake.
    pub all: Option<Percentiles>,
    /// Full handshakes.
    pub full: Option<Percentiles>,
    /// Resumed handshakes.
    pub resumed: Option<Percentiles>,
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    /// How many values.
    pub count: u64,
    /// The mean.
    pub mean: f64,
    /// The median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// The largest.
    pub max: f64,
}

impl Percentiles {
    fn of(histogram: &Histogram<u64>) -> Option<Self> {
        if histogram.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Some(Self {
            count: histogram.len(),
            mean: histogram.mean() / 1000.0,
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p99_9: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        })
    }
}

/// One line of the failure table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureLine {
    /// The class: "refused", "timeout in handshake", "alert received: protocol_version".
    pub cause: String,
    /// How many connections failed so.
    pub count: u64,
    /// The first one's error in words.
    pub example: String,
}

/// Whether handshake number `n` (from 0) offers a stored session, for a share `ratio`
/// of offers: spreads the offers evenly (`n` offers exactly when `floor((n + 1) * ratio)`
/// steps past `floor(n * ratio)`), so that any run of handshakes holds the share within
/// one, rather than only on average as a coin flip would.
pub fn offers_session(n: u64, ratio: f64) -> bool {
    let before = (n as f64 * ratio).floor();
    let after = ((n + 1) as f64 * ratio).floor();
    after > before
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failure here is a failed test
    use super::*;

    const FULL: Completed = Completed {
        resumed: false,
        offered: None,
    };

    fn close(got: f64, want: f64) -> bool {
        // The histograms keep 3 significant digits: within 0.1 %.
        (got - want).abs() <= want.abs() * 0.001 + 1e-9
    }

    #[test]
    fn percentiles_of_a_uniform_spread_are_where_they_should_be() {
        let mut r = Recorder::new();
        // 1 ms, 2 ms, ... 10,000 ms: the q-quantile is q * 10,000 ms.
        for ms in 1..=10_000u64 {
            r.handshake(Duration::from_millis(ms), FULL);
        }
        let s = r.summary(Duration::from_secs(10));
        let all = s.latency_ms.all.clone().unwrap();
        for (got, want) in [
            (all.p50, 5_000.0),
            (all.p90, 9_000.0),
            (all.p99, 9_900.0),
            (all.p99_9, 9_990.0),
            (all.max, 10_000.0),
            (all.mean, 5_000.5),
        ] {
            assert!(close(got, want), "got {got} ms, want {want} ms");
        }
        assert_eq!(all.count, 10_000);
        assert_eq!(s.latency_ms.full, s.latency_ms.all);
        assert_eq!(s.latency_ms.resumed, None);
    }

    #[test]
    fn a_slow_tail_shows_in_p99_9_and_max_but_not_p99() {
        let mut r = Recorder::new();
        for _ in 0..9_990 {
            r.handshake(Duration::from_micros(500), FULL);
        }
        for _ in 0..10 {
            r.handshake(Duration::from_secs(2), FULL);
        }
        let all = r.summary(Duration::from_secs(1)).latency_ms.all.unwrap();
        assert!(close(all.p50, 0.5) && close(all.p99, 0.5), "{all:?}");
        assert!(
            close(all.p99_9, 0.5),
            "the 9,990th value is 0.5 ms: {all:?}"
        );
        assert!(close(all.max, 2_000.0), "{all:?}");
    }

    #[test]
    fn full_and_resumed_are_counted_rated_and_timed_apart() {
        let mut r = Recorder::new();
        for _ in 0..300 {
            r.handshake(Duration::from_millis(4), FULL);
        }
        for i in 0..700u32 {
            // 600 resumed by ticket, 100 offered by ID and resumed too.
            let ticket = i < 600;
            r.handshake(
                Duration::from_millis(1),
                Completed {
                    resumed: true,
                    offered: Some(ticket),
                },
            );
        }
        // 50 offered a ticket and got a full handshake anyway (the server missed).
        for _ in 0..50 {
            r.handshake(
                Duration::from_millis(4),
                Completed {
                    resumed: false,
                    offered: Some(true),
                },
            );
        }
        let s = r.summary(Duration::from_secs(10));
        assert_eq!(
            s.handshakes,
            Counts {
                total: 1050,
                full: 350,
                resumed: 700,
                failed: 0,
                offered: 750,
                offered_ticket: 650,
                resumed_by_ticket: 600,
            }
        );
        assert!(close(s.rate.total, 105.0) && close(s.rate.full, 35.0));
        assert!(close(s.rate.resumed, 70.0));
        assert!(close(s.resumed_share.unwrap(), 700.0 / 1050.0));
        assert!(close(s.resumption_hit.unwrap(), 700.0 / 750.0));
        assert!(close(s.latency_ms.full.unwrap().p99, 4.0));
        assert!(close(s.latency_ms.resumed.unwrap().max, 1.0));
        let all = s.latency_ms.all.unwrap();
        assert_eq!(all.count, 1050);
        // 700 of 1050 take 1 ms: the median is a resumed one, p90 a full one.
        assert!(close(all.p50, 1.0) && close(all.p90, 4.0), "{all:?}");
    }

    #[test]
    fn failures_group_by_cause_most_frequent_first_with_the_first_example() {
        let mut r = Recorder::new();
        r.failure("timeout in handshake", "no answer within 1 s");
        for i in 0..3 {
            r.failure("refused", &format!("connection refused {i}"));
        }
        r.failure("alert received: protocol_version", "peer sent fatal alert");
        r.failure("alert received: protocol_version", "again");
        let s = r.summary(Duration::from_secs(1));
        let lines: Vec<_> = s
            .failures
            .iter()
            .map(|f| (f.cause.as_str(), f.count, f.example.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                ("refused", 3, "connection refused 0"),
                (
                    "alert received: protocol_version",
                    2,
                    "peer sent fatal alert"
                ),
                ("timeout in handshake", 1, "no answer within 1 s"),
            ]
        );
        assert_eq!(s.handshakes.failed, 6);
        assert_eq!(s.handshakes.total, 0);
        assert_eq!(s.resumed_share, None);
        assert_eq!(s.latency_ms.all, None);
        assert_eq!(s.rate.total, 0.0);
    }

    #[test]
    fn latencies_beyond_the_histogram_saturate_instead_of_failing() {
        let mut r = Recorder::new();
        r.handshake(Duration::ZERO, FULL);
        r.handshake(Duration::from_secs(100_000), FULL);
        r.exchange(Duration::from_micros(250));
        let s = r.summary(Duration::ZERO);
        let all = s.latency_ms.all.unwrap();
        assert!(close(all.max, MAX_MICROS as f64 / 1000.0), "{all:?}");
        assert!(close(s.exchange_ms.unwrap().p50, 0.25));
        assert_eq!(s.rate.total, 0.0, "no time, no rate");
    }

    #[test]
    fn offers_are_spread_evenly_at_the_requested_share() {
        for (ratio, n, want) in [
            (0.0, 1000, 0),
            (1.0, 1000, 1000),
            (0.5, 1000, 500),
            (0.3, 1000, 300),
            (0.9, 10, 9),
        ] {
            let offers = (0..n).filter(|&i| offers_session(i, ratio)).count();
            assert_eq!(offers, want, "ratio {ratio}");
        }
        // Within one of the share over any window, not just on average.
        for start in 0..100u64 {
            let offers = (start..start + 20)
                .filter(|&i| offers_session(i, 0.25))
                .count();
            assert!((4..=6).contains(&offers), "{offers} offers from {start}");
        }
    }
}
