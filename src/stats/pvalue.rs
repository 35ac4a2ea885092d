//! The p-value of a counting experiment whose background is known only up to a Gaussian
//! uncertainty, as CWoLa hunting quotes a signal region against its sideband fit.

use super::quadrature::Composite;
use super::special::poisson_upper_tail;
use crate::error::{Error, Result};

/// How far (in standard deviations) the background prior is followed on each side.
const PRIOR_REACH: f64 = 12.0;

/// The one-sided p-value of observing at least `n_obs` events over a background `b` known
/// with Gaussian uncertainty `sigma_b`:
///
/// p = ∫ P(N ≥ n_obs | λ) G(λ; b, σ_b) dλ / ∫ G(λ; b, σ_b) dλ,   λ > 0,
///
/// i.e. the Poisson tail averaged over the background prior, truncated to positive means
/// (the prior-predictive, or Cousins–Highland, p-value). With `sigma_b = 0` it is the plain
/// Poisson tail P(N ≥ n_obs | b); `n_obs = 0` gives 1. A non-integer `n_obs` (a weighted
/// count) uses the continuous form P(N ≥ n | λ) = P(n, λ), the regularised lower incomplete
/// gamma function. The integral is done by Gauss–Legendre quadrature over the region where
/// the integrand matters, so p-values far in the tail (10⁻³⁰ and below) keep their relative
/// accuracy.
pub fn poisson_pvalue(n_obs: f64, b: f64, sigma_b: f64) -> Result<f64> {
    if !(n_obs.is_finite() && n_obs >= 0.0) {
        return Err(Error::invalid(
            "n_obs",
            format!("the observed count must be finite and >= 0, not {n_obs}"),
        ));
    }
    if !(b.is_finite() && b >= 0.0) {
        return Err(Error::invalid(
            "b",
            format!("the background must be finite and >= 0, not {b}"),
        ));
    }
    if !(sigma_b.is_finite() && sigma_b >= 0.0) {
        return Err(Error::invalid(
            "sigma_b",
            format!("the background uncertainty must be finite and >= 0, not {sigma_b}"),
        ));
    }
    if n_obs <= 0.0 {
        return Ok(1.0);
    }
    if sigma_b == 0.0 || sigma_b < 1e-12 * b {
        return Ok(poisson_upper_tail(n_obs, b));
    }
    // The integrand is the Poisson tail (rising in λ) times the Gaussian prior. Follow the
    // prior PRIOR_REACH standard deviations either side of b, and up to where the tail
    // saturates (λ ≈ n_obs) when that lies further out.
    let lo = (b - PRIOR_REACH * sigma_b).max(0.0);
    let hi = (b + PRIOR_REACH * sigma_b)
        .max((n_obs + PRIOR_REACH * n_obs.sqrt()).min(b + 40.0 * sigma_b));
    let rule = Composite::new(10, 200);
    // Work with logarithms relative to the largest term so that tiny p-values do not
    // underflow before they are normalised.
    let terms: Vec<(f64, f64)> = rule
        .points(lo, hi)
        .map(|(lambda, w)| {
            let z = (lambda - b) / sigma_b;
            (w.ln() - 0.5 * z * z, poisson_upper_tail(n_obs, lambda).ln())
        })
        .collect();
    let peak = terms
        .iter()
        .map(|(prior, tail)| prior + tail)
        .fold(f64::NEG_INFINITY, f64::max);
    if peak == f64::NEG_INFINITY {
        // The tail underflows everywhere the prior reaches: p is below the smallest double.
        return Ok(0.0);
    }
    let numerator: f64 = terms
        .iter()
        .map(|(prior, tail)| (prior + tail - peak).exp())
        .sum();
    // The normalisation of the truncated prior, in closed form.
    let z0 = b / sigma_b;
    let log_norm =
        (sigma_b * (2.0 * std::f64::consts::PI).sqrt() * super::special::normal_cdf(z0)).ln();
    let p = (numerator.ln() + peak - log_norm).exp();
    Ok(p.clamp(0.0, 1.0))
}

