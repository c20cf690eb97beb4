//! Where a claim failed: the objective over the run with the claim's first violation marked
//! ([`claim_failure_figure`]), for a researcher whose own update rule
//! ([`nmf_core::solver::UpdateRule`]) broke a claim. The values drawn are the trace's objective
//! column and the verdict's [`Verdict::first_violation`]; nothing is recomputed.

use nmf_core::{Trace, Verdict};
use plotly::common::{DashType, Line, Marker, MarkerSymbol, Mode, Title};
use plotly::layout::{Axis, Shape, ShapeLine, ShapeType};
use plotly::{Plot, Scatter};

use crate::series::{markers, Panel, Series, Style, Xs};
use crate::{base_layout, x_axis, y_axis, BLACK, RED};

/// Rows shown on each side of the first violation in the lower panel of
/// [`claim_failure_figure`].
pub const ZOOM_ROWS: usize = 10;

/// The title of [`claim_failure_figure`] for `verdict`: the claim, its status and where it
/// first failed.
pub fn failure_title(verdict: &Verdict) -> String {
    match verdict.first_violation {
        Some(i) => format!(
            "The objective, and where `{}` first failed: iteration {i} ({} of {} rows violate it)",
            verdict.claim, verdict.violations, verdict.checked
        ),
        None => format!(
            "The objective; `{}` {} ({} rows checked, no violation)",
            verdict.claim,
            verdict.status.words().prose,
            verdict.checked
        ),
    }
}

/// The index of the last row at or before iteration `iter` (rows may be thinned: found by the
/// rows' `iter`, not by position).
fn row_at(trace: &Trace, iter: usize) -> Option<usize> {
    trace
        .rows
        .partition_point(|r| r.iter <= iter)
        .checked_sub(1)
}

/// A dotted vertical line at iteration `x` on x axis `xref`, spanning `[y0, y1]` of the page.
fn vline(x: f64, xref: &str, y0: f64, y1: f64) -> Shape {
    Shape::new()
        .shape_type(ShapeType::Line)
        .x_ref(xref)
        .x0(x)
        .x1(x)
        .y_ref("paper")
        .y0(y0)
        .y1(y1)
        .line(ShapeLine::new().color(RED).width(1.2).dash(DashType::Dot))
}

