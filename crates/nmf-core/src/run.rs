//! The iteration driver: runs a [`Solver`], records a [`Record`] per iteration, detects
//! events and decides when to stop.

use std::ops::ControlFlow;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::diagnostics::{self, DiagWork};
use crate::error::{NmfError, Result, Which};
use crate::loss::{Frobenius, Loss};
use crate::problem::{Factors, Problem};
use crate::roundoff::{gamma_objective, rel_resolved, Dims};
use crate::solver::{Solver, Step, StepError};
use crate::spectral;
use crate::trace::{
    Event, EventKind, Half, HalfRecord, MuFields, NoteForms, Record, RelFields, StopReason, Trace,
};

/// How the objective is evaluated.
///
/// The Gram form ([`crate::formulas::objective_gram`]) costs nothing extra but its rounding error is
/// up to $\gamma_N\cdot$`objective_scale`, so its *relative* error grows like
/// `objective_scale / f`; on a planted (exactly low-rank) `M`, where `f → 0`, it is pure
/// round-off. The direct form costs one pass over `M` and is accurate relative to `f` itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ObjectiveMode {
    /// Gram form while `f ≥ 1e-6 · objective_scale` (at most about six digits lost beyond
    /// $\gamma_N$), the direct form below that.
    #[default]
    Auto,
    Gram,
    Direct,
}

/// Below this ratio `f / objective_scale` the `Auto` mode evaluates the objective directly.
// ANCHOR: auto_direct_below
pub const AUTO_DIRECT_BELOW: f64 = 1e-6;
// ANCHOR_END: auto_direct_below

/// Run parameters: one serde struct for the CLI, files and notebooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunParams {
    /// Maximum number of iterations.
    pub max_iter: usize,
    /// Stop when the relative decrease $(f_k - f_{k+1})/\max(f_k, \gamma_{N_f} s_k)$ (stable
    /// form; $s_k$ the objective's round-off scale) is ≤ `tol`; 0 disables.
    pub tol: f64,
    pub objective: ObjectiveMode,
    /// Also compute the note's compatibility columns (`note_*`).
    pub note_columns: bool,
    /// Keep every record in [`Fit::trace`] (the default). Off, the rows are only handed to
    /// the callback (to be streamed to disk and checked online by [`crate::claims::Checker`]),
    /// so memory does not grow with the number of iterations.
    #[serde(default = "keep_rows_default")]
    pub keep_rows: bool,
}

fn keep_rows_default() -> bool {
    true
}

impl Default for RunParams {
    fn default() -> Self {
        RunParams {
            max_iter: 10_000,
            tol: 0.0,
            objective: ObjectiveMode::Auto,
            note_columns: true,
            keep_rows: true,
        }
    }
}

