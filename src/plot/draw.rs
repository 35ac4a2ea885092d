//! Drawing primitives in pixel coordinates: text placed by its cap height and baseline (the
//! same on both backends), lines, dashes, fills and markers.

use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, DrawingAreaErrorKind};
use plotters::element::{Circle, DashedPathElement, PathElement, Polygon, Rectangle};
use plotters::prelude::DrawingBackend;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{
    Color, FontDesc, FontFamily, FontStyle, FontTransform, RGBAColor, ShapeStyle, TextStyle,
};

use super::style::{FONT_FAMILY, TextEngine, Theme};

/// A failure while drawing (a backend or font error), reported as an
/// [`Error::Io`](crate::error::Error::Io) on the figure's path.
#[derive(Debug)]
pub(crate) struct DrawError(pub(crate) String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(err: DrawingAreaErrorKind<E>) -> Self {
        DrawError(err.to_string())
    }
}

/// The outcome of drawing.
pub(crate) type DrawResult<T = ()> = std::result::Result<T, DrawError>;

/// The most characters of one text drawn: more cannot fit on the largest canvas (4000 px), and
/// measuring and rasterising millions of glyphs took minutes.
const MAX_TEXT_CHARS: usize = 1000;

/// `text` cut to [`MAX_TEXT_CHARS`] characters, ending in "…" when cut.
fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        None => text.into(),
        Some((end, _)) => format!("{}…", &text[..end]).into(),
    }
}

/// A point in pixels (x to the right, y down).
pub(crate) type Pt = (f64, f64);

/// Horizontal alignment of text relative to its anchor (along the text's direction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HAlign {
    /// Text starts at the anchor.
    Left,
    /// Text is centred on the anchor.
    Center,
    /// Text ends at the anchor.
    Right,
}

/// Vertical alignment of text relative to its anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VAlign {
    /// Top of capital letters and digits at the anchor.
    Top,
    /// Capital letters centred on the anchor.
    Center,
    /// Bottom of descenders at the anchor.
    Bottom,
}

/// DejaVu Sans metrics as fractions of the font size plotters is given (ab_glyph scales
/// ascent − descent to the size): capital height and descender depth.
const CAP: f64 = 0.626;
const DESCENT: f64 = 0.203;

/// The height of a line of text (capitals plus descenders) at font size `size`.
pub(crate) fn line_height(size: f64) -> f64 {
    (CAP + DESCENT) * size
}

/// How a piece of text looks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Font {
    /// Size in rendered pixels.
    pub size: f64,
    /// Bold face.
    pub bold: bool,
    /// Colour.
    pub color: RGBAColor,
}

/// A drawing area with the house style at its rendering scale.
pub(crate) struct Canvas<'a, DB: DrawingBackend> {
    /// The whole figure, in pixels.
    pub area: &'a DrawingArea<DB, Shift>,
    /// Sizes at this scale, and where the text goes.
    pub theme: Theme,
}

