//! One MU iteration with and without the proof's diagnostics, at the note's size and at a size
//! with k ≪ min(m, n); and the whole `reproduce` experiment (10 000 iterations).
//!
//! `cargo bench -p nmf-core --bench mu` (or `just bench`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use nmf_core::diagnostics::half_step;
use nmf_core::init::note_instance;
use nmf_core::{DataKind, Experiment, Mu, Problem, Solver};

fn iteration(c: &mut Criterion) {
    for (m, n, k) in [(15, 8, 5), (300, 200, 10)] {
        let (data, f0) = note_instance(1, m, n, k, DataKind::Random);
        let p = Problem::new(data, k).unwrap();
        let mut g = c.benchmark_group(format!("iteration_{m}x{n}_k{k}"));
        g.bench_function("mu_step", |b| {
            b.iter_batched_ref(
                || f0.clone(),
                |f| black_box(Mu.step(&p, f).unwrap()),
                criterion::BatchSize::SmallInput,
            )
        });
        g.bench_function("mu_step_with_diagnostics", |b| {
            b.iter_batched_ref(
                || f0.clone(),
                |f| {
                    let s = Mu.step(&p, f).unwrap();
                    black_box((half_step(&s.v, false), half_step(&s.u, false)))
                },
                criterion::BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

fn reproduce(c: &mut Criterion) {
    let mut g = c.benchmark_group("reproduce");
    g.sample_size(10);
    g.bench_function("default_10000_iterations", |b| {
        b.iter(|| black_box(Experiment::default().run().unwrap()))
    });
    let mut e = Experiment::default();
    e.params.note_columns = false;
    g.bench_function("default_10000_iterations_without_note_columns", |b| {
        b.iter(|| black_box(e.run().unwrap()))
    });
    g.finish();
}

criterion_group!(benches, iteration, reproduce);
criterion_main!(benches);
