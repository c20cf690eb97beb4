//! Table-driven input tests of the `nmf-lab` binary.
//!
//! [`bad_input_is_refused_cleanly`]: every case is a kind of bad input or a bad command line;
//! each must exit with its documented code (1 bad input, 64 usage), print no panic and no raw
//! control byte, name the cause and the place, and create nothing at `--out`. For bad input
//! (exit 1) standard error is exactly one line starting `nmf-lab: error: `; usage errors (64)
//! are clap's own message, which starts `error: `.
//!
//! [`real_world_variants_are_accepted`]: the same 4×3 matrix written the ways people write
//! it (a byte-order mark, a header, an index column, `;`, tabs, blanks, quotes, `.npy` of
//! several dtypes and orders, Matrix Market, standard input) runs to exit 0 and gives a
//! trace identical, byte for byte, to the plain CSV's.
//!
//! `.npy` fixtures are written by the test itself (magic, version, header dict, data).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The reference matrix: 4×3, integers (exact in every dtype), rank 3.
const M0: [[u8; 3]; 4] = [[1, 2, 3], [4, 5, 6], [7, 8, 10], [2, 0, 1]];
const GOOD: &str = "1,2,3\n4,5,6\n7,8,10\n2,0,1\n";

/// One invocation: files to create in a fresh directory, the arguments (`{d}` is that
/// directory, `{out}` the output directory), standard input, the expected exit code, and
/// substrings standard error must contain.
struct Case {
    name: &'static str,
    files: Vec<(String, Vec<u8>)>,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    code: i32,
    needles: Vec<String>,
    /// Skip when this file can be read (chmod 000 does not stop root).
    skip_if_readable: Option<String>,
}

impl Case {
    fn new(name: &'static str) -> Case {
        Case {
            name,
            files: Vec::new(),
            args: Vec::new(),
            stdin: None,
            code: 1,
            needles: Vec::new(),
            skip_if_readable: None,
        }
    }

    fn file(mut self, name: &str, bytes: impl AsRef<[u8]>) -> Case {
        self.files.push((name.to_string(), bytes.as_ref().to_vec()));
        self
    }

    fn args(mut self, args: &[&str]) -> Case {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// `run --data {d}/NAME --out {out}` plus `extra` (plus `--iters 5` unless `extra` sets
    /// it); `-` is standard input.
    fn run(self, data: &str, extra: &[&str]) -> Case {
        let data = if data == "-" {
            "-".to_string()
        } else {
            format!("{{d}}/{data}")
        };
        let iters: &[&str] = if extra.contains(&"--iters") {
            &[]
        } else {
            &["--iters", "5"]
        };
        self.args(&["run", "--data", &data, "--out", "{out}"])
            .args(iters)
            .args(extra)
    }

    /// Data file `m.csv` with `text`, run at `rank`.
    fn csv(self, text: impl AsRef<[u8]>, rank: &str) -> Case {
        self.file("m.csv", text).run("m.csv", &["--rank", rank])
    }

    fn stdin(mut self, bytes: impl AsRef<[u8]>) -> Case {
        self.stdin = Some(bytes.as_ref().to_vec());
        self
    }

    fn code(mut self, code: i32) -> Case {
        self.code = code;
        self
    }

    fn says(mut self, needles: &[&str]) -> Case {
        self.needles.extend(needles.iter().map(|s| s.to_string()));
        self
    }
}

fn nmf_lab(args: &[String], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nmf-lab"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nmf-lab runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The program may exit before reading everything (a usage error): ignore EPIPE.
        let _ = pipe.write_all(bytes);
    }
    child.wait_with_output().expect("nmf-lab finishes")
}