/// The objective $f = \tfrac12\|M - UV\|^2$ over the run (the trace's `objective` column, log
/// scale), with the first iteration where `verdict`'s claim failed
/// ([`Verdict::first_violation`]) marked by a red cross on the curve and a dotted vertical line.
/// When the claim failed, a lower panel shows the objective on a linear scale over the
/// [`ZOOM_ROWS`] rows on either side of that iteration, where an increase too small for the
/// log scale of the whole run is visible; each row's value is in its hover text to 17
/// significant digits. When the claim did not fail there is one panel and no mark, and the
/// title says so ([`failure_title`]).
///
/// ```
/// let out = nmf_core::Experiment::note(0, 30).run().unwrap();
/// let plot = nmf_plot::claim_failure_figure(&out.fit.trace, &out.claims[0]);
/// assert!(plot.to_json().contains("holds"));
/// ```
pub fn claim_failure_figure(trace: &Trace, verdict: &Verdict) -> Plot {
    let x = Xs::from_iters(trace.iters());
    let objective = trace.series(|r| Some(r.objective));
    let whole = Panel {
        axis: "y",
        log: true,
        series: vec![Series::new(
            "f = ½‖M − UV‖²",
            objective,
            Style::solid(BLACK),
        )],
    };
    let floor = whole.floor();
    let mut plot = Plot::new();
    plot.add_traces(whole.traces(&x));
    let title = failure_title(verdict);
    let at = verdict
        .first_violation
        .and_then(|i| row_at(trace, i).map(|row| (i, row)));
    let Some((iter, row)) = at else {
        plot.set_layout(
            base_layout(&title, false).y_axis(y_axis("objective f (units of M², log scale)", true)),
        );
        return plot;
    };
    // Upper panel: the cross on the curve at the first violation (at the floor if the
    // objective is not positive there, which a log axis cannot show).
    let f = trace.rows[row].objective;
    let before = row
        .checked_sub(1)
        .map(|p| {
            format!(
                "<br>row before (iteration {}): f = {:.17e}",
                trace.rows[p].iter, trace.rows[p].objective
            )
        })
        .unwrap_or_default();
    let label = format!("`{}` first fails: iteration {iter}", verdict.claim);
    let text = format!(
        "{label}<br>f = {f:.17e} at iteration {}{before}",
        trace.rows[row].iter
    );
    plot.add_trace(markers(
        &label,
        vec![iter as f64],
        vec![if f > 0.0 { f } else { floor }],
        vec![text.clone()],
        MarkerSymbol::X,
        RED,
        "y",
    ));
    // Lower panel: the rows around it, linear scale, every row a point.
    let lo = row.saturating_sub(ZOOM_ROWS);
    let hi = (row + ZOOM_ROWS + 1).min(trace.rows.len());
    let near = &trace.rows[lo..hi];
    let xs: Vec<f64> = near.iter().map(|r| r.iter as f64).collect();
    let ys: Vec<f64> = near.iter().map(|r| r.objective).collect();
    let zoom_name = format!("f around iteration {iter} (linear scale)");
    plot.add_trace(
        Scatter::new(xs, ys)
            .name(&zoom_name)
            .legend_group(&zoom_name)
            .mode(Mode::LinesMarkers)
            .line(Line::new().color(BLACK).width(1.2))
            .marker(Marker::new().size(5).color(BLACK))
            .hover_template(format!(
                "{zoom_name}<br>iteration %{{x:d}}<br>value %{{y:.17g}}<extra></extra>"
            ))
            .x_axis("x2")
            .y_axis("y2"),
    );
    plot.add_trace(
        Scatter::new(vec![iter as f64], vec![f])
            .name(format!("{label} (linear scale)"))
            .legend_group(&label)
            .show_legend(false)
            .mode(Mode::Markers)
            .marker(Marker::new().symbol(MarkerSymbol::X).size(11).color(RED))
            .text_array(vec![text])
            .hover_template("%{text}<extra></extra>")
            .x_axis("x2")
            .y_axis("y2"),
    );
    let layout = base_layout(&title, true)
        // The upper panel's own iteration axis (the lower one has a narrower range).
        .x_axis(x_axis().anchor("y"))
        .y_axis(y_axis("objective f (units of M², log scale)", true).domain(&[0.5, 1.0]))
        .x_axis2(
            Axis::new()
                .title(Title::with_text(format!(
                    "iteration k (the {ZOOM_ROWS} rows either side of iteration {iter})"
                )))
                .anchor("y2"),
        )
        .y_axis2(
            y_axis("objective f (units of M², linear)", false)
                .domain(&[0.0, 0.36])
                .anchor("x2"),
        )
        .shapes(vec![
            vline(iter as f64, "x", 0.5, 1.0),
            vline(iter as f64, "x2", 0.0, 0.36),
        ]);
    plot.set_layout(layout);
    plot
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use nmf_core::ndarray::{Array2, ArrayView2, Zip};
    use nmf_core::solver::{Rule, UpdateRule};
    use nmf_core::{Experiment, Outcome, Status};
    use serde_json::Value;

    use super::*;

    /// MU with the ratio raised to the power `p` (as in nmf-core's `tests/update_rule.rs`).
    struct PowerMu(f64);

    impl UpdateRule for PowerMu {
        fn name(&self) -> &'static str {
            "mu-power"
        }
        fn update(
            &self,
            x: ArrayView2<f64>,
            a: ArrayView2<f64>,
            v: ArrayView2<f64>,
        ) -> Array2<f64> {
            let d = x.dot(&v);
            Zip::from(v)
                .and(a)
                .and(&d)
                .map_collect(|v, a, d| v * (a / d).powf(self.0))
        }
    }

    /// Exponent 1.95 on seed 1: the objective rises at iteration 1.
    fn failing() -> Outcome {
        let e = Experiment::note(1, 60);
        let (data, init) = e.instance();
        e.run_solver(&mut Rule(PowerMu(1.95)), data, init, |_| {
            ControlFlow::Continue(())
        })
        .unwrap()
    }

    fn json(plot: &Plot) -> Value {
        serde_json::from_str(&plot.to_json()).unwrap()
    }

    fn named<'a>(v: &'a Value, prefix: &str) -> &'a Value {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no trace named `{prefix}…`"))
    }

    #[test]
    fn the_first_violation_is_marked_on_the_trace_objective() {
        let out = failing();
        let obj = &out.claims[0];
        assert_eq!(obj.claim, "objective_non_increasing");
        assert_eq!(obj.status, Status::Fails);
        let first = obj.first_violation.unwrap();
        let rows = &out.fit.trace.rows;
        let v = json(&claim_failure_figure(&out.fit.trace, obj));
        let title = v["layout"]["title"]["text"].as_str().unwrap();
        assert!(
            title.contains(&format!("first failed: iteration {first}")),
            "{title}"
        );
        // The whole run: the trace's objective, bit for bit, on a log axis.
        assert_eq!(v["layout"]["yaxis"]["type"], "log");
        let line = named(&v, "f = ½‖M − UV‖²");
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(line["y"][i].as_f64(), Some(r.objective));
        }
        // The cross sits at the first violation, on the curve, in both panels.
        let cross = named(&v, "`objective_non_increasing` first fails: iteration");
        assert_eq!(cross["x"][0].as_f64(), Some(first as f64));
        assert_eq!(cross["y"][0].as_f64(), Some(rows[first].objective));
        assert_eq!(cross["yaxis"], "y");
        let text = cross["text"][0].as_str().unwrap();
        assert!(text.contains(&format!("{:.17e}", rows[first].objective)));
        assert!(text.contains(&format!("{:.17e}", rows[first - 1].objective)));
        let lines: Vec<(f64, &str)> = v["layout"]["shapes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["x0"].as_f64().unwrap(), s["xref"].as_str().unwrap()))
            .collect();
        assert_eq!(lines, [(first as f64, "x"), (first as f64, "x2")]);
        // The zoom: the rows around the violation, linear, the trace's values.
        assert_eq!(v["layout"]["yaxis2"]["type"], "linear");
        let zoom = named(&v, &format!("f around iteration {first}"));
        assert_eq!(zoom["xaxis"], "x2");
        let xs = zoom["x"].as_array().unwrap();
        let hi = (first + ZOOM_ROWS + 1).min(rows.len());
        assert_eq!(xs.len(), hi - first.saturating_sub(ZOOM_ROWS));
        for (x, y) in xs.iter().zip(zoom["y"].as_array().unwrap()) {
            let r = &rows[x.as_f64().unwrap() as usize];
            assert_eq!(y.as_f64(), Some(r.objective));
        }
        // The claim compares consecutive rows: the objective rose at the marked iteration.
        assert!(rows[first].objective > rows[first - 1].objective);
    }

    #[test]
    fn a_claim_that_holds_gets_one_panel_and_no_mark() {
        let out = Experiment::note(0, 30).run().unwrap();
        let obj = &out.claims[0];
        assert_eq!(obj.status, Status::Holds);
        let v = json(&claim_failure_figure(&out.fit.trace, obj));
        assert_eq!(v["data"].as_array().unwrap().len(), 1);
        assert!(v["layout"]["shapes"].as_array().is_none_or(Vec::is_empty));
        assert!(v["layout"].get("yaxis2").is_none());
        let title = v["layout"]["title"]["text"].as_str().unwrap();
        assert!(
            title.contains("holds") && title.contains("no violation"),
            "{title}"
        );
    }

    #[test]
    fn on_a_thinned_trace_the_mark_sits_at_the_last_row_up_to_the_violation() {
        let out = failing();
        let mut verdict = out.claims[0].clone();
        let mut trace = out.fit.trace.clone();
        trace.rows.retain(|r| r.iter % 4 == 0);
        verdict.first_violation = Some(6);
        let v = json(&claim_failure_figure(&trace, &verdict));
        let cross = named(&v, "`objective_non_increasing` first fails");
        assert_eq!(cross["x"][0].as_f64(), Some(6.0));
        let at4 = trace.rows.iter().find(|r| r.iter == 4).unwrap().objective;
        assert_eq!(cross["y"][0].as_f64(), Some(at4));
    }
}
