//! One-dimensional histograms: overlaid or stacked step lines or filled areas, a data series
//! as points with error bars, an optional ratio panel.

use std::path::Path;

use plotters::prelude::DrawingBackend;
use plotters::style::{Color, RGBAColor};

use super::axes::{Axis, Scale, Ticks};
use super::draw::Canvas;
use super::draw::DrawResult;
use super::frame::{Frame, Margins, Panel, Rect, fit_below_box, tick_count};
use super::legend::{Corner, Entry, Handle, Legend};
use super::marks;
use super::output::{Figure, save};
use super::style::{DEFAULT_SIZE, GUIDE, INK, series_color};
use crate::error::{Error, Result};
use crate::stats::hist::Hist1D;

/// Options of [`plot_hists`].
#[derive(Clone, Debug, PartialEq)]
pub struct HistOptions {
    /// Title above the plot (empty: none).
    pub title: String,
    /// Label of the x axis (empty: none).
    pub x_label: String,
    /// Label of the y axis ("Events").
    pub y_label: String,
    /// Logarithmic x axis; every bin edge must then be positive.
    pub log_x: bool,
    /// Logarithmic y axis; empty and negative bins run off the bottom of the plot.
    pub log_y: bool,
    /// Fill the area under each (non-data) histogram.
    pub filled: bool,
    /// Stack the non-data histograms on each other, the first at the bottom; they must
    /// share their binning.
    pub stacked: bool,
    /// Normalise to unit area: each histogram (or the stack as a whole) divided by its total
    /// and the bin widths. Histograms with a zero total are left as they are.
    pub density: bool,
    /// The index of the series that is data: drawn as black points with sqrt(sum w²) error
    /// bars, never stacked.
    pub data: Option<usize>,
    /// Add a lower panel with a ratio. The numerator is the data series if one is marked,
    /// else the first series; the denominator is the stack's sum when stacked, else the first
    /// other series. Points with error bars when the numerator is data (errors of the
    /// numerator only), a line otherwise; the denominator's relative uncertainty is the
    /// grey band around one.
    pub ratio: bool,
    /// Figure size in pixels (width, height); 800×600.
    pub size: (u32, u32),
}

impl Default for HistOptions {
    fn default() -> Self {
        Self {
            title: String::new(),
            x_label: String::new(),
            y_label: "Events".to_string(),
            log_x: false,
            log_y: false,
            filled: false,
            stacked: false,
            density: false,
            data: None,
            ratio: false,
            size: DEFAULT_SIZE,
        }
    }
}

/// Plots histograms to `path` (`.png` or `.svg`). `series` pairs a legend label (empty: no
/// legend entry) with a histogram. Histograms may have different binnings unless stacked or
/// compared in the ratio panel.
///
/// Empty histograms (all bins zero) give empty axes, on a log axis too. Errors: no series, a
/// non-finite bin, a `data` index out of range, a ratio with fewer than two series, different
/// binnings where they must agree, non-positive edges on a log x axis, a bad path or size.
pub fn plot_hists(path: &Path, series: &[(&str, &Hist1D)], opts: &HistOptions) -> Result<()> {
    let figure = HistFigure::new(series, opts)?;
    save(path, opts.size, &figure)
}

/// A series ready to draw: values after normalisation and stacking.
struct Layer {
    label: String,
    color: RGBAColor,
    edges: Vec<f64>,
    /// Top of the layer (the value itself when not stacked).
    upper: Vec<f64>,
    /// Bottom of the layer in a stack.
    lower: Option<Vec<f64>>,
    errors: Vec<f64>,
    is_data: bool,
}

/// The ratio panel's content.
struct Ratio {
    edges: Vec<f64>,
    /// Ratio and its error per bin, NaN where the denominator is not positive.
    values: Vec<f64>,
    errors: Vec<f64>,
    /// The denominator's relative uncertainty per bin.
    band: Vec<f64>,
    as_points: bool,
    color: RGBAColor,
    label: &'static str,
}

struct HistFigure<'a> {
    opts: &'a HistOptions,
    layers: Vec<Layer>,
    ratio: Option<Ratio>,
    x_range: (f64, f64),
}

fn check(label: &str, h: &Hist1D, log_x: bool) -> Result<()> {
    let name = || format!("histogram '{label}'");
    if let Some(i) = h
        .counts()
        .iter()
        .zip(h.sumw2())
        .position(|(c, s)| !c.is_finite() || !s.is_finite())
    {
        return Err(Error::invalid(
            name(),
            format!(
                "bin {i} holds {} (not finite); nothing can be drawn from it",
                h.counts()[i]
            ),
        ));
    }
    if log_x && h.edges()[0] <= 0.0 {
        return Err(Error::invalid(
            name(),
            format!(
                "the first bin edge is {}; a log x axis needs positive edges",
                h.edges()[0]
            ),
        ));
    }
    Ok(())
}

