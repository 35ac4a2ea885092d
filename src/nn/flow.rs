//! The (conditional) masked autoregressive flow with rational-quadratic spline transforms of
//! Caron et al. 2021 (*Rare and Different*, sec. III) and the density estimator of ANODE (LHC Olympics 2020,
//! sec. 3.2): `layers` autoregressive transforms, each a [`Made`] network giving the
//! parameters of one [`RqSpline`] per dimension, with the dimension order reversed between
//! layers, on a standard normal base density.
//!
//! The flow maps data x to noise z = f(x); the density is
//! log p(x | c) = log N(f(x); 0, 1) + log|det ∂f/∂x|, evaluated in one pass. Sampling inverts
//! each layer dimension by dimension (one network pass per dimension and layer).

use candle_core::{D, DType, Device, Tensor};
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use super::layers::Activation;
use super::made::Made;
use super::model::{Batch, Step, Trainable};
use super::params::Params;
use super::spline::RqSpline;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;

/// Rows per inverse pass when sampling: bounds the memory of the spline parameters and hidden
/// activations however many samples are asked for.
const SAMPLE_CHUNK: usize = 16_384;

/// Masked hidden layers in each MADE.
const MADE_HIDDEN_LAYERS: usize = 2;

/// The shape of a [`Flow`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FlowConfig {
    /// Dimensions of the modelled data.
    pub inputs: usize,
    /// Conditioning inputs (0: an unconditional density).
    pub context: usize,
    /// Autoregressive transforms (5).
    pub layers: usize,
    /// Units in each of the two masked hidden layers of every MADE (64).
    pub hidden: usize,
    /// Spline bins per dimension (8).
    pub knots: usize,
    /// The splines act on [-bound, bound] and are the identity outside (4.0): standardise
    /// the inputs so that they mostly fall inside.
    pub bound: f64,
    /// Activation of the hidden units (relu).
    pub activation: Activation,
}

impl FlowConfig {
    /// The defaults for `inputs` dimensions and `context` conditioning inputs: 5 layers of
    /// 64 hidden units, 8 knots on [-4, 4], ReLU.
    pub fn new(inputs: usize, context: usize) -> Self {
        Self {
            inputs,
            context,
            layers: 5,
            hidden: 64,
            knots: 8,
            bound: 4.0,
            activation: Activation::Relu,
        }
    }

    fn check(&self) -> Result<()> {
        super::layers::check_depth("flow", self.layers)?;
        if self.inputs == 0 || self.layers == 0 || self.hidden == 0 {
            return Err(Error::invalid(
                "flow",
                "inputs, layers and hidden must be at least 1",
            ));
        }
        RqSpline::new(self.knots, self.bound)?;
        Ok(())
    }
}

/// A conditional masked autoregressive flow with rational-quadratic spline transforms.
#[derive(Clone, Debug)]
pub struct Flow {
    config: FlowConfig,
    spline: RqSpline,
    mades: Vec<Made>,
    /// The index that reverses the dimension order.
    reverse: Tensor,
    params: Params,
}

impl Flow {
    /// A freshly initialised flow on `device`, its weights drawn from `seed`.
    pub fn new(config: FlowConfig, device: &Device, seed: u64) -> Result<Self> {
        config.check()?;
        let spline = RqSpline::new(config.knots, config.bound)?;
        let per_made = Made::connections(
            config.inputs,
            config.context,
            config.hidden,
            MADE_HIDDEN_LAYERS,
            spline.params_per_dim(),
        );
        crate::memory::check(
            &format!("flow of {} layers", config.layers),
            config.layers as f64 * per_made * 8.0,
        )?;
        let mut params = Params::new(device, seed);
        let mades = (0..config.layers)
            .map(|l| {
                Made::new(
                    &mut params,
                    &format!("layer{l}"),
                    config.inputs,
                    config.context,
                    config.hidden,
                    MADE_HIDDEN_LAYERS,
                    spline.params_per_dim(),
                    config.activation,
                )
            })
            .collect::<Result<_>>()?;
        let reverse: Vec<u32> = (0..config.inputs as u32).rev().collect();
        Ok(Self {
            reverse: Tensor::from_vec(reverse, config.inputs, device)?,
            config,
            spline,
            mades,
            params,
        })
    }

