//! The cost of a sweep's instance split in two (scripts/bench-sweep.sh prints it): the run
//! alone (`nmf_core::run` with rows not kept and no claim checked) against the sweep's path
//! (`nmf_core::sweep::run_instance`: the same run with every declared claim checked online),
//! on one thread, over `N` instances (seeds 0..N) of the note's size, 15×8, k = 5, MU.
//!
//! `cargo run --release --example sweep_split -- N ITERS`
use std::ops::ControlFlow;
use std::time::Instant;

use nmf_core::sweep::{run_instance, Instance};
use nmf_core::{run, Experiment, Problem};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(500, |a| a.parse().expect("N"));
    let iters: usize = args.next().map_or(1000, |a| a.parse().expect("ITERS"));
    let experiments: Vec<Experiment> = (0..n)
        .map(|seed| {
            let mut e = Experiment::note(seed, iters);
            e.init = nmf_core::InitKind::Note;
            e.params.keep_rows = false;
            e.params.note_columns = false;
            e
        })
        .collect();
    // Interleaved, instance by instance, so that a change in the machine's load hits both
    // sides alike (the machine may be shared).
    let (mut alone, mut checked) = (0.0f64, 0.0f64);
    let (mut rows, mut swept) = (0usize, 0usize);
    for (i, e) in experiments.iter().enumerate() {
        let t = Instant::now();
        let (data, init) = e.instance();
        let p = Problem::new(data, e.k).unwrap();
        let mut solver = e.solver.build();
        run(&p, init, solver.as_mut(), &e.params, |_| {
            rows += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
        alone += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let r = run_instance(
            &Instance {
                id: i,
                experiment: e.clone(),
                data_file: None,
            },
            None,
        );
        checked += t.elapsed().as_secs_f64();
        swept += r.iterations;
    }
    assert_eq!(rows, swept, "the same iterations both ways");
    let us = |s: f64| s * 1e6 / rows as f64;
    println!(
        "split over {n} instances, {rows} iterations, 1 thread: run alone {:.2} µs/iteration, with every claim checked {:.2} µs/iteration (claims {:.0} % of the total)",
        us(alone),
        us(checked),
        100.0 * (checked - alone) / checked
    );
}
