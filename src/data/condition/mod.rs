//! Filter conditions: the SQL-like language of `EventSet::filter`, parsed into a polars
//! expression.
//!
//! ```text
//! mjj > 3000 and tau21_1 < 0.5
//! abs(eta_1 - eta_2) < 1.3 or not (mj1 between 100 and 200)
//! process in (1, 3) and "jet mass" >= 50
//! ```
//!
//! - values: column names (letters, digits and `_`, not starting with a digit; any other name
//!   in double quotes, `""` for a quote in it), numbers (`3`, `2.5e3`, `.5`), text in single
//!   quotes (`'ttbar'`, compared with text columns), `true`, `false`, `null`;
//! - arithmetic `+ - * / %` (numbers are 64-bit floats, so `1 / 2` is 0.5), unary `-`;
//! - comparisons `= == != <> < <= > >=`, `x [not] between a and b` (both ends included),
//!   `x [not] in (a, b, ...)`; comparisons do not chain (`a < b < c` is an error);
//! - `not`, `and`, `or`, with SQL's precedence (not, then and, then or) and parentheses;
//! - functions: `abs sqrt exp ln log10 pow sin cos tan asin acos atan atan2 sinh cosh tanh
//!   floor ceil round sign least greatest` ([`FUNCTIONS`]). Keywords and function names
//!   ignore case.
//!
//! An event for which the condition is `null` (it involves `null`) is not kept, as in SQL.
//!
//! Size limits keep parsing and evaluation fast and their recursion shallow: a condition has
//! at most [`MAX_CHARS`] characters, [`MAX_TOKENS`] tokens (names, numbers, operators,
//! parentheses, commas) and [`MAX_DEPTH`] levels of nesting (parentheses, function calls,
//! `not`, unary minus), and its expression at most [`MAX_NODES`] operations and values once
//! `between`, `in`, `least` and `greatest` have repeated their first value (nesting them
//! doubles the work at each level). The parser is a hand-written recursive descent that never
//! backtracks, so its time is linear in the condition's length.

mod functions;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub use self::functions::{FUNCTIONS, Function};
pub use self::lexer::MAX_TOKENS;
pub use self::parser::MAX_DEPTH;

use polars::prelude::*;

use self::lexer::tokenize;
use self::parser::Parser;
use crate::error::{Error, Result, quoted};

/// The most characters a condition may have.
pub const MAX_CHARS: usize = 4096;

/// The most operations and values (counted as polars evaluates them, each repetition
/// counted again) a condition's expression may have.
pub const MAX_NODES: usize = 4096;

/// A parsed condition.
pub struct Condition {
    /// The condition as a polars expression (true: keep the event).
    pub expr: Expr,
    /// The columns it names, each once, in order of first appearance.
    pub columns: Vec<String>,
}

/// Parses `text` (see the module documentation). Errors are [`Error::InvalidArgument`]s
/// quoting the condition (cut if long) and saying where the problem is.
pub fn parse(text: &str) -> Result<Condition> {
    let chars = text.chars().count();
    if chars > MAX_CHARS {
        return Err(invalid(
            text,
            format!("it has {chars} characters; a condition may have at most {MAX_CHARS}"),
        ));
    }
    let tokens = tokenize(text).map_err(|(at, problem)| located(text, at, problem))?;
    if tokens.len() > MAX_TOKENS {
        return Err(invalid(
            text,
            format!(
                "it has more than {MAX_TOKENS} tokens (names, numbers, operators, \
                 parentheses), the most a condition may have"
            ),
        ));
    }
    let mut parser = Parser {
        tokens,
        next: 0,
        depth: 0,
        columns: Vec::new(),
        end: chars + 1,
    };
    let expr = parser
        .condition()
        .and_then(|expr| match parser.peek() {
            None => Ok(expr),
            Some(token) => Err((
                token.at,
                format!("unexpected {} after a complete condition", token.kind),
            )),
        })
        .map_err(|(at, problem)| located(text, at, problem))?;
    // The walk stops after MAX_NODES, however large the repetitions make the expression.
    if (&expr).into_iter().take(MAX_NODES + 1).count() > MAX_NODES {
        return Err(invalid(
            text,
            format!(
                "it expands to more than {MAX_NODES} operations and values ('between', 'in', \
                 'least' and 'greatest' repeat their first value); split it into several filters"
            ),
        ));
    }
    Ok(Condition {
        expr,
        columns: parser.columns,
    })
}

/// The error for condition `text`.
pub(crate) fn invalid(text: &str, problem: impl std::fmt::Display) -> Error {
    Error::invalid("filter condition", format!("{}: {problem}", quoted(text)))
}

/// The error for a problem at character `at` (1-based) of `text`.
fn located(text: &str, at: usize, problem: String) -> Error {
    invalid(text, format!("at character {at}: {problem}"))
}
