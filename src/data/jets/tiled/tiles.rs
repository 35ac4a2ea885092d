//! The jets of each tile, stored contiguously in rapidity order, the neighbour searches
//! within them, and per-tile bounds that let an offer skip tiles.

use std::cmp::Ordering;

use super::grid::{Grid, NONE, closer};
use crate::data::jets::momentum::delta_r2;

/// A tile with at most this many jets is looked through in full, without a binary search.
const FEW: usize = 16;

/// A jet in a tile: its rapidity, azimuth and index.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    pub(super) y: f64,
    pub(super) phi: f64,
    pub(super) jet: usize,
}

impl Slot {
    /// Whether this slot comes before jet `jet` at rapidity `y` in a tile.
    pub(super) fn before(&self, y: f64, jet: usize) -> bool {
        self.y < y || (self.y == y && self.jet < jet)
    }
}

/// The active jets by tile, each tile's sorted by rapidity (then index) in a run of slots of
/// its own (`start`, `len` used of `cap`): a neighbour search starts at the jet's rapidity
/// and stops once the rapidity gap alone is too large, so it sees few of a dense tile's jets.
pub(super) struct Tiles {
    pub(super) start: Vec<usize>,
    pub(super) len: Vec<usize>,
    pub(super) cap: Vec<usize>,
    pub(super) slots: Vec<Slot>,
}

impl Tiles {
    /// Tiles holding `jets`, each in tile `tile[i]`, of `n_tiles`.
    pub(super) fn new(n_tiles: usize, tile: &[usize], jets: impl Iterator<Item = Slot>) -> Tiles {
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
    pub(super) fn lay_out(&mut self, want: &[usize]) {
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
    pub(super) fn run(&self, tile: usize) -> std::ops::Range<usize> {
        self.start[tile]..self.start[tile] + self.len[tile]
    }

    /// The slot where jet `jet` at rapidity `y` is, or belongs, in `tile`.
    pub(super) fn position(&self, tile: usize, y: f64, jet: usize) -> usize {
        let slots = &self.slots[self.run(tile)];
        let mut at = slots.partition_point(|s| s.y < y);
        while at < slots.len() && slots[at].before(y, jet) {
            at += 1; // equal rapidities, smaller index
        }
        self.start[tile] + at
    }

    pub(super) fn insert(&mut self, tile: usize, slot: Slot) {
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

    pub(super) fn remove(&mut self, tile: usize, jet: usize, y: f64) {
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
    pub(super) fn nearest_in(
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
    pub(super) fn visit_near_rapidity(
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

/// Bounds that let an offer skip tiles: for each tile, and each row of tiles, at least the
/// largest neighbour distance and at most the smallest kT^2p of its jets.
pub(super) struct Bounds {
    pub(super) reach: Vec<f64>,
    pub(super) least: Vec<f64>,
    pub(super) row_reach: Vec<f64>,
    pub(super) row_least: Vec<f64>,
}

impl Bounds {
    /// The bounds for jets of kT^2p `scale` in tiles `tile` (no neighbours yet).
    pub(super) fn new(grid: &Grid, tile: &[usize], scale: &[f64]) -> Bounds {
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
    pub(super) fn raise(&mut self, tile: usize, row: usize, d: f64) {
        self.reach[tile] = self.reach[tile].max(d);
        self.row_reach[row] = self.row_reach[row].max(d);
    }

    /// A jet in `tile` (of `row`) has kT^2p `scale`.
    pub(super) fn lower(&mut self, tile: usize, row: usize, scale: f64) {
        self.least[tile] = self.least[tile].min(scale);
        self.row_least[row] = self.row_least[row].min(scale);
    }

    /// Brings the rows' bounds to those of their tiles (which tighten as offers see them).
    pub(super) fn tighten(&mut self, nphi: usize) {
        for (row, tiles) in self.row_reach.iter_mut().zip(self.reach.chunks(nphi)) {
            *row = tiles.iter().copied().fold(0.0, f64::max);
        }
        for (row, tiles) in self.row_least.iter_mut().zip(self.least.chunks(nphi)) {
            *row = tiles.iter().copied().fold(f64::INFINITY, f64::min);
        }
    }
}
