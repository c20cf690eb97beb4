//! Seeded initialisation. One portable RNG, [`ChaCha8Rng`] (its stream is fixed by the
//! ChaCha specification, unlike `StdRng`), drives `ndarray-rand`.
//!
//! The note's scheme: `U ~ U[0,1)^{m×k}`, `V ~ U[1,2)^{k×n}`, `M ~ U[0,1)^{m×n}`, drawn in
//! that order from one stream; the planted variant replaces `M` by `U diag(d) V` with
//! `d ~ U[0,1)^k` drawn after `V` (the note's commented-out line).

use ndarray::Array2;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand_distr::{StandardNormal, Uniform};
use ndarray_rand::RandomExt;
pub use rand_chacha::ChaCha8Rng;

use crate::problem::Factors;

/// The RNG every seeded draw in the project uses.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// How `M` is generated. Every kind is drawn from the seed's stream after the initial
/// factors ([`note_instance`]), so an instance replays exactly from its seed and kind.
///
/// Serialised as `"random"` (also read as `"uniform"`), `"planted"`, `"halfnormal"` and
/// `{"sparse": {"density": p}}`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    /// `M ~ U[0,1)^{m×n}` (the note's), generically of full rank `min(m, n)` > k.
    #[default]
    #[serde(alias = "uniform")]
    Random,
    /// `M = U₀ diag(d) V₀`, exactly of rank ≤ k (an exact fit exists).
    Planted,
    /// $M_{ij} = |Z_{ij}|$, $Z_{ij} \sim N(0, 1)$ independent: the half-normal data of Lin's
    /// experiments (Lin, *IEEE TNN* 18(6), 2007, §6).
    Halfnormal,
    /// `M ~ U[0,1)^{m×n}` as for [`DataKind::Random`] (the very same draws), then each entry
    /// kept with probability `density` ∈ (0, 1] and set to 0 otherwise (a second uniform
    /// matrix `B` is drawn: the entry is kept where $B_{ij}$ < `density`). Density 1 gives
    /// exactly the uniform `M`. Rows or columns of `M` that come out all zero are allowed (the
    /// solvers set the matching rows of `U` or columns of `V` to 0, and the run records a
    /// `ZeroDataRows`/`ZeroDataColumns` event); a draw that is zero everywhere is not a
    /// problem at all ([`crate::NmfError::AllZero`]).
    Sparse { density: f64 },
}

impl DataKind {
    /// The names of the kinds, as grids and the CLI spell them.
    pub const NAMES: [&'static str; 4] = ["uniform", "planted", "halfnormal", "sparse"];

    /// Its name as grids and the CLI spell it (`uniform` for [`DataKind::Random`]).
    pub fn name(&self) -> &'static str {
        match self {
            DataKind::Random => "uniform",
            DataKind::Planted => "planted",
            DataKind::Halfnormal => "halfnormal",
            DataKind::Sparse { .. } => "sparse",
        }
    }

    /// Check the parameters: a density in (0, 1].
    pub fn check(&self) -> crate::Result<()> {
        match *self {
            DataKind::Sparse { density } if !(density > 0.0 && density <= 1.0) => {
                Err(crate::NmfError::Param {
                    name: "density",
                    message: format!("must be in (0, 1], got {density}"),
                })
            }
            _ => Ok(()),
        }
    }
}

/// Where the initial factors come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InitKind {
    /// The note's seeded draws `U ~ U[0,1)`, `V ~ U[1,2)`, whatever the data's magnitude.
    #[default]
    Note,
    /// The same draws scaled to the data: both factors times $\sqrt{\operatorname{mean}(M)/k}$
    /// (scikit-learn's scale for its random init), so that $UV$ is of the order of `M` in any
    /// units ([`scale_to_data`]).
    Scaled,
    /// Given by the user (files).
    Files,
}

/// The factor scikit-learn's random init uses, $\sqrt{\operatorname{mean}(M)/k}$ (the mean
/// taken as a scaled sum, so it neither over- nor underflows).
pub fn data_scale(m: &Array2<f64>, k: usize) -> f64 {
    let (s, e) = crate::scaling::normalizer(crate::scaling::max_exponent(m.view()));
    let mean_hat = m.iter().fold(0.0, |acc, &x| acc + x * s) / (m.len() as f64 * k as f64);
    // sqrt(mean_hat · 2^e): keep the exponent even so that the root of the power is exact.
    let (mean_hat, e) = if e % 2 == 0 {
        (mean_hat, e)
    } else {
        (mean_hat * 2.0, e - 1)
    };
    crate::scaling::ldexp(mean_hat.sqrt(), e / 2)
}

