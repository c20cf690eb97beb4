//! Per-half-step diagnostics in `f64`, computed from a [`HalfStep`] only (k×k and k×N
//! products: no pass over `M`). The formulas themselves are in [`crate::formulas`].

use std::borrow::Cow;

use ndarray::{Array2, ArrayView2};

use crate::formulas;
use crate::roundoff::UNIT_ROUNDOFF;
use crate::scaling::{self, Pow2};
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
    pub sqrt_form_inner: Option<f64>,
    /// Whether some entry of the factor changed ($\Delta V \ne 0$ exactly; a squared norm of
    /// the step can underflow to 0 for a step that is not 0).
    pub moved: bool,
    /// The same sums relative to $\sigma$, computed before they are put back into the data's
    /// units: never under- or overflowing, and bit-for-bit the same when `M` is scaled by a
    /// power of two. `None` when $\Delta V = 0$ (nothing to compare).
    pub rel: Option<RelSums>,
}

/// A half-step's sums divided by its round-off scale $\sigma$ (dimensionless), and the unit of
/// underflow error in the same terms. The claims judge these (see [`crate::claims`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelSums {
    /// $\tfrac12\|U\Delta V\|^2/\sigma$.
    pub step: f64,
    /// $\langle\nabla g(V'), V - V'\rangle/\sigma$, direct.
    pub inner: f64,
    /// Lemma 2's ratio form $/\sigma$ (MU only).
    pub inner_closed: Option<f64>,
    /// $(g(V) - g(V'))/\sigma$, stable form.
    pub decrease: f64,
    /// $\|\Delta V\|_K^2/\sigma$ (MU only).
    pub k_norm_sq: Option<f64>,
    /// $\tfrac12 \min_z X_{zz}\,\|\Delta V\|^2/(S\sigma)$: the decrease bound that needs no
    /// full rank, for a half-step of $S$ passes ([`crate::solver::HalfStep::sweeps`]; 1 but for
    /// accelerated HALS).
    pub diag_bound: f64,
    /// $B\,2^{-1074}/\hat\sigma$: the largest absolute error one underflowing product can add to
    /// a sum (at most one subnormal unit, times the largest factor $B$ it is multiplied by
    /// afterwards), relative to $\sigma$. The claims multiply it by their count of products.
    pub underflow: f64,
    /// How far the computed iterate's own rounding can move the identities that hold for the
    /// exact MU image $V\circ R$ (Lemma 2, the K-identity), relative to σ, beyond the
    /// first-order $2u\sigma$ their tolerances already carry. The difference of the two sides
    /// is a quadratic in $V'$ with gradient $\pm K\Delta V$ and Hessian $\mp 2K$ at the exact
    /// image ($K = \mathrm{Diag}((XV)\oslash V)$), so a perturbation $\delta$ moves it by at
    /// most $\langle K|\Delta V|, |\delta|\rangle + \langle K\delta, \delta\rangle$. With
    /// $|\delta| \le 2u|V'|$ the second term is at most $4u^2\sum K_{zi}V'^2_{zi}$ (as
    /// $X \preceq K$), summed where $V'$ was rounded at all ($R_{zi} \ne 1$), which matters once
    /// the step is below $u$ times the iterate (saturated at the largest double).
    pub iterate: f64,
    /// Where $V'$ is subnormal its rounding is absolute, $|\delta| \le 2^{-1074}$ instead of
    /// $2u|V'|$, adding $\sum K_{zi}|\Delta V_{zi}|\,2^{-1074}$ over those entries; relative
    /// to σ (saturated at the largest double).
    pub iterate_underflow: f64,
    /// Entries that moved while MU's own inputs there ($A$ or $XV$) were subnormal, plus the
    /// subnormal entries of $X$: the half-step's data are then not resolved at all.
    pub subnormal_inputs: usize,
}

/// $\|\min(V, \nabla)\|_F$: zero exactly when $V \ge 0$, $\nabla \ge 0$ and $V\circ\nabla = 0$
/// (the KKT conditions of $\min_{V\ge 0}$), for `V ≥ 0`. Computed with a power-of-two scale
/// ([`scaling::norm2`]), so that gradients whose squares overflow (data of order $10^{160}$)
/// or underflow still give the norm.
// ANCHOR: kkt_part
pub fn kkt_part(factor: ArrayView2<f64>, grad: ArrayView2<f64>) -> f64 {
    assert_eq!(factor.dim(), grad.dim(), "kkt_part: shapes differ");
    scaling::norm2(
        factor
            .iter()
            .zip(grad.iter())
            .map(|(&v, &g)| kkt_term(v, g)),
    )
}

