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

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use hdf5_pure::{
    AttrValue, Dataset, Datatype, DatatypeByteOrder, File, FloatingPointLayout, FormatError, Group,
    ReadSeekSource,
};

use crate::data::NamedColumns;
use crate::error::{Error, Result, quoted};
use blosc_chunks::{BLOSC_FILTER, BloscChunks};
use pickle::Py;

mod blosc_chunks;

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
/// Bytes of raw storage decoded per read, so a large window never holds its whole raw
/// copy next to the decoded columns.
const READ_BYTES: usize = 8 << 20;
/// How deep the search for DataFrames descends into nested groups.
const MAX_GROUP_DEPTH: usize = 16;
/// How many groups the search for DataFrames visits at most (guards against link cycles).
const MAX_GROUPS: usize = 10_000;
/// How many times its stored size a compressed dataset can be at most (deflate's limit is
/// about 1032): a shape claiming more comes from a damaged header.
const MAX_COMPRESSION: u64 = 1100;

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
/// [`Error::Io`] when the file cannot be opened; [`Error::Format`], naming the dataset or
/// group, when it is not HDF5, is truncated or damaged, has no such key, holds a layout or
/// dtype this reader does not support (text columns are named), has inconsistent shapes,
/// holds a value that is not a finite number, or when `rows` is out of bounds.
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

/// An open HDF5 file, its path (for error messages) and its length in bytes.
struct Reader<'a> {
    path: &'a Path,
    file: File,
    /// The same open file, for the chunks of blosc-compressed datasets (`hdf5-pure` seeks
    /// before every read, so the shared position does not disturb it).
    handle: std::fs::File,
    length: u64,
}

impl<'a> Reader<'a> {
    /// Opens `path` for streaming reads: metadata and data are read on demand.
    fn open(path: &'a Path) -> Result<Self> {
        let super::input::Input {
            file: handle,
            len: length,
        } = super::input::open(path)?;
        let header_error = |e: &dyn std::fmt::Display| {
            Error::format(
                path,
                "file header",
                format!("not an HDF5 file, or its header is damaged ({e})"),
            )
        };
        let copy = handle.try_clone().map_err(|e| Error::io("read", path, e))?;
        let source = ReadSeekSource::new(handle).map_err(|e| header_error(&e))?;
        let file = File::from_source(source).map_err(|e| header_error(&e))?;
        Ok(Reader {
            path,
            file,
            handle: copy,
            length,
        })
    }

    /// An [`Error::Format`] for this file.
    fn fail(&self, location: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::format(self.path, location, problem)
    }

    /// Converts an `hdf5-pure` error at `location` into an [`Error::Format`].
    fn h5(&self, location: &str) -> impl Fn(hdf5_pure::Error) -> Error {
        let location = location.to_string();
        move |e| self.fail(location.clone(), describe(&e))
    }

    /// The group of the DataFrame under `key` (or of the first one), with its key.
    fn frame_group(&self, key: Option<&str>) -> Result<(String, Group)> {
        let Some(key) = key else {
            let keys = self.frame_keys()?;
            let first = keys.into_iter().next().ok_or_else(|| {
                self.fail(
                    "file",
                    "holds no pandas DataFrame (no group with a 'pandas_type' attribute)",
                )
            })?;
            let group = self
                .file
                .group(&first)
                .map_err(self.h5(&format!("group {first}")))?;
            return Ok((first, group));
        };
        let key = format!("/{}", key.trim_start_matches('/'));
        let group = match self.file.group(&key) {
            Ok(group) => group,
            Err(
                hdf5_pure::Error::Format(FormatError::PathNotFound(_))
                | hdf5_pure::Error::NotAGroup(_),
            ) => {
                let known = self.frame_keys()?.join(", ");
                return Err(self.fail(
                    format!("key '{key}'"),
                    format!(
                        "no DataFrame is stored under this key; the file's keys are: [{known}]"
                    ),
                ));
            }
            Err(e) => return Err(self.h5(&format!("group {key}"))(e)),
        };
        if attr_text(&self.attrs(&group, &format!("group {key}"))?, "pandas_type").is_none() {
            return Err(self.fail(
                format!("group {key}"),
                "not a pandas object: it has no 'pandas_type' attribute",
            ));
        }
        Ok((key, group))
    }

