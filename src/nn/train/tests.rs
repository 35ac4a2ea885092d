use candle_core::Device;

use super::*;
use crate::nn::mlp::{Mlp, MlpConfig};
use crate::nn::testdata::circle;

fn small_mlp(seed: u64) -> Mlp {
    let config = MlpConfig {
        hidden: vec![32, 32],
        ..MlpConfig::new(2)
    };
    Mlp::new(config, &Device::Cpu, seed).unwrap()
}

fn accuracy(model: &Mlp, data: &Dataset) -> f64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let p = model
        .predict(
            &data.x,
            &mut Step {
                training: false,
                rng: &mut rng,
            },
        )
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let y = data.y.as_ref().unwrap().to_vec1::<f32>().unwrap();
    p.iter()
        .zip(&y)
        .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
        .count() as f64
        / y.len() as f64
}

#[test]
fn a_classifier_learns_a_nonlinear_boundary() {
    let data = circle(3000, 1, false);
    let model = small_mlp(2);
    let opts = TrainOptions {
        epochs: 40,
        batch_size: 64,
        lr: 1e-2,
        seed: 3,
        ..Default::default()
    };
    let history = fit(&model, &data, &opts, None).unwrap();
    let losses: Vec<f64> = history.epochs.iter().map(|e| e.loss).collect();
    assert!(losses.last().unwrap() < &(0.5 * losses[0]), "{history}");
    let acc = accuracy(&model, &circle(2000, 99, false));
    assert!(acc > 0.93, "accuracy on fresh data {acc}\n{history}");
    assert!(history.to_string().contains("best epoch"));
}

#[test]
fn same_seed_same_network() {
    let data = circle(500, 4, false);
    let run = || {
        let model = small_mlp(5);
        let opts = TrainOptions {
            epochs: 3,
            batch_size: 50,
            seed: 6,
            ..Default::default()
        };
        let h = fit(&model, &data, &opts, None).unwrap();
        (
            h.epochs.iter().map(|e| e.loss).collect::<Vec<_>>(),
            model.params().snapshot().unwrap()[0]
                .to_vec2::<f32>()
                .unwrap(),
        )
    };
    assert_eq!(run(), run());
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    // Labels that are pure noise: the validation loss cannot improve for long.
    let data = circle(400, 7, true);
    let model = small_mlp(9);
    let opts = TrainOptions {
        epochs: 200,
        batch_size: 32,
        lr: 1e-2,
        patience: Some(3),
        seed: 10,
        ..Default::default()
    };
    let history = fit(&model, &data, &opts, None).unwrap();
    assert!(history.stopped_early && history.epochs.len() < 200);
    assert_eq!(history.epochs.len(), history.best_epoch + 4);
    let monitored = history.monitored();
    let best = monitored.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(monitored[history.best_epoch], best);
}

/// The epoch (1-based) at which the peak rule stops a scripted monitor curve, if any.
fn peak_stop(curve: &[f64], goal: Goal) -> Option<usize> {
    let opts = TrainOptions {
        epochs: 1000,
        stop_at_peak: Some((5, 5)),
        goal,
        ..Default::default()
    };
    let mut tracker = Tracker::new();
    curve
        .iter()
        .enumerate()
        .find(|&(epoch, &v)| tracker.update(v, epoch, &opts).stop)
        .map(|(epoch, _)| epoch + 1)
}

#[test]
fn the_kl_peak_rule_stops_after_five_rises_and_five_falls() {
    // Rises for 6 epochs to a peak at epoch 7, then falls: stop at epoch 12.
    let peak = [
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 6.5, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0,
    ];
    assert_eq!(peak_stop(&peak, Goal::Maximise), Some(12));
    // Four rises are not enough, nor is a fall interrupted by a rise.
    let short_rise = [1.0, 2.0, 3.0, 4.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.5];
    assert_eq!(peak_stop(&short_rise, Goal::Maximise), None);
    let interrupted = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 5.0, 4.0, 4.5, 4.0, 3.0, 2.0];
    assert_eq!(peak_stop(&interrupted, Goal::Maximise), None);
    // A flat epoch is neither a rise nor a fall.
    let flat = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0];
    assert_eq!(peak_stop(&flat, Goal::Maximise), None);
    // A noisy start does not matter once the clean peak comes; minimising mirrors it.
    let noisy = [
        3.0, 1.0, 2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0,
    ];
    assert_eq!(peak_stop(&noisy, Goal::Maximise), Some(14));
    let trough: Vec<f64> = peak.iter().map(|v| -v).collect();
    assert_eq!(peak_stop(&trough, Goal::Minimise), Some(12));
}