/// Counts divided by `total` and the bin widths (unchanged when `total` is zero).
fn normalised(h: &Hist1D, total: f64) -> (Vec<f64>, Vec<f64>) {
    let widths: Vec<f64> = h.edges().windows(2).map(|w| w[1] - w[0]).collect();
    let f = |v: f64, w: f64| if total != 0.0 { v / (total * w) } else { v };
    let values = h
        .counts()
        .iter()
        .zip(&widths)
        .map(|(&c, &w)| f(c, w))
        .collect();
    let errors = h
        .errors()
        .iter()
        .zip(&widths)
        .map(|(&e, &w)| f(e, w).abs())
        .collect();
    (values, errors)
}

impl<'a> HistFigure<'a> {
    fn new(series: &[(&str, &Hist1D)], opts: &'a HistOptions) -> Result<HistFigure<'a>> {
        if series.is_empty() {
            return Err(Error::invalid(
                "histograms",
                "nothing to plot; pass at least one histogram",
            ));
        }
        for (label, h) in series {
            check(label, h, opts.log_x)?;
        }
        if let Some(d) = opts.data.filter(|&d| d >= series.len()) {
            return Err(Error::invalid(
                "data",
                format!("series {d} does not exist; there are {}", series.len()),
            ));
        }
        let is_data = |i: usize| opts.data == Some(i);
        let stacked: Vec<usize> = (0..series.len())
            .filter(|&i| opts.stacked && !is_data(i))
            .collect();
        if let Some(&first) = stacked.first() {
            for &i in &stacked[1..] {
                series[first].1.check_same_binning(series[i].1)?;
            }
        }
        let stack_total: f64 = stacked.iter().map(|&i| series[i].1.total()).sum();
        let mut layers = Vec::with_capacity(series.len());
        let mut below: Option<Vec<f64>> = None;
        let mut below_var: Option<Vec<f64>> = None;
        let mut n_colored = 0;
        for (i, (label, h)) in series.iter().enumerate() {
            let in_stack = stacked.contains(&i);
            let total = if in_stack { stack_total } else { h.total() };
            let (values, errors) = if opts.density {
                normalised(h, total)
            } else {
                (h.counts().to_vec(), h.errors())
            };
            let color = if is_data(i) {
                INK.to_rgba()
            } else {
                n_colored += 1;
                series_color(n_colored - 1).to_rgba()
            };
            let (upper, lower) = match (in_stack, &below) {
                (true, Some(b)) => (
                    values.iter().zip(b).map(|(v, b)| v + b).collect(),
                    Some(b.clone()),
                ),
                _ => (values, None),
            };
            if in_stack {
                let var: Vec<f64> = match &below_var {
                    Some(v) => v.iter().zip(&errors).map(|(v, e)| v + e * e).collect(),
                    None => errors.iter().map(|e| e * e).collect(),
                };
                below = Some(upper.clone());
                below_var = Some(var);
            }
            layers.push(Layer {
                label: label.to_string(),
                color,
                edges: h.edges().to_vec(),
                upper,
                lower,
                errors,
                is_data: is_data(i),
            });
        }
        let ratio = if opts.ratio {
            Some(Self::ratio(series, &layers, opts, below.zip(below_var))?)
        } else {
            None
        };
        let lo = layers
            .iter()
            .map(|l| l.edges[0])
            .fold(f64::INFINITY, f64::min);
        let hi = layers
            .iter()
            .map(|l| l.edges[l.edges.len() - 1])
            .fold(f64::NEG_INFINITY, f64::max);
        Ok(HistFigure {
            opts,
            layers,
            ratio,
            x_range: (lo, hi),
        })
    }

    /// The ratio of numerator to denominator (see [`HistOptions::ratio`]); `stack` is the
    /// stack's top and variance.
    fn ratio(
        series: &[(&str, &Hist1D)],
        layers: &[Layer],
        opts: &HistOptions,
        stack: Option<(Vec<f64>, Vec<f64>)>,
    ) -> Result<Ratio> {
        if series.len() < 2 {
            return Err(Error::invalid(
                "ratio",
                "a ratio panel needs at least two histograms",
            ));
        }
        let num = opts.data.unwrap_or(0);
        let (den_hist, den_values, den_var) = match stack {
            Some((top, var)) => {
                let first = (0..series.len()).find(|&i| i != num).unwrap_or(0);
                (series[first].1, top, var)
            }
            None => {
                let other = (0..series.len()).find(|&i| i != num).unwrap_or(0);
                let l = &layers[other];
                (
                    series[other].1,
                    l.upper.clone(),
                    l.errors.iter().map(|e| e * e).collect(),
                )
            }
        };
        series[num].1.check_same_binning(den_hist)?;
        let n = &layers[num];
        let mut values = Vec::with_capacity(den_values.len());
        let mut errors = Vec::with_capacity(den_values.len());
        let mut band = Vec::with_capacity(den_values.len());
        for i in 0..den_values.len() {
            let d = den_values[i];
            let ok = d > 0.0;
            values.push(if ok { n.upper[i] / d } else { f64::NAN });
            errors.push(if ok { n.errors[i] / d } else { 0.0 });
            band.push(if ok { den_var[i].sqrt() / d } else { 0.0 });
        }
        Ok(Ratio {
            edges: n.edges.clone(),
            values,
            errors,
            band,
            as_points: n.is_data,
            color: n.color,
            label: if n.is_data { "Data / Pred." } else { "Ratio" },
        })
    }

    fn legend(&self) -> Legend {
        let entries = self.layers.iter().filter(|l| !l.label.is_empty()).map(|l| {
            let handle = if l.is_data {
                Handle::Points(l.color)
            } else if self.opts.filled {
                Handle::Patch {
                    fill: self.fill_color(l),
                    edge: l.color,
                }
            } else {
                Handle::Line(l.color)
            };
            (
                l.is_data,
                Entry {
                    handle,
                    label: l.label.clone(),
                },
            )
        });
        // Data first, then the stack from the top down (as it appears), else in order.
        let (mut data, mut rest): (Vec<_>, Vec<_>) = entries.partition(|(d, _)| *d);
        if self.opts.stacked {
            rest.reverse();
        }
        data.append(&mut rest);
        Legend::new(data.into_iter().map(|(_, e)| e).collect())
    }

    fn fill_color(&self, l: &Layer) -> RGBAColor {
        if self.opts.stacked {
            l.color
        } else {
            l.color.mix(0.3)
        }
    }

    /// The y axis of the main panel from its low end to the highest point.
    fn y_base(&self) -> Axis {
        let mut lo: f64 = 0.0;
        let mut min_pos = f64::INFINITY;
        for l in &self.layers {
            for &u in &l.upper {
                lo = lo.min(u);
                if u > 0.0 {
                    min_pos = min_pos.min(u);
                }
            }
        }
        let hi = self
            .tops()
            .fold(f64::NEG_INFINITY, |hi, (_, _, top)| hi.max(top));
        if self.opts.log_y {
            Axis::new(Scale::Log, (0.5 * min_pos).min(hi / 10.0), hi)
        } else if hi > lo {
            Axis::new(Scale::Linear, lo, hi)
        } else {
            Axis::new(Scale::Linear, 0.0, 1.0)
        }
    }

    /// Every bin's edges and highest point (data error bars included).
    fn tops(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.layers.iter().flat_map(|l| {
            (0..l.upper.len()).map(move |i| {
                let e = if l.is_data { l.errors[i] } else { 0.0 };
                (l.edges[i], l.edges[i + 1], l.upper[i] + e)
            })
        })
    }

    fn ratio_axis(r: &Ratio) -> Axis {
        let mut dev: f64 = 0.0;
        for i in 0..r.values.len() {
            if r.values[i].is_finite() {
                dev = dev.max((r.values[i] - 1.0).abs() + r.errors[i]);
            }
            dev = dev.max(r.band[i]);
        }
        // Ticks at 1 and 1 ± half, inside the panel.
        let half = [0.1, 0.2, 0.5, 1.0]
            .into_iter()
            .find(|&h| dev * 1.1 <= h)
            .unwrap_or(1.0);
        Axis::new(
            Scale::Linear,
            (1.0 - 1.25 * half).max(0.0),
            1.0 + 1.25 * half,
        )
    }

    fn draw_main<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>, panel: &Panel) -> DrawResult {
        for l in self.layers.iter().filter(|l| !l.is_data) {
            if self.opts.filled {
                marks::fill(
                    canvas,
                    panel,
                    &l.edges,
                    &l.upper,
                    l.lower.as_deref(),
                    self.fill_color(l),
                )?;
            }
        }
        for l in self.layers.iter().filter(|l| !l.is_data) {
            let edge = if self.opts.filled && self.opts.stacked {
                INK.mix(0.8)
            } else {
                l.color
            };
            marks::steps(canvas, panel, &l.edges, &l.upper, l.lower.as_deref(), edge)?;
        }
        for l in self.layers.iter().filter(|l| l.is_data) {
            marks::points(canvas, panel, &l.edges, &l.upper, &l.errors, l.color)?;
        }
        Ok(())
    }

