//! The signal-injection scan's built-ins (part of the `methods` domain):
//! `injection_scan(background, signal, #{...})`, with an independent background sample for
//! the idealized detector, and the methods of its result.

use rhai::plugin::*;
use rhai::{Dynamic, Map};

use super::declared::{Declared, Opt};
use super::domain::OptionTable;
use crate::methods::cwola::CwolaOptions;
use crate::methods::injection_scan::{ScanMethod, ScanOptions};
use crate::script::state::session_state;
use crate::script::values::Out;

/// The module of the scan's functions and its result type.
pub fn module() -> Module {
    let mut module = exported_module!(injection_scan_api);
    module.set_custom_type_with_comments::<crate::methods::injection_scan::InjectionScan>(
        "InjectionScan",
        &["/// The result of a signal-injection scan: every method's figures of merit per injected amount and repetition."],
    );
    module
}

/// The declared options of this module's built-ins, for the `methods` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![
        Box::new(scan_options("injection_scan")),
        Box::new(scan_options("scan_plan")),
    ]
}

/// The scan's options as a script gives them: the methods' own options still as maps.
#[derive(Clone, Debug)]
pub(super) struct ScanArgs {
    methods: Vec<String>,
    signal_counts: Vec<usize>,
    repetitions: usize,
    pub(super) seed: u64,
    cathode: Map,
    anode: Map,
    cwola: Map,
    reference: Map,
}

/// The scan's CWoLa: a hunt's options and its one signal region.
#[derive(Clone, Debug)]
struct CwolaWindow {
    hunt: CwolaOptions,
    signal_region: (f64, f64),
}

impl Default for CwolaWindow {
    fn default() -> Self {
        Self {
            hunt: CwolaOptions::default(),
            signal_region: (3300.0, 3700.0),
        }
    }
}

/// The declared options of the scan's CWoLa (its `cwola` map): `cwola_hunt`'s and the
/// signal region.
fn cwola_window_options() -> Declared<CwolaWindow> {
    Declared::new(
        "injection_scan's cwola",
        CwolaWindow::default,
        super::cwola_options::cwola_options("injection_scan's cwola")
            .into_opts()
            .into_iter()
            .map(|o| o.lift(|w: &mut CwolaWindow| &mut w.hunt))
            .chain([Opt::field(
                "signal_region",
                "the one signal region, made of the hunt's `sr_bins` bins",
                |w: &mut CwolaWindow| &mut w.signal_region,
            )])
            .collect(),
    )
}

impl Default for ScanArgs {
    fn default() -> Self {
        Self {
            methods: vec!["cathode".into(), "supervised".into()],
            signal_counts: vec![0, 250, 500, 1000],
            repetitions: 3,
            seed: crate::seed::DEFAULT_SEED,
            cathode: Map::new(),
            anode: Map::new(),
            cwola: Map::new(),
            reference: Map::new(),
        }
    }
}

/// A map option (a method's own options) held where `access` reaches.
fn map_opt(
    key: &'static str,
    doc: &'static str,
    access: fn(&mut ScanArgs) -> &mut Map,
) -> Opt<ScanArgs> {
    Opt::custom(
        key,
        "map",
        doc,
        move |a: &ScanArgs| Dynamic::from_map(access(&mut a.clone()).clone()),
        move |a, o| {
            let value = o.value(key).cloned().unwrap_or(Dynamic::UNIT);
            *access(a) = value
                .try_cast::<Map>()
                .ok_or_else(|| o.invalid(key, "must be an options map, e.g. #{ epochs: 5 }"))?;
            Ok(())
        },
    )
}

/// The declared options of `injection_scan`, and of `scan_plan` (which takes the same),
/// named for `function`.
pub(super) fn scan_options(function: &'static str) -> Declared<ScanArgs> {
    Declared::new(
        function,
        ScanArgs::default,
        vec![
            Opt::field(
                "methods",
                "among \"cathode\", \"anode\", \"cwola\", \"supervised\" and \"idealized\" (which needs the independent background sample)",
                |a: &mut ScanArgs| &mut a.methods,
            ),
            Opt::field(
                "signal_counts",
                "signal events injected at each point; 0 is the background-only point",
                |a| &mut a.signal_counts,
            ),
            Opt::field(
                "repetitions",
                "random signal subsets (and method seeds) per point",
                |a| &mut a.repetitions,
            ),
            map_opt("cathode", "options of cathode (help(\"cathode\"))", |a| {
                &mut a.cathode
            }),
            map_opt("anode", "options of anode (help(\"anode\"))", |a| {
                &mut a.anode
            }),
            map_opt(
                "cwola",
                "options of cwola_hunt (help(\"cwola_hunt\")) and `signal_region` (3300–3700 GeV): CWoLa in that one region, its bins repeated outwards for the sideband fit",
                |a| &mut a.cwola,
            ),
            map_opt(
                "reference",
                "options of both references (help(\"supervised_reference\"))",
                |a| &mut a.reference,
            ),
            Opt::session_seed(|a| &mut a.seed),
        ],
    )
}

