//! The signal-injection scan of the weakly supervised benchmark frame: methods run on
//! background with decreasing amounts of injected signal (several random signal subsets per
//! amount), each judged by the ROC of its signal-region scores against the truth labels (max
//! SIC, SIC at eps_S = 0.3, AUC) and by its own significance; a background-only point (0
//! injected) checks that no signal is claimed.

use std::fmt;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::anode::{AnodeOptions, anode};
use super::cathode::{CathodeOptions, cathode};
use super::cwola::{CwolaOptions, cwola_hunt};
use super::estimate::Significance;
use super::references::{ReferenceOptions, idealized_reference, sic_at, supervised_reference};
use crate::data::eventset::EventSet;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::progress::Progress;
use crate::seed::stream_seed;
use crate::stats::metrics::roc;

/// A method the scan runs, with its options (their seeds are replaced per run).
#[derive(Clone, Debug)]
pub enum ScanMethod {
    /// [`cathode`].
    Cathode(Box<CathodeOptions>),
    /// [`anode`].
    Anode(Box<AnodeOptions>),
    /// [`cwola_hunt`] in one fixed signal region ([`CwolaOptions::at_window`]): classifiers
    /// of signal-region against sideband data, every event scored out of sample.
    Cwola {
        /// The hunt's options, already narrowed to the window.
        hunt: Box<CwolaOptions>,
        /// The window, `[low, high)` in the hunt's mass.
        signal_region: (f64, f64),
    },
    /// [`supervised_reference`].
    Supervised(ReferenceOptions),
    /// [`idealized_reference`], against the scan's independent background sample.
    Idealized(ReferenceOptions),
}

/// The supervised reference's name in tables and legends.
const SUPERVISED: &str = "supervised";
/// The idealized detector's name in tables and legends.
const IDEALIZED: &str = "idealized";

impl ScanMethod {
    /// The method's name in tables and legends.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Cathode(_) => "CATHODE",
            Self::Anode(_) => "ANODE",
            Self::Cwola { .. } => "CWoLa",
            Self::Supervised(_) => SUPERVISED,
            Self::Idealized(_) => IDEALIZED,
        }
    }

    /// The signal region's mass column and bounds.
    fn signal_region(&self) -> (&str, (f64, f64)) {
        let window = match self {
            Self::Cathode(o) => &o.window,
            Self::Anode(o) => &o.window,
            Self::Cwola {
                hunt,
                signal_region,
            } => return (&hunt.mass, *signal_region),
            Self::Supervised(o) | Self::Idealized(o) => &o.window,
        };
        (&window.mass, window.signal_region)
    }

    /// Runs the method on `data` with `seed`: the signal-region events' scores and truth
    /// labels, and the method's own most significant test, if it makes one. The supervised
    /// reference also trains on `unused_signal` (the signal pool's events not injected), the
    /// idealized detector compares with `independent`.
    fn run(
        &self,
        data: &EventSet,
        unused_signal: &EventSet,
        independent: Option<&EventSet>,
        seed: u64,
        interrupt: Option<&Interrupt>,
    ) -> Result<(Vec<f64>, Vec<f64>, Option<Significance>)> {
        let labelled = |scored: EventSet| -> Result<(Vec<f64>, Vec<f64>)> {
            Ok((
                scored.column("score")?,
                scored.role_values(crate::data::eventset::Role::Label)?,
            ))
        };
        match self {
            Self::Cathode(o) => {
                let r = cathode(
                    data,
                    &CathodeOptions {
                        seed,
                        ..(**o).clone()
                    },
                    interrupt,
                )?;
                let (s, l) = labelled(r.scored()?)?;
                Ok((s, l, r.global()))
            }
            Self::Anode(o) => {
                let r = anode(
                    data,
                    &AnodeOptions {
                        seed,
                        ..(**o).clone()
                    },
                    interrupt,
                )?;
                let (s, l) = labelled(r.scored()?)?;
                Ok((s, l, r.global()))
            }
            Self::Cwola {
                hunt,
                signal_region: (lo, hi),
            } => {
                let h = cwola_hunt(
                    data,
                    &CwolaOptions {
                        seed,
                        ..(**hunt).clone()
                    },
                    interrupt,
                )?;
                let region = h.most_significant();
                let scored = h.scored(region)?;
                let in_window: Vec<usize> = scored
                    .column(&hunt.mass)?
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| *lo <= **m && **m < *hi)
                    .map(|(i, _)| i)
                    .collect();
                let (s, l) = labelled(scored.take(&in_window)?)?;
                Ok((s, l, h.global().map(|g| g.test)))
            }
            Self::Supervised(o) | Self::Idealized(o) => {
                let mut o = o.clone();
                o.classifier.seed = seed;
                let r = match (self, independent) {
                    (Self::Supervised(_), _) => {
                        supervised_reference(data, Some(unused_signal), &o, interrupt)?
                    }
                    (_, Some(background)) => idealized_reference(data, background, &o, interrupt)?,
                    (_, None) => {
                        return Err(Error::invalid(
                            "idealized",
                            "the idealized detector needs an independent background sample",
                        ));
                    }
                };
                Ok((r.scores, r.labels, None))
            }
        }
    }
}

