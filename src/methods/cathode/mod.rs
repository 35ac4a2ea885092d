//! CATHODE, Classifying Anomalies THrough Outer Density Estimation (Hallin et al., Phys. Rev.
//! D 106, 055006, 2022; applied by CMS to data in arXiv:2412.03747).
//!
//! 1. A conditional density p_bkg(x | m) of the features given the mass is learned on the
//!    sidebands with a normalising flow (the one ANODE uses, [`SidebandFlow`]), its last
//!    `average` epochs kept (or those of lowest held-out loss, `flow_validation`). It models
//!    the features through the paper's logit map (`flow_preprocessing`,
//!    [`FlowPreprocessing`]): on Pythia events at the R&D ratio that raised the max SIC
//!    from 5.0 to 14.1 (docs/cathode.md).
//! 2. It is sampled in the signal region at the data's masses: each signal-region event's
//!    mass is used `oversampling` (4) times, the rounds drawn from kept epochs spread over
//!    them, so the samples follow the data's mass distribution exactly and the flow's
//!    interpolation in x.
//! 3. A classifier learns signal-region data (1) against the samples (0), both classes
//!    weighing the same, with k-fold cross-validation ([`kfold_scores`]): every data event and
//!    every sample is scored by the member that did not train on it. Where the samples model
//!    the background well, the classifier approximates the idealized anomaly detector
//!    (p_data / p_bkg), without ANODE's division of two imperfect densities.
//! 4. A cut keeps a fraction of the signal-region data; the samples passing the same cut
//!    (each weighing 1/`oversampling`) predict the background that passes
//!    ([`estimate_with_systematic`]), with the background-model systematic ANODE's work
//!    defines ([`Systematics`]): the largest non-closure of three tests in two validation
//!    windows beside the signal region, each cut at the same data efficiency there — the
//!    whole procedure repeated (a flow trained outside the windows is sampled in them and a
//!    second k-fold classifier learns the windows' data against those samples), and the
//!    signal region's own classifier cutting the windows' data against that flow's samples
//!    and against the main flow's — in quadrature with the spread of `sideband_flows`
//!    independently seeded flows' predictions (fresh samples of each, scored by the mean of
//!    the members). The last two tests look where the signal region's classifier looks: it
//!    is trained to find the main flow's deficits, and a tail the flows cannot follow (jet
//!    masses that grow with mjj, briefly trained flows) fools a test whose classifier looks
//!    elsewhere.

mod report;

pub use report::plot_scores;

use std::time::Instant;

use candle_core::{Device, Tensor};
use serde::Serialize;

use super::estimate::{
    Estimate, Significance, checked_window, estimate_with_systematic, highest_scoring,
    most_significant,
};
use super::flow_preprocessing::FlowPreprocessing;
use super::kfold_classifier::{KfoldClassifier, kfold_scores};
use super::sideband_flow::{
    ClosureTest, KeptEpochs, SidebandFlow, Systematics, split_window, validation_rows,
};
use super::window::Window;
use crate::data::eventset::EventSet;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::flow::FlowConfig;
use crate::nn::train::{Dataset, TrainOptions, Validation};
use crate::progress::Progress;
use crate::seed::stream_seed;
use crate::stats::metrics::{roc, threshold_for_efficiency};

