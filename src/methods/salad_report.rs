//! How a [`Salad`] result is shown: a summary table (`Display`), the background-estimate
//! closure of Andreassen et al. 2020 Fig. 9, the reweighting closure of Figs. 4–7 and the estimate in the
//! mass.

use std::fmt;
use std::path::Path;

use super::cwola_report::efficiency_label;
use super::estimate::{ROW_HEADER, untested_notes};
use super::estimate_report::{EstimateFigure, ScoredPart, mass_edges, plot_estimate_mass};
use super::salad::{Group, Part, Salad};
use crate::data::eventset::EventSet;
use crate::error::{Error, Result};
use crate::plot::{Curve, CurveOptions, HistOptions, plot_curves, plot_hists};
use crate::stats::hist::Hist1D;

/// Bins of the closure histograms.
const CLOSURE_BINS: usize = 40;

impl fmt::Display for Salad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [d_sb, d_sr, s_sb, s_sr] = self.counts;
        writeln!(
            f,
            "SALAD in {}, {:.0} s",
            self.window.describe(),
            self.seconds
        )?;
        writeln!(
            f,
            "  events: data {d_sr} in the SR, {d_sb} in the sidebands; simulation {s_sr} / {s_sb}"
        )?;
        writeln!(
            f,
            "  DCTR: hold-out loss {:.4}; Σw of the SR simulation / SR data = {:.4}",
            self.dctr_loss, self.normalisation
        )?;
        match (&self.validation_windows, &self.validation_untested) {
            (Some(v), None) => {
                let [dl, du, sl, su] = self.validation_counts;
                writeln!(
                    f,
                    "  validation windows {:.0}–{:.0} and {:.0}–{:.0} GeV (data {dl} / {du}, simulation {sl} / {su}): DCTR trained outside {:.0}–{:.0}, hold-out loss {:.4}",
                    v.lower.0,
                    v.lower.1,
                    v.upper.0,
                    v.upper.1,
                    v.masked().0,
                    v.masked().1,
                    self.validation_dctr_loss
                )?;
            }
            (_, Some(why)) => writeln!(f, "  interpolation not tested: {why}")?,
            (None, None) => {}
        }
        writeln!(
            f,
            "  {ROW_HEADER}   SB hold-out pred/obs   val. windows pred/obs   syst: SB  VW   without DCTR"
        )?;
        for ((r, u), sys) in self
            .reweighted
            .estimates
            .iter()
            .zip(&self.unweighted.estimates)
            .zip(&self.reweighted.systematics)
        {
            let windows = match &sys.windows {
                Some([l, h]) => format!("{:.3}, {:.3}", l.ratio, h.ratio),
                None => "n/a".into(),
            };
            writeln!(
                f,
                "  {}  {:>7.3} ± {:<6.3}  {:>22}  {:>5}  {:>5}  {:>7.3} ± {:<6.3}",
                r.row(),
                sys.holdout.ratio,
                sys.holdout.error,
                windows,
                percent(sys.holdout_part),
                percent(sys.validation_part),
                u.efficiency_ratio,
                u.efficiency_ratio_error
            )?;
        }
        for note in untested_notes(&self.reweighted.estimates) {
            writeln!(f, "  {note}")?;
        }
        writeln!(
            f,
            "  syst. = SB (non-closure of the same cut on the sideband hold-out, never trained or early-stopped on) ⊕ VW (larger non-closure in the validation windows, DCTR trained outside them), each ⊕ its statistical error"
        )?;
        match self.global() {
            Some(g) => write!(
                f,
                "  most significant: {} data efficiency: {}",
                efficiency_label(g.efficiency),
                g.summary()
            ),
            None => write!(
                f,
                "  no estimate has the statistics and the systematic for a test"
            ),
        }
    }
}

/// A relative uncertainty as "12%" ("n/a" when missing).
fn percent(part: Option<f64>) -> String {
    part.map_or("n/a".into(), |p| format!("{:.0}%", p * 100.0))
}

/// Seed 004 Fig. 9: predicted over observed signal-region efficiency against the data
/// efficiency, with DCTR reweighting and without, each with the outline of its ±1σ band.
pub fn plot_closure_estimate(salad: &Salad, path: &Path) -> Result<()> {
    let mut curves = Vec::new();
    for (label, chain) in [
        ("SALAD (DCTR)", &salad.reweighted),
        ("no reweighting", &salad.unweighted),
    ] {
        let x: Vec<f64> = chain.estimates.iter().map(|e| e.efficiency).collect();
        let pick = |sign: f64| -> Vec<f64> {
            chain
                .estimates
                .iter()
                .map(|e| e.efficiency_ratio + sign * e.efficiency_ratio_error)
                .collect()
        };
        curves.push(Curve {
            label: label.into(),
            x: x.clone(),
            y: pick(0.0),
        });
        // The ±1σ band's outline as one line: along the upper edge, back along the lower.
        let mut band_x = x.clone();
        band_x.extend(x.iter().rev());
        let mut band_y = pick(1.0);
        band_y.extend(pick(-1.0).into_iter().rev());
        curves.push(Curve {
            label: format!("{label} ±1σ (stat.)"),
            x: band_x,
            y: band_y,
        });
    }
    let opts = CurveOptions {
        title: format!(
            "SALAD background estimate in {:.0}–{:.0} GeV",
            salad.window.signal_region.0, salad.window.signal_region.1
        ),
        x_label: "data efficiency".into(),
        y_label: "predicted / observed efficiency".into(),
        log_x: true,
        ..CurveOptions::default()
    };
    plot_curves(path, &curves, &opts)
}

