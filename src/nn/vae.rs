//! The variational autoencoder of *Bump Hunting in Latent Space* (Bortolato et al. 2021): an encoder to a
//! Gaussian latent posterior (means and log-variances), a decoder back to the inputs,
//! optionally conditioned on extra inputs (e.g. the dijet mass), and the per-event KL
//! divergence to the unit-Gaussian prior as the anomaly score.
//!
//! The loss per event is `recon_weight * Σ_features (x - x̂)² + beta * KL`. The paper weights
//! the reconstruction by α = 5000 (here `recon_weight`, or equivalently `beta` = 1/α) and stops
//! training at the peak of the validation KL: train with [`crate::nn::train::fit`], monitor
//! `"val_kl"` and [`crate::nn::train::Goal::Maximise`] — [`Vae`] reports the metrics `"kl"`
//! and `"recon"` for that.

use candle_core::{DType, Device, Tensor};
use rand_distr::{Distribution, StandardNormal};

use super::layers::{Activation, Dense, dense_parameters};
use super::loss::{gaussian_kl, mse};
use super::model::{Batch, Step, Trainable};
use super::params::Params;
use crate::error::{Error, Result};

/// The shape and loss weights of a [`Vae`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VaeConfig {
    /// Input features (also the reconstructed outputs).
    pub inputs: usize,
    /// Latent dimensions (1, as in Bortolato et al. 2021).
    pub latent: usize,
    /// Hidden widths of the encoder ([64, 64, 64]); the decoder mirrors them.
    pub hidden: Vec<usize>,
    /// Activation after every hidden layer (selu, as in Bortolato et al. 2021).
    pub activation: Activation,
    /// Weight of the KL term (1).
    pub beta: f64,
    /// Weight of the reconstruction term (1; Bortolato et al. 2021 uses 5000).
    pub recon_weight: f64,
    /// Extra decoder inputs taken from [`Batch::context`] (0: an unconditional decoder).
    pub conditional_decoder_inputs: usize,
}

impl VaeConfig {
    /// The number of weights and biases: encoder, latent means and log-variances, decoder
    /// (in f64: absurd widths must not overflow).
    pub fn parameter_count(&self) -> f64 {
        let last = self.hidden.last().copied().unwrap_or(self.inputs);
        let encoder = std::iter::once(self.inputs).chain(self.hidden.iter().copied());
        let decoder = std::iter::once(self.latent + self.conditional_decoder_inputs)
            .chain(self.hidden.iter().rev().copied())
            .chain([self.inputs]);
        dense_parameters(encoder)
            + 2.0 * dense_parameters([last, self.latent])
            + dense_parameters(decoder)
    }

    /// The defaults for `inputs` features: one latent dimension, hidden [64, 64, 64], SELU,
    /// beta = recon_weight = 1, no conditional decoder inputs.
    pub fn new(inputs: usize) -> Self {
        Self {
            inputs,
            latent: 1,
            hidden: vec![64, 64, 64],
            activation: Activation::Selu,
            beta: 1.0,
            recon_weight: 1.0,
            conditional_decoder_inputs: 0,
        }
    }

    fn check(&self) -> Result<()> {
        super::layers::check_depth("vae", self.hidden.len())?;
        if self.inputs == 0 || self.latent == 0 || self.hidden.contains(&0) {
            return Err(Error::invalid(
                "vae",
                "inputs, latent and every hidden width must be at least 1",
            ));
        }
        for (name, v) in [("beta", self.beta), ("recon_weight", self.recon_weight)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(
                    name,
                    format!("must be a non-negative number, not {v}"),
                ));
            }
        }
        Ok(())
    }
}

/// A variational autoencoder with a Gaussian latent space and a (optionally conditional)
/// decoder. In training the latent point is sampled with the reparameterisation
/// z = μ + σ ε, ε drawn from the [`Step`]'s seeded generator; outside training (validation,
/// prediction) the decoder reads z = μ, so every per-event quantity is deterministic.
#[derive(Clone, Debug)]
pub struct Vae {
    config: VaeConfig,
    encoder: Vec<Dense>,
    mu: Dense,
    logvar: Dense,
    decoder: Vec<Dense>,
    params: Params,
}