/// Run `case` in a fresh directory; `Ok(None)` when skipped, `Ok(Some(dir))` with the
/// directory kept for inspection, `Err(why)` when it fails its checks.
fn run_case(case: &Case) -> Result<Option<(tempfile::TempDir, Output)>, String> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let out = dir.path().join("out");
    for (name, bytes) in &case.files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    if let Some(name) = &case.skip_if_readable {
        let p = dir.path().join(name);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        if std::fs::read(&p).is_ok() {
            return Ok(None);
        }
    }
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| a.replace("{d}", &d).replace("{out}", out.to_str().unwrap()))
        .collect();
    let o = nmf_lab(&args, case.stdin.as_deref());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let mut problems = Vec::new();
    if o.status.code() != Some(case.code) {
        problems.push(format!(
            "exit code {:?}, expected {}",
            o.status.code(),
            case.code
        ));
    }
    if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        problems.push("a panic".to_string());
    }
    if let Some(c) = err.chars().find(|&c| c != '\n' && c.is_control()) {
        problems.push(format!("a raw control character {c:?} on stderr"));
    }
    for n in &case.needles {
        if !err.contains(n.as_str()) {
            problems.push(format!("stderr lacks {n:?}"));
        }
    }
    match case.code {
        0 => {}
        1 => {
            if err.trim_end().lines().count() != 1 {
                problems.push("not exactly one line on stderr".to_string());
            }
            if !err.starts_with("nmf-lab: error: ") {
                problems.push("stderr does not start with 'nmf-lab: error: '".to_string());
            }
        }
        _ => {
            if !err.starts_with("error: ") {
                problems.push("a usage error that is not clap's 'error: …'".to_string());
            }
        }
    }
    if case.code != 0 && out.exists() {
        problems.push("something was created at --out".to_string());
    }
    if problems.is_empty() {
        Ok(Some((dir, o)))
    } else {
        Err(format!(
            "{}: {}\n  args: {args:?}\n  stderr: {err}",
            case.name,
            problems.join("; ")
        ))
    }
}

