//! Neural networks on candle: parameters with seeded initialisation, layers and models,
//! numerically stable losses, optimizers, the training loop and checkpoints.
//!
//! Every model implements [`Trainable`]: it owns its [`Params`] and computes a per-event loss
//! on a [`Batch`]; [`train::fit`] does the rest (seeded shuffling, weighted means, validation,
//! early stopping, learning-rate schedules, Ctrl-C, progress). Randomness (initial weights,
//! dropout masks, shuffles) comes from explicit seeds, never from candle's global generator, so
//! the same seed gives the same network.

pub(crate) mod batching;
pub mod checkpoint;
pub mod device;
pub mod ensemble;
pub mod flow;
pub mod layers;
pub mod loss;
pub mod made;
pub mod mlp;
pub mod model;
pub mod network;
pub mod optim;
pub mod params;
pub mod set_vae;
pub mod sets;
pub mod spline;
pub mod svdd;
#[cfg(test)]
mod testdata;
pub mod torch;
pub mod train;
pub mod vae;

pub use model::{Batch, Step, Trainable};
pub use params::Params;
