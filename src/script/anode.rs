//! ANODE's built-ins (part of the `methods` domain): `anode(events, #{...})` and the methods
//! of its result.

use rhai::plugin::*;

use crate::methods::anode::AnodeOptions;
use crate::script::declared::{Declared, Opt};
use crate::script::domain::OptionTable;
use crate::script::search_options::{flow_opts, window_opts};

/// The module of ANODE's functions and its result type.
pub fn module() -> Module {
    let mut module = exported_module!(anode_api);
    module.set_custom_type_with_comments::<crate::methods::anode::Anode>(
        "Anode",
        &["/// The result of ANODE: the density ratio R of every signal-region event and the cut-and-count tests against the sideband flow's background."],
    );
    module
}

/// The declared options of this module's built-ins, for the `methods` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![Box::new(anode_options())]
}

/// The declared options of `anode`.
pub(super) fn anode_options() -> Declared<AnodeOptions> {
    let window = window_opts(|o: &mut AnodeOptions| &mut o.window);
    let flow = flow_opts(|o: &mut AnodeOptions| &mut o.flow, "hidden");
    Declared::new(
        "anode",
        AnodeOptions::default,
        window.into_iter().chain(flow).chain(vec![
            Opt::custom(
                "features",
                "strings",
                "the dimensions the flows model",
                |o: &AnodeOptions| o.window.features.clone().into(),
                |o, opts| {
                    o.window.features = opts.strings("features")?;
                    o.flow.inputs = o.window.features.len();
                    Ok(())
                },
            ),
            Opt::choice(
                "flow_preprocessing",
                "the space the flows model the features in: \"standard\" (the standardised features) or \"logit\" (each feature's range in the window mapped onto (0, 1), through the logit and standardised; one map for all flows, so the density ratio is unchanged by it)",
                |o| &mut o.flow_preprocessing,
            ),
            Opt::field("epochs", "passes over the training data", |o| {
                &mut o.training.epochs
            }),
            Opt::field("batch_size", "events per gradient step", |o| {
                &mut o.training.batch_size
            }),
            Opt::field("lr", "learning rate", |o| &mut o.training.lr),
            Opt::field(
                "average",
                "last epochs of the sideband flow whose densities are averaged",
                |o| &mut o.average,
            ),
            Opt::field(
                "folds",
                "signal-region folds; each event is scored by the flow of the other folds",
                |o| &mut o.folds,
            ),
            Opt::field(
                "samples",
                "background events drawn from the sideband flow per signal-region event",
                |o| &mut o.samples,
            ),
            Opt::field(
                "efficiencies",
                "data efficiencies at which the highest-R events are counted",
                |o| &mut o.efficiencies,
            ),
            Opt::field(
                "validation_width",
                "width of each validation window beside the signal region, in signal-region widths",
                |o| &mut o.validation_width,
            ),
            Opt::field(
                "sideband_flows",
                "independently seeded sideband flows whose spread enters the systematic",
                |o| &mut o.sideband_flows,
            ),
            Opt::session_seed(|o| &mut o.seed),
        ]).collect(),
    )
}

#[export_module]
mod anode_api {
    use std::path::Path;

    use rhai::{Array, Dynamic, FLOAT, Map};

    use super::anode_options;
    use crate::data::EventSet;
    use crate::methods::anode::{Anode, anode as run_anode};
    use crate::methods::anode_report::{
        plot_losses as draw_losses, plot_mass as draw_mass, plot_scores,
    };
    use crate::script::flow_systematics;
    use crate::script::salad::estimate_map;
    use crate::script::state::session_state;
    use crate::script::values::significance_map;
    use crate::script::values::{Out, save_json};

    /// ANODE (LHC Olympics 2020 §3.2): `anode(events, #{ signal_region: [3300.0, 3700.0], ... })`.
    /// Conditional normalising flows (masked autoregressive, rational-quadratic splines)
    /// learn p_data(x | m) on the signal-region events (`folds`: each event scored by the
    /// flow of the other folds) and p_bkg(x | m) on the sidebands (the rest of `range`),
    /// interpolated into the signal region through m; the sideband density is averaged over
    /// its last `average` epochs. Score: R = p_data/p_bkg. For each data efficiency of
    /// `efficiencies` the events with the highest R are counted against background drawn from
    /// the sideband flow (`samples` per event). The prediction carries a systematic measured
    /// on the data, per cut: the non-closure (⊕ its statistical precision) of a flow trained
    /// outside two validation windows (`validation_width` signal-region widths each side of
    /// it) and interpolated into them, in quadrature with the spread of `sideband_flows`
    /// independently seeded sideband flows' predictions. Without both (windows that do not
    /// fit, `sideband_flows` 1) no p-value is given. Ctrl-C stops it.
    #[rhai_fn(return_raw)]
    pub fn anode(ctx: NativeCallContext, events: EventSet, opts: Map) -> Out<Anode> {
        let mut options = anode_options().parse_in(&ctx, opts)?;
        options.device = session_state(&ctx)?.device();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(run_anode(&events, &options, Some(&interrupt))?)
    }

