//! The solver abstraction and the Lee–Seung multiplicative updates.
//!
//! A [`Solver`] performs one iteration in place and hands back what each half-step formed
//! (the Gram matrix of the fixed factor and the cross product with `M`), so that every
//! diagnostic is computed from k×k and k×N products without another pass over `M`.

use ndarray::{Array2, ArrayView2};

use crate::claims::Claim;
use crate::error::Which;
use crate::formulas::{self, Field};
use crate::loss::{Frobenius, Loss};
use crate::problem::{Factors, Problem};
use crate::trace::Half;

/// MU-specific products of a half-step: the denominator `D = X V` and the ratio `R = A ⊘ D`.
#[derive(Debug, Clone)]
pub struct MuParts<T = f64> {
    pub denom: Array2<T>,
    pub ratio: Array2<T>,
    /// Whether the new factor is exactly MU's image $V \circ R$ (plain MU). False when the
    /// update changes it afterwards (ε-MU's floor): Lemma 2's ratio form, which rests on
    /// $V' = V \circ R$ with $R = A \oslash D$, is then not evaluated.
    pub exact_image: bool,
    /// The solver's own diagonal metric $K = \bar D \oslash \bar V$ as the pair
    /// $(\bar D, \bar V)$, when it is not MU's $(XV) \oslash V$ (Lin's modified MU). The K-norm
    /// columns and claims use it.
    pub metric: Option<(Array2<T>, Array2<T>)>,
}

/// What one half-step formed, in **column layout** (see [`crate::formulas`]): for the V
/// half-step `gram = UₖᵀUₖ`, `cross = UₖᵀM`, `old = Vₖ`, `new = Vₖ₊₁`; for the U half-step
/// `gram = Vₖ₊₁Vₖ₊₁ᵀ`, `cross = (M Vₖ₊₁ᵀ)ᵀ`, `old = Uₖᵀ`, `new = Uₖ₊₁ᵀ`.
#[derive(Debug, Clone)]
pub struct HalfStep<T = f64> {
    pub gram: Array2<T>,
    pub cross: Array2<T>,
    pub old: Array2<T>,
    pub new: Array2<T>,
    /// Present for multiplicative updates; enables Lemma 2 and the K-ratio.
    pub mu: Option<MuParts<T>>,
    /// How many passes of the update over the factor the half-step made with `gram` and
    /// `cross` fixed: 1 for every solver but accelerated HALS ([`HalsAccel`]), which repeats
    /// its sweep while that is cheap. The diagonal bound ([`Claim::DiagDecrease`]) divides by
    /// it.
    pub sweeps: usize,
}

/// Both half-steps of one iteration.
#[derive(Debug, Clone)]
pub struct Step<T = f64> {
    pub v: HalfStep<T>,
    pub u: HalfStep<T>,
}

/// Why a step could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepError {
    /// A zero denominator in the update of `factor` at (1-based) `row`, `col` of that factor.
    ZeroDenominator {
        factor: Which,
        row: usize,
        col: usize,
    },
    /// The update of `factor` overflowed (an entry of its products or of the new factor is not
    /// finite) at (1-based) `row`, `col` of that factor: the data's scale is beyond what MU's
    /// products ($MV^\top$ grows like the square of the data) can represent.
    Overflow {
        factor: Which,
        row: usize,
        col: usize,
    },
    /// The update of `factor` underflowed: the Gram matrix of the other factor has a diagonal
    /// entry below the normal range at (1-based) `index` while that factor's column or row
    /// `index` is not zero (its squared norm underflowed), so MU's products there are no longer
    /// represented to working precision.
    Underflow { factor: Which, index: usize },
    /// The update of `factor` left the feasible set: a negative entry at (1-based) `row`, `col`
    /// of that factor (an update rule that does not keep the factors ≥ 0).
    Negative {
        factor: Which,
        row: usize,
        col: usize,
    },
}

/// One iterative NMF method, in the scalar `T` (`f64` for runs; a solver written generically,
/// as [`Mu`] is, runs unchanged in exact rationals for [`crate::exact`]). `step` maps
/// `(Uₖ, Vₖ)` to `(Uₖ₊₁, Vₖ₊₁)` in place.
pub trait Solver<T: Field = f64> {
    /// A short stable name, written to the trace.
    fn name(&self) -> &'static str;
    /// Perform one iteration; on error `f` is left unchanged.
    fn step(&mut self, problem: &Problem<T>, f: &mut Factors<T>) -> Result<Step<T>, StepError>;
    /// [`Solver::step`], handed a finished `Step` (the previous iteration's, once the driver
    /// is done with it) whose arrays the solver may reuse as its buffers, so that a run does
    /// not allocate them anew every iteration. The same result as `step`, bit for bit; by
    /// default `step` itself (the spare is dropped).
    fn step_reusing(
        &mut self,
        problem: &Problem<T>,
        f: &mut Factors<T>,
        spare: Option<Step<T>>,
    ) -> Result<Step<T>, StepError> {
        drop(spare);
        self.step(problem, f)
    }
    /// The claims of this solver's convergence proof: checked on its traces, every other
    /// claim reported not applicable (never "holds"). By default the claims that hold for any
    /// method meant to decrease the objective ([`Claim::generic`]).
    fn claims(&self) -> Vec<Claim> {
        Claim::generic()
    }
    /// The loss this method minimises (its objective, gradients and half-step quantities are
    /// the driver's diagnostics). By default $\tfrac12\|M - UV\|_F^2$.
    fn loss(&self) -> &'static dyn Loss {
        &Frobenius
    }
    /// The floor ε the method keeps every entry at or above (ε-MU, HALS), if any: its limit
    /// points are then KKT points of $\min_{U, V \ge \varepsilon} f$, and the run reports that
    /// problem's KKT residual too ([`crate::Fit::final_kkt_floor`]).
    fn floor(&self) -> Option<f64> {
        None
    }
}

