//! LHC-Olympics-like dijet generator (`lhco_toy`): QCD dijet background and a
//! `Z' -> X(->qq) Y(->qq)` signal described by the high-level features the LHC Olympics 2020
//! papers use — the dijet mass, the two jet masses ordered by mass, their N-subjettiness ratios
//! `tau21` and `tau32`, and the jet-mass difference — with a truth label.
//!
//! The model, every parameter value and what it does not model are written down in
//! `docs/generators.md` (section "LHC-Olympics-like dijet sample"). In short:
//!
//! - background `mjj` follows the sum of two four-parameter dijet functions
//!   `(1 - x)^p1 / x^(p2 + p3 ln x)`, `x = mjj / 13 TeV` (not a member of the family the hunts
//!   fit), times a logistic trigger turn-on, sampled by inverse CDF from a fine table;
//! - a QCD jet mass is log-normal with a median that barely grows with `mjj`; `tau21` and
//!   `tau32` fall with the jet mass and are anti-correlated at fixed mass;
//! - signal `mjj` is a Gaussian core at `mz` with a low-side (FSR) tail; each of X and Y gives
//!   a two-prong jet at its mass, or, with a probability set by the decay's opening angle, a
//!   jet that missed a prong and looks like a lighter QCD jet (lowering `mjj` too);
//! - the `Sim` variant changes the shower the way Herwig differs from Pythia in the SALAD paper:
//!   jet masses pulled down at low mass, `tau21` shifted down and broadened.
//!
//! The parameters were measured on Pythia 8 events (`docs/realistic-samples.md`);
//! `examples/toy_vs_pythia.rhai` checks that a supervised classifier finds the toy as hard as
//! Pythia's events.
//!
//! Generation is deterministic in the seed and independent of the thread count: events come in
//! chunks of [`CHUNK`](super::CHUNK) events, background chunk `k` drawing from stream `k`, signal chunk `k`
//! from stream `2^32 + k`, the final shuffle from stream `2^33`.

use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

#[cfg(test)]
use super::CHUNK;
use super::in_chunks;
use crate::data::NamedColumns;
use crate::interrupt::Interrupt;
use crate::seed::rng_for;
use crate::{Error, Result};

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
const SQRT_S: f64 = 13_000.0;

/// Exponents `p1`, `p2`, `p3` of the two dijet-function components of the background `mjj`
/// spectrum: a steeper, gluon-gluon-like one and a harder, quark-gluon-like one. Their sum is
/// not a member of the four-parameter family the hunts fit (see [`background_mjj_density`]).
const DIJET_COMPONENTS: [[f64; 3]; 2] = [[13.0, 4.4, 0.3], [7.0, 3.6, 0.3]];
/// The two components have equal density at this `mjj` (GeV).
const COMPONENT_PIVOT: f64 = 3_500.0;
/// Midpoint of the logistic trigger turn-on in `mjj` (GeV).
const TURN_ON_MID: f64 = 2_500.0;
/// Width of the logistic trigger turn-on (GeV).
const TURN_ON_WIDTH: f64 = 25.0;
/// Range of the background `mjj` (GeV).
const MJJ_RANGE: (f64, f64) = (1_500.0, 9_000.0);
/// Number of cells of the inverse-CDF table of background `mjj`.
const MJJ_CELLS: usize = 8_192;

/// Median QCD jet mass (GeV) at `mjj` = [`COMPONENT_PIVOT`]; it grows as
/// `mjj^QCD_MASS_MJJ_POWER` (the Pythia sample: 156 GeV at 2.75 TeV, 164 GeV at 5.25 TeV).
const QCD_MASS_MEDIAN: f64 = 165.0;
/// Power of `mjj` with which the median QCD jet mass grows.
const QCD_MASS_MJJ_POWER: f64 = 0.07;
/// The [`LhcoToyOptions::mj_mjj_power`] that makes the QCD jet masses proportional to `mjj`
/// (the median's power becomes 1 and the truncation a fixed fraction of `mjj`).
pub const MJ_PROPORTIONAL_POWER: f64 = 1.0 - QCD_MASS_MJJ_POWER;
/// Standard deviation of the QCD `ln m_J` (before the truncation).
const QCD_MASS_LOG_SIGMA: f64 = 0.85;
/// Largest QCD jet mass as a fraction of `mjj` (the log-normal is truncated there).
const QCD_MASS_MAX_FRACTION: f64 = 0.23;
/// Jet mass (GeV) at which the QCD N-subjettiness means below are quoted.
const TAU_MASS_PIVOT: f64 = 150.0;
/// QCD `tau21`: mean at [`TAU_MASS_PIVOT`], its change per unit of `ln(m_J / pivot)`, the
/// standard deviation at fixed mass, and the range the mean is clamped to.
const QCD_TAU21: (f64, f64, f64, (f64, f64)) = (0.547, -0.186, 0.21, (0.15, 0.95));
/// QCD `tau32`: as [`QCD_TAU21`].
const QCD_TAU32: (f64, f64, f64, (f64, f64)) = (0.752, -0.103, 0.158, (0.4, 1.0));
/// Correlation of `tau32` with `tau21` within a jet at fixed mass (the Pythia QCD jets: -0.30;
/// without it the common fall with mass would make the two positively correlated).
const TAU_CORRELATION: f64 = -0.3;
/// Upper end of every N-subjettiness ratio: with soft radiation `tau2` can exceed `tau1` (5 % of
/// the Pythia QCD jets have `tau21 > 1`).
const TAU_MAX: f64 = 1.5;

/// Relative Gaussian resolution of the signal `mjj` core.
const SIGNAL_MJJ_RESOLUTION: f64 = 0.025;
/// Fraction of signal events with a final-state-radiation tail in `mjj`.
const FSR_TAIL_FRACTION: f64 = 0.2;
/// Mean relative `mjj` lost in the tail (exponentially distributed).
const FSR_TAIL_MEAN: f64 = 0.05;
/// Mean relative `mjj` lost, in addition, when a decay product falls outside its jet.
const MISSED_PRONG_MJJ_LOSS: f64 = 0.035;
/// Opening angle of a two-prong decay is about `4 m0 / mz`; a prong is missed by the jet with
/// probability `(angle / MISS_ANGLE)^2`, at most [`MISS_PROBABILITY_MAX`] (the Pythia sample:
/// 22 % of the 500 GeV X jets in 3.5 TeV decays).
const MISS_ANGLE: f64 = 1.2;
/// Largest probability of missing a prong.
const MISS_PROBABILITY_MAX: f64 = 0.9;
/// A jet that missed a prong keeps this fraction of `m0` on average, with this spread.
const MISSED_PRONG_MASS: (f64, f64) = (0.4, 0.2);
/// Contained signal jet mass resolution: relative term and constant term (GeV), in quadrature.
const SIGNAL_MJ_RESOLUTION: (f64, f64) = (0.03, 5.0);
/// Probability that a contained signal jet also catches extra radiation, and the mean mass
/// (GeV, exponential) the radiation adds in quadrature.
const SIGNAL_RADIATION: (f64, f64) = (0.35, 120.0);
/// Contained two-prong jets: `tau21` mean at `m0` = 500 GeV, its change per unit of
/// `ln(m0 / 500 GeV)`, the standard deviation, and the range the mean is clamped to.
const SIGNAL_TAU21: (f64, f64, f64, (f64, f64)) = (0.2, -0.08, 0.17, (0.1, 0.5));
/// Contained two-prong jets: `tau32` as [`SIGNAL_TAU21`].
const SIGNAL_TAU32: (f64, f64, f64, (f64, f64)) = (0.625, -0.075, 0.19, (0.4, 0.9));
/// Reference mass (GeV) of the signal N-subjettiness means.
const SIGNAL_TAU_MASS_PIVOT: f64 = 500.0;

