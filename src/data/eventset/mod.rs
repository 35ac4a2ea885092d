//! `EventSet`: named numeric columns of events on a polars `DataFrame`, with optional roles
//! (truth label, weight, resonant mass).
//!
//! Selections, samples, splits and folds are *views*: they share the parent's columns and
//! keep only a list of row indices, so a five-fold cross-validation of a million events costs
//! five index arrays, not five copies of the data. Columns are gathered through the view when
//! they are read (e.g. into a tensor for training).

mod roles;
#[cfg(test)]
mod tests;

pub use self::roles::{Role, Roles};

use std::fmt;
use std::sync::Arc;

use polars::prelude::*;
use rand::seq::SliceRandom;

use super::NamedColumns;
use crate::error::{Error, Result, brief};
use crate::seed::{KFolds, rng_for};

/// A set of events.
#[derive(Clone)]
pub struct EventSet {
    frame: DataFrame,
    rows: Option<Arc<[IdxSize]>>,
    roles: Roles,
}

/// A train/test pair of one cross-validation fold; both are views of the same events.
#[derive(Clone)]
pub struct Fold {
    /// The events to train on (every fold but this one).
    pub train: EventSet,
    /// The held-out events of this fold.
    pub test: EventSet,
}

impl EventSet {
    /// Events from named columns of equal length. Roles are assigned by name: `label`,
    /// `weight`, and `mjj` as the mass.
    pub fn from_columns(columns: NamedColumns) -> Result<Self> {
        let height = columns.first().map_or(0, |(_, c)| c.len());
        let mut polars_columns = Vec::with_capacity(columns.len());
        for (name, values) in columns {
            if values.len() != height {
                return Err(Error::invalid(
                    "columns",
                    format!(
                        "column '{name}' has {} values but the first column has {height}",
                        values.len()
                    ),
                ));
            }
            polars_columns.push(Column::new(name.as_str().into(), values));
        }
        let frame = DataFrame::new(height, polars_columns)
            .map_err(|e| Error::invalid("columns", e.to_string()))?;
        Ok(Self::from_frame(frame))
    }

    /// Events from a polars frame; roles are assigned by name as in [`EventSet::from_columns`].
    pub fn from_frame(frame: DataFrame) -> Self {
        let has = |name: &str| frame.column(name).is_ok();
        let roles = Roles {
            label: has("label").then(|| "label".to_string()),
            weight: has("weight").then(|| "weight".to_string()),
            mass: has("mjj").then(|| "mjj".to_string()),
        };
        Self {
            frame,
            rows: None,
            roles,
        }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.rows.as_ref().map_or(self.frame.height(), |r| r.len())
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column names in order.
    pub fn columns(&self) -> Vec<String> {
        self.frame
            .get_column_names()
            .into_iter()
            .map(|n| n.to_string())
            .collect()
    }

    /// The column roles.
    pub fn roles(&self) -> &Roles {
        &self.roles
    }

    /// The column playing `role`, if any.
    pub fn role_column(&self, role: Role) -> Option<&str> {
        self.roles.get(role)
    }

    /// Assigns `role` to `column` (which must exist and suit the role: labels are 0 or 1,
    /// weights and masses finite numbers), or clears it with `None`.
    pub fn set_role(&mut self, role: Role, column: Option<&str>) -> Result<()> {
        if let Some(name) = column {
            self.require_column(name)?;
            let values = self.column(name).map_err(|_| {
                Error::invalid(
                    "set_role",
                    format!("column '{name}' is not numeric; a {} must be", role.name()),
                )
            })?;
            let unfit = |v: f64| match role {
                Role::Label => v != 0.0 && v != 1.0,
                Role::Weight | Role::Mass => !v.is_finite(),
            };
            if let Some(i) = values.iter().position(|&v| unfit(v)) {
                let wanted = match role {
                    Role::Label => "labels must be 0 (background) or 1 (signal)",
                    Role::Weight | Role::Mass => "it must be a finite number",
                };
                return Err(Error::invalid(
                    "set_role",
                    format!(
                        "column '{name}' cannot be the {}: event {i} holds {}; {wanted}",
                        role.name(),
                        values[i]
                    ),
                ));
            }
        }
        *self.roles.slot(role) = column.map(str::to_string);
        Ok(())
    }

    /// The values of column `name` as f64, one per event.
    pub fn column(&self, name: &str) -> Result<Vec<f64>> {
        let series = self.series(name)?;
        let values = series
            .f64()
            .map_err(|e| Error::invalid("column", e.to_string()))?;
        if values.null_count() > 0 {
            let row = values.iter().position(|v| v.is_none()).unwrap_or(0);
            return Err(Error::invalid(
                "column",
                format!("'{name}' has a missing value at event {row}"),
            ));
        }
        let all: Vec<f64> = values.into_no_null_iter().collect();
        Ok(match &self.rows {
            None => all,
            Some(rows) => rows.iter().map(|&i| all[i as usize]).collect(),
        })
    }

    /// Every numeric column as named f64 values (text columns are left out).
    pub fn numeric_columns(&self) -> NamedColumns {
        self.columns()
            .into_iter()
            .filter_map(|name| self.column(&name).ok().map(|v| (name, v)))
            .collect()
    }

    /// The values of column `name` as f32 (the tensor precision), one per event.
    pub fn column_f32(&self, name: &str) -> Result<Vec<f32>> {
        Ok(self.column(name)?.into_iter().map(|v| v as f32).collect())
    }

    /// The columns `names` as a row-major f32 matrix (`len() x names.len()`), ready for a tensor;
    /// an error names the column and row of a value that is NaN, infinite or beyond f32.
    pub fn matrix_f32(&self, names: &[String]) -> Result<Vec<f32>> {
        let columns = names
            .iter()
            .map(|n| self.column(n))
            .collect::<Result<Vec<_>>>()?;
        let n = self.len();
        let mut out = Vec::with_capacity(n * names.len());
        for row in 0..n {
            out.extend(columns.iter().map(|c| c[row] as f32));
        }
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            let (row, column) = (i / names.len(), &names[i % names.len()]);
            let value = columns[i % names.len()][row];
            let what = if value.is_finite() {
                format!("{value} is beyond the range of 32-bit floats")
            } else {
                format!("is {value}")
            };
            return Err(Error::invalid(
                "events",
                format!(
                    "column '{column}', row {row} {what}: network inputs must be finite \
                     numbers (select the events without such values first)"
                ),
            ));
        }
        Ok(out)
    }

