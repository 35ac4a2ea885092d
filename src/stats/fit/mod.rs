//! Background fits of a falling mass spectrum: the dijet family with 3, 4 and 5 parameters
//! (4 is LHC Olympics 2020 eq. 4.3) and the UA2 function ([`Function`]), fitted to a histogram by a
//! binned Poisson likelihood within an optional range, optionally leaving out a window (the
//! signal region), with the covariance from the likelihood's curvature and predictions with
//! propagated uncertainties; and the nested selection among the dijet functions by Wilks'
//! test, with the spread between functions as an uncertainty ([`fit_family`]).
//!
//! Every function is log-linear in its parameters: ln f = θ · φ(y) with y = m / √s and
//! θ = (ln p0, p1, ...). The fit works in θ, where the likelihood is smooth and every
//! derivative is analytic: each bin's expectation is the integral of f over the bin
//! (Gauss–Legendre), so wide or logarithmic bins are handled exactly. `docs/fits.md` gives
//! the formulas, conventions and numbers.

mod engine;
mod family;
mod function;

use std::fmt;

use self::engine::{NODES_PER_BIN, Problem, dot, invert};
pub use self::family::{
    FamilyMember, FamilyOptions, FamilyPrediction, FitFamily, WilksStep, fit_family,
    fit_family_hist,
};
pub use self::function::{Function, MAX_PARAMS};
use super::quadrature::Composite;
use super::special::gamma_q;
use crate::error::{Error, Result};
use crate::stats::hist::Hist1D;

/// Options of [`fit_dijet`].
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    /// The function fitted ([`Function::Dijet4`], eq. 4.3).
    pub function: Function,
    /// The collision energy √s in the units of the histogram (13000 GeV).
    pub sqrt_s: f64,
    /// The fit range `[lo, hi)`: only bins whose centre lies inside it are fitted (all bins
    /// when `None`).
    pub range: Option<(f64, f64)>,
    /// A window `[lo, hi)` left out of the fit: bins whose centre lies inside it.
    pub exclude: Option<(f64, f64)>,
    /// The most Newton iterations before the fit reports non-convergence (200).
    pub max_iterations: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            function: Function::default(),
            sqrt_s: 13000.0,
            range: None,
            exclude: None,
            max_iterations: 200,
        }
    }
}

/// A fitted background function (any [`Function`]; the name is that of the default, the
/// dijet function of eq. 4.3).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DijetFit {
    /// The function fitted.
    pub function: Function,
    /// (p0, p1, ...) of the function's formula ([`Function::formula`]); p0 is a density per
    /// unit of m.
    pub params: Vec<f64>,
    /// The covariance of `params` (inverse Hessian of -ln L), as rows.
    pub covariance: Vec<Vec<f64>>,
    /// The Poisson deviance -2 ln(L / L_saturated) = 2 Σ [μ - n + n ln(n/μ)] over the fitted
    /// bins: -2 ln L up to a constant, asymptotically χ²-distributed.
    pub neg2_log_l: f64,
    /// Pearson's χ² = Σ (n - μ)² / μ over the fitted bins, adjacent bins merged until each
    /// group expects at least 5 events (where every bin expects 5 or more, bin by bin).
    pub chi2: f64,
    /// Degrees of freedom: groups of bins in `chi2` minus the number of parameters (0: no
    /// test of the fit's quality is possible).
    pub ndf: usize,
    /// The probability of a χ² at least this large with `ndf` degrees of freedom (1 when
    /// `ndf` is 0).
    pub chi2_pvalue: f64,
    /// Newton iterations used.
    pub iterations: usize,
    /// The most Newton iterations the fit was allowed (its options' `max_iterations`), kept so
    /// the fit can be redone with its own settings.
    pub max_iterations: usize,
    /// √s used to form y = m / √s.
    pub sqrt_s: f64,
    /// The fit range, if one was given.
    pub range: Option<(f64, f64)>,
    /// The window left out of the fit, if any.
    pub exclude: Option<(f64, f64)>,
    /// The bin edges of the fitted histogram.
    pub edges: Vec<f64>,
    /// Which bins entered the likelihood.
    pub fitted: Vec<bool>,
    /// The fitted θ = (ln p0, p1, ...): the parameters the fit works in. Predictions use
    /// them, so a fit whose p0 overflows (a steep or peaked spectrum) still predicts.
    pub theta: Vec<f64>,
    /// The covariance in θ, used for predictions.
    #[serde(skip)]
    theta_covariance: Vec<Vec<f64>>,
}

