//! Property tests: on random instances of random shapes, every claim of the proof holds for
//! the floating-point trace within its derived tolerance (see `nmf_core::claims`), for random
//! and planted data, and the exact identities hold in rational arithmetic.

use nmf_core::exact::{verify, ExactParams};
use nmf_core::init::note_instance;
use nmf_core::{check_all, run, DataKind, Dims, Mu, Problem, RunParams, Status};
use proptest::prelude::*;

fn shape() -> impl Strategy<Value = (usize, usize, usize, u64)> {
    (2usize..14, 2usize..14).prop_flat_map(|(m, n)| (Just(m), Just(n), 1..=m.min(n), any::<u64>()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn lemmas_1_and_2_and_all_bounds_hold_within_derived_tolerances(
        (m, n, k, seed) in shape(),
        planted in any::<bool>(),
        iters in 1usize..120,
    ) {
        let kind = if planted { DataKind::Planted } else { DataKind::Random };
        let (data, init) = note_instance(seed, m, n, k, kind);
        let p = Problem::new(data, k).unwrap();
        let params = RunParams { max_iter: iters, ..Default::default() };
        let fit = run(&p, init, &mut Mu, &params, |_| std::ops::ControlFlow::Continue(())).unwrap();
        prop_assert!(!fit.stop.is_failure(), "{:?}", fit.stop);
        let rows = fit.trace.rows.len();
        for v in check_all(&fit.trace, Dims { m, n, k }) {
            // Every claim is exercised, except the objective's on a one-row trace (it compares
            // consecutive rows); none fails.
            let exercisable = rows >= 2 || v.claim != "objective_non_increasing";
            let want = if exercisable { Status::Holds } else { Status::NotExercised };
            prop_assert_eq!(v.status, want, "{}: {:?}", v.claim, v.worst);
        }
    }

    #[test]
    fn exact_identities_hold_for_any_seed(seed in any::<u64>()) {
        let rep = verify(ExactParams { trials: 3, seed, steps: 1, max_dim: 4 }).unwrap();
        prop_assert!(rep.ok(), "{:?}", rep.mismatches.first());
    }
}
