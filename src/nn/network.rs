//! [`Network`]: any model the scripting layer holds — trained, predicted with, saved and
//! loaded through one type.

use std::path::Path;

use candle_core::{Device, Tensor};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use super::checkpoint;
use super::flow::{Flow, FlowConfig};
use super::mlp::{Mlp, MlpConfig};
use super::model::{Step, Trainable};
use crate::error::Result;

/// Events per forward pass when predicting.
const PREDICT_BATCH: usize = 65_536;

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
}

/// What is saved beside the weights: the architecture and the input columns.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Description {
    /// The architecture.
    pub architecture: Architecture,
    /// The event-set columns the network was trained on, in input order.
    pub features: Option<Vec<String>>,
    /// The event-set columns a conditional model is conditioned on, in order (absent in
    /// files saved before conditional models existed).
    #[serde(default)]
    pub context: Option<Vec<String>>,
}

/// The model inside a [`Network`].
#[derive(Clone, Debug)]
enum Model {
    Mlp(Mlp),
    Flow(Flow),
}

/// A model of any kind, with the names of the columns it reads once it has been trained on an
/// event set. Clones share their weights (like Python objects): training one trains both.
#[derive(Clone, Debug)]
pub struct Network {
    model: Model,
    /// The input columns, in order, once known.
    pub features: Option<Vec<String>>,
    /// The conditioning columns of a conditional model, in order, once known.
    pub context: Option<Vec<String>>,
}

impl Network {
    /// A freshly initialised network of `architecture` on `device`, weights from `seed`.
    pub fn new(architecture: &Architecture, device: &Device, seed: u64) -> Result<Self> {
        let model = match architecture {
            Architecture::Mlp { config } => Model::Mlp(Mlp::new(config.clone(), device, seed)?),
            Architecture::Flow { config } => Model::Flow(Flow::new(config.clone(), device, seed)?),
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
        }
    }

    /// The number of input features.
    pub fn inputs(&self) -> usize {
        match &self.model {
            Model::Mlp(m) => m.config().inputs,
            Model::Flow(f) => f.config().inputs,
        }
    }

    /// The number of conditioning inputs (0 for unconditional models).
    pub fn context_inputs(&self) -> usize {
        match &self.model {
            Model::Mlp(_) => 0,
            Model::Flow(f) => f.config().context,
        }
    }

    /// The flow inside, or an error naming `operation` for other kinds of network.
    fn flow(&self, operation: &str) -> Result<&Flow> {
        match &self.model {
            Model::Flow(f) => Ok(f),
            Model::Mlp(_) => Err(crate::Error::invalid(
                operation,
                "only density models (flows) have a log density and samples; this is an MLP",
            )),
        }
    }

    /// The log density log p(x | context) [events] of a flow for inputs [events, features]
    /// and, if conditional, the context [events, context], computed in batches.
    pub fn log_prob(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let flow = self.flow("log_prob")?;
        let n = x.dims().first().copied().unwrap_or(0);
        let parts = (0..n)
            .step_by(PREDICT_BATCH)
            .map(|start| {
                let len = PREDICT_BATCH.min(n - start);
                let c = context.map(|c| c.narrow(0, start, len)).transpose()?;
                Ok(flow
                    .log_prob(&x.narrow(0, start, len)?, c.as_ref())?
                    .detach())
            })
            .collect::<Result<Vec<_>>>()?;
        if parts.is_empty() {
            return Err(crate::Error::invalid(
                "inputs",
                "there are no events to evaluate",
            ));
        }
        Ok(Tensor::cat(&parts, 0)?)
    }

    /// `n` events [n, features] drawn from a flow, given its context ([n, context] or
    /// [1, context]) if conditional; the base noise comes from `seed`.
    pub fn sample(&self, n: usize, context: Option<&Tensor>, seed: u64) -> Result<Tensor> {
        self.flow("sample")?.sample(n, context, seed)
    }

    /// The model as the training loop sees it.
    pub fn trainable(&self) -> &dyn Trainable {
        match &self.model {
            Model::Mlp(m) => m,
            Model::Flow(f) => f,
        }
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        self.trainable().params().device()
    }

