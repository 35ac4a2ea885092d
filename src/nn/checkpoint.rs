//! Saving and loading models as one safetensors file that holds both the weights and the
//! architecture description (as JSON in the header's metadata under [`DESCRIPTION_KEY`]).
//!
//! Weights and description are written together, atomically, so a checkpoint can never pair
//! one model's weights with another's description (feature names included). A JSON copy of
//! the description is written beside the weights afterwards for people to read
//! (`model.safetensors` + `model.json`); loading does not need it. Files saved by bumplab
//! versions before the description moved into the metadata have none there: for them the
//! description is read from the JSON beside them. When both exist and disagree, the
//! metadata wins. A safetensors file with neither (e.g. a PyTorch `state_dict`) has no
//! description ([`Checkpoint::find_description`]); `nn::torch` reads those.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use super::params::Params;
use crate::error::{Error, Result};

/// The safetensors metadata key holding the architecture description (JSON).
pub const DESCRIPTION_KEY: &str = "bumplab.description";

/// The JSON file beside the weights in `path`: a human-readable copy of the description
/// (and the description itself for checkpoints of older versions).
pub fn description_path(path: &Path) -> PathBuf {
    path.with_extension("json")
}

/// Writes `params` and `description` (any serialisable architecture) to `path` as one
/// safetensors file, atomically, then the readable JSON copy beside it. An error never
/// leaves a half-written checkpoint in place of a good one; an error writing the copy
/// leaves the new checkpoint complete and consistent.
pub fn save(path: &Path, description: &impl serde::Serialize, params: &Params) -> Result<()> {
    if path.extension().is_none_or(|e| e != "safetensors") {
        return Err(Error::invalid(
            "model path",
            format!("'{}': name the weights file *.safetensors", path.display()),
        ));
    }
    let describe = |e: serde_json::Error| Error::invalid("model description", e.to_string());
    let compact = serde_json::to_string(description).map_err(describe)?;
    let pretty = serde_json::to_string_pretty(description).map_err(describe)?;
    let bytes = serialize(params, compact)?;
    crate::fsutil::write_atomic(path, &bytes)?;
    crate::fsutil::write_atomic(&description_path(path), pretty.as_bytes())
}

/// The safetensors bytes of `params` (on the CPU, contiguous) with `description` in the
/// metadata. Serialised in memory: the safetensors crate's own file writer goes through an
/// unnamed temporary file (`.tmpXXXXXX`) that a killed process leaves behind.
fn serialize(params: &Params, description: String) -> Result<Vec<u8>> {
    let tensors = params
        .to_map()
        .into_iter()
        .map(|(name, tensor)| Ok((name, tensor.to_device(&Device::Cpu)?.contiguous()?)))
        .collect::<Result<HashMap<String, Tensor>>>()?;
    let metadata = HashMap::from([(DESCRIPTION_KEY.to_string(), description)]);
    safetensors::serialize(&tensors, Some(metadata))
        .map_err(|e| Error::invalid("model", format!("cannot serialise the weights: {e}")))
}

/// A checkpoint read into memory: one read of the file, so the description and the weights
/// come from the same version of it.
pub struct Checkpoint {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Checkpoint {
    /// Reads the checkpoint at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = crate::data::input::read(path)?;
        Ok(Checkpoint {
            path: path.to_path_buf(),
            bytes,
        })
    }

    /// The architecture description: from the file's metadata, or, for a file saved by an
    /// older version without it, from the JSON beside it; `None` when there is neither (a
    /// file bumplab did not write, e.g. a PyTorch `state_dict`). A description that is there
    /// but unreadable is an error.
    pub fn find_description<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>> {
        let (_, header) =
            safetensors::SafeTensors::read_metadata(&self.bytes).map_err(|e| self.unreadable(e))?;
        match header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(DESCRIPTION_KEY))
        {
            Some(json) => serde_json::from_str(json).map(Some).map_err(|e| {
                Error::format(
                    &self.path,
                    format!("metadata '{DESCRIPTION_KEY}'"),
                    format!("not a model description: {e}"),
                )
            }),
            None if description_path(&self.path).exists() => {
                read_json_description(&self.path).map(Some)
            }
            None => Ok(None),
        }
    }

    /// The file the checkpoint was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every tensor of the file by name, on `device`.
    pub fn tensors(&self, device: &Device) -> Result<HashMap<String, Tensor>> {
        candle_core::safetensors::load_buffer(&self.bytes, device).map_err(|e| self.unreadable(e))
    }

    /// Loads `tensors` (this file's, possibly renamed or converted) into `params`: names and
    /// shapes must match, and a mismatch is an error naming the file.
    pub fn load_tensors(&self, params: &Params, tensors: &HashMap<String, Tensor>) -> Result<()> {
        params.load_map(tensors).map_err(|e| match e {
            Error::InvalidArgument { problem, .. } => Error::format(&self.path, "weights", problem),
            other => other,
        })
    }

    /// The error for a file that is not a readable safetensors checkpoint.
    fn unreadable(&self, e: impl std::fmt::Display) -> Error {
        Error::format(
            &self.path,
            "safetensors",
            format!("cannot read the weights: {e}"),
        )
    }
}

