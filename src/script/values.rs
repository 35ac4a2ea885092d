//! Conversions shared by the domain modules: results of built-ins, arrays, JSON files.

use rhai::{Dynamic, EvalAltResult};

/// What a built-in returns: a value or a Rhai error.
pub type Out<T> = Result<T, Box<EvalAltResult>>;

/// Floats as a Rhai array.
pub fn array(values: &[f64]) -> rhai::Array {
    values.iter().map(|&v| Dynamic::from_float(v)).collect()
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn save_json(value: &impl serde::Serialize, path: &str) -> Out<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::Error::invalid("result", e.to_string()))?;
    Ok(crate::fsutil::write_atomic(
        std::path::Path::new(path),
        text.as_bytes(),
    )?)
}
