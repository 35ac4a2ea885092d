//! *Rare and Different* (Caron et al. 2021): an ensemble of Deep SVDD networks, which flags events
//! that are *different* from the training data, and an autoregressive flow, which flags
//! events that are *rare* under it, combined into one anomaly score.
//!
//! - **Different**: one Deep SVDD network (dense, ELU, hidden [512, 256, 128], no biases) per
//!   pair of output dimension d and target value n, trained to map every training event onto
//!   the constant vector O_n^d = (n, ..., n) (eq. 1); the anomaly score is the distance to
//!   it. Inputs: the fixed-length vector of the paper ([`fixed_vector`]), standardised on the
//!   training set. Adam 1e-3, the learning rate halved after 5 epochs without improvement of
//!   the validation loss, early stopping. The paper's grid (Table I) is d ∈ {5, 8, 13, 21, 34,
//!   55, 89, 144, 233} × n ∈ {0, 1, 2, 3, 4, 10, 25}, 63 networks ([`PAPER_DIMS`],
//!   [`PAPER_TARGETS`]); the default is the 3 × 3 subset d ∈ {5, 34, 233} × n ∈ {0, 1, 10}
//!   ([`DEFAULT_DIMS`], [`DEFAULT_TARGETS`]) so that the ensemble trains in minutes on a
//!   laptop CPU.
//! - **Rare**: a masked autoregressive flow with rational-quadratic splines on the flow
//!   encoding ([`flow_encoding`]: MET, counts, 7 jets and 4 leptons), its discrete entries
//!   dequantised with U(−0.5, 0.5) noise, standardised on the training set. Eq. 7 maps the
//!   log-likelihood to s = (log p − log p_min) / (log p_max − log p_min) with the extremes
//!   over the training set; s is high for *likely* events, so the anomaly score is 1 − s.
//!   The paper's flow has 11 layers of MADEs with 7 × 200 units and 35 knots; the default is
//!   much smaller (4 layers, 2 × 64 units, 8 knots; see [`RareAndDifferentOptions`]).
//!
//! Every score is uniformised on the training set (mapped to its empirical CDF there, so it
//! is uniform on the training events). The members' uniformised scores are combined into the
//! ensemble score "svdd" (`svdd_combination`, AVG by default), which is uniformised on the
//! training set again so that it and the flow enter the final combinations on an equal
//! footing; those are AND, OR, PROD and AVG of the two (Table IV). The Pearson correlations
//! of the uniformised test scores are reported between every pair of members and between
//! the ensemble and the flow (the paper finds 0.4–0.6 and 0.122).

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use serde::Serialize;

use crate::data::encode::{fixed_vector, fixed_vector_with_slots, flow_encoding};
use crate::data::eventset::EventSet;
use crate::data::scaler::{ScalerKind, fitted_parameters};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::batching::batched_along;
use crate::nn::flow::{Flow, FlowConfig};
use crate::nn::layers::matrix;
use crate::nn::svdd::{DeepSvdd, SvddConfig};
use crate::nn::train::{Dataset, TrainOptions, Validation, fit};
use crate::progress::Progress;
use crate::seed::stream_seed;
use crate::stats::metrics::{Combination, combine, pearson, uniformize};

/// The output dimensions d of the paper's Deep SVDD grid (Table I).
pub const PAPER_DIMS: [usize; 9] = [5, 8, 13, 21, 34, 55, 89, 144, 233];

/// The target values n of the paper's Deep SVDD grid (Table I).
pub const PAPER_TARGETS: [f64; 7] = [0.0, 1.0, 2.0, 3.0, 4.0, 10.0, 25.0];

/// The default output dimensions: the smallest, a middle and the largest of the paper's.
pub const DEFAULT_DIMS: [usize; 3] = [5, 34, 233];

/// The default targets: 0 (which Ruff et al. warn against and the paper keeps), 1 and 10.
pub const DEFAULT_TARGETS: [f64; 3] = [0.0, 1.0, 10.0];

