//! The contract between models and the training loop.

use candle_core::Tensor;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::params::Params;
use crate::error::{Error, Result};

/// A mini-batch: inputs and, depending on the model, targets and a conditioning context.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Inputs [batch, features].
    pub x: Tensor,
    /// Targets [batch] or [batch, k] (classifiers, regressions), if the model needs them.
    pub y: Option<Tensor>,
    /// Conditioning inputs [batch, c] (e.g. the resonant mass of a conditional flow).
    pub context: Option<Tensor>,
}

impl Batch {
    /// The targets, or an error for a classifier given none.
    pub fn targets(&self) -> Result<&Tensor> {
        self.y.as_ref().ok_or_else(|| {
            Error::invalid("targets", "the classifier needs targets (labels) to train")
        })
    }
}

/// What a forward pass needs besides the batch: whether it trains (dropout on) and the
/// seeded generator for its random masks.
pub struct Step<'a> {
    /// True during training, false for validation and prediction.
    pub training: bool,
    /// The generator for dropout masks and other per-step randomness.
    pub rng: &'a mut Xoshiro256PlusPlus,
}

/// A model the training loop can fit.
pub trait Trainable {
    /// The model's parameters.
    fn params(&self) -> &Params;

    /// The loss of every event of `batch`, shape [batch]; the loop takes its (weighted) mean.
    fn loss(&self, batch: &Batch, step: &mut Step) -> Result<Tensor>;

    /// Further per-event quantities to average and record each epoch, by name (e.g. a VAE's
    /// KL divergence, which can serve as an early-stopping monitor). None by default.
    fn metrics(&self, _batch: &Batch, _step: &mut Step) -> Result<Vec<(&'static str, Tensor)>> {
        Ok(Vec::new())
    }

    /// Whether the model uses `Batch::y` (the loop then requires targets).
    fn needs_targets(&self) -> bool {
        false
    }

    /// The interval its targets must lie in, if limited (labels 0..1 for a probability
    /// trained with binary cross-entropy); the loop refuses targets outside it.
    fn target_range(&self) -> Option<(f64, f64)> {
        None
    }
}
