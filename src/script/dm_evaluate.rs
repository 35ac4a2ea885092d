//! The Dark Machines evaluation's built-ins (part of the `anomaly` domain):
//! `dm_evaluate(scores, #{...})`, `dm_box_plot(#{ method: evaluation }, path)` and the methods
//! of its result.

use rhai::Map;
use rhai::plugin::*;

use crate::error::Error;
use crate::script::declared::{Declared, Opt};
use crate::script::domain::OptionTable;
use crate::script::options::floats;
use crate::script::values::Out;
use crate::stats::dark_machines::{ChannelScores, DmEvaluation, DmOptions};

/// The channel name given to a one-channel map `#{ sample: scores }`.
const SINGLE_CHANNEL: &str = "channel";

/// The module of the evaluation's functions and its result type.
pub fn module() -> Module {
    let mut module = exported_module!(dm_api);
    module.set_custom_type_with_comments::<DmEvaluation>(
        "DmEvaluation",
        &["/// A Dark Machines evaluation: AUC, eps_S at fixed eps_B and the significance improvement per signal and channel, the best channel per signal and the total improvement (min/median/max)."],
    );
    module
}

/// The declared options of this module's built-ins, for the `anomaly` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![Box::new(dm_options())]
}

/// The declared options of `dm_evaluate`.
fn dm_options() -> Declared<DmOptions> {
    Declared::new(
        "dm_evaluate",
        DmOptions::default,
        vec![
            Opt::field(
                "background",
                "the background sample's name in every channel",
                |o: &mut DmOptions| &mut o.background,
            ),
            Opt::field("eps_b", "the background efficiencies of the cuts", |o| {
                &mut o.eps_b
            }),
        ],
    )
}

/// The scores of one channel's samples.
fn channel_scores(channel: &str, samples: &Map) -> Out<ChannelScores> {
    samples
        .iter()
        .map(|(name, v)| -> Out<(String, Vec<f64>)> {
            let what = format!("channel '{channel}', sample '{name}'");
            let array = v.clone().into_array().map_err(|t| {
                Error::invalid(&what, format!("must be an array of scores, not {t}"))
            })?;
            Ok((name.to_string(), floats(&what, &array)?))
        })
        .collect()
}

/// The channels of `dm_evaluate`'s first argument: a map channel → (sample → scores), or a
/// single channel's map sample → scores.
fn channels(scores: &Map) -> Out<Vec<(String, ChannelScores)>> {
    if scores.values().all(|v| v.is_array()) {
        return Ok(vec![(
            SINGLE_CHANNEL.to_string(),
            channel_scores(SINGLE_CHANNEL, scores)?,
        )]);
    }
    scores
        .iter()
        .map(|(channel, v)| -> Out<(String, ChannelScores)> {
            let samples = v.clone().try_cast::<Map>().ok_or_else(|| {
                Error::invalid(
                    format!("channel '{channel}'"),
                    format!(
                        "must be a map of sample name to scores, not {}; give #{{ channel: #{{ background: [...], signal: [...] }} }} or one channel's #{{ background: [...], signal: [...] }}",
                        v.type_name()
                    ),
                )
            })?;
            Ok((channel.to_string(), channel_scores(channel, &samples)?))
        })
        .collect()
}

#[export_module]
mod dm_api {
    use std::path::Path;

    use rhai::{Array, Dynamic, FLOAT, INT, Map};

    use super::{channels, dm_options};
    use crate::error::Error;
    use crate::plot::plot_dm_boxes;
    use crate::script::values::{Out, array, save_json};
    use crate::stats::dark_machines::{DmEvaluation, DmOptions, dm_evaluate as evaluate};
    use crate::stats::metrics::Spread;

    /// The Dark Machines evaluation of anomaly scores (Ostdiek 2021 and Caron et al. 2021):
    /// `dm_evaluate(#{ ch1: #{ background: [...], sig_a: [...] }, ch2a: #{ ... } }, #{})`, or
    /// one channel's `#{ background: [...], sig_a: [...] }`. Higher scores are more
    /// anomalous. Per signal and channel: the AUC, eps_S at each background efficiency and
    /// the significance improvement SI = max eps_S/sqrt(eps_B); per signal its best
    /// channel's SI; the total improvement: min, median, max of those over the signals.
    #[rhai_fn(return_raw)]
    pub fn dm_evaluate(ctx: NativeCallContext, scores: Map, opts: Map) -> Out<DmEvaluation> {
        let options = dm_options().parse_in(&ctx, opts)?;
        Ok(evaluate(&channels(&scores)?, &options)?)
    }

