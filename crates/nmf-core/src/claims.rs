//! Claims: checks of a [`Trace`] against what the proof says, each with a tolerance derived
//! from a round-off argument, each returning a [`Verdict`] and its worst row.
//!
//! # Units: every check is dimensionless
//!
//! A verdict must not depend on the data's units. Every check below compares a quantity with
//! its tolerance **relative to a round-off scale of its own**: the half-step claims read the
//! `rel_*` columns (the half-step's sums divided by its scale $\sigma$, formed before they are
//! put back into the data's units, see [`crate::diagnostics::RelSums`]), θ is compared relative
//! to $\lambda_{\max}$, the objective relative to $s_k + s_{k+1}$. Scaling `M` by $2^j$ scales
//! each iterate exactly (for $k \ge 1$, while MU's own products stay in range), and these ratios
//! are then bit-for-bit the same from row 1 on (row 0 starts from the unscaled $V_0$): so are the
//! verdicts and their counts (`tests/scale_invariance.rs`).
//!
//! # The round-off argument
//!
//! With unit round-off $u = \varepsilon/2 = 2^{-53}$ and $\gamma_N = Nu/(1-Nu)$, a computed sum
//! of $N$ products satisfies $|\mathrm{fl}(\sum x_iy_i) - \sum x_iy_i| \le \gamma_N\sum|x_iy_i|$
//! (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1), and a matrix
//! product entry obeys the same bound with $N$ its inner dimension. That model ignores
//! underflow; with gradual underflow each product or quotient obeys
//! $\mathrm{fl}(x \circ y) = (x\circ y)(1+\delta) + \eta$, $|\delta| \le u$, $|\eta| \le u\lambda
//! = 2^{-1075}$, $\lambda = 2^{-1022}$ the smallest normal number, and $\eta = 0$ for additions
//! and subtractions (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., ch. 2, the
//! model with underflow). So a sum also carries an **absolute underflow term**:
//! at most one subnormal unit $2^{-1074} \ge u\lambda$ per product, times the largest factor
//! $B$ that product is multiplied by afterwards.
//!
//! * **Underflow term of a half-step.** The sums are formed on arrays scaled by powers of two
//!   so that their largest entries lie in $[1, 2)$ ([`crate::scaling`]); in those units $B$ is
//!   the largest scaled entry of $A$, $XV$, $XV'$ (at least 2), and the trace records
//!   `rel_underflow` $= B\,2^{-1074}/\hat\sigma$, one product's worth relative to $\sigma$. A
//!   half-step forms at most $P_h = 4kN(k+1)$ products that can underflow: $X\hat\Delta$ and
//!   $X\hat V'$ ($k$ each per entry), at most four more per entry in the direct sums, and the
//!   $\tfrac32 k^2 N + k^2 \le 2k^2N$ of Lemma 2's pair sums. Every half-step tolerance below
//!   replaces $\gamma_{N_h}$ by $\gamma_{N_h} + U_h$, $U_h = P_h\cdot$`rel_underflow`. While the
//!   step is above about $2^{-1000}$ of the iterate, $U_h$ is below $10^{-280}$ and changes
//!   nothing; when it exceeds $\gamma_{N_h}$ the half-step is **unresolved**: its claims skip
//!   the row (counted as unresolved) and the trace records an event.
//! * **Half-step inner products.** Every form of the decrease, of the quadratic term and of the
//!   inner product is a sum over the $kN$ entries of $\Delta V$ (N = n for V, m for U) of
//!   $\Delta V_{zi}$ times combinations of $A$, $XV$, $XV'$ and $X\Delta V$, whose entries are
//!   themselves $k$-term sums (the rounding of the product $XV$ included). Each computed form is
//!   therefore within $\gamma_{N_h}\,\sigma$ of its value for the computed iterates, with
//!   $N_h = kN + k + 4$ and $\sigma = \langle|\Delta V|, A + XV + XV'\rangle$ (the trace's
//!   `scale_v`, `scale_u`; note $X|\Delta V| \le XV + XV'$ entrywise). The count: a $k$-term sum
//!   for each entry of $XV$, $XV'$ or $X\Delta V$ ($k$), the $kN$-term outer sum ($kN$), and at
//!   most four more roundings per term: forming $\Delta V = V' - V$, combining up to three such
//!   factors (two additions) and one product.
//! * **The computed iterate is not the exact MU image.** The identities below (Lemma 2, the
//!   K-identity) hold for $V' = V\circ R$ with $R = A \oslash (XV)$ exactly; the computed $R$ and
//!   $V'$ carry one rounding each, $|\delta V'| \le 2u|V'|$. The difference of the two sides of
//!   either identity is a smooth function of $V'$ that vanishes at the exact image; its gradient
//!   there is $\pm K\Delta V$ (with $K = \mathrm{Diag}((XV)\oslash V)$, MU is
//!   $K\Delta V = A - XV$), so the computed iterate moves it by at most
//!   $2u\langle K|\Delta V|, V'\rangle = 2u\langle|\Delta V|, A\rangle \le 2u\,\sigma$, to first order.
//! * **Lemma 1** compares three forms of one identity that holds for any $V'$: residual
//!   $\le 3(\gamma_{N_h} + U_h)\sigma$.
//! * **Lemma 2.** The ratio form sums $k^2N$ non-negative terms, each
//!   $X_{zj} v_{zi} v_{ji} (r_{zi} - r_{ji})^2$ with five roundings (a subtraction, four
//!   products; the final ½ is exact), plus one for the product's position in the outer sum:
//!   relative error $\le\gamma_{k^2N+6}$. The identity needs $A - XV = (XV)\circ(R - 1)$ with
//!   the $XV$ MU divided by; the computed denominator differs from the exact $XV$ by
//!   $\le\gamma_k XV$ entrywise, which moves the direct form by $\le\gamma_{N_h}\sigma$. With
//!   the direct form's own $\gamma_{N_h}\sigma$, the non-exact iterate's
//!   $2u\sigma \le 2\gamma_{N_h}\sigma$ and $U_h$: residual
//!   $\le 4(\gamma_{N_h} + U_h)\sigma + \gamma_{k^2N+6}\,\text{closed}$.
//! * **Inner product ≥ 0.** The closed form is a sum of non-negative terms, so the direct form
//!   is $\ge -$(Lemma 2's bound with closed = 0) $= -4(\gamma_{N_h} + U_h)\sigma$.
//! * **Sufficient decrease.** decrease − step = inner (Lemma 1) $\ge 0$: bound
//!   $-(3+4)(\gamma_{N_h} + U_h)\sigma$.
//! * **θ bounds.** θ $= \langle X\hat\Delta, \hat\Delta\rangle/\|\hat\Delta\|^2$ is formed with
//!   $\Delta V$ scaled by its own largest power of two, so it is resolved for any step $\ne 0$.
//!   Its numerator is a sum of terms of **both signs** ($\Delta V$ changes sign), so only an
//!   absolute bound holds: $|\mathrm{fl}(\langle X\Delta,\Delta\rangle) - \langle X\Delta,\Delta\rangle|
//!   \le \gamma_{N_h}\langle X|\Delta|,|\Delta|\rangle \le \gamma_{N_h}\lambda_{\max}\|\Delta\|^2$
//!   (Perron–Frobenius: $X \ge 0$ entrywise), and the denominator, a sum of squares, has relative
//!   error $\le\gamma_{N_h}$, so $|\hat\theta - \theta| \le 2\gamma_{N_h}\lambda_{\max}$ (plus a
//!   rounding of the quotient). Symmetric QR eigenvalues are within $p(k)\,u\,\|X\|_2$ of exact
//!   ones (Golub & Van Loan §8.3), $p(k) = 4k^2$ taken generously; underflow adds at most
//!   $kN(2k+2)\,2^{-1074}(1 + \lambda_{\max})$ since $\|\hat\Delta\|^2 \ge 1$:
//!   $\lambda_{\min} - t \le \theta \le \lambda_{\max} + t$, $t = (2\gamma_{N_h} + 4k^2u)\lambda_{\max}
//!   + kN(2k+2)\,2^{-1074}(1+\lambda_{\max})$, checked relative to $\lambda_{\max}$.
//! * **K-identity.** decrease $= \|\Delta V\|_K^2 - \tfrac12\|U\Delta V\|^2$ for the exact MU
//!   image (Lee & Seung's $\Delta V = -K^{-1}\nabla g(V)$ substituted into the stable form). The
//!   decrease errs by $\gamma_{N_h}\sigma$, the quadratic term by $\tfrac12\gamma_{N_h}
//!   \langle X|\Delta|,|\Delta|\rangle \le \tfrac12\gamma_{N_h}\|\Delta V\|_K^2$ ($K \succeq X$
//!   applied to $|\Delta V|$, whose K-norm is that of $\Delta V$), the K-norm, a sum of $kN$
//!   non-negative terms of three roundings each, by $\gamma_{N_h}\|\Delta V\|_K^2$, the iterate by
//!   $2u\sigma$: residual $\le (2\gamma_{N_h} + 2u + 3U_h)\sigma + 2\gamma_{N_h}\|\Delta V\|_K^2$.
//! * **K-ratio.** By the K-identity, decrease$/\|\Delta V\|_K^2 = 1 - \tfrac12\|U\Delta V\|^2/
//!   \|\Delta V\|_K^2$, which lies in $[\tfrac12, 1]$ because $0 \preceq X \preceq K$. The trace's
//!   `k_ratio` divides the decrease, whose error $\gamma_{N_h}\sigma$ is not small relative to
//!   $\|\Delta V\|_K^2$ late in a run (the tolerance grew to $10^2$ there, so the check could not
//!   fail); the claim therefore checks the ratio on its own terms,
//!   $\rho = 1 - \tfrac12\|U\Delta V\|^2/\|\Delta V\|_K^2$, whose error is
//!   $\le \tfrac12\gamma_{N_h} + \gamma_{N_h}\rho' + u \le 2\gamma_{N_h}$ (both terms relative to
//!   the K-norm, as above) plus $2U_h\sigma/\|\Delta V\|_K^2$: inside $[\tfrac12 - t, 1 + t]$.
//! * **Diagonal decrease.** decrease $\ge \tfrac12\|\Delta V\|_K^2 \ge \tfrac12\min_z X_{zz}
//!   \|\Delta V\|^2$, since $K \succeq X$ and $K_{zi} = (XV)_{zi}/V_{zi} \ge X_{zz}$: a bound
//!   that needs no full rank (λ_min(X) may be 0). Tolerance: the decrease's $\gamma_{N_h}\sigma$,
//!   the iterate's $2u\sigma$, $2U_h\sigma$, and $\gamma_{N_h}$ relative on the bound itself.
//! * **Objective non-increasing.** Either form of $f$ is within $\gamma_{N_f}$ times
//!   `objective_scale` $= \tfrac12\|M + UV\|^2$, $N_f = mn + k(m+n) + 4$, which bounds every
//!   chain of roundings: the direct form $mn + k + 2$ (a $k$-term entry of $UV$, a subtraction, a
//!   square, the $mn$-term sum); the Gram form's $\|M\|^2$ ($mn$), $\langle U^\top M, V\rangle$
//!   ($m + 1 + kn$) and $\langle U^\top U, VV^\top\rangle$ ($m + n + 1 + k^2$: both factors
//!   of a term are computed sums), each $\le mn + k(m+n)$ since $k \le \min(m,n)$, then up to
//!   four more in combining them:
//!   $f_{k+1} - f_k \le \gamma_{N_f}(s_k + s_{k+1})$, checked relative to $s_k + s_{k+1}$. The
//!   objective is formed on power-of-two–scaled terms too; the final rounding of each value into
//!   the data's units adds at most $2^{-1074}$, so $4\cdot 2^{-1074}/(s_k + s_{k+1})$ is added,
//!   and a row whose scale is so small that this term exceeds $\gamma_{N_f}$ is unresolved. In
//!   exact arithmetic the decrease is $\ge 0$ (Lee & Seung, Theorem 1); the computed iterates
//!   are not exact MU images, but each is an exact MU image of a slightly perturbed point, and
//!   f is continuous: what the check bounds is the evaluation error, and a violation beyond it
//!   would show that the computed iteration lost monotonicity.

