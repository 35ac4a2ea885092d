//! Signal regions and sidebands sliding over a binned resonant variable (LHC Olympics 2020 §4.1):
//! a signal region is `sr_bins` adjacent bins, its sidebands the `sb_bins` bins on each side,
//! and the region slides one bin at a time from the first position where both sidebands fit to
//! the last.

use serde::Serialize;

use crate::data::binning::check_edges;
use crate::error::{Error, Result};

/// Where an event of a region's neighbourhood lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The lower sideband.
    Lower,
    /// The signal region.
    Signal,
    /// The upper sideband.
    Upper,
}

/// One signal region with its two sidebands, as bin ranges of the hunt's edges.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Region {
    /// Position in the scan (0 for the lowest region).
    pub index: usize,
    /// The first bin of the lower sideband.
    pub first_bin: usize,
    /// Bins per sideband.
    pub sb_bins: usize,
    /// Bins in the signal region.
    pub sr_bins: usize,
    /// The signal region's lower edge.
    pub lo: f64,
    /// The signal region's upper edge.
    pub hi: f64,
    /// The lower edge of the lower sideband.
    pub sb_lo: f64,
    /// The upper edge of the upper sideband.
    pub sb_hi: f64,
}

impl Region {
    /// The signal region's centre: the geometric mean of its edges (the bins are usually
    /// log-spaced).
    pub fn centre(&self) -> f64 {
        (self.lo * self.hi).sqrt()
    }

    /// Where an event in `bin` falls: a sideband, the signal region, or neither (`None`).
    pub fn side(&self, bin: usize) -> Option<Side> {
        let sr = self.first_bin + self.sb_bins;
        let upper = sr + self.sr_bins;
        if bin < self.first_bin || bin >= upper + self.sb_bins {
            None
        } else if bin < sr {
            Some(Side::Lower)
        } else if bin < upper {
            Some(Side::Signal)
        } else {
            Some(Side::Upper)
        }
    }

    /// "3480–3860 GeV"-style text for the signal region.
    pub fn label(&self) -> String {
        format!("{:.0}–{:.0}", self.lo, self.hi)
    }
}

/// Every signal region of `sr_bins` bins with `sb_bins`-bin sidebands that fits in `edges`:
/// `bins - sr_bins - 2 sb_bins + 1` of them (LHCO: 16 bins, 3 + 2 × 2 gives 10).
pub fn sliding_regions(edges: &[f64], sr_bins: usize, sb_bins: usize) -> Result<Vec<Region>> {
    check_edges(edges)?;
    if sr_bins == 0 || sb_bins == 0 {
        return Err(Error::invalid(
            "sr_bins/sb_bins",
            "a signal region and each sideband need at least one bin",
        ));
    }
    let bins = edges.len() - 1;
    let span = sr_bins + 2 * sb_bins;
    if span > bins {
        return Err(Error::invalid(
            "bins",
            format!(
                "{bins} bins cannot hold a signal region of {sr_bins} bins with {sb_bins}-bin sidebands on both sides ({span} bins)"
            ),
        ));
    }
    Ok((0..=bins - span)
        .map(|first| Region {
            index: first,
            first_bin: first,
            sb_bins,
            sr_bins,
            lo: edges[first + sb_bins],
            hi: edges[first + sb_bins + sr_bins],
            sb_lo: edges[first],
            sb_hi: edges[first + span],
        })
        .collect())
}

/// Per-event training weights of CWoLa (LHC Olympics 2020 §4.1): signal-region events weigh 1, and each
/// sideband is weighted so that the two sidebands have equal total weight and together the
/// signal region's. `counts` are the events in (lower, signal, upper); an empty one is an
/// error naming the region.
pub fn cwola_weights(region: &Region, counts: [usize; 3]) -> Result<[f64; 3]> {
    for (count, what) in counts
        .iter()
        .zip(["lower sideband", "signal region", "upper sideband"])
    {
        if *count == 0 {
            return Err(Error::invalid(
                "regions",
                format!(
                    "the {what} of signal region {} ({} GeV) has no events; use fewer or wider bins, or a range with data",
                    region.index,
                    region.label()
                ),
            ));
        }
    }
    let sr = counts[1] as f64;
    Ok([
        sr / (2.0 * counts[0] as f64),
        1.0,
        sr / (2.0 * counts[2] as f64),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::binning::log_bins;

    #[test]
    fn the_lhco_layout_has_ten_regions_centred_on_bins_4_to_13() {
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let regions = sliding_regions(&edges, 3, 2).unwrap();
        assert_eq!(regions.len(), 10);
        // 1-based bin 4 is the centre of the first signal region, bin 13 of the last.
        assert_eq!(regions[0].lo, edges[2]);
        assert_eq!(regions[0].hi, edges[5]);
        assert_eq!(regions[9].lo, edges[11]);
        assert_eq!(regions[9].sb_hi, edges[16]);
        assert_eq!(regions[0].sb_lo, edges[0]);
        let r = &regions[3];
        let sides: Vec<_> = (0..16).map(|b| r.side(b)).collect();
        assert_eq!(sides[2], None);
        assert_eq!(sides[3], Some(Side::Lower));
        assert_eq!(sides[4], Some(Side::Lower));
        assert_eq!(sides[5], Some(Side::Signal));
        assert_eq!(sides[7], Some(Side::Signal));
        assert_eq!(sides[8], Some(Side::Upper));
        assert_eq!(sides[9], Some(Side::Upper));
        assert_eq!(sides[10], None);
        assert!((r.centre() - (r.lo * r.hi).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn too_few_bins_and_empty_bins_are_errors() {
        let edges = log_bins(3000.0, 4000.0, 6).unwrap();
        let err = sliding_regions(&edges, 3, 2).unwrap_err().to_string();
        assert!(err.contains("6 bins cannot hold"), "{err}");
        assert!(sliding_regions(&edges, 0, 1).is_err());
        let regions = sliding_regions(&edges, 2, 2).unwrap();
        assert_eq!(regions.len(), 1);
        let err = cwola_weights(&regions[0], [10, 5, 0])
            .unwrap_err()
            .to_string();
        assert!(err.contains("upper sideband of signal region 0"), "{err}");
    }

    #[test]
    fn sidebands_weigh_half_the_signal_region_each() {
        let edges = log_bins(3000.0, 4000.0, 5).unwrap();
        let region = &sliding_regions(&edges, 3, 1).unwrap()[0];
        let counts = [400, 100, 250];
        let w = cwola_weights(region, counts).unwrap();
        assert!((w[0] * 400.0 - 50.0).abs() < 1e-9);
        assert!((w[2] * 250.0 - 50.0).abs() < 1e-9);
        assert_eq!(w[1], 1.0);
    }
}