/// Run every case, report every failure at once.
fn run_table(cases: &[Case], check: impl Fn(&Case, &Path, &Output) -> Result<(), String>) {
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for case in cases {
        match run_case(case) {
            Ok(None) => skipped.push(case.name),
            Ok(Some((dir, o))) => {
                if let Err(e) = check(case, dir.path(), &o) {
                    failures.push(format!("{}: {e}", case.name));
                }
            }
            Err(e) => failures.push(e),
        }
    }
    if !skipped.is_empty() {
        eprintln!("skipped (running as root, which reads any file): {skipped:?}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A version-1.0 `.npy` file: the header dict padded with spaces to a multiple of 64 bytes
/// and ended by a newline, then `data`.
fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': {descr}, 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    )
    .into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&u16::try_from(header.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out
}

fn f64s(xs: &[f64]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// M0 in C (row-major) or Fortran (column-major) order.
fn m0(fortran: bool) -> Vec<f64> {
    if fortran {
        (0..3)
            .flat_map(|j| (0..4).map(move |i| f64::from(M0[i][j])))
            .collect()
    } else {
        M0.iter().flatten().map(|&x| f64::from(x)).collect()
    }
}

fn bad_cases() -> Vec<Case> {
    let npy_ok = npy("'<f8'", false, "(4, 3)", &f64s(&m0(false)));
    vec![
        // Values.
        Case::new("negative entry")
            .csv("1,2,3\n4,-5,6\n7,8,9\n", "2")
            .says(&[
                "m.csv: line 2, column 2: negative entry -5e0 at row 2, column 2",
                "non-negative",
            ]),
        Case::new("NaN entry")
            .csv("1,2,3\n4,5,NaN\n7,8,9\n", "2")
            .says(&["line 2, column 3: non-finite entry (NaN) at row 2, column 3"]),
        Case::new("inf entry")
            .csv("1,2\n3,inf\n", "1")
            .says(&["line 2, column 2: non-finite entry (inf)"]),
        Case::new("-infinity entry")
            .csv("1,2\n-Infinity,4\n", "1")
            .says(&["line 2, column 1: non-finite entry (-inf)"]),
        Case::new("all-zero matrix")
            .csv("0,0\n0,0\n", "1")
            .says(&["m.csv", "all zeros"]),
        // Shape of the text.
        Case::new("empty file")
            .csv("", "1")
            .says(&["m.csv: the file is empty: no matrix rows"]),
        Case::new("blank lines only")
            .csv("\n  \n\n", "1")
            .says(&["m.csv: the file is empty"]),
        Case::new("only comment lines")
            .csv("# nothing here\n", "1")
            .says(&["only comment lines"]),
        Case::new("only a header")
            .csv("a,b,c\n", "1")
            .says(&["only a header row (line 1: a,b,c), no data rows"]),
        Case::new("ragged rows")
            .csv("1,2,3\n4,5\n", "1")
            .says(&["line 2 has 2 values but line 1 has 3 (ragged rows"]),
        Case::new("blank line in the middle")
            .csv("1,2\n\n3,4\n", "1")
            .says(&["line 2 is empty", "remove the blank line"]),
        Case::new("header with more names than values")
            .csv("a,b,c\n1,2\n3,4\n", "1")
            .says(&["line 1 (the header) has 3 names but line 2 has 2 values"]),
        // Fields.
        Case::new("text in a number field")
            .csv("1,2,3\n4,five,6\n", "1")
            .says(&["line 2, column 2: 'five' is not a number"]),
        Case::new("first line half numbers, half text")
            .csv("1,x,3\n4,5,6\n", "1")
            .says(&[
                "line 1, column 2: 'x' is not a number",
                "if the line is a header",
            ]),
        Case::new("decimal comma in a ;-separated file")
            .csv("1;2\n3;4,5\n", "1")
            .says(&["line 2, column 2: '4,5' is not a number (a decimal comma?"]),
        Case::new("row labels under an ordinary header")
            .csv("name,a,b\nx,1,2\ny,3,4\n", "1")
            .says(&[
                "line 2, column 1: 'x' is not a number",
                "looks like row labels",
            ]),
        Case::new("empty field")
            .csv("1,,3\n4,5,6\n", "1")
            .says(&["line 1, column 2 is empty: write 0 for a zero entry"]),
        Case::new("separator at the end of each line")
            .csv("1,2,\n3,4,\n", "1")
            .says(&[
                "line 1, column 3 is empty",
                "remove the separator at the end",
            ]),
        Case::new("quote that does not close")
            .csv("1,2\n\"3,4\n", "1")
            .says(&["line 2, column 1: a quote (\") opens but does not close"]),
        Case::new("control bytes in a bad field are escaped")
            .csv("1,2\n3,4\x07\x1b[31m\n", "1")
            .says(&[
                "line 2, column 2: '4\\x07\\x1b[31m' is not a number",
                "control",
            ]),
        Case::new("a byte-order mark inside the file is shown")
            .csv("1,2\n\u{feff}3,4\n", "1")
            .says(&["line 2, column 1: '\\u{feff}3' is not a number"]),
        Case::new("a right-to-left override is escaped")
            .csv("1,2\n3,\u{202e}4\n", "1")
            .says(&["'\\u{202e}4' is not a number"]),
        Case::new("invalid UTF-8 in a number field")
            .csv(b"1,2\n3,\xff\n", "1")
            .says(&["line 2, column 2", "not valid UTF-8"]),
        Case::new("UTF-16 text")
            .csv(b"\xff\xfe1\x00,\x002\x00\n\x00", "1")
            .says(&["UTF-16", "save it as UTF-8"]),
        Case::new("binary bytes in a .csv")
            .csv(b"1,2\n\x00\x01\x02\x03", "1")
            .says(&["line 2: a NUL byte (\\x00): this is a binary file"]),
        Case::new("the wrong --delimiter")
            .file("m.csv", "1,2,3\n4,5,6\n")
            .run("m.csv", &["--rank", "1", "--delimiter", ";"])
            .says(&[
                "'4,5,6' is not a number",
                "the delimiter given is ';'",
                "--delimiter ,",
            ]),
        Case::new("unknown --delimiter value")
            .file("m.csv", GOOD)
            .run("m.csv", &["--rank", "1", "--delimiter", "pipe"])
            .code(64)
            .says(&["unknown delimiter 'pipe'", "--delimiter"]),
        // Rank.
        Case::new("rank 0")
            .csv(GOOD, "0")
            .says(&["m.csv", "rank 0 is impossible for a 4×3 matrix"]),
        Case::new("rank above min(m, n)")
            .csv(GOOD, "4")
            .says(&["rank 4 is impossible", "min(m, n) = 3"]),
        Case::new("1×1 matrix at rank 2")
            .csv("5\n", "2")
            .says(&["rank 2 is impossible for a 1×1 matrix"]),
        Case::new("rank not a number")
            .csv(GOOD, "two")
            .code(64)
            .says(&["invalid value 'two'", "--rank"]),
        Case::new("negative rank")
            .csv(GOOD, "-1")
            .code(64)
            .says(&["--rank"]),
        Case::new("missing --rank")
            .file("m.csv", GOOD)
            .run("m.csv", &[])
            .code(64)
            .says(&["--rank"]),
        // Initial factors.
        Case::new("init V of the wrong shape")
            .file("m.csv", GOOD)
            .file("u.csv", "1,1\n1,1\n1,1\n1,1\n")
            .file("v.csv", "1,1\n1,1\n")
            .run(
                "m.csv",
                &[
                    "--rank",
                    "2",
                    "--init-u",
                    "{d}/u.csv",
                    "--init-v",
                    "{d}/v.csv",
                ],
            )
            .says(&["v.csv", "matrix V has shape 2×2, expected 2×3"]),
        Case::new("init U of the wrong shape")
            .file("m.csv", GOOD)
            .file("u.csv", "1,1\n1,1\n")
            .file("v.csv", "1,1,1\n1,1,1\n")
            .run(
                "m.csv",
                &[
                    "--rank",
                    "2",
                    "--init-u",
                    "{d}/u.csv",
                    "--init-v",
                    "{d}/v.csv",
                ],
            )
            .says(&["u.csv", "matrix U has shape 2×2, expected 4×2"]),
        Case::new("negative init entry")
            .file("m.csv", GOOD)
            .file("u.csv", "1,1\n1,-2\n1,1\n1,1\n")
            .file("v.csv", "1,1,1\n1,1,1\n")
            .run(
                "m.csv",
                &[
                    "--rank",
                    "2",
                    "--init-u",
                    "{d}/u.csv",
                    "--init-v",
                    "{d}/v.csv",
                ],
            )
            .says(&["u.csv: line 2, column 2: negative entry -2e0 at row 2, column 2"]),
        Case::new("text in an init file")
            .file("m.csv", GOOD)
            .file("u.csv", "1,1\n1,1\n1,x\n1,1\n")
            .file("v.csv", "1,1,1\n1,1,1\n")
            .run(
                "m.csv",
                &[
                    "--rank",
                    "2",
                    "--init-u",
                    "{d}/u.csv",
                    "--init-v",
                    "{d}/v.csv",
                ],
            )
            .says(&["u.csv: line 3, column 2: 'x' is not a number"]),
        Case::new("--init-u without --init-v")
            .file("m.csv", GOOD)
            .file("u.csv", "1,1\n1,1\n1,1\n1,1\n")
            .run("m.csv", &["--rank", "2", "--init-u", "{d}/u.csv"])
            .code(64)
            .says(&["--init-v"]),
        // Files.
        Case::new("missing file")
            .run("nothing.csv", &["--rank", "1"])
            .says(&["nothing.csv", "No such file"]),
        Case::new("missing file whose name holds a control byte")
            .run("m\x07.csv", &["--rank", "1"])
            .says(&["m\\x07.csv", "No such file"]),
        Case::new("a directory as --data")
            .file("m.csv", GOOD)
            .args(&["run", "--data", "{d}", "--rank", "1", "--out", "{out}"])
            .says(&["is a directory, not a matrix file"]),
        Case {
            skip_if_readable: Some("m.csv".into()),
            ..Case::new("unreadable file (chmod 000)")
                .csv(GOOD, "1")
                .says(&["m.csv", "Permission denied"])
        },
        // .npy
        Case::new(".npy with 3 dimensions")
            .file("m.npy", npy("'<f8'", false, "(2, 2, 3)", &f64s(&[1.0; 12])))
            .run("m.npy", &["--rank", "1"])
            .says(&["m.npy: a 3-D array (shape (2, 2, 3)): nmf-lab needs a 2-D matrix"]),
        Case::new(".npy with 1 dimension")
            .file("m.npy", npy("'<f8'", false, "(3,)", &f64s(&[1.0; 3])))
            .run("m.npy", &["--rank", "1"])
            .says(&["a 1-D array (shape (3,))", "reshape"]),
        Case::new(".npy truncated in its data")
            .file("m.npy", &npy_ok[..npy_ok.len() - 5])
            .run("m.npy", &["--rank", "1"])
            .says(&["truncated .npy file: the header says 4×3 '<f8' (96 bytes of data) but 91"]),
        Case::new(".npy truncated in its header")
            .file("m.npy", &npy_ok[..30])
            .run("m.npy", &["--rank", "1"])
            .says(&["truncated .npy file: it ends inside the header"]),
        Case::new(".npy with NaN")
            .file(
                "m.npy",
                npy("'<f8'", false, "(1, 2)", &f64s(&[1.0, f64::NAN])),
            )
            .run("m.npy", &["--rank", "1"])
            .says(&["m.npy: non-finite entry (NaN) at row 1, column 2"]),
        Case::new(".npy of objects")
            .file(
                "m.npy",
                npy("'|O'", false, "(1, 1)", &[0x80, 0x04, b'N', b'.']),
            )
            .run("m.npy", &["--rank", "1"])
            .says(&["an object array", "astype(numpy.float64)"]),
        Case::new(".npy of complex numbers")
            .file("m.npy", npy("'<c16'", false, "(1, 1)", &[0; 16]))
            .run("m.npy", &["--rank", "1"])
            .says(&["complex numbers"]),
        Case::new(".npy name on a text file")
            .file("m.npy", GOOD)
            .run("m.npy", &["--rank", "1"])
            .says(&["not a .npy file", "numpy.save"]),
        // Matrix Market.
        Case::new(".mtx with a bad header")
            .file(
                "m.mtx",
                "%%MatrixMarket matrix coordinate real\n2 2 1\n1 1 1\n",
            )
            .run("m.mtx", &["--rank", "1"])
            .says(&["m.mtx: line 1: 4 words instead of 5 in the Matrix Market header"]),
        Case::new(".mtx with no banner")
            .file("m.mtx", "2 2 1\n1 1 1\n")
            .run("m.mtx", &["--rank", "1"])
            .says(&["line 1: no %%MatrixMarket banner"]),
        Case::new(".mtx with an out-of-range index")
            .file(
                "m.mtx",
                "%%MatrixMarket matrix coordinate real general\n3 2 2\n1 1 1\n5 2 1\n",
            )
            .run("m.mtx", &["--rank", "1"])
            .says(&["m.mtx: line 4: row index 5 is outside 1..3", "start at 1"]),
        Case::new(".mtx with a negative value")
            .file(
                "m.mtx",
                "%%MatrixMarket matrix coordinate real general\n2 2 1\n2 1 -0.5\n",
            )
            .run("m.mtx", &["--rank", "1"])
            .says(&["m.mtx: line 3: negative entry -5e-1 at row 2, column 1"]),
        Case::new(".mtx with fewer entries than declared")
            .file(
                "m.mtx",
                "%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n",
            )
            .run("m.mtx", &["--rank", "1"])
            .says(&["declares 3 entries but the file has 1"]),
        // Other formats.
        Case::new(".npz is refused")
            .file("m.npz", b"PK\x03\x04\x14\x00\x00\x00")
            .run("m.npz", &["--rank", "1"])
            .says(&["m.npz: a NumPy .npz archive", "numpy.save"]),
        Case::new(".mat is refused")
            .file("m.mat", b"MATLAB 5.0 MAT-file, Platform: x\x00\x01")
            .run("m.mat", &["--rank", "1"])
            .says(&["m.mat: a MATLAB .mat file"]),
        Case::new(".h5 is refused")
            .file("m.h5", b"\x89HDF\r\n\x1a\n\x00\x00")
            .run("m.h5", &["--rank", "1"])
            .says(&["m.h5: an HDF5 file"]),
        Case::new(".xlsx is refused")
            .file("m.xlsx", b"PK\x03\x04\x14\x00\x06\x00")
            .run("m.xlsx", &["--rank", "1"])
            .says(&["spreadsheet", "export the sheet as CSV"]),
        Case::new("gzip-compressed CSV is refused")
            .file("m.csv.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00")
            .run("m.csv.gz", &["--rank", "1"])
            .says(&["gzip-compressed: decompress it first"]),
        // Standard input.
        Case::new("--data - with empty standard input")
            .run("-", &["--rank", "1"])
            .stdin("")
            .says(&["<stdin>: standard input is empty"]),
        Case::new("--data - with a bad field")
            .run("-", &["--rank", "1"])
            .stdin("1,2\n3,x\n")
            .says(&["<stdin>: line 2, column 2: 'x' is not a number"]),
        Case::new("--data - with a negative entry")
            .run("-", &["--rank", "1"])
            .stdin("1,2\n3,-4\n")
            .says(&["<stdin>: line 2, column 2: negative entry"]),
        Case::new("--data - whose matrix is all zeros")
            .run("-", &["--rank", "1"])
            .stdin("0 0\n0 0\n")
            .says(&["<stdin>: matrix M is all zeros"]),
        // Options.
        Case::new("--iters 0")
            .file("m.csv", GOOD)
            .args(&[
                "run",
                "--data",
                "{d}/m.csv",
                "--rank",
                "1",
                "--out",
                "{out}",
            ])
            .args(&["--iters", "0"])
            .says(&["max_iter", "at least 1"]),
        Case::new("--tol=-1")
            .csv(GOOD, "1")
            .args(&["--tol=-1"])
            .says(&["tol", "got -1"]),
        Case::new("--tol nan")
            .csv(GOOD, "1")
            .args(&["--tol", "nan"])
            .says(&["tol", "got NaN"]),
        Case::new("--iters many")
            .file("m.csv", GOOD)
            .args(&[
                "run",
                "--data",
                "{d}/m.csv",
                "--rank",
                "1",
                "--out",
                "{out}",
            ])
            .args(&["--iters", "many"])
            .code(64)
            .says(&["invalid value 'many'"]),
        Case::new("unknown option")
            .csv(GOOD, "1")
            .args(&["--frobnicate"])
            .code(64)
            .says(&["--frobnicate"]),
        Case::new("unknown subcommand")
            .args(&["frobnicate", "--out", "{out}"])
            .code(64)
            .says(&["frobnicate"]),
    ]
}

#[test]
fn bad_input_is_refused_cleanly() {
    let cases = bad_cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    run_table(&cases, |_, _, _| Ok(()));
}

/// Runs of the accepted variants: enough iterations for every claim to be exercised.
const ITERS: &str = "20";

fn accepted_cases() -> Vec<Case> {
    let ok = |name, file: &str, bytes: Vec<u8>, extra: &[&str]| {
        Case::new(name)
            .file(file, bytes)
            .run(file, &["--rank", "2", "--iters", ITERS])
            .args(extra)
            .code(0)
    };
    let csv = |name, text: &str| ok(name, "m.csv", text.as_bytes().to_vec(), &[]);
    let c = m0(false);
    let f = m0(true);
    vec![
        csv("plain CSV", GOOD),
        csv("a UTF-8 byte-order mark", &format!("\u{feff}{GOOD}")),
        csv("a header row", &format!("a,b,c\n{GOOD}"))
            .says(&["nmf-lab: ", "m.csv: skipped a header row (a,b,c)"]),
        csv(
            "pandas' to_csv: header and 0-based index",
            ",0,1,2\n0,1,2,3\n1,4,5,6\n2,7,8,10\n3,2,0,1\n",
        )
        .says(&["skipped a header row (,0,1…); dropped column 1 as an index column"]),
        csv(
            "an id column with labels",
            "id,a,b,c\nr1,1,2,3\nr2,4,5,6\nr3,7,8,10\nr4,2,0,1\n",
        )
        .says(&["dropped column 1 as an index column (header 'id')"]),
        csv(
            "row numbers 1..m under a header",
            "n,a,b,c\n1,1,2,3\n2,4,5,6\n3,7,8,10\n4,2,0,1\n",
        )
        .says(&["row numbers from 1"]),
        csv(
            "R's write.table: quoted names, row names, blanks",
            "\"a\" \"b\" \"c\"\n\"1\" 1 2 3\n\"2\" 4 5 6\n\"3\" 7 8 10\n\"4\" 2 0 1\n",
        )
        .says(&["dropped column 1 as row names"]),
        csv("semicolons", "1;2;3\n4;5;6\n7;8;10\n2;0;1\n"),
        csv("tabs", "1\t2\t3\n4\t5\t6\n7\t8\t10\n2\t0\t1\n"),
        csv(
            "NumPy's savetxt default (%.18e, one space)",
            &M0.iter()
                .map(|r| {
                    r.iter()
                        .map(|&x| format!("{:.18e}", f64::from(x)))
                        .collect::<Vec<_>>()
                        .join(" ")
                        + "\n"
                })
                .collect::<String>(),
        ),
        csv(
            "quoted numbers",
            "\"1\",\"2\",\"3\"\n\"4\",\"5\",\"6\"\n\"7\",\"8\",\"10\"\n\"2\",\"0\",\"1\"\n",
        ),
        csv(
            "comment lines and CRLF",
            "# M0\r\n1,2,3\r\n4,5,6\r\n7,8,10\r\n2,0,1\r\n\r\n",
        )
        .says(&["skipped 1 comment line (#)"]),
        ok(
            "--delimiter tab given",
            "m.tsv",
            b"1\t2\t3\n4\t5\t6\n7\t8\t10\n2\t0\t1\n".to_vec(),
            &["--delimiter", "tab"],
        ),
        ok(
            "--delimiter space given",
            "m.txt",
            b"1 2  3\n4 5 6\n7 8 10\n 2 0 1\n".to_vec(),
            &["--delimiter", "space"],
        ),
        ok(
            ".npy float64",
            "m.npy",
            npy("'<f8'", false, "(4, 3)", &f64s(&c)),
            &[],
        ),
        ok(
            ".npy float64, Fortran order",
            "m.npy",
            npy("'<f8'", true, "(4, 3)", &f64s(&f)),
            &[],
        ),
        ok(
            ".npy float32, big-endian",
            "m.npy",
            npy(
                "'>f4'",
                false,
                "(4, 3)",
                &c.iter()
                    .flat_map(|&x| (x as f32).to_be_bytes())
                    .collect::<Vec<_>>(),
            ),
            &[],
        ),
        ok(
            ".npy int64, Fortran order",
            "m.npy",
            npy(
                "'<i8'",
                true,
                "(4, 3)",
                &f.iter()
                    .flat_map(|&x| (x as i64).to_le_bytes())
                    .collect::<Vec<_>>(),
            ),
            &[],
        ),
        ok(
            ".npy uint8",
            "m.npy",
            npy(
                "'|u1'",
                false,
                "(4, 3)",
                &c.iter().map(|&x| x as u8).collect::<Vec<_>>(),
            ),
            &[],
        ),
        ok(
            ".mtx coordinate",
            "m.mtx",
            format!(
                "%%MatrixMarket matrix coordinate real general\n% M0\n4 3 11\n{}",
                (0..4)
                    .flat_map(|i| (0..3).map(move |j| (i, j)))
                    .filter(|&(i, j)| M0[i][j] != 0)
                    .map(|(i, j)| format!("{} {} {}\n", i + 1, j + 1, M0[i][j]))
                    .collect::<String>()
            )
            .into_bytes(),
            &[],
        ),
        ok(
            ".mtx array, integer",
            "m.mtx",
            format!(
                "%%MatrixMarket matrix array integer general\n4 3\n{}",
                f.iter().map(|x| format!("{x}\n")).collect::<String>()
            )
            .into_bytes(),
            &[],
        ),
        Case::new("standard input")
            .run("-", &["--rank", "2", "--iters", ITERS])
            .stdin(format!("a;b;c\n{}", GOOD.replace(',', ";")))
            .code(0)
            .says(&["nmf-lab: <stdin>: skipped a header row (a,b,c)"]),
    ]
}

#[test]
fn real_world_variants_are_accepted() {
    let cases = accepted_cases();
    let reference = run_case(&cases[0])
        .unwrap()
        .map(|(dir, _)| std::fs::read(dir.path().join("out/trace.csv")).unwrap())
        .unwrap();
    run_table(&cases, |case, dir: &Path, o: &Output| {
        let out: PathBuf = dir.join("out");
        let trace = std::fs::read(out.join("trace.csv")).map_err(|e| e.to_string())?;
        if trace != reference {
            return Err(
                "trace.csv differs from the plain CSV run's (another matrix was read)".into(),
            );
        }
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        let dims = (&summary["experiment"]["m"], &summary["experiment"]["n"]);
        if dims != (&4.into(), &3.into()) {
            return Err(format!("shape {dims:?}, expected 4×3"));
        }
        // Nothing else on stderr than the notices asked for.
        let err = String::from_utf8_lossy(&o.stderr);
        if case.needles.is_empty() && !err.trim().is_empty() {
            return Err(format!("unexpected stderr: {err}"));
        }
        Ok(())
    });
}
