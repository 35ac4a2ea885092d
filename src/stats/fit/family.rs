//! The nested selection among the dijet functions, as the ATLAS dijet searches make it: fit
//! dijet3, dijet4 and dijet5 in turn and move to the larger function while Wilks' likelihood
//! ratio test prefers it (2 Δ ln L, χ² with as many degrees of freedom as added parameters,
//! p-value below a threshold). The spread between the chosen function's prediction and the
//! next one's is the function-choice uncertainty of a prediction. UA2 is not nested with the
//! family: on request it is fitted and reported beside the chain, never chosen.

use std::fmt;

use super::{DijetFit, FitOptions, Function, fit_from, fitted_bins};
use crate::error::{Error, Result};
use crate::stats::hist::Hist1D;
use crate::stats::special::gamma_q;

/// Options of [`fit_family`].
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyOptions {
    /// The functions fitted (dijet3, dijet4, dijet5). The dijet ones form the nested chain in
    /// order of their parameter counts; `Ua2` is fitted beside the chain.
    pub functions: Vec<Function>,
    /// The Wilks p-value below which the larger function is preferred (0.05).
    pub threshold: f64,
    /// The options every function is fitted with; their `function` is ignored.
    pub fit: FitOptions,
}

impl Default for FamilyOptions {
    fn default() -> Self {
        Self {
            functions: vec![Function::Dijet3, Function::Dijet4, Function::Dijet5],
            threshold: 0.05,
            fit: FitOptions::default(),
        }
    }
}

/// One function's fit in a [`FitFamily`]: the fit, or why it failed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FamilyMember {
    /// The function.
    pub function: Function,
    /// Its fit, if it converged.
    pub fit: Option<DijetFit>,
    /// Why the fit failed, if it did.
    pub error: Option<String>,
}

/// One step of the chain: Wilks' test of `from` against the larger `to`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WilksStep {
    /// The smaller function.
    pub from: Function,
    /// The larger function.
    pub to: Function,
    /// 2 Δ ln L = deviance(`from`) - deviance(`to`), at least 0.
    pub statistic: f64,
    /// The parameters `to` adds: the χ² degrees of freedom.
    pub dof: usize,
    /// The probability of a statistic at least this large if `from` is true.
    pub p_value: f64,
    /// Whether `p_value` < threshold: `to` is preferred.
    pub accepted: bool,
}

/// The fits of a nested selection, the Wilks tests between them and the choice.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FitFamily {
    /// Every requested function's fit: the dijet chain in order of parameter count, then UA2.
    pub members: Vec<FamilyMember>,
    /// The tests made, in order; the chain stops at the first one not accepted.
    pub steps: Vec<WilksStep>,
    /// The p-value threshold of the tests.
    pub threshold: f64,
    /// The chosen function.
    pub chosen: Function,
    /// The function the choice uncertainty compares with: the next one in the chain (the
    /// one the last test rejected), or the previous one when the largest fitted function was
    /// chosen; `None` when only one function of the chain could be fitted.
    pub alternative: Option<Function>,
    #[serde(skip)]
    chosen_fit: DijetFit,
    #[serde(skip)]
    alternative_fit: Option<DijetFit>,
}

/// A prediction of a [`FitFamily`] with its two uncertainties.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct FamilyPrediction {
    /// The chosen function's expected count.
    pub value: f64,
    /// Its 1σ uncertainty from the chosen fit's covariance.
    pub fit_error: f64,
    /// The function-choice uncertainty: |chosen - alternative|.
    pub choice_error: f64,
}

impl FamilyPrediction {
    /// The two uncertainties added in quadrature.
    pub fn total_error(&self) -> f64 {
        self.fit_error.hypot(self.choice_error)
    }
}

