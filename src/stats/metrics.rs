//! Performance metrics of a selection: ROC curves and their AUC, the signal efficiency at a
//! fixed background efficiency, significance improvement and SIC, the total improvement over
//! a set of signals, Pearson correlation, and the combination of anomaly scores after mapping
//! each to its CDF on a background reference.
//!
//! Conventions used throughout: a higher score is more signal-like (more anomalous), an event
//! is selected when `score >= threshold`, eps_S is the signal efficiency (true-positive rate)
//! and eps_B the background efficiency (false-positive rate). Labels are 1 for signal and 0
//! for background. Everything is O(n log n) at worst, for score sets of millions of events.

use std::fmt;

use crate::error::{Error, Result};

/// The offset regulating the SIC at low background efficiency, eps_S / sqrt(eps_B + 1e-4)
/// (the 0.01 % of the SALAD paper), so a curve ending on a handful of events stays finite.
pub const SIC_REGULATOR: f64 = 1e-4;

/// The background efficiencies at which significance improvement is quoted in the Dark
/// Machines challenge papers: 1e-2, 1e-3 and 1e-4.
pub const IMPROVEMENT_EPS_B: [f64; 3] = [1e-2, 1e-3, 1e-4];

/// A ROC curve: one point per distinct score, from (0, 0) (nothing selected) to (1, 1)
/// (everything selected), with eps_S and eps_B non-decreasing along it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Roc {
    /// The cut of each point: events with `score >= threshold` are selected. The first is
    /// `+inf` (nothing selected); the others are the distinct scores in decreasing order.
    pub thresholds: Vec<f64>,
    /// The signal efficiency (true-positive rate) of each point.
    pub eps_s: Vec<f64>,
    /// The background efficiency (false-positive rate) of each point.
    pub eps_b: Vec<f64>,
}

/// The ROC curve of `scores` with truth `labels` (1 signal, 0 background) and optional
/// per-event `weights` (finite and non-negative; efficiencies are weighted fractions).
///
/// Events with equal scores cannot be separated by any cut, so they form a single point
/// (a diagonal segment when the tie holds both classes). Scores must be finite, since
/// `+inf` is the threshold that selects nothing. There must be signal and background events
/// with positive total weight. Cost: one sort, O(n log n).
pub fn roc(scores: &[f64], labels: &[f64], weights: Option<&[f64]>) -> Result<Roc> {
    let n = scores.len();
    if n == 0 {
        return Err(Error::invalid("scores", "no scores given"));
    }
    if labels.len() != n {
        return Err(Error::invalid(
            "labels",
            format!("{} labels for {n} scores", labels.len()),
        ));
    }
    if let Some(w) = weights
        && w.len() != n
    {
        return Err(Error::invalid(
            "weights",
            format!("{} weights for {n} scores", w.len()),
        ));
    }
    let mut events: Vec<(f64, f64, bool)> = Vec::with_capacity(n);
    for (i, (&s, &l)) in scores.iter().zip(labels).enumerate() {
        if !s.is_finite() {
            return Err(Error::invalid(
                "scores",
                format!("score {i} is {s}; scores must be finite"),
            ));
        }
        let signal = is_signal(i, l)?;
        let w = weights.map_or(1.0, |w| w[i]);
        if !(w.is_finite() && w >= 0.0) {
            return Err(Error::invalid(
                "weights",
                format!("weight {i} is {w}; weights must be finite and non-negative"),
            ));
        }
        events.push((s, w, signal));
    }
    events.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));

    let mut thresholds = vec![f64::INFINITY];
    let mut eps_s = vec![0.0];
    let mut eps_b = vec![0.0];
    let (mut sum_s, mut sum_b) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let s = events[i].0;
        while i < n && events[i].0 == s {
            if events[i].2 {
                sum_s += events[i].1;
            } else {
                sum_b += events[i].1;
            }
            i += 1;
        }
        thresholds.push(s);
        eps_s.push(sum_s);
        eps_b.push(sum_b);
    }
    if sum_s <= 0.0 {
        return Err(Error::invalid(
            "labels",
            "no signal events (label 1) with positive weight; a ROC curve needs both classes",
        ));
    }
    if sum_b <= 0.0 {
        return Err(Error::invalid(
            "labels",
            "no background events (label 0) with positive weight; a ROC curve needs both classes",
        ));
    }
    // The last cumulative sum is the total, so the curve ends exactly at (1, 1).
    eps_s.iter_mut().for_each(|e| *e /= sum_s);
    eps_b.iter_mut().for_each(|e| *e /= sum_b);
    Ok(Roc {
        thresholds,
        eps_s,
        eps_b,
    })
}