/// Alternative shower (`Sim`): jet masses become `m (1 - A exp(-m / M0))`, `(A, M0 in GeV)`.
const SIM_MASS_PULL: (f64, f64) = (0.2, 150.0);
/// Alternative shower: shift of every `tau21` mean (QCD and signal).
const SIM_TAU21_SHIFT: f64 = -0.025;
/// Alternative shower: QCD `tau21` standard deviation at fixed mass.
const SIM_QCD_TAU21_SD: f64 = 0.215;

/// First stream of the signal chunks.
const SIGNAL_STREAM: u64 = 1 << 32;
/// Stream of the final shuffle.
const SHUFFLE_STREAM: u64 = 1 << 33;

/// A named starting point for [`LhcoToyOptions`], after the LHC Olympics 2020 data sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// R&D-like: 1,000,000 background and 1,000 signal events, `mz/mx/my = 3500/500/100` GeV,
    /// "data" shower.
    Rnd,
    /// Black Box 1-like: 1,000,000 events of which 834 signal, `mz/mx/my = 3823/732/378` GeV.
    Bb1,
    /// Black Box 2-like: 1,000,000 background-only events made with the alternative shower.
    Bb2,
}

impl Preset {
    /// Every preset, in the order their names are listed in error messages.
    pub const ALL: [Preset; 3] = [Preset::Rnd, Preset::Bb1, Preset::Bb2];

    /// The preset's name as scripts write it: `"rnd"`, `"bb1"` or `"bb2"`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Rnd => "rnd",
            Preset::Bb1 => "bb1",
            Preset::Bb2 => "bb2",
        }
    }

    /// The preset called `name`; an [`Error::InvalidArgument`] listing the presets otherwise.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                Error::invalid(
                    "preset",
                    format!(
                        "unknown preset '{name}'; the presets are {}",
                        Self::ALL.map(Self::name).join(", ")
                    ),
                )
            })
    }
}

/// Which parton shower the sample imitates: the "data" (Pythia-like) or the "simulation"
/// (Herwig-like, differing mainly at low jet mass and across `tau21`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The nominal, Pythia-like shower.
    Data,
    /// The alternative, Herwig-like shower.
    Sim,
}

impl Variant {
    /// Every variant, in the order their names are listed in error messages.
    pub const ALL: [Variant; 2] = [Variant::Data, Variant::Sim];

    /// The variant's name as scripts write it: `"data"` or `"sim"`.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Data => "data",
            Variant::Sim => "sim",
        }
    }

    /// The variant called `name`; an [`Error::InvalidArgument`] listing the variants otherwise.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.name() == name)
            .ok_or_else(|| {
                Error::invalid(
                    "variant",
                    format!(
                        "unknown variant '{name}'; the variants are {}",
                        Self::ALL.map(Self::name).join(", ")
                    ),
                )
            })
    }
}

/// What [`lhco_toy`] generates. Start from [`LhcoToyOptions::preset`] (or `default()`, the
/// R&D-like preset) and override fields.
#[derive(Clone, Debug, PartialEq)]
pub struct LhcoToyOptions {
    /// Number of QCD background events.
    pub background: usize,
    /// Number of `Z' -> XY` signal events.
    pub signal: usize,
    /// Mass of the `Z'` resonance in GeV: where the signal `mjj` peaks.
    pub mz: f64,
    /// Mass of `X` in GeV: where one signal jet mass peaks (the heavier one by default).
    pub mx: f64,
    /// Mass of `Y` in GeV: where the other signal jet mass peaks.
    pub my: f64,
    /// Which shower the events imitate.
    pub variant: Variant,
    /// Adds `mj_mjj_slope * mjj` to every jet mass (background and signal), strengthening the
    /// dependence of the jet masses on `mjj` as in the SA-CWoLa study (which uses 0.1).
    pub mj_mjj_slope: f64,
    /// Makes the background's jet masses scale with `mjj` as a power law: each QCD jet mass is
    /// multiplied by `(mjj / 3500 GeV)^mj_mjj_power` (and its truncation at 23 % of `mjj`
    /// divided by the same factor, before it), so the median grows as
    /// `mjj^(0.07 + mj_mjj_power)`; the N-subjettiness ratios keep the distribution of today's
    /// jets (substructure depends on m/pT, which the factor leaves alone). 0 (the default)
    /// changes nothing; [`MJ_PROPORTIONAL_POWER`] makes the jet masses proportional to `mjj`,
    /// so that `mj/mjj` does not depend on `mjj`. Signal jets keep the X and Y masses.
    pub mj_mjj_power: f64,
    /// Seed of the random streams: the same seed gives the same events.
    pub seed: u64,
}

impl Default for LhcoToyOptions {
    /// The R&D-like preset, [`Preset::Rnd`].
    fn default() -> Self {
        Self::preset(Preset::Rnd)
    }
}

impl LhcoToyOptions {
    /// The options of preset `p`; the seed is [`crate::seed::DEFAULT_SEED`] and the slope 0.
    pub fn preset(p: Preset) -> Self {
        let rnd = Self {
            background: 1_000_000,
            signal: 1_000,
            mz: 3_500.0,
            mx: 500.0,
            my: 100.0,
            variant: Variant::Data,
            mj_mjj_slope: 0.0,
            mj_mjj_power: 0.0,
            seed: crate::seed::DEFAULT_SEED,
        };
        match p {
            Preset::Rnd => rnd,
            Preset::Bb1 => Self {
                background: 1_000_000 - 834,
                signal: 834,
                mz: 3_823.0,
                mx: 732.0,
                my: 378.0,
                ..rnd
            },
            Preset::Bb2 => Self {
                signal: 0,
                variant: Variant::Sim,
                ..rnd
            },
        }
    }

    /// Checks that the options can be generated: at least one event and at most
    /// [`MAX_EVENTS`], finite masses of at least [`MIN_SIGNAL_MASS`] with
    /// `mx + my < mz < 13000` GeV, a finite non-negative `mj_mjj_slope` and an
    /// `mj_mjj_power` within [-2, 2].
    pub fn validate(&self) -> Result<()> {
        self.validate_counts()?;
        self.validate_masses()?;
        if !(self.mj_mjj_power.is_finite() && self.mj_mjj_power.abs() <= 2.0) {
            return Err(Error::invalid(
                "mj_mjj_power",
                format!(
                    "{}; it must be within [-2, 2] ({MJ_PROPORTIONAL_POWER} makes the jet masses \
                     proportional to mjj)",
                    self.mj_mjj_power
                ),
            ));
        }
        if !(self.mj_mjj_slope.is_finite() && self.mj_mjj_slope >= 0.0) {
            return Err(Error::invalid(
                "mj_mjj_slope",
                format!(
                    "{}; it must be finite and non-negative (the SA-CWoLa study uses 0.1)",
                    self.mj_mjj_slope
                ),
            ));
        }
        Ok(())
    }

