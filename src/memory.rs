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
/// capped by its control group's limit and by its own limits (`ulimit -v`, `ulimit -d`, as
/// batch systems set them) where they are set.
pub fn available_bytes() -> f64 {
    let system = meminfo().unwrap_or(UNKNOWN_AVAILABLE);
    [cgroup_headroom(), rlimit_headroom()]
        .into_iter()
        .flatten()
        .fold(system, f64::min)
}

/// What the address-space and data-segment limits (RLIMIT_AS, RLIMIT_DATA) leave: each limit
/// minus what the process uses of it now (VmSize, VmData in `/proc/self/status`).
fn rlimit_headroom() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let used = |field: &str| kib_field(&status, field);
    [(libc::RLIMIT_AS, "VmSize:"), (libc::RLIMIT_DATA, "VmData:")]
        .into_iter()
        .filter_map(|(resource, field)| {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit only writes the struct it is given.
            let ok = unsafe { libc::getrlimit(resource, &mut limit) } == 0;
            (ok && limit.rlim_cur != libc::RLIM_INFINITY)
                .then(|| Some((limit.rlim_cur as f64 - used(field)?).max(0.0)))
                .flatten()
        })
        .reduce(f64::min)
}

/// MemAvailable + SwapFree from `/proc/meminfo`, in bytes.
fn meminfo() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    Some(kib_field(&text, "MemAvailable:")? + kib_field(&text, "SwapFree:").unwrap_or(0.0))
}

/// The bytes of the `name` line (`Name:   1234 kB`) of a `/proc` status text.
fn kib_field(text: &str, name: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: f64 = line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024.0)
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
    fn the_process_limits_count() {
        // A child under `ulimit -v` sees far less than the machine has (the check once read
        // only MemAvailable, and a 6 GB network aborted under a 4 GB limit).
        if std::env::var_os("BUMPLAB_MEMORY_PROBE").is_some() {
            println!("available {}", available_bytes());
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -v 2000000 && exec '{}' memory::tests::the_process_limits_count --exact --nocapture",
                exe.display()
            ))
            .env("BUMPLAB_MEMORY_PROBE", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let seen: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("available "))
            .unwrap_or_else(|| panic!("no probe output: {text}"))
            .parse()
            .unwrap();
        assert!(seen < 2_000_000.0 * 1024.0, "{seen}");
    }

    #[test]
    fn sizes_read_like_sizes() {
        assert_eq!(human(512.0), "512 B");
        assert_eq!(human(3.5 * 1024.0 * 1024.0), "3.5 MiB");
        assert!(available_bytes() > 1e6);
    }
}
