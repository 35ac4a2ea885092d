//! Cut-and-count against a weighted reference sample: the background estimate of SALAD (the
//! DCTR-reweighted simulation, seed 004 eq. 2.4) and of ANODE (events drawn from the
//! sideband density). A threshold on the score keeps a fraction of the data; the reference
//! events above it, weighted, predict how many data events should pass.

use serde::Serialize;

use super::window::Window;
use crate::error::{Error, Result};
use crate::stats::metrics::{check_efficiency, threshold_for_efficiency};
use crate::stats::pvalue::{poisson_pvalue, sidak};
use crate::stats::special::z_from_p_saturating;

/// A cut-and-count test at one signal-region data efficiency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The fraction of signal-region data kept.
    pub efficiency: f64,
    /// The classifier threshold that keeps it.
    pub threshold: f64,
    /// Data events passing.
    pub observed: f64,
    /// The weighted reference events passing (SALAD's eq. 2.4), the reference normalised to
    /// the data count.
    pub predicted: f64,
    /// The statistical uncertainty of `predicted`, sqrt(Σ w²) normalised.
    pub predicted_error: f64,
    /// Its systematic uncertainty (e.g. from the closure of the same cut in the sidebands).
    pub systematic_error: f64,
    /// Predicted over observed efficiency (seed 004 Fig. 9): 1 where the estimate closes.
    pub efficiency_ratio: f64,
    /// Its statistical uncertainty (both samples' counts).
    pub efficiency_ratio_error: f64,
    /// The local p-value of `observed` given `predicted` ± both uncertainties.
    pub p_value: f64,
    /// Its significance.
    pub significance: f64,
}

/// The test at the score threshold keeping a fraction `eff` of the data: the data passing
/// against the reference events passing, Σ w 𝟙[s ≥ c], with the reference normalised to the
/// data count (its own normalisation is not trusted: 1 % of 10⁵ events is a many-σ effect).
/// The prediction's uncertainty is the reference's statistical one, sqrt(Σ w²) normalised,
/// and `systematic` × the prediction, added in quadrature.
pub fn estimate(
    eff: f64,
    data_scores: &[f64],
    reference_scores: &[f64],
    reference_weights: &[f64],
    systematic: f64,
) -> Result<Estimate> {
    let threshold = threshold_for_efficiency(data_scores, eff)?;
    let observed = data_scores.iter().filter(|&&s| s >= threshold).count() as f64;
    let (mut passed, mut sumw2, mut total) = (0.0, 0.0, 0.0);
    for (&s, &w) in reference_scores.iter().zip(reference_weights) {
        total += w;
        if s >= threshold {
            passed += w;
            sumw2 += w * w;
        }
    }
    let norm = data_scores.len() as f64 / total;
    let predicted = passed * norm;
    let predicted_error = sumw2.sqrt() * norm;
    let systematic_error = systematic * predicted;
    let data_eff = observed / data_scores.len() as f64;
    let ratio = (passed / total) / data_eff;
    let relative = (sumw2 / (passed * passed) + 1.0 / observed).sqrt();
    let p_value = poisson_pvalue(observed, predicted, predicted_error.hypot(systematic_error))?;
    Ok(Estimate {
        efficiency: eff,
        threshold,
        observed,
        predicted,
        predicted_error,
        systematic_error,
        efficiency_ratio: ratio,
        efficiency_ratio_error: ratio * relative,
        p_value,
        significance: z_from_p_saturating(p_value),
    })
}

/// The most significant of a list of tests and Šidák's correction over them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Significance {
    /// The efficiency of the smallest p-value.
    pub efficiency: f64,
    /// Its local p-value.
    pub local_p: f64,
    /// Its local significance.
    pub local_z: f64,
    /// Tests made: the trials factor's N.
    pub trials: usize,
    /// Šidák's 1 - (1 - p)^N: exact for independent tests, conservative (too large) for the
    /// correlated tests of nested selections and overlapping regions.
    pub global_p: f64,
    /// The global significance.
    pub global_z: f64,
}

