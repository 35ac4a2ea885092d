//! Reading and writing event sets as CSV and Parquet. Writers stream to disk atomically
//! ([`crate::fsutil::write_atomic_with`]); readers name the file, line (CSV) or row (Parquet)
//! and column of any bad value, and refuse values that are not finite numbers.
//!
//! Roles are not stored in the files: on reading, columns named `label`, `weight` and `mjj`
//! take those roles, as for any new event set.

mod csv_scan;
mod parquet_pages;

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use super::eventset::EventSet;
use super::input;
use crate::error::{Error, Result, quoted};
use crate::fsutil::write_atomic_with;

/// Memory a CSV file may need for each of its bytes once read: a number (8 bytes) takes at
/// least two characters with its separator.
const CSV_BYTES_PER_CHARACTER: f64 = 4.0;

/// Characters of a polars error message kept when nothing better explains it.
const MESSAGE_CHARS: usize = 200;

/// Reads a CSV file with a header line. Numeric columns become f64; a column of text stays
/// text (usable as a tag, not as a feature). An empty, non-numeric, NaN or infinite value in
/// a numeric column is an error naming its line and column; so is a line with more fields
/// than the header, an unclosed quote or text that is not UTF-8.
pub fn read_csv(path: &Path) -> Result<EventSet> {
    let input = input::open_within_memory(path, CSV_BYTES_PER_CHARACTER)?;
    // `None`: polars infers each column's type from all its values; `Some(0)`: all are text.
    let read = |input: input::Input, infer: Option<usize>| {
        let options = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(infer);
        guarded(path, "CSV", || {
            options.into_reader_with_file_handle(input.file).finish()
        })
    };
    let frame = match read(input, None)? {
        Ok(frame) => frame,
        Err(error) => {
            if let Some((line, problem)) = csv_scan::structural_problem(path) {
                return Err(Error::format(path, format!("line {line}"), problem));
            }
            // Polars infers a column of whole numbers as 64-bit integers and then fails on
            // one beyond their range: read every column as text, which `numeric_columns`
            // parses as numbers (as floats), naming the line of any bad value.
            read(input::open(path)?, Some(0))?
                .map_err(|_| Error::format(path, "CSV", polars_message(&error)))?
        }
    };
    if frame.width() == 0 {
        return Err(Error::format(
            path,
            "line 1",
            "no header line: the file is empty",
        ));
    }
    let place = |row: usize, name: &str| {
        let line = csv_scan::line_of_row(path, row)
            .map_or_else(|| format!("row {row}"), |line| format!("line {line}"));
        format!("{line}, column {}", quoted(name))
    };
    let frame = numeric_columns(path, frame, &place)?;
    Ok(EventSet::from_frame(frame))
}

/// Reads a Parquet file. Numeric columns become f64; a missing (null), NaN or infinite value
/// is an error naming its row (counted from 0) and column.
pub fn read_parquet(path: &Path) -> Result<EventSet> {
    let file = input::open(path)?.file;
    let unreadable = |e: PolarsError| {
        Error::format(
            path,
            "Parquet",
            format!("not a readable Parquet file: {}", polars_message(&e)),
        )
    };
    let read = || {
        let mut reader = ParquetReader::new(file);
        let metadata = reader.get_metadata().map_err(unreadable)?.clone();
        let columns = reader.schema().map_err(unreadable)?.len();
        let groups = metadata.row_groups.iter().map(|g| g.num_rows());
        check_claimed_rows(path, metadata.num_rows, groups, columns)?;
        let mut pages = input::open(path)?.file;
        for (g, group) in metadata.row_groups.iter().enumerate() {
            for (c, column) in group.parquet_columns().iter().enumerate() {
                let chunk = parquet_pages::Chunk {
                    bytes: column.byte_range(),
                    values: column.num_values(),
                };
                parquet_pages::check_chunk(&mut pages, &chunk).map_err(|problem| {
                    Error::format(
                        path,
                        format!("Parquet row group {g}, column chunk {c}"),
                        format!("{problem}: the file is damaged"),
                    )
                })?;
            }
        }
        reader.finish().map_err(unreadable)
    };
    let frame = guarded(path, "Parquet", read)??;
    let place = |row: usize, name: &str| format!("row {row}, column {}", quoted(name));
    let frame = numeric_columns(path, frame, &place)?;
    Ok(EventSet::from_frame(frame))
}

