//! A check of every `{{#include}}` of the book, run before mdBook.
//!
//! mdBook 0.5 logs an unreadable include file as an error but still exits 0, and an anchor that
//! does not exist silently includes nothing, so a renamed function or a moved `ANCHOR_END` would
//! ship a chapter with a hole in it. This check makes both fatal. For each `{{#include PATH}}`,
//! `{{#include PATH:ANCHOR}}` or `{{#include PATH:START:END}}` (and the same for
//! `#rustdoc_include`) in the chapters that `SUMMARY.md` lists:
//! - `PATH`, relative to the chapter, must be a readable file;
//! - a named `ANCHOR` must open (`ANCHOR: name`) and close (`ANCHOR_END: name`) in that file,
//!   in that order, around at least one non-blank line;
//! - a line range must lie inside the file.
//!
//! Included markdown is checked the same way (mdBook expands includes recursively).
//!
//! It runs twice: in `cargo test` (the unit test below, on the committed chapters, skipping the
//! evidence under `generated/`, which only exists after `nmf-book-gen` ran), so that an edit to
//! the code that breaks an anchor fails the test command; and in `scripts/book.sh` after the
//! evidence is generated (`nmf-book-gen --check-includes book/src`), on everything.

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// What a check found.
#[derive(Debug, Default)]
pub struct Report {
    pub chapters: usize,
    pub includes: usize,
    /// Includes not checked because they point into `generated/` (only with `skip_generated`).
    pub skipped: usize,
    pub problems: Vec<String>,
}

/// Check the includes of the chapters listed in `src/SUMMARY.md`. With `skip_generated`,
/// includes of files under `src/generated/` are counted in [`Report::skipped`], not checked.
pub fn check_book(src: &Path, skip_generated: bool) -> Result<Report, String> {
    let summary_path = src.join("SUMMARY.md");
    let summary = fs::read_to_string(&summary_path)
        .map_err(|e| format!("cannot read {}: {e}", summary_path.display()))?;
    let generated = normalize(&src.join("generated"));
    let mut report = Report::default();
    let mut seen = HashSet::new();
    for chapter in summary_links(&summary) {
        report.chapters += 1;
        let path = src.join(&chapter);
        if !path.is_file() {
            report
                .problems
                .push(format!("SUMMARY.md lists {chapter}, which does not exist"));
            continue;
        }
        check_file(&path, &generated, skip_generated, &mut seen, &mut report);
    }
    Ok(report)
}

/// The `.md` targets of `](…)` links in SUMMARY.md, without fragments.
fn summary_links(summary: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = summary;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(j) = rest.find(')') else { break };
        let target = rest[..j].split('#').next().unwrap_or("");
        if target.ends_with(".md") {
            out.push(target.to_string());
        }
        rest = &rest[j..];
    }
    out
}

/// `{{#include ARG}}` / `{{#rustdoc_include ARG}}` occurrences: (the whole directive, ARG).
fn directives(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        rest = &rest[i..];
        let Some(j) = rest.find("}}") else { break };
        let whole = &rest[..j + 2];
        let inner = whole[2..whole.len() - 2].trim();
        for kw in ["#include", "#rustdoc_include"] {
            // The keyword, then whitespace, then one argument (`{{#include_x}}` is not one).
            let Some(tail) = inner.strip_prefix(kw) else {
                continue;
            };
            let arg = tail.trim();
            if tail.starts_with(char::is_whitespace) && !arg.is_empty() && !arg.contains(' ') {
                out.push((whole.to_string(), arg.to_string()));
            }
        }
        rest = &rest[j + 2..];
    }
    out
}

/// `a/b/../c` → `a/c`, without touching the file system (the target may not exist).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn check_file(
    md: &Path,
    generated: &Path,
    skip_generated: bool,
    seen: &mut HashSet<PathBuf>,
    report: &mut Report,
) {
    if !seen.insert(normalize(md)) {
        return;
    }
    let text = match fs::read_to_string(md) {
        Ok(t) => t,
        Err(e) => {
            report
                .problems
                .push(format!("{}: cannot read: {e}", md.display()));
            return;
        }
    };
    let dir = md.parent().unwrap_or(Path::new("."));
    for (whole, arg) in directives(&text) {
        let mut parts = arg.split(':');
        let file = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        let path = normalize(&dir.join(file));
        let place = format!("{}: {whole}", md.display());
        if skip_generated && path.starts_with(generated) {
            report.skipped += 1;
            continue;
        }
        report.includes += 1;
        let target = match fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                report
                    .problems
                    .push(format!("{place}: cannot read {}: {e}", path.display()));
                continue;
            }
        };
        match rest.as_slice() {
            [] => {}
            [name] if !name.is_empty() && name.parse::<usize>().is_err() => {
                if let Err(e) = anchor_body(&target, name) {
                    report.problems.push(format!("{place}: {e}"));
                }
            }
            range => {
                let lines = target.lines().count();
                let bad = range
                    .iter()
                    .filter(|s| !s.is_empty())
                    .any(|s| s.parse::<usize>().map_or(true, |x| x < 1 || x > lines));
                if bad {
                    report.problems.push(format!(
                        "{place}: line range is not inside the file's {lines} lines"
                    ));
                }
            }
        }
        if path.extension().is_some_and(|e| e == "md") {
            check_file(&path, generated, skip_generated, seen, report);
        }
    }
}

