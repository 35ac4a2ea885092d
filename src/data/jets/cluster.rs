//! Clustering an event: sequential recombination with the generalised-kT distances (kT,
//! Cambridge/Aachen, anti-kT) into a [`ClusterSequence`].
//!
//! Distances: d_ij = min(kT_i^2p, kT_j^2p) ΔR_ij² / R², d_iB = kT_i^2p, with ΔR in
//! rapidity and azimuth, p = 1 (kT), 0 (C/A), -1 (anti-kT). Recombination is the E-scheme.
//! The search keeps each jet's geometric nearest neighbour within R, so the smallest distance
//! of a step is found among one candidate per jet: [`super::plain`] for small events (FastJet's
//! order), [`super::tiled`] (neighbour searches over tiles of the (y, φ) plane) for the others.

use rayon::prelude::*;

use super::momentum::Particle;
use super::sequence::{ClusterSequence, JetDefinition};
use super::{plain, tiled};
use crate::{Error, Result};

/// Clusters `particles` with `definition`. Every component must be finite and R in (0, 1000].
pub fn cluster(particles: &[Particle], definition: &JetDefinition) -> Result<ClusterSequence> {
    definition.check()?;
    for (i, p) in particles.iter().enumerate() {
        p.check(|| format!("particle {i}"))?;
    }
    let n = particles.len();
    let mut seq = ClusterSequence::of_inputs(particles, definition);
    if uses_plain(n, definition.r) {
        plain::run(&mut seq);
    } else {
        tiled::run(&mut seq);
    }
    Ok(seq)
}

/// Whether an event of `n` particles is small enough for FastJet's plain strategy (FastJet's
/// own choice of strategy for R below 2π), so that ties between equal distances resolve as in
/// FastJet.
fn uses_plain(n: usize, r: f64) -> bool {
    n <= 30 || (n as f64) <= 39.0 / (r.min(std::f64::consts::TAU) + 0.6)
}

/// Clusters many events in parallel (rayon); an error names the event it came from.
pub fn cluster_events(
    events: &[Vec<Particle>],
    definition: &JetDefinition,
) -> Result<Vec<ClusterSequence>> {
    definition.check()?;
    events
        .par_iter()
        .enumerate()
        .map(|(i, event)| cluster(event, definition).map_err(|e| in_event(e, i)))
        .collect()
}

/// `e` with the event number added to the name of the invalid argument.
pub(crate) fn in_event(e: Error, event: usize) -> Error {
    match e {
        Error::InvalidArgument { name, problem } => Error::InvalidArgument {
            name: format!("{name} of event {event}"),
            problem,
        },
        other => other,
    }
}
