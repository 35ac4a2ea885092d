//! BumpHunter in two dimensions: rectangular windows on a 2D histogram.

use super::options::Mode;
use super::pseudo::{BLOCK, BinSampler, global_statistics, in_blocks};
use super::windows::{
    best_window, check_counts, check_npe, check_widths, check_window_count, local_p, threshold,
};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::seed::rng_for;
use crate::stats::hist::Hist2D;
use crate::stats::special::z_from_p;

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
    pub(super) x: usize,
    pub(super) y: usize,
    pub(super) wx: usize,
    pub(super) wy: usize,
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