/// Checks the options and returns the functions in fitting order: the dijet chain by
/// parameter count, then UA2.
fn ordered(options: &FamilyOptions) -> Result<Vec<Function>> {
    let t = options.threshold;
    if !(t > 0.0 && t < 1.0) {
        return Err(Error::invalid(
            "threshold",
            format!("{t} is not a p-value threshold: give a number between 0 and 1 (0.05)"),
        ));
    }
    let mut functions = options.functions.clone();
    for (i, f) in functions.iter().enumerate() {
        if functions[..i].contains(f) {
            return Err(Error::invalid("functions", format!("{f} is listed twice")));
        }
    }
    if !functions.iter().any(|f| f.is_dijet()) {
        return Err(Error::invalid(
            "functions",
            "the selection needs at least one of dijet3, dijet4, dijet5 (ua2 is fitted beside the nested chain, never chosen)",
        ));
    }
    functions.sort_by_key(|f| (!f.is_dijet(), f.n_params()));
    Ok(functions)
}

/// Fits the functions of `options` to the histogram (`edges`, `counts`) and selects among the
/// dijet ones: starting from the smallest, the next larger fitted function is preferred while
/// Wilks' test gives a p-value below `options.threshold`. Each dijet fit also starts from the
/// previous one's minimum, so a larger function never fits worse. A function that cannot be
/// fitted is reported in its [`FamilyMember`] and left out of the chain. Errors: bad options,
/// a histogram the smallest function cannot be fitted to, or no dijet function converging.
pub fn fit_family(edges: &[f64], counts: &[f64], options: &FamilyOptions) -> Result<FitFamily> {
    let functions = ordered(options)?;
    let fit_options = |function| FitOptions {
        function,
        ..options.fit.clone()
    };
    // Problems with the histogram itself are the caller's, not one function's.
    fitted_bins(edges, counts, &fit_options(functions[0]))?;
    let mut members = Vec::with_capacity(functions.len());
    let mut nested: Option<Vec<f64>> = None;
    for function in functions {
        let start = if function.is_dijet() {
            nested.as_deref()
        } else {
            None
        };
        let member = match fit_from(edges, counts, &fit_options(function), start) {
            Ok(fit) => {
                if function.is_dijet() {
                    nested = Some(fit.theta.clone());
                }
                FamilyMember {
                    function,
                    fit: Some(fit),
                    error: None,
                }
            }
            Err(e) => FamilyMember {
                function,
                fit: None,
                error: Some(e.to_string()),
            },
        };
        members.push(member);
    }
    let chain: Vec<&DijetFit> = members
        .iter()
        .filter(|m| m.function.is_dijet())
        .filter_map(|m| m.fit.as_ref())
        .collect();
    let Some(&first) = chain.first() else {
        let why: Vec<String> = members
            .iter()
            .filter_map(|m| Some(format!("{}: {}", m.function, m.error.as_ref()?)))
            .collect();
        return Err(Error::invalid(
            "fit_family",
            format!("no dijet function could be fitted ({})", why.join("; ")),
        ));
    };
    let mut chosen = first;
    let mut steps = Vec::new();
    let mut alternative = None;
    for &next in &chain[1..] {
        let statistic = (chosen.neg2_log_l - next.neg2_log_l).max(0.0);
        let dof = next.params.len() - chosen.params.len();
        let p_value = gamma_q(dof as f64 / 2.0, statistic / 2.0);
        let accepted = p_value < options.threshold;
        steps.push(WilksStep {
            from: chosen.function,
            to: next.function,
            statistic,
            dof,
            p_value,
            accepted,
        });
        if !accepted {
            alternative = Some(next);
            break;
        }
        alternative = Some(chosen);
        chosen = next;
    }
    Ok(FitFamily {
        steps,
        threshold: options.threshold,
        chosen: chosen.function,
        alternative: alternative.map(|a| a.function),
        chosen_fit: chosen.clone(),
        alternative_fit: alternative.cloned(),
        members,
    })
}

/// [`fit_family`] on a histogram's bins.
pub fn fit_family_hist(h: &Hist1D, options: &FamilyOptions) -> Result<FitFamily> {
    fit_family(h.edges(), h.counts(), options)
}

impl FitFamily {
    /// The chosen function's fit.
    pub fn chosen_fit(&self) -> &DijetFit {
        &self.chosen_fit
    }

    /// The fit the choice uncertainty compares with (see [`FitFamily::alternative`]).
    pub fn alternative_fit(&self) -> Option<&DijetFit> {
        self.alternative_fit.as_ref()
    }

