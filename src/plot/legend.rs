//! Legends and text boxes: rows of a handle (line, patch, marker) and a label on a
//! translucent white background, placed in a corner of a panel.

use plotters::prelude::DrawingBackend;
use plotters::style::{Color, RGBAColor, WHITE};

use super::draw::DrawResult;
use super::draw::{Canvas, Font, HAlign, Pt, VAlign};
use super::frame::Rect;
use super::style::INK;

/// What an entry shows next to its label.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Handle {
    /// A solid line.
    Line(RGBAColor),
    /// A dashed line.
    Dashed(RGBAColor),
    /// A filled box with an outline.
    Patch {
        /// Fill colour.
        fill: RGBAColor,
        /// Outline colour.
        edge: RGBAColor,
    },
    /// A marker with a vertical error bar.
    Points(RGBAColor),
    /// A cross (a marked point).
    Cross(RGBAColor),
    /// Nothing: a line of text.
    Text,
}

/// One row of a legend.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// What it looks like.
    pub handle: Handle,
    /// What it says.
    pub label: String,
}

/// A corner of a panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Corner {
    /// Top right.
    UpperRight,
    /// Top left.
    UpperLeft,
    /// Bottom right.
    LowerRight,
    /// Bottom left.
    LowerLeft,
}

impl Corner {
    /// All corners, in order of preference.
    pub const ALL: [Corner; 4] = [
        Corner::UpperRight,
        Corner::UpperLeft,
        Corner::LowerRight,
        Corner::LowerLeft,
    ];
}

/// A stack of entries.
pub(crate) struct Legend {
    entries: Vec<Entry>,
}

impl Legend {
    /// A legend of `entries` (drawn in order, top to bottom).
    pub fn new(entries: Vec<Entry>) -> Legend {
        Legend { entries }
    }

    fn font<DB: DrawingBackend>(canvas: &Canvas<'_, DB>) -> Font {
        Font {
            size: canvas.theme.legend_size(),
            bold: false,
            color: INK.to_rgba(),
        }
    }

    fn row_height<DB: DrawingBackend>(canvas: &Canvas<'_, DB>) -> f64 {
        1.25 * canvas.theme.legend_size()
    }

    fn handle_width<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> f64 {
        let any = self
            .entries
            .iter()
            .any(|e| !matches!(e.handle, Handle::Text));
        if any {
            2.0 * canvas.theme.legend_size()
        } else {
            0.0
        }
    }

    /// Width and height in pixels, padding included; (0, 0) when empty.
    pub fn size<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult<(f64, f64)> {
        if self.entries.is_empty() {
            return Ok((0.0, 0.0));
        }
        let font = Self::font(canvas);
        let mut widest: f64 = 0.0;
        for e in &self.entries {
            let indent = if matches!(e.handle, Handle::Text) {
                0.0
            } else {
                self.handle_width(canvas) + canvas.theme.gap()
            };
            widest = widest.max(indent + canvas.text_width(&e.label, font)?);
        }
        let pad = canvas.theme.gap();
        Ok((
            widest + 2.0 * pad,
            self.entries.len() as f64 * Self::row_height(canvas) + 2.0 * pad,
        ))
    }

    /// Where the legend goes in `corner` of `panel`, `offset` pixels further in vertically
    /// (to stack boxes in one corner).
    pub fn place<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<'_, DB>,
        panel: &Rect,
        corner: Corner,
        offset: f64,
    ) -> DrawResult<Rect> {
        let (w, h) = self.size(canvas)?;
        let inset = canvas.theme.pad();
        let x0 = match corner {
            Corner::UpperRight | Corner::LowerRight => panel.x1 - inset - w,
            Corner::UpperLeft | Corner::LowerLeft => panel.x0 + inset,
        };
        let y0 = match corner {
            Corner::UpperRight | Corner::UpperLeft => panel.y0 + inset + offset,
            Corner::LowerRight | Corner::LowerLeft => panel.y1 - inset - h - offset,
        };
        Ok(Rect {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
        })
    }

    /// Draws the legend into `rect` (from [`Legend::place`]).
    pub fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>, rect: &Rect) -> DrawResult {
        if self.entries.is_empty() {
            return Ok(());
        }
        let t = canvas.theme;
        canvas.fill_rect((rect.x0, rect.y0), (rect.x1, rect.y1), WHITE.mix(0.8))?;
        let font = Self::font(canvas);
        let row = Self::row_height(canvas);
        let hw = self.handle_width(canvas);
        let x = rect.x0 + t.gap();
        for (i, e) in self.entries.iter().enumerate() {
            let yc = rect.y0 + t.gap() + (i as f64 + 0.5) * row;
            let (a, b): (Pt, Pt) = ((x, yc), (x + hw, yc));
            let half = 0.3 * font.size;
            match e.handle {
                Handle::Line(c) => canvas.line(&[a, b], c, t.line_width())?,
                Handle::Dashed(c) => canvas.dashed(&[a, b], c, t.line_width())?,
                Handle::Patch { fill, edge } => {
                    let (p, q) = ((a.0, yc - half), (b.0, yc + half));
                    canvas.fill_rect(p, q, fill)?;
                    canvas.line(&[p, (q.0, p.1), q, (p.0, q.1), p], edge, t.frame_width())?;
                }
                Handle::Points(c) => {
                    let xm = 0.5 * (a.0 + b.0);
                    canvas.line(
                        &[(xm, yc - 1.3 * half), (xm, yc + 1.3 * half)],
                        c,
                        t.line_width(),
                    )?;
                    canvas.dot((xm, yc), t.marker(), c)?;
                }
                Handle::Cross(c) => {
                    let xm = 0.5 * (a.0 + b.0);
                    canvas.cross((xm, yc), 1.8 * t.marker(), c, t.line_width())?;
                }
                Handle::Text => {}
            }
            let tx = if matches!(e.handle, Handle::Text) {
                x
            } else {
                x + hw + t.gap()
            };
            canvas.text(
                &e.label,
                (tx, yc),
                font,
                (HAlign::Left, VAlign::Center),
                false,
            )?;
        }
        Ok(())
    }
}
