//! Evidence for Chapter 5 about zero entries: the sign of the gradient at locked zeros, and the
//! terms of the zero denominator that stops the block run.
//!
//! The gradient of a half-step is MU's denominator minus its numerator, $\nabla g = XV - A$,
//! exactly as the driver forms it for the KKT residual; it is read off one more MU step from a
//! run's final factors ([`Mu::step`]), together with MU's ratio $R = A \oslash (XV)$ there
//! ($R > 1$ exactly when the gradient is negative). The block run's failing step cannot be
//! taken by the solver (that is why the run stopped), so its denominator is re-formed from the
//! last factors with the solver's own products and update ([`formulas::mu_update`]), to show
//! which terms vanish.

use std::fmt::Write as _;

use nmf_core::formulas;
use nmf_core::ndarray::Array2;
use nmf_core::scaling::{ldexp, pow2};
use nmf_core::{EventKind, Mu, Outcome, Problem, Solver, Step, StopReason, Which};

use crate::{pretty, superscript};

/// One more MU step from the final factors of a run (`None` if MU is undefined there).
fn next_step(o: &Outcome) -> Result<Step, String> {
    let p = Problem::new(o.data.clone(), o.experiment.k).map_err(|e| e.to_string())?;
    let mut f = o.fit.factors.clone();
    Mu.step(&p, &mut f)
        .map_err(|e| format!("one more MU step from the final factors failed: {e:?}"))
}

/// Facts about the zeros of the `locked` run: the gradient and MU's ratio at the entry of V
/// locked by the start, and at the first entry of U that reached 0 in floating point.
pub fn locked_facts(o: &Outcome, locked: (usize, usize)) -> Result<Vec<(String, String)>, String> {
    let step = next_step(o)?;
    let mut out = Vec::new();
    let mut add = |n: &str, v: String| out.push((format!("locked-{n}"), v));
    let (z, i) = locked;
    if o.fit.factors.v[[z, i]] != 0.0 {
        return Err("the locked entry of V is not 0 at the end of the locked run".into());
    }
    let vmu = step.v.mu.as_ref().ok_or("MU step without its parts")?;
    let g = vmu.denom[[z, i]] - step.v.cross[[z, i]];
    add("grad-v", pretty(g));
    add(
        "grad-v-sign",
        if g < 0.0 { "negative" } else { "not negative" }.into(),
    );
    add("ratio-v", format!("{:.4}", vmu.ratio[[z, i]]));
    add("final-kkt-full", pretty(o.fit.final_kkt));
    add(
        "grad-v-share",
        format!("{:.4}", (-g).max(0.0) / o.fit.final_kkt),
    );
    // The first entry of U that reached exactly 0 during the run (1-based row, column of U).
    let ev = o
        .fit
        .trace
        .events
        .iter()
        .find(|e| e.kind == EventKind::ZeroReached && e.factor == Which::U);
    if let Some(e) = ev {
        let (row, col) = (e.row - 1, e.col - 1);
        // Column layout of the U half-step: (component, row of U).
        let umu = step.u.mu.as_ref().ok_or("MU step without its parts")?;
        let gu = umu.denom[[col, row]] - step.u.cross[[col, row]];
        add("u-zero-iter", e.iter.to_string());
        add("u-zero-at", format!("({}, {})", e.row, e.col));
        add("grad-u", pretty(gu));
        add(
            "grad-u-sign",
            if gu > 0.0 { "positive" } else { "not positive" }.into(),
        );
        add("ratio-u", format!("{:.4}", umu.ratio[[col, row]]));
        add(
            "u-zero-still",
            (o.fit.factors.u[[row, col]] == 0.0).to_string(),
        );
    }
    Ok(out)
}

/// `x` in scientific notation with three digits, also below the normal range.
fn sub(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        pretty(x)
    }
}

