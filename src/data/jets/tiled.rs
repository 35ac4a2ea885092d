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

use std::cmp::Ordering;
use std::f64::consts::TAU;

use super::momentum::delta_r2;
use super::sequence::ClusterSequence;

/// No jet (no neighbour within R, the end of a list).
const NONE: usize = usize::MAX;
/// The tiles cover rapidities up to this size; jets beyond it (the beam's 10⁵ included) fall
/// in the open-ended first or last row.
const GRID_RAP: f64 = 10.0;
/// About this many particles per tile on average.
const PER_TILE: f64 = 4.0;
/// A tile with at most this many jets is looked through in full, without a binary search.
const FEW: usize = 16;
/// Taken off every distance from a jet to a tile, so that rounding never skips a tile holding
/// a jet within reach.
const SLACK: f64 = 1e-9;

/// The (rapidity, azimuth) plane cut into `ny` rows (the first and last open-ended) of
/// `nphi` tiles each.
struct Grid {
    /// Lower edge of row 0's finite part, and rows per unit of rapidity.
    y0: f64,
    per_y: f64,
    ny: usize,
    /// Columns per radian (nphi / 2π).
    per_phi: f64,
    nphi: usize,
    /// The edges of the rows (row r spans `row_edge[r]..row_edge[r + 1]`, the first and
    /// last further) and of the columns.
    row_edge: Vec<f64>,
    col_edge: Vec<f64>,
    /// The smaller tile side: a tile k rings away is at least (k - 1) sides away.
    side: f64,
    /// Azimuthal tile offsets -left ..= right reach every column once, each the short way.
    left: usize,
    right: usize,
}

impl Grid {
    /// Tiles for the particles at rapidities `raps`, about [`PER_TILE`] to a tile.
    fn new(raps: &[f64]) -> Grid {
        let lo = raps
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .max(-GRID_RAP);
        let hi = raps
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            .min(GRID_RAP);
        let span = if hi > lo { hi - lo } else { 0.0 };
        let tiles = (raps.len() as f64 / PER_TILE).max(1.0);
        let side = (TAU * span / tiles).sqrt().max(TAU / tiles);
        let nphi = ((TAU / side) as usize).max(1);
        let ny = ((span / side) as usize).max(1);
        let hphi = TAU / nphi as f64;
        let hy = if span > 0.0 { span / ny as f64 } else { hphi };
        let y0 = if span > 0.0 { lo } else { 0.0 };
        let left = (nphi - 1) / 2;
        Grid {
            y0,
            per_y: 1.0 / hy,
            ny,
            per_phi: 1.0 / hphi,
            nphi,
            row_edge: (0..=ny).map(|r| y0 + r as f64 * hy).collect(),
            col_edge: (0..=nphi).map(|c| c as f64 * hphi).collect(),
            side: hy.min(hphi),
            left,
            right: nphi - 1 - left,
        }
    }

    fn n_tiles(&self) -> usize {
        self.ny * self.nphi
    }

    fn row(&self, y: f64) -> usize {
        // (Rounding may put a jet a hair outside its tile; SLACK covers that.)
        let r = (y - self.y0) * self.per_y;
        if r >= (self.ny - 1) as f64 {
            self.ny - 1
        } else if r > 0.0 {
            r as usize // rounds down, as r > 0
        } else {
            0
        }
    }

    fn col(&self, phi: f64) -> usize {
        ((phi * self.per_phi) as usize).min(self.nphi - 1)
    }

    fn tile(&self, y: f64, phi: f64) -> usize {
        self.row(y) * self.nphi + self.col(phi)
    }

