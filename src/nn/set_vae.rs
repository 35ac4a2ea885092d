//! The Deep Set β-VAE of *Deep Set Autoencoders for Anomaly Detection in Particle Physics*
//! (Ostdiek, Ostdiek 2021, sections 3.1–3.2).
//!
//! **Inputs.** A batch is `Batch::x` of shape [events, objects, 5]: per object four standardised
//! continuous features (log10 E, log10 pT, eta, phi, in the layout of
//! [`crate::data::encode::set_encoding`]) and the type id in column 4, 1 to `types` (8: the
//! seven object types and MET) for a present object and 0 for a padding slot. The mask is read
//! off the type column, so no separate mask travels through [`Batch`]; `Batch::context` is
//! unused. Padding slots may hold anything in columns 0–3.
//!
//! **Encoder.** The per-object network Φ (`hidden` 3 × 264 ReLU) maps the four features and
//! the one-hot type (the paper feeds the id as one number; its codes are categories, so here
//! they are one-hot) to 2 × `latent` numbers, evaluated on the present objects only. Featurewise
//! sort pooling ([`FsPool`]) turns them into the event's latent means μ and log-variances
//! (σ → exp(σ/2) of eq. 3). By default ([`PoolPadding::Zeros`]) the pooling runs over every
//! slot with the padded ones holding 0, as in the paper's published networks (Φ's outputs are
//! multiplied by the mask and FSPool is called without set sizes); the number of slots then
//! matters, and a model is meant for sets of the width it was trained on. In training
//! z = μ + σ ε with ε from the [`Step`]'s generator; outside training z = μ, so every score is
//! deterministic.
//!
//! **Decoder** (only when β < 1). Dense layers (`decoder` 2 × 256 ReLU) from z, then two heads:
//! `output_objects` (20) four-vectors and `output_objects` × (`types` + 1) class logits, the
//! last class meaning "absent" (the slot is not a member of the output set).
//!
//! **Loss per event** (eq. 6): β KL + (1 − β) L_C, with KL the divergence of N(μ, σ²) from the
//! unit Gaussian summed over latent dimensions and L_C the modified Chamfer loss of eq. 5
//! ([`chamfer_loss`]). With β = 1 the loss is the KL alone and the decoder does not exist: the
//! network only maps every event to a fixed target (a unit Gaussian), which the paper found to
//! be its best anomaly detector.
//!
//! **The Chamfer loss and absent objects.** Both sides are sets of slots: the input's `objects`
//! slots and the output's `output_objects`. A padded input slot is an object of class "absent"
//! whose four-vector is the origin of the standardised space (the training mean), so an event
//! with n present objects is the set of those n plus (slots − n) copies of the absent point.
//! With d(x, y) the Euclidean distance of the four-vectors and −ln p_y(c) the negative
//! log-softmax of output y's logits at class c,
//!
//! L_C = Σ_x [d(x, y*(x)) − w ln p_{y*(x)}(c_x)] + Σ_y [d(x*(y), y) − w ln p_y(c_{x*(y)})],
//!
//! where y*(x) is the output nearest to input x and x*(y) the input nearest to output y (by
//! four-vector distance only). Eq. 5 prints `+ w log p`; the log-likelihood enters with a minus
//! sign so that minimising the loss raises it. Outputs the decoder does not need are drawn to
//! the origin and learn the class "absent" from the padded inputs nearest to them, so the
//! decoder learns how many objects an event has. Everything is one batched tensor expression
//! (pairwise distances [events, inputs, outputs], argmins, gathers): no loop over events.

use candle_core::{D, DType, Device, Tensor};
use rand_distr::{Distribution, StandardNormal};

use super::layers::{Activation, Dense};
use super::loss::gaussian_kl;
use super::model::{Batch, Step, Trainable};
use super::params::Params;
use super::sets::{FsPool, PoolPadding};
use crate::error::{Error, Result};

/// Continuous features per object: log10 E, log10 pT, eta, phi.
pub const FOUR_VECTOR: usize = 4;

