//! The `plot` domain: `.plot(path, opts)` on histograms, curves and results, and figures of
//! several histograms or curves together. The path's extension (`.png` or `.svg`) picks the
//! format; files are written atomically.

use rhai::Array;
use rhai::plugin::*;

use super::declared::{Choice, Declared, Opt, OptionTable};
use super::domain::Domain;
use super::values::Out;
use crate::error::Error;
use crate::methods::window_significance::WindowSignificanceOptions;
use crate::plot::{
    BumpPlotOptions, Curve, CurveOptions, HeatmapOptions, HistOptions, PullError, RandomClassifier,
    SpectrumOptions,
};
use crate::stats::metrics::Roc;

/// The `plot` domain.
pub const DOMAIN: Domain = Domain {
    name: "plot",
    about: "figures (PNG/SVG): histograms, ratio panels, ROC/SIC curves, BumpHunter results, heat maps; without a path, shown inline in a notebook",
    options: tables,
    module: || exported_module!(plot_api),
};

/// The declared options of the `plot` domain's built-ins. Those of the `plot` methods are
/// not shown by `help("plot")`: each receiver takes its own, which its doc lists.
fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![
        Box::new(hists_options("plot_hists")),
        Box::new(curves_options("plot_rocs", true)),
    ]
}

/// The options every figure takes (`title`, `x_label`, `y_label`, `size`), in the struct
/// whose fields the accessors reach.
fn figure_opts<T: Clone + 'static>(
    title: fn(&mut T) -> &mut String,
    x_label: fn(&mut T) -> &mut String,
    y_label: fn(&mut T) -> &mut String,
    size: fn(&mut T) -> &mut (u32, u32),
) -> Vec<Opt<T>> {
    vec![
        Opt::field("title", "title above the plot; none when empty", title),
        Opt::field("x_label", "label of the x axis", x_label),
        Opt::field("y_label", "label of the y axis", y_label),
        Opt::custom(
            "size",
            "[width, height]",
            "figure size in pixels",
            move |t: &T| {
                let (w, h) = *size(&mut t.clone());
                vec![Dynamic::from_int(w.into()), Dynamic::from_int(h.into())].into()
            },
            move |t, o| {
                *size(t) = match o.numbers("size")?.as_slice() {
                    [w, h] if *w >= 1.0 && *h >= 1.0 => (*w as u32, *h as u32),
                    _ => return Err(o.invalid("size", "give [width, height] in pixels")),
                };
                Ok(())
            },
        ),
    ]
}

/// The option `labels` (a legend label per series, where `access` reaches).
fn labels_opt<T: Clone + 'static>(access: fn(&mut T) -> &mut Option<Vec<String>>) -> Opt<T> {
    Opt::field(
        "labels",
        "a legend label per series; none when absent",
        access,
    )
}

/// The labels of `n` series, `labels` (option `labels` of `function`) or none.
fn series_labels(function: &str, labels: Option<Vec<String>>, n: usize) -> Out<Vec<String>> {
    match labels {
        None => Ok(vec![String::new(); n]),
        Some(labels) if labels.len() != n => Err(Error::invalid(
            format!("option 'labels' of {function}"),
            format!("{} labels for {n} series", labels.len()),
        )
        .into()),
        Some(labels) => Ok(labels),
    }
}

/// The options of histogram figures but the series' labels.
fn hist_opts<T: Clone + 'static>(access: fn(&mut T) -> &mut HistOptions) -> Vec<Opt<T>> {
    let opts: Vec<Opt<HistOptions>> = figure_opts(
        |h: &mut HistOptions| &mut h.title,
        |h| &mut h.x_label,
        |h| &mut h.y_label,
        |h| &mut h.size,
    )
    .into_iter()
    .chain([
        Opt::field(
            "log_x",
            "logarithmic x axis; every bin edge must then be positive",
            |h: &mut HistOptions| &mut h.log_x,
        ),
        Opt::field("log_y", "logarithmic y axis", |h| &mut h.log_y),
        Opt::field(
            "filled",
            "fill the area under each histogram but data",
            |h| &mut h.filled,
        ),
        Opt::field(
            "stacked",
            "stack the histograms but data, the first at the bottom",
            |h| &mut h.stacked,
        ),
        Opt::field("density", "normalise to unit area", |h| &mut h.density),
        Opt::field(
            "ratio",
            "lower panel: data, or the first series, over the stack or the next series",
            |h| &mut h.ratio,
        ),
    ])
    .collect();
    opts.into_iter().map(|o| o.lift(access)).collect()
}