    /// The flow's shape.
    pub fn config(&self) -> &FlowConfig {
        &self.config
    }

    /// The spline parameters of layer `l` for its input `h`: widths and heights scaled by
    /// 1/sqrt(hidden) as nflows does, so a fresh flow starts close to uniform bins.
    fn spline_params(&self, l: usize, h: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let raw = self.mades[l].forward(h, context)?;
        let k = self.config.knots;
        let scale = 1.0 / (self.config.hidden as f64).sqrt();
        let sizes = raw.narrow(D::Minus1, 0, 2 * k)?.affine(scale, 0.0)?;
        let derivatives = raw.narrow(D::Minus1, 2 * k, k - 1)?;
        Ok(Tensor::cat(&[&sizes, &derivatives], D::Minus1)?)
    }

    /// Checks `x` [batch, inputs] and `context`, returning them as f32.
    fn check_inputs(
        &self,
        x: &Tensor,
        context: Option<&Tensor>,
    ) -> Result<(Tensor, Option<Tensor>)> {
        if x.rank() != 2 || x.dims()[1] != self.config.inputs {
            return Err(Error::invalid(
                "inputs",
                format!(
                    "the flow takes [events, {}], got {:?}",
                    self.config.inputs,
                    x.dims()
                ),
            ));
        }
        let context = match (self.config.context, context) {
            (0, None) => None,
            (0, Some(_)) => {
                return Err(Error::invalid(
                    "context",
                    "this flow is unconditional; it takes no context",
                ));
            }
            (c, None) => {
                return Err(Error::invalid(
                    "context",
                    format!("this flow is conditional on {c} context values; none were given"),
                ));
            }
            (_, Some(c)) => Some(c.to_dtype(DType::F32)?),
        };
        Ok((x.to_dtype(DType::F32)?, context))
    }

    /// The noise z = f(x) [batch, inputs] and log|det ∂f/∂x| [batch] for data `x`
    /// [batch, inputs] and, for a conditional flow, `context` [batch, context].
    pub fn transform(&self, x: &Tensor, context: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (mut h, context) = self.check_inputs(x, context)?;
        let mut logdet: Option<Tensor> = None;
        let last = self.mades.len() - 1;
        for l in 0..self.mades.len() {
            let p = self.spline_params(l, &h, context.as_ref())?;
            let (y, ld) = self.spline.forward(&h, &p)?;
            let ld = ld.sum(D::Minus1)?;
            logdet = Some(match logdet {
                None => ld,
                Some(t) => (t + ld)?,
            });
            h = if l < last {
                y.index_select(&self.reverse, 1)?
            } else {
                y
            };
        }
        let logdet = logdet.ok_or_else(|| Error::invalid("flow", "the flow has no layers"))?;
        Ok((h, logdet))
    }

    /// x = f⁻¹(z) and log|det ∂f⁻¹/∂z| [batch] (dimension by dimension in each layer).
    pub fn inverse(&self, z: &Tensor, context: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (mut h, context) = self.check_inputs(z, context)?;
        let mut logdet = Tensor::zeros(h.dims()[0], DType::F32, h.device())?;
        let last = self.mades.len() - 1;
        for l in (0..self.mades.len()).rev() {
            let y = if l < last {
                h.index_select(&self.reverse, 1)?
            } else {
                h
            };
            // After pass i the first i + 1 dimensions are exact; `inputs` passes finish.
            let mut x = y.zeros_like()?;
            let mut ld = None;
            for _ in 0..self.config.inputs {
                let p = self.spline_params(l, &x, context.as_ref())?;
                let (next, next_ld) = self.spline.inverse(&y, &p)?;
                x = next.detach();
                ld = Some(next_ld);
            }
            if let Some(ld) = ld {
                logdet = (logdet + ld.sum(D::Minus1)?)?;
            }
            h = x;
        }
        Ok((h, logdet.detach()))
    }

    /// log p(x | context) [batch] for data `x` [batch, inputs] and, for a conditional flow,
    /// `context` [batch, context] (or [1, context] for one context shared by all events).
    pub fn log_prob(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let (z, logdet) = self.transform(x, context)?;
        Ok((standard_normal_log_density(&z)? + logdet)?)
    }