    fn validate_counts(&self) -> Result<()> {
        let total = self.background.saturating_add(self.signal);
        if total == 0 {
            return Err(Error::invalid(
                "signal",
                "background and signal are both 0; ask for at least one event",
            ));
        }
        if total > MAX_EVENTS {
            return Err(Error::invalid(
                "background",
                format!("background + signal = {total} events exceeds the limit of {MAX_EVENTS}"),
            ));
        }
        Ok(())
    }

    fn validate_masses(&self) -> Result<()> {
        for (name, mass) in [("mz", self.mz), ("mx", self.mx), ("my", self.my)] {
            if !(mass.is_finite() && mass >= MIN_SIGNAL_MASS) {
                return Err(Error::invalid(
                    name,
                    format!("{mass} GeV; a mass must be finite and at least {MIN_SIGNAL_MASS} GeV"),
                ));
            }
        }
        if self.mz >= SQRT_S {
            return Err(Error::invalid(
                "mz",
                format!(
                    "{} GeV; it must be below the collision energy of 13000 GeV",
                    self.mz
                ),
            ));
        }
        if self.mx + self.my >= self.mz {
            return Err(Error::invalid(
                "mz",
                format!(
                    "mx + my = {} GeV is not below mz = {} GeV; the Z' cannot decay to X Y",
                    self.mx + self.my,
                    self.mz
                ),
            ));
        }
        Ok(())
    }
}

/// Generates an LHC-Olympics-like dijet sample: the columns of [`COLUMNS`] (`label` is 1 for
/// signal, 0 for background), events shuffled so that signal is spread through the sample.
/// The output depends only on the options, not on the number of threads.
///
/// Fails with [`Error::InvalidArgument`] when [`LhcoToyOptions::validate`] does.
pub fn lhco_toy(opts: &LhcoToyOptions) -> Result<NamedColumns> {
    lhco_toy_interruptible(opts, None)
}

/// [`lhco_toy`], stopping with [`crate::Error::Interrupted`] soon after `interrupt` is
/// triggered.
pub fn lhco_toy_interruptible(
    opts: &LhcoToyOptions,
    interrupt: Option<&Interrupt>,
) -> Result<NamedColumns> {
    opts.validate()?;
    let spectrum = MjjSpectrum::new();
    let mut rows = generate(opts.background, opts.seed, 0, interrupt, |rng| {
        background_event(rng, &spectrum, opts)
    })?;
    rows.extend(generate(
        opts.signal,
        opts.seed,
        SIGNAL_STREAM,
        interrupt,
        |rng| signal_event(rng, opts),
    )?);
    rows.shuffle(&mut rng_for(opts.seed, SHUFFLE_STREAM));
    Ok(into_columns(&rows))
}

/// One event: the values of [`COLUMNS`] in order.
type Row = [f64; 9];

/// A jet's high-level features.
#[derive(Clone, Copy, Debug)]
struct Jet {
    mass: f64,
    tau21: f64,
    tau32: f64,
}

/// `n` events from `event`, in chunks generated in parallel (see [`in_chunks`]).
fn generate<F>(
    n: usize,
    seed: u64,
    first_stream: u64,
    interrupt: Option<&Interrupt>,
    event: F,
) -> Result<Vec<Row>>
where
    F: Fn(&mut Xoshiro256PlusPlus) -> Row + Sync,
{
    let chunks = in_chunks(n, seed, first_stream, interrupt, |rng, len| {
        Ok((0..len).map(|_| event(rng)).collect::<Vec<Row>>())
    })?;
    Ok(chunks.concat())
}

/// The row of an event with dijet mass `mjj` and jets `a`, `b`: `slope * mjj` is added to both
/// jet masses, then the jets are ordered by mass.
fn row(mjj: f64, a: Jet, b: Jet, slope: f64, label: f64) -> Row {
    let (a, b) = (
        Jet {
            mass: a.mass + slope * mjj,
            ..a
        },
        Jet {
            mass: b.mass + slope * mjj,
            ..b
        },
    );
    let (j1, j2) = if a.mass >= b.mass { (a, b) } else { (b, a) };
    [
        mjj,
        j1.mass,
        j2.mass,
        j1.tau21,
        j2.tau21,
        j1.tau32,
        j2.tau32,
        j1.mass - j2.mass,
        label,
    ]
}

/// The rows turned into named columns.
fn into_columns(rows: &[Row]) -> NamedColumns {
    COLUMNS
        .iter()
        .enumerate()
        .map(|(c, name)| (name.to_string(), rows.iter().map(|r| r[c]).collect()))
        .collect()
}

/// The background dijet-mass density, up to normalisation: the sum of the two dijet-function
/// components of [`DIJET_COMPONENTS`] (equal at [`COMPONENT_PIVOT`]) times the trigger turn-on.
/// The sum is close to a single four-parameter dijet function (within 0.5 % in density over
/// 2.6–6 TeV after a fit) but not one: a hunt's fit function describes it only approximately,
/// as it does real data.
fn background_mjj_density(mjj: f64) -> f64 {
    let dijet = |m: f64, [p1, p2, p3]: [f64; 3]| {
        let x = m / SQRT_S;
        (1.0 - x).powf(p1) / x.powf(p2 + p3 * x.ln())
    };
    let sum: f64 = DIJET_COMPONENTS
        .iter()
        .map(|&p| dijet(mjj, p) / dijet(COMPONENT_PIVOT, p))
        .sum();
    sum / (1.0 + (-(mjj - TURN_ON_MID) / TURN_ON_WIDTH).exp())
}

/// Inverse-CDF sampler of the background `mjj`: the density tabulated on a grid uniform in
/// `ln mjj` (cells of 0.02 %), uniform in `ln mjj` within a cell.
struct MjjSpectrum {
    /// `ln mjj` of the first grid point and the cell width in `ln mjj`.
    log_start: f64,
    log_step: f64,
    /// Normalised cumulative probability at each grid point (`MJJ_CELLS + 1` values, 0 to 1).
    cdf: Vec<f64>,
}

