//! Saving and loading models: the weights as safetensors, the architecture as JSON beside
//! them (`model.safetensors` + `model.json`), both written atomically.

use std::path::{Path, PathBuf};

use candle_core::Device;

use super::params::Params;
use crate::error::{Error, Result};

/// The JSON file that describes the architecture of the weights in `path`.
pub fn description_path(path: &Path) -> PathBuf {
    path.with_extension("json")
}

/// Writes `params` to `path` (safetensors) and `description` (any serialisable architecture)
/// to the JSON file beside it. Each file is written to a temporary name and renamed, so an
/// error never leaves a half-written checkpoint in place of a good one.
pub fn save(path: &Path, description: &impl serde::Serialize, params: &Params) -> Result<()> {
    if path.extension().is_none_or(|e| e != "safetensors") {
        return Err(Error::invalid(
            "model path",
            format!("'{}': name the weights file *.safetensors", path.display()),
        ));
    }
    let json = serde_json::to_string_pretty(description)
        .map_err(|e| Error::invalid("model description", e.to_string()))?;
    let temp = path.with_extension(format!("safetensors.tmp{}", std::process::id()));
    candle_core::safetensors::save(&params.to_map(), &temp).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        Error::invalid(
            "model path",
            format!("cannot write '{}': {e}", path.display()),
        )
    })?;
    std::fs::rename(&temp, path).map_err(|e| Error::io("write", path, e))?;
    crate::fsutil::write_atomic(&description_path(path), json.as_bytes())
}

/// Reads the architecture description saved beside `path`.
pub fn read_description<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let json_path = description_path(path);
    let text = std::fs::read_to_string(&json_path).map_err(|e| Error::io("read", &json_path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::format(&json_path, format!("line {}", e.line()), e.to_string()))
}

/// Loads the weights in `path` into `params` (names and shapes must match).
pub fn load_weights(path: &Path, params: &Params, device: &Device) -> Result<()> {
    let map = candle_core::safetensors::load(path, device)
        .map_err(|e| Error::format(path, "safetensors", format!("cannot read the weights: {e}")))?;
    params.load_map(&map).map_err(|e| match e {
        Error::InvalidArgument { problem, .. } => Error::format(path, "weights", problem),
        other => other,
    })
}
