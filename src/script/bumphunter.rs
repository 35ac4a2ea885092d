//! The BumpHunter built-ins of the `stats` domain: scans against a reference histogram, a
//! fit or a fit family (refitted in every pseudo-experiment), the 2D scan, signal injection,
//! and their results' getters.

use rhai::plugin::*;

use super::declared::{Choice, Declared, Opt};
use super::domain::OptionTable;
use super::options::Options;
use super::values::Out;
use crate::stats::bumphunter::{
    BumpHunter2DOptions, BumpHunterOptions, InjectionOptions, Mode, ScanStep,
};

/// The BumpHunter built-ins, for the `stats` domain's module.
pub fn module() -> rhai::Module {
    exported_module!(bumphunter_api)
}

impl Choice for Mode {
    fn names() -> Vec<&'static str> {
        vec!["excess", "deficit"]
    }
    fn name(&self) -> &'static str {
        match self {
            Mode::Excess => "excess",
            Mode::Deficit => "deficit",
        }
    }
    fn parse(name: &str) -> crate::Result<Self> {
        Mode::parse(name)
    }
}

/// The options of a 1D BumpHunter scan.
fn scan_opts() -> Vec<Opt<BumpHunterOptions>> {
    vec![
        Opt::choice(
            "mode",
            "the bump sought: more data than reference, or less",
            |o: &mut BumpHunterOptions| &mut o.mode,
        ),
        Opt::field("width_min", "smallest window width, in bins", |o| {
            &mut o.width_min
        }),
        Opt::field(
            "width_max",
            "largest window width, in bins; half the number of bins when absent",
            |o| &mut o.width_max,
        ),
        Opt::field("width_step", "step between window widths, in bins", |o| {
            &mut o.width_step
        }),
        Opt::custom(
            "scan_step",
            "count, \"full\" or \"half\"",
            "step between window positions: bins, the window's width or half of it",
            |o: &BumpHunterOptions| match o.scan_step {
                ScanStep::Bins(n) => Dynamic::from_int(n as rhai::INT),
                ScanStep::Full => "full".into(),
                ScanStep::Half => "half".into(),
            },
            |o, opts| {
                o.scan_step = match opts.string("scan_step", "") {
                    Ok(name) => match name.as_str() {
                        "full" => ScanStep::Full,
                        "half" => ScanStep::Half,
                        other => {
                            return Err(opts.invalid(
                                "scan_step",
                                format!("'{other}': use a number of bins, \"full\" or \"half\""),
                            ));
                        }
                    },
                    Err(_) => ScanStep::Bins(opts.count("scan_step", 0)?),
                };
                Ok(())
            },
        ),
        Opt::field("npe", "pseudo-experiments giving the global p-value", |o| {
            &mut o.npe
        }),
        Opt::session_seed(|o| &mut o.seed),
        Opt::field(
            "use_sideband",
            "normalise the reference in each window to the data outside it (pyBumpHunter's use_sideband)",
            |o| &mut o.use_sideband,
        ),
        Opt::field(
            "sideband_width",
            "bins left out at each end of the scan range with use_sideband",
            |o| &mut o.sideband_width,
        ),
    ]
}

/// The options of `bump_hunter`: a scan's, and whether a fitted reference is refitted.
#[derive(Clone, Debug)]
struct BumpOptions {
    scan: BumpHunterOptions,
    refit: bool,
}

impl Default for BumpOptions {
    fn default() -> Self {
        Self {
            scan: BumpHunterOptions::default(),
            refit: true,
        }
    }
}

/// The declared options of `bump_hunter`.
fn bump_hunter_options() -> Declared<BumpOptions> {
    Declared::new(
        "bump_hunter",
        BumpOptions::default,
        scan_opts()
            .into_iter()
            .map(|o| o.lift(|b: &mut BumpOptions| &mut b.scan))
            .chain([Opt::field(
                "refit",
                "with a fit or family as the reference: refit it in every pseudo-experiment; false uses its fixed prediction",
                |b: &mut BumpOptions| &mut b.refit,
            )])
            .collect(),
    )
}

