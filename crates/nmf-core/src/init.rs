//! Seeded initialisation. One portable RNG, [`ChaCha8Rng`] (its stream is fixed by the
//! ChaCha specification, unlike `StdRng`), drives `ndarray-rand`.
//!
//! The note's scheme: `U ~ U[0,1)^{m×k}`, `V ~ U[1,2)^{k×n}`, `M ~ U[0,1)^{m×n}`, drawn in
//! that order from one stream; the planted variant replaces `M` by `U diag(d) V` with
//! `d ~ U[0,1)^k` drawn after `V` (the note's commented-out line).

use ndarray::Array2;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand_distr::Uniform;
use ndarray_rand::RandomExt;
pub use rand_chacha::ChaCha8Rng;

use crate::problem::Factors;

/// The RNG every seeded draw in the project uses.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// How `M` is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    /// `M ~ U[0,1)^{m×n}`, generically of full rank `min(m, n)` > k.
    #[default]
    Random,
    /// `M = U₀ diag(d) V₀`, exactly of rank ≤ k (an exact fit exists).
    Planted,
}

/// A uniform matrix on `[lo, hi)`.
pub fn uniform(rng: &mut ChaCha8Rng, rows: usize, cols: usize, lo: f64, hi: f64) -> Array2<f64> {
    let dist = Uniform::new(lo, hi).expect("lo < hi are finite constants");
    Array2::random_using((rows, cols), dist, rng)
}

/// The note's initial factors: `U ~ U[0,1)`, `V ~ U[1,2)`.
pub fn note_factors(rng: &mut ChaCha8Rng, m: usize, n: usize, k: usize) -> Factors {
    let u = uniform(rng, m, k, 0.0, 1.0);
    let v = uniform(rng, k, n, 1.0, 2.0);
    Factors { u, v }
}

/// The note's experiment from one seed: initial factors, then `M` (random or planted).
/// Returns `(M, initial factors)`.
// ANCHOR: note_instance
pub fn note_instance(
    seed: u64,
    m: usize,
    n: usize,
    k: usize,
    kind: DataKind,
) -> (Array2<f64>, Factors) {
    let mut r = rng(seed);
    let f = note_factors(&mut r, m, n, k);
    let data = match kind {
        DataKind::Random => uniform(&mut r, m, n, 0.0, 1.0),
        DataKind::Planted => {
            let d = uniform(&mut r, k, 1, 0.0, 1.0);
            let scaled = &f.v * &d; // diag(d) V: row z of V scaled by d_z
            f.u.dot(&scaled)
        }
    };
    (data, f)
}
// ANCHOR_END: note_instance
