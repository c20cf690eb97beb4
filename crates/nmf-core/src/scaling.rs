//! Power-of-two scaling: how every sum of the diagnostics is kept inside the double range at
//! any data scale, and why the verdicts then do not depend on the data's units.
//!
//! MU commutes with scaling the data: for $M \to cM$ from the same start, $V_k \to cV_k$ for
//! $k \ge 1$ and $U_k$ is unchanged, exactly in floating point when $c = 2^j$ (multiplying by a
//! power of two is exact unless the result leaves the normal range). The diagnostics are sums
//! of products of two or three such quantities, so in the data's units they scale like $c^2$ or
//! $c^3$ and leave the double range long before MU does (the square of a KKT gradient entry of
//! $10^{160}$ overflows; a squared step of $10^{-162}$ underflows to a subnormal or to 0).
//!
//! The remedy is LAPACK's (`dnrm2`, `dlassq`; Anderson, *Algorithm 978: Safe Scaling in the
//! Level 1 BLAS*, ACM TOMS 44(1), 2017): scale each array by a power of two chosen from its
//! own largest entry before summing, and put the power back afterwards. Scaling by $2^{-e}$ is
//! exact, so wherever the unscaled computation stays in the normal range the scaled one gives
//! **the same bits**; where it does not, the scaled one still does. And since the exponents $e$
//! shift by exactly $j$ when the data are scaled by $2^j$, every scaled sum — and so every
//! dimensionless ratio the claims judge — is bit-for-bit the same at every scale, from the
//! first iterate that scales exactly on (row 1: the start $V_0$ does not depend on the data).

use ndarray::ArrayView2;

/// The smallest positive normal double, $\lambda = 2^{-1022}$.
pub const MIN_NORMAL: f64 = f64::MIN_POSITIVE;

/// The binary exponent of a finite $x \ne 0$: the $e$ with $2^e \le |x| < 2^{e+1}$ (also for
/// subnormals, down to $e = -1074$); `None` for 0 and non-finite $x$.
pub fn exponent(x: f64) -> Option<i32> {
    if x == 0.0 || !x.is_finite() {
        return None;
    }
    let bits = x.abs().to_bits();
    let biased = (bits >> 52) as i32;
    if biased > 0 {
        Some(biased - 1023)
    } else {
        // Subnormal: value = mantissa · 2^-1074, the exponent is that of the top mantissa bit.
        let mantissa = bits & ((1u64 << 52) - 1);
        Some(63 - mantissa.leading_zeros() as i32 - 1074)
    }
}

/// $2^e$ exactly, for $-1074 \le e \le 1023$ (subnormal powers included).
pub fn pow2(e: i32) -> f64 {
    assert!(
        (-1074..=1023).contains(&e),
        "2^{e} is not a finite non-zero double"
    );
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}

/// $x \cdot 2^e$ with a single rounding (C's `ldexp`): exact unless the result is subnormal
/// (then correctly rounded) or beyond the double range (then $\pm\infty$ or $\pm 0$).
pub fn ldexp(x: f64, e: i32) -> f64 {
    let Some(ex) = exponent(x) else {
        return x;
    };
    if ex < -1022 {
        // A subnormal x: lift it exactly into the normal range first.
        return ldexp(x * pow2(64), e.saturating_sub(64));
    }
    // x = m · 2^ex with 1 ≤ |m| < 2: m is exact, and the one multiplication below rounds once.
    let m = x * pow2(-ex);
    match ex.saturating_add(e) {
        t if t > 1023 => m * f64::INFINITY,
        t if t >= -1074 => m * pow2(t),
        // Below half the smallest subnormal after rounding: 2^-1075 ≤ |x| < 2^-1074 rounds
        // to 2^-1074 unless it is exactly the tie 2^-1075 (rounds to even, 0).
        -1075 if m.abs() > 1.0 => m.signum() * pow2(-1074),
        _ => 0.0 * m,
    }
}

/// Multiplication by a power of two $2^e$ for any $e$: one multiplication by a constant when
/// $2^e$ is a normal double, [`ldexp`] entry by entry otherwise (a factor like $2^{-1047}$
/// arises when a step is $2^{-30}$ of data of order $2^{1017}$).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pow2 {
    Normal(f64),
    Wide(i32),
}

impl Pow2 {
    /// $2^e$.
    pub fn new(e: i32) -> Self {
        if (-1022..=1023).contains(&e) {
            Pow2::Normal(pow2(e))
        } else {
            Pow2::Wide(e)
        }
    }
    /// $x\cdot 2^e$, rounded once.
    #[inline]
    pub fn scale(self, x: f64) -> f64 {
        match self {
            Pow2::Normal(f) => x * f,
            Pow2::Wide(e) => ldexp(x, e),
        }
    }
}

/// The exponent of the largest $|a_{ij}|$ of an array (see [`exponent`]); `None` when the
/// array is all zeros.
pub fn max_exponent(a: ArrayView2<f64>) -> Option<i32> {
    exponent(a.iter().fold(0.0f64, |m, &x| m.max(x.abs())))
}

