//! The multilayer perceptron: the classifier of CWoLa hunting, SALAD and DCTR.

use candle_core::{Device, Tensor};

use super::layers::{Activation, Dense, dropout, on_one_thread, sigmoid, squeeze_last};
use super::loss::{bce_with_logits, mse};
use super::model::{Batch, Step, Trainable};
use super::params::Params;
use crate::error::{Error, Result};

/// What the network's last layer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// A probability: trained with binary cross-entropy on logits, predicts sigmoid(logit).
    Sigmoid,
    /// A real value: trained with the squared error, predicts the value itself.
    Linear,
}

impl Output {
    /// The prediction for the network's raw outputs: probabilities from logits for a sigmoid
    /// output, the values themselves for a linear one.
    pub fn apply(self, raw: Tensor) -> Result<Tensor> {
        match self {
            Self::Sigmoid => sigmoid(&raw),
            Self::Linear => Ok(raw),
        }
    }

    /// The interval targets must lie in: [0, 1] for a probability, any number otherwise.
    pub fn target_range(self) -> Option<(f64, f64)> {
        match self {
            Self::Sigmoid => Some((0.0, 1.0)),
            Self::Linear => None,
        }
    }

    /// The output called `name` ("sigmoid" or "linear").
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "sigmoid" => Ok(Self::Sigmoid),
            "linear" => Ok(Self::Linear),
            other => Err(Error::invalid(
                "output",
                format!("'{other}': use \"sigmoid\" or \"linear\""),
            )),
        }
    }
}

/// The shape of an MLP.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MlpConfig {
    /// Input features.
    pub inputs: usize,
    /// Widths of the hidden layers ([64, 64, 64]).
    pub hidden: Vec<usize>,
    /// Activation after each hidden layer (relu).
    pub activation: Activation,
    /// Dropout rate after each hidden activation (0).
    pub dropout: f64,
    /// Outputs (1).
    pub outputs: usize,
    /// What the outputs mean (sigmoid).
    pub output: Output,
}

impl MlpConfig {
    /// The widest layer (inputs, hidden or outputs): its square times the batch is the work
    /// of the largest matrix product, which decides whether a pass runs on one thread.
    pub fn widest(&self) -> usize {
        self.hidden
            .iter()
            .copied()
            .chain([self.inputs, self.outputs])
            .max()
            .unwrap_or(1)
    }

    /// Fails unless `x` is [events, inputs] for this shape.
    pub fn check_inputs(&self, x: &Tensor) -> Result<()> {
        if x.rank() != 2 || x.dims()[1] != self.inputs {
            return Err(Error::invalid(
                "inputs",
                format!(
                    "the network takes [events, {}], got {:?}",
                    self.inputs,
                    x.dims()
                ),
            ));
        }
        Ok(())
    }

    /// The defaults for `inputs` features: three hidden layers of 64, ReLU, no dropout, one
    /// sigmoid output.
    pub fn new(inputs: usize) -> Self {
        Self {
            inputs,
            hidden: vec![64, 64, 64],
            activation: Activation::Relu,
            dropout: 0.0,
            outputs: 1,
            output: Output::Sigmoid,
        }
    }

    /// The number of weights and biases (in f64: absurd widths must not overflow).
    pub fn parameter_count(&self) -> f64 {
        super::layers::dense_parameters(
            std::iter::once(self.inputs)
                .chain(self.hidden.iter().copied())
                .chain([self.outputs]),
        )
    }

    fn check(&self) -> Result<()> {
        super::layers::check_depth("mlp", self.hidden.len())?;
        if self.inputs == 0 || self.outputs == 0 || self.hidden.contains(&0) {
            return Err(Error::invalid(
                "mlp",
                "inputs, outputs and every hidden width must be at least 1",
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::invalid(
                "dropout",
                format!("must be in [0, 1), not {}", self.dropout),
            ));
        }
        Ok(())
    }
}

/// A multilayer perceptron.
#[derive(Clone, Debug)]
pub struct Mlp {
    config: MlpConfig,
    layers: Vec<Dense>,
    params: Params,
}

impl Mlp {
    /// A freshly initialised network on `device`, its weights drawn from `seed`.
    pub fn new(config: MlpConfig, device: &Device, seed: u64) -> Result<Self> {
        config.check()?;
        let mut params = Params::new(device, seed);
        let widths: Vec<usize> = std::iter::once(config.inputs)
            .chain(config.hidden.iter().copied())
            .chain([config.outputs])
            .collect();
        let layers = Dense::stack(&mut params, "layer", &widths)?;
        Ok(Self {
            config,
            layers,
            params,
        })
    }

    /// The network's shape.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The raw outputs (logits for a sigmoid output) for inputs [batch, inputs].
    pub fn forward(&self, x: &Tensor, step: &mut Step) -> Result<Tensor> {
        self.config.check_inputs(x)?;
        // Small networks run the whole pass on one thread (see `layers::on_one_thread`).
        let c = &self.config;
        let widest = c.widest();
        on_one_thread(x.device(), x.dims()[0] * widest * widest, || {
            let last = self.layers.len() - 1;
            let mut h = x.clone();
            for (i, layer) in self.layers.iter().enumerate() {
                h = layer.forward(&h)?;
                if i < last {
                    h = dropout(&c.activation.apply(&h)?, c.dropout, step)?;
                }
            }
            Ok(h)
        })
    }

    /// Predictions (probabilities for a sigmoid output): [batch] for one output, else
    /// [batch, outputs].
    pub fn predict(&self, x: &Tensor, step: &mut Step) -> Result<Tensor> {
        squeeze_last(&self.config.output.apply(self.forward(x, step)?)?)
    }
}

impl Trainable for Mlp {
    fn params(&self) -> &Params {
        &self.params
    }

    fn loss(&self, batch: &Batch, step: &mut Step) -> Result<Tensor> {
        let y = batch.targets()?;
        let out = self.forward(&batch.x, step)?;
        match self.config.output {
            Output::Sigmoid => bce_with_logits(&out, y),
            Output::Linear => mse(&out, y),
        }
    }

    fn needs_targets(&self) -> bool {
        true
    }

    fn target_range(&self) -> Option<(f64, f64)> {
        self.config.output.target_range()
    }
}
