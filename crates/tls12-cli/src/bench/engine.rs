//! The load of `tls12 bench`: connections on one tokio runtime through tls12-tokio's
//! `TlsStream`, either closed-loop (`--concurrency C` workers, each starting its next
//! handshake when the last one ends) or open-loop (`--rate R` handshakes started on a
//! fixed schedule, at most C in flight, latency counted from the scheduled start so that
//! a server that falls behind shows as latency instead of being hidden by coordinated
//! omission).
//!
//! Each connection: TCP connect, a client handshake offering the stored session or not
//! (`--resume-ratio`), the `--request` exchange if any, close_notify, close. One deadline
//! (`--timeout`) covers all of it. A handshake counts when its start falls in the
//! measured window (after `--warmup`, before the end of `--duration` or the N-th start of
//! `--handshakes`); after the window the run waits for those still in flight, which the
//! deadline bounds, so a run never outlasts warmup + duration + timeout.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tls12::handshake::client::ClientConfig;
use tls12::handshake::Event;
use tls12::session::Session;
use tls12::stream::system_time;
use tls12::ClientConnection;
use tls12_tokio::{tls_error, Linger, TlsStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::cpu::Process;
use super::provider::BenchProvider;
use super::stats::{offers_session, Completed, Recorder};

/// After this many failures without a single completed handshake the run stops: the
/// server is not there, or cannot talk to us, and hammering it tells nothing more.
pub const GIVE_UP_AFTER: u64 = 10;

/// How a failed handshake's socket is closed: long enough for the server to read our
/// alert, short enough not to hold a slot of the load.
const FAILED_LINGER: Linger = Linger {
    time: Duration::from_millis(200),
    bytes: 16 * 1024,
};

/// What to run: settled from the command line by `bench.rs`.
#[derive(Debug)]
pub struct Plan {
    /// Where the server is; each connection tries them in order.
    pub addrs: Vec<SocketAddr>,
    /// The name to verify the certificate against, and SNI.
    pub server_name: String,
    /// The client configuration every connection shares.
    pub config: Arc<ClientConfig<BenchProvider>>,
    /// The provider, cloned for each connection.
    pub provider: BenchProvider,
    /// Closed loop: connections in flight. Open loop: the most in flight at once.
    pub concurrency: usize,
    /// Open loop: handshakes started per second.
    pub rate: Option<f64>,
    /// How long to measure, after the warmup.
    pub duration: Option<Duration>,
    /// How many handshakes to start in the measured window.
    pub handshakes: Option<u64>,
    /// How long to run before measuring.
    pub warmup: Duration,
    /// The share of handshakes that offer the stored session.
    pub resume_ratio: f64,
    /// The most one connection may take, connect to close.
    pub timeout: Duration,
    /// Sent after the handshake, if any.
    pub request: Option<Vec<u8>>,
    /// Read this many bytes of response (else until the server closes).
    pub response_bytes: Option<usize>,
    /// Processes whose CPU time is read at the start and end of the measured window.
    pub cpu_of: Vec<Process>,
}

/// Counts since the very start, warmup included, for the progress line and the decision
/// to give up. Updated with relaxed atomics: they are for display.
#[derive(Debug, Default)]
pub struct Live {
    /// Completed handshakes.
    pub completed: AtomicU64,
    /// Completed handshakes that were resumed.
    pub resumed: AtomicU64,
    /// Failed connections.
    pub failed: AtomicU64,
}

/// The parameters of the first full handshake, to print beside the results.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Negotiated {
    /// The cipher suite.
    pub suite: String,
    /// The ECDHE group.
    pub group: Option<String>,
    /// Whether the master secret was an extended one (RFC 7627).
    pub extended_master_secret: bool,
}

/// What a run produced.
#[derive(Debug)]
pub struct Run {
    /// Everything recorded in the measured window.
    pub recorder: Recorder,
    /// The measured wall time: the rates' denominator.
    pub elapsed: Duration,
    /// CPU time of each of [`Plan::cpu_of`] over the measured window, where `/proc`
    /// told both ends.
    pub cpu: Vec<Option<Duration>>,
    /// The first full handshake's parameters, if one completed.
    pub negotiated: Option<Negotiated>,
    /// Why the run stopped early, if it did.
    pub gave_up: Option<String>,
    /// Whether the window ended before the warmup did (nothing measured).
    pub measured_nothing: bool,
}

