//! What a plan's specification holds, as the plan kinds of src/script share it: the kinds,
//! the input samples (Parquet files under `inputs/` with their roles) and the options map
//! with its seed kept beside it.

use std::path::Path;

use rhai::{Dynamic, Map};
use serde_json::{Value, json};

use crate::batch::Plan;
use crate::data::EventSet;
use crate::data::eventset::Role;
use crate::error::Error;
use crate::script::values::Out;

/// The kind of plan a signal-injection scan writes.
pub(super) const SCAN: &str = "injection_scan";

/// The kind of plan a CWoLa hunt writes.
pub(super) const HUNT: &str = "cwola_hunt";

/// The kind of plan a CWoLa hunt's retrained toys write.
pub(super) const HUNT_TOYS: &str = "cwola_toys";

/// The kind of plan `function_plan` writes.
pub(super) const FUNCTION: &str = "function";

/// The roles of `events` as a JSON map, so that a unit reading them from Parquet gets the
/// same label, weight and mass columns.
fn roles_json(events: &EventSet) -> Value {
    let roles = events.roles();
    json!({ "label": roles.label, "weight": roles.weight, "mass": roles.mass })
}

/// Writes `events` to `name`.parquet under the plan's `inputs/` unless there already (a
/// resumed plan's), and returns its entry in the plan: the file relative to the plan and
/// the roles.
pub(super) fn write_input(dir: &Path, name: &str, events: &EventSet) -> Out<Value> {
    let file = format!("inputs/{name}.parquet");
    let path = dir.join(&file);
    if !path.is_file() {
        std::fs::create_dir_all(dir.join("inputs"))
            .map_err(|e| Error::io("create", dir.join("inputs"), e))?;
        crate::data::io::write_parquet(events, &path)?;
    }
    Ok(json!({ "file": file, "roles": roles_json(events) }))
}

/// The input `name` of a plan's specification, read back with its roles; `None` where the
/// plan has none.
pub(super) fn read_input(plan: &Plan, name: &str) -> Out<Option<EventSet>> {
    let entry = &plan.spec["inputs"][name];
    if entry.is_null() {
        return Ok(None);
    }
    let bad = || {
        plan.spec_error(
            format!("spec.inputs.{name}"),
            "needs a \"file\" and \"roles\"",
        )
    };
    let file = entry["file"].as_str().ok_or_else(bad)?;
    let mut events = crate::data::io::read_parquet(&plan.dir.join(file))?;
    for role in [Role::Label, Role::Weight, Role::Mass] {
        let column = entry["roles"][role.name()].as_str();
        events.set_role(role, column)?;
    }
    Ok(Some(events))
}

/// The options map of a plan's specification and its seed (kept beside the map: a seed
/// drawn from the session may exceed Rhai's integers). The map's `seed` is a placeholder, so
/// that parsing it does not draw on the session's stream; set the options' seed after.
pub(super) fn options_and_seed(plan: &Plan) -> Out<(Map, u64)> {
    let mut map: Map = serde_json::from_value::<Dynamic>(plan.spec["options"].clone())
        .ok()
        .and_then(|d| d.try_cast::<Map>())
        .ok_or_else(|| plan.spec_error("spec.options", "not an options map"))?;
    let seed = plan.spec["seed"]
        .as_u64()
        .ok_or_else(|| plan.spec_error("spec.seed", "needs a seed (a whole number >= 0)"))?;
    map.insert("seed".into(), Dynamic::from_int(0));
    Ok((map, seed))
}

/// `opts` as a plan stores it: without its seed (which the plan keeps beside it).
pub(super) fn options_json(mut opts: Map) -> Out<Value> {
    opts.remove("seed");
    Ok(serde_json::to_value(Dynamic::from_map(opts))
        .map_err(|e| Error::invalid("options", e.to_string()))?)
}
