//! Box plots side by side, one box per labelled set of values: the box spans the 25th to
//! 75th percentile with a line at the median, the whiskers reach the minimum and maximum, and
//! every value is drawn as a point beside the box. [`plot_dm_boxes`] draws the per-signal
//! significance improvements of Dark Machines evaluations this way (Ostdiek 2021 Fig. 6, Caron et al. 2021
//! Fig. 5), one box per method.

use std::path::Path;

use plotters::prelude::DrawingBackend;
use plotters::style::Color;

use super::axes::{Axis, Scale, Ticks};
use super::draw::Canvas;
use super::draw::DrawResult;
use super::frame::{Frame, Margins, Panel, Rect, tick_count};
use super::output::{Figure, save};
use super::style::{DEFAULT_SIZE, INK, series_color};
use crate::data::describe::quantile_sorted;
use crate::error::{Error, Result};
use crate::stats::dark_machines::DmEvaluation;

/// One box: a label under it and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct BoxSeries {
    /// The label on the x axis.
    pub label: String,
    /// The values (at least one, all finite).
    pub values: Vec<f64>,
}

/// Options of [`plot_boxes`].
#[derive(Clone, Debug, PartialEq)]
pub struct BoxOptions {
    /// Title above the plot (empty: none).
    pub title: String,
    /// Label of the y axis (empty: none).
    pub y_label: String,
    /// Logarithmic y axis (every value must then be positive).
    pub log_y: bool,
    /// Figure size in pixels (width, height); 800×600.
    pub size: (u32, u32),
}

impl Default for BoxOptions {
    fn default() -> Self {
        Self {
            title: String::new(),
            y_label: String::new(),
            log_y: false,
            size: DEFAULT_SIZE,
        }
    }
}

/// The five numbers of a box: min, 25 %, median, 75 %, max (percentiles interpolated
/// linearly between order statistics, numpy's default).
fn five_numbers(values: &[f64]) -> [f64; 5] {
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| quantile_sorted(&v, p);
    [v[0], q(0.25), q(0.5), q(0.75), v[v.len() - 1]]
}

/// Plots one box per series to `path` (`.png` or `.svg`), left to right in order, each in
/// the next colour of the cycle.
///
/// Errors: no series, an empty series, a non-finite value (or a non-positive one on a log
/// axis), a bad path or size.
pub fn plot_boxes(path: &Path, series: &[BoxSeries], opts: &BoxOptions) -> Result<()> {
    if series.is_empty() {
        return Err(Error::invalid(
            "boxes",
            "nothing to plot; pass at least one series",
        ));
    }
    for s in series {
        if s.values.is_empty() {
            return Err(Error::invalid(format!("box '{}'", s.label), "no values"));
        }
        if let Some(v) = s
            .values
            .iter()
            .find(|v| !v.is_finite() || (opts.log_y && **v <= 0.0))
        {
            let need = if opts.log_y {
                "finite and positive (log axis)"
            } else {
                "finite"
            };
            return Err(Error::invalid(
                format!("box '{}'", s.label),
                format!("value {v}: values must be {need}"),
            ));
        }
    }
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let y = if opts.log_y {
        let axis = Axis::new(Scale::Log, lo, hi);
        if lo < hi {
            axis.stretched(0.05, 0.95)
        } else {
            axis
        }
    } else {
        let axis = Axis::new(Scale::Linear, lo.min(0.0), hi);
        if lo.min(0.0) < hi {
            axis.stretched(0.0, 0.95)
        } else {
            axis
        }
    };
    save(path, opts.size, &BoxFigure { series, opts, y })
}

/// The per-signal significance improvements (best channel per signal, the values of the
/// total improvement) of each labelled evaluation as one box, side by side, on a log axis
/// when every value is positive. Errors as [`plot_boxes`]; an empty list is an error.
pub fn plot_dm_boxes(
    path: &Path,
    evaluations: &[(&str, &DmEvaluation)],
    title: &str,
) -> Result<()> {
    let series: Vec<BoxSeries> = evaluations
        .iter()
        .map(|(label, e)| BoxSeries {
            label: label.to_string(),
            values: e.improvements(),
        })
        .collect();
    let log_y = series.iter().all(|s| s.values.iter().all(|&v| v > 0.0));
    let opts = BoxOptions {
        title: title.to_string(),
        y_label: "Total improvement  max ε_S/√ε_B".into(),
        log_y,
        ..Default::default()
    };
    plot_boxes(path, &series, &opts)
}

struct BoxFigure<'a> {
    series: &'a [BoxSeries],
    opts: &'a BoxOptions,
    y: Axis,
}

