//! Tests of the selection metrics.

use super::*;
use crate::error::{Error, Result};
use crate::stats::special::{normal_cdf, normal_quantile};

/// A deterministic linear congruential generator of uniforms in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal by Box–Muller.
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The Mann–Whitney statistic U / (n_S n_B) by brute force, ties counting one half.
fn mann_whitney(scores: &[f64], labels: &[f64]) -> f64 {
    let (mut u, mut pairs) = (0.0, 0.0);
    for (s, _) in scores.iter().zip(labels).filter(|p| *p.1 == 1.0) {
        for (b, _) in scores.iter().zip(labels).filter(|p| *p.1 == 0.0) {
            u += if s > b {
                1.0
            } else if s == b {
                0.5
            } else {
                0.0
            };
            pairs += 1.0;
        }
    }
    u / pairs
}

fn is_invalid(r: Result<impl std::fmt::Debug>, name: &str) -> bool {
    matches!(r, Err(Error::InvalidArgument { name: n, .. }) if n == name)
}

#[test]
fn small_curve_by_hand() {
    let r = roc(&[0.6, 0.9, 0.7, 0.8], &[0.0, 1.0, 1.0, 0.0], None).unwrap();
    assert_eq!(r.thresholds, [f64::INFINITY, 0.9, 0.8, 0.7, 0.6]);
    assert_eq!(r.eps_s, [0.0, 0.5, 0.5, 1.0, 1.0]);
    assert_eq!(r.eps_b, [0.0, 0.0, 0.5, 0.5, 1.0]);
    assert_eq!(r.auc(), 0.75);
    assert_eq!(r.eps_s_at(0.25).unwrap(), 0.5);
    assert_eq!(r.eps_s_at(0.5).unwrap(), 1.0);
    assert_eq!(r.eps_s_at(1.0).unwrap(), 1.0);
    assert_eq!(r.significance_improvement_at(0.25).unwrap(), 1.0);
    let curve = r.sic_curve();
    let sic = &curve.sic;
    assert_eq!(curve.eps_s, r.eps_s);
    assert!((sic[1] - 50.0).abs() < 1e-12 && (sic[3] - 1.0 / (0.5f64 + 1e-4).sqrt()).abs() < 1e-12);
    assert!((r.max_sic() - 50.0).abs() < 1e-12 && curve.max() == r.max_sic());
    assert!(
        curve.to_string().contains("max SIC 50.000 at eps_S 0.5000"),
        "{curve}"
    );
    assert!(
        r.to_string().starts_with("ROC curve: 5 points, AUC 0.7500"),
        "{r}"
    );
    assert_eq!(r.rejection(), (vec![0.5, 1.0, 1.0], vec![2.0, 2.0, 1.0]));
    let again = super::sic(&[0.6, 0.9, 0.7, 0.8], &[0.0, 1.0, 1.0, 0.0], None).unwrap();
    assert_eq!(again, curve);
}

#[test]
fn interpolation_between_points() {
    // Background at 0..4, signal at 10 and 1.5: points (eps_b, eps_s) = (0, 0), (0, .5),
    // (.25, .5), (.5, .5), (.5, 1), (.75, 1), (1, 1).
    let labels = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
    let r = roc(&[0.0, 1.0, 2.0, 3.0, 1.5, 10.0], &labels, None).unwrap();
    assert_eq!(r.eps_b, [0.0, 0.0, 0.25, 0.5, 0.5, 0.75, 1.0]);
    assert_eq!(r.eps_s, [0.0, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0]);
    assert_eq!(r.eps_s_at(0.125).unwrap(), 0.5);
    assert_eq!(r.eps_s_at(0.499).unwrap(), 0.5);
    // On a vertical step the best cut with eps_B <= the target is taken.
    assert_eq!(r.eps_s_at(0.5).unwrap(), 1.0);
    // A diagonal tie segment interpolates linearly: both classes tied at one score.
    let r = roc(&[1.0, 1.0, 0.0, 0.0], &[1.0, 0.0, 1.0, 0.0], None).unwrap();
    assert_eq!(r.eps_b, [0.0, 0.5, 1.0]);
    assert_eq!(r.eps_s_at(0.25).unwrap(), 0.25);
    assert_eq!(
        eff_at(&[1.0, 1.0, 0.0, 0.0], &[1.0, 0.0, 1.0, 0.0], 0.25).unwrap(),
        0.25
    );
}