impl MjjSpectrum {
    fn new() -> Self {
        let log_start = MJJ_RANGE.0.ln();
        let log_step = (MJJ_RANGE.1.ln() - log_start) / MJJ_CELLS as f64;
        // Density in ln(mjj) is mjj * dN/dmjj; cells integrated with the trapezoid rule.
        let density = |i: usize| {
            let m = (log_start + i as f64 * log_step).exp();
            m * background_mjj_density(m)
        };
        let mut cdf = Vec::with_capacity(MJJ_CELLS + 1);
        let mut total = 0.0;
        cdf.push(total);
        for i in 0..MJJ_CELLS {
            total += 0.5 * (density(i) + density(i + 1));
            cdf.push(total);
        }
        cdf.iter_mut().for_each(|c| *c /= total);
        Self {
            log_start,
            log_step,
            cdf,
        }
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u: f64 = rng.random();
        // First grid point above u: u lies in the cell before it, whose width is then positive.
        let above = self.cdf.partition_point(|&c| c <= u).clamp(1, MJJ_CELLS);
        let (lo, hi) = (self.cdf[above - 1], self.cdf[above]);
        let within = ((u - lo) / (hi - lo)).clamp(0.0, 1.0);
        (self.log_start + (above as f64 - 1.0 + within) * self.log_step).exp()
    }
}

/// A QCD dijet event.
fn background_event<R: Rng + ?Sized>(
    rng: &mut R,
    spectrum: &MjjSpectrum,
    opts: &LhcoToyOptions,
) -> Row {
    let mjj = spectrum.sample(rng);
    // 1 (exactly) when the power is 0: today's jets, bit for bit.
    let scale = (mjj / COMPONENT_PIVOT).powf(opts.mj_mjj_power);
    let a = qcd_jet(rng, mjj, scale, opts.variant);
    let b = qcd_jet(rng, mjj, scale, opts.variant);
    row(mjj, a, b, opts.mj_mjj_slope, 0.0)
}

/// A QCD (one-prong) jet in an event of dijet mass `mjj`: a log-normal mass whose median grows
/// slowly with `mjj`, truncated at [`QCD_MASS_MAX_FRACTION`] of `mjj`, and N-subjettiness
/// ratios that fall with the jet mass; then the mass is multiplied by `scale` (the truncation
/// is divided by it first, so that it stays at the same fraction of `mjj`).
fn qcd_jet<R: Rng + ?Sized>(rng: &mut R, mjj: f64, scale: f64, variant: Variant) -> Jet {
    let median = QCD_MASS_MEDIAN * (mjj / COMPONENT_PIVOT).powf(QCD_MASS_MJJ_POWER);
    let z_max = (QCD_MASS_MAX_FRACTION * mjj / (median * scale)).ln() / QCD_MASS_LOG_SIGMA;
    let z = loop {
        let z: f64 = rng.sample(StandardNormal);
        if z <= z_max {
            break z;
        }
    };
    let jet = one_prong_jet(rng, median * (QCD_MASS_LOG_SIGMA * z).exp(), variant);
    Jet {
        mass: jet.mass * scale,
        ..jet
    }
}

/// A one-prong jet of mass `mass` before the shower's pull ([`shower_mass`]): `tau21` and
/// `tau32` follow the QCD mass dependence at that mass, so the alternative shower moves the
/// masses and the `tau21` means independently.
fn one_prong_jet<R: Rng + ?Sized>(rng: &mut R, mass: f64, variant: Variant) -> Jet {
    let log_mass = (mass.max(1.0) / TAU_MASS_PIVOT).ln();
    let (shift, sd21) = match variant {
        Variant::Data => (0.0, QCD_TAU21.2),
        Variant::Sim => (SIM_TAU21_SHIFT, SIM_QCD_TAU21_SD),
    };
    let mean21 = mean_at(QCD_TAU21, log_mass) + shift;
    let tau21 = tau(rng, mean21, sd21);
    let tau32 = tau_given_tau21(rng, QCD_TAU32, log_mass, tau21 - mean21, sd21);
    Jet {
        mass: shower_mass(mass, variant),
        tau21,
        tau32,
    }
}

/// The mean of a `(mean at pivot, slope, sd, clamp)` parameterisation at `log_mass`.
fn mean_at((mean, slope, _, (lo, hi)): (f64, f64, f64, (f64, f64)), log_mass: f64) -> f64 {
    (mean + slope * log_mass).clamp(lo, hi)
}

/// A `Z' -> X Y` event: each of X and Y gives one jet, which may miss one of its prongs.
fn signal_event<R: Rng + ?Sized>(rng: &mut R, opts: &LhcoToyOptions) -> Row {
    let (x, x_missed) = signal_jet(rng, opts.mx, opts.mz, opts.variant);
    let (y, y_missed) = signal_jet(rng, opts.my, opts.mz, opts.variant);
    let missed = usize::from(x_missed) + usize::from(y_missed);
    let mjj = signal_mjj(rng, opts, missed);
    row(mjj, x, y, opts.mj_mjj_slope, 1.0)
}

/// The signal dijet mass: `mz` times a Gaussian core, with a fraction of events losing an
/// exponentially distributed share of it to radiation, and each missed prong losing another
/// share; redrawn until it exceeds `mx + my`.
fn signal_mjj<R: Rng + ?Sized>(rng: &mut R, opts: &LhcoToyOptions, missed: usize) -> f64 {
    loop {
        let core: f64 = rng.sample(StandardNormal);
        let mut kept = 1.0 + SIGNAL_MJJ_RESOLUTION * core;
        if rng.random::<f64>() < FSR_TAIL_FRACTION {
            kept *= 1.0 - FSR_TAIL_MEAN * rng.sample::<f64, _>(Exp1);
        }
        for _ in 0..missed {
            kept *= 1.0 - MISSED_PRONG_MJJ_LOSS * rng.sample::<f64, _>(Exp1);
        }
        let mjj = opts.mz * kept;
        if mjj > opts.mx + opts.my {
            return mjj;
        }
    }
}

/// The probability that the jet of a particle of mass `m0` from a decay at `mz` misses one of
/// its two prongs: the opening angle, about `4 m0 / mz`, against the jet radius.
fn miss_probability(m0: f64, mz: f64) -> f64 {
    ((4.0 * m0 / mz) / MISS_ANGLE)
        .powi(2)
        .min(MISS_PROBABILITY_MAX)
}

/// The jet of a particle of mass `m0` decaying to two quarks, and whether it missed a prong.
/// A contained jet is two-prong: mass `m0` with a resolution, sometimes raised by extra
/// radiation added in quadrature, and low `tau21`. A jet that missed a prong carries a fraction
/// of `m0` and looks like a QCD jet of that mass.
fn signal_jet<R: Rng + ?Sized>(rng: &mut R, m0: f64, mz: f64, variant: Variant) -> (Jet, bool) {
    if rng.random::<f64>() < miss_probability(m0, mz) {
        let (mean, sd) = MISSED_PRONG_MASS;
        let mass = m0 * beta_with_moments(rng, mean, sd);
        return (one_prong_jet(rng, mass, variant), true);
    }
    let (relative, constant) = SIGNAL_MJ_RESOLUTION;
    let width = relative.hypot(constant / m0);
    let mut mass = m0 * (width * rng.sample::<f64, _>(StandardNormal)).exp();
    let (radiation_probability, radiation_mass) = SIGNAL_RADIATION;
    if rng.random::<f64>() < radiation_probability {
        mass = mass.hypot(radiation_mass * rng.sample::<f64, _>(Exp1));
    }
    let mass = shower_mass(mass, variant);
    let log_m0 = (m0 / SIGNAL_TAU_MASS_PIVOT).ln();
    let shift = match variant {
        Variant::Data => 0.0,
        Variant::Sim => SIM_TAU21_SHIFT,
    };
    let mean21 = mean_at(SIGNAL_TAU21, log_m0) + shift;
    let tau21 = tau(rng, mean21, SIGNAL_TAU21.2);
    let tau32 = tau_given_tau21(rng, SIGNAL_TAU32, log_m0, tau21 - mean21, SIGNAL_TAU21.2);
    (Jet { mass, tau21, tau32 }, false)
}