/// Reads the description from the JSON file beside `path` (checkpoints of older versions).
fn read_json_description<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let json_path = description_path(path);
    let text = crate::data::input::read_text(&json_path)?;
    serde_json::from_str(&text)
        .map_err(|e| Error::format(&json_path, format!("line {}", e.line()), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Described {
        name: String,
        features: Vec<String>,
    }

    fn model(name: &str, value: f64) -> (Described, Params) {
        let mut params = Params::new(&Device::Cpu, 0);
        params.fixed("w", &[2], value).unwrap();
        let description = Described {
            name: name.to_string(),
            features: vec![format!("{name}_x"), format!("{name}_y")],
        };
        (description, params)
    }

    fn load(path: &Path) -> (Described, Vec<f32>) {
        let checkpoint = Checkpoint::read(path).unwrap();
        let description: Described = checkpoint.find_description().unwrap().unwrap();
        let (_, params) = model("empty", 0.0);
        let tensors = checkpoint.tensors(&Device::Cpu).unwrap();
        checkpoint.load_tensors(&params, &tensors).unwrap();
        let w = params.to_map()["w"].to_vec1::<f32>().unwrap();
        (description, w)
    }

    #[test]
    fn weights_and_description_travel_in_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let (a, params) = model("a", 1.5);
        save(&path, &a, &params).unwrap();
        std::fs::remove_file(description_path(&path)).unwrap();
        assert_eq!(load(&path), (a, vec![1.5, 1.5]));
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["m.safetensors"], "no temporary files left");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_save_killed_midway_leaves_only_a_temporary_file_bumplab_cleans() {
        let dir = tempfile::tempdir().unwrap();
        crate::fsutil::killed::write_killed_midway(
            "nn::checkpoint::tests::a_save_killed_midway_leaves_only_a_temporary_file_bumplab_cleans",
            dir.path(),
            |dir| {
                let mut params = Params::new(&Device::Cpu, 0);
                params.fixed("w", &[1 << 18], 1.0).unwrap();
                let (description, _) = model("big", 0.0);
                save(&dir.join("m.safetensors"), &description, &params).unwrap();
            },
        );
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(
            left[0].starts_with(".m.safetensors.") && left[0].ends_with(crate::fsutil::TEMP_SUFFIX),
            "not an anonymous .tmpXXXXXX: {left:?}"
        );
        assert_eq!(crate::fsutil::clean_stale(dir.path()), 1);
    }

    #[test]
    fn a_failed_description_write_after_the_weights_still_loads_consistently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let (a, params_a) = model("a", 1.0);
        save(&path, &a, &params_a).unwrap();
        // Model B's save writes the weights, then fails on the JSON copy (now a directory).
        let json = description_path(&path);
        std::fs::remove_file(&json).unwrap();
        std::fs::create_dir(&json).unwrap();
        let (b, params_b) = model("b", 2.0);
        assert!(save(&path, &b, &params_b).is_err());
        assert_eq!(
            load(&path),
            (b, vec![2.0, 2.0]),
            "B's weights with B's features"
        );
        // A stale JSON copy of A beside B's weights: the metadata wins.
        std::fs::remove_dir(&json).unwrap();
        std::fs::write(&json, serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(load(&path).0.name, "b");
    }

    #[test]
    fn checkpoints_of_older_versions_read_the_json_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.safetensors");
        let (old, params) = model("old", 3.0);
        // The former layout: weights without metadata, description only in the JSON.
        let bytes = safetensors::serialize(&params.to_map(), None).unwrap();
        std::fs::write(&path, bytes).unwrap();
        std::fs::write(
            description_path(&path),
            serde_json::to_string(&old).unwrap(),
        )
        .unwrap();
        assert_eq!(load(&path), (old, vec![3.0, 3.0]));
        // Without it, the file has no description (Network::load then reads it as a PyTorch
        // state_dict, whose errors name the JSON that is missing).
        std::fs::remove_file(description_path(&path)).unwrap();
        assert!(
            Checkpoint::read(&path)
                .unwrap()
                .find_description::<Described>()
                .unwrap()
                .is_none()
        );
        // A JSON beside it that is not a description is an error naming it.
        std::fs::write(description_path(&path), "{").unwrap();
        let err = Checkpoint::read(&path)
            .unwrap()
            .find_description::<Described>()
            .unwrap_err();
        assert!(err.to_string().contains("old.json"), "{err}");
    }

    #[test]
    fn a_damaged_file_or_description_is_a_format_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        std::fs::write(&path, b"not safetensors").unwrap();
        let err = Checkpoint::read(&path)
            .unwrap()
            .find_description::<Described>()
            .unwrap_err();
        assert!(matches!(err, Error::Format { .. }), "{err}");
        assert!(err.to_string().contains("bad.safetensors"), "{err}");
        let (_, params) = model("x", 1.0);
        let metadata = HashMap::from([(DESCRIPTION_KEY.to_string(), "{".to_string())]);
        let bytes = safetensors::serialize(&params.to_map(), Some(metadata)).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let err = Checkpoint::read(&path)
            .unwrap()
            .find_description::<Described>()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.safetensors") && err.contains(DESCRIPTION_KEY),
            "{err}"
        );
    }
}
