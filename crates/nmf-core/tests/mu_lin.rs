//! Lin's modified MU (`LinMu`): everything of Chapter 3 but Lemma 2's ratio form holds in its
//! own metric K̄ = (XV̄ + δ) ⊘ V̄, and from a locked zero it moves on where plain MU stalls.

use std::ops::ControlFlow;

use nmf_core::loss::{Frobenius, Loss};
use nmf_core::{all_hold, Experiment, LinMu, Outcome, Problem, SolverSpec, Status};

fn lin(seed: u64, iters: usize) -> Experiment {
    let d = LinMu::default();
    let mut e = Experiment::note(seed, iters);
    e.solver = SolverSpec::MuLin {
        sigma: d.sigma,
        delta: d.delta,
    };
    e
}

fn run(e: &Experiment, locked: Option<(usize, usize)>) -> Outcome {
    let (data, mut init) = e.instance();
    if let Some(at) = locked {
        init.v[at] = 0.0;
    }
    e.run_on(data, init, |_| ControlFlow::Continue(())).unwrap()
}

#[test]
fn lins_claims_hold_in_its_own_metric() {
    for seed in 0..4 {
        let o = run(&lin(seed, 3000), None);
        assert_eq!(o.fit.trace.solver, "mu-lin");
        assert_eq!(
            all_hold(&o.claims),
            Some(true),
            "seed {seed}: {:#?}",
            o.claims
        );
        let mut na: Vec<&str> = o
            .claims
            .iter()
            .filter(|v| v.status == Status::NotApplicable)
            .map(|v| v.claim.as_str())
            .collect();
        na.sort_unstable();
        assert_eq!(na, ["lemma2_u", "lemma2_v"]);
    }
}

#[test]
fn from_a_locked_zero_lin_moves_on_where_plain_mu_stalls() {
    // The locked start of `mu_eps.rs` (seed 3, V[1, 2] = 0, where the gradient is negative):
    // plain MU keeps the zero and stalls with KKT ≈ 2.8e-2; Lin's σ lifts it, and after 10⁵
    // iterations its KKT residual is at the level round-off alone explains
    // (`Loss::kkt_roundoff`: the gradient's rounding at a KKT point; 4.0e-15 measured).
    let iters = 100_000;
    let locked = Some((1, 2));
    let streamed = |mut e: Experiment| {
        // Claims checked online; 10⁵ rows need not be kept.
        e.params.keep_rows = false;
        e
    };
    let mu = run(&streamed(Experiment::note(3, iters)), locked);
    let l = run(&streamed(lin(3, iters)), locked);
    assert_eq!(mu.fit.factors.v[[1, 2]], 0.0);
    assert!(l.fit.factors.v[[1, 2]] > 0.0);
    assert!(mu.fit.final_kkt > 1e-2, "{}", mu.fit.final_kkt);
    assert!(
        l.fit.final_kkt < 1e-3 * mu.fit.final_kkt,
        "Lin {} vs MU {}",
        l.fit.final_kkt,
        mu.fit.final_kkt
    );
    assert!(l.fit.final_objective < mu.fit.final_objective);
    assert_eq!(all_hold(&l.claims), Some(true));
    let (data, _) = l.experiment.instance();
    let p = Problem::new(data, l.experiment.k).unwrap();
    let floor = Frobenius.kkt_roundoff(&p, &l.fit.factors);
    assert!(
        l.fit.final_kkt <= floor,
        "Lin's KKT residual {} is above the round-off level {floor}",
        l.fit.final_kkt
    );
    // MU's stall is far above it: not round-off.
    assert!(mu.fit.final_kkt > 1e6 * Frobenius.kkt_roundoff(&p, &mu.fit.factors));
}
