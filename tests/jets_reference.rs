//! bumplab's jets and N-subjettiness against FastJet 3.5.2 on shared events.
//!
//! `tests/fixtures/jets/reference.json` was written by `scripts/jets_reference.py` (which
//! says how to run it and what each record holds). Jet four-momenta must agree to 1e-6
//! relative (of the jet's energy), tau_N to 1e-4 relative.

use std::path::Path;

use bumplab::data::jets::{
    Algorithm, Axes, JetDefinition, NsubOptions, Particle, cluster, cluster_events, nsubjettiness,
};
use serde_json::Value;

fn reference() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jets/reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn four(v: &Value) -> [f64; 4] {
    let a: Vec<f64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    [a[0], a[1], a[2], a[3]]
}

fn particles(event: &Value) -> Vec<Particle> {
    event["particles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let [px, py, pz, e] = four(p);
            Particle::new(px, py, pz, e).unwrap()
        })
        .collect()
}

/// Our jets and FastJet's are the same set of four-momenta (to 1e-6 of each jet's energy).
/// Both lists are pT-ordered, but jets of equal pT (the grid event) may come in either
/// order, so each of ours is matched to an unused one of FastJet's.
fn assert_jets(what: &str, ours: &[Particle], theirs: &Value) {
    let theirs: Vec<[f64; 4]> = theirs.as_array().unwrap().iter().map(four).collect();
    assert_eq!(ours.len(), theirs.len(), "{what}: number of jets");
    let mut used = vec![false; theirs.len()];
    for (k, a) in ours.iter().enumerate() {
        let same = |b: &[f64; 4]| {
            [a.px, a.py, a.pz, a.e]
                .iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-6 * b[3].abs().max(1e-300))
        };
        let found = (0..theirs.len()).find(|&j| !used[j] && same(&theirs[j]));
        match found {
            Some(j) => used[j] = true,
            None => panic!("{what}: jet {k} {a:?} is not among FastJet's {theirs:?}"),
        }
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

fn algorithm(name: &str) -> Algorithm {
    match name {
        "antikt" => Algorithm::AntiKt,
        "kt" => Algorithm::Kt,
        "ca" => Algorithm::CambridgeAachen,
        other => panic!("unknown algorithm {other}"),
    }
}

#[test]
fn inclusive_jets_agree_with_fastjet() {
    let reference = reference();
    let mut checked = 0;
    for (i, event) in reference["events"].as_array().unwrap().iter().enumerate() {
        let p = particles(event);
        for inc in event["inclusive"].as_array().unwrap() {
            let def = JetDefinition {
                algorithm: algorithm(inc["algorithm"].as_str().unwrap()),
                r: inc["r"].as_f64().unwrap(),
            };
            let seq = cluster(&p, &def).unwrap();
            let ours: Vec<Particle> = seq
                .inclusive_jets(inc["ptmin"].as_f64().unwrap())
                .iter()
                .map(|j| j.momentum)
                .collect();
            let what = format!("event {i} ({}), {def:?}", event["name"]);
            assert_jets(&what, &ours, &inc["jets"]);
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked}");
}

#[test]
fn exclusive_jets_agree_with_fastjet() {
    let reference = reference();
    let def = JetDefinition {
        algorithm: Algorithm::Kt,
        r: 1.0,
    };
    for (i, event) in reference["events"].as_array().unwrap().iter().enumerate() {
        let seq = cluster(&particles(event), &def).unwrap();
        for ex in event["exclusive"].as_array().unwrap() {
            let (what, jets) = if let Some(n) = ex["n"].as_u64() {
                (
                    format!("event {i}: n = {n}"),
                    seq.exclusive_jets(n as usize).unwrap(),
                )
            } else {
                let dcut = ex["dcut"].as_f64().unwrap();
                (
                    format!("event {i}: dcut = {dcut}"),
                    seq.exclusive_jets_dcut(dcut).unwrap(),
                )
            };
            let ours: Vec<Particle> = jets.iter().map(|j| j.momentum).collect();
            assert_jets(&what, &ours, &ex["jets"]);
        }
    }
}

#[test]
fn leading_jets_substructure_agrees_with_fastjet() {
    let reference = reference();
    let events = reference["events"].as_array().unwrap();
    let inputs: Vec<Vec<Particle>> = events.iter().map(particles).collect();
    let def = JetDefinition {
        algorithm: Algorithm::AntiKt,
        r: 1.0,
    };
    // The parallel path gives the same sequences.
    let sequences = cluster_events(&inputs, &def).unwrap();
    let unnormalised = NsubOptions {
        r0: None,
        ..Default::default()
    };
    let ca = NsubOptions {
        axes: Axes::ExclusiveCa,
        ..unnormalised
    };
    let mut taus_checked = 0;
    for (i, (event, seq)) in events.iter().zip(&sequences).enumerate() {
        let jets = seq.inclusive_jets(0.0);
        for (k, fj) in event["jets"].as_array().unwrap().iter().enumerate() {
            let what = format!("event {i}, jet {k}");
            let jet = &jets[k];
            assert_jets(
                &what,
                &[jet.momentum],
                &Value::Array(vec![fj["p4"].clone()]),
            );
            assert!(
                close(jet.momentum.mass(), fj["mass"].as_f64().unwrap(), 1e-6)
                    || (jet.momentum.mass() - fj["mass"].as_f64().unwrap()).abs()
                        < 1e-6 * jet.momentum.e,
                "{what}: mass"
            );
            let indices = seq.constituent_indices(jet).unwrap();
            let fj_indices: Vec<usize> = fj["constituents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(indices, fj_indices, "{what}: constituents");
            let subjets: Vec<Particle> = match seq.exclusive_subjets(jet, 2) {
                Ok(s) => s.iter().map(|j| j.momentum).collect(),
                Err(_) => Vec::new(),
            };
            assert_jets(&format!("{what}: subjets"), &subjets, &fj["subjets2"]);
            let constituents = seq.constituents(jet).unwrap();
            for (opts, key) in [(&unnormalised, "tau_kt"), (&ca, "tau_ca")] {
                let ours = nsubjettiness(&constituents, 3, opts).unwrap();
                for (n, (a, b)) in ours.iter().zip(fj[key].as_array().unwrap()).enumerate() {
                    let b = b.as_f64().unwrap();
                    assert!(
                        close(*a, b, 1e-4) || (*a == 0.0 && b == 0.0),
                        "{what}: {key} {}: {a} vs FastJet {b}",
                        n + 1
                    );
                    taus_checked += 1;
                }
            }
            // Normalised: divided by the scalar pT sum (R0 = 1).
            let norm = nsubjettiness(&constituents, 1, &NsubOptions::default()).unwrap()[0];
            let expected = fj["tau_kt"][0].as_f64().unwrap() / fj["pt_sum"].as_f64().unwrap();
            assert!(
                close(norm, expected, 1e-4) || (norm == 0.0 && expected == 0.0),
                "{what}: normalised tau_1"
            );
        }
    }
    assert!(taus_checked > 1000, "{taus_checked}");
}

#[test]
fn massless_particles_from_pt_eta_phi_match_the_reference_conversion() {
    // The reference made its inputs as px = pT cos(phi), ..., E = pT cosh(eta) (then rounded
    // to 9 digits); the same conversion here lands within that rounding.
    let reference = reference();
    let event = &reference["events"][0];
    let [px, py, pz, e] = four(&event["particles"][0]);
    let p = Particle::from_pt_eta_phi(50.0, 0.5, 1.0).unwrap();
    for (a, b) in [(p.px, px), (p.py, py), (p.pz, pz), (p.e, e)] {
        assert!(close(a, b, 1e-8), "{a} vs {b}");
    }
}