    fn draw_ratio<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<'_, DB>,
        panel: &Panel,
        r: &Ratio,
    ) -> DrawResult {
        let ones = vec![1.0; r.band.len()];
        let up: Vec<f64> = r.band.iter().map(|b| 1.0 + b).collect();
        let down: Vec<f64> = r.band.iter().map(|b| 1.0 - b).collect();
        marks::fill(canvas, panel, &r.edges, &up, Some(&down), GUIDE.mix(0.3))?;
        marks::hline(canvas, panel, 1.0, GUIDE.to_rgba(), true)?;
        if r.as_points {
            marks::points(canvas, panel, &r.edges, &r.values, &r.errors, r.color)?;
        } else {
            // NaN bins (no denominator) are drawn at one.
            let v: Vec<f64> = r
                .values
                .iter()
                .zip(&ones)
                .map(|(&v, &o)| if v.is_finite() { v } else { o })
                .collect();
            marks::steps(canvas, panel, &r.edges, &v, Some(&ones), r.color)?;
        }
        Ok(())
    }
}

impl Figure for HistFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult {
        let t = canvas.theme;
        let opts = self.opts;
        let margins = Margins {
            title: &opts.title,
            x_label: &opts.x_label,
            y_label: !opts.y_label.is_empty(),
            right: 0.0,
        };
        let w = canvas.size().0;
        let main_share = if self.ratio.is_some() { 0.7 } else { 1.0 };
        let x_scale = if opts.log_x {
            Scale::Log
        } else {
            Scale::Linear
        };
        let x = Axis::new(x_scale, self.x_range.0, self.x_range.1);
        let x_ticks = x.ticks(tick_count(w - 150.0 * t.scale, 90.0, t.scale));
        let ratio_axis = self.ratio.as_ref().map(Self::ratio_axis);
        let ratio_ticks = ratio_axis.map(|a| a.ticks(3)).unwrap_or(Ticks {
            major: vec![],
            minor: vec![],
            multiplier: None,
        });
        // Lay out with the data's range first, then make room for the legend.
        let base = self.y_base();
        let y_count = |rect: &Rect| tick_count(main_share * rect.height(), 60.0, t.scale).min(8);
        let first = margins.area(canvas, &[&base.ticks(8), &ratio_ticks], &x_ticks)?;
        let first_main = Rect {
            y1: first.y0 + main_share * first.height(),
            ..first
        };
        let legend = self.legend();
        let (lw, lh) = legend.size(canvas)?;
        let y = if lh > 0.0 {
            fit_below_box(
                base,
                &x,
                self.tops(),
                &first_main,
                (lw + 2.0 * t.pad(), lh + 2.0 * t.pad()),
            )
        } else {
            base.stretched(0.0, 0.95)
        };
        let y_ticks = y.ticks(y_count(&first));
        let area = margins.area(canvas, &[&y_ticks, &ratio_ticks], &x_ticks)?;
        let split = area.y0 + main_share * area.height();
        let main = Panel {
            rect: Rect { y1: split, ..area },
            x,
            y,
        };
        margins.draw_title(canvas, &area)?;
        self.draw_main(canvas, &main)?;
        let has_ratio = self.ratio.is_some();
        Frame {
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            x_label: &opts.x_label,
            x_tick_labels: !has_ratio,
            y_label: &opts.y_label,
            trim_y: (has_ratio, false),
        }
        .draw(canvas, &main, t.pad())?;
        if let (Some(r), Some(ry)) = (&self.ratio, ratio_axis) {
            let panel = Panel {
                rect: Rect { y0: split, ..area },
                x,
                y: ry,
            };
            self.draw_ratio(canvas, &panel, r)?;
            Frame {
                x_ticks: &x_ticks,
                y_ticks: &ratio_ticks,
                x_label: &opts.x_label,
                x_tick_labels: true,
                y_label: r.label,
                trim_y: (false, true),
            }
            .draw(canvas, &panel, t.pad())?;
        }
        let place = legend.place(canvas, &main.rect, Corner::UpperRight, 0.0)?;
        legend.draw(canvas, &place)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::test_util::{check_png, check_svg};