use serde::{Deserialize, Serialize};

pub use crate::roundoff::{
    gamma, gamma_objective, rel_resolved, underflow_unit, Dims, UNIT_ROUNDOFF,
};
use crate::roundoff::{gamma_half, resolved, underflow_products};
pub use crate::trace::Half;
use crate::trace::{Record, Trace};

/// The row where a claim came closest to failing (or failed worst).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worst {
    pub iter: usize,
    /// The measured amount (a residual, or how far outside a bound; ≤ 0 means inside),
    /// relative to the claim's round-off scale (dimensionless).
    pub value: f64,
    /// The tolerance at that row, in the same units.
    pub tol: f64,
    /// `value / tol`: the fraction of the tolerance used (≤ 1 holds).
    pub usage: f64,
}

/// What a claim's check over a trace found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Checked on at least one row, and within its tolerance on every row checked.
    Holds,
    /// Outside its tolerance on at least one row.
    Fails,
    /// Checked on no row: every row was skipped (the quantity undefined) or unresolved. This
    /// is not "holds": nothing was verified.
    NotExercised,
    /// The claim is not part of the solver's proof ([`crate::Solver::claims`]), so it was not
    /// checked: neither "holds" nor "fails".
    NotApplicable,
}

impl Status {
    /// How the status is written, everywhere: the only place that says it (a new status
    /// needs one edit here; [`crate::tables`] renders every status through it).
    pub fn words(self) -> crate::tables::StatusWords {
        use crate::tables::StatusWords as W;
        match self {
            Status::Holds => W {
                compact: "holds",
                prose: "holds",
                mark: "✔",
                alarm: false,
            },
            Status::Fails => W {
                compact: "FAILS",
                prose: "fails",
                mark: "✘",
                alarm: true,
            },
            Status::NotExercised => W {
                compact: "not exercised",
                prose: "not exercised",
                mark: "–",
                alarm: false,
            },
            Status::NotApplicable => W {
                compact: "n/a",
                prose: "not applicable",
                mark: "–",
                alarm: false,
            },
        }
    }

