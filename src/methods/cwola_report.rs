//! How a [`CwolaHunt`] is shown: a summary table (`Display`) and the two figures of seed 002
//! §4.1, the local p-value against the signal-region centre per efficiency (Fig. 34) and the
//! selected mass spectra of one region with their sideband fits (Fig. 35).

use std::fmt;
use std::path::Path;

use super::cwola::{CwolaHunt, RegionResult};
use super::estimate::MIN_REFERENCE_EVENTS;
use super::window_test::WindowTest;
use crate::error::Result;
use crate::plot::{Curve, CurveOptions, HistOptions, plot_curves, plot_hists};

/// "10%", "1%", "0.2%", "100%".
pub fn efficiency_label(eff: f64) -> String {
    format!("{}%", eff * 100.0)
}

fn cell(t: &WindowTest) -> String {
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
fn fit_cell(t: &WindowTest) -> String {
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
            Some(g) => write!(
                f,
                "  most significant: SR {} at {}: {}, conservative",
                self.regions[g.region].region.label(),
                efficiency_label(g.test.efficiency),
                g.test.summary()
            ),
            None => write!(
                f,
                "  no test: no selected test has a good sideband fit with at least \
                 {MIN_REFERENCE_EVENTS} events"
            ),
        }
    }
}

/// Seed 002 Fig. 34: the local p-value against the signal-region centre, one line per
/// efficiency plus the inclusive (no selection) line, on a log axis; `.png` or `.svg`.
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
    let opts = CurveOptions {
        title: format!(
            "CWoLa hunt: local p-value per signal region ({})",
            hunt.mass
        ),
        x_label: format!("signal region centre {} [GeV]", hunt.mass),
        y_label: "local p-value".into(),
        log_y: true,
        y_range: Some(((lowest / 10.0).min(1e-3), 1.5)),
        ..CurveOptions::default()
    };
    plot_curves(path, &curves, &opts)
}

/// Seed 002 Fig. 35: the mass spectrum of `region` with no selection and after each
/// efficiency's selection, each with its sideband fit's prediction, on log axes.
pub fn plot_mass(hunt: &CwolaHunt, region: &RegionResult, path: &Path) -> Result<()> {
    let mut owned = Vec::new();
    for t in std::iter::once(&region.inclusive).chain(&region.tests) {
        let name = if t.efficiency >= 1.0 {
            "no selection".to_string()
        } else {
            format!("ε = {}", efficiency_label(t.efficiency))
        };
        owned.push((name.clone(), t.hist.clone()));
        if let Some(fit) = t.fit() {
            owned.push((format!("{name}: fit"), fit.prediction(&hunt.edges)?));
        }
    }
    let series: Vec<(&str, &_)> = owned.iter().map(|(n, h)| (n.as_str(), h)).collect();
    let opts = HistOptions {
        title: format!(
            "CWoLa hunt: signal region {} GeV (sidebands {:.0}–{:.0})",
            region.region.label(),
            region.region.sb_lo,
            region.region.sb_hi
        ),
        x_label: format!("{} [GeV]", hunt.mass),
        log_x: true,
        log_y: true,
        ..HistOptions::default()
    };
    plot_hists(path, &series, &opts)
}
