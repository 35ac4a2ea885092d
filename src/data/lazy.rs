//! Event sets larger than memory: a lazy query over Parquet files ([`LazyEvents`]) whose
//! selections, derived columns, counts and histograms run on polars' streaming engine, one
//! batch of rows at a time, so that memory stays bounded whatever the number of events. Only
//! [`LazyEvents::collect`] materialises events, after checking that they fit.

use std::path::Path;
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::binning::{check_edges, find_bin};
use super::eventset::EventSet;
use super::io::{guarded, numeric_columns, polars_message};
use crate::error::{Error, Result};
use crate::stats::hist::Hist1D;

/// A query over the events of one or more Parquet files, run only when counted,
/// histogrammed or collected.
#[derive(Clone)]
pub struct LazyEvents {
    frame: LazyFrame,
    /// The files scanned, as given (a path or a glob pattern).
    source: String,
    /// The columns after the query's steps.
    columns: Vec<String>,
    /// The mass column (the collected events' mass role).
    mass: String,
    /// The query's steps in words, in order.
    steps: Vec<String>,
}

impl std::fmt::Debug for LazyEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LazyEvents({self})")
    }
}

impl std::fmt::Display for LazyEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "lazy events from {}: columns {}",
            self.source,
            self.columns.join(", ")
        )?;
        for step in &self.steps {
            write!(f, "; {step}")?;
        }
        Ok(())
    }
}

impl LazyEvents {
    /// The events of the Parquet file `pattern`, or of every file it matches as a glob
    /// (`dir/*.parquet`), scanned lazily: only the schema is read now. The files must share
    /// their columns. The mass column is `mjj` (see [`with_mass`](Self::with_mass)).
    pub fn scan_parquet(pattern: &str) -> Result<Self> {
        let no_files = || {
            Error::invalid(
                "scan_parquet",
                format!("no Parquet file matches '{pattern}'"),
            )
        };
        let is_glob = pattern.contains(['*', '?', '[']);
        if !is_glob && !Path::new(pattern).is_file() {
            return Err(no_files());
        }
        let args = ScanArgsParquet {
            glob: is_glob,
            ..ScanArgsParquet::default()
        };
        let failed = |e: PolarsError| {
            Error::format(
                pattern,
                "Parquet",
                format!("cannot scan: {}", polars_message(&e)),
            )
        };
        let scan = || -> Result<(LazyFrame, Vec<String>)> {
            let mut frame =
                LazyFrame::scan_parquet(PlRefPath::new(pattern), args).map_err(failed)?;
            let schema = frame.collect_schema().map_err(|e| {
                if polars_message(&e).contains("expanded paths were empty") {
                    no_files()
                } else {
                    failed(e)
                }
            })?;
            Ok((frame, schema.iter_names().map(|n| n.to_string()).collect()))
        };
        let (frame, columns) = guarded(Path::new(pattern), "Parquet", scan)??;
        Ok(Self {
            frame,
            source: pattern.to_string(),
            columns,
            mass: "mjj".into(),
            steps: Vec::new(),
        })
    }

    /// The columns after the query's steps.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The mass column (the collected events' mass role).
    pub fn mass(&self) -> &str {
        &self.mass
    }

    /// The same query with `column` as its mass column.
    pub fn with_mass(&self, column: &str) -> Result<Self> {
        self.check_column(column)?;
        Ok(Self {
            mass: column.to_string(),
            ..self.clone()
        })
    }

    fn check_column(&self, column: &str) -> Result<()> {
        if self.columns.iter().any(|c| c == column) {
            Ok(())
        } else {
            Err(Error::invalid(
                "column",
                format!(
                    "'{column}' is not a column of {} (columns: {})",
                    self.source,
                    self.columns.join(", ")
                ),
            ))
        }
    }

    /// This query with a step: a new frame, the columns and the step in words.
    fn then(&self, frame: LazyFrame, columns: Vec<String>, step: String) -> Self {
        let mut steps = self.steps.clone();
        steps.push(step);
        Self {
            frame,
            columns,
            steps,
            ..self.clone()
        }
    }

