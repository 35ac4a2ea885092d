//! The BumpHunter figure: data against the reference with the selected window marked and
//! its significances, above the per-bin significance (after pyBumpHunter's `plot_bump`).

use std::path::Path;

use plotters::prelude::DrawingBackend;
use plotters::style::{Color, RGBAColor};

use super::axes::{Axis, Scale, short};
use super::draw::Canvas;
use super::draw::DrawResult;
use super::frame::{Frame, Margins, Panel, Rect, fit_below_box, tick_count};
use super::legend::{Corner, Entry, Handle, Legend};
use super::marks;
use super::output::{Figure, save};
use super::spectrum::garwood_errors;
use super::style::{DEFAULT_SIZE, GUIDE, INK, PALETTE};
use crate::error::{Error, Result};
use crate::stats::bumphunter::{BumpHunterResult, Mode};
use crate::stats::special::one_sigma_cl;

/// Options of [`plot_bumphunter`].
#[derive(Clone, Debug, PartialEq)]
pub struct BumpPlotOptions {
    /// Title above the plot (empty: none).
    pub title: String,
    /// Label of the x axis (empty: none).
    pub x_label: String,
    /// Label of the upper panel's y axis ("Events").
    pub y_label: String,
    /// Logarithmic y axis in the upper panel.
    pub log_y: bool,
    /// Figure size in pixels (width, height); 800×600.
    pub size: (u32, u32),
}

impl Default for BumpPlotOptions {
    fn default() -> Self {
        Self {
            title: String::new(),
            x_label: String::new(),
            y_label: "Events".to_string(),
            log_y: false,
            size: DEFAULT_SIZE,
        }
    }
}

/// Plots a BumpHunter result to `path` (`.png` or `.svg`). Upper panel: the data (points
/// with Garwood 68 % Poisson error bars, [`super::garwood_errors`]) over the reference (filled steps), the selected window shaded
/// between dashed lines, and a box with the window, local and global significance ("≥" when
/// the global one is a lower limit). Lower panel: the signed significance of each bin, the
/// window's bins highlighted.
///
/// Errors: non-finite counts or significances, data and reference (or significances) with
/// different binnings, a bad path or size.
pub fn plot_bumphunter(
    path: &Path,
    result: &BumpHunterResult,
    opts: &BumpPlotOptions,
) -> Result<()> {
    let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
    if !finite(result.data.counts())
        || !finite(result.reference.counts())
        || !finite(&result.bin_significance)
    {
        return Err(Error::invalid(
            "bump hunter result",
            "its histograms or bin significances hold non-finite values",
        ));
    }
    result.data.check_same_binning(&result.reference)?;
    if result.bin_significance.len() != result.data.n_bins() {
        return Err(Error::invalid(
            "bump hunter result",
            "bin significances do not match the histogram's bins",
        ));
    }
    let bars = garwood_errors(result.data.counts(), one_sigma_cl())?;
    save(
        path,
        opts.size,
        &BumpFigure {
            r: result,
            opts,
            bars,
        },
    )
}

struct BumpFigure<'a> {
    r: &'a BumpHunterResult,
    opts: &'a BumpPlotOptions,
    /// The data's Garwood error bars (down, up).
    bars: (Vec<f64>, Vec<f64>),
}

/// Fill colour of the reference, colour of the window and of its bins.
const REFERENCE: usize = 0;
const WINDOW: usize = 2;

