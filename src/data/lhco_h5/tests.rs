//! Tests of the LHC Olympics HDF5 reader.

use std::path::PathBuf;

use super::pickle::Py;
use super::values::{Kind, Scalar};
use super::*;
use crate::error::Error;

/// The fixtures written by `scripts/make_lhco_fixtures.py`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lhco")
        .join(name)
}

/// The expected values the fixture script wrote next to the fixtures.
fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("expected.json"))
        .expect("expected.json (run scripts/make_lhco_fixtures.py)");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance * expected.abs().max(1.0)
}

fn column<'c>(columns: &'c NamedColumns, name: &str) -> &'c [f64] {
    &columns
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .1
}

/// Checks one DataFrame read against its entry in expected.json.
fn check(
    file: &str,
    key: &str,
    layout: LhcoLayout,
    columns: &NamedColumns,
    want: &serde_json::Value,
) {
    let at = format!("{file} key {key}");
    assert_eq!(
        format!("{layout:?}"),
        want["layout"].as_str().unwrap(),
        "{at}: layout"
    );
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let want_names: Vec<&str> = want["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names, want_names, "{at}: column names");
    let rows = want["rows"].as_u64().unwrap() as usize;
    assert!(
        columns.iter().all(|(_, v)| v.len() == rows),
        "{at}: every column has {rows} rows"
    );
    for cell in want["cells"].as_array().unwrap() {
        let (row, name) = (
            cell["row"].as_u64().unwrap() as usize,
            cell["column"].as_str().unwrap(),
        );
        let (got, value) = (column(columns, name)[row], cell["value"].as_f64().unwrap());
        assert!(
            close(got, value, 1e-14),
            "{at}: {name}[{row}] = {got}, expected {value}"
        );
    }
    for (name, sum) in want["sums"].as_object().unwrap() {
        let got: f64 = column(columns, name).iter().sum();
        assert!(
            close(got, sum.as_f64().unwrap(), 1e-10),
            "{at}: sum of {name} = {got}, expected {sum}"
        );
    }
    let total: f64 = columns.iter().flat_map(|(_, v)| v).sum();
    assert!(
        close(total, want["total"].as_f64().unwrap(), 1e-10),
        "{at}: total {total}"
    );
}

#[test]
fn every_fixture_matches_the_values_pandas_wrote() {
    let expected = expected();
    let files = expected.as_object().unwrap();
    assert!(files.len() >= 7, "expected.json lists the fixtures");
    for (file, keys) in files {
        for (key, want) in keys.as_object().unwrap() {
            let (layout, columns) = read_lhco(&fixture(file), Some(key), None)
                .unwrap_or_else(|e| panic!("{file} {key}: {e}"));
            check(file, key, layout, &columns, want);
        }
    }
}

#[test]
fn without_a_key_the_first_dataframe_is_read() {
    let (layout, columns) = read_lhco(&fixture("features_fixed.h5"), None, None).unwrap();
    assert_eq!(layout, LhcoLayout::Features);
    assert_eq!(columns.len(), 15);
    // mixed.h5 holds /dc, /grp/mix and /other: /dc comes first in name order.
    let (_, first) = read_lhco(&fixture("mixed.h5"), None, None).unwrap();
    let (_, dc) = read_lhco(&fixture("mixed.h5"), Some("/dc"), None).unwrap();
    assert_eq!(first, dc);
}

#[test]
fn a_row_range_reads_that_slice_of_every_layout() {
    let cases = [
        ("features_fixed.h5", 10..20),
        ("features_table.h5", 10..20),
        ("features_fixed_zlib.h5", 3..49),
        ("features_table_zlib.h5", 0..50),
        ("raw_fixed.h5", 4..17),
        // Stored in chunks of three rows: this window starts and ends inside a chunk.
        ("raw_fixed_zlib.h5", 4..17),
    ];
    for (file, rows) in cases {
        let (layout, full) = read_lhco(&fixture(file), Some("df"), None).unwrap();
        let count = lhco_rows(&fixture(file), Some("df")).unwrap();
        assert_eq!(count, full[0].1.len(), "{file}");
        let (slice_layout, slice) =
            read_lhco(&fixture(file), Some("df"), Some(rows.clone())).unwrap();
        assert_eq!(layout, slice_layout, "{file}");
        assert_eq!(full.len(), slice.len(), "{file}");
        for ((name, all), (slice_name, part)) in full.iter().zip(&slice) {
            assert_eq!(name, slice_name, "{file}");
            assert_eq!(&all[rows.clone()], part.as_slice(), "{file}: column {name}");
        }
    }
    let (_, empty) = read_lhco(&fixture("features_table.h5"), None, Some(50..50)).unwrap();
    assert!(empty.len() == 15 && empty.iter().all(|(_, v)| v.is_empty()));
}

#[test]
#[allow(clippy::reversed_empty_ranges)]
fn a_row_range_out_of_bounds_is_a_format_error() {
    for file in ["features_fixed.h5", "features_table.h5"] {
        for rows in [40..51, 60..70, 10..5] {
            let err = read_lhco(&fixture(file), None, Some(rows)).unwrap_err();
            assert!(matches!(err, Error::Format { .. }), "{file}: {err}");
            assert!(
                err.to_string().contains("out of bounds") && err.to_string().contains("50 rows"),
                "{err}"
            );
        }
    }
}

#[test]
fn a_missing_key_is_an_error_listing_the_keys() {
    let err = read_lhco(&fixture("mixed.h5"), Some("nope"), None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Format { .. }), "{message}");
    assert!(
        message.contains("key '/nope'") && message.contains("/dc, /grp/mix, /other"),
        "{message}"
    );
    // A group that is not a pandas object is not a key either.
    let err = read_lhco(&fixture("mixed.h5"), Some("grp"), None).unwrap_err();
    assert!(err.to_string().contains("pandas_type"), "{err}");
}