/// The block run's stop: a table of the terms of the zero denominator, and facts.
pub fn block_denominator(o: &Outcome) -> Result<(String, Vec<(String, String)>), String> {
    let StopReason::ZeroDenominator {
        iter,
        factor: Which::U,
        row,
        col,
    } = o.fit.stop
    else {
        return Err(format!(
            "the block run was expected to stop at a zero denominator in U, not with: {}",
            o.fit.stop
        ));
    };
    let (l, z) = (row - 1, col - 1);
    let (m, u, v) = (
        o.data.view(),
        o.fit.factors.u.view(),
        o.fit.factors.v.view(),
    );
    // The V half-step as the solver forms it (products in the same order and layout).
    let ut = u.t();
    let x = ut.dot(&ut.t());
    let a = ut.dot(&m);
    let d = x.dot(&v);
    let p = Problem::new(o.data.clone(), o.experiment.k).map_err(|e| e.to_string())?;
    let (_, vn) = formulas::mu_update(a.view(), d.view(), v, p.zero_cols())
        .map_err(|e| format!("the V half-step of the block run's last step failed at {e:?}"))?;
    // The U half-step's Gram matrix Y = V'V'ᵀ, numerator MV'ᵀ and denominator UY.
    let y: Array2<f64> = vn.dot(&vn.t());
    let num = vn.dot(&m.t()); // (MV'ᵀ)ᵀ
    let den = y.dot(&ut.as_standard_layout()); // (UY)ᵀ
    let k = y.nrows();
    let mut table = format!(
        "| j | U<sub>{row},j</sub> | Y<sub>j,{col}</sub> = ⟨V′ row j, V′ row {col}⟩ | computed U<sub>{row},j</sub>·Y<sub>j,{col}</sub> |\n|---:|---:|---:|---:|\n"
    );
    let mut underflowed = Vec::new();
    for j in 0..k {
        let (uj, yj) = (u[[l, j]], y[[j, z]]);
        let prod = uj * yj;
        // The product's exact value is non-zero but rounded to 0: below half the smallest
        // subnormal. (Measured exactly by scaling one factor up by 2^200 first.)
        let lost = prod == 0.0 && uj != 0.0 && yj != 0.0;
        if lost {
            let scaled = ldexp(uj, 200) * yj;
            if scaled > pow2(-1075 + 200) {
                return Err("a product rounded to 0 above half the smallest subnormal".into());
            }
            underflowed.push((j, scaled));
        }
        let _ = writeln!(
            table,
            "| {} | {} | {} | {}{} |",
            j + 1,
            sub(uj),
            sub(yj),
            sub(prod),
            if lost {
                " (underflow: the exact product is below 2⁻¹⁰⁷⁵)"
            } else {
                ""
            }
        );
    }
    if den[[z, l]] != 0.0 {
        return Err("the re-formed denominator of the block run is not 0".into());
    }
    let mut facts = Vec::new();
    let mut add = |n: &str, v: String| facts.push((format!("block-{n}"), v));
    add("stop-iter", iter.to_string());
    add("stop-at", format!("({row}, {col})"));
    add("stop-entry", sub(u[[l, z]]));
    add("numerator", sub(num[[z, l]]));
    add("denominator", sub(den[[z, l]]));
    add("underflowed-terms", underflowed.len().to_string());
    if let Some(&(j, scaled)) = underflowed.first() {
        add("underflowed-j", (j + 1).to_string());
        // The exact product 2^-200 · scaled, as a decimal: mantissa and exponent by hand.
        let e10 = (scaled.log10() - 200.0 * 2f64.log10()).floor();
        let mant = 10f64.powf(scaled.log10() - 200.0 * 2f64.log10() - e10);
        add(
            "underflowed-product",
            format!("{mant:.1} × 10{}", superscript(e10 as i32)),
        );
    }
    let zero_cols = v
        .columns()
        .into_iter()
        .filter(|c| c.iter().all(|&x| x == 0.0))
        .count();
    add("zero-columns-v", zero_cols.to_string());
    let zero_u = u.iter().filter(|&&x| x == 0.0).count();
    let zero_v = v.iter().filter(|&&x| x == 0.0).count();
    add("final-zeros-u", zero_u.to_string());
    add("final-zeros-v", zero_v.to_string());
    Ok((table, facts))
}
