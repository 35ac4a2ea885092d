//! The truth of each background process and signal model: the hard system, initial-state
//! radiation and semileptonic b decays.

use super::catalog::{Channel, Process, Setup, SignalModel};
use super::decays::{
    Kind, Particle, WDecay, ZDecay, decay_top, decay_w, decay_z, dilepton, invisible, lepton,
    parton, top_mass, w_mass, z_mass,
};
use super::kinematics::{
    P4, Rng, azimuth, breit_wigner, decay2, falling, hard_scale, normal, pair, poisson, uniform,
};
use rand::RngExt;

const SEMILEPTONIC_B: f64 = 0.2;

pub(super) fn background_truth(rng: &mut Rng, process: Process, setup: &Setup) -> Vec<Particle> {
    match process {
        Process::Qcd => qcd(rng, setup),
        Process::WJets => w_jets(rng, setup),
        Process::ZllJets => z_jets(rng, setup, ZDecay::DrellYan),
        Process::ZnunuJets => z_jets(rng, setup, ZDecay::Invisible),
        Process::Ttbar => ttbar(rng, setup),
        Process::GammaJets => gamma_jets(rng, setup),
        Process::Diboson => diboson(rng, setup),
    }
}

fn qcd(rng: &mut Rng, setup: &Setup) -> Vec<Particle> {
    let pt = falling(rng, setup.jet_min, 60.0, 5.0);
    let bb = rng.random_bool(0.05);
    let (a, b) = pair(rng, pt, 0.0, 0.0, 1.2);
    finish(rng, vec![parton(a, bb), parton(b, bb)], pt)
}

fn w_jets(rng: &mut Rng, setup: &Setup) -> Vec<Particle> {
    let pt = falling(rng, setup.vector_min, 40.0, 4.5);
    let m = w_mass(rng);
    let (w, j) = pair(rng, pt, m, 0.0, 1.2);
    let positive = rng.random_bool(0.58);
    let mode = if setup.leptonic {
        WDecay::Leptonic
    } else {
        WDecay::LeptonNeutrino
    };
    let mut hard = decay_w(rng, w, positive, mode);
    hard.push(parton(j, false));
    finish(rng, hard, hard_scale(pt, m, 0.0))
}

pub(super) fn z_jets(rng: &mut Rng, setup: &Setup, mode: ZDecay) -> Vec<Particle> {
    let pt = falling(rng, setup.vector_min, 40.0, 4.5);
    let m = z_mass(rng);
    let (z, j) = pair(rng, pt, m, 0.0, 1.2);
    let mut hard = decay_z(rng, z, mode);
    hard.push(parton(j, false));
    finish(rng, hard, hard_scale(pt, m, 0.0))
}

fn ttbar(rng: &mut Rng, setup: &Setup) -> Vec<Particle> {
    let pt = falling(rng, setup.top_min, 80.0, 5.0);
    let (m1, m2) = (top_mass(rng), top_mass(rng));
    let (t1, t2) = pair(rng, pt, m1, m2, 1.0);
    let mode = WDecay::for_setup(setup);
    let mut hard = decay_top(rng, t1, true, mode);
    hard.extend(decay_top(rng, t2, false, mode));
    finish(rng, hard, hard_scale(pt, m1, m2))
}

fn gamma_jets(rng: &mut Rng, setup: &Setup) -> Vec<Particle> {
    let pt = falling(rng, setup.photon_min, 40.0, 5.0);
    let (g, j) = pair(rng, pt, 0.0, 0.0, 1.2);
    finish(
        rng,
        vec![
            Particle {
                kind: Kind::Photon,
                p: g,
            },
            parton(j, false),
        ],
        pt,
    )
}

/// WW, WZ or ZZ, with fractions and decays depending on the channel.
fn diboson(rng: &mut Rng, setup: &Setup) -> Vec<Particle> {
    let (ww, wz) = match setup.channel {
        Channel::Ch2a => (0.0, 0.8),
        Channel::Ch2b => (0.5, 0.3),
        Channel::Ch1 | Channel::Ch3 => (0.3, 0.45),
    };
    let z_mode = if setup.leptonic {
        ZDecay::Leptonic
    } else {
        ZDecay::Natural
    };
    let u = rng.random::<f64>();
    let pt = falling(rng, setup.vector_min, 50.0, 4.5);
    let (m1, m2) = match u {
        u if u < ww => (w_mass(rng), w_mass(rng)),
        u if u < ww + wz => (w_mass(rng), z_mass(rng)),
        _ => (z_mass(rng), z_mass(rng)),
    };
    let (a, b) = pair(rng, pt, m1, m2, 1.0);
    let positive = rng.random_bool(0.5);
    let mut hard = if u < ww + wz {
        decay_w(rng, a, positive, WDecay::for_setup(setup))
    } else {
        decay_z(rng, a, z_mode)
    };
    hard.extend(if u < ww {
        decay_w(rng, b, !positive, WDecay::for_setup(setup))
    } else {
        decay_z(rng, b, z_mode)
    });
    finish(rng, hard, hard_scale(pt, m1, m2))
}

pub(super) fn signal_truth(rng: &mut Rng, model: SignalModel, setup: &Setup) -> Vec<Particle> {
    match model {
        SignalModel::ZprimeLl => zprime_ll(rng),
        SignalModel::GluinoJetsMet => gluino_jets_met(rng),
        SignalModel::StopBjets => stop_bjets(rng, setup),
        SignalModel::CharginoNeutralino3l => chargino_neutralino_3l(rng),
    }
}

