//! Cut-and-count against a weighted reference sample: the background estimate of SALAD (the
//! DCTR-reweighted simulation, Andreassen et al. 2020 eq. 2.4) and of ANODE (events drawn from the
//! sideband density). A threshold on the score keeps a fraction of the data; the reference
//! events above it, weighted, predict how many data events should pass.

use serde::Serialize;

use super::window::Window;
use crate::data::eventset::EventSet;
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
    /// Predicted over observed efficiency (Andreassen et al. 2020 Fig. 9): 1 where the estimate closes.
    pub efficiency_ratio: f64,
    /// Its statistical uncertainty (both samples' counts).
    pub efficiency_ratio_error: f64,
    /// The effective number of reference events passing, (Σw)² / Σw².
    pub reference_events: f64,
    /// Why no p-value is given, when the estimate cannot support one (too few reference
    /// events, an unmeasurable systematic); `None` for a test.
    pub untested: Option<String>,
    /// The local p-value of `observed` given `predicted` ± both uncertainties (NaN when
    /// untested).
    pub p_value: f64,
    /// Its significance (NaN when untested).
    pub significance: f64,
}

/// The fewest effective reference events, (Σw)² / Σw², that may predict a background. Below
/// it the prediction's own statistical uncertainty exceeds 1/sqrt(10) ≈ 32 %, and with none
/// passing it is "0 ± 0": one observed event then read as Z = 37.5. Such cuts are shown but
/// not tested.
pub const MIN_REFERENCE_EVENTS: f64 = 10.0;

/// The test at the score threshold keeping a fraction `eff` of the data: the data passing
/// against the reference events passing, Σ w 𝟙[s ≥ c], with the reference normalised to the
/// data count (its own normalisation is not trusted: 1 % of 10⁵ events is a many-σ effect).
/// The prediction's uncertainty is the reference's statistical one, sqrt(Σ w²) normalised,
/// and `systematic` × the prediction, added in quadrature. A cut passed by fewer than
/// [`MIN_REFERENCE_EVENTS`] effective reference events, or whose `systematic` could not be
/// measured (`None`), gets no p-value: a zero or undetermined prediction is not a discovery.
pub fn estimate(
    eff: f64,
    data_scores: &[f64],
    reference_scores: &[f64],
    reference_weights: &[f64],
    systematic: Option<f64>,
) -> Result<Estimate> {
    estimate_with_systematic(
        eff,
        data_scores,
        reference_scores,
        reference_weights,
        systematic.ok_or_else(|| {
            "the cut's systematic could not be measured (its sideband closure is undefined)"
                .to_string()
        }),
    )
}

/// [`estimate`] with the reason why the systematic is unknown: `Ok(relative)` is the
/// prediction's relative systematic uncertainty (the estimate records `relative × predicted`
/// events beside the statistical error and adds both in quadrature before the p-value),
/// `Err(why)` leaves the cut untested with `why` as its reason (ANODE: no validation windows,
/// a single sideband flow).
pub fn estimate_with_systematic(
    eff: f64,
    data_scores: &[f64],
    reference_scores: &[f64],
    reference_weights: &[f64],
    systematic: std::result::Result<f64, String>,
) -> Result<Estimate> {
    if let Ok(s) = systematic
        && !(s.is_finite() && s >= 0.0)
    {
        return Err(Error::invalid(
            "systematic",
            format!("{s} is not a relative uncertainty (finite, at least 0)"),
        ));
    }
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
    let systematic_error = systematic.as_ref().map_or(f64::NAN, |s| s * predicted);
    let data_eff = observed / data_scores.len() as f64;
    let ratio = (passed / total) / data_eff;
    let relative = (sumw2 / (passed * passed) + 1.0 / observed).sqrt();
    let reference_events = if sumw2 > 0.0 {
        passed * passed / sumw2
    } else {
        0.0
    };
    let untested = if reference_events < MIN_REFERENCE_EVENTS {
        Some(format!(
            "only {reference_events:.1} effective reference events pass the cut; a prediction \
             needs at least {MIN_REFERENCE_EVENTS}"
        ))
    } else {
        systematic.as_ref().err().cloned()
    };
    let p_value = match untested {
        Some(_) => f64::NAN,
        None => poisson_pvalue(observed, predicted, predicted_error.hypot(systematic_error))?,
    };
    Ok(Estimate {
        efficiency: eff,
        threshold,
        observed,
        predicted,
        predicted_error,
        systematic_error,
        efficiency_ratio: ratio,
        efficiency_ratio_error: if passed > 0.0 {
            ratio * relative
        } else {
            f64::NAN
        },
        reference_events,
        untested,
        p_value,
        significance: if p_value.is_nan() {
            f64::NAN
        } else {
            z_from_p_saturating(p_value)
        },
    })
}

