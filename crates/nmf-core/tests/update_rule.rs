//! A researcher's own update rule ([`UpdateRule`], wrapped in [`Rule`]): every generic claim is
//! checked on it, a wrong rule is caught at the first iteration where it breaks a claim, and a
//! rule that leaves the feasible set stops the run with where.

use std::ops::ControlFlow;

use nmf_core::ndarray::{Array2, ArrayView2, Zip};
use nmf_core::solver::{Rule, UpdateRule};
use nmf_core::{all_hold, Claim, Experiment, Status, StopReason, Which};

/// MU with the ratio raised to a power `p`: `p = 1` is Lee–Seung MU; `p > 1` over-steps.
struct PowerMu(f64);

impl UpdateRule for PowerMu {
    fn name(&self) -> &'static str {
        "mu-power"
    }
    fn update(&self, x: ArrayView2<f64>, a: ArrayView2<f64>, v: ArrayView2<f64>) -> Array2<f64> {
        let d = x.dot(&v);
        Zip::from(v)
            .and(a)
            .and(&d)
            .map_collect(|v, a, d| v * (a / d).powf(self.0))
    }
}

fn run(rule: impl UpdateRule, seed: u64, iters: usize) -> nmf_core::Outcome {
    let e = Experiment::note(seed, iters);
    let (data, init) = e.instance();
    e.run_solver(&mut Rule(rule), data, init, |_| ControlFlow::Continue(()))
        .unwrap()
}

#[test]
fn mu_written_as_a_rule_passes_every_generic_claim() {
    let o = run(PowerMu(1.0), 0, 500);
    assert_eq!(o.fit.trace.solver, "mu-power");
    assert_eq!(all_hold(&o.claims), Some(true), "{:#?}", o.claims);
    let n_generic = Claim::generic().len();
    assert_eq!(
        o.claims
            .iter()
            .filter(|v| v.status == Status::Holds)
            .count(),
        n_generic
    );
}

#[test]
fn an_over_stepping_rule_is_caught_on_the_instances_where_it_increases_the_objective() {
    // Exponent 1.95: monotone on some instances, not on others (seeds 0..4, 2000 iterations:
    // the objective claim holds on seeds 0 and 2 and fails on 1 and 3). Exponents in (0, 2)
    // keep MU's fixed points stable (Badeau, Bertin & Vincent, IEEE TNN 21(12), 2010), but the
    // majorisation argument of Lee and Seung's proof covers only exponent 1.
    let good = run(PowerMu(1.95), 0, 2000);
    assert_eq!(all_hold(&good.claims), Some(true), "{:#?}", good.claims);
    let bad = run(PowerMu(1.95), 1, 2000);
    let obj = &bad.claims[0];
    assert_eq!(obj.claim, "objective_non_increasing");
    assert_eq!(obj.status, Status::Fails, "{obj:?}");
    let first = obj
        .first_violation
        .expect("a failing claim says where it first failed");
    // The claim compares rows first − 1 and first: the objective rose there.
    let rows = &bad.fit.trace.rows;
    assert!(rows[first].objective > rows[first - 1].objective);
    assert_eq!(all_hold(&bad.claims), Some(false));
}

/// Flips the sign of every entry: leaves the feasible set at once (the start is positive).
struct Flip;

impl UpdateRule for Flip {
    fn name(&self) -> &'static str {
        "flip"
    }
    fn update(&self, _: ArrayView2<f64>, _: ArrayView2<f64>, v: ArrayView2<f64>) -> Array2<f64> {
        v.mapv(|x| -x)
    }
}

#[test]
fn a_rule_that_leaves_the_feasible_set_stops_with_where() {
    let o = run(Flip, 0, 10);
    assert_eq!(
        o.fit.stop,
        StopReason::Negative {
            iter: 0,
            factor: Which::V,
            row: 1,
            col: 1
        }
    );
    assert!(o.fit.stop.is_failure());
    assert!(o.fit.trace.rows.is_empty());
}
