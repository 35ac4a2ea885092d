//! [`fit_ensemble`]: the members of an [`Ensemble`] trained together, each on its own events
//! with its own shuffles and early stopping.

use std::time::Instant;

use candle_core::{DType, Tensor};
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::layers::on_one_thread;
use crate::nn::model::{Step, Trainable};
use crate::nn::optim::Optimizer;
use crate::nn::train::{
    Dataset, Epoch, History, Tracker, TrainOptions, Validation, check_options, monitor_name,
    monitor_value, non_finite, non_finite_loss, tune_allocator, unknown_monitor,
};
use crate::progress::Progress;
use crate::seed::{KFolds, stream_seed};

use super::Ensemble;

/// The events of one member, as row indices into the training [`Dataset`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberData {
    /// The events it trains on.
    pub train: Vec<u32>,
    /// The events it is validated on (early stopping, best weights); `None`: the training
    /// options' `validation` decides (none, or a hold-out fraction of `train`).
    pub validation: Option<Vec<u32>>,
    /// The seed of its shuffles; `None`: `Ensemble::member_seed(opts.seed, m)` for member `m`
    /// (a member trained in a larger ensemble keeps its own batches by naming its seed).
    pub shuffle_seed: Option<u64>,
}

impl MemberData {
    /// Every member trains on all `events` (with the options' validation).
    pub fn all(events: usize, members: usize) -> Vec<Self> {
        let all: Vec<u32> = (0..events as u32).collect();
        vec![
            Self {
                train: all,
                validation: None,
                shuffle_seed: None,
            };
            members
        ]
    }

    /// `k`-fold cross-validation of `events`: shuffled with `seed` and dealt into `k` parts of
    /// (nearly) equal size, as `EventSet::kfold` does; member i validates on part i and trains
    /// on the others.
    pub fn k_folds(events: usize, k: usize, seed: u64) -> Result<Vec<Self>> {
        let folds = KFolds::new(events, k, seed, "folds")?;
        Ok((0..k)
            .map(|i| Self {
                train: folds.others(i),
                validation: Some(folds.fold(i).to_vec()),
                shuffle_seed: None,
            })
            .collect())
    }

    /// The fold of each of `events` under [`MemberData::k_folds`] with the same `k` and
    /// `seed`: the member that validates on it.
    pub fn fold_of_each(events: usize, k: usize, seed: u64) -> Result<Vec<usize>> {
        let mut fold = vec![0; events];
        for (i, part) in Self::k_folds(events, k, seed)?.iter().enumerate() {
            for &e in part.validation.iter().flatten() {
                fold[e as usize] = i;
            }
        }
        Ok(fold)
    }
}

/// One member's state during [`fit_ensemble`].
struct Member {
    train: Vec<u32>,
    validation: Option<Vec<u32>>,
    rng: Xoshiro256PlusPlus,
    history: History,
    tracker: Tracker,
    /// Still training (not stopped early).
    active: bool,
    /// Sums over the epoch's batches: Σ w·loss and Σ w.
    sums: (f64, f64),
}

