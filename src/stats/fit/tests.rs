//! Tests of the dijet fits: parameter recovery, chi2 and pull calibration on toys, windows,
//! ranges, sparse spectra and bad inputs.

use rand::SeedableRng;
use rand_distr::{Distribution, Poisson};

use super::*;

const TRUE: [f64; 4] = [2.0e-3, 10.0, 5.0, 0.1];

/// Edges from 2800 to 7000 GeV in `n` bins.
pub(super) fn edges(n: usize) -> Vec<f64> {
    (0..=n)
        .map(|i| 2800.0 + 4200.0 * i as f64 / n as f64)
        .collect()
}

/// Expected counts of `function` with θ = `theta` in the bins of `edges`, normalised to
/// `total` events.
pub(super) fn expected_of(
    function: Function,
    edges: &[f64],
    theta: &[f64],
    total: f64,
) -> Vec<f64> {
    let rule = Composite::new(NODES_PER_BIN, 1);
    let mu: Vec<f64> = edges
        .windows(2)
        .map(|e| {
            rule.points(e[0], e[1])
                .map(|(m, w)| w * dot(theta, &function.features(m, 13000.0)).exp())
                .sum()
        })
        .collect();
    let sum: f64 = mu.iter().sum();
    mu.iter().map(|m| m * total / sum).collect()
}

/// Expected counts of the dijet function with `params`, normalised to `total` events.
fn expected(edges: &[f64], params: [f64; 4], total: f64) -> Vec<f64> {
    let theta = [params[0].ln(), params[1], params[2], params[3]];
    expected_of(Function::Dijet4, edges, &theta, total)
}

pub(super) fn poisson_toy(mu: &[f64], rng: &mut rand::rngs::StdRng) -> Vec<f64> {
    mu.iter()
        .map(|&m| Poisson::new(m).unwrap().sample(rng))
        .collect()
}

#[test]
fn exact_expectations_give_back_the_parameters() {
    let e = edges(42);
    let mu = expected(&e, TRUE, 1e5);
    let fit = fit_dijet(&e, &mu, &FitOptions::default()).unwrap();
    let scale = mu.iter().sum::<f64>();
    let truth = expected(&e, TRUE, scale);
    // The shape parameters are recovered, and the predictions equal the expectations.
    for (got, want) in fit.params[1..].iter().zip(&TRUE[1..]) {
        assert!(
            (got - want).abs() < 1e-4 * want.abs().max(1.0),
            "{:?}",
            fit.params
        );
    }
    for (b, want) in fit.bin_predictions(&e).unwrap().iter().zip(&truth) {
        assert!((b - want).abs() < 1e-6 * want, "{b} vs {want}");
    }
    // Every bin is fitted; bins of the sparse tail are grouped in χ² (ndf below 42 - 4).
    assert!(fit.neg2_log_l < 1e-8 && fit.chi2 < 1e-8 && fit.fitted.iter().all(|f| *f));
    assert!(fit.ndf > 30 && fit.ndf < 38, "ndf {}", fit.ndf);
    assert!(fit.to_string().contains("chi2/ndf"));
}

