//! SALAD, simulation-assisted likelihood-free anomaly detection (Andreassen et al. 2020; LHC Olympics 2020 §4.4–4.5).
//!
//! 1. **DCTR.** A classifier f(x, m), parameterised in the mass, tells data from background
//!    simulation in the sidebands. Its odds w = f/(1 - f) are the likelihood ratio
//!    p_data/p_sim times N_data/N_sim (eq. 2.1): weights that make the simulation look like the
//!    data. Evaluated at signal-region masses it interpolates the reweighting into the signal
//!    region, which it never saw.
//! 2. **Classifier.** g(x) tells signal-region data from the reweighted signal-region
//!    simulation (eq. 2.2). Where the reweighting is right, the only difference left is a
//!    signal: g approaches the optimal classifier. Every event is scored by a network that did
//!    not train on it (k-fold, one batched [`Ensemble`] of `folds` members).
//! 3. **Background estimate.** For a threshold c that keeps a fraction ε of the signal-region
//!    data, the reweighted simulation predicts N_pred(c) = Σ w 𝟙[g > c] (eq. 2.4) events,
//!    compared with the observed count: a local p-value per ε, and Šidák's correction over the
//!    efficiencies tested. The simulation is normalised to the signal-region data count (the
//!    interpolated normalisation Σw/N is reported, not used: 1 % of 10⁵ events is a many-σ
//!    effect). The residual bias of the reweighting (Andreassen et al. 2020 §6) enters as a systematic
//!    uncertainty with two parts, per efficiency, added in quadrature:
//!    - **sideband closure**: |pred/obs − 1| of the same cut on a hold-out of the sidebands
//!      (`closure_share`, 0.2) that plays no part in DCTR's training or early stopping (the
//!      sideband events are split three ways: training, early stopping, closure), with that
//!      ratio's statistical uncertainty in quadrature;
//!    - **validation windows** (the interpolation, Andreassen et al. 2020 §6's crux): a second DCTR, trained
//!      only on the sidebands outside [`ValidationWindows::masked`] (`validation_width`, 0.5
//!      signal-region widths on each side), reweights the simulation in the two windows it
//!      never saw; the same cut's non-closure there, sqrt((pred/obs − 1)² + σ²) per window, the
//!      larger of the two windows.
//!
//!    Where the windows do not fit in the range, or a closure is undefined, the estimate gets
//!    no p-value and the summary says why. Fig. 9's closure — predicted over observed
//!    efficiency — is reported too, and for comparison the same chain without reweighting.

use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use serde::Serialize;

use super::estimate::{
    Estimate, MIN_REFERENCE_EVENTS, Significance, checked_window, estimate, most_significant,
};
use super::inputs::{InputSpec, Inputs};
use super::window::{ValidationWindows, Window};
use crate::data::eventset::EventSet;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::ensemble::{Ensemble, MemberData, fit_ensemble};
use crate::nn::mlp::MlpConfig;
use crate::nn::train::{Dataset, TrainOptions, Validation};
use crate::progress::Progress;
use crate::seed::stream_seed;
use crate::stats::metrics::{check_efficiency, threshold_for_efficiency};

/// DCTR probabilities are kept within [floor, 1 - floor] so that no weight is infinite.
const PROBABILITY_FLOOR: f64 = 1e-6;

/// Options of [`salad`]; the defaults follow LHC Olympics 2020 §4.5 and Andreassen et al. 2020 where they are specific.
#[derive(Clone, Debug)]
pub struct SaladOptions {
    /// The signal region, range and features (see [`Window`]).
    pub window: Window,
    /// Features given to the networks as `ln(1 + value)` (mj1, mj2 in GeV: the jet masses' low end,
    /// where the simulation differs most, is then resolved).
    pub logarithm: Vec<String>,
    /// Folds of the signal-region classifier's cross-validation (5).
    pub folds: usize,
    /// DCTR networks averaged (3), trained together on the same sideband events.
    pub dctr_members: usize,
    /// Share of the sideband events the DCTR networks validate on and do not train on (0.2):
    /// their early stopping (and best epoch) uses them, nothing else.
    pub dctr_holdout: f64,
    /// Share of the sideband events held out for the sideband closure (0.2): neither trained
    /// nor early-stopped on, they measure the closure part of the systematic and are the
    /// events of the sideband closure figures. DCTR trains on the rest (0.6 by default).
    pub closure_share: f64,
    /// Width of each validation window of the interpolation test, in signal-region widths
    /// (0.5; see [`Window::validation_windows`]).
    pub validation_width: f64,
    /// The DCTR networks (inputs: features and mass): 3 × 128, ReLU (LHC Olympics 2020 §4.5: 3 × 64).
    pub dctr_network: MlpConfig,
    /// DCTR training: 30 epochs, batch 512, Adam 1e-3, patience 6 on the hold-out loss.
    pub dctr_training: TrainOptions,
    /// The signal-region classifiers: 3 × 64, ReLU.
    pub network: MlpConfig,
    /// Their training: 10 epochs, batch 512, Adam 1e-3, no early stopping (LHC Olympics 2020 §4.5).
    pub training: TrainOptions,
    /// Signal-region data efficiencies at which the background estimate is tested.
    pub efficiencies: Vec<f64>,
    /// Where the networks live (CPU).
    pub device: Device,
    /// Seed of the splits, the initial weights and the shuffles.
    pub seed: u64,
}