/// Options of [`injection_scan`].
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The methods, in the order of the table.
    pub methods: Vec<ScanMethod>,
    /// Signal events injected at each point (0: background only).
    pub signal_counts: Vec<usize>,
    /// Random signal subsets (and method seeds) per point.
    pub repetitions: usize,
    /// Seed of the subsets and of every run.
    pub seed: u64,
}

/// One method on one injected sample (undefined numbers are NaN, saved as null).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScanRun {
    /// The method's name.
    pub method: String,
    /// Signal events injected.
    pub injected: usize,
    /// Which repetition.
    pub repetition: usize,
    /// Signal and background events in the signal region.
    pub signal_region: [usize; 2],
    /// S/B in the signal region.
    #[serde(deserialize_with = "super::nan_from_null")]
    pub s_over_b: f64,
    /// The largest regulated SIC of the signal-region scores (NaN without signal).
    #[serde(deserialize_with = "super::nan_from_null")]
    pub max_sic: f64,
    /// The regulated SIC at eps_S = 0.3 (NaN without signal).
    #[serde(deserialize_with = "super::nan_from_null")]
    pub sic_03: f64,
    /// The ROC area (NaN without signal).
    #[serde(deserialize_with = "super::nan_from_null")]
    pub auc: f64,
    /// The method's most significant test, local and global Z (NaN for the references).
    #[serde(deserialize_with = "super::nan_from_null")]
    pub local_z: f64,
    /// See `local_z`.
    #[serde(deserialize_with = "super::nan_from_null")]
    pub global_z: f64,
    /// The regulated SIC at the signal efficiencies of [`SIC_GRID`] (NaN where the curve
    /// is undefined: without signal, or beyond the curve's reach); empty in results saved
    /// before it was kept.
    #[serde(default, deserialize_with = "super::nans_from_nulls")]
    pub sic_curve: Vec<f64>,
}

/// The signal efficiencies at which a run's SIC curve is kept: 0.02 to 1 in steps of 0.02,
/// fine enough to draw the curves of several methods together and to average repetitions.
pub const SIC_GRID: [f64; 50] = {
    let mut grid = [0.0; 50];
    let mut i = 0;
    while i < 50 {
        grid[i] = (i + 1) as f64 * 0.02;
        i += 1;
    }
    grid
};

/// The result of [`injection_scan`]: every run, and per method and point the mean and
/// spread over the repetitions.
#[derive(Clone, Debug, Serialize)]
pub struct InjectionScan {
    /// Every run, by point, repetition and method.
    pub runs: Vec<ScanRun>,
    /// Wall-clock seconds (shown, not saved).
    #[serde(skip)]
    pub seconds: f64,
}

/// Per method and point: the mean, minimum and maximum over the repetitions of a quantity.
#[derive(Clone, Debug, Serialize)]
pub struct ScanPoint {
    /// The method's name.
    pub method: String,
    /// Signal events injected.
    pub injected: usize,
    /// The mean S/B in the signal region.
    pub s_over_b: f64,
    /// The mean, minimum and maximum over the repetitions (NaN values left out).
    pub mean: f64,
    /// See `mean`.
    pub min: f64,
    /// See `mean`.
    pub max: f64,
}

