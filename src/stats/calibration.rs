//! Calibration under the background-only hypothesis: the global p-values of many
//! background-only runs of a search, and how often they fall at or below a cut compared with
//! a uniform p-value. A calibrated search has P(p ≤ α) = α; a conservative one less; a search
//! that overstates its significance more. With a finite number of runs the fractions are
//! binomial counts, so each comes with its Clopper–Pearson interval and the binomial
//! probability of seeing at least that many small p-values if P(p ≤ α) were exactly α.

use std::fmt;

use serde::Serialize;

use super::special::ln_gamma;
use crate::error::{Error, Result};

/// The cuts a calibration reports by default.
pub const DEFAULT_CUTS: [f64; 4] = [0.01, 0.05, 0.2, 0.5];

/// The two-sided coverage of the fractions' intervals: one standard deviation.
const ONE_SIGMA: f64 = 0.682_689_492_137_086;

/// P(X ≥ k) for X ~ Binomial(n, p), summed term by term in log space (exact for any n a
/// calibration reaches).
pub fn binomial_upper_tail(k: usize, n: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let ln_choose = |i: usize| {
        ln_gamma(n as f64 + 1.0) - ln_gamma(i as f64 + 1.0) - ln_gamma((n - i) as f64 + 1.0)
    };
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    let sum: f64 = (k..=n)
        .map(|i| (ln_choose(i) + i as f64 * lp + (n - i) as f64 * lq).exp())
        .sum();
    sum.min(1.0)
}

/// The rate p in (0, 1) at which the increasing function `f(p)` crosses `target`, by
/// bisection to double precision.
fn solve_increasing(f: impl Fn(f64) -> f64, target: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-15 {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The Clopper–Pearson (exact binomial) interval of a rate with `k` successes in `n` trials
/// at two-sided confidence `cl`: each side excludes rates that make the observation less
/// likely than (1 − cl)/2 in its tail.
pub fn clopper_pearson(k: usize, n: usize, cl: f64) -> (f64, f64) {
    let tail = 0.5 * (1.0 - cl);
    let lower = if k == 0 {
        0.0
    } else {
        solve_increasing(|p| binomial_upper_tail(k, n, p), tail)
    };
    let upper = if k >= n {
        1.0
    } else {
        // P(X ≤ k) = 1 − P(X ≥ k + 1) falls as p grows.
        solve_increasing(|p| binomial_upper_tail(k + 1, n, p), 1.0 - tail)
    };
    (lower, upper)
}

/// How often the p-values fell at or below one cut.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TailFraction {
    /// The cut α.
    pub cut: f64,
    /// Runs whose p-value is at or below α.
    pub below: usize,
    /// All runs.
    pub runs: usize,
    /// `below / runs`: a calibrated search gives α.
    pub fraction: f64,
    /// The fraction's Clopper–Pearson interval at one standard deviation (68.3 %).
    pub interval: (f64, f64),
    /// The one-sided 95 % upper limit on P(p ≤ α): what these runs bound.
    pub upper_95: f64,
    /// P(X ≥ below) for X ~ Binomial(runs, α): the chance of at least this many small
    /// p-values from a calibrated search. Small (below 0.01, say) means the search's
    /// p-values are smaller than uniform: it overstates significance.
    pub excess_pvalue: f64,
}

/// The calibration of a search from the global p-values of its background-only runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NullCalibration {
    /// The p-values, in the order given.
    pub p_values: Vec<f64>,
    /// One row per cut, in increasing order of the cut.
    pub rows: Vec<TailFraction>,
}

/// The calibration of `p_values` (each in [0, 1]) at `cuts` (each in (0, 1)). Refused: no
/// p-values, a p-value that is NaN or outside [0, 1] (named by its position), no cuts or a
/// cut outside (0, 1).
pub fn null_calibration(p_values: &[f64], cuts: &[f64]) -> Result<NullCalibration> {
    if p_values.is_empty() {
        return Err(Error::invalid(
            "p_values",
            "give the global p-values of at least one background-only run",
        ));
    }
    if let Some((i, p)) = p_values
        .iter()
        .enumerate()
        .find(|(_, p)| !(0.0..=1.0).contains(*p))
    {
        return Err(Error::invalid(
            "p_values",
            format!(
                "p-value {i} is {p}, not in [0, 1] (leave out runs that gave none and say how many)"
            ),
        ));
    }
    if cuts.is_empty() {
        return Err(Error::invalid("cuts", "give at least one cut"));
    }
    if let Some(c) = cuts.iter().find(|c| !(**c > 0.0 && **c < 1.0)) {
        return Err(Error::invalid("cuts", format!("{c} is not in (0, 1)")));
    }
    let mut cuts = cuts.to_vec();
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let runs = p_values.len();
    let rows = cuts
        .into_iter()
        .map(|cut| {
            let below = p_values.iter().filter(|&&p| p <= cut).count();
            TailFraction {
                cut,
                below,
                runs,
                fraction: below as f64 / runs as f64,
                interval: clopper_pearson(below, runs, ONE_SIGMA),
                upper_95: clopper_pearson(below, runs, 0.9).1,
                excess_pvalue: binomial_upper_tail(below, runs, cut),
            }
        })
        .collect();
    Ok(NullCalibration {
        p_values: p_values.to_vec(),
        rows,
    })
}

