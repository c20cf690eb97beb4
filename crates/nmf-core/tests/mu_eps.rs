//! ε-MU (`MuEps`): its claims hold on the note's instance and on data nobody here wrote, each
//! of its own claims is able to fail, and from a start with a locked zero, where plain MU
//! stalls away from a KKT point, ε-MU reaches one.

use std::ops::ControlFlow;

use nmf_core::loss::{Frobenius, Loss};
use nmf_core::{
    all_hold, check, Claim, Experiment, MuEps, Outcome, Problem, Solver, SolverSpec, Status,
};

fn run(e: &Experiment, init_zero: Option<(usize, usize)>) -> Outcome {
    let (data, mut init) = e.instance();
    if let Some(at) = init_zero {
        init.v[at] = 0.0;
    }
    e.run_on(data, init, |_| ControlFlow::Continue(())).unwrap()
}

fn eps_experiment(seed: u64, iters: usize) -> Experiment {
    let mut e = Experiment::note(seed, iters);
    e.solver = SolverSpec::MuEps {
        eps: MuEps::DEFAULT_EPS,
    };
    e
}

#[test]
fn every_claim_of_eps_mu_holds_and_the_rest_are_not_applicable() {
    for seed in 0..4 {
        let o = run(&eps_experiment(seed, 3000), None);
        assert_eq!(o.fit.trace.solver, "mu-eps");
        assert_eq!(
            all_hold(&o.claims),
            Some(true),
            "seed {seed}: {:#?}",
            o.claims
        );
        // Not applicable: exactly the claims that rest on V' = V ∘ (A ⊘ D) (Lemma 2 and what
        // follows from it alone, the K-identity and the K-ratio's upper bound 1).
        let mut not_applicable: Vec<&str> = o
            .claims
            .iter()
            .filter(|v| v.status == Status::NotApplicable)
            .map(|v| v.claim.as_str())
            .collect();
        not_applicable.sort_unstable();
        assert_eq!(
            not_applicable,
            [
                "inner_nonneg_u",
                "inner_nonneg_v",
                "k_identity_u",
                "k_identity_v",
                "k_ratio_u",
                "k_ratio_v",
                "lemma2_u",
                "lemma2_v"
            ]
        );
        // Every entry of every iterate is ≥ ε (the floor claim, checked on every row).
        let floor: Vec<_> = o
            .claims
            .iter()
            .filter(|v| v.claim.starts_with("floor_"))
            .collect();
        assert_eq!(floor.len(), 2);
        assert!(floor.iter().all(|v| v.checked == 3000));
    }
}

#[test]
fn each_own_claim_of_eps_mu_can_fail() {
    let o = run(&eps_experiment(0, 200), None);
    let d = o.experiment.dims();
    let claims = MuEps::default().claims();
    let status = |t: &nmf_core::Trace, name: &str| {
        check(t, d, &claims)
            .into_iter()
            .find(|v| v.claim == name)
            .unwrap()
            .status
    };
    // ½‖Δ‖²_K − decrease against its tolerance (a few γ_{N_h} ≈ 1e-14 relative to σ): a
    // decrease made smaller than half the K-norm by a relative 1e-6 of σ is far outside.
    let mut t = o.fit.trace.clone();
    let r = &mut t.rows[50].v;
    let kn = r.mu.rel_k_norm_sq.unwrap();
    r.rel.decrease = Some(0.5 * kn - 1e-6);
    assert_eq!(status(&t, "k_half_decrease_v"), Status::Fails);
    // An entry below ε by one unit in the last place is a violation: the check is exact.
    let mut t = o.fit.trace.clone();
    let eps = MuEps::DEFAULT_EPS;
    t.rows[70].u.min_new = eps - eps * f64::EPSILON;
    assert_eq!(status(&t, "floor_u"), Status::Fails);
    assert_eq!(status(&o.fit.trace, "floor_u"), Status::Holds);
    assert!(claims.contains(&Claim::Floor(nmf_core::trace::Half::U, eps)));
}

#[test]
fn from_a_locked_zero_plain_mu_stalls_away_from_kkt_and_eps_mu_does_not() {
    // Seed 3 with V[1, 2] = 0 at the start: MU multiplies that entry by its ratio, so it stays 0
    // for ever (zero locking), while the gradient there is negative: the KKT residual stays
    // bounded away from 0. ε-MU lifts it to ε and moves on; the residual of the problem it
    // solves, min over U, V ≥ ε (‖min(V − ε, ∇)‖ + the same for U), falls with it, to the
    // level round-off alone explains after 10⁵ iterations (`Loss::kkt_roundoff`; 3.3e-15
    // measured).
    let iters = 100_000;
    let locked = Some((1, 2));
    let streamed = |mut e: Experiment| {
        // Claims checked online; 10⁵ rows need not be kept.
        e.params.keep_rows = false;
        e
    };
    let mu = run(&streamed(Experiment::note(3, iters)), locked);
    let eps = run(&streamed(eps_experiment(3, iters)), locked);
    assert_eq!(
        mu.fit.factors.v[[1, 2]],
        0.0,
        "the zero stays locked under MU"
    );
    assert!(eps.fit.factors.v[[1, 2]] > 0.0);
    assert!(mu.fit.final_kkt > 1e-2, "MU stalls: {}", mu.fit.final_kkt);
    assert!(
        eps.fit.final_kkt < 1e-3 * mu.fit.final_kkt,
        "ε-MU {} vs MU {}",
        eps.fit.final_kkt,
        mu.fit.final_kkt
    );
    assert!(eps.fit.final_objective < mu.fit.final_objective);
    assert_eq!(all_hold(&eps.claims), Some(true));
    // Entrywise |min(v − ε, g) − min(v, g)| ≤ ε, so the two residuals differ by at most
    // ε·√(entries) per factor (plus their rounding, relative γ of their size).
    let floored = eps.fit.final_kkt_floor.expect("ε-MU has a floor");
    let entries = (15 * 5 + 5 * 8) as f64;
    assert!(
        (floored - eps.fit.final_kkt).abs()
            <= 2.0 * 1e-16 * entries.sqrt() + 1e-12 * eps.fit.final_kkt,
        "{floored} vs {}",
        eps.fit.final_kkt
    );
    assert!(floored < 1e-3 * mu.fit.final_kkt);
    assert_eq!(mu.fit.final_kkt_floor, None, "plain MU has no floor");
    let (data, _) = eps.experiment.instance();
    let p = Problem::new(data, eps.experiment.k).unwrap();
    let level = Frobenius.kkt_roundoff(&p, &eps.fit.factors);
    assert!(
        floored <= level,
        "ε-MU's KKT residual {floored} is above the round-off level {level}"
    );
}
