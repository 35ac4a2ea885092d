//! Building blocks for networks on sets of objects (the Deep Set VAE of Ostdiek 2021): a
//! per-object network shared by every object of an event, and featurewise sort pooling
//! (FSPool, Zhang, Hare and Prügel-Bennett 2019) that turns the per-object outputs into one
//! permutation-invariant vector per event.
//!
//! Sets are padded to a common length: values [events, objects, features] with a mask
//! [events, objects] holding 1 for a real object and 0 for padding. The values held in padded
//! slots never change a result. Whether the number of slots does is the pool's
//! [`PoolPadding`]: excluded padding makes it irrelevant; zero padding, as in Ostdiek 2021's own
//! networks, counts every slot as a member holding 0.

use candle_core::{D, DType, Device, Tensor};

use super::layers::{Activation, Dense};
use super::params::Params;
use crate::error::{Error, Result};

/// Checks that `x` is [events, objects, features] with `features` columns and `mask` is
/// [events, objects]; returns (events, objects).
fn check_set(x: &Tensor, mask: &Tensor, features: usize, what: &str) -> Result<(usize, usize)> {
    if x.rank() != 3 || x.dims()[2] != features {
        return Err(Error::invalid(
            what,
            format!(
                "takes sets [events, objects, {features}], got {:?}",
                x.dims()
            ),
        ));
    }
    let (events, objects) = (x.dims()[0], x.dims()[1]);
    if mask.dims() != [events, objects] {
        return Err(Error::invalid(
            "mask",
            format!(
                "the mask must be [events, objects] = [{events}, {objects}], got {:?}",
                mask.dims()
            ),
        ));
    }
    Ok((events, objects))
}

/// The same dense network applied to every object of every event: [events, objects, inputs]
/// -> [events, objects, outputs], with the activation after every layer but the last. Outputs
/// of padded objects are set to 0.
#[derive(Clone, Debug)]
pub struct ObjectNet {
    inputs: usize,
    outputs: usize,
    activation: Activation,
    layers: Vec<Dense>,
}

impl ObjectNet {
    /// A network `inputs` -> `hidden`... -> `outputs` whose layers are named `{name}{i}`.
    pub fn new(
        params: &mut Params,
        name: &str,
        inputs: usize,
        hidden: &[usize],
        outputs: usize,
        activation: Activation,
    ) -> Result<Self> {
        if inputs == 0 || outputs == 0 || hidden.contains(&0) {
            return Err(Error::invalid(
                "object network",
                "inputs, outputs and every hidden width must be at least 1",
            ));
        }
        let widths: Vec<usize> = std::iter::once(inputs)
            .chain(hidden.iter().copied())
            .chain([outputs])
            .collect();
        let layers = Dense::stack(params, name, &widths)?;
        Ok(Self {
            inputs,
            outputs,
            activation,
            layers,
        })
    }

    /// The per-object outputs of the sets `x` [events, objects, inputs] with `mask`
    /// [events, objects]; padded objects give 0.
    pub fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (events, objects) = check_set(x, mask, self.inputs, "the object network")?;
        // Padding may hold anything, even NaN: select rather than multiply, before and after
        // the network (so no NaN reaches the gradients either).
        let keep = mask.to_dtype(DType::F32)?.ne(0f32)?.unsqueeze(2)?;
        let x = x.to_dtype(DType::F32)?;
        let x = keep
            .broadcast_as(x.shape())?
            .where_cond(&x, &x.zeros_like()?)?;
        let mut h = x.reshape((events * objects, self.inputs))?;
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&h)?;
            if i < last {
                h = self.activation.apply(&h)?;
            }
        }
        let h = h.reshape((events, objects, self.outputs))?;
        Ok(keep
            .broadcast_as(h.shape())?
            .where_cond(&h, &h.zeros_like()?)?)
    }
}

/// How [`FsPool`] treats the padded slots of a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PoolPadding {
    /// Padding takes no part: n real objects sit at r = i / (n - 1), so sets of any size
    /// share the weight functions (Zhang et al. 2019 with set sizes given).
    Excluded,
    /// Every slot is a member and a padded slot holds the value 0: the values of all `objects`
    /// slots, zeros included, are sorted together and sit at r = i / (objects - 1), so the
    /// number of real objects decides how many positions hold zeros (Ostdiek 2021's networks,
    /// which call FSPool without set sizes on sets padded with zeros to 20).
    Zeros,
}

impl PoolPadding {
    /// The treatment named `name`: "zeros" or "excluded".
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "zeros" => Ok(Self::Zeros),
            "excluded" => Ok(Self::Excluded),
            other => Err(Error::invalid(
                "padding",
                format!("'{other}': use \"zeros\" or \"excluded\""),
            )),
        }
    }

    /// The treatment's name, as [`PoolPadding::parse`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Zeros => "zeros",
            Self::Excluded => "excluded",
        }
    }
}

