//! Each figure of a fixed trace (the note's experiment, seed `DEFAULT_SEED`, 300 iterations):
//! trace names, titles, axis types, gaps, non-positive values, events; and the HTML's scripts.

use std::sync::OnceLock;

use nmf_core::experiment::DEFAULT_SEED;
use nmf_core::{Event, EventKind, Experiment, Trace, Which};
use serde_json::Value;

use super::*;

const ITERS: usize = 300;

fn experiment() -> Experiment {
    Experiment::note(DEFAULT_SEED, ITERS)
}

fn trace() -> &'static Trace {
    static T: OnceLock<Trace> = OnceLock::new();
    T.get_or_init(|| {
        let out = experiment().run().expect("the note's experiment runs");
        assert_eq!(out.fit.trace.rows.len(), ITERS);
        out.fit.trace
    })
}

fn json(plot: &Plot) -> Value {
    serde_json::from_str(&plot.to_json()).expect("a plot serializes to JSON")
}

fn names(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .expect("data is an array")
        .iter()
        .map(|t| {
            t["name"]
                .as_str()
                .expect("every trace is named")
                .to_string()
        })
        .collect()
}

fn title(v: &Value) -> &str {
    v["layout"]["title"]["text"].as_str().expect("a title")
}

fn axis_type<'a>(v: &'a Value, axis: &str) -> &'a str {
    v["layout"][axis]["type"]
        .as_str()
        .expect("an explicit axis type")
}

fn trace_named<'a>(v: &'a Value, prefix: &str) -> &'a Value {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no trace named `{prefix}…` in {:?}", names(v)))
}

/// Every trace's hover shows the iteration and a full-precision value (or its exact text).
fn assert_hover(v: &Value) {
    for t in v["data"].as_array().unwrap() {
        let h = t["hovertemplate"].as_str().expect("a hover template");
        assert!(
            h.contains("%{x:d}") || h == "%{text}<extra></extra>",
            "hover shows the iteration: {h}"
        );
        assert!(
            h.contains("%{y:.17g}") || h.contains("%{text}"),
            "hover shows the exact value: {h}"
        );
    }
}

#[test]
fn note_figure_has_the_notes_quantities_and_ours_on_a_log_axis() {
    let v = json(&note_figure(trace()));
    assert_eq!(title(&v), NOTE_TITLE);
    assert_eq!(
        names(&v),
        [
            "f = ½‖M − UV‖²  (note: \"||M-UV||^2\")",
            "½‖U(ΔV)‖²  (note: \"0.5||U(Vk-Vk1)||^2\")",
            "⟨∇g(V′), V − V′⟩ direct  (note: \"inner Product 1\")",
            "Lemma 2, ratio form (ours)",
            "Lemma 2, the note's √ form  (note: \"inner Product 2\"; gap = not finite)",
            "g(V) − g(V′), stable form (ours)",
            "g(V) − g(V′) as f(V) − f(V′)  (note: \"g(Vk)-g(Vk1)\"; round-off)",
        ]
    );
    assert_eq!(axis_type(&v, "yaxis"), "log");
    assert_eq!(axis_type(&v, "xaxis"), "linear");
    assert!(v["layout"]["xaxis"]["title"]["text"]
        .as_str()
        .unwrap()
        .contains("iteration"));
    assert!(v["layout"]["yaxis"]["title"]["text"]
        .as_str()
        .unwrap()
        .contains("units of M²"));
    // The iteration axis is the regular grid 0, 1, …; every line has one value per row.
    for t in v["data"].as_array().unwrap() {
        assert_eq!(t["x0"], 0.0);
        assert_eq!(t["dx"], 1.0);
        assert_eq!(t["y"].as_array().unwrap().len(), ITERS);
    }
    // The plotted values are the trace's, bit for bit.
    let obj = &v["data"][0]["y"];
    for (i, r) in trace().rows.iter().enumerate() {
        assert_eq!(obj[i].as_f64(), Some(r.objective));
    }
    assert_hover(&v);
}

