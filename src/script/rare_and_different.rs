//! *Rare and Different*'s built-ins (part of the `anomaly` domain):
//! `rare_and_different(train, test, #{...})` and the methods of its result.

use rhai::Map;
use rhai::plugin::*;

use crate::error::Error;
use crate::methods::rare_and_different::{RareAndDifferent, RareAndDifferentOptions};
use crate::nn::flow::FlowConfig;
use crate::nn::train::TrainOptions;
use crate::script::options::array_option;
use crate::script::options::{Options, floats};
use crate::script::state::session_state;
use crate::script::values::Out;
use crate::stats::metrics::Combination;

/// The keys `rare_and_different` accepts.
const KEYS: [&str; 13] = [
    "dims",
    "targets",
    "grid",
    "hidden",
    "epochs",
    "flow_epochs",
    "batch_size",
    "lr",
    "svdd_combination",
    "flow_layers",
    "flow_hidden",
    "knots",
    "seed",
];

/// The module of the workflow's functions and its result type.
pub fn module() -> Module {
    let mut module = exported_module!(rnd_api);
    module.set_custom_type_with_comments::<RareAndDifferent>(
        "RareAndDifferent",
        &["/// The result of rare and different: Deep SVDD members, their ensemble, the flow and the AND/OR/PROD/AVG combinations, all uniformised on the training set, with their correlations."],
    );
    module
}

/// Whole numbers >= 1 from the array option `key`.
fn counts(key: &str, opts: &mut Map) -> Out<Option<Vec<usize>>> {
    let Some(a) = array_option("rare_and_different", key, opts.remove(key))? else {
        return Ok(None);
    };
    let what = format!("option '{key}' of rare_and_different");
    floats(&what, &a)?
        .into_iter()
        .map(|v| {
            if v >= 1.0 && v.fract() == 0.0 {
                Ok(v as usize)
            } else {
                Err(Error::invalid(&what, format!("{v} is not a whole number >= 1")).into())
            }
        })
        .collect::<Out<Vec<usize>>>()
        .map(Some)
}

/// `rare_and_different`'s options from a Rhai map.
fn options(ctx: &NativeCallContext, mut opts: Map) -> Out<RareAndDifferentOptions> {
    let d = RareAndDifferentOptions::default();
    let dims = counts("dims", &mut opts)?;
    let hidden = counts("hidden", &mut opts)?;
    let targets = match array_option("rare_and_different", "targets", opts.remove("targets"))? {
        Some(a) => Some(floats("option 'targets' of rare_and_different", &a)?),
        None => None,
    };
    let o = Options::new("rare_and_different", opts, &KEYS)?;
    let d = match o.string("grid", "default")?.as_str() {
        "default" => d,
        "full" => d.full_grid(),
        other => {
            return Err(Error::invalid(
                "option 'grid' of rare_and_different",
                format!("'{other}' is not a grid; allowed: \"default\" (3 x 3), \"full\" (the paper's 9 x 7)"),
            )
            .into());
        }
    };
    let seed = o.seed_or_session(ctx)?;
    let epochs = o.count("epochs", d.svdd_training.epochs)?;
    let batch_size = o.count("batch_size", d.svdd_training.batch_size)?;
    let lr = o.float("lr", d.svdd_training.lr)?;
    let training = |t: &TrainOptions, epochs: usize| TrainOptions {
        epochs,
        batch_size,
        lr,
        ..t.clone()
    };
    Ok(RareAndDifferentOptions {
        dims: dims.unwrap_or(d.dims),
        targets: targets.unwrap_or(d.targets),
        hidden: hidden.unwrap_or(d.hidden),
        svdd_training: training(&d.svdd_training, epochs),
        flow_training: training(&d.flow_training, o.count("flow_epochs", epochs)?),
        svdd_combination: Combination::parse(&o.string("svdd_combination", "avg")?)?,
        flow: FlowConfig {
            layers: o.count("flow_layers", d.flow.layers)?,
            hidden: o.count("flow_hidden", d.flow.hidden)?,
            knots: o.count("knots", d.flow.knots)?,
            ..d.flow
        },
        device: session_state(ctx)?.device(),
        seed,
    })
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
    /// with "flow" by AND/OR/PROD/AVG. Options: `dims` ([5, 34, 233]), `targets` ([0, 1, 10]),
    /// `grid` ("default"; "full" = the paper's 9 x 7 = 63 networks, d in 5..233, n in 0..25),
    /// `hidden` ([512, 256, 128]), `epochs` (20, early stopping, lr halved after 5 flat
    /// epochs), `flow_epochs` (= epochs), `batch_size` (512), `lr` (1e-3), `svdd_combination`
    /// ("avg"), `flow_layers` (4), `flow_hidden` (64), `knots` (8), `seed` (from the
    /// session). Ctrl-C stops it.
    #[rhai_fn(return_raw)]
    pub fn rare_and_different(
        ctx: NativeCallContext,
        train: EventSet,
        test: EventSet,
        opts: Map,
    ) -> Out<RareAndDifferent> {
        let o = options(&ctx, opts)?;
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
