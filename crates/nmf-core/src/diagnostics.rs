//! Per-half-step diagnostics in `f64`, computed from a [`HalfStep`] only (k×k and k×N
//! products: no pass over `M`). The formulas themselves are in [`crate::formulas`].

use std::borrow::Cow;

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
    Zip::from(factor)
        .and(grad)
        .for_each(|&v, &g| s += kkt_term(v, g));
    s.sqrt()
}

/// One entry of [`kkt_part`] before the square root: $\min(v, g)^2$.
#[inline]
fn kkt_term(v: f64, g: f64) -> f64 {
    let t = v.min(g);
    t * t
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

/// The k×N sums of one half-step, accumulated in one fused pass.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    /// $\langle X\Delta V, \Delta V\rangle$ (the terms of [`formulas::frob_inner`]).
    x_delta_delta: f64,
    inner: f64,
    decrease: f64,
    delta_sq: f64,
    k_norm_sq: f64,
    scale: f64,
    kkt_old_sq: f64,
    kkt_new_sq: f64,
}

/// Every k×N sum of [`half_step`] in **one pass** over the entries, in logical row-major order:
/// the order in which `Zip` visits the standard-layout arrays the solvers hand back. Each
/// accumulator receives the same terms ([`formulas::inner_direct_term`],
/// [`formulas::decrease_stable_term`], …) in the same order as the separate reference sums of
/// [`crate::formulas`] do on those arrays, so the result is bit-for-bit theirs (a test checks
/// it); fusing reads each array once instead of once per sum, and the
/// eight independent accumulation chains overlap instead of running one after another.
fn fused_sums(
    cross: ArrayView2<f64>,
    x_old: ArrayView2<f64>,
    x_delta: ArrayView2<f64>,
    x_new: ArrayView2<f64>,
    old: ArrayView2<f64>,
    new: ArrayView2<f64>,
    delta: ArrayView2<f64>,
) -> Sums {
    let dim = delta.dim();
    for (name, a) in [
        ("cross", &cross),
        ("x_old", &x_old),
        ("x_delta", &x_delta),
        ("x_new", &x_new),
        ("old", &old),
        ("new", &new),
    ] {
        assert_eq!(a.dim(), dim, "half_step: {name} has another shape than ΔV");
    }
    // Row-major slices: borrowed for standard-layout arrays, copied in logical order otherwise.
    let [a, xo, xd, xn, vo, vn, d] = [cross, x_old, x_delta, x_new, old, new, delta].map(|x| {
        x.to_slice()
            .map_or_else(|| Cow::Owned(x.iter().copied().collect()), Cow::Borrowed)
    });
    let half = 0.5;
    let mut s = Sums::default();
    for i in 0..d.len() {
        let (a, xo, xd, xn, vo, vn, d) = (a[i], xo[i], xd[i], xn[i], vo[i], vn[i], d[i]);
        s.x_delta_delta += xd * d;
        s.inner += formulas::inner_direct_term(&a, &xn, &d);
        s.decrease += formulas::decrease_stable_term(&a, &xo, &xd, &d, &half);
        s.delta_sq += d * d;
        if let Some(t) = formulas::k_norm_sq_term(&xo, &vo, &d) {
            s.k_norm_sq += t;
        }
        s.scale += scale_term(d, a, xo, xn);
        s.kkt_old_sq += kkt_term(vo, xo - a);
        s.kkt_new_sq += kkt_term(vn, xn - a);
    }
    s
}

