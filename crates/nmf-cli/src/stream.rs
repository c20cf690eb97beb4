//! The trace goes to disk as it is produced: `trace.csv` and `trace.json` are written row by
//! row into the output's temporary directory, so memory does not grow with the number of
//! iterations (a 10⁶-iteration run used to keep 3.2 GB). The figures draw a thinned sample of
//! the rows ([`nmf_plot::Thinning`]: dense early, log-spaced later, every event kept), so
//! `figures.html` stays small at any length.

use std::fs::File;
use std::io::{BufWriter, Write};

use nmf_core::{Event, NmfError, Record, Trace};
use nmf_plot::Thinning;

use crate::output::OutDir;

/// Rows of the first iterations drawn densely before the figures thin out logarithmically
/// (somewhat under `DENSE·(1 + ln(N/DENSE))` points per curve for N iterations, plus the event
/// rows; the figures' title says how many rows they draw).
pub const DENSE: usize = 200;

/// What a finished stream hands back for the report and the figures.
pub struct Streamed {
    /// Rows recorded (the trace files hold all of them).
    pub rows: usize,
    /// The last row, if any.
    pub last: Option<Record>,
    /// The rows the figures draw, with the run's events.
    pub thinned: Trace,
}

/// Writes `trace.csv` and `trace.json` row by row (when `write_trace`), and keeps the thinned
/// rows for the figures.
pub struct Streamer {
    files: Option<(csv::Writer<BufWriter<File>>, BufWriter<File>)>,
    solver: String,
    rows: usize,
    thin: Thinning,
    kept: Vec<Record>,
    last: Option<Record>,
    error: Option<NmfError>,
}

impl Streamer {
    /// Open the trace files in `dir` (only when `write_trace`).
    pub fn new(dir: &OutDir, solver: &str, write_trace: bool) -> Result<Self, NmfError> {
        let files = if write_trace {
            let csv = csv::WriterBuilder::new()
                .has_headers(true)
                .from_writer(BufWriter::new(dir.create("trace.csv")?));
            let mut json = BufWriter::new(dir.create("trace.json")?);
            write!(json, "{{\"solver\":").map_err(|e| io("trace.json", e))?;
            serde_json::to_writer(&mut json, solver)
                .map_err(|e| NmfError::parse("trace.json", e.to_string()))?;
            write!(json, ",\"rows\":[").map_err(|e| io("trace.json", e))?;
            Some((csv, json))
        } else {
            None
        };
        Ok(Streamer {
            files,
            solver: solver.into(),
            rows: 0,
            thin: Thinning::new(DENSE),
            kept: Vec::new(),
            last: None,
            error: None,
        })
    }

    /// Take one row (a write error is kept and reported by [`Streamer::finish`]).
    pub fn push(&mut self, r: &Record) {
        if self.error.is_none() {
            if let Err(e) = self.write_row(r) {
                self.error = Some(e);
            }
        }
        if self.thin.keep(r) {
            self.kept.push(r.clone());
        }
        self.rows += 1;
        self.last = Some(r.clone());
    }

    fn write_row(&mut self, r: &Record) -> Result<(), NmfError> {
        let first = self.rows == 0;
        if let Some((csv, json)) = &mut self.files {
            csv.serialize(r)
                .map_err(|e| NmfError::parse("trace.csv", e.to_string()))?;
            if !first {
                json.write_all(b",").map_err(|e| io("trace.json", e))?;
            }
            serde_json::to_writer(&mut *json, r)
                .map_err(|e| NmfError::parse("trace.json", e.to_string()))?;
        }
        Ok(())
    }

    /// Close the trace files with the run's `events`.
    pub fn finish(self, events: &[Event]) -> Result<Streamed, NmfError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Some((mut csv, mut json)) = self.files {
            if self.rows == 0 {
                csv.write_record(Trace::columns())
                    .map_err(|e| NmfError::parse("trace.csv", e.to_string()))?;
            }
            let file = csv
                .into_inner()
                .map_err(|e| io("trace.csv", e.into_error()))?;
            finish_file(file, "trace.csv")?;
            json.write_all(b"],\"events\":")
                .map_err(|e| io("trace.json", e))?;
            serde_json::to_writer(&mut json, events)
                .map_err(|e| NmfError::parse("trace.json", e.to_string()))?;
            json.write_all(b"}").map_err(|e| io("trace.json", e))?;
            finish_file(json, "trace.json")?;
        }
        let mut kept = self.kept;
        if let Some(r) = self.thin.last_unkept() {
            kept.push(r);
        }
        Ok(Streamed {
            rows: self.rows,
            last: self.last,
            thinned: Trace {
                solver: self.solver,
                rows: kept,
                events: events.to_vec(),
            },
        })
    }
}

fn finish_file(w: BufWriter<File>, name: &str) -> Result<(), NmfError> {
    let file = w.into_inner().map_err(|e| io(name, e.into_error()))?;
    file.sync_all().map_err(|e| io(name, e))
}

fn io(name: &str, e: std::io::Error) -> NmfError {
    NmfError::Io {
        path: name.into(),
        source: e,
    }
}
