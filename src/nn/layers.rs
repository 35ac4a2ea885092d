//! Building blocks: dense layers, activations and dropout.

use candle_core::{D, DType, Tensor};
use rand::RngExt;

use super::model::Step;
use super::params::Params;
use crate::error::{Error, Result};

/// A fully connected layer y = x W + b, initialised as PyTorch's `nn.Linear`
/// (uniform in ±1/sqrt(inputs)).
#[derive(Clone, Debug)]
pub struct Dense {
    weight: Tensor,
    bias: Tensor,
}

impl Dense {
    /// A layer `inputs` -> `outputs` whose parameters are named `{name}.weight`/`{name}.bias`.
    pub fn new(params: &mut Params, name: &str, inputs: usize, outputs: usize) -> Result<Self> {
        let bound = 1.0 / (inputs.max(1) as f64).sqrt();
        Ok(Self {
            weight: params.uniform(&format!("{name}.weight"), &[inputs, outputs], bound)?,
            bias: params.uniform(&format!("{name}.bias"), &[outputs], bound)?,
        })
    }

    /// x W + b for x of shape [batch, inputs].
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        add_bias(&x.matmul(&self.weight)?, &self.bias)
    }
}

/// `y + b` for `y` of shape [..., batch, outputs] and a bias `b` of shape [..., outputs],
/// written as `y + 1 b` with a column of ones, a matmul with an inner dimension of 1 (exact:
/// every product is 1 · b). The result equals `y.broadcast_add(b)`, but the bias gradient
/// becomes the matmul `1ᵀ g` instead of candle's strided sum over the batch dimension, which
/// on the CPU took twice as long as the layer's whole weight matmul.
pub fn add_bias(y: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let dims = y.dims();
    let rank = dims.len();
    if rank < 2 || bias.rank() + 1 != rank {
        return Ok(y.broadcast_add(bias)?);
    }
    let mut ones_shape = dims.to_vec();
    ones_shape[rank - 1] = 1;
    let ones = Tensor::ones(ones_shape, y.dtype(), y.device())?;
    Ok((y + ones.matmul(&bias.unsqueeze(rank - 2)?)?)?)
}

/// An activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// max(0.01 x, x).
    LeakyRelu,
    /// x for x > 0, exp(x) - 1 otherwise.
    Elu,
    /// Scaled ELU (self-normalising networks).
    Selu,
    /// tanh(x).
    Tanh,
}

impl Activation {
    /// Every activation's name, as options spell them.
    pub const NAMES: [&'static str; 5] = ["relu", "leaky_relu", "elu", "selu", "tanh"];

    /// The activation called `name`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "relu" => Ok(Self::Relu),
            "leaky_relu" => Ok(Self::LeakyRelu),
            "elu" => Ok(Self::Elu),
            "selu" => Ok(Self::Selu),
            "tanh" => Ok(Self::Tanh),
            other => Err(Error::invalid(
                "activation",
                format!("'{other}': use one of {}", Self::NAMES.join(", ")),
            )),
        }
    }

    /// The activation applied elementwise.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
        const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
        Ok(match self {
            Self::Relu => x.relu()?,
            Self::LeakyRelu => x.maximum(&x.affine(0.01, 0.0)?)?,
            Self::Elu => x.elu(1.0)?,
            Self::Selu => x.elu(SELU_ALPHA)?.affine(SELU_SCALE, 0.0)?,
            Self::Tanh => x.tanh()?,
        })
    }
}

/// Inverted dropout: during training each element is zeroed with probability `rate` and the
/// rest scaled by 1/(1 - rate); the identity otherwise. Masks come from the step's seeded
/// generator.
pub fn dropout(x: &Tensor, rate: f64, step: &mut Step) -> Result<Tensor> {
    if !step.training || rate <= 0.0 {
        return Ok(x.clone());
    }
    let keep = 1.0 - rate;
    let n = x.elem_count();
    let mask: Vec<f32> = (0..n)
        .map(|_| {
            if step.rng.random::<f64>() < keep {
                (1.0 / keep) as f32
            } else {
                0.0
            }
        })
        .collect();
    let mask = Tensor::from_vec(mask, x.shape(), x.device())?;
    Ok(x.mul(&mask)?)
}

/// The logistic function, computed stably for large |x|.
pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    Ok(candle_nn::ops::sigmoid(x)?)
}

/// A [batch, 1] tensor as [batch]; other shapes unchanged.
pub fn squeeze_last(x: &Tensor) -> Result<Tensor> {
    if x.rank() == 2 && x.dim(D::Minus1)? == 1 {
        Ok(x.squeeze(D::Minus1)?)
    } else {
        Ok(x.clone())
    }
}

/// `values` (row-major, `cols` per row) as an f32 tensor [rows, cols] on `device`.
pub fn matrix(values: Vec<f32>, cols: usize, device: &candle_core::Device) -> Result<Tensor> {
    if cols == 0 || values.len() % cols != 0 {
        return Err(Error::invalid(
            "matrix",
            format!("{} values do not fill rows of {cols}", values.len()),
        ));
    }
    let rows = values.len() / cols;
    Ok(Tensor::from_vec(values, (rows, cols), device)?.to_dtype(DType::F32)?)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn activations_match_their_definitions() {
        let x = Tensor::new(&[-2.0f32, -0.5, 0.0, 1.5], &Device::Cpu).unwrap();
        let v = |a: Activation| a.apply(&x).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(v(Activation::Relu), [0.0, 0.0, 0.0, 1.5]);
        assert_eq!(v(Activation::LeakyRelu), [-0.02, -0.005, 0.0, 1.5]);
        let elu = v(Activation::Elu);
        assert!((elu[0] - ((-2.0f32).exp() - 1.0)).abs() < 1e-6 && elu[3] == 1.5);
        let selu = v(Activation::Selu);
        assert!((selu[3] - 1.5 * 1.050_701).abs() < 1e-5);
        assert!((v(Activation::Tanh)[3] - 1.5f32.tanh()).abs() < 1e-6);
        assert!(
            Activation::parse("gelu")
                .unwrap_err()
                .to_string()
                .contains("leaky_relu")
        );
    }

    #[test]
    fn dense_layers_and_dropout() {
        let mut params = Params::new(&Device::Cpu, 1);
        let layer = Dense::new(&mut params, "l", 3, 2).unwrap();
        let x = Tensor::ones((4, 3), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(layer.forward(&x).unwrap().dims(), [4, 2]);
        let mut rng = <rand_xoshiro::Xoshiro256PlusPlus as rand_xoshiro::rand_core::SeedableRng>::seed_from_u64(1);
        let big = Tensor::ones((1000, 10), DType::F32, &Device::Cpu).unwrap();
        let mut step = Step {
            training: true,
            rng: &mut rng,
        };
        let dropped = dropout(&big, 0.5, &mut step).unwrap();
        let mean = dropped.mean_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(
            (mean - 1.0).abs() < 0.05,
            "inverted dropout keeps the mean: {mean}"
        );
        let mut eval = Step {
            training: false,
            rng: &mut rng,
        };
        assert_eq!(
            dropout(&big, 0.5, &mut eval)
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap(),
            10_000.0
        );
    }
}
