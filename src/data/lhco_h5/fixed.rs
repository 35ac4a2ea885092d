//! The fixed layout (`to_hdf`'s default): `block{k}_values` arrays put back in `axis0` order.

use std::collections::HashMap;
use std::ops::Range;

use hdf5_pure::{AttrValue, Datatype, Group};

use super::blosc_chunks::BloscChunks;
use super::reader::{Reader, attr_int, attr_text, is_empty_placeholder};
use super::values::{Field, Scalar};
use crate::data::NamedColumns;
use crate::error::Result;

impl Reader<'_> {
    /// Reads a fixed-format DataFrame: the blocks, put back in `axis0` order.
    pub(super) fn read_fixed(
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
    pub(super) fn axis_labels(&self, group: &Group, key: &str, name: &str) -> Result<Vec<String>> {
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
    pub(super) fn axis_length(&self, group: &Group, key: &str, name: &str) -> Result<u64> {
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
    pub(super) fn read_block(
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
}
