//! Display in Jupyter notebooks on the evcxr kernel, **offline**, in a form that survives
//! `jupyter nbconvert --to html`.
//!
//! evcxr shows rich output that a cell prints between `EVCXR_BEGIN_CONTENT <mime>` and
//! `EVCXR_END_CONTENT`. [`init`] prints plotly.js itself (embedded from the `plotly` crate,
//! about 4.6 MB) once, as a `text/html` output; [`show`] prints one figure as an inline `div`
//! and `script` that uses it. Both outputs are stored in the notebook, so an executed notebook
//! exported to HTML renders with no network. (plotly's own `Plot::notebook_display` and
//! `Plot::evcxr_display` load plotly.js from a CDN through require.js or need JupyterLab's
//! plotly renderer; they are not used.)
//!
//! ```no_run
//! // In a notebook, after `:dep nmf-plot = { path = "../crates/nmf-plot" }`:
//! nmf_plot::notebook::init();
//! let out = nmf_core::Experiment::note(8, 300).run().unwrap();
//! nmf_plot::notebook::show(&nmf_plot::note_figure(&out.fit.trace));
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use nmf_core::{Event, Verdict};
use plotly::Plot;

use crate::html::{escape, inline_figure, plotly_script_tags};

/// The evcxr display block for one HTML fragment.
pub fn html_block(html: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT")
}

/// Print an HTML fragment as a cell output.
pub fn html(fragment: &str) {
    println!("{}", html_block(fragment));
}

/// Load plotly.js into the notebook page (run once, in the first cell that draws). It sets
/// `window.Plotly` even where an AMD loader such as require.js is present.
pub fn init() {
    html(&init_html());
}

/// The HTML that [`init`] prints (without the evcxr markers).
pub fn init_html() -> String {
    format!(
        "{}<div style=\"color:#555\">plotly.js {} loaded (embedded, offline)</div>",
        plotly_script_tags(),
        plotly_version()
    )
}

/// The version of the embedded plotly.js, read from its banner.
fn plotly_version() -> &'static str {
    let js = crate::plotly_js();
    js.find("plotly.js v")
        .map(|i| {
            let rest = &js[i + "plotly.js ".len()..];
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '*')
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .unwrap_or("")
}

/// A fresh element id: unique within a page even across kernel restarts.
fn fresh_id() -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "nmf-plot-{}-{nanos:x}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The HTML that [`show`] prints (without the evcxr markers).
pub fn figure_html(plot: &Plot) -> String {
    inline_figure(plot, &fresh_id())
}

/// Show one figure as the output of the current cell. Call [`init`] once before.
pub fn show(plot: &Plot) {
    html(&figure_html(plot));
}

/// Show several figures, each under its title.
pub fn show_all(figures: &[(String, Plot)]) {
    for (title, plot) in figures {
        html(&format!("<h3>{}</h3>{}", escape(title), figure_html(plot)));
    }
}

/// The claims of a run as an HTML table: claim, verdict, rows checked and skipped,
/// violations, and the worst row with the fraction of its tolerance used.
pub fn claims_table_html(claims: &[Verdict]) -> String {
    let mut s = String::from(
        "<table><thead><tr><th>claim</th><th>statement</th><th>holds</th><th>checked</th>\
<th>skipped</th><th>violations</th><th>worst iteration</th><th>tolerance used</th></tr></thead><tbody>",
    );
    for v in claims {
        let (iter, usage) = match &v.worst {
            Some(w) => (w.iter.to_string(), w.usage_display()),
            None => ("–".into(), "–".into()),
        };
        s.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
<td>{}</td><td>{}</td></tr>",
            escape(&v.claim),
            escape(&v.statement),
            match v.status {
                nmf_core::Status::Holds => "✔ yes",
                nmf_core::Status::Fails => "✘ NO",
                nmf_core::Status::NotExercised => "– not exercised",
            },
            v.checked,
            v.skipped,
            v.violations,
            iter,
            usage
        ));
    }
    s.push_str("</tbody></table>");
    s
}

/// Show the claims of a run as a table (see [`claims_table_html`]).
pub fn show_claims(claims: &[Verdict]) {
    html(&claims_table_html(claims));
}

/// The events of a run as an HTML table: iteration, what happened, to how many entries of
/// which factor, and where the first of them is (1-based row and column).
pub fn events_table_html(events: &[Event]) -> String {
    if events.is_empty() {
        return "<p>No events: no entry reached 0 or underflowed, and the note's form stayed \
defined.</p>"
            .to_string();
    }
    let mut s = String::from(
        "<table><thead><tr><th>iteration</th><th>event</th><th>entries</th><th>factor</th>\
<th>first at (row, column)</th></tr></thead><tbody>",
    );
    for e in events {
        let what = e.kind.describe();
        let place = e
            .location()
            .map_or_else(|| "–".to_string(), |(r, c)| format!("({r}, {c})"));
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.iter, what, e.count, e.factor, place
        ));
    }
    s.push_str("</tbody></table>");
    s
}

/// Show the events of a run as a table (see [`events_table_html`]).
pub fn show_events(events: &[Event]) {
    html(&events_table_html(events));
}
