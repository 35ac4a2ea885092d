//! Events: the columnar `EventSet`, synthetic generators with known truth, readers and
//! writers, object-level layouts and encodings, scalers and binning helpers.

pub mod binning;
pub mod blosc;
pub mod condition;
pub mod darkmachines;
pub mod describe;
pub mod encode;
pub mod eventset;
pub mod generate;
pub mod input;
pub mod io;
pub mod jets;
pub mod lazy;
pub mod lhco_features;
pub mod lhco_h5;
pub mod lhco_jets;
pub mod objects;
pub mod result_table;
pub mod scaler;

pub use eventset::{EventSet, Fold, Role, Roles};

/// Named numeric columns of equal length: what generators and readers produce before the
/// columns become an `EventSet`.
pub type NamedColumns = Vec<(String, Vec<f64>)>;