/// The jet mass after the shower: unchanged for `Data`; for `Sim`, `m (1 - A exp(-m / M0))`,
/// a smooth monotonic pull towards lower masses that matters mostly below a few hundred GeV.
fn shower_mass(mass: f64, variant: Variant) -> f64 {
    match variant {
        Variant::Data => mass,
        Variant::Sim => mass * (1.0 - SIM_MASS_PULL.0 * (-mass / SIM_MASS_PULL.1).exp()),
    }
}

/// `tau32` of a jet whose `tau21` lies `deviation` from its mean (standard deviation `sd21`):
/// the parameterisation `params` at `log_mass`, moved by [`TAU_CORRELATION`] as for a Gaussian
/// pair, with the conditional spread.
fn tau_given_tau21<R: Rng + ?Sized>(
    rng: &mut R,
    params: (f64, f64, f64, (f64, f64)),
    log_mass: f64,
    deviation: f64,
    sd21: f64,
) -> f64 {
    let (_, _, sd, (lo, hi)) = params;
    let mean = mean_at(params, log_mass) + TAU_CORRELATION * sd / sd21 * deviation;
    tau(
        rng,
        mean.clamp(lo, hi),
        sd * (1.0 - TAU_CORRELATION * TAU_CORRELATION).sqrt(),
    )
}

/// An N-subjettiness ratio with the given mean and standard deviation: Beta-distributed on
/// `[0, TAU_MAX]`.
fn tau<R: Rng + ?Sized>(rng: &mut R, mean: f64, sd: f64) -> f64 {
    TAU_MAX * beta_with_moments(rng, mean / TAU_MAX, sd / TAU_MAX)
}

/// A Beta-distributed number with the given mean and standard deviation, drawn as
/// `X / (X + Y)` from two Gamma variates (faster than `rand_distr::Beta` for these shapes).
fn beta_with_moments<R: Rng + ?Sized>(rng: &mut R, mean: f64, sd: f64) -> f64 {
    let concentration = mean * (1.0 - mean) / (sd * sd) - 1.0;
    let x = gamma(rng, mean * concentration);
    x / (x + gamma(rng, (1.0 - mean) * concentration))
}

