//! One classifier code for every "these events against those" step of the benchmark frame:
//! k-fold cross-validation in which every event is scored exactly once, by the member that
//! did not train on it. The supervised and idealized references use it; so can any search
//! whose classifier separates data from a background model.

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::ensemble::{Ensemble, MemberData, fit_ensemble};
use crate::nn::mlp::MlpConfig;
use crate::nn::train::{Dataset, TrainOptions, Validation};
use crate::seed::stream_seed;

/// How the k-fold classifier is built and trained.
#[derive(Clone, Debug)]
pub struct KfoldClassifier {
    /// Folds k (5): the members of fold i train on the other k − 1 folds and score fold i.
    pub folds: usize,
    /// Networks per fold (1), each with its own initial weights and shuffles; a fold's rows
    /// are scored by their mean. Averaging several networks tames the noise of a classifier
    /// that learns a signal of a few hundred events among 10^5 (the weakly supervised
    /// regime), at that many times the training.
    pub members_per_fold: usize,
    /// Each member's network (`inputs` is set from the rows): 3 × 64, ReLU, a sigmoid output.
    pub network: MlpConfig,
    /// Training of each member: 20 epochs, batch 256, Adam 1e-3, no early stopping (the
    /// held-out fold is the score, not a validation set).
    pub training: TrainOptions,
    /// Where the networks live (CPU).
    pub device: Device,
    /// Seed of the folds, the initial weights and the shuffles.
    pub seed: u64,
}

