//! The trace: one [`Record`] per iteration, events, and the stop reason.
//!
//! Row `k` describes the step from `(Uₖ, Vₖ)` to `(Uₖ₊₁, Vₖ₊₁)`; its `objective` is `f(Uₖ, Vₖ)`
//! and its `kkt` the KKT residual at `(Uₖ, Vₖ)`. The column names are a contract (issue #2):
//! extend, never rename. An undefined value is `None`: an empty CSV field, JSON `null`.
//! Numbers are written in shortest round-trip form (parsing them gives back the same bits).

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::error::{NmfError, Result, Which};

/// One iteration's quantities, typed: what the whole iteration has ([`Record::objective`],
/// [`Record::kkt`], …), the same fields for each half-step ([`Record::v`], [`Record::u`]:
/// [`HalfRecord`]), the fields of multiplicative solvers within each ([`HalfRecord::mu`]:
/// [`MuFields`]), and the seed note's own forms ([`Record::note`]). See `MATH.md` for every
/// definition.
///
/// The CSV and JSON column names and their order are declared **once**, in
/// [`Record::COLUMNS`] (the trace contract: extend, never rename); (de)serialisation,
/// [`Record::values`] and [`Trace::column`] all follow that declaration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// The iteration $k$: the row describes the step from $(U_k, V_k)$ to $(U_{k+1}, V_{k+1})$.
    pub iter: usize,
    /// $f(U_k, V_k) = \tfrac12\|M - U_kV_k\|_F^2$.
    pub objective: f64,
    /// $\tfrac12\|M + U_kV_k\|^2$: the round-off scale of the objective.
    pub objective_scale: f64,
    /// Whether `objective` was computed directly (true) or by the Gram trick (false).
    pub objective_direct: bool,
    /// $\|\min(U_k,\nabla_U f)\|_F + \|\min(V_k,\nabla_V f)\|_F$ (the sum of the two halves'
    /// [`HalfRecord::kkt`]).
    pub kkt: f64,
    /// The V half-step ($U = U_k$ fixed, Gram matrix $X = U_k^\top U_k$).
    pub v: HalfRecord,
    /// The U half-step ($V = V_{k+1}$ fixed, Gram matrix $Y = V_{k+1}V_{k+1}^\top$).
    pub u: HalfRecord,
    /// The seed note's forms, kept for comparison (`None` when not computed).
    pub note: NoteForms,
}

/// What one half-step did, with the same fields for both factors. In the words of the V
/// half-step ($X$ the fixed factor's Gram matrix, $\Delta = V_{k+1} - V_k$); for the U
/// half-step read $U^\top$ for $V$.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HalfRecord {
    /// $\tfrac12\langle X\Delta, \Delta\rangle = \tfrac12\|U\Delta\|^2$ (columns `step_*`).
    pub step: f64,
    /// $\langle\nabla g(V_{k+1}), V_k - V_{k+1}\rangle$, computed directly.
    pub inner: f64,
    /// $g(V_k) - g(V_{k+1})$, stable form.
    pub decrease: f64,
    /// $\theta = \|U\Delta\|^2/\|\Delta\|^2$, the Rayleigh quotient of the step; `None` when
    /// $\Delta = 0$.
    pub theta: Option<f64>,
    /// Extreme eigenvalues of the fixed factor's Gram matrix ($U_k^\top U_k$ or
    /// $V_{k+1}V_{k+1}^\top$).
    pub eig_min: f64,
    pub eig_max: f64,
    /// Round-off scale $\sigma$ of the half-step's inner products.
    pub scale: f64,
    /// $\|\Delta\|_F^2$.
    pub delta_sq: f64,
    /// This factor's part of the KKT residual at $(U_k, V_k)$: $\|\min(V_k, \nabla_V f)\|_F$.
    pub kkt: f64,
    /// Exact zeros and subnormal entries of the new factor.
    pub zeros: usize,
    pub subnormal: usize,
    /// The smallest entry of the new factor.
    pub min_new: f64,
    /// Passes of the update over the factor in this half-step
    /// ([`crate::solver::HalfStep::sweeps`]: 1 but for accelerated HALS).
    pub sweeps: usize,
    /// The sums divided by `scale` (σ), judged by the claims.
    pub rel: RelFields,
    /// The fields of multiplicative solvers (empty for others).
    pub mu: MuFields,
}

