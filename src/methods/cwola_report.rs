//! How a [`CwolaHunt`] is shown: a summary table (`Display`) and the two figures of LHC Olympics 2020
//! §4.1, the local p-value against the signal-region centre per efficiency (Fig. 34) and the
//! selected mass spectra of one region with their sideband fits (Fig. 35).

use std::fmt;
use std::path::Path;

use super::cwola::{CwolaHunt, RegionResult};
use super::estimate::MIN_REFERENCE_EVENTS;
use super::window_significance::WindowSignificance;
use crate::error::Result;
use crate::plot::{Curve, CurveOptions, Spectrum, SpectrumOptions, plot_curves, plot_spectrum};

/// "10%", "1%", "0.2%", "100%".
pub fn efficiency_label(eff: f64) -> String {
    format!("{}%", eff * 100.0)
}

fn cell(t: &WindowSignificance) -> String {
    if t.fit_error.is_some() {
        return format!("{:>6.0} / fit failed", t.observed);
    }
    if t.untested.is_some() {
        return format!(
            "{:>6.0} / {:>7.1} ± {:<5.1}   n/a",
            t.observed, t.expected, t.expected_error
        );
    }
    let mark = if t.poor_fit.is_some() { "!" } else { "" };
    format!(
        "{:>6.0} / {:>7.1} ± {:<5.1} {:>5.2}σ{mark}",
        t.observed, t.expected, t.expected_error, t.significance
    )
}

/// The chosen sideband fit of a test: function, χ²/ndf and its p-value.
fn fit_cell(t: &WindowSignificance) -> String {
    match t.fit() {
        Some(fit) => format!(
            "{:<6} {:>6.1}/{:<3} {:>7.3}",
            fit.function.name(),
            fit.chi2,
            fit.ndf,
            fit.chi2_pvalue
        ),
        None => "fit failed".into(),
    }
}

impl fmt::Display for CwolaHunt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} in {}: {} regions, {} events in {:.0}–{:.0}, {:.0} s",
            self.method,
            self.mass,
            self.regions.len(),
            self.events_in_range,
            self.edges[0],
            self.edges[self.edges.len() - 1],
            self.seconds
        )?;
        writeln!(f, "  {}", self.inputs)?;
        write!(f, "  {:<11} {:>9}", "SR", "val. eff")?;
        for label in std::iter::once("no cut".to_string())
            .chain(self.efficiencies.iter().map(|&e| efficiency_label(e)))
        {
            write!(f, "  {:<30}", format!("{label}: obs / exp ± err Z"))?;
        }
        writeln!(f)?;
        for r in &self.regions {
            let val = r.validation_efficiency.iter().sum::<f64>()
                / r.validation_efficiency.len().max(1) as f64;
            write!(f, "  {:<11} {:>9.4}", r.region.label(), val)?;
            for t in std::iter::once(&r.inclusive).chain(&r.tests) {
                write!(f, "  {:<30}", cell(t))?;
            }
            writeln!(f)?;
        }
        let tests = || {
            self.regions
                .iter()
                .flat_map(|r| std::iter::once(&r.inclusive).chain(&r.tests))
        };
        if tests().any(|t| t.untested.is_some()) {
            writeln!(
                f,
                "  n/a: fewer than {MIN_REFERENCE_EVENTS} selected events in the sidebands, a \
                 single fitted function or no predicted background: not tested"
            )?;
        }
        if tests().any(|t| t.poor_fit.is_some()) {
            writeln!(
                f,
                "  !: the sideband fit's χ² p-value is below {}: shown, not ranked",
                self.min_fit_pvalue
            )?;
        }
        writeln!(
            f,
            "  sideband fits (chosen function by Wilks' test, χ²/ndf, p-value; errors above \
             include the function choice)"
        )?;
        write!(f, "  {:<11} {:>9}", "SR", "")?;
        for label in std::iter::once("no cut".to_string())
            .chain(self.efficiencies.iter().map(|&e| efficiency_label(e)))
        {
            write!(f, "  {label:<30}")?;
        }
        writeln!(f)?;
        for r in &self.regions {
            write!(f, "  {:<11} {:>9}", r.region.label(), "")?;
            for t in std::iter::once(&r.inclusive).chain(&r.tests) {
                write!(f, "  {:<30}", fit_cell(t))?;
            }
            writeln!(f)?;
        }
        match self.global() {
            Some(g) => {
                write!(
                    f,
                    "  most significant: SR {} at {}: {}",
                    self.regions[g.region].region.label(),
                    efficiency_label(g.test.efficiency),
                    g.test.summary()
                )?;
                match &g.toys {
                    Some(t) => write!(f, "\n  look-elsewhere from toys: {}", t.summary()),
                    None => write!(
                        f,
                        "\n  (Šidák's bound is not conservative in the tail: state a claim with retrained toys, hunt_toys_plan)"
                    ),
                }
            }
            None => write!(
                f,
                "  no test: no selected test has a good sideband fit with at least \
                 {MIN_REFERENCE_EVENTS} events"
            ),
        }
    }
}

