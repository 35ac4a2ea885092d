//! Training speed: seconds per epoch of a 4-layer, 64-wide MLP (6 inputs, hidden layers
//! [64, 64, 64] and the output layer: four dense layers) on 500 000 synthetic events, batch
//! 512, Adam with lr 1e-3, no validation, through `nn::train::fit`; then an ensemble of 12
//! such networks trained together (`nn::ensemble::fit_ensemble`) against 12 trained one after
//! another. `scripts/bench_training.py` times the same network in PyTorch;
//! `scripts/bench_training.sh` runs both and prints the ratios.
//!
//! Run: `cargo bench --bench training [-- EVENTS EPOCHS MEMBERS]` (defaults 500000 3 12).
//! Threads: `RAYON_NUM_THREADS` (the comparison uses 2). Device: `BUMPLAB_DEVICE` ("cpu", the
//! default; "cuda" or "cuda:N" with `--features cuda`).

use std::time::Instant;

use bumplab::nn::ensemble::{Ensemble, MemberData, fit_ensemble};
use bumplab::nn::layers::matrix;
use bumplab::nn::mlp::{Mlp, MlpConfig};
use bumplab::nn::train::{Dataset, TrainOptions, Validation, fit};
use candle_core::{Device, Tensor};
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

/// `n` events of 6 features: a signal (label 1) shifted in the first three features on top
/// of a standard-normal background (label 0), like `scripts/bench_training.py` draws them.
fn synthetic(n: usize, seed: u64, device: &Device) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut x = Vec::with_capacity(6 * n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let label = rng.random::<bool>();
        for j in 0..6 {
            // Box-Muller: one normal number per pair of uniforms (speed is irrelevant here).
            let (u1, u2) = (rng.random::<f64>().max(1e-300), rng.random::<f64>());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            let shift = if label && j < 3 { 0.5 } else { 0.0 };
            x.push((z + shift) as f32);
        }
        y.push(if label { 1.0f32 } else { 0.0 });
    }
    Dataset {
        x: matrix(x, 6, device).unwrap(),
        y: Some(Tensor::from_vec(y, n, device).unwrap()),
        weights: None,
        context: None,
    }
}

fn options(epochs: usize, seed: u64) -> TrainOptions {
    TrainOptions {
        epochs,
        batch_size: 512,
        lr: 1e-3,
        validation: Validation::None,
        monitor: "loss".into(),
        restore_best: false,
        seed,
        ..Default::default()
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let events = args.first().copied().unwrap_or(500_000);
    let epochs = args.get(1).copied().unwrap_or(3);
    let members = args.get(2).copied().unwrap_or(12);
    let threads = rayon::current_num_threads();
    let device = match std::env::var("BUMPLAB_DEVICE") {
        Ok(name) => bumplab::nn::device::parse_device(&name).unwrap_or_else(|e| panic!("{e}")),
        Err(_) => Device::Cpu,
    };
    let data = synthetic(events, 1, &device);
    let config = MlpConfig::new(6);

    // One network.
    let model = Mlp::new(config.clone(), &device, 2).unwrap();
    let history = fit(&model, &data, &options(epochs, 3), None).unwrap();
    for (i, e) in history.epochs.iter().enumerate() {
        println!(
            "bumplab: single epoch={} seconds={:.3} loss={:.5} threads={threads}",
            i + 1,
            e.seconds,
            e.loss
        );
    }

    // The ensemble: one epoch each way, every member on all events with its own shuffle and
    // initial weights, the same for both ways.
    if members == 0 {
        return;
    }
    let ensemble = Ensemble::new(config, members, &device, 10).unwrap();
    let singles: Vec<Mlp> = (0..members).map(|m| ensemble.member(m).unwrap()).collect();
    let started = Instant::now();
    for (m, single) in singles.iter().enumerate() {
        fit(
            single,
            &data,
            &options(1, Ensemble::member_seed(100, m)),
            None,
        )
        .unwrap();
    }
    let sequential = started.elapsed().as_secs_f64();
    println!("bumplab: sequential members={members} epoch=1 seconds={sequential:.3}");
    let started = Instant::now();
    let histories = fit_ensemble(
        &ensemble,
        &data,
        &MemberData::all(events, members),
        &options(1, 100),
        None,
    )
    .unwrap();
    let together = started.elapsed().as_secs_f64();
    println!(
        "bumplab: together members={members} epoch=1 seconds={together:.3} loss[0]={:.5}",
        histories[0].epochs[0].loss
    );
    println!(
        "bumplab: ensemble speed-up {:.2}x ({members} one after another / {members} together)",
        sequential / together
    );
}