    /// The word a compact table prints: [`words`](Self::words)`().compact`.
    pub fn word(self) -> &'static str {
        self.words().compact
    }
}

/// The result of checking one claim over a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub claim: String,
    pub statement: String,
    pub status: Status,
    /// Rows checked, rows skipped (quantity undefined there, e.g. no step), rows unresolved
    /// (below what the double range resolves, see the module doc), rows that violate.
    pub checked: usize,
    pub skipped: usize,
    pub unresolved: usize,
    pub violations: usize,
    pub worst: Option<Worst>,
    /// The first iteration where the claim failed (absent when it did not): where to look
    /// first when a new update rule breaks a claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_violation: Option<usize>,
}

impl Verdict {
    /// Whether the claim was checked and held: `false` when it failed **or was not exercised**.
    pub fn holds(&self) -> bool {
        self.status == Status::Holds
    }

    /// Why a claim was not exercised, in words; `None` otherwise.
    pub fn why_not_exercised(&self) -> Option<String> {
        (self.status == Status::NotExercised).then(|| {
            format!(
                "no row to check: {} skipped (quantity undefined: no step, or not applicable), {} unresolved (below the double range's resolution)",
                self.skipped, self.unresolved
            )
        })
    }
}

/// What a claim found at one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RowCheck {
    /// `(value, tol)`: holds when `value ≤ tol`.
    Check(f64, f64),
    /// The quantity is undefined at this row (e.g. no step).
    Skip,
    /// The row's quantities are below what the double range resolves.
    Unresolved,
}

impl RowCheck {
    /// `(value, tol)` of a checked row, `None` otherwise.
    pub fn pair(self) -> Option<(f64, f64)> {
        match self {
            RowCheck::Check(v, t) => Some((v, t)),
            _ => None,
        }
    }

    /// `Check` when the underflow term does not exceed the round-off term, `Unresolved`
    /// otherwise.
    fn resolved_if(ok: bool, value: f64, tol: f64) -> Self {
        if ok {
            RowCheck::Check(value, tol)
        } else {
            RowCheck::Unresolved
        }
    }
}

/// The verdict over `(iteration, RowCheck)` items.
fn verdict_of(
    claim: &str,
    statement: &str,
    items: impl Iterator<Item = (usize, RowCheck)>,
) -> Verdict {
    let (mut checked, mut skipped, mut unresolved, mut violations) = (0, 0, 0, 0);
    let mut worst: Option<Worst> = None;
    let mut first_violation = None;
    for (iter, check) in items {
        let (value, tol) = match check {
            RowCheck::Check(v, t) => (v, t),
            RowCheck::Skip => {
                skipped += 1;
                continue;
            }
            RowCheck::Unresolved => {
                unresolved += 1;
                continue;
            }
        };
        checked += 1;
        // A zero tolerance arises only when the row has nothing to compare; then any positive
        // amount is a violation and a non-positive one is not.
        let usage = match (tol > 0.0, value > 0.0) {
            (true, _) => value / tol,
            (false, true) => f64::INFINITY,
            (false, false) => 0.0,
        };
        let usage = if usage.is_nan() { f64::INFINITY } else { usage };
        if usage > 1.0 {
            violations += 1;
            first_violation.get_or_insert(iter);
        }
        if worst.as_ref().is_none_or(|w| usage > w.usage) {
            worst = Some(Worst {
                iter,
                value,
                tol,
                usage,
            });
        }
    }
    let status = if violations > 0 {
        Status::Fails
    } else if checked == 0 {
        Status::NotExercised
    } else {
        Status::Holds
    };
    Verdict {
        claim: claim.into(),
        statement: statement.into(),
        status,
        checked,
        skipped,
        unresolved,
        violations,
        worst,
        first_violation,
    }
}

fn verdict(
    claim: &str,
    statement: &str,
    rows: &[Record],
    f: impl Fn(&Record) -> RowCheck,
) -> Verdict {
    verdict_of(claim, statement, rows.iter().map(|r| (r.iter, f(r))))
}

