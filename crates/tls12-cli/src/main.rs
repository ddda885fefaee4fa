//! `tls12`: the command-line face of the tls12 workspace.
//!
//! `check` model-checks the real state machines with stateright (`explore` serves its
//! Explorer); `server` and `client` run real TLS 1.2 connections over TCP on the sans-IO
//! core, the server on tokio through `tls12-tokio`, the client through the core's
//! blocking `Stream` adapter; `bench` is a handshake load generator on `tls12-tokio`;
//! `decode` prints captured TLS records with the parsers the fuzzers exercise.

mod bench;
mod check;
mod client;
mod common;
mod decode;
mod server;
mod session_file;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::common::CliError;

/// The model checker clones and drops tens of millions of small states; mimalloc's
/// thread-local free lists make `tls12 check` about a sixth faster than the system
/// allocator (README, "How big, how fast").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// TLS 1.2 reference implementation and model-checked specification.
#[derive(Parser, Debug)]
#[command(
    name = "tls12",
    version,
    about,
    after_help = "Try it: run `tls12 server` in one terminal and the `tls12 client` command it \
                  prints in another.\nLogs go to stderr; set RUST_LOG=info (or debug) for more."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const SERVER_EXAMPLES: &str = "\
Examples:
  # Zero set-up: a fresh test CA and certificate; prints the CA file's path
  tls12 server --port 4433 --trace

  # Every interface, IPv4 and IPv6; a stats line every 5 s
  tls12 server --bind [::]:4433 --stats 5s

  # Tighter limits: 2 s to finish a handshake, 30 s idle after it, 1000 sockets open
  tls12 server --handshake-timeout 2s --idle-timeout 30s --max-conns 1000

  # Your own certificate, clients must present one issued by ca.pem
  tls12 server --cert server.pem --key server.key --client-auth required --client-ca ca.pem

  # A status page per request, like `openssl s_server -www`
  tls12 server --www
  curl --cacert /tmp/tls12-ca-<pid>.pem https://localhost:4433/

Output (stdout): first `listening on ADDR:PORT`; then, with --verbose or --trace,
per connection `[conn N] handshake: version=... suite=... group=... resumed=... ...` or
`[conn N] error: ...`; with --stats, `stats: open=... handshaking=... accepted=...
refused=... handshakes=... resumed=... failed=... timed_out=... cached=...`.
SSLKEYLOGFILE, if set, receives a key log line per handshake.";

const CLIENT_EXAMPLES: &str = "\
Examples:
  # Against `tls12 server` (pass the CA file it printed)
  tls12 client 127.0.0.1:4433 --ca /tmp/tls12-ca-1234.pem

  # Show the flights of one full and two resumed handshakes
  tls12 client 127.0.0.1:4433 --ca ca.pem --reconnect 2 --trace

  # Save the session, resume it in a later run
  tls12 client localhost:4433 --ca ca.pem --sess-out s.json
  tls12 client localhost:4433 --ca ca.pem --sess-in s.json

  # An HTTP request, with a client certificate
  tls12 client localhost:4433 --ca ca.pem --cert client.pem --key client.key \\
      --send 'GET / HTTP/1.0\\r\\n\\r\\n'

Exit status: 0 on success, 1 on a TLS or network failure, 2 on bad usage.
SSLKEYLOGFILE, if set, receives a key log line per handshake.";

const CHECK_EXAMPLES: &str = "\
Examples:
  # The default configuration: 2 clients x 2 connections, cache of 1, ignores on,
  # an attacker with budget 1 and every move
  tls12 check

  # Smaller, faster; JSON for CI
  tls12 check --clients 1 --attacker 0 --json

  # Client authentication required, clients with certificates
  tls12 check --client-auth required --client-cert

  # One shard of the CI sweep (run shards 1/4 .. 4/4 side by side)
  tls12 check --sweep --shard 1/4

  # One configuration on 8 machines: part i on machine i, then merge the reports
  tls12 check --clients 3 --partition 3/8 --json > part-3.json
  tls12 check --merge part-*.json

  # Stop cleanly past 8 GiB; draw a resumption as a message sequence chart
  tls12 check --clients 3 --max-memory 8G
  tls12 check --svg resumed.svg --svg-property 'a resumed handshake completes'

