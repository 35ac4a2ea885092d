//! Panels: the pixel rectangle of a plot with its two axes, the mapping from data to pixels,
//! clipping, the margins that make room for labels, and the frame itself (ticks pointing
//! inwards on all four sides, labels outside; the x label at the right end and the y label
//! at the top, as in mplhep).

use plotters::prelude::DrawingBackend;
use plotters::style::Color;

use super::axes::{Axis, Ticks};
use super::draw::DrawResult;
use super::draw::{Canvas, Font, HAlign, Pt, VAlign, line_height};
use super::style::INK;

/// A rectangle in pixels: `(x0, y0)` top left, `(x1, y1)` bottom right.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    /// Left edge.
    pub x0: f64,
    /// Top edge.
    pub y0: f64,
    /// Right edge.
    pub x1: f64,
    /// Bottom edge.
    pub y1: f64,
}

impl Rect {
    /// Whether `p` lies inside (edges included).
    pub fn contains(&self, p: Pt) -> bool {
        p.0 >= self.x0 && p.0 <= self.x1 && p.1 >= self.y0 && p.1 <= self.y1
    }

    /// Width in pixels.
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    /// Height in pixels.
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// A plot: a rectangle on the figure and the axes mapped onto it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Panel {
    /// Where it is drawn.
    pub rect: Rect,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
}

impl Panel {
    /// The pixel column of `x`, if the axis can show it.
    pub fn px(&self, x: f64) -> Option<f64> {
        self.x
            .fraction(x)
            .map(|f| self.rect.x0 + f * (self.rect.x1 - self.rect.x0))
    }

    /// The pixel row of `y`, if the axis can show it.
    pub fn py(&self, y: f64) -> Option<f64> {
        self.y
            .fraction(y)
            .map(|f| self.rect.y1 - f * (self.rect.y1 - self.rect.y0))
    }

    /// The pixel row of `y`, with values the axis cannot show (zero or negative on a log
    /// axis) sent just below the panel, and everything kept within one panel height of it
    /// (for steps and fills that should run off the bottom).
    pub fn py_floor(&self, y: f64) -> f64 {
        let h = self.rect.height();
        match self.py(y) {
            Some(p) => p.clamp(self.rect.y0 - h, self.rect.y1 + h),
            None if y.is_nan() => self.rect.y1 + 1.0,
            None if y == f64::INFINITY => self.rect.y0 - 1.0,
            None => self.rect.y1 + 1.0,
        }
    }

    /// The pixel position of `(x, y)`, if both axes can show it.
    pub fn point(&self, x: f64, y: f64) -> Option<Pt> {
        Some((self.px(x)?, self.py(y)?))
    }

    /// Splits a polyline (gaps where a point is `None`) into the pieces inside the panel.
    pub fn clip(&self, points: &[Option<Pt>]) -> Vec<Vec<Pt>> {
        fn flush(current: &mut Vec<Pt>, pieces: &mut Vec<Vec<Pt>>) {
            if current.len() >= 2 {
                pieces.push(std::mem::take(current));
            } else {
                current.clear();
            }
        }
        let mut pieces = Vec::new();
        let mut current = Vec::new();
        for pair in points.windows(2) {
            let clipped = match (pair[0], pair[1]) {
                (Some(a), Some(b)) => clip_segment(a, b, &self.rect),
                _ => None,
            };
            match clipped {
                Some((ca, cb)) => {
                    if current.last() != Some(&ca) {
                        flush(&mut current, &mut pieces);
                        current.push(ca);
                    }
                    current.push(cb);
                }
                None => flush(&mut current, &mut pieces),
            }
        }
        flush(&mut current, &mut pieces);
        pieces
    }

    /// Clamps a pixel point into the panel (for filled areas, which may be cut at the edge).
    pub fn clamp(&self, p: Pt) -> Pt {
        (
            p.0.clamp(self.rect.x0, self.rect.x1),
            p.1.clamp(self.rect.y0, self.rect.y1),
        )
    }
}

