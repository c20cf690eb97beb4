//! Accelerated HALS (`HalsAccel`): its pass count follows Gillis and Glineur's rule, its claims
//! (HALS's, with the diagonal bound divided by the pass count) hold, it reaches at least plain
//! HALS's objective for the same number of iterations, and α = 0 is plain HALS bit for bit.

use std::ops::ControlFlow;

use nmf_core::solver::hals_accel_sweeps;
use nmf_core::{all_hold, Experiment, HalsAccel, InitKind, Outcome, SolverSpec, Status};

fn run(spec: SolverSpec, seed: u64, iters: usize, m: usize, n: usize, k: usize) -> Outcome {
    let mut e = Experiment::note(seed, iters);
    (e.m, e.n, e.k) = (m, n, k);
    e.solver = spec;
    e.init = InitKind::Scaled;
    e.run().unwrap()
}

fn accel(alpha: f64) -> SolverSpec {
    let d = HalsAccel::default();
    SolverSpec::HalsAccel {
        eps: d.eps,
        alpha,
        delta: d.delta,
    }
}

#[test]
fn the_pass_budget_is_gillis_and_glineurs() {
    // ρ = 1 + ⌊(PN + Pk)/(N(k+1))⌋, passes ⌊1 + αρ⌋ (worked by hand).
    // V of the note (P = m = 15, N = n = 8, k = 5): (120 + 75)/48 = 4.06 → ρ = 5 → ⌊3.5⌋ = 3.
    assert_eq!(hals_accel_sweeps(15, 8, 5, 0.5), 3);
    // U of the note (P = 8, N = 15): (120 + 40)/90 = 1.78 → ρ = 2 → ⌊2⌋ = 2.
    assert_eq!(hals_accel_sweeps(8, 15, 5, 0.5), 2);
    // α = 0: one pass, plain HALS.
    assert_eq!(hals_accel_sweeps(1000, 1000, 20, 0.0), 1);
    // A large fixed dimension: (2000·50 + 2000·20)/(50·21) = 133.3 → ρ = 134 → 68.
    assert_eq!(hals_accel_sweeps(2000, 50, 20, 0.5), 68);
}

#[test]
fn its_claims_hold_with_the_passes_used_and_the_rest_are_not_applicable() {
    let mut multi = 0;
    for (seed, m, n, k) in [
        (0, 15, 8, 5),
        (1, 40, 12, 4),
        (2, 12, 30, 3),
        (3, 60, 20, 6),
    ] {
        let o = run(accel(0.5), seed, 300, m, n, k);
        assert_eq!(o.fit.trace.solver, "hals-accel");
        assert_eq!(
            all_hold(&o.claims),
            Some(true),
            "seed {seed}: {:#?}",
            o.claims
        );
        // The same claims apply as to plain HALS (its claims are HALS's).
        let plain = run(SolverSpec::Hals { eps: 1e-16 }, seed, 5, m, n, k);
        let applies = |o: &Outcome| -> Vec<(String, bool)> {
            o.claims
                .iter()
                .map(|v| (v.claim.clone(), v.status != Status::NotApplicable))
                .collect()
        };
        assert_eq!(applies(&o), applies(&plain));
        for r in &o.fit.trace.rows {
            for (h, p, nn) in [(&r.v, m, n), (&r.u, n, m)] {
                assert!(h.sweeps >= 1 && h.sweeps <= hals_accel_sweeps(p, nn, k, 0.5));
                multi += usize::from(h.sweeps > 1);
            }
        }
    }
    assert!(
        multi > 0,
        "no half-step made more than one pass: nothing accelerated"
    );
}

#[test]
fn alpha_zero_is_plain_hals_bit_for_bit() {
    let a = run(accel(0.0), 0, 200, 15, 8, 5);
    let h = run(SolverSpec::Hals { eps: 1e-16 }, 0, 200, 15, 8, 5);
    assert_eq!(a.fit.factors, h.fit.factors);
    assert_eq!(a.fit.trace.rows, h.fit.trace.rows);
}

#[test]
fn more_passes_per_iteration_reach_a_lower_objective_in_as_many_iterations() {
    // The point of the acceleration: a half-step closer to the block minimiser, for the price
    // of k×k·k×N products. On a tall matrix (many passes allowed) after 50 iterations the
    // accelerated objective is not above plain HALS's on any of 4 seeds, and below on most.
    let mut below = 0;
    for seed in 0..4 {
        let a = run(accel(0.5), seed, 50, 200, 20, 5).fit.final_objective;
        let h = run(SolverSpec::Hals { eps: 1e-16 }, seed, 50, 200, 20, 5)
            .fit
            .final_objective;
        assert!(
            a <= h * (1.0 + 1e-12),
            "seed {seed}: accelerated {a} vs plain {h}"
        );
        below += usize::from(a < h);
    }
    assert!(below >= 3, "{below} of 4");
}

#[test]
fn the_bound_divided_by_the_passes_is_what_is_checked() {
    // The recorded diagonal bound is ½·min X_zz·‖Δ‖²/(S·σ): times S it is HALS's one-pass
    // bound, which a multi-pass half-step need not meet.
    let e = {
        let mut e = Experiment::note(1, 100);
        (e.m, e.n, e.k) = (200, 20, 5);
        e.solver = accel(0.5);
        e.init = InitKind::Scaled;
        e
    };
    let (data, init) = e.instance();
    let o = e.run_on(data, init, |_| ControlFlow::Continue(())).unwrap();
    let r = o
        .fit
        .trace
        .rows
        .iter()
        .find(|r| r.v.sweeps > 1 && r.v.rel.diag_bound.is_some())
        .expect("a multi-pass V half-step");
    let b = r.v.rel.diag_bound.unwrap();
    assert!(b > 0.0 && b <= r.v.rel.decrease.unwrap());
}
