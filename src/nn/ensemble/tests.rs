use super::*;
use crate::interrupt::Interrupt;
use crate::nn::testdata::circle;
use crate::nn::train::{Dataset, TrainOptions, Validation, fit};

fn subset(data: &Dataset, idx: &[u32]) -> Dataset {
    let index = Tensor::new(idx, &Device::Cpu).unwrap();
    Dataset {
        x: data.x.index_select(&index, 0).unwrap(),
        y: data.y.as_ref().map(|y| y.index_select(&index, 0).unwrap()),
        weights: None,
        context: None,
    }
}

fn config() -> MlpConfig {
    MlpConfig {
        hidden: vec![16, 16],
        ..MlpConfig::new(2)
    }
}

fn flat_weights(mlp: &Mlp) -> Vec<f32> {
    mlp.params()
        .snapshot()
        .unwrap()
        .iter()
        .flat_map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect()
}

/// Trains every member together and one by one with `fit`, and checks that weights and
/// histories agree.
fn check_against_one_by_one(data: &Dataset, members: &[MemberData], opts: &TrainOptions) {
    let ensemble = Ensemble::new(config(), members.len(), &Device::Cpu, 21).unwrap();
    let initial: Vec<Mlp> = (0..members.len())
        .map(|m| ensemble.member(m).unwrap())
        .collect();
    let together = fit_ensemble(&ensemble, data, members, opts, None).unwrap();
    for (m, md) in members.iter().enumerate() {
        let alone = &initial[m];
        let solo_opts = TrainOptions {
            seed: Ensemble::member_seed(opts.seed, m),
            validation: match &md.validation {
                Some(v) => Validation::Data(subset(data, v)),
                None => opts.validation.clone(),
            },
            ..opts.clone()
        };
        let history = fit(alone, &subset(data, &md.train), &solo_opts, None).unwrap();
        let (a, b) = (&together[m], &history);
        assert_eq!(a.epochs.len(), b.epochs.len(), "member {m}");
        assert_eq!(
            (a.best_epoch, a.stopped_early),
            (b.best_epoch, b.stopped_early)
        );
        for (ea, eb) in a.epochs.iter().zip(&b.epochs) {
            assert!((ea.loss - eb.loss).abs() < 1e-5, "member {m}: {a}\n{b}");
            let (va, vb) = (ea.val_loss.unwrap_or(0.0), eb.val_loss.unwrap_or(0.0));
            assert!((va - vb).abs() < 1e-5, "member {m}: {a}\n{b}");
        }
        let (wa, wb) = (
            flat_weights(&ensemble.member(m).unwrap()),
            flat_weights(alone),
        );
        let worst = wa
            .iter()
            .zip(&wb)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "member {m}: weights differ by {worst}");
    }
}

#[test]
fn members_trained_together_equal_members_trained_alone() {
    // Five folds of 503 events: unequal sizes, so batches are padded; batch 64 leaves a
    // short last batch.
    let data = circle(503, 1, false);
    let folds = MemberData::k_folds(data.len(), 5, 2).unwrap();
    let opts = TrainOptions {
        epochs: 4,
        batch_size: 64,
        lr: 5e-3,
        seed: 3,
        ..Default::default()
    };
    check_against_one_by_one(&data, &folds, &opts);
    // A hold-out fraction drawn per member, and SGD with momentum.
    let opts = TrainOptions {
        epochs: 3,
        batch_size: 50,
        lr: 1e-2,
        optimizer: crate::nn::optim::Kind::Sgd { momentum: 0.9 },
        validation: Validation::Fraction(0.25),
        seed: 4,
        ..Default::default()
    };
    check_against_one_by_one(&data, &MemberData::all(data.len(), 3), &opts);
}

#[test]
fn early_stopping_is_per_member_and_freezes_stopped_members() {
    // Few events with noisy labels: the validation loss stops improving at a different
    // epoch for each member.
    let mut data = circle(200, 5, false);
    let noise = circle(200, 6, true);
    data.y = Some(
        Tensor::cat(
            &[
                data.y.as_ref().unwrap().narrow(0, 0, 100).unwrap(),
                noise.y.as_ref().unwrap().narrow(0, 100, 100).unwrap(),
            ],
            0,
        )
        .unwrap(),
    );
    let folds = MemberData::k_folds(data.len(), 3, 6).unwrap();
    let opts = TrainOptions {
        epochs: 60,
        batch_size: 16,
        lr: 1e-2,
        patience: Some(2),
        seed: 7,
        ..Default::default()
    };
    let ensemble = Ensemble::new(config(), 3, &Device::Cpu, 8).unwrap();
    let histories = fit_ensemble(&ensemble, &data, &folds, &opts, None).unwrap();
    assert!(histories.iter().all(|h| h.stopped_early), "{histories:?}");
    let lengths: Vec<usize> = histories.iter().map(|h| h.epochs.len()).collect();
    assert!(
        lengths.iter().any(|&l| l != lengths[0]),
        "members stop at different epochs: {lengths:?}"
    );
    for h in &histories {
        assert_eq!(h.epochs.len(), h.best_epoch + 3);
    }
    // Each member ends where it would end alone, although the others trained on after
    // it stopped: stopped members were not updated.
    check_against_one_by_one(&data, &folds, &opts);
}