/// Columns of an input object: the four continuous features and the type id.
pub const INPUT_COLUMNS: usize = FOUR_VECTOR + 1;

/// Added under the square root of a distance, so that its gradient stays finite at zero.
const DISTANCE_EPS: f64 = 1e-12;

/// Events per chunk when scoring many events at once.
const SCORE_BATCH: usize = 2048;

/// The shape and loss weights of a [`SetVae`]; the defaults are the paper's.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SetVaeConfig {
    /// Object type ids, 1 to `types` (8: seven object types and MET).
    pub types: usize,
    /// Latent dimensions (8).
    pub latent: usize,
    /// Hidden widths of the per-object network Φ ([264, 264, 264], ReLU).
    pub hidden: Vec<usize>,
    /// Linear pieces of the FSPool weight functions (20).
    pub pieces: usize,
    /// How the pooling treats the padded slots: as members holding 0, as the paper's networks
    /// do ([`PoolPadding::Zeros`], the default), or not at all ([`PoolPadding::Excluded`]).
    pub padding: PoolPadding,
    /// Hidden widths of the decoder ([256, 256], ReLU).
    pub decoder: Vec<usize>,
    /// Objects in the decoded set (20).
    pub output_objects: usize,
    /// Weight of the KL term, 1 − beta that of the Chamfer loss (1: no decoder).
    pub beta: f64,
    /// Weight of the class term in the Chamfer loss (1).
    pub w: f64,
}

impl Default for SetVaeConfig {
    fn default() -> Self {
        Self {
            types: 8,
            latent: 8,
            hidden: vec![264, 264, 264],
            pieces: 20,
            padding: PoolPadding::Zeros,
            decoder: vec![256, 256],
            output_objects: 20,
            beta: 1.0,
            w: 1.0,
        }
    }
}

impl SetVaeConfig {
    /// Whether the model has a decoder (β < 1).
    pub fn has_decoder(&self) -> bool {
        self.beta < 1.0
    }

    fn check(&self) -> Result<()> {
        super::layers::check_depth("deep set vae", self.hidden.len().max(self.decoder.len()))?;
        let widths = self.hidden.iter().chain(&self.decoder);
        if self.types == 0
            || self.latent == 0
            || self.pieces == 0
            || self.output_objects == 0
            || self.hidden.is_empty()
            || widths.clone().any(|&w| w == 0)
        {
            return Err(Error::invalid(
                "deep set vae",
                "types, latent, pieces, output_objects and every hidden and decoder width must be at least 1, with at least one hidden layer",
            ));
        }
        if !(self.beta.is_finite() && (0.0..=1.0).contains(&self.beta)) {
            return Err(Error::invalid(
                "beta",
                format!("must be in [0, 1], not {}", self.beta),
            ));
        }
        if !(self.w.is_finite() && self.w >= 0.0) {
            return Err(Error::invalid(
                "w",
                format!("must be a non-negative number, not {}", self.w),
            ));
        }
        Ok(())
    }
}

/// The decoder: shared dense layers, then the four-vector and class heads.
#[derive(Clone, Debug)]
struct Decoder {
    layers: Vec<Dense>,
    four_vectors: Dense,
    classes: Dense,
}

/// The Deep Set VAE (see the module documentation).
#[derive(Clone, Debug)]
pub struct SetVae {
    config: SetVaeConfig,
    phi: Vec<Dense>,
    pool: FsPool,
    decoder: Option<Decoder>,
    params: Params,
}

/// The decoded sets of a batch.
#[derive(Clone, Debug)]
pub struct DecodedSet {
    /// Four-vectors [events, output_objects, 4] (standardised units).
    pub four_vectors: Tensor,
    /// Class logits [events, output_objects, types + 1]; the last class is "absent".
    pub logits: Tensor,
}

