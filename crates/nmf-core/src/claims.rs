//! Claims: checks of a [`Trace`] against what the proof says, each with a tolerance derived
//! from a round-off argument, each returning a [`Verdict`] and its worst row.
//!
//! # The round-off argument
//!
//! With unit round-off $u = \varepsilon/2 = 2^{-53}$ and $\gamma_N = Nu/(1-Nu)$, a computed sum
//! of $N$ products satisfies $|\mathrm{fl}(\sum x_iy_i) - \sum x_iy_i| \le \gamma_N\sum|x_iy_i|$
//! (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1), and a matrix
//! product entry obeys the same bound with $N$ its inner dimension.
//!
//! * **Half-step inner products.** Every form of the decrease, of the quadratic term and of the
//!   inner product is a sum over the $kN$ entries of $\Delta V$ (N = n for V, m for U) of
//!   $\Delta V_{zi}$ times combinations of $A$, $XV$, $XV'$ and $X\Delta V$, whose entries are
//!   themselves $k$-term sums. Each computed form is therefore within $\gamma_{N_h}\,\sigma$ of its
//!   exact value, with $N_h = kN + k + 4$ and $\sigma = \langle|\Delta V|, A + XV + XV'\rangle$
//!   (the trace's `scale_v`, `scale_u`; note $X|\Delta V| \le XV + XV'$ entrywise). The count:
//!   a $k$-term sum for each entry of $XV$, $XV'$ or $X\Delta V$ ($k$), the $kN$-term outer sum
//!   ($kN$), and at most four more roundings per term: forming $\Delta V = V' - V$, combining
//!   up to three such factors (two additions) and one product.
//! * **Lemma 1** compares three such forms: residual $\le 3\gamma_{N_h}\sigma$.
//! * **Lemma 2.** The ratio form sums $k^2N$ non-negative terms, each
//!   $X_{zj} v_{zi} v_{ji} (r_{zi} - r_{ji})^2$ with five roundings (a subtraction, four
//!   products; the final ½ is exact), plus one for the product's position in the outer sum:
//!   relative error $\le\gamma_{k^2N+6}$. The identity holds for $V' = V\circ R$ and $A = (XV)\circ R$ exactly;
//!   the computed $R$ and $V'$ carry one rounding each, which perturbs the direct form by at most
//!   $2u\,\sigma$ (using $\nabla g(V') = (X-K)\Delta V$, so $V'|\nabla g(V')| \le A|\Delta V| +
//!   V'\,X|\Delta V|$). Residual $\le 4\gamma_{N_h}\sigma + \gamma_{k^2N+6}\,\text{closed}$.
//! * **Inner product ≥ 0.** The closed form is a sum of non-negative terms, so the direct form
//!   is $\ge -$(Lemma 2's bound with closed = 0) $= -4\gamma_{N_h}\sigma$.
//! * **Sufficient decrease.** decrease − step = inner (Lemma 1) $\ge 0$: bound $-(3+4)\gamma_{N_h}\sigma$.
//! * **θ bounds.** θ has relative error $\le 2\gamma_{N_h}$; symmetric QR eigenvalues are within
//!   $p(k)\,u\,\|X\|_2$ of exact ones (Golub & Van Loan §8.3), $p(k) = 4k^2$ taken generously:
//!   $\lambda_{\min} - t \le \theta \le \lambda_{\max} + t$, $t = (2\gamma_{N_h} + 4k^2u)\lambda_{\max}$.
//! * **K-ratio.** decrease/$\|\Delta V\|_K^2$. The numerator errs by $\le\gamma_{N_h}\sigma$
//!   in its evaluation, and the identity decrease $= \|\Delta V\|_K^2 - \tfrac12\|U\Delta V\|^2$
//!   that puts the ratio in $[\tfrac12, 1]$ holds for $V' = V\circ R$ exactly, which the computed
//!   $V'$ misses by one rounding in $R$ and one in $V'$: a further $\le 2u\sigma$, as for
//!   Lemma 2, taken as $2\gamma_{N_h}\sigma$. The denominator has relative error
//!   $\le\gamma_{N_h}$, the quotient one more rounding: inside $[\tfrac12 - t, 1 + t]$,
//!   $t = 3\gamma_{N_h}\sigma/\|\Delta V\|_K^2 + 2\gamma_{N_h}$.
//! * **Objective non-increasing.** Either form of $f$ is within $\gamma_{N_f}$ times
//!   `objective_scale` $= \tfrac12\|M + UV\|^2$, $N_f = mn + k(m+n) + 4$, which bounds every
//!   chain of roundings: the direct form $mn + k + 2$ (a $k$-term entry of $UV$, a subtraction, a
//!   square, the $mn$-term sum); the Gram form's $\|M\|^2$ ($mn$), $\langle U^\top M, V\rangle$
//!   ($m + 1 + kn$) and $\langle U^\top U, VV^\top\rangle$ ($m + n + 1 + k^2$: both factors
//!   of a term are computed sums), each $\le mn + k(m+n)$ since $k \le \min(m,n)$, then up to
//!   four more in combining them:
//!   $f_{k+1} - f_k \le \gamma_{N_f}(s_k + s_{k+1})$. In exact arithmetic the decrease is
//!   $\ge 0$ (Lee & Seung, Theorem 1); what remains is evaluation error.

