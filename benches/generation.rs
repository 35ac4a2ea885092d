//! Event generation speed: events per second of the two toy generators with their default
//! options, `lhco_toy` (the R&D-like preset: a million QCD dijet events and 1000 signal
//! events) and `darkmachines_toy` (channel 3: 100 000 background and 1000 signal events), on
//! all of rayon's threads (`RAYON_NUM_THREADS` sets them; the events do not depend on it).
//! Run: `cargo bench --bench generation [-- REPEATS]` (default 3; the median is printed).

use std::time::Instant;

use bumplab::data::generate::darkmachines::{DarkMachinesToyOptions, darkmachines_toy};
use bumplab::data::generate::lhco::{LhcoToyOptions, lhco_toy};

/// The median of `repeats` timings of `generate`, and the number of events it made.
fn time(repeats: usize, generate: impl Fn() -> usize) -> (f64, usize) {
    let mut events = 0;
    let mut seconds: Vec<f64> = (0..repeats)
        .map(|_| {
            let started = Instant::now();
            events = generate();
            started.elapsed().as_secs_f64()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    (seconds[repeats / 2], events)
}

fn main() {
    let repeats = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(3)
        .max(1);
    let threads = rayon::current_num_threads();
    let rows = |columns: Vec<(String, Vec<f64>)>| columns.first().map_or(0, |c| c.1.len());
    for (name, (seconds, events)) in [
        (
            "lhco_toy",
            time(repeats, || {
                rows(lhco_toy(&LhcoToyOptions::default()).expect("lhco_toy"))
            }),
        ),
        (
            "darkmachines_toy",
            time(repeats, || {
                rows(
                    darkmachines_toy(&DarkMachinesToyOptions::default()).expect("darkmachines_toy"),
                )
            }),
        ),
    ] {
        println!(
            "{name}: {events} events in {seconds:.3} s (median of {repeats}), {:.0} events/s, \
             threads={threads}",
            events as f64 / seconds
        );
    }
}
