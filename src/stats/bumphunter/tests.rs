//! Tests of BumpHunter in 1D and 2D and of the signal-injection test.

use rand_distr::{Distribution, Poisson};

use super::pseudo::{BinSampler, count_extreme_direct};
use super::scan::Scan;
use super::windows::{prefix, threshold, windows_1d};
use super::*;
use crate::error::Error;
use crate::interrupt::Interrupt;
use crate::seed::rng_for;
use crate::stats::hist::{Hist1D, Hist2D};

fn edges(n: usize) -> Vec<f64> {
    (0..=n).map(|i| i as f64).collect()
}

fn falling(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 1000.0 * (-(i as f64) / 10.0).exp())
        .collect()
}

fn poisson_draw(means: &[f64], seed: u64) -> Vec<f64> {
    let mut rng = rng_for(seed, 99);
    means
        .iter()
        .map(|&m| {
            if m > 0.0 {
                Poisson::new(m).unwrap().sample(&mut rng)
            } else {
                0.0
            }
        })
        .collect()
}

fn hists(d: Vec<f64>, b: Vec<f64>) -> (Hist1D, Hist1D) {
    let n = d.len();
    (
        Hist1D::from_counts(edges(n), d).unwrap(),
        Hist1D::from_counts(edges(n), b).unwrap(),
    )
}

#[test]
fn windows_follow_pybumphunter_enumeration() {
    let mut b = vec![0.0; 10];
    for v in &mut b[2..8] {
        *v = 5.0;
    }
    let opts = BumpHunterOptions {
        width_min: 2,
        width_max: Some(3),
        ..Default::default()
    };
    let w = windows_1d(&b, &opts).unwrap();
    // Scan range [2, 8): widths 2 (positions 2..=6) then 3 (positions 2..=5).
    assert_eq!(w.len(), 5 + 4);
    assert_eq!((w[0].start, w[0].width), (2, 2));
    assert_eq!((w[5].start, w[5].width), (2, 3));
    let half = BumpHunterOptions {
        scan_step: ScanStep::Half,
        width_max: Some(4),
        width_min: 4,
        ..Default::default()
    };
    assert_eq!(
        windows_1d(&b, &half)
            .unwrap()
            .iter()
            .map(|w| w.start)
            .collect::<Vec<_>>(),
        vec![2, 4]
    );
    assert!(windows_1d(&[0.0; 4], &opts).is_err());
    let too_wide = BumpHunterOptions {
        width_min: 7,
        width_max: Some(8),
        ..Default::default()
    };
    assert!(windows_1d(&b, &too_wide).is_err());
}

#[test]
fn local_p_values_are_poisson_tails() {
    assert_eq!(local_p(Mode::Excess, 5.0, 8.0), 1.0);
    assert!((local_p(Mode::Excess, 3.0, 1.0) - (1.0 - (-1.0f64).exp() * 2.5)).abs() < 1e-14);
    assert!((local_p(Mode::Deficit, 0.0, 2.0) - (-2.0f64).exp()).abs() < 1e-15);
    assert_eq!(local_p(Mode::Deficit, 3.0, 2.0), 1.0);
    assert_eq!(local_p(Mode::Excess, 1e6, 1.0), P_FLOOR);
}

#[test]
fn thresholds_are_the_first_extreme_counts() {
    for &nb in &[0.7, 12.3, 480.0] {
        for &p in &[0.3, 1e-3, 1e-9] {
            let t = threshold(nb, p, Mode::Excess);
            assert!(local_p(Mode::Excess, t as f64, nb) <= p);
            assert!(local_p(Mode::Excess, (t - 1) as f64, nb) > p);
            let t = threshold(nb, p, Mode::Deficit);
            if t >= 0 {
                assert!(local_p(Mode::Deficit, t as f64, nb) <= p);
                assert!(local_p(Mode::Deficit, (t + 1) as f64, nb) > p);
            }
        }
    }
}