impl SetVae {
    /// A freshly initialised model on `device`, its weights drawn from `seed`.
    pub fn new(config: SetVaeConfig, device: &Device, seed: u64) -> Result<Self> {
        config.check()?;
        let mut params = Params::new(device, seed);
        let widths: Vec<usize> = std::iter::once(FOUR_VECTOR + config.types)
            .chain(config.hidden.iter().copied())
            .chain([2 * config.latent])
            .collect();
        let phi = Dense::stack(&mut params, "phi", &widths)?;
        let pool = FsPool::new(
            &mut params,
            "pool",
            2 * config.latent,
            config.pieces,
            config.padding,
        )?;
        let decoder = if config.has_decoder() {
            let widths: Vec<usize> = std::iter::once(config.latent)
                .chain(config.decoder.iter().copied())
                .collect();
            let layers = Dense::stack(&mut params, "decoder", &widths)?;
            let last = *widths.last().unwrap_or(&config.latent);
            let n = config.output_objects;
            Some(Decoder {
                layers,
                four_vectors: Dense::new(&mut params, "four_vectors", last, n * FOUR_VECTOR)?,
                classes: Dense::new(&mut params, "classes", last, n * (config.types + 1))?,
            })
        } else {
            None
        };
        Ok(Self {
            config,
            phi,
            pool,
            decoder,
            params,
        })
    }

    /// The model's shape and loss weights.
    pub fn config(&self) -> &SetVaeConfig {
        &self.config
    }

    /// Checks `x` is [events, objects, 5] with type ids in 0..=types; returns (events, objects).
    fn check_inputs(&self, x: &Tensor) -> Result<(usize, usize)> {
        if x.rank() != 3 || x.dims()[2] != INPUT_COLUMNS {
            return Err(Error::invalid(
                "inputs",
                format!(
                    "the Deep Set VAE takes sets [events, objects, {INPUT_COLUMNS}], got {:?}",
                    x.dims()
                ),
            ));
        }
        let (events, objects) = (x.dims()[0], x.dims()[1]);
        if events > 0 && objects > 0 {
            let ids = x.narrow(2, FOUR_VECTOR, 1)?.to_dtype(DType::F32)?;
            let lo = ids.min_all()?.to_scalar::<f32>()?;
            let hi = ids.max_all()?.to_scalar::<f32>()?;
            let integral = ids.round()?.eq(&ids)?.to_dtype(DType::F32)?.min_all()?;
            if !(lo >= 0.0 && hi <= self.config.types as f32) || integral.to_scalar::<f32>()? < 1.0
            {
                return Err(Error::invalid(
                    "inputs",
                    format!(
                        "type ids must be whole numbers from 0 (padding) to {}, found {lo} to {hi}",
                        self.config.types
                    ),
                ));
            }
        }
        Ok((events, objects))
    }

    /// The latent posterior of every event of `x` [events, objects, 5]: means and
    /// log-variances, both [events, latent].
    pub fn encode(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let (events, objects) = self.check_inputs(x)?;
        let x = x.to_dtype(DType::F32)?;
        let device = x.device();
        let ids = x.narrow(2, FOUR_VECTOR, 1)?.squeeze(2)?;
        let mask = ids.gt(0f32)?.to_dtype(DType::F32)?;
        // Φ on the present objects only, scattered back into [events * objects, 2 latent].
        let present: Vec<u32> = mask
            .flatten_all()?
            .to_device(&Device::Cpu)?
            .to_vec1::<f32>()?
            .iter()
            .enumerate()
            .filter(|&(_, &m)| m > 0.0)
            .map(|(i, _)| i as u32)
            .collect();
        let width = 2 * self.config.latent;
        let mut per_object = Tensor::zeros((events * objects, width), DType::F32, device)?;
        if !present.is_empty() {
            let index = Tensor::from_slice(&present, present.len(), device)?;
            let rows = x
                .reshape((events * objects, INPUT_COLUMNS))?
                .index_select(&index, 0)?;
            let mut h = Tensor::cat(
                &[
                    rows.narrow(1, 0, FOUR_VECTOR)?,
                    one_hot(&rows.narrow(1, FOUR_VECTOR, 1)?, self.config.types)?,
                ],
                1,
            )?;
            let last = self.phi.len() - 1;
            for (i, layer) in self.phi.iter().enumerate() {
                h = layer.forward(&h)?;
                if i < last {
                    h = Activation::Relu.apply(&h)?;
                }
            }
            per_object = per_object.index_add(&index, &h, 0)?;
        }
        let pooled = self
            .pool
            .forward(&per_object.reshape((events, objects, width))?, &mask)?;
        let latent = self.config.latent;
        Ok((
            pooled.narrow(1, 0, latent)?,
            pooled.narrow(1, latent, latent)?,
        ))
    }

