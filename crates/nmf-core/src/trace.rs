//! The trace: one [`Record`] per iteration, events, and the stop reason.
//!
//! Row `k` describes the step from `(Uₖ, Vₖ)` to `(Uₖ₊₁, Vₖ₊₁)`; its `objective` is `f(Uₖ, Vₖ)`
//! and its `kkt` the KKT residual at `(Uₖ, Vₖ)`. The column names are a contract (issue #2):
//! extend, never rename. An undefined value is `None`: an empty CSV field, JSON `null`.
//! Numbers are written in shortest round-trip form (parsing them gives back the same bits).

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::error::{NmfError, Result, Which};

/// One iteration's quantities. See `MATH.md` for every definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub iter: usize,
    /// $f(U_k, V_k) = \tfrac12\|M - U_kV_k\|_F^2$.
    pub objective: f64,
    /// $\tfrac12\|U_k\Delta V\|^2$.
    pub step_v: f64,
    /// $\langle\nabla g(V_{k+1}), V_k - V_{k+1}\rangle$, direct.
    pub inner_v: f64,
    /// Lemma 2, ratio form.
    pub inner_v_closed: Option<f64>,
    /// $g(V_k) - g(V_{k+1})$, stable form.
    pub decrease_v: f64,
    pub theta_v: Option<f64>,
    pub eig_utu_min: f64,
    pub eig_utu_max: f64,
    pub k_ratio_v: Option<f64>,
    pub step_u: f64,
    pub inner_u: f64,
    pub inner_u_closed: Option<f64>,
    pub decrease_u: f64,
    pub theta_u: Option<f64>,
    pub eig_vvt_min: f64,
    pub eig_vvt_max: f64,
    pub k_ratio_u: Option<f64>,
    /// $\|\min(U_k,\nabla_U f)\|_F + \|\min(V_k,\nabla_V f)\|_F$.
    pub kkt: f64,
    /// The note's square-root form of Lemma 2 (`None` where it is NaN).
    pub note_inner_v: Option<f64>,
    /// The note's decrease: a difference of two objective values (round-off once small;
    /// `None` when the note's columns are not computed).
    pub note_decrease_v: Option<f64>,
    /// The note's spectrum of the n×n matrix $V_k^\top V_k$ (`None` when not computed).
    pub note_vtv_min: Option<f64>,
    pub note_vtv_max: Option<f64>,
    // ---- extensions (not in the note) ----
    /// $\tfrac12\|M + U_kV_k\|^2$: the round-off scale of the objective.
    pub objective_scale: f64,
    /// Whether `objective` was computed directly (true) or by the Gram trick (false).
    pub objective_direct: bool,
    /// Round-off scales $\sigma$ of the V and U half-steps' inner products.
    pub scale_v: f64,
    pub scale_u: f64,
    /// $\|\Delta V\|_F^2$, $\|\Delta U\|_F^2$.
    pub dv_sq: f64,
    pub du_sq: f64,
    /// $\|\Delta V\|_K^2$, $\|\Delta U\|_K^2$.
    pub knorm_v: Option<f64>,
    pub knorm_u: Option<f64>,
    /// The two parts of `kkt`.
    pub kkt_v: f64,
    pub kkt_u: f64,
    /// Exact zeros and subnormal entries in $V_{k+1}$ and $U_{k+1}$.
    pub zeros_v: usize,
    pub zeros_u: usize,
    pub subnormal_v: usize,
    pub subnormal_u: usize,
    // ---- scale-free forms, judged by the claims (see `crate::claims`) ----
    /// The V half-step's sums divided by `scale_v` (σ), formed before they are put back into
    /// the data's units ([`crate::diagnostics::RelSums`]): they never under- or overflow and
    /// are bit-for-bit the same when `M` is scaled by a power of two. Empty when ΔV = 0.
    pub rel_step_v: Option<f64>,
    pub rel_inner_v: Option<f64>,
    pub rel_inner_closed_v: Option<f64>,
    pub rel_decrease_v: Option<f64>,
    pub rel_knorm_v: Option<f64>,
    /// $\tfrac12\min_z X_{zz}\|\Delta V\|^2/\sigma$: the decrease bound that needs no full rank.
    pub rel_diag_bound_v: Option<f64>,
    /// One product's worst underflow error relative to σ (the claims' absolute underflow term
    /// is a count of products times this).
    pub rel_underflow_v: Option<f64>,
    /// The second-order effect of the new iterate's own rounding on the identities for the
    /// exact MU image, relative to σ ([`crate::diagnostics::RelSums::iterate`]).
    pub rel_iterate_v: Option<f64>,
    /// The absolute rounding of subnormal entries of the new iterate, relative to σ
    /// ([`crate::diagnostics::RelSums::iterate_underflow`]).
    pub rel_iterate_underflow_v: Option<f64>,
    /// Moved entries whose inputs (MU's own products) were subnormal, and subnormal entries of
    /// the Gram matrix ([`crate::diagnostics::RelSums::subnormal_inputs`]); 0 when no step.
    pub subnormal_inputs_v: usize,
    /// The same for the U half-step (relative to `scale_u`).
    pub rel_step_u: Option<f64>,
    pub rel_inner_u: Option<f64>,
    pub rel_inner_closed_u: Option<f64>,
    pub rel_decrease_u: Option<f64>,
    pub rel_knorm_u: Option<f64>,
    pub rel_diag_bound_u: Option<f64>,
    pub rel_underflow_u: Option<f64>,
    pub rel_iterate_u: Option<f64>,
    pub rel_iterate_underflow_u: Option<f64>,
    pub subnormal_inputs_u: usize,
}

