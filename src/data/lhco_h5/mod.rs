//! Reader for the LHC Olympics 2020 HDF5 files: pandas DataFrames saved with
//! `DataFrame.to_hdf`, read by the pure-Rust `hdf5-pure` crate (no libhdf5, no C).
//!
//! Both layouts pandas writes are understood:
//! - **fixed** (the `to_hdf` default): a group with the attribute `pandas_type = "frame"`,
//!   the column labels in `axis0`, the row index in `axis1`, and per dtype one 2-D array
//!   `block{k}_values` (rows x columns) whose column labels are in `block{k}_items`;
//! - **table** (`format="table"`): a group with `pandas_type = "frame_table"` holding a
//!   PyTables `table`, a compound dataset with the index and either `values_block_{k}` array
//!   members (labels in the pickled `values_block_{k}_kind` attributes) or, for
//!   `data_columns`, one member per column.
//!
//! Storage may be contiguous or chunked, with zlib (deflate) and shuffle compression, or
//! with blosc (HDF5 filter 32001, how the organisers saved the files: every inner codec
//! PyTables writes, byte/bit shuffle or none), whose chunks are read by `blosc_chunks` and
//! decoded by [`crate::data::blosc`]. A row
//! window reads only the storage it overlaps, so a slice of a file of millions of events
//! costs the slice. Integer, float and bool columns are returned as `f64`.
//!
//! A value that is not a finite number (NaN, ±inf) is an error naming the key, the row (of
//! the file, counted from 0) and the column.
//!
//! Not read (each is an error naming the dataset): string or object columns (named), MultiIndex
//! columns or rows, pandas Series and Panels, and compression filters other than zlib,
//! shuffle and blosc (lzo, bzip2, blosc2).

mod blosc_chunks;
mod fixed;
mod frame;
mod pickle;
mod reader;
mod table;
#[cfg(test)]
pub(crate) mod tests;
mod values;

use std::ops::Range;
use std::path::Path;

use self::reader::Reader;
use crate::data::NamedColumns;
use crate::error::Result;

/// Which LHCO table a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LhcoLayout {
    /// High-level features (`pxj1`, ..., `tau3j2`, `label`), or any other DataFrame: the
    /// pandas column names are kept.
    Features,
    /// Raw particles: 700 particles x (pT, eta, phi) then the truth bit, named `pt_{i}`,
    /// `eta_{i}`, `phi_{i}` for particle `i` in `0..700`, then `label`.
    RawParticles,
}

/// Particle slots per event in the raw-particle file.
const RAW_PARTICLES: usize = 700;
/// Columns of the raw-particle file: three per particle, then the truth bit.
pub(crate) const RAW_COLUMNS: usize = 3 * RAW_PARTICLES + 1;

/// Reads the DataFrame stored under `key` (None: the only/first key in the file) of an
/// LHC Olympics HDF5 file, or of any file written by pandas `to_hdf`, as `f64` columns.
///
/// `key` is the pandas key, with or without the leading `/` (`"df"`, `"/grp/mix"`). Without
/// one, the first DataFrame in the file is read, groups taken in name order as pandas lists
/// them. `rows` reads only that range of rows (events) and must lie within the table.
///
/// A table of 2101 columns named `0..2100` is the raw-particle file: its columns are
/// renamed as [`LhcoLayout::RawParticles`] says. Anything else is returned as
/// [`LhcoLayout::Features`] with its own column names.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) when the file cannot be opened;
/// [`Error::Format`](crate::Error::Format), naming the dataset or group, when it is not HDF5,
/// is truncated or damaged, has no such key, holds a layout or dtype this reader does not
/// support (text columns are named), has inconsistent shapes, holds a value that is not a
/// finite number, or when `rows` is out of bounds.
pub fn read_lhco(
    path: &Path,
    key: Option<&str>,
    rows: Option<Range<usize>>,
) -> Result<(LhcoLayout, NamedColumns)> {
    let reader = Reader::open(path)?;
    let (key, group) = reader.frame_group(key)?;
    let first_row = rows.as_ref().map_or(0, |r| r.start);
    let columns = reader.read_frame(&key, &group, rows)?;
    reader.check_finite(&key, &columns, first_row)?;
    Ok(classify(columns))
}

/// The number of rows (events) of the DataFrame under `key` (None: the first DataFrame), read
/// from its index and shapes without reading any values: what a reader of row windows needs.
///
/// # Errors
/// As [`read_lhco`], for the file, the key and the DataFrame's layout.
pub fn lhco_rows(path: &Path, key: Option<&str>) -> Result<usize> {
    let reader = Reader::open(path)?;
    let (key, group) = reader.frame_group(key)?;
    reader.row_count(&key, &group)
}

/// Tells the raw-particle layout from the others and names its columns.
fn classify(columns: NamedColumns) -> (LhcoLayout, NamedColumns) {
    let raw = columns.len() == RAW_COLUMNS
        && columns
            .iter()
            .enumerate()
            .all(|(i, (name, _))| *name == i.to_string());
    if !raw {
        return (LhcoLayout::Features, columns);
    }
    let renamed = columns
        .into_iter()
        .enumerate()
        .map(|(i, (_, values))| (raw_column_name(i), values))
        .collect();
    (LhcoLayout::RawParticles, renamed)
}

/// The name of column `index` of the raw-particle layout.
fn raw_column_name(index: usize) -> String {
    if index == RAW_COLUMNS - 1 {
        return "label".to_string();
    }
    let quantity = ["pt", "eta", "phi"][index % 3];
    format!("{quantity}_{}", index / 3)
}
