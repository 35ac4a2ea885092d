//! Script errors as the user sees them: `FILE:LINE:COL: what went wrong`, then the call chain.
//!
//! Library errors ([`crate::Error`]) become Rhai runtime errors at the boundary; Rhai fills in
//! the position of the call, and [`ScriptError`] renders the whole story.

use std::fmt;

use rhai::{Dynamic, EvalAltResult, ParseError, Position};

use super::limits::MAX_CALL_LEVELS;
use super::stack::{TOO_DEEP, TooDeep};
use crate::error::Error;

impl From<Error> for Box<EvalAltResult> {
    /// A runtime error carrying the message; an interruption (Ctrl-C inside a long built-in
    /// such as a training) becomes Rhai's termination, which `try`/`catch` cannot swallow and
    /// which the front ends report as an interruption (exit status 130 for scripts).
    fn from(err: Error) -> Self {
        let message = Dynamic::from(err.to_string());
        Box::new(match err {
            Error::Interrupted => EvalAltResult::ErrorTerminated(message, Position::NONE),
            _ => EvalAltResult::ErrorRuntime(message, Position::NONE),
        })
    }
}

/// A place in a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The script's name: a file path, `<repl>` or a notebook cell.
    pub source: String,
    /// Line, starting at 1.
    pub line: usize,
    /// Column, starting at 1.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.source, self.line, self.column)
    }
}

/// What kind of failure a [`ScriptError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The script could not be parsed.
    Syntax,
    /// The script failed while running.
    Runtime,
    /// The user interrupted the evaluation (Ctrl-C).
    Interrupted,
    /// A built-in panicked: a bug in bumplab, caught so the session survives.
    Internal,
}

/// One step of the call chain: the function that was running and where it was called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// `function 'f'`, `closure` or `module "path"`.
    pub what: String,
    /// Where the call (or import) happened.
    pub called_at: Option<Location>,
}

/// A failed evaluation, ready to show to the user.
#[derive(Clone, Debug)]
pub struct ScriptError {
    /// What kind of failure it is.
    pub kind: ErrorKind,
    /// What went wrong, without position.
    pub message: String,
    /// Where it went wrong (the innermost position), when known.
    pub location: Option<Location>,
    /// The functions it went wrong in, innermost first.
    pub call_chain: Vec<Frame>,
}

impl std::error::Error for ScriptError {}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{at}: {}", self.message)?,
            None => f.write_str(&self.message)?,
        }
        for frame in &self.call_chain {
            match &frame.called_at {
                Some(at) => write!(f, "\n  in {}, called at {at}", frame.what)?,
                None => write!(f, "\n  in {}", frame.what)?,
            }
        }
        Ok(())
    }
}

impl ScriptError {
    /// A syntax error in the script `source`.
    pub fn from_parse(source: &str, err: &ParseError) -> Self {
        Self {
            kind: ErrorKind::Syntax,
            message: format!("syntax error: {}", err.err_type()),
            location: location(source, err.position()),
            call_chain: Vec::new(),
        }
    }

    /// A runtime error raised while running the script `source`.
    pub fn from_eval(source: &str, err: &EvalAltResult) -> Self {
        let mut call_chain = Vec::new();
        let mut current_source = source.to_string();
        let mut err = err;
        loop {
            match err {
                EvalAltResult::ErrorInFunctionCall(name, fn_source, inner, pos) => {
                    let what = if name.starts_with("anon$") {
                        "closure".to_string()
                    } else {
                        format!("function '{name}'")
                    };
                    call_chain.push(Frame {
                        what,
                        called_at: location(&current_source, *pos),
                    });
                    if !fn_source.is_empty() {
                        current_source = fn_source.clone();
                    }
                    err = inner;
                }
                EvalAltResult::ErrorInModule(path, inner, pos) => {
                    call_chain.push(Frame {
                        what: format!("module \"{path}\""),
                        called_at: location(&current_source, *pos),
                    });
                    current_source = path.clone();
                    err = inner;
                }
                _ => break,
            }
        }
        call_chain.reverse();
        let call_chain = collapse_repeats(call_chain);
        let (kind, message) = match err {
            EvalAltResult::ErrorStackOverflow(_) => (
                ErrorKind::Runtime,
                format!(
                    "function calls nest deeper than {MAX_CALL_LEVELS} levels (endless recursion?)"
                ),
            ),
            EvalAltResult::ErrorTerminated(token, _) if token.is::<TooDeep>() => {
                (ErrorKind::Runtime, TOO_DEEP.to_string())
            }
            EvalAltResult::ErrorTerminated(..) => {
                (ErrorKind::Interrupted, Error::Interrupted.to_string())
            }
            EvalAltResult::ErrorRuntime(value, _) => (ErrorKind::Runtime, runtime_message(value)),
            EvalAltResult::ErrorParsing(parse, _) => {
                (ErrorKind::Syntax, format!("syntax error: {parse}"))
            }
            other => (ErrorKind::Runtime, without_position(other)),
        };
        Self {
            kind,
            message,
            location: location(&current_source, err.position()),
            call_chain,
        }
    }

    /// A panic inside a built-in, caught at the evaluation boundary.
    pub fn from_panic(source: &str, panic_message: &str) -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: format!(
                "{source}: internal error in a built-in: {panic_message} (this is a bug in bumplab; your session is intact — please report it)"
            ),
            location: None,
            call_chain: Vec::new(),
        }
    }

    /// Whether the evaluation was interrupted by the user.
    pub fn is_interrupted(&self) -> bool {
        self.kind == ErrorKind::Interrupted
    }
}

/// `chain` with runs of the same frame (a recursion) shown once, with their count.
fn collapse_repeats(chain: Vec<Frame>) -> Vec<Frame> {
    let mut out: Vec<(Frame, usize)> = Vec::new();
    for frame in chain {
        match out.last_mut() {
            Some((last, count)) if *last == frame => *count += 1,
            _ => out.push((frame, 1)),
        }
    }
    out.into_iter()
        .map(|(mut frame, count)| {
            if count > 1 {
                frame.what = format!("{} ({count} times)", frame.what);
            }
            frame
        })
        .collect()
}

/// Rhai's message for `err` without the ` (line L, position C)` it appends.
fn without_position(err: &EvalAltResult) -> String {
    let text = err.to_string();
    let suffix = format!(" ({})", err.position());
    match text.strip_suffix(&suffix) {
        Some(bare) if !err.position().is_none() => bare.to_string(),
        _ => text,
    }
}

fn runtime_message(value: &Dynamic) -> String {
    if value.is_unit() {
        "error thrown".to_string()
    } else {
        value.to_string()
    }
}

fn location(source: &str, pos: Position) -> Option<Location> {
    Some(Location {
        source: source.to_string(),
        line: pos.line()?,
        column: pos.position().unwrap_or(1),
    })
}
