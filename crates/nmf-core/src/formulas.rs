//! The formulas of the proof, written **once**, generic over the scalar so that the same code
//! runs in `f64` (the solver's diagnostics) and in exact rational arithmetic ([`crate::exact`]).
//!
//! Everything is stated for the **V half-step** in *column layout*: `X` is the k×k Gram matrix
//! of the fixed factor, `A` the k×N cross product with the data, `V` the old and `V'` the new
//! k×N factor. The U half-step is the same statement for the transposed problem
//! `h(U) = ½‖Mᵀ − V'ᵀUᵀ‖²`: pass `Y = V'V'ᵀ`, `(MV'ᵀ)ᵀ`, `Uᵀ`, `U'ᵀ` (rows of `U` become
//! columns). References: Lee & Seung, *Algorithms for non-negative matrix factorization*
//! (NIPS 2001); the definitions are fixed in the project's `MATH.md`.

use ndarray::{Array2, ArrayView2, Zip};
use num_traits::Num;

/// The arithmetic the formulas need: a field with an order (f64, `BigRational`).
pub trait Scalar: Clone + Num + PartialOrd + std::fmt::Debug {}
impl<T: Clone + Num + PartialOrd + std::fmt::Debug> Scalar for T {}

/// A scalar a solver runs in: `f64` (products by `ndarray`'s optimised `dot`; entries can
/// overflow or fall below the normal range, and the solver checks for both) or exact
/// rationals (no rounding, no range). The solvers' updates are written once, generic over
/// this trait, so that [`crate::exact`] runs the very code the `f64` runs use.
pub trait Field: Scalar {
    /// The matrix product $AB$.
    fn matmul(a: ArrayView2<Self>, b: ArrayView2<Self>) -> Array2<Self>;
    /// The matrix product $AB$ written into `c`, whose storage is reused when it already has
    /// the product's shape (the solvers' per-iteration buffers). The same values as
    /// [`Field::matmul`], bit for bit.
    fn matmul_into(a: ArrayView2<Self>, b: ArrayView2<Self>, c: &mut Array2<Self>) {
        *c = Self::matmul(a, b);
    }
    /// Whether `self` is a finite number (always, for exact rationals).
    fn is_finite(&self) -> bool {
        true
    }
    /// Whether `self` is a non-negative number below the normal range, whose products are no
    /// longer represented to working precision (never, for exact rationals).
    fn is_below_normal(&self) -> bool {
        false
    }
    /// The nearest `f64` (for reports and parameters shown with a claim).
    fn to_f64(&self) -> f64;
}

impl Field for f64 {
    fn matmul(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
        let mut c = Array2::zeros((a.nrows(), b.ncols()));
        gemm(a, b, c.view_mut());
        c
    }
    fn matmul_into(a: ArrayView2<f64>, b: ArrayView2<f64>, c: &mut Array2<f64>) {
        let dim = (a.nrows(), b.ncols());
        if c.dim() != dim {
            *c = Array2::zeros(dim);
        }
        gemm(a, b, c.view_mut());
    }
    fn is_finite(&self) -> bool {
        f64::is_finite(*self)
    }
    fn is_below_normal(&self) -> bool {
        *self < f64::MIN_POSITIVE
    }
    fn to_f64(&self) -> f64 {
        *self
    }
}

impl Field for num_rational::BigRational {
    fn matmul(a: ArrayView2<Self>, b: ArrayView2<Self>) -> Array2<Self> {
        matmul(a, b)
    }
    fn to_f64(&self) -> f64 {
        num_traits::ToPrimitive::to_f64(self).unwrap_or(f64::NAN)
    }
}