    /// The column playing `role`, as values; an error naming the role if none does.
    pub fn role_values(&self, role: Role) -> Result<Vec<f64>> {
        let name = self.roles.get(role).ok_or_else(|| {
            Error::invalid(
                "event set",
                format!(
                    "no column has the {} role; set one with set_role(\"{}\", column)",
                    role.name(),
                    role.name()
                ),
            )
        })?;
        self.column(name)
    }

    /// The per-event weights: the weight column, or ones.
    pub fn weights(&self) -> Result<Vec<f64>> {
        match self.roles.weight {
            Some(_) => self.role_values(Role::Weight),
            None => Ok(vec![1.0; self.len()]),
        }
    }

    /// The events as a standalone polars frame (gathered if this is a view).
    pub fn frame(&self) -> Result<DataFrame> {
        match &self.rows {
            None => Ok(self.frame.clone()),
            Some(rows) => {
                let idx = IdxCa::from_vec("rows".into(), rows.to_vec());
                self.frame
                    .take(&idx)
                    .map_err(|e| Error::invalid("event set", e.to_string()))
            }
        }
    }

    /// The first `n` events (all if there are fewer).
    pub fn head(&self, n: usize) -> EventSet {
        self.view((0..n.min(self.len())).collect())
    }

    /// Events with `lo <= column < hi`.
    pub fn window(&self, column: &str, lo: f64, hi: f64) -> Result<EventSet> {
        check_range(column, lo, hi)?;
        let values = self.column(column)?;
        Ok(self.view(positions(&values, |v| v >= lo && v < hi)))
    }

    /// Events outside `[lo, hi)`: `column < lo` or `column >= hi` (the sidebands of a window).
    pub fn outside(&self, column: &str, lo: f64, hi: f64) -> Result<EventSet> {
        check_range(column, lo, hi)?;
        let values = self.column(column)?;
        Ok(self.view(positions(&values, |v| v < lo || v >= hi)))
    }

    /// Only the columns `names`, in that order; roles of dropped columns are cleared.
    pub fn select(&self, names: &[String]) -> Result<EventSet> {
        for name in names {
            self.require_column(name)?;
        }
        let frame = self
            .frame
            .select(names.iter().map(|n| n.as_str()))
            .map_err(|e| Error::invalid("select", e.to_string()))?;
        let keep = |c: &Option<String>| c.clone().filter(|c| names.contains(c));
        let roles = Roles {
            label: keep(&self.roles.label),
            weight: keep(&self.roles.weight),
            mass: keep(&self.roles.mass),
        };
        Ok(EventSet {
            frame,
            rows: self.rows.clone(),
            roles,
        })
    }

