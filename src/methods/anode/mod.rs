//! ANODE, anomaly detection with density estimation (LHC Olympics 2020 §3.2).
//!
//! Two conditional densities of the features x given the mass m are learned with normalising
//! flows (masked autoregressive, rational-quadratic splines):
//! - p_data(x | m) on the signal-region events. Every signal-region event is scored by a flow
//!   trained on the other folds (`folds` 2), so no event rates its own density.
//! - p_bkg(x | m) on the sideband events, interpolated into the signal region through its
//!   conditioning on m. Its estimate varies from epoch to epoch, so, as in the paper, its
//!   density is averaged point-wise over the last `average` (10) epochs.
//!
//! The score is R = p_data(x|m) / p_bkg(x|m) (reported as ln R): where a signal adds events,
//! R > 1. For a significance, a threshold on R keeps a fraction of the signal-region data,
//! and the background flow predicts how much background passes: events drawn from p_bkg(x|m)
//! at the signal-region events' masses (from each averaged epoch in turn), scored like the
//! data and weighted to the signal-region count ([`estimate`]). That prediction is only as good
//! as the background density: where p_bkg underestimates the truth R is high, so a
//! mismodelled background shows up as an excess. The predicted/observed efficiency ratio is
//! reported for checking this on signal-free data, as the paper stresses ("challenging to
//! obtain precise estimates of the background density").
//!
//! The background model's uncertainty (issue 20 item 3) is measured on the data, per cut:
//! - **Validation-window closure**: a flow trained on the sidebands outside the two
//!   [validation windows](Window::validation_windows) (`validation_width` 0.5 of the signal
//!   region's width each side) is interpolated across the gap into the windows. There, the
//!   events are scored like the signal region's (the signal-region flows over this flow), cut
//!   at the same data efficiency, and counted against events drawn from it. Its relative
//!   non-closure |pred − obs| / pred, added in quadrature to the statistical precision of that
//!   check sqrt(obs + σ_pred²) / pred (a closure known to ±σ still allows a bias of σ; SALAD
//!   uses the same rule), is one part of the systematic.
//! - **Flow spread**: `sideband_flows` (3) independently seeded sideband flows, each drawing
//!   background at the signal-region masses, predict the count passing the same cut; the
//!   standard deviation of their predictions over the main one's is the other part.
//!
//! Their quadrature sum, times the prediction, is the estimate's systematic error, added in
//! quadrature to the statistical one before the p-value. Without both parts (windows that do
//! not fit in the range, too few events in them, `sideband_flows` 1) no p-value is given.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use serde::Serialize;

use super::estimate::{
    Estimate, Significance, checked_window, estimate_with_systematic, highest_scoring,
    most_significant,
};
pub use super::flow_preprocessing::FlowPreprocessing;
use super::sideband_flow::Systematics;
use super::sideband_flow::{ClosureTest, KeptEpochs, SidebandFlow, split_window, validation_rows};
use super::window::Window;
use crate::data::eventset::EventSet;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::Trainable;
use crate::nn::batching::batched_along;
use crate::nn::ensemble::MemberData;
use crate::nn::flow::{Flow, FlowConfig};
use crate::nn::train::{Dataset, TrainOptions, Validation, fit};
use crate::progress::Progress;
use crate::seed::stream_seed;
use crate::stats::metrics::threshold_for_efficiency;

