use super::*;
use crate::data::generate::lhco::toy_events as sample;
use crate::methods::assert_enriched_in_signal;
use crate::methods::sideband_flow::{closure_systematic, relative_spread};

fn quick() -> AnodeOptions {
    let d = AnodeOptions::default();
    AnodeOptions {
        flow: FlowConfig {
            layers: 3,
            hidden: 32,
            ..d.flow.clone()
        },
        // The signal region holds a few thousand events: small batches give its flows
        // enough steps.
        training: TrainOptions {
            epochs: 8,
            batch_size: 128,
            ..d.training.clone()
        },
        average: 3,
        samples: 3,
        efficiencies: vec![0.5, 0.1],
        seed: 9,
        ..d
    }
}

/// The top 10 % of the signal region by R holds more than three times the signal's share of
/// the region.
fn assert_top_tenth_is_enriched_in_signal(result: &Anode) {
    assert_enriched_in_signal(
        &result.scored().unwrap(),
        &result.selected(0.1).unwrap(),
        3.0,
    );
}

#[test]
fn a_signal_gets_a_high_density_ratio_and_every_event_is_scored_once() {
    // 1500 W' events over 40k: the signal is dense in (mj1, dmj, tau21) inside the signal
    // region, which the sideband density does not know.
    let events = sample(40_000, 1500, 3);
    let result = anode(&events, &quick(), None).unwrap();
    let [sb, sr] = result.counts;
    assert!(sb > sr && sr > 2000, "{:?}", result.counts);
    assert_eq!(result.scores.len(), sr);
    assert!(result.scores.iter().all(|s| !s.is_nan()));
    assert_eq!(result.background_scores.len(), 3 * sr);
    // Every signal-region event's mass was drawn at `samples` times, for the mass figure.
    let mut drawn_at = vec![0; sr];
    for &i in &result.background_events {
        drawn_at[i] += 1;
    }
    assert!(drawn_at.iter().all(|&n| n == 3));
    let windows = result.systematics.windows.unwrap();
    let w = result.window_scores.as_ref().unwrap();
    assert_eq!(w.scores.len(), w.positions.len());
    assert_eq!(w.drawn.len(), 3 * w.positions.len());
    let mjj = events.column("mjj").unwrap();
    let (lo, hi) = windows.masked();
    assert!(w.positions.iter().all(|&p| {
        let m = mjj[p];
        lo <= m && m < hi && !(3300.0..3700.0).contains(&m)
    }));
    let dir = tempfile::tempdir().unwrap();
    super::super::anode_report::plot_mass(&result, &dir.path().join("mass.png")).unwrap();
    assert_eq!(result.averaged_epochs, 3);
    assert_eq!(result.sideband_loss.len(), 8);
    assert_eq!(result.signal_region_loss.len(), 2);
    assert_top_tenth_is_enriched_in_signal(&result);
    let at_10 = &result.estimates[1];
    assert!(at_10.observed > at_10.predicted, "{at_10:?}");
    // Same seed, same scores.
    let again = anode(&events, &quick(), None).unwrap();
    assert_eq!(again.scores, result.scores);
}

#[test]
fn through_one_logit_map_every_flow_models_the_same_space_and_the_signal_is_found() {
    let events = sample(40_000, 1500, 3);
    let logit = AnodeOptions {
        flow_preprocessing: FlowPreprocessing::Logit,
        ..quick()
    };
    let result = anode(&events, &logit, None).unwrap();
    // The map is fitted on the whole window, so no signal-region event, drawn event or
    // validation-window event falls outside it (that would give a NaN density).
    assert!(result.scores.iter().all(|s| s.is_finite()));
    assert!(result.background_scores.iter().all(|s| s.is_finite()));
    let w = result.window_scores.as_ref().unwrap();
    assert!(w.scores.iter().chain(&w.drawn).all(|s| s.is_finite()));
    assert_top_tenth_is_enriched_in_signal(&result);
    // The flows learned another space than the standardised features'.
    let standard = anode(&events, &quick(), None).unwrap();
    assert_ne!(standard.scores, result.scores);
    assert_ne!(standard.sideband_loss, result.sideband_loss);
}

/// Background only, with both jet masses scaled by 1 + `amplitude` × a Gaussian in mjj
/// centred on the signal region (σ 400 GeV): a feature whose distribution changes with the
/// mass in a way the sideband flows cannot interpolate across the signal region.
fn mismodelled(background: usize, amplitude: f64, seed: u64) -> EventSet {
    let events = sample(background, 0, seed);
    let mjj = events.column("mjj").unwrap();
    let scale: Vec<f64> = mjj
        .iter()
        .map(|m| 1.0 + amplitude * (-0.5 * ((m - 3500.0) / 400.0).powi(2)).exp())
        .collect();
    let scaled = |name: &str| -> Vec<f64> {
        let v = events.column(name).unwrap();
        v.iter().zip(&scale).map(|(x, s)| x * s).collect()
    };
    let (mj1, dmj) = (scaled("mj1"), scaled("dmj"));
    events
        .with_column("mj1", mj1)
        .unwrap()
        .with_column("dmj", dmj)
        .unwrap()
}

