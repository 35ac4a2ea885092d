//! The clustering loop for events larger than [`super::plain`] handles. Each active jet keeps
//! its geometric nearest neighbour within R and its generalised-kT distance: to that
//! neighbour, or to the beam when none is within R. A step takes the smallest of these (the
//! smallest d_ij of an event is always between a jet and its geometric nearest neighbour, so
//! this is the all-pairs minimum).
//!
//! The searches use FastJet's tiling idea with tiles sized by the particle density rather
//! than by R: the (rapidity, azimuth) plane is cut into tiles of a few particles on average,
//! each tile's jets stored contiguously. A neighbour search walks rings of tiles outwards
//! from the jet's own, skipping tiles farther than the best distance so far and stopping at
//! the first ring that is (φ wraps around), so its cost follows the neighbour's distance, not
//! R (R = 1000 for the N-subjettiness axes). After a merge only the jets that had a merged
//! jet as neighbour look again (each jet's followers are kept in a list), and not even those
//! whom the new jet is closer to than their old neighbour was (no other jet can be); the new
//! jet is offered to the jets within R of it, skipping tiles whose jets all have closer
//! neighbours (each tile keeps a bound on its jets' neighbour distances). The smallest
//! distance comes from a tournament tree.
//!
//! Ties: a jet's neighbour is the closest one, the smaller index among equally close ones; a
//! step takes the smallest distance, the smaller index among equals. Both depend on the event
//! alone, not on the tiling.

mod grid;
mod tiles;
mod tournament;

use self::grid::{Grid, NONE, SLACK, closer};
use self::tiles::{Bounds, Slot, Tiles};
use self::tournament::Tournament;
use super::momentum::delta_r2;
use super::sequence::ClusterSequence;

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
    /// The jet's distance times R²; for a stale jet, at most what it will be.
    d: Vec<f64>,
    /// Whether the jet lost its neighbour and has not looked for another yet (see
    /// [`State::orphan`]).
    stale: Vec<bool>,
    /// The followers of jet x (the jets whose neighbour it is) start at `first[x]` and go on
    /// through `next` (`prev` goes back), within the list of the jet's neighbour.
    first: Vec<usize>,
    next: Vec<usize>,
    prev: Vec<usize>,
    grid: Grid,
    /// Each jet's tile.
    tile: Vec<usize>,
    tiles: Tiles,
    bounds: Bounds,
    queue: Tournament,
    /// Each jet's leaf in `queue`: input i has leaf i, a jet made by a merge takes the leaf
    /// of the first of its parents.
    leaf: Vec<usize>,
    r2: f64,
}

impl State {
    /// The state for the input particles of `seq`, placed in their tiles, without neighbours.
    fn new(seq: &ClusterSequence) -> State {
        let n = seq.n_particles();
        let size = 2 * n;
        let r2 = seq.definition().r * seq.definition().r;
        let mut rap = vec![0.0; size];
        let mut phi = vec![0.0; size];
        let mut scale = vec![0.0; size];
        for i in 0..n {
            (rap[i], phi[i], scale[i]) = kinematics(seq, i);
        }
        let grid = Grid::new(&rap[..n]);
        let mut tile = vec![NONE; size];
        for i in 0..n {
            tile[i] = grid.tile(rap[i], phi[i]);
        }
        let slots = (0..n).map(|i| Slot {
            y: rap[i],
            phi: phi[i],
            jet: i,
        });
        let tiles = Tiles::new(grid.n_tiles(), &tile[..n], slots);
        let bounds = Bounds::new(&grid, &tile[..n], &scale[..n]);
        State {
            rap,
            phi,
            scale,
            nn: vec![NONE; size],
            nn_dist: vec![r2; size],
            d: vec![0.0; size],
            stale: vec![false; size],
            first: vec![NONE; size],
            next: vec![NONE; size],
            prev: vec![NONE; size],
            bounds,
            grid,
            tile,
            tiles,
            queue: Tournament::new(n),
            leaf: (0..size).map(|i| if i < n { i } else { NONE }).collect(),
            r2,
        }
    }

    fn dist(&self, a: usize, b: usize) -> f64 {
        delta_r2(self.rap[a], self.phi[a], self.rap[b], self.phi[b])
    }

    /// Adds the jet made by a merge, `k`, to its tile (to the tile's bounds in
    /// [`State::offer`]).
    fn add(&mut self, seq: &ClusterSequence, k: usize) {
        (self.rap[k], self.phi[k], self.scale[k]) = kinematics(seq, k);
        self.tile[k] = self.grid.tile(self.rap[k], self.phi[k]);
        let slot = Slot {
            y: self.rap[k],
            phi: self.phi[k],
            jet: k,
        };
        self.tiles.insert(self.tile[k], slot);
    }

