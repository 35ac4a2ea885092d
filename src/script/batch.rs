//! Plans of independent units from Rhai (part of the `methods` domain; the files are
//! `crate::batch`'s): `scan_plan(...)` writes a signal-injection scan as a plan,
//! `hunt_plan(...)` a CWoLa hunt (src/script/hunt_plan.rs),
//! `function_plan(...)` one call per unit of a function in a script file (null toys, any
//! loop of independent runs), `run_unit(plan, i)` runs one unit (as `bumplab run-unit` and a
//! batch job's task do), `run_plan(plan)` runs every unit not yet done, `merge_plan(plan)`
//! assembles the result.

use std::path::Path;
use std::time::Instant;

use rhai::plugin::*;
use rhai::{Dynamic, Map};
use serde_json::{Value, json};

use super::plan_spec::{
    FUNCTION, HUNT, HUNT_TOYS, SCAN, options_and_seed, options_json, read_input, write_input,
};
use crate::batch::Plan;
use crate::data::EventSet;
use crate::error::Error;
use crate::methods::injection_scan::{InjectionScan, ScanRun, check, scan_unit};
use crate::script::state::session_state;
use crate::script::values::Out;

/// The module of the plan functions and the plan type.
pub fn module() -> Module {
    let mut module = exported_module!(batch_api);
    module.set_custom_type_with_comments::<Plan>(
        "Plan",
        &["/// Work split into independent units in a directory: each unit runs alone (`run_unit`, `bumplab run-unit`, a batch job's task) and `merge_plan` assembles the result."],
    );
    module
}

/// The scan's options of a plan, parsed in the session of `ctx`, with the plan's seed.
fn scan_options_of(
    ctx: &NativeCallContext,
    plan: &Plan,
) -> Out<crate::methods::injection_scan::ScanOptions> {
    let (map, seed) = options_and_seed(plan)?;
    let mut options = super::injection_scan::scan(ctx, "scan_plan", map)?;
    options.seed = seed;
    Ok(options)
}

/// Writes the scan of `opts` on these samples as a plan in `dir` (see `scan_plan`).
fn write_scan_plan(
    ctx: &NativeCallContext,
    background: &EventSet,
    signal: &EventSet,
    independent: Option<&EventSet>,
    opts: Map,
    dir: &str,
) -> Out<Plan> {
    // The seed is drawn from the session once and written down, so that every unit and a
    // single-process run with that seed agree.
    let options = super::injection_scan::scan(ctx, "scan_plan", opts.clone())?;
    check(signal, independent, &options)?;
    let dir = Path::new(dir);
    let mut inputs = serde_json::Map::new();
    for (name, events) in [
        ("background", Some(background)),
        ("signal", Some(signal)),
        ("independent", independent),
    ] {
        if let Some(events) = events {
            inputs.insert(name.into(), write_input(dir, name, events)?);
        }
    }
    let spec = json!({ "options": options_json(opts)?, "seed": options.seed, "inputs": inputs });
    Ok(Plan::create(dir, SCAN, spec, options.units().len())?)
}

/// Runs unit `unit` of `plan` in the session of `ctx` unless it is done; whether it ran.
fn run_plan_unit(ctx: &NativeCallContext, plan: &Plan, unit: usize) -> Out<bool> {
    plan.check_unit(unit)?;
    if plan.is_done(unit) {
        return Ok(false);
    }
    let started = Instant::now();
    match plan.kind.as_str() {
        SCAN => {
            let options = scan_options_of(ctx, plan)?;
            let scan_unit_of = options.units()[unit];
            let missing = |name: &str| plan.spec_error(format!("spec.inputs.{name}"), "missing");
            let background =
                read_input(plan, "background")?.ok_or_else(|| missing("background"))?;
            let signal = read_input(plan, "signal")?.ok_or_else(|| missing("signal"))?;
            let independent = read_input(plan, "independent")?;
            let interrupt = session_state(ctx)?.interrupt.clone();
            let run = scan_unit(
                &background,
                &signal,
                independent.as_ref(),
                &options,
                scan_unit_of,
                Some(&interrupt),
            )?;
            plan.save_unit(unit, started.elapsed().as_secs_f64(), &run)?;
        }
        HUNT => {
            let result = super::hunt_plan::run_unit(ctx, plan, unit)?;
            plan.save_unit(unit, started.elapsed().as_secs_f64(), &result)?;
        }
        HUNT_TOYS => {
            let result = super::hunt_plan::run_toy(ctx, plan, unit)?;
            plan.save_unit(unit, started.elapsed().as_secs_f64(), &result)?;
        }
        FUNCTION => {
            let result = call_unit_function(ctx, plan, unit)?;
            let value = serde_json::to_value(&result)
                .map_err(|e| Error::invalid("unit result", e.to_string()))?;
            plan.save_unit(unit, started.elapsed().as_secs_f64(), &value)?;
        }
        other => return Err(unknown_kind(plan, other).into()),
    }
    Ok(true)
}