#[test]
fn the_systematic_covers_the_bias_of_a_mismodelled_sideband_density() {
    // No signal: every event is background, so observed − predicted in the signal region
    // is the background model's bias (plus noise). Without the systematic the bias reads
    // as a significant excess; the systematic must be at least as large as the bias.
    let events = mismodelled(40_000, 0.6, 5);
    let opts = AnodeOptions {
        efficiencies: vec![0.5, 0.2, 0.1],
        ..quick()
    };
    let result = anode(&events, &opts, None).unwrap();
    eprintln!("{result}");
    let mut biased = 0;
    for e in &result.estimates {
        assert!(e.untested.is_none(), "{e:?}");
        let bias = (e.predicted - e.observed).abs();
        let noise = (e.observed + e.predicted_error.powi(2)).sqrt();
        if bias > 3.0 * noise {
            biased += 1;
            assert!(
                e.systematic_error >= bias,
                "systematic {} below the bias {bias}: {e:?}",
                e.systematic_error
            );
        }
    }
    assert!(
        biased >= 2,
        "the distortion biased fewer than two cuts:\n{result}"
    );
    // The quoted significance stays modest, as it should on background alone.
    let g = result.global().unwrap();
    assert!(g.local_z < 3.0, "{g:?}\n{result}");
}

#[test]
fn closure_and_spread_are_relative_and_combine_in_quadrature() {
    let v = |observed: f64, predicted: f64, predicted_error: f64| Estimate {
        efficiency: 0.1,
        threshold: 0.0,
        observed,
        predicted,
        predicted_error,
        systematic_error: 0.0,
        efficiency_ratio: 1.0,
        efficiency_ratio_error: 0.0,
        reference_events: 100.0,
        untested: None,
        p_value: 0.5,
        significance: 0.0,
    };
    // 100 observed against 80 ± 3 predicted: 25 % non-closure ⊕ sqrt(109)/80.
    let c = closure_systematic(&v(100.0, 80.0, 3.0));
    assert!(
        (c - 0.25f64.hypot(109f64.sqrt() / 80.0)).abs() < 1e-12,
        "{c}"
    );
    // An untested or empty closure is no measurement.
    let untested = Estimate {
        untested: Some("few".into()),
        ..v(100.0, 80.0, 3.0)
    };
    assert!(closure_systematic(&untested).is_nan());
    assert!(closure_systematic(&v(3.0, 0.0, 0.0)).is_nan());
    // Predictions 100, 110, 90: standard deviation 10, relative to the main one.
    assert!((relative_spread(&[100.0, 110.0, 90.0]) - 0.1).abs() < 1e-12);
    assert!(relative_spread(&[100.0]).is_nan());
    assert!(relative_spread(&[0.0, 1.0]).is_nan());
}

#[test]
fn without_windows_or_a_second_flow_no_z_is_given() {
    let events = sample(6_000, 0, 2);
    let tiny = AnodeOptions {
        training: TrainOptions {
            epochs: 2,
            ..quick().training
        },
        average: 1,
        samples: 2,
        ..quick()
    };
    let check = |opts: AnodeOptions, why: &str| {
        let result = anode(&events, &opts, None).unwrap();
        for e in &result.estimates {
            let reason = e.untested.as_deref().unwrap_or("");
            assert!(reason.contains(why), "{reason}");
            assert!(e.p_value.is_nan() && e.systematic_error.is_nan(), "{e:?}");
        }
        assert!(result.global().is_none());
        assert!(result.to_string().contains("no Z"), "{result}");
        result
    };
    // 1.7 signal-region widths reach below 2632 GeV.
    let wide = check(
        AnodeOptions {
            validation_width: 1.7,
            ..tiny.clone()
        },
        "no validation windows",
    );
    assert!(wide.systematics.windows.is_none() && wide.systematics.closure_tests.is_empty());
    let single = check(
        AnodeOptions {
            sideband_flows: 1,
            ..tiny.clone()
        },
        "no spread",
    );
    // The closure is still measured and shown.
    assert_eq!(single.systematics.closure_tests.len(), 1);
    assert_eq!(single.systematics.closure_tests[0].estimates.len(), 2);
    assert!(single.systematics.closure.iter().all(|c| c.is_finite()));
    // With both, the cuts are tested.
    let both = anode(&events, &tiny, None).unwrap();
    assert!(both.systematics.missing.is_none());
    assert_eq!(both.systematics.flow_predictions[0].len(), 3);
    let (closure, spread, relative, events) = both.systematic_at(0.5).unwrap();
    assert!((closure.hypot(spread) - relative).abs() < 1e-12);
    assert!((events - relative * both.estimates[0].predicted).abs() < 1e-9);
    assert!(both.systematic_at(0.3).is_err());
}

#[test]
fn bad_options_are_errors_before_any_training() {
    let events = sample(3_000, 0, 1);
    let err = |opts: AnodeOptions| anode(&events, &opts, None).unwrap_err().to_string();
    assert!(
        err(AnodeOptions {
            average: 9,
            ..quick()
        })
        .contains("averaged")
    );
    assert!(
        err(AnodeOptions {
            folds: 1,
            ..quick()
        })
        .contains("at least 2")
    );
    assert!(
        err(AnodeOptions {
            samples: 0,
            ..quick()
        })
        .contains("samples")
    );
    for width in [0.0, -0.5, f64::NAN] {
        assert!(
            err(AnodeOptions {
                validation_width: width,
                ..quick()
            })
            .contains("validation_width")
        );
    }
    assert!(
        err(AnodeOptions {
            sideband_flows: 0,
            ..quick()
        })
        .contains("sideband_flows")
    );
    assert!(
        err(AnodeOptions {
            window: Window {
                signal_region: (1000.0, 3000.0),
                ..quick().window
            },
            ..quick()
        })
        .contains("strictly inside")
    );
    assert!(
        err(AnodeOptions {
            window: Window::new(&["nope"]),
            ..quick()
        })
        .contains("nope")
    );
}
