//! Curves (ROC, background rejection, SIC, any y(x) lines) with an optional dashed line for
//! the random classifier.

use std::path::Path;

use plotters::prelude::DrawingBackend;
use plotters::style::{Color, RGBAColor};

use super::axes::{Axis, Scale};
use super::draw::DrawResult;
use super::draw::{Canvas, Pt};
use super::frame::{Frame, Margins, Panel, Rect, tick_count};
use super::legend::{Corner, Entry, Handle, Legend};
use super::output::{Figure, save};
use super::style::{DEFAULT_SIZE, GUIDE, PALETTE, series_color};
use crate::error::{Error, Result};

/// A line through the points `(x[i], y[i])`, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// Legend label (empty: no legend entry).
    pub label: String,
    /// Abscissae.
    pub x: Vec<f64>,
    /// Ordinates, as many as abscissae.
    pub y: Vec<f64>,
}

/// The curve a classifier that guesses at random would give, drawn dashed in grey; `x` is
/// the signal efficiency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RandomClassifier {
    /// The diagonal y = x (background efficiency against signal efficiency).
    Roc,
    /// y = 1/x (background rejection against signal efficiency).
    Rejection,
    /// y = sqrt(x) (significance improvement against signal efficiency).
    Sic,
}

impl RandomClassifier {
    fn value(self, x: f64) -> f64 {
        match self {
            RandomClassifier::Roc => x,
            RandomClassifier::Rejection => 1.0 / x,
            RandomClassifier::Sic => x.sqrt(),
        }
    }
}

/// Options of [`plot_curves`].
#[derive(Clone, Debug, PartialEq)]
pub struct CurveOptions {
    /// Title above the plot (empty: none).
    pub title: String,
    /// Label of the x axis (empty: none).
    pub x_label: String,
    /// Label of the y axis (empty: none).
    pub y_label: String,
    /// Logarithmic x axis (points with x ≤ 0 are skipped).
    pub log_x: bool,
    /// Logarithmic y axis (points with y ≤ 0 are skipped, e.g. infinite rejections).
    pub log_y: bool,
    /// The x range shown (`None`: the points' range).
    pub x_range: Option<(f64, f64)>,
    /// The y range shown (`None`: the points' range, with a little room).
    pub y_range: Option<(f64, f64)>,
    /// The random classifier's curve, if wanted (labelled "Random").
    pub diagonal: Option<RandomClassifier>,
    /// Points marked with a red cross over the curves, e.g. results that are shown but not
    /// trusted (a poor background fit); points the axes cannot show are skipped (none).
    pub marked: Vec<(f64, f64)>,
    /// The legend label of the marks (empty: no entry).
    pub marked_label: String,
    /// Per curve (by index; missing or `None`: none), the low and high ends of a vertical bar
    /// at each of its points, e.g. the spread over repetitions; drawn in the curve's colour
    /// with a dot at the point. A point whose ends are missing or not finite has no bar. The
    /// automatic y range holds every bar.
    pub bars: Vec<Option<(Vec<f64>, Vec<f64>)>>,
    /// Per curve (by index; missing: solid), whether its line is dashed (and its legend
    /// entry), e.g. reference curves beside the methods, so a line that another one covers
    /// still shows.
    pub dashed: Vec<bool>,
    /// Figure size in pixels (width, height); 800×600.
    pub size: (u32, u32),
}

impl Default for CurveOptions {
    fn default() -> Self {
        Self {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            log_x: false,
            log_y: false,
            x_range: None,
            y_range: None,
            diagonal: None,
            marked: Vec::new(),
            marked_label: String::new(),
            bars: Vec::new(),
            dashed: Vec::new(),
            size: DEFAULT_SIZE,
        }
    }
}

/// Plots `curves` to `path` (`.png` or `.svg`), each in the next colour of the cycle. Points
/// that an axis cannot show (NaN, infinite, non-positive on a log axis) are skipped and break
/// the line. The legend goes in the corner where it hides the fewest points.
///
/// Errors: no curves, a curve whose x and y lengths differ, an empty or non-finite range (or
/// a non-positive one on a log axis), a bad path or size. Curves without any drawable point
/// give empty axes.
pub fn plot_curves(path: &Path, curves: &[Curve], opts: &CurveOptions) -> Result<()> {
    if curves.is_empty() {
        return Err(Error::invalid(
            "curves",
            "nothing to plot; pass at least one curve",
        ));
    }
    for c in curves {
        if c.x.len() != c.y.len() {
            return Err(Error::invalid(
                format!("curve '{}'", c.label),
                format!("{} x values but {} y values", c.x.len(), c.y.len()),
            ));
        }
    }
    let x_scale = if opts.log_x {
        Scale::Log
    } else {
        Scale::Linear
    };
    let y_scale = if opts.log_y {
        Scale::Log
    } else {
        Scale::Linear
    };
    let x = match opts.x_range {
        Some(r) => checked_range("x_range", r, x_scale)?,
        None => auto_range(
            curves.iter().flat_map(|c| c.x.iter().copied()),
            x_scale,
            0.0,
        ),
    };
    let y = match opts.y_range {
        Some(r) => checked_range("y_range", r, y_scale)?,
        None => auto_y_range(curves, &opts.bars, &x, y_scale),
    };
    save(path, opts.size, &CurveFigure { curves, opts, x, y })
}

