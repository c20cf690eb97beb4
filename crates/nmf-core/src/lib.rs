//! # nmf-core
//!
//! The single source of truth of nmf-lab: alternating methods for
//! $\min_{U,V\ge0} f(U,V) = \tfrac12\|M - UV\|_F^2$ (Lee–Seung MU, ε-MU, Lin's modified MU,
//! HALS, and any [`solver::UpdateRule`] a researcher writes), every per-iteration quantity of
//! their convergence proofs, checks of a trace against the claims each solver declares
//! ([`claims`]), and an exact verification of the proofs' identities in rational arithmetic,
//! running the solvers' own code ([`exact`]).
//!
//! ```
//! use nmf_core::Experiment;
//! let out = Experiment::note(0, 50).run().unwrap();
//! assert_eq!(out.fit.trace.rows.len(), 50);
//! assert!(out.claims.iter().all(|v| v.holds()));
//! ```
//!
//! Module map: [`problem`] (validated input), [`init`] (seeded draws), [`solver`] (the
//! [`Solver`] trait, generic over the scalar, and the solvers), [`loss`] (the objective, its
//! gradients and half-step quantities), [`formulas`] (the proofs' formulas, generic over the
//! scalar), [`diagnostics`] and [`spectral`] (per-half-step quantities), [`run`](mod@run) (the
//! driver: step → observe → record → stop), [`trace`] (typed records, events, stop reasons),
//! [`roundoff`] (u, γ_N), [`claims`], [`tables`] (the claims and events as tables, for every
//! rendering), [`exact`], [`rate`] (MU's local linear rate), [`io`], [`experiment`], [`sweep`] (grids of instances,
//! their result files and statistics).

pub mod claims;
pub mod datasets;
pub mod diagnostics;
pub mod error;
pub mod exact;
pub mod experiment;
pub mod formulas;
pub mod init;
pub mod io;
pub mod loss;
pub mod problem;
pub mod rate;
pub mod roundoff;
pub mod run;
pub mod scaling;
pub mod solver;
pub mod spectral;
pub mod sweep;
pub mod tables;
pub mod trace;

pub use claims::{all_hold, check, check_all, Claim, Dims, Status, Verdict, Worst};
pub use error::{NmfError, Result, Which};
pub use experiment::{Experiment, Outcome};
pub use init::{DataKind, InitKind};
pub use loss::{Frobenius, Loss};
pub use problem::{Factors, Problem};
pub use run::{run, Fit, ObjectiveMode, RunParams};
pub use solver::{
    HalfStep, Hals, HalsAccel, LinMu, Mu, MuEps, Solver, SolverSpec, Step, StepError,
};
pub use trace::{Event, EventKind, Record, StopReason, Trace};

/// Re-exported so that notebooks can name array types without a `:dep` on ndarray.
pub use ndarray;