/// $C = AB$ in `f64` by `matrixmultiply` (ndarray's `dot`, on both cores with its
/// `threading` feature), computed as $C^\top = B^\top A^\top$ when $A$ has few rows (the
/// solvers' $U^\top M$ and $V'M^\top$, k×N from N×P data): `matrixmultiply` splits the rows
/// of its left operand among its threads, and each thread then packs its own part of the data,
/// where otherwise one thread packs all of it. Each entry is the same sum either way, so
/// the bits do not depend on the orientation, nor on the number of threads: every entry
/// $\sum_l a_{il}b_{lj}$ is accumulated in the order of $l$, in blocks of $l$ of a fixed
/// length, by one accumulator (the product $a_{il}b_{lj}$ commutes, also in a fused
/// multiply-add); the threads split the output, never the sum.
pub fn gemm(a: ArrayView2<f64>, b: ArrayView2<f64>, mut c: ndarray::ArrayViewMut2<f64>) {
    use ndarray::linalg::general_mat_mul;
    assert_eq!(a.ncols(), b.nrows(), "gemm: inner dimensions differ");
    assert_eq!(c.dim(), (a.nrows(), b.ncols()), "gemm: output shape");
    if small::applies(a.nrows(), a.ncols(), b.ncols()) {
        return small::gemm(a, b, c);
    }
    // matrixmultiply gives a second thread a share of the rows from 96 on.
    if a.nrows() < 96 && b.ncols() > a.nrows() {
        general_mat_mul(1.0, &b.t(), &a.t(), 0.0, &mut c.view_mut().reversed_axes());
    } else {
        general_mat_mul(1.0, &a, &b, 0.0, &mut c);
    }
}

/// Small products (the note's 15×8, the k×k·k×N products of the diagnostics) without
/// matrixmultiply's fixed cost (a packing buffer allocated and filled per call, which is most
/// of a product this small), giving its bits: where matrixmultiply's kernel is one of its
/// fused multiply-add kernels (AVX-512, or FMA with AVX2), each entry of its product is, for
/// an inner dimension within one of its blocks (≤ 256), the fused multiply-add chain
/// $c = \mathrm{fma}(a_{iK}, b_{Kj}, \dots\mathrm{fma}(a_{i1}, b_{1j}, 0))$ in the order of
/// the inner index, which is what this kernel computes (a test compares both, bit for bit).
/// Elsewhere matrixmultiply is used.
mod small {
    use ndarray::{ArrayView2, ArrayViewMut2};

    /// Largest inner dimension: one block of matrixmultiply's `dgemm` (its `KC`).
    const MAX_INNER: usize = 256;
    /// Largest product size m·k·n taken here: above it matrixmultiply's packing pays.
    const MAX_WORK: usize = 1 << 15;

    /// Whether the product of an m×k and a k×n matrix is formed here.
    pub(super) fn applies(m: usize, k: usize, n: usize) -> bool {
        (1..=MAX_INNER).contains(&k) && m * k * n <= MAX_WORK && fma_kernels()
    }

