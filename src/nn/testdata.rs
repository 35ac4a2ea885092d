//! Small labelled data sets for the network tests.

use candle_core::{Device, Tensor};
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use super::layers::matrix;
use super::train::Dataset;

/// `n` points uniform in [-1, 1]², labelled 1 inside the circle of radius 0.6 (a nonlinear
/// boundary), or with random labels when `noise` is set.
pub fn circle(n: usize, seed: u64, noise: bool) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let (a, b) = (
            rng.random::<f32>() * 2.0 - 1.0,
            rng.random::<f32>() * 2.0 - 1.0,
        );
        x.extend([a, b]);
        let inside = if noise {
            rng.random::<bool>()
        } else {
            a * a + b * b < 0.36
        };
        y.push(if inside { 1.0f32 } else { 0.0 });
    }
    Dataset {
        x: matrix(x, 2, &Device::Cpu).unwrap(),
        y: Some(Tensor::new(y, &Device::Cpu).unwrap()),
        weights: None,
        context: None,
    }
}
