//! A tournament tree giving the active jet with the smallest distance.

/// The active jet with the smallest distance (the smaller index among equals): a tournament
/// tree over one leaf per active jet, each node holding the smallest key below it. A key is
/// the distance (mapped to an integer in the order of `f64::total_cmp`) and the jet index;
/// an empty leaf holds [`Tournament::EMPTY`].
pub(super) struct Tournament {
    pub(super) leaves: usize,
    pub(super) node: Vec<u128>,
}

impl Tournament {
    pub(super) const EMPTY: u128 = u128::MAX;

    /// A tree of `size` empty leaves.
    pub(super) fn new(size: usize) -> Tournament {
        let leaves = size.next_power_of_two().max(2);
        Tournament {
            leaves,
            node: vec![Self::EMPTY; 2 * leaves],
        }
    }

    /// The key of jet `jet` at distance `d`.
    pub(super) fn key(jet: usize, d: f64) -> u128 {
        let bits = d.to_bits() as i64;
        // total_cmp's order: negative numbers have their magnitude bits flipped.
        let ordered = (bits ^ (((bits >> 63) as u64) >> 1) as i64) as u64 ^ (1 << 63);
        (u128::from(ordered) << 64) | jet as u128
    }

    /// Puts `key` in `leaf` and replays the matches above it while their outcome changes.
    pub(super) fn set(&mut self, leaf: usize, key: u128) {
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
    pub(super) fn first(&self) -> Option<usize> {
        (self.node[1] != Self::EMPTY).then_some(self.node[1] as u64 as usize)
    }
}