/// Lee–Seung multiplicative updates for `½‖M − UV‖²`, **V first, then U with the new V**:
/// $$V_{k+1} = V_k \circ \frac{U_k^\top M}{U_k^\top U_k V_k},\qquad
///   U_{k+1} = U_k \circ \frac{M V_{k+1}^\top}{U_k V_{k+1} V_{k+1}^\top}.$$
/// Reference: Lee & Seung (NIPS 2001), Theorem 1.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mu;

/// One MU half-step in column layout from `gram`, `cross` and `old`.
/// Why a half-step failed, at a 0-based (row, col) of the column layout.
enum HalfError {
    ZeroDenominator(usize, usize),
    Overflow(usize, usize),
    Underflow(usize),
    Negative(usize, usize),
}

impl HalfError {
    /// As a [`StepError`] of `factor`, with `to_factor` mapping the column-layout position to
    /// the factor's 1-based (row, col).
    fn of(self, factor: Which, to_factor: impl Fn(usize, usize) -> (usize, usize)) -> StepError {
        match self {
            HalfError::ZeroDenominator(z, i) => {
                let (row, col) = to_factor(z, i);
                StepError::ZeroDenominator { factor, row, col }
            }
            HalfError::Overflow(z, i) => {
                let (row, col) = to_factor(z, i);
                StepError::Overflow { factor, row, col }
            }
            HalfError::Negative(z, i) => {
                let (row, col) = to_factor(z, i);
                StepError::Negative { factor, row, col }
            }
            HalfError::Underflow(z) => StepError::Underflow {
                factor,
                index: z + 1,
            },
        }
    }
}

/// The first position where an entry of any of `arrays` is not finite.
fn first_non_finite<T: Field>(arrays: &[&Array2<T>]) -> Option<(usize, usize)> {
    arrays
        .iter()
        .filter_map(|a| {
            a.indexed_iter()
                .find(|(_, x)| !x.is_finite())
                .map(|(p, _)| p)
        })
        .min()
}

/// One iteration of an alternating method: `half` updates V (`fixed` = Uᵀ in row layout, the
/// cross product UᵀM, the old V, the zero columns of M), then U with the new V on the
/// transposed problem (`fixed` = V', cross V'Mᵀ, old Uᵀ, the zero rows of M). The one place
/// the V-then-U order, the layouts and the error positions are written; `f` changes only
/// when both halves succeed.
// ANCHOR: alternate
fn alternate<T: Field>(
    p: &Problem<T>,
    f: &mut Factors<T>,
    spare: Option<Step<T>>,
    mut half: impl FnMut(
        ArrayView2<T>,
        Array2<T>,
        Array2<T>,
        &[usize],
        Option<HalfStep<T>>,
    ) -> Result<HalfStep<T>, HalfError>,
) -> Result<Step<T>, StepError> {
    let m = p.m();
    let (mut spare_v, mut spare_u) = match spare {
        Some(s) => (Some(s.v), Some(s.u)),
        None => (None, None),
    };
    // V half-step: X = UᵀU, A = UᵀM.
    let ut = f.u.t();
    let (mut cross, mut old) = buffers(&mut spare_v);
    T::matmul_into(ut, m, &mut cross);
    copy_into(f.v.view(), &mut old);
    let v = half(ut, cross, old, p.zero_cols(), spare_v)
        .map_err(|e| e.of(Which::V, |z, i| (z + 1, i + 1)))?;
    // U half-step with the new V: Y = V'V'ᵀ, (MV'ᵀ)ᵀ = V'Mᵀ, old = Uᵀ in standard (row-major)
    // layout, so that the column-layout loops run over contiguous rows.
    let vn = v.new.view();
    let (mut cross, mut old) = buffers(&mut spare_u);
    T::matmul_into(vn, m.t(), &mut cross);
    copy_into(ut, &mut old);
    let u = half(vn, cross, old, p.zero_rows(), spare_u)
        // column layout (z, i) of Uᵀ is U[i, z]
        .map_err(|e| e.of(Which::U, |z, i| (i + 1, z + 1)))?;
    f.v.assign(&v.new);
    f.u.assign(&u.new.t());
    Ok(Step { v, u })
}
// ANCHOR_END: alternate

/// The cross-product and old-factor buffers of a spare half-step (empty arrays without one).
fn buffers<T: Field>(spare: &mut Option<HalfStep<T>>) -> (Array2<T>, Array2<T>) {
    match spare {
        Some(h) => (
            std::mem::replace(&mut h.cross, empty()),
            std::mem::replace(&mut h.old, empty()),
        ),
        None => (empty(), empty()),
    }
}

/// An array without entries (allocates nothing).
fn empty<T>() -> Array2<T> {
    Array2::from_shape_vec((0, 0), Vec::new()).expect("0×0")
}

