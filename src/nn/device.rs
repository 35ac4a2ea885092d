//! Where tensors live: the CPU (always available) or a CUDA GPU (with the `cuda` feature).

use candle_core::Device;

use crate::error::{Error, Result};

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

#[cfg(feature = "cuda")]
fn cuda_device(ordinal: usize) -> Result<Device> {
    Device::new_cuda(ordinal)
        .map_err(|e| Error::invalid("device", format!("cannot open CUDA GPU {ordinal}: {e}")))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(_ordinal: usize) -> Result<Device> {
    Err(Error::invalid(
        "device",
        "this bumplab was built without GPU support; rebuild it with `cargo build --release --features cuda` on a machine with the CUDA toolkit",
    ))
}

/// The name `parse_device` accepts for `device`.
pub fn device_name(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".to_string(),
        Device::Cuda(_) => "cuda".to_string(),
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
        #[cfg(not(feature = "cuda"))]
        assert!(
            parse_device("cuda")
                .unwrap_err()
                .to_string()
                .contains("--features cuda")
        );
        assert_eq!(device_name(&Device::Cpu), "cpu");
    }
}
