use super::training::closure_ratio;
use super::*;
use crate::data::generate::lhco::{LhcoToyOptions, Variant, lhco_toy};

fn sample(background: usize, signal: usize, variant: Variant, seed: u64) -> EventSet {
    EventSet::from_columns(
        lhco_toy(&LhcoToyOptions {
            background,
            signal,
            variant,
            seed,
            ..LhcoToyOptions::default()
        })
        .unwrap(),
    )
    .unwrap()
}

fn quick() -> SaladOptions {
    let d = SaladOptions::default();
    SaladOptions {
        folds: 3,
        dctr_members: 1,
        dctr_network: MlpConfig {
            hidden: vec![32, 32],
            ..d.dctr_network.clone()
        },
        network: MlpConfig {
            hidden: vec![32, 32],
            ..d.network.clone()
        },
        dctr_training: TrainOptions {
            epochs: 4,
            ..d.dctr_training.clone()
        },
        training: TrainOptions {
            epochs: 4,
            ..d.training.clone()
        },
        efficiencies: vec![0.5, 0.2, 0.1],
        seed: 5,
        ..d
    }
}

#[test]
fn reweighting_closes_where_plain_simulation_does_not_and_every_event_is_scored() {
    let data = sample(60_000, 0, Variant::Data, 1);
    let sim = sample(60_000, 0, Variant::Sim, 2);
    let result = salad(&data, &sim, &quick(), None).unwrap();
    let [d_sb, d_sr, s_sb, s_sr] = result.counts;
    assert!(
        d_sb > d_sr && s_sb > s_sr && d_sr > 1000,
        "{:?}",
        result.counts
    );
    assert_eq!(result.reweighted.data_scores.len(), d_sr);
    assert_eq!(result.reweighted.sim_scores.len(), s_sr);
    assert!(
        result
            .reweighted
            .data_scores
            .iter()
            .all(|s| (0.0..=1.0).contains(s))
    );
    // The interpolated weights carry the normalisation into the signal region.
    assert!(
        (result.normalisation - 1.0).abs() < 0.1,
        "{}",
        result.normalisation
    );
    // At 10 % data efficiency the reweighted prediction is close to what is observed, the
    // plain simulation's is not.
    let at = |c: &Chain| c.estimates[2].efficiency_ratio;
    let (r, u) = (at(&result.reweighted), at(&result.unweighted));
    assert!((r - 1.0).abs() < 0.15, "reweighted {r}");
    assert!(
        (u - 1.0).abs() > (r - 1.0).abs(),
        "plain {u} vs reweighted {r}"
    );
    // Each cut's systematic is its non-closure on the sideband hold-out and in the
    // validation windows, in quadrature.
    let v = result.validation_windows.expect("the default windows fit");
    assert_eq!(v, quick().window.validation_windows(0.5).unwrap());
    assert!(result.validation_untested.is_none());
    assert!(
        result.validation_counts.iter().all(|&n| n > 500),
        "{:?}",
        result.validation_counts
    );
    for (e, sys) in result
        .reweighted
        .estimates
        .iter()
        .zip(&result.reweighted.systematics)
    {
        let sb = sys.holdout.ratio;
        assert!(sb.is_finite() && (sb - 1.0).abs() < 0.5, "{sb}");
        let [lower, upper] = sys.windows.unwrap();
        let (h, vw) = (sys.holdout_part.unwrap(), sys.validation_part.unwrap());
        assert_eq!(h, (sb - 1.0).hypot(sys.holdout.error));
        assert_eq!(
            vw,
            lower
                .non_closure()
                .unwrap()
                .max(upper.non_closure().unwrap())
        );
        assert!((sys.total.unwrap() - h.hypot(vw)).abs() < 1e-12);
        assert!((e.systematic_error - h.hypot(vw) * e.predicted).abs() < 1e-9 * e.predicted);
        assert!(e.p_value.is_finite(), "{e:?}");
    }
    // The closure hold-out is a fifth of the sidebands, and no DCTR saw any of it.
    for (k, group) in result.groups[..2].iter().enumerate() {
        let seen = &result.dctr_seen[k];
        assert!(
            group
                .positions
                .iter()
                .all(|p| seen.binary_search(p).is_err())
        );
        assert_eq!(group.positions.len() + seen.len(), result.counts[2 * k]);
    }
    let held = (result.groups[0].positions.len() + result.groups[1].positions.len()) as f64;
    assert!((held / (d_sb + s_sb) as f64 - 0.2).abs() < 1e-3, "{held}");
    // The hold-out's stored scores, with its groups' weights, give the closure behind the
    // systematic (what the mass figure draws in the sidebands).
    let chain = &result.reweighted;
    let [held_data, held_sim] = &chain.holdout_scores;
    assert_eq!(held_data.len(), result.groups[0].positions.len());
    assert_eq!(held_sim.len(), result.groups[1].positions.len());
    for (e, sys) in chain.estimates.iter().zip(&chain.systematics) {
        let again = closure_ratio(
            e.threshold,
            held_data,
            held_sim,
            &result.groups[1].weights(),
        );
        assert_eq!(again, sys.holdout);
    }
    let dir = tempfile::tempdir().unwrap();
    super::super::salad_report::plot_mass(&result, &dir.path().join("mass.png")).unwrap();
    // Selected and scored views.
    assert_eq!(result.scored().unwrap().len(), d_sr);
    let kept = result.selected(0.1).unwrap().len() as f64;
    assert!((kept / d_sr as f64 - 0.1).abs() < 0.01);
    assert_eq!(result.reweighted_simulation().unwrap().len(), s_sr);
    // Same seed, same numbers.
    let again = salad(&data, &sim, &quick(), None).unwrap();
    assert_eq!(again.reweighted.estimates, result.reweighted.estimates);
}

