//! The bump test that ends every resonant search (seed 002 §4.1): histogram the selected
//! events' resonant mass, fit the dijet function (eq. 4.3) to the bins outside the signal
//! region, predict the background inside it with the fit's uncertainty, and compute the local
//! p-value of the observed count (Poisson, with the prediction's Gaussian uncertainty).

use serde::Serialize;

use super::estimate::MIN_REFERENCE_EVENTS;
use super::regions::Region;
use crate::error::{Error, Result};
use crate::stats::fit::{DijetFit, FitOptions, fit_dijet};
use crate::stats::hist::Hist1D;
use crate::stats::pvalue::poisson_pvalue;
use crate::stats::special::z_from_p;

/// The outcome of one window test.
#[derive(Clone, Debug, Serialize)]
pub struct WindowTest {
    /// The selection efficiency that produced these events (1 for no selection).
    pub efficiency: f64,
    /// Selected events in the whole fit range.
    pub selected: usize,
    /// Events observed in the signal region.
    pub observed: f64,
    /// The fitted background prediction in the signal region (NaN if the fit failed).
    pub expected: f64,
    /// Its uncertainty from the fit's covariance.
    pub expected_error: f64,
    /// The local p-value of at least `observed` events (NaN if the fit failed).
    pub p_value: f64,
    /// The one-sided local significance Z = Φ⁻¹(1 - p) (0 for a deficit, NaN if the fit failed).
    pub significance: f64,
    /// The selected events' mass histogram over the hunt's bins.
    pub hist: Hist1D,
    /// The sideband fit, if it converged.
    pub fit: Option<DijetFit>,
    /// Why the fit failed, if it did.
    pub fit_error: Option<String>,
    /// Why a successful fit still gives no p-value: fewer than
    /// [`MIN_REFERENCE_EVENTS`] selected events in the sidebands, or in the region's own
    /// sidebands (the fit's linearised uncertainty of a prediction extrapolated from far away
    /// is no uncertainty: on Pythia events a prediction of 0.001 ± 0.004 events beside empty
    /// sidebands once made 3 observed events a 5.5σ excess), or a prediction of zero or with no
    /// uncertainty (a zero or undetermined prediction is not a discovery).
    pub untested: Option<String>,
}

/// Tests `region` with the events of mass `masses` selected at `efficiency`, binned in `edges`.
/// A fit that cannot be made (too few events, no convergence) is reported in the result, not
/// as an error: a tight selection of a small sample may leave too little to fit, and the rest
/// of the scan is still worth reading. Errors: invalid `edges`.
pub fn window_test(
    edges: &[f64],
    region: &Region,
    masses: &[f64],
    efficiency: f64,
) -> Result<WindowTest> {
    let hist = Hist1D::fill(edges.to_vec(), masses, None)?;
    let observed: f64 = masses
        .iter()
        .filter(|&&m| m >= region.lo && m < region.hi)
        .count() as f64;
    let options = FitOptions {
        exclude: Some((region.lo, region.hi)),
        ..FitOptions::default()
    };
    let fit = match fit_dijet(edges, hist.counts(), &options) {
        Ok(fit) => fit,
        Err(e) => return Ok(failed(efficiency, masses.len(), observed, hist, e)),
    };
    let (expected, expected_error) = match fit.predict(region.lo, region.hi) {
        Ok((b, s)) if b.is_finite() && s.is_finite() => (b, s),
        Ok(_) => {
            let why = Error::invalid(
                "fit",
                "the fitted background in the signal region is not finite",
            );
            return Ok(failed(efficiency, masses.len(), observed, hist, why));
        }
        Err(e) => return Ok(failed(efficiency, masses.len(), observed, hist, e)),
    };
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
    Ok(WindowTest {
        efficiency,
        selected: masses.len(),
        observed,
        expected,
        expected_error,
        p_value,
        significance: z_from_p(p_value).unwrap_or(f64::NAN),
        hist,
        fit: Some(fit),
        fit_error: None,
        untested,
    })
}

fn failed(efficiency: f64, selected: usize, observed: f64, hist: Hist1D, why: Error) -> WindowTest {
    WindowTest {
        efficiency,
        selected,
        observed,
        expected: f64::NAN,
        expected_error: f64::NAN,
        p_value: f64::NAN,
        significance: f64::NAN,
        hist,
        fit: None,
        fit_error: Some(why.to_string()),
        untested: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::binning::log_bins;
    use crate::methods::regions::sliding_regions;
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
        let t = window_test(&edges, region, &masses, 0.1).unwrap();
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
        assert!(t.fit.is_some() && t.fit_error.is_none());

        // 1000 more events in the signal region (about 10 standard deviations of its
        // ~6000) give a large local significance.
        let width = region.hi - region.lo;
        masses.extend((0..1000).map(|i| region.lo + width * (i as f64 + 0.5) / 1000.0));
        let bumped = window_test(&edges, region, &masses, 0.1).unwrap();
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
                window_test(&edges, region, &masses, 1.0).unwrap().p_value
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
        let t = window_test(&edges, region, &masses, 0.01).unwrap();
        assert!(
            t.fit.is_some() && t.fit_error.is_none(),
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
        let t = window_test(&edges, region, &masses, 0.002).unwrap();
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
    fn a_fit_without_events_is_reported_not_raised() {
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let region = &sliding_regions(&edges, 3, 2).unwrap()[0];
        let t = window_test(&edges, region, &[3000.0, 3100.0], 0.002).unwrap();
        assert!(t.p_value.is_nan() && t.significance.is_nan());
        assert!(t.fit_error.is_some());
        assert_eq!(t.selected, 2);
    }
}
