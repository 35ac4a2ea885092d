//! Conversions shared by the domain modules: results of built-ins, arrays, JSON files.

use rhai::{Dynamic, EvalAltResult, INT, Map};

use crate::methods::estimate::Significance;

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

/// The most significant test of a search as a Rhai map: `efficiency`, `local_p`, `local_z`,
/// `trials`, `global_p`, `global_z`.
pub(crate) fn significance_fields(g: &Significance) -> Map {
    let mut m = Map::new();
    m.insert("efficiency".into(), g.efficiency.into());
    m.insert("local_p".into(), g.local_p.into());
    m.insert("local_z".into(), g.local_z.into());
    m.insert("trials".into(), (g.trials as INT).into());
    m.insert("global_p".into(), g.global_p.into());
    m.insert("global_z".into(), g.global_z.into());
    m
}

/// [`significance_fields`] of a single-window search's most significant test; unit if there
/// is none.
pub(crate) fn significance_map(g: Option<Significance>) -> Dynamic {
    g.map_or(Dynamic::UNIT, |g| significance_fields(&g).into())
}

/// `n` as a count, or an error naming `what` when it is negative.
pub(crate) fn count(what: &str, n: rhai::INT) -> Out<usize> {
    usize::try_from(n).map_err(|_| crate::Error::invalid(what, format!("{n} is negative")).into())
}