/// One entry of the round-off scale σ of [`HalfDiag::scale`]: $|\Delta V|\,(|A| + |XV| + |XV'|)$.
#[inline]
fn scale_term(d: f64, a: f64, xo: f64, xn: f64) -> f64 {
    d.abs() * (a.abs() + xo.abs() + xn.abs())
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
    let sums = fused_sums(
        h.cross.view(),
        x_old.view(),
        x_delta.view(),
        x_new.view(),
        h.old.view(),
        h.new.view(),
        delta.view(),
    );
    // ½⟨XΔ, Δ⟩, as formulas::quadratic_term forms it.
    let step = 0.5 * sums.x_delta_delta;
    let (inner, decrease, delta_sq) = (sums.inner, sums.decrease, sums.delta_sq);
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
            Some(sums.k_norm_sq),
        ),
        None => (None, None),
    };
    let k_ratio = k_norm_sq.and_then(|kn| (kn > 0.0).then(|| decrease / kn));
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
        scale: sums.scale,
        kkt_old: sums.kkt_old_sq.sqrt(),
        kkt_new: sums.kkt_new_sq.sqrt(),
        note_inner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::note_instance;
    use crate::solver::{Mu, Solver};
    use crate::{DataKind, Problem};
    use ndarray::ShapeBuilder;

    /// The fused pass must give exactly the bits of the reference sums in `formulas` (same
    /// terms, same order), on both half-steps, with an entry of V at exactly 0 (a skipped
    /// K-norm term) and on a factor in column-major layout (the copied path).
    #[test]
    fn fused_sums_equal_the_reference_sums_bit_for_bit() {
        for (seed, m, n, k, kind) in [
            (1, 15, 8, 5, DataKind::Random),
            (2, 40, 23, 7, DataKind::Planted),
            (3, 9, 31, 3, DataKind::Random),
        ] {
            let (data, mut f) = note_instance(seed, m, n, k, kind);
            f.v[[1, 2]] = 0.0;
            let p = Problem::new(data, k).unwrap();
            let step = Mu.step(&p, &mut f).unwrap();
            for h in [&step.v, &step.u] {
                let mu = h.mu.as_ref().unwrap();
                let delta = &h.new - &h.old;
                let x_delta = h.gram.dot(&delta);
                let x_new = h.gram.dot(&h.new);
                let fortran_old = {
                    let mut o = Array2::zeros(h.old.raw_dim().f());
                    o.assign(&h.old);
                    o
                };
                for old in [h.old.view(), fortran_old.view()] {
                    let s = fused_sums(
                        h.cross.view(),
                        mu.denom.view(),
                        x_delta.view(),
                        x_new.view(),
                        old,
                        h.new.view(),
                        delta.view(),
                    );
                    let (a, xo, xd) = (h.cross.view(), mu.denom.view(), x_delta.view());
                    let b = |x: f64| x.to_bits();
                    assert_eq!(
                        b(0.5 * s.x_delta_delta),
                        b(formulas::quadratic_term(xd, delta.view()))
                    );
                    assert_eq!(
                        b(s.inner),
                        b(formulas::inner_direct(a, x_new.view(), delta.view()))
                    );
                    assert_eq!(
                        b(s.decrease),
                        b(formulas::decrease_stable(a, xo, xd, delta.view()))
                    );
                    assert_eq!(
                        b(s.delta_sq),
                        b(formulas::frob_inner(delta.view(), delta.view()))
                    );
                    assert_eq!(
                        b(s.k_norm_sq),
                        b(formulas::k_norm_sq(xo, h.old.view(), delta.view()))
                    );
                    let grad_old = xo.to_owned() - a;
                    let grad_new = &x_new - &a;
                    assert_eq!(
                        b(s.kkt_old_sq.sqrt()),
                        b(kkt_part(h.old.view(), grad_old.view()))
                    );
                    assert_eq!(
                        b(s.kkt_new_sq.sqrt()),
                        b(kkt_part(h.new.view(), grad_new.view()))
                    );
                    let mut scale = 0.0;
                    Zip::from(&delta)
                        .and(a)
                        .and(xo)
                        .and(&x_new)
                        .for_each(|&d, &a, &xo, &xn| scale += scale_term(d, a, xo, xn));
                    assert_eq!(b(s.scale), b(scale));
                }
            }
        }
    }

    /// Each unordered pair's column sum is formed once; the result must be the full
    /// ordered-pair double sum of the definition, bit for bit, also for a non-symmetric X.
    #[test]
    fn inner_closed_equals_the_ordered_pair_double_sum() {
        let (data, mut f) = note_instance(4, 12, 9, 4, DataKind::Random);
        let p = Problem::new(data, 4).unwrap();
        let mut step = Mu.step(&p, &mut f).unwrap();
        step.v.gram[[0, 1]] *= 1.0 + f64::EPSILON;
        let h = &step.v;
        let (old, r, x) = (&h.old, &h.mu.as_ref().unwrap().ratio, &h.gram);
        let mut s = 0.0;
        for z in 0..4 {
            for j in 0..4 {
                if j == z {
                    continue;
                }
                let mut c = 0.0;
                for i in 0..old.ncols() {
                    let dr = r[[z, i]] - r[[j, i]];
                    c += old[[z, i]] * old[[j, i]] * dr * dr;
                }
                s += x[[z, j]] * c;
            }
        }
        let got = formulas::inner_closed(x.view(), old.view(), r.view());
        assert_eq!(got.to_bits(), (0.5 * s).to_bits());
    }
}
