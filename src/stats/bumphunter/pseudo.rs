//! Pseudo-experiments drawn from a fixed reference: Poisson samplers, parallel blocks on
//! fixed random streams, counts of extreme outcomes and the global p-value.

use rand::RngExt;
use rayon::prelude::*;

use super::options::{BumpHunterOptions, Mode};
use super::windows::{Window, check_npe, prefix};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::progress::Progress;
use crate::seed::rng_for;
use crate::stats::special::{ln_gamma, z_from_p};

/// Pseudo-experiments per random stream (and per parallel task) of the fixed-reference loops.
pub(super) const BLOCK: usize = 2048;

/// Bin means up to which Poisson draws come from an inverse-CDF table (at most ~2 500 entries).
const TABLE_MAX_MEAN: f64 = 1e4;

/// Draws the Poisson counts of one bin with a fixed mean.
pub(super) enum BinSampler {
    /// Small means: an inverse-CDF table, one uniform per draw.
    Table(PoissonTable),
    /// Large means: rand_distr's exact sampler (no table of millions of entries).
    Large(rand_distr::Poisson<f64>),
}

impl BinSampler {
    /// Samplers for every bin of `means` (checked counts: finite, >= 0, total <= 2^53).
    pub(super) fn for_bins(means: &[f64]) -> Result<Vec<BinSampler>> {
        means.iter().map(|&m| BinSampler::new(m)).collect()
    }

    pub(super) fn new(mean: f64) -> Result<Self> {
        if mean <= TABLE_MAX_MEAN {
            return Ok(BinSampler::Table(PoissonTable::new(mean)));
        }
        rand_distr::Poisson::new(mean)
            .map(BinSampler::Large)
            .map_err(|e| Error::invalid("reference", format!("bin mean {mean}: {e}")))
    }

    /// One draw.
    pub(super) fn sample(&self, rng: &mut impl rand::Rng) -> u64 {
        match self {
            BinSampler::Table(table) => table.sample(rng.random::<f64>()),
            BinSampler::Large(poisson) => {
                use rand_distr::Distribution;
                poisson.sample(rng) as u64
            }
        }
    }
}

/// Inverse-CDF sampler of a Poisson distribution with a fixed mean.
pub(super) struct PoissonTable {
    pub(super) offset: u64,
    pub(super) cdf: Vec<f64>,
}

impl PoissonTable {
    pub(super) fn new(mean: f64) -> Self {
        if mean <= 0.0 {
            return Self {
                offset: 0,
                cdf: vec![1.0],
            };
        }
        let spread = 12.0 * mean.sqrt() + 20.0;
        let lo = (mean - spread).max(0.0).floor() as u64;
        let hi = (mean + spread).ceil() as u64;
        let ln_pmf = |k: u64| k as f64 * mean.ln() - mean - ln_gamma(k as f64 + 1.0);
        let mut cdf = Vec::with_capacity((hi - lo + 1) as usize);
        let mut sum = 0.0;
        for k in lo..=hi {
            sum += ln_pmf(k).exp();
            cdf.push(sum);
        }
        let total = sum;
        for c in &mut cdf {
            *c /= total;
        }
        Self { offset: lo, cdf }
    }

    pub(super) fn sample(&self, u: f64) -> u64 {
        let i = self
            .cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1);
        self.offset + i as u64
    }
}

/// Runs `npe` pseudo-experiments in parallel blocks of `size`: `work(block, n)` throws the `n`
/// of block `block` (pseudo-experiments `block * size ..`), on random streams fixed by the
/// block or the pseudo-experiment, so results do not depend on the thread count. Polls
/// `interrupt` between blocks and shows a progress bar when the work is long.
pub(super) fn in_blocks<T: Send>(
    size: usize,
    npe: usize,
    interrupt: Option<&Interrupt>,
    work: impl Fn(usize, usize) -> T + Sync,
) -> Result<Vec<T>> {
    let progress = Progress::new("pseudo-experiments", npe as u64);
    (0..npe.div_ceil(size))
        .into_par_iter()
        .map(|block| {
            if let Some(i) = interrupt {
                i.check()?;
            }
            let n = size.min(npe - block * size);
            let out = work(block, n);
            progress.advance(n as u64);
            Ok(out)
        })
        .collect()
}

/// Counts the pseudo-experiments whose best window is at least as extreme as the data's,
/// using the per-window thresholds.
pub(super) fn count_extreme(
    reference: &[f64],
    windows: &[Window],
    thresholds: &[i64],
    opts: &BumpHunterOptions,
    interrupt: Option<&Interrupt>,
) -> Result<usize> {
    let samplers = BinSampler::for_bins(reference)?;
    let counts = in_blocks(BLOCK, opts.npe, interrupt, |block, n| {
        let mut rng = rng_for(opts.seed, block as u64);
        let mut prefix = vec![0_i64; reference.len() + 1];
        let mut extreme = 0;
        for _ in 0..n {
            for (i, sampler) in samplers.iter().enumerate() {
                prefix[i + 1] = prefix[i] + sampler.sample(&mut rng) as i64;
            }
            let hit = windows.iter().zip(thresholds).any(|(w, &t)| {
                let nd = prefix[w.start + w.width] - prefix[w.start];
                match opts.mode {
                    Mode::Excess => nd >= t,
                    Mode::Deficit => nd <= t,
                }
            });
            extreme += usize::from(hit);
        }
        extreme
    })?;
    Ok(counts.into_iter().sum())
}

/// Counts extreme pseudo-experiments drawn from `reference` with `hit(prefix sums)`, which
/// recomputes every window's p-value (needed when the reference in a window depends on the
/// data, as with sideband normalisation).
pub(super) fn count_extreme_direct(
    reference: &[f64],
    opts: &BumpHunterOptions,
    interrupt: Option<&Interrupt>,
    hit: impl Fn(&[f64]) -> bool + Sync,
) -> Result<usize> {
    let samplers = BinSampler::for_bins(reference)?;
    let counts = in_blocks(BLOCK, opts.npe, interrupt, |block, n| {
        let mut rng = rng_for(opts.seed, block as u64);
        let mut extreme = 0;
        let mut draws = vec![0.0; reference.len()];
        for _ in 0..n {
            for (d, sampler) in draws.iter_mut().zip(&samplers) {
                *d = sampler.sample(&mut rng) as f64;
            }
            extreme += usize::from(hit(&prefix(&draws)));
        }
        extreme
    })?;
    Ok(counts.into_iter().sum())
}

/// Global p, Z, whether Z is a lower limit, and the binomial error of p, when `n_extreme` of
/// `npe` pseudo-experiments are at least as extreme as the data (none: Z of 1/npe, a lower
/// limit).
pub fn global_statistics(n_extreme: usize, npe: usize) -> Result<(f64, f64, bool, f64)> {
    check_npe(npe, "npe")?;
    let p = n_extreme as f64 / npe as f64;
    let error = (p * (1.0 - p) / npe as f64).sqrt();
    if n_extreme == 0 {
        return Ok((0.0, z_from_p(1.0 / npe as f64)?, true, error));
    }
    Ok((p, z_from_p(p)?, false, error))
}
