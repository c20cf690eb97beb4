//! Shared helpers for the workspace tests: formatting a trace for snapshots.
//!
//! Trace values are printed at a fixed number of **significant digits** (not decimal places:
//! insta's `rounded_redaction` would turn 3e-9 into 0), so a snapshot pins the dynamics to
//! six digits while staying independent of last-bit differences between BLAS kernels.

use nmf_core::tables::{self, Field, TextLayout};
use nmf_core::{Outcome, Trace, Verdict};

/// Significant digits kept in snapshots.
pub const SIG: usize = 6;

/// `x` with `SIG` significant digits in scientific notation; `-` for undefined.
pub fn sig(x: Option<f64>) -> String {
    match x {
        Some(v) => format!("{v:.*e}", SIG - 1),
        None => "-".into(),
    }
}

/// Columns pinned by the snapshots: quantities determined by the dynamics. Pure round-off
/// quantities (identity residuals, the note's difference of objectives late in a run, σ_min
/// of the singular VᵀV) are deliberately not pinned digit by digit; the claims pin them.
pub const PINNED: [&str; 18] = [
    "objective",
    "step_v",
    "inner_v_closed",
    "decrease_v",
    "theta_v",
    "eig_utu_min",
    "eig_utu_max",
    "k_ratio_v",
    "step_u",
    "inner_u_closed",
    "decrease_u",
    "theta_u",
    "eig_vvt_min",
    "eig_vvt_max",
    "k_ratio_u",
    "kkt",
    "zeros_v",
    "subnormal_u",
];

/// A sample of rows (the first three, powers of ten, the last) as aligned text.
pub fn sample_rows(t: &Trace) -> String {
    let n = t.rows.len();
    let mut idx: Vec<usize> = vec![0, 1, 2, 10, 100, 1000, 5000];
    idx.retain(|&i| i < n);
    if n > 0 && !idx.contains(&(n - 1)) {
        idx.push(n - 1);
    }
    let mut s = String::new();
    for &i in &idx {
        let r = &t.rows[i];
        s.push_str(&format!("row {i}\n"));
        let vals = r.values();
        for name in PINNED {
            let v = vals
                .iter()
                .find(|(n, _)| *n == name)
                .expect("pinned column exists")
                .1;
            s.push_str(&format!("  {name:<15} {}\n", sig(v)));
        }
    }
    s
}

/// The claims as text: verdict and counts (worst rows of round-off claims move with the last
/// bits, so they are not pinned).
pub fn claims_summary(claims: &[Verdict]) -> String {
    const FIELDS: [Field; 6] = [
        Field::left("claim", 26).after(""),
        Field::left("verdict", 5),
        Field::right("checked", 5).after(" checked "),
        Field::right("skipped", 3).after(" skipped "),
        Field::right("unresolved", 3).after(" unresolved "),
        Field::left("violations", 0).after(" violations "),
    ];
    tables::claims(claims).to_text(&TextLayout {
        fields: &FIELDS,
        end: "",
        header: false,
    })
}

/// The events as text: every field as recorded, one line each.
pub fn events_summary(events: &[nmf_core::Event]) -> String {
    const FIELDS: [Field; 6] = [
        Field::left("kind", 0).after("event "),
        Field::left("iteration", 0).after(" at "),
        Field::left("factor", 0).after(" in "),
        Field::left("count", 0).after(" (count "),
        Field::left("row", 0).after(", first at row "),
        Field::left("col", 0).after(", col "),
    ];
    tables::events(events).to_text(&TextLayout {
        fields: &FIELDS,
        end: ")",
        header: false,
    })
}

/// Stop reason, events and a sample of rows of an outcome.
pub fn outcome_report(o: &Outcome) -> String {
    let mut s = format!("stop: {}\nrows: {}\n", o.fit.stop, o.fit.trace.rows.len());
    s.push_str(&format!(
        "final objective {}\n",
        sig(Some(o.fit.final_objective))
    ));
    s.push_str(&events_summary(&o.fit.trace.events));
    s.push_str(&sample_rows(&o.fit.trace));
    s
}