#[test]
fn theta_figure_has_bands_and_the_notes_vtv_bound_on_log_axes() {
    let v = json(&theta_figure(trace()));
    assert_eq!(title(&v), THETA_TITLE);
    let n = names(&v);
    for expected in [
        "λ_min(UᵀU)",
        "λ_max(UᵀU)  (band: [λ_min, λ_max])",
        "θ_V = ‖UΔV‖² / ‖ΔV‖²",
        "λ_min(V′V′ᵀ)",
        "λ_max(V′V′ᵀ)  (band: [λ_min, λ_max])",
        "θ_U = ‖ΔU V′‖² / ‖ΔU‖²",
        "the note's σ_min(VᵀV), n×n (bounds nothing)",
    ] {
        assert!(
            n.iter().any(|x| x == expected),
            "missing `{expected}` in {n:?}"
        );
    }
    assert_eq!(axis_type(&v, "yaxis"), "log");
    assert_eq!(axis_type(&v, "yaxis2"), "log");
    // The band's upper edge fills to its lower edge, which comes right before it.
    for (lo, hi) in [
        ("λ_min(UᵀU)", "λ_max(UᵀU)"),
        ("λ_min(V′V′ᵀ)", "λ_max(V′V′ᵀ)"),
    ] {
        let i = n.iter().position(|x| x == lo).unwrap();
        assert!(n[i + 1].starts_with(hi));
        assert_eq!(v["data"][i + 1]["fill"], "tonexty");
    }
    // V half-step traces on the top axis, U half-step traces on the bottom one.
    assert_eq!(trace_named(&v, "θ_V")["yaxis"], "y");
    assert_eq!(trace_named(&v, "θ_U")["yaxis"], "y2");
    // The note's VᵀV minimum is 0 up to round-off (n = 8 > k = 5): whatever is exactly 0 or
    // negative is not silently dropped but counted in its own legend entry.
    // On this trace it comes out exactly 0 in every row.
    let vtv = trace().series(|r| r.note.vtv_eig_min);
    let non_positive = vtv.iter().flatten().filter(|x| **x <= 0.0).count();
    assert_eq!(non_positive, ITERS, "σ_min(VᵀV) is 0 here (n = 8 > k = 5)");
    let companion = trace_named(&v, "the note's σ_min(VᵀV), n×n (bounds nothing): ");
    assert!(companion["name"]
        .as_str()
        .unwrap()
        .ends_with(&format!("= 0 at {ITERS} iterations, drawn at 1e-4")));
    assert_eq!(companion["x"].as_array().unwrap().len(), ITERS);
    assert!(companion["y"]
        .as_array()
        .unwrap()
        .iter()
        .all(|y| y.as_f64() == Some(1e-4)));
    assert_hover(&v);
}