/// `src` into `dst` in standard layout, reusing `dst`'s storage when it has `src`'s shape.
fn copy_into<T: Field>(src: ArrayView2<T>, dst: &mut Array2<T>) {
    if dst.dim() == src.dim() && dst.is_standard_layout() {
        dst.assign(&src);
    } else {
        *dst = src.as_standard_layout().into_owned();
    }
}

/// The Gram matrix of `fixed` (row layout), or where it underflowed: a diagonal entry
/// ‖row z‖² below the normal range while row z is not zero, so that every product a half-step
/// forms from that row is no longer represented to working precision. Every solver's
/// half-step starts here.
fn gram_checked<T: Field>(fixed: ArrayView2<T>) -> Result<Array2<T>, HalfError> {
    gram_checked_into(fixed, empty())
}

/// [`gram_checked`] into the storage of `gram` (reused when it has the shape).
fn gram_checked_into<T: Field>(
    fixed: ArrayView2<T>,
    mut gram: Array2<T>,
) -> Result<Array2<T>, HalfError> {
    T::matmul_into(fixed, fixed.t(), &mut gram);
    match (0..gram.nrows())
        .find(|&z| gram[[z, z]].is_below_normal() && fixed.row(z).iter().any(|x| !x.is_zero()))
    {
        Some(z) => Err(HalfError::Underflow(z)),
        None => Ok(gram),
    }
}

/// One MU half-step in column layout; `fixed` is the fixed factor in row layout (its rows
/// are the columns of `U`, or the rows of `V'`), whose Gram matrix `gram` is. The arrays of
/// `spare` (a finished half-step) are reused as buffers.
fn mu_half<T: Field>(
    fixed: ArrayView2<T>,
    cross: Array2<T>,
    old: Array2<T>,
    off_support: &[usize],
    spare: Option<HalfStep<T>>,
) -> Result<HalfStep<T>, HalfError> {
    let (gram, mut denom, mut ratio, mut new) = match spare {
        Some(HalfStep {
            gram,
            new,
            mu: Some(mu),
            ..
        }) => (gram, mu.denom, mu.ratio, new),
        Some(h) => (h.gram, empty(), empty(), h.new),
        None => (empty(), empty(), empty(), empty()),
    };
    let gram = gram_checked_into(fixed, gram)?;
    T::matmul_into(gram.view(), old.view(), &mut denom);
    if let Some((z, i)) = first_non_finite(&[&gram, &cross, &denom]) {
        return Err(HalfError::Overflow(z, i));
    }
    formulas::mu_update_into(
        cross.view(),
        denom.view(),
        old.view(),
        off_support,
        &mut ratio,
        &mut new,
    )
    .map_err(|(z, i)| HalfError::ZeroDenominator(z, i))?;
    if let Some((z, i)) = first_non_finite(&[&new]) {
        return Err(HalfError::Overflow(z, i));
    }
    Ok(HalfStep {
        gram,
        cross,
        old,
        new,
        mu: Some(MuParts {
            denom,
            ratio,
            exact_image: true,
            metric: None,
        }),
        sweeps: 1,
    })
}

impl Mu {
    /// MU's V half-step alone, with `u` fixed (the map whose local rate [`crate::rate`]
    /// predicts): the same code as the first half of [`Solver::step`].
    pub fn v_half_step<T: Field>(
        p: &Problem<T>,
        u: ArrayView2<T>,
        v: Array2<T>,
    ) -> Result<HalfStep<T>, StepError> {
        let ut = u.t();
        mu_half(ut, T::matmul(ut, p.m()), v, p.zero_cols(), None)
            .map_err(|e| e.of(Which::V, |z, i| (z + 1, i + 1)))
    }
}

// ANCHOR: mu_step
impl<T: Field> Solver<T> for Mu {
    fn name(&self) -> &'static str {
        "mu"
    }

    /// Every claim: Lee and Seung's proof, with the lemmas of the note.
    fn claims(&self) -> Vec<Claim> {
        Claim::all()
    }

    fn step(&mut self, p: &Problem<T>, f: &mut Factors<T>) -> Result<Step<T>, StepError> {
        alternate(p, f, None, mu_half)
    }

    fn step_reusing(
        &mut self,
        p: &Problem<T>,
        f: &mut Factors<T>,
        spare: Option<Step<T>>,
    ) -> Result<Step<T>, StepError> {
        alternate(p, f, spare, mu_half)
    }
}
// ANCHOR_END: mu_step

/// Which solver a run uses, with its parameters: what the CLI's `--solver` chooses and
/// `summary.json` records (`{"name": "mu-eps", "eps": 1e-16}`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, Default)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum SolverSpec {
    /// [`Mu`].
    #[default]
    Mu,
    /// [`MuEps`].
    MuEps { eps: f64 },
    /// [`Hals`].
    Hals { eps: f64 },
    /// [`LinMu`].
    MuLin { sigma: f64, delta: f64 },
    /// [`HalsAccel`].
    HalsAccel { eps: f64, alpha: f64, delta: f64 },
}

