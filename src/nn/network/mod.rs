//! [`Network`]: any model the scripting layer holds — trained, predicted with, saved and
//! loaded through one type.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use super::batching::batched_along;
use super::checkpoint;
use super::ensemble::Ensemble;
use super::flow::{Flow, FlowConfig};
use super::mlp::{Mlp, MlpConfig};
use super::model::{Step, Trainable};
use super::svdd::{DeepSvdd, SvddConfig};
use super::torch::{StateDictOptions, mlp_from_state_dict};
use super::train::require_finite;
use super::vae::{Vae, VaeConfig};
use crate::error::{Error, Result};

/// The architecture of a network, as saved beside its weights.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Architecture {
    /// A multilayer perceptron.
    Mlp {
        /// Its shape.
        config: MlpConfig,
    },
    /// A conditional masked autoregressive flow with rational-quadratic splines.
    Flow {
        /// Its shape.
        config: FlowConfig,
    },
    /// A variational autoencoder (Bortolato et al. 2021).
    Vae {
        /// Its shape and loss weights.
        config: VaeConfig,
    },
    /// A Deep SVDD network (Caron et al. 2021); its target is saved with the weights.
    DeepSvdd {
        /// Its shape.
        config: SvddConfig,
    },
    /// `members` MLPs of one shape with stacked weights, trained together.
    Ensemble {
        /// The members' shape.
        config: MlpConfig,
        /// The number of members.
        members: usize,
    },
}

/// The checkpoint format [`Network::save`] writes: 2 since dense weights are stored
/// [outputs, inputs] (PyTorch's layout). Files of earlier versions carry no version (read as
/// 1): their dense weights are [inputs, outputs] and are transposed on load.
pub const CHECKPOINT_VERSION: u32 = 2;

/// The version of a checkpoint whose description has none.
fn first_version() -> u32 {
    1
}

/// What is saved beside the weights: the architecture and the input columns.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Description {
    /// The checkpoint format ([`CHECKPOINT_VERSION`] when saved; 1 when absent).
    #[serde(default = "first_version")]
    pub version: u32,
    /// The architecture.
    pub architecture: Architecture,
    /// The event-set columns the network was trained on, in input order.
    pub features: Option<Vec<String>>,
    /// The event-set columns a conditional model reads as its context, in order (absent in
    /// files saved before conditional models existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Vec<String>>,
}

/// The model inside a [`Network`].
#[derive(Clone, Debug)]
enum Model {
    /// A multilayer perceptron.
    Mlp(Mlp),
    Flow(Flow),
    Vae(Vae),
    DeepSvdd(DeepSvdd),
    Ensemble(Ensemble),
}

/// A model of any kind, with the names of the columns it reads once it has been trained on an
/// event set. Clones share their weights (like Python objects): training one trains both.
#[derive(Clone, Debug)]
pub struct Network {
    model: Model,
    /// The input columns, in order, once known.
    pub features: Option<Vec<String>>,
    /// The context columns of a conditional model (a flow's conditioning inputs, a
    /// conditional VAE decoder's extra inputs), in order, once known.
    pub context: Option<Vec<String>>,
}

impl Network {
    /// A freshly initialised network of `architecture` on `device`, weights from `seed`.
    pub fn new(architecture: &Architecture, device: &Device, seed: u64) -> Result<Self> {
        let model = match architecture {
            Architecture::Mlp { config } => Model::Mlp(Mlp::new(config.clone(), device, seed)?),
            Architecture::Flow { config } => Model::Flow(Flow::new(config.clone(), device, seed)?),
            Architecture::Vae { config } => Model::Vae(Vae::new(config.clone(), device, seed)?),
            Architecture::DeepSvdd { config } => {
                Model::DeepSvdd(DeepSvdd::new(config.clone(), device, seed)?)
            }
            Architecture::Ensemble { config, members } => {
                Model::Ensemble(Ensemble::new(config.clone(), *members, device, seed)?)
            }
        };
        Ok(Self {
            model,
            features: None,
            context: None,
        })
    }

    /// The architecture.
    pub fn architecture(&self) -> Architecture {
        match &self.model {
            Model::Mlp(m) => Architecture::Mlp {
                config: m.config().clone(),
            },
            Model::Flow(f) => Architecture::Flow {
                config: f.config().clone(),
            },
            Model::Vae(m) => Architecture::Vae {
                config: m.config().clone(),
            },
            Model::DeepSvdd(m) => Architecture::DeepSvdd {
                config: m.config().clone(),
            },
            Model::Ensemble(e) => Architecture::Ensemble {
                config: e.config().clone(),
                members: e.members(),
            },
        }
    }

