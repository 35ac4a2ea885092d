//! Datasets compressed with the blosc filter (HDF5 filter 32001), which `hdf5-pure` lists but
//! does not decode: the chunk index comes from `hdf5-pure` ([`Dataset::chunks`]: each chunk's
//! offset, file address, stored size and filter mask), the stored bytes are read from the
//! file here and decoded by [`crate::data::blosc`], and the rows asked for are assembled from
//! the chunks they overlap.
//!
//! Only 1-D datasets (PyTables tables, whose element is the record) and 2-D datasets (pandas
//! fixed-format blocks) are read, with blosc as the only filter, as PyTables writes them.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use hdf5_pure::{Chunk, Dataset};

use crate::data::blosc;

/// The HDF5 filter id of blosc, as registered by PyTables.
pub(super) const BLOSC_FILTER: u16 = 32001;
/// Largest chunk a Blosc 1 frame can hold.
const MAX_CHUNK_BYTES: u64 = i32::MAX as u64;

/// The chunk layout of one blosc-compressed dataset.
pub(super) struct BloscChunks {
    /// Rows of the dataset.
    rows: u64,
    /// Elements per row (1 for a 1-D dataset).
    columns: u64,
    /// Rows and columns of a chunk.
    chunk: [u64; 2],
    /// Bytes per element.
    element: usize,
    /// The allocated chunks, in row-then-column order of their offsets.
    chunks: Vec<Chunk>,
}

impl BloscChunks {
    /// The chunk layout of `dataset` when it is compressed with blosc (None otherwise);
    /// `file_length` bounds where its chunks may lie.
    ///
    /// # Errors
    /// A description of what is wrong: blosc together with other filters, a rank other than
    /// 1 or 2, a chunk shape or chunk index that does not fit the dataset or the file.
    pub(super) fn of(dataset: &Dataset, file_length: u64) -> Result<Option<Self>, String> {
        let pipeline = dataset.filters();
        if !pipeline.contains(&BLOSC_FILTER) {
            return Ok(None);
        }
        if pipeline.len() != 1 {
            return Err(format!(
                "compressed with the HDF5 filters {pipeline:?}: blosc (32001) is read only \
                 as the dataset's single filter, as PyTables writes it"
            ));
        }
        let shape = dataset.shape().map_err(|e| e.to_string())?;
        let chunk = dataset
            .chunk_shape()
            .map_err(|e| e.to_string())?
            .ok_or("compressed with blosc but not stored in chunks")?;
        let element = dataset.element_size().map_err(|e| e.to_string())?;
        let ((rows, columns), chunk) = match (shape.as_slice(), chunk.as_slice()) {
            ([rows], [chunk_rows]) => ((*rows, 1), [*chunk_rows, 1]),
            ([rows, columns], [chunk_rows, chunk_columns]) => {
                ((*rows, *columns), [*chunk_rows, *chunk_columns])
            }
            _ => {
                return Err(format!(
                    "blosc-compressed dataset of shape {shape:?} in chunks of {chunk:?}: only \
                     1-D and 2-D datasets are read"
                ));
            }
        };
        let chunk_bytes = chunk[0]
            .checked_mul(chunk[1])
            .and_then(|n| n.checked_mul(element));
        if chunk.contains(&0) || chunk_bytes.is_none_or(|bytes| bytes > MAX_CHUNK_BYTES) {
            return Err(format!(
                "chunks of {chunk:?} elements of {element} bytes: empty, or larger than a \
                 blosc frame can hold"
            ));
        }
        let mut chunks = dataset.chunks().map_err(|e| e.to_string())?;
        for c in &chunks {
            let (row, column) = (c.offset.first().copied(), c.offset.get(1).copied());
            let column = column.unwrap_or(0);
            let inside = row.is_some_and(|row| row % chunk[0] == 0 && row < rows)
                && column % chunk[1] == 0
                && column < columns
                && c.offset.len() == shape.len();
            let stored = c
                .address
                .checked_add(c.storage_size)
                .is_some_and(|end| end <= file_length);
            if !inside || !stored {
                return Err(format!(
                    "the chunk index lists a chunk at {:?} ({} bytes at byte {}) outside the \
                     dataset or the file: the file is damaged",
                    c.offset, c.storage_size, c.address
                ));
            }
        }
        chunks.sort_by(|a, b| a.offset.cmp(&b.offset));
        if let Some(pair) = chunks.windows(2).find(|w| w[0].offset == w[1].offset) {
            return Err(format!(
                "the chunk index lists the chunk at {:?} twice: the file is damaged",
                pair[0].offset
            ));
        }
        Ok(Some(BloscChunks {
            rows,
            columns,
            chunk,
            element: usize::try_from(element).map_err(|e| e.to_string())?,
            chunks,
        }))
    }