impl SolverSpec {
    /// The names, as the CLI spells them.
    pub const NAMES: [&'static str; 5] = ["mu", "mu-eps", "mu-lin", "hals", "hals-accel"];

    /// Check the parameters: ε, σ and Lin's δ finite and > 0; α finite and ≥ 0; accelerated
    /// HALS's δ in [0, 1).
    pub fn check(&self) -> crate::Result<()> {
        let bad = |name: &'static str, what: &str, x: f64| {
            Err(crate::NmfError::Param {
                name,
                message: format!("must be {what}, got {x}"),
            })
        };
        match *self {
            SolverSpec::Mu => Ok(()),
            SolverSpec::MuEps { eps } | SolverSpec::Hals { eps }
                if eps.is_finite() && eps > 0.0 =>
            {
                Ok(())
            }
            SolverSpec::MuEps { eps } | SolverSpec::Hals { eps } => {
                bad("eps", "finite and > 0", eps)
            }
            SolverSpec::HalsAccel { eps, alpha, delta } => {
                if !(eps.is_finite() && eps > 0.0) {
                    bad("eps", "finite and > 0", eps)
                } else if !(alpha.is_finite() && alpha >= 0.0) {
                    bad("alpha", "finite and ≥ 0", alpha)
                } else if !(0.0..1.0).contains(&delta) {
                    bad("delta", "in [0, 1)", delta)
                } else {
                    Ok(())
                }
            }
            SolverSpec::MuLin { sigma, delta } => {
                for (name, x) in [("sigma", sigma), ("delta", delta)] {
                    if !(x.is_finite() && x > 0.0) {
                        return Err(crate::NmfError::Param {
                            name,
                            message: format!("must be finite and > 0, got {x}"),
                        });
                    }
                }
                Ok(())
            }
        }
    }

    /// Its name as the CLI spells it (one of [`SolverSpec::NAMES`]).
    pub fn name(&self) -> &'static str {
        match self {
            SolverSpec::Mu => "mu",
            SolverSpec::MuEps { .. } => "mu-eps",
            SolverSpec::MuLin { .. } => "mu-lin",
            SolverSpec::Hals { .. } => "hals",
            SolverSpec::HalsAccel { .. } => "hals-accel",
        }
    }

    /// Its name with its parameters, for titles: `MU`, `ε-MU (ε = 1e-16)`.
    pub fn title(&self) -> String {
        match *self {
            SolverSpec::Mu => "MU".into(),
            SolverSpec::MuEps { eps } => format!("ε-MU (ε = {eps:e})"),
            SolverSpec::Hals { eps } => format!("HALS (ε = {eps:e})"),
            SolverSpec::HalsAccel { eps, alpha, delta } => {
                format!("accelerated HALS (ε = {eps:e}, α = {alpha}, δ = {delta})")
            }
            SolverSpec::MuLin { sigma, delta } => {
                format!("Lin's MU (σ = {sigma:e}, δ = {delta:e})")
            }
        }
    }

    /// The solver.
    pub fn build(&self) -> Box<dyn Solver> {
        match *self {
            SolverSpec::Mu => Box::new(Mu),
            SolverSpec::MuEps { eps } => Box::new(MuEps { eps }),
            SolverSpec::Hals { eps } => Box::new(Hals { eps }),
            SolverSpec::HalsAccel { eps, alpha, delta } => {
                Box::new(HalsAccel { eps, alpha, delta })
            }
            SolverSpec::MuLin { sigma, delta } => Box::new(LinMu { sigma, delta }),
        }
    }
}

/// ε-MU (Gillis & Glineur, *Neural Computation* 24(4), 2012): MU with every entry floored at
/// $\varepsilon > 0$,
/// $$V_{k+1} = \max\Big(\varepsilon,\; V_k \circ \frac{U_k^\top M}{U_k^\top U_k V_k}\Big),$$
/// then U likewise with the new V. Iterates stay ≥ ε, so no entry locks at 0, and every limit
/// point is a KKT point of $\min_{U, V \ge \varepsilon} f$ (Zhao & Tan, *IEEE TSP* 66(18),
/// 2018). The MU step is the minimiser of the separable majoriser
/// $G(V') = g(V) + \langle\nabla g(V), V' - V\rangle + \tfrac12\|V' - V\|_K^2$,
/// $K = \mathrm{Diag}((XV)\oslash V) \succeq X$; flooring at ε is its minimiser over
/// $V' \ge \varepsilon$ (separable), and since $V \ge \varepsilon$ is feasible,
/// $g(V) - g(V') \ge G(V) - G(V') \ge \tfrac12\|V' - V\|_K^2$ (strong convexity in the K-norm):
/// [`Claim::KHalfDecrease`]. Lee and Seung's K-identity and the K-ratio's upper bound 1 do not
/// carry over. The start must be ≥ ε (the claim's bound needs a feasible old point).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MuEps<T = f64> {
    pub eps: T,
}

impl MuEps {
    /// Gillis and Glineur's choice, ε = 10⁻¹⁶.
    pub const DEFAULT_EPS: f64 = 1e-16;
}

impl Default for MuEps {
    fn default() -> Self {
        MuEps {
            eps: Self::DEFAULT_EPS,
        }
    }
}

/// MU's half-step, then every entry floored at `eps` (exact: a comparison).
fn floored<T: Field>(h: Result<HalfStep<T>, HalfError>, eps: &T) -> Result<HalfStep<T>, HalfError> {
    let mut h = h?;
    h.new
        .mapv_inplace(|x| if x < *eps { eps.clone() } else { x });
    if let Some(mu) = &mut h.mu {
        mu.exact_image = false;
    }
    Ok(h)
}

