//! A CWoLa hunt as a plan (`hunt_plan`): one unit per signal region and outer fold, whose
//! result is that fold's scores; the merge selects, fits and tests as the hunt does. And its
//! retrained toys as a plan (`hunt_toys_plan`): one background-only pseudo-dataset hunted per
//! unit, merged into the toys' most significant tests (`with_toys`).

use std::path::Path;

use rhai::{Map, NativeCallContext};
use serde_json::json;

use super::cwola_options::cwola_options;
use super::plan_spec::{HUNT, HUNT_TOYS, options_and_seed, options_json, read_input, write_input};
use crate::batch::Plan;
use crate::data::EventSet;
use crate::methods::cwola::{
    CwolaHunt, CwolaOptions, FoldScores, HuntToy, hunt_toy, hunt_unit, hunt_units, merge_hunt,
};
use crate::script::state::session_state;
use crate::script::values::Out;

/// The built-in whose options a hunt plan takes (and whose name its errors carry).
pub(super) const FUNCTION: &str = "hunt_plan";

/// The built-in whose options a toys plan takes.
pub(super) const TOYS_FUNCTION: &str = "hunt_toys_plan";

/// Writes the hunt of `events` with `opts` as a plan in `dir` (see `hunt_plan`).
pub(super) fn write(ctx: &NativeCallContext, events: &EventSet, opts: Map, dir: &str) -> Out<Plan> {
    // The seed is drawn from the session once and written down, so that every unit and a
    // single-process hunt with that seed agree.
    let options = cwola_options(FUNCTION).parse_in(ctx, opts.clone())?;
    let units = hunt_units(&options)?;
    write_plan(HUNT, events, opts, options.seed, units, dir)
}

/// Writes `toys` retrained toys of the hunt of `events` with `opts` as a plan in `dir`
/// (see `hunt_toys_plan`).
pub(super) fn write_toys(
    ctx: &NativeCallContext,
    events: &EventSet,
    opts: Map,
    toys: rhai::INT,
    dir: &str,
) -> Out<Plan> {
    let options = cwola_options(TOYS_FUNCTION).parse_in(ctx, opts.clone())?;
    hunt_units(&options)?;
    let toys = usize::try_from(toys)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| crate::Error::invalid("toys", format!("{toys}: give at least one toy")))?;
    write_plan(HUNT_TOYS, events, opts, options.seed, toys, dir)
}

/// Writes a plan of `kind` over `events` with the options map `opts` and `seed`.
fn write_plan(
    kind: &str,
    events: &EventSet,
    opts: Map,
    seed: u64,
    units: usize,
    dir: &str,
) -> Out<Plan> {
    let dir = Path::new(dir);
    let spec = json!({
        "options": options_json(opts)?,
        "seed": seed,
        "inputs": { "events": write_input(dir, "events", events)? },
    });
    Ok(Plan::create(dir, kind, spec, units)?)
}

/// The hunt's options and events of `plan`, the options parsed in the session of `ctx` (on
/// its device) with the plan's seed.
fn options_and_events(ctx: &NativeCallContext, plan: &Plan) -> Out<(CwolaOptions, EventSet)> {
    let (map, seed) = options_and_seed(plan)?;
    let function = if plan.kind == HUNT_TOYS {
        TOYS_FUNCTION
    } else {
        FUNCTION
    };
    let mut options = cwola_options(function).parse_in(ctx, map)?;
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

/// Hunts pseudo-dataset `unit` of a toys plan in the session of `ctx`.
pub(super) fn run_toy(ctx: &NativeCallContext, plan: &Plan, unit: usize) -> Out<HuntToy> {
    let (options, events) = options_and_events(ctx, plan)?;
    let interrupt = session_state(ctx)?.interrupt.clone();
    Ok(hunt_toy(
        &events,
        &options,
        options.seed,
        unit,
        Some(&interrupt),
    )?)
}

/// A toy as `merge_plan` gives it: `#{ local_p, local_z }`.
pub(super) fn toy_map(toy: &HuntToy) -> Map {
    let mut map = Map::new();
    map.insert("local_p".into(), toy.local_p.into());
    map.insert("local_z".into(), toy.local_z.into());
    map
}

/// The toys of `maps` (each with a `local_p`, as `toy_map` makes them).
pub(super) fn toys_of(maps: rhai::Array) -> Out<Vec<HuntToy>> {
    maps.into_iter()
        .enumerate()
        .map(|(i, m)| {
            let bad = || {
                crate::Error::invalid(
                    "toys",
                    format!("element {i} is not a toy #{{ local_p, local_z }} (merge_plan of a hunt_toys_plan)"),
                )
            };
            let map = m.try_cast::<Map>().ok_or_else(bad)?;
            let number = |key: &str| -> Out<f64> {
                match map.get(key) {
                    Some(v) if v.is_unit() => Ok(f64::NAN),
                    Some(v) => Ok(v.as_float().map_err(|_| bad())?),
                    None => Err(bad().into()),
                }
            };
            Ok(HuntToy {
                local_p: number("local_p")?,
                local_z: number("local_z")?,
            })
        })
        .collect()
}
