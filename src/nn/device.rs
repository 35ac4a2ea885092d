//! Where tensors live: the CPU (always available) or a CUDA GPU (with the `cuda` feature).
//!
//! A GPU is opened once per process and ordinal: every later `parse_device("cuda")` returns
//! the same candle device, so networks made at different times can work together and a
//! script that says `device("cuda")` twice does not open a second context on the GPU.
//!
//! candle queues a GPU's work on the per-thread stream of the thread that issues it, and the
//! scripting layer evaluates every input on a fresh thread; [`synchronize_all`] waits for
//! the work of the current thread, so that an evaluation ends with its results written.

use candle_core::{Device, DeviceLocation};

use crate::error::{Error, Result};

/// The cargo feature that builds candle's CUDA backend in.
pub const CUDA_FEATURE: &str = "cuda";

/// Whether this build of bumplab can use CUDA GPUs (built with the `cuda` feature).
pub const fn cuda_built() -> bool {
    cfg!(feature = "cuda")
}

/// The device named `name`: "cpu", "cuda" (the first GPU) or "cuda:N".
pub fn parse_device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        _ if name == "cuda" || name.starts_with("cuda:") => {
            let ordinal = match name.strip_prefix("cuda:") {
                None => 0,
                Some(n) => n.parse::<usize>().map_err(|_| {
                    Error::invalid(
                        "device",
                        format!("'{name}': write cuda:N with N a GPU number"),
                    )
                })?,
            };
            cuda_device(ordinal)
        }
        other => Err(Error::invalid(
            "device",
            format!("'{other}': use \"cpu\", \"cuda\" or \"cuda:N\""),
        )),
    }
}

/// The GPUs opened so far in this process, by ordinal.
#[cfg(feature = "cuda")]
fn opened() -> std::sync::MutexGuard<'static, Vec<(usize, Device)>> {
    static OPENED: std::sync::Mutex<Vec<(usize, Device)>> = std::sync::Mutex::new(Vec::new());
    OPENED.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(feature = "cuda")]
fn cuda_device(ordinal: usize) -> Result<Device> {
    let mut opened = opened();
    if let Some((_, device)) = opened.iter().find(|(n, _)| *n == ordinal) {
        return Ok(device.clone());
    }
    // A driver library that misbehaves must not take the session down with it.
    let device = std::panic::catch_unwind(|| Device::new_cuda(ordinal))
        .map_err(|_| {
            Error::invalid(
                "device",
                format!("cannot open CUDA GPU {ordinal}: the CUDA driver failed (panicked)"),
            )
        })?
        .map_err(|e| {
            Error::invalid(
                "device",
                format!(
                    "cannot open CUDA GPU {ordinal}: {} (is there an NVIDIA GPU with its driver \
                     on this machine? nvidia-smi lists them)",
                    crate::error::brief(&e.to_string())
                ),
            )
        })?;
    opened.push((ordinal, device.clone()));
    Ok(device)
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(_ordinal: usize) -> Result<Device> {
    Err(Error::invalid(
        "device",
        format!(
            "this bumplab was built without the `{CUDA_FEATURE}` feature, so it runs on the CPU \
             only; build it with `cargo build --release --features {CUDA_FEATURE}` (needs the \
             CUDA toolkit: scripts/check-cuda-build installs it and checks the build) and run \
             it on a machine with an NVIDIA GPU and its driver"
        ),
    ))
}

/// Waits until the GPU work that the current thread queued on every opened GPU is done, so
/// that its results are visible to other threads; a failure of that work (an asynchronous
/// kernel error) is returned. Nothing to do on the CPU or without the `cuda` feature.
pub fn synchronize_all() -> Result<()> {
    #[cfg(feature = "cuda")]
    {
        let devices: Vec<Device> = opened().iter().map(|(_, d)| d.clone()).collect();
        for device in devices {
            device.synchronize()?;
        }
    }
    Ok(())
}

/// The name `parse_device` accepts for `device`: "cpu", "cuda" (GPU 0) or "cuda:N".
pub fn device_name(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".to_string(),
        Device::Cuda(_) => match device.location() {
            DeviceLocation::Cuda { gpu_id } if gpu_id > 0 => format!("cuda:{gpu_id}"),
            _ => "cuda".to_string(),
        },
        Device::Metal(_) => "metal".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_parsed_and_errors_say_what_to_do() {
        assert!(matches!(parse_device("cpu"), Ok(Device::Cpu)));
        let err = parse_device("gpu").unwrap_err().to_string();
        assert!(err.contains("cuda:N"), "{err}");
        assert!(parse_device("cuda:x").is_err());
        assert_eq!(device_name(&Device::Cpu), "cpu");
        assert!(synchronize_all().is_ok());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn without_the_feature_cuda_names_the_feature_and_the_build_command() {
        assert!(!cuda_built());
        for name in ["cuda", "cuda:0", "cuda:3"] {
            let err = parse_device(name).unwrap_err().to_string();
            assert!(err.contains("without the `cuda` feature"), "{err}");
            assert!(err.contains("--features cuda"), "{err}");
            assert!(err.contains("scripts/check-cuda-build"), "{err}");
        }
    }
}