impl<T: Field> Solver<T> for MuEps<T> {
    fn name(&self) -> &'static str {
        "mu-eps"
    }

    fn floor(&self) -> Option<f64> {
        Some(self.eps.to_f64())
    }

    /// The generic claims; the K-half bound $g(V) - g(V') \ge \tfrac12\|\Delta\|_K^2$ and what
    /// follows from it: sufficient decrease (as $K \succeq X$) and the diagonal bound (as
    /// $K_{zz} \ge X_{zz}$); and the floor.
    fn claims(&self) -> Vec<Claim> {
        let mut c = Claim::generic();
        for h in Half::BOTH {
            c.extend([
                Claim::SufficientDecrease(h),
                Claim::DiagDecrease(h),
                Claim::KHalfDecrease(h),
                Claim::Floor(h, self.eps.to_f64()),
            ]);
        }
        c
    }

    fn step(&mut self, p: &Problem<T>, f: &mut Factors<T>) -> Result<Step<T>, StepError> {
        self.step_reusing(p, f, None)
    }

    fn step_reusing(
        &mut self,
        p: &Problem<T>,
        f: &mut Factors<T>,
        spare: Option<Step<T>>,
    ) -> Result<Step<T>, StepError> {
        let eps = &self.eps;
        alternate(p, f, spare, |fixed, cross, old, off, spare| {
            floored(mu_half(fixed, cross, old, off, spare), eps)
        })
    }
}

/// Lin's modified MU (Lin, *IEEE TNN* 18(6), 2007), which repairs zero locking: with
/// $\nabla = XV - A$ and
/// $$\bar V_{zi} = \begin{cases} V_{zi} & \nabla_{zi} \ge 0\\ \max(V_{zi}, \sigma) & \nabla_{zi} < 0\end{cases},
///   \qquad V' = V - \frac{\bar V}{X\bar V + \delta}\circ\nabla ,$$
/// a zero entry with a negative gradient is moved (MU would keep it at 0 for ever), and every
/// limit point is stationary (Lin's Theorem 7). The step is $V' = V - \bar K^{-1}\nabla$ with
/// the diagonal metric $\bar K = \mathrm{Diag}((X\bar V + \delta)\oslash\bar V) \succeq X$ on the
/// entries that move (Lee and Seung's lemma at $\bar V$), the exact minimiser of the majoriser
/// $G(V') = g(V) + \langle\nabla, V' - V\rangle + \tfrac12\|V' - V\|_{\bar K}^2$. Hence in
/// that metric everything of Chapter 3 holds: the K-identity
/// $g(V) - g(V') = \|\Delta\|_{\bar K}^2 - \tfrac12\|U\Delta\|^2$, the K-ratio in $[\tfrac12, 1]$,
/// $\langle\nabla g(V'), V - V'\rangle = \|\Delta\|_{\bar K}^2 - \|\Delta\|_X^2 \ge 0$, sufficient
/// decrease and the diagonal bound. The update is formed so that it is ≥ 0 in floating point
/// too: $V\circ(X(\bar V - V) + A + \delta)\oslash(X\bar V + \delta)$ where $\nabla \ge 0$ (every
/// term ≥ 0), $V + \bar V\circ|\nabla|\oslash(X\bar V + \delta)$ where $\nabla < 0$.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinMu<T = f64> {
    /// σ: the least size an entry with a negative gradient is treated as having.
    pub sigma: T,
    /// δ: added to the denominator.
    pub delta: T,
}

impl Default for LinMu {
    /// σ = δ = 10⁻⁸.
    fn default() -> Self {
        LinMu {
            sigma: 1e-8,
            delta: 1e-8,
        }
    }
}

/// One half-step of Lin's modified MU in column layout (see [`LinMu`]), in any scalar.
fn lin_half<T: Field>(
    fixed: ArrayView2<T>,
    cross: Array2<T>,
    old: Array2<T>,
    sigma: &T,
    delta: &T,
) -> Result<HalfStep<T>, HalfError> {
    let gram = gram_checked(fixed)?;
    let x_old = T::matmul(gram.view(), old.view());
    let grad = &x_old - &cross;
    let v_bar = ndarray::Zip::from(&old).and(&grad).map_collect(|v, g| {
        if *g < T::zero() && *v < *sigma {
            sigma.clone()
        } else {
            v.clone()
        }
    });
    // X(V̄ − V) + A + δ: every term ≥ 0, so the numerator where ∇ ≥ 0 is ≥ 0 in floating
    // point too.
    let num = (T::matmul(gram.view(), (&v_bar - &old).view()) + &cross).mapv(|x| x + delta.clone());
    let d_bar = T::matmul(gram.view(), v_bar.view()).mapv(|x| x + delta.clone());
    if let Some((z, i)) = first_non_finite(&[&gram, &cross, &x_old, &d_bar]) {
        return Err(HalfError::Overflow(z, i));
    }
    let mut new = old.clone();
    ndarray::Zip::from(&mut new)
        .and(&v_bar)
        .and(&grad)
        .and(&num)
        .and(&d_bar)
        .for_each(|n, vb, g, nu, d| {
            *n = if *g >= T::zero() {
                n.clone() * (nu.clone() / d.clone())
            } else {
                n.clone() + vb.clone() * ((T::zero() - g.clone()) / d.clone())
            };
        });
    if let Some((z, i)) = first_non_finite(&[&new]) {
        return Err(HalfError::Overflow(z, i));
    }
    let ratio = ndarray::Zip::from(&new).and(&old).map_collect(|n, o| {
        if o.is_zero() {
            T::zero()
        } else {
            n.clone() / o.clone()
        }
    });
    Ok(HalfStep {
        gram,
        cross,
        old,
        new,
        mu: Some(MuParts {
            denom: x_old,
            ratio,
            exact_image: false,
            metric: Some((d_bar, v_bar)),
        }),
        sweeps: 1,
    })
}

