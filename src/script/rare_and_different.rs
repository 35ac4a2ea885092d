//! *Rare and Different*'s built-ins (part of the `anomaly` domain):
//! `rare_and_different(train, test, #{...})` and the methods of its result.

use rhai::plugin::*;

use crate::methods::rare_and_different::{RareAndDifferent, RareAndDifferentOptions};
use crate::script::declared::{Declared, Opt};
use crate::script::domain::OptionTable;
use crate::script::options::Options;
use crate::stats::metrics::Combination;

/// The module of the workflow's functions and its result type.
pub fn module() -> Module {
    let mut module = exported_module!(rnd_api);
    module.set_custom_type_with_comments::<RareAndDifferent>(
        "RareAndDifferent",
        &["/// The result of rare and different: Deep SVDD members, their ensemble, the flow and the AND/OR/PROD/AVG combinations, all uniformised on the training set, with their correlations."],
    );
    module
}

/// The declared options of this module's built-ins, for the `anomaly` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![Box::new(options())]
}

/// Whole numbers >= 1 from the array option `key`.
fn whole_numbers(o: &Options, key: &str) -> crate::Result<Vec<usize>> {
    o.numbers(key)?
        .into_iter()
        .map(|v| {
            if v >= 1.0 && v.fract() == 0.0 {
                Ok(v as usize)
            } else {
                Err(o.invalid(key, format!("{v} is not a whole number >= 1")))
            }
        })
        .collect()
}

/// The option `key`, whole numbers >= 1, held where `access` reaches.
fn whole_numbers_opt(
    key: &'static str,
    doc: &'static str,
    access: fn(&mut RareAndDifferentOptions) -> &mut Vec<usize>,
) -> Opt<RareAndDifferentOptions> {
    Opt::custom(
        key,
        "whole numbers >= 1",
        doc,
        move |o: &RareAndDifferentOptions| {
            access(&mut o.clone())
                .iter()
                .map(|&n| Dynamic::from_int(n as rhai::INT))
                .collect::<rhai::Array>()
                .into()
        },
        move |o, opts| {
            *access(o) = whole_numbers(opts, key)?;
            Ok(())
        },
    )
}

/// The declared options of `rare_and_different`.
fn options() -> Declared<RareAndDifferentOptions> {
    Declared::new(
        "rare_and_different",
        RareAndDifferentOptions::default,
        vec![
            Opt::custom(
                "grid",
                "\"default\" or \"full\"",
                "the Deep SVDD members' (d, n) grid: \"default\" 3 x 3, \"full\" the paper's 9 x 7 = 63 networks, d in 5..233, n in 0..25; `dims` and `targets` replace it",
                |_: &RareAndDifferentOptions| "default".into(),
                |o, opts| {
                    match opts.string("grid", "")?.as_str() {
                        "default" => {}
                        "full" => *o = o.clone().full_grid(),
                        other => {
                            return Err(opts.invalid(
                                "grid",
                                format!("'{other}' is not a grid; allowed: \"default\" (3 x 3), \"full\" (the paper's 9 x 7)"),
                            ));
                        }
                    }
                    Ok(())
                },
            ),
            whole_numbers_opt(
                "dims",
                "output dimensions d of the Deep SVDD members",
                |o| &mut o.dims,
            ),
            Opt::field(
                "targets",
                "target values n: a member per (d, n), its score the distance to (n, ..., n)",
                |o: &mut RareAndDifferentOptions| &mut o.targets,
            ),
            whole_numbers_opt("hidden", "hidden widths of every member", |o| &mut o.hidden),
            Opt::custom(
                "epochs",
                "count",
                "most passes of every member (early stopping, the learning rate halved after 5 flat epochs) and of the flow",
                |o: &RareAndDifferentOptions| {
                    Dynamic::from_int(o.svdd_training.epochs as rhai::INT)
                },
                |o, opts| {
                    let epochs = opts.count("epochs", 0)?;
                    o.svdd_training.epochs = epochs;
                    o.flow_training.epochs = epochs;
                    Ok(())
                },
            ),
            Opt::custom(
                "flow_epochs",
                "count",
                "most passes of the flow; `epochs` when absent",
                |_: &RareAndDifferentOptions| Dynamic::UNIT,
                |o, opts| {
                    o.flow_training.epochs = opts.count("flow_epochs", 0)?;
                    Ok(())
                },
            ),
            Opt::custom(
                "batch_size",
                "count",
                "events per gradient step, of the members and the flow",
                |o: &RareAndDifferentOptions| {
                    Dynamic::from_int(o.svdd_training.batch_size as rhai::INT)
                },
                |o, opts| {
                    let batch_size = opts.count("batch_size", 0)?;
                    o.svdd_training.batch_size = batch_size;
                    o.flow_training.batch_size = batch_size;
                    Ok(())
                },
            ),
            Opt::custom(
                "lr",
                "number",
                "learning rate, of the members and the flow",
                |o: &RareAndDifferentOptions| Dynamic::from_float(o.svdd_training.lr),
                |o, opts| {
                    let lr = opts.float("lr", 0.0)?;
                    o.svdd_training.lr = lr;
                    o.flow_training.lr = lr;
                    Ok(())
                },
            ),
            Opt::custom(
                "svdd_combination",
                &format!("one of {}", Combination::ALL.map(|c| c.name()).join(", ")),
                "how the members' scores make the ensemble score \"svdd\"",
                |o: &RareAndDifferentOptions| o.svdd_combination.name().into(),
                |o, opts| {
                    o.svdd_combination = opts.choice("svdd_combination", Combination::parse)?;
                    Ok(())
                },
            ),
            Opt::field(
                "flow_layers",
                "autoregressive transforms of the flow",
                |o| &mut o.flow.layers,
            ),
            Opt::field(
                "flow_hidden",
                "units in each masked hidden layer of the flow's transforms",
                |o| &mut o.flow.hidden,
            ),
            Opt::field("knots", "spline bins per dimension of the flow", |o| {
                &mut o.flow.knots
            }),
            Opt::session_seed(|o| &mut o.seed),
        ],
    )
}