    /// The decoded sets of latent points `z` [events, latent]; an error for a model without
    /// a decoder (β = 1).
    pub fn decode(&self, z: &Tensor) -> Result<DecodedSet> {
        let decoder = self.decoder.as_ref().ok_or_else(|| {
            Error::invalid(
                "decoder",
                "a Deep Set VAE with beta = 1 has no decoder (its loss is the KL alone)",
            )
        })?;
        let mut h = z.to_dtype(DType::F32)?;
        for layer in &decoder.layers {
            h = Activation::Relu.apply(&layer.forward(&h)?)?;
        }
        let events = h.dims()[0];
        let n = self.config.output_objects;
        Ok(DecodedSet {
            four_vectors: decoder
                .four_vectors
                .forward(&h)?
                .reshape((events, n, FOUR_VECTOR))?,
            logits: decoder
                .classes
                .forward(&h)?
                .reshape((events, n, self.config.types + 1))?,
        })
    }

    /// The latent point the decoder reads: μ + exp(logvar / 2) ε in training, μ otherwise.
    fn sample(&self, mu: &Tensor, logvar: &Tensor, step: &mut Step) -> Result<Tensor> {
        if !step.training {
            return Ok(mu.clone());
        }
        let eps: Vec<f32> = (0..mu.elem_count())
            .map(|_| StandardNormal.sample(&mut *step.rng))
            .collect();
        let eps = Tensor::from_vec(eps, mu.shape(), mu.device())?;
        Ok((mu + logvar.affine(0.5, 0.0)?.exp()?.mul(&eps)?)?)
    }

    /// Per-event KL and, with a decoder, Chamfer loss of a batch.
    fn terms(&self, x: &Tensor, step: &mut Step) -> Result<(Tensor, Option<Tensor>)> {
        let (mu, logvar) = self.encode(x)?;
        let kl = gaussian_kl(&mu, &logvar)?;
        if self.decoder.is_none() {
            return Ok((kl, None));
        }
        let z = self.sample(&mu, &logvar, step)?;
        Ok((kl, Some(self.chamfer(x, &z)?)))
    }

    /// The Chamfer loss of the sets `x` against their decoding from `z`, [events].
    fn chamfer(&self, x: &Tensor, z: &Tensor) -> Result<Tensor> {
        let out = self.decode(z)?;
        let x = x.to_dtype(DType::F32)?;
        chamfer_loss(
            &x.narrow(2, 0, FOUR_VECTOR)?,
            &x.narrow(2, FOUR_VECTOR, 1)?.squeeze(2)?,
            &out,
            self.config.w,
        )
    }

    fn total(&self, kl: &Tensor, chamfer: Option<&Tensor>) -> Result<Tensor> {
        let beta = self.config.beta;
        match chamfer {
            None => Ok(kl.clone()),
            Some(c) => Ok((kl.affine(beta, 0.0)? + c.affine(1.0 - beta, 0.0)?)?),
        }
    }

    /// The KL divergence of every event's posterior from the unit Gaussian, [events], in f64.
    ///
    /// A well-trained β = 1 model maps background close to the prior, where the KL is a small
    /// difference of numbers near 1 (1 + ln σ² − σ²); it is formed in f64 from the network's
    /// μ and ln σ² so that f32 rounding does not reach the smallest scores.
    pub fn kl(&self, x: &Tensor) -> Result<Tensor> {
        chunked(x, |chunk| self.precise_kl(&self.encode(chunk)?))
    }