impl Roc {
    /// The area under the curve (trapezoids over eps_B). It equals the Mann–Whitney
    /// statistic U / (n_S n_B): the probability that a signal event scores higher than a
    /// background event, ties counting one half. 1 is perfect, 0.5 random, 0 reversed.
    pub fn auc(&self) -> f64 {
        let points = self.eps_b.iter().zip(&self.eps_s);
        points
            .clone()
            .zip(points.skip(1))
            .map(|((b0, s0), (b1, s1))| (b1 - b0) * (s0 + s1) * 0.5)
            .sum()
    }

    /// The signal efficiency at background efficiency `eps_b` in (0, 1], linearly
    /// interpolated between the points of the curve. Where the curve rises vertically at
    /// `eps_b` (scores held by signal only), the highest eps_S there is taken. Interpolating
    /// between two cuts is achievable by selecting the events tied at the looser cut at random.
    pub fn eps_s_at(&self, eps_b: f64) -> Result<f64> {
        check_efficiency("background efficiency", eps_b)?;
        let len = self.eps_b.len();
        if len == 0 || self.eps_s.len() != len {
            return Err(Error::invalid(
                "roc",
                "the curve is empty or its eps_s and eps_b differ in length; build it with roc()",
            ));
        }
        // First point beyond eps_b; the curve starts at eps_b = 0, so j >= 1 for a valid one.
        let j = self.eps_b.partition_point(|&e| e <= eps_b).max(1);
        if j == len {
            return Ok(self.eps_s[len - 1]);
        }
        let (b0, s0) = (self.eps_b[j - 1], self.eps_s[j - 1]);
        let (b1, s1) = (self.eps_b[j], self.eps_s[j]);
        if b1 <= b0 {
            return Ok(s1.max(s0));
        }
        Ok(s0 + (s1 - s0) * ((eps_b - b0) / (b1 - b0)).clamp(0.0, 1.0))
    }

    /// The significance improvement eps_S / sqrt(eps_B) at background efficiency `eps_b` in
    /// (0, 1], with eps_S from [`Roc::eps_s_at`]: the factor by which the cut raises
    /// S / sqrt(B).
    pub fn significance_improvement_at(&self, eps_b: f64) -> Result<f64> {
        Ok(self.eps_s_at(eps_b)? / eps_b.sqrt())
    }

    /// The SIC curve: eps_S / sqrt(eps_B + [`SIC_REGULATOR`]) at every point.
    pub fn sic_curve(&self) -> SicCurve {
        let sic = self
            .eps_s
            .iter()
            .zip(&self.eps_b)
            .map(|(&s, &b)| regulated_sic(s, b))
            .collect();
        SicCurve {
            eps_s: self.eps_s.clone(),
            sic,
        }
    }

    /// The maximum of the regulated SIC over the curve (0 for an empty curve).
    pub fn max_sic(&self) -> f64 {
        self.sic_curve().max()
    }

    /// The rejection curve (eps_S, 1 / eps_B), the usual plot on a log scale; points with
    /// eps_B = 0 have no finite rejection and are left out.
    pub fn rejection(&self) -> (Vec<f64>, Vec<f64>) {
        self.eps_s
            .iter()
            .zip(&self.eps_b)
            .filter(|&(_, &b)| b > 0.0)
            .map(|(&s, &b)| (s, 1.0 / b))
            .unzip()
    }
}

impl fmt::Display for Roc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ROC curve: {} points, AUC {:.4}",
            self.eps_s.len(),
            self.auc()
        )?;
        for (label, eps_b) in ["1e-2", "1e-3", "1e-4"].iter().zip(IMPROVEMENT_EPS_B) {
            if let Ok(eps_s) = self.eps_s_at(eps_b) {
                write!(f, ", eps_S at eps_B={label}: {eps_s:.4}")?;
            }
        }
        write!(f, ", max SIC {:.3}", self.max_sic())
    }
}

/// A significance-improvement characteristic: the regulated SIC
/// eps_S / sqrt(eps_B + [`SIC_REGULATOR`]) against the signal efficiency (Andreassen et al. 2020).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SicCurve {
    /// The signal efficiency of each point.
    pub eps_s: Vec<f64>,
    /// The regulated SIC of each point.
    pub sic: Vec<f64>,
}