    /// The number of input features.
    pub fn inputs(&self) -> usize {
        match &self.model {
            Model::Mlp(m) => m.config().inputs,
            Model::Flow(f) => f.config().inputs,
            Model::Vae(m) => m.config().inputs,
            Model::DeepSvdd(m) => m.config().inputs,
            Model::Ensemble(e) => e.config().inputs,
        }
    }

    /// The number of context inputs the model reads: a flow's conditioning inputs, a
    /// conditional VAE decoder's extra inputs; 0 for other models.
    pub fn context_inputs(&self) -> usize {
        match &self.model {
            Model::Flow(f) => f.config().context,
            Model::Vae(m) => m.config().conditional_decoder_inputs,
            Model::Mlp(_) | Model::DeepSvdd(_) | Model::Ensemble(_) => 0,
        }
    }

    /// The flow inside, or an error naming `operation` for other kinds of network.
    fn flow(&self, operation: &str) -> Result<&Flow> {
        match &self.model {
            Model::Flow(f) => Ok(f),
            _ => Err(Error::invalid(
                operation,
                format!(
                    "only density models (flows) have a log density and samples; this network is {}",
                    self.kind_name()
                ),
            )),
        }
    }

    /// The log density log p(x | context) [events] of a flow for inputs [events, features]
    /// and, if conditional, the context [events, context], computed in batches.
    pub fn log_prob(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let flow = self.flow("log_prob")?;
        self.batched(x, context, |x, c| Ok(flow.log_prob(x, c)?.detach()))
    }

    /// `n` events [n, features] drawn from a flow, given its context ([n, context] or
    /// [1, context]) if conditional; the base noise comes from `seed`; `interrupt` stops it
    /// between chunks.
    pub fn sample(
        &self,
        n: usize,
        context: Option<&Tensor>,
        seed: u64,
        interrupt: Option<&crate::interrupt::Interrupt>,
    ) -> Result<Tensor> {
        let flow = self.flow("sample")?;
        if let Some(c) = context {
            super::train::require_finite("sampling context value", c)?;
        }
        flow.sample(n, context, seed, interrupt)
    }

    /// The model as the training loop sees it.
    pub fn trainable(&self) -> &dyn Trainable {
        match &self.model {
            Model::Mlp(m) => m,
            Model::Flow(f) => f,
            Model::Vae(m) => m,
            Model::DeepSvdd(m) => m,
            Model::Ensemble(e) => e,
        }
    }

    /// The ensemble inside, if this network is one.
    pub fn ensemble(&self) -> Option<&Ensemble> {
        match &self.model {
            Model::Ensemble(e) => Some(e),
            _ => None,
        }
    }

    /// The VAE inside, if the network is one.
    pub fn as_vae(&self) -> Option<&Vae> {
        match &self.model {
            Model::Vae(m) => Some(m),
            _ => None,
        }
    }

    /// The Deep SVDD network inside, if the network is one.
    pub fn as_svdd(&self) -> Option<&DeepSvdd> {
        match &self.model {
            Model::DeepSvdd(m) => Some(m),
            _ => None,
        }
    }

    /// `f` applied to `x` (and `context`, if given) in batches of [`PREDICT_BATCH`](super::batching::PREDICT_BATCH) events,
    /// the results concatenated along the events; NaN or infinite inputs are refused (a
    /// network maps them to numbers that look like scores).
    fn batched(
        &self,
        x: &Tensor,
        context: Option<&Tensor>,
        f: impl Fn(&Tensor, Option<&Tensor>) -> Result<Tensor>,
    ) -> Result<Tensor> {
        require_finite("input", x)?;
        if let Some(c) = context {
            require_finite("context input", c)?;
        }
        batched_along(0, x, context, f)
    }

    /// The VAE inside, or an error saying that `what` needs one.
    pub(crate) fn vae(&self, what: &str) -> Result<&Vae> {
        self.as_vae().ok_or_else(|| {
            Error::invalid(
                what,
                format!("only a VAE has this; this network is {}", self.kind_name()),
            )
        })
    }

