//! The `events` domain: the EventSet type and its operations, CSV/Parquet files, scalers
//! and bin edges.

use rhai::plugin::*;

use super::domain::Domain;
use super::values::count;

/// The `events` domain.
pub const DOMAIN: Domain = Domain {
    name: "events",
    about: "event sets: selections, splits, folds, columns, files, scalers, bins; lazy event sets of Parquet files larger than memory",
    options: Vec::new,
    module: || {
        let mut module = exported_module!(events_api);
        module.set_custom_type_with_comments::<crate::data::EventSet>(
            "EventSet",
            &["/// A set of events: named numeric columns plus the roles label, weight and mass."],
        );
        module.set_custom_type_with_comments::<crate::data::describe::Description>(
            "Summary",
            &["/// Per-column summary statistics (from `events.describe()`)."],
        );
        module.set_custom_type_with_comments::<crate::data::scaler::Scaler>(
            "Scaler",
            &["/// A scaler fitted on one event set, applicable to others."],
        );
        module.combine_flatten(super::lazy_events::module());
        module
    },
};

/// What a built-in returns: a value or a Rhai error.
type Out<T> = Result<T, Box<EvalAltResult>>;

/// A number of bins whose edges fit in a script array.
fn bins_for_a_script(n: rhai::INT) -> Out<usize> {
    let n = count("number of bins", n)?;
    let limit = super::limits::MAX_ARRAY_LEN;
    if n >= limit {
        return Err(crate::Error::invalid(
            "number of bins",
            format!(
                "{n} bins need {} edges, more than a script array holds ({limit})",
                n + 1
            ),
        )
        .into());
    }
    Ok(n)
}

fn fit(
    kind: crate::data::scaler::ScalerKind,
    events: &crate::data::EventSet,
    columns: &rhai::Array,
) -> Out<crate::data::scaler::Scaler> {
    let names = super::options::strings("column names", columns)?;
    Ok(crate::data::scaler::Scaler::fit(kind, events, &names)?)
}

#[export_module]
mod events_api {
    use std::path::Path;

    use rhai::{Array, Dynamic, FLOAT, INT, Map};

    use crate::data::binning;
    use crate::data::describe::{Description, describe as describe_events};
    use crate::data::io;
    use crate::data::scaler::{Scaler, ScalerKind};
    use crate::data::{EventSet, Role};
    use crate::error::Error;
    use crate::script::options::{floats, strings};
    use crate::script::state::session_state;

    use super::{Out, count};

    /// The number of events.
    #[rhai_fn(pure)]
    pub fn len(events: &mut EventSet) -> INT {
        events.len() as INT
    }

    /// The column names, in order.
    #[rhai_fn(pure)]
    pub fn columns(events: &mut EventSet) -> Array {
        events.columns().into_iter().map(Dynamic::from).collect()
    }

    /// The values of column `name` as an array of floats.
    #[rhai_fn(pure, return_raw)]
    pub fn col(events: &mut EventSet, name: &str) -> Out<Array> {
        Ok(events
            .column(name)?
            .into_iter()
            .map(Dynamic::from_float)
            .collect())
    }

    /// The first `n` events; printed, they show as a table.
    #[rhai_fn(pure, return_raw)]
    pub fn head(events: &mut EventSet, n: INT) -> Out<EventSet> {
        Ok(events.head(count("head", n)?))
    }

    /// Count, mean, standard deviation, minimum, quartiles and maximum of every numeric
    /// column. `summary.get("mjj", "median")` reads one number.
    #[rhai_fn(pure, return_raw)]
    pub fn describe(events: &mut EventSet) -> Out<Description> {
        Ok(describe_events(events)?)
    }

    /// One statistic of a column from `describe()`: `count`, `mean`, `std`, `min`, `q25`,
    /// `median`, `q75` or `max`.
    #[rhai_fn(name = "get", pure, return_raw)]
    pub fn summary_get(summary: &mut Description, column: &str, stat: &str) -> Out<FLOAT> {
        let c = summary
            .columns
            .iter()
            .find(|c| c.name == column)
            .ok_or_else(|| Error::invalid("column", format!("no summary for '{column}'")))?;
        c.get(stat).ok_or_else(|| {
            Error::invalid(
                "statistic",
                format!("'{stat}' is not one of count, mean, std, min, q25, median, q75, max"),
            )
            .into()
        })
    }

    /// The events with `lo <= col < hi` (a signal region), e.g. `events.window("mjj", 3300.0, 3700.0)`.
    #[rhai_fn(pure, return_raw)]
    pub fn window(events: &mut EventSet, col: &str, lo: FLOAT, hi: FLOAT) -> Out<EventSet> {
        Ok(events.window(col, lo, hi)?)
    }

