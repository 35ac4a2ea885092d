//! How a [`LatentVae`] result is shown: a summary table (`Display`) with, when the events carry
//! truth labels, each score's AUC and significance improvement at ε_S = 0.5; the score
//! distributions; the validation KL per epoch (the KL-peak rule at work); the SIC curves.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use super::latent_vae::{LatentScore, LatentVae};
use crate::data::eventset::Role;
use crate::error::{Error, Result};
use crate::plot::{Curve, CurveOptions, HistOptions, RandomClassifier, plot_curves, plot_hists};
use crate::stats::hist::Hist1D;
use crate::stats::metrics::{Roc, roc};

/// Bins of the score histograms.
const SCORE_BINS: usize = 60;

/// How well one score separates truth-labelled signal from background.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TruthPerformance {
    /// The score.
    pub score: LatentScore,
    /// Area under the ROC curve.
    pub auc: f64,
    /// ε_S / sqrt(ε_B) at the first cut keeping at least half the signal (Bortolato et al. 2021 Fig. 4).
    pub sic_at_half: f64,
}

/// ε_S / sqrt(ε_B) at the tightest cut that keeps at least `eps_s` of the signal.
pub fn sic_at(r: &Roc, eps_s: f64) -> f64 {
    r.eps_s
        .iter()
        .zip(&r.eps_b)
        .find(|&(&s, _)| s >= eps_s)
        .map_or(
            f64::NAN,
            |(&s, &b)| if b > 0.0 { s / b.sqrt() } else { f64::INFINITY },
        )
}

impl LatentVae {
    /// The truth labels of the training events, if they carry a label role with both classes.
    fn labels(&self) -> Option<Vec<f64>> {
        let labels = self.events.role_values(Role::Label).ok()?;
        let signal = labels.iter().filter(|&&l| l > 0.5).count();
        (signal > 0 && signal < labels.len()).then_some(labels)
    }

    /// Per score kind, the separation of the truth classes; `None` without truth labels (or
    /// with one class only).
    pub fn truth_performance(&self) -> Option<Vec<TruthPerformance>> {
        let labels = self.labels()?;
        LatentScore::ALL
            .iter()
            .map(|&kind| {
                let r = roc(self.scores.of(kind), &labels, None).ok()?;
                Some(TruthPerformance {
                    score: kind,
                    auc: r.auc(),
                    sic_at_half: sic_at(&r, 0.5),
                })
            })
            .collect()
    }

    /// Plots the distribution of the selected score to `path`: signal and background apart
    /// (each normalised) when the events carry truth labels, all events otherwise.
    pub fn plot(&self, path: &Path) -> Result<()> {
        let scores = self.selected_scores();
        let hi = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = scores.iter().copied().fold(f64::INFINITY, f64::min);
        let top = if hi > lo { hi } else { lo + 1.0 };
        let edges: Vec<f64> = (0..=SCORE_BINS)
            .map(|i| lo + (top - lo) * i as f64 / SCORE_BINS as f64)
            .collect();
        let fill = |keep: &dyn Fn(usize) -> bool| -> Result<Hist1D> {
            let v: Vec<f64> = (0..scores.len())
                .filter(|&i| keep(i))
                .map(|i| scores[i])
                .collect();
            Hist1D::fill(edges.clone(), &v, None)
        };
        let opts = HistOptions {
            title: "Latent-space VAE".into(),
            x_label: format!(
                "{} score (mean over {} runs)",
                self.score.name(),
                self.runs.len()
            ),
            y_label: "Fraction of events".into(),
            log_y: true,
            density: true,
            ..HistOptions::default()
        };
        match self.labels() {
            Some(labels) => {
                let background = fill(&|i| labels[i] < 0.5)?;
                let signal = fill(&|i| labels[i] > 0.5)?;
                plot_hists(
                    path,
                    &[("background", &background), ("signal", &signal)],
                    &opts,
                )
            }
            None => plot_hists(path, &[("events", &fill(&|_| true)?)], &opts),
        }
    }