impl RunParams {
    /// Check the ranges (linfa's ParamGuard idea).
    pub fn check(&self) -> Result<()> {
        if self.max_iter == 0 {
            return Err(NmfError::Param {
                name: "max_iter",
                message: "must be at least 1".into(),
            });
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(NmfError::Param {
                name: "tol",
                message: format!("must be finite and ≥ 0, got {}", self.tol),
            });
        }
        Ok(())
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    /// The last factors reached (before a failed step, if one failed).
    pub factors: Factors,
    pub trace: Trace,
    pub stop: StopReason,
    /// $f$ at the final factors, computed directly.
    pub final_objective: f64,
    /// KKT residual at the final factors.
    pub final_kkt: f64,
    /// For a method with a floor ε ([`Solver::floor`]: ε-MU, HALS), the KKT residual of
    /// $\min_{U, V \ge \varepsilon} f$ at the final factors, the problem its limit points
    /// solve ([`Loss::kkt_residual_floor`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_kkt_floor: Option<f64>,
}

/// Count the exact zeros and subnormal entries of the new factor of half-step `half` and
/// record as events the entries that became so in this iteration. `old` and `new` are in
/// column layout (for the U half-step, Uᵀ), positions are reported in the factor's own.
fn count_events(
    iter: usize,
    half: Half,
    old: ArrayView2<f64>,
    new: ArrayView2<f64>,
    out: &mut Vec<Event>,
) -> (usize, usize, f64) {
    let mut zeros = 0;
    let mut subnormal = 0;
    let mut min = f64::INFINITY;
    let mut became_zero: (usize, Option<(usize, usize)>) = (0, None);
    let mut became_sub: (usize, Option<(usize, usize)>) = (0, None);
    for ((i, j), &x) in new.indexed_iter() {
        min = min.min(x);
        let o = old[[i, j]];
        let pos = match half {
            Half::V => (i + 1, j + 1),
            Half::U => (j + 1, i + 1),
        };
        if x == 0.0 {
            zeros += 1;
            if o != 0.0 {
                became_zero.0 += 1;
                became_zero.1.get_or_insert(pos);
            }
        } else if x.is_subnormal() {
            subnormal += 1;
            if !o.is_subnormal() {
                became_sub.0 += 1;
                became_sub.1.get_or_insert(pos);
            }
        }
    }
    for (kind, (count, first)) in [
        (EventKind::ZeroReached, became_zero),
        (EventKind::Underflow, became_sub),
    ] {
        if let Some((row, col)) = first {
            out.push(Event {
                iter,
                kind,
                factor: half.factor(),
                count,
                row,
                col,
            });
        }
    }
    (zeros, subnormal, min)
}

/// The zero rows and columns of `M`, recorded once as events at iteration 0.
fn zero_data_events(p: &Problem, out: &mut Vec<Event>) {
    if let Some(&first) = p.zero_cols().first() {
        out.push(Event {
            iter: 0,
            kind: EventKind::ZeroDataColumns,
            factor: Which::M,
            count: p.zero_cols().len(),
            row: 0,
            col: first + 1,
        });
    }
    if let Some(&first) = p.zero_rows().first() {
        out.push(Event {
            iter: 0,
            kind: EventKind::ZeroDataRows,
            factor: Which::M,
            count: p.zero_rows().len(),
            row: first + 1,
            col: 0,
        });
    }
}

/// KKT residual at `f` of [`Frobenius`], with one pass over `M` (used at the start and the
/// end only).
pub fn kkt_residual(p: &Problem, f: &Factors) -> f64 {
    Frobenius.kkt_residual(p, f)
}

/// A rule that ends a run, checked after every recorded iteration (in the order of
/// [`RunParams::stop_rules`]); the iteration budget bounds the loop itself and the caller's
/// callback can interrupt it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopRule {
    /// Neither factor changed, exactly: a fixed point in floating point.
    Stalled,
    /// The relative decrease $(f_k - f_{k+1})/\max(f_k, \gamma_{N_f} s_k)$ fell to `tol` or
    /// below. Relative to $f_k$, but never to less than $f_k$'s own round-off bound
    /// $\gamma_{N_f} s_k$: in the Gram form a nearly exact fit evaluates to round-off, possibly
    /// ≤ 0, which would make the ratio negative or infinite and stop (or not stop) the run for
    /// no reason.
    Tolerance { tol: f64, gamma_f: f64 },
}

/// What the stop rules see of one iteration: its record and whether each factor moved (a
/// step can be non-zero while its squared norm underflows to 0, so this is not a column).
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub record: &'a Record,
    pub moved: [bool; 2],
}

impl StopRule {
    /// Why the run stops after this iteration, if this rule says it does.
    pub fn check(&self, o: &Observed<'_>) -> Option<StopReason> {
        let r = o.record;
        match *self {
            StopRule::Stalled => {
                (!o.moved[0] && !o.moved[1]).then_some(StopReason::Stalled { iter: r.iter })
            }
            StopRule::Tolerance { tol, gamma_f } => {
                let rel =
                    (r.v.decrease + r.u.decrease) / r.objective.max(gamma_f * r.objective_scale);
                (rel <= tol).then_some(StopReason::Tolerance {
                    iter: r.iter,
                    rel_decrease: rel,
                })
            }
        }
    }
}