    /// The fit of `function`, if it was requested and converged.
    pub fn fit(&self, function: Function) -> Option<&DijetFit> {
        self.members
            .iter()
            .find(|m| m.function == function)
            .and_then(|m| m.fit.as_ref())
    }

    /// The function-choice uncertainty of the expected count in [lo, hi): the difference
    /// between the chosen and the alternative function's predictions. An error when only one
    /// function of the chain was fitted.
    pub fn choice_uncertainty(&self, lo: f64, hi: f64) -> Result<f64> {
        let alternative = self.alternative_fit.as_ref().ok_or_else(|| {
            Error::invalid(
                "function choice",
                format!(
                    "only {} of the chain was fitted: the choice uncertainty needs a second function (fit dijet3, dijet4 and dijet5)",
                    self.chosen
                ),
            )
        })?;
        let chosen = self.chosen_fit.predict(lo, hi)?.0;
        Ok((chosen - alternative.predict(lo, hi)?.0).abs())
    }

    /// The chosen function's expected count in [lo, hi) with its fit and function-choice
    /// uncertainties (what a window test adds in quadrature to test a region).
    pub fn predict(&self, lo: f64, hi: f64) -> Result<FamilyPrediction> {
        let (value, fit_error) = self.chosen_fit.predict(lo, hi)?;
        Ok(FamilyPrediction {
            value,
            fit_error,
            choice_error: self.choice_uncertainty(lo, hi)?,
        })
    }
}

