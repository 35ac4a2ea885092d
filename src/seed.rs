//! Reproducible random streams derived from the session seed.
//!
//! The session holds one [`SeedSequence`]. Every random operation (a generator, a shuffle, a
//! network initialisation, a batch of pseudo-experiments) asks it for a fresh stream seed with
//! [`SeedSequence::next_stream`]. The streams depend only on the session seed and on the order of
//! the requests, so a script run twice with the same `seed(n)` produces the same numbers, and
//! two operations never share a stream.

use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use crate::error::{Error, Result};

/// The session's seed and the number of streams handed out since it was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedSequence {
    seed: u64,
    issued: u64,
}

/// The seed a new session starts with, so that even a script that never calls `seed(n)` is
/// reproducible.
pub const DEFAULT_SEED: u64 = 20_200_101;

impl Default for SeedSequence {
    fn default() -> Self {
        Self::new(DEFAULT_SEED)
    }
}

impl SeedSequence {
    /// A sequence starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { seed, issued: 0 }
    }

    /// The seed the sequence was started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Restarts the sequence from `seed`: the streams handed out next repeat those handed out
    /// after any earlier restart with the same seed.
    pub fn reseed(&mut self, seed: u64) {
        *self = Self::new(seed);
    }

    /// The seed of the next independent random stream.
    pub fn next_stream(&mut self) -> u64 {
        self.issued += 1;
        stream_seed(self.seed, self.issued)
    }
}

/// The seed of stream number `index` derived from `seed`: two rounds of the splitmix64
/// finaliser, so that neighbouring seeds and indices give unrelated streams. Parallel loops use
/// it to give each task (each pseudo-experiment, each ensemble member) its own stream, which
/// makes results independent of the number of threads.
pub fn stream_seed(seed: u64, index: u64) -> u64 {
    splitmix64(splitmix64(seed) ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03))
}

/// The random generator for stream `stream` of `seed` (see [`stream_seed`]).
pub fn rng_for(seed: u64, stream: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, stream))
}

/// A k-fold partition of `n` events, shared by event sets (`EventSet::kfold`) and ensembles
/// (`MemberData::k_folds`): the events in a seeded random order, cut into k consecutive
/// parts of sizes differing by at most one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KFolds {
    order: Vec<u32>,
    bounds: Vec<usize>,
}

impl KFolds {
    /// The partition of `n` events into `k` folds with the order drawn from `seed`. `what`
    /// names the option in the error when `k` is not between 2 and `n`.
    pub fn new(n: usize, k: usize, seed: u64, what: &str) -> Result<Self> {
        if k < 2 || k > n {
            return Err(Error::invalid(
                what,
                format!("k = {k} needs 2 <= k <= the number of events ({n})"),
            ));
        }
        if u32::try_from(n).is_err() {
            return Err(Error::invalid(
                what,
                format!("{n} events are more than a k-fold split indexes (2^32)"),
            ));
        }
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
        let bounds = (0..=k).map(|i| i * n / k).collect();
        Ok(Self { order, bounds })
    }

    /// The events of fold `i`.
    pub fn fold(&self, i: usize) -> &[u32] {
        &self.order[self.bounds[i]..self.bounds[i + 1]]
    }

    /// The events of every fold but `i`, in the partition's order.
    pub fn others(&self, i: usize) -> Vec<u32> {
        [
            &self.order[..self.bounds[i]],
            &self.order[self.bounds[i + 1]..],
        ]
        .concat()
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_folds_partition_the_events_reproducibly() {
        let folds = KFolds::new(23, 4, 9, "folds").unwrap();
        let mut seen = [0; 23];
        for i in 0..4 {
            let n = folds.fold(i).len();
            assert!(n == 5 || n == 6, "{n}");
            for &e in folds.fold(i) {
                seen[e as usize] += 1;
                assert!(!folds.others(i).contains(&e));
            }
            assert_eq!(folds.others(i).len() + n, 23);
        }
        assert!(seen.iter().all(|&c| c == 1));
        assert_eq!(folds, KFolds::new(23, 4, 9, "folds").unwrap());
        assert_ne!(folds, KFolds::new(23, 4, 10, "folds").unwrap());
        for (n, k) in [(5, 1), (3, 4)] {
            let err = KFolds::new(n, k, 0, "kfold").unwrap_err().to_string();
            assert!(err.contains("kfold") && err.contains("2 <= k"), "{err}");
        }
    }

    #[test]
    fn same_seed_same_streams() {
        let mut a = SeedSequence::new(7);
        let mut b = SeedSequence::new(7);
        let sa: Vec<u64> = (0..5).map(|_| a.next_stream()).collect();
        let sb: Vec<u64> = (0..5).map(|_| b.next_stream()).collect();
        assert_eq!(sa, sb);
    }

    #[test]
    fn reseeding_restarts_the_sequence() {
        let mut a = SeedSequence::new(7);
        let first = a.next_stream();
        a.next_stream();
        a.reseed(7);
        assert_eq!(a.next_stream(), first);
        a.reseed(8);
        assert_ne!(a.next_stream(), first);
    }

    #[test]
    fn streams_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..50 {
            for index in 0..50 {
                assert!(seen.insert(stream_seed(seed, index)));
            }
        }
    }
}