#[test]
fn closed_form_aucs() {
    let labels = [1.0, 1.0, 1.0, 0.0, 0.0];
    let perfect = roc(&[5.0, 4.0, 3.0, 2.0, 1.0], &labels, None).unwrap();
    assert_eq!(perfect.auc(), 1.0);
    assert_eq!((perfect.eps_s[0], perfect.eps_b[0]), (0.0, 0.0));
    assert_eq!(
        (
            *perfect.eps_s.last().unwrap(),
            *perfect.eps_b.last().unwrap()
        ),
        (1.0, 1.0)
    );
    assert_eq!(perfect.eps_s_at(1e-4).unwrap(), 1.0);
    let reversed = roc(&[1.0, 2.0, 3.0, 4.0, 5.0], &labels, None).unwrap();
    assert_eq!(reversed.auc(), 0.0);
    // Identical sets with ties: exactly one half.
    let s = [1.0, 2.0, 2.0, 3.0, 1.0, 2.0, 2.0, 3.0];
    let l = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let same = roc(&s, &l, None).unwrap();
    assert_eq!(same.auc(), 0.5);
    assert_eq!(same.thresholds, [f64::INFINITY, 3.0, 2.0, 1.0]);
    // All scores tied: one segment from (0,0) to (1,1).
    let flat = roc(&[0.5; 4], &[1.0, 0.0, 1.0, 0.0], None).unwrap();
    assert_eq!((flat.thresholds.len(), flat.auc()), (2, 0.5));
}

#[test]
fn auc_equals_mann_whitney_with_ties() {
    let mut rng = Lcg(12345);
    for _ in 0..5 {
        let n = 700;
        let labels: Vec<f64> = (0..n)
            .map(|_| if rng.uniform() < 0.4 { 1.0 } else { 0.0 })
            .collect();
        // Coarse scores, shifted for signal, so that many ties mix the classes.
        let scores: Vec<f64> = labels
            .iter()
            .map(|&l| (rng.uniform() * 20.0 + 4.0 * l).floor())
            .collect();
        let auc = roc(&scores, &labels, None).unwrap().auc();
        assert!(
            (auc - mann_whitney(&scores, &labels)).abs() < 1e-12,
            "{auc}"
        );
    }
}

#[test]
fn weights_act_as_multiplicities() {
    let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7];
    let labels = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    let weights = [2.0, 1.0, 3.0, 1.0, 2.0, 1.0];
    let weighted = roc(&scores, &labels, Some(&weights)).unwrap();
    let (mut s, mut l) = (vec![], vec![]);
    for i in 0..scores.len() {
        for _ in 0..weights[i] as usize {
            s.push(scores[i]);
            l.push(labels[i]);
        }
    }
    let expanded = roc(&s, &l, None).unwrap();
    assert_eq!(
        (weighted.eps_s.len(), &weighted.thresholds),
        (expanded.eps_s.len(), &expanded.thresholds)
    );
    for (a, b) in weighted
        .eps_s
        .iter()
        .zip(&expanded.eps_s)
        .chain(weighted.eps_b.iter().zip(&expanded.eps_b))
    {
        assert!((a - b).abs() < 1e-15);
    }
    assert!((weighted.auc() - expanded.auc()).abs() < 1e-15);
}

#[test]
fn gaussian_auc_and_efficiency() {
    let (n, d) = (100_000, 1.0);
    let mut rng = Lcg(7);
    let mut scores = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(2 * n);
    for i in 0..2 * n {
        let signal = i % 2 == 0;
        scores.push(rng.normal() + if signal { d } else { 0.0 });
        labels.push(if signal { 1.0 } else { 0.0 });
    }
    let r = roc(&scores, &labels, None).unwrap();
    let expected = normal_cdf(d / std::f64::consts::SQRT_2);
    // Standard error of the AUC here is about 1.3e-3.
    assert!(
        (r.auc() - expected).abs() < 0.006,
        "{} vs {expected}",
        r.auc()
    );
    // eps_S at eps_B = 0.1: 1 - Phi(z_0.9 - d), standard error about 1.5e-3.
    let expected = 1.0 - normal_cdf(normal_quantile(0.9) - d);
    assert!((r.eps_s_at(0.1).unwrap() - expected).abs() < 0.008);
}