impl Vae {
    /// A freshly initialised VAE on `device`, its weights drawn from `seed`.
    pub fn new(config: VaeConfig, device: &Device, seed: u64) -> Result<Self> {
        config.check()?;
        let mut params = Params::new(device, seed);
        let widths: Vec<usize> = std::iter::once(config.inputs)
            .chain(config.hidden.iter().copied())
            .collect();
        let encoder = Dense::stack(&mut params, "encoder", &widths)?;
        let last = *widths.last().unwrap_or(&config.inputs);
        let mu = Dense::new(&mut params, "mu", last, config.latent)?;
        let logvar = Dense::new(&mut params, "logvar", last, config.latent)?;
        let widths: Vec<usize> = std::iter::once(config.latent + config.conditional_decoder_inputs)
            .chain(config.hidden.iter().rev().copied())
            .chain([config.inputs])
            .collect();
        let decoder = Dense::stack(&mut params, "decoder", &widths)?;
        Ok(Self {
            config,
            encoder,
            mu,
            logvar,
            decoder,
            params,
        })
    }

    /// The VAE's shape and loss weights.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    fn check_inputs(&self, x: &Tensor) -> Result<()> {
        if x.rank() != 2 || x.dims()[1] != self.config.inputs {
            return Err(Error::invalid(
                "inputs",
                format!(
                    "the VAE takes [events, {}], got {:?}",
                    self.config.inputs,
                    x.dims()
                ),
            ));
        }
        Ok(())
    }

    /// The latent posterior of every event of `x` [events, inputs]: means and
    /// log-variances, both [events, latent].
    pub fn encode(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        self.check_inputs(x)?;
        let mut h = x.to_dtype(DType::F32)?;
        for layer in &self.encoder {
            h = self.config.activation.apply(&layer.forward(&h)?)?;
        }
        Ok((self.mu.forward(&h)?, self.logvar.forward(&h)?))
    }

    /// The decoder's output [events, inputs] for latent points `z` [events, latent] and, for a
    /// conditional decoder, the extra inputs `context` [events, conditional_decoder_inputs].
    pub fn decode(&self, z: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let c = self.config.conditional_decoder_inputs;
        let mut h = match (c, context) {
            (0, _) => z.clone(),
            (_, None) => {
                return Err(Error::invalid(
                    "context",
                    format!("the decoder takes {c} conditional inputs; none were given"),
                ));
            }
            (_, Some(ctx)) => {
                let rows = z.dims()[0];
                if ctx.rank() != 2 || ctx.dims() != [rows, c] {
                    return Err(Error::invalid(
                        "context",
                        format!(
                            "the decoder takes [{rows}, {c}] conditional inputs, got {:?}",
                            ctx.dims()
                        ),
                    ));
                }
                Tensor::cat(&[z, &ctx.to_dtype(DType::F32)?], 1)?
            }
        };
        let last = self.decoder.len() - 1;
        for (i, layer) in self.decoder.iter().enumerate() {
            h = layer.forward(&h)?;
            if i < last {
                h = self.config.activation.apply(&h)?;
            }
        }
        Ok(h)
    }

    /// The latent point the decoder reads: μ + exp(logvar / 2) ε in training (ε from the
    /// step's generator), μ otherwise.
    fn sample(&self, mu: &Tensor, logvar: &Tensor, step: &mut Step) -> Result<Tensor> {
        if !step.training {
            return Ok(mu.clone());
        }
        let n = mu.elem_count();
        let eps: Vec<f32> = (0..n)
            .map(|_| StandardNormal.sample(&mut *step.rng))
            .collect();
        let eps = Tensor::from_vec(eps, mu.shape(), mu.device())?;
        Ok((mu + logvar.affine(0.5, 0.0)?.exp()?.mul(&eps)?)?)
    }

    /// Per-event KL divergence and reconstruction error (summed over features) of a batch.
    fn terms(&self, batch: &Batch, step: &mut Step) -> Result<(Tensor, Tensor)> {
        let (mu, logvar) = self.encode(&batch.x)?;
        let z = self.sample(&mu, &logvar, step)?;
        let out = self.decode(&z, batch.context.as_ref())?;
        Ok((gaussian_kl(&mu, &logvar)?, mse(&out, &batch.x)?))
    }

    /// The KL divergence of every event's posterior to the unit Gaussian, [events]: the
    /// anomaly score of Bortolato et al. 2021.
    pub fn kl(&self, x: &Tensor) -> Result<Tensor> {
        let (mu, logvar) = self.encode(x)?;
        gaussian_kl(&mu, &logvar)
    }

    /// The latent means [events, latent].
    pub fn latent(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.encode(x)?.0)
    }

    /// The reconstruction of every event [events, inputs], decoded from the latent means.
    pub fn reconstruct(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        self.decode(&self.latent(x)?, context)
    }

    /// The squared reconstruction error of every event, summed over features (unweighted),
    /// decoded from the latent means, [events].
    pub fn reconstruction_loss(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        mse(&self.reconstruct(x, context)?, x)
    }

    /// The total loss of every event with the latent means, `recon_weight * recon + beta * KL`
    /// [events]: the natural anomaly score of the whole model.
    pub fn score(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let mut rng = <rand_xoshiro::Xoshiro256PlusPlus as rand_xoshiro::rand_core::SeedableRng>::seed_from_u64(0);
        let mut step = Step {
            training: false,
            rng: &mut rng,
        };
        let batch = Batch {
            x: x.clone(),
            y: None,
            context: context.cloned(),
        };
        self.loss(&batch, &mut step)
    }
}

