//! Statistics of a sweep's rows (with [statrs](https://docs.rs/statrs)): how often each claim
//! failed, with an exact binomial interval; how close to its tolerance it came; and mean
//! iterations to the first underflow and mean final objective with Student-t intervals.
//!
//! # Violation rates: Clopper–Pearson
//!
//! A claim checked on $N$ instances and violated on $x$ of them estimates the probability
//! $p$ that an instance of the grid's family violates it. The exact interval of Clopper and
//! Pearson (*Biometrika* 26(4), 1934, pp. 404–413) inverts the binomial tail probabilities; in
//! terms of the Beta distribution's quantile $B(q; a, b)$ the **two-sided** $1-\alpha$
//! interval is
//! $$\Big[\,B\big(\tfrac\alpha2;\ x,\ N-x+1\big),\ \ B\big(1-\tfrac\alpha2;\ x+1,\ N-x\big)\Big],$$
//! with lower bound 0 when $x = 0$ and upper bound 1 when $x = N$. For $x = 0$ the upper bound
//! has the closed form $1 - (\alpha/2)^{1/N}$ (0 of 10 000 at 95 %: $3.7\cdot10^{-4}$).
//!
//! The **one-sided** upper bound, "the rate is below $p_u$ with 95 % confidence", is
//! $$p_u = B\big(1-\alpha;\ x+1,\ N-x\big),$$
//! $1 - \alpha^{1/N}$ for $x = 0$ (0 of 10 000: $3.0\cdot10^{-4}$, the "rule of three"
//! $\approx 3/N$). Reports print both and say which is which. The quantiles come from statrs'
//! inverse regularised incomplete beta function, accurate to about $10^{-8}$ relative at
//! these sizes (tested against the closed forms of $x = 0$ and $x = N$).
//!
//! # Usage quantiles
//!
//! A claim's usage on an instance is its worst row's value over tolerance (≤ 1 holds). Over
//! the instances that checked it, [`Quantiles`] gives the minimum, median, 90 %, 99 % and
//! maximum, each the linear interpolation between order statistics
//! $x_{(\lfloor h\rfloor)} + (h - \lfloor h\rfloor)(x_{(\lfloor h\rfloor+1)} - x_{(\lfloor h\rfloor)})$,
//! $h = (N-1)q$ (0-based order statistics; Hyndman & Fan's type 7, NumPy's and R's default).
//!
//! # Means: Student's t
//!
//! For values $y_1, \dots, y_N$ ($N \ge 2$) with mean $\bar y$ and sample standard deviation
//! $s = \sqrt{\sum_i (y_i - \bar y)^2/(N-1)}$, the $1-\alpha$ interval of the mean is
//! $$\bar y \pm t_{1-\alpha/2,\,N-1}\,\frac{s}{\sqrt N},$$
//! $t_{q,\nu}$ the quantile of Student's t with $\nu$ degrees of freedom (Student,
//! *Biometrika* 6(1), 1908), e.g. $t_{0.975, 9} = 2.2621571628$.

use statrs::distribution::{Beta, ContinuousCDF, StudentsT};

use super::SweepRow;
use crate::claims::Status;

/// The confidence level every interval of a report uses.
pub const LEVEL: f64 = 0.95;

/// The two-sided Clopper–Pearson interval at confidence `level` for `x` violations in `n`
/// trials (module doc); `None` for `n = 0` or `x > n`.
pub fn clopper_pearson(x: usize, n: usize, level: f64) -> Option<(f64, f64)> {
    if n == 0 || x > n {
        return None;
    }
    let a = 1.0 - level;
    let (xf, nf) = (x as f64, n as f64);
    let lo = if x == 0 {
        0.0
    } else {
        Beta::new(xf, nf - xf + 1.0).ok()?.inverse_cdf(a / 2.0)
    };
    let hi = if x == n {
        1.0
    } else {
        Beta::new(xf + 1.0, nf - xf)
            .ok()?
            .inverse_cdf(1.0 - a / 2.0)
    };
    Some((lo, hi))
}

/// The one-sided Clopper–Pearson upper bound at confidence `level` (module doc); `None`
/// for `n = 0` or `x > n`.
pub fn clopper_pearson_upper(x: usize, n: usize, level: f64) -> Option<f64> {
    if n == 0 || x > n {
        return None;
    }
    if x == n {
        return Some(1.0);
    }
    let (xf, nf) = (x as f64, n as f64);
    Some(Beta::new(xf + 1.0, nf - xf).ok()?.inverse_cdf(level))
}

/// The quantile $t_{q,\nu}$ of Student's t with `dof` degrees of freedom.
pub fn student_t_quantile(q: f64, dof: f64) -> Option<f64> {
    Some(StudentsT::new(0.0, 1.0, dof).ok()?.inverse_cdf(q))
}

/// A mean with the half-width of its Student-t interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MeanInterval {
    pub n: usize,
    pub mean: f64,
    /// $t_{1-\alpha/2, N-1}\, s/\sqrt N$.
    pub half_width: f64,
}

/// The mean of `ys` with its two-sided Student-t interval at `level` (module doc); `None`
/// with fewer than two values.
pub fn mean_interval(ys: &[f64], level: f64) -> Option<MeanInterval> {
    let n = ys.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let mean = ys.iter().sum::<f64>() / nf;
    let var = ys.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / (nf - 1.0);
    let t = student_t_quantile(1.0 - (1.0 - level) / 2.0, nf - 1.0)?;
    Some(MeanInterval {
        n,
        mean,
        half_width: t * var.sqrt() / nf.sqrt(),
    })
}