/// The y range of the points of `curves` whose x the axis `x` shows, with the ends of their
/// `bars` (so that no bar is cut at the frame) and a little room.
fn auto_y_range(
    curves: &[Curve],
    bars: &[Option<(Vec<f64>, Vec<f64>)>],
    x: &Axis,
    scale: Scale,
) -> Axis {
    let shown = |x0: f64| {
        x.fraction(x0)
            .is_some_and(|f| (-1e-9..=1.0 + 1e-9).contains(&f))
    };
    let ys = curves.iter().enumerate().flat_map(|(i, c)| {
        let bar = bars.get(i).and_then(Option::as_ref);
        c.x.iter()
            .zip(&c.y)
            .enumerate()
            .flat_map(move |(j, (&x0, &y))| {
                let ends = bar.into_iter().flat_map(move |(lo, hi)| {
                    [lo.get(j), hi.get(j)].into_iter().flatten().copied()
                });
                std::iter::once(y).chain(ends).filter(move |_| shown(x0))
            })
    });
    auto_range(ys, scale, 0.04)
}

fn checked_range(name: &str, (lo, hi): (f64, f64), scale: Scale) -> Result<Axis> {
    let positive = scale == Scale::Linear || lo > 0.0;
    if !(lo.is_finite() && hi.is_finite() && lo < hi && positive) {
        let need = if scale == Scale::Log {
            "finite, positive (log axis)"
        } else {
            "finite"
        };
        return Err(Error::invalid(
            name,
            format!("({lo}, {hi}) must be {need} with low < high"),
        ));
    }
    Ok(Axis::new(scale, lo, hi))
}

/// The range of the values the scale can show, widened by `margin` of its span on each side.
fn auto_range(values: impl Iterator<Item = f64>, scale: Scale, margin: f64) -> Axis {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (scale == Scale::Linear || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let axis = Axis::new(scale, lo, hi);
    if margin > 0.0 && lo < hi {
        axis.stretched(margin, 1.0 - margin)
    } else {
        axis
    }
}

struct CurveFigure<'a> {
    curves: &'a [Curve],
    opts: &'a CurveOptions,
    x: Axis,
    y: Axis,
}

impl CurveFigure<'_> {
    /// The random classifier's curve sampled across the x range (log-spaced on a log axis).
    fn random_points(&self, kind: RandomClassifier) -> (Vec<f64>, Vec<f64>) {
        let n = 200;
        let xs: Vec<f64> = (0..=n)
            .map(|i| {
                let f = i as f64 / n as f64;
                match self.x.scale {
                    Scale::Linear => self.x.lo + f * (self.x.hi - self.x.lo),
                    Scale::Log => self.x.lo * (self.x.hi / self.x.lo).powf(f),
                }
            })
            .collect();
        let ys = xs.iter().map(|&x| kind.value(x)).collect();
        (xs, ys)
    }

    fn pixels(panel: &Panel, xs: &[f64], ys: &[f64]) -> Vec<Option<Pt>> {
        xs.iter()
            .zip(ys)
            .map(|(&x, &y)| panel.point(x, y))
            .collect()
    }
}

impl Figure for CurveFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult {
        let t = canvas.theme;
        let opts = self.opts;
        let margins = Margins {
            title: &opts.title,
            x_label: &opts.x_label,
            y_label: !opts.y_label.is_empty(),
            right: 0.0,
        };
        let (w, h) = canvas.size();
        let (top, bottom) = margins.vertical(canvas);
        let y_ticks = self
            .y
            .ticks(tick_count(h - top - bottom, 60.0, t.scale).min(8));
        let x_ticks = self.x.ticks(tick_count(w - 150.0 * t.scale, 90.0, t.scale));
        let rect: Rect = margins.area(canvas, &[&y_ticks], &x_ticks)?;
        let panel = Panel {
            rect,
            x: self.x,
            y: self.y,
        };
        margins.draw_title(canvas, &rect)?;