/// $\|\min(V - \varepsilon, \nabla)\|_F$: the KKT residual of $\min_{V \ge \varepsilon}$ (zero
/// exactly when $V \ge \varepsilon$, $\nabla \ge 0$ and $(V - \varepsilon)\circ\nabla = 0$), the
/// quantity that tends to 0 for ε-MU and floored HALS (Gillis & Glineur 2012; Zhao & Tan,
/// *IEEE TSP* 66(18), 2018). Entrywise $|\min(v - \varepsilon, g) - \min(v, g)| \le
/// \varepsilon$, so it differs from [`kkt_part`] by at most $\varepsilon\sqrt{kN}$: at
/// ε = 10⁻¹⁶ the two agree to the digits printed, at a large ε they do not.
pub fn kkt_part_floor(factor: ArrayView2<f64>, grad: ArrayView2<f64>, eps: f64) -> f64 {
    assert_eq!(factor.dim(), grad.dim(), "kkt_part_floor: shapes differ");
    scaling::norm2(
        factor
            .iter()
            .zip(grad.iter())
            .map(|(&v, &g)| kkt_term(v - eps, g)),
    )
}

/// One entry of [`kkt_part`] before squaring: $\min(v, g)$.
#[inline]
fn kkt_term(v: f64, g: f64) -> f64 {
    v.min(g)
}
// ANCHOR_END: kkt_part

/// The objective and its round-off scale in the Gram form,
/// $f = \tfrac12(\|M\|^2 - 2\langle A, V\rangle + \langle X, VV^\top\rangle)$ and
/// $s = \tfrac12(\|M\|^2 + 2\langle A, V\rangle + \langle X, VV^\top\rangle)$
/// ([`formulas::objective_gram`], [`formulas::objective_scale`]), with each term formed on
/// power-of-two–scaled arrays and the three combined at the exponent of the largest: the bits
/// of the plain evaluation wherever that stays in range, and exactly $c^2$ times the unscaled
/// values when `M` and `V` are scaled by $c = 2^j$.
pub fn objective_gram_scaled(
    m_norm_sq: f64,
    cross: ArrayView2<f64>,
    v: ArrayView2<f64>,
    gram: ArrayView2<f64>,
) -> (f64, f64) {
    objective_gram_scaled_with(m_norm_sq, cross, v, gram, &mut DiagWork::default())
}

/// [`objective_gram_scaled`] with its arrays kept in `work` (the same bits: the scaled
/// $\hat A$ and $\hat X$ are formed entry by entry inside the inner products, in the order
/// of [`formulas::frob_inner`] over arrays of the layout of `cross` and `gram`; `v` is
/// expected in standard layout, as the solvers hand it back).
pub fn objective_gram_scaled_with(
    m_norm_sq: f64,
    cross: ArrayView2<f64>,
    v: ArrayView2<f64>,
    gram: ArrayView2<f64>,
    work: &mut DiagWork,
) -> (f64, f64) {
    let (s_a, e_a) = scaling::normalizer(scaling::max_exponent(cross));
    let (s_v, e_v) = scaling::normalizer(scaling::max_exponent(v));
    let (s_x, e_x) = scaling::normalizer(scaling::max_exponent(gram));
    map_into(v, &mut work.v_hat, |x| x * s_v);
    let v_hat = &work.v_hat;
    product_into(v_hat.view(), v_hat.t(), &mut work.vvt_hat);
    let inner = |a: ArrayView2<f64>, s_a: f64, b: &Array2<f64>| {
        let mut s = 0.0;
        ndarray::Zip::from(a)
            .and(b)
            .for_each(|&x, &y| s += (x * s_a) * y);
        s
    };
    let av = if cross.is_standard_layout() && v.is_standard_layout() {
        inner(cross, s_a, v_hat)
    } else {
        let a_hat = cross.mapv(|x| x * s_a);
        formulas::frob_inner(a_hat.view(), v.mapv(|x| x * s_v).view())
    };
    let xg = if gram.is_standard_layout() {
        inner(gram, s_x, &work.vvt_hat)
    } else {
        formulas::frob_inner(gram.mapv(|x| x * s_x).view(), work.vvt_hat.view())
    };
    let (e_av, e_xg) = (e_a + e_v, e_x + 2 * e_v);
    let e_m = scaling::exponent(m_norm_sq).unwrap_or(e_av);
    let e = e_m.max(e_av).max(e_xg);
    let (m, av, xg) = (
        scaling::ldexp(m_norm_sq, -e),
        scaling::ldexp(av, e_av - e),
        scaling::ldexp(xg, e_xg - e),
    );
    (
        scaling::ldexp(formulas::objective_from_terms(m, av, xg), e),
        scaling::ldexp(formulas::objective_scale_from_terms(m, av, xg), e),
    )
}

/// The objective by its definition, $\tfrac12\|M - UV\|_F^2$ ([`formulas::objective_direct`]),
/// with the residual's squares summed at a power-of-two scale ([`scaling::frob_sq`]).
pub fn objective_direct_scaled(m: ArrayView2<f64>, uv: ArrayView2<f64>) -> f64 {
    let residual = &m - &uv;
    0.5 * scaling::frob_sq(residual.view())
}

