//! The `plot` domain: `.plot(path, opts)` on histograms, curves and results, and figures of
//! several histograms or curves together. The path's extension (`.png` or `.svg`) picks the
//! format; files are written atomically.

use rhai::Array;
use rhai::plugin::*;

use super::domain::Domain;
use super::plot_options::{CurvePlot, tables};
use super::values::Out;
use crate::error::Error;
use crate::plot::Curve;

/// The `plot` domain.
pub const DOMAIN: Domain = Domain {
    name: "plot",
    about: "figures (PNG/SVG): histograms, ratio panels, ROC/SIC curves, BumpHunter results, heat maps; without a path, shown inline in a notebook",
    options: tables,
    module: || exported_module!(plot_api),
};

/// Writes `curves` to `path` as `plot` says.
fn write_curves(path: &str, curves: Vec<Curve>, plot: CurvePlot) -> Out<()> {
    let mut opts = plot.options;
    if !plot.random {
        opts.diagonal = None;
    }
    Ok(crate::plot::plot_curves(
        std::path::Path::new(path),
        &curves,
        &opts,
    )?)
}

/// The elements of `items` as `T`, named `what` in errors.
fn elements<T: Clone + 'static>(items: &Array, what: &str, type_name: &str) -> Out<Vec<T>> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.clone().try_cast::<T>().ok_or_else(|| {
                Error::invalid(
                    what,
                    format!("element {i} is a {}, not a {type_name}", v.type_name()),
                )
                .into()
            })
        })
        .collect()
}

#[export_module]
mod plot_api {
    use rhai::{Array, Map};

    use super::{elements, write_curves};
    use crate::error::Error;
    use crate::nn::train::History;
    use crate::plot::{Spectrum, plot_bumphunter, plot_heatmap, plot_spectrum};
    use crate::script::plot_options::{
        FitPlot, HistPlot, HistsPlot, bump_plot_options, curves_options, fit_plot_options,
        heatmap_options, hist_plot_options, history_options, hists_options,
    };
    use crate::script::values::Out;
    use crate::stats::bumphunter::BumpHunterResult;
    use crate::stats::fit::DijetFit;
    use crate::stats::hist::{Hist1D, Hist2D};
    use crate::stats::metrics::{Roc, SicCurve};

    /// The format of figures drawn without a path in a notebook: "png" (the default) or
    /// "svg" (sharp at any zoom, larger for busy figures).
    #[rhai_fn(return_raw)]
    pub fn inline_figures(ctx: NativeCallContext, format: &str) -> Out<()> {
        let svg = match format {
            "png" => false,
            "svg" => true,
            other => {
                return Err(Error::invalid(
                    "inline figure format",
                    format!("'{other}'; use \"png\" or \"svg\""),
                )
                .into());
            }
        };
        crate::script::state::session_state(&ctx)?
            .inline_svg
            .store(svg, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Draws the histogram to `path` (.png or .svg) as a step line.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_hist(h: &mut Hist1D, path: &str) -> Out<()> {
        plot_hist_with(h, path, Map::new())
    }

    /// Draws the histogram to `path` (.png or .svg) as the options say (`help("plot")`
    /// lists them under Hist1D).
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_hist_with(h: &mut Hist1D, path: &str, opts: Map) -> Out<()> {
        let HistPlot {
            mut options,
            label,
            data,
        } = hist_plot_options().parse(opts, &mut || 0)?;
        options.data = data.then_some(0);
        Ok(crate::plot::plot_hists(
            std::path::Path::new(path),
            &[(label.as_str(), &*h)],
            &options,
        )?)
    }

    /// Draws several histograms in one figure, overlaid or stacked, e.g.
    /// `plot_hists("mjj.png", [data, qcd, signal], #{ labels: ["Data", "QCD", "Z'"], data: 0,
    /// stacked: true, ratio: true, log_y: true })`.
    #[rhai_fn(return_raw)]
    pub fn plot_hists(path: &str, hists: Array, opts: Map) -> Out<()> {
        let hists: Vec<Hist1D> = elements(&hists, "plot_hists", "Hist1D")?;
        let HistsPlot { options, labels } = hists_options("plot_hists").parse(opts, &mut || 0)?;
        let labels = crate::script::plot_options::series_labels("plot_hists", labels, hists.len())?;
        let series: Vec<(&str, &Hist1D)> = labels.iter().map(String::as_str).zip(&hists).collect();
        Ok(crate::plot::plot_hists(
            std::path::Path::new(path),
            &series,
            &options,
        )?)
    }

    /// Draws the 2D histogram as a colour map to `path`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_hist2d(h: &mut Hist2D, path: &str) -> Out<()> {
        plot_hist2d_with(h, path, Map::new())
    }

    /// Draws the 2D histogram as a colour map to `path`, as the options say.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_hist2d_with(h: &mut Hist2D, path: &str, opts: Map) -> Out<()> {
        let options = heatmap_options().parse(opts, &mut || 0)?;
        Ok(plot_heatmap(std::path::Path::new(path), h, &options)?)
    }

