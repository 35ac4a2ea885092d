//! BumpHunter, as pyBumpHunter 0.5 (scikit-hep `BumpHunter1D`/`BumpHunter2D`) defines it:
//! windows of several widths slide over the histogram, each gets the local Poisson p-value
//! of the data over the reference, the most significant window is the bump, and
//! pseudo-experiments drawn from the reference turn its local p-value into a global one that
//! accounts for the look-elsewhere effect.
//!
//! A window whose reference is empty is never a bump (p = 1): a zero prediction is not a
//! discovery, however many events it holds.
//!
//! Speed: the reference is the same in every pseudo-experiment, so each window's p-value
//! depends only on its integer data count. Before the pseudo-experiments, every window gets
//! the smallest count (largest, for deficits) at least as extreme as the data's best window;
//! a pseudo-experiment is then a few hundred integer comparisons on prefix sums of Poisson
//! draws taken from precomputed inverse-CDF tables. Pseudo-experiments run in parallel in
//! fixed blocks, block `k` drawing from stream `k` of the seed, so the result does not depend
//! on the number of threads.

mod refit;

use rand::RngExt;
use rayon::prelude::*;

pub use self::refit::{BackgroundModel, RefitSummary, bump_hunter_refit, reference_of};

use super::hist::{Hist1D, Hist2D};
use super::special::{poisson_lower_tail, poisson_upper_tail, z_from_p};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::progress::Progress;
use crate::seed::rng_for;

/// Which departures from the reference count as a bump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// More data than reference.
    Excess,
    /// Less data than reference.
    Deficit,
}

impl Mode {
    /// "excess" or "deficit".
    pub fn parse(name: &str) -> Result<Mode> {
        match name {
            "excess" => Ok(Mode::Excess),
            "deficit" => Ok(Mode::Deficit),
            _ => Err(Error::invalid(
                "mode",
                format!("'{name}' is not a mode; use \"excess\" or \"deficit\""),
            )),
        }
    }
}

/// How far a window moves between positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanStep {
    /// A fixed number of bins.
    Bins(usize),
    /// The window's own width.
    Full,
    /// Half the window's width (at least one bin).
    Half,
}

impl ScanStep {
    fn for_width(self, width: usize) -> usize {
        match self {
            ScanStep::Bins(s) => s,
            ScanStep::Full => width,
            ScanStep::Half => (width / 2).max(1),
        }
    }
}

/// BumpHunter's settings; the defaults are pyBumpHunter's except `npe`.
#[derive(Clone, Debug, PartialEq)]
pub struct BumpHunterOptions {
    /// Excess or deficit.
    pub mode: Mode,
    /// Smallest window width in bins (2).
    pub width_min: usize,
    /// Largest window width in bins (`None`: half the number of bins).
    pub width_max: Option<usize>,
    /// Step between widths (1).
    pub width_step: usize,
    /// Step between window positions (1 bin).
    pub scan_step: ScanStep,
    /// Number of pseudo-experiments (10 000).
    pub npe: usize,
    /// Seed of the pseudo-experiments.
    pub seed: u64,
    /// Normalise the reference in each window to the data outside it (pyBumpHunter's
    /// `use_sideband`); the scan range shrinks by `sideband_width` bins on each side.
    pub use_sideband: bool,
    /// Bins excluded at each end of the scan range when `use_sideband` is set.
    pub sideband_width: usize,
}

impl Default for BumpHunterOptions {
    fn default() -> Self {
        Self {
            mode: Mode::Excess,
            width_min: 2,
            width_max: None,
            width_step: 1,
            scan_step: ScanStep::Bins(1),
            npe: 10_000,
            seed: crate::seed::DEFAULT_SEED,
            use_sideband: false,
            sideband_width: 0,
        }
    }
}

/// The smallest p-value reported (pyBumpHunter's floor).
pub const P_FLOOR: f64 = 1e-300;

/// Pseudo-experiments per random stream (and per parallel task) of the fixed-reference loops.
const BLOCK: usize = 2048;

