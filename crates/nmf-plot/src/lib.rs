//! # nmf-plot
//!
//! Interactive [plotly](https://docs.rs/plotly) figures of an [`nmf_core::Trace`]: one function
//! per figure, shared by the `nmf-lab` CLI (`DIR/figures.html`), the evcxr notebooks
//! ([`notebook`]) and the book. Every number drawn is a trace column or comes from
//! [`nmf_core::claims`]; this crate holds no formula of the proof, only presentation.
//!
//! Display rules (see the `series` module): a missing value is a gap, never a zero; on a log
//! axis a value ≤ 0 is drawn by a separate, counted legend entry at |value| (or at the panel's
//! floor when it is exactly 0) with its true value on hover; hover shows the iteration and the
//! value to 17 significant digits (enough to identify the `f64`).
//!
//! Everything works offline: [`figures_html`] embeds plotly.js once (from the `plotly` crate's
//! own copy) and never references a CDN; [`notebook::init`] does the same for Jupyter.
//!
//! ```
//! use nmf_core::{Dims, Experiment};
//! let out = Experiment::note(0, 30).run().unwrap();
//! let dims = Dims { m: 15, n: 8, k: 5 };
//! let figs = nmf_plot::all_figures(&out.fit.trace, dims);
//! let html = nmf_plot::figures_html("seed 0", &figs);
//! assert!(html.contains("Plotly.newPlot"));
//! ```

mod failure;
mod html;
pub mod notebook;
mod series;
mod sweep;
mod thin;

use nmf_core::claims::{in_eps_units, lemma1_row, lemma2_row, Half, K_RATIO_BOUNDS};
use nmf_core::{Dims, EventKind, Trace};
use plotly::common::{DashType, MarkerSymbol, Title};
use plotly::layout::{Axis, AxisType, Legend, Margin, Shape, ShapeLine, ShapeType};
use plotly::{Layout, Plot};

pub use failure::{claim_failure_figure, failure_title, ZOOM_ROWS};
pub use html::{figures_html, figures_html_linked, plotly_js};
use series::{markers, Panel, Series, Style, Xs};
pub use sweep::{sweep_figures, USAGE_CLIP};
pub use thin::Thinning;

/// Title of [`note_figure`].
pub const NOTE_TITLE: &str =
    "The note's figure, with the note's failures next to the stable values";
/// Title of [`theta_figure`].
pub const THETA_TITLE: &str = "θ and the spectral bands that bound it";
/// Title of [`decrease_split_figure`].
pub const DECREASE_TITLE: &str = "How each half-step's decrease splits, and the K-ratio";
/// Title of [`identity_residuals_figure`].
pub const RESIDUALS_TITLE: &str = "Residuals of Lemmas 1 and 2 in units of machine epsilon";
/// Title of [`kkt_events_figure`].
pub const KKT_TITLE: &str = "KKT residual, zero locking and underflow";

// Colours: V half-step in blues, U half-step in reds, the note's own quantities in orange/grey.
const BLACK: &str = "#222222";
const BLUE: &str = "#1f77b4";
const LIGHT_BLUE: &str = "#6baed6";
const DARK_BLUE: &str = "#08306b";
const RED: &str = "#d62728";
const LIGHT_RED: &str = "#fc9272";
const DARK_RED: &str = "#67000d";
const ORANGE: &str = "#ff7f0e";
const GREEN: &str = "#2ca02c";
const PURPLE: &str = "#9467bd";
const GREY: &str = "#7f7f7f";

/// Figure height in pixels (an explicit height: a notebook output cell has none of its own).
const HEIGHT: usize = 760;

fn x_axis() -> Axis {
    Axis::new()
        .title(Title::with_text("iteration k"))
        .type_(AxisType::Linear)
        .show_grid(true)
}

fn y_axis(title: &str, log: bool) -> Axis {
    Axis::new()
        .title(Title::with_text(title))
        .type_(if log { AxisType::Log } else { AxisType::Linear })
        .exponent_format(plotly::common::ExponentFormat::Power)
        .show_grid(true)
}

