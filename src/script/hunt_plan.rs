//! A CWoLa hunt as a plan (`hunt_plan`): one unit per signal region and outer fold, whose
//! result is that fold's scores; the merge selects, fits and tests as the hunt does.

use std::path::Path;

use rhai::{Map, NativeCallContext};
use serde_json::json;

use super::batch::{HUNT, options_and_seed, options_json, read_input, write_input};
use super::cwola_options::cwola_options;
use crate::batch::Plan;
use crate::data::EventSet;
use crate::methods::cwola::{
    CwolaHunt, CwolaOptions, FoldScores, hunt_unit, hunt_units, merge_hunt,
};
use crate::script::state::session_state;
use crate::script::values::Out;

/// The built-in whose options a hunt plan takes (and whose name its errors carry).
pub(super) const FUNCTION: &str = "hunt_plan";

/// Writes the hunt of `events` with `opts` as a plan in `dir` (see `hunt_plan`).
pub(super) fn write(ctx: &NativeCallContext, events: &EventSet, opts: Map, dir: &str) -> Out<Plan> {
    // The seed is drawn from the session once and written down, so that every unit and a
    // single-process hunt with that seed agree.
    let options = cwola_options(FUNCTION).parse_in(ctx, opts.clone())?;
    let units = hunt_units(&options)?;
    let dir = Path::new(dir);
    let spec = json!({
        "options": options_json(opts)?,
        "seed": options.seed,
        "inputs": { "events": write_input(dir, "events", events)? },
    });
    Ok(Plan::create(dir, HUNT, spec, units)?)
}

/// The hunt's options and events of `plan`, the options parsed in the session of `ctx` (on
/// its device) with the plan's seed.
fn options_and_events(ctx: &NativeCallContext, plan: &Plan) -> Out<(CwolaOptions, EventSet)> {
    let (map, seed) = options_and_seed(plan)?;
    let mut options = cwola_options(FUNCTION).parse_in(ctx, map)?;
    options.seed = seed;
    options.device = session_state(ctx)?.device();
    let events = read_input(plan, "events")?
        .ok_or_else(|| plan.spec_error("spec.inputs.events", "missing"))?;
    Ok((options, events))
}

/// Trains and scores unit `unit` of a hunt plan in the session of `ctx`.
pub(super) fn run_unit(ctx: &NativeCallContext, plan: &Plan, unit: usize) -> Out<FoldScores> {
    let (options, events) = options_and_events(ctx, plan)?;
    let interrupt = session_state(ctx)?.interrupt.clone();
    Ok(hunt_unit(&events, None, &options, unit, Some(&interrupt))?)
}

/// The hunt assembled from every unit's scores (its time: the units' summed).
pub(super) fn merge(ctx: &NativeCallContext, plan: &Plan) -> Out<CwolaHunt> {
    let (options, events) = options_and_events(ctx, plan)?;
    let results = plan.results::<FoldScores>()?;
    let seconds = results.iter().map(|r| r.seconds).sum();
    let mut hunt = merge_hunt(
        &events,
        None,
        &options,
        results.into_iter().map(|r| r.result).collect(),
    )?;
    hunt.seconds = seconds;
    Ok(hunt)
}