/// The part of the segment `a`–`b` inside `r` (Liang–Barsky).
fn clip_segment(a: Pt, b: Pt, r: &Rect) -> Option<(Pt, Pt)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - r.x0),
        (dx, r.x1 - a.0),
        (-dy, a.1 - r.y0),
        (dy, r.y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// How many labelled ticks fit along `length` pixels, `spacing` nominal pixels apart.
pub(crate) fn tick_count(length: f64, spacing: f64, scale: f64) -> usize {
    ((length / (spacing * scale)) as usize).clamp(3, 10)
}

/// The y axis `base` (from its low end to the data's maximum) stretched so that the data
/// stay below 95% of the panel `rect` and the bins under a box of `size` (pixels, margins
/// included) in the upper right corner stay below the box. `tops` gives each bin's low and
/// high x edge and its highest y.
pub(crate) fn fit_below_box(
    base: Axis,
    x: &Axis,
    tops: impl Iterator<Item = (f64, f64, f64)>,
    rect: &Rect,
    size: (f64, f64),
) -> Axis {
    let x_cut = 1.0 - size.0 / rect.width();
    let free = 1.0 - size.1 / rect.height();
    let mut under: f64 = 0.0;
    for (_, hi, top) in tops {
        if x.fraction(hi).is_some_and(|f| f > x_cut) {
            under = under.max(base.fraction(top).unwrap_or(0.0));
        }
    }
    let b = if under > 0.0 {
        (free / under).min(0.95)
    } else {
        0.95
    };
    base.stretched(0.0, b.max(0.3))
}

/// Text fonts of the frame at the canvas's scale.
fn tick_font<DB: DrawingBackend>(canvas: &Canvas<'_, DB>) -> Font {
    Font {
        size: canvas.theme.tick_label_size(),
        bold: false,
        color: INK.to_rgba(),
    }
}

fn label_font<DB: DrawingBackend>(canvas: &Canvas<'_, DB>) -> Font {
    Font {
        size: canvas.theme.label_size(),
        bold: false,
        color: INK.to_rgba(),
    }
}

/// The texts around a figure's panels, from which the margins follow.
pub(crate) struct Margins<'a> {
    /// The title above the panels (empty: none).
    pub title: &'a str,
    /// The x axis label (empty: none).
    pub x_label: &'a str,
    /// Whether any y axis has a label.
    pub y_label: bool,
    /// Extra room on the right (a colour bar).
    pub right: f64,
}

impl Margins<'_> {
    /// The rows above and below the panels: (top, bottom) margins in pixels.
    pub fn vertical<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> (f64, f64) {
        let t = canvas.theme;
        let top_row = if self.title.is_empty() {
            line_height(t.tick_label_size())
        } else {
            line_height(t.title_size())
        };
        let top = t.pad() + top_row + t.gap();
        let mut bottom = t.pad() + 1.3 * t.gap() + line_height(t.tick_label_size());
        if !self.x_label.is_empty() {
            bottom += t.gap() + line_height(t.label_size());
        }
        (top, bottom)
    }

    /// The area left for panels once the labels have room, given the y tick labels of every
    /// panel (the widest sets the left margin) and the x ticks (the last label may stick out
    /// on the right).
    pub fn area<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<'_, DB>,
        y_ticks: &[&Ticks],
        x_ticks: &Ticks,
    ) -> DrawResult<Rect> {
        let t = canvas.theme;
        let font = tick_font(canvas);
        let mut widest: f64 = 0.0;
        for ticks in y_ticks {
            for (_, label) in &ticks.major {
                widest = widest.max(canvas.text_width(label, font)?);
            }
        }
        let mut left = t.pad() + widest + t.gap();
        if self.y_label {
            left += line_height(t.label_size()) + t.gap();
        }
        let mut right = t.pad() + self.right;
        // Half the last label may stick out past the panel; the multiplier follows it.
        let mut last_overhang = 0.0;
        if let Some((_, last)) = x_ticks.major.last() {
            last_overhang = 0.5 * canvas.text_width(last, font)?;
            right = right.max(t.pad() + last_overhang);
        }
        if let Some(m) = &x_ticks.multiplier {
            right = right
                .max(t.pad() + last_overhang + t.gap() + canvas.text_width(m, font)? + self.right);
        }
        let (top, bottom) = self.vertical(canvas);
        let (w, h) = canvas.size();
        Ok(Rect {
            x0: left,
            y0: top,
            x1: (w - right).max(left + 1.0),
            y1: (h - bottom).max(top + 1.0),
        })
    }

    /// Draws the title centred above `rect`.
    pub fn draw_title<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<'_, DB>,
        rect: &Rect,
    ) -> DrawResult {
        let t = canvas.theme;
        let font = Font {
            size: t.title_size(),
            bold: false,
            color: INK.to_rgba(),
        };
        let at = (0.5 * (rect.x0 + rect.x1), rect.y0 - t.gap());
        canvas.text(
            self.title,
            at,
            font,
            (HAlign::Center, VAlign::Bottom),
            false,
        )
    }
}

/// What to draw around one panel.
pub(crate) struct Frame<'a> {
    /// Ticks of the x axis.
    pub x_ticks: &'a Ticks,
    /// Ticks of the y axis.
    pub y_ticks: &'a Ticks,
    /// The x axis label, drawn with the tick labels (empty: none).
    pub x_label: &'a str,
    /// Whether to label the x ticks (false for an upper panel sharing its x axis).
    pub x_tick_labels: bool,
    /// The y axis label (empty: none).
    pub y_label: &'a str,
    /// Leave out y tick labels at the bottom and top edges (where stacked panels meet).
    pub trim_y: (bool, bool),
}

