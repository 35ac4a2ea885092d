//! Binned data drawn inside a panel: step outlines, filled areas, points with error bars,
//! bars and reference lines. Everything is clipped to the panel; values a log axis cannot
//! show (zero, negative) run off the bottom edge.

use plotters::prelude::DrawingBackend;
use plotters::style::RGBAColor;

use super::draw::DrawResult;
use super::draw::{Canvas, Pt};
use super::frame::Panel;

/// The outline of a histogram: steps at `upper`, dropping to `lower` (zero when `None`) at
/// both ends.
pub(crate) fn steps<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    panel: &Panel,
    edges: &[f64],
    upper: &[f64],
    lower: Option<&[f64]>,
    color: RGBAColor,
) -> DrawResult {
    let n = upper.len();
    if n == 0 {
        return Ok(());
    }
    let base = |i: usize| lower.map_or(0.0, |l| l[i]);
    let mut pts = Vec::with_capacity(2 * n + 2);
    pts.push(panel.px(edges[0]).map(|x| (x, panel.py_floor(base(0)))));
    for i in 0..n {
        let y = panel.py_floor(upper[i]);
        pts.push(panel.px(edges[i]).map(|x| (x, y)));
        pts.push(panel.px(edges[i + 1]).map(|x| (x, y)));
    }
    pts.push(panel.px(edges[n]).map(|x| (x, panel.py_floor(base(n - 1)))));
    for piece in panel.clip(&pts) {
        canvas.line(&piece, color, canvas.theme.line_width())?;
    }
    Ok(())
}

/// The area between the steps at `upper` and at `lower` (zero when `None`), cut at the panel
/// edges.
pub(crate) fn fill<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    panel: &Panel,
    edges: &[f64],
    upper: &[f64],
    lower: Option<&[f64]>,
    color: RGBAColor,
) -> DrawResult {
    let n = upper.len();
    let xs: Option<Vec<f64>> = edges.iter().map(|&e| panel.px(e)).collect();
    let Some(xs) = xs else { return Ok(()) };
    let mut pts: Vec<Pt> = Vec::with_capacity(4 * n);
    for i in 0..n {
        let y = panel.py_floor(upper[i]);
        pts.push(panel.clamp((xs[i], y)));
        pts.push(panel.clamp((xs[i + 1], y)));
    }
    for i in (0..n).rev() {
        let y = panel.py_floor(lower.map_or(0.0, |l| l[i]));
        pts.push(panel.clamp((xs[i + 1], y)));
        pts.push(panel.clamp((xs[i], y)));
    }
    canvas.fill_polygon(&pts, color)
}

/// Points at the bin centres with vertical error bars `values ± errors`.
pub(crate) fn points<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    panel: &Panel,
    edges: &[f64],
    values: &[f64],
    errors: &[f64],
    color: RGBAColor,
) -> DrawResult {
    let t = canvas.theme;
    for (i, (&v, &e)) in values.iter().zip(errors).enumerate() {
        let Some(x) = panel.px(0.5 * (edges[i] + edges[i + 1])) else {
            continue;
        };
        if e > 0.0 {
            let bar = [
                Some((x, panel.py_floor(v - e))),
                Some((x, panel.py_floor(v + e))),
            ];
            for piece in panel.clip(&bar) {
                canvas.line(&piece, color, t.line_width())?;
            }
        }
        if let Some(y) = panel.py(v).filter(|&y| panel.rect.contains((x, y))) {
            canvas.dot((x, y), t.marker(), color)?;
        }
    }
    Ok(())
}

/// Points at the bin centres with asymmetric vertical error bars from `values - down` to
/// `values + up` (Poisson intervals). A bin whose value is zero gets its bar (from the bottom
/// of a log axis) but no marker, as the particle-physics convention draws empty bins.
pub(crate) fn points_asymmetric<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    panel: &Panel,
    edges: &[f64],
    values: &[f64],
    (down, up): (&[f64], &[f64]),
    color: RGBAColor,
) -> DrawResult {
    let t = canvas.theme;
    for (i, &v) in values.iter().enumerate() {
        let Some(x) = panel.px(0.5 * (edges[i] + edges[i + 1])) else {
            continue;
        };
        if down[i] > 0.0 || up[i] > 0.0 {
            let bar = [
                Some((x, panel.py_floor(v - down[i]))),
                Some((x, panel.py_floor(v + up[i]))),
            ];
            for piece in panel.clip(&bar) {
                canvas.line(&piece, color, t.line_width())?;
            }
        }
        if v == 0.0 {
            continue;
        }
        if let Some(y) = panel.py(v).filter(|&y| panel.rect.contains((x, y))) {
            canvas.dot((x, y), t.marker(), color)?;
        }
    }
    Ok(())
}

/// A line through `(x[i], y[i])`, broken where a point cannot be shown, clipped to the panel;
/// dashed if asked.
pub(crate) fn polyline<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    panel: &Panel,
    x: &[f64],
    y: &[f64],
    color: RGBAColor,
    dashed: bool,
) -> DrawResult {
    let pts: Vec<Option<Pt>> = x.iter().zip(y).map(|(&x, &y)| panel.point(x, y)).collect();
    for piece in panel.clip(&pts) {
        if dashed {
            canvas.dashed(&piece, color, canvas.theme.line_width())?;
        } else {
            canvas.line(&piece, color, canvas.theme.line_width())?;
        }
    }
    Ok(())
}

/// Bars from zero to each value, coloured per bin.
pub(crate) fn bars<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    panel: &Panel,
    edges: &[f64],
    values: &[f64],
    color: impl Fn(usize) -> RGBAColor,
) -> DrawResult {
    for (i, &v) in values.iter().enumerate() {
        let (Some(x0), Some(x1)) = (panel.px(edges[i]), panel.px(edges[i + 1])) else {
            continue;
        };
        if v == 0.0 || !v.is_finite() {
            continue;
        }
        let a = panel.clamp((x0, panel.py_floor(0.0)));
        let b = panel.clamp((x1, panel.py_floor(v)));
        canvas.fill_rect(a, b, color(i))?;
    }
    Ok(())
}

/// A horizontal line across the panel at `y`, dashed or solid.
pub(crate) fn hline<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    panel: &Panel,
    y: f64,
    color: RGBAColor,
    dashed: bool,
) -> DrawResult {
    let Some(py) = panel.py(y) else { return Ok(()) };
    if py < panel.rect.y0 || py > panel.rect.y1 {
        return Ok(());
    }
    let line = [(panel.rect.x0, py), (panel.rect.x1, py)];
    if dashed {
        canvas.dashed(&line, color, canvas.theme.frame_width())
    } else {
        canvas.line(&line, color, canvas.theme.frame_width())
    }
}
