//! The background density both ANODE and CATHODE learn on the sidebands: a conditional flow
//! p(x | m) whose last epochs are kept (and averaged or sampled from), and how its
//! background model's systematic is measured on the data:
//! - **validation-window closure**: a flow trained on the sidebands outside two
//!   [validation windows](Window::validation_windows) next to the signal region is
//!   interpolated across the gap into them, where the search's procedure is repeated and its
//!   prediction compared with the windows' (signal-free) count: the relative non-closure in
//!   quadrature with that check's own statistical precision. A search may make several such
//!   [closure tests](ClosureTest) (CATHODE also cuts the windows with the signal region's own
//!   classifier); the largest non-closure counts;
//! - **flow spread**: independently seeded sideband flows predict the count passing the same
//!   cut; their standard deviation over the main prediction.
//!
//! Their quadrature sum is the relative systematic of each estimate.

use std::fmt;

use candle_core::{Device, Tensor};
use serde::Serialize;

use super::estimate::{Estimate, estimate_with_systematic};
use super::flow_preprocessing::{FlowPreprocessing, LogitMap};
use super::inputs::{InputSpec, Inputs};
use super::window::{ValidationWindows, Window};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::Trainable;
use crate::nn::flow::{Flow, FlowConfig};
use crate::nn::train::{Dataset, TrainOptions, Validation, fit_observed};

/// How a sideband flow's background-model systematic was measured (ANODE, CATHODE), one
/// entry per efficiency in each list (see the module documentation).
#[derive(Clone, Debug, Serialize)]
pub struct Systematics {
    /// The validation windows, `None` where they do not fit in the range.
    pub windows: Option<ValidationWindows>,
    /// Events in the windows and in the sidebands outside them (the validation flow's
    /// training events).
    pub validation_counts: [usize; 2],
    /// The closure tests in the windows, the search's own procedure first. Empty without
    /// windows.
    pub closure_tests: Vec<ClosureTest>,
    /// The relative closure systematic per efficiency: the largest over the tests of
    /// |pred − obs| / pred ⊕ its statistical precision (NaN where none is measured).
    pub closure: Vec<f64>,
    /// Each sideband flow's prediction of the signal-region count passing the cut (the main
    /// flow first): per efficiency, one per flow.
    pub flow_predictions: Vec<Vec<f64>>,
    /// Their standard deviation over the main prediction (NaN with one flow).
    pub spread: Vec<f64>,
    /// closure ⊕ spread: the estimates' relative systematic (NaN where unmeasured).
    pub relative: Vec<f64>,
    /// Why there is no systematic, if there is none.
    pub missing: Option<String>,
}

/// One closure test in the validation windows: a background model's prediction of the
/// windows' (signal-free) events passing a cut, at each data efficiency.
#[derive(Clone, Debug, Serialize)]
pub struct ClosureTest {
    /// Which model predicts and which score cuts, as the summary's legend says it.
    pub name: String,
    /// One per efficiency: observed vs predicted at the same data efficiency in the windows
    /// (no systematic of their own).
    pub estimates: Vec<Estimate>,
}

impl ClosureTest {
    /// The test `name` of a cut on the windows' data `scores` at each of `efficiencies`,
    /// the background predicted by `reference` scores each weighing `weight`.
    pub(crate) fn new(
        name: &str,
        efficiencies: &[f64],
        scores: &[f64],
        reference: &[f64],
        weight: f64,
    ) -> Result<Self> {
        let weights = vec![weight; reference.len()];
        Ok(Self {
            name: name.into(),
            estimates: efficiencies
                .iter()
                .map(|&eff| estimate_with_systematic(eff, scores, reference, &weights, Ok(0.0)))
                .collect::<Result<Vec<_>>>()?,
        })
    }
}

/// A trained sideband density p(x | m) and the weights of its kept epochs.
pub(crate) struct SidebandFlow {
    /// The flow (its weights are those of the last kept epoch restored). It models the
    /// features through `map` where there is one, so only without a map are its densities
    /// those of the features (ANODE, which divides them, maps the features itself, one map
    /// for all its flows, and trains without).
    pub(crate) flow: Flow,
    /// The map from features to the flow's inputs ([`FlowPreprocessing::Logit`]); `None`
    /// where the flow models the standardised features themselves.
    map: Option<LogitMap>,
    /// The weights of each kept epoch, in epoch order.
    pub(crate) snapshots: Vec<Vec<Tensor>>,
    /// The epochs (0-based) whose weights `snapshots` holds, in order.
    pub(crate) kept_epochs: Vec<usize>,
    /// Mean negative log-likelihood per epoch.
    pub(crate) loss: Vec<f64>,
    /// Mean negative log-likelihood per epoch of the held-out events (empty without them).
    pub(crate) validation_loss: Vec<f64>,
}

