//! Validated input: the data matrix `M`, the rank `k` and the factors `(U, V)`.
//!
//! Validation follows scikit-learn's `_check_params`/`check_non_negative` order: shape and
//! emptiness first, then each entry (finite, then ≥ 0), then the data-dependent rules (not all
//! zero, `1 ≤ k ≤ min(m, n)`, factor shapes). Every error names the matrix and the 1-based
//! row and column.

use ndarray::{Array2, ArrayView2};

use crate::error::{NmfError, Result, Which};

/// A validated NMF problem: `M` (m×n, finite, ≥ 0, not all zero) and a rank `k`.
#[derive(Debug, Clone)]
pub struct Problem {
    m: Array2<f64>,
    rank: usize,
    m_norm_sq: f64,
}

/// The factors `U` (m×k) and `V` (k×n), entries finite and ≥ 0.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Factors {
    pub u: Array2<f64>,
    pub v: Array2<f64>,
}

/// Check that every entry of `a` is finite and ≥ 0, naming the first offender (row-major
/// order, 1-based).
pub fn check_entries(which: Which, a: ArrayView2<f64>) -> Result<()> {
    let (rows, cols) = a.dim();
    if rows == 0 || cols == 0 {
        return Err(NmfError::Empty { which, rows, cols });
    }
    for ((i, j), &x) in a.indexed_iter() {
        if !x.is_finite() {
            return Err(NmfError::NonFinite {
                which,
                row: i + 1,
                col: j + 1,
                value: x,
            });
        }
        if x < 0.0 {
            return Err(NmfError::Negative {
                which,
                row: i + 1,
                col: j + 1,
                value: x,
            });
        }
    }
    Ok(())
}

fn check_shape(which: Which, a: ArrayView2<f64>, want: (usize, usize)) -> Result<()> {
    let got = a.dim();
    if got != want {
        return Err(NmfError::Shape {
            which,
            got_rows: got.0,
            got_cols: got.1,
            want_rows: want.0,
            want_cols: want.1,
        });
    }
    Ok(())
}

impl Problem {
    /// Validate `M` and `rank`.
    pub fn new(m: Array2<f64>, rank: usize) -> Result<Self> {
        check_entries(Which::M, m.view())?;
        if m.iter().all(|&x| x == 0.0) {
            return Err(NmfError::AllZero { which: Which::M });
        }
        let (rows, cols) = m.dim();
        if rank == 0 || rank > rows.min(cols) {
            return Err(NmfError::Rank {
                rank,
                m: rows,
                n: cols,
            });
        }
        let m_norm_sq = m.iter().map(|x| x * x).sum();
        Ok(Problem { m, rank, m_norm_sq })
    }

    /// The data matrix.
    pub fn m(&self) -> ArrayView2<'_, f64> {
        self.m.view()
    }
    /// `(m, n)`.
    pub fn dim(&self) -> (usize, usize) {
        self.m.dim()
    }
    /// The rank `k`.
    pub fn rank(&self) -> usize {
        self.rank
    }
    /// `‖M‖²_F`, computed once.
    pub fn m_norm_sq(&self) -> f64 {
        self.m_norm_sq
    }

    /// Validate initial factors against this problem: shapes `m×k` and `k×n`, entries finite
    /// and ≥ 0.
    pub fn check_factors(&self, f: &Factors) -> Result<()> {
        let (m, n) = self.dim();
        let k = self.rank;
        check_shape(Which::U, f.u.view(), (m, k))?;
        check_shape(Which::V, f.v.view(), (k, n))?;
        check_entries(Which::U, f.u.view())?;
        check_entries(Which::V, f.v.view())?;
        Ok(())
    }
}

impl Factors {
    /// The product `U V`.
    pub fn product(&self) -> Array2<f64> {
        self.u.dot(&self.v)
    }
}