/// [`objective_direct_scaled`] of `uv` $= UV$ without forming the m×n product: the rows of
/// $M - UV$ are formed a block at a time (in `buf`, at most [`RESIDUAL_BLOCK`] entries, its
/// storage reused) and summed in row-major order, the order of [`scaling::frob_sq`]. The same
/// bits: each entry of $UV$ is the product's own ([`formulas::gemm`] sums an entry the same
/// way in any block), and the squares are summed unscaled in one pass, which gives the bits
/// of the scaled sum whenever every square and partial sum is a normal double both unscaled
/// and scaled (scaling by a power of two is then exact); otherwise a second pass sums at the
/// scale of the largest entry, as [`scaling::frob_sq`] does.
pub fn objective_direct_streamed(
    m: ArrayView2<f64>,
    u: ArrayView2<f64>,
    v: ArrayView2<f64>,
    buf: &mut Array2<f64>,
) -> f64 {
    let (mut plain, mut amax, mut amin) = (0.0f64, 0.0f64, f64::INFINITY);
    for_each_residual(m, u, v, buf, &mut |r| {
        plain += r * r;
        amax = amax.max(r.abs());
        if r != 0.0 {
            amin = amin.min(r.abs());
        }
    });
    let (s, e) = scaling::normalizer(scaling::exponent(amax));
    let exact = amin == f64::INFINITY
        || (amin * amin >= 4.0 * scaling::MIN_NORMAL
            && (amin * s) * (amin * s) >= 4.0 * scaling::MIN_NORMAL
            && plain.is_finite());
    if exact {
        return 0.5 * plain;
    }
    let mut sum = 0.0;
    for_each_residual(m, u, v, buf, &mut |r| sum += (r * s) * (r * s));
    0.5 * scaling::ldexp(sum, 2 * e)
}

/// The note's direct objective $f(U, V')$ ([`formulas::objective_direct`], the plain sum)
/// without forming the m×n product: the same terms in the same (row-major) order, the rows
/// of $UV'$ formed a block at a time in `buf`.
pub fn objective_direct_plain_streamed(
    m: ArrayView2<f64>,
    u: ArrayView2<f64>,
    v: ArrayView2<f64>,
    buf: &mut Array2<f64>,
) -> f64 {
    let mut s = 0.0;
    for_each_residual(m, u, v, buf, &mut |r| s += r * r);
    0.5 * s
}

/// `f` of every entry of $M - UV$ in row-major order, forming $UV$ a block of at most
/// [`RESIDUAL_BLOCK`] entries at a time in `buf`.
fn for_each_residual(
    m: ArrayView2<f64>,
    u: ArrayView2<f64>,
    v: ArrayView2<f64>,
    buf: &mut Array2<f64>,
    f: &mut dyn FnMut(f64),
) {
    let (rows, n) = m.dim();
    assert_eq!(
        (u.nrows(), v.ncols()),
        (rows, n),
        "objective: shapes differ"
    );
    let block = (RESIDUAL_BLOCK / n.max(1)).clamp(1, rows.max(1));
    for start in (0..rows).step_by(block) {
        let end = (start + block).min(rows);
        let uv = shaped(buf, (end - start, n));
        formulas::gemm(u.slice(ndarray::s![start..end, ..]), v, uv.view_mut());
        for (mr, br) in m
            .slice(ndarray::s![start..end, ..])
            .rows()
            .into_iter()
            .zip(uv.rows())
        {
            for (&a, &b) in mr.iter().zip(br) {
                f(a - b);
            }
        }
    }
}

/// The most entries of $M - UV$ [`objective_direct_streamed`] forms at a time (256 KiB).
pub const RESIDUAL_BLOCK: usize = 1 << 15;

/// The note's form of Lemma 2,
/// $\tfrac12\sum_i\sum_{z\ne j} X_{zj}\big(\sqrt{v_z/v_j}\,(v'_j - v_j) - \sqrt{v_j/v_z}\,(v'_z - v_z)\big)^2$,
/// kept only for comparison: it divides by entries of `V` and is NaN once one is 0.
// ANCHOR: sqrt_form_inner
pub fn sqrt_form_inner(gram: ArrayView2<f64>, old: ArrayView2<f64>, new: ArrayView2<f64>) -> f64 {
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
// ANCHOR_END: sqrt_form_inner

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The power-of-two factors of one half-step (see [`crate::scaling`]): $2^{-e_A}$ for the
/// quantities in the units of the cross product $A$ ($A$, $XV$), $2^{-e_\Delta}$ for the step
/// $\Delta V$ (and for $V$ inside the ratio $\Delta V/V$), $2^{e_\Delta - e_A}$ to bring
/// $X\hat\Delta$ into A-units, and for the KKT terms $\min(V, \nabla g)$ the factors
/// $2^{-e_K}$ (for $V$) and $2^{e_A - e_K}$ (for the scaled gradient), $e_K = \max(e_V, e_A)$.
/// Each $e$ is the exponent of the largest entry it scales.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scales {
    a: f64,
    d: f64,
    v: f64,
    xd_to_a: Pow2,
    v_kkt: f64,
    a_kkt: Pow2,
}

