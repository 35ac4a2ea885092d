use super::training::{fold_members, sr_efficiency};
use super::*;
use crate::data::binning::find_bin;
use crate::data::generate::lhco::{LhcoToyOptions, MJ_PROPORTIONAL_POWER, lhco_toy};

/// A small LHCO-like sample with a strong signal at 3.8 TeV.
fn sample(background: usize, signal: usize, seed: u64) -> EventSet {
    let columns = lhco_toy(&LhcoToyOptions {
        background,
        signal,
        mz: 3800.0,
        seed,
        ..LhcoToyOptions::default()
    })
    .unwrap();
    EventSet::from_columns(columns).unwrap()
}

/// Options that train for a moment: 3 folds, one small network per member, 2 epochs.
fn quick(regions: Vec<usize>) -> CwolaOptions {
    let defaults = CwolaOptions::default();
    CwolaOptions {
        folds: 3,
        inits: 2,
        regions: Some(regions),
        network: MlpConfig {
            hidden: vec![16, 16],
            ..defaults.network.clone()
        },
        training: TrainOptions {
            epochs: 2,
            batch_size: 1024,
            ..defaults.training.clone()
        },
        seed: 11,
        ..defaults
    }
}

#[test]
fn no_member_sees_the_fold_it_scores() {
    let rows: Vec<usize> = (0..50).map(|i| 2 * i).collect();
    let fold: Vec<usize> = (0..100).map(|i| (i * 7) % 5).collect();
    for k in 0..5 {
        let members = fold_members(&rows, 0..0, &[], &fold, k, 5, 3);
        assert_eq!(members.len(), 12);
        for (m, member) in members.iter().enumerate() {
            let l = (0..5).filter(|&l| l != k).nth(m / 3).unwrap();
            let validation = member.validation.as_ref().unwrap();
            assert!(!validation.is_empty() && !member.train.is_empty());
            for &p in &member.train {
                let f = fold[rows[p as usize]];
                assert!(
                    f != k && f != l,
                    "member {m} of fold {k} trains on fold {f}"
                );
            }
            assert!(validation.iter().all(|&p| fold[rows[p as usize]] == l));
            // Training and validation together cover every fold but k.
            assert_eq!(
                member.train.len() + validation.len(),
                rows.iter().filter(|&&r| fold[r] != k).count()
            );
        }
    }
}

#[test]
fn every_event_is_scored_once_and_the_selection_keeps_its_share_per_fold() {
    let events = sample(40_000, 400, 3);
    let opts = quick(vec![4]);
    let hunt = cwola_hunt(&events, &opts, None).unwrap();
    let region = &hunt.regions[0];
    assert_eq!(region.scores.len(), hunt.events_in_range);
    assert!(
        region
            .scores
            .iter()
            .all(|s| s.is_finite() && (0.0..=1.0).contains(s))
    );
    assert_eq!(region.validation_efficiency.len(), 3);
    let inputs = Inputs::with_rescaling(
        &events,
        &opts.input_spec(),
        opts.rescaling,
        None,
        &opts.device,
    )
    .unwrap();
    let folds = MemberData::fold_of_each(inputs.len(), 3, stream_seed(opts.seed, 0)).unwrap();
    for (e, &eff) in opts.efficiencies.iter().enumerate() {
        let selected = &region.selected[e];
        assert_eq!(region.tests[e].selected, selected.len());
        // Per fold, the kept share is the efficiency (up to ties and rounding).
        for k in 0..3 {
            let in_fold = folds.iter().filter(|&&f| f == k).count();
            let kept = selected
                .iter()
                .filter(|&&p| folds[inputs.positions.binary_search(&p).unwrap()] == k)
                .count();
            let want = (eff * in_fold as f64).round().max(1.0);
            assert!(
                (kept as f64 - want).abs() <= 2.0,
                "fold {k}: {kept} vs {want}"
            );
        }
        // The observed count is the selected events in the signal region.
        let masses = events.column("mjj").unwrap();
        let inside = selected
            .iter()
            .filter(|&&p| masses[p] >= region.region.lo && masses[p] < region.region.hi)
            .count();
        assert_eq!(region.tests[e].observed, inside as f64);
    }
    let again = cwola_hunt(&events, &opts, None).unwrap();
    assert_eq!(
        again.regions[0].scores, region.scores,
        "same seed, same scores"
    );
    let scored = hunt.scored(region).unwrap();
    assert_eq!(scored.len(), hunt.events_in_range);
    let selected = hunt.selected(0.01, region).unwrap();
    assert_eq!(selected.len(), region.selected[1].len());
}

