//! Validated input: the data matrix `M`, the rank `k` and the factors `(U, V)`.
//!
//! Validation follows scikit-learn's `_check_params`/`check_non_negative` order: shape and
//! emptiness first, then each entry (finite, then ≥ 0), then the data-dependent rules (not all
//! zero, `1 ≤ k ≤ min(m, n)`, factor shapes). Every error names the matrix and the 1-based
//! row and column.

use ndarray::{Array2, ArrayView2};

use crate::error::{NmfError, Result, Which};
use crate::formulas::Field;

/// A validated NMF problem: `M` (m×n, finite, ≥ 0, not all zero) and a rank `k`, in the
/// scalar `T` the solver runs in (`f64`, or exact rationals for [`crate::exact`]).
#[derive(Debug, Clone)]
pub struct Problem<T = f64> {
    m: Array2<T>,
    rank: usize,
    m_norm_sq: T,
    zero_rows: Vec<usize>,
    zero_cols: Vec<usize>,
}

/// The factors `U` (m×k) and `V` (k×n), entries finite and ≥ 0.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Factors<T = f64> {
    pub u: Array2<T>,
    pub v: Array2<T>,
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
    /// `‖M‖²_F`, computed once (with a power-of-two scale, so it neither over- nor
    /// underflows unless the value itself is out of range).
    pub fn m_norm_sq(&self) -> f64 {
        self.m_norm_sq
    }

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
        let m_norm_sq = crate::scaling::frob_sq(m.view());
        let (zero_rows, zero_cols) = zero_lines(m.view());
        Ok(Problem {
            m,
            rank,
            m_norm_sq,
            zero_rows,
            zero_cols,
        })
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

impl<T: Field> Problem<T> {
    /// The data matrix.
    pub fn m(&self) -> ArrayView2<'_, T> {
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
    /// The (0-based) rows of `M` that are all zero. Off the support of `M` the problem
    /// decouples: such a row of `U` only adds $\tfrac12\|u_i V\|^2$, minimised by $u_i = 0$.
    pub fn zero_rows(&self) -> &[usize] {
        &self.zero_rows
    }
    /// The (0-based) columns of `M` that are all zero; likewise for the columns of `V`.
    pub fn zero_cols(&self) -> &[usize] {
        &self.zero_cols
    }
}

impl<T: Field> Problem<T> {
    /// A problem in an exact scalar (rationals have no non-finite values and no range): `M`
    /// non-empty with entries ≥ 0, not all zero, and `1 ≤ k ≤ min(m, n)`.
    pub fn exact(m: Array2<T>, rank: usize) -> Result<Self> {
        let (rows, cols) = m.dim();
        if rows == 0 || cols == 0 {
            return Err(NmfError::Empty {
                which: Which::M,
                rows,
                cols,
            });
        }
        if m.iter().any(|x| *x < T::zero()) || m.iter().all(|x| x.is_zero()) {
            return Err(NmfError::Param {
                name: "M",
                message: "an exact problem needs entries ≥ 0, not all zero".into(),
            });
        }
        if rank == 0 || rank > rows.min(cols) {
            return Err(NmfError::Rank {
                rank,
                m: rows,
                n: cols,
            });
        }
        let m_norm_sq = crate::formulas::frob_inner(m.view(), m.view());
        let (zero_rows, zero_cols) = zero_lines(m.view());
        Ok(Problem {
            m,
            rank,
            m_norm_sq,
            zero_rows,
            zero_cols,
        })
    }
}

/// The (0-based) rows and columns of `m` that are all zero.
fn zero_lines<T: Field>(m: ArrayView2<T>) -> (Vec<usize>, Vec<usize>) {
    let (rows, cols) = m.dim();
    (
        (0..rows)
            .filter(|&i| m.row(i).iter().all(|x| x.is_zero()))
            .collect(),
        (0..cols)
            .filter(|&j| m.column(j).iter().all(|x| x.is_zero()))
            .collect(),
    )
}