impl Default for SaladOptions {
    fn default() -> Self {
        let window = Window::new(&["mj1", "mj2", "tau21_1", "tau21_2"]);
        let network = MlpConfig {
            hidden: vec![64, 64, 64],
            ..MlpConfig::new(window.features.len())
        };
        Self {
            logarithm: vec!["mj1".into(), "mj2".into()],
            folds: 5,
            dctr_members: 3,
            dctr_holdout: 0.2,
            closure_share: 0.2,
            validation_width: 0.5,
            // The reweighting is the crux: a wider DCTR network trained longer closes the
            // tight cuts better (at 1 % data efficiency on 1M background-only events: 0.97
            // against 0.92 for 3 × 64 and 10 epochs, both ± 0.045).
            dctr_network: MlpConfig {
                inputs: window.features.len() + 1,
                hidden: vec![128, 128, 128],
                ..network.clone()
            },
            dctr_training: TrainOptions {
                epochs: 30,
                batch_size: 512,
                patience: Some(6),
                ..TrainOptions::default()
            },
            network,
            training: TrainOptions {
                epochs: 10,
                batch_size: 512,
                patience: None,
                validation: Validation::None,
                monitor: "loss".into(),
                ..TrainOptions::default()
            },
            efficiencies: vec![0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005],
            window,
            device: Device::Cpu,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

/// Predicted over observed efficiency of one cut on events outside the signal region, and
/// its statistical uncertainty.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Closure {
    /// Predicted (weighted reference) over observed (data) efficiency: 1 where it closes.
    pub ratio: f64,
    /// Its statistical uncertainty (both samples' counts).
    pub error: f64,
}

impl Closure {
    /// The relative non-closure the closure allows, sqrt((ratio − 1)² + error²): a closure of
    /// 1 ± σ still allows a bias of about σ. `None` where the ratio is undefined (nothing
    /// passes).
    pub fn non_closure(&self) -> Option<f64> {
        (self.ratio.is_finite() && self.error.is_finite())
            .then(|| (self.ratio - 1.0).hypot(self.error))
    }
}

/// The parts of one estimate's relative systematic uncertainty.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Systematic {
    /// The signal-region data efficiency of the cut.
    pub efficiency: f64,
    /// The cut's closure on the sideband hold-out (not trained or early-stopped on).
    pub holdout: Closure,
    /// Its closure in the lower and upper validation windows, the simulation weighted by the
    /// DCTR trained outside them (`None` where the windows were not tested).
    pub windows: Option<[Closure; 2]>,
    /// The hold-out part: [`Closure::non_closure`] of `holdout`.
    pub holdout_part: Option<f64>,
    /// The interpolation part: the larger non-closure of the two windows.
    pub validation_part: Option<f64>,
    /// Both parts in quadrature: the estimate's relative systematic uncertainty (`None`, and
    /// no p-value, where either part is missing).
    pub total: Option<f64>,
}

/// One chain's classifier output and estimates: with DCTR weights, or without.
#[derive(Clone, Debug, Serialize)]
pub struct Chain {
    /// The estimates, one per efficiency. Their relative systematic uncertainty is
    /// [`Systematic::total`].
    pub estimates: Vec<Estimate>,
    /// Per efficiency, the systematic's parts: the same cut's closure on the sideband hold-out
    /// and in the validation windows (data against the simulation reweighted, or not, as in
    /// this chain).
    pub systematics: Vec<Systematic>,
    /// The classifier output of every signal-region data event (each from the fold network
    /// that did not train on it), in the order of `Salad::data_rows`.
    #[serde(skip)]
    pub data_scores: Vec<f64>,
    /// The same for the signal-region simulation, in the order of `Salad::sim_rows`.
    #[serde(skip)]
    pub sim_scores: Vec<f64>,
    /// The simulation's weights in this chain.
    #[serde(skip)]
    pub sim_weights: Vec<f64>,
    /// The classifier output (mean of the fold networks, none trained on them) of the
    /// sideband closure hold-out's data and simulation, in the order of `Salad::groups`.
    #[serde(skip)]
    pub holdout_scores: [Vec<f64>; 2],
}

/// Which part of the mass range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Part {
    /// The sidebands' closure hold-out (neither trained nor early-stopped on by DCTR).
    Sidebands,
    /// The signal region.
    SignalRegion,
}

impl Part {
    /// "sb" or "sr", as scripts write it.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "sb" => Ok(Part::Sidebands),
            "sr" => Ok(Part::SignalRegion),
            other => Err(Error::invalid(
                "region",
                format!("'{other}' is neither \"sb\" (sidebands) nor \"sr\" (signal region)"),
            )),
        }
    }
}

/// Events of one sample in one part, with what SALAD computed for them.
#[derive(Clone, Debug)]
pub struct Group {
    /// Positions in the sample's event set.
    pub positions: Vec<usize>,
    /// DCTR output f for each.
    pub dctr: Vec<f64>,
}

impl Group {
    /// The DCTR weights f/(1 - f) (eq. 2.1) of the events.
    pub fn weights(&self) -> Vec<f64> {
        weights(&self.dctr)
    }
}

/// The result of [`salad`].
#[derive(Clone, Debug, Serialize)]
pub struct Salad {
    /// Where it searched.
    pub window: Window,
    /// Events: data in the sidebands, data in the signal region, simulation in the sidebands,
    /// simulation in the signal region.
    pub counts: [usize; 4],
    /// Sum of the DCTR weights of the signal-region simulation over the signal-region data
    /// count: the interpolated normalisation (1 where it closes, up to a signal).
    pub normalisation: f64,
    /// Mean DCTR validation loss of the networks' best epochs.
    pub dctr_loss: f64,
    /// The validation windows of the interpolation test (`None` where they do not fit).
    pub validation_windows: Option<ValidationWindows>,
    /// Why the interpolation test was not made (and no estimate has a p-value); `None` when it
    /// was.
    pub validation_untested: Option<String>,
    /// Events in the validation windows: data lower, data upper, simulation lower, upper.
    pub validation_counts: [usize; 4],
    /// Mean validation loss of the DCTR trained outside the windows (NaN if untested).
    pub validation_dctr_loss: f64,
    /// The chain with DCTR weights (SALAD).
    pub reweighted: Chain,
    /// The chain without (simulation normalised to the signal-region data).
    pub unweighted: Chain,
    /// Wall-clock seconds (shown, not saved: result files are reproducible).
    #[serde(skip)]
    pub seconds: f64,
    /// Sideband closure hold-out data and simulation, then signal-region data and simulation.
    #[serde(skip)]
    pub groups: [Group; 4],
    /// Positions (data, simulation) of the events any DCTR network trained or early-stopped
    /// on, sorted: never one of the closure hold-out's.
    #[serde(skip)]
    pub dctr_seen: [Vec<usize>; 2],
    /// The data.
    #[serde(skip)]
    pub data: EventSet,
    /// The simulation.
    #[serde(skip)]
    pub sim: EventSet,
}

impl Salad {
    /// The most significant estimate of the reweighted chain with Šidák's correction over the
    /// efficiencies; `None` if no p-value is finite.
    pub fn global(&self) -> Option<Significance> {
        most_significant(&self.reweighted.estimates)
    }

