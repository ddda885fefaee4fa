//! `tls12 check` at scale, from the command line: the progress and time lines on stderr
//! (never in `--json`), `--quiet`, a partitioned check merged from its parts' JSON,
//! `--max-memory` stopping with a partial report, `--svg` drawing a path.

#![allow(clippy::unwrap_used)] // test data we built ourselves

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tls12");

/// One client with an attacker who drops, duplicates and reorders: small and quick.
const SMALL: &[&str] = &[
    "check",
    "--clients",
    "1",
    "--moves",
    "drop,duplicate,reorder",
];

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn with(extra: &[&str]) -> Vec<String> {
    SMALL.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn run_owned(args: &[String]) -> (Option<i32>, String, String) {
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tls12-check-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_final_time_line_is_on_stderr_and_quiet_silences_it() {
    let (code, out, err) = run(SMALL);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("all properties hold"), "{out}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("check: done in ") && last.contains("2,260 unique"),
        "{err}"
    );
    // JSON on stdout stays JSON: progress never enters it.
    let (code, out, err) = run_owned(&with(&["--json"]));
    assert_eq!(code, Some(0), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["unique_states"], 2260);
    assert_eq!(report["complete"], true);
    assert!(err.contains("check: done in "), "{err}");
    let (code, _, err) = run_owned(&with(&["--quiet"]));
    assert_eq!(code, Some(0));
    assert_eq!(err, "");
}

#[test]
fn a_partitioned_check_merges_into_one_verdict() {
    let dir = temp_dir("partition");
    let mut files = Vec::new();
    for i in 1..=3 {
        let part = format!("{i}/3");
        let (code, out, err) = run_owned(&with(&[
            "--partition",
            &part,
            "--split-depth",
            "8",
            "--json",
            "-q",
        ]));
        assert_eq!(code, Some(0), "{err}");
        let file = dir.join(format!("part-{i}.json"));
        std::fs::write(&file, out).unwrap();
        files.push(file.display().to_string());
    }
    let mut merge = vec!["check".to_string(), "--json".into(), "--merge".into()];
    merge.extend(files.iter().cloned());
    let (code, out, err) = run_owned(&merge);
    assert_eq!(code, Some(0), "{err}");
    let merged: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(merged["ok"], true);
    assert_eq!(merged["parts"], 3);
    assert_eq!(merged["split_level"], 8);
    assert!(
        merged["unique_states"].as_u64().unwrap() >= 2260,
        "{merged}"
    );
    // Two parts of three are not a verdict.
    let (code, _, err) = run(&["check", "--merge", &files[0], &files[1]]);
    assert_eq!(code, Some(2));
    assert!(err.contains("exactly once"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_memory_ceiling_stops_cleanly_with_exit_status_3() {
    let (code, out, err) = run_owned(&with(&["--max-memory", "1K"]));
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.contains("INCOMPLETE"), "{out}");
    assert!(err.contains("check: stopped in "), "{err}");
    for (flag, message) in [
        (&["--max-memory", "lots"][..], "--max-memory wants a size"),
        (&["--partition", "4/3"], "--partition wants I/N"),
        (&["--split-depth", "3"], "--split-depth needs --partition"),
    ] {
        let (code, _, err) = run_owned(&with(flag));
        assert_eq!(code, Some(2), "{flag:?}: {err}");
        assert!(err.contains(message), "{flag:?}: {err}");
    }
}

#[test]
fn svg_draws_a_discovery_as_a_sequence_chart() {
    let dir = temp_dir("svg");
    let file = dir.join("resumption.svg");
    let (code, _, err) = run_owned(&with(&[
        "-q",
        "--svg",
        file.to_str().unwrap(),
        "--svg-property",
        "a resumed handshake completes",
    ]));
    assert_eq!(code, Some(0), "{err}");
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("offers session"));
    let (code, _, err) = run_owned(&with(&[
        "-q",
        "--svg",
        file.to_str().unwrap(),
        "--svg-property",
        "no such property",
    ]));
    assert_eq!(code, Some(2));
    assert!(err.contains("no property named"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
