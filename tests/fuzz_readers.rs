//! Fuzzing the readers: CSV, Parquet, LHC Olympics HDF5 and Dark Machines CSV, each fed a
//! bounded number of random inputs and mutations of valid seed files (the fixtures in
//! `tests/fixtures/` and files our own writers make). Every outcome must be `Ok` or a
//! `bumplab::Error` whose message names the file; a panic fails the test, printing the seed
//! and case index and saving the input under the target directory for replay.
//!
//! `BUMPLAB_FUZZ_CASES` (default 2000 per reader) and `BUMPLAB_FUZZ_SEED` (default 0) are
//! read by `support/mutate.rs`; a failing case is replayed by running the same seed again.

#[path = "support/mutate.rs"]
mod mutate;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use bumplab::data::generate::lhco::{LhcoToyOptions, lhco_toy};
use bumplab::data::{EventSet, darkmachines, io, lhco_h5};
use mutate::Mutator;

/// A reader under test: its name, the extension of its files, its seed inputs and how to
/// read a file.
struct Target {
    name: &'static str,
    extension: &'static str,
    seeds: Vec<Vec<u8>>,
    read: fn(&Path, usize) -> bumplab::Result<()>,
}

/// What the cases of one target gave.
#[derive(Debug, Default)]
struct Tally {
    read: usize,
    refused: usize,
    /// Panics inside a dependency that the reader caught at its boundary.
    guarded: usize,
}

fn fixtures(dir: &str, extension: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Small event sets written by our own writer `write`.
fn written(write: fn(&EventSet, &Path) -> bumplab::Result<()>) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let toy = lhco_toy(&LhcoToyOptions {
        background: 40,
        signal: 5,
        ..LhcoToyOptions::default()
    })
    .unwrap();
    let small = vec![
        ("x".to_string(), vec![1.0, -2.5, 3.25]),
        ("label".to_string(), vec![0.0, 1.0, 0.0]),
    ];
    [toy, small]
        .into_iter()
        .enumerate()
        .map(|(i, columns)| {
            let path = dir.path().join(format!("seed{i}"));
            write(&EventSet::from_columns(columns).unwrap(), &path).unwrap();
            std::fs::read(&path).unwrap()
        })
        .collect()
}

/// Dark Machines lines with every object type, in the challenge's units (MeV).
fn darkmachines_lines() -> Vec<u8> {
    let mut text = String::new();
    for event in 0..30 {
        text += &format!("{event};p{};1.5;{}.25;-1.2;", event % 3, 1000 * event);
        for (k, kind) in ["j", "b", "e-", "e+", "m-", "m+", "g"].iter().enumerate() {
            if (event + k) % 3 == 0 {
                text += &format!("{kind},{}.5,{}.0,0.{k},-{k}.1;", 90_000 + k, 50_000 + k);
            }
        }
        text += "\n";
    }
    text.into_bytes()
}

fn targets() -> Vec<Target> {
    let mut csv_seeds = written(io::write_csv);
    csv_seeds.push(b"a,b,process\n1,2.5,\"tt,bar\"\n3,-4e3,wjets\n".to_vec());
    let mut dm_seeds = fixtures("darkmachines", "csv");
    dm_seeds.push(darkmachines_lines());
    vec![
        Target {
            name: "csv",
            extension: "csv",
            seeds: csv_seeds,
            read: |path, _| io::read_csv(path).map(drop),
        },
        Target {
            name: "parquet",
            extension: "parquet",
            seeds: written(io::write_parquet),
            read: |path, _| io::read_parquet(path).map(drop),
        },
        Target {
            name: "lhco_h5",
            extension: "h5",
            seeds: fixtures("lhco", "h5"),
            // Every third case reads a row window, as `read_lhco(path, #{ start, stop })` does.
            read: |path, case| {
                let rows = (case % 3 == 1).then_some(2..7);
                lhco_h5::read_lhco(path, None, rows).map(drop)
            },
        },
        Target {
            name: "darkmachines",
            extension: "csv",
            seeds: dm_seeds,
            read: |path, _| darkmachines::read_darkmachines(path).map(drop),
        },
    ]
}

/// Runs `target` over its cases; on a panic or an error that does not name the file, saves
/// the input and panics with how to replay it.
fn fuzz(target: &Target) -> Tally {
    let mut mutator = Mutator::new(target.name);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("case.{}", target.extension));
    let shown = path.display().to_string();
    let mut tally = Tally::default();
    for case in 0..mutate::cases() {
        let input = if case % 10 == 0 {
            mutator.random_bytes(1024)
        } else {
            let seed = &target.seeds[mutator.below(target.seeds.len())];
            mutator.mutate(seed)
        };
        std::fs::write(&path, &input).unwrap();
        let problem = match catch_unwind(AssertUnwindSafe(|| (target.read)(&path, case))) {
            Ok(Ok(())) => {
                tally.read += 1;
                None
            }
            Ok(Err(err)) => {
                let message = err.to_string();
                tally.refused += 1;
                if message.contains("decoder failed on it") {
                    tally.guarded += 1;
                }
                (!message.contains(&shown))
                    .then(|| format!("the error does not name the file: {message}"))
            }
            Err(panic) => Some(format!(
                "panicked: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        };
        if let Some(problem) = problem {
            let saved = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join("fuzz_readers")
                .join(format!(
                    "{}-seed{}-case{case}.{}",
                    target.name,
                    mutate::seed(),
                    target.extension
                ));
            std::fs::create_dir_all(saved.parent().unwrap()).unwrap();
            std::fs::write(&saved, &input).unwrap();
            panic!(
                "{} reader, BUMPLAB_FUZZ_SEED={} case {case}: {problem}\ninput saved as {}",
                target.name,
                mutate::seed(),
                saved.display()
            );
        }
    }
    tally
}

/// Runs one target by name and prints its tally (shown with `--nocapture`).
fn fuzz_target(name: &str) {
    let targets = targets();
    let target = targets.iter().find(|t| t.name == name).unwrap();
    let tally = fuzz(target);
    println!("{name}: {tally:?}");
    assert_eq!(tally.read + tally.refused, mutate::cases());
}

#[test]
fn csv_reader_never_panics_and_names_the_file() {
    fuzz_target("csv");
}

#[test]
fn parquet_reader_never_panics_and_names_the_file() {
    fuzz_target("parquet");
}

#[test]
fn lhco_reader_never_panics_and_names_the_file() {
    fuzz_target("lhco_h5");
}

#[test]
fn darkmachines_reader_never_panics_and_names_the_file() {
    fuzz_target("darkmachines");
}