        let mut entries = Vec::new();
        let mut drawn: Vec<Pt> = Vec::new();
        if let Some(kind) = opts.diagonal {
            let (xs, ys) = self.random_points(kind);
            let color: RGBAColor = GUIDE.to_rgba();
            for piece in panel.clip(&Self::pixels(&panel, &xs, &ys)) {
                canvas.dashed(&piece, color, t.line_width())?;
                drawn.extend(piece);
            }
            entries.push(Entry {
                handle: Handle::Dashed(color),
                label: "Random".to_string(),
            });
        }
        for (i, c) in self.curves.iter().enumerate() {
            let color = series_color(i).to_rgba();
            let dashed = opts.dashed.get(i).copied().unwrap_or(false);
            for piece in panel.clip(&Self::pixels(&panel, &c.x, &c.y)) {
                if dashed {
                    canvas.dashed(&piece, color, t.line_width())?;
                } else {
                    canvas.line(&piece, color, t.line_width())?;
                }
                drawn.extend(piece);
            }
            if let Some(Some((lo, hi))) = opts.bars.get(i) {
                for (j, (&x, &y)) in c.x.iter().zip(&c.y).enumerate() {
                    let (Some(&l), Some(&h)) = (lo.get(j), hi.get(j)) else {
                        continue;
                    };
                    if !(l.is_finite() && h.is_finite()) {
                        continue;
                    }
                    let bar = [panel.point(x, l), panel.point(x, h)];
                    for piece in panel.clip(&bar) {
                        canvas.line(&piece, color, t.line_width())?;
                        drawn.extend(piece);
                    }
                    if let Some(p) = panel.point(x, y).filter(|&p| rect.contains(p)) {
                        canvas.dot(p, t.marker(), color)?;
                    }
                }
            }
            if !c.label.is_empty() {
                entries.push(Entry {
                    handle: if dashed {
                        Handle::Dashed(color)
                    } else {
                        Handle::Line(color)
                    },
                    label: c.label.clone(),
                });
            }
        }
        let red = PALETTE[2].to_rgba();
        let mut any_marked = false;
        for &(x, y) in &opts.marked {
            if let Some(p) = panel.point(x, y).filter(|&p| rect.contains(p)) {
                canvas.cross(p, 1.8 * t.marker(), red, t.line_width())?;
                drawn.push(p);
                any_marked = true;
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

        // The random line goes last in the legend, the curves first, the marks after them.
        entries.rotate_left(usize::from(opts.diagonal.is_some()));
        if any_marked && !opts.marked_label.is_empty() {
            entries.push(Entry {
                handle: Handle::Cross(red),
                label: opts.marked_label.clone(),
            });
        }
        let legend = Legend::new(entries);
        let mut best: Option<(usize, Rect)> = None;
        for corner in Corner::ALL {
            let place = legend.place(canvas, &rect, corner, 0.0)?;
            let hidden = hidden_points(&drawn, &place);
            if best.is_none_or(|(n, _)| hidden < n) {
                best = Some((hidden, place));
            }
        }
        match best {
            Some((_, place)) => legend.draw(canvas, &place),
            None => Ok(()),
        }
    }
}

/// How many of the line's points (densified so that long segments count) fall in `rect`.
fn hidden_points(line: &[Pt], rect: &Rect) -> usize {
    let mut n = 0;
    for pair in line.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let steps = ((b.0 - a.0).hypot(b.1 - a.1) / 4.0).ceil().max(1.0) as usize;
        n += (0..steps)
            .filter(|&k| {
                let f = k as f64 / steps as f64;
                rect.contains((a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1)))
            })
            .count();
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::test_util::{check_png, check_svg};

    #[test]
    fn the_automatic_y_range_holds_the_bars_of_shown_points() {
        let curve = Curve {
            label: "scan".into(),
            x: vec![1.0, 2.0, 3.0],
            y: vec![5.0, 6.0, 7.0],
        };
        let x = Axis::new(Scale::Linear, 0.5, 2.5);
        let points_only = auto_y_range(std::slice::from_ref(&curve), &[], &x, Scale::Linear);
        assert!(
            points_only.lo > 4.0 && points_only.hi < 7.0,
            "{points_only:?}"
        );
        // The bar of x = 2 reaches 9 and that of x = 1 down to 2 (a NaN end is ignored);
        // x = 3 is not shown, so its bar does not count.
        let bars = vec![Some((vec![2.0, f64::NAN, 0.0], vec![5.0, 9.0, 50.0]))];
        let with_bars = auto_y_range(&[curve], &bars, &x, Scale::Linear);
        assert!(with_bars.lo < 2.0 && with_bars.lo > 1.0, "{with_bars:?}");
        assert!(with_bars.hi > 9.0 && with_bars.hi < 10.0, "{with_bars:?}");
    }

