//! Building blocks: dense layers, activations and dropout.

use candle_core::{D, DType, Tensor};
use rand::RngExt;

use super::model::Step;
use super::params::Params;
use crate::error::{Error, Result};

/// A fully connected layer y = x Wᵀ + b, initialised as PyTorch's `nn.Linear`
/// (uniform in ±1/sqrt(inputs)). Its weight W is stored [outputs, inputs], as in PyTorch and
/// candle-nn, so a `Linear` layer's `weight` and `bias` load unchanged.
#[derive(Clone, Debug)]
pub struct Dense {
    /// [outputs, inputs].
    weight: Tensor,
    /// [outputs].
    bias: Tensor,
}

impl Dense {
    /// A layer `inputs` -> `outputs` whose parameters are named `{name}.weight`/`{name}.bias`.
    pub fn new(params: &mut Params, name: &str, inputs: usize, outputs: usize) -> Result<Self> {
        let bound = 1.0 / (inputs.max(1) as f64).sqrt();
        Ok(Self {
            weight: params.uniform_transposed(&format!("{name}.weight"), inputs, outputs, bound)?,
            bias: params.uniform(&format!("{name}.bias"), &[outputs], bound)?,
        })
    }

    /// x Wᵀ + b for x of shape [batch, inputs] (any strides: a GPU's matrix product takes
    /// contiguous inputs only, so a column slice is copied first there).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        add_bias(
            &x.contiguous()?.matmul(&inputs_by_outputs(&self.weight)?)?,
            &self.bias,
        )
    }

    /// One layer per consecutive pair of `widths` (`widths[i]` -> `widths[i + 1]`), named
    /// `{prefix}0`, `{prefix}1`, …: the dense stack of an MLP, an encoder or a decoder.
    pub fn stack(params: &mut Params, prefix: &str, widths: &[usize]) -> Result<Vec<Self>> {
        widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| Self::new(params, &format!("{prefix}{i}"), w[0], w[1]))
            .collect()
    }
}

/// A weight [outputs, inputs] as a contiguous [inputs, outputs] copy, the right-hand side of
/// x Wᵀ. The copy (as many numbers as the weight, small beside the product with a batch)
/// keeps the product exactly what it was when weights were stored [inputs, outputs]: gemm
/// reading a transposed view takes another kernel path that can round the last bit
/// differently, and a seed must give the same network and the same numbers as before.
pub(crate) fn inputs_by_outputs(weight: &Tensor) -> Result<Tensor> {
    Ok(weight.t()?.contiguous()?)
}

/// Matrix products with at most this many multiply-adds per matrix run on one thread.
const SMALL_PRODUCT: usize = 1 << 24;

/// The weights and biases of dense layers through `widths` (in f64: absurd widths must not
/// overflow).
pub fn dense_parameters(widths: impl IntoIterator<Item = usize>) -> f64 {
    let widths: Vec<f64> = widths.into_iter().map(|w| w as f64).collect();
    widths.windows(2).map(|w| (w[0] + 1.0) * w[1]).sum()
}

/// The most hidden layers a network may have (and layers a flow): far beyond any network of
/// the papers (at most 10), and short enough that building, training and back-propagating
/// through it stay fast and within the stacks of the threads that do it.
pub const MAX_LAYERS: usize = 256;

/// Fails when `layers` (of `what`) exceeds [`MAX_LAYERS`].
pub(crate) fn check_depth(what: &str, layers: usize) -> Result<()> {
    if layers > MAX_LAYERS {
        return Err(Error::invalid(
            what,
            format!("{layers} layers; at most {MAX_LAYERS} are supported"),
        ));
    }
    Ok(())
}

/// Stack of the one-thread pool: back-propagation walks the graph recursively, so a deep
/// network needs more than rayon's default 2 MiB.
const POOL_STACK: usize = 64 << 20;

/// Runs `f` (CPU tensor work of about `work` multiply-adds per matrix product) on a dedicated
/// one-thread rayon pool when the work is small, else where it is called. Handing work to the
/// pool costs a thread wake-up, so callers wrap whole passes, not single products.
///
/// candle's CPU matmul (gemm) splits every product over all rayon threads. For the small
/// products of a 64-wide MLP on a batch of 512 (2 M multiply-adds) the wake-ups and waits cost
/// more than they save: an epoch of the benchmark network took 0.49 s on one thread and
/// 0.70 s on two. Inside the one-thread pool gemm runs serially, and the rest of the program
/// keeps the global pool. Only CPU work moves (GPU work stays on its thread).
pub(crate) fn on_one_thread<R: Send>(
    device: &candle_core::Device,
    work: usize,
    f: impl FnOnce() -> R + Send,
) -> R {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .stack_size(POOL_STACK)
            .build()
            .ok()
    });
    match pool {
        Some(pool)
            if device.is_cpu() && work <= SMALL_PRODUCT && rayon::current_num_threads() > 1 =>
        {
            pool.install(f)
        }
        _ => f(),
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

    /// The name `parse` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::LeakyRelu => "leaky_relu",
            Self::Elu => "elu",
            Self::Selu => "selu",
            Self::Tanh => "tanh",
        }
    }

    /// The activation applied elementwise.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
        const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
        Ok(match self {
            Self::Relu => relu(x)?,
            Self::LeakyRelu => x.maximum(&x.affine(0.01, 0.0)?)?,
            Self::Elu => x.elu(1.0)?,
            Self::Selu => x.elu(SELU_ALPHA)?.affine(SELU_SCALE, 0.0)?,
            Self::Tanh => x.tanh()?,
        })
    }
}

