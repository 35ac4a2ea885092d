//! Statistics: histograms, special functions and p-values, the dijet background fit,
//! BumpHunter with the look-elsewhere effect, the performance metrics of a selection, the
//! Dark Machines evaluation of anomaly scores ([`dark_machines`]), and the calibration of a
//! search's p-values on background-only runs ([`calibration`]).

pub mod bumphunter;
pub mod calibration;
pub mod dark_machines;
pub mod fit;
pub mod hist;
pub mod metrics;
pub mod pvalue;
pub mod quadrature;
pub mod special;
