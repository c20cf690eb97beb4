//! Sweeps: every claim over thousands of instances.
//!
//! A [`Grid`] (a TOML file) expands to instances — solvers × data × shapes × inits × seeds, in
//! that nesting order with stable ids ([`Grid::instances`]). Each instance is an
//! [`Experiment`] run with its rows **not** kept: its solver's claims are checked online
//! ([`crate::claims::Checker`]), so memory per instance is bounded by one batch of rows, and
//! the sweep adds no per-iteration work to [`Experiment::run_with`] beyond counting the rows.
//! Each instance gives one [`SweepRow`]: what it ran (enough to replay it exactly:
//! [`Instance::run`], `nmf-lab reproduce --instance`), how it stopped, the first underflow
//! and zero events, and per claim the status, rows checked, violations and the worst usage
//! with its iteration.
//!
//! [`run`] runs a [`Shard`] of the grid on a local rayon pool; the rows come back in instance
//! order whatever the thread count and the order instances finish in, and each row's bytes
//! in `results.csv` / `results.jsonl` depend on that row only ([`files`]), so
//! a sweep's files are byte-identical for any thread count, and [`files::merge`] of the
//! shards of a grid gives exactly the files of the unsharded sweep. [`stats`] turns rows into
//! violation rates with exact Clopper–Pearson intervals, usage quantiles and Student-t
//! intervals.

pub mod files;
mod grid;
pub mod stats;

use std::ops::ControlFlow;
use std::path::PathBuf;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::claims::{Claim, Dims, Half, Status};
use crate::error::Result;
use crate::experiment::{Experiment, Outcome};
use crate::trace::{EventKind, StopReason};

pub use grid::{sha256_hex, DataFile, DataSource, Grid, Shard, MAX_INSTANCES};

/// One instance of a grid: its id and the experiment it runs (for a data file, the file's
/// path; the experiment's `data` is then unused, as for `nmf-lab run`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: usize,
    pub experiment: Experiment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_file: Option<PathBuf>,
}

impl Instance {
    /// Run it on its own (reading its data file, if any): the outcome the sweep's row was made
    /// from.
    pub fn run(&self, on_record: impl FnMut(&crate::Record) -> ControlFlow<()>) -> Result<Outcome> {
        match &self.data_file {
            None => self.experiment.run_with(on_record),
            Some(p) => {
                let m = crate::io::load_matrix(p, &crate::io::ReadOptions::default())?.matrix;
                self.run_on_matrix(&m, on_record)
            }
        }
    }

    /// Run it on the given `M` (its data file's matrix), from the seeded start for it.
    fn run_on_matrix(
        &self,
        m: &Array2<f64>,
        on_record: impl FnMut(&crate::Record) -> ControlFlow<()>,
    ) -> Result<Outcome> {
        let e = &self.experiment;
        e.run_on(m.clone(), e.start_for(m), on_record)
    }
}

/// One claim of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    pub claim: String,
    pub status: Status,
    pub checked: usize,
    pub violations: usize,
    /// The largest fraction of the tolerance used over the rows checked (> 1: violated);
    /// `None` when no row was checked. Non-finite values are written as strings in JSON.
    #[serde(with = "files::opt_float")]
    pub worst_usage: Option<f64>,
    pub worst_iter: Option<usize>,
    pub first_violation: Option<usize>,
}

/// One instance's result: what ran and what came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    pub id: usize,
    pub experiment: Experiment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_file: Option<PathBuf>,
    /// How the run ended; `None` when the instance could not run (see `error`).
    pub stop: Option<StopReason>,
    /// Iterations recorded.
    pub iterations: usize,
    #[serde(with = "files::opt_float")]
    pub final_objective: Option<f64>,
    #[serde(with = "files::opt_float")]
    pub final_kkt: Option<f64>,
    /// The first iteration in which an entry of U or V became subnormal / exactly zero.
    pub first_underflow: Option<usize>,
    pub first_zero: Option<usize>,
    /// Why the instance could not run (e.g. a sparse draw that is zero everywhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every claim of [`claim_names`], in that order.
    pub claims: Vec<ClaimResult>,
}

impl SweepRow {
    /// The instance this row replays.
    pub fn instance(&self) -> Instance {
        Instance {
            id: self.id,
            experiment: self.experiment.clone(),
            data_file: self.data_file.clone(),
        }
    }

    /// The worst status among the claims its solver declares: `Fails` over `NotExercised`
    /// over `Holds` (`NotExercised` also for an instance that could not run).
    pub fn worst_status(&self) -> Status {
        let st = |s| self.claims.iter().any(|c| c.status == s);
        if st(Status::Fails) {
            Status::Fails
        } else if st(Status::NotExercised) || self.error.is_some() {
            Status::NotExercised
        } else {
            Status::Holds
        }
    }
}

/// The claims of a row, in column order: [`Claim::all`], then the floors (`floor_v`,
/// `floor_u`), which only solvers with a floor declare.
pub fn claim_names() -> Vec<String> {
    let d = Dims { m: 1, n: 1, k: 1 };
    let floors: Vec<Claim> = Half::BOTH.iter().map(|&h| Claim::Floor(h, 1.0)).collect();
    crate::claims::check(&crate::Trace::default(), d, &floors)
        .into_iter()
        .map(|v| v.claim)
        .collect()
}

/// Run one instance (`matrix`: its data file's, already read) into its row.
pub fn run_instance(inst: &Instance, matrix: Option<&Array2<f64>>) -> SweepRow {
    run_instance_until(inst, matrix, &|| false)
}