/// A half-step's sums divided by its round-off scale σ, formed before they are put back into
/// the data's units ([`crate::diagnostics::RelSums`]): they never under- or overflow and are
/// bit-for-bit the same when `M` is scaled by a power of two. Empty when the step is 0.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RelFields {
    pub step: Option<f64>,
    pub inner: Option<f64>,
    pub decrease: Option<f64>,
    /// $\tfrac12\min_z X_{zz}\|\Delta\|^2/\sigma$: the decrease bound that needs no full rank.
    pub diag_bound: Option<f64>,
    /// One product's worst underflow error relative to σ (the claims' absolute underflow term
    /// is a count of products times this).
    pub underflow: Option<f64>,
    /// The second-order effect of the new iterate's own rounding on the identities for the
    /// exact image, relative to σ ([`crate::diagnostics::RelSums::iterate`]).
    pub iterate: Option<f64>,
    /// The absolute rounding of subnormal entries of the new iterate, relative to σ
    /// ([`crate::diagnostics::RelSums::iterate_underflow`]).
    pub iterate_underflow: Option<f64>,
    /// Moved entries whose inputs were subnormal, and subnormal entries of the Gram matrix
    /// ([`crate::diagnostics::RelSums::subnormal_inputs`]); 0 when no step.
    pub subnormal_inputs: usize,
}

/// The fields a multiplicative update adds (the diagonal metric
/// $K = \mathrm{Diag}((XV)\oslash V)$ of its majoriser and the ratio form of Lemma 2); `None`
/// for solvers without them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MuFields {
    /// Lemma 2's ratio form of `inner`.
    pub inner_closed: Option<f64>,
    /// $\|\Delta\|_K^2$.
    pub k_norm_sq: Option<f64>,
    /// decrease / $\|\Delta\|_K^2$ (`None` when the K-norm is 0).
    pub k_ratio: Option<f64>,
    /// `inner_closed` / σ.
    pub rel_inner_closed: Option<f64>,
    /// `k_norm_sq` / σ.
    pub rel_k_norm_sq: Option<f64>,
}

/// The seed note's forms of three quantities, kept to show where they break; `None` when not
/// computed ([`crate::RunParams::note_columns`] off) or undefined.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NoteForms {
    /// Lemma 2 in the note's square-root form ($\|\sqrt{\cdot}\|^2$; `None` where it is NaN).
    pub sqrt_inner_v: Option<f64>,
    /// The V half-step's decrease as a difference of two objective values (all round-off
    /// once small).
    pub difference_decrease_v: Option<f64>,
    /// Extreme eigenvalues of the n×n matrix $V_k^\top V_k$.
    pub vtv_eig_min: Option<f64>,
    pub vtv_eig_max: Option<f64>,
}

/// A value of a trace column as a number: counts and flags become numbers, an undefined
/// value is `None`. `OPTIONAL` columns may be absent from a file (read as `None`).
trait ColumnValue {
    const OPTIONAL: bool = false;
    fn number(&self) -> Option<f64>;
}

impl ColumnValue for f64 {
    fn number(&self) -> Option<f64> {
        Some(*self)
    }
}

impl ColumnValue for Option<f64> {
    const OPTIONAL: bool = true;
    fn number(&self) -> Option<f64> {
        *self
    }
}

impl ColumnValue for usize {
    fn number(&self) -> Option<f64> {
        Some(*self as f64)
    }
}

impl ColumnValue for bool {
    fn number(&self) -> Option<f64> {
        Some(f64::from(u8::from(*self)))
    }
}

/// Declares the columns: name and field, in CSV order. Everything that names a column is
/// generated from this one list.
macro_rules! record_columns {
    ($( $name:literal => $($field:ident).+ ),* $(,)?) => {
        impl Record {
            /// The column names, in CSV order (the trace contract).
            pub const COLUMNS: &'static [&'static str] = &[$($name),*];

            /// Every column as `(name, value)`, in CSV order; undefined values are `None`,
            /// counts and flags become numbers.
            pub fn values(&self) -> Vec<(&'static str, Option<f64>)> {
                vec![$(($name, ColumnValue::number(&self.$($field).+))),*]
            }

            /// The first column, in CSV order, whose value is a number that is not finite
            /// (what [`Record::values`] would show, without forming the list).
            pub fn first_non_finite(&self) -> Option<&'static str> {
                $(
                    if ColumnValue::number(&self.$($field).+).is_some_and(|x| !x.is_finite()) {
                        return Some($name);
                    }
                )*
                None
            }

            /// The value of column `name` (`None` inside for an undefined value); `None` for
            /// an unknown name.
            pub fn get(&self, name: &str) -> Option<Option<f64>> {
                match name {
                    $($name => Some(ColumnValue::number(&self.$($field).+)),)*
                    _ => None,
                }
            }
        }

        impl Serialize for Record {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct("Record", Record::COLUMNS.len())?;
                $(st.serialize_field($name, &self.$($field).+)?;)*
                st.end()
            }
        }

        impl<'de> Deserialize<'de> for Record {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                struct Visit;
                impl<'de> serde::de::Visitor<'de> for Visit {
                    type Value = Record;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a trace record (a map of its columns)")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> std::result::Result<Record, A::Error> {
                        let mut r = Record::default();
                        let mut seen = vec![false; Record::COLUMNS.len()];
                        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                            match &*key {
                                $($name => r.$($field).+ = map.next_value()?,)*
                                _ => {
                                    map.next_value::<serde::de::IgnoredAny>()?;
                                    continue;
                                }
                            }
                            if let Some(i) = Record::COLUMNS.iter().position(|c| *c == key) {
                                seen[i] = true;
                            }
                        }
                        let required = [$(!is_optional(&r.$($field).+)),*];
                        if let Some(i) = (0..seen.len()).find(|&i| !seen[i] && required[i]) {
                            return Err(serde::de::Error::missing_field(Record::COLUMNS[i]));
                        }
                        Ok(r)
                    }
                }
                d.deserialize_struct("Record", Record::COLUMNS, Visit)
            }
        }
    };
}

