//! The options of a BumpHunter scan: the kind of bump, the window widths and the
//! pseudo-experiments.

use crate::error::{Error, Result};

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
    pub(super) fn for_width(self, width: usize) -> usize {
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