    /// `n` events [n, inputs] drawn from the flow (given `context` [n, context] or
    /// [1, context] for a conditional flow), the base noise from `seed`. `interrupt` is
    /// polled between chunks of [`SAMPLE_CHUNK`] events.
    pub fn sample(
        &self,
        n: usize,
        context: Option<&Tensor>,
        seed: u64,
        interrupt: Option<&Interrupt>,
    ) -> Result<Tensor> {
        Ok(self.sample_with_log_prob(n, context, seed, interrupt)?.0)
    }

    /// Like [`Flow::sample`], also returning each sample's log density computed along the
    /// inverse pass (log N(z) - log|det ∂f⁻¹/∂z|).
    pub fn sample_with_log_prob(
        &self,
        n: usize,
        context: Option<&Tensor>,
        seed: u64,
        interrupt: Option<&Interrupt>,
    ) -> Result<(Tensor, Tensor)> {
        if n == 0 {
            return Err(Error::invalid("sample", "ask for at least one event"));
        }
        let d = self.config.inputs;
        // Noise, samples and densities; the inverse passes run in chunks of bounded size.
        crate::memory::check(
            &format!("{n} samples"),
            n as f64 * (2.0 * d as f64 + 1.0) * 4.0,
        )?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let noise: Vec<f32> = (0..n * d)
            .map(|_| rng.sample::<f64, _>(StandardNormal) as f32)
            .collect();
        let z = Tensor::from_vec(noise, (n, d), self.params.device())?;
        let (mut xs, mut log_probs) = (Vec::new(), Vec::new());
        for start in (0..n).step_by(SAMPLE_CHUNK) {
            if let Some(interrupt) = interrupt {
                interrupt.check()?;
            }
            let rows = SAMPLE_CHUNK.min(n - start);
            let z = z.narrow(0, start, rows)?;
            let context = context
                .map(|c| -> Result<Tensor> {
                    match c.dims() {
                        [1, k] => Ok(c.broadcast_as((rows, *k))?.contiguous()?),
                        _ => Ok(c.narrow(0, start, rows)?),
                    }
                })
                .transpose()?;
            let (x, logdet) = self.inverse(&z, context.as_ref())?;
            log_probs.push((standard_normal_log_density(&z)? - logdet)?);
            xs.push(x);
        }
        Ok((Tensor::cat(&xs, 0)?, Tensor::cat(&log_probs, 0)?))
    }
}

/// Σ_i log N(z_i; 0, 1) over the last dimension of `z` [batch, dims].
fn standard_normal_log_density(z: &Tensor) -> Result<Tensor> {
    let d = z.dims()[1] as f64;
    let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    Ok(z.sqr()?.sum(D::Minus1)?.affine(-0.5, -d * half_log_2pi)?)
}

impl Trainable for Flow {
    fn params(&self) -> &Params {
        &self.params
    }

    /// The negative log-likelihood of each event.
    fn loss(&self, batch: &Batch, _step: &mut Step) -> Result<Tensor> {
        Ok(self.log_prob(&batch.x, batch.context.as_ref())?.neg()?)
    }

    fn needs_targets(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::train::{Dataset, TrainOptions, Validation, fit};

    fn small(inputs: usize, context: usize, seed: u64) -> Flow {
        let config = FlowConfig {
            layers: 3,
            hidden: 16,
            knots: 6,
            bound: 3.0,
            ..FlowConfig::new(inputs, context)
        };
        Flow::new(config, &Device::Cpu, seed).unwrap()
    }

    fn rows(values: Vec<f32>, cols: usize) -> Tensor {
        let n = values.len() / cols;
        Tensor::from_vec(values, (n, cols), &Device::Cpu).unwrap()
    }

    fn vec1(t: &Tensor) -> Vec<f32> {
        t.to_vec1::<f32>().unwrap()
    }

    /// A freshly initialised flow with large random weights, so its density is far from the
    /// base normal: its integral over a box must still be ~1.
    fn perturbed(inputs: usize, seed: u64) -> Flow {
        let flow = small(inputs, 0, seed);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        for var in flow.params().vars() {
            let n = var.elem_count();
            let v: Vec<f32> = (0..n).map(|_| 2.0 * rng.random::<f32>() - 1.0).collect();
            var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap())
                .unwrap();
        }
        flow
    }