impl SicCurve {
    /// The largest SIC on the curve (0 for an empty curve).
    pub fn max(&self) -> f64 {
        self.sic.iter().copied().fold(0.0, f64::max)
    }
}

impl fmt::Display for SicCurve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let best = self
            .sic
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1));
        write!(f, "SIC curve: {} points", self.sic.len())?;
        if let Some((i, sic)) = best {
            write!(f, ", max SIC {sic:.3} at eps_S {:.4}", self.eps_s[i])?;
        }
        Ok(())
    }
}

/// The SIC curve of `scores` (see [`roc`] for the arguments and [`Roc::sic_curve`]).
pub fn sic(scores: &[f64], labels: &[f64], weights: Option<&[f64]>) -> Result<SicCurve> {
    Ok(roc(scores, labels, weights)?.sic_curve())
}

/// The signal efficiency at background efficiency `eps_b` in (0, 1] of unweighted `scores`
/// with truth `labels` (see [`roc`] and [`Roc::eps_s_at`]).
pub fn eff_at(scores: &[f64], labels: &[f64], eps_b: f64) -> Result<f64> {
    check_efficiency("background efficiency", eps_b)?;
    roc(scores, labels, None)?.eps_s_at(eps_b)
}

/// Significance improvements eps_S / sqrt(eps_B) of one signal at eps_B = 1e-2, 1e-3, 1e-4.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Improvement {
    /// At eps_B = 1e-2.
    pub at_1e2: f64,
    /// At eps_B = 1e-3.
    pub at_1e3: f64,
    /// At eps_B = 1e-4.
    pub at_1e4: f64,
    /// The number of background events the efficiencies were measured on.
    pub n_background: usize,
}

impl Improvement {
    /// The significance improvement of the signal as the papers quote it: the best of the
    /// three cuts, max(eps_S / sqrt(eps_B)).
    pub fn best(&self) -> f64 {
        self.at_1e2.max(self.at_1e3).max(self.at_1e4)
    }

    /// For each of eps_B = 1e-2, 1e-3, 1e-4, whether the background sample has at least
    /// 1 / eps_B events, i.e. whether the cut passes at least one background event. Where it
    /// does not, the value is an interpolation that a single event dominates.
    pub fn resolved(&self) -> [bool; 3] {
        IMPROVEMENT_EPS_B.map(|e| self.n_background as f64 * e >= 1.0 - 1e-9)
    }
}

impl fmt::Display for Improvement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = [self.at_1e2, self.at_1e3, self.at_1e4];
        write!(f, "significance improvement eps_S/sqrt(eps_B):")?;
        for ((label, v), ok) in ["1e-2", "1e-3", "1e-4"]
            .iter()
            .zip(values)
            .zip(self.resolved())
        {
            write!(f, " {label}: {v:.3}{}", if ok { "" } else { " (*)" })?;
        }
        write!(
            f,
            "; best {:.3} ({} background events",
            self.best(),
            self.n_background
        )?;
        if self.resolved().contains(&false) {
            write!(f, "; (*) fewer than 1/eps_B of them, interpolated")?;
        }
        write!(f, ")")
    }
}

/// The significance improvements of unweighted `scores` with truth `labels` at
/// eps_B = 1e-2, 1e-3 and 1e-4 (Ostdiek 2021 and Caron et al. 2021), read off the ROC curve by linear
/// interpolation ([`Roc::eps_s_at`]).
///
/// When the background sample has fewer than 1 / eps_B events, no cut has exactly that
/// efficiency: the value is then interpolated between the cut that rejects every background
/// event and the loosest cut that passes one, so it is defined but rests on a single event.
/// [`Improvement::resolved`] says where that happened, and `Display` marks those values.
pub fn significance_improvements(scores: &[f64], labels: &[f64]) -> Result<Improvement> {
    let curve = roc(scores, labels, None)?;
    let [at_1e2, at_1e3, at_1e4] = [
        curve.significance_improvement_at(IMPROVEMENT_EPS_B[0])?,
        curve.significance_improvement_at(IMPROVEMENT_EPS_B[1])?,
        curve.significance_improvement_at(IMPROVEMENT_EPS_B[2])?,
    ];
    let n_background = labels.iter().filter(|&&l| l == 0.0).count();
    Ok(Improvement {
        at_1e2,
        at_1e3,
        at_1e4,
        n_background,
    })
}