impl RunParams {
    /// The stop rules these parameters ask for on a problem of size `dims`: a stall always
    /// ends a run; a tolerance when `tol > 0`.
    pub fn stop_rules(&self, dims: Dims) -> Vec<StopRule> {
        let mut rules = vec![StopRule::Stalled];
        if self.tol > 0.0 {
            rules.push(StopRule::Tolerance {
                tol: self.tol,
                gamma_f: gamma_objective(dims),
            });
        }
        rules
    }
}

impl StopReason {
    /// The stop of a step that could not be taken at iteration `iter`.
    fn from_step_error(iter: usize, e: StepError) -> Self {
        match e {
            StepError::ZeroDenominator { factor, row, col } => StopReason::ZeroDenominator {
                iter,
                factor,
                row,
                col,
            },
            StepError::Underflow { factor, index } => StopReason::Underflow {
                iter,
                factor,
                index,
            },
            StepError::Overflow { factor, row, col } => StopReason::Overflow {
                iter,
                factor,
                row,
                col,
            },
            StepError::Negative { factor, row, col } => StopReason::Negative {
                iter,
                factor,
                row,
                col,
            },
        }
    }
}

/// Turns each step into a [`Record`] and its events: everything the driver computes about an
/// iteration beyond the step itself, with the state that spans iterations.
struct Observer<'p> {
    loss: &'p dyn Loss,
    problem: &'p Problem,
    params: &'p RunParams,
    dims: Dims,
    /// The U part of the KKT residual at $(U_k, V_k)$: computed by iteration k−1's U half-step
    /// (its "new point"); for k = 0 by one pass over M.
    kkt_u_carry: f64,
    note_undefined_seen: bool,
    unresolved_seen: [bool; 2],
    /// The diagnostics' arrays of the V and U half-steps, reused every iteration.
    work: [DiagWork; 2],
}

impl<'p> Observer<'p> {
    fn new(
        loss: &'p dyn Loss,
        problem: &'p Problem,
        params: &'p RunParams,
        start: &Factors,
    ) -> Self {
        let (m, n) = problem.m().dim();
        Observer {
            loss,
            problem,
            params,
            dims: Dims {
                m,
                n,
                k: problem.rank(),
            },
            kkt_u_carry: loss.kkt_u(problem, start),
            note_undefined_seen: false,
            unresolved_seen: [false, false],
            work: Default::default(),
        }
    }