    /// The keys of every pandas object in the file, depth first in name order.
    fn frame_keys(&self) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut budget = MAX_GROUPS;
        self.collect_keys(&self.file.root(), "", 0, &mut budget, &mut keys)?;
        Ok(keys)
    }

    /// Adds the keys of the pandas objects under `group` (at `prefix`) to `keys`.
    fn collect_keys(
        &self,
        group: &Group,
        prefix: &str,
        depth: usize,
        budget: &mut usize,
        keys: &mut Vec<String>,
    ) -> Result<()> {
        let location = format!("group {}", if prefix.is_empty() { "/" } else { prefix });
        let mut children: Vec<(String, Group)> =
            group.iter_groups().map_err(self.h5(&location))?.collect();
        children.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, child) in children {
            // PyTables keeps its indexes of table columns in `_i_*` groups.
            if name.starts_with("_i_") || *budget == 0 {
                continue;
            }
            *budget -= 1;
            let path = format!("{prefix}/{name}");
            if attr_text(
                &self.attrs(&child, &format!("group {path}"))?,
                "pandas_type",
            )
            .is_some()
            {
                keys.push(path);
            } else if depth < MAX_GROUP_DEPTH {
                self.collect_keys(&child, &path, depth + 1, budget, keys)?;
            }
        }
        Ok(())
    }

    /// The attributes of a group.
    fn attrs(&self, group: &Group, location: &str) -> Result<HashMap<String, AttrValue>> {
        group.attrs().map_err(self.h5(location))
    }

    /// Opens the dataset `name` of the DataFrame group at `key`.
    fn dataset(&self, group: &Group, key: &str, name: &str) -> Result<(Dataset, String)> {
        let location = format!("dataset {key}/{name}");
        match group.dataset(name) {
            Ok(dataset) => {
                self.check_size(&dataset, &location)?;
                Ok((dataset, location))
            }
            Err(e) => {
                let problem =
                    format!("missing or unreadable ({e}); pandas writes it in this layout");
                Err(self.fail(location, problem))
            }
        }
    }

    /// Refuses a dataset whose shape claims more data than the file can hold, as a damaged
    /// header may (reading it would exhaust memory on fill values).
    fn check_size(&self, dataset: &Dataset, location: &str) -> Result<()> {
        let shape = dataset.shape().map_err(self.h5(location))?;
        let element = dataset.element_size().map_err(self.h5(location))?;
        let bytes = shape
            .iter()
            .try_fold(element, |total, &extent| total.checked_mul(extent));
        let filters = dataset.filters();
        let ratio = if filters.is_empty() {
            1
        } else if filters.contains(&BLOSC_FILTER) {
            // Read here chunk by chunk from the chunk index: a shape beyond the chunks found
            // is an error when reached, never a fill of the claimed size (and blosc inside
            // blosc-zstd compresses zeros far beyond deflate's limit).
            u64::MAX
        } else {
            MAX_COMPRESSION
        };
        match bytes {
            Some(bytes) if bytes <= self.length.saturating_mul(ratio) => Ok(()),
            _ => {
                let length = self.length;
                let problem = format!(
                    "its shape {shape:?} claims more data than a file of {length} bytes can hold: \
                     the file is damaged"
                );
                Err(self.fail(location, problem))
            }
        }
    }

    /// Reads the columns of the DataFrame group at `key`, in the DataFrame's column order.
    fn read_frame(
        &self,
        key: &str,
        group: &Group,
        rows: Option<Range<usize>>,
    ) -> Result<NamedColumns> {
        let location = format!("group {key}");
        let attrs = self.attrs(group, &location)?;
        match attr_text(&attrs, "pandas_type").unwrap_or_default() {
            "frame" => self.read_fixed(key, group, &attrs, rows),
            "frame_table" => self.read_table(key, group, &attrs, rows),
            other => Err(self.fail(location, unsupported_type(other))),
        }
    }

    /// The number of rows of the DataFrame group at `key`.
    fn row_count(&self, key: &str, group: &Group) -> Result<usize> {
        let location = format!("group {key}");
        let attrs = self.attrs(group, &location)?;
        let count = match attr_text(&attrs, "pandas_type").unwrap_or_default() {
            "frame" => self.axis_length(group, key, "axis1")?,
            "frame_table" => {
                let (dataset, table) = self.dataset(group, key, "table")?;
                self.table_length(&dataset, &table)?
            }
            other => return Err(self.fail(location, unsupported_type(other))),
        };
        usize::try_from(count).map_err(|_| {
            self.fail(
                location,
                format!("{count} rows are more than this machine can address"),
            )
        })
    }

    /// The rows to read of a table of `count` rows.
    fn window(&self, rows: Option<Range<usize>>, count: u64, location: &str) -> Result<Range<u64>> {
        let Some(rows) = rows else {
            return Ok(0..count);
        };
        let (start, end) = (rows.start as u64, rows.end as u64);
        if start > end || end > count {
            return Err(self.fail(
                location,
                format!(
                    "row range {}..{} is out of bounds: the DataFrame has {count} rows",
                    rows.start, rows.end
                ),
            ));
        }
        Ok(start..end)
    }

    /// Refuses a value that is not a finite number, naming its row and column; `first_row`
    /// is the file row of the columns' first value.
    fn check_finite(&self, key: &str, columns: &NamedColumns, first_row: usize) -> Result<()> {
        for (name, values) in columns {
            if let Some(row) = values.iter().position(|v| !v.is_finite()) {
                return Err(self.fail(
                    format!(
                        "key {key}, row {}, column {}",
                        first_row + row,
                        quoted(name)
                    ),
                    format!("value is {}: only finite numbers are read", values[row]),
                ));
            }
        }
        Ok(())
    }

    /// The error for columns `labels` whose stored type `datatype` is not a number.
    fn not_numeric(&self, location: &str, datatype: &Datatype, labels: &[String]) -> Error {
        let names: Vec<String> = labels.iter().map(|l| quoted(l)).collect();
        let what = match datatype {
            Datatype::String { .. } => "text (strings)".to_string(),
            Datatype::VariableLength { .. } => {
                "text or Python objects (pandas dtype 'object')".to_string()
            }
            other => format!("values of type {other:?}"),
        };
        let (columns, hold) = if names.len() == 1 {
            ("column", "holds")
        } else {
            ("columns", "hold")
        };
        self.fail(
            location,
            format!(
                "{columns} {} {hold} {what}: only integer, float and bool columns are read; \
                 drop them or convert them to numbers before saving",
                names.join(", ")
            ),
        )
    }

    // ---- fixed format ----

    /// Reads a fixed-format DataFrame: the blocks, put back in `axis0` order.
    fn read_fixed(
        &self,
        key: &str,
        group: &Group,
        attrs: &HashMap<String, AttrValue>,
        rows: Option<Range<usize>>,
    ) -> Result<NamedColumns> {
        let location = format!("group {key}");
        if attr_int(attrs, "ndim").is_some_and(|ndim| ndim != 2) {
            return Err(self.fail(
                location,
                "only 2-D DataFrames are supported ('ndim' is not 2)",
            ));
        }
        for axis in ["axis0", "axis1"] {
            let variety = attr_text(attrs, &format!("{axis}_variety")).unwrap_or("regular");
            if variety != "regular" {
                let problem = format!("{axis} is a '{variety}' index: MultiIndex is not supported");
                return Err(self.fail(location, problem));
            }
        }
        let names = self.axis_labels(group, key, "axis0")?;
        let count = self.axis_length(group, key, "axis1")?;
        let window = self.window(rows, count, &location)?;
        let blocks = attr_int(attrs, "nblocks").ok_or_else(|| {
            self.fail(
                &location,
                "no integer 'nblocks' attribute: not a fixed-format DataFrame as pandas writes it",
            )
        })?;
        let mut found = Vec::with_capacity(names.len());
        for block in 0..blocks {
            let items = self.axis_labels(group, key, &format!("block{block}_items"))?;
            let values = self.read_block(group, key, block, &items, count, &window)?;
            found.extend(items.into_iter().zip(values));
        }
        self.arrange(&names, found, &location)
    }

    /// The labels stored in the 1-D index dataset `name` (`axis0`, `block0_items`, ...).
    fn axis_labels(&self, group: &Group, key: &str, name: &str) -> Result<Vec<String>> {
        let (dataset, location) = self.dataset(group, key, name)?;
        if is_empty_placeholder(&dataset) {
            return Ok(Vec::new());
        }
        let datatype = dataset.datatype().map_err(self.h5(&location))?;
        let blosc = BloscChunks::of(&dataset, self.length).map_err(|p| self.fail(&location, p))?;
        if let Some(chunks) = &blosc
            && let Datatype::String { size, .. } = datatype
        {
            // pandas writes fixed-length, NUL-padded byte strings.
            let raw = chunks
                .read_all(&self.handle)
                .map_err(|p| self.fail(&location, p))?;
            let size = (size as usize).max(1);
            return Ok(raw
                .chunks_exact(size)
                .map(|bytes| {
                    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                    String::from_utf8_lossy(&bytes[..end]).into_owned()
                })
                .collect());
        }
        if matches!(datatype, Datatype::String { .. }) {
            return dataset.read_string().map_err(self.h5(&location));
        }
        let scalar = Scalar::of(&datatype).ok_or_else(|| {
            self.fail(
                &location,
                format!("labels of type {datatype:?} are not supported (only strings and numbers)"),
            )
        })?;
        let raw = match &blosc {
            Some(chunks) => chunks
                .read_all(&self.handle)
                .map_err(|p| self.fail(&location, p))?,
            None => dataset.read_raw().map_err(self.h5(&location))?,
        };
        Ok(raw
            .chunks_exact(scalar.size)
            .map(|bytes| scalar.label(bytes))
            .collect())
    }

    /// The number of entries of the 1-D index dataset `name` (`axis1`: the number of rows).
    fn axis_length(&self, group: &Group, key: &str, name: &str) -> Result<u64> {
        let (dataset, location) = self.dataset(group, key, name)?;
        if is_empty_placeholder(&dataset) {
            return Ok(0);
        }
        match dataset.shape().map_err(self.h5(&location))?.as_slice() {
            [length] => Ok(*length),
            shape => Err(self.fail(
                location,
                format!("expected a 1-D index, found shape {shape:?}"),
            )),
        }
    }

    /// Reads the `window` rows of `block{block}_values`, a rows x columns array holding the
    /// columns `items`, as columns.
    fn read_block(
        &self,
        group: &Group,
        key: &str,
        block: i64,
        items: &[String],
        count: u64,
        window: &Range<u64>,
    ) -> Result<Vec<Vec<f64>>> {
        let width = items.len();
        let (dataset, location) = self.dataset(group, key, &format!("block{block}_values"))?;
        if count == 0 || width == 0 || is_empty_placeholder(&dataset) {
            return Ok(vec![Vec::new(); width]);
        }
        let datatype = dataset.datatype().map_err(self.h5(&location))?;
        let scalar =
            Scalar::of(&datatype).ok_or_else(|| self.not_numeric(&location, &datatype, items))?;
        let shape = dataset.shape().map_err(self.h5(&location))?;
        if shape != [count, width as u64] {
            let problem = format!(
                "shape {shape:?} does not match the DataFrame: expected [{count}, {width}] \
                 (rows x columns of this block)"
            );
            return Err(self.fail(location, problem));
        }
        let row = [Field {
            offset: 0,
            scalar,
            width,
        }];
        self.read_records(&dataset, &location, width * scalar.size, &row, window)
    }

    // ---- table format ----

    /// Reads a table-format DataFrame: the compound `table` dataset's value members, put
    /// back in the order of the pickled `non_index_axes` attribute.
    fn read_table(
        &self,
        key: &str,
        group: &Group,
        attrs: &HashMap<String, AttrValue>,
        rows: Option<Range<usize>>,
    ) -> Result<NamedColumns> {
        let (dataset, location) = self.dataset(group, key, "table")?;
        let datatype = dataset.datatype().map_err(self.h5(&location))?;
        let Datatype::Compound { size, members } = datatype else {
            return Err(self.fail(location, "not a compound (PyTables table) dataset"));
        };
        let count = self.table_length(&dataset, &location)?;
        let window = self.window(rows, count, &format!("group {key}"))?;
        let member_attrs = dataset.attrs().map_err(self.h5(&location))?;
        let index = self.index_columns(attrs, key)?;
        let mut names = Vec::new();
        let mut fields = Vec::new();
        for member in members.iter().filter(|m| !index.contains(&m.name)) {
            let (field, labels) = self.table_field(member, &member_attrs, size, &location)?;
            fields.push(field);
            names.extend(labels);
        }
        let columns = self.read_records(&dataset, &location, size as usize, &fields, &window)?;
        let found: NamedColumns = names.into_iter().zip(columns).collect();
        match self.column_order(attrs, key)? {
            Some(order) => self.arrange(&order, found, &format!("group {key}")),
            None => Ok(found),
        }
    }

    /// The number of records of the PyTables `table` dataset at `location`.
    fn table_length(&self, dataset: &Dataset, location: &str) -> Result<u64> {
        match dataset.shape().map_err(self.h5(location))?.as_slice() {
            [count] => Ok(*count),
            shape => Err(self.fail(
                location,
                format!("expected a 1-D table, found shape {shape:?}"),
            )),
        }
    }

    /// The names of the table members holding the row index (`index_cols`; default `index`).
    fn index_columns(&self, attrs: &HashMap<String, AttrValue>, key: &str) -> Result<Vec<String>> {
        let Some(text) = attr_text(attrs, "index_cols") else {
            return Ok(vec!["index".to_string()]);
        };
        let bad = || {
            self.fail(
                format!("attribute 'index_cols' of group {key}"),
                "not a pickled list of (axis, name) pairs",
            )
        };
        let Some(Py::List(pairs)) = pickle::parse(text) else {
            return Err(bad());
        };
        pairs
            .iter()
            .map(|pair| match pair {
                Py::Tuple(items) => match items.as_slice() {
                    [_, Py::Str(name)] => Ok(name.clone()),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            })
            .collect()
    }

    /// The DataFrame's column labels from the pickled `non_index_axes` attribute, if present.
    fn column_order(
        &self,
        attrs: &HashMap<String, AttrValue>,
        key: &str,
    ) -> Result<Option<Vec<String>>> {
        let Some(text) = attr_text(attrs, "non_index_axes") else {
            return Ok(None);
        };
        let bad = || {
            self.fail(
                format!("attribute 'non_index_axes' of group {key}"),
                "not a pickled list of (axis, labels) pairs",
            )
        };
        let Some(Py::List(axes)) = pickle::parse(text) else {
            return Err(bad());
        };
        for axis in &axes {
            match axis {
                Py::Tuple(items) => match items.as_slice() {
                    [Py::Int(1), Py::List(labels)] => {
                        return labels
                            .iter()
                            .map(|l| l.label().ok_or_else(bad))
                            .collect::<Result<_>>()
                            .map(Some);
                    }
                    [Py::Int(_), Py::List(_)] => {}
                    _ => return Err(bad()),
                },
                _ => return Err(bad()),
            }
        }
        Ok(None)
    }

    /// How to decode one value member of the table, and its column labels (from the
    /// pickled `{member}_kind` attribute, else the member's own name).
    fn table_field(
        &self,
        member: &hdf5_pure::CompoundMember,
        attrs: &HashMap<String, AttrValue>,
        record: u32,
        location: &str,
    ) -> Result<(Field, Vec<String>)> {
        let (base, dimensions) = match &member.datatype {
            Datatype::Array {
                base_type,
                dimensions,
            } => (base_type.as_ref(), dimensions.as_slice()),
            other => (other, [].as_slice()),
        };
        let member_location = format!("{location}, member '{}'", member.name);
        let labels = self.member_labels(member, attrs, location)?;
        let scalar =
            Scalar::of(base).ok_or_else(|| self.not_numeric(&member_location, base, &labels))?;
        let width = dimensions
            .iter()
            .try_fold(1usize, |total, &d| total.checked_mul(d as usize));
        let offset = usize::try_from(member.byte_offset).ok();
        let fits = |&(width, offset): &(usize, usize)| {
            width
                .checked_mul(scalar.size)
                .and_then(|bytes| offset.checked_add(bytes))
                .is_some_and(|end| end <= record as usize)
        };
        let Some((width, offset)) = width.zip(offset).filter(fits) else {
            let problem = "the member does not fit in the table's record";
            return Err(self.fail(member_location, problem));
        };
        if labels.len() != width {
            return Err(self.fail(
                member_location,
                format!("{} column labels for {width} values per row", labels.len()),
            ));
        }
        Ok((
            Field {
                offset,
                scalar,
                width,
            },
            labels,
        ))
    }

    /// The column labels of a table member: its pickled `{member}_kind` attribute, else its name.
    fn member_labels(
        &self,
        member: &hdf5_pure::CompoundMember,
        attrs: &HashMap<String, AttrValue>,
        location: &str,
    ) -> Result<Vec<String>> {
        let attr = format!("{}_kind", member.name);
        let Some(text) = attr_text(attrs, &attr) else {
            return Ok(vec![member.name.clone()]);
        };
        let bad = || {
            self.fail(
                format!("attribute '{attr}' of {location}"),
                "not a pickled list of column labels",
            )
        };
        match pickle::parse(text) {
            Some(Py::List(labels)) => labels.iter().map(|l| l.label().ok_or_else(bad)).collect(),
            _ => Err(bad()),
        }
    }

    // ---- shared ----

    /// Decodes the `window` records (rows) of `dataset`, each `record` bytes, into one
    /// column per value of `fields`, reading at most about [`READ_BYTES`] at a time.
    fn read_records(
        &self,
        dataset: &Dataset,
        location: &str,
        record: usize,
        fields: &[Field],
        window: &Range<u64>,
    ) -> Result<Vec<Vec<f64>>> {
        let mut columns: Vec<Vec<f64>> = vec![Vec::new(); fields.iter().map(|f| f.width).sum()];
        let blosc = BloscChunks::of(dataset, self.length).map_err(|p| self.fail(location, p))?;
        let step = (READ_BYTES / record.max(1)).max(1) as u64;
        let mut start = window.start;
        while start < window.end {
            let rows = match &blosc {
                // Whole chunks per read (but the window's ends), so each is decoded once.
                Some(chunks) => {
                    let size = chunks.chunk_rows();
                    let end = (start / size)
                        .saturating_add(step.div_ceil(size))
                        .saturating_mul(size);
                    end.min(window.end) - start
                }
                None => step.min(window.end - start),
            };
            let raw = match &blosc {
                Some(chunks) => chunks
                    .read_rows(&self.handle, start, rows)
                    .map_err(|p| self.fail(location, p))?,
                None => dataset
                    .read_raw_rows(start, rows)
                    .map_err(self.h5(location))?,
            };
            if raw.len() as u64 != rows * record as u64 {
                return Err(self.fail(
                    location,
                    format!("read {} bytes for {rows} rows of {record} bytes", raw.len()),
                ));
            }
            columns.iter_mut().for_each(|c| c.reserve(rows as usize));
            for bytes in raw.chunks_exact(record) {
                decode_record(bytes, fields, &mut columns);
            }
            start += rows;
        }
        Ok(columns)
    }

    /// Puts the `found` columns in the order of the DataFrame's labels `order`; both must
    /// hold the same labels (duplicates pair up in order).
    fn arrange(
        &self,
        order: &[String],
        found: NamedColumns,
        location: &str,
    ) -> Result<NamedColumns> {
        if found.len() != order.len() {
            return Err(self.fail(
                location,
                format!(
                    "the DataFrame has {} columns but its blocks hold {}",
                    order.len(),
                    found.len()
                ),
            ));
        }
        let mut by_name: HashMap<String, Vec<Vec<f64>>> = HashMap::new();
        for (name, values) in found.into_iter().rev() {
            by_name.entry(name).or_default().push(values);
        }
        order
            .iter()
            .map(|name| match by_name.get_mut(name).and_then(Vec::pop) {
                Some(values) => Ok((name.clone(), values)),
                None => Err(self.fail(
                    location,
                    format!("column '{name}' is not in any block of values"),
                )),
            })
            .collect()
    }
}

