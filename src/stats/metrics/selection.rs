//! Selection thresholds at a fixed efficiency, and the input checks the metrics share.

use crate::error::{Error, Result};

/// The threshold t selecting a fraction `eff` in (0, 1] of `scores` with `score >= t`: the
/// k-th highest score, k = round(eff · n) but at least 1. Without ties at t the selected
/// fraction is k / n, the achievable fraction nearest to `eff` (exactly `eff` when eff · n is
/// an integer); scores tied with t are all selected, so ties can raise the fraction. NaN
/// scores are errors. Cost O(n) (selection, no sort).
pub fn threshold_for_efficiency(scores: &[f64], eff: f64) -> Result<f64> {
    check_efficiency("efficiency", eff)?;
    if scores.is_empty() {
        return Err(Error::invalid("scores", "no scores given"));
    }
    check_no_nan("scores", scores)?;
    let n = scores.len();
    let k = ((eff * n as f64).round() as usize).clamp(1, n);
    let mut values = scores.to_vec();
    let (_, kth, _) = values.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    Ok(*kth)
}

/// Whether label `i` (0 or 1) marks a signal event.
pub(super) fn is_signal(i: usize, label: f64) -> Result<bool> {
    if label == 1.0 {
        Ok(true)
    } else if label == 0.0 {
        Ok(false)
    } else {
        Err(Error::invalid(
            "labels",
            format!("label {i} is {label}; labels must be 0 (background) or 1 (signal)"),
        ))
    }
}

/// An error unless `eff` is in (0, 1].
pub(crate) fn check_efficiency(name: &str, eff: f64) -> Result<()> {
    if eff > 0.0 && eff <= 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(name, format!("{eff} is not in (0, 1]")))
    }
}

/// An error naming the first NaN in `values`.
pub(super) fn check_no_nan(name: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| v.is_nan()) {
        Some(i) => Err(Error::invalid(name, format!("value {i} is NaN"))),
        None => Ok(()),
    }
}
