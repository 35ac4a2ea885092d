//! Deep SVDD (Ruff et al. 2018, as used in *Rare and Different*, Caron et al. 2021): a bias-free dense
//! network trained to map every training event onto a fixed target point c; the distance of
//! an event's output to c is its anomaly score.
//!
//! The target is not trained. Set it before training, either from the data with
//! [`DeepSvdd::set_target_from`] (the mean output of the untrained network, as in Ruff et al.)
//! or to a chosen point with [`DeepSvdd::set_target`] (Caron et al. 2021's constant vectors O_n^d);
//! [`Trainable::loss`] is an error until then. The target is a fixed tensor of the network's
//! [`Params`] named [`TARGET_PARAM`]: checkpoints keep it, optimizers never see it.

use candle_core::{D, DType, Device, Tensor};

use super::layers::Activation;
use super::model::{Batch, Step, Trainable};
use super::params::Params;
use crate::error::{Error, Result};

/// The name under which the (untrained) target c is stored with the parameters.
pub const TARGET_PARAM: &str = "svdd.target";

/// Target coordinates closer to 0 than this are pushed out to ±`TARGET_EPS` when the target is
/// taken from data (Ruff et al.'s guard against the trivial all-zero solution of a bias-free
/// network).
pub const TARGET_EPS: f64 = 0.1;

/// The shape of a [`DeepSvdd`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SvddConfig {
    /// Input features.
    pub inputs: usize,
    /// Hidden widths ([512, 256, 128], Caron et al. 2021).
    pub hidden: Vec<usize>,
    /// Activation after each hidden layer (elu, Caron et al. 2021).
    pub activation: Activation,
    /// Output dimension d (32).
    pub out_dim: usize,
}

impl SvddConfig {
    /// The defaults for `inputs` features: hidden [512, 256, 128], ELU, 32 outputs.
    pub fn new(inputs: usize) -> Self {
        Self {
            inputs,
            hidden: vec![512, 256, 128],
            activation: Activation::Elu,
            out_dim: 32,
        }
    }

    fn check(&self) -> Result<()> {
        super::layers::check_depth("deep_svdd", self.hidden.len())?;
        if self.inputs == 0 || self.out_dim == 0 || self.hidden.contains(&0) {
            return Err(Error::invalid(
                "deep_svdd",
                "inputs, out_dim and every hidden width must be at least 1",
            ));
        }
        Ok(())
    }
}

/// A dense layer without bias, y = x Wᵀ (Deep SVDD needs no biases: with them the network
/// could map everything onto c by ignoring its inputs). W is stored [outputs, inputs], as a
/// PyTorch `nn.Linear(inputs, outputs, bias=False)` stores it.
#[derive(Clone, Debug)]
pub struct BiasFreeDense {
    /// [outputs, inputs].
    weight: Tensor,
}

impl BiasFreeDense {
    /// A layer `inputs` -> `outputs` with the weight `{name}.weight`, uniform in
    /// ±1/sqrt(inputs).
    pub fn new(params: &mut Params, name: &str, inputs: usize, outputs: usize) -> Result<Self> {
        let bound = 1.0 / (inputs.max(1) as f64).sqrt();
        Ok(Self {
            weight: params.uniform_transposed(&format!("{name}.weight"), inputs, outputs, bound)?,
        })
    }

    /// x Wᵀ for x of shape [batch, inputs] (any strides: a GPU's matrix product takes
    /// contiguous inputs only, so a column slice is copied first there).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.contiguous()?
            .matmul(&super::layers::inputs_by_outputs(&self.weight)?)?)
    }
}

/// A Deep SVDD network: bias-free dense layers and a fixed target point c.
#[derive(Clone, Debug)]
pub struct DeepSvdd {
    config: SvddConfig,
    layers: Vec<BiasFreeDense>,
    /// The target c [out_dim]; NaN until set.
    target: candle_core::Var,
    params: Params,
}

