//! `nmf-book-gen`: writes the evidence the book shows, from the project's own code, when the book
//! is built (`scripts/book.sh`). Nothing here computes a formula of the proof: every number is a
//! field of an [`Outcome`], a [`Verdict`](nmf_core::claims::Verdict) or an [`ExactReport`] made by `nmf-core`, or a count or
//! extreme over a trace column; every figure comes from `nmf-plot`. This file only runs pinned
//! experiments and formats what they return as markdown and HTML snippets.
//!
//! Output (all of it regenerated on every build, none of it committed):
//! - `OUT/facts.md`: single values quoted in the prose, each between `ANCHOR` comments so that a
//!   chapter includes it inline with `{{#include generated/facts.md:name}}`;
//! - `OUT/<run>-summary.md`, `OUT/<run>-claims.md`, `OUT/<run>-events.md` for each pinned run;
//! - `OUT/fig-<run>-<figure>.md`: a plotly figure as an HTML snippet (`Plot::to_inline_html`);
//! - `OUT/exact.md`: the exact rational check;
//! - `VENDOR/plotly.min.js`: plotly.js as shipped inside the `plotly` crate (book.toml loads it
//!   with `additional-js`, so reading the book needs no network).

use std::fmt::Display;
use std::fmt::Write as _;
use std::fs;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

mod bounds;
mod includes;
mod sweep;
mod zeros;
use nmf_core::exact::{self, ExactParams, ExactReport};
use nmf_core::experiment::DEFAULT_SEED;
use nmf_core::ndarray::Array2;
use nmf_core::tables;
use nmf_core::trace::Half;
use nmf_core::{DataKind, Dims, EventKind, Experiment, Outcome, Record, Status, Trace};
use nmf_core::{HalsAccel, InitKind, LinMu, MuEps, SolverSpec};

/// Regenerate the book's evidence (tables, facts, figures) from pinned seeds.
#[derive(Parser, Debug)]
#[command(name = "nmf-book-gen", version, about)]
struct Args {
    /// Directory for the generated markdown and figure snippets.
    #[arg(long, default_value = "book/src/generated")]
    out: PathBuf,
    /// Directory for plotly.min.js (referenced by book.toml's `additional-js`).
    #[arg(long, default_value = "book/vendor")]
    vendor: PathBuf,
    /// Generate nothing: check that every `{{#include}}` of the book under this source
    /// directory resolves (file, anchor, line range), and exit non-zero if one does not.
    #[arg(long, value_name = "SRC")]
    check_includes: Option<PathBuf>,
}

/// Iterations of the long run (the note's experiment continued ten times as long).
// ANCHOR: long_iters
const LONG_ITERS: usize = 100_000;
// ANCHOR_END: long_iters

/// The long run's figures draw every this many rows (a figure of 10⁵ points per curve would
/// weigh tens of megabytes); its claims and facts use every row.
const LONG_PLOT_EVERY: usize = 10;

/// The entry (0-based row, column) of the initial V that the `locked` run sets to exactly 0.
// ANCHOR: locked_entry
const LOCKED_ENTRY: (usize, usize) = (0, 0);
// ANCHOR_END: locked_entry

/// The exact check the book reports: the same as `nmf-lab verify-exact` with its defaults.
// ANCHOR: exact_params
fn exact_params() -> ExactParams {
    ExactParams::default()
}

/// The same check of ε-MU's step, with a floor (¼) its rational iterates do reach.
fn exact_eps_params() -> ExactParams {
    ExactParams {
        solver: SolverSpec::MuEps { eps: 0.25 },
        ..exact_params()
    }
}
// ANCHOR_END: exact_params

/// A pinned run shown in the book.
struct RunSpec {
    /// File-name prefix and anchor prefix.
    name: &'static str,
    experiment: Experiment,
    /// Draw every `plot_every`-th row in the figures (all rows are checked and tabulated).
    plot_every: usize,
    /// How the run's data and initial factors differ from the experiment's own draws.
    start: Start,
}

/// Where a pinned run's data and initial factors come from.
enum Start {
    /// The experiment's own draws.
    Drawn,
    /// The experiment's draws with this (0-based) entry of the initial V set to exactly 0:
    /// zero locking imposed by the start.
    LockV(usize, usize),
    /// A data file of the workspace (its path and contents), with the seeded start the CLI's
    /// `run --data FILE --seed S` uses for it.
    File(&'static str, &'static str),
}