    #[cfg(target_arch = "x86_64")]
    fn fma_kernels() -> bool {
        // The kernels matrixmultiply selects on these features sum with fused multiply-adds.
        let fma = std::arch::is_x86_feature_detected!("fma");
        let avx512 = std::arch::is_x86_feature_detected!("avx512f");
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        fma && (avx512 || avx2)
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn fma_kernels() -> bool {
        false
    }

    pub(super) fn gemm(a: ArrayView2<f64>, b: ArrayView2<f64>, c: ArrayViewMut2<f64>) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `applies` checked that the CPU has FMA.
        unsafe {
            gemm_fma(a, b, c)
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("small products need FMA: {a:?} {b:?} {c:?}")
    }

    std::thread_local! {
        /// B copied into row-major order when its rows are not contiguous (kept per thread,
        /// so that it is allocated once).
        static PACKED: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// Each entry's own chain of fused multiply-adds over the inner index; the chains of up
    /// to eight output columns advance together (one vector instruction for eight of them).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    unsafe fn gemm_fma(a: ArrayView2<f64>, b: ArrayView2<f64>, c: ArrayViewMut2<f64>) {
        if b.ncols() <= 1 || b.strides()[1] == 1 {
            // SAFETY: B's rows are contiguous (stride 1 along them), FMA as above.
            unsafe { kernel(a, b.as_ptr(), b.strides()[0], c) }
        } else {
            PACKED.with_borrow_mut(|p| {
                p.clear();
                p.extend(b.iter());
                // SAFETY: `p` holds B in row-major order; FMA as above.
                unsafe { kernel(a, p.as_ptr(), b.ncols() as isize, c) }
            })
        }
    }

    /// `c = a b` with `b` given by a pointer to its first entry, rows `rsb` apart and
    /// contiguous.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    unsafe fn kernel(a: ArrayView2<f64>, bp: *const f64, rsb: isize, mut c: ArrayViewMut2<f64>) {
        let (m, n) = c.dim();
        let (k, rsa, csa) = (a.ncols(), a.strides()[0], a.strides()[1]);
        let ap = a.as_ptr();
        for i in 0..m {
            // SAFETY: row i of A exists (i < m).
            let ai = unsafe { ap.offset(i as isize * rsa) };
            let mut ci = c.row_mut(i);
            let mut j = 0;
            while j < n {
                // SAFETY: columns j.. j + W − 1 of B exist (W ≤ n − j), as do the k
                // entries of row i of A, `csa` apart.
                unsafe {
                    let bj = bp.add(j);
                    let w = match n - j {
                        8.. => chains::<8>(k, ai, csa, bj, rsb, &mut ci, j),
                        4.. => chains::<4>(k, ai, csa, bj, rsb, &mut ci, j),
                        2.. => chains::<2>(k, ai, csa, bj, rsb, &mut ci, j),
                        _ => chains::<1>(k, ai, csa, bj, rsb, &mut ci, j),
                    };
                    j += w;
                }
            }
        }
    }

    /// `W` entries `c[j..j + W]` of one output row: `W` independent chains.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    #[inline]
    unsafe fn chains<const W: usize>(
        k: usize,
        ai: *const f64,
        csa: isize,
        bj: *const f64,
        rsb: isize,
        ci: &mut ndarray::ArrayViewMut1<f64>,
        j: usize,
    ) -> usize {
        let mut acc = [0.0f64; W];
        for l in 0..k {
            // SAFETY: the caller's bounds: l < k entries of A's row, W columns of B.
            let (ail, bl) = unsafe { (*ai.offset(l as isize * csa), bj.offset(l as isize * rsb)) };
            for (t, acc) in acc.iter_mut().enumerate() {
                // SAFETY: t < W.
                *acc = ail.mul_add(unsafe { *bl.add(t) }, *acc);
            }
        }
        for (t, x) in acc.into_iter().enumerate() {
            ci[j + t] = x;
        }
        W
    }
}

fn half<T: Scalar>() -> T {
    T::one() / (T::one() + T::one())
}

/// Plain matrix product `C = A B` for any [`Scalar`] (used for k×k·k×N products and by the
/// exact check; large `f64` products use BLAS-like `ndarray::dot`).
pub fn matmul<T: Scalar>(a: ArrayView2<T>, b: ArrayView2<T>) -> Array2<T> {
    let (p, q) = a.dim();
    let (q2, r) = b.dim();
    assert_eq!(q, q2, "matmul: inner dimensions differ");
    let mut c = Array2::from_elem((p, r), T::zero());
    for i in 0..p {
        for l in 0..q {
            let ail = &a[[i, l]];
            if *ail == T::zero() {
                continue;
            }
            for j in 0..r {
                c[[i, j]] = c[[i, j]].clone() + ail.clone() * b[[l, j]].clone();
            }
        }
    }
    c
}

/// Frobenius inner product $\langle A, B\rangle = \sum_{ij} A_{ij} B_{ij}$.
pub fn frob_inner<T: Scalar>(a: ArrayView2<T>, b: ArrayView2<T>) -> T {
    assert_eq!(a.dim(), b.dim(), "frob_inner: shapes differ");
    let mut s = T::zero();
    Zip::from(a)
        .and(b)
        .for_each(|x, y| s = s.clone() + x.clone() * y.clone());
    s
}