/// Seed 004 Figs. 4–7: the distribution of `what` — a feature, or "dctr" for the DCTR
/// classifier's output — for data, simulation and DCTR-reweighted simulation in the sideband
/// closure hold-out or the signal region, unit-normalised, with the data / reweighted ratio.
pub fn plot_reweighting(salad: &Salad, what: &str, part: Part, path: &Path) -> Result<()> {
    let (data_group, sim_group, where_) = match part {
        Part::Sidebands => (
            &salad.groups[0],
            &salad.groups[1],
            "sidebands (closure hold-out)",
        ),
        Part::SignalRegion => (&salad.groups[2], &salad.groups[3], "signal region"),
    };
    let values = |events: &EventSet, group: &Group| -> Result<Vec<f64>> {
        if what == "dctr" {
            return Ok(group.dctr.clone());
        }
        if !salad.window.features.iter().any(|f| f == what) {
            return Err(Error::invalid(
                "feature",
                format!(
                    "'{what}' is not one of SALAD's features {:?} (or \"dctr\")",
                    salad.window.features
                ),
            ));
        }
        group_column(events, group, what)
    };
    let data = values(&salad.data, data_group)?;
    let sim = values(&salad.sim, sim_group)?;
    let weights = sim_group.weights();
    let edges = closure_edges(&data, what == "dctr")?;
    let h_data = Hist1D::fill(edges.clone(), &data, None)?;
    let h_rew = Hist1D::fill(edges.clone(), &sim, Some(&weights))?;
    let h_sim = Hist1D::fill(edges, &sim, None)?;
    let label = if what == "dctr" {
        "DCTR output f(x, m)".to_string()
    } else {
        what.to_string()
    };
    let opts = HistOptions {
        title: format!("SALAD reweighting closure: {where_}"),
        x_label: label,
        y_label: "normalised".into(),
        density: true,
        data: Some(0),
        ratio: true,
        ..HistOptions::default()
    };
    plot_hists(
        path,
        &[
            ("data", &h_data),
            ("simulation + DCTR", &h_rew),
            ("simulation", &h_sim),
        ],
        &opts,
    )
}

/// Bins of the mass figure in the signal region (the sidebands get bins of the same width).
const MASS_SR_BINS: usize = 4;

/// SALAD's background estimate in the mass, in the particle-physics convention: at each
/// tested efficiency the signal-region data passing the classifier's cut as points, the
/// DCTR-reweighted simulation passing it (normalised to the signal-region data) as a line,
/// and in the sidebands the same cut on the closure hold-out (its simulation normalised to
/// its data): the closure behind the systematic, bin by bin. Pulls below.
pub fn plot_mass(salad: &Salad, path: &Path) -> Result<()> {
    let mass = |events: &EventSet, group: &Group| group_column(events, group, &salad.window.mass);
    let chain = &salad.reweighted;
    let thresholds: Vec<f64> = chain.estimates.iter().map(|e| e.threshold).collect();
    let holdout = ScoredPart {
        data_mass: mass(&salad.data, &salad.groups[0])?,
        data_score: chain.holdout_scores[0].clone(),
        reference_mass: mass(&salad.sim, &salad.groups[1])?,
        reference_score: chain.holdout_scores[1].clone(),
        reference_weight: salad.groups[1].weights(),
        thresholds: thresholds.clone(),
    };
    let signal_region = ScoredPart {
        data_mass: mass(&salad.data, &salad.groups[2])?,
        data_score: chain.data_scores.clone(),
        reference_mass: mass(&salad.sim, &salad.groups[3])?,
        reference_score: chain.sim_scores.clone(),
        reference_weight: chain.sim_weights.clone(),
        thresholds,
    };
    let figure = EstimateFigure {
        title: format!("SALAD: {}", salad.window.describe()),
        mass: salad.window.mass.clone(),
        edges: mass_edges(salad.window.signal_region, salad.window.range, MASS_SR_BINS)?,
        signal_region: salad.window.signal_region,
        efficiencies: chain.estimates.iter().map(|e| e.efficiency).collect(),
        reference: "simulation + DCTR".into(),
        notes: vec![
            "sidebands: the closure hold-out only".into(),
            "(never trained or early-stopped on)".into(),
        ],
    };
    plot_estimate_mass(path, &figure, &[holdout, signal_region])
}

/// Column `name` of `events` at the positions of `group`.
fn group_column(events: &EventSet, group: &Group, name: &str) -> Result<Vec<f64>> {
    let column = events.column(name)?;
    Ok(group.positions.iter().map(|&p| column[p]).collect())
}

/// Bin edges over the 0.5–99.5 % quantiles of `values` ([0, 1] for a probability).
fn closure_edges(values: &[f64], probability: bool) -> Result<Vec<f64>> {
    let (lo, hi) = if probability {
        (0.0, 1.0)
    } else {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return Err(Error::invalid("feature", "no finite values to histogram"));
        }
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        let (lo, hi) = (at(0.005), at(0.995));
        if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        }
    };
    Ok((0..=CLOSURE_BINS)
        .map(|i| lo + (hi - lo) * i as f64 / CLOSURE_BINS as f64)
        .collect())
}