/// A half-step's σ-relative sums at one row, with its round-off and underflow terms.
struct Rel {
    step: f64,
    inner: f64,
    inner_closed: Option<f64>,
    decrease: f64,
    k_norm: Option<f64>,
    diag_bound: f64,
    /// $\gamma_{N_h}$.
    gamma: f64,
    /// $U_h = P_h\cdot$`rel_underflow`.
    underflow: f64,
    /// $I_h$ = `rel_iterate` + `rel_iterate_underflow`: the iterate's own rounding beyond
    /// the first-order $2u\sigma$, entering the tolerances of the identities for the exact MU
    /// image.
    iterate: f64,
    /// `rel_iterate_underflow` alone.
    iterate_underflow: f64,
    /// `subnormal_inputs`.
    subnormal_inputs: usize,
}

impl Rel {
    /// decrease ≥ `bound` (σ-relative): `bound − decrease` against
    /// $\gamma + 2u + 2U + I + \gamma|\text{bound}|$, the decrease's own error budget plus the
    /// bound's, a sum of positive terms within γ of itself. Shared by [`diag_decrease`] and
    /// [`k_half_decrease`].
    // ANCHOR: lower_bound
    fn lower_bound(&self, bound: f64) -> RowCheck {
        let tol = self.gamma
            + 2.0 * UNIT_ROUNDOFF
            + 2.0 * self.underflow
            + self.iterate
            + self.gamma * bound.abs();
        RowCheck::resolved_if(self.resolved(), bound - self.decrease, tol)
    }
    // ANCHOR_END: lower_bound

    /// Whether the row is resolved (see [`resolved`]).
    fn resolved(&self) -> bool {
        resolved(
            self.subnormal_inputs,
            self.underflow,
            self.iterate_underflow,
            self.iterate,
            self.gamma,
        )
    }
}

/// The K-ratio on its own terms at row `r` ([`crate::formulas::k_ratio_own_terms`] of the
/// σ-relative columns): what [`k_ratio_bounds`] checks. `None` without a step or a K-norm.
pub fn k_ratio_own_terms(r: &Record, half: Half) -> Option<f64> {
    let h = r.half(half);
    crate::formulas::k_ratio_own_terms(h.rel.step?, h.mu.rel_k_norm_sq?)
}

/// Whether the half-step of row `r` is resolved (`None` when it made no step).
pub fn half_resolved(r: &Record, d: Dims, half: Half) -> Option<bool> {
    half.rel(r, d).map(|h| h.resolved())
}

/// Lemma 1 at one row: `|decrease − (step + inner)| / σ` against `3(γ + U)`.
// ANCHOR: lemma1_row
pub fn lemma1_row(r: &Record, d: Dims, half: Half) -> RowCheck {
    let Some(h) = half.rel(r, d) else {
        return RowCheck::Skip;
    };
    let value = (h.decrease - h.step - h.inner).abs();
    RowCheck::resolved_if(h.resolved(), value, 3.0 * (h.gamma + h.underflow))
}
// ANCHOR_END: lemma1_row

/// Lemma 2 at one row: `|direct − closed| / σ` against `4(γ + U) + γ_{k²N+6}·closed/σ`; skipped
/// without a closed form (non-MU solvers).
// ANCHOR: lemma2_row
pub fn lemma2_row(r: &Record, d: Dims, half: Half) -> RowCheck {
    let Some(h) = half.rel(r, d) else {
        return RowCheck::Skip;
    };
    let Some(c) = h.inner_closed else {
        return RowCheck::Skip;
    };
    let cols = d.cols(half);
    let tol = 4.0 * (h.gamma + h.underflow) + h.iterate + gamma(d.k * d.k * cols + 6) * c.abs();
    RowCheck::resolved_if(h.resolved(), (h.inner - c).abs(), tol)
}
// ANCHOR_END: lemma2_row

/// A σ-relative amount (a claim's value or tolerance) in units of machine epsilon: `x / ε`.
pub fn in_eps_units(x: f64) -> f64 {
    x / f64::EPSILON
}

/// Lemma 1 for one half-step.
pub fn lemma1(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("lemma1_{}", half.tag()),
        &format!(
            "Lemma 1 ({}): g(old) − g(new) = ½‖quadratic‖² + ⟨∇g(new), old − new⟩",
            half.tag()
        ),
        rows,
        |r| lemma1_row(r, d, half),
    )
}

/// Lemma 2 for one half-step.
pub fn lemma2(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("lemma2_{}", half.tag()),
        &format!(
            "Lemma 2 ({}): direct inner product = ratio closed form",
            half.tag()
        ),
        rows,
        |r| lemma2_row(r, d, half),
    )
}

/// ⟨∇g(new), old − new⟩ / σ ≥ −4(γ + U).
// ANCHOR: inner_nonneg
pub fn inner_nonneg(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("inner_nonneg_{}", half.tag()),
        &format!("⟨∇g(new), old − new⟩ ≥ 0 ({})", half.tag()),
        rows,
        |r| match half.rel(r, d) {
            None => RowCheck::Skip,
            Some(h) => RowCheck::resolved_if(
                h.resolved(),
                -h.inner,
                4.0 * (h.gamma + h.underflow) + h.iterate,
            ),
        },
    )
}
// ANCHOR_END: inner_nonneg

/// (step − decrease) / σ ≤ 7(γ + U) (the corollary: sufficient decrease).
// ANCHOR: sufficient_decrease
pub fn sufficient_decrease(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("sufficient_decrease_{}", half.tag()),
        &format!("g(old) − g(new) ≥ ½θ‖Δ‖² ({})", half.tag()),
        rows,
        |r| match half.rel(r, d) {
            None => RowCheck::Skip,
            Some(h) => RowCheck::resolved_if(
                h.resolved(),
                h.step - h.decrease,
                7.0 * (h.gamma + h.underflow) + h.iterate,
            ),
        },
    )
}
// ANCHOR_END: sufficient_decrease

