//! The single window SALAD and ANODE search in: a mass range, the signal region inside it
//! (the rest of the range are the sidebands) and the features the networks see.

use serde::Serialize;

use crate::error::{Error, Result};

/// A signal region in a mass range, and the features.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Window {
    /// The resonant variable ("mjj").
    pub mass: String,
    /// The networks' features.
    pub features: Vec<String>,
    /// The signal region in the mass (3300–3700 GeV, around the R&D W').
    pub signal_region: (f64, f64),
    /// The range whose events outside the signal region are the sidebands (2632–6000 GeV, the
    /// LHC Olympics hunt range).
    pub range: (f64, f64),
}

impl Window {
    /// The default window (mjj, 3300–3700 GeV within 2632–6000 GeV) with `features`.
    pub fn new(features: &[&str]) -> Self {
        Self {
            mass: "mjj".into(),
            features: features.iter().map(|f| f.to_string()).collect(),
            signal_region: (3300.0, 3700.0),
            range: (2632.0, 6000.0),
        }
    }

    /// The bin edges [range low, SR low, SR high, range high] (bin 1 is the signal region),
    /// after checking that features are named and the signal region lies strictly inside
    /// the range.
    pub fn edges(&self) -> Result<[f64; 4]> {
        if self.features.is_empty() {
            return Err(Error::invalid(
                "features",
                "name at least one feature column",
            ));
        }
        let (lo, hi) = self.range;
        let (sr_lo, sr_hi) = self.signal_region;
        if !(lo < sr_lo && sr_lo < sr_hi && sr_hi < hi) {
            return Err(Error::invalid(
                "signal_region",
                format!(
                    "{sr_lo}–{sr_hi} must lie strictly inside the range {lo}–{hi}, with sidebands on both sides"
                ),
            ));
        }
        Ok([lo, sr_lo, sr_hi, hi])
    }

    /// "mjj: signal region 3300–3700 GeV within 2632–6000", for summaries and errors.
    pub fn describe(&self) -> String {
        format!(
            "{}: signal region {:.0}–{:.0} GeV within {:.0}–{:.0}",
            self.mass, self.signal_region.0, self.signal_region.1, self.range.0, self.range.1
        )
    }
}

/// The two validation windows of a background model's interpolation test: sideband slices
/// next to the signal region. A model trained on the sidebands outside
/// [`masked`](Self::masked) (the signal region and both windows) predicts the windows, which
/// hold no signal, so its error there measures how well it interpolates across a gap of the
/// signal region's kind (Andreassen et al. 2020 §6: the interpolation is the crux).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ValidationWindows {
    /// The window just below the signal region.
    pub lower: (f64, f64),
    /// The window just above the signal region.
    pub upper: (f64, f64),
}

impl ValidationWindows {
    /// The mass interval a validation training leaves out: from the lower window's low edge
    /// to the upper window's high edge.
    pub fn masked(&self) -> (f64, f64) {
        (self.lower.0, self.upper.1)
    }
}

impl Window {
    /// Validation windows `width` times the signal region's width on each side of it (0.5:
    /// half its width). Refused where `width` is not positive and finite, or where a window
    /// would reach the range's edge, leaving no sideband to train on outside it.
    pub fn validation_windows(&self, width: f64) -> Result<ValidationWindows> {
        let [lo, sr_lo, sr_hi, hi] = self.edges()?;
        if !(width.is_finite() && width > 0.0) {
            return Err(Error::invalid(
                "validation_width",
                format!("{width} must be a positive fraction of the signal region's width"),
            ));
        }
        let w = width * (sr_hi - sr_lo);
        let windows = ValidationWindows {
            lower: (sr_lo - w, sr_lo),
            upper: (sr_hi, sr_hi + w),
        };
        let (masked_lo, masked_hi) = windows.masked();
        if !(masked_lo > lo && masked_hi < hi) {
            return Err(Error::invalid(
                "validation_width",
                format!(
                    "windows {:.0}–{:.0} and {:.0}–{:.0} GeV leave no sideband inside the range {lo}–{hi}; narrow them or widen the range",
                    windows.lower.0, windows.lower.1, windows.upper.0, windows.upper.1
                ),
            ));
        }
        Ok(windows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_windows_flank_the_signal_region() {
        let w = Window::new(&["mj1"]);
        let v = w.validation_windows(0.5).unwrap();
        assert_eq!(v.lower, (3100.0, 3300.0));
        assert_eq!(v.upper, (3700.0, 3900.0));
        assert_eq!(v.masked(), (3100.0, 3900.0));
    }

    #[test]
    fn validation_windows_must_leave_sidebands() {
        let w = Window::new(&["mj1"]);
        // 2632 is 668 GeV below the signal region: 1.67 widths fit, 1.7 do not.
        assert!(w.validation_windows(1.6).is_ok());
        let err = w.validation_windows(1.7).unwrap_err().to_string();
        assert!(
            err.contains("validation_width") && err.contains("no sideband"),
            "{err}"
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(w.validation_windows(bad).is_err(), "{bad}");
        }
    }
}