/// The scan's options in the session of `ctx`: each method's map parsed by its own
/// declaration, on the session's device.
pub(super) fn scan(ctx: &NativeCallContext, function: &'static str, opts: Map) -> Out<ScanOptions> {
    let args = scan_options(function).parse_in(ctx, opts)?;
    let methods = args
        .methods
        .iter()
        .map(|name| -> Out<ScanMethod> {
            Ok(match name.as_str() {
                "cathode" => {
                    let mut o = super::cathode::cathode_options().parse_in(ctx, args.cathode.clone())?;
                    o.device = session_state(ctx)?.device();
                    ScanMethod::Cathode(Box::new(o))
                }
                "anode" => {
                    let mut o = super::anode::anode_options().parse_in(ctx, args.anode.clone())?;
                    o.device = session_state(ctx)?.device();
                    ScanMethod::Anode(Box::new(o))
                }
                "cwola" => {
                    let CwolaWindow {
                        mut hunt,
                        signal_region,
                    } = cwola_window_options().parse_in(ctx, args.cwola.clone())?;
                    hunt.device = session_state(ctx)?.device();
                    ScanMethod::Cwola {
                        hunt: Box::new(hunt.at_window(signal_region)?),
                        signal_region,
                    }
                }
                "supervised" | "idealized" => {
                    let mut o = super::references::reference_options("supervised_reference")
                        .parse_in(ctx, args.reference.clone())?;
                    o.classifier.device = session_state(ctx)?.device();
                    if name == "supervised" {
                        ScanMethod::Supervised(o)
                    } else {
                        ScanMethod::Idealized(o)
                    }
                }
                other => {
                    return Err(crate::error::Error::invalid(
                        "option 'methods' of injection_scan",
                        format!("unknown method '{other}'; the methods are cathode, anode, cwola, supervised, idealized"),
                    )
                    .into());
                }
            })
        })
        .collect::<Out<Vec<_>>>()?;
    Ok(ScanOptions {
        methods,
        signal_counts: args.signal_counts,
        repetitions: args.repetitions,
        seed: args.seed,
    })
}

/// Writes every run of `scan` to `path`, atomically: as a Parquet table (a row per run;
/// undefined figures as nulls) when `path` ends in `.parquet`, as JSON otherwise.
pub(super) fn save_scan(
    scan: &crate::methods::injection_scan::InjectionScan,
    path: &str,
) -> Out<()> {
    let file = std::path::Path::new(path);
    if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        return Ok(scan.write_parquet(file)?);
    }
    crate::script::values::save_json(&scan.to_json(), path)
}

/// Runs the scan of `opts` in the session of `ctx` (its device, seed stream and Ctrl-C).
fn scan_with(
    ctx: &NativeCallContext,
    background: &crate::data::EventSet,
    signal: &crate::data::EventSet,
    independent: Option<&crate::data::EventSet>,
    opts: Map,
) -> Out<crate::methods::injection_scan::InjectionScan> {
    let options = scan(ctx, "injection_scan", opts)?;
    let interrupt = session_state(ctx)?.interrupt.clone();
    Ok(crate::methods::injection_scan::injection_scan(
        background,
        signal,
        independent,
        &options,
        Some(&interrupt),
    )?)
}

#[export_module]
mod injection_scan_api {
    use std::path::Path;

    use rhai::{Array, Dynamic, INT, Map};

    use super::{save_scan, scan_with};
    use crate::data::EventSet;
    use crate::methods::injection_scan::{InjectionScan, SIC_GRID, plot_scan, plot_scan_sic};
    use crate::script::values::{Out, array, count};

    /// The signal-injection scan of the weakly supervised benchmark frame:
    /// `injection_scan(background, signal, #{ methods: [...], signal_counts: [...] })`. For
    /// each count, `repetitions` random subsets of `signal` are added to `background` and
    /// every method runs on the result; each is judged by the ROC of its signal-region scores
    /// against the truth labels (max SIC, SIC at eps_S = 0.3, AUC) and by its own most
    /// significant test (CATHODE, ANODE, CWoLa). The 0 point is background only: its significances
    /// must be consistent with no signal. Progress is shown; Ctrl-C stops it.
    #[rhai_fn(name = "injection_scan", return_raw)]
    pub fn injection_scan(
        ctx: NativeCallContext,
        background: EventSet,
        signal: EventSet,
        opts: Map,
    ) -> Out<InjectionScan> {
        scan_with(&ctx, &background, &signal, None, opts)
    }

    /// The scan with `independent`, a background-only sample independent of `background`,
    /// which the idealized detector (method "idealized") separates from the data.
    #[rhai_fn(name = "injection_scan", return_raw)]
    pub fn injection_scan_idealized(
        ctx: NativeCallContext,
        background: EventSet,
        signal: EventSet,
        independent: EventSet,
        opts: Map,
    ) -> Out<InjectionScan> {
        scan_with(&ctx, &background, &signal, Some(&independent), opts)
    }