/// How many ensembles train together (all at once on a GPU) changes nothing but the
/// speed: every network keeps its seeds, so the scores agree to float rounding, with and
/// without simulation (whose events sit after the data's in each region's set).
#[test]
fn ensembles_trained_together_score_as_ensembles_trained_alone() {
    let events = sample(30_000, 300, 5);
    let sim = sample(30_000, 0, 6);
    let alone = quick(vec![3, 4]);
    assert_eq!(alone.ensembles_at_once, None, "one at a time on the CPU");
    let hunts = |opts: &CwolaOptions| {
        [
            cwola_hunt(&events, opts, None).unwrap(),
            sa_cwola(&events, &sim, 0.5, opts, None).unwrap(),
        ]
    };
    let reference = hunts(&alone);
    for at_once in [2, 6, 100] {
        let together = CwolaOptions {
            ensembles_at_once: Some(at_once),
            ..alone.clone()
        };
        for (a, b) in reference.iter().zip(&hunts(&together)) {
            for (ra, rb) in a.regions.iter().zip(&b.regions) {
                let worst = ra
                    .scores
                    .iter()
                    .zip(&rb.scores)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0f32, f32::max);
                assert!(worst < 1e-4, "{at_once} at once: scores differ by {worst}");
                for (x, y) in ra
                    .validation_efficiency
                    .iter()
                    .zip(&rb.validation_efficiency)
                {
                    assert!((x - y).abs() < 0.01, "{at_once} at once: {x} vs {y}");
                }
            }
        }
    }
    let none = CwolaOptions {
        ensembles_at_once: Some(0),
        ..alone
    };
    let err = cwola_hunt(&events, &none, None).unwrap_err().to_string();
    assert!(err.contains("ensembles_at_once"), "{err}");
}

#[test]
fn a_strong_signal_is_found_in_its_region_and_not_beside_it() {
    // 1500 signal events over 60k background: even two epochs of small networks learn
    // the signal's jet masses, and the tight selections show the bump.
    let events = sample(60_000, 1500, 5);
    let mut opts = quick(vec![1, 4]);
    opts.training.epochs = 6;
    let hunt = cwola_hunt(&events, &opts, None).unwrap();
    let global = hunt.global().unwrap();
    let best = &hunt.regions[global.region].region;
    assert!(best.lo <= 3800.0 && 3800.0 < best.hi, "{hunt}");
    assert!(global.test.local_z > 5.0, "{hunt}");
    assert!(global.test.global_p >= global.test.local_p);
    assert_eq!(global.test.trials, 2 * 3);
    // Far below the signal the selection shows nothing.
    let low = &hunt.regions[0];
    assert!(low.tests.iter().all(|t| !(t.significance > 3.0)), "{hunt}");
    let text = hunt.to_string();
    assert!(
        text.contains("most significant") && text.contains("Šidák"),
        "{text}"
    );
}

/// Background only, with the jet masses shifted by `slope` × mjj.
fn sloped(background: usize, slope: f64, seed: u64) -> EventSet {
    let columns = lhco_toy(&LhcoToyOptions {
        background,
        signal: 0,
        mj_mjj_slope: slope,
        seed,
        ..LhcoToyOptions::default()
    })
    .unwrap();
    EventSet::from_columns(columns).unwrap()
}

/// Background only, with the jet masses proportional to mjj (the toy's
/// `mj_mjj_power` = [`MJ_PROPORTIONAL_POWER`]).
fn mass_scaling(background: usize, seed: u64) -> EventSet {
    let columns = lhco_toy(&LhcoToyOptions {
        background,
        signal: 0,
        mj_mjj_power: MJ_PROPORTIONAL_POWER,
        seed,
        ..LhcoToyOptions::default()
    })
    .unwrap();
    EventSet::from_columns(columns).unwrap()
}