/// The block data of notebook 04: a uniform 15×8 matrix with two diagonal blocks kept and
/// everything else 0 (embedded at compile time, so the generator reads no file at run time).
// ANCHOR: block_data
const BLOCK_FILE: &str = "notebooks/data/block-15x8.csv";
const BLOCK_CSV: &str = include_str!("../../../notebooks/data/block-15x8.csv");
// ANCHOR_END: block_data

impl RunSpec {
    /// Run the experiment from its start and check every claim.
    fn execute(&self) -> Result<Outcome, String> {
        let err = |e: nmf_core::NmfError| format!("run {}: {e}", self.name);
        let (data, init) = match self.start {
            Start::Drawn => return self.experiment.run().map_err(err),
            Start::LockV(z, i) => {
                let (data, mut init) = self.experiment.instance();
                init.v[[z, i]] = 0.0;
                (data, init)
            }
            Start::File(path, text) => {
                let data = nmf_core::io::parse_matrix(text, Path::new(path)).map_err(err)?;
                let init = self.experiment.start_for(&data);
                (data, init)
            }
        };
        self.experiment
            .run_on(data, init, |_| ControlFlow::Continue(()))
            .map_err(err)
    }
}

// ANCHOR: runs
/// `e` with ε-MU at Gillis and Glineur's ε = 1e-16.
fn mu_eps(e: Experiment) -> Experiment {
    Experiment {
        solver: SolverSpec::MuEps {
            eps: MuEps::DEFAULT_EPS,
        },
        ..e
    }
}

fn runs() -> Vec<RunSpec> {
    let default = Experiment {
        seed: DEFAULT_SEED,
        ..Experiment::default()
    };
    vec![
        RunSpec {
            name: "default",
            experiment: default.clone(),
            plot_every: 1,
            start: Start::Drawn,
        },
        RunSpec {
            name: "planted",
            experiment: default.clone().planted(),
            plot_every: 1,
            start: Start::Drawn,
        },
        RunSpec {
            name: "long",
            experiment: Experiment::note(DEFAULT_SEED, LONG_ITERS),
            plot_every: LONG_PLOT_EVERY,
            start: Start::Drawn,
        },
        RunSpec {
            name: "locked",
            experiment: default.clone(),
            plot_every: 1,
            start: Start::LockV(LOCKED_ENTRY.0, LOCKED_ENTRY.1),
        },
        RunSpec {
            // As `nmf-lab reproduce --solver mu-eps`.
            name: "eps",
            experiment: mu_eps(default.clone()),
            plot_every: 1,
            start: Start::Drawn,
        },
        RunSpec {
            // The locked start of the `locked` run, under Lin's modified MU.
            name: "lin-locked",
            experiment: Experiment {
                solver: SolverSpec::MuLin {
                    sigma: LinMu::default().sigma,
                    delta: LinMu::default().delta,
                },
                ..default.clone()
            },
            plot_every: 1,
            start: Start::LockV(LOCKED_ENTRY.0, LOCKED_ENTRY.1),
        },
        RunSpec {
            // As `nmf-lab reproduce --solver hals --init scaled`.
            name: "hals",
            experiment: Experiment {
                solver: SolverSpec::Hals {
                    eps: MuEps::DEFAULT_EPS,
                },
                init: InitKind::Scaled,
                ..default.clone()
            },
            plot_every: 1,
            start: Start::Drawn,
        },
        RunSpec {
            // As `nmf-lab reproduce --solver hals-accel --init scaled`.
            name: "hals-accel",
            experiment: Experiment {
                solver: SolverSpec::HalsAccel {
                    eps: MuEps::DEFAULT_EPS,
                    alpha: HalsAccel::DEFAULT_ALPHA,
                    delta: HalsAccel::DEFAULT_DELTA,
                },
                init: InitKind::Scaled,
                ..default.clone()
            },
            plot_every: 1,
            start: Start::Drawn,
        },
        RunSpec {
            // The locked start of the `locked` run, under ε-MU.
            name: "eps-locked",
            experiment: mu_eps(default),
            plot_every: 1,
            start: Start::LockV(LOCKED_ENTRY.0, LOCKED_ENTRY.1),
        },
        RunSpec {
            // As notebook 04 and `nmf-lab run --data notebooks/data/block-15x8.csv --rank 5
            // --seed 0 --iters 5000`.
            name: "block",
            experiment: Experiment::note(0, 5000),
            plot_every: 1,
            start: Start::File(BLOCK_FILE, BLOCK_CSV),
        },
    ]
}
// ANCHOR_END: runs

