//! Tables of results (one row per run of a study: text, counts and numbers) written as
//! Parquet, for the tools physicists read tables with (pandas, ROOT's RDataFrame, polars).
//! Unlike an event set's file, a result table may hold undefined numbers: NaN is written as
//! a missing value (null).

use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};

/// One column of a result table.
#[derive(Clone, Debug, PartialEq)]
pub enum ResultColumn {
    /// Text, such as a method's name.
    Text(Vec<String>),
    /// Whole numbers, such as event counts.
    Counts(Vec<u64>),
    /// Numbers; NaN is written as null.
    Numbers(Vec<f64>),
}

impl ResultColumn {
    fn len(&self) -> usize {
        match self {
            Self::Text(v) => v.len(),
            Self::Counts(v) => v.len(),
            Self::Numbers(v) => v.len(),
        }
    }

    fn into_column(self, name: &str) -> Column {
        match self {
            Self::Text(v) => Column::new(name.into(), v),
            Self::Counts(v) => Column::new(name.into(), v),
            Self::Numbers(v) => Column::new(
                name.into(),
                v.into_iter()
                    .map(|x| (!x.is_nan()).then_some(x))
                    .collect::<Vec<Option<f64>>>(),
            ),
        }
    }
}

/// Writes `columns` (name, values; all of one length) to `path` as Parquet, atomically.
pub fn write_result_table(path: &Path, columns: Vec<(&str, ResultColumn)>) -> Result<()> {
    let rows = columns.first().map_or(0, |(_, c)| c.len());
    if let Some((name, c)) = columns.iter().find(|(_, c)| c.len() != rows) {
        return Err(Error::invalid(
            "result table",
            format!("column '{name}' has {} rows, the first {rows}", c.len()),
        ));
    }
    let mut frame = DataFrame::new(
        rows,
        columns
            .into_iter()
            .map(|(name, c)| c.into_column(name))
            .collect(),
    )
    .map_err(|e| Error::invalid("result table", e.to_string()))?;
    super::io::write_frame_parquet(&mut frame, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_reads_back_with_nan_as_null() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.parquet");
        write_result_table(
            &path,
            vec![
                ("method", ResultColumn::Text(vec!["a".into(), "b".into()])),
                ("injected", ResultColumn::Counts(vec![0, 500])),
                ("auc", ResultColumn::Numbers(vec![f64::NAN, 0.75])),
            ],
        )
        .unwrap();
        let frame = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert_eq!(frame.shape(), (2, 3));
        let auc = frame.column("auc").unwrap().f64().unwrap().clone();
        assert_eq!(auc.get(0), None);
        assert_eq!(auc.get(1), Some(0.75));
        let method = frame.column("method").unwrap().str().unwrap().clone();
        assert_eq!(method.get(1), Some("b"));
        let err = write_result_table(
            &path,
            vec![
                ("a", ResultColumn::Counts(vec![1])),
                ("b", ResultColumn::Counts(vec![])),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("'b' has 0 rows"), "{err}");
    }
}
