//! The training loop: seeded mini-batches, weighted losses, validation, early stopping on a
//! monitored quantity, reduce-on-plateau, best-weights restore, Ctrl-C and a progress bar.

use std::fmt;
use std::time::Instant;

use candle_core::{DType, Tensor};
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use super::layers::on_one_thread;
use super::loss::weighted_mean;
use super::model::{Batch, Step, Trainable};
use super::optim::{Kind, Optimizer};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::progress::Progress;

/// Training data: inputs and, as the model needs them, targets, per-event weights and a
/// context, all with the same number of rows, on the model's device.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Inputs [events, features].
    pub x: Tensor,
    /// Targets [events] or [events, k].
    pub y: Option<Tensor>,
    /// Per-event weights [events].
    pub weights: Option<Tensor>,
    /// Conditioning inputs [events, c].
    pub context: Option<Tensor>,
}

impl Dataset {
    /// Inputs alone: no targets, weights or context (what unsupervised models train on).
    pub fn unlabelled(x: Tensor) -> Self {
        Self {
            x,
            y: None,
            weights: None,
            context: None,
        }
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.x.dims().first().copied().unwrap_or(0)
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that every tensor has one row per event, that every value is a finite number,
    /// that weights are non-negative and that targets lie in `target_range` (if any).
    pub(crate) fn check_for(&self, target_range: Option<(f64, f64)>) -> Result<()> {
        self.check()?;
        require_finite("input", &self.x)?;
        for (what, t) in [
            ("target", &self.y),
            ("weight", &self.weights),
            ("context input", &self.context),
        ] {
            if let Some(t) = t {
                require_finite(what, t)?;
            }
        }
        if let (Some(y), Some((lo, hi))) = (&self.y, target_range) {
            let values = y.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
            if let Some((row, v)) = values
                .iter()
                .enumerate()
                .find(|(_, v)| !(lo..=hi).contains(*v))
            {
                return Err(Error::invalid(
                    "targets",
                    format!(
                        "row {row} holds {v}, outside [{lo}, {hi}]: a probability output trains \
                         on labels between {lo} and {hi} (use output: \"linear\" to regress)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks that every tensor has one row per event and that weights are non-negative.
    pub(crate) fn check(&self) -> Result<()> {
        let n = self.len();
        for (name, t) in [
            ("targets", &self.y),
            ("weights", &self.weights),
            ("context", &self.context),
        ] {
            if let Some(t) = t
                && t.dims().first() != Some(&n)
            {
                return Err(Error::invalid(
                    name,
                    format!("{} rows for {n} events", t.dims().first().unwrap_or(&0)),
                ));
            }
        }
        if let Some(w) = &self.weights {
            let min = w.min_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            if min.is_nan() || min < 0.0 {
                return Err(Error::invalid(
                    "weights",
                    "event weights must be non-negative numbers",
                ));
            }
        }
        Ok(())
    }

    /// The events at `index`.
    fn select(&self, index: &Tensor) -> Result<(Batch, Option<Tensor>)> {
        let pick = |t: &Option<Tensor>| t.as_ref().map(|t| t.index_select(index, 0)).transpose();
        Ok((
            Batch {
                x: self.x.index_select(index, 0)?,
                y: pick(&self.y)?,
                context: pick(&self.context)?,
            },
            pick(&self.weights)?,
        ))
    }
}

/// Fails naming the first row (and column) of `t` ([rows] or [rows, columns]) that holds NaN
/// or an infinity: `what` says what the values are ("input", "target").
pub(crate) fn require_finite(what: &str, t: &Tensor) -> Result<()> {
    let columns = t.dims().get(1).copied().unwrap_or(1).max(1);
    let values = t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => {
            let (row, column) = (i / columns, i % columns);
            let place = if t.dims().len() > 1 {
                format!("row {row}, column {column}")
            } else {
                format!("row {row}")
            };
            Err(Error::invalid(
                format!("{what}s"),
                format!(
                    "{place} is {}: networks need finite numbers (remove or fix such events first)",
                    values[i]
                ),
            ))
        }
    }
}

/// Where the validation events come from.
#[derive(Clone, Debug)]
pub enum Validation {
    /// No validation: monitors use the training loss.
    None,
    /// A random fraction of the training data, held out (seeded).
    Fraction(f64),
    /// A separate data set.
    Data(Dataset),
}

/// Whether the monitored quantity should go down or up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Goal {
    /// Smaller is better (losses).
    Minimise,
    /// Larger is better (e.g. a VAE's KL at its peak).
    Maximise,
}

/// Options of [`fit`].
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Passes over the training data (50).
    pub epochs: usize,
    /// Events per mini-batch (512).
    pub batch_size: usize,
    /// Learning rate (1e-3).
    pub lr: f64,
    /// The update rule (Adam).
    pub optimizer: Kind,
    /// Validation events (a 20 % hold-out).
    pub validation: Validation,
    /// Stop after this many epochs without improvement of the monitor (`None`: never).
    pub patience: Option<usize>,
    /// Stop at a turning point of the monitor: once it has improved `rise` epochs in a row and
    /// then worsened `fall` epochs in a row, e.g. (5, 5) on "val_kl" with
    /// [`Goal::Maximise`] for the KL-peak rule of Bortolato et al. 2021 (`None`: never). With
    /// `restore_best` the model keeps the best epoch, which is the peak.
    pub stop_at_peak: Option<(usize, usize)>,
    /// The quantity early stopping, best-weights restore and the schedule watch:
    /// "val_loss" (or "loss" without validation), or "val_<metric>" / "<metric>" of the model.
    pub monitor: String,
    /// Whether the monitor should fall or rise.
    pub goal: Goal,
    /// Reduce-on-plateau: multiply the learning rate by `factor` after `patience` epochs
    /// without improvement (`None`: constant learning rate).
    pub reduce_lr: Option<(f64, usize)>,
    /// Restore the weights of the best epoch at the end (true).
    pub restore_best: bool,
    /// Seed of the shuffles, the hold-out split and dropout.
    pub seed: u64,
    /// No progress bar of its own (false): for workflows that train many models and show
    /// one bar over all of them.
    pub quiet: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 50,
            batch_size: 512,
            lr: 1e-3,
            optimizer: Kind::Adam,
            validation: Validation::Fraction(0.2),
            patience: None,
            stop_at_peak: None,
            monitor: "val_loss".into(),
            goal: Goal::Minimise,
            reduce_lr: None,
            restore_best: true,
            seed: crate::seed::DEFAULT_SEED,
            quiet: false,
        }
    }
}

/// One epoch's record.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Epoch {
    /// The mean training loss.
    pub loss: f64,
    /// The mean validation loss, if there is validation data.
    pub val_loss: Option<f64>,
    /// The model's metrics on the validation data ("val_" names), or on the training data
    /// when there is no validation and the monitor is one of them.
    pub metrics: Vec<(String, f64)>,
    /// The learning rate used.
    pub lr: f64,
    /// Seconds the epoch took (shown, not saved: result files are reproducible).
    #[serde(skip)]
    pub seconds: f64,
}

/// What happened during training.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct History {
    /// One record per completed epoch.
    pub epochs: Vec<Epoch>,
    /// The monitored quantity.
    pub monitor: String,
    /// The epoch (0-based) with the best monitor; its weights were restored if asked.
    pub best_epoch: usize,
    /// Whether early stopping ended training before the last epoch.
    pub stopped_early: bool,
}