/// The names of the combined scores, besides the members' own.
pub const SCORE_NAMES: [&str; 6] = ["svdd", "flow", "and", "or", "prod", "avg"];

/// Options of [`rare_and_different`].
#[derive(Clone, Debug)]
pub struct RareAndDifferentOptions {
    /// Output dimensions d of the Deep SVDD members ([`DEFAULT_DIMS`]).
    pub dims: Vec<usize>,
    /// Target values n ([`DEFAULT_TARGETS`]); one member per (d, n).
    pub targets: Vec<f64>,
    /// Hidden widths of every member ([512, 256, 128], Table II).
    pub hidden: Vec<usize>,
    /// Training of every member: 20 epochs, batch 512, Adam 1e-3, a 20 % validation
    /// hold-out, the learning rate halved after 5 epochs without improvement, early stopping
    /// after 8 and the best epoch's weights kept. (The paper: batch 10 000, patience 50.)
    pub svdd_training: TrainOptions,
    /// How the members' scores make the ensemble score (AVG).
    pub svdd_combination: Combination,
    /// The flow (inputs are set from the encoding): 4 layers of 64 units, 8 knots on [-4, 4].
    pub flow: FlowConfig,
    /// Training of the flow: 20 epochs, batch 512, Adam 1e-3, a 20 % validation hold-out,
    /// early stopping after 5 epochs without improvement, best epoch kept.
    pub flow_training: TrainOptions,
    /// Where the networks live (CPU).
    pub device: Device,
    /// Seed of the initial weights, the shuffles, the hold-outs and the dequantisation.
    pub seed: u64,
}

impl Default for RareAndDifferentOptions {
    fn default() -> Self {
        Self {
            dims: DEFAULT_DIMS.to_vec(),
            targets: DEFAULT_TARGETS.to_vec(),
            hidden: vec![512, 256, 128],
            svdd_training: TrainOptions {
                epochs: 20,
                batch_size: 512,
                lr: 1e-3,
                validation: Validation::Fraction(0.2),
                monitor: "val_loss".into(),
                patience: Some(8),
                reduce_lr: Some((0.5, 5)),
                restore_best: true,
                ..TrainOptions::default()
            },
            svdd_combination: Combination::Avg,
            flow: FlowConfig {
                layers: 4,
                hidden: 64,
                knots: 8,
                bound: 4.0,
                ..FlowConfig::new(1, 0)
            },
            flow_training: TrainOptions {
                epochs: 20,
                batch_size: 512,
                lr: 1e-3,
                validation: Validation::Fraction(0.2),
                monitor: "val_loss".into(),
                patience: Some(5),
                restore_best: true,
                ..TrainOptions::default()
            },
            device: Device::Cpu,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

impl RareAndDifferentOptions {
    /// The options with the paper's full 9 × 7 grid of Deep SVDD members.
    pub fn full_grid(self) -> Self {
        Self {
            dims: PAPER_DIMS.to_vec(),
            targets: PAPER_TARGETS.to_vec(),
            ..self
        }
    }
}

/// One trained Deep SVDD member.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    /// Its score name, `svdd_d{d}_n{n}`.
    pub name: String,
    /// Output dimension d.
    pub dim: usize,
    /// Target value n.
    pub target: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// The best validation loss (mean squared distance on held-out training events).
    pub val_loss: f64,
}

/// The result of [`rare_and_different`].
#[derive(Clone, Debug, Serialize)]
pub struct RareAndDifferent {
    /// The Deep SVDD members, in grid order (d outer, n inner).
    pub members: Vec<Member>,
    /// How the members were combined.
    pub svdd_combination: Combination,
    /// The flow's epochs trained.
    pub flow_epochs: usize,
    /// The flow's best validation negative log-likelihood (standardised units).
    pub flow_val_loss: f64,
    /// log p_min and log p_max over the training set (eq. 7).
    pub log_p_range: (f64, f64),
    /// Pearson correlations of the members' uniformised test scores, row-major
    /// `members.len()` squared.
    pub member_correlations: Vec<Vec<f64>>,
    /// Pearson correlation of the ensemble and the flow (uniformised test scores).
    pub ensemble_flow_correlation: f64,
    /// Training and test events.
    pub counts: [usize; 2],
    /// Input widths: the Deep SVDD vector and the flow encoding.
    pub widths: [usize; 2],
    /// Wall-clock seconds: Deep SVDD members, flow, total (shown, not saved: result files are reproducible).
    #[serde(skip)]
    pub seconds: [f64; 3],
    /// The uniformised test scores by name (members, then [`SCORE_NAMES`]).
    #[serde(skip)]
    pub scores: Vec<(String, Vec<f64>)>,
    /// The test events.
    #[serde(skip)]
    pub test: EventSet,
}

impl RareAndDifferent {
    /// The uniformised test scores called `name`: "svdd" (the ensemble), "flow", "and",
    /// "or", "prod", "avg", or a member's name (`svdd_d5_n0`, ...). Higher is more anomalous.
    pub fn score(&self, name: &str) -> Result<&[f64]> {
        self.scores
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.as_slice())
            .ok_or_else(|| {
                let names: Vec<&str> = self.scores.iter().map(|(n, _)| n.as_str()).collect();
                Error::invalid(
                    "score",
                    format!("no score '{name}'; the scores are {}", names.join(", ")),
                )
            })
    }

    /// The test events with every score as a column `score_{name}`.
    pub fn scored(&self) -> Result<EventSet> {
        let mut out = self.test.clone();
        for (name, s) in &self.scores {
            out = out.with_column(&format!("score_{name}"), s.clone())?;
        }
        Ok(out)
    }

    /// The mean, smallest and largest correlation between two different members (`None`
    /// with fewer than two members).
    pub fn member_correlation_spread(&self) -> Option<(f64, f64, f64)> {
        let m = self.members.len();
        let off: Vec<f64> = (0..m)
            .flat_map(|i| (i + 1..m).map(move |j| (i, j)))
            .map(|(i, j)| self.member_correlations[i][j])
            .collect();
        if off.is_empty() {
            return None;
        }
        let mean = off.iter().sum::<f64>() / off.len() as f64;
        let min = off.iter().copied().fold(f64::INFINITY, f64::min);
        let max = off.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((mean, min, max))
    }

    /// Everything `save` writes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "rare_and_different": self })
    }
}