    fn falling(n: usize, scale: f64) -> Hist1D {
        let edges: Vec<f64> = (0..=n).map(|i| 2600.0 + 100.0 * i as f64).collect();
        let counts = (0..n)
            .map(|i| (scale * (-(i as f64) / 6.0).exp()).round())
            .collect();
        Hist1D::from_counts(edges, counts).unwrap()
    }

    #[test]
    fn overlaid_stacked_and_ratio_figures_render() {
        let dir = tempfile::tempdir().unwrap();
        let bkg = falling(30, 5000.0);
        let sig = Hist1D::from_counts(
            bkg.edges().to_vec(),
            (0..30)
                .map(|i| if (6..10).contains(&i) { 150.0 } else { 0.0 })
                .collect(),
        )
        .unwrap();
        let data = bkg.add(&sig).unwrap();
        let opts = HistOptions {
            title: "Dijet invariant mass".into(),
            x_label: "m_jj [GeV]".into(),
            log_y: true,
            stacked: true,
            filled: true,
            data: Some(0),
            ratio: true,
            ..Default::default()
        };
        for ext in ["png", "svg"] {
            let path = dir.path().join(format!("stack.{ext}"));
            plot_hists(
                &path,
                &[("Data", &data), ("QCD dijets", &bkg), ("Z' signal", &sig)],
                &opts,
            )
            .unwrap();
            if ext == "png" {
                check_png(&path, (800, 600));
            } else {
                check_svg(
                    &path,
                    &["m_jj [GeV]", "QCD dijets", "Data / Pred.", "Events"],
                );
            }
        }
        let sim = falling(30, 5300.0);
        let opts = HistOptions {
            x_label: "m_jj [GeV]".into(),
            y_label: "Density".into(),
            density: true,
            filled: true,
            ratio: true,
            size: (640, 480),
            ..Default::default()
        };
        let path = dir.path().join("overlay.png");
        plot_hists(&path, &[("Pythia", &bkg), ("Herwig", &sim)], &opts).unwrap();
        check_png(&path, (640, 480));
    }

