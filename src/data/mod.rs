//! Events: the columnar `EventSet`, synthetic generators with known truth, readers and
//! writers, object-level layouts and encodings, scalers and binning helpers.

pub mod darkmachines;
pub mod encode;
pub mod generate;
pub mod lhco_h5;
pub mod objects;

/// Named numeric columns of equal length: what generators and readers produce before the
/// columns become an `EventSet`.
pub type NamedColumns = Vec<(String, Vec<f64>)>;