#[test]
fn the_default_features_do_not_depend_on_the_mass_where_jet_masses_scale_with_it() {
    let events = mass_scaling(300_000, 31);
    let ratio = CwolaOptions::default();
    assert_eq!(ratio.rescaling, Rescaling::Ratio, "the default");
    assert_eq!(
        ratio.rescale,
        ["mj1", "dmj"],
        "the default features' jet masses"
    );
    let eq42 = CwolaOptions {
        rescaling: Rescaling::Eq42,
        ..CwolaOptions::default()
    };
    // The lowest signal region (most events) and one in the middle of the scan; both
    // tails of every feature.
    for index in [0, 4] {
        for q in [0.1, 0.9] {
            for (name, pull) in tail_pulls(&events, &ratio, index, q).unwrap() {
                assert!(
                    pull.abs() < 4.0,
                    "ratio: {name} in region {index} at q = {q}: pull {pull}"
                );
            }
        }
    }
    // Eq. 4.2's dmj, cut at its lower end, keeps a different share of the sidebands.
    let pulls = tail_pulls(&events, &eq42, 0, 0.1).unwrap();
    let dmj = pulls.iter().find(|(n, _)| n == "dmj").unwrap().1;
    assert!(dmj.abs() > 8.0, "eq4.2 dmj pull {dmj}: {pulls:?}");
    // mj2 (not among the default features) is rescaled when it is a feature.
    let with_mj2 = CwolaOptions {
        features: vec!["mj1".into(), "mj2".into(), "dmj".into()],
        rescale: RESCALED_BY_DEFAULT.map(String::from).into(),
        ..CwolaOptions::default()
    };
    for (name, pull) in tail_pulls(&events, &with_mj2, 0, 0.1).unwrap() {
        assert!(pull.abs() < 4.0, "ratio: {name}: pull {pull}");
    }
}

#[test]
fn simulation_with_reversed_labels_removes_what_the_background_alone_teaches() {
    // With jet masses rising steeply with mjj (and not rescaled), the background's signal
    // region differs from its sidebands: CWoLa learns that. Signal-free simulation with
    // reversed labels and λ = 1 takes the gain away.
    let data = sloped(40_000, 1.0, 21);
    let sim = sloped(40_000, 1.0, 22);
    let mut opts = CwolaOptions {
        features: vec!["mj1".into(), "mj2".into()],
        rescale: vec![],
        eps_cut: 0.1,
        ..quick(vec![4])
    };
    opts.training.epochs = 8;
    opts.training.batch_size = 256;
    // The signal-region efficiency of the out-of-sample scores at 10 % sideband
    // efficiency: how much of the background's mass dependence the classifiers learned.
    let validation = |h: &CwolaHunt| {
        let region = &h.regions[0];
        let masses = h.events.column("mjj").unwrap();
        let (mut sr, mut sb) = (Vec::new(), Vec::new());
        for (&p, &score) in h.in_range.iter().zip(&region.scores) {
            let m = masses[p];
            if region.region.lo <= m && m < region.region.hi {
                sr.push(f64::from(score));
            } else if region.region.sb_lo <= m && m < region.region.sb_hi {
                sb.push(f64::from(score));
            }
        }
        sr_efficiency(&sr, &sb, 0.1)
    };
    let plain = cwola_hunt(&data, &opts, None).unwrap();
    let augmented = sa_cwola(&data, &sim, 1.0, &opts, None).unwrap();
    let (p, a) = (validation(&plain), validation(&augmented));
    assert!(p > 0.25, "CWoLa learns the mass dependence: {p}");
    assert!(a < 0.15, "SA-CWoLa does not: {a} (CWoLa {p})");
    assert!(augmented.method.contains("SA-CWoLa") && augmented.to_string().contains("λ = 1"));
    // Only data events are scored.
    assert_eq!(augmented.regions[0].scores.len(), augmented.events_in_range);
    // With λ = 0 the simulation weighs nothing: CWoLa again.
    let zero = validation(&sa_cwola(&data, &sim, 0.0, &opts, None).unwrap());
    assert!(zero > 0.25, "λ = 0: {zero}");

    let err = |sim: &EventSet, lambda: f64| {
        sa_cwola(&data, sim, lambda, &opts, None)
            .unwrap_err()
            .to_string()
    };
    assert!(err(&sim, -1.0).contains("lambda"));
    let no_mj2 = sim.select(&["mjj".into(), "mj1".into()]).unwrap();
    let e = err(&no_mj2, 0.5);
    assert!(e.contains("mj2") && e.contains("simulation"), "{e}");
}

