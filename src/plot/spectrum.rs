//! Mass spectra with their fits in the particle-physics convention: observed counts as points
//! with Poisson (Garwood) error bars, each fit's expected counts as a line in its data's
//! colour, the signal region shaded, and a lower panel of pulls, so a reader sees at a glance
//! whether a background fit describes the sidebands.

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
use super::style::{DEFAULT_SIZE, GUIDE, INK, PALETTE, series_color};
use crate::error::{Error, Result};
use crate::stats::hist::Hist1D;
use crate::stats::special::{one_sigma_cl, poisson_interval};

/// One spectrum of a [`plot_spectrum`] figure: observed counts and, optionally, a fit's (or
/// any prediction's) expected counts in the same bins.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrum {
    /// Legend label of the data (empty: no entry).
    pub label: String,
    /// The observed counts.
    pub data: Hist1D,
    /// The expected counts in the same bins, if there is a fit.
    pub fit: Option<Hist1D>,
    /// Legend label of the fit (empty: no entry).
    pub fit_label: String,
    /// The fit describes the data badly (e.g. its χ² p-value is below a threshold): it is
    /// drawn dashed and its legend label ends in " !".
    pub poor_fit: bool,
}

/// What the pulls are divided by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullError {
    /// √μ, the Poisson standard deviation of the fit's expectation μ (bins where μ = 0 have
    /// no pull).
    Expected,
    /// The data's Garwood error bar on the side facing the fit (defined for empty bins too).
    Data,
}

/// Options of [`plot_spectrum`].
#[derive(Clone, Debug, PartialEq)]
pub struct SpectrumOptions {
    /// Title above the plot (empty: none).
    pub title: String,
    /// Label of the x axis (empty: none).
    pub x_label: String,
    /// Label of the y axis ("Events").
    pub y_label: String,
    /// Logarithmic x axis; every bin edge must then be positive (false).
    pub log_x: bool,
    /// Logarithmic y axis (true); empty bins show only their upper error bar.
    pub log_y: bool,
    /// The signal region `[lo, hi]`, shaded in both panels (none).
    pub signal_region: Option<(f64, f64)>,
    /// The lower panel of pulls (data − fit) / σ for every spectrum with a fit (true).
    pub pulls: bool,
    /// The σ of the pulls (√μ of the fit).
    pub pull_error: PullError,
    /// The confidence level of the data's error bars (0.6827, one standard deviation).
    pub cl: f64,
    /// Lines of text in a box below the legend, e.g. what a mark means (none).
    pub notes: Vec<String>,
    /// Figure size in pixels (width, height); 800×600.
    pub size: (u32, u32),
}

impl Default for SpectrumOptions {
    fn default() -> Self {
        Self {
            title: String::new(),
            x_label: String::new(),
            y_label: "Events".to_string(),
            log_x: false,
            log_y: true,
            signal_region: None,
            pulls: true,
            pull_error: PullError::Expected,
            cl: one_sigma_cl(),
            notes: Vec::new(),
            size: DEFAULT_SIZE,
        }
    }
}

/// The Garwood error bars of `counts` at confidence level `cl`: the distances (down, up) from
/// each count to the edges of its central Poisson interval (an empty bin: 0 down, 1.84 up at
/// 68.27 %). Negative counts (no Poisson interpretation) get no bar.
pub fn garwood_errors(counts: &[f64], cl: f64) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut down = Vec::with_capacity(counts.len());
    let mut up = Vec::with_capacity(counts.len());
    for &n in counts {
        if n < 0.0 {
            down.push(0.0);
            up.push(0.0);
            continue;
        }
        let (lo, hi) = poisson_interval(n, cl)?;
        down.push(n - lo);
        up.push(hi - n);
    }
    Ok((down, up))
}

