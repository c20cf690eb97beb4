//! Text and JSON reports of an [`Outcome`].

use nmf_core::{EventKind, Outcome};
use serde_json::{json, Value};

/// The claims as a fixed-width table.
pub fn claims_table(o: &Outcome) -> String {
    let fit = &o.fit;
    let e = &o.experiment;
    let mut s = format!(
        "MU on M {}×{}, rank {}, seed {}, {:?} data: {} ({} rows)\n",
        e.m,
        e.n,
        e.k,
        e.seed,
        e.data,
        fit.stop,
        fit.trace.rows.len()
    );
    s.push_str(&format!(
        "final objective {:.6e}, final KKT residual {:.3e}\n",
        fit.final_objective, fit.final_kkt
    ));
    s.push_str(&format!(
        "{:<26} {:>7} {:>7} {:>7} {:>8} {:>12} {:>12} {:>9}\n",
        "claim", "verdict", "checked", "skipped", "worst@", "value", "tolerance", "usage"
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
            "{:<26} {:>7} {:>7} {:>7} {:>8} {:>12} {:>12} {:>9}\n",
            v.claim,
            if v.holds { "holds" } else { "FAILS" },
            v.checked,
            v.skipped,
            it,
            val,
            tol,
            use_
        ));
    }
    let t = &fit.trace;
    let first = |k: EventKind| t.first_event(k).map(|x| x.iter);
    s.push_str(&format!(
        "events: {} zero-reached, {} underflow; first zero at iteration {}, first underflow at {}, note's form undefined from {}\n",
        t.count_events(EventKind::ZeroReached),
        t.count_events(EventKind::Underflow),
        fmt_opt(first(EventKind::ZeroReached)),
        fmt_opt(first(EventKind::Underflow)),
        fmt_opt(first(EventKind::NoteFormUndefined)),
    ));
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
            "first": fit.trace.events.iter().take(20).collect::<Vec<_>>(),
        },
        "claims": o.claims,
        "all_claims_hold": o.claims.iter().all(|v| v.holds),
    })
}
