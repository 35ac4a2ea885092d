//! The library's typed error.
//!
//! Everything below the scripting layer reports failures as [`Error`]; the scripting layer
//! turns them into Rhai errors carrying the script position (see `script::errors`).

use std::path::PathBuf;

/// A failure inside the bumplab library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("cannot {action} '{path}': {source}")]
    Io {
        /// What was being done, e.g. "read" or "write".
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An input file is malformed: wrong layout, a bad value, a missing column.
    #[error("{file}: {location}: {problem}")]
    Format {
        /// The file concerned.
        file: PathBuf,
        /// Where in it: `line 12`, `line 12, column 'pt'`, `dataset /df/block0_values`.
        location: String,
        /// What is wrong, in words that say what to fix.
        problem: String,
    },
    /// The user interrupted a long computation (Ctrl-C).
    #[error("interrupted by the user (Ctrl-C)")]
    Interrupted,
    /// A tensor computation failed (shapes, device, or a numerical problem in candle).
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// An argument or option has a value that cannot be used.
    #[error("invalid {name}: {problem}")]
    InvalidArgument {
        /// The argument or option, e.g. "seed".
        name: String,
        /// What is wrong with it and what is allowed.
        problem: String,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Format`] for `file` at `location`.
    pub fn format(
        file: impl Into<PathBuf>,
        location: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        Error::Format {
            file: file.into(),
            location: location.into(),
            problem: problem.into(),
        }
    }

    /// An [`Error::InvalidArgument`] for the argument `name`.
    pub fn invalid(name: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name: name.into(),
            problem: problem.into(),
        }
    }

    /// The error with the invalid argument's name saying which of several inputs it came
    /// from ("mj1 in the simulation"); other errors are returned unchanged.
    pub fn in_sample(self, sample: &str) -> Self {
        match self {
            Error::InvalidArgument { name, problem } => Error::InvalidArgument {
                name: format!("{name} in the {sample}"),
                problem,
            },
            other => other,
        }
    }
}

/// Characters of quoted input kept in an error message.
const QUOTE_CHARS: usize = 60;

/// `text` (input from a file) quoted for an error message: control characters escaped and
/// cut after its first 60 characters, saying how long it was, so that a huge field never
/// makes a huge message (`'abc'`, `'xxxx…' (10485760 bytes)`).
pub fn quoted(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars().take(QUOTE_CHARS) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if text.chars().nth(QUOTE_CHARS).is_some() {
        out.push_str(&format!("…' ({} bytes)", text.len()));
    } else {
        out.push('\'');
    }
    out
}

/// Characters of a dependency's error message kept by [`brief`].
const BRIEF_CHARS: usize = 200;

/// The gist of a dependency's error message (polars, a decoder) for one of ours: its first
/// non-empty line, cut after 200 characters, so that neither advice meant for another
/// language's users nor a quoted copy of a huge input ends up in the message.
pub fn brief(message: &str) -> String {
    let line = message.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    match line.char_indices().nth(BRIEF_CHARS) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_input_is_escaped_and_cut() {
        assert_eq!(quoted("abc"), "'abc'");
        assert_eq!(quoted("a\nb"), "'a\\nb'");
        let big = "x".repeat(10 << 20);
        let message = quoted(&big);
        assert!(message.len() < 100, "{message}");
        assert!(message.ends_with("…' (10485760 bytes)"), "{message}");
    }

    #[test]
    fn brief_messages_keep_the_first_line_and_cut_it() {
        assert_eq!(brief("\nfirst line\nHint: try this\n"), "first line");
        let long = brief(&"y".repeat(5000));
        assert_eq!(long.chars().count(), 201, "{long}");
        assert!(long.ends_with('…'));
        assert_eq!(brief(""), "");
    }
}
