//! N-subjettiness (Thaler and Van Tilburg), as fjcontrib's `Nsubjettiness` defines it with
//! fixed (non-optimised) exclusive axes:
//! τ_N = Σ_k pT_k min_j ΔR_jk^β, divided by Σ_k pT_k R0^β when normalised, with ΔR in
//! rapidity and azimuth and the N axes the exclusive jets of the constituents clustered
//! with kT (fjcontrib's `KT_Axes`) or Cambridge/Aachen (`CA_Axes`) at R = 1000.

use super::cluster::cluster;
use super::momentum::Particle;
use super::sequence::{Algorithm, JetDefinition, MAX_R};
use crate::{Error, Result};

/// How the N axes of τ_N are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Axes {
    /// The N exclusive kT jets of the constituents (what the LHC Olympics features used).
    #[default]
    ExclusiveKt,
    /// The N exclusive Cambridge/Aachen jets of the constituents.
    ExclusiveCa,
}

/// Options of [`nsubjettiness`]: β = 1, normalised with R0 = 1, exclusive-kT axes by default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NsubOptions {
    /// The angular exponent β (> 0).
    pub beta: f64,
    /// R0 of the normalisation Σ pT_k R0^β; `None` leaves τ_N in units of pT.
    pub r0: Option<f64>,
    /// How the axes are found.
    pub axes: Axes,
}

impl Default for NsubOptions {
    fn default() -> Self {
        NsubOptions {
            beta: 1.0,
            r0: Some(1.0),
            axes: Axes::ExclusiveKt,
        }
    }
}

impl NsubOptions {
    fn check(&self) -> Result<()> {
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return Err(Error::invalid(
                "N-subjettiness beta",
                format!("{} (must be finite and > 0)", self.beta),
            ));
        }
        match self.r0 {
            Some(r0) if !(r0.is_finite() && r0 > 0.0) => Err(Error::invalid(
                "N-subjettiness R0",
                format!("{r0} (must be finite and > 0)"),
            )),
            _ => Ok(()),
        }
    }
}

/// τ_1 .. τ_`n_max` of a jet's constituents. τ_N is 0 when the jet has at most N
/// constituents (each is its own axis) and when the normalisation Σ pT_k is 0.
pub fn nsubjettiness(
    constituents: &[Particle],
    n_max: usize,
    options: &NsubOptions,
) -> Result<Vec<f64>> {
    options.check()?;
    if n_max == 0 {
        return Err(Error::invalid("N-subjettiness N", "0 (must be >= 1)"));
    }
    let algorithm = match options.axes {
        Axes::ExclusiveKt => Algorithm::Kt,
        Axes::ExclusiveCa => Algorithm::CambridgeAachen,
    };
    let seq = cluster(
        constituents,
        &JetDefinition {
            algorithm,
            r: MAX_R,
        },
    )?;
    let points: Vec<(f64, f64, f64)> = constituents
        .iter()
        .map(|p| (p.pt(), p.rapidity(), p.phi()))
        .collect();
    let norm = match options.r0 {
        Some(r0) => points.iter().map(|p| p.0).sum::<f64>() * r0.powf(options.beta),
        None => 1.0,
    };
    let mut taus = Vec::with_capacity(n_max);
    for n in 1..=n_max {
        if constituents.len() <= n || norm == 0.0 {
            taus.push(0.0);
            continue;
        }
        let axes: Vec<(f64, f64)> = seq
            .exclusive_jets(n)?
            .iter()
            .map(|a| (a.momentum.rapidity(), a.momentum.phi()))
            .collect();
        let sum: f64 = points
            .iter()
            .map(|&(pt, rap, phi)| {
                let d2 = axes
                    .iter()
                    .map(|&(ar, ap)| super::momentum::delta_r2(rap, phi, ar, ap))
                    .fold(f64::INFINITY, f64::min);
                let d = d2.sqrt();
                pt * if options.beta == 1.0 {
                    d
                } else {
                    d.powf(options.beta)
                }
            })
            .sum();
        taus.push(sum / norm);
    }
    Ok(taus)
}