/// Values quoted in the prose, in mdBook's anchor format.
#[derive(Default)]
struct Facts(String);

impl Facts {
    fn add(&mut self, name: &str, value: impl Display) {
        let _ = write!(
            self.0,
            "<!-- ANCHOR: {name} -->\n{value}\n<!-- ANCHOR_END: {name} -->\n"
        );
    }
}

/// Scientific notation with four significant digits, as the tables print it.
fn sci(x: f64) -> String {
    format!("{x:.3e}")
}

/// Four significant digits for prose: plain decimals from 10⁻³ to 10⁵, otherwise
/// `m × 10ⁿ` with a Unicode superscript exponent (the text is read, not parsed).
fn pretty(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let s = sci(x);
    let (mantissa, exp) = s.split_once('e').expect("`{:e}` output has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    if (-3..=4).contains(&exp) {
        return format!("{x:.prec$}", prec = (3 - exp).max(0) as usize);
    }
    format!("{mantissa} × 10{}", superscript(exp))
}

/// An integer as Unicode superscript digits (for exponents in prose).
fn superscript(e: i32) -> String {
    e.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            d => ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'][d as usize - '0' as usize],
        })
        .collect()
}

fn opt_pretty(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), pretty)
}

fn never(x: Option<usize>) -> String {
    x.map_or_else(|| "never".into(), |i| i.to_string())
}

fn data_label(kind: DataKind) -> &'static str {
    match kind {
        DataKind::Random => "random: M uniform on [0, 1)",
        DataKind::Planted => "planted: M = U₀ diag(d) V₀, exactly of rank ≤ k",
        DataKind::Halfnormal => "half-normal: M = |Z|, Z standard normal",
        DataKind::Sparse { .. } => "sparse: M uniform on [0, 1), entries kept with a density",
    }
}

/// The defined values of one quantity (undefined ones, e.g. θ at a zero step, are skipped).
fn defined(trace: &Trace, field: impl Fn(&Record) -> Option<f64>) -> Vec<f64> {
    trace.series(field).into_iter().flatten().collect()
}

fn min_of(v: &[f64]) -> Option<f64> {
    v.iter().copied().reduce(f64::min)
}

fn max_of(v: &[f64]) -> Option<f64> {
    v.iter().copied().reduce(f64::max)
}

