//! The mass figure of a cut-and-count background estimate (SALAD's reweighted simulation,
//! ANODE's flow samples): at each tested efficiency, the data passing the cut as points with
//! Poisson error bars and the weighted reference passing it as a line, normalised as the
//! estimate normalises it, bin by bin in the mass, with pulls below. Where the prediction is
//! checked outside the signal region (a sideband hold-out, validation windows), those events
//! are shown beside it, so a reader sees the closure that the systematic comes from.

use std::path::Path;

use super::cwola_report::efficiency_label;
use crate::error::{Error, Result};
use crate::plot::{HistOptions, Spectrum, SpectrumOptions, plot_hists, plot_spectrum};
use crate::stats::hist::Hist1D;

/// Events of one mass interval that a cut-and-count estimate scored: the data and the
/// weighted reference sample, each event with its mass and score.
#[derive(Clone, Debug)]
pub struct ScoredPart {
    /// The data events' masses.
    pub data_mass: Vec<f64>,
    /// Their scores.
    pub data_score: Vec<f64>,
    /// The reference events' masses.
    pub reference_mass: Vec<f64>,
    /// Their scores.
    pub reference_score: Vec<f64>,
    /// Their weights (normalised here to the part's data count, as the estimate does).
    pub reference_weight: Vec<f64>,
    /// The cut `score >= threshold` applied in this part, one per efficiency of the figure.
    pub thresholds: Vec<f64>,
}

/// What an estimate's mass figure shows besides its parts.
#[derive(Clone, Debug)]
pub struct EstimateFigure {
    /// Title above the plot.
    pub title: String,
    /// The mass column's name (the x label adds " [GeV]").
    pub mass: String,
    /// The bin edges (see [`mass_edges`]).
    pub edges: Vec<f64>,
    /// The signal region, shaded.
    pub signal_region: (f64, f64),
    /// The data efficiencies, in the order of each part's thresholds.
    pub efficiencies: Vec<f64>,
    /// What the line is ("reweighted simulation", "flow samples").
    pub reference: String,
    /// Lines below the legend (which events are shown where).
    pub notes: Vec<String>,
}

/// Bin edges with `sr_bins` equal bins in the signal region and bins of the same width
/// outward to `span`; an end piece narrower than half a bin joins its neighbour.
pub fn mass_edges(signal_region: (f64, f64), span: (f64, f64), sr_bins: usize) -> Result<Vec<f64>> {
    let (lo, hi) = signal_region;
    if sr_bins == 0 || !(span.0 <= lo && lo < hi && hi <= span.1) {
        return Err(Error::invalid(
            "signal_region",
            format!(
                "{lo}–{hi} with {sr_bins} bins does not lie inside {}–{}",
                span.0, span.1
            ),
        ));
    }
    let width = (hi - lo) / sr_bins as f64;
    // From an edge outward to `end` in steps of `width`, the last piece merged if small.
    let outward = |from: f64, end: f64| -> Vec<f64> {
        let bins = (end - from).abs() / width;
        let (full, piece) = (bins.floor(), bins - bins.floor());
        let sign = (end - from).signum();
        let mut edges: Vec<f64> = (1..=full as usize)
            .map(|k| from + sign * width * k as f64)
            .collect();
        // The last edge is `end` itself: after a whole number of bins it replaces the last
        // step, a small piece widens the last bin, a larger one is a bin of its own.
        if piece < 1e-9 || (piece < 0.5 && !edges.is_empty()) {
            edges.pop();
        }
        if bins > 0.0 {
            edges.push(end);
        }
        edges
    };
    let mut edges: Vec<f64> = outward(lo, span.0).into_iter().rev().collect();
    edges.extend((0..=sr_bins).map(|k| lo + width * k as f64));
    edges.extend(outward(hi, span.1));
    Ok(edges)
}

