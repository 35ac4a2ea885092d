//! The Jupyter kernel driven by real Jupyter: the protocol through jupyter_client, and the
//! Rhai notebooks in `notebooks/` executed top to bottom by `jupyter nbconvert --execute`.
//!
//! Jupyter's client side comes from PyPI into a cached virtual environment
//! (`scripts/jupyter-env`); the kernelspec is installed into a scratch prefix, so the user's
//! Jupyter is never touched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bin directory of the Jupyter virtual environment, made once per test run (the tests
/// run in parallel; the first one creates it, the others wait).
fn jupyter_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(make_jupyter_env).clone()
}

fn make_jupyter_env() -> PathBuf {
    let out = Command::new(repo().join("scripts/jupyter-env"))
        .output()
        .expect("scripts/jupyter-env runs");
    assert!(
        out.status.success(),
        "scripts/jupyter-env failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// A scratch prefix with the bumplab kernelspec installed; its `share/jupyter` goes in
/// `JUPYTER_PATH`.
fn kernelspec() -> tempfile::TempDir {
    let prefix = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bumplab"))
        .args(["kernel", "install", "--prefix"])
        .arg(prefix.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec = prefix
        .path()
        .join("share/jupyter/kernels/bumplab/kernel.json");
    assert!(spec.exists(), "no kernel.json at {}", spec.display());
    prefix
}

fn python(bin: &Path, prefix: &Path, args: &[&str]) {
    let out = Command::new(bin.join("python"))
        .args(args)
        .current_dir(repo())
        .env("JUPYTER_PATH", prefix.join("share/jupyter"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed:\n{stdout}\n{stderr}");
    eprintln!("{stdout}");
}

#[test]
fn the_kernel_speaks_the_jupyter_protocol() {
    let bin = jupyter_bin();
    let prefix = kernelspec();
    python(&bin, prefix.path(), &["tests/jupyter/kernel_protocol.py"]);
}

#[test]
fn the_rhai_notebooks_run_top_to_bottom() {
    let bin = jupyter_bin();
    let prefix = kernelspec();
    let out = tempfile::tempdir().unwrap();
    python(
        &bin,
        prefix.path(),
        &[
            "tests/jupyter/run_notebooks.py",
            out.path().to_str().unwrap(),
        ],
    );
}