fn round(p: Pt) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    /// The figure's width and height in pixels.
    pub fn size(&self) -> (f64, f64) {
        let (w, h) = self.area.dim_in_pixel();
        (w as f64, h as f64)
    }

    fn style(&self, font: Font, size: f64, rotated: bool, h: HPos) -> TextStyle<'static> {
        let face = if font.bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        let desc = FontDesc::new(FontFamily::Name(FONT_FAMILY), size, face);
        let desc = if rotated {
            desc.transform(FontTransform::Rotate270)
        } else {
            desc
        };
        desc.color(&font.color).pos(Pos::new(h, VPos::Top))
    }

    /// The width of `text` in pixels.
    pub fn text_width(&self, text: &str, font: Font) -> DrawResult<f64> {
        let style = self.style(font, font.size, false, HPos::Left);
        Ok(self.area.estimate_text_size(&visible(text), &style)?.0 as f64)
    }

    /// Draws `text` at `at`, aligned as asked; `rotated` text reads upwards (its top faces
    /// left, "left" alignment is at its bottom end).
    pub fn text(
        &self,
        text: &str,
        at: Pt,
        font: Font,
        align: (HAlign, VAlign),
        rotated: bool,
    ) -> DrawResult {
        if text.is_empty() {
            return Ok(());
        }
        // Distance from the plotters anchor (VPos::Top) to the baseline, for each backend;
        // SVG text gets a larger nominal size because viewers divide it by 1.24 for the em.
        let (size, baseline) = match self.theme.engine {
            TextEngine::Raster => (font.size, 0.5 * font.size),
            TextEngine::Svg => (font.size * 1.065, 0.6527 * font.size),
        };
        let wanted = match align.1 {
            VAlign::Top => CAP * font.size,
            VAlign::Center => 0.5 * CAP * font.size,
            VAlign::Bottom => -DESCENT * font.size,
        };
        let shift = wanted - baseline;
        let pos = if rotated {
            (at.0 + shift, at.1)
        } else {
            (at.0, at.1 + shift)
        };
        let h = match align.0 {
            HAlign::Left => HPos::Left,
            HAlign::Center => HPos::Center,
            HAlign::Right => HPos::Right,
        };
        self.area.draw_text(
            &visible(text),
            &self.style(font, size, rotated, h),
            round(pos),
        )?;
        Ok(())
    }

    /// A polyline.
    pub fn line(&self, points: &[Pt], color: RGBAColor, width: u32) -> DrawResult {
        if points.len() >= 2 {
            let pts: Vec<_> = points.iter().map(|&p| round(p)).collect();
            self.area.draw(&PathElement::new(
                pts,
                ShapeStyle::from(color).stroke_width(width),
            ))?;
        }
        Ok(())
    }

    /// A dashed polyline.
    pub fn dashed(&self, points: &[Pt], color: RGBAColor, width: u32) -> DrawResult {
        if points.len() >= 2 {
            let dash = self.theme.px(7.0).round() as u32;
            let gap = self.theme.px(4.0).round() as u32;
            let pts: Vec<_> = points.iter().map(|&p| round(p)).collect();
            let style = ShapeStyle::from(color).stroke_width(width);
            self.area
                .draw(&DashedPathElement::new(pts, dash, gap, style))?;
        }
        Ok(())
    }

    /// A filled axis-aligned rectangle with corners `a` and `b`.
    pub fn fill_rect(&self, a: Pt, b: Pt, color: RGBAColor) -> DrawResult {
        self.area
            .draw(&Rectangle::new([round(a), round(b)], color.filled()))?;
        Ok(())
    }

    /// A filled polygon.
    pub fn fill_polygon(&self, points: &[Pt], color: RGBAColor) -> DrawResult {
        if points.len() >= 3 {
            let pts: Vec<_> = points.iter().map(|&p| round(p)).collect();
            self.area.draw(&Polygon::new(pts, color.filled()))?;
        }
        Ok(())
    }

    /// A diagonal cross ("×") of half-width `r` centred on `center`.
    pub fn cross(&self, center: Pt, r: f64, color: RGBAColor, width: u32) -> DrawResult {
        let (x, y) = center;
        self.line(&[(x - r, y - r), (x + r, y + r)], color, width)?;
        self.line(&[(x - r, y + r), (x + r, y - r)], color, width)
    }

    /// A filled circle of radius `r`.
    pub fn dot(&self, center: Pt, r: f64, color: RGBAColor) -> DrawResult {
        self.area.draw(&Circle::new(
            round(center),
            r.round().max(1.0) as i32,
            color.filled(),
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn very_long_texts_are_cut() {
        assert_eq!(visible("m_jj [GeV]"), "m_jj [GeV]");
        let exact = "é".repeat(MAX_TEXT_CHARS);
        assert_eq!(visible(&exact), exact);
        let long = visible(&"é".repeat(10_000_000)).into_owned();
        assert_eq!(long.chars().count(), MAX_TEXT_CHARS + 1);
        assert!(long.ends_with("é…"));
    }
}