/// Which epochs' weights a [`SidebandFlow`] keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum KeptEpochs {
    /// The last `n`.
    Last(usize),
    /// The `count` of lowest loss on a held-out `fraction` of the training events, which the
    /// flow does not train on (the CATHODE paper keeps the 10 best of 100).
    LowestValidationLoss {
        /// Epochs kept.
        count: usize,
        /// The fraction held out.
        fraction: f64,
    },
}

impl SidebandFlow {
    /// A flow of `config` (initial weights from `init`) trained on `data` (features and mass
    /// context) in the space `preprocessing` fits on them, with `training` (its validation
    /// replaced as `kept` needs), the weights of the `kept` epochs kept.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn train(
        config: &FlowConfig,
        data: &Dataset,
        preprocessing: FlowPreprocessing,
        training: &TrainOptions,
        kept: KeptEpochs,
        device: &Device,
        init: u64,
        interrupt: Option<&Interrupt>,
    ) -> Result<Self> {
        let flow = Flow::new(config.clone(), device, init)?;
        let map = preprocessing.fit(&data.x)?;
        let mapped;
        let data = match &map {
            Some(map) => {
                mapped = Dataset {
                    x: map.forward(&data.x)?,
                    ..data.clone()
                };
                &mapped
            }
            None => data,
        };
        let (first_kept, validation) = match kept {
            KeptEpochs::Last(n) => (training.epochs.saturating_sub(n), Validation::None),
            KeptEpochs::LowestValidationLoss { fraction, .. } => {
                (0, Validation::Fraction(fraction))
            }
        };
        let training = TrainOptions {
            validation,
            monitor: "loss".into(),
            patience: None,
            restore_best: false,
            ..training.clone()
        };
        let mut snapshots = Vec::new();
        let history = fit_observed(&flow, data, &training, interrupt, &mut |epoch| {
            if epoch >= first_kept {
                snapshots.push(flow.params().snapshot()?);
            }
            Ok(())
        })?;
        let validation_loss: Vec<f64> = history.epochs.iter().filter_map(|e| e.val_loss).collect();
        let kept_epochs = match kept {
            KeptEpochs::Last(_) => (first_kept..history.epochs.len()).collect(),
            KeptEpochs::LowestValidationLoss { count, .. } => {
                let mut order: Vec<usize> = (0..validation_loss.len()).collect();
                order.sort_by(|&a, &b| validation_loss[a].total_cmp(&validation_loss[b]));
                order.truncate(count);
                order.sort_unstable();
                snapshots = std::mem::take(&mut snapshots)
                    .into_iter()
                    .enumerate()
                    .filter(|(e, _)| order.binary_search(e).is_ok())
                    .map(|(_, snapshot)| snapshot)
                    .collect();
                order
            }
        };
        if let Some(last) = snapshots.last() {
            flow.params().restore(last)?;
        }
        Ok(Self {
            flow,
            map,
            snapshots,
            kept_epochs,
            loss: history.epochs.iter().map(|e| e.loss).collect(),
            validation_loss,
        })
    }

    /// `n` events' features at the masses `c`, from kept epoch `s` (cyclically).
    pub(crate) fn draw(
        &self,
        s: usize,
        n: usize,
        c: &Tensor,
        seed: u64,
        interrupt: Option<&Interrupt>,
    ) -> Result<Tensor> {
        self.flow
            .params()
            .restore(&self.snapshots[s % self.snapshots.len()])?;
        let drawn = self.flow.sample(n, Some(c), seed, interrupt)?;
        match &self.map {
            Some(map) => map.inverse(&drawn),
            None => Ok(drawn),
        }
    }
}

