//! What the CLI's integration tests share: child processes that are always reaped and
//! bounded in time, their output collected as it comes, per-test temp dirs with
//! certificates, and launchers for our server and for `openssl s_server`.

#![allow(clippy::unwrap_used)] // test code: a failure here is a failed test
#![allow(dead_code)] // each test binary uses its own part of this module

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use tls12::pki::{KeyKind, TestPki};

pub mod attacks;
pub mod load;

/// The `tls12` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tls12");

/// How long any one child may run, and any one wait may last.
pub const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Collected {
    bytes: Vec<u8>,
    closed: bool,
}

/// One output stream of a child, read by a thread as it comes.
#[derive(Clone, Default)]
pub struct Output(Arc<(Mutex<Collected>, Condvar)>);

impl Output {
    fn collect(mut reader: impl Read + Send + 'static) -> Self {
        let out = Output::default();
        let shared = out.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let (lock, cvar) = &*shared.0;
                        lock.lock().unwrap().bytes.extend_from_slice(&buf[..n]);
                        cvar.notify_all();
                    }
                }
            }
            let (lock, cvar) = &*shared.0;
            lock.lock().unwrap().closed = true;
            cvar.notify_all();
        });
        out
    }

    /// Everything so far, lossy UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0 .0.lock().unwrap().bytes).into_owned()
    }

    /// Waits until `done` holds of the text so far; `false` if the stream closed or
    /// `timeout` passed first.
    pub fn wait_until(&self, timeout: Duration, done: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &*self.0;
        let mut collected = lock.lock().unwrap();
        loop {
            if done(&String::from_utf8_lossy(&collected.bytes)) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if collected.closed || left.is_zero() {
                return false;
            }
            collected = cvar.wait_timeout(collected, left).unwrap().0;
        }
    }

    /// Waits for the end of the stream (the child exited and the pipe drained).
    fn wait_closed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &*self.0;
        let mut collected = lock.lock().unwrap();
        while !collected.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            collected = cvar.wait_timeout(collected, left).unwrap().0;
        }
    }
}

/// A child process, killed and reaped when dropped (so a failing test leaves nothing
/// running), with stdin piped and stdout/stderr collected.
pub struct Proc {
    pub name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    pub stdout: Output,
    pub stderr: Output,
    started: Instant,
}

impl Proc {
    pub fn spawn(name: &str, program: &str, args: &[&str]) -> Proc {
        Self::spawn_with_env(name, program, args, &[])
    }

    pub fn spawn_with_env(name: &str, program: &str, args: &[&str], env: &[(&str, &Path)]) -> Proc {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("SSLKEYLOGFILE");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stdout = Output::collect(child.stdout.take().unwrap());
        let stderr = Output::collect(child.stderr.take().unwrap());
        Proc {
            name: name.to_owned(),
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            started: Instant::now(),
        }
    }

    /// The child's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes to the child's stdin.
    pub fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes the child's stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Both outputs, for failure messages.
    pub fn transcript(&self) -> String {
        format!(
            "--- {} stdout:\n{}\n--- {} stderr:\n{}",
            self.name,
            self.stdout.text(),
            self.name,
            self.stderr.text()
        )
    }

    /// Waits for `done` on stdout; panics with the transcript if it does not happen.
    pub fn expect_stdout(&self, what: &str, done: impl Fn(&str) -> bool) {
        if !self.stdout.wait_until(TIMEOUT, done) {
            panic!("{}: never printed {what}\n{}", self.name, self.transcript());
        }
    }

    /// Waits (at most [`TIMEOUT`] from the start) for the child to exit, with its output
    /// drained; kills it and panics if it does not.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = self.started + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.stdout.wait_closed(Duration::from_secs(2));
                self.stderr.wait_closed(Duration::from_secs(2));
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} still running after {TIMEOUT:?}: killed\n{}",
                    self.name,
                    self.transcript()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the child and asserts that it exited 0.
    pub fn wait_success(&mut self) {
        let status = self.wait();
        assert!(
            status.success(),
            "{} exited with {status}\n{}",
            self.name,
            self.transcript()
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `openssl` command. The interop tests fail, never skip, without it.
pub fn openssl() -> &'static str {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let version = Command::new("openssl").arg("version").output();
        match version {
            Ok(out) if out.status.success() => {}
            other => panic!(
                "the interop tests need the `openssl` command (OpenSSL 3.0) on PATH: install it \
                 (apt-get install openssl). They fail rather than skip. ({other:?})"
            ),
        }
    });
    "openssl"
}

/// A directory of its own for one test, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("tls12-cli-test-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CA, a server certificate and a client certificate, as PEM files.
pub struct Pems {
    pub ca: String,
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: String,
    pub client_key: String,
}

