//! Per-iteration times of MU at the sizes of the speed issue: the step alone, the step with
//! both half-steps' diagnostics (as `benches/mu.rs`), and the whole driver (`run`, every
//! diagnostic, rows not kept, no note columns). Prints one line per size and mode:
//! `size mode µs_per_iteration` (the minimum over `reps` repetitions), wall-clock time and,
//! on Linux, the main thread's CPU time (less disturbed by other processes on a shared
//! machine, but blind to work on matrixmultiply's other thread).
//!
//! `cargo run --release -p nmf-core --example iter_time -- [reps] [sizes…]`, sizes as
//! `15x8k5`. Uses only the public API, so the same file times an older commit (build it there
//! and run both binaries alternately: timings on a shared machine are only comparable within
//! one interleaved run).
use std::ops::ControlFlow;
use std::time::Instant;

use nmf_core::diagnostics::half_step;
use nmf_core::init::note_instance;
use nmf_core::{run, DataKind, Mu, Problem, RunParams, Solver};

/// The calling thread's CPU time in seconds (Linux; 0 elsewhere).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns * 1e-9)
}

/// Wall-clock and CPU seconds of `f`.
fn timed(f: impl FnOnce()) -> [f64; 2] {
    let (t, c) = (Instant::now(), thread_cpu());
    f();
    [t.elapsed().as_secs_f64(), thread_cpu() - c]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reps: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    let mut sizes: Vec<(usize, usize, usize)> = args
        .iter()
        .skip(1)
        .filter_map(|s| {
            let (mn, k) = s.split_once('k')?;
            let (m, n) = mn.split_once('x')?;
            Some((m.parse().ok()?, n.parse().ok()?, k.parse().ok()?))
        })
        .collect();
    if sizes.is_empty() {
        sizes = vec![
            (15, 8, 5),
            (300, 200, 10),
            (2000, 1000, 20),
            (5000, 2000, 50),
        ];
    }
    for (m, n, k) in sizes {
        let (data, f0) = note_instance(1, m, n, k, DataKind::Random);
        let p = Problem::new(data, k).unwrap();
        // About 0.2 s of work per repetition.
        let flops = 4.0 * (m * n * k) as f64;
        let iters = ((2e8 / flops) as usize).clamp(5, 200_000);
        // [wall, cpu] of: step, step + diagnostics, run(iters + 1), run(1).
        let mut best = [[f64::INFINITY; 2]; 4];
        let mut keep = |slot: usize, t: [f64; 2]| {
            for (b, t) in best[slot].iter_mut().zip(t) {
                *b = b.min(t);
            }
        };
        for _ in 0..reps {
            let mut f = f0.clone();
            Mu.step(&p, &mut f).unwrap();
            keep(
                0,
                timed(|| {
                    for _ in 0..iters {
                        std::hint::black_box(Mu.step(&p, &mut f).unwrap());
                    }
                }),
            );
            let mut f = f0.clone();
            Mu.step(&p, &mut f).unwrap();
            keep(
                1,
                timed(|| {
                    for _ in 0..iters {
                        let s = Mu.step(&p, &mut f).unwrap();
                        std::hint::black_box((half_step(&s.v, false), half_step(&s.u, false)));
                    }
                }),
            );
            // The run's fixed costs (validation, the final objective and KKT residual) cancel
            // in the difference of a run of iters + 1 and a run of 1 iteration.
            for (slot, max_iter) in [(2, iters + 1), (3, 1)] {
                let params = RunParams {
                    max_iter,
                    note_columns: false,
                    keep_rows: false,
                    ..Default::default()
                };
                keep(
                    slot,
                    timed(|| {
                        let fit = run(&p, f0.clone(), &mut Mu, &params, |_| {
                            ControlFlow::Continue(())
                        })
                        .unwrap();
                        std::hint::black_box(fit);
                    }),
                );
            }
        }
        let per = |slot: usize, c: usize| match slot {
            2 => (best[2][c] - best[3][c]) / iters as f64,
            _ => best[slot][c] / iters as f64,
        };
        for (slot, mode) in ["step", "step+diag", "run"].iter().enumerate() {
            println!(
                "{m}x{n}k{k} {mode} wall {:.3} cpu {:.3}",
                per(slot, 0) * 1e6,
                per(slot, 1) * 1e6
            );
        }
    }
}