/// [`run_instance`], interrupted after the iteration in which `stop()` turns true (the row
/// then says [`StopReason::Interrupted`]).
fn run_instance_until(
    inst: &Instance,
    matrix: Option<&Array2<f64>>,
    stop: &(dyn Fn() -> bool + Sync),
) -> SweepRow {
    let mut rows = 0usize;
    let count = |_: &crate::Record| {
        rows += 1;
        if stop() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let out = match matrix {
        Some(m) => inst.run_on_matrix(m, count),
        None => inst.run(count),
    };
    row_of(inst, out, rows)
}

fn row_of(inst: &Instance, out: Result<Outcome>, iterations: usize) -> SweepRow {
    let names = claim_names();
    let declared = inst.experiment.solver.build().claims();
    match out {
        Ok(o) => {
            let claims = names
                .iter()
                .map(|name| match o.claims.iter().find(|v| &v.claim == name) {
                    Some(v) => ClaimResult {
                        claim: name.clone(),
                        status: v.status,
                        checked: v.checked,
                        violations: v.violations,
                        worst_usage: v.worst.as_ref().map(|w| w.usage),
                        worst_iter: v.worst.as_ref().map(|w| w.iter),
                        first_violation: v.first_violation,
                    },
                    None => not_applicable(name),
                })
                .collect();
            let first = |k| o.fit.trace.first_event(k).map(|e| e.iter);
            SweepRow {
                id: inst.id,
                experiment: inst.experiment.clone(),
                data_file: inst.data_file.clone(),
                stop: Some(o.fit.stop.clone()),
                iterations,
                final_objective: Some(o.fit.final_objective),
                final_kkt: Some(o.fit.final_kkt),
                first_underflow: first(EventKind::Underflow),
                first_zero: first(EventKind::ZeroReached),
                error: None,
                claims,
            }
        }
        Err(e) => {
            // The claims the solver declares were not exercised; the others do not apply.
            let d = Dims { m: 1, n: 1, k: 1 };
            let declared_names: Vec<String> =
                crate::claims::check(&crate::Trace::default(), d, &declared)
                    .into_iter()
                    .filter(|v| v.status != Status::NotApplicable)
                    .map(|v| v.claim)
                    .collect();
            let claims = names
                .iter()
                .map(|name| {
                    if declared_names.contains(name) {
                        ClaimResult {
                            status: Status::NotExercised,
                            ..not_applicable(name)
                        }
                    } else {
                        not_applicable(name)
                    }
                })
                .collect();
            SweepRow {
                id: inst.id,
                experiment: inst.experiment.clone(),
                data_file: inst.data_file.clone(),
                stop: None,
                iterations: 0,
                final_objective: None,
                final_kkt: None,
                first_underflow: None,
                first_zero: None,
                error: Some(e.to_string()),
                claims,
            }
        }
    }
}

fn not_applicable(name: &str) -> ClaimResult {
    ClaimResult {
        claim: name.to_string(),
        status: Status::NotApplicable,
        checked: 0,
        violations: 0,
        worst_usage: None,
        worst_iter: None,
        first_violation: None,
    }
}

/// Run the instances of `shard` on a local pool of `threads` threads (0: one per core), in
/// parallel; `on_done` is called after each instance (from any thread). The rows come back
/// in instance order, whatever the thread count.
pub fn run(
    grid: &Grid,
    shard: Shard,
    threads: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<SweepRow>> {
    Ok(run_until(grid, shard, threads, on_done, &|| false)?.expect("never stopped"))
}

/// [`run`], stopped when `stop()` turns true (checked after every iteration of every
/// instance): `None` then, since the rows of a stopped sweep are incomplete (a signal).
pub fn run_until(
    grid: &Grid,
    shard: Shard,
    threads: usize,
    on_done: &(dyn Fn() + Sync),
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Option<Vec<SweepRow>>> {
    use rayon::prelude::*;
    let instances = grid.instances(shard);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| crate::NmfError::Param {
            name: "threads",
            message: e.to_string(),
        })?;
    let rows: Vec<SweepRow> = pool.install(|| {
        instances
            .par_iter()
            .filter_map(|inst| {
                if stop() {
                    return None;
                }
                let m = inst
                    .data_file
                    .as_deref()
                    .and_then(|p| grid.file_matrix(p))
                    .map(|m| m.as_ref());
                let row = run_instance_until(inst, m, stop);
                on_done();
                Some(row)
            })
            .collect()
    });
    Ok((!stop() && rows.len() == instances.len()).then_some(rows))
}

/// What a sweep's rows add up to, for an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub instances: usize,
    /// Instances on which some claim failed.
    pub failed: usize,
    /// Instances whose run stopped because the step became undefined ([`StopReason::is_failure`]).
    pub undefined: usize,
    /// Instances with a declared claim not exercised, or that could not run.
    pub not_exercised: usize,
}

impl Tally {
    /// Count the rows.
    pub fn of(rows: &[SweepRow]) -> Tally {
        let mut t = Tally {
            instances: rows.len(),
            ..Tally::default()
        };
        for r in rows {
            match r.worst_status() {
                Status::Fails => t.failed += 1,
                Status::NotExercised => t.not_exercised += 1,
                _ => {}
            }
            if r.stop.as_ref().is_some_and(StopReason::is_failure) {
                t.undefined += 1;
            }
        }
        t
    }
}

#[cfg(test)]
mod tests;