/// A falling spectrum with a few hundred events leaves its last bins expecting far
/// below one event. Bin by bin, a single event there would make Pearson's χ² huge and
/// flag good fits; grouped, the p-values of true-model toys stay near uniform.
#[test]
fn chi2_of_sparse_toys_is_calibrated() {
    let e = edges(30);
    let mu = expected(&e, TRUE, 400.0);
    assert!(mu[mu.len() - 1] < 0.5, "the tail is sparse: {mu:?}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let toys = 400;
    let mut ps = Vec::new();
    for _ in 0..toys {
        let n = poisson_toy(&mu, &mut rng);
        if let Ok(fit) = fit_dijet(&e, &n, &FitOptions::default()) {
            assert!(fit.ndf > 0 && fit.ndf < 30 - 4, "grouped: ndf {}", fit.ndf);
            ps.push(fit.chi2_pvalue);
        }
    }
    assert!(ps.len() > toys * 9 / 10, "{} fits converged", ps.len());
    for alpha in [0.01, 0.05, 0.2] {
        let rate = ps.iter().filter(|&&p| p < alpha).count() as f64 / ps.len() as f64;
        let error = (alpha * (1.0 - alpha) / ps.len() as f64).sqrt();
        // Measured (400 toys): 0.023, 0.083, 0.245. Fitted to the ungrouped bins, the
        // grouped χ² runs a little above χ²(groups - 4): a good fit is flagged slightly
        // more often than α, the cautious side for a gate on discoveries.
        assert!(
            rate < alpha + 3.0 * error + 0.02 && rate > alpha / 4.0,
            "P(p < {alpha}) = {rate}: not near α"
        );
    }
}

#[test]
fn pulls_of_toys_have_unit_width() {
    let e = edges(30);
    let mu = expected(&e, TRUE, 2e4);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (window_lo, window_hi) = (3300.0, 3700.0);
    let (truth, _) = {
        let exact = fit_dijet(&e, &mu, &FitOptions::default()).unwrap();
        exact.predict(window_lo, window_hi).unwrap()
    };
    let mut pulls = Vec::new();
    let mut prediction_pulls = Vec::new();
    let mut chi2_p = Vec::new();
    for _ in 0..300 {
        let n = poisson_toy(&mu, &mut rng);
        let fit = fit_dijet(&e, &n, &FitOptions::default()).unwrap();
        pulls.push((fit.params[1] - TRUE[1]) / fit.param_errors()[1]);
        let (p, s) = fit.predict(window_lo, window_hi).unwrap();
        prediction_pulls.push((p - truth) / s);
        chi2_p.push(fit.chi2_pvalue);
    }
    for (name, x) in [("p1", &pulls), ("prediction", &prediction_pulls)] {
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt();
        assert!(
            mean.abs() < 0.2 && (sd - 1.0).abs() < 0.12,
            "{name}: mean {mean}, sd {sd}"
        );
    }
    // The chi2 p-values are roughly uniform: a Kolmogorov–Smirnov distance check.
    chi2_p.sort_by(f64::total_cmp);
    let d = chi2_p
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (p - i as f64 / 300.0)
                .abs()
                .max((p - (i + 1) as f64 / 300.0).abs())
        })
        .fold(0.0, f64::max);
    assert!(d < 1.63 / 300f64.sqrt(), "KS distance {d}");
}

#[test]
fn an_excluded_window_shields_the_fit_from_a_signal() {
    let e = edges(42);
    let mut n = expected(&e, TRUE, 2e5);
    let bkg_in_window: f64 = e
        .windows(2)
        .zip(&n)
        .filter(|(b, _)| b[0] >= 3500.0 && b[1] <= 3700.0)
        .map(|(_, c)| c)
        .sum();
    for (b, c) in e.windows(2).zip(n.iter_mut()) {
        if b[0] >= 3500.0 && b[1] <= 3700.0 {
            *c += 3000.0 / 2.0;
        }
    }
    let excluded = fit_dijet(
        &e,
        &n,
        &FitOptions {
            exclude: Some((3500.0, 3700.0)),
            ..Default::default()
        },
    )
    .unwrap();
    let (b, s) = excluded.predict(3500.0, 3700.0).unwrap();
    assert!(
        (b - bkg_in_window).abs() < 1e-4 * bkg_in_window,
        "{b} vs {bkg_in_window}"
    );
    assert!(s > 0.0 && excluded.ndf < 36 && excluded.fitted.iter().filter(|f| !**f).count() == 2);
    let included = fit_dijet(&e, &n, &FitOptions::default()).unwrap();
    let (biased, _) = included.predict(3500.0, 3700.0).unwrap();
    assert!(
        biased > bkg_in_window + 100.0,
        "the signal pulls an unshielded fit up: {biased}"
    );
    assert!(included.chi2_pvalue < 1e-6, "and spoils its chi2");
}

