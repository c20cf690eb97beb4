//! The scale sweep of Chapter 4: one instance run on $2^j M$ for many $j$, from the same initial
//! factors, to show that the verdicts do not depend on the data's units and what happens where
//! MU's own products leave the double range.
//!
//! Every number here is a field of an [`Outcome`] or a [`Verdict`] made by `nmf-core` (the claims
//! over rows 1… are `nmf_core::check_all` on those rows); this module only runs, compares,
//! groups and draws.

use std::fmt::Write as _;
use std::ops::ControlFlow;

use nmf_core::scaling::ldexp;
use nmf_core::{check_all, Experiment, Outcome, Status, StopReason, Trace, Verdict};
use plotly::common::{DashType, Line, Marker, MarkerSymbol, Mode, Title};
use plotly::layout::{Axis, AxisType, CategoryOrder, Legend, Margin, Shape, ShapeLine, ShapeType};
use plotly::{Layout, Plot, Scatter};

use crate::superscript;

/// The instance of the sweep: the note's 15×8, rank 5, default seed, 2000 iterations.
// ANCHOR: sweep
pub fn sweep_experiment() -> Experiment {
    Experiment::note(nmf_core::experiment::DEFAULT_SEED, SWEEP_ITERS)
}

/// Iterations of each run of the sweep.
pub const SWEEP_ITERS: usize = 2000;

/// The exponents $j$ of the scales $c = 2^j$: every 20th from −520 to 520, and every integer
/// between 500 and 520 in absolute value, where the runs leave the double range.
pub fn sweep_exponents() -> Vec<i32> {
    let mut js: Vec<i32> = (-520..=520).step_by(20).collect();
    js.extend((501..520).flat_map(|j| [-j, j]));
    js.sort_unstable();
    js
}
// ANCHOR_END: sweep

/// The coarse grid's half-width: the sweep states its result for the scales $2^j$,
/// $|j| \le$ this, in steps of [`COARSE_STEP`].
pub const COARSE_LIMIT: i32 = 500;
/// The step of the coarse grid.
pub const COARSE_STEP: i32 = 20;

/// One scale of the sweep.
pub struct ScalePoint {
    pub j: i32,
    pub outcome: Outcome,
    /// The claims over rows 1, 2, … only (row 0 starts from the unscaled $V_0$, so it is not a
    /// rescaled copy of row 0 at $c = 1$; from row 1 on MU commutes with the scaling).
    pub tail_claims: Vec<Verdict>,
}

/// Run the sweep's instance on $2^j M$ from the same initial factors at every scale.
pub fn run_sweep() -> Result<Vec<ScalePoint>, String> {
    let e = sweep_experiment();
    let (data, init) = e.instance();
    sweep_exponents()
        .into_iter()
        .map(|j| {
            // Exact: every entry of 2^j M stays in the normal range for |j| ≤ 520.
            let scaled = data.mapv(|x| ldexp(x, j));
            let outcome = e
                .run_on(scaled, init.clone(), |_| ControlFlow::Continue(()))
                .map_err(|err| format!("scale sweep at j = {j}: {err}"))?;
            let t = &outcome.fit.trace;
            let tail = Trace {
                solver: t.solver.clone(),
                rows: t.rows.iter().skip(1).cloned().collect(),
                events: Vec::new(),
            };
            let tail_claims = check_all(&tail, e.dims());
            Ok(ScalePoint {
                j,
                outcome,
                tail_claims,
            })
        })
        .collect()
}

/// What the scale-invariance statement compares (as `tests/scale_invariance.rs` does): the
/// stop reason, the events, and per claim its status and its counts of rows checked, skipped,
/// unresolved and violated.
fn verdict_key(o: &Outcome) -> (StopReason, String, Vec<String>) {
    let counts = o
        .claims
        .iter()
        .map(|v| {
            format!(
                "{} {:?} {} {} {} {}",
                v.claim, v.status, v.checked, v.skipped, v.unresolved, v.violations
            )
        })
        .collect();
    (
        o.fit.stop.clone(),
        format!("{:?}", o.fit.trace.events),
        counts,
    )
}