    /// [`dm_evaluate`] with the default options.
    #[rhai_fn(name = "dm_evaluate", return_raw)]
    pub fn dm_evaluate_default(scores: Map) -> Out<DmEvaluation> {
        Ok(evaluate(&channels(&scores)?, &DmOptions::default())?)
    }

    /// The table: one row per signal and channel, the best channel per signal, the total
    /// improvement.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn dm_to_string(e: &mut DmEvaluation) -> String {
        e.to_string()
    }

    /// One map per signal and channel: `signal`, `channel`, `auc`, `eps_s` (an array, one per
    /// eps_B), `si`, `n_signal`, `n_background`.
    #[rhai_fn(get = "rows", pure)]
    pub fn rows(e: &mut DmEvaluation) -> Array {
        e.rows
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("signal".into(), r.signal.clone().into());
                m.insert("channel".into(), r.channel.clone().into());
                m.insert("auc".into(), r.auc.into());
                m.insert("eps_s".into(), Dynamic::from_array(array(&r.eps_s)));
                m.insert("si".into(), r.si.into());
                m.insert("n_signal".into(), (r.n_signal as INT).into());
                m.insert("n_background".into(), (r.n_background as INT).into());
                Dynamic::from_map(m)
            })
            .collect()
    }

    /// The total improvement: `#{ min, median, max }` of the per-signal SIs.
    #[rhai_fn(get = "total", pure)]
    pub fn total(e: &mut DmEvaluation) -> Map {
        let Spread { min, median, max } = e.total;
        let mut m = Map::new();
        m.insert("min".into(), min.into());
        m.insert("median".into(), median.into());
        m.insert("max".into(), max.into());
        m
    }

    /// The best channel of every signal: a map signal → `#{ channel, si }`.
    #[rhai_fn(get = "per_signal", pure)]
    pub fn per_signal(e: &mut DmEvaluation) -> Map {
        e.per_signal
            .iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("channel".into(), s.channel.clone().into());
                m.insert("si".into(), (s.si as FLOAT).into());
                (s.signal.as_str().into(), Dynamic::from_map(m))
            })
            .collect()
    }

    /// The background efficiencies of the cuts.
    #[rhai_fn(get = "eps_b", pure)]
    pub fn eps_b(e: &mut DmEvaluation) -> Array {
        array(&e.eps_b)
    }

    /// Writes the evaluation as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save(e: &mut DmEvaluation, path: &str) -> Out<()> {
        save_json(&e.to_json(), path)
    }

    /// A box plot of the per-signal SIs (25–75 % box, median line, whiskers to min and max,
    /// a point per signal) to `path` (.png or .svg); log axis when all are positive.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot(e: &mut DmEvaluation, path: &str) -> Out<()> {
        Ok(plot_dm_boxes(Path::new(path), &[("scores", &*e)], "")?)
    }

    /// Box plots of several evaluations side by side, as the papers compare methods:
    /// `dm_box_plot(#{ "method A": eval_a, "method B": eval_b }, "ti.png")` (one box per
    /// method, in key order).
    #[rhai_fn(return_raw)]
    pub fn dm_box_plot(evaluations: Map, path: &str) -> Out<()> {
        let mut list: Vec<(String, DmEvaluation)> = Vec::with_capacity(evaluations.len());
        for (name, v) in evaluations {
            let type_name = v.type_name();
            let e = v.try_cast::<DmEvaluation>().ok_or_else(|| {
                Error::invalid(
                    format!("dm_box_plot entry '{name}'"),
                    format!("must be a DmEvaluation (from dm_evaluate), not {type_name}"),
                )
            })?;
            list.push((name.to_string(), e));
        }
        let refs: Vec<(&str, &DmEvaluation)> = list.iter().map(|(n, e)| (n.as_str(), e)).collect();
        Ok(plot_dm_boxes(Path::new(path), &refs, "")?)
    }
}