    /// Predictions for inputs [events, features], computed in batches without dropout.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
        let n = x.dims().first().copied().unwrap_or(0);
        let parts = (0..n)
            .step_by(PREDICT_BATCH)
            .map(|start| {
                let chunk = x.narrow(0, start, PREDICT_BATCH.min(n - start))?;
                let mut step = Step {
                    training: false,
                    rng: &mut rng,
                };
                match &self.model {
                    Model::Mlp(m) => m.predict(&chunk, &mut step),
                    Model::Flow(_) => Err(crate::Error::invalid(
                        "predict",
                        "a flow has no predictions; use log_prob for its log density",
                    )),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        if parts.is_empty() {
            return Err(crate::Error::invalid(
                "inputs",
                "there are no events to predict",
            ));
        }
        Ok(Tensor::cat(&parts, 0)?)
    }

    /// Saves the weights to `path` (*.safetensors) and the architecture beside them.
    pub fn save(&self, path: &Path) -> Result<()> {
        let description = Description {
            architecture: self.architecture(),
            features: self.features.clone(),
            context: self.context.clone(),
        };
        checkpoint::save(path, &description, self.trainable().params())
    }

    /// Loads a network saved by [`Network::save`] onto `device`.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let description: Description = checkpoint::read_description(path)?;
        let mut network = Self::new(&description.architecture, device, 0)?;
        network.features = description.features;
        network.context = description.context;
        checkpoint::load_weights(path, network.trainable().params(), device)?;
        Ok(network)
    }

    /// The number of trainable numbers.
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
                    "MLP {} -> {:?} -> {} ({:?} output), {:?}, dropout {}, {} parameters on {}",
                    c.inputs,
                    c.hidden,
                    c.outputs,
                    c.output,
                    c.activation,
                    c.dropout,
                    self.parameter_count(),
                    super::device::device_name(self.device())
                )?;
            }
            Model::Flow(flow) => {
                let c = flow.config();
                write!(
                    f,
                    "Flow of {} inputs{}: {} MADE layers ({} hidden, {:?}) with {}-bin RQ splines on [-{}, {}], {} parameters on {}",
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
                    self.parameter_count(),
                    super::device::device_name(self.device())
                )?;
            }
        }
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
mod tests {
    use super::*;

    #[test]
    fn save_and_load_give_identical_predictions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("net.safetensors");
        let mut net = Network::new(
            &Architecture::Mlp {
                config: MlpConfig::new(3),
            },
            &Device::Cpu,
            4,
        )
        .unwrap();
        net.features = Some(vec!["a".into(), "b".into(), "c".into()]);
        let x = Tensor::new(&[[0.1f32, 0.2, 0.3], [1.0, -1.0, 0.5]], &Device::Cpu).unwrap();
        net.save(&path).unwrap();
        let back = Network::load(&path, &Device::Cpu).unwrap();
        assert_eq!(
            net.predict(&x).unwrap().to_vec1::<f32>().unwrap(),
            back.predict(&x).unwrap().to_vec1::<f32>().unwrap()
        );
        assert_eq!(back.architecture(), net.architecture());
        assert_eq!(back.features, net.features);
        assert!(net.to_string().starts_with("MLP 3 -> [64, 64, 64] -> 1"));
        assert!(net.save(&dir.path().join("net.bin")).is_err());
        std::fs::write(&path, b"not safetensors").unwrap();
        assert!(
            Network::load(&path, &Device::Cpu)
                .unwrap_err()
                .to_string()
                .contains("net.safetensors")
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "no temporary files: {leftovers:?}");
        assert!(net.log_prob(&x, None).is_err() && net.sample(3, None, 1).is_err());
    }

    #[test]
    fn flows_save_and_load_with_their_context_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flow.safetensors");
        let config = FlowConfig {
            layers: 2,
            hidden: 8,
            ..FlowConfig::new(2, 1)
        };
        let mut net = Network::new(&Architecture::Flow { config }, &Device::Cpu, 5).unwrap();
        net.features = Some(vec!["a".into(), "b".into()]);
        net.context = Some(vec!["m".into()]);
        let x = Tensor::new(&[[0.1f32, 0.2], [1.0, -1.0]], &Device::Cpu).unwrap();
        let c = Tensor::new(&[[0.5f32], [-0.5]], &Device::Cpu).unwrap();
        net.save(&path).unwrap();
        let back = Network::load(&path, &Device::Cpu).unwrap();
        assert_eq!(
            net.log_prob(&x, Some(&c))
                .unwrap()
                .to_vec1::<f32>()
                .unwrap(),
            back.log_prob(&x, Some(&c))
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        );
        let one = Tensor::new(&[[0.3f32]], &Device::Cpu).unwrap();
        assert_eq!(
            net.sample(4, Some(&one), 2)
                .unwrap()
                .to_vec2::<f32>()
                .unwrap(),
            back.sample(4, Some(&one), 2)
                .unwrap()
                .to_vec2::<f32>()
                .unwrap()
        );
        assert_eq!(back.context, net.context);
        assert_eq!(back.context_inputs(), 1);
        assert!(net.predict(&x).is_err());
        assert!(net.log_prob(&x, None).is_err());
        assert!(net.to_string().contains("context m"), "{net}");
    }
}
