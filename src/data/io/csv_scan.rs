//! A scan of a CSV file's records, as polars splits them (a `"` opens or closes quoting
//! wherever it stands; blank lines before the header are skipped), to say on which line a
//! problem lies. Only run to explain an error, so reading a good file costs nothing extra.

use std::io::{BufRead, BufReader};
use std::ops::ControlFlow;
use std::path::Path;

/// One record: its index (0: the header), the line it starts on, its fields and bytes.
struct Record<'a> {
    index: usize,
    line: usize,
    fields: usize,
    bytes: &'a [u8],
}

/// The line on which data row `row` (0: the first record after the header) starts.
pub(super) fn line_of_row(path: &Path, row: usize) -> Option<usize> {
    match walk(path, |record| {
        if record.index == row + 1 {
            ControlFlow::Break(record.line)
        } else {
            ControlFlow::Continue(())
        }
    }) {
        Some(Walk::Stopped(line)) => Some(line),
        _ => None,
    }
}

/// The first line with more fields than the header, text that is not UTF-8, or a quote
/// that is never closed, with the problem in words.
pub(super) fn structural_problem(path: &Path) -> Option<(usize, String)> {
    let mut header = None;
    let walked = walk(path, |record| {
        if std::str::from_utf8(record.bytes).is_err() {
            return ControlFlow::Break((record.line, "the line is not UTF-8 text".into()));
        }
        match header {
            None => header = Some((record.line, record.fields)),
            Some((line, fields)) if record.fields > fields => {
                let problem = format!(
                    "{} fields separated by ',', but the header (line {line}) names {fields} \
                     columns",
                    record.fields
                );
                return ControlFlow::Break((record.line, problem));
            }
            Some(_) => {}
        }
        ControlFlow::Continue(())
    })?;
    match walked {
        Walk::Stopped(found) => Some(found),
        Walk::End { open_quote } => {
            open_quote.map(|line| (line, "a quote '\"' opened here is never closed".to_string()))
        }
    }
}

/// How a walk over the records ended.
enum Walk<T> {
    /// The visitor stopped it with this value.
    Stopped(T),
    /// Every record was visited; a quote opened on `open_quote` was left open.
    End { open_quote: Option<usize> },
}

/// Calls `visit` on each record of the file at `path`; None if it cannot be read.
fn walk<T>(path: &Path, mut visit: impl FnMut(Record) -> ControlFlow<T>) -> Option<Walk<T>> {
    let file = crate::data::input::open(path).ok()?.file;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut bytes = Vec::new();
    let (mut line, mut start, mut fields, mut index) = (1, 1, 1, 0);
    let (mut quoted, mut quote_line) = (false, 0);
    loop {
        let chunk = reader.fill_buf().ok()?;
        if chunk.is_empty() {
            break;
        }
        for &b in chunk {
            match b {
                b'"' => {
                    quoted = !quoted;
                    if quoted {
                        quote_line = line;
                    }
                }
                b',' if !quoted => fields += 1,
                b'\n' => {
                    line += 1;
                    if !quoted {
                        let blank = bytes.iter().all(|&c| c == b'\r');
                        if !(index == 0 && blank) {
                            let record = Record {
                                index,
                                line: start,
                                fields,
                                bytes: &bytes,
                            };
                            if let ControlFlow::Break(found) = visit(record) {
                                return Some(Walk::Stopped(found));
                            }
                            index += 1;
                        }
                        bytes.clear();
                        fields = 1;
                        start = line;
                        continue;
                    }
                }
                _ => {}
            }
            bytes.push(b);
        }
        let used = chunk.len();
        reader.consume(used);
    }
    if !bytes.is_empty() && !quoted {
        let record = Record {
            index,
            line: start,
            fields,
            bytes: &bytes,
        };
        if let ControlFlow::Break(found) = visit(record) {
            return Some(Walk::Stopped(found));
        }
    }
    Some(Walk::End {
        open_quote: quoted.then_some(quote_line),
    })
}