/// The outcome of a 1D BumpHunter scan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BumpHunterResult {
    /// First bin of the most significant window.
    pub start: usize,
    /// Its width in bins.
    pub width: usize,
    /// Its edges.
    pub window_edges: (f64, f64),
    /// Data in the window.
    pub n_data: f64,
    /// Reference in the window (after sideband normalisation, if used).
    pub n_reference: f64,
    /// The estimated signal, `n_data - n_reference`.
    pub signal: f64,
    /// The local p-value of the window.
    pub local_p: f64,
    /// Its one-sided significance.
    pub local_z: f64,
    /// The test statistic t = -ln(local p).
    pub t: f64,
    /// Number of windows scanned.
    pub windows_tested: usize,
    /// Number of pseudo-experiments.
    pub npe: usize,
    /// How many pseudo-experiments had a best window at least as extreme as the data's.
    pub n_extreme: usize,
    /// The global p-value, `n_extreme / npe`.
    pub global_p: f64,
    /// Its one-sided significance; a lower limit when `n_extreme` is 0.
    pub global_z: f64,
    /// Whether `global_z` is only a lower limit (no pseudo-experiment was as extreme).
    pub global_z_is_lower_limit: bool,
    /// The binomial uncertainty of `global_p`, sqrt(p (1 - p) / npe).
    pub global_p_error: f64,
    /// The signed per-bin significance of data over reference (positive for excesses).
    pub bin_significance: Vec<f64>,
    /// The data histogram scanned.
    pub data: Hist1D,
    /// The reference histogram.
    pub reference: Hist1D,
    /// The mode used.
    pub mode: Mode,
    /// With [`bump_hunter_refit`]: how the refitted pseudo-experiments went (`n_extreme` and
    /// `global_p` then count failed refits as extreme).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refit: Option<RefitSummary>,
}

/// A window: first bin and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    start: usize,
    width: usize,
}

/// Runs BumpHunter on `data` against `reference` (same binning; the reference is used as
/// given, not normalised to the data).
pub fn bump_hunter(
    data: &Hist1D,
    reference: &Hist1D,
    opts: &BumpHunterOptions,
    interrupt: Option<&Interrupt>,
) -> Result<BumpHunterResult> {
    let scan = Scan::new(data, reference, opts)?;
    let b = reference.counts();
    let n_extreme = if opts.use_sideband {
        let prefix_b = prefix(b);
        count_extreme_direct(b, opts, interrupt, |pd| scan.hit(pd, &prefix_b, opts))?
    } else {
        let thresholds = thresholds(&scan.windows, &prefix(b), scan.best_p, opts.mode);
        count_extreme(b, &scan.windows, &thresholds, opts, interrupt)?
    };
    scan.result(data, reference, opts, n_extreme, None)
}

/// The data's side of a 1D scan: the windows, the most significant one and its p-value.
struct Scan {
    /// The windows scanned, in scan order.
    windows: Vec<Window>,
    /// The first window with the smallest p-value.
    best: Window,
    /// Its p-value.
    best_p: f64,
    /// The bins `[first, last)` from the first to the last non-empty reference bin: the
    /// totals of sideband normalisation (pyBumpHunter's `Hinf..Hsup`).
    span: (usize, usize),
}

impl Scan {
    /// Checks the inputs and scans `data` against `reference`.
    fn new(data: &Hist1D, reference: &Hist1D, opts: &BumpHunterOptions) -> Result<Scan> {
        data.check_same_binning(reference)?;
        check_npe(opts.npe, "npe")?;
        check_counts(data.counts(), "data")?;
        check_counts(reference.counts(), "reference")?;
        let b = reference.counts();
        let span = reference_span(b)?;
        let windows = windows_1d(b, opts)?;
        let (prefix_d, prefix_b) = (prefix(data.counts()), prefix(b));
        let sideband = opts.use_sideband.then_some(span);
        let (best, best_p) = best_window(&windows, |w| {
            let (nd, nb) = window_counts(w, &prefix_d, &prefix_b, sideband);
            local_p(opts.mode, nd, nb)
        });
        Ok(Scan {
            windows,
            best,
            best_p,
            span,
        })
    }

