//! Records the git commit the binary is built from (for `summary.json`'s provenance):
//! `git rev-parse HEAD`, with `-dirty` when the work tree differs from it, or `unknown`
//! outside a git checkout.
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty());
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let value = match commit {
        Some(c) if dirty => format!("{c}-dirty"),
        Some(c) => c,
        None => "unknown".into(),
    };
    println!("cargo:rustc-env=NMF_LAB_GIT_COMMIT={value}");
    // Rebuild when HEAD moves or the index changes (a commit, a checkout, a stage).
    for p in [
        "../../.git/HEAD",
        "../../.git/index",
        "../../.git/logs/HEAD",
    ] {
        println!("cargo:rerun-if-changed={p}");
    }
}
