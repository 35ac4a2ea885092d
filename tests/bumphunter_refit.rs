//! BumpHunter with the background refitted in every pseudo-experiment
//! (`bump_hunter_refit`): calibration on background-only toys whose reference was fitted to
//! the same toy, beside the plain pseudo-experiments of a fixed reference; determinism
//! across thread counts; failed refits reported. The large calibration table of docs/fits.md
//! is `cargo bench --bench refit_calibration`, on the same toys (tests/support/refit_null.rs).

#[path = "support/refit_null.rs"]
mod refit_null;

use bumplab::stats::bumphunter::{BackgroundModel, BumpHunterOptions, bump_hunter_refit};
use bumplab::stats::fit::{FamilyOptions, FitOptions, fit_dijet};
use bumplab::stats::hist::Hist1D;
use refit_null::{Null, dijet4, fraction_below, null_p_values, toy, truth};

#[test]
fn refitted_global_p_values_are_calibrated_and_plain_ones_too_large() {
    let Null { refit, plain, .. } = null_p_values(&dijet4(), 60, 100, 20_000.0);
    for cut in [0.05, 0.2] {
        let (f, e) = fraction_below(&refit, cut);
        // Not smaller than uniform (anti-conservative), and not far above it either.
        assert!(f <= cut + 3.0 * e, "refit: {f} of p <= {cut}: {refit:?}");
    }
    let (f, e) = fraction_below(&refit, 0.5);
    assert!(
        (f - 0.5).abs() <= 3.0 * e,
        "refit: {f} of p <= 0.5: {refit:?}"
    );
    // The fit follows each toy's fluctuations, which plain pseudo-experiments of the fitted
    // reference ignore: their global p-values are too large (measured on 200 toys: 0.28 of
    // them at or below 0.5, 0.08 at or below 0.2). Toy by toy, the plain p-value exceeds the
    // refitted one by 0.14 on average; half of that is more than 5 of its standard errors.
    let excess: f64 = plain.iter().zip(&refit).map(|(p, r)| p - r).sum::<f64>() / 60.0;
    assert!(excess > 0.07, "plain {plain:?}, refit {refit:?}");
    assert!(fraction_below(&plain, 0.5).0 < 0.45, "plain {plain:?}");
}

#[test]
fn refits_do_not_depend_on_the_thread_count() {
    let data = toy(&truth(5_000.0), 7);
    let opts = BumpHunterOptions {
        npe: 200,
        seed: 11,
        ..Default::default()
    };
    let family = BackgroundModel::Family(FamilyOptions::default());
    let many = bump_hunter_refit(&data, &family, &opts, None).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| bump_hunter_refit(&data, &family, &opts, None).unwrap());
    assert_eq!(many.n_extreme, one.n_extreme);
    assert_eq!(many.refit, one.refit);
    let other = bump_hunter_refit(
        &data,
        &family,
        &BumpHunterOptions { seed: 12, ..opts },
        None,
    )
    .unwrap();
    assert_ne!(
        other.refit, many.refit,
        "another seed, other pseudo-experiments"
    );
}

#[test]
fn failed_refits_are_counted_as_extreme_and_reported() {
    // 12 events in 10 bins: dijet4 needs 4 non-empty bins, which many draws lack.
    let e: Vec<f64> = (0..=10).map(|i| 3000.0 + 200.0 * i as f64).collect();
    let data =
        Hist1D::from_counts(e, vec![4.0, 2.0, 2.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]).unwrap();
    let opts = BumpHunterOptions {
        npe: 300,
        width_max: Some(3),
        ..Default::default()
    };
    let r = bump_hunter_refit(&data, &dijet4(), &opts, None).unwrap();
    let summary = r.refit.as_ref().unwrap();
    assert!(summary.n_failed > 0 && summary.n_failed < 300, "{r}");
    assert!(r.n_extreme >= summary.n_failed);
    let failure = summary.first_failure.as_deref().unwrap();
    assert!(
        failure.starts_with("pseudo-experiment ") && failure.contains("non-empty"),
        "{failure}"
    );
    let text = r.to_string();
    assert!(
        text.contains("failed refits") && text.contains("counted as extreme"),
        "{text}"
    );
    let converged = (r.n_extreme - summary.n_failed) as f64 / (300 - summary.n_failed) as f64;
    assert_eq!(summary.global_p_converged, converged);
    // When every refit fails there is no p-value: an error. With one pseudo-experiment, the
    // seeds whose single draw cannot be fitted show it.
    let errors: Vec<String> = (0..100)
        .filter_map(|seed| {
            let one = BumpHunterOptions {
                npe: 1,
                seed,
                ..opts.clone()
            };
            bump_hunter_refit(&data, &dijet4(), &one, None).err()
        })
        .map(|e| e.to_string())
        .collect();
    assert!(!errors.is_empty());
    for err in errors {
        assert!(
            err.contains("every one of the 1 refits failed")
                && err.contains("pseudo-experiment 0: "),
            "{err}"
        );
    }
}

#[test]
fn ctrl_c_stops_the_refits_and_a_fit_of_other_data_is_refused() {
    let data = toy(&truth(5_000.0), 3);
    let interrupt = bumplab::interrupt::Interrupt::new();
    interrupt.trigger();
    let err = bump_hunter_refit(
        &data,
        &dijet4(),
        &BumpHunterOptions::default(),
        Some(&interrupt),
    )
    .unwrap_err();
    assert!(matches!(err, bumplab::Error::Interrupted), "{err}");
    // `check_made_on` accepts the data's own fit and refuses another toy's.
    let fit = fit_dijet(data.edges(), data.counts(), &FitOptions::default()).unwrap();
    dijet4().check_made_on(&data, &fit).unwrap();
    let other = toy(&truth(5_000.0), 4);
    let other_fit = fit_dijet(other.edges(), other.counts(), &FitOptions::default()).unwrap();
    let err = dijet4()
        .check_made_on(&data, &other_fit)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not made on these data"), "{err}");
}

#[test]
fn a_fit_is_refitted_with_its_own_settings() {
    let data = toy(&truth(5_000.0), 3);
    let options = FitOptions {
        range: Some((2900.0, 5600.0)),
        exclude: Some((3500.0, 3800.0)),
        max_iterations: 57,
        ..FitOptions::default()
    };
    let fit = fit_dijet(data.edges(), data.counts(), &options).unwrap();
    assert_eq!(fit.max_iterations, 57);
    assert_eq!(
        BackgroundModel::of_fit(&fit),
        BackgroundModel::Function(options)
    );
}