impl History {
    /// The monitored value of every epoch.
    pub fn monitored(&self) -> Vec<f64> {
        self.epochs
            .iter()
            .map(|e| monitor_value(e, &self.monitor).unwrap_or(f64::NAN))
            .collect()
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Training: {} epochs{}, best epoch {} by {}",
            self.epochs.len(),
            if self.stopped_early {
                " (stopped early)"
            } else {
                ""
            },
            self.best_epoch + 1,
            self.monitor
        )?;
        writeln!(f, "  epoch        loss    val_loss          lr   seconds")?;
        for (i, e) in self.epochs.iter().enumerate() {
            let val = e.val_loss.map_or("-".to_string(), |v| format!("{v:.5}"));
            let mark = if i == self.best_epoch { " *" } else { "" };
            writeln!(
                f,
                "  {:>5} {:>11.5} {:>11} {:>11.2e} {:>9.2}{mark}",
                i + 1,
                e.loss,
                val,
                e.lr,
                e.seconds
            )?;
        }
        Ok(())
    }
}

/// The value of `monitor` ("loss", "val_loss" or a metric's name) recorded in `epoch`.
pub(crate) fn monitor_value(epoch: &Epoch, monitor: &str) -> Option<f64> {
    match monitor {
        "loss" => Some(epoch.loss),
        "val_loss" => epoch.val_loss,
        name => epoch
            .metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v),
    }
}