/// The common layout; with two panels the shared iteration axis sits under the lower one.
fn base_layout(title: &str, two_panels: bool) -> Layout {
    let x = if two_panels {
        x_axis().anchor("y2")
    } else {
        x_axis()
    };
    Layout::new()
        .title(Title::with_text(title))
        .height(HEIGHT)
        .margin(Margin::new().top(50).bottom(40).left(90).right(30))
        // Below the plot, so that long legend names do not narrow the iteration axis.
        .legend(
            Legend::new()
                .orientation(plotly::common::Orientation::Horizontal)
                .x(0.0)
                .y(-0.14)
                .y_anchor(plotly::common::Anchor::Top)
                .font(plotly::common::Font::new().size(11)),
        )
        .x_axis(x)
}

/// A horizontal reference line across the plot on axis `yref`.
fn hline(y: f64, yref: &str, color: &'static str) -> Shape {
    Shape::new()
        .shape_type(ShapeType::Line)
        .x_ref("paper")
        .x0(0)
        .x1(1)
        .y_ref(yref)
        .y0(y)
        .y1(y)
        .line(
            ShapeLine::new()
                .color(color)
                .width(1.2)
                .dash(DashType::Dash),
        )
}

fn plot_of(panels: &[Panel], x: &Xs, layout: Layout) -> Plot {
    let mut plot = Plot::new();
    for p in panels {
        plot.add_traces(p.traces(x));
    }
    plot.set_layout(layout);
    plot
}

/// The note's figure done right: on a log scale over the iterations, the objective, the
/// quadratic term ½‖U(ΔV)‖², the inner product ⟨∇g(V′), V − V′⟩ directly and in Lemma 2's
/// ratio form, and the stable decrease, **next to** the note's own two quantities: its
/// square-root form of Lemma 2 (`note_inner_v`, a gap where it is not finite: NaN or ∞) and its decrease as a
/// difference of objectives (`note_decrease_v`, which turns to round-off noise and goes ≤ 0;
/// those rows get their own counted legend entry). Legend names quote the note's legend.
pub fn note_figure(trace: &Trace) -> Plot {
    let x = Xs::from_iters(trace.iters());
    let panel = Panel {
        axis: "y",
        log: true,
        series: vec![
            Series::new(
                "f = ½‖M − UV‖²  (note: \"||M-UV||^2\")",
                trace.series(|r| Some(r.objective)),
                Style::solid(BLACK),
            ),
            Series::new(
                "½‖U(ΔV)‖²  (note: \"0.5||U(Vk-Vk1)||^2\")",
                trace.series(|r| Some(r.v.step)),
                Style::solid(GREEN),
            ),
            Series::new(
                "⟨∇g(V′), V − V′⟩ direct  (note: \"inner Product 1\")",
                trace.series(|r| Some(r.v.inner)),
                Style::solid(BLUE),
            ),
            Series::new(
                "Lemma 2, ratio form (ours)",
                trace.series(|r| r.v.mu.inner_closed),
                Style::dash(DARK_BLUE),
            ),
            Series::new(
                "Lemma 2, the note's √ form  (note: \"inner Product 2\"; gap = not finite)",
                trace.series(|r| r.note.sqrt_inner_v),
                Style::dot(ORANGE),
            ),
            Series::new(
                "g(V) − g(V′), stable form (ours)",
                trace.series(|r| Some(r.v.decrease)),
                Style::solid(PURPLE),
            ),
            Series::new(
                "g(V) − g(V′) as f(V) − f(V′)  (note: \"g(Vk)-g(Vk1)\"; round-off)",
                trace.series(|r| r.note.difference_decrease_v),
                Style::dot(RED).thin(),
            ),
        ],
    };
    let layout =
        base_layout(NOTE_TITLE, false).y_axis(y_axis("value (units of M², log scale)", true));
    plot_of(&[panel], &x, layout)
}

