//! The clustering loop. Each active jet keeps its geometric nearest neighbour within R and
//! its generalised-kT distance: to that neighbour, or to the beam when none is within R. A
//! step takes the smallest of these (the smallest d_ij of an event is always between a jet
//! and its geometric nearest neighbour, so this is the all-pairs minimum); afterwards only
//! jets whose neighbour was merged look again, and jets are compared with the new one.
//!
//! Used for events larger than [`super::plain`] handles. Active jets are kept sorted by
//! rapidity, so a neighbour search walks outwards from the
//! jet and stops once the rapidity gap alone exceeds the best distance so far: in the dense
//! core of a jet a search looks at a handful of particles instead of the whole event. The
//! smallest distance comes from a priority queue with lazy deletion.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::cluster::ClusterSequence;
use super::momentum::delta_r2;

/// No neighbour within R.
const NONE: usize = usize::MAX;

/// Per-jet state, indexed by the jet's momentum index in the sequence.
struct State {
    rap: Vec<f64>,
    phi: Vec<f64>,
    /// kT^2p of the jet.
    scale: Vec<f64>,
    /// Nearest neighbour within R, or NONE.
    nn: Vec<usize>,
    /// ΔR² to the nearest neighbour, R² when none.
    nn_dist: Vec<f64>,
    /// The jet's smallest distance times R².
    d: Vec<f64>,
    /// The active jets, sorted by (rapidity, index).
    order: Vec<usize>,
    /// Whether each jet is active.
    active: Vec<bool>,
    /// How often each jet's distance was set; a queue entry with an older count is stale.
    version: Vec<u32>,
    /// Jets by distance, smallest first (stale entries are skipped when they surface).
    queue: BinaryHeap<Reverse<Entry>>,
    r2: f64,
}

/// A queue entry: a jet's distance when it was set, the jet, and its version then.
#[derive(Debug, Clone, Copy)]
struct Entry(f64, usize, u32);

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

impl State {
    fn dist(&self, a: usize, b: usize) -> f64 {
        delta_r2(self.rap[a], self.phi[a], self.rap[b], self.phi[b])
    }

    /// Where `id` is, or belongs, in `order`.
    fn position(&self, id: usize) -> usize {
        let key = (self.rap[id], id);
        self.order
            .partition_point(|&j| self.rap[j].total_cmp(&key.0).then(j.cmp(&key.1)).is_lt())
    }

    fn insert(&mut self, id: usize) {
        let at = self.position(id);
        self.order.insert(at, id);
        self.active[id] = true;
    }

    fn remove(&mut self, id: usize) {
        let at = self.position(id);
        debug_assert_eq!(self.order[at], id);
        self.order.remove(at);
        self.active[id] = false;
    }

    /// Sets jet `a`'s distance from its neighbour and queues it.
    fn set_distance(&mut self, a: usize) {
        self.d[a] = self.distance(a);
        self.version[a] = self.version[a].wrapping_add(1);
        self.queue
            .push(Reverse(Entry(self.d[a], a, self.version[a])));
    }

    /// The active jet with the smallest distance (the smaller index among equals).
    fn smallest(&mut self) -> Option<usize> {
        while let Some(Reverse(Entry(_, id, version))) = self.queue.pop() {
            if self.active[id] && self.version[id] == version {
                return Some(id);
            }
        }
        None
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

    /// Finds `a`'s nearest active neighbour within R afresh, walking outwards in rapidity.
    fn find_nn(&mut self, a: usize) {
        let at = self.position(a);
        let (best, nn) = self.closest_along(a, &self.order[at + 1..], (self.r2, NONE));
        let (best, nn) = self.closest_along(a, self.order[..at].iter().rev(), (best, nn));
        self.nn[a] = nn;
        self.nn_dist[a] = best;
        self.set_distance(a);
    }

    /// The closest of `side` (jets in rapidity order, walking away from `a`) to `a` if closer
    /// than `found` (a squared distance and its jet); the walk stops once the rapidity gap
    /// alone is too large.
    fn closest_along<'o>(
        &self,
        a: usize,
        side: impl IntoIterator<Item = &'o usize>,
        found: (f64, usize),
    ) -> (f64, usize) {
        let (mut best, mut nn) = found;
        for &j in side {
            let dy = self.rap[j] - self.rap[a];
            if dy * dy >= best {
                break;
            }
            let d = self.dist(a, j);
            if d < best {
                best = d;
                nn = j;
            }
        }
        (best, nn)
    }

    /// Jets within R in rapidity of the new jet `k` take it as neighbour if it is closer.
    fn offer(&mut self, k: usize) {
        let at = self.position(k);
        let rap = self.rap[k];
        let check = |s: &mut State, j: usize| -> bool {
            let dy = s.rap[j] - rap;
            if dy * dy >= s.r2 {
                return false;
            }
            if dy * dy < s.nn_dist[j] {
                let d = s.dist(j, k);
                if d < s.nn_dist[j] {
                    s.nn_dist[j] = d;
                    s.nn[j] = k;
                    s.set_distance(j);
                }
            }
            true
        };
        let mut i = at + 1;
        while i < self.order.len() && check(self, self.order[i]) {
            i += 1;
        }
        let mut i = at;
        while i > 0 && check(self, self.order[i - 1]) {
            i -= 1;
        }
    }

    /// Sets up jet `id` (momentum index) from the sequence.
    fn load(&mut self, seq: &ClusterSequence, id: usize) {
        let p = seq.momentum(id);
        self.rap[id] = p.rapidity();
        self.phi[id] = p.phi();
        self.scale[id] = seq.definition().algorithm.scale(p.pt2());
    }
}

/// Clusters the input particles of `seq` to the end, recording every step in it.
pub(crate) fn run(seq: &mut ClusterSequence) {
    let n = seq.n_particles();
    if n == 0 {
        return;
    }
    let r = seq.definition().r;
    let r2 = r * r;
    let inv_r2 = 1.0 / r2;
    let size = 2 * n;
    let mut s = State {
        rap: vec![0.0; size],
        phi: vec![0.0; size],
        scale: vec![0.0; size],
        nn: vec![NONE; size],
        nn_dist: vec![r2; size],
        d: vec![0.0; size],
        order: (0..n).collect(),
        active: (0..size).map(|i| i < n).collect(),
        version: vec![0; size],
        queue: BinaryHeap::with_capacity(4 * n),
        r2,
    };
    for i in 0..n {
        s.load(seq, i);
    }
    s.order
        .sort_by(|&a, &b| s.rap[a].total_cmp(&s.rap[b]).then(a.cmp(&b)));
    for i in 0..n {
        s.find_nn(i);
    }
    let mut again = Vec::new();
    while let Some(a) = s.smallest() {
        let dmin = s.d[a] * inv_r2;
        let b = s.nn[a];
        s.remove(a);
        let k = if b == NONE {
            seq.merge_with_beam(a, dmin);
            NONE
        } else {
            s.remove(b);
            let k = seq.merge(a, b, dmin);
            s.load(seq, k);
            s.insert(k);
            s.find_nn(k);
            k
        };
        again.clear();
        again.extend(
            s.order
                .iter()
                .copied()
                .filter(|&i| s.nn[i] == a || (b != NONE && s.nn[i] == b)),
        );
        if k != NONE {
            s.offer(k);
        }
        for &i in &again {
            s.find_nn(i);
        }
    }
}