/// What happened to entries of a factor during one iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Entries that were > 0 became exactly 0 (and MU will keep them there: zero locking).
    ZeroReached,
    /// Entries became subnormal (below `f64::MIN_POSITIVE` ≈ 2.2e-308): precision is being lost.
    Underflow,
    /// The note's square-root form of Lemma 2 became NaN for the first time.
    NoteFormUndefined,
    /// Columns of `M` are all zero (`count` of them, the first at `col`): the matching columns
    /// of `V` are 0 from iteration 1 on, where MU is defined as 0 (see
    /// [`crate::formulas::mu_update`]). Recorded once, at iteration 0.
    ZeroDataColumns,
    /// Rows of `M` are all zero (`count`, the first at `row`); likewise for the rows of `U`.
    ZeroDataRows,
    /// A half-step's sums are no longer resolved: their underflow error bound exceeds their
    /// round-off bound (the step is below about 2⁻¹⁰⁰⁰ of the iterate). From here on the
    /// claims of that half-step skip such rows as unresolved. Recorded at the first such row.
    Unresolved,
}

impl EventKind {
    /// What happened, in the words every table and legend uses: for an event about entries
    /// ([`about_entries`](Self::about_entries)) the predicate of "an entry …", otherwise the
    /// whole statement.
    pub fn describe(self) -> &'static str {
        match self {
            EventKind::ZeroReached => "reached exactly 0 (zero locking)",
            EventKind::Underflow => "became subnormal (underflow)",
            EventKind::NoteFormUndefined => "the note's √ form of Lemma 2 became NaN or ∞",
            EventKind::ZeroDataColumns => {
                "columns of M are all zero (V is 0 there from iteration 1; the update is defined as 0)"
            }
            EventKind::ZeroDataRows => {
                "rows of M are all zero (U is 0 there from iteration 1; the update is defined as 0)"
            }
            EventKind::Unresolved => {
                "a half-step's sums fell below what the double range resolves (rows skipped as unresolved)"
            }
        }
    }

    /// Whether the event concerns entries of a factor (so `count`, `row`, `col` mean something).
    pub fn about_entries(self) -> bool {
        matches!(self, EventKind::ZeroReached | EventKind::Underflow)
    }
}

/// An event in iteration `iter`: `count` entries of `factor`, the first at (1-based) `row`, `col`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub iter: usize,
    pub kind: EventKind,
    pub factor: Which,
    pub count: usize,
    pub row: usize,
    pub col: usize,
}

impl Event {
    /// The (1-based) row and column of the first entry concerned, for events about entries.
    pub fn location(&self) -> Option<(usize, usize)> {
        self.kind.about_entries().then_some((self.row, self.col))
    }
}

/// Why a run stopped. A stop is an outcome, not an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// All requested iterations were done.
    MaxIterations { iters: usize },
    /// The relative decrease $(f_k - f_{k+1})/f_k$ (stable form) fell to `rel_decrease` ≤ tol.
    Tolerance { iter: usize, rel_decrease: f64 },
    /// Neither factor changed in iteration `iter` (a fixed point in floating point).
    Stalled { iter: usize },
    /// MU is undefined: a zero denominator in the update of `factor` at (1-based) row, col.
    ZeroDenominator {
        iter: usize,
        factor: Which,
        row: usize,
        col: usize,
    },
    /// MU's update of `factor` overflowed at (1-based) row, col of that factor (its products
    /// grow like the square of the data's scale); the row was not recorded.
    Overflow {
        iter: usize,
        factor: Which,
        row: usize,
        col: usize,
    },
    /// MU's update of `factor` underflowed: the other factor's Gram matrix has a subnormal
    /// diagonal entry at (1-based) `index` (the data's scale is below what MU's products
    /// represent); the row was not recorded.
    Underflow {
        iter: usize,
        factor: Which,
        index: usize,
    },
    /// A diagnostic came out non-finite (overflow); the row was not recorded.
    NonFinite { iter: usize, quantity: String },
    /// The caller's callback asked to stop after iteration `iter`.
    Interrupted { iter: usize },
}

