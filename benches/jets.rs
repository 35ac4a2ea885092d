//! Jet clustering speed: events per second for anti-kT R = 1.0 on the 700-particle events of
//! `tests/fixtures/jets/reference.json` (each repeated to make 4000 events), single-threaded
//! and in parallel (rayon), and with the substructure of the two leading jets (τ_1..τ_3,
//! exclusive-kT axes). `scripts/bench_jets.sh` runs FastJet's Python package beside it.
//! Run: `cargo bench --bench jets`.

use std::time::Instant;

use bumplab::data::jets::{
    Algorithm, ClusterSequence, JetDefinition, NsubOptions, Particle, cluster, cluster_events,
    substructure,
};
use rayon::prelude::*;

const EVENTS: usize = 4000;

fn events() -> Vec<Vec<Particle>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jets/reference.json"
    );
    let text = std::fs::read_to_string(path).expect("the reference events");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let big: Vec<Vec<Particle>> = value["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["particles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let c: Vec<f64> = p
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_f64().unwrap())
                        .collect();
                    Particle::new(c[0], c[1], c[2], c[3]).unwrap()
                })
                .collect::<Vec<_>>()
        })
        .filter(|p| p.len() == 700)
        .collect();
    (0..EVENTS).map(|i| big[i % big.len()].clone()).collect()
}

/// Jets above 20 GeV, as the Python side asks for.
fn jets(seq: &ClusterSequence) -> usize {
    seq.inclusive_jets(20.0).len()
}

fn report(what: &str, threads: usize, seconds: f64, n_jets: usize) {
    println!(
        "bumplab: {what} threads={threads} events={EVENTS} seconds={seconds:.3} events_per_s={:.0} jets={n_jets}",
        EVENTS as f64 / seconds
    );
}

fn main() {
    let events = events();
    let def = JetDefinition {
        algorithm: Algorithm::AntiKt,
        r: 1.0,
    };
    let opts = NsubOptions::default();

    let started = Instant::now();
    let n: usize = events
        .iter()
        .map(|e| jets(&cluster(e, &def).unwrap()))
        .sum();
    report("cluster", 1, started.elapsed().as_secs_f64(), n);

    let started = Instant::now();
    let n: usize = cluster_events(&events, &def)
        .unwrap()
        .par_iter()
        .map(jets)
        .sum();
    report(
        "cluster",
        rayon::current_num_threads(),
        started.elapsed().as_secs_f64(),
        n,
    );

    let features = |e: &Vec<Particle>| {
        let seq = cluster(e, &def).unwrap();
        let leading = seq.inclusive_jets(0.0);
        leading
            .iter()
            .take(2)
            .map(|j| {
                substructure(&seq.constituents(j).unwrap(), &opts)
                    .unwrap()
                    .tau21
            })
            .filter(|t| t.is_finite())
            .count()
    };
    let started = Instant::now();
    let n: usize = events.iter().map(features).sum();
    report(
        "cluster+tau123(2 jets)",
        1,
        started.elapsed().as_secs_f64(),
        n,
    );
    let started = Instant::now();
    let n: usize = events.par_iter().map(features).sum();
    report(
        "cluster+tau123(2 jets)",
        rayon::current_num_threads(),
        started.elapsed().as_secs_f64(),
        n,
    );
}