    #[test]
    fn empty_and_zero_bins_on_a_log_axis() {
        let dir = tempfile::tempdir().unwrap();
        let empty = Hist1D::new(vec![0.0, 1.0, 2.0, 3.0]).unwrap();
        let sparse = Hist1D::from_counts(vec![0.0, 1.0, 2.0, 3.0], vec![0.0, 4.0, 0.0]).unwrap();
        // Contents whose ratio is beyond the float range (the log axis never finished drawing).
        let extreme =
            Hist1D::from_counts(vec![0.0, 1.0, 2.0, 3.0], vec![1e150, 1e-150, 1e308]).unwrap();
        for log_y in [false, true] {
            let opts = HistOptions {
                log_y,
                ..Default::default()
            };
            for (name, h) in [
                ("empty", &empty),
                ("sparse", &sparse),
                ("extreme", &extreme),
            ] {
                let path = dir.path().join(format!("{name}-{log_y}.png"));
                plot_hists(&path, &[("", h)], &opts).unwrap();
                check_png(&path, (800, 600));
            }
        }
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let h = Hist1D::from_counts(vec![0.0, 1.0, 2.0], vec![1.0, 2.0]).unwrap();
        let other = Hist1D::from_counts(vec![0.0, 1.0, 3.0], vec![1.0, 2.0]).unwrap();
        let png = dir.path().join("x.png");
        let err = |series: &[(&str, &Hist1D)], opts: &HistOptions| {
            plot_hists(&png, series, opts).unwrap_err().to_string()
        };
        assert!(err(&[], &HistOptions::default()).contains("nothing to plot"));
        assert!(
            err(
                &[("a", &h)],
                &HistOptions {
                    data: Some(1),
                    ..Default::default()
                }
            )
            .contains("series 1 does not exist")
        );
        assert!(
            err(
                &[("a", &h)],
                &HistOptions {
                    ratio: true,
                    ..Default::default()
                }
            )
            .contains("at least two")
        );
        assert!(
            err(
                &[("a", &h), ("b", &other)],
                &HistOptions {
                    stacked: true,
                    ..Default::default()
                }
            )
            .contains("binnings differ")
        );
        assert!(
            err(
                &[("a", &h)],
                &HistOptions {
                    log_x: true,
                    ..Default::default()
                }
            )
            .contains("positive edges")
        );
        let inf = h.scale(f64::INFINITY);
        assert!(err(&[("a", &inf)], &HistOptions::default()).contains("not finite"));
        let wrong = dir.path().join("x.jpg");
        let e = plot_hists(&wrong, &[("a", &h)], &HistOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("invalid plot path") && e.contains(".png or .svg"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
