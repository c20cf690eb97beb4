//! Snapshot tests: the metric traces and the claims for fixed seeds. CI runs with
//! `INSTA_UPDATE=no`, so any change in these numbers fails instead of being rewritten; review
//! a deliberate change with `just review` (cargo insta review).

use nmf_core::experiment::DEFAULT_SEED;
use nmf_core::Experiment;
use nmf_tests::{claims_summary, outcome_report};

fn snap(name: &str, e: Experiment) {
    let o = e.run().expect("the experiment runs");
    assert!(
        o.claims.iter().all(|v| v.holds),
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

#[test]
fn default_seed_is_the_documented_one() {
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