/// The dimensionless columns (σ-relative sums, θ_V, subnormal-input counts) of rows 1… are
/// bit-for-bit those of `base`. (θ_U has the units of $VV^\top$, $c^2$; it is judged relative
/// to λ_max and not compared here.)
fn same_bits(o: &Outcome, base: &Outcome) -> bool {
    let (a, b) = (&o.fit.trace, &base.fit.trace);
    if a.rows.len() != b.rows.len() {
        return false;
    }
    Trace::columns()
        .iter()
        .filter(|c| c.starts_with("rel_") || *c == "theta_v" || c.starts_with("subnormal_inputs"))
        .all(|c| {
            let (x, y) = (a.column(c).expect("column"), b.column(c).expect("column"));
            x.iter()
                .zip(&y)
                .skip(1)
                .all(|(p, q)| p.map(f64::to_bits) == q.map(f64::to_bits))
        })
}

/// A short label for a stop reason: its kind, the factor and the iteration.
fn stop_label(s: &StopReason) -> String {
    match s {
        StopReason::MaxIterations { iters } => format!("completed all {iters} iterations"),
        StopReason::Overflow { iter, factor, .. } => {
            format!("Overflow: MU's update of {factor} overflowed at iteration {iter}")
        }
        StopReason::Underflow { iter, factor, .. } => {
            format!("Underflow: MU's update of {factor} underflowed at iteration {iter}")
        }
        StopReason::NonFinite { iter, quantity } => format!(
            "NonFinite: the {quantity} (in the data's units) overflowed at iteration {iter}"
        ),
        other => other.to_string(),
    }
}

/// The kind of a stop, for the figure's markers.
fn stop_kind(s: &StopReason) -> &'static str {
    match s {
        StopReason::MaxIterations { .. } => "completed",
        StopReason::Overflow { .. } => "Overflow",
        StopReason::Underflow { .. } => "Underflow",
        StopReason::NonFinite { .. } => "NonFinite",
        _ => "other",
    }
}

fn count(o: &Outcome, s: Status) -> usize {
    o.claims.iter().filter(|v| v.status == s).count()
}

fn unresolved(o: &Outcome) -> usize {
    o.claims.iter().map(|v| v.unresolved).sum()
}

/// `−520 … −510`, or a single value.
fn span(a: i32, b: i32) -> String {
    let f = |x: i32| x.to_string().replace('-', "−");
    if a == b {
        f(a)
    } else {
        format!("{} … {}", f(a), f(b))
    }
}

/// The largest interval of exponents around 0, over the sweep's values, on which `pred` holds
/// at every value (`None` if it fails at 0).
fn range_around_zero(
    points: &[ScalePoint],
    pred: impl Fn(&ScalePoint) -> bool,
) -> Option<(i32, i32)> {
    let zero = points.iter().position(|p| p.j == 0)?;
    if !pred(&points[zero]) {
        return None;
    }
    let mut lo = zero;
    while lo > 0 && pred(&points[lo - 1]) {
        lo -= 1;
    }
    let mut hi = zero;
    while hi + 1 < points.len() && pred(&points[hi + 1]) {
        hi += 1;
    }
    Some((points[lo].j, points[hi].j))
}

/// The sweep's table, its facts (name, value) and its figure.
pub struct SweepReport {
    pub table: String,
    pub facts: Vec<(String, String)>,
    pub figure: Plot,
    /// Whether a claim failed at some scale (the build must then fail).
    pub any_fails: bool,
}