impl NullCalibration {
    /// The rows whose excess p-value is below `alpha`: cuts at which the p-values are
    /// significantly smaller than uniform.
    pub fn overstated(&self, alpha: f64) -> Vec<&TailFraction> {
        self.rows
            .iter()
            .filter(|r| r.excess_pvalue < alpha)
            .collect()
    }
}

impl fmt::Display for NullCalibration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runs = self.p_values.len();
        writeln!(f, "Null calibration: {runs} background-only runs")?;
        writeln!(
            f,
            "  {:>6}  {:>11}  {:>8}  {:>14}  {:>9}  {:>16}",
            "p <=", "below/runs", "fraction", "68% interval", "95% upper", "P(>= | uniform)"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "  {:>6}  {:>11}  {:>8.3}  [{:.3}, {:.3}]  {:>9.3}  {:>16.3}",
                r.cut,
                format!("{}/{}", r.below, r.runs),
                r.fraction,
                r.interval.0,
                r.interval.1,
                r.upper_95,
                r.excess_pvalue
            )?;
        }
        match self.overstated(0.01).first() {
            Some(r) => write!(
                f,
                "  smaller than uniform: {} of {} p-values at or below {} (P = {:.2e} if calibrated)",
                r.below, r.runs, r.cut, r.excess_pvalue
            ),
            None => write!(
                f,
                "  not smaller than uniform at any cut (every P(>= | uniform) >= 0.01)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binomial_tail_matches_closed_forms() {
        // n = 3, p = 0.5: P(X >= 2) = 4/8; P(X >= 3) = 1/8.
        assert!((binomial_upper_tail(2, 3, 0.5) - 0.5).abs() < 1e-14);
        assert!((binomial_upper_tail(3, 3, 0.5) - 0.125).abs() < 1e-14);
        // P(X >= 1) = 1 - (1 - p)^n.
        let p: f64 = 0.05;
        let exact = 1.0 - (1.0 - p).powi(40);
        assert!((binomial_upper_tail(1, 40, p) - exact).abs() < 1e-12);
        assert_eq!(binomial_upper_tail(0, 10, 0.3), 1.0);
        assert_eq!(binomial_upper_tail(11, 10, 0.3), 0.0);
    }

    #[test]
    fn clopper_pearson_matches_its_closed_forms() {
        // k = 0: the upper limit solves (1 - p)^n = tail; k = n: the lower limit p^n = tail.
        let (n, cl) = (20, 0.9);
        let (lo, hi) = clopper_pearson(0, n, cl);
        assert_eq!(lo, 0.0);
        assert!(
            (hi - (1.0 - 0.05_f64.powf(1.0 / n as f64))).abs() < 1e-10,
            "{hi}"
        );
        let (lo, hi) = clopper_pearson(n, n, cl);
        assert_eq!(hi, 1.0);
        assert!((lo - 0.05_f64.powf(1.0 / n as f64)).abs() < 1e-10, "{lo}");
        // The interval of 5 in 100 at 95 %: [0.0164, 0.1128] (the standard table values).
        let (lo, hi) = clopper_pearson(5, 100, 0.95);
        assert!(
            (lo - 0.01643).abs() < 5e-5 && (hi - 0.11284).abs() < 5e-5,
            "{lo} {hi}"
        );
    }

    #[test]
    fn uniform_p_values_calibrate_and_small_ones_are_caught() {
        // 200 evenly spread p-values are as uniform as 200 can be.
        let uniform: Vec<f64> = (0..200).map(|i| (i as f64 + 0.5) / 200.0).collect();
        let c = null_calibration(&uniform, &DEFAULT_CUTS).unwrap();
        for r in &c.rows {
            assert!((r.fraction - r.cut).abs() <= 0.0025 + 1e-12, "{r:?}");
            assert!(r.interval.0 <= r.cut && r.cut <= r.interval.1, "{r:?}");
            assert!(r.excess_pvalue > 0.3, "{r:?}");
        }
        assert!(c.overstated(0.01).is_empty());
        assert!(c.to_string().contains("not smaller than uniform"), "{c}");
        // Squaring pushes them towards 0: P(p² <= a) = √a, far above a.
        let small: Vec<f64> = uniform.iter().map(|p| p * p).collect();
        let c = null_calibration(&small, &DEFAULT_CUTS).unwrap();
        let bad = c.overstated(0.01);
        assert_eq!(bad.len(), 4, "{c}");
        assert!(
            c.to_string().contains("smaller than uniform: 20 of 200"),
            "{c}"
        );
        // Conservative p-values (all large) are not flagged.
        let large: Vec<f64> = uniform.iter().map(|p| p.sqrt()).collect();
        assert!(
            null_calibration(&large, &DEFAULT_CUTS)
                .unwrap()
                .overstated(0.01)
                .is_empty()
        );
    }

    #[test]
    fn bad_input_is_refused_by_name() {
        let err = null_calibration(&[], &DEFAULT_CUTS)
            .unwrap_err()
            .to_string();
        assert!(err.contains("p_values"), "{err}");
        let err = null_calibration(&[0.5, f64::NAN], &DEFAULT_CUTS)
            .unwrap_err()
            .to_string();
        assert!(err.contains("p-value 1 is NaN"), "{err}");
        assert!(null_calibration(&[0.5, 1.5], &DEFAULT_CUTS).is_err());
        assert!(null_calibration(&[0.5], &[]).is_err());
        let err = null_calibration(&[0.5], &[0.05, 1.0])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cuts") && err.contains("1 is not in (0, 1)"),
            "{err}"
        );
    }
}
