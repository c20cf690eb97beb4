//! Self-contained HTML: plotly.js embedded once, each figure inline, no network.

use std::sync::OnceLock;

use plotly::Plot;

/// plotly.js (minified) as shipped inside the `plotly` crate (feature `plotly_embed_js`):
/// the first `<script>` of [`Plot::offline_js_sources`] (the second is MathJax, which the
/// figures do not use: their labels are plain Unicode).
pub fn plotly_js() -> &'static str {
    static JS: OnceLock<String> = OnceLock::new();
    JS.get_or_init(|| {
        let all = Plot::offline_js_sources();
        let start = all
            .find("<script")
            .and_then(|i| all[i..].find('>').map(|j| i + j + 1))
            .expect("plotly's offline sources start with a <script> tag");
        let end = start
            + all[start..]
                .find("</script>")
                .expect("plotly's offline <script> is closed");
        let js = all[start..end].to_string();
        assert!(
            js.contains("Plotly"),
            "the first offline script of the plotly crate is plotly.js"
        );
        js
    })
}

/// The `<script>` tags that load plotly.js inline and always leave it at `window.Plotly`.
///
/// plotly.js is a UMD bundle: where an AMD loader (`define.amd`, e.g. require.js loaded by
/// some Jupyter front ends and nbconvert templates) or CommonJS (`module.exports`) is present,
/// a UMD bundle may register itself there instead of setting the global. The first script
/// hides `define` and `module` while the bundle runs; the last one restores them and records
/// a visible error if `window.Plotly` is still missing. Three separate scripts, so that the
/// restore runs even if the bundle throws.
pub(crate) fn plotly_script_tags() -> String {
    script_tags_around(&format!(
        "<script type=\"text/javascript\">{}</script>\n",
        plotly_js()
    ))
}

/// [`plotly_script_tags`] with plotly.js loaded from `src` (a file beside the page) instead
/// of embedded.
fn linked_script_tags(src: &str) -> String {
    script_tags_around(&format!(
        "<script type=\"text/javascript\" src=\"{}\"></script>\n",
        escape(src)
    ))
}

/// The AMD guard around the script that defines `Plotly` (see [`plotly_script_tags`]).
fn script_tags_around(plotly: &str) -> String {
    format!(
        "<script type=\"text/javascript\">\
window.__nmfPlotSaved = {{define: window.define, module: window.module}};\
window.define = undefined; window.module = undefined;\
</script>\n\
{plotly}\
<script type=\"text/javascript\">\
if (window.__nmfPlotSaved) {{ window.define = window.__nmfPlotSaved.define; \
window.module = window.__nmfPlotSaved.module; delete window.__nmfPlotSaved; }}\
if (typeof window.Plotly === 'undefined') {{ console.error('nmf-plot: plotly.js did not load'); }}\
</script>\n"
    )
}

/// One figure inline: the `div` and `script` of [`Plot::to_inline_html`], then a guard that
/// puts a readable message in the figure's place when plotly.js is missing from the page.
pub(crate) fn inline_figure(plot: &Plot, id: &str) -> String {
    format!(
        "{}\n<script type=\"text/javascript\">\
if (typeof window.Plotly === 'undefined') {{ var d = document.getElementById('{id}'); \
if (d) {{ d.textContent = 'plotly.js is not loaded on this page \
(in a notebook: run nmf_plot::notebook::init() first)'; }} }}\
</script>",
        plot.to_inline_html(Some(id))
    )
}

/// Escape text for HTML element content and attribute values (one escaping for every table
/// and figure).
pub(crate) use nmf_core::tables::html_escape as escape;

/// One self-contained HTML page: plotly.js embedded once in the head, then each figure under
/// its title (`<h2>`), inline. Opens offline in any browser; no script is loaded from the
/// network.
pub fn figures_html(title: &str, figures: &[(String, Plot)]) -> String {
    page(
        title,
        figures,
        &plotly_script_tags(),
        "plotly.js embedded: works offline",
    )
}

/// The same page with plotly.js (4.6 MB) loaded from `plotly_src`, a file to be written
/// beside the page ([`plotly_js`]): the page itself then holds only the figures' data, so
/// its size is set by the number of points drawn. Opens offline as long as the two files stay
/// together; no script is loaded from the network.
pub fn figures_html_linked(title: &str, figures: &[(String, Plot)], plotly_src: &str) -> String {
    page(
        title,
        figures,
        &linked_script_tags(plotly_src),
        &format!(
            "plotly.js from {} beside this file: works offline",
            escape(plotly_src)
        ),
    )
}

fn page(title: &str, figures: &[(String, Plot)], scripts: &str, how: &str) -> String {
    let mut body = String::new();
    for (i, (name, plot)) in figures.iter().enumerate() {
        let id = format!("nmf-figure-{}", i + 1);
        body.push_str(&format!(
            "<section>\n<h2>{}</h2>\n{}\n</section>\n",
            escape(name),
            inline_figure(plot, &id)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{t}</title>\n\
<style>body {{ font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; }} \
section {{ margin-bottom: 2.5em; }} h2 {{ font-size: 1.15em; }}</style>\n\
{scripts}</head>\n<body>\n<h1>{t}</h1>\n\
<p>Interactive figures ({how}). Hover a curve for the iteration and \
the exact value; click a legend entry to hide or show it; drag to zoom, double-click to reset.</p>\n\
{body}</body>\n</html>\n",
        t = escape(title),
    )
}
