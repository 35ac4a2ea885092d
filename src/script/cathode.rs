//! CATHODE's built-ins (part of the `methods` domain): `cathode(events, #{...})` and the
//! methods of its result.

use rhai::plugin::*;

use super::declared::{Declared, Opt};
use super::domain::OptionTable;
use super::search_options::{flow_opts, window_opts};
use crate::methods::cathode::CathodeOptions;

/// The module of CATHODE's functions and its result type.
pub fn module() -> Module {
    let mut module = exported_module!(cathode_api);
    module.set_custom_type_with_comments::<crate::methods::cathode::Cathode>(
        "Cathode",
        &["/// The result of CATHODE: the classifier's score of every signal-region event and the cut-and-count tests against the sideband flow's samples."],
    );
    module
}

/// The declared options of this module's built-ins, for the `methods` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![Box::new(cathode_options())]
}

/// The declared options of `cathode`.
pub(super) fn cathode_options() -> Declared<CathodeOptions> {
    let window = window_opts(|o: &mut CathodeOptions| &mut o.window);
    let flow = flow_opts(|o: &mut CathodeOptions| &mut o.flow, "flow_hidden");
    let rest = vec![
        Opt::custom(
            "features",
            "strings",
            "the dimensions the flows model and the classifier sees",
            |o: &CathodeOptions| o.window.features.clone().into(),
            |o, opts| {
                o.window.features = opts.strings("features")?;
                o.flow.inputs = o.window.features.len();
                Ok(())
            },
        ),
        Opt::choice(
            "flow_preprocessing",
            "the space the flows model the features in: \"standard\" (the standardised features) or \"logit\" (each feature's sideband range mapped onto (0, 1), through the logit and standardised: hard edges and long tails become smooth tails)",
            |o| &mut o.flow_preprocessing,
        ),
        Opt::field(
            "flow_epochs",
            "passes of each flow over the sidebands",
            |o| &mut o.flow_training.epochs,
        ),
        Opt::field("flow_batch_size", "sideband events per flow step", |o| {
            &mut o.flow_training.batch_size
        }),
        Opt::field("flow_lr", "the flows' learning rate", |o| {
            &mut o.flow_training.lr
        }),
        Opt::field(
            "average",
            "last epochs of the sideband flow the samples are drawn from",
            |o| &mut o.average,
        ),
        Opt::field(
            "flow_validation",
            "fraction of the sideband events held out of each flow's training to keep its `average` epochs of lowest loss on them (0: the last epochs)",
            |o| &mut o.flow_validation,
        ),
        Opt::field(
            "oversampling",
            "samples drawn per signal-region event, at its mass",
            |o| &mut o.oversampling,
        ),
        Opt::field(
            "folds",
            "folds of the classifier: each event and sample is scored by the one trained on the others",
            |o| &mut o.classifier.folds,
        ),
        Opt::field(
            "members_per_fold",
            "classifier networks per fold, differently initialised; a fold's events and samples get their mean score",
            |o| &mut o.classifier.members_per_fold,
        ),
        Opt::widths("hidden", "the classifier's hidden layer widths", |o| {
            &mut o.classifier.network.hidden
        }),
        Opt::choice("activation", "the classifier's hidden activation", |o| {
            &mut o.classifier.network.activation
        }),
        Opt::field(
            "epochs",
            "the classifier's passes over its training folds",
            |o| &mut o.classifier.training.epochs,
        ),
        Opt::field("batch_size", "events per classifier step", |o| {
            &mut o.classifier.training.batch_size
        }),
        Opt::field("lr", "the classifier's learning rate", |o| {
            &mut o.classifier.training.lr
        }),
        Opt::field(
            "efficiencies",
            "data efficiencies at which the highest-scoring events are counted",
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
    ];
    Declared::new(
        "cathode",
        CathodeOptions::default,
        window.into_iter().chain(flow).chain(rest).collect(),
    )
}

#[export_module]
mod cathode_api {
    use std::path::Path;

    use rhai::{Array, Dynamic, FLOAT, Map};

    use super::cathode_options;
    use crate::data::EventSet;
    use crate::methods::cathode::{Cathode, cathode as run_cathode, plot_scores};
    use crate::script::flow_systematics;
    use crate::script::salad::estimate_map;
    use crate::script::state::session_state;
    use crate::script::values::{Out, save_json, significance_map};

    /// CATHODE (Hallin et al. 2022): `cathode(events, #{ signal_region: [3300.0, 3700.0], ... })`.
    /// A conditional normalising flow learns the background density p(x | m) on the
    /// sidebands (the rest of `range`) and is sampled in the signal region at the data's
    /// masses (`oversampling` samples per event, from its last `average` epochs). A classifier
    /// of the signal-region data against those samples, k-folded (`folds`) so that every
    /// event and sample is scored by a member that did not train on it, is the anomaly score.
    /// For each data efficiency of `efficiencies` the highest-scoring events are counted
    /// against the samples passing the same cut. The prediction carries a systematic measured
    /// on the data, per cut: the closure of the whole procedure in two validation windows
    /// beside the signal region (a flow trained outside them, sampled in them, and a
    /// classifier of their own), in quadrature with the spread of `sideband_flows`
    /// independently seeded flows' predictions. Without both no p-value is given. Ctrl-C
    /// stops it.
    #[rhai_fn(return_raw)]
    pub fn cathode(ctx: NativeCallContext, events: EventSet, opts: Map) -> Out<Cathode> {
        let mut options = cathode_options().parse_in(&ctx, opts)?;
        options.device = session_state(&ctx)?.device();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(run_cathode(&events, &options, Some(&interrupt))?)
    }

    /// The summary table: per data efficiency observed, predicted ± stat ± syst,
    /// predicted/observed efficiency and Z; the validation windows' closure and the flows'
    /// spread behind the systematic; the most significant test.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn cathode_to_string(c: &mut Cathode) -> String {
        c.to_string()
    }

    /// The tests, one map per data efficiency: `efficiency`, `threshold` (on the score),
    /// `observed`, `predicted`, `predicted_error` (statistical), `systematic_error` (the
    /// background model's, in events; NaN where unmeasured), `ratio`, `ratio_error`,
    /// `reference_events` (effective samples passing), `p_value`, `significance`,
    /// `untested` (why there is no p-value, or ()).
    #[rhai_fn(get = "estimates", pure)]
    pub fn estimates(c: &mut Cathode) -> Array {
        c.estimates.iter().map(estimate_map).collect()
    }

    /// The background model's systematic at data efficiency `eff` (one of `efficiencies`):
    /// `#{ closure, spread, relative, events, statistical }`. NaN where unmeasured.
    #[rhai_fn(pure, return_raw)]
    pub fn systematic_errors(c: &mut Cathode, eff: FLOAT) -> Out<Map> {
        flow_systematics::systematic_errors(&c.systematics, &c.estimates, eff)
    }

    /// The whole procedure's closure test in the validation windows (test (a) of
    /// `closure_tests`), one estimate map per data efficiency. Empty without windows.
    #[rhai_fn(get = "validation", pure)]
    pub fn validation(c: &mut Cathode) -> Array {
        flow_systematics::validation(&c.systematics)
    }

    /// Every closure test in the validation windows, lettered as the summary shows them:
    /// `#{ name, estimates }`, the estimates one map per data efficiency. The systematic's
    /// closure is the largest non-closure among them. Empty without windows.
    #[rhai_fn(get = "closure_tests", pure)]
    pub fn closure_tests(c: &mut Cathode) -> Array {
        flow_systematics::closure_tests(&c.systematics)
    }

    /// The validation windows, `#{ lower: [lo, hi], upper: [lo, hi] }`, or ().
    #[rhai_fn(get = "validation_windows", pure)]
    pub fn validation_windows(c: &mut Cathode) -> Dynamic {
        flow_systematics::validation_windows(&c.systematics)
    }

    /// Why the estimates carry no systematic (and so no p-value), or ().
    #[rhai_fn(get = "systematic_missing", pure)]
    pub fn systematic_missing(c: &mut Cathode) -> Dynamic {
        flow_systematics::systematic_missing(&c.systematics)
    }

    /// The events per part: `#{ sidebands, signal_region }`.
    #[rhai_fn(get = "counts", pure)]
    pub fn counts(c: &mut Cathode) -> Map {
        flow_systematics::counts(c.counts)
    }

    /// The out-of-sample AUC of the classifier separating the signal-region data from the
    /// flow's samples: 0.5 where the samples model the background and there is no signal;
    /// on a background-only sample, how far the flow mis-models it.
    #[rhai_fn(get = "data_vs_samples_auc", pure)]
    pub fn data_vs_samples_auc(c: &mut Cathode) -> FLOAT {
        c.data_vs_samples_auc
    }

    /// The most significant test and Šidák's correction over the efficiencies, as a map:
    /// `efficiency`, `local_p`, `local_z`, `trials`, `global_p`, `global_z`. Unit if none.
    #[rhai_fn(get = "global", pure)]
    pub fn global(c: &mut Cathode) -> Dynamic {
        significance_map(c.global())
    }

    /// The signal-region events with the highest scores, a fraction `eff` of them.
    #[rhai_fn(pure, return_raw)]
    pub fn selected(c: &mut Cathode, eff: FLOAT) -> Out<EventSet> {
        Ok(c.selected(eff)?)
    }

    /// The signal-region events with the classifier's score as a `score` column, e.g. for a
    /// ROC curve against their truth labels.
    #[rhai_fn(pure, return_raw)]
    pub fn scored(c: &mut Cathode) -> Out<EventSet> {
        Ok(c.scored()?)
    }

    /// Plots the classifier's scores of the signal-region data and of the samples (scaled
    /// to the data), with their ratio, to `path` (.png or .svg).
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot(c: &mut Cathode, path: &str) -> Out<()> {
        Ok(plot_scores(c, Path::new(path))?)
    }

    /// Writes the result (counts, losses, tests, systematic, global statement) as JSON,
    /// atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save(c: &mut Cathode, path: &str) -> Out<()> {
        save_json(&c.to_json(), path)
    }
}
