//! Data nobody here wrote: scikit-learn's digits (1797×64, integers 0..16, three all-zero pixel
//! columns; `data/README.md` says where it comes from and under which licence), and the same
//! matrix transposed (61×1797 once the zero columns are dropped: a wide problem).

use std::path::Path;

use nmf_core::ndarray::{Array2, Axis};
use nmf_core::{Dims, EventKind, Experiment, InitKind, RunParams, Status, StopReason};

fn digits() -> Array2<f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/digits.csv");
    nmf_core::io::read_matrix(&path).expect("data/digits.csv (python3 scripts/digits.py)")
}

fn experiment(m: usize, n: usize, k: usize, iters: usize) -> Experiment {
    Experiment {
        m,
        n,
        k,
        seed: 0,
        init: InitKind::Scaled,
        params: RunParams {
            max_iter: iters,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn digits_runs_2000_iterations_with_every_claim_exercised_and_holding() {
    let m = digits();
    assert_eq!(m.dim(), (1797, 64));
    let e = experiment(1797, 64, 10, 2000);
    let init = e.start_for(&m);
    let o = e
        .run_on(m, init, |_| std::ops::ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(o.fit.stop, StopReason::MaxIterations { iters: 2000 });
    for v in &o.claims {
        assert_eq!(v.status, Status::Holds, "{v:?}");
        assert_eq!(v.unresolved, 0, "{v:?}");
    }
    // The three zero pixel columns (1, 33, 40) are reported once; V is 0 there.
    let ev = o.fit.trace.first_event(EventKind::ZeroDataColumns).unwrap();
    assert_eq!((ev.iter, ev.count, ev.col), (0, 3, 1));
    for col in [0, 32, 39] {
        assert!(o.fit.factors.v.column(col).iter().all(|&x| x == 0.0));
    }
    assert_eq!(
        o.experiment.dims(),
        Dims {
            m: 1797,
            n: 64,
            k: 10
        }
    );
}

#[test]
fn a_wide_matrix_needs_no_n_by_n_work() {
    // 61×1797: before, the note's VᵀV spectrum formed and decomposed a 1797×1797 matrix in
    // every iteration (5.7 s each); it now comes from the k×k VVᵀ, exactly 0 beyond rank k.
    let m = digits();
    let keep: Vec<usize> = (0..64).filter(|j| ![0, 32, 39].contains(j)).collect();
    let wide = m.select(Axis(1), &keep).t().to_owned();
    assert_eq!(wide.dim(), (61, 1797));
    let e = experiment(61, 1797, 10, 50);
    let init = e.start_for(&wide);
    let o = e
        .run_on(wide, init, |_| std::ops::ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(o.fit.trace.rows.len(), 50);
    assert!(o.claims.iter().all(|v| v.holds()), "{:#?}", o.claims);
    for r in &o.fit.trace.rows {
        // n = 1797 > k: the n×n VᵀV has n − k zero eigenvalues, exactly.
        assert_eq!(r.note.vtv_eig_min, Some(0.0));
        // Its largest is λ_max(VVᵀ), the spectrum the U half-step uses one step later; both
        // come from the same k×k eigen-solver, so only the iterate differs, not the method.
        assert!(r.note.vtv_eig_max.unwrap() > 0.0);
    }
}