/// Why a group with this `pandas_type` is not read.
fn unsupported_type(pandas_type: &str) -> String {
    format!(
        "pandas_type '{pandas_type}' is not supported: only DataFrames are read \
         ('frame': fixed format, 'frame_table': table format)"
    )
}

/// Says in words what an `hdf5-pure` error means for the user.
fn describe(error: &hdf5_pure::Error) -> String {
    match error {
        hdf5_pure::Error::Format(FormatError::UnsupportedFilter(id)) => {
            let name = match id {
                305 => "lzo",
                307 => "bzip2",
                32001 => "blosc",
                32026 => "blosc2",
                _ => "unknown",
            };
            format!(
                "compressed with HDF5 filter {id} ({name}), which this reader does not support: \
                 save it with complib='zlib', complib='blosc' or uncompressed"
            )
        }
        hdf5_pure::Error::Format(FormatError::UnexpectedEof { .. }) => {
            format!("the file is truncated ({error})")
        }
        _ => format!("cannot read it: {error} (is the file damaged?)"),
    }
}

/// Whether a pandas array is the one-element placeholder pandas writes for an empty array
/// (it carries the real, empty, shape in a `shape` attribute).
fn is_empty_placeholder(dataset: &Dataset) -> bool {
    dataset
        .attrs()
        .is_ok_and(|attrs| attrs.contains_key("shape"))
}