/// The pull (n − μ) / σ of each bin (NaN where it is undefined: μ not positive with
/// [`PullError::Expected`]).
pub fn pull_values(
    counts: &[f64],
    expected: &[f64],
    error: PullError,
    (down, up): (&[f64], &[f64]),
) -> Vec<f64> {
    counts
        .iter()
        .zip(expected)
        .enumerate()
        .map(|(i, (&n, &mu))| {
            let sigma = match error {
                PullError::Expected => mu.max(0.0).sqrt(),
                PullError::Data if n >= mu => down[i],
                PullError::Data => up[i],
            };
            if sigma > 0.0 && mu.is_finite() {
                (n - mu) / sigma
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// Plots mass spectra with their fits to `path` (`.png` or `.svg`): each spectrum's data as
/// points with Garwood error bars ([`garwood_errors`]) and its fit as a line through the
/// expected counts at the bin centres, both in the spectrum's colour (black data and a blue
/// fit when there is only one spectrum); a poor fit dashed and marked "!" in the legend; the
/// signal region shaded; below, the pulls (n − μ)/σ of every fitted spectrum (bars for one
/// spectrum, markers for several) between dashed lines at ±2.
///
/// Errors: no spectra, a non-finite count or expectation, a fit whose binning differs from
/// its data's, an empty or non-finite signal region, a confidence level outside (0, 1),
/// non-positive edges on a log x axis, a bad path or size.
pub fn plot_spectrum(path: &Path, spectra: &[Spectrum], opts: &SpectrumOptions) -> Result<()> {
    let figure = SpectrumFigure::new(spectra, opts)?;
    save(path, opts.size, &figure)
}

/// A spectrum ready to draw.
struct Layer {
    label: String,
    fit_label: String,
    data_color: RGBAColor,
    fit_color: RGBAColor,
    edges: Vec<f64>,
    counts: Vec<f64>,
    down: Vec<f64>,
    up: Vec<f64>,
    expected: Option<Vec<f64>>,
    pulls: Option<Vec<f64>>,
    poor: bool,
}

impl Layer {
    fn centres(&self) -> Vec<f64> {
        self.edges.windows(2).map(|e| 0.5 * (e[0] + e[1])).collect()
    }
}

struct SpectrumFigure<'a> {
    opts: &'a SpectrumOptions,
    layers: Vec<Layer>,
    x_range: (f64, f64),
}

/// The signal region's shade.
fn region_fill() -> RGBAColor {
    PALETTE[2].mix(0.12)
}

fn check(s: &Spectrum, opts: &SpectrumOptions) -> Result<()> {
    let name = || format!("spectrum '{}'", s.label);
    let finite = |h: &Hist1D| h.counts().iter().all(|c| c.is_finite());
    if !finite(&s.data) || s.fit.as_ref().is_some_and(|f| !finite(f)) {
        return Err(Error::invalid(
            name(),
            "its counts or expectations hold non-finite values; nothing can be drawn from them",
        ));
    }
    if let Some(fit) = &s.fit {
        s.data.check_same_binning(fit)?;
    }
    if opts.log_x && s.data.edges()[0] <= 0.0 {
        return Err(Error::invalid(
            name(),
            format!(
                "the first bin edge is {}; a log x axis needs positive edges",
                s.data.edges()[0]
            ),
        ));
    }
    Ok(())
}

impl<'a> SpectrumFigure<'a> {
    fn new(spectra: &[Spectrum], opts: &'a SpectrumOptions) -> Result<SpectrumFigure<'a>> {
        if spectra.is_empty() {
            return Err(Error::invalid(
                "spectra",
                "nothing to plot; pass at least one spectrum",
            ));
        }
        if let Some((lo, hi)) = opts.signal_region
            && !(lo.is_finite() && hi.is_finite() && lo < hi)
        {
            return Err(Error::invalid(
                "signal_region",
                format!("[{lo}, {hi}] is empty: give [lo, hi] with lo < hi"),
            ));
        }
        if !(opts.cl > 0.0 && opts.cl < 1.0) {
            return Err(Error::invalid(
                "cl",
                format!("the confidence level {} is not in (0, 1)", opts.cl),
            ));
        }
        let single = spectra.len() == 1;
        let mut layers = Vec::with_capacity(spectra.len());
        for (i, s) in spectra.iter().enumerate() {
            check(s, opts)?;
            let counts = s.data.counts().to_vec();
            let (down, up) = garwood_errors(&counts, opts.cl)?;
            let expected = s.fit.as_ref().map(|f| f.counts().to_vec());
            let pulls = expected
                .as_ref()
                .map(|mu| pull_values(&counts, mu, opts.pull_error, (&down, &up)));
            let (data_color, fit_color) = if single {
                (INK.to_rgba(), PALETTE[0].to_rgba())
            } else {
                let c = series_color(i).to_rgba();
                (c, c)
            };
            let fit_label = if s.poor_fit && !s.fit_label.is_empty() {
                format!("{} !", s.fit_label)
            } else {
                s.fit_label.clone()
            };
            layers.push(Layer {
                label: s.label.clone(),
                fit_label,
                data_color,
                fit_color,
                edges: s.data.edges().to_vec(),
                counts,
                down,
                up,
                expected,
                pulls,
                poor: s.poor_fit,
            });
        }
        let lo = layers
            .iter()
            .map(|l| l.edges[0])
            .fold(f64::INFINITY, f64::min);
        let hi = layers
            .iter()
            .map(|l| l.edges[l.edges.len() - 1])
            .fold(f64::NEG_INFINITY, f64::max);
        Ok(SpectrumFigure {
            opts,
            layers,
            x_range: (lo, hi),
        })
    }

    fn has_pulls(&self) -> bool {
        self.opts.pulls && self.layers.iter().any(|l| l.pulls.is_some())
    }

    fn legend(&self) -> Legend {
        let mut entries = Vec::new();
        for l in &self.layers {
            if !l.label.is_empty() {
                entries.push(Entry {
                    handle: Handle::Points(l.data_color),
                    label: l.label.clone(),
                });
            }
            if l.expected.is_some() && !l.fit_label.is_empty() {
                entries.push(Entry {
                    handle: if l.poor {
                        Handle::Dashed(l.fit_color)
                    } else {
                        Handle::Line(l.fit_color)
                    },
                    label: l.fit_label.clone(),
                });
            }
        }
        if self.opts.signal_region.is_some() {
            entries.push(Entry {
                handle: Handle::Patch {
                    fill: region_fill(),
                    edge: region_fill(),
                },
                label: "Signal region".into(),
            });
        }
        Legend::new(entries)
    }

    fn notes(&self) -> Legend {
        Legend::new(
            self.opts
                .notes
                .iter()
                .map(|n| Entry {
                    handle: Handle::Text,
                    label: n.clone(),
                })
                .collect(),
        )
    }

    /// Every bin's edges and highest point (error bars and fits included).
    fn tops(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.layers.iter().flat_map(|l| {
            (0..l.counts.len()).map(move |i| {
                let fit = l.expected.as_ref().map_or(0.0, |e| e[i]);
                (l.edges[i], l.edges[i + 1], (l.counts[i] + l.up[i]).max(fit))
            })
        })
    }

    /// The main panel's y axis from its low end to the highest point.
    fn y_base(&self) -> Axis {
        let hi = self
            .tops()
            .fold(f64::NEG_INFINITY, |hi, (_, _, top)| hi.max(top));
        if self.opts.log_y {
            // Empty bins count with their upper bar, so that it stays in view.
            let min_pos = self
                .layers
                .iter()
                .flat_map(|l| {
                    let empty_bars = l
                        .counts
                        .iter()
                        .zip(&l.up)
                        .filter(|(c, _)| **c == 0.0)
                        .map(|(_, u)| u);
                    l.counts
                        .iter()
                        .chain(l.expected.iter().flatten())
                        .chain(empty_bars)
                })
                .copied()
                .filter(|&v| v > 0.0)
                .fold(f64::INFINITY, f64::min);
            Axis::new(Scale::Log, (0.5 * min_pos).min(hi / 10.0), hi)
        } else {
            let lo = self
                .layers
                .iter()
                .flat_map(|l| l.counts.iter())
                .copied()
                .fold(0.0, f64::min);
            Axis::new(Scale::Linear, lo, if hi > lo { hi } else { 1.0 })
        }
    }

    /// The pull panel's axis: symmetric, at least ±3.
    fn pull_axis(&self) -> Axis {
        let most = self
            .layers
            .iter()
            .flat_map(|l| l.pulls.iter().flatten())
            .filter(|p| p.is_finite())
            .fold(0.0_f64, |m, p| m.max(p.abs()));
        let half = (1.15 * most).max(3.0);
        Axis::new(Scale::Linear, -half, half)
    }

    fn shade<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>, panel: &Panel) -> DrawResult {
        let Some((lo, hi)) = self.opts.signal_region else {
            return Ok(());
        };
        let r = panel.rect;
        let x0 = panel.px(lo).unwrap_or(r.x0).clamp(r.x0, r.x1);
        let x1 = panel.px(hi).unwrap_or(r.x1).clamp(r.x0, r.x1);
        if x1 > x0 {
            canvas.fill_rect((x0, r.y0), (x1, r.y1), region_fill())?;
        }
        Ok(())
    }

    fn draw_main<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>, panel: &Panel) -> DrawResult {
        self.shade(canvas, panel)?;
        for l in &self.layers {
            if let Some(mu) = &l.expected {
                marks::polyline(canvas, panel, &l.centres(), mu, l.fit_color, l.poor)?;
            }
        }
        for l in &self.layers {
            marks::points_asymmetric(
                canvas,
                panel,
                &l.edges,
                &l.counts,
                (&l.down, &l.up),
                l.data_color,
            )?;
        }
        Ok(())
    }

    fn draw_pulls<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>, panel: &Panel) -> DrawResult {
        self.shade(canvas, panel)?;
        for y in [-2.0, 2.0] {
            marks::hline(canvas, panel, y, GUIDE.to_rgba(), true)?;
        }
        let fitted: Vec<&Layer> = self.layers.iter().filter(|l| l.pulls.is_some()).collect();
        for l in &fitted {
            let Some(p) = &l.pulls else { continue };
            let p: Vec<f64> = p
                .iter()
                .map(|v| if v.is_finite() { *v } else { 0.0 })
                .collect();
            if fitted.len() == 1 {
                let color = if l.poor {
                    PALETTE[2].mix(0.75)
                } else {
                    l.fit_color.mix(0.75)
                };
                marks::bars(canvas, panel, &l.edges, &p, |_| color)?;
            } else {
                let none = vec![0.0; p.len()];
                marks::points(canvas, panel, &l.edges, &p, &none, l.fit_color)?;
            }
        }
        marks::hline(canvas, panel, 0.0, INK.to_rgba(), false)
    }
}

impl Figure for SpectrumFigure<'_> {
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
        let has_pulls = self.has_pulls();
        let main_share = if has_pulls { 0.7 } else { 1.0 };
        let x_scale = if opts.log_x {
            Scale::Log
        } else {
            Scale::Linear
        };
        let x = Axis::new(x_scale, self.x_range.0, self.x_range.1);
        let x_ticks = x.ticks(tick_count(w - 150.0 * t.scale, 90.0, t.scale));
        let pull_axis = self.pull_axis();
        let pull_ticks = if has_pulls {
            pull_axis.ticks(5)
        } else {
            Ticks {
                major: vec![],
                minor: vec![],
                multiplier: None,
            }
        };
        // Lay out with the data's range first, then make room for the legend and notes.
        let base = self.y_base();
        let first = margins.area(canvas, &[&base.ticks(8), &pull_ticks], &x_ticks)?;
        let first_main = Rect {
            y1: first.y0 + main_share * first.height(),
            ..first
        };
        let (legend, notes) = (self.legend(), self.notes());
        let ((lw, lh), (nw, nh)) = (legend.size(canvas)?, notes.size(canvas)?);
        let y = if lh + nh > 0.0 {
            fit_below_box(
                base,
                &x,
                self.tops(),
                &first_main,
                (lw.max(nw) + 2.0 * t.pad(), lh + nh + 2.0 * t.pad()),
            )
        } else {
            base.stretched(0.0, 0.95)
        };
        let y_ticks = y.ticks(tick_count(main_share * first.height(), 60.0, t.scale).min(8));
        let area = margins.area(canvas, &[&y_ticks, &pull_ticks], &x_ticks)?;
        let split = area.y0 + main_share * area.height();
        let main = Panel {
            rect: Rect { y1: split, ..area },
            x,
            y,
        };
        margins.draw_title(canvas, &area)?;
        self.draw_main(canvas, &main)?;
        Frame {
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            x_label: &opts.x_label,
            x_tick_labels: !has_pulls,
            y_label: &opts.y_label,
            trim_y: (has_pulls, false),
        }
        .draw(canvas, &main, t.pad())?;
        if has_pulls {
            let panel = Panel {
                rect: Rect { y0: split, ..area },
                x,
                y: pull_axis,
            };
            self.draw_pulls(canvas, &panel)?;
            Frame {
                x_ticks: &x_ticks,
                y_ticks: &pull_ticks,
                x_label: &opts.x_label,
                x_tick_labels: true,
                y_label: "Pull",
                trim_y: (false, true),
            }
            .draw(canvas, &panel, t.pad())?;
        }
        let place = legend.place(canvas, &main.rect, Corner::UpperRight, 0.0)?;
        legend.draw(canvas, &place)?;
        let offset = if lh > 0.0 { place.y1 - place.y0 } else { 0.0 };
        let below = notes.place(canvas, &main.rect, Corner::UpperRight, offset)?;
        notes.draw(canvas, &below)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::test_util::{check_png, check_svg};

    /// A falling spectrum with an empty bin (index 3) and its exact expectation.
    fn spectrum(scale: f64) -> (Hist1D, Hist1D) {
        let edges: Vec<f64> = (0..=12).map(|i| 2000.0 + 250.0 * i as f64).collect();
        let mu: Vec<f64> = (0..12).map(|i| scale * (-(i as f64) / 2.5).exp()).collect();
        let mut n: Vec<f64> = mu.iter().map(|m| m.round()).collect();
        n[3] = 0.0;
        (
            Hist1D::from_counts(edges.clone(), n).unwrap(),
            Hist1D::from_counts(edges, mu).unwrap(),
        )
    }

    /// The SVG elements (`<tag ...>` text) whose tag is `tag` and that contain `needle`.
    fn elements<'a>(svg: &'a str, tag: &str, needle: &str) -> Vec<&'a str> {
        svg.split('<')
            .filter(|e| e.starts_with(tag) && e.contains(needle))
            .collect()
    }

    /// Vertical polylines (all points at one x) in colour `color`, as (x, top y, bottom y).
    fn vertical_lines(svg: &str, color: &str) -> Vec<(f64, f64, f64)> {
        elements(svg, "polyline", &format!("stroke=\"{color}\""))
            .into_iter()
            .filter_map(|e| {
                let pts = e.split("points=\"").nth(1)?.split('"').next()?;
                let xy: Vec<(f64, f64)> = pts
                    .split_whitespace()
                    .filter_map(|p| {
                        let (x, y) = p.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect();
                let x0 = xy.first()?.0;
                (xy.len() == 2 && xy.iter().all(|p| p.0 == x0)).then(|| {
                    let ys = xy.iter().map(|p| p.1);
                    (
                        x0,
                        ys.clone().fold(f64::INFINITY, f64::min),
                        ys.fold(f64::NEG_INFINITY, f64::max),
                    )
                })
            })
            .collect()
    }

    #[test]
    fn garwood_bars_and_pulls() {
        let (down, up) = garwood_errors(&[0.0, 1.0, 100.0, -2.0], one_sigma_cl()).unwrap();
        assert_eq!(down[0], 0.0);
        assert!((up[0] - 1.8410).abs() < 1e-4, "{}", up[0]);
        assert!((down[1] - 0.8272).abs() < 1e-4 && (up[1] - 2.2995).abs() < 1e-4);
        // Large counts: sqrt(n) down, about sqrt(n) + 1 up (9.983 and 11.033 at n = 100).
        assert!(down[2] > 9.98 && down[2] < 9.99 && up[2] > 11.03 && up[2] < 11.04);
        assert_eq!((down[3], up[3]), (0.0, 0.0));
        let n = [0.0, 9.0, 16.0, 5.0];
        let mu = [1.0, 4.0, 16.0, 0.0];
        let (d, u) = garwood_errors(&n, one_sigma_cl()).unwrap();
        let p = pull_values(&n, &mu, PullError::Expected, (&d, &u));
        assert_eq!(&p[..3], &[-1.0, 2.5, 0.0]);
        assert!(p[3].is_nan(), "no expectation, no pull");
        let p = pull_values(&n, &mu, PullError::Data, (&d, &u));
        // Below the fit: divided by the upper bar (1.841 for an empty bin); above: the lower.
        assert!((p[0] + 1.0 / 1.8410).abs() < 1e-3, "{}", p[0]);
        assert!((p[1] - 5.0 / d[1]).abs() < 1e-12 && p[3] > 0.0);
    }

    #[test]
    fn spectrum_figure_shows_bars_region_pulls_and_poor_fits() {
        let dir = tempfile::tempdir().unwrap();
        let (data, fit) = spectrum(2000.0);
        let opts = SpectrumOptions {
            x_label: "m_jj [GeV]".into(),
            signal_region: Some((2750.0, 3250.0)),
            notes: vec!["!: fit p-value below 0.01".into()],
            ..SpectrumOptions::default()
        };
        let one = [Spectrum {
            label: "Data".into(),
            data: data.clone(),
            fit: Some(fit.clone()),
            fit_label: "Fit".into(),
            poor_fit: false,
        }];
        let svg_path = dir.path().join("one.svg");
        plot_spectrum(&svg_path, &one, &opts).unwrap();
        check_svg(
            &svg_path,
            &[
                "m_jj [GeV]",
                "Data",
                "Fit",
                "Signal region",
                "Pull",
                "!: fit",
            ],
        );
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        // One marker per non-empty bin (the empty bin has none) plus the legend's.
        let nonempty = data.counts().iter().filter(|&&c| c > 0.0).count();
        assert_eq!(elements(&svg, "circle", "").len(), nonempty + 1, "{svg}");
        // The signal region shaded in both panels and in the legend.
        let red = "#BD1F01";
        let shades = elements(&svg, "rect", red);
        assert!(shades.len() >= 3, "{shades:?}");
        // The pull panel: one bar per bin with a non-zero pull, in the fit's colour.
        let blue = "#3F90DA";
        let bars = elements(&svg, "rect", blue);
        let pulls = pull_values(data.counts(), fit.counts(), PullError::Expected, (&[], &[]));
        assert_eq!(bars.len(), pulls.iter().filter(|p| **p != 0.0).count());
        let png = dir.path().join("one.png");
        plot_spectrum(&png, &one, &opts).unwrap();
        check_png(&png, (800, 600));
        // Without pulls: no pull panel.
        let bare = dir.path().join("bare.svg");
        plot_spectrum(
            &bare,
            &one,
            &SpectrumOptions {
                pulls: false,
                ..opts.clone()
            },
        )
        .unwrap();
        let bare = std::fs::read_to_string(&bare).unwrap();
        assert!(!bare.contains(">Pull<") && elements(&bare, "rect", blue).is_empty());

        // Two spectra in colour; the second fit poor: dashed and marked.
        let (tight, tight_fit) = spectrum(300.0);
        let two = [
            one[0].clone(),
            Spectrum {
                label: "ε = 1%".into(),
                data: tight.clone(),
                fit: Some(tight_fit.scale(1.6)),
                fit_label: "ε = 1%: fit p = 1.2e-05".into(),
                poor_fit: true,
            },
        ];
        let path = dir.path().join("two.svg");
        plot_spectrum(&path, &two, &opts).unwrap();
        check_svg(&path, &["ε = 1%: fit p = 1.2e-05 !", "Fit"]);
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(!svg.contains("Fit !"), "only the poor fit is marked");
        // Every bin of the first spectrum has an error bar in its colour, the empty one too
        // (from the bottom of the axis up to 1.84 events), plus the legend handle's.
        let bars = vertical_lines(&svg, blue);
        assert!(bars.len() > data.n_bins(), "{bars:?}");
        // The poor fit is dashed: drawn in many short pieces in its colour (orange).
        let orange = "#FFA90E";
        let solid_pieces = elements(&svg, "polyline", &format!("stroke=\"{orange}\"")).len();
        assert!(solid_pieces > 2 * tight.n_bins(), "{solid_pieces}");
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.png");
        let (data, fit) = spectrum(100.0);
        let s = |fit: Option<Hist1D>| Spectrum {
            label: "d".into(),
            data: data.clone(),
            fit,
            fit_label: String::new(),
            poor_fit: false,
        };
        let err = |spectra: &[Spectrum], opts: &SpectrumOptions| {
            plot_spectrum(&path, spectra, opts).unwrap_err().to_string()
        };
        let d = SpectrumOptions::default();
        assert!(err(&[], &d).contains("nothing to plot"));
        let other = Hist1D::from_counts(vec![0.0, 1.0], vec![1.0]).unwrap();
        assert!(err(&[s(Some(other))], &d).contains("binnings differ"));
        let region = SpectrumOptions {
            signal_region: Some((3000.0, 2000.0)),
            ..d.clone()
        };
        assert!(err(&[s(Some(fit.clone()))], &region).contains("is empty"));
        let cl = SpectrumOptions {
            cl: 1.0,
            ..d.clone()
        };
        assert!(err(&[s(None)], &cl).contains("confidence level"));
        assert!(err(&[s(Some(fit.scale(f64::NAN)))], &d).contains("non-finite"));
        // A spectrum without a fit draws, without a pull panel.
        plot_spectrum(&path, &[s(None)], &d).unwrap();
        check_png(&path, (800, 600));
    }
}
