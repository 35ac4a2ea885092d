//! The calibration table of docs/fits.md: global p-values of background-only toys whose
//! reference was fitted to the toy itself, BumpHunter with refitted pseudo-experiments beside
//! plain pseudo-experiments of the fitted reference, for the dijet4 fit and the nested family,
//! with the seconds each kind took (30 bins, windows up to 6 bins, 20 000 events per toy).
//! Run: `cargo bench --bench refit_calibration [-- TOYS NPE]` (default 400 × 400: minutes).

#[path = "../tests/support/refit_null.rs"]
mod refit_null;

use bumplab::stats::bumphunter::BackgroundModel;
use bumplab::stats::fit::FamilyOptions;
use refit_null::{dijet4, fraction_below, null_p_values};

fn main() {
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let toys = numbers.first().copied().unwrap_or(400);
    let npe = numbers.get(1).copied().unwrap_or(400) as usize;
    let family = BackgroundModel::Family(FamilyOptions::default());
    for (name, model) in [("dijet4", dijet4()), ("family", family)] {
        let null = null_p_values(&model, toys, npe, 20_000.0);
        println!(
            "{name}: {toys} toys x {npe} pseudo-experiments: refit {:.1} s, plain {:.1} s",
            null.refit_seconds, null.plain_seconds
        );
        for (what, ps) in [("refit", &null.refit), ("plain", &null.plain)] {
            let cells: Vec<String> = [0.01, 0.05, 0.2, 0.5]
                .iter()
                .map(|&cut| {
                    let (f, e) = fraction_below(ps, cut);
                    format!("p<={cut}: {f:.3} +- {e:.3}")
                })
                .collect();
            println!("  {what:<6} {}", cells.join("   "));
        }
    }
}