/// The k×N sums of one half-step in scaled units, accumulated in one fused pass.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    /// $\langle X\hat\Delta, \hat\Delta\rangle$ with $\hat\Delta = 2^{-e_\Delta}\Delta V$ (the
    /// terms of [`formulas::frob_inner`]).
    x_delta_delta: f64,
    inner: f64,
    decrease: f64,
    /// $\|\hat\Delta\|^2$.
    delta_sq: f64,
    k_norm_sq: f64,
    scale: f64,
    kkt_old_sq: f64,
    kkt_new_sq: f64,
    /// The largest magnitude among the scaled factors of the A-unit sums.
    bound: f64,
    /// Whether some entry of $\Delta V$ is not zero.
    moved: bool,
    /// $\sum \hat D_{zi}\,|\Delta V_{zi}/V_{zi}|$ over the entries whose new value is
    /// subnormal or underflowed to 0: where the computed iterate carries an absolute rounding.
    iter_under: f64,
    /// $\sum \hat D_{zi} (V'_{zi}/V_{zi}) \hat V'_{zi}$ with $\hat V' = 2^{-e_V}V'$: the
    /// second-order effect of the iterate's relative rounding (see [`RelSums::iterate`]).
    iter_second: f64,
    /// Entries that moved and whose inputs $A$ or $XV$ (MU's own products) are subnormal.
    subnormal_inputs: usize,
}

