//! [`Network`]: any model the scripting layer holds — trained, predicted with, saved and
//! loaded through one type.

use std::path::Path;

use candle_core::{Device, Tensor};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use super::checkpoint;
use super::ensemble::Ensemble;
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
    /// `members` MLPs of one shape with stacked weights, trained together.
    Ensemble {
        /// The members' shape.
        config: MlpConfig,
        /// The number of members.
        members: usize,
    },
}

/// What is saved beside the weights: the architecture and the input columns.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Description {
    /// The architecture.
    pub architecture: Architecture,
    /// The event-set columns the network was trained on, in input order.
    pub features: Option<Vec<String>>,
}

/// The model inside a [`Network`].
#[derive(Clone, Debug)]
enum Model {
    Mlp(Mlp),
    Ensemble(Ensemble),
}

/// A model of any kind, with the names of the columns it reads once it has been trained on an
/// event set. Clones share their weights (like Python objects): training one trains both.
#[derive(Clone, Debug)]
pub struct Network {
    model: Model,
    /// The input columns, in order, once known.
    pub features: Option<Vec<String>>,
}

impl Network {
    /// A freshly initialised network of `architecture` on `device`, weights from `seed`.
    pub fn new(architecture: &Architecture, device: &Device, seed: u64) -> Result<Self> {
        let model = match architecture {
            Architecture::Mlp { config } => Model::Mlp(Mlp::new(config.clone(), device, seed)?),
            Architecture::Ensemble { config, members } => {
                Model::Ensemble(Ensemble::new(config.clone(), *members, device, seed)?)
            }
        };
        Ok(Self {
            model,
            features: None,
        })
    }

    /// The architecture.
    pub fn architecture(&self) -> Architecture {
        match &self.model {
            Model::Mlp(m) => Architecture::Mlp {
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
            Model::Ensemble(e) => e.config().inputs,
        }
    }

    /// The model as the training loop sees it.
    pub fn trainable(&self) -> &dyn Trainable {
        match &self.model {
            Model::Mlp(m) => m,
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

    /// Every member's predictions, [members, events] (or [members, events, outputs]), for an
    /// ensemble; an error for other networks.
    pub fn predict_members(&self, x: &Tensor) -> Result<Tensor> {
        let ensemble = self.ensemble().ok_or_else(|| {
            crate::Error::invalid("predict_members", "this network is not an ensemble")
        })?;
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
                ensemble.predict_members(&chunk, &mut step)
            })
            .collect::<Result<Vec<_>>>()?;
        if parts.is_empty() {
            return Err(crate::Error::invalid(
                "inputs",
                "there are no events to predict",
            ));
        }
        Ok(Tensor::cat(&parts, 1)?)
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
                    Model::Ensemble(e) => e.predict(&chunk, &mut step),
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
        };
        checkpoint::save(path, &description, self.trainable().params())
    }

    /// Loads a network saved by [`Network::save`] onto `device`.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let description: Description = checkpoint::read_description(path)?;
        let mut network = Self::new(&description.architecture, device, 0)?;
        network.features = description.features;
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
            Model::Ensemble(e) => {
                let c = e.config();
                write!(
                    f,
                    "Ensemble of {} MLPs {} -> {:?} -> {} ({:?} output), {:?}, dropout {}, {} parameters on {}",
                    e.members(),
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
        }
        if let Some(features) = &self.features {
            write!(f, "; inputs {}", features.join(", "))?;
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
    }

    #[test]
    fn ensembles_save_load_and_predict_the_member_average() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ens.safetensors");
        let arch = Architecture::Ensemble {
            config: MlpConfig::new(2),
            members: 3,
        };
        let net = Network::new(&arch, &Device::Cpu, 5).unwrap();
        let x = Tensor::new(&[[0.1f32, 0.2], [1.0, -1.0]], &Device::Cpu).unwrap();
        let members = net.predict_members(&x).unwrap();
        assert_eq!(members.dims(), [3, 2]);
        let mean = net.predict(&x).unwrap().to_vec1::<f32>().unwrap();
        let want = members.mean(0).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(mean, want);
        net.save(&path).unwrap();
        let back = Network::load(&path, &Device::Cpu).unwrap();
        assert_eq!(back.architecture(), arch);
        assert_eq!(back.predict(&x).unwrap().to_vec1::<f32>().unwrap(), mean);
        assert!(
            net.to_string()
                .starts_with("Ensemble of 3 MLPs 2 -> [64, 64, 64] -> 1")
        );
        let single = Network::new(
            &Architecture::Mlp {
                config: MlpConfig::new(2),
            },
            &Device::Cpu,
            5,
        )
        .unwrap();
        assert!(single.predict_members(&x).is_err());
    }
}
