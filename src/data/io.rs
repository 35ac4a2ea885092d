//! Reading and writing event sets as CSV and Parquet. Writers are atomic (temporary file,
//! then rename); readers name the file, line and column of any bad value.
//!
//! Roles are not stored in the files: on reading, columns named `label`, `weight` and `mjj`
//! take those roles, as for any new event set.

use std::path::Path;

use polars::prelude::*;

use super::eventset::EventSet;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

/// Reads a CSV file with a header line. Numeric columns become f64; a column of text stays
/// text (usable as a tag, not as a feature). An empty, non-numeric or NaN value in a numeric
/// column is an error naming its line and column.
pub fn read_csv(path: &Path) -> Result<EventSet> {
    require_file(path)?;
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|reader| reader.finish())
        .map_err(|e| Error::format(path, "CSV", e.to_string()))?;
    if frame.width() == 0 {
        return Err(Error::format(
            path,
            "line 1",
            "no header line: the file is empty",
        ));
    }
    let frame = numeric_columns(path, frame, 2)?;
    Ok(EventSet::from_frame(frame))
}

/// Reads a Parquet file. Numeric columns become f64; a missing (null) or NaN value is an error
/// naming its row and column.
pub fn read_parquet(path: &Path) -> Result<EventSet> {
    require_file(path)?;
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let frame = ParquetReader::new(file)
        .finish()
        .map_err(|e| Error::format(path, "Parquet", format!("not a readable Parquet file: {e}")))?;
    let frame = numeric_columns(path, frame, 0)?;
    Ok(EventSet::from_frame(frame))
}

/// Writes `events` as CSV with a header line, atomically.
pub fn write_csv(events: &EventSet, path: &Path) -> Result<()> {
    let mut frame = events.frame()?;
    let mut bytes = Vec::new();
    CsvWriter::new(&mut bytes)
        .include_header(true)
        .finish(&mut frame)
        .map_err(|e| Error::invalid("write_csv", e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Writes `events` as Parquet, atomically.
pub fn write_parquet(events: &EventSet, path: &Path) -> Result<()> {
    let mut frame = events.frame()?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(&mut frame)
        .map_err(|e| Error::invalid("write_parquet", e.to_string()))?;
    write_atomic(path, &bytes)
}

fn require_file(path: &Path) -> Result<()> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|e| Error::io("read", path, e))
}

/// Casts numeric columns to f64 and checks them; `first_line` is the file line of row 0 for
/// CSV (2: after the header), or 0 to report rows instead of lines.
fn numeric_columns(path: &Path, frame: DataFrame, first_line: usize) -> Result<DataFrame> {
    let place = |row: usize, name: &str| {
        if first_line > 0 {
            format!("line {}, column '{name}'", row + first_line)
        } else {
            format!("row {row}, column '{name}'")
        }
    };
    let mut columns = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let series = column.as_materialized_series();
        let name = series.name().to_string();
        if series.dtype().is_primitive_numeric() || series.dtype() == &DataType::Boolean {
            let values = series
                .cast(&DataType::Float64)
                .map_err(|e| Error::format(path, place(0, &name), e.to_string()))?;
            let floats = values
                .f64()
                .map_err(|e| Error::format(path, place(0, &name), e.to_string()))?;
            for (row, v) in floats.iter().enumerate() {
                match v {
                    None => return Err(Error::format(path, place(row, &name), "missing value")),
                    Some(x) if x.is_nan() => {
                        return Err(Error::format(path, place(row, &name), "value is NaN"));
                    }
                    Some(_) => {}
                }
            }
            columns.push(values.into_column());
        } else if let Ok(text) = series.str() {
            let parses = |s: &str| s.trim().parse::<f64>().is_ok();
            if text.iter().flatten().any(parses) {
                let (row, bad) = text
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !v.is_some_and(parses))
                    .map(|(row, v)| (row, v.unwrap_or("")))
                    .unwrap_or((0, ""));
                return Err(Error::format(
                    path,
                    place(row, &name),
                    format!("'{bad}' is not a number"),
                ));
            }
            columns.push(column.clone());
        } else {
            columns.push(column.clone());
        }
    }
    DataFrame::new(frame.height(), columns)
        .map_err(|e| Error::format(path, "columns", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EventSet {
        EventSet::from_columns(vec![
            ("mjj".into(), vec![3000.0, 3500.5, 4100.25]),
            ("tau21_1".into(), vec![0.5, 0.25, 0.75]),
            ("label".into(), vec![0.0, 1.0, 0.0]),
        ])
        .unwrap()
    }

    #[test]
    fn csv_and_parquet_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let ev = sample();
        let csv = dir.path().join("ev.csv");
        write_csv(&ev, &csv).unwrap();
        let back = read_csv(&csv).unwrap();
        assert_eq!(back.columns(), ev.columns());
        assert_eq!(back.column("mjj").unwrap(), ev.column("mjj").unwrap());
        assert_eq!(back.roles(), ev.roles());
        let pq = dir.path().join("ev.parquet");
        write_parquet(&ev.window("mjj", 3200.0, 5000.0).unwrap(), &pq).unwrap();
        let back = read_parquet(&pq).unwrap();
        assert_eq!(back.column("tau21_1").unwrap(), vec![0.25, 0.75]);
    }

    fn csv_error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, text).unwrap();
        read_csv(&path).unwrap_err().to_string()
    }

    #[test]
    fn bad_csv_values_are_located() {
        let err = csv_error("a,b\n1,2\n3,\n");
        assert!(
            err.ends_with("bad.csv: line 3, column 'b': missing value"),
            "{err}"
        );
        let err = csv_error("a,b\n1,2\n3,x\n");
        assert!(
            err.ends_with("bad.csv: line 3, column 'b': 'x' is not a number"),
            "{err}"
        );
        let err = csv_error("a,b\n1,NaN\n");
        assert!(
            err.ends_with("bad.csv: line 2, column 'b': value is NaN"),
            "{err}"
        );
        let err = csv_error("");
        assert!(err.contains("bad.csv"), "{err}");
        let err = csv_error("a,b\n1,2,3,4\n");
        assert!(err.contains("bad.csv"), "{err}");
    }

    #[test]
    fn text_columns_are_kept_as_tags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tags.csv");
        std::fs::write(&path, "x,process\n1.5,ttbar\n2.5,wjets\n").unwrap();
        let ev = read_csv(&path).unwrap();
        assert_eq!(ev.column("x").unwrap(), vec![1.5, 2.5]);
        assert!(
            ev.column("process")
                .unwrap_err()
                .to_string()
                .contains("not numeric")
        );
    }

    #[test]
    fn missing_and_non_parquet_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.csv");
        assert!(
            read_csv(&missing)
                .unwrap_err()
                .to_string()
                .contains("none.csv")
        );
        let junk = dir.path().join("junk.parquet");
        std::fs::write(&junk, b"not parquet at all").unwrap();
        let err = read_parquet(&junk).unwrap_err().to_string();
        assert!(
            err.contains("junk.parquet: Parquet: not a readable Parquet file"),
            "{err}"
        );
    }
}