    /// Draws the BumpHunter figure to `path`: data against reference with the selected
    /// window, and the per-bin significance below.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_bump(r: &mut BumpHunterResult, path: &str) -> Out<()> {
        plot_bump_with(r, path, Map::new())
    }

    /// Draws the BumpHunter figure to `path`, as the options say.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_bump_with(r: &mut BumpHunterResult, path: &str, opts: Map) -> Out<()> {
        let options = bump_plot_options().parse(opts, &mut || 0)?;
        Ok(plot_bumphunter(std::path::Path::new(path), r, &options)?)
    }

    /// Draws `data` (points with Poisson error bars) against the fit's expected counts in its
    /// bins (a line), the window the fit left out shaded, with a pull panel; log y.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_fit_default(f: &mut DijetFit, path: &str, data: Hist1D) -> Out<()> {
        plot_fit(f, path, data, Map::new())
    }

    /// Draws `data` against the fit in the particle-physics convention: the data as points
    /// with Garwood (68 % central Poisson) error bars, the fit's expected counts per bin as a
    /// line, the signal region shaded, and below the pulls (data - fit) / σ. The legend gives
    /// the fit's function, χ²/ndf and p-value; a fit whose p-value is below `min_fit_pvalue`
    /// is dashed and marked "!". The options of the earlier ratio figure (`ratio`, `data`,
    /// `stacked`, `filled`, `density`) are refused with an explanation.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_fit(f: &mut DijetFit, path: &str, data: Hist1D, opts: Map) -> Out<()> {
        if let Some(old) = ["ratio", "data", "stacked", "filled", "density"]
            .into_iter()
            .find(|k| opts.contains_key(*k))
        {
            return Err(Error::invalid(
                format!("option '{old}' of plot"),
                "a fit's figure draws the data with Poisson error bars over the fit and a \
                 pull panel below; it no longer takes 'ratio', 'data', 'stacked', 'filled' or \
                 'density' (leave the pulls out with `pulls: false`; `plot_hists` draws a ratio \
                 panel)",
            )
            .into());
        }
        let FitPlot {
            spectrum: mut options,
            labels,
            min_fit_pvalue: threshold,
        } = fit_plot_options().parse(opts, &mut || 0)?;
        let labels = match labels {
            None => vec!["Data".to_string(), format!("{} fit", f.function.name())],
            labels => crate::script::plot_options::series_labels("plot", labels, 2)?,
        };
        options.signal_region = options.signal_region.or(f.exclude);
        let prediction = f.prediction(data.edges())?;
        let poor = f.chi2_pvalue < threshold;
        let spectrum = Spectrum {
            label: labels[0].clone(),
            data,
            fit: Some(prediction),
            fit_label: if labels[1].is_empty() {
                String::new()
            } else {
                format!(
                    "{}, χ²/ndf = {:.1}/{}, p = {:.2e}",
                    labels[1], f.chi2, f.ndf, f.chi2_pvalue
                )
            },
            poor_fit: poor,
        };
        if poor {
            options.notes = vec![format!("! fit p-value below {threshold}")];
        }
        Ok(plot_spectrum(
            std::path::Path::new(path),
            &[spectrum],
            &options,
        )?)
    }

    /// Draws the training and validation loss of each epoch to `path`, the best epoch marked
    /// in the legend.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_history(h: &mut History, path: &str) -> Out<()> {
        plot_history_with(h, path, Map::new())
    }

    /// Draws the losses of each epoch to `path`, as the options say.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_history_with(h: &mut History, path: &str, opts: Map) -> Out<()> {
        let options = history_options().parse(opts, &mut || 0)?;
        let epochs: Vec<f64> = (1..=h.epochs.len()).map(|e| e as f64).collect();
        let mut curves = vec![crate::plot::Curve {
            label: "training".into(),
            x: epochs.clone(),
            y: h.epochs.iter().map(|e| e.loss).collect(),
        }];
        let val: Vec<f64> = h.epochs.iter().filter_map(|e| e.val_loss).collect();
        if val.len() == epochs.len() {
            curves.push(crate::plot::Curve {
                label: format!("validation (best: epoch {})", h.best_epoch + 1),
                x: epochs,
                y: val,
            });
        }
        Ok(crate::plot::plot_curves(
            std::path::Path::new(path),
            &curves,
            &options,
        )?)
    }

    /// Draws the ROC curve (eps_S against eps_B, with the random classifier) to `path`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_roc(r: &mut Roc, path: &str) -> Out<()> {
        plot_roc_with(r, path, Map::new())
    }

    /// Draws the curve to `path` as the options' `kind` says: the ROC curve, the background
    /// rejection or the SIC.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_roc_with(r: &mut Roc, path: &str, opts: Map) -> Out<()> {
        let plot = curves_options("plot", true).parse(opts, &mut || 0)?;
        let label = plot.labels("plot", 1)?.remove(0);
        let curve = plot.kind.curve(r, label);
        write_curves(path, vec![curve], plot)
    }

    /// Draws several ROC curves in one figure, e.g. to compare methods:
    /// `plot_rocs("roc.png", [roc_a, roc_b], #{ labels: ["CWoLa", "supervised"], kind:
    /// "rejection" })`.
    #[rhai_fn(return_raw)]
    pub fn plot_rocs(path: &str, rocs: Array, opts: Map) -> Out<()> {
        let rocs: Vec<Roc> = elements(&rocs, "plot_rocs", "Roc")?;
        let plot = curves_options("plot_rocs", true).parse(opts, &mut || 0)?;
        let curves = rocs
            .iter()
            .zip(plot.labels("plot_rocs", rocs.len())?)
            .map(|(r, l)| plot.kind.curve(r, l))
            .collect();
        write_curves(path, curves, plot)
    }

    /// Draws the SIC curve to `path`, as the options say.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_sic(c: &mut SicCurve, path: &str, opts: Map) -> Out<()> {
        let plot = curves_options("plot", false).parse(opts, &mut || 0)?;
        let curve = crate::plot::Curve {
            label: plot.label.clone().unwrap_or_default(),
            x: c.eps_s.clone(),
            y: c.sic.clone(),
        };
        write_curves(path, vec![curve], plot)
    }

    /// Draws the SIC curve to `path`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_sic_default(c: &mut SicCurve, path: &str) -> Out<()> {
        plot_sic(c, path, Map::new())
    }
}
