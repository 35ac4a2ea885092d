//! Bump hunting in latent space (BuHuLaSpa, Bortolato et al. 2021; LHC Olympics 2020 §3.3): a variational
//! autoencoder on the jet observables, with the per-event KL divergence of the latent
//! posterior to the prior as the anomaly score.
//!
//! The recipe of the paper, which the defaults follow:
//! - inputs: the jet masses and N-subjettiness ratios (mj1, mj2, tau21_1, tau21_2, tau32_1,
//!   tau32_2), never the dijet mass (selecting on a score that knows m_jj would sculpt the
//!   spectrum the bump hunt reads), scaled by their largest absolute value (MaxAbsScaler);
//! - a VAE with 3 × 64 SELU layers, a one-dimensional latent space and the reconstruction
//!   weighted by α = 5000 against the KL term (eq. 1), trained with Adadelta in batches of 1000
//!   for at most 100 epochs;
//! - the KL-peak rule: training stops once the validation KL has risen 5 epochs in a row and
//!   then fallen 5 in a row, and keeps the epoch of the largest validation KL (without a peak
//!   in the allowed epochs, the largest KL seen);
//! - `runs` networks differing in their initial weights, their per-event scores averaged.
//!
//! Besides the KL the latent position |z̄| and the reconstruction error are kept as
//! alternative scores (the paper compares them). The characterisation of the latent space —
//! a second decoder on (z, m_jj) — is in [`super::latent_map`].

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use serde::Serialize;

use crate::data::eventset::EventSet;
use crate::data::scaler::{Scaler, ScalerKind};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::Trainable;
use crate::nn::batching::batched_along;
use crate::nn::layers::Activation;
use crate::nn::optim::Kind;
use crate::nn::train::{Dataset, Goal, History, TrainOptions, Validation, fit};
use crate::nn::vae::{Vae, VaeConfig};
use crate::progress::Progress;
use crate::seed::stream_seed;
use crate::stats::metrics::{check_efficiency, threshold_for_efficiency};

/// Which per-event quantity ranks events as anomalous.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LatentScore {
    /// The KL divergence of the latent posterior to the unit Gaussian (the paper's choice).
    Kl,
    /// The distance |z̄| of the latent mean from the origin.
    Latent,
    /// The squared reconstruction error summed over the (scaled) inputs.
    Reconstruction,
}

impl LatentScore {
    /// Every score, in the order the result's tables list them.
    pub const ALL: [LatentScore; 3] = [Self::Kl, Self::Latent, Self::Reconstruction];

    /// The score called `name`: "kl", "latent" or "recon".
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "kl" => Ok(Self::Kl),
            "latent" => Ok(Self::Latent),
            "recon" => Ok(Self::Reconstruction),
            other => Err(Error::invalid(
                "score",
                format!("'{other}': use \"kl\", \"latent\" or \"recon\""),
            )),
        }
    }

    /// The score's short name, also its column name in [`LatentVae::scored`] (with `_score`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Kl => "kl",
            Self::Latent => "latent",
            Self::Reconstruction => "recon",
        }
    }
}

/// Options of [`latent_vae`].
#[derive(Clone, Debug)]
pub struct LatentVaeOptions {
    /// The VAE's inputs (mj1, mj2, tau21_1, tau21_2, tau32_1, tau32_2).
    pub features: Vec<String>,
    /// The resonant mass, read only for the characterisation and the selections' spectra
    /// ("mjj"); it is never an input.
    pub mass: String,
    /// The VAE's shape (`inputs` is set from the features): latent 1, hidden [64, 64, 64],
    /// SELU, beta 1, recon_weight 5000.
    pub vae: VaeConfig,
    /// Training of every run: at most 100 epochs, batch 1000, Adadelta (lr 1.0), a 20 %
    /// validation hold-out, monitor "val_kl" maximised, stop at its peak (5 rises, 5 falls).
    pub training: TrainOptions,
    /// Networks averaged (5; the paper uses 20).
    pub runs: usize,
    /// The score the selections use (KL).
    pub score: LatentScore,
    /// Where the networks live (CPU).
    pub device: Device,
    /// Seed of the weights, the shuffles, the hold-outs and the reparameterisation.
    pub seed: u64,
}

/// The default inputs of Bortolato et al. 2021.
pub const DEFAULT_FEATURES: [&str; 6] = ["mj1", "mj2", "tau21_1", "tau21_2", "tau32_1", "tau32_2"];

