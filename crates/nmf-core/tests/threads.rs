//! The products run on matrixmultiply's threads (ndarray's `matrixmultiply-threading`); each
//! entry is summed in the same order whatever their number, so a trace does not depend on it.
//! matrixmultiply reads `MATMUL_NUM_THREADS` once, at its first product, so each thread count
//! runs in a child process: this test binary itself, re-run on this test alone.

use std::ops::ControlFlow;
use std::process::Command;

use nmf_core::init::note_instance;
use nmf_core::{run, DataKind, Mu, Problem, RunParams};

const CHILD: &str = "NMF_THREADS_TEST_OUT";

/// The trace.csv of 30 MU iterations at 300×200, k = 10, written to `out`; the number of
/// threads of this process after the run appended as a last line.
fn child(out: &str) {
    let (data, f0) = note_instance(2, 300, 200, 10, DataKind::Random);
    let p = Problem::new(data, 10).unwrap();
    let params = RunParams {
        max_iter: 30,
        ..Default::default()
    };
    let fit = run(&p, f0, &mut Mu, &params, |_| ControlFlow::Continue(())).unwrap();
    let mut bytes = Vec::new();
    fit.trace.write_csv(&mut bytes).unwrap();
    for x in fit.factors.u.iter().chain(fit.factors.v.iter()) {
        bytes.extend_from_slice(&x.to_bits().to_le_bytes());
    }
    std::fs::write(out, bytes).unwrap();
    let threads = std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count());
    std::fs::write(format!("{out}.threads"), threads.to_string()).unwrap();
}

#[test]
fn traces_are_byte_identical_with_one_and_two_threads() {
    if let Ok(out) = std::env::var(CHILD) {
        return child(&out);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("trace-{threads}"));
        let status = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "traces_are_byte_identical_with_one_and_two_threads",
                "--test-threads=1",
            ])
            .env("MATMUL_NUM_THREADS", threads)
            .env(CHILD, &out)
            .status()
            .unwrap();
        assert!(status.success(), "child with {threads} thread(s) failed");
        let spawned: usize = std::fs::read_to_string(out.with_extension("threads"))
            .unwrap()
            .parse()
            .unwrap();
        outputs.push((std::fs::read(&out).unwrap(), spawned));
    }
    // On Linux the pool's threads are visible: more threads in the child with 2 than with 1.
    if cfg!(target_os = "linux") {
        assert!(
            outputs[1].1 > outputs[0].1,
            "MATMUL_NUM_THREADS=2 started no thread of its own ({} against {})",
            outputs[1].1,
            outputs[0].1
        );
    }
    assert!(
        outputs[0].0 == outputs[1].0,
        "trace.csv and the final factors differ between 1 and 2 threads"
    );
}
