//! The loss a method minimises, as a type of its own: its objective (from the half-steps'
//! products and by a pass over `M`), its gradients, the KKT residual, and the per-half-step
//! quantities of the proof (Lemma 1 and what follows from it). The driver ([`crate::run()`])
//! reaches the loss only through [`Loss`], so a second loss (KL, β-divergences) is a second
//! implementation, not a change of the driver.
//!
//! [`Frobenius`], $f(U, V) = \tfrac12\|M - UV\|_F^2$, is the loss of Lee and Seung's
//! Theorem 1 (NIPS 2001) and of every solver here; its formulas are in [`crate::formulas`]
//! and [`crate::diagnostics`].

use ndarray::{Array2, ArrayView2};

use crate::diagnostics::{self, DiagWork, HalfDiag};
use crate::formulas;
use crate::problem::{Factors, Problem};
use crate::roundoff::gamma;
use crate::scaling;
use crate::solver::{HalfStep, Step};

/// A loss $f(U, V)$ minimised over $U, V \ge 0$ by alternating half-steps.
pub trait Loss {
    /// A short stable name.
    fn name(&self) -> &'static str;

    /// $f(U, V)$ by its definition (one pass over `M`).
    fn objective_direct(&self, p: &Problem, f: &Factors) -> f64;

    /// [`Loss::objective_direct`] with a buffer kept across iterations (the driver's; the
    /// same value). By default `objective_direct`.
    fn objective_direct_with(&self, p: &Problem, f: &Factors, buf: &mut Array2<f64>) -> f64 {
        let _ = buf;
        self.objective_direct(p, f)
    }

    /// $f(U_k, V_k)$ and its round-off scale $s_k$ from the products the V half-step formed
    /// (no pass over `M`).
    fn objective_from_step(&self, p: &Problem, v_half: &HalfStep) -> (f64, f64);

    /// [`Loss::objective_from_step`] with the arrays it forms kept in `work` across
    /// iterations (the driver's; the same values). By default `objective_from_step`.
    fn objective_from_step_with(
        &self,
        p: &Problem,
        v_half: &HalfStep,
        work: &mut DiagWork,
    ) -> (f64, f64) {
        let _ = work;
        self.objective_from_step(p, v_half)
    }

    /// $f(U_k, V_{k+1})$, between the two half-steps, from the products of the whole step.
    fn objective_between(&self, p: &Problem, step: &Step) -> f64;

    /// $\nabla_V f(U, V)$.
    fn grad_v(&self, p: &Problem, f: &Factors) -> Array2<f64>;

    /// $\nabla_U f(U, V)$.
    fn grad_u(&self, p: &Problem, f: &Factors) -> Array2<f64>;

    /// The quantities of one half-step (Lemma 1's terms, θ, the KKT parts at both ends, and,
    /// for a multiplicative step, Lemma 2 and the K-metric); `note` adds the seed note's form.
    fn half_step(&self, h: &HalfStep, note: bool) -> HalfDiag;

    /// [`Loss::half_step`] with the arrays it forms kept in `work` across iterations (the
    /// driver's; the same values). By default `half_step`.
    fn half_step_with(&self, h: &HalfStep, note: bool, work: &mut DiagWork) -> HalfDiag {
        let _ = work;
        self.half_step(h, note)
    }

    /// The KKT residual $\|\min(U, \nabla_U f)\|_F + \|\min(V, \nabla_V f)\|_F$ (one pass over
    /// `M`).
    fn kkt_residual(&self, p: &Problem, f: &Factors) -> f64 {
        self.kkt_u(p, f) + diagnostics::kkt_part(f.v.view(), self.grad_v(p, f).view())
    }

    /// The level of the computed KKT residual that round-off alone explains: an upper bound on
    /// [`Loss::kkt_residual`] (and on [`Loss::kkt_residual_floor`] for iterates ≥ ε) as
    /// computed at an exact KKT point near `f`, from the rounding of the gradient. A residual
    /// at or below it is converged as far as double precision can tell.
    fn kkt_roundoff(&self, p: &Problem, f: &Factors) -> f64;

    /// The KKT residual of the problem with the floor ε, $\min_{U, V \ge \varepsilon} f$:
    /// $\|\min(U - \varepsilon, \nabla_U f)\|_F + \|\min(V - \varepsilon, \nabla_V f)\|_F$
    /// ([`diagnostics::kkt_part_floor`]; one pass over `M`).
    fn kkt_residual_floor(&self, p: &Problem, f: &Factors, eps: f64) -> f64 {
        diagnostics::kkt_part_floor(f.u.view(), self.grad_u(p, f).view(), eps)
            + diagnostics::kkt_part_floor(f.v.view(), self.grad_v(p, f).view(), eps)
    }