/// The monitor's name as recorded: a "val_" monitor means the training value when there is no
/// validation data.
pub(crate) fn monitor_name(opts: &TrainOptions, has_validation: bool) -> String {
    match opts.monitor.strip_prefix("val_") {
        Some(m) if !has_validation => m.to_string(),
        _ => opts.monitor.clone(),
    }
}

/// The error for a monitor that is not among an epoch's records.
pub(crate) fn unknown_monitor(opts: &TrainOptions) -> Error {
    Error::invalid(
        "monitor",
        format!(
            "'{}' is not recorded; use \"val_loss\", \"loss\" or one of the model's metrics",
            opts.monitor
        ),
    )
}

/// The error for a loss that is NaN or infinite.
pub(crate) fn non_finite_loss(value: f64, epoch: usize) -> Error {
    non_finite("loss", value, epoch)
}

/// The error for a monitored quantity `what` (a loss, a validation loss) that became `value`
/// (NaN or infinite) in `epoch`; the network then holds its best weights so far, or those it
/// had before training.
pub(crate) fn non_finite(what: &str, value: f64, epoch: usize) -> Error {
    Error::invalid(
        "training",
        format!(
            "the {what} became {value} in epoch {}; the network keeps its best weights so far \
             (or its weights before training); lower the learning rate or check the inputs \
             for extreme values",
            epoch + 1
        ),
    )
}

/// Checks the options every training loop shares.
pub(crate) fn check_options(opts: &TrainOptions) -> Result<()> {
    if opts.epochs == 0 || opts.batch_size == 0 {
        return Err(Error::invalid(
            "training",
            "epochs and batch_size must be at least 1",
        ));
    }
    Ok(())
}

/// What [`Tracker::update`] decided after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The monitor reached a new best: keep these weights.
    pub improved: bool,
    /// Reduce-on-plateau fires: multiply the learning rate by its factor.
    pub reduce_lr: bool,
    /// Early stopping fires: end this model's training.
    pub stop: bool,
}

/// One model's early-stopping and reduce-on-plateau bookkeeping.
pub(crate) struct Tracker {
    best: Option<f64>,
    since_best: usize,
    since_lr_change: usize,
    values: Vec<f64>,
}

impl Tracker {
    pub(crate) fn new() -> Self {
        Self {
            best: None,
            since_best: 0,
            since_lr_change: 0,
            values: Vec::new(),
        }
    }

    /// Whether the recorded values end in `rise` strict improvements followed by `fall`
    /// strict worsenings (the turning-point rule of [`TrainOptions::stop_at_peak`]).
    fn past_a_peak(&self, rise: usize, fall: usize, goal: Goal) -> bool {
        let steps = rise + fall;
        if self.values.len() < steps + 1 {
            return false;
        }
        let tail = &self.values[self.values.len() - steps - 1..];
        let improves = |w: &[f64]| match goal {
            Goal::Minimise => w[1] < w[0],
            Goal::Maximise => w[1] > w[0],
        };
        let worsens = |w: &[f64]| match goal {
            Goal::Minimise => w[1] > w[0],
            Goal::Maximise => w[1] < w[0],
        };
        tail[..=rise].windows(2).all(improves) && tail[rise..].windows(2).all(worsens)
    }