/// θ_V (top) and θ_U (bottom), each inside its band [λ_min, λ_max] of the k×k Gram matrix that
/// bounds it (UᵀU for θ_V, V′V′ᵀ for θ_U), with the note's smallest singular value of the n×n
/// matrix VᵀV for contrast (it is 0 up to round-off whenever n > k, so it bounds nothing;
/// where it is exactly 0 its own legend entry says so and draws it at the panel floor).
pub fn theta_figure(trace: &Trace) -> Plot {
    let x = Xs::from_iters(trace.iters());
    let v = Panel {
        axis: "y",
        log: true,
        series: vec![
            Series::new(
                "λ_min(UᵀU)",
                trace.series(|r| Some(r.v.eig_min)),
                Style::solid(LIGHT_BLUE).thin(),
            ),
            Series::new(
                "λ_max(UᵀU)  (band: [λ_min, λ_max])",
                trace.series(|r| Some(r.v.eig_max)),
                Style::solid(LIGHT_BLUE).thin().band_top(),
            ),
            Series::new(
                "θ_V = ‖UΔV‖² / ‖ΔV‖²",
                trace.series(|r| r.v.theta),
                Style::solid(DARK_BLUE),
            ),
        ],
    };
    let u = Panel {
        axis: "y2",
        log: true,
        series: vec![
            Series::new(
                "λ_min(V′V′ᵀ)",
                trace.series(|r| Some(r.u.eig_min)),
                Style::solid(LIGHT_RED).thin(),
            ),
            Series::new(
                "λ_max(V′V′ᵀ)  (band: [λ_min, λ_max])",
                trace.series(|r| Some(r.u.eig_max)),
                Style::solid(LIGHT_RED).thin().band_top(),
            ),
            Series::new(
                "θ_U = ‖ΔU V′‖² / ‖ΔU‖²",
                trace.series(|r| r.u.theta),
                Style::solid(DARK_RED),
            ),
            Series::new(
                "the note's σ_min(VᵀV), n×n (bounds nothing)",
                trace.series(|r| r.note.vtv_eig_min),
                Style::dot(ORANGE),
            ),
        ],
    };
    let layout = base_layout(THETA_TITLE, true)
        .y_axis(y_axis("V half-step: θ_V, eig(UᵀU) (units of U², log)", true).domain(&[0.54, 1.0]))
        .y_axis2(
            y_axis("U half-step: θ_U, eig(V′V′ᵀ) (units of V², log)", true)
                .domain(&[0.0, 0.46])
                .anchor("x"),
        );
    plot_of(&[v, u], &x, layout)
}

/// Top: each half-step's decrease and its two parts (Lemma 1: decrease = quadratic term +
/// inner product), V in blues, U in reds, log scale. Bottom: the K-ratio of both half-steps,
/// which theory puts inside [½, 1] (dashed lines).
pub fn decrease_split_figure(trace: &Trace) -> Plot {
    let x = Xs::from_iters(trace.iters());
    let top = Panel {
        axis: "y",
        log: true,
        series: vec![
            Series::new(
                "V: g(V) − g(V′)",
                trace.series(|r| Some(r.v.decrease)),
                Style::solid(BLUE),
            ),
            Series::new(
                "V: quadratic term ½‖UΔV‖²",
                trace.series(|r| Some(r.v.step)),
                Style::dash(LIGHT_BLUE),
            ),
            Series::new(
                "V: inner product ⟨∇g(V′), V − V′⟩",
                trace.series(|r| Some(r.v.inner)),
                Style::dot(DARK_BLUE),
            ),
            Series::new(
                "U: h(U) − h(U′)",
                trace.series(|r| Some(r.u.decrease)),
                Style::solid(RED),
            ),
            Series::new(
                "U: quadratic term ½‖ΔU V′‖²",
                trace.series(|r| Some(r.u.step)),
                Style::dash(LIGHT_RED),
            ),
            Series::new(
                "U: inner product ⟨∇h(U′), U − U′⟩",
                trace.series(|r| Some(r.u.inner)),
                Style::dot(DARK_RED),
            ),
        ],
    };
    let bottom = Panel {
        axis: "y2",
        log: false,
        series: vec![
            Series::new(
                "V: K-ratio decrease / ‖ΔV‖²_K",
                trace.series(|r| r.v.mu.k_ratio),
                Style::solid(BLUE),
            ),
            Series::new(
                "U: K-ratio decrease / ‖ΔU‖²_K",
                trace.series(|r| r.u.mu.k_ratio),
                Style::solid(RED),
            ),
            Series::new(
                "V: K-ratio on its own terms 1 − ½‖UΔV‖²/‖ΔV‖²_K (checked)",
                own_terms(trace, Half::V),
                Style::dot(DARK_BLUE),
            ),
            Series::new(
                "U: K-ratio on its own terms 1 − ½‖ΔU V′‖²/‖ΔU‖²_K (checked)",
                own_terms(trace, Half::U),
                Style::dot(DARK_RED),
            ),
        ],
    };
    let layout = base_layout(DECREASE_TITLE, true)
        .y_axis(y_axis("decrease and its parts (units of M², log)", true).domain(&[0.42, 1.0]))
        .y_axis2(
            y_axis("K-ratio (dimensionless; theory: [½, 1])", false)
                .domain(&[0.0, 0.34])
                .anchor("x"),
        )
        .shapes(vec![
            hline(K_RATIO_BOUNDS.0, "y2", GREY),
            hline(K_RATIO_BOUNDS.1, "y2", GREY),
        ]);
    plot_of(&[top, bottom], &x, layout)
}

