//! Four-momenta and their kinematics in FastJet's conventions: rapidity (not pseudorapidity)
//! with a large finite value along the beam, azimuth in [0, 2π), distances in (y, φ).

use std::f64::consts::{PI, TAU};

use crate::{Error, Result};

/// The rapidity FastJet gives a momentum along the beam axis (zero transverse momentum and
/// E = |pz|), before adding |pz|.
const MAX_RAP: f64 = 1e5;

/// A four-momentum (px, py, pz, E): an input particle or a jet. Jets are E-scheme sums of
/// their constituents.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Particle {
    /// Momentum along x.
    pub px: f64,
    /// Momentum along y.
    pub py: f64,
    /// Momentum along the beam.
    pub pz: f64,
    /// Energy.
    pub e: f64,
}

impl Particle {
    /// A particle from its four-momentum; every component must be finite.
    pub fn new(px: f64, py: f64, pz: f64, e: f64) -> Result<Self> {
        let p = Particle { px, py, pz, e };
        p.check(|| "particle".to_string())?;
        Ok(p)
    }

    /// A massless particle from transverse momentum, pseudorapidity and azimuth (the LHC
    /// Olympics particle layout): px = pT cos φ, py = pT sin φ, pz = pT sinh η, E = pT cosh η.
    /// pT must be finite and non-negative, η and φ finite.
    pub fn from_pt_eta_phi(pt: f64, eta: f64, phi: f64) -> Result<Self> {
        if !(pt.is_finite() && pt >= 0.0) {
            return Err(Error::invalid(
                "particle pt",
                format!("{pt} (must be finite and >= 0)"),
            ));
        }
        if !eta.is_finite() || !phi.is_finite() {
            return Err(Error::invalid(
                "particle eta/phi",
                format!("({eta}, {phi}) must be finite"),
            ));
        }
        Particle::new(
            pt * phi.cos(),
            pt * phi.sin(),
            pt * eta.sinh(),
            pt * eta.cosh(),
        )
    }

    /// An error naming `what()` if a component is NaN or infinite (`what` is only called
    /// then, so a caller checking many particles formats no names).
    pub(crate) fn check(&self, what: impl FnOnce() -> String) -> Result<()> {
        if [self.px, self.py, self.pz, self.e]
            .iter()
            .all(|v| v.is_finite())
        {
            Ok(())
        } else {
            Err(Error::invalid(
                what(),
                format!(
                    "four-momentum ({}, {}, {}, {}) has a non-finite component",
                    self.px, self.py, self.pz, self.e
                ),
            ))
        }
    }

    /// Transverse momentum squared.
    pub fn pt2(&self) -> f64 {
        self.px * self.px + self.py * self.py
    }

    /// Transverse momentum.
    pub fn pt(&self) -> f64 {
        self.pt2().sqrt()
    }

    /// Invariant mass squared, (E + pz)(E - pz) - pT² (negative for unphysical momenta).
    pub fn m2(&self) -> f64 {
        (self.e + self.pz) * (self.e - self.pz) - self.pt2()
    }

    /// Invariant mass; -sqrt(-m²) when m² is negative, as FastJet's `m()`.
    pub fn mass(&self) -> f64 {
        let m2 = self.m2();
        if m2 < 0.0 { -(-m2).sqrt() } else { m2.sqrt() }
    }

    /// Azimuth in [0, 2π); 0 for a momentum along the beam.
    pub fn phi(&self) -> f64 {
        let pt2 = self.pt2();
        if pt2 == 0.0 {
            return 0.0;
        }
        let mut phi = self.py.atan2(self.px);
        if phi < 0.0 {
            phi += TAU;
        }
        if phi >= TAU {
            phi -= TAU;
        }
        phi
    }

    /// Rapidity ½ ln((E + pz)/(E - pz)) computed as FastJet does (a negative m² counts as
    /// zero); ±(10⁵ + |pz|) for a momentum along the beam.
    pub fn rapidity(&self) -> f64 {
        let pt2 = self.pt2();
        if self.e == self.pz.abs() && pt2 == 0.0 {
            let max = MAX_RAP + self.pz.abs();
            return if self.pz >= 0.0 { max } else { -max };
        }
        let m2 = self.m2().max(0.0);
        let e_plus_pz = self.e + self.pz.abs();
        let rap = 0.5 * ((pt2 + m2) / (e_plus_pz * e_plus_pz)).ln();
        if self.pz > 0.0 { -rap } else { rap }
    }

    /// Squared distance in (rapidity, azimuth) to `other`.
    pub fn delta_r2(&self, other: &Particle) -> f64 {
        delta_r2(self.rapidity(), self.phi(), other.rapidity(), other.phi())
    }
}

impl std::ops::Add for Particle {
    type Output = Particle;

    /// The E-scheme sum.
    fn add(self, o: Particle) -> Particle {
        Particle {
            px: self.px + o.px,
            py: self.py + o.py,
            pz: self.pz + o.pz,
            e: self.e + o.e,
        }
    }
}

/// Squared (y, φ) distance between two points with azimuths in [0, 2π), the azimuthal
/// difference folded into [0, π] as FastJet folds it.
pub(crate) fn delta_r2(rap1: f64, phi1: f64, rap2: f64, phi2: f64) -> f64 {
    let dphi = PI - (PI - (phi1 - phi2).abs()).abs();
    let drap = rap1 - rap2;
    dphi * dphi + drap * drap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn massless_particle_has_its_eta_as_rapidity_and_phi_in_range() {
        let p = Particle::from_pt_eta_phi(50.0, 1.3, -0.5).unwrap();
        assert!((p.pt() - 50.0).abs() < 1e-12);
        assert!((p.rapidity() - 1.3).abs() < 1e-12);
        assert!((p.phi() - (TAU - 0.5)).abs() < 1e-12);
        assert!(p.mass().abs() < 1e-5);
    }

    #[test]
    fn beam_momentum_gets_a_large_finite_rapidity() {
        let p = Particle::new(0.0, 0.0, -3.0, 3.0).unwrap();
        assert_eq!(p.rapidity(), -(MAX_RAP + 3.0));
        assert_eq!(p.phi(), 0.0);
    }

    #[test]
    fn azimuthal_distance_wraps_around() {
        let d = delta_r2(0.0, 0.1, 0.0, TAU - 0.1);
        assert!((d - 0.04).abs() < 1e-12);
    }

    #[test]
    fn bad_components_are_errors() {
        assert!(Particle::new(f64::NAN, 0.0, 0.0, 1.0).is_err());
        assert!(Particle::from_pt_eta_phi(-1.0, 0.0, 0.0).is_err());
        assert!(Particle::from_pt_eta_phi(1.0, f64::INFINITY, 0.0).is_err());
    }

    #[test]
    fn negative_mass_squared_gives_a_negative_mass() {
        let p = Particle::new(3.0, 0.0, 0.0, 2.0).unwrap();
        assert!((p.mass() + 5f64.sqrt()).abs() < 1e-12);
    }
}
