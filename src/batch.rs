//! Work split into independent units, for running beyond one process (docs/batch.md): a
//! **plan** is a directory holding `plan.json` (what the work is, as the kind's own
//! specification, and how many units it has) and the inputs the units read; each unit runs
//! alone — in another process, on another machine, as one task of a batch job array — and
//! writes its result atomically to `units/unit-NNNNNN.json` there; a merge reads every result
//! back in the plan's order. A unit whose result exists is done, so running a plan again
//! skips it: an interrupted or partly failed plan resumes.
//!
//! This module knows files, not methods: what a unit computes and how results combine is the
//! kind's (the signal-injection scan's: [`crate::methods::injection_scan::scan_unit`]).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

/// The version of the plan file's layout.
const PLAN_FORMAT: u64 = 1;

/// The plan file's name inside its directory.
pub const PLAN_FILE: &str = "plan.json";

/// A plan of independent units (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The plan's directory.
    pub dir: PathBuf,
    /// What kind of work, e.g. "injection_scan": who runs and merges its units.
    pub kind: String,
    /// The kind's specification of the work (options, inputs relative to `dir`).
    pub spec: Value,
    /// How many units.
    pub units: usize,
}

/// One unit's saved result.
#[derive(Clone, Debug)]
pub struct UnitResult<T> {
    /// The unit's index.
    pub unit: usize,
    /// Wall-clock seconds it took.
    pub seconds: f64,
    /// What it computed.
    pub result: T,
}

impl Plan {
    /// Writes the plan `kind`/`spec` of `units` units into `dir` (created if absent) and
    /// returns it. A directory that already holds the same plan keeps it and its finished
    /// units (the plan resumes); one holding a different plan is an error, so that no result
    /// is mixed into another plan's.
    pub fn create(dir: &Path, kind: &str, spec: Value, units: usize) -> Result<Plan> {
        if units == 0 {
            return Err(Error::invalid("plan", "a plan needs at least one unit"));
        }
        let plan = Plan {
            dir: dir.to_path_buf(),
            kind: kind.into(),
            spec,
            units,
        };
        let path = dir.join(PLAN_FILE);
        if path.exists() {
            let existing = Plan::open(dir)?;
            if existing == plan {
                return Ok(existing);
            }
            return Err(Error::invalid(
                "plan",
                format!(
                    "{} holds another plan ({}, {} units); choose an empty directory or remove it",
                    path.display(),
                    existing.kind,
                    existing.units
                ),
            ));
        }
        std::fs::create_dir_all(dir.join("units")).map_err(|e| Error::io("create", dir, e))?;
        let text = serde_json::to_string_pretty(&json!({
            "bumplab_plan": PLAN_FORMAT,
            "kind": plan.kind,
            "units": plan.units,
            "spec": plan.spec,
        }))
        .map_err(|e| Error::invalid("plan", e.to_string()))?;
        write_atomic(&path, text.as_bytes())?;
        Ok(plan)
    }