/// The options of `signal_injection`: a scan's and the injection's.
#[derive(Clone, Debug, Default)]
struct InjectOptions {
    scan: BumpHunterOptions,
    inject: InjectionOptions,
}

/// The declared options of `signal_injection`.
fn signal_injection_options() -> Declared<InjectOptions> {
    Declared::new(
        "signal_injection",
        InjectOptions::default,
        scan_opts()
            .into_iter()
            .map(|o| o.lift(|i: &mut InjectOptions| &mut i.scan))
            .chain(
                [
                    Opt::field(
                        "signal_exp",
                        "expected signal events at strength 1; the template's total when absent",
                        |i: &mut InjectionOptions| &mut i.signal_exp,
                    ),
                    Opt::field(
                        "strengths",
                        "signal strengths tried in order; 0.1, 0.2, ..., 1, 2, ..., 10, 20, ..., 100 when absent",
                        |i| &mut i.strengths,
                    ),
                    Opt::field(
                        "sigma_limit",
                        "stop at the first strength whose median global significance reaches this",
                        |i| &mut i.sigma_limit,
                    ),
                    Opt::field(
                        "npe_background",
                        "background-only pseudo-experiments for the test statistic's distribution",
                        |i| &mut i.npe_background,
                    ),
                    Opt::field("npe_inject", "pseudo-experiments per strength", |i| {
                        &mut i.npe_inject
                    }),
                ]
                .into_iter()
                .map(|o| o.lift(|i: &mut InjectOptions| &mut i.inject)),
            )
            .collect(),
    )
}

/// The widths `(x, y)` of option `key`: a number for both axes, or `[x, y]`.
fn width_pair(o: &Options, key: &str) -> crate::Result<(usize, usize)> {
    let array_error = match o.numbers(key) {
        Ok(a) => {
            return match a.as_slice() {
                [x, y] if *x >= 1.0 && *y >= 1.0 => Ok((*x as usize, *y as usize)),
                _ => Err(o.invalid(key, "give [x, y] with two positive widths")),
            };
        }
        Err(e) => e,
    };
    match o.count(key, 0) {
        Ok(n) => Ok((n, n)),
        Err(crate::Error::InvalidArgument { problem, .. }) if problem.ends_with("not array") => {
            Err(array_error)
        }
        Err(crate::Error::InvalidArgument { problem, .. }) if problem.starts_with("must be") => {
            Err(o.invalid(key, problem.replacen("an integer", "a number or [x, y]", 1)))
        }
        Err(other) => Err(other),
    }
}

/// The 2D option `key` holding widths per axis where `access` reaches.
fn widths_2d(
    key: &'static str,
    doc: &'static str,
    access: fn(&mut BumpHunter2DOptions) -> &mut (usize, usize),
) -> Opt<BumpHunter2DOptions> {
    Opt::custom(
        key,
        "count or [x, y]",
        doc,
        move |o: &BumpHunter2DOptions| {
            let (x, y) = *access(&mut o.clone());
            vec![
                Dynamic::from_int(x as rhai::INT),
                Dynamic::from_int(y as rhai::INT),
            ]
            .into()
        },
        move |o, opts| {
            *access(o) = width_pair(opts, key)?;
            Ok(())
        },
    )
}

/// The declared options of `bump_hunter_2d`.
fn bump_hunter_2d_options() -> Declared<BumpHunter2DOptions> {
    Declared::new(
        "bump_hunter_2d",
        BumpHunter2DOptions::default,
        vec![
            Opt::choice(
                "mode",
                "the bump sought: more data than reference, or less",
                |o: &mut BumpHunter2DOptions| &mut o.mode,
            ),
            widths_2d("width_min", "smallest window widths, in bins", |o| {
                &mut o.width_min
            }),
            Opt::custom(
                "width_max",
                "count or [x, y]",
                "largest window widths, in bins; half the bins on each axis when absent",
                |_| Dynamic::UNIT,
                |o: &mut BumpHunter2DOptions, opts| {
                    o.width_max = Some(width_pair(opts, "width_max")?);
                    Ok(())
                },
            ),
            widths_2d("width_step", "steps between window widths, in bins", |o| {
                &mut o.width_step
            }),
            widths_2d(
                "scan_step",
                "steps between window positions, in bins",
                |o| &mut o.scan_step,
            ),
            Opt::field("npe", "pseudo-experiments giving the global p-value", |o| {
                &mut o.npe
            }),
            Opt::session_seed(|o| &mut o.seed),
        ],
    )
}