fn zprime_ll(rng: &mut Rng) -> Vec<Particle> {
    const M_DARK: f64 = 300.0;
    let pt = falling(rng, 0.0, 120.0, 4.0);
    let m = breit_wigner(rng, 1000.0, 30.0, 850.0, 1150.0);
    let (zp, dark) = pair(rng, pt, m, M_DARK, 0.8);
    let mut hard = dilepton(rng, zp);
    hard.push(invisible(dark));
    finish(rng, hard, hard_scale(pt, m, M_DARK))
}

fn gluino_jets_met(rng: &mut Rng) -> Vec<Particle> {
    const M_GLUINO: f64 = 1400.0;
    const M_LSP: f64 = 200.0;
    let pt = falling(rng, 0.0, 150.0, 4.0);
    let (g1, g2) = pair(rng, pt, M_GLUINO, M_GLUINO, 0.8);
    let mut hard = Vec::with_capacity(6);
    for g in [g1, g2] {
        // Three-body g -> q q-bar chi, as two two-body steps through an off-shell state.
        let m_star = uniform(rng, M_LSP + 1.0, M_GLUINO - 1.0);
        let (q1, star) = decay2(rng, g, 0.0, m_star);
        let (q2, chi) = decay2(rng, star, 0.0, M_LSP);
        hard.extend([parton(q1, false), parton(q2, false), invisible(chi)]);
    }
    finish(rng, hard, hard_scale(pt, M_GLUINO, M_GLUINO))
}

fn stop_bjets(rng: &mut Rng, setup: &Setup) -> Vec<Particle> {
    const M_STOP: f64 = 800.0;
    const M_LSP: f64 = 100.0;
    let pt = falling(rng, 0.0, 150.0, 4.0);
    let (s1, s2) = pair(rng, pt, M_STOP, M_STOP, 0.8);
    let mut hard = Vec::with_capacity(10);
    for (stop, positive) in [(s1, true), (s2, false)] {
        let m_top = top_mass(rng);
        let (top, chi) = decay2(rng, stop, m_top, M_LSP);
        hard.extend(decay_top(rng, top, positive, WDecay::for_setup(setup)));
        hard.push(invisible(chi));
    }
    finish(rng, hard, hard_scale(pt, M_STOP, M_STOP))
}

fn chargino_neutralino_3l(rng: &mut Rng) -> Vec<Particle> {
    const M_HEAVY: f64 = 300.0;
    const M_LSP: f64 = 150.0;
    let pt = falling(rng, 0.0, 80.0, 4.0);
    let (c, n) = pair(rng, pt, M_HEAVY, M_HEAVY, 0.8);
    let (m_w, m_z) = (w_mass(rng), z_mass(rng));
    let (w, chi1) = decay2(rng, c, m_w, M_LSP);
    let (z, chi2) = decay2(rng, n, m_z, M_LSP);
    let positive = rng.random_bool(0.5);
    let mut hard = decay_w(rng, w, positive, WDecay::Leptonic);
    hard.extend(decay_z(rng, z, ZDecay::Charged));
    hard.extend([invisible(chi1), invisible(chi2)]);
    finish(rng, hard, hard_scale(pt, M_HEAVY, M_HEAVY))
}

/// Adds ISR partons at hard scale `q` (the hard system recoils against them) and decays b
/// quarks semileptonically.
fn finish(rng: &mut Rng, hard: Vec<Particle>, q: f64) -> Vec<Particle> {
    let mut particles = with_isr(rng, hard, q);
    semileptonic_b(rng, &mut particles);
    particles
}

/// ISR: a Poisson number of partons of mean `1.5 + 0.8 ln(1 + q/50)`, pT falling from 15 GeV
/// with scale `15 + 0.35 q`. The hard system is boosted transversely to balance them.
pub(super) fn with_isr(rng: &mut Rng, mut hard: Vec<Particle>, q: f64) -> Vec<Particle> {
    let n = poisson(rng, 1.5 + 0.8 * (1.0 + q / 50.0).ln());
    let isr: Vec<Particle> = (0..n)
        .map(|_| {
            let pt = falling(rng, 15.0, 15.0 + 0.35 * q, 3.5);
            let y = 1.8 * normal(rng);
            parton(
                P4::from_pt_y_phi_m(pt, y, azimuth(rng), 0.0),
                rng.random_bool(0.03),
            )
        })
        .collect();
    let recoil = isr.iter().fold(P4::default(), |s, p| s.add(p.p));
    let system = hard.iter().fold(P4::default(), |s, p| s.add(p.p));
    let m = system.mass();
    if m > 0.0 && !isr.is_empty() {
        let target = P4 {
            e: 0.0,
            px: -recoil.px,
            py: -recoil.py,
            pz: system.pz,
        };
        let target = P4 {
            e: (m * m + target.p() * target.p()).sqrt(),
            ..target
        };
        let to_rest = system.velocity().map(|v| -v);
        let to_target = target.velocity();
        for particle in &mut hard {
            particle.p = particle.p.boost(to_rest).boost(to_target);
        }
    }
    hard.extend(isr);
    hard
}

/// Each b quark decays semileptonically (to e or mu) with probability 20%: a lepton and a
/// neutrino take fractions of its momentum, collinear with it.
fn semileptonic_b(rng: &mut Rng, particles: &mut Vec<Particle>) {
    let n = particles.len();
    for i in 0..n {
        if particles[i].kind == (Kind::Parton { b: true }) && rng.random_bool(SEMILEPTONIC_B) {
            let p = particles[i].p;
            let z_lepton = uniform(rng, 0.05, 0.35);
            let z_nu = uniform(rng, 0.05, 0.35);
            particles[i].p = p.scale(1.0 - z_lepton - z_nu);
            let (muon, positive) = (rng.random_bool(0.5), rng.random_bool(0.5));
            particles.push(lepton(p.scale(z_lepton), muon, positive));
            particles.push(invisible(p.scale(z_nu)));
        }
    }
}