/// λ_min − t ≤ θ ≤ λ_max + t, relative to λ_max.
// ANCHOR: theta_bounds
pub fn theta_bounds(rows: &[Record], d: Dims, half: Half) -> Verdict {
    let cols = d.cols(half);
    let g = gamma_half(d, cols);
    let eig = 4.0 * (d.k * d.k) as f64 * UNIT_ROUNDOFF;
    let under = (d.k * cols * (2 * d.k + 2)) as f64 * underflow_unit();
    verdict(
        &format!("theta_bounds_{}", half.tag()),
        &format!("λ_min ≤ θ_{} ≤ λ_max of the k×k Gram matrix", half.tag()),
        rows,
        |r| {
            let h = r.half(half);
            let Some(th) = h.theta else {
                return RowCheck::Skip;
            };
            if half.rel(r, d).is_some_and(|x| x.subnormal_inputs > 0) {
                // The Gram matrix or MU's products are subnormal: θ and the spectrum are not
                // resolved.
                return RowCheck::Unresolved;
            }
            if h.eig_max <= 0.0 {
                // X = 0: θ = 0 = λ exactly, nothing to scale by.
                return RowCheck::Check(th.abs(), 0.0);
            }
            let outside = (h.eig_min - th).max(th - h.eig_max) / h.eig_max;
            let tol = 2.0 * g + eig + under * (1.0 + h.eig_max) / h.eig_max;
            RowCheck::Check(outside, tol)
        },
    )
}
// ANCHOR_END: theta_bounds

/// The interval theory puts the K-ratio in: $[\tfrac12, 1]$ (see [`crate::formulas::k_norm_sq`]).
pub const K_RATIO_BOUNDS: (f64, f64) = (0.5, 1.0);

/// ½ − t ≤ 1 − ½‖UΔ‖²/‖Δ‖²_K ≤ 1 + t, t = 2γ + 2U/(‖Δ‖²_K/σ).
// ANCHOR: k_ratio_bounds
pub fn k_ratio_bounds(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("k_ratio_{}", half.tag()),
        &format!(
            "½ ≤ (g(old) − g(new)) / ‖Δ‖²_K = 1 − ½‖quadratic‖²/‖Δ‖²_K ≤ 1 ({})",
            half.tag()
        ),
        rows,
        |r| {
            let Some(h) = half.rel(r, d) else {
                return RowCheck::Skip;
            };
            let (Some(kn), Some(ratio)) = (
                h.k_norm,
                h.k_norm
                    .and_then(|kn| crate::formulas::k_ratio_own_terms(h.step, kn)),
            ) else {
                return RowCheck::Skip;
            };
            let (lo, hi) = K_RATIO_BOUNDS;
            let outside = (lo - ratio).max(ratio - hi);
            let tol = 2.0 * h.gamma + 2.0 * h.underflow / kn;
            RowCheck::resolved_if(h.resolved(), outside, tol)
        },
    )
}
// ANCHOR_END: k_ratio_bounds

/// decrease = ‖Δ‖²_K − ½‖UΔ‖², relative to σ.
// ANCHOR: k_identity
pub fn k_identity(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("k_identity_{}", half.tag()),
        &format!("g(old) − g(new) = ‖Δ‖²_K − ½‖quadratic‖² ({})", half.tag()),
        rows,
        |r| {
            let Some(h) = half.rel(r, d) else {
                return RowCheck::Skip;
            };
            let Some(kn) = h.k_norm else {
                return RowCheck::Skip;
            };
            let value = (h.decrease - (kn - h.step)).abs();
            let tol = 2.0 * h.gamma
                + 2.0 * UNIT_ROUNDOFF
                + 3.0 * h.underflow
                + h.iterate
                + 2.0 * h.gamma * kn;
            RowCheck::resolved_if(h.resolved(), value, tol)
        },
    )
}
// ANCHOR_END: k_identity

/// decrease ≥ ½‖Δ‖²_K, relative to σ: the majoriser's bound, for a step that minimises
/// $G(V') = g(V) + \langle\nabla g(V), V' - V\rangle + \tfrac12\|V' - V\|_K^2$ over a convex set
/// that contains $V$ (MU: no constraint; ε-MU: $V' \ge \varepsilon$). The tolerance is
/// [`diag_decrease`]'s with ½‖Δ‖²_K for the bound (its sum of positive terms errs by at most
/// γ times itself).
// ANCHOR: k_half_decrease
pub fn k_half_decrease(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("k_half_decrease_{}", half.tag()),
        &format!("g(old) − g(new) ≥ ½‖Δ‖²_K ({})", half.tag()),
        rows,
        |r| {
            let Some(h) = half.rel(r, d) else {
                return RowCheck::Skip;
            };
            let Some(kn) = h.k_norm else {
                return RowCheck::Skip;
            };
            h.lower_bound(0.5 * kn)
        },
    )
}
// ANCHOR_END: k_half_decrease

/// Every entry of the new factor is ≥ `eps`: `eps − min_new` against 0, exactly (flooring is a
/// comparison, no rounding). ε is in the data's units, as the solver's parameter is.
// ANCHOR: floor
pub fn floor(rows: &[Record], half: Half, eps: f64) -> Verdict {
    verdict(
        &format!("floor_{}", half.tag()),
        &format!("every entry of the new {} is ≥ ε = {eps:e}", half.factor()),
        rows,
        |r| RowCheck::Check(eps - r.half(half).min_new, 0.0),
    )
}
// ANCHOR_END: floor

/// decrease ≥ ½·min_z X_zz·‖Δ‖², relative to σ.
// ANCHOR: diag_decrease
pub fn diag_decrease(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("diag_decrease_{}", half.tag()),
        &format!(
            "g(old) − g(new) ≥ ½·min_z X_zz·‖Δ‖² (no full rank needed) ({})",
            half.tag()
        ),
        rows,
        |r| {
            let Some(h) = half.rel(r, d) else {
                return RowCheck::Skip;
            };
            h.lower_bound(h.diag_bound)
        },
    )
}
// ANCHOR_END: diag_decrease

