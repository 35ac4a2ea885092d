//! Tests of the LHC-Olympics-like dijet generator.

use super::params::{QCD_MASS_MAX_FRACTION, SIM_TAU21_SHIFT, SQRT_S, TAU_MAX};
use super::*;
use crate::Error;
use crate::data::generate::CHUNK;

fn options(background: usize, signal: usize, seed: u64) -> LhcoToyOptions {
    LhcoToyOptions {
        background,
        signal,
        seed,
        ..LhcoToyOptions::default()
    }
}

fn column<'a>(cols: &'a NamedColumns, name: &str) -> &'a [f64] {
    &cols
        .iter()
        .find(|(n, _)| n == name)
        .expect("column exists")
        .1
}

/// The values of `name` in events whose label is `label`.
fn of_label(cols: &NamedColumns, name: &str, label: f64) -> Vec<f64> {
    let labels = column(cols, "label");
    column(cols, name)
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l == label)
        .map(|(v, _)| *v)
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
}

fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// Counts of `values` in the bins delimited by `edges`.
fn histogram(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let mut counts = vec![0.0; edges.len() - 1];
    for &v in values {
        let i = edges.partition_point(|&e| e <= v);
        if (1..edges.len()).contains(&i) {
            counts[i - 1] += 1.0;
        }
    }
    counts
}

fn log_edges(lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    (0..=bins)
        .map(|i| lo * (hi / lo).powf(i as f64 / bins as f64))
        .collect()
}

#[test]
fn columns_in_order_with_requested_counts() {
    let cols = lhco_toy(&options(20_000, 500, 1)).unwrap();
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, COLUMNS);
    assert!(cols.iter().all(|(_, v)| v.len() == 20_500));
    assert_eq!(of_label(&cols, "mjj", 1.0).len(), 500);
    assert_eq!(of_label(&cols, "mjj", 0.0).len(), 20_000);
    assert!(cols.iter().all(|(_, v)| v.iter().all(|x| x.is_finite())));
}

#[test]
fn same_seed_same_events_other_seed_other_events() {
    let a = lhco_toy(&options(30_000, 300, 5)).unwrap();
    assert_eq!(a, lhco_toy(&options(30_000, 300, 5)).unwrap());
    assert_ne!(
        column(&a, "mjj"),
        column(&lhco_toy(&options(30_000, 300, 6)).unwrap(), "mjj")
    );
}

#[test]
fn independent_of_thread_count() {
    let opts = options(3 * CHUNK + 17, CHUNK + 3, 11);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let single = pool.install(|| lhco_toy(&opts)).unwrap();
    assert_eq!(single, lhco_toy(&opts).unwrap());
}

#[test]
fn a_triggered_interrupt_stops_generation() {
    let interrupt = Interrupt::new();
    interrupt.trigger();
    let err = lhco_toy_interruptible(&options(3 * CHUNK, 10, 1), Some(&interrupt));
    assert!(matches!(err, Err(Error::Interrupted)), "{err:?}");
    interrupt.clear();
    assert!(lhco_toy_interruptible(&options(100, 10, 1), Some(&interrupt)).is_ok());
}

#[test]
fn signal_is_shuffled_into_the_sample() {
    let cols = lhco_toy(&options(50_000, 1_000, 2)).unwrap();
    let labels = column(&cols, "label");
    let first_half = labels[..labels.len() / 2].iter().sum::<f64>();
    assert!(
        (400.0..600.0).contains(&first_half),
        "{first_half} signal events in the first half"
    );
}

#[test]
fn jets_ordered_by_mass_and_dmj_is_their_difference() {
    let cols = lhco_toy(&options(50_000, 2_000, 3)).unwrap();
    let (mj1, mj2, dmj) = (
        column(&cols, "mj1"),
        column(&cols, "mj2"),
        column(&cols, "dmj"),
    );
    for i in 0..mj1.len() {
        assert!(mj1[i] >= mj2[i] && mj2[i] > 0.0);
        assert_eq!(dmj[i], mj1[i] - mj2[i]);
    }
    for name in ["tau21_1", "tau21_2", "tau32_1", "tau32_2"] {
        assert!(
            column(&cols, name)
                .iter()
                .all(|t| (0.0..=TAU_MAX).contains(t)),
            "{name} outside [0, {TAU_MAX}]"
        );
    }
}

