//! The BumpHunter built-ins of the `stats` domain: scans against a reference histogram, a
//! fit or a fit family (refitted in every pseudo-experiment), the 2D scan, signal injection,
//! and their results' getters.

use rhai::plugin::*;

use super::values::Out;

/// The BumpHunter built-ins, for the `stats` domain's module.
pub fn module() -> rhai::Module {
    exported_module!(bumphunter_api)
}

/// BumpHunter options from a Rhai map; the seed defaults to a fresh session stream. With
/// `fitted` (the reference is a fit) the map may also hold `refit` (default true), returned
/// beside the options.
fn bump_options(
    ctx: &NativeCallContext,
    opts: rhai::Map,
    fitted: bool,
) -> Out<(crate::stats::bumphunter::BumpHunterOptions, bool)> {
    use crate::stats::bumphunter::{BumpHunterOptions, Mode, ScanStep};
    let mut allowed = vec![
        "mode",
        "width_min",
        "width_max",
        "width_step",
        "scan_step",
        "npe",
        "seed",
        "use_sideband",
        "sideband_width",
    ];
    if fitted {
        allowed.push("refit");
    } else if opts.contains_key("refit") {
        return Err(crate::Error::invalid(
            "option 'refit' of bump_hunter",
            "refitting needs the fit itself, not a histogram: pass the DijetFit or FitFamily as the reference, e.g. bump_hunter(data, fit_dijet(data), #{ refit: true })",
        )
        .into());
    }
    let step = opts.get("scan_step").cloned();
    let o = super::options::Options::new("bump_hunter", opts, &allowed)?;
    let defaults = BumpHunterOptions::default();
    let scan_step = match step {
        None => defaults.scan_step,
        Some(v) if v.is_string() => match v.into_string().unwrap_or_default().as_str() {
            "full" => ScanStep::Full,
            "half" => ScanStep::Half,
            other => {
                return Err(crate::Error::invalid(
                    "option 'scan_step' of bump_hunter",
                    format!("'{other}': use a number of bins, \"full\" or \"half\""),
                )
                .into());
            }
        },
        Some(_) => ScanStep::Bins(o.count("scan_step", 1)?),
    };
    let options = BumpHunterOptions {
        mode: Mode::parse(&o.string("mode", "excess")?)?,
        width_min: o.count("width_min", defaults.width_min)?,
        width_max: if o.has("width_max") {
            Some(o.count("width_max", 0)?)
        } else {
            None
        },
        width_step: o.count("width_step", defaults.width_step)?,
        scan_step,
        npe: o.count("npe", defaults.npe)?,
        seed: o.seed_or_session(ctx)?,
        use_sideband: o.flag("use_sideband", false)?,
        sideband_width: o.count("sideband_width", 0)?,
    };
    Ok((options, o.flag("refit", true)?))
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

    use super::{bump_hunter_fitted, bump_options};
    use crate::error::Error;
    use crate::script::options::{Options, floats};
    use crate::script::state::session_state;
    use crate::script::values::{Out, array, save_json};
    use crate::stats::bumphunter::{
        self, BackgroundModel, BumpHunter2DOptions, BumpHunter2DResult, BumpHunterResult,
        InjectionOptions, InjectionResult, Mode,
    };
    use crate::stats::fit::{DijetFit, FitFamily};
    use crate::stats::hist::{Hist1D, Hist2D};

    /// BumpHunter with pyBumpHunter's defaults (excess, widths 2 to half the bins, 10 000
    /// pseudo-experiments, seed from the session). See `bump_hunter(data, reference, opts)`.
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
    /// `npe` pseudo-experiments (10 000) give its global p-value. Options also: `mode`
    /// ("excess"/"deficit"), `seed`, `use_sideband`, `sideband_width`. Ctrl-C stops it. For a
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
    /// outside it). `refit` (default true): every pseudo-experiment is drawn from the
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
    /// `refit` (default true): every pseudo-experiment redoes the whole selection (the same
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

    /// BumpHunter on 2D histograms: rectangular windows of all width pairs. Options: `mode`,
    /// `width_min`, `width_max` (numbers or `[x, y]`), `npe`, `seed`.
    #[rhai_fn(return_raw)]
    pub fn bump_hunter_2d(
        ctx: NativeCallContext,
        data: Hist2D,
        reference: Hist2D,
        opts: Map,
    ) -> Out<BumpHunter2DResult> {
        let pair = |key: &str, default: (usize, usize)| -> Out<(usize, usize)> {
            match opts.get(key) {
                None => Ok(default),
                Some(v) if v.is_array() => {
                    let a = floats(key, &v.clone().into_array().unwrap_or_default())?;
                    match a.as_slice() {
                        [x, y] if *x >= 1.0 && *y >= 1.0 => Ok((*x as usize, *y as usize)),
                        _ => {
                            Err(Error::invalid(key, "give [x, y] with two positive widths").into())
                        }
                    }
                }
                Some(v) => {
                    let n = v.as_int().map_err(|t| {
                        Error::invalid(key, format!("must be a number or [x, y], not {t}"))
                    })?;
                    let n =
                        usize::try_from(n).map_err(|_| Error::invalid(key, "must be positive"))?;
                    Ok((n, n))
                }
            }
        };
        let defaults = BumpHunter2DOptions::default();
        let (width_min, width_step) = (
            pair("width_min", defaults.width_min)?,
            pair("width_step", defaults.width_step)?,
        );
        let width_max = if opts.contains_key("width_max") {
            Some(pair("width_max", (1, 1))?)
        } else {
            None
        };
        let scan_step = pair("scan_step", defaults.scan_step)?;
        let o = Options::new(
            "bump_hunter_2d",
            opts.clone(),
            &[
                "mode",
                "width_min",
                "width_max",
                "width_step",
                "scan_step",
                "npe",
                "seed",
            ],
        )?;
        let options = BumpHunter2DOptions {
            mode: Mode::parse(&o.string("mode", "excess")?)?,
            width_min,
            width_max,
            width_step,
            scan_step,
            npe: o.count("npe", defaults.npe)?,
            seed: o.seed_or_session(&ctx)?,
        };
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
    /// 1, 2, ... until the median reaches `sigma_limit`. Options: the bump_hunter scan options
    /// plus `signal_exp` (events at strength 1; default the template total), `strengths`,
    /// `sigma_limit` (5), `npe_background` (10 000), `npe_inject` (1 000).
    #[rhai_fn(return_raw)]
    pub fn signal_injection(
        ctx: NativeCallContext,
        reference: Hist1D,
        signal: Hist1D,
        opts: Map,
    ) -> Out<InjectionResult> {
        let injection_keys = [
            "signal_exp",
            "strengths",
            "sigma_limit",
            "npe_background",
            "npe_inject",
        ];
        let (inject_map, scan_map): (Map, Map) = opts
            .into_iter()
            .partition(|(k, _)| injection_keys.contains(&k.as_str()));
        let (options, _) = bump_options(&ctx, scan_map, false)?;
        let strengths = inject_map
            .get("strengths")
            .map(|v| floats("strengths", &v.clone().into_array().unwrap_or_default()))
            .transpose()?;
        let o = Options::new("signal_injection", inject_map, &injection_keys)?;
        let defaults = InjectionOptions::default();
        let inject = InjectionOptions {
            signal_exp: if o.has("signal_exp") {
                Some(o.float("signal_exp", 0.0)?)
            } else {
                None
            },
            strengths,
            sigma_limit: o.float("sigma_limit", defaults.sigma_limit)?,
            npe_background: o.count("npe_background", defaults.npe_background)?,
            npe_inject: o.count("npe_inject", defaults.npe_inject)?,
        };
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
