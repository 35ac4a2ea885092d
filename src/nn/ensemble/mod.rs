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

use candle_core::{D, DType, Device, Tensor};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use super::batching::batched_for_copies;
use super::layers::{add_bias, dropout};
use super::loss::{bce_with_logits, mse};
use super::mlp::{Mlp, MlpConfig, Output};
use super::model::{Batch, Step, Trainable};
use super::params::Params;
use crate::error::{Error, Result};
use crate::seed::stream_seed;

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
        let p = batched_for_copies(self.members, 1, x, |chunk| {
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

mod fit;

pub use fit::{MemberData, fit_ensemble};

#[cfg(test)]
mod tests;
