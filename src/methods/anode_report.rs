//! How an [`Anode`] result is shown: a summary table (`Display`), the density ratio of the
//! signal-region data against the background drawn from the sideband flow, the estimate in
//! the mass, and the flows' training curves.

use std::fmt;
use std::path::Path;

use super::anode::Anode;
use super::cwola_report::efficiency_label;
use super::estimate::{ROW_HEADER, untested_notes};
use super::estimate_report::{
    EstimateFigure, ScoredPart, mass_edges, plot_estimate_mass, plot_score_distributions,
};
use crate::error::Result;
use crate::plot::{Curve, CurveOptions, plot_curves};

impl fmt::Display for Anode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [sb, sr] = self.counts;
        writeln!(
            f,
            "ANODE in {}, {:.0} s",
            self.window.describe(),
            self.seconds
        )?;
        let last = |losses: &[f64]| losses.last().copied().unwrap_or(f64::NAN);
        writeln!(
            f,
            "  events: {sr} in the SR, {sb} in the sidebands; final NLL: sidebands {:.3}, SR {}; sideband density averaged over {} epochs",
            last(&self.sideband_loss),
            self.signal_region_loss
                .iter()
                .map(|l| format!("{:.3}", last(l)))
                .collect::<Vec<_>>()
                .join(" / "),
            self.averaged_epochs
        )?;
        writeln!(
            f,
            "  cut on R = p_data/p_bkg; background drawn from the sideband flow"
        )?;
        writeln!(f, "  {ROW_HEADER}")?;
        for e in &self.estimates {
            writeln!(f, "  {}", e.row())?;
        }
        self.systematics.write_table(f)?;
        for note in untested_notes(&self.estimates) {
            writeln!(f, "  {note}")?;
        }
        match self.global() {
            Some(g) => write!(
                f,
                "  most significant: {} data efficiency: {}; with the background model's systematic (what it does not cover: docs/anode.md)",
                efficiency_label(g.efficiency),
                g.summary()
            ),
            None => write!(
                f,
                "  no cut has a test (too few drawn events or no systematic; see above)"
            ),
        }
    }
}

/// The distribution of ln R for the signal-region data and for the background drawn from the
/// sideband flow (scaled to the data count), with their ratio: a signal is an excess at
/// large ln R.
pub fn plot_scores(anode: &Anode, path: &Path) -> Result<()> {
    plot_score_distributions(
        path,
        &anode.scores,
        &anode.background_scores,
        "background (sideband flow)",
        &format!(
            "ANODE: signal region {:.0}–{:.0} GeV",
            anode.window.signal_region.0, anode.window.signal_region.1
        ),
        "ln R = ln p_data(x|m) − ln p_bkg(x|m)",
    )
}

/// Bins of the mass figure in the signal region (the validation windows get bins of the same
/// width: two each at the default width of half a signal region).
const MASS_SR_BINS: usize = 4;

/// ANODE's background estimate in the mass, in the particle-physics convention: at each
/// tested efficiency the signal-region data passing the ln R cut as points and the events
/// drawn from the sideband flow at their masses, passing the same cut, as a line (normalised
/// to the data); beside the signal region, the validation windows' closure test (their data
/// against the validation flow's draws, each window test at its own cut keeping the same
/// fraction). Pulls below.
pub fn plot_mass(anode: &Anode, path: &Path) -> Result<()> {
    let column = anode.events.column(&anode.window.mass)?;
    let masses = |positions: &[usize]| positions.iter().map(|&p| column[p]).collect::<Vec<f64>>();
    let sr_mass = masses(&anode.positions);
    let mut parts = vec![ScoredPart {
        reference_mass: anode
            .background_events
            .iter()
            .map(|&i| sr_mass[i])
            .collect(),
        data_mass: sr_mass.clone(),
        data_score: anode.scores.clone(),
        reference_score: anode.background_scores.clone(),
        reference_weight: vec![1.0; anode.background_scores.len()],
        thresholds: anode.estimates.iter().map(|e| e.threshold).collect(),
    }];
    let (span, notes) = match (&anode.window_scores, &anode.systematics.windows) {
        (Some(w), Some(windows)) => {
            let window_mass = masses(&w.positions);
            parts.push(ScoredPart {
                reference_mass: (0..w.drawn.len())
                    .map(|i| window_mass[i % window_mass.len()])
                    .collect(),
                data_mass: window_mass,
                data_score: w.scores.clone(),
                reference_score: w.drawn.clone(),
                reference_weight: vec![1.0; w.drawn.len()],
                thresholds: anode
                    .systematics
                    .closure_tests
                    .iter()
                    .take(1)
                    .flat_map(|t| t.estimates.iter().map(|e| e.threshold))
                    .collect(),
            });
            (
                windows.masked(),
                vec![
                    "outside the signal region: the validation windows,".into(),
                    "predicted by a flow trained outside them".into(),
                ],
            )
        }
        _ => (anode.window.signal_region, Vec::new()),
    };
    let figure = EstimateFigure {
        title: format!("ANODE: {}", anode.window.describe()),
        mass: anode.window.mass.clone(),
        edges: mass_edges(anode.window.signal_region, span, MASS_SR_BINS)?,
        signal_region: anode.window.signal_region,
        efficiencies: anode.estimates.iter().map(|e| e.efficiency).collect(),
        reference: "sideband flow samples".into(),
        notes,
    };
    plot_estimate_mass(path, &figure, &parts)
}

/// The flows' mean negative log-likelihood per epoch, the averaged sideband epochs marked by
/// their count in the legend.
pub fn plot_losses(anode: &Anode, path: &Path) -> Result<()> {
    let epochs = |n: usize| (1..=n).map(|e| e as f64).collect::<Vec<_>>();
    let mut curves = vec![Curve {
        label: format!(
            "sideband flow (last {} epochs averaged)",
            anode.averaged_epochs
        ),
        x: epochs(anode.sideband_loss.len()),
        y: anode.sideband_loss.clone(),
    }];
    for (k, losses) in anode.signal_region_loss.iter().enumerate() {
        curves.push(Curve {
            label: format!("signal-region flow {}", k + 1),
            x: epochs(losses.len()),
            y: losses.clone(),
        });
    }
    let opts = CurveOptions {
        title: "ANODE: training of the flows".into(),
        x_label: "epoch".into(),
        y_label: "negative log-likelihood per event".into(),
        ..CurveOptions::default()
    };
    plot_curves(path, &curves, &opts)
}
