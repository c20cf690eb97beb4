//! The round-off model the claims' tolerances are built from: the unit round-off $u$,
//! $\gamma_N = Nu/(1 - Nu)$ (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
//! §3.1), the unit of underflow error, the counts $N$ of each quantity, and the rule that
//! decides whether a row is resolved at all. The tolerances themselves, with their
//! derivations, are in [`crate::claims`].

use serde::{Deserialize, Serialize};

use crate::claims::Half;
use crate::scaling::pow2;

/// Unit round-off $u = 2^{-53}$.
pub const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// $\gamma_N = Nu/(1 - Nu)$.
// ANCHOR: gamma
pub fn gamma(n: usize) -> f64 {
    let nu = n as f64 * UNIT_ROUNDOFF;
    nu / (1.0 - nu)
}
// ANCHOR_END: gamma

/// The smallest subnormal, $2^{-1074}$: the largest absolute error one underflowing product
/// or quotient can add ($|\eta| \le u\lambda = 2^{-1075}$, taken generously).
pub fn underflow_unit() -> f64 {
    pow2(-1074)
}

/// Problem sizes the tolerances depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dims {
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

/// The per-half-step $\gamma_{N_h}$ for the V (`cols = n`) or U (`cols = m`) half-step.
// ANCHOR: gamma_half
pub fn gamma_half(d: Dims, cols: usize) -> f64 {
    gamma(d.k * cols + d.k + 4)
}
// ANCHOR_END: gamma_half

/// $P_h = 4kN(k+1)$: how many products of a half-step's sums can underflow (module doc).
// ANCHOR: underflow_products
pub fn underflow_products(d: Dims, cols: usize) -> f64 {
    (4 * d.k * cols * (d.k + 1)) as f64
}
// ANCHOR_END: underflow_products

/// A half-step's row is **resolved** when none of MU's own inputs at a moving entry is
/// subnormal, when the two underflow terms (of the sums, $U_h$, and of the iterate's subnormal
/// entries) do not exceed the round-off term $\gamma_{N_h}$ (beyond that, precision is limited
/// by the double range, not by $u$), and when the iterate's second-order rounding term is below
/// 1 (beyond that a tolerance would exceed the scale σ of what it compares: the check could not
/// fail). Otherwise its claims skip the row as unresolved.
// ANCHOR: resolved
pub fn resolved(subnormal_inputs: usize, u_h: f64, i_under: f64, i_round: f64, gamma: f64) -> bool {
    subnormal_inputs == 0 && u_h <= gamma && i_under <= gamma && i_round < 1.0
}
// ANCHOR_END: resolved

/// Whether a half-step's sums are resolved: its underflow term $U_h$ does not exceed its
/// round-off term $\gamma_{N_h}$ (the driver records an event at the first row where not).
pub fn rel_resolved(r: &crate::diagnostics::RelSums, d: Dims, half: Half) -> bool {
    let cols = d.cols(half);
    resolved(
        r.subnormal_inputs,
        underflow_products(d, cols) * r.underflow,
        r.iterate_underflow,
        r.iterate,
        gamma_half(d, cols),
    )
}

/// $\gamma_{N_f}$, $N_f = mn + k(m+n) + 4$: a computed objective (either form) is within
/// $\gamma_{N_f}$ times its `objective_scale` of the exact value (see the module doc).
pub fn gamma_objective(d: Dims) -> f64 {
    gamma(d.m * d.n + d.k * (d.m + d.n) + 4)
}

impl Dims {
    /// The number $N$ of columns a half-step's sums run over: n for the V half-step (columns
    /// of V), m for the U half-step (columns of Uᵀ).
    pub fn cols(self, half: Half) -> usize {
        match half {
            Half::V => self.n,
            Half::U => self.m,
        }
    }
}