/// Featurewise sort pooling: for each feature, the set's values are sorted in descending
/// order and summed with learnt weights that depend on the relative position r in the sorted
/// list. Each feature has `pieces + 1` learnt weights at r = 0, 1/pieces, ..., 1, linearly
/// interpolated in between (Zhang et al. 2019). [`PoolPadding`] says which slots are members:
/// with [`PoolPadding::Excluded`] only the real objects, at r = i / (n - 1) (r = 0 for a
/// single object), so an event without objects pools to 0, weights (1, 0, ..., 0) give the
/// maximum for sets of up to `pieces + 1` objects and all ones give the sum; with
/// [`PoolPadding::Zeros`] every slot, padding counting as 0.
#[derive(Clone, Debug)]
pub struct FsPool {
    features: usize,
    pieces: usize,
    padding: PoolPadding,
    /// Weights [features, pieces + 1].
    weight: Tensor,
}

impl FsPool {
    /// A pool over `features` channels with `pieces` linear pieces per channel (≥ 1) and
    /// padding treated as `padding`; the weights `{name}.weight` start uniform in [-1, 1].
    pub fn new(
        params: &mut Params,
        name: &str,
        features: usize,
        pieces: usize,
        padding: PoolPadding,
    ) -> Result<Self> {
        if features == 0 || pieces == 0 {
            return Err(Error::invalid(
                "fspool",
                "features and pieces must be at least 1",
            ));
        }
        let weight = params.uniform(&format!("{name}.weight"), &[features, pieces + 1], 1.0)?;
        Ok(Self {
            features,
            pieces,
            padding,
            weight,
        })
    }

    /// The pooled vector [events, features] of the sets `x` [events, objects, features] with
    /// `mask` [events, objects].
    pub fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (events, objects) = check_set(x, mask, self.features, "FSPool")?;
        let device = x.device();
        let keep = mask.to_dtype(DType::F32)?.ne(0f32)?;
        let x = x.to_dtype(DType::F32)?;
        let keep3 = keep
            .unsqueeze(2)?
            .broadcast_as((events, objects, self.features))?;
        let x = keep3.where_cond(&x, &x.zeros_like()?)?;
        // Excluded padding sorts last (its sort keys are -inf); zero padding sorts as 0.
        let keys = match self.padding {
            PoolPadding::Excluded => keep3.where_cond(
                &x.detach(),
                &Tensor::full(f32::NEG_INFINITY, x.shape(), device)?,
            )?,
            PoolPadding::Zeros => x.detach(),
        };
        // [events, features, objects], sorted along the objects.
        let keys = keys.transpose(1, 2)?.contiguous()?;
        let order = keys.arg_sort_last_dim(false)?;
        let sorted = x.transpose(1, 2)?.contiguous()?.gather(&order, D::Minus1)?;
        // Interpolation basis [events, pieces + 1, objects]: position i of n members.
        let counts: Vec<f32> = match self.padding {
            PoolPadding::Excluded => keep
                .to_dtype(DType::F32)?
                .sum(1)?
                .to_device(&Device::Cpu)?
                .to_vec1()?,
            PoolPadding::Zeros => vec![objects as f32; events],
        };
        let k = self.pieces;
        let mut basis = vec![0f32; events * (k + 1) * objects];
        for (e, &count) in counts.iter().enumerate() {
            let n = count.round() as usize;
            for i in 0..n {
                let r = if n > 1 {
                    i as f64 / (n - 1) as f64
                } else {
                    0.0
                };
                let t = r * k as f64;
                let lo = (t.floor() as usize).min(k);
                let frac = t - lo as f64;
                basis[(e * (k + 1) + lo) * objects + i] += (1.0 - frac) as f32;
                if lo < k {
                    basis[(e * (k + 1) + lo + 1) * objects + i] += frac as f32;
                }
            }
        }
        let basis = Tensor::from_vec(basis, (events, k + 1, objects), device)?;
        // Weights per (event, feature, position): W [features, k+1] x basis [k+1, objects].
        let weights = self.weight.unsqueeze(0)?.broadcast_matmul(&basis)?;
        Ok(sorted.mul(&weights)?.sum(D::Minus1)?)
    }
}

/// A set encoder: an [`ObjectNet`] followed by an [`FsPool`], mapping padded sets to one
/// vector per event (the encoder half of Ostdiek 2021's Deep Set VAE before its latent heads).
#[derive(Clone, Debug)]
pub struct SetEncoder {
    /// The per-object network.
    pub objects: ObjectNet,
    /// The pooling over objects.
    pub pool: FsPool,
}