#[test]
fn decrease_split_figure_has_both_halves_and_the_k_ratio_with_its_bounds() {
    let v = json(&decrease_split_figure(trace()));
    assert_eq!(title(&v), DECREASE_TITLE);
    assert_eq!(
        names(&v),
        [
            "V: g(V) − g(V′)",
            "V: quadratic term ½‖UΔV‖²",
            "V: inner product ⟨∇g(V′), V − V′⟩",
            "U: h(U) − h(U′)",
            "U: quadratic term ½‖ΔU V′‖²",
            "U: inner product ⟨∇h(U′), U − U′⟩",
            "V: K-ratio decrease / ‖ΔV‖²_K",
            "U: K-ratio decrease / ‖ΔU‖²_K",
            "V: K-ratio on its own terms 1 − ½‖UΔV‖²/‖ΔV‖²_K (checked)",
            "U: K-ratio on its own terms 1 − ½‖ΔU V′‖²/‖ΔU‖²_K (checked)",
        ]
    );
    // The checked series is the claim's ρ, row by row, from nmf_core.
    let rho = &trace_named(&v, "V: K-ratio on its own terms")["y"];
    for (i, r) in trace().rows.iter().enumerate() {
        let want = nmf_core::claims::k_ratio_own_terms(r, Half::V);
        assert_eq!(rho[i].as_f64(), want, "row {i}");
    }
    assert_eq!(axis_type(&v, "yaxis"), "log");
    assert_eq!(axis_type(&v, "yaxis2"), "linear");
    let lines: Vec<f64> = v["layout"]["shapes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["yref"], "y2");
            assert_eq!(s["y0"], s["y1"]);
            s["y0"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(lines, [0.5, 1.0]);
    assert_eq!(trace_named(&v, "V: K-ratio")["yaxis"], "y2");
    assert_hover(&v);
}

#[test]
fn identity_residuals_figure_uses_the_claims_residuals_in_eps_units() {
    let t = trace();
    let v = json(&identity_residuals_figure(t, experiment().dims()));
    assert_eq!(title(&v), RESIDUALS_TITLE);
    let n = names(&v);
    for lemma in ["Lemma 1", "Lemma 2"] {
        for (half, s) in [("V", "v"), ("U", "u")] {
            for what in ["|residual|", "tolerance"] {
                let name = format!("{lemma} ({half}): {what} / (ε σ_{s})");
                assert!(n.contains(&name), "missing `{name}` in {n:?}");
            }
        }
    }
    assert_eq!(axis_type(&v, "yaxis"), "log");
    assert_eq!(axis_type(&v, "yaxis2"), "log");
    // Values are those of nmf_core::claims, converted by in_eps_units.
    let tol = &trace_named(&v, "Lemma 1 (V): tolerance")["y"];
    let res = &trace_named(&v, "Lemma 1 (V): |residual|")["y"];
    for (i, r) in t.rows.iter().enumerate() {
        let (value, bound) = lemma1_row(r, experiment().dims(), Half::V).pair().unwrap();
        assert_eq!(tol[i].as_f64(), Some(in_eps_units(bound)));
        let expected = Some(in_eps_units(value)).filter(|x| *x > 0.0);
        assert_eq!(res[i].as_f64(), expected, "row {i}");
    }
    // Exact zeros of a residual are drawn by a counted companion entry, not dropped.
    let zeros = t
        .rows
        .iter()
        .filter(|r| {
            lemma1_row(r, experiment().dims(), Half::V)
                .pair()
                .unwrap()
                .0
                == 0.0
        })
        .count();
    let companion = "Lemma 1 (V): |residual| / (ε σ_v): = 0 at";
    if zeros > 0 {
        let c = trace_named(&v, companion);
        assert_eq!(c["x"].as_array().unwrap().len(), zeros);
    } else {
        assert!(!names(&v).iter().any(|n| n.starts_with(companion)));
    }
    assert_hover(&v);
}

#[test]
fn kkt_events_figure_marks_every_event_on_the_iteration_axis() {
    let mut t = trace().clone();
    t.events = vec![
        Event {
            iter: 10,
            kind: EventKind::Underflow,
            factor: Which::U,
            count: 1,
            row: 3,
            col: 2,
        },
        Event {
            iter: 20,
            kind: EventKind::Underflow,
            factor: Which::V,
            count: 2,
            row: 1,
            col: 1,
        },
        Event {
            iter: 30,
            kind: EventKind::ZeroReached,
            factor: Which::V,
            count: 1,
            row: 4,
            col: 5,
        },
        Event {
            iter: 40,
            kind: EventKind::NoteFormUndefined,
            factor: Which::V,
            count: 1,
            row: 0,
            col: 0,
        },
    ];
    let v = json(&kkt_events_figure(&t));
    assert_eq!(title(&v), KKT_TITLE);
    assert_eq!(
        names(&v),
        [
            "KKT residual (both factors)",
            "‖min(V, ∇_V f)‖_F",
            "‖min(U, ∇_U f)‖_F",
            "entries of V exactly 0",
            "entries of U exactly 0",
            "entries of V subnormal",
            "entries of U subnormal",
            "event: an entry reached exactly 0 (zero locking): 1 time",
            "event: an entry became subnormal (underflow): 2 times",
            "event: the note's √ form of Lemma 2 became NaN or ∞: 1 time",
        ]
    );
    assert_eq!(axis_type(&v, "yaxis"), "log");
    assert_eq!(axis_type(&v, "yaxis2"), "linear");
    let under = trace_named(&v, "event: an entry became subnormal");
    assert_eq!(under["x"], serde_json::json!([10.0, 20.0]));
    // Markers sit on the KKT curve at the event's iteration.
    assert_eq!(under["y"][1].as_f64(), Some(t.rows[20].kkt));
    assert!(under["text"][1]
        .as_str()
        .unwrap()
        .contains("2 entries of V, the first at row 1, column 1"));
    let xs: Vec<f64> = v["layout"]["shapes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["x0"].as_f64().unwrap())
        .collect();
    assert_eq!(xs.len(), 4);
    for x in [10.0, 20.0, 30.0, 40.0] {
        assert!(xs.contains(&x), "a vertical line at iteration {x}");
    }
    // Without events there are no event traces and no lines.
    let plain = json(&kkt_events_figure(trace()));
    assert_eq!(names(&plain).len(), 7);
    assert_eq!(plain["layout"]["shapes"].as_array().map_or(0, Vec::len), 0);
}

#[test]
fn missing_values_are_gaps_never_zeros() {
    let mut t = trace().clone();
    t.rows[5].v.theta = None;
    t.rows[7].note.sqrt_inner_v = None;
    let theta = json(&theta_figure(&t));
    let y = &trace_named(&theta, "θ_V")["y"];
    assert!(y[5].is_null());
    assert!(y[6].as_f64().is_some());
    let note = json(&note_figure(&t));
    assert!(trace_named(&note, "Lemma 2, the note's √ form")["y"][7].is_null());
    // A gap is not a non-positive value: no companion entry for it.
    assert!(!names(&theta)
        .iter()
        .any(|n| n.starts_with("θ_V = ‖UΔV‖² / ‖ΔV‖²: ")));
}

#[test]
fn non_positive_values_on_a_log_axis_are_shown_and_counted() {
    let mut t = trace().clone();
    t.rows[3].note.difference_decrease_v = Some(-2.5e-15);
    t.rows[4].note.difference_decrease_v = Some(0.0);
    t.rows[9].note.difference_decrease_v = Some(-1.0e-14);
    let v = json(&note_figure(&t));
    let line = trace_named(&v, "g(V) − g(V′) as f(V) − f(V′)");
    assert!(line["y"][3].is_null() && line["y"][4].is_null() && line["y"][9].is_null());
    let n = names(&v);
    let companion = n
        .iter()
        .find(|x| x.starts_with("g(V) − g(V′) as f(V) − f(V′)") && x.contains(": <"))
        .expect("a companion entry for the non-positive values");
    assert!(companion.contains("< 0 at 2 iterations, drawn at |value|"));
    assert!(companion.contains("= 0 at 1 iterations"));
    let c = trace_named(&v, companion);
    assert_eq!(c["x"], serde_json::json!([3.0, 4.0, 9.0]));
    assert_eq!(c["y"][0].as_f64(), Some(2.5e-15));
    assert_eq!(c["y"][2].as_f64(), Some(1.0e-14));
    let floor = c["y"][1].as_f64().unwrap();
    assert!(
        floor > 0.0 && floor < 1.0e-15,
        "zero drawn below the data: {floor}"
    );
    assert!(c["text"][0].as_str().unwrap().starts_with("-2.5e-15"));
    assert!(c["text"][1].as_str().unwrap().contains("exactly zero"));
    // The companion shares the legend group of its line (toggled together).
    assert_eq!(c["legendgroup"], line["legendgroup"]);
}

#[test]
fn all_figures_are_the_five_in_order() {
    let figs = all_figures(trace(), experiment().dims());
    let titles: Vec<&str> = figs.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            NOTE_TITLE,
            THETA_TITLE,
            DECREASE_TITLE,
            RESIDUALS_TITLE,
            KKT_TITLE
        ]
    );
    for (t, p) in &figs {
        assert_eq!(title(&json(p)), t);
    }
}

/// The opening `<script …>` tags of an HTML text.
fn script_tags(html: &str) -> Vec<&str> {
    let lower = html.to_ascii_lowercase();
    lower
        .match_indices("<script")
        .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap() + 1])
        .collect()
}