// ANCHOR: scaled_norm
/// The power-of-two scale that brings an array's largest entry into $[1, 2)$: $2^{-e}$ with
/// $e$ = [`max_exponent`] (1 for an all-zero array), together with $e$. Clamped so that the
/// factor itself is a normal double.
pub fn normalizer(e: Option<i32>) -> (f64, i32) {
    let e = e.unwrap_or(0).clamp(-1022, 1022);
    (pow2(-e), e)
}

/// $\|x\|_2$ of the entries produced by `terms`, safe from overflow and underflow: the entries
/// are scaled by $2^{-e}$, $e$ the exponent of their largest magnitude, before squaring
/// (`dnrm2`'s idea with an exact power-of-two scale, so that the result has the bits of the
/// plain $\sqrt{\sum x^2}$ wherever that does not over- or underflow).
pub fn norm2(terms: impl Iterator<Item = f64> + Clone) -> f64 {
    let amax = terms.clone().fold(0.0f64, |m, x| m.max(x.abs()));
    let Some(e) = exponent(amax) else {
        return if amax.is_nan() { f64::NAN } else { amax };
    };
    let (s, e) = normalizer(Some(e));
    let sum: f64 = terms.map(|x| (x * s) * (x * s)).fold(0.0, |acc, t| acc + t);
    ldexp(sum.sqrt(), e)
}

// ANCHOR_END: scaled_norm

/// $\|A\|_F^2$ scaled: the plain sum of squares wherever it stays in range, and otherwise the
/// correctly rounded value of the exactly scaled sum (∞ or 0 only when the true value is out
/// of range).
pub fn frob_sq(a: ArrayView2<f64>) -> f64 {
    let (s, e) = normalizer(max_exponent(a));
    let sum = a.iter().fold(0.0, |acc, &x| acc + (x * s) * (x * s));
    ldexp(sum, 2 * e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn exponent_and_pow2_are_inverse_over_the_whole_range() {
        for e in -1074..=1023 {
            assert_eq!(exponent(pow2(e)), Some(e));
        }
        // 1.75·2^e is exact from e = −1072 on (three significant bits); it overflows at 1023.
        for e in -1072..1023 {
            assert_eq!(exponent(pow2(e) * 1.75), Some(e));
        }
        assert_eq!(exponent(0.0), None);
        assert_eq!(exponent(f64::NAN), None);
        assert_eq!(exponent(-3.0), Some(1));
        assert_eq!(exponent(f64::MIN_POSITIVE / 3.0), Some(-1024));
    }

    #[test]
    fn ldexp_is_exact_in_range_and_rounds_once_below_it() {
        let x = 1.0 + f64::EPSILON; // 53 significant bits
        for e in [-1000, -500, 0, 500, 1000] {
            assert_eq!(ldexp(ldexp(x, e), -e), x, "e = {e}");
        }
        // Into the subnormal range: one correct rounding. 3·2^-1076 = 0.75·2^-1074 → 2^-1074.
        assert_eq!(ldexp(3.0, -1076), pow2(-1074));
        assert_eq!(ldexp(1.0, -1075), 0.0, "the tie rounds to even");
        assert_eq!(ldexp(1.5, -1075), pow2(-1074));
        assert_eq!(ldexp(1.0, -1100), 0.0);
        assert_eq!(ldexp(1.0, 1024), f64::INFINITY);
        assert_eq!(ldexp(-1.0, 2000), f64::NEG_INFINITY);
        // The scaled value can be huge while the result is representable.
        assert_eq!(ldexp(pow2(1000), -1500), pow2(-500));
        // Subnormal inputs are lifted exactly.
        assert_eq!(ldexp(pow2(-1070), 1100), pow2(30));
        assert_eq!(ldexp(3.0 * pow2(-1074), 1), 3.0 * pow2(-1073));
        assert_eq!(Pow2::new(-1047).scale(1.5), 1.5 * pow2(-1047));
        assert_eq!(Pow2::new(-5).scale(1.5), 1.5 / 32.0);
    }

    #[test]
    fn norm2_survives_squares_out_of_range_and_keeps_bits_in_range() {
        // 5e200 and 5e-200 up to the rounding of the scaled squares, their sum and the root:
        // within 2u relative (the plain formula gives ∞ and 0).
        let big = [3e200, 4e200];
        let got = norm2(big.iter().copied());
        assert!((got - 5e200).abs() <= 2.0 * f64::EPSILON * 5e200, "{got}");
        let tiny = [3e-200, 4e-200];
        let got = norm2(tiny.iter().copied());
        assert!((got - 5e-200).abs() <= 2.0 * f64::EPSILON * 5e-200, "{got}");
        let plain = [0.3, 1.7, 2.9, 0.01];
        let reference = plain.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert_eq!(norm2(plain.iter().copied()).to_bits(), reference.to_bits());
        assert_eq!(norm2([0.0, 0.0].into_iter()), 0.0);
        assert_eq!(norm2(std::iter::empty()), 0.0);
    }

    #[test]
    fn frob_sq_scales_exactly_with_powers_of_two() {
        let a = array![[0.3, 1.7], [2.9, 1e-5]];
        let base = frob_sq(a.view());
        for j in [-500, -300, 300, 500] {
            let c = pow2(j);
            let scaled = a.mapv(|x| x * c);
            assert_eq!(frob_sq(scaled.view()), ldexp(base, 2 * j), "j = {j}");
        }
    }
}
