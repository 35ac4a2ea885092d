//! [`Ensemble`]: K multilayer perceptrons of one shape trained together. Their weights are
//! stacked ([K, in, out] and [K, out] per layer), so every layer is one batched matmul over
//! [K, batch, in] instead of K small ones, and one optimizer step updates every member. The
//! stack keeps [in, out] (the layout of the batched product, also in its checkpoints); an
//! [`Mlp`] stores [out, in], so weights are transposed on the way in and out of the stack.
//!
//! [`fit_ensemble`] gives each member its own events (e.g. the folds of a cross-validation,
//! [`MemberData::k_folds`]), its own seeded shuffle and its own early stopping: a stopped
//! member is frozen and no longer updated while the others go on. Without dropout each member
//! follows (to float rounding) the trajectory [`fit`](super::train::fit) would give it alone
//! with the same initial weights, data and seed.

use std::time::Instant;

use candle_core::{D, DType, Device, Tensor};
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use super::batching::batched_along;
use super::layers::{add_bias, dropout, on_one_thread};
use super::loss::{bce_with_logits, mse};
use super::mlp::{Mlp, MlpConfig, Output};
use super::model::{Batch, Step, Trainable};
use super::optim::Optimizer;
use super::params::Params;
use super::train::{
    Dataset, Epoch, History, Tracker, TrainOptions, Validation, check_options, monitor_name,
    monitor_value, non_finite, non_finite_loss, tune_allocator, unknown_monitor,
};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::progress::Progress;
use crate::seed::{KFolds, stream_seed};

/// K multilayer perceptrons of one [`MlpConfig`], with stacked weights.
#[derive(Clone, Debug)]
pub struct Ensemble {
    config: MlpConfig,
    members: usize,
    /// Per layer: weights [K, in, out] and biases [K, out].
    layers: Vec<(Tensor, Tensor)>,
    params: Params,
}

impl Ensemble {
    /// `members` freshly initialised networks on `device`; member `m` starts with the weights
    /// `Mlp::new(config, device, Ensemble::member_seed(seed, m))` would have.
    pub fn new(config: MlpConfig, members: usize, device: &Device, seed: u64) -> Result<Self> {
        let seeds: Vec<u64> = (0..members).map(|m| Self::member_seed(seed, m)).collect();
        Self::with_seeds(config, &seeds, device)
    }

    /// One freshly initialised network per seed on `device`: member `m` starts with the
    /// weights `Mlp::new(config, device, seeds[m])` would have. Networks of several ensembles
    /// made with `new` can so be trained together as one, each as it would be in its own.
    pub fn with_seeds(config: MlpConfig, seeds: &[u64], device: &Device) -> Result<Self> {
        let members = seeds.len();
        if members == 0 {
            return Err(Error::invalid(
                "ensemble",
                "an ensemble needs at least one member",
            ));
        }
        // Each member's f32 weights live three times while the stack is built.
        crate::memory::check(
            &format!("ensemble of {members} members"),
            members as f64 * config.parameter_count() * 4.0 * 3.0,
        )?;
        let singles = seeds
            .iter()
            .map(|&seed| Mlp::new(config.clone(), device, seed))
            .collect::<Result<Vec<_>>>()?;
        let snapshots = singles
            .iter()
            .map(|s| s.params().snapshot())
            .collect::<Result<Vec<_>>>()?;
        // An Mlp's weights are [out, in]; the stack holds them as [K, in, out].
        let layers: Vec<(Tensor, Tensor)> = (0..snapshots[0].len() / 2)
            .map(|layer| {
                let weights = snapshots
                    .iter()
                    .map(|s| s[2 * layer].t()?.contiguous())
                    .collect::<candle_core::Result<Vec<_>>>()?;
                let biases: Vec<&Tensor> = snapshots.iter().map(|s| &s[2 * layer + 1]).collect();
                Ok((Tensor::stack(&weights, 0)?, Tensor::stack(&biases, 0)?))
            })
            .collect::<Result<_>>()?;
        Self::from_layers(config, layers, device)
    }

