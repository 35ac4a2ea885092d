//! The table layout (`format="table"`): a PyTables compound `table` dataset, its members
//! and their pickled column labels.

use std::collections::HashMap;
use std::ops::Range;

use hdf5_pure::{AttrValue, Dataset, Datatype, Group};

use super::pickle::{Py, parse};
use super::reader::{Reader, attr_text};
use super::values::{Field, Scalar};
use crate::data::NamedColumns;
use crate::error::Result;

impl Reader<'_> {
    /// Reads a table-format DataFrame: the compound `table` dataset's value members, put
    /// back in the order of the pickled `non_index_axes` attribute.
    pub(super) fn read_table(
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
    pub(super) fn table_length(&self, dataset: &Dataset, location: &str) -> Result<u64> {
        match dataset.shape().map_err(self.h5(location))?.as_slice() {
            [count] => Ok(*count),
            shape => Err(self.fail(
                location,
                format!("expected a 1-D table, found shape {shape:?}"),
            )),
        }
    }

    /// The names of the table members holding the row index (`index_cols`; default `index`).
    pub(super) fn index_columns(
        &self,
        attrs: &HashMap<String, AttrValue>,
        key: &str,
    ) -> Result<Vec<String>> {
        let Some(text) = attr_text(attrs, "index_cols") else {
            return Ok(vec!["index".to_string()]);
        };
        let bad = || {
            self.fail(
                format!("attribute 'index_cols' of group {key}"),
                "not a pickled list of (axis, name) pairs",
            )
        };
        let Some(Py::List(pairs)) = parse(text) else {
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
    pub(super) fn column_order(
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
        let Some(Py::List(axes)) = parse(text) else {
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
    pub(super) fn table_field(
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
    pub(super) fn member_labels(
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
        match parse(text) {
            Some(Py::List(labels)) => labels.iter().map(|l| l.label().ok_or_else(bad)).collect(),
            _ => Err(bad()),
        }
    }
}