/// A string attribute's text.
fn attr_text<'v>(attrs: &'v HashMap<String, AttrValue>, name: &str) -> Option<&'v str> {
    match attrs.get(name)? {
        AttrValue::String(s)
        | AttrValue::AsciiString(s)
        | AttrValue::VarLenString(s)
        | AttrValue::VarLenAsciiString(s) => Some(s),
        AttrValue::StringSized { value, .. } | AttrValue::AsciiStringSized { value, .. } => {
            Some(value)
        }
        _ => None,
    }
}

/// An integer attribute's value.
fn attr_int(attrs: &HashMap<String, AttrValue>, name: &str) -> Option<i64> {
    match attrs.get(name)? {
        AttrValue::I64(v) => Some(*v),
        AttrValue::I32(v) => Some((*v).into()),
        AttrValue::U32(v) => Some((*v).into()),
        AttrValue::U64(v) => i64::try_from(*v).ok(),
        _ => None,
    }
}

/// One value member of a record: `width` scalars from byte `offset`.
#[derive(Debug, Clone, Copy)]
struct Field {
    offset: usize,
    scalar: Scalar,
    width: usize,
}

/// Appends the values of one record to `columns` (one column per value of each field).
fn decode_record(bytes: &[u8], fields: &[Field], columns: &mut [Vec<f64>]) {
    let mut column = 0;
    for field in fields {
        let size = field.scalar.size;
        let values = &bytes[field.offset..field.offset + field.width * size];
        for value in values.chunks_exact(size) {
            columns[column].push(field.scalar.decode(value));
            column += 1;
        }
    }
}

