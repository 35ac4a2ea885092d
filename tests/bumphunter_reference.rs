//! bumplab's BumpHunter against pyBumpHunter 0.5.1 on shared histograms.
//!
//! The fixtures under `tests/fixtures/bumphunter/` were written by
//! `scripts/bumphunter_reference.py` (which says how to run it). Local results — the chosen
//! window, its local p-value, the test statistic and the signal estimate — are deterministic
//! and must agree to rounding. Global p-values come from different random streams, so they
//! must agree within their combined binomial errors (4 sigma, with a floor of a few
//! pseudo-experiments for p-values near 0).

use std::path::Path;

use bumplab::stats::bumphunter::{
    BumpHunter2DOptions, BumpHunterOptions, Mode, ScanStep, bump_hunter, bump_hunter_2d,
};
use bumplab::stats::hist::{Hist1D, Hist2D};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bumphunter")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-300
}

/// Local p-values agree to 1e-9 relative. pyBumpHunter computes a deficit's p-value as
/// `1 - P(n + 1, b)`, which keeps only ~1e-16 absolute accuracy; bumplab uses the upper
/// incomplete gamma function directly (it matches SciPy's `gammaincc` to 1e-12 relative on
/// `flat_deficit`), so deficits also get an absolute tolerance of 1e-15.
fn local_p_agrees(ours: f64, theirs: f64, mode: &str) -> bool {
    close(ours, theirs, 1e-9) || (mode == "deficit" && (ours - theirs).abs() <= 1e-15)
}

/// Two estimates of one p-value from `n1` and `n2` pseudo-experiments agree within 4 sigma.
fn assert_global_agrees(name: &str, ours: f64, n1: usize, theirs: f64, n2: usize) {
    let pooled = (ours * n1 as f64 + theirs * n2 as f64) / (n1 + n2) as f64;
    // A floor of 3 pseudo-experiments' worth keeps p near 0 from demanding exact zeros.
    let var =
        pooled.max(3.0 / n1.min(n2) as f64) * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64);
    let diff = (ours - theirs).abs();
    assert!(
        diff <= 4.0 * var.sqrt(),
        "{name}: global p {ours} (bumplab, {n1} PEs) vs {theirs} (pyBumpHunter, {n2} PEs)"
    );
}

fn options_1d(opts: &Value, n_bins: usize) -> BumpHunterOptions {
    let scan_step = match &opts["scan_step"] {
        Value::String(s) if s == "full" => ScanStep::Full,
        Value::String(s) if s == "half" => ScanStep::Half,
        v => ScanStep::Bins(v.as_u64().unwrap() as usize),
    };
    BumpHunterOptions {
        mode: Mode::parse(opts["mode"].as_str().unwrap()).unwrap(),
        width_min: opts["width_min"].as_u64().unwrap() as usize,
        width_max: Some(
            opts["width_max"]
                .as_u64()
                .map_or(n_bins / 2, |w| w as usize),
        ),
        width_step: opts["width_step"].as_u64().unwrap() as usize,
        scan_step,
        npe: 20_000,
        seed: 99,
        use_sideband: opts["use_sideband"].as_bool().unwrap_or(false),
        sideband_width: opts["sideband_width"].as_u64().unwrap_or(0) as usize,
    }
}

fn check_1d(name: &str) {
    let f = fixture(&format!("{name}.json"));
    let edges = floats(&f["edges"]);
    let data = Hist1D::from_counts(edges.clone(), floats(&f["data"])).unwrap();
    let reference = Hist1D::from_counts(edges.clone(), floats(&f["reference"])).unwrap();
    let opts = options_1d(&f["options"], edges.len() - 1);
    let r = bump_hunter(&data, &reference, &opts, None).unwrap();
    let e = &f["expected"];
    assert_eq!(
        r.start as u64,
        e["start"].as_u64().unwrap(),
        "{name}: window start"
    );
    assert_eq!(
        r.width as u64,
        e["width"].as_u64().unwrap(),
        "{name}: window width"
    );
    let window = floats(&e["window_edges"]);
    assert_eq!(
        (r.window_edges.0, r.window_edges.1),
        (window[0], window[1]),
        "{name}: window edges"
    );
    let local_p = e["local_p"].as_f64().unwrap();
    let mode = f["options"]["mode"].as_str().unwrap();
    assert!(
        local_p_agrees(r.local_p, local_p, mode),
        "{name}: local p {} vs {local_p}",
        r.local_p
    );
    assert!(
        close(r.t, e["t"].as_f64().unwrap(), 1e-6),
        "{name}: t {} vs {}",
        r.t,
        e["t"]
    );
    let signal = e["signal"].as_f64().unwrap();
    assert!(
        close(r.signal, signal, 1e-9),
        "{name}: signal {} vs {signal}",
        r.signal
    );
    let py_npe = f["options"]["npe"].as_u64().unwrap() as usize;
    assert_global_agrees(
        name,
        r.global_p,
        r.npe,
        e["global_p"].as_f64().unwrap(),
        py_npe,
    );
}

#[test]
fn falling_spectrum_with_a_bump() {
    check_1d("falling_bump");
}

#[test]
fn falling_spectrum_without_signal() {
    check_1d("falling_null");
}

#[test]
fn deficit_in_a_flat_spectrum_with_default_widths() {
    check_1d("flat_deficit");
}

#[test]
fn variable_bins_windows_moved_by_half_their_width() {
    check_1d("variable_bins_half_step");
}

#[test]
fn variable_bins_windows_moved_by_their_width() {
    check_1d("variable_bins_full_step");
}

#[test]
fn sideband_normalisation_and_empty_reference_ends() {
    check_1d("sideband");
}

#[test]
fn two_dimensional_bump() {
    let f = fixture("falling_bump_2d.json");
    let (ex, ey) = (floats(&f["x_edges"]), floats(&f["y_edges"]));
    let rows = |v: &Value| -> Vec<f64> { v.as_array().unwrap().iter().flat_map(floats).collect() };
    let data = Hist2D::from_counts(ex.clone(), ey.clone(), rows(&f["data"])).unwrap();
    let reference = Hist2D::from_counts(ex, ey, rows(&f["reference"])).unwrap();
    let o = &f["options"];
    let pair = |v: &Value| {
        let a = floats(v);
        (a[0] as usize, a[1] as usize)
    };
    let opts = BumpHunter2DOptions {
        mode: Mode::parse(o["mode"].as_str().unwrap()).unwrap(),
        width_min: pair(&o["width_min"]),
        width_max: Some(pair(&o["width_max"])),
        width_step: pair(&o["width_step"]),
        scan_step: pair(&o["scan_step"]),
        npe: 5000,
        seed: 5,
    };
    let r = bump_hunter_2d(&data, &reference, &opts, None).unwrap();
    let e = &f["expected"];
    assert_eq!(r.start, pair(&e["start"]), "window start");
    assert_eq!(r.width, pair(&e["width"]), "window width");
    let local_p = e["local_p"].as_f64().unwrap();
    assert!(
        close(r.local_p, local_p, 1e-9),
        "local p {} vs {local_p}",
        r.local_p
    );
    let signal = e["signal"].as_f64().unwrap();
    assert!(
        close(r.signal, signal, 1e-9),
        "signal {} vs {signal}",
        r.signal
    );
    let py_npe = o["npe"].as_u64().unwrap() as usize;
    assert_global_agrees(
        "2d",
        r.global_p,
        r.npe,
        e["global_p"].as_f64().unwrap(),
        py_npe,
    );
}