fn is_optional<T: ColumnValue>(_: &T) -> bool {
    T::OPTIONAL
}

record_columns! {
    "iter" => iter,
    "objective" => objective,
    "step_v" => v.step,
    "inner_v" => v.inner,
    "inner_v_closed" => v.mu.inner_closed,
    "decrease_v" => v.decrease,
    "theta_v" => v.theta,
    "eig_utu_min" => v.eig_min,
    "eig_utu_max" => v.eig_max,
    "k_ratio_v" => v.mu.k_ratio,
    "step_u" => u.step,
    "inner_u" => u.inner,
    "inner_u_closed" => u.mu.inner_closed,
    "decrease_u" => u.decrease,
    "theta_u" => u.theta,
    "eig_vvt_min" => u.eig_min,
    "eig_vvt_max" => u.eig_max,
    "k_ratio_u" => u.mu.k_ratio,
    "kkt" => kkt,
    "note_inner_v" => note.sqrt_inner_v,
    "note_decrease_v" => note.difference_decrease_v,
    "note_vtv_min" => note.vtv_eig_min,
    "note_vtv_max" => note.vtv_eig_max,
    // ---- extensions (not in the note) ----
    "objective_scale" => objective_scale,
    "objective_direct" => objective_direct,
    "scale_v" => v.scale,
    "scale_u" => u.scale,
    "dv_sq" => v.delta_sq,
    "du_sq" => u.delta_sq,
    "knorm_v" => v.mu.k_norm_sq,
    "knorm_u" => u.mu.k_norm_sq,
    "kkt_v" => v.kkt,
    "kkt_u" => u.kkt,
    "zeros_v" => v.zeros,
    "zeros_u" => u.zeros,
    "subnormal_v" => v.subnormal,
    "subnormal_u" => u.subnormal,
    // ---- scale-free forms, judged by the claims (see `crate::claims`) ----
    "rel_step_v" => v.rel.step,
    "rel_inner_v" => v.rel.inner,
    "rel_inner_closed_v" => v.mu.rel_inner_closed,
    "rel_decrease_v" => v.rel.decrease,
    "rel_knorm_v" => v.mu.rel_k_norm_sq,
    "rel_diag_bound_v" => v.rel.diag_bound,
    "rel_underflow_v" => v.rel.underflow,
    "rel_iterate_v" => v.rel.iterate,
    "rel_iterate_underflow_v" => v.rel.iterate_underflow,
    "subnormal_inputs_v" => v.rel.subnormal_inputs,
    "rel_step_u" => u.rel.step,
    "rel_inner_u" => u.rel.inner,
    "rel_inner_closed_u" => u.mu.rel_inner_closed,
    "rel_decrease_u" => u.rel.decrease,
    "rel_knorm_u" => u.mu.rel_k_norm_sq,
    "rel_diag_bound_u" => u.rel.diag_bound,
    "rel_underflow_u" => u.rel.underflow,
    "rel_iterate_u" => u.rel.iterate,
    "rel_iterate_underflow_u" => u.rel.iterate_underflow,
    "subnormal_inputs_u" => u.rel.subnormal_inputs,
    // ---- added with the solver family ----
    "min_new_v" => v.min_new,
    "min_new_u" => u.min_new,
    "sweeps_v" => v.sweeps,
    "sweeps_u" => u.sweeps,
}

impl Record {
    /// The record of half-step `half`.
    pub fn half(&self, half: Half) -> &HalfRecord {
        match half {
            Half::V => &self.v,
            Half::U => &self.u,
        }
    }

    /// The record of half-step `half`, to change (tests perturb traces this way).
    pub fn half_mut(&mut self, half: Half) -> &mut HalfRecord {
        match half {
            Half::V => &mut self.v,
            Half::U => &mut self.u,
        }
    }
}

/// Which half-step: the one that updates V (first) or the one that updates U (second). The one
/// name for "which factor" in records, claims and events of a half-step ([`Which`] adds `M`
/// for errors about the data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Half {
    V,
    U,
}

