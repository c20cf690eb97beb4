//! Heap allocations of a run, counted by a counting global allocator (this test binary only):
//! the per-iteration count of MU's driver loop at a fixed size, with the rows not kept.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ops::ControlFlow;

use nmf_core::init::note_instance;
use nmf_core::{run, DataKind, Mu, ObjectiveMode, Problem, RunParams, Solver};

struct Counting;

std::thread_local! {
    /// Allocations made by this thread: what the test's own thread does, not the harness's
    /// or another test's threads. (At the sizes below every product runs on the calling
    /// thread: matrixmultiply splits none this small among its threads.)
    static MINE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn count() {
    let _ = MINE.try_with(|c| c.set(c.get() + 1));
}

/// This thread's allocations so far.
fn mine() -> usize {
    MINE.with(|c| c.get())
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations of a whole run of `iters` iterations.
fn allocations(p: &Problem, f0: &nmf_core::Factors, iters: usize, params: &RunParams) -> usize {
    let params = RunParams {
        max_iter: iters,
        ..params.clone()
    };
    let f = f0.clone();
    let before = mine();
    let fit = run(p, f, &mut Mu, &params, |_| ControlFlow::Continue(())).unwrap();
    let after = mine();
    drop(fit);
    after - before
}

/// MU's step with the previous step's arrays reused ([`Solver::step_reusing`], as the driver
/// calls it) allocates nothing once its products are small enough for nmf-core's own kernel
/// (`formulas::gemm`); a larger product allocates matrixmultiply's packing buffer, once per
/// product (two per iteration at 120×80, k = 6: `UᵀM` and `V'Mᵀ`).
#[test]
fn mu_step_reusing_its_buffers_allocates_only_in_large_products() {
    for (m, n, k, per_step) in [(15, 8, 5, 0), (40, 30, 4, 0), (120, 80, 6, 2)] {
        let (data, mut f) = note_instance(1, m, n, k, DataKind::Random);
        let p = Problem::new(data, k).unwrap();
        let mut spare = Some(Mu.step(&p, &mut f).unwrap());
        // Warm up: the first call sizes the buffers.
        spare = Some(Mu.step_reusing(&p, &mut f, spare.take()).unwrap());
        let before = mine();
        for _ in 0..20 {
            spare = Some(Mu.step_reusing(&p, &mut f, spare.take()).unwrap());
        }
        let count = mine() - before;
        assert_eq!(count, 20 * per_step, "{m}×{n}, k = {k}");
    }
}

/// The whole driver (step, every diagnostic, the stop rules), rows not kept: the allocations
/// of a run of 2N iterations minus those of N, per iteration. What remains at a size where
/// every product is nmf-core's own: the two symmetric eigenvalue problems (nalgebra allocates
/// its matrices and work vectors, 6 per call): 12; with the note's columns also the third one
/// (of VVᵀ) and that product (its array and matrixmultiply's buffer): 20.
#[test]
fn per_iteration_allocations_of_a_run() {
    let (data, f0) = note_instance(1, 40, 30, 4, DataKind::Random);
    let p = Problem::new(data, 4).unwrap();
    for (name, params, bound) in [
        (
            "Gram objective",
            RunParams {
                keep_rows: false,
                note_columns: false,
                objective: ObjectiveMode::Gram,
                ..Default::default()
            },
            12,
        ),
        (
            "direct objective",
            RunParams {
                keep_rows: false,
                note_columns: false,
                objective: ObjectiveMode::Direct,
                ..Default::default()
            },
            12,
        ),
        (
            "note columns",
            RunParams {
                keep_rows: false,
                ..Default::default()
            },
            20,
        ),
    ] {
        // Warm up (lazily initialised statics, e.g. matrixmultiply's thread pool).
        allocations(&p, &f0, 2, &params);
        let n = 50;
        let (a1, a2) = (
            allocations(&p, &f0, n, &params),
            allocations(&p, &f0, 2 * n, &params),
        );
        let per_iteration = (a2 - a1) as f64 / n as f64;
        eprintln!(
            "{name}: {a1} allocations for {n} iterations, {a2} for {}",
            2 * n
        );
        assert!(
            per_iteration <= bound as f64,
            "{name}: {per_iteration} allocations per iteration, more than {bound}"
        );
    }
}