    /// The U part of [`Loss::kkt_residual`].
    fn kkt_u(&self, p: &Problem, f: &Factors) -> f64 {
        diagnostics::kkt_part(f.u.view(), self.grad_u(p, f).view())
    }
}

/// $f(U, V) = \tfrac12\|M - UV\|_F^2$. Each half-problem is a quadratic:
/// $g(V) = \tfrac12\|M - UV\|^2$ with Hessian $X = U^\top U$, gradient $XV - U^\top M$.
#[derive(Debug, Clone, Copy, Default)]
pub struct Frobenius;

impl Loss for Frobenius {
    fn name(&self) -> &'static str {
        "frobenius"
    }

    fn objective_direct(&self, p: &Problem, f: &Factors) -> f64 {
        self.objective_direct_with(p, f, &mut Array2::zeros((0, 0)))
    }

    fn objective_direct_with(&self, p: &Problem, f: &Factors, buf: &mut Array2<f64>) -> f64 {
        diagnostics::objective_direct_streamed(p.m(), f.u.view(), f.v.view(), buf)
    }

    fn objective_from_step(&self, p: &Problem, v_half: &HalfStep) -> (f64, f64) {
        diagnostics::objective_gram_scaled(
            p.m_norm_sq(),
            v_half.cross.view(),
            v_half.old.view(),
            v_half.gram.view(),
        )
    }

    fn objective_between(&self, p: &Problem, step: &Step) -> f64 {
        // ⟨X, V'V'ᵀ⟩ with V'V'ᵀ the U half-step's Gram matrix: no product is formed anew.
        formulas::objective_gram(
            p.m_norm_sq(),
            step.v.cross.view(),
            step.v.new.view(),
            step.v.gram.view(),
            step.u.gram.view(),
        )
    }

    fn grad_v(&self, p: &Problem, f: &Factors) -> Array2<f64> {
        let m: ArrayView2<f64> = p.m();
        f.u.t().dot(&f.u).dot(&f.v) - f.u.t().dot(&m)
    }

    fn grad_u(&self, p: &Problem, f: &Factors) -> Array2<f64> {
        f.u.dot(&f.v.dot(&f.v.t())) - p.m().dot(&f.v.t())
    }

    /// The gradient $\nabla_V f = (U^\top U)V - U^\top M$ is formed as $\hat X V - \widehat{U^\top
    /// M}$: $|\hat X - U^\top U| \le \gamma_m|U|^\top|U|$, the product with $V$ adds
    /// $\gamma_k$, $U^\top M$ carries $\gamma_m|U|^\top|M|$ and the difference one rounding
    /// $u|\hat g|$, so entrywise (Higham, *Accuracy and Stability of Numerical Algorithms*,
    /// 2nd ed., §3.5)
    /// $$|\hat g - g| \le \gamma_{m+k+1}\big(|U|^\top|U|\,|V| + |U|^\top|M|\big) =: E_V .$$
    /// At a KKT point an entry with $v > 0$ has $g = 0$ and one with $v = 0$ has $g \ge 0$, so
    /// $|\min(v, \hat g)| \le (E_V)_{zi}$ either way (likewise with $v - \varepsilon$ for the
    /// floored problem). With $E_U$ the same for $U$ ($\gamma_{n+k+1}$,
    /// $|U|\,|V||V|^\top + |M||V|^\top$), the residual computed there is at most
    /// $(\|E_U\|_F + \|E_V\|_F)(1 + \gamma_{k(m+n)})$, the last factor for the norms' own
    /// rounding.
    fn kkt_roundoff(&self, p: &Problem, f: &Factors) -> f64 {
        let (m, n) = p.m().dim();
        let k = p.rank();
        let (ua, va, ma) = (f.u.mapv(f64::abs), f.v.mapv(f64::abs), p.m().mapv(f64::abs));
        let e_v = (ua.t().dot(&ua).dot(&va) + ua.t().dot(&ma)) * gamma(m + k + 1);
        let e_u = (ua.dot(&va.dot(&va.t())) + ma.dot(&va.t())) * gamma(n + k + 1);
        (scaling::norm2(e_u.iter().copied()) + scaling::norm2(e_v.iter().copied()))
            * (1.0 + gamma(k * (m + n)))
    }

    fn half_step(&self, h: &HalfStep, note: bool) -> HalfDiag {
        diagnostics::half_step(h, note)
    }

    fn half_step_with(&self, h: &HalfStep, note: bool, work: &mut DiagWork) -> HalfDiag {
        diagnostics::half_step_with(h, note, work)
    }

    fn objective_from_step_with(
        &self,
        p: &Problem,
        v_half: &HalfStep,
        work: &mut DiagWork,
    ) -> (f64, f64) {
        diagnostics::objective_gram_scaled_with(
            p.m_norm_sq(),
            v_half.cross.view(),
            v_half.old.view(),
            v_half.gram.view(),
            work,
        )
    }
}
