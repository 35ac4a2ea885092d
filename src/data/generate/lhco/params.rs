//! The parameters of the LHC-Olympics-like model (every value is in `docs/generators.md`), the
//! output columns and the random streams of the generator.

/// The output columns, in order.
pub const COLUMNS: [&str; 9] = [
    "mjj", "mj1", "mj2", "tau21_1", "tau21_2", "tau32_1", "tau32_2", "dmj", "label",
];

/// The largest number of events (background plus signal) one call may generate.
pub const MAX_EVENTS: usize = 10_000_000;

/// The smallest `mz`, `mx` or `my` accepted (GeV): below it the jet-mass resolution's constant
/// term (8 GeV) would swamp the peak.
pub const MIN_SIGNAL_MASS: f64 = 10.0;

/// Centre-of-mass energy in GeV: the scale of the dijet function's `x` and the upper bound of
/// `mz`.
pub(super) const SQRT_S: f64 = 13_000.0;

/// Exponents `p1`, `p2`, `p3` of the two dijet-function components of the background `mjj`
/// spectrum: a steeper, gluon-gluon-like one and a harder, quark-gluon-like one. Their sum is
/// not a member of the four-parameter family the hunts fit (see `background_mjj_density`).
pub(super) const DIJET_COMPONENTS: [[f64; 3]; 2] = [[13.0, 4.4, 0.3], [7.0, 3.6, 0.3]];
/// The two components have equal density at this `mjj` (GeV).
pub(super) const COMPONENT_PIVOT: f64 = 3_500.0;
/// Midpoint of the logistic trigger turn-on in `mjj` (GeV).
pub(super) const TURN_ON_MID: f64 = 2_500.0;
/// Width of the logistic trigger turn-on (GeV).
pub(super) const TURN_ON_WIDTH: f64 = 25.0;
/// Range of the background `mjj` (GeV).
pub(super) const MJJ_RANGE: (f64, f64) = (1_500.0, 9_000.0);
/// Number of cells of the inverse-CDF table of background `mjj`.
pub(super) const MJJ_CELLS: usize = 8_192;

/// Median QCD jet mass (GeV) at `mjj` = [`COMPONENT_PIVOT`]; it grows as
/// `mjj^QCD_MASS_MJJ_POWER` (the Pythia sample: 156 GeV at 2.75 TeV, 164 GeV at 5.25 TeV).
pub(super) const QCD_MASS_MEDIAN: f64 = 165.0;
/// Power of `mjj` with which the median QCD jet mass grows.
pub(super) const QCD_MASS_MJJ_POWER: f64 = 0.07;
/// The [`LhcoToyOptions::mj_mjj_power`](super::LhcoToyOptions::mj_mjj_power) that makes the
/// QCD jet masses proportional to `mjj` (the median's power becomes 1 and the truncation a
/// fixed fraction of `mjj`).
pub const MJ_PROPORTIONAL_POWER: f64 = 1.0 - QCD_MASS_MJJ_POWER;
/// Standard deviation of the QCD `ln m_J` (before the truncation).
pub(super) const QCD_MASS_LOG_SIGMA: f64 = 0.85;
/// Largest QCD jet mass as a fraction of `mjj` (the log-normal is truncated there).
pub(super) const QCD_MASS_MAX_FRACTION: f64 = 0.23;
/// Jet mass (GeV) at which the QCD N-subjettiness means below are quoted.
pub(super) const TAU_MASS_PIVOT: f64 = 150.0;
/// QCD `tau21`: mean at [`TAU_MASS_PIVOT`], its change per unit of `ln(m_J / pivot)`, the
/// standard deviation at fixed mass, and the range the mean is clamped to.
pub(super) const QCD_TAU21: (f64, f64, f64, (f64, f64)) = (0.547, -0.186, 0.21, (0.15, 0.95));
/// QCD `tau32`: as [`QCD_TAU21`].
pub(super) const QCD_TAU32: (f64, f64, f64, (f64, f64)) = (0.752, -0.103, 0.158, (0.4, 1.0));
/// Correlation of `tau32` with `tau21` within a jet at fixed mass (the Pythia QCD jets: -0.30;
/// without it the common fall with mass would make the two positively correlated).
pub(super) const TAU_CORRELATION: f64 = -0.3;
/// Upper end of every N-subjettiness ratio: with soft radiation `tau2` can exceed `tau1` (5 % of
/// the Pythia QCD jets have `tau21 > 1`).
pub(super) const TAU_MAX: f64 = 1.5;