#[export_module]
mod rnd_api {
    use std::path::Path;

    use rhai::{Array, Dynamic, FLOAT, INT, Map};

    use super::options;
    use crate::data::EventSet;
    use crate::methods::rare_and_different::{RareAndDifferent, rare_and_different as run};
    use crate::methods::rare_and_different_report::plot_correlations as draw_correlations;
    use crate::script::state::session_state;
    use crate::script::values::{Out, array, save_json};

    /// Rare and different (Caron et al. 2021): `rare_and_different(train, test, #{ ... })` on
    /// object-level events (e.g. `darkmachines_toy`). Trains on `train` (background) an
    /// ensemble of Deep SVDD networks, one per output dimension d and target n (distance to
    /// (n, ..., n) = "different"), and a rational-quadratic-spline autoregressive flow on the
    /// dequantised event encoding (anomaly score 1 - s, s of eq. 7 = "rare"); scores `test`;
    /// uniformises every score on the training set; combines the members into "svdd" and that
    /// with "flow" by AND/OR/PROD/AVG. Ctrl-C stops it.
    #[rhai_fn(return_raw)]
    pub fn rare_and_different(
        ctx: NativeCallContext,
        train: EventSet,
        test: EventSet,
        opts: Map,
    ) -> Out<RareAndDifferent> {
        let mut o = options().parse_in(&ctx, opts)?;
        o.device = session_state(&ctx)?.device();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(run(&train, &test, &o, Some(&interrupt))?)
    }

    /// The summary: members, training, correlations.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn rnd_to_string(r: &mut RareAndDifferent) -> String {
        r.to_string()
    }

    /// The test scores called `name` (uniformised on the training set; higher = more
    /// anomalous): "svdd", "flow", "and", "or", "prod", "avg" or a member, e.g. "svdd_d5_n0".
    #[rhai_fn(pure, return_raw)]
    pub fn score(r: &mut RareAndDifferent, name: &str) -> Out<Array> {
        Ok(array(r.score(name)?))
    }

    /// The names of all scores: the members, then svdd, flow, and, or, prod, avg.
    #[rhai_fn(get = "score_names", pure)]
    pub fn score_names(r: &mut RareAndDifferent) -> Array {
        r.scores.iter().map(|(n, _)| n.clone().into()).collect()
    }

    /// The test events with a column `score_<name>` per score.
    #[rhai_fn(pure, return_raw)]
    pub fn scored(r: &mut RareAndDifferent) -> Out<EventSet> {
        Ok(r.scored()?)
    }

    /// The members, one map each: `name`, `dim`, `target`, `epochs`, `val_loss`.
    #[rhai_fn(get = "members", pure)]
    pub fn members(r: &mut RareAndDifferent) -> Array {
        r.members
            .iter()
            .map(|m| {
                let mut map = Map::new();
                map.insert("name".into(), m.name.clone().into());
                map.insert("dim".into(), (m.dim as INT).into());
                map.insert("target".into(), (m.target as FLOAT).into());
                map.insert("epochs".into(), (m.epochs as INT).into());
                map.insert("val_loss".into(), m.val_loss.into());
                Dynamic::from_map(map)
            })
            .collect()
    }

    /// The members' Pearson correlation matrix (array of rows, uniformised test scores).
    #[rhai_fn(get = "member_correlations", pure)]
    pub fn member_correlations(r: &mut RareAndDifferent) -> Array {
        r.member_correlations
            .iter()
            .map(|row| Dynamic::from_array(array(row)))
            .collect()
    }

    /// The Pearson correlation of the ensemble and the flow scores.
    #[rhai_fn(get = "ensemble_flow_correlation", pure)]
    pub fn ensemble_flow_correlation(r: &mut RareAndDifferent) -> FLOAT {
        r.ensemble_flow_correlation
    }

    /// Wall-clock seconds: `#{ svdd, flow, total }`.
    #[rhai_fn(get = "seconds", pure)]
    pub fn seconds(r: &mut RareAndDifferent) -> Map {
        let mut m = Map::new();
        for (k, v) in ["svdd", "flow", "total"].iter().zip(r.seconds) {
            m.insert((*k).into(), v.into());
        }
        m
    }

    /// The members' correlation matrix as a heat map to `path` (.png or .svg).
    #[rhai_fn(pure, return_raw)]
    pub fn plot_correlations(r: &mut RareAndDifferent, path: &str) -> Out<()> {
        Ok(draw_correlations(r, Path::new(path))?)
    }

    /// Writes the result (members, training, correlations; not the scores) as JSON.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save(r: &mut RareAndDifferent, path: &str) -> Out<()> {
        save_json(&r.to_json(), path)
    }
}