    /// The events with `lo <= column < hi`.
    pub fn window(&self, column: &str, lo: f64, hi: f64) -> Result<Self> {
        self.check_column(column)?;
        if !(lo < hi) {
            return Err(Error::invalid(
                "window",
                format!("[{lo}, {hi}) is empty: give lo < hi"),
            ));
        }
        let keep = col(column).gt_eq(lit(lo)).and(col(column).lt(lit(hi)));
        Ok(self.then(
            self.frame.clone().filter(keep),
            self.columns.clone(),
            format!("{lo} <= {column} < {hi}"),
        ))
    }

    /// The events for which `condition` holds, in the condition language of
    /// [`EventSet::filter`] (e.g. `"tau21_1 < 0.4 and mj1 > 300"`).
    pub fn filter(&self, condition: &str) -> Result<Self> {
        let parsed = super::condition::parse(condition)?;
        for c in &parsed.columns {
            self.check_column(c)?;
        }
        let mut test = self
            .frame
            .clone()
            .select([parsed.expr.clone().alias("__keep")]);
        let schema = test
            .collect_schema()
            .map_err(|e| super::condition::invalid(condition, polars_message(&e)))?;
        match schema.get("__keep") {
            Some(DataType::Boolean | DataType::Null) => {}
            other => {
                return Err(super::condition::invalid(
                    condition,
                    format!(
                        "it is not a true/false condition: it gives values of type {}",
                        other.map_or("unknown".to_string(), |t| t.to_string())
                    ),
                ));
            }
        }
        Ok(self.then(
            self.frame.clone().filter(parsed.expr),
            self.columns.clone(),
            format!("where {condition}"),
        ))
    }

    /// Only `columns`, in that order.
    pub fn select(&self, columns: &[String]) -> Result<Self> {
        if columns.is_empty() {
            return Err(Error::invalid("select", "name at least one column"));
        }
        for c in columns {
            self.check_column(c)?;
        }
        let exprs: Vec<Expr> = columns.iter().map(|c| col(c.as_str())).collect();
        Ok(self.then(
            self.frame.clone().select(exprs),
            columns.to_vec(),
            format!("columns {}", columns.join(", ")),
        ))
    }

    /// A new column `name` = `numerator` / `denominator` (e.g. tau21 from tau2 and tau1, or a
    /// jet mass over mjj).
    pub fn with_ratio(&self, name: &str, numerator: &str, denominator: &str) -> Result<Self> {
        self.check_column(numerator)?;
        self.check_column(denominator)?;
        if self.columns.iter().any(|c| c == name) {
            return Err(Error::invalid(
                "with_ratio",
                format!("'{name}' is already a column"),
            ));
        }
        let ratio = (col(numerator).cast(DataType::Float64)
            / col(denominator).cast(DataType::Float64))
        .alias(name);
        let mut columns = self.columns.clone();
        columns.push(name.to_string());
        Ok(self.then(
            self.frame.clone().with_column(ratio),
            columns,
            format!("{name} = {numerator}/{denominator}"),
        ))
    }

    /// Runs `frame` on the streaming engine, polars' errors and panics becoming errors naming
    /// the files.
    fn run(&self, frame: LazyFrame) -> Result<DataFrame> {
        let failed = |e: PolarsError| {
            Error::format(
                &self.source,
                "Parquet",
                format!("the query failed: {}", polars_message(&e)),
            )
        };
        guarded(Path::new(&self.source), "Parquet", || {
            frame
                .collect_with_engine(Engine::Streaming)
                .map(|r| r.unwrap_single())
                .map_err(failed)
        })?
    }

    /// The number of events the query selects (streamed).
    pub fn count(&self) -> Result<usize> {
        let frame = self.run(self.frame.clone().select([len().alias("n")]))?;
        let n = frame
            .column("n")
            .and_then(|c| c.cast(&DataType::UInt64))
            .map_err(|e| Error::invalid("count", polars_message(&e)))?;
        let n = n
            .u64()
            .map_err(|e| Error::invalid("count", polars_message(&e)))?
            .get(0)
            .unwrap_or(0);
        Ok(n as usize)
    }