// Each sum over the k×N entries below is written as a `*_term` for one entry plus its
// accumulation in storage order. The `f64` diagnostics ([`crate::diagnostics::half_step`]) add
// the same terms in the same order in one fused pass, so both paths give the same bits and the
// formula is still written once.

/// The multiplicative update of one half-step, given its denominator `D = X V`:
/// $$R = A \oslash D,\qquad V' = V \circ R .$$
/// Returns `(R, V')`, or the 0-based `(row, col)` of the first zero entry of `D` where MU is
/// undefined ($0/0$ or $0\cdot\infty$; since all terms of $D_{zi}=\sum_j X_{zj}V_{ji}$ are
/// $\ge 0$, $D_{zi}=0$ forces $X_{zz}V_{zi}=0$).
///
/// `off_support` lists the columns $i$ where the data's column is zero ($A_{:i} = 0$ for every
/// `U`). There the half-problem decouples into $\tfrac12\|Uv_i\|^2$, minimised by $v_i = 0$, and
/// the update is *defined* as $R_{:i} = 0$, $V'_{:i} = 0$: what the formula gives whenever
/// $D_{:i} > 0$ (so on the first step), and its value from then on, when $D_{:i} = 0$ makes the
/// quotient $0/0$. Scikit-learn's MU reaches the same values by putting a tiny ε into zero
/// denominators only.
// ANCHOR: mu_update
pub fn mu_update<T: Scalar>(
    cross: ArrayView2<T>,
    denom: ArrayView2<T>,
    old: ArrayView2<T>,
    off_support: &[usize],
) -> Result<(Array2<T>, Array2<T>), (usize, usize)> {
    let mut ratio = Array2::from_elem(cross.raw_dim(), T::zero());
    let mut new = Array2::from_elem(cross.raw_dim(), T::zero());
    mu_update_into(cross, denom, old, off_support, &mut ratio, &mut new)?;
    Ok((ratio, new))
}

/// [`mu_update`] into `ratio` and `new` (their storage reused when they have the shape of
/// `denom`), in one pass in row-major order: the first zero denominator met is the first in
/// that order.
pub fn mu_update_into<T: Scalar>(
    cross: ArrayView2<T>,
    denom: ArrayView2<T>,
    old: ArrayView2<T>,
    off_support: &[usize],
    ratio: &mut Array2<T>,
    new: &mut Array2<T>,
) -> Result<(), (usize, usize)> {
    let n = denom.ncols();
    for buf in [&mut *ratio, &mut *new] {
        if buf.dim() != denom.dim() {
            *buf = Array2::from_elem(denom.raw_dim(), T::zero());
        }
    }
    // A mask, so that the test is O(1) per entry however many columns of M are zero (none
    // to allocate when M has no zero column).
    let mut off = Vec::new();
    if !off_support.is_empty() {
        off = vec![false; n];
        for &i in off_support {
            off[i] = true;
        }
    }
    let on_support = |i: usize| off.is_empty() || !off[i];
    for (z, (((a, d), v), (mut r, mut vn))) in cross
        .rows()
        .into_iter()
        .zip(denom.rows())
        .zip(old.rows())
        .zip(ratio.rows_mut().into_iter().zip(new.rows_mut()))
        .enumerate()
    {
        for i in 0..n {
            r[i] = if on_support(i) {
                if d[i] == T::zero() {
                    return Err((z, i));
                }
                a[i].clone() / d[i].clone()
            } else {
                T::zero()
            };
            vn[i] = v[i].clone() * r[i].clone();
        }
    }
    Ok(())
}
// ANCHOR_END: mu_update

