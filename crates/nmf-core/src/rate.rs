//! The local linear rate of MU with one factor fixed.
//!
//! With $U$ fixed, MU's V update $V \mapsto V\circ A\oslash(XV)$ ($X = U^\top U$,
//! $A = U^\top M$) acts column by column. At a fixed point $\bar V > 0$ ($X\bar V = A$) its
//! Jacobian on column $i$ is
//! $$J_i = I - \bar K_i^{-1}X,\qquad \bar K_i = \mathrm{Diag}\big((X\bar v_i)\oslash\bar v_i\big),$$
//! (differentiate $v\circ a\oslash(Xv)$ at $\bar v$, where $a = X\bar v$). $\bar K_i^{-1}X$ is
//! similar to the symmetric $S_i = \bar K_i^{-1/2}X\bar K_i^{-1/2}$, and $\bar K_i \succeq X$
//! (Lee and Seung's lemma, [`certify_k_dominates_x`]) puts its eigenvalues in $(0, 1]$, so the
//! error near $\bar V$ contracts like
//! $$\rho = \max_i \rho(J_i) = \max_i \big(1 - \lambda_{\min}(S_i)\big) < 1 .$$
//! [`predicted_rate`] evaluates it; [`observed_rate`] measures the contraction of a run.

use ndarray::{Array2, ArrayView2};

use crate::exact::Q;
use crate::formulas;

/// The predicted local rate $\max_i \rho(I - \bar K_i^{-1}X)$ at a positive fixed point
/// `v_bar` (k×N) of MU's V update with Gram matrix `x` (k×k). `None` if an entry of `v_bar` is
/// not positive (the fixed point is not interior: the rate of a locked or vanishing entry is
/// not linear).
pub fn predicted_rate(x: ArrayView2<f64>, v_bar: ArrayView2<f64>) -> Option<f64> {
    if v_bar.iter().any(|&v| v <= 0.0 || !v.is_finite()) {
        return None;
    }
    let k = x.nrows();
    let xv = x.dot(&v_bar);
    let mut rho: f64 = 0.0;
    for i in 0..v_bar.ncols() {
        // S = K̄^{-1/2} X K̄^{-1/2}, with K̄_zz = (X v̄)_z / v̄_z.
        let d: Vec<f64> = (0..k)
            .map(|z| (v_bar[[z, i]] / xv[[z, i]]).sqrt())
            .collect();
        let s = Array2::from_shape_fn((k, k), |(a, b)| d[a] * x[[a, b]] * d[b]);
        let (lo, hi) = crate::spectral::sym_eig_extremes(s.view());
        rho = rho.max((1.0 - lo).abs()).max((1.0 - hi).abs());
    }
    Some(rho)
}

/// The observed contraction of a sequence of error norms $e_0, e_1, \dots$: the geometric mean
/// $(e_{j+w}/e_j)^{1/w}$ over the last window of `w` steps in which every error is above
/// `floor` (below it, round-off dominates the error). `None` if no such window exists.
pub fn observed_rate(errors: &[f64], w: usize, floor: f64) -> Option<f64> {
    let last = errors.iter().rposition(|&e| e > floor)?;
    let first = last.checked_sub(w)?;
    (errors[first] > 0.0).then(|| (errors[last] / errors[first]).powf(1.0 / w as f64))
}

/// Whether $\bar K_i - X \succeq 0$ for every column $i$ of `v_bar`, **exactly**: every
/// principal minor of the symmetric rational matrix is $\ge 0$ (all $2^k - 1$ of them; k ≤ 8
/// in practice). This is Lee and Seung's majorisation lemma, certified on an instance.
pub fn certify_k_dominates_x(x: &Array2<Q>, v_bar: &Array2<Q>) -> bool {
    let k = x.nrows();
    let xv = formulas::matmul(x.view(), v_bar.view());
    (0..v_bar.ncols()).all(|i| {
        let b = Array2::from_shape_fn((k, k), |(a, c)| {
            let kbar = if a == c {
                xv[[a, i]].clone() / v_bar[[a, i]].clone()
            } else {
                Q::from_integer(0.into())
            };
            kbar - x[[a, c]].clone()
        });
        (1u32..(1 << k)).all(|mask| {
            let idx: Vec<usize> = (0..k).filter(|&z| mask & (1 << z) != 0).collect();
            let sub =
                Array2::from_shape_fn((idx.len(), idx.len()), |(a, c)| b[[idx[a], idx[c]]].clone());
            det(sub) >= Q::from_integer(0.into())
        })
    })
}