/// Relative Gaussian resolution of the signal `mjj` core.
pub(super) const SIGNAL_MJJ_RESOLUTION: f64 = 0.025;
/// Fraction of signal events with a final-state-radiation tail in `mjj`.
pub(super) const FSR_TAIL_FRACTION: f64 = 0.2;
/// Mean relative `mjj` lost in the tail (exponentially distributed).
pub(super) const FSR_TAIL_MEAN: f64 = 0.05;
/// Mean relative `mjj` lost, in addition, when a decay product falls outside its jet.
pub(super) const MISSED_PRONG_MJJ_LOSS: f64 = 0.035;
/// Opening angle of a two-prong decay is about `4 m0 / mz`; a prong is missed by the jet with
/// probability `(angle / MISS_ANGLE)^2`, at most [`MISS_PROBABILITY_MAX`] (the Pythia sample:
/// 22 % of the 500 GeV X jets in 3.5 TeV decays).
pub(super) const MISS_ANGLE: f64 = 1.2;
/// Largest probability of missing a prong.
pub(super) const MISS_PROBABILITY_MAX: f64 = 0.9;
/// A jet that missed a prong keeps this fraction of `m0` on average, with this spread.
pub(super) const MISSED_PRONG_MASS: (f64, f64) = (0.4, 0.2);
/// Contained signal jet mass resolution: relative term and constant term (GeV), in quadrature.
pub(super) const SIGNAL_MJ_RESOLUTION: (f64, f64) = (0.03, 5.0);
/// Probability that a contained signal jet also catches extra radiation, and the mean mass
/// (GeV, exponential) the radiation adds in quadrature.
pub(super) const SIGNAL_RADIATION: (f64, f64) = (0.35, 120.0);
/// Contained two-prong jets: `tau21` mean at `m0` = 500 GeV, its change per unit of
/// `ln(m0 / 500 GeV)`, the standard deviation, and the range the mean is clamped to.
pub(super) const SIGNAL_TAU21: (f64, f64, f64, (f64, f64)) = (0.2, -0.08, 0.17, (0.1, 0.5));
/// Contained two-prong jets: `tau32` as [`SIGNAL_TAU21`].
pub(super) const SIGNAL_TAU32: (f64, f64, f64, (f64, f64)) = (0.625, -0.075, 0.19, (0.4, 0.9));
/// Reference mass (GeV) of the signal N-subjettiness means.
pub(super) const SIGNAL_TAU_MASS_PIVOT: f64 = 500.0;

/// Alternative shower (`Sim`): jet masses become `m (1 - A exp(-m / M0))`, `(A, M0 in GeV)`.
pub(super) const SIM_MASS_PULL: (f64, f64) = (0.2, 150.0);
/// Alternative shower: shift of every `tau21` mean (QCD and signal).
pub(super) const SIM_TAU21_SHIFT: f64 = -0.025;
/// Alternative shower: QCD `tau21` standard deviation at fixed mass.
pub(super) const SIM_QCD_TAU21_SD: f64 = 0.215;

/// First stream of the signal chunks.
pub(super) const SIGNAL_STREAM: u64 = 1 << 32;
/// Stream of the final shuffle.
pub(super) const SHUFFLE_STREAM: u64 = 1 << 33;