#[test]
fn weights_scale_the_loss_and_reduce_on_plateau_lowers_the_rate() {
    let data = circle(300, 11, false);
    let w = Tensor::new(vec![2.0f32; 300], &Device::Cpu).unwrap();
    let weighted = Dataset {
        weights: Some(w),
        ..data.clone()
    };
    let loss_of = |d: &Dataset| {
        let model = small_mlp(12);
        let opts = TrainOptions {
            epochs: 1,
            validation: Validation::None,
            lr: 1e-9,
            optimizer: Kind::Sgd { momentum: 0.0 },
            seed: 1,
            ..Default::default()
        };
        fit(&model, d, &opts, None).unwrap().epochs[0].loss
    };
    // Uniform weights leave the weighted mean unchanged.
    assert!((loss_of(&data) - loss_of(&weighted)).abs() < 1e-6);
    let model = small_mlp(13);
    let opts = TrainOptions {
        epochs: 6,
        lr: 1e-9,
        reduce_lr: Some((0.5, 1)),
        monitor: "loss".into(),
        validation: Validation::None,
        seed: 2,
        ..Default::default()
    };
    let history = fit(&model, &data, &opts, None).unwrap();
    assert!(history.epochs.last().unwrap().lr < 1e-9, "{history}");
}

/// A model that presses Ctrl-C (triggers `flag`) at its `at`-th training batch.
struct PressesCtrlC<'a> {
    inner: &'a Mlp,
    flag: &'a Interrupt,
    at: usize,
    calls: std::cell::Cell<usize>,
}

impl Trainable for PressesCtrlC<'_> {
    fn params(&self) -> &crate::nn::Params {
        self.inner.params()
    }

    fn loss(&self, batch: &Batch, step: &mut Step) -> Result<Tensor> {
        if step.training {
            self.calls.set(self.calls.get() + 1);
            if self.calls.get() == self.at {
                self.flag.trigger();
            }
        }
        self.inner.loss(batch, step)
    }

    fn needs_targets(&self) -> bool {
        true
    }
}

#[test]
fn ctrl_c_mid_training_restores_the_best_weights_so_far() {
    let data = circle(400, 16, false);
    let opts = TrainOptions {
        epochs: 2,
        batch_size: 40,
        lr: 1e-2,
        seed: 17,
        ..Default::default()
    };
    // Two full epochs, keeping the better of them.
    let reference = small_mlp(18);
    fit(&reference, &data, &opts, None).unwrap();
    // The same training, interrupted in the middle of a third epoch (8 batches each).
    let interrupted = small_mlp(18);
    let flag = Interrupt::new();
    let model = PressesCtrlC {
        inner: &interrupted,
        flag: &flag,
        at: 20,
        calls: 0.into(),
    };
    let long = TrainOptions { epochs: 5, ..opts };
    assert!(matches!(
        fit(&model, &data, &long, Some(&flag)),
        Err(Error::Interrupted)
    ));
    let weights = |m: &Mlp| {
        m.params()
            .snapshot()
            .unwrap()
            .iter()
            .map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(weights(&interrupted), weights(&reference));
}

#[test]
fn ctrl_c_stops_training_and_bad_inputs_are_errors() {
    let data = circle(200, 14, false);
    let model = small_mlp(15);
    let flag = Interrupt::new();
    flag.trigger();
    assert!(matches!(
        fit(&model, &data, &TrainOptions::default(), Some(&flag)),
        Err(Error::Interrupted)
    ));
    let no_labels = Dataset {
        y: None,
        ..data.clone()
    };
    assert!(
        fit(&model, &no_labels, &TrainOptions::default(), None)
            .unwrap_err()
            .to_string()
            .contains("targets")
    );
    let bad_w = Dataset {
        weights: Some(Tensor::new(vec![-1.0f32; 200], &Device::Cpu).unwrap()),
        ..data.clone()
    };
    assert!(fit(&model, &bad_w, &TrainOptions::default(), None).is_err());
    let bad_monitor = TrainOptions {
        monitor: "val_auc".into(),
        epochs: 1,
        ..Default::default()
    };
    assert!(
        fit(&model, &data, &bad_monitor, None)
            .unwrap_err()
            .to_string()
            .contains("monitor")
    );
    let bad_fraction = TrainOptions {
        validation: Validation::Fraction(1.5),
        ..Default::default()
    };
    assert!(fit(&model, &data, &bad_fraction, None).is_err());
}