    /// Whether data with prefix sums `pd` has a window at least as extreme as the best one,
    /// against the reference with prefix sums `pb` (p-values computed window by window).
    fn hit(&self, pd: &[f64], pb: &[f64], opts: &BumpHunterOptions) -> bool {
        let sideband = opts.use_sideband.then_some(self.span);
        self.windows.iter().any(|w| {
            let (nd, nb) = window_counts(w, pd, pb, sideband);
            local_p(opts.mode, nd, nb) <= self.best_p
        })
    }

    /// The result, given how many of the `opts.npe` pseudo-experiments were at least as
    /// extreme as the data.
    fn result(
        &self,
        data: &Hist1D,
        reference: &Hist1D,
        opts: &BumpHunterOptions,
        n_extreme: usize,
        refit: Option<RefitSummary>,
    ) -> Result<BumpHunterResult> {
        let (d, b) = (data.counts(), reference.counts());
        let sideband = opts.use_sideband.then_some(self.span);
        let (nd, nb) = window_counts(&self.best, &prefix(d), &prefix(b), sideband);
        let global = global_statistics(n_extreme, opts.npe)?;
        let edges = data.edges();
        let best = self.best;
        Ok(BumpHunterResult {
            start: best.start,
            width: best.width,
            window_edges: (edges[best.start], edges[best.start + best.width]),
            n_data: nd,
            n_reference: nb,
            signal: nd - nb,
            local_p: self.best_p,
            local_z: z_from_p(self.best_p)?,
            t: -self.best_p.ln(),
            windows_tested: self.windows.len(),
            npe: opts.npe,
            n_extreme,
            global_p: global.0,
            global_z: global.1,
            global_z_is_lower_limit: global.2,
            global_p_error: global.3,
            bin_significance: d
                .iter()
                .zip(b)
                .map(|(&d, &b)| signed_significance(d, b))
                .collect(),
            data: data.clone(),
            reference: reference.clone(),
            mode: opts.mode,
            refit,
        })
    }
}

/// The data and reference counts in window `w` from their prefix sums `pd` and `pb`. With
/// `sideband = Some(span)` the reference is scaled to the data outside the window within
/// `span`, each histogram's own events counted (pyBumpHunter's `use_sideband`).
fn window_counts(
    w: &Window,
    pd: &[f64],
    pb: &[f64],
    sideband: Option<(usize, usize)>,
) -> (f64, f64) {
    let (lo, hi) = (w.start, w.start + w.width);
    let nd = pd[hi] - pd[lo];
    let mut nb = pb[hi] - pb[lo];
    if let Some((first, last)) = sideband {
        let outside_b = pb[last] - pb[first] - nb;
        let outside_d = pd[last] - pd[first] - nd;
        if outside_b > 0.0 {
            nb *= outside_d / outside_b;
        }
    }
    (nd, nb)
}

/// The local p-value of `nd` observed over `nb` expected, floored at [`P_FLOOR`].
pub fn local_p(mode: Mode, nd: f64, nb: f64) -> f64 {
    let p = match mode {
        Mode::Excess if nd > nb && nb > 0.0 => poisson_upper_tail(nd, nb),
        Mode::Deficit if nd < nb => poisson_lower_tail(nd, nb),
        _ => 1.0,
    };
    p.max(P_FLOOR)
}

/// The signed significance of one bin: positive for an excess, negative for a deficit.
pub fn signed_significance(d: f64, b: f64) -> f64 {
    if b <= 0.0 || d == b {
        return 0.0;
    }
    if d > b {
        z_from_p(poisson_upper_tail(d, b).max(P_FLOOR)).unwrap_or(0.0)
    } else {
        -z_from_p(poisson_lower_tail(d, b).max(P_FLOOR)).unwrap_or(0.0)
    }
}

fn check_counts(counts: &[f64], what: &str) -> Result<()> {
    match counts.iter().position(|c| !(c.is_finite() && *c >= 0.0)) {
        Some(i) => Err(Error::invalid(
            what,
            format!("bin {i} holds {}, not a count >= 0", counts[i]),
        )),
        None => check_total(counts, what),
    }
}