impl SetEncoder {
    /// Objects of `inputs` features through `hidden` to `outputs` per object, pooled with
    /// `pieces` pieces; parameters named `{name}.object{i}` and `{name}.pool`.
    pub fn new(
        params: &mut Params,
        name: &str,
        inputs: usize,
        hidden: &[usize],
        outputs: usize,
        activation: Activation,
        pieces: usize,
    ) -> Result<Self> {
        Ok(Self {
            objects: ObjectNet::new(
                params,
                &format!("{name}.object"),
                inputs,
                hidden,
                outputs,
                activation,
            )?,
            pool: FsPool::new(
                params,
                &format!("{name}.pool"),
                outputs,
                pieces,
                PoolPadding::Excluded,
            )?,
        })
    }

    /// One vector [events, outputs] per set `x` [events, objects, inputs] with `mask`.
    pub fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        self.pool.forward(&self.objects.forward(x, mask)?, mask)
    }
}

#[cfg(test)]
mod tests {
    use rand::RngExt;
    use rand::seq::SliceRandom;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;

    use super::*;

    fn random(shape: (usize, usize, usize), seed: u64) -> Vec<f32> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..shape.0 * shape.1 * shape.2)
            .map(|_| rng.random::<f32>() * 2.0 - 1.0)
            .collect()
    }

    fn t3(v: Vec<f32>, shape: (usize, usize, usize)) -> Tensor {
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    fn t2(v: Vec<f32>, shape: (usize, usize)) -> Tensor {
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    fn close(a: &Tensor, b: &Tensor) {
        let (a, b) = (a.to_vec2::<f32>().unwrap(), b.to_vec2::<f32>().unwrap());
        for (ra, rb) in a.iter().zip(&b) {
            for (x, y) in ra.iter().zip(rb) {
                assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
            }
        }
    }

    /// A one-feature pool with two pieces and the weights (1, 2, 3) at r = 0, 1/2, 1.
    fn pool_with_weights_123(padding: PoolPadding) -> (Params, FsPool) {
        let mut params = Params::new(&Device::Cpu, 1);
        let pool = FsPool::new(&mut params, "p", 1, 2, padding).unwrap();
        params
            .vars()
            .next()
            .unwrap()
            .set(&Tensor::new(&[[1.0f32, 2.0, 3.0]], &Device::Cpu).unwrap())
            .unwrap();
        (params, pool)
    }

    #[test]
    fn fspool_matches_a_hand_computation() {
        let (params, pool) = pool_with_weights_123(PoolPadding::Excluded);
        // Event 0: values {1, 5, 3} + padding; event 1: {4, 2}; event 2: {7}; event 3: none.
        let x = t3(
            vec![
                1.0, 5.0, 3.0, 9.0, 2.0, 9.0, 4.0, 9.0, 7.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0,
            ],
            (4, 4, 1),
        );
        let mask = t2(
            vec![
                1., 1., 1., 0., 1., 0., 1., 0., 1., 0., 0., 0., 0., 0., 0., 0.,
            ],
            (4, 4),
        );
        let y = pool.forward(&x, &mask).unwrap().to_vec2::<f32>().unwrap();
        // Sorted (5, 3, 1) at r = (0, 1/2, 1); (4, 2) at r = (0, 1); (7) at r = 0.
        assert_eq!(
            y,
            vec![
                vec![5.0 * 1.0 + 3.0 * 2.0 + 1.0 * 3.0],
                vec![4.0 * 1.0 + 2.0 * 3.0],
                vec![7.0],
                vec![0.0]
            ]
        );
        // Max, min (of two or more objects; a single one sits at r = 0) and sum as special
        // cases (two pieces, so up to three objects).
        let w = params.vars().next().unwrap();
        for (weights, want) in [
            ([1.0f32, 0.0, 0.0], [5.0f32, 4.0, 7.0, 0.0]),
            ([0.0, 0.0, 1.0], [1.0, 2.0, 0.0, 0.0]),
            ([1.0, 1.0, 1.0], [9.0, 6.0, 7.0, 0.0]),
        ] {
            w.set(&Tensor::new(&[weights], &Device::Cpu).unwrap())
                .unwrap();
            let y = pool.forward(&x, &mask).unwrap().to_vec2::<f32>().unwrap();
            assert_eq!(y.concat(), want, "{weights:?}");
        }
    }

    #[test]
    fn zero_padding_sorts_padded_slots_as_members_holding_zero() {
        let (_, pool) = pool_with_weights_123(PoolPadding::Zeros);
        // Three slots sit at r = 0, 1/2, 1 in every event.
        // Event 0: {5, -1} + padding; event 1: {2, 3, 1}; event 2: {-2} + padding; event 3:
        // none. Padded slots hold junk (9, NaN) that must read as 0.
        let values = vec![
            5.0,
            9.0,
            -1.0,
            2.0,
            3.0,
            1.0,
            f32::NAN,
            -2.0,
            9.0,
            9.0,
            9.0,
            9.0,
        ];
        let mask = vec![1., 0., 1., 1., 1., 1., 0., 1., 0., 0., 0., 0.];
        let y = pool
            .forward(&t3(values.clone(), (4, 3, 1)), &t2(mask.clone(), (4, 3)))
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        // Sorted (5, 0, -1), (3, 2, 1), (0, 0, -2), (0, 0, 0).
        let want = [5.0 - 3.0, 3.0 + 4.0 + 3.0, -6.0, 0.0];
        assert_eq!(y.concat(), want);
        // The order of the slots, padding included, does not matter.
        let order = [2, 0, 1];
        let permuted = |v: &[f32]| -> Vec<f32> {
            (0..4)
                .flat_map(|e| order.iter().map(move |&o| v[e * 3 + o]))
                .collect()
        };
        let y = pool
            .forward(
                &t3(permuted(&values), (4, 3, 1)),
                &t2(permuted(&mask), (4, 3)),
            )
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_eq!(y.concat(), want);
    }

    #[test]
    fn pooled_sets_are_permutation_and_padding_invariant() {
        let mut params = Params::new(&Device::Cpu, 2);
        let enc = SetEncoder::new(&mut params, "enc", 3, &[16], 5, Activation::Elu, 4).unwrap();
        let (events, objects) = (6, 5);
        let values = random((events, objects, 3), 3);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let counts: Vec<usize> = (0..events).map(|e| e % objects + 1).collect();
        let mask: Vec<f32> = (0..events * objects)
            .map(|i| {
                if i % objects < counts[i / objects] {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let x = t3(values.clone(), (events, objects, 3));
        let m = t2(mask.clone(), (events, objects));
        let y = enc.forward(&x, &m).unwrap();
        assert_eq!(y.dims(), [events, 5]);

        // Permuting the objects of every event (mask along) leaves the output unchanged.
        let (mut pv, mut pm) = (vec![0f32; values.len()], vec![0f32; mask.len()]);
        for e in 0..events {
            let mut order: Vec<usize> = (0..objects).collect();
            order.shuffle(&mut rng);
            for (to, &from) in order.iter().enumerate() {
                pm[e * objects + to] = mask[e * objects + from];
                for f in 0..3 {
                    pv[(e * objects + to) * 3 + f] = values[(e * objects + from) * 3 + f];
                }
            }
        }
        close(
            &y,
            &enc.forward(&t3(pv, (events, objects, 3)), &t2(pm, (events, objects)))
                .unwrap(),
        );

        // Padding values (even NaN) and extra padding slots change nothing.
        let mut junk = values.clone();
        for (i, v) in junk.iter_mut().enumerate() {
            if mask[i / 3] == 0.0 {
                *v = if i % 2 == 0 { f32::NAN } else { 1e6 };
            }
        }
        close(
            &y,
            &enc.forward(&t3(junk, (events, objects, 3)), &m).unwrap(),
        );
        let wider = objects + 3;
        let (mut wv, mut wm) = (vec![7f32; events * wider * 3], vec![0f32; events * wider]);
        for e in 0..events {
            for o in 0..objects {
                wm[e * wider + o] = mask[e * objects + o];
                for f in 0..3 {
                    wv[(e * wider + o) * 3 + f] = values[(e * objects + o) * 3 + f];
                }
            }
        }
        close(
            &y,
            &enc.forward(&t3(wv, (events, wider, 3)), &t2(wm, (events, wider)))
                .unwrap(),
        );
    }

    #[test]
    fn gradients_flow_and_shapes_are_checked() {
        let mut params = Params::new(&Device::Cpu, 5);
        let enc = SetEncoder::new(&mut params, "enc", 2, &[8], 3, Activation::Relu, 2).unwrap();
        let x = t3(random((4, 3, 2), 6), (4, 3, 2));
        let m = t2(vec![1., 1., 0., 1., 0., 0., 1., 1., 1., 0., 0., 0.], (4, 3));
        let loss = enc
            .forward(&x, &m)
            .unwrap()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        assert!(params.vars().all(|v| grads.get(v.as_tensor()).is_some()));
        assert!(enc.forward(&x, &t2(vec![1.0; 4], (4, 1))).is_err());
        assert!(enc.forward(&t3(vec![0.0; 12], (4, 3, 1)), &m).is_err());
        assert!(FsPool::new(&mut params, "q", 3, 0, PoolPadding::Zeros).is_err());
    }
}