use serde::{Deserialize, Serialize};

use crate::trace::{Record, Trace};

/// Unit round-off $u = 2^{-53}$.
pub const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// $\gamma_N = Nu/(1 - Nu)$.
// ANCHOR: gamma
pub fn gamma(n: usize) -> f64 {
    let nu = n as f64 * UNIT_ROUNDOFF;
    nu / (1.0 - nu)
}
// ANCHOR_END: gamma

/// Problem sizes the tolerances depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dims {
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

/// The row where a claim came closest to failing (or failed worst).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worst {
    pub iter: usize,
    /// The measured amount (a residual, or how far outside a bound; ≤ 0 means inside).
    pub value: f64,
    /// The tolerance at that row.
    pub tol: f64,
    /// `value / tol`: the fraction of the tolerance used (≤ 1 holds).
    pub usage: f64,
}

impl Worst {
    /// [`usage`](Self::usage) for a report: fixed point while it is readable (|u| < 10³),
    /// scientific beyond (a bound met with a wide margin gives usages like −1.7·10¹²).
    pub fn usage_display(&self) -> String {
        if self.usage.abs() < 1e3 {
            format!("{:.3}", self.usage)
        } else {
            format!("{:.2e}", self.usage)
        }
    }
}

/// The result of checking one claim over a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub claim: String,
    pub statement: String,
    pub holds: bool,
    /// Rows checked, rows skipped (quantity undefined there), rows that violate.
    pub checked: usize,
    pub skipped: usize,
    pub violations: usize,
    pub worst: Option<Worst>,
}

/// `(value, tol)` for a row, or `None` to skip it.
type RowCheck<'a> = Box<dyn Fn(&Record) -> Option<(f64, f64)> + 'a>;

fn verdict(claim: &str, statement: &str, rows: &[Record], f: RowCheck<'_>) -> Verdict {
    verdict_of(claim, statement, rows.iter().map(|r| (r.iter, f(r))))
}