impl Frame<'_> {
    /// Draws the frame, ticks and labels of `panel`; the y label's left edge is `label_x`
    /// (shared by stacked panels so their labels line up).
    pub fn draw<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<'_, DB>,
        panel: &Panel,
        label_x: f64,
    ) -> DrawResult {
        let t = canvas.theme;
        let r = panel.rect;
        let ink = INK.to_rgba();
        let w = t.frame_width();
        canvas.line(
            &[
                (r.x0, r.y0),
                (r.x1, r.y0),
                (r.x1, r.y1),
                (r.x0, r.y1),
                (r.x0, r.y0),
            ],
            ink,
            w,
        )?;
        let major_x: Vec<f64> = self.x_ticks.major.iter().map(|m| m.0).collect();
        let major_y: Vec<f64> = self.y_ticks.major.iter().map(|m| m.0).collect();
        for (values, len) in [
            (&major_x, t.major_tick()),
            (&self.x_ticks.minor, t.minor_tick()),
        ] {
            for x in values.iter().filter_map(|&v| panel.px(v)) {
                canvas.line(&[(x, r.y1), (x, r.y1 - len)], ink, w)?;
                canvas.line(&[(x, r.y0), (x, r.y0 + len)], ink, w)?;
            }
        }
        for (values, len) in [
            (&major_y, t.major_tick()),
            (&self.y_ticks.minor, t.minor_tick()),
        ] {
            for y in values.iter().filter_map(|&v| panel.py(v)) {
                canvas.line(&[(r.x0, y), (r.x0 + len, y)], ink, w)?;
                canvas.line(&[(r.x1, y), (r.x1 - len, y)], ink, w)?;
            }
        }
        let font = tick_font(canvas);
        let edge = 0.6 * line_height(font.size);
        for (v, label) in &self.y_ticks.major {
            let Some(y) = panel.py(*v) else { continue };
            if (self.trim_y.0 && y > r.y1 - edge) || (self.trim_y.1 && y < r.y0 + edge) {
                continue;
            }
            canvas.text(
                label,
                (r.x0 - t.gap(), y),
                font,
                (HAlign::Right, VAlign::Center),
                false,
            )?;
        }
        if let Some(m) = &self.y_ticks.multiplier {
            canvas.text(
                m,
                (r.x0, r.y0 - 0.5 * t.gap()),
                font,
                (HAlign::Left, VAlign::Bottom),
                false,
            )?;
        }
        let label_font = label_font(canvas);
        if self.x_tick_labels {
            let row = r.y1 + 1.3 * t.gap();
            // The right end of the labels: the multiplier starts after it.
            let mut labels_end = r.x1;
            for (v, label) in &self.x_ticks.major {
                if let Some(x) = panel.px(*v) {
                    canvas.text(label, (x, row), font, (HAlign::Center, VAlign::Top), false)?;
                    labels_end = labels_end.max(x + 0.5 * canvas.text_width(label, font)?);
                }
            }
            if let Some(m) = &self.x_ticks.multiplier {
                canvas.text(
                    m,
                    (labels_end + t.gap(), row),
                    font,
                    (HAlign::Left, VAlign::Top),
                    false,
                )?;
            }
            let label_row = row + line_height(font.size) + t.gap();
            canvas.text(
                self.x_label,
                (r.x1, label_row),
                label_font,
                (HAlign::Right, VAlign::Top),
                false,
            )?;
        }
        canvas.text(
            self.y_label,
            (label_x, r.y0),
            label_font,
            (HAlign::Right, VAlign::Top),
            true,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::axes::Scale;

    fn panel() -> Panel {
        Panel {
            rect: Rect {
                x0: 0.0,
                y0: 0.0,
                x1: 100.0,
                y1: 100.0,
            },
            x: Axis::new(Scale::Linear, 0.0, 1.0),
            y: Axis::new(Scale::Log, 1.0, 100.0),
        }
    }

    #[test]
    fn mapping_and_floor() {
        let p = panel();
        assert_eq!(p.point(0.5, 10.0), Some((50.0, 50.0)));
        assert_eq!(p.point(0.5, 0.0), None);
        assert_eq!(p.py_floor(0.0), 101.0);
        assert_eq!(p.py_floor(1e-300), 200.0);
    }

    #[test]
    fn boxes_push_the_axis_up_only_where_they_cover_data() {
        let base = Axis::new(Scale::Linear, 0.0, 100.0);
        let x = Axis::new(Scale::Linear, 0.0, 10.0);
        let rect = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: 100.0,
            y1: 100.0,
        };
        // Falling data: the right half (under the box) reaches 20 only.
        let tops = (0..10).map(|i| (i as f64, i as f64 + 1.0, 100.0 - 10.0 * i as f64));
        let y = fit_below_box(base, &x, tops.clone(), &rect, (40.0, 50.0));
        assert!((y.hi - 100.0 / 0.95).abs() < 1e-9, "{y:?}");
        let y = fit_below_box(base, &x, tops, &rect, (100.0, 50.0));
        assert!((y.hi - 200.0).abs() < 1e-9, "{y:?}");
    }

    #[test]
    fn clipping_cuts_at_the_edges_and_at_gaps() {
        let p = panel();
        let pieces = p.clip(&[
            Some((-50.0, 50.0)),
            Some((50.0, 50.0)),
            None,
            Some((60.0, 10.0)),
            Some((60.0, 150.0)),
        ]);
        assert_eq!(
            pieces,
            vec![
                vec![(0.0, 50.0), (50.0, 50.0)],
                vec![(60.0, 10.0), (60.0, 100.0)]
            ]
        );
        assert!(
            p.clip(&[Some((-5.0, -5.0)), Some((-5.0, 200.0))])
                .is_empty()
        );
    }
}