#[test]
fn figures_html_is_self_contained_with_plotly_embedded_once() {
    let figs = all_figures(trace(), experiment().dims());
    let html = figures_html("seed 8 <test>", &figs);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>seed 8 &lt;test&gt;</title>"));
    for tag in script_tags(&html) {
        assert!(
            !tag.to_ascii_lowercase().contains("src"),
            "a script loaded from elsewhere: {tag}"
        );
    }
    assert!(!html.contains("<script src=\"http"));
    assert!(!html.contains("src=\"https://cdn."));
    assert_eq!(
        html.matches(plotly_js()).count(),
        1,
        "plotly.js embedded exactly once"
    );
    assert!(plotly_js().len() > 1_000_000, "the full plotly.js bundle");
    assert!(plotly_js().contains("window.Plotly = Plotly"));
    for (i, (name, _)) in figs.iter().enumerate() {
        let id = format!("nmf-figure-{}", i + 1);
        assert!(
            html.contains(&format!("<div id=\"{id}\"")),
            "div of figure {}",
            i + 1
        );
        assert!(html.contains(&format!("Plotly.newPlot(\"{id}\"")));
        assert!(html.contains(&format!("<h2>{}</h2>", html::escape(name))));
    }
    // MathJax (the second offline script of the plotly crate, a webpack bundle) is not
    // embedded: the labels are plain Unicode.
    assert!(Plot::offline_js_sources().contains("__webpack_modules__"));
    assert!(!html.contains("__webpack_modules__"));
}

