//! The declared options of the `plot` domain's figures (see `declared.rs`): the options every
//! figure takes, and each figure's own. The `plot` methods' tables are registered per receiver
//! type, so `help("plot")` shows each under the type it belongs to.

use rhai::Dynamic;

use super::declared::{Choice, Declared, Opt};
use super::domain::OptionTable;
use super::values::Out;
use crate::error::Error;
use crate::methods::window_significance::WindowSignificanceOptions;
use crate::plot::{
    BumpPlotOptions, Curve, CurveOptions, HeatmapOptions, HistOptions, PullError, RandomClassifier,
    SpectrumOptions,
};
use crate::stats::metrics::Roc;

/// The declared options of the `plot` domain's built-ins, those of the `plot` methods under
/// the type each is called on.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![
        Box::new(hists_options("plot_hists")),
        Box::new(curves_options("plot_rocs", true)),
        Box::new(hist_plot_options().on("Hist1D")),
        Box::new(heatmap_options().on("Hist2D")),
        Box::new(bump_plot_options().on("BumpHunterResult")),
        Box::new(fit_plot_options().on("DijetFit")),
        Box::new(history_options().on("History")),
        Box::new(curves_options("plot", true).on("Roc")),
        Box::new(curves_options("plot", false).on("SicCurve")),
    ]
}

/// The options every figure takes (`title`, `x_label`, `y_label`, `size`), in the struct
/// whose fields the accessors reach.
pub(super) fn figure_opts<T: Clone + 'static>(
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
pub(super) fn labels_opt<T: Clone + 'static>(
    access: fn(&mut T) -> &mut Option<Vec<String>>,
) -> Opt<T> {
    Opt::field(
        "labels",
        "a legend label per series; none when absent",
        access,
    )
}

/// The labels of `n` series, `labels` (option `labels` of `function`) or none.
pub(super) fn series_labels(
    function: &str,
    labels: Option<Vec<String>>,
    n: usize,
) -> Out<Vec<String>> {
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
pub(super) fn hist_opts<T: Clone + 'static>(access: fn(&mut T) -> &mut HistOptions) -> Vec<Opt<T>> {
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
pub(super) struct HistsPlot {
    pub(super) options: HistOptions,
    pub(super) labels: Option<Vec<String>>,
}

/// The declared options of `plot_hists`.
pub(super) fn hists_options(function: &'static str) -> Declared<HistsPlot> {
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
pub(super) struct HistPlot {
    pub(super) options: HistOptions,
    pub(super) label: String,
    pub(super) data: bool,
}

/// The declared options of a histogram's `plot`.
pub(super) fn hist_plot_options() -> Declared<HistPlot> {
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
pub(super) fn heatmap_options() -> Declared<HeatmapOptions> {
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
pub(super) fn bump_plot_options() -> Declared<BumpPlotOptions> {
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
pub(super) struct FitPlot {
    pub(super) spectrum: SpectrumOptions,
    pub(super) labels: Option<Vec<String>>,
    pub(super) min_fit_pvalue: f64,
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
pub(super) fn fit_plot_options() -> Declared<FitPlot> {
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
pub(super) fn history_defaults() -> CurveOptions {
    CurveOptions {
        x_label: "Epoch".into(),
        y_label: "Loss".into(),
        ..CurveOptions::default()
    }
}

/// The declared options of a training history's `plot`.
pub(super) fn history_options() -> Declared<CurveOptions> {
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
pub(super) enum CurveKind {
    /// eps_S against eps_B.
    Roc,
    /// Background rejection 1/eps_B against eps_S (log y).
    Rejection,
    /// The regulated SIC against eps_S.
    Sic,
}

impl CurveKind {
    /// The points of `roc` this kind draws, labelled `label`.
    pub(super) fn curve(self, roc: &Roc, label: String) -> Curve {
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
pub(super) struct CurvePlot {
    pub(super) kind: CurveKind,
    pub(super) options: CurveOptions,
    pub(super) random: bool,
    pub(super) label: Option<String>,
    pub(super) labels: Option<Vec<String>>,
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
    pub(super) fn labels(&self, function: &str, n: usize) -> Out<Vec<String>> {
        let labels = self.label.clone().map(|l| vec![l]).or(self.labels.clone());
        series_labels(function, labels, n)
    }
}

/// The declared options of ROC-like curves' figures: with `roc` (ROC curves) the `kind`
/// and several curves' `labels`, else (a SIC curve) one curve's `label`.
pub(super) fn curves_options(function: &'static str, roc: bool) -> Declared<CurvePlot> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The size option is declared once for every figure, with its default.
    #[test]
    fn every_figure_declares_its_size() {
        for table in tables() {
            table.check_defaults().unwrap();
        }
        let table = curves_options("plot_rocs", true).table();
        assert!(
            table.contains("  size ([width, height], default [800, 600]): figure size in pixels\n"),
            "{table}"
        );
    }
}