/// A Gamma variate of unit scale with shape `shape`.
fn gamma<R: Rng + ?Sized>(rng: &mut R, shape: f64) -> f64 {
    Gamma::new(shape, 1.0)
        .expect("Gamma shapes are positive: every clamped mean and sd keeps the concentration > 2")
        .sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(background: usize, signal: usize, seed: u64) -> LhcoToyOptions {
        LhcoToyOptions {
            background,
            signal,
            seed,
            ..LhcoToyOptions::default()
        }
    }

    fn column<'a>(cols: &'a NamedColumns, name: &str) -> &'a [f64] {
        &cols
            .iter()
            .find(|(n, _)| n == name)
            .expect("column exists")
            .1
    }

    /// The values of `name` in events whose label is `label`.
    fn of_label(cols: &NamedColumns, name: &str, label: f64) -> Vec<f64> {
        let labels = column(cols, "label");
        column(cols, name)
            .iter()
            .zip(labels)
            .filter(|(_, l)| **l == label)
            .map(|(v, _)| *v)
            .collect()
    }

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    fn quantile(v: &[f64], q: f64) -> f64 {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
    }

    fn median(v: &[f64]) -> f64 {
        quantile(v, 0.5)
    }

    /// Counts of `values` in the bins delimited by `edges`.
    fn histogram(values: &[f64], edges: &[f64]) -> Vec<f64> {
        let mut counts = vec![0.0; edges.len() - 1];
        for &v in values {
            let i = edges.partition_point(|&e| e <= v);
            if (1..edges.len()).contains(&i) {
                counts[i - 1] += 1.0;
            }
        }
        counts
    }

    fn log_edges(lo: f64, hi: f64, bins: usize) -> Vec<f64> {
        (0..=bins)
            .map(|i| lo * (hi / lo).powf(i as f64 / bins as f64))
            .collect()
    }

    #[test]
    fn columns_in_order_with_requested_counts() {
        let cols = lhco_toy(&options(20_000, 500, 1)).unwrap();
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, COLUMNS);
        assert!(cols.iter().all(|(_, v)| v.len() == 20_500));
        assert_eq!(of_label(&cols, "mjj", 1.0).len(), 500);
        assert_eq!(of_label(&cols, "mjj", 0.0).len(), 20_000);
        assert!(cols.iter().all(|(_, v)| v.iter().all(|x| x.is_finite())));
    }

    #[test]
    fn same_seed_same_events_other_seed_other_events() {
        let a = lhco_toy(&options(30_000, 300, 5)).unwrap();
        assert_eq!(a, lhco_toy(&options(30_000, 300, 5)).unwrap());
        assert_ne!(
            column(&a, "mjj"),
            column(&lhco_toy(&options(30_000, 300, 6)).unwrap(), "mjj")
        );
    }

    #[test]
    fn independent_of_thread_count() {
        let opts = options(3 * CHUNK + 17, CHUNK + 3, 11);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let single = pool.install(|| lhco_toy(&opts)).unwrap();
        assert_eq!(single, lhco_toy(&opts).unwrap());
    }

    #[test]
    fn a_triggered_interrupt_stops_generation() {
        let interrupt = Interrupt::new();
        interrupt.trigger();
        let err = lhco_toy_interruptible(&options(3 * CHUNK, 10, 1), Some(&interrupt));
        assert!(matches!(err, Err(Error::Interrupted)), "{err:?}");
        interrupt.clear();
        assert!(lhco_toy_interruptible(&options(100, 10, 1), Some(&interrupt)).is_ok());
    }

    #[test]
    fn signal_is_shuffled_into_the_sample() {
        let cols = lhco_toy(&options(50_000, 1_000, 2)).unwrap();
        let labels = column(&cols, "label");
        let first_half = labels[..labels.len() / 2].iter().sum::<f64>();
        assert!(
            (400.0..600.0).contains(&first_half),
            "{first_half} signal events in the first half"
        );
    }

    #[test]
    fn jets_ordered_by_mass_and_dmj_is_their_difference() {
        let cols = lhco_toy(&options(50_000, 2_000, 3)).unwrap();
        let (mj1, mj2, dmj) = (
            column(&cols, "mj1"),
            column(&cols, "mj2"),
            column(&cols, "dmj"),
        );
        for i in 0..mj1.len() {
            assert!(mj1[i] >= mj2[i] && mj2[i] > 0.0);
            assert_eq!(dmj[i], mj1[i] - mj2[i]);
        }
        for name in ["tau21_1", "tau21_2", "tau32_1", "tau32_2"] {
            assert!(
                column(&cols, name)
                    .iter()
                    .all(|t| (0.0..=TAU_MAX).contains(t)),
                "{name} outside [0, {TAU_MAX}]"
            );
        }
    }

    #[test]
    fn mjj_turns_on_then_falls() {
        let cols = lhco_toy(&options(200_000, 0, 4)).unwrap();
        let mjj = column(&cols, "mjj");
        let edges: Vec<f64> = (0..=40).map(|i| 2_000.0 + 100.0 * i as f64).collect();
        let counts = histogram(mjj, &edges);
        let peak = (0..counts.len())
            .max_by(|&a, &b| counts[a].total_cmp(&counts[b]))
            .unwrap();
        assert!(
            (2_500.0..3_000.0).contains(&edges[peak]),
            "peak bin starts at {}",
            edges[peak]
        );
        let coarse = histogram(
            mjj,
            &(0..=10)
                .map(|i| 3_000.0 + 250.0 * i as f64)
                .collect::<Vec<_>>(),
        );
        assert!(
            coarse.windows(2).all(|w| w[1] < w[0]),
            "not falling above 3 TeV: {coarse:?}"
        );
        let below = mjj.iter().filter(|&&m| m < 2_300.0).count();
        assert!(below < 200, "{below} events below the turn-on");
        let above_6tev = mjj.iter().filter(|&&m| m > 6_000.0).count() as f64 / mjj.len() as f64;
        assert!(above_6tev < 0.003, "fraction above 6 TeV {above_6tev}");
    }

    /// The terms of `ln` of the four-parameter dijet function at `mjj`, whose coefficients are
    /// `ln p0, p1, p2, p3`.
    fn dijet_basis(mjj: f64) -> [f64; 4] {
        let x = mjj / SQRT_S;
        [1.0, (1.0 - x).ln(), -x.ln(), -x.ln() * x.ln()]
    }

    /// Weighted least squares of `ln` density values on [`dijet_basis`]: points are
    /// `(basis, ln density, weight)`.
    fn dijet_least_squares(points: &[([f64; 4], f64, f64)]) -> [f64; 4] {
        let mut a = [[0.0; 4]; 4];
        let mut b = [0.0; 4];
        for (f, y, w) in points {
            for r in 0..4 {
                b[r] += w * f[r] * y;
                for c in 0..4 {
                    a[r][c] += w * f[r] * f[c];
                }
            }
        }
        solve4(a, b)
    }

    /// Weighted least squares of `ln(density)` on the four-parameter dijet function; returns
    /// chi-square and degrees of freedom with Poisson errors.
    fn dijet_fit_chi2(mjj: &[f64], edges: &[f64]) -> (f64, usize) {
        let counts = histogram(mjj, edges);
        let points: Vec<([f64; 4], f64, f64)> = counts
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let (lo, hi) = (edges[i], edges[i + 1]);
                (dijet_basis((lo * hi).sqrt()), (n / (hi - lo)).ln(), n)
            })
            .collect();
        let p = dijet_least_squares(&points);
        let chi2 = points
            .iter()
            .map(|(f, y, w)| {
                let fitted = (0..4).map(|r| p[r] * f[r]).sum::<f64>();
                w * (y - fitted).powi(2)
            })
            .sum();
        (chi2, points.len() - 4)
    }

    /// Gaussian elimination with partial pivoting for a 4x4 system.
    fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> [f64; 4] {
        for col in 0..4 {
            let pivot = (col..4)
                .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
                .unwrap();
            a.swap(col, pivot);
            b.swap(col, pivot);
            let pivot_row = a[col];
            for row in col + 1..4 {
                let f = a[row][col] / pivot_row[col];
                for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                    *x -= f * p;
                }
                b[row] -= f * b[col];
            }
        }
        let mut x = [0.0; 4];
        for row in (0..4).rev() {
            x[row] = (b[row] - (row + 1..4).map(|c| a[row][c] * x[c]).sum::<f64>()) / a[row][row];
        }
        x
    }

    #[test]
    fn background_mjj_is_described_by_the_dijet_function() {
        let cols = lhco_toy(&options(200_000, 0, 8)).unwrap();
        let (chi2, ndf) = dijet_fit_chi2(column(&cols, "mjj"), &log_edges(2_900.0, 5_500.0, 20));
        assert!(chi2 / (ndf as f64) < 2.0, "chi2/ndf = {chi2:.1}/{ndf}");
    }

    /// The QCD jet masses of the Pythia sample (docs/realistic-samples.md): per jet, median
    /// 159 GeV and `sd(ln m)` 0.79 at `mjj` 3.3-3.7 TeV, the median growing by 5 % from
    /// 2.75 to 5.25 TeV.
    #[test]
    fn qcd_jet_masses_grow_slowly_with_mjj_as_in_pythia() {
        let cols = lhco_toy(&options(300_000, 0, 9)).unwrap();
        let mjj = column(&cols, "mjj");
        let log_masses = |lo: f64, hi: f64| -> Vec<f64> {
            (0..mjj.len())
                .filter(|&i| (lo..hi).contains(&mjj[i]))
                .flat_map(|i| [column(&cols, "mj1")[i], column(&cols, "mj2")[i]])
                .map(f64::ln)
                .collect()
        };
        let sr = log_masses(3_300.0, 3_700.0);
        let sd = (sr.iter().map(|l| (l - mean(&sr)).powi(2)).sum::<f64>() / sr.len() as f64).sqrt();
        let sr_median = median(&sr).exp();
        assert!((150.0..170.0).contains(&sr_median), "SR median {sr_median}");
        assert!((0.74..0.84).contains(&sd), "SR sd(ln m) {sd}");
        let growth =
            (median(&log_masses(4_000.0, 4_500.0)) - median(&log_masses(2_800.0, 3_000.0))).exp();
        assert!((1.0..1.07).contains(&growth), "median growth {growth}");
    }

    /// `tau21` means of the Pythia sample at `mjj` 3.3-3.7 TeV: QCD 0.452 / 0.619 (heavier /
    /// lighter jet), signal 0.247 / 0.363; QCD jets below 60 GeV 0.79, above 400 GeV 0.32.
    #[test]
    fn tau21_falls_with_jet_mass_and_separates_signal_as_in_pythia() {
        let cols = lhco_toy(&options(200_000, 20_000, 10)).unwrap();
        let mjj = column(&cols, "mjj");
        let in_sr = |label: f64, name: &str| -> Vec<f64> {
            (0..mjj.len())
                .filter(|&i| {
                    (3_300.0..3_700.0).contains(&mjj[i]) && column(&cols, "label")[i] == label
                })
                .map(|i| column(&cols, name)[i])
                .collect()
        };
        let expected = [
            (0.0, "tau21_1", 0.452),
            (0.0, "tau21_2", 0.619),
            (1.0, "tau21_1", 0.247),
            (1.0, "tau21_2", 0.363),
        ];
        for (label, name, pythia) in expected {
            let m = mean(&in_sr(label, name));
            assert!(
                (m - pythia).abs() < 0.04,
                "label {label} {name}: {m} (Pythia {pythia})"
            );
        }
        let (masses, taus) = (in_sr(0.0, "mj2"), in_sr(0.0, "tau21_2"));
        let mean_where = |keep: &dyn Fn(f64) -> bool| {
            mean(
                &(0..masses.len())
                    .filter(|&i| keep(masses[i]))
                    .map(|i| taus[i])
                    .collect::<Vec<_>>(),
            )
        };
        let (light, heavy) = (mean_where(&|m| m < 60.0), mean_where(&|m| m > 300.0));
        assert!(
            light > 0.72 && heavy < 0.45,
            "tau21 {light} below 60 GeV, {heavy} above 300 GeV"
        );
    }

    /// The mode of `values` in bins of `width` relative to `centre`, over `centre` +- 30 %.
    fn mode_near(values: &[f64], centre: f64, width: f64) -> f64 {
        let edges: Vec<f64> = (0..=30)
            .map(|i| centre * (0.7 + width * i as f64))
            .collect();
        let counts = histogram(values, &edges);
        let peak = (0..counts.len())
            .max_by(|&a, &b| counts[a].total_cmp(&counts[b]))
            .unwrap();
        0.5 * (edges[peak] + edges[peak + 1])
    }

    #[test]
    fn contained_signal_peaks_at_the_resonance_masses() {
        for preset in [Preset::Rnd, Preset::Bb1] {
            let opts = LhcoToyOptions {
                background: 0,
                signal: 50_000,
                ..LhcoToyOptions::preset(preset)
            };
            let cols = lhco_toy(&opts).unwrap();
            for (name, mass) in [("mjj", opts.mz), ("mj1", opts.mx), ("mj2", opts.my)] {
                let mode = mode_near(column(&cols, name), mass, 0.02);
                assert!(
                    (mode / mass - 1.0).abs() < 0.03,
                    "{preset:?} {name} mode {mode}"
                );
            }
        }
    }

    /// The Pythia R&D-like signal: 22 % of the X jets (500 GeV from a 3.5 TeV decay) miss a
    /// prong, and those events have a 3 % lower `mjj`.
    #[test]
    fn signal_jets_miss_a_prong_as_often_as_the_boost_says() {
        let missed = |preset: Preset| {
            let opts = LhcoToyOptions {
                background: 0,
                signal: 50_000,
                ..LhcoToyOptions::preset(preset)
            };
            let cols = lhco_toy(&opts).unwrap();
            let (mj1, mjj) = (column(&cols, "mj1"), column(&cols, "mjj"));
            let lost: Vec<bool> = mj1.iter().map(|&m| m < 0.8 * opts.mx).collect();
            let pick = |l: bool| -> Vec<f64> {
                (0..mjj.len())
                    .filter(|&i| lost[i] == l)
                    .map(|i| mjj[i])
                    .collect()
            };
            let fraction = lost.iter().filter(|&&l| l).count() as f64 / lost.len() as f64;
            (fraction, median(&pick(true)) / median(&pick(false)))
        };
        let (rnd, rnd_mjj) = missed(Preset::Rnd);
        assert!(
            (0.18..0.27).contains(&rnd),
            "rnd: {rnd} of X jets below 0.8 mx"
        );
        assert!((0.94..0.99).contains(&rnd_mjj), "rnd: mjj ratio {rnd_mjj}");
        let (bb1, _) = missed(Preset::Bb1);
        assert!(
            bb1 > rnd + 0.1,
            "bb1's less boosted X misses more often: {bb1}"
        );
    }

    /// The exact background density against the best four-parameter dijet function (noise
    /// free, least squares on `ln` density over 2.75-6 TeV, above the trigger turn-on): close,
    /// but not the same.
    #[test]
    fn background_mjj_is_not_a_dijet_function() {
        let points: Vec<([f64; 4], f64, f64)> = (0..200)
            .map(|i| {
                let mjj = 2_750.0 * (6_000.0f64 / 2_750.0).powf(i as f64 / 199.0);
                (dijet_basis(mjj), background_mjj_density(mjj).ln(), 1.0)
            })
            .collect();
        let p = dijet_least_squares(&points);
        let worst = points
            .iter()
            .map(|(f, y, _)| (y - (0..4).map(|r| p[r] * f[r]).sum::<f64>()).abs())
            .fold(0.0, f64::max);
        assert!(
            (0.002..0.01).contains(&worst),
            "largest ln-density residual {worst}"
        );
    }

    #[test]
    fn sim_shifts_tau21_down_and_pulls_low_masses_down() {
        let data = lhco_toy(&options(100_000, 0, 12)).unwrap();
        let sim = lhco_toy(&LhcoToyOptions {
            variant: Variant::Sim,
            ..options(100_000, 0, 12)
        })
        .unwrap();
        let shift = mean(column(&sim, "tau21_1")) - mean(column(&data, "tau21_1"));
        assert!(
            (shift - SIM_TAU21_SHIFT).abs() < 0.005,
            "tau21 shift {shift}"
        );
        // Masses are pulled down at low mass, hardly at all at high mass; mjj is unchanged.
        let ratio =
            |name: &str, q: f64| quantile(column(&sim, name), q) / quantile(column(&data, name), q);
        let (low, high) = (ratio("mj2", 0.1), ratio("mj1", 0.9));
        assert!(
            (0.8..0.92).contains(&low),
            "sim/data 10% quantile of mj2: {low}"
        );
        assert!(
            (0.98..1.01).contains(&high),
            "sim/data 90% quantile of mj1: {high}"
        );
        assert!((ratio("mjj", 0.5) - 1.0).abs() < 0.005);
    }

    #[test]
    fn slope_adds_a_multiple_of_mjj_to_every_jet_mass() {
        let plain = lhco_toy(&options(20_000, 1_000, 13)).unwrap();
        let sloped = lhco_toy(&LhcoToyOptions {
            mj_mjj_slope: 0.1,
            ..options(20_000, 1_000, 13)
        })
        .unwrap();
        let mjj = column(&plain, "mjj");
        for name in ["mj1", "mj2"] {
            let (p, s) = (column(&plain, name), column(&sloped, name));
            assert!(
                (0..mjj.len()).all(|i| (s[i] - p[i] - 0.1 * mjj[i]).abs() < 1e-9),
                "{name}"
            );
        }
        for name in ["mjj", "tau21_1", "tau21_2", "tau32_1", "tau32_2", "label"] {
            assert_eq!(column(&plain, name), column(&sloped, name));
        }
        let dmj = column(&plain, "dmj").iter().zip(column(&sloped, "dmj"));
        assert!(dmj.into_iter().all(|(p, s)| (p - s).abs() < 1e-9));
    }

    #[test]
    fn power_scales_the_background_jet_masses_with_mjj() {
        let plain = lhco_toy(&options(20_000, 1_000, 14)).unwrap();
        let same = lhco_toy(&LhcoToyOptions {
            mj_mjj_power: 0.0,
            ..options(20_000, 1_000, 14)
        })
        .unwrap();
        assert_eq!(plain, same, "power 0 is today's sample");
        let scaled = lhco_toy(&LhcoToyOptions {
            mj_mjj_power: MJ_PROPORTIONAL_POWER,
            ..options(200_000, 1_000, 14)
        })
        .unwrap();
        let (mjj, label) = (column(&scaled, "mjj"), column(&scaled, "label"));
        // The background's mj/mjj: the same median and upper end at 2.8-3 TeV and 4-4.5 TeV.
        let ratios = |lo: f64, hi: f64| -> Vec<f64> {
            (0..mjj.len())
                .filter(|&i| label[i] == 0.0 && (lo..hi).contains(&mjj[i]))
                .flat_map(|i| {
                    [
                        column(&scaled, "mj1")[i] / mjj[i],
                        column(&scaled, "mj2")[i] / mjj[i],
                    ]
                })
                .collect()
        };
        let (low, high) = (ratios(2_800.0, 3_000.0), ratios(4_000.0, 4_500.0));
        let growth = (median(&high) / median(&low)).ln() / (4_250.0f64 / 2_900.0).ln();
        assert!(growth.abs() < 0.1, "mj/mjj median grows as mjj^{growth}");
        for r in low.iter().chain(&high) {
            assert!(*r <= QCD_MASS_MAX_FRACTION + 1e-12, "mj/mjj = {r}");
        }
        // Today's jets: mj/mjj falls almost as 1/mjj.
        let mjj0 = column(&plain, "mjj");
        let today = |lo: f64, hi: f64| -> f64 {
            let r: Vec<f64> = (0..mjj0.len())
                .filter(|&i| column(&plain, "label")[i] == 0.0 && (lo..hi).contains(&mjj0[i]))
                .map(|i| column(&plain, "mj2")[i] / mjj0[i])
                .collect();
            median(&r)
        };
        let today_growth =
            (today(4_000.0, 4_500.0) / today(2_800.0, 3_000.0)).ln() / (4_250.0f64 / 2_900.0).ln();
        assert!(
            today_growth < -0.6,
            "today mj/mjj grows as mjj^{today_growth}"
        );
        // Substructure and signal jets are left alone: tau21 of the whole sample barely moves
        // and the signal's heavier jet still peaks at mx.
        let signal_mj1: Vec<f64> = (0..mjj.len())
            .filter(|&i| label[i] == 1.0)
            .map(|i| column(&scaled, "mj1")[i])
            .collect();
        assert!(
            (median(&signal_mj1) - 500.0).abs() < 40.0,
            "{}",
            median(&signal_mj1)
        );
        let tau_shift = mean(column(&scaled, "tau21_2")) - mean(column(&plain, "tau21_2"));
        assert!(tau_shift.abs() < 0.02, "tau21 shift {tau_shift}");
    }

    #[test]
    fn presets_have_the_documented_contents() {
        let rnd = LhcoToyOptions::preset(Preset::Rnd);
        assert_eq!(
            (rnd.background, rnd.signal, rnd.mz, rnd.mx, rnd.my),
            (1_000_000, 1_000, 3_500.0, 500.0, 100.0)
        );
        assert_eq!((rnd.variant, rnd.mj_mjj_slope), (Variant::Data, 0.0));
        assert_eq!(LhcoToyOptions::default(), rnd);
        let bb1 = LhcoToyOptions::preset(Preset::Bb1);
        assert_eq!((bb1.background + bb1.signal, bb1.signal), (1_000_000, 834));
        assert_eq!(
            (bb1.mz, bb1.mx, bb1.my, bb1.variant),
            (3_823.0, 732.0, 378.0, Variant::Data)
        );
        let bb2 = LhcoToyOptions::preset(Preset::Bb2);
        assert_eq!(
            (bb2.background, bb2.signal, bb2.variant),
            (1_000_000, 0, Variant::Sim)
        );
        for p in Preset::ALL {
            assert_eq!(Preset::parse(p.name()).unwrap(), p);
            LhcoToyOptions::preset(p).validate().unwrap();
        }
        for v in Variant::ALL {
            assert_eq!(Variant::parse(v.name()).unwrap(), v);
        }
    }

    #[test]
    fn invalid_options_are_rejected_with_the_option_named() {
        let err = |e: Error| e.to_string();
        assert!(err(Preset::parse("bb3").unwrap_err()).contains("rnd, bb1, bb2"));
        assert!(err(Variant::parse("herwig").unwrap_err()).contains("data, sim"));
        let ok = LhcoToyOptions::default();
        let cases = [
            (
                LhcoToyOptions {
                    background: 0,
                    signal: 0,
                    ..ok.clone()
                },
                "signal",
            ),
            (
                LhcoToyOptions {
                    background: MAX_EVENTS,
                    signal: 1,
                    ..ok.clone()
                },
                "background",
            ),
            (
                LhcoToyOptions {
                    background: usize::MAX,
                    signal: 1,
                    ..ok.clone()
                },
                "background",
            ),
            (
                LhcoToyOptions {
                    mx: -1.0,
                    ..ok.clone()
                },
                "mx",
            ),
            (
                LhcoToyOptions {
                    my: 1e-3,
                    ..ok.clone()
                },
                "my",
            ),
            (
                LhcoToyOptions {
                    my: f64::NAN,
                    ..ok.clone()
                },
                "my",
            ),
            (
                LhcoToyOptions {
                    mz: 0.0,
                    ..ok.clone()
                },
                "mz",
            ),
            (
                LhcoToyOptions {
                    mz: 13_000.0,
                    ..ok.clone()
                },
                "mz",
            ),
            (
                LhcoToyOptions {
                    mx: 3_000.0,
                    my: 500.0,
                    ..ok.clone()
                },
                "mz",
            ),
            (
                LhcoToyOptions {
                    mj_mjj_slope: -0.1,
                    ..ok.clone()
                },
                "mj_mjj_slope",
            ),
            (
                LhcoToyOptions {
                    mj_mjj_slope: f64::INFINITY,
                    ..ok.clone()
                },
                "mj_mjj_slope",
            ),
            (
                LhcoToyOptions {
                    mj_mjj_power: 2.5,
                    ..ok.clone()
                },
                "mj_mjj_power",
            ),
            (
                LhcoToyOptions {
                    mj_mjj_power: f64::NAN,
                    ..ok.clone()
                },
                "mj_mjj_power",
            ),
        ];
        for (opts, name) in cases {
            let message = err(lhco_toy(&opts).unwrap_err());
            assert!(
                message.starts_with(&format!("invalid {name}:")),
                "{message}"
            );
        }
    }

    /// Generation time of the R&D-like preset: `cargo test --release --lib lhco -- --ignored
    /// --nocapture`.
    #[test]
    #[ignore]
    fn time_one_million_events() {
        let start = std::time::Instant::now();
        let cols = lhco_toy(&LhcoToyOptions::default()).unwrap();
        println!(
            "{} events in {:.3} s",
            cols[0].1.len(),
            start.elapsed().as_secs_f64()
        );
    }
}
