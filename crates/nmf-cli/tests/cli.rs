//! Runs the built `nmf-lab` binary: the main job writes its files; every kind of bad input
//! gives one clear error line naming the problem and its place, a non-zero exit, no panic and
//! no output file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nmf_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmf-lab"))
        .args(args)
        .output()
        .expect("nmf-lab runs")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A 4×3 matrix of rank ≤ 3.
const GOOD: &str = "1,2,3\n4,5,6\n7,8,10\n0.5,0,1\n";

/// Run `run` with the given data text and extra args; assert a clean failure whose stderr
/// contains every `needle`.
fn assert_bad(data: &str, extra: &[&str], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.csv", data);
    let out = dir.path().join("out");
    let mut args = vec![
        "run",
        "--data",
        m.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--iters",
        "5",
    ];
    args.extend_from_slice(extra);
    assert_clean_failure(&args, &out, needles);
}

/// Run `nmf-lab args`; assert exit code 1 (not a panic, not clap's usage error 2), one error
/// line that contains every `needle`, and nothing written at `out`.
fn assert_clean_failure(args: &[&str], out: &Path, needles: &[&str]) {
    let o = nmf_lab(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "exit code; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one error line: {err}");
    assert!(err.starts_with("nmf-lab: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
    assert!(!out.exists(), "no output directory or file on error");
}

#[test]
fn negative_entry() {
    assert_bad(
        "1,2,3\n4,-5,6\n7,8,9\n",
        &["--rank", "2"],
        &["m.csv", "negative entry", "row 2, column 2"],
    );
}

#[test]
fn nan_entry() {
    assert_bad(
        "1,2,3\n4,5,NaN\n7,8,9\n",
        &["--rank", "2"],
        &["m.csv", "non-finite", "row 2, column 3"],
    );
}

#[test]
fn ragged_row() {
    assert_bad(
        "1,2,3\n4,5\n",
        &["--rank", "1"],
        &["m.csv", "line 2 has 2 values but line 1 has 3"],
    );
}

#[test]
fn empty_file() {
    assert_bad("", &["--rank", "1"], &["m.csv", "empty"]);
}

#[test]
fn text_in_a_number_field() {
    assert_bad(
        "1,2,3\n4,five,6\n",
        &["--rank", "1"],
        &["m.csv", "line 2, column 2", "'five' is not a number"],
    );
}

#[test]
fn rank_zero() {
    assert_bad(
        GOOD,
        &["--rank", "0"],
        &["m.csv", "rank 0 is impossible for a 4×3 matrix"],
    );
}

#[test]
fn rank_above_min_dimension() {
    assert_bad(
        GOOD,
        &["--rank", "4"],
        &["rank 4 is impossible", "min(m, n) = 3"],
    );
}

#[test]
fn all_zero_matrix() {
    assert_bad("0,0\n0,0\n", &["--rank", "1"], &["all zeros"]);
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert_clean_failure(
        &[
            "run",
            "--data",
            "/nonexistent/m.csv",
            "--rank",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
        &out,
        &["/nonexistent/m.csv", "No such file"],
    );
}

/// `assert_bad` on the good 4×3 data at rank 2 with initial factors given as file texts
/// (written as `names.0` and `names.1`).
fn assert_bad_init(names: (&str, &str), texts: (&str, &str), needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let u = write(dir.path(), names.0, texts.0);
    let v = write(dir.path(), names.1, texts.1);
    let args = [
        "--rank",
        "2",
        "--init-u",
        u.to_str().unwrap(),
        "--init-v",
        v.to_str().unwrap(),
    ];
    assert_bad(GOOD, &args, needles);
}

#[test]
fn init_of_the_wrong_shape_names_the_file() {
    assert_bad_init(
        ("u0.csv", "v0.csv"),
        ("1,1\n1,1\n1,1\n1,1\n", "1,1\n1,1\n"),
        &["v0.csv", "matrix V has shape 2×2, expected 2×3"],
    );
    assert_bad_init(
        ("u1.csv", "v1.csv"),
        ("1,1\n1,1\n", "1,1,1\n1,1,1\n"),
        &["u1.csv", "matrix U has shape 2×2, expected 4×2"],
    );
}

#[test]
fn negative_init_entry_names_file_and_place() {
    assert_bad_init(
        ("u.csv", "v.csv"),
        ("1,1\n1,-2\n1,1\n1,1\n", "1,1,1\n1,1,1\n"),
        &["u.csv", "negative entry", "row 2, column 2"],
    );
}

#[test]
fn zero_denominator_during_a_run_is_reported_with_its_place() {
    // Column 2 of the initial U is zero, so (UᵀU V) has a zero row 2: MU's V update divides
    // 0 by 0 there at once. The (empty) trace is written; the exit code is 3.
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.csv", "1,3,2\n2,1,1\n1,2,1\n");
    let u = write(dir.path(), "u.csv", "1,0\n2,0\n1,0\n");
    let v = write(dir.path(), "v.csv", "1,1,1\n1,2,1\n");
    let out = dir.path().join("out");
    let o = nmf_lab(&[
        "run",
        "--data",
        m.to_str().unwrap(),
        "--rank",
        "2",
        "--init-u",
        u.to_str().unwrap(),
        "--init-v",
        v.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("zero denominator in the update of V at row 2, column 1, iteration 0"),
        "{err}"
    );
    let csv = std::fs::read_to_string(out.join("trace.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1, "the header only");
}

#[test]
fn a_zero_column_of_data_runs_to_the_end_with_an_event() {
    // Column 2 of M is zero: V's column 2 is 0 after one step and stays 0 (the update there
    // is defined as 0), the run completes, every claim is exercised, exit 0.
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.csv", "1,0,2,3\n2,0,1,1\n1,0,1,5\n4,0,1,2\n");
    let out = dir.path().join("out");
    let o = nmf_lab(&[
        "run",
        "--data",
        m.to_str().unwrap(),
        "--rank",
        "2",
        "--iters",
        "500",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("data: 1 columns of M are all zero"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["all_claims_hold"], true);
    assert_eq!(summary["iterations"], 500);
}

#[test]
fn a_claim_with_no_row_to_check_is_not_exercised_and_exits_5() {
    // One iteration: the objective claim compares consecutive rows and has none. That is not
    // "holds": the table says why, all_claims_hold is null, and the exit code is 5.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = nmf_lab(&["reproduce", "--iters", "1", "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(5), "{stdout}");
    assert!(
        stdout.contains("objective_non_increasing not exercised: no row to check"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["all_claims_hold"], serde_json::Value::Null);
}

#[test]
fn usage_errors_exit_64_and_help_documents_every_exit_code() {
    for args in [
        &["reproduce", "--no-such-option"][..],
        &["run", "--rank", "2"][..],
        &["reproduce", "--iters", "many"][..],
        &["frobnicate"][..],
    ] {
        let o = nmf_lab(args);
        assert_eq!(o.status.code(), Some(64), "{args:?}");
    }
    let o = nmf_lab(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "64"] {
        assert!(
            help.contains(&format!("\n  {code}")),
            "--help lacks exit code {code}: {help}"
        );
    }
}

#[test]
fn reproduce_writes_the_contract_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = nmf_lab(&[
        "reproduce",
        "--out",
        out.to_str().unwrap(),
        "--iters",
        "300",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("lemma2_v") && stdout.contains("holds") && !stdout.contains("FAILS"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(out.join("trace.csv")).unwrap();
    assert!(csv.starts_with("iter,objective,step_v,inner_v,inner_v_closed,decrease_v,theta_v,eig_utu_min,eig_utu_max,k_ratio_v,step_u,inner_u,inner_u_closed,decrease_u,theta_u,eig_vvt_min,eig_vvt_max,k_ratio_u,kkt,note_inner_v,note_decrease_v,note_vtv_min,note_vtv_max"));
    assert_eq!(csv.lines().count(), 301);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["iterations"], 300);
    assert_eq!(summary["all_claims_hold"], true);
    assert_eq!(
        summary["experiment"]["seed"],
        nmf_core::experiment::DEFAULT_SEED
    );
    let trace: nmf_core::Trace =
        serde_json::from_str(&std::fs::read_to_string(out.join("trace.json")).unwrap()).unwrap();
    assert_eq!(trace.rows.len(), 300);
    // The CSV and the JSON hold the same numbers, bit for bit.
    assert_eq!(
        nmf_core::Trace::read_csv(csv.as_bytes()).unwrap(),
        trace.rows
    );
}

#[test]
fn bad_option_values_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert_clean_failure(
        &["reproduce", "--iters", "0", "--out", out_s],
        &out,
        &["max_iter"],
    );
    // `--tol=-1`: written `--tol -1`, clap would take `-1` for a flag and never reach the
    // parameter check this test is about.
    assert_clean_failure(
        &["reproduce", "--tol=-1", "--out", out_s],
        &out,
        &["tol", "got -1"],
    );
    assert_clean_failure(
        &["verify-exact", "--max-dim", "1"],
        &out,
        &["max_dim", "at least 2"],
    );
    let o = nmf_lab(&["verify-exact", "--trials", "3"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("3 instances"));
}