impl Figure for BoxFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult {
        let t = canvas.theme;
        let opts = self.opts;
        let n = self.series.len();
        let x = Axis::new(Scale::Linear, 0.5, n as f64 + 0.5);
        let x_ticks = Ticks {
            major: self
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| ((i + 1) as f64, s.label.clone()))
                .collect(),
            minor: Vec::new(),
            multiplier: None,
        };
        let margins = Margins {
            title: &opts.title,
            x_label: "",
            y_label: !opts.y_label.is_empty(),
            right: 0.0,
        };
        let (_, h) = canvas.size();
        let (top, bottom) = margins.vertical(canvas);
        let y_ticks = self
            .y
            .ticks(tick_count(h - top - bottom, 60.0, t.scale).min(8));
        let rect: Rect = margins.area(canvas, &[&y_ticks], &x_ticks)?;
        let panel = Panel { rect, x, y: self.y };
        margins.draw_title(canvas, &rect)?;

        let lw = t.line_width();
        let half = 0.2;
        for (i, s) in self.series.iter().enumerate() {
            let color = series_color(i);
            let centre = (i + 1) as f64;
            let [min, q1, median, q3, max] = five_numbers(&s.values);
            let px = |v: f64| panel.px(v).unwrap_or(rect.x0);
            let py = |v: f64| panel.py(v).unwrap_or(rect.y1);
            let (x0, x1, xc) = (px(centre - half), px(centre + half), px(centre));
            canvas.fill_rect((x0, py(q3)), (x1, py(q1)), color.mix(0.3))?;
            let ink = color.to_rgba();
            canvas.line(
                &[
                    (x0, py(q1)),
                    (x1, py(q1)),
                    (x1, py(q3)),
                    (x0, py(q3)),
                    (x0, py(q1)),
                ],
                ink,
                lw,
            )?;
            canvas.line(&[(x0, py(median)), (x1, py(median))], INK.to_rgba(), lw + 1)?;
            let cap = 0.5 * (x1 - x0) * 0.5;
            for (from, to) in [(q1, min), (q3, max)] {
                canvas.line(&[(xc, py(from)), (xc, py(to))], ink, lw)?;
                canvas.line(&[(xc - cap, py(to)), (xc + cap, py(to))], ink, lw)?;
            }
            // The values as points to the right of the box, spread a little so that equal
            // values stay visible.
            let m = s.values.len();
            for (k, &v) in s.values.iter().enumerate() {
                let offset = half + 0.05 + 0.12 * (k as f64 + 0.5) / m as f64;
                if let Some(p) = panel.point(centre + offset, v) {
                    canvas.dot(p, t.marker(), ink)?;
                }
            }
        }
        Frame {
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            x_label: "",
            x_tick_labels: true,
            y_label: &opts.y_label,
            trim_y: (false, false),
        }
        .draw(canvas, &panel, t.pad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::test_util::{check_png, check_svg};

    #[test]
    fn five_numbers_interpolate_like_numpy() {
        assert_eq!(
            five_numbers(&[4.0, 1.0, 3.0, 2.0, 5.0]),
            [1.0, 2.0, 3.0, 4.0, 5.0]
        );
        assert_eq!(
            five_numbers(&[1.0, 2.0, 3.0, 4.0]),
            [1.0, 1.75, 2.5, 3.25, 4.0]
        );
        assert_eq!(five_numbers(&[7.0]), [7.0; 5]);
    }

    #[test]
    fn boxes_render_and_bad_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let series = [
            BoxSeries {
                label: "svdd".into(),
                values: vec![0.5, 2.0, 3.0, 10.0],
            },
            BoxSeries {
                label: "flow OR".into(),
                values: vec![1.0, 4.0, 30.0],
            },
        ];
        let opts = BoxOptions {
            title: "Total improvement".into(),
            y_label: "SI".into(),
            log_y: true,
            ..Default::default()
        };
        let png = dir.path().join("b.png");
        plot_boxes(&png, &series, &opts).unwrap();
        check_png(&png, DEFAULT_SIZE);
        let svg = dir.path().join("b.svg");
        plot_boxes(&svg, &series, &BoxOptions::default()).unwrap();
        check_svg(&svg, &["svdd", "flow OR"]);
        assert!(plot_boxes(&png, &[], &opts).is_err());
        let zero = [BoxSeries {
            label: "z".into(),
            values: vec![0.0],
        }];
        let err = plot_boxes(&png, &zero, &opts).unwrap_err().to_string();
        assert!(err.contains("'z'") && err.contains("positive"), "{err}");
        plot_boxes(&png, &zero, &BoxOptions::default()).unwrap();
    }
}