/// Generates a PKI with a server key of `kind` and writes it to `dir` as `<prefix>-*.pem`.
pub fn write_pems(dir: &TempDir, prefix: &str, kind: KeyKind) -> Pems {
    let pki = TestPki::generate(kind, &["localhost", "127.0.0.1"]).unwrap();
    let write = |name: &str, contents: &str| {
        let path = dir.path(&format!("{prefix}-{name}"));
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    };
    Pems {
        ca: write("ca.pem", &pki.ca_pem),
        server_cert: write("server.pem", &pki.server.cert_pem),
        server_key: write("server.key", &pki.server.key_pem),
        client_cert: write("client.pem", &pki.client.cert_pem),
        client_key: write("client.key", &pki.client.key_pem),
    }
}

/// Our server, started with `--port 0` (or the `--bind` of `args`) and `args`; the
/// address parsed from its first line.
pub struct OurServer {
    pub proc: Proc,
    pub port: u16,
    /// Where it listens.
    pub listening: std::net::SocketAddr,
    /// The server's TMPDIR, where a generated CA and client certificate go.
    _tmp: TempDir,
}

impl OurServer {
    pub fn start(args: &[&str]) -> OurServer {
        Self::start_with_env(args, &[])
    }

    pub fn start_with_env(args: &[&str], env: &[(&str, &Path)]) -> OurServer {
        // The tests read each connection's outcome line, which the server prints only
        // when asked to.
        Self::start_exactly(&[&["--verbose"], args].concat(), env)
    }

    /// Starts `tls12 server --port 0` with `args` and nothing else (without `--port 0` if
    /// `args` has a `--bind`).
    pub fn start_exactly(args: &[&str], env: &[(&str, &Path)]) -> OurServer {
        static SERVERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = TempDir::new(&format!("server-{n}"));
        let mut all = vec!["server"];
        if !args.contains(&"--bind") {
            all.extend_from_slice(&["--port", "0"]);
        }
        all.extend_from_slice(args);
        let mut env = env.to_vec();
        env.push(("TMPDIR", &tmp.0));
        let proc = Proc::spawn_with_env("tls12 server", BIN, &all, &env);
        proc.expect_stdout("its listening line", |t| t.contains('\n'));
        let first = proc
            .stdout
            .text()
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        let listening: std::net::SocketAddr = first
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        OurServer {
            proc,
            port: listening.port(),
            listening,
            _tmp: tmp,
        }
    }

    pub fn address(&self) -> String {
        self.listening.to_string()
    }

    /// The server's process ID (for /proc).
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// The value printed after `label: ` (e.g. "CA certificate").
    pub fn printed_path(&self, label: &str) -> String {
        let prefix = format!("{label}: ");
        self.proc.stdout.wait_until(TIMEOUT, |t| {
            t.split_inclusive('\n')
                .any(|l| l.starts_with(&prefix) && l.ends_with('\n'))
        });
        self.proc
            .stdout
            .text()
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .unwrap_or_else(|| panic!("no {label:?} line\n{}", self.proc.transcript()))
    }

    /// Waits for the server to exit by itself (after `--exit-after`), then its
    /// `[conn N] handshake: ...` and `[conn N] error: ...` lines in order of N.
    pub fn finish(&mut self) -> Vec<String> {
        self.proc.wait_success();
        outcome_lines(&self.proc.stdout.text())
    }
}

/// The outcome lines (`handshake: ...` or `error: ...`) of a server transcript, in order
/// of connection number.
pub fn outcome_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<(u64, String)> = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("[conn ")?;
            let (n, line) = rest.split_once("] ")?;
            let outcome = line.starts_with("handshake: ") || line.starts_with("error: ");
            outcome.then(|| (n.parse().unwrap(), line.to_owned()))
        })
        .collect();
    lines.sort_by_key(|(n, _)| *n);
    lines.into_iter().map(|(_, l)| l).collect()
}

/// The value of `key=` in an outcome line.
pub fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split(' ')
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `openssl s_server` on a fresh port, once it prints ACCEPT (retrying if another process
/// took the port in between).
pub fn s_server(args: &[&str]) -> (Proc, u16) {
    for _ in 0..3 {
        let port = free_port();
        let accept = format!("127.0.0.1:{port}");
        let mut all = vec!["s_server", "-accept", &accept];
        all.extend_from_slice(args);
        let mut proc = Proc::spawn("openssl s_server", openssl(), &all);
        if proc.stdout.wait_until(TIMEOUT, |t| t.contains("ACCEPT")) {
            return (proc, port);
        }
        let status = proc.wait();
        if !proc.stderr.text().contains("in use") {
            panic!("s_server failed ({status})\n{}", proc.transcript());
        }
    }
    panic!("s_server found no free port");
}

/// Runs `tls12 client` to completion; returns (exit status, stdout, stderr).
pub fn run_client(args: &[&str], env: &[(&str, &Path)]) -> (ExitStatus, String, String) {
    let mut all = vec!["client"];
    all.extend_from_slice(args);
    let mut proc = Proc::spawn_with_env("tls12 client", BIN, &all, env);
    proc.close_stdin();
    let status = proc.wait();
    (status, proc.stdout.text(), proc.stderr.text())
}
