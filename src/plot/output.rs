//! Rendering a figure in memory and writing it: PNG or SVG chosen by the path's extension,
//! written atomically.
//!
//! PNGs are drawn at twice their size and averaged down 2×2 (plotters' bitmap backend does
//! not anti-alias lines); SVGs are drawn at their nominal size.

use std::io;
use std::path::Path;

use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::prelude::{BitMapBackend, DrawingBackend, IntoDrawingArea, SVGBackend};
use plotters::style::WHITE;

use super::draw::{Canvas, DrawError, DrawResult};
use super::style::{TextEngine, Theme, register_fonts};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

/// Largest width or height of a figure, in pixels.
const MAX_SIDE: u32 = 4000;
/// Smallest width or height of a figure, in pixels.
const MIN_SIDE: u32 = 100;
/// Figures up to this many pixels are supersampled 2×2.
const SUPERSAMPLE_MAX_PIXELS: u64 = 4_000_000;

/// Something that draws itself on a canvas of any backend.
pub(crate) trait Figure {
    /// Draws the whole figure.
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult;
}

/// The file formats a figure can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
}

impl Format {
    /// The format named by `path`'s extension (`.png` or `.svg`, any case).
    fn of(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(Error::invalid(
                "plot path",
                format!(
                    "'{}' must end in .png or .svg (the extension picks the format)",
                    path.display()
                ),
            )),
        }
    }
}

/// Renders `figure` at `size` (width, height in pixels) and writes it to `path` as PNG or
/// SVG according to the extension.
pub(crate) fn save(path: &Path, size: (u32, u32), figure: &impl Figure) -> Result<()> {
    let format = Format::of(path)?;
    check_size(size)?;
    let rendered = register_fonts()
        .map_err(DrawError)
        .and_then(|()| match format {
            Format::Png => render_png(size, figure),
            Format::Svg => render_svg(size, figure).map(String::into_bytes),
        });
    let bytes = rendered.map_err(|err| Error::io("render", path, io::Error::other(err.0)))?;
    write_atomic(path, &bytes)
}

fn check_size((w, h): (u32, u32)) -> Result<()> {
    let ok = |v: u32| (MIN_SIDE..=MAX_SIDE).contains(&v);
    if ok(w) && ok(h) {
        Ok(())
    } else {
        Err(Error::invalid(
            "figure size",
            format!("{w}x{h} pixels; width and height must be between {MIN_SIDE} and {MAX_SIDE}"),
        ))
    }
}

fn draw_on<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    theme: Theme,
    figure: &impl Figure,
) -> DrawResult {
    area.fill(&WHITE)?;
    figure.draw(&Canvas { area, theme })?;
    area.present()?;
    Ok(())
}

fn render_svg(size: (u32, u32), figure: &impl Figure) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw_on(
            &area,
            Theme {
                scale: 1.0,
                engine: TextEngine::Svg,
            },
            figure,
        )?;
    }
    Ok(svg)
}

fn render_png((w, h): (u32, u32), figure: &impl Figure) -> DrawResult<Vec<u8>> {
    let factor: u32 = if w as u64 * h as u64 <= SUPERSAMPLE_MAX_PIXELS {
        2
    } else {
        1
    };
    let (bw, bh) = (w * factor, h * factor);
    let mut big = vec![0u8; bw as usize * bh as usize * 3];
    {
        let area = BitMapBackend::with_buffer(&mut big, (bw, bh)).into_drawing_area();
        draw_on(
            &area,
            Theme {
                scale: factor as f64,
                engine: TextEngine::Raster,
            },
            figure,
        )?;
    }
    let rgb = downsample(&big, (w as usize, h as usize), factor as usize);
    encode_png(&rgb, (w, h)).map_err(|err| DrawError(format!("PNG encoding failed: {err}")))
}

/// Averages `factor`×`factor` blocks of an RGB image of `factor` times the size `(w, h)`.
fn downsample(big: &[u8], (w, h): (usize, usize), factor: usize) -> Vec<u8> {
    if factor == 1 {
        return big.to_vec();
    }
    let bw = w * factor;
    let n = (factor * factor) as u32;
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..factor {
                    for dx in 0..factor {
                        sum += big[((y * factor + dy) * bw + x * factor + dx) * 3 + c] as u32;
                    }
                }
                out[(y * w + x) * 3 + c] = ((sum + n / 2) / n) as u8;
            }
        }
    }
    out
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format() {
        assert_eq!(Format::of(Path::new("a/b.png")).unwrap(), Format::Png);
        assert_eq!(Format::of(Path::new("b.SVG")).unwrap(), Format::Svg);
        let err = Format::of(Path::new("b.pdf")).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid plot path: 'b.pdf' must end in .png or .svg"),
            "{err}"
        );
        assert!(Format::of(Path::new("noext")).is_err());
    }

    #[test]
    fn sizes_are_bounded() {
        assert!(check_size((800, 600)).is_ok());
        assert!(
            check_size((0, 600))
                .unwrap_err()
                .to_string()
                .contains("figure size")
        );
        assert!(check_size((800, 100_000)).is_err());
    }

    /// Draws one word in the middle of the figure.
    struct Word;

    impl Figure for Word {
        fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> DrawResult {
            use crate::plot::draw::{Font, HAlign, VAlign};
            use plotters::style::{BLACK, Color};
            let font = Font {
                size: canvas.theme.label_size(),
                bold: true,
                color: BLACK.to_rgba(),
            };
            let (w, h) = canvas.size();
            canvas.text(
                "Events",
                (0.5 * w, 0.5 * h),
                font,
                (HAlign::Center, VAlign::Center),
                false,
            )
        }
    }

    #[test]
    fn text_renders_from_the_embedded_font() {
        register_fonts().unwrap();
        let png = render_png((200, 100), &Word).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut rgb).unwrap();
        let dark: Vec<(usize, usize)> = (0..200 * 100)
            .filter(|i| rgb[3 * i] < 128)
            .map(|i| (i % 200, i / 200))
            .collect();
        assert!(dark.len() > 150, "only {} dark pixels", dark.len());
        // Centred: the ink lies around the middle of the figure.
        let (x0, x1) = (
            dark.iter().map(|p| p.0).min().unwrap(),
            dark.iter().map(|p| p.0).max().unwrap(),
        );
        let (y0, y1) = (
            dark.iter().map(|p| p.1).min().unwrap(),
            dark.iter().map(|p| p.1).max().unwrap(),
        );
        assert!(
            (x0 + x1).abs_diff(200) <= 6 && (y0 + y1).abs_diff(100) <= 8,
            "ink in x {x0}..{x1}, y {y0}..{y1}"
        );
        let svg = render_svg((200, 100), &Word).unwrap();
        assert!(
            svg.contains("font-family=\"DejaVu Sans, sans-serif\"") && svg.contains("Events"),
            "{svg}"
        );
    }

    #[test]
    fn downsampling_averages_blocks() {
        let big = [0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255];
        assert_eq!(downsample(&big, (1, 1), 2), vec![191, 191, 191]);
    }
}
