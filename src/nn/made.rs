//! MADE, the masked autoencoder for distribution estimation (Germain et al.,
//! arXiv:1502.03509): a dense network whose weight masks make output block `i` depend only on
//! inputs `0..i` (input order), so one pass gives every dimension's conditional parameters of
//! an autoregressive flow. Optional context inputs feed every unit of the first hidden layer
//! unmasked (conditional density estimation, as ANODE's p(x | m)).

use candle_core::{DType, Device, Tensor};

use super::layers::Activation;
use super::params::Params;
use crate::error::{Error, Result};

/// A dense layer whose weight is multiplied by a fixed 0/1 mask.
#[derive(Clone, Debug)]
struct MaskedDense {
    weight: Tensor,
    bias: Tensor,
    mask: Tensor,
}

impl MaskedDense {
    /// A layer with connection `mask[i][o]` (true: input i feeds output o), initialised as
    /// PyTorch's `nn.Linear`.
    fn new(params: &mut Params, name: &str, mask: &[Vec<bool>], outputs: usize) -> Result<Self> {
        let inputs = mask.len();
        let bound = 1.0 / (inputs.max(1) as f64).sqrt();
        let values: Vec<f32> = mask
            .iter()
            .flat_map(|row| row.iter().map(|&m| if m { 1.0 } else { 0.0 }))
            .collect();
        let device = params.device().clone();
        Ok(Self {
            weight: params.uniform(&format!("{name}.weight"), &[inputs, outputs], bound)?,
            bias: params.uniform(&format!("{name}.bias"), &[outputs], bound)?,
            mask: Tensor::from_vec(values, (inputs, outputs), &device)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // Contiguous: a GPU's matrix product takes no other layout.
        Ok(x.contiguous()?
            .matmul(&(&self.weight * &self.mask)?)?
            .broadcast_add(&self.bias)?)
    }
}

/// A masked autoregressive network: inputs [batch, inputs] (and context [batch, context]) to
/// `per_input` numbers per input dimension, [batch, inputs, per_input], where block `i`
/// depends on inputs `0..i` and the context only.
#[derive(Clone, Debug)]
pub struct Made {
    inputs: usize,
    context: usize,
    per_input: usize,
    activation: Activation,
    first: MaskedDense,
    context_layer: Option<(Tensor, Tensor)>,
    hidden: Vec<MaskedDense>,
    output: MaskedDense,
}

impl Made {
    /// The weights of a MADE of this shape (in f64: absurd sizes must not overflow). Each
    /// costs 8 bytes once made (weight and mask) and 13 while it is made.
    pub fn connections(
        inputs: usize,
        context: usize,
        hidden: usize,
        hidden_layers: usize,
        per_input: usize,
    ) -> f64 {
        let (i, c, h) = (inputs as f64, context as f64, hidden as f64);
        let layers = hidden_layers.saturating_sub(1) as f64;
        (i + c + 1.0) * h + layers * (h + 1.0) * h + (h + 1.0) * i * per_input as f64
    }

    /// A MADE with `hidden_layers` (>= 1) masked hidden layers of `hidden` units, parameters
    /// named `{name}.*`. Hidden unit `j` gets degree `j mod inputs` and sees the inputs
    /// `0..degree` and the context; output block `i` sees the hidden units of degree <= `i`.
    /// (Unlike nflows, whose degrees start at 1, block 0 thus depends on the context too.)
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        params: &mut Params,
        name: &str,
        inputs: usize,
        context: usize,
        hidden: usize,
        hidden_layers: usize,
        per_input: usize,
        activation: Activation,
    ) -> Result<Self> {
        if inputs == 0 || hidden == 0 || hidden_layers == 0 || per_input == 0 {
            return Err(Error::invalid(
                "made",
                "inputs, hidden units, hidden layers and outputs per input must be at least 1",
            ));
        }
        crate::memory::check(
            &format!("{name}: a masked network of {hidden} units"),
            Self::connections(inputs, context, hidden, hidden_layers, per_input) * 13.0,
        )?;
        let input_degrees: Vec<usize> = (1..=inputs).collect();
        // Degree-0 units see no inputs (only the context), so block 0 depends on the context.
        let hidden_degrees: Vec<usize> = (0..hidden).map(|j| j % inputs).collect();
        let output_degrees: Vec<usize> = (1..=inputs)
            .flat_map(|d| std::iter::repeat_n(d, per_input))
            .collect();
        let mask = |from: &[usize], to: &[usize], strict: bool| -> Vec<Vec<bool>> {
            from.iter()
                .map(|&a| {
                    to.iter()
                        .map(|&b| if strict { b > a } else { b >= a })
                        .collect()
                })
                .collect()
        };
        let first = MaskedDense::new(
            params,
            &format!("{name}.input"),
            &mask(&input_degrees, &hidden_degrees, false),
            hidden,
        )?;
        let context_layer = if context > 0 {
            let bound = 1.0 / (context as f64).sqrt();
            Some((
                params.uniform(&format!("{name}.context.weight"), &[context, hidden], bound)?,
                params.uniform(&format!("{name}.context.bias"), &[hidden], bound)?,
            ))
        } else {
            None
        };
        let hidden_mask = mask(&hidden_degrees, &hidden_degrees, false);
        let hidden_layers = (1..hidden_layers)
            .map(|i| MaskedDense::new(params, &format!("{name}.hidden{i}"), &hidden_mask, hidden))
            .collect::<Result<_>>()?;
        let output = MaskedDense::new(
            params,
            &format!("{name}.output"),
            &mask(&hidden_degrees, &output_degrees, true),
            inputs * per_input,
        )?;
        Ok(Self {
            inputs,
            context,
            per_input,
            activation,
            first,
            context_layer,
            hidden: hidden_layers,
            output,
        })
    }

    /// The outputs [batch, inputs, per_input] for `x` [batch, inputs] and, if the network has
    /// context inputs, `context` [batch, context] (or [1, context], shared by every event).
    pub fn forward(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let (batch, d) = x.dims2()?;
        if d != self.inputs {
            return Err(Error::invalid(
                "inputs",
                format!("the network takes {} inputs, got {d}", self.inputs),
            ));
        }
        let mut h = self.first.forward(x)?;
        match (&self.context_layer, context) {
            (Some((w, b)), Some(c)) => {
                let (rows, cols) = c.dims2()?;
                if cols != self.context || (rows != batch && rows != 1) {
                    return Err(Error::invalid(
                        "context",
                        format!(
                            "expected [{batch}, {}] context values, got {:?}",
                            self.context,
                            c.dims()
                        ),
                    ));
                }
                let c = c.to_dtype(DType::F32)?;
                h = h.broadcast_add(&c.matmul(w)?.broadcast_add(b)?)?;
            }
            (Some(_), None) => {
                return Err(Error::invalid(
                    "context",
                    format!(
                        "the network is conditional on {} context values; none were given",
                        self.context
                    ),
                ));
            }
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "context",
                    "the network takes no context values",
                ));
            }
            (None, None) => {}
        }
        h = self.activation.apply(&h)?;
        for layer in &self.hidden {
            h = self.activation.apply(&layer.forward(&h)?)?;
        }
        Ok(self
            .output
            .forward(&h)?
            .reshape((batch, self.inputs, self.per_input))?)
    }

    /// The device of the weights.
    pub fn device(&self) -> &Device {
        self.first.weight.device()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(inputs: usize, context: usize) -> Made {
        let mut params = Params::new(&Device::Cpu, 5);
        Made::new(
            &mut params,
            "m",
            inputs,
            context,
            16,
            2,
            3,
            Activation::Tanh,
        )
        .unwrap()
    }

    /// The outputs of `net` for the single event `x` (and context `c`).
    fn outputs(net: &Made, x: &[f32], c: Option<&[f32]>) -> Vec<Vec<f32>> {
        let xt = Tensor::from_vec(x.to_vec(), (1, x.len()), &Device::Cpu).unwrap();
        let ct = c.map(|c| Tensor::from_vec(c.to_vec(), (1, c.len()), &Device::Cpu).unwrap());
        net.forward(&xt, ct.as_ref())
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2()
            .unwrap()
    }

    #[test]
    fn output_block_i_ignores_inputs_from_i_on() {
        let net = made(4, 0);
        let base = [0.3f32, -1.2, 0.7, 2.0];
        let y0 = outputs(&net, &base, None);
        for j in 0..4 {
            let mut x = base;
            x[j] += 1.5;
            let y = outputs(&net, &x, None);
            for i in 0..4 {
                let changed = y[i] != y0[i];
                // Block i may depend on inputs j < i only, and every such input is connected.
                assert_eq!(changed, j < i, "output {i}, input {j}");
            }
        }
    }

    #[test]
    fn context_feeds_every_output_and_is_checked() {
        let net = made(3, 2);
        let x = [0.1f32, 0.2, 0.3];
        let a = outputs(&net, &x, Some(&[0.0, 1.0]));
        let b = outputs(&net, &x, Some(&[0.5, 1.0]));
        for i in 0..3 {
            assert_ne!(a[i], b[i], "block {i} sees the context");
        }
        let xt = Tensor::from_vec(x.to_vec(), (1, 3), &Device::Cpu).unwrap();
        assert!(net.forward(&xt, None).is_err());
        let wrong = Tensor::zeros((1, 3), DType::F32, &Device::Cpu).unwrap();
        assert!(net.forward(&xt, Some(&wrong)).is_err());
        assert!(made(3, 0).forward(&xt, Some(&wrong)).is_err());
        // One input: a constant (context-only) output.
        let one = made(1, 0);
        assert_eq!(outputs(&one, &[0.0], None), outputs(&one, &[5.0], None));
    }
}
