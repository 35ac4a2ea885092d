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

mod training;

use training::{Check, Dctr, chain, weights};

pub use training::{SidebandSplit, split_sidebands};

#[cfg(test)]
mod tests;
