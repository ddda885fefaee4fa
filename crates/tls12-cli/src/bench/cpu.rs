//! CPU time of a process, read from `/proc/<pid>/stat` (Linux): user plus system time of
//! all its threads. No `unsafe` and no libc call: the kernel's clock ticks are counted in
//! USER_HZ, which is 100 on every Linux architecture we build for, so the resolution is
//! 10 ms; over a run of seconds that is well under a percent.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, fixed by the kernel's ABI).
const TICKS_PER_SECOND: u64 = 100;

/// A process: ourselves, or another by process ID (`--server-pid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Process {
    /// The running process.
    Me,
    /// Another process.
    Pid(u32),
}

impl Process {
    /// Its CPU time so far (user + system, every thread), or `None` where `/proc` does
    /// not tell (not Linux, or the process is gone).
    pub fn cpu_time(self) -> Option<Duration> {
        let path = match self {
            Self::Me => "/proc/self/stat".to_owned(),
            Self::Pid(pid) => format!("/proc/{pid}/stat"),
        };
        let text = std::fs::read_to_string(path).ok()?;
        let ticks = parse_stat(&text)?;
        Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
    }
}

/// utime + stime, in ticks, from the text of `/proc/<pid>/stat`. The second field (the
/// command name, in parentheses) may itself hold spaces and parentheses, so the fields
/// are counted from the last `)`: utime and stime are the 14th and 15th fields of the
/// line, the 12th and 13th after the name.
fn parse_stat(text: &str) -> Option<u64> {
    let after_name = &text[text.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failure here is a failed test
    use super::*;

    #[test]
    fn utime_and_stime_are_read_past_a_name_with_spaces_and_parentheses() {
        let line = "4242 (tls12 (x) y) S 1 4242 4242 0 -1 4194560 1064 0 0 0 \
                    731 52 0 0 20 0 3 0 1234 1000 100 18446744073709551615";
        assert_eq!(parse_stat(line), Some(783));
        assert_eq!(parse_stat("1 (short) S 1 2"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
    }

    #[test]
    fn our_own_cpu_time_grows_when_we_work() {
        let before = Process::Me.cpu_time().unwrap();
        // Spin until the kernel has counted 30 ms more of our CPU time; on a loaded
        // machine that takes longer than 30 ms of wall time, never 10 s.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut x = 0u64;
        let mut after = before;
        while after < before + Duration::from_millis(30) {
            assert!(std::time::Instant::now() < deadline, "stuck at {after:?}");
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            after = Process::Me.cpu_time().unwrap();
        }
        assert_eq!(Process::Pid(u32::MAX).cpu_time(), None);
    }
}
