//! Truth particles and the decays of W, Z, top and tau, with the masses and widths they use.

use super::catalog::Setup;
use super::kinematics::{P4, Rng, breit_wigner, decay2, uniform};
use rand::RngExt;

// Masses and widths (GeV).
pub(super) const M_W: f64 = 80.4;
const W_WIDTH: f64 = 2.1;
const M_Z: f64 = 91.19;
const Z_WIDTH: f64 = 2.5;
pub(super) const M_TOP: f64 = 172.5;
const TOP_WIDTH: f64 = 1.4;
pub(super) const M_B: f64 = 4.8;

/// What a truth particle looks like to the detector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    /// A quark or gluon (a jet), `b` for a b quark.
    Parton { b: bool },
    /// An electron or muon of charge sign `positive`.
    Lepton { muon: bool, positive: bool },
    /// A photon.
    Photon,
    /// A neutrino or a dark-matter particle.
    Invisible,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Particle {
    pub(super) kind: Kind,
    pub(super) p: P4,
}

pub(super) fn parton(p: P4, b: bool) -> Particle {
    Particle {
        kind: Kind::Parton { b },
        p,
    }
}

pub(super) fn invisible(p: P4) -> Particle {
    Particle {
        kind: Kind::Invisible,
        p,
    }
}

pub(super) fn lepton(p: P4, muon: bool, positive: bool) -> Particle {
    Particle {
        kind: Kind::Lepton { muon, positive },
        p,
    }
}

/// A lepton pair (e+e- or mu+mu-, equally often) from the decay of `parent`.
pub(super) fn dilepton(rng: &mut Rng, parent: P4) -> Vec<Particle> {
    let muon = rng.random_bool(0.5);
    let (a, b) = decay2(rng, parent, 0.0, 0.0);
    vec![lepton(a, muon, true), lepton(b, muon, false)]
}

/// A hadronically decaying tau of momentum `p`: a jet and a neutrino sharing it.
fn hadronic_tau(rng: &mut Rng, p: P4) -> Vec<Particle> {
    let z = uniform(rng, 0.3, 1.0);
    vec![parton(p.scale(z), false), invisible(p.scale(1.0 - z))]
}

/// A tau of momentum `p` decaying to e or mu (equally often) and two neutrinos, collinear.
fn leptonic_tau(rng: &mut Rng, p: P4, positive: bool) -> Vec<Particle> {
    let z = uniform(rng, 0.1, 0.8);
    let muon = rng.random_bool(0.5);
    vec![
        lepton(p.scale(z), muon, positive),
        invisible(p.scale(1.0 - z)),
    ]
}

/// How a W boson decays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum WDecay {
    /// e nu or mu nu, equally often (the lepton channels' forced decays).
    Leptonic,
    /// e nu, mu nu or tau nu, equally often; the tau decays to hadrons 65% of the time, else
    /// to e or mu (the W + jets samples).
    LeptonNeutrino,
    /// Standard Model ratios: e, mu and tau 10.8% each, quarks 67.6%.
    Natural,
}

impl WDecay {
    /// Forced leptonic decays in the lepton channels, natural ones elsewhere.
    pub(super) fn for_setup(setup: &Setup) -> Self {
        if setup.leptonic {
            WDecay::Leptonic
        } else {
            WDecay::Natural
        }
    }
}

pub(super) fn decay_w(rng: &mut Rng, w: P4, positive: bool, mode: WDecay) -> Vec<Particle> {
    let u = rng.random::<f64>();
    let (a, b) = decay2(rng, w, 0.0, 0.0);
    let (e, mu, tau) = match mode {
        WDecay::Leptonic => (0.5, 1.0, 1.0),
        WDecay::LeptonNeutrino => (1.0 / 3.0, 2.0 / 3.0, 1.0),
        WDecay::Natural => (0.108, 0.216, 0.324),
    };
    let mut out = match u {
        u if u < e => vec![lepton(a, false, positive)],
        u if u < mu => vec![lepton(a, true, positive)],
        u if u < tau && rng.random_bool(0.65) => hadronic_tau(rng, a),
        u if u < tau => leptonic_tau(rng, a, positive),
        _ => return vec![parton(a, false), parton(b, false)],
    };
    out.push(invisible(b));
    out
}

/// How a Z boson decays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum ZDecay {
    /// e+e- or mu+mu-.
    Charged,
    /// Drell-Yan: e+e- or mu+mu- 80%, tau+tau- with both taus decaying to e or mu 20%.
    DrellYan,
    /// Neutrinos.
    Invisible,
    /// Charged leptons 80%, neutrinos 20% (the lepton channels' forced decays).
    Leptonic,
    /// Standard Model ratios: ee, mumu, tautau 3.4% each, nu nu 20%, quarks 70% (b b-bar 15%).
    Natural,
}

pub(super) fn decay_z(rng: &mut Rng, z: P4, mode: ZDecay) -> Vec<Particle> {
    let u = rng.random::<f64>();
    let charged = match mode {
        ZDecay::Charged => true,
        ZDecay::DrellYan => u < 0.8,
        ZDecay::Invisible => false,
        ZDecay::Leptonic => u < 0.8,
        ZDecay::Natural => u < 0.068,
    };
    if charged {
        return dilepton(rng, z);
    }
    let (a, b) = decay2(rng, z, 0.0, 0.0);
    match mode {
        ZDecay::DrellYan => {
            let mut taus = leptonic_tau(rng, a, true);
            taus.extend(leptonic_tau(rng, b, false));
            taus
        }
        ZDecay::Natural if u < 0.102 => {
            let mut taus = hadronic_tau(rng, a);
            taus.extend(hadronic_tau(rng, b));
            taus
        }
        ZDecay::Natural if u >= 0.302 => {
            let bb = u >= 0.85;
            vec![parton(a, bb), parton(b, bb)]
        }
        _ => vec![invisible(a), invisible(b)],
    }
}

/// t -> b W, W decayed by [`decay_w`].
pub(super) fn decay_top(rng: &mut Rng, top: P4, positive: bool, mode: WDecay) -> Vec<Particle> {
    let m_w = w_mass(rng);
    let (b, w) = decay2(rng, top, M_B, m_w);
    let mut out = vec![parton(b, true)];
    out.extend(decay_w(rng, w, positive, mode));
    out
}

pub(super) fn w_mass(rng: &mut Rng) -> f64 {
    breit_wigner(rng, M_W, W_WIDTH, 60.0, 100.0)
}

pub(super) fn z_mass(rng: &mut Rng) -> f64 {
    breit_wigner(rng, M_Z, Z_WIDTH, 70.0, 110.0)
}

pub(super) fn top_mass(rng: &mut Rng) -> f64 {
    breit_wigner(rng, M_TOP, TOP_WIDTH, 160.0, 185.0)
}