    /// Everything `save` writes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "salad": self, "global": self.global() })
    }

    /// The index of `efficiency` among the tested ones.
    pub fn efficiency_index(&self, efficiency: f64) -> Result<usize> {
        let tested: Vec<f64> = self
            .reweighted
            .estimates
            .iter()
            .map(|e| e.efficiency)
            .collect();
        tested
            .iter()
            .position(|&e| (e - efficiency).abs() <= 1e-9 * e)
            .ok_or_else(|| {
                Error::invalid(
                    "efficiency",
                    format!("{efficiency} was not tested; SALAD tested {tested:?}"),
                )
            })
    }

    /// The signal-region data events SALAD's classifier keeps at `efficiency` (any value in
    /// (0, 1], not only the tested ones).
    pub fn selected(&self, efficiency: f64) -> Result<EventSet> {
        check_efficiency("efficiency", efficiency)?;
        let scores = &self.reweighted.data_scores;
        let t = threshold_for_efficiency(scores, efficiency)?;
        let rows = &self.groups[2].positions;
        let kept: Vec<usize> = rows
            .iter()
            .zip(scores)
            .filter(|&(_, &s)| s >= t)
            .map(|(&p, _)| p)
            .collect();
        self.data.take(&kept)
    }

    /// The signal-region data with a `score` column (SALAD's classifier output).
    pub fn scored(&self) -> Result<EventSet> {
        self.data
            .take(&self.groups[2].positions)?
            .with_column("score", self.reweighted.data_scores.clone())
    }

    /// The signal-region simulation with its interpolated DCTR weights as a `dctr_weight`
    /// column and the classifier output as `score`.
    pub fn reweighted_simulation(&self) -> Result<EventSet> {
        self.sim
            .take(&self.groups[3].positions)?
            .with_column("dctr_weight", self.reweighted.sim_weights.clone())?
            .with_column("score", self.reweighted.sim_scores.clone())
    }
}

/// Runs SALAD on `data` with background simulation `sim` (see the module documentation).
/// Errors before any training: a missing column, NaN, invalid options, or an empty sideband or
/// signal region in either sample. Ctrl-C (`interrupt`) stops between batches.
pub fn salad(
    data: &EventSet,
    sim: &EventSet,
    opts: &SaladOptions,
    interrupt: Option<&Interrupt>,
) -> Result<Salad> {
    let started = Instant::now();
    let edges = check_options(opts)?;
    let spec = InputSpec {
        mass: &opts.window.mass,
        features: &opts.window.features,
        rescale: &[],
        logarithm: &opts.logarithm,
        edges: &edges,
    };
    let d = Inputs::new(data, &spec, None, &opts.device)?;
    let s = Inputs::new(sim, &spec, Some(&d.scaling), &opts.device)
        .map_err(|e| e.in_sample("simulation"))?;
    let rows_in = |i: &Inputs, sr: bool| -> Vec<usize> {
        (0..i.len()).filter(|&r| (i.bin[r] == 1) == sr).collect()
    };
    let (d_sb, d_sr, s_sb, s_sr) = (
        rows_in(&d, false),
        rows_in(&d, true),
        rows_in(&s, false),
        rows_in(&s, true),
    );
    let counts = [d_sb.len(), d_sr.len(), s_sb.len(), s_sr.len()];
    for (n, what) in counts.iter().zip([
        "the data's sidebands",
        "the data's signal region",
        "the simulation's sidebands",
        "the simulation's signal region",
    ]) {
        if *n < opts.folds {
            return Err(Error::invalid(
                "signal_region",
                format!(
                    "{what} ({}) holds {n} events; SALAD needs at least {} there",
                    opts.window.describe(),
                    opts.folds
                ),
            ));
        }
    }
    let progress = Progress::new(
        "SALAD (DCTR, DCTR outside the validation windows, the two classifiers)",
        4,
    );

    // 1. DCTR in the sidebands: trained on one part, early-stopped on another, the third
    // (the closure hold-out) never shown to it.
    let parts = split_sidebands(
        d_sb.len() + s_sb.len(),
        opts.dctr_holdout,
        opts.closure_share,
        stream_seed(opts.seed, 2),
    )?;
    let rows_of = |part: &[u32]| -> (Vec<usize>, Vec<usize>) {
        let (mut data_rows, mut sim_rows) = (Vec::new(), Vec::new());
        for &i in part {
            let i = i as usize;
            if i < d_sb.len() {
                data_rows.push(d_sb[i]);
            } else {
                sim_rows.push(s_sb[i - d_sb.len()]);
            }
        }
        data_rows.sort_unstable();
        sim_rows.sort_unstable();
        (data_rows, sim_rows)
    };
    let (d_train, s_train) = rows_of(&parts.train);
    let (d_val, s_val) = rows_of(&parts.validation);
    let (held_data, held_sim) = rows_of(&parts.closure);
    let dctr = Dctr::train(
        [&d, &s],
        [&d_train, &s_train],
        [&d_val, &s_val],
        opts,
        stream_seed(opts.seed, 1),
        interrupt,
    )?;
    progress.advance(1);

    // The interpolation test: a DCTR trained on the same parts, but only outside the
    // validation windows and the signal region, reweights the simulation in the windows.
    let mut validation = ValidationTest::new();
    match opts.window.validation_windows(opts.validation_width) {
        Err(e) => validation.untested = Some(format!("the validation windows do not fit: {e}")),
        Ok(windows) => {
            let (lo, hi) = windows.masked();
            let outside = |i: &Inputs, rows: &[usize]| -> Vec<usize> {
                rows.iter()
                    .copied()
                    .filter(|&r| i.mass[r] < lo || i.mass[r] >= hi)
                    .collect()
            };
            let inside = |i: &Inputs, rows: &[usize], (a, b): (f64, f64)| -> Vec<usize> {
                rows.iter()
                    .copied()
                    .filter(|&r| i.mass[r] >= a && i.mass[r] < b)
                    .collect()
            };
            let rows = [
                inside(&d, &d_sb, windows.lower),
                inside(&d, &d_sb, windows.upper),
                inside(&s, &s_sb, windows.lower),
                inside(&s, &s_sb, windows.upper),
            ];
            validation.windows = Some(windows);
            validation.counts = [rows[0].len(), rows[1].len(), rows[2].len(), rows[3].len()];
            let train = [outside(&d, &d_train), outside(&s, &s_train)];
            let val = [outside(&d, &d_val), outside(&s, &s_val)];
            if let Some(n) = rows.iter().map(Vec::len).min().filter(|&n| n == 0) {
                validation.untested = Some(format!(
                    "a validation window holds {n} events of a sample (data {:?}, simulation {:?})",
                    &validation.counts[..2],
                    &validation.counts[2..]
                ));
            } else if train.iter().chain(&val).any(Vec::is_empty) {
                validation.untested =
                    Some("no sideband events are left outside the validation windows".into());
            } else {
                let outer = Dctr::train(
                    [&d, &s],
                    [&train[0], &train[1]],
                    [&val[0], &val[1]],
                    opts,
                    stream_seed(opts.seed, 5),
                    interrupt,
                )?;
                validation.loss = outer.loss;
                let window_check = |data_rows: &[usize], sim_rows: &[usize]| -> Result<Check> {
                    Ok(Check {
                        x: Tensor::cat(&[&d.tensor(data_rows)?, &s.tensor(sim_rows)?], 0)?,
                        n_data: data_rows.len(),
                        weights: weights(&outer.probabilities(&s, sim_rows)?),
                    })
                };
                validation.checks = Some([
                    window_check(&rows[0], &rows[2])?,
                    window_check(&rows[1], &rows[3])?,
                ]);
            }
        }
    }
    progress.advance(1);
    let mut dctr_seen = [[d_train, d_val].concat(), [s_train, s_val].concat()];
    for (seen, i) in dctr_seen.iter_mut().zip([&d, &s]) {
        for r in seen.iter_mut() {
            *r = i.positions[*r];
        }
        seen.sort_unstable();
    }

    let sb_data_group = Group {
        positions: held_data.iter().map(|&r| d.positions[r]).collect(),
        dctr: dctr.probabilities(&d, &held_data)?,
    };
    let sb_sim_group = Group {
        positions: held_sim.iter().map(|&r| s.positions[r]).collect(),
        dctr: dctr.probabilities(&s, &held_sim)?,
    };
    let sr_data_group = Group {
        positions: d_sr.iter().map(|&r| d.positions[r]).collect(),
        dctr: dctr.probabilities(&d, &d_sr)?,
    };
    let sr_sim_group = Group {
        positions: s_sr.iter().map(|&r| s.positions[r]).collect(),
        dctr: dctr.probabilities(&s, &s_sr)?,
    };
    let w_sim_sr = sr_sim_group.weights();
    let normalisation = w_sim_sr.iter().sum::<f64>() / d_sr.len() as f64;

    // 2. and 3. The signal-region classifiers and estimates, with and without the weights;
    // each cut is also checked on the closure hold-out and in the validation windows, never
    // trained on by the classifiers, the hold-out never by DCTR, the windows never by the
    // DCTR that weights them.
    let sr_x = Tensor::cat(&[&d.tensor(&d_sr)?, &s.tensor(&s_sr)?], 0)?;
    let holdout = Check {
        x: Tensor::cat(&[&d.tensor(&held_data)?, &s.tensor(&held_sim)?], 0)?,
        n_data: held_data.len(),
        weights: sb_sim_group.weights(),
    };
    let reweighted = chain(
        &sr_x,
        d_sr.len(),
        w_sim_sr,
        &holdout,
        &validation,
        opts,
        stream_seed(opts.seed, 3),
        interrupt,
    )?;
    progress.advance(1);
    // Without reweighting every check's simulation weighs the same.
    let unit = |c: &Check| Check {
        x: c.x.clone(),
        n_data: c.n_data,
        weights: vec![1.0; c.weights.len()],
    };
    let plain_validation = ValidationTest {
        checks: validation.checks.as_ref().map(|[a, b]| [unit(a), unit(b)]),
        ..validation.clone()
    };
    let unweighted = chain(
        &sr_x,
        d_sr.len(),
        vec![d_sr.len() as f64 / s_sr.len() as f64; s_sr.len()],
        &unit(&holdout),
        &plain_validation,
        opts,
        stream_seed(opts.seed, 4),
        interrupt,
    )?;
    progress.advance(1);
    drop(progress);
    let groups = [sb_data_group, sb_sim_group, sr_data_group, sr_sim_group];
    Ok(Salad {
        window: opts.window.clone(),
        counts,
        normalisation,
        dctr_loss: dctr.loss,
        validation_windows: validation.windows,
        validation_untested: validation.untested,
        validation_counts: validation.counts,
        validation_dctr_loss: validation.loss,
        reweighted,
        unweighted,
        seconds: started.elapsed().as_secs_f64(),
        groups,
        dctr_seen,
        data: data.clone(),
        sim: sim.clone(),
    })
}