impl Default for LatentVaeOptions {
    fn default() -> Self {
        let features: Vec<String> = DEFAULT_FEATURES.iter().map(|s| s.to_string()).collect();
        Self {
            vae: VaeConfig {
                latent: 1,
                hidden: vec![64, 64, 64],
                activation: Activation::Selu,
                beta: 1.0,
                recon_weight: 5000.0,
                ..VaeConfig::new(features.len())
            },
            features,
            mass: "mjj".into(),
            training: TrainOptions {
                epochs: 100,
                batch_size: 1000,
                lr: 1.0,
                optimizer: Kind::Adadelta,
                validation: Validation::Fraction(0.2),
                monitor: "val_kl".into(),
                goal: Goal::Maximise,
                stop_at_peak: Some((5, 5)),
                restore_best: true,
                ..TrainOptions::default()
            },
            runs: 5,
            score: LatentScore::Kl,
            device: Device::Cpu,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

/// One trained network of the ensemble.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    /// Its training record (validation KL per epoch among the metrics).
    pub history: History,
    /// Whether the KL-peak rule ended its training.
    pub stopped_at_peak: bool,
    /// The network, with the weights of its best epoch.
    #[serde(skip)]
    pub vae: Vae,
}

/// The per-event scores of every kind, averaged over the runs.
#[derive(Clone, Debug, Default)]
pub struct Scores {
    /// Mean KL divergence.
    pub kl: Vec<f64>,
    /// Mean |z̄|.
    pub latent: Vec<f64>,
    /// Mean reconstruction error.
    pub recon: Vec<f64>,
    /// Standard deviation of the KL over the runs (the band of the paper's Figs. 3–4).
    pub kl_spread: Vec<f64>,
}

impl Scores {
    /// The scores of `kind`.
    pub fn of(&self, kind: LatentScore) -> &[f64] {
        match kind {
            LatentScore::Kl => &self.kl,
            LatentScore::Latent => &self.latent,
            LatentScore::Reconstruction => &self.recon,
        }
    }
}

/// The result of [`latent_vae`]: the trained runs and every event's scores.
#[derive(Clone, Debug, Serialize)]
pub struct LatentVae {
    /// The inputs.
    pub features: Vec<String>,
    /// The resonant mass column.
    pub mass: String,
    /// The score the selections use.
    pub score: LatentScore,
    /// The trained networks.
    pub runs: Vec<Run>,
    /// Wall-clock seconds of the training (shown, not saved: result files are reproducible).and scoring (shown, not saved: result files are reproducible).
    #[serde(skip)]
    pub seconds: f64,
    /// The input scaling (MaxAbs), fitted on the training events.
    #[serde(skip)]
    pub scaler: Scaler,
    /// The scores of the training events.
    #[serde(skip)]
    pub scores: Scores,
    /// The training events.
    #[serde(skip)]
    pub events: EventSet,
}

/// Trains the latent-space VAE ensemble on `events` and scores them (see the module
/// documentation). Errors before any training: a missing or non-finite input column, the mass
/// among the inputs, no runs, too few events. Ctrl-C (`interrupt`) stops between batches.
pub fn latent_vae(
    events: &EventSet,
    opts: &LatentVaeOptions,
    interrupt: Option<&Interrupt>,
) -> Result<LatentVae> {
    let started = Instant::now();
    check_options(events, opts)?;
    let scaler = Scaler::fit(ScalerKind::MaxAbs, events, &opts.features)?;
    let x = scaled_inputs(&scaler, events, &opts.features, &opts.device)?;
    let config = VaeConfig {
        inputs: opts.features.len(),
        ..opts.vae.clone()
    };
    // Each run keeps its network and three scores per event.
    let params = VaeConfig {
        inputs: opts.features.len(),
        ..opts.vae.clone()
    }
    .parameter_count();
    crate::memory::check(
        &format!("{} runs", opts.runs),
        opts.runs as f64 * (params * 4.0 + events.len() as f64 * 24.0),
    )?;
    let progress = Progress::new("latent-space VAE (runs)", opts.runs as u64);
    let mut runs = Vec::with_capacity(opts.runs);
    for r in 0..opts.runs as u64 {
        let vae = Vae::new(config.clone(), &opts.device, stream_seed(opts.seed, 2 * r))?;
        let training = TrainOptions {
            quiet: true,
            seed: stream_seed(opts.seed, 2 * r + 1),
            ..opts.training.clone()
        };
        let data = Dataset::unlabelled(x.clone());
        let history = fit(&vae, &data, &training, interrupt)?;
        runs.push(Run {
            stopped_at_peak: history.stopped_early,
            history,
            vae,
        });
        progress.advance(1);
    }
    drop(progress);
    let scores = ensemble_scores(&runs, &x)?;
    Ok(LatentVae {
        features: opts.features.clone(),
        mass: opts.mass.clone(),
        score: opts.score,
        runs,
        seconds: started.elapsed().as_secs_f64(),
        scaler,
        scores,
        events: events.clone(),
    })
}

impl LatentVae {
    /// The training events' scores of the selected kind.
    pub fn selected_scores(&self) -> &[f64] {
        self.scores.of(self.score)
    }

    /// Scores other events (e.g. a test sample) with the trained runs and the training
    /// scaling: every kind, averaged over the runs.
    pub fn score_events(&self, events: &EventSet) -> Result<Scores> {
        let device = self.runs[0].vae.params().device().clone();
        let x = scaled_inputs(&self.scaler, events, &self.features, &device)?;
        ensemble_scores(&self.runs, &x)
    }

    /// The trained run `index` (0-based).
    pub fn run(&self, index: usize) -> Result<&Run> {
        self.runs.get(index).ok_or_else(|| {
            Error::invalid(
                "run",
                format!("{index} is not a run; there are {}", self.runs.len()),
            )
        })
    }

    /// The first latent coordinate of the posterior mean, z̄, of every training event in run
    /// `run`: beside [`super::latent_map`]'s grid it shows where signal and background sit in
    /// the (z, m) plane (the sign of z is arbitrary from run to run).
    pub fn latent_means(&self, run: usize) -> Result<Vec<f64>> {
        let vae = &self.run(run)?.vae;
        let device = vae.params().device().clone();
        let x = scaled_inputs(&self.scaler, &self.events, &self.features, &device)?;
        let z = batched_along(0, &x, None, |c, _| {
            Ok(vae.latent(c)?.narrow(1, 0, 1)?.squeeze(1)?)
        })?;
        Ok(z.to_dtype(DType::F64)?.to_vec1()?)
    }

    /// The training events with the columns `kl_score`, `latent_score`, `recon_score` and
    /// `score` (the selected kind).
    pub fn scored(&self) -> Result<EventSet> {
        with_score_columns(&self.events, &self.scores, self.score)
    }

    /// The training events with the highest selected score, a fraction `efficiency` of them.
    pub fn selected(&self, efficiency: f64) -> Result<EventSet> {
        check_efficiency("efficiency", efficiency)?;
        let scores = self.selected_scores();
        let t = threshold_for_efficiency(scores, efficiency)?;
        let kept: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] >= t).collect();
        self.events.take(&kept)
    }