/// The options of `plot_hists`.
#[derive(Clone, Debug, Default)]
struct HistsPlot {
    options: HistOptions,
    labels: Option<Vec<String>>,
}

/// The declared options of `plot_hists`.
fn hists_options(function: &'static str) -> Declared<HistsPlot> {
    Declared::new(
        function,
        HistsPlot::default,
        std::iter::once(labels_opt(|p: &mut HistsPlot| &mut p.labels))
            .chain([Opt::field(
                "data",
                "index of the series drawn as points with error bars, never stacked; none when absent",
                |p: &mut HistsPlot| &mut p.options.data,
            )])
            .chain(hist_opts(|p: &mut HistsPlot| &mut p.options))
            .collect(),
    )
}

/// The options of a histogram's `plot`.
#[derive(Clone, Debug, Default)]
struct HistPlot {
    options: HistOptions,
    label: String,
    data: bool,
}

/// The declared options of a histogram's `plot`.
fn hist_plot_options() -> Declared<HistPlot> {
    Declared::new(
        "plot",
        HistPlot::default,
        std::iter::once(Opt::field(
            "label",
            "the legend label; none when empty",
            |p: &mut HistPlot| &mut p.label,
        ))
        .chain([Opt::field(
            "data",
            "draw as points with error bars",
            |p: &mut HistPlot| &mut p.data,
        )])
        .chain(hist_opts(|p: &mut HistPlot| &mut p.options))
        .collect(),
    )
}

/// The declared options of a 2D histogram's `plot`.
fn heatmap_options() -> Declared<HeatmapOptions> {
    Declared::new(
        "plot",
        HeatmapOptions::default,
        figure_opts(
            |h: &mut HeatmapOptions| &mut h.title,
            |h| &mut h.x_label,
            |h| &mut h.y_label,
            |h| &mut h.size,
        )
        .into_iter()
        .chain([
            Opt::field(
                "z_label",
                "label of the colour bar",
                |h: &mut HeatmapOptions| &mut h.z_label,
            ),
            Opt::field(
                "log_z",
                "logarithmic colour scale; empty bins left white",
                |h| &mut h.log_z,
            ),
        ])
        .collect(),
    )
}

/// The declared options of a BumpHunter result's `plot`.
fn bump_plot_options() -> Declared<BumpPlotOptions> {
    Declared::new(
        "plot",
        BumpPlotOptions::default,
        figure_opts(
            |b: &mut BumpPlotOptions| &mut b.title,
            |b| &mut b.x_label,
            |b| &mut b.y_label,
            |b| &mut b.size,
        )
        .into_iter()
        .chain([Opt::field(
            "log_y",
            "logarithmic y axis in the upper panel",
            |b: &mut BumpPlotOptions| &mut b.log_y,
        )])
        .collect(),
    )
}

impl Choice for PullError {
    fn names() -> Vec<&'static str> {
        vec!["expected", "data"]
    }
    fn name(&self) -> &'static str {
        match self {
            PullError::Expected => "expected",
            PullError::Data => "data",
        }
    }
    fn parse(name: &str) -> crate::Result<Self> {
        match name {
            "expected" => Ok(PullError::Expected),
            "data" => Ok(PullError::Data),
            _ => Err(Error::invalid(
                "pull_error",
                "use \"expected\" (σ = √fit) or \"data\" (the data's Poisson error bar)",
            )),
        }
    }
}

/// The options of a fit's `plot`.
#[derive(Clone, Debug)]
struct FitPlot {
    spectrum: SpectrumOptions,
    labels: Option<Vec<String>>,
    min_fit_pvalue: f64,
}

impl Default for FitPlot {
    fn default() -> Self {
        Self {
            spectrum: SpectrumOptions::default(),
            labels: None,
            min_fit_pvalue: WindowSignificanceOptions::default().min_fit_pvalue,
        }
    }
}

