//! Per-column summary statistics (`events.describe()`).

use std::fmt;

use super::eventset::EventSet;
use crate::error::Result;

/// Summary statistics of one column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// Number of values.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// First quartile.
    pub q25: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q75: f64,
    /// Largest value.
    pub max: f64,
}

impl ColumnSummary {
    /// The statistic called `stat` (`count`, `mean`, `std`, `min`, `q25`, `median`, `q75`, `max`).
    pub fn get(&self, stat: &str) -> Option<f64> {
        Some(match stat {
            "count" => self.count as f64,
            "mean" => self.mean,
            "std" => self.std,
            "min" => self.min,
            "q25" => self.q25,
            "median" | "q50" => self.median,
            "q75" => self.q75,
            "max" => self.max,
            _ => return None,
        })
    }
}

/// Summaries of every numeric column of an event set.
#[derive(Clone, Debug, PartialEq)]
pub struct Description {
    /// One summary per column, in column order.
    pub columns: Vec<ColumnSummary>,
}

/// The names of the statistics in a [`ColumnSummary`], in table order.
pub const STATISTICS: [&str; 8] = ["count", "mean", "std", "min", "q25", "median", "q75", "max"];

/// Describes every numeric column of `events` (non-numeric columns are skipped).
pub fn describe(events: &EventSet) -> Result<Description> {
    let mut columns = Vec::new();
    for name in events.columns() {
        if let Ok(values) = events.column(&name) {
            columns.push(summarise(name, values));
        }
    }
    Ok(Description { columns })
}

fn summarise(name: String, mut values: Vec<f64>) -> ColumnSummary {
    let count = values.len();
    if count == 0 {
        return ColumnSummary {
            name,
            count,
            mean: f64::NAN,
            std: f64::NAN,
            min: f64::NAN,
            q25: f64::NAN,
            median: f64::NAN,
            q75: f64::NAN,
            max: f64::NAN,
        };
    }
    let mean = values.iter().sum::<f64>() / count as f64;
    let std = if count > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (count - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    values.sort_by(f64::total_cmp);
    ColumnSummary {
        name,
        count,
        mean,
        std,
        min: values[0],
        q25: quantile_sorted(&values, 0.25),
        median: quantile_sorted(&values, 0.5),
        q75: quantile_sorted(&values, 0.75),
        max: values[count - 1],
    }
}

/// The `q` quantile of sorted `values` with linear interpolation between order statistics
/// (numpy's default), for non-empty input.
pub fn quantile_sorted(values: &[f64], q: f64) -> f64 {
    let position = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    values[below] + (values[above] - values[below]) * (position - below as f64)
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .columns
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(6)
            .max(6);
        write!(f, "{:<width$}", "column")?;
        for stat in STATISTICS {
            write!(f, " {stat:>11}")?;
        }
        for c in &self.columns {
            write!(f, "\n{:<width$}", c.name)?;
            for stat in STATISTICS {
                let v = c.get(stat).unwrap_or(f64::NAN);
                if stat == "count" {
                    write!(f, " {:>11}", c.count)?;
                } else {
                    write!(f, " {:>11}", format_number(v))?;
                }
            }
        }
        Ok(())
    }
}

/// A number in at most 11 characters: fixed notation where readable, scientific otherwise.
fn format_number(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || (1e-3..1e6).contains(&a) {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert_eq!(quantile_sorted(&v, 0.25), 1.75);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
    }

    #[test]
    fn summary_of_known_values() {
        let s = summarise("x".into(), vec![4.0, 1.0, 3.0, 2.0]);
        assert_eq!(
            (s.count, s.mean, s.min, s.max, s.median),
            (4, 2.5, 1.0, 4.0, 2.5)
        );
        assert!((s.std - 1.2909944487358056).abs() < 1e-12);
        assert_eq!(s.get("q75"), Some(3.25));
        assert_eq!(s.get("nope"), None);
    }
}