    /// The histogram of `column` over the selected events in bins `edges`, streamed in
    /// batches (values outside the edges are not counted). A null, NaN or infinite value is
    /// an error naming the column.
    pub fn hist(&self, column: &str, edges: Vec<f64>) -> Result<Hist1D> {
        self.check_column(column)?;
        check_edges(&edges)?;
        let tally = Arc::new(Mutex::new(Tally {
            counts: vec![0.0; edges.len() - 1],
            bad: 0,
        }));
        let (sink_tally, sink_edges) = (tally.clone(), edges.clone());
        let callback = PlanCallback::new(move |batch: DataFrame| {
            let values = batch.columns()[0].cast(&DataType::Float64)?;
            let values = values.f64()?;
            let mut counts = vec![0.0; sink_edges.len() - 1];
            let mut bad = values.null_count();
            for x in values.into_no_null_iter() {
                if !x.is_finite() {
                    bad += 1;
                } else if let Some(b) = find_bin(&sink_edges, x) {
                    counts[b] += 1.0;
                }
            }
            let mut tally = sink_tally.lock().unwrap_or_else(|e| e.into_inner());
            tally.bad += bad;
            for (t, c) in tally.counts.iter_mut().zip(counts) {
                *t += c;
            }
            Ok(false)
        });
        let frame = self
            .frame
            .clone()
            .select([col(column)])
            .sink_batches(callback, false, None)
            .map_err(|e| Error::invalid("hist", polars_message(&e)))?;
        self.run(frame)?;
        let tally = tally.lock().unwrap_or_else(|e| e.into_inner());
        if tally.bad > 0 {
            return Err(Error::format(
                &self.source,
                format!("column '{column}'"),
                format!("{} values are null, NaN or infinite", tally.bad),
            ));
        }
        Hist1D::from_counts(edges, tally.counts.clone())
    }

    /// The selected events in memory, as an event set (its roles by column name, as
    /// `read_parquet` gives them); an error, before reading, when they would not fit in the
    /// memory available, and one naming the row and column of a null, NaN or infinite value.
    pub fn collect(&self) -> Result<EventSet> {
        let rows = self.count()?;
        // The streamed frame and its checked f64 copy.
        crate::memory::check(
            &format!("{rows} events × {} columns", self.columns.len()),
            rows as f64 * self.columns.len() as f64 * 8.0 * 2.0,
        )?;
        let frame = self.run(self.frame.clone())?;
        let place = |row: usize, name: &str| format!("selected row {row}, column '{name}'");
        let frame = numeric_columns(Path::new(&self.source), frame, &place)?;
        let mut events = EventSet::from_frame(frame);
        if self.columns.contains(&self.mass) {
            events.set_role(super::eventset::Role::Mass, Some(&self.mass))?;
        }
        Ok(events)
    }
}

/// A histogram's counts while batches stream in, and the values that could not be binned.
struct Tally {
    counts: Vec<f64>,
    bad: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::io::write_parquet;

    /// Three Parquet files of `n` events each with columns mjj, tau1, tau2; the events
    /// together in memory.
    fn files(dir: &Path, n: usize) -> EventSet {
        let mut all: Option<EventSet> = None;
        for f in 0..3 {
            let mjj: Vec<f64> = (0..n)
                .map(|i| 2000.0 + ((i * 7919 + f * 31) % 4000) as f64)
                .collect();
            let tau1: Vec<f64> = (0..n).map(|i| 0.2 + (i % 10) as f64 * 0.05).collect();
            let tau2: Vec<f64> = (0..n).map(|i| 0.1 + (i % 7) as f64 * 0.02).collect();
            let events = EventSet::from_columns(vec![
                ("mjj".into(), mjj),
                ("tau1".into(), tau1),
                ("tau2".into(), tau2),
            ])
            .unwrap();
            write_parquet(&events, &dir.join(format!("part-{f}.parquet"))).unwrap();
            all = Some(match all {
                None => events,
                Some(a) => a.concat(&events).unwrap(),
            });
        }
        all.unwrap()
    }