/// The declared options of a fit's `plot`.
fn fit_plot_options() -> Declared<FitPlot> {
    let spectrum: Vec<Opt<SpectrumOptions>> = vec![
        Opt::field(
            "signal_region",
            "shaded in both panels; the window the fit left out, if any, when absent",
            |s: &mut SpectrumOptions| &mut s.signal_region,
        ),
        Opt::field("pulls", "the lower panel of pulls (data - fit) / σ", |s| {
            &mut s.pulls
        }),
        Opt::choice(
            "pull_error",
            "σ of the pulls: √fit, or the data's error bar facing the fit",
            |s| &mut s.pull_error,
        ),
        Opt::field(
            "log_x",
            "logarithmic x axis; every bin edge must then be positive",
            |s| &mut s.log_x,
        ),
        Opt::field("log_y", "logarithmic y axis", |s| &mut s.log_y),
    ];
    Declared::new(
        "plot",
        FitPlot::default,
        std::iter::once(Opt::field(
            "labels",
            "[data, fit] legend labels; \"Data\" and the function's name when absent",
            |p: &mut FitPlot| &mut p.labels,
        ))
        .chain(
            spectrum
                .into_iter()
                .chain(figure_opts(
                    |s: &mut SpectrumOptions| &mut s.title,
                    |s| &mut s.x_label,
                    |s| &mut s.y_label,
                    |s| &mut s.size,
                ))
                .map(|o| o.lift(|p: &mut FitPlot| &mut p.spectrum)),
        )
        .chain([Opt::custom(
            "min_fit_pvalue",
            "number",
            "a fit whose χ² p-value is below this is dashed and marked \"!\"",
            |p: &FitPlot| Dynamic::from_float(p.min_fit_pvalue),
            |p, o| {
                let threshold = o.float("min_fit_pvalue", 0.0)?;
                if !(0.0..1.0).contains(&threshold) {
                    return Err(o.invalid(
                        "min_fit_pvalue",
                        format!("{threshold} is not a p-value threshold: give a number in [0, 1)"),
                    ));
                }
                p.min_fit_pvalue = threshold;
                Ok(())
            },
        )])
        .collect(),
    )
}

/// The defaults of a training history's `plot`: the curve options with the axes named.
fn history_defaults() -> CurveOptions {
    CurveOptions {
        x_label: "Epoch".into(),
        y_label: "Loss".into(),
        ..CurveOptions::default()
    }
}

/// The declared options of a training history's `plot`.
fn history_options() -> Declared<CurveOptions> {
    Declared::new(
        "plot",
        history_defaults,
        figure_opts(
            |c: &mut CurveOptions| &mut c.title,
            |c| &mut c.x_label,
            |c| &mut c.y_label,
            |c| &mut c.size,
        )
        .into_iter()
        .chain([Opt::field(
            "log_y",
            "logarithmic y axis",
            |c: &mut CurveOptions| &mut c.log_y,
        )])
        .collect(),
    )
}

/// What a ROC-like curve shows.
#[derive(Clone, Copy, Debug)]
enum CurveKind {
    /// eps_S against eps_B.
    Roc,
    /// Background rejection 1/eps_B against eps_S (log y).
    Rejection,
    /// The regulated SIC against eps_S.
    Sic,
}

impl CurveKind {
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

impl Choice for CurveKind {
    fn names() -> Vec<&'static str> {
        vec!["roc", "rejection", "sic"]
    }
    fn name(&self) -> &'static str {
        match self {
            Self::Roc => "roc",
            Self::Rejection => "rejection",
            Self::Sic => "sic",
        }
    }
    fn parse(name: &str) -> crate::Result<Self> {
        match name {
            "roc" => Ok(Self::Roc),
            "rejection" => Ok(Self::Rejection),
            "sic" => Ok(Self::Sic),
            other => Err(Error::invalid(
                "kind",
                format!("'{other}': use \"roc\", \"rejection\" or \"sic\""),
            )),
        }
    }
}

/// The options of a figure of ROC-like curves.
#[derive(Clone, Debug)]
struct CurvePlot {
    kind: CurveKind,
    options: CurveOptions,
    random: bool,
    label: Option<String>,
    labels: Option<Vec<String>>,
}

impl CurvePlot {
    /// The defaults of curves drawn as `kind`.
    fn of(kind: CurveKind) -> Self {
        let options = kind.options();
        Self {
            kind,
            random: options.diagonal.is_some(),
            options,
            label: None,
            labels: None,
        }
    }

    /// The labels of `n` curves (options `label` and `labels` of `function`).
    fn labels(&self, function: &str, n: usize) -> Out<Vec<String>> {
        let labels = self.label.clone().map(|l| vec![l]).or(self.labels.clone());
        series_labels(function, labels, n)
    }
}