    /// Everything `save` writes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "latent_vae": self })
    }
}

/// `events` with a column per score kind and `score` for `selected`.
pub fn with_score_columns(
    events: &EventSet,
    scores: &Scores,
    selected: LatentScore,
) -> Result<EventSet> {
    let mut out = events.clone();
    for kind in LatentScore::ALL {
        out = out.with_column(&format!("{}_score", kind.name()), scores.of(kind).to_vec())?;
    }
    out.with_column("score", scores.of(selected).to_vec())
}

/// The MaxAbs-scaled inputs [events, features].
pub(crate) fn scaled_inputs(
    scaler: &Scaler,
    events: &EventSet,
    features: &[String],
    device: &Device,
) -> Result<Tensor> {
    if events.is_empty() {
        return Err(Error::invalid("events", "the event set is empty"));
    }
    let values = scaler
        .transform(&events.select(features)?)?
        .matrix_f32(features)?;
    Ok(Tensor::from_vec(
        values,
        (events.len(), features.len()),
        device,
    )?)
}

/// Every score kind of every run on `x`, averaged over the runs.
fn ensemble_scores(runs: &[Run], x: &Tensor) -> Result<Scores> {
    let per_event = |t: Tensor| -> Result<Vec<f64>> { Ok(t.to_dtype(DType::F64)?.to_vec1()?) };
    let n = x.dims()[0];
    let mut scores = Scores {
        kl: vec![0.0; n],
        latent: vec![0.0; n],
        recon: vec![0.0; n],
        kl_spread: Vec::new(),
    };
    let mut kl_squares = vec![0.0; n];
    for run in runs {
        let kl = per_event(batched_along(0, x, None, |c, _| run.vae.kl(c))?)?;
        let z = per_event(batched_along(0, x, None, |c, _| {
            Ok(run.vae.latent(c)?.sqr()?.sum(1)?.sqrt()?)
        })?)?;
        let recon = per_event(batched_along(0, x, None, |c, _| {
            run.vae.reconstruction_loss(c, None)
        })?)?;
        for i in 0..n {
            scores.kl[i] += kl[i];
            kl_squares[i] += kl[i] * kl[i];
            scores.latent[i] += z[i];
            scores.recon[i] += recon[i];
        }
    }
    let k = runs.len() as f64;
    for v in [&mut scores.kl, &mut scores.latent, &mut scores.recon] {
        v.iter_mut().for_each(|s| *s /= k);
    }
    scores.kl_spread = kl_squares
        .iter()
        .zip(&scores.kl)
        .map(|(sq, mean)| (sq / k - mean * mean).max(0.0).sqrt())
        .collect();
    Ok(scores)
}

