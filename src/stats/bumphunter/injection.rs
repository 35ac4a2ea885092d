//! The signal-injection test: the global significance as a function of injected signal.

use super::options::{BumpHunterOptions, Mode};
use super::pseudo::{BLOCK, BinSampler, global_statistics, in_blocks};
use super::windows::{Window, check_counts, check_npe, check_total, local_p, prefix, windows_1d};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::seed::rng_for;
use crate::stats::hist::Hist1D;

/// Settings of a signal-injection test.
#[derive(Clone, Debug, PartialEq)]
pub struct InjectionOptions {
    /// Expected signal events at strength 1 (`None`: the template's total).
    pub signal_exp: Option<f64>,
    /// Strengths to try in order (`None`: 0.1, 0.2, ..., 1, 2, ..., 10, 20, ..., 100).
    pub strengths: Option<Vec<f64>>,
    /// Stop at the first strength whose median global significance reaches this (5).
    pub sigma_limit: f64,
    /// Background-only pseudo-experiments for the test-statistic distribution (10 000).
    pub npe_background: usize,
    /// Pseudo-experiments per strength (1 000).
    pub npe_inject: usize,
}

impl Default for InjectionOptions {
    fn default() -> Self {
        Self {
            signal_exp: None,
            strengths: None,
            sigma_limit: 5.0,
            npe_background: 10_000,
            npe_inject: 1_000,
        }
    }
}

/// One strength of a signal-injection test.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct InjectionPoint {
    /// The signal strength.
    pub strength: f64,
    /// The injected signal events (strength x expected signal).
    pub signal_events: f64,
    /// Median test statistic of the pseudo-experiments with signal.
    pub median_t: f64,
    /// Their 16% and 84% quantiles.
    pub band_t: (f64, f64),
    /// Global p-value of the median: fraction of background-only pseudo-experiments with a
    /// strictly larger test statistic.
    pub global_p: f64,
    /// Its significance (a lower limit when `global_p` is 0).
    pub global_z: f64,
}

/// The outcome of a signal-injection test.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct InjectionResult {
    /// One point per strength tried.
    pub points: Vec<InjectionPoint>,
    /// The target significance.
    pub sigma_limit: f64,
    /// The first strength whose median significance reaches the target, if any.
    pub strength_needed: Option<f64>,
}

/// The smallest test statistic t = -ln(p) over all windows of `counts` (exact p-values).
fn scan_t(counts_prefix: &[f64], windows: &[Window], prefix_b: &[f64], mode: Mode) -> f64 {
    windows
        .iter()
        .map(|w| {
            let nd = counts_prefix[w.start + w.width] - counts_prefix[w.start];
            let nb = prefix_b[w.start + w.width] - prefix_b[w.start];
            local_p(mode, nd, nb)
        })
        .fold(1.0, f64::min)
        .ln()
        .abs()
}

/// The test statistics of `npe` pseudo-experiments drawn from `means`, scanned against the
/// reference; stream `stream_base + block` of `seed` per block.
fn pseudo_t(
    means: &[f64],
    npe: usize,
    windows: &[Window],
    prefix_b: &[f64],
    opts: &BumpHunterOptions,
    stream_base: u64,
    interrupt: Option<&Interrupt>,
) -> Result<Vec<f64>> {
    check_total(means, "reference + signal")?;
    let samplers = BinSampler::for_bins(means)?;
    let blocks = in_blocks(BLOCK, npe, interrupt, |block, n| {
        let mut rng = rng_for(opts.seed, stream_base + block as u64);
        let mut draws = vec![0.0; means.len()];
        (0..n)
            .map(|_| {
                for (d, sampler) in draws.iter_mut().zip(&samplers) {
                    *d = sampler.sample(&mut rng) as f64;
                }
                scan_t(&prefix(&draws), windows, prefix_b, opts.mode)
            })
            .collect::<Vec<f64>>()
    })?;
    Ok(blocks.concat())
}

/// The signal strength BumpHunter needs to reach `inject.sigma_limit` global significance:
/// for each strength, pseudo-experiments of reference + strength x signal are scanned, and
/// the median test statistic is compared with the background-only distribution.
pub fn signal_injection(
    reference: &Hist1D,
    signal: &Hist1D,
    opts: &BumpHunterOptions,
    inject: &InjectionOptions,
    interrupt: Option<&Interrupt>,
) -> Result<InjectionResult> {
    reference.check_same_binning(signal)?;
    check_npe(inject.npe_background, "npe_background")?;
    check_npe(inject.npe_inject, "npe_inject")?;
    check_counts(reference.counts(), "reference")?;
    check_counts(signal.counts(), "signal template")?;
    if opts.use_sideband {
        return Err(Error::invalid(
            "signal injection",
            "sideband normalisation is not supported here",
        ));
    }
    let template_total = signal.total();
    if template_total <= 0.0 {
        return Err(Error::invalid("signal template", "the template is empty"));
    }
    let signal_exp = inject.signal_exp.unwrap_or(template_total);
    let b = reference.counts();
    let windows = windows_1d(b, opts)?;
    let prefix_b = prefix(b);
    let mut background = pseudo_t(
        b,
        inject.npe_background,
        &windows,
        &prefix_b,
        opts,
        0,
        interrupt,
    )?;
    background.sort_by(f64::total_cmp);
    let strengths = inject.strengths.clone().unwrap_or_else(default_strengths);
    let mut points = Vec::new();
    let mut strength_needed = None;
    for (k, &mu) in strengths.iter().enumerate() {
        let scale = mu * signal_exp / template_total;
        let means: Vec<f64> = b
            .iter()
            .zip(signal.counts())
            .map(|(b, s)| b + scale * s)
            .collect();
        let base = 1_000_000 * (k as u64 + 1);
        let mut t = pseudo_t(
            &means,
            inject.npe_inject,
            &windows,
            &prefix_b,
            opts,
            base,
            interrupt,
        )?;
        t.sort_by(f64::total_cmp);
        let q = |f: f64| crate::data::describe::quantile_sorted(&t, f);
        let median = q(0.5);
        let above = background.len() - background.partition_point(|&x| x <= median);
        let (global_p, global_z, _, _) = global_statistics(above, background.len())?;
        points.push(InjectionPoint {
            strength: mu,
            signal_events: mu * signal_exp,
            median_t: median,
            band_t: (q(0.16), q(0.84)),
            global_p,
            global_z,
        });
        if global_z >= inject.sigma_limit || above == 0 {
            strength_needed = (global_z >= inject.sigma_limit).then_some(mu);
            break;
        }
    }
    Ok(InjectionResult {
        points,
        sigma_limit: inject.sigma_limit,
        strength_needed,
    })
}

fn default_strengths() -> Vec<f64> {
    let mut s: Vec<f64> = (1..10).map(|k| k as f64 / 10.0).collect();
    s.extend((1..10).map(f64::from));
    s.extend((1..=10).map(|k| 10.0 * k as f64));
    s
}