    /// The plan at `path`: its directory or its `plan.json`.
    pub fn open(path: &Path) -> Result<Plan> {
        let (dir, file) = if path.is_dir() {
            (path.to_path_buf(), path.join(PLAN_FILE))
        } else {
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            (dir, path.to_path_buf())
        };
        let text = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
        let bad = |why: &str| Error::format(&file, "plan", format!("not a bumplab plan: {why}"));
        let value: Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
        match value.get("bumplab_plan").and_then(Value::as_u64) {
            Some(PLAN_FORMAT) => {}
            Some(v) => {
                return Err(bad(&format!(
                    "layout {v}; this bumplab reads {PLAN_FORMAT}"
                )));
            }
            None => return Err(bad("no \"bumplab_plan\" version")),
        }
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no \"kind\""))?;
        let units = value
            .get("units")
            .and_then(Value::as_u64)
            .filter(|&n| n > 0)
            .ok_or_else(|| bad("no positive \"units\""))?;
        Ok(Plan {
            dir,
            kind: kind.into(),
            spec: value.get("spec").cloned().unwrap_or(Value::Null),
            units: units as usize,
        })
    }

    /// An error in the plan file's `field` (e.g. "spec.options"): `problem`, naming the file.
    pub fn spec_error(&self, field: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::format(self.dir.join(PLAN_FILE), field, problem)
    }

    /// `Ok` if `unit` is one of the plan's units, else an error naming the range.
    pub fn check_unit(&self, unit: usize) -> Result<()> {
        if unit < self.units {
            Ok(())
        } else {
            Err(Error::invalid(
                "unit",
                format!(
                    "{unit} is not a unit of the plan in {} (0 to {})",
                    self.dir.display(),
                    self.units - 1
                ),
            ))
        }
    }

    /// Where unit `unit`'s result is written.
    pub fn unit_path(&self, unit: usize) -> PathBuf {
        self.dir.join("units").join(format!("unit-{unit:06}.json"))
    }

    /// Whether unit `unit` has its result.
    pub fn is_done(&self, unit: usize) -> bool {
        self.unit_path(unit).is_file()
    }

    /// The units without a result, in order.
    pub fn pending(&self) -> Vec<usize> {
        (0..self.units).filter(|&u| !self.is_done(u)).collect()
    }

    /// Writes unit `unit`'s `result` (which took `seconds`) atomically.
    pub fn save_unit(&self, unit: usize, seconds: f64, result: &impl Serialize) -> Result<()> {
        self.check_unit(unit)?;
        let text = serde_json::to_string_pretty(&json!({
            "unit": unit,
            "seconds": seconds,
            "result": result,
        }))
        .map_err(|e| Error::invalid("unit result", e.to_string()))?;
        std::fs::create_dir_all(self.dir.join("units"))
            .map_err(|e| Error::io("create", &self.dir, e))?;
        write_atomic(&self.unit_path(unit), text.as_bytes())
    }

    /// Every unit's result, in the plan's order; an error naming the units still missing.
    pub fn results<T: DeserializeOwned>(&self) -> Result<Vec<UnitResult<T>>> {
        let pending = self.pending();
        if !pending.is_empty() {
            let shown: Vec<String> = pending.iter().take(10).map(|u| u.to_string()).collect();
            return Err(Error::invalid(
                "plan",
                format!(
                    "{} of {} units in {} have no result yet (units {}{}); run them first",
                    pending.len(),
                    self.units,
                    self.dir.display(),
                    shown.join(", "),
                    if pending.len() > 10 { ", ..." } else { "" }
                ),
            ));
        }
        (0..self.units)
            .map(|unit| {
                let path = self.unit_path(unit);
                let text =
                    std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
                let bad = |why: String| {
                    Error::format(&path, "unit result", format!("not a unit result: {why}"))
                };
                let value: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
                if value.get("unit").and_then(Value::as_u64) != Some(unit as u64) {
                    return Err(bad(format!("it does not say it is unit {unit}")));
                }
                let result = serde_json::from_value(value["result"].clone())
                    .map_err(|e| bad(e.to_string()))?;
                Ok(UnitResult {
                    unit,
                    seconds: value["seconds"].as_f64().unwrap_or(f64::NAN),
                    result,
                })
            })
            .collect()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self.pending().len();
        writeln!(
            f,
            "plan {} in {}: {} units, {} done, {} to run",
            self.kind,
            self.dir.display(),
            self.units,
            self.units - pending,
            pending
        )?;
        write!(
            f,
            "  one unit: `bumplab run-unit {} I` (I from 0 to {}; a Slurm array task's own index without I); every unit left here: run_plan(plan); then merge_plan(plan)",
            self.dir.join(PLAN_FILE).display(),
            self.units - 1
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_saved_resumed_and_merged_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let spec = json!({ "options": { "seed": 7 } });
        let plan = Plan::create(dir.path(), "test", spec.clone(), 3).unwrap();
        assert_eq!(Plan::open(&dir.path().join(PLAN_FILE)).unwrap(), plan);
        assert_eq!(plan.pending(), vec![0, 1, 2]);
        plan.save_unit(2, 1.5, &"two").unwrap();
        plan.save_unit(0, 0.5, &"zero").unwrap();
        let err = plan.results::<String>().unwrap_err().to_string();
        assert!(
            err.contains("1 of 3 units") && err.contains("units 1"),
            "{err}"
        );
        // The same plan again keeps what is done; another one is refused.
        let again = Plan::create(dir.path(), "test", spec, 3).unwrap();
        assert_eq!(again.pending(), vec![1]);
        let other = Plan::create(dir.path(), "test", json!({}), 3).unwrap_err();
        assert!(other.to_string().contains("holds another plan"), "{other}");
        again.save_unit(1, 1.0, &"one").unwrap();
        let merged: Vec<String> = again
            .results::<String>()
            .unwrap()
            .into_iter()
            .map(|r| r.result)
            .collect();
        assert_eq!(merged, ["zero", "one", "two"]);
        assert!(again.save_unit(3, 0.0, &"three").is_err());
    }

    #[test]
    fn numbers_read_back_bit_for_bit() {
        // serde_json's default float parser may be one ulp off; merged results must equal
        // the single-process ones exactly (its `float_roundtrip` feature).
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan::create(dir.path(), "test", json!({}), 1).unwrap();
        let values = vec![1.6750200380146545, 0.985824239286772, 1e-300, 0.1 + 0.2];
        plan.save_unit(0, 0.0, &values).unwrap();
        let back = plan.results::<Vec<f64>>().unwrap().remove(0).result;
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&values));
    }

    #[test]
    fn a_file_that_is_not_a_plan_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PLAN_FILE);
        std::fs::write(&path, "{\"kind\": \"x\"}").unwrap();
        let err = Plan::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("plan.json") && err.contains("not a bumplab plan"),
            "{err}"
        );
        std::fs::write(&path, "not json").unwrap();
        assert!(Plan::open(&path).is_err());
        assert!(Plan::open(&dir.path().join("absent.json")).is_err());
    }
}