/// The declared options of ROC-like curves' figures: with `roc` (ROC curves) the `kind`
/// and several curves' `labels`, else (a SIC curve) one curve's `label`.
fn curves_options(function: &'static str, roc: bool) -> Declared<CurvePlot> {
    let mut opts: Vec<Opt<CurvePlot>> = Vec::new();
    if roc {
        opts.push(Opt::custom(
            "kind",
            &format!("one of {}", CurveKind::names().join(", ")),
            "\"roc\": eps_S against eps_B; \"rejection\": 1/eps_B against eps_S on a log axis; \"sic\": the SIC; sets the axes' defaults",
            |c: &CurvePlot| c.kind.name().into(),
            |c, o| {
                *c = CurvePlot {
                    label: c.label.take(),
                    labels: c.labels.take(),
                    ..CurvePlot::of(o.choice("kind", CurveKind::parse)?)
                };
                Ok(())
            },
        ));
    }
    opts.push(Opt::field(
        "label",
        "the legend label of one curve; none when absent",
        |c: &mut CurvePlot| &mut c.label,
    ));
    if roc {
        opts.push(labels_opt(|c: &mut CurvePlot| &mut c.labels));
    }
    let curve: Vec<Opt<CurveOptions>> = figure_opts(
        |c: &mut CurveOptions| &mut c.title,
        |c| &mut c.x_label,
        |c| &mut c.y_label,
        |c| &mut c.size,
    )
    .into_iter()
    .chain([
        Opt::field("log_x", "logarithmic x axis", |c: &mut CurveOptions| {
            &mut c.log_x
        }),
        Opt::field("log_y", "logarithmic y axis", |c| &mut c.log_y),
    ])
    .collect();
    opts.push(Opt::field(
        "random",
        "draw the random classifier",
        |c: &mut CurvePlot| &mut c.random,
    ));
    opts.extend(
        curve
            .into_iter()
            .map(|o| o.lift(|c: &mut CurvePlot| &mut c.options)),
    );
    let defaults: fn() -> CurvePlot = if roc {
        || CurvePlot::of(CurveKind::Roc)
    } else {
        || CurvePlot::of(CurveKind::Sic)
    };
    Declared::new(function, defaults, opts)
}

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

    use super::{
        FitPlot, HistPlot, HistsPlot, bump_plot_options, curves_options, elements,
        fit_plot_options, heatmap_options, hist_plot_options, history_options, hists_options,
        write_curves,
    };
    use crate::error::Error;
    use crate::nn::train::History;
    use crate::plot::{Spectrum, plot_bumphunter, plot_heatmap, plot_spectrum};
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

    /// Draws the histogram to `path` (.png or .svg). Options: `title`, `x_label`, `y_label`,
    /// `label` (legend), `log_x`, `log_y`, `filled`, `density` (unit area), `data` (true:
    /// points with error bars), `size` ([width, height] pixels, default [800, 600]).
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
        let labels = super::series_labels("plot_hists", labels, hists.len())?;
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
        let options = heatmap_options().parse(opts, &mut || 0)?;
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
    /// (0.01) is dashed and marked "!". Options: `labels` ([data, fit] legend labels),
    /// `signal_region` ([lo, hi]; default the window the fit left out, if any), `pulls`
    /// (true), `pull_error` ("expected": σ = √fit, or "data": the data's error bar facing
    /// the fit), `min_fit_pvalue`, `log_x` (false), `log_y` (true), `title`, `x_label`,
    /// `y_label`, `size`. The options of the earlier ratio figure (`ratio`, `data`,
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
            labels => super::series_labels("plot", labels, 2)?,
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

    /// Draws the losses of each epoch to `path`. Options: `log_y`, `title`, `x_label`,
    /// `y_label`, `size`.
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

    /// Draws the curve to `path`. Options: `kind` ("roc": eps_S against eps_B;
    /// "rejection": 1/eps_B against eps_S on a log axis; "sic": the SIC), `label`, `random`
    /// (draw the random classifier, true), `log_x`, `log_y`, `title`, `x_label`, `y_label`,
    /// `size`.
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

    /// Draws the SIC curve to `path`. Options: `label`, `random`, `log_x`, `log_y`,
    /// `title`, `x_label`, `y_label`, `size`.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `plot` methods' tables, which `help` does not show (one name, several receivers),
    /// hold their defaults too.
    #[test]
    fn the_plot_methods_defaults_are_the_ones_read() {
        let tables: Vec<Box<dyn OptionTable>> = vec![
            Box::new(hist_plot_options()),
            Box::new(hists_options("plot_hists")),
            Box::new(heatmap_options()),
            Box::new(bump_plot_options()),
            Box::new(fit_plot_options()),
            Box::new(history_options()),
            Box::new(curves_options("plot", true)),
            Box::new(curves_options("plot", false)),
        ];
        for table in tables {
            table.check_defaults().unwrap();
        }
        let table = curves_options("plot_rocs", true).table();
        assert!(
            table.contains("  size ([width, height], default [800, 600]): figure size in pixels\n"),
            "{table}"
        );
    }
}