/// The **step** term of Lemma 1 (the quadratic term of the half-problem's expansion),
/// $\tfrac12\|U\Delta V\|_F^2 = \tfrac12\langle X\Delta V, \Delta V\rangle$, from `XΔ` and `Δ`
/// (no pass over `M`): the trace's `step_v`/`step_u`, [`crate::trace::HalfRecord::step`].
// ANCHOR: step
pub fn step<T: Scalar>(x_delta: ArrayView2<T>, delta: ArrayView2<T>) -> T {
    half::<T>() * frob_inner(x_delta, delta)
}
// ANCHOR_END: step

/// The inner product of Lemma 1 computed **directly** from its definition,
/// $$\langle \nabla g(V'), V - V'\rangle = \langle A - X V', \Delta V\rangle,\qquad
/// \nabla g(V) = XV - A .$$
// ANCHOR: inner_direct
pub fn inner_direct<T: Scalar>(
    cross: ArrayView2<T>,
    x_new: ArrayView2<T>,
    delta: ArrayView2<T>,
) -> T {
    let mut s = T::zero();
    Zip::from(cross).and(x_new).and(delta).for_each(|a, xn, d| {
        s = s.clone() + inner_direct_term(a, xn, d);
    });
    s
}

/// One entry of [`inner_direct`]: $(A - XV')_{zi}\,\Delta V_{zi}$.
#[inline]
pub fn inner_direct_term<T: Scalar>(a: &T, xn: &T, d: &T) -> T {
    (a.clone() - xn.clone()) * d.clone()
}
// ANCHOR_END: inner_direct

/// **Lemma 2**, the closed form of the inner product for the MU step, in its *ratio form*
/// (divides by nothing, so it survives entries of `V` that underflow to zero):
/// $$\langle \nabla g(V'), V - V'\rangle
///   = \tfrac12 \sum_i \sum_{z\ne j} X_{zj}\, v_{zi} v_{ji}\, (r_{zi} - r_{ji})^2 \;\ge 0 .$$
/// Proof: $A = (XV)\circ R$; substitute into $\langle A - XV', V'-V\rangle$ column by column,
/// expand and symmetrise over $(z, j)$; the diagonal terms cancel (Lee & Seung's
/// $K - X \succeq 0$ argument). The full double sum over ordered pairs is taken, so a computed
/// `X` that is not bit-for-bit symmetric is used as it is. The column sum
/// $c_{zj} = \sum_i v_{zi} v_{ji} (r_{zi} - r_{ji})^2$ is symmetric in $(z, j)$ also in floating
/// point (the product commutes, and $r_{ji} - r_{zi} = -(r_{zi} - r_{ji})$ exactly), so it is
/// formed once per unordered pair: half the work, the same bits.
// ANCHOR: inner_closed
pub fn inner_closed<T: Scalar>(gram: ArrayView2<T>, old: ArrayView2<T>, ratio: ArrayView2<T>) -> T {
    inner_closed_with(gram, old, ratio, &mut ClosedWork::default())
}

/// The k×k column sums [`inner_closed_with`] forms, kept across calls.
#[derive(Debug, Clone)]
pub struct ClosedWork<T> {
    sums: Array2<T>,
}

impl<T> Default for ClosedWork<T> {
    fn default() -> Self {
        ClosedWork {
            sums: Array2::from_shape_vec((0, 0), Vec::new()).expect("0×0"),
        }
    }
}

/// [`inner_closed`] with its k×k sums kept in `work`. Each column sum $c_{zj}$ adds its
/// terms in the order of the columns $i$, as in the definition, with its own accumulator;
/// four pairs advance together over the same columns (independent chains of additions
/// instead of one: the same bits, about twice as fast).
pub fn inner_closed_with<T: Scalar>(
    gram: ArrayView2<T>,
    old: ArrayView2<T>,
    ratio: ArrayView2<T>,
    work: &mut ClosedWork<T>,
) -> T {
    let (k, n) = old.dim();
    assert_eq!(
        ratio.dim(),
        (k, n),
        "inner_closed: ratio has another shape than V"
    );
    if work.sums.dim() != (k, k) || !work.sums.is_standard_layout() {
        work.sums = Array2::from_elem((k, k), T::zero());
    } else {
        work.sums.fill(T::zero());
    }
    // c[[z, j]] for z < j.
    closed_by_rows(old, ratio, &mut work.sums);
    let c = &work.sums;
    let mut s = T::zero();
    for z in 0..k {
        for j in 0..k {
            if j != z {
                s = s + gram[[z, j]].clone() * c[[z.min(j), z.max(j)]].clone();
            }
        }
    }
    half::<T>() * s
}

