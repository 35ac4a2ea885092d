//! The names a notebook or a program needs most, for `use bumplab::prelude::*;`.
//!
//! ```no_run
//! use bumplab::prelude::*;
//! # fn main() -> bumplab::Result<()> {
//! let events = EventSet::from_columns(lhco_toy(&LhcoToyOptions {
//!     background: 100_000,
//!     signal: 1_000,
//!     ..LhcoToyOptions::default()
//! })?)?;
//! let data = Hist1D::from_events(&events, "mjj", linear_bins(2800.0, 7000.0, 42)?)?;
//! let fit = fit_dijet_hist(&data, &FitOptions::default())?;
//! let reference = fit.prediction(data.edges())?;
//! let bh = bump_hunter(&data, &reference, &BumpHunterOptions::default(), None)?;
//! println!("{bh}");
//! # Ok(())
//! # }
//! ```

pub use crate::data::EventSet;
pub use crate::data::binning::{linear_bins, log_bins};
pub use crate::data::describe::describe;
pub use crate::data::generate::darkmachines::{DarkMachinesToyOptions, darkmachines_toy};
pub use crate::data::generate::lhco::{LhcoToyOptions, lhco_toy};
pub use crate::error::{Error, Result};
pub use crate::methods::cwola::{CwolaOptions, Rescaling, cwola_hunt};
pub use crate::methods::salad::{SaladOptions, salad};
pub use crate::plot::{
    BumpPlotOptions, Curve, CurveOptions, HistOptions, plot_bumphunter, plot_curves, plot_hists,
};
pub use crate::stats::bumphunter::{
    BackgroundModel, BumpHunterOptions, bump_hunter, bump_hunter_refit, reference_of,
};
pub use crate::stats::fit::{FamilyOptions, FitOptions, Function, fit_dijet_hist, fit_family_hist};
pub use crate::stats::hist::{Hist1D, Hist2D};
pub use crate::stats::metrics::{roc, sic};
