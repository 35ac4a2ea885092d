//! Synthetic event generators with known truth: the project's default data, since the real
//! LHC Olympics and Dark Machines samples cannot be downloaded here. Their models are written
//! down in `docs/generators.md`.
//!
//! Every generator is deterministic in its seed and independent of the thread count: events
//! are produced in fixed-size chunks, chunk `k` drawing from the stream
//! `seed::stream_seed(seed, k)`.

pub mod darkmachines;
pub mod lhco;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Events per chunk of parallel generation.
pub const CHUNK: usize = 16_384;

/// The random generator for stream `stream` of `seed`.
pub fn rng_for(seed: u64, stream: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(crate::seed::stream_seed(seed, stream))
}
