//! SALAD's classifiers: DCTR's reweighting of the simulation (and the three-way split of the
//! sidebands it trains, stops and is checked on) and the signal-region classifier chain with
//! its closures.

use super::*;

/// The DCTR weights f/(1 − f) of probabilities `f`.
pub(super) fn weights(f: &[f64]) -> Vec<f64> {
    f.iter().map(|f| f / (1.0 - f)).collect()
}

/// The DCTR classifiers f(x, m), data (1) against simulation (0), parameterised in the
/// standardised log mass.
pub(super) struct Dctr {
    pub(super) ensemble: Ensemble,
    /// Mean and standard deviation of ln m in the data.
    pub(super) mass_scaling: (f64, f64),
    /// Mean hold-out loss of the networks' best epochs.
    pub(super) loss: f64,
}

impl Dctr {
    /// Trains on the data rows `train[0]` (1) against the simulation rows `train[1]` (0) of
    /// `inputs` (data, simulation), early-stopped on the rows `validation`. Only these rows
    /// are put into the training tensor: the networks see no other event.
    pub(super) fn train(
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
    pub(super) fn input(&self, i: &Inputs, rows: &[usize]) -> Result<Tensor> {
        let m = i.log_mass(rows, self.mass_scaling)?;
        Ok(Tensor::cat(&[&i.tensor(rows)?, &m], 1)?)
    }

    /// The networks' mean f for `rows` of `i`, kept off 0 and 1.
    pub(super) fn probabilities(&self, i: &Inputs, rows: &[usize]) -> Result<Vec<f64>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let f = self.ensemble.mean_predictions(&self.input(i, rows)?)?;
        Ok(f.into_iter()
            .map(|f| f.clamp(PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR))
            .collect())
    }
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
pub(super) struct Check {
    pub(super) x: Tensor,
    pub(super) n_data: usize,
    pub(super) weights: Vec<f64>,
}

/// Predicted over observed efficiency of the cut `score >= threshold`, the weighted reference
/// against the data, and its statistical uncertainty.
pub(super) fn closure_ratio(
    threshold: f64,
    data: &[f64],
    reference: &[f64],
    weights: &[f64],
) -> Closure {
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
pub(super) fn chain(
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
