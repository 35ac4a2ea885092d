//! A DataFrame group read or counted whatever its layout: the `pandas_type` attribute picks
//! the fixed or the table reader.

use std::ops::Range;

use hdf5_pure::Group;

use super::reader::{Reader, attr_text, unsupported_type};
use crate::data::NamedColumns;
use crate::error::Result;

impl Reader<'_> {
    /// Reads the columns of the DataFrame group at `key`, in the DataFrame's column order.
    pub(super) fn read_frame(
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
    pub(super) fn row_count(&self, key: &str, group: &Group) -> Result<usize> {
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
}