/// The DCTR weights f/(1 − f) of probabilities `f`.
fn weights(f: &[f64]) -> Vec<f64> {
    f.iter().map(|f| f / (1.0 - f)).collect()
}

/// The interpolation test's state: the windows, their events, and why it was not made.
#[derive(Clone)]
struct ValidationTest {
    windows: Option<ValidationWindows>,
    counts: [usize; 4],
    loss: f64,
    /// The lower and upper windows' events, the simulation weighted by the DCTR trained
    /// outside them.
    checks: Option<[Check; 2]>,
    untested: Option<String>,
}

impl ValidationTest {
    /// No windows yet.
    fn new() -> Self {
        Self {
            windows: None,
            counts: [0; 4],
            loss: f64::NAN,
            checks: None,
            untested: None,
        }
    }
}

/// The DCTR classifiers f(x, m), data (1) against simulation (0), parameterised in the
/// standardised log mass.
struct Dctr {
    ensemble: Ensemble,
    /// Mean and standard deviation of ln m in the data.
    mass_scaling: (f64, f64),
    /// Mean hold-out loss of the networks' best epochs.
    loss: f64,
}

impl Dctr {
    /// Trains on the data rows `train[0]` (1) against the simulation rows `train[1]` (0) of
    /// `inputs` (data, simulation), early-stopped on the rows `validation`. Only these rows
    /// are put into the training tensor: the networks see no other event.
    fn train(
        inputs: [&Inputs; 2],
        train: [&[usize]; 2],
        validation: [&[usize]; 2],
        opts: &SaladOptions,
        seed: u64,
        interrupt: Option<&Interrupt>,
    ) -> Result<Self> {
        let [d, s] = inputs;
        let mut dctr = Self {
            ensemble: Ensemble::new(
                MlpConfig {
                    inputs: opts.window.features.len() + 1,
                    ..opts.dctr_network.clone()
                },
                opts.dctr_members,
                &opts.device,
                seed,
            )?,
            mass_scaling: d.log_mass_scaling(),
            loss: f64::NAN,
        };
        // Rows: data training, data validation, simulation training, simulation validation.
        let blocks = [
            (d, train[0], 1.0_f32, true),
            (d, validation[0], 1.0, false),
            (s, train[1], 0.0, true),
            (s, validation[1], 0.0, false),
        ];
        let mut tensors = Vec::new();
        let (mut y, mut train_idx, mut val_idx) = (Vec::new(), Vec::new(), Vec::new());
        for (i, rows, label, trains) in blocks {
            if rows.is_empty() {
                continue;
            }
            tensors.push(dctr.input(i, rows)?);
            let start = y.len() as u32;
            let idx = start..start + rows.len() as u32;
            if trains {
                train_idx.extend(idx);
            } else {
                val_idx.extend(idx);
            }
            y.extend(std::iter::repeat_n(label, rows.len()));
        }
        let n = y.len();
        let data = Dataset {
            x: Tensor::cat(&tensors, 0)?,
            y: Some(Tensor::from_vec(y, n, &opts.device)?),
            weights: None,
            context: None,
        };
        let members = vec![
            MemberData {
                train: train_idx,
                validation: Some(val_idx),
                shuffle_seed: None,
            };
            opts.dctr_members
        ];
        let histories = fit_ensemble(
            &dctr.ensemble,
            &data,
            &members,
            &TrainOptions {
                validation: Validation::None,
                monitor: "val_loss".into(),
                seed: stream_seed(seed, u64::MAX),
                quiet: true,
                ..opts.dctr_training.clone()
            },
            interrupt,
        )?;
        dctr.loss = histories
            .iter()
            .filter_map(|h| h.epochs.get(h.best_epoch).and_then(|e| e.val_loss))
            .sum::<f64>()
            / histories.len() as f64;
        Ok(dctr)
    }