#[test]
fn an_injected_bump_is_found() {
    let b = falling(40);
    let mut d = poisson_draw(&b, 3);
    for (i, extra) in [(20, 25.0), (21, 30.0), (22, 25.0)] {
        d[i] += extra;
    }
    let (hd, hb) = hists(d, b);
    let r = bump_hunter(
        &hd,
        &hb,
        &BumpHunterOptions {
            width_max: Some(7),
            npe: 4000,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert!(
        r.start <= 20 && r.start + r.width >= 23,
        "window {}..{}",
        r.start,
        r.start + r.width
    );
    assert!(r.local_z > 3.0, "local Z {}", r.local_z);
    assert!(
        r.global_z < r.local_z,
        "the look-elsewhere effect lowers the significance"
    );
    assert!((r.signal - (r.n_data - r.n_reference)).abs() < 1e-12);
    assert!(r.bin_significance[20..23].iter().sum::<f64>() > 3.0);
    assert_eq!(r.windows_tested, (2..=7).map(|w| 40 - w + 1).sum::<usize>());
}

#[test]
fn same_seed_same_result_whatever_the_threads() {
    let b = falling(30);
    let (hd, hb) = hists(poisson_draw(&b, 8), b);
    let opts = BumpHunterOptions {
        npe: 5000,
        seed: 21,
        ..Default::default()
    };
    let a = bump_hunter(&hd, &hb, &opts, None).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| bump_hunter(&hd, &hb, &opts, None).unwrap());
    assert_eq!(a.n_extreme, one.n_extreme);
    let other = bump_hunter(
        &hd,
        &hb,
        &BumpHunterOptions {
            seed: 22,
            ..opts.clone()
        },
        None,
    )
    .unwrap();
    assert_eq!((a.start, a.width), (other.start, other.width));
}

#[test]
fn fast_thresholds_agree_with_direct_rescans() {
    let b = falling(25);
    let (hd, hb) = hists(poisson_draw(&b, 4), b.clone());
    let opts = BumpHunterOptions {
        npe: 3000,
        seed: 5,
        ..Default::default()
    };
    let fast = bump_hunter(&hd, &hb, &opts, None).unwrap();
    let scan = Scan::new(&hd, &hb, &opts).unwrap();
    let pb = prefix(&b);
    let direct = count_extreme_direct(&b, &opts, None, |pd| scan.hit(pd, &pb, &opts)).unwrap();
    assert_eq!(fast.n_extreme, direct);
}

#[test]
fn global_p_values_are_uniform_under_the_null() {
    // Background-only pseudo-data: the global p-value must be uniform (KS test).
    let b: Vec<f64> = (0..20).map(|i| 200.0 * (-(i as f64) / 8.0).exp()).collect();
    let toys = 300;
    let mut ps: Vec<f64> = (0..toys)
        .map(|k| {
            let (hd, hb) = hists(poisson_draw(&b, 1000 + k), b.clone());
            let opts = BumpHunterOptions {
                npe: 2000,
                seed: 7_000 + k,
                width_max: Some(5),
                ..Default::default()
            };
            bump_hunter(&hd, &hb, &opts, None).unwrap().global_p
        })
        .collect();
    ps.sort_by(f64::total_cmp);
    let ks = ps
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            ((i + 1) as f64 / toys as f64 - p)
                .abs()
                .max((p - i as f64 / toys as f64).abs())
        })
        .fold(0.0, f64::max);
    // 1% critical value of the KS statistic for n = 300 is 1.63 / sqrt(n) = 0.094; the
    // discreteness of Poisson data makes p-values slightly conservative, hence a margin.
    assert!(ks < 0.11, "KS distance {ks}");
    let below = ps.iter().filter(|&&p| p <= 0.1).count() as f64 / toys as f64;
    assert!(
        (below - 0.1).abs() < 0.06,
        "fraction with p <= 0.1: {below}"
    );
}

#[test]
fn deficits_and_sidebands() {
    let b = falling(30);
    let mut d = poisson_draw(&b, 12);
    for v in &mut d[10..13] {
        *v = (*v * 0.6_f64).round();
    }
    let (hd, hb) = hists(d.clone(), b.clone());
    let opts = BumpHunterOptions {
        mode: Mode::Deficit,
        npe: 2000,
        ..Default::default()
    };
    let r = bump_hunter(&hd, &hb, &opts, None).unwrap();
    assert!(r.start <= 12 && r.start + r.width >= 10 && r.signal < 0.0);
    let scaled = hb.scale(1.3);
    let side = BumpHunterOptions {
        use_sideband: true,
        sideband_width: 1,
        npe: 1000,
        ..Default::default()
    };
    let r = bump_hunter(&hd, &scaled, &side, None).unwrap();
    assert!(r.n_reference < scaled.total() && r.start >= 1);
}