/// max(0, x). On the CPU a custom op whose backward is one pass over the gradient (candle's
/// own ReLU backward builds a comparison mask, converts it and multiplies, and its comparison
/// has no vectorised kernel: it took about a seventh of a training step); elsewhere candle's.
/// Same values and gradients as `x.relu()` (gradient passed where x >= 0).
pub fn relu(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        Ok(x.contiguous()?.apply_op1(CpuRelu)?)
    } else {
        Ok(x.relu()?)
    }
}

/// The f32 values of a contiguous CPU tensor's storage.
fn f32_values<'a>(
    storage: &'a candle_core::CpuStorage,
    layout: &candle_core::Layout,
) -> candle_core::Result<&'a [f32]> {
    let values = storage.as_slice::<f32>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&values[start..end]),
        None => candle_core::bail!("bumplab's ReLU takes contiguous tensors"),
    }
}

/// ReLU on f32 CPU tensors, with [`CpuReluGrad`] as its backward.
struct CpuRelu;

impl candle_core::CustomOp1 for CpuRelu {
    fn name(&self) -> &'static str {
        "bumplab-relu"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let x = f32_values(storage, layout)?;
        let y: Vec<f32> = x.iter().map(|&v| v.max(0.0)).collect();
        Ok((candle_core::CpuStorage::F32(y), layout.shape().clone()))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(
            grad_res.contiguous()?.apply_op2_no_bwd(arg, &CpuReluGrad)?,
        ))
    }
}

/// The gradient of ReLU: `grad` where the input is >= 0, else 0 (as candle's ReLU backward).
struct CpuReluGrad;

impl candle_core::CustomOp2 for CpuReluGrad {
    fn name(&self) -> &'static str {
        "bumplab-relu-grad"
    }

    fn cpu_fwd(
        &self,
        grad: &candle_core::CpuStorage,
        grad_layout: &candle_core::Layout,
        x: &candle_core::CpuStorage,
        x_layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let (g, x) = (f32_values(grad, grad_layout)?, f32_values(x, x_layout)?);
        let out: Vec<f32> = g
            .iter()
            .zip(x.iter())
            .map(|(&g, &x)| if x >= 0.0 { g } else { 0.0 })
            .collect();
        Ok((
            candle_core::CpuStorage::F32(out),
            grad_layout.shape().clone(),
        ))
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
    if cols == 0 || !values.len().is_multiple_of(cols) {
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
        // The CPU ReLU's gradient equals candle's.
        let var = candle_core::Var::from_tensor(&x).unwrap();
        let ours = relu(var.as_tensor())
            .unwrap()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap();
        let theirs = var
            .as_tensor()
            .relu()
            .unwrap()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap();
        let grad = |l: &Tensor| {
            l.backward()
                .unwrap()
                .get(var.as_tensor())
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        assert_eq!(grad(&ours), grad(&theirs));
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
        // The weight is [outputs, inputs], drawn as the [inputs, outputs] of earlier versions
        // (same seed, same network), and the layer gives the numbers of the former product
        // with [inputs, outputs] weights to the bit (gemm through a transposed view did not,
        // at 3 inputs).
        for (inputs, outputs, rows) in [(3, 2, 2), (64, 48, 37)] {
            let mut params = Params::new(&Device::Cpu, 1);
            let layer = Dense::new(&mut params, "l", inputs, outputs).unwrap();
            let mut old = Params::new(&Device::Cpu, 1);
            let bound = 1.0 / (inputs as f64).sqrt();
            let drawn = old.uniform("l.weight", &[inputs, outputs], bound).unwrap();
            let weight = params.to_map()["l.weight"].clone();
            assert_eq!(weight.dims(), [outputs, inputs]);
            assert_eq!(
                weight.t().unwrap().to_vec2::<f32>().unwrap(),
                drawn.to_vec2::<f32>().unwrap()
            );
            let x = old.uniform("x", &[rows, inputs], 3.0).unwrap();
            let bias = params.to_map()["l.bias"].clone();
            assert_eq!(
                layer.forward(&x).unwrap().to_vec2::<f32>().unwrap(),
                add_bias(&x.matmul(&drawn).unwrap(), &bias)
                    .unwrap()
                    .to_vec2::<f32>()
                    .unwrap()
            );
        }
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
