//! The 1D scan: the data's best window against a fixed reference, and its global p-value.

use super::options::BumpHunterOptions;
use super::pseudo::{count_extreme, count_extreme_direct, global_statistics};
use super::result::{BumpHunterResult, RefitSummary};
use super::windows::{
    Window, best_window, check_counts, check_npe, local_p, prefix, reference_span,
    signed_significance, thresholds, window_counts, windows_1d,
};
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::stats::hist::Hist1D;
use crate::stats::special::z_from_p;

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
pub(super) struct Scan {
    /// The windows scanned, in scan order.
    pub(super) windows: Vec<Window>,
    /// The first window with the smallest p-value.
    pub(super) best: Window,
    /// Its p-value.
    pub(super) best_p: f64,
    /// The bins `[first, last)` from the first to the last non-empty reference bin: the
    /// totals of sideband normalisation (pyBumpHunter's `Hinf..Hsup`).
    pub(super) span: (usize, usize),
}

impl Scan {
    /// Checks the inputs and scans `data` against `reference`.
    pub(super) fn new(data: &Hist1D, reference: &Hist1D, opts: &BumpHunterOptions) -> Result<Scan> {
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
    pub(super) fn hit(&self, pd: &[f64], pb: &[f64], opts: &BumpHunterOptions) -> bool {
        let sideband = opts.use_sideband.then_some(self.span);
        self.windows.iter().any(|w| {
            let (nd, nb) = window_counts(w, pd, pb, sideband);
            local_p(opts.mode, nd, nb) <= self.best_p
        })
    }

    /// The result, given how many of the `opts.npe` pseudo-experiments were at least as
    /// extreme as the data.
    pub(super) fn result(
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
