//! The house style: the colour cycle, the colour map, the embedded fonts, and the sizes of
//! text, lines, ticks and margins.
//!
//! Sizes are given in pixels of a figure rendered at scale 1 (an SVG, or the final PNG);
//! [`Theme`] multiplies them by the rendering scale (PNGs are drawn at twice their size and
//! averaged down, which smooths lines).

use std::sync::OnceLock;

use plotters::style::{FontStyle, RGBColor};

/// The default figure size in pixels (width, height).
pub const DEFAULT_SIZE: (u32, u32) = (800, 600);

/// The colour cycle for series: the 10-colour sequence of M. A. Petroff, "Accessible Color
/// Sequences for Data Visualization" (arXiv:2107.02270), chosen to stay distinguishable
/// under the common forms of colour blindness (also the CMS default).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x3f, 0x90, 0xda),
    RGBColor(0xff, 0xa9, 0x0e),
    RGBColor(0xbd, 0x1f, 0x01),
    RGBColor(0x94, 0xa4, 0xa2),
    RGBColor(0x83, 0x2d, 0xb6),
    RGBColor(0xa9, 0x6b, 0x59),
    RGBColor(0xe7, 0x63, 0x00),
    RGBColor(0xb9, 0xac, 0x70),
    RGBColor(0x71, 0x75, 0x81),
    RGBColor(0x92, 0xda, 0xdd),
];

/// The colour of series `i` in the cycle.
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Text and axes.
pub(crate) const INK: RGBColor = RGBColor(0, 0, 0);
/// Reference lines (random classifier, ratio of one).
pub(crate) const GUIDE: RGBColor = RGBColor(0x70, 0x70, 0x70);

/// Viridis (matplotlib's default colour map, perceptually uniform and readable in grey and
/// by colour-blind readers), sampled at 17 equally spaced points.
const VIRIDIS: [(u8, u8, u8); 17] = [
    (0x44, 0x01, 0x54),
    (0x48, 0x1a, 0x6c),
    (0x47, 0x2f, 0x7d),
    (0x41, 0x44, 0x87),
    (0x3b, 0x52, 0x8b),
    (0x35, 0x5f, 0x8d),
    (0x2c, 0x72, 0x8e),
    (0x28, 0x7c, 0x8e),
    (0x21, 0x91, 0x8c),
    (0x1f, 0x9e, 0x89),
    (0x28, 0xae, 0x80),
    (0x3f, 0xbc, 0x73),
    (0x5e, 0xc9, 0x62),
    (0x84, 0xd4, 0x4b),
    (0xad, 0xdc, 0x30),
    (0xd8, 0xe2, 0x19),
    (0xfd, 0xe7, 0x25),
];

/// The viridis colour at `t` in [0, 1] (clamped), linearly interpolated between samples.
pub fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + f * (y as f64 - x as f64)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The family name the embedded fonts are registered under. It doubles as the SVG
/// `font-family` list, so SVG viewers use DejaVu Sans where installed and their sans-serif
/// face otherwise.
pub(crate) const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the embedded DejaVu Sans faces with plotters (once per process), so text renders
/// without any system font.
pub(crate) fn register_fonts() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            for (style, bytes) in [(FontStyle::Normal, REGULAR), (FontStyle::Bold, BOLD)] {
                plotters::style::register_font(FONT_FAMILY, style, bytes)
                    .map_err(|_| "the embedded DejaVu Sans font is not a valid font".to_string())?;
            }
            Ok(())
        })
        .clone()
}

/// Sizes at scale 1, in pixels.
mod size {
    pub const TITLE: f64 = 22.0;
    pub const LABEL: f64 = 21.0;
    pub const TICK_LABEL: f64 = 18.0;
    pub const LEGEND: f64 = 17.0;
    pub const MAJOR_TICK: f64 = 9.0;
    pub const MINOR_TICK: f64 = 5.0;
    pub const FRAME: f64 = 1.5;
    pub const LINE: f64 = 2.0;
    pub const MARKER: f64 = 4.0;
    pub const PAD: f64 = 10.0;
    pub const GAP: f64 = 7.0;
}

/// Which backend text goes to; the two place text differently relative to its anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextEngine {
    /// Glyphs rasterised by ab_glyph into the bitmap.
    Raster,
    /// `<text>` elements laid out by the SVG viewer.
    Svg,
}

/// The house style at one rendering scale.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Theme {
    /// Pixels per nominal pixel.
    pub scale: f64,
    /// Where the text goes.
    pub engine: TextEngine,
}

impl Theme {
    /// A nominal size in rendered pixels.
    pub fn px(&self, nominal: f64) -> f64 {
        nominal * self.scale
    }

    /// Font size of the title.
    pub fn title_size(&self) -> f64 {
        self.px(size::TITLE)
    }

    /// Font size of axis labels.
    pub fn label_size(&self) -> f64 {
        self.px(size::LABEL)
    }

    /// Font size of tick labels.
    pub fn tick_label_size(&self) -> f64 {
        self.px(size::TICK_LABEL)
    }

    /// Font size of legend entries and text boxes.
    pub fn legend_size(&self) -> f64 {
        self.px(size::LEGEND)
    }

    /// Length of major ticks.
    pub fn major_tick(&self) -> f64 {
        self.px(size::MAJOR_TICK)
    }

    /// Length of minor ticks.
    pub fn minor_tick(&self) -> f64 {
        self.px(size::MINOR_TICK)
    }

    /// Stroke width of the frame and ticks.
    pub fn frame_width(&self) -> u32 {
        self.stroke(size::FRAME)
    }

    /// Stroke width of data lines.
    pub fn line_width(&self) -> u32 {
        self.stroke(size::LINE)
    }

    /// Radius of data markers.
    pub fn marker(&self) -> f64 {
        self.px(size::MARKER)
    }

    /// The padding around the figure and inside the frame.
    pub fn pad(&self) -> f64 {
        self.px(size::PAD)
    }

    /// The gap between a label and what it labels.
    pub fn gap(&self) -> f64 {
        self.px(size::GAP)
    }

    fn stroke(&self, nominal: f64) -> u32 {
        self.px(nominal).round().max(1.0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_clamps() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xfd, 0xe7, 0x25));
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(viridis(0.5), RGBColor(0x21, 0x91, 0x8c));
    }

    #[test]
    fn fonts_register() {
        assert_eq!(register_fonts(), Ok(()));
        assert_eq!(register_fonts(), Ok(()));
    }
}