/// What one connection came to.
enum Outcome {
    Done {
        handshake: Duration,
        exchange: Option<Duration>,
        completed: Completed,
    },
    Failed {
        cause: String,
        detail: String,
    },
}

/// Which part of a connection an error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Connect,
    Handshake,
    Response,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Handshake => "handshake",
            Self::Response => "response",
        }
    }
}

/// The state every connection of a run shares.
struct Shared {
    plan: Plan,
    /// When the measured window opens (the end of the warmup).
    measure_from: Instant,
    /// When it closes, with `--duration`.
    end: Option<Instant>,
    /// Handshakes started so far (the resume-ratio schedule).
    decisions: AtomicU64,
    /// Handshakes started in the measured window.
    measured_starts: AtomicU64,
    /// Set to start nothing more.
    stop: AtomicBool,
    gave_up: Mutex<Option<String>>,
    /// The session to offer: the latest one the server gave.
    session: Mutex<Option<Session>>,
    recorder: Mutex<Recorder>,
    live: Arc<Live>,
    negotiated: OnceLock<Negotiated>,
    last_completion: Mutex<Option<Instant>>,
}

/// Locks `mutex`, even if a panicking thread poisoned it: every value behind these
/// locks is valid after any single update.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `plan` to its end on the current tokio runtime; `live` is updated as it goes.
pub async fn run(plan: Plan, live: Arc<Live>) -> Run {
    let started = Instant::now();
    let measure_from = started + plan.warmup;
    let end = plan.duration.map(|d| measure_from + d);
    let cpu_of = plan.cpu_of.clone();
    let shared = Arc::new(Shared {
        measure_from,
        end,
        plan,
        decisions: AtomicU64::new(0),
        measured_starts: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        gave_up: Mutex::new(None),
        session: Mutex::new(None),
        recorder: Mutex::new(Recorder::new()),
        live,
        negotiated: OnceLock::new(),
        last_completion: Mutex::new(None),
    });

    // CPU time at the window's edges: a task wakes at each, or the window closes early.
    let window = {
        let shared = Arc::clone(&shared);
        let cpu_of = cpu_of.clone();
        tokio::spawn(async move {
            let at = |instant: Instant| {
                let shared = Arc::clone(&shared);
                async move {
                    // Wakes at `instant`, or when the run stops early (polled: a stop is
                    // rare and 20 ms late is fine for it).
                    while Instant::now() < instant && !shared.stop.load(Ordering::Relaxed) {
                        let next = (Instant::now() + Duration::from_millis(20)).min(instant);
                        tokio::time::sleep_until(next.into()).await;
                    }
                }
            };
            at(measure_from).await;
            let before: Vec<_> = cpu_of.iter().map(|p| p.cpu_time()).collect();
            let closed = match end {
                Some(end) => {
                    at(end).await;
                    Some((
                        Instant::now(),
                        cpu_of.iter().map(|p| p.cpu_time()).collect(),
                    ))
                }
                None => None,
            };
            (before, closed)
        })
    };

    let mut workers = JoinSet::new();
    match shared.plan.rate {
        Some(rate) => {
            workers.spawn(open_loop(Arc::clone(&shared), rate));
        }
        None => {
            for _ in 0..shared.plan.concurrency {
                workers.spawn(closed_loop(Arc::clone(&shared)));
            }
        }
    }
    while workers.join_next().await.is_some() {}
    shared.stop.store(true, Ordering::Relaxed);
    let finished = Instant::now();
    let (before, closed): (Vec<Option<Duration>>, _) = match window.await {
        Ok(edges) => edges,
        Err(_) => (vec![None; cpu_of.len()], None),
    };
    let gave_up = lock(&shared.gave_up).clone();
    // With --duration the window is the duration (unless the run gave up before its
    // end); with --handshakes it lasts until the last of them completed.
    let (window_end, after): (Instant, Vec<Option<Duration>>) = match (closed, &gave_up) {
        (Some((at, after)), None) => (at.min(end.unwrap_or(at)), after),
        _ => {
            let last = lock(&shared.last_completion).unwrap_or(finished);
            (last, cpu_of.iter().map(|p| p.cpu_time()).collect())
        }
    };
    let measured_nothing = window_end <= measure_from;
    let elapsed = window_end.saturating_duration_since(measure_from);
    let cpu = before
        .iter()
        .zip(&after)
        .map(|(b, a)| Some(a.as_ref()?.saturating_sub(b.as_ref().copied()?)))
        .collect();
    let recorder = lock(&shared.recorder).clone();
    Run {
        recorder,
        elapsed,
        cpu,
        negotiated: shared.negotiated.get().cloned(),
        gave_up,
        measured_nothing,
    }
}