    /// Records the monitored `value` of (0-based) `epoch`.
    pub(crate) fn update(&mut self, value: f64, epoch: usize, opts: &TrainOptions) -> Verdict {
        let better = |a: f64, b: f64| match opts.goal {
            Goal::Minimise => a < b,
            Goal::Maximise => a > b,
        };
        let improved = self.best.is_none_or(|b| better(value, b));
        if improved {
            self.best = Some(value);
            self.since_best = 0;
            self.since_lr_change = 0;
        } else {
            self.since_best += 1;
            self.since_lr_change += 1;
        }
        let reduce_lr = opts
            .reduce_lr
            .is_some_and(|(_, patience)| self.since_lr_change >= patience);
        if reduce_lr {
            self.since_lr_change = 0;
        }
        self.values.push(value);
        let at_peak = opts
            .stop_at_peak
            .is_some_and(|(rise, fall)| self.past_a_peak(rise, fall, opts.goal));
        let stop = (opts.patience.is_some_and(|p| self.since_best >= p) || at_peak)
            && epoch + 1 < opts.epochs;
        Verdict {
            improved,
            reduce_lr,
            stop,
        }
    }
}

/// Mean loss and metrics of `model` over `data` in batches, without training.
fn evaluate(
    model: &dyn Trainable,
    data: &Dataset,
    batch_size: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<(f64, Vec<(String, f64)>)> {
    let n = data.len();
    let (mut loss_sum, mut weight_sum) = (0.0, 0.0);
    let mut metric_sums: Vec<(String, f64)> = Vec::new();
    for start in (0..n).step_by(batch_size) {
        let len = batch_size.min(n - start);
        let index = Tensor::arange(start as u32, (start + len) as u32, data.x.device())?;
        let (batch, weights) = data.select(&index)?;
        let mut step = Step {
            training: false,
            rng,
        };
        let w_total = match &weights {
            Some(w) => w.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?,
            None => len as f64,
        };
        let loss = weighted_mean(&model.loss(&batch, &mut step)?, weights.as_ref())?;
        loss_sum += scalar(&loss)? * w_total;
        for (name, values) in model.metrics(&batch, &mut step)? {
            let v = scalar(&weighted_mean(&values, weights.as_ref())?)? * w_total;
            match metric_sums.iter_mut().find(|(n, _)| n == name) {
                Some((_, s)) => *s += v,
                None => metric_sums.push((name.to_string(), v)),
            }
        }
        weight_sum += w_total;
    }
    let norm = if weight_sum > 0.0 { weight_sum } else { 1.0 };
    Ok((
        loss_sum / norm,
        metric_sums
            .into_iter()
            .map(|(n, s)| (n, s / norm))
            .collect(),
    ))
}

fn scalar(t: &Tensor) -> Result<f64> {
    Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}

/// Splits `data` into a training part and a validation hold-out of `fraction` (seeded).
fn hold_out(
    data: &Dataset,
    fraction: f64,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<(Dataset, Dataset)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::invalid(
            "validation",
            format!("the hold-out fraction must be in (0, 1), not {fraction}"),
        ));
    }
    let n = data.len();
    let n_val = ((n as f64) * fraction).round() as usize;
    if n_val == 0 || n_val == n {
        return Err(Error::invalid(
            "validation",
            format!("a fraction {fraction} of {n} events leaves one side empty"),
        ));
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.shuffle(rng);
    let part = |idx: &[u32]| -> Result<Dataset> {
        let index = Tensor::from_slice(idx, idx.len(), data.x.device())?;
        let (batch, weights) = data.select(&index)?;
        Ok(Dataset {
            x: batch.x,
            y: batch.y,
            weights,
            context: batch.context,
        })
    };
    Ok((part(&order[n_val..])?, part(&order[..n_val])?))
}