/// Seed 002 Fig. 34: the local p-value against the signal-region centre, one line per
/// efficiency plus the inclusive (no selection) line, on a log axis; `.png` or `.svg`. Tests
/// whose sideband fit is poor (χ² p-value below the hunt's `min_fit_pvalue`: shown, not
/// ranked) are marked with a red cross.
pub fn plot_scan(hunt: &CwolaHunt, path: &Path) -> Result<()> {
    let centres: Vec<f64> = hunt.regions.iter().map(|r| r.region.centre()).collect();
    let line = |label: String, pick: &dyn Fn(&RegionResult) -> f64| Curve {
        label,
        x: centres.clone(),
        y: hunt.regions.iter().map(pick).collect(),
    };
    let mut curves = vec![line("no selection".into(), &|r| r.inclusive.p_value)];
    for (e, &eff) in hunt.efficiencies.iter().enumerate() {
        curves.push(line(format!("ε = {}", efficiency_label(eff)), &|r| {
            r.tests[e].p_value
        }));
    }
    let lowest = curves
        .iter()
        .flat_map(|c| c.y.iter().copied())
        .filter(|p| *p > 0.0)
        .fold(1.0f64, f64::min);
    let marked = hunt
        .regions
        .iter()
        .flat_map(|r| {
            std::iter::once(&r.inclusive)
                .chain(&r.tests)
                .filter(|t| t.poor_fit.is_some() && t.p_value.is_finite())
                .map(|t| (r.region.centre(), t.p_value))
        })
        .collect();
    let opts = CurveOptions {
        title: format!(
            "CWoLa hunt: local p-value per signal region ({})",
            hunt.mass
        ),
        x_label: format!("signal region centre {} [GeV]", hunt.mass),
        y_label: "local p-value".into(),
        log_y: true,
        y_range: Some(((lowest / 10.0).min(1e-3), 1.5)),
        marked,
        marked_label: poor_fit_note(hunt.min_fit_pvalue),
        ..CurveOptions::default()
    };
    plot_curves(path, &curves, &opts)
}

/// What a poor-fit mark means, in a figure.
fn poor_fit_note(threshold: f64) -> String {
    format!("! sideband fit p < {threshold}: shown, not ranked")
}

/// The legend label of a test's sideband fit: function, χ²/ndf and p-value.
fn fit_label(name: &str, t: &WindowSignificance) -> String {
    match t.fit() {
        Some(fit) => format!(
            "{name}: {} fit, χ²/ndf = {:.1}/{}, p = {:.2e}",
            fit.function.name(),
            fit.chi2,
            fit.ndf,
            fit.chi2_pvalue
        ),
        None => String::new(),
    }
}

