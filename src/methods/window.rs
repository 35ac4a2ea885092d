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