/// Whether `line` carries the marker `ANCHOR: name` / `ANCHOR_END: name` (`end`), with `name`
/// ending at a non-identifier character, as mdBook matches it.
fn has_marker(line: &str, name: &str, end: bool) -> bool {
    let marker = if end { "ANCHOR_END:" } else { "ANCHOR:" };
    let mut rest = line;
    while let Some(i) = rest.find(marker) {
        let after = rest[i + marker.len()..].trim_start();
        if let Some(tail) = after.strip_prefix(name) {
            if !tail.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-') {
                return true;
            }
        }
        rest = &rest[i + marker.len()..];
    }
    false
}

/// The non-marker lines between `ANCHOR: name` and the next `ANCHOR_END: name`.
pub fn anchor_body<'a>(text: &'a str, name: &str) -> Result<Vec<&'a str>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| has_marker(l, name, false))
        .ok_or_else(|| format!("no `ANCHOR: {name}`"))?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| has_marker(l, name, true))
        .ok_or_else(|| format!("no `ANCHOR_END: {name}` after its ANCHOR"))?
        + start
        + 1;
    let body: Vec<&str> = lines[start + 1..end]
        .iter()
        .copied()
        .filter(|l| !l.contains("ANCHOR"))
        .collect();
    if body.iter().all(|l| l.trim().is_empty()) {
        return Err(format!("anchor {name} encloses nothing"));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "a\n// ANCHOR: f\nfn f() {}\n// ANCHOR_END: f\n// ANCHOR: g\n\n// ANCHOR_END: g\n// ANCHOR: open\nx\n";

    #[test]
    fn anchors_are_matched_by_whole_name_and_order() {
        assert_eq!(anchor_body(CODE, "f").unwrap(), vec!["fn f() {}"]);
        assert!(anchor_body(CODE, "g")
            .unwrap_err()
            .contains("encloses nothing"));
        assert!(anchor_body(CODE, "open")
            .unwrap_err()
            .contains("no `ANCHOR_END: open`"));
        // `fo` is not `f`, and `f` is not a prefix match of `f_2`.
        assert!(anchor_body(CODE, "fo").is_err());
        assert!(anchor_body("// ANCHOR: f_2\nx\n// ANCHOR_END: f_2\n", "f").is_err());
    }

    #[test]
    fn directives_and_summary_links_are_found() {
        let d =
            directives("x {{#include a.rs:f}} y {{ #rustdoc_include ../b.rs:2:3 }} {{#title t}}");
        let args: Vec<&str> = d.iter().map(|(_, a)| a.as_str()).collect();
        assert_eq!(args, vec!["a.rs:f", "../b.rs:2:3"]);
        assert_eq!(
            summary_links("- [A](a.md)\n- [B](sub/b.md#x)\n[site](https://x.org)"),
            vec!["a.md", "sub/b.md"]
        );
    }

    #[test]
    fn a_broken_book_is_reported_with_the_place() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(
            dir.join("SUMMARY.md"),
            "- [One](one.md)\n- [Gone](gone.md)\n",
        )
        .unwrap();
        fs::write(dir.join("code.rs"), CODE).unwrap();
        fs::write(
            dir.join("one.md"),
            "{{#include code.rs:f}}\n{{#include code.rs:open}}\n{{#include code.rs:2:99}}\n{{#include nope.rs}}\n",
        )
        .unwrap();
        let r = check_book(dir, false).unwrap();
        assert_eq!((r.chapters, r.includes), (2, 4));
        assert_eq!(r.problems.len(), 4, "{:#?}", r.problems);
        assert!(r.problems[0].contains("code.rs:open") && r.problems[0].contains("ANCHOR_END"));
        assert!(r.problems[1].contains("line range"));
        assert!(r.problems[2].contains("nope.rs"));
        assert!(r.problems[3].contains("gone.md"));
    }

    /// The real book: every include of committed code and text resolves (the generated
    /// evidence is checked by `scripts/book.sh` once it exists).
    #[test]
    fn every_include_of_the_book_resolves() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src");
        let r = check_book(&src, true).unwrap();
        assert!(r.problems.is_empty(), "{}", r.problems.join("\n"));
        assert!(r.chapters >= 7 && r.includes >= 30, "{r:?}");
    }
}