    fn precise_kl(&self, (mu, logvar): &(Tensor, Tensor)) -> Result<Tensor> {
        gaussian_kl(&mu.to_dtype(DType::F64)?, &logvar.to_dtype(DType::F64)?)
    }

    /// The total loss of every event with z = μ, β KL + (1 − β) L_C, [events] in f64 (the KL
    /// as in [`SetVae::kl`]): the anomaly score of the paper (with β = 1, the KL).
    pub fn score(&self, x: &Tensor) -> Result<Tensor> {
        chunked(x, |chunk| {
            let posterior = self.encode(chunk)?;
            let kl = self.precise_kl(&posterior)?;
            if self.decoder.is_none() {
                return Ok(kl);
            }
            let chamfer = self.chamfer(chunk, &posterior.0)?.to_dtype(DType::F64)?;
            self.total(&kl, Some(&chamfer))
        })
    }
}

/// `f` over chunks of [`SCORE_BATCH`] events of `x`, concatenated.
fn chunked(x: &Tensor, mut f: impl FnMut(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let n = x.dims().first().copied().unwrap_or(0);
    if n <= SCORE_BATCH {
        return f(x);
    }
    let parts = (0..n)
        .step_by(SCORE_BATCH)
        .map(|start| f(&x.narrow(0, start, SCORE_BATCH.min(n - start))?))
        .collect::<Result<Vec<_>>>()?;
    Ok(Tensor::cat(&parts, 0)?)
}

/// The one-hot encoding [rows, types] of type ids [rows, 1] in 1..=types (0 gives zeros).
fn one_hot(ids: &Tensor, types: usize) -> Result<Tensor> {
    let codes = Tensor::arange(1u32, types as u32 + 1, ids.device())?
        .to_dtype(DType::F32)?
        .unsqueeze(0)?;
    Ok(ids.broadcast_eq(&codes)?.to_dtype(DType::F32)?)
}

/// The modified Chamfer loss (eq. 5) of every event, [events]: input four-vectors `inputs`
/// [events, objects, 4] with type ids `ids` [events, objects] (0 for a padded slot, which is
/// an "absent" object at the origin), against the decoded sets `output` (see the module
/// documentation for the formula). Class index c of the logits is type id c + 1; the last,
/// index `types`, is "absent".
pub fn chamfer_loss(inputs: &Tensor, ids: &Tensor, output: &DecodedSet, w: f64) -> Result<Tensor> {
    let (events, objects) = (inputs.dims()[0], inputs.dims()[1]);
    let (y, logits) = (&output.four_vectors, &output.logits);
    let classes = logits.dims()[2];
    let outputs = y.dims()[1];
    if inputs.dims() != [events, objects, FOUR_VECTOR]
        || ids.dims() != [events, objects]
        || y.dims() != [events, outputs, FOUR_VECTOR]
        || logits.dims()[..2] != [events, outputs]
    {
        return Err(Error::invalid(
            "chamfer loss",
            format!(
                "inputs {:?}, ids {:?}, output four-vectors {:?} and logits {:?} do not fit together",
                inputs.dims(),
                ids.dims(),
                y.dims(),
                logits.dims()
            ),
        ));
    }
    let ids = ids.to_dtype(DType::F32)?;
    let present = ids.gt(0f32)?;
    // Padded slots: four-vector at the origin, class "absent" (the last index).
    let x = present
        .unsqueeze(2)?
        .broadcast_as(inputs.shape())?
        .where_cond(inputs, &inputs.zeros_like()?)?;
    let absent = Tensor::full((classes - 1) as f32, ids.shape(), ids.device())?;
    let class = present
        .where_cond(&ids.affine(1.0, -1.0)?, &absent)?
        .to_dtype(DType::U32)?;
    // Distances [events, objects, outputs].
    let diff = x.unsqueeze(2)?.broadcast_sub(&y.unsqueeze(1)?)?;
    let dist = diff
        .sqr()?
        .sum(D::Minus1)?
        .affine(1.0, DISTANCE_EPS)?
        .sqrt()?;
    // −ln p_y(c_x) for every pair: the log-softmax [events, classes, outputs] gathered at the
    // inputs' classes along the class axis.
    let log_p = candle_nn::ops::log_softmax(logits, D::Minus1)?
        .transpose(1, 2)?
        .contiguous()?;
    let index = class
        .unsqueeze(2)?
        .broadcast_as((events, objects, outputs))?
        .contiguous()?;
    let nll = log_p.gather(&index, 1)?.neg()?;
    let cost = (&dist + nll.affine(w, 0.0)?)?;
    // Each input with its nearest output, each output with its nearest input.
    let nearest_output = dist.detach().argmin_keepdim(2)?;
    let nearest_input = dist.detach().argmin_keepdim(1)?;
    let forward = cost.gather(&nearest_output, 2)?.squeeze(2)?.sum(1)?;
    let backward = cost.gather(&nearest_input, 1)?.squeeze(1)?.sum(1)?;
    Ok((forward + backward)?)
}

impl Trainable for SetVae {
    fn params(&self) -> &Params {
        &self.params
    }

    fn loss(&self, batch: &Batch, step: &mut Step) -> Result<Tensor> {
        let (kl, chamfer) = self.terms(&batch.x, step)?;
        self.total(&kl, chamfer.as_ref())
    }

    /// "kl" and, with a decoder, "chamfer" per event (unweighted by β).
    fn metrics(&self, batch: &Batch, step: &mut Step) -> Result<Vec<(&'static str, Tensor)>> {
        let (kl, chamfer) = self.terms(&batch.x, step)?;
        let mut m = vec![("kl", kl)];
        if let Some(c) = chamfer {
            m.push(("chamfer", c));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use rand::RngExt;
    use rand::seq::SliceRandom;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;

    use super::*;
    use crate::nn::train::{Dataset, TrainOptions, fit};

    fn t3(v: Vec<f32>, shape: (usize, usize, usize)) -> Tensor {
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    /// `events` random sets of `objects` slots: the first 1 + e % objects present.
    fn random_sets(events: usize, objects: usize, seed: u64) -> Vec<f32> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut v = Vec::new();
        for e in 0..events {
            for o in 0..objects {
                let present = o <= e % objects;
                for _ in 0..FOUR_VECTOR {
                    v.push(if present {
                        rng.random::<f32>() * 2.0 - 1.0
                    } else {
                        0.0
                    });
                }
                v.push(if present {
                    f32::from(rng.random_range(1u8..=8))
                } else {
                    0.0
                });
            }
        }
        v
    }

    fn small(beta: f64) -> SetVae {
        let config = SetVaeConfig {
            latent: 3,
            hidden: vec![16, 16],
            pieces: 4,
            decoder: vec![16],
            output_objects: 5,
            beta,
            w: 2.0,
            ..SetVaeConfig::default()
        };
        SetVae::new(config, &Device::Cpu, 1).unwrap()
    }

    #[test]
    fn chamfer_loss_matches_a_hand_computation() {
        // One event: 3 slots, 2 present (1-d four-vectors along the first axis), one padded.
        // Inputs: a at (1,0,0,0) type 1 (class 0); b at (3,0,0,0) type 2 (class 1); padding
        // → origin, class "absent" (index 2 of 3 classes).
        let inputs = t3(
            vec![1., 0., 0., 0., 3., 0., 0., 0., 9., 9., 9., 9.],
            (1, 3, 4),
        );
        let ids = Tensor::new(&[[1f32, 2.0, 0.0]], &Device::Cpu).unwrap();
        // Outputs: p at (1.5,0,0,0), q at (0,0,0,0.5); logits giving known probabilities.
        let four_vectors = t3(vec![1.5, 0., 0., 0., 0., 0., 0., 0.5], (1, 2, 4));
        let lp = [[0.5f64, 0.3, 0.2], [0.1, 0.2, 0.7]];
        let logits: Vec<f32> = lp.iter().flatten().map(|p| p.ln() as f32).collect();
        let logits = t3(logits, (1, 2, 3));
        let out = DecodedSet {
            four_vectors,
            logits,
        };
        let w = 2.0;
        let got = chamfer_loss(&inputs, &ids, &out, w)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        // Distances: a–p 0.5, a–q sqrt(1.25); b–p 1.5, b–q sqrt(9.25); 0–p 1.5, 0–q 0.5.
        // Inputs: a→p: 0.5 − w ln 0.5; b→p: 1.5 − w ln 0.3; 0→q: 0.5 − w ln 0.7.
        // Outputs: p→a (0.5 < 1.5): 0.5 − w ln 0.5; q→0 (0.5): 0.5 − w ln 0.7.
        let want = (0.5 - w * 0.5f64.ln())
            + (1.5 - w * 0.3f64.ln())
            + (0.5 - w * 0.7f64.ln())
            + (0.5 - w * 0.5f64.ln())
            + (0.5 - w * 0.7f64.ln());
        assert!((got[0] as f64 - want).abs() < 1e-4, "{got:?} vs {want}");
        // w = 0: distances only.
        let d = chamfer_loss(&inputs, &ids, &out, 0.0)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert!((d[0] - 3.5).abs() < 1e-5, "{d:?}");
    }

    #[test]
    fn chamfer_loss_is_permutation_invariant_and_batched() {
        let (events, objects, outputs) = (6, 5, 5);
        let sets = random_sets(events, objects, 2);
        let x = t3(sets.clone(), (events, objects, INPUT_COLUMNS));
        let vae = small(0.5);
        let out = vae
            .decode(
                &t3(
                    random_sets(events, 3, 7)[..events * 3].to_vec(),
                    (events, 3, 1),
                )
                .squeeze(2)
                .unwrap(),
            )
            .unwrap();
        assert_eq!(out.four_vectors.dims(), [events, outputs, 4]);
        assert_eq!(out.logits.dims(), [events, outputs, 9]);
        let loss = |x: &Tensor| {
            chamfer_loss(
                &x.narrow(2, 0, 4).unwrap(),
                &x.narrow(2, 4, 1).unwrap().squeeze(2).unwrap(),
                &out,
                2.0,
            )
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
        };
        let reference = loss(&x);
        // Permuting the slots of every event changes nothing.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut permuted = vec![0f32; sets.len()];
        for e in 0..events {
            let mut order: Vec<usize> = (0..objects).collect();
            order.shuffle(&mut rng);
            for (to, &from) in order.iter().enumerate() {
                let (a, b) = (
                    (e * objects + to) * INPUT_COLUMNS,
                    (e * objects + from) * INPUT_COLUMNS,
                );
                permuted[a..a + INPUT_COLUMNS].copy_from_slice(&sets[b..b + INPUT_COLUMNS]);
            }
        }
        let p = loss(&t3(permuted, (events, objects, INPUT_COLUMNS)));
        for (a, b) in reference.iter().zip(&p) {
            assert!((a - b).abs() < 1e-4, "{reference:?} vs {p:?}");
        }
        // The batched loss equals the loss of each event alone.
        for (e, want) in reference.iter().enumerate() {
            let single = chamfer_loss(
                &x.narrow(0, e, 1).unwrap().narrow(2, 0, 4).unwrap(),
                &x.narrow(0, e, 1)
                    .unwrap()
                    .narrow(2, 4, 1)
                    .unwrap()
                    .squeeze(2)
                    .unwrap(),
                &DecodedSet {
                    four_vectors: out.four_vectors.narrow(0, e, 1).unwrap(),
                    logits: out.logits.narrow(0, e, 1).unwrap(),
                },
                2.0,
            )
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
            assert!((single[0] - want).abs() < 1e-4);
        }
    }

    #[test]
    fn the_encoding_is_permutation_invariant_and_ignores_padding() {
        let (events, objects) = (5, 6);
        let sets = random_sets(events, objects, 4);
        let vae = small(1.0);
        let x = t3(sets.clone(), (events, objects, INPUT_COLUMNS));
        let (mu, logvar) = vae.encode(&x).unwrap();
        assert_eq!(mu.dims(), [events, 3]);
        assert_eq!(logvar.dims(), [events, 3]);
        // Reversed slots, and junk in the padded slots' four-vectors.
        let mut other = vec![0f32; sets.len()];
        for e in 0..events {
            for o in 0..objects {
                let (a, b) = (
                    (e * objects + o) * INPUT_COLUMNS,
                    (e * objects + objects - 1 - o) * INPUT_COLUMNS,
                );
                other[a..a + INPUT_COLUMNS].copy_from_slice(&sets[b..b + INPUT_COLUMNS]);
                if other[a + 4] == 0.0 {
                    other[a..a + 4].copy_from_slice(&[7.0, -3.0, 1e3, 2.0]);
                }
            }
        }
        let mu2 = vae
            .encode(&t3(other, (events, objects, INPUT_COLUMNS)))
            .unwrap()
            .0;
        let (a, b) = (
            mu.to_vec2::<f32>().unwrap().concat(),
            mu2.to_vec2::<f32>().unwrap().concat(),
        );
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-5, "{a:?} vs {b:?}");
        }
        // β = 1: no decoder, the score is the KL.
        assert!(vae.decode(&mu).is_err());
        assert_eq!(
            vae.score(&x).unwrap().to_vec1::<f64>().unwrap(),
            vae.kl(&x).unwrap().to_vec1::<f64>().unwrap()
        );
        // Three dense layers and the pool: no decoder parameters.
        assert_eq!(vae.params().vars().count(), 3 * 2 + 1);
    }

    #[test]
    fn training_lowers_the_loss_with_and_without_decoder() {
        let (events, objects) = (400, 6);
        let x = t3(
            random_sets(events, objects, 5),
            (events, objects, INPUT_COLUMNS),
        );
        for beta in [1.0, 0.3] {
            let vae = small(beta);
            let before = vae.score(&x).unwrap().mean_all().unwrap();
            let data = Dataset::unlabelled(x.clone());
            let opts = TrainOptions {
                epochs: 6,
                batch_size: 50,
                lr: 3e-3,
                seed: 6,
                quiet: true,
                ..Default::default()
            };
            let history = fit(&vae, &data, &opts, None).unwrap();
            let after = vae.score(&x).unwrap().mean_all().unwrap();
            let (before, after) = (
                before.to_scalar::<f64>().unwrap(),
                after.to_scalar::<f64>().unwrap(),
            );
            assert!(
                after < before,
                "beta {beta}: {before} -> {after}\n{history}"
            );
            let names: Vec<&str> = history.epochs[0]
                .metrics
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            assert_eq!(names.contains(&"val_chamfer"), beta < 1.0, "{names:?}");
        }
    }

    #[test]
    fn bad_inputs_and_configs_are_errors() {
        let vae = small(0.5);
        let bad_shape = Tensor::zeros((2, 3, 4), DType::F32, &Device::Cpu).unwrap();
        assert!(
            vae.encode(&bad_shape)
                .unwrap_err()
                .to_string()
                .contains("[events, objects, 5]")
        );
        let mut v = vec![0f32; 2 * 3 * 5];
        v[4] = 9.0;
        let bad_type = t3(v, (2, 3, 5));
        assert!(
            vae.encode(&bad_type)
                .unwrap_err()
                .to_string()
                .contains("type ids")
        );
        for config in [
            SetVaeConfig {
                beta: 1.5,
                ..SetVaeConfig::default()
            },
            SetVaeConfig {
                w: -1.0,
                ..SetVaeConfig::default()
            },
            SetVaeConfig {
                hidden: vec![],
                ..SetVaeConfig::default()
            },
        ] {
            assert!(SetVae::new(config, &Device::Cpu, 0).is_err());
        }
    }
}