/// Refuses histograms whose total the pseudo-experiments cannot count exactly.
fn check_total(counts: &[f64], what: &str) -> Result<()> {
    let total: f64 = counts.iter().sum();
    if total > MAX_TOTAL {
        return Err(Error::invalid(
            what,
            format!(
                "holds {total:e} events in all, more than the 2^53 = {MAX_TOTAL:e} that \
                 pseudo-experiments can count exactly"
            ),
        ));
    }
    Ok(())
}

/// Refuses a number of pseudo-experiments of zero: a p-value needs at least one.
fn check_npe(npe: usize, what: &str) -> Result<()> {
    if npe == 0 {
        return Err(Error::invalid(
            what,
            "no pseudo-experiments: a global p-value needs at least 1 (10 000 is typical)",
        ));
    }
    Ok(())
}

fn prefix(values: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len() + 1);
    let mut sum = 0.0;
    out.push(0.0);
    for v in values {
        sum += v;
        out.push(sum);
    }
    out
}

/// The windows scanned, width-major (increasing width), positions increasing: the order in
/// which the first strict minimum is the best window (pyBumpHunter's tie-breaking).
fn windows_1d(reference: &[f64], opts: &BumpHunterOptions) -> Result<Vec<Window>> {
    let n = reference.len();
    let (first, last) = reference_span(reference)?;
    let k = if opts.use_sideband {
        opts.sideband_width
    } else {
        0
    };
    let (lo, hi) = (first + k, last.saturating_sub(k));
    let width_max = opts.width_max.unwrap_or(n / 2);
    check_widths(
        opts.width_min,
        width_max,
        opts.width_step,
        hi.saturating_sub(lo),
    )?;
    if let ScanStep::Bins(0) = opts.scan_step {
        return Err(Error::invalid("scan_step", "must be at least 1 bin"));
    }
    // No window is wider than the scan range.
    let width_max = width_max.min(hi - lo);
    check_window_count(
        (opts.width_min..=width_max)
            .step_by(opts.width_step)
            .map(|w| ((hi - lo - w) / opts.scan_step.for_width(w) + 1) as f64)
            .sum(),
    )?;
    let mut windows = Vec::new();
    let mut width = opts.width_min;
    while width <= width_max {
        let step = opts.scan_step.for_width(width);
        let mut start = lo;
        while start + width <= hi {
            windows.push(Window { start, width });
            start += step;
        }
        width += opts.width_step;
    }
    if windows.is_empty() {
        return Err(Error::invalid(
            "widths",
            format!(
                "no window of width {}..{width_max} fits in the scan range of {} bins",
                opts.width_min,
                hi - lo
            ),
        ));
    }
    Ok(windows)
}

/// The bins `[first, last)` from the first to the last bin with a reference above 0; an error
/// when the reference is empty.
fn reference_span(reference: &[f64]) -> Result<(usize, usize)> {
    let first = reference.iter().position(|&b| b > 0.0).ok_or_else(|| {
        Error::invalid(
            "reference",
            "the reference histogram is empty: there is nothing to compare the data with",
        )
    })?;
    let last = reference.iter().rposition(|&b| b > 0.0).unwrap_or(first) + 1;
    Ok((first, last))
}

/// Refuses a scan of more windows than memory holds (each keeps its place and threshold).
fn check_window_count(windows: f64) -> Result<()> {
    crate::memory::check(&format!("a scan of {windows:e} windows"), windows * 40.0)
}

fn check_widths(min: usize, max: usize, step: usize, range: usize) -> Result<()> {
    if min == 0 || step == 0 {
        return Err(Error::invalid(
            "widths",
            "width_min and width_step must be at least 1",
        ));
    }
    if min > max {
        return Err(Error::invalid(
            "widths",
            format!("width_min = {min} exceeds width_max = {max}"),
        ));
    }
    if min > range {
        return Err(Error::invalid(
            "widths",
            format!("width_min = {min} bins exceeds the scan range of {range} bins"),
        ));
    }
    Ok(())
}

/// The first window with the smallest p-value in scan order, and that p-value.
fn best_window<W: Copy>(windows: &[W], p_of: impl Fn(&W) -> f64) -> (W, f64) {
    let mut best = (windows[0], p_of(&windows[0]));
    for w in &windows[1..] {
        let p = p_of(w);
        if p < best.1 {
            best = (*w, p);
        }
    }
    best
}