/// The type-7 quantile `q` ∈ [0, 1] of ascending `sorted` (module doc); `None` when empty.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let i = h.floor() as usize;
    let frac = h - i as f64;
    let lo = sorted[i];
    if frac == 0.0 || i + 1 >= n {
        return Some(lo);
    }
    let hi = sorted[i + 1];
    Some(if lo == hi { lo } else { lo + frac * (hi - lo) })
}

/// The minimum, median, 90 %, 99 % quantiles and maximum of a sample.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Quantiles {
    pub min: f64,
    pub median: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Quantiles {
    /// Of `xs` (any order; NaN sorts last); `None` when empty.
    pub fn of(xs: &[f64]) -> Option<Quantiles> {
        let mut s = xs.to_vec();
        s.sort_by(f64::total_cmp);
        Some(Quantiles {
            min: *s.first()?,
            median: quantile(&s, 0.5)?,
            p90: quantile(&s, 0.9)?,
            p99: quantile(&s, 0.99)?,
            max: *s.last()?,
        })
    }
}

/// One claim of one solver over a sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClaimStats {
    /// The solver with its parameters ([`crate::SolverSpec::title`]).
    pub solver: String,
    pub claim: String,
    /// Instances on which it was checked (holds or fails).
    pub instances: usize,
    /// Instances on which it failed.
    pub violations: usize,
    /// Instances on which the solver declares it but no row could be checked.
    pub not_exercised: usize,
    /// Two-sided Clopper–Pearson interval of the violation rate at [`LEVEL`].
    pub rate: Option<(f64, f64)>,
    /// One-sided Clopper–Pearson upper bound of the violation rate at [`LEVEL`].
    pub rate_upper: Option<f64>,
    /// Quantiles of the worst usage per instance.
    pub usage: Option<Quantiles>,
    /// The instance with the largest usage, and that usage: the one to replay.
    pub worst: Option<(usize, f64)>,
    /// All worst usages (for histograms).
    #[serde(skip)]
    pub usages: Vec<f64>,
}

/// One solver over a sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SolverStats {
    pub solver: String,
    pub instances: usize,
    /// Instances in which an entry became subnormal.
    pub underflowed: usize,
    /// Iterations to the first underflow, over the instances that underflowed.
    pub first_underflow: Option<MeanInterval>,
    /// Instances in which an entry became exactly zero.
    pub zeroed: usize,
    /// The final objective over the instances that ran.
    pub final_objective: Option<MeanInterval>,
    /// Instances on which some claim failed.
    pub failed: usize,
}

/// The statistics of a sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub instances: usize,
    pub claims: Vec<ClaimStats>,
    pub solvers: Vec<SolverStats>,
}

/// Group the rows by solver (in order of first appearance) and claim (in column order),
/// leaving out the claims a solver does not declare.
pub fn summarize(rows: &[SweepRow]) -> Summary {
    let mut solvers: Vec<String> = Vec::new();
    for r in rows {
        let t = r.experiment.solver.title();
        if !solvers.contains(&t) {
            solvers.push(t);
        }
    }
    let names = super::claim_names();
    let mut claims = Vec::new();
    let mut per_solver = Vec::new();
    for s in &solvers {
        let mine: Vec<&SweepRow> = rows
            .iter()
            .filter(|r| &r.experiment.solver.title() == s)
            .collect();
        for (ci, name) in names.iter().enumerate() {
            let cells: Vec<(usize, &super::ClaimResult)> = mine
                .iter()
                .filter_map(|r| r.claims.get(ci).map(|c| (r.id, c)))
                .filter(|(_, c)| c.status != Status::NotApplicable)
                .collect();
            if cells.is_empty() {
                continue;
            }
            let count = |st: Status| cells.iter().filter(|(_, c)| c.status == st).count();
            let violations = count(Status::Fails);
            let instances = violations + count(Status::Holds);
            let usages: Vec<f64> = cells.iter().filter_map(|(_, c)| c.worst_usage).collect();
            let worst = cells
                .iter()
                .filter_map(|(id, c)| c.worst_usage.map(|u| (*id, u)))
                .fold(None, |acc: Option<(usize, f64)>, (id, u)| match acc {
                    Some((_, b)) if b.total_cmp(&u).is_ge() => acc,
                    _ => Some((id, u)),
                });
            claims.push(ClaimStats {
                solver: s.clone(),
                claim: name.clone(),
                instances,
                violations,
                not_exercised: count(Status::NotExercised),
                rate: clopper_pearson(violations, instances, LEVEL),
                rate_upper: clopper_pearson_upper(violations, instances, LEVEL),
                usage: Quantiles::of(&usages),
                worst,
                usages,
            });
        }
        let under: Vec<f64> = mine
            .iter()
            .filter_map(|r| r.first_underflow.map(|i| i as f64))
            .collect();
        let objective: Vec<f64> = mine.iter().filter_map(|r| r.final_objective).collect();
        per_solver.push(SolverStats {
            solver: s.clone(),
            instances: mine.len(),
            underflowed: under.len(),
            first_underflow: mean_interval(&under, LEVEL),
            zeroed: mine.iter().filter(|r| r.first_zero.is_some()).count(),
            final_objective: mean_interval(&objective, LEVEL),
            failed: mine
                .iter()
                .filter(|r| r.worst_status() == Status::Fails)
                .count(),
        });
    }
    Summary {
        instances: rows.len(),
        claims,
        solvers: per_solver,
    }
}