    /// An ensemble holding `layers` (per layer: weights [K, in, out] and biases [K, out]).
    fn from_layers(
        config: MlpConfig,
        layers: Vec<(Tensor, Tensor)>,
        device: &Device,
    ) -> Result<Self> {
        let members = layers[0].0.dims()[0];
        // Nothing is drawn through it: the weights come initialised.
        let mut params = Params::new(device, 0);
        let layers = layers
            .into_iter()
            .enumerate()
            .map(|(layer, (weight, bias))| {
                Ok((
                    params.add(&format!("layer{layer}.weight"), weight)?,
                    params.add(&format!("layer{layer}.bias"), bias)?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            config,
            members,
            layers,
            params,
        })
    }

    /// Members `range` as an ensemble of their own (a copy of their current weights), e.g.
    /// the networks of one of several ensembles trained together.
    pub fn select(&self, range: std::ops::Range<usize>) -> Result<Self> {
        if range.is_empty() || range.end > self.members {
            return Err(Error::invalid(
                "members",
                format!(
                    "members {range:?} are not a part of an ensemble of {}",
                    self.members
                ),
            ));
        }
        let layers = self
            .layers
            .iter()
            .map(|(w, b)| {
                Ok((
                    w.narrow(0, range.start, range.len())?.force_contiguous()?,
                    b.narrow(0, range.start, range.len())?.force_contiguous()?,
                ))
            })
            .collect::<Result<_>>()?;
        Self::from_layers(self.config.clone(), layers, self.params.device())
    }

    /// The seed of member `m`'s initial weights in an ensemble made with `seed`; also the
    /// seed of its shuffles in [`fit_ensemble`] (from the training seed).
    pub fn member_seed(seed: u64, m: usize) -> u64 {
        stream_seed(seed, m as u64)
    }

    /// The members' shape.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The number of members.
    pub fn members(&self) -> usize {
        self.members
    }

    /// The stacked parameters (named as an [`Mlp`]'s, with a leading member dimension).
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Member `m` as a stand-alone [`Mlp`] (a copy of its current weights).
    pub fn member(&self, m: usize) -> Result<Mlp> {
        if m >= self.members {
            return Err(Error::invalid(
                "member",
                format!("{m} is not a member of an ensemble of {}", self.members),
            ));
        }
        let mlp = Mlp::new(self.config.clone(), self.params.device(), 0)?;
        let map = self
            .params
            .to_map()
            .into_iter()
            .map(|(name, t)| {
                let value = t.get(m)?;
                // The stack's [in, out] weights as the Mlp's [out, in].
                if name.ends_with(".weight") {
                    Ok((name, value.t()?.contiguous()?))
                } else {
                    Ok((name, value))
                }
            })
            .collect::<Result<_>>()?;
        mlp.params().load_map(&map)?;
        Ok(mlp)
    }

    /// The raw outputs [K, batch, outputs] (logits for a sigmoid output) for per-member
    /// inputs [K, batch, inputs].
    pub fn forward(&self, x: &Tensor, step: &mut Step) -> Result<Tensor> {
        if x.rank() != 3 || x.dims()[0] != self.members || x.dims()[2] != self.config.inputs {
            return Err(Error::invalid(
                "inputs",
                format!(
                    "the ensemble takes [{}, events, {}], got {:?}",
                    self.members,
                    self.config.inputs,
                    x.dims()
                ),
            ));
        }
        let last = self.layers.len() - 1;
        let mut h = x.clone();
        for (i, (weight, bias)) in self.layers.iter().enumerate() {
            h = add_bias(&h.matmul(weight)?, bias)?;
            if i < last {
                h = dropout(
                    &self.config.activation.apply(&h)?,
                    self.config.dropout,
                    step,
                )?;
            }
        }
        Ok(h)
    }

    /// Every member's predictions for shared inputs [events, inputs] (probabilities for a
    /// sigmoid output): [K, events] for one output, else [K, events, outputs].
    pub fn predict_members(&self, x: &Tensor, step: &mut Step) -> Result<Tensor> {
        self.config.check_inputs(x)?;
        let out = self
            .config
            .output
            .apply(self.forward(&self.for_every_member(x)?, step)?)?;
        if self.config.outputs == 1 {
            Ok(out.squeeze(D::Minus1)?)
        } else {
            Ok(out)
        }
    }

    /// `t` repeated for every member: [K, ...] from a tensor shared by all of them.
    fn for_every_member(&self, t: &Tensor) -> Result<Tensor> {
        let mut shape = vec![self.members];
        shape.extend_from_slice(t.dims());
        Ok(t.unsqueeze(0)?.broadcast_as(shape)?.contiguous()?)
    }

    /// Every member's prediction (probability for a sigmoid output) for the rows of `x`
    /// [events, inputs] of a one-output network, as [members][events], computed in batches
    /// without dropout. No events give empty rows.
    pub fn member_predictions(&self, x: &Tensor) -> Result<Vec<Vec<f32>>> {
        if x.dims().first() == Some(&0) {
            return Ok(vec![Vec::new(); self.members]);
        }
        let p = batched_along(1, x, None, |chunk, _| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
            let mut step = Step {
                training: false,
                rng: &mut rng,
            };
            self.predict_members(chunk, &mut step)
        })?;
        Ok(p.to_dtype(DType::F32)?.to_vec2::<f32>()?)
    }

    /// The members' mean prediction for each row of `x` [events, inputs] of a one-output
    /// network, from [`Ensemble::member_predictions`] (in batches, without dropout).
    pub fn mean_predictions(&self, x: &Tensor) -> Result<Vec<f64>> {
        let p = self.member_predictions(x)?;
        let events = p.first().map_or(0, Vec::len);
        Ok((0..events)
            .map(|j| p.iter().map(|m| f64::from(m[j])).sum::<f64>() / p.len() as f64)
            .collect())
    }

    /// The members' average prediction: [events] for one output, else [events, outputs].
    pub fn predict(&self, x: &Tensor, step: &mut Step) -> Result<Tensor> {
        Ok(self.predict_members(x, step)?.mean(0)?)
    }

    /// The per-event loss of every member on per-member inputs [K, batch, inputs] and targets
    /// [K, batch] or [K, batch, outputs]: shape [K, batch, r], r = 1 except for a sigmoid
    /// output with several outputs (one term per output, as [`Mlp`] computes it).
    fn member_losses(&self, x: &Tensor, y: &Tensor, step: &mut Step) -> Result<Tensor> {
        let out = self.forward(x, step)?;
        let (k, b) = (self.members, x.dims()[1]);
        let losses = match self.config.output {
            Output::Sigmoid => bce_with_logits(&out, y)?,
            Output::Linear => mse(
                &out.reshape((k * b, self.config.outputs))?,
                &y.reshape((k * b, ()))?,
            )?,
        };
        Ok(losses.reshape((k, b, ()))?)
    }
}

/// Trained with [`fit`](super::train::fit), an ensemble trains every member on the same
/// batches (one shuffle) and stops on the members' summed loss: the per-event loss is the sum
/// of the members' losses, so each member gets exactly the gradient it would get alone. Use
/// [`fit_ensemble`] for per-member data and per-member early stopping.
impl Trainable for Ensemble {
    fn params(&self) -> &Params {
        &self.params
    }

    fn loss(&self, batch: &Batch, step: &mut Step) -> Result<Tensor> {
        let y = batch.targets()?;
        let n = batch.x.dims2()?.0;
        let x = self.for_every_member(&batch.x)?;
        let y = self.for_every_member(y)?;
        let losses = self.member_losses(&x, &y, step)?;
        // [K, n, r] -> per event (and per output term) summed over members.
        let r = losses.dims()[2];
        Ok(losses.sum(0)?.reshape(n * r)?)
    }

    fn needs_targets(&self) -> bool {
        true
    }

    fn target_range(&self) -> Option<(f64, f64)> {
        self.config.output.target_range()
    }
}

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
    super::params::check_trainable(ensemble.params())?;
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
    let c = ensemble.config();
    let widest = c
        .hidden
        .iter()
        .copied()
        .chain([c.inputs, c.outputs])
        .max()
        .unwrap_or(1);
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

#[cfg(test)]
mod tests;