    /// Plots every run's validation KL per epoch to `path`: it rises, peaks and falls, and the
    /// run keeps its peak.
    pub fn plot_training(&self, path: &Path) -> Result<()> {
        let curves: Vec<Curve> = self
            .runs
            .iter()
            .enumerate()
            .map(|(r, run)| {
                let kl = run.history.monitored();
                Curve {
                    label: format!("run {} (kept epoch {})", r + 1, run.history.best_epoch + 1),
                    x: (1..=kl.len()).map(|e| e as f64).collect(),
                    y: kl,
                }
            })
            .collect();
        plot_curves(
            path,
            &curves,
            &CurveOptions {
                title: "Validation KL per epoch".into(),
                x_label: "epoch".into(),
                y_label: self.runs[0].history.monitor.clone(),
                ..CurveOptions::default()
            },
        )
    }

    /// Plots the significance improvement ε_S/sqrt(ε_B) against ε_S of every score to `path`
    /// (needs truth labels).
    pub fn plot_sic(&self, path: &Path) -> Result<()> {
        let labels = self.labels().ok_or_else(|| {
            Error::invalid(
                "plot_sic",
                "the events carry no truth labels of both classes (set the label role)",
            )
        })?;
        let curves = LatentScore::ALL
            .iter()
            .map(|&kind| {
                let c = roc(self.scores.of(kind), &labels, None)?.sic_curve();
                Ok(Curve {
                    label: kind.name().into(),
                    x: c.eps_s,
                    y: c.sic,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        plot_curves(
            path,
            &curves,
            &CurveOptions {
                title: "Significance improvement".into(),
                x_label: "signal efficiency".into(),
                y_label: "ε_S / sqrt(ε_B)".into(),
                x_range: Some((0.0, 1.0)),
                diagonal: Some(RandomClassifier::Sic),
                ..CurveOptions::default()
            },
        )
    }
}

impl fmt::Display for LatentVae {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Latent-space VAE on {} events ({}), {} runs, {:.0} s; selections by the {} score",
            self.events.len(),
            self.features.join(", "),
            self.runs.len(),
            self.seconds,
            self.score.name()
        )?;
        writeln!(f, "  run  epochs  kept  val KL  stopped at the KL peak")?;
        for (r, run) in self.runs.iter().enumerate() {
            let kl = run.history.monitored();
            writeln!(
                f,
                "  {:>3}  {:>6}  {:>4}  {:>6.3}  {}",
                r + 1,
                kl.len(),
                run.history.best_epoch + 1,
                kl.get(run.history.best_epoch).copied().unwrap_or(f64::NAN),
                if run.stopped_at_peak {
                    "yes"
                } else {
                    "no (epoch limit)"
                }
            )?;
        }
        match self.truth_performance() {
            Some(perf) => {
                writeln!(f, "  truth labels: score    AUC  SIC at eps_S = 0.5")?;
                for p in perf {
                    writeln!(
                        f,
                        "  {:>19} {:>6.3} {:>7.2}",
                        p.score.name(),
                        p.auc,
                        p.sic_at_half
                    )?;
                }
                Ok(())
            }
            None => write!(f, "  (no truth labels of both classes: no AUC)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sic_at_takes_the_first_point_keeping_enough_signal() {
        let r = roc(&[4.0, 3.0, 2.0, 1.0], &[1.0, 0.0, 1.0, 0.0], None).unwrap();
        // Cuts: keep 1 (eps_s 0.5, eps_b 0), 2 (0.5, 0.5), 3 (1, 0.5), 4 (1, 1).
        assert_eq!(sic_at(&r, 0.5), f64::INFINITY);
        assert!((sic_at(&r, 0.75) - 1.0 / 0.5f64.sqrt()).abs() < 1e-12);
    }
}
