//! [`Params`]: a model's trainable tensors, named and ordered, with seeded initialisation,
//! snapshots (to keep the best weights) and conversion to and from named tensor maps
//! (checkpoints). Fixed tensors (PyTorch's buffers, e.g. Deep SVDD's target) are saved and
//! loaded with the parameters but never trained or counted.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use crate::error::{Error, Result};

/// A model's trainable tensors (f32), in the order they were created, and its fixed ones.
#[derive(Clone, Debug)]
pub struct Params {
    device: Device,
    /// Every tensor by name, with whether it is trained.
    vars: Vec<(String, Var, bool)>,
    rng: Xoshiro256PlusPlus,
}

impl Params {
    /// An empty set on `device`; `seed` drives every initialisation made through it.
    pub fn new(device: &Device, seed: u64) -> Self {
        Self {
            device: device.clone(),
            vars: Vec::new(),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// A new parameter `name` of `shape`, drawn uniformly from [-bound, bound] (PyTorch's
    /// default for linear layers uses bound = 1/sqrt(fan_in)).
    pub fn uniform(&mut self, name: &str, shape: &[usize], bound: f64) -> Result<Tensor> {
        check_size(name, shape)?;
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|_| ((2.0 * self.rng.random::<f64>() - 1.0) * bound) as f32)
            .collect();
        self.add(name, Tensor::from_vec(values, shape, &self.device)?)
    }

    /// A new linear-layer weight `name` of shape [outputs, inputs] (PyTorch's layout), holding
    /// the values [`Params::uniform`] would draw for [inputs, outputs], transposed: the same
    /// numbers in the same order from the generator, so a seed gives the same network as
    /// before weights were stored [outputs, inputs].
    pub fn uniform_transposed(
        &mut self,
        name: &str,
        inputs: usize,
        outputs: usize,
        bound: f64,
    ) -> Result<Tensor> {
        check_size(name, &[inputs, outputs])?;
        let values: Vec<f32> = (0..inputs * outputs)
            .map(|_| ((2.0 * self.rng.random::<f64>() - 1.0) * bound) as f32)
            .collect();
        let drawn = Tensor::from_vec(values, (inputs, outputs), &self.device)?;
        self.add(name, drawn.t()?.contiguous()?)
    }

    /// Adds `init` as the parameter `name` and returns its tensor (tracked for gradients).
    pub fn add(&mut self, name: &str, init: Tensor) -> Result<Tensor> {
        Ok(self.insert(name, init, true)?.as_tensor().clone())
    }

    /// A tensor `name` of `shape` holding `value` that is saved and loaded with the
    /// parameters but never trained: left out of [`Params::vars`] and [`Params::count`]. The
    /// owner changes it with `Var::set`.
    pub fn fixed(&mut self, name: &str, shape: &[usize], value: f64) -> Result<Var> {
        check_size(name, shape)?;
        let init = (Tensor::ones(shape, DType::F32, &self.device)? * value)?;
        self.insert(name, init, false)
    }

    fn insert(&mut self, name: &str, init: Tensor, trained: bool) -> Result<Var> {
        if self.vars.iter().any(|(n, _, _)| n == name) {
            return Err(Error::invalid(
                "parameter",
                format!("'{name}' is defined twice"),
            ));
        }
        let var = Var::from_tensor(&init.to_dtype(DType::F32)?)?;
        self.vars.push((name.to_string(), var.clone(), trained));
        Ok(var)
    }

    /// The trained parameters, in creation order.
    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.vars.iter().filter(|(_, _, t)| *t).map(|(_, v, _)| v)
    }

    /// The number of trained scalar parameters.
    pub fn count(&self) -> usize {
        self.vars().map(|v| v.elem_count()).sum()
    }

    /// Copies of the current values, fixed tensors included (to restore the best epoch).
    pub fn snapshot(&self) -> Result<Vec<Tensor>> {
        Ok(self
            .vars
            .iter()
            .map(|(_, v, _)| v.as_tensor().copy())
            .collect::<candle_core::Result<_>>()?)
    }

    /// Sets every parameter to the values of a [`Params::snapshot`].
    pub fn restore(&self, snapshot: &[Tensor]) -> Result<()> {
        for ((_, var, _), value) in self.vars.iter().zip(snapshot) {
            var.set(value)?;
        }
        Ok(())
    }