/// Refuses a Parquet footer whose row counts disagree (the file's total against its row
/// groups') or claim more values than this machine's memory could hold as numbers: polars
/// would abort the whole process failing to allocate them, where a damaged file deserves an
/// error.
fn check_claimed_rows(
    path: &Path,
    rows: usize,
    mut groups: impl Iterator<Item = usize>,
    columns: usize,
) -> Result<()> {
    let damaged = |problem: String| Error::format(path, "Parquet footer", problem);
    let summed = groups.try_fold(0usize, |total, n| total.checked_add(n));
    if summed != Some(rows) {
        return Err(damaged(format!(
            "the file claims {rows} rows but its row groups hold a different number: the file \
             is damaged"
        )));
    }
    let bytes = rows
        .checked_mul(columns.max(1))
        .and_then(|n| n.checked_mul(8));
    let memory = memory_bytes();
    if bytes.is_none() || bytes.zip(memory).is_some_and(|(b, m)| b as u64 > m) {
        return Err(damaged(format!(
            "the file claims {rows} rows of {columns} columns, more numbers than this machine's \
             memory holds: the file is damaged (or far too large to read at once)"
        )));
    }
    Ok(())
}

/// This machine's memory in bytes, where the system says (Linux: `/proc/meminfo`).
fn memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Writes `events` as CSV with a header line, atomically, streaming to disk. Events with a
/// value that is not a finite number are refused (see [`require_readable_values`]).
pub fn write_csv(events: &EventSet, path: &Path) -> Result<()> {
    let mut frame = events.frame()?;
    require_readable_values(&frame, path)?;
    write_atomic_with(path, |file| {
        let mut out = std::io::BufWriter::new(file);
        CsvWriter::new(&mut out)
            .include_header(true)
            .finish(&mut frame)
            .map_err(std::io::Error::other)?;
        out.flush()
    })
}

/// Writes `events` as Parquet, atomically, streaming to disk. Events with a value that is
/// not a finite number are refused (see [`require_readable_values`]).
pub fn write_parquet(events: &EventSet, path: &Path) -> Result<()> {
    let mut frame = events.frame()?;
    require_readable_values(&frame, path)?;
    write_frame_parquet(&mut frame, path)
}

/// Writes `frame` as Parquet to `path`, atomically, streaming to disk, whatever its values.
pub(super) fn write_frame_parquet(frame: &mut DataFrame, path: &Path) -> Result<()> {
    write_atomic_with(path, |file| {
        let mut out = std::io::BufWriter::new(file);
        ParquetWriter::new(&mut out)
            .finish(frame)
            .map_err(std::io::Error::other)?;
        out.flush()
    })
}

/// Refuses to write `frame` to `path` if a numeric column holds a value the readers refuse
/// (NaN, an infinity, a missing value), naming its row (counted from 0) and column: a file
/// bumplab writes must be one it reads back. Nothing is written then.
fn require_readable_values(frame: &DataFrame, path: &Path) -> Result<()> {
    for column in frame.columns() {
        let series = column.as_materialized_series();
        if !(series.dtype().is_primitive_numeric() || series.dtype() == &DataType::Boolean) {
            continue;
        }
        let refuse = |row: usize, problem: String| {
            Error::invalid(
                format!("events to write to '{}'", path.display()),
                format!(
                    "row {row}, column {}: {problem}; remove or replace such values first (a \
                     file bumplab writes must be one it reads)",
                    quoted(series.name())
                ),
            )
        };
        let values = series
            .cast(&DataType::Float64)
            .map_err(|e| refuse(0, polars_message(&e)))?;
        let floats = values.f64().map_err(|e| refuse(0, polars_message(&e)))?;
        for (row, v) in floats.iter().enumerate() {
            let problem = match v {
                None => Some("missing value".to_string()),
                Some(x) => non_finite(x),
            };
            if let Some(problem) = problem {
                return Err(refuse(row, problem));
            }
        }
    }
    Ok(())
}

/// Runs a polars reader, turning a panic inside polars (a damaged file it does not check)
/// into an error naming the file.
pub(crate) fn guarded<T>(path: &Path, what: &str, read: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).map_err(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Error::format(
            path,
            what,
            format!(
                "the file is damaged: the {what} decoder failed on it ({})",
                cut(&detail)
            ),
        )
    })
}

/// The error for a CSV file polars could not read: the line at fault when a scan of the
/// file's structure finds it, else polars' own explanation (its first line, without the
/// advice about options of the Python library).
/// The first line of a polars error message, cut to [`MESSAGE_CHARS`] characters.
pub(crate) fn polars_message(error: &PolarsError) -> String {
    let text = error.to_string();
    cut(text.lines().find(|l| !l.trim().is_empty()).unwrap_or(""))
}

