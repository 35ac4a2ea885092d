//! Rich display in notebooks: figures drawn to memory, and the `evcxr_display` hooks through
//! which the evcxr Jupyter kernel shows bumplab values inline (histograms, event-set
//! previews, BumpHunter, CWoLa-hunting and SALAD results).
//!
//! evcxr calls a value's `evcxr_display` method when a cell ends in it; the method prints
//! the value between `EVCXR_BEGIN_CONTENT <mime type>` and `EVCXR_END_CONTENT` lines
//! (figures as base64 PNG, tables as HTML). Outside evcxr the methods just print that text.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;

use crate::data::EventSet;
use crate::data::describe::Description;
use crate::error::{Error, Result};
use crate::methods::cwola::CwolaHunt;
use crate::methods::salad::Salad;
use crate::plot::{BumpPlotOptions, HeatmapOptions, HistOptions};
use crate::stats::bumphunter::BumpHunterResult;
use crate::stats::hist::{Hist1D, Hist2D};

/// Rows of an event set shown in its HTML preview.
const PREVIEW_ROWS: usize = 10;

/// The PNG that `draw` writes when given a path: the figure functions write files, so the
/// figure goes through a temporary file that is removed afterwards.
pub fn png_bytes<E: From<Error>>(
    draw: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> std::result::Result<Vec<u8>, E> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path: PathBuf =
        std::env::temp_dir().join(format!("bumplab-figure-{}-{n}.png", std::process::id()));
    let drawn = draw(&path)
        .and_then(|()| std::fs::read(&path).map_err(|e| E::from(Error::io("read", &path, e))));
    let _ = std::fs::remove_file(&path);
    drawn
}

/// The text evcxr turns into a display of `mime` with `content`.
pub fn evcxr_content(mime: &str, content: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT")
}

/// Prints the figure `draw` makes for evcxr, or the error that stopped it.
fn show_png(draw: impl FnOnce(&Path) -> Result<()>) {
    match png_bytes::<Error>(draw) {
        Ok(png) => println!(
            "{}",
            evcxr_content(
                "image/png",
                &base64::engine::general_purpose::STANDARD.encode(png)
            )
        ),
        Err(err) => eprintln!("cannot draw the figure: {err}"),
    }
}

/// Escapes `text` for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Plain text shown as preformatted HTML.
fn show_text(text: &str) {
    println!(
        "{}",
        evcxr_content("text/html", &format!("<pre>{}</pre>", escape(text)))
    );
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

impl EventSet {
    /// evcxr's rich display: an HTML table of the first rows.
    pub fn evcxr_display(&self) {
        println!(
            "{}",
            evcxr_content("text/html", &events_html(self, PREVIEW_ROWS))
        );
    }
}

impl Description {
    /// evcxr's rich display: the summary table.
    pub fn evcxr_display(&self) {
        show_text(&self.to_string());
    }
}

impl Hist1D {
    /// evcxr's rich display: the histogram drawn as a step line.
    pub fn evcxr_display(&self) {
        show_png(|path| crate::plot::plot_hists(path, &[("", self)], &HistOptions::default()));
    }
}

impl Hist2D {
    /// evcxr's rich display: the histogram as a heat map.
    pub fn evcxr_display(&self) {
        show_png(|path| crate::plot::plot_heatmap(path, self, &HeatmapOptions::default()));
    }
}

impl BumpHunterResult {
    /// evcxr's rich display: the summary and the data, reference and selected window.
    pub fn evcxr_display(&self) {
        show_text(&self.to_string());
        show_png(|path| crate::plot::plot_bumphunter(path, self, &BumpPlotOptions::default()));
    }
}

impl CwolaHunt {
    /// evcxr's rich display: the summary and the p-value scan.
    pub fn evcxr_display(&self) {
        show_text(&self.to_string());
        show_png(|path| crate::methods::cwola_report::plot_scan(self, path));
    }
}

impl Salad {
    /// evcxr's rich display: the summary and the efficiency closure.
    pub fn evcxr_display(&self) {
        show_text(&self.to_string());
        show_png(|path| crate::methods::salad_report::plot_closure_estimate(self, path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_render_to_memory() {
        let h = Hist1D::fill(vec![0.0, 1.0, 2.0], &[0.5, 1.5, 1.6], None).unwrap();
        let png = png_bytes(|p| crate::plot::plot_hists(p, &[("", &h)], &HistOptions::default()))
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let err: Result<Vec<u8>> =
            png_bytes(|p| crate::plot::plot_hists(p, &[], &HistOptions::default()));
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
        assert!(evcxr_content("text/html", "x").starts_with("EVCXR_BEGIN_CONTENT text/html\n"));
    }
}
