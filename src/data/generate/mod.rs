//! Synthetic event generators with known truth: the project's default data, since the real
//! LHC Olympics and Dark Machines samples cannot be downloaded here. Their models are written
//! down in `docs/generators.md`.
//!
//! Every generator is deterministic in its seed and independent of the thread count: events
//! are produced in fixed-size chunks, chunk `k` drawing from the stream
//! `seed::stream_seed(seed, k)`.

pub mod darkmachines;
pub mod lhco;

use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::seed::rng_for;

/// Events per chunk of parallel generation.
pub const CHUNK: usize = 16_384;

/// The chunks of `n` events made in parallel: chunk `k` holds `CHUNK.min(n - k * CHUNK)` events
/// made by `chunk(rng, len)` with the random stream `first_stream + k` of `seed`. `interrupt`
/// is polled before each chunk, so Ctrl-C stops a large sample within one chunk's time.
pub fn in_chunks<C: Send>(
    n: usize,
    seed: u64,
    first_stream: u64,
    interrupt: Option<&Interrupt>,
    chunk: impl Fn(&mut Xoshiro256PlusPlus, usize) -> Result<C> + Sync,
) -> Result<Vec<C>> {
    (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|k| {
            if let Some(interrupt) = interrupt {
                interrupt.check()?;
            }
            let mut rng = rng_for(seed, first_stream + k as u64);
            chunk(&mut rng, CHUNK.min(n - k * CHUNK))
        })
        .collect()
}
