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
    Tensor(candle_core::Error),
    /// The GPU had no memory left for a tensor (an allocation in CUDA, cuBLAS or cuRAND
    /// failed). Candle's errors become this variant when they say so (`From`).
    #[error(
        "the GPU ran out of memory ({detail}): use a smaller batch_size, fewer ensemble \
         members, folds or events at once, or device(\"cpu\")"
    )]
    GpuMemory {
        /// The failing call as CUDA reported it, e.g. `DriverError(CUDA_ERROR_OUT_OF_MEMORY)`.
        detail: String,
    },
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

/// What the CUDA libraries write when an allocation fails: the driver, cuBLAS, cuRAND, cuDNN.
const GPU_MEMORY_MARKERS: [&str; 5] = [
    "CUDA_ERROR_OUT_OF_MEMORY",
    "CUBLAS_STATUS_ALLOC_FAILED",
    "CURAND_STATUS_ALLOCATION_FAILED",
    "CUDNN_STATUS_ALLOC_FAILED",
    "out of memory",
];

impl From<candle_core::Error> for Error {
    /// [`Error::GpuMemory`] when candle reports a failed GPU allocation (whatever context
    /// candle wrapped around it), else [`Error::Tensor`].
    fn from(err: candle_core::Error) -> Self {
        let message = err.to_string();
        match message
            .lines()
            .find(|line| GPU_MEMORY_MARKERS.iter().any(|m| line.contains(m)))
        {
            Some(line) => Error::GpuMemory {
                detail: brief(line.trim()),
            },
            None => Error::Tensor(err),
        }
    }
}

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

    /// The value among `all` whose name (by `name_of`) is `name`; otherwise an
    /// [`Error::InvalidArgument`] for `argument` saying "unknown `kind` 'name'" and listing
    /// the names in quotes.
    pub fn choose<T: Copy>(
        argument: &str,
        kind: &str,
        name: &str,
        all: &[T],
        name_of: fn(T) -> &'static str,
    ) -> Result<T> {
        all.iter()
            .copied()
            .find(|&t| name_of(t) == name)
            .ok_or_else(|| {
                let names: Vec<String> =
                    all.iter().map(|&t| format!("\"{}\"", name_of(t))).collect();
                Error::invalid(
                    argument,
                    format!(
                        "unknown {kind} '{name}'; the {kind}s are {}",
                        names.join(", ")
                    ),
                )
            })
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
    fn gpu_allocation_failures_are_memory_errors_saying_what_to_do() {
        for reported in [
            "DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")",
            "CublasError(CUBLAS_STATUS_ALLOC_FAILED)",
            "CurandError(CURAND_STATUS_ALLOCATION_FAILED)",
        ] {
            // As candle's CUDA backend reports it, also under context candle adds.
            let plain = candle_core::Error::Msg(reported.to_string());
            let wrapped = candle_core::Error::Msg(reported.to_string()).context("matmul");
            for err in [plain, wrapped] {
                let ours = Error::from(err);
                assert!(matches!(ours, Error::GpuMemory { .. }), "{ours:?}");
                let text = ours.to_string();
                assert!(text.contains("ran out of memory"), "{text}");
                assert!(text.contains(reported), "{text}");
                assert!(text.contains("batch_size"), "{text}");
            }
        }
        let shapes = Error::from(candle_core::Error::Msg("shape mismatch".into()));
        assert!(matches!(shapes, Error::Tensor(_)), "{shapes:?}");
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
