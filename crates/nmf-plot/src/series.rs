//! Turning trace columns into plotly traces, with the display rules every figure shares:
//!
//! * a missing value (`None`: undefined in the trace) is a **gap** in the line, never a zero;
//! * on a log axis a value ≤ 0 cannot be drawn where it is: the line gets a gap there and a
//!   companion marker trace, in the same legend group and named with how many rows it holds,
//!   draws it at |value| (negative) or at the panel's *floor* (exactly 0), with the true value
//!   in the hover text. Nothing is dropped without a legend entry saying so;
//! * hover shows the iteration and the value to 17 significant digits, which identifies the
//!   `f64` exactly (the same number as in `trace.csv`).
//!
//! Nothing here computes a quantity of the proof: values come from [`nmf_core::Trace`] columns
//! or from [`nmf_core::claims`].

use plotly::common::{DashType, Fill, Line, LineShape, Marker, MarkerSymbol, Mode};
use plotly::{Scatter, Trace};

/// The iteration axis: a regular grid `x0, x0 + 1, …` (stored as `x0`/`dx`, which keeps the
/// HTML small) or explicit values.
#[derive(Debug, Clone)]
pub(crate) enum Xs {
    Regular { x0: f64 },
    Explicit(Vec<f64>),
}

impl Xs {
    pub(crate) fn from_iters(iters: Vec<f64>) -> Self {
        let regular = iters
            .first()
            .is_some_and(|&x0| iters.iter().enumerate().all(|(i, &x)| x == x0 + i as f64));
        if regular {
            Xs::Regular { x0: iters[0] }
        } else {
            Xs::Explicit(iters)
        }
    }

    pub(crate) fn at(&self, i: usize) -> f64 {
        match self {
            Xs::Regular { x0 } => x0 + i as f64,
            Xs::Explicit(v) => v[i],
        }
    }

    /// A scatter trace over this axis.
    fn scatter(&self, y: Vec<Option<f64>>) -> Box<Scatter<f64, Option<f64>>> {
        match self {
            Xs::Regular { x0 } => Box::new(Scatter::<f64, Option<f64>>::default())
                .y(y)
                .x0(*x0)
                .dx(1.0),
            Xs::Explicit(x) => Scatter::new(x.clone(), y),
        }
    }
}

/// How a series is drawn.
#[derive(Debug, Clone)]
pub(crate) struct Style {
    pub color: &'static str,
    pub dash: DashType,
    pub width: f64,
    /// Draw as steps (counts) instead of straight segments.
    pub steps: bool,
    /// Fill to the previous trace (the upper edge of a band).
    pub fill_to_previous: bool,
    /// Shown only when clicked in the legend.
    pub legend_only: bool,
}

impl Style {
    pub(crate) fn solid(color: &'static str) -> Self {
        Style {
            color,
            dash: DashType::Solid,
            width: 1.6,
            steps: false,
            fill_to_previous: false,
            legend_only: false,
        }
    }
    pub(crate) fn dash(color: &'static str) -> Self {
        Style {
            dash: DashType::Dash,
            ..Style::solid(color)
        }
    }
    pub(crate) fn dot(color: &'static str) -> Self {
        Style {
            dash: DashType::Dot,
            width: 2.2,
            ..Style::solid(color)
        }
    }
    pub(crate) fn thin(mut self) -> Self {
        self.width = 0.8;
        self
    }
    pub(crate) fn steps(mut self) -> Self {
        self.steps = true;
        self
    }
    pub(crate) fn band_top(mut self) -> Self {
        self.fill_to_previous = true;
        self
    }
}

/// One named column to draw.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub name: String,
    pub y: Vec<Option<f64>>,
    pub style: Style,
}

impl Series {
    pub(crate) fn new(name: impl Into<String>, y: Vec<Option<f64>>, style: Style) -> Self {
        Series {
            name: name.into(),
            y,
            style,
        }
    }
}

/// One panel (one y axis) of a figure.
pub(crate) struct Panel {
    /// `"y"`, `"y2"`, …
    pub axis: &'static str,
    pub log: bool,
    pub series: Vec<Series>,
}

impl Panel {
    /// The smallest non-zero |value| of the panel rounded down to a power of ten, one decade
    /// lower: where exact zeros are drawn on a log axis, below everything else drawn.
    /// `1` when every value is 0 or missing.
    pub(crate) fn floor(&self) -> f64 {
        let min = self
            .series
            .iter()
            .flat_map(|s| s.y.iter().flatten())
            .map(|v| v.abs())
            .filter(|v| *v > 0.0 && v.is_finite())
            .fold(f64::INFINITY, f64::min);
        if min.is_finite() {
            10f64.powf(min.log10().floor() - 1.0)
        } else {
            1.0
        }
    }