    /// Rows per chunk: reads aligned to it decode every chunk once.
    pub(super) fn chunk_rows(&self) -> u64 {
        self.chunk[0]
    }

    /// The bytes of rows `start..start + count` (row-major, as `read_raw_rows` returns
    /// them), decoded from the chunks they overlap in `file`.
    ///
    /// # Errors
    /// A description of what is wrong: the rows lie outside the dataset, a chunk cannot be
    /// read or decoded, or a chunk they need is missing from the index.
    pub(super) fn read_rows(&self, file: &File, start: u64, count: u64) -> Result<Vec<u8>, String> {
        let end = start
            .checked_add(count)
            .filter(|&end| end <= self.rows)
            .ok_or_else(|| format!("rows {start}..+{count} lie outside the {} rows", self.rows))?;
        let element = self.element as u64;
        let row_bytes = self.columns * element;
        let mut out = vec![0u8; usize::try_from(count * row_bytes).map_err(|e| e.to_string())?];
        let first = start - start % self.chunk[0];
        let from = self.chunks.partition_point(|c| c.offset[0] < first);
        let mut covered = 0u64;
        let chunk_bytes = (self.chunk[0] * self.chunk[1] * element) as usize;
        let chunk_row_bytes = self.chunk[1] * element;
        for c in self.chunks[from..].iter().take_while(|c| c.offset[0] < end) {
            let data = self.decode(file, c, chunk_bytes)?;
            let (row0, column0) = (c.offset[0], c.offset.get(1).copied().unwrap_or(0));
            let width = (self.columns - column0).min(self.chunk[1]) * element;
            for row in start.max(row0)..end.min(row0 + self.chunk[0]) {
                let source = ((row - row0) * chunk_row_bytes) as usize;
                let target = ((row - start) * row_bytes + column0 * element) as usize;
                out[target..target + width as usize]
                    .copy_from_slice(&data[source..source + width as usize]);
                covered += width;
            }
        }
        if covered != out.len() as u64 {
            return Err(format!(
                "rows {start}..{end} are not all in the chunk index (chunks are missing): \
                 the file is damaged"
            ));
        }
        Ok(out)
    }

    /// The bytes of the whole dataset (for its 1-D label arrays).
    ///
    /// # Errors
    /// As [`read_rows`](Self::read_rows).
    pub(super) fn read_all(&self, file: &File) -> Result<Vec<u8>, String> {
        self.read_rows(file, 0, self.rows)
    }

    /// Reads chunk `c` from `file` and decodes it to its `chunk_bytes` bytes.
    fn decode(&self, file: &File, c: &Chunk, chunk_bytes: usize) -> Result<Vec<u8>, String> {
        let at = format!("chunk at {:?}", c.offset);
        let mut stored = vec![0u8; c.storage_size as usize];
        let mut reader = file;
        reader
            .seek(SeekFrom::Start(c.address))
            .and_then(|_| reader.read_exact(&mut stored))
            .map_err(|e| format!("{at}: cannot read its {} bytes: {e}", c.storage_size))?;
        // Bit 0 of the mask set: the filter was skipped and the chunk is stored as it is.
        if c.filter_mask & 1 != 0 {
            if stored.len() != chunk_bytes {
                return Err(format!(
                    "{at}: stored unfiltered with {} bytes instead of {chunk_bytes}",
                    stored.len()
                ));
            }
            return Ok(stored);
        }
        blosc::decompress(&stored, chunk_bytes).map_err(|e| format!("{at}: {e}"))
    }
}