/// How a stored number is represented.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Float,
    Signed,
    Unsigned,
}

/// A numeric HDF5 type this reader decodes: IEEE floats of 4 or 8 bytes, integers of 1 to
/// 8 bytes, and bools (a 1-byte bit field or enumeration), in either byte order.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scalar {
    kind: Kind,
    size: usize,
    big_endian: bool,
}

impl Scalar {
    /// The decoder for `datatype`, if it is a supported number type.
    fn of(datatype: &Datatype) -> Option<Scalar> {
        let (kind, size, order) = match datatype {
            Datatype::FloatingPoint {
                size,
                byte_order,
                layout,
            } => {
                let ieee = matches!(
                    (size, layout),
                    (4, &FloatingPointLayout::IEEE754_BINARY32)
                        | (8, &FloatingPointLayout::IEEE754_BINARY64)
                );
                (ieee.then_some(Kind::Float)?, *size, byte_order)
            }
            Datatype::FixedPoint {
                size,
                byte_order,
                layout,
            } => {
                let full = layout.bit_offset == 0
                    && u64::from(layout.bit_precision) == u64::from(*size) * 8;
                let kind = if layout.signed {
                    Kind::Signed
                } else {
                    Kind::Unsigned
                };
                (full.then_some(kind)?, *size, byte_order)
            }
            Datatype::BitField {
                size: 1,
                byte_order,
                bit_offset: 0,
                ..
            } => (Kind::Unsigned, 1, byte_order),
            Datatype::Enumeration { base_type, .. } => return Scalar::of(base_type),
            _ => return None,
        };
        let big_endian = match order {
            DatatypeByteOrder::LittleEndian => false,
            DatatypeByteOrder::BigEndian => true,
            DatatypeByteOrder::Vax => return None,
        };
        matches!(size, 1 | 2 | 4 | 8).then_some(Scalar {
            kind,
            size: size as usize,
            big_endian,
        })
    }

    /// The value's bits, little-endian in the low `size` bytes of a `u64`.
    fn bits(&self, bytes: &[u8]) -> u64 {
        let mut buffer = [0u8; 8];
        buffer[..self.size].copy_from_slice(&bytes[..self.size]);
        if self.big_endian {
            buffer[..self.size].reverse();
        }
        u64::from_le_bytes(buffer)
    }

    /// Decodes one value (`bytes` holds at least `size` bytes) as `f64`.
    fn decode(&self, bytes: &[u8]) -> f64 {
        let bits = self.bits(bytes);
        match (self.kind, self.size) {
            (Kind::Float, 4) => f64::from(f32::from_bits(bits as u32)),
            (Kind::Float, _) => f64::from_bits(bits),
            (Kind::Signed, _) => self.signed(bits) as f64,
            (Kind::Unsigned, _) => bits as f64,
        }
    }

    /// Sign-extends the low `size` bytes of `bits`.
    fn signed(&self, bits: u64) -> i64 {
        let shift = 64 - 8 * self.size as u32;
        ((bits << shift) as i64) >> shift
    }

    /// One value as a pandas column label: integers exactly, floats as Python prints them.
    fn label(&self, bytes: &[u8]) -> String {
        let bits = self.bits(bytes);
        match self.kind {
            Kind::Signed => self.signed(bits).to_string(),
            Kind::Unsigned => bits.to_string(),
            Kind::Float => float_label(self.decode(bytes)),
        }
    }
}

