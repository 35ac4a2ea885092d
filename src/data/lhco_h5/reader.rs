//! The open file and what every layout shares: finding the DataFrame groups, opening and
//! checking datasets, row windows, decoding records into columns, and the errors naming
//! the file.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use hdf5_pure::{AttrValue, Dataset, Datatype, File, FormatError, Group, ReadSeekSource};

use super::blosc_chunks::{BLOSC_FILTER, BloscChunks};
use super::values::{Field, decode_record};
use crate::data::NamedColumns;
use crate::error::{Error, Result, quoted};

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

/// An open HDF5 file, its path (for error messages) and its length in bytes.
pub(super) struct Reader<'a> {
    pub(super) path: &'a Path,
    pub(super) file: File,
    /// The same open file, for the chunks of blosc-compressed datasets (`hdf5-pure` seeks
    /// before every read, so the shared position does not disturb it).
    pub(super) handle: std::fs::File,
    pub(super) length: u64,
}

impl<'a> Reader<'a> {
    /// Opens `path` for streaming reads: metadata and data are read on demand.
    pub(super) fn open(path: &'a Path) -> Result<Self> {
        let crate::data::input::Input {
            file: handle,
            len: length,
        } = crate::data::input::open(path)?;
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
    pub(super) fn fail(&self, location: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::format(self.path, location, problem)
    }

    /// Converts an `hdf5-pure` error at `location` into an [`Error::Format`].
    pub(super) fn h5(&self, location: &str) -> impl Fn(hdf5_pure::Error) -> Error {
        let location = location.to_string();
        move |e| self.fail(location.clone(), describe(&e))
    }

    /// The group of the DataFrame under `key` (or of the first one), with its key.
    pub(super) fn frame_group(&self, key: Option<&str>) -> Result<(String, Group)> {
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
    pub(super) fn frame_keys(&self) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut budget = MAX_GROUPS;
        self.collect_keys(&self.file.root(), "", 0, &mut budget, &mut keys)?;
        Ok(keys)
    }

    /// Adds the keys of the pandas objects under `group` (at `prefix`) to `keys`.
    pub(super) fn collect_keys(
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
    pub(super) fn attrs(
        &self,
        group: &Group,
        location: &str,
    ) -> Result<HashMap<String, AttrValue>> {
        group.attrs().map_err(self.h5(location))
    }

    /// Opens the dataset `name` of the DataFrame group at `key`.
    pub(super) fn dataset(
        &self,
        group: &Group,
        key: &str,
        name: &str,
    ) -> Result<(Dataset, String)> {
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
    pub(super) fn check_size(&self, dataset: &Dataset, location: &str) -> Result<()> {
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

    /// The rows to read of a table of `count` rows.
    pub(super) fn window(
        &self,
        rows: Option<Range<usize>>,
        count: u64,
        location: &str,
    ) -> Result<Range<u64>> {
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
    pub(super) fn check_finite(
        &self,
        key: &str,
        columns: &NamedColumns,
        first_row: usize,
    ) -> Result<()> {
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
    pub(super) fn not_numeric(
        &self,
        location: &str,
        datatype: &Datatype,
        labels: &[String],
    ) -> Error {
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

    /// Decodes the `window` records (rows) of `dataset`, each `record` bytes, into one
    /// column per value of `fields`, reading at most about [`READ_BYTES`] at a time.
    pub(super) fn read_records(
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
    pub(super) fn arrange(
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
pub(super) fn unsupported_type(pandas_type: &str) -> String {
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
pub(super) fn is_empty_placeholder(dataset: &Dataset) -> bool {
    dataset
        .attrs()
        .is_ok_and(|attrs| attrs.contains_key("shape"))
}

/// A string attribute's text.
pub(super) fn attr_text<'v>(attrs: &'v HashMap<String, AttrValue>, name: &str) -> Option<&'v str> {
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
pub(super) fn attr_int(attrs: &HashMap<String, AttrValue>, name: &str) -> Option<i64> {
    match attrs.get(name)? {
        AttrValue::I64(v) => Some(*v),
        AttrValue::I32(v) => Some((*v).into()),
        AttrValue::U32(v) => Some((*v).into()),
        AttrValue::U64(v) => i64::try_from(*v).ok(),
        _ => None,
    }
}
