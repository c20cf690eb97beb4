//! Exact verification: the MU step and Lemmas 1–2 in rational arithmetic (`BigRational`), on
//! small random instances with rational entries, checked for **exact equality**.
//!
//! The formulas are the very functions of [`crate::formulas`] the `f64` solver uses,
//! instantiated with exact rationals; each is compared with the quantity it stands for,
//! computed from its *definition* (objective $\tfrac12\|M-UV\|^2$ by a full product,
//! gradient $U^\top(UV - M)$). No tolerance is involved: any mismatch is a wrong formula.
//! What this proves and what it does not: the identities hold exactly for the implemented
//! formulas on the instances checked; it says nothing about floating-point error (see
//! [`crate::claims`]) nor about instances not drawn.

use ndarray::{Array2, ArrayView2, Zip};
use ndarray_rand::rand::Rng;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use serde::Serialize;

use crate::error::{NmfError, Result};
use crate::formulas::{self, matmul};
use crate::init::{rng, ChaCha8Rng};
use crate::problem::{Factors, Problem};
use crate::solver::{HalfStep, Hals, HalsAccel, LinMu, Mu, MuEps, Solver, SolverSpec};

/// Exact rationals.
pub type Q = BigRational;

/// Settings of the exact check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExactParams {
    pub trials: usize,
    pub seed: u64,
    /// MU iterations per instance (each has two half-steps, each checked exactly; between
    /// iterations the iterate is rounded to the dyadic grid 2⁻⁶, see [`verify`]).
    pub steps: usize,
    /// Largest m and n drawn (≥ 2).
    pub max_dim: usize,
    /// The solver whose step is checked (its ε converted to a rational exactly). A floor of
    /// the entries' order (ε = ¼ against entries of order 1) exercises it; 10⁻¹⁶ never does.
    pub solver: SolverSpec,
}

impl Default for ExactParams {
    fn default() -> Self {
        ExactParams {
            trials: 200,
            seed: 0,
            steps: 2,
            max_dim: 4,
            solver: SolverSpec::Mu,
        }
    }
}

/// The largest `max_dim` accepted: exact rationals grow fast with the size (one 10×10 instance
/// of two iterations took 23 s on the development machine, a 6×6 one 0.5 s), and a larger value
/// would only look like a hang. Beyond it, the floating-point claims with derived tolerances
/// are the tool.
pub const MAX_EXACT_DIM: usize = 8;

impl ExactParams {
    /// Reject settings that check nothing (no trial, no step), that draw no valid instance
    /// (`max_dim` < 2: the draws are m, n ≥ 2), or that would not finish (`max_dim` beyond
    /// [`MAX_EXACT_DIM`]), before anything is computed or allocated.
    pub fn check(&self) -> Result<()> {
        let param = |name, message: String| Err(NmfError::Param { name, message });
        if self.trials == 0 {
            return param("trials", "must be at least 1 (0 checks nothing)".into());
        }
        if self.steps == 0 {
            return param("steps", "must be at least 1 (0 checks nothing)".into());
        }
        if self.max_dim < 2 {
            return param(
                "max_dim",
                format!("must be at least 2, got {}", self.max_dim),
            );
        }
        self.solver.check()?;
        if self.max_dim > MAX_EXACT_DIM {
            return param(
                "max_dim",
                format!(
                    "must be at most {MAX_EXACT_DIM}, got {} (exact rationals grow too fast beyond: use the floating-point claims for larger problems)",
                    self.max_dim
                ),
            );
        }
        Ok(())
    }
}

/// One identity that failed to hold exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub trial: usize,
    pub iter: usize,
    pub half: char,
    pub identity: &'static str,
    pub lhs: String,
    pub rhs: String,
}

/// What was verified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExactReport {
    pub instances: usize,
    pub half_steps: usize,
    pub identities: usize,
    /// Instances stopped early because MU was undefined (a zero denominator).
    pub undefined_steps: usize,
    /// Entries the floor lifted (ε-MU: MU's image below ε; HALS: the row minimiser below ε;
    /// Lin's MU: entries below σ with a negative gradient, V̄ ≠ V), over all half-steps checked.
    pub floored: usize,
    /// Half-steps that made more than one pass (accelerated HALS): its pass rule and the
    /// bound divided by the pass count were exercised.
    pub multi_pass: usize,
    pub mismatches: Vec<Mismatch>,
}

impl ExactReport {
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

fn q(p: i64, d: i64) -> Q {
    Q::new(BigInt::from(p), BigInt::from(d))
}

/// A random rational matrix with entries `p/q`, `p ∈ [lo, 9]`, `q ∈ [1, 4]`.
// ANCHOR: random_rational
pub fn random_rational(r: &mut ChaCha8Rng, rows: usize, cols: usize, lo: i64) -> Array2<Q> {
    Array2::from_shape_fn((rows, cols), |_| {
        q(r.random_range(lo..=9), r.random_range(1..=4))
    })
}
// ANCHOR_END: random_rational

/// Convert to `f64` (nearest), for comparisons with the floating-point solver.
pub fn to_f64(a: ArrayView2<Q>) -> Array2<f64> {
    a.map(|x| {
        use num_traits::ToPrimitive;
        x.to_f64().unwrap_or(f64::NAN)
    })
}

fn t(a: &Array2<Q>) -> Array2<Q> {
    a.t().to_owned()
}

/// Check one half-step in column layout against definitions given in the original
/// orientation by `definitional`. Returns the new factor, or `None` if MU is undefined.
struct HalfCheck<'a> {
    trial: usize,
    iter: usize,
    half: char,
    report: &'a mut ExactReport,
}