impl<T: Field> Solver<T> for LinMu<T> {
    fn name(&self) -> &'static str {
        "mu-lin"
    }

    /// The generic claims and, in Lin's metric $\bar K$, everything of Chapter 3 but the ratio
    /// form of Lemma 2.
    fn claims(&self) -> Vec<Claim> {
        let mut c = Claim::generic();
        for h in Half::BOTH {
            c.extend([
                Claim::InnerNonneg(h),
                Claim::SufficientDecrease(h),
                Claim::KRatioBounds(h),
                Claim::KIdentity(h),
                Claim::DiagDecrease(h),
                Claim::KHalfDecrease(h),
            ]);
        }
        c
    }

    fn step(&mut self, p: &Problem<T>, f: &mut Factors<T>) -> Result<Step<T>, StepError> {
        let (sigma, delta) = (&self.sigma, &self.delta);
        alternate(p, f, None, |fixed, cross, old, _, _| {
            lin_half(fixed, cross, old, sigma, delta)
        })
    }
}

/// HALS, hierarchical alternating least squares (Cichocki & Phan, *IEICE Trans. Fundamentals*
/// E92-A(3), 2009), with the ε-floor of Gillis & Glineur (*Neural Computation* 24(4), 2012):
/// the half-step updates the rows $z = 1, …, k$ of $V$ one after another (Gauss–Seidel), each
/// by the exact minimiser of $g$ over that row with the others fixed, floored at ε:
/// $$v_z \leftarrow \max\Big(\varepsilon,\; v_z + \frac{a_z - (XV)_z}{X_{zz}}\Big)$$
/// ($XV$ with the rows already updated). Row $z$'s problem is
/// $h(v) = \tfrac{X_{zz}}2\|v - v^\star\|^2 + \text{const}$ with $v^\star$ the unconstrained
/// minimiser, and the new row is the projection of $v^\star$ onto $v \ge \varepsilon$, so
/// $$h(v) - h(v') = \tfrac{X_{zz}}2\big(\|v - v^\star\|^2 - \|v' - v^\star\|^2\big)
///   \;\ge\; \tfrac{X_{zz}}2\|v - v'\|^2$$
/// for a feasible old row (the projection's obtuse angle). Summed over the rows, the half-step
/// decreases $g$ by at least $\tfrac12\min_z X_{zz}\|\Delta\|^2$: [`Claim::DiagDecrease`].
/// The per-row identity is checked in rational arithmetic by [`crate::exact`].
///
/// HALS does not rescale its factors. From a start far from the data's scale (the note's
/// start is about ten times too large), the first row update can floor a whole row of V at ε;
/// the matching column of U is then updated by dividing by $\|v_z\|^2 \approx N\varepsilon^2$
/// and grows to $10^{13}$ and beyond: a lost component, with a KKT residual that is large
/// because the gradient scales with U (the claims still hold: the objective still decreases).
/// Start it scaled to the data ([`crate::InitKind::Scaled`], `--init scaled`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hals<T = f64> {
    pub eps: T,
}

impl Default for Hals {
    fn default() -> Self {
        Hals {
            eps: MuEps::DEFAULT_EPS,
        }
    }
}

/// HALS's update of row `z` of `current` (k×N, column layout) in place, from the Gram matrix
/// `gram` and cross product `cross`: $v_z \leftarrow \max(\varepsilon, v_z + (a_z -
/// (X\,\text{current})_z)/X_{zz})$. `None` when $X_{zz} = 0$ (a zero column of the fixed
/// factor: the row's problem has no unique minimiser). The one place the rule is written: the
/// solver and the exact check's per-row replay both call it.
pub fn hals_row<T: Field>(
    gram: ArrayView2<T>,
    cross: ArrayView2<T>,
    current: &mut Array2<T>,
    z: usize,
    eps: &T,
) -> Option<()> {
    let xzz = gram[[z, z]].clone();
    if xzz.is_zero() {
        return None;
    }
    let (k, n) = current.dim();
    for i in 0..n {
        let mut xv = T::zero();
        for j in 0..k {
            xv = xv + gram[[z, j]].clone() * current[[j, i]].clone();
        }
        let val = current[[z, i]].clone() + (cross[[z, i]].clone() - xv) / xzz.clone();
        current[[z, i]] = if val < *eps { eps.clone() } else { val };
    }
    Some(())
}