/// The declared options of the BumpHunter built-ins, for the `stats` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![
        Box::new(bump_hunter_options()),
        Box::new(bump_hunter_2d_options()),
        Box::new(signal_injection_options()),
    ]
}

/// BumpHunter options from a Rhai map; the seed defaults to a fresh session stream. With
/// `fitted` (the reference is a fit) the map may also hold `refit`, returned beside the
/// options.
fn bump_options(
    ctx: &NativeCallContext,
    opts: rhai::Map,
    fitted: bool,
) -> Out<(BumpHunterOptions, bool)> {
    if !fitted && opts.contains_key("refit") {
        return Err(crate::Error::invalid(
            "option 'refit' of bump_hunter",
            "refitting needs the fit itself, not a histogram: pass the DijetFit or FitFamily as the reference, e.g. bump_hunter(data, fit_dijet(data), #{ refit: true })",
        )
        .into());
    }
    let BumpOptions { scan, refit } = bump_hunter_options().parse_in(ctx, opts)?;
    Ok((scan, refit))
}

/// BumpHunter against `fit`, the background fitted to `data` with the settings `model` (a
/// family's chosen fit): with the option `refit` (default true) every pseudo-experiment
/// refits `model` after checking that `fit` is `model` fitted to `data`; without it the
/// pseudo-experiments use the fit's fixed prediction.
fn bump_hunter_fitted(
    ctx: &NativeCallContext,
    data: &crate::stats::hist::Hist1D,
    fit: &crate::stats::fit::DijetFit,
    model: crate::stats::bumphunter::BackgroundModel,
    opts: rhai::Map,
) -> Out<crate::stats::bumphunter::BumpHunterResult> {
    use crate::stats::bumphunter::{bump_hunter, bump_hunter_refit, reference_of};
    let (options, refit) = bump_options(ctx, opts, true)?;
    let interrupt = super::state::session_state(ctx)?.interrupt.clone();
    if refit {
        model.check_made_on(data, fit)?;
        Ok(bump_hunter_refit(data, &model, &options, Some(&interrupt))?)
    } else {
        Ok(bump_hunter(
            data,
            &reference_of(fit)?,
            &options,
            Some(&interrupt),
        )?)
    }
}

#[export_module]
mod bumphunter_api {
    use rhai::{Array, FLOAT, INT, Map};

    use super::{
        bump_hunter_2d_options, bump_hunter_fitted, bump_options, signal_injection_options,
    };
    use crate::script::state::session_state;
    use crate::script::values::{Out, array, save_json};
    use crate::stats::bumphunter::{
        self, BackgroundModel, BumpHunter2DResult, BumpHunterResult, InjectionResult,
    };
    use crate::stats::fit::{DijetFit, FitFamily};
    use crate::stats::hist::{Hist1D, Hist2D};

    /// BumpHunter with the default options (pyBumpHunter's but `npe`; the seed from the
    /// session). See `bump_hunter(data, reference, opts)`.
    #[rhai_fn(name = "bump_hunter", return_raw)]
    pub fn bump_hunter_default(
        ctx: NativeCallContext,
        data: Hist1D,
        reference: Hist1D,
    ) -> Out<BumpHunterResult> {
        bump_hunter(ctx, data, reference, Map::new())
    }

