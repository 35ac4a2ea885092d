//! The readable summaries (`Display`) of the BumpHunter results.

use super::injection::InjectionResult;
use super::options::Mode;
use super::result::BumpHunterResult;
use super::scan2d::BumpHunter2DResult;

impl std::fmt::Display for BumpHunterResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.mode {
            Mode::Excess => "excess",
            Mode::Deficit => "deficit",
        };
        writeln!(
            f,
            "BumpHunter ({mode}): {} windows scanned",
            self.windows_tested
        )?;
        writeln!(
            f,
            "  window        [{}, {}]  (bins {}..{}, width {})",
            self.window_edges.0,
            self.window_edges.1,
            self.start,
            self.start + self.width,
            self.width
        )?;
        writeln!(
            f,
            "  data / ref    {:.1} / {:.2}  (signal estimate {:.1})",
            self.n_data, self.n_reference, self.signal
        )?;
        writeln!(
            f,
            "  local         p = {:.4e}   Z = {:.3}",
            self.local_p, self.local_z
        )?;
        let z = global_z_text(self.global_z, self.global_z_is_lower_limit);
        write!(
            f,
            "  global        p = {:.4} +- {:.4}   Z = {z}  ({} of {} pseudo-experiments at least as extreme)",
            self.global_p, self.global_p_error, self.n_extreme, self.npe
        )?;
        if let Some(r) = &self.refit {
            write!(
                f,
                "\n  reference     refitted in every pseudo-experiment: {} (data: {})",
                r.model, r.function
            )?;
            if r.chosen.len() > 1 {
                let counts: Vec<String> = r
                    .chosen
                    .iter()
                    .map(|(function, n)| format!("{function} {n}"))
                    .collect();
                write!(f, "\n  refit choices {}", counts.join(", "))?;
            }
            if r.n_failed > 0 {
                write!(
                    f,
                    "\n  failed refits {} of {}, counted as extreme above (among the rest p = {:.4}); first: {}",
                    r.n_failed,
                    self.npe,
                    r.global_p_converged,
                    r.first_failure.as_deref().unwrap_or("")
                )?;
            }
        }
        Ok(())
    }
}

/// A global significance for a summary, marked `>=` when it is only a lower limit (no
/// pseudo-experiment was as extreme as the data).
fn global_z_text(z: f64, lower_limit: bool) -> String {
    if lower_limit {
        format!(">= {z:.3}")
    } else {
        format!("{z:.3}")
    }
}

impl std::fmt::Display for BumpHunter2DResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "BumpHunter 2D: {} windows scanned", self.windows_tested)?;
        writeln!(
            f,
            "  window  x [{}, {}]  y [{}, {}]",
            self.x_edges.0, self.x_edges.1, self.y_edges.0, self.y_edges.1
        )?;
        writeln!(
            f,
            "  data / ref  {:.1} / {:.2}  (signal estimate {:.1})",
            self.n_data, self.n_reference, self.signal
        )?;
        writeln!(
            f,
            "  local   p = {:.4e}   Z = {:.3}",
            self.local_p, self.local_z
        )?;
        let z = global_z_text(self.global_z, self.n_extreme == 0);
        write!(
            f,
            "  global  p = {:.4}   Z = {z}  ({} of {} pseudo-experiments at least as extreme)",
            self.global_p, self.n_extreme, self.npe
        )
    }
}

impl std::fmt::Display for InjectionResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Signal injection (target {} sigma)", self.sigma_limit)?;
        writeln!(
            f,
            "{:>9} {:>10} {:>10} {:>18} {:>10} {:>8}",
            "strength", "signal", "median t", "t 16-84%", "global p", "Z"
        )?;
        for p in &self.points {
            writeln!(
                f,
                "{:>9} {:>10.1} {:>10.3} {:>8.3} - {:>7.3} {:>10.4} {:>8.3}",
                p.strength,
                p.signal_events,
                p.median_t,
                p.band_t.0,
                p.band_t.1,
                p.global_p,
                p.global_z
            )?;
        }
        match self.strength_needed {
            Some(mu) => write!(f, "strength needed for {} sigma: {mu}", self.sigma_limit),
            None => write!(
                f,
                "{} sigma not reached with the strengths tried",
                self.sigma_limit
            ),
        }
    }
}