fn check_options(events: &EventSet, opts: &LatentVaeOptions) -> Result<()> {
    if opts.runs == 0 {
        return Err(Error::invalid("runs", "train at least one network"));
    }
    if opts.features.is_empty() {
        return Err(Error::invalid("features", "give at least one input column"));
    }
    if opts.features.contains(&opts.mass) {
        return Err(Error::invalid(
            "features",
            format!(
                "'{}' is the resonant mass: a score that reads it sculpts the spectrum the bump hunt tests; leave it out of the inputs",
                opts.mass
            ),
        ));
    }
    let min_events = match opts.training.validation {
        Validation::Fraction(_) => 10,
        _ => 1,
    };
    if events.len() < min_events {
        return Err(Error::invalid(
            "events",
            format!(
                "{} events: too few to train and validate a VAE",
                events.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::generate::lhco::{LhcoToyOptions, Preset, lhco_toy};

    fn toy(background: usize, signal: usize, seed: u64) -> EventSet {
        EventSet::from_columns(
            lhco_toy(&LhcoToyOptions {
                background,
                signal,
                seed,
                ..LhcoToyOptions::preset(Preset::Rnd)
            })
            .unwrap(),
        )
        .unwrap()
    }

    fn quick(runs: usize, epochs: usize) -> LatentVaeOptions {
        let d = LatentVaeOptions::default();
        LatentVaeOptions {
            runs,
            training: TrainOptions {
                epochs,
                batch_size: 200,
                ..d.training.clone()
            },
            seed: 5,
            ..d
        }
    }

    #[test]
    fn scores_every_event_with_every_kind_and_averages_the_runs() {
        let events = toy(1500, 0, 1);
        let result = latent_vae(&events, &quick(2, 3), None).unwrap();
        assert_eq!(result.runs.len(), 2);
        for kind in LatentScore::ALL {
            let s = result.scores.of(kind);
            assert_eq!(s.len(), 1500);
            assert!(s.iter().all(|v| v.is_finite() && *v >= 0.0), "{kind:?}");
        }
        // The ensemble KL is the mean of the runs' KLs.
        let x = scaled_inputs(&result.scaler, &events, &result.features, &Device::Cpu).unwrap();
        let run_kl = |r: &Run| -> Vec<f64> {
            r.vae
                .kl(&x)
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        let (a, b) = (run_kl(&result.runs[0]), run_kl(&result.runs[1]));
        for i in [0, 700, 1499] {
            assert!((result.scores.kl[i] - (a[i] + b[i]) / 2.0).abs() < 1e-9);
            assert!((result.scores.kl_spread[i] - (a[i] - b[i]).abs() / 2.0).abs() < 1e-6);
        }
        // Scoring the same events again gives the same numbers.
        let again = result.score_events(&events).unwrap();
        assert_eq!(again.kl, result.scores.kl);
        let scored = result.scored().unwrap();
        assert_eq!(scored.column("score").unwrap(), result.scores.kl);
        assert_eq!(scored.column("recon_score").unwrap(), result.scores.recon);
        let top = result.selected(0.1).unwrap();
        assert_eq!(top.len(), 150);
    }

    #[test]
    fn the_kl_peak_rule_ends_training_and_keeps_the_peak() {
        let events = toy(3000, 0, 2);
        let result = latent_vae(&events, &quick(1, 60), None).unwrap();
        let h = &result.runs[0].history;
        let kl = h.monitored();
        let peak = kl.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(kl[h.best_epoch], peak, "{h}");
        if result.runs[0].stopped_at_peak {
            // Five falls after the kept epoch's run of rises.
            assert!(kl.len() >= 11 && kl.len() < 60);
            let tail = &kl[kl.len() - 6..];
            assert!(tail.windows(2).all(|w| w[1] < w[0]), "{kl:?}");
        }
    }

    #[test]
    fn same_seed_same_scores() {
        let events = toy(800, 0, 3);
        let a = latent_vae(&events, &quick(1, 2), None).unwrap();
        let b = latent_vae(&events, &quick(1, 2), None).unwrap();
        assert_eq!(a.scores.kl, b.scores.kl);
    }

    #[test]
    fn the_mass_is_refused_as_an_input_and_bad_options_are_named() {
        let events = toy(200, 0, 4);
        let mut opts = quick(1, 1);
        opts.features.push("mjj".into());
        let err = latent_vae(&events, &opts, None).unwrap_err().to_string();
        assert!(err.contains("resonant mass"), "{err}");
        let opts = LatentVaeOptions {
            features: vec!["nope".into()],
            ..quick(1, 1)
        };
        assert!(
            latent_vae(&events, &opts, None)
                .unwrap_err()
                .to_string()
                .contains("nope")
        );
        let opts = LatentVaeOptions {
            runs: 0,
            ..quick(1, 1)
        };
        assert!(latent_vae(&events, &opts, None).is_err());
        assert!(
            LatentScore::parse("kll")
                .unwrap_err()
                .to_string()
                .contains("recon")
        );
    }
}