/// One worker of the closed loop: a handshake after another until the window closes.
async fn closed_loop(shared: Arc<Shared>) {
    while let Some(start) = shared.next_start(Instant::now()) {
        let outcome = connection(&shared, start).await;
        shared.record(start, outcome);
    }
}

/// The open loop: starts a connection every 1/rate seconds on a fixed schedule, at most
/// `concurrency` in flight; a start that has to wait for a slot keeps its scheduled time
/// as the start of its latency.
async fn open_loop(shared: Arc<Shared>, rate: f64) {
    let slots = Arc::new(Semaphore::new(shared.plan.concurrency));
    let period = Duration::from_secs_f64(1.0 / rate);
    let first = Instant::now();
    let mut in_flight = JoinSet::new();
    for n in 0u32.. {
        let scheduled = first + period * n;
        tokio::time::sleep_until(scheduled.into()).await;
        while in_flight.try_join_next().is_some() {}
        let Some(start) = shared.next_start(scheduled) else {
            break;
        };
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        if shared.stop.load(Ordering::Relaxed) || shared.past_end(Instant::now()) {
            break;
        }
        let shared = Arc::clone(&shared);
        in_flight.spawn(async move {
            let outcome = connection(&shared, start).await;
            shared.record(start, outcome);
            drop(slot);
        });
    }
    while in_flight.join_next().await.is_some() {}
}

impl Shared {
    /// Whether `now` is past the end of `--duration`.
    fn past_end(&self, now: Instant) -> bool {
        self.end.is_some_and(|end| now >= end)
    }

    /// The start of the next handshake (`at`), or `None` when the run is over: stopped,
    /// past the end of the duration, or every one of `--handshakes` started.
    fn next_start(&self, at: Instant) -> Option<Instant> {
        if self.stop.load(Ordering::Relaxed) || self.past_end(at) {
            return None;
        }
        if at >= self.measure_from {
            if let Some(limit) = self.plan.handshakes {
                if self.measured_starts.fetch_add(1, Ordering::Relaxed) >= limit {
                    return None;
                }
            }
        }
        Some(at)
    }

    /// Counts what a connection that started at `start` came to.
    fn record(&self, start: Instant, outcome: Outcome) {
        let measured = start >= self.measure_from;
        match outcome {
            Outcome::Done {
                handshake,
                exchange,
                completed,
            } => {
                self.live.completed.fetch_add(1, Ordering::Relaxed);
                if completed.resumed {
                    self.live.resumed.fetch_add(1, Ordering::Relaxed);
                }
                if measured {
                    let mut recorder = lock(&self.recorder);
                    recorder.handshake(handshake, completed);
                    if let Some(exchange) = exchange {
                        recorder.exchange(exchange);
                    }
                }
            }
            Outcome::Failed { cause, detail } => {
                let failed = self.live.failed.fetch_add(1, Ordering::Relaxed) + 1;
                if measured {
                    lock(&self.recorder).failure(&cause, &detail);
                }
                let completed = self.live.completed.load(Ordering::Relaxed);
                if completed == 0 && failed >= GIVE_UP_AFTER {
                    let mut gave_up = lock(&self.gave_up);
                    if gave_up.is_none() {
                        *gave_up = Some(format!(
                            "gave up after {failed} failures and no completed handshake; \
                             the last: {cause}: {detail}"
                        ));
                    }
                    self.stop.store(true, Ordering::Relaxed);
                }
            }
        }
        if measured {
            *lock(&self.last_completion) = Some(Instant::now());
        }
    }

    /// The session to offer for handshake number `n`, if it offers one.
    fn session_to_offer(&self) -> Option<Session> {
        let ratio = self.plan.resume_ratio;
        if ratio <= 0.0 {
            return None;
        }
        let n = self.decisions.fetch_add(1, Ordering::Relaxed);
        match offers_session(n, ratio) {
            true => lock(&self.session).clone(),
            false => None,
        }
    }