    /// Makes `b` (or NONE) jet `a`'s neighbour at squared distance `d`, and queues `a`'s
    /// distance: min(kT_a^2p, kT_b^2p) d, or kT_a^2p R² without a neighbour.
    fn set_nn(&mut self, a: usize, b: usize, d: f64) {
        self.unfollow(a);
        let scale = if b == NONE {
            self.scale[a]
        } else {
            let first = self.first[b];
            self.next[a] = first;
            self.prev[a] = NONE;
            if first != NONE {
                self.prev[first] = a;
            }
            self.first[b] = a;
            self.scale[a].min(self.scale[b])
        };
        self.nn[a] = b;
        self.nn_dist[a] = d;
        self.stale[a] = false;
        self.bounds
            .raise(self.tile[a], self.tile[a] / self.grid.nphi, d);
        self.d[a] = d * scale;
        self.queue.set(self.leaf[a], Tournament::key(a, self.d[a]));
    }

    /// Takes `a` off its neighbour's list of followers.
    fn unfollow(&mut self, a: usize) {
        let nn = self.nn[a];
        if nn == NONE {
            return;
        }
        let (prev, next) = (self.prev[a], self.next[a]);
        if prev == NONE {
            self.first[nn] = next;
        } else {
            self.next[prev] = next;
        }
        if next != NONE {
            self.prev[next] = prev;
        }
        self.nn[a] = NONE;
    }

    /// The nearest active jet to `a` that beats `best` (see [`closer`]); `at`, if known, is
    /// `a`'s slot in its tile.
    fn find_nn(
        &self,
        a: usize,
        (mut best, mut nn): (f64, usize),
        at: Option<usize>,
    ) -> (f64, usize) {
        let (y, phi) = (self.rap[a], self.phi[a]);
        let (t, own) = (&self.tiles, self.tile[a]);
        self.grid.walk(y, phi, best, |tile, lb| {
            if lb <= best {
                let split = if tile == own { at } else { None };
                (best, nn) = t.nearest_in(tile, a, (y, phi), (best, nn), split);
            }
            best
        });
        (best, nn)
    }

    /// Takes jet `a` out of the search (but not out of the queue); adds its followers, who
    /// have no neighbour now, to `orphans` (their `nn_dist` still holds the distance to `a`).
    fn remove(&mut self, a: usize, orphans: &mut Vec<usize>) {
        self.tiles.remove(self.tile[a], a, self.rap[a]);
        self.unfollow(a);
        let mut j = self.first[a];
        while j != NONE {
            orphans.push(j);
            self.nn[j] = NONE;
            j = self.next[j];
        }
        self.first[a] = NONE;
    }

    /// Jets that lost their neighbour: those that the new jet `k` (if any) is closer to than
    /// their old neighbour take it (every other jet they need to know was at least as far as
    /// the old neighbour); the others become stale. Returns the nearest of them to `k` (a
    /// start for k's own search).
    fn orphan(&mut self, orphans: &[usize], k: usize) -> (f64, usize) {
        let mut nearest = (self.r2, NONE);
        for &j in orphans {
            if k != NONE {
                let d = self.dist(j, k);
                if closer(d, j, nearest.0, nearest.1) {
                    nearest = (d, j);
                }
                if d < self.nn_dist[j] {
                    self.set_nn(j, k, d);
                    continue;
                }
            }
            // A jet needs only the jets of kT^2p at least its own (see `offer`), and all of
            // those were at least as far as its old neighbour: its distance will be at least
            // kT^2p times that. It looks again only if that bound comes first in the queue;
            // most jets are merged by others before.
            self.stale[j] = true;
            self.d[j] = self.nn_dist[j] * self.scale[j];
            self.queue.set(self.leaf[j], Tournament::key(j, self.d[j]));
        }
        nearest
    }