    /// BumpHunter as pyBumpHunter 0.5 defines it: windows of `width_min`..`width_max` bins
    /// (step `width_step`) slide by `scan_step` (bins, "full" or "half") over `data`; the
    /// most significant window against `reference` (same binning, used as given) is the bump;
    /// `npe` pseudo-experiments give its global p-value. Ctrl-C stops it. For a
    /// reference fitted to the same data, pass the fit (`fit_dijet`, `fit_family`) instead of
    /// its prediction to refit it in every pseudo-experiment: `bump_hunter(data, fit, opts)`.
    #[rhai_fn(return_raw)]
    pub fn bump_hunter(
        ctx: NativeCallContext,
        data: Hist1D,
        reference: Hist1D,
        opts: Map,
    ) -> Out<BumpHunterResult> {
        let (options, _) = bump_options(&ctx, opts, false)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(bumphunter::bump_hunter(
            &data,
            &reference,
            &options,
            Some(&interrupt),
        )?)
    }

    /// BumpHunter against a background fit, refitted in every pseudo-experiment. See
    /// `bump_hunter(data, fit, opts)`.
    #[rhai_fn(name = "bump_hunter", return_raw)]
    pub fn bump_hunter_fit_default(
        ctx: NativeCallContext,
        data: Hist1D,
        fit: DijetFit,
    ) -> Out<BumpHunterResult> {
        bump_hunter_fit(ctx, data, fit, Map::new())
    }

    /// BumpHunter against `fit`, a background fitted to `data` (`fit_dijet(data, ...)`): the
    /// reference is the fit's prediction in the bins of its range (no window is scanned
    /// outside it). With `refit`, every pseudo-experiment is drawn from the
    /// prediction, the same fit (function, range, exclude, sqrt_s; max_iterations 200) is
    /// redone on it and its scan is taken against its own refit, so the global p-value
    /// accounts for the fit following the data (plain pseudo-experiments of a fitted
    /// reference give too large global p-values). `fit` must be the fit of `data`: an error
    /// otherwise. A pseudo-experiment whose refit fails counts as extreme (the global p is an
    /// upper bound); `.refit` reports them. `refit: false` uses the fixed prediction (faster).
    /// Other options as for `bump_hunter(data, reference, opts)`. Ctrl-C stops it.
    #[rhai_fn(name = "bump_hunter", return_raw)]
    pub fn bump_hunter_fit(
        ctx: NativeCallContext,
        data: Hist1D,
        fit: DijetFit,
        opts: Map,
    ) -> Out<BumpHunterResult> {
        let model = BackgroundModel::of_fit(&fit);
        bump_hunter_fitted(&ctx, &data, &fit, model, opts)
    }

    /// BumpHunter against a fit family's chosen fit, the selection redone in every
    /// pseudo-experiment. See `bump_hunter(data, family, opts)`.
    #[rhai_fn(name = "bump_hunter", return_raw)]
    pub fn bump_hunter_family_default(
        ctx: NativeCallContext,
        data: Hist1D,
        family: FitFamily,
    ) -> Out<BumpHunterResult> {
        bump_hunter_family(ctx, data, family, Map::new())
    }

    /// BumpHunter against `family`, the nested selection fitted to `data`
    /// (`fit_family(data, ...)`): the reference is the chosen fit's prediction in its range.
    /// With `refit`, every pseudo-experiment redoes the whole selection (the same
    /// functions, threshold, range, exclude, sqrt_s) and is scanned against the function it
    /// chooses; `.refit.chosen` counts the choices. Otherwise as for
    /// `bump_hunter(data, fit, opts)`.
    #[rhai_fn(name = "bump_hunter", return_raw)]
    pub fn bump_hunter_family(
        ctx: NativeCallContext,
        data: Hist1D,
        family: FitFamily,
        opts: Map,
    ) -> Out<BumpHunterResult> {
        let model = BackgroundModel::of_family(&family);
        bump_hunter_fitted(&ctx, &data, family.chosen_fit(), model, opts)
    }

