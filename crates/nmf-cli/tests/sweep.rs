//! `nmf-lab sweep` end to end: the shipped smoke grid runs; the files are byte-identical for
//! 1 and 2 threads and for 3 merged shards; bad grids, bad shards and bad merges fail cleanly
//! with nothing written; a row replays exactly with `reproduce --instance`; the report and the
//! Slurm scripts are written, and the scripts run (with a stand-in `sbatch`) to the unsharded
//! files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nmf_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmf-lab"))
        .args(args)
        .output()
        .expect("nmf-lab runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// 2 solvers × (uniform, halfnormal, sparse) × 2 shapes × 4 seeds = 48 instances.
const GRID: &str = r#"
iters = 40
shapes = [[8, 6, 3], [5, 9, 2]]
data = ["uniform", "halfnormal", { kind = "sparse", density = 0.6 }]
init = ["scaled"]
seeds = { start = 0, count = 4 }

[[solver]]
name = "mu"

[[solver]]
name = "hals"
"#;

fn grid_in(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("grid.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn sweep(grid: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sweep", "--grid", s(grid), "--out", s(out), "--quiet"];
    args.extend_from_slice(extra);
    let o = nmf_lab(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

const FILES: [&str; 4] = ["results.csv", "results.jsonl", "grid.toml", "sweep.json"];

fn assert_same_files(a: &Path, b: &Path) {
    for f in FILES {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn the_shipped_smoke_grid_runs_and_every_claim_holds() {
    let d = tempfile::tempdir().unwrap();
    let grid = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sweeps/smoke.toml");
    let out = d.path().join("smoke");
    let o = sweep(&grid, &out, &[]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("160 instances: 0 with a failed claim"),
        "{text}"
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 161);
    // The book's grid parses and has the 10 000 instances its comment promises.
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sweeps/book.toml");
    let g = nmf_core::sweep::Grid::load(&book).unwrap();
    assert_eq!(g.count(), 10_000);
}

#[test]
fn files_are_byte_identical_for_one_and_two_threads_and_for_merged_shards() {
    let d = tempfile::tempdir().unwrap();
    let grid = grid_in(d.path(), GRID);
    let one = d.path().join("one");
    let two = d.path().join("two");
    sweep(&grid, &one, &["--threads", "1"]);
    sweep(&grid, &two, &["--threads", "2"]);
    assert_same_files(&one, &two);
    let shards: Vec<PathBuf> = (0..3).map(|i| d.path().join(format!("shard{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        sweep(
            &grid,
            dir,
            &["--shard", &format!("{i}/3"), "--threads", "2"],
        );
        let rows = std::fs::read_to_string(dir.join("results.csv")).unwrap();
        assert_eq!(
            rows.lines().count(),
            1 + 16,
            "48 instances round robin over 3 shards"
        );
    }
    let merged = d.path().join("merged");
    let o = nmf_lab(&[
        "sweep",
        "merge",
        "--out",
        s(&merged),
        s(&shards[2]),
        s(&shards[0]),
        s(&shards[1]),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_same_files(&one, &merged);

    // Merge errors: exit 1, one message, nothing written.
    let bad_out = d.path().join("bad-merge");
    for (dirs, needle) in [
        (vec![&shards[0], &shards[1]], "shard 2/3 missing"),
        (
            vec![&shards[0], &shards[1], &shards[1], &shards[2]],
            "shard 1/3 given twice",
        ),
        (vec![&shards[0], &one], "shards of different sweeps"),
    ] {
        let mut args = vec!["sweep", "merge", "--out", s(&bad_out)];
        args.extend(dirs.iter().map(|p| s(p)));
        let o = nmf_lab(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!bad_out.exists());
    }
    let x = d.path().join("x");
    std::fs::create_dir(&x).unwrap();
    let other = grid_in(&x, &GRID.replace("iters = 40", "iters = 41"));
    let odd = d.path().join("odd");
    sweep(&other, &odd, &["--shard", "2/3"]);
    let o = nmf_lab(&[
        "sweep",
        "merge",
        "--out",
        s(&bad_out),
        s(&shards[0]),
        s(&shards[1]),
        s(&odd),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("different sweeps (grid"), "{err}");
    assert!(!bad_out.exists());
}

#[test]
fn bad_grids_fail_with_exit_1_a_clear_message_and_nothing_written() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    for (text, needles) in [
        (
            GRID.replace("name = \"hals\"", "name = \"als\""),
            vec!["unknown variant `als`", "line"],
        ),
        (
            GRID.replace("[5, 9, 2]", "[5, 9, 6]"),
            vec!["shapes[1] = [5, 9, 6]", "min(m, n) = 5"],
        ),
        (
            GRID.replace("count = 4", "count = 0"),
            vec!["seeds is empty", "zero instances"],
        ),
        (
            GRID.replace("name = \"hals\"", "name = \"hals\"\neps = 0.0"),
            vec!["solver[1]", "eps", "must be finite and > 0"],
        ),
        (
            format!("threads = 2\n{GRID}"),
            vec!["unknown field `threads`"],
        ),
        (
            GRID.replace("density = 0.6", "density = 1.5"),
            vec!["data[2]", "density"],
        ),
    ] {
        let grid = grid_in(d.path(), &text);
        let o = nmf_lab(&["sweep", "--grid", s(&grid), "--out", s(&out)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.starts_with("nmf-lab: error: "), "{err}");
        assert!(err.contains("grid.toml"), "names the file: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        for n in needles {
            assert!(err.contains(n), "{n:?} not in {err}");
        }
        assert!(!out.exists(), "nothing written");
        let o = nmf_lab(&[
            "sweep",
            "slurm",
            "--grid",
            s(&grid),
            "--shards",
            "2",
            "--out",
            s(&out),
        ]);
        assert_eq!(o.status.code(), Some(1), "slurm checks the grid first");
        assert!(!out.exists(), "nothing written");
        let names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("tmp-"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }
    // A missing grid file.
    let o = nmf_lab(&["sweep", "--grid", "/nonexistent/g.toml", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists());
}

#[test]
fn usage_errors_exit_64_and_write_nothing() {
    let d = tempfile::tempdir().unwrap();
    let grid = grid_in(d.path(), GRID);
    let out = d.path().join("out");
    for (args, needle) in [
        (vec!["--shard", "3/3"], "below the count 3"),
        (vec!["--shard", "1"], "expected I/N"),
        (vec!["--shard", "1/0"], "at least 1"),
    ] {
        let mut a = vec!["sweep", "--grid", s(&grid), "--out", s(&out)];
        a.extend(args);
        let o = nmf_lab(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(64), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(!out.exists());
    }
    let o = nmf_lab(&[
        "sweep",
        "slurm",
        "--grid",
        s(&grid),
        "--shards",
        "0",
        "--out",
        s(&out),
    ]);
    assert_eq!(
        o.status.code(),
        Some(64),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = nmf_lab(&["sweep", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(64), "--grid is required");
    let o = nmf_lab(&[
        "sweep",
        "--grid",
        s(&grid),
        "--out",
        s(&out),
        "report",
        s(&out),
    ]);
    assert_eq!(
        o.status.code(),
        Some(64),
        "options of the run conflict with a subcommand"
    );
    let o = nmf_lab(&["reproduce", "--data-kind", "sparse", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(64), "sparse needs --density");
    let o = nmf_lab(&[
        "reproduce",
        "--instance",
        "{}",
        "--seed",
        "3",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(64), "--instance says everything");
    assert!(!out.exists());
}

#[test]
fn a_row_replays_exactly_with_reproduce_instance() {
    let d = tempfile::tempdir().unwrap();
    let grid = grid_in(d.path(), GRID);
    let out = d.path().join("sweep");
    sweep(&grid, &out, &[]);
    let jsonl = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    // A MU row on sparse data and a HALS row on half-normal data.
    for line_no in [17, 36] {
        let line = jsonl.lines().nth(line_no).unwrap();
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let again = d.path().join(format!("replay{line_no}"));
        let o = nmf_lab(&[
            "reproduce",
            "--instance",
            line,
            "--out",
            s(&again),
            "--outputs",
            "summary",
            "--quiet",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(again.join("summary.json")).unwrap())
                .unwrap();
        let fo = |v: &serde_json::Value| v.as_f64().unwrap().to_bits();
        assert_eq!(fo(&summary["final_objective"]), fo(&row["final_objective"]));
        assert_eq!(fo(&summary["final_kkt"]), fo(&row["final_kkt"]));
        assert_eq!(summary["experiment"], row["experiment"]);
        let claims = summary["claims"].as_array().unwrap();
        for c in row["claims"].as_array().unwrap() {
            let name = c["claim"].as_str().unwrap();
            let v = claims.iter().find(|v| v["claim"] == name);
            match v {
                Some(v) => {
                    assert_eq!(v["status"], c["status"], "{name}");
                    assert_eq!(v["checked"], c["checked"], "{name}");
                    assert_eq!(v["violations"], c["violations"], "{name}");
                    if let Some(w) = v["worst"].as_object() {
                        assert_eq!(w["usage"], c["worst_usage"], "{name}");
                        assert_eq!(w["iter"], c["worst_iter"], "{name}");
                    }
                }
                None => assert_eq!(c["status"], "not_applicable", "{name}"),
            }
        }
    }
    // The same instance by options: M drawn half-normal at 8×6, rank 3, HALS, scaled start.
    let line = jsonl.lines().nth(36).unwrap();
    let row: serde_json::Value = serde_json::from_str(line).unwrap();
    let e = &row["experiment"];
    assert_eq!(e["data"], "halfnormal");
    let again = d.path().join("by-options");
    let o = nmf_lab(&[
        "reproduce",
        "--m",
        &e["m"].to_string(),
        "--n",
        &e["n"].to_string(),
        "--k",
        &e["k"].to_string(),
        "--data-kind",
        "halfnormal",
        "--solver",
        "hals",
        "--init",
        "scaled",
        "--seed",
        &e["seed"].to_string(),
        "--iters",
        "40",
        "--out",
        s(&again),
        "--outputs",
        "summary",
        "--quiet",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(again.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        summary["final_objective"].as_f64().unwrap().to_bits(),
        row["final_objective"].as_f64().unwrap().to_bits()
    );
}

#[test]
fn the_report_prints_the_statistics_and_writes_an_offline_page() {
    let d = tempfile::tempdir().unwrap();
    let grid = grid_in(d.path(), GRID);
    let out = d.path().join("sweep");
    sweep(&grid, &out, &[]);
    let o = nmf_lab(&["sweep", "report", s(&out)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    // 24 MU instances, none violated: two-sided upper 1 − 0.025^(1/24), one-sided 1 − 0.05^(1/24).
    let hi = format!("{:.3e}", 1.0 - 0.025f64.powf(1.0 / 24.0));
    let up = format!("{:.3e}", 1.0 - 0.05f64.powf(1.0 / 24.0));
    let line = text
        .lines()
        .find(|l| l.starts_with("MU ") && l.contains("objective_non_increasing"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains(" 24 ") && line.contains(&hi) && line.contains(&up),
        "{line}"
    );
    assert!(text.contains("HALS (ε = 1e-16)"), "{text}");
    assert!(
        !text.contains("HALS (ε = 1e-16)             lemma2_v"),
        "HALS does not declare Lemma 2"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Plotly.newPlot") && html.contains("src=\"plotly.min.js\""));
    assert!(html.contains("Usage of lemma1_v") && html.contains("Violation rates: MU"));
    assert!(!html.contains("cdn."), "offline");
    assert!(out.join("plotly.min.js").exists());
}

#[test]
fn the_slurm_scripts_run_a_job_array_and_merge_to_the_unsharded_files() {
    let d = tempfile::tempdir().unwrap();
    let grid = grid_in(d.path(), GRID);
    let unsharded = d.path().join("unsharded");
    sweep(&grid, &unsharded, &[]);
    let job = d.path().join("job");
    let o = nmf_lab(&[
        "sweep",
        "slurm",
        "--grid",
        s(&grid),
        "--shards",
        "4",
        "--out",
        s(&job),
        "--partition",
        "debug",
        "--time",
        "00:10:00",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let sb = std::fs::read_to_string(job.join("sweep.sbatch")).unwrap();
    assert!(sb.contains("#SBATCH --array=0-3\n"), "{sb}");
    assert!(sb.contains("#SBATCH --partition=debug\n") && sb.contains("#SBATCH --time=00:10:00\n"));
    assert!(sb.contains("--shard \"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\""));
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_nmf-lab")).unwrap();
    assert!(
        sb.contains(&format!("'{}'", exe.display())),
        "absolute binary: {sb}"
    );
    let submit = std::fs::read_to_string(job.join("submit.sh")).unwrap();
    assert!(
        submit.contains("sbatch --parsable --dependency=afterok:\"$array\""),
        "{submit}"
    );
    // A stand-in sbatch: runs an array script once per task with Slurm's variables, any other
    // script once, and prints a job id (as --parsable does).
    let bin = d.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = bin.join("sbatch");
    std::fs::write(
        &fake,
        r#"#!/bin/bash
set -e
for a in "$@"; do case "$a" in --*) echo "$a" >> "$(dirname "$0")/options" ;; *) script="$a" ;; esac; done
last=$(sed -n 's/^#SBATCH --array=0-\([0-9]*\)$/\1/p' "$script")
if [ -n "$last" ]; then
  for i in $(seq 0 "$last"); do
    SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=$((last + 1)) bash "$script" > /dev/null
  done
  echo 101
else
  bash "$script" > /dev/null
  echo "102;cluster"
fi
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new(job.join("submit.sh"))
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    // `array ID` and `merge ID` lines (scripts/slurm-sweep-check.sh reads them); the merge's
    // id as --parsable prints it on a multi-cluster setup (`ID;cluster`) is cut to the ID.
    assert!(said.starts_with("array 101\nmerge 102\n"), "{said}");
    let opts = std::fs::read_to_string(bin.join("options")).unwrap();
    assert!(opts.contains("--dependency=afterok:101"), "{opts}");
    for i in 0..4 {
        assert!(job.join(format!("shards/{i}/results.csv")).exists());
    }
    assert_same_files(&unsharded, &job.join("merged"));
    assert!(job.join("merged/report.html").exists());
}

#[test]
fn sigint_stops_a_sweep_with_130_and_nothing_written() {
    let d = tempfile::tempdir().unwrap();
    // Long enough to be interrupted: 4000 instances × 2000 iterations.
    let grid = grid_in(
        d.path(),
        &GRID
            .replace("iters = 40", "iters = 2000")
            .replace("count = 4", "count = 334"),
    );
    let out = d.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_nmf-lab"))
        .args(["sweep", "--grid", s(&grid), "--out", s(&out), "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let k = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(k.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: nothing written"), "{err}");
    assert!(!out.exists());
    let left: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