/// Runs *Rare and Different* (see the module documentation): trains on `train` (background
/// only, in the object layout of `data::objects`), scores `test`. Errors before any training:
/// a missing layout column, too few training events, an empty test set, an empty grid, a
/// non-positive dimension. Ctrl-C (`interrupt`) stops between batches.
pub fn rare_and_different(
    train: &EventSet,
    test: &EventSet,
    opts: &RareAndDifferentOptions,
    interrupt: Option<&Interrupt>,
) -> Result<RareAndDifferent> {
    let started = Instant::now();
    check_options(opts)?;
    if train.len() < 10 {
        return Err(Error::invalid(
            "train",
            format!("{} events: too few to train on (at least 10)", train.len()),
        ));
    }
    if test.is_empty() {
        return Err(Error::invalid("test", "no events to score"));
    }
    let (train_cols, test_cols) = (train.numeric_columns(), test.numeric_columns());
    let dev = &opts.device;

    // The Deep SVDD inputs: slots from the training set, standardised on it.
    let fixed_train = fixed_vector(&train_cols)?;
    let fixed_test = fixed_vector_with_slots(&test_cols, &fixed_train.slots)?;
    let svdd_width = fixed_train.width;
    let standard = Standardiser::fit(&fixed_train.values, svdd_width);
    let svdd_x_train = matrix(standard.apply(fixed_train.values), svdd_width, dev)?;
    let svdd_x_test = matrix(standard.apply(fixed_test.values), svdd_width, dev)?;

    // The flow inputs: dequantised, standardised on the training set.
    let mut flow_train = flow_encoding(&train_cols)?;
    let mut flow_test = flow_encoding(&test_cols)?;
    flow_train.dequantise(stream_seed(opts.seed, 1));
    flow_test.dequantise(stream_seed(opts.seed, 2));
    let flow_width = flow_train.width;
    let standard = Standardiser::fit(&flow_train.values, flow_width);
    let flow_x_train = matrix(standard.apply(flow_train.values), flow_width, dev)?;
    let flow_x_test = matrix(standard.apply(flow_test.values), flow_width, dev)?;

    let grid: Vec<(usize, f64)> = opts
        .dims
        .iter()
        .flat_map(|&d| opts.targets.iter().map(move |&n| (d, n)))
        .collect();
    let progress = Progress::new(
        format!("Rare and different ({} Deep SVDD + flow)", grid.len()),
        grid.len() as u64 + 1,
    );

    // Different: the members, each scored on the training and test sets.
    let mut members = Vec::with_capacity(grid.len());
    let mut member_scores: Vec<(Vec<f64>, Vec<f64>)> = Vec::with_capacity(grid.len());
    for (k, &(dim, target)) in grid.iter().enumerate() {
        let config = SvddConfig {
            hidden: opts.hidden.clone(),
            out_dim: dim,
            ..SvddConfig::new(svdd_width)
        };
        let svdd = DeepSvdd::new(config, dev, stream_seed(opts.seed, 100 + k as u64))?;
        svdd.set_target(&vec![target as f32; dim])?;
        let history = fit(
            &svdd,
            &Dataset::unlabelled(svdd_x_train.clone()),
            &TrainOptions {
                quiet: true,
                seed: stream_seed(opts.seed, 200 + k as u64),
                ..opts.svdd_training.clone()
            },
            interrupt,
        )?;
        let score = |x: &Tensor| chunked(x, |c| svdd.score(c));
        member_scores.push((score(&svdd_x_train)?, score(&svdd_x_test)?));
        members.push(Member {
            name: member_name(dim, target),
            dim,
            target,
            epochs: history.epochs.len(),
            val_loss: best_val_loss(&history),
        });
        progress.advance(1);
    }
    let svdd_seconds = started.elapsed().as_secs_f64();

    // Rare: the flow and eq. 7.
    let flow_started = Instant::now();
    let flow = Flow::new(
        FlowConfig {
            inputs: flow_width,
            context: 0,
            ..opts.flow.clone()
        },
        dev,
        stream_seed(opts.seed, 3),
    )?;
    let history = fit(
        &flow,
        &Dataset::unlabelled(flow_x_train.clone()),
        &TrainOptions {
            quiet: true,
            seed: stream_seed(opts.seed, 4),
            ..opts.flow_training.clone()
        },
        interrupt,
    )?;
    let log_p = |x: &Tensor| chunked(x, |c| flow.log_prob(c, None));
    let (log_p_train, log_p_test) = (log_p(&flow_x_train)?, log_p(&flow_x_test)?);
    let log_p_range = finite_range(&log_p_train)?;
    let flow_train_score = flow_anomaly(&log_p_train, log_p_range);
    let flow_test_score = flow_anomaly(&log_p_test, log_p_range);
    progress.advance(1);
    drop(progress);
    let flow_seconds = flow_started.elapsed().as_secs_f64();

    // Uniformise on the training set, combine.
    let mut scores = Vec::with_capacity(members.len() + SCORE_NAMES.len());
    let mut member_train_u = Vec::with_capacity(members.len());
    for (m, (train_s, test_s)) in members.iter().zip(&member_scores) {
        member_train_u.push(uniformize(train_s, train_s)?);
        scores.push((m.name.clone(), uniformize(test_s, train_s)?));
    }
    let member_test_u: Vec<&Vec<f64>> = scores.iter().map(|(_, s)| s).collect();
    let ensemble_train = combine(&member_train_u, opts.svdd_combination)?;
    let ensemble_test = combine(&member_test_u, opts.svdd_combination)?;
    let svdd = uniformize(&ensemble_test, &ensemble_train)?;
    let flow_u = uniformize(&flow_test_score, &flow_train_score)?;
    let pair = [svdd.as_slice(), flow_u.as_slice()];
    let combined = Combination::ALL
        .iter()
        .map(|&c| Ok((c.name().to_string(), combine(&pair, c)?)))
        .collect::<Result<Vec<_>>>()?;
    let member_correlations = correlation_matrix(&member_test_u)?;
    let ensemble_flow_correlation = correlation(&svdd, &flow_u);
    scores.push(("svdd".into(), svdd));
    scores.push(("flow".into(), flow_u));
    scores.extend(combined);

    Ok(RareAndDifferent {
        members,
        svdd_combination: opts.svdd_combination,
        flow_epochs: history.epochs.len(),
        flow_val_loss: best_val_loss(&history),
        log_p_range,
        member_correlations,
        ensemble_flow_correlation,
        counts: [train.len(), test.len()],
        widths: [svdd_width, flow_width],
        seconds: [svdd_seconds, flow_seconds, started.elapsed().as_secs_f64()],
        scores,
        test: test.clone(),
    })
}