    /// Calls `visit(tile, lb)` for the tiles around (y, φ), ring by ring outwards from its
    /// own, where lb is at most the squared distance from (y, φ) to any point of the tile.
    /// `visit` returns how far to go (anew each time); tiles farther than that in rapidity
    /// alone are left out, and the walk stops at the first ring that is.
    #[inline(always)]
    fn walk(&self, y: f64, phi: f64, mut bound: f64, mut visit: impl FnMut(usize, f64) -> f64) {
        let (r, c) = (self.row(y), self.col(phi));
        // How far (y, φ) is from the edges of its tile that have tiles beyond them: ring k is
        // at least that plus k - 1 sides away.
        let mut edge = f64::INFINITY;
        if r > 0 {
            edge = edge.min(y - self.row_edge[r]);
        }
        if r + 1 < self.ny {
            edge = edge.min(self.row_edge[r + 1] - y);
        }
        if self.nphi > 1 {
            edge = edge.min(phi - self.col_edge[c]);
            edge = edge.min(self.col_edge[c + 1] - phi);
        }
        let mut ring_gap = edge.max(0.0) - SLACK - self.side;
        let last = r.max(self.ny - 1 - r).max(self.right);
        for ring in 0..=last {
            if ring > 0 {
                ring_gap += self.side;
                let gap = ring_gap.max(0.0);
                if gap * gap > bound {
                    return;
                }
            }
            let (lo, hi) = (r.saturating_sub(ring), (r + ring).min(self.ny - 1));
            for row in lo..=hi {
                let gy = if row == r { 0.0 } else { self.row_gap(row, y) };
                if gy * gy > bound {
                    continue;
                }
                let mut tile = |dc: isize, bound: &mut f64| {
                    // |dc| < nphi: one turn at most.
                    let col = c as isize + dc;
                    let nphi = self.nphi as isize;
                    let col = if col < 0 {
                        col + nphi
                    } else if col >= nphi {
                        col - nphi
                    } else {
                        col
                    } as usize;
                    let gphi = if dc == 0 { 0.0 } else { self.phi_gap(phi, col) };
                    *bound = visit(row * self.nphi + col, gy * gy + gphi * gphi);
                };
                if row + ring == r || row == r + ring {
                    // A row `ring` rows away: every column within `ring`.
                    let (cl, ch) = (ring.min(self.left) as isize, ring.min(self.right) as isize);
                    for dc in -cl..=ch {
                        tile(dc, &mut bound);
                    }
                } else {
                    // A row closer by: the two columns `ring` away.
                    if ring <= self.left {
                        tile(-(ring as isize), &mut bound);
                    }
                    if ring <= self.right {
                        tile(ring as isize, &mut bound);
                    }
                }
            }
        }
    }

    /// Rapidity distance from `y` to row `row`, less [`SLACK`] (0 inside it).
    fn row_gap(&self, row: usize, y: f64) -> f64 {
        let below = if row > 0 { self.row_edge[row] - y } else { 0.0 };
        let above = if row + 1 < self.ny {
            y - self.row_edge[row + 1]
        } else {
            0.0
        };
        (below.max(above) - SLACK).max(0.0)
    }

    /// Azimuthal distance from `phi` to the nearer edge of column `col` (not its own), the
    /// shorter way round, less [`SLACK`].
    fn phi_gap(&self, phi: f64, col: usize) -> f64 {
        let mut up = self.col_edge[col] - phi;
        if up < 0.0 {
            up += TAU;
        }
        let mut down = phi - self.col_edge[col + 1];
        if down < 0.0 {
            down += TAU;
        }
        (up.min(down) - SLACK).max(0.0)
    }
}

/// A jet in a tile: its rapidity, azimuth and index.
#[derive(Debug, Clone, Copy)]
struct Slot {
    y: f64,
    phi: f64,
    jet: usize,
}

impl Slot {
    /// Whether this slot comes before jet `jet` at rapidity `y` in a tile.
    fn before(&self, y: f64, jet: usize) -> bool {
        self.y < y || (self.y == y && self.jet < jet)
    }
}

/// The active jets by tile, each tile's sorted by rapidity (then index) in a run of slots of
/// its own (`start`, `len` used of `cap`): a neighbour search starts at the jet's rapidity
/// and stops once the rapidity gap alone is too large, so it sees few of a dense tile's jets.
struct Tiles {
    start: Vec<usize>,
    len: Vec<usize>,
    cap: Vec<usize>,
    slots: Vec<Slot>,
}

impl Tiles {
    /// Tiles holding `jets`, each in tile `tile[i]`, of `n_tiles`.
    fn new(n_tiles: usize, tile: &[usize], jets: impl Iterator<Item = Slot>) -> Tiles {
        let mut len = vec![0; n_tiles];
        for &t in tile {
            len[t] += 1;
        }
        let mut tiles = Tiles {
            start: Vec::new(),
            len: vec![0; n_tiles],
            cap: Vec::new(),
            slots: Vec::new(),
        };
        tiles.lay_out(&len);
        for (slot, &t) in jets.zip(tile) {
            let at = tiles.start[t] + tiles.len[t];
            tiles.slots[at] = slot;
            tiles.len[t] += 1;
        }
        for t in 0..n_tiles {
            let run = tiles.run(t);
            tiles.slots[run].sort_unstable_by(|a, b| {
                if a.before(b.y, b.jet) {
                    Ordering::Less
                } else if b.before(a.y, a.jet) {
                    Ordering::Greater
                } else {
                    Ordering::Equal
                }
            });
        }
        tiles
    }

