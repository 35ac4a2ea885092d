//! Combining anomaly scores: Pearson correlation, normalisation to the CDF of a background
//! reference, and the combinations of Caron et al. 2021.

use std::fmt;

use super::selection::check_no_nan;
use crate::error::{Error, Result};

/// The Pearson correlation coefficient of `a` and `b`: their covariance over the product of
/// their standard deviations, in [-1, 1]. Both must have the same length (at least 2), be
/// finite, and not be constant.
pub fn pearson(a: &[f64], b: &[f64]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(Error::invalid(
            "pearson",
            format!("the inputs differ in length ({} and {})", a.len(), b.len()),
        ));
    }
    if a.len() < 2 {
        return Err(Error::invalid(
            "pearson",
            "at least two pairs of values are needed",
        ));
    }
    for (name, x) in [("first input", a), ("second input", b)] {
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "pearson",
                format!("value {i} of the {name} is {}", x[i]),
            ));
        }
    }
    // The coefficient does not depend on the scale of either input; dividing by the largest
    // magnitude keeps sums and squares of values near the float range (1e300) finite.
    let scale = |x: &[f64]| {
        let m = x.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        if m > 0.0 { m } else { 1.0 }
    };
    let (scale_a, scale_b) = (scale(a), scale(b));
    let n = a.len() as f64;
    let mean_a = a.iter().map(|x| x / scale_a).sum::<f64>() / n;
    let mean_b = b.iter().map(|y| y / scale_b).sum::<f64>() / n;
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x / scale_a - mean_a, y / scale_b - mean_b);
        cov += dx * dy;
        var_a += dx * dx;
        var_b += dy * dy;
    }
    if var_a == 0.0 || var_b == 0.0 {
        let which = if var_a == 0.0 { "first" } else { "second" };
        return Err(Error::invalid(
            "pearson",
            format!("the {which} input is constant, so its correlation is undefined"),
        ));
    }
    Ok((cov / (var_a.sqrt() * var_b.sqrt())).clamp(-1.0, 1.0))
}

/// Each score mapped to its empirical CDF on the `reference` (background) scores: the
/// fraction of reference scores `<=` it, in [0, 1]. Applied to the reference itself (without
/// ties) this gives 1/m, 2/m, ..., 1, a uniform distribution; reference values tied with a
/// score all count as below it. This is the normalisation Caron et al. 2021 applies before combining
/// scores. NaN is rejected in either input. Cost O((n + m) log m).
pub fn uniformize(scores: &[f64], reference: &[f64]) -> Result<Vec<f64>> {
    if reference.is_empty() {
        return Err(Error::invalid("reference", "no reference scores given"));
    }
    check_no_nan("scores", scores)?;
    check_no_nan("reference", reference)?;
    let mut sorted = reference.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let m = sorted.len() as f64;
    Ok(scores
        .iter()
        .map(|&s| sorted.partition_point(|&r| r <= s) as f64 / m)
        .collect())
}

/// How [`combine`] merges N anomaly scores s_i into one, as in Table IV of Caron et al. 2021.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Combination {
    /// `and`: S = min_i s_i (anomalous only if every score says so).
    And,
    /// `or`: S = max_i s_i (anomalous if any score says so).
    Or,
    /// `prod`: S = prod_i s_i.
    Prod,
    /// `avg`: S = (1/N) sum_i s_i.
    Avg,
}

impl Combination {
    /// Every combination, in the order of Table IV.
    pub const ALL: [Combination; 4] = [
        Combination::And,
        Combination::Or,
        Combination::Prod,
        Combination::Avg,
    ];

    /// The combination called `name` (`and`, `or`, `prod` or `avg`, any case).
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                Error::invalid(
                    "combination",
                    format!("unknown name '{name}'; allowed: and, or, prod, avg"),
                )
            })
    }

    /// The name of the combination, as [`Combination::parse`] accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Combination::And => "and",
            Combination::Or => "or",
            Combination::Prod => "prod",
            Combination::Avg => "avg",
        }
    }
}

impl fmt::Display for Combination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Event-by-event combination of several score sets, each already mapped to [0, 1] by
/// [`uniformize`] on a common background reference (Caron et al. 2021 normalises before combining,
/// so that every score is uniform on the background and the combinations are comparable).
/// All sets must have the same length; values outside [0, 1] or NaN are errors.
pub fn combine<S: AsRef<[f64]>>(scores: &[S], how: Combination) -> Result<Vec<f64>> {
    let Some(first) = scores.first() else {
        return Err(Error::invalid("scores", "no score sets to combine"));
    };
    let n = first.as_ref().len();
    for (k, set) in scores.iter().enumerate() {
        let set = set.as_ref();
        if set.len() != n {
            return Err(Error::invalid(
                "scores",
                format!("score set {k} has {} values but set 0 has {n}", set.len()),
            ));
        }
        if let Some(i) = set.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Err(Error::invalid(
                "scores",
                format!(
                    "value {i} of score set {k} is {}; combine expects scores in [0, 1] (see uniformize)",
                    set[i]
                ),
            ));
        }
    }
    let op: fn(f64, f64) -> f64 = match how {
        Combination::And => f64::min,
        Combination::Or => f64::max,
        Combination::Prod => |a, b| a * b,
        Combination::Avg => |a, b| a + b,
    };
    let mut out = first.as_ref().to_vec();
    for set in &scores[1..] {
        out.iter_mut()
            .zip(set.as_ref())
            .for_each(|(o, &v)| *o = op(*o, v));
    }
    if how == Combination::Avg {
        let k = scores.len() as f64;
        out.iter_mut().for_each(|o| *o /= k);
    }
    Ok(out)
}
