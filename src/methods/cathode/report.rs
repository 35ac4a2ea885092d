//! How a [`Cathode`] result is shown: a summary table (`Display`) and the classifier's scores
//! of the signal-region data against the samples'.

use std::fmt;
use std::path::Path;

use super::Cathode;
use crate::error::Result;
use crate::methods::cwola_report::efficiency_label;
use crate::methods::estimate::{ROW_HEADER, untested_notes};
use crate::methods::estimate_report::plot_score_distributions;

impl fmt::Display for Cathode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [sb, sr] = self.counts;
        writeln!(
            f,
            "CATHODE in {}, {:.0} s",
            self.window.describe(),
            self.seconds
        )?;
        writeln!(
            f,
            "  events: {sr} in the SR, {sb} in the sidebands; final sideband NLL {:.3}{}; {} samples per SR event from {} kept epochs ({})",
            self.sideband_loss.last().copied().unwrap_or(f64::NAN),
            match self.sideband_validation_loss.last() {
                Some(v) => format!(" (held out {v:.3})"),
                None => String::new(),
            },
            self.oversampling,
            self.sampled_epochs.len(),
            epoch_list(&self.sampled_epochs)
        )?;
        writeln!(
            f,
            "  cut on a k-fold classifier of SR data against samples of the sideband flow at their masses (out-of-sample AUC {:.3}; 0.5: indistinguishable); background: the samples passing it",
            self.data_vs_samples_auc
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
                "  most significant: {} data efficiency: {}; with the background model's systematic (docs/cathode.md; calibration: docs/calibration.md)",
                efficiency_label(g.efficiency),
                g.summary()
            ),
            None => write!(
                f,
                "  no cut has a test (too few samples pass or no systematic; see above)"
            ),
        }
    }
}

/// The classifier's out-of-sample scores of the signal-region data and of the samples
/// (scaled to the data count), with their ratio: a signal is an excess at high scores, a
/// mismodelled background an excess or deficit everywhere.
pub fn plot_scores(cathode: &Cathode, path: &Path) -> Result<()> {
    plot_score_distributions(
        path,
        &cathode.scores,
        &cathode.sample_scores,
        "background (sideband flow samples)",
        &format!(
            "CATHODE: signal region {:.0}–{:.0} GeV",
            cathode.window.signal_region.0, cathode.window.signal_region.1
        ),
        "classifier score (data against samples)",
    )
}

/// Epochs (0-based) as 1-based numbers, runs of consecutive ones as ranges: "31–40", "3, 7–9".
fn epoch_list(epochs: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &e in epochs {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == e => *end = e,
            _ => runs.push((e, e)),
        }
    }
    let runs: Vec<String> = runs
        .iter()
        .map(|&(a, b)| {
            if a == b {
                format!("{}", a + 1)
            } else {
                format!("{}–{}", a + 1, b + 1)
            }
        })
        .collect();
    format!(
        "epoch{} {}",
        if epochs.len() == 1 { "" } else { "s" },
        runs.join(", ")
    )
}
