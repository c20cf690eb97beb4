use std::path::{Path, PathBuf};

use super::files::{self, SweepFiles};
use super::stats::{self, clopper_pearson, clopper_pearson_upper, quantile, student_t_quantile};
use super::*;
use crate::{DataKind, InitKind, SolverSpec};

/// A small grid: 2 solvers × (uniform, sparse) × 2 shapes × 2 inits × 3 seeds = 48 instances.
const SMALL: &str = r#"
iters = 25
shapes = [[6, 5, 2], [4, 7, 3]]
data = ["uniform", { kind = "sparse", density = 0.5 }]
init = ["note", "scaled"]
seeds = { start = 10, count = 3 }

[[solver]]
name = "mu"

[[solver]]
name = "mu-eps"
eps = 1e-12
"#;

fn parse(text: &str) -> crate::Result<Grid> {
    Grid::parse(text, Path::new("g.toml"), Path::new("."))
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn a_grid_parses_and_expands_in_its_documented_order() {
    let g = parse(SMALL).unwrap();
    assert_eq!(
        g.solvers,
        [SolverSpec::Mu, SolverSpec::MuEps { eps: 1e-12 }]
    );
    assert_eq!(g.count(), 48);
    let all = g.instances(Shard::ALL);
    assert_eq!(all.len(), 48);
    assert!(all.iter().enumerate().all(|(i, x)| x.id == i));
    // The seed varies fastest, then the init, the shape, the data, the solver.
    let e = |i: usize| &all[i].experiment;
    assert_eq!(
        (e(0).seed, e(1).seed, e(2).seed, e(3).seed),
        (10, 11, 12, 10)
    );
    assert_eq!((e(2).init, e(3).init), (InitKind::Note, InitKind::Scaled));
    assert_eq!((e(5).m, e(5).k), (6, 2));
    assert_eq!((e(6).m, e(6).k), (4, 3));
    assert_eq!(e(11).data, DataKind::Random);
    assert_eq!(e(12).data, DataKind::Sparse { density: 0.5 });
    assert_eq!(
        (e(23).solver, e(24).solver),
        (SolverSpec::Mu, SolverSpec::MuEps { eps: 1e-12 })
    );
    assert!(!e(0).params.keep_rows && !e(0).params.note_columns);
    assert_eq!(e(0).params.max_iter, 25);
    // Defaults: init note, tol 0; a list of seeds; mu-lin's and hals's defaults.
    let g = parse(
        "iters = 3\nshapes = [[3, 3, 1]]\ndata = [\"halfnormal\", \"planted\"]\nseeds = [4, 2]\n[[solver]]\nname = \"mu-lin\"\n[[solver]]\nname = \"hals\"\n[[solver]]\nname = \"hals-accel\"\nalpha = 0.0\n",
    )
    .unwrap();
    assert_eq!(g.inits, [InitKind::Note]);
    assert_eq!(g.seeds, [4, 2]);
    assert_eq!(g.params.tol, 0.0);
    assert_eq!(
        g.solvers,
        [
            SolverSpec::MuLin {
                sigma: 1e-8,
                delta: 1e-8
            },
            SolverSpec::Hals { eps: 1e-16 },
            SolverSpec::HalsAccel {
                eps: 1e-16,
                alpha: 0.0,
                delta: 0.1
            }
        ]
    );
}

#[test]
fn every_bad_grid_is_refused_with_the_field_named() {
    let base = |over: &str, drop: &str| {
        let mut t: String = SMALL
            .lines()
            .filter(|l| drop.is_empty() || !l.starts_with(drop))
            .collect::<Vec<_>>()
            .join("\n");
        t = format!("{over}\n{t}");
        t
    };
    for (text, needles) in [
        (
            SMALL.replace("name = \"mu\"", "name = \"nmu\""),
            vec!["unknown variant `nmu`", "line 9"],
        ),
        (
            base("colour = 3", ""),
            vec!["unknown field `colour`", "line 1"],
        ),
        (
            SMALL.replace("[4, 7, 3]", "[4, 7, 5]"),
            vec!["shapes[1] = [4, 7, 5]", "1 ≤ k ≤ min(m, n) = 4"],
        ),
        (
            SMALL.replace("[6, 5, 2]", "[6, 5, 0]"),
            vec!["shapes[0] = [6, 5, 0]"],
        ),
        (
            SMALL.replace("count = 3", "count = 0"),
            vec!["seeds is empty", "zero instances"],
        ),
        (base("seeds = []", "seeds"), vec!["seeds is empty"]),
        (base("shapes = []", "shapes"), vec!["shapes is empty"]),
        (base("data = []", "data"), vec!["data is empty"]),
        (
            SMALL.replace("1e-12", "-1.0"),
            vec!["solver[1]", "eps", "must be finite and > 0"],
        ),
        (
            SMALL.replace("density = 0.5", "density = 0.0"),
            vec!["data[1]", "density", "(0, 1]"],
        ),
        (
            SMALL.replace("\"uniform\"", "\"gaussian\""),
            vec!["data[0]", "unknown data kind \"gaussian\""],
        ),
        (
            SMALL.replace("\"uniform\"", "\"sparse\""),
            vec!["data[0]", "needs a density"],
        ),
        (
            SMALL.replace("density = 0.5", "density = 0.5, p = 1"),
            vec!["data[1]", "unknown key `p`"],
        ),
        (SMALL.replace("\"scaled\"", "\"files\""), vec!["init[1]"]),
        (
            SMALL.replace("iters = 25", "iters = 0"),
            vec!["iters", "at least 1"],
        ),
        (
            SMALL.replace("count = 3", "count = 3, step = 2"),
            vec!["seeds", "unknown key `step`"],
        ),
        (
            SMALL.replace("eps = 1e-12", "eps = 1e-12\nsigma = 1"),
            vec!["unknown field `sigma`"],
        ),
        (
            SMALL.replace("name = \"mu\"", "name = \"mu\"\neps = 1e-16"),
            vec!["unknown field `eps`"],
        ),
        (base("", "iters"), vec!["missing field `iters`"]),
        (
            SMALL.replace(
                "\"uniform\"",
                "{ kind = \"file\", path = \"/nonexistent/m.csv\" }",
            ),
            vec!["/nonexistent/m.csv"],
        ),
    ] {
        let e = err(&text);
        assert!(e.starts_with("g.toml: "), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
        for n in needles {
            assert!(e.contains(n), "{n:?} not in {e:?}");
        }
    }
}

#[test]
fn a_data_file_takes_its_size_from_the_file() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("m.csv"), "1,2,3\n4,5,6\n0,1,1\n3,0,2\n").unwrap();
    let grid_path = d.path().join("g.toml");
    let with = |data: &str| {
        std::fs::write(
            &grid_path,
            format!("iters = 5\nshapes = [[6, 5, 2], [4, 3, 2]]\ndata = [{data}]\nseeds = [1]\n[[solver]]\nname = \"mu\"\n"),
        )
        .unwrap();
        Grid::load(&grid_path)
    };
    let g = with(r#"{ kind = "file", path = "m.csv" }"#).unwrap();
    let inst = g.instances(Shard::ALL);
    assert_eq!(inst.len(), 1, "only the 4×3 shape fits the file");
    assert_eq!(
        inst[0].data_file.as_deref(),
        Some(d.path().join("m.csv").as_path())
    );
    let g = with(r#"{ kind = "file", path = "m.csv", ranks = [1, 3] }"#).unwrap();
    let ks: Vec<usize> = g
        .instances(Shard::ALL)
        .iter()
        .map(|i| i.experiment.k)
        .collect();
    assert_eq!(ks, [1, 3]);
    let rows = run(&g, Shard::ALL, 1, &|| {}).unwrap();
    assert!(rows.iter().all(|r| r.error.is_none() && r.iterations == 5));
    // Replayed on its own, reading the file again.
    let again = run_instance(&rows[1].instance(), None);
    assert_eq!(again, rows[1]);
    let e = with(r#"{ kind = "file", path = "m.csv", ranks = [4] }"#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("data[0]: rank 4 is impossible for the 4×3 matrix"),
        "{e}"
    );
    std::fs::write(d.path().join("m.csv"), "1,2\n3,4\n").unwrap();
    let e = with(r#"{ kind = "file", path = "m.csv" }"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is 2×2, but no shape is 2×2"), "{e}");
}

#[test]
fn shards_parse_and_split_round_robin() {
    let s: Shard = "1/3".parse().unwrap();
    assert_eq!(s, Shard { index: 1, count: 3 });
    assert!(s.owns(1) && s.owns(4) && !s.owns(3));
    assert_eq!((0..10).filter(|&i| s.owns(i)).count(), s.size(10));
    assert_eq!(Shard { index: 0, count: 3 }.size(10), 4);
    assert_eq!(Shard { index: 2, count: 3 }.size(10), 3);
    for bad in ["3/3", "1", "a/2", "1/0", "-1/2", "1/2/3"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
    assert!("3/3"
        .parse::<Shard>()
        .unwrap_err()
        .contains("below the count 3"));
}

fn files_of(g: &Grid, shard: Shard, threads: usize) -> SweepFiles {
    let rows = run(g, shard, threads, &|| {}).unwrap();
    SweepFiles::new(g, shard, &rows)
}

fn write_dir(dir: &Path, f: &SweepFiles) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in f.named() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn results_are_byte_identical_for_any_thread_count_and_for_merged_shards() {
    let g = parse(SMALL).unwrap();
    let one = files_of(&g, Shard::ALL, 1);
    let two = files_of(&g, Shard::ALL, 2);
    assert_eq!(one, two);
    let lines = String::from_utf8(one.csv.clone()).unwrap();
    assert_eq!(lines.lines().count(), 49);
    let d = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (0..3).map(|i| d.path().join(format!("s{i}"))).collect();
    // Given in any order.
    for i in [2, 0, 1] {
        let s = Shard { index: i, count: 3 };
        write_dir(&dirs[i], &files_of(&g, s, 2));
    }
    let merged = files::merge(&[dirs[1].clone(), dirs[2].clone(), dirs[0].clone()]).unwrap();
    assert_eq!(merged, one);
    for ((name, a), (_, b)) in merged.named().iter().zip(one.named().iter()) {
        assert_eq!(a, b, "{name}");
    }
    // Merging a whole sweep on its own gives it back.
    let whole = d.path().join("whole");
    write_dir(&whole, &one);
    assert_eq!(files::merge(std::slice::from_ref(&whole)).unwrap(), one);

    // Errors: a missing shard, one given twice, shards of another grid.
    let e = files::merge(&dirs[..2]).unwrap_err().to_string();
    assert!(e.contains("shard 2/3 missing"), "{e}");
    let e = files::merge(&[dirs[0].clone(), dirs[1].clone(), dirs[1].clone()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("shard 1/3 given twice"), "{e}");
    let other = parse(&SMALL.replace("iters = 25", "iters = 26")).unwrap();
    let odd = d.path().join("other");
    write_dir(&odd, &files_of(&other, Shard { index: 2, count: 3 }, 1));
    let e = files::merge(&[dirs[0].clone(), dirs[1].clone(), odd])
        .unwrap_err()
        .to_string();
    assert!(e.contains("shards of different sweeps (grid"), "{e}");
    let e = files::merge(&[dirs[0].clone(), whole])
        .unwrap_err()
        .to_string();
    assert!(e.contains("different sweeps"), "{e}");
    // A truncated shard.
    let csv = dirs[2].join(files::RESULTS_CSV);
    let text = std::fs::read_to_string(&csv).unwrap();
    let cut: Vec<&str> = text.lines().collect();
    std::fs::write(&csv, cut[..cut.len() - 1].join("\n") + "\n").unwrap();
    let e = files::merge(&dirs).unwrap_err().to_string();
    assert!(e.contains("lacks instance"), "{e}");
}

#[test]
fn a_row_replays_exactly_from_what_it_records() {
    let g = parse(SMALL).unwrap();
    let rows = run(&g, Shard::ALL, 2, &|| {}).unwrap();
    let jsonl = files::results_jsonl(&rows);
    let text = String::from_utf8(jsonl).unwrap();
    for (i, line) in text.lines().enumerate().filter(|(i, _)| i % 7 == 3) {
        let back: SweepRow = serde_json::from_str(line).unwrap();
        assert_eq!(back, rows[i], "the JSON line reads back to the row");
        let again = run_instance(&back.instance(), None);
        assert_eq!(again, rows[i]);
        let out = back
            .instance()
            .run(|_| std::ops::ControlFlow::Continue(()))
            .unwrap();
        assert_eq!(
            out.fit.final_objective.to_bits(),
            rows[i].final_objective.unwrap().to_bits()
        );
    }
}

#[test]
fn the_csv_has_one_group_per_claim_and_n_a_where_a_claim_does_not_apply() {
    let g = parse(SMALL).unwrap();
    let rows = run(
        &g,
        Shard {
            index: 0,
            count: 24,
        },
        1,
        &|| {},
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    let cols = files::csv_columns();
    let names = claim_names();
    assert_eq!(names.len(), crate::Claim::all().len() + 2);
    assert_eq!(cols.len(), 25 + 5 * names.len());
    let bytes = files::results_csv(&rows);
    let mut rd = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, cols);
    let recs: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    let get =
        |r: &csv::StringRecord, c: &str| r[cols.iter().position(|x| x == c).unwrap()].to_string();
    // Instance 0 is MU: lemma2 applies, the floor does not; instance 24 is ε-MU: the reverse.
    assert_eq!(get(&recs[0], "solver"), "mu");
    assert_eq!(get(&recs[0], "eps"), "");
    assert_eq!(get(&recs[0], "lemma2_v.status"), "holds");
    assert_eq!(get(&recs[0], "floor_v.status"), "n/a");
    assert_eq!(get(&recs[0], "floor_v.worst_usage"), "n/a");
    assert_eq!(get(&recs[1], "solver"), "mu-eps");
    assert_eq!(get(&recs[1], "eps"), "1e-12");
    assert_eq!(get(&recs[1], "floor_u.status"), "holds");
    assert_eq!(get(&recs[1], "lemma2_v.status"), "n/a");
    assert_eq!(get(&recs[0], "stop"), "max_iterations");
    assert_eq!(get(&recs[0], "iterations"), "25");
    let fo: f64 = get(&recs[0], "final_objective").parse().unwrap();
    assert_eq!(fo.to_bits(), rows[0].final_objective.unwrap().to_bits());
    assert_eq!(Tally::of(&rows).failed, 0);
}

#[test]
fn a_sparse_draw_that_is_zero_everywhere_is_an_error_row_not_a_crash() {
    // 1×1 with density 1e-9: the single entry is dropped.
    let g = parse(
        "iters = 3\nshapes = [[1, 1, 1]]\ndata = [{ kind = \"sparse\", density = 1e-9 }]\nseeds = [0]\n[[solver]]\nname = \"mu\"\n",
    )
    .unwrap();
    let rows = run(&g, Shard::ALL, 1, &|| {}).unwrap();
    assert!(
        rows[0].error.as_deref().unwrap().contains("all zeros"),
        "{:?}",
        rows[0].error
    );
    assert_eq!(rows[0].worst_status(), crate::Status::NotExercised);
    assert_eq!(rows[0].claims[0].status, crate::Status::NotExercised);
    let t = Tally::of(&rows);
    assert_eq!((t.failed, t.not_exercised), (0, 1));
}

#[test]
fn clopper_pearson_matches_its_closed_forms() {
    let close = |a: f64, b: f64, rel: f64| (a - b).abs() <= rel * b.abs().max(1e-300);
    // 1 − c^{1/N} without cancellation.
    let one_minus_root = |c: f64, n: f64| -(c.ln() / n).exp_m1();
    // statrs' inverse of the regularised incomplete beta function is accurate to about 1e-8
    // relative here (5e-9 at 0 of 10 000): far below the digits a report prints.
    for n in [1usize, 10, 100, 10_000] {
        let nf = n as f64;
        // 0 of N: [0, 1 − (α/2)^{1/N}] two-sided, 1 − α^{1/N} one-sided.
        let (lo, hi) = clopper_pearson(0, n, 0.95).unwrap();
        assert_eq!(lo, 0.0);
        assert!(close(hi, one_minus_root(0.025, nf), 1e-7), "{n}: {hi}");
        let up = clopper_pearson_upper(0, n, 0.95).unwrap();
        assert!(close(up, one_minus_root(0.05, nf), 1e-7), "{n}: {up}");
        // N of N: [(α/2)^{1/N}, 1].
        let (lo, hi) = clopper_pearson(n, n, 0.95).unwrap();
        assert_eq!(hi, 1.0);
        assert!(close(lo, 0.025f64.powf(1.0 / nf), 1e-7), "{n}: {lo}");
    }
    // The issue's figures: 0 of 10 000 → < 3.0e-4 one-sided, 3.7e-4 two-sided.
    let up = clopper_pearson_upper(0, 10_000, 0.95).unwrap();
    assert_eq!(format!("{up:.1e}"), "3.0e-4");
    let (_, hi) = clopper_pearson(0, 10_000, 0.95).unwrap();
    assert_eq!(format!("{hi:.1e}"), "3.7e-4");
    // Symmetric: x of N mirrors N − x of N; 5 of 10 is [0.187086, 0.812914] (R's binom.test).
    for (x, n) in [(5usize, 10usize), (3, 17), (40, 100)] {
        let (lo, hi) = clopper_pearson(x, n, 0.95).unwrap();
        let (lo2, hi2) = clopper_pearson(n - x, n, 0.95).unwrap();
        assert!(
            close(lo, 1.0 - hi2, 1e-9) && close(hi, 1.0 - lo2, 1e-9),
            "{x}/{n}"
        );
    }
    let (lo, hi) = clopper_pearson(5, 10, 0.95).unwrap();
    assert!(
        (lo - 0.187086).abs() < 1e-6 && (hi - 0.812914).abs() < 1e-6,
        "{lo} {hi}"
    );
    assert!(clopper_pearson(0, 0, 0.95).is_none());
}

#[test]
fn student_t_and_quantiles_match_known_values() {
    let t = student_t_quantile(0.975, 9.0).unwrap();
    assert!((t - 2.262_157_162_740_99).abs() < 1e-9, "{t}");
    // 1..=10: mean 5.5, s = √(55/6), half-width t·s/√10.
    let ys: Vec<f64> = (1..=10).map(f64::from).collect();
    let m = stats::mean_interval(&ys, 0.95).unwrap();
    assert_eq!(m.mean, 5.5);
    let want = 2.262_157_162_740_99 * (55.0f64 / 6.0).sqrt() / 10f64.sqrt();
    assert!((m.half_width - want).abs() < 1e-9, "{}", m.half_width);
    assert!(stats::mean_interval(&[1.0], 0.95).is_none());
    let s = [1.0, 2.0, 3.0, 4.0, 10.0];
    assert_eq!(quantile(&s, 0.5), Some(3.0));
    assert!((quantile(&s, 0.9).unwrap() - 7.6).abs() < 1e-12);
    assert_eq!(quantile(&s, 0.0), Some(1.0));
    assert_eq!(quantile(&s, 1.0), Some(10.0));
    let q = stats::Quantiles::of(&[f64::INFINITY, 0.5, -2.0]).unwrap();
    assert_eq!((q.min, q.median, q.max), (-2.0, 0.5, f64::INFINITY));
}

#[test]
fn the_summary_counts_per_solver_and_claim() {
    let g = parse(SMALL).unwrap();
    let rows = run(&g, Shard::ALL, 2, &|| {}).unwrap();
    let s = stats::summarize(&rows);
    assert_eq!(s.instances, 48);
    assert_eq!(s.solvers.len(), 2);
    assert_eq!(s.solvers[0].instances, 24);
    let obj = s
        .claims
        .iter()
        .find(|c| c.claim == "objective_non_increasing" && c.solver == "MU")
        .unwrap();
    assert_eq!((obj.instances, obj.violations), (24, 0));
    let (lo, hi) = obj.rate.unwrap();
    assert_eq!(lo, 0.0);
    assert!((hi - (1.0 - 0.025f64.powf(1.0 / 24.0))).abs() < 1e-12);
    assert!(obj.usage.unwrap().max <= 1.0);
    // Only declared claims: no floor for MU, no Lemma 2 for ε-MU.
    assert!(!s
        .claims
        .iter()
        .any(|c| c.solver == "MU" && c.claim.starts_with("floor")));
    assert!(!s
        .claims
        .iter()
        .any(|c| c.solver.starts_with("ε-MU") && c.claim.starts_with("lemma2")));
    let t = crate::tables::sweep_claims(&s.claims);
    assert_eq!(t.rows.len(), s.claims.len());
    assert!(t
        .to_markdown()
        .contains("| MU | `objective_non_increasing` | 24 | 0 |"));
}
