//! The detector model: smearing, missing transverse momentum, object identification and
//! acceptance, b-tagging.

use super::decays::{Kind, M_B, Particle};
use super::kinematics::{P4, Rng, normal, uniform};
use crate::data::objects::{MAX_OBJECTS, Object, ObjectEvent, ObjectType};
use rand::RngExt;

// Detector acceptance (GeV, pseudorapidity).
pub(super) const JET_PT_MIN: f64 = 20.0;
pub(super) const JET_ETA_MAX: f64 = 2.8;
pub(super) const BTAG_ETA_MAX: f64 = 2.5;
const BTAG_EFFICIENCY: f64 = 0.7;
const MISTAG_RATE: f64 = 0.01;
pub(super) const LEPTON_PT_MIN: f64 = 15.0;
pub(super) const PHOTON_PT_MIN: f64 = 20.0;
pub(super) const LEPTON_ETA_MAX: f64 = 2.5;
const CALO_ETA_MAX: f64 = 4.9;
const SOFT_TERM_SIGMA: f64 = 10.0;

/// Smears the visible particles, computes the missing transverse momentum and keeps the
/// identified objects, ordered by type then decreasing pT.
pub(super) fn reconstruct(rng: &mut Rng, particles: &[Particle]) -> ObjectEvent {
    let mut mx = SOFT_TERM_SIGMA * normal(rng);
    let mut my = SOFT_TERM_SIGMA * normal(rng);
    let mut objects = Vec::new();
    for particle in particles {
        if particle.kind == Kind::Invisible {
            continue;
        }
        let p = particle
            .p
            .scale(response(rng, particle.kind, particle.p.pt()));
        let eta = p.eta();
        if eta.is_nan() || eta.abs() > CALO_ETA_MAX {
            continue;
        }
        mx -= p.px;
        my -= p.py;
        if let Some(object) = identify(rng, particle.kind, &p, eta) {
            objects.push(object);
        }
    }
    ObjectEvent {
        met: mx.hypot(my),
        met_phi: my.atan2(mx),
        objects: order(objects),
    }
}

/// The measured-over-true momentum ratio: jets `sqrt((0.8/sqrt(pT))^2 + 0.05^2)` Gaussian with
/// a 5% tail uniform in [0.4, 0.95]; leptons and photons 2%.
fn response(rng: &mut Rng, kind: Kind, pt: f64) -> f64 {
    let r = match kind {
        Kind::Parton { .. } if rng.random_bool(0.05) => uniform(rng, 0.4, 0.95),
        Kind::Parton { .. } => {
            let sigma = (0.64 / pt.max(1.0) + 0.0025).sqrt();
            1.0 + sigma * normal(rng)
        }
        _ => 1.0 + 0.02 * normal(rng),
    };
    r.max(0.05)
}

/// The reconstructed object of a measured particle, if it is inside the acceptance.
fn identify(rng: &mut Rng, kind: Kind, p: &P4, eta: f64) -> Option<Object> {
    let pt = p.pt();
    let phi = p.phi();
    let massless = |kind| Object {
        kind,
        e: pt * eta.cosh(),
        pt,
        eta,
        phi,
    };
    match kind {
        Kind::Parton { b } if pt >= JET_PT_MIN && eta.abs() < JET_ETA_MAX => {
            let tag = eta.abs() < BTAG_ETA_MAX
                && rng.random_bool(if b { BTAG_EFFICIENCY } else { MISTAG_RATE });
            let mass = (pt * uniform(rng, 0.04, 0.12)).max(if b { M_B } else { 0.0 });
            let e = (pt * eta.cosh()).hypot(mass);
            Some(Object {
                kind: if tag {
                    ObjectType::BJet
                } else {
                    ObjectType::Jet
                },
                e,
                pt,
                eta,
                phi,
            })
        }
        Kind::Lepton { muon, positive } if pt >= LEPTON_PT_MIN && eta.abs() < LEPTON_ETA_MAX => {
            Some(massless(match (muon, positive) {
                (false, false) => ObjectType::Electron,
                (false, true) => ObjectType::Positron,
                (true, false) => ObjectType::Muon,
                (true, true) => ObjectType::AntiMuon,
            }))
        }
        Kind::Photon if pt >= PHOTON_PT_MIN && eta.abs() < LEPTON_ETA_MAX => {
            Some(massless(ObjectType::Photon))
        }
        _ => None,
    }
}

/// Keeps the [`MAX_OBJECTS`] hardest objects and orders them by type code, then by
/// decreasing pT.
fn order(mut objects: Vec<Object>) -> Vec<Object> {
    if objects.len() > MAX_OBJECTS {
        objects.sort_by(|a, b| b.pt.total_cmp(&a.pt));
        objects.truncate(MAX_OBJECTS);
    }
    objects.sort_by(|a, b| a.kind.cmp(&b.kind).then(b.pt.total_cmp(&a.pt)));
    objects
}
