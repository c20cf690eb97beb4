//! Verdicts do not depend on the data's units. MU commutes with scaling: from the same start,
//! M → cM gives V_k → cV_k for k ≥ 1 and leaves U_k unchanged, exactly in floating point when
//! c = 2^j and MU's own products stay in the normal range. Every claim judges a ratio formed
//! on power-of-two–scaled arrays (`nmf_core::scaling`), so the verdicts — status, rows
//! checked, skipped, unresolved and violated — the stop reason and the events of a run on cM
//! must equal those on M for every j in [−500, 500]; beyond about 2^±509 MU's products (or the
//! objective and its round-off scale, of order c² too) leave the double range and the run must
//! stop with that diagnosis (exit 3), never with a failed claim.

use nmf_core::init::note_instance;
use nmf_core::scaling::pow2;
use nmf_core::{check_all, run, DataKind, Dims, Mu, Problem, RunParams, Status, StopReason};

const M: usize = 6;
const N: usize = 4;
const K: usize = 2;
/// Long enough for the decrease to fall by many decades, short enough that no entry of the
/// factors reaches the subnormal range at j = −500 (where an entry below 2^-522 of V's
/// largest would be subnormal and MU itself stops scaling exactly; asserted below: no
/// underflow event at any j).
const ITERS: usize = 2000;

/// `(stop, events, verdicts without their worst row)` of the run on 2^j M.
fn outcome(j: i32) -> (StopReason, Vec<String>, Vec<String>) {
    outcome_of(11, M, N, K, ITERS, j)
}

/// MU on 2^j times the note's `m×n` random instance of `seed`, from its unscaled start, with
/// every claim checked.
fn fit_at(
    seed: u64,
    m: usize,
    n: usize,
    k: usize,
    iters: usize,
    j: i32,
) -> (nmf_core::Fit, Vec<nmf_core::Verdict>) {
    let (data, init) = note_instance(seed, m, n, k, DataKind::Random);
    let p = Problem::new(data.mapv(|x| x * pow2(j)), k).expect("a valid problem");
    let params = RunParams {
        max_iter: iters,
        ..Default::default()
    };
    let fit = run(&p, init, &mut Mu, &params, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let claims = check_all(&fit.trace, Dims { m, n, k });
    (fit, claims)
}

fn outcome_of(
    seed: u64,
    m: usize,
    n: usize,
    k: usize,
    iters: usize,
    j: i32,
) -> (StopReason, Vec<String>, Vec<String>) {
    let (fit, claims) = fit_at(seed, m, n, k, iters, j);
    let events = fit
        .trace
        .events
        .iter()
        .map(|e| format!("{:?}", e))
        .collect();
    let verdicts = claims
        .iter()
        .map(|v| {
            format!(
                "{} {:?} checked {} skipped {} unresolved {} violations {}",
                v.claim, v.status, v.checked, v.skipped, v.unresolved, v.violations
            )
        })
        .collect();
    (fit.stop, events, verdicts)
}

#[test]
fn verdicts_stop_and_events_are_the_same_at_every_power_of_two_scale() {
    let base = outcome(0);
    // This instance reaches an exact fixed point (a stall) well inside ITERS: the stall's
    // iteration must come out the same at every scale too.
    assert!(
        matches!(
            base.0,
            StopReason::Stalled { .. } | StopReason::MaxIterations { .. }
        ),
        "{:?}",
        base.0
    );
    assert!(
        base.1.iter().all(|e| !e.contains("Underflow")),
        "{:?}",
        base.1
    );
    assert!(
        base.2.iter().all(|v| v.contains(" Holds ")),
        "every claim is exercised and holds at j = 0: {:#?}",
        base.2
    );
    // Every j from −500 to 500 in steps of 20, the ends, and a few odd ones.
    let js = (-500..=500)
        .step_by(20)
        .chain([-499, -333, -1, 1, 7, 333, 499]);
    for j in js {
        let got = outcome(j);
        assert_eq!(got.0, base.0, "stop reason at j = {j}");
        assert_eq!(got.1, base.1, "events at j = {j}");
        assert_eq!(got.2, base.2, "verdicts at j = {j}");
    }
}

#[test]
fn the_notes_default_instance_gives_the_same_verdicts_at_every_scale() {
    // The note's 15×8, rank 5, seed 8: an entry of U underflows at iteration 1523 (U does not
    // scale, so that event must be the same everywhere) and every claim is exercised.
    let base = outcome_of(8, 15, 8, 5, 2000, 0);
    assert_eq!(base.0, StopReason::MaxIterations { iters: 2000 });
    assert!(
        base.1.iter().any(|e| e.contains("Underflow")),
        "{:?}",
        base.1
    );
    assert!(
        base.2.iter().all(|v| v.contains(" Holds ")),
        "{:#?}",
        base.2
    );
    for j in [-500, -321, -64, 64, 321, 500] {
        let got = outcome_of(8, 15, 8, 5, 2000, j);
        assert_eq!(got, base, "j = {j}");
    }
}

#[test]
fn beyond_the_double_range_the_run_stops_with_a_diagnosis_not_a_failed_claim() {
    for j in [512, 520, 600, -512, -540, -600] {
        let (fit, claims) = fit_at(11, M, N, K, ITERS, j);
        assert!(
            matches!(
                fit.stop,
                StopReason::Overflow { .. }
                    | StopReason::Underflow { .. }
                    | StopReason::NonFinite { .. }
            ) && fit.stop.is_failure(),
            "j = {j}: {:?}",
            fit.stop
        );
        assert!(
            claims.iter().all(|v| v.status != Status::Fails),
            "j = {j}: {claims:#?}"
        );
    }
}