impl HalfCheck<'_> {
    fn eq(&mut self, identity: &'static str, lhs: &Q, rhs: &Q) {
        self.report.identities += 1;
        if lhs != rhs {
            self.report.mismatches.push(Mismatch {
                trial: self.trial,
                iter: self.iter,
                half: self.half,
                identity,
                lhs: lhs.to_string(),
                rhs: rhs.to_string(),
            });
        }
    }
    fn eq_arrays(&mut self, identity: &'static str, lhs: &Array2<Q>, rhs: &Array2<Q>) {
        self.holds(identity, lhs == rhs);
    }
    fn holds(&mut self, identity: &'static str, ok: bool) {
        self.report.identities += 1;
        if !ok {
            self.report.mismatches.push(Mismatch {
                trial: self.trial,
                iter: self.iter,
                half: self.half,
                identity,
                lhs: "false".into(),
                rhs: "true".into(),
            });
        }
    }
}

/// The definitional quantities of a half-step `min_W ½‖D − F W‖²` (F fixed, W updated from
/// `w` to `w_new`), all from full products.
struct Definitional {
    decrease: Q,
    step: Q,
    inner: Q,
}

fn definitional(
    data: &Array2<Q>,
    fixed: &Array2<Q>,
    w: &Array2<Q>,
    w_new: &Array2<Q>,
) -> Definitional {
    let obj = |x: &Array2<Q>| {
        formulas::objective_direct(data.view(), matmul(fixed.view(), x.view()).view())
    };
    let delta = w_new - w;
    let f_delta = matmul(fixed.view(), delta.view());
    let half = Q::one() / q(2, 1);
    // ∇(W') = Fᵀ(F W' − D)
    let resid = matmul(fixed.view(), w_new.view()) - data;
    let grad = matmul(t(fixed).view(), resid.view());
    let minus_delta = delta.mapv(|x| -x);
    Definitional {
        decrease: obj(w) - obj(w_new),
        step: half * formulas::frob_inner(f_delta.view(), f_delta.view()),
        inner: formulas::frob_inner(grad.view(), minus_delta.view()),
    }
}