/// Scale both factors by [`data_scale`] (an all-zero `M` leaves them unchanged).
pub fn scale_to_data(f: &mut Factors, m: &Array2<f64>) {
    let c = data_scale(m, f.u.ncols());
    if c > 0.0 && c.is_finite() {
        f.u.mapv_inplace(|x| x * c);
        f.v.mapv_inplace(|x| x * c);
    }
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
        DataKind::Halfnormal => {
            Array2::<f64>::random_using((m, n), StandardNormal, &mut r).mapv(f64::abs)
        }
        DataKind::Sparse { density } => {
            let mut data = uniform(&mut r, m, n, 0.0, 1.0);
            let keep = uniform(&mut r, m, n, 0.0, 1.0);
            data.zip_mut_with(&keep, |x, &b| {
                if b >= density {
                    *x = 0.0;
                }
            });
            data
        }
    };
    (data, f)
}
// ANCHOR_END: note_instance

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_new_kinds_draw_after_the_factors_and_sparse_thins_the_uniform_draw() {
        let (uni, f0) = note_instance(7, 12, 9, 3, DataKind::Random);
        let (full, f1) = note_instance(7, 12, 9, 3, DataKind::Sparse { density: 1.0 });
        assert_eq!(
            (&full, &f1),
            (&uni, &f0),
            "density 1 is the uniform M, bit for bit"
        );
        let (thin, f2) = note_instance(7, 12, 9, 3, DataKind::Sparse { density: 0.3 });
        assert_eq!(f2, f0);
        let kept = thin.iter().filter(|&&x| x != 0.0).count();
        assert!(kept > 10 && kept < 60, "about 0.3 of 108 kept: {kept}");
        for (a, b) in thin.iter().zip(uni.iter()) {
            assert!(*a == 0.0 || a == b, "a kept entry is the uniform draw");
        }
        let (h, f3) = note_instance(7, 12, 9, 3, DataKind::Halfnormal);
        assert_eq!(f3, f0);
        assert!(h.iter().all(|&x| x >= 0.0));
        let mean = h.sum() / h.len() as f64;
        // E|Z| = √(2/π) ≈ 0.798; 108 draws of sd ≈ 0.6 put the mean within ±0.2.
        assert!((mean - 0.798).abs() < 0.2, "{mean}");
        assert_eq!(note_instance(7, 12, 9, 3, DataKind::Halfnormal).0, h);
    }

    #[test]
    fn data_kinds_keep_their_serialised_names() {
        let names: Vec<String> = [
            DataKind::Random,
            DataKind::Planted,
            DataKind::Halfnormal,
            DataKind::Sparse { density: 0.25 },
        ]
        .iter()
        .map(|k| serde_json::to_string(k).unwrap())
        .collect();
        assert_eq!(
            names,
            [
                "\"random\"",
                "\"planted\"",
                "\"halfnormal\"",
                "{\"sparse\":{\"density\":0.25}}"
            ]
        );
        let u: DataKind = serde_json::from_str("\"uniform\"").unwrap();
        assert_eq!(u, DataKind::Random);
        assert!(DataKind::Sparse { density: 0.0 }.check().is_err());
        assert!(DataKind::Sparse { density: 1.5 }.check().is_err());
        assert!(DataKind::Sparse { density: 1.0 }.check().is_ok());
    }

    #[test]
    fn data_scale_is_sklearns_and_scales_with_the_data() {
        let m = array![[1.0, 2.0], [3.0, 6.0]]; // mean 3
                                                // Exact here: the scaled entries are small multiples of 2⁻², their sum 3 and the mean
                                                // 3/(4·3) = 2⁻² are exact, and so are its root 2⁻¹ and the power of two put back.
        let c = data_scale(&m, 3);
        assert_eq!(c, 1.0);
        // M → 4^j M scales the factor by exactly 2^j, also far outside the range of mean(M)².
        for j in [-400, -1, 1, 400] {
            let mj = m.mapv(|x| crate::scaling::ldexp(x, 2 * j));
            assert_eq!(data_scale(&mj, 3), crate::scaling::ldexp(c, j), "j = {j}");
        }
    }
}
