//! Spectra of the small Gram matrices that bound the Rayleigh quotients θ.
//!
//! $$\lambda_{\min}(X) \le \theta_V = \frac{\|U\Delta V\|_F^2}{\|\Delta V\|_F^2} \le \lambda_{\max}(X),
//! \qquad X = U^\top U \in \mathbb{R}^{k\times k}$$
//! (Rayleigh–Ritz, applied column by column). Eigenvalues come from nalgebra's symmetric
//! QR algorithm, backward stable: each computed eigenvalue is within $c\,k\,u\,\|X\|_2$ of an
//! exact one (Golub & Van Loan, *Matrix Computations*, §8.3).

use nalgebra::DMatrix;
use ndarray::ArrayView2;

fn to_nalgebra(a: ArrayView2<f64>) -> DMatrix<f64> {
    let (r, c) = a.dim();
    DMatrix::from_fn(r, c, |i, j| a[[i, j]])
}

/// `(λ_min, λ_max)` of a symmetric matrix. The input is symmetrised as `(A + Aᵀ)/2` first, so
/// a Gram matrix whose two triangles differ in the last bit is handled as the symmetric matrix
/// it stands for.
// ANCHOR: sym_eig_extremes
pub fn sym_eig_extremes(a: ArrayView2<f64>) -> (f64, f64) {
    // On the matrix scaled by a power of two into [1, 2) ([`crate::scaling`]): the QR
    // iteration's thresholds are then the same at every scale of the data, so the extremes are
    // exactly 2^e times those of the scaled matrix, and nothing over- or underflows inside.
    let (s, e) = crate::scaling::normalizer(crate::scaling::max_exponent(a));
    // ½(Â + Âᵀ) with Â = 2^{-e}A, formed entry by entry in one matrix: the values of
    // `(&m + m.transpose()) * 0.5` with m = Â, without three temporaries.
    let sym = DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| {
        (a[[i, j]] * s + a[[j, i]] * s) * 0.5
    });
    let ev = sym.symmetric_eigenvalues();
    let min = ev.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ev.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (crate::scaling::ldexp(min, e), crate::scaling::ldexp(max, e))
}
// ANCHOR_END: sym_eig_extremes

/// `(σ_min, σ_max)`: the extreme singular values of any matrix (the note's `np.linalg.svd` of
/// `VᵀV`, kept as a compatibility column; for n > k that n×n matrix is singular and its σ_min
/// is 0 up to round-off, so it bounds nothing).
// ANCHOR: singular_extremes
pub fn singular_extremes(a: ArrayView2<f64>) -> (f64, f64) {
    let sv = to_nalgebra(a).singular_values();
    let min = sv.iter().copied().fold(f64::INFINITY, f64::min);
    let max = sv.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}
// ANCHOR_END: singular_extremes

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn eigen_extremes_of_a_known_matrix() {
        // [[2,1],[1,2]] has eigenvalues 1 and 3 exactly; QR is backward stable, so the
        // computed ones are within p(n)·u·‖A‖₂ of them (GVL §8.3), ‖A‖₂ = 3; p(2) is taken as
        // 16 (8ε = 16u), a generous constant for n = 2 rotations.
        let (lo, hi) = sym_eig_extremes(array![[2.0, 1.0], [1.0, 2.0]].view());
        assert!((lo - 1.0).abs() <= 8.0 * f64::EPSILON * 3.0);
        assert!((hi - 3.0).abs() <= 8.0 * f64::EPSILON * 3.0);
    }

    #[test]
    fn vtv_of_a_wide_factor_is_singular() {
        // V is 2×3, so VᵀV (3×3) has rank ≤ 2: its smallest singular value is 0 up to
        // round-off — the note's pitfall. Forming VᵀV errs by ≤ γ₂ entrywise relative to
        // |V|ᵀ|V| (= VᵀV here, V ≥ 0), and the SVD is backward stable with p(3)·u·‖·‖₂; both
        // fit in 16ε·σ_max = 32u·σ_max, with room for p(3) up to about 28.
        let v = array![[1.0, 2.0, 3.0], [0.5, 1.0, 4.0]];
        let (lo, hi) = singular_extremes(v.t().dot(&v).view());
        assert!(lo <= 16.0 * f64::EPSILON * hi, "σ_min = {lo}, σ_max = {hi}");
    }
}
