//! A check of a Parquet file's page headers before polars decodes it: polars trusts their
//! value counts, and a damaged (negative or oversized) one makes it allocate without bound,
//! which aborts the whole process. Only the headers are read (Thrift compact protocol),
//! never the values.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

/// Bytes read for one page header at first; a header with large statistics gets more.
const FIRST_WINDOW: u64 = 64 << 10;
/// How deeply Thrift structures may nest before the header is called damaged.
const MAX_DEPTH: usize = 32;

/// One column chunk as the footer describes it.
pub(super) struct Chunk {
    /// Its bytes in the file.
    pub bytes: Range<u64>,
    /// How many values (nulls included) its data pages hold.
    pub values: i64,
}

/// Walks the pages of `chunk` as polars will (from its first byte until its data pages hold
/// its values) and says what is wrong with the first damaged header, if any.
pub(super) fn check_chunk(file: &mut (impl Read + Seek), chunk: &Chunk) -> Result<(), String> {
    if chunk.values < 0 {
        return Err(format!("the column chunk claims {} values", chunk.values));
    }
    let (mut position, mut seen) = (chunk.bytes.start, 0i64);
    while seen < chunk.values {
        if position >= chunk.bytes.end {
            return Err(format!(
                "the column chunk ends at byte {} before its pages hold its {} values",
                chunk.bytes.end, chunk.values
            ));
        }
        let (header, length) = read_header(file, position, chunk.bytes.end)?;
        let at = format!("page header at byte {position}");
        if header.compressed < 0 || header.uncompressed < 0 {
            return Err(format!("{at}: negative page size"));
        }
        match header.kind {
            // Data pages (v1 and v2) count towards the chunk's values.
            0 | 3 => {
                if header.values < 0 || header.values > chunk.values - seen {
                    return Err(format!(
                        "{at}: {} values, where the column chunk has {} left",
                        header.values,
                        chunk.values - seen
                    ));
                }
                seen += header.values;
            }
            // A dictionary's values take at least a bit each.
            2 if header.values < 0 || header.values > header.uncompressed.saturating_mul(8) => {
                return Err(format!(
                    "{at}: a dictionary of {} values in {} bytes",
                    header.values, header.uncompressed
                ));
            }
            _ => {}
        }
        position = position + length + header.compressed as u64;
    }
    Ok(())
}

/// What the checks need of a page header.
#[derive(Debug, Default, PartialEq)]
struct Header {
    kind: i64,
    uncompressed: i64,
    compressed: i64,
    values: i64,
}

/// Reads the page header at `position` (ending before `end`), returning it and its length.
fn read_header(
    file: &mut (impl Read + Seek),
    position: u64,
    end: u64,
) -> Result<(Header, u64), String> {
    let damaged = || format!("the page header at byte {position} is damaged");
    let mut window = FIRST_WINDOW;
    loop {
        let size = window.min(end - position);
        let mut bytes = Vec::with_capacity(size as usize);
        file.seek(SeekFrom::Start(position))
            .and_then(|_| file.by_ref().take(size).read_to_end(&mut bytes))
            .map_err(|e| format!("cannot read the page header at byte {position}: {e}"))?;
        let mut reader = Compact {
            bytes: &bytes,
            at: 0,
        };
        if let Some(header) = page_header(&mut reader) {
            return Ok((header, reader.at as u64));
        }
        if size < window || bytes.len() < size as usize {
            return Err(damaged());
        }
        window = window.saturating_mul(16);
    }
}

/// Parses a `PageHeader`: type (1), sizes (2, 3), and the value count of its data page (5),
/// dictionary page (7) or data page v2 (8) header.
fn page_header(reader: &mut Compact) -> Option<Header> {
    let mut header = Header::default();
    reader.fields(0, |reader, id, kind| {
        match (id, kind) {
            (1, I32) => header.kind = reader.zigzag()?,
            (2, I32) => header.uncompressed = reader.zigzag()?,
            (3, I32) => header.compressed = reader.zigzag()?,
            (5 | 7 | 8, STRUCT) => {
                reader.fields(1, |reader, id, kind| match (id, kind) {
                    (1, I32) => {
                        header.values = reader.zigzag()?;
                        Some(())
                    }
                    _ => reader.skip(kind, 2),
                })?;
            }
            _ => reader.skip(kind, 1)?,
        }
        Some(())
    })?;
    Some(header)
}

/// Thrift compact type ids.
const I32: u8 = 5;
const STRUCT: u8 = 12;

