//! End-to-end tests of the `follicle` command: the real binary on real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod calendar;
mod cli;
mod pattern;

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Every example client file, sorted.
fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples/clients"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Runs `follicle` with `args` from the repository root.
fn follicle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_follicle"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A fixed assessment date and start, so snapshots do not change with the calendar.
const DATES: [&str; 4] = ["--date", "2026-11-21", "--start", "2026-12-01"];
