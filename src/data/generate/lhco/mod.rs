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

mod options;
mod params;
#[cfg(test)]
mod tests;

pub use self::options::{LhcoToyOptions, Preset, Variant};
pub use self::params::{COLUMNS, MAX_EVENTS, MIN_SIGNAL_MASS, MJ_PROPORTIONAL_POWER};

/// The default toy's `background` and `signal` events from `seed` as an event set: the small
/// samples the searches' unit tests run on.
#[cfg(test)]
pub(crate) fn toy_events(
    background: usize,
    signal: usize,
    seed: u64,
) -> crate::data::eventset::EventSet {
    let columns = lhco_toy(&LhcoToyOptions {
        background,
        signal,
        seed,
        ..LhcoToyOptions::default()
    })
    .unwrap();
    crate::data::eventset::EventSet::from_columns(columns).unwrap()
}

use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use self::params::{
    COMPONENT_PIVOT, DIJET_COMPONENTS, FSR_TAIL_FRACTION, FSR_TAIL_MEAN, MISS_ANGLE,
    MISS_PROBABILITY_MAX, MISSED_PRONG_MASS, MISSED_PRONG_MJJ_LOSS, MJJ_CELLS, MJJ_RANGE,
    QCD_MASS_LOG_SIGMA, QCD_MASS_MAX_FRACTION, QCD_MASS_MEDIAN, QCD_MASS_MJJ_POWER, QCD_TAU21,
    QCD_TAU32, SHUFFLE_STREAM, SIGNAL_MJ_RESOLUTION, SIGNAL_MJJ_RESOLUTION, SIGNAL_RADIATION,
    SIGNAL_STREAM, SIGNAL_TAU_MASS_PIVOT, SIGNAL_TAU21, SIGNAL_TAU32, SIM_MASS_PULL,
    SIM_QCD_TAU21_SD, SIM_TAU21_SHIFT, SQRT_S, TAU_CORRELATION, TAU_MASS_PIVOT, TAU_MAX,
    TURN_ON_MID, TURN_ON_WIDTH,
};
use super::in_chunks;
use crate::Result;
use crate::data::NamedColumns;
use crate::interrupt::Interrupt;
use crate::seed::rng_for;

/// Generates an LHC-Olympics-like dijet sample: the columns of [`COLUMNS`] (`label` is 1 for
/// signal, 0 for background), events shuffled so that signal is spread through the sample.
/// The output depends only on the options, not on the number of threads.
///
/// Fails with [`Error::InvalidArgument`](crate::Error::InvalidArgument) when
/// [`LhcoToyOptions::validate`] does.
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