Output: a progress line on stderr every 2 s and a last line with the time (not with
--quiet); then states generated, unique states, depth, time, states/s, peak memory and
each property's verdict. A violated property prints its counterexample as a message
sequence and its Explorer path (open `tls12 explore` with the same flags, then
/#/steps/<path>); --svg FILE draws it.
Exit status: 0 when every property holds, 1 on a violation, 2 on bad usage, 3 when
--max-memory stopped the check before it explored everything.";

const BENCH_EXAMPLES: &str = "\
Examples:
  # 10 s of full handshakes, one connection at a time, against `tls12 server`
  tls12 bench 127.0.0.1:4433 --ca /tmp/tls12-ca-<pid>.pem

  # 16 connections in flight, half the handshakes resuming, 2 s of warmup, JSON
  tls12 bench 127.0.0.1:4433 --ca ca.pem -c 16 --resume-ratio 0.5 --warmup 2s --json

  # Open loop: 2000 handshakes/s whatever the server's pace, latency from the schedule
  tls12 bench localhost:4433 --ca ca.pem --rate 2000 --duration 30s --threads 2

  # A server with a throwaway certificate, one HTTP request per connection
  tls12 bench 127.0.0.1:8443 --insecure-no-verify --request 'GET / HTTP/1.0\\r\\n\\r\\n'

Output (stdout): the load, the negotiated suite and group, handshakes and handshakes/s
(total, full, resumed, failed), latency p50/p90/p99/p99.9/max (all, full, resumed),
the client's CPU time per handshake (and the server's with --server-pid), failures by
cause. While it runs, a progress line on stderr when stderr is a terminal.
Exit status: 0 when every connection completed, 1 when any failed or none completed
(the report is printed first), 2 on bad usage. A run ends by --warmup + --duration +
--timeout at the latest; it gives up after 10 failures without a completed handshake.";

#[derive(Subcommand, Debug)]
enum Command {
    /// Model-check the handshake: every interleaving of the real state machines.
    ///
    /// Runs the stateright model (crate tls12-model) exhaustively over the configuration
    /// given, with the real ClientConnection and ServerConnection on the symbolic crypto
    /// provider, and checks every property.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(check::CheckArgs),
    /// Serve stateright's Explorer on 127.0.0.1 to walk the state space in a browser.
    Explore(check::ExploreArgs),
    /// Decode a file of raw TLS records (one direction of a connection, unencrypted part)
    /// and print each record and handshake message.
    ///
    /// Exits 0 when every byte decodes, 1 at the first fault (with the alert a TLS peer
    /// would send), 2 on bad usage.
    Decode {
        /// The file of raw records, e.g. crates/tls12/tests/data/server_flight_ecdsa.bin.
        file: PathBuf,
        /// Print every decoded message in full (Rust debug notation).
        #[arg(long)]
        verbose: bool,
    },
    /// Run a TLS 1.2 server (127.0.0.1, or --bind) that echoes what it receives.
    ///
    /// One tokio runtime (--threads), a task per connection, up to --max-conns open at
    /// once; a handshake must finish within --handshake-timeout and a connection idle
    /// longer than --idle-timeout is closed. Sessions resume from a shared cache; each
    /// connection's outcome is printed with --verbose. Without --cert and --key it
    /// generates a test CA and a certificate for localhost, 127.0.0.1 and ::1, and prints
    /// where the CA file is so that clients can trust it.
    #[command(after_help = SERVER_EXAMPLES)]
    Server(server::ServerArgs),
    /// Connect to a TLS 1.2 server, send a line and print the answer.
    ///
    /// Prints the outcome of each handshake (`handshake: version=... resumed=...`) and
    /// what came back (`received: ...`). Can reconnect resuming the session, and save or
    /// load sessions.
    #[command(after_help = CLIENT_EXAMPLES)]
    Client(client::ClientArgs),
    /// Load a TLS 1.2 server with handshakes and measure them: handshakes/s (full and
    /// resumed apart), latency percentiles, failures by cause, client CPU per handshake.
    ///
    /// Closed loop (--concurrency connections in flight) or open loop (--rate handshakes
    /// started per second); a share of the handshakes offers the stored session
    /// (--resume-ratio). Works against any TLS 1.2 server: tls12 server, openssl
    /// s_server, nginx.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Decode { file, verbose } => return run_decode(&file, verbose),
        Command::Check(args) => match check::run_check(args) {
            Ok(check::Verdict::Holds) => return ExitCode::SUCCESS,
            Ok(check::Verdict::Fails) => return ExitCode::from(1),
            Ok(check::Verdict::Incomplete) => return ExitCode::from(3),
            Err(err) => Err(err),
        },
        Command::Explore(args) => check::run_explore(args),
        Command::Server(args) => server::run(args),
        Command::Client(args) => client::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            match err {
                CliError::Usage(_) => ExitCode::from(2),
                CliError::Failed(_) => ExitCode::from(1),
            }
        }
    }
}

/// Logs to stderr at `warn` unless `RUST_LOG` says otherwise.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(tracing_subscriber::filter::LevelFilter::WARN.into())
        .from_env_lossy();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn run_decode(file: &std::path::Path, verbose: bool) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("tls12: cannot read {}: {err}", file.display());
            return ExitCode::from(2);
        }
    };
    match decode::decode(&bytes, verbose) {
        Ok(()) => ExitCode::SUCCESS,
        Err(fault) => {
            println!("error: {fault}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