/// Options of [`anode`]. The paper trains 15 MADE blocks of 128 units for 50 epochs at
/// learning rate 1e-4; the defaults are smaller, for minutes on a laptop CPU.
#[derive(Clone, Debug)]
pub struct AnodeOptions {
    /// The signal region, range and features (see [`Window`]).
    pub window: Window,
    /// The flows' shape (`inputs` and `context` are set from the features): 5 layers of 64
    /// units, 8 knots on [-4, 4].
    pub flow: FlowConfig,
    /// The space every flow models the features in ([`FlowPreprocessing`]; standard): with
    /// the logit map, one map fitted on the whole window's events serves all flows, so the
    /// map's Jacobian cancels in their ratio and R is unchanged by it.
    pub flow_preprocessing: FlowPreprocessing,
    /// Training of every flow: 20 epochs, batch 512, Adam 1e-3, no early stopping (the last
    /// epoch is kept, as in the paper).
    pub training: TrainOptions,
    /// Sideband epochs whose densities are averaged (10).
    pub average: usize,
    /// Folds of the signal-region flows (2).
    pub folds: usize,
    /// Background events drawn per signal-region event for the estimate (10).
    pub samples: usize,
    /// Signal-region data efficiencies at which the background estimate is tested.
    pub efficiencies: Vec<f64>,
    /// Width of each validation window, in signal-region widths (0.5): the closure test of
    /// the sideband flow's interpolation (see the module documentation).
    pub validation_width: f64,
    /// Independently seeded sideband flows whose predictions' spread is a systematic (3,
    /// the main one included); 1 measures no spread, so no p-value is given.
    pub sideband_flows: usize,
    /// Where the flows live (CPU).
    pub device: Device,
    /// Seed of the folds, the initial weights, the shuffles and the sampling.
    pub seed: u64,
}