/// The column sums $c_{zj}$, $z < j$, into `c`: for each $z$, four rows $j$ at a time, each
/// pair's sum with its own accumulator, over the columns in order.
fn closed_by_rows<T: Scalar>(old: ArrayView2<T>, ratio: ArrayView2<T>, c: &mut Array2<T>) {
    // Contiguous rows (as the solvers hand them back); a copy otherwise.
    let (old, ratio) = (old.as_standard_layout(), ratio.as_standard_layout());
    // Four chains: with six or eight the loop was slower (measured at k = 10, 20, 50).
    const W: usize = 4;
    let k = old.nrows();
    let n = old.ncols();
    let (old_s, ratio_s) = (
        old.as_slice().expect("standard layout"),
        ratio.as_slice().expect("standard layout"),
    );
    fn row<T>(a: &[T], n: usize, z: usize) -> &[T] {
        &a[z * n..(z + 1) * n]
    }
    let term = |vz: &T, vj: &T, rz: &T, rj: &T| {
        let dr = rz.clone() - rj.clone();
        vz.clone() * vj.clone() * dr.clone() * dr
    };
    for z in 0..k {
        let (vz, rz) = (row(old_s, n, z), row(ratio_s, n, z));
        let mut j = z + 1;
        while j + W <= k {
            let v: [&[T]; W] = std::array::from_fn(|t| row(old_s, n, j + t));
            let r: [&[T]; W] = std::array::from_fn(|t| row(ratio_s, n, j + t));
            let mut acc: [T; W] = std::array::from_fn(|_| T::zero());
            for i in 0..vz.len() {
                for t in 0..W {
                    acc[t] = acc[t].clone() + term(&vz[i], &v[t][i], &rz[i], &r[t][i]);
                }
            }
            for (t, a) in acc.into_iter().enumerate() {
                c[[z, j + t]] = a;
            }
            j += W;
        }
        for j in j..k {
            let (vj, rj) = (row(old_s, n, j), row(ratio_s, n, j));
            let mut acc = T::zero();
            for i in 0..vz.len() {
                acc = acc + term(&vz[i], &vj[i], &rz[i], &rj[i]);
            }
            c[[z, j]] = acc;
        }
    }
}

// ANCHOR_END: inner_closed

/// The decrease of a half-step in its **stable form** (no difference of two objective values):
/// $$g(V) - g(V') = \langle \Delta V,\; A - \tfrac12 X (V + V')\rangle
///   = \langle \Delta V,\; A - XV - \tfrac12 X\Delta V\rangle .$$
// ANCHOR: decrease_stable
pub fn decrease_stable<T: Scalar>(
    cross: ArrayView2<T>,
    x_old: ArrayView2<T>,
    x_delta: ArrayView2<T>,
    delta: ArrayView2<T>,
) -> T {
    let h = half::<T>();
    let mut s = T::zero();
    Zip::from(cross)
        .and(x_old)
        .and(x_delta)
        .and(delta)
        .for_each(|a, xo, xd, d| {
            s = s.clone() + decrease_stable_term(a, xo, xd, d, &h);
        });
    s
}