    /// BumpHunter on 2D histograms: rectangular windows of all width pairs; each width
    /// option is a number (both axes) or `[x, y]`. Ctrl-C stops it.
    #[rhai_fn(return_raw)]
    pub fn bump_hunter_2d(
        ctx: NativeCallContext,
        data: Hist2D,
        reference: Hist2D,
        opts: Map,
    ) -> Out<BumpHunter2DResult> {
        let options = bump_hunter_2d_options().parse_in(&ctx, opts)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(bumphunter::bump_hunter_2d(
            &data,
            &reference,
            &options,
            Some(&interrupt),
        )?)
    }

    /// The signal strength BumpHunter needs for a global significance: pseudo-experiments of
    /// `reference` + strength x `signal` (a template histogram) for strengths 0.1, 0.2, ...,
    /// 1, 2, ... until the median global significance reaches `sigma_limit`. Takes the scan
    /// options of `bump_hunter(data, reference, opts)` and the injection's.
    #[rhai_fn(return_raw)]
    pub fn signal_injection(
        ctx: NativeCallContext,
        reference: Hist1D,
        signal: Hist1D,
        opts: Map,
    ) -> Out<InjectionResult> {
        let super::InjectOptions {
            scan: options,
            inject,
        } = signal_injection_options().parse_in(&ctx, opts)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(bumphunter::signal_injection(
            &reference,
            &signal,
            &options,
            &inject,
            Some(&interrupt),
        )?)
    }

    /// The window edges `[lo, hi]`.
    #[rhai_fn(get = "window", pure)]
    pub fn window(r: &mut BumpHunterResult) -> Array {
        array(&[r.window_edges.0, r.window_edges.1])
    }

    /// The local p-value of the most significant window.
    #[rhai_fn(get = "local_p", pure)]
    pub fn local_p(r: &mut BumpHunterResult) -> FLOAT {
        r.local_p
    }

    /// The local significance.
    #[rhai_fn(get = "local_z", pure)]
    pub fn local_z(r: &mut BumpHunterResult) -> FLOAT {
        r.local_z
    }

    /// The global (look-elsewhere-corrected) p-value.
    #[rhai_fn(get = "global_p", pure)]
    pub fn global_p(r: &mut BumpHunterResult) -> FLOAT {
        r.global_p
    }

    /// The global significance (a lower limit when no pseudo-experiment was as extreme).
    #[rhai_fn(get = "global_z", pure)]
    pub fn global_z(r: &mut BumpHunterResult) -> FLOAT {
        r.global_z
    }

    /// The estimated signal in the window, data minus reference.
    #[rhai_fn(get = "signal", pure)]
    pub fn signal(r: &mut BumpHunterResult) -> FLOAT {
        r.signal
    }

    /// How the refitted pseudo-experiments went, or () without refits: `#{ model, function,
    /// n_failed, first_failure, global_p_converged, chosen }` (`function`: the fit to the
    /// data; failed refits count as extreme in `global_p`, `global_p_converged` leaves them
    /// out; `chosen`: refits per function).
    #[rhai_fn(get = "refit", pure)]
    pub fn refit(r: &mut BumpHunterResult) -> Dynamic {
        let Some(s) = &r.refit else {
            return Dynamic::UNIT;
        };
        let mut chosen = Map::new();
        for (function, n) in &s.chosen {
            chosen.insert(function.name().into(), Dynamic::from_int(*n as INT));
        }
        let mut map = Map::new();
        map.insert("model".into(), s.model.clone().into());
        map.insert("function".into(), s.function.name().into());
        map.insert("n_failed".into(), Dynamic::from_int(s.n_failed as INT));
        map.insert(
            "first_failure".into(),
            s.first_failure.clone().map_or(Dynamic::UNIT, Dynamic::from),
        );
        map.insert(
            "global_p_converged".into(),
            Dynamic::from_float(s.global_p_converged),
        );
        map.insert("chosen".into(), chosen.into());
        map.into()
    }

    /// The number of pseudo-experiments.
    #[rhai_fn(get = "npe", pure)]
    pub fn npe(r: &mut BumpHunterResult) -> INT {
        r.npe as INT
    }

