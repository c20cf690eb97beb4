//! Every solver, the same way (as scikit-learn's NMF tests parametrise over solvers): every
//! claim a solver declares holds on several instances, and each of them fails once the trace is
//! perturbed where that claim looks, so no declared claim holds because it cannot fail.

use std::ops::ControlFlow;

use nmf_core::ndarray::{Array2, ArrayView2, Zip};
use nmf_core::solver::{Rule, UpdateRule};
use nmf_core::trace::Half;
use nmf_core::{
    all_hold, check, Claim, Experiment, InitKind, Outcome, Record, Solver, SolverSpec, Status,
};

/// Lee–Seung MU written as a user's rule (declares the generic claims only).
struct MuRule;

impl UpdateRule for MuRule {
    fn name(&self) -> &'static str {
        "mu-rule"
    }
    fn update(&self, x: ArrayView2<f64>, a: ArrayView2<f64>, v: ArrayView2<f64>) -> Array2<f64> {
        let d = x.dot(&v);
        Zip::from(v).and(a).and(&d).map_collect(|v, a, d| v * a / d)
    }
}

/// Makes a fresh instance of a solver.
type Make = Box<dyn Fn() -> Box<dyn Solver>>;

/// Every solver there is, with its name.
fn solvers() -> Vec<(String, Make)> {
    let mut out: Vec<(String, Make)> = [
        SolverSpec::Mu,
        SolverSpec::MuEps { eps: 1e-16 },
        SolverSpec::Hals { eps: 1e-16 },
        SolverSpec::HalsAccel {
            eps: 1e-16,
            alpha: 0.5,
            delta: 0.1,
        },
        SolverSpec::MuLin {
            sigma: 1e-8,
            delta: 1e-8,
        },
    ]
    .into_iter()
    .map(|spec| (spec.title(), Box::new(move || spec.build()) as Make))
    .collect();
    out.push((
        "MU as a user's rule".into(),
        Box::new(|| Box::new(Rule(MuRule)) as Box<dyn Solver>),
    ));
    out
}

fn run(solver: &mut dyn Solver, seed: u64) -> Outcome {
    let mut e = Experiment::note(seed, 400);
    // Scaled to the data: HALS needs it (see `Hals`), the others do not mind.
    e.init = InitKind::Scaled;
    let (data, init) = e.instance();
    e.run_solver(solver, data, init, |_| ControlFlow::Continue(()))
        .unwrap()
}

/// Break `claim` at row `i` of a trace, by more than any tolerance: each perturbation moves
/// the σ-relative quantity the claim compares by 1e-6 (tolerances are a few γ ≈ 1e-14), or
/// the objective by 0.1 %, or θ outside its bound by 1 %, or an entry below the floor.
fn perturb(r: &mut [Record], i: usize, claim: Claim) {
    let bump = 1e-6;
    match claim {
        Claim::ObjectiveNonIncreasing => r[i].objective = r[i - 1].objective * 1.001,
        Claim::Lemma1(h) | Claim::KIdentity(h) => {
            *r[i].half_mut(h).rel.decrease.as_mut().unwrap() += bump
        }
        Claim::Lemma2(h) => *r[i].half_mut(h).mu.rel_inner_closed.as_mut().unwrap() += bump,
        Claim::InnerNonneg(h) => r[i].half_mut(h).rel.inner = Some(-bump),
        Claim::SufficientDecrease(h) => {
            let x = r[i].half_mut(h);
            x.rel.decrease = Some(x.rel.step.unwrap() - bump);
        }
        Claim::ThetaBounds(h) => {
            let x = r[i].half_mut(h);
            x.theta = Some(x.eig_max * 1.01);
        }
        Claim::KRatioBounds(h) => {
            // ρ = 1 − step/‖Δ‖²_K below ½: a step of 0.55 of the K-norm.
            let x = r[i].half_mut(h);
            x.rel.step = Some(0.55 * x.mu.rel_k_norm_sq.unwrap());
        }
        Claim::DiagDecrease(h) => {
            let x = r[i].half_mut(h);
            x.rel.decrease = Some(x.rel.diag_bound.unwrap() - bump);
        }
        Claim::KHalfDecrease(h) => {
            let x = r[i].half_mut(h);
            x.rel.decrease = Some(0.5 * x.mu.rel_k_norm_sq.unwrap() - bump);
        }
        Claim::Floor(h, eps) => r[i].half_mut(h).min_new = eps * (1.0 - f64::EPSILON),
    }
}

#[test]
fn every_declared_claim_holds_for_every_solver_on_several_instances() {
    for (name, make) in solvers() {
        for seed in 0..3 {
            let o = run(make().as_mut(), seed);
            assert_eq!(
                all_hold(&o.claims),
                Some(true),
                "{name}, seed {seed}: {:#?}",
                o.claims
            );
            // The generic claims apply to every solver.
            let declared = make().claims();
            assert!(
                Claim::generic().iter().all(|c| declared.contains(c)),
                "{name}"
            );
        }
    }
}

#[test]
fn every_declared_claim_of_every_solver_fails_on_a_perturbed_trace() {
    for (name, make) in solvers() {
        let o = run(make().as_mut(), 0);
        let d = o.experiment.dims();
        for claim in make().claims() {
            let only = [claim];
            let before = check(&o.fit.trace, d, &only);
            let own = |v: &[nmf_core::Verdict]| {
                v.iter()
                    .find(|v| v.status != Status::NotApplicable)
                    .expect("the claim checked")
                    .clone()
            };
            assert_eq!(own(&before).status, Status::Holds, "{name}: {claim:?}");
            let mut t = o.fit.trace.clone();
            perturb(&mut t.rows, 100, claim);
            let after = own(&check(&t, d, &only));
            assert_eq!(after.status, Status::Fails, "{name}: {claim:?}: {after:?}");
            assert_eq!(after.first_violation, Some(100), "{name}: {claim:?}");
        }
    }
}

#[test]
fn the_half_step_tags_of_the_claims_match_the_halves() {
    // `perturb` reaches each claim's half-step through `Record::half_mut`: V first, U second.
    let mut r = Record::default();
    r.half_mut(Half::V).zeros = 1;
    r.half_mut(Half::U).zeros = 2;
    assert_eq!((r.v.zeros, r.u.zeros), (1, 2));
}
