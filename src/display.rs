//! Rich display in notebooks: figures drawn to memory, and the `evcxr_display` hooks through
//! which the evcxr Jupyter kernel shows bumplab values inline (histograms, ROC and SIC
//! curves, event-set previews, BumpHunter, CWoLa-hunting and SALAD results).
//!
//! Each type says how it looks through [`Rich::representations`] (figures as base64 PNG,
//! tables and summaries as HTML). evcxr calls a value's `evcxr_display` method when a cell
//! ends in it; the method prints every representation between `EVCXR_BEGIN_CONTENT <mime
//! type>` and `EVCXR_END_CONTENT` lines. Outside evcxr the methods just print that text.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;

use crate::data::EventSet;
use crate::data::describe::Description;
use crate::error::{Error, Result};
use crate::methods::cwola::CwolaHunt;
use crate::methods::salad::Salad;
use crate::plot::{
    BumpPlotOptions, Curve, CurveOptions, HeatmapOptions, HistOptions, RandomClassifier,
};
use crate::stats::bumphunter::BumpHunterResult;
use crate::stats::hist::{Hist1D, Hist2D};
use crate::stats::metrics::{Roc, SicCurve};

/// Rows of an event set shown in its HTML preview.
const PREVIEW_ROWS: usize = 10;

/// A value that can show itself in a notebook.
pub trait Rich {
    /// The value's representations, in display order: (MIME type, content), with images
    /// base64-encoded.
    fn representations(&self) -> Result<Vec<(&'static str, String)>>;
}

/// The file a figure function writes when given a path ending in `.extension` (`png` or
/// `svg`, which picks the format): the figure functions write files, so the figure goes
/// through a temporary file that is removed afterwards.
pub fn figure_bytes<E: From<Error>>(
    extension: &str,
    draw: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> std::result::Result<Vec<u8>, E> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path: PathBuf = std::env::temp_dir().join(format!(
        "bumplab-figure-{}-{n}.{extension}",
        std::process::id()
    ));
    let drawn = draw(&path)
        .and_then(|()| std::fs::read(&path).map_err(|e| E::from(Error::io("read", &path, e))));
    let _ = std::fs::remove_file(&path);
    drawn
}

/// The text evcxr turns into displays: each representation between its
/// `EVCXR_BEGIN_CONTENT` and `EVCXR_END_CONTENT` lines.
pub fn evcxr_text(value: &impl Rich) -> Result<String> {
    Ok(value
        .representations()?
        .iter()
        .map(|(mime, content)| {
            format!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT\n")
        })
        .collect())
}

/// The figure `draw` makes, as a base64 PNG representation.
fn png(draw: impl FnOnce(&Path) -> Result<()>) -> Result<(&'static str, String)> {
    let bytes = figure_bytes::<Error>("png", draw)?;
    Ok((
        "image/png",
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

/// `text` as preformatted HTML.
fn preformatted(text: &str) -> (&'static str, String) {
    ("text/html", format!("<pre>{}</pre>", escape(text)))
}

/// Escapes `text` for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An HTML table of the first rows of `events`, with its size.
pub fn events_html(events: &EventSet, rows: usize) -> String {
    let columns = events.columns();
    let head = events.head(rows);
    let values: Vec<Vec<f64>> = columns
        .iter()
        .map(|c| head.column(c).unwrap_or_default())
        .collect();
    let mut html = format!(
        "<p>EventSet: {} events × {} columns</p><table><thead><tr>",
        events.len(),
        columns.len()
    );
    for c in &columns {
        html.push_str(&format!("<th>{}</th>", escape(c)));
    }
    html.push_str("</tr></thead><tbody>");
    for row in 0..head.len() {
        html.push_str("<tr>");
        for column in &values {
            match column.get(row) {
                Some(v) => html.push_str(&format!("<td>{v:.6}</td>")),
                None => html.push_str("<td></td>"),
            }
        }
        html.push_str("</tr>");
    }
    if events.len() > head.len() {
        html.push_str(&format!(
            "<tr><td colspan=\"{}\">… {} more</td></tr>",
            columns.len().max(1),
            events.len() - head.len()
        ));
    }
    html.push_str("</tbody></table>");
    html
}

/// One curve with `x_label`, `y_label` and the random classifier `diagonal`, as a PNG.
fn curve_png(
    curve: Curve,
    x_label: &str,
    y_label: &str,
    diagonal: RandomClassifier,
) -> Result<(&'static str, String)> {
    let options = CurveOptions {
        x_label: x_label.into(),
        y_label: y_label.into(),
        diagonal: Some(diagonal),
        ..CurveOptions::default()
    };
    png(|path| crate::plot::plot_curves(path, &[curve], &options))
}

impl Rich for EventSet {
    fn representations(&self) -> Result<Vec<(&'static str, String)>> {
        Ok(vec![("text/html", events_html(self, PREVIEW_ROWS))])
    }
}

impl Rich for Description {
    fn representations(&self) -> Result<Vec<(&'static str, String)>> {
        Ok(vec![preformatted(&self.to_string())])
    }
}

impl Rich for Hist1D {
    fn representations(&self) -> Result<Vec<(&'static str, String)>> {
        let options = HistOptions::default();
        Ok(vec![png(|path| {
            crate::plot::plot_hists(path, &[("", self)], &options)
        })?])
    }
}

impl Rich for Hist2D {
    fn representations(&self) -> Result<Vec<(&'static str, String)>> {
        let options = HeatmapOptions::default();
        Ok(vec![png(|path| {
            crate::plot::plot_heatmap(path, self, &options)
        })?])
    }
}

impl Rich for Roc {
    fn representations(&self) -> Result<Vec<(&'static str, String)>> {
        let curve = Curve {
            label: String::new(),
            x: self.eps_b.clone(),
            y: self.eps_s.clone(),
        };
        Ok(vec![curve_png(curve, "ε_B", "ε_S", RandomClassifier::Roc)?])
    }
}

impl Rich for SicCurve {
    fn representations(&self) -> Result<Vec<(&'static str, String)>> {
        let curve = Curve {
            label: String::new(),
            x: self.eps_s.clone(),
            y: self.sic.clone(),
        };
        Ok(vec![curve_png(
            curve,
            "ε_S",
            "ε_S / √ε_B",
            RandomClassifier::Sic,
        )?])
    }
}

impl Rich for BumpHunterResult {
    fn representations(&self) -> Result<Vec<(&'static str, String)>> {
        let options = BumpPlotOptions::default();
        Ok(vec![
            preformatted(&self.to_string()),
            png(|path| crate::plot::plot_bumphunter(path, self, &options))?,
        ])
    }
}

impl Rich for CwolaHunt {
    fn representations(&self) -> Result<Vec<(&'static str, String)>> {
        Ok(vec![
            preformatted(&self.to_string()),
            png(|path| crate::methods::cwola_report::plot_scan(self, path))?,
        ])
    }
}

impl Rich for Salad {
    fn representations(&self) -> Result<Vec<(&'static str, String)>> {
        Ok(vec![
            preformatted(&self.to_string()),
            png(|path| crate::methods::salad_report::plot_closure_estimate(self, path))?,
        ])
    }
}

/// The inherent `evcxr_display` method evcxr looks for, on each [`Rich`] type.
macro_rules! evcxr_hooks {
    ($($ty:ty),* $(,)?) => {$(
        impl $ty {
            /// evcxr's rich display: prints [`Rich::representations`] in evcxr's format
            /// (the error that stopped a figure goes to standard error).
            pub fn evcxr_display(&self) {
                match evcxr_text(self) {
                    Ok(text) => print!("{text}"),
                    Err(err) => eprintln!("cannot display the value: {err}"),
                }
            }
        }
    )*};
}

evcxr_hooks!(
    EventSet,
    Description,
    Hist1D,
    Hist2D,
    Roc,
    SicCurve,
    BumpHunterResult,
    CwolaHunt,
    Salad
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_render_to_memory() {
        let h = Hist1D::fill(vec![0.0, 1.0, 2.0], &[0.5, 1.5, 1.6], None).unwrap();
        let text = evcxr_text(&h).unwrap();
        assert!(
            text.starts_with("EVCXR_BEGIN_CONTENT image/png\niVBORw0KGgo"),
            "{text:.80}"
        );
        assert!(text.ends_with("\nEVCXR_END_CONTENT\n"));
        let err: Result<Vec<u8>> = figure_bytes("png", |p| {
            crate::plot::plot_hists(p, &[], &HistOptions::default())
        });
        assert!(err.is_err());
    }

    #[test]
    fn event_previews_are_html_tables() {
        let events = EventSet::from_columns(vec![
            ("mjj".to_string(), vec![3000.0, 3500.0, 4000.0]),
            ("a<b".to_string(), vec![1.0, 2.0, 3.0]),
        ])
        .unwrap();
        let html = events_html(&events, 2);
        assert!(html.contains("3 events × 2 columns"), "{html}");
        assert!(html.contains("<th>a&lt;b</th>"), "{html}");
        assert!(html.contains("<td>3500.000000</td>"), "{html}");
        assert!(
            !html.contains("4000.000000") && html.contains("1 more"),
            "{html}"
        );
        let text = evcxr_text(&events).unwrap();
        assert!(
            text.starts_with("EVCXR_BEGIN_CONTENT text/html\n<p>EventSet"),
            "{text}"
        );
    }
}