    /// These events with column `name` added (or replaced) by `values`, one per event.
    pub fn with_column(&self, name: &str, values: Vec<f64>) -> Result<EventSet> {
        if values.len() != self.len() {
            return Err(Error::invalid(
                "with_column",
                format!(
                    "'{name}' has {} values for {} events",
                    values.len(),
                    self.len()
                ),
            ));
        }
        let mut frame = self.frame()?;
        frame
            .with_column(Column::new(name.into(), values))
            .map_err(|e| Error::invalid("with_column", e.to_string()))?;
        Ok(EventSet {
            frame,
            rows: None,
            roles: self.roles.clone(),
        })
    }

    /// These events followed by `other`'s, which must have the same column names (in any
    /// order). The roles are this set's.
    pub fn concat(&self, other: &EventSet) -> Result<EventSet> {
        let mut ours = self.columns();
        let mut theirs = other.columns();
        ours.sort();
        theirs.sort();
        if ours != theirs {
            return Err(Error::invalid(
                "concat",
                format!(
                    "the event sets have different columns: [{}] vs [{}]",
                    self.columns().join(", "),
                    other.columns().join(", ")
                ),
            ));
        }
        let other_frame = other
            .frame()?
            .select(self.columns())
            .map_err(|e| Error::invalid("concat", e.to_string()))?;
        let frame = self
            .frame()?
            .vstack(&other_frame)
            .map_err(|e| Error::invalid("concat", e.to_string()))?;
        Ok(EventSet {
            frame,
            rows: None,
            roles: self.roles.clone(),
        })
    }

    /// `n` events drawn at random without replacement, using the random stream `seed`.
    pub fn sample(&self, n: usize, seed: u64) -> Result<EventSet> {
        if n > self.len() {
            return Err(Error::invalid(
                "sample",
                format!(
                    "cannot draw {n} events from {} without replacement",
                    self.len()
                ),
            ));
        }
        let mut order = self.permutation(seed);
        order.truncate(n);
        Ok(self.view(order))
    }

    /// The events in a random order drawn from stream `seed`.
    pub fn shuffle(&self, seed: u64) -> EventSet {
        self.view(self.permutation(seed))
    }