/// `text` cut to [`MESSAGE_CHARS`] characters.
fn cut(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Why `value` is refused, if it is not a finite number.
fn non_finite(value: f64) -> Option<String> {
    (!value.is_finite()).then(|| format!("value is {value}: only finite numbers are read"))
}

/// Casts numeric columns to f64 and checks them; text columns in which some value is a
/// number are read as numbers (every value must then be one). `place(row, column)` says
/// where a value is, for errors.
pub(crate) fn numeric_columns(
    path: &Path,
    frame: DataFrame,
    place: &dyn Fn(usize, &str) -> String,
) -> Result<DataFrame> {
    let mut columns = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let series = column.as_materialized_series();
        let name = series.name().to_string();
        let fail = |row: usize, problem: String| Error::format(path, place(row, &name), problem);
        if series.dtype().is_primitive_numeric() || series.dtype() == &DataType::Boolean {
            let values = series
                .cast(&DataType::Float64)
                .map_err(|e| fail(0, polars_message(&e)))?;
            let floats = values.f64().map_err(|e| fail(0, polars_message(&e)))?;
            for (row, v) in floats.iter().enumerate() {
                match v {
                    None => return Err(fail(row, "missing value".to_string())),
                    Some(x) => {
                        if let Some(problem) = non_finite(x) {
                            return Err(fail(row, problem));
                        }
                    }
                }
            }
            columns.push(values.into_column());
        } else if let Ok(text) = series.str() {
            let number = |s: &str| s.trim().parse::<f64>().ok();
            if !text.iter().flatten().any(|s| number(s).is_some()) {
                columns.push(column.clone());
                continue;
            }
            let mut values = Vec::with_capacity(text.len());
            for (row, v) in text.iter().enumerate() {
                let value = match v {
                    None => return Err(fail(row, "missing value".to_string())),
                    Some(s) if s.trim().is_empty() => {
                        return Err(fail(row, "missing value".to_string()));
                    }
                    Some(s) => number(s)
                        .ok_or_else(|| fail(row, format!("{} is not a number", quoted(s))))?,
                };
                if let Some(problem) = non_finite(value) {
                    return Err(fail(row, problem));
                }
                values.push(value);
            }
            columns.push(Column::new(series.name().clone(), values));
        } else {
            columns.push(column.clone());
        }
    }
    DataFrame::new(frame.height(), columns)
        .map_err(|e| Error::format(path, "columns", polars_message(&e)))
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
        let err = csv_error("");
        assert!(err.contains("bad.csv"), "{err}");
        let err = csv_error("a,b\n1,2,3,4\n");
        assert!(err.contains("bad.csv"), "{err}");
        // Spaces around a number are allowed; a single bad value is still found.
        let err = csv_error("a,b\n 1,2\n4, x\n");
        assert!(
            err.ends_with("line 3, column 'b': ' x' is not a number"),
            "{err}"
        );
    }

    #[test]
    fn non_finite_csv_values_are_refused_in_every_spelling() {
        for (value, shown) in [
            ("nan", "NaN"),
            ("NaN", "NaN"),
            ("inf", "inf"),
            ("-inf", "-inf"),
            ("Infinity", "inf"),
            ("1e999", "inf"),
        ] {
            let err = csv_error(&format!("a,b\n1,2\n3,{value}\n"));
            assert!(
                err.ends_with(&format!(
                    "bad.csv: line 3, column 'b': value is {shown}: only finite numbers are read"
                )),
                "{value}: {err}"
            );
        }
    }

    #[test]
    fn non_finite_parquet_values_are_refused_with_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        for (value, shown) in [
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
            (-f64::INFINITY, "-inf"),
        ] {
            // Written by polars directly: bumplab's writer refuses such values.
            let column = Column::new("x".into(), vec![1.0, 2.0, value]);
            let mut frame = DataFrame::new(3, vec![column]).unwrap();
            let path = dir.path().join("bad.parquet");
            let file = std::fs::File::create(&path).unwrap();
            ParquetWriter::new(file).finish(&mut frame).unwrap();
            let err = read_parquet(&path).unwrap_err().to_string();
            assert!(
                err.ends_with(&format!(
                    "bad.parquet: row 2, column 'x': value is {shown}: only finite numbers are read"
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn parquet_footers_claiming_impossible_row_counts_are_refused() {
        let path = Path::new("claims.parquet");
        assert!(check_claimed_rows(path, 30, [10, 20].into_iter(), 3).is_ok());
        let err = check_claimed_rows(path, 1 << 62, [1 << 62].into_iter(), 3)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "claims.parquet: Parquet footer: the file claims 4611686018427387904 rows"
            ),
            "{err}"
        );
        let err = check_claimed_rows(path, 30, [10, 10].into_iter(), 3).unwrap_err();
        assert!(err.to_string().contains("row groups"), "{err}");
        let huge = usize::MAX / 2;
        assert!(check_claimed_rows(path, huge, [huge].into_iter(), 3).is_err());
    }

    #[test]
    fn a_negative_page_value_count_is_an_error_not_an_abort() {
        // Found by tests/fuzz_readers.rs: polars aborted the process reading it.
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/parquet/negative_page_values.parquet");
        let err = read_parquet(&fixture).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "negative_page_values.parquet: Parquet row group 0, column chunk 1: page header at \
                 byte 128: -23 values, where the column chunk has 3 left: the file is damaged"
            ),
            "{err}"
        );
    }

    #[test]
    fn csv_structure_errors_name_the_line_without_polars_advice() {
        let err = csv_error("a,b\n1,2\n3,4\n5,6,7\n8,9\n");
        assert!(
            err.ends_with(
                "bad.csv: line 4: 3 fields separated by ',', but the header (line 1) names 2 columns"
            ),
            "{err}"
        );
        let err = csv_error("a,b\n1,2\n3,\"4\n5,6\n");
        assert!(
            err.ends_with("bad.csv: line 3: a quote '\"' opened here is never closed"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, b"a,b\n1,2\n3,\xff\n").unwrap();
        let err = read_csv(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("bad.csv: line 3: the line is not UTF-8 text"),
            "{err}"
        );
        for text in ["a,b\n1,2\"3\n4,x\n", "a,b\n1,2,\n3,4\n"] {
            let err = csv_error(text);
            for advice in [
                "truncate_ragged_lines",
                "infer_schema_length",
                "Consider",
                "try",
            ] {
                assert!(!err.contains(advice), "{text:?}: {err}");
            }
            assert!(err.contains("bad.csv: line 2"), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_huge_field_makes_a_short_error() {
        let big = "x".repeat(10 << 20);
        let err = csv_error(&format!("a,b\n1,2\n3,{big}\n"));
        assert!(err.len() < 300, "{} bytes", err.len());
        assert!(
            err.ends_with("(10485760 bytes) is not a number"),
            "{}",
            &err[..200]
        );
        let err = csv_error(&format!("a,b\n1,2\n3,\"{big}\n"));
        assert!(err.len() < 300, "{} bytes", err.len());
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn csv_lines_are_counted_across_quoted_newlines_and_blank_lines() {
        let err = csv_error("\na,b\n\"1\n\",2\n3,x\n");
        assert!(
            err.ends_with("line 5, column 'b': 'x' is not a number"),
            "{err}"
        );
        let err = csv_error("a,b\n1,2\n\n3,4\n");
        assert!(err.ends_with("line 3, column 'a': missing value"), "{err}");
    }

    #[test]
    fn writers_refuse_values_their_readers_refuse() {
        // Found by QA: NaN and inf were written, and reading the file back failed.
        let dir = tempfile::tempdir().unwrap();
        let ev = sample();
        for (bad, shown) in [
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            let mut values = ev.column("mjj").unwrap();
            values[1] = bad;
            let poisoned = ev.with_column("mjj", values).unwrap();
            for (name, write) in [
                ("ev.csv", write_csv as fn(&EventSet, &Path) -> Result<()>),
                ("ev.parquet", write_parquet),
            ] {
                let path = dir.path().join(name);
                let err = write(&poisoned, &path).unwrap_err().to_string();
                assert!(
                    err.contains(&format!(
                        "row 1, column 'mjj': value is {shown}: only finite"
                    )),
                    "{err}"
                );
                assert!(err.contains(name), "{err}");
                assert!(!path.exists(), "{name} was written");
            }
        }
        // A view is checked as its rows: the bad event left out, the rest is written.
        let mut values = ev.column("mjj").unwrap();
        values[2] = f64::NAN;
        let poisoned = ev.with_column("mjj", values).unwrap();
        let rest = poisoned.head(2);
        let path = dir.path().join("rest.csv");
        write_csv(&rest, &path).unwrap();
        assert_eq!(read_csv(&path).unwrap().len(), ev.len() - 1);
    }

    #[test]
    fn integers_beyond_64_bits_are_read_as_floats() {
        // Found by QA: polars typed the column as i64 and refused the value, with no line.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        let beyond_i128 = format!("1{}", "0".repeat(40));
        let text = format!("a,b,tag\n1,99999999999999999999999999,x\n2,{beyond_i128},y\n");
        std::fs::write(&path, text).unwrap();
        let ev = read_csv(&path).unwrap();
        assert_eq!(ev.column("a").unwrap(), [1.0, 2.0]);
        assert_eq!(ev.column("b").unwrap(), [1e26, 1e40]);
        assert_eq!(ev.columns(), ["a", "b", "tag"]);
        // A bad value in such a file is still located.
        let err = csv_error("a,b\n1,99999999999999999999999999\n2,x\n");
        assert!(
            err.ends_with("line 3, column 'b': 'x' is not a number"),
            "{err}"
        );
        let err = csv_error("a,b\n1,99999999999999999999999999\n2,\n");
        assert!(err.ends_with("line 3, column 'b': missing value"), "{err}");
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