    /// "an MLP", "a flow", "a VAE", "a Deep SVDD network" or "an ensemble" (for messages).
    pub fn kind_name(&self) -> &'static str {
        match &self.model {
            Model::Mlp(_) => "an MLP",
            Model::Flow(_) => "a flow",
            Model::Vae(_) => "a VAE",
            Model::DeepSvdd(_) => "a Deep SVDD network",
            Model::Ensemble(_) => "an ensemble",
        }
    }

    /// A VAE's per-event KL divergence to the prior [events].
    pub fn kl(&self, x: &Tensor) -> Result<Tensor> {
        let vae = self.vae("kl")?;
        self.batched(x, None, |x, _| vae.kl(x))
    }

    /// A VAE's per-event squared reconstruction error (from the latent means) [events].
    pub fn reconstruction_loss(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let vae = self.vae("reconstruction_loss")?;
        self.batched(x, context, |x, c| vae.reconstruction_loss(x, c))
    }

    /// A VAE's latent means [events, latent].
    pub fn latent(&self, x: &Tensor) -> Result<Tensor> {
        let vae = self.vae("latent")?;
        self.batched(x, None, |x, _| vae.latent(x))
    }

    /// The Deep SVDD network inside, or an error saying that `what` needs one.
    pub(crate) fn svdd(&self, what: &str) -> Result<&DeepSvdd> {
        self.as_svdd().ok_or_else(|| {
            Error::invalid(
                what,
                format!(
                    "only a Deep SVDD network has this; this network is {} (a VAE scores with kl or predict)",
                    self.kind_name()
                ),
            )
        })
    }

    /// A Deep SVDD network's per-event distance to its target [events].
    pub fn score(&self, x: &Tensor) -> Result<Tensor> {
        let svdd = self.svdd("score")?;
        self.batched(x, None, |x, _| svdd.score(x))
    }

    /// Every member's predictions, [members, events] (or [members, events, outputs]), for an
    /// ensemble; an error for other networks.
    pub fn predict_members(&self, x: &Tensor) -> Result<Tensor> {
        let ensemble = self.ensemble().ok_or_else(|| {
            crate::Error::invalid("predict_members", "this network is not an ensemble")
        })?;
        require_finite("input", x)?;
        batched_along(1, x, None, |chunk, _| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
            let mut step = Step {
                training: false,
                rng: &mut rng,
            };
            ensemble.predict_members(chunk, &mut step)
        })
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        self.trainable().params().device()
    }

    /// Predictions for inputs [events, features], computed in batches without dropout. For
    /// the anomaly detectors these are the anomaly scores: a VAE's total loss per event
    /// (with the latent means), a Deep SVDD network's distance to its target.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor> {
        self.predict_with(x, None)
    }

    /// [`Network::predict`] with the context [events, c] a conditional VAE decoder reads.
    pub fn predict_with(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        self.batched(x, context, |chunk, ctx| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
            let mut step = Step {
                training: false,
                rng: &mut rng,
            };
            match &self.model {
                Model::Mlp(m) => m.predict(chunk, &mut step),
                Model::Vae(m) => m.score(chunk, ctx),
                Model::DeepSvdd(m) => m.score(chunk),
                Model::Ensemble(e) => e.predict(chunk, &mut step),
                Model::Flow(_) => Err(Error::invalid(
                    "predict",
                    "a flow has no predictions; use log_prob for its log density",
                )),
            }
        })
    }

    /// Saves the weights and the architecture (with the input columns) to `path`
    /// (*.safetensors) as one file, plus a readable JSON copy of the architecture beside it.
    /// Dense weights are stored [outputs, inputs], so an MLP's file loads in PyTorch (see
    /// [`torch`](super::torch)); an ensemble's stacked weights are [members, inputs, outputs].
    pub fn save(&self, path: &Path) -> Result<()> {
        let description = Description {
            version: CHECKPOINT_VERSION,
            architecture: self.architecture(),
            features: self.features.clone(),
            context: self.context.clone(),
        };
        checkpoint::save(path, &description, self.trainable().params())
    }

    /// Loads a network saved by [`Network::save`] (of this or an earlier version) onto
    /// `device`, or a PyTorch MLP's `state_dict` saved as safetensors, read with the default
    /// [`StateDictOptions`].
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        Self::load_with(path, device, None)
    }

    /// [`Network::load`], reading a PyTorch `state_dict` (a safetensors file without a
    /// bumplab description, see [`torch`](super::torch)) with `state_dict` options (the
    /// defaults when `None`). Options given for a bumplab checkpoint are an error: it
    /// describes its own architecture.
    pub fn load_with(
        path: &Path,
        device: &Device,
        state_dict: Option<&StateDictOptions>,
    ) -> Result<Self> {
        let checkpoint = checkpoint::Checkpoint::read(path)?;
        let Some(description) = checkpoint.find_description::<Description>()? else {
            let options = state_dict.cloned().unwrap_or_default();
            return Self::from_state_dict(&checkpoint, device, options);
        };
        if state_dict.is_some() {
            return Err(Error::invalid(
                "load options",
                format!(
                    "'{}' is a bumplab checkpoint, which describes its own architecture and \
                     inputs; the options apply to PyTorch state_dicts only",
                    path.display()
                ),
            ));
        }
        if description.version > CHECKPOINT_VERSION {
            return Err(Error::format(
                path,
                format!("metadata '{}'", checkpoint::DESCRIPTION_KEY),
                format!(
                    "checkpoint version {} is newer than this bumplab reads (up to {}): \
                     load it with a newer bumplab",
                    description.version, CHECKPOINT_VERSION
                ),
            ));
        }
        let mut network = Self::new(&description.architecture, device, 0)?;
        network.features = description.features;
        network.context = description.context;
        let mut tensors = checkpoint.tensors(device)?;
        if description.version < 2 {
            network.transpose_dense_weights(&mut tensors)?;
        }
        checkpoint.load_tensors(network.trainable().params(), &tensors)?;
        Ok(network)
    }

    /// Turns the [inputs, outputs] dense weights of a version-1 checkpoint into the
    /// [outputs, inputs] of version 2: every 2-D `*.weight` of an MLP, a VAE or a Deep SVDD
    /// network (all their weights are dense layers'). Flows (MADE's masked layers) and
    /// ensembles (stacked [members, inputs, outputs]) kept their layout.
    fn transpose_dense_weights(&self, tensors: &mut HashMap<String, Tensor>) -> Result<()> {
        if !matches!(
            self.model,
            Model::Mlp(_) | Model::Vae(_) | Model::DeepSvdd(_)
        ) {
            return Ok(());
        }
        for (name, tensor) in tensors.iter_mut() {
            if name.ends_with(".weight") && tensor.rank() == 2 {
                *tensor = tensor.t()?.contiguous()?;
            }
        }
        Ok(())
    }

    /// The MLP of a PyTorch `state_dict` in `checkpoint` (see [`torch`](super::torch)).
    fn from_state_dict(
        checkpoint: &checkpoint::Checkpoint,
        device: &Device,
        options: StateDictOptions,
    ) -> Result<Self> {
        let tensors = checkpoint.tensors(device)?;
        let (config, tensors) = mlp_from_state_dict(checkpoint.path(), tensors, &options)?;
        if let Some(features) = &options.features
            && features.len() != config.inputs
        {
            return Err(Error::invalid(
                "features",
                format!(
                    "{} columns for the {} inputs of the state_dict in '{}'",
                    features.len(),
                    config.inputs,
                    checkpoint.path().display()
                ),
            ));
        }
        let mut network = Self::new(&Architecture::Mlp { config }, device, 0)?;
        network.features = options.features;
        checkpoint.load_tensors(network.trainable().params(), &tensors)?;
        Ok(network)
    }

    /// The number of trainable numbers (fixed tensors such as a Deep SVDD target excluded).
    pub fn parameter_count(&self) -> usize {
        self.trainable().params().count()
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.model {
            Model::Mlp(m) => {
                let c = m.config();
                write!(
                    f,
                    "MLP {} -> {:?} -> {} ({:?} output), {:?}, dropout {}",
                    c.inputs, c.hidden, c.outputs, c.output, c.activation, c.dropout,
                )?;
            }
            Model::Flow(flow) => {
                let c = flow.config();
                write!(
                    f,
                    "Flow of {} inputs{}: {} MADE layers ({} hidden, {:?}) with {}-bin RQ splines on [-{}, {}]",
                    c.inputs,
                    if c.context > 0 {
                        format!(" given {} context values", c.context)
                    } else {
                        String::new()
                    },
                    c.layers,
                    c.hidden,
                    c.activation,
                    c.knots,
                    c.bound,
                    c.bound,
                )?;
            }
            Model::Vae(m) => {
                let c = m.config();
                write!(
                    f,
                    "VAE {} -> {:?} -> latent {}{} -> {:?} -> {}, {:?}, beta {}, recon_weight {}",
                    c.inputs,
                    c.hidden,
                    c.latent,
                    if c.conditional_decoder_inputs > 0 {
                        format!(" (+{} conditional)", c.conditional_decoder_inputs)
                    } else {
                        String::new()
                    },
                    c.hidden.iter().rev().collect::<Vec<_>>(),
                    c.inputs,
                    c.activation,
                    c.beta,
                    c.recon_weight,
                )?;
            }
            Model::DeepSvdd(m) => {
                let c = m.config();
                let target = match m.target() {
                    Ok(Some(_)) => "target set",
                    _ => "target not set",
                };
                write!(
                    f,
                    "Deep SVDD {} -> {:?} -> {} (no biases), {:?}, {target}",
                    c.inputs, c.hidden, c.out_dim, c.activation,
                )?;
            }
            Model::Ensemble(e) => {
                let c = e.config();
                write!(
                    f,
                    "Ensemble of {} MLPs {} -> {:?} -> {} ({:?} output), {:?}, dropout {}",
                    e.members(),
                    c.inputs,
                    c.hidden,
                    c.outputs,
                    c.output,
                    c.activation,
                    c.dropout,
                )?;
            }
        }
        write!(
            f,
            ", {} parameters on {}",
            self.parameter_count(),
            super::device::device_name(self.device())
        )?;
        if let Some(features) = &self.features {
            write!(f, "; inputs {}", features.join(", "))?;
        }
        if let Some(context) = &self.context {
            write!(f, "; context {}", context.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