    /// Gives each tile room for `want[t]` jets and some more, keeping the jets it holds.
    fn lay_out(&mut self, want: &[usize]) {
        let mut at = 0;
        let (old_start, old_slots) = (
            std::mem::take(&mut self.start),
            std::mem::take(&mut self.slots),
        );
        self.cap.clear();
        for &n in want {
            self.start.push(at);
            self.cap.push(n + n / 4 + 2);
            at += n + n / 4 + 2;
        }
        let empty = Slot {
            y: 0.0,
            phi: 0.0,
            jet: NONE,
        };
        self.slots = vec![empty; at];
        for (t, &from) in old_start.iter().enumerate() {
            let n = self.len[t];
            let to = self.start[t];
            self.slots[to..to + n].copy_from_slice(&old_slots[from..from + n]);
        }
    }

    /// The slots of `tile` in use.
    fn run(&self, tile: usize) -> std::ops::Range<usize> {
        self.start[tile]..self.start[tile] + self.len[tile]
    }

    /// The slot where jet `jet` at rapidity `y` is, or belongs, in `tile`.
    fn position(&self, tile: usize, y: f64, jet: usize) -> usize {
        let slots = &self.slots[self.run(tile)];
        let mut at = slots.partition_point(|s| s.y < y);
        while at < slots.len() && slots[at].before(y, jet) {
            at += 1; // equal rapidities, smaller index
        }
        self.start[tile] + at
    }

    fn insert(&mut self, tile: usize, slot: Slot) {
        if self.len[tile] == self.cap[tile] {
            let mut want = self.len.clone();
            want[tile] += 1;
            self.lay_out(&want);
        }
        let at = self.position(tile, slot.y, slot.jet);
        let end = self.start[tile] + self.len[tile];
        self.slots.copy_within(at..end, at + 1);
        self.slots[at] = slot;
        self.len[tile] += 1;
    }

    fn remove(&mut self, tile: usize, jet: usize, y: f64) {
        let at = self.position(tile, y, jet);
        debug_assert_eq!(self.slots[at].jet, jet);
        let end = self.start[tile] + self.len[tile];
        self.slots.copy_within(at + 1..end, at);
        self.len[tile] -= 1;
    }

    /// The nearest jet in `tile` other than `a` to (y, φ) that beats `best` (see [`closer`]):
    /// from where rapidity `y` belongs upwards and downwards, each way up to the first jet
    /// whose rapidity gap alone is too large (all jets of a tile of [`FEW`] or fewer).
    /// `split`, if known, is where `y` belongs.
    fn nearest_in(
        &self,
        tile: usize,
        a: usize,
        (y, phi): (f64, f64),
        best: (f64, usize),
        split: Option<usize>,
    ) -> (f64, usize) {
        let slots = &self.slots[self.run(tile)];
        let (Some(lowest), Some(highest)) = (slots.first(), slots.last()) else {
            return best;
        };
        let gap = (lowest.y - y).max(y - highest.y);
        if gap > 0.0 && gap * gap > best.0 {
            return best; // every jet here is too far in rapidity alone
        }
        let mut found = best;
        let try_jet = |found: &mut (f64, usize), s: &Slot| {
            let d = delta_r2(y, phi, s.y, s.phi);
            if d <= found.0 && closer(d, s.jet, found.0, found.1) && s.jet != a {
                *found = (d, s.jet);
            }
        };
        if slots.len() <= FEW {
            for s in slots {
                try_jet(&mut found, s);
            }
            return found;
        }
        let split = split.unwrap_or_else(|| slots.partition_point(|s| s.y < y));
        let (below, above) = slots.split_at(split);
        for s in above {
            let dy = s.y - y;
            if dy * dy > found.0 {
                break;
            }
            try_jet(&mut found, s);
        }
        for s in below.iter().rev() {
            let dy = y - s.y;
            if dy * dy > found.0 {
                break;
            }
            try_jet(&mut found, s);
        }
        found
    }