fn summary_md(spec: &RunSpec, o: &Outcome, secs: f64) -> String {
    let e = &o.experiment;
    let fit = &o.fit;
    let t = &fit.trace;
    let direct = t.rows.iter().filter(|r| r.objective_direct).count();
    let held = o.claims.iter().filter(|v| v.holds()).count();
    let mut s = String::new();
    let _ = writeln!(s, "| run `{}` | |\n|---|---|", spec.name);
    let rows: Vec<(&str, String)> = vec![
        (
            "data",
            match spec.start {
                Start::File(path, _) => format!("{}×{}, the file `{path}`", e.m, e.n),
                _ => format!("{}×{}, {}", e.m, e.n, data_label(e.data)),
            },
        ),
        ("rank k", e.k.to_string()),
        ("seed", e.seed.to_string()),
        (
            "initial factors",
            match spec.start {
                Start::Drawn | Start::File(..) => {
                    "the note's draws: U uniform on [0, 1), V uniform on [1, 2)".into()
                }
                Start::LockV(z, i) => format!(
                    "the note's draws, then V at row {}, column {} set to exactly 0",
                    z + 1,
                    i + 1
                ),
            },
        ),
        ("solver", format!("`{}`", t.solver)),
        ("iterations requested", e.params.max_iter.to_string()),
        ("rows recorded", t.rows.len().to_string()),
        ("stop", fit.stop.to_string()),
        (
            "objective f at the first row",
            t.rows.first().map_or("—".into(), |r| sci(r.objective)),
        ),
        ("final objective f", sci(fit.final_objective)),
        (
            "KKT residual at the first row",
            t.rows.first().map_or("—".into(), |r| sci(r.kkt)),
        ),
        ("final KKT residual", sci(fit.final_kkt)),
        (
            "objective column evaluated directly",
            format!("{direct} of {} rows (the others by the Gram trick)", t.rows.len()),
        ),
        (
            "events",
            format!(
                "{} underflow, {} zero reached; the note's square-root form undefined from iteration {}; {}",
                t.count_events(EventKind::Underflow),
                t.count_events(EventKind::ZeroReached),
                never(t.first_event(EventKind::NoteFormUndefined).map(|x| x.iter)),
                t.first_event(EventKind::Unresolved).map_or_else(
                    || "no half-step unresolved".to_string(),
                    |x| format!("half-step sums unresolved from iteration {}", x.iter)
                ),
            ),
        ),
        (
            "claims that hold / fail / are not exercised",
            format!(
                "{held} / {} / {} of {}",
                count_status(o, Status::Fails),
                count_status(o, Status::NotExercised),
                o.claims.len()
            ),
        ),
        ("run time (release build, this machine)", format!("{secs:.2} s")),
    ];
    for (k, v) in rows {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    s
}

fn count_status(o: &Outcome, s: Status) -> usize {
    o.claims.iter().filter(|v| v.status == s).count()
}

/// Every claim of a run ([`tables::claims`]), every column but the violations (a claim that
/// fails says so in its verdict, and its worst row is listed).
fn claims_md(o: &Outcome) -> String {
    tables::claims(&o.claims)
        .select(&[
            "claim",
            "statement",
            "verdict",
            "checked",
            "skipped",
            "unresolved",
            "worst_iteration",
            "value",
            "tolerance",
            "usage",
        ])
        .to_markdown()
}

/// The first events of a run ([`tables::events`]; there can be many in a long run).
fn events_md(o: &Outcome, limit: usize) -> String {
    let ev = &o.fit.trace.events;
    if ev.is_empty() {
        return tables::NO_EVENTS.into();
    }
    let mut s = tables::events(ev)
        .head(limit)
        .select(&["iteration", "event", "factor", "entries", "first_entry"])
        .to_markdown();
    if ev.len() > limit {
        let _ = writeln!(
            s,
            "\n({} events in all; the first {limit} are listed.)",
            ev.len()
        );
    }
    s
}

/// Facts about one run that the prose quotes.
fn run_facts(f: &mut Facts, name: &str, o: &Outcome) {
    let e = &o.experiment;
    let t = &o.fit.trace;
    let p = |s: &str| format!("{name}-{s}");
    f.add(&p("seed"), e.seed);
    f.add(&p("m"), e.m);
    f.add(&p("n"), e.n);
    f.add(&p("k"), e.k);
    f.add(&p("iters"), e.params.max_iter);
    f.add(&p("rows"), t.rows.len());
    f.add(&p("stop"), &o.fit.stop);
    f.add(&p("final-objective"), pretty(o.fit.final_objective));
    f.add(&p("final-kkt"), pretty(o.fit.final_kkt));
    f.add(
        &p("final-kkt-floor"),
        o.fit.final_kkt_floor.map_or("—".into(), pretty),
    );
    // Passes per half-step (1 but for accelerated HALS): the mean over the run, and the most.
    for (half, passes) in [
        ("v", t.series(|r| Some(r.v.sweeps as f64))),
        ("u", t.series(|r| Some(r.u.sweeps as f64))),
    ] {
        let n = passes.len().max(1) as f64;
        let sum: f64 = passes.iter().flatten().sum();
        f.add(
            &p(&format!("mean-passes-{half}")),
            format!("{:.2}", sum / n),
        );
        f.add(
            &p(&format!("max-passes-{half}")),
            passes.iter().flatten().fold(0.0_f64, |a, &b| a.max(b)),
        );
    }
    f.add(
        &p("first-kkt"),
        t.rows.first().map_or("—".into(), |r| pretty(r.kkt)),
    );
    f.add(
        &p("claims-held"),
        format!(
            "{} of {}",
            o.claims.iter().filter(|v| v.holds()).count(),
            o.claims
                .iter()
                .filter(|v| v.status != Status::NotApplicable)
                .count()
        ),
    );
    let underflow = t.first_event(EventKind::Underflow);
    f.add(&p("first-underflow"), never(underflow.map(|x| x.iter)));
    f.add(
        &p("first-underflow-where"),
        underflow.map_or("—".into(), |x| {
            format!("{} at row {}, column {}", x.factor, x.row, x.col)
        }),
    );
    f.add(&p("underflow-events"), t.count_events(EventKind::Underflow));
    f.add(
        &p("first-unresolved"),
        never(t.first_event(EventKind::Unresolved).map(|x| x.iter)),
    );
    f.add(&p("zero-events"), t.count_events(EventKind::ZeroReached));
    f.add(
        &p("first-zero"),
        never(t.first_event(EventKind::ZeroReached).map(|x| x.iter)),
    );
    f.add(
        &p("note-nan"),
        never(t.first_event(EventKind::NoteFormUndefined).map(|x| x.iter)),
    );
    f.add(
        &p("note-nan-rows"),
        t.rows
            .iter()
            .filter(|r| r.note.sqrt_inner_v.is_none())
            .count(),
    );
    // Signs: the exact decrease of a half-step is ≥ ½‖UΔV‖² ≥ 0; how often does each way of
    // computing it say otherwise?
    f.add(
        &p("note-decrease-nonpos"),
        t.rows
            .iter()
            .filter(|r| r.note.difference_decrease_v.is_some_and(|d| d <= 0.0))
            .count(),
    );
    f.add(
        &p("first-note-decrease-nonpos"),
        never(
            t.rows
                .iter()
                .find(|r| r.note.difference_decrease_v.is_some_and(|d| d <= 0.0))
                .map(|r| r.iter),
        ),
    );
    f.add(
        &p("decrease-nonpos"),
        t.rows.iter().filter(|r| r.v.decrease <= 0.0).count(),
    );
    f.add(
        &p("min-decrease-v"),
        opt_pretty(min_of(&defined(t, |r| Some(r.v.decrease)))),
    );
    f.add(
        &p("max-note-vtv-min"),
        opt_pretty(max_of(&defined(t, |r| r.note.vtv_eig_min))),
    );
    f.add(
        &p("min-eig-vvt-min"),
        opt_pretty(min_of(&defined(t, |r| Some(r.u.eig_min)))),
    );
    f.add(
        &p("min-eig-utu-min"),
        opt_pretty(min_of(&defined(t, |r| Some(r.v.eig_min)))),
    );
    for (col, half) in [("k_ratio_v", Half::V), ("k_ratio_u", Half::U)] {
        let v = defined(t, |r| r.half(half).mu.k_ratio);
        let c = col.replace('_', "-");
        f.add(
            &p(&format!("min-{c}")),
            format!("{:.4}", min_of(&v).unwrap_or(f64::NAN)),
        );
        f.add(
            &p(&format!("max-{c}")),
            format!("{:.4}", max_of(&v).unwrap_or(f64::NAN)),
        );
    }
    f.add(
        &p("theta-v-undefined"),
        t.rows.iter().filter(|r| r.v.theta.is_none()).count(),
    );
    f.add(
        &p("direct-rows"),
        t.rows.iter().filter(|r| r.objective_direct).count(),
    );
    for (which, a) in [("u", &o.fit.factors.u), ("v", &o.fit.factors.v)] {
        matrix_facts(f, &p(&format!("final-{which}")), a);
    }
    if let Some(last) = t.rows.last() {
        f.add(&p("last-iter"), last.iter);
        f.add(&p("last-dv-sq"), pretty(last.v.delta_sq));
        f.add(&p("last-du-sq"), pretty(last.u.delta_sq));
        f.add(&p("last-kkt"), pretty(last.kkt));
        f.add(&p("last-kkt-v"), pretty(last.v.kkt));
        f.add(&p("last-kkt-u"), pretty(last.u.kkt));
        f.add(&p("last-decrease-v"), pretty(last.v.decrease));
        f.add(
            &p("last-note-decrease-v"),
            opt_pretty(last.note.difference_decrease_v),
        );
        f.add(&p("last-objective"), pretty(last.objective));
        f.add(&p("last-subnormal"), last.u.subnormal + last.v.subnormal);
        f.add(&p("last-zeros"), last.u.zeros + last.v.zeros);
    }
}

/// Smallest positive entry, and counts of exact zeros and subnormal entries, of a factor.
fn matrix_facts(f: &mut Facts, prefix: &str, a: &Array2<f64>) {
    let min_pos = a.iter().copied().filter(|x| *x > 0.0).reduce(f64::min);
    f.add(&format!("{prefix}-min-positive"), opt_pretty(min_pos));
    f.add(
        &format!("{prefix}-zeros"),
        a.iter().filter(|x| **x == 0.0).count(),
    );
    f.add(
        &format!("{prefix}-subnormal"),
        a.iter().filter(|x| x.is_subnormal()).count(),
    );
}

fn exact_md(p: &ExactParams, r: &ExactReport, secs: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| exact check | |\n|---|---|\n\
         | instances (seed {}) | {} random, m and n in 2..={}, k in 1..=min(m, n) |\n\
         | MU iterations per instance | {} (each a V and a U half-step) |\n\
         | half-steps verified | {} |\n\
         | half-steps where MU was undefined (zero denominator) | {} |\n\
         | identities and inequalities checked | {} |\n\
         | mismatches | {} |\n\
         | run time (release build, this machine) | {secs:.2} s |",
        p.seed,
        r.instances,
        p.max_dim,
        p.steps,
        r.half_steps,
        r.undefined_steps,
        r.identities,
        r.mismatches.len(),
    );
    if !r.mismatches.is_empty() {
        s.push_str("\n| instance | iteration | half-step | identity | lhs | rhs |\n|---|---|---|---|---|---|\n");
        for m in r.mismatches.iter().take(20) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                m.trial, m.iter, m.half, m.identity, m.lhs, m.rhs
            );
        }
    }
    s
}

