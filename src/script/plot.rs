//! The `plot` domain: `.plot(path, opts)` on histograms, curves and results, and figures of
//! several histograms or curves together. The path's extension (`.png` or `.svg`) picks the
//! format; files are written atomically.

use rhai::plugin::*;
use rhai::{Array, Map};

use super::domain::Domain;
use super::options::{Options, number_pair, strings};
use super::values::Out;
use crate::error::Error;
use crate::plot::{Curve, CurveOptions, RandomClassifier};
use crate::stats::metrics::Roc;

/// The `plot` domain.
pub const DOMAIN: Domain = Domain {
    name: "plot",
    about: "figures (PNG/SVG): histograms, ratio panels, ROC/SIC curves, BumpHunter results, heat maps; without a path, shown inline in a notebook",
    options: Vec::new,
    module: || exported_module!(plot_api),
};

/// Options every figure takes.
const COMMON: [&str; 4] = ["title", "x_label", "y_label", "size"];

/// The options map `opts` of `function`, checked against the common keys and `extra`, with
/// the figure size taken out (`size: [width, height]` in pixels).
fn figure_options<'a>(
    function: &'a str,
    mut opts: Map,
    extra: &[&str],
) -> Out<(Options<'a>, Option<(u32, u32)>)> {
    let size = match opts.remove("size") {
        None => None,
        Some(v) => match number_pair("option 'size'", v, "[width, height]")? {
            (w, h) if w >= 1.0 && h >= 1.0 => Some((w as u32, h as u32)),
            _ => {
                return Err(
                    Error::invalid("option 'size'", "give [width, height] in pixels").into(),
                );
            }
        },
    };
    let allowed: Vec<&str> = COMMON.iter().chain(extra).copied().collect();
    Ok((Options::new(function, opts, &allowed)?, size))
}

/// What a ROC-like curve shows.
#[derive(Clone, Copy)]
enum CurveKind {
    /// eps_S against eps_B.
    Roc,
    /// Background rejection 1/eps_B against eps_S (log y).
    Rejection,
    /// The regulated SIC against eps_S.
    Sic,
}

impl CurveKind {
    fn parse(name: &str) -> Out<Self> {
        match name {
            "roc" => Ok(Self::Roc),
            "rejection" => Ok(Self::Rejection),
            "sic" => Ok(Self::Sic),
            other => Err(Error::invalid(
                "option 'kind'",
                format!("'{other}': use \"roc\", \"rejection\" or \"sic\""),
            )
            .into()),
        }
    }

    /// The points of `roc` this kind draws, labelled `label`.
    fn curve(self, roc: &Roc, label: String) -> Curve {
        let (x, y) = match self {
            Self::Roc => (roc.eps_b.clone(), roc.eps_s.clone()),
            Self::Rejection => roc.rejection(),
            Self::Sic => {
                let sic = roc.sic_curve();
                (sic.eps_s, sic.sic)
            }
        };
        Curve { label, x, y }
    }

    /// Axis labels, scales and the random classifier's line for this kind.
    fn options(self) -> CurveOptions {
        let (x_label, y_label, log_y, diagonal) = match self {
            Self::Roc => (
                "Background efficiency ε_B",
                "Signal efficiency ε_S",
                false,
                RandomClassifier::Roc,
            ),
            Self::Rejection => (
                "Signal efficiency ε_S",
                "Background rejection 1/ε_B",
                true,
                RandomClassifier::Rejection,
            ),
            Self::Sic => (
                "Signal efficiency ε_S",
                "ε_S / √(ε_B + 10⁻⁴)",
                false,
                RandomClassifier::Sic,
            ),
        };
        CurveOptions {
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y,
            diagonal: Some(diagonal),
            ..CurveOptions::default()
        }
    }
}

/// Writes `curves` drawn as `kind` to `path`, with the options in `o`.
fn write_curves(
    path: &str,
    curves: Vec<Curve>,
    kind: CurveKind,
    o: &Options,
    size: Option<(u32, u32)>,
) -> Out<()> {
    let mut opts = kind.options();
    opts.title = o.string("title", "")?;
    opts.x_label = o.string("x_label", &opts.x_label)?;
    opts.y_label = o.string("y_label", &opts.y_label)?;
    opts.log_y = o.flag("log_y", opts.log_y)?;
    opts.log_x = o.flag("log_x", false)?;
    if !o.flag("random", true)? {
        opts.diagonal = None;
    }
    opts.size = size.unwrap_or(opts.size);
    Ok(crate::plot::plot_curves(
        std::path::Path::new(path),
        &curves,
        &opts,
    )?)
}

