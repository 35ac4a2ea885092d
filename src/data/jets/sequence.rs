//! The clustering history FastJet keeps ([`ClusterSequence`]), filled by sequential
//! recombination (see [`super::cluster`]), from which inclusive jets, exclusive jets (by count
//! or by dcut), constituents and exclusive subjets are read; the jet definitions.

use super::momentum::Particle;
use crate::{Error, Result};

/// The largest jet radius accepted, FastJet's `max_allowable_R`.
pub const MAX_R: f64 = 1000.0;

/// A member of the generalised-kT family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// p = 1: softest pairs first.
    Kt,
    /// p = 0: closest pairs first, whatever their momenta.
    CambridgeAachen,
    /// p = -1: hardest particles collect their neighbours (the LHC standard).
    AntiKt,
}

impl Algorithm {
    /// The momentum factor kT^2p of a jet with squared transverse momentum `pt2`
    /// (anti-kT gives 10³⁰⁰ to a jet without transverse momentum, as FastJet does).
    pub(crate) fn scale(self, pt2: f64) -> f64 {
        match self {
            Algorithm::Kt => pt2,
            Algorithm::CambridgeAachen => 1.0,
            Algorithm::AntiKt => {
                if pt2 > 1e-300 {
                    1.0 / pt2
                } else {
                    1e300
                }
            }
        }
    }
}

/// An algorithm and its radius R (0 < R <= 1000).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JetDefinition {
    /// Which distance.
    pub algorithm: Algorithm,
    /// The jet radius in (y, φ).
    pub r: f64,
}

impl JetDefinition {
    pub(super) fn check(&self) -> Result<()> {
        if self.r.is_finite() && self.r > 0.0 && self.r <= MAX_R {
            Ok(())
        } else {
            Err(Error::invalid(
                "jet radius R",
                format!("{} (must be > 0 and <= {MAX_R})", self.r),
            ))
        }
    }
}

/// A jet of a [`ClusterSequence`]: its four-momentum and its place in that sequence's
/// history (what [`ClusterSequence::constituents`] and [`ClusterSequence::exclusive_subjets`]
/// follow).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jet {
    /// The E-scheme sum of the constituents.
    pub momentum: Particle,
    step: usize,
}

/// No parent (an input particle) or no jet (a merge with the beam).
const NONE: usize = usize::MAX;
/// The second parent of a merge with the beam.
const BEAM: usize = usize::MAX - 1;

/// One entry of the history: an input particle (no parents), a pairwise merge, or a
/// jet's merge with the beam.
#[derive(Debug, Clone, Copy)]
struct Step {
    parent1: usize,
    parent2: usize,
    /// Index of the resulting momentum in `ClusterSequence::momenta` (NONE for the beam).
    jet: usize,
    /// The distance of this step (0 for inputs).
    dij: f64,
    /// The largest distance of this and all earlier steps.
    max_dij: f64,
}

/// The result of clustering one event: every intermediate momentum and the history of
/// merges (2n steps for n particles).
#[derive(Debug, Clone)]
pub struct ClusterSequence {
    definition: JetDefinition,
    n_inputs: usize,
    momenta: Vec<Particle>,
    /// The history step that made each momentum.
    step_of: Vec<usize>,
    history: Vec<Step>,
}

impl ClusterSequence {
    /// The sequence before any merge: one history step per input particle.
    pub(super) fn of_inputs(particles: &[Particle], definition: &JetDefinition) -> ClusterSequence {
        let n = particles.len();
        let mut seq = ClusterSequence {
            definition: *definition,
            n_inputs: n,
            momenta: Vec::with_capacity(2 * n),
            step_of: Vec::with_capacity(2 * n),
            history: Vec::with_capacity(2 * n),
        };
        for (i, p) in particles.iter().enumerate() {
            seq.momenta.push(*p);
            seq.step_of.push(i);
            seq.history.push(Step {
                parent1: NONE,
                parent2: NONE,
                jet: i,
                dij: 0.0,
                max_dij: 0.0,
            });
        }
        seq
    }

    /// The definition the event was clustered with.
    pub fn definition(&self) -> &JetDefinition {
        &self.definition
    }

    /// The number of input particles.
    pub fn n_particles(&self) -> usize {
        self.n_inputs
    }