/// Per window, the data counts at least as extreme as `best_p`: for an excess the smallest
/// integer count n with p(n) <= best_p (u64::MAX if none), for a deficit the largest such
/// count (-1 if none).
fn thresholds(windows: &[Window], prefix_b: &[f64], best_p: f64, mode: Mode) -> Vec<i64> {
    windows
        .iter()
        .map(|w| {
            let nb = prefix_b[w.start + w.width] - prefix_b[w.start];
            threshold(nb, best_p, mode)
        })
        .collect()
}

fn threshold(nb: f64, best_p: f64, mode: Mode) -> i64 {
    if best_p >= 1.0 {
        // Every count has p <= 1: every pseudo-experiment is as extreme as the data.
        return match mode {
            Mode::Excess => 0,
            Mode::Deficit => i64::MAX,
        };
    }
    let extreme = |n: i64| local_p(mode, n as f64, nb) <= best_p;
    match mode {
        Mode::Excess => {
            if nb <= 0.0 {
                return i64::MAX;
            }
            // p(n) decreases with n: find the first n that is extreme, by doubling then bisection.
            let mut hi = (nb.ceil() as i64).max(1);
            while !extreme(hi) {
                if hi > i64::MAX / 4 {
                    return i64::MAX;
                }
                hi = hi * 2 + 1;
            }
            let mut lo = nb.floor() as i64;
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if extreme(mid) { hi = mid } else { lo = mid }
            }
            hi
        }
        Mode::Deficit => {
            // p(n) increases with n below nb: find the last n that is extreme.
            if !extreme(0) {
                return -1;
            }
            let (mut lo, mut hi) = (0_i64, nb.ceil() as i64);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if extreme(mid) { lo = mid } else { hi = mid }
            }
            lo
        }
    }
}

/// The largest total a reference may hold: pseudo-experiment counts and their window sums are
/// integers held exactly in f64 and i64 below 2^53.
const MAX_TOTAL: f64 = 9_007_199_254_740_992.0;

/// Bin means up to which Poisson draws come from an inverse-CDF table (at most ~2 500 entries).
const TABLE_MAX_MEAN: f64 = 1e4;

/// Draws the Poisson counts of one bin with a fixed mean.
enum BinSampler {
    /// Small means: an inverse-CDF table, one uniform per draw.
    Table(PoissonTable),
    /// Large means: rand_distr's exact sampler (no table of millions of entries).
    Large(rand_distr::Poisson<f64>),
}

impl BinSampler {
    /// Samplers for every bin of `means` (checked counts: finite, >= 0, total <= 2^53).
    fn for_bins(means: &[f64]) -> Result<Vec<BinSampler>> {
        means.iter().map(|&m| BinSampler::new(m)).collect()
    }

    fn new(mean: f64) -> Result<Self> {
        if mean <= TABLE_MAX_MEAN {
            return Ok(BinSampler::Table(PoissonTable::new(mean)));
        }
        rand_distr::Poisson::new(mean)
            .map(BinSampler::Large)
            .map_err(|e| Error::invalid("reference", format!("bin mean {mean}: {e}")))
    }