#[test]
fn significance_improvements_at_fixed_background() {
    // 10000 distinct background scores; half the signal above them all, half below.
    let mut scores: Vec<f64> = (0..10_000).map(f64::from).collect();
    let mut labels = vec![0.0; 10_000];
    scores.extend((0..100).map(|i| if i % 2 == 0 { 1e6 } else { -1.0 }));
    labels.extend([1.0; 100]);
    let imp = significance_improvements(&scores, &labels).unwrap();
    assert!((imp.at_1e2 - 5.0).abs() < 1e-12);
    assert!((imp.at_1e3 - 0.5 / 1e-3f64.sqrt()).abs() < 1e-12);
    assert!((imp.at_1e4 - 50.0).abs() < 1e-9);
    assert!((imp.best() - 50.0).abs() < 1e-9);
    assert_eq!((imp.n_background, imp.resolved()), (10_000, [true; 3]));
    // Signal interleaved with the background (each just below one): eps_S = eps_B at every
    // background count, so SI = sqrt(eps_B).
    let mut scores: Vec<f64> = (0..10_000).map(f64::from).collect();
    scores.extend((0..10_000).map(|i| f64::from(i) - 0.5));
    let labels: Vec<f64> = (0..20_000)
        .map(|i| if i < 10_000 { 0.0 } else { 1.0 })
        .collect();
    let imp = significance_improvements(&scores, &labels).unwrap();
    assert!((imp.at_1e2 - 0.1).abs() < 1e-12 && (imp.at_1e3 - 1e-3f64.sqrt()).abs() < 1e-12);
    assert!((imp.at_1e4 - 0.01).abs() < 1e-12);
    // Only 100 background events: 1e-3 and 1e-4 are interpolated and flagged.
    let s: Vec<f64> = (0..200).map(f64::from).collect();
    let l: Vec<f64> = (0..200)
        .map(|i| if i % 2 == 0 { 0.0 } else { 1.0 })
        .collect();
    let imp = significance_improvements(&s, &l).unwrap();
    assert_eq!(imp.resolved(), [true, false, false]);
    assert!(imp.at_1e4.is_finite() && imp.to_string().contains("(*)"));
}

#[test]
fn total_improvement_spread() {
    let s = total_improvement(&[3.0, 1.0, 2.0]).unwrap();
    assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
    assert_eq!(
        total_improvement(&[4.0, 1.0, 3.0, 2.0]).unwrap().median,
        2.5
    );
    assert_eq!(
        total_improvement(&[7.0]).unwrap(),
        Spread {
            min: 7.0,
            median: 7.0,
            max: 7.0
        }
    );
    assert!(is_invalid(total_improvement(&[]), "improvements"));
    assert!(is_invalid(
        total_improvement(&[1.0, f64::NAN]),
        "improvements"
    ));
}

#[test]
fn pearson_closed_forms() {
    let x: Vec<f64> = (0..50).map(|i| f64::from(i) * 0.3 - 2.0).collect();
    let y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
    assert!((pearson(&x, &y).unwrap() - 1.0).abs() < 1e-12);
    let z: Vec<f64> = x.iter().map(|v| -v).collect();
    assert!((pearson(&x, &z).unwrap() + 1.0).abs() < 1e-12);
    assert!((pearson(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]).unwrap() - 0.5).abs() < 1e-12);
    // Values near the float range: squares would overflow without scaling.
    let r = pearson(&[1e300, 2e300, 3e300], &[-1e-300, -3e-300, -2e-300]).unwrap();
    assert!((r + 0.5).abs() < 1e-12, "{r}");
    assert!(is_invalid(pearson(&[1.0, 2.0], &[1.0]), "pearson"));
    assert!(is_invalid(
        pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]),
        "pearson"
    ));
    assert!(is_invalid(
        pearson(&[1.0, 2.0, 3.0], &[4.0, 4.0, 4.0]),
        "pearson"
    ));
    assert!(is_invalid(pearson(&[1.0], &[2.0]), "pearson"));
    assert!(is_invalid(
        pearson(&[1.0, f64::NAN], &[2.0, 3.0]),
        "pearson"
    ));
}