impl DeepSvdd {
    /// A freshly initialised network on `device`, weights from `seed`, with no target yet.
    pub fn new(config: SvddConfig, device: &Device, seed: u64) -> Result<Self> {
        config.check()?;
        let mut params = Params::new(device, seed);
        let widths: Vec<usize> = std::iter::once(config.inputs)
            .chain(config.hidden.iter().copied())
            .chain([config.out_dim])
            .collect();
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| BiasFreeDense::new(&mut params, &format!("layer{i}"), w[0], w[1]))
            .collect::<Result<Vec<_>>>()?;
        let target = params.fixed(TARGET_PARAM, &[config.out_dim], f64::NAN)?;
        Ok(Self {
            config,
            layers,
            target,
            params,
        })
    }

    /// The network's shape.
    pub fn config(&self) -> &SvddConfig {
        &self.config
    }

    /// The network's outputs [events, out_dim] for inputs [events, inputs].
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.rank() != 2 || x.dims()[1] != self.config.inputs {
            return Err(Error::invalid(
                "inputs",
                format!(
                    "the Deep SVDD network takes [events, {}], got {:?}",
                    self.config.inputs,
                    x.dims()
                ),
            ));
        }
        let last = self.layers.len() - 1;
        let mut h = x.to_dtype(DType::F32)?;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&h)?;
            if i < last {
                h = self.config.activation.apply(&h)?;
            }
        }
        Ok(h)
    }

    /// The target c, or `None` before it was set.
    pub fn target(&self) -> Result<Option<Vec<f32>>> {
        let c: Vec<f32> = self.target.to_device(&Device::Cpu)?.to_vec1()?;
        Ok(if c.iter().any(|v| v.is_nan()) {
            None
        } else {
            Some(c)
        })
    }

    /// Sets the target to `c` (out_dim finite numbers), e.g. Caron et al. 2021's constant vectors.
    pub fn set_target(&self, c: &[f32]) -> Result<()> {
        if c.len() != self.config.out_dim || c.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "target",
                format!(
                    "give {} finite numbers, one per output; got {} values",
                    self.config.out_dim,
                    c.len()
                ),
            ));
        }
        let t = Tensor::from_slice(c, c.len(), self.target.device())?;
        self.target.set(&t)?;
        Ok(())
    }

    /// Sets the target to the mean output of the network over `x` [events, inputs] (call it
    /// on the training data before training, with the initial weights). Coordinates within
    /// [`TARGET_EPS`] of 0 are moved to ±`TARGET_EPS`.
    pub fn set_target_from(&self, x: &Tensor) -> Result<()> {
        let n = x.dims().first().copied().unwrap_or(0);
        if n == 0 {
            return Err(Error::invalid(
                "target",
                "there are no events to compute the target from",
            ));
        }
        let mut sum = vec![0f64; self.config.out_dim];
        for start in (0..n).step_by(65_536) {
            let chunk = x.narrow(0, start, 65_536.min(n - start))?;
            let s: Vec<f32> = self.forward(&chunk)?.sum(0)?.to_vec1()?;
            for (a, b) in sum.iter_mut().zip(s) {
                *a += f64::from(b);
            }
        }
        let c: Vec<f32> = sum
            .iter()
            .map(|s| {
                let m = s / n as f64;
                let m = if m.abs() < TARGET_EPS {
                    if m < 0.0 { -TARGET_EPS } else { TARGET_EPS }
                } else {
                    m
                };
                m as f32
            })
            .collect();
        self.set_target(&c)
    }

    /// The squared distance ‖f(x) - c‖² of every event [events]; an error before the target
    /// is set. No gradient reaches c.
    pub fn squared_distance(&self, x: &Tensor) -> Result<Tensor> {
        if self.target()?.is_none() {
            return Err(Error::invalid(
                "target",
                "the Deep SVDD target is not set: call set_target_from(training inputs) (or set_target) before training or scoring",
            ));
        }
        let out = self.forward(x)?;
        Ok(out
            .broadcast_sub(&self.target.as_tensor().detach())?
            .sqr()?
            .sum(D::Minus1)?)
    }

    /// The anomaly score of every event, the distance ‖f(x) - c‖ [events].
    pub fn score(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.squared_distance(x)?.sqrt()?)
    }
}

impl Trainable for DeepSvdd {
    fn params(&self) -> &Params {
        &self.params
    }

    /// The squared distance to the target; an error until the target is set
    /// ([`DeepSvdd::set_target_from`] before `fit`).
    fn loss(&self, batch: &Batch, _step: &mut Step) -> Result<Tensor> {
        self.squared_distance(&batch.x)
    }
}

#[cfg(test)]
mod tests {
    use rand_distr::{Distribution, StandardNormal};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;

    use super::*;
    use crate::nn::layers::matrix;
    use crate::nn::train::{Dataset, TrainOptions, fit};

