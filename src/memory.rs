//! Memory requests checked before they are made.
//!
//! Rust aborts the process when an allocation fails, and with it the REPL or notebook
//! session. Built-ins whose memory grows with a number the user gives (bins, network widths,
//! ensemble members, samples, generated events) first ask [`check`] whether that much memory
//! is available, and refuse with an error naming the request otherwise.

use crate::error::{Error, Result};

/// Memory assumed available where the system does not say (64 GiB).
const UNKNOWN_AVAILABLE: f64 = 64.0 * GIB;

const GIB: f64 = (1u64 << 30) as f64;

/// Fails with an error naming `what` when `bytes` (a product of user-given sizes, computed in
/// f64 so that it cannot overflow) is more than the memory available now.
pub fn check(what: &str, bytes: f64) -> Result<()> {
    let available = available_bytes();
    if bytes.is_finite() && bytes <= available {
        return Ok(());
    }
    Err(Error::invalid(
        what,
        format!(
            "needs {} of memory, but only {} is available; ask for less",
            human(bytes),
            human(available)
        ),
    ))
}

/// The memory this process can still use: the system's available memory and free swap,
/// capped by its control group's limit where one is set.
pub fn available_bytes() -> f64 {
    let system = meminfo().unwrap_or(UNKNOWN_AVAILABLE);
    match cgroup_headroom() {
        Some(headroom) => system.min(headroom),
        None => system,
    }
}

/// MemAvailable + SwapFree from `/proc/meminfo`, in bytes.
fn meminfo() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024.0)
    };
    Some(field("MemAvailable:")? + field("SwapFree:").unwrap_or(0.0))
}

/// The cgroup v2 limit minus the current use, where a limit is set.
fn cgroup_headroom() -> Option<f64> {
    let read = |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{name}")).ok();
    let max: f64 = read("memory.max")?.trim().parse().ok()?;
    let current: f64 = read("memory.current")?.trim().parse().ok()?;
    Some((max - current).max(0.0))
}

/// `bytes` for people: "512 B", "3.2 MiB", "4.0 TiB".
fn human(bytes: f64) -> String {
    if !bytes.is_finite() {
        return "more than can be counted".into();
    }
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_requests_are_refused_with_their_size() {
        let err = check("mlp weights", 4e12).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid mlp weights: needs 3.6 TiB"),
            "{err}"
        );
        assert!(check("overflow", f64::INFINITY).is_err());
        assert!(check("nothing", 0.0).is_ok());
        assert!(check("a small table", 1e6).is_ok());
    }

    #[test]
    fn sizes_read_like_sizes() {
        assert_eq!(human(512.0), "512 B");
        assert_eq!(human(3.5 * 1024.0 * 1024.0), "3.5 MiB");
        assert!(available_bytes() > 1e6);
    }
}
