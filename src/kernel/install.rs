//! `bumplab kernel install`: the kernelspec that tells Jupyter how to start this kernel.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

/// The kernel's name in Jupyter (`jupyter kernelspec list`, `--kernel bumplab`).
pub const KERNEL_NAME: &str = "bumplab";

/// Where to install the kernelspec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstallTarget {
    /// The user's Jupyter data directory: `$JUPYTER_DATA_DIR`, else `~/.local/share/jupyter`
    /// (Linux), `~/Library/Jupyter` (macOS) or `%APPDATA%\jupyter` (Windows).
    User,
    /// `PREFIX/share/jupyter`, e.g. a virtual environment's root.
    Prefix(PathBuf),
}

/// The `kernels/bumplab` directory of `target`.
pub fn kernelspec_dir(target: &InstallTarget) -> Result<PathBuf> {
    let data = match target {
        InstallTarget::Prefix(prefix) => prefix.join("share").join("jupyter"),
        InstallTarget::User => user_data_dir()?,
    };
    Ok(data.join("kernels").join(KERNEL_NAME))
}

fn user_data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("JUPYTER_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let missing = || {
        Error::invalid(
            "kernel install",
            "no home directory found; use --prefix PATH or set JUPYTER_DATA_DIR",
        )
    };
    if cfg!(target_os = "macos") {
        Ok(dirs::home_dir()
            .ok_or_else(missing)?
            .join("Library")
            .join("Jupyter"))
    } else {
        Ok(dirs::data_dir().ok_or_else(missing)?.join("jupyter"))
    }
}

/// The `kernel.json` that starts `program` as the kernel.
pub fn kernelspec(program: &Path) -> serde_json::Value {
    json!({
        "argv": [program.to_string_lossy(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": "bumplab (Rhai)",
        "language": "rhai",
        "interrupt_mode": "message",
        "metadata": { "debugger": false },
    })
}

/// Writes the kernelspec for `program` into `target` (atomically, replacing an older one)
/// and returns its directory.
pub fn install(target: &InstallTarget, program: &Path) -> Result<PathBuf> {
    let dir = kernelspec_dir(target)?;
    std::fs::create_dir_all(&dir).map_err(|err| Error::io("create", &dir, err))?;
    let text = serde_json::to_string_pretty(&kernelspec(program)).expect("JSON serialises");
    write_atomic(&dir.join("kernel.json"), text.as_bytes())?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_under_a_prefix() {
        let prefix = tempfile::tempdir().unwrap();
        let target = InstallTarget::Prefix(prefix.path().to_path_buf());
        let dir = install(&target, Path::new("/opt/bin/bumplab")).unwrap();
        assert_eq!(dir, prefix.path().join("share/jupyter/kernels/bumplab"));
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("kernel.json")).unwrap())
                .unwrap();
        assert_eq!(
            spec["argv"],
            json!([
                "/opt/bin/bumplab",
                "kernel",
                "--connection-file",
                "{connection_file}"
            ])
        );
        assert_eq!(spec["language"], "rhai");
        assert_eq!(spec["interrupt_mode"], "message");
    }
}