#[test]
fn notebook_output_is_an_evcxr_html_block_without_network_scripts() {
    let fig = notebook::figure_html(&note_figure(trace()));
    let block = notebook::html_block(&fig);
    assert!(block.starts_with("EVCXR_BEGIN_CONTENT text/html\n"));
    assert!(block.ends_with("\nEVCXR_END_CONTENT"));
    assert!(fig.contains("Plotly.newPlot("));
    assert!(fig.contains("plotly.js is not loaded on this page"));
    for tag in script_tags(&fig) {
        assert!(!tag.to_ascii_lowercase().contains("src"));
    }
    assert!(!fig.contains("require("), "no require.js");
    // Two figures get two different element ids.
    let id = |s: &str| {
        s[s.find("id=\"").unwrap() + 4..]
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(id(&fig), id(&notebook::figure_html(&note_figure(trace()))));
    // The loader hides AMD/CommonJS while plotly.js runs, then restores them.
    let tags = html::plotly_script_tags();
    assert!(tags.find("window.define = undefined").unwrap() < tags.find(plotly_js()).unwrap());
    assert!(
        tags.rfind("window.define = window.__nmfPlotSaved.define")
            .unwrap()
            > tags.find(plotly_js()).unwrap()
    );
}

#[test]
fn claims_table_lists_every_claim() {
    let out = Experiment::note(DEFAULT_SEED, 50).run().unwrap();
    let table = notebook::claims_table_html(&out.claims);
    assert_eq!(table.matches("<tr><td>").count(), out.claims.len());
    assert!(table.contains("<code>lemma1_v</code>"));
}

#[test]
fn events_table_lists_every_event() {
    let events = vec![
        Event {
            iter: 12,
            kind: EventKind::ZeroReached,
            factor: Which::U,
            count: 2,
            row: 3,
            col: 4,
        },
        Event {
            iter: 40,
            kind: EventKind::NoteFormUndefined,
            factor: Which::V,
            count: 1,
            row: 0,
            col: 0,
        },
    ];
    let t = notebook::events_table_html(&events);
    assert_eq!(t.matches("<tr><td>").count(), 2);
    assert!(t.contains(
        "<td>12</td><td>reached exactly 0 (zero locking)</td><td>2</td><td>U</td><td>(3, 4)</td>"
    ));
    assert!(t.contains("<td>–</td>"), "no place for the note's NaN");
    assert!(notebook::events_table_html(&[]).contains("No events"));
}

#[test]
fn an_irregular_iteration_axis_is_written_out() {
    let mut t = trace().clone();
    t.rows = t.rows.iter().step_by(3).cloned().collect();
    let v = json(&note_figure(&t));
    let first = &v["data"][0];
    assert!(first.get("x0").is_none());
    let xs: Vec<f64> = first["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(&xs[..4], [0.0, 3.0, 6.0, 9.0]);
    assert_eq!(xs.len(), first["y"].as_array().unwrap().len());
}

#[test]
fn kkt_event_markers_follow_iterations_on_a_thinned_trace() {
    // Keep every 10th row: an event's marker must sit at the KKT value of the last kept row at
    // or before its iteration, not at the row with the event's index.
    let out = nmf_core::Experiment::note(nmf_core::experiment::DEFAULT_SEED, 3000)
        .run()
        .unwrap();
    let mut t = out.fit.trace.clone();
    let ev = t
        .events
        .iter()
        .find(|e| e.kind == nmf_core::EventKind::Underflow)
        .cloned()
        .expect("an underflow by 3000");
    t.rows.retain(|r| r.iter % 10 == 0);
    let want = t.rows.iter().rev().find(|r| r.iter <= ev.iter).unwrap().kkt;
    let json: serde_json::Value = serde_json::from_str(&kkt_events_figure(&t).to_json()).unwrap();
    let marker = json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"].as_str().is_some_and(|n| n.contains("underflow")))
        .expect("an underflow marker trace");
    let xs = marker["x"].as_array().unwrap();
    let i = xs
        .iter()
        .position(|x| x.as_f64() == Some(ev.iter as f64))
        .unwrap();
    assert_eq!(marker["y"][i].as_f64(), Some(want));
}