#[test]
fn bad_input_is_an_error_before_any_training() {
    let events = sample(5_000, 0, 1);
    let check = |opts: CwolaOptions, want: &str| {
        let err = cwola_hunt(&events, &opts, None).unwrap_err().to_string();
        assert!(err.contains(want), "{want:?} not in {err:?}");
    };
    check(
        CwolaOptions {
            features: vec!["nope".into()],
            rescale: vec![],
            ..quick(vec![0])
        },
        "nope",
    );
    check(
        CwolaOptions {
            folds: 2,
            ..quick(vec![0])
        },
        "at least 3",
    );
    check(
        CwolaOptions {
            regions: Some(vec![10]),
            ..quick(vec![0])
        },
        "no signal region 10",
    );
    check(
        CwolaOptions {
            efficiencies: vec![0.0],
            ..quick(vec![0])
        },
        "not in (0, 1]",
    );
    check(
        CwolaOptions {
            eps_cut: 1.5,
            ..quick(vec![0])
        },
        "eps_cut",
    );
    // Above 6.5 TeV 5000 events leave the upper bins empty.
    check(
        CwolaOptions {
            edges: log_bins(5000.0, 9000.0, 16).unwrap(),
            regions: None,
            ..quick(vec![0])
        },
        "has no events",
    );
    let with_nan = events
        .with_column("tau21_1", {
            let mut v = events.column("tau21_1").unwrap();
            v[7] = f64::NAN;
            v
        })
        .unwrap();
    let err = cwola_hunt(&with_nan, &quick(vec![0]), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("tau21_1") && err.contains("NaN"), "{err}");
}

#[test]
fn a_window_becomes_the_one_region_of_a_hunt() {
    let opts = CwolaOptions::default().at_window((3300.0, 3700.0)).unwrap();
    let regions = sliding_regions(&opts.edges, opts.sr_bins, opts.sb_bins).unwrap();
    let chosen = chosen_regions(&regions, opts.regions.as_deref()).unwrap();
    assert_eq!(chosen.len(), 1);
    assert_eq!((chosen[0].lo, chosen[0].hi), (3300.0, 3700.0));
    // Bins of one log width, all inside the default range 2632–6000 GeV, as many as fit.
    let ratio = (3700.0f64 / 3300.0).powf(1.0 / 3.0);
    for pair in opts.edges.windows(2) {
        assert!((pair[1] / pair[0] - ratio).abs() < 1e-9, "{:?}", opts.edges);
    }
    assert!(opts.edges[0] >= 2632.0 && opts.edges[0] / ratio < 2632.0);
    let last = *opts.edges.last().unwrap();
    assert!(last <= 6000.0 && last * ratio > 6000.0);
    // A window too close to the range's edge for its sidebands is an error.
    let err = CwolaOptions::default()
        .at_window((2700.0, 3000.0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not fit"), "{err}");
    assert!(CwolaOptions::default().at_window((3700.0, 3300.0)).is_err());
}

#[test]
fn a_hunt_split_into_units_merges_to_the_whole_hunt() {
    let events = sample(20_000, 300, 5);
    let opts = quick(vec![3, 5]);
    let whole = cwola_hunt(&events, &opts, None).unwrap();
    assert_eq!(hunt_units(&opts).unwrap(), 6);
    // Units in reverse order, each alone; the merge takes them in unit order.
    let mut scored: Vec<FoldScores> = (0..6)
        .rev()
        .map(|u| hunt_unit(&events, None, &opts, u, None).unwrap())
        .collect();
    scored.reverse();
    // Through JSON, as a plan's unit files hold them.
    let scored: Vec<FoldScores> = scored
        .iter()
        .map(|s| serde_json::from_str(&serde_json::to_string(s).unwrap()).unwrap())
        .collect();
    let merged = merge_hunt(&events, None, &opts, scored.clone()).unwrap();
    assert_eq!(merged.to_json(), whole.to_json());
    for (m, w) in merged.regions.iter().zip(&whole.regions) {
        assert_eq!(m.scores, w.scores);
        assert_eq!(m.selected, w.selected);
    }
    // Another seed's units, or units out of place, are refused by name.
    let mut swapped = scored.clone();
    swapped.swap(0, 1);
    let err = merge_hunt(&events, None, &opts, swapped)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unit 0") && err.contains("outer fold 0"),
        "{err}"
    );
    let err = merge_hunt(&events, None, &opts, scored[..5].to_vec())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("5 unit results for a hunt of 6 units"),
        "{err}"
    );
    let err = hunt_unit(&events, None, &opts, 6, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("0 to 5"), "{err}");
}