    #[test]
    fn a_lazy_query_counts_histograms_and_collects_what_the_events_in_memory_give() {
        let dir = tempfile::tempdir().unwrap();
        let all = files(dir.path(), 5_000);
        let pattern = format!("{}/*.parquet", dir.path().display());
        let lazy = LazyEvents::scan_parquet(&pattern).unwrap();
        assert_eq!(lazy.columns(), ["mjj", "tau1", "tau2"]);
        assert_eq!(lazy.count().unwrap(), 15_000);
        let mjj = all.column("mjj").unwrap();
        let edges: Vec<f64> = (0..=20).map(|i| 2000.0 + 200.0 * i as f64).collect();
        let streamed = lazy.hist("mjj", edges.clone()).unwrap();
        let in_memory = Hist1D::fill(edges.clone(), &mjj, None).unwrap();
        assert_eq!(streamed.counts(), in_memory.counts());
        // A window, a derived column, a projection: the same events as in memory.
        let window = lazy
            .window("mjj", 3300.0, 3700.0)
            .unwrap()
            .with_ratio("tau21", "tau2", "tau1")
            .unwrap()
            .select(&["mjj".into(), "tau21".into()])
            .unwrap();
        let expected: Vec<usize> = (0..mjj.len())
            .filter(|&i| (3300.0..3700.0).contains(&mjj[i]))
            .collect();
        assert_eq!(window.count().unwrap(), expected.len());
        let collected = window.collect().unwrap();
        assert_eq!(collected.columns(), ["mjj", "tau21"]);
        assert_eq!(collected.roles().mass.as_deref(), Some("mjj"));
        let (tau1, tau2) = (all.column("tau1").unwrap(), all.column("tau2").unwrap());
        let mut want: Vec<(f64, f64)> = expected
            .iter()
            .map(|&i| (mjj[i], tau2[i] / tau1[i]))
            .collect();
        let got_m = collected.column("mjj").unwrap();
        let got_t = collected.column("tau21").unwrap();
        let mut got: Vec<(f64, f64)> = got_m.into_iter().zip(got_t).collect();
        want.sort_by(|a, b| a.partial_cmp(b).unwrap());
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(got, want);
        assert!(
            window
                .to_string()
                .contains("3300 <= mjj < 3700; tau21 = tau2/tau1"),
            "{window}"
        );
        // A condition, as EventSet::filter reads it.
        let cut = lazy.filter("tau1 < 0.4 and mjj >= 3000").unwrap();
        let in_memory = all.filter("tau1 < 0.4 and mjj >= 3000").unwrap();
        assert_eq!(cut.count().unwrap(), in_memory.len());
        assert!(
            cut.to_string().contains("where tau1 < 0.4 and mjj >= 3000"),
            "{cut}"
        );
    }

    #[test]
    fn bad_queries_and_bad_values_are_errors_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        files(dir.path(), 100);
        let missing = format!("{}/nothing-*.parquet", dir.path().display());
        let err = LazyEvents::scan_parquet(&missing).unwrap_err().to_string();
        assert!(err.contains("no Parquet file matches"), "{err}");
        let lazy =
            LazyEvents::scan_parquet(&format!("{}/*.parquet", dir.path().display())).unwrap();
        let err = lazy.window("pt", 0.0, 1.0).unwrap_err().to_string();
        assert!(
            err.contains("'pt' is not a column") && err.contains("mjj, tau1, tau2"),
            "{err}"
        );
        let err = lazy.filter("pt > 3").unwrap_err().to_string();
        assert!(err.contains("'pt' is not a column"), "{err}");
        let err = lazy.filter("tau1 + 1").unwrap_err().to_string();
        assert!(err.contains("not a true/false condition"), "{err}");
        let err = lazy.filter("tau1 <").unwrap_err().to_string();
        assert!(err.contains("filter condition"), "{err}");
        let err = lazy.window("mjj", 3.0, 3.0).unwrap_err().to_string();
        assert!(err.contains("lo < hi"), "{err}");
        let err = lazy
            .with_ratio("tau1", "tau2", "tau1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("already a column"), "{err}");
        // A ratio with a zero denominator is infinite: the histogram says so.
        let zero = EventSet::from_columns(vec![
            ("mjj".into(), vec![3000.0, 3100.0]),
            ("tau1".into(), vec![0.0, 0.5]),
            ("tau2".into(), vec![0.1, 0.2]),
        ])
        .unwrap();
        let one = dir.path().join("zero.parquet");
        write_parquet(&zero, &one).unwrap();
        let lazy = LazyEvents::scan_parquet(one.to_str().unwrap()).unwrap();
        let err = lazy
            .with_ratio("tau21", "tau2", "tau1")
            .unwrap()
            .hist("tau21", vec![0.0, 0.5, 1.0])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'tau21'") && err.contains("1 values are null, NaN or infinite"),
            "{err}"
        );
        let err = LazyEvents::scan_parquet(dir.path().join("absent.parquet").to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no Parquet file matches"), "{err}");
    }
}