fn check_options(opts: &RareAndDifferentOptions) -> Result<()> {
    if opts.dims.is_empty() || opts.targets.is_empty() {
        return Err(Error::invalid(
            "rare_and_different",
            "the Deep SVDD grid is empty: give at least one dimension (dims) and one target (targets)",
        ));
    }
    if opts.dims.contains(&0) {
        return Err(Error::invalid(
            "dims",
            "every output dimension must be at least 1",
        ));
    }
    if let Some(t) = opts.targets.iter().find(|t| !t.is_finite()) {
        return Err(Error::invalid(
            "targets",
            format!("{t} is not a finite target value"),
        ));
    }
    Ok(())
}

/// The member name of dimension `d` and target `n`: `svdd_d34_n10` (`n` as written, `p` for
/// a decimal point: `svdd_d5_n0p5`).
fn member_name(d: usize, n: f64) -> String {
    format!(
        "svdd_d{d}_n{}",
        format!("{n}").replace('.', "p").replace('-', "m")
    )
}

/// The best validation loss of a training (the training loss without validation).
fn best_val_loss(history: &crate::nn::train::History) -> f64 {
    history
        .epochs
        .get(history.best_epoch)
        .map_or(f64::NAN, |e| e.val_loss.unwrap_or(e.loss))
}

