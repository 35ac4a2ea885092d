//! The GPU trains as the CPU does (issue 23 item 2): the same seed gives the same losses.
//! Only in the `cuda` build; on a GPU machine `scripts/gpu-check run` runs it with
//! BUMPLAB_REQUIRE_GPU=1. Kept apart from tests/device.rs so that its program holds no
//! scripting layer and stays small enough to carry to a GPU machine.
#![cfg(feature = "cuda")]

/// The same seed gives the same training on the GPU as on the CPU: a 3 x 16 MLP and a
/// 3-member ensemble trained for three epochs on 4000 events, the loss of every epoch equal
/// within float32 rounding (the weights start and the batches are shuffled on the host, so
/// only the order of the sums differs). Without a GPU it is skipped, unless
/// BUMPLAB_REQUIRE_GPU is set (as scripts/gpu-check does), when it fails.
#[test]
fn training_on_the_gpu_follows_the_cpu() {
    use bumplab::nn::ensemble::{Ensemble, MemberData, fit_ensemble};
    use bumplab::nn::layers::matrix;
    use bumplab::nn::mlp::{Mlp, MlpConfig};
    use bumplab::nn::train::{Dataset, TrainOptions, Validation, fit};
    use candle_core::{Device, Tensor};

    let gpu = match bumplab::nn::device::parse_device("cuda") {
        Ok(gpu) => gpu,
        Err(err) if std::env::var_os("BUMPLAB_REQUIRE_GPU").is_none() => {
            eprintln!("skipped, no GPU: {err}");
            return;
        }
        Err(err) => panic!("BUMPLAB_REQUIRE_GPU is set but: {err}"),
    };
    let n = 4000;
    // A fixed, irregular pattern: label 1 where a smooth function of the features is positive.
    let x: Vec<f32> = (0..4 * n)
        .map(|i| ((i as f32 * 0.7548777).fract() - 0.5) * 4.0)
        .collect();
    let y: Vec<f32> = x
        .chunks(4)
        .map(|r| f32::from(r[0] * r[1] + 0.5 * r[2] - r[3].sin() > 0.0))
        .collect();
    let data = |device: &Device| Dataset {
        x: matrix(x.clone(), 4, device).unwrap(),
        y: Some(Tensor::from_vec(y.clone(), n, device).unwrap()),
        weights: None,
        context: None,
    };
    let options = TrainOptions {
        epochs: 3,
        batch_size: 128,
        lr: 1e-3,
        validation: Validation::None,
        monitor: "loss".into(),
        restore_best: false,
        seed: 5,
        ..Default::default()
    };
    let mut config = MlpConfig::new(4);
    config.hidden = vec![16, 16, 16];
    let close = |what: &str, cpu: &[f64], gpu: &[f64]| {
        assert_eq!(cpu.len(), gpu.len(), "{what}");
        for (e, (c, g)) in cpu.iter().zip(gpu).enumerate() {
            let rel = (c - g).abs() / c.abs().max(1e-12);
            eprintln!(
                "{what}: epoch {} loss cpu {c:.7} gpu {g:.7} (rel {rel:.1e})",
                e + 1
            );
            assert!(rel < 1e-4, "{what}: epoch {}: cpu {c} gpu {g}", e + 1);
        }
    };

    let losses = |device: &Device| -> Vec<f64> {
        let model = Mlp::new(config.clone(), device, 7).unwrap();
        let history = fit(&model, &data(device), &options, None).unwrap();
        history.epochs.iter().map(|e| e.loss).collect()
    };
    close("mlp", &losses(&Device::Cpu), &losses(&gpu));

    let ensemble_losses = |device: &Device| -> Vec<Vec<f64>> {
        let ensemble = Ensemble::new(config.clone(), 3, device, 9).unwrap();
        fit_ensemble(
            &ensemble,
            &data(device),
            &MemberData::all(n, 3),
            &options,
            None,
        )
        .unwrap()
        .iter()
        .map(|h| h.epochs.iter().map(|e| e.loss).collect())
        .collect()
    };
    let (cpu, on_gpu) = (ensemble_losses(&Device::Cpu), ensemble_losses(&gpu));
    for (m, (c, g)) in cpu.iter().zip(&on_gpu).enumerate() {
        close(&format!("ensemble member {m}"), c, g);
    }
}