    /// The record of iteration `k`, from `before` $= (U_k, V_k)$ to `after` by `step`, and
    /// whether each factor moved; events go to `events`.
    fn observe(
        &mut self,
        k: usize,
        before: &Factors,
        after: &Factors,
        step: &Step,
        events: &mut Vec<Event>,
    ) -> (Record, [bool; 2]) {
        let (loss, problem, params) = (self.loss, self.problem, self.params);
        let [work_v, work_u] = &mut self.work;
        let dv = loss.half_step_with(&step.v, params.note_columns, work_v);
        let du = loss.half_step_with(&step.u, false, work_u);

        // Objective at (U_k, V_k) and the note's difference f(U_k,V_k) − f(U_k,V_{k+1}).
        let v_old = step.v.old.view();
        let (gram_obj, obj_scale) = loss.objective_from_step_with(problem, &step.v, work_v);
        // ANCHOR: objective_mode
        let use_direct = match params.objective {
            ObjectiveMode::Gram => false,
            ObjectiveMode::Direct => true,
            ObjectiveMode::Auto => gram_obj < AUTO_DIRECT_BELOW * obj_scale,
        };
        // ANCHOR_END: objective_mode
        let objective = if use_direct {
            loss.objective_direct_with(problem, before, &mut work_v.residual)
        } else {
            gram_obj
        };
        // The note's decrease needs f(U_k, V_{k+1}): free in the Gram form (V_{k+1}V_{k+1}ᵀ is
        // the U half-step's Gram matrix), one more pass over M in the direct form; only when
        // the note's columns are asked for.
        let after_v = params.note_columns.then(|| {
            if use_direct {
                // formulas::objective_direct of M − U_kV_{k+1}, its rows formed a block at
                // a time (no m×n product).
                diagnostics::objective_direct_plain_streamed(
                    problem.m(),
                    before.u.view(),
                    after.v.view(),
                    &mut work_v.residual,
                )
            } else {
                loss.objective_between(problem, step)
            }
        });

        // ANCHOR: note_vtv
        // The note's spectrum of the n×n matrix VᵀV, from the k×k VVᵀ: its non-zero
        // eigenvalues (= singular values, VᵀV ⪰ 0) are those of VVᵀ, and when n > k the other
        // n − k are exactly 0. No n×n matrix is formed (61×1797 data made it 5.7 s/iteration).
        let (note_vtv_min, note_vtv_max) = if params.note_columns {
            let (lo, hi) = spectral::sym_eig_extremes(v_old.dot(&v_old.t()).view());
            let lo = if self.dims.n > self.dims.k { 0.0 } else { lo };
            (Some(lo), Some(hi))
        } else {
            (None, None)
        };
        // ANCHOR_END: note_vtv

        let (zeros_v, subnormal_v, min_v) =
            count_events(k, Half::V, step.v.old.view(), step.v.new.view(), events);
        let (zeros_u, subnormal_u, min_u) =
            count_events(k, Half::U, step.u.old.view(), step.u.new.view(), events);
        if params.note_columns && dv.sqrt_form_inner.is_none() && !self.note_undefined_seen {
            self.note_undefined_seen = true;
            events.push(Event {
                iter: k,
                kind: EventKind::NoteFormUndefined,
                factor: Which::V,
                count: 1,
                row: 0,
                col: 0,
            });
        }
        for (i, (half, d)) in [(Half::V, &dv), (Half::U, &du)].into_iter().enumerate() {
            let resolved = d.rel.map(|r| rel_resolved(&r, self.dims, half));
            if resolved == Some(false) && !self.unresolved_seen[i] {
                self.unresolved_seen[i] = true;
                events.push(Event {
                    iter: k,
                    kind: EventKind::Unresolved,
                    factor: half.factor(),
                    count: 1,
                    row: 0,
                    col: 0,
                });
            }
        }
        let rec = Record {
            iter: k,
            objective,
            objective_scale: obj_scale,
            objective_direct: use_direct,
            kkt: dv.kkt_old + self.kkt_u_carry,
            v: half_record(&dv, dv.kkt_old, zeros_v, subnormal_v, min_v, step.v.sweeps),
            u: half_record(
                &du,
                self.kkt_u_carry,
                zeros_u,
                subnormal_u,
                min_u,
                step.u.sweeps,
            ),
            note: NoteForms {
                sqrt_inner_v: dv.sqrt_form_inner,
                difference_decrease_v: after_v.map(|after| objective - after),
                vtv_eig_min: note_vtv_min,
                vtv_eig_max: note_vtv_max,
            },
        };
        self.kkt_u_carry = du.kkt_new;
        (rec, [dv.moved, du.moved])
    }
}