/// Trains the members of `ensemble` together, member `m` on the events `members[m]` of
/// `data`, and returns each member's history.
///
/// Every member shuffles its own events each epoch with its own generator (seeded with its
/// `MemberData::shuffle_seed`, by default `Ensemble::member_seed(opts.seed, m)`), so member `m` sees the batches `fit` would show it
/// with that seed on its own events; a hold-out `Validation::Fraction` is drawn the same way.
/// Each step stacks one batch per member (shorter ones padded with zero-weight events), sums
/// the members' weighted mean losses and makes one optimizer step for all members, with
/// per-member Adam step counts, learning rates (reduce-on-plateau) and early stopping. A
/// member that stops is frozen (at its best weights with `restore_best`) and no longer
/// updated. Ctrl-C stops between batches, restores every member's best weights so far and
/// returns `Error::Interrupted`.
///
/// Without dropout, a member's weights equal (to float rounding: sums are taken in another
/// order) those of `fit` on its own events with the same initial weights and seed. Dropout
/// masks come from one shared generator, so with dropout members only train alike.
/// `opts.validation` may be `None` or `Fraction`; separate validation events are given as
/// `MemberData::validation` indices into `data`. The monitor is "loss" or "val_loss".
pub fn fit_ensemble(
    ensemble: &Ensemble,
    data: &Dataset,
    members: &[MemberData],
    opts: &TrainOptions,
    interrupt: Option<&Interrupt>,
) -> Result<Vec<History>> {
    tune_allocator();
    data.check_for(ensemble.target_range())?;
    crate::nn::params::check_trainable(ensemble.params())?;
    check_options(opts)?;
    let k = ensemble.members();
    if members.len() != k {
        return Err(Error::invalid(
            "members",
            format!("{} member data sets for an ensemble of {k}", members.len()),
        ));
    }
    let y = data.y.as_ref().ok_or_else(|| {
        Error::invalid(
            "targets",
            "this model trains on targets (labels); none were given",
        )
    })?;
    let n = data.len() as u32;
    for (m, md) in members.iter().enumerate() {
        let indices = md.train.iter().chain(md.validation.iter().flatten());
        if let Some(bad) = indices.copied().find(|&i| i >= n) {
            return Err(Error::invalid(
                "members",
                format!("member {m} names event {bad}, but there are {n} events"),
            ));
        }
        if md.train.is_empty() {
            return Err(Error::invalid(
                "members",
                format!("member {m} has no events to train on"),
            ));
        }
    }
    if !matches!(opts.monitor.as_str(), "loss" | "val_loss") {
        return Err(unknown_monitor(opts));
    }
    let weights: Option<Vec<f32>> = data
        .weights
        .as_ref()
        .map(|w| w.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>())
        .transpose()?;
    let mut state = members
        .iter()
        .enumerate()
        .map(|(m, md)| member_state(m, md, opts))
        .collect::<Result<Vec<_>>>()?;

    let mut optimizer =
        Optimizer::for_members(opts.optimizer, opts.lr, ensemble.params().vars(), k)?;
    let total_batches: usize = state
        .iter()
        .map(|s| s.train.len().div_ceil(opts.batch_size))
        .sum();
    let progress = if opts.quiet {
        Progress::hidden()
    } else {
        Progress::new(
            "training ensemble (member batches)",
            (opts.epochs * total_batches) as u64,
        )
    };
    let mut best = ensemble.params().snapshot()?;
    let mut dropout_rng = Xoshiro256PlusPlus::seed_from_u64(stream_seed(opts.seed, k as u64));
    let mut orders: Vec<Vec<u32>> = state
        .iter()
        .map(|s| (0..s.train.len() as u32).collect())
        .collect();
    for epoch in 0..opts.epochs {
        let started = Instant::now();
        for (s, order) in state.iter_mut().zip(&mut orders) {
            s.sums = (0.0, 0.0);
            if s.active {
                order.shuffle(&mut s.rng);
            }
        }
        let steps = state
            .iter()
            .filter(|s| s.active)
            .map(|s| s.train.len().div_ceil(opts.batch_size))
            .max()
            .unwrap_or(0);
        for b in 0..steps {
            if interrupt.is_some_and(Interrupt::is_triggered) {
                ensemble.params().restore(&best)?;
                return Err(Error::Interrupted);
            }
            let chunks: Vec<Vec<u32>> = state
                .iter()
                .zip(&orders)
                .map(|(s, order)| {
                    let start = b * opts.batch_size;
                    if !s.active || start >= order.len() {
                        return Vec::new();
                    }
                    let end = (start + opts.batch_size).min(order.len());
                    order[start..end]
                        .iter()
                        .map(|&i| s.train[i as usize])
                        .collect()
                })
                .collect();
            let stacked = stack_batches(data, y, weights.as_deref(), &chunks)?;
            // Forward and backward of all members in one go, on one thread when the products
            // are small (see `layers::on_one_thread`).
            let (means, grads) =
                on_one_thread(data.x.device(), product_work(ensemble, &stacked.x), || {
                    let mut step = Step {
                        training: true,
                        rng: &mut dropout_rng,
                    };
                    let losses = ensemble.member_losses(&stacked.x, &stacked.y, &mut step)?;
                    let means = member_means(&losses, &stacked.w)?;
                    let grads = means.sum_all()?.backward()?;
                    Ok::<_, Error>((means, grads))
                })?;
            let values: Vec<f32> = means.to_vec1()?;
            let active: Vec<bool> = chunks.iter().map(|c| !c.is_empty()).collect();
            for (m, s) in state.iter_mut().enumerate() {
                if active[m] {
                    let value = f64::from(values[m]);
                    if !value.is_finite() {
                        ensemble.params().restore(&best)?;
                        return Err(non_finite_loss(value, epoch));
                    }
                    s.sums.0 += value * stacked.weight_sums[m];
                    s.sums.1 += stacked.weight_sums[m];
                }
            }
            optimizer.step_members(&grads, Some(&active))?;
            progress.advance(active.iter().filter(|&&a| a).count() as u64);
        }
        let val_losses = evaluate_members(
            ensemble,
            data,
            y,
            weights.as_deref(),
            &state,
            opts,
            &mut dropout_rng,
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let mut improved = vec![false; k];
        let mut stopped = vec![false; k];
        for (m, s) in state.iter_mut().enumerate() {
            if !s.active {
                continue;
            }
            let record = Epoch {
                loss: s.sums.0 / s.sums.1.max(f64::MIN_POSITIVE),
                val_loss: val_losses[m],
                metrics: Vec::new(),
                lr: optimizer.member_lr(m),
                seconds,
            };
            let value =
                monitor_value(&record, &s.history.monitor).ok_or_else(|| unknown_monitor(opts))?;
            if !value.is_finite() {
                ensemble.params().restore(&best)?;
                return Err(non_finite(
                    &format!("{} of member {m}", s.history.monitor),
                    value,
                    epoch,
                ));
            }
            s.history.epochs.push(record);
            let verdict = s.tracker.update(value, epoch, opts);
            if verdict.improved {
                s.history.best_epoch = epoch;
                improved[m] = true;
            }
            if let (true, Some((factor, _))) = (verdict.reduce_lr, opts.reduce_lr) {
                optimizer.set_member_lr(m, optimizer.member_lr(m) * factor);
            }
            if verdict.stop {
                s.history.stopped_early = true;
                s.active = false;
                stopped[m] = true;
            }
        }
        if improved.iter().any(|&i| i) {
            let current = ensemble.params().snapshot()?;
            best = select_members(&improved, &current, &best)?;
        }
        if opts.restore_best && stopped.iter().any(|&s| s) {
            let current = ensemble.params().snapshot()?;
            ensemble
                .params()
                .restore(&select_members(&stopped, &best, &current)?)?;
        }
        if state.iter().all(|s| !s.active) {
            break;
        }
    }
    if opts.restore_best {
        ensemble.params().restore(&best)?;
    }
    Ok(state.into_iter().map(|s| s.history).collect())
}

/// The multiply-adds of the ensemble's largest per-member matrix product on inputs `x`
/// (decides whether a training step runs on one thread).
fn product_work(ensemble: &Ensemble, x: &Tensor) -> usize {
    let widest = ensemble.config().widest();
    x.dims()[1] * widest * widest
}

/// The training state of member `m`: its generator, and its events split into training and
/// validation as `fit` would split them.
fn member_state(m: usize, md: &MemberData, opts: &TrainOptions) -> Result<Member> {
    let seed = md
        .shuffle_seed
        .unwrap_or_else(|| Ensemble::member_seed(opts.seed, m));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (train, validation) = match (&md.validation, &opts.validation) {
        (Some(v), _) => (md.train.clone(), Some(v.clone())),
        (None, Validation::None) => (md.train.clone(), None),
        (None, Validation::Fraction(f)) => {
            let n = md.train.len();
            let n_val = ((n as f64) * f).round() as usize;
            if !(*f > 0.0 && *f < 1.0) || n_val == 0 || n_val == n {
                return Err(Error::invalid(
                    "validation",
                    format!(
                        "a hold-out fraction {f} of member {m}'s {n} events leaves one side empty"
                    ),
                ));
            }
            let mut order: Vec<u32> = (0..n as u32).collect();
            order.shuffle(&mut rng);
            let pick = |o: &[u32]| o.iter().map(|&i| md.train[i as usize]).collect::<Vec<_>>();
            (pick(&order[n_val..]), Some(pick(&order[..n_val])))
        }
        (None, Validation::Data(_)) => {
            return Err(Error::invalid(
                "validation",
                "an ensemble takes its validation events as member indices into the training data (MemberData::validation)",
            ));
        }
    };
    if validation.as_ref().is_some_and(Vec::is_empty) {
        return Err(Error::invalid(
            "members",
            format!("member {m}'s validation set is empty"),
        ));
    }
    let monitor = monitor_name(opts, validation.is_some());
    Ok(Member {
        train,
        validation,
        rng,
        history: History {
            epochs: Vec::new(),
            monitor,
            best_epoch: 0,
            stopped_early: false,
        },
        tracker: Tracker::new(),
        active: true,
        sums: (0.0, 0.0),
    })
}

/// One batch per member, stacked: inputs [K, L, F], targets [K, L, ...] and weights [K, L]
/// (zero for the padding of members with fewer than L events, or none), with each member's
/// sum of weights.
struct Stacked {
    x: Tensor,
    y: Tensor,
    w: Tensor,
    weight_sums: Vec<f64>,
}

fn stack_batches(
    data: &Dataset,
    y: &Tensor,
    weights: Option<&[f32]>,
    chunks: &[Vec<u32>],
) -> Result<Stacked> {
    let k = chunks.len();
    let len = chunks.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut index = Vec::with_capacity(k * len);
    let mut w = Vec::with_capacity(k * len);
    let mut weight_sums = Vec::with_capacity(k);
    for chunk in chunks {
        let mut sum = 0.0;
        for j in 0..len {
            match chunk.get(j) {
                Some(&i) => {
                    let wi = weights.map_or(1.0, |ws| ws[i as usize]);
                    index.push(i);
                    w.push(wi);
                    sum += f64::from(wi);
                }
                None => {
                    index.push(0);
                    w.push(0.0);
                }
            }
        }
        weight_sums.push(sum);
    }
    let device = data.x.device();
    let index = Tensor::from_vec(index, k * len, device)?;
    let x = data.x.index_select(&index, 0)?;
    let x = x.reshape((k, len, x.dims()[1]))?;
    let y = y.index_select(&index, 0)?;
    let mut y_shape = vec![k, len];
    y_shape.extend_from_slice(&y.dims()[1..]);
    Ok(Stacked {
        x,
        y: y.reshape(y_shape)?,
        w: Tensor::from_vec(w, (k, len), device)?,
        weight_sums,
    })
}

/// Each member's weighted mean of per-event losses [K, L, r] with weights [K, L]: [K]
/// (zero for a member without events in the batch).
fn member_means(losses: &Tensor, w: &Tensor) -> Result<Tensor> {
    let r = losses.dims()[2] as f64;
    let total = losses.broadcast_mul(&w.unsqueeze(2)?)?.sum((1, 2))?;
    let norm = w
        .sum(1)?
        .affine(r, 0.0)?
        .clamp(f32::MIN_POSITIVE, f32::INFINITY)?;
    Ok(total.div(&norm)?)
}

/// Every member's mean loss on its validation events (None for members without), in batches.
fn evaluate_members(
    ensemble: &Ensemble,
    data: &Dataset,
    y: &Tensor,
    weights: Option<&[f32]>,
    state: &[Member],
    opts: &TrainOptions,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<Vec<Option<f64>>> {
    let k = state.len();
    let longest = state
        .iter()
        .filter(|s| s.active)
        .filter_map(|s| s.validation.as_ref().map(Vec::len))
        .max()
        .unwrap_or(0);
    let mut sums = vec![(0.0, 0.0); k];
    for start in (0..longest).step_by(opts.batch_size) {
        let chunks: Vec<Vec<u32>> = state
            .iter()
            .map(|s| match (&s.validation, s.active) {
                (Some(v), true) if start < v.len() => {
                    v[start..(start + opts.batch_size).min(v.len())].to_vec()
                }
                _ => Vec::new(),
            })
            .collect();
        let stacked = stack_batches(data, y, weights, &chunks)?;
        let mut step = Step {
            training: false,
            rng,
        };
        let losses = ensemble.member_losses(&stacked.x, &stacked.y, &mut step)?;
        let means: Vec<f32> = member_means(&losses, &stacked.w)?.to_vec1()?;
        for (m, sum) in sums.iter_mut().enumerate() {
            sum.0 += f64::from(means[m]) * stacked.weight_sums[m];
            sum.1 += stacked.weight_sums[m];
        }
    }
    Ok(state
        .iter()
        .zip(sums)
        .map(|(s, (total, norm))| {
            s.validation
                .as_ref()
                .map(|_| total / if norm > 0.0 { norm } else { 1.0 })
        })
        .collect())
}

/// Per parameter: the member slices of `a` where `pick` is set, of `b` elsewhere.
fn select_members(pick: &[bool], a: &[Tensor], b: &[Tensor]) -> Result<Vec<Tensor>> {
    a.iter()
        .zip(b)
        .map(|(a, b)| {
            let mut shape = vec![1; a.rank()];
            shape[0] = pick.len();
            let mask: Vec<u8> = pick.iter().map(|&p| u8::from(p)).collect();
            let mask = Tensor::from_vec(mask, shape, a.device())?.broadcast_as(a.shape())?;
            Ok(mask.where_cond(a, b)?)
        })
        .collect()
}