impl BumpFigure<'_> {
    fn legend(&self) -> Legend {
        let blue = PALETTE[REFERENCE].to_rgba();
        let red = PALETTE[WINDOW].to_rgba();
        Legend::new(vec![
            Entry {
                handle: Handle::Points(INK.to_rgba()),
                label: "Data".into(),
            },
            Entry {
                handle: Handle::Patch {
                    fill: blue.mix(0.35),
                    edge: blue,
                },
                label: "Reference".into(),
            },
            Entry {
                handle: Handle::Patch {
                    fill: red.mix(0.15),
                    edge: red,
                },
                label: "Selected window".into(),
            },
        ])
    }

    fn summary(&self) -> Legend {
        let r = self.r;
        let (lo, hi) = r.window_edges;
        let word = match r.mode {
            Mode::Excess => "Excess",
            Mode::Deficit => "Deficit",
        };
        let ge = if r.global_z_is_lower_limit {
            "≥"
        } else {
            "="
        };
        let lines = [
            format!("{word} in [{}, {}]", short(lo), short(hi)),
            format!("Local Z = {:.2}σ", r.local_z),
            format!("Global Z {ge} {:.2}σ ({} PE)", r.global_z, r.npe),
            format!(
                "Data {}, reference {}",
                short(r.n_data),
                short(r.n_reference)
            ),
        ];
        Legend::new(
            lines
                .into_iter()
                .map(|label| Entry {
                    handle: Handle::Text,
                    label,
                })
                .collect(),
        )
    }

    /// The upper panel's y axis from its low end to the highest point.
    fn y_base(&self) -> Axis {
        let (d, b) = (self.r.data.counts(), self.r.reference.counts());
        let hi = self
            .tops()
            .fold(f64::NEG_INFINITY, |hi, (_, _, top)| hi.max(top));
        if self.opts.log_y {
            let min_pos = d
                .iter()
                .chain(b)
                .copied()
                .filter(|&v| v > 0.0)
                .fold(f64::INFINITY, f64::min);
            Axis::new(Scale::Log, (0.5 * min_pos).min(hi / 10.0), hi)
        } else {
            Axis::new(Scale::Linear, 0.0, if hi > 0.0 { hi } else { 1.0 })
        }
    }

    /// Every bin's edges and highest point (data error bars included).
    fn tops(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        let (d, b, e) = (
            self.r.data.counts(),
            self.r.reference.counts(),
            &self.bars.1,
        );
        let edges = self.r.data.edges();
        (0..d.len()).map(move |i| (edges[i], edges[i + 1], (d[i] + e[i]).max(b[i])))
    }

    fn significance_axis(&self) -> Axis {
        let s = &self.r.bin_significance;
        let lo = s.iter().copied().fold(0.0, f64::min);
        let hi = s.iter().copied().fold(0.0, f64::max);
        let (lo, hi) = if hi > lo { (lo, hi) } else { (-1.0, 1.0) };
        Axis::new(Scale::Linear, lo, hi).stretched(0.08, 0.92)
    }

    fn window_marks<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<'_, DB>,
        panel: &Panel,
        shade: bool,
    ) -> DrawResult {
        let (lo, hi) = self.r.window_edges;
        let red: RGBAColor = PALETTE[WINDOW].to_rgba();
        let (Some(x0), Some(x1)) = (panel.px(lo), panel.px(hi)) else {
            return Ok(());
        };
        let rect = panel.rect;
        if shade {
            canvas.fill_rect((x0, rect.y0), (x1, rect.y1), red.mix(0.15))?;
        }
        for x in [x0, x1] {
            canvas.dashed(
                &[(x, rect.y0), (x, rect.y1)],
                red,
                canvas.theme.line_width(),
            )?;
        }
        Ok(())
    }
}

impl Figure for BumpFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult {
        let t = canvas.theme;
        let (opts, r) = (self.opts, self.r);
        let margins = Margins {
            title: &opts.title,
            x_label: &opts.x_label,
            y_label: true,
            right: 0.0,
        };
        let w = canvas.size().0;
        let main_share = 0.68;
        let edges = r.data.edges();
        let x = Axis::new(Scale::Linear, edges[0], edges[edges.len() - 1]);
        let x_ticks = x.ticks(tick_count(w - 150.0 * t.scale, 90.0, t.scale));
        let s_axis = self.significance_axis();
        let s_ticks = s_axis.ticks(4);
        // Lay out with the data's range first, then make room for the two boxes.
        let base = self.y_base();
        let first = margins.area(canvas, &[&base.ticks(8), &s_ticks], &x_ticks)?;
        let first_main = Rect {
            y1: first.y0 + main_share * first.height(),
            ..first
        };
        let (legend, summary) = (self.legend(), self.summary());
        let ((lw, lh), (sw, sh)) = (legend.size(canvas)?, summary.size(canvas)?);
        let room = (lw.max(sw) + 2.0 * t.pad(), lh + sh + 2.0 * t.pad());
        let y = fit_below_box(base, &x, self.tops(), &first_main, room);
        let y_ticks = y.ticks(tick_count(first_main.height(), 60.0, t.scale).min(8));
        let area = margins.area(canvas, &[&y_ticks, &s_ticks], &x_ticks)?;
        let split = area.y0 + main_share * area.height();
        let main = Panel {
            rect: Rect { y1: split, ..area },
            x,
            y,
        };
        let lower = Panel {
            rect: Rect { y0: split, ..area },
            x,
            y: s_axis,
        };
        margins.draw_title(canvas, &area)?;