#[test]
fn mjj_turns_on_then_falls() {
    let cols = lhco_toy(&options(200_000, 0, 4)).unwrap();
    let mjj = column(&cols, "mjj");
    let edges: Vec<f64> = (0..=40).map(|i| 2_000.0 + 100.0 * i as f64).collect();
    let counts = histogram(mjj, &edges);
    let peak = (0..counts.len())
        .max_by(|&a, &b| counts[a].total_cmp(&counts[b]))
        .unwrap();
    assert!(
        (2_500.0..3_000.0).contains(&edges[peak]),
        "peak bin starts at {}",
        edges[peak]
    );
    let coarse = histogram(
        mjj,
        &(0..=10)
            .map(|i| 3_000.0 + 250.0 * i as f64)
            .collect::<Vec<_>>(),
    );
    assert!(
        coarse.windows(2).all(|w| w[1] < w[0]),
        "not falling above 3 TeV: {coarse:?}"
    );
    let below = mjj.iter().filter(|&&m| m < 2_300.0).count();
    assert!(below < 200, "{below} events below the turn-on");
    let above_6tev = mjj.iter().filter(|&&m| m > 6_000.0).count() as f64 / mjj.len() as f64;
    assert!(above_6tev < 0.003, "fraction above 6 TeV {above_6tev}");
}

/// The terms of `ln` of the four-parameter dijet function at `mjj`, whose coefficients are
/// `ln p0, p1, p2, p3`.
fn dijet_basis(mjj: f64) -> [f64; 4] {
    let x = mjj / SQRT_S;
    [1.0, (1.0 - x).ln(), -x.ln(), -x.ln() * x.ln()]
}

/// Weighted least squares of `ln` density values on [`dijet_basis`]: points are
/// `(basis, ln density, weight)`.
fn dijet_least_squares(points: &[([f64; 4], f64, f64)]) -> [f64; 4] {
    let mut a = [[0.0; 4]; 4];
    let mut b = [0.0; 4];
    for (f, y, w) in points {
        for r in 0..4 {
            b[r] += w * f[r] * y;
            for c in 0..4 {
                a[r][c] += w * f[r] * f[c];
            }
        }
    }
    solve4(a, b)
}

/// Weighted least squares of `ln(density)` on the four-parameter dijet function; returns
/// chi-square and degrees of freedom with Poisson errors.
fn dijet_fit_chi2(mjj: &[f64], edges: &[f64]) -> (f64, usize) {
    let counts = histogram(mjj, edges);
    let points: Vec<([f64; 4], f64, f64)> = counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let (lo, hi) = (edges[i], edges[i + 1]);
            (dijet_basis((lo * hi).sqrt()), (n / (hi - lo)).ln(), n)
        })
        .collect();
    let p = dijet_least_squares(&points);
    let chi2 = points
        .iter()
        .map(|(f, y, w)| {
            let fitted = (0..4).map(|r| p[r] * f[r]).sum::<f64>();
            w * (y - fitted).powi(2)
        })
        .sum();
    (chi2, points.len() - 4)
}