#[test]
fn uniformize_on_reference() {
    let mut rng = Lcg(99);
    let m = 20_000;
    let reference: Vec<f64> = (0..m).map(|_| rng.normal()).collect();
    let mut u = uniformize(&reference, &reference).unwrap();
    u.sort_by(f64::total_cmp);
    for (k, v) in u.iter().enumerate() {
        assert_eq!(*v, (k + 1) as f64 / m as f64);
    }
    // A fresh sample of the same distribution is uniform within its statistical error.
    let fresh: Vec<f64> = (0..20_000).map(|_| rng.normal()).collect();
    let u = uniformize(&fresh, &reference).unwrap();
    let below = |c: f64| u.iter().filter(|&&v| v <= c).count() as f64 / u.len() as f64;
    for c in [0.1, 0.5, 0.9] {
        assert!((below(c) - c).abs() < 0.02, "{c}: {}", below(c));
    }
    // Ties count as below; out-of-range scores map to 0 and 1.
    assert_eq!(
        uniformize(&[2.0, 0.0, 9.0, 1.5], &[1.0, 2.0, 2.0, 3.0]).unwrap(),
        [0.75, 0.0, 1.0, 0.25]
    );
    assert!(is_invalid(uniformize(&[1.0], &[]), "reference"));
    assert!(is_invalid(uniformize(&[f64::NAN], &[1.0]), "scores"));
    assert!(is_invalid(uniformize(&[1.0], &[f64::NAN]), "reference"));
}

#[test]
fn combinations_follow_table_iv() {
    let a = vec![0.2, 0.9, 1.0];
    let b = vec![0.5, 0.4, 0.0];
    let sets = [a.clone(), b.clone()];
    let c = |how| combine(&sets, how).unwrap();
    assert_eq!(c(Combination::And), [0.2, 0.4, 0.0]);
    assert_eq!(c(Combination::Or), [0.5, 0.9, 1.0]);
    assert_eq!(c(Combination::Prod), [0.1, 0.9 * 0.4, 0.0]);
    let avg = c(Combination::Avg);
    assert!((avg[0] - 0.35).abs() < 1e-15 && (avg[1] - 0.65).abs() < 1e-15 && avg[2] == 0.5);
    // Slices work too, and a single set comes back unchanged.
    assert_eq!(combine(&[a.as_slice()], Combination::Prod).unwrap(), a);
    for how in Combination::ALL {
        assert_eq!(Combination::parse(&how.to_string()).unwrap(), how);
    }
    assert_eq!(Combination::parse(" AND ").unwrap(), Combination::And);
    let err = Combination::parse("sum").unwrap_err().to_string();
    assert!(
        err.contains("sum") && err.contains("and, or, prod, avg"),
        "{err}"
    );
    assert!(is_invalid(
        combine::<Vec<f64>>(&[], Combination::And),
        "scores"
    ));
    assert!(is_invalid(
        combine(&[vec![0.1], vec![0.1, 0.2]], Combination::Or),
        "scores"
    ));
    assert!(is_invalid(
        combine(&[vec![0.1], vec![1.5]], Combination::Or),
        "scores"
    ));
    assert!(is_invalid(
        combine(&[vec![f64::NAN]], Combination::Avg),
        "scores"
    ));
}