/// The labels of `n` series: the `labels` option, or none.
fn series_labels(opts: &mut Map, n: usize) -> Out<Vec<String>> {
    match opts.remove("labels") {
        None => Ok(vec![String::new(); n]),
        Some(v) => {
            let a = v.into_array().map_err(|t| {
                Error::invalid(
                    "option 'labels'",
                    format!("must be an array of strings, not {t}"),
                )
            })?;
            let labels = strings("labels", &a)?;
            if labels.len() != n {
                return Err(Error::invalid(
                    "option 'labels'",
                    format!("{} labels for {n} series", labels.len()),
                )
                .into());
            }
            Ok(labels)
        }
    }
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

    use super::{CurveKind, elements, figure_options, number_pair, series_labels, write_curves};
    use crate::error::Error;
    use crate::nn::train::History;
    use crate::plot::{
        BumpPlotOptions, HeatmapOptions, HistOptions, PullError, Spectrum, SpectrumOptions,
        plot_bumphunter, plot_heatmap, plot_spectrum,
    };
    use crate::script::values::Out;
    use crate::stats::bumphunter::BumpHunterResult;
    use crate::stats::fit::DijetFit;
    use crate::stats::hist::{Hist1D, Hist2D};
    use crate::stats::metrics::{Roc, SicCurve};

    /// Histogram options from a Rhai map (after the labels were taken out).
    fn hist_options(function: &str, opts: Map) -> Out<HistOptions> {
        let keys = [
            "log_x", "log_y", "filled", "stacked", "density", "data", "ratio",
        ];
        let data = opts.get("data").cloned();
        let (o, size) = figure_options(function, opts, &keys)?;
        let d = HistOptions::default();
        Ok(HistOptions {
            title: o.string("title", "")?,
            x_label: o.string("x_label", "")?,
            y_label: o.string("y_label", &d.y_label)?,
            log_x: o.flag("log_x", false)?,
            log_y: o.flag("log_y", false)?,
            filled: o.flag("filled", false)?,
            stacked: o.flag("stacked", false)?,
            density: o.flag("density", false)?,
            data: match data {
                None => None,
                Some(_) => Some(o.count("data", 0)?),
            },
            ratio: o.flag("ratio", false)?,
            size: size.unwrap_or(d.size),
        })
    }

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

    /// Draws the histogram to `path` (.png or .svg). Options: `title`, `x_label`, `y_label`,
    /// `label` (legend), `log_x`, `log_y`, `filled`, `density` (unit area), `data` (true:
    /// points with error bars), `size` ([width, height] pixels, default [800, 600]).
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_hist_with(h: &mut Hist1D, path: &str, opts: Map) -> Out<()> {
        let mut opts = opts;
        let label = match opts.remove("label") {
            None => String::new(),
            Some(v) => v.into_string().map_err(|t| {
                crate::Error::invalid("option 'label'", format!("must be a string, not {t}"))
            })?,
        };
        let as_data = match opts.remove("data") {
            None => false,
            Some(v) => v.as_bool().map_err(|t| {
                crate::Error::invalid("option 'data'", format!("must be true or false, not {t}"))
            })?,
        };
        let mut options = hist_options("plot", opts)?;
        options.data = as_data.then_some(0);
        Ok(crate::plot::plot_hists(
            std::path::Path::new(path),
            &[(label.as_str(), &*h)],
            &options,
        )?)
    }

    /// Draws several histograms in one figure, overlaid or stacked, e.g.
    /// `plot_hists("mjj.png", [data, qcd, signal], #{ labels: ["Data", "QCD", "Z'"], data: 0,
    /// stacked: true, ratio: true, log_y: true })`. Options: `labels`, `data` (index of the
    /// series drawn as points with error bars), `stacked`, `filled`, `ratio` (lower panel:
    /// data, or the first series, over the stack or the next series), `density`, `log_x`,
    /// `log_y`, `title`, `x_label`, `y_label`, `size`.
    #[rhai_fn(return_raw)]
    pub fn plot_hists(path: &str, hists: Array, opts: Map) -> Out<()> {
        let hists: Vec<Hist1D> = elements(&hists, "plot_hists", "Hist1D")?;
        let mut opts = opts;
        let labels = series_labels(&mut opts, hists.len())?;
        let options = hist_options("plot_hists", opts)?;
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

    /// Draws the 2D histogram as a colour map to `path`. Options: `title`, `x_label`,
    /// `y_label`, `z_label` (colour bar, "Events"), `log_z`, `size`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_hist2d_with(h: &mut Hist2D, path: &str, opts: Map) -> Out<()> {
        let (o, size) = figure_options("plot", opts, &["z_label", "log_z"])?;
        let d = HeatmapOptions::default();
        let options = HeatmapOptions {
            title: o.string("title", "")?,
            x_label: o.string("x_label", "")?,
            y_label: o.string("y_label", "")?,
            z_label: o.string("z_label", &d.z_label)?,
            log_z: o.flag("log_z", false)?,
            size: size.unwrap_or(d.size),
        };
        Ok(plot_heatmap(std::path::Path::new(path), h, &options)?)
    }

    /// Draws the BumpHunter figure to `path`: data against reference with the selected
    /// window, and the per-bin significance below.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_bump(r: &mut BumpHunterResult, path: &str) -> Out<()> {
        plot_bump_with(r, path, Map::new())
    }

    /// Draws the BumpHunter figure to `path`. Options: `title`, `x_label`, `y_label`,
    /// `log_y`, `size`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_bump_with(r: &mut BumpHunterResult, path: &str, opts: Map) -> Out<()> {
        let (o, size) = figure_options("plot", opts, &["log_y"])?;
        let d = BumpPlotOptions::default();
        let options = BumpPlotOptions {
            title: o.string("title", "")?,
            x_label: o.string("x_label", "")?,
            y_label: o.string("y_label", &d.y_label)?,
            log_y: o.flag("log_y", false)?,
            size: size.unwrap_or(d.size),
        };
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
    /// (0.01) is dashed and marked "!". Options: `labels` ([data, fit] legend labels),
    /// `signal_region` ([lo, hi]; default the window the fit left out, if any), `pulls`
    /// (true), `pull_error` ("expected": σ = √fit, or "data": the data's error bar facing
    /// the fit), `min_fit_pvalue`, `log_x` (false), `log_y` (true), `title`, `x_label`,
    /// `y_label`, `size`. The options of the earlier ratio figure (`ratio`, `data`,
    /// `stacked`, `filled`, `density`) are refused with an explanation.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_fit(f: &mut DijetFit, path: &str, data: Hist1D, opts: Map) -> Out<()> {
        let mut opts = opts;
        if let Some(old) = ["ratio", "data", "stacked", "filled", "density"]
            .into_iter()
            .find(|k| opts.contains_key(*k))
        {
            return Err(Error::invalid(
                format!("option '{old}'"),
                "a fit's figure draws the data with Poisson error bars over the fit and a \
                 pull panel below; it no longer takes 'ratio', 'data', 'stacked', 'filled' or \
                 'density' (leave the pulls out with `pulls: false`; `plot_hists` draws a ratio \
                 panel)",
            )
            .into());
        }
        let labels = if opts.contains_key("labels") {
            series_labels(&mut opts, 2)?
        } else {
            vec!["Data".to_string(), format!("{} fit", f.function.name())]
        };
        let signal_region = match opts.remove("signal_region") {
            None => f.exclude,
            Some(v) => Some(number_pair("option 'signal_region'", v, "[lo, hi]")?),
        };
        let pull_error = match opts.remove("pull_error") {
            None => PullError::Expected,
            Some(v) => match v.into_string().as_deref() {
                Ok("expected") => PullError::Expected,
                Ok("data") => PullError::Data,
                _ => {
                    return Err(Error::invalid(
                        "option 'pull_error'",
                        "use \"expected\" (σ = √fit) or \"data\" (the data's Poisson error bar)",
                    )
                    .into());
                }
            },
        };
        let (o, size) =
            figure_options("plot", opts, &["log_x", "log_y", "pulls", "min_fit_pvalue"])?;
        let threshold = o.float("min_fit_pvalue", 0.01)?;
        if !(0.0..1.0).contains(&threshold) {
            return Err(Error::invalid(
                "option 'min_fit_pvalue'",
                format!("{threshold} is not a p-value threshold: give a number in [0, 1)"),
            )
            .into());
        }
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
        let d = SpectrumOptions::default();
        let notes = if poor {
            vec![format!("! fit p-value below {threshold}")]
        } else {
            Vec::new()
        };
        let options = SpectrumOptions {
            title: o.string("title", "")?,
            x_label: o.string("x_label", "")?,
            y_label: o.string("y_label", &d.y_label)?,
            log_x: o.flag("log_x", false)?,
            log_y: o.flag("log_y", true)?,
            signal_region,
            pulls: o.flag("pulls", true)?,
            pull_error,
            notes,
            size: size.unwrap_or(d.size),
            ..d
        };
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

    /// Draws the losses of each epoch to `path`. Options: `log_y`, `title`, `x_label`,
    /// `y_label`, `size`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_history_with(h: &mut History, path: &str, opts: Map) -> Out<()> {
        let (o, size) = figure_options("plot", opts, &["log_y"])?;
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
        let d = crate::plot::CurveOptions::default();
        let options = crate::plot::CurveOptions {
            title: o.string("title", "")?,
            x_label: o.string("x_label", "Epoch")?,
            y_label: o.string("y_label", "Loss")?,
            log_y: o.flag("log_y", false)?,
            size: size.unwrap_or(d.size),
            ..d
        };
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

    /// Draws the curve to `path`. Options: `kind` ("roc": eps_S against eps_B;
    /// "rejection": 1/eps_B against eps_S on a log axis; "sic": the SIC), `label`, `random`
    /// (draw the random classifier, true), `log_x`, `log_y`, `title`, `x_label`, `y_label`,
    /// `size`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_roc_with(r: &mut Roc, path: &str, opts: Map) -> Out<()> {
        plot_rocs(path, vec![Dynamic::from(r.clone())], opts)
    }

    /// Draws several ROC curves in one figure, e.g. to compare methods:
    /// `plot_rocs("roc.png", [roc_a, roc_b], #{ labels: ["CWoLa", "supervised"], kind:
    /// "rejection" })`. Options as for `roc.plot`, with `labels` instead of `label`.
    #[rhai_fn(return_raw)]
    pub fn plot_rocs(path: &str, rocs: Array, opts: Map) -> Out<()> {
        let rocs: Vec<Roc> = elements(&rocs, "plot_rocs", "Roc")?;
        let mut opts = opts;
        if let Some(label) = opts.remove("label") {
            opts.insert("labels".into(), Dynamic::from_array(vec![label]));
        }
        let labels = series_labels(&mut opts, rocs.len())?;
        let kind = match opts.remove("kind") {
            None => CurveKind::Roc,
            Some(v) => CurveKind::parse(&v.into_string().map_err(|t| {
                crate::Error::invalid("option 'kind'", format!("must be a string, not {t}"))
            })?)?,
        };
        let (o, size) = figure_options("plot", opts, &["random", "log_x", "log_y"])?;
        let curves = rocs
            .iter()
            .zip(labels)
            .map(|(r, l)| kind.curve(r, l))
            .collect();
        write_curves(path, curves, kind, &o, size)
    }

    /// Draws the SIC curve to `path`. Options: `label`, `random`, `log_x`, `log_y`,
    /// `title`, `x_label`, `y_label`, `size`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_sic(c: &mut SicCurve, path: &str, opts: Map) -> Out<()> {
        let mut opts = opts;
        let labels = match opts.remove("label") {
            None => vec![String::new()],
            Some(l) => {
                let mut m = Map::new();
                m.insert("labels".into(), Dynamic::from_array(vec![l]));
                series_labels(&mut m, 1)?
            }
        };
        let (o, size) = figure_options("plot", opts, &["random", "log_x", "log_y"])?;
        let curve = crate::plot::Curve {
            label: labels[0].clone(),
            x: c.eps_s.clone(),
            y: c.sic.clone(),
        };
        write_curves(path, vec![curve], CurveKind::Sic, &o, size)
    }

    /// Draws the SIC curve to `path`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot_sic_default(c: &mut SicCurve, path: &str) -> Out<()> {
        plot_sic(c, path, Map::new())
    }
}
