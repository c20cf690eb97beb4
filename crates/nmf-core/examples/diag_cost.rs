//! Breaks down the cost of the diagnostics of one iteration (a profiling aid).
use std::time::Instant;

use nmf_core::init::note_instance;
use nmf_core::{formulas, spectral, DataKind, Mu, Problem, Solver};

fn main() {
    let (m, n, k) = (300, 200, 10);
    let (data, f0) = note_instance(1, m, n, k, DataKind::Random);
    let p = Problem::new(data, k).unwrap();
    let mut f = f0.clone();
    let s = Mu.step(&p, &mut f).unwrap();
    let h = &s.u;
    let reps = 200;
    let time = |name: &str, g: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..reps {
            g();
        }
        println!(
            "{name:<20} {:>10.1} µs",
            t.elapsed().as_secs_f64() * 1e6 / reps as f64
        );
    };
    time("step", &mut || {
        let mut g = f0.clone();
        std::hint::black_box(Mu.step(&p, &mut g).unwrap());
    });
    time("half_step(u)", &mut || {
        std::hint::black_box(nmf_core::diagnostics::half_step(h, false));
    });
    let delta = &h.new - &h.old;
    time("gram.dot(delta)", &mut || {
        std::hint::black_box(h.gram.dot(&delta));
    });
    time("inner_closed", &mut || {
        std::hint::black_box(formulas::inner_closed(
            h.gram.view(),
            h.old.view(),
            h.mu.as_ref().unwrap().ratio.view(),
        ));
    });
    time("eig", &mut || {
        std::hint::black_box(spectral::sym_eig_extremes(h.gram.view()));
    });
    time("frob_inner", &mut || {
        std::hint::black_box(formulas::frob_inner(delta.view(), delta.view()));
    });
    println!(
        "old strides {:?}, new strides {:?}",
        h.old.strides(),
        h.new.strides()
    );
}