#[test]
fn a_missing_file_is_an_io_error() {
    let err = read_lhco(&fixture("no_such_file.h5"), None, None).unwrap_err();
    assert!(matches!(err, Error::Io { action: "read", .. }), "{err}");
}

#[test]
fn a_file_that_is_not_hdf5_is_a_format_error_at_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut signature_then_noise = b"\x89HDF\r\n\x1a\n".to_vec();
    signature_then_noise.extend_from_slice(&noise);
    for (name, bytes) in [
        ("noise.h5", noise.clone()),
        ("signature.h5", signature_then_noise),
        ("empty.h5", Vec::new()),
        ("text.h5", b"pxj1,pyj1\n1,2\n".to_vec()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = read_lhco(&path, None, None).unwrap_err();
        assert!(
            matches!(&err, Error::Format { location, .. } if location == "file header"),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_truncated_file_is_an_error_never_a_panic_nor_wrong_values() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "features_fixed.h5",
        "features_table_zlib.h5",
        "raw_fixed_zlib.h5",
        "mixed.h5",
    ] {
        let bytes = std::fs::read(fixture(file)).unwrap();
        let path = dir.path().join(file);
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_lhco(&path, Some("df").filter(|_| file != "mixed.h5"), None).unwrap_err();
        assert!(
            matches!(err, Error::Format { .. }) && err.to_string().contains("truncated"),
            "{file} cut in half: {err}"
        );
        // Wherever the file is cut, the read fails or gives exactly the full values.
        let full = read_lhco(&fixture(file), None, None).unwrap();
        for cut in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            if let Ok(read) = read_lhco(&path, None, None) {
                assert_eq!(read, full, "{file} cut at {cut} read wrong values");
            }
        }
    }
}

#[test]
fn an_unsupported_filter_is_a_format_error_naming_the_dataset() {
    let err = read_lhco(&fixture("blosc/unsupported_bzip2.h5"), None, None).unwrap_err();
    assert!(
        matches!(&err, Error::Format { location, .. } if location == "dataset /df/table"),
        "{err}"
    );
    assert!(err.to_string().contains("bzip2"), "{err}");
}

/// A JSON file written by `scripts/make_blosc_fixtures.py`.
fn blosc_json(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(&format!("blosc/{name}")))
        .expect("run scripts/make_blosc_fixtures.py");
    serde_json::from_str(&text).expect("JSON")
}

