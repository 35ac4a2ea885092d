//! Figures (PNG and SVG, fonts embedded in the binary) in one house style.
//!
//! Each figure is one function taking the output path, the data and an options struct
//! (`Default` gives the house defaults). The path's extension picks the format: `.png`
//! (rendered in memory, supersampled, encoded with the `png` crate) or `.svg`; the file is
//! written atomically. Text uses the embedded DejaVu Sans, so figures look the same on a
//! machine without fonts. The style follows mplhep: ticks inside on all four sides, the x
//! label at the right end of its axis and the y label at the top, a colour-blind-safe cycle.
//!
//! - [`plot_hists`]: 1D histograms, overlaid or stacked, a data series with error bars, a
//!   ratio panel.
//! - [`plot_curves`]: ROC, rejection and SIC curves (any y(x) lines).
//! - [`plot_spectrum`]: mass spectra with their fits in the particle-physics convention
//!   (Garwood error bars, fits as lines, the signal region shaded, a pull panel).
//! - [`plot_bumphunter`]: a BumpHunter result.
//! - [`plot_heatmap`]: a 2D histogram as a colour map.
//! - [`plot_boxes`]: box plots side by side; [`plot_dm_boxes`] for Dark Machines evaluations.

mod axes;
mod boxplot;
mod bumphunter;
mod curves;
mod draw;
mod frame;
mod heatmap;
mod hist;
mod legend;
mod marks;
mod output;
mod spectrum;
mod style;

pub use boxplot::{BoxOptions, BoxSeries, plot_boxes, plot_dm_boxes};
pub use bumphunter::{BumpPlotOptions, plot_bumphunter};
pub use curves::{Curve, CurveOptions, RandomClassifier, plot_curves};
pub use heatmap::{HeatmapOptions, plot_heatmap};
pub use hist::{HistOptions, plot_hists};
pub use spectrum::{
    PullError, Spectrum, SpectrumOptions, garwood_errors, plot_spectrum, pull_values,
};
pub use style::{DEFAULT_SIZE, PALETTE, series_color, viridis};

#[cfg(test)]
pub(crate) mod test_util {
    //! Checks on written figures.

    use std::path::Path;

    /// The PNG at `path` decodes, has `size`, and is not a single colour.
    pub fn check_png(path: &Path, size: (u32, u32)) {
        let bytes = std::fs::read(path).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), size, "{}", path.display());
        let pixels = &buf[..info.buffer_size()];
        let first = &pixels[..3];
        assert!(
            pixels.chunks(3).any(|p| p != first),
            "{} is a single colour",
            path.display()
        );
    }

    /// The SVG at `path` is an SVG document containing each of `texts`.
    pub fn check_svg(path: &Path, texts: &[&str]) {
        let svg = std::fs::read_to_string(path).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{}",
            path.display()
        );
        for text in texts {
            assert!(svg.contains(text), "{} lacks '{text}'", path.display());
        }
    }
}