/// A reader of the Thrift compact protocol over a byte slice; every read is bounded by it.
struct Compact<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Compact<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn advance(&mut self, n: u64) -> Option<()> {
        let end = self.at.checked_add(usize::try_from(n).ok()?)?;
        (end <= self.bytes.len()).then(|| self.at = end)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn zigzag(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// Reads a struct's fields up to its stop byte, calling `field(reader, id, type)`,
    /// which must consume (or skip) the field's value; `depth` bounds the nesting.
    fn fields(
        &mut self,
        depth: usize,
        mut field: impl FnMut(&mut Self, i64, u8) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut last = 0i64;
        loop {
            let b = self.byte()?;
            if b == 0 {
                return Some(());
            }
            let (delta, kind) = (i64::from(b >> 4), b & 0x0f);
            last = if delta == 0 {
                self.zigzag()?
            } else {
                last + delta
            };
            field(self, last, kind)?;
        }
    }

    /// Skips a value of compact type `kind`.
    fn skip(&mut self, kind: u8, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match kind {
            // Booleans carry their value in the type.
            1 | 2 => Some(()),
            3 => self.advance(1),
            4..=6 => self.varint().map(drop),
            7 => self.advance(8),
            8 => {
                let len = self.varint()?;
                self.advance(len)
            }
            9 | 10 => {
                let b = self.byte()?;
                let size = match u64::from(b >> 4) {
                    15 => self.varint()?,
                    n => n,
                };
                self.elements(size, b & 0x0f, depth)
            }
            11 => {
                let size = self.varint()?;
                if size == 0 {
                    return Some(());
                }
                let kinds = self.byte()?;
                for _ in 0..size {
                    self.skip(kinds >> 4, depth + 1)?;
                    self.skip(kinds & 0x0f, depth + 1)?;
                }
                Some(())
            }
            STRUCT => self.fields(depth + 1, |reader, _, kind| reader.skip(kind, depth + 1)),
            _ => None,
        }
    }

    /// Skips `size` list elements of type `kind` (a boolean element is one byte).
    fn elements(&mut self, size: u64, kind: u8, depth: usize) -> Option<()> {
        // Every element takes at least one byte: a count beyond the bytes left is damage.
        if size > (self.bytes.len() - self.at) as u64 {
            return None;
        }
        for _ in 0..size {
            if kind == 1 || kind == 2 {
                self.advance(1)?;
            } else {
                self.skip(kind, depth + 1)?;
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compact-protocol page header: type, sizes, and a data page header with `values`.
    fn header(kind: u8, values: i32, compressed: i32) -> Vec<u8> {
        let zigzag = |v: i32| {
            let mut z = ((v << 1) ^ (v >> 31)) as u32;
            let mut out = Vec::new();
            loop {
                let b = (z & 0x7f) as u8;
                z >>= 7;
                if z == 0 {
                    out.push(b);
                    return out;
                }
                out.push(b | 0x80);
            }
        };
        let mut out = vec![0x15];
        out.extend(zigzag(kind as i32));
        out.push(0x15);
        out.extend(zigzag(compressed));
        out.push(0x15);
        out.extend(zigzag(compressed));
        // Field 5 (data page header) with num_values, then a skipped binary field 2.
        out.push(0x2c);
        out.push(0x15);
        out.extend(zigzag(values));
        out.extend([0x18, 0x02, b'a', b'b', 0x00]);
        out.push(0x00);
        out
    }

    fn check(pages: &[Vec<u8>], values: i64) -> Result<(), String> {
        let bytes: Vec<u8> = pages.concat();
        let chunk = Chunk {
            bytes: 0..bytes.len() as u64,
            values,
        };
        check_chunk(&mut std::io::Cursor::new(bytes), &chunk)
    }

    #[test]
    fn consistent_pages_pass_and_damaged_counts_are_named() {
        let page = |values| {
            let mut p = header(0, values, 3);
            p.extend([1, 2, 3]);
            p
        };
        assert_eq!(check(&[page(2), page(3)], 5), Ok(()));
        let err = check(&[page(2), page(-23)], 5).unwrap_err();
        assert!(err.contains("-23 values"), "{err}");
        let err = check(&[page(2), page(4)], 5).unwrap_err();
        assert!(err.contains("3 left"), "{err}");
        let err = check(&[page(2)], 5).unwrap_err();
        assert!(err.contains("before its pages hold"), "{err}");
        let err = check(&[vec![0x15, 0x80]], 5).unwrap_err();
        assert!(err.contains("damaged"), "{err}");
        assert!(check(&[page(2)], -1).is_err());
    }
}
