//! A small mutation fuzzer for the robustness tests (`tests/fuzz_*.rs`): random and mutated
//! inputs from a fixed seed, a bounded number of cases, so a CI run is quick and any failure
//! reproduces exactly.
//!
//! `BUMPLAB_FUZZ_CASES` sets the cases per target (default [`DEFAULT_CASES`]) and
//! `BUMPLAB_FUZZ_SEED` the seed (default 0), e.g. for a long local run:
//! `BUMPLAB_FUZZ_CASES=200000 BUMPLAB_FUZZ_SEED=7 cargo test --release --test fuzz_readers`.

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

/// Cases per fuzz target when `BUMPLAB_FUZZ_CASES` is not set.
pub const DEFAULT_CASES: usize = 2000;

/// The number of cases each fuzz target runs.
pub fn cases() -> usize {
    std::env::var("BUMPLAB_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// The seed of every fuzz target's random stream.
pub fn seed() -> u64 {
    std::env::var("BUMPLAB_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Byte values that often sit on a parser's edge cases.
const INTERESTING_BYTES: [u8; 10] = [0, 1, 0x7f, 0x80, 0xff, b'\n', b',', b'"', b'-', b'.'];

/// Integers that often break length and offset arithmetic.
const INTERESTING_WORDS: [u64; 8] = [
    0,
    1,
    0x7f,
    0xff,
    0xffff_ffff,
    0x8000_0000_0000_0000,
    0x4000_0000_0000_0000,
    u64::MAX,
];

/// Random inputs and mutations of seed inputs, from one seeded stream.
pub struct Mutator {
    rng: Xoshiro256PlusPlus,
}

impl Mutator {
    /// A mutator whose stream is `seed` mixed with `target` (so targets draw different cases).
    pub fn new(target: &str) -> Self {
        let mix = target.bytes().fold(seed() ^ 0x9e37_79b9_7f4a_7c15, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Self {
            rng: Xoshiro256PlusPlus::seed_from_u64(mix),
        }
    }

    /// A uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    /// Up to `max_len` random bytes.
    pub fn random_bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.below(max_len + 1);
        (0..len).map(|_| self.rng.random()).collect()
    }

    /// `input` with one to four random edits: bit flips, interesting bytes and integers
    /// written over it, bytes inserted, ranges deleted, duplicated or truncated.
    pub fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..1 + self.below(4) {
            self.edit(&mut out);
        }
        out
    }

    fn edit(&mut self, out: &mut Vec<u8>) {
        if out.is_empty() {
            out.extend(self.random_bytes(16));
            return;
        }
        let at = self.below(out.len());
        match self.below(7) {
            0 => out[at] ^= 1 << self.below(8),
            1 => out[at] = INTERESTING_BYTES[self.below(INTERESTING_BYTES.len())],
            2 => {
                let word = INTERESTING_WORDS[self.below(INTERESTING_WORDS.len())];
                let bytes = if self.below(2) == 0 {
                    word.to_be_bytes()
                } else {
                    word.to_le_bytes()
                };
                let width = [1, 2, 4, 8][self.below(4)];
                let slice = if self.below(2) == 0 {
                    &bytes[8 - width..]
                } else {
                    &bytes[..width]
                };
                for (i, b) in slice.iter().enumerate() {
                    if let Some(slot) = out.get_mut(at + i) {
                        *slot = *b;
                    }
                }
            }
            3 => {
                let insert = self.random_bytes(8);
                out.splice(at..at, insert);
            }
            4 => {
                let end = (at + 1 + self.below(16)).min(out.len());
                out.drain(at..end);
            }
            5 => {
                let end = (at + 1 + self.below(64)).min(out.len());
                let copy = out[at..end].to_vec();
                let to = self.below(out.len() + 1);
                out.splice(to..to, copy);
            }
            _ => out.truncate(at),
        }
    }
}
