//! Two-dimensional histograms as colour maps (viridis) with a colour bar.

use std::path::Path;

use plotters::prelude::DrawingBackend;
use plotters::style::Color;

use super::axes::{Axis, Scale};
use super::draw::DrawResult;
use super::draw::{Canvas, Font, HAlign, VAlign, line_height};
use super::frame::{Frame, Margins, Panel, Rect, tick_count};
use super::output::{Figure, save};
use super::style::{DEFAULT_SIZE, INK, viridis};
use crate::error::{Error, Result};
use crate::stats::hist::Hist2D;

/// Options of [`plot_heatmap`].
#[derive(Clone, Debug, PartialEq)]
pub struct HeatmapOptions {
    /// Title above the plot (empty: none).
    pub title: String,
    /// Label of the x axis (empty: none).
    pub x_label: String,
    /// Label of the y axis (empty: none).
    pub y_label: String,
    /// Label of the colour bar ("Events").
    pub z_label: String,
    /// Logarithmic colour scale; bins with zero or negative content are left white.
    pub log_z: bool,
    /// Figure size in pixels (width, height); 800×600.
    pub size: (u32, u32),
}

impl Default for HeatmapOptions {
    fn default() -> Self {
        Self {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            z_label: "Events".to_string(),
            log_z: false,
            size: DEFAULT_SIZE,
        }
    }
}

/// Plots the bin contents of `h` as a colour map to `path` (`.png` or `.svg`), with a colour
/// bar on the right. On a linear scale the colours run from min(0, smallest bin) to the
/// largest bin; an all-zero histogram is drawn in the lowest colour (log scale: left white).
///
/// Errors: a non-finite bin, a bad path or size.
pub fn plot_heatmap(path: &Path, h: &Hist2D, opts: &HeatmapOptions) -> Result<()> {
    if let Some(i) = h.counts().iter().position(|c| !c.is_finite()) {
        let (_, ny) = h.shape();
        return Err(Error::invalid(
            "hist2d",
            format!(
                "bin ({}, {}) holds {} (not finite)",
                i / ny,
                i % ny,
                h.counts()[i]
            ),
        ));
    }
    let z = if opts.log_z {
        let positive = h.counts().iter().copied().filter(|&c| c > 0.0);
        let (lo, hi) = positive.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
            (lo.min(c), hi.max(c))
        });
        Axis::new(Scale::Log, lo, hi)
    } else {
        let lo = h.counts().iter().copied().fold(0.0, f64::min);
        let hi = h.counts().iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Axis::new(Scale::Linear, lo, if hi > lo { hi } else { lo + 1.0 })
    };
    save(path, opts.size, &Heatmap { h, opts, z })
}

struct Heatmap<'a> {
    h: &'a Hist2D,
    opts: &'a HeatmapOptions,
    z: Axis,
}

impl Figure for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult {
        let t = canvas.theme;
        let opts = self.opts;
        let (xe, ye) = (self.h.x_edges(), self.h.y_edges());
        let (nx, ny) = self.h.shape();
        let x = Axis::new(Scale::Linear, xe[0], xe[nx]);
        let y = Axis::new(Scale::Linear, ye[0], ye[ny]);
        let font = Font {
            size: t.tick_label_size(),
            bold: false,
            color: INK.to_rgba(),
        };

        // Colour bar on the right: a gap, the bar, its tick labels and its label.
        let (w, h) = canvas.size();
        let probe = Margins {
            title: &opts.title,
            x_label: &opts.x_label,
            y_label: !opts.y_label.is_empty(),
            right: 0.0,
        };
        let (top, bottom) = probe.vertical(canvas);
        let plot_h = h - top - bottom;
        let z_ticks = self.z.ticks(tick_count(plot_h, 60.0, t.scale).min(8));
        let mut z_widest: f64 = 0.0;
        for (_, label) in &z_ticks.major {
            z_widest = z_widest.max(canvas.text_width(label, font)?);
        }
        if let Some(m) = &z_ticks.multiplier {
            z_widest = z_widest.max(canvas.text_width(m, font)?);
        }
        let bar_w = t.px(22.0);
        let z_label_w = if opts.z_label.is_empty() {
            0.0
        } else {
            line_height(t.label_size()) + t.gap()
        };
        let right = 3.0 * t.gap() + bar_w + t.gap() + z_widest + z_label_w;
        let margins = Margins { right, ..probe };
        let y_ticks = y.ticks(tick_count(plot_h, 60.0, t.scale).min(8));
        let x_ticks = x.ticks(tick_count(w - right - 150.0 * t.scale, 90.0, t.scale));
        let rect = margins.area(canvas, &[&y_ticks], &x_ticks)?;
        let panel = Panel { rect, x, y };
        margins.draw_title(canvas, &rect)?;

