//! The bump test that ends every resonant search (LHC Olympics 2020 §4.1): histogram the selected
//! events' resonant mass, fit the background outside the signal region, predict it inside
//! with every uncertainty the fit carries, and compute the local p-value of the observed count
//! (Poisson, with the prediction's Gaussian uncertainty).
//!
//! The fit is the nested dijet family (dijet3, dijet4, dijet5 chosen by Wilks' test, as the
//! dijet searches choose; [`fit_family`]), so the prediction carries the chosen fit's
//! statistical error and the function-choice error (the spread to the next function) in
//! quadrature. A fit that describes the sidebands badly (χ² p-value below
//! [`WindowSignificanceOptions::min_fit_pvalue`]) is flagged: its p-value is shown but a hunt does not
//! rank it, since a sculpted spectrum shows up as a local excess.

use serde::Serialize;

use super::estimate::MIN_REFERENCE_EVENTS;
use super::regions::Region;
use crate::error::{Error, Result};
use crate::stats::fit::{DijetFit, FamilyOptions, FitFamily, fit_family};
use crate::stats::hist::Hist1D;
use crate::stats::pvalue::poisson_pvalue;
use crate::stats::special::z_from_p;

/// Options of [`window_significance`].
#[derive(Clone, Debug, PartialEq)]
pub struct WindowSignificanceOptions {
    /// The functions fitted and the Wilks threshold of the choice (dijet3, dijet4, dijet5;
    /// 0.05); the signal region is excluded by the test itself.
    pub family: FamilyOptions,
    /// A test whose chosen fit has a χ² p-value below this is flagged as a poor fit (0.01).
    pub min_fit_pvalue: f64,
}

impl Default for WindowSignificanceOptions {
    fn default() -> Self {
        Self {
            family: FamilyOptions::default(),
            min_fit_pvalue: 0.01,
        }
    }
}

impl WindowSignificanceOptions {
    /// An error naming the option if `min_fit_pvalue` is not in [0, 1).
    pub fn check(&self) -> Result<()> {
        let t = self.min_fit_pvalue;
        if !(0.0..1.0).contains(&t) {
            return Err(Error::invalid(
                "min_fit_pvalue",
                format!(
                    "{t} is not a p-value threshold: give a number in [0, 1) (0.01; 0 flags nothing)"
                ),
            ));
        }
        Ok(())
    }
}

/// The outcome of one window test.
#[derive(Clone, Debug, Serialize)]
pub struct WindowSignificance {
    /// The selection efficiency that produced these events (1 for no selection).
    pub efficiency: f64,
    /// Selected events in the whole fit range.
    pub selected: usize,
    /// Events observed in the signal region.
    pub observed: f64,
    /// The fitted background prediction in the signal region (NaN if the fit failed).
    pub expected: f64,
    /// Its total uncertainty: `expected_stat_error` and `expected_choice_error` in quadrature.
    pub expected_error: f64,
    /// The part from the chosen fit's covariance.
    pub expected_stat_error: f64,
    /// The function-choice part: |chosen - alternative| prediction (NaN if no alternative
    /// function could be fitted).
    pub expected_choice_error: f64,
    /// The local p-value of at least `observed` events (NaN if the fit failed or the region is
    /// untested).
    pub p_value: f64,
    /// The one-sided local significance Z = Φ⁻¹(1 - p) (0 for a deficit, NaN if the fit failed).
    pub significance: f64,
    /// The chosen fit's χ² p-value over the sidebands (NaN if the fit failed).
    pub fit_pvalue: f64,
    /// The selected events' mass histogram over the hunt's bins.
    pub hist: Hist1D,
    /// The sideband fits and the function chosen among them, if one converged.
    pub family: Option<FitFamily>,
    /// Why the fit failed, if it did.
    pub fit_error: Option<String>,
    /// Why a successful fit still gives no p-value: fewer than
    /// [`MIN_REFERENCE_EVENTS`] selected events in the sidebands, or in the region's own
    /// sidebands (the fit's linearised uncertainty of a prediction extrapolated from far away
    /// is no uncertainty: on Pythia events a prediction of 0.001 ± 0.004 events beside empty
    /// sidebands once made 3 observed events a 5.5σ excess), only one function of the family
    /// fitted (no function-choice uncertainty), or a prediction of zero or with no
    /// uncertainty (a zero or undetermined prediction is not a discovery).
    pub untested: Option<String>,
    /// Why the p-value is shown but not ranked: the sideband fit's χ² p-value is below the
    /// threshold (the background model does not describe the sidebands).
    pub poor_fit: Option<String>,
}

impl WindowSignificance {
    /// The chosen sideband fit, if one converged.
    pub fn fit(&self) -> Option<&DijetFit> {
        self.family.as_ref().map(FitFamily::chosen_fit)
    }