/// A jet's mass and N-subjettiness τ_1..τ_3 with the ratios τ21 = τ2/τ1 and τ32 = τ3/τ2
/// (a ratio is 0 when its denominator is 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Substructure {
    /// The jet's invariant mass (FastJet's `m()`).
    pub mass: f64,
    /// τ_1.
    pub tau1: f64,
    /// τ_2.
    pub tau2: f64,
    /// τ_3.
    pub tau3: f64,
    /// τ_2 / τ_1.
    pub tau21: f64,
    /// τ_3 / τ_2.
    pub tau32: f64,
}

/// Mass and N-subjettiness of the jet made of `constituents`.
pub fn substructure(constituents: &[Particle], options: &NsubOptions) -> Result<Substructure> {
    let taus = nsubjettiness(constituents, 3, options)?;
    let jet = constituents.iter().fold(Particle::default(), |a, p| a + *p);
    let ratio = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
    Ok(Substructure {
        mass: jet.mass(),
        tau1: taus[0],
        tau2: taus[1],
        tau3: taus[2],
        tau21: ratio(taus[1], taus[0]),
        tau32: ratio(taus[2], taus[1]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pt: f64, eta: f64, phi: f64) -> Particle {
        Particle::from_pt_eta_phi(pt, eta, phi).unwrap()
    }

    #[test]
    fn two_prongs_have_small_tau2() {
        // Two tight prongs 0.8 apart: tau_1 ~ the pT times 0.4; for tau_2 each prong's soft
        // particle is ~0.0099 from its axis and each hard one ~0.0001.
        let c = [
            p(100.0, 0.0, 1.0),
            p(100.0, 0.8, 1.0),
            p(1.0, 0.01, 1.0),
            p(1.0, 0.81, 1.0),
        ];
        let opts = NsubOptions {
            r0: None,
            ..Default::default()
        };
        let t = nsubjettiness(&c, 3, &opts).unwrap();
        assert!((t[0] - 202.0 * 0.4).abs() < 0.5, "{t:?}");
        assert!((t[1] - 0.0396).abs() < 1e-3, "{t:?}");
        assert!(t[2] >= 0.0 && t[2] <= t[1], "{t:?}");
        let s = substructure(&c, &NsubOptions::default()).unwrap();
        assert!((s.tau1 - t[0] / 202.0).abs() < 1e-12);
        assert!((s.tau21 - t[1] / t[0]).abs() < 1e-12);
        assert!(s.mass > 0.0);
    }

    #[test]
    fn beta_scales_the_distances() {
        let c = [p(10.0, 0.0, 0.0), p(10.0, 0.5, 0.0)];
        let t1 = nsubjettiness(
            &c,
            1,
            &NsubOptions {
                r0: None,
                ..Default::default()
            },
        )
        .unwrap();
        let t2 = nsubjettiness(
            &c,
            1,
            &NsubOptions {
                beta: 2.0,
                r0: None,
                ..Default::default()
            },
        )
        .unwrap();
        // The axis sits midway: each particle 0.25 away.
        assert!((t1[0] - 20.0 * 0.25).abs() < 1e-6, "{t1:?}");
        assert!((t2[0] - 20.0 * 0.0625).abs() < 1e-6, "{t2:?}");
    }

    #[test]
    fn few_constituents_give_zero_and_bad_options_are_errors() {
        let c = [p(10.0, 0.0, 0.0)];
        assert_eq!(
            nsubjettiness(&c, 2, &NsubOptions::default()).unwrap(),
            vec![0.0, 0.0]
        );
        assert_eq!(
            nsubjettiness(&[], 1, &NsubOptions::default()).unwrap(),
            vec![0.0]
        );
        let s = substructure(&c, &NsubOptions::default()).unwrap();
        assert_eq!((s.tau21, s.tau32), (0.0, 0.0));
        assert!(nsubjettiness(&c, 0, &NsubOptions::default()).is_err());
        for beta in [0.0, f64::NAN] {
            assert!(
                nsubjettiness(
                    &c,
                    1,
                    &NsubOptions {
                        beta,
                        ..Default::default()
                    }
                )
                .is_err()
            );
        }
        assert!(
            nsubjettiness(
                &c,
                1,
                &NsubOptions {
                    r0: Some(-1.0),
                    ..Default::default()
                }
            )
            .is_err()
        );
        let nan = [Particle {
            e: f64::NAN,
            ..c[0]
        }];
        assert!(nsubjettiness(&nan, 1, &NsubOptions::default()).is_err());
    }
}