    /// The summary table: per data efficiency observed, predicted ± stat ± syst,
    /// predicted/observed efficiency and Z; the validation windows' closure and the flows'
    /// spread behind the systematic; the most significant test.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn anode_to_string(a: &mut Anode) -> String {
        a.to_string()
    }

    /// The tests, one map per data efficiency: `efficiency`, `threshold` (on ln R),
    /// `observed`, `predicted`, `predicted_error` (statistical), `systematic_error` (the
    /// background model's, in events; NaN where unmeasured),
    /// `ratio`, `ratio_error`, `reference_events` (effective drawn background events passing),
    /// `p_value`, `significance`, `untested` (why there is no p-value, or ()).
    #[rhai_fn(get = "estimates", pure)]
    pub fn estimates(a: &mut Anode) -> Array {
        a.estimates.iter().map(estimate_map).collect()
    }

    /// The background model's systematic at data efficiency `eff` (one of `efficiencies`):
    /// `#{ closure, spread, relative, events, statistical }`: the validation windows'
    /// relative non-closure (⊕ its precision), the sideband flows' relative spread, their
    /// quadrature sum, that times the prediction in events, and the prediction's statistical
    /// error in events. NaN where unmeasured.
    #[rhai_fn(pure, return_raw)]
    pub fn systematic_errors(a: &mut Anode, eff: FLOAT) -> Out<Map> {
        flow_systematics::systematic_errors(&a.systematics, &a.estimates, eff)
    }

    /// The closure test in the validation windows, one estimate map per data efficiency
    /// (as `estimates`: observed and predicted there; no systematic of their own). Empty
    /// without windows.
    #[rhai_fn(get = "validation", pure)]
    pub fn validation(a: &mut Anode) -> Array {
        flow_systematics::validation(&a.systematics)
    }

    /// Every closure test in the validation windows, lettered as the summary shows them:
    /// `#{ name, estimates }`, the estimates one map per data efficiency. The systematic's
    /// closure is the largest non-closure among them. Empty without windows.
    #[rhai_fn(get = "closure_tests", pure)]
    pub fn closure_tests(a: &mut Anode) -> Array {
        flow_systematics::closure_tests(&a.systematics)
    }

    /// The validation windows, `#{ lower: [lo, hi], upper: [lo, hi] }`, or () where they do
    /// not fit in the range.
    #[rhai_fn(get = "validation_windows", pure)]
    pub fn validation_windows(a: &mut Anode) -> Dynamic {
        flow_systematics::validation_windows(&a.systematics)
    }

    /// Why the estimates carry no systematic (and so no p-value), or ().
    #[rhai_fn(get = "systematic_missing", pure)]
    pub fn systematic_missing(a: &mut Anode) -> Dynamic {
        flow_systematics::systematic_missing(&a.systematics)
    }

    /// The events per part: `#{ sidebands, signal_region }`.
    #[rhai_fn(get = "counts", pure)]
    pub fn counts(a: &mut Anode) -> Map {
        flow_systematics::counts(a.counts)
    }

    /// The most significant test and Šidák's correction over the efficiencies, as a map:
    /// `efficiency`, `local_p`, `local_z`, `trials`, `global_p`, `global_z`. Unit if none.
    #[rhai_fn(get = "global", pure)]
    pub fn global(a: &mut Anode) -> Dynamic {
        significance_map(a.global())
    }

    /// The signal-region events with the highest R, a fraction `eff` of them.
    #[rhai_fn(pure, return_raw)]
    pub fn selected(a: &mut Anode, eff: FLOAT) -> Out<EventSet> {
        Ok(a.selected(eff)?)
    }

    /// The signal-region events with ln R as a `score` column.
    #[rhai_fn(pure, return_raw)]
    pub fn scored(a: &mut Anode) -> Out<EventSet> {
        Ok(a.scored()?)
    }

    /// Plots ln R for the signal-region data and the background drawn from the sideband flow,
    /// with their ratio, to `path` (.png or .svg).
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot(a: &mut Anode, path: &str) -> Out<()> {
        Ok(plot_scores(a, Path::new(path))?)
    }

    /// Plots the background estimate in the mass to `path`: at each tested efficiency the
    /// signal-region data passing the ln R cut (points with Poisson errors) against the
    /// sideband flow's draws passing it (line), and the validation windows' closure beside
    /// the signal region, with pulls.
    #[rhai_fn(pure, return_raw)]
    pub fn plot_mass(a: &mut Anode, path: &str) -> Out<()> {
        Ok(draw_mass(a, Path::new(path))?)
    }

    /// Plots the flows' negative log-likelihood per epoch to `path`.
    #[rhai_fn(pure, return_raw)]
    pub fn plot_losses(a: &mut Anode, path: &str) -> Out<()> {
        Ok(draw_losses(a, Path::new(path))?)
    }

    /// Writes the result (counts, losses, tests, global statement) as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save(a: &mut Anode, path: &str) -> Out<()> {
        save_json(&a.to_json(), path)
    }
}