        for ix in 0..nx {
            let (Some(x0), Some(x1)) = (panel.px(xe[ix]), panel.px(xe[ix + 1])) else {
                continue;
            };
            for iy in 0..ny {
                let v = self.h.counts()[ix * ny + iy];
                let Some(f) = self.z.fraction(v) else {
                    continue;
                };
                let (Some(y0), Some(y1)) = (panel.py(ye[iy]), panel.py(ye[iy + 1])) else {
                    continue;
                };
                canvas.fill_rect((x0, y1), (x1, y0), viridis(f).to_rgba())?;
            }
        }
        Frame {
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            x_label: &opts.x_label,
            x_tick_labels: true,
            y_label: &opts.y_label,
            trim_y: (false, false),
        }
        .draw(canvas, &panel, t.pad())?;

        // The bar: strips of colour, a frame, ticks on its right side, labels, the label.
        let bar = Rect {
            x0: rect.x1 + 3.0 * t.gap(),
            y0: rect.y0,
            x1: rect.x1 + 3.0 * t.gap() + bar_w,
            y1: rect.y1,
        };
        let strips = 128;
        for k in 0..strips {
            let (f0, f1) = (k as f64 / strips as f64, (k + 1) as f64 / strips as f64);
            let (ya, yb) = (bar.y1 - f1 * bar.height(), bar.y1 - f0 * bar.height());
            canvas.fill_rect(
                (bar.x0, ya),
                (bar.x1, yb),
                viridis(0.5 * (f0 + f1)).to_rgba(),
            )?;
        }
        let ink = INK.to_rgba();
        let fw = t.frame_width();
        canvas.line(
            &[
                (bar.x0, bar.y0),
                (bar.x1, bar.y0),
                (bar.x1, bar.y1),
                (bar.x0, bar.y1),
                (bar.x0, bar.y0),
            ],
            ink,
            fw,
        )?;
        let bar_panel = Panel {
            rect: bar,
            x,
            y: self.z,
        };
        for (v, len) in z_ticks
            .minor
            .iter()
            .map(|&v| (v, t.minor_tick()))
            .chain(z_ticks.major.iter().map(|m| (m.0, t.major_tick())))
        {
            if let Some(py) = bar_panel.py(v) {
                canvas.line(&[(bar.x1, py), (bar.x1 - 0.6 * len, py)], ink, fw)?;
            }
        }
        for (v, label) in &z_ticks.major {
            if let Some(py) = bar_panel.py(*v) {
                canvas.text(
                    label,
                    (bar.x1 + t.gap(), py),
                    font,
                    (HAlign::Left, VAlign::Center),
                    false,
                )?;
            }
        }
        if let Some(m) = &z_ticks.multiplier {
            canvas.text(
                m,
                (bar.x0, bar.y0 - 0.5 * t.gap()),
                font,
                (HAlign::Left, VAlign::Bottom),
                false,
            )?;
        }
        let label_font = Font {
            size: t.label_size(),
            ..font
        };
        let label_x = bar.x1 + 2.0 * t.gap() + z_widest;
        canvas.text(
            &opts.z_label,
            (label_x, bar.y0),
            label_font,
            (HAlign::Right, VAlign::Top),
            true,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::test_util::{check_png, check_svg};

    fn gaussian_blob() -> Hist2D {
        let n = 40;
        let edges: Vec<f64> = (0..=n).map(|i| i as f64 * 0.05).collect();
        let mut counts = Vec::with_capacity(n * n);
        for ix in 0..n {
            for iy in 0..n {
                let (x, y) = ((ix as f64 - 15.0) / 6.0, (iy as f64 - 22.0) / 8.0);
                counts.push((1e4 * (-0.5 * (x * x + y * y + x * y)).exp()).floor());
            }
        }
        Hist2D::from_counts(edges.clone(), edges, counts).unwrap()
    }

    #[test]
    fn heatmaps_render_linear_and_log() {
        let dir = tempfile::tempdir().unwrap();
        let h = gaussian_blob();
        for log_z in [false, true] {
            let opts = HeatmapOptions {
                x_label: "m_J1 [TeV]".into(),
                y_label: "m_J2 [TeV]".into(),
                log_z,
                ..Default::default()
            };
            for ext in ["png", "svg"] {
                let path = dir.path().join(format!("heat-{log_z}.{ext}"));
                plot_heatmap(&path, &h, &opts).unwrap();
                if ext == "png" {
                    check_png(&path, (800, 600));
                } else {
                    check_svg(&path, &["m_J1 [TeV]", "Events"]);
                }
            }
        }
    }

    #[test]
    fn empty_and_bad_histograms() {
        let dir = tempfile::tempdir().unwrap();
        let empty =
            Hist2D::from_counts(vec![0.0, 1.0, 2.0], vec![0.0, 1.0], vec![0.0, 0.0]).unwrap();
        for log_z in [false, true] {
            let path = dir.path().join(format!("empty-{log_z}.png"));
            plot_heatmap(
                &path,
                &empty,
                &HeatmapOptions {
                    log_z,
                    ..Default::default()
                },
            )
            .unwrap();
            check_png(&path, (800, 600));
        }
        let inf = empty.scale(f64::INFINITY).scale(0.0);
        let err = plot_heatmap(
            &dir.path().join("bad.png"),
            &inf,
            &HeatmapOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not finite"), "{err}");
    }
}
