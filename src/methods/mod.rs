//! The papers' workflows, assembled from the data, statistics and neural layers: each goes
//! from an event set to a result with local and look-elsewhere-aware significances.
//!
//! - [`cwola`]: CWoLa hunting (seed 002 §4.1).
//! - [`inputs`]: the events in a mass range as standardised feature rows.
//! - [`salad`]: SALAD, DCTR-reweighted simulation against data (seed 004).
//! - [`salad_report`]: SALAD's table and closure figures (seed 004 Figs. 4–7, 9).
//! - [`regions`]: sliding signal regions and sidebands, CWoLa's sideband weights.
//! - [`window_test`]: the sideband fit and local p-value every resonant search ends with.
//! - [`cwola_report`]: the hunt's summary table and figures.

pub mod cwola;
pub mod cwola_report;
pub(crate) mod inputs;
pub mod regions;
pub mod salad;
pub mod salad_report;
pub mod window_test;
