//! # nmf-core
//!
//! The single source of truth of nmf-lab: the Lee–Seung multiplicative updates (MU) for
//! $\min_{U,V\ge0} f(U,V) = \tfrac12\|M - UV\|_F^2$, every per-iteration quantity of their
//! convergence proof, checks of a trace against the proof ([`claims`]), and an exact
//! verification of the proof's identities in rational arithmetic ([`exact`]).
//!
//! ```
//! use nmf_core::Experiment;
//! let out = Experiment::note(0, 50).run().unwrap();
//! assert_eq!(out.fit.trace.rows.len(), 50);
//! assert!(out.claims.iter().all(|v| v.holds()));
//! ```
//!
//! Module map: [`problem`] (validated input), [`init`] (seeded draws), [`solver`] (the
//! [`Solver`] trait and [`Mu`]), [`formulas`] (the proof's formulas, generic over the scalar),
//! [`diagnostics`] and [`spectral`] (per-half-step quantities), [`run`](mod@run) (the driver),
//! [`trace`] (records, events, stop reasons), [`claims`], [`tables`] (the claims and events as
//! tables, for every rendering), [`exact`], [`io`], [`experiment`].

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
pub mod tables;
pub mod trace;

pub use claims::{all_hold, check, check_all, Claim, Dims, Status, Verdict, Worst};
pub use error::{NmfError, Result, Which};
pub use experiment::{Experiment, Outcome};
pub use init::{DataKind, InitKind};
pub use loss::{Frobenius, Loss};
pub use problem::{Factors, Problem};
pub use run::{run, Fit, ObjectiveMode, RunParams};
pub use solver::{HalfStep, Hals, LinMu, Mu, MuEps, Solver, SolverSpec, Step, StepError};
pub use trace::{Event, EventKind, Record, StopReason, Trace};

/// Re-exported so that notebooks can name array types without a `:dep` on ndarray.
pub use ndarray;