    /// The events with `col < lo` or `col >= hi` (the sidebands of a window).
    #[rhai_fn(pure, return_raw)]
    pub fn outside(events: &mut EventSet, col: &str, lo: FLOAT, hi: FLOAT) -> Out<EventSet> {
        Ok(events.outside(col, lo, hi)?)
    }

    /// Only the columns `names`, in that order.
    #[rhai_fn(pure, return_raw)]
    pub fn select(events: &mut EventSet, names: Array) -> Out<EventSet> {
        Ok(events.select(&strings("column names", &names)?)?)
    }

    /// The events with column `name` added or replaced by `values` (one number per event).
    #[rhai_fn(pure, return_raw)]
    pub fn with_column(events: &mut EventSet, name: &str, values: Array) -> Out<EventSet> {
        Ok(events.with_column(name, floats("column values", &values)?)?)
    }

    /// These events followed by `other`'s (same column names required).
    #[rhai_fn(pure, return_raw)]
    pub fn concat(events: &mut EventSet, other: EventSet) -> Out<EventSet> {
        Ok(events.concat(&other)?)
    }

    /// `n` events drawn at random without replacement (from the session seed).
    #[rhai_fn(pure, return_raw)]
    pub fn sample(ctx: NativeCallContext, events: &mut EventSet, n: INT) -> Out<EventSet> {
        let seed = session_state(&ctx)?.next_stream();
        Ok(events.sample(count("sample", n)?, seed)?)
    }

    /// The events in a random order (from the session seed).
    #[rhai_fn(pure, return_raw)]
    pub fn shuffle(ctx: NativeCallContext, events: &mut EventSet) -> Out<EventSet> {
        let seed = session_state(&ctx)?.next_stream();
        Ok(events.shuffle(seed))
    }

    /// A random split into `[a, b]` with `a` holding the `fraction` (e.g. 0.8) of the events.
    #[rhai_fn(pure, return_raw)]
    pub fn split(ctx: NativeCallContext, events: &mut EventSet, fraction: FLOAT) -> Out<Array> {
        let seed = session_state(&ctx)?.next_stream();
        let (a, b) = events.split(fraction, seed)?;
        Ok(vec![Dynamic::from(a), Dynamic::from(b)])
    }

    /// `k` cross-validation folds as an array of `#{ train, test }` maps. The events are
    /// shuffled (session seed) and dealt into `k` parts; fold i tests on part i and trains on
    /// the rest. Folds share the events' data: no copies are made.
    #[rhai_fn(pure, return_raw)]
    pub fn kfold(ctx: NativeCallContext, events: &mut EventSet, k: INT) -> Out<Array> {
        let seed = session_state(&ctx)?.next_stream();
        let folds = events.kfold(count("kfold", k)?, seed)?;
        Ok(folds
            .into_iter()
            .map(|fold| {
                let mut m = Map::new();
                m.insert("train".into(), Dynamic::from(fold.train));
                m.insert("test".into(), Dynamic::from(fold.test));
                Dynamic::from_map(m)
            })
            .collect())
    }

    /// The events passing an SQL-style condition such as `"mjj > 3000 and tau21_1 < 0.5"`
    /// (and, or, not, comparisons, between, in, arithmetic, abs(), ...: the language and size
    /// limits of `bumplab::data::condition`).
    #[rhai_fn(pure, return_raw)]
    pub fn filter(events: &mut EventSet, condition: &str) -> Out<EventSet> {
        Ok(events.filter(condition)?)
    }

    /// The events whose truth label is 1.
    #[rhai_fn(pure, return_raw)]
    pub fn signal(events: &mut EventSet) -> Out<EventSet> {
        Ok(events.signal()?)
    }

    /// The events whose truth label is 0.
    #[rhai_fn(pure, return_raw)]
    pub fn background(events: &mut EventSet) -> Out<EventSet> {
        Ok(events.background()?)
    }

    /// Makes `column` play `role` ("label", "weight" or "mass").
    #[rhai_fn(return_raw)]
    pub fn set_role(events: &mut EventSet, role: &str, column: &str) -> Out<()> {
        Ok(events.set_role(Role::parse(role)?, Some(column))?)
    }

    /// The role assignments as a map, e.g. `#{ label: "label", mass: "mjj" }`.
    #[rhai_fn(pure)]
    pub fn roles(events: &mut EventSet) -> Map {
        [Role::Label, Role::Weight, Role::Mass]
            .into_iter()
            .filter_map(|r| {
                events
                    .role_column(r)
                    .map(|c| (r.name().into(), Dynamic::from(c.to_string())))
            })
            .collect()
    }