/// The verdict over `(iteration, Some((value, tol)) | None)` items; `None` is a skipped row.
fn verdict_of(
    claim: &str,
    statement: &str,
    items: impl Iterator<Item = (usize, Option<(f64, f64)>)>,
) -> Verdict {
    let (mut checked, mut skipped, mut violations) = (0, 0, 0);
    let mut worst: Option<Worst> = None;
    for (iter, check) in items {
        let Some((value, tol)) = check else {
            skipped += 1;
            continue;
        };
        checked += 1;
        // A zero tolerance arises only when the row has nothing to compare (e.g. ΔV = 0, so
        // σ = 0); then any positive amount is a violation and a non-positive one is not.
        let usage = match (tol > 0.0, value > 0.0) {
            (true, _) => value / tol,
            (false, true) => f64::INFINITY,
            (false, false) => 0.0,
        };
        let usage = if usage.is_nan() { f64::INFINITY } else { usage };
        if usage > 1.0 {
            violations += 1;
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
    Verdict {
        claim: claim.into(),
        statement: statement.into(),
        holds: violations == 0,
        checked,
        skipped,
        violations,
        worst,
    }
}

/// The per-half-step $\gamma_{N_h}$ for the V (`cols = n`) or U (`cols = m`) half-step.
// ANCHOR: gamma_half
fn gamma_half(d: Dims, cols: usize) -> f64 {
    gamma(d.k * cols + d.k + 4)
}
// ANCHOR_END: gamma_half

/// Lemma 1 at one row: `(|decrease − (step + inner)|, 3γσ)`.
// ANCHOR: lemma1_row
pub fn lemma1_row(r: &Record, d: Dims, half: Half) -> (f64, f64) {
    let g = gamma_half(d, half.cols(d));
    let h = half.of(r);
    ((h.decrease - h.step - h.inner).abs(), 3.0 * g * h.scale)
}
// ANCHOR_END: lemma1_row

/// Lemma 2 at one row: `(|direct − closed|, 4γσ + γ_{k²N+6}·closed)`; `None` without a
/// closed form (non-MU solvers).
// ANCHOR: lemma2_row
pub fn lemma2_row(r: &Record, d: Dims, half: Half) -> Option<(f64, f64)> {
    let cols = half.cols(d);
    let h = half.of(r);
    let c = h.inner_closed?;
    Some((
        (h.inner - c).abs(),
        4.0 * gamma_half(d, cols) * h.scale + gamma(d.k * d.k * cols + 6) * c.abs(),
    ))
}
// ANCHOR_END: lemma2_row

/// A residual in units of machine epsilon relative to its round-off scale σ (`scale_v` or
/// `scale_u`): `value / (ε σ)`; `None` when σ = 0 (no step, nothing to compare).
pub fn in_eps_units(value: f64, r: &Record, half: Half) -> Option<f64> {
    let s = half.of(r).scale;
    (s > 0.0).then(|| value / (f64::EPSILON * s))
}

/// Lemma 1 for one half-step: |decrease − (step + inner)| ≤ 3γσ.
pub fn lemma1(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("lemma1_{}", half.tag()),
        &format!(
            "Lemma 1 ({}): g(old) − g(new) = ½‖quadratic‖² + ⟨∇g(new), old − new⟩",
            half.tag()
        ),
        rows,
        Box::new(move |r| Some(lemma1_row(r, d, half))),
    )
}

/// Lemma 2 for one half-step: |direct − closed| ≤ 4γσ + γ_{k²N+6}·closed.
pub fn lemma2(rows: &[Record], d: Dims, half: Half) -> Verdict {
    verdict(
        &format!("lemma2_{}", half.tag()),
        &format!(
            "Lemma 2 ({}): direct inner product = ratio closed form",
            half.tag()
        ),
        rows,
        Box::new(move |r| lemma2_row(r, d, half)),
    )
}

/// ⟨∇g(new), old − new⟩ ≥ −4γσ.
// ANCHOR: inner_nonneg
pub fn inner_nonneg(rows: &[Record], d: Dims, half: Half) -> Verdict {
    let g = gamma_half(d, half.cols(d));
    verdict(
        &format!("inner_nonneg_{}", half.tag()),
        &format!("⟨∇g(new), old − new⟩ ≥ 0 ({})", half.tag()),
        rows,
        Box::new(move |r| {
            let h = half.of(r);
            Some((-h.inner, 4.0 * g * h.scale))
        }),
    )
}
// ANCHOR_END: inner_nonneg

/// decrease ≥ step − 7γσ (the corollary: sufficient decrease).
// ANCHOR: sufficient_decrease
pub fn sufficient_decrease(rows: &[Record], d: Dims, half: Half) -> Verdict {
    let g = gamma_half(d, half.cols(d));
    verdict(
        &format!("sufficient_decrease_{}", half.tag()),
        &format!("g(old) − g(new) ≥ ½θ‖Δ‖² ({})", half.tag()),
        rows,
        Box::new(move |r| {
            let h = half.of(r);
            Some((h.step - h.decrease, 7.0 * g * h.scale))
        }),
    )
}
// ANCHOR_END: sufficient_decrease

/// λ_min − t ≤ θ ≤ λ_max + t.
// ANCHOR: theta_bounds
pub fn theta_bounds(rows: &[Record], d: Dims, half: Half) -> Verdict {
    let g = gamma_half(d, half.cols(d));
    let eig = 4.0 * (d.k * d.k) as f64 * UNIT_ROUNDOFF;
    verdict(
        &format!("theta_bounds_{}", half.tag()),
        &format!("λ_min ≤ θ_{} ≤ λ_max of the k×k Gram matrix", half.tag()),
        rows,
        Box::new(move |r| {
            let h = half.of(r);
            let th = h.theta?;
            let outside = (h.eig_min - th).max(th - h.eig_max);
            Some((outside, (2.0 * g + eig) * h.eig_max.abs()))
        }),
    )
}
// ANCHOR_END: theta_bounds

/// The interval theory puts the K-ratio in: $[\tfrac12, 1]$ (see [`crate::formulas::k_norm_sq`]).
pub const K_RATIO_BOUNDS: (f64, f64) = (0.5, 1.0);

/// ½ − t ≤ K-ratio ≤ 1 + t.
// ANCHOR: k_ratio_bounds
pub fn k_ratio_bounds(rows: &[Record], d: Dims, half: Half) -> Verdict {
    let g = gamma_half(d, half.cols(d));
    verdict(
        &format!("k_ratio_{}", half.tag()),
        &format!("½ ≤ (g(old) − g(new)) / ‖Δ‖²_K ≤ 1 ({})", half.tag()),
        rows,
        Box::new(move |r| {
            let h = half.of(r);
            let (ratio, kn) = (h.k_ratio?, h.k_norm?);
            let (lo, hi) = K_RATIO_BOUNDS;
            let outside = (lo - ratio).max(ratio - hi);
            Some((outside, 3.0 * g * h.scale / kn + 2.0 * g))
        }),
    )
}
// ANCHOR_END: k_ratio_bounds

/// $\gamma_{N_f}$, $N_f = mn + k(m+n) + 4$: a computed objective (either form) is within
/// $\gamma_{N_f}$ times its `objective_scale` of the exact value (see the module doc).
pub fn gamma_objective(d: Dims) -> f64 {
    gamma(d.m * d.n + d.k * (d.m + d.n) + 4)
}

/// f(U_{k+1}, V_{k+1}) ≤ f(U_k, V_k) + γ_{N_f}(s_k + s_{k+1}).
// ANCHOR: objective_non_increasing
pub fn objective_non_increasing(rows: &[Record], d: Dims) -> Verdict {
    let g = gamma_objective(d);
    verdict_of(
        "objective_non_increasing",
        "f(U_{k+1}, V_{k+1}) ≤ f(U_k, V_k)",
        rows.windows(2).map(|w| {
            let increase = w[1].objective - w[0].objective;
            (
                w[1].iter,
                Some((increase, g * (w[0].objective_scale + w[1].objective_scale))),
            )
        }),
    )
}
// ANCHOR_END: objective_non_increasing

/// Which half-step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    V,
    U,
}