/// The determinant of a square rational matrix, by Gaussian elimination (exact).
fn det(mut a: Array2<Q>) -> Q {
    let n = a.nrows();
    let zero = Q::from_integer(0.into());
    let mut d = Q::from_integer(1.into());
    for c in 0..n {
        let Some(p) = (c..n).find(|&r| a[[r, c]] != zero) else {
            return zero;
        };
        if p != c {
            for j in 0..n {
                a.swap([p, j], [c, j]);
            }
            d = -d;
        }
        let piv = a[[c, c]].clone();
        d *= piv.clone();
        for r in c + 1..n {
            let f = a[[r, c]].clone() / piv.clone();
            for j in c..n {
                let t = a[[c, j]].clone() * f.clone();
                a[[r, j]] -= t;
            }
        }
    }
    d
}

/// What [`fixed_u_experiment`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct RateReport {
    /// [`predicted_rate`] at the fixed point.
    pub predicted: f64,
    /// [`observed_rate`] of the run (window 50, above 1e-9·‖V̄‖).
    pub observed: Option<f64>,
    /// [`certify_k_dominates_x`] at the fixed point, exactly.
    pub certified: bool,
    /// Steps run.
    pub steps: usize,
}

/// MU's V update with U fixed on $M = U\bar V$ (`m×k` and `k×n` random rationals of seed
/// `seed`, exact in `f64`), so that $\bar V$ is the fixed point; started from $\bar V$ with its
/// entries alternately 1 % up and down (a multiple $c\bar V$ would reach $\bar V$ in one step:
/// MU's update is invariant under scaling V), run for `steps` steps of the solver's own
/// [`crate::Mu::v_half_step`]. Errors that are not data errors are panics (the instance is
/// built valid).
pub fn fixed_u_experiment(seed: u64, m: usize, n: usize, k: usize, steps: usize) -> RateReport {
    use crate::exact::{random_rational, to_f64};
    let mut r = crate::init::rng(seed);
    let u_q = random_rational(&mut r, m, k, 1);
    let vbar_q = random_rational(&mut r, k, n, 1);
    let data_q = formulas::matmul(u_q.view(), vbar_q.view());
    let x_q = formulas::matmul(u_q.t(), u_q.view());
    let certified = certify_k_dominates_x(&x_q, &vbar_q);
    let (u, vbar, data, x) = (
        to_f64(u_q.view()),
        to_f64(vbar_q.view()),
        to_f64(data_q.view()),
        to_f64(x_q.view()),
    );
    let predicted = predicted_rate(x.view(), vbar.view()).expect("V̄ > 0 by construction");
    let p = crate::Problem::new(data, k).expect("a valid instance by construction");
    let mut v = Array2::from_shape_fn(vbar.dim(), |(z, i)| {
        vbar[[z, i]] * if (z + i) % 2 == 0 { 1.01 } else { 0.99 }
    });
    let norm = |a: &Array2<f64>| crate::scaling::frob_sq(a.view()).sqrt();
    let mut errors = vec![norm(&(&v - &vbar))];
    for _ in 0..steps {
        v = crate::Mu::v_half_step(&p, u.view(), v)
            .expect("positive iterates: MU is defined")
            .new;
        errors.push(norm(&(&v - &vbar)));
    }
    RateReport {
        predicted,
        observed: observed_rate(&errors, 50, 1e-9 * norm(&vbar)),
        certified,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn determinant_and_psd_certificate_are_exact() {
        let q = |p: i64| Q::from_integer(p.into());
        let a = Array2::from_shape_vec((2, 2), vec![q(2), q(1), q(1), q(2)]).unwrap();
        assert_eq!(det(a), q(3));
        let s = Array2::from_shape_vec((2, 2), vec![q(0), q(1), q(1), q(0)]).unwrap();
        assert_eq!(det(s), q(-1));
        // X = [[2, 1], [1, 1]], v̄ = (1, 1): K̄ = diag(3, 2), K̄ − X = [[1, −1], [−1, 1]] ⪰ 0
        // (singular); a v̄ that is not positive is not MU's fixed point and fails.
        let x = Array2::from_shape_vec((2, 2), vec![q(2), q(1), q(1), q(1)]).unwrap();
        let v = Array2::from_shape_vec((2, 1), vec![q(1), q(1)]).unwrap();
        assert!(certify_k_dominates_x(&x, &v));
        let v_neg = Array2::from_shape_vec((2, 1), vec![q(1), q(-1)]).unwrap();
        assert!(!certify_k_dominates_x(&x, &v_neg));
    }

    #[test]
    fn observed_rate_of_a_geometric_sequence_is_its_ratio() {
        let e: Vec<f64> = (0..200).map(|k| 0.9f64.powi(k)).collect();
        let r = observed_rate(&e, 20, 1e-12).unwrap();
        // Each term is one rounding of 0.9^k (powi): the ratio is 0.9 to a few ulps.
        assert!((r - 0.9).abs() < 1e-14, "{r}");
        assert_eq!(observed_rate(&e, 500, 0.0), None);
    }
}