#[test]
fn log_bins_and_sparse_tails_fit() {
    let e: Vec<f64> = (0..=25)
        .map(|i| 2800.0 * (8000.0f64 / 2800.0).powf(i as f64 / 25.0))
        .collect();
    let mu = expected(&e, TRUE, 5e3);
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let n = poisson_toy(&mu, &mut rng);
    assert!(n.contains(&0.0), "the toy has empty bins in its tail");
    let fit = fit_dijet(&e, &n, &FitOptions::default()).unwrap();
    assert!(fit.chi2_pvalue > 1e-3, "{fit}");
}

#[test]
fn sparse_spectra_fit_or_fail_clearly() {
    let e = edges(30);
    let mu = expected(&e, TRUE, 300.0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    let mut failures = Vec::new();
    for _ in 0..100 {
        let n = poisson_toy(&mu, &mut rng);
        if let Err(err) = fit_dijet(&e, &n, &FitOptions::default()) {
            failures.push(err.to_string());
        }
    }
    assert!(
        failures.len() <= 5,
        "{} of 100 sparse toys failed: {failures:?}",
        failures.len()
    );
    assert!(
        failures.iter().all(|f| f.contains("fit_dijet")),
        "{failures:?}"
    );
}

#[test]
fn bad_inputs_are_errors() {
    let e = edges(10);
    let mu = expected(&e, TRUE, 1e4);
    let err = |edges: &[f64], counts: &[f64], o: FitOptions| {
        fit_dijet(edges, counts, &o).unwrap_err().to_string()
    };
    assert!(err(&e, &[0.0; 10], FitOptions::default()).contains("non-empty"));
    assert!(err(&e[..4], &mu[..3], FitOptions::default()).contains("at least 5 bins"));
    let mut nan = mu.clone();
    nan[3] = f64::NAN;
    assert!(err(&e, &nan, FitOptions::default()).contains("bin 3"));
    assert!(err(&e, &mu[..9], FitOptions::default()).contains("edges"));
    assert!(
        err(
            &e,
            &mu,
            FitOptions {
                sqrt_s: 5000.0,
                ..Default::default()
            }
        )
        .contains("sqrt_s")
    );
    assert!(
        err(
            &e,
            &mu,
            FitOptions {
                exclude: Some((4000.0, 3000.0)),
                ..Default::default()
            }
        )
        .contains("lo < hi")
    );
    assert!(
        err(
            &e,
            &mu,
            FitOptions {
                exclude: Some((2000.0, 6500.0)),
                ..Default::default()
            }
        )
        .contains("bins to fit outside the excluded window")
    );
    let fit = fit_dijet(&e, &mu, &FitOptions::default()).unwrap();
    assert!(fit.predict(3000.0, 2900.0).is_err() && fit.predict(3000.0, 14000.0).is_err());
}

/// θ of a spectrum of each function (ln p0 is set by the normalisation).
fn truths() -> [(Function, Vec<f64>); 4] {
    [
        (Function::Dijet3, vec![0.0, 10.0, 5.0]),
        (Function::Dijet4, vec![0.0, 10.0, 5.0, 2.0]),
        (Function::Dijet5, vec![0.0, 10.0, 5.0, 1.0, -1.0]),
        (Function::Ua2, vec![0.0, 4.0, 12.0, 3.0]),
    ]
}

#[test]
fn every_function_recovers_its_parameters() {
    let e = edges(42);
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    for (function, theta) in truths() {
        let options = FitOptions {
            function,
            ..Default::default()
        };
        let mu = expected_of(function, &e, &theta, 1e5);
        let fit = fit_dijet(&e, &mu, &options).unwrap();
        assert_eq!(fit.params.len(), function.n_params());
        assert_eq!(fit.fitted.len(), 42);
        assert!(fit.ndf > 0 && fit.ndf <= 42 - function.n_params());
        let errors = fit.param_errors();
        // The exact expectation gives back the shape to a small fraction of its error.
        for i in 1..theta.len() {
            assert!(
                (fit.params[i] - theta[i]).abs() < 1e-3 * errors[i],
                "{function} p{i}: {fit}"
            );
        }
        for (b, want) in fit.bin_predictions(&e).unwrap().iter().zip(&mu) {
            assert!((b - want).abs() < 1e-5 * want, "{function}: {b} vs {want}");
        }
        // A Poisson toy gives it back within its uncertainties, with a sound chi2.
        let n = poisson_toy(&mu, &mut rng);
        let fit = fit_dijet(&e, &n, &options).unwrap();
        let errors = fit.param_errors();
        for i in 1..theta.len() {
            assert!(
                (fit.params[i] - theta[i]).abs() < 4.0 * errors[i],
                "{function} p{i}: {fit}"
            );
        }
        assert!(fit.chi2_pvalue > 1e-3, "{fit}");
        assert!(fit.to_string().contains(function.formula()));
    }
}

#[test]
fn the_range_restricts_the_bins() {
    // Bins from 0 to 8400 GeV: the fit function is undefined in the first bin, and the
    // bins outside 2800-7000 carry garbage the range must keep out.
    let e: Vec<f64> = (0..=60).map(|i| 140.0 * i as f64).collect();
    let clean = expected(&e[20..=50], TRUE, 1e5);
    let mut n = vec![1e6; 60];
    n[20..50].copy_from_slice(&clean);
    let options = FitOptions {
        range: Some((2800.0, 7000.0)),
        ..Default::default()
    };
    let fit = fit_dijet(&e, &n, &options).unwrap();
    let inner = fit_dijet(&e[20..=50], &clean, &FitOptions::default()).unwrap();
    assert_eq!(fit.fitted.iter().filter(|f| **f).count(), 30);
    assert!(fit.fitted[20] && fit.fitted[49] && !fit.fitted[19] && !fit.fitted[50]);
    assert_eq!(
        (fit.ndf, fit.theta.clone()),
        (inner.ndf, inner.theta.clone())
    );
    assert!(fit.to_string().contains("fit range [2800, 7000)"));
    // Without the range the binning reaches m = 0, where no function is defined.
    let err = fit_dijet(&e, &n, &FitOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("binning [0, 8400]") && err.contains("range"),
        "{err}"
    );
    // A range and an excluded window together.
    let both = fit_dijet(
        &e,
        &n,
        &FitOptions {
            exclude: Some((3500.0, 3700.0)),
            ..options.clone()
        },
    )
    .unwrap();
    assert_eq!(both.fitted.iter().filter(|f| **f).count(), 30 - 1);
    assert!(both.ndf <= 30 - 1 - 4);
}

#[test]
fn degenerate_inputs_name_the_problem() {
    let e = edges(30);
    let mu = expected(&e, TRUE, 1e4);
    let err = |edges: &[f64], counts: &[f64], o: FitOptions| {
        fit_dijet(edges, counts, &o).unwrap_err().to_string()
    };
    for function in Function::ALL {
        let o = FitOptions {
            function,
            ..Default::default()
        };
        let k = function.n_params();
        let empty = err(&e, &[0.0; 30], o.clone());
        assert!(
            empty.contains("0 of them with events") && empty.contains(function.name()),
            "{empty}"
        );
        let few = err(&e[..=k], &mu[..k], o.clone());
        assert!(
            few.contains(&format!("{k} bins to fit"))
                && few.contains(&format!("at least {} bins", k + 1)),
            "{few}"
        );
    }
    let range = |lo, hi| FitOptions {
        range: Some((lo, hi)),
        ..Default::default()
    };
    assert!(err(&e, &mu, range(4000.0, 3000.0)).contains("invalid range"));
    assert!(err(&e, &mu, range(f64::NAN, 3000.0)).contains("lo < hi"));
    let outside = err(&e, &mu, range(8000.0, 9000.0));
    assert!(
        outside.contains("0 bins to fit in the range [8000, 9000)")
            && outside.contains("wider range"),
        "{outside}"
    );
    let past = err(
        &e,
        &mu,
        FitOptions {
            sqrt_s: 5000.0,
            ..range(3000.0, 6000.0)
        },
    );
    assert!(past.contains("fitted bins [2940, 6020]"), "{past}");
}
