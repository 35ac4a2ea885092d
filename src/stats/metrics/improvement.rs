//! Significance improvement at the Dark Machines background efficiencies, and its spread over
//! a set of signals (the total improvement).

use std::fmt;

use super::roc::{IMPROVEMENT_EPS_B, roc};
use super::selection::check_no_nan;
use crate::error::{Error, Result};

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
/// interpolation ([`Roc::eps_s_at`](super::Roc::eps_s_at)).
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