/// Writes the plan of `units` calls `function(args..., unit)` of the script file `script`
/// into `dir` (see `function_plan`).
fn write_function_plan(
    ctx: &NativeCallContext,
    script: &str,
    function: &str,
    args: rhai::Array,
    units: rhai::INT,
    dir: &str,
) -> Out<Plan> {
    let path = std::fs::canonicalize(script).map_err(|e| Error::io("find", script, e))?;
    let text = crate::data::input::read_text(&path)?;
    let ast = ctx.engine().compile(text)?;
    let arity = args.len() + 1;
    if !ast
        .iter_functions()
        .any(|f| f.name == function && f.params.len() == arity)
    {
        return Err(Error::invalid(
            "function",
            format!(
                "{} defines no `fn {function}(...)` of {arity} parameters (the {} arguments and the unit's index)",
                path.display(),
                args.len()
            ),
        )
        .into());
    }
    let units = usize::try_from(units)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| Error::invalid("units", format!("{units}: give at least one unit")))?;
    let args = serde_json::to_value(Dynamic::from_array(args))
        .map_err(|e| Error::invalid("args", e.to_string()))?;
    // The units' seeds derive from one drawn now, so the plan is reproducible from the
    // session seed and independent of where and in which order its units run.
    let seed = session_state(ctx)?.next_stream();
    let spec = json!({ "script": path, "function": function, "args": args, "seed": seed });
    Ok(Plan::create(Path::new(dir), FUNCTION, spec, units)?)
}

/// Calls unit `unit` of a function plan: the script imported as a module, its function
/// called with the plan's arguments and the unit's index, the session reseeded for the call
/// from the plan's seed and the unit (and restored after).
fn call_unit_function(ctx: &NativeCallContext, plan: &Plan, unit: usize) -> Out<Dynamic> {
    let bad = |what: &str| plan.spec_error(format!("spec.{what}"), "missing or of the wrong type");
    let spec = &plan.spec;
    let script = spec["script"].as_str().ok_or_else(|| bad("script"))?;
    let function = spec["function"].as_str().ok_or_else(|| bad("function"))?;
    let seed = spec["seed"].as_u64().ok_or_else(|| bad("seed"))?;
    let args = serde_json::from_value::<Dynamic>(spec["args"].clone())
        .ok()
        .and_then(|d| d.try_cast::<rhai::Array>())
        .ok_or_else(|| bad("args"))?;
    let is_name = !function.is_empty()
        && function
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_name {
        return Err(bad("function").into());
    }
    let call_args: Vec<String> = (0..args.len())
        .map(|i| format!("plan_args[{i}]"))
        .chain(["plan_unit".to_string()])
        .collect();
    let code = format!(
        "import {} as plan_module;\nplan_module::{function}({})",
        rhai_string(script),
        call_args.join(", ")
    );
    let mut scope = rhai::Scope::new();
    scope.push("plan_args", args);
    scope.push("plan_unit", unit as rhai::INT);
    let state = session_state(ctx)?;
    let lock = || state.seeds.lock().unwrap_or_else(|e| e.into_inner());
    let saved = lock().clone();
    lock().reseed(crate::seed::stream_seed(seed, unit as u64));
    let mut ast = ctx.engine().compile(&code)?;
    ast.set_source(format!("unit {unit} of the plan in {}", plan.dir.display()));
    let result = ctx
        .engine()
        .eval_ast_with_scope::<Dynamic>(&mut scope, &ast);
    *lock() = saved;
    result
}

/// `text` as a Rhai string literal.
fn rhai_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The merged result of `plan`: an `InjectionScan` for a scan, a `CwolaHunt` for a hunt,
/// the units' results in order (an array) for a function plan.
fn merged(ctx: &NativeCallContext, plan: &Plan) -> Out<Dynamic> {
    match plan.kind.as_str() {
        HUNT => Ok(Dynamic::from(super::hunt_plan::merge(ctx, plan)?)),
        HUNT_TOYS => Ok(Dynamic::from_array(
            plan.results::<crate::methods::cwola::HuntToy>()?
                .iter()
                .map(|r| super::hunt_plan::toy_map(&r.result).into())
                .collect(),
        )),
        SCAN => {
            let results = plan.results::<ScanRun>()?;
            Ok(Dynamic::from(InjectionScan {
                seconds: results.iter().map(|r| r.seconds).sum(),
                runs: results.into_iter().map(|r| r.result).collect(),
            }))
        }
        FUNCTION => Ok(Dynamic::from_array(
            plan.results::<Value>()?
                .into_iter()
                .map(|r| serde_json::from_value::<Dynamic>(r.result).unwrap_or(Dynamic::UNIT))
                .collect(),
        )),
        other => Err(unknown_kind(plan, other).into()),
    }
}