/// `f` applied to `x` in batches of events ([`batched_along`]), as f64.
fn chunked(x: &Tensor, f: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Vec<f64>> {
    let t = batched_along(0, x, None, |c, _| f(c))?;
    Ok(t.to_dtype(DType::F64)?.to_vec1::<f64>()?)
}

/// The smallest and largest finite log-likelihood of the training set.
fn finite_range(log_p: &[f64]) -> Result<(f64, f64)> {
    let (lo, hi) = log_p
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo >= hi {
        return Err(Error::invalid(
            "flow",
            "the flow's training-set log-likelihoods have no finite spread; train longer or check the inputs",
        ));
    }
    Ok((lo, hi))
}

/// The flow's anomaly score 1 − s, s = (log p − log p_min) / (log p_max − log p_min) of eq. 7
/// (high for likely events); a non-finite log p (far outside the training data) counts as
/// the least likely possible.
pub fn flow_anomaly(log_p: &[f64], (lo, hi): (f64, f64)) -> Vec<f64> {
    log_p
        .iter()
        .map(|&l| {
            if l.is_nan() {
                f64::INFINITY
            } else {
                1.0 - (l - lo) / (hi - lo)
            }
        })
        .collect()
}

/// Pearson correlation, NaN where undefined (a constant score).
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    pearson(a, b).unwrap_or(f64::NAN)
}

/// The Pearson correlation of every pair of score sets (1 on the diagonal).
fn correlation_matrix(sets: &[&Vec<f64>]) -> Result<Vec<Vec<f64>>> {
    Ok((0..sets.len())
        .map(|i| {
            (0..sets.len())
                .map(|j| {
                    if i == j {
                        1.0
                    } else {
                        correlation(sets[i], sets[j])
                    }
                })
                .collect()
        })
        .collect())
}