/// (f(U_{k+1}, V_{k+1}) − f(U_k, V_k)) / (s_k + s_{k+1}) ≤ γ_{N_f} + 4·2⁻¹⁰⁷⁴/(s_k + s_{k+1}).
// ANCHOR: objective_non_increasing
pub fn objective_non_increasing(rows: &[Record], d: Dims) -> Verdict {
    let g = gamma_objective(d);
    verdict_of(
        "objective_non_increasing",
        "f(U_{k+1}, V_{k+1}) ≤ f(U_k, V_k)",
        rows.windows(2).map(|w| {
            let scale = w[0].objective_scale + w[1].objective_scale;
            let check = if scale > 0.0 {
                let under = 4.0 * underflow_unit() / scale;
                let increase = (w[1].objective - w[0].objective) / scale;
                RowCheck::resolved_if(under <= g, increase, g + under)
            } else {
                RowCheck::Unresolved
            };
            (w[1].iter, check)
        }),
    )
}
// ANCHOR_END: objective_non_increasing

impl Half {
    /// The σ-relative sums of this half-step at row `r`, `None` when it made no step.
    fn rel(self, r: &Record, d: Dims) -> Option<Rel> {
        let cols = d.cols(self);
        let h = r.half(self);
        let (rel, mu) = (&h.rel, &h.mu);
        let (it, it_u) = (rel.iterate?, rel.iterate_underflow?);
        Some(Rel {
            step: rel.step?,
            inner: rel.inner?,
            inner_closed: mu.rel_inner_closed,
            decrease: rel.decrease?,
            k_norm: mu.rel_k_norm_sq,
            diag_bound: rel.diag_bound?,
            gamma: gamma_half(d, cols),
            underflow: underflow_products(d, cols) * rel.underflow?,
            iterate: it + it_u,
            iterate_underflow: it_u,
            subnormal_inputs: rel.subnormal_inputs,
        })
    }
}

/// A claim of a convergence proof, by what it states (the verdicts come in the order of
/// [`Claim::all`], then a solver's parametrised claims such as [`Claim::Floor`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Claim {
    /// [`objective_non_increasing`].
    ObjectiveNonIncreasing,
    /// [`lemma1`]: the decrease of a quadratic half-problem splits into the step's quadratic
    /// term and an inner product (any step).
    Lemma1(Half),
    /// [`lemma2`]: the ratio form of that inner product (plain MU only: it rests on
    /// $V' = V\circ(A\oslash XV)$ exactly).
    Lemma2(Half),
    /// [`inner_nonneg`] (exact minimisers of a diagonal majoriser: MU, Lin's MU).
    InnerNonneg(Half),
    /// [`sufficient_decrease`] (minimisers of MU's majoriser over a convex set: MU, ε-MU,
    /// Lin's MU).
    SufficientDecrease(Half),
    /// [`theta_bounds`]: the Rayleigh quotient of the step (any step).
    ThetaBounds(Half),
    /// [`k_ratio_bounds`] (exact minimisers of a diagonal majoriser: MU, Lin's MU).
    KRatioBounds(Half),
    /// [`k_identity`] (exact minimisers of a diagonal majoriser: MU, Lin's MU).
    KIdentity(Half),
    /// [`diag_decrease`] (MU, ε-MU, Lin's MU through $K \succeq \mathrm{Diag}(X)$; HALS through
    /// its per-row decrease).
    DiagDecrease(Half),
    /// [`k_half_decrease`]: the decrease of a step that minimises MU's majoriser over a
    /// convex set containing the old point (MU, ε-MU).
    KHalfDecrease(Half),
    /// [`floor`]: every entry of the new factor is at least the given ε (ε-MU).
    Floor(Half, f64),
}

impl Claim {
    /// Every claim, in the fixed order of the verdicts: the objective, then for each half-step
    /// Lemma 1, Lemma 2, the inner product's sign, sufficient decrease, θ, the K-ratio, the
    /// K-identity, the diagonal bound.
    pub fn all() -> Vec<Claim> {
        let mut out = vec![Claim::ObjectiveNonIncreasing];
        for h in Half::BOTH {
            out.extend([
                Claim::Lemma1(h),
                Claim::Lemma2(h),
                Claim::InnerNonneg(h),
                Claim::SufficientDecrease(h),
                Claim::ThetaBounds(h),
                Claim::KRatioBounds(h),
                Claim::KIdentity(h),
                Claim::DiagDecrease(h),
            ]);
        }
        out.extend(Half::BOTH.map(Claim::KHalfDecrease));
        out
    }

    /// The claims that hold for **any** alternating method on $\tfrac12\|M - UV\|^2$ that is
    /// meant to decrease it: monotonicity (what every such proof shows), Lemma 1 (an identity
    /// of the quadratic half-problem for any step) and the Rayleigh-quotient bounds on θ (true
    /// of any non-zero step). The rest belong to a method's own proof, which declares them
    /// ([`crate::Solver::claims`]).
    pub fn generic() -> Vec<Claim> {
        let mut out = vec![Claim::ObjectiveNonIncreasing];
        for h in Half::BOTH {
            out.extend([Claim::Lemma1(h), Claim::ThetaBounds(h)]);
        }
        out
    }

    /// Check this claim: the objective over consecutive rows of `windows`, every other claim
    /// over `rows`.
    fn check(self, windows: &[Record], rows: &[Record], d: Dims) -> Verdict {
        match self {
            Claim::ObjectiveNonIncreasing => objective_non_increasing(windows, d),
            Claim::Lemma1(h) => lemma1(rows, d, h),
            Claim::Lemma2(h) => lemma2(rows, d, h),
            Claim::InnerNonneg(h) => inner_nonneg(rows, d, h),
            Claim::SufficientDecrease(h) => sufficient_decrease(rows, d, h),
            Claim::ThetaBounds(h) => theta_bounds(rows, d, h),
            Claim::KRatioBounds(h) => k_ratio_bounds(rows, d, h),
            Claim::KIdentity(h) => k_identity(rows, d, h),
            Claim::DiagDecrease(h) => diag_decrease(rows, d, h),
            Claim::KHalfDecrease(h) => k_half_decrease(rows, d, h),
            Claim::Floor(h, eps) => floor(rows, h, eps),
        }
    }

    /// This claim's verdict when it does not apply: its name and statement, nothing checked.
    fn not_applicable(self, d: Dims) -> Verdict {
        Verdict {
            status: Status::NotApplicable,
            ..self.check(&[], &[], d)
        }
    }
}

