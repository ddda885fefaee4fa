//! Keeps `spec/requirements.md` honest: every code site, test, misbehaviour case and model
//! property the table names must exist, ids must be unique, and the README's counts must
//! be the table's.

#![allow(clippy::unwrap_used)] // our own files

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One row of the table.
struct Rule {
    id: String,
    side: String,
    code: Vec<String>,
    checked_by: Vec<String>,
}

fn rules() -> Vec<Rule> {
    read("spec/requirements.md")
        .lines()
        .filter(|l| l.starts_with("| rfc"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 5, "five columns: {line}");
            let list = |cell: &str| cell.split("; ").map(str::to_owned).collect::<Vec<_>>();
            Rule {
                id: cells[0].to_owned(),
                side: cells[1].to_owned(),
                code: list(cells[3]),
                checked_by: list(cells[4]),
            }
        })
        .collect()
}

/// Whether `source` defines `item` (a function, constant, type or module).
fn defines(source: &str, item: &str) -> bool {
    ["fn", "const", "struct", "enum", "type", "mod", "trait"]
        .iter()
        .any(|kind| {
            source
                .match_indices(&format!("{kind} {item}"))
                .any(|(at, found)| {
                    let next = source[at + found.len()..].chars().next();
                    !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
        })
}

/// `path::item` must name an existing item.
fn check_item(id: &str, reference: &str) {
    let (path, item) = reference
        .rsplit_once("::")
        .unwrap_or_else(|| panic!("{id}: `{reference}` is not path::item"));
    let source = read(path);
    assert!(defines(&source, item), "{id}: {path} has no `{item}`");
}

/// A quoted name after `prefix`.
fn quoted<'a>(id: &str, entry: &'a str, prefix: &str) -> &'a str {
    entry
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('"'))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{id}: `{entry}` is not {prefix}\"...\""))
}

#[derive(Default, Debug, PartialEq)]
struct Counts {
    rules: usize,
    by_test: usize,
    by_property: usize,
    out_of_scope: usize,
}

#[test]
fn every_reference_of_the_requirement_table_exists() {
    let rules = rules();
    assert!(rules.len() > 60, "only {} rules", rules.len());
    let mut ids = BTreeSet::new();
    let model = read("models/tls12-model/src/lib.rs");
    let cases = read("crates/tls12/tests/misbehaviour.rs");
    for rule in &rules {
        assert!(ids.insert(rule.id.clone()), "{}: duplicate id", rule.id);
        assert!(
            ["C", "S", "both"].contains(&rule.side.as_str()),
            "{}: side {}",
            rule.id,
            rule.side
        );
        for code in &rule.code {
            check_item(&rule.id, code);
        }
        for entry in &rule.checked_by {
            if let Some(test) = entry.strip_prefix("test ") {
                check_item(&rule.id, test);
            } else if entry.starts_with("case ") {
                let name = quoted(&rule.id, entry, "case ");
                assert!(
                    cases.contains(&format!("name: \"{name}\"")),
                    "{}: no misbehaviour case \"{name}\"",
                    rule.id
                );
            } else if entry.starts_with("property ") {
                let name = quoted(&rule.id, entry, "property ");
                assert!(
                    model.contains(&format!("\"{name}\"")),
                    "{}: no model property \"{name}\"",
                    rule.id
                );
            } else {
                assert!(
                    entry.starts_with("out of scope: ") && entry.len() > 20,
                    "{}: `{entry}` is no test, case, property or reason",
                    rule.id
                );
            }
        }
    }
}

/// The counts the README gives are the table's.
#[test]
fn the_readme_counts_the_requirement_table() {
    let rules = rules();
    let has = |rule: &Rule, prefix: &str| rule.checked_by.iter().any(|e| e.starts_with(prefix));
    let counts = Counts {
        rules: rules.len(),
        by_test: rules
            .iter()
            .filter(|r| has(r, "test ") || has(r, "case "))
            .count(),
        by_property: rules.iter().filter(|r| has(r, "property ")).count(),
        out_of_scope: rules.iter().filter(|r| has(r, "out of scope: ")).count(),
    };
    let line = format!(
        "{} rules: {} checked by a test, {} by a model property, {} out of scope",
        counts.rules, counts.by_test, counts.by_property, counts.out_of_scope
    );
    let readme = read("README.md");
    assert!(readme.contains(&line), "the README should say: {line}");
}
