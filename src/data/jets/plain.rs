//! The clustering loop for small events, in the order of FastJet's plain N² strategy (which
//! FastJet itself uses for small events), so that equal distances resolve as there: each
//! active jet keeps its geometric nearest neighbour within R and the generalised-kT
//! distance to it (or to the beam); a step takes the first smallest of these in slot order;
//! afterwards only jets whose neighbour was merged look again, and every jet is compared
//! with the new one. A removed jet's slot takes the last one.

use super::momentum::delta_r2;
use super::sequence::ClusterSequence;

/// No neighbour within R.
const NONE: usize = usize::MAX;

/// The active jets, one slot per jet, as parallel arrays.
struct Slots {
    rap: Vec<f64>,
    phi: Vec<f64>,
    /// kT^2p of the jet.
    scale: Vec<f64>,
    /// Index of the jet's momentum in the sequence.
    jet: Vec<usize>,
    /// Slot of the nearest neighbour within R, or NONE.
    nn: Vec<usize>,
    /// ΔR² to the nearest neighbour, R² when none.
    nn_dist: Vec<f64>,
    /// The jet's smallest distance times R².
    d: Vec<f64>,
}

impl Slots {
    fn set(&mut self, slot: usize, seq: &ClusterSequence, jet: usize, r2: f64) {
        let p = seq.momentum(jet);
        self.rap[slot] = p.rapidity();
        self.phi[slot] = p.phi();
        self.scale[slot] = seq.definition().algorithm.scale(p.pt2());
        self.jet[slot] = jet;
        self.nn[slot] = NONE;
        self.nn_dist[slot] = r2;
    }

    fn dist(&self, a: usize, b: usize) -> f64 {
        delta_r2(self.rap[a], self.phi[a], self.rap[b], self.phi[b])
    }

    /// min(kT_a^2p, kT_nn^2p) ΔR², or kT_a^2p R² without a neighbour.
    fn distance(&self, a: usize) -> f64 {
        let nn = self.nn[a];
        let scale = if nn == NONE {
            self.scale[a]
        } else {
            self.scale[a].min(self.scale[nn])
        };
        self.nn_dist[a] * scale
    }

    /// Looks for `a`'s nearest neighbour among slots 0..n afresh.
    fn find_nn(&mut self, a: usize, n: usize, r2: f64) {
        self.nn[a] = NONE;
        self.nn_dist[a] = r2;
        for b in 0..n {
            if b != a {
                let d = self.dist(a, b);
                if d < self.nn_dist[a] {
                    self.nn_dist[a] = d;
                    self.nn[a] = b;
                }
            }
        }
    }

    /// Moves slot `from` into slot `to`.
    fn copy(&mut self, from: usize, to: usize) {
        self.rap[to] = self.rap[from];
        self.phi[to] = self.phi[from];
        self.scale[to] = self.scale[from];
        self.jet[to] = self.jet[from];
        self.nn[to] = self.nn[from];
        self.nn_dist[to] = self.nn_dist[from];
        self.d[to] = self.d[from];
    }
}

/// Clusters the input particles of `seq` to the end, recording every step in it.
pub(crate) fn run(seq: &mut ClusterSequence) {
    let mut n = seq.n_particles();
    let r = seq.definition().r;
    let r2 = r * r;
    let inv_r2 = 1.0 / r2;
    let mut s = Slots {
        rap: vec![0.0; n],
        phi: vec![0.0; n],
        scale: vec![0.0; n],
        jet: vec![0; n],
        nn: vec![NONE; n],
        nn_dist: vec![r2; n],
        d: vec![0.0; n],
    };
    for i in 0..n {
        s.set(i, seq, i, r2);
        for j in 0..i {
            let d = s.dist(i, j);
            if d < s.nn_dist[i] {
                s.nn_dist[i] = d;
                s.nn[i] = j;
            }
            if d < s.nn_dist[j] {
                s.nn_dist[j] = d;
                s.nn[j] = i;
            }
        }
    }
    for i in 0..n {
        s.d[i] = s.distance(i);
    }
    while n > 0 {
        let mut a = 0;
        for i in 1..n {
            if s.d[i] < s.d[a] {
                a = i;
            }
        }
        let dmin = s.d[a] * inv_r2;
        let mut b = s.nn[a];
        if b == NONE {
            seq.merge_with_beam(s.jet[a], dmin);
        } else {
            if a < b {
                std::mem::swap(&mut a, &mut b);
            }
            let k = seq.merge(s.jet[a], s.jet[b], dmin);
            s.set(b, seq, k, r2);
        }
        let tail = n - 1;
        n = tail;
        s.copy(tail, a);
        for i in 0..n {
            if s.nn[i] == a || (b != NONE && s.nn[i] == b) {
                s.find_nn(i, n, r2);
                s.d[i] = s.distance(i);
            }
            if b != NONE && i != b {
                let d = s.dist(i, b);
                if d < s.nn_dist[i] {
                    s.nn_dist[i] = d;
                    s.nn[i] = b;
                    s.d[i] = s.distance(i);
                }
                if d < s.nn_dist[b] {
                    s.nn_dist[b] = d;
                    s.nn[b] = i;
                }
            }
            if s.nn[i] == tail {
                s.nn[i] = a;
            }
        }
        if b != NONE {
            s.d[b] = s.distance(b);
        }
    }
}