/// The events of `window`'s range as a flow's inputs (features and mass, on `device`), with
/// the rows of its sidebands and of its signal region. An error naming the window when
/// fewer than 2 sideband or `min_signal_region` signal-region events are there (`to` says
/// what they are too few for).
pub(crate) fn split_window(
    events: &crate::data::eventset::EventSet,
    window: &Window,
    edges: &[f64],
    device: &Device,
    min_signal_region: usize,
    to: &str,
) -> Result<(Inputs, Vec<usize>, Vec<usize>)> {
    let inputs = Inputs::new(
        events,
        &InputSpec {
            mass: &window.mass,
            features: &window.features,
            rescale: &[],
            logarithm: &[],
            edges,
        },
        None,
        device,
    )?;
    let sb: Vec<usize> = (0..inputs.len()).filter(|&r| inputs.bin[r] != 1).collect();
    let sr: Vec<usize> = (0..inputs.len()).filter(|&r| inputs.bin[r] == 1).collect();
    if sb.len() < 2 || sr.len() < min_signal_region {
        return Err(Error::invalid(
            "signal_region",
            format!(
                "{} sideband and {} signal-region events ({}): too few to {to}",
                sb.len(),
                sr.len(),
                window.describe()
            ),
        ));
    }
    Ok((inputs, sb, sr))
}

/// The validation windows, the rows outside them (the validation flow's training events) and
/// the rows inside them; or why the closure test cannot be made.
pub(crate) fn validation_rows(inputs: &Inputs, window: &Window, width: f64) -> ValidationRows {
    let windows = window
        .validation_windows(width)
        .map_err(|e| format!("no validation windows: {e}"))?;
    let (lo, hi) = windows.masked();
    let inside = |m: f64| {
        (windows.lower.0 <= m && m < windows.lower.1)
            || (windows.upper.0 <= m && m < windows.upper.1)
    };
    let (mut outside_rows, mut inside_rows) = (Vec::new(), Vec::new());
    for r in 0..inputs.len() {
        let m = inputs.mass[r];
        if inputs.bin[r] == 1 {
            continue;
        }
        if inside(m) {
            inside_rows.push(r);
        } else if m < lo || m >= hi {
            outside_rows.push(r);
        }
    }
    if outside_rows.len() < 2 || inside_rows.len() < 2 {
        return Err(format!(
            "{} events in the validation windows and {} outside them: too few for the closure test",
            inside_rows.len(),
            outside_rows.len()
        ));
    }
    Ok((windows, outside_rows, inside_rows))
}

/// The relative closure systematic of one validation-window test: the non-closure
/// |pred − obs| / pred in quadrature with the test's statistical precision
/// sqrt(obs + σ_pred²) / pred. NaN where the test is untested or predicts nothing.
pub(crate) fn closure_systematic(v: &Estimate) -> f64 {
    if v.untested.is_some() || !(v.predicted > 0.0) {
        return f64::NAN;
    }
    let non_closure = (v.predicted - v.observed).abs() / v.predicted;
    let precision = (v.observed + v.predicted_error.powi(2)).sqrt() / v.predicted;
    non_closure.hypot(precision)
}

/// The standard deviation (n − 1) of `predictions` over the first one; NaN with fewer than
/// two or a first of zero.
pub(crate) fn relative_spread(predictions: &[f64]) -> f64 {
    let n = predictions.len();
    if n < 2 || !(predictions[0] > 0.0) {
        return f64::NAN;
    }
    let mean = predictions.iter().sum::<f64>() / n as f64;
    let var = predictions.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    var.sqrt() / predictions[0]
}

/// The validation windows, the rows outside them and the rows inside them, or why there are
/// none (see [`validation_rows`]).
pub(crate) type ValidationRows =
    std::result::Result<(ValidationWindows, Vec<usize>, Vec<usize>), String>;

impl Systematics {
    /// A systematic to be filled cut by cut ([`Systematics::add_cut`]): the windows of
    /// `rows`, their closure tests (each one estimate per efficiency), measured with
    /// `sideband_flows` flows; or why it cannot be measured.
    pub(crate) fn new(
        rows: &ValidationRows,
        closure_tests: Vec<ClosureTest>,
        sideband_flows: usize,
    ) -> Self {
        Self {
            windows: rows.as_ref().ok().map(|(w, _, _)| *w),
            validation_counts: rows
                .as_ref()
                .map_or([0, 0], |(_, outside, inside)| [inside.len(), outside.len()]),
            closure_tests,
            closure: Vec::new(),
            flow_predictions: Vec::new(),
            spread: Vec::new(),
            relative: Vec::new(),
            missing: match (rows, sideband_flows) {
                (Err(why), _) => Some(why.clone()),
                (_, 1) => Some(
                    "one sideband flow (sideband_flows 1) has no spread to measure; use at least 2"
                        .into(),
                ),
                _ => None,
            },
        }
    }