/// One line per estimate that got no p-value, saying why (for the end of a summary table).
pub fn untested_notes(estimates: &[Estimate]) -> Vec<String> {
    estimates
        .iter()
        .filter_map(|e| {
            e.untested
                .as_ref()
                .map(|why| format!("n/a at {}% data efficiency: {why}", e.efficiency * 100.0))
        })
        .collect()
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

/// The events of `events` at `positions` whose `scores` (one per position) are among the
/// highest, a fraction `efficiency` of them: a search's selection at a data efficiency.
pub fn highest_scoring(
    events: &EventSet,
    positions: &[usize],
    scores: &[f64],
    efficiency: f64,
) -> Result<EventSet> {
    check_efficiency("efficiency", efficiency)?;
    let t = threshold_for_efficiency(scores, efficiency)?;
    let kept: Vec<usize> = positions
        .iter()
        .zip(scores)
        .filter(|&(_, &s)| s >= t)
        .map(|(&p, _)| p)
        .collect();
    events.take(&kept)
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
pub const ROW_HEADER: &str =
    "data eff   observed    predicted ± stat    ± syst     pred/obs eff        Z";

impl Estimate {
    /// One line of a summary table, in the columns of [`ROW_HEADER`].
    pub fn row(&self) -> String {
        let z = if self.untested.is_some() {
            "n/a".to_string()
        } else {
            format!("{:.2}", self.significance)
        };
        let systematic = if self.systematic_error.is_nan() {
            "n/a".to_string()
        } else {
            format!("{:.1}", self.systematic_error)
        };
        format!(
            "{:>8}  {:>9.0}  {:>10.1} ± {:<7.1} ± {:<7}  {:>7.3} ± {:<6.3}  {:>7}",
            format!("{}%", self.efficiency * 100.0),
            self.observed,
            self.predicted,
            self.predicted_error,
            systematic,
            self.efficiency_ratio,
            self.efficiency_ratio_error,
            z
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_estimate_counts_weighted_simulation_above_the_data_threshold() {
        // Data scores 0.1 .. 1.0; the top 20 % is s >= 0.9. The reference is four events
        // repeated 20 times, so that enough pass for a test.
        let data: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
        let sim: Vec<f64> = [0.95, 0.5, 0.92, 0.1].repeat(20);
        let w: Vec<f64> = [2.0, 1.0, 0.5, 1.5].repeat(20);
        let e = estimate(0.2, &data, &sim, &w, Some(0.0)).unwrap();
        assert_eq!((e.threshold, e.observed), (0.9, 2.0));
        // 50 of 100 weighted reference events pass; normalised to 10 data events: 5.
        assert_eq!(e.predicted, 5.0);
        let error = 85f64.sqrt() / 10.0;
        assert!((e.predicted_error - error).abs() < 1e-12);
        assert!((e.reference_events - 2500.0 / 85.0).abs() < 1e-9);
        // Predicted efficiency 50 / 100 over observed 2 / 10.
        assert!((e.efficiency_ratio - 2.5).abs() < 1e-12);
        let want = poisson_pvalue(2.0, 5.0, error).unwrap();
        assert_eq!((e.p_value, e.untested.as_deref()), (want, None));
        // A 10 % systematic adds 0.5 events in quadrature.
        let s = estimate(0.2, &data, &sim, &w, Some(0.1)).unwrap();
        assert!((s.systematic_error - 0.5).abs() < 1e-12);
        let want = poisson_pvalue(2.0, 5.0, (error * error + 0.25).sqrt()).unwrap();
        assert_eq!(s.p_value, want);
    }

    #[test]
    fn a_systematic_with_its_reason_adds_in_quadrature_or_leaves_the_cut_untested() {
        let data: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
        let sim: Vec<f64> = [0.95, 0.5, 0.92, 0.1].repeat(20);
        let w: Vec<f64> = [2.0, 1.0, 0.5, 1.5].repeat(20);
        // 5 predicted ± 0.922 (stat) ± 1.5 (30 %, syst): the p-value sees both.
        let e = estimate_with_systematic(0.2, &data, &sim, &w, Ok(0.3)).unwrap();
        let stat = 85f64.sqrt() / 10.0;
        assert!((e.predicted_error - stat).abs() < 1e-12);
        assert!((e.systematic_error - 1.5).abs() < 1e-12);
        let want = poisson_pvalue(2.0, 5.0, stat.hypot(1.5)).unwrap();
        assert_eq!(e.p_value, want);
        let stat_only = poisson_pvalue(2.0, 5.0, stat).unwrap();
        assert!(e.p_value != stat_only);
        // The row shows both errors.
        assert!(
            e.row().contains("± 0.9") && e.row().contains("± 1.5"),
            "{}",
            e.row()
        );
        // No systematic: the reason is kept and no p-value given.
        let why = "no validation windows".to_string();
        let u = estimate_with_systematic(0.2, &data, &sim, &w, Err(why.clone())).unwrap();
        assert_eq!(u.untested, Some(why));
        assert!(u.p_value.is_nan() && u.systematic_error.is_nan());
        // Not a relative uncertainty.
        for bad in [-0.1, f64::NAN, f64::INFINITY] {
            assert!(estimate_with_systematic(0.2, &data, &sim, &w, Ok(bad)).is_err());
        }
    }

    #[test]
    fn too_few_reference_events_or_no_systematic_is_no_test() {
        // One observed event over a reference of which nothing passes: 0 ± 0 predicted,
        // which read as Z = 37.5 before the minimum-statistics rule.
        let data = [0.1, 0.2, 0.9];
        let none_pass = estimate(0.3, &data, &[0.1, 0.2, 0.3], &[1.0; 3], Some(0.0)).unwrap();
        assert_eq!((none_pass.observed, none_pass.predicted), (1.0, 0.0));
        assert!(none_pass.p_value.is_nan() && none_pass.significance.is_nan());
        assert!(
            none_pass
                .untested
                .as_ref()
                .unwrap()
                .contains("0.0 effective reference events")
        );
        // Nine equal reference events passing: one short of a test.
        let sim: Vec<f64> = (0..100).map(|i| if i < 9 { 0.95 } else { 0.0 }).collect();
        let few = estimate(0.3, &data, &sim, &[1.0; 100], Some(0.0)).unwrap();
        assert!((few.reference_events - 9.0).abs() < 1e-12 && few.p_value.is_nan());
        let sim: Vec<f64> = (0..100).map(|i| if i < 10 { 0.95 } else { 0.0 }).collect();
        let enough = estimate(0.3, &data, &sim, &[1.0; 100], Some(0.0)).unwrap();
        assert!(enough.untested.is_none() && enough.p_value.is_finite());
        let unmeasured = estimate(0.3, &data, &sim, &[1.0; 100], None).unwrap();
        assert!(unmeasured.untested.as_ref().unwrap().contains("systematic"));
        assert!(unmeasured.row().ends_with("n/a"), "{}", unmeasured.row());
        // Untested cuts are never the most significant.
        let best = most_significant(&[none_pass.clone(), enough.clone()]).unwrap();
        assert_eq!(best.local_p, enough.p_value);
        assert!(most_significant(std::slice::from_ref(&none_pass)).is_none());
        assert_eq!(untested_notes(&[none_pass, enough]).len(), 1);
    }
}
