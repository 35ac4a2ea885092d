//! The benchmark frame's references (part of the `methods` domain):
//! `supervised_reference(events, #{...})`, `idealized_reference(data, background, #{...})`
//! and the methods of their result.

use rhai::Map;
use rhai::plugin::*;

use super::declared::{Declared, Opt};
use super::domain::OptionTable;
use super::search_options::window_opts;
use super::state::session_state;
use super::values::Out;
use crate::data::EventSet;
use crate::methods::references::{self, Reference, ReferenceOptions};

/// The module of the references' functions and their result type.
pub fn module() -> Module {
    let mut module = exported_module!(references_api);
    module.set_custom_type_with_comments::<crate::methods::references::Reference>(
        "Reference",
        &["/// A supervised or idealized reference classifier: out-of-sample scores of the signal-region events and their ROC against the truth labels."],
    );
    module
}

/// The declared options of this module's built-ins, for the `methods` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![
        Box::new(reference_options("supervised_reference")),
        Box::new(reference_options("idealized_reference")),
    ]
}

/// The declared options of the reference built-in `function`.
pub(super) fn reference_options(function: &'static str) -> Declared<ReferenceOptions> {
    let window = window_opts(|o: &mut ReferenceOptions| &mut o.window);
    let rest = vec![
        Opt::field(
            "features",
            "the classifier's inputs",
            |o: &mut ReferenceOptions| &mut o.window.features,
        ),
        Opt::field(
            "folds",
            "folds: each event is scored by the classifier trained on the others",
            |o| &mut o.classifier.folds,
        ),
        Opt::field(
            "members_per_fold",
            "networks per fold, differently initialised; a fold's events get their mean score",
            |o| &mut o.classifier.members_per_fold,
        ),
        Opt::widths("hidden", "hidden layer widths", |o| {
            &mut o.classifier.network.hidden
        }),
        Opt::choice("activation", "hidden layers' activation", |o| {
            &mut o.classifier.network.activation
        }),
        Opt::field("epochs", "passes over the training folds", |o| {
            &mut o.classifier.training.epochs
        }),
        Opt::field("batch_size", "events per gradient step", |o| {
            &mut o.classifier.training.batch_size
        }),
        Opt::field("lr", "learning rate", |o| &mut o.classifier.training.lr),
        Opt::session_seed(|o| &mut o.classifier.seed),
    ];
    Declared::new(
        function,
        ReferenceOptions::default,
        window.into_iter().chain(rest).collect(),
    )
}

/// `supervised_reference` with the session's device and Ctrl-C.
fn supervised_with(
    ctx: &NativeCallContext,
    events: &EventSet,
    signal: Option<&EventSet>,
    opts: Map,
) -> Out<Reference> {
    let mut options = reference_options("supervised_reference").parse_in(ctx, opts)?;
    options.classifier.device = session_state(ctx)?.device();
    let state = session_state(ctx)?;
    Ok(references::supervised_reference(
        events,
        signal,
        &options,
        Some(&state.interrupt),
    )?)
}

#[export_module]
mod references_api {
    use rhai::{Array, FLOAT, Map};

    use super::{reference_options, supervised_with};
    use crate::data::EventSet;
    use crate::methods::references::{self, Reference};
    use crate::script::state::session_state;
    use crate::script::values::{Out, array, save_json};
    use crate::stats::metrics::Roc;

    /// The supervised reference of the weakly supervised benchmark frame: in the signal
    /// region of `events`, classifiers of signal against background by the events' truth
    /// labels (the label role), k-folded so that every event is scored by one that did not
    /// see it; the upper limit of any search's SIC. Ctrl-C stops it.
    #[rhai_fn(name = "supervised_reference", return_raw)]
    pub fn supervised_reference(
        ctx: NativeCallContext,
        events: EventSet,
        opts: Map,
    ) -> Out<Reference> {
        supervised_with(&ctx, &events, None, opts)
    }

    /// The supervised reference trained also on `signal`, a further sample of signal alone
    /// (not in `events`): its signal-region events join the training, spread over the folds,
    /// so that the ceiling does not hang on how few signal events `events` hold; only
    /// `events` are scored and judged.
    #[rhai_fn(name = "supervised_reference", return_raw)]
    pub fn supervised_reference_with_signal(
        ctx: NativeCallContext,
        events: EventSet,
        signal: EventSet,
        opts: Map,
    ) -> Out<Reference> {
        supervised_with(&ctx, &events, Some(&signal), opts)
    }

    /// The idealized anomaly detector of the benchmark frame: in the signal region,
    /// classifiers of `data` against `background`, an independent background-only sample
    /// (standardised as the data), k-folded as `supervised_reference`; judged by the data
    /// events' scores against their truth labels. What a search with a perfect background
    /// model (CWoLa's ideal, CATHODE's target) would reach. Ctrl-C stops it.
    #[rhai_fn(return_raw)]
    pub fn idealized_reference(
        ctx: NativeCallContext,
        data: EventSet,
        background: EventSet,
        opts: Map,
    ) -> Out<Reference> {
        let mut options = reference_options("idealized_reference").parse_in(&ctx, opts)?;
        options.classifier.device = session_state(&ctx)?.device();
        let state = session_state(&ctx)?;
        Ok(references::idealized_reference(
            &data,
            &background,
            &options,
            Some(&state.interrupt),
        )?)
    }

    /// "supervised" or "idealized".
    #[rhai_fn(get = "kind", pure)]
    pub fn kind(r: &mut Reference) -> String {
        r.kind.name().into()
    }

    /// The ROC curve of the evaluated events' scores against their truth labels.
    #[rhai_fn(get = "roc", pure)]
    pub fn roc(r: &mut Reference) -> Roc {
        r.roc.clone()
    }

    /// The area under the ROC curve.
    #[rhai_fn(get = "auc", pure)]
    pub fn auc(r: &mut Reference) -> FLOAT {
        r.auc
    }

    /// The largest regulated SIC, eps_S / sqrt(eps_B + 1e-4).
    #[rhai_fn(get = "max_sic", pure)]
    pub fn max_sic(r: &mut Reference) -> FLOAT {
        r.max_sic
    }

    /// The regulated SIC at signal efficiency `eps_s` (e.g. 0.3), eps_B interpolated along
    /// the ROC curve.
    #[rhai_fn(pure, return_raw)]
    pub fn sic_at(r: &mut Reference, eps_s: FLOAT) -> Out<FLOAT> {
        Ok(r.sic_at(eps_s)?)
    }

    /// The evaluated signal-region events' out-of-sample scores.
    #[rhai_fn(get = "scores", pure)]
    pub fn scores(r: &mut Reference) -> Array {
        array(&r.scores)
    }

    /// The evaluated events' truth labels, in the order of `scores`.
    #[rhai_fn(get = "labels", pure)]
    pub fn labels(r: &mut Reference) -> Array {
        array(&r.labels)
    }

    /// The summary: what was trained on, what was evaluated, AUC and SIC.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn reference_to_string(r: &mut Reference) -> String {
        r.to_string()
    }

    /// Writes the reference's summary to `path` as JSON (atomically).
    #[rhai_fn(pure, return_raw)]
    pub fn save(r: &mut Reference, path: &str) -> Out<()> {
        save_json(&r.to_json(), path)
    }
}