/// Whether `x` lies in the half-open window `[lo, hi)`.
fn inside((lo, hi): (f64, f64), x: f64) -> bool {
    lo <= x && x < hi
}

/// Checks that an optional window option is a non-empty interval of finite numbers.
fn check_window(name: &str, window: Option<(f64, f64)>) -> Result<()> {
    match window {
        Some((lo, hi)) if !(lo.is_finite() && hi.is_finite() && lo < hi) => Err(Error::invalid(
            name,
            format!("the window [{lo}, {hi}] is empty: give [lo, hi] with lo < hi"),
        )),
        _ => Ok(()),
    }
}

/// Checks the histogram and options and returns which bins enter the likelihood.
fn fitted_bins(edges: &[f64], counts: &[f64], options: &FitOptions) -> Result<Vec<bool>> {
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
    check_window("range", options.range)?;
    check_window("exclude", options.exclude)?;
    let centre = |e: &[f64]| 0.5 * (e[0] + e[1]);
    let in_range: Vec<bool> = edges
        .windows(2)
        .map(|e| options.range.is_none_or(|r| inside(r, centre(e))))
        .collect();
    let first = in_range.iter().position(|r| *r);
    let last = in_range.iter().rposition(|r| *r);
    if let (Some(first), Some(last)) = (first, last)
        && !(edges[first] > 0.0 && edges[last + 1] < sqrt_s)
    {
        return Err(Error::invalid(
            "fit_dijet",
            format!(
                "the {} [{}, {}] must lie inside (0, sqrt_s = {sqrt_s}); the fit functions are defined for 0 < m < sqrt_s{}",
                if options.range.is_some() {
                    "fitted bins"
                } else {
                    "binning"
                },
                edges[first],
                edges[last + 1],
                if options.range.is_some() {
                    ""
                } else {
                    " (a range option fits part of the binning)"
                }
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
    let fitted: Vec<bool> = edges
        .windows(2)
        .zip(&in_range)
        .map(|(e, r)| *r && options.exclude.is_none_or(|x| !inside(x, centre(e))))
        .collect();
    let n_fitted = fitted.iter().filter(|f| **f).count();
    let n_filled = counts
        .iter()
        .zip(&fitted)
        .filter(|(n, f)| **f && **n > 0.0)
        .count();
    let k = options.function.n_params();
    if n_fitted <= k || n_filled < k {
        let mut place = String::new();
        let mut remedy = String::new();
        if let Some((lo, hi)) = options.range {
            place += &format!(" in the range [{lo}, {hi})");
            remedy += " or a wider range";
        }
        if options.exclude.is_some() {
            place += " outside the excluded window";
            remedy += " or a narrower window";
        }
        return Err(Error::invalid(
            "fit_dijet",
            format!(
                "{n_fitted} bins to fit{place}, {n_filled} of them with events: the {k}-parameter fit ({}) needs at least {} bins and {k} non-empty ones (use finer bins{remedy})",
                options.function,
                k + 1,
            ),
        ));
    }
    Ok(fitted)
}

/// Fits `options.function` to the histogram (`edges`, `counts`) by a binned Poisson
/// likelihood. Bins whose centre lies outside `options.range` or inside `options.exclude`
/// are left out. The fitted bins' edges must lie in (0, √s); counts must be finite and
/// non-negative, and more bins than parameters must be fitted, as many of them with events
/// as there are parameters. A fit that does not converge is an error, never a silent
/// result.
pub fn fit_dijet(edges: &[f64], counts: &[f64], options: &FitOptions) -> Result<DijetFit> {
    fit_from(edges, counts, options, None)
}

/// [`fit_dijet`] on a histogram's bins.
pub fn fit_dijet_hist(h: &Hist1D, options: &FitOptions) -> Result<DijetFit> {
    fit_dijet(h.edges(), h.counts(), options)
}

/// [`fit_dijet`], also starting from `nested`: the θ of a fit of a function nested in this
/// one (the missing parameters start at 0), so that the larger function's likelihood is at
/// least the smaller one's.
fn fit_from(
    edges: &[f64],
    counts: &[f64],
    options: &FitOptions,
    nested: Option<&[f64]>,
) -> Result<DijetFit> {
    let fitted = fitted_bins(edges, counts, options)?;
    match options.function {
        Function::Dijet3 => fit_with::<3>(edges, counts, fitted, options, nested),
        Function::Dijet4 | Function::Ua2 => fit_with::<4>(edges, counts, fitted, options, nested),
        Function::Dijet5 => fit_with::<5>(edges, counts, fitted, options, nested),
    }
}

/// The fit of a `K`-parameter function to the checked bins `fitted`.
fn fit_with<const K: usize>(
    edges: &[f64],
    counts: &[f64],
    fitted: Vec<bool>,
    options: &FitOptions,
    nested: Option<&[f64]>,
) -> Result<DijetFit> {
    let (function, sqrt_s) = (options.function, options.sqrt_s);
    let problem = Problem::<K>::new(edges, counts, &fitted, |m| function.basis(m, sqrt_s));
    let start = nested.map(|t| std::array::from_fn(|i| t.get(i).copied().unwrap_or(0.0)));
    let best = problem
        .fit(start, options.max_iterations)
        .ok_or_else(|| {
            Error::invalid(
                "fit_dijet",
                format!(
                    "the {function} fit did not converge in {} iterations from any starting point; check that the spectrum falls smoothly (start above the trigger turn-on), or raise max_iterations",
                    options.max_iterations
                ),
            )
        })?;
    let theta_covariance = invert(&best.hessian).ok_or_else(|| {
        Error::invalid("fit_dijet", format!("the likelihood of the {function} fit is flat in some direction at the minimum: the parameters are not determined by these bins"))
    })?;
    // (p0, p1, ...) from θ: only p0 = exp(θ0) is transformed, with Jacobian diag(p0, 1, ...).
    let p0 = best.theta[0].exp();
    let scale = |i: usize| if i == 0 { p0 } else { 1.0 };
    let covariance = (0..K)
        .map(|i| {
            (0..K)
                .map(|j| scale(i) * scale(j) * theta_covariance[i][j])
                .collect()
        })
        .collect();
    let quality = problem.quality(&best.theta);
    let (deviance, chi2) = (quality.deviance, quality.chi2);
    let ndf = quality.groups.saturating_sub(K);
    Ok(DijetFit {
        function,
        params: (0..K)
            .map(|i| if i == 0 { p0 } else { best.theta[i] })
            .collect(),
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
        max_iterations: options.max_iterations,
        sqrt_s,
        range: options.range,
        exclude: options.exclude,
        edges: edges.to_vec(),
        fitted,
        theta: best.theta.to_vec(),
        theta_covariance: theta_covariance.iter().map(|row| row.to_vec()).collect(),
    })
}

impl DijetFit {
    /// The fitted density dN/dm at `m`.
    pub fn density(&self, m: f64) -> f64 {
        dot(&self.theta, &self.function.features(m, self.sqrt_s)).exp()
    }

    /// The 1σ uncertainties of the parameters.
    pub fn param_errors(&self) -> Vec<f64> {
        (0..self.params.len())
            .map(|i| self.covariance[i][i].sqrt())
            .collect()
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
        let k = self.theta.len();
        let mut mu = 0.0;
        let mut grad = vec![0.0; k];
        for (m, w) in Composite::new(NODES_PER_BIN, 16).points(lo, hi) {
            let phi = self.function.features(m, self.sqrt_s);
            let f = w * dot(&self.theta, &phi).exp();
            mu += f;
            for (g, p) in grad.iter_mut().zip(&phi) {
                *g += f * p;
            }
        }
        let variance: f64 = (0..k)
            .flat_map(|i| (0..k).map(move |j| (i, j)))
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
            "{} fit {}, y = m/{} ({})",
            if self.function.is_dijet() {
                "Dijet"
            } else {
                "UA2"
            },
            self.function.formula(),
            self.sqrt_s,
            self.function
        )?;
        if let Some((lo, hi)) = self.range {
            writeln!(f, "  fit range [{lo}, {hi})")?;
        }
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
mod tests;