/// Options of [`cathode`]. The paper trains 15 MADE blocks of 128 units and a 3 × 64
/// classifier for 100 epochs, oversampling 4×; the defaults are smaller, for minutes on a
/// laptop CPU.
#[derive(Clone, Debug)]
pub struct CathodeOptions {
    /// The signal region, range and features (see [`Window`]).
    pub window: Window,
    /// The sideband flows' shape (`inputs` and `context` are set from the features): 5
    /// layers of 64 units, 8 knots on [-4, 4].
    pub flow: FlowConfig,
    /// The space the flows model the features in (the logit map, the paper's; see
    /// [`FlowPreprocessing`]).
    pub flow_preprocessing: FlowPreprocessing,
    /// Training of every flow: 20 epochs, batch 512, Adam 1e-3, the last epoch kept.
    pub flow_training: TrainOptions,
    /// Sideband epochs the samples are drawn from (10): the last ones, or with
    /// `flow_validation` those of lowest held-out loss.
    pub average: usize,
    /// The fraction of the sideband events held out of each flow's training to choose its
    /// `average` epochs of lowest loss on them (0: none held out, the last epochs kept).
    pub flow_validation: f64,
    /// Samples per signal-region event (4).
    pub oversampling: usize,
    /// The classifier of data against samples and its k-folding (5 folds, 3 × 64 ReLU, 20
    /// epochs, batch 256; its `device` and `seed` are set from these options').
    pub classifier: KfoldClassifier,
    /// Signal-region data efficiencies at which the background estimate is tested.
    pub efficiencies: Vec<f64>,
    /// Width of each validation window, in signal-region widths (0.5).
    pub validation_width: f64,
    /// Independently seeded sideband flows whose predictions' spread is a systematic (3,
    /// the main one included); 1 measures no spread, so no p-value is given.
    pub sideband_flows: usize,
    /// Where the networks live (CPU).
    pub device: Device,
    /// Seed of the flows, the samples, the folds and the classifiers.
    pub seed: u64,
}