impl Half {
    /// Both, in the order of an iteration.
    pub const BOTH: [Half; 2] = [Half::V, Half::U];

    /// `"v"` or `"u"`, as in the column and claim names.
    pub fn tag(self) -> &'static str {
        match self {
            Half::V => "v",
            Half::U => "u",
        }
    }

    /// The factor this half-step updates.
    pub fn factor(self) -> Which {
        match self {
            Half::V => Which::V,
            Half::U => Which::U,
        }
    }
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
    /// The update of `factor` produced a negative entry at (1-based) row, col (an update rule
    /// that leaves the feasible set); the row was not recorded.
    Negative {
        iter: usize,
        factor: Which,
        row: usize,
        col: usize,
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
                | StopReason::Negative { .. }
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
            StopReason::Negative { iter, factor, row, col } => write!(
                f,
                "the update of {factor} made the entry at row {row}, column {col} negative at iteration {iter}: the rule leaves the feasible set U, V ≥ 0"
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

    /// The CSV header, in order ([`Record::COLUMNS`]).
    pub fn columns() -> Vec<String> {
        Record::COLUMNS.iter().map(|c| c.to_string()).collect()
    }

    /// The values of one column by its CSV name, as `Option<f64>` (undefined values are
    /// `None`; counts and flags are converted to numbers). `None` for an unknown name. Code
    /// that knows which quantity it wants reads the field with [`Trace::series`] instead.
    pub fn column(&self, name: &str) -> Option<Vec<Option<f64>>> {
        if !Record::COLUMNS.contains(&name) {
            return None;
        }
        Some(self.rows.iter().map(|r| r.get(name).flatten()).collect())
    }

    /// One quantity over the rows, read from the typed record by `field`.
    pub fn series(&self, field: impl Fn(&Record) -> Option<f64>) -> Vec<Option<f64>> {
        self.rows.iter().map(field).collect()
    }

    /// The iteration numbers, as `f64` (for plotting).
    pub fn iters(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r.iter as f64).collect()
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
    fn each_column_names_its_own_field() {
        // A row whose column i holds the number i (flags: i mod 2) must read back with column
        // i equal to i: two names declared on one field, or a field read into another, would
        // show as a wrong number.
        let cols = Record::COLUMNS;
        let field = |i: usize, c: &str| {
            if c == "objective_direct" {
                ["false", "true"][i % 2].to_string()
            } else {
                i.to_string()
            }
        };
        let csv_text = format!(
            "{}\n{}\n",
            cols.join(","),
            cols.iter()
                .enumerate()
                .map(|(i, c)| field(i, c))
                .collect::<Vec<_>>()
                .join(",")
        );
        let r = &Trace::read_csv(csv_text.as_bytes()).unwrap()[0];
        for (i, (name, v)) in r.values().into_iter().enumerate() {
            let want = if name == "objective_direct" {
                (i % 2) as f64
            } else {
                i as f64
            };
            assert_eq!(v, Some(want), "column {name}");
            assert_eq!(r.get(name), Some(Some(want)));
        }
        let mut buf = Vec::new();
        Trace {
            solver: "mu".into(),
            rows: vec![r.clone()],
            events: vec![],
        }
        .write_csv(&mut buf)
        .unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap().replace(".0", ""),
            csv_text,
            "written back as read"
        );
    }

    #[test]
    fn missing_required_columns_are_errors_missing_optional_ones_are_undefined() {
        let all = Record::COLUMNS;
        let without = |drop: &str| {
            let keep: Vec<&str> = all.iter().copied().filter(|c| *c != drop).collect();
            let vals: Vec<&str> = keep
                .iter()
                .map(|c| {
                    if *c == "objective_direct" {
                        "false"
                    } else {
                        "1"
                    }
                })
                .collect();
            format!("{}\n{}\n", keep.join(","), vals.join(","))
        };
        let err = Trace::read_csv(without("kkt_u").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("kkt_u"), "{err}");
        let r = Trace::read_csv(without("theta_v").as_bytes()).unwrap();
        assert_eq!(r[0].v.theta, None);
        assert_eq!(r[0].u.theta, Some(1.0));
    }

    #[test]
    fn csv_and_json_round_trip_bit_for_bit_with_missing_values_empty() {
        let out = crate::Experiment::note(crate::experiment::DEFAULT_SEED, 40)
            .run()
            .unwrap();
        let mut t = out.fit.trace.clone();
        t.rows[3].v.theta = None;
        t.rows[3].note.sqrt_inner_v = None;
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
                ..Record::default()
            }],
            events: vec![],
        };
        assert_eq!(t.column("objective"), Some(vec![Some(2.5)]));
        assert_eq!(t.column("theta_v"), Some(vec![None]));
        assert_eq!(t.column("no_such_column"), None);
    }
}
