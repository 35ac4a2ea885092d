//! Event sets larger than memory: 10^8 `lhco_toy` events written to Parquet (100 files of
//! 10^6 events, mjj, mj1, mj2, tau21_1, tau21_2, label; kept between runs), then scanned
//! lazily (`LazyEvents`, polars' streaming engine): a count, the mjj histogram, a signal-region
//! window with a derived column histogrammed, and the window collected. Each step reports
//! events per second and the process's peak resident memory during the step (its high-water
//! mark reset before it through /proc/self/clear_refs), beside the eager path (read_parquet
//! of each file, then the histogram) on the first 10 files. Target: every step under 2 GiB.
//! Run: `cargo bench --bench lazy_parquet` (BUMPLAB_LAZY_EVENTS: events, default 10^8;
//! BUMPLAB_LAZY_DIR: where the files go, default the target directory's `lazy_parquet`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use bumplab::data::EventSet;
use bumplab::data::binning::log_bins;
use bumplab::data::generate::lhco::{LhcoToyOptions, lhco_toy};
use bumplab::data::io::{read_parquet, write_parquet};
use bumplab::data::lazy::LazyEvents;
use bumplab::stats::hist::Hist1D;

/// Events per file.
const PER_FILE: usize = 1_000_000;

/// The process's peak resident memory (VmHWM) in GiB.
fn peak_gib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0 / 1024.0)
}

/// Resets the peak resident memory to the current one; whether the kernel allowed it.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Writes the files not yet there: file f holds `lhco_toy` events of seed f.
fn generate(dir: &Path, files: usize) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let mut written = 0;
    for f in 0..files {
        let path = dir.join(format!("events-{f:04}.parquet"));
        if path.is_file() {
            continue;
        }
        let columns = lhco_toy(&LhcoToyOptions {
            background: PER_FILE - PER_FILE / 1000,
            signal: PER_FILE / 1000,
            seed: f as u64,
            ..LhcoToyOptions::default()
        })?;
        let events = EventSet::from_columns(columns)?.select(&[
            "mjj".into(),
            "mj1".into(),
            "mj2".into(),
            "tau21_1".into(),
            "tau21_2".into(),
            "label".into(),
        ])?;
        write_parquet(&events, &path)?;
        written += 1;
    }
    if written > 0 {
        println!(
            "generated {written} files of {PER_FILE} events in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Runs `step`, printing its time, events per second over `events` and peak memory.
fn measure<T>(
    name: &str,
    events: usize,
    step: impl FnOnce() -> bumplab::Result<T>,
) -> Result<T, Box<dyn std::error::Error>> {
    let resettable = reset_peak();
    let started = Instant::now();
    let out = step()?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{name:<48} {seconds:>7.2} s  {:>6.1} M events/s  peak {:.2} GiB{}",
        events as f64 / seconds / 1e6,
        peak_gib(),
        if resettable {
            ""
        } else {
            " (process peak: clear_refs refused)"
        }
    );
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events: usize = std::env::var("BUMPLAB_LAZY_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000_000);
    let files = events.div_ceil(PER_FILE);
    let dir = std::env::var_os("BUMPLAB_LAZY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
            target.join("lazy_parquet")
        });
    generate(&dir, files)?;
    let pattern = format!("{}/events-*.parquet", dir.display());
    // Every file in the directory: an earlier, larger run's too.
    let lazy = LazyEvents::scan_parquet(&pattern)?;
    let n = measure("count", 0, || lazy.count())?;
    println!("{n} events in {} ({pattern})", dir.display());
    let edges = log_bins(1500.0, 8000.0, 100)?;
    // The eager path for comparison, on the first 10 files (all 10^8 would not fit here).
    let eager_files = files.min(10);
    let eager = measure(
        &format!("eager: read_parquet of {eager_files} files + histogram"),
        eager_files * PER_FILE,
        || {
            let mut counts = vec![0.0; edges.len() - 1];
            for f in 0..eager_files {
                let part = read_parquet(&dir.join(format!("events-{f:04}.parquet")))?;
                let h = Hist1D::fill(edges.clone(), &part.column("mjj")?, None)?;
                for (c, v) in counts.iter_mut().zip(h.counts()) {
                    *c += v;
                }
            }
            Ok(counts)
        },
    )?;
    let h = measure("histogram of mjj (100 bins)", n, || {
        lazy.hist("mjj", edges.clone())
    })?;
    if eager_files * PER_FILE == n {
        assert_eq!(
            h.counts(),
            &eager[..],
            "streamed and eager histograms differ"
        );
    }
    println!(
        "  {} events in the histogram's range",
        h.counts().iter().sum::<f64>()
    );
    let window = lazy
        .window("mjj", 3300.0, 3700.0)?
        .with_ratio("mj1_ratio", "mj1", "mjj")?;
    let ratio_edges: Vec<f64> = (0..=50).map(|i| 0.005 * i as f64).collect();
    measure("window 3300-3700 GeV, histogram of mj1/mjj", n, || {
        window.hist("mj1_ratio", ratio_edges.clone())
    })?;
    let selected = window.select(&["mjj".into(), "mj1_ratio".into(), "tau21_1".into()])?;
    let collected = measure("window collected (mjj, mj1/mjj, tau21_1)", n, || {
        selected.collect()
    })?;
    println!(
        "  {} events in memory ({:.2} GiB of columns)",
        collected.len(),
        collected.len() as f64 * 3.0 * 8.0 / (1u64 << 30) as f64
    );
    Ok(())
}