/// The values pandas read back from every file holding `frame`, as columns (stored as
/// the bits of each float64, so they are exact).
fn blosc_frame(frame: &str) -> NamedColumns {
    let want = blosc_json(&format!("{frame}.json"));
    let rows = want["rows"].as_u64().unwrap() as usize;
    let names: Vec<String> = if frame == "raw" {
        (0..RAW_COLUMNS).map(raw_column_name).collect()
    } else {
        let names = want["columns"].as_array().unwrap();
        names
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    let mut columns: NamedColumns = names.into_iter().map(|n| (n, vec![0.0; rows])).collect();
    if frame == "raw" {
        for cell in want["nonzero"].as_array().unwrap() {
            let (row, column) = (cell[0].as_u64().unwrap(), cell[1].as_u64().unwrap());
            columns[column as usize].1[row as usize] = f64::from_bits(cell[2].as_u64().unwrap());
        }
    } else {
        for (row, values) in want["values"].as_array().unwrap().iter().enumerate() {
            for (column, value) in values.as_array().unwrap().iter().enumerate() {
                columns[column].1[row] = f64::from_bits(value.as_u64().unwrap());
            }
        }
    }
    columns
}

#[test]
fn every_blosc_codec_and_shuffle_reads_to_the_values_pandas_read() {
    let files = blosc_json("files.json");
    let files = files.as_object().unwrap();
    let frames = [
        ("features", blosc_frame("features")),
        ("raw", blosc_frame("raw")),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (file, info) in files {
        let frame = info["frame"].as_str().unwrap();
        let want = &frames.iter().find(|(name, _)| *name == frame).unwrap().1;
        let (layout, columns) = read_lhco(&fixture(&format!("blosc/{file}")), None, None)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let raw = layout == LhcoLayout::RawParticles;
        assert_eq!(raw, frame == "raw", "{file}: layout");
        assert!(columns == *want, "{file}: values differ from pandas'");
        seen.insert((
            info["codec"].as_str().unwrap(),
            info["shuffle"].as_str().unwrap(),
        ));
    }
    for codec in ["blosclz", "lz4", "lz4hc", "zlib", "zstd"] {
        for shuffle in ["shuffle", "noshuffle", "bitshuffle"] {
            assert!(
                seen.contains(&(codec, shuffle)),
                "no fixture for {codec} {shuffle}"
            );
        }
    }
}

#[test]
fn a_row_range_of_a_blosc_file_reads_that_slice() {
    for (file, frame, rows) in [
        ("features_table_zstd_bitshuffle.h5", "features", 37..171),
        ("features_fixed_lz4_noshuffle.h5", "features", 200..203),
        ("raw_blosclz_shuffle.h5", "raw", 5..17),
    ] {
        let want = blosc_frame(frame);
        let path = fixture(&format!("blosc/{file}"));
        let (_, columns) = read_lhco(&path, None, Some(rows.clone())).unwrap();
        for ((name, got), (_, all)) in columns.iter().zip(&want) {
            assert_eq!(got.as_slice(), &all[rows.clone()], "{file}: {name}");
        }
    }
}

#[test]
fn the_first_blosc_fixture_reads_as_its_uncompressed_twin() {
    let (_, blosc) = read_lhco(&fixture("features_blosc.h5"), None, None).unwrap();
    let (_, plain) = read_lhco(&fixture("features_table.h5"), None, None).unwrap();
    assert!(blosc == plain);
}

#[test]
fn text_columns_are_named_not_reported_as_shapes() {
    for (file, location, what) in [
        (
            "strings_fixed.h5",
            "dataset /df/block1_values",
            "text or Python objects",
        ),
        (
            "strings_table.h5",
            "dataset /df/table, member 'values_block_1'",
            "text (strings)",
        ),
    ] {
        let err = read_lhco(&fixture(file), None, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "{file}: {location}: column 'process' holds {what}"
            )),
            "{err}"
        );
        assert!(!err.contains("shape"), "{err}");
    }
}

#[test]
fn non_finite_values_are_refused_with_row_and_column() {
    for (file, rows, location, value) in [
        ("nonfinite_fixed.h5", None, "row 2, column 'b'", "NaN"),
        ("nonfinite_table.h5", None, "row 3, column 'b'", "inf"),
        ("nonfinite_table.h5", Some(1..5), "row 3, column 'b'", "inf"),
    ] {
        let err = read_lhco(&fixture(file), None, rows)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with(&format!(
                "{file}: key /df, {location}: value is {value}: only finite numbers are read"
            )),
            "{err}"
        );
    }
    let (_, before) = read_lhco(&fixture("nonfinite_table.h5"), None, Some(0..3)).unwrap();
    assert_eq!(before[1].1, vec![0.0, 0.25, 0.5]);
}