    #[test]
    fn the_density_integrates_to_one() {
        let flow = perturbed(2, 3);
        // Midpoint rule on [-8, 8]²; outside |x| > 3 the flow is the base normal in the
        // (reversed) coordinates, so the tails beyond 8 are negligible.
        let (lo, hi, n) = (-8.0f32, 8.0f32, 320);
        let h = (hi - lo) / n as f32;
        let mut grid = Vec::with_capacity(2 * n * n);
        for i in 0..n {
            for j in 0..n {
                grid.push(lo + (i as f32 + 0.5) * h);
                grid.push(lo + (j as f32 + 0.5) * h);
            }
        }
        let lp = flow.log_prob(&rows(grid, 2), None).unwrap();
        let total: f64 =
            vec1(&lp).iter().map(|&l| f64::from(l).exp()).sum::<f64>() * f64::from(h * h);
        assert!((total - 1.0).abs() < 5e-3, "integral {total}");
        // The density differs from the base normal: the test would pass trivially otherwise.
        let origin = flow.log_prob(&rows(vec![0.0, 0.0], 2), None).unwrap();
        let base = -(2.0 * std::f32::consts::PI).ln();
        assert!((vec1(&origin)[0] - base).abs() > 0.05);
    }

    #[test]
    fn log_det_matches_the_numerical_jacobian() {
        let flow = perturbed(3, 8);
        let points = [[0.3f32, -1.1, 2.2], [-2.5, 0.4, 0.0], [1.0, 3.5, -0.7]];
        let eps = 1e-3f32;
        for p in points {
            let (_, ld) = flow.transform(&rows(p.to_vec(), 3), None).unwrap();
            let mut jac = [[0f64; 3]; 3];
            for j in 0..3 {
                let mut plus = p;
                let mut minus = p;
                plus[j] += eps;
                minus[j] -= eps;
                let both = rows([plus, minus].concat(), 3);
                let z: Vec<Vec<f32>> = flow.transform(&both, None).unwrap().0.to_vec2().unwrap();
                for i in 0..3 {
                    jac[i][j] = f64::from(z[0][i] - z[1][i]) / (2.0 * f64::from(eps));
                }
            }
            let det = jac[0][0] * (jac[1][1] * jac[2][2] - jac[1][2] * jac[2][1])
                - jac[0][1] * (jac[1][0] * jac[2][2] - jac[1][2] * jac[2][0])
                + jac[0][2] * (jac[1][0] * jac[2][1] - jac[1][1] * jac[2][0]);
            let ld = f64::from(vec1(&ld)[0]);
            assert!(
                (det.abs().ln() - ld).abs() < 1e-2,
                "{p:?}: ln|det| {} vs {ld}",
                det.abs().ln()
            );
        }
    }

    #[test]
    fn samples_invert_and_their_log_density_agrees() {
        let flow = perturbed(3, 21);
        let (x, lp_inverse) = flow.sample_with_log_prob(200, None, 4, None).unwrap();
        let lp = flow.log_prob(&x, None).unwrap();
        for (a, b) in vec1(&lp).iter().zip(vec1(&lp_inverse)) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
        // Same seed, same samples; another seed, other samples.
        let again = flow.sample(200, None, 4, None).unwrap();
        assert_eq!(x.to_vec2::<f32>().unwrap(), again.to_vec2::<f32>().unwrap());
        let other = flow.sample(200, None, 5, None).unwrap();
        assert_ne!(x.to_vec2::<f32>().unwrap(), other.to_vec2::<f32>().unwrap());
        assert!(flow.sample(0, None, 1, None).is_err());
        assert!(flow.log_prob(&rows(vec![0.0, 1.0], 2), None).is_err());
    }