    /// Whether the test has a p-value a hunt may rank: tested, with a good sideband fit.
    pub fn is_ranked(&self) -> bool {
        self.p_value.is_finite() && self.poor_fit.is_none()
    }
}

/// Tests `region` with the events of mass `masses` selected at `efficiency`, binned in `edges`.
/// A fit that cannot be made (too few events, no convergence) is reported in the result, not
/// as an error: a tight selection of a small sample may leave too little to fit, and the rest
/// of the scan is still worth reading. Errors: invalid `edges` or options.
pub fn window_significance(
    edges: &[f64],
    region: &Region,
    masses: &[f64],
    efficiency: f64,
    options: &WindowSignificanceOptions,
) -> Result<WindowSignificance> {
    options.check()?;
    let hist = Hist1D::fill(edges.to_vec(), masses, None)?;
    let observed: f64 = masses
        .iter()
        .filter(|&&m| m >= region.lo && m < region.hi)
        .count() as f64;
    let mut family_options = options.family.clone();
    family_options.fit.exclude = Some((region.lo, region.hi));
    let fail = |hist, why: Error| Ok(failed(efficiency, masses.len(), observed, hist, why));
    let family = match fit_family(edges, hist.counts(), &family_options) {
        Ok(family) => family,
        Err(e) => return fail(hist, e),
    };
    let fit = family.chosen_fit();
    let (expected, stat_error) = match fit.predict(region.lo, region.hi) {
        Ok((b, s)) if b.is_finite() && s.is_finite() => (b, s),
        Ok(_) => {
            let why = Error::invalid(
                "fit",
                "the fitted background in the signal region is not finite",
            );
            return fail(hist, why);
        }
        Err(e) => return fail(hist, e),
    };
    let choice_error = family
        .choice_uncertainty(region.lo, region.hi)
        .unwrap_or(f64::NAN);
    let expected_error = stat_error.hypot(choice_error);
    let (first, last) = (edges[0], edges[edges.len() - 1]);
    let count_in = |lo: f64, hi: f64| masses.iter().filter(|&&m| m >= lo && m < hi).count() as f64;
    let sidebands = count_in(first, last) - observed;
    let own_sidebands = count_in(region.sb_lo, region.lo) + count_in(region.hi, region.sb_hi);
    let untested = if sidebands < MIN_REFERENCE_EVENTS {
        Some(format!(
            "the sideband fit rests on {sidebands} selected events; a prediction needs at least \
             {MIN_REFERENCE_EVENTS}"
        ))
    } else if own_sidebands < MIN_REFERENCE_EVENTS {
        Some(format!(
            "the region's own sidebands ({:.0}-{:.0} and {:.0}-{:.0}) hold {own_sidebands} \
             selected events; a prediction extrapolated from farther away needs at least \
             {MIN_REFERENCE_EVENTS} there",
            region.sb_lo, region.lo, region.hi, region.sb_hi
        ))
    } else if !choice_error.is_finite() {
        Some(format!(
            "only {} of the fitted functions converged: the prediction has no function-choice \
             uncertainty",
            family.chosen
        ))
    } else if !(expected > 0.0 && expected_error > 0.0) {
        Some(format!(
            "the fit predicts {expected} ± {expected_error} events: no background estimate"
        ))
    } else {
        None
    };
    let p_value = match untested {
        Some(_) => f64::NAN,
        None => poisson_pvalue(observed, expected, expected_error).unwrap_or(f64::NAN),
    };
    let fit_pvalue = fit.chi2_pvalue;
    let poor_fit = (fit_pvalue < options.min_fit_pvalue).then(|| {
        format!(
            "the {} sideband fit has χ²/ndf = {:.1}/{} (p = {:.2e}), below {}: the background \
             model does not describe the sidebands",
            family.chosen, fit.chi2, fit.ndf, fit_pvalue, options.min_fit_pvalue
        )
    });
    Ok(WindowSignificance {
        efficiency,
        selected: masses.len(),
        observed,
        expected,
        expected_error,
        expected_stat_error: stat_error,
        expected_choice_error: choice_error,
        p_value,
        significance: z_from_p(p_value).unwrap_or(f64::NAN),
        fit_pvalue,
        hist,
        family: Some(family),
        fit_error: None,
        untested,
        poor_fit,
    })
}