impl Significance {
    /// The test of smallest p-value `local_p` (significance `local_z`, at `efficiency`) among
    /// `trials` tests, with Šidák's correction.
    pub fn sidak(efficiency: f64, local_p: f64, local_z: f64, trials: usize) -> Self {
        let global_p = sidak(local_p, trials).unwrap_or(f64::NAN);
        Self {
            efficiency,
            local_p,
            local_z,
            trials,
            global_p,
            global_z: z_from_p_saturating(global_p),
        }
    }

    /// "local p = … (Z = …); global p = … (Z = …) after N trials (Šidák)", for summaries.
    pub fn summary(&self) -> String {
        format!(
            "local p = {:.3e} (Z = {:.2}); global p = {:.3e} (Z = {:.2}) after {} trials (Šidák)",
            self.local_p, self.local_z, self.global_p, self.global_z, self.trials
        )
    }
}

/// The most significant of `estimates` with Šidák's correction over all of them; `None` if no
/// p-value is finite.
pub fn most_significant(estimates: &[Estimate]) -> Option<Significance> {
    let best = estimates
        .iter()
        .filter(|e| e.p_value.is_finite())
        .min_by(|a, b| a.p_value.total_cmp(&b.p_value))?;
    Some(Significance::sidak(
        best.efficiency,
        best.p_value,
        best.significance,
        estimates.len(),
    ))
}

/// Checks a single-window search's options: the window, enough folds, efficiencies in
/// (0, 1]. Returns the window's bin edges.
pub(crate) fn checked_window(
    window: &Window,
    folds: usize,
    efficiencies: &[f64],
) -> Result<[f64; 4]> {
    let edges = window.edges()?;
    if folds < 2 {
        return Err(Error::invalid(
            "folds",
            format!("{folds} folds cannot score every event out of sample; use at least 2"),
        ));
    }
    if efficiencies.is_empty() {
        return Err(Error::invalid(
            "efficiencies",
            "give at least one efficiency",
        ));
    }
    for &e in efficiencies {
        check_efficiency("efficiencies", e)?;
    }
    Ok(edges)
}

/// The header of [`Estimate::row`]'s columns.
pub const ROW_HEADER: &str = "data eff   observed    predicted ± error      pred/obs eff        Z";

impl Estimate {
    /// One line of a summary table, in the columns of [`ROW_HEADER`].
    pub fn row(&self) -> String {
        format!(
            "{:>8}  {:>9.0}  {:>10.1} ± {:<7.1} ± {:<7.1}  {:>7.3} ± {:<6.3}  {:>7.2}",
            format!("{}%", self.efficiency * 100.0),
            self.observed,
            self.predicted,
            self.predicted_error,
            self.systematic_error,
            self.efficiency_ratio,
            self.efficiency_ratio_error,
            self.significance
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_estimate_counts_weighted_simulation_above_the_data_threshold() {
        // Data scores 0.1 .. 1.0; the top 20 % is s >= 0.9.
        let data: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
        let sim = [0.95, 0.5, 0.92, 0.1];
        let w = [2.0, 1.0, 0.5, 1.5];
        let e = estimate(0.2, &data, &sim, &w, 0.0).unwrap();
        assert_eq!((e.threshold, e.observed), (0.9, 2.0));
        // 2.5 of 5 weighted reference events pass; normalised to 10 data events: 5.
        assert_eq!(e.predicted, 5.0);
        assert!((e.predicted_error - 2.0 * 4.25f64.sqrt()).abs() < 1e-12);
        // Predicted efficiency 2.5 / 5 over observed 2 / 10.
        assert!((e.efficiency_ratio - 2.5).abs() < 1e-12);
        let want = poisson_pvalue(2.0, 5.0, 2.0 * 4.25f64.sqrt()).unwrap();
        assert_eq!(e.p_value, want);
        // A 10 % systematic adds 0.5 events in quadrature.
        let s = estimate(0.2, &data, &sim, &w, 0.1).unwrap();
        assert!((s.systematic_error - 0.5).abs() < 1e-12);
        let want = poisson_pvalue(2.0, 5.0, (4.0 * 4.25f64 + 0.25).sqrt()).unwrap();
        assert_eq!(s.p_value, want);
    }
}