/// One entry of [`decrease_stable`], given `half` $=\tfrac12$:
/// $\Delta V_{zi}\,\big(A - XV - \tfrac12 X\Delta V\big)_{zi}$.
#[inline]
pub fn decrease_stable_term<T: Scalar>(a: &T, xo: &T, xd: &T, d: &T, half: &T) -> T {
    d.clone() * (a.clone() - xo.clone() - half.clone() * xd.clone())
}
// ANCHOR_END: decrease_stable

/// The squared K-norm of the step, $\|\Delta V\|_K^2 = \sum_{zi} \frac{(XV)_{zi}}{V_{zi}}
/// \Delta V_{zi}^2$ with $K = \mathrm{Diag}((XV)\oslash V)$ column by column (entries with
/// $V_{zi}=0$ have $\Delta V_{zi}=0$ and contribute 0). Since MU is $\Delta V = -K^{-1}\nabla g(V)$
/// and $K \succeq X \succeq 0$ (Lee & Seung), $g(V)-g(V') = \|\Delta V\|_K^2 - \tfrac12\|U\Delta V\|^2$,
/// so the **K-ratio** $\big(g(V)-g(V')\big)/\|\Delta V\|_K^2$ lies in $[\tfrac12, 1]$.
// ANCHOR: k_norm_sq
pub fn k_norm_sq<T: Scalar>(x_old: ArrayView2<T>, old: ArrayView2<T>, delta: ArrayView2<T>) -> T {
    let mut s = T::zero();
    Zip::from(x_old).and(old).and(delta).for_each(|d, v, dv| {
        if let Some(t) = k_norm_sq_term(d, v, dv) {
            s = s.clone() + t;
        }
    });
    s
}

/// One entry of [`k_norm_sq`]: $D_{zi}\,(\Delta V_{zi}/V_{zi})\,\Delta V_{zi}$, or `None` where
/// $V_{zi} = 0$ (then $\Delta V_{zi} = 0$ and the entry contributes nothing).
#[inline]
pub fn k_norm_sq_term<T: Scalar>(d: &T, v: &T, dv: &T) -> Option<T> {
    // D·(ΔV/V)·ΔV rather than (D/V)·ΔV²: |ΔV/V| ≤ max(1, r) stays moderate, while D/V
    // overflows once an entry of V is subnormal.
    (*v != T::zero()).then(|| d.clone() * (dv.clone() / v.clone()) * dv.clone())
}
// ANCHOR_END: k_norm_sq

/// The K-ratio on its own terms, $\rho = 1 - \tfrac12\|U\Delta V\|^2 / \|\Delta V\|_K^2$: by the
/// K-identity ([`k_norm_sq`]) it equals decrease$/\|\Delta V\|_K^2$, and it lies in
/// $[\tfrac12, 1]$ because $0 \preceq X \preceq K$. Unlike the quotient of the decrease, both of
/// its terms are formed without cancellation, so it stays resolved when the decrease is tiny
/// beside its round-off scale. `None` when the K-norm is not positive. Either argument may be
/// taken relative to a common scale (the trace's `rel_step_v`, `rel_knorm_v`).
// ANCHOR: k_ratio_own_terms
pub fn k_ratio_own_terms<T: Scalar>(step: T, k_norm_sq: T) -> Option<T> {
    (k_norm_sq > T::zero()).then(|| T::one() - step / k_norm_sq)
}
// ANCHOR_END: k_ratio_own_terms

/// The objective by its definition, $f(U,V) = \tfrac12\|M - UV\|_F^2$ (one pass over `M`).
// ANCHOR: objective_direct
pub fn objective_direct<T: Scalar>(m: ArrayView2<T>, uv: ArrayView2<T>) -> T {
    let mut s = T::zero();
    Zip::from(m).and(uv).for_each(|a, b| {
        let r = a.clone() - b.clone();
        s = s.clone() + r.clone() * r;
    });
    half::<T>() * s
}
// ANCHOR_END: objective_direct