#[test]
fn the_sidebands_split_three_ways_disjointly_and_reproducibly() {
    let n = 1003;
    let split = split_sidebands(n, 0.2, 0.25, 42).unwrap();
    assert_eq!(split.validation.len(), 201);
    assert_eq!(split.closure.len(), 251);
    let mut all: Vec<u32> = [&split.train[..], &split.validation, &split.closure].concat();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..n as u32).collect::<Vec<_>>(),
        "disjoint and complete"
    );
    assert_eq!(split, split_sidebands(n, 0.2, 0.25, 42).unwrap());
    assert_ne!(
        split.closure,
        split_sidebands(n, 0.2, 0.25, 43).unwrap().closure
    );
    // Tiny samples keep every part non-empty.
    let tiny = split_sidebands(3, 0.01, 0.01, 1).unwrap();
    assert!(
        [&tiny.train, &tiny.validation, &tiny.closure]
            .iter()
            .all(|p| p.len() == 1)
    );
    assert!(split_sidebands(2, 0.2, 0.2, 1).is_err());
}

/// Background-only "data" from the simulation's generator whose jets differ from the
/// simulation more the higher the mass: jet masses and τ21 shifted by `strength` × a
/// logistic step in mjj that rises through the signal region. Each sideband looks
/// uniform to DCTR; where the step lies inside the gap it cannot know.
fn mass_dependent_mismodelling(n: usize, strength: f64, seed: u64) -> EventSet {
    let mut columns = lhco_toy(&LhcoToyOptions {
        background: n,
        signal: 0,
        variant: Variant::Sim,
        seed,
        ..LhcoToyOptions::default()
    })
    .unwrap();
    let mjj = columns.iter().find(|(c, _)| c == "mjj").unwrap().1.clone();
    let step: Vec<f64> = mjj
        .iter()
        .map(|m| 1.0 / (1.0 + (-(m - STEP_AT) / STEP_WIDTH).exp()))
        .collect();
    for (name, values) in columns.iter_mut() {
        match name.as_str() {
            "mj1" | "mj2" => {
                for (v, g) in values.iter_mut().zip(&step) {
                    *v *= 1.0 + strength * g;
                }
            }
            "tau21_1" | "tau21_2" => {
                for (v, g) in values.iter_mut().zip(&step) {
                    *v = (*v - 0.5 * strength * g).max(0.01);
                }
            }
            _ => {}
        }
    }
    EventSet::from_columns(columns).unwrap()
}

/// Where [`mass_dependent_mismodelling`]'s step is centred, and its width (GeV).
const STEP_AT: f64 = 3500.0;
const STEP_WIDTH: f64 = 100.0;

