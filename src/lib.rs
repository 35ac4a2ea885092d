//! bumplab: an interactive lab for model-agnostic searches for new physics at the LHC.
//!
//! The library is the product: the `bumplab` binary (REPL, script runner) is a thin front end
//! over it, and notebooks use it directly. See `docs/ARCHITECTURE.md` for the map of modules.

// `!(a < b)` is how the numerics reject NaN along with wrong orderings; keep it.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
#![warn(missing_docs)]

pub mod batch;
pub mod data;
pub mod display;
pub mod error;
pub mod fsutil;
pub mod interrupt;
pub mod kernel;
pub mod memory;
pub mod methods;
pub mod nn;
pub mod plot;
pub mod prelude;
pub mod progress;
pub mod repl;
pub mod script;
pub mod seed;
pub mod slurm;
pub mod stats;

pub use error::{Error, Result};
