use super::*;
use crate::data::generate::lhco::toy_events as sample;
use crate::methods::assert_enriched_in_signal;
use crate::methods::sideband_flow::closure_systematic;
use crate::nn::Trainable;

fn quick() -> CathodeOptions {
    let d = CathodeOptions::default();
    let mut classifier = d.classifier.clone();
    classifier.folds = 3;
    classifier.network.hidden = vec![32, 32];
    classifier.training.epochs = 10;
    classifier.training.batch_size = 128;
    CathodeOptions {
        flow: FlowConfig {
            layers: 3,
            hidden: 32,
            ..d.flow.clone()
        },
        flow_training: TrainOptions {
            epochs: 6,
            batch_size: 256,
            ..d.flow_training.clone()
        },
        average: 3,
        oversampling: 2,
        classifier,
        efficiencies: vec![0.5, 0.1],
        seed: 9,
        ..d
    }
}

#[test]
fn a_signal_is_enriched_and_every_event_and_sample_is_scored_once() {
    // 1200 W' events over 30k: dense in (mj1, dmj, tau21) inside the signal region, where
    // the sideband flow's samples have none.
    let events = sample(30_000, 1200, 3);
    let result = cathode(&events, &quick(), None).unwrap();
    let [sb, sr] = result.counts;
    assert!(sb > sr && sr > 1500, "{:?}", result.counts);
    assert_eq!(result.scores.len(), sr);
    assert_eq!(result.sample_scores.len(), 2 * sr);
    assert!(
        result
            .scores
            .iter()
            .chain(&result.sample_scores)
            .all(|s| s.is_finite())
    );
    assert_eq!(result.sampled_epochs, [3, 4, 5]);
    assert!(result.sideband_validation_loss.is_empty());
    // The classifier tells the data (with its signal) from the samples, out of sample.
    assert!(
        result.data_vs_samples_auc > 0.52 && result.data_vs_samples_auc < 0.9,
        "{}",
        result.data_vs_samples_auc
    );
    assert_eq!(result.sideband_loss.len(), 6);
    // The scored events are the signal region's.
    let mjj = events.column("mjj").unwrap();
    assert!(
        result
            .positions
            .iter()
            .all(|&p| (3300.0..3700.0).contains(&mjj[p]))
    );
    // The top 10 % by score is enriched in signal well beyond its share of the region.
    assert_enriched_in_signal(
        &result.scored().unwrap(),
        &result.selected(0.1).unwrap(),
        2.0,
    );
    let at_10 = &result.estimates[1];
    assert!(at_10.observed > at_10.predicted, "{at_10:?}");
    // The systematic was measured: the windows' closure and three flows' predictions.
    let s = &result.systematics;
    assert!(s.missing.is_none(), "{:?}", s.missing);
    // Three closure tests, one estimate per efficiency each; the largest non-closure counts.
    assert_eq!(s.closure_tests.len(), 3);
    for (i, closure) in s.closure.iter().enumerate() {
        let each: Vec<f64> = s
            .closure_tests
            .iter()
            .map(|t| closure_systematic(&t.estimates[i]))
            .collect();
        assert!(each.iter().all(|c| c.is_finite()), "{each:?}");
        assert_eq!(*closure, each.iter().copied().fold(f64::MIN, f64::max));
    }
    // The signal region's classifier cuts the same window events in tests (b) and (c).
    let [_, b, c] = &s.closure_tests[..] else {
        unreachable!()
    };
    for (b, c) in b.estimates.iter().zip(&c.estimates) {
        assert_eq!((b.observed, b.threshold), (c.observed, c.threshold));
    }
    assert!(s.flow_predictions.iter().all(|p| p.len() == 3));
    assert!(
        s.relative.iter().all(|r| r.is_finite() && *r > 0.0),
        "{s:?}"
    );
    let text = result.to_string();
    assert!(
        text.contains("CATHODE in mjj: signal region 3300–3700 GeV"),
        "{text}"
    );
    assert!(
        text.contains("largest validation-window closure") && text.contains("(c) sideband flow"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    plot_scores(&result, &dir.path().join("scores.png")).unwrap();
}

#[test]
fn samples_follow_the_flows_conditional_density() {
    // x1 = 2m + noise, x2 = noise, m uniform in [-1, 1]: drawn at a mass, the samples' x1
    // centres on 2m.
    let n = 4000;
    let mut rng = crate::seed::rng_for(5, 0);
    let normal = rand_distr::Normal::new(0.0f32, 0.3).unwrap();
    use rand_distr::Distribution;
    let uniform = rand_distr::Uniform::new(-1.0f32, 1.0).unwrap();
    let m: Vec<f32> = (0..n).map(|_| uniform.sample(&mut rng)).collect();
    let x: Vec<f32> = m
        .iter()
        .flat_map(|&m| [2.0 * m + normal.sample(&mut rng), normal.sample(&mut rng)])
        .collect();
    let device = Device::Cpu;
    let data = Dataset {
        x: Tensor::from_vec(x, (n, 2), &device).unwrap(),
        y: None,
        weights: None,
        context: Some(Tensor::from_vec(m, (n, 1), &device).unwrap()),
    };
    let config = FlowConfig {
        layers: 3,
        hidden: 32,
        ..FlowConfig::new(2, 1)
    };
    let training = TrainOptions {
        epochs: 12,
        batch_size: 128,
        quiet: true,
        ..quick().flow_training
    };
    let flow = SidebandFlow::train(
        &config,
        &data,
        FlowPreprocessing::Standard,
        &training,
        KeptEpochs::Last(3),
        &device,
        3,
        None,
    )
    .unwrap();
    assert_eq!(flow.snapshots.len(), 3);
    assert_eq!(flow.kept_epochs, [9, 10, 11]);
    assert!(flow.validation_loss.is_empty());
    assert!(flow.flow.params().snapshot().is_ok());
    // Kept by held-out loss: the epochs of the lowest losses on the held-out quarter, in
    // order, the flow left with the last of them. A large learning rate makes the held-out
    // loss go up and down, so that they are not simply the last epochs.
    let best = SidebandFlow::train(
        &config,
        &data,
        FlowPreprocessing::Standard,
        &TrainOptions {
            lr: 0.03,
            ..training.clone()
        },
        KeptEpochs::LowestValidationLoss {
            count: 4,
            fraction: 0.25,
        },
        &device,
        3,
        None,
    )
    .unwrap();
    assert_eq!(best.validation_loss.len(), 12);
    let mut order: Vec<usize> = (0..12).collect();
    order.sort_by(|&a, &b| best.validation_loss[a].total_cmp(&best.validation_loss[b]));
    let mut lowest = order[..4].to_vec();
    lowest.sort_unstable();
    assert_eq!(best.kept_epochs, lowest);
    assert_ne!(
        best.kept_epochs,
        [8, 9, 10, 11],
        "{:?}",
        best.validation_loss
    );
    assert_eq!(best.snapshots.len(), 4);
    let now = best.flow.params().snapshot().unwrap();
    let last = best.snapshots.last().unwrap();
    for (a, b) in now.iter().zip(last) {
        let d = (a - b).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
    }
    for at in [-0.5f32, 0.6] {
        let c = Tensor::from_vec(vec![at; 2000], (2000, 1), &device).unwrap();
        for epoch in 0..3 {
            let drawn = flow.draw(epoch, 2000, &c, 11, None).unwrap();
            let x = drawn.to_vec2::<f32>().unwrap();
            let mean = |j: usize| x.iter().map(|r| f64::from(r[j])).sum::<f64>() / 2000.0;
            let sd = (x
                .iter()
                .map(|r| (f64::from(r[0]) - mean(0)).powi(2))
                .sum::<f64>()
                / 2000.0)
                .sqrt();
            assert!(
                (mean(0) - 2.0 * f64::from(at)).abs() < 0.15,
                "at {at}: mean {}",
                mean(0)
            );
            assert!(mean(1).abs() < 0.1, "at {at}: {}", mean(1));
            assert!((sd - 0.3).abs() < 0.12, "at {at}: sd {sd}");
        }
    }
}

#[test]
fn logit_preprocessed_samples_stay_within_the_training_range() {
    // x ~ Exp(1) conditioned on nothing but a flat mass: a hard edge at 0 with the density's
    // maximum on it. A briefly trained flow of the standardised feature spreads samples
    // across the edge; through the logit map every sample lies within the training range
    // (widened by the map's margin), and the bulk still follows the data.
    let n = 4000;
    let mut rng = crate::seed::rng_for(8, 0);
    use rand_distr::Distribution;
    let exp = rand_distr::Exp::new(1.0f32).unwrap();
    let uniform = rand_distr::Uniform::new(-1.0f32, 1.0).unwrap();
    let raw: Vec<f32> = (0..n).map(|_| exp.sample(&mut rng)).collect();
    let (mean, sd) = (1.0f32, 1.0f32);
    let x: Vec<f32> = raw.iter().map(|v| (v - mean) / sd).collect();
    let device = Device::Cpu;
    let data = Dataset {
        x: Tensor::from_vec(x.clone(), (n, 1), &device).unwrap(),
        y: None,
        weights: None,
        context: Some(
            Tensor::from_vec(
                (0..n).map(|_| uniform.sample(&mut rng)).collect::<Vec<_>>(),
                (n, 1),
                &device,
            )
            .unwrap(),
        ),
    };
    let config = FlowConfig {
        layers: 2,
        hidden: 16,
        ..FlowConfig::new(1, 1)
    };
    let training = TrainOptions {
        epochs: 4,
        batch_size: 128,
        quiet: true,
        ..quick().flow_training
    };
    let lowest = x.iter().copied().fold(f32::INFINITY, f32::min);
    let highest = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let margin = (highest - lowest) * 1.1e-4;
    let c = Tensor::zeros((n, 1), candle_core::DType::F32, &device).unwrap();
    let below_edge = |p: FlowPreprocessing| {
        let flow = SidebandFlow::train(
            &config,
            &data,
            p,
            &training,
            KeptEpochs::Last(1),
            &device,
            2,
            None,
        )
        .unwrap();
        let drawn: Vec<f32> = flow
            .draw(0, n, &c, 5, None)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let median = {
            let mut d = drawn.clone();
            d.sort_by(f32::total_cmp);
            d[n / 2]
        };
        let outside = drawn
            .iter()
            .filter(|&&v| v < lowest - margin || v > highest + margin)
            .count();
        let below = drawn.iter().filter(|&&v| v < lowest).count();
        (outside, below, median)
    };
    let (outside, _, median) = below_edge(FlowPreprocessing::Logit);
    assert_eq!(outside, 0);
    // Exp(1)'s median ln 2, standardised.
    assert!((median - (2f32.ln() - 1.0)).abs() < 0.15, "{median}");
    let (_, below, _) = below_edge(FlowPreprocessing::Standard);
    assert!(below > n / 100, "{below} standard samples below the edge");
}

#[test]
fn bad_options_are_errors_before_any_training() {
    let events = sample(2_000, 0, 4);
    let err = |opts: CathodeOptions| cathode(&events, &opts, None).unwrap_err().to_string();
    assert!(
        err(CathodeOptions {
            oversampling: 0,
            ..quick()
        })
        .contains("oversampling")
    );
    assert!(
        err(CathodeOptions {
            average: 7,
            ..quick()
        })
        .contains("average")
    );
    assert!(
        err(CathodeOptions {
            sideband_flows: 0,
            ..quick()
        })
        .contains("sideband_flows")
    );
    assert!(
        err(CathodeOptions {
            validation_width: -1.0,
            ..quick()
        })
        .contains("validation_width")
    );
    let mut window = quick().window;
    window.features = vec!["nope".into()];
    assert!(err(CathodeOptions { window, ..quick() }).contains("nope"));
}