/// One half-step's columns of a record.
struct HalfView {
    step: f64,
    inner: f64,
    inner_closed: Option<f64>,
    decrease: f64,
    theta: Option<f64>,
    eig_min: f64,
    eig_max: f64,
    k_ratio: Option<f64>,
    k_norm: Option<f64>,
    scale: f64,
}

impl Half {
    /// `"v"` or `"u"`, as in the column names.
    pub fn tag(self) -> &'static str {
        match self {
            Half::V => "v",
            Half::U => "u",
        }
    }
    fn cols(self, d: Dims) -> usize {
        match self {
            Half::V => d.n,
            Half::U => d.m,
        }
    }
    fn of(self, r: &Record) -> HalfView {
        match self {
            Half::V => HalfView {
                step: r.step_v,
                inner: r.inner_v,
                inner_closed: r.inner_v_closed,
                decrease: r.decrease_v,
                theta: r.theta_v,
                eig_min: r.eig_utu_min,
                eig_max: r.eig_utu_max,
                k_ratio: r.k_ratio_v,
                k_norm: r.knorm_v,
                scale: r.scale_v,
            },
            Half::U => HalfView {
                step: r.step_u,
                inner: r.inner_u,
                inner_closed: r.inner_u_closed,
                decrease: r.decrease_u,
                theta: r.theta_u,
                eig_min: r.eig_vvt_min,
                eig_max: r.eig_vvt_max,
                k_ratio: r.k_ratio_u,
                k_norm: r.knorm_u,
                scale: r.scale_u,
            },
        }
    }
}

