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
    // Limits are checked before anything is allocated: these used to abort or panic.
    for (args, needle) in [
        (&["verify-exact", "--max-dim", "100000"][..], "at most 8"),
        (
            &["verify-exact", "--max-dim", "18446744073709551615"][..],
            "at most 8",
        ),
        (&["verify-exact", "--trials", "0"][..], "trials"),
        (&["verify-exact", "--steps", "0"][..], "steps"),
    ] {
        assert_clean_failure(args, &out, &[needle]);
    }
    let o = nmf_lab(&["verify-exact", "--trials", "3"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("3 instances"));
}

fn summary_of(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn factors_are_written_and_a_resumed_run_continues_bit_for_bit() {
    // 300 iterations at once against 120 + a resume of 180 from the written U.csv, V.csv.
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.csv", GOOD);
    let run = |iters: &str, out: &Path, init: Option<&Path>| {
        let mut args = vec![
            "run".to_string(),
            "--data".into(),
            m.to_str().unwrap().into(),
            "--rank".into(),
            "2".into(),
            "--iters".into(),
            iters.into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ];
        if let Some(p) = init {
            for (flag, f) in [("--init-u", "U.csv"), ("--init-v", "V.csv")] {
                args.push(flag.into());
                args.push(p.join(f).to_str().unwrap().into());
            }
        }
        let o = Command::new(env!("CARGO_BIN_EXE_nmf-lab"))
            .args(&args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (whole, first, second) = (
        dir.path().join("whole"),
        dir.path().join("first"),
        dir.path().join("second"),
    );
    run("300", &whole, None);
    run("120", &first, None);
    run("180", &second, Some(&first));
    for f in ["U.csv", "V.csv"] {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(second.join(f)).unwrap(),
            "{f} after 120 + 180 iterations equals {f} after 300"
        );
    }
    // The resumed run's rows are the whole run's last 180 rows (objective and steps, bit for
    // bit; the KKT residual's U part is evaluated afresh at the start, so only that column of
    // the first resumed row may differ in its last bits).
    let rows = |p: &Path| {
        nmf_core::Trace::read_csv(std::fs::File::open(p.join("trace.csv")).unwrap()).unwrap()
    };
    let (w, s) = (rows(&whole), rows(&second));
    for (a, b) in w[120..].iter().zip(&s) {
        assert_eq!(a.objective.to_bits(), b.objective.to_bits());
        assert_eq!(a.v.decrease.to_bits(), b.v.decrease.to_bits());
        assert_eq!(a.u.step.to_bits(), b.u.step.to_bits());
    }
    let prov = &summary_of(&second)["provenance"];
    assert_eq!(prov["init"], "files");
    let roles: Vec<_> = prov["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["role"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(roles, ["data", "init_u", "init_v"]);
    assert_eq!(prov["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(prov["inputs"][0]["rows"], 4);
    assert!(prov["command_line"].as_array().unwrap().len() > 5);
}

#[test]
fn sigint_and_sigterm_stop_the_run_with_a_complete_output() {
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r");
        let child = Command::new(env!("CARGO_BIN_EXE_nmf-lab"))
            .args([
                "reproduce",
                "--iters",
                "100000000",
                "--quiet",
                "--no-note-columns",
            ])
            .args(["--out", out.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Let it start iterating, then signal it.
        std::thread::sleep(std::time::Duration::from_millis(700));
        let kill = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{signal}: {err}");
        assert!(err.contains("interrupted"), "{err}");
        let s = summary_of(&out);
        assert_eq!(s["stop"]["reason"], "interrupted");
        let rows = s["iterations"].as_u64().unwrap();
        assert!(rows > 0);
        let csv = std::fs::read_to_string(out.join("trace.csv")).unwrap();
        assert_eq!(
            csv.lines().count() as u64,
            rows + 1,
            "trace and summary agree"
        );
        assert!(out.join("U.csv").exists() && out.join("V.csv").exists());
        let stray: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
            .collect();
        assert!(stray.is_empty(), "{stray:?}");
    }
}

#[test]
fn a_closed_or_full_stdout_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    // Closed at once: the reader is gone; the run still writes its files and exits 0.
    let out = dir.path().join("a");
    let mut child = Command::new(env!("CARGO_BIN_EXE_nmf-lab"))
        .args(["reproduce", "--iters", "50", "--out", out.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.join("summary.json").exists());
    // A full device: one clear error, exit 1.
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let out = dir.path().join("b");
        let o = Command::new(env!("CARGO_BIN_EXE_nmf-lab"))
            .args(["verify-exact", "--trials", "2"])
            .arg("--seed")
            .arg("1")
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("standard output") && !err.contains("panicked"),
            "{err}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn out_is_checked_before_computing() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "taken", "x");
    // A file where the directory should go: refused at once (a 10⁹-iteration run would
    // otherwise compute for hours first).
    let o = nmf_lab(&[
        "reproduce",
        "--iters",
        "1000000000",
        "--out",
        file.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("exists and is not a directory"), "{err}");
    // An input inside --out would be replaced by the output: refused.
    let out = dir.path().join("o");
    std::fs::create_dir(&out).unwrap();
    let m = write(&out, "m.csv", GOOD);
    let o = nmf_lab(&[
        "run",
        "--data",
        m.to_str().unwrap(),
        "--rank",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("would replace the input file"), "{err}");
}

#[test]
fn an_io_error_names_the_path_and_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let o = nmf_lab(&[
        "run",
        "--data",
        missing.to_str().unwrap(),
        "--rank",
        "1",
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(err.contains("nope.csv"), "{err}");
}

#[test]
fn outputs_choose_what_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = nmf_lab(&[
        "reproduce",
        "--iters",
        "40",
        "--outputs",
        "summary,factors",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["U.csv", "V.csv", "summary.json"]);
    assert_eq!(summary_of(&out)["iterations"], 40);
    let o = nmf_lab(&[
        "reproduce",
        "--outputs",
        "trace,plots",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(64),
        "an unknown output is a usage error"
    );
}

#[test]
fn bundled_data_sets_run_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let o = nmf_lab(&[
        "run",
        "--data",
        "swimmer",
        "--rank",
        "17",
        "--iters",
        "30",
        "--init",
        "scaled",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let s = summary_of(&out);
    assert_eq!(s["provenance"]["inputs"][0]["path"], "bundled:swimmer");
    assert_eq!(s["provenance"]["inputs"][0]["rows"], 256);
    assert_eq!(s["provenance"]["init"], "scaled");
    let o = nmf_lab(&[
        "run",
        "--data",
        "mnist",
        "--rank",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("digits, swimmer"), "{err}");
}

#[test]
fn npy_data_gives_npy_factors_too_and_they_resume() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.npy");
    let data = nmf_core::io::parse_matrix(GOOD, Path::new("good")).unwrap();
    nmf_core::io::write_matrix_npy(&m, &data).unwrap();
    let out = dir.path().join("o");
    let o = nmf_lab(&[
        "run",
        "--data",
        m.to_str().unwrap(),
        "--rank",
        "2",
        "--iters",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let u = nmf_core::io::read_matrix(&out.join("U.npy")).unwrap();
    let u_csv = nmf_core::io::read_matrix(&out.join("U.csv")).unwrap();
    assert_eq!(u, u_csv, "the .npy and .csv factors are the same numbers");
    let out2 = dir.path().join("o2");
    let o = nmf_lab(&[
        "run",
        "--data",
        m.to_str().unwrap(),
        "--rank",
        "2",
        "--iters",
        "5",
        "--init-u",
        out.join("U.npy").to_str().unwrap(),
        "--init-v",
        out.join("V.npy").to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A small tmpfs, unmounted on drop; `None` where mounting is not allowed (not root, or a
/// container without the capability), so the test says it could not run instead of failing.
struct Tmpfs(PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let at = dir.path().join("fs");
        std::fs::create_dir(&at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(at, dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_cleanly_and_keeps_the_previous_output() {
    let Some(fs) = Tmpfs::mount("256k") else {
        eprintln!("a_full_disk_fails_cleanly_and_keeps_the_previous_output: cannot mount a tmpfs here; not run");
        return;
    };
    let out = fs.0.join("out");
    // A previous, small output fits.
    let o = nmf_lab(&[
        "reproduce",
        "--iters",
        "5",
        "--outputs",
        "summary",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let before = std::fs::read(out.join("summary.json")).unwrap();
    // A run whose trace cannot fit: one clear error, exit 1, the previous output untouched.
    let o = nmf_lab(&[
        "reproduce",
        "--iters",
        "3000",
        "--outputs",
        "trace,summary",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(&fs.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n == "out" || n == ".out.lock"),
        "nothing but the previous output and the lock: {names:?}"
    );
}

#[test]
fn every_solver_runs_on_digits_and_on_the_notes_instance_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    for solver in ["mu", "mu-eps", "mu-lin", "hals", "hals-accel"] {
        for (name, args) in [
            (
                "digits",
                vec!["run", "--data", "digits", "--rank", "10", "--iters", "300"],
            ),
            ("note", vec!["reproduce", "--iters", "2000"]),
        ] {
            let out = dir.path().join(format!("{solver}-{name}"));
            let mut a = args.clone();
            a.extend([
                "--solver",
                solver,
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ]);
            let o = nmf_lab(&a);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(0), "{solver} on {name}: {err}");
            let s = summary_of(&out);
            assert_eq!(s["experiment"]["solver"]["name"], solver);
            match solver {
                "mu-eps" | "hals" => assert_eq!(s["experiment"]["solver"]["eps"], 1e-16),
                "hals-accel" => {
                    assert_eq!(s["experiment"]["solver"]["eps"], 1e-16);
                    assert_eq!(s["experiment"]["solver"]["alpha"], 0.5);
                    assert_eq!(s["experiment"]["solver"]["delta"], 0.1);
                }
                "mu-lin" => assert_eq!(s["experiment"]["solver"]["sigma"], 1e-8),
                _ => {}
            }
            assert_eq!(s["all_claims_hold"], true, "{solver} on {name}");
            let trace: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("trace.json")).unwrap())
                    .unwrap();
            assert_eq!(trace["solver"], solver);
        }
    }
}

#[test]
fn solver_options_that_do_not_fit_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    for args in [
        vec!["--solver", "mu", "--eps", "1e-9"],
        vec!["--solver", "mu-eps", "--eps", "0"],
        vec!["--solver", "mu-eps", "--eps=-1e-3"],
        vec!["--solver", "mu-eps", "--eps", "inf"],
        vec!["--solver", "hals", "--eps", "0"],
        vec!["--solver", "mu-lin", "--eps", "1e-9"],
        vec!["--solver", "mu-lin", "--sigma", "0"],
        vec!["--solver", "mu-lin", "--delta", "nan"],
        vec!["--solver", "mu-lin", "--alpha", "1"],
        vec!["--solver", "hals", "--delta", "0.1"],
        vec!["--solver", "hals-accel", "--alpha=-1"],
        vec!["--solver", "hals-accel", "--delta", "1"],
        vec!["--solver", "hals-accel", "--sigma", "0.1"],
        vec!["--solver", "mu", "--alpha", "0.5"],
        vec!["--solver", "hals-typo"],
    ] {
        let mut a = vec!["reproduce", "--out", out.to_str().unwrap()];
        a.extend(&args);
        let o = nmf_lab(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(64), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "nothing written on a usage error");
    }
}

#[test]
fn verify_exact_checks_each_solvers_proof_and_the_stall_certificate() {
    for (args, want) in [
        (vec!["verify-exact", "--trials", "20"], "0 mismatches"),
        (
            vec![
                "verify-exact",
                "--trials",
                "20",
                "--solver",
                "mu-eps",
                "--eps",
                "0.25",
            ],
            "ε-MU (ε = 2.5e-1): the floor lifted",
        ),
        (
            vec![
                "verify-exact",
                "--trials",
                "20",
                "--solver",
                "hals",
                "--eps",
                "0.25",
            ],
            "HALS (ε = 2.5e-1): the floor lifted",
        ),
        (
            vec![
                "verify-exact",
                "--trials",
                "20",
                "--solver",
                "hals-accel",
                "--alpha",
                "2",
            ],
            "accelerated HALS (ε = 1e-16, α = 2, δ = 0.1): the floor lifted",
        ),
        (
            vec![
                "verify-exact",
                "--trials",
                "20",
                "--solver",
                "mu-lin",
                "--sigma",
                "0.25",
                "--delta",
                "0.015625",
            ],
            "Lin's MU (σ = 2.5e-1, δ = 1.5625e-2): the floor lifted",
        ),
    ] {
        let o = nmf_lab(&args);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {out}");
        assert!(out.contains(want), "{out}");
        assert!(out.contains(" 0 mismatches"), "{out}");
        assert!(
            out.contains("stall certificate: MU's step fixes (U, V) exactly: yes; the gradient at the zero entry V(2, 1) is -1/2 (negative: not a KKT point): yes"),
            "{out}"
        );
    }
}