    fn roc(power: f64) -> Curve {
        let x: Vec<f64> = (0..=100).map(|i| i as f64 / 100.0).collect();
        let y = x.iter().map(|s: &f64| s.powf(power)).collect();
        Curve {
            label: format!("BDT (k = {power})"),
            x,
            y,
        }
    }

    #[test]
    fn roc_rejection_and_sic_render() {
        let dir = tempfile::tempdir().unwrap();
        let curves = [roc(3.0), roc(8.0)];
        let opts = CurveOptions {
            x_label: "Signal efficiency ε_S".into(),
            y_label: "Background efficiency ε_B".into(),
            diagonal: Some(RandomClassifier::Roc),
            ..Default::default()
        };
        for ext in ["png", "svg"] {
            let path = dir.path().join(format!("roc.{ext}"));
            plot_curves(&path, &curves, &opts).unwrap();
            if ext == "png" {
                check_png(&path, (800, 600));
            } else {
                check_svg(&path, &["Signal efficiency", "BDT (k = 3)", "Random"]);
            }
        }
        // Rejection 1/eps_B with eps_B = 0 at the start: infinite points are skipped.
        let rejection: Vec<Curve> = curves
            .iter()
            .map(|c| Curve {
                label: c.label.clone(),
                x: c.x.clone(),
                y: c.y.iter().map(|b| 1.0 / b).collect(),
            })
            .collect();
        let opts = CurveOptions {
            log_y: true,
            y_label: "Background rejection 1/ε_B".into(),
            diagonal: Some(RandomClassifier::Rejection),
            ..Default::default()
        };
        let path = dir.path().join("rejection.png");
        plot_curves(&path, &rejection, &opts).unwrap();
        check_png(&path, (800, 600));
        let sic: Vec<Curve> = curves
            .iter()
            .map(|c| Curve {
                label: c.label.clone(),
                x: c.x.clone(),
                y: c.x.iter().zip(&c.y).map(|(s, b)| s / b.sqrt()).collect(),
            })
            .collect();
        let opts = CurveOptions {
            y_range: Some((0.0, 5.0)),
            diagonal: Some(RandomClassifier::Sic),
            title: "SIC".into(),
            ..Default::default()
        };
        let path = dir.path().join("sic.svg");
        plot_curves(&path, &sic, &opts).unwrap();
        check_svg(&path, &["SIC"]);
    }

    #[test]
    fn a_dashed_curve_is_drawn_in_dashes_and_the_others_solid() {
        let dir = tempfile::tempdir().unwrap();
        let curves = [roc(3.0), roc(8.0)];
        let lines_in = |dashed: Vec<bool>| {
            let path = dir.path().join("dashed.svg");
            let opts = CurveOptions {
                dashed,
                ..Default::default()
            };
            plot_curves(&path, &curves, &opts).unwrap();
            std::fs::read_to_string(&path)
                .unwrap()
                .matches("<polyline")
                .count()
        };
        let solid = lines_in(Vec::new());
        let second_dashed = lines_in(vec![false, true]);
        // Every dash of the second curve (and of its legend entry) is a line of its own.
        assert!(
            second_dashed > solid + 20,
            "{solid} lines solid, {second_dashed} with a dashed curve"
        );
        assert_eq!(lines_in(vec![false, false]), solid);
        assert!(lines_in(vec![true, true]) > second_dashed + 20);
    }

    #[test]
    fn bad_curves_are_errors_and_undrawable_points_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        assert!(
            plot_curves(&path, &[], &CurveOptions::default())
                .unwrap_err()
                .to_string()
                .contains("nothing to plot")
        );
        let bad = Curve {
            label: "a".into(),
            x: vec![1.0],
            y: vec![],
        };
        assert!(
            plot_curves(&path, &[bad], &CurveOptions::default())
                .unwrap_err()
                .to_string()
                .contains("1 x values but 0 y values")
        );
        let ok = Curve {
            label: "a".into(),
            x: vec![0.0, 1.0],
            y: vec![0.0, 1.0],
        };
        let opts = CurveOptions {
            log_x: true,
            x_range: Some((0.0, 1.0)),
            ..Default::default()
        };
        assert!(
            plot_curves(&path, &[ok], &opts)
                .unwrap_err()
                .to_string()
                .contains("x_range")
        );
        let nothing = Curve {
            label: "nan".into(),
            x: vec![f64::NAN, -1.0, 0.0],
            y: vec![1.0, f64::NAN, -2.0],
        };
        let opts = CurveOptions {
            log_x: true,
            log_y: true,
            ..Default::default()
        };
        plot_curves(&path, &[nothing], &opts).unwrap();
        check_png(&path, (800, 600));
    }
}