impl Factors {
    /// The product `U V`.
    pub fn product(&self) -> Array2<f64> {
        self.u.dot(&self.v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn ok_m() -> Array2<f64> {
        array![[1.0, 2.0, 0.0], [0.5, 0.0, 3.0]]
    }

    #[test]
    fn accepts_valid_problem_and_factors() {
        let p = Problem::new(ok_m(), 2).unwrap();
        assert_eq!(p.dim(), (2, 3));
        assert_eq!(p.m_norm_sq(), 1.0 + 4.0 + 0.25 + 9.0);
        let f = Factors {
            u: Array2::ones((2, 2)),
            v: Array2::ones((2, 3)),
        };
        p.check_factors(&f).unwrap();
    }

    #[test]
    fn rejects_empty_matrix() {
        let e = Problem::new(Array2::zeros((0, 3)), 1).unwrap_err();
        assert!(
            matches!(
                e,
                NmfError::Empty {
                    which: Which::M,
                    rows: 0,
                    cols: 3
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn rejects_negative_entry_with_position() {
        let mut m = ok_m();
        m[[1, 2]] = -0.25;
        let e = Problem::new(m, 1).unwrap_err();
        assert!(
            matches!(
                e,
                NmfError::Negative {
                    which: Which::M,
                    row: 2,
                    col: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("row 2, column 3"), "{e}");
    }

    #[test]
    fn rejects_nan_and_infinity_with_position() {
        for bad in [f64::NAN, f64::INFINITY] {
            let mut m = ok_m();
            m[[0, 1]] = bad;
            let e = Problem::new(m, 1).unwrap_err();
            assert!(
                matches!(
                    e,
                    NmfError::NonFinite {
                        which: Which::M,
                        row: 1,
                        col: 2,
                        ..
                    }
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn rejects_all_zero_matrix() {
        let e = Problem::new(Array2::zeros((2, 2)), 1).unwrap_err();
        assert!(matches!(e, NmfError::AllZero { which: Which::M }), "{e}");
    }

    #[test]
    fn rejects_rank_zero_and_rank_above_min_dim() {
        for rank in [0, 3] {
            let e = Problem::new(ok_m(), rank).unwrap_err();
            assert!(matches!(e, NmfError::Rank { m: 2, n: 3, .. }), "{e}");
            assert!(e.to_string().contains("min(m, n) = 2"), "{e}");
        }
    }

    #[test]
    fn rejects_factor_of_wrong_shape() {
        let p = Problem::new(ok_m(), 2).unwrap();
        let f = Factors {
            u: Array2::ones((3, 2)),
            v: Array2::ones((2, 3)),
        };
        let e = p.check_factors(&f).unwrap_err();
        assert!(
            matches!(
                e,
                NmfError::Shape {
                    which: Which::U,
                    got_rows: 3,
                    want_rows: 2,
                    ..
                }
            ),
            "{e}"
        );
        let f = Factors {
            u: Array2::ones((2, 2)),
            v: Array2::ones((2, 4)),
        };
        let e = p.check_factors(&f).unwrap_err();
        assert!(
            matches!(
                e,
                NmfError::Shape {
                    which: Which::V,
                    got_cols: 4,
                    want_cols: 3,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn rejects_negative_or_non_finite_factor_entries() {
        let p = Problem::new(ok_m(), 2).unwrap();
        let mut u = Array2::ones((2, 2));
        u[[1, 0]] = -1.0;
        let e = p
            .check_factors(&Factors {
                u,
                v: Array2::ones((2, 3)),
            })
            .unwrap_err();
        assert!(
            matches!(
                e,
                NmfError::Negative {
                    which: Which::U,
                    row: 2,
                    col: 1,
                    ..
                }
            ),
            "{e}"
        );
        let mut v = Array2::ones((2, 3));
        v[[0, 2]] = f64::NAN;
        let e = p
            .check_factors(&Factors {
                u: Array2::ones((2, 2)),
                v,
            })
            .unwrap_err();
        assert!(
            matches!(
                e,
                NmfError::NonFinite {
                    which: Which::V,
                    row: 1,
                    col: 3,
                    ..
                }
            ),
            "{e}"
        );
    }
}