/// The K-ratio the claim checks, row by row ([`nmf_core::claims::k_ratio_own_terms`]).
fn own_terms(trace: &Trace, half: Half) -> Vec<Option<f64>> {
    trace
        .rows
        .iter()
        .map(|r| nmf_core::claims::k_ratio_own_terms(r, half))
        .collect()
}

/// The residuals of Lemma 1 (top) and Lemma 2 (bottom) for both half-steps, in units of
/// machine epsilon relative to the round-off scale σ of the terms, next to the tolerance each
/// claim allows, in the same units (both from [`nmf_core::claims::lemma1_row`],
/// [`nmf_core::claims::lemma2_row`] and [`nmf_core::claims::in_eps_units`]). A residual of
/// exactly 0 is drawn at the panel floor by its own counted legend entry; a row with no step
/// (σ = 0) or an unresolved one is a gap.
pub fn identity_residuals_figure(trace: &Trace, dims: Dims) -> Plot {
    let x = Xs::from_iters(trace.iters());
    let rows = &trace.rows;
    let in_eps = |check: nmf_core::claims::RowCheck| {
        check
            .pair()
            .map(|(res, tol)| (Some(in_eps_units(res)), Some(in_eps_units(tol))))
    };
    let mut l1 = Vec::new();
    let mut l2 = Vec::new();
    for (half, color, tag) in [(Half::V, BLUE, "V"), (Half::U, RED, "U")] {
        let one: Vec<_> = rows
            .iter()
            .map(|r| in_eps(lemma1_row(r, dims, half)))
            .collect();
        let two: Vec<_> = rows
            .iter()
            .map(|r| in_eps(lemma2_row(r, dims, half)))
            .collect();
        for (out, data, lemma) in [(&mut l1, one, "Lemma 1"), (&mut l2, two, "Lemma 2")] {
            out.push(Series::new(
                format!("{lemma} ({tag}): |residual| / (ε σ_{})", tag.to_lowercase()),
                data.iter().map(|p| p.and_then(|p| p.0)).collect(),
                Style::solid(color).thin(),
            ));
            out.push(Series::new(
                format!("{lemma} ({tag}): tolerance / (ε σ_{})", tag.to_lowercase()),
                data.iter().map(|p| p.and_then(|p| p.1)).collect(),
                Style::dash(color),
            ));
        }
    }
    let top = Panel {
        axis: "y",
        log: true,
        series: l1,
    };
    let bottom = Panel {
        axis: "y2",
        log: true,
        series: l2,
    };
    let layout = base_layout(RESIDUALS_TITLE, true)
        .y_axis(y_axis("Lemma 1 residual (units of ε·σ, log)", true).domain(&[0.54, 1.0]))
        .y_axis2(
            y_axis("Lemma 2 residual (units of ε·σ, log)", true)
                .domain(&[0.0, 0.46])
                .anchor("x"),
        );
    plot_of(&[top, bottom], &x, layout)
}