    /// The momentum with index `i` (an input particle or an intermediate jet).
    pub(crate) fn momentum(&self, i: usize) -> Particle {
        self.momenta[i]
    }

    /// Records the E-scheme merge of momenta `i` and `j` at distance `dij` (already divided
    /// by R²); returns the index of the new momentum.
    pub(crate) fn merge(&mut self, i: usize, j: usize, dij: f64) -> usize {
        let k = self.momenta.len();
        self.momenta.push(self.momenta[i] + self.momenta[j]);
        self.step_of.push(self.history.len());
        let (a, b) = (self.step_of[i], self.step_of[j]);
        self.push_step(a.min(b), a.max(b), k, dij);
        k
    }

    /// Records that momentum `i` became a jet (merged with the beam) at distance `dib`.
    pub(crate) fn merge_with_beam(&mut self, i: usize, dib: f64) {
        self.push_step(self.step_of[i], BEAM, NONE, dib);
    }

    fn push_step(&mut self, parent1: usize, parent2: usize, jet: usize, dij: f64) {
        let before = self.history.last().map_or(0.0, |s| s.max_dij);
        self.history.push(Step {
            parent1,
            parent2,
            jet,
            dij,
            max_dij: before.max(dij),
        });
    }

    /// Jets merged with the beam whose transverse momentum is at least `ptmin`, hardest first.
    pub fn inclusive_jets(&self, ptmin: f64) -> Vec<Jet> {
        let mut jets: Vec<Jet> = self
            .history
            .iter()
            .filter(|s| s.parent2 == BEAM)
            .map(|s| self.jet_at(s.parent1))
            .filter(|j| j.momentum.pt2() >= ptmin * ptmin)
            .collect();
        sort_by_pt(&mut jets);
        jets
    }

    /// The event clustered to exactly `n` jets (kT or C/A make these meaningful), hardest
    /// first; an error if `n` exceeds the number of particles.
    pub fn exclusive_jets(&self, n: usize) -> Result<Vec<Jet>> {
        if n > self.n_inputs {
            return Err(Error::invalid(
                "number of exclusive jets",
                format!("{n} is more than the {} particles", self.n_inputs),
            ));
        }
        Ok(self.jets_before(2 * self.n_inputs - n))
    }

    /// The jets left when every merge with d > `dcut` is undone, hardest first; `dcut` must
    /// be finite and >= 0.
    pub fn exclusive_jets_dcut(&self, dcut: f64) -> Result<Vec<Jet>> {
        Ok(self.jets_before(2 * self.n_inputs - self.n_exclusive_jets(dcut)?))
    }

    /// The number of jets left when every merge with d > `dcut` is undone; `dcut` must be
    /// finite and >= 0.
    pub fn n_exclusive_jets(&self, dcut: f64) -> Result<usize> {
        if !(dcut.is_finite() && dcut >= 0.0) {
            return Err(Error::invalid(
                "dcut",
                format!("{dcut} (must be finite and >= 0)"),
            ));
        }
        let kept = self
            .history
            .iter()
            .rposition(|s| s.max_dij <= dcut)
            .map_or(0, |i| i + 1);
        Ok(2 * self.n_inputs - kept.max(self.n_inputs))
    }

    /// The distance of the merge that takes the event from `n + 1` to `n` exclusive jets
    /// (0 when there are at most `n` particles).
    pub fn exclusive_dmerge(&self, n: usize) -> f64 {
        if n >= self.n_inputs {
            return 0.0;
        }
        self.history[2 * self.n_inputs - n - 1].dij
    }

    /// The jets present just before history step `stop`: the parents, from before `stop`, of
    /// the steps from `stop` on.
    fn jets_before(&self, stop: usize) -> Vec<Jet> {
        let mut jets = Vec::new();
        for s in &self.history[stop..] {
            for parent in [s.parent1, s.parent2] {
                if parent < stop {
                    jets.push(self.jet_at(parent));
                }
            }
        }
        sort_by_pt(&mut jets);
        jets
    }

    fn jet_at(&self, step: usize) -> Jet {
        Jet {
            momentum: self.momenta[self.history[step].jet],
            step,
        }
    }