#[test]
fn members_made_from_seeds_and_selected_keep_their_weights() {
    let data = circle(200, 4, false);
    let whole = Ensemble::new(config(), 5, &Device::Cpu, 21).unwrap();
    let seeds: Vec<u64> = (0..5).map(|m| Ensemble::member_seed(21, m)).collect();
    let from_seeds = Ensemble::with_seeds(config(), &seeds, &Device::Cpu).unwrap();
    let part = from_seeds.select(1..4).unwrap();
    assert_eq!(part.members(), 3);
    let all = whole.member_predictions(&data.x).unwrap();
    assert_eq!(from_seeds.member_predictions(&data.x).unwrap(), all);
    assert_eq!(
        part.member_predictions(&data.x).unwrap(),
        all[1..4].to_vec()
    );
    // A copy: training the part leaves the whole as it was.
    let opts = TrainOptions {
        epochs: 1,
        seed: 3,
        ..Default::default()
    };
    fit_ensemble(&part, &data, &MemberData::all(200, 3), &opts, None).unwrap();
    assert_eq!(from_seeds.member_predictions(&data.x).unwrap(), all);
    assert_ne!(
        part.member_predictions(&data.x).unwrap(),
        all[1..4].to_vec()
    );
    for bad in [0..0, 4..6] {
        assert!(from_seeds.select(bad).is_err());
    }
    assert!(Ensemble::with_seeds(config(), &[], &Device::Cpu).is_err());
}

#[test]
fn predictions_average_the_members_and_bad_inputs_are_errors() {
    let data = circle(300, 9, false);
    let ensemble = Ensemble::new(config(), 4, &Device::Cpu, 10).unwrap();
    let opts = TrainOptions {
        epochs: 2,
        seed: 11,
        ..Default::default()
    };
    let folds = MemberData::k_folds(data.len(), 4, 12).unwrap();
    fit_ensemble(&ensemble, &data, &folds, &opts, None).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let mut step = Step {
        training: false,
        rng: &mut rng,
    };
    let members = ensemble.predict_members(&data.x, &mut step).unwrap();
    assert_eq!(members.dims(), [4, 300]);
    let mean = ensemble
        .predict(&data.x, &mut step)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let per: Vec<Vec<f32>> = (0..4)
        .map(|m| {
            ensemble
                .member(m)
                .unwrap()
                .predict(&data.x, &mut step)
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect();
    let batched = ensemble.mean_predictions(&data.x).unwrap();
    for (i, v) in mean.iter().enumerate() {
        let want = per.iter().map(|p| p[i]).sum::<f32>() / 4.0;
        assert!((v - want).abs() < 1e-5);
        assert!((batched[i] - f64::from(want)).abs() < 1e-5);
    }
    // Different data, different networks.
    assert!(
        per[0]
            .iter()
            .zip(&per[1])
            .any(|(a, b)| (a - b).abs() > 1e-3)
    );
    // Errors.
    assert!(fit_ensemble(&ensemble, &data, &folds[..2], &opts, None).is_err());
    let bad = vec![
        MemberData {
            train: vec![0, 300],
            validation: None,
            shuffle_seed: None,
        };
        4
    ];
    let err = fit_ensemble(&ensemble, &data, &bad, &opts, None).unwrap_err();
    assert!(err.to_string().contains("event 300"), "{err}");
    assert!(MemberData::k_folds(10, 1, 0).is_err());
    assert!(Ensemble::new(config(), 0, &Device::Cpu, 0).is_err());
    let flag = Interrupt::new();
    flag.trigger();
    assert!(matches!(
        fit_ensemble(&ensemble, &data, &folds, &opts, Some(&flag)),
        Err(Error::Interrupted)
    ));
}

#[test]
fn each_event_is_in_the_fold_whose_member_validates_on_it() {
    let (events, k, seed) = (23, 4, 9);
    let fold = MemberData::fold_of_each(events, k, seed).unwrap();
    for (i, member) in MemberData::k_folds(events, k, seed)
        .unwrap()
        .iter()
        .enumerate()
    {
        let validation = member.validation.as_ref().unwrap();
        assert!(validation.iter().all(|&e| fold[e as usize] == i));
        assert_eq!(fold.iter().filter(|&&f| f == i).count(), validation.len());
    }
    assert!(MemberData::fold_of_each(3, 4, seed).is_err());
}

#[test]
fn fit_trains_every_member_on_the_same_batches() {
    let data = circle(400, 13, false);
    let ensemble = Ensemble::new(config(), 2, &Device::Cpu, 14).unwrap();
    let alone = ensemble.member(1).unwrap();
    let opts = TrainOptions {
        epochs: 2,
        batch_size: 64,
        validation: Validation::None,
        seed: 15,
        ..Default::default()
    };
    fit(&ensemble, &data, &opts, None).unwrap();
    fit(&alone, &data, &opts, None).unwrap();
    let (a, b) = (
        flat_weights(&ensemble.member(1).unwrap()),
        flat_weights(&alone),
    );
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-4));
}