fn failed(
    efficiency: f64,
    selected: usize,
    observed: f64,
    hist: Hist1D,
    why: Error,
) -> WindowSignificance {
    WindowSignificance {
        efficiency,
        selected,
        observed,
        expected: f64::NAN,
        expected_error: f64::NAN,
        expected_stat_error: f64::NAN,
        expected_choice_error: f64::NAN,
        p_value: f64::NAN,
        significance: f64::NAN,
        fit_pvalue: f64::NAN,
        hist,
        family: None,
        fit_error: Some(why.to_string()),
        untested: None,
        poor_fit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::binning::log_bins;
    use crate::methods::regions::sliding_regions;
    use crate::stats::fit::Function;
    use rand::RngExt;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;

    /// Masses drawn from dN/dm ∝ m^-6 on [lo, hi) by inverse CDF.
    fn power_law(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (a, b) = (lo.powf(-5.0), hi.powf(-5.0));
        (0..n)
            .map(|_| (a - rng.random::<f64>() * (a - b)).powf(-0.2))
            .collect()
    }

    #[test]
    fn the_observed_count_and_prediction_follow_the_formula() {
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let region = &sliding_regions(&edges, 3, 2).unwrap()[4];
        let mut masses = power_law(50_000, 2632.0, 6000.0, 1);
        let t = window_significance(
            &edges,
            region,
            &masses,
            0.1,
            &WindowSignificanceOptions::default(),
        )
        .unwrap();
        let inside = masses
            .iter()
            .filter(|&&m| m >= region.lo && m < region.hi)
            .count();
        assert_eq!(t.observed, inside as f64);
        assert_eq!(t.selected, 50_000);
        // A smooth spectrum: the prediction agrees with the count within a few sigma.
        let sigma = (t.expected + t.expected_error.powi(2)).sqrt();
        assert!((t.observed - t.expected).abs() < 4.0 * sigma, "{t:?}");
        let p = poisson_pvalue(t.observed, t.expected, t.expected_error).unwrap();
        assert_eq!(t.p_value, p);
        assert!(t.fit().is_some() && t.fit_error.is_none());

        // 1000 more events in the signal region (about 10 standard deviations of its
        // ~6000) give a large local significance.
        let width = region.hi - region.lo;
        masses.extend((0..1000).map(|i| region.lo + width * (i as f64 + 0.5) / 1000.0));
        let bumped = window_significance(
            &edges,
            region,
            &masses,
            0.1,
            &WindowSignificanceOptions::default(),
        )
        .unwrap();
        assert_eq!(bumped.observed, t.observed + 1000.0);
        assert!(bumped.significance > 5.0, "{bumped:?}");
    }

    #[test]
    fn local_p_values_are_calibrated_under_the_null() {
        // Background-only toys from a spectrum in the dijet family (m^-6): the fitted
        // prediction's uncertainty enters the p-value, so P(p <= alpha) must stay near alpha.
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let region = &sliding_regions(&edges, 3, 2).unwrap()[5];
        let toys = 400;
        let ps: Vec<f64> = (0..toys)
            .map(|seed| {
                let masses = power_law(20_000, 2632.0, 6000.0, 100 + seed);
                window_significance(
                    &edges,
                    region,
                    &masses,
                    1.0,
                    &WindowSignificanceOptions::default(),
                )
                .unwrap()
                .p_value
            })
            .collect();
        assert!(ps.iter().all(|p| p.is_finite()));
        for alpha in [0.05, 0.2, 0.5] {
            let rate = ps.iter().filter(|&&p| p <= alpha).count() as f64 / toys as f64;
            let error = (alpha * (1.0 - alpha) / toys as f64).sqrt();
            assert!(
                (rate - alpha).abs() < 3.0 * error,
                "alpha {alpha}: rate {rate}"
            );
        }
    }

    #[test]
    fn a_fit_on_a_handful_of_sideband_events_is_no_test() {
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let region = &sliding_regions(&edges, 3, 2).unwrap()[4];
        // Eight sideband events spread over the range (the fit converges) and two in the SR.
        let mut masses: Vec<f64> = (0..16)
            .map(|i| 0.5 * (edges[i] + edges[i + 1]))
            .filter(|&m| m < region.lo || m >= region.hi)
            .take(8)
            .collect();
        masses.extend([region.lo + 1.0, region.lo + 2.0]);
        let t = window_significance(
            &edges,
            region,
            &masses,
            0.01,
            &WindowSignificanceOptions::default(),
        )
        .unwrap();
        assert!(
            t.fit().is_some() && t.fit_error.is_none(),
            "{:?}",
            t.fit_error
        );
        assert!(t.p_value.is_nan() && t.significance.is_nan());
        let why = t.untested.unwrap();
        assert!(why.contains("rests on 8 selected events"), "{why}");
    }

    /// The Pythia case: plenty of selected events at low mass, none beside a high-mass region,
    /// three inside it. The fit predicts almost nothing there with an almost-zero error.
    #[test]
    fn a_region_with_empty_sidebands_is_no_test() {
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let region = &sliding_regions(&edges, 3, 2).unwrap()[9];
        let counts = [15, 17, 16, 9, 8, 9, 6, 4, 0, 0, 0, 2, 0, 1, 0, 0];
        let masses: Vec<f64> = counts
            .iter()
            .enumerate()
            .flat_map(|(i, &n)| std::iter::repeat_n((edges[i] * edges[i + 1]).sqrt(), n))
            .collect();
        let t = window_significance(
            &edges,
            region,
            &masses,
            0.002,
            &WindowSignificanceOptions::default(),
        )
        .unwrap();
        assert_eq!(t.observed, 3.0);
        assert!(
            t.p_value.is_nan() && t.significance.is_nan(),
            "Z = {}",
            t.significance
        );
        let why = t.untested.unwrap();
        assert!(
            why.contains("own sidebands") && why.contains("hold 0 selected"),
            "{why}"
        );
    }

    #[test]
    fn the_prediction_carries_the_fit_and_the_function_choice() {
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let region = &sliding_regions(&edges, 3, 2).unwrap()[5];
        let masses = power_law(20_000, 2632.0, 6000.0, 3);
        let t = window_significance(
            &edges,
            region,
            &masses,
            1.0,
            &WindowSignificanceOptions::default(),
        )
        .unwrap();
        let family = t.family.as_ref().unwrap();
        let alternative = family.alternative_fit().unwrap();
        let chosen = family.chosen_fit().predict(region.lo, region.hi).unwrap();
        let other = alternative.predict(region.lo, region.hi).unwrap().0;
        assert_eq!((t.expected, t.expected_stat_error), chosen);
        assert_eq!(t.expected_choice_error, (chosen.0 - other).abs());
        assert!(t.expected_choice_error > 0.0);
        assert_eq!(
            t.expected_error,
            t.expected_stat_error.hypot(t.expected_choice_error)
        );
        assert_eq!(t.fit_pvalue, t.fit().unwrap().chi2_pvalue);
        assert!(t.is_ranked() && t.poor_fit.is_none(), "{:?}", t.poor_fit);
        // With a single function there is no choice uncertainty and no test.
        let single = WindowSignificanceOptions {
            family: FamilyOptions {
                functions: vec![Function::Dijet4],
                ..FamilyOptions::default()
            },
            ..WindowSignificanceOptions::default()
        };
        let t = window_significance(&edges, region, &masses, 1.0, &single).unwrap();
        assert!(t.p_value.is_nan() && !t.is_ranked());
        assert!(t.untested.unwrap().contains("function-choice"));
    }

    /// A selection that sculpts the spectrum (keeps a band of masses in the sidebands more
    /// often) leaves a shape no dijet function follows: the test is flagged, not ranked.
    #[test]
    fn a_sculpted_spectrum_is_flagged() {
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let region = &sliding_regions(&edges, 3, 2).unwrap()[2];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let masses: Vec<f64> = power_law(100_000, 2632.0, 6000.0, 4)
            .into_iter()
            .filter(|&m| {
                let bump = (-((m / 4300.0).ln() / 0.05).powi(2)).exp();
                rng.random::<f64>() < 0.4 + 0.6 * bump
            })
            .collect();
        let t = window_significance(
            &edges,
            region,
            &masses,
            0.1,
            &WindowSignificanceOptions::default(),
        )
        .unwrap();
        assert!(t.p_value.is_finite(), "{:?}", t.untested);
        let why = t.poor_fit.as_deref().expect("flagged");
        assert!(
            why.contains("χ²/ndf") && why.contains("below 0.01"),
            "{why}"
        );
        assert!(t.fit_pvalue < 0.01 && !t.is_ranked());
        // A threshold of 0 flags nothing; a threshold of 1 is refused.
        let lenient = WindowSignificanceOptions {
            min_fit_pvalue: 0.0,
            ..WindowSignificanceOptions::default()
        };
        let t = window_significance(&edges, region, &masses, 0.1, &lenient).unwrap();
        assert!(t.is_ranked());
        let bad = WindowSignificanceOptions {
            min_fit_pvalue: 1.0,
            ..WindowSignificanceOptions::default()
        };
        let err = window_significance(&edges, region, &masses, 0.1, &bad).unwrap_err();
        assert!(err.to_string().contains("min_fit_pvalue"), "{err}");
    }

    #[test]
    fn a_fit_without_events_is_reported_not_raised() {
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let region = &sliding_regions(&edges, 3, 2).unwrap()[0];
        let t = window_significance(
            &edges,
            region,
            &[3000.0, 3100.0],
            0.002,
            &WindowSignificanceOptions::default(),
        )
        .unwrap();
        assert!(t.p_value.is_nan() && t.significance.is_nan());
        assert!(t.fit_error.is_some());
        assert_eq!(t.selected, 2);
    }
}