pub fn report(points: &[ScalePoint]) -> Result<SweepReport, String> {
    let base = points
        .iter()
        .find(|p| p.j == 0)
        .ok_or("the sweep has no run at c = 1")?;
    let base_key = verdict_key(&base.outcome);
    let same = |p: &ScalePoint| verdict_key(&p.outcome) == base_key;
    let bits = |p: &ScalePoint| same_bits(&p.outcome, &base.outcome);
    let tail_same = |p: &ScalePoint| p.tail_claims == base.tail_claims;

    // Contiguous groups of scales with the same stop, verdict profile and comparison.
    let mut table = String::from(
        "| log₂ c | scales run | how the run ended | claims that hold / FAIL / not exercised | rows unresolved (all claims) | stop, events and verdicts as at c = 1 |\n\
         |---|---:|---|---|---:|---|\n",
    );
    let row_of = |p: &ScalePoint| {
        let o = &p.outcome;
        (
            stop_label(&o.fit.stop),
            format!(
                "{} / {} / {}",
                count(o, Status::Holds),
                count(o, Status::Fails),
                count(o, Status::NotExercised)
            ),
            unresolved(o),
            if same(p) { "yes" } else { "no" },
        )
    };
    let mut i = 0;
    while i < points.len() {
        let r = row_of(&points[i]);
        let mut k = i;
        while k + 1 < points.len() && row_of(&points[k + 1]) == r {
            k += 1;
        }
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} |",
            span(points[i].j, points[k].j),
            k - i + 1,
            r.0,
            r.1,
            r.2,
            r.3
        );
        i = k + 1;
    }

    let mut facts: Vec<(String, String)> = Vec::new();
    let mut add = |n: &str, v: String| facts.push((format!("sweep-{n}"), v));
    let coarse: Vec<&ScalePoint> = points
        .iter()
        .filter(|p| p.j.abs() <= COARSE_LIMIT && p.j % COARSE_STEP == 0)
        .collect();
    add("coarse-count", coarse.len().to_string());
    add(
        "coarse-same",
        coarse.iter().filter(|p| same(p)).count().to_string(),
    );
    add(
        "coarse-tail-same",
        coarse.iter().filter(|p| tail_same(p)).count().to_string(),
    );
    add(
        "coarse-bits",
        coarse.iter().filter(|p| bits(p)).count().to_string(),
    );
    add("runs", points.len().to_string());
    add("iters", SWEEP_ITERS.to_string());
    add("coarse-limit", COARSE_LIMIT.to_string());
    add("coarse-step", COARSE_STEP.to_string());
    let fmt_range = |r: Option<(i32, i32)>| {
        r.map_or("none".into(), |(a, b)| {
            format!("[{}, {}]", a.to_string().replace('-', "−"), b)
        })
    };
    add("same-range", fmt_range(range_around_zero(points, same)));
    add("bits-range", fmt_range(range_around_zero(points, bits)));
    add(
        "tail-same-range",
        fmt_range(range_around_zero(points, tail_same)),
    );
    // Coarse scales whose claims over rows 1… differ from c = 1, and how.
    let mut diffs = Vec::new();
    for p in &coarse {
        if tail_same(p) {
            continue;
        }
        let mut names = Vec::new();
        let mut tol_only = true;
        let mut max_rel = 0.0f64;
        for (a, b) in p.tail_claims.iter().zip(&base.tail_claims) {
            if a == b {
                continue;
            }
            names.push(format!("`{}`", a.claim));
            match (&a.worst, &b.worst) {
                (Some(x), Some(y))
                    if x.iter == y.iter
                        && x.value == y.value
                        && (a.status, a.checked, a.skipped, a.unresolved)
                            == (b.status, b.checked, b.skipped, b.unresolved) =>
                {
                    max_rel = max_rel.max((x.tol - y.tol).abs() / y.tol);
                }
                _ => tol_only = false,
            }
        }
        diffs.push(format!(
            "j = {}: {}{}",
            p.j.to_string().replace('-', "−"),
            names.join(", "),
            if tol_only {
                format!(
                    " (the same worst row and value; the tolerance differs by {} relative)",
                    crate::pretty(max_rel)
                )
            } else {
                String::new()
            }
        ));
    }
    add(
        "coarse-tail-diff",
        if diffs.is_empty() {
            "none".into()
        } else {
            diffs.join("; ")
        },
    );
    let fails: Vec<i32> = points
        .iter()
        .filter(|p| count(&p.outcome, Status::Fails) > 0)
        .map(|p| p.j)
        .collect();
    add("fails-count", fails.len().to_string());
    add("base-stop", base.outcome.fit.stop.to_string());
    add(
        "base-events",
        base.outcome.fit.trace.events.len().to_string(),
    );
    // The first scale outside the range of identical verdicts, on either side.
    if let Some((lo, hi)) = range_around_zero(points, same) {
        for (side, j) in [
            ("below", points.iter().rev().find(|p| p.j < lo)),
            ("above", points.iter().find(|p| p.j > hi)),
        ]
        .map(|(s, p)| (s, p.map(|p| p.j)))
        {
            let Some(j) = j else { continue };
            let p = points
                .iter()
                .find(|p| p.j == j)
                .expect("j is a sweep value");
            let o = &p.outcome;
            add(&format!("{side}-j"), j.to_string().replace('-', "−"));
            add(&format!("{side}-stop"), o.fit.stop.to_string());
            add(&format!("{side}-rows"), o.fit.trace.rows.len().to_string());
            add(&format!("{side}-unresolved"), unresolved(o).to_string());
            add(
                &format!("{side}-unresolved-rows"),
                o.claims
                    .iter()
                    .map(|v| v.unresolved)
                    .max()
                    .unwrap_or(0)
                    .to_string(),
            );
            add(
                &format!("{side}-status"),
                format!(
                    "{} hold, {} fail, {} not exercised",
                    count(o, Status::Holds),
                    count(o, Status::Fails),
                    count(o, Status::NotExercised)
                ),
            );
            let unres: Vec<String> = o
                .fit
                .trace
                .events
                .iter()
                .filter(|e| e.kind == nmf_core::EventKind::Unresolved)
                .map(|e| format!("the {} half-step from iteration {}", e.factor, e.iter))
                .collect();
            add(
                &format!("{side}-unresolved-where"),
                if unres.is_empty() {
                    "nowhere".into()
                } else {
                    unres.join(" and ")
                },
            );
        }
    }
    // Where each kind of early stop first happens, counting outwards from c = 1.
    for kind in ["Underflow", "Overflow", "NonFinite"] {
        let below = points
            .iter()
            .rev()
            .find(|p| p.j < 0 && stop_kind(&p.outcome.fit.stop) == kind);
        let above = points
            .iter()
            .find(|p| p.j > 0 && stop_kind(&p.outcome.fit.stop) == kind);
        for (side, p) in [("below", below), ("above", above)] {
            let key = format!("first-{}-{side}", kind.to_lowercase());
            add(
                &key,
                p.map_or("none".into(), |p| p.j.to_string().replace('-', "−")),
            );
            if let Some(p) = p {
                add(&format!("{key}-stop"), p.outcome.fit.stop.to_string());
            }
        }
    }

    Ok(SweepReport {
        table,
        facts,
        figure: figure(points, base),
        any_fails: !fails.is_empty(),
    })
}

