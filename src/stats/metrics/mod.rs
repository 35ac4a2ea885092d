//! Performance metrics of a selection: ROC curves and their AUC, the signal efficiency at a
//! fixed background efficiency, significance improvement and SIC, the total improvement over
//! a set of signals, Pearson correlation, and the combination of anomaly scores after mapping
//! each to its CDF on a background reference.
//!
//! Conventions used throughout: a higher score is more signal-like (more anomalous), an event
//! is selected when `score >= threshold`, eps_S is the signal efficiency (true-positive rate)
//! and eps_B the background efficiency (false-positive rate). Labels are 1 for signal and 0
//! for background. Everything is O(n log n) at worst, for score sets of millions of events.

mod combine;
mod improvement;
mod roc;
mod selection;
#[cfg(test)]
mod tests;

pub use self::combine::{Combination, combine, pearson, uniformize};
pub use self::improvement::{Improvement, Spread, significance_improvements, total_improvement};
pub use self::roc::{IMPROVEMENT_EPS_B, Roc, SIC_REGULATOR, SicCurve, eff_at, roc, sic};
pub(crate) use self::selection::check_efficiency;
pub use self::selection::threshold_for_efficiency;
