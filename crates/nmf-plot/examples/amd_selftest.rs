//! Writes a page that imitates a notebook front end with an AMD loader (require.js sets
//! `define.amd`) and then shows a figure the way a notebook does: `notebook::init`'s output,
//! then `notebook::show`'s. `scripts/browser-check.sh --require "AMD loader restored"` on it
//! checks in a real browser that the figure renders (plotly.js reached `window.Plotly` despite
//! the loader) and that the page's loader was handed back untouched.
//!
//! cargo run -p nmf-plot --example amd_selftest -- target/browser-check/amd-selftest.html

use nmf_core::experiment::DEFAULT_SEED;
use nmf_core::Experiment;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/browser-check/amd-selftest.html".to_string());
    let out = Experiment::note(DEFAULT_SEED, 200)
        .run()
        .expect("the note's experiment runs");
    let init = nmf_plot::notebook::init_html();
    let figure = nmf_plot::notebook::figure_html(&nmf_plot::note_figure(&out.fit.trace));
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>nmf-plot AMD self-test</title>\n\
<script>\n\
// A stand-in for require.js: an AMD define that records what registers through it.\n\
window.__amdCalls = 0;\n\
window.define = function () {{ window.__amdCalls += 1; }};\n\
window.define.amd = {{ jQuery: true }};\n\
window.__amdOriginal = window.define;\n\
</script></head><body>\n\
<h1>nmf-plot AMD self-test</h1>\n{init}\n{figure}\n\
<p id=\"amd-result\"></p>\n\
<script>\n\
document.getElementById('amd-result').textContent =\n\
  (window.define === window.__amdOriginal && window.define.amd ? 'AMD loader restored' : 'AMD loader LOST')\n\
  + '; Plotly global: ' + (typeof window.Plotly) + '; AMD registrations: ' + window.__amdCalls;\n\
</script>\n</body></html>\n"
    );
    let path = std::path::Path::new(&path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).expect("create the output directory");
    }
    std::fs::write(path, page).expect("write the self-test page");
    println!("wrote {}", path.display());
}