    /// The table: per method and injected amount, the signal region's S/B and the mean
    /// [min, max] over the repetitions of the max SIC, then the SIC at 0.3, AUC and local Z.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn scan_to_string(s: &mut InjectionScan) -> String {
        s.to_string()
    }

    /// Every run, one map each: `method`, `injected`, `repetition`, `signal_region` ([S, B]),
    /// `s_over_b`, `max_sic`, `sic_03`, `auc`, `local_z`, `global_z` (NaN where undefined)
    /// and `sic_curve`, the SIC at signal efficiencies 0.02, 0.04, ..., 1.
    #[rhai_fn(get = "runs", pure)]
    pub fn runs(s: &mut InjectionScan) -> Array {
        s.runs
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("method".into(), r.method.clone().into());
                m.insert("injected".into(), (r.injected as INT).into());
                m.insert("repetition".into(), (r.repetition as INT).into());
                let [sig, bkg] = r.signal_region;
                m.insert(
                    "signal_region".into(),
                    vec![Dynamic::from_int(sig as INT), Dynamic::from_int(bkg as INT)].into(),
                );
                for (k, v) in [
                    ("s_over_b", r.s_over_b),
                    ("max_sic", r.max_sic),
                    ("sic_03", r.sic_03),
                    ("auc", r.auc),
                    ("local_z", r.local_z),
                    ("global_z", r.global_z),
                ] {
                    m.insert(k.into(), v.into());
                }
                m.insert("sic_curve".into(), array(&r.sic_curve).into());
                m.into()
            })
            .collect()
    }

    /// Per method, the SIC curves of the point with `injected` signal events over its
    /// repetitions: maps of `method`, `injected`, `s_over_b`, `repetitions`, `eps_s` (0.02,
    /// 0.04, ..., 1) and the `mean`, `min` and `max` SIC at each. Errors name the scan's
    /// points when there is none with that count; a background-only point has no curves.
    #[rhai_fn(pure, return_raw)]
    pub fn sic_curves(s: &mut InjectionScan, injected: INT) -> Out<Array> {
        Ok(s.sic_curves(count("injected", injected)?)?
            .iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("method".into(), c.method.clone().into());
                m.insert("injected".into(), (c.injected as INT).into());
                m.insert("s_over_b".into(), c.s_over_b.into());
                m.insert("repetitions".into(), (c.repetitions as INT).into());
                m.insert("eps_s".into(), array(&SIC_GRID).into());
                m.insert("mean".into(), array(&c.mean).into());
                m.insert("min".into(), array(&c.min).into());
                m.insert("max".into(), array(&c.max).into());
                Dynamic::from_map(m)
            })
            .collect())
    }

    /// Draws the methods' SIC curves together at the point with `injected` signal events to
    /// `path`: per method the mean over the repetitions against the signal efficiency, with
    /// min–max bars when there are several, beside the random classifier's sqrt(eps_S); the
    /// supervised and idealized references are dashed.
    #[rhai_fn(name = "plot_sic", pure, return_raw)]
    pub fn plot_sic(s: &mut InjectionScan, path: &str, injected: INT) -> Out<()> {
        Ok(plot_scan_sic(
            s,
            count("injected", injected)?,
            Path::new(path),
        )?)
    }

    /// Per method and point, `quantity` ("max_sic", "sic_03", "auc", "local_z" or
    /// "global_z") over the repetitions: maps of `method`, `injected`, `s_over_b`, `mean`,
    /// `min`, `max`.
    #[rhai_fn(pure, return_raw)]
    pub fn points(s: &mut InjectionScan, quantity: &str) -> Out<Array> {
        Ok(s.points(quantity)?
            .iter()
            .map(|p| {
                let mut m = Map::new();
                m.insert("method".into(), p.method.clone().into());
                m.insert("injected".into(), (p.injected as INT).into());
                for (k, v) in [
                    ("s_over_b", p.s_over_b),
                    ("mean", p.mean),
                    ("min", p.min),
                    ("max", p.max),
                ] {
                    m.insert(k.into(), v.into());
                }
                Dynamic::from_map(m)
            })
            .collect())
    }

    /// Draws `quantity` (as `points`) against the signal region's S/B to `path`, a line per
    /// method through the means with min–max bars (the references dashed): the frame's
    /// standard figures are "max_sic" and "local_z".
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot(s: &mut InjectionScan, path: &str, quantity: &str) -> Out<()> {
        Ok(plot_scan(s, quantity, Path::new(path))?)
    }

    /// Writes every run, atomically: as a Parquet table (a row per run; undefined figures
    /// as nulls) when `path` ends in `.parquet`, as JSON otherwise.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save(s: &mut InjectionScan, path: &str) -> Out<()> {
        save_scan(s, path)
    }

    /// The number of runs.
    #[rhai_fn(name = "len", pure)]
    pub fn len(s: &mut InjectionScan) -> INT {
        s.runs.len() as INT
    }
}