/// The objective by the Gram trick, from products the update already formed:
/// $$f(U,V) = \tfrac12\big(\|M\|_F^2 - 2\langle U^\top M, V\rangle + \langle U^\top U, VV^\top\rangle\big).$$
/// Cancels catastrophically when the fit is nearly exact; see [`objective_scale`].
// ANCHOR: objective_gram
pub fn objective_gram<T: Scalar>(
    m_norm_sq: T,
    cross: ArrayView2<T>,
    v: ArrayView2<T>,
    gram: ArrayView2<T>,
    vvt: ArrayView2<T>,
) -> T {
    objective_from_terms(m_norm_sq, frob_inner(cross, v), frob_inner(gram, vvt))
}

/// The Gram form from its three terms $\|M\|^2$, $\langle U^\top M, V\rangle$ and
/// $\langle U^\top U, VV^\top\rangle$ (which the `f64` path forms on power-of-two–scaled
/// arrays, [`crate::diagnostics::objective_gram_scaled`]).
pub fn objective_from_terms<T: Scalar>(m_norm_sq: T, cross_v: T, gram_vvt: T) -> T {
    let two = T::one() + T::one();
    half::<T>() * (m_norm_sq - two * cross_v + gram_vvt)
}
// ANCHOR_END: objective_gram

/// The scale of the objective's evaluation, $\tfrac12\|M + UV\|_F^2 = \tfrac12\big(\|M\|^2 +
/// 2\langle U^\top M, V\rangle + \langle U^\top U, VV^\top\rangle\big)$ for non-negative data: the
/// sum of the absolute values of the terms that either form of the objective adds, so the
/// rounding error of either is at most $\gamma_N$ times this (Higham, *Accuracy and Stability of
/// Numerical Algorithms*, §3.1).
// ANCHOR: objective_scale
pub fn objective_scale<T: Scalar>(
    m_norm_sq: T,
    cross: ArrayView2<T>,
    v: ArrayView2<T>,
    gram: ArrayView2<T>,
    vvt: ArrayView2<T>,
) -> T {
    objective_scale_from_terms(m_norm_sq, frob_inner(cross, v), frob_inner(gram, vvt))
}

/// [`objective_scale`] from the same three terms as [`objective_from_terms`].
pub fn objective_scale_from_terms<T: Scalar>(m_norm_sq: T, cross_v: T, gram_vvt: T) -> T {
    let two = T::one() + T::one();
    half::<T>() * (m_norm_sq + two * cross_v + gram_vvt)
}
// ANCHOR_END: objective_scale

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::note_instance;
    use crate::DataKind;

    /// `gemm` gives the bits of `ndarray`'s `dot` (matrixmultiply, untransposed) for every
    /// shape and layout the solvers use: small products (its own kernel), products with few
    /// rows (computed transposed) and the rest, operands transposed or not.
    #[test]
    fn gemm_has_the_bits_of_dot() {
        for (seed, m, k, n) in [
            (1, 5, 15, 8),
            (2, 15, 5, 8),
            (3, 1, 1, 1),
            (4, 7, 256, 9),
            (5, 3, 257, 4),
            (6, 10, 300, 200),
            (7, 120, 10, 6),
            (8, 20, 31, 17),
        ] {
            // Mixed signs and magnitudes, so that the summation order shows in the bits.
            let a = note_instance(seed, m, k, 1, DataKind::Random)
                .0
                .mapv(|v| v * 1e3 - 0.37);
            let b = note_instance(seed + 100, k, n, 1, DataKind::Random)
                .0
                .mapv(|v| (v - 0.5) * 1e-3);
            let reference = a.dot(&b);
            let bits = |c: &Array2<f64>| c.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for (av, bv) in [
                (a.view(), b.view()),
                (a.t().to_owned().t(), b.view()),
                (a.view(), b.t().to_owned().t()),
            ] {
                let mut c = Array2::zeros((m, n));
                gemm(av, bv, c.view_mut());
                assert_eq!(bits(&c), bits(&reference), "{m}×{k}·{k}×{n}");
            }
        }
    }
}