/// Keeps the C allocator from handing memory back to the system after every training step.
///
/// A step allocates and frees dozens of activation and gradient buffers of about 128 KiB
/// (512 events x 64 features x 4 bytes), right at glibc's default mmap threshold; with the
/// default settings each of them is mapped and unmapped (or the heap top trimmed) every step,
/// and page faults took more system time than the arithmetic took user time. Raising the
/// mmap threshold to 16 MiB and the trim threshold to 128 MiB lets freed buffers be reused:
/// an epoch of the 64-wide MLP on 500 000 events went from about 2.9 s to 1.0 s. Called once
/// per process by the training loops; a no-op outside Linux/glibc.
pub(crate) fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            use std::ffi::c_int;
            unsafe extern "C" {
                fn mallopt(param: c_int, value: c_int) -> c_int;
            }
            const M_TRIM_THRESHOLD: c_int = -1;
            const M_MMAP_THRESHOLD: c_int = -3;
            // SAFETY: mallopt only changes allocator parameters; glibc makes it thread-safe
            // (it takes the arena locks) and it is always linked on this target.
            unsafe {
                mallopt(M_MMAP_THRESHOLD, 16 << 20);
                mallopt(M_TRIM_THRESHOLD, 128 << 20);
            }
        });
    }
}

/// Trains `model` on `data`. Returns the history; with `restore_best` the model ends with the
/// weights of its best epoch. Ctrl-C (the `interrupt` flag) stops between batches: the best
/// weights so far are restored and `Error::Interrupted` is returned.
pub fn fit(
    model: &dyn Trainable,
    data: &Dataset,
    opts: &TrainOptions,
    interrupt: Option<&Interrupt>,
) -> Result<History> {
    fit_observed(model, data, opts, interrupt, &mut |_| Ok(()))
}