/// Seed 002 Fig. 35 in the particle-physics convention: the mass spectrum of `region` with no
/// selection and after each efficiency's selection as points with Poisson (Garwood) error
/// bars, each with its sideband fit as a line in the same colour (a poor fit dashed and marked
/// "!" with its χ² p-value), the signal region shaded, and the pulls below; log axes.
pub fn plot_mass(hunt: &CwolaHunt, region: &RegionResult, path: &Path) -> Result<()> {
    let mut spectra = Vec::new();
    for t in std::iter::once(&region.inclusive).chain(&region.tests) {
        let name = if t.efficiency >= 1.0 {
            "no selection".to_string()
        } else {
            format!("ε = {}", efficiency_label(t.efficiency))
        };
        let fit = match t.fit() {
            Some(fit) => Some(fit.prediction(&hunt.edges)?),
            None => None,
        };
        spectra.push(Spectrum {
            fit_label: fit_label(&name, t),
            label: name,
            data: t.hist.clone(),
            fit,
            poor_fit: t.poor_fit.is_some(),
        });
    }
    let mut notes = Vec::new();
    if spectra.iter().any(|s| s.poor_fit) {
        notes.push(poor_fit_note(hunt.min_fit_pvalue));
    }
    let opts = SpectrumOptions {
        title: format!(
            "CWoLa hunt: signal region {} GeV (sidebands {:.0}–{:.0})",
            region.region.label(),
            region.region.sb_lo,
            region.region.sb_hi
        ),
        x_label: format!("{} [GeV]", hunt.mass),
        log_x: true,
        signal_region: Some((region.region.lo, region.region.hi)),
        notes,
        ..SpectrumOptions::default()
    };
    plot_spectrum(path, &spectra, &opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::EventSet;
    use crate::data::binning::log_bins;
    use crate::methods::regions::sliding_regions;
    use crate::methods::window_significance::{WindowSignificanceOptions, window_significance};
    use rand::RngExt;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;

    /// `n` masses from dN/dm ∝ m^-6 on [2632, 6000), every one kept with probability `keep(m)`.
    fn masses(n: usize, seed: u64, keep: impl Fn(f64) -> f64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (a, b) = (2632f64.powf(-5.0), 6000f64.powf(-5.0));
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let m = (a - rng.random::<f64>() * (a - b)).powf(-0.2);
            if rng.random::<f64>() < keep(m) {
                out.push(m);
            }
        }
        out
    }

    /// A hunt over one region: a smooth inclusive spectrum and a sculpted "selection" whose
    /// sideband fit is poor.
    fn hunt() -> CwolaHunt {
        let edges = log_bins(2632.0, 6000.0, 16).unwrap();
        let region = sliding_regions(&edges, 3, 2).unwrap()[2].clone();
        let opts = WindowSignificanceOptions::default();
        let smooth = masses(60_000, 1, |_| 1.0);
        let sculpted = masses(100_000, 4, |m| {
            0.4 + 0.6 * (-((m / 4300.0).ln() / 0.05).powi(2)).exp()
        });
        let inclusive = window_significance(&edges, &region, &smooth, 1.0, &opts).unwrap();
        let tight = window_significance(&edges, &region, &sculpted, 0.1, &opts).unwrap();
        assert!(inclusive.poor_fit.is_none() && tight.poor_fit.is_some());
        CwolaHunt {
            method: "CWoLa".into(),
            mass: "mjj".into(),
            edges: edges.clone(),
            efficiencies: vec![0.1],
            inputs: "mj1/mjj".into(),
            regions: vec![RegionResult {
                region,
                counts: [0; 3],
                inclusive,
                tests: vec![tight],
                validation_efficiency: vec![0.1],
                selected: vec![vec![]],
                scores: vec![],
            }],
            min_fit_pvalue: opts.min_fit_pvalue,
            events_in_range: 60_000,
            toys: Vec::new(),
            seconds: 0.0,
            in_range: vec![],
            events: EventSet::from_columns(vec![("mjj".into(), vec![3000.0])]).unwrap(),
        }
    }

    #[test]
    fn mass_figure_marks_the_poor_fit_and_the_scan_crosses_it() {
        let dir = tempfile::tempdir().unwrap();
        let h = hunt();
        let path = dir.path().join("mass.svg");
        plot_mass(&h, &h.regions[0], &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let tight = &h.regions[0].tests[0];
        let p = tight.fit().unwrap().chi2_pvalue;
        // The poor fit's legend entry gives its p-value and ends in "!"; the good one does not.
        let poor = format!("p = {p:.2e} !");
        assert!(svg.contains(&poor), "lacks '{poor}'");
        let good = h.regions[0].inclusive.fit().unwrap().chi2_pvalue;
        // (SVG text ends in a newline before its closing tag.)
        assert!(
            svg.contains(&format!("p = {good:.2e}\n")),
            "the good fit is unmarked"
        );
        for text in ["Signal region", "Pull", "! sideband fit p", "ε = 10%"] {
            assert!(svg.contains(text), "lacks '{text}'");
        }
        let path = dir.path().join("scan.svg");
        plot_scan(&h, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("! sideband fit p") && svg.contains("shown, not ranked"));
        // The cross: two red diagonal strokes.
        assert!(svg.matches("stroke=\"#BD1F01\"").count() >= 2);
        plot_mass(&h, &h.regions[0], &dir.path().join("mass.png")).unwrap();
    }
}