    /// Keeps `session` as the one to offer next.
    fn keep_session(&self, session: Session) {
        if self.plan.resume_ratio > 0.0 {
            *lock(&self.session) = Some(session);
        }
    }

    /// A fatal alert on a connection that offered `offered` (RFC 5246 §7.2: it
    /// invalidates the session): forget it, unless a newer one replaced it already.
    fn forget_session(&self, offered: &Session) {
        let mut stored = lock(&self.session);
        if stored.as_ref() == Some(offered) {
            *stored = None;
        }
    }
}

/// Connects to the first of `addrs` that answers.
async fn connect(addrs: &[SocketAddr]) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => return Ok(tcp),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address to connect to")))
}

/// One connection, started at `start` (its scheduled time in the open loop).
async fn connection(shared: &Shared, start: Instant) -> Outcome {
    let plan = &shared.plan;
    let offered = shared.session_to_offer();
    let offered_ticket = offered.as_ref().map(|s| s.ticket.is_some());
    // The deadline runs from the actual start: a connection late for its schedule still
    // gets its whole timeout.
    let deadline = tokio::time::Instant::now() + plan.timeout;
    let timed_out = |stage: Stage| Outcome::Failed {
        cause: format!("timeout in {}", stage.name()),
        detail: format!(
            "no {} within {:.1?} of the start",
            match stage {
                Stage::Connect => "TCP connection",
                Stage::Handshake => "completed handshake",
                Stage::Response => "complete response",
            },
            plan.timeout
        ),
    };

    let tcp = match tokio::time::timeout_at(deadline, connect(&plan.addrs)).await {
        Err(_) => return timed_out(Stage::Connect),
        Ok(Err(err)) => return failed(&err, Stage::Connect),
        Ok(Ok(tcp)) => tcp,
    };
    // Handshake flights are small and each waits for an answer: no Nagle delay.
    let _ = tcp.set_nodelay(true);
    let conn = match ClientConnection::new(
        Arc::clone(&plan.config),
        plan.provider.clone(),
        Some(plan.server_name.clone()),
        offered.clone(),
        system_time(),
    ) {
        Ok(conn) => conn,
        Err(err) => {
            return Outcome::Failed {
                cause: "client error".into(),
                detail: err.to_string(),
            }
        }
    };
    let mut tls = TlsStream::new(conn, tcp, system_time);
    let resumed = match tokio::time::timeout_at(deadline, tls.handshake()).await {
        Err(_) => return timed_out(Stage::Handshake),
        Ok(Err(err)) => {
            let outcome = failed(&err, Stage::Handshake);
            if tls_error(&err).is_some() {
                if let Some(offered) = &offered {
                    shared.forget_session(offered);
                }
                // Let the server read our alert; do not hold up the load for it.
                tokio::spawn(tls.lingering_close(FAILED_LINGER));
            }
            return outcome;
        }
        Ok(Ok(summary)) => {
            if !summary.resumed && shared.negotiated.get().is_none() {
                let _ = shared.negotiated.set(Negotiated {
                    suite: format!("{:?}", summary.suite),
                    group: summary.group.map(|g| format!("{g:?}")),
                    extended_master_secret: summary.extended_master_secret,
                });
            }
            summary.resumed
        }
    };
    let handshake = start.elapsed();
    while let Some(event) = tls.next_event() {
        if let Event::NewSession(session) = event {
            shared.keep_session(*session);
        }
    }

    let mut exchange = None;
    if let Some(request) = &plan.request {
        let sent = Instant::now();
        match tokio::time::timeout_at(deadline, request_response(&mut tls, request, plan)).await {
            Err(_) => return timed_out(Stage::Response),
            Ok(Err(err)) => return failed(&err, Stage::Response),
            Ok(Ok(())) => exchange = Some(sent.elapsed()),
        }
    }
    // close_notify (RFC 5246 §7.2.1); a server that has gone already is no failure.
    let _ = tokio::time::timeout_at(deadline, tls.shutdown()).await;
    Outcome::Done {
        handshake,
        exchange,
        completed: Completed {
            resumed,
            offered: offered_ticket,
        },
    }
}