/// [`fit`], calling `after_epoch(e)` at the end of every epoch e (counted from 0) with the
/// model holding that epoch's weights, e.g. to average its predictions over the last epochs
/// (ANODE). An error from it ends the training with that error.
pub fn fit_observed(
    model: &dyn Trainable,
    data: &Dataset,
    opts: &TrainOptions,
    interrupt: Option<&Interrupt>,
    after_epoch: &mut dyn FnMut(usize) -> Result<()>,
) -> Result<History> {
    tune_allocator();
    data.check_for(model.target_range())?;
    super::params::check_trainable(model.params())?;
    if data.is_empty() {
        return Err(Error::invalid(
            "training data",
            "there are no events to train on",
        ));
    }
    if model.needs_targets() && data.y.is_none() {
        return Err(Error::invalid(
            "targets",
            "this model trains on targets (labels); none were given",
        ));
    }
    check_options(opts)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(opts.seed);
    let (train, validation) = match &opts.validation {
        Validation::None => (data.clone(), None),
        Validation::Fraction(f) => {
            let (t, v) = hold_out(data, *f, &mut rng)?;
            (t, Some(v))
        }
        Validation::Data(v) => {
            v.check_for(model.target_range())?;
            (data.clone(), Some(v.clone()))
        }
    };
    let monitor = monitor_name(opts, validation.is_some());
    let mut optimizer = Optimizer::new(opts.optimizer, opts.lr, model.params().vars())?;
    let largest_param = model
        .params()
        .vars()
        .map(|v| v.elem_count())
        .max()
        .unwrap_or(0);
    let n = train.len();
    let batches_per_epoch = n.div_ceil(opts.batch_size);
    let progress = if opts.quiet {
        Progress::hidden()
    } else {
        Progress::new(
            "training (batches)",
            (opts.epochs * batches_per_epoch) as u64,
        )
    };
    let mut history = History {
        epochs: Vec::new(),
        monitor: monitor.clone(),
        best_epoch: 0,
        stopped_early: false,
    };
    // The weights to go back to when the training diverges: the best so far, else these.
    let initial = model.params().snapshot()?;
    let mut best: Option<Vec<Tensor>> = None;
    let diverged = |best: &Option<Vec<Tensor>>, err: Error| -> Result<History> {
        model.params().restore(best.as_ref().unwrap_or(&initial))?;
        Err(err)
    };
    let mut tracker = Tracker::new();
    let mut order: Vec<u32> = (0..n as u32).collect();
    for epoch in 0..opts.epochs {
        let started = Instant::now();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut weight_sum) = (0.0, 0.0);
        for chunk in order.chunks(opts.batch_size) {
            if let Some(flag) = interrupt
                && flag.is_triggered()
            {
                if let Some(weights) = &best {
                    model.params().restore(weights)?;
                }
                return Err(Error::Interrupted);
            }
            let index = Tensor::from_slice(chunk, chunk.len(), train.x.device())?;
            let (batch, weights) = train.select(&index)?;
            let mut step = Step {
                training: true,
                rng: &mut rng,
            };
            let loss = weighted_mean(&model.loss(&batch, &mut step)?, weights.as_ref())?;
            let value = scalar(&loss)?;
            if !value.is_finite() {
                return diverged(&best, non_finite_loss(value, epoch));
            }
            // The backward pass's products are about batch x (largest parameter) multiply-adds:
            // small models run it on one thread (see `layers::on_one_thread`).
            let work = chunk.len() * largest_param;
            optimizer.step(&on_one_thread(train.x.device(), work, || loss.backward())?)?;
            let w = weights
                .as_ref()
                .map(|w| {
                    w.sum_all()
                        .and_then(|s| s.to_dtype(DType::F64)?.to_scalar::<f64>())
                })
                .transpose()?
                .unwrap_or(chunk.len() as f64);
            loss_sum += value * w;
            weight_sum += w;
            progress.advance(1);
        }
        let mut metrics = Vec::new();
        if validation.is_none() && monitor != "loss" {
            // Without validation data a metric monitor is measured on the training data.
            metrics = evaluate(model, &train, opts.batch_size, &mut rng)?.1;
        }
        let val_loss = match &validation {
            Some(v) => {
                let (loss, m) = evaluate(model, v, opts.batch_size, &mut rng)?;
                metrics.extend(
                    m.into_iter()
                        .map(|(name, value)| (format!("val_{name}"), value)),
                );
                Some(loss)
            }
            None => None,
        };
        let record = Epoch {
            loss: loss_sum / weight_sum.max(f64::MIN_POSITIVE),
            val_loss,
            metrics,
            lr: optimizer.lr(),
            seconds: started.elapsed().as_secs_f64(),
        };
        let value = monitor_value(&record, &monitor).ok_or_else(|| unknown_monitor(opts))?;
        // The last step of an epoch can break the weights after its loss was taken: the
        // validation loss (or monitor) then shows it.
        for (what, v) in [
            ("validation loss", record.val_loss.unwrap_or(0.0)),
            (&monitor, value),
        ] {
            if !v.is_finite() {
                return diverged(&best, non_finite(what, v, epoch));
            }
        }
        history.epochs.push(record);
        after_epoch(epoch)?;
        let verdict = tracker.update(value, epoch, opts);
        if verdict.improved {
            best = Some(model.params().snapshot()?);
            history.best_epoch = epoch;
        }
        if let (true, Some((factor, _))) = (verdict.reduce_lr, opts.reduce_lr) {
            optimizer.set_lr(optimizer.lr() * factor);
        }
        if verdict.stop {
            history.stopped_early = true;
            break;
        }
    }
    if opts.restore_best
        && let Some(weights) = &best
    {
        model.params().restore(weights)?;
    }
    Ok(history)
}

#[cfg(test)]
mod tests;
