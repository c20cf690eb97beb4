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
pub fn sym_eig_extremes(a: ArrayView2<f64>) -> (f64, f64) {
    let m = to_nalgebra(a);
    let s = (&m + m.transpose()) * 0.5;
    let ev = s.symmetric_eigenvalues();
    let min = ev.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ev.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// `(σ_min, σ_max)`: the extreme singular values of any matrix (the note's `np.linalg.svd` of
/// `VᵀV`, kept as a compatibility column; for n > k that n×n matrix is singular and its σ_min
/// is 0 up to round-off, so it bounds nothing).
pub fn singular_extremes(a: ArrayView2<f64>) -> (f64, f64) {
    let sv = to_nalgebra(a).singular_values();
    let min = sv.iter().copied().fold(f64::INFINITY, f64::min);
    let max = sv.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}
