//! Jets from particles: generalised-kT clustering (kT, Cambridge/Aachen, anti-kT) with
//! E-scheme recombination giving the same jets as FastJet 3, and jet substructure
//! (N-subjettiness). Checked against FastJet on committed reference events
//! (`tests/jets_reference.rs`, made by `scripts/jets_reference.py`).

mod cluster;
mod momentum;
mod nsubjettiness;
mod plain;
mod sequence;
mod tiled;

pub(crate) use cluster::in_event;
pub use cluster::{cluster, cluster_events};
pub use momentum::Particle;
pub use nsubjettiness::{Axes, NsubOptions, Substructure, nsubjettiness, substructure};
pub use sequence::{Algorithm, ClusterSequence, Jet, JetDefinition, MAX_R};