/// The minimum, median and maximum of a set of values.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Spread {
    /// The smallest value.
    pub min: f64,
    /// The median (the mean of the two middle values for an even count).
    pub median: f64,
    /// The largest value.
    pub max: f64,
}

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "min {:.3}, median {:.3}, max {:.3}",
            self.min, self.median, self.max
        )
    }
}

/// The total improvement of a method (Caron et al. 2021): the minimum, median and maximum of its
/// significance improvements over a set of signals (one value per signal and channel,
/// typically [`Improvement::best`]). `values` must be non-empty and free of NaN.
pub fn total_improvement(values: &[f64]) -> Result<Spread> {
    if values.is_empty() {
        return Err(Error::invalid("improvements", "no values given"));
    }
    check_no_nan("improvements", values)?;
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    };
    Ok(Spread {
        min: sorted[0],
        median,
        max: sorted[n - 1],
    })
}

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

/// The SIC of one point, regulated by [`SIC_REGULATOR`].
fn regulated_sic(eps_s: f64, eps_b: f64) -> f64 {
    eps_s / (eps_b + SIC_REGULATOR).sqrt()
}

/// Whether label `i` (0 or 1) marks a signal event.
fn is_signal(i: usize, label: f64) -> Result<bool> {
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
fn check_no_nan(name: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| v.is_nan()) {
        Some(i) => Err(Error::invalid(name, format!("value {i} is NaN"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::special::{normal_cdf, normal_quantile};

    /// A deterministic linear congruential generator of uniforms in [0, 1).
    struct Lcg(u64);

    impl Lcg {
        fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }

        /// A standard normal by Box–Muller.
        fn normal(&mut self) -> f64 {
            let u = 1.0 - self.uniform();
            let v = self.uniform();
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
    }

    /// The Mann–Whitney statistic U / (n_S n_B) by brute force, ties counting one half.
    fn mann_whitney(scores: &[f64], labels: &[f64]) -> f64 {
        let (mut u, mut pairs) = (0.0, 0.0);
        for (s, _) in scores.iter().zip(labels).filter(|p| *p.1 == 1.0) {
            for (b, _) in scores.iter().zip(labels).filter(|p| *p.1 == 0.0) {
                u += if s > b {
                    1.0
                } else if s == b {
                    0.5
                } else {
                    0.0
                };
                pairs += 1.0;
            }
        }
        u / pairs
    }

    fn is_invalid(r: Result<impl std::fmt::Debug>, name: &str) -> bool {
        matches!(r, Err(Error::InvalidArgument { name: n, .. }) if n == name)
    }

    #[test]
    fn small_curve_by_hand() {
        let r = roc(&[0.6, 0.9, 0.7, 0.8], &[0.0, 1.0, 1.0, 0.0], None).unwrap();
        assert_eq!(r.thresholds, [f64::INFINITY, 0.9, 0.8, 0.7, 0.6]);
        assert_eq!(r.eps_s, [0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(r.eps_b, [0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(r.auc(), 0.75);
        assert_eq!(r.eps_s_at(0.25).unwrap(), 0.5);
        assert_eq!(r.eps_s_at(0.5).unwrap(), 1.0);
        assert_eq!(r.eps_s_at(1.0).unwrap(), 1.0);
        assert_eq!(r.significance_improvement_at(0.25).unwrap(), 1.0);
        let curve = r.sic_curve();
        let sic = &curve.sic;
        assert_eq!(curve.eps_s, r.eps_s);
        assert!(
            (sic[1] - 50.0).abs() < 1e-12 && (sic[3] - 1.0 / (0.5f64 + 1e-4).sqrt()).abs() < 1e-12
        );
        assert!((r.max_sic() - 50.0).abs() < 1e-12 && curve.max() == r.max_sic());
        assert!(
            curve.to_string().contains("max SIC 50.000 at eps_S 0.5000"),
            "{curve}"
        );
        assert!(
            r.to_string().starts_with("ROC curve: 5 points, AUC 0.7500"),
            "{r}"
        );
        assert_eq!(r.rejection(), (vec![0.5, 1.0, 1.0], vec![2.0, 2.0, 1.0]));
        let again = super::sic(&[0.6, 0.9, 0.7, 0.8], &[0.0, 1.0, 1.0, 0.0], None).unwrap();
        assert_eq!(again, curve);
    }

    #[test]
    fn interpolation_between_points() {
        // Background at 0..4, signal at 10 and 1.5: points (eps_b, eps_s) = (0, 0), (0, .5),
        // (.25, .5), (.5, .5), (.5, 1), (.75, 1), (1, 1).
        let labels = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
        let r = roc(&[0.0, 1.0, 2.0, 3.0, 1.5, 10.0], &labels, None).unwrap();
        assert_eq!(r.eps_b, [0.0, 0.0, 0.25, 0.5, 0.5, 0.75, 1.0]);
        assert_eq!(r.eps_s, [0.0, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0]);
        assert_eq!(r.eps_s_at(0.125).unwrap(), 0.5);
        assert_eq!(r.eps_s_at(0.499).unwrap(), 0.5);
        // On a vertical step the best cut with eps_B <= the target is taken.
        assert_eq!(r.eps_s_at(0.5).unwrap(), 1.0);
        // A diagonal tie segment interpolates linearly: both classes tied at one score.
        let r = roc(&[1.0, 1.0, 0.0, 0.0], &[1.0, 0.0, 1.0, 0.0], None).unwrap();
        assert_eq!(r.eps_b, [0.0, 0.5, 1.0]);
        assert_eq!(r.eps_s_at(0.25).unwrap(), 0.25);
        assert_eq!(
            eff_at(&[1.0, 1.0, 0.0, 0.0], &[1.0, 0.0, 1.0, 0.0], 0.25).unwrap(),
            0.25
        );
    }

    #[test]
    fn closed_form_aucs() {
        let labels = [1.0, 1.0, 1.0, 0.0, 0.0];
        let perfect = roc(&[5.0, 4.0, 3.0, 2.0, 1.0], &labels, None).unwrap();
        assert_eq!(perfect.auc(), 1.0);
        assert_eq!((perfect.eps_s[0], perfect.eps_b[0]), (0.0, 0.0));
        assert_eq!(
            (
                *perfect.eps_s.last().unwrap(),
                *perfect.eps_b.last().unwrap()
            ),
            (1.0, 1.0)
        );
        assert_eq!(perfect.eps_s_at(1e-4).unwrap(), 1.0);
        let reversed = roc(&[1.0, 2.0, 3.0, 4.0, 5.0], &labels, None).unwrap();
        assert_eq!(reversed.auc(), 0.0);
        // Identical sets with ties: exactly one half.
        let s = [1.0, 2.0, 2.0, 3.0, 1.0, 2.0, 2.0, 3.0];
        let l = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let same = roc(&s, &l, None).unwrap();
        assert_eq!(same.auc(), 0.5);
        assert_eq!(same.thresholds, [f64::INFINITY, 3.0, 2.0, 1.0]);
        // All scores tied: one segment from (0,0) to (1,1).
        let flat = roc(&[0.5; 4], &[1.0, 0.0, 1.0, 0.0], None).unwrap();
        assert_eq!((flat.thresholds.len(), flat.auc()), (2, 0.5));
    }

    #[test]
    fn auc_equals_mann_whitney_with_ties() {
        let mut rng = Lcg(12345);
        for _ in 0..5 {
            let n = 700;
            let labels: Vec<f64> = (0..n)
                .map(|_| if rng.uniform() < 0.4 { 1.0 } else { 0.0 })
                .collect();
            // Coarse scores, shifted for signal, so that many ties mix the classes.
            let scores: Vec<f64> = labels
                .iter()
                .map(|&l| (rng.uniform() * 20.0 + 4.0 * l).floor())
                .collect();
            let auc = roc(&scores, &labels, None).unwrap().auc();
            assert!(
                (auc - mann_whitney(&scores, &labels)).abs() < 1e-12,
                "{auc}"
            );
        }
    }

    #[test]
    fn weights_act_as_multiplicities() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7];
        let labels = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        let weights = [2.0, 1.0, 3.0, 1.0, 2.0, 1.0];
        let weighted = roc(&scores, &labels, Some(&weights)).unwrap();
        let (mut s, mut l) = (vec![], vec![]);
        for i in 0..scores.len() {
            for _ in 0..weights[i] as usize {
                s.push(scores[i]);
                l.push(labels[i]);
            }
        }
        let expanded = roc(&s, &l, None).unwrap();
        assert_eq!(
            (weighted.eps_s.len(), &weighted.thresholds),
            (expanded.eps_s.len(), &expanded.thresholds)
        );
        for (a, b) in weighted
            .eps_s
            .iter()
            .zip(&expanded.eps_s)
            .chain(weighted.eps_b.iter().zip(&expanded.eps_b))
        {
            assert!((a - b).abs() < 1e-15);
        }
        assert!((weighted.auc() - expanded.auc()).abs() < 1e-15);
    }

    #[test]
    fn gaussian_auc_and_efficiency() {
        let (n, d) = (100_000, 1.0);
        let mut rng = Lcg(7);
        let mut scores = Vec::with_capacity(2 * n);
        let mut labels = Vec::with_capacity(2 * n);
        for i in 0..2 * n {
            let signal = i % 2 == 0;
            scores.push(rng.normal() + if signal { d } else { 0.0 });
            labels.push(if signal { 1.0 } else { 0.0 });
        }
        let r = roc(&scores, &labels, None).unwrap();
        let expected = normal_cdf(d / std::f64::consts::SQRT_2);
        // Standard error of the AUC here is about 1.3e-3.
        assert!(
            (r.auc() - expected).abs() < 0.006,
            "{} vs {expected}",
            r.auc()
        );
        // eps_S at eps_B = 0.1: 1 - Phi(z_0.9 - d), standard error about 1.5e-3.
        let expected = 1.0 - normal_cdf(normal_quantile(0.9) - d);
        assert!((r.eps_s_at(0.1).unwrap() - expected).abs() < 0.008);
    }

    #[test]
    fn significance_improvements_at_fixed_background() {
        // 10000 distinct background scores; half the signal above them all, half below.
        let mut scores: Vec<f64> = (0..10_000).map(f64::from).collect();
        let mut labels = vec![0.0; 10_000];
        scores.extend((0..100).map(|i| if i % 2 == 0 { 1e6 } else { -1.0 }));
        labels.extend([1.0; 100]);
        let imp = significance_improvements(&scores, &labels).unwrap();
        assert!((imp.at_1e2 - 5.0).abs() < 1e-12);
        assert!((imp.at_1e3 - 0.5 / 1e-3f64.sqrt()).abs() < 1e-12);
        assert!((imp.at_1e4 - 50.0).abs() < 1e-9);
        assert!((imp.best() - 50.0).abs() < 1e-9);
        assert_eq!((imp.n_background, imp.resolved()), (10_000, [true; 3]));
        // Signal interleaved with the background (each just below one): eps_S = eps_B at every
        // background count, so SI = sqrt(eps_B).
        let mut scores: Vec<f64> = (0..10_000).map(f64::from).collect();
        scores.extend((0..10_000).map(|i| f64::from(i) - 0.5));
        let labels: Vec<f64> = (0..20_000)
            .map(|i| if i < 10_000 { 0.0 } else { 1.0 })
            .collect();
        let imp = significance_improvements(&scores, &labels).unwrap();
        assert!((imp.at_1e2 - 0.1).abs() < 1e-12 && (imp.at_1e3 - 1e-3f64.sqrt()).abs() < 1e-12);
        assert!((imp.at_1e4 - 0.01).abs() < 1e-12);
        // Only 100 background events: 1e-3 and 1e-4 are interpolated and flagged.
        let s: Vec<f64> = (0..200).map(f64::from).collect();
        let l: Vec<f64> = (0..200)
            .map(|i| if i % 2 == 0 { 0.0 } else { 1.0 })
            .collect();
        let imp = significance_improvements(&s, &l).unwrap();
        assert_eq!(imp.resolved(), [true, false, false]);
        assert!(imp.at_1e4.is_finite() && imp.to_string().contains("(*)"));
    }

    #[test]
    fn total_improvement_spread() {
        let s = total_improvement(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        assert_eq!(
            total_improvement(&[4.0, 1.0, 3.0, 2.0]).unwrap().median,
            2.5
        );
        assert_eq!(
            total_improvement(&[7.0]).unwrap(),
            Spread {
                min: 7.0,
                median: 7.0,
                max: 7.0
            }
        );
        assert!(is_invalid(total_improvement(&[]), "improvements"));
        assert!(is_invalid(
            total_improvement(&[1.0, f64::NAN]),
            "improvements"
        ));
    }

    #[test]
    fn pearson_closed_forms() {
        let x: Vec<f64> = (0..50).map(|i| f64::from(i) * 0.3 - 2.0).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
        assert!((pearson(&x, &y).unwrap() - 1.0).abs() < 1e-12);
        let z: Vec<f64> = x.iter().map(|v| -v).collect();
        assert!((pearson(&x, &z).unwrap() + 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]).unwrap() - 0.5).abs() < 1e-12);
        // Values near the float range: squares would overflow without scaling.
        let r = pearson(&[1e300, 2e300, 3e300], &[-1e-300, -3e-300, -2e-300]).unwrap();
        assert!((r + 0.5).abs() < 1e-12, "{r}");
        assert!(is_invalid(pearson(&[1.0, 2.0], &[1.0]), "pearson"));
        assert!(is_invalid(
            pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]),
            "pearson"
        ));
        assert!(is_invalid(
            pearson(&[1.0, 2.0, 3.0], &[4.0, 4.0, 4.0]),
            "pearson"
        ));
        assert!(is_invalid(pearson(&[1.0], &[2.0]), "pearson"));
        assert!(is_invalid(
            pearson(&[1.0, f64::NAN], &[2.0, 3.0]),
            "pearson"
        ));
    }

    #[test]
    fn uniformize_on_reference() {
        let mut rng = Lcg(99);
        let m = 20_000;
        let reference: Vec<f64> = (0..m).map(|_| rng.normal()).collect();
        let mut u = uniformize(&reference, &reference).unwrap();
        u.sort_by(f64::total_cmp);
        for (k, v) in u.iter().enumerate() {
            assert_eq!(*v, (k + 1) as f64 / m as f64);
        }
        // A fresh sample of the same distribution is uniform within its statistical error.
        let fresh: Vec<f64> = (0..20_000).map(|_| rng.normal()).collect();
        let u = uniformize(&fresh, &reference).unwrap();
        let below = |c: f64| u.iter().filter(|&&v| v <= c).count() as f64 / u.len() as f64;
        for c in [0.1, 0.5, 0.9] {
            assert!((below(c) - c).abs() < 0.02, "{c}: {}", below(c));
        }
        // Ties count as below; out-of-range scores map to 0 and 1.
        assert_eq!(
            uniformize(&[2.0, 0.0, 9.0, 1.5], &[1.0, 2.0, 2.0, 3.0]).unwrap(),
            [0.75, 0.0, 1.0, 0.25]
        );
        assert!(is_invalid(uniformize(&[1.0], &[]), "reference"));
        assert!(is_invalid(uniformize(&[f64::NAN], &[1.0]), "scores"));
        assert!(is_invalid(uniformize(&[1.0], &[f64::NAN]), "reference"));
    }

    #[test]
    fn combinations_follow_table_iv() {
        let a = vec![0.2, 0.9, 1.0];
        let b = vec![0.5, 0.4, 0.0];
        let sets = [a.clone(), b.clone()];
        let c = |how| combine(&sets, how).unwrap();
        assert_eq!(c(Combination::And), [0.2, 0.4, 0.0]);
        assert_eq!(c(Combination::Or), [0.5, 0.9, 1.0]);
        assert_eq!(c(Combination::Prod), [0.1, 0.9 * 0.4, 0.0]);
        let avg = c(Combination::Avg);
        assert!((avg[0] - 0.35).abs() < 1e-15 && (avg[1] - 0.65).abs() < 1e-15 && avg[2] == 0.5);
        // Slices work too, and a single set comes back unchanged.
        assert_eq!(combine(&[a.as_slice()], Combination::Prod).unwrap(), a);
        for how in Combination::ALL {
            assert_eq!(Combination::parse(&how.to_string()).unwrap(), how);
        }
        assert_eq!(Combination::parse(" AND ").unwrap(), Combination::And);
        let err = Combination::parse("sum").unwrap_err().to_string();
        assert!(
            err.contains("sum") && err.contains("and, or, prod, avg"),
            "{err}"
        );
        assert!(is_invalid(
            combine::<Vec<f64>>(&[], Combination::And),
            "scores"
        ));
        assert!(is_invalid(
            combine(&[vec![0.1], vec![0.1, 0.2]], Combination::Or),
            "scores"
        ));
        assert!(is_invalid(
            combine(&[vec![0.1], vec![1.5]], Combination::Or),
            "scores"
        ));
        assert!(is_invalid(
            combine(&[vec![f64::NAN]], Combination::Avg),
            "scores"
        ));
    }

    #[test]
    fn thresholds_for_exact_efficiencies() {
        let scores = [3.0, 10.0, 1.0, 7.0, 5.0, 2.0, 9.0, 4.0, 8.0, 6.0];
        let frac = |t: f64| scores.iter().filter(|&&s| s >= t).count() as f64 / 10.0;
        for (eff, t) in [(0.3, 8.0), (1.0, 1.0), (0.1, 10.0), (0.5, 6.0), (0.7, 4.0)] {
            assert_eq!(threshold_for_efficiency(&scores, eff).unwrap(), t);
            assert_eq!(frac(t), eff);
        }
        // Below one event: the single highest score; rounding to the nearest count.
        assert_eq!(threshold_for_efficiency(&scores, 0.01).unwrap(), 10.0);
        assert_eq!(threshold_for_efficiency(&scores, 0.34).unwrap(), 8.0);
        // Ties at the threshold are all selected: 4 of 5 pass for eff = 0.4.
        assert_eq!(
            threshold_for_efficiency(&[1.0, 2.0, 2.0, 2.0, 3.0], 0.4).unwrap(),
            2.0
        );
        assert!(is_invalid(
            threshold_for_efficiency(&scores, 0.0),
            "efficiency"
        ));
        assert!(is_invalid(
            threshold_for_efficiency(&scores, 1.5),
            "efficiency"
        ));
        assert!(is_invalid(
            threshold_for_efficiency(&scores, f64::NAN),
            "efficiency"
        ));
        assert!(is_invalid(threshold_for_efficiency(&[], 0.5), "scores"));
        assert!(is_invalid(
            threshold_for_efficiency(&[1.0, f64::NAN], 0.5),
            "scores"
        ));
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let l = [1.0, 0.0];
        assert!(is_invalid(roc(&[], &[], None), "scores"));
        assert!(is_invalid(roc(&[1.0, 2.0], &[1.0], None), "labels"));
        assert!(is_invalid(roc(&[1.0, 2.0], &l, Some(&[1.0])), "weights"));
        assert!(is_invalid(roc(&[f64::NAN, 2.0], &l, None), "scores"));
        assert!(is_invalid(roc(&[f64::INFINITY, 2.0], &l, None), "scores"));
        assert!(is_invalid(roc(&[1.0, 2.0], &[0.5, 0.0], None), "labels"));
        assert!(is_invalid(
            roc(&[1.0, 2.0], &[f64::NAN, 0.0], None),
            "labels"
        ));
        assert!(is_invalid(roc(&[1.0, 2.0], &[1.0, 1.0], None), "labels"));
        assert!(is_invalid(roc(&[1.0, 2.0], &[0.0, 0.0], None), "labels"));
        assert!(is_invalid(
            roc(&[1.0, 2.0], &l, Some(&[0.0, 1.0])),
            "labels"
        ));
        assert!(is_invalid(
            roc(&[1.0, 2.0], &l, Some(&[-1.0, 1.0])),
            "weights"
        ));
        assert!(is_invalid(
            roc(&[1.0, 2.0], &l, Some(&[f64::NAN, 1.0])),
            "weights"
        ));
        let r = roc(&[1.0, 2.0], &l, None).unwrap();
        for e in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(is_invalid(r.eps_s_at(e), "background efficiency"));
            assert!(is_invalid(
                r.significance_improvement_at(e),
                "background efficiency"
            ));
            assert!(is_invalid(
                eff_at(&[1.0, 2.0], &l, e),
                "background efficiency"
            ));
        }
        assert!(is_invalid(
            significance_improvements(&[1.0, 2.0], &[1.0, 1.0]),
            "labels"
        ));
        assert!(is_invalid(sic(&[1.0], &[0.0], None), "labels"));
        // A hand-made malformed curve is an error, not a panic.
        let empty = Roc {
            thresholds: vec![],
            eps_s: vec![],
            eps_b: vec![],
        };
        assert!(is_invalid(empty.eps_s_at(0.5), "roc"));
        assert_eq!((empty.auc(), empty.max_sic()), (0.0, 0.0));
        let odd = Roc {
            thresholds: vec![],
            eps_s: vec![0.0],
            eps_b: vec![0.0, 1.0],
        };
        assert!(is_invalid(odd.eps_s_at(0.5), "roc"));
    }
}
