//! Mutated blosc frames and blosc-compressed LHCO files (`tests/fixtures/lhco/blosc/`): the
//! decoder and the reader return errors, never panic, and the reader's errors name the file.
//! `BUMPLAB_FUZZ_CASES` and `BUMPLAB_FUZZ_SEED` as in `support/mutate.rs`.

#[path = "support/mutate.rs"]
mod mutate;

use std::path::{Path, PathBuf};

use bumplab::data::{blosc, lhco_h5};
use mutate::Mutator;

/// The blosc fixtures, each with the dataset holding its chunks.
fn fixtures() -> Vec<(PathBuf, &'static str)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lhco/blosc");
    [
        ("features_table_blosclz_shuffle.h5", "/df/table"),
        ("features_table_lz4_bitshuffle.h5", "/df/table"),
        ("features_table_zlib_shuffle.h5", "/df/table"),
        ("features_table_zstd_bitshuffle.h5", "/df/table"),
        ("features_fixed_lz4hc_noshuffle.h5", "/df/block0_values"),
        ("raw_blosclz_shuffle.h5", "/df/block0_values"),
    ]
    .into_iter()
    .map(|(file, dataset)| (dir.join(file), dataset))
    .collect()
}

/// Every chunk of every fixture: its stored frame and its decoded size.
fn frames() -> Vec<(Vec<u8>, usize)> {
    let mut frames = Vec::new();
    for (path, name) in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let file = hdf5_pure::File::open(&path).unwrap();
        let dataset = file.dataset(name).unwrap();
        let chunk: u64 = dataset.chunk_shape().unwrap().unwrap().iter().product();
        let size = (chunk * dataset.element_size().unwrap()) as usize;
        for c in dataset.chunks().unwrap() {
            let at = c.address as usize;
            frames.push((bytes[at..at + c.storage_size as usize].to_vec(), size));
        }
    }
    assert!(frames.len() >= 6, "the fixtures hold blosc chunks");
    frames
}

#[test]
fn the_frames_of_the_fixtures_decode_to_their_chunk_size() {
    for (frame, size) in frames() {
        assert_eq!(blosc::decompress(&frame, size).unwrap().len(), size);
    }
}

#[test]
fn mutated_frames_are_errors_or_data_of_the_chunk_size() {
    let frames = frames();
    let mut mutator = Mutator::new("blosc_frames");
    let mut errors = 0;
    for _ in 0..mutate::cases() {
        let (frame, size) = &frames[mutator.below(frames.len())];
        let input = mutator.mutate(frame);
        match blosc::decompress(&input, *size) {
            Ok(data) => assert_eq!(data.len(), *size),
            Err(_) => errors += 1,
        }
    }
    assert!(errors > 0, "some mutations are caught");
}

#[test]
fn mutated_blosc_files_are_errors_naming_the_file() {
    let seeds: Vec<Vec<u8>> = fixtures()
        .iter()
        .map(|(path, _)| std::fs::read(path).unwrap())
        .collect();
    let mut mutator = Mutator::new("blosc_files");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.h5");
    let shown = path.display().to_string();
    for case in 0..mutate::cases() / 4 {
        let seed = &seeds[mutator.below(seeds.len())];
        let input = mutator.mutate(seed);
        std::fs::write(&path, &input).unwrap();
        let rows = (case % 3 == 1).then_some(2..7);
        if let Err(e) = lhco_h5::read_lhco(&path, None, rows) {
            let text = e.to_string();
            if !text.contains(&shown) {
                let kept = std::env::temp_dir().join("bumplab_fuzz_blosc_case.h5");
                std::fs::write(&kept, &input).unwrap();
                panic!("case {case}: error does not name the file ({text}); input: {kept:?}");
            }
        }
    }
}