    /// The inputs of `rows` of `i`: features and standardised ln m.
    fn input(&self, i: &Inputs, rows: &[usize]) -> Result<Tensor> {
        let m = i.log_mass(rows, self.mass_scaling)?;
        Ok(Tensor::cat(&[&i.tensor(rows)?, &m], 1)?)
    }

    /// The networks' mean f for `rows` of `i`, kept off 0 and 1.
    fn probabilities(&self, i: &Inputs, rows: &[usize]) -> Result<Vec<f64>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let f = self.ensemble.mean_predictions(&self.input(i, rows)?)?;
        Ok(f.into_iter()
            .map(|f| f.clamp(PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR))
            .collect())
    }
}

fn check_options(opts: &SaladOptions) -> Result<[f64; 4]> {
    let edges = checked_window(&opts.window, opts.folds, &opts.efficiencies)?;
    let features = &opts.window.features;
    if let Some(l) = opts.logarithm.iter().find(|l| !features.contains(l)) {
        return Err(Error::invalid(
            "logarithm",
            format!("'{l}' is not one of the features {features:?}"),
        ));
    }
    if opts.dctr_members == 0 {
        return Err(Error::invalid(
            "dctr_members",
            "train at least one DCTR network",
        ));
    }
    for (name, share) in [
        ("dctr_holdout", opts.dctr_holdout),
        ("closure_share", opts.closure_share),
    ] {
        if !(share > 0.0 && share < 1.0) {
            return Err(Error::invalid(name, format!("{share} is not in (0, 1)")));
        }
    }
    if opts.dctr_holdout + opts.closure_share >= 1.0 {
        return Err(Error::invalid(
            "closure_share",
            format!(
                "dctr_holdout {} and closure_share {} leave no sideband events for DCTR to train on; their sum must be below 1",
                opts.dctr_holdout, opts.closure_share
            ),
        ));
    }
    // A width that does not fit the range is no option error: the estimates are then
    // untested, and the summary says why.
    let width = opts.validation_width;
    if !(width.is_finite() && width > 0.0) {
        return Err(Error::invalid(
            "validation_width",
            format!("{width} must be a positive fraction of the signal region's width"),
        ));
    }
    Ok(edges)
}

/// The sideband events' three parts, as positions among the data's sideband rows followed by
/// the simulation's: DCTR trains on `train`, early-stops on `validation`, and never sees
/// `closure`, on which the sideband closure is measured.
#[derive(Clone, Debug, PartialEq)]
pub struct SidebandSplit {
    /// DCTR's training events.
    pub train: Vec<u32>,
    /// Its early-stopping events.
    pub validation: Vec<u32>,
    /// The closure hold-out.
    pub closure: Vec<u32>,
}