/// All checks on one exact half-step `h` of `min_W ½‖D − F W‖²` in column layout, as the
/// solver took it (its own code, in rationals): `h.gram` = FᵀF, `h.cross` = FᵀD, `h.old` = W,
/// `h.new` = W'. Each solver gets the statements of its own proof: plain MU nine, ε-MU eight,
/// HALS ten (see [`check_hals_rows`]).
fn check_half(
    c: &mut HalfCheck<'_>,
    h: &HalfStep<Q>,
    data: &Array2<Q>,
    fixed: &Array2<Q>,
    solver: &ExactSolver,
) {
    let (x, a, w, w_new) = (&h.gram, &h.cross, &h.old, &h.new);
    c.report.half_steps += 1;
    let delta = w_new - w;
    let x_delta = matmul(x.view(), delta.view());
    let x_new = matmul(x.view(), w_new.view());
    let def = definitional(data, fixed, w, w_new);

    // ANCHOR: exact_identities
    // X·W: the solver's own denominator where it formed one (MU, ε-MU, Lin), else formed here.
    let x_old =
        h.mu.as_ref()
            .map_or_else(|| matmul(x.view(), w.view()), |mu| mu.denom.clone());
    let step = formulas::step(x_delta.view(), delta.view());
    let inner = formulas::inner_direct(a.view(), x_new.view(), delta.view());
    let decrease = formulas::decrease_stable(a.view(), x_old.view(), x_delta.view(), delta.view());
    let half = Q::one() / q(2, 1);

    c.eq(
        "lemma1: g(old) − g(new) = ½‖FΔ‖² + ⟨∇g(new), old − new⟩ (definitions)",
        &def.decrease,
        &(def.step.clone() + def.inner.clone()),
    );
    c.eq("step = ½‖FΔ‖²", &step, &def.step);
    c.eq("inner_direct = ⟨∇g(new), old − new⟩", &inner, &def.inner);
    c.eq(
        "decrease_stable = g(old) − g(new)",
        &decrease,
        &def.decrease,
    );
    // The decrease bound that needs no full rank: K ⪰ Diag(X) entrywise; over S passes of
    // accelerated HALS divided by S (Cauchy–Schwarz, see `HalsAccel`).
    let x_diag_min = (0..x.nrows())
        .map(|z| x[[z, z]].clone())
        .min()
        .expect("k ≥ 1");
    let passes = Q::from_integer(BigInt::from(h.sweeps));
    c.report.multi_pass += usize::from(h.sweeps > 1);
    c.holds(
        "g(old) − g(new) ≥ ½·min_z X_zz·‖Δ‖² / passes",
        def.decrease
            >= half.clone() * x_diag_min * formulas::frob_inner(delta.view(), delta.view())
                / passes,
    );
    let (kn, ratio, eps) = match (solver, &h.mu) {
        (ExactSolver::Hals(eps, accel), _) => {
            check_hals_rows(c, h, data, fixed, eps, accel.as_ref());
            return;
        }
        (ExactSolver::Mu, Some(mu)) => (
            formulas::k_norm_sq(mu.denom.view(), w.view(), delta.view()),
            &mu.ratio,
            None,
        ),
        (ExactSolver::MuEps(eps), Some(mu)) => (
            formulas::k_norm_sq(mu.denom.view(), w.view(), delta.view()),
            &mu.ratio,
            Some(eps),
        ),
        (ExactSolver::Lin(..), Some(mu)) => {
            // In Lin's own metric K̄ = D̄ ⊘ V̄: the K-identity (exact minimiser of the
            // majoriser), the K-ratio's bounds and the inner product's sign.
            let (d_bar, v_bar) = mu.metric.as_ref().expect("Lin reports its metric");
            let kn = formulas::k_norm_sq(d_bar.view(), v_bar.view(), delta.view());
            c.eq(
                "lin k_identity: g(old) − g(new) = ‖Δ‖²_K̄ − ½‖FΔ‖²",
                &def.decrease,
                &(kn.clone() - def.step.clone()),
            );
            c.holds(
                "lin: ½‖Δ‖²_K̄ ≤ g(old) − g(new) ≤ ‖Δ‖²_K̄",
                half.clone() * kn.clone() <= def.decrease && def.decrease <= kn,
            );
            c.holds("lin: ⟨∇g(new), old − new⟩ ≥ 0", def.inner >= Q::zero());
            // Entries σ lifted (V̄ ≠ V: a negative gradient at an entry below σ).
            c.report.floored += Zip::from(v_bar)
                .and(w)
                .fold(0, |n, vb, wo| n + usize::from(vb != wo));
            return;
        }
        (_, None) => unreachable!("MU and ε-MU report their denominator and ratio"),
    };
    if let Some(eps) = eps {
        // ε-MU: the majoriser's bound, sufficient decrease, and the floor.
        c.holds(
            "k_half_decrease: g(old) − g(new) ≥ ½‖Δ‖²_K",
            def.decrease >= half * kn,
        );
        c.holds(
            "sufficient_decrease: g(old) − g(new) ≥ ½‖FΔ‖²",
            def.decrease >= def.step,
        );
        c.holds(
            "floor: every entry of the new factor ≥ ε",
            w_new.iter().all(|x| x >= eps),
        );
        // How many entries the floor lifted (MU's image below ε): the floor was exercised.
        c.report.floored += Zip::from(w).and(ratio).and(w_new).fold(0, |n, wo, r, wn| {
            n + usize::from(wn == eps && wo.clone() * r.clone() < *eps)
        });
    } else {
        let closed = formulas::inner_closed(x.view(), w.view(), ratio.view());
        c.eq(
            "lemma2: ⟨∇g(new), old − new⟩ = ratio closed form",
            &def.inner,
            &closed,
        );
        c.holds("closed form ≥ 0", closed >= Q::zero());
        // K-ratio in [½, 1]: ½‖Δ‖²_K ≤ decrease ≤ ‖Δ‖²_K.
        c.holds(
            "½‖Δ‖²_K ≤ g(old) − g(new) ≤ ‖Δ‖²_K",
            half.clone() * kn.clone() <= def.decrease && def.decrease <= kn,
        );
        // The K-identity itself, of which the K-ratio bounds are consequences.
        c.eq(
            "k_identity: g(old) − g(new) = ‖Δ‖²_K − ½‖FΔ‖²",
            &def.decrease,
            &(kn.clone() - def.step.clone()),
        );
    }
    // ANCHOR_END: exact_identities
}