    #[test]
    fn same_seed_same_flow() {
        let x = rows(vec![0.5, -0.5, 1.5, 2.5], 2);
        let a = vec1(&small(2, 0, 9).log_prob(&x, None).unwrap());
        let b = vec1(&small(2, 0, 9).log_prob(&x, None).unwrap());
        let c = vec1(&small(2, 0, 10).log_prob(&x, None).unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// `n` draws of a correlated 2D Gaussian (σ = 1, ρ = 0.8) and their true log densities.
    fn correlated(n: usize, seed: u64) -> (Tensor, Vec<f64>) {
        let rho = 0.8f64;
        let s = (1.0 - rho * rho).sqrt();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut values = Vec::with_capacity(2 * n);
        let mut log_p = Vec::with_capacity(n);
        for _ in 0..n {
            let a: f64 = rng.sample(StandardNormal);
            let b: f64 = rng.sample(StandardNormal);
            let (x, y) = (a, rho * a + s * b);
            values.extend([x as f32, y as f32]);
            let q = (x * x - 2.0 * rho * x * y + y * y) / (1.0 - rho * rho);
            log_p.push(-0.5 * q - (2.0 * std::f64::consts::PI).ln() - s.ln());
        }
        (rows(values, 2), log_p)
    }

    #[test]
    fn training_learns_a_correlated_gaussian() {
        let started = std::time::Instant::now();
        let flow = small(2, 0, 1);
        let (x, _) = correlated(5000, 2);
        let data = Dataset {
            x,
            y: None,
            weights: None,
            context: None,
        };
        let opts = TrainOptions {
            epochs: 15,
            batch_size: 256,
            lr: 5e-3,
            validation: Validation::None,
            monitor: "loss".into(),
            seed: 3,
            ..Default::default()
        };
        fit(&flow, &data, &opts, None).unwrap();
        let (fresh, truth) = correlated(5000, 99);
        let model: f64 = vec1(&flow.log_prob(&fresh, None).unwrap())
            .iter()
            .map(|&v| f64::from(v))
            .sum::<f64>()
            / 5000.0;
        let exact: f64 = truth.iter().sum::<f64>() / 5000.0;
        eprintln!(
            "correlated Gaussian: model {model:.4}, truth {exact:.4} nats, {:.2} s",
            started.elapsed().as_secs_f64()
        );
        assert!(
            (model - exact).abs() < 0.1,
            "model {model} vs truth {exact}"
        );
    }

    #[test]
    fn a_conditional_flow_learns_a_context_dependent_mean() {
        let started = std::time::Instant::now();
        // x ~ N(c, 0.5) for c uniform in [-2, 2].
        let n = 5000;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
        let mut xs = Vec::with_capacity(n);
        let mut cs = Vec::with_capacity(n);
        for _ in 0..n {
            let c = 4.0 * rng.random::<f64>() - 2.0;
            let e: f64 = rng.sample(StandardNormal);
            cs.push(c as f32);
            xs.push((c + 0.5 * e) as f32);
        }
        let flow = small(1, 1, 2);
        let data = Dataset {
            x: rows(xs, 1),
            y: None,
            weights: None,
            context: Some(rows(cs, 1)),
        };
        let opts = TrainOptions {
            epochs: 30,
            batch_size: 256,
            lr: 5e-3,
            validation: Validation::None,
            monitor: "loss".into(),
            seed: 4,
            ..Default::default()
        };
        fit(&flow, &data, &opts, None).unwrap();
        for c in [-1.5f32, 0.0, 1.0] {
            let ctx = rows(vec![c], 1);
            let s: Vec<f32> = flow
                .sample(4000, Some(&ctx), 11, None)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let mean = s.iter().map(|&v| f64::from(v)).sum::<f64>() / s.len() as f64;
            let var = s
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / s.len() as f64;
            eprintln!("context {c}: mean {mean:.3}, sd {:.3}", var.sqrt());
            assert!(
                (mean - f64::from(c)).abs() < 0.08,
                "context {c}: mean {mean}"
            );
            assert!(
                (var.sqrt() - 0.5).abs() < 0.08,
                "context {c}: sd {}",
                var.sqrt()
            );
        }
        assert!(flow.log_prob(&rows(vec![0.0], 1), None).is_err());
        eprintln!("conditional flow: {:.2} s", started.elapsed().as_secs_f64());
    }
}