    /// One draw.
    fn sample(&self, rng: &mut impl rand::Rng) -> u64 {
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
struct PoissonTable {
    offset: u64,
    cdf: Vec<f64>,
}

impl PoissonTable {
    fn new(mean: f64) -> Self {
        if mean <= 0.0 {
            return Self {
                offset: 0,
                cdf: vec![1.0],
            };
        }
        let spread = 12.0 * mean.sqrt() + 20.0;
        let lo = (mean - spread).max(0.0).floor() as u64;
        let hi = (mean + spread).ceil() as u64;
        let ln_pmf =
            |k: u64| k as f64 * mean.ln() - mean - super::special::ln_gamma(k as f64 + 1.0);
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

    fn sample(&self, u: f64) -> u64 {
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
fn in_blocks<T: Send>(
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
fn count_extreme(
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
fn count_extreme_direct(
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

/// Global p, Z, whether Z is a lower limit, and the binomial error of p.
fn global_statistics(n_extreme: usize, npe: usize) -> Result<(f64, f64, bool, f64)> {
    check_npe(npe, "npe")?;
    let p = n_extreme as f64 / npe as f64;
    let error = (p * (1.0 - p) / npe as f64).sqrt();
    if n_extreme == 0 {
        return Ok((0.0, z_from_p(1.0 / npe as f64)?, true, error));
    }
    Ok((p, z_from_p(p)?, false, error))
}

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

/// The outcome of a 2D BumpHunter scan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BumpHunter2DResult {
    /// First x and y bins of the most significant window.
    pub start: (usize, usize),
    /// Its widths in bins along x and y.
    pub width: (usize, usize),
    /// Its x edges.
    pub x_edges: (f64, f64),
    /// Its y edges.
    pub y_edges: (f64, f64),
    /// Data in the window.
    pub n_data: f64,
    /// Reference in the window.
    pub n_reference: f64,
    /// `n_data - n_reference`.
    pub signal: f64,
    /// The local p-value.
    pub local_p: f64,
    /// Its significance.
    pub local_z: f64,
    /// Windows scanned.
    pub windows_tested: usize,
    /// Pseudo-experiments.
    pub npe: usize,
    /// Pseudo-experiments at least as extreme as the data.
    pub n_extreme: usize,
    /// The global p-value.
    pub global_p: f64,
    /// Its significance (a lower limit when `n_extreme` is 0).
    pub global_z: f64,
}

/// Options of the 2D scan: widths per axis `(x, y)`; the other settings as in 1D.
#[derive(Clone, Debug, PartialEq)]
pub struct BumpHunter2DOptions {
    /// Excess or deficit.
    pub mode: Mode,
    /// Smallest widths (2, 2).
    pub width_min: (usize, usize),
    /// Largest widths (default: half the bins on each axis).
    pub width_max: Option<(usize, usize)>,
    /// Steps between widths (1, 1).
    pub width_step: (usize, usize),
    /// Steps between positions (1, 1).
    pub scan_step: (usize, usize),
    /// Pseudo-experiments.
    pub npe: usize,
    /// Seed of the pseudo-experiments.
    pub seed: u64,
}

impl Default for BumpHunter2DOptions {
    fn default() -> Self {
        Self {
            mode: Mode::Excess,
            width_min: (2, 2),
            width_max: None,
            width_step: (1, 1),
            scan_step: (1, 1),
            npe: 10_000,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window2D {
    x: usize,
    y: usize,
    wx: usize,
    wy: usize,
}

/// Runs the 2D BumpHunter: rectangular windows of all width pairs over the whole range.
pub fn bump_hunter_2d(
    data: &Hist2D,
    reference: &Hist2D,
    opts: &BumpHunter2DOptions,
    interrupt: Option<&Interrupt>,
) -> Result<BumpHunter2DResult> {
    data.check_same_binning(reference)?;
    check_npe(opts.npe, "npe")?;
    check_counts(data.counts(), "data")?;
    check_counts(reference.counts(), "reference")?;
    if reference.total() <= 0.0 {
        return Err(Error::invalid(
            "reference",
            "the reference histogram is empty",
        ));
    }
    let (nx, ny) = data.shape();
    let (wmx, wmy) = opts.width_max.unwrap_or((nx / 2, ny / 2));
    check_widths(opts.width_min.0, wmx, opts.width_step.0, nx)?;
    check_widths(opts.width_min.1, wmy, opts.width_step.1, ny)?;
    if opts.scan_step.0 == 0 || opts.scan_step.1 == 0 {
        return Err(Error::invalid(
            "scan_step",
            "must be at least 1 bin on each axis",
        ));
    }
    // No window is wider than the histogram.
    let (wmx, wmy) = (wmx.min(nx), wmy.min(ny));
    let count = |n: usize, min: usize, max: usize, step: usize, scan: usize| -> f64 {
        (min..=max)
            .step_by(step)
            .map(|w| ((n - w) / scan + 1) as f64)
            .sum()
    };
    check_window_count(
        count(
            nx,
            opts.width_min.0,
            wmx,
            opts.width_step.0,
            opts.scan_step.0,
        ) * count(
            ny,
            opts.width_min.1,
            wmy,
            opts.width_step.1,
            opts.scan_step.1,
        ),
    )?;
    let windows = windows_2d(nx, ny, opts, (wmx, wmy));
    let sum_b = prefix_2d(reference.counts(), nx, ny);
    let sum_d = prefix_2d(data.counts(), nx, ny);
    let p_of = |w: &Window2D, s: &[f64]| rect(s, ny, w);
    let (best, best_p) = best_window(&windows, |w| {
        local_p(opts.mode, p_of(w, &sum_d), p_of(w, &sum_b))
    });
    let thresholds: Vec<i64> = windows
        .iter()
        .map(|w| threshold(p_of(w, &sum_b), best_p, opts.mode))
        .collect();
    let samplers = BinSampler::for_bins(reference.counts())?;
    let counts = in_blocks(BLOCK, opts.npe, interrupt, |block, n| {
        let mut rng = rng_for(opts.seed, block as u64);
        let mut draws = vec![0.0; nx * ny];
        let mut extreme = 0;
        for _ in 0..n {
            for (d, sampler) in draws.iter_mut().zip(&samplers) {
                *d = sampler.sample(&mut rng) as f64;
            }
            let s = prefix_2d(&draws, nx, ny);
            let hit = windows.iter().zip(&thresholds).any(|(w, &t)| {
                let nd = rect(&s, ny, w) as i64;
                match opts.mode {
                    Mode::Excess => nd >= t,
                    Mode::Deficit => nd <= t,
                }
            });
            extreme += usize::from(hit);
        }
        extreme
    })?;
    let n_extreme: usize = counts.into_iter().sum();
    let (global_p, global_z, _, _) = global_statistics(n_extreme, opts.npe)?;
    let (nd, nb) = (p_of(&best, &sum_d), p_of(&best, &sum_b));
    let (xe, ye) = (data.x_edges(), data.y_edges());
    Ok(BumpHunter2DResult {
        start: (best.x, best.y),
        width: (best.wx, best.wy),
        x_edges: (xe[best.x], xe[best.x + best.wx]),
        y_edges: (ye[best.y], ye[best.y + best.wy]),
        n_data: nd,
        n_reference: nb,
        signal: nd - nb,
        local_p: best_p,
        local_z: z_from_p(best_p)?,
        windows_tested: windows.len(),
        npe: opts.npe,
        n_extreme,
        global_p,
        global_z,
    })
}

fn windows_2d(
    nx: usize,
    ny: usize,
    opts: &BumpHunter2DOptions,
    (wmx, wmy): (usize, usize),
) -> Vec<Window2D> {
    let mut windows = Vec::new();
    for wx in (opts.width_min.0..=wmx).step_by(opts.width_step.0) {
        for wy in (opts.width_min.1..=wmy).step_by(opts.width_step.1) {
            for x in (0..=nx.saturating_sub(wx)).step_by(opts.scan_step.0) {
                for y in (0..=ny.saturating_sub(wy)).step_by(opts.scan_step.1) {
                    windows.push(Window2D { x, y, wx, wy });
                }
            }
        }
    }
    windows
}

/// Summed-area table with a zero first row and column: `s[(i) * (ny + 1) + j]` is the sum of
/// bins `[0, i) x [0, j)`.
fn prefix_2d(values: &[f64], nx: usize, ny: usize) -> Vec<f64> {
    let mut s = vec![0.0; (nx + 1) * (ny + 1)];
    for i in 0..nx {
        for j in 0..ny {
            s[(i + 1) * (ny + 1) + j + 1] =
                values[i * ny + j] + s[i * (ny + 1) + j + 1] + s[(i + 1) * (ny + 1) + j]
                    - s[i * (ny + 1) + j];
        }
    }
    s
}

fn rect(s: &[f64], ny: usize, w: &Window2D) -> f64 {
    let at = |i: usize, j: usize| s[i * (ny + 1) + j];
    at(w.x + w.wx, w.y + w.wy) - at(w.x, w.y + w.wy) - at(w.x + w.wx, w.y) + at(w.x, w.y)
}

impl std::fmt::Display for BumpHunterResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.mode {
            Mode::Excess => "excess",
            Mode::Deficit => "deficit",
        };
        writeln!(
            f,
            "BumpHunter ({mode}): {} windows scanned",
            self.windows_tested
        )?;
        writeln!(
            f,
            "  window        [{}, {}]  (bins {}..{}, width {})",
            self.window_edges.0,
            self.window_edges.1,
            self.start,
            self.start + self.width,
            self.width
        )?;
        writeln!(
            f,
            "  data / ref    {:.1} / {:.2}  (signal estimate {:.1})",
            self.n_data, self.n_reference, self.signal
        )?;
        writeln!(
            f,
            "  local         p = {:.4e}   Z = {:.3}",
            self.local_p, self.local_z
        )?;
        let z = global_z_text(self.global_z, self.global_z_is_lower_limit);
        write!(
            f,
            "  global        p = {:.4} +- {:.4}   Z = {z}  ({} of {} pseudo-experiments at least as extreme)",
            self.global_p, self.global_p_error, self.n_extreme, self.npe
        )?;
        if let Some(r) = &self.refit {
            write!(
                f,
                "\n  reference     refitted in every pseudo-experiment: {} (data: {})",
                r.model, r.function
            )?;
            if r.chosen.len() > 1 {
                let counts: Vec<String> = r
                    .chosen
                    .iter()
                    .map(|(function, n)| format!("{function} {n}"))
                    .collect();
                write!(f, "\n  refit choices {}", counts.join(", "))?;
            }
            if r.n_failed > 0 {
                write!(
                    f,
                    "\n  failed refits {} of {}, counted as extreme above (among the rest p = {:.4}); first: {}",
                    r.n_failed,
                    self.npe,
                    r.global_p_converged,
                    r.first_failure.as_deref().unwrap_or("")
                )?;
            }
        }
        Ok(())
    }
}

/// A global significance for a summary, marked `>=` when it is only a lower limit (no
/// pseudo-experiment was as extreme as the data).
fn global_z_text(z: f64, lower_limit: bool) -> String {
    if lower_limit {
        format!(">= {z:.3}")
    } else {
        format!("{z:.3}")
    }
}

impl std::fmt::Display for BumpHunter2DResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "BumpHunter 2D: {} windows scanned", self.windows_tested)?;
        writeln!(
            f,
            "  window  x [{}, {}]  y [{}, {}]",
            self.x_edges.0, self.x_edges.1, self.y_edges.0, self.y_edges.1
        )?;
        writeln!(
            f,
            "  data / ref  {:.1} / {:.2}  (signal estimate {:.1})",
            self.n_data, self.n_reference, self.signal
        )?;
        writeln!(
            f,
            "  local   p = {:.4e}   Z = {:.3}",
            self.local_p, self.local_z
        )?;
        let z = global_z_text(self.global_z, self.n_extreme == 0);
        write!(
            f,
            "  global  p = {:.4}   Z = {z}  ({} of {} pseudo-experiments at least as extreme)",
            self.global_p, self.n_extreme, self.npe
        )
    }
}

impl std::fmt::Display for InjectionResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Signal injection (target {} sigma)", self.sigma_limit)?;
        writeln!(
            f,
            "{:>9} {:>10} {:>10} {:>18} {:>10} {:>8}",
            "strength", "signal", "median t", "t 16-84%", "global p", "Z"
        )?;
        for p in &self.points {
            writeln!(
                f,
                "{:>9} {:>10.1} {:>10.3} {:>8.3} - {:>7.3} {:>10.4} {:>8.3}",
                p.strength,
                p.signal_events,
                p.median_t,
                p.band_t.0,
                p.band_t.1,
                p.global_p,
                p.global_z
            )?;
        }
        match self.strength_needed {
            Some(mu) => write!(f, "strength needed for {} sigma: {mu}", self.sigma_limit),
            None => write!(
                f,
                "{} sigma not reached with the strengths tried",
                self.sigma_limit
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Poisson};

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
        let err =
            bump_hunter(&hd, &hb, &BumpHunterOptions::default(), Some(&interrupt)).unwrap_err();
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
}
