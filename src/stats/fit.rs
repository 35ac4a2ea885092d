//! The dijet background fit: the 4-parameter function of seed 002 eq. 4.3,
//!
//! dN/dm = p0 (1 - y)^p1 / y^(p2 + p3 ln y),   y = m / √s,
//!
//! fitted to a histogram by a binned Poisson likelihood, optionally leaving out a window
//! (the signal region), with the covariance from the likelihood's curvature and predictions
//! with propagated uncertainties.
//!
//! In logarithms the function is linear in (ln p0, p1, p2, p3): ln f = θ · φ(y) with
//! φ = (1, ln(1 - y), -ln y, -(ln y)²). The fit works in θ, where the likelihood is smooth
//! and every derivative is analytic: each bin's expectation is the integral of f over the bin
//! (Gauss–Legendre), so wide or logarithmic bins are handled exactly.

use std::fmt;

use super::quadrature::{Composite, gauss_legendre};
use super::special::gamma_q;
use crate::error::{Error, Result};
use crate::stats::hist::Hist1D;

/// Options of [`fit_dijet`].
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    /// The collision energy √s in the units of the histogram (13000 GeV).
    pub sqrt_s: f64,
    /// A window `[lo, hi)` left out of the fit: bins whose centre lies inside it.
    pub exclude: Option<(f64, f64)>,
    /// The most Newton iterations before the fit reports non-convergence (200).
    pub max_iterations: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            sqrt_s: 13000.0,
            exclude: None,
            max_iterations: 200,
        }
    }
}

/// Quadrature points per bin.
const NODES_PER_BIN: usize = 8;

/// A fitted dijet function.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DijetFit {
    /// (p0, p1, p2, p3) of eq. 4.3; p0 is a density per unit of m.
    pub params: [f64; 4],
    /// The covariance of `params` (inverse Hessian of -ln L).
    pub covariance: [[f64; 4]; 4],
    /// The Poisson deviance -2 ln(L / L_saturated) = 2 Σ [μ - n + n ln(n/μ)] over the fitted
    /// bins: -2 ln L up to a constant, asymptotically χ²-distributed.
    pub neg2_log_l: f64,
    /// Pearson's χ² = Σ (n - μ)² / μ over the fitted bins.
    pub chi2: f64,
    /// Degrees of freedom: fitted bins minus 4.
    pub ndf: usize,
    /// The probability of a χ² at least this large with `ndf` degrees of freedom.
    pub chi2_pvalue: f64,
    /// Newton iterations used.
    pub iterations: usize,
    /// √s used to form y = m / √s.
    pub sqrt_s: f64,
    /// The window left out of the fit, if any.
    pub exclude: Option<(f64, f64)>,
    /// The bin edges of the fitted histogram.
    pub edges: Vec<f64>,
    /// Which bins entered the likelihood.
    pub fitted: Vec<bool>,
    /// The fitted θ = (ln p0, p1, p2, p3): the parameters the fit works in. Predictions use
    /// them, so a fit whose p0 overflows (a steep or peaked spectrum) still predicts.
    pub theta: [f64; 4],
    /// The covariance in θ, used for predictions.
    #[serde(skip)]
    theta_covariance: [[f64; 4]; 4],
}

/// φ(y) = (1, ln(1 - y), -ln y, -(ln y)²): ln f = θ · φ.
fn features(m: f64, sqrt_s: f64) -> [f64; 4] {
    let y = m / sqrt_s;
    let l = y.ln();
    [1.0, (1.0 - y).ln(), -l, -l * l]
}