#[test]
fn sideband_pseudo_experiments_normalise_to_their_own_events() {
    // With use_sideband the reference's normalisation is free. Pseudo-experiments were
    // normalised to the observed data's total instead of their own: against a reference
    // at a tenth of the data, no pseudo-experiment ever showed an excess and background-only
    // data came out "global p = 0".
    let b: Vec<f64> = (0..30)
        .map(|i| 100.0 * (-(i as f64) / 12.0).exp())
        .collect();
    let opts = BumpHunterOptions {
        use_sideband: true,
        sideband_width: 1,
        width_max: Some(5),
        npe: 400,
        ..Default::default()
    };
    let ps: Vec<f64> = (0..20)
        .map(|k| {
            let tenfold: Vec<f64> = b.iter().map(|x| x * 10.0).collect();
            let (hd, hb) = hists(poisson_draw(&tenfold, 600 + k), b.clone());
            bump_hunter(
                &hd,
                &hb,
                &BumpHunterOptions {
                    seed: k,
                    ..opts.clone()
                },
                None,
            )
            .unwrap()
            .global_p
        })
        .collect();
    let mean = ps.iter().sum::<f64>() / ps.len() as f64;
    assert!(mean > 0.25 && mean < 0.75, "global p-values {ps:?}");
}

#[test]
fn counts_beyond_32_bits_are_drawn_exactly() {
    // Pseudo-experiment counts were 32-bit: bins of 5e9 were drawn as 4.29e9, so data
    // equal to the reference (local p = 1) came out "global p = 0, Z >= 3.09".
    let opts = BumpHunterOptions {
        npe: 300,
        width_min: 1,
        width_max: Some(3),
        ..Default::default()
    };
    let (hd, hb) = hists(vec![5e9; 10], vec![5e9; 10]);
    let r = bump_hunter(&hd, &hb, &opts, None).unwrap();
    assert_eq!(r.local_p, 1.0);
    assert_eq!((r.global_p, r.n_extreme), (1.0, 300));
    // A 3 sigma excess in one bin of 4e9: locally 3 sigma, globally less (27 windows).
    let mut d = vec![4e9; 10];
    d[4] += 3.0 * 4e9_f64.sqrt();
    let (hd, hb) = hists(d, vec![4e9; 10]);
    let r = bump_hunter(&hd, &hb, &opts, None).unwrap();
    assert!((r.local_z - 3.0).abs() < 0.01, "{}", r.local_z);
    assert!(r.global_p > 0.003 && r.global_p < 0.2, "{}", r.global_p);
    // Thousands of such bins need no table of millions of entries per bin.
    let (hd, hb) = hists(vec![4e9; 3000], vec![4e9; 3000]);
    let small = BumpHunterOptions {
        npe: 20,
        width_max: Some(2),
        ..Default::default()
    };
    assert_eq!(bump_hunter(&hd, &hb, &small, None).unwrap().n_extreme, 20);
    // Draws of a large mean have the Poisson mean and variance.
    let sampler = BinSampler::new(5e9).unwrap();
    let mut rng = rng_for(3, 0);
    let draws: Vec<f64> = (0..4000).map(|_| sampler.sample(&mut rng) as f64).collect();
    let mean = draws.iter().sum::<f64>() / 4000.0;
    let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3999.0;
    assert!(
        (mean - 5e9).abs() < 5.0 * (5e9_f64 / 4000.0).sqrt(),
        "{mean}"
    );
    assert!((var / 5e9 - 1.0).abs() < 0.15, "{var}");
}

#[test]
fn data_where_the_reference_is_empty_is_no_bump() {
    // A zero prediction is not a discovery: 3 events over nothing give p = 1, and wider
    // windows see them against the reference around.
    let mut b = vec![100.0; 10];
    let mut d = vec![100.0; 10];
    b[4] = 0.0;
    b[5] = 0.0;
    d[4] = 3.0;
    d[5] = 3.0;
    let (hd, hb) = hists(d, b);
    let opts = BumpHunterOptions {
        npe: 500,
        width_min: 1,
        ..Default::default()
    };
    let r = bump_hunter(&hd, &hb, &opts, None).unwrap();
    assert_eq!(local_p(Mode::Excess, 3.0, 0.0), 1.0);
    assert!(r.local_z < 1.0 && r.global_p > 0.3, "{r}");
}

