//! A reader for the protocol-0 (text) pickles PyTables stores for Python attributes that
//! are not arrays, such as the lists of column labels of a table-format DataFrame.

use std::collections::HashMap;

use super::values::float_label;

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
            Py::Float(f) => Some(float_label(*f)),
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
pub(super) fn quoted(line: &str) -> Option<String> {
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