/// The error for a plan of a kind this bumplab does not run.
fn unknown_kind(plan: &Plan, kind: &str) -> Error {
    plan.spec_error(
        "kind",
        format!(
            "'{kind}' is not a kind of plan this bumplab runs (it runs \"{SCAN}\", \"{HUNT}\", \"{HUNT_TOYS}\" and \"{FUNCTION}\")"
        ),
    )
}

#[export_module]
mod batch_api {
    use rhai::INT;

    use super::{merged, run_plan_unit, write_function_plan, write_scan_plan};
    use crate::batch::Plan;
    use crate::data::EventSet;
    use crate::error::Error;
    use crate::methods::cwola::CwolaHunt;
    use crate::methods::injection_scan::InjectionScan;
    use crate::script::values::Out;

    /// The signal-injection scan `injection_scan(background, signal, opts)` as a plan of
    /// independent units in directory `dir` (created if absent): one unit per method, point and
    /// repetition. The samples are written under `dir/inputs` as Parquet and the options with
    /// the seed drawn now to `dir/plan.json`. Run the units with `run_unit(plan, i)`,
    /// `run_plan(plan)`, `bumplab run-unit DIR/plan.json I` or a batch job array, then
    /// `merge_plan(plan)`: the same numbers as `injection_scan` with that seed, whatever order
    /// or machine the units ran on. The same plan written again into `dir` keeps the units
    /// done; a different one is refused.
    #[rhai_fn(name = "scan_plan", return_raw)]
    pub fn scan_plan(
        ctx: NativeCallContext,
        background: EventSet,
        signal: EventSet,
        opts: Map,
        dir: &str,
    ) -> Out<Plan> {
        write_scan_plan(&ctx, &background, &signal, None, opts, dir)
    }

    /// The scan plan with `independent`, a background-only sample for the idealized detector.
    #[rhai_fn(name = "scan_plan", return_raw)]
    pub fn scan_plan_idealized(
        ctx: NativeCallContext,
        background: EventSet,
        signal: EventSet,
        independent: EventSet,
        opts: Map,
        dir: &str,
    ) -> Out<Plan> {
        write_scan_plan(&ctx, &background, &signal, Some(&independent), opts, dir)
    }

    /// The CWoLa hunt `cwola_hunt(events, opts)` as a plan of independent units in directory
    /// `dir` (created if absent): one unit per signal region and outer fold (the ensemble
    /// that scores that fold's events), region by region. The events are written under
    /// `dir/inputs` as Parquet, the options and the seed (drawn now when `opts` has none) to
    /// `dir/plan.json`. Each unit's result is its fold's scores; `merge_plan(plan)` selects,
    /// fits and tests as the hunt does and returns the same `CwolaHunt` as `cwola_hunt` with
    /// that seed, whatever order or machine the units ran on. The same plan written again
    /// into `dir` keeps the units done; a different one is refused.
    #[rhai_fn(name = "hunt_plan", return_raw)]
    pub fn hunt_plan(ctx: NativeCallContext, events: EventSet, opts: Map, dir: &str) -> Out<Plan> {
        super::super::hunt_plan::write(&ctx, &events, opts, dir)
    }

    /// `toys` background-only pseudo-datasets of the hunt `cwola_hunt(events, opts)`, each
    /// hunted with every network retrained, as a plan in `dir`: unit i draws pseudo-dataset
    /// i (per mass bin a Poisson count around the dijet fit to the data's spectrum; features
    /// of data events drawn from the whole hunt range, so a localised signal is spread over
    /// every mass) and hunts it with the same options and a seed of its own. `merge_plan`
    /// gives each toy's most significant test `#{ local_p, local_z }`; `hunt.with_toys(...)`
    /// turns them into the hunt's global p-value (docs/cwola.md).
    #[rhai_fn(name = "hunt_toys_plan", return_raw)]
    pub fn hunt_toys_plan(
        ctx: NativeCallContext,
        events: EventSet,
        opts: Map,
        toys: INT,
        dir: &str,
    ) -> Out<Plan> {
        super::super::hunt_plan::write_toys(&ctx, &events, opts, toys, dir)
    }

