//! The windows of a 1D scan and their local p-values: window lists, counts from prefix sums,
//! the most significant window, per-window count thresholds, and the input checks.

use super::options::{BumpHunterOptions, Mode, P_FLOOR, ScanStep};
use crate::error::{Error, Result};
use crate::stats::special::{poisson_lower_tail, poisson_upper_tail, z_from_p};

/// A window: first bin and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Window {
    pub(super) start: usize,
    pub(super) width: usize,
}

/// The data and reference counts in window `w` from their prefix sums `pd` and `pb`. With
/// `sideband = Some(span)` the reference is scaled to the data outside the window within
/// `span`, each histogram's own events counted (pyBumpHunter's `use_sideband`).
pub(super) fn window_counts(
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

pub(super) fn check_counts(counts: &[f64], what: &str) -> Result<()> {
    match counts.iter().position(|c| !(c.is_finite() && *c >= 0.0)) {
        Some(i) => Err(Error::invalid(
            what,
            format!("bin {i} holds {}, not a count >= 0", counts[i]),
        )),
        None => check_total(counts, what),
    }
}

/// Refuses histograms whose total the pseudo-experiments cannot count exactly.
pub(super) fn check_total(counts: &[f64], what: &str) -> Result<()> {
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
pub(super) fn check_npe(npe: usize, what: &str) -> Result<()> {
    if npe == 0 {
        return Err(Error::invalid(
            what,
            "no pseudo-experiments: a global p-value needs at least 1 (10 000 is typical)",
        ));
    }
    Ok(())
}

pub(super) fn prefix(values: &[f64]) -> Vec<f64> {
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
pub(super) fn windows_1d(reference: &[f64], opts: &BumpHunterOptions) -> Result<Vec<Window>> {
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
pub(super) fn reference_span(reference: &[f64]) -> Result<(usize, usize)> {
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
pub(super) fn check_window_count(windows: f64) -> Result<()> {
    crate::memory::check(&format!("a scan of {windows:e} windows"), windows * 40.0)
}

pub(super) fn check_widths(min: usize, max: usize, step: usize, range: usize) -> Result<()> {
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
pub(super) fn best_window<W: Copy>(windows: &[W], p_of: impl Fn(&W) -> f64) -> (W, f64) {
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
pub(super) fn thresholds(
    windows: &[Window],
    prefix_b: &[f64],
    best_p: f64,
    mode: Mode,
) -> Vec<i64> {
    windows
        .iter()
        .map(|w| {
            let nb = prefix_b[w.start + w.width] - prefix_b[w.start];
            threshold(nb, best_p, mode)
        })
        .collect()
}

pub(super) fn threshold(nb: f64, best_p: f64, mode: Mode) -> i64 {
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
