//! Statistics: histograms, special functions and p-values, the dijet background fit,
//! BumpHunter with the look-elsewhere effect, and the performance metrics of a selection.

pub mod bumphunter;
pub mod fit;
pub mod hist;
pub mod metrics;
pub mod pvalue;
pub mod quadrature;
pub mod special;