/// The global p-value of the smallest of `trials` local p-values, Šidák's trials correction
/// 1 - (1 - p)^N: exact when the tests are independent, conservative (too large) when they
/// are positively correlated, as overlapping signal regions and nested selections are.
/// Computed as -expm1(N ln1p(-p)), so a tiny p stays accurate (≈ N p).
pub fn sidak(p: f64, trials: usize) -> Result<f64> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid("p-value", format!("{p} is not in [0, 1]")));
    }
    if trials == 0 {
        return Err(Error::invalid(
            "trials",
            "at least one test must have been made",
        ));
    }
    Ok(-(trials as f64 * (-p).ln_1p()).exp_m1())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same integral by brute force: a fine midpoint grid in λ.
    fn brute_force(n: f64, b: f64, s: f64) -> f64 {
        let (lo, hi) = ((b - 15.0 * s).max(0.0), b + 15.0 * s + 10.0 * n.sqrt() + n);
        let steps = 400_000;
        let h = (hi - lo) / steps as f64;
        let (mut num, mut den) = (0.0, 0.0);
        for k in 0..steps {
            let l = lo + (k as f64 + 0.5) * h;
            let g = (-0.5 * ((l - b) / s).powi(2)).exp();
            num += g * poisson_upper_tail(n, l);
            den += g;
        }
        num / den
    }

    #[test]
    fn without_uncertainty_it_is_the_poisson_tail() {
        assert_eq!(poisson_pvalue(0.0, 3.0, 0.0).unwrap(), 1.0);
        let b: f64 = 2.5;
        assert!((poisson_pvalue(1.0, b, 0.0).unwrap() - (1.0 - (-b).exp())).abs() < 1e-15);
        let p2 = 1.0 - (-b).exp() * (1.0 + b);
        assert!((poisson_pvalue(2.0, b, 0.0).unwrap() - p2).abs() < 1e-15);
    }

    #[test]
    fn agrees_with_brute_force_integration() {
        for (n, b, s) in [
            (12.0, 5.0, 1.0),
            (130.0, 100.0, 10.0),
            (3.0, 1.0, 0.8),
            (1040.0, 1000.0, 5.0),
            (40.0, 60.0, 20.0),
        ] {
            let p = poisson_pvalue(n, b, s).unwrap();
            let q = brute_force(n, b, s);
            assert!((p - q).abs() <= 1e-6 * q, "n={n} b={b} s={s}: {p} vs {q}");
        }
    }

    #[test]
    fn tail_p_values_keep_their_accuracy() {
        // 200 events over 100 ± 5: far beyond 5 sigma, dominated by the prior's upper tail.
        let p = poisson_pvalue(200.0, 100.0, 5.0).unwrap();
        let q = brute_force(200.0, 100.0, 5.0);
        assert!(p > 0.0 && (p - q).abs() <= 1e-5 * q, "{p} vs {q}");
        assert!(
            p > poisson_pvalue(200.0, 100.0, 0.0).unwrap(),
            "uncertainty weakens an excess"
        );
    }

    #[test]
    fn uncertainty_weakens_excesses_and_tends_to_the_poisson_limit() {
        let exact = poisson_pvalue(150.0, 100.0, 0.0).unwrap();
        let mut previous = exact;
        for s in [1e-3, 1.0, 5.0, 10.0, 20.0] {
            let p = poisson_pvalue(150.0, 100.0, s).unwrap();
            assert!(p >= previous, "sigma {s}: {p} < {previous}");
            previous = p;
        }
        assert!((poisson_pvalue(150.0, 100.0, 1e-3).unwrap() - exact).abs() < 1e-6 * exact);
        // Monotone in the observed count.
        let ps: Vec<f64> = (100..140)
            .map(|n| poisson_pvalue(n as f64, 100.0, 8.0).unwrap())
            .collect();
        assert!(ps.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn p_values_are_calibrated_under_the_null() {
        // Background-only counting experiments: the true mean drawn from the prior, the count
        // from a Poisson of that mean. P(p <= alpha) must not exceed alpha (counts are
        // discrete, so it may fall a little short) and must come close to it at b ~ 100.
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal, Poisson};
        let (b, sigma) = (100.0, 10.0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let prior = Normal::new(b, sigma).unwrap();
        let toys = 4000;
        let ps: Vec<f64> = (0..toys)
            .map(|_| {
                let lambda = loop {
                    let l: f64 = prior.sample(&mut rng);
                    if l > 0.0 {
                        break l;
                    }
                };
                let n: f64 = Poisson::new(lambda).unwrap().sample(&mut rng);
                poisson_pvalue(n, b, sigma).unwrap()
            })
            .collect();
        for alpha in [0.01, 0.05, 0.2, 0.5] {
            let rate = ps.iter().filter(|&&p| p <= alpha).count() as f64 / toys as f64;
            let error = (alpha * (1.0 - alpha) / toys as f64).sqrt();
            assert!(rate <= alpha + 3.0 * error, "alpha {alpha}: rate {rate}");
            assert!(
                rate >= 0.8 * alpha - 3.0 * error,
                "alpha {alpha}: rate {rate}"
            );
        }
    }

    #[test]
    fn sidak_matches_its_closed_form_and_keeps_tiny_p_values() {
        assert_eq!(sidak(0.05, 1).unwrap(), 0.05);
        let p = sidak(0.01, 10).unwrap();
        assert!((p - (1.0 - 0.99f64.powi(10))).abs() < 1e-15, "{p}");
        assert!((sidak(1e-60, 30).unwrap() / 3e-59 - 1.0).abs() < 1e-12);
        assert_eq!(sidak(1.0, 5).unwrap(), 1.0);
        assert!(sidak(-0.1, 3).is_err() && sidak(0.1, 0).is_err() && sidak(f64::NAN, 2).is_err());
    }

    #[test]
    fn sidak_of_the_smallest_of_independent_uniform_p_values_is_uniform() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let (toys, trials) = (20_000, 30);
        let globals: Vec<f64> = (0..toys)
            .map(|_| {
                let min = (0..trials).map(|_| rng.random::<f64>()).fold(1.0, f64::min);
                sidak(min, trials).unwrap()
            })
            .collect();
        for alpha in [0.01, 0.05, 0.2, 0.5, 0.8] {
            let rate = globals.iter().filter(|&&p| p <= alpha).count() as f64 / toys as f64;
            let error = (alpha * (1.0 - alpha) / toys as f64).sqrt();
            assert!(
                (rate - alpha).abs() < 4.0 * error,
                "alpha {alpha}: rate {rate}"
            );
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(poisson_pvalue(f64::NAN, 1.0, 0.1).is_err());
        assert!(poisson_pvalue(-3.0, 1.0, 0.1).is_err());
        assert!(poisson_pvalue(f64::INFINITY, 1.0, 0.0).is_err());
        assert!(poisson_pvalue(3.0, -1.0, 0.1).is_err());
        assert!(poisson_pvalue(3.0, 1.0, -0.1).is_err());
        assert!(poisson_pvalue(3.0, f64::INFINITY, 0.1).is_err());
        assert!(poisson_pvalue(3.0, 1.0, f64::NAN).is_err());
    }
}