    /// Records the next cut (the closure tests' estimates of the same index): each sideband flow's
    /// prediction of the count passing it, the main flow's first. Returns the estimate's
    /// relative systematic (closure ⊕ spread), or why there is none.
    pub(crate) fn add_cut(&mut self, predictions: Vec<f64>) -> std::result::Result<f64, String> {
        let i = self.closure.len();
        let spread = relative_spread(&predictions);
        let closure = self
            .closure_tests
            .iter()
            .filter_map(|t| t.estimates.get(i).map(closure_systematic))
            .filter(|c| c.is_finite())
            .fold(f64::NAN, f64::max);
        let relative = closure.hypot(spread);
        self.closure.push(closure);
        self.spread.push(spread);
        self.relative.push(relative);
        self.flow_predictions.push(predictions);
        match &self.missing {
            Some(why) => Err(why.clone()),
            None if !relative.is_finite() => Err(format!(
                "the background model's systematic is undefined at this cut (validation-window \
                 closure {closure:.3}, flow spread {spread:.3}): too few events pass it"
            )),
            None => Ok(relative),
        }
    }

    /// The systematic at data efficiency `eff` (one of those of `estimates`, the tests it
    /// was measured for): `(closure, spread, relative, events)`, the first three relative
    /// to the prediction.
    pub fn at(&self, estimates: &[Estimate], eff: f64) -> Result<(f64, f64, f64, f64)> {
        let i = estimates
            .iter()
            .position(|e| e.efficiency == eff)
            .ok_or_else(|| {
                Error::invalid(
                    "efficiency",
                    format!(
                        "{eff} was not tested; the efficiencies are {:?}",
                        estimates.iter().map(|e| e.efficiency).collect::<Vec<_>>()
                    ),
                )
            })?;
        Ok((
            self.closure[i],
            self.spread[i],
            self.relative[i],
            estimates[i].systematic_error,
        ))
    }

    /// The systematic's table for a result's summary: the validation windows and, per
    /// efficiency, their closure tests (lettered, with a legend), the flows' spread and the
    /// relative systematic; and why there is none, if there is none.
    pub fn write_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.windows {
            Some(w) => {
                let letter = |t: usize| char::from(b'a' + (t % 26) as u8);
                writeln!(
                    f,
                    "  background-model systematic = largest validation-window closure ⊕ spread of {} sideband flows; windows {:.0}–{:.0} and {:.0}–{:.0} GeV ({} events), validation flow trained on the {} sideband events outside them",
                    self.flow_predictions.first().map_or(0, Vec::len),
                    w.lower.0,
                    w.lower.1,
                    w.upper.0,
                    w.upper.1,
                    self.validation_counts[0],
                    self.validation_counts[1]
                )?;
                let legend: Vec<String> = self
                    .closure_tests
                    .iter()
                    .enumerate()
                    .map(|(t, test)| format!("({}) {}", letter(t), test.name))
                    .collect();
                writeln!(f, "  closure tests: {}", legend.join("; "))?;
                write!(f, "  data eff   window obs")?;
                for t in 0..self.closure_tests.len() {
                    write!(f, "   ({}) pred ± stat", letter(t))?;
                }
                writeln!(f, "   closure   flow spread   syst (rel.)")?;
                for i in 0..self.closure.len() {
                    let Some(first) = self.closure_tests.first().and_then(|t| t.estimates.get(i))
                    else {
                        break;
                    };
                    write!(
                        f,
                        "  {:>8}  {:>11.0}",
                        format!("{}%", first.efficiency * 100.0),
                        first.observed
                    )?;
                    for test in &self.closure_tests {
                        let v = &test.estimates[i];
                        write!(f, "  {:>9.1} ± {:<6.1}", v.predicted, v.predicted_error)?;
                    }
                    writeln!(
                        f,
                        "  {:>8.3}  {:>12.3}  {:>12.3}",
                        self.closure[i], self.spread[i], self.relative[i]
                    )?;
                }
            }
            None => writeln!(f, "  no validation windows")?,
        }
        if let Some(why) = &self.missing {
            writeln!(f, "  no background-model systematic, so no Z: {why}")?;
        }
        Ok(())
    }
}