#[test]
fn thresholds_for_exact_efficiencies() {
    let scores = [3.0, 10.0, 1.0, 7.0, 5.0, 2.0, 9.0, 4.0, 8.0, 6.0];
    let frac = |t: f64| scores.iter().filter(|&&s| s >= t).count() as f64 / 10.0;
    for (eff, t) in [(0.3, 8.0), (1.0, 1.0), (0.1, 10.0), (0.5, 6.0), (0.7, 4.0)] {
        assert_eq!(threshold_for_efficiency(&scores, eff).unwrap(), t);
        assert_eq!(frac(t), eff);
    }
    // Below one event: the single highest score; rounding to the nearest count.
    assert_eq!(threshold_for_efficiency(&scores, 0.01).unwrap(), 10.0);
    assert_eq!(threshold_for_efficiency(&scores, 0.34).unwrap(), 8.0);
    // Ties at the threshold are all selected: 4 of 5 pass for eff = 0.4.
    assert_eq!(
        threshold_for_efficiency(&[1.0, 2.0, 2.0, 2.0, 3.0], 0.4).unwrap(),
        2.0
    );
    assert!(is_invalid(
        threshold_for_efficiency(&scores, 0.0),
        "efficiency"
    ));
    assert!(is_invalid(
        threshold_for_efficiency(&scores, 1.5),
        "efficiency"
    ));
    assert!(is_invalid(
        threshold_for_efficiency(&scores, f64::NAN),
        "efficiency"
    ));
    assert!(is_invalid(threshold_for_efficiency(&[], 0.5), "scores"));
    assert!(is_invalid(
        threshold_for_efficiency(&[1.0, f64::NAN], 0.5),
        "scores"
    ));
}

#[test]
fn bad_inputs_are_typed_errors() {
    let l = [1.0, 0.0];
    assert!(is_invalid(roc(&[], &[], None), "scores"));
    assert!(is_invalid(roc(&[1.0, 2.0], &[1.0], None), "labels"));
    assert!(is_invalid(roc(&[1.0, 2.0], &l, Some(&[1.0])), "weights"));
    assert!(is_invalid(roc(&[f64::NAN, 2.0], &l, None), "scores"));
    assert!(is_invalid(roc(&[f64::INFINITY, 2.0], &l, None), "scores"));
    assert!(is_invalid(roc(&[1.0, 2.0], &[0.5, 0.0], None), "labels"));
    assert!(is_invalid(
        roc(&[1.0, 2.0], &[f64::NAN, 0.0], None),
        "labels"
    ));
    assert!(is_invalid(roc(&[1.0, 2.0], &[1.0, 1.0], None), "labels"));
    assert!(is_invalid(roc(&[1.0, 2.0], &[0.0, 0.0], None), "labels"));
    assert!(is_invalid(
        roc(&[1.0, 2.0], &l, Some(&[0.0, 1.0])),
        "labels"
    ));
    assert!(is_invalid(
        roc(&[1.0, 2.0], &l, Some(&[-1.0, 1.0])),
        "weights"
    ));
    assert!(is_invalid(
        roc(&[1.0, 2.0], &l, Some(&[f64::NAN, 1.0])),
        "weights"
    ));
    let r = roc(&[1.0, 2.0], &l, None).unwrap();
    for e in [0.0, -0.1, 1.5, f64::NAN] {
        assert!(is_invalid(r.eps_s_at(e), "background efficiency"));
        assert!(is_invalid(
            r.significance_improvement_at(e),
            "background efficiency"
        ));
        assert!(is_invalid(
            eff_at(&[1.0, 2.0], &l, e),
            "background efficiency"
        ));
    }
    assert!(is_invalid(
        significance_improvements(&[1.0, 2.0], &[1.0, 1.0]),
        "labels"
    ));
    assert!(is_invalid(sic(&[1.0], &[0.0], None), "labels"));
    // A hand-made malformed curve is an error, not a panic.
    let empty = Roc {
        thresholds: vec![],
        eps_s: vec![],
        eps_b: vec![],
    };
    assert!(is_invalid(empty.eps_s_at(0.5), "roc"));
    assert_eq!((empty.auc(), empty.max_sic()), (0.0, 0.0));
    let odd = Roc {
        thresholds: vec![],
        eps_s: vec![0.0],
        eps_b: vec![0.0, 1.0],
    };
    assert!(is_invalid(odd.eps_s_at(0.5), "roc"));
}