/// Draws the estimate's mass figure to `path`: "no selection" and one spectrum per
/// efficiency, the data of every part together as points and the reference events passing
/// the same cuts, each part's reference normalised to that part's data count, as the line
/// in the same colour (one legend entry per selection; a note says what the lines are).
///
/// Errors: a part whose lists disagree in length, a bad path (from the plot).
pub fn plot_estimate_mass(
    path: &Path,
    figure: &EstimateFigure,
    parts: &[ScoredPart],
) -> Result<()> {
    // One legend entry per selection: the line's meaning is said once.
    let mut notes = vec![format!("points: data; lines: {}", figure.reference)];
    notes.extend(figure.notes.iter().cloned());
    let opts = SpectrumOptions {
        title: figure.title.clone(),
        x_label: format!("{} [GeV]", figure.mass),
        signal_region: Some(figure.signal_region),
        notes,
        ..SpectrumOptions::default()
    };
    plot_spectrum(path, &spectra(figure, parts)?, &opts)
}

/// The figure's spectra: data and normalised reference passing no cut, then each
/// efficiency's cut.
fn spectra(figure: &EstimateFigure, parts: &[ScoredPart]) -> Result<Vec<Spectrum>> {
    for part in parts {
        if part.data_mass.len() != part.data_score.len()
            || part.reference_mass.len() != part.reference_score.len()
            || part.reference_mass.len() != part.reference_weight.len()
            || part.thresholds.len() != figure.efficiencies.len()
        {
            return Err(Error::invalid(
                "estimate figure",
                "a part's masses, scores, weights and thresholds disagree in length",
            ));
        }
    }
    let cuts = std::iter::once(None).chain((0..figure.efficiencies.len()).map(Some));
    let mut spectra = Vec::new();
    for cut in cuts {
        // Every part's events passing its own cut, the reference weighted to the part's data.
        let (mut data, mut reference, mut weights) = (Vec::new(), Vec::new(), Vec::new());
        for part in parts {
            let threshold = cut.map_or(f64::NEG_INFINITY, |i| part.thresholds[i]);
            let passes = |(&m, &s): (&f64, &f64)| (s >= threshold).then_some(m);
            data.extend(
                part.data_mass
                    .iter()
                    .zip(&part.data_score)
                    .filter_map(passes),
            );
            let total: f64 = part.reference_weight.iter().sum();
            if total > 0.0 {
                let scale = part.data_mass.len() as f64 / total;
                for ((&m, &s), &w) in part
                    .reference_mass
                    .iter()
                    .zip(&part.reference_score)
                    .zip(&part.reference_weight)
                {
                    if s >= threshold {
                        reference.push(m);
                        weights.push(w * scale);
                    }
                }
            }
        }
        let label = match cut {
            None => "no selection".to_string(),
            Some(i) => format!("ε = {}", efficiency_label(figure.efficiencies[i])),
        };
        spectra.push(Spectrum {
            fit_label: String::new(),
            label,
            data: Hist1D::fill(figure.edges.clone(), &data, None)?,
            fit: Some(Hist1D::fill(
                figure.edges.clone(),
                &reference,
                Some(&weights),
            )?),
            poor_fit: false,
        });
    }
    Ok(spectra)
}

/// Bins of a score histogram.
const SCORE_BINS: usize = 50;