#[test]
fn the_validation_windows_cover_a_bias_the_sideband_closure_misses() {
    let data = mass_dependent_mismodelling(60_000, 0.4, 11);
    let sim = sample(60_000, 0, Variant::Sim, 12);
    let result = salad(&data, &sim, &quick(), None).unwrap();
    eprintln!("{result}");
    let mut missed = 0;
    for (e, sys) in result
        .reweighted
        .estimates
        .iter()
        .zip(&result.reweighted.systematics)
    {
        // Background only: the bias is how far pred/obs is from 1 in the signal region.
        let bias = (e.efficiency_ratio - 1.0).abs();
        let total = sys.total.unwrap();
        assert!(
            total + e.efficiency_ratio_error >= bias,
            "at {}: bias {bias:.3} ± {:.3}, systematic {total:.3} ({sys:?})",
            e.efficiency,
            e.efficiency_ratio_error
        );
        if sys.holdout_part.unwrap() + e.efficiency_ratio_error < bias {
            missed += 1;
        }
    }
    // The sideband closure alone would not have covered it.
    assert!(
        missed > 0,
        "the sample does not mis-model the interpolation"
    );
}

#[test]
fn windows_that_do_not_fit_leave_the_estimates_untested() {
    let data = sample(20_000, 0, Variant::Data, 1);
    let sim = sample(20_000, 0, Variant::Sim, 2);
    let opts = SaladOptions {
        validation_width: 1.7,
        efficiencies: vec![0.5],
        ..quick()
    };
    let result = salad(&data, &sim, &opts, None).unwrap();
    let why = result.validation_untested.clone().unwrap();
    assert!(why.contains("no sideband"), "{why}");
    assert!(result.validation_windows.is_none());
    let e = &result.reweighted.estimates[0];
    assert!(e.p_value.is_nan() && e.untested.as_ref().unwrap().contains("interpolation"));
    assert!(result.global().is_none());
    let text = result.to_string();
    assert!(
        text.contains("interpolation not tested") && !text.contains("most significant"),
        "{text}"
    );
}

#[test]
fn bad_input_is_an_error_before_any_training() {
    let data = sample(5_000, 0, Variant::Data, 1);
    let sim = sample(5_000, 0, Variant::Sim, 2);
    let err = |opts: SaladOptions, sim: &EventSet| {
        salad(&data, sim, &opts, None).unwrap_err().to_string()
    };
    let e = err(
        SaladOptions {
            window: Window {
                signal_region: (2000.0, 3000.0),
                ..quick().window
            },
            ..quick()
        },
        &sim,
    );
    assert!(e.contains("strictly inside"), "{e}");
    let e = err(
        SaladOptions {
            window: Window {
                range: (3300.0, 9000.0),
                signal_region: (8000.0, 8500.0),
                ..quick().window
            },
            ..quick()
        },
        &sim,
    );
    assert!(e.contains("holds 0 events"), "{e}");
    let no_tau = sim
        .select(&["mjj".into(), "mj1".into(), "mj2".into()])
        .unwrap();
    let e = err(quick(), &no_tau);
    assert!(e.contains("tau21_1") && e.contains("simulation"), "{e}");
    let e = err(
        SaladOptions {
            logarithm: vec!["mjj".into()],
            ..quick()
        },
        &sim,
    );
    assert!(e.contains("logarithm") && e.contains("'mjj'"), "{e}");
    let e = err(
        SaladOptions {
            efficiencies: vec![1.5],
            ..quick()
        },
        &sim,
    );
    assert!(e.contains("efficiencies"), "{e}");
    for (opts, key) in [
        (
            SaladOptions {
                closure_share: 0.0,
                ..quick()
            },
            "closure_share",
        ),
        (
            SaladOptions {
                closure_share: f64::NAN,
                ..quick()
            },
            "closure_share",
        ),
        (
            SaladOptions {
                dctr_holdout: 1.0,
                ..quick()
            },
            "dctr_holdout",
        ),
        (
            SaladOptions {
                closure_share: 0.5,
                dctr_holdout: 0.5,
                ..quick()
            },
            "closure_share",
        ),
        (
            SaladOptions {
                validation_width: 0.0,
                ..quick()
            },
            "validation_width",
        ),
        (
            SaladOptions {
                validation_width: f64::INFINITY,
                ..quick()
            },
            "validation_width",
        ),
    ] {
        let e = err(opts, &sim);
        assert!(e.contains(key), "{key}: {e}");
    }
}