impl Default for KfoldClassifier {
    fn default() -> Self {
        Self {
            folds: 5,
            members_per_fold: 1,
            network: MlpConfig::new(1),
            training: TrainOptions {
                epochs: 20,
                batch_size: 256,
                validation: Validation::None,
                monitor: "loss".into(),
                patience: None,
                restore_best: false,
                ..TrainOptions::default()
            },
            device: Device::Cpu,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

/// The most networks per fold [`KfoldClassifier::members_per_fold`] may ask for.
pub const MAX_MEMBERS_PER_FOLD: usize = 50;

/// The out-of-sample scores of a k-fold classification, and its members.
#[derive(Clone, Debug)]
pub struct KfoldScores {
    /// Each row's score, by the members that did not train on it (their mean).
    pub scores: Vec<f64>,
    /// Each row's fold: the one whose members scored it.
    pub fold: Vec<usize>,
    /// The trained members: their mean scores rows that none of them trained on
    /// ([`Ensemble::mean_predictions`]).
    pub members: Ensemble,
}

/// Trains `opts.folds` classifiers of the rows of `x` labelled 1 against those labelled 0,
/// the rows weighted by `weights` (ones if `None`) and then each class scaled to the same
/// total, so that the classifier's odds are the likelihood ratio up to a constant that no
/// threshold sees. Every row is scored by the mean of the members of its fold (member
/// `k * members_per_fold + j` is network j of fold k).
pub fn kfold_scores(
    x: &Tensor,
    labels: &[f32],
    weights: Option<&[f64]>,
    opts: &KfoldClassifier,
    interrupt: Option<&Interrupt>,
) -> Result<KfoldScores> {
    let (n, features) = x.dims2()?;
    if labels.len() != n || weights.is_some_and(|w| w.len() != n) {
        return Err(Error::invalid(
            "classifier inputs",
            format!(
                "{n} rows, {} labels and {} weights",
                labels.len(),
                weights.map_or(n, <[f64]>::len)
            ),
        ));
    }
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let total = |class: f32| -> f64 {
        (0..n)
            .filter(|&i| labels[i] == class)
            .map(weight)
            .sum::<f64>()
    };
    let (ones, zeros) = (total(1.0), total(0.0));
    if !(ones > 0.0 && zeros > 0.0) || labels.iter().any(|&l| l != 0.0 && l != 1.0) {
        return Err(Error::invalid(
            "classifier inputs",
            format!(
                "labels must be 0 or 1 with both classes weighing something (total weights {ones} and {zeros})"
            ),
        ));
    }
    if n < 2 * opts.folds {
        return Err(Error::invalid(
            "folds",
            format!(
                "{n} events cannot fill {} folds of at least two",
                opts.folds
            ),
        ));
    }
    let scaled: Vec<f32> = (0..n)
        .map(|i| {
            let class_total = if labels[i] == 1.0 { ones } else { zeros };
            (weight(i) * n as f64 / (2.0 * class_total)) as f32
        })
        .collect();
    let data = Dataset {
        x: x.clone(),
        y: Some(Tensor::from_vec(labels.to_vec(), n, &opts.device)?),
        weights: Some(Tensor::from_vec(scaled, n, &opts.device)?),
        context: None,
    };
    if opts.members_per_fold == 0 || opts.members_per_fold > MAX_MEMBERS_PER_FOLD {
        return Err(Error::invalid(
            "members_per_fold",
            format!(
                "{}: train 1 to {MAX_MEMBERS_PER_FOLD} networks per fold",
                opts.members_per_fold
            ),
        ));
    }
    let per_fold = opts.members_per_fold;
    let folds = MemberData::k_folds(n, opts.folds, stream_seed(opts.seed, 0))?;
    let ensemble = Ensemble::new(
        MlpConfig {
            inputs: features,
            ..opts.network.clone()
        },
        opts.folds * per_fold,
        &opts.device,
        stream_seed(opts.seed, 1),
    )?;
    let training: Vec<MemberData> = folds
        .iter()
        .flat_map(|f| std::iter::repeat_n(f, per_fold))
        .map(|f| MemberData {
            train: f.train.clone(),
            validation: None,
            shuffle_seed: None,
        })
        .collect();
    fit_ensemble(
        &ensemble,
        &data,
        &training,
        &TrainOptions {
            validation: Validation::None,
            patience: None,
            monitor: "loss".into(),
            seed: stream_seed(opts.seed, 2),
            quiet: true,
            ..opts.training.clone()
        },
        interrupt,
    )?;
    let mut scores = vec![f64::NAN; n];
    let mut fold = vec![usize::MAX; n];
    for (k, f) in folds.iter().enumerate() {
        let held: Vec<u32> = f.validation.clone().unwrap_or_default();
        let index = Tensor::from_vec(held.clone(), held.len(), &opts.device)?;
        let p = ensemble.member_predictions(&x.index_select(&index, 0)?)?;
        let own = &p[k * per_fold..(k + 1) * per_fold];
        for (i, &row) in held.iter().enumerate() {
            let mean = own.iter().map(|m| f64::from(m[i])).sum::<f64>() / per_fold as f64;
            scores[row as usize] = mean;
            fold[row as usize] = k;
        }
    }
    Ok(KfoldScores {
        scores,
        fold,
        members: ensemble,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::rng_for;
    use rand_distr::{Distribution, Normal};

    /// `n` rows of two features: class 1 shifted by `shift` in the first.
    fn rows(n: usize, shift: f32, seed: u64) -> (Tensor, Vec<f32>) {
        let mut rng = rng_for(seed, 0);
        let normal = Normal::new(0.0f32, 1.0).unwrap();
        let labels: Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
        let x: Vec<f32> = labels
            .iter()
            .flat_map(|&l| [normal.sample(&mut rng) + shift * l, normal.sample(&mut rng)])
            .collect();
        (Tensor::from_vec(x, (n, 2), &Device::Cpu).unwrap(), labels)
    }

    fn quick() -> KfoldClassifier {
        let mut opts = KfoldClassifier {
            folds: 4,
            seed: 3,
            ..KfoldClassifier::default()
        };
        opts.network.hidden = vec![8];
        opts.training.epochs = 20;
        opts.training.batch_size = 32;
        opts
    }

    #[test]
    fn every_row_is_scored_once_by_the_member_that_did_not_train_on_it() {
        let (x, labels) = rows(400, 2.0, 1);
        let opts = quick();
        let out = kfold_scores(&x, &labels, None, &opts, None).unwrap();
        assert!(out.scores.iter().all(|s| s.is_finite()));
        // The folds are those of MemberData::k_folds with the same seed: member k never
        // trained on a row of fold k.
        let members = MemberData::k_folds(400, opts.folds, stream_seed(opts.seed, 0)).unwrap();
        for (row, &k) in out.fold.iter().enumerate() {
            assert!(k < opts.folds);
            assert!(!members[k].train.contains(&(row as u32)), "row {row}");
        }
        let mut per_fold = vec![0; opts.folds];
        out.fold.iter().for_each(|&k| per_fold[k] += 1);
        assert!(per_fold.iter().all(|&c| c == 100), "{per_fold:?}");
        // A separable shift is learned out of sample.
        let roc = crate::stats::metrics::roc(
            &out.scores,
            &labels.iter().map(|&l| f64::from(l)).collect::<Vec<_>>(),
            None,
        )
        .unwrap();
        assert!(roc.auc() > 0.8, "AUC {}", roc.auc());
        // Same seed, same scores.
        let again = kfold_scores(&x, &labels, None, &opts, None).unwrap();
        assert_eq!(out.scores, again.scores);
    }

    #[test]
    fn a_folds_members_score_its_rows_by_their_mean() {
        let (x, labels) = rows(300, 1.0, 4);
        let opts = KfoldClassifier {
            members_per_fold: 3,
            ..quick()
        };
        let out = kfold_scores(&x, &labels, None, &opts, None).unwrap();
        let p = out.members.member_predictions(&x).unwrap();
        assert_eq!(p.len(), opts.folds * 3);
        for (row, &k) in out.fold.iter().enumerate() {
            let mean = (0..3).map(|j| f64::from(p[k * 3 + j][row])).sum::<f64>() / 3.0;
            assert!((out.scores[row] - mean).abs() < 1e-6, "row {row}");
            // Its members differ: they are three networks, not one three times.
            assert_ne!(p[k * 3][row], p[k * 3 + 1][row], "row {row}");
        }
        // The same folds as one network per fold, other scores.
        let single = kfold_scores(&x, &labels, None, &quick(), None).unwrap();
        assert_eq!(single.fold, out.fold);
        assert_ne!(single.scores, out.scores);
        let zero = KfoldClassifier {
            members_per_fold: 0,
            ..quick()
        };
        let err = kfold_scores(&x, &labels, None, &zero, None).unwrap_err();
        assert!(err.to_string().contains("members_per_fold"), "{err}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let (x, labels) = rows(40, 1.0, 2);
        let opts = quick();
        assert!(kfold_scores(&x, &labels[..10], None, &opts, None).is_err());
        let ones = vec![1.0f32; 40];
        let err = kfold_scores(&x, &ones, None, &opts, None).unwrap_err();
        assert!(err.to_string().contains("both classes"), "{err}");
        let (small, small_labels) = rows(6, 1.0, 2);
        assert!(kfold_scores(&small, &small_labels, None, &opts, None).is_err());
    }
}