    /// A random split: the first set holds `round(fraction * len())` events, the second the
    /// rest; no event is in both.
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(EventSet, EventSet)> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(Error::invalid(
                "split fraction",
                format!("{fraction} is not between 0 and 1"),
            ));
        }
        let order = self.permutation(seed);
        let cut = (fraction * self.len() as f64).round() as usize;
        Ok((
            self.view(order[..cut].to_vec()),
            self.view(order[cut..].to_vec()),
        ))
    }

    /// `k` cross-validation folds: the events are shuffled with `seed` and dealt into `k`
    /// parts of (nearly) equal size ([`KFolds`], the split an ensemble's
    /// `MemberData::k_folds` makes with the same `k` and seed); fold `i` tests on part `i` and
    /// trains on the others.
    /// Every event is in exactly one test set, and never in its own fold's training set.
    pub fn kfold(&self, k: usize, seed: u64) -> Result<Vec<Fold>> {
        let folds = KFolds::new(self.len(), k, seed, "kfold")?;
        let positions = |rows: &[u32]| rows.iter().map(|&r| r as usize).collect::<Vec<_>>();
        Ok((0..k)
            .map(|i| Fold {
                train: self.view(positions(&folds.others(i))),
                test: self.view(positions(folds.fold(i))),
            })
            .collect())
    }

    /// Events for which `condition` holds, e.g. `"mjj > 3000 and tau21_1 < 0.5"`: an SQL-like
    /// condition in the language of [`super::condition`] (which also gives its size limits).
    /// A condition naming no column (`"true"`, `"1 > 0"`) keeps every event or none; an event
    /// for which it is `null` is not kept.
    pub fn filter(&self, condition: &str) -> Result<EventSet> {
        let parsed = super::condition::parse(condition)?;
        let failed = |e: PolarsError| super::condition::invalid(condition, brief(&e.to_string()));
        // Only the columns the condition reads are gathered through a view.
        let frame = self.select(&parsed.columns)?.frame()?;
        let result = frame
            .lazy()
            .select([parsed.expr.alias("__mask")])
            .collect()
            .map_err(failed)?;
        let mask = result.column("__mask").map_err(failed)?;
        let keep: Vec<usize> = match mask.dtype() {
            DataType::Boolean => {
                let mask = mask.bool().map_err(failed)?;
                match mask.len() {
                    // A constant condition gives one value, true or false for every event.
                    1 if self.len() != 1 => match mask.get(0) {
                        Some(true) => (0..self.len()).collect(),
                        _ => Vec::new(),
                    },
                    n if n == self.len() => mask
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| *m == Some(true))
                        .map(|(i, _)| i)
                        .collect(),
                    n => {
                        return Err(super::condition::invalid(
                            condition,
                            format!("it gives {n} values for {} events", self.len()),
                        ));
                    }
                }
            }
            // `null` (and anything made of it alone) keeps no event, as in SQL.
            DataType::Null => Vec::new(),
            other => {
                return Err(super::condition::invalid(
                    condition,
                    format!("it is not a true/false condition: it gives values of type {other}"),
                ));
            }
        };
        Ok(self.view(keep))
    }

    /// The events labelled signal (label role = 1).
    pub fn signal(&self) -> Result<EventSet> {
        let labels = self.role_values(Role::Label)?;
        Ok(self.view(positions(&labels, |v| v == 1.0)))
    }

    /// The events labelled background (label role = 0).
    pub fn background(&self) -> Result<EventSet> {
        let labels = self.role_values(Role::Label)?;
        Ok(self.view(positions(&labels, |v| v == 0.0)))
    }

    /// The events at `positions` (indices into this set, in that order), as a view that shares
    /// this set's columns.
    pub fn take(&self, positions: &[usize]) -> Result<EventSet> {
        if let Some(&bad) = positions.iter().find(|&&p| p >= self.len()) {
            return Err(Error::invalid(
                "take",
                format!(
                    "event {bad} does not exist: there are {} events",
                    self.len()
                ),
            ));
        }
        Ok(self.view(positions.to_vec()))
    }

    /// A view of the events at `positions` (indices into this set).
    fn view(&self, positions: Vec<usize>) -> EventSet {
        let rows: Arc<[IdxSize]> = match &self.rows {
            None => positions.into_iter().map(|p| p as IdxSize).collect(),
            Some(rows) => positions.into_iter().map(|p| rows[p]).collect(),
        };
        EventSet {
            frame: self.frame.clone(),
            rows: Some(rows),
            roles: self.roles.clone(),
        }
    }

    fn permutation(&self, seed: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut rng_for(seed, 0));
        order
    }

    /// The position of column `name`, found by comparing names rather than through polars'
    /// hashed schema: in an evcxr notebook each cell links its own copy of polars, whose
    /// hash seeds differ, so a frame made in one cell cannot be looked up by hash in another.
    fn column_index(&self, name: &str) -> Result<usize> {
        self.frame
            .get_column_names()
            .iter()
            .position(|c| c.as_str() == name)
            .ok_or_else(|| {
                Error::invalid(
                    "column",
                    format!(
                        "no column '{name}'; the columns are {}",
                        self.columns().join(", ")
                    ),
                )
            })
    }

    fn require_column(&self, name: &str) -> Result<()> {
        self.column_index(name).map(|_| ())
    }

    fn series(&self, name: &str) -> Result<Series> {
        let column = self
            .frame
            .select_at_idx(self.column_index(name)?)
            .expect("the index comes from the frame's own names");
        if !(column.dtype().is_primitive_numeric() || column.dtype() == &DataType::Boolean) {
            return Err(Error::invalid(
                "column",
                format!("'{name}' is not numeric ({})", column.dtype()),
            ));
        }
        column
            .as_materialized_series()
            .cast(&DataType::Float64)
            .map_err(|_| {
                Error::invalid(
                    "column",
                    format!("'{name}' is not numeric ({})", column.dtype()),
                )
            })
    }
}

impl fmt::Display for EventSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let roles: Vec<String> = [Role::Label, Role::Weight, Role::Mass]
            .into_iter()
            .filter_map(|r| self.roles.get(r).map(|c| format!("{}: {c}", r.name())))
            .collect();
        write!(
            f,
            "EventSet: {} events x {} columns",
            self.len(),
            self.frame.width()
        )?;
        if !roles.is_empty() {
            write!(f, " ({})", roles.join(", "))?;
        }
        match self.head(8).frame() {
            Ok(head) => write!(f, "\n{head}"),
            Err(_) => Ok(()),
        }
    }
}

impl fmt::Debug for EventSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSet")
            .field("events", &self.len())
            .field("columns", &self.columns())
            .field("roles", &self.roles)
            .field("view", &self.rows.is_some())
            .finish()
    }
}

fn check_range(column: &str, lo: f64, hi: f64) -> Result<()> {
    if lo.is_nan() || hi.is_nan() || lo >= hi {
        return Err(Error::invalid(
            "window",
            format!("[{lo}, {hi}) on '{column}' is empty; lo must be below hi"),
        ));
    }
    Ok(())
}

fn positions(values: &[f64], keep: impl Fn(f64) -> bool) -> Vec<usize> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| keep(**v))
        .map(|(i, _)| i)
        .collect()
}