    /// The plotly traces: all lines first (so that a band's fill goes to the right trace),
    /// then the companion traces of values a log axis cannot show.
    pub(crate) fn traces(&self, x: &Xs) -> Vec<Box<dyn Trace>> {
        let floor = self.floor();
        let mut lines: Vec<Box<dyn Trace>> = Vec::new();
        let mut companions: Vec<Box<dyn Trace>> = Vec::new();
        for s in &self.series {
            let shown: Vec<Option<f64>> = if self.log {
                s.y.iter().map(|v| v.filter(|v| *v > 0.0)).collect()
            } else {
                s.y.clone()
            };
            lines.push(line(x, &s.name, shown, &s.style, self.axis));
            if self.log {
                if let Some(t) = non_positive(x, s, floor, self.axis) {
                    companions.push(t);
                }
            }
        }
        lines.extend(companions);
        lines
    }
}

/// Hover text: quantity, iteration, value to 17 significant digits.
fn hover(name: &str) -> String {
    format!("{name}<br>iteration %{{x:d}}<br>value %{{y:.17g}}<extra></extra>")
}

fn line(
    x: &Xs,
    name: &str,
    y: Vec<Option<f64>>,
    style: &Style,
    axis: &'static str,
) -> Box<dyn Trace> {
    let mut ln = Line::new()
        .color(style.color)
        .dash(style.dash.clone())
        .width(style.width);
    if style.steps {
        ln = ln.shape(LineShape::Hv);
    }
    let mut t = x
        .scatter(y)
        .name(name)
        .legend_group(name)
        .mode(Mode::Lines)
        .line(ln)
        .connect_gaps(false)
        .hover_template(hover(name))
        .y_axis(axis);
    if style.fill_to_previous {
        t = t.fill(Fill::ToNextY).fill_color(band_color(style.color));
    }
    if style.legend_only {
        t = t.visible(plotly::common::Visible::LegendOnly);
    }
    t
}

/// A translucent version of a `#rrggbb` colour for bands.
fn band_color(hex: &str) -> String {
    let c = |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("80"), 16).unwrap_or(128);
    format!("rgba({},{},{},0.15)", c(1), c(3), c(5))
}

/// The full-precision text of a value (shortest round-trip form).
pub(crate) fn exact_text(v: f64) -> String {
    if v == 0.0 {
        "0 (exactly zero)".to_string()
    } else {
        format!("{v:e}")
    }
}

/// The rows of `s` that a log axis cannot show, as a marker trace (or `None` if there are none).
fn non_positive(x: &Xs, s: &Series, floor: f64, axis: &'static str) -> Option<Box<dyn Trace>> {
    let (mut xs, mut ys, mut text) = (Vec::new(), Vec::new(), Vec::new());
    let (mut zeros, mut negatives) = (0usize, 0usize);
    for (i, v) in s.y.iter().enumerate() {
        let Some(v) = *v else { continue };
        if v > 0.0 {
            continue;
        }
        xs.push(x.at(i));
        if v == 0.0 {
            zeros += 1;
            ys.push(floor);
            text.push(format!("{} (drawn at the floor {floor:e})", exact_text(v)));
        } else {
            negatives += 1;
            ys.push(-v);
            text.push(format!("{} (drawn at |value|)", exact_text(v)));
        }
    }
    if xs.is_empty() {
        return None;
    }
    let mut what = Vec::new();
    if negatives > 0 {
        what.push(format!("< 0 at {negatives} iterations, drawn at |value|"));
    }
    if zeros > 0 {
        what.push(format!("= 0 at {zeros} iterations, drawn at {floor:e}"));
    }
    let name = format!("{}: {}", s.name, what.join("; "));
    let t = Scatter::new(xs, ys)
        .name(&name)
        .legend_group(&s.name)
        .mode(Mode::Markers)
        .marker(
            Marker::new()
                .symbol(MarkerSymbol::TriangleDown)
                .size(6)
                .color(s.style.color),
        )
        .text_array(text)
        .hover_template(format!(
            "{}<br>iteration %{{x:d}}<br>value %{{text}}<extra></extra>",
            s.name
        ))
        .y_axis(axis);
    Some(t)
}

/// Marker trace at given points with per-point hover text (events).
pub(crate) fn markers(
    name: &str,
    xs: Vec<f64>,
    ys: Vec<f64>,
    text: Vec<String>,
    symbol: MarkerSymbol,
    color: &'static str,
    axis: &'static str,
) -> Box<dyn Trace> {
    Scatter::new(xs, ys)
        .name(name)
        .legend_group(name)
        .mode(Mode::Markers)
        .marker(Marker::new().symbol(symbol).size(11).color(color))
        .text_array(text)
        .hover_template("%{text}<extra></extra>")
        .y_axis(axis)
}
