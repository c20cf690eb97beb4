//! Figures of a sweep's statistics ([`nmf_core::sweep::stats::Summary`]): the worst usage of
//! each claim over the instances as histograms, and the intervals of each solver. Every
//! number drawn is a field of the summary; nothing is computed here but the clipping of the
//! histograms' range.

use nmf_core::sweep::stats::{MeanInterval, Summary};
use plotly::common::{ErrorData, ErrorType, Mode, Title};
use plotly::layout::{Axis, BarMode, Margin};
use plotly::{Histogram, Layout, Plot, Scatter};

use crate::{BLUE, GREEN, GREY, ORANGE, PURPLE, RED};

/// The histograms' range of usage: [−1, 2] (a usage far below −1 is a bound met with a wide
/// margin; above 1 is a violation).
pub const USAGE_CLIP: (f64, f64) = (-1.0, 2.0);

const COLORS: [&str; 6] = [BLUE, RED, GREEN, ORANGE, PURPLE, GREY];

fn layout(title: &str, x: &str, y: &str) -> Layout {
    Layout::new()
        .title(Title::with_text(title))
        .height(460)
        .margin(Margin::new().top(50).bottom(90).left(80).right(30))
        .x_axis(Axis::new().title(Title::with_text(x)))
        .y_axis(Axis::new().title(Title::with_text(y)))
}

/// One histogram per claim (the solvers that declare it overlaid), then one interval plot of
/// the violation rates per solver, then the Student-t intervals of the final objective and of
/// the iteration of the first underflow across solvers.
pub fn sweep_figures(s: &Summary) -> Vec<(String, Plot)> {
    let mut out = Vec::new();
    let mut claims: Vec<&str> = Vec::new();
    for c in &s.claims {
        if !claims.contains(&c.claim.as_str()) {
            claims.push(&c.claim);
        }
    }
    let solvers: Vec<&str> = s.solvers.iter().map(|x| x.solver.as_str()).collect();
    let color = |solver: &str| {
        COLORS[solvers.iter().position(|&x| x == solver).unwrap_or(0) % COLORS.len()]
    };
    for claim in &claims {
        let mut plot = Plot::new();
        for c in s.claims.iter().filter(|c| c.claim == *claim) {
            let xs: Vec<f64> = c
                .usages
                .iter()
                .map(|&u| {
                    if u.is_nan() {
                        USAGE_CLIP.1
                    } else {
                        u.clamp(USAGE_CLIP.0, USAGE_CLIP.1)
                    }
                })
                .collect();
            plot.add_trace(
                Histogram::new(xs)
                    .name(format!("{} ({} instances)", c.solver, c.usages.len()))
                    .opacity(0.6)
                    .marker(plotly::common::Marker::new().color(color(&c.solver))),
            );
        }
        plot.set_layout(
            layout(
                &format!("{claim}: worst usage per instance (clipped to [−1, 2]; > 1 violates)"),
                "worst usage = value / tolerance",
                "instances",
            )
            .bar_mode(BarMode::Overlay),
        );
        out.push((format!("Usage of {claim}"), plot));
    }
    for solver in &solvers {
        let mine: Vec<_> = s.claims.iter().filter(|c| c.solver == *solver).collect();
        let names: Vec<String> = mine.iter().map(|c| c.claim.clone()).collect();
        let rate: Vec<f64> = mine
            .iter()
            .map(|c| {
                if c.instances == 0 {
                    f64::NAN
                } else {
                    c.violations as f64 / c.instances as f64
                }
            })
            .collect();
        let hi: Vec<f64> = mine
            .iter()
            .zip(&rate)
            .map(|(c, r)| c.rate.map_or(0.0, |x| x.1 - r))
            .collect();
        let lo: Vec<f64> = mine
            .iter()
            .zip(&rate)
            .map(|(c, r)| c.rate.map_or(0.0, |x| r - x.0))
            .collect();
        let upper: Vec<f64> = mine
            .iter()
            .map(|c| c.rate_upper.unwrap_or(f64::NAN))
            .collect();
        let mut plot = Plot::new();
        plot.add_trace(
            Scatter::new(names.clone(), rate)
                .mode(Mode::Markers)
                .name("violation rate, 95 % two-sided Clopper–Pearson interval")
                .marker(plotly::common::Marker::new().color(color(solver)).size(9))
                .error_y(
                    ErrorData::new(ErrorType::Data)
                        .symmetric(false)
                        .array(hi)
                        .array_minus(lo),
                ),
        );
        plot.add_trace(
            Scatter::new(names, upper)
                .mode(Mode::Markers)
                .name("95 % one-sided upper bound")
                .marker(
                    plotly::common::Marker::new()
                        .color(GREY)
                        .symbol(plotly::common::MarkerSymbol::TriangleDown)
                        .size(8),
                ),
        );
        plot.set_layout(layout(
            &format!("{solver}: violation rate of each claim over the instances"),
            "claim",
            "instances violated / instances checked",
        ));
        out.push((format!("Violation rates: {solver}"), plot));
    }
    let means = |pick: &dyn Fn(&nmf_core::sweep::stats::SolverStats) -> Option<MeanInterval>,
                 title: &str,
                 y: &str| {
        let (mut xs, mut ys, mut hw) = (Vec::new(), Vec::new(), Vec::new());
        for st in &s.solvers {
            if let Some(m) = pick(st) {
                xs.push(format!("{} (N = {})", st.solver, m.n));
                ys.push(m.mean);
                hw.push(m.half_width);
            }
        }
        let mut plot = Plot::new();
        plot.add_trace(
            Scatter::new(xs, ys)
                .mode(Mode::Markers)
                .name("mean ± 95 % Student-t interval")
                .marker(plotly::common::Marker::new().color(BLUE).size(9))
                .error_y(ErrorData::new(ErrorType::Data).array(hw)),
        );
        plot.set_layout(layout(title, "solver", y));
        plot
    };
    out.push((
        "Final objective per solver".into(),
        means(
            &|st| st.final_objective,
            "Final objective ½‖M − UV‖²: mean ± 95 % Student-t interval",
            "final objective",
        ),
    ));
    out.push((
        "First underflow per solver".into(),
        means(
            &|st| st.first_underflow,
            "Iteration of the first underflow (instances that underflowed): mean ± 95 % Student-t interval",
            "iteration",
        ),
    ));
    // The violation threshold on every histogram.
    for (_, p) in out.iter_mut().take(claims.len()) {
        let l = p.layout().clone().shapes(vec![vline(1.0)]);
        p.set_layout(l);
    }
    out
}

fn vline(x: f64) -> plotly::layout::Shape {
    use plotly::layout::{Shape, ShapeLine, ShapeType};
    Shape::new()
        .shape_type(ShapeType::Line)
        .y_ref("paper")
        .y0(0)
        .y1(1)
        .x_ref("x")
        .x0(x)
        .x1(x)
        .line(
            ShapeLine::new()
                .color(RED)
                .width(1.2)
                .dash(plotly::common::DashType::Dash),
        )
}