    /// The new jet `k` finds its neighbour (one that beats `start`, a jet near it), and
    /// becomes the neighbour of the jets it is
    /// closer to than theirs whose kT^2p is at most its own (for a jet of larger kT^2p, k's
    /// own distance to its neighbour is at most their pair's distance, so it can go on
    /// without k). Tiles where no jet could take k are skipped, and within a tile the jets
    /// farther in rapidity than that; a tile seen in full has its bounds set to what its jets
    /// have now.
    fn offer(&mut self, k: usize, start: (f64, usize), taken: &mut Vec<usize>) {
        let found = self.find_nn(k, start, None);
        let (y, phi, scale) = (self.rap[k], self.phi[k], self.scale[k]);
        taken.clear();
        let (grid, b) = (&self.grid, &mut self.bounds);
        let (t, scales, nn_dist) = (&self.tiles, &self.scale, &mut self.nn_dist);
        // No jet's neighbour is as far as R (the rows a hair farther in case of rounding).
        let (c, reach_most) = (grid.col(phi), self.r2.sqrt() + SLACK);
        for row in grid.row(y - reach_most)..=grid.row(y + reach_most) {
            let gy = grid.row_gap(row, y);
            if b.row_least[row] > scale || gy * gy >= b.row_reach[row] {
                continue;
            }
            for col in 0..grid.nphi {
                let tile = row * grid.nphi + col;
                let gphi = if col == c {
                    0.0
                } else {
                    grid.phi_gap(phi, col)
                };
                let reach = b.reach[tile];
                if b.least[tile] > scale || gy * gy + gphi * gphi >= reach {
                    continue;
                }
                let (mut most, mut least) = (0.0, f64::INFINITY);
                let whole = t.visit_near_rapidity(tile, y, reach, |s| {
                    let j = s.jet;
                    if j != k {
                        if scales[j] <= scale {
                            let d = delta_r2(s.y, s.phi, y, phi);
                            if d < nn_dist[j] {
                                nn_dist[j] = d;
                                taken.push(j);
                            }
                        }
                        most = nn_dist[j].max(most);
                    }
                    least = scales[j].min(least);
                });
                if whole {
                    b.reach[tile] = most;
                    b.least[tile] = least;
                }
            }
        }
        for &j in taken.iter() {
            self.set_nn(j, k, self.nn_dist[j]);
        }
        // Only now, so that the offer does not count k among the jets it may go to.
        let tile = self.tile[k];
        self.bounds.lower(tile, tile / self.grid.nphi, scale);
        self.set_nn(k, found.1, found.0);
    }
}

/// Rapidity, azimuth and kT^2p of momentum `id` of the sequence. A rapidity that is not a
/// number (E = -|pz| along the beam) becomes +∞: its distances are +∞ instead of NaN, and
/// neither is ever within R, but the rapidities stay ordered.
fn kinematics(seq: &ClusterSequence, id: usize) -> (f64, f64, f64) {
    let p = seq.momentum(id);
    let scale = seq.definition().algorithm.scale(p.pt2());
    let y = p.rapidity();
    (if y.is_nan() { f64::INFINITY } else { y }, p.phi(), scale)
}

/// Clusters the input particles of `seq` to the end, recording every step in it.
pub(crate) fn run(seq: &mut ClusterSequence) {
    let n = seq.n_particles();
    if n == 0 {
        return;
    }
    let inv_r2 = 1.0 / (seq.definition().r * seq.definition().r);
    let mut s = State::new(seq);
    // Tile by tile, each jet's search starting from its own slot.
    let mut found = Vec::with_capacity(n);
    for tile in 0..s.grid.n_tiles() {
        let run = s.tiles.run(tile);
        for (at, slot) in s.tiles.slots[run].iter().enumerate() {
            found.push((slot.jet, s.find_nn(slot.jet, (s.r2, NONE), Some(at))));
        }
    }
    for (i, (d, nn)) in found {
        s.set_nn(i, nn, d);
    }
    let mut orphans = Vec::new();
    let mut taken = Vec::new();
    let mut steps = 0usize;
    while let Some(a) = s.queue.first() {
        if s.stale[a] {
            let (d, nn) = s.find_nn(a, (s.r2, NONE), None);
            s.set_nn(a, nn, d);
            continue;
        }
        let dmin = s.d[a] * inv_r2;
        let b = s.nn[a];
        orphans.clear();
        s.remove(a, &mut orphans);
        if b == NONE {
            s.queue.set(s.leaf[a], Tournament::EMPTY);
            seq.merge_with_beam(a, dmin);
            s.orphan(&orphans, NONE);
        } else {
            s.remove(b, &mut orphans);
            s.queue.set(s.leaf[b], Tournament::EMPTY);
            orphans.retain(|&j| j != a && j != b);
            let k = seq.merge(a, b, dmin);
            // a's leaf still holds a's key; k's replaces it before the queue is asked again.
            s.leaf[k] = s.leaf[a];
            s.add(seq, k);
            let start = s.orphan(&orphans, k);
            s.offer(k, start, &mut taken);
        }
        steps += 1;
        if steps.is_multiple_of(16) {
            s.bounds.tighten(s.grid.nphi);
        }
    }
}