/// The distribution of a search's `scores` for the signal-region data and for the background
/// model's `reference` events (`reference_label`, scaled to the data count) with their ratio,
/// on a log scale: a signal is an excess at high scores.
pub fn plot_score_distributions(
    path: &Path,
    scores: &[f64],
    reference: &[f64],
    reference_label: &str,
    title: &str,
    x_label: &str,
) -> Result<()> {
    let finite: Vec<f64> = scores
        .iter()
        .chain(reference)
        .copied()
        .filter(|s| s.is_finite())
        .collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !(lo < hi) {
        return Err(Error::invalid(
            "scores",
            "no spread of finite scores to histogram",
        ));
    }
    let edges: Vec<f64> = (0..=SCORE_BINS)
        .map(|i| lo + (hi - lo) * i as f64 / SCORE_BINS as f64)
        .collect();
    let data = Hist1D::fill(edges.clone(), scores, None)?;
    let scale = scores.len() as f64 / reference.len() as f64;
    let weights = vec![scale; reference.len()];
    let background = Hist1D::fill(edges, reference, Some(&weights))?;
    let opts = HistOptions {
        title: title.into(),
        x_label: x_label.into(),
        y_label: "events".into(),
        log_y: true,
        data: Some(0),
        ratio: true,
        ..HistOptions::default()
    };
    plot_hists(
        path,
        &[
            ("signal-region data", &data),
            (reference_label, &background),
        ],
        &opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_split_the_signal_region_and_reach_the_span() {
        let e = mass_edges((3300.0, 3700.0), (3100.0, 3900.0), 4).unwrap();
        assert_eq!(
            e,
            vec![
                3100.0, 3200.0, 3300.0, 3400.0, 3500.0, 3600.0, 3700.0, 3800.0, 3900.0
            ]
        );
        // 2632 is 6.68 bins below 3300: the 0.68 piece is its own bin; 6000 is 23 bins above
        // 3700 exactly.
        let e = mass_edges((3300.0, 3700.0), (2632.0, 6000.0), 4).unwrap();
        assert_eq!(e[0], 2632.0);
        assert_eq!(e[1], 2700.0);
        assert_eq!(*e.last().unwrap(), 6000.0);
        assert_eq!(e.len(), 7 + 4 + 23 + 1);
        // A piece under half a bin joins its neighbour.
        let e = mass_edges((3300.0, 3700.0), (3080.0, 3700.0), 4).unwrap();
        assert_eq!(&e[..3], &[3080.0, 3200.0, 3300.0]);
        assert!(e.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(*e.last().unwrap(), 3700.0);
        assert!(mass_edges((3300.0, 3700.0), (3400.0, 3900.0), 4).is_err());
        assert!(mass_edges((3300.0, 3700.0), (3100.0, 3900.0), 0).is_err());
    }

    #[test]
    fn the_line_is_the_reference_normalised_to_each_parts_data() {
        let dir = tempfile::tempdir().unwrap();
        let edges = vec![0.0, 1.0, 2.0, 3.0];
        // Part one: 4 data events in bin 0; reference weights sum to 2, so each counts double.
        let one = ScoredPart {
            data_mass: vec![0.5; 4],
            data_score: vec![0.0, 1.0, 2.0, 3.0],
            reference_mass: vec![0.5, 0.5],
            reference_score: vec![0.0, 3.0],
            reference_weight: vec![1.0, 1.0],
            thresholds: vec![2.5],
        };
        // Part two (bin 2): its own cut.
        let two = ScoredPart {
            data_mass: vec![2.5; 2],
            data_score: vec![5.0, 6.0],
            reference_mass: vec![2.5; 2],
            reference_score: vec![5.0, 6.0],
            reference_weight: vec![3.0, 1.0],
            thresholds: vec![5.5],
        };
        let figure = EstimateFigure {
            title: "t".into(),
            mass: "m".into(),
            edges: edges.clone(),
            signal_region: (1.0, 2.0),
            efficiencies: vec![0.5],
            reference: "samples".into(),
            notes: vec![],
        };
        let s = spectra(&figure, &[one.clone(), two.clone()]).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].label, "no selection");
        assert_eq!(s[0].data.counts(), &[4.0, 0.0, 2.0]);
        // Part one: weights sum to 2 for 4 data events (x2); part two: 4 for 2 (x0.5).
        assert_eq!(s[0].fit.as_ref().unwrap().counts(), &[4.0, 0.0, 2.0]);
        assert_eq!(s[1].data.counts(), &[1.0, 0.0, 1.0]);
        assert_eq!(s[1].fit.as_ref().unwrap().counts(), &[2.0, 0.0, 0.5]);
        let path = dir.path().join("m.png");
        plot_estimate_mass(&path, &figure, &[one.clone(), two]).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
        let bad = ScoredPart {
            thresholds: vec![],
            ..one
        };
        assert!(plot_estimate_mass(&path, &figure, &[bad]).is_err());
    }
}