    /// The plan in `path` (its directory or its plan.json), to run or merge.
    #[rhai_fn(name = "plan", return_raw)]
    pub fn open_plan(path: &str) -> Out<Plan> {
        Ok(Plan::open(std::path::Path::new(path))?)
    }

    /// Runs unit `unit` (0 to `plan.units - 1`) of `plan` in this session (its device) and
    /// writes its result into the plan's directory; a unit already done is skipped. Returns
    /// whether it ran.
    #[rhai_fn(name = "run_unit", return_raw)]
    pub fn run_unit(ctx: NativeCallContext, plan: Plan, unit: INT) -> Out<bool> {
        let unit = usize::try_from(unit)
            .map_err(|_| Error::invalid("unit", format!("{unit} is not a unit index")))?;
        run_plan_unit(&ctx, &plan, unit)
    }

    /// Runs every unit of `plan` without a result, in order, in this session, with a progress
    /// bar; Ctrl-C stops between or inside units and what is done stays done. Returns how many
    /// units ran.
    #[rhai_fn(name = "run_plan", return_raw)]
    pub fn run_plan(ctx: NativeCallContext, plan: Plan) -> Out<INT> {
        let pending = plan.pending();
        let progress = crate::progress::Progress::new(
            format!("plan units ({} of {} to run)", pending.len(), plan.units),
            pending.len() as u64,
        );
        for &unit in &pending {
            run_plan_unit(&ctx, &plan, unit)?;
            progress.advance(1);
        }
        Ok(pending.len() as INT)
    }

    /// The result of `plan` assembled from its units': an `InjectionScan` for a scan plan, a
    /// `CwolaHunt` for a hunt plan, the toys' most significant tests (an array of
    /// `#{ local_p, local_z }`) for a hunt's toys plan, the units' results in order (an array)
    /// for a function plan. An error names the units still without a result.
    #[rhai_fn(name = "merge_plan", return_raw)]
    pub fn merge_plan(ctx: NativeCallContext, plan: Plan) -> Out<Dynamic> {
        merged(&ctx, &plan)
    }

    /// `merge_plan(plan)`, saved to `path` atomically: a scan or a hunt as its `save` writes it
    /// (a scan as JSON, or Parquet when `path` ends in `.parquet`), a function plan's results
    /// as a JSON array.
    #[rhai_fn(name = "merge_plan", return_raw)]
    pub fn merge_plan_to(ctx: NativeCallContext, plan: Plan, path: &str) -> Out<Dynamic> {
        let result = merged(&ctx, &plan)?;
        if let Some(scan) = result.clone().try_cast::<InjectionScan>() {
            super::super::injection_scan::save_scan(&scan, path)?;
        } else if let Some(hunt) = result.clone().try_cast::<CwolaHunt>() {
            crate::script::values::save_json(&hunt.to_json(), path)?;
        } else {
            crate::script::values::save_json(&result, path)?;
        }
        Ok(result)
    }

    /// `units` calls of `function` in the Rhai file `script` as a plan in `dir`: unit i calls
    /// `function(args[0], ..., i)` with the script imported as a module and the session
    /// reseeded from a seed drawn now and i (so each unit is reproducible wherever it runs
    /// and the units' random streams are independent). The results must be plain values
    /// (numbers, strings, arrays, maps; NaN reads back as ()); `merge_plan` gives them in
    /// order. For null toys and any loop of independent runs: e.g. the background-only
    /// runs of examples/null_calibration.rhai, one per unit.
    #[rhai_fn(name = "function_plan", return_raw)]
    pub fn function_plan(
        ctx: NativeCallContext,
        script: &str,
        function: &str,
        args: rhai::Array,
        units: INT,
        dir: &str,
    ) -> Out<Plan> {
        write_function_plan(&ctx, script, function, args, units, dir)
    }

    /// How many units the plan has.
    #[rhai_fn(get = "units", pure)]
    pub fn units(plan: &mut Plan) -> INT {
        plan.units as INT
    }

    /// The units without a result yet, in order.
    #[rhai_fn(get = "pending", pure)]
    pub fn pending(plan: &mut Plan) -> rhai::Array {
        plan.pending()
            .into_iter()
            .map(|u| Dynamic::from_int(u as INT))
            .collect()
    }

    /// The plan's directory.
    #[rhai_fn(get = "dir", pure)]
    pub fn dir(plan: &mut Plan) -> String {
        plan.dir.display().to_string()
    }

    /// The plan's kind and progress, and how to run its units.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn plan_to_string(plan: &mut Plan) -> String {
        plan.to_string()
    }
}