/// The plotly.js version from the banner of the bundled file.
fn plotly_version(js: &str) -> String {
    js.split("plotly.js v")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("unknown")
        .to_string()
}

/// The figures of a run, under the short names the chapters include them by.
fn figures(trace: &Trace, d: Dims) -> Vec<(&'static str, plotly::Plot)> {
    vec![
        ("note", nmf_plot::note_figure(trace)),
        ("theta", nmf_plot::theta_figure(trace)),
        ("decrease", nmf_plot::decrease_split_figure(trace)),
        ("residuals", nmf_plot::identity_residuals_figure(trace, d)),
        ("kkt", nmf_plot::kkt_events_figure(trace)),
    ]
}

/// Every `every`-th row of a trace, for drawing only. The events are kept: the KKT figure
/// places each marker at its event's iteration, not at a row offset, so thinning moves none.
fn thinned(trace: &Trace, every: usize) -> Trace {
    if every <= 1 {
        return trace.clone();
    }
    Trace {
        solver: trace.solver.clone(),
        rows: trace.rows.iter().step_by(every).cloned().collect(),
        events: trace.events.clone(),
    }
}

/// A figure as an HTML snippet for mdBook. mdbook-katex treats `$` as a math delimiter even
/// inside raw HTML, so any `$` in the figure's JSON is written as the equivalent JSON escape.
fn figure_snippet(plot: &plotly::Plot, id: &str) -> String {
    let html = plot.to_inline_html(Some(id)).replace('$', "\\u0024");
    format!("<div class=\"nmf-figure\">\n{html}\n</div>\n")
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(src) = &args.check_includes {
        return check_includes(src);
    }
    match generate(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nmf-book-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check_includes(src: &Path) -> ExitCode {
    match includes::check_book(src, false) {
        Ok(r) => {
            for p in &r.problems {
                eprintln!("nmf-book-gen: include FAIL {p}");
            }
            println!(
                "nmf-book-gen: {} chapters, {} includes checked, {} problem(s)",
                r.chapters,
                r.includes,
                r.problems.len()
            );
            if r.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("nmf-book-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(args: &Args) -> Result<(), String> {
    fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    fs::create_dir_all(&args.vendor)
        .map_err(|e| format!("cannot create {}: {e}", args.vendor.display()))?;
    let mut facts = Facts::default();
    facts.add("default-seed-const", DEFAULT_SEED);
    facts.add("long-iters-const", LONG_ITERS);
    facts.add("long-plot-every", LONG_PLOT_EVERY);
    facts.add(
        "locked-entry",
        format!("({}, {})", LOCKED_ENTRY.0 + 1, LOCKED_ENTRY.1 + 1),
    );
    // The smallest positive (subnormal) double, 2⁻¹⁰⁷⁴, and the smallest normal one.
    facts.add("min-subnormal", pretty(f64::from_bits(1)));
    facts.add("min-normal", pretty(f64::MIN_POSITIVE));

    let mut all_hold = true;
    for spec in runs() {
        let t0 = Instant::now();
        let o = spec.execute()?;
        let secs = t0.elapsed().as_secs_f64();
        eprintln!(
            "nmf-book-gen: run {} ({} rows) in {secs:.2} s",
            spec.name,
            o.fit.trace.rows.len()
        );
        // Every claim of the run's solver checked and held (others are not applicable).
        all_hold &= nmf_core::all_hold(&o.claims) == Some(true);
        let dir = &args.out;
        write(
            &dir.join(format!("{}-summary.md", spec.name)),
            &summary_md(&spec, &o, secs),
        )?;
        write(
            &dir.join(format!("{}-claims.md", spec.name)),
            &claims_md(&o),
        )?;
        write(
            &dir.join(format!("{}-events.md", spec.name)),
            &events_md(&o, 15),
        )?;
        run_facts(&mut facts, spec.name, &o);
        match spec.start {
            // The zero-locking analysis is of plain MU (under ε-MU the entry does not stay 0).
            Start::LockV(z, i) if o.experiment.solver == SolverSpec::Mu => {
                for (name, value) in zeros::locked_facts(&o, (z, i))? {
                    facts.add(&name, value);
                }
            }
            Start::File(..) => {
                let (table, block_facts) = zeros::block_denominator(&o)?;
                write(&dir.join(format!("{}-denominator.md", spec.name)), &table)?;
                for (name, value) in block_facts {
                    facts.add(&name, value);
                }
            }
            Start::Drawn | Start::LockV(..) => {}
        }
        let t1 = Instant::now();
        let shown = thinned(&o.fit.trace, spec.plot_every);
        for (fig, plot) in figures(&shown, o.experiment.dims()) {
            let id = format!("fig-{}-{fig}", spec.name);
            write(&dir.join(format!("{id}.md")), &figure_snippet(&plot, &id))?;
        }
        eprintln!(
            "nmf-book-gen: figures of {} in {:.2} s",
            spec.name,
            t1.elapsed().as_secs_f64()
        );
    }

    let t0 = Instant::now();
    let points = sweep::run_sweep()?;
    let sw = sweep::report(&points)?;
    write(&args.out.join("sweep.md"), &sw.table)?;
    for (name, value) in &sw.facts {
        facts.add(name, value);
    }
    write(
        &args.out.join("fig-sweep.md"),
        &figure_snippet(&sw.figure, "fig-sweep"),
    )?;
    eprintln!(
        "nmf-book-gen: scale sweep ({} runs) in {:.2} s",
        points.len(),
        t0.elapsed().as_secs_f64()
    );

    let t0 = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (grid, rows) = bounds::run(threads)?;
    let b = bounds::report(&grid, &rows);
    write(&args.out.join("bounds-claims.md"), &b.claims_table)?;
    write(&args.out.join("bounds-solvers.md"), &b.solvers_table)?;
    for (name, value) in &b.facts {
        facts.add(name, value);
    }
    for (id, plot) in &b.figures {
        write(
            &args.out.join(format!("{id}.md")),
            &figure_snippet(plot, id),
        )?;
    }
    eprintln!(
        "nmf-book-gen: pinned sweep {} ({} instances, {threads} threads) in {:.2} s",
        bounds::GRID,
        rows.len(),
        t0.elapsed().as_secs_f64()
    );

    let t0 = Instant::now();
    let params = exact_params();
    let rep = exact::verify(params).map_err(|e| format!("exact check: {e}"))?;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!("nmf-book-gen: exact check in {secs:.2} s");
    write(&args.out.join("exact.md"), &exact_md(&params, &rep, secs))?;
    facts.add("exact-instances", rep.instances);
    facts.add("exact-half-steps", rep.half_steps);
    facts.add("exact-identities", rep.identities);
    facts.add("exact-mismatches", rep.mismatches.len());
    facts.add("exact-undefined", rep.undefined_steps);
    facts.add("exact-trials", params.trials);
    facts.add("exact-seed", params.seed);
    facts.add("exact-steps", params.steps);
    facts.add("exact-max-dim", params.max_dim);
    let rate = nmf_core::rate::fixed_u_experiment(21, 15, 8, 4, 3000);
    facts.add("rate-predicted", format!("{:.9}", rate.predicted));
    facts.add(
        "rate-observed",
        rate.observed
            .map_or("— (no window above the floor)".into(), |r| {
                format!("{r:.9}")
            }),
    );
    facts.add("rate-certified", if rate.certified { "yes" } else { "NO" });
    facts.add("rate-steps", rate.steps);
    let cert = exact::stall_certificate();
    facts.add(
        "stall-fixed-point",
        if cert.fixed_point { "yes" } else { "NO" },
    );
    facts.add("stall-gradient", &cert.gradient_at_zero);
    facts.add(
        "stall-zero-at",
        format!("({}, {})", cert.zero_at.0, cert.zero_at.1),
    );
    facts.add("stall-kkt-sq", &cert.kkt_sq);
    let matrix_tex = |rows: &Vec<Vec<String>>| {
        let body: Vec<String> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|x| match x.split_once('/') {
                        Some((p, q)) => format!("\\tfrac{{{p}}}{{{q}}}"),
                        None => x.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(" & ")
            })
            .collect();
        format!("\\begin{{pmatrix}}{}\\end{{pmatrix}}", body.join(" \\\\ "))
    };
    facts.add("stall-m", matrix_tex(&cert.m));
    facts.add("stall-u", matrix_tex(&cert.u));
    facts.add("stall-v", matrix_tex(&cert.v));
    let hals_params = ExactParams {
        solver: SolverSpec::Hals { eps: 0.25 },
        ..exact_params()
    };
    let rep_hals = exact::verify(hals_params).map_err(|e| format!("exact check of HALS: {e}"))?;
    facts.add("exact-hals-half-steps", rep_hals.half_steps);
    facts.add("exact-hals-identities", rep_hals.identities);
    facts.add("exact-hals-mismatches", rep_hals.mismatches.len());
    facts.add("exact-hals-floored", rep_hals.floored);
    let accel_params = ExactParams {
        solver: SolverSpec::HalsAccel {
            eps: 0.25,
            alpha: HalsAccel::DEFAULT_ALPHA,
            delta: HalsAccel::DEFAULT_DELTA,
        },
        ..exact_params()
    };
    let rep_accel =
        exact::verify(accel_params).map_err(|e| format!("exact check of accelerated HALS: {e}"))?;
    facts.add("exact-hals-accel-half-steps", rep_accel.half_steps);
    facts.add("exact-hals-accel-identities", rep_accel.identities);
    facts.add("exact-hals-accel-mismatches", rep_accel.mismatches.len());
    facts.add("exact-hals-accel-floored", rep_accel.floored);
    facts.add("exact-hals-accel-multi-pass", rep_accel.multi_pass);
    let lin_params = ExactParams {
        solver: SolverSpec::MuLin {
            sigma: 0.25,
            delta: 1.0 / 64.0,
        },
        ..exact_params()
    };
    let rep_lin = exact::verify(lin_params).map_err(|e| format!("exact check of Lin's MU: {e}"))?;
    facts.add("exact-lin-half-steps", rep_lin.half_steps);
    facts.add("exact-lin-identities", rep_lin.identities);
    facts.add("exact-lin-mismatches", rep_lin.mismatches.len());
    facts.add("exact-lin-lifted", rep_lin.floored);
    let rep_eps =
        exact::verify(exact_eps_params()).map_err(|e| format!("exact check of ε-MU: {e}"))?;
    facts.add("exact-eps-half-steps", rep_eps.half_steps);
    facts.add("exact-eps-identities", rep_eps.identities);
    facts.add("exact-eps-mismatches", rep_eps.mismatches.len());
    facts.add("exact-eps-floored", rep_eps.floored);
    facts.add(
        "exact-eps",
        match exact_eps_params().solver {
            SolverSpec::MuEps { eps } => eps,
            other => unreachable!("the ε-MU check runs ε-MU, not {other:?}"),
        },
    );

    let js = nmf_plot::plotly_js();
    facts.add("plotly-js-version", plotly_version(js));
    write(&args.vendor.join("plotly.min.js"), js)?;
    facts.add("book-gen-version", env!("CARGO_PKG_VERSION"));
    write(&args.out.join("facts.md"), &facts.0)?;

    if !all_hold
        || !rep.ok()
        || !rep_eps.ok()
        || !rep_hals.ok()
        || !rep_accel.ok()
        || !rep_lin.ok()
        || !cert.ok()
        || !rate.certified
        || sw.any_fails
        || b.any_fails
    {
        // The book is still written (it shows the failing rows), but the build must not pass.
        return Err(
            "a claim failed or was not exercised on a pinned run, a claim failed at a scale of the sweep, or an exact identity did not hold; see the generated tables".into(),
        );
    }
    Ok(())
}