    /// The parameters and fixed tensors by name (for checkpoints).
    pub fn to_map(&self) -> HashMap<String, Tensor> {
        self.vars
            .iter()
            .map(|(n, v, _)| (n.clone(), v.as_tensor().clone()))
            .collect()
    }

    /// Loads every parameter and fixed tensor from `map` (e.g. a checkpoint), checking names
    /// and shapes.
    pub fn load_map(&self, map: &HashMap<String, Tensor>) -> Result<()> {
        for (name, var, _) in &self.vars {
            let value = map.get(name).ok_or_else(|| {
                Error::invalid("checkpoint", format!("parameter '{name}' is missing"))
            })?;
            if value.dims() != var.dims() {
                return Err(Error::invalid(
                    "checkpoint",
                    format!(
                        "parameter '{name}' has shape {:?}, the model expects {:?}",
                        value.dims(),
                        var.dims()
                    ),
                ));
            }
            var.set(&value.to_dtype(DType::F32)?.to_device(&self.device)?)?;
        }
        Ok(())
    }
}

/// Refuses a parameter of `shape` too large for the memory available: its f32 values exist
/// twice while it is made (the initial values and the trained variable).
fn check_size(name: &str, shape: &[usize]) -> Result<()> {
    let values: f64 = shape.iter().map(|&d| d as f64).product();
    crate::memory::check(
        &format!("parameter '{name}' of shape {shape:?}"),
        values * 4.0 * 2.0,
    )
}

/// Refuses to train `params` when their gradients, optimizer moments and best-weights
/// snapshot (four more copies of the f32 parameters) do not fit in the memory available.
pub(crate) fn check_trainable(params: &Params) -> Result<()> {
    let values: f64 = params.vars().map(|v| v.elem_count() as f64).sum();
    crate::memory::check(&format!("training {values} parameters"), values * 4.0 * 4.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_initialisation_snapshots_and_maps() {
        let mut a = Params::new(&Device::Cpu, 3);
        let w = a.uniform("w", &[3, 2], 0.5).unwrap();
        a.add("b", Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap())
            .unwrap();
        let mut b = Params::new(&Device::Cpu, 3);
        let w2 = b.uniform("w", &[3, 2], 0.5).unwrap();
        assert_eq!(w.to_vec2::<f32>().unwrap(), w2.to_vec2::<f32>().unwrap());
        assert!(
            w.flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .all(|v| v.abs() <= 0.5)
        );
        assert_eq!(a.count(), 8);
        let snap = a.snapshot().unwrap();
        a.vars()
            .next()
            .unwrap()
            .set(&Tensor::zeros((3, 2), DType::F32, &Device::Cpu).unwrap())
            .unwrap();
        a.restore(&snap).unwrap();
        assert_eq!(
            a.vars()
                .next()
                .unwrap()
                .as_tensor()
                .to_vec2::<f32>()
                .unwrap(),
            w2.to_vec2::<f32>().unwrap()
        );
        let map = a.to_map();
        let mut c = Params::new(&Device::Cpu, 9);
        c.uniform("w", &[3, 2], 0.5).unwrap();
        c.add("b", Tensor::ones(2, DType::F32, &Device::Cpu).unwrap())
            .unwrap();
        c.load_map(&map).unwrap();
        assert_eq!(
            c.vars()
                .next()
                .unwrap()
                .as_tensor()
                .to_vec2::<f32>()
                .unwrap(),
            w2.to_vec2::<f32>().unwrap()
        );
        assert!(a.add("w", w.clone()).is_err());
        // A fixed tensor travels with the checkpoint but is neither trained nor counted.
        let c = a.fixed("c", &[2], 5.0).unwrap();
        assert_eq!((a.count(), a.vars().count()), (8, 2));
        let mut e = Params::new(&Device::Cpu, 9);
        e.uniform("w", &[3, 2], 0.5).unwrap();
        e.add("b", Tensor::ones(2, DType::F32, &Device::Cpu).unwrap())
            .unwrap();
        let c2 = e.fixed("c", &[2], 0.0).unwrap();
        e.load_map(&a.to_map()).unwrap();
        assert_eq!(c2.to_vec1::<f32>().unwrap(), c.to_vec1::<f32>().unwrap());
        let mut d = Params::new(&Device::Cpu, 9);
        d.uniform("w", &[2, 2], 0.5).unwrap();
        assert!(d.load_map(&map).unwrap_err().to_string().contains("shape"));
    }
}
