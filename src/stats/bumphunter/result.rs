//! The outcome of a 1D BumpHunter scan, and how its refitted pseudo-experiments went.

use super::options::Mode;
use crate::stats::fit::Function;
use crate::stats::hist::Hist1D;

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
    /// With [`bump_hunter_refit`](super::bump_hunter_refit): how the refitted
    /// pseudo-experiments went (`n_extreme` and `global_p` then count failed refits as
    /// extreme).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refit: Option<RefitSummary>,
}

/// How the pseudo-experiments of [`bump_hunter_refit`](super::bump_hunter_refit) went.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RefitSummary {
    /// What every pseudo-experiment refitted ([`BackgroundModel::describe`](super::BackgroundModel::describe)).
    pub model: String,
    /// The function fitted to the data (for a family, its choice): the reference.
    pub function: Function,
    /// Pseudo-experiments whose refit failed; each counts as at least as extreme as the data
    /// in the result's `n_extreme` and `global_p`.
    pub n_failed: usize,
    /// The first failure (lowest pseudo-experiment index): "pseudo-experiment K: error".
    pub first_failure: Option<String>,
    /// The global p-value among the pseudo-experiments whose refit converged.
    pub global_p_converged: f64,
    /// How many converged refits ended with each function (a family's choices).
    pub chosen: Vec<(Function, usize)>,
}