/// One HALS half-step in column layout (see [`Hals`]): `sweeps` passes of [`hals_row`] over
/// the rows with `gram` and `cross` fixed, the passes after the first only while the last one
/// moved the factor by more than `delta` times the first (squared norms: $\|\Delta^{(l)}\|^2
/// \le \delta^2\|\Delta^{(1)}\|^2$ ends the loop, a comparison that is exact in rationals).
/// Plain HALS is one pass.
fn hals_half<T: Field>(
    fixed: ArrayView2<T>,
    cross: Array2<T>,
    old: Array2<T>,
    eps: &T,
    passes: Option<(usize, &T)>,
) -> Result<HalfStep<T>, HalfError> {
    let gram = gram_checked(fixed)?;
    if let Some((z, i)) = first_non_finite(&[&gram, &cross]) {
        return Err(HalfError::Overflow(z, i));
    }
    let (max_sweeps, delta) = passes.map_or((1, None), |(n, d)| (n.max(1), Some(d)));
    let mut new = old.clone();
    let mut first_sq: Option<T> = None;
    let mut sweeps = 0;
    while sweeps < max_sweeps {
        let before = (max_sweeps > 1).then(|| new.clone());
        for z in 0..new.nrows() {
            hals_row(gram.view(), cross.view(), &mut new, z, eps)
                .ok_or(HalfError::ZeroDenominator(z, 0))?;
        }
        sweeps += 1;
        if let (Some(before), Some(delta)) = (before, delta) {
            let d = &new - &before;
            let sq = formulas::frob_inner(d.view(), d.view());
            match &first_sq {
                None if sq.is_zero() => break,
                None => first_sq = Some(sq),
                Some(f0) => {
                    if sq <= delta.clone() * delta.clone() * f0.clone() {
                        break;
                    }
                }
            }
        }
    }
    if let Some((z, i)) = first_non_finite(&[&new]) {
        return Err(HalfError::Overflow(z, i));
    }
    Ok(HalfStep {
        gram,
        cross,
        old,
        new,
        mu: None,
        sweeps,
    })
}

impl<T: Field> Solver<T> for Hals<T> {
    fn name(&self) -> &'static str {
        "hals"
    }

    fn floor(&self) -> Option<f64> {
        Some(self.eps.to_f64())
    }

    /// The generic claims, the diagonal bound (from the per-row decrease) and the floor.
    fn claims(&self) -> Vec<Claim> {
        let mut c = Claim::generic();
        for h in Half::BOTH {
            c.extend([Claim::DiagDecrease(h), Claim::Floor(h, self.eps.to_f64())]);
        }
        c
    }

    fn step(&mut self, p: &Problem<T>, f: &mut Factors<T>) -> Result<Step<T>, StepError> {
        let eps = &self.eps;
        alternate(p, f, None, |fixed, cross, old, _, _| {
            hals_half(fixed, cross, old, eps, None)
        })
    }
}

/// Accelerated HALS (Gillis & Glineur, *Neural Computation* 24(4), 2012): the products
/// $X = U^\top U$ and $A = U^\top M$ of a half-step cost $O(PNk)$ against $O(Nk^2)$ for one
/// pass of HALS's row updates over $V$ (k×N, the fixed factor P×k), so the pass is repeated
/// with them fixed, up to
/// $$\Big\lfloor 1 + \alpha\rho\Big\rfloor \text{ passes}, \qquad
///   \rho = 1 + \Big\lfloor\frac{PN + Pk}{N(k + 1)}\Big\rfloor$$
/// ([`hals_accel_sweeps`], their flop estimate; their code measures times instead, which would
/// make a run depend on the machine), stopping early once a pass moves $V$ by at most $\delta$
/// times the first: $\|\Delta^{(l)}\| \le \delta\|\Delta^{(1)}\|$. Defaults $\alpha = ½$,
/// $\delta = 0.1$ (theirs); $\alpha = 0$ is plain [`Hals`].
///
/// Each pass is a HALS pass, so each decreases the half-problem by at least
/// $\tfrac12\min_z X_{zz}\|\Delta^{(s)}\|^2$ ([`Hals`]); summed over the $S$ passes and with
/// $\|\sum_s \Delta^{(s)}\|^2 \le S\sum_s\|\Delta^{(s)}\|^2$ (Cauchy–Schwarz), the half-step
/// decreases it by at least $\tfrac1{2S}\min_z X_{zz}\|\Delta\|^2$ with $\Delta$ the whole
/// half-step: the diagonal bound divided by the pass count ([`HalfStep::sweeps`], the trace's
/// `sweeps_v`, `sweeps_u`). Its claims are HALS's; the exact check replays every pass row by
/// row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HalsAccel<T = f64> {
    pub eps: T,
    /// $\alpha \ge 0$: how many passes a half-step may make, relative to their cost.
    pub alpha: f64,
    /// $\delta \in [0, 1)$: stop the passes once one moves the factor by at most δ times the
    /// first.
    pub delta: T,
}

impl HalsAccel {
    /// Gillis and Glineur's α.
    pub const DEFAULT_ALPHA: f64 = 0.5;
    /// Gillis and Glineur's δ.
    pub const DEFAULT_DELTA: f64 = 0.1;
}

impl Default for HalsAccel {
    fn default() -> Self {
        HalsAccel {
            eps: MuEps::DEFAULT_EPS,
            alpha: Self::DEFAULT_ALPHA,
            delta: Self::DEFAULT_DELTA,
        }
    }
}

