//! Per-half-step diagnostics in `f64`, computed from a [`HalfStep`] only (k×k and k×N
//! products: no pass over `M`). The formulas themselves are in [`crate::formulas`].

use ndarray::{Array2, ArrayView2, Zip};

use crate::formulas;
use crate::solver::HalfStep;
use crate::spectral;

/// Everything the trace records about one half-step (column layout; for U read rows).
#[derive(Debug, Clone, PartialEq)]
pub struct HalfDiag {
    /// $\tfrac12\|U\Delta V\|^2$.
    pub step: f64,
    /// $\langle\nabla g(V'), V - V'\rangle$, direct.
    pub inner: f64,
    /// Lemma 2, ratio form (MU only).
    pub inner_closed: Option<f64>,
    /// $g(V) - g(V')$, stable form.
    pub decrease: f64,
    /// $\|\Delta V\|_F^2$.
    pub delta_sq: f64,
    /// $\theta = \|U\Delta V\|^2/\|\Delta V\|^2$; `None` when $\Delta V = 0$.
    pub theta: Option<f64>,
    /// Extreme eigenvalues of the Gram matrix of the fixed factor.
    pub eig_min: f64,
    pub eig_max: f64,
    /// $\|\Delta V\|_K^2$ (MU only).
    pub k_norm_sq: Option<f64>,
    /// decrease / $\|\Delta V\|_K^2$ (MU only; `None` when the K-norm is 0).
    pub k_ratio: Option<f64>,
    /// Round-off scale $\sigma = \langle|\Delta V|, A + XV + XV'\rangle$: every inner product above
    /// adds terms bounded in absolute value by the entries of this sum (see [`crate::claims`]).
    pub scale: f64,
    /// $\|\min(V, \nabla g(V))\|_F$ at the old point: the half-problem's KKT residual.
    pub kkt_old: f64,
    /// The same at the new point.
    pub kkt_new: f64,
    /// The note's square-root form of Lemma 2 (NaN once an entry of `V` reaches 0).
    pub note_inner: Option<f64>,
}

/// $\|\min(V, \nabla)\|_F$: zero exactly when $V \ge 0$, $\nabla \ge 0$ and $V\circ\nabla = 0$
/// (the KKT conditions of $\min_{V\ge 0}$), for `V ≥ 0`.
// ANCHOR: kkt_part
pub fn kkt_part(factor: ArrayView2<f64>, grad: ArrayView2<f64>) -> f64 {
    let mut s = 0.0;
    Zip::from(factor).and(grad).for_each(|&v, &g| {
        let t = v.min(g);
        s += t * t;
    });
    s.sqrt()
}
// ANCHOR_END: kkt_part

/// The note's form of Lemma 2,
/// $\tfrac12\sum_i\sum_{z\ne j} X_{zj}\big(\sqrt{v_z/v_j}\,(v'_j - v_j) - \sqrt{v_j/v_z}\,(v'_z - v_z)\big)^2$,
/// kept only for comparison: it divides by entries of `V` and is NaN once one is 0.
// ANCHOR: note_inner
pub fn note_inner(gram: ArrayView2<f64>, old: ArrayView2<f64>, new: ArrayView2<f64>) -> f64 {
    let (k, n) = old.dim();
    let mut s = 0.0;
    for i in 0..n {
        for z in 0..k {
            for j in 0..k {
                if j == z {
                    continue;
                }
                let (vz, vj) = (old[[z, i]], old[[j, i]]);
                let t =
                    (vz / vj).sqrt() * (new[[j, i]] - vj) - (vj / vz).sqrt() * (new[[z, i]] - vz);
                s += gram[[z, j]] * t * t;
            }
        }
    }
    0.5 * s
}
// ANCHOR_END: note_inner

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Diagnostics of one half-step. `note` also evaluates the note's square-root form.
pub fn half_step(h: &HalfStep, note: bool) -> HalfDiag {
    let delta = &h.new - &h.old;
    // MU already formed X V as its denominator; other solvers pay one k×k·k×N product.
    let x_old_formed;
    let x_old: &Array2<f64> = match &h.mu {
        Some(mu) => &mu.denom,
        None => {
            x_old_formed = h.gram.dot(&h.old);
            &x_old_formed
        }
    };
    let x_delta = h.gram.dot(&delta);
    let x_new = h.gram.dot(&h.new);
    let step = formulas::quadratic_term(x_delta.view(), delta.view());
    let inner = formulas::inner_direct(h.cross.view(), x_new.view(), delta.view());
    let decrease =
        formulas::decrease_stable(h.cross.view(), x_old.view(), x_delta.view(), delta.view());
    let delta_sq = formulas::frob_inner(delta.view(), delta.view());
    // ANCHOR: theta
    let theta = (delta_sq > 0.0).then(|| 2.0 * step / delta_sq);
    // ANCHOR_END: theta
    let (eig_min, eig_max) = spectral::sym_eig_extremes(h.gram.view());
    let (inner_closed, k_norm_sq) = match &h.mu {
        Some(mu) => (
            Some(formulas::inner_closed(
                h.gram.view(),
                h.old.view(),
                mu.ratio.view(),
            )),
            Some(formulas::k_norm_sq(
                x_old.view(),
                h.old.view(),
                delta.view(),
            )),
        ),
        None => (None, None),
    };
    let k_ratio = k_norm_sq.and_then(|kn| (kn > 0.0).then(|| decrease / kn));
    let mut scale = 0.0;
    Zip::from(&delta)
        .and(&h.cross)
        .and(x_old)
        .and(&x_new)
        .for_each(|d, a, xo, xn| {
            scale += d.abs() * (a.abs() + xo.abs() + xn.abs());
        });
    let grad_old = x_old - &h.cross;
    let grad_new = &x_new - &h.cross;
    let note_inner = if note {
        finite(note_inner(h.gram.view(), h.old.view(), h.new.view()))
    } else {
        None
    };
    HalfDiag {
        step,
        inner,
        inner_closed,
        decrease,
        delta_sq,
        theta,
        eig_min,
        eig_max,
        k_norm_sq,
        k_ratio,
        scale,
        kkt_old: kkt_part(h.old.view(), grad_old.view()),
        kkt_new: kkt_part(h.new.view(), grad_new.view()),
        note_inner,
    }
}