impl StopReason {
    /// Whether this stop means the run failed (MU undefined or overflow).
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            StopReason::ZeroDenominator { .. }
                | StopReason::Overflow { .. }
                | StopReason::Underflow { .. }
                | StopReason::NonFinite { .. }
        )
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::MaxIterations { iters } => write!(f, "completed {iters} iterations"),
            StopReason::Tolerance { iter, rel_decrease } => {
                write!(f, "tolerance reached at iteration {iter} (relative decrease {rel_decrease:e})")
            }
            StopReason::Stalled { iter } => write!(f, "stalled at iteration {iter}: neither factor changed"),
            StopReason::ZeroDenominator { iter, factor, row, col } => write!(
                f,
                "zero denominator in the update of {factor} at row {row}, column {col}, iteration {iter}: MU is undefined there"
            ),
            StopReason::Overflow { iter, factor, row, col } => write!(
                f,
                "the update of {factor} overflowed at row {row}, column {col}, iteration {iter}: the data's scale is beyond the double range of MU's products"
            ),
            StopReason::Underflow { iter, factor, index } => write!(
                f,
                "the update of {factor} underflowed at iteration {iter}: the Gram matrix it divides by has diagonal entry ({index}, {index}) below the normal range for a non-zero factor; the data's scale is below the double range of MU's products"
            ),
            StopReason::NonFinite { iter, quantity } => {
                write!(f, "{quantity} is not finite at iteration {iter} (overflow)")
            }
            StopReason::Interrupted { iter } => write!(f, "interrupted after iteration {iter}"),
        }
    }
}

/// All rows and events of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Trace {
    pub solver: String,
    pub rows: Vec<Record>,
    pub events: Vec<Event>,
}

impl Trace {
    /// The first event of `kind`, if any.
    pub fn first_event(&self, kind: EventKind) -> Option<&Event> {
        self.events.iter().find(|e| e.kind == kind)
    }

    /// How many events of `kind` were recorded (iterations in which it happened).
    pub fn count_events(&self, kind: EventKind) -> usize {
        self.events.iter().filter(|e| e.kind == kind).count()
    }

    /// Write the rows as CSV with a header (the column contract).
    pub fn write_csv<W: Write>(&self, w: W) -> Result<()> {
        let mut wr = csv::Writer::from_writer(w);
        if self.rows.is_empty() {
            wr.write_record(Self::columns()).map_err(csv_err)?;
        }
        for r in &self.rows {
            wr.serialize(r).map_err(csv_err)?;
        }
        wr.flush().map_err(|e| NmfError::Io {
            path: "<trace.csv>".into(),
            source: e,
        })?;
        Ok(())
    }

    /// Read rows back from CSV (the inverse of [`Trace::write_csv`]).
    pub fn read_csv<R: std::io::Read>(r: R) -> Result<Vec<Record>> {
        let mut rd = csv::Reader::from_reader(r);
        rd.deserialize().map(|x| x.map_err(csv_err)).collect()
    }

    /// The CSV header, in order (the field order of [`Record`]).
    pub fn columns() -> Vec<String> {
        let mut wr = csv::Writer::from_writer(Vec::new());
        wr.serialize(Record::zero())
            .expect("Record serializes to CSV");
        let bytes = wr.into_inner().expect("in-memory writer");
        let text = String::from_utf8(bytes).expect("CSV is UTF-8");
        text.lines()
            .next()
            .unwrap_or_default()
            .split(',')
            .map(str::to_string)
            .collect()
    }

    /// The values of one column by its CSV name, as `Option<f64>` (undefined values are
    /// `None`; counts and flags are converted to numbers). `None` for an unknown name.
    pub fn column(&self, name: &str) -> Option<Vec<Option<f64>>> {
        let idx = Record::zero()
            .values()
            .iter()
            .position(|(n, _)| *n == name)?;
        Some(self.rows.iter().map(|r| r.values()[idx].1).collect())
    }

    /// The iteration numbers, as `f64` (for plotting).
    pub fn iters(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r.iter as f64).collect()
    }
}