/// HALS's own statements, row by row: the half-step is replayed with the solver's own row
/// update ([`crate::solver::hals_row`]) from `h.old`, pass after pass (`h.sweeps` of them:
/// one for HALS); for each row z of each pass, with $v^\star$ the row's unconstrained
/// minimiser, the decrease of the objective (by its definition, a full product) equals
/// $\tfrac{X_{zz}}2(\|v - v^\star\|^2 - \|v' - v^\star\|^2)$ and is at least
/// $\tfrac{X_{zz}}2\|v - v'\|^2$; the replay ends at `h.new`; every entry is ≥ ε. For
/// accelerated HALS (`accel` = its α and δ), the pass count follows its rule: at most
/// [`crate::solver::hals_accel_sweeps`], every pass but the last moved the factor by more
/// than δ times the first, and the last one by at most that unless it was the last allowed.
fn check_hals_rows(
    c: &mut HalfCheck<'_>,
    h: &HalfStep<Q>,
    data: &Array2<Q>,
    fixed: &Array2<Q>,
    eps: &Q,
    accel: Option<&(f64, Q)>,
) {
    let (x, a) = (&h.gram, &h.cross);
    let half = Q::one() / q(2, 1);
    let obj = |w: &Array2<Q>| {
        formulas::objective_direct(data.view(), matmul(fixed.view(), w.view()).view())
    };
    let sq = |v: &Array2<Q>| formulas::frob_inner(v.view(), v.view());
    let mut cur = h.old.clone();
    let (mut identity_ok, mut bound_ok) = (true, true);
    let mut pass_sq = Vec::with_capacity(h.sweeps);
    for _ in 0..h.sweeps {
        let start = cur.clone();
        for z in 0..cur.nrows() {
            let before = cur.clone();
            // v* = v + (a_z − (X·cur)_z)/X_zz, the row's unconstrained minimiser.
            let xc = matmul(x.view(), cur.view());
            let xzz = x[[z, z]].clone();
            let v_star = Zip::from(before.row(z))
                .and(a.row(z))
                .and(xc.row(z))
                .map_collect(|v, a, xv| v.clone() + (a.clone() - xv.clone()) / xzz.clone());
            crate::solver::hals_row(x.view(), a.view(), &mut cur, z, eps)
                .expect("the solver's step succeeded, so X_zz ≠ 0");
            let (v, vn) = (before.row(z).to_owned(), cur.row(z).to_owned());
            c.report.floored += Zip::from(&vn)
                .and(&v_star)
                .fold(0, |n, a, b| n + usize::from(a == eps && b < eps));
            let to2 = |x: ndarray::Array1<Q>| x.insert_axis(ndarray::Axis(0));
            let decrease = obj(&before) - obj(&cur);
            let rhs =
                half.clone() * xzz.clone() * (sq(&to2(&v - &v_star)) - sq(&to2(&vn - &v_star)));
            identity_ok &= decrease == rhs;
            bound_ok &= decrease >= half.clone() * xzz * sq(&to2(&v - &vn));
        }
        pass_sq.push(sq(&(&cur - &start)));
    }
    c.holds(
        "hals row identity: g(before) − g(after) = ½X_zz(‖v − v*‖² − ‖v' − v*‖²), every row",
        identity_ok,
    );
    c.holds(
        "hals row bound: g(before) − g(after) ≥ ½X_zz‖v − v'‖², every row",
        bound_ok,
    );
    c.eq_arrays(
        "the row-by-row replay ends at the solver's new factor",
        &cur,
        &h.new,
    );
    c.holds(
        "floor: every entry of the new factor ≥ ε",
        h.new.iter().all(|x| x >= eps),
    );
    match accel {
        None => c.holds("hals makes one pass", h.sweeps == 1),
        Some((alpha, delta)) => {
            let (k, n) = h.old.dim();
            // `fixed` is P×k here (F of ½‖D − FW‖²).
            let max = crate::solver::hals_accel_sweeps(fixed.nrows(), n, k, *alpha);
            let limit = |first: &Q| delta.clone() * delta.clone() * first.clone();
            let first = &pass_sq[0];
            // Pass l ≥ 2 ends the loop iff ‖Δ⁽ˡ⁾‖² ≤ δ²‖Δ⁽¹⁾‖²; a first pass that does not
            // move ends it at once.
            let ends = |l: usize| {
                if l == 0 {
                    first.is_zero()
                } else {
                    pass_sq[l] <= limit(first)
                }
            };
            let s = h.sweeps;
            let rule =
                s >= 1 && s <= max && (0..s - 1).all(|l| !ends(l)) && (s == max || ends(s - 1));
            c.holds(
                "hals-accel pass count: at most ⌊1 + αρ⌋, stopped at the first pass with ‖Δ⁽ˡ⁾‖ ≤ δ‖Δ⁽¹⁾‖",
                rule,
            );
        }
    }
}

/// The solver of an exact check, in rationals.
enum ExactSolver {
    Mu,
    MuEps(Q),
    /// ε, and accelerated HALS's α and δ.
    Hals(Q, Option<(f64, Q)>),
    /// σ, δ.
    Lin(Q, Q),
}

impl ExactSolver {
    /// The floor ε the solver keeps its iterates at or above, if any.
    fn floor(&self) -> Option<&Q> {
        match self {
            ExactSolver::MuEps(eps) | ExactSolver::Hals(eps, _) => Some(eps),
            ExactSolver::Mu | ExactSolver::Lin(..) => None,
        }
    }
}

/// Round every entry to the nearest multiple of 2⁻⁶.
// ANCHOR: round_dyadic
pub fn round_dyadic(a: &Array2<Q>) -> Array2<Q> {
    let scale = Q::from_integer(BigInt::from(1u64 << 6));
    a.mapv(|x| (x * &scale).round() / &scale)
}
// ANCHOR_END: round_dyadic

