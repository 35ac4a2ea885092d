//! How a [`RareAndDifferent`] result is shown: a summary (members, training, correlations)
//! and the heat map of the members' correlation matrix.

use std::fmt;
use std::path::Path;

use super::rare_and_different::RareAndDifferent;
use crate::error::Result;
use crate::plot::{HeatmapOptions, plot_heatmap};
use crate::stats::hist::Hist2D;

impl fmt::Display for RareAndDifferent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [svdd_s, flow_s, total_s] = self.seconds;
        writeln!(
            f,
            "Rare and different: {} Deep SVDD members ({}) + flow, {} training / {} test events, {:.0} s (SVDD {:.0} s, flow {:.0} s)",
            self.members.len(),
            self.svdd_combination,
            self.counts[0],
            self.counts[1],
            total_s,
            svdd_s,
            flow_s
        )?;
        writeln!(
            f,
            "  inputs: Deep SVDD vector {} wide, flow encoding {} wide (dequantised)",
            self.widths[0], self.widths[1]
        )?;
        writeln!(
            f,
            "  {:<4} {:<16} {:>5} {:>6} {:>7} {:>10}",
            "#", "member", "d", "n", "epochs", "val loss"
        )?;
        for (i, m) in self.members.iter().enumerate() {
            writeln!(
                f,
                "  {:<4} {:<16} {:>5} {:>6} {:>7} {:>10.4}",
                i, m.name, m.dim, m.target, m.epochs, m.val_loss
            )?;
        }
        writeln!(
            f,
            "  flow: {} epochs, validation NLL {:.3}, training log p in [{:.2}, {:.2}]",
            self.flow_epochs, self.flow_val_loss, self.log_p_range.0, self.log_p_range.1
        )?;
        if let Some((mean, min, max)) = self.member_correlation_spread() {
            writeln!(
                f,
                "  member correlations (Pearson, uniformised test scores): mean {mean:.3}, min {min:.3}, max {max:.3}"
            )?;
        }
        write!(
            f,
            "  ensemble vs flow correlation: {:.3}; scores: {}",
            self.ensemble_flow_correlation,
            self.scores
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| !n.starts_with("svdd_d"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The members' Pearson correlation matrix as a heat map to `path` (.png or .svg); the axes
/// count members in the order of the summary table. Undefined correlations (a constant
/// score) are drawn as 0.
pub fn plot_correlations(r: &RareAndDifferent, path: &Path) -> Result<()> {
    let m = r.members.len();
    let edges: Vec<f64> = (0..=m).map(|i| i as f64 - 0.5).collect();
    let counts: Vec<f64> = r
        .member_correlations
        .iter()
        .flatten()
        .map(|c| if c.is_finite() { *c } else { 0.0 })
        .collect();
    let h = Hist2D::from_counts(edges.clone(), edges, counts)?;
    plot_heatmap(
        path,
        &h,
        &HeatmapOptions {
            title: format!(
                "Deep SVDD members: correlation (ensemble vs flow {:.2})",
                r.ensemble_flow_correlation
            ),
            x_label: "member".into(),
            y_label: "member".into(),
            z_label: "Pearson correlation".into(),
            ..Default::default()
        },
    )
}
