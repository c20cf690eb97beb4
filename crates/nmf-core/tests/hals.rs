//! HALS (`Hals`): its claims hold on the note's instances, and its own claim (the diagonal
//! bound, which HALS's per-row decrease gives) is able to fail.

use nmf_core::{all_hold, check, Experiment, Hals, Outcome, Solver, SolverSpec, Status};

fn run(seed: u64, iters: usize) -> Outcome {
    let mut e = Experiment::note(seed, iters);
    e.solver = SolverSpec::Hals {
        eps: Hals::default().eps,
    };
    e.run().unwrap()
}

#[test]
fn every_claim_of_hals_holds_and_the_rest_are_not_applicable() {
    for seed in 0..4 {
        let o = run(seed, 2000);
        assert_eq!(o.fit.trace.solver, "hals");
        assert_eq!(
            all_hold(&o.claims),
            Some(true),
            "seed {seed}: {:#?}",
            o.claims
        );
        let mut applies: Vec<&str> = o
            .claims
            .iter()
            .filter(|v| v.status != Status::NotApplicable)
            .map(|v| v.claim.as_str())
            .collect();
        applies.sort_unstable();
        assert_eq!(
            applies,
            [
                "diag_decrease_u",
                "diag_decrease_v",
                "floor_u",
                "floor_v",
                "lemma1_u",
                "lemma1_v",
                "objective_non_increasing",
                "theta_bounds_u",
                "theta_bounds_v"
            ]
        );
    }
}

#[test]
fn the_diagonal_bound_fails_on_a_perturbed_trace() {
    let o = run(0, 200);
    let d = o.experiment.dims();
    let claims = Hals::default().claims();
    let status = |t: &nmf_core::Trace| {
        check(t, d, &claims)
            .into_iter()
            .find(|v| v.claim == "diag_decrease_u")
            .unwrap()
            .status
    };
    assert_eq!(status(&o.fit.trace), Status::Holds);
    // A decrease below the bound by 1e-6 of σ: far beyond its tolerance (a few γ ≈ 1e-14).
    let mut t = o.fit.trace.clone();
    let r = &mut t.rows[30].u.rel;
    r.decrease = Some(r.diag_bound.unwrap() - 1e-6);
    assert_eq!(status(&t), Status::Fails);
}