/// Run the exact check; an error only for invalid settings ([`ExactParams::check`]).
pub fn verify(params: ExactParams) -> Result<ExactReport> {
    params.check()?;
    let mut report = ExactReport::default();
    let exact_q = |e: f64| Q::from_float(e).expect("ε is finite (checked)");
    let solver = match params.solver {
        SolverSpec::Mu => ExactSolver::Mu,
        SolverSpec::MuEps { eps } => ExactSolver::MuEps(exact_q(eps)),
        SolverSpec::Hals { eps } => ExactSolver::Hals(exact_q(eps), None),
        SolverSpec::HalsAccel { eps, alpha, delta } => {
            ExactSolver::Hals(exact_q(eps), Some((alpha, exact_q(delta))))
        }
        SolverSpec::MuLin { sigma, delta } => ExactSolver::Lin(exact_q(sigma), exact_q(delta)),
    };
    let mut r = rng(params.seed);
    let max_dim = params.max_dim;
    for trial in 0..params.trials {
        let m = r.random_range(2..=max_dim);
        let n = r.random_range(2..=max_dim);
        let k = r.random_range(1..=m.min(n));
        // M may hold zeros (entries 0..9); the factors are positive.
        let data = random_rational(&mut r, m, n, 0);
        let mut u = random_rational(&mut r, m, k, 1);
        let mut v = random_rational(&mut r, k, n, 1);
        report.instances += 1;
        let data_t = t(&data);
        let problem = Problem::exact(data.clone(), k)?;
        for iter in 0..params.steps {
            // One iteration of the solver itself, in rationals.
            let mut f = Factors {
                u: u.clone(),
                v: v.clone(),
            };
            let taken = match &solver {
                ExactSolver::Mu => Solver::<Q>::step(&mut Mu, &problem, &mut f),
                ExactSolver::MuEps(eps) => MuEps { eps: eps.clone() }.step(&problem, &mut f),
                ExactSolver::Hals(eps, None) => Hals { eps: eps.clone() }.step(&problem, &mut f),
                ExactSolver::Hals(eps, Some((alpha, delta))) => HalsAccel {
                    eps: eps.clone(),
                    alpha: *alpha,
                    delta: delta.clone(),
                }
                .step(&problem, &mut f),
                ExactSolver::Lin(sigma, delta) => LinMu {
                    sigma: sigma.clone(),
                    delta: delta.clone(),
                }
                .step(&problem, &mut f),
            };
            let Ok(step) = taken else {
                report.undefined_steps += 1;
                break;
            };
            for (half, h, d, fixed) in [
                ('V', &step.v, &data, u.clone()),
                // U half-step on the transposed problem ½‖Mᵀ − V'ᵀUᵀ‖², columns of Uᵀ = rows
                // of U.
                ('U', &step.u, &data_t, t(&step.v.new)),
            ] {
                let mut c = HalfCheck {
                    trial,
                    iter,
                    half,
                    report: &mut report,
                };
                check_half(&mut c, h, d, &fixed, &solver);
            }
            // Exact iterates grow fast (thousands of digits after two exact steps), so the next
            // step starts from the iterate rounded to the dyadic grid 2⁻⁶. This loses nothing:
            // Lemmas 1–2 are statements about one step from *any* non-negative point, and each
            // step is still checked exactly from the rational point it starts from. A floored
            // solver's statements are about steps from a *feasible* point (every entry ≥ ε:
            // HALS's row bound rests on it), so its rounded iterate is lifted back to ε where
            // rounding took it below (a grid of 2⁻⁶ rounds ε = 10⁻¹⁶ to 0).
            let lift = |a: Array2<Q>| match solver.floor() {
                Some(eps) => a.mapv(|x| if x < *eps { eps.clone() } else { x }),
                None => a,
            };
            v = lift(round_dyadic(&f.v));
            u = lift(round_dyadic(&f.u));
        }
    }
    Ok(report)
}

/// A certificate, in exact arithmetic, that plain MU can stall at a point that is not a KKT
/// point: an instance whose start is an **exact fixed point** of MU's own step
/// ([`Mu`], run in rationals) while the gradient at a zero entry of V is **negative**, so the
/// KKT condition $\min(V, \nabla_V f) = 0$ fails there. It turns the zero-locking chapter's
/// observation into a proof.
///
/// The instance (k = 2): $U = \begin{pmatrix}1&1\\1&2\end{pmatrix}$,
/// $V = \begin{pmatrix}1&1&1\\0&0&1\end{pmatrix}$, $M = UV + N$ with
/// $N = t\,(1, -1, 0)$, $t = (-\tfrac12, \tfrac12)^\top$. Its construction: at a fixed point
/// with $U > 0$, $S = 1$ forces $NV^\top = 0$, and $R = 1$ forces the negative gradient
/// $W = U^\top N$ to vanish where $V > 0$; then $WV^\top = U^\top N V^\top = 0$ shows that a
/// row of V with a single zero cannot carry a negative gradient there (the zero's column of V
/// would have to vanish, and MU would be undefined). With **two** zeros in row 2, the gradient
/// can be negative at one and positive at the other: here $-\tfrac12$ at $(2, 1)$ and
/// $+\tfrac12$ at $(2, 2)$. Every entry is dyadic, so the `f64` run is exact too: it stalls at
/// iteration 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StallCertificate {
    /// `M`, `U`, `V` as exact fractions, row by row.
    pub m: Vec<Vec<String>>,
    pub u: Vec<Vec<String>>,
    pub v: Vec<Vec<String>>,
    /// MU's step maps (U, V) to itself, exactly.
    pub fixed_point: bool,
    /// The zero entry of V (1-based row, column) and $\nabla_V f$ there, exactly.
    pub zero_at: (usize, usize),
    pub gradient_at_zero: String,
    /// $\nabla_V f$ there is negative: the KKT conditions fail, so the fixed point is not
    /// stationary.
    pub not_kkt: bool,
    /// $\|\min(V, \nabla_V f)\|_F^2 + \|\min(U, \nabla_U f)\|_F^2$, exactly (the squared KKT
    /// residual at the fixed point).
    pub kkt_sq: String,
}