/// A float column label as Python's `str` writes it for ordinary values (`1.0`, `0.5`).
fn float_label(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// A reader for the protocol-0 (text) pickles PyTables stores for Python attributes that
/// are not arrays, such as the lists of column labels of a table-format DataFrame.
mod pickle {
    use std::collections::HashMap;

    /// The Python values these pickles hold.
    #[derive(Debug, Clone, PartialEq)]
    pub(super) enum Py {
        None,
        Bool(bool),
        Int(i64),
        Float(f64),
        Str(String),
        List(Vec<Py>),
        Tuple(Vec<Py>),
    }

    impl Py {
        /// The value as a pandas column label (strings, integers and floats).
        pub(super) fn label(&self) -> Option<String> {
            match self {
                Py::Str(s) => Some(s.clone()),
                Py::Int(i) => Some(i.to_string()),
                Py::Float(f) => Some(super::float_label(*f)),
                Py::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
                Py::None => Some("None".to_string()),
                Py::List(_) | Py::Tuple(_) => None,
            }
        }
    }

    /// An entry of the unpickler's stack.
    enum Slot {
        Mark,
        Value(Py),
    }

    /// Parses a protocol-0 pickle of `None`, bools, ints, floats, strings, lists and tuples;
    /// `None` for anything else (dicts, other opcodes, other protocols, malformed text, a
    /// list or tuple referenced twice, or references copying far more than the text holds).
    pub(super) fn parse(text: &str) -> Option<Py> {
        let mut stack: Vec<Slot> = Vec::new();
        // Memoised scalars by memo key; lists and tuples (still growing when memoised) are
        // `None`, so a reference to one is refused rather than answered with a stale copy.
        let mut memo: HashMap<&str, Option<Py>> = HashMap::new();
        let mut copy_budget = 64 * text.len() + 4096;
        let mut rest = text;
        loop {
            let op = rest.chars().next()?;
            rest = &rest[op.len_utf8()..];
            match op {
                '.' => {
                    return match (stack.pop()?, stack.is_empty()) {
                        (Slot::Value(value), true) => Some(value),
                        _ => None,
                    };
                }
                '(' => stack.push(Slot::Mark),
                'N' => stack.push(Slot::Value(Py::None)),
                'l' => {
                    let items = pop_to_mark(&mut stack)?;
                    stack.push(Slot::Value(Py::List(items)));
                }
                't' => {
                    let items = pop_to_mark(&mut stack)?;
                    stack.push(Slot::Value(Py::Tuple(items)));
                }
                'a' => append(&mut stack)?,
                _ => {
                    let (line, after) = rest.split_once('\n')?;
                    rest = after;
                    match op {
                        'I' => stack.push(Slot::Value(int(line)?)),
                        'L' => stack.push(Slot::Value(Py::Int(
                            line.trim_end_matches('L').parse().ok()?,
                        ))),
                        'F' => stack.push(Slot::Value(Py::Float(line.parse().ok()?))),
                        'V' => stack.push(Slot::Value(Py::Str(unicode(line)?))),
                        'S' => stack.push(Slot::Value(Py::Str(quoted(line)?))),
                        'p' => match stack.last()? {
                            Slot::Value(Py::List(_) | Py::Tuple(_)) => {
                                memo.insert(line, None);
                            }
                            Slot::Value(value) => {
                                memo.insert(line, Some(value.clone()));
                            }
                            Slot::Mark => return None,
                        },
                        'g' => {
                            let value = memo.get(line)?.clone()?;
                            let size = value.label()?.len() + 1;
                            copy_budget = copy_budget.checked_sub(size)?;
                            stack.push(Slot::Value(value));
                        }
                        _ => return None,
                    }
                }
            }
        }
    }

    /// The `I` opcode's value: `01`/`00` are True/False, anything else an integer.
    fn int(line: &str) -> Option<Py> {
        match line {
            "01" => Some(Py::Bool(true)),
            "00" => Some(Py::Bool(false)),
            _ => line.parse().ok().map(Py::Int),
        }
    }

    /// Pops the values above the topmost mark (and the mark), in push order.
    fn pop_to_mark(stack: &mut Vec<Slot>) -> Option<Vec<Py>> {
        let mut values = Vec::new();
        loop {
            match stack.pop()? {
                Slot::Mark => break,
                Slot::Value(value) => values.push(value),
            }
        }
        values.reverse();
        Some(values)
    }

    /// The `a` opcode: pops a value and appends it to the list below it.
    fn append(stack: &mut Vec<Slot>) -> Option<()> {
        let Slot::Value(value) = stack.pop()? else {
            return None;
        };
        match stack.last_mut()? {
            Slot::Value(Py::List(list)) => list.push(value),
            _ => return None,
        }
        Some(())
    }

    /// Decodes the `raw-unicode-escape` text of a `V` opcode (`\uXXXX`, `\UXXXXXXXX`).
    fn unicode(line: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let digits = match chars.clone().next() {
                Some('u') => 4,
                Some('U') => 8,
                _ => {
                    out.push(c);
                    continue;
                }
            };
            chars.next();
            let hex: String = chars.by_ref().take(digits).collect();
            out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
        }
        Some(out)
    }

    /// Decodes the quoted Python 2 `str` literal of an `S` opcode (`'abc'`, `"it's"`).
    fn quoted(line: &str) -> Option<String> {
        let quote = line.chars().next().filter(|q| *q == '\'' || *q == '"')?;
        let body = line.strip_prefix(quote)?.strip_suffix(quote)?;
        let mut bytes = Vec::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                let mut buffer = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
                continue;
            }
            match chars.next()? {
                'n' => bytes.push(b'\n'),
                't' => bytes.push(b'\t'),
                'r' => bytes.push(b'\r'),
                'x' => {
                    let hex: String = chars.by_ref().take(2).collect();
                    bytes.push(u8::from_str_radix(&hex, 16).ok()?);
                }
                other => {
                    let mut buffer = [0u8; 4];
                    bytes.extend_from_slice(other.encode_utf8(&mut buffer).as_bytes());
                }
            }
        }
        String::from_utf8(bytes).ok()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The fixtures written by `scripts/make_lhco_fixtures.py`.
    pub(crate) fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lhco")
            .join(name)
    }

    /// The expected values the fixture script wrote next to the fixtures.
    fn expected() -> serde_json::Value {
        let text = std::fs::read_to_string(fixture("expected.json"))
            .expect("expected.json (run scripts/make_lhco_fixtures.py)");
        serde_json::from_str(&text).expect("expected.json is JSON")
    }

    fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
        (actual - expected).abs() <= tolerance * expected.abs().max(1.0)
    }

    fn column<'c>(columns: &'c NamedColumns, name: &str) -> &'c [f64] {
        &columns
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .1
    }

    /// Checks one DataFrame read against its entry in expected.json.
    fn check(
        file: &str,
        key: &str,
        layout: LhcoLayout,
        columns: &NamedColumns,
        want: &serde_json::Value,
    ) {
        let at = format!("{file} key {key}");
        assert_eq!(
            format!("{layout:?}"),
            want["layout"].as_str().unwrap(),
            "{at}: layout"
        );
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let want_names: Vec<&str> = want["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(names, want_names, "{at}: column names");
        let rows = want["rows"].as_u64().unwrap() as usize;
        assert!(
            columns.iter().all(|(_, v)| v.len() == rows),
            "{at}: every column has {rows} rows"
        );
        for cell in want["cells"].as_array().unwrap() {
            let (row, name) = (
                cell["row"].as_u64().unwrap() as usize,
                cell["column"].as_str().unwrap(),
            );
            let (got, value) = (column(columns, name)[row], cell["value"].as_f64().unwrap());
            assert!(
                close(got, value, 1e-14),
                "{at}: {name}[{row}] = {got}, expected {value}"
            );
        }
        for (name, sum) in want["sums"].as_object().unwrap() {
            let got: f64 = column(columns, name).iter().sum();
            assert!(
                close(got, sum.as_f64().unwrap(), 1e-10),
                "{at}: sum of {name} = {got}, expected {sum}"
            );
        }
        let total: f64 = columns.iter().flat_map(|(_, v)| v).sum();
        assert!(
            close(total, want["total"].as_f64().unwrap(), 1e-10),
            "{at}: total {total}"
        );
    }

    #[test]
    fn every_fixture_matches_the_values_pandas_wrote() {
        let expected = expected();
        let files = expected.as_object().unwrap();
        assert!(files.len() >= 7, "expected.json lists the fixtures");
        for (file, keys) in files {
            for (key, want) in keys.as_object().unwrap() {
                let (layout, columns) = read_lhco(&fixture(file), Some(key), None)
                    .unwrap_or_else(|e| panic!("{file} {key}: {e}"));
                check(file, key, layout, &columns, want);
            }
        }
    }

    #[test]
    fn without_a_key_the_first_dataframe_is_read() {
        let (layout, columns) = read_lhco(&fixture("features_fixed.h5"), None, None).unwrap();
        assert_eq!(layout, LhcoLayout::Features);
        assert_eq!(columns.len(), 15);
        // mixed.h5 holds /dc, /grp/mix and /other: /dc comes first in name order.
        let (_, first) = read_lhco(&fixture("mixed.h5"), None, None).unwrap();
        let (_, dc) = read_lhco(&fixture("mixed.h5"), Some("/dc"), None).unwrap();
        assert_eq!(first, dc);
    }

    #[test]
    fn a_row_range_reads_that_slice_of_every_layout() {
        let cases = [
            ("features_fixed.h5", 10..20),
            ("features_table.h5", 10..20),
            ("features_fixed_zlib.h5", 3..49),
            ("features_table_zlib.h5", 0..50),
            ("raw_fixed.h5", 4..17),
            // Stored in chunks of three rows: this window starts and ends inside a chunk.
            ("raw_fixed_zlib.h5", 4..17),
        ];
        for (file, rows) in cases {
            let (layout, full) = read_lhco(&fixture(file), Some("df"), None).unwrap();
            let count = lhco_rows(&fixture(file), Some("df")).unwrap();
            assert_eq!(count, full[0].1.len(), "{file}");
            let (slice_layout, slice) =
                read_lhco(&fixture(file), Some("df"), Some(rows.clone())).unwrap();
            assert_eq!(layout, slice_layout, "{file}");
            assert_eq!(full.len(), slice.len(), "{file}");
            for ((name, all), (slice_name, part)) in full.iter().zip(&slice) {
                assert_eq!(name, slice_name, "{file}");
                assert_eq!(&all[rows.clone()], part.as_slice(), "{file}: column {name}");
            }
        }
        let (_, empty) = read_lhco(&fixture("features_table.h5"), None, Some(50..50)).unwrap();
        assert!(empty.len() == 15 && empty.iter().all(|(_, v)| v.is_empty()));
    }

    #[test]
    #[allow(clippy::reversed_empty_ranges)]
    fn a_row_range_out_of_bounds_is_a_format_error() {
        for file in ["features_fixed.h5", "features_table.h5"] {
            for rows in [40..51, 60..70, 10..5] {
                let err = read_lhco(&fixture(file), None, Some(rows)).unwrap_err();
                assert!(matches!(err, Error::Format { .. }), "{file}: {err}");
                assert!(
                    err.to_string().contains("out of bounds")
                        && err.to_string().contains("50 rows"),
                    "{err}"
                );
            }
        }
    }

    #[test]
    fn a_missing_key_is_an_error_listing_the_keys() {
        let err = read_lhco(&fixture("mixed.h5"), Some("nope"), None).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, Error::Format { .. }), "{message}");
        assert!(
            message.contains("key '/nope'") && message.contains("/dc, /grp/mix, /other"),
            "{message}"
        );
        // A group that is not a pandas object is not a key either.
        let err = read_lhco(&fixture("mixed.h5"), Some("grp"), None).unwrap_err();
        assert!(err.to_string().contains("pandas_type"), "{err}");
    }

    #[test]
    fn a_missing_file_is_an_io_error() {
        let err = read_lhco(&fixture("no_such_file.h5"), None, None).unwrap_err();
        assert!(matches!(err, Error::Io { action: "read", .. }), "{err}");
    }

    #[test]
    fn a_file_that_is_not_hdf5_is_a_format_error_at_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let mut signature_then_noise = b"\x89HDF\r\n\x1a\n".to_vec();
        signature_then_noise.extend_from_slice(&noise);
        for (name, bytes) in [
            ("noise.h5", noise.clone()),
            ("signature.h5", signature_then_noise),
            ("empty.h5", Vec::new()),
            ("text.h5", b"pxj1,pyj1\n1,2\n".to_vec()),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let err = read_lhco(&path, None, None).unwrap_err();
            assert!(
                matches!(&err, Error::Format { location, .. } if location == "file header"),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn a_truncated_file_is_an_error_never_a_panic_nor_wrong_values() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "features_fixed.h5",
            "features_table_zlib.h5",
            "raw_fixed_zlib.h5",
            "mixed.h5",
        ] {
            let bytes = std::fs::read(fixture(file)).unwrap();
            let path = dir.path().join(file);
            std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
            let err =
                read_lhco(&path, Some("df").filter(|_| file != "mixed.h5"), None).unwrap_err();
            assert!(
                matches!(err, Error::Format { .. }) && err.to_string().contains("truncated"),
                "{file} cut in half: {err}"
            );
            // Wherever the file is cut, the read fails or gives exactly the full values.
            let full = read_lhco(&fixture(file), None, None).unwrap();
            for cut in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
                std::fs::write(&path, &bytes[..cut]).unwrap();
                if let Ok(read) = read_lhco(&path, None, None) {
                    assert_eq!(read, full, "{file} cut at {cut} read wrong values");
                }
            }
        }
    }

    #[test]
    fn an_unsupported_filter_is_a_format_error_naming_the_dataset() {
        let err = read_lhco(&fixture("blosc/unsupported_bzip2.h5"), None, None).unwrap_err();
        assert!(
            matches!(&err, Error::Format { location, .. } if location == "dataset /df/table"),
            "{err}"
        );
        assert!(err.to_string().contains("bzip2"), "{err}");
    }

    /// A JSON file written by `scripts/make_blosc_fixtures.py`.
    fn blosc_json(name: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(fixture(&format!("blosc/{name}")))
            .expect("run scripts/make_blosc_fixtures.py");
        serde_json::from_str(&text).expect("JSON")
    }

    /// The values pandas read back from every file holding `frame`, as columns (stored as
    /// the bits of each float64, so they are exact).
    fn blosc_frame(frame: &str) -> NamedColumns {
        let want = blosc_json(&format!("{frame}.json"));
        let rows = want["rows"].as_u64().unwrap() as usize;
        let names: Vec<String> = if frame == "raw" {
            (0..RAW_COLUMNS).map(raw_column_name).collect()
        } else {
            let names = want["columns"].as_array().unwrap();
            names
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect()
        };
        let mut columns: NamedColumns = names.into_iter().map(|n| (n, vec![0.0; rows])).collect();
        if frame == "raw" {
            for cell in want["nonzero"].as_array().unwrap() {
                let (row, column) = (cell[0].as_u64().unwrap(), cell[1].as_u64().unwrap());
                columns[column as usize].1[row as usize] =
                    f64::from_bits(cell[2].as_u64().unwrap());
            }
        } else {
            for (row, values) in want["values"].as_array().unwrap().iter().enumerate() {
                for (column, value) in values.as_array().unwrap().iter().enumerate() {
                    columns[column].1[row] = f64::from_bits(value.as_u64().unwrap());
                }
            }
        }
        columns
    }

    #[test]
    fn every_blosc_codec_and_shuffle_reads_to_the_values_pandas_read() {
        let files = blosc_json("files.json");
        let files = files.as_object().unwrap();
        let frames = [
            ("features", blosc_frame("features")),
            ("raw", blosc_frame("raw")),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (file, info) in files {
            let frame = info["frame"].as_str().unwrap();
            let want = &frames.iter().find(|(name, _)| *name == frame).unwrap().1;
            let (layout, columns) = read_lhco(&fixture(&format!("blosc/{file}")), None, None)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let raw = layout == LhcoLayout::RawParticles;
            assert_eq!(raw, frame == "raw", "{file}: layout");
            assert!(columns == *want, "{file}: values differ from pandas'");
            seen.insert((
                info["codec"].as_str().unwrap(),
                info["shuffle"].as_str().unwrap(),
            ));
        }
        for codec in ["blosclz", "lz4", "lz4hc", "zlib", "zstd"] {
            for shuffle in ["shuffle", "noshuffle", "bitshuffle"] {
                assert!(
                    seen.contains(&(codec, shuffle)),
                    "no fixture for {codec} {shuffle}"
                );
            }
        }
    }

    #[test]
    fn a_row_range_of_a_blosc_file_reads_that_slice() {
        for (file, frame, rows) in [
            ("features_table_zstd_bitshuffle.h5", "features", 37..171),
            ("features_fixed_lz4_noshuffle.h5", "features", 200..203),
            ("raw_blosclz_shuffle.h5", "raw", 5..17),
        ] {
            let want = blosc_frame(frame);
            let path = fixture(&format!("blosc/{file}"));
            let (_, columns) = read_lhco(&path, None, Some(rows.clone())).unwrap();
            for ((name, got), (_, all)) in columns.iter().zip(&want) {
                assert_eq!(got.as_slice(), &all[rows.clone()], "{file}: {name}");
            }
        }
    }

    #[test]
    fn the_first_blosc_fixture_reads_as_its_uncompressed_twin() {
        let (_, blosc) = read_lhco(&fixture("features_blosc.h5"), None, None).unwrap();
        let (_, plain) = read_lhco(&fixture("features_table.h5"), None, None).unwrap();
        assert!(blosc == plain);
    }

    #[test]
    fn text_columns_are_named_not_reported_as_shapes() {
        for (file, location, what) in [
            (
                "strings_fixed.h5",
                "dataset /df/block1_values",
                "text or Python objects",
            ),
            (
                "strings_table.h5",
                "dataset /df/table, member 'values_block_1'",
                "text (strings)",
            ),
        ] {
            let err = read_lhco(&fixture(file), None, None)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!(
                    "{file}: {location}: column 'process' holds {what}"
                )),
                "{err}"
            );
            assert!(!err.contains("shape"), "{err}");
        }
    }

    #[test]
    fn non_finite_values_are_refused_with_row_and_column() {
        for (file, rows, location, value) in [
            ("nonfinite_fixed.h5", None, "row 2, column 'b'", "NaN"),
            ("nonfinite_table.h5", None, "row 3, column 'b'", "inf"),
            ("nonfinite_table.h5", Some(1..5), "row 3, column 'b'", "inf"),
        ] {
            let err = read_lhco(&fixture(file), None, rows)
                .unwrap_err()
                .to_string();
            assert!(
                err.ends_with(&format!(
                    "{file}: key /df, {location}: value is {value}: only finite numbers are read"
                )),
                "{err}"
            );
        }
        let (_, before) = read_lhco(&fixture("nonfinite_table.h5"), None, Some(0..3)).unwrap();
        assert_eq!(before[1].1, vec![0.0, 0.25, 0.5]);
    }

    #[test]
    fn raw_particle_columns_are_named_by_particle_and_quantity() {
        assert_eq!(raw_column_name(0), "pt_0");
        assert_eq!(raw_column_name(1), "eta_0");
        assert_eq!(raw_column_name(2), "phi_0");
        assert_eq!(raw_column_name(3), "pt_1");
        assert_eq!(raw_column_name(2099), "phi_699");
        assert_eq!(raw_column_name(2100), "label");
        let numbered: NamedColumns = (0..RAW_COLUMNS)
            .map(|i| (i.to_string(), vec![i as f64]))
            .collect();
        let (layout, named) = classify(numbered);
        assert_eq!(layout, LhcoLayout::RawParticles);
        assert_eq!((named[4].0.as_str(), named[4].1[0]), ("eta_1", 4.0));
        // Any other table keeps its names, even with 2101 columns.
        let other: NamedColumns = (0..RAW_COLUMNS)
            .map(|i| (format!("c{i}"), vec![]))
            .collect();
        assert_eq!(classify(other.clone()), (LhcoLayout::Features, other));
        let (_, raw) = read_lhco(&fixture("raw_fixed.h5"), None, Some(0..1)).unwrap();
        assert_eq!(
            raw.iter()
                .map(|(n, _)| n.as_str())
                .take(4)
                .collect::<Vec<_>>(),
            ["pt_0", "eta_0", "phi_0", "pt_1"]
        );
    }

    #[test]
    fn protocol_zero_pickles_of_labels_are_parsed() {
        let parse = pickle::parse;
        let s = |t: &str| Py::Str(t.to_string());
        assert_eq!(
            parse("(lp0\nVpxj1\np1\naVlabel\np2\na."),
            Some(Py::List(vec![s("pxj1"), s("label")]))
        );
        assert_eq!(
            parse("(lp0\n(I1\n(lp1\nVa\np2\naVb\np3\natp4\na."),
            Some(Py::List(vec![Py::Tuple(vec![
                Py::Int(1),
                Py::List(vec![s("a"), s("b")])
            ])]))
        );
        assert_eq!(
            parse("(lp0\nI0\naL4294967296L\naI01\naF0.5\naN."),
            None,
            "N after a list item leaves two values"
        );
        assert_eq!(
            parse("(lp0\nI0\naL4294967296L\naI01\naF0.5\na."),
            Some(Py::List(vec![
                Py::Int(0),
                Py::Int(1 << 32),
                Py::Bool(true),
                Py::Float(0.5)
            ]))
        );
        assert_eq!(
            parse("(lp0\nS'it\\'s'\np1\naVcaf\\u00e9\\u005c\np2\nag1\na."),
            Some(Py::List(vec![s("it's"), s("café\\"), s("it's")]))
        );
        for bad in [
            "",
            ".",
            "(lp0\na.",
            "(lp0\nVx",
            "(dp0\n.",
            "\u{80}\u{2}]q\u{0}.",
            "(lp0\nI1x\na.",
            "(lp0\ng9\na.",
            "(lp0\ng0\na.",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        // References may not copy a long string over and over.
        let long = format!(
            "(lp0\nV{}\np1\na{}.",
            "x".repeat(10_000),
            "g1\na".repeat(1000)
        );
        assert_eq!(parse(&long), None);
    }

    #[test]
    fn scalars_decode_in_both_byte_orders() {
        let be_i16 = Scalar {
            kind: Kind::Signed,
            size: 2,
            big_endian: true,
        };
        assert_eq!(be_i16.decode(&[0xff, 0xfe]), -2.0);
        assert_eq!(be_i16.label(&[0x01, 0x00]), "256");
        let le_u8 = Scalar {
            kind: Kind::Unsigned,
            size: 1,
            big_endian: false,
        };
        assert_eq!(le_u8.decode(&[255]), 255.0);
        let be_f32 = Scalar {
            kind: Kind::Float,
            size: 4,
            big_endian: true,
        };
        assert_eq!(be_f32.decode(&1.5f32.to_be_bytes()), 1.5);
        assert_eq!(be_f32.label(&2.0f32.to_be_bytes()), "2.0");
    }
}