/// A seeded split of `n` (at least 3) positions into training, validation (a
/// `validation_share` of them) and closure hold-out (a `closure_share`), each non-empty.
pub fn split_sidebands(
    n: usize,
    validation_share: f64,
    closure_share: f64,
    seed: u64,
) -> Result<SidebandSplit> {
    if n < 3 {
        return Err(Error::invalid(
            "sidebands",
            format!("{n} sideband events cannot be split three ways"),
        ));
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    let closure_n = ((n as f64 * closure_share).round() as usize).clamp(1, n - 2);
    let validation_n = ((n as f64 * validation_share).round() as usize).clamp(1, n - closure_n - 1);
    let mut closure = order.split_off(n - closure_n);
    let mut validation = order.split_off(n - closure_n - validation_n);
    closure.sort_unstable();
    validation.sort_unstable();
    Ok(SidebandSplit {
        train: order,
        validation,
        closure,
    })
}

/// Events outside the signal region (data rows first, then simulation with its weights) on
/// which a signal-region cut's closure is measured.
#[derive(Clone)]
struct Check {
    x: Tensor,
    n_data: usize,
    weights: Vec<f64>,
}

/// Predicted over observed efficiency of the cut `score >= threshold`, the weighted reference
/// against the data, and its statistical uncertainty.
fn closure_ratio(threshold: f64, data: &[f64], reference: &[f64], weights: &[f64]) -> Closure {
    let passed_data = data.iter().filter(|&&s| s >= threshold).count() as f64;
    let (mut passed, mut sumw2, mut total) = (0.0, 0.0, 0.0);
    for (&s, &w) in reference.iter().zip(weights) {
        total += w;
        if s >= threshold {
            passed += w;
            sumw2 += w * w;
        }
    }
    let ratio = (passed / total) / (passed_data / data.len() as f64);
    let relative = (sumw2 / (passed * passed) + 1.0 / passed_data).sqrt();
    Closure {
        ratio,
        error: ratio * relative,
    }
}

/// Trains the signal-region classifier (data, the first `n_data` rows of `x`, against the
/// simulation weighted by `sim_weights`) with k-fold cross-validation, scores every event out
/// of sample and makes the estimates, each cut's systematic from its closure on the
/// `holdout` and in the `validation` windows.
#[allow(clippy::too_many_arguments)]
fn chain(
    x: &Tensor,
    n_data: usize,
    sim_weights: Vec<f64>,
    holdout: &Check,
    validation: &ValidationTest,
    opts: &SaladOptions,
    seed: u64,
    interrupt: Option<&Interrupt>,
) -> Result<Chain> {
    let n = x.dims()[0];
    let labels: Vec<f32> = (0..n).map(|i| if i < n_data { 1.0 } else { 0.0 }).collect();
    // Both classes weigh the same in total, so the classifier's odds are the likelihood ratio
    // up to one constant (which no threshold sees).
    let sim_total: f64 = sim_weights.iter().sum();
    let balance = n_data as f64 / sim_total;
    let weights: Vec<f32> = (0..n)
        .map(|i| {
            if i < n_data {
                1.0
            } else {
                (sim_weights[i - n_data] * balance) as f32
            }
        })
        .collect();
    let data = Dataset {
        x: x.clone(),
        y: Some(Tensor::from_vec(labels, n, &opts.device)?),
        weights: Some(Tensor::from_vec(weights, n, &opts.device)?),
        context: None,
    };
    let members = MemberData::k_folds(n, opts.folds, stream_seed(seed, 0))?;
    let ensemble = Ensemble::new(
        MlpConfig {
            inputs: opts.window.features.len(),
            ..opts.network.clone()
        },
        opts.folds,
        &opts.device,
        seed,
    )?;
    // Members train on their folds with no early stopping; their held-out fold is scored.
    let training: Vec<MemberData> = members
        .iter()
        .map(|m| MemberData {
            train: m.train.clone(),
            validation: None,
            shuffle_seed: None,
        })
        .collect();
    fit_ensemble(
        &ensemble,
        &data,
        &training,
        &TrainOptions {
            validation: Validation::None,
            patience: None,
            monitor: "loss".into(),
            seed: stream_seed(seed, u64::MAX),
            quiet: true,
            ..opts.training.clone()
        },
        interrupt,
    )?;
    let mut scores = vec![f64::NAN; n];
    for (k, member) in members.iter().enumerate() {
        let held: Vec<u32> = member.validation.clone().unwrap_or_default();
        let index = Tensor::from_vec(held.clone(), held.len(), &opts.device)?;
        let p = ensemble.member_predictions(&x.index_select(&index, 0)?)?;
        for (&row, &score) in held.iter().zip(&p[k]) {
            scores[row as usize] = f64::from(score);
        }
    }
    let sim_scores = scores.split_off(n_data);
    // The check events are scored by the mean of all members (none trained on them).
    let score = |c: &Check| -> Result<(Vec<f64>, Vec<f64>)> {
        let mut s = ensemble.mean_predictions(&c.x)?;
        let sim = s.split_off(c.n_data);
        Ok((s, sim))
    };
    let held = score(holdout)?;
    let windows = match &validation.checks {
        Some([lower, upper]) => Some([(score(lower)?, lower), (score(upper)?, upper)]),
        None => None,
    };
    let mut estimates = Vec::new();
    let mut systematics = Vec::new();
    for &eff in &opts.efficiencies {
        let threshold = threshold_for_efficiency(&scores, eff)?;
        let closure = |(data, sim): &(Vec<f64>, Vec<f64>), c: &Check| {
            closure_ratio(threshold, data, sim, &c.weights)
        };
        let held_closure = closure(&held, holdout);
        let window_closures = windows
            .as_ref()
            .map(|[(l, lc), (u, uc)]| [closure(l, lc), closure(u, uc)]);
        let holdout_part = held_closure.non_closure();
        // The larger window's non-closure: where the mis-modelling changes with the mass the
        // two windows can err in opposite directions, which a pooled ratio would cancel.
        let validation_part =
            window_closures.and_then(|[l, u]| Some(l.non_closure()?.max(u.non_closure()?)));
        let total = holdout_part.zip(validation_part).map(|(h, v)| h.hypot(v));
        let mut e = estimate(eff, &scores, &sim_scores, &sim_weights, total)?;
        // An undefined part is no measurement: the estimate then gets no p-value, and says why
        // (unless it already lacks the reference events for one).
        if total.is_none() && e.reference_events >= MIN_REFERENCE_EVENTS {
            e.untested = Some(if holdout_part.is_none() {
                "the cut's closure on the sideband hold-out is undefined (no data event passes there)"
                    .into()
            } else if let Some(why) = &validation.untested {
                format!("the interpolation was not tested: {why}")
            } else {
                "the cut's closure in a validation window is undefined (no data event passes there)"
                    .into()
            });
        }
        estimates.push(e);
        systematics.push(Systematic {
            efficiency: eff,
            holdout: held_closure,
            windows: window_closures,
            holdout_part,
            validation_part,
            total,
        });
    }
    Ok(Chain {
        estimates,
        systematics,
        data_scores: scores,
        sim_scores,
        sim_weights,
        holdout_scores: [held.0, held.1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::generate::lhco::{LhcoToyOptions, Variant, lhco_toy};

    fn sample(background: usize, signal: usize, variant: Variant, seed: u64) -> EventSet {
        EventSet::from_columns(
            lhco_toy(&LhcoToyOptions {
                background,
                signal,
                variant,
                seed,
                ..LhcoToyOptions::default()
            })
            .unwrap(),
        )
        .unwrap()
    }

    fn quick() -> SaladOptions {
        let d = SaladOptions::default();
        SaladOptions {
            folds: 3,
            dctr_members: 1,
            dctr_network: MlpConfig {
                hidden: vec![32, 32],
                ..d.dctr_network.clone()
            },
            network: MlpConfig {
                hidden: vec![32, 32],
                ..d.network.clone()
            },
            dctr_training: TrainOptions {
                epochs: 4,
                ..d.dctr_training.clone()
            },
            training: TrainOptions {
                epochs: 4,
                ..d.training.clone()
            },
            efficiencies: vec![0.5, 0.2, 0.1],
            seed: 5,
            ..d
        }
    }

    #[test]
    fn reweighting_closes_where_plain_simulation_does_not_and_every_event_is_scored() {
        let data = sample(60_000, 0, Variant::Data, 1);
        let sim = sample(60_000, 0, Variant::Sim, 2);
        let result = salad(&data, &sim, &quick(), None).unwrap();
        let [d_sb, d_sr, s_sb, s_sr] = result.counts;
        assert!(
            d_sb > d_sr && s_sb > s_sr && d_sr > 1000,
            "{:?}",
            result.counts
        );
        assert_eq!(result.reweighted.data_scores.len(), d_sr);
        assert_eq!(result.reweighted.sim_scores.len(), s_sr);
        assert!(
            result
                .reweighted
                .data_scores
                .iter()
                .all(|s| (0.0..=1.0).contains(s))
        );
        // The interpolated weights carry the normalisation into the signal region.
        assert!(
            (result.normalisation - 1.0).abs() < 0.1,
            "{}",
            result.normalisation
        );
        // At 10 % data efficiency the reweighted prediction is close to what is observed, the
        // plain simulation's is not.
        let at = |c: &Chain| c.estimates[2].efficiency_ratio;
        let (r, u) = (at(&result.reweighted), at(&result.unweighted));
        assert!((r - 1.0).abs() < 0.15, "reweighted {r}");
        assert!(
            (u - 1.0).abs() > (r - 1.0).abs(),
            "plain {u} vs reweighted {r}"
        );
        // Each cut's systematic is its non-closure on the sideband hold-out and in the
        // validation windows, in quadrature.
        let v = result.validation_windows.expect("the default windows fit");
        assert_eq!(v, quick().window.validation_windows(0.5).unwrap());
        assert!(result.validation_untested.is_none());
        assert!(
            result.validation_counts.iter().all(|&n| n > 500),
            "{:?}",
            result.validation_counts
        );
        for (e, sys) in result
            .reweighted
            .estimates
            .iter()
            .zip(&result.reweighted.systematics)
        {
            let sb = sys.holdout.ratio;
            assert!(sb.is_finite() && (sb - 1.0).abs() < 0.5, "{sb}");
            let [lower, upper] = sys.windows.unwrap();
            let (h, vw) = (sys.holdout_part.unwrap(), sys.validation_part.unwrap());
            assert_eq!(h, (sb - 1.0).hypot(sys.holdout.error));
            assert_eq!(
                vw,
                lower
                    .non_closure()
                    .unwrap()
                    .max(upper.non_closure().unwrap())
            );
            assert!((sys.total.unwrap() - h.hypot(vw)).abs() < 1e-12);
            assert!((e.systematic_error - h.hypot(vw) * e.predicted).abs() < 1e-9 * e.predicted);
            assert!(e.p_value.is_finite(), "{e:?}");
        }
        // The closure hold-out is a fifth of the sidebands, and no DCTR saw any of it.
        for (k, group) in result.groups[..2].iter().enumerate() {
            let seen = &result.dctr_seen[k];
            assert!(
                group
                    .positions
                    .iter()
                    .all(|p| seen.binary_search(p).is_err())
            );
            assert_eq!(group.positions.len() + seen.len(), result.counts[2 * k]);
        }
        let held = (result.groups[0].positions.len() + result.groups[1].positions.len()) as f64;
        assert!((held / (d_sb + s_sb) as f64 - 0.2).abs() < 1e-3, "{held}");
        // The hold-out's stored scores, with its groups' weights, give the closure behind the
        // systematic (what the mass figure draws in the sidebands).
        let chain = &result.reweighted;
        let [held_data, held_sim] = &chain.holdout_scores;
        assert_eq!(held_data.len(), result.groups[0].positions.len());
        assert_eq!(held_sim.len(), result.groups[1].positions.len());
        for (e, sys) in chain.estimates.iter().zip(&chain.systematics) {
            let again = closure_ratio(
                e.threshold,
                held_data,
                held_sim,
                &result.groups[1].weights(),
            );
            assert_eq!(again, sys.holdout);
        }
        let dir = tempfile::tempdir().unwrap();
        super::super::salad_report::plot_mass(&result, &dir.path().join("mass.png")).unwrap();
        // Selected and scored views.
        assert_eq!(result.scored().unwrap().len(), d_sr);
        let kept = result.selected(0.1).unwrap().len() as f64;
        assert!((kept / d_sr as f64 - 0.1).abs() < 0.01);
        assert_eq!(result.reweighted_simulation().unwrap().len(), s_sr);
        // Same seed, same numbers.
        let again = salad(&data, &sim, &quick(), None).unwrap();
        assert_eq!(again.reweighted.estimates, result.reweighted.estimates);
    }

    /// Calibration on background-only toys: with the sideband-closure systematic, SALAD's
    /// local p-values must not be anti-conservative (too many small ones). Slow (minutes):
    /// `cargo test --release --lib salad_calibration -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn salad_calibration_on_background_only_toys() {
        let toys = 100;
        let mut p_values = Vec::new();
        for t in 0..toys {
            let data = sample(100_000, 0, Variant::Data, 100 + 2 * t);
            let sim = sample(100_000, 0, Variant::Sim, 101 + 2 * t);
            let opts = SaladOptions {
                seed: 1000 + t,
                efficiencies: vec![0.2, 0.05],
                ..quick()
            };
            let result = salad(&data, &sim, &opts, None).unwrap();
            p_values.extend(result.reweighted.estimates.iter().map(|e| e.p_value));
        }
        let small = p_values.iter().filter(|&&p| p < 0.05).count();
        eprintln!(
            "{small} of {} p-values below 0.05: {p_values:?}",
            p_values.len()
        );
        // 5 % expected (10 of 200); 20 would be anti-conservative beyond toy fluctuations.
        assert!(small as f64 <= 0.1 * p_values.len() as f64);
    }

    #[test]
    fn the_sidebands_split_three_ways_disjointly_and_reproducibly() {
        let n = 1003;
        let split = split_sidebands(n, 0.2, 0.25, 42).unwrap();
        assert_eq!(split.validation.len(), 201);
        assert_eq!(split.closure.len(), 251);
        let mut all: Vec<u32> = [&split.train[..], &split.validation, &split.closure].concat();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..n as u32).collect::<Vec<_>>(),
            "disjoint and complete"
        );
        assert_eq!(split, split_sidebands(n, 0.2, 0.25, 42).unwrap());
        assert_ne!(
            split.closure,
            split_sidebands(n, 0.2, 0.25, 43).unwrap().closure
        );
        // Tiny samples keep every part non-empty.
        let tiny = split_sidebands(3, 0.01, 0.01, 1).unwrap();
        assert!(
            [&tiny.train, &tiny.validation, &tiny.closure]
                .iter()
                .all(|p| p.len() == 1)
        );
        assert!(split_sidebands(2, 0.2, 0.2, 1).is_err());
    }

    /// Background-only "data" from the simulation's generator whose jets differ from the
    /// simulation more the higher the mass: jet masses and τ21 shifted by `strength` × a
    /// logistic step in mjj that rises through the signal region. Each sideband looks
    /// uniform to DCTR; where the step lies inside the gap it cannot know.
    fn mass_dependent_mismodelling(n: usize, strength: f64, seed: u64) -> EventSet {
        let mut columns = lhco_toy(&LhcoToyOptions {
            background: n,
            signal: 0,
            variant: Variant::Sim,
            seed,
            ..LhcoToyOptions::default()
        })
        .unwrap();
        let mjj = columns.iter().find(|(c, _)| c == "mjj").unwrap().1.clone();
        let step: Vec<f64> = mjj
            .iter()
            .map(|m| 1.0 / (1.0 + (-(m - STEP_AT) / STEP_WIDTH).exp()))
            .collect();
        for (name, values) in columns.iter_mut() {
            match name.as_str() {
                "mj1" | "mj2" => {
                    for (v, g) in values.iter_mut().zip(&step) {
                        *v *= 1.0 + strength * g;
                    }
                }
                "tau21_1" | "tau21_2" => {
                    for (v, g) in values.iter_mut().zip(&step) {
                        *v = (*v - 0.5 * strength * g).max(0.01);
                    }
                }
                _ => {}
            }
        }
        EventSet::from_columns(columns).unwrap()
    }

    /// Where [`mass_dependent_mismodelling`]'s step is centred, and its width (GeV).
    const STEP_AT: f64 = 3500.0;
    const STEP_WIDTH: f64 = 100.0;

    #[test]
    fn the_validation_windows_cover_a_bias_the_sideband_closure_misses() {
        let data = mass_dependent_mismodelling(60_000, 0.4, 11);
        let sim = sample(60_000, 0, Variant::Sim, 12);
        let result = salad(&data, &sim, &quick(), None).unwrap();
        eprintln!("{result}");
        let mut missed = 0;
        for (e, sys) in result
            .reweighted
            .estimates
            .iter()
            .zip(&result.reweighted.systematics)
        {
            // Background only: the bias is how far pred/obs is from 1 in the signal region.
            let bias = (e.efficiency_ratio - 1.0).abs();
            let total = sys.total.unwrap();
            assert!(
                total + e.efficiency_ratio_error >= bias,
                "at {}: bias {bias:.3} ± {:.3}, systematic {total:.3} ({sys:?})",
                e.efficiency,
                e.efficiency_ratio_error
            );
            if sys.holdout_part.unwrap() + e.efficiency_ratio_error < bias {
                missed += 1;
            }
        }
        // The sideband closure alone would not have covered it.
        assert!(
            missed > 0,
            "the sample does not mis-model the interpolation"
        );
    }

    #[test]
    fn windows_that_do_not_fit_leave_the_estimates_untested() {
        let data = sample(20_000, 0, Variant::Data, 1);
        let sim = sample(20_000, 0, Variant::Sim, 2);
        let opts = SaladOptions {
            validation_width: 1.7,
            efficiencies: vec![0.5],
            ..quick()
        };
        let result = salad(&data, &sim, &opts, None).unwrap();
        let why = result.validation_untested.clone().unwrap();
        assert!(why.contains("no sideband"), "{why}");
        assert!(result.validation_windows.is_none());
        let e = &result.reweighted.estimates[0];
        assert!(e.p_value.is_nan() && e.untested.as_ref().unwrap().contains("interpolation"));
        assert!(result.global().is_none());
        let text = result.to_string();
        assert!(
            text.contains("interpolation not tested") && !text.contains("most significant"),
            "{text}"
        );
    }

    #[test]
    fn bad_input_is_an_error_before_any_training() {
        let data = sample(5_000, 0, Variant::Data, 1);
        let sim = sample(5_000, 0, Variant::Sim, 2);
        let err = |opts: SaladOptions, sim: &EventSet| {
            salad(&data, sim, &opts, None).unwrap_err().to_string()
        };
        let e = err(
            SaladOptions {
                window: Window {
                    signal_region: (2000.0, 3000.0),
                    ..quick().window
                },
                ..quick()
            },
            &sim,
        );
        assert!(e.contains("strictly inside"), "{e}");
        let e = err(
            SaladOptions {
                window: Window {
                    range: (3300.0, 9000.0),
                    signal_region: (8000.0, 8500.0),
                    ..quick().window
                },
                ..quick()
            },
            &sim,
        );
        assert!(e.contains("holds 0 events"), "{e}");
        let no_tau = sim
            .select(&["mjj".into(), "mj1".into(), "mj2".into()])
            .unwrap();
        let e = err(quick(), &no_tau);
        assert!(e.contains("tau21_1") && e.contains("simulation"), "{e}");
        let e = err(
            SaladOptions {
                logarithm: vec!["mjj".into()],
                ..quick()
            },
            &sim,
        );
        assert!(e.contains("logarithm") && e.contains("'mjj'"), "{e}");
        let e = err(
            SaladOptions {
                efficiencies: vec![1.5],
                ..quick()
            },
            &sim,
        );
        assert!(e.contains("efficiencies"), "{e}");
        for (opts, key) in [
            (
                SaladOptions {
                    closure_share: 0.0,
                    ..quick()
                },
                "closure_share",
            ),
            (
                SaladOptions {
                    closure_share: f64::NAN,
                    ..quick()
                },
                "closure_share",
            ),
            (
                SaladOptions {
                    dctr_holdout: 1.0,
                    ..quick()
                },
                "dctr_holdout",
            ),
            (
                SaladOptions {
                    closure_share: 0.5,
                    dctr_holdout: 0.5,
                    ..quick()
                },
                "closure_share",
            ),
            (
                SaladOptions {
                    validation_width: 0.0,
                    ..quick()
                },
                "validation_width",
            ),
            (
                SaladOptions {
                    validation_width: f64::INFINITY,
                    ..quick()
                },
                "validation_width",
            ),
        ] {
            let e = err(opts, &sim);
            assert!(e.contains(key), "{key}: {e}");
        }
    }
}