    /// Calls `visit(slot)` for the slots of `tile` from the one where rapidity `y` belongs
    /// upwards, and from the one below it downwards, each way up to the first whose rapidity
    /// gap squared exceeds `limit`; for every slot if the tile holds [`FEW`] jets or fewer.
    /// Returns whether it saw every slot.
    fn visit_near_rapidity(
        &self,
        tile: usize,
        y: f64,
        limit: f64,
        mut visit: impl FnMut(&Slot),
    ) -> bool {
        let slots = &self.slots[self.run(tile)];
        if slots.len() <= FEW {
            slots.iter().for_each(visit);
            return true;
        }
        let (below, above) = slots.split_at(slots.partition_point(|s| s.y < y));
        let within = |s: &&Slot| (s.y - y) * (s.y - y) <= limit;
        let up = above
            .iter()
            .take_while(within)
            .inspect(|s| visit(s))
            .count();
        let down = below.iter().rev().take_while(within).count();
        below[below.len() - down..].iter().for_each(&mut visit);
        up == above.len() && down == below.len()
    }
}

/// The active jet with the smallest distance (the smaller index among equals): a tournament
/// tree over one leaf per active jet, each node holding the smallest key below it. A key is
/// the distance (mapped to an integer in the order of `f64::total_cmp`) and the jet index;
/// an empty leaf holds [`Tournament::EMPTY`].
struct Tournament {
    leaves: usize,
    node: Vec<u128>,
}

impl Tournament {
    const EMPTY: u128 = u128::MAX;

    /// A tree of `size` empty leaves.
    fn new(size: usize) -> Tournament {
        let leaves = size.next_power_of_two().max(2);
        Tournament {
            leaves,
            node: vec![Self::EMPTY; 2 * leaves],
        }
    }

    /// The key of jet `jet` at distance `d`.
    fn key(jet: usize, d: f64) -> u128 {
        let bits = d.to_bits() as i64;
        // total_cmp's order: negative numbers have their magnitude bits flipped.
        let ordered = (bits ^ (((bits >> 63) as u64) >> 1) as i64) as u64 ^ (1 << 63);
        (u128::from(ordered) << 64) | jet as u128
    }

    /// Puts `key` in `leaf` and replays the matches above it while their outcome changes.
    fn set(&mut self, leaf: usize, key: u128) {
        let mut i = self.leaves + leaf;
        self.node[i] = key;
        while i > 1 {
            i /= 2;
            let best = self.node[2 * i].min(self.node[2 * i + 1]);
            if self.node[i] == best {
                break;
            }
            self.node[i] = best;
        }
    }

    /// The jet with the smallest key.
    fn first(&self) -> Option<usize> {
        (self.node[1] != Self::EMPTY).then_some(self.node[1] as u64 as usize)
    }
}

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

/// Whether `d` to jet `j` beats the best so far (`best` to `nn`): closer, or as close with a
/// smaller index (but never at R² or beyond).
fn closer(d: f64, j: usize, best: f64, nn: usize) -> bool {
    d < best || (d == best && j < nn && nn != NONE)
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

/// Bounds that let an offer skip tiles: for each tile, and each row of tiles, at least the
/// largest neighbour distance and at most the smallest kT^2p of its jets.
struct Bounds {
    reach: Vec<f64>,
    least: Vec<f64>,
    row_reach: Vec<f64>,
    row_least: Vec<f64>,
}

impl Bounds {
    /// The bounds for jets of kT^2p `scale` in tiles `tile` (no neighbours yet).
    fn new(grid: &Grid, tile: &[usize], scale: &[f64]) -> Bounds {
        let mut b = Bounds {
            reach: vec![0.0; grid.n_tiles()],
            least: vec![f64::INFINITY; grid.n_tiles()],
            row_reach: vec![0.0; grid.ny],
            row_least: vec![f64::INFINITY; grid.ny],
        };
        for (&t, &s) in tile.iter().zip(scale) {
            b.lower(t, t / grid.nphi, s);
        }
        b
    }

    /// A jet in `tile` (of `row`) has neighbour distance `d`.
    fn raise(&mut self, tile: usize, row: usize, d: f64) {
        self.reach[tile] = self.reach[tile].max(d);
        self.row_reach[row] = self.row_reach[row].max(d);
    }

    /// A jet in `tile` (of `row`) has kT^2p `scale`.
    fn lower(&mut self, tile: usize, row: usize, scale: f64) {
        self.least[tile] = self.least[tile].min(scale);
        self.row_least[row] = self.row_least[row].min(scale);
    }

    /// Brings the rows' bounds to those of their tiles (which tighten as offers see them).
    fn tighten(&mut self, nphi: usize) {
        for (row, tiles) in self.row_reach.iter_mut().zip(self.reach.chunks(nphi)) {
            *row = tiles.iter().copied().fold(0.0, f64::max);
        }
        for (row, tiles) in self.row_least.iter_mut().zip(self.least.chunks(nphi)) {
            *row = tiles.iter().copied().fold(f64::INFINITY, f64::min);
        }
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