/// Every claim of [`Claim::all`] (the claims of [`crate::Mu`]), in a fixed order.
pub fn check_all(trace: &Trace, d: Dims) -> Vec<Verdict> {
    check(trace, d, &Claim::all())
}

/// The verdict of every claim of [`Claim::all`], in that order: those in `applicable` (a
/// solver's [`crate::Solver::claims`]) checked, the others [`Status::NotApplicable`].
pub fn check(trace: &Trace, d: Dims, applicable: &[Claim]) -> Vec<Verdict> {
    claims_of(&trace.rows, &trace.rows, d, applicable)
}

/// The objective claim over the windows of `windows`, every other claim over `rows`: the
/// catalogue [`Claim::all`] in order (checked when applicable, else not applicable), then the
/// applicable claims outside it (parametrised by the solver, e.g. [`Claim::Floor`]).
fn claims_of(windows: &[Record], rows: &[Record], d: Dims, applicable: &[Claim]) -> Vec<Verdict> {
    let all = Claim::all();
    let catalogue = all.iter().map(|&c| {
        if applicable.contains(&c) {
            c.check(windows, rows, d)
        } else {
            c.not_applicable(d)
        }
    });
    let own = applicable
        .iter()
        .filter(|c| !all.contains(c))
        .map(|c| c.check(windows, rows, d));
    catalogue.chain(own).collect()
}

/// The claims of [`check_all`], checked **online** as records come, keeping at most a batch
/// of them: for runs whose trace is streamed to disk instead of kept in memory. The
/// verdicts are those [`check_all`] gives on the same rows (a test checks it).
#[derive(Debug, Clone)]
pub struct Checker {
    dims: Dims,
    applicable: Vec<Claim>,
    /// The last row of the previous batch (the objective claim compares consecutive rows),
    /// then the rows of the batch being gathered: at most [`Checker::BATCH`] + 1 rows.
    rows: Vec<Record>,
    /// Whether `rows[0]` is a previous batch's last row (already counted by the other claims).
    carried: bool,
    verdicts: Option<Vec<Verdict>>,
}

impl Checker {
    /// Rows gathered before they are checked together: memory stays bounded, and the per-batch
    /// cost of the verdicts is spread over many rows (checking row by row cost about 9× more).
    pub const BATCH: usize = 1024;

    /// A checker of every claim ([`check_all`]) for a problem of size `dims`.
    pub fn new(dims: Dims) -> Self {
        Self::for_claims(dims, Claim::all())
    }

    /// A checker of the claims in `applicable` ([`check`]) for a problem of size `dims`.
    pub fn for_claims(dims: Dims, applicable: Vec<Claim>) -> Self {
        Checker {
            dims,
            applicable,
            rows: Vec::new(),
            carried: false,
            verdicts: None,
        }
    }

    /// Check one more record (rows in order).
    pub fn push(&mut self, r: &Record) {
        self.rows.push(r.clone());
        if self.rows.len() > Self::BATCH {
            self.flush();
        }
    }

    /// Check the gathered rows: the objective over their windows (including the one from the
    /// carried row), every other claim over the new rows; keep the last row for the next window.
    fn flush(&mut self) {
        let new = usize::from(self.carried);
        if self.rows.len() <= new {
            return;
        }
        let here = claims_of(&self.rows, &self.rows[new..], self.dims, &self.applicable);
        match &mut self.verdicts {
            None => self.verdicts = Some(here),
            Some(all) => {
                for (a, b) in all.iter_mut().zip(here) {
                    a.merge(b);
                }
            }
        }
        let last = self.rows.pop().expect("at least one row");
        self.rows.clear();
        self.rows.push(last);
        self.carried = true;
    }

    /// The verdicts over every record pushed.
    pub fn finish(mut self) -> Vec<Verdict> {
        self.flush();
        self.verdicts
            .unwrap_or_else(|| check(&Trace::default(), self.dims, &self.applicable))
    }
}

impl Verdict {
    /// Add the rows of `later` (the same claim, checked on rows after this one's).
    fn merge(&mut self, later: Verdict) {
        self.checked += later.checked;
        self.skipped += later.skipped;
        self.unresolved += later.unresolved;
        self.violations += later.violations;
        self.first_violation = self.first_violation.or(later.first_violation);
        if let Some(w) = later.worst {
            if self.worst.as_ref().is_none_or(|mine| w.usage > mine.usage) {
                self.worst = Some(w);
            }
        }
        self.status = if self.status == Status::NotApplicable {
            Status::NotApplicable
        } else if self.violations > 0 {
            Status::Fails
        } else if self.checked == 0 {
            Status::NotExercised
        } else {
            Status::Holds
        };
    }
}