/// Top: the KKT residual and its two parts on a log scale, with every event of the trace
/// (an entry reached exactly 0: zero locking; an entry became subnormal: underflow; the
/// note's square-root form stopped being finite) marked on the curve and by a dotted vertical line at
/// its iteration. Bottom: how many entries of U and V are exactly 0 or subnormal.
pub fn kkt_events_figure(trace: &Trace) -> Plot {
    let x = Xs::from_iters(trace.iters());
    let kkt = trace.series(|r| Some(r.kkt));
    let top = Panel {
        axis: "y",
        log: true,
        series: vec![
            Series::new(
                "KKT residual (both factors)",
                kkt.clone(),
                Style::solid(BLACK),
            ),
            Series::new(
                "‖min(V, ∇_V f)‖_F",
                trace.series(|r| Some(r.v.kkt)),
                Style::dash(BLUE),
            ),
            Series::new(
                "‖min(U, ∇_U f)‖_F",
                trace.series(|r| Some(r.u.kkt)),
                Style::dash(RED),
            ),
        ],
    };
    let bottom = Panel {
        axis: "y2",
        log: false,
        series: vec![
            Series::new(
                "entries of V exactly 0",
                trace.series(|r| Some(r.v.zeros as f64)),
                Style::solid(BLUE).steps(),
            ),
            Series::new(
                "entries of U exactly 0",
                trace.series(|r| Some(r.u.zeros as f64)),
                Style::solid(RED).steps(),
            ),
            Series::new(
                "entries of V subnormal",
                trace.series(|r| Some(r.v.subnormal as f64)),
                Style::dot(LIGHT_BLUE).steps(),
            ),
            Series::new(
                "entries of U subnormal",
                trace.series(|r| Some(r.u.subnormal as f64)),
                Style::dot(LIGHT_RED).steps(),
            ),
        ],
    };
    let floor = top.floor();
    let mut plot = plot_of(&[top, bottom], &x, Layout::new());
    let mut shapes = Vec::new();
    for (kind, symbol, color) in [
        (EventKind::ZeroReached, MarkerSymbol::X, DARK_RED),
        (EventKind::Underflow, MarkerSymbol::Diamond, PURPLE),
        (EventKind::NoteFormUndefined, MarkerSymbol::Star, ORANGE),
    ] {
        let name = if kind.about_entries() {
            format!("event: an entry {}", kind.describe())
        } else {
            format!("event: {}", kind.describe())
        };
        let events: Vec<_> = trace.events.iter().filter(|e| e.kind == kind).collect();
        if events.is_empty() {
            continue;
        }
        let (mut xs, mut ys, mut text) = (Vec::new(), Vec::new(), Vec::new());
        for e in events {
            // Rows may be thinned (every 10th, say): place the marker at the last recorded row
            // at or before the event's iteration, found by its `iter`, not by position.
            let at = trace
                .rows
                .partition_point(|r| r.iter <= e.iter)
                .checked_sub(1)
                .and_then(|i| kkt.get(i).copied().flatten())
                .filter(|v| *v > 0.0);
            xs.push(e.iter as f64);
            ys.push(at.unwrap_or(floor));
            let place = e.location().map_or_else(String::new, |(r, c)| {
                format!(", the first at row {r}, column {c}")
            });
            let drawn = if at.is_some() {
                String::new()
            } else {
                format!(" (drawn at the floor {floor:e}: no positive KKT value there)")
            };
            text.push(format!(
                "iteration {}: {name}<br>{} entr{} of {}{place}{drawn}",
                e.iter,
                e.count,
                if e.count == 1 { "y" } else { "ies" },
                e.factor
            ));
            shapes.push(
                Shape::new()
                    .shape_type(ShapeType::Line)
                    .x_ref("x")
                    .x0(e.iter as f64)
                    .x1(e.iter as f64)
                    .y_ref("paper")
                    .y0(0.0)
                    .y1(1.0)
                    .line(ShapeLine::new().color(color).width(0.8).dash(DashType::Dot)),
            );
        }
        let label = format!(
            "{name}: {} time{}",
            xs.len(),
            if xs.len() == 1 { "" } else { "s" }
        );
        plot.add_trace(markers(&label, xs, ys, text, symbol, color, "y"));
    }
    let layout = base_layout(KKT_TITLE, true)
        .y_axis(
            y_axis(
                "KKT residual ‖min(·, ∇f)‖_F (units of f's gradient, log)",
                true,
            )
            .domain(&[0.36, 1.0]),
        )
        .y_axis2(
            y_axis("number of entries", false)
                .domain(&[0.0, 0.28])
                .anchor("x"),
        )
        .shapes(shapes);
    plot.set_layout(layout);
    plot
}

/// Every figure of a run, with its title, in a fixed order.
pub fn all_figures(trace: &Trace, dims: Dims) -> Vec<(String, Plot)> {
    vec![
        (NOTE_TITLE.to_string(), note_figure(trace)),
        (THETA_TITLE.to_string(), theta_figure(trace)),
        (DECREASE_TITLE.to_string(), decrease_split_figure(trace)),
        (
            RESIDUALS_TITLE.to_string(),
            identity_residuals_figure(trace, dims),
        ),
        (KKT_TITLE.to_string(), kkt_events_figure(trace)),
    ]
}

#[cfg(test)]
mod tests;