/// Per method at one point: the SIC curve at [`SIC_GRID`] over the repetitions.
#[derive(Clone, Debug, Serialize)]
pub struct ScanSicCurve {
    /// The method's name.
    pub method: String,
    /// Signal events injected.
    pub injected: usize,
    /// The mean S/B in the signal region.
    pub s_over_b: f64,
    /// How many repetitions the curve averages.
    pub repetitions: usize,
    /// The mean SIC at each efficiency of [`SIC_GRID`] (NaN values left out).
    pub mean: Vec<f64>,
    /// The smallest SIC of the repetitions at each efficiency.
    pub min: Vec<f64>,
    /// The largest SIC of the repetitions at each efficiency.
    pub max: Vec<f64>,
}

impl InjectionScan {
    /// The methods' names, in run order.
    pub fn methods(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in &self.runs {
            if !names.contains(&r.method) {
                names.push(r.method.clone());
            }
        }
        names
    }

    /// Per method and point, `quantity` of the runs ("max_sic", "sic_03", "auc", "local_z",
    /// "global_z") over the repetitions.
    pub fn points(&self, quantity: &str) -> Result<Vec<ScanPoint>> {
        let value = |r: &ScanRun| -> Result<f64> {
            Ok(match quantity {
                "max_sic" => r.max_sic,
                "sic_03" => r.sic_03,
                "auc" => r.auc,
                "local_z" => r.local_z,
                "global_z" => r.global_z,
                other => {
                    return Err(Error::invalid(
                        "quantity",
                        format!(
                            "'{other}': use \"max_sic\", \"sic_03\", \"auc\", \"local_z\" or \"global_z\""
                        ),
                    ));
                }
            })
        };
        let mut points: Vec<ScanPoint> = Vec::new();
        for method in self.methods() {
            let mut injected: Vec<usize> = self
                .runs
                .iter()
                .filter(|r| r.method == method)
                .map(|r| r.injected)
                .collect();
            injected.dedup();
            for n in injected {
                let runs: Vec<&ScanRun> = self
                    .runs
                    .iter()
                    .filter(|r| r.method == method && r.injected == n)
                    .collect();
                let values = runs.iter().map(|r| value(r)).collect::<Result<Vec<_>>>()?;
                let (mean, min, max) = spread(values);
                points.push(ScanPoint {
                    method: method.clone(),
                    injected: n,
                    s_over_b: runs.iter().map(|r| r.s_over_b).sum::<f64>() / runs.len() as f64,
                    mean,
                    min,
                    max,
                });
            }
        }
        Ok(points)
    }

    /// Per method, the SIC curves of the runs with `injected` signal events: at the signal
    /// efficiencies of [`SIC_GRID`], the mean over the repetitions and their minimum and
    /// maximum (NaN where no repetition's curve is defined). Errors: no point with that
    /// count, or no curve kept there (a background-only point, or results saved before
    /// curves were kept).
    pub fn sic_curves(&self, injected: usize) -> Result<Vec<ScanSicCurve>> {
        let here: Vec<&ScanRun> = self
            .runs
            .iter()
            .filter(|r| r.injected == injected)
            .collect();
        if here.is_empty() {
            let mut counts: Vec<usize> = self.runs.iter().map(|r| r.injected).collect();
            counts.dedup();
            return Err(Error::invalid(
                "injected",
                format!(
                    "no point with {injected} injected signal events (the scan has {counts:?})"
                ),
            ));
        }
        let mut curves = Vec::new();
        for method in self.methods() {
            let runs: Vec<&ScanRun> = here
                .iter()
                .copied()
                .filter(|r| r.method == method && r.sic_curve.len() == SIC_GRID.len())
                .collect();
            if runs.is_empty() {
                continue;
            }
            let (mean, (min, max)): (Vec<f64>, (Vec<f64>, Vec<f64>)) = (0..SIC_GRID.len())
                .map(|i| {
                    let (m, lo, hi) = spread(runs.iter().map(|r| r.sic_curve[i]));
                    (m, (lo, hi))
                })
                .unzip();
            if mean.iter().all(|v| v.is_nan()) {
                continue;
            }
            curves.push(ScanSicCurve {
                method,
                injected,
                s_over_b: runs.iter().map(|r| r.s_over_b).sum::<f64>() / runs.len() as f64,
                repetitions: runs.len(),
                mean,
                min,
                max,
            });
        }
        if curves.is_empty() {
            return Err(Error::invalid(
                "injected",
                format!(
                    "no SIC curve at {injected} injected signal events (a background-only \
                     point has none, nor do results saved before the curves were kept)"
                ),
            ));
        }
        Ok(curves)
    }

