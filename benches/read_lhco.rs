//! Reading speed of LHC Olympics HDF5 files (blosc-compressed or not): MB of decoded columns
//! per second, for each file named on the command line, else for the committed blosc
//! fixtures (`tests/fixtures/lhco/blosc/`, small: a smoke run). A large file can be written
//! by `raw_frame` of `scripts/make_blosc_fixtures.py` with many events, or be an official
//! LHCO file. Run: `cargo bench --bench read_lhco [-- FILE.h5 ...]`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bumplab::data::lhco_h5::read_lhco;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .collect();
    if files.is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lhco/blosc");
        files = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "h5"))
            .collect();
        files.sort();
    }
    for path in files {
        let start = Instant::now();
        let columns = match read_lhco(&path, None, None) {
            Ok((_, columns)) => columns,
            Err(e) => {
                println!("{}: not read: {e}", path.display());
                continue;
            }
        };
        let seconds = start.elapsed().as_secs_f64();
        let mb = columns.iter().map(|(_, v)| v.len() * 8).sum::<usize>() as f64 / 1e6;
        println!(
            "{}: {mb:.1} MB in {seconds:.3} s: {:.0} MB/s",
            path.display(),
            mb / seconds
        );
    }
    Ok(())
}