    /// Correlated Gaussian points in 4D, shifted by `shift` in every coordinate.
    fn gauss(n: usize, shift: f32, seed: u64) -> Tensor {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut v = Vec::with_capacity(4 * n);
        for _ in 0..n {
            let a: f32 = StandardNormal.sample(&mut rng);
            let b: f32 = StandardNormal.sample(&mut rng);
            v.extend([a + shift, b + shift, 0.5 * (a + b) + shift, a - b + shift]);
        }
        matrix(v, 4, &Device::Cpu).unwrap()
    }

    fn small(seed: u64) -> DeepSvdd {
        let config = SvddConfig {
            hidden: vec![64, 32],
            out_dim: 8,
            ..SvddConfig::new(4)
        };
        DeepSvdd::new(config, &Device::Cpu, seed).unwrap()
    }

    fn mean(t: &Tensor) -> f64 {
        t.mean_all().unwrap().to_scalar::<f32>().unwrap() as f64
    }

    #[test]
    fn distances_shrink_the_target_stays_and_anomalies_score_higher() {
        let x = gauss(2000, 0.0, 1);
        let svdd = small(2);
        let data = Dataset::unlabelled(x.clone());
        let opts = TrainOptions {
            epochs: 10,
            batch_size: 128,
            lr: 1e-3,
            seed: 3,
            ..Default::default()
        };
        let err = fit(&svdd, &data, &opts, None).unwrap_err().to_string();
        assert!(err.contains("set_target_from"), "{err}");
        svdd.set_target_from(&x).unwrap();
        let c = svdd.target().unwrap().unwrap();
        assert!(c.iter().all(|v| v.abs() >= TARGET_EPS as f32 - 1e-7));
        let before = mean(&svdd.squared_distance(&x).unwrap());
        let history = fit(&svdd, &data, &opts, None).unwrap();
        let after = mean(&svdd.squared_distance(&x).unwrap());
        assert!(after < 0.5 * before, "{before} -> {after}\n{history}");
        assert_eq!(
            svdd.target().unwrap().unwrap(),
            c,
            "the target is not trained"
        );
        let normal = svdd.score(&gauss(500, 0.0, 4)).unwrap();
        let shifted = svdd.score(&gauss(500, 3.0, 5)).unwrap();
        let mut scores: Vec<f64> = Vec::new();
        let mut labels = Vec::new();
        for (t, label) in [(normal, 0.0), (shifted, 1.0)] {
            for s in t.to_vec1::<f32>().unwrap() {
                scores.push(f64::from(s));
                labels.push(label);
            }
        }
        let auc = crate::stats::metrics::roc(&scores, &labels, None)
            .unwrap()
            .auc();
        assert!(auc > 0.9, "AUC {auc}");
    }

    #[test]
    fn targets_are_checked_and_seeds_reproduce() {
        let svdd = small(6);
        assert!(svdd.target().unwrap().is_none());
        assert!(svdd.score(&gauss(3, 0.0, 1)).is_err());
        assert!(svdd.set_target(&[1.0; 3]).is_err());
        assert!(svdd.set_target(&[f32::NAN; 8]).is_err());
        svdd.set_target(&[2.0; 8]).unwrap();
        let clone = svdd.clone();
        assert_eq!(clone.target().unwrap().unwrap(), vec![2.0; 8]);
        assert!(
            svdd.forward(&gauss(3, 0.0, 1).narrow(1, 0, 2).unwrap())
                .is_err()
        );
        let empty = Tensor::zeros((0, 4), DType::F32, &Device::Cpu).unwrap();
        assert!(small(6).set_target_from(&empty).is_err());
        let a = small(7);
        let b = small(7);
        let x = gauss(10, 0.0, 8);
        assert_eq!(
            a.forward(&x).unwrap().to_vec2::<f32>().unwrap(),
            b.forward(&x).unwrap().to_vec2::<f32>().unwrap()
        );
        // The network has no biases: the origin maps onto the origin.
        let zero = Tensor::zeros((1, 4), DType::F32, &Device::Cpu).unwrap();
        assert!(
            a.forward(&zero)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .all(|v| *v == 0.0)
        );
        assert!(
            DeepSvdd::new(
                SvddConfig {
                    out_dim: 0,
                    ..SvddConfig::new(2)
                },
                &Device::Cpu,
                0
            )
            .is_err()
        );
    }
}
