//! ROC curves and what is read off them: the AUC, the signal efficiency at a fixed background
//! efficiency, and the regulated SIC curve.

use std::fmt;

use super::selection::{check_efficiency, is_signal};
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

/// The SIC of one point, regulated by [`SIC_REGULATOR`].
fn regulated_sic(eps_s: f64, eps_b: f64) -> f64 {
    eps_s / (eps_b + SIC_REGULATOR).sqrt()
}
