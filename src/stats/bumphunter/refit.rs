//! BumpHunter against a background fitted to the data it searches.
//!
//! Plain pseudo-experiments compare Poisson draws with a fixed reference. When the reference
//! is a fit to the same data, the observed spectrum has pulled the fit towards its own
//! fluctuations, so its test statistic is smaller than one taken against the true background,
//! while the pseudo-experiments are compared with a reference that never followed them: the
//! global p-value is mis-calibrated (too large: conservative, docs/fits.md has the numbers).
//! Here every pseudo-experiment is drawn from the fitted reference, the same fit (one
//! function, or the same nested selection, with the same range and excluded window) is redone
//! on it, and its scan is taken against its own refitted reference: the parametric bootstrap
//! of the whole procedure.
//!
//! A pseudo-experiment whose refit fails is counted, its first failure kept, and it is taken
//! as at least as extreme as the data, so the global p-value is an upper bound on the one a
//! working refit would give; the p-value among the converged refits is reported beside it.
//! Pseudo-experiment `k` draws from random stream `k` of the seed, and blocks of
//! [`REFIT_BLOCK`] run in parallel, so the result does not depend on the thread count.

use super::options::BumpHunterOptions;
use super::pseudo::{BinSampler, in_blocks};
use super::result::{BumpHunterResult, RefitSummary};
use super::scan::Scan;
use super::windows::{check_counts, check_npe, prefix};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::seed::rng_for;
use crate::stats::fit::{
    DijetFit, FamilyOptions, FitFamily, FitOptions, Function, fit_dijet, fit_family,
};
use crate::stats::hist::Hist1D;

/// Pseudo-experiments per parallel task when each one refits (a fit takes about a
/// millisecond; small blocks keep both cores busy and Ctrl-C prompt).
const REFIT_BLOCK: usize = 16;

/// A background fit redone on every pseudo-experiment: its settings, not its result.
#[derive(Clone, Debug, PartialEq)]
pub enum BackgroundModel {
    /// One function, fitted with these options.
    Function(FitOptions),
    /// The nested selection with these options; its chosen fit is the reference.
    Family(FamilyOptions),
}

impl BackgroundModel {
    /// The settings `fit` was made with: its function, √s, range, excluded window and
    /// iteration limit.
    pub fn of_fit(fit: &DijetFit) -> Self {
        BackgroundModel::Function(FitOptions {
            function: fit.function,
            ..recorded_options(fit)
        })
    }

    /// The settings `family` was made with: its dijet functions (failed ones included),
    /// threshold, √s, range, excluded window and iteration limit. UA2, fitted beside the chain and never chosen, is left
    /// out: it cannot change the choice.
    pub fn of_family(family: &FitFamily) -> Self {
        BackgroundModel::Family(FamilyOptions {
            functions: family
                .members
                .iter()
                .map(|m| m.function)
                .filter(|f| f.is_dijet())
                .collect(),
            threshold: family.threshold,
            fit: recorded_options(family.chosen_fit()),
        })
    }

    /// The fit of the model to the histogram (`edges`, `counts`): the function's fit, or the
    /// family's chosen one.
    pub fn fit(&self, edges: &[f64], counts: &[f64]) -> Result<DijetFit> {
        match self {
            BackgroundModel::Function(options) => fit_dijet(edges, counts, options),
            BackgroundModel::Family(options) => {
                Ok(fit_family(edges, counts, options)?.chosen_fit().clone())
            }
        }
    }

    /// Checks that `fit` is this model fitted to `data` (a refit of the data predicts the
    /// same reference), so that refitting pseudo-experiments repeats what was done to the
    /// data. An error names the first bin that differs.
    pub fn check_made_on(&self, data: &Hist1D, fit: &DijetFit) -> Result<()> {
        if fit.edges != data.edges() {
            return Err(Error::invalid(
                "refit",
                format!(
                    "the fit was made on {} bins from {} to {}, the data have {} bins from {} to {}: refitting needs the fit of the histogram searched",
                    fit.edges.len() - 1,
                    fit.edges[0],
                    fit.edges[fit.edges.len() - 1],
                    data.n_bins(),
                    data.edges()[0],
                    data.edges()[data.n_bins()]
                ),
            ));
        }
        let again = reference_counts(&self.fit(data.edges(), data.counts())?)?;
        let given = reference_counts(fit)?;
        let differs = given
            .iter()
            .zip(&again)
            .position(|(a, b)| (a - b).abs() > 1e-6 * a.abs().max(b.abs()));
        match differs {
            None => Ok(()),
            Some(i) => Err(Error::invalid(
                "refit",
                format!(
                    "the fit was not made on these data: refitting them ({}) predicts {} events in bin {i} [{}, {}), the fit passed predicts {}; refit pseudo-experiments repeat the fit of the histogram searched, so pass that fit",
                    self.describe(),
                    again[i],
                    fit.edges[i],
                    fit.edges[i + 1],
                    given[i]
                ),
            )),
        }
    }

    /// What is refitted, for a summary: "dijet4" or "dijet3, dijet4, dijet5 by Wilks' test
    /// (p < 0.05)", with the range and excluded window.
    pub fn describe(&self) -> String {
        let (mut text, options) = match self {
            BackgroundModel::Function(o) => (o.function.name().to_string(), o),
            BackgroundModel::Family(f) => {
                let names: Vec<&str> = f.functions.iter().map(|g| g.name()).collect();
                (
                    format!("{} by Wilks' test (p < {})", names.join(", "), f.threshold),
                    &f.fit,
                )
            }
        };
        if let Some((lo, hi)) = options.range {
            text += &format!(", range [{lo}, {hi})");
        }
        if let Some((lo, hi)) = options.exclude {
            text += &format!(", excluding [{lo}, {hi})");
        }
        text
    }

