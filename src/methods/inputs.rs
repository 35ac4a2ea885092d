//! The inputs of a resonant search: the events within a mass range, their masses, mass
//! bins and standardised classifier features as one row-major matrix, ready to become
//! tensors by rows without touching the event set again.

use candle_core::{Device, Tensor};

use crate::data::binning::find_bin;
use crate::data::eventset::EventSet;
use crate::data::scaler::{ScalerKind, fitted_parameters};
use crate::error::{Error, Result};
use crate::nn::layers::matrix;

/// How [`InputSpec::rescale`]'s features (jet masses in GeV: mj1, mj2, dmj) are divided by the
/// event's mass m_JJ so that their background distribution depends less on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rescaling {
    /// `m → m / m_JJ`. If the background's jet masses scale with m_JJ (m_J = m_JJ · u with u
    /// independent of m_JJ), the ratio's distribution does not depend on m_JJ at all, at every
    /// value including the low end where a classifier's cut sits. CWoLa's default.
    #[default]
    Ratio,
    /// Eq. 4.2 of LHC Olympics 2020, `m → (m - 30 GeV)/m_JJ + 30/3000`. The offset's share, -30 GeV /
    /// m_JJ, moves with m_JJ: for a jet-mass difference dmj, whose density is largest near 0,
    /// the lower edge of the rescaled values is at -30/m_JJ + 0.01, so a cut there keeps a
    /// different fraction of signal-region and sideband background (see docs/cwola.md).
    Eq42,
}

impl Rescaling {
    /// Every rescaling, in the order their names are listed in error messages.
    pub const ALL: [Rescaling; 2] = [Rescaling::Ratio, Rescaling::Eq42];

    /// The name scripts use: `"ratio"` or `"eq4.2"`.
    pub fn name(self) -> &'static str {
        match self {
            Rescaling::Ratio => "ratio",
            Rescaling::Eq42 => "eq4.2",
        }
    }

    /// The rescaling called `name`; an [`Error::InvalidArgument`] naming `rescaling` and the
    /// allowed names otherwise.
    pub fn parse(name: &str) -> Result<Self> {
        Error::choose("rescaling", "rescaling", name, &Self::ALL, Self::name)
    }

    /// The rescaled value as a formula of the jet mass m and the event's mass mjj.
    pub fn formula(self) -> &'static str {
        match self {
            Rescaling::Ratio => "m/mjj",
            Rescaling::Eq42 => "(m - 30 GeV)/mjj + 0.01",
        }
    }

    /// The rescaled value of a jet mass `value` (GeV) in an event of mass `mass`.
    pub fn apply(self, value: f64, mass: f64) -> f64 {
        match self {
            Rescaling::Ratio => value / mass,
            Rescaling::Eq42 => (value - 30.0) / mass + 30.0 / 3000.0,
        }
    }

    /// The jet mass that has, in an event of mass `to`, the rescaled value `value` has in an
    /// event of mass `from` (the inverse of [`apply`](Self::apply) at `to` after it at `from`).
    pub fn transfer(self, value: f64, from: f64, to: f64) -> f64 {
        let rescaled = self.apply(value, from);
        match self {
            Rescaling::Ratio => rescaled * to,
            Rescaling::Eq42 => (rescaled - 30.0 / 3000.0) * to + 30.0,
        }
    }
}

/// Which columns make the inputs, and the mass range.
pub struct InputSpec<'a> {
    /// The resonant variable.
    pub mass: &'a str,
    /// The classifier's features.
    pub features: &'a [String],
    /// Features divided by the mass, as [`Inputs::with_rescaling`]'s [`Rescaling`] says
    /// ([`Inputs::new`]: the default, [`Rescaling::Ratio`]).
    pub rescale: &'a [String],
    /// Features replaced by `ln(1 + value)` (jet masses in GeV, whose low end a network then
    /// resolves); they must be above -1.
    pub logarithm: &'a [String],
    /// Mass bin edges: events outside them are left out, the others get their bin.
    pub edges: &'a [f64],
}

/// The events in the mass range: their positions in the event set, masses, bins and
/// standardised (and, where asked, rescaled) features. Rows are these events, in order.
pub struct Inputs {
    /// Each row's position in the event set.
    pub positions: Vec<usize>,
    /// Each row's mass.
    pub mass: Vec<f64>,
    /// Each row's mass bin.
    pub bin: Vec<usize>,
    /// Row-major [events, features].
    x: Vec<f32>,
    /// Features per row.
    pub features: usize,
    /// Per feature, the (mean, standard deviation) it was standardised with.
    pub scaling: Vec<(f64, f64)>,
    /// Where the tensors are made.
    pub device: Device,
}

