//! Lazy event sets from Rhai (part of the `events` domain; `crate::data::lazy`):
//! `scan_parquet("dir/*.parquet")` and the steps, counts, histograms and collection that
//! stream through polars' streaming engine.

use rhai::plugin::*;
use rhai::{Array, FLOAT, INT};

use super::options::{floats, strings};
use crate::data::EventSet;
use crate::data::lazy::LazyEvents;
use crate::stats::hist::Hist1D;

/// What a built-in returns: a value or a Rhai error.
type Out<T> = Result<T, Box<EvalAltResult>>;

/// The module of the lazy event set and its functions.
pub fn module() -> Module {
    let mut module = exported_module!(lazy_api);
    module.set_custom_type_with_comments::<LazyEvents>(
        "LazyEvents",
        &["/// Events of Parquet files too many for memory: a query run batch by batch when counted, histogrammed or collected."],
    );
    module
}

#[export_module]
mod lazy_api {
    use super::*;

    /// The events of the Parquet file `pattern`, or of every file a glob matches
    /// (`"dir/*.parquet"`), as a lazy event set: nothing but the schema is read now. Its
    /// `window`, `filter`, `select` and `with_ratio` add steps; `len`, `hist` and `collect`
    /// run them on polars' streaming engine a batch of rows at a time, so memory stays
    /// bounded whatever the number of events (10^8 events histogrammed in under 2 GiB:
    /// benches/lazy_parquet.rs).
    #[rhai_fn(return_raw)]
    pub fn scan_parquet(pattern: &str) -> Out<LazyEvents> {
        Ok(LazyEvents::scan_parquet(pattern)?)
    }

    /// The number of events the query selects (runs it, streaming).
    #[rhai_fn(name = "len", pure, return_raw)]
    pub fn len(events: &mut LazyEvents) -> Out<INT> {
        Ok(events.count()? as INT)
    }

    /// The column names after the query's steps.
    #[rhai_fn(name = "columns", pure)]
    pub fn columns(events: &mut LazyEvents) -> Array {
        events.columns().iter().map(|c| c.clone().into()).collect()
    }

    /// The events with `lo <= col < hi`.
    #[rhai_fn(name = "window", pure, return_raw)]
    pub fn window(events: &mut LazyEvents, col: &str, lo: FLOAT, hi: FLOAT) -> Out<LazyEvents> {
        Ok(events.window(col, lo, hi)?)
    }

    /// The events for which `condition` holds, as `EventSet`'s `filter` reads it, e.g.
    /// `"tau21_1 < 0.4 and mj1 > 300"` (checked now, run when the query runs).
    #[rhai_fn(name = "filter", pure, return_raw)]
    pub fn filter(events: &mut LazyEvents, condition: &str) -> Out<LazyEvents> {
        Ok(events.filter(condition)?)
    }

    /// Only the columns `names`, in that order.
    #[rhai_fn(name = "select", pure, return_raw)]
    pub fn select(events: &mut LazyEvents, names: Array) -> Out<LazyEvents> {
        Ok(events.select(&strings("column names", &names)?)?)
    }

    /// A new column `name` = `numerator` / `denominator`, e.g. `with_ratio("tau21_1", "tau2_1",
    /// "tau1_1")` or a jet mass over mjj.
    #[rhai_fn(name = "with_ratio", pure, return_raw)]
    pub fn with_ratio(
        events: &mut LazyEvents,
        name: &str,
        numerator: &str,
        denominator: &str,
    ) -> Out<LazyEvents> {
        Ok(events.with_ratio(name, numerator, denominator)?)
    }

    /// The same query with `column` as the collected events' mass role (`mjj` by default).
    #[rhai_fn(name = "with_mass", pure, return_raw)]
    pub fn with_mass(events: &mut LazyEvents, column: &str) -> Out<LazyEvents> {
        Ok(events.with_mass(column)?)
    }

    /// The histogram of column `col` of the selected events in the bins `edges`, streamed
    /// batch by batch (bounded memory). A null, NaN or infinite value is an error.
    #[rhai_fn(name = "hist", pure, return_raw)]
    pub fn hist(events: &mut LazyEvents, col: &str, edges: Array) -> Out<Hist1D> {
        Ok(events.hist(col, floats("bin edges", &edges)?)?)
    }

    /// The selected events in memory as an event set (roles by column name, mass as set);
    /// an error before reading when they would not fit in the memory available.
    #[rhai_fn(name = "collect", pure, return_raw)]
    pub fn collect(events: &mut LazyEvents) -> Out<EventSet> {
        Ok(events.collect()?)
    }

    /// The files, the columns and the query's steps.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn lazy_to_string(events: &mut LazyEvents) -> String {
        events.to_string()
    }
}