#[test]
fn pseudo_data_follow_the_fit_and_borrow_features_from_any_mass() {
    let events = sample(30_000, 0, 8);
    let opts = CwolaOptions {
        features: vec!["tag".into(), "mj1".into()],
        rescale: vec!["mj1".into()],
        ..quick(vec![4])
    };
    let mass = events.column("mjj").unwrap();
    // A feature that names its own mass bin, and a jet mass exactly 0.1 mjj.
    let tag: Vec<f64> = mass
        .iter()
        .map(|&m| find_bin(&opts.edges, m).map_or(-100.0, |b| b as f64))
        .collect();
    let events = events
        .with_column("tag", tag.clone())
        .unwrap()
        .with_column("mj1", mass.iter().map(|m| 0.1 * m).collect())
        .unwrap();
    let in_range: Vec<f64> = tag.iter().copied().filter(|&t| t >= 0.0).collect();
    let n = in_range.len() as f64;
    let toy = null_pseudo_data(&events, &opts, 21).unwrap();
    assert!(
        (toy.len() as f64 - n).abs() < 5.0 * n.sqrt(),
        "{} vs {n}",
        toy.len()
    );
    let (toy_mass, toy_tag, toy_mj1) = (
        toy.column("mjj").unwrap(),
        toy.column("tag").unwrap(),
        toy.column("mj1").unwrap(),
    );
    // Every toy mass in the range, every borrowed tag an in-range event's, the ratio kept.
    let mut low_tags = Vec::new();
    let mut high_tags = Vec::new();
    for ((&m, &t), &j) in toy_mass.iter().zip(&toy_tag).zip(&toy_mj1) {
        let b = find_bin(&opts.edges, m).expect("a toy mass in the hunt range");
        assert!(t >= 0.0, "borrowed from outside the range");
        assert!(
            (j / m - 0.1).abs() < 1e-12,
            "the ratio is carried over: {}",
            j / m
        );
        if b < 3 {
            low_tags.push(t);
        } else if b >= 6 {
            high_tags.push(t);
        }
    }
    // The borrowed features do not depend on the toy event's mass: the mean tag of low-mass
    // and high-mass toy events agree with the data's over the range.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let data_mean = mean(&in_range);
    let spread = (in_range
        .iter()
        .map(|t| (t - data_mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    for part in [&low_tags, &high_tags] {
        let error = spread / (part.len() as f64).sqrt();
        assert!(
            (mean(part) - data_mean).abs() < 5.0 * error,
            "mean tag {} of {} toy events against the data's {data_mean} ± {error}",
            mean(part),
            part.len()
        );
    }
    // The same seed, the same pseudo-data; another seed, others.
    let again = null_pseudo_data(&events, &opts, 21).unwrap();
    assert_eq!(again.column("tag").unwrap(), toy_tag);
    let other = null_pseudo_data(&events, &opts, 22).unwrap();
    assert_ne!(other.column("mjj").unwrap(), toy_mass);
}

#[test]
fn the_toy_global_p_counts_toys_at_least_as_significant() {
    let toy = |p: f64| HuntToy {
        local_p: p,
        local_z: crate::stats::special::z_from_p(p).unwrap_or(f64::NAN),
    };
    let toys: Vec<HuntToy> = [0.5, 0.01, 0.001, f64::NAN, 0.2].map(toy).to_vec();
    let g = ToyGlobal::new(0.01, &toys).unwrap();
    assert_eq!((g.toys, g.at_least_as_extreme), (5, 2));
    assert!((g.global_p - 0.4).abs() < 1e-15 && !g.lower_limit);
    assert!((g.global_p_error - (0.4f64 * 0.6 / 5.0).sqrt()).abs() < 1e-15);
    let none = ToyGlobal::new(1e-5, &toys).unwrap();
    assert_eq!(none.global_p, 0.0);
    assert!(none.lower_limit);
    assert!((none.global_z - crate::stats::special::z_from_p(0.2).unwrap()).abs() < 1e-12);
    assert!(ToyGlobal::new(0.01, &[]).is_err());
    // A hunt with toys states both; its global p is the toys'.
    let events = sample(20_000, 300, 5);
    let hunt = cwola_hunt(&events, &quick(vec![4]), None).unwrap();
    let observed = hunt.global().unwrap();
    assert!(observed.toys.is_none());
    let with = hunt.with_toys(toys.clone());
    let g = with.global().unwrap();
    assert_eq!(g.test, observed.test);
    assert_eq!(
        g.toys,
        Some(ToyGlobal::new(observed.test.local_p, &toys).unwrap())
    );
    assert!(with.to_string().contains("from 5 retrained toys"), "{with}");
}

#[test]
fn a_retrained_toy_is_reproducible_from_its_seed_and_index() {
    let events = sample(20_000, 0, 6);
    let opts = quick(vec![4]);
    let a = hunt_toy(&events, &opts, 3, 1, None).unwrap();
    assert_eq!(a, hunt_toy(&events, &opts, 3, 1, None).unwrap());
    assert_ne!(a, hunt_toy(&events, &opts, 3, 2, None).unwrap());
    assert!(a.local_p > 0.0 && a.local_p <= 1.0, "{a:?}");
}