    /// Everything `save` writes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "injection_scan": self })
    }

    /// Writes every run as a row of a Parquet table to `path`, atomically: the fields of
    /// [`ScanRun`], the signal region's counts as `signal` and `background`, and undefined
    /// numbers (NaN) as nulls.
    pub fn write_parquet(&self, path: &std::path::Path) -> Result<()> {
        use crate::data::result_table::{ResultColumn, write_result_table};
        let text =
            |f: fn(&ScanRun) -> String| ResultColumn::Text(self.runs.iter().map(f).collect());
        let count = |f: fn(&ScanRun) -> usize| {
            ResultColumn::Counts(self.runs.iter().map(|r| f(r) as u64).collect())
        };
        let number =
            |f: fn(&ScanRun) -> f64| ResultColumn::Numbers(self.runs.iter().map(f).collect());
        write_result_table(
            path,
            vec![
                ("method", text(|r| r.method.clone())),
                ("injected", count(|r| r.injected)),
                ("repetition", count(|r| r.repetition)),
                ("signal", count(|r| r.signal_region[0])),
                ("background", count(|r| r.signal_region[1])),
                ("s_over_b", number(|r| r.s_over_b)),
                ("max_sic", number(|r| r.max_sic)),
                ("sic_03", number(|r| r.sic_03)),
                ("auc", number(|r| r.auc)),
                ("local_z", number(|r| r.local_z)),
                ("global_z", number(|r| r.global_z)),
            ],
        )
    }
}

impl fmt::Display for InjectionScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Signal-injection scan: {} runs, {:.0} s (mean [min, max] over the repetitions)",
            self.runs.len(),
            self.seconds
        )?;
        writeln!(
            f,
            "  {:<11} {:>8} {:>9}  {:>22}  {:>8}  {:>8}  {:>8}",
            "method", "injected", "S/B (SR)", "max SIC", "SIC@0.3", "AUC", "local Z"
        )?;
        let (Ok(sic), Ok(sic3), Ok(auc), Ok(z)) = (
            self.points("max_sic"),
            self.points("sic_03"),
            self.points("auc"),
            self.points("local_z"),
        ) else {
            return Ok(());
        };
        for (((p, s3), a), z) in sic.iter().zip(&sic3).zip(&auc).zip(&z) {
            writeln!(
                f,
                "  {:<11} {:>8} {:>9.4}  {:>6.2} [{:>6.2}, {:>6.2}]  {:>8.2}  {:>8.3}  {:>8.2}",
                p.method, p.injected, p.s_over_b, p.mean, p.min, p.max, s3.mean, a.mean, z.mean
            )?;
        }
        Ok(())
    }
}

/// The mean, minimum and maximum of the finite `values` over repetitions (NaN values are
/// left out; all three NaN when none is finite).
fn spread(values: impl IntoIterator<Item = f64>) -> (f64, f64, f64) {
    let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    (
        mean,
        finite.iter().copied().fold(f64::NAN, f64::min),
        finite.iter().copied().fold(f64::NAN, f64::max),
    )
}

/// One run of a scan, runnable alone ([`scan_unit`]): method `method` (an index into the
/// options' methods) on repetition `repetition` of point `point` (an index into the signal
/// counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanUnit {
    /// Index into `signal_counts`.
    pub point: usize,
    /// Which repetition.
    pub repetition: usize,
    /// Index into `methods`.
    pub method: usize,
}

impl ScanOptions {
    /// Every run as a unit, in the order of the scan's table: by point, repetition, method.
    pub fn units(&self) -> Vec<ScanUnit> {
        let mut units = Vec::new();
        for point in 0..self.signal_counts.len() {
            for repetition in 0..self.repetitions {
                for method in 0..self.methods.len() {
                    units.push(ScanUnit {
                        point,
                        repetition,
                        method,
                    });
                }
            }
        }
        units
    }
}