        let blue = PALETTE[REFERENCE].to_rgba();
        self.window_marks(canvas, &main, true)?;
        marks::fill(
            canvas,
            &main,
            edges,
            r.reference.counts(),
            None,
            blue.mix(0.35),
        )?;
        marks::steps(canvas, &main, edges, r.reference.counts(), None, blue)?;
        marks::points_asymmetric(
            canvas,
            &main,
            edges,
            r.data.counts(),
            (&self.bars.0, &self.bars.1),
            INK.to_rgba(),
        )?;
        Frame {
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            x_label: "",
            x_tick_labels: false,
            y_label: &opts.y_label,
            trim_y: (true, false),
        }
        .draw(canvas, &main, t.pad())?;

        let in_window = |i: usize| i >= r.start && i < r.start + r.width;
        let red = PALETTE[WINDOW].to_rgba();
        self.window_marks(canvas, &lower, false)?;
        marks::bars(canvas, &lower, edges, &r.bin_significance, |i| {
            if in_window(i) {
                red.mix(0.85)
            } else {
                GUIDE.mix(0.7)
            }
        })?;
        marks::hline(canvas, &lower, 0.0, INK.to_rgba(), false)?;
        Frame {
            x_ticks: &x_ticks,
            y_ticks: &s_ticks,
            x_label: &opts.x_label,
            x_tick_labels: true,
            y_label: "Significance",
            trim_y: (false, true),
        }
        .draw(canvas, &lower, t.pad())?;

        let place = legend.place(canvas, &main.rect, Corner::UpperRight, 0.0)?;
        legend.draw(canvas, &place)?;
        let below = summary.place(canvas, &main.rect, Corner::UpperRight, place.y1 - place.y0)?;
        summary.draw(canvas, &below)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::test_util::{check_png, check_svg};
    use crate::stats::bumphunter::{BumpHunterOptions, bump_hunter};
    use crate::stats::hist::Hist1D;

    fn result() -> BumpHunterResult {
        let edges: Vec<f64> = (0..=40).map(|i| 2600.0 + 85.0 * i as f64).collect();
        let reference: Vec<f64> = (0..40)
            .map(|i| 4000.0 * (-(i as f64) / 8.0).exp())
            .collect();
        let data: Vec<f64> = reference
            .iter()
            .enumerate()
            .map(|(i, b)| {
                (b + if (12..15).contains(&i) {
                    3.5 * b.sqrt()
                } else {
                    0.3 * b.sqrt() * ((i * 7 % 5) as f64 - 2.0)
                })
                .round()
                .max(0.0)
            })
            .collect();
        let data = Hist1D::from_counts(edges.clone(), data).unwrap();
        let reference = Hist1D::from_counts(edges, reference).unwrap();
        bump_hunter(
            &data,
            &reference,
            &BumpHunterOptions {
                npe: 2000,
                seed: 3,
                ..Default::default()
            },
            None,
        )
        .unwrap()
    }

    #[test]
    fn bump_figure_renders_with_the_significances() {
        let dir = tempfile::tempdir().unwrap();
        let r = result();
        for log_y in [false, true] {
            let opts = BumpPlotOptions {
                x_label: "m_jj [GeV]".into(),
                log_y,
                ..Default::default()
            };
            for ext in ["png", "svg"] {
                let path = dir.path().join(format!("bump-{log_y}.{ext}"));
                plot_bumphunter(&path, &r, &opts).unwrap();
                if ext == "png" {
                    check_png(&path, (800, 600));
                } else {
                    let ge = if r.global_z_is_lower_limit {
                        "≥"
                    } else {
                        "="
                    };
                    check_svg(
                        &path,
                        &[
                            "m_jj [GeV]",
                            "Local Z",
                            &format!("Global Z {ge}"),
                            "Significance",
                            "Selected window",
                        ],
                    );
                }
            }
        }
    }

    #[test]
    fn inconsistent_results_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = result();
        r.bin_significance.pop();
        let err = plot_bumphunter(&dir.path().join("b.png"), &r, &BumpPlotOptions::default())
            .unwrap_err();
        assert!(err.to_string().contains("do not match"), "{err}");
        r.bin_significance.push(f64::NAN);
        assert!(
            plot_bumphunter(&dir.path().join("b.png"), &r, &BumpPlotOptions::default()).is_err()
        );
    }
}
