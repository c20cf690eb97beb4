//! A solver declares the claims of its own proof: the others are *not applicable*, never
//! "holds" (issue 8). Checked with a method that is not MU: projected gradient with the safe
//! step 1/L, L = tr(X) ≥ λ_max(X), which decreases the objective monotonically
//! (g(V') ≤ g(V) − (L/2)‖V' − V‖², Beck, *First-Order Methods in Optimization*, 2017,
//! Lemma 10.4) but has no ratio form and no K-metric.

use std::ops::ControlFlow;

use ndarray::{Array2, ArrayView2};
use nmf_core::solver::HalfStep;
use nmf_core::{
    all_hold, check_all, Claim, Experiment, Factors, Problem, RunParams, Solver, Status, Step,
    StepError,
};

struct ProjectedGradient;

/// One projected-gradient half-step in column layout (see `nmf_core::solver::HalfStep`).
fn half(fixed_rows: ArrayView2<f64>, cross: Array2<f64>, old: Array2<f64>) -> HalfStep {
    let gram = fixed_rows.dot(&fixed_rows.t());
    let lipschitz = gram.diag().sum();
    let grad = gram.dot(&old) - &cross;
    let new = (&old - &(grad / lipschitz)).mapv(|x| x.max(0.0));
    HalfStep {
        gram,
        cross,
        old,
        new,
        mu: None,
        sweeps: 1,
    }
}

impl Solver for ProjectedGradient {
    fn name(&self) -> &'static str {
        "projected-gradient"
    }

    fn step(&mut self, p: &Problem, f: &mut Factors) -> Result<Step, StepError> {
        let m = p.m();
        let ut = f.u.t();
        let v = half(ut, ut.dot(&m), f.v.clone());
        let vn = v.new.view();
        let u = half(vn, vn.dot(&m.t()), ut.as_standard_layout().into_owned());
        f.v.assign(&v.new);
        f.u.assign(&u.new.t());
        Ok(Step { v, u })
    }
}

fn outcome(keep_rows: bool) -> nmf_core::Outcome {
    let mut e = Experiment::note(3, 300);
    e.params = RunParams {
        keep_rows,
        ..e.params
    };
    let (data, init) = e.instance();
    e.run_solver(&mut ProjectedGradient, data, init, |_| {
        ControlFlow::Continue(())
    })
    .unwrap()
}

#[test]
fn claims_outside_a_solvers_proof_are_not_applicable_and_the_rest_hold() {
    let o = outcome(true);
    let generic = Claim::generic();
    assert_eq!(o.claims.len(), Claim::all().len());
    for (claim, v) in Claim::all().into_iter().zip(&o.claims) {
        if generic.contains(&claim) {
            assert_eq!(v.status, Status::Holds, "{v:?}");
            assert!(v.checked > 0);
        } else {
            assert_eq!(v.status, Status::NotApplicable, "{v:?}");
            assert_eq!((v.checked, v.violations), (0, 0));
            assert!(!v.holds(), "not applicable is never 'holds'");
        }
    }
    assert_eq!(all_hold(&o.claims), Some(true));
    // Streaming the rows through the online checker gives the same verdicts.
    assert_eq!(outcome(false).claims, o.claims);
    // Judged by MU's proof instead, the claims that need MU's ratio form have nothing to check:
    // "not exercised", which `all_hold` refuses to count as holding.
    let d = o.experiment.dims();
    let as_mu = check_all(&o.fit.trace, d);
    for (claim, v) in Claim::all().into_iter().zip(&as_mu) {
        if matches!(
            claim,
            Claim::Lemma2(_) | Claim::KRatioBounds(_) | Claim::KIdentity(_)
        ) {
            assert_eq!(v.status, Status::NotExercised, "{v:?}");
        }
    }
    assert_ne!(all_hold(&as_mu), Some(true));
}

#[test]
fn a_generic_claim_still_fails_on_a_perturbed_trace() {
    let o = outcome(true);
    let mut t = o.fit.trace.clone();
    // An increase of 0.1 % of f. The claim's tolerance is about γ_{N_f}·(s_k + s_{k+1}) with
    // N_f = mn + k(m + n) + 4 = 239 (γ ≈ 2.7e-14) and s ≤ ‖M‖² + ‖UV‖² ≈ 2‖M‖²: below 0.1 % of
    // f unless f < 1e-10·‖M‖², which a rank-5 fit of uniform 15×8 data is far from.
    t.rows[40].objective = t.rows[39].objective * 1.001;
    let v = nmf_core::check(&t, o.experiment.dims(), &ProjectedGradient.claims());
    assert_eq!(v[0].status, Status::Fails);
    assert_eq!(all_hold(&v), Some(false));
}
