//! BumpHunter speed: pseudo-experiments per second on a 40-bin histogram with widths 2-7,
//! the configuration pyBumpHunter's timing in `scripts/bench_bumphunter` uses.
//! Run: `cargo bench --bench bumphunter` (prints seconds for 10^4 and 10^6 pseudo-experiments).

use std::time::Instant;

use bumplab::stats::bumphunter::{BumpHunterOptions, bump_hunter};
use bumplab::stats::hist::Hist1D;

fn main() {
    let edges: Vec<f64> = (0..=40).map(f64::from).collect();
    let reference: Vec<f64> = (0..40)
        .map(|i| 1000.0 * (-f64::from(i) / 10.0).exp())
        .collect();
    let hb = Hist1D::from_counts(edges.clone(), reference.clone()).unwrap();
    // Data: the reference rounded, with a small excess in bins 20-23 (a pseudo-experiment
    // often beats it, so many stop early) and a large one (every pseudo-experiment scans
    // every window: the worst case).
    for (excess, npe) in [(12.0, 10_000), (12.0, 1_000_000), (60.0, 1_000_000)] {
        let data: Vec<f64> = reference
            .iter()
            .enumerate()
            .map(|(i, b)| b.round() + if (20..24).contains(&i) { excess } else { 0.0 })
            .collect();
        let hd = Hist1D::from_counts(edges.clone(), data).unwrap();
        let opts = BumpHunterOptions {
            width_min: 2,
            width_max: Some(7),
            npe,
            seed: 1,
            ..Default::default()
        };
        let started = Instant::now();
        let r = bump_hunter(&hd, &hb, &opts, None).unwrap();
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "bumplab: excess={excess} npe={npe} seconds={seconds:.3} threads={} (local Z {:.2}, global p {:.4})",
            rayon::current_num_threads(),
            r.local_z,
            r.global_p
        );
    }
}