fn dot(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The quadrature points of one bin: (weight, φ) pairs.
type BinRule = Vec<(f64, [f64; 4])>;

/// The expectation of a bin, its gradient and Hessian in θ.
fn bin_moments(rule: &BinRule, theta: &[f64; 4]) -> (f64, [f64; 4], [[f64; 4]; 4]) {
    let mut mu = 0.0;
    let mut grad = [0.0; 4];
    let mut hess = [[0.0; 4]; 4];
    for (w, phi) in rule {
        let f = w * dot(theta, phi).exp();
        mu += f;
        for j in 0..4 {
            grad[j] += f * phi[j];
            for k in 0..4 {
                hess[j][k] += f * phi[j] * phi[k];
            }
        }
    }
    (mu, grad, hess)
}

/// The quadrature rule of each bin, in m.
fn bin_rules(edges: &[f64], sqrt_s: f64) -> Vec<BinRule> {
    let (nodes, weights) = gauss_legendre(NODES_PER_BIN);
    edges
        .windows(2)
        .map(|e| {
            let (mid, half) = (0.5 * (e[0] + e[1]), 0.5 * (e[1] - e[0]));
            nodes
                .iter()
                .zip(&weights)
                .map(|(x, w)| (half * w, features(mid + half * x, sqrt_s)))
                .collect()
        })
        .collect()
}

/// -ln L (up to a constant), its gradient and Hessian in θ over the fitted bins.
fn objective(
    rules: &[BinRule],
    counts: &[f64],
    fitted: &[bool],
    theta: &[f64; 4],
) -> (f64, [f64; 4], [[f64; 4]; 4]) {
    let mut nll = 0.0;
    let mut grad = [0.0; 4];
    let mut hess = [[0.0; 4]; 4];
    for ((rule, &n), _) in rules.iter().zip(counts).zip(fitted).filter(|(_, f)| **f) {
        let (mu, g, h) = bin_moments(rule, theta);
        nll += mu - if n > 0.0 { n * mu.ln() } else { 0.0 };
        let a = 1.0 - n / mu;
        let b = n / (mu * mu);
        for j in 0..4 {
            grad[j] += a * g[j];
            for k in 0..4 {
                hess[j][k] += a * h[j][k] + b * g[j] * g[k];
            }
        }
    }
    (nll, grad, hess)
}

/// Solves the symmetric 4×4 system `a x = b` by Gaussian elimination with partial pivoting;
/// `None` when `a` is singular.
fn solve(a: &[[f64; 4]; 4], b: &[f64; 4]) -> Option<[f64; 4]> {
    let mut m = *a;
    let mut x = *b;
    for col in 0..4 {
        let pivot = (col..4).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[pivot][col].abs() < 1e-300 || !m[pivot][col].is_finite() {
            return None;
        }
        m.swap(col, pivot);
        x.swap(col, pivot);
        for row in col + 1..4 {
            let factor = m[row][col] / m[col][col];
            let pivot_row = m[col];
            for (target, source) in m[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *target -= factor * source;
            }
            x[row] -= factor * x[col];
        }
    }
    for col in (0..4).rev() {
        let tail: f64 = (col + 1..4).map(|k| m[col][k] * x[k]).sum();
        x[col] = (x[col] - tail) / m[col][col];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The inverse of a symmetric positive-definite 4×4 matrix; `None` when it is singular or not
/// positive definite.
fn invert(a: &[[f64; 4]; 4]) -> Option<[[f64; 4]; 4]> {
    let mut inv = [[0.0; 4]; 4];
    for j in 0..4 {
        let mut e = [0.0; 4];
        e[j] = 1.0;
        let col = solve(a, &e)?;
        for i in 0..4 {
            inv[i][j] = col[i];
        }
    }
    (0..4).all(|i| inv[i][i] > 0.0).then_some(inv)
}

/// Starting values: a weighted least-squares fit of ln(n / Δm) on φ at the bin centres
/// (weights n, the inverse variance of ln n), over the fitted non-empty bins. With
/// `free = 3` the quadratic term p3 is held at 0.
fn linear_start(
    edges: &[f64],
    counts: &[f64],
    fitted: &[bool],
    sqrt_s: f64,
    free: usize,
) -> Option<[f64; 4]> {
    let mut ata = [[0.0; 4]; 4];
    let mut atb = [0.0; 4];
    for (i, (&n, _)) in counts
        .iter()
        .zip(fitted)
        .enumerate()
        .filter(|(_, (n, f))| **f && **n > 0.0)
    {
        let width = edges[i + 1] - edges[i];
        let phi = features(0.5 * (edges[i] + edges[i + 1]), sqrt_s);
        let target = (n / width).ln();
        for j in 0..free {
            atb[j] += n * phi[j] * target;
            for k in 0..free {
                ata[j][k] += n * phi[j] * phi[k];
            }
        }
    }
    for (j, row) in ata.iter_mut().enumerate().skip(free) {
        row[j] = 1.0;
    }
    solve(&ata, &atb)
}

/// The outcome of one Newton minimisation.
struct Minimum {
    theta: [f64; 4],
    nll: f64,
    hessian: [[f64; 4]; 4],
    iterations: usize,
}

/// Damped Newton (Levenberg–Marquardt) minimisation of -ln L from `start`.
fn minimise(
    rules: &[BinRule],
    counts: &[f64],
    fitted: &[bool],
    start: [f64; 4],
    max_iterations: usize,
) -> Option<Minimum> {
    let mut theta = start;
    let (mut nll, mut grad, mut hess) = objective(rules, counts, fitted, &theta);
    if !nll.is_finite() {
        return None;
    }
    let mut damping = 1e-3;
    for iteration in 1..=max_iterations {
        let mut accepted = false;
        while damping < 1e12 {
            let mut damped = hess;
            for (j, row) in damped.iter_mut().enumerate() {
                row[j] += damping * hess[j][j].abs().max(1e-12);
            }
            let Some(step) = solve(&damped, &grad) else {
                damping *= 10.0;
                continue;
            };
            let trial: [f64; 4] = std::array::from_fn(|j| theta[j] - step[j]);
            let (t_nll, t_grad, t_hess) = objective(rules, counts, fitted, &trial);
            if t_nll.is_finite() && t_nll <= nll {
                let decrease = nll - t_nll;
                theta = trial;
                (nll, grad, hess) = (t_nll, t_grad, t_hess);
                damping = (damping * 0.1).max(1e-12);
                accepted = true;
                // Converged when the Newton decrement is negligible.
                let newton = solve(&hess, &grad).map(|s| dot(&s, &grad));
                if decrease <= 1e-10 * (1.0 + nll.abs()) && newton.is_some_and(|d| d.abs() < 1e-8) {
                    return Some(Minimum {
                        theta,
                        nll,
                        hessian: hess,
                        iterations: iteration,
                    });
                }
                break;
            }
            damping *= 10.0;
        }
        if !accepted {
            // No step lowers -ln L: at a minimum if the gradient vanishes there.
            let newton = solve(&hess, &grad).map(|s| dot(&s, &grad));
            return newton.is_some_and(|d| d.abs() < 1e-6).then_some(Minimum {
                theta,
                nll,
                hessian: hess,
                iterations: iteration,
            });
        }
    }
    None
}

/// Fits the dijet function to the histogram (`edges`, `counts`) by a binned Poisson
/// likelihood. Bins whose centre lies in `options.exclude` are left out. Every edge must lie
/// in (0, √s); counts must be finite and non-negative, and at least 5 bins must be fitted
/// with some events in them. A fit that does not converge is an error, never a silent result.
pub fn fit_dijet(edges: &[f64], counts: &[f64], options: &FitOptions) -> Result<DijetFit> {
    let sqrt_s = options.sqrt_s;
    if !(sqrt_s.is_finite() && sqrt_s > 0.0) {
        return Err(Error::invalid(
            "sqrt_s",
            format!("must be a positive energy, not {sqrt_s}"),
        ));
    }
    if edges.len() < 2 || edges.len() != counts.len() + 1 {
        return Err(Error::invalid(
            "fit_dijet",
            format!("{} edges for {} counts", edges.len(), counts.len()),
        ));
    }
    if edges.windows(2).any(|e| !(e[0] < e[1])) {
        return Err(Error::invalid(
            "fit_dijet",
            "bin edges must increase strictly",
        ));
    }
    if !(edges[0] > 0.0 && edges[edges.len() - 1] < sqrt_s) {
        return Err(Error::invalid(
            "fit_dijet",
            format!(
                "the binning [{}, {}] must lie inside (0, sqrt_s = {sqrt_s}); the dijet function is defined for 0 < m < sqrt_s",
                edges[0],
                edges[edges.len() - 1]
            ),
        ));
    }
    if let Some(i) = counts.iter().position(|c| !(c.is_finite() && *c >= 0.0)) {
        return Err(Error::invalid(
            "fit_dijet",
            format!(
                "bin {i} has count {}: counts must be finite and >= 0",
                counts[i]
            ),
        ));
    }
    if let Some((lo, hi)) = options.exclude
        && !(lo < hi)
    {
        return Err(Error::invalid(
            "exclude",
            format!("the window [{lo}, {hi}] is empty: give [lo, hi] with lo < hi"),
        ));
    }
    let fitted: Vec<bool> = edges
        .windows(2)
        .map(|e| {
            let centre = 0.5 * (e[0] + e[1]);
            options
                .exclude
                .is_none_or(|(lo, hi)| !(lo <= centre && centre < hi))
        })
        .collect();
    let n_fitted = fitted.iter().filter(|f| **f).count();
    let n_filled = counts
        .iter()
        .zip(&fitted)
        .filter(|(n, f)| **f && **n > 0.0)
        .count();
    if n_fitted < 5 || n_filled < 4 {
        return Err(Error::invalid(
            "fit_dijet",
            format!(
                "{n_fitted} bins to fit{}, {n_filled} of them with events: the 4-parameter fit needs at least 5 bins and 4 non-empty ones (use finer bins{})",
                if options.exclude.is_some() {
                    " outside the excluded window"
                } else {
                    ""
                },
                if options.exclude.is_some() {
                    " or a narrower window"
                } else {
                    ""
                },
            ),
        ));
    }
    let rules = bin_rules(edges, sqrt_s);
    let starts = [
        linear_start(edges, counts, &fitted, sqrt_s, 4),
        linear_start(edges, counts, &fitted, sqrt_s, 3),
        linear_start(edges, counts, &fitted, sqrt_s, 2),
    ];
    let best = starts
        .into_iter()
        .flatten()
        .filter_map(|start| minimise(&rules, counts, &fitted, start, options.max_iterations))
        .min_by(|a, b| a.nll.total_cmp(&b.nll))
        .ok_or_else(|| {
            Error::invalid(
                "fit_dijet",
                format!(
                    "the fit did not converge in {} iterations from any starting point; check that the spectrum falls smoothly (start above the trigger turn-on), or raise max_iterations",
                    options.max_iterations
                ),
            )
        })?;
    let theta_covariance = invert(&best.hessian).ok_or_else(|| {
        Error::invalid("fit_dijet", "the likelihood is flat in some direction at the minimum: the parameters are not determined by these bins")
    })?;
    // (p0, p1, p2, p3) from θ: only p0 = exp(θ0) is transformed, with Jacobian diag(p0, 1, 1, 1).
    let p0 = best.theta[0].exp();
    let scale = [p0, 1.0, 1.0, 1.0];
    let covariance = std::array::from_fn(|i| {
        std::array::from_fn(|j| scale[i] * scale[j] * theta_covariance[i][j])
    });
    let (mut deviance, mut chi2) = (0.0, 0.0);
    for ((rule, &n), _) in rules.iter().zip(counts).zip(&fitted).filter(|(_, f)| **f) {
        let mu = bin_moments(rule, &best.theta).0;
        deviance += 2.0 * (mu - n + if n > 0.0 { n * (n / mu).ln() } else { 0.0 });
        chi2 += (n - mu).powi(2) / mu;
    }
    let ndf = n_fitted - 4;
    Ok(DijetFit {
        params: [p0, best.theta[1], best.theta[2], best.theta[3]],
        covariance,
        neg2_log_l: deviance,
        chi2,
        ndf,
        chi2_pvalue: if ndf > 0 {
            gamma_q(ndf as f64 / 2.0, chi2 / 2.0)
        } else {
            1.0
        },
        iterations: best.iterations,
        sqrt_s,
        exclude: options.exclude,
        edges: edges.to_vec(),
        fitted,
        theta: best.theta,
        theta_covariance,
    })
}

/// [`fit_dijet`] on a histogram's bins.
pub fn fit_dijet_hist(h: &Hist1D, options: &FitOptions) -> Result<DijetFit> {
    fit_dijet(h.edges(), h.counts(), options)
}

impl DijetFit {
    /// The fitted density dN/dm at `m`.
    pub fn density(&self, m: f64) -> f64 {
        dot(&self.theta, &features(m, self.sqrt_s)).exp()
    }

    /// The 1σ uncertainties of (p0, p1, p2, p3).
    pub fn param_errors(&self) -> [f64; 4] {
        std::array::from_fn(|i| self.covariance[i][i].sqrt())
    }

    /// The expected count in [lo, hi) and its 1σ uncertainty from the fit's covariance
    /// (linear propagation: σ² = ∇μᵀ C ∇μ).
    pub fn predict(&self, lo: f64, hi: f64) -> Result<(f64, f64)> {
        if !(lo < hi && lo > 0.0 && hi < self.sqrt_s) {
            return Err(Error::invalid(
                "predict",
                format!(
                    "the range [{lo}, {hi}] must be non-empty and inside (0, sqrt_s = {})",
                    self.sqrt_s
                ),
            ));
        }
        let theta = self.theta;
        let rule: BinRule = Composite::new(NODES_PER_BIN, 16)
            .points(lo, hi)
            .map(|(m, w)| (w, features(m, self.sqrt_s)))
            .collect();
        let (mu, grad, _) = bin_moments(&rule, &theta);
        let variance: f64 = (0..4)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .map(|(i, j)| grad[i] * self.theta_covariance[i][j] * grad[j])
            .sum();
        Ok((mu, variance.max(0.0).sqrt()))
    }

    /// The expected count in each bin of `edges`.
    pub fn bin_predictions(&self, edges: &[f64]) -> Result<Vec<f64>> {
        edges
            .windows(2)
            .map(|e| Ok(self.predict(e[0], e[1])?.0))
            .collect()
    }

    /// The prediction as a histogram on `edges`, with the fit's uncertainty per bin as its
    /// errors (a reference for `bump_hunter`, or the denominator of a ratio plot).
    pub fn prediction(&self, edges: &[f64]) -> Result<Hist1D> {
        let (counts, variances): (Vec<f64>, Vec<f64>) = edges
            .windows(2)
            .map(|e| self.predict(e[0], e[1]).map(|(mu, s)| (mu, s * s)))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        Hist1D::from_counts(edges.to_vec(), counts)?.with_variances(variances)
    }
}

impl fmt::Display for DijetFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Dijet fit dN/dm = p0 (1-y)^p1 / y^(p2 + p3 ln y), y = m/{}",
            self.sqrt_s
        )?;
        if let Some((lo, hi)) = self.exclude {
            writeln!(f, "  excluded window [{lo}, {hi})")?;
        }
        let errors = self.param_errors();
        for (i, (p, e)) in self.params.iter().zip(errors).enumerate() {
            if i == 0 && !(p.is_finite() && e.is_finite()) {
                // p0 overflows for extreme shapes; its logarithm is what the fit determined.
                let ln_error = self.theta_covariance[0][0].sqrt();
                writeln!(f, "  ln p0 = {:>9.5e} ± {ln_error:.3e}", self.theta[0])?;
                continue;
            }
            writeln!(f, "  p{i} = {p:>12.5e} ± {e:.3e}")?;
        }
        write!(
            f,
            "  -2 ln L (deviance) {:.2}, chi2/ndf {:.2}/{} (p-value {:.3}), {} iterations",
            self.neg2_log_l, self.chi2, self.ndf, self.chi2_pvalue, self.iterations
        )
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Poisson};

    use super::*;

    const TRUE: [f64; 4] = [2.0e-3, 10.0, 5.0, 0.1];

    /// Edges from 2800 to 7000 GeV in `n` bins.
    fn edges(n: usize) -> Vec<f64> {
        (0..=n)
            .map(|i| 2800.0 + 4200.0 * i as f64 / n as f64)
            .collect()
    }

    /// Expected counts of the dijet function with `params`, normalised to `total` events.
    fn expected(edges: &[f64], params: [f64; 4], total: f64) -> Vec<f64> {
        let theta = [params[0].ln(), params[1], params[2], params[3]];
        let mu: Vec<f64> = bin_rules(edges, 13000.0)
            .iter()
            .map(|r| bin_moments(r, &theta).0)
            .collect();
        let sum: f64 = mu.iter().sum();
        mu.iter().map(|m| m * total / sum).collect()
    }

    fn poisson_toy(mu: &[f64], rng: &mut rand::rngs::StdRng) -> Vec<f64> {
        mu.iter()
            .map(|&m| Poisson::new(m).unwrap().sample(rng))
            .collect()
    }

    #[test]
    fn exact_expectations_give_back_the_parameters() {
        let e = edges(42);
        let mu = expected(&e, TRUE, 1e5);
        let fit = fit_dijet(&e, &mu, &FitOptions::default()).unwrap();
        let scale = mu.iter().sum::<f64>();
        let truth = expected(&e, TRUE, scale);
        // The shape parameters are recovered, and the predictions equal the expectations.
        for (got, want) in fit.params[1..].iter().zip(&TRUE[1..]) {
            assert!(
                (got - want).abs() < 1e-4 * want.abs().max(1.0),
                "{:?}",
                fit.params
            );
        }
        for (b, want) in fit.bin_predictions(&e).unwrap().iter().zip(&truth) {
            assert!((b - want).abs() < 1e-6 * want, "{b} vs {want}");
        }
        assert!(fit.neg2_log_l < 1e-8 && fit.chi2 < 1e-8 && fit.ndf == 38);
        assert!(fit.to_string().contains("chi2/ndf"));
    }

    #[test]
    fn pulls_of_toys_have_unit_width() {
        let e = edges(30);
        let mu = expected(&e, TRUE, 2e4);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (window_lo, window_hi) = (3300.0, 3700.0);
        let (truth, _) = {
            let exact = fit_dijet(&e, &mu, &FitOptions::default()).unwrap();
            exact.predict(window_lo, window_hi).unwrap()
        };
        let mut pulls = Vec::new();
        let mut prediction_pulls = Vec::new();
        let mut chi2_p = Vec::new();
        for _ in 0..300 {
            let n = poisson_toy(&mu, &mut rng);
            let fit = fit_dijet(&e, &n, &FitOptions::default()).unwrap();
            pulls.push((fit.params[1] - TRUE[1]) / fit.param_errors()[1]);
            let (p, s) = fit.predict(window_lo, window_hi).unwrap();
            prediction_pulls.push((p - truth) / s);
            chi2_p.push(fit.chi2_pvalue);
        }
        for (name, x) in [("p1", &pulls), ("prediction", &prediction_pulls)] {
            let mean = x.iter().sum::<f64>() / x.len() as f64;
            let sd =
                (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt();
            assert!(
                mean.abs() < 0.2 && (sd - 1.0).abs() < 0.12,
                "{name}: mean {mean}, sd {sd}"
            );
        }
        // The chi2 p-values are roughly uniform: a Kolmogorov–Smirnov distance check.
        chi2_p.sort_by(f64::total_cmp);
        let d = chi2_p
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (p - i as f64 / 300.0)
                    .abs()
                    .max((p - (i + 1) as f64 / 300.0).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 1.63 / 300f64.sqrt(), "KS distance {d}");
    }

    #[test]
    fn an_excluded_window_shields_the_fit_from_a_signal() {
        let e = edges(42);
        let mut n = expected(&e, TRUE, 2e5);
        let bkg_in_window: f64 = e
            .windows(2)
            .zip(&n)
            .filter(|(b, _)| b[0] >= 3500.0 && b[1] <= 3700.0)
            .map(|(_, c)| c)
            .sum();
        for (b, c) in e.windows(2).zip(n.iter_mut()) {
            if b[0] >= 3500.0 && b[1] <= 3700.0 {
                *c += 3000.0 / 2.0;
            }
        }
        let excluded = fit_dijet(
            &e,
            &n,
            &FitOptions {
                exclude: Some((3500.0, 3700.0)),
                ..Default::default()
            },
        )
        .unwrap();
        let (b, s) = excluded.predict(3500.0, 3700.0).unwrap();
        assert!(
            (b - bkg_in_window).abs() < 1e-4 * bkg_in_window,
            "{b} vs {bkg_in_window}"
        );
        assert!(
            s > 0.0 && excluded.ndf == 36 && excluded.fitted.iter().filter(|f| !**f).count() == 2
        );
        let included = fit_dijet(&e, &n, &FitOptions::default()).unwrap();
        let (biased, _) = included.predict(3500.0, 3700.0).unwrap();
        assert!(
            biased > bkg_in_window + 100.0,
            "the signal pulls an unshielded fit up: {biased}"
        );
        assert!(included.chi2_pvalue < 1e-6, "and spoils its chi2");
    }

    #[test]
    fn log_bins_and_sparse_tails_fit() {
        let e: Vec<f64> = (0..=25)
            .map(|i| 2800.0 * (8000.0f64 / 2800.0).powf(i as f64 / 25.0))
            .collect();
        let mu = expected(&e, TRUE, 5e3);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let n = poisson_toy(&mu, &mut rng);
        assert!(n.contains(&0.0), "the toy has empty bins in its tail");
        let fit = fit_dijet(&e, &n, &FitOptions::default()).unwrap();
        assert!(fit.chi2_pvalue > 1e-3, "{fit}");
    }

    #[test]
    fn sparse_spectra_fit_or_fail_clearly() {
        let e = edges(30);
        let mu = expected(&e, TRUE, 300.0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        let mut failures = Vec::new();
        for _ in 0..100 {
            let n = poisson_toy(&mu, &mut rng);
            if let Err(err) = fit_dijet(&e, &n, &FitOptions::default()) {
                failures.push(err.to_string());
            }
        }
        assert!(
            failures.len() <= 5,
            "{} of 100 sparse toys failed: {failures:?}",
            failures.len()
        );
        assert!(
            failures.iter().all(|f| f.contains("fit_dijet")),
            "{failures:?}"
        );
    }

    #[test]
    fn bad_inputs_are_errors() {
        let e = edges(10);
        let mu = expected(&e, TRUE, 1e4);
        let err = |edges: &[f64], counts: &[f64], o: FitOptions| {
            fit_dijet(edges, counts, &o).unwrap_err().to_string()
        };
        assert!(err(&e, &[0.0; 10], FitOptions::default()).contains("non-empty"));
        assert!(err(&e[..4], &mu[..3], FitOptions::default()).contains("at least 5 bins"));
        let mut nan = mu.clone();
        nan[3] = f64::NAN;
        assert!(err(&e, &nan, FitOptions::default()).contains("bin 3"));
        assert!(err(&e, &mu[..9], FitOptions::default()).contains("edges"));
        assert!(
            err(
                &e,
                &mu,
                FitOptions {
                    sqrt_s: 5000.0,
                    ..Default::default()
                }
            )
            .contains("sqrt_s")
        );
        assert!(
            err(
                &e,
                &mu,
                FitOptions {
                    exclude: Some((4000.0, 3000.0)),
                    ..Default::default()
                }
            )
            .contains("lo < hi")
        );
        assert!(
            err(
                &e,
                &mu,
                FitOptions {
                    exclude: Some((2000.0, 6500.0)),
                    ..Default::default()
                }
            )
            .contains("bins to fit outside the excluded window")
        );
        let fit = fit_dijet(&e, &mu, &FitOptions::default()).unwrap();
        assert!(fit.predict(3000.0, 2900.0).is_err() && fit.predict(3000.0, 14000.0).is_err());
    }
}
