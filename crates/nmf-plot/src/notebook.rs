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
//! Jupyter runs a notebook's scripts only when the user's server trusts the notebook (it ran
//! the cells itself, or the user chose "Trust Notebook"); otherwise its HTML sanitizer strips
//! every script, and a figure would stay blank. So each figure's output holds a visible
//! fallback text ([`NO_SCRIPT_FALLBACK`]) that the figure's own script removes when it runs,
//! and [`init`]'s status line says that plotly.js loaded only once its script ran.
//!
//! ```no_run
//! // In a notebook, after `:dep nmf-plot = { path = "../crates/nmf-plot" }`:
//! nmf_plot::notebook::init();
//! let out = nmf_core::Experiment::note(8, 300).run().unwrap();
//! nmf_plot::notebook::show(&nmf_plot::note_figure(&out.fit.trace));
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use nmf_core::{tables, Event, Verdict};
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

/// The HTML that [`init`] prints (without the evcxr markers): plotly.js, then a status line
/// that says the scripts did not run (see [`NO_SCRIPT_FALLBACK`]) until a script replaces it
/// with the loaded version, or with an error if plotly.js did not load.
pub fn init_html() -> String {
    let id = format!("{}-status", fresh_id());
    format!(
        "{tags}<div id=\"{id}\" style=\"{style}\">plotly.js is embedded in this output, but \
Jupyter did not run it. {why}</div>\n\
<script type=\"text/javascript\">(function () {{ var s = document.getElementById('{id}'); \
if (!s) {{ return; }} s.setAttribute('style', 'color:#555'); \
s.textContent = typeof window.Plotly === 'undefined' \
? 'plotly.js did not load (see the browser console)' \
: 'plotly.js {version} loaded (embedded, offline)'; }})();</script>",
        tags = plotly_script_tags(),
        style = FALLBACK_STYLE,
        why = escape(TRUST_HINT),
        version = plotly_version()
    )
}

/// Shown in each figure's place until the figure's script runs (it never runs in a notebook
/// that the user's Jupyter server does not trust, e.g. one executed by CI or downloaded).
pub const NO_SCRIPT_FALLBACK: &str = "This figure needs JavaScript, which Jupyter runs only in \
a trusted notebook.";

/// What to do about it, after [`NO_SCRIPT_FALLBACK`] and in [`init`]'s status line.
const TRUST_HINT: &str =
    "Trust the notebook (JupyterLab: Command Palette \u{25b8} Trust Notebook; \
Jupyter Notebook: File \u{25b8} Trust Notebook) or run its cells again; or open its exported HTML \
(target/notebooks/*.html, written by just notebooks), which shows every figure.";

/// How the fallback looks: a dashed box, readable in light and dark themes.
const FALLBACK_STYLE: &str =
    "border:1px dashed #c60;color:#c60;padding:0.5em 0.8em;margin:0.3em 0;font-size:0.9em";

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