impl Default for CathodeOptions {
    fn default() -> Self {
        let window = Window::new(&["mj1", "dmj", "tau21_1", "tau21_2"]);
        Self {
            flow: FlowConfig::new(window.features.len(), 1),
            window,
            flow_preprocessing: FlowPreprocessing::Logit,
            flow_training: TrainOptions {
                epochs: 20,
                batch_size: 512,
                validation: Validation::None,
                monitor: "loss".into(),
                patience: None,
                restore_best: false,
                ..TrainOptions::default()
            },
            average: 10,
            flow_validation: 0.0,
            oversampling: 4,
            classifier: KfoldClassifier::default(),
            efficiencies: vec![0.5, 0.2, 0.1, 0.05, 0.02, 0.01],
            validation_width: 0.5,
            sideband_flows: 3,
            device: Device::Cpu,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

/// The result of [`cathode`].
#[derive(Clone, Debug, Serialize)]
pub struct Cathode {
    /// Where it searched.
    pub window: Window,
    /// Events in the sidebands and in the signal region.
    pub counts: [usize; 2],
    /// Samples drawn per signal-region event.
    pub oversampling: usize,
    /// Mean negative log-likelihood per epoch of the sideband flow, in the space it models
    /// (`flow_preprocessing`).
    pub sideband_loss: Vec<f64>,
    /// The same on the sideband events held out (`flow_validation`; empty without).
    pub sideband_validation_loss: Vec<f64>,
    /// The sideband flow's epochs (0-based) the samples were drawn from.
    pub sampled_epochs: Vec<usize>,
    /// The area under the ROC curve of the classifier's out-of-sample scores separating the
    /// signal-region data from the samples: 0.5 where the samples are the data's background
    /// and there is no signal; above that, signal or the flow's mis-modelling (on a
    /// background-only sample, the mis-modelling alone).
    pub data_vs_samples_auc: f64,
    /// The tests, one per efficiency, with the background model's systematic.
    pub estimates: Vec<Estimate>,
    /// The background model's uncertainty behind the estimates' systematic errors.
    pub systematics: Systematics,
    /// Wall-clock seconds (shown, not saved: result files are reproducible).
    #[serde(skip)]
    pub seconds: f64,
    /// The classifier's out-of-sample score of every signal-region event, in the order of
    /// `positions`.
    #[serde(skip)]
    pub scores: Vec<f64>,
    /// The out-of-sample scores of the samples: `oversampling` rounds over the signal-region
    /// events, sample i drawn at the mass of event i mod their count.
    #[serde(skip)]
    pub sample_scores: Vec<f64>,
    /// The signal-region events' positions in the event set.
    #[serde(skip)]
    pub positions: Vec<usize>,
    /// The events.
    #[serde(skip)]
    pub events: EventSet,
}

impl Cathode {
    /// The background-model systematic at data efficiency `eff` (one of the efficiencies):
    /// `(closure, spread, relative, events)`, the first three relative to the prediction.
    pub fn systematic_at(&self, eff: f64) -> Result<(f64, f64, f64, f64)> {
        self.systematics.at(&self.estimates, eff)
    }

    /// The most significant test with Šidák's correction; `None` if no p-value is finite.
    pub fn global(&self) -> Option<Significance> {
        most_significant(&self.estimates)
    }

    /// Everything `save` writes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "cathode": self, "global": self.global() })
    }

    /// The signal-region events with the highest scores, a fraction `efficiency` of them.
    pub fn selected(&self, efficiency: f64) -> Result<EventSet> {
        highest_scoring(&self.events, &self.positions, &self.scores, efficiency)
    }

    /// The signal-region events with the classifier's score as a `score` column.
    pub fn scored(&self) -> Result<EventSet> {
        self.events
            .take(&self.positions)?
            .with_column("score", self.scores.clone())
    }
}

/// `rows` and `samples` as one classification: the rows labelled 1, the samples 0.
fn against_samples(rows: Tensor, samples: &Tensor) -> Result<(Tensor, Vec<f32>)> {
    let (n, m) = (rows.dims()[0], samples.dims()[0]);
    let labels = (0..n + m).map(|i| if i < n { 1.0 } else { 0.0 }).collect();
    Ok((Tensor::cat(&[&rows, samples], 0)?, labels))
}

/// The AUC of `scores` (data, label 1) against `sample_scores` (label 0).
fn separation(scores: &[f64], sample_scores: &[f64]) -> Result<f64> {
    let all: Vec<f64> = scores.iter().chain(sample_scores).copied().collect();
    let labels: Vec<f64> = (0..all.len())
        .map(|i| if i < scores.len() { 1.0 } else { 0.0 })
        .collect();
    Ok(roc(&all, &labels, None)?.auc())
}

/// Runs CATHODE on `events` (see the module documentation). Errors before any training: a
/// missing column, NaN, invalid options, too few sideband or signal-region events. Ctrl-C
/// (`interrupt`) stops between batches.
pub fn cathode(
    events: &EventSet,
    opts: &CathodeOptions,
    interrupt: Option<&Interrupt>,
) -> Result<Cathode> {
    let started = Instant::now();
    let edges = check_options(opts)?;
    let (inputs, sb, sr) = split_window(
        events,
        &opts.window,
        &edges,
        &opts.device,
        2 * opts.classifier.folds,
        "train the flow and the classifiers",
    )?;
    // The samples of every flow, as f32 features, and their scores; and the validation
    // windows' two sets (about a signal region's worth of events each).
    crate::memory::check(
        &format!("{} samples per signal-region event", opts.oversampling),
        opts.oversampling as f64
            * sr.len() as f64
            * (4.0 * opts.window.features.len() as f64 + 16.0)
            * (opts.sideband_flows + 3) as f64,
    )?;
    let mass_scaling = inputs.log_mass_scaling();
    let context = |rows: &[usize]| inputs.log_mass(rows, mass_scaling);
    let config = FlowConfig {
        inputs: opts.window.features.len(),
        context: 1,
        ..opts.flow.clone()
    };
    let flow_training = |seed: u64| TrainOptions {
        quiet: true,
        seed,
        ..opts.flow_training.clone()
    };
    let classifier = |stream: u64| KfoldClassifier {
        device: opts.device.clone(),
        seed: stream_seed(opts.seed, stream),
        ..opts.classifier.clone()
    };
    let validation_rows = validation_rows(&inputs, &opts.window, opts.validation_width);
    let progress = Progress::new(
        "CATHODE (sideband flows, validation flow, classifiers, background estimate)",
        (opts.sideband_flows + 4) as u64,
    );
    let kept = if opts.flow_validation > 0.0 {
        KeptEpochs::LowestValidationLoss {
            count: opts.average,
            fraction: opts.flow_validation,
        }
    } else {
        KeptEpochs::Last(opts.average)
    };
    let train_sideband = |rows: &[usize], init: u64, shuffle: u64| -> Result<SidebandFlow> {
        let data = Dataset {
            x: inputs.tensor(rows)?,
            y: None,
            weights: None,
            context: Some(context(rows)?),
        };
        let sideband = SidebandFlow::train(
            &config,
            &data,
            opts.flow_preprocessing,
            &flow_training(shuffle),
            kept,
            &opts.device,
            init,
            interrupt,
        )?;
        progress.advance(1);
        Ok(sideband)
    };
    // `oversampling` rounds of samples at the masses `c`, the rounds' epochs spread over the
    // kept ones; round s on stream `stream + s`.
    let draw_rounds = |flow: &SidebandFlow, c: &Tensor, stream: u64| -> Result<Tensor> {
        let n = c.dims()[0];
        let rounds = (0..opts.oversampling)
            .map(|s| {
                let epoch = s * flow.snapshots.len() / opts.oversampling;
                flow.draw(
                    epoch,
                    n,
                    c,
                    stream_seed(opts.seed, stream + s as u64),
                    interrupt,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::cat(&rounds, 0)?)
    };

    // The sideband densities: the main one, the independently seeded ones for the spread and
    // the validation one, trained outside the windows.
    let main = train_sideband(&sb, stream_seed(opts.seed, 1), stream_seed(opts.seed, 2))?;
    let others = (1..opts.sideband_flows as u64)
        .map(|j| {
            train_sideband(
                &sb,
                stream_seed(opts.seed, 100 + j),
                stream_seed(opts.seed, 200 + j),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let validation_flow = match &validation_rows {
        Ok((_, outside, _)) => Some(train_sideband(
            outside,
            stream_seed(opts.seed, 4),
            stream_seed(opts.seed, 5),
        )?),
        Err(_) => {
            progress.advance(1);
            None
        }
    };

    // The classifier of signal-region data against the main flow's samples.
    let c_sr = context(&sr)?;
    let samples = draw_rounds(&main, &c_sr, 1000)?;
    let (x, labels) = against_samples(inputs.tensor(&sr)?, &samples)?;
    let kfold = kfold_scores(&x, &labels, None, &classifier(6), interrupt)?;
    let mut scores = kfold.scores;
    let sample_scores = scores.split_off(sr.len());
    let weight = 1.0 / opts.oversampling as f64;
    let weights = vec![weight; sample_scores.len()];
    progress.advance(1);

    // Fresh samples of every sideband flow, scored by the members' mean, for the spread.
    let fresh_scores = std::iter::once(&main)
        .chain(&others)
        .enumerate()
        .map(|(j, flow)| {
            let drawn = draw_rounds(flow, &c_sr, (1 << 40) + ((j as u64) << 32))?;
            kfold.members.mean_predictions(&drawn)
        })
        .collect::<Result<Vec<_>>>()?;

    // The closure in the validation windows, three ways, the largest counting: (a) the whole
    // procedure repeated there (their data against the validation flow's samples, by a
    // classifier of their own); the signal region's own classifier cutting the windows' data
    // against (b) the validation flow's samples (interpolated across its gap) and (c) the
    // main flow's samples (where it was trained): the signal region's classifier seeks out
    // the main flow's deficits, and (b) and (c) ask whether the flows model the region it
    // chose, which (a)'s classifier, seeded apart, may never look at.
    let closure_tests = match (&validation_rows, &validation_flow) {
        (Ok((_, _, inside)), Some(v)) => {
            let (x_inside, c_inside) = (inputs.tensor(inside)?, context(inside)?);
            let drawn = draw_rounds(v, &c_inside, 1 << 41)?;
            let (x, labels) = against_samples(x_inside.clone(), &drawn)?;
            let mut window_scores =
                kfold_scores(&x, &labels, None, &classifier(7), interrupt)?.scores;
            let drawn_scores = window_scores.split_off(inside.len());
            let by_signal_region = kfold.members.mean_predictions(&x_inside)?;
            let main_drawn = draw_rounds(&main, &c_inside, 1 << 42)?;
            let effs = &opts.efficiencies;
            vec![
                ClosureTest::new(
                    "validation flow, the windows' own classifier",
                    effs,
                    &window_scores,
                    &drawn_scores,
                    weight,
                )?,
                ClosureTest::new(
                    "validation flow, the signal region's classifier",
                    effs,
                    &by_signal_region,
                    &kfold.members.mean_predictions(&drawn)?,
                    weight,
                )?,
                ClosureTest::new(
                    "sideband flow, the signal region's classifier",
                    effs,
                    &by_signal_region,
                    &kfold.members.mean_predictions(&main_drawn)?,
                    weight,
                )?,
            ]
        }
        _ => Vec::new(),
    };
    progress.advance(1);

    let mut systematics = Systematics::new(&validation_rows, closure_tests, opts.sideband_flows);
    let mut estimates = Vec::new();
    for &eff in &opts.efficiencies {
        let threshold = threshold_for_efficiency(&scores, eff)?;
        let predictions: Vec<f64> = fresh_scores
            .iter()
            .map(|r| r.iter().filter(|&&s| s >= threshold).count() as f64 * weight)
            .collect();
        let systematic = systematics.add_cut(predictions);
        estimates.push(estimate_with_systematic(
            eff,
            &scores,
            &sample_scores,
            &weights,
            systematic,
        )?);
    }
    progress.advance(1);
    drop(progress);
    Ok(Cathode {
        window: opts.window.clone(),
        counts: [sb.len(), sr.len()],
        oversampling: opts.oversampling,
        sideband_loss: main.loss.clone(),
        sideband_validation_loss: main.validation_loss.clone(),
        sampled_epochs: main.kept_epochs.clone(),
        data_vs_samples_auc: separation(&scores, &sample_scores)?,
        estimates,
        systematics,
        seconds: started.elapsed().as_secs_f64(),
        scores,
        sample_scores,
        positions: sr.iter().map(|&r| inputs.positions[r]).collect(),
        events: events.clone(),
    })
}

/// The most samples per signal-region event `oversampling` may ask for.
pub const MAX_OVERSAMPLING: usize = 1000;

fn check_options(opts: &CathodeOptions) -> Result<[f64; 4]> {
    let edges = checked_window(&opts.window, opts.classifier.folds, &opts.efficiencies)?;
    if opts.average == 0 || opts.average > opts.flow_training.epochs {
        return Err(Error::invalid(
            "average",
            format!(
                "{} epochs cannot be sampled from out of {} trained; use 1 to epochs",
                opts.average, opts.flow_training.epochs
            ),
        ));
    }
    if !(0.0..1.0).contains(&opts.flow_validation) {
        return Err(Error::invalid(
            "flow_validation",
            format!(
                "{}: hold out a fraction in [0, 1) of the sideband events (0: keep the last epochs)",
                opts.flow_validation
            ),
        ));
    }
    if opts.oversampling == 0 || opts.oversampling > MAX_OVERSAMPLING {
        return Err(Error::invalid(
            "oversampling",
            format!(
                "{}: draw 1 to {MAX_OVERSAMPLING} samples per signal-region event",
                opts.oversampling
            ),
        ));
    }
    if !(opts.validation_width.is_finite() && opts.validation_width > 0.0) {
        return Err(Error::invalid(
            "validation_width",
            format!(
                "{} must be a positive fraction of the signal region's width",
                opts.validation_width
            ),
        ));
    }
    if opts.sideband_flows == 0 || opts.sideband_flows > super::anode::MAX_SIDEBAND_FLOWS {
        return Err(Error::invalid(
            "sideband_flows",
            format!(
                "{} sideband flows: train 1 to {} (2 or more measure their spread)",
                opts.sideband_flows,
                super::anode::MAX_SIDEBAND_FLOWS
            ),
        ));
    }
    Ok(edges)
}

#[cfg(test)]
mod tests;