#[test]
fn zero_pseudo_experiments_and_uncountable_totals_are_errors() {
    let (hd, hb) = hists(vec![1.0; 10], vec![1.0; 10]);
    let none = BumpHunterOptions {
        npe: 0,
        ..Default::default()
    };
    let err = bump_hunter(&hd, &hb, &none, None).unwrap_err().to_string();
    assert!(err.contains("npe") && err.contains("at least 1"), "{err}");
    let (hd, hb) = hists(vec![1e15; 10], vec![1e15; 10]);
    let err = bump_hunter(&hd, &hb, &BumpHunterOptions::default(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("2^53"), "{err}");
    let err = signal_injection(
        &hb,
        &hb,
        &BumpHunterOptions::default(),
        &InjectionOptions {
            npe_inject: 0,
            ..Default::default()
        },
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("npe_inject"), "{err}");
}

#[test]
fn bad_inputs_are_reported() {
    let (hd, hb) = hists(vec![1.0; 10], vec![1.0; 10]);
    let other = Hist1D::from_counts(edges(11), vec![1.0; 11]).unwrap();
    assert!(bump_hunter(&hd, &other, &BumpHunterOptions::default(), None).is_err());
    let (neg, _) = hists(vec![-1.0; 10], vec![1.0; 10]);
    assert!(
        bump_hunter(&neg, &hb, &BumpHunterOptions::default(), None)
            .unwrap_err()
            .to_string()
            .contains("bin 0")
    );
    let (_, empty) = hists(vec![1.0; 10], vec![0.0; 10]);
    assert!(
        bump_hunter(&hd, &empty, &BumpHunterOptions::default(), None)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    let interrupt = Interrupt::new();
    interrupt.trigger();
    let err = bump_hunter(&hd, &hb, &BumpHunterOptions::default(), Some(&interrupt)).unwrap_err();
    assert!(matches!(err, Error::Interrupted));
    assert!(Mode::parse("bump").is_err());
}

#[test]
fn injection_finds_the_strength_for_a_target_significance() {
    let b = falling(30);
    let hb = Hist1D::from_counts(edges(30), b).unwrap();
    let template: Vec<f64> = (0..30)
        .map(|i| if (14..17).contains(&i) { 1.0 } else { 0.0 })
        .collect();
    let hs = Hist1D::from_counts(edges(30), template).unwrap();
    let opts = BumpHunterOptions {
        width_max: Some(5),
        seed: 3,
        ..Default::default()
    };
    let inject = InjectionOptions {
        signal_exp: Some(20.0),
        strengths: None,
        sigma_limit: 3.0,
        npe_background: 4000,
        npe_inject: 300,
    };
    let r = signal_injection(&hb, &hs, &opts, &inject, None).unwrap();
    let needed = r.strength_needed.expect("3 sigma is reachable");
    let last = r.points.last().unwrap();
    assert_eq!(last.strength, needed);
    assert!(last.global_z >= 3.0);
    assert!(
        last.median_t > r.points[0].median_t + 2.0,
        "median t grows with strength"
    );
    assert!(r.points.len() >= 2 && r.points[0].global_z < 3.0);
}

#[test]
fn the_2d_scan_finds_a_rectangle() {
    let (nx, ny) = (10, 10);
    let b: Vec<f64> = (0..nx * ny)
        .map(|k| 50.0 * (-((k / ny) as f64 + (k % ny) as f64) / 10.0).exp())
        .collect();
    let mut d = poisson_draw(&b, 31);
    for (x, y) in [(5, 5), (5, 6), (6, 5), (6, 6)] {
        d[x * ny + y] += 15.0;
    }
    let e = edges(10);
    let hd = Hist2D::from_counts(e.clone(), e.clone(), d).unwrap();
    let hb = Hist2D::from_counts(e.clone(), e, b).unwrap();
    let r = bump_hunter_2d(
        &hd,
        &hb,
        &BumpHunter2DOptions {
            width_max: Some((3, 3)),
            npe: 1000,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert!(r.start.0 <= 5 && r.start.0 + r.width.0 >= 7, "{r:?}");
    assert!(r.start.1 <= 5 && r.start.1 + r.width.1 >= 7, "{r:?}");
    assert!(r.local_z > 4.0);
    assert_eq!(r.windows_tested, 9 * 9 + 9 * 8 * 2 + 8 * 8);
}