/// Column means and standard deviations of a row-major matrix, fitted on the training rows
/// (a constant column is only shifted).
struct Standardiser {
    offset: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardiser {
    fn fit(values: &[f32], width: usize) -> Standardiser {
        let rows = values.len() / width;
        let (offset, scale) = (0..width)
            .map(|c| {
                let column: Vec<f64> = (0..rows)
                    .map(|r| f64::from(values[r * width + c]))
                    .collect();
                fitted_parameters(ScalerKind::Standard, &column)
            })
            .unzip();
        Standardiser { offset, scale }
    }

    fn apply(&self, mut values: Vec<f32>) -> Vec<f32> {
        let width = self.offset.len();
        for (i, v) in values.iter_mut().enumerate() {
            let c = i % width;
            *v = ((f64::from(*v) - self.offset[c]) / self.scale[c]) as f32;
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flow_score_inverts_eq_7_and_orders_unlikely_events_high() {
        let range = (-10.0, 0.0);
        let a = flow_anomaly(
            &[0.0, -10.0, -5.0, -20.0, f64::NEG_INFINITY, f64::NAN],
            range,
        );
        assert_eq!(&a[..4], &[0.0, 1.0, 0.5, 2.0]);
        assert_eq!(&a[4..], &[f64::INFINITY; 2]);
        assert!(finite_range(&[1.0, 1.0]).is_err());
        assert_eq!(
            finite_range(&[f64::NEG_INFINITY, -3.0, 2.0]).unwrap(),
            (-3.0, 2.0)
        );
    }

    #[test]
    fn uniformised_scores_combine_as_table_iv() {
        // Two scores on a training set of 4 events, uniformised there: the training events
        // map onto 1/4, 2/4, 3/4, 1 whatever the raw scale.
        let train_a = [10.0, 20.0, 30.0, 40.0];
        let train_b = [-4.0, -3.0, -2.0, -1.0];
        assert_eq!(
            uniformize(&train_a, &train_a).unwrap(),
            vec![0.25, 0.5, 0.75, 1.0]
        );
        let a = uniformize(&[25.0, 5.0, 45.0], &train_a).unwrap();
        let b = uniformize(&[-1.0, -2.5, -3.5], &train_b).unwrap();
        assert_eq!(a, vec![0.5, 0.0, 1.0]);
        assert_eq!(b, vec![1.0, 0.5, 0.25]);
        let pair = [a.as_slice(), b.as_slice()];
        assert_eq!(
            combine(&pair, Combination::And).unwrap(),
            vec![0.5, 0.0, 0.25]
        );
        assert_eq!(
            combine(&pair, Combination::Or).unwrap(),
            vec![1.0, 0.5, 1.0]
        );
        assert_eq!(
            combine(&pair, Combination::Prod).unwrap(),
            vec![0.5, 0.0, 0.25]
        );
        assert_eq!(
            combine(&pair, Combination::Avg).unwrap(),
            vec![0.75, 0.25, 0.625]
        );
    }

    #[test]
    fn standardiser_uses_the_training_columns_and_member_names_are_stable() {
        let s = Standardiser::fit(&[1.0, 5.0, 3.0, 5.0], 2);
        assert_eq!(
            s.apply(vec![1.0, 5.0, 3.0, 5.0, 5.0, 7.0]),
            vec![-1.0, 0.0, 1.0, 0.0, 3.0, 2.0]
        );
        assert_eq!(member_name(34, 10.0), "svdd_d34_n10");
        assert_eq!(member_name(5, 0.5), "svdd_d5_n0p5");
        let m = correlation_matrix(&[
            &vec![1.0, 2.0, 3.0],
            &vec![3.0, 2.0, 1.0],
            &vec![1.0, 1.0, 1.0],
        ])
        .unwrap();
        assert!((m[0][1] + 1.0).abs() < 1e-12);
        assert!(m[0][2].is_nan() && m[2][2] == 1.0);
    }
}