/// The HTML that [`show`] prints (without the evcxr markers): a container `div` holding the
/// fallback text ([`NO_SCRIPT_FALLBACK`]), a script that removes it, and the figure.
pub fn figure_html(plot: &Plot) -> String {
    let id = fresh_id();
    format!(
        "<div class=\"nmf-plot-figure\">\n\
<div id=\"{id}-fallback\" class=\"nmf-plot-fallback\" style=\"{style}\">{text} {why}</div>\n\
<script type=\"text/javascript\">(function () {{ \
var f = document.getElementById('{id}-fallback'); \
if (f) {{ f.parentNode.removeChild(f); }} }})();</script>\n\
{figure}\n</div>",
        style = FALLBACK_STYLE,
        text = escape(NO_SCRIPT_FALLBACK),
        why = escape(TRUST_HINT),
        figure = inline_figure(plot, &id)
    )
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

/// The claims of a run as an HTML table ([`nmf_core::tables::claims`]): claim, statement,
/// verdict, rows checked, skipped and violating, and the worst row with the share of its
/// tolerance used. Each header's tooltip says what its column means.
pub fn claims_table_html(claims: &[Verdict]) -> String {
    tables::claims(claims)
        .select(&[
            "claim",
            "statement",
            "verdict",
            "checked",
            "skipped",
            "violations",
            "worst_iteration",
            "usage",
        ])
        .to_html()
}

/// Show the claims of a run as a table (see [`claims_table_html`]).
pub fn show_claims(claims: &[Verdict]) {
    html(&claims_table_html(claims));
}

/// The events of a run as an HTML table ([`nmf_core::tables::events`]): iteration, what
/// happened, to how many entries of which factor, and where the first of them is (1-based row
/// and column); a sentence instead when there is none.
pub fn events_table_html(events: &[Event]) -> String {
    if events.is_empty() {
        return format!("<p>{}</p>", escape(tables::NO_EVENTS));
    }
    tables::events(events)
        .select(&["iteration", "event", "entries", "factor", "first_entry"])
        .to_html()
}

/// Show the events of a run as a table (see [`events_table_html`]).
pub fn show_events(events: &[Event]) {
    html(&events_table_html(events));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure() -> String {
        let out = nmf_core::Experiment::note(nmf_core::experiment::DEFAULT_SEED, 20)
            .run()
            .expect("the note's experiment runs");
        figure_html(&crate::note_figure(&out.fit.trace))
    }

    /// The value of the first `attr="…"` after `from`.
    fn attr<'a>(html: &'a str, from: usize, attr: &str) -> &'a str {
        let pat = format!("{attr}=\"");
        let start = from + html[from..].find(&pat).expect("attribute present") + pat.len();
        &html[start..start + html[start..].find('"').unwrap()]
    }

    /// Depth of `div` nesting at byte `at` (opened minus closed `div`s before it).
    fn div_depth(html: &str, at: usize) -> usize {
        html[..at].matches("<div").count() - html[..at].matches("</div>").count()
    }

    #[test]
    fn a_figure_shows_its_fallback_text_inside_its_container_until_its_script_runs() {
        let html = figure();
        // One container around everything, opened first and closed last.
        assert!(html.starts_with("<div class=\"nmf-plot-figure\">"));
        assert!(html.ends_with("</div>"));
        assert_eq!(html.matches("<div").count(), html.matches("</div>").count());
        // The container closes only at the very end: every other `</div>` leaves depth ≥ 1.
        let last = html.len() - "</div>".len();
        for (i, _) in html.match_indices("</div>").filter(|&(i, _)| i < last) {
            assert!(
                div_depth(&html, i + "</div>".len()) >= 1,
                "container closed early"
            );
        }
        // The fallback: a div inside the container, before the figure, with visible text.
        let fb = html.find("class=\"nmf-plot-fallback\"").expect("fallback");
        let fb_div = html[..fb].rfind("<div").unwrap();
        assert_eq!(div_depth(&html, fb_div), 1, "directly inside the container");
        let fb_id = attr(&html, fb_div, "id");
        let text_start = fb + html[fb..].find('>').unwrap() + 1;
        let text = &html[text_start..text_start + html[text_start..].find("</div>").unwrap()];
        assert!(text.starts_with(&escape(NO_SCRIPT_FALLBACK)));
        assert!(text.contains("Trust Notebook") && text.contains("target/notebooks"));
        assert!(
            !text.contains('<'),
            "plain text, nothing a sanitizer would strip"
        );
        let plot_div = html.find("class=\"plotly-graph-div\"").expect("plotly div");
        assert!(fb < plot_div);
        assert_eq!(
            fb_id,
            format!(
                "{}-fallback",
                attr(&html, html[..plot_div].rfind("<div").unwrap(), "id")
            )
        );
        // The script right after it removes exactly that element, before the figure is drawn.
        let script = &html[text_start..][html[text_start..].find("<script").unwrap()..];
        let script = &script[..script.find("</script>").unwrap()];
        assert!(script.contains(&format!("document.getElementById('{fb_id}')")));
        assert!(script.contains("f.parentNode.removeChild(f)"));
        assert!(html.find(script).unwrap() < html.find("Plotly.newPlot(").unwrap());
        // Its id is the only one it touches, and the text is not in any script.
        assert_eq!(html.matches(fb_id).count(), 2);
        assert!(!script.contains(NO_SCRIPT_FALLBACK));
    }

    #[test]
    fn init_says_plotly_loaded_only_from_its_script() {
        let html = init_html();
        let status = html.rfind("<div id=\"").unwrap();
        let id = attr(&html, status, "id");
        let visible = &html[status..status + html[status..].find("</div>").unwrap()];
        assert!(visible.contains("Jupyter did not run it") && visible.contains("Trust Notebook"));
        assert!(!visible.contains("loaded (embedded, offline)"));
        let script = &html[status + visible.len()..];
        assert!(script.contains(&format!("document.getElementById('{id}')")));
        assert!(script.contains(&format!(
            "plotly.js {} loaded (embedded, offline)",
            plotly_version()
        )));
        assert!(script.contains("plotly.js did not load"));
        assert!(
            html.find(crate::plotly_js()).unwrap() < status,
            "after plotly.js ran"
        );
    }
}