// ---- the figure ----------------------------------------------------------------------------

const GREEN: &str = "#2ca02c";
const ORANGE: &str = "#ff7f0e";
const RED: &str = "#d62728";
const GREY: &str = "#7f7f7f";
const PURPLE: &str = "#9467bd";
const BLACK: &str = "#222222";
/// One colour per claim kind; the V half-step drawn solid, the U half-step dashed.
const KIND_COLORS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// The symmetric log transform of the usage axis: $\operatorname{sign}(u)\log_{10}(1 + |u|/u_0)$,
/// linear within $u_0$ of 0, logarithmic beyond (usages run from $-10^{12}$, a bound met with a
/// wide margin, to about $10^{-2}$ for the identities).
const SYMLOG_U0: f64 = 1e-4;

fn symlog(u: f64) -> f64 {
    u.signum() * (1.0 + u.abs() / SYMLOG_U0).log10()
}

fn figure(points: &[ScalePoint], base: &ScalePoint) -> Plot {
    // The x axis is the run's position in the sweep, labelled with its j: every 20th j in the
    // middle and every j near the ends get the same width, so the transitions at the ends of
    // the double range are as visible as the long plateau between them.
    let pos = |j: i32| -> f64 {
        points
            .iter()
            .position(|p| p.j == j)
            .expect("a sweep exponent") as f64
    };
    let xs: Vec<f64> = points.iter().map(|p| pos(p.j)).collect();
    let claims: Vec<String> = base
        .outcome
        .claims
        .iter()
        .map(|v| v.claim.clone())
        .collect();
    let mut plot = Plot::new();

    // Top panel: the verdict of every claim at every scale.
    let categories = [
        (
            "holds (every row resolved)",
            Status::Holds,
            false,
            MarkerSymbol::Circle,
            GREEN,
        ),
        (
            "holds, some rows unresolved (skipped)",
            Status::Holds,
            true,
            MarkerSymbol::CircleOpen,
            ORANGE,
        ),
        ("FAILS", Status::Fails, false, MarkerSymbol::X, RED),
        (
            "not exercised (no row to check)",
            Status::NotExercised,
            false,
            MarkerSymbol::SquareOpen,
            GREY,
        ),
    ];
    for (name, status, with_unresolved, symbol, color) in categories {
        let (mut x, mut y, mut text) = (Vec::new(), Vec::new(), Vec::new());
        for p in points {
            for v in &p.outcome.claims {
                let unres = v.unresolved > 0;
                let here =
                    v.status == status && (status != Status::Holds || unres == with_unresolved);
                if here {
                    x.push(pos(p.j));
                    y.push(v.claim.clone());
                    text.push(format!(
                        "c = 2^{}: {} {}<br>rows checked {}, skipped {}, unresolved {}, violations {}<br>run: {}",
                        p.j,
                        v.claim,
                        v.status.word(),
                        v.checked,
                        v.skipped,
                        v.unresolved,
                        v.violations,
                        p.outcome.fit.stop
                    ));
                }
            }
        }
        let n = x.len();
        plot.add_trace(
            Scatter::new(x, y)
                .name(format!("verdict: {name} ({n})"))
                .mode(Mode::Markers)
                .marker(Marker::new().symbol(symbol).size(7).color(color))
                .text_array(text)
                .hover_template("%{text}<extra></extra>")
                .x_axis("x")
                .y_axis("y"),
        );
    }

    // Middle panel: the worst usage over rows 1… of every claim, on a symmetric log axis.
    for (i, name) in claims.iter().enumerate() {
        let (color, dash) = if name == "objective_non_increasing" {
            (BLACK, DashType::Solid)
        } else {
            let kind = (i - 1) % 8;
            let dash = if name.ends_with("_u") {
                DashType::Dash
            } else {
                DashType::Solid
            };
            (KIND_COLORS[kind], dash)
        };
        let mut y: Vec<Option<f64>> = Vec::new();
        let mut text = Vec::new();
        for p in points {
            let w = p.tail_claims[i].worst.as_ref();
            y.push(w.map(|w| symlog(w.usage)));
            text.push(match w {
                Some(w) => format!(
                    "c = 2^{}: {name}<br>worst usage over rows 1…: {:.6e} (row {})",
                    p.j, w.usage, w.iter
                ),
                None => format!("c = 2^{}: {name}: no row checked", p.j),
            });
        }
        plot.add_trace(
            Scatter::new(xs.clone(), y)
                .name(format!("worst usage: {name}"))
                .mode(Mode::LinesMarkers)
                .line(Line::new().color(color).dash(dash).width(1.4))
                .marker(Marker::new().color(color).size(4))
                .text_array(text)
                .hover_template("%{text}<extra></extra>")
                .x_axis("x")
                .y_axis("y2"),
        );
    }

    // Bottom panel: rows recorded, marked by how the run ended.
    for (kind, symbol, color) in [
        ("completed", MarkerSymbol::Circle, GREEN),
        ("Underflow", MarkerSymbol::TriangleDown, PURPLE),
        ("NonFinite", MarkerSymbol::Diamond, ORANGE),
        ("Overflow", MarkerSymbol::TriangleUp, RED),
        ("other", MarkerSymbol::X, GREY),
    ] {
        let sel: Vec<&ScalePoint> = points
            .iter()
            .filter(|p| stop_kind(&p.outcome.fit.stop) == kind)
            .collect();
        if sel.is_empty() {
            continue;
        }
        let x: Vec<f64> = sel.iter().map(|p| pos(p.j)).collect();
        let y: Vec<f64> = sel
            .iter()
            .map(|p| p.outcome.fit.trace.rows.len() as f64)
            .collect();
        let text: Vec<String> = sel
            .iter()
            .map(|p| {
                format!(
                    "c = 2^{}: {} rows; {}",
                    p.j,
                    p.outcome.fit.trace.rows.len(),
                    p.outcome.fit.stop
                )
            })
            .collect();
        let label = match kind {
            "completed" => "run completed".to_string(),
            k => format!("run stopped: {k}"),
        };
        plot.add_trace(
            Scatter::new(x, y)
                .name(format!("{label} ({})", sel.len()))
                .mode(Mode::Markers)
                .marker(Marker::new().symbol(symbol).size(8).color(color))
                .text_array(text)
                .hover_template("%{text}<extra></extra>")
                .x_axis("x")
                .y_axis("y3"),
        );
    }

    // Shade every scale where the run did not complete, across all panels.
    let shapes: Vec<Shape> = points
        .iter()
        .filter(|p| stop_kind(&p.outcome.fit.stop) != "completed")
        .map(|p| {
            Shape::new()
                .shape_type(ShapeType::Rect)
                .x_ref("x")
                .x0(pos(p.j) - 0.5)
                .x1(pos(p.j) + 0.5)
                .y_ref("paper")
                .y0(0.0)
                .y1(1.0)
                .fill_color("rgba(214, 39, 40, 0.10)")
                .line(ShapeLine::new().width(0.0))
        })
        .chain(std::iter::once(
            // Usage 1: a claim fails above this line.
            Shape::new()
                .shape_type(ShapeType::Line)
                .x_ref("paper")
                .x0(0)
                .x1(1)
                .y_ref("y2")
                .y0(symlog(1.0))
                .y1(symlog(1.0))
                .line(ShapeLine::new().color(RED).width(1.2).dash(DashType::Dash)),
        ))
        .collect();

    let mut ticks = vec![0.0];
    let mut labels = vec!["0".to_string()];
    for e in [-3, 0] {
        ticks.push(symlog(10f64.powi(e)));
        labels.push(if e == 0 {
            "1".into()
        } else {
            format!("10{}", superscript(e))
        });
    }
    for e in [0, 3, 6, 9, 12] {
        ticks.push(symlog(-(10f64.powi(e))));
        labels.push(if e == 0 {
            "−1".into()
        } else {
            format!("−10{}", superscript(e))
        });
    }
    // Tick labels: the ends, the edges of the coarse grid, every 100 between, and a few of
    // the fine values.
    let tick_js: Vec<i32> = points
        .iter()
        .map(|p| p.j)
        .filter(|j| {
            let a = j.abs();
            (a <= COARSE_LIMIT && a % 100 == 0) || (a > COARSE_LIMIT && a % 5 == 0)
        })
        .collect();
    let mut order = claims.clone();
    order.reverse();
    let layout = Layout::new()
        .title(Title::with_text(
            "The same instance on 2^j·M: verdicts, worst usage and how the run ended",
        ))
        .height(1000)
        .margin(Margin::new().top(50).bottom(40).left(190).right(30))
        .legend(
            Legend::new()
                .orientation(plotly::common::Orientation::Horizontal)
                .x(0.0)
                .y(-0.06)
                .y_anchor(plotly::common::Anchor::Top)
                .font(plotly::common::Font::new().size(10)),
        )
        .x_axis(
            Axis::new()
                .title(Title::with_text(format!(
                    "j = log₂ c, the data are 2^j · M (not to scale: every {COARSE_STEP}th j up to |j| = {COARSE_LIMIT}, every j beyond)"
                )))
                .type_(AxisType::Linear)
                .tick_values(tick_js.iter().map(|&j| pos(j)).collect())
                .tick_text(tick_js.iter().map(|j| j.to_string().replace('-', "−")).collect())
                .show_grid(true)
                .zero_line(false)
                .anchor("y3"),
        )
        .y_axis(
            Axis::new()
                .title(Title::with_text("verdict"))
                .category_order(CategoryOrder::Array)
                .category_array(order)
                .tick_font(plotly::common::Font::new().size(10))
                .domain(&[0.5, 1.0])
                .anchor("x"),
        )
        .y_axis2(
            Axis::new()
                .title(Title::with_text("worst usage, rows 1… (symlog)"))
                .tick_values(ticks)
                .tick_text(labels)
                .show_grid(true)
                .domain(&[0.17, 0.46])
                .anchor("x"),
        )
        .y_axis3(
            Axis::new()
                .title(Title::with_text("rows recorded"))
                .show_grid(true)
                .domain(&[0.0, 0.12])
                .anchor("x"),
        )
        .shapes(shapes);
    plot.set_layout(layout);
    plot
}