/// Whether every applicable claim was checked and held; `None` when none failed but some
/// were not exercised, or none applied (then "holds" would claim more than was checked).
/// Claims that do not apply are left out: they neither hold nor fail.
pub fn all_hold(verdicts: &[Verdict]) -> Option<bool> {
    if verdicts.iter().any(|v| v.status == Status::Fails) {
        Some(false)
    } else if verdicts.iter().any(|v| v.status == Status::NotExercised)
        || !verdicts.iter().any(|v| v.status == Status::Holds)
    {
        None
    } else {
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Experiment;

    fn sample() -> (Trace, Dims) {
        let out = Experiment::note(crate::experiment::DEFAULT_SEED, 200)
            .run()
            .unwrap();
        (out.fit.trace, out.experiment.dims())
    }

    fn tol_of(c: RowCheck) -> f64 {
        match c {
            RowCheck::Check(_, t) => t,
            other => panic!("expected a checked row, got {other:?}"),
        }
    }

    #[test]
    fn gamma_matches_its_definition() {
        assert_eq!(gamma(0), 0.0);
        let g = gamma(10);
        assert!(g > 10.0 * UNIT_ROUNDOFF && g < 10.0 * UNIT_ROUNDOFF * (1.0 + 1e-14));
    }

    #[test]
    fn every_claim_holds_on_the_note_experiment() {
        let (t, d) = sample();
        for v in check_all(&t, d) {
            assert!(v.holds(), "{v:?}");
            assert_eq!(
                v.checked + v.skipped + v.unresolved,
                if v.claim == "objective_non_increasing" {
                    199
                } else {
                    200
                }
            );
        }
        assert_eq!(all_hold(&check_all(&t, d)), Some(true));
    }

    #[test]
    fn a_perturbation_beyond_the_tolerance_is_caught_at_its_row() {
        // The tests of a claim must be able to fail: break Lemma 1 at row 17 by twice its
        // tolerance and Lemma 2 at row 30, and check both the verdict and the worst row.
        let (mut t, d) = sample();
        let tol = tol_of(lemma1_row(&t.rows[17], d, Half::V));
        *t.rows[17].v.rel.decrease.as_mut().unwrap() += 2.0 * tol;
        let tol2 = tol_of(lemma2_row(&t.rows[30], d, Half::U));
        *t.rows[30].u.mu.rel_inner_closed.as_mut().unwrap() += 2.0 * tol2;
        let v = lemma1(&t.rows, d, Half::V);
        assert!(
            !v.holds() && v.violations == 1 && v.worst.as_ref().unwrap().iter == 17,
            "{v:?}"
        );
        let v = lemma2(&t.rows, d, Half::U);
        assert!(
            v.status == Status::Fails && v.worst.as_ref().unwrap().iter == 30,
            "{v:?}"
        );
        // Half the tolerance is accepted.
        let (mut t, _) = sample();
        let tol = tol_of(lemma1_row(&t.rows[17], d, Half::V));
        *t.rows[17].v.rel.decrease.as_mut().unwrap() += 0.5 * tol;
        assert!(lemma1(&t.rows, d, Half::V).holds());
    }

    #[test]
    fn bound_claims_fail_outside_their_intervals() {
        let (mut t, d) = sample();
        t.rows[5].v.theta = Some(t.rows[5].v.eig_max * 1.01);
        // K-ratio: a step a little more than half the K-norm puts 1 − step/K below ½.
        let kn = t.rows[6].u.mu.rel_k_norm_sq.unwrap();
        t.rows[6].u.rel.step = Some(0.55 * kn);
        t.rows[8].objective = t.rows[7].objective * 1.001;
        let all = check_all(&t, d);
        let get = |name: &str| all.iter().find(|v| v.claim == name).unwrap().clone();
        assert_eq!(get("theta_bounds_v").worst.unwrap().iter, 5);
        assert!(!get("theta_bounds_v").holds());
        let kr = get("k_ratio_u");
        assert!(!kr.holds() && kr.worst.unwrap().iter == 6);
        let obj = get("objective_non_increasing");
        assert!(!obj.holds() && obj.worst.unwrap().iter == 8);
        assert_eq!(all_hold(&all), Some(false));
    }

    #[test]
    fn the_k_identity_catches_a_k_norm_five_percent_too_large() {
        // The issue that asked for this claim: a K-norm 5 % too large passed the [½, 1] check
        // on all but one row in 10 000. The identity catches it on every row with a real step.
        let (mut t, d) = sample();
        for r in &mut t.rows {
            if let Some(kn) = r.v.mu.rel_k_norm_sq.as_mut() {
                *kn *= 1.05;
            }
        }
        let v = k_identity(&t.rows, d, Half::V);
        assert_eq!(v.status, Status::Fails);
        assert!(v.violations >= 190, "{v:?}");
    }

    #[test]
    fn the_diagonal_decrease_bound_can_fail() {
        let (mut t, d) = sample();
        let r = &mut t.rows[12];
        r.v.rel.diag_bound = Some(r.v.rel.decrease.unwrap() * 1.5);
        let v = diag_decrease(&t.rows, d, Half::V);
        assert!(!v.holds() && v.worst.unwrap().iter == 12);
    }

    #[test]
    fn undefined_quantities_are_skipped_and_a_claim_with_no_row_is_not_exercised() {
        let (mut t, d) = sample();
        t.rows[4].v.theta = None;
        let v = theta_bounds(&t.rows, d, Half::V);
        assert_eq!((v.checked, v.skipped), (199, 1));
        for r in &mut t.rows {
            r.v.theta = None;
        }
        let v = theta_bounds(&t.rows, d, Half::V);
        assert_eq!(v.status, Status::NotExercised);
        assert!(!v.holds(), "'holds' must never mean 'not checked'");
        assert!(v.why_not_exercised().unwrap().contains("200 skipped"));
        let mut all = check_all(&t, d);
        all.retain(|x| x.claim != "theta_bounds_v" || x.status == Status::NotExercised);
        assert_eq!(all_hold(&all), None);
    }

    #[test]
    fn a_half_step_whose_underflow_term_dominates_is_unresolved() {
        let (mut t, d) = sample();
        // One product's worth of underflow error as large as σ itself: no check is possible.
        t.rows[9].v.rel.underflow = Some(1.0);
        assert_eq!(half_resolved(&t.rows[9], d, Half::V), Some(false));
        let v = lemma1(&t.rows, d, Half::V);
        assert_eq!((v.checked, v.unresolved), (199, 1));
        assert!(v.holds());
        assert_eq!(lemma1_row(&t.rows[9], d, Half::V), RowCheck::Unresolved);
    }

    #[test]
    fn the_online_checker_gives_the_verdicts_of_check_all() {
        for e in [
            Experiment::note(crate::experiment::DEFAULT_SEED, 300),
            // Several batches, the last one partial, and a batch boundary inside.
            Experiment::note(crate::experiment::DEFAULT_SEED, 2 * Checker::BATCH + 7),
            Experiment::note(2, 50).planted(),
            Experiment::note(1, 1),
        ] {
            let out = e.run().unwrap();
            let mut c = Checker::new(out.experiment.dims());
            for r in &out.fit.trace.rows {
                c.push(r);
            }
            assert_eq!(c.finish(), check_all(&out.fit.trace, out.experiment.dims()));
        }
        // And with a failing row, whose worst row must be found as well.
        let (mut t, d) = sample();
        t.rows[8].objective = t.rows[7].objective * 1.001;
        let mut c = Checker::new(d);
        t.rows.iter().for_each(|r| c.push(r));
        assert_eq!(c.finish(), check_all(&t, d));
    }
}
