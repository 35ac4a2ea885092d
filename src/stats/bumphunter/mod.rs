//! BumpHunter, as pyBumpHunter 0.5 (scikit-hep `BumpHunter1D`/`BumpHunter2D`) defines it:
//! windows of several widths slide over the histogram, each gets the local Poisson p-value
//! of the data over the reference, the most significant window is the bump, and
//! pseudo-experiments drawn from the reference turn its local p-value into a global one that
//! accounts for the look-elsewhere effect.
//!
//! A window whose reference is empty is never a bump (p = 1): a zero prediction is not a
//! discovery, however many events it holds.
//!
//! Speed: the reference is the same in every pseudo-experiment, so each window's p-value
//! depends only on its integer data count. Before the pseudo-experiments, every window gets
//! the smallest count (largest, for deficits) at least as extreme as the data's best window;
//! a pseudo-experiment is then a few hundred integer comparisons on prefix sums of Poisson
//! draws taken from precomputed inverse-CDF tables. Pseudo-experiments run in parallel in
//! fixed blocks, block `k` drawing from stream `k` of the seed, so the result does not depend
//! on the number of threads.

mod display;
mod injection;
mod options;
mod pseudo;
mod refit;
mod result;
mod scan;
mod scan2d;
#[cfg(test)]
mod tests;
mod windows;

pub use self::injection::{InjectionOptions, InjectionPoint, InjectionResult, signal_injection};
pub use self::options::{BumpHunterOptions, Mode, P_FLOOR, ScanStep};
pub use self::pseudo::global_statistics;
pub use self::refit::{BackgroundModel, bump_hunter_refit, reference_of};
pub use self::result::{BumpHunterResult, RefitSummary};
pub use self::scan::bump_hunter;
pub use self::scan2d::{BumpHunter2DOptions, BumpHunter2DResult, bump_hunter_2d};
pub use self::windows::{local_p, signed_significance};
