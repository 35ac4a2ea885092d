//! The engine's limits: generous for analyses, tight enough that a runaway script stops with
//! an error naming the limit instead of exhausting memory or the stack.
//!
//! | limit | value |
//! | --- | --- |
//! | function call depth | [`MAX_CALL_LEVELS`] |
//! | expression nesting (top level, inside functions) | [`MAX_EXPR_DEPTH`] |
//! | string length | [`MAX_STRING_BYTES`] bytes |
//! | array or BLOB length | [`MAX_ARRAY_LEN`] items |
//! | object map size | [`MAX_MAP_LEN`] keys |
//!
//! Large data lives in event sets, histograms and tensors, which these limits do not touch;
//! nesting that no limit counts (`eval` calling itself) is stopped by [`super::stack`].

use rhai::Engine;

/// Deepest chain of script function calls (Rhai's default is 64).
pub const MAX_CALL_LEVELS: usize = 1000;

/// Deepest expression nesting at the top level and inside functions.
pub const MAX_EXPR_DEPTH: (usize, usize) = (256, 128);

/// Longest string, in bytes.
pub const MAX_STRING_BYTES: usize = 128 << 20;

/// Longest array or BLOB (a BLOB counts bytes).
pub const MAX_ARRAY_LEN: usize = 50_000_000;

/// Most keys in an object map.
pub const MAX_MAP_LEN: usize = 1_000_000;

/// Sets every limit on `engine`.
pub fn apply(engine: &mut Engine) {
    engine
        .set_max_call_levels(MAX_CALL_LEVELS)
        .set_max_expr_depths(MAX_EXPR_DEPTH.0, MAX_EXPR_DEPTH.1)
        .set_max_string_size(MAX_STRING_BYTES)
        .set_max_array_size(MAX_ARRAY_LEN)
        .set_max_map_size(MAX_MAP_LEN);
}
