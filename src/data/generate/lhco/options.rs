//! The options of `lhco_toy`: presets after the LHC Olympics data sets, the data and
//! simulation variants, and their validation.

use super::params::{MAX_EVENTS, MIN_SIGNAL_MASS, MJ_PROPORTIONAL_POWER, SQRT_S};
use crate::{Error, Result};

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

/// What [`lhco_toy`](super::lhco_toy) generates. Start from [`LhcoToyOptions::preset`] (or
/// `default()`, the R&D-like preset) and override fields.
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

    pub(super) fn validate_counts(&self) -> Result<()> {
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

    pub(super) fn validate_masses(&self) -> Result<()> {
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