impl Trainable for Vae {
    fn params(&self) -> &Params {
        &self.params
    }

    fn loss(&self, batch: &Batch, step: &mut Step) -> Result<Tensor> {
        let (kl, recon) = self.terms(batch, step)?;
        Ok((recon.affine(self.config.recon_weight, 0.0)? + kl.affine(self.config.beta, 0.0)?)?)
    }

    /// "kl" and "recon" per event (unweighted by beta and recon_weight).
    fn metrics(&self, batch: &Batch, step: &mut Step) -> Result<Vec<(&'static str, Tensor)>> {
        let (kl, recon) = self.terms(batch, step)?;
        Ok(vec![("kl", kl), ("recon", recon)])
    }
}

#[cfg(test)]
mod tests {
    use rand::RngExt;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;

    use super::*;
    use crate::nn::layers::matrix;
    use crate::nn::train::{Dataset, Goal, TrainOptions, Validation, fit};

    /// Points on a line in 4D (t, 2t, -t, 0.5 t) with t uniform in [-1, 1] and a little noise.
    fn line(n: usize, seed: u64) -> Tensor {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut v = Vec::with_capacity(4 * n);
        for _ in 0..n {
            let t = rng.random::<f32>() * 2.0 - 1.0;
            for a in [1.0f32, 2.0, -1.0, 0.5] {
                v.push(a * t + 0.01 * (rng.random::<f32>() - 0.5));
            }
        }
        matrix(v, 4, &Device::Cpu).unwrap()
    }

    fn small(seed: u64) -> Vae {
        let config = VaeConfig {
            hidden: vec![32, 32],
            activation: Activation::Elu,
            ..VaeConfig::new(4)
        };
        Vae::new(config, &Device::Cpu, seed).unwrap()
    }

    fn mean(t: &Tensor) -> f64 {
        t.mean_all().unwrap().to_scalar::<f32>().unwrap() as f64
    }

    #[test]
    fn kl_matches_the_closed_form() {
        let vae = Vae::new(
            VaeConfig {
                latent: 3,
                ..VaeConfig::new(4)
            },
            &Device::Cpu,
            1,
        )
        .unwrap();
        let x = line(5, 2);
        let (mu, logvar) = vae.encode(&x).unwrap();
        let (mu, logvar) = (
            mu.to_vec2::<f32>().unwrap(),
            logvar.to_vec2::<f32>().unwrap(),
        );
        let kl = vae.kl(&x).unwrap().to_vec1::<f32>().unwrap();
        for i in 0..5 {
            // KL(N(μ, σ²) || N(0, 1)) = 1/2 Σ (μ² + σ² - 1 - ln σ²).
            let want: f64 = (0..3)
                .map(|j| {
                    let (m, lv) = (mu[i][j] as f64, logvar[i][j] as f64);
                    0.5 * (m * m + lv.exp() - 1.0 - lv)
                })
                .sum();
            assert!((kl[i] as f64 - want).abs() < 1e-5, "{} vs {want}", kl[i]);
        }
        assert_eq!(vae.latent(&x).unwrap().dims(), [5, 3]);
        assert_eq!(vae.reconstruct(&x, None).unwrap().dims(), [5, 4]);
        // The anomaly score is the total loss with the latent means.
        let score = vae.score(&x, None).unwrap().to_vec1::<f32>().unwrap();
        let recon = vae
            .reconstruction_loss(&x, None)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for i in 0..5 {
            assert!((score[i] - (recon[i] + kl[i])).abs() < 1e-4);
        }
    }

