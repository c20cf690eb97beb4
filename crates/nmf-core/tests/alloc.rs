//! Heap allocations of a run, counted by a counting global allocator (this test binary only):
//! the per-iteration count of MU's driver loop at a fixed size, with the rows not kept.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

use nmf_core::init::note_instance;
use nmf_core::{run, DataKind, Mu, ObjectiveMode, Problem, RunParams};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
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
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let fit = run(p, f, &mut Mu, &params, |_| ControlFlow::Continue(())).unwrap();
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    drop(fit);
    after - before
}

#[test]
fn per_iteration_allocations_of_mu() {
    let (data, f0) = note_instance(1, 120, 80, 6, DataKind::Random);
    let p = Problem::new(data, 6).unwrap();
    for (name, params) in [
        (
            "gram objective, no note columns",
            RunParams {
                keep_rows: false,
                note_columns: false,
                objective: ObjectiveMode::Gram,
                ..Default::default()
            },
        ),
        (
            "direct objective, no note columns",
            RunParams {
                keep_rows: false,
                note_columns: false,
                objective: ObjectiveMode::Direct,
                ..Default::default()
            },
        ),
        (
            "defaults (note columns), rows not kept",
            RunParams {
                keep_rows: false,
                ..Default::default()
            },
        ),
    ] {
        // Warm up (lazily initialised statics, e.g. matrixmultiply's thread pool).
        allocations(&p, &f0, 2, &params);
        let n = 50;
        let (a1, a2) = (
            allocations(&p, &f0, n, &params),
            allocations(&p, &f0, 2 * n, &params),
        );
        let per_iter = (a2 - a1) as f64 / n as f64;
        eprintln!("{name}: {a1} allocations for {n} iterations, {a2} for {}: {per_iter} per iteration", 2 * n);
    }
}
