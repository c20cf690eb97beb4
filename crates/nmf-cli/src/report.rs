//! Text and JSON reports of an [`Outcome`].

use nmf_core::{all_hold, EventKind, Outcome};
use serde_json::{json, Value};

/// The claims as a fixed-width table.
pub fn claims_table(o: &Outcome) -> String {
    let fit = &o.fit;
    let e = &o.experiment;
    let mut s = format!(
        "MU on M {}×{}, rank {}, seed {}, {:?} data, {:?} init: {} ({} rows)\n",
        e.m,
        e.n,
        e.k,
        e.seed,
        e.data,
        e.init,
        fit.stop,
        fit.trace.rows.len()
    );
    s.push_str(&format!(
        "final objective {:.6e}, final KKT residual {:.3e}\n",
        fit.final_objective, fit.final_kkt
    ));
    s.push_str(
        "value and tolerance are relative to each claim's round-off scale (σ, λ_max or s_k + s_k+1)\n",
    );
    s.push_str(&format!(
        "{:<26} {:>13} {:>7} {:>7} {:>6} {:>8} {:>12} {:>12} {:>9}\n",
        "claim", "verdict", "checked", "skipped", "unres", "worst@", "value", "tolerance", "usage"
    ));
    for v in &o.claims {
        let (it, val, tol, use_) = match &v.worst {
            Some(w) => (
                w.iter.to_string(),
                format!("{:.3e}", w.value),
                format!("{:.3e}", w.tol),
                w.usage_display(),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        s.push_str(&format!(
            "{:<26} {:>13} {:>7} {:>7} {:>6} {:>8} {:>12} {:>12} {:>9}\n",
            v.claim,
            v.status.word(),
            v.checked,
            v.skipped,
            v.unresolved,
            it,
            val,
            tol,
            use_
        ));
    }
    for v in &o.claims {
        if let Some(why) = v.why_not_exercised() {
            s.push_str(&format!("{} not exercised: {why}\n", v.claim));
        }
    }
    let t = &fit.trace;
    let first = |k: EventKind| t.first_event(k).map(|x| x.iter);
    s.push_str(&format!(
        "events: {} zero-reached, {} underflow; first zero at iteration {}, first underflow at {}, note's form undefined from {}, unresolved from {}\n",
        t.count_events(EventKind::ZeroReached),
        t.count_events(EventKind::Underflow),
        fmt_opt(first(EventKind::ZeroReached)),
        fmt_opt(first(EventKind::Underflow)),
        fmt_opt(first(EventKind::NoteFormUndefined)),
        fmt_opt(first(EventKind::Unresolved)),
    ));
    for kind in [EventKind::ZeroDataColumns, EventKind::ZeroDataRows] {
        if let Some(ev) = t.first_event(kind) {
            s.push_str(&format!(
                "data: {} {} (first at {} {})\n",
                ev.count,
                kind.describe(),
                if kind == EventKind::ZeroDataColumns {
                    "column"
                } else {
                    "row"
                },
                ev.col.max(ev.row)
            ));
        }
    }
    s
}

fn fmt_opt(x: Option<usize>) -> String {
    x.map_or("never".into(), |i| i.to_string())
}

/// `summary.json`.
pub fn summary(o: &Outcome, command: &str) -> Value {
    let fit = &o.fit;
    let last = fit.trace.rows.last();
    json!({
        "tool": { "name": "nmf-lab", "version": env!("CARGO_PKG_VERSION"), "command": command },
        "experiment": o.experiment,
        "solver": fit.trace.solver,
        "iterations": fit.trace.rows.len(),
        "stop": fit.stop,
        "stop_message": fit.stop.to_string(),
        "final_objective": fit.final_objective,
        "final_kkt": fit.final_kkt,
        "last_row": last,
        "events": {
            "zero_reached": fit.trace.count_events(EventKind::ZeroReached),
            "underflow": fit.trace.count_events(EventKind::Underflow),
            "unresolved_from": fit.trace.first_event(EventKind::Unresolved).map(|e| (e.iter, e.factor)),
            "zero_data_columns": fit.trace.first_event(EventKind::ZeroDataColumns).map_or(0, |e| e.count),
            "zero_data_rows": fit.trace.first_event(EventKind::ZeroDataRows).map_or(0, |e| e.count),
            "first": fit.trace.events.iter().take(20).collect::<Vec<_>>(),
        },
        "claims": o.claims,
        // true: every claim checked and held; false: one failed; null: none failed, but some
        // claim was not exercised.
        "all_claims_hold": all_hold(&o.claims),
    })
}