/// Run `solver` from `init` on `problem`. `on_record` sees each record as it is made and may
/// stop the run with `ControlFlow::Break(())`.
///
/// Each iteration is: **step** (the solver), **observe** (the diagnostics, events and the
/// [`Record`]), **record** (the callback, and the trace if rows are kept), **stop?** (the
/// [`StopRule`]s, then the callback's answer).
///
/// Errors are returned only for invalid input (factor shapes or entries, parameters); every
/// way a run can end, including MU becoming undefined, is a [`StopReason`] in the [`Fit`].
pub fn run<S, F>(
    problem: &Problem,
    init: Factors,
    solver: &mut S,
    params: &RunParams,
    mut on_record: F,
) -> Result<Fit>
where
    S: Solver + ?Sized,
    F: FnMut(&Record) -> ControlFlow<()>,
{
    params.check()?;
    problem.check_factors(&init)?;
    let mut f = init;
    let mut trace = Trace {
        solver: solver.name().to_string(),
        rows: Vec::new(),
        events: Vec::new(),
    };
    let loss = solver.loss();
    let mut observer = Observer::new(loss, problem, params, &f);
    let rules = params.stop_rules(observer.dims);
    zero_data_events(problem, &mut trace.events);
    let mut stop = StopReason::MaxIterations {
        iters: params.max_iter,
    };
    // (U_k, V_k), and the previous iteration's step, whose arrays the solver reuses: a run
    // allocates neither anew each iteration.
    let mut before = f.clone();
    let mut spare: Option<Step> = None;
    for k in 0..params.max_iter {
        // step
        before.u.assign(&f.u);
        before.v.assign(&f.v);
        let step = match solver.step_reusing(problem, &mut f, spare.take()) {
            Ok(s) => s,
            Err(e) => {
                stop = StopReason::from_step_error(k, e);
                break;
            }
        };
        // observe
        let (rec, moved) = observer.observe(k, &before, &f, &step, &mut trace.events);
        if let Some(name) = first_non_finite(&rec) {
            stop = StopReason::NonFinite {
                iter: k,
                quantity: name,
            };
            f.u.assign(&before.u);
            f.v.assign(&before.v);
            break;
        }
        // record
        let flow = on_record(&rec);
        let observed = Observed {
            record: &rec,
            moved,
        };
        let ruled = rules.iter().find_map(|rule| rule.check(&observed));
        if params.keep_rows {
            trace.rows.push(rec);
        }
        spare = Some(step);
        // stop?
        if let Some(reason) = ruled {
            stop = reason;
            break;
        }
        if flow.is_break() {
            stop = StopReason::Interrupted { iter: k };
            break;
        }
    }
    let final_objective = loss.objective_direct(problem, &f);
    let final_kkt = loss.kkt_residual(problem, &f);
    let final_kkt_floor = solver
        .floor()
        .map(|eps| loss.kkt_residual_floor(problem, &f, eps));
    Ok(Fit {
        factors: f,
        trace,
        stop,
        final_objective,
        final_kkt,
        final_kkt_floor,
    })
}

/// A half-step's record from its diagnostics, its part `kkt` of the KKT residual at the old
/// point, the zero and subnormal counts and the smallest entry of the new factor, and the
/// solver's pass count.
fn half_record(
    d: &diagnostics::HalfDiag,
    kkt: f64,
    zeros: usize,
    subnormal: usize,
    min_new: f64,
    sweeps: usize,
) -> HalfRecord {
    let r = d.rel;
    HalfRecord {
        step: d.step,
        inner: d.inner,
        decrease: d.decrease,
        theta: d.theta,
        eig_min: d.eig_min,
        eig_max: d.eig_max,
        scale: d.scale,
        delta_sq: d.delta_sq,
        kkt,
        zeros,
        subnormal,
        min_new,
        sweeps,
        rel: RelFields {
            step: r.map(|r| r.step),
            inner: r.map(|r| r.inner),
            decrease: r.map(|r| r.decrease),
            diag_bound: r.map(|r| r.diag_bound),
            underflow: r.map(|r| r.underflow),
            iterate: r.map(|r| r.iterate),
            iterate_underflow: r.map(|r| r.iterate_underflow),
            subnormal_inputs: r.map_or(0, |r| r.subnormal_inputs),
        },
        mu: MuFields {
            inner_closed: d.inner_closed,
            k_norm_sq: d.k_norm_sq,
            k_ratio: d.k_ratio,
            rel_inner_closed: r.and_then(|r| r.inner_closed),
            rel_k_norm_sq: r.and_then(|r| r.k_norm_sq),
        },
    }
}

/// The name of the first non-finite number in a record, if any.
fn first_non_finite(r: &Record) -> Option<String> {
    r.first_non_finite().map(str::to_string)
}