    #[test]
    fn trains_on_a_line_and_reconstruction_improves() {
        let x = line(2000, 3);
        let vae = small(4);
        let before = mean(&vae.reconstruction_loss(&x, None).unwrap());
        let data = Dataset::unlabelled(x.clone());
        let opts = TrainOptions {
            epochs: 15,
            batch_size: 64,
            lr: 3e-3,
            seed: 5,
            ..Default::default()
        };
        let history = fit(&vae, &data, &opts, None).unwrap();
        let after = mean(&vae.reconstruction_loss(&x, None).unwrap());
        assert!(after < 0.2 * before, "{before} -> {after}\n{history}");
        assert!(history.epochs[0].metrics.iter().any(|(n, _)| n == "val_kl"));
        // A point off the line reconstructs worse than the points on it.
        let off = Tensor::new(&[[1.0f32, -2.0, 1.0, 0.5]], &Device::Cpu).unwrap();
        let off = mean(&vae.reconstruction_loss(&off, None).unwrap());
        assert!(off > 10.0 * after, "off-line {off}, on-line {after}");
    }

    #[test]
    fn val_kl_is_a_maximised_monitor_and_seeds_reproduce() {
        let x = line(600, 6);
        let data = Dataset {
            x,
            y: None,
            weights: None,
            context: None,
        };
        let run = || {
            let vae = small(7);
            let opts = TrainOptions {
                epochs: 8,
                batch_size: 64,
                lr: 3e-3,
                monitor: "val_kl".into(),
                goal: Goal::Maximise,
                patience: Some(3),
                seed: 8,
                ..Default::default()
            };
            let h = fit(&vae, &data, &opts, None).unwrap();
            let kl = vae.kl(&data.x).unwrap().to_vec1::<f32>().unwrap();
            (h, kl)
        };
        let (history, kl) = run();
        let monitored = history.monitored();
        let best = monitored.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(monitored[history.best_epoch], best, "{history}");
        assert!(monitored.iter().all(|v| v.is_finite() && *v >= 0.0));
        let (again, kl2) = run();
        assert_eq!(history, again_without_time(&again, &history));
        assert_eq!(kl, kl2);
        // Without validation the monitor falls back to the training data's KL.
        let vae = small(9);
        let opts = TrainOptions {
            epochs: 2,
            monitor: "val_kl".into(),
            goal: Goal::Maximise,
            validation: Validation::None,
            ..Default::default()
        };
        assert_eq!(fit(&vae, &data, &opts, None).unwrap().monitor, "kl");
    }

    /// `again` with the timings of `reference` (seconds differ run to run).
    fn again_without_time(
        again: &crate::nn::train::History,
        reference: &crate::nn::train::History,
    ) -> crate::nn::train::History {
        let mut h = again.clone();
        for (e, r) in h.epochs.iter_mut().zip(&reference.epochs) {
            e.seconds = r.seconds;
        }
        h
    }

    #[test]
    fn a_conditional_decoder_reads_the_context() {
        let config = VaeConfig {
            conditional_decoder_inputs: 2,
            hidden: vec![8],
            ..VaeConfig::new(4)
        };
        let vae = Vae::new(config, &Device::Cpu, 10).unwrap();
        let x = line(6, 11);
        let ctx = Tensor::zeros((6, 2), DType::F32, &Device::Cpu).unwrap();
        let ones = Tensor::ones((6, 2), DType::F32, &Device::Cpu).unwrap();
        let a = vae.reconstruct(&x, Some(&ctx)).unwrap();
        let b = vae.reconstruct(&x, Some(&ones)).unwrap();
        assert_ne!(a.to_vec2::<f32>().unwrap(), b.to_vec2::<f32>().unwrap());
        assert!(
            vae.reconstruct(&x, None)
                .unwrap_err()
                .to_string()
                .contains("conditional")
        );
        let wrong = Tensor::zeros((6, 3), DType::F32, &Device::Cpu).unwrap();
        assert!(vae.reconstruct(&x, Some(&wrong)).is_err());
        assert!(
            vae.kl(&ctx)
                .unwrap_err()
                .to_string()
                .contains("[events, 4]")
        );
        let bad = VaeConfig {
            beta: -1.0,
            ..VaeConfig::new(2)
        };
        assert!(Vae::new(bad, &Device::Cpu, 0).is_err());
        assert!(
            Vae::new(
                VaeConfig {
                    latent: 0,
                    ..VaeConfig::new(2)
                },
                &Device::Cpu,
                0
            )
            .is_err()
        );
    }
}
