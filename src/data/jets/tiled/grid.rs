//! The (rapidity, azimuth) plane cut into tiles sized by the particle density, the walk over
//! rings of tiles outwards from a point, and the tie rule of every neighbour search.

use std::f64::consts::TAU;

/// No jet (no neighbour within R, the end of a list).
pub(super) const NONE: usize = usize::MAX;
/// The tiles cover rapidities up to this size; jets beyond it (the beam's 10⁵ included) fall
/// in the open-ended first or last row.
const GRID_RAP: f64 = 10.0;
/// About this many particles per tile on average.
const PER_TILE: f64 = 4.0;

/// Taken off every distance from a jet to a tile, so that rounding never skips a tile holding
/// a jet within reach.
pub(super) const SLACK: f64 = 1e-9;

/// The (rapidity, azimuth) plane cut into `ny` rows (the first and last open-ended) of
/// `nphi` tiles each.
pub(super) struct Grid {
    /// Lower edge of row 0's finite part, and rows per unit of rapidity.
    pub(super) y0: f64,
    pub(super) per_y: f64,
    pub(super) ny: usize,
    /// Columns per radian (nphi / 2π).
    pub(super) per_phi: f64,
    pub(super) nphi: usize,
    /// The edges of the rows (row r spans `row_edge[r]..row_edge[r + 1]`, the first and
    /// last further) and of the columns.
    pub(super) row_edge: Vec<f64>,
    pub(super) col_edge: Vec<f64>,
    /// The smaller tile side: a tile k rings away is at least (k - 1) sides away.
    pub(super) side: f64,
    /// Azimuthal tile offsets -left ..= right reach every column once, each the short way.
    pub(super) left: usize,
    pub(super) right: usize,
}

impl Grid {
    /// Tiles for the particles at rapidities `raps`, about [`PER_TILE`] to a tile.
    pub(super) fn new(raps: &[f64]) -> Grid {
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

    pub(super) fn n_tiles(&self) -> usize {
        self.ny * self.nphi
    }

    pub(super) fn row(&self, y: f64) -> usize {
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

    pub(super) fn col(&self, phi: f64) -> usize {
        ((phi * self.per_phi) as usize).min(self.nphi - 1)
    }

    pub(super) fn tile(&self, y: f64, phi: f64) -> usize {
        self.row(y) * self.nphi + self.col(phi)
    }

    /// Calls `visit(tile, lb)` for the tiles around (y, φ), ring by ring outwards from its
    /// own, where lb is at most the squared distance from (y, φ) to any point of the tile.
    /// `visit` returns how far to go (anew each time); tiles farther than that in rapidity
    /// alone are left out, and the walk stops at the first ring that is.
    #[inline(always)]
    pub(super) fn walk(
        &self,
        y: f64,
        phi: f64,
        mut bound: f64,
        mut visit: impl FnMut(usize, f64) -> f64,
    ) {
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
    pub(super) fn row_gap(&self, row: usize, y: f64) -> f64 {
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
    pub(super) fn phi_gap(&self, phi: f64, col: usize) -> f64 {
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

/// Whether `d` to jet `j` beats the best so far (`best` to `nn`): closer, or as close with a
/// smaller index (but never at R² or beyond).
pub(super) fn closer(d: f64, j: usize, best: f64, nn: usize) -> bool {
    d < best || (d == best && j < nn && nn != NONE)
}
