//! Text and JSON reports of an [`Outcome`].

use std::path::Path;

use nmf_core::tables::{self, Cell, Field, TextLayout};
use nmf_core::{all_hold, EventKind, NmfError, Outcome, Record};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// What the report needs of a run whose rows were streamed to disk.
pub struct RunStats<'a> {
    /// Rows recorded.
    pub rows: usize,
    /// The last one.
    pub last: Option<&'a Record>,
    /// Where M came from, in words (a file's name, a bundled data set, or the seeded draw).
    pub data: String,
}

/// The claims as a fixed-width table.
pub fn claims_table(o: &Outcome, stats: &RunStats<'_>) -> String {
    let fit = &o.fit;
    let e = &o.experiment;
    let mut s = format!(
        "{} on M {}×{} ({}), rank {}, seed {}, {:?} init: {} ({} rows)\n",
        e.solver.title(),
        e.m,
        e.n,
        stats.data,
        e.k,
        e.seed,
        e.init,
        fit.stop,
        stats.rows
    );
    s.push_str(&format!(
        "final objective {:.6e}, final KKT residual {:.3e}{}\n",
        fit.final_objective,
        fit.final_kkt,
        fit.final_kkt_floor.map_or(String::new(), |r| format!(
            " (of the problem with the floor ε: {r:.3e})"
        ))
    ));
    s.push_str(
        "value and tolerance are relative to each claim's round-off scale (σ, λ_max or s_k + s_k+1)\n",
    );
    s.push_str(&tables::claims(&o.claims).to_text(&TextLayout {
        fields: &CLAIM_FIELDS,
        end: "",
        header: true,
    }));
    for v in &o.claims {
        if let Some(why) = v.why_not_exercised() {
            s.push_str(&format!("{} not exercised: {why}\n", v.claim));
        }
    }
    let kinds = tables::event_kinds(&fit.trace.events);
    let cell = |kind: EventKind, key: &str| {
        let row = tables::EVENT_KINDS.iter().position(|&k| k == kind);
        kinds.cell(row.expect("event_kinds lists every kind"), key)
    };
    let first = |kind: EventKind| cell(kind, "first_iteration").text_or("never");
    s.push_str(&format!(
        "events: {} zero-reached, {} underflow; first zero at iteration {}, first underflow at {}, note's form undefined from {}, unresolved from {}\n",
        cell(EventKind::ZeroReached, "events").text(),
        cell(EventKind::Underflow, "events").text(),
        first(EventKind::ZeroReached),
        first(EventKind::Underflow),
        first(EventKind::NoteFormUndefined),
        first(EventKind::Unresolved),
    ));
    for kind in [EventKind::ZeroDataColumns, EventKind::ZeroDataRows] {
        if cell(kind, "first_iteration") != &Cell::Absent {
            s.push_str(&format!(
                "data: {} {} (first at {})\n",
                cell(kind, "first_count").text(),
                cell(kind, "event").text(),
                cell(kind, "first_place").text(),
            ));
        }
    }
    s
}

/// The columns of the claims table and their widths.
const CLAIM_FIELDS: [Field; 9] = [
    Field::left("claim", 26).after(""),
    Field::right("verdict", 13),
    Field::right("checked", 7),
    Field::right("skipped", 7),
    Field::right("unresolved", 6),
    Field::right("worst_iteration", 8),
    Field::right("value", 12),
    Field::right("tolerance", 12),
    Field::right("usage", 9),
];

/// Where a run's results come from: the full command line, the nmf-lab version and the git
/// commit it was built from, every input file with its SHA-256 and shape, and the start used.
pub fn provenance(o: &Outcome, inputs: &[(&str, &Path)]) -> Result<Value, NmfError> {
    let files = inputs
        .iter()
        .map(|(role, path)| {
            // Standard input was consumed, and a bundled data set is no file: no hash to give.
            let bundled = nmf_core::datasets::bundled(path);
            if path.as_os_str() == "-" || bundled.is_some() {
                return Ok(json!({
                    "role": role,
                    "path": bundled.map_or("<stdin>".into(), |n| format!("bundled:{n}")),
                    "sha256": null,
                    "rows": o.data.nrows(),
                    "cols": o.data.ncols(),
                }));
            }
            let bytes = std::fs::read(path).map_err(|e| NmfError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            let shape = match *role {
                "data" => Some(o.data.dim()),
                "init_u" => Some(o.init.u.dim()),
                "init_v" => Some(o.init.v.dim()),
                _ => None,
            };
            Ok(json!({
                "role": role,
                "path": path.display().to_string(),
                "sha256": hex(&Sha256::digest(&bytes)),
                "bytes": bytes.len(),
                "rows": shape.map(|s| s.0),
                "cols": shape.map(|s| s.1),
            }))
        })
        .collect::<Result<Vec<_>, NmfError>>()?;
    Ok(json!({
        "command_line": std::env::args().collect::<Vec<_>>(),
        "nmf_lab_version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("NMF_LAB_GIT_COMMIT"),
        "inputs": files,
        "init": o.experiment.init,
        "seed": o.experiment.seed,
        "data": if inputs.is_empty() { json!(o.experiment.data) } else { json!("file") },
    }))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `summary.json`.
pub fn summary(o: &Outcome, stats: &RunStats<'_>, command: &str, provenance: Value) -> Value {
    let fit = &o.fit;
    let last = stats.last;
    let mut v = json!({
        "tool": { "name": "nmf-lab", "version": env!("CARGO_PKG_VERSION"), "command": command },
        "provenance": provenance,
        "experiment": o.experiment,
        "solver": fit.trace.solver,
        "iterations": stats.rows,
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
    });
    // Only for a method with a floor ε (ε-MU, HALS): the KKT residual of min over U, V ≥ ε.
    if let Some(r) = fit.final_kkt_floor {
        v["final_kkt_floor"] = json!(r);
    }
    v
}