    /// Reads a CSV file with a header line into an event set.
    #[rhai_fn(return_raw)]
    pub fn read_csv(path: &str) -> Out<EventSet> {
        Ok(io::read_csv(Path::new(path))?)
    }

    /// Reads a Parquet file into an event set.
    #[rhai_fn(return_raw)]
    pub fn read_parquet(path: &str) -> Out<EventSet> {
        Ok(io::read_parquet(Path::new(path))?)
    }

    /// Writes the events to a CSV file (atomically: an existing file is only replaced once
    /// the new one is complete).
    #[rhai_fn(pure, return_raw)]
    pub fn write_csv(events: &mut EventSet, path: &str) -> Out<()> {
        Ok(io::write_csv(events, Path::new(path))?)
    }

    /// Writes the events to a Parquet file (atomically).
    #[rhai_fn(pure, return_raw)]
    pub fn write_parquet(events: &mut EventSet, path: &str) -> Out<()> {
        Ok(io::write_parquet(events, Path::new(path))?)
    }

    /// Fits x -> x / max|x| on `columns` of `events`; apply with `scaler.transform(other)`.
    #[rhai_fn(return_raw)]
    pub fn max_abs_scaler(events: EventSet, columns: Array) -> Out<Scaler> {
        super::fit(ScalerKind::MaxAbs, &events, &columns)
    }

    /// Fits x -> (x - mean) / std on `columns` of `events`.
    #[rhai_fn(return_raw)]
    pub fn standard_scaler(events: EventSet, columns: Array) -> Out<Scaler> {
        super::fit(ScalerKind::Standard, &events, &columns)
    }

    /// Fits x -> (x - min) / (max - min) on `columns` of `events`.
    #[rhai_fn(return_raw)]
    pub fn min_max_scaler(events: EventSet, columns: Array) -> Out<Scaler> {
        super::fit(ScalerKind::MinMax, &events, &columns)
    }

    /// A scaler of the same kind and columns refitted on `events`.
    #[rhai_fn(name = "fit", pure, return_raw)]
    pub fn refit(scaler: &mut Scaler, events: EventSet) -> Out<Scaler> {
        Ok(Scaler::fit(scaler.kind(), &events, scaler.columns())?)
    }

    /// The events with the scaler's columns scaled.
    #[rhai_fn(pure, return_raw)]
    pub fn transform(scaler: &mut Scaler, events: EventSet) -> Out<EventSet> {
        Ok(scaler.transform(&events)?)
    }

    /// The events with the scaler's columns mapped back to their original units.
    #[rhai_fn(pure, return_raw)]
    pub fn inverse(scaler: &mut Scaler, events: EventSet) -> Out<EventSet> {
        Ok(scaler.inverse(&events)?)
    }

    /// `n` log-spaced bins from `lo` to `hi` (`n + 1` edges), e.g. `log_bins(2632.0, 6000.0, 16)`.
    #[rhai_fn(return_raw)]
    pub fn log_bins(lo: FLOAT, hi: FLOAT, n: INT) -> Out<Array> {
        let edges = binning::log_bins(lo, hi, bins_for_a_script(n)?)?;
        Ok(edges.into_iter().map(Dynamic::from_float).collect())
    }

    /// `n` equal-width bins from `lo` to `hi` (`n + 1` edges).
    #[rhai_fn(return_raw)]
    pub fn linear_bins(lo: FLOAT, hi: FLOAT, n: INT) -> Out<Array> {
        let edges = binning::linear_bins(lo, hi, bins_for_a_script(n)?)?;
        Ok(edges.into_iter().map(Dynamic::from_float).collect())
    }

    /// A summary line and the first rows as a table.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn events_to_string(events: &mut EventSet) -> String {
        events.to_string()
    }

    /// A summary line and the first rows as a table.
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn events_to_debug(events: &mut EventSet) -> String {
        events.to_string()
    }

    /// The statistics as a table, one row per column.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn summary_to_string(summary: &mut Description) -> String {
        summary.to_string()
    }

    /// The statistics as a table, one row per column.
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn summary_to_debug(summary: &mut Description) -> String {
        summary.to_string()
    }

    /// The scaler's kind and its per-column transformation.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn scaler_to_string(scaler: &mut Scaler) -> String {
        scaler.to_string()
    }

    /// The scaler's kind and its per-column transformation.
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn scaler_to_debug(scaler: &mut Scaler) -> String {
        scaler.to_string()
    }
}