/// Sends `request`, then reads the response: `--response-bytes` of it, or up to the
/// server's close.
async fn request_response<IO, C>(
    tls: &mut TlsStream<IO, C>,
    request: &[u8],
    plan: &Plan,
) -> io::Result<()>
where
    TlsStream<IO, C>: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tls.write_all(request).await?;
    tls.flush().await?;
    let want = plan.response_bytes.unwrap_or(usize::MAX);
    let mut got = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    while got < want {
        match tls.read(&mut buf).await? {
            0 if plan.response_bytes.is_some() => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the server closed after {got} of {want} response bytes"),
                ))
            }
            0 => return Ok(()),
            n => got += n,
        }
    }
    Ok(())
}

/// A failed connection: its cause class and the error in words.
fn failed(err: &io::Error, stage: Stage) -> Outcome {
    let (cause, detail) = classify(err, stage);
    Outcome::Failed { cause, detail }
}

/// The class a connection's error is counted under, and the error in words.
fn classify(err: &io::Error, stage: Stage) -> (String, String) {
    let at = stage.name();
    if let Some(tls) = tls_error(err) {
        return match tls {
            tls12::Error::PeerAlert(alert) => (
                format!("alert received: {}", alert_name(*alert)),
                format!(
                    "the server sent a fatal {} alert in the {at}",
                    alert_name(*alert)
                ),
            ),
            tls12::Error::Local { alert, reason } => (
                format!("alert sent: {}", alert_name(*alert)),
                reason.to_string(),
            ),
            tls12::Error::Closed => (
                format!("closed by peer in {at}"),
                "the connection was closed (close_notify)".into(),
            ),
        };
    }
    let cause = match err.kind() {
        io::ErrorKind::ConnectionRefused => "refused".to_owned(),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => format!("reset by peer in {at}"),
        io::ErrorKind::UnexpectedEof => format!("closed by peer in {at}"),
        io::ErrorKind::TimedOut => format!("timeout in {at}"),
        _ => format!("i/o error in {at}"),
    };
    (cause, err.to_string())
}

/// An alert's name as the RFC writes it: `protocol_version`, `bad_certificate`.
pub fn alert_name(alert: tls12::msgs::enums::AlertDescription) -> String {
    if let tls12::msgs::enums::AlertDescription::Unknown(code) = alert {
        return format!("unknown alert {code}");
    }
    let camel = format!("{alert:?}");
    let mut name = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                name.push('_');
            }
            name.push(c.to_ascii_lowercase());
        } else {
            name.push(c);
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use tls12::msgs::enums::AlertDescription;

    #[test]
    fn alerts_are_named_as_the_rfc_names_them() {
        assert_eq!(
            alert_name(AlertDescription::ProtocolVersion),
            "protocol_version"
        );
        assert_eq!(alert_name(AlertDescription::BadRecordMac), "bad_record_mac");
        assert_eq!(alert_name(AlertDescription::UnknownCa), "unknown_ca");
        assert_eq!(
            alert_name(AlertDescription::Unknown(200)),
            "unknown alert 200"
        );
    }

    #[test]
    fn errors_are_classed_by_cause_and_stage() {
        let table = [
            (
                io::Error::from(io::ErrorKind::ConnectionRefused),
                Stage::Connect,
                "refused",
            ),
            (
                io::Error::from(io::ErrorKind::ConnectionReset),
                Stage::Handshake,
                "reset by peer in handshake",
            ),
            (
                io::Error::new(io::ErrorKind::UnexpectedEof, "peer closed"),
                Stage::Handshake,
                "closed by peer in handshake",
            ),
            (
                io::Error::other(tls12::Error::PeerAlert(AlertDescription::ProtocolVersion)),
                Stage::Handshake,
                "alert received: protocol_version",
            ),
            (
                io::Error::other(tls12::Error::misbehaved(
                    AlertDescription::DecodeError,
                    "garbage",
                )),
                Stage::Handshake,
                "alert sent: decode_error",
            ),
            (
                io::Error::from(io::ErrorKind::PermissionDenied),
                Stage::Response,
                "i/o error in response",
            ),
        ];
        for (err, stage, want) in table {
            assert_eq!(classify(&err, stage).0, want, "{err}");
        }
    }
}
