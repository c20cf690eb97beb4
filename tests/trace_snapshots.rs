//! Snapshot tests: the metric traces and the claims for fixed seeds. CI runs with
//! `INSTA_UPDATE=no`, so any change in these numbers fails instead of being rewritten; review
//! a deliberate change with `just review` (cargo insta review).

use nmf_core::experiment::DEFAULT_SEED;
use nmf_core::{all_hold, Experiment, InitKind, MuEps, SolverSpec};
use nmf_tests::{claims_summary, outcome_report};

fn snap(name: &str, e: Experiment) {
    let o = e.run().expect("the experiment runs");
    // Every claim of the solver's proof checked and held (claims of other solvers' proofs are
    // not applicable: neither holding nor failing).
    assert_eq!(
        all_hold(&o.claims),
        Some(true),
        "{}",
        claims_summary(&o.claims)
    );
    insta::assert_snapshot!(format!("{name}_trace"), outcome_report(&o));
    insta::assert_snapshot!(format!("{name}_claims"), claims_summary(&o.claims));
}

#[test]
fn reproduce_default() {
    // The main job exactly as `nmf-lab reproduce` runs it.
    snap("reproduce_default", Experiment::default());
}

#[test]
fn random_seed_0() {
    snap("random_seed0", Experiment::note(0, 2000));
}

#[test]
fn random_seed_3() {
    snap("random_seed3", Experiment::note(3, 2000));
}

#[test]
fn planted_seed_0() {
    snap("planted_seed0", Experiment::note(0, 2000).planted());
}

#[test]
fn planted_seed_1() {
    snap("planted_seed1", Experiment::note(1, 2000).planted());
}

/// ε-MU with Gillis and Glineur's ε = 1e-16 on the note's instance.
fn mu_eps(seed: u64, iters: usize) -> Experiment {
    let mut e = Experiment::note(seed, iters);
    e.solver = SolverSpec::MuEps {
        eps: MuEps::DEFAULT_EPS,
    };
    e
}

#[test]
fn mu_eps_seed_0() {
    snap("mu_eps_seed0", mu_eps(0, 2000));
}

#[test]
fn mu_eps_default_seed() {
    // The default seed, where plain MU's entries underflow (14 of 16 seeds do): ε-MU's stay ≥ ε.
    snap("mu_eps_default", mu_eps(DEFAULT_SEED, 10_000));
}

#[test]
fn hals_seed_0_scaled() {
    // HALS from the start scaled to the data (`--init scaled`): from the note's start, ten
    // times too large, its first row update floors a whole row of V at ε (see `Hals`).
    let mut e = Experiment::note(0, 2000);
    e.solver = SolverSpec::Hals {
        eps: MuEps::DEFAULT_EPS,
    };
    e.init = InitKind::Scaled;
    snap("hals_seed0_scaled", e);
}

#[test]
fn hals_accel_seed_0_scaled() {
    // Accelerated HALS from the same start as `hals_seed_0_scaled`, with Gillis and Glineur's
    // α = ½, δ = 0.1: at 15×8, k = 5 a V half-step may make ⌊1 + ½·ρ⌋ = 3 passes
    // (ρ = 1 + ⌊(15·8 + 15·5)/(8·6)⌋ = 5), a U half-step 2 (ρ = 1 + ⌊(8·15 + 8·5)/(15·6)⌋ = 2).
    let mut e = Experiment::note(0, 2000);
    e.solver = SolverSpec::HalsAccel {
        eps: MuEps::DEFAULT_EPS,
        alpha: 0.5,
        delta: 0.1,
    };
    e.init = InitKind::Scaled;
    snap("hals_accel_seed0_scaled", e);
}

#[test]
fn mu_lin_seed_0() {
    let mut e = Experiment::note(0, 2000);
    e.solver = SolverSpec::MuLin {
        sigma: 1e-8,
        delta: 1e-8,
    };
    snap("mu_lin_seed0", e);
}

#[test]
fn default_seed_is_the_documented_one() {
    // README.md and the book state seed 8 for `reproduce`; `Default` must use the constant.
    assert_eq!(DEFAULT_SEED, 8);
    assert_eq!(Experiment::default().seed, DEFAULT_SEED);
    assert_eq!(
        (
            Experiment::default().m,
            Experiment::default().n,
            Experiment::default().k
        ),
        (15, 8, 5)
    );
    assert_eq!(Experiment::default().params.max_iter, 10_000);
}

/// The reasons `DEFAULT_SEED`'s rustdoc gives for the choice, measured: on seeds 0–15 over the
/// note's 10 000 iterations, which runs see an entry underflow and which see the note's
/// square-root form of Lemma 2 stop being finite; and the iterations where seed 8 does both.
#[test]
fn the_default_seed_is_chosen_for_the_reasons_its_doc_gives() {
    use nmf_core::EventKind;
    let first = |o: &nmf_core::Outcome, kind| {
        o.fit
            .trace
            .events
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| e.iter)
    };
    let (mut underflow, mut nan) = (0, 0);
    for seed in 0..16 {
        let o = Experiment::note(seed, 10_000)
            .run()
            .expect("the note's experiment runs");
        let (u, n) = (
            first(&o, EventKind::Underflow),
            first(&o, EventKind::NoteFormUndefined),
        );
        underflow += usize::from(u.is_some());
        nan += usize::from(n.is_some());
        if seed == DEFAULT_SEED {
            assert_eq!((u, n), (Some(1523), Some(5058)));
            assert!(o.claims.iter().all(|v| v.holds()));
        }
        if seed == 0 {
            assert!(u.is_some() && n.is_none(), "seed 0: {u:?}, {n:?}");
        }
    }
    assert_eq!((underflow, nan), (14, 7));
}