impl StallCertificate {
    /// Both facts hold: an exact fixed point of MU that is not a KKT point.
    pub fn ok(&self) -> bool {
        self.fixed_point && self.not_kkt
    }
}

/// Build and check the certificate of [`StallCertificate`].
pub fn stall_certificate() -> StallCertificate {
    let mat = |rows: &[&[(i64, i64)]]| {
        let (r, c) = (rows.len(), rows[0].len());
        Array2::from_shape_fn((r, c), |(i, j)| q(rows[i][j].0, rows[i][j].1))
    };
    let u = mat(&[&[(1, 1), (1, 1)], &[(1, 1), (2, 1)]]);
    let v = mat(&[&[(1, 1), (1, 1), (1, 1)], &[(0, 1), (0, 1), (1, 1)]]);
    let n = mat(&[&[(-1, 2), (1, 2), (0, 1)], &[(1, 2), (-1, 2), (0, 1)]]);
    let m = matmul(u.view(), v.view()) + &n;
    let problem = Problem::exact(m.clone(), 2).expect("M ≥ 0, not zero, k = 2");
    let start = Factors {
        u: u.clone(),
        v: v.clone(),
    };
    let mut f = start.clone();
    let fixed_point = Solver::<Q>::step(&mut Mu, &problem, &mut f).is_ok() && f == start;
    // ∇_V f = UᵀUV − UᵀM, ∇_U f = UVVᵀ − MVᵀ, exactly.
    let ut = t(&u);
    let grad_v = matmul(matmul(ut.view(), u.view()).view(), v.view()) - matmul(ut.view(), m.view());
    let vvt = matmul(v.view(), t(&v).view());
    let grad_u = matmul(u.view(), vvt.view()) - matmul(m.view(), t(&v).view());
    let zero_at = (1, 0);
    let g = grad_v[zero_at].clone();
    let min_sq = |x: &Array2<Q>, gr: &Array2<Q>| {
        Zip::from(x).and(gr).fold(Q::zero(), |s, a, b| {
            let e = if a < b { a.clone() } else { b.clone() };
            s + e.clone() * e
        })
    };
    let show = |a: &Array2<Q>| {
        a.rows()
            .into_iter()
            .map(|r| r.iter().map(|x| x.to_string()).collect())
            .collect()
    };
    StallCertificate {
        m: show(&m),
        u: show(&u),
        v: show(&v),
        fixed_point,
        zero_at: (zero_at.0 + 1, zero_at.1 + 1),
        gradient_at_zero: g.to_string(),
        not_kkt: v[zero_at].is_zero() && g < Q::zero(),
        kkt_sq: (min_sq(&v, &grad_v) + min_sq(&u, &grad_u)).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_hold_exactly_on_many_instances() {
        let rep = verify(ExactParams {
            trials: 60,
            seed: 7,
            steps: 2,
            max_dim: 4,
            solver: SolverSpec::Mu,
        })
        .unwrap();
        assert!(rep.ok(), "{:?}", rep.mismatches.first());
        assert_eq!(rep.instances, 60);
        // Every instance contributes 2 iterations × 2 half-steps unless MU became undefined,
        // which ends that instance early.
        assert!(rep.half_steps <= 4 * 60 && rep.half_steps >= 4 * (60 - rep.undefined_steps));
        assert!(rep.half_steps > 200, "most instances are fully checked");
        // Nine per half-step: the five equalities, the K-identity and three inequalities.
        assert_eq!(rep.identities, 9 * rep.half_steps);
    }

    #[test]
    fn eps_mu_claims_hold_exactly_with_the_floor_exercised() {
        // ε = ¼ against entries drawn as multiples of 1/64 up to about 10: MU's image falls
        // below the floor somewhere on most instances, so the floor is exercised, not vacuous.
        let rep = verify(ExactParams {
            trials: 60,
            seed: 7,
            steps: 2,
            max_dim: 4,
            solver: SolverSpec::MuEps { eps: 0.25 },
        })
        .unwrap();
        assert!(rep.ok(), "{:?}", rep.mismatches.first());
        assert!(rep.floored > 0, "the floor was never active");
        assert!(rep.half_steps > 200);
        // Eight per half-step: four equalities (Lemma 1 and three formulas against their
        // definitions) and four inequalities (the diagonal bound, the K-half bound, sufficient
        // decrease, the floor).
        assert_eq!(rep.identities, 8 * rep.half_steps);
    }

    #[test]
    fn an_entry_below_the_floor_is_an_exact_mismatch() {
        let mut r = rng(5);
        let data = random_rational(&mut r, 3, 3, 1);
        let f0 = Factors {
            u: random_rational(&mut r, 3, 2, 1),
            v: random_rational(&mut r, 2, 3, 1),
        };
        let p = Problem::exact(data.clone(), 2).unwrap();
        let eps = q(1, 4);
        let mut f = f0.clone();
        let mut step = MuEps { eps: eps.clone() }.step(&p, &mut f).unwrap();
        let mut report = ExactReport::default();
        let mut c = HalfCheck {
            trial: 0,
            iter: 0,
            half: 'V',
            report: &mut report,
        };
        let solver = ExactSolver::MuEps(eps.clone());
        check_half(&mut c, &step.v, &data, &f0.u, &solver);
        assert!(report.ok(), "{:?}", report.mismatches);
        // One entry an eighth below the floor: the floor check sees it, exactly.
        step.v.new[[0, 0]] = eps.clone() - q(1, 32);
        let mut c = HalfCheck {
            trial: 0,
            iter: 0,
            half: 'V',
            report: &mut report,
        };
        check_half(&mut c, &step.v, &data, &f0.u, &solver);
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| m.identity.starts_with("floor")),
            "{:?}",
            report.mismatches
        );
    }

    #[test]
    fn hals_row_identities_hold_exactly_with_the_floor_exercised() {
        let rep = verify(ExactParams {
            trials: 60,
            seed: 7,
            steps: 2,
            max_dim: 4,
            solver: SolverSpec::Hals { eps: 0.25 },
        })
        .unwrap();
        assert!(rep.ok(), "{:?}", rep.mismatches.first());
        assert!(rep.floored > 0, "the floor was never active");
        assert!(rep.half_steps > 200);
        // Ten per half-step: Lemma 1 and three formulas against their definitions, the
        // diagonal bound, and HALS's own: the row identity and row bound (each over every row),
        // the replay, the floor, the single pass: 4 + 1 + 5.
        assert_eq!(rep.identities, 10 * rep.half_steps);
    }

    #[test]
    fn accelerated_hals_passes_hold_exactly_and_several_passes_are_made() {
        for eps in [0.25, 1e-16] {
            let rep = verify(ExactParams {
                trials: 20,
                solver: SolverSpec::HalsAccel {
                    eps,
                    alpha: 0.5,
                    delta: 0.1,
                },
                ..Default::default()
            })
            .unwrap();
            assert!(rep.ok(), "ε = {eps}: {:#?}", rep.mismatches);
            assert_eq!(rep.half_steps, 20 * 2 * 2, "every step defined");
            // Both the pass rule and the divided bound were exercised.
            assert!(rep.multi_pass > 0, "ε = {eps}: no multi-pass half-step");
        }
    }

    #[test]
    fn a_hals_step_that_is_not_the_row_by_row_minimiser_is_an_exact_mismatch() {
        let mut r = rng(6);
        let data = random_rational(&mut r, 3, 4, 1);
        let f0 = Factors {
            u: random_rational(&mut r, 3, 2, 1),
            v: random_rational(&mut r, 2, 4, 1),
        };
        let p = Problem::exact(data.clone(), 2).unwrap();
        let eps = q(1, 64);
        let solver = ExactSolver::Hals(eps.clone(), None);
        let mut f = f0.clone();
        let mut step = Hals { eps: eps.clone() }.step(&p, &mut f).unwrap();
        let mut report = ExactReport::default();
        let check = |report: &mut ExactReport, h: &HalfStep<Q>| {
            let mut c = HalfCheck {
                trial: 0,
                iter: 0,
                half: 'V',
                report,
            };
            check_half(&mut c, h, &data, &f0.u, &solver);
        };
        check(&mut report, &step.v);
        assert!(report.ok(), "{:?}", report.mismatches);
        // Half the step on one entry: no longer the solver's row-by-row minimiser.
        let (a, b) = (step.v.old[[1, 2]].clone(), step.v.new[[1, 2]].clone());
        step.v.new[[1, 2]] = (a + b) / q(2, 1);
        check(&mut report, &step.v);
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| m.identity.contains("replay")),
            "{:?}",
            report.mismatches
        );
    }

    #[test]
    fn plain_mu_has_an_exact_fixed_point_that_is_not_kkt() {
        let c = stall_certificate();
        assert!(c.fixed_point, "{c:?}");
        assert!(c.not_kkt, "{c:?}");
        assert_eq!(c.gradient_at_zero, "-1/2");
        // Only the locked zero violates the KKT conditions: the residual is |−½|.
        assert_eq!(c.kkt_sq, "1/4");
        // The same point in f64 (every entry dyadic, so exact): the run stalls at once, with
        // that residual.
        let to = |rows: &Vec<Vec<String>>| {
            let (r, c) = (rows.len(), rows[0].len());
            Array2::from_shape_fn((r, c), |(i, j)| {
                let x: Q = rows[i][j].parse().unwrap();
                num_traits::ToPrimitive::to_f64(&x).unwrap()
            })
        };
        let p = crate::Problem::new(to(&c.m), 2).unwrap();
        let f = crate::Factors {
            u: to(&c.u),
            v: to(&c.v),
        };
        let fit = crate::run(&p, f, &mut Mu, &crate::RunParams::default(), |_| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(fit.stop, crate::StopReason::Stalled { iter: 0 });
        assert_eq!(fit.final_kkt, 0.5);
        // A perturbed start is no fixed point: the certificate's check is not vacuous.
        let mut g = crate::Factors {
            u: to(&c.u),
            v: to(&c.v),
        };
        g.v[[0, 0]] = 1.25;
        let before = g.clone();
        Mu.step(&p, &mut g).unwrap();
        assert_ne!(g, before);
    }

    #[test]
    fn lins_claims_hold_exactly_in_its_metric() {
        // σ = ¼ against entries of order 1: the lift of entries with a negative gradient is
        // exercised (the data hold zeros, so such entries arise); δ = 1/64.
        let rep = verify(ExactParams {
            trials: 60,
            seed: 7,
            steps: 2,
            max_dim: 4,
            solver: SolverSpec::MuLin {
                sigma: 0.25,
                delta: 1.0 / 64.0,
            },
        })
        .unwrap();
        assert!(rep.ok(), "{:?}", rep.mismatches.first());
        assert!(rep.half_steps > 200);
        assert!(rep.floored > 0, "σ never lifted an entry");
        // Eight per half-step: the four definitions, the diagonal bound, the K̄-identity, the
        // K̄-ratio's bounds and the inner product's sign.
        assert_eq!(rep.identities, 8 * rep.half_steps);
    }

    #[test]
    fn settings_that_check_nothing_or_would_not_finish_are_refused() {
        let ok = ExactParams::default();
        ok.check().unwrap();
        for (bad, name) in [
            (ExactParams { trials: 0, ..ok }, "trials"),
            (ExactParams { steps: 0, ..ok }, "steps"),
            (ExactParams { max_dim: 1, ..ok }, "max_dim"),
            (
                ExactParams {
                    solver: SolverSpec::MuEps { eps: 0.0 },
                    ..ok
                },
                "eps",
            ),
            (
                ExactParams {
                    solver: SolverSpec::Hals { eps: f64::NAN },
                    ..ok
                },
                "eps",
            ),
            (
                ExactParams {
                    max_dim: 100_000,
                    ..ok
                },
                "max_dim",
            ),
            (
                ExactParams {
                    max_dim: usize::MAX,
                    ..ok
                },
                "max_dim",
            ),
        ] {
            let e = verify(bad).unwrap_err();
            assert!(e.to_string().contains(name), "{e}");
        }
    }

    #[test]
    fn a_wrong_formula_is_an_exact_mismatch() {
        // The check is sharp: the closed form without its ½ differs from the direct inner
        // product on any instance with a non-zero step.
        let mut r = rng(3);
        let data = random_rational(&mut r, 3, 3, 1);
        let u = random_rational(&mut r, 3, 2, 1);
        let v = random_rational(&mut r, 2, 3, 1);
        let x = matmul(t(&u).view(), u.view());
        let a = matmul(t(&u).view(), data.view());
        let d = matmul(x.view(), v.view());
        let (ratio, v_new) = formulas::mu_update(a.view(), d.view(), v.view(), &[]).unwrap();
        let def = definitional(&data, &u, &v, &v_new);
        let closed = formulas::inner_closed(x.view(), v.view(), ratio.view());
        assert_eq!(def.inner, closed);
        assert_ne!(def.inner, closed.clone() + closed);
    }

    #[test]
    fn float_mu_step_agrees_with_the_exact_step_to_gamma() {
        // All sums in MU have non-negative terms, so each computed entry carries a relative
        // error ≤ γ_N (Higham §3.1): X, A: γ_m; D = XV: γ_{m+k}; R: γ_{2m+k+1}; V': γ_{2m+k+2},
        // plus one rounding of each input (3u) — γ_{2m+k+10} covers the V half-step. The U
        // half-step adds V's error three times (numerator once, denominator twice).
        let mut r = rng(11);
        for _ in 0..20 {
            let (m, n, k) = (4, 3, 2);
            let data = random_rational(&mut r, m, n, 1);
            let u = random_rational(&mut r, m, k, 1);
            let v = random_rational(&mut r, k, n, 1);
            // The same solver code, in rationals: the exact image of one iteration.
            let mut exact = Factors {
                u: u.clone(),
                v: v.clone(),
            };
            let pq = Problem::exact(data.clone(), k).unwrap();
            Solver::<Q>::step(&mut Mu, &pq, &mut exact).unwrap();
            let (v_new, u_new) = (exact.v, exact.u);

            let p = crate::Problem::new(to_f64(data.view()), k).unwrap();
            let mut f = crate::Factors {
                u: to_f64(u.view()),
                v: to_f64(v.view()),
            };
            Mu.step(&p, &mut f).unwrap();
            let tol_v = crate::roundoff::gamma(2 * m + k + 10);
            let tol_u = 3.0 * tol_v + crate::roundoff::gamma(2 * n + k + 10);
            for (got, want) in f.v.iter().zip(to_f64(v_new.view()).iter()) {
                assert!((got - want).abs() <= tol_v * want, "V: {got} vs {want}");
            }
            for (got, want) in f.u.iter().zip(to_f64(u_new.view()).iter()) {
                assert!((got - want).abs() <= tol_u * want, "U: {got} vs {want}");
            }
        }
    }
}