/// Runs every method of `opts` on `background` with `signal_counts` signal events drawn at
/// random (without replacement) from `signal`, `repetitions` times per count, each run with
/// its own seed; the idealized detector compares with `independent`, a background-only
/// sample independent of `background`. Ctrl-C (`interrupt`) stops between and inside runs.
/// Each run is a [`ScanUnit`] whose numbers [`scan_unit`] reproduces alone.
pub fn injection_scan(
    background: &EventSet,
    signal: &EventSet,
    independent: Option<&EventSet>,
    opts: &ScanOptions,
    interrupt: Option<&Interrupt>,
) -> Result<InjectionScan> {
    let started = Instant::now();
    check(signal, independent, opts)?;
    let units = opts.units();
    let progress = Progress::new("signal-injection scan", units.len() as u64);
    let mut runs = Vec::new();
    let mut sample: Option<(ScanUnit, InjectedSample)> = None;
    for unit in units {
        let fresh = !matches!(&sample, Some((u, _)) if (u.point, u.repetition) == (unit.point, unit.repetition));
        if fresh {
            sample = Some((unit, InjectedSample::new(background, signal, opts, unit)?));
        }
        let (_, injected) = sample.as_ref().expect("drawn above");
        runs.push(injected.run(independent, opts, unit, interrupt)?);
        progress.advance(1);
    }
    drop(progress);
    Ok(InjectionScan {
        runs,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One run of the scan alone: the same numbers as the run `unit` of [`injection_scan`] with
/// the same options and samples, whatever runs before or beside it.
pub fn scan_unit(
    background: &EventSet,
    signal: &EventSet,
    independent: Option<&EventSet>,
    opts: &ScanOptions,
    unit: ScanUnit,
    interrupt: Option<&Interrupt>,
) -> Result<ScanRun> {
    check(signal, independent, opts)?;
    if unit.point >= opts.signal_counts.len()
        || unit.repetition >= opts.repetitions
        || unit.method >= opts.methods.len()
    {
        return Err(Error::invalid(
            "unit",
            format!(
                "{unit:?} is not a run of a scan of {} points × {} repetitions × {} methods",
                opts.signal_counts.len(),
                opts.repetitions,
                opts.methods.len()
            ),
        ));
    }
    InjectedSample::new(background, signal, opts, unit)?.run(independent, opts, unit, interrupt)
}

/// The data of one point and repetition: the background with the injected signal, and the
/// signal pool's events not injected.
struct InjectedSample {
    data: EventSet,
    unused_signal: EventSet,
    stream: u64,
    injected: usize,
}

impl InjectedSample {
    /// The sample of `unit`'s point and repetition.
    fn new(
        background: &EventSet,
        signal: &EventSet,
        opts: &ScanOptions,
        unit: ScanUnit,
    ) -> Result<Self> {
        let n = opts.signal_counts[unit.point];
        let stream = ((unit.point as u64) << 20) + unit.repetition as u64;
        // The first `n` of a permutation are injected (as `EventSet::sample` draws them); the
        // rest train the supervised reference.
        let shuffled = signal.shuffle(stream_seed(opts.seed, stream));
        let order: Vec<usize> = (0..shuffled.len()).collect();
        let (injected, unused) = order.split_at(n);
        Ok(Self {
            data: background.concat(&shuffled.take(injected)?)?,
            unused_signal: shuffled.take(unused)?,
            stream,
            injected: n,
        })
    }

    /// `unit`'s method on this sample, judged.
    fn run(
        &self,
        independent: Option<&EventSet>,
        opts: &ScanOptions,
        unit: ScanUnit,
        interrupt: Option<&Interrupt>,
    ) -> Result<ScanRun> {
        if let Some(interrupt) = interrupt {
            interrupt.check()?;
        }
        let method = &opts.methods[unit.method];
        let seed = stream_seed(
            opts.seed,
            (1 << 40) + (self.stream << 8) + unit.method as u64,
        );
        let [s, b] = signal_region_counts(&self.data, method)?;
        // Without signal the references have nothing to learn or to be judged by.
        let reference = matches!(method, ScanMethod::Supervised(_) | ScanMethod::Idealized(_));
        let outcome = if s == 0 && reference {
            None
        } else {
            Some(method.run(
                &self.data,
                &self.unused_signal,
                independent,
                seed,
                interrupt,
            )?)
        };
        let curve = outcome
            .as_ref()
            .and_then(|(scores, labels, _)| roc(scores, labels, None).ok());
        let sic = |eps_s: f64| {
            curve
                .as_ref()
                .and_then(|c| sic_at(c, eps_s).ok())
                .unwrap_or(f64::NAN)
        };
        let (max_sic, auc) = curve
            .as_ref()
            .map_or((f64::NAN, f64::NAN), |c| (c.max_sic(), c.auc()));
        let significance = outcome.and_then(|(_, _, g)| g);
        Ok(ScanRun {
            method: method.name().into(),
            injected: self.injected,
            repetition: unit.repetition,
            signal_region: [s, b],
            s_over_b: s as f64 / b.max(1) as f64,
            max_sic,
            sic_03: sic(0.3),
            auc,
            local_z: significance.as_ref().map_or(f64::NAN, |g| g.local_z),
            global_z: significance.map_or(f64::NAN, |g| g.global_z),
            sic_curve: SIC_GRID.iter().map(|&e| sic(e)).collect(),
        })
    }
}

/// Signal and background events (by the label role) in `method`'s signal region of `data`.
fn signal_region_counts(data: &EventSet, method: &ScanMethod) -> Result<[usize; 2]> {
    let (mass, (lo, hi)) = method.signal_region();
    let masses = data.column(mass)?;
    let labels = data.role_values(crate::data::eventset::Role::Label)?;
    let mut counts = [0, 0];
    for (m, l) in masses.iter().zip(&labels) {
        if lo <= *m && *m < hi {
            counts[usize::from(*l != 1.0)] += 1;
        }
    }
    Ok(counts)
}

/// The errors of a scan's options against its samples, found before any run.
pub(crate) fn check(
    signal: &EventSet,
    independent: Option<&EventSet>,
    opts: &ScanOptions,
) -> Result<()> {
    if opts.methods.is_empty() || opts.signal_counts.is_empty() || opts.repetitions == 0 {
        return Err(Error::invalid(
            "injection scan",
            "name at least one method, one signal count and one repetition",
        ));
    }
    if let Some(&n) = opts.signal_counts.iter().find(|&&n| n > signal.len()) {
        return Err(Error::invalid(
            "signal_counts",
            format!("{n} signal events asked for, {} given", signal.len()),
        ));
    }
    let idealized = opts
        .methods
        .iter()
        .any(|m| matches!(m, ScanMethod::Idealized(_)));
    if idealized && independent.is_none() {
        return Err(Error::invalid(
            "methods",
            "the idealized detector needs an independent background-only sample",
        ));
    }
    for m in &opts.methods {
        let (mass, _) = m.signal_region();
        signal.column(mass)?;
    }
    Ok(())
}

/// Whether the scan's method `method` is one of the truth-known references (drawn dashed
/// beside the methods, so a method's line on top of a reference's still shows).
fn is_reference(method: &str) -> bool {
    matches!(method, SUPERVISED | IDEALIZED)
}

/// The standard figure of the frame: per method, `quantity` ("max_sic", "local_z", ... as
/// [`InjectionScan::points`]) against the signal region's S/B on a log axis, the mean over
/// the repetitions joined by a line with a bar from their minimum to their maximum. Points
/// without signal (S/B 0) cannot be shown on the log axis and are left out.
pub fn plot_scan(scan: &InjectionScan, quantity: &str, path: &std::path::Path) -> Result<()> {
    use crate::plot::{Curve, CurveOptions, plot_curves};
    let points = scan.points(quantity)?;
    let mut curves = Vec::new();
    let mut bars = Vec::new();
    let mut dashed = Vec::new();
    for method in scan.methods() {
        let mut mine: Vec<&ScanPoint> = points
            .iter()
            .filter(|p| p.method == method && p.s_over_b > 0.0 && p.mean.is_finite())
            .collect();
        mine.sort_by(|a, b| a.s_over_b.total_cmp(&b.s_over_b));
        if mine.is_empty() {
            continue;
        }
        dashed.push(is_reference(&method));
        curves.push(Curve {
            label: method.clone(),
            x: mine.iter().map(|p| p.s_over_b).collect(),
            y: mine.iter().map(|p| p.mean).collect(),
        });
        bars.push(Some((
            mine.iter().map(|p| p.min).collect(),
            mine.iter().map(|p| p.max).collect(),
        )));
    }
    if curves.is_empty() {
        return Err(Error::invalid(
            "injection scan",
            format!("no point with signal has a finite {quantity} to draw"),
        ));
    }
    // A quarter of each point's S/B as room at both ends of the log axis, so that a scan of
    // a few points spans a labelled tick or two beyond them.
    let s_over_b = curves.iter().flat_map(|c| c.x.iter().copied());
    let x_range = (
        s_over_b.clone().fold(f64::INFINITY, f64::min) / 1.25,
        s_over_b.fold(0.0, f64::max) * 1.25,
    );
    let y_label = match quantity {
        "max_sic" => "max SIC ε_S / √(ε_B + 10⁻⁴)",
        "sic_03" => "SIC at ε_S = 0.3",
        "auc" => "AUC",
        "local_z" => "local significance Z",
        _ => "global significance Z",
    };
    plot_curves(
        path,
        &curves,
        &CurveOptions {
            title: "Signal-injection scan".into(),
            x_label: "S/B in the signal region".into(),
            y_label: y_label.into(),
            log_x: true,
            x_range: Some(x_range),
            bars,
            dashed,
            ..CurveOptions::default()
        },
    )
}

/// The methods' SIC curves together at the point with `injected` signal events (the
/// acceptance figure of the frame): per method the mean over the repetitions against the
/// signal efficiency, with min–max bars at every 0.1 when there are several repetitions, and
/// the random classifier's sqrt(eps_S).
pub fn plot_scan_sic(scan: &InjectionScan, injected: usize, path: &std::path::Path) -> Result<()> {
    use crate::plot::{Curve, CurveOptions, RandomClassifier, plot_curves};
    let sic = scan.sic_curves(injected)?;
    let mut curves = Vec::new();
    let mut bars = Vec::new();
    let mut dashed = Vec::new();
    for c in &sic {
        dashed.push(is_reference(&c.method));
        curves.push(Curve {
            label: c.method.clone(),
            x: SIC_GRID.to_vec(),
            y: c.mean.clone(),
        });
        // A bar at every fifth efficiency (0.1, 0.2, ...), so the lines stay readable.
        let every_fifth = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .enumerate()
                .map(|(i, &x)| if i % 5 == 4 { x } else { f64::NAN })
                .collect()
        };
        bars.push((c.repetitions > 1).then(|| (every_fifth(&c.min), every_fifth(&c.max))));
    }
    let repetitions = sic.iter().map(|c| c.repetitions).max().unwrap_or(0);
    let s_over_b = sic[0].s_over_b;
    plot_curves(
        path,
        &curves,
        &CurveOptions {
            title: format!(
                "SIC at S/B = {:.2} % ({injected} injected, {repetitions} repetition{})",
                100.0 * s_over_b,
                if repetitions == 1 { "" } else { "s" }
            ),
            x_label: "signal efficiency ε_S".into(),
            y_label: "SIC ε_S / √(ε_B + 10⁻⁴)".into(),
            x_range: Some((0.0, 1.0)),
            diagonal: Some(RandomClassifier::Sic),
            bars,
            dashed,
            ..CurveOptions::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::generate::lhco::toy_events as toy;

    fn reference() -> ReferenceOptions {
        let mut o = ReferenceOptions::default();
        o.classifier.folds = 3;
        o.classifier.network.hidden = vec![16];
        o.classifier.training.epochs = 4;
        o.classifier.training.batch_size = 128;
        o
    }

    #[test]
    fn the_table_has_a_row_per_method_point_and_repetition() {
        let background = toy(15_000, 0, 1);
        let signal = toy(0, 2_000, 2);
        let independent = toy(15_000, 0, 3);
        let opts = ScanOptions {
            methods: vec![
                ScanMethod::Supervised(reference()),
                ScanMethod::Idealized(reference()),
            ],
            signal_counts: vec![0, 300, 1000],
            repetitions: 2,
            seed: 4,
        };
        let scan = injection_scan(&background, &signal, Some(&independent), &opts, None).unwrap();
        assert_eq!(scan.runs.len(), 3 * 2 * 2);
        for r in &scan.runs {
            let [s, _] = r.signal_region;
            if r.injected == 0 {
                // Background only: no signal to find, so no SIC.
                assert_eq!(s, 0);
                assert!(r.max_sic.is_nan() && r.s_over_b == 0.0, "{r:?}");
            } else {
                assert!(s > 0 && s <= r.injected && r.max_sic.is_finite(), "{r:?}");
            }
        }
        // Different repetitions draw different signal subsets.
        let at = |rep: usize| {
            scan.runs
                .iter()
                .find(|r| r.injected == 300 && r.repetition == rep && r.method == "supervised")
                .unwrap()
                .auc
        };
        assert_ne!(at(0), at(1));
        let sic = scan.points("max_sic").unwrap();
        assert_eq!(sic.len(), 2 * 3);
        let more = sic
            .iter()
            .find(|p| p.method == "supervised" && p.injected == 1000)
            .unwrap();
        assert!(more.min <= more.mean && more.mean <= more.max, "{more:?}");
        assert!(scan.points("sic").is_err());
        let text = scan.to_string();
        assert!(
            text.contains("supervised") && text.contains("idealized"),
            "{text}"
        );
        // Each run keeps its SIC curve on the grid; the scan's SIC at 0.3 is the curve's.
        for r in &scan.runs {
            assert_eq!(r.sic_curve.len(), SIC_GRID.len());
            let at_03 = r.sic_curve[14];
            assert!((SIC_GRID[14] - 0.3).abs() < 1e-12);
            if r.injected == 0 {
                assert!(r.sic_curve.iter().all(|v| v.is_nan()), "{r:?}");
            } else {
                assert!((at_03 - r.sic_03).abs() < 1e-12, "{r:?}");
                assert!(r.sic_curve.iter().all(|v| v.is_finite()), "{r:?}");
            }
        }
        let curves = scan.sic_curves(1000).unwrap();
        assert_eq!(curves.len(), 2);
        for c in &curves {
            assert_eq!(c.repetitions, 2);
            let runs: Vec<&ScanRun> = scan
                .runs
                .iter()
                .filter(|r| r.method == c.method && r.injected == 1000)
                .collect();
            for (i, m) in c.mean.iter().enumerate() {
                let values: Vec<f64> = runs.iter().map(|r| r.sic_curve[i]).collect();
                let mean = values.iter().sum::<f64>() / 2.0;
                assert!((m - mean).abs() < 1e-12);
                assert!(c.min[i] <= *m && *m <= c.max[i]);
                assert_eq!(c.min[i], values[0].min(values[1]));
            }
        }
        // The background-only point has no curve; an absent point is named in the error.
        let err = scan.sic_curves(0).unwrap_err().to_string();
        assert!(err.contains("background-only"), "{err}");
        let err = scan.sic_curves(7).unwrap_err().to_string();
        assert!(err.contains("[0, 300, 1000]"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        plot_scan(&scan, "max_sic", &dir.path().join("sic.png")).unwrap();
        let figure = dir.path().join("sic_curves.png");
        plot_scan_sic(&scan, 300, &figure).unwrap();
        assert!(std::fs::metadata(&figure).unwrap().len() > 0);
        // The curves survive a round trip through the saved JSON (NaN as null), and results
        // saved before the curves were kept still read, without curves.
        let saved = serde_json::to_string(&scan.runs).unwrap();
        let read: Vec<ScanRun> = serde_json::from_str(&saved).unwrap();
        assert_eq!(serde_json::to_string(&read).unwrap(), saved);
        let mut old = serde_json::to_value(&scan.runs[0]).unwrap();
        old.as_object_mut().unwrap().remove("sic_curve");
        let old: ScanRun = serde_json::from_value(old).unwrap();
        assert!(old.sic_curve.is_empty());
        let table = dir.path().join("scan.parquet");
        scan.write_parquet(&table).unwrap();
        assert!(std::fs::metadata(&table).unwrap().len() > 0);
        // Same seed, same table.
        let again = injection_scan(&background, &signal, Some(&independent), &opts, None).unwrap();
        assert_eq!(
            serde_json::to_string(&scan.runs).unwrap(),
            serde_json::to_string(&again.runs).unwrap()
        );
    }

    #[test]
    fn bad_scans_are_errors() {
        let background = toy(2_000, 0, 1);
        let signal = toy(0, 100, 2);
        let opts = ScanOptions {
            methods: vec![ScanMethod::Idealized(reference())],
            signal_counts: vec![50],
            repetitions: 1,
            seed: 1,
        };
        let err = injection_scan(&background, &signal, None, &opts, None).unwrap_err();
        assert!(err.to_string().contains("independent"), "{err}");
        let too_many = ScanOptions {
            signal_counts: vec![500],
            methods: vec![ScanMethod::Supervised(reference())],
            ..opts
        };
        let err = injection_scan(&background, &signal, None, &too_many, None).unwrap_err();
        assert!(err.to_string().contains("500 signal events"), "{err}");
    }
}