impl Inputs {
    /// The inputs of `events` whose `spec.mass` lies within `spec.edges`, standardised with
    /// `scaling` if given (simulation takes the data's), with their own means and deviations
    /// otherwise. A missing column, a NaN mass or a non-finite feature is an error naming it.
    /// `spec.rescale`'s features are rescaled by the default [`Rescaling::Ratio`].
    pub fn new(
        events: &EventSet,
        spec: &InputSpec,
        scaling: Option<&[(f64, f64)]>,
        device: &Device,
    ) -> Result<Self> {
        Self::with_rescaling(events, spec, Rescaling::default(), scaling, device)
    }

    /// [`Inputs::new`] with `spec.rescale`'s features rescaled by `rescaling`.
    pub fn with_rescaling(
        events: &EventSet,
        spec: &InputSpec,
        rescaling: Rescaling,
        scaling: Option<&[(f64, f64)]>,
        device: &Device,
    ) -> Result<Self> {
        let mass_all = events.column(spec.mass)?;
        let columns = spec
            .features
            .iter()
            .map(|f| events.column(f))
            .collect::<Result<Vec<_>>>()?;
        if let Some(i) = mass_all.iter().position(|m| m.is_nan()) {
            return Err(Error::invalid(
                spec.mass,
                format!("event {i} has a NaN mass"),
            ));
        }
        let mut positions = Vec::new();
        let mut bin = Vec::new();
        for (i, &m) in mass_all.iter().enumerate() {
            if let Some(b) = find_bin(spec.edges, m) {
                positions.push(i);
                bin.push(b);
            }
        }
        if positions.is_empty() {
            return Err(Error::invalid(
                "edges",
                format!(
                    "no event has {} in the hunt range {}–{}",
                    spec.mass,
                    spec.edges[0],
                    spec.edges[spec.edges.len() - 1]
                ),
            ));
        }
        let mass: Vec<f64> = positions.iter().map(|&i| mass_all[i]).collect();
        let f = spec.features.len();
        let mut x = vec![0f32; positions.len() * f];
        let mut fitted = Vec::with_capacity(f);
        for (j, (name, column)) in spec.features.iter().zip(&columns).enumerate() {
            let rescale = spec.rescale.contains(name);
            let logarithm = spec.logarithm.contains(name);
            let values: Vec<f64> = positions
                .iter()
                .zip(&mass)
                .map(|(&i, &m)| {
                    let v = column[i];
                    if rescale {
                        rescaling.apply(v, m)
                    } else if logarithm {
                        // ln(1 + m/GeV): a massless one-particle jet (FastJet's mass of
                        // -0.00003 GeV from rounding, or 0) stays finite.
                        if v > -1.0 { v.ln_1p() } else { f64::NAN }
                    } else {
                        v
                    }
                })
                .collect();
            if let Some(k) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    name,
                    format!(
                        "event {} has the value {}{}",
                        positions[k],
                        column[positions[k]],
                        if logarithm {
                            " (ln(1 + value) is taken: it must be > -1)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            let (mean, sd) = match scaling {
                Some(given) => given[j],
                None => fitted_parameters(ScalerKind::Standard, &values),
            };
            for (row, v) in values.iter().enumerate() {
                x[row * f + j] = ((v - mean) / sd) as f32;
            }
            fitted.push((mean, sd));
        }
        Ok(Self {
            positions,
            mass,
            bin,
            x,
            features: f,
            scaling: fitted,
            device: device.clone(),
        })
    }

    /// Rows (events in the mass range).
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// The mean and standard deviation of ln m over the rows: the standardisation of the
    /// mass when it conditions a network (SALAD's DCTR, ANODE's flows).
    pub fn log_mass_scaling(&self) -> (f64, f64) {
        let log_mass: Vec<f64> = self.mass.iter().map(|m| m.ln()).collect();
        fitted_parameters(ScalerKind::Standard, &log_mass)
    }

    /// ln m of `rows`, standardised with `scaling` (from [`Inputs::log_mass_scaling`], maybe
    /// of other inputs), as a tensor [rows, 1].
    pub fn log_mass(&self, rows: &[usize], scaling: (f64, f64)) -> Result<Tensor> {
        let (mean, sd) = scaling;
        let m: Vec<f32> = rows
            .iter()
            .map(|&r| ((self.mass[r].ln() - mean) / sd) as f32)
            .collect();
        matrix(m, 1, &self.device)
    }

    /// The standardised features of `rows` as a tensor [rows, features].
    pub fn tensor(&self, rows: &[usize]) -> Result<Tensor> {
        let f = self.features;
        let mut data = Vec::with_capacity(rows.len() * f);
        for &r in rows {
            data.extend_from_slice(&self.x[r * f..(r + 1) * f]);
        }
        matrix(data, f, &self.device)
    }
}
