//! "Code holds no clinical numbers" (ARCHITECTURE): every numeric literal in the non-test
//! source of follicle-core, follicle-pattern and follicle-render is either trivial (0, 1, 2)
//! or listed, with the reason it is not a clinical figure, in `numeric_literals.txt`.
//! A new literal anywhere else fails this test, naming its file and line: put the figure
//! in `settings/default.toml` with its source, or, if it is not clinical (a unit
//! conversion, a numerical tolerance, an array size, an algorithm parameter), add it to
//! the list with the reason.
//!
//! No line may be marked DEBT (a clinical figure still in code): there are none left.
//!
//! What is scanned: every `.rs` file under the three crates' `src/`, up to its first
//! `#[cfg(test)]` line (unit tests sit at the end of a file); comments, strings (raw
//! strings too) and character literals are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Literals that need no reason: the identities and doubling.
const TRIVIAL: [&str; 6] = ["0", "1", "2", "0.0", "1.0", "2.0"];

const CRATES: [&str; 3] = ["follicle-core", "follicle-pattern", "follicle-render"];

/// One numeric literal: its text without `_` and type suffix, and its line.
#[derive(Debug, PartialEq)]
struct Literal {
    text: String,
    line: usize,
}

/// The numeric literals of Rust source, outside comments, strings and char literals.
fn literals(src: &str) -> Vec<Literal> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if b[i] == b'\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            b'r' if (i == 0 || !ident(b[i - 1]))
                && matches!(b.get(i + 1), Some(b'"') | Some(b'#'))
                && b[i + 1..].iter().take_while(|&&x| x == b'#').count() + i + 1 < b.len()
                && b[i + 1 + b[i + 1..].iter().take_while(|&&x| x == b'#').count()] == b'"' =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&x| x == b'#').count();
                i += 2 + hashes;
                loop {
                    if i >= b.len() {
                        break;
                    }
                    if b[i] == b'"'
                        && b[i + 1..].iter().take(hashes).filter(|&&x| x == b'#').count() == hashes
                    {
                        i += 1 + hashes;
                        break;
                    }
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    if i < b.len() && b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'\'' => {
                // A char literal ('a', '\n', '\u{..}') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    // Multi-byte char literal, or a lifetime: skip to after the next char.
                    let rest = &src[i + 1..];
                    let ch_len = rest.chars().next().map_or(1, char::len_utf8);
                    if b.get(i + 1 + ch_len) == Some(&b'\'') {
                        i += 2 + ch_len;
                    } else {
                        i += 1;
                    }
                }
            }
            b'0'..=b'9' if i == 0 || !(ident(b[i - 1]) || b[i - 1] == b'.') => {
                let start = i;
                if c == b'0' && matches!(b.get(i + 1), Some(b'x' | b'b' | b'o')) {
                    i += 2;
                    while i < b.len() && ident(b[i]) {
                        i += 1;
                    }
                } else {
                    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                        i += 1;
                    }
                    if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                        i += 1;
                        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                            i += 1;
                        }
                    }
                    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                        let j = i + 1 + usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
                        if b.get(j).is_some_and(u8::is_ascii_digit) {
                            i = j;
                            while i < b.len() && b[i].is_ascii_digit() {
                                i += 1;
                            }
                        }
                    }
                }
                let number_end = i;
                // A type suffix (`u64`, `f32`, `_f64`) is not part of the value.
                while i < b.len() && ident(b[i]) {
                    i += 1;
                }
                let text: String = src[start..number_end].chars().filter(|&c| c != '_').collect();
                let text = text.trim_end_matches('.').to_string();
                out.push(Literal { text, line });
            }
            _ => {
                // Skip whole identifiers so digits inside them (`u64`, `x2`) are not numbers.
                if ident(c) {
                    while i < b.len() && ident(b[i]) {
                        i += 1;
                    }
                } else {
                    i += 1;
                }
            }
        }
    }
    out
}

/// The part of a file that is not unit tests: up to its first `#[cfg(test)]` line.
fn non_test(src: &str) -> &str {
    match src.find("\n#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The allowlist: `file literal reason` or `file * reason` (every literal of the file).
fn allowlist() -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let text = include_str!("numeric_literals.txt");
    let mut pairs = BTreeSet::new();
    let mut files = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(file), Some(lit), Some(reason)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("numeric_literals.txt:{}: expected `file literal reason`", n + 1);
        };
        assert!(
            reason.trim().len() >= 8,
            "numeric_literals.txt:{}: give a reason",
            n + 1
        );
        // Clinical figures are settings; the list holds none, not even as acknowledged debt.
        assert!(
            !reason.contains("DEBT"),
            "numeric_literals.txt:{}: a clinical figure belongs in settings/default.toml, not in this list",
            n + 1
        );
        if lit == "*" {
            files.insert(file.to_string());
        } else {
            for l in lit.split(',') {
                pairs.insert((file.to_string(), l.to_string()));
            }
        }
    }
    (pairs, files)
}

#[test]
fn code_holds_no_clinical_numbers() {
    let crates_dir = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("crates/");
    let (pairs, whole_files) = allowlist();
    let mut files = Vec::new();
    for krate in CRATES {
        rust_files(&crates_dir.join(krate).join("src"), &mut files);
    }
    assert!(files.len() > 30, "only {} files found", files.len());
    let mut unlisted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen = 0;
    for path in &files {
        let rel = path
            .strip_prefix(crates_dir)
            .expect("under crates/")
            .to_string_lossy()
            .replace('\\', "/");
        let src = std::fs::read_to_string(path).expect("a source file");
        for lit in literals(non_test(&src)) {
            seen += 1;
            if TRIVIAL.contains(&lit.text.as_str())
                || whole_files.contains(&rel)
                || pairs.contains(&(rel.clone(), lit.text.clone()))
            {
                continue;
            }
            unlisted
                .entry(rel.clone())
                .or_default()
                .push(format!("crates/{rel}:{}: {}", lit.line, lit.text));
        }
    }
    assert!(seen > 500, "only {seen} literals found: is the scanner broken?");
    if !unlisted.is_empty() {
        let lines: Vec<String> = unlisted.values().flatten().cloned().collect();
        panic!(
            "{} numeric literals are neither settings nor listed in crates/follicle-core/tests/numeric_literals.txt.\n\
             Move a clinical figure to settings/default.toml with its source; list a non-clinical one with its reason.\n{}",
            lines.len(),
            lines.join("\n")
        );
    }
}

#[test]
fn the_scanner_finds_literals_and_skips_comments_and_strings() {
    let src = "let a = 4500.0; // 17\nlet s = \"80 dots\"; let r = r#\"0.18\"#;\n/* 3 */ let t = x.0 + 1_000u64 + 0.25_f32 + 1e-9 + 0xFF; let c = '7'; fn f<'a>() -> [u8; 3] {}\n";
    let got: Vec<(String, usize)> = literals(src).into_iter().map(|l| (l.text, l.line)).collect();
    let want: Vec<(String, usize)> = [
        ("4500.0", 1),
        ("1000", 3),
        ("0.25", 3),
        ("1e-9", 3),
        ("0xFF", 3),
        ("3", 3),
    ]
    .into_iter()
    .map(|(t, l)| (t.to_string(), l))
    .collect();
    assert_eq!(got, want);
    assert_eq!(non_test("a\n#[cfg(test)]\nmod tests {}"), "a");
}