/// Every k×N sum of [`half_step`] in **one pass** over the entries, in logical row-major order:
/// the order in which `Zip` visits the standard-layout arrays the solvers hand back. Each
/// accumulator receives the same terms ([`formulas::inner_direct_term`],
/// [`formulas::decrease_stable_term`], …) in the same order as the separate reference sums of
/// [`crate::formulas`] do on the scaled arrays, so the result is bit-for-bit theirs (a test
/// checks it); fusing reads each array once instead of once per sum, and the independent
/// accumulation chains overlap instead of running one after another.
///
/// `cross`, `x_old`, `old`, `new` and `delta` are in the data's units, `xd_hat` $= X\hat\Delta$
/// and `xn_hat` $= 2^{-e_A} XV'$ are already scaled; the factors of `sc` are applied entry by
/// entry (exact multiplications by powers of two).
#[allow(clippy::too_many_arguments)]
fn fused_sums(
    cross: ArrayView2<f64>,
    x_old: ArrayView2<f64>,
    xd_hat: ArrayView2<f64>,
    xn_hat: ArrayView2<f64>,
    old: ArrayView2<f64>,
    new: ArrayView2<f64>,
    delta: ArrayView2<f64>,
    ratio: Option<ArrayView2<f64>>,
    metric: Option<(ArrayView2<f64>, ArrayView2<f64>)>,
    sc: Scales,
) -> Sums {
    let dim = delta.dim();
    for (name, a) in [
        ("cross", &cross),
        ("x_old", &x_old),
        ("xd_hat", &xd_hat),
        ("xn_hat", &xn_hat),
        ("old", &old),
        ("new", &new),
    ] {
        assert_eq!(a.dim(), dim, "half_step: {name} has another shape than ΔV");
    }
    // Row-major slices: borrowed for standard-layout arrays, copied in logical order otherwise.
    let [a, xo, xd, xn, vo, vn, d] = [cross, x_old, xd_hat, xn_hat, old, new, delta].map(|x| {
        x.to_slice()
            .map_or_else(|| Cow::Owned(x.iter().copied().collect()), Cow::Borrowed)
    });
    // MU's ratio R (where R = 1 exactly the new entry V·1 is exact: no iterate rounding).
    let r = ratio.map(|x| {
        assert_eq!(x.dim(), dim, "half_step: ratio has another shape than ΔV");
        x.to_slice()
            .map_or_else(|| Cow::Owned(x.iter().copied().collect()), Cow::Borrowed)
    });
    // A solver's own metric K = D̄ ⊘ V̄ (Lin's MU) instead of MU's (XV) ⊘ V.
    fn row_major(x: ArrayView2<'_, f64>) -> Cow<'_, [f64]> {
        x.to_slice()
            .map_or_else(|| Cow::Owned(x.iter().copied().collect()), Cow::Borrowed)
    }
    let metric = metric.map(|(d, v)| {
        assert!(
            d.dim() == dim && v.dim() == dim,
            "half_step: metric has another shape than ΔV"
        );
        (row_major(d), row_major(v))
    });
    let half = 0.5;
    let mut s = Sums::default();
    for i in 0..d.len() {
        let (vo_, vn_, d_, xnh, xdt) = (vo[i], vn[i], d[i], xn[i], xd[i]);
        // Scaled: A-units by 2^-e_A, the step by 2^-e_Δ; X·Δ̂ into A-units by 2^(e_Δ − e_A).
        let (ah, xoh, dh) = (a[i] * sc.a, xo[i] * sc.a, d_ * sc.d);
        let xdh = sc.xd_to_a.scale(xdt);
        s.x_delta_delta += xdt * dh;
        s.inner += formulas::inner_direct_term(&ah, &xnh, &dh);
        s.decrease += formulas::decrease_stable_term(&ah, &xoh, &xdh, &dh, &half);
        s.delta_sq += dh * dh;
        // D·(ΔV/V)·ΔV with V scaled like ΔV: the ratio ΔV/V keeps its bits.
        let (kd, kv) = metric
            .as_ref()
            .map_or((xoh, vo_ * sc.d), |(md, mv)| (md[i] * sc.a, mv[i] * sc.d));
        if let Some(t) = formulas::k_norm_sq_term(&kd, &kv, &dh) {
            s.k_norm_sq += t;
        }
        s.scale += scale_term(dh, ah, xoh, xnh);
        let (ko, kn) = (
            kkt_term(vo_ * sc.v_kkt, sc.a_kkt.scale(xoh - ah)),
            kkt_term(vn_ * sc.v_kkt, sc.a_kkt.scale(xnh - ah)),
        );
        s.kkt_old_sq += ko * ko;
        s.kkt_new_sq += kn * kn;
        s.bound = s.bound.max(ah.abs()).max(xoh.abs()).max(xnh.abs());
        s.moved |= d_ != 0.0;
        // Only where the new entry V·R was rounded at all: R ≠ 1 (MU; other solvers have no R).
        if vo_ != 0.0 && r.as_ref().is_some_and(|r| r[i] != 1.0) {
            if vn_.abs() < scaling::MIN_NORMAL {
                s.iter_under += xoh * (dh / (vo_ * sc.d)).abs();
            }
            s.iter_second += xoh * (vn_ / vo_) * (vn_ * sc.v);
        }
        if d_ != 0.0 && (is_subnormal(a[i]) || is_subnormal(xo[i])) {
            s.subnormal_inputs += 1;
        }
    }
    s
}

/// A non-zero number below the normal range.
#[inline]
fn is_subnormal(x: f64) -> bool {
    x != 0.0 && x.abs() < scaling::MIN_NORMAL
}

/// One entry of the round-off scale σ of [`HalfDiag::scale`]: $|\Delta V|\,(|A| + |XV| + |XV'|)$.
#[inline]
fn scale_term(d: f64, a: f64, xo: f64, xn: f64) -> f64 {
    d.abs() * (a.abs() + xo.abs() + xn.abs())
}

/// A scale exponent $c$ for an array whose entries are multiplied **pairwise**: the middle of
/// the exponent range of its non-zero entries, $\lfloor(e_{\max} + e_{\min})/2\rfloor$, but
/// at least $e_{\max} - 500$ so that a product of two scaled entries stays below $2^{1002}$
/// (0 for an all-zero array). Entries more than about $2^{-1574}$ below the largest may then
/// flush to 0; their products are that far below the largest terms. Shifts by exactly $j$
/// when the array is scaled by $2^j$.
fn centre_exponent(a: ArrayView2<f64>) -> i32 {
    let (lo, hi) = a
        .iter()
        .filter_map(|&x| scaling::exponent(x))
        .fold((i32::MAX, i32::MIN), |(lo, hi), e| (lo.min(e), hi.max(e)));
    if lo > hi {
        0
    } else {
        (lo + hi).div_euclid(2).max(hi - 500)
    }
}

/// The exponent of the largest magnitude over several arrays.
fn max_exponent_of(arrays: &[ArrayView2<f64>]) -> Option<i32> {
    arrays
        .iter()
        .filter_map(|a| scaling::max_exponent(*a))
        .max()
}

/// Diagnostics of one half-step. `note` also evaluates the note's square-root form.
///
/// Every k×N sum is formed on power-of-two–scaled arrays ([`crate::scaling`]) and put back into
/// the data's units with one rounding at the end, so nothing over- or underflows on the way
/// unless the final value itself is out of the double range; the dimensionless quantities (θ,
/// the K-ratio, [`RelSums`]) never leave it.
pub fn half_step(h: &HalfStep, note: bool) -> HalfDiag {
    half_step_with(h, note, &mut DiagWork::default())
}

/// The arrays the diagnostics of one half-step form (k×N and k×k), kept across iterations by
/// the driver so that their storage is reused: [`half_step_with`],
/// [`objective_gram_scaled_with`].
#[derive(Debug, Clone, Default)]
pub struct DiagWork {
    delta: Array2<f64>,
    x_old: Array2<f64>,
    new_hat: Array2<f64>,
    xn_hat: Array2<f64>,
    delta_hat: Array2<f64>,
    xd_hat: Array2<f64>,
    gram_hat: Array2<f64>,
    old_hat: Array2<f64>,
    closed: formulas::ClosedWork<f64>,
    v_hat: Array2<f64>,
    vvt_hat: Array2<f64>,
    /// A block of rows of $UV$ for the direct objective.
    pub residual: Array2<f64>,
}

/// `buf` with the shape `dim` (standard layout), its storage reused when it has it already.
fn shaped(buf: &mut Array2<f64>, dim: (usize, usize)) -> &mut Array2<f64> {
    if buf.dim() != dim || !buf.is_standard_layout() {
        *buf = Array2::zeros(dim);
    }
    buf
}

/// `f` applied to every entry of `src`, into `buf` (what `src.mapv(f)` gives, without a new
/// array).
fn map_into(src: ArrayView2<f64>, buf: &mut Array2<f64>, f: impl Fn(f64) -> f64) {
    ndarray::Zip::from(shaped(buf, src.dim()))
        .and(src)
        .for_each(|b, &x| *b = f(x));
}

/// The product `a b` into `buf` ([`formulas::gemm`]: the bits of `a.dot(&b)`).
fn product_into(a: ArrayView2<f64>, b: ArrayView2<f64>, buf: &mut Array2<f64>) {
    formulas::gemm(a, b, shaped(buf, (a.nrows(), b.ncols())).view_mut());
}

/// [`half_step`] with the arrays it forms kept in `work` (the same values, bit for bit).
pub fn half_step_with(h: &HalfStep, note: bool, work: &mut DiagWork) -> HalfDiag {
    let w = work;
    ndarray::Zip::from(shaped(&mut w.delta, h.new.dim()))
        .and(&h.new)
        .and(&h.old)
        .for_each(|d, &n, &o| *d = n - o);
    let delta = &w.delta;
    // MU already formed X V as its denominator; other solvers pay one k×k·k×N product.
    let x_old: &Array2<f64> = match &h.mu {
        Some(mu) => &mu.denom,
        None => {
            product_into(h.gram.view(), h.old.view(), &mut w.x_old);
            &w.x_old
        }
    };
    let (s_v, e_v) = scaling::normalizer(max_exponent_of(&[h.old.view(), h.new.view()]));
    let (s_a, e_a) = scaling::normalizer(max_exponent_of(&[h.cross.view(), x_old.view()]));
    let (s_d, e_d) = scaling::normalizer(scaling::max_exponent(delta.view()));
    // X·V' and X·Δ are formed from the scaled factors, so that their products cannot
    // underflow either: 2^{-e_A} X V' = 2^{e_V − e_A} X V̂', X Δ = 2^{e_Δ} X Δ̂.
    map_into(h.new.view(), &mut w.new_hat, |x| x * s_v);
    let to_a = Pow2::new(e_v - e_a);
    product_into(h.gram.view(), w.new_hat.view(), &mut w.xn_hat);
    w.xn_hat.mapv_inplace(|x| to_a.scale(x));
    map_into(delta.view(), &mut w.delta_hat, |x| x * s_d);
    product_into(h.gram.view(), w.delta_hat.view(), &mut w.xd_hat);
    let (xn_hat, xd_hat) = (&w.xn_hat, &w.xd_hat);
    let e_k = e_v.max(e_a);
    let sc = Scales {
        a: s_a,
        d: s_d,
        v: s_v,
        xd_to_a: Pow2::new(e_d - e_a),
        v_kkt: scaling::pow2(-e_k),
        a_kkt: Pow2::new(e_a - e_k),
    };
    let sums = fused_sums(
        h.cross.view(),
        x_old.view(),
        xd_hat.view(),
        xn_hat.view(),
        h.old.view(),
        h.new.view(),
        delta.view(),
        h.mu.as_ref().map(|mu| mu.ratio.view()),
        h.mu.as_ref()
            .and_then(|mu| mu.metric.as_ref())
            .map(|(d, v)| (d.view(), v.view())),
        sc,
    );
    let ea_ed = e_a + e_d;
    // ½⟨XΔ, Δ⟩, as formulas::step forms it, in the data's units.
    let step = scaling::ldexp(0.5 * sums.x_delta_delta, 2 * e_d);
    let decrease = scaling::ldexp(sums.decrease, ea_ed);
    let inner = scaling::ldexp(sums.inner, ea_ed);
    let delta_sq = scaling::ldexp(sums.delta_sq, 2 * e_d);
    let scale = scaling::ldexp(sums.scale, ea_ed);
    // ANCHOR: theta
    // θ = ⟨XΔ̂, Δ̂⟩ / ‖Δ̂‖²: the scale of Δ cancels, so θ is resolved for any step ≠ 0.
    let theta = sums.moved.then(|| sums.x_delta_delta / sums.delta_sq);
    // ANCHOR_END: theta
    let (eig_min, eig_max) = spectral::sym_eig_extremes(h.gram.view());
    // Lemma 2 on scaled inputs: X̂ = 2^{-e_X} X and V̂ = 2^{-c_V} V with c_V the middle of V's
    // exponent range (entries of V can span more than the double range would allow after
    // scaling by the largest: data of order 2^266 with entries decayed to 2^-760), R as it
    // is (its differences are multiples of 2^-53 or 0, so their squares cannot underflow).
    // The sum comes out in units of 2^{e_X + 2c_V}.
    let (s_x, e_x) = scaling::normalizer(scaling::max_exponent(h.gram.view()));
    let c_v = centre_exponent(h.old.view());
    let closed_hat = h.mu.as_ref().filter(|mu| mu.exact_image).map(|mu| {
        map_into(h.gram.view(), &mut w.gram_hat, |x| x * s_x);
        let to_hat = Pow2::new(-c_v);
        map_into(h.old.view(), &mut w.old_hat, |x| to_hat.scale(x));
        formulas::inner_closed_with(
            w.gram_hat.view(),
            w.old_hat.view(),
            mu.ratio.view(),
            &mut w.closed,
        )
    });
    let closed_exp = e_x + 2 * c_v;
    let inner_closed = closed_hat.map(|c| scaling::ldexp(c, closed_exp));
    let has_k = h.mu.is_some();
    let k_norm_sq = has_k.then(|| scaling::ldexp(sums.k_norm_sq, ea_ed));
    let k_ratio = has_k
        .then_some(sums.k_norm_sq)
        .and_then(|kn| (kn > 0.0).then(|| sums.decrease / kn));
    let x_diag_min = h.gram.diag().iter().copied().fold(f64::INFINITY, f64::min);
    let rel = (sums.moved && sums.scale > 0.0).then(|| {
        let sigma = sums.scale;
        RelSums {
            step: scaling::ldexp(0.5 * sums.x_delta_delta / sigma, e_d - e_a),
            inner: sums.inner / sigma,
            inner_closed: closed_hat.map(|c| scaling::ldexp(c / sigma, closed_exp - ea_ed)),
            decrease: sums.decrease / sigma,
            k_norm_sq: has_k.then(|| sums.k_norm_sq / sigma),
            // Over S passes (accelerated HALS) the bound is divided by S (see `HalsAccel`);
            // S = 1, an exact division, for every other solver. For S > 1 the division adds one
            // rounding, relative u to a lower bound the claim compares within γ·σ, where
            // bound ≤ σ (σ majorises every term of the half-step's sums).
            diag_bound: scaling::ldexp(
                0.5 * x_diag_min * sums.delta_sq / sigma / h.sweeps as f64,
                e_d - e_a,
            ),
            // B: a product that underflows is afterwards multiplied by at most one scaled
            // A-unit entry (≤ `bound`) or one entry of the scaled step Δ̂ (< 2 by construction).
            underflow: sums.bound.max(2.0) * scaling::pow2(-1074) / sigma,
            // Σ D̂|ΔV/V| is in units of 2^{e_A}; one subnormal unit 2^-1074 of V' in units of
            // 2^{e_Δ}: relative to σ̂ (units 2^{e_A + e_Δ}) that is 2^{-1074 − e_Δ}. The
            // second-order term 4u²Σ D V'²/V is in units of 2^{e_A + e_V}.
            iterate_underflow: scaling::ldexp(sums.iter_under / sigma, -1074 - e_d).min(f64::MAX),
            iterate: scaling::ldexp(
                4.0 * UNIT_ROUNDOFF * UNIT_ROUNDOFF * sums.iter_second / sigma,
                e_v - e_d,
            )
            .min(f64::MAX),
            subnormal_inputs: sums.subnormal_inputs
                + h.gram.iter().filter(|&&x| is_subnormal(x)).count(),
        }
    });
    let sqrt_form_inner = if note {
        finite(sqrt_form_inner(h.gram.view(), h.old.view(), h.new.view()))
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
        kkt_old: scaling::ldexp(sums.kkt_old_sq.sqrt(), e_k),
        kkt_new: scaling::ldexp(sums.kkt_new_sq.sqrt(), e_k),
        sqrt_form_inner,
        moved: sums.moved,
        rel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::note_instance;
    use crate::solver::{Mu, Solver};
    use crate::{DataKind, Problem};
    use ndarray::{ShapeBuilder, Zip};

    /// The fused pass must give exactly the bits of the reference sums in `formulas` (same
    /// terms, same order) evaluated on the scaled arrays, on both half-steps, with an entry of
    /// V at exactly 0 (a skipped K-norm term) and on a factor in column-major layout (the
    /// copied path).
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
                // Arbitrary powers of two: the fused pass applies them entry by entry.
                let sc = Scales {
                    a: 0.25,
                    d: 64.0,
                    v: 2.0,
                    xd_to_a: Pow2::new(-3),
                    v_kkt: 0.5,
                    a_kkt: Pow2::new(-1),
                };
                let delta_hat = delta.mapv(|x| x * sc.d);
                let xd_hat = h.gram.dot(&delta_hat);
                let xn_hat = h.gram.dot(&h.new) * sc.a;
                let fortran_old = {
                    let mut o = Array2::zeros(h.old.raw_dim().f());
                    o.assign(&h.old);
                    o
                };
                for old in [h.old.view(), fortran_old.view()] {
                    let s = fused_sums(
                        h.cross.view(),
                        mu.denom.view(),
                        xd_hat.view(),
                        xn_hat.view(),
                        old,
                        h.new.view(),
                        delta.view(),
                        Some(mu.ratio.view()),
                        None,
                        sc,
                    );
                    let a = h.cross.mapv(|x| x * sc.a);
                    let xo = mu.denom.mapv(|x| x * sc.a);
                    let xd = xd_hat.mapv(|x| sc.xd_to_a.scale(x));
                    let old_d = h.old.mapv(|x| x * sc.d);
                    let b = |x: f64| x.to_bits();
                    assert_eq!(
                        b(0.5 * s.x_delta_delta),
                        b(formulas::step(xd_hat.view(), delta_hat.view()))
                    );
                    assert_eq!(
                        b(s.inner),
                        b(formulas::inner_direct(
                            a.view(),
                            xn_hat.view(),
                            delta_hat.view()
                        ))
                    );
                    assert_eq!(
                        b(s.decrease),
                        b(formulas::decrease_stable(
                            a.view(),
                            xo.view(),
                            xd.view(),
                            delta_hat.view()
                        ))
                    );
                    assert_eq!(
                        b(s.delta_sq),
                        b(formulas::frob_inner(delta_hat.view(), delta_hat.view()))
                    );
                    assert_eq!(
                        b(s.k_norm_sq),
                        b(formulas::k_norm_sq(
                            xo.view(),
                            old_d.view(),
                            delta_hat.view()
                        ))
                    );
                    // The KKT terms: min(V, ∇) with V and ∇ = XV − A scaled alike.
                    let grad_old = (&xo - &a).mapv(|x| sc.a_kkt.scale(x));
                    let grad_new = (&xn_hat - &a).mapv(|x| sc.a_kkt.scale(x));
                    let v_old = h.old.mapv(|x| x * sc.v_kkt);
                    let v_new = h.new.mapv(|x| x * sc.v_kkt);
                    let sq = |v: &Array2<f64>, g: &Array2<f64>| {
                        let mut acc = 0.0;
                        Zip::from(v).and(g).for_each(|&v, &g| {
                            let t = kkt_term(v, g);
                            acc += t * t
                        });
                        acc
                    };
                    assert_eq!(b(s.kkt_old_sq), b(sq(&v_old, &grad_old)));
                    assert_eq!(b(s.kkt_new_sq), b(sq(&v_new, &grad_new)));
                    let mut scale = 0.0;
                    Zip::from(&delta_hat)
                        .and(&a)
                        .and(&xo)
                        .and(&xn_hat)
                        .for_each(|&d, &a, &xo, &xn| scale += scale_term(d, a, xo, xn));
                    assert_eq!(b(s.scale), b(scale));
                    assert!(s.moved);
                }
            }
        }
    }

    /// The scaled evaluation gives the bits of the plain one wherever the plain one stays in
    /// the normal range (scaling by powers of two is exact), and the same bits at every scale
    /// 2^j of the data, in the data's units shifted by exactly the right power.
    #[test]
    fn half_step_diagnostics_scale_exactly_with_the_data() {
        let (data, f0) = note_instance(5, 12, 7, 3, DataKind::Random);
        // The second step: from (U₁, V₁), which scale exactly (V₀ is the data-free start).
        let p = Problem::new(data.clone(), 3).unwrap();
        let mut f = f0.clone();
        Mu.step(&p, &mut f).unwrap();
        let step = Mu.step(&p, &mut f).unwrap();
        let base_v = half_step(&step.v, false);
        let base_u = half_step(&step.u, false);
        // Plain (unscaled) reference values of two sums.
        let delta = &step.v.new - &step.v.old;
        let plain_decrease = formulas::decrease_stable(
            step.v.cross.view(),
            step.v.mu.as_ref().unwrap().denom.view(),
            step.v.gram.dot(&delta).view(),
            delta.view(),
        );
        assert_eq!(base_v.decrease.to_bits(), plain_decrease.to_bits());
        for j in [-500, -333, -1, 1, 250, 500] {
            let c = scaling::pow2(j);
            let pc = Problem::new(data.mapv(|x| x * c), 3).unwrap();
            let mut g = f0.clone();
            Mu.step(&pc, &mut g).unwrap();
            let s1 = Mu.step(&pc, &mut g).unwrap();
            let (dv, du) = (half_step(&s1.v, false), half_step(&s1.u, false));
            assert_eq!(dv.rel, base_v.rel, "j = {j}");
            assert_eq!(du.rel, base_u.rel, "j = {j}");
            assert_eq!(dv.theta, base_v.theta);
            assert_eq!(dv.k_ratio, base_v.k_ratio);
            // θ_U is in the units of Y = V'V'ᵀ, which scale like c².
            assert_eq!(du.theta, base_u.theta.map(|t| scaling::ldexp(t, 2 * j)));
            assert_eq!(dv.decrease, scaling::ldexp(base_v.decrease, 2 * j));
            assert_eq!(du.decrease, scaling::ldexp(base_u.decrease, 2 * j));
            assert_eq!(dv.kkt_old, scaling::ldexp(base_v.kkt_old, j));
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