#[test]
fn raw_particle_columns_are_named_by_particle_and_quantity() {
    assert_eq!(raw_column_name(0), "pt_0");
    assert_eq!(raw_column_name(1), "eta_0");
    assert_eq!(raw_column_name(2), "phi_0");
    assert_eq!(raw_column_name(3), "pt_1");
    assert_eq!(raw_column_name(2099), "phi_699");
    assert_eq!(raw_column_name(2100), "label");
    let numbered: NamedColumns = (0..RAW_COLUMNS)
        .map(|i| (i.to_string(), vec![i as f64]))
        .collect();
    let (layout, named) = classify(numbered);
    assert_eq!(layout, LhcoLayout::RawParticles);
    assert_eq!((named[4].0.as_str(), named[4].1[0]), ("eta_1", 4.0));
    // Any other table keeps its names, even with 2101 columns.
    let other: NamedColumns = (0..RAW_COLUMNS)
        .map(|i| (format!("c{i}"), vec![]))
        .collect();
    assert_eq!(classify(other.clone()), (LhcoLayout::Features, other));
    let (_, raw) = read_lhco(&fixture("raw_fixed.h5"), None, Some(0..1)).unwrap();
    assert_eq!(
        raw.iter()
            .map(|(n, _)| n.as_str())
            .take(4)
            .collect::<Vec<_>>(),
        ["pt_0", "eta_0", "phi_0", "pt_1"]
    );
}

#[test]
fn protocol_zero_pickles_of_labels_are_parsed() {
    let parse = pickle::parse;
    let s = |t: &str| Py::Str(t.to_string());
    assert_eq!(
        parse("(lp0\nVpxj1\np1\naVlabel\np2\na."),
        Some(Py::List(vec![s("pxj1"), s("label")]))
    );
    assert_eq!(
        parse("(lp0\n(I1\n(lp1\nVa\np2\naVb\np3\natp4\na."),
        Some(Py::List(vec![Py::Tuple(vec![
            Py::Int(1),
            Py::List(vec![s("a"), s("b")])
        ])]))
    );
    assert_eq!(
        parse("(lp0\nI0\naL4294967296L\naI01\naF0.5\naN."),
        None,
        "N after a list item leaves two values"
    );
    assert_eq!(
        parse("(lp0\nI0\naL4294967296L\naI01\naF0.5\na."),
        Some(Py::List(vec![
            Py::Int(0),
            Py::Int(1 << 32),
            Py::Bool(true),
            Py::Float(0.5)
        ]))
    );
    assert_eq!(
        parse("(lp0\nS'it\\'s'\np1\naVcaf\\u00e9\\u005c\np2\nag1\na."),
        Some(Py::List(vec![s("it's"), s("café\\"), s("it's")]))
    );
    for bad in [
        "",
        ".",
        "(lp0\na.",
        "(lp0\nVx",
        "(dp0\n.",
        "\u{80}\u{2}]q\u{0}.",
        "(lp0\nI1x\na.",
        "(lp0\ng9\na.",
        "(lp0\ng0\na.",
    ] {
        assert_eq!(parse(bad), None, "{bad:?}");
    }
    // References may not copy a long string over and over.
    let long = format!(
        "(lp0\nV{}\np1\na{}.",
        "x".repeat(10_000),
        "g1\na".repeat(1000)
    );
    assert_eq!(parse(&long), None);
}

#[test]
fn scalars_decode_in_both_byte_orders() {
    let be_i16 = Scalar {
        kind: Kind::Signed,
        size: 2,
        big_endian: true,
    };
    assert_eq!(be_i16.decode(&[0xff, 0xfe]), -2.0);
    assert_eq!(be_i16.label(&[0x01, 0x00]), "256");
    let le_u8 = Scalar {
        kind: Kind::Unsigned,
        size: 1,
        big_endian: false,
    };
    assert_eq!(le_u8.decode(&[255]), 255.0);
    let be_f32 = Scalar {
        kind: Kind::Float,
        size: 4,
        big_endian: true,
    };
    assert_eq!(be_f32.decode(&1.5f32.to_be_bytes()), 1.5);
    assert_eq!(be_f32.label(&2.0f32.to_be_bytes()), "2.0");
}