impl Record {
    /// Every column as `(name, value)`, in CSV order; undefined values are `None`, counts and
    /// flags become numbers. A test checks that the names equal the CSV header.
    pub fn values(&self) -> [(&'static str, Option<f64>); 57] {
        [
            ("iter", Some(self.iter as f64)),
            ("objective", Some(self.objective)),
            ("step_v", Some(self.step_v)),
            ("inner_v", Some(self.inner_v)),
            ("inner_v_closed", self.inner_v_closed),
            ("decrease_v", Some(self.decrease_v)),
            ("theta_v", self.theta_v),
            ("eig_utu_min", Some(self.eig_utu_min)),
            ("eig_utu_max", Some(self.eig_utu_max)),
            ("k_ratio_v", self.k_ratio_v),
            ("step_u", Some(self.step_u)),
            ("inner_u", Some(self.inner_u)),
            ("inner_u_closed", self.inner_u_closed),
            ("decrease_u", Some(self.decrease_u)),
            ("theta_u", self.theta_u),
            ("eig_vvt_min", Some(self.eig_vvt_min)),
            ("eig_vvt_max", Some(self.eig_vvt_max)),
            ("k_ratio_u", self.k_ratio_u),
            ("kkt", Some(self.kkt)),
            ("note_inner_v", self.note_inner_v),
            ("note_decrease_v", self.note_decrease_v),
            ("note_vtv_min", self.note_vtv_min),
            ("note_vtv_max", self.note_vtv_max),
            ("objective_scale", Some(self.objective_scale)),
            (
                "objective_direct",
                Some(f64::from(u8::from(self.objective_direct))),
            ),
            ("scale_v", Some(self.scale_v)),
            ("scale_u", Some(self.scale_u)),
            ("dv_sq", Some(self.dv_sq)),
            ("du_sq", Some(self.du_sq)),
            ("knorm_v", self.knorm_v),
            ("knorm_u", self.knorm_u),
            ("kkt_v", Some(self.kkt_v)),
            ("kkt_u", Some(self.kkt_u)),
            ("zeros_v", Some(self.zeros_v as f64)),
            ("zeros_u", Some(self.zeros_u as f64)),
            ("subnormal_v", Some(self.subnormal_v as f64)),
            ("subnormal_u", Some(self.subnormal_u as f64)),
            ("rel_step_v", self.rel_step_v),
            ("rel_inner_v", self.rel_inner_v),
            ("rel_inner_closed_v", self.rel_inner_closed_v),
            ("rel_decrease_v", self.rel_decrease_v),
            ("rel_knorm_v", self.rel_knorm_v),
            ("rel_diag_bound_v", self.rel_diag_bound_v),
            ("rel_underflow_v", self.rel_underflow_v),
            ("rel_iterate_v", self.rel_iterate_v),
            ("rel_iterate_underflow_v", self.rel_iterate_underflow_v),
            ("subnormal_inputs_v", Some(self.subnormal_inputs_v as f64)),
            ("rel_step_u", self.rel_step_u),
            ("rel_inner_u", self.rel_inner_u),
            ("rel_inner_closed_u", self.rel_inner_closed_u),
            ("rel_decrease_u", self.rel_decrease_u),
            ("rel_knorm_u", self.rel_knorm_u),
            ("rel_diag_bound_u", self.rel_diag_bound_u),
            ("rel_underflow_u", self.rel_underflow_u),
            ("rel_iterate_u", self.rel_iterate_u),
            ("rel_iterate_underflow_u", self.rel_iterate_underflow_u),
            ("subnormal_inputs_u", Some(self.subnormal_inputs_u as f64)),
        ]
    }

    /// A record of zeros (used for the header and in tests).
    pub fn zero() -> Self {
        Record {
            iter: 0,
            objective: 0.0,
            step_v: 0.0,
            inner_v: 0.0,
            inner_v_closed: None,
            decrease_v: 0.0,
            theta_v: None,
            eig_utu_min: 0.0,
            eig_utu_max: 0.0,
            k_ratio_v: None,
            step_u: 0.0,
            inner_u: 0.0,
            inner_u_closed: None,
            decrease_u: 0.0,
            theta_u: None,
            eig_vvt_min: 0.0,
            eig_vvt_max: 0.0,
            k_ratio_u: None,
            kkt: 0.0,
            note_inner_v: None,
            note_decrease_v: None,
            note_vtv_min: None,
            note_vtv_max: None,
            objective_scale: 0.0,
            objective_direct: false,
            scale_v: 0.0,
            scale_u: 0.0,
            dv_sq: 0.0,
            du_sq: 0.0,
            knorm_v: None,
            knorm_u: None,
            kkt_v: 0.0,
            kkt_u: 0.0,
            zeros_v: 0,
            zeros_u: 0,
            subnormal_v: 0,
            subnormal_u: 0,
            rel_step_v: None,
            rel_inner_v: None,
            rel_inner_closed_v: None,
            rel_decrease_v: None,
            rel_knorm_v: None,
            rel_diag_bound_v: None,
            rel_underflow_v: None,
            rel_iterate_v: None,
            rel_iterate_underflow_v: None,
            subnormal_inputs_v: 0,
            rel_step_u: None,
            rel_inner_u: None,
            rel_inner_closed_u: None,
            rel_decrease_u: None,
            rel_knorm_u: None,
            rel_diag_bound_u: None,
            rel_underflow_u: None,
            rel_iterate_u: None,
            rel_iterate_underflow_u: None,
            subnormal_inputs_u: 0,
        }
    }
}

fn csv_err(e: csv::Error) -> NmfError {
    NmfError::parse("<trace.csv>", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column contract of issue #2: these names, in this order, first.
    const CONTRACT: [&str; 23] = [
        "iter",
        "objective",
        "step_v",
        "inner_v",
        "inner_v_closed",
        "decrease_v",
        "theta_v",
        "eig_utu_min",
        "eig_utu_max",
        "k_ratio_v",
        "step_u",
        "inner_u",
        "inner_u_closed",
        "decrease_u",
        "theta_u",
        "eig_vvt_min",
        "eig_vvt_max",
        "k_ratio_u",
        "kkt",
        "note_inner_v",
        "note_decrease_v",
        "note_vtv_min",
        "note_vtv_max",
    ];

    #[test]
    fn events_are_found_counted_and_located_by_kind() {
        let ev = |iter, kind, row| Event {
            iter,
            kind,
            factor: Which::U,
            count: 2,
            row,
            col: 4,
        };
        let t = Trace {
            solver: "mu".into(),
            rows: Vec::new(),
            events: vec![
                ev(3, EventKind::Underflow, 1),
                ev(7, EventKind::NoteFormUndefined, 0),
                ev(9, EventKind::Underflow, 5),
            ],
        };
        assert_eq!(t.count_events(EventKind::Underflow), 2);
        assert_eq!(t.count_events(EventKind::ZeroReached), 0);
        assert_eq!(t.first_event(EventKind::Underflow).map(|e| e.iter), Some(3));
        assert_eq!(t.first_event(EventKind::ZeroReached), None);
        assert_eq!(t.events[2].location(), Some((5, 4)));
        assert_eq!(t.events[1].location(), None);
    }

    #[test]
    fn csv_header_keeps_the_contract() {
        let cols = Trace::columns();
        assert_eq!(&cols[..CONTRACT.len()], &CONTRACT[..]);
    }

    #[test]
    fn values_names_match_the_header() {
        let names: Vec<&str> = Record::zero().values().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, Trace::columns());
    }

    #[test]
    fn csv_and_json_round_trip_bit_for_bit_with_missing_values_empty() {
        let out = crate::Experiment::note(crate::experiment::DEFAULT_SEED, 40)
            .run()
            .unwrap();
        let mut t = out.fit.trace.clone();
        t.rows[3].theta_v = None;
        t.rows[3].note_inner_v = None;
        let mut buf = Vec::new();
        t.write_csv(&mut buf).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        let line = text.lines().nth(4).unwrap();
        let fields: Vec<&str> = line.split(',').collect();
        let col = |n: &str| Trace::columns().iter().position(|c| c == n).unwrap();
        assert_eq!(fields[col("theta_v")], "", "undefined is an empty field");
        assert_eq!(fields[col("note_inner_v")], "");
        assert!(!text.contains("NaN") && !text.contains("inf"));
        let back = Trace::read_csv(buf.as_slice()).unwrap();
        assert_eq!(back, t.rows, "CSV round trip is exact");
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains("\"theta_v\":null"));
        let back: Trace = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t, "JSON round trip is exact");
    }

    #[test]
    fn column_lookup() {
        let t = Trace {
            solver: "mu".into(),
            rows: vec![Record {
                objective: 2.5,
                theta_v: None,
                ..Record::zero()
            }],
            events: vec![],
        };
        assert_eq!(t.column("objective"), Some(vec![Some(2.5)]));
        assert_eq!(t.column("theta_v"), Some(vec![None]));
        assert_eq!(t.column("no_such_column"), None);
    }
}