/// Every claim, in a fixed order.
pub fn check_all(trace: &Trace, d: Dims) -> Vec<Verdict> {
    let rows = &trace.rows;
    let mut out = vec![objective_non_increasing(rows, d)];
    for half in [Half::V, Half::U] {
        out.push(lemma1(rows, d, half));
        out.push(lemma2(rows, d, half));
        out.push(inner_nonneg(rows, d, half));
        out.push(sufficient_decrease(rows, d, half));
        out.push(theta_bounds(rows, d, half));
        out.push(k_ratio_bounds(rows, d, half));
    }
    out
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
            assert!(v.holds, "{v:?}");
            assert_eq!(
                v.checked + v.skipped,
                if v.claim == "objective_non_increasing" {
                    199
                } else {
                    200
                }
            );
        }
    }

    #[test]
    fn a_perturbation_beyond_the_tolerance_is_caught_at_its_row() {
        // The tests of a claim must be able to fail: break Lemma 1 at row 17 by twice its
        // tolerance and Lemma 2 at row 30, and check both the verdict and the worst row.
        let (mut t, d) = sample();
        let (_, tol) = lemma1_row(&t.rows[17], d, Half::V);
        t.rows[17].decrease_v += 2.0 * tol;
        let (_, tol2) = lemma2_row(&t.rows[30], d, Half::U).unwrap();
        t.rows[30].inner_u_closed = Some(t.rows[30].inner_u_closed.unwrap() + 2.0 * tol2);
        let v = lemma1(&t.rows, d, Half::V);
        assert!(
            !v.holds && v.violations == 1 && v.worst.as_ref().unwrap().iter == 17,
            "{v:?}"
        );
        let v = lemma2(&t.rows, d, Half::U);
        assert!(!v.holds && v.worst.as_ref().unwrap().iter == 30, "{v:?}");
        // Half the tolerance is accepted.
        let (mut t, _) = sample();
        let (_, tol) = lemma1_row(&t.rows[17], d, Half::V);
        t.rows[17].decrease_v += 0.5 * tol;
        assert!(lemma1(&t.rows, d, Half::V).holds);
    }

    #[test]
    fn bound_claims_fail_outside_their_intervals() {
        let (mut t, d) = sample();
        t.rows[5].theta_v = Some(t.rows[5].eig_utu_max * 1.01);
        t.rows[6].k_ratio_u = Some(0.45);
        t.rows[8].objective = t.rows[7].objective * 1.001;
        let all = check_all(&t, d);
        let get = |name: &str| all.iter().find(|v| v.claim == name).unwrap().clone();
        assert_eq!(get("theta_bounds_v").worst.unwrap().iter, 5);
        assert!(!get("theta_bounds_v").holds);
        assert!(!get("k_ratio_u").holds);
        let obj = get("objective_non_increasing");
        assert!(!obj.holds && obj.worst.unwrap().iter == 8);
    }

    #[test]
    fn undefined_quantities_are_skipped_not_checked() {
        let (mut t, d) = sample();
        t.rows[4].theta_v = None;
        let v = theta_bounds(&t.rows, d, Half::V);
        assert_eq!((v.checked, v.skipped), (199, 1));
    }

    #[test]
    fn usage_is_fixed_point_when_readable_and_scientific_beyond() {
        let w = |usage| Worst {
            iter: 0,
            value: 0.0,
            tol: 1.0,
            usage,
        };
        assert_eq!(w(0.0025).usage_display(), "0.003");
        assert_eq!(w(-999.0).usage_display(), "-999.000");
        assert_eq!(w(-1.702e12).usage_display(), "-1.70e12");
        assert_eq!(w(f64::INFINITY).usage_display(), "inf");
    }
}