impl fmt::Display for FitFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.chosen_fit;
        write!(
            f,
            "Fit family: nested dijet functions by Wilks' test (p < {}), y = m/{}",
            self.threshold, c.sqrt_s
        )?;
        if let Some((lo, hi)) = c.range {
            write!(f, ", range [{lo}, {hi})")?;
        }
        if let Some((lo, hi)) = c.exclude {
            write!(f, ", excluding [{lo}, {hi})")?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "  {:<8} {:>10} {:>16} {:>9}  parameters",
            "function", "-2 ln L", "chi2/ndf", "p(chi2)"
        )?;
        for m in &self.members {
            let mark = if m.function == self.chosen { "*" } else { " " };
            match (&m.fit, &m.error) {
                (Some(fit), _) => {
                    let params: Vec<String> =
                        fit.params.iter().map(|p| format!("{p:.4e}")).collect();
                    writeln!(
                        f,
                        "{mark} {:<8} {:>10.2} {:>16} {:>9.3}  [{}]{}",
                        m.function.name(),
                        // The deviance is a sum of non-negative terms; rounding can leave -1e-12.
                        fit.neg2_log_l.max(0.0),
                        format!("{:.2}/{}", fit.chi2, fit.ndf),
                        fit.chi2_pvalue,
                        params.join(", "),
                        if m.function.is_dijet() {
                            ""
                        } else {
                            " (beside the chain)"
                        }
                    )?;
                }
                (None, error) => writeln!(
                    f,
                    "{mark} {:<8} failed: {}",
                    m.function.name(),
                    error.as_deref().unwrap_or("")
                )?,
            }
        }
        for s in &self.steps {
            writeln!(
                f,
                "  {} -> {}: 2 dlnL = {:.2} ({} dof), p = {:.3e} {}",
                s.from,
                s.to,
                s.statistic,
                s.dof,
                s.p_value,
                if s.accepted {
                    format!("< {}: take {}", self.threshold, s.to)
                } else {
                    format!(">= {}: keep {}", self.threshold, s.from)
                }
            )?;
        }
        write!(f, "  chosen: {}", self.chosen)?;
        if let Some(a) = self.alternative {
            write!(f, " (choice uncertainty against {a})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::super::tests::{edges, expected_of, poisson_toy};
    use super::*;

    /// Edges from 1500 to 8000 GeV in 50 bins: wide enough for the higher terms to show.
    fn wide_edges() -> Vec<f64> {
        (0..=50)
            .map(|i| 1500.0 + 6500.0 * i as f64 / 50.0)
            .collect()
    }

    /// θ of a dijet3, a clearly dijet4 and a clearly dijet5 shape (ln p0 is set by the
    /// normalisation), with the events that make the higher terms significant.
    fn shapes() -> [(Function, Vec<f64>, f64); 3] {
        [
            (Function::Dijet3, vec![0.0, 10.0, 5.0], 1e5),
            (Function::Dijet4, vec![0.0, 10.0, 5.0, 2.0], 1e5),
            (Function::Dijet5, vec![0.0, 10.0, 5.0, 1.0, -1.0], 1e6),
        ]
    }

    #[test]
    fn the_selection_picks_the_generating_function() {
        let e = wide_edges();
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        for (function, theta, total) in shapes() {
            let mu = expected_of(function, &e, &theta, total);
            let asimov = fit_family(&e, &mu, &FamilyOptions::default()).unwrap();
            assert_eq!(asimov.chosen, function, "{asimov}");
            // On the exact expectation the generating function fits perfectly, so a larger
            // one gains nothing.
            if let Some(next) = asimov.steps.iter().find(|s| s.from == function) {
                assert!(next.statistic < 1e-6 && !next.accepted, "{asimov}");
            }
            // On toys the generating function is chosen, except that Wilks' test takes one
            // more parameter in about 5 % of them (the threshold); never fewer.
            let mut chosen = Vec::new();
            for _ in 0..20 {
                let toy = poisson_toy(&mu, &mut rng);
                let family = fit_family(&e, &toy, &FamilyOptions::default()).unwrap();
                assert_eq!(family.chosen_fit().function, family.chosen);
                chosen.push(family.chosen.n_params());
            }
            let k = function.n_params();
            let right = chosen.iter().filter(|c| **c == k).count();
            assert!(
                right >= 17 && chosen.iter().all(|c| *c >= k),
                "{function}: {chosen:?}"
            );
        }
    }

    #[test]
    fn wilks_p_values_are_uniform_when_the_smaller_function_is_true() {
        let e = edges(30);
        let mu = expected_of(Function::Dijet3, &e, &[0.0, 10.0, 5.0], 1e5);
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let toys = 300;
        let mut p = Vec::new();
        for _ in 0..toys {
            let n = poisson_toy(&mu, &mut rng);
            let family = fit_family(&e, &n, &FamilyOptions::default()).unwrap();
            // Each larger function starts from the smaller one's minimum: it never fits worse.
            let deviances: Vec<f64> = family
                .members
                .iter()
                .map(|m| m.fit.as_ref().unwrap().neg2_log_l)
                .collect();
            assert!(
                deviances.windows(2).all(|d| d[1] <= d[0] + 1e-9),
                "{deviances:?}"
            );
            p.push(family.steps[0].p_value);
        }
        p.sort_by(f64::total_cmp);
        let d = p
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (p - i as f64 / toys as f64)
                    .abs()
                    .max((p - (i + 1) as f64 / toys as f64).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 1.63 / (toys as f64).sqrt(), "KS distance {d}");
    }

    #[test]
    fn the_choice_uncertainty_compares_with_the_next_function() {
        let e = edges(30);
        let (lo, hi) = (3300.0, 3700.0);
        // A dijet4 shape too faint to prefer dijet4: dijet3 is chosen, dijet4 is the
        // alternative, and the two differ in the window.
        let mu = expected_of(Function::Dijet4, &e, &[0.0, 10.0, 5.0, 2.0], 3000.0);
        let family = fit_family(&e, &mu, &FamilyOptions::default()).unwrap();
        assert_eq!(family.chosen, Function::Dijet3, "{family}");
        assert_eq!(family.alternative, Some(Function::Dijet4));
        let (chosen, _) = family
            .fit(Function::Dijet3)
            .unwrap()
            .predict(lo, hi)
            .unwrap();
        let (next, _) = family
            .fit(Function::Dijet4)
            .unwrap()
            .predict(lo, hi)
            .unwrap();
        let spread = family.choice_uncertainty(lo, hi).unwrap();
        assert!(spread > 0.0 && spread == (chosen - next).abs(), "{spread}");
        let prediction = family.predict(lo, hi).unwrap();
        assert_eq!(prediction.value, chosen);
        assert_eq!(prediction.choice_error, spread);
        assert!(
            (prediction.total_error() - prediction.fit_error.hypot(spread)).abs() < 1e-12
                && prediction.total_error() > prediction.fit_error
        );
        // When the largest function is chosen, the alternative is the one before it.
        let (function, theta, total) = shapes()[2].clone();
        let e = wide_edges();
        let family = fit_family(
            &e,
            &expected_of(function, &e, &theta, total),
            &FamilyOptions::default(),
        )
        .unwrap();
        assert_eq!(
            (family.chosen, family.alternative),
            (Function::Dijet5, Some(Function::Dijet4))
        );
        // With a single function in the chain there is nothing to compare with.
        let single = fit_family(
            &e,
            &expected_of(function, &e, &theta, total),
            &FamilyOptions {
                functions: vec![Function::Dijet4],
                ..Default::default()
            },
        )
        .unwrap();
        assert!(single.alternative_fit().is_none() && single.steps.is_empty());
        let err = single.choice_uncertainty(lo, hi).unwrap_err().to_string();
        assert!(err.contains("needs a second function"), "{err}");
        assert!(single.predict(lo, hi).is_err());
    }

    #[test]
    fn ua2_is_fitted_beside_the_chain_and_never_chosen() {
        let e = edges(42);
        let theta = [0.0, 4.0, 12.0, 3.0];
        let mu = expected_of(Function::Ua2, &e, &theta, 1e5);
        let family = fit_family(
            &e,
            &mu,
            &FamilyOptions {
                functions: vec![Function::Ua2, Function::Dijet5, Function::Dijet3],
                ..Default::default()
            },
        )
        .unwrap();
        let order: Vec<Function> = family.members.iter().map(|m| m.function).collect();
        assert_eq!(order, [Function::Dijet3, Function::Dijet5, Function::Ua2]);
        assert!(family.chosen.is_dijet());
        assert!(
            family
                .steps
                .iter()
                .all(|s| s.from.is_dijet() && s.to.is_dijet() && s.dof == 2),
            "{family}"
        );
        let ua2 = family.fit(Function::Ua2).unwrap();
        assert!(ua2.neg2_log_l < 1e-8, "{ua2}");
        let text = family.to_string();
        assert!(
            text.contains("(beside the chain)") && text.contains("chosen: dijet"),
            "{text}"
        );
    }

    #[test]
    fn a_function_that_cannot_be_fitted_is_reported_and_left_out() {
        // Five bins: enough for dijet3 and dijet4, not for dijet5.
        let e = edges(5);
        let mu = expected_of(Function::Dijet4, &e, &[0.0, 10.0, 5.0, 0.1], 1e4);
        let family = fit_family(&e, &mu, &FamilyOptions::default()).unwrap();
        let error = family.members[2].error.as_deref().unwrap();
        assert!(
            family.members[2].fit.is_none() && error.contains("at least 6 bins"),
            "{error}"
        );
        assert_eq!(family.steps.len(), 1, "{family}");
        assert!(family.to_string().contains("dijet5   failed: "), "{family}");
        let json = serde_json::to_value(&family).unwrap();
        assert_eq!(json["members"][2]["function"], "dijet5");
        assert_eq!(json["chosen"], family.chosen.name());
        assert!(json["steps"][0]["p_value"].is_number());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let e = edges(30);
        let mu = expected_of(Function::Dijet3, &e, &[0.0, 10.0, 5.0], 1e4);
        let err = |counts: &[f64], options: FamilyOptions| {
            fit_family(&e, counts, &options).unwrap_err().to_string()
        };
        for threshold in [0.0, 1.0, f64::NAN] {
            let options = FamilyOptions {
                threshold,
                ..Default::default()
            };
            assert!(err(&mu, options).contains("threshold"));
        }
        let twice = FamilyOptions {
            functions: vec![Function::Dijet3, Function::Dijet3],
            ..Default::default()
        };
        assert!(err(&mu, twice).contains("dijet3 is listed twice"));
        let only_ua2 = FamilyOptions {
            functions: vec![Function::Ua2],
            ..Default::default()
        };
        assert!(err(&mu, only_ua2).contains("at least one of dijet3"));
        // A histogram no function can be fitted to is the caller's error, named once.
        let empty = err(&[0.0; 30], FamilyOptions::default());
        assert!(empty.contains("0 of them with events"), "{empty}");
    }
}
