//! Background-only toys for BumpHunter with refitted pseudo-experiments, shared by
//! tests/bumphunter_refit.rs and benches/refit_calibration.rs: a dijet4 spectrum, Poisson
//! toys of it, and the global p-values of toys whose reference was fitted to the toy itself.

use std::time::Instant;

use bumplab::seed::rng_for;
use bumplab::stats::bumphunter::{
    BackgroundModel, BumpHunterOptions, bump_hunter, bump_hunter_refit, reference_of,
};
use bumplab::stats::fit::{FitOptions, fit_dijet};
use bumplab::stats::hist::Hist1D;
use rand_distr::{Distribution, Poisson};

/// 30 bins from 2800 to 5800 GeV.
pub fn edges() -> Vec<f64> {
    (0..=30).map(|i| 2800.0 + 100.0 * i as f64).collect()
}

/// The expected counts of a dijet4 spectrum of about `total` events: the LHC Olympics shape
/// (p1, p2, p3) = (10, 5, 0.1) at the bin centres, made exactly a dijet4 expectation by
/// fitting it.
pub fn truth(total: f64) -> Hist1D {
    let e = edges();
    let shape: Vec<f64> = e
        .windows(2)
        .map(|w| {
            let y = 0.5 * (w[0] + w[1]) / 13000.0;
            (1.0 - y).powf(10.0) / y.powf(5.0 + 0.1 * y.ln())
        })
        .collect();
    let norm = total / shape.iter().sum::<f64>();
    let counts: Vec<f64> = shape.iter().map(|s| s * norm).collect();
    let fit = fit_dijet(&e, &counts, &FitOptions::default()).unwrap();
    reference_of(&fit).unwrap()
}

/// A Poisson draw of `mean` on stream `stream` of seed 1234.
pub fn toy(mean: &Hist1D, stream: u64) -> Hist1D {
    let mut rng = rng_for(1234, stream);
    let counts = mean
        .counts()
        .iter()
        .map(|&m| Poisson::new(m).unwrap().sample(&mut rng))
        .collect();
    Hist1D::from_counts(mean.edges().to_vec(), counts).unwrap()
}

/// Global p-values of `toys` background-only toys, the reference of each fitted to the toy
/// itself by `model`: refitted and plain, and the seconds each kind took (the plain ones
/// including their fit to the toy).
pub struct Null {
    pub refit: Vec<f64>,
    pub plain: Vec<f64>,
    pub refit_seconds: f64,
    pub plain_seconds: f64,
}

pub fn null_p_values(model: &BackgroundModel, toys: u64, npe: usize, total: f64) -> Null {
    let mean = truth(total);
    let mut null = Null {
        refit: Vec::new(),
        plain: Vec::new(),
        refit_seconds: 0.0,
        plain_seconds: 0.0,
    };
    for k in 0..toys {
        let data = toy(&mean, k);
        let opts = BumpHunterOptions {
            width_max: Some(6),
            npe,
            seed: 50_000 + k,
            ..Default::default()
        };
        let start = Instant::now();
        let refit = bump_hunter_refit(&data, model, &opts, None).unwrap();
        null.refit_seconds += start.elapsed().as_secs_f64();
        assert_eq!(refit.refit.as_ref().unwrap().n_failed, 0);
        let start = Instant::now();
        let fit = model.fit(data.edges(), data.counts()).unwrap();
        let plain = bump_hunter(&data, &reference_of(&fit).unwrap(), &opts, None).unwrap();
        null.plain_seconds += start.elapsed().as_secs_f64();
        assert_eq!((plain.start, plain.width), (refit.start, refit.width));
        null.refit.push(refit.global_p);
        null.plain.push(plain.global_p);
    }
    null
}

/// The fraction of `ps` at or below `cut`, and its binomial error if the p-values were
/// uniform.
pub fn fraction_below(ps: &[f64], cut: f64) -> (f64, f64) {
    let n = ps.len() as f64;
    let f = ps.iter().filter(|&&p| p <= cut).count() as f64 / n;
    (f, (cut * (1.0 - cut) / n).sqrt())
}

pub fn dijet4() -> BackgroundModel {
    BackgroundModel::Function(FitOptions::default())
}