    /// An error unless `jet` is one of this sequence's jets.
    fn check_jet(&self, jet: &Jet) -> Result<()> {
        let ours = self
            .history
            .get(jet.step)
            .and_then(|s| self.momenta.get(s.jet))
            .is_some_and(|p| *p == jet.momentum);
        if ours {
            Ok(())
        } else {
            Err(Error::invalid(
                "jet",
                "it does not belong to this cluster sequence",
            ))
        }
    }

    /// Indices (into the clustered particles) of `jet`'s constituents, in increasing order.
    pub fn constituent_indices(&self, jet: &Jet) -> Result<Vec<usize>> {
        self.check_jet(jet)?;
        let mut out = Vec::new();
        let mut stack = vec![jet.step];
        while let Some(step) = stack.pop() {
            let s = &self.history[step];
            if s.parent1 == NONE {
                out.push(s.jet);
            } else {
                stack.push(s.parent1);
                if s.parent2 < BEAM {
                    stack.push(s.parent2);
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// The four-momenta of `jet`'s constituents, in input order.
    pub fn constituents(&self, jet: &Jet) -> Result<Vec<Particle>> {
        Ok(self
            .constituent_indices(jet)?
            .into_iter()
            .map(|i| self.momenta[i])
            .collect())
    }

    /// `jet` undone into `n` subjets along this sequence's own history (the latest merges
    /// undone first), hardest first; an error if `jet` has fewer than `n` constituents or
    /// `n` is 0.
    pub fn exclusive_subjets(&self, jet: &Jet, n: usize) -> Result<Vec<Jet>> {
        self.check_jet(jet)?;
        if n == 0 {
            return Err(Error::invalid("number of subjets", "0 (must be >= 1)"));
        }
        let mut open = std::collections::BTreeSet::from([jet.step]);
        while open.len() < n {
            let Some(&last) = open.last() else { break };
            let s = self.history[last];
            if s.parent1 == NONE {
                let have = self.constituent_indices(jet)?.len();
                return Err(Error::invalid(
                    "number of subjets",
                    format!("{n} is more than the jet's {have} constituents"),
                ));
            }
            open.pop_last();
            open.insert(s.parent1);
            open.insert(s.parent2);
        }
        let mut jets: Vec<Jet> = open.into_iter().map(|s| self.jet_at(s)).collect();
        sort_by_pt(&mut jets);
        Ok(jets)
    }
}

/// Sorts jets hardest (largest pT) first.
fn sort_by_pt(jets: &mut [Jet]) {
    jets.sort_by(|a, b| b.momentum.pt2().total_cmp(&a.momentum.pt2()));
}

#[cfg(test)]
mod tests {
    use std::f64::consts::TAU;

    use rand::RngExt;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;

    use super::super::cluster::{cluster, cluster_events};
    use super::super::{plain, tiled};
    use super::*;

    fn event(seed: u64, n: usize) -> Vec<Particle> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                // Two hard clusters and a soft background.
                let (eta0, phi0, scale) = match i % 3 {
                    0 => (0.3, 1.0, 100.0),
                    1 => (-0.8, 4.0, 60.0),
                    _ => (0.0, 3.0, 1.0),
                };
                let spread = if i % 3 == 2 { 3.0 } else { 0.6 };
                let pt = scale * rng.random::<f64>() + 0.1;
                let eta = eta0 + spread * (rng.random::<f64>() - 0.5);
                let phi = phi0 + spread * (rng.random::<f64>() - 0.5);
                Particle::from_pt_eta_phi(pt, eta, phi).unwrap()
            })
            .collect()
    }

    /// Inclusive jets by comparing every pair at every step (the definition, slowly).
    fn brute_force(particles: &[Particle], def: &JetDefinition) -> Vec<Particle> {
        let mut active: Vec<Particle> = particles.to_vec();
        let mut jets = Vec::new();
        while !active.is_empty() {
            let scale = |p: &Particle| def.algorithm.scale(p.pt2());
            let mut best = (f64::INFINITY, 0, None);
            for i in 0..active.len() {
                let dib = scale(&active[i]);
                if dib < best.0 {
                    best = (dib, i, None);
                }
                for j in 0..i {
                    let dij = scale(&active[i]).min(scale(&active[j]))
                        * active[i].delta_r2(&active[j])
                        / (def.r * def.r);
                    if dij < best.0 {
                        best = (dij, i, Some(j));
                    }
                }
            }
            let (_, i, j) = best;
            let p = active.swap_remove(i);
            match j {
                None => jets.push(p),
                Some(j) => {
                    let j = if j == active.len() { i } else { j };
                    active[j] = active[j] + p;
                }
            }
        }
        jets.sort_by(|a, b| b.pt2().total_cmp(&a.pt2()));
        jets
    }

    fn assert_same(ours: &[Jet], reference: &[Particle]) {
        assert_eq!(ours.len(), reference.len());
        for (a, b) in ours.iter().zip(reference) {
            let a = a.momentum;
            for (x, y) in [(a.px, b.px), (a.py, b.py), (a.pz, b.pz), (a.e, b.e)] {
                assert!((x - y).abs() <= 1e-9 * b.e, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn every_algorithm_matches_the_all_pairs_definition() {
        for (seed, algorithm, r) in [
            (1, Algorithm::AntiKt, 0.4),
            (2, Algorithm::AntiKt, 1.0),
            (3, Algorithm::Kt, 0.7),
            (4, Algorithm::CambridgeAachen, 1.0),
            (5, Algorithm::Kt, 1.5),
        ] {
            let particles = event(seed, 90);
            let def = JetDefinition { algorithm, r };
            let seq = cluster(&particles, &def).unwrap();
            assert_same(&seq.inclusive_jets(0.0), &brute_force(&particles, &def));
            // Every particle ends up in exactly one inclusive jet.
            let mut all: Vec<usize> = seq
                .inclusive_jets(0.0)
                .iter()
                .flat_map(|j| seq.constituent_indices(j).unwrap())
                .collect();
            all.sort_unstable();
            assert_eq!(all, (0..particles.len()).collect::<Vec<_>>());
        }
    }

    /// Events that reach every path of the tiled search: `n` particles spread over the whole
    /// rapidity range, a dense core (tiles of many jets), particles on both sides of the
    /// φ = 0 seam, and a few far forward.
    fn spread_event(seed: u64, n: usize) -> Vec<Particle> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let u = |rng: &mut Xoshiro256PlusPlus| rng.random::<f64>() - 0.5;
                let pt = 50.0 * rng.random::<f64>().powi(4) + 0.01;
                let (eta, phi) = match i % 5 {
                    0 => (0.05 * u(&mut rng), 2.0 + 0.05 * u(&mut rng)),
                    1 => (3.0 * u(&mut rng), 0.02 * u(&mut rng)),
                    2 => (6.0 + 2.0 * rng.random::<f64>(), TAU * rng.random::<f64>()),
                    _ => (9.0 * u(&mut rng), TAU * rng.random::<f64>()),
                };
                Particle::from_pt_eta_phi(pt, eta, phi).unwrap()
            })
            .collect()
    }

    #[test]
    fn both_loops_give_the_same_history() {
        let mut cases = vec![
            (event(12, 25), Algorithm::AntiKt, 0.8),
            (event(13, 200), Algorithm::Kt, 0.8),
            (event(14, 120), Algorithm::CambridgeAachen, 0.8),
            (event(15, 700), Algorithm::AntiKt, 1.0),
        ];
        for (seed, n) in [(20, 60), (21, 700), (22, 1500)] {
            for algorithm in [Algorithm::AntiKt, Algorithm::Kt, Algorithm::CambridgeAachen] {
                for r in [0.4, 1.0, 3.0, MAX_R] {
                    cases.push((spread_event(seed, n), algorithm, r));
                }
            }
        }
        for (particles, algorithm, r) in cases {
            let def = JetDefinition { algorithm, r };
            let mut a = ClusterSequence::of_inputs(&particles, &def);
            let mut b = a.clone();
            plain::run(&mut a);
            tiled::run(&mut b);
            // Pairwise merges come in the same order; merges with the beam may tie (C/A gives
            // every jet d_iB = 1), so those are compared as a set.
            let case = format!("{algorithm:?}, R = {r}, {} particles", particles.len());
            assert!(a.momenta == b.momenta, "{case}: momenta differ");
            let merges = |s: &ClusterSequence| {
                let pairs: Vec<_> = s
                    .history
                    .iter()
                    .filter(|h| h.parent2 < BEAM)
                    .map(|h| (h.parent1, h.parent2, h.dij))
                    .collect();
                let mut beam: Vec<_> = s
                    .history
                    .iter()
                    .filter(|h| h.parent2 == BEAM)
                    .map(|h| h.parent1)
                    .collect();
                beam.sort_unstable();
                (pairs, beam)
            };
            assert!(merges(&a) == merges(&b), "{case}: histories differ");
        }
    }

    #[test]
    fn exclusive_jets_partition_the_event_and_follow_dcut() {
        // With R large enough that nothing merges with the beam early, the exclusive jets
        // hold the whole event.
        let particles = event(7, 40);
        let seq = cluster(
            &particles,
            &JetDefinition {
                algorithm: Algorithm::Kt,
                r: MAX_R,
            },
        )
        .unwrap();
        let total = particles.iter().fold(Particle::default(), |a, p| a + *p);
        for n in 1..=particles.len() {
            let jets = seq.exclusive_jets(n).unwrap();
            assert_eq!(jets.len(), n);
            let sum = jets.iter().fold(Particle::default(), |a, j| a + j.momentum);
            assert!((sum.e - total.e).abs() < 1e-9 * total.e);
            // Cutting just below the merge that makes n jets out of n + 1 leaves n + 1 jets.
            if n < particles.len() {
                let d = seq.exclusive_dmerge(n);
                assert_eq!(seq.n_exclusive_jets(d).unwrap(), n);
                assert_eq!(
                    seq.exclusive_jets_dcut(d * (1.0 - 1e-12)).unwrap().len(),
                    n + 1
                );
            }
        }
        assert!(seq.exclusive_jets(41).is_err());
        assert!(seq.n_exclusive_jets(f64::NAN).is_err());
    }

    #[test]
    fn subjets_undo_the_latest_merges() {
        let particles = event(8, 60);
        let seq = cluster(
            &particles,
            &JetDefinition {
                algorithm: Algorithm::Kt,
                r: 1000.0,
            },
        )
        .unwrap();
        let jet = seq.exclusive_jets(1).unwrap()[0];
        // With one jet holding everything, its subjets are the exclusive jets.
        for n in 1..5 {
            let sub = seq.exclusive_subjets(&jet, n).unwrap();
            let excl = seq.exclusive_jets(n).unwrap();
            assert_eq!(sub, excl);
        }
        assert!(seq.exclusive_subjets(&jet, 61).is_err());
        assert!(seq.exclusive_subjets(&jet, 0).is_err());
    }

    #[test]
    fn bad_definitions_and_particles_are_errors() {
        let p = event(9, 3);
        for r in [0.0, -1.0, f64::NAN, 1001.0] {
            let def = JetDefinition {
                algorithm: Algorithm::AntiKt,
                r,
            };
            assert!(cluster(&p, &def).is_err(), "R = {r}");
        }
        let def = JetDefinition {
            algorithm: Algorithm::AntiKt,
            r: 0.4,
        };
        let mut bad = p.clone();
        bad[1].e = f64::NAN;
        let err = cluster_events(&[p.clone(), bad], &def)
            .unwrap_err()
            .to_string();
        assert!(err.contains("particle 1 of event 1"), "{err}");
        let other = cluster(&event(10, 5), &def).unwrap();
        let jet = other.inclusive_jets(0.0)[0];
        let seq = cluster(&p, &def).unwrap();
        assert!(seq.constituents(&jet).is_err());
    }

    #[test]
    fn empty_and_single_particle_events() {
        let def = JetDefinition {
            algorithm: Algorithm::AntiKt,
            r: 1.0,
        };
        let seq = cluster(&[], &def).unwrap();
        assert!(seq.inclusive_jets(0.0).is_empty());
        let one = event(11, 1);
        let seq = cluster(&one, &def).unwrap();
        let jets = seq.inclusive_jets(0.0);
        assert_eq!(jets.len(), 1);
        assert_eq!(jets[0].momentum, one[0]);
        assert!(seq.inclusive_jets(1e9).is_empty());
    }
}