    /// How many pseudo-experiments were at least as extreme as the data.
    #[rhai_fn(get = "n_extreme", pure)]
    pub fn n_extreme(r: &mut BumpHunterResult) -> INT {
        r.n_extreme as INT
    }

    /// How many windows the scan tested (widths beyond the histogram are not counted).
    #[rhai_fn(get = "windows_tested", pure)]
    pub fn windows_tested(r: &mut BumpHunterResult) -> INT {
        r.windows_tested as INT
    }

    /// How many rectangles the 2D scan tested.
    #[rhai_fn(get = "windows_tested", pure)]
    pub fn windows_tested_2d(r: &mut BumpHunter2DResult) -> INT {
        r.windows_tested as INT
    }

    /// The global p-value of the 2D scan.
    #[rhai_fn(get = "global_p", pure)]
    pub fn global_p_2d(r: &mut BumpHunter2DResult) -> FLOAT {
        r.global_p
    }

    /// The local significance of the 2D scan.
    #[rhai_fn(get = "local_z", pure)]
    pub fn local_z_2d(r: &mut BumpHunter2DResult) -> FLOAT {
        r.local_z
    }

    /// The strength needed for the target significance, or () if it was not reached.
    #[rhai_fn(get = "strength_needed", pure)]
    pub fn strength_needed(r: &mut InjectionResult) -> Dynamic {
        r.strength_needed.map_or(Dynamic::UNIT, Dynamic::from_float)
    }

    /// Writes the result (every number, and the histograms) as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_bump(r: &mut BumpHunterResult, path: &str) -> Out<()> {
        save_json(r, path)
    }

    /// Writes the result as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_bump_2d(r: &mut BumpHunter2DResult, path: &str) -> Out<()> {
        save_json(r, path)
    }

    /// Writes the result as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_injection(r: &mut InjectionResult, path: &str) -> Out<()> {
        save_json(r, path)
    }

    /// The window, local and global significance.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn bump_to_string(r: &mut BumpHunterResult) -> String {
        r.to_string()
    }

    /// The window, local and global significance.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn bump2d_to_string(r: &mut BumpHunter2DResult) -> String {
        r.to_string()
    }

    /// The strengths tried and their significances.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn injection_to_string(r: &mut InjectionResult) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::{Dynamic, Map};

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    #[test]
    fn scan_steps_and_2d_widths_take_their_forms() {
        let step = |v: Dynamic| {
            bump_hunter_options()
                .parse(map(&[("scan_step", v)]), &mut || 1)
                .map(|o| o.scan.scan_step)
        };
        assert_eq!(step("half".into()).unwrap(), ScanStep::Half);
        assert_eq!(step(Dynamic::from_int(3)).unwrap(), ScanStep::Bins(3));
        assert!(
            step("halve".into())
                .unwrap_err()
                .to_string()
                .contains("\"full\"")
        );
        let widths = |v: Dynamic| {
            bump_hunter_2d_options()
                .parse(map(&[("width_min", v)]), &mut || 1)
                .map(|o| o.width_min)
        };
        assert_eq!(widths(Dynamic::from_int(3)).unwrap(), (3, 3));
        let pair: rhai::Array = vec![Dynamic::from_int(2), Dynamic::from_float(4.0)];
        assert_eq!(widths(pair.into()).unwrap(), (2, 4));
        let err = widths("x".into()).unwrap_err().to_string();
        assert!(
            err.contains("option 'width_min' of bump_hunter_2d") && err.contains("[x, y]"),
            "{err}"
        );
    }

    #[test]
    fn injection_options_split_into_the_scan_and_the_injection() {
        let o = signal_injection_options()
            .parse(
                map(&[
                    ("npe", Dynamic::from_int(7)),
                    ("sigma_limit", Dynamic::from_float(3.0)),
                ]),
                &mut || 5,
            )
            .unwrap();
        assert_eq!((o.scan.npe, o.scan.seed, o.inject.sigma_limit), (7, 5, 3.0));
        assert_eq!(o.inject.npe_inject, InjectionOptions::default().npe_inject);
    }
}
