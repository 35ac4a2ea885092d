//! The declared options of a CWoLa hunt, shared by `cwola_hunt`, `sa_cwola` and the
//! signal-injection scan's CWoLa.

use super::declared::{Declared, Opt};
use crate::methods::cwola::{CwolaOptions, RESCALED_BY_DEFAULT};

/// The declared options of a CWoLa hunt, for the built-in `function`.
pub(super) fn cwola_options(function: &'static str) -> Declared<CwolaOptions> {
    Declared::new(
        function,
        CwolaOptions::default,
        vec![
            Opt::field(
                "mass",
                "the resonant mass column",
                |o: &mut CwolaOptions| &mut o.mass,
            ),
            Opt::custom(
                "features",
                "strings",
                "the classifiers' inputs",
                |o: &CwolaOptions| o.features.clone().into(),
                |o, opts| {
                    o.features = opts.strings("features")?;
                    o.network.inputs = o.features.len();
                    o.rescale = RESCALED_BY_DEFAULT
                        .iter()
                        .map(|f| f.to_string())
                        .filter(|f| o.features.contains(f))
                        .collect();
                    Ok(())
                },
            ),
            Opt::field(
                "rescale",
                "features divided by the mass as `rescaling` says; when absent, mj1, mj2 and dmj among the features",
                |o| &mut o.rescale,
            ),
            Opt::choice(
                "rescaling",
                "\"ratio\": m/mjj, whose background does not depend on mjj when jet masses scale with it; \"eq4.2\": LHC Olympics 2020's (m - 30)/mjj + 0.01, which leaves dmj dependent on mjj (docs/cwola.md)",
                |o| &mut o.rescaling,
            ),
            Opt::field(
                "bins",
                "mass bin edges, e.g. log_bins(2632.0, 6000.0, 16)",
                |o| &mut o.edges,
            ),
            Opt::field("sr_bins", "bins per signal region", |o| &mut o.sr_bins),
            Opt::field("sb_bins", "bins per sideband, each side", |o| {
                &mut o.sb_bins
            }),
            Opt::field(
                "folds",
                "outer folds; each ensemble has folds - 1 members",
                |o| &mut o.folds,
            ),
            Opt::field("inits", "networks trained per member, the best kept", |o| {
                &mut o.inits
            }),
            Opt::field(
                "eps_cut",
                "sideband efficiency at which a member's networks are compared",
                |o| &mut o.eps_cut,
            ),
            Opt::field("efficiencies", "selection efficiencies tested", |o| {
                &mut o.efficiencies
            }),
            Opt::field(
                "regions",
                "indices of the signal regions to scan; all when absent",
                |o| &mut o.regions,
            ),
            Opt::choices(
                "fit_functions",
                "the nested dijet family fitted outside the signal region, chosen by Wilks' test",
                |o| &mut o.window_significance.family.functions,
            ),
            Opt::field(
                "min_fit_pvalue",
                "a test whose fit's χ² p-value is below this is marked \"!\" and not ranked",
                |o| &mut o.window_significance.min_fit_pvalue,
            ),
            Opt::widths("hidden", "hidden layer widths", |o| &mut o.network.hidden),
            Opt::choice("activation", "hidden layers' activation", |o| {
                &mut o.network.activation
            }),
            Opt::field(
                "dropout",
                "dropout probability after each hidden layer",
                |o| &mut o.network.dropout,
            ),
            Opt::field("epochs", "passes over the training data", |o| {
                &mut o.training.epochs
            }),
            Opt::field("batch_size", "events per gradient step", |o| {
                &mut o.training.batch_size
            }),
            Opt::field("lr", "learning rate", |o| &mut o.training.lr),
            Opt::choice("optimizer", "the optimizer", |o| &mut o.training.optimizer),
            Opt::field(
                "patience",
                "epochs without a better validation loss before training stops",
                |o| &mut o.training.patience,
            ),
            Opt::field(
                "ensembles_at_once",
                "region × fold ensembles trained together; when absent all on a GPU, one at a time on the CPU (results do not depend on it)",
                |o| &mut o.ensembles_at_once,
            ),
            Opt::session_seed(|o| &mut o.seed),
        ],
    )
}