/// Convenience for callers that hold an owned matrix: validate and run MU.
pub fn run_mu(m: Array2<f64>, rank: usize, init: Factors, params: &RunParams) -> Result<Fit> {
    let p = Problem::new(m, rank)?;
    run(&p, init, &mut crate::solver::Mu, params, |_| {
        ControlFlow::Continue(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::Mu;
    use ndarray::array;

    fn go(m: Array2<f64>, k: usize, f: Factors, iters: usize) -> Fit {
        let p = Problem::new(m, k).unwrap();
        let params = RunParams {
            max_iter: iters,
            ..Default::default()
        };
        run(&p, f, &mut Mu, &params, |_| ControlFlow::Continue(())).unwrap()
    }

    #[test]
    fn runs_all_iterations_and_records_each() {
        let (m, f) = crate::init::note_instance(1, 6, 5, 2, crate::DataKind::Random);
        let fit = go(m, 2, f, 25);
        assert_eq!(fit.stop, StopReason::MaxIterations { iters: 25 });
        assert_eq!(fit.trace.rows.len(), 25);
        assert!(fit.trace.rows.iter().enumerate().all(|(i, r)| r.iter == i));
    }

    #[test]
    fn exact_fixed_point_stalls() {
        // Small integers: every product and ratio below is exact in f64, so R = S = 1 exactly.
        let u = array![[1.0, 2.0], [3.0, 1.0], [2.0, 2.0]];
        let v = array![[1.0, 0.0, 2.0], [1.0, 1.0, 1.0]];
        let m = u.dot(&v);
        let fit = go(m, 2, Factors { u, v }, 10);
        assert_eq!(fit.stop, StopReason::Stalled { iter: 0 });
        assert_eq!(
            fit.trace.rows[0].v.theta, None,
            "θ is undefined for a zero step, not a number"
        );
        assert_eq!(fit.trace.rows[0].objective, 0.0);
    }

    #[test]
    fn a_zero_column_of_data_is_reported_once_and_its_v_column_stays_zero() {
        // Column 2 of M is zero, so Uᵀ M has a zero column and V's column 2 becomes exactly 0
        // (an event). From then on (UᵀU V)_{:,2} = 0 as well: the update there is defined as 0
        // (the column's minimiser), not a 0/0 that stops the run.
        let m = array![[1.0, 0.0, 2.0], [2.0, 0.0, 1.0], [1.0, 0.0, 1.0]];
        let f = Factors {
            u: array![[1.0, 0.5], [0.25, 1.0], [2.0, 1.0]],
            v: array![[1.0, 1.5, 0.5], [2.0, 1.0, 1.0]],
        };
        let fit = go(m, 2, f, 10);
        let ev: Vec<_> = fit
            .trace
            .events
            .iter()
            .map(|e| (e.iter, e.kind, e.factor, e.count, e.row, e.col))
            .collect();
        assert_eq!(
            ev[..2],
            [
                (0, EventKind::ZeroDataColumns, Which::M, 1, 0, 2),
                (0, EventKind::ZeroReached, Which::V, 2, 1, 2)
            ]
        );
        assert_eq!(fit.stop, StopReason::MaxIterations { iters: 10 });
        assert!(fit.trace.rows.iter().all(|r| r.v.zeros >= 2));
        assert!(fit.factors.v.column(1).iter().all(|&x| x == 0.0));
        let claims =
            crate::claims::check_all(&fit.trace, crate::roundoff::Dims { m: 3, n: 3, k: 2 });
        assert!(claims.iter().all(|v| v.holds()), "{claims:?}");
    }

    #[test]
    fn a_zero_row_of_data_zeroes_the_row_of_u() {
        let m = array![[1.0, 2.0, 2.0], [0.0, 0.0, 0.0], [1.0, 3.0, 1.0]];
        let f = Factors {
            u: Array2::ones((3, 2)),
            v: array![[1.0, 2.0, 1.0], [2.0, 1.0, 1.5]],
        };
        let fit = go(m, 2, f, 20);
        assert_eq!(fit.stop, StopReason::MaxIterations { iters: 20 });
        let e = &fit.trace.events[0];
        assert_eq!((e.kind, e.count, e.row), (EventKind::ZeroDataRows, 1, 2));
        assert!(fit.factors.u.row(1).iter().all(|&x| x == 0.0));
    }

    #[test]
    fn zero_column_of_u_is_a_zero_denominator_at_once() {
        let m = array![[1.0, 2.0], [2.0, 1.0]];
        let f = Factors {
            u: array![[1.0, 0.0], [1.0, 0.0]],
            v: Array2::ones((2, 2)),
        };
        let fit = go(m, 2, f, 5);
        assert_eq!(
            fit.stop,
            StopReason::ZeroDenominator {
                iter: 0,
                factor: Which::V,
                row: 2,
                col: 1
            }
        );
        assert!(fit.trace.rows.is_empty());
    }

    #[test]
    fn overflow_of_the_update_stops_with_where_instead_of_recording_nan() {
        let m = array![[1e200, 1e200], [1e200, 1e200]];
        let f = Factors {
            u: array![[1e200], [1e200]],
            v: array![[1.0, 1.0]],
        };
        let fit = go(m, 1, f.clone(), 5);
        // Uᵀ M = 2e400 is out of range: the V update overflows at its first entry.
        assert_eq!(
            fit.stop,
            StopReason::Overflow {
                iter: 0,
                factor: Which::V,
                row: 1,
                col: 1
            }
        );
        assert!(fit.stop.is_failure());
        assert!(fit.trace.rows.is_empty());
        assert_eq!(fit.factors, f, "factors are those before the failed step");
    }

    #[test]
    fn tolerance_and_callback_stop_the_run() {
        let (m, f) = crate::init::note_instance(2, 8, 6, 3, crate::DataKind::Random);
        let p = Problem::new(m, 3).unwrap();
        let params = RunParams {
            max_iter: 100_000,
            tol: 1e-6,
            ..Default::default()
        };
        let fit = run(&p, f.clone(), &mut Mu, &params, |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        let StopReason::Tolerance { iter, rel_decrease } = fit.stop else {
            panic!("{:?}", fit.stop)
        };
        assert!(rel_decrease <= 1e-6 && iter + 1 == fit.trace.rows.len());
        let fit = run(&p, f, &mut Mu, &RunParams::default(), |r| {
            if r.iter == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!(fit.stop, StopReason::Interrupted { iter: 3 });
        assert_eq!(fit.trace.rows.len(), 4);
    }

    #[test]
    fn tolerance_stop_is_not_fooled_by_a_gram_objective_at_round_off() {
        // Started at an exact factorization, f is 0 up to round-off: the Gram form evaluates
        // to noise of either sign at the level γ_{N_f}·s, and so does the decrease. Relative to
        // that noise the decrease is O(1) and a tolerance would never be met; relative to the
        // objective's round-off floor it is ≤ 1e-10 at once (γ_{N_f}·s = 30u·17.8 ≈ 5.9e-14 here,
        // N_f = mn + k(m+n) + 4 = 30 and s = ½‖M + UV‖² = 17.8, computed by hand).
        let u = array![[0.1, 0.7], [0.2, 0.3], [0.3, 1.1], [0.45, 0.05]];
        let v = array![[0.7, 1.3, 0.11], [0.2, 0.9, 1.7]];
        let p = Problem::new(u.dot(&v), 2).unwrap();
        let params = RunParams {
            max_iter: 1000,
            tol: 1e-10,
            objective: ObjectiveMode::Gram,
            note_columns: false,
            ..Default::default()
        };
        let fit = run(&p, Factors { u, v }, &mut Mu, &params, |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        // Here f_0 evaluates to exactly 0, so dividing by f_0 itself gave ±∞ or NaN and the
        // run went on (it stopped at iteration 4, once f_k happened to be non-zero noise).
        match fit.stop {
            StopReason::Tolerance { iter, rel_decrease } => {
                assert!(iter == 0 && rel_decrease.is_finite(), "{:?}", fit.stop)
            }
            StopReason::Stalled { iter } => assert_eq!(iter, 0),
            other => panic!("an exact factorization must stop at once: {other:?}"),
        }
    }

    #[test]
    fn invalid_params_are_errors() {
        let p = Problem::new(array![[1.0]], 1).unwrap();
        let f = Factors {
            u: array![[1.0]],
            v: array![[1.0]],
        };
        for params in [
            RunParams {
                max_iter: 0,
                ..Default::default()
            },
            RunParams {
                tol: f64::NAN,
                ..Default::default()
            },
        ] {
            assert!(
                run(&p, f.clone(), &mut Mu, &params, |_| ControlFlow::Continue(
                    ()
                ))
                .is_err()
            );
        }
    }

    #[test]
    fn note_columns_off_leaves_them_empty_and_changes_nothing_else() {
        let (m, f) = crate::init::note_instance(5, 9, 7, 3, crate::DataKind::Random);
        let p = Problem::new(m, 3).unwrap();
        let go = |note_columns| {
            let params = RunParams {
                max_iter: 20,
                objective: ObjectiveMode::Direct,
                note_columns,
                ..Default::default()
            };
            run(&p, f.clone(), &mut Mu, &params, |_| {
                ControlFlow::Continue(())
            })
            .unwrap()
        };
        let (on, off) = (go(true), go(false));
        assert!(on
            .trace
            .rows
            .iter()
            .all(|r| r.note.difference_decrease_v.is_some()));
        for (a, b) in on.trace.rows.iter().zip(&off.trace.rows) {
            assert_eq!(b.note, NoteForms::default());
            let strip = |r: &Record| Record {
                note: NoteForms::default(),
                ..r.clone()
            };
            assert_eq!(strip(a), *b);
        }
    }

    #[test]
    fn kkt_carry_equals_a_direct_evaluation() {
        // The trace's KKT residual at (U_k, V_k) is assembled from products of iterations k−1
        // and k; it must agree with a from-scratch evaluation up to round-off in the gradients.
        // An entry of ∇_V = (UᵀU)V − UᵀM is a k-term sum of m-term sums minus an m-term sum,
        // so each evaluation errs by ≤ γ_{m+k+1} (|U|ᵀ|U||V| + |U|ᵀ|M|) entrywise (Higham §3.5);
        // likewise ∇_U with n. min(·, ·) and ‖·‖_F are 1-Lipschitz and ‖|A||B|‖_F ≤ ‖A‖_F‖B‖_F,
        // so the two residuals differ by ≤ 2γ_{max(m,n)+k+1}·(‖U‖²‖V‖ + ‖U‖‖M‖ + ‖U‖‖V‖² +
        // ‖M‖‖V‖), plus the rounding of the norms themselves, ≤ γ_{(m+n)k+2}·kkt.
        let (m, f) = crate::init::note_instance(3, 7, 6, 3, crate::DataKind::Random);
        let p = Problem::new(m, 3).unwrap();
        let mut states = vec![f.clone()];
        let params = RunParams {
            max_iter: 6,
            ..Default::default()
        };
        let mut solver = Mu;
        let mut g = f.clone();
        for _ in 0..6 {
            solver.step(&p, &mut g).unwrap();
            states.push(g.clone());
        }
        let fit = run(&p, f, &mut Mu, &params, |_| ControlFlow::Continue(())).unwrap();
        for (r, s) in fit.trace.rows.iter().zip(&states) {
            let direct = kkt_residual(&p, s);
            let norm = |a: &Array2<f64>| a.iter().map(|x| x * x).sum::<f64>().sqrt();
            let (nm, nu, nv) = (p.m_norm_sq().sqrt(), norm(&s.u), norm(&s.v));
            let ((dm, dn), dk) = (p.m().dim(), s.u.ncols());
            let grad_scale = nu * nu * nv + nu * nm + nu * nv * nv + nm * nv;
            let gamma = crate::roundoff::gamma;
            let tol =
                2.0 * gamma(dm.max(dn) + dk + 1) * grad_scale + gamma((dm + dn) * dk + 2) * direct;
            assert!((r.kkt - direct).abs() <= tol, "{} vs {}", r.kkt, direct);
        }
    }
}
