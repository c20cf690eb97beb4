//! Which rows of a long run to draw. A figure of 10⁶ iterations cannot hold 10⁶ points per
//! curve (the page would weigh gigabytes); the rows kept are every row of the first `dense`
//! iterations, then rows at log-spaced iterations (each ≥ `1 + 1/dense` times the previous one),
//! every row where an event happens (the count of zero or subnormal entries of a factor changes,
//! or the note's form of Lemma 2 stops being defined), and the last row: about
//! `dense · (1 + ln(N/dense))` rows for N iterations, with every event still marked where it
//! happened. The iteration axis of every figure is the rows' own iteration numbers, so a thinned
//! trace draws correctly.

use nmf_core::Record;

/// The online row chooser (rows in order).
#[derive(Debug, Clone)]
pub struct Thinning {
    dense: usize,
    next: f64,
    prev: Option<[usize; 5]>,
    last: Option<(Record, bool)>,
}

/// What a row is judged by for events: zeros and subnormals of both factors, and whether the
/// note's form is defined.
fn marks(r: &Record) -> [usize; 5] {
    [
        r.v.zeros,
        r.u.zeros,
        r.v.subnormal,
        r.u.subnormal,
        usize::from(r.note.sqrt_inner_v.is_some()),
    ]
}

impl Thinning {
    /// Keep every row of the first `dense` iterations, then log-spaced ones (`dense ≥ 1`).
    pub fn new(dense: usize) -> Self {
        let dense = dense.max(1);
        Thinning {
            dense,
            next: dense as f64,
            prev: None,
            last: None,
        }
    }

    /// Whether to keep row `r`.
    pub fn keep(&mut self, r: &Record) -> bool {
        let m = marks(r);
        let event = self.prev.is_some_and(|p| p != m);
        self.prev = Some(m);
        let it = r.iter as f64;
        let keep = if r.iter < self.dense || event {
            true
        } else if it >= self.next {
            self.next = (it * (1.0 + 1.0 / self.dense as f64)).max(it + 1.0);
            true
        } else {
            false
        };
        self.last = Some((r.clone(), keep));
        keep
    }

    /// The last row seen, if it was not kept (every figure should end where the run ended).
    pub fn last_unkept(self) -> Option<Record> {
        self.last.and_then(|(r, kept)| (!kept).then_some(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(iter: usize, zeros_v: usize) -> Record {
        let mut r = Record {
            iter,
            ..Record::default()
        };
        r.v.zeros = zeros_v;
        r
    }

    #[test]
    fn dense_then_log_spaced_with_events_and_the_last_row() {
        let mut t = Thinning::new(100);
        let n = 1_000_000;
        let mut kept = Vec::new();
        for i in 0..n {
            // An event (a zero appears) at iteration 777 777.
            let r = row(i, usize::from(i >= 777_777));
            if t.keep(&r) {
                kept.push(i);
            }
        }
        let last = t.last_unkept().map(|r| r.iter);
        assert!(kept[..100].iter().copied().eq(0..100));
        assert!(kept.contains(&777_777), "the event's row is kept");
        // About dense·(1 + ln(N/dense)) = 100·(1 + ln 10⁴) ≈ 1021 rows. That continuous estimate
        // is a little high: each kept iteration is the first integer at or past its grid point
        // and the next point is taken from it, so the effective ratio is slightly above 1.01
        // (984 rows here, 3.6 % fewer): 5 % bounds that, and would catch a wrong ratio or a
        // dense prefix of the wrong length.
        let expected = 100.0 * (1.0 + (n as f64 / 100.0).ln());
        assert!(
            (kept.len() as f64 - expected).abs() < 0.05 * expected,
            "{} rows kept, about {expected:.0} expected",
            kept.len()
        );
        assert_eq!(kept.last().copied().max(last), Some(n - 1));
        // Successive kept iterations grow by at most the ratio 1 + 1/dense = 1.01 (or are
        // consecutive), plus 1 for the rounding up to an integer iteration; event rows only add
        // points in between.
        for w in kept.windows(2) {
            assert!(w[1] as f64 <= (w[0] as f64 * 1.01).max(w[0] as f64 + 1.0) + 1.0);
        }
    }
}