/// Gaussian elimination with partial pivoting for a 4x4 system.
fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> [f64; 4] {
    for col in 0..4 {
        let pivot = (col..4)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..4 {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 4];
    for row in (0..4).rev() {
        x[row] = (b[row] - (row + 1..4).map(|c| a[row][c] * x[c]).sum::<f64>()) / a[row][row];
    }
    x
}

#[test]
fn background_mjj_is_described_by_the_dijet_function() {
    let cols = lhco_toy(&options(200_000, 0, 8)).unwrap();
    let (chi2, ndf) = dijet_fit_chi2(column(&cols, "mjj"), &log_edges(2_900.0, 5_500.0, 20));
    assert!(chi2 / (ndf as f64) < 2.0, "chi2/ndf = {chi2:.1}/{ndf}");
}

/// The QCD jet masses of the Pythia sample (docs/realistic-samples.md): per jet, median
/// 159 GeV and `sd(ln m)` 0.79 at `mjj` 3.3-3.7 TeV, the median growing by 5 % from
/// 2.75 to 5.25 TeV.
#[test]
fn qcd_jet_masses_grow_slowly_with_mjj_as_in_pythia() {
    let cols = lhco_toy(&options(300_000, 0, 9)).unwrap();
    let mjj = column(&cols, "mjj");
    let log_masses = |lo: f64, hi: f64| -> Vec<f64> {
        (0..mjj.len())
            .filter(|&i| (lo..hi).contains(&mjj[i]))
            .flat_map(|i| [column(&cols, "mj1")[i], column(&cols, "mj2")[i]])
            .map(f64::ln)
            .collect()
    };
    let sr = log_masses(3_300.0, 3_700.0);
    let sd = (sr.iter().map(|l| (l - mean(&sr)).powi(2)).sum::<f64>() / sr.len() as f64).sqrt();
    let sr_median = median(&sr).exp();
    assert!((150.0..170.0).contains(&sr_median), "SR median {sr_median}");
    assert!((0.74..0.84).contains(&sd), "SR sd(ln m) {sd}");
    let growth =
        (median(&log_masses(4_000.0, 4_500.0)) - median(&log_masses(2_800.0, 3_000.0))).exp();
    assert!((1.0..1.07).contains(&growth), "median growth {growth}");
}

/// `tau21` means of the Pythia sample at `mjj` 3.3-3.7 TeV: QCD 0.452 / 0.619 (heavier /
/// lighter jet), signal 0.247 / 0.363; QCD jets below 60 GeV 0.79, above 400 GeV 0.32.
#[test]
fn tau21_falls_with_jet_mass_and_separates_signal_as_in_pythia() {
    let cols = lhco_toy(&options(200_000, 20_000, 10)).unwrap();
    let mjj = column(&cols, "mjj");
    let in_sr = |label: f64, name: &str| -> Vec<f64> {
        (0..mjj.len())
            .filter(|&i| (3_300.0..3_700.0).contains(&mjj[i]) && column(&cols, "label")[i] == label)
            .map(|i| column(&cols, name)[i])
            .collect()
    };
    let expected = [
        (0.0, "tau21_1", 0.452),
        (0.0, "tau21_2", 0.619),
        (1.0, "tau21_1", 0.247),
        (1.0, "tau21_2", 0.363),
    ];
    for (label, name, pythia) in expected {
        let m = mean(&in_sr(label, name));
        assert!(
            (m - pythia).abs() < 0.04,
            "label {label} {name}: {m} (Pythia {pythia})"
        );
    }
    let (masses, taus) = (in_sr(0.0, "mj2"), in_sr(0.0, "tau21_2"));
    let mean_where = |keep: &dyn Fn(f64) -> bool| {
        mean(
            &(0..masses.len())
                .filter(|&i| keep(masses[i]))
                .map(|i| taus[i])
                .collect::<Vec<_>>(),
        )
    };
    let (light, heavy) = (mean_where(&|m| m < 60.0), mean_where(&|m| m > 300.0));
    assert!(
        light > 0.72 && heavy < 0.45,
        "tau21 {light} below 60 GeV, {heavy} above 300 GeV"
    );
}

/// The mode of `values` in bins of `width` relative to `centre`, over `centre` +- 30 %.
fn mode_near(values: &[f64], centre: f64, width: f64) -> f64 {
    let edges: Vec<f64> = (0..=30)
        .map(|i| centre * (0.7 + width * i as f64))
        .collect();
    let counts = histogram(values, &edges);
    let peak = (0..counts.len())
        .max_by(|&a, &b| counts[a].total_cmp(&counts[b]))
        .unwrap();
    0.5 * (edges[peak] + edges[peak + 1])
}

#[test]
fn contained_signal_peaks_at_the_resonance_masses() {
    for preset in [Preset::Rnd, Preset::Bb1] {
        let opts = LhcoToyOptions {
            background: 0,
            signal: 50_000,
            ..LhcoToyOptions::preset(preset)
        };
        let cols = lhco_toy(&opts).unwrap();
        for (name, mass) in [("mjj", opts.mz), ("mj1", opts.mx), ("mj2", opts.my)] {
            let mode = mode_near(column(&cols, name), mass, 0.02);
            assert!(
                (mode / mass - 1.0).abs() < 0.03,
                "{preset:?} {name} mode {mode}"
            );
        }
    }
}

/// The Pythia R&D-like signal: 22 % of the X jets (500 GeV from a 3.5 TeV decay) miss a
/// prong, and those events have a 3 % lower `mjj`.
#[test]
fn signal_jets_miss_a_prong_as_often_as_the_boost_says() {
    let missed = |preset: Preset| {
        let opts = LhcoToyOptions {
            background: 0,
            signal: 50_000,
            ..LhcoToyOptions::preset(preset)
        };
        let cols = lhco_toy(&opts).unwrap();
        let (mj1, mjj) = (column(&cols, "mj1"), column(&cols, "mjj"));
        let lost: Vec<bool> = mj1.iter().map(|&m| m < 0.8 * opts.mx).collect();
        let pick = |l: bool| -> Vec<f64> {
            (0..mjj.len())
                .filter(|&i| lost[i] == l)
                .map(|i| mjj[i])
                .collect()
        };
        let fraction = lost.iter().filter(|&&l| l).count() as f64 / lost.len() as f64;
        (fraction, median(&pick(true)) / median(&pick(false)))
    };
    let (rnd, rnd_mjj) = missed(Preset::Rnd);
    assert!(
        (0.18..0.27).contains(&rnd),
        "rnd: {rnd} of X jets below 0.8 mx"
    );
    assert!((0.94..0.99).contains(&rnd_mjj), "rnd: mjj ratio {rnd_mjj}");
    let (bb1, _) = missed(Preset::Bb1);
    assert!(
        bb1 > rnd + 0.1,
        "bb1's less boosted X misses more often: {bb1}"
    );
}

/// The exact background density against the best four-parameter dijet function (noise
/// free, least squares on `ln` density over 2.75-6 TeV, above the trigger turn-on): close,
/// but not the same.
#[test]
fn background_mjj_is_not_a_dijet_function() {
    let points: Vec<([f64; 4], f64, f64)> = (0..200)
        .map(|i| {
            let mjj = 2_750.0 * (6_000.0f64 / 2_750.0).powf(i as f64 / 199.0);
            (dijet_basis(mjj), background_mjj_density(mjj).ln(), 1.0)
        })
        .collect();
    let p = dijet_least_squares(&points);
    let worst = points
        .iter()
        .map(|(f, y, _)| (y - (0..4).map(|r| p[r] * f[r]).sum::<f64>()).abs())
        .fold(0.0, f64::max);
    assert!(
        (0.002..0.01).contains(&worst),
        "largest ln-density residual {worst}"
    );
}

#[test]
fn sim_shifts_tau21_down_and_pulls_low_masses_down() {
    let data = lhco_toy(&options(100_000, 0, 12)).unwrap();
    let sim = lhco_toy(&LhcoToyOptions {
        variant: Variant::Sim,
        ..options(100_000, 0, 12)
    })
    .unwrap();
    let shift = mean(column(&sim, "tau21_1")) - mean(column(&data, "tau21_1"));
    assert!(
        (shift - SIM_TAU21_SHIFT).abs() < 0.005,
        "tau21 shift {shift}"
    );
    // Masses are pulled down at low mass, hardly at all at high mass; mjj is unchanged.
    let ratio =
        |name: &str, q: f64| quantile(column(&sim, name), q) / quantile(column(&data, name), q);
    let (low, high) = (ratio("mj2", 0.1), ratio("mj1", 0.9));
    assert!(
        (0.8..0.92).contains(&low),
        "sim/data 10% quantile of mj2: {low}"
    );
    assert!(
        (0.98..1.01).contains(&high),
        "sim/data 90% quantile of mj1: {high}"
    );
    assert!((ratio("mjj", 0.5) - 1.0).abs() < 0.005);
}

#[test]
fn slope_adds_a_multiple_of_mjj_to_every_jet_mass() {
    let plain = lhco_toy(&options(20_000, 1_000, 13)).unwrap();
    let sloped = lhco_toy(&LhcoToyOptions {
        mj_mjj_slope: 0.1,
        ..options(20_000, 1_000, 13)
    })
    .unwrap();
    let mjj = column(&plain, "mjj");
    for name in ["mj1", "mj2"] {
        let (p, s) = (column(&plain, name), column(&sloped, name));
        assert!(
            (0..mjj.len()).all(|i| (s[i] - p[i] - 0.1 * mjj[i]).abs() < 1e-9),
            "{name}"
        );
    }
    for name in ["mjj", "tau21_1", "tau21_2", "tau32_1", "tau32_2", "label"] {
        assert_eq!(column(&plain, name), column(&sloped, name));
    }
    let dmj = column(&plain, "dmj").iter().zip(column(&sloped, "dmj"));
    assert!(dmj.into_iter().all(|(p, s)| (p - s).abs() < 1e-9));
}

#[test]
fn power_scales_the_background_jet_masses_with_mjj() {
    let plain = lhco_toy(&options(20_000, 1_000, 14)).unwrap();
    let same = lhco_toy(&LhcoToyOptions {
        mj_mjj_power: 0.0,
        ..options(20_000, 1_000, 14)
    })
    .unwrap();
    assert_eq!(plain, same, "power 0 is today's sample");
    let scaled = lhco_toy(&LhcoToyOptions {
        mj_mjj_power: MJ_PROPORTIONAL_POWER,
        ..options(200_000, 1_000, 14)
    })
    .unwrap();
    let (mjj, label) = (column(&scaled, "mjj"), column(&scaled, "label"));
    // The background's mj/mjj: the same median and upper end at 2.8-3 TeV and 4-4.5 TeV.
    let ratios = |lo: f64, hi: f64| -> Vec<f64> {
        (0..mjj.len())
            .filter(|&i| label[i] == 0.0 && (lo..hi).contains(&mjj[i]))
            .flat_map(|i| {
                [
                    column(&scaled, "mj1")[i] / mjj[i],
                    column(&scaled, "mj2")[i] / mjj[i],
                ]
            })
            .collect()
    };
    let (low, high) = (ratios(2_800.0, 3_000.0), ratios(4_000.0, 4_500.0));
    let growth = (median(&high) / median(&low)).ln() / (4_250.0f64 / 2_900.0).ln();
    assert!(growth.abs() < 0.1, "mj/mjj median grows as mjj^{growth}");
    for r in low.iter().chain(&high) {
        assert!(*r <= QCD_MASS_MAX_FRACTION + 1e-12, "mj/mjj = {r}");
    }
    // Today's jets: mj/mjj falls almost as 1/mjj.
    let mjj0 = column(&plain, "mjj");
    let today = |lo: f64, hi: f64| -> f64 {
        let r: Vec<f64> = (0..mjj0.len())
            .filter(|&i| column(&plain, "label")[i] == 0.0 && (lo..hi).contains(&mjj0[i]))
            .map(|i| column(&plain, "mj2")[i] / mjj0[i])
            .collect();
        median(&r)
    };
    let today_growth =
        (today(4_000.0, 4_500.0) / today(2_800.0, 3_000.0)).ln() / (4_250.0f64 / 2_900.0).ln();
    assert!(
        today_growth < -0.6,
        "today mj/mjj grows as mjj^{today_growth}"
    );
    // Substructure and signal jets are left alone: tau21 of the whole sample barely moves
    // and the signal's heavier jet still peaks at mx.
    let signal_mj1: Vec<f64> = (0..mjj.len())
        .filter(|&i| label[i] == 1.0)
        .map(|i| column(&scaled, "mj1")[i])
        .collect();
    assert!(
        (median(&signal_mj1) - 500.0).abs() < 40.0,
        "{}",
        median(&signal_mj1)
    );
    let tau_shift = mean(column(&scaled, "tau21_2")) - mean(column(&plain, "tau21_2"));
    assert!(tau_shift.abs() < 0.02, "tau21 shift {tau_shift}");
}

#[test]
fn presets_have_the_documented_contents() {
    let rnd = LhcoToyOptions::preset(Preset::Rnd);
    assert_eq!(
        (rnd.background, rnd.signal, rnd.mz, rnd.mx, rnd.my),
        (1_000_000, 1_000, 3_500.0, 500.0, 100.0)
    );
    assert_eq!((rnd.variant, rnd.mj_mjj_slope), (Variant::Data, 0.0));
    assert_eq!(LhcoToyOptions::default(), rnd);
    let bb1 = LhcoToyOptions::preset(Preset::Bb1);
    assert_eq!((bb1.background + bb1.signal, bb1.signal), (1_000_000, 834));
    assert_eq!(
        (bb1.mz, bb1.mx, bb1.my, bb1.variant),
        (3_823.0, 732.0, 378.0, Variant::Data)
    );
    let bb2 = LhcoToyOptions::preset(Preset::Bb2);
    assert_eq!(
        (bb2.background, bb2.signal, bb2.variant),
        (1_000_000, 0, Variant::Sim)
    );
    for p in Preset::ALL {
        assert_eq!(Preset::parse(p.name()).unwrap(), p);
        LhcoToyOptions::preset(p).validate().unwrap();
    }
    for v in Variant::ALL {
        assert_eq!(Variant::parse(v.name()).unwrap(), v);
    }
}

#[test]
fn invalid_options_are_rejected_with_the_option_named() {
    let err = |e: Error| e.to_string();
    assert!(err(Preset::parse("bb3").unwrap_err()).contains("rnd, bb1, bb2"));
    assert!(err(Variant::parse("herwig").unwrap_err()).contains("data, sim"));
    let ok = LhcoToyOptions::default();
    let cases = [
        (
            LhcoToyOptions {
                background: 0,
                signal: 0,
                ..ok.clone()
            },
            "signal",
        ),
        (
            LhcoToyOptions {
                background: MAX_EVENTS,
                signal: 1,
                ..ok.clone()
            },
            "background",
        ),
        (
            LhcoToyOptions {
                background: usize::MAX,
                signal: 1,
                ..ok.clone()
            },
            "background",
        ),
        (
            LhcoToyOptions {
                mx: -1.0,
                ..ok.clone()
            },
            "mx",
        ),
        (
            LhcoToyOptions {
                my: 1e-3,
                ..ok.clone()
            },
            "my",
        ),
        (
            LhcoToyOptions {
                my: f64::NAN,
                ..ok.clone()
            },
            "my",
        ),
        (
            LhcoToyOptions {
                mz: 0.0,
                ..ok.clone()
            },
            "mz",
        ),
        (
            LhcoToyOptions {
                mz: 13_000.0,
                ..ok.clone()
            },
            "mz",
        ),
        (
            LhcoToyOptions {
                mx: 3_000.0,
                my: 500.0,
                ..ok.clone()
            },
            "mz",
        ),
        (
            LhcoToyOptions {
                mj_mjj_slope: -0.1,
                ..ok.clone()
            },
            "mj_mjj_slope",
        ),
        (
            LhcoToyOptions {
                mj_mjj_slope: f64::INFINITY,
                ..ok.clone()
            },
            "mj_mjj_slope",
        ),
        (
            LhcoToyOptions {
                mj_mjj_power: 2.5,
                ..ok.clone()
            },
            "mj_mjj_power",
        ),
        (
            LhcoToyOptions {
                mj_mjj_power: f64::NAN,
                ..ok.clone()
            },
            "mj_mjj_power",
        ),
    ];
    for (opts, name) in cases {
        let message = err(lhco_toy(&opts).unwrap_err());
        assert!(
            message.starts_with(&format!("invalid {name}:")),
            "{message}"
        );
    }
}