/// The most passes accelerated HALS makes in a half-step that updates a k×N factor against a
/// P×k fixed one: $\lfloor 1 + \alpha\rho\rfloor$ with
/// $\rho = 1 + \lfloor (PN + Pk)/(N(k+1)) \rfloor$ (Gillis & Glineur 2012, from their flop
/// counts; the ρ of their reference code). Integer arithmetic but for the product with α, so it is the same in
/// every run.
pub fn hals_accel_sweeps(p: usize, n: usize, k: usize, alpha: f64) -> usize {
    let rho = 1 + (p * n + p * k) / (n * (k + 1)).max(1);
    (1.0 + alpha * rho as f64).floor() as usize
}

impl<T: Field> Solver<T> for HalsAccel<T> {
    fn name(&self) -> &'static str {
        "hals-accel"
    }

    fn floor(&self) -> Option<f64> {
        Some(self.eps.to_f64())
    }

    /// HALS's claims: the generic ones, the diagonal bound (divided by the pass count) and the
    /// floor.
    fn claims(&self) -> Vec<Claim> {
        Hals {
            eps: self.eps.clone(),
        }
        .claims()
    }

    fn step(&mut self, p: &Problem<T>, f: &mut Factors<T>) -> Result<Step<T>, StepError> {
        let (eps, alpha, delta) = (&self.eps, self.alpha, &self.delta);
        alternate(p, f, None, |fixed, cross, old, _, _| {
            let (k, n) = old.dim();
            let sweeps = hals_accel_sweeps(fixed.ncols(), n, k, alpha);
            hals_half(fixed, cross, old, eps, Some((sweeps, delta)))
        })
    }
}

/// An update rule for one half-step, written the way a researcher writes it: from the fixed
/// factor's Gram matrix `gram` ($X = U^\top U$, k×k), the cross product `cross`
/// ($A = U^\top M$, k×N) and the current factor `old` ($V$, k×N), the new factor $V'$. The same
/// rule updates $U$ on the transposed problem (`gram` $= V'V'^\top$, `cross` $= V'M^\top$, `old`
/// $= U^\top$). Wrapped in [`Rule`] it is a [`Solver`]: the driver records every quantity and
/// checks the rule's claims (by default [`Claim::generic`]) on every iteration.
///
/// ```
/// use nmf_core::ndarray::{Array2, ArrayView2, Zip};
/// use nmf_core::solver::{Rule, UpdateRule};
///
/// /// MU with the ratio raised to a power `p` (`p = 1` is Lee–Seung MU).
/// struct PowerMu(f64);
/// impl UpdateRule for PowerMu {
///     fn name(&self) -> &'static str { "mu-power" }
///     fn update(&self, x: ArrayView2<f64>, a: ArrayView2<f64>, v: ArrayView2<f64>) -> Array2<f64> {
///         let d = x.dot(&v);
///         Zip::from(v).and(a).and(&d).map_collect(|v, a, d| v * (a / d).powf(self.0))
///     }
/// }
///
/// let e = nmf_core::Experiment::note(0, 100);
/// let (data, init) = e.instance();
/// let out = e.run_solver(&mut Rule(PowerMu(1.0)), data, init, |_| std::ops::ControlFlow::Continue(())).unwrap();
/// assert_eq!(nmf_core::all_hold(&out.claims), Some(true));
/// ```
pub trait UpdateRule {
    /// A short stable name, written to the trace.
    fn name(&self) -> &'static str;
    /// The new factor from `gram`, `cross` and `old` (column layout; see the trait's doc).
    fn update(
        &self,
        gram: ArrayView2<f64>,
        cross: ArrayView2<f64>,
        old: ArrayView2<f64>,
    ) -> Array2<f64>;
    /// The claims the rule's proof makes (checked on every iteration; the others are not
    /// applicable). By default the generic ones.
    fn claims(&self) -> Vec<Claim> {
        Claim::generic()
    }
}

/// An [`UpdateRule`] applied to V, then to U with the new V: a [`Solver`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Rule<R>(pub R);

/// One half-step of `rule` in column layout, with the checks every solver's step makes: the
/// new factor has the old one's shape, finite entries (else an overflow) and no negative
/// entry.
fn rule_half<R: UpdateRule>(
    rule: &R,
    fixed: ArrayView2<f64>,
    cross: Array2<f64>,
    old: Array2<f64>,
) -> Result<HalfStep, HalfError> {
    let gram = gram_checked(fixed)?;
    let new = rule.update(gram.view(), cross.view(), old.view());
    assert_eq!(
        new.dim(),
        old.dim(),
        "update rule `{}` returned a factor of the wrong shape",
        rule.name()
    );
    if let Some((z, i)) = first_non_finite(&[&new]) {
        return Err(HalfError::Overflow(z, i));
    }
    if let Some(((z, i), _)) = new.indexed_iter().find(|(_, x)| **x < 0.0) {
        return Err(HalfError::Negative(z, i));
    }
    Ok(HalfStep {
        gram,
        cross,
        old,
        new,
        mu: None,
        sweeps: 1,
    })
}

impl<R: UpdateRule> Solver for Rule<R> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn claims(&self) -> Vec<Claim> {
        self.0.claims()
    }

    fn step(&mut self, p: &Problem, f: &mut Factors) -> Result<Step, StepError> {
        let rule = &self.0;
        alternate(p, f, None, |fixed, cross, old, _, _| {
            rule_half(rule, fixed, cross, old)
        })
    }
}