impl Default for AnodeOptions {
    fn default() -> Self {
        let window = Window::new(&["mj1", "dmj", "tau21_1", "tau21_2"]);
        Self {
            flow: FlowConfig::new(window.features.len(), 1),
            flow_preprocessing: FlowPreprocessing::Standard,
            window,
            training: TrainOptions {
                epochs: 20,
                batch_size: 512,
                validation: Validation::None,
                monitor: "loss".into(),
                patience: None,
                restore_best: false,
                ..TrainOptions::default()
            },
            average: 10,
            folds: 2,
            samples: 10,
            efficiencies: vec![0.5, 0.2, 0.1, 0.05, 0.02, 0.01],
            validation_width: 0.5,
            sideband_flows: 3,
            device: Device::Cpu,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

/// The result of [`anode`].
#[derive(Clone, Debug, Serialize)]
pub struct Anode {
    /// Where it searched.
    pub window: Window,
    /// Events in the sidebands and in the signal region.
    pub counts: [usize; 2],
    /// Mean negative log-likelihood per epoch of the sideband flow.
    pub sideband_loss: Vec<f64>,
    /// The same for each signal-region flow.
    pub signal_region_loss: Vec<Vec<f64>>,
    /// Sideband epochs averaged.
    pub averaged_epochs: usize,
    /// The tests, one per efficiency, with the background model's systematic.
    pub estimates: Vec<Estimate>,
    /// The background model's uncertainty behind the estimates' systematic errors.
    pub systematics: Systematics,
    /// Wall-clock seconds (shown, not saved: result files are reproducible).
    #[serde(skip)]
    pub seconds: f64,
    /// ln R of every signal-region event, in the order of `positions`.
    #[serde(skip)]
    pub scores: Vec<f64>,
    /// ln R of the background events drawn for the estimate.
    #[serde(skip)]
    pub background_scores: Vec<f64>,
    /// For each drawn background event, the signal-region event (its index in `positions`)
    /// at whose mass it was drawn.
    #[serde(skip)]
    pub background_events: Vec<usize>,
    /// The validation windows' events and the validation flow's draws, scored (`None`
    /// without windows).
    #[serde(skip)]
    pub window_scores: Option<WindowScores>,
    /// The signal-region events' positions in the event set.
    #[serde(skip)]
    pub positions: Vec<usize>,
    /// The events.
    #[serde(skip)]
    pub events: EventSet,
}

/// The validation windows' events, scored with the signal-region flows over the validation
/// flow, and the events drawn from the validation flow at their masses.
#[derive(Clone, Debug)]
pub struct WindowScores {
    /// The windows' events' positions in the event set.
    pub positions: Vec<usize>,
    /// Their ln R.
    pub scores: Vec<f64>,
    /// ln R of the drawn events, `samples` rounds over the windows' events: draw i was made
    /// at the mass of event i mod `positions.len()`.
    pub drawn: Vec<f64>,
}

impl Anode {
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
        serde_json::json!({ "anode": self, "global": self.global() })
    }

    /// The signal-region events with the highest R, a fraction `efficiency` of them.
    pub fn selected(&self, efficiency: f64) -> Result<EventSet> {
        highest_scoring(&self.events, &self.positions, &self.scores, efficiency)
    }

    /// The signal-region events with ln R as a `score` column.
    pub fn scored(&self) -> Result<EventSet> {
        self.events
            .take(&self.positions)?
            .with_column("score", self.scores.clone())
    }
}

/// Runs ANODE on `events` (see the module documentation). Errors before any training: a
/// missing column, NaN, invalid options, an empty sideband or signal region. Ctrl-C
/// (`interrupt`) stops between batches.
pub fn anode(
    events: &EventSet,
    opts: &AnodeOptions,
    interrupt: Option<&Interrupt>,
) -> Result<Anode> {
    let started = Instant::now();
    let edges = check_options(opts)?;
    let (inputs, sb, sr) = split_window(
        events,
        &opts.window,
        &edges,
        &opts.device,
        2 * opts.folds,
        "train the flows",
    )?;
    // Every drawn background event keeps its score and weight (and a sorted copy), for each
    // sideband flow.
    crate::memory::check(
        &format!("{} samples per signal-region event", opts.samples),
        opts.samples as f64 * sr.len() as f64 * 24.0 * opts.sideband_flows as f64,
    )?;
    // One map for every flow, fitted on the whole window's events (their ranges hold the
    // signal region's): densities in the mapped space carry the map's Jacobian, the same in
    // numerator and denominator, so their ratio is that of the features' densities.
    let all_rows: Vec<usize> = (0..inputs.len()).collect();
    let map = opts.flow_preprocessing.fit(&inputs.tensor(&all_rows)?)?;
    let features = |rows: &[usize]| -> Result<Tensor> {
        let x = inputs.tensor(rows)?;
        match &map {
            Some(map) => map.forward(&x),
            None => Ok(x),
        }
    };
    let mass_scaling = inputs.log_mass_scaling();
    let context = |rows: &[usize]| inputs.log_mass(rows, mass_scaling);
    let config = FlowConfig {
        inputs: opts.window.features.len(),
        context: 1,
        ..opts.flow.clone()
    };
    let train_opts = |seed: u64| TrainOptions {
        validation: Validation::None,
        monitor: "loss".into(),
        patience: None,
        restore_best: false,
        quiet: true,
        seed,
        ..opts.training.clone()
    };
    // The validation windows and the events in and outside them, or why there are none.
    let validation_rows = validation_rows(&inputs, &opts.window, opts.validation_width);
    let progress = Progress::new(
        "ANODE (sideband flows, validation flow, signal-region flows, background estimate)",
        (opts.folds + opts.sideband_flows + 2) as u64,
    );
    // A sideband density trained on `rows`, its last epochs kept for averaging.
    let train_sideband = |rows: &[usize], init: u64, shuffle: u64| -> Result<SidebandFlow> {
        let data = Dataset {
            x: features(rows)?,
            y: None,
            weights: None,
            context: Some(context(rows)?),
        };
        let sideband = SidebandFlow::train(
            &config,
            &data,
            FlowPreprocessing::Standard,
            &train_opts(shuffle),
            KeptEpochs::Last(opts.average),
            &opts.device,
            init,
            interrupt,
        )?;
        progress.advance(1);
        Ok(sideband)
    };

    // The sideband density, and the independently seeded ones for the spread.
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
    // The validation density, trained outside the windows.
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

    // Per fold: the signal-region flow of the other folds scores this fold's events and the
    // background events drawn at their masses, from each sideband flow.
    let folds = MemberData::k_folds(sr.len(), opts.folds, stream_seed(opts.seed, 3))?;
    let mut scores = vec![f64::NAN; sr.len()];
    let mut background_scores = Vec::new();
    let mut background_events = Vec::new();
    let mut other_scores = vec![Vec::new(); others.len()];
    let mut signal_region_loss = Vec::new();
    let mut signal_region_flows = Vec::new();
    for (k, fold) in folds.iter().enumerate() {
        let train: Vec<usize> = fold.train.iter().map(|&p| sr[p as usize]).collect();
        let held: Vec<u32> = fold.validation.clone().unwrap_or_default();
        let scored: Vec<usize> = held.iter().map(|&p| sr[p as usize]).collect();
        let flow = Flow::new(
            config.clone(),
            &opts.device,
            stream_seed(opts.seed, 10 + k as u64),
        )?;
        let history = fit(
            &flow,
            &Dataset {
                x: features(&train)?,
                y: None,
                weights: None,
                context: Some(context(&train)?),
            },
            &train_opts(stream_seed(opts.seed, 20 + k as u64)),
            interrupt,
        )?;
        signal_region_loss.push(history.epochs.iter().map(|e| e.loss).collect());
        let (x, c) = (features(&scored)?, context(&scored)?);
        let numerator = |x: &Tensor| log_density(&[&flow], &[], x, &c);
        let score = |x: &Tensor| -> Result<Vec<f64>> {
            let top = numerator(x)?;
            let bottom = log_density(&[&main.flow], &main.snapshots, x, &c)?;
            Ok(ratio(&top, &bottom))
        };
        for (&p, r) in held.iter().zip(score(&x)?) {
            scores[p as usize] = r;
        }
        // Background events at these masses, from each kept sideband epoch in turn; the
        // other sideband flows' events are scored with the same R, so that they predict
        // the same cut.
        for (j, sideband) in std::iter::once(&main).chain(&others).enumerate() {
            for s in 0..opts.samples {
                if let Some(interrupt) = interrupt {
                    interrupt.check()?;
                }
                let index = (k * opts.samples + s) as u64;
                let stream = if j == 0 {
                    1000 + index
                } else {
                    (1 << 40) + ((j as u64) << 32) + index
                };
                let drawn = sideband.draw(
                    s,
                    scored.len(),
                    &c,
                    stream_seed(opts.seed, stream),
                    interrupt,
                )?;
                let r = score(&drawn)?;
                if j == 0 {
                    background_scores.extend(r);
                    background_events.extend(held.iter().map(|&p| p as usize));
                } else {
                    other_scores[j - 1].extend(r);
                }
            }
        }
        signal_region_flows.push(flow);
        progress.advance(1);
    }
    let weight = 1.0 / opts.samples as f64;
    let weights = vec![weight; background_scores.len()];
    let n_sr = sr.len() as f64;

    // The closure in the validation windows: their events scored with the signal-region flows
    // over the validation flow, against events drawn from it.
    let mut window_scores = None;
    let validation = match (&validation_rows, &validation_flow) {
        (Ok((_, _, inside)), Some(v)) => {
            let (x, c) = (features(inside)?, context(inside)?);
            let flows: Vec<&Flow> = signal_region_flows.iter().collect();
            let score = |x: &Tensor| -> Result<Vec<f64>> {
                let top = log_density(&flows, &[], x, &c)?;
                let bottom = log_density(&[&v.flow], &v.snapshots, x, &c)?;
                Ok(ratio(&top, &bottom))
            };
            let data = score(&x)?;
            let mut drawn_scores = Vec::new();
            for s in 0..opts.samples {
                let drawn = v.draw(
                    s,
                    inside.len(),
                    &c,
                    stream_seed(opts.seed, (1 << 41) + s as u64),
                    interrupt,
                )?;
                drawn_scores.extend(score(&drawn)?);
            }
            let test = ClosureTest::new(
                "validation flow, under the signal-region flows' likelihood ratio",
                &opts.efficiencies,
                &data,
                &drawn_scores,
                weight,
            )?;
            window_scores = Some(WindowScores {
                positions: inside.iter().map(|&r| inputs.positions[r]).collect(),
                scores: data,
                drawn: drawn_scores,
            });
            vec![test]
        }
        _ => Vec::new(),
    };

    let mut systematics = Systematics::new(&validation_rows, validation, opts.sideband_flows);
    let mut estimates = Vec::new();
    for &eff in &opts.efficiencies {
        let threshold = threshold_for_efficiency(&scores, eff)?;
        let passing = |r: &[f64]| {
            r.iter().filter(|&&s| s >= threshold).count() as f64 / r.len() as f64 * n_sr
        };
        let predictions: Vec<f64> = std::iter::once(&background_scores)
            .chain(&other_scores)
            .map(|r| passing(r))
            .collect();
        let systematic = systematics.add_cut(predictions);
        estimates.push(estimate_with_systematic(
            eff,
            &scores,
            &background_scores,
            &weights,
            systematic,
        )?);
    }
    progress.advance(1);
    drop(progress);
    Ok(Anode {
        window: opts.window.clone(),
        counts: [sb.len(), sr.len()],
        sideband_loss: main.loss.clone(),
        signal_region_loss,
        averaged_epochs: main.snapshots.len(),
        estimates,
        systematics,
        seconds: started.elapsed().as_secs_f64(),
        scores,
        background_scores,
        background_events,
        window_scores,
        positions: sr.iter().map(|&r| inputs.positions[r]).collect(),
        events: events.clone(),
    })
}

/// ln of the point-wise mean density of `flows` (each with its own current weights), or, with
/// `snapshots`, of the single flow over its kept epochs.
fn log_density(
    flows: &[&Flow],
    snapshots: &[Vec<Tensor>],
    x: &Tensor,
    c: &Tensor,
) -> Result<Vec<f64>> {
    let log_prob = |flow: &Flow| -> Result<Vec<f64>> {
        let t = batched_along(0, x, Some(c), |chunk, ctx| flow.log_prob(chunk, ctx))?;
        Ok(t.to_dtype(DType::F64)?.to_vec1::<f64>()?)
    };
    let mut terms = Vec::new();
    if snapshots.is_empty() {
        for flow in flows {
            terms.push(log_prob(flow)?);
        }
    } else {
        for snapshot in snapshots {
            flows[0].params().restore(snapshot)?;
            terms.push(log_prob(flows[0])?);
        }
    }
    let n = terms.len() as f64;
    Ok((0..terms[0].len())
        .map(|i| {
            let top = terms.iter().map(|t| t[i]).fold(f64::NEG_INFINITY, f64::max);
            if top == f64::NEG_INFINITY {
                return top;
            }
            top + (terms.iter().map(|t| (t[i] - top).exp()).sum::<f64>() / n).ln()
        })
        .collect())
}

/// ln R = ln p_sr − ln p̄_sb; non-finite values (far outside the training data) become −∞ or
/// +∞ consistently so that thresholds stay defined.
fn ratio(top: &[f64], bottom: &[f64]) -> Vec<f64> {
    top.iter()
        .zip(bottom)
        .map(|(t, b)| {
            let r = t - b;
            if r.is_nan() { f64::NEG_INFINITY } else { r }
        })
        .collect()
}

/// The most sideband flows `sideband_flows` may ask for (each is a full training).
pub const MAX_SIDEBAND_FLOWS: usize = 100;

fn check_options(opts: &AnodeOptions) -> Result<[f64; 4]> {
    let edges = checked_window(&opts.window, opts.folds, &opts.efficiencies)?;
    if opts.average == 0 || opts.average > opts.training.epochs {
        return Err(Error::invalid(
            "average",
            format!(
                "{} epochs cannot be averaged out of {} trained; use 1 to epochs",
                opts.average, opts.training.epochs
            ),
        ));
    }
    if opts.samples == 0 {
        return Err(Error::invalid(
            "samples",
            "draw at least one background event per signal-region event",
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
    if opts.sideband_flows == 0 || opts.sideband_flows > MAX_SIDEBAND_FLOWS {
        return Err(Error::invalid(
            "sideband_flows",
            format!(
                "{} sideband flows: train 1 to {MAX_SIDEBAND_FLOWS} (2 or more measure their spread)",
                opts.sideband_flows
            ),
        ));
    }
    Ok(edges)
}

#[cfg(test)]
mod tests;