    /// The functions a refit can end with, in the order they are counted.
    fn functions(&self) -> Vec<Function> {
        match self {
            BackgroundModel::Function(o) => vec![o.function],
            BackgroundModel::Family(f) => {
                let mut chain: Vec<Function> = f
                    .functions
                    .iter()
                    .copied()
                    .filter(|g| g.is_dijet())
                    .collect();
                chain.sort_by_key(|g| g.n_params());
                chain
            }
        }
    }
}

/// The fit options recorded in `fit` (its function, √s, range, excluded window, iteration limit).
fn recorded_options(fit: &DijetFit) -> FitOptions {
    FitOptions {
        function: fit.function,
        sqrt_s: fit.sqrt_s,
        range: fit.range,
        exclude: fit.exclude,
        max_iterations: fit.max_iterations,
    }
}

/// The fit's expected counts in its histogram's bins whose centre lies in its range (every
/// bin without a range), 0 in the others: BumpHunter scans only where the fit applies. The
/// counts are [`DijetFit::predict`]'s, so the reference is `fit.prediction(edges)` in range.
fn reference_counts(fit: &DijetFit) -> Result<Vec<f64>> {
    fit.edges
        .windows(2)
        .map(|e| {
            let centre = 0.5 * (e[0] + e[1]);
            match fit.range {
                Some((lo, hi)) if !(lo <= centre && centre < hi) => Ok(0.0),
                _ => Ok(fit.predict(e[0], e[1])?.0),
            }
        })
        .collect()
}

/// The reference BumpHunter compares the data with when the background is `fit`: its
/// expected counts in the bins of the fitted histogram whose centre lies in the fit range,
/// and 0 outside it (where no window is scanned).
pub fn reference_of(fit: &DijetFit) -> Result<Hist1D> {
    Hist1D::from_counts(fit.edges.clone(), reference_counts(fit)?)
}

/// The tally of one block of pseudo-experiments.
struct Tally {
    extreme: usize,
    failed: usize,
    first_failure: Option<String>,
    chosen: Vec<usize>,
}

/// Runs BumpHunter on `data` against `model` fitted to it, every pseudo-experiment refitting
/// `model` to its own draws (see the module documentation). The reference is the fit's
/// prediction in the bins of its range ([`reference_of`]); scan options as for
/// [`super::bump_hunter`]. A failed fit to `data` is an error; failed refits are counted in
/// [`RefitSummary`], and if every refit fails that is an error naming the first failure.
pub fn bump_hunter_refit(
    data: &Hist1D,
    model: &BackgroundModel,
    opts: &BumpHunterOptions,
    interrupt: Option<&Interrupt>,
) -> Result<BumpHunterResult> {
    check_npe(opts.npe, "npe")?;
    check_counts(data.counts(), "data")?;
    let edges = data.edges();
    let observed = model.fit(edges, data.counts()).map_err(|e| {
        Error::invalid(
            "refit",
            format!("the background fit to the data failed: {e}"),
        )
    })?;
    let reference = reference_of(&observed)?;
    let scan = Scan::new(data, &reference, opts)?;
    let samplers = BinSampler::for_bins(reference.counts())?;
    let functions = model.functions();
    let tallies = in_blocks(REFIT_BLOCK, opts.npe, interrupt, |block, n| {
        let mut tally = Tally {
            extreme: 0,
            failed: 0,
            first_failure: None,
            chosen: vec![0; functions.len()],
        };
        let mut draws = vec![0.0; samplers.len()];
        for pe in block * REFIT_BLOCK..block * REFIT_BLOCK + n {
            let mut rng = rng_for(opts.seed, pe as u64);
            for (d, sampler) in draws.iter_mut().zip(&samplers) {
                *d = sampler.sample(&mut rng) as f64;
            }
            let refit = model
                .fit(edges, &draws)
                .and_then(|fit| Ok((fit.function, reference_counts(&fit)?)));
            match refit {
                Ok((function, b)) => {
                    if let Some(k) = functions.iter().position(|f| *f == function) {
                        tally.chosen[k] += 1;
                    }
                    tally.extreme += usize::from(scan.hit(&prefix(&draws), &prefix(&b), opts));
                }
                Err(e) => {
                    tally.failed += 1;
                    tally
                        .first_failure
                        .get_or_insert_with(|| format!("pseudo-experiment {pe}: {e}"));
                }
            }
        }
        tally
    })?;
    let (mut extreme, mut failed, mut first_failure) = (0, 0, None);
    let mut chosen = vec![0; functions.len()];
    for t in tallies {
        extreme += t.extreme;
        failed += t.failed;
        first_failure = first_failure.or(t.first_failure);
        for (c, n) in chosen.iter_mut().zip(t.chosen) {
            *c += n;
        }
    }
    if failed == opts.npe {
        return Err(Error::invalid(
            "refit",
            format!(
                "every one of the {failed} refits failed, so there is no global p-value; the first, {}",
                first_failure.unwrap_or_default()
            ),
        ));
    }
    let summary = RefitSummary {
        model: model.describe(),
        function: observed.function,
        n_failed: failed,
        first_failure,
        global_p_converged: extreme as f64 / (opts.npe - failed) as f64,
        chosen: functions.into_iter().zip(chosen).collect(),
    };
    scan.result(data, &reference, opts, extreme + failed, Some(summary))
}
