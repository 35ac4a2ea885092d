//! Dark-Machines-like object-level generator: a toy of the Standard Model backgrounds and a few
//! new-physics signals in the four channels of the Dark Machines anomaly score challenge, as
//! reconstructed objects (jets, b-jets, e-/e+, mu-/mu+, photons) plus missing transverse energy.
//!
//! The model, in short (the full description with every number is `docs/darkmachines.md`):
//! - **Truth.** Each process produces a hard system that is balanced in the transverse plane
//!   (two-body production, followed by two-body decays of W, Z, top and new particles in their
//!   rest frames), plus initial-state-radiation (ISR) partons against which the hard system
//!   recoils, plus semileptonic b decays. Spectra fall as power laws, cut off at the kinematic
//!   limit.
//! - **Detector.** Visible particles are smeared (jets about 10%, leptons and photons 2%, with a
//!   non-Gaussian tail for jets); the missing transverse momentum is minus the vector sum of all
//!   measured visible particles (|eta| < 4.9) plus a soft term, so it holds the neutrinos, the
//!   dark-matter particles and the mismeasurement. Objects are kept above thresholds (jets
//!   pT > 20 GeV, |eta| < 2.8; leptons pT > 15 GeV and photons pT > 20 GeV, |eta| < 2.5),
//!   b-tagged with 70% efficiency (1% mistag) within |eta| < 2.5.
//! - **Selection.** Each channel's selection of the Deep Set VAE paper, section 2
//!   ([`Channel::passes`]). For each background event a process is drawn from the channel's
//!   mix ([`Channel::background_mix`]) and events of it are generated until one passes, so a
//!   sample holds exactly the requested number of events in the mix's proportions.
//!
//! Objects are ordered by type code (j, b, e-, e+, m-, m+, g), then by decreasing pT. The output
//! is the flat layout of [`crate::data::objects`] followed by `label` (1 signal, 0 background),
//! `weight` (always 1: the sample is unweighted, rates live in the mix) and `process`
//! ([`Process::code`], [`SignalModel::process_id`]). Background events come first, then signal.

use std::f64::consts::PI;

use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

#[cfg(test)]
use super::CHUNK;
use super::in_chunks;
use crate::data::NamedColumns;
use crate::data::objects::{MAX_OBJECTS, Object, ObjectEvent, ObjectType, to_columns};
use crate::interrupt::Interrupt;
use crate::{Error, Result};

type Rng = Xoshiro256PlusPlus;

/// The most events one call may generate (background plus signal), to keep memory bounded.
pub const MAX_EVENTS: usize = 20_000_000;

/// Memory per generated event (objects, then 106 columns of f64), with some room.
const BYTES_PER_EVENT: f64 = 1500.0;

/// Attempts per event before a process is declared unable to reach a channel (never reached
/// with the built-in mixes; a guard against an endless loop).
const MAX_ATTEMPTS: usize = 200_000;

/// First stream of the signal chunks (background chunk `k` uses stream `k`).
const SIGNAL_STREAMS: u64 = 1 << 32;

// Masses and widths (GeV).
const M_W: f64 = 80.4;
const W_WIDTH: f64 = 2.1;
const M_Z: f64 = 91.19;
const Z_WIDTH: f64 = 2.5;
const M_TOP: f64 = 172.5;
const TOP_WIDTH: f64 = 1.4;
const M_B: f64 = 4.8;

// Detector acceptance (GeV, pseudorapidity).
const JET_PT_MIN: f64 = 20.0;
const JET_ETA_MAX: f64 = 2.8;
const BTAG_ETA_MAX: f64 = 2.5;
const BTAG_EFFICIENCY: f64 = 0.7;
const MISTAG_RATE: f64 = 0.01;
const LEPTON_PT_MIN: f64 = 15.0;
const PHOTON_PT_MIN: f64 = 20.0;
const LEPTON_ETA_MAX: f64 = 2.5;
const CALO_ETA_MAX: f64 = 4.9;
const SOFT_TERM_SIGMA: f64 = 10.0;
const SEMILEPTONIC_B: f64 = 0.2;

/// The four Dark Machines channels (Deep Set VAE paper, section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Hadronic activity and missing energy: HT >= 600 GeV, MET >= 200 GeV, MET/HT >= 0.2, at
    /// least four jets (b-jets included) with pT >= 50 GeV, one of them with pT >= 200 GeV.
    Ch1,
    /// At least three leptons (e, mu) with pT >= 15 GeV and MET >= 50 GeV.
    Ch2a,
    /// At least two leptons with pT >= 15 GeV, MET >= 50 GeV and HT >= 50 GeV.
    Ch2b,
    /// Inclusive: HT >= 600 GeV and MET >= 100 GeV.
    Ch3,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 4] = [Channel::Ch1, Channel::Ch2a, Channel::Ch2b, Channel::Ch3];

    /// The channel's name: `"1"`, `"2a"`, `"2b"` or `"3"`.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Ch1 => "1",
            Channel::Ch2a => "2a",
            Channel::Ch2b => "2b",
            Channel::Ch3 => "3",
        }
    }

    /// The channel called `name` (`"1"`, `"2a"`, `"2b"`, `"3"`).
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name.trim()).ok_or_else(|| {
            Error::invalid("channel", format!("'{name}' is not a Dark Machines channel; allowed: \"1\", \"2a\", \"2b\", \"3\""))
        })
    }

    /// Whether `event` passes the channel's selection. HT is the scalar sum of the pT of all
    /// jets and b-jets in the event; leptons are electrons, positrons, muons and anti-muons.
    pub fn passes(self, event: &ObjectEvent) -> bool {
        let ht = ht(event);
        let met = event.met;
        match self {
            Channel::Ch1 => {
                ht >= 600.0
                    && met >= 200.0
                    && met >= 0.2 * ht
                    && count_jets(event, 50.0) >= 4
                    && count_jets(event, 200.0) >= 1
            }
            Channel::Ch2a => count_leptons(event, 15.0) >= 3 && met >= 50.0,
            Channel::Ch2b => count_leptons(event, 15.0) >= 2 && met >= 50.0 && ht >= 50.0,
            Channel::Ch3 => ht >= 600.0 && met >= 100.0,
        }
    }

    /// The background processes of the channel with their fractions of the selected sample.
    pub fn background_mix(self) -> &'static [(Process, f64)] {
        use Process::*;
        match self {
            Channel::Ch1 => &[
                (ZnunuJets, 0.4),
                (WJets, 0.25),
                (Ttbar, 0.3),
                (Diboson, 0.05),
            ],
            Channel::Ch2a => &[(Diboson, 0.6), (Ttbar, 0.4)],
            Channel::Ch2b => &[(Ttbar, 0.55), (ZllJets, 0.25), (Diboson, 0.2)],
            Channel::Ch3 => &[
                (Ttbar, 0.3),
                (WJets, 0.25),
                (ZnunuJets, 0.2),
                (Qcd, 0.15),
                (GammaJets, 0.05),
                (Diboson, 0.05),
            ],
        }
    }

    /// Generator-level settings: minimum pT of the hard systems and whether W/Z bosons are
    /// forced to decay to leptons (the lepton channels). Like the challenge's own
    /// generator-level cuts they make generation fast (selection efficiencies of 1% to 50%);
    /// they also remove the rare selected events with a soft hard system.
    fn setup(self) -> Setup {
        match self {
            Channel::Ch1 => Setup {
                channel: self,
                vector_min: 250.0,
                top_min: 300.0,
                jet_min: 300.0,
                photon_min: 300.0,
                leptonic: false,
            },
            Channel::Ch2a | Channel::Ch2b => Setup {
                channel: self,
                vector_min: 30.0,
                top_min: 0.0,
                jet_min: 0.0,
                photon_min: 0.0,
                leptonic: true,
            },
            Channel::Ch3 => Setup {
                channel: self,
                vector_min: 200.0,
                top_min: 200.0,
                jet_min: 300.0,
                photon_min: 300.0,
                leptonic: false,
            },
        }
    }
}

/// Scalar sum of the pT of the jets and b-jets of `event`.
fn ht(event: &ObjectEvent) -> f64 {
    event
        .objects
        .iter()
        .filter(|o| is_jet(o.kind))
        .map(|o| o.pt)
        .sum()
}

fn is_jet(kind: ObjectType) -> bool {
    matches!(kind, ObjectType::Jet | ObjectType::BJet)
}

fn is_lepton(kind: ObjectType) -> bool {
    matches!(
        kind,
        ObjectType::Electron | ObjectType::Positron | ObjectType::Muon | ObjectType::AntiMuon
    )
}

fn count_jets(event: &ObjectEvent, pt_min: f64) -> usize {
    event
        .objects
        .iter()
        .filter(|o| is_jet(o.kind) && o.pt >= pt_min)
        .count()
}

fn count_leptons(event: &ObjectEvent, pt_min: f64) -> usize {
    event
        .objects
        .iter()
        .filter(|o| is_lepton(o.kind) && o.pt >= pt_min)
        .count()
}

/// The Standard Model background processes of the toy, with their `process` codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Process {
    /// QCD multijet (code 0): two hard partons plus radiation; MET only from mismeasurement
    /// and semileptonic b decays.
    Qcd,
    /// W + jets, W -> l nu (code 1).
    WJets,
    /// Drell-Yan Z + jets, Z -> e+e-, mu+mu-, or tau+tau- with leptonic tau decays (code 2).
    ZllJets,
    /// Z + jets, Z -> nu nu (code 3).
    ZnunuJets,
    /// Top-quark pairs, t -> b W (code 4).
    Ttbar,
    /// Photon + jets (code 5).
    GammaJets,
    /// WW, WZ and ZZ (code 6).
    Diboson,
}

impl Process {
    /// Every background process in code order.
    pub const ALL: [Process; 7] = [
        Process::Qcd,
        Process::WJets,
        Process::ZllJets,
        Process::ZnunuJets,
        Process::Ttbar,
        Process::GammaJets,
        Process::Diboson,
    ];

    /// The value in the `process` column: 0 to 6 in the order of [`Process::ALL`].
    pub fn code(self) -> u32 {
        match self {
            Process::Qcd => 0,
            Process::WJets => 1,
            Process::ZllJets => 2,
            Process::ZnunuJets => 3,
            Process::Ttbar => 4,
            Process::GammaJets => 5,
            Process::Diboson => 6,
        }
    }

    /// The process's name: `qcd`, `w_jets`, `z_ll_jets`, `z_nunu_jets`, `ttbar`, `gamma_jets`,
    /// `diboson`.
    pub fn name(self) -> &'static str {
        match self {
            Process::Qcd => "qcd",
            Process::WJets => "w_jets",
            Process::ZllJets => "z_ll_jets",
            Process::ZnunuJets => "z_nunu_jets",
            Process::Ttbar => "ttbar",
            Process::GammaJets => "gamma_jets",
            Process::Diboson => "diboson",
        }
    }
}

/// The new-physics signals of the toy. Each differs from the background in its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignalModel {
    /// `zprime_ll` (code 100): a heavy Z' (1000 GeV, width 30 GeV) decaying to e+e- or mu+mu-,
    /// produced with an invisible dark-matter system (mass 300 GeV): a resonant dilepton mass
    /// far above the Z peak, plus MET. Channels 2b, 3.
    ZprimeLl,
    /// `gluino_jets_met` (code 101): gluino pairs (1400 GeV), each decaying to q q-bar plus a
    /// 200 GeV neutralino: four hard jets plus radiation, large HT and large MET. Channels 1, 3.
    GluinoJetsMet,
    /// `stop_bjets` (code 102): top-squark pairs (800 GeV), each decaying to a top quark and a
    /// 100 GeV neutralino: b-jets and leptons like ttbar, with much larger MET and HT.
    /// Channels 1, 2a, 2b, 3.
    StopBjets,
    /// `chargino_neutralino_3l` (code 103): chargino-neutralino production (300 GeV), decaying
    /// to W and Z plus two 150 GeV neutralinos, W -> l nu and Z -> l l: three leptons like WZ,
    /// with larger MET. The hard one. Channels 2a, 2b.
    CharginoNeutralino3l,
}

impl SignalModel {
    /// Every signal model.
    pub const ALL: [SignalModel; 4] = [
        SignalModel::ZprimeLl,
        SignalModel::GluinoJetsMet,
        SignalModel::StopBjets,
        SignalModel::CharginoNeutralino3l,
    ];

    /// The model's name, as accepted by [`SignalModel::parse`].
    pub fn name(self) -> &'static str {
        match self {
            SignalModel::ZprimeLl => "zprime_ll",
            SignalModel::GluinoJetsMet => "gluino_jets_met",
            SignalModel::StopBjets => "stop_bjets",
            SignalModel::CharginoNeutralino3l => "chargino_neutralino_3l",
        }
    }

    /// The model called `name`.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == name.trim())
            .ok_or_else(|| {
                let names: Vec<String> = Self::ALL
                    .iter()
                    .map(|m| format!("\"{}\"", m.name()))
                    .collect();
                Error::invalid(
                    "signal_model",
                    format!(
                        "unknown signal model '{name}'; allowed: {}",
                        names.join(", ")
                    ),
                )
            })
    }

    /// The value in the `process` column: 100 to 103 in the order of [`SignalModel::ALL`].
    pub fn process_id(self) -> u32 {
        match self {
            SignalModel::ZprimeLl => 100,
            SignalModel::GluinoJetsMet => 101,
            SignalModel::StopBjets => 102,
            SignalModel::CharginoNeutralino3l => 103,
        }
    }

    /// The channels whose selection the model passes often enough to be generated there.
    pub fn channels(self) -> &'static [Channel] {
        match self {
            SignalModel::ZprimeLl => &[Channel::Ch2b, Channel::Ch3],
            SignalModel::GluinoJetsMet => &[Channel::Ch1, Channel::Ch3],
            SignalModel::StopBjets => &Channel::ALL,
            SignalModel::CharginoNeutralino3l => &[Channel::Ch2a, Channel::Ch2b],
        }
    }
}

/// Options of [`darkmachines_toy`].
#[derive(Clone, Debug, PartialEq)]
pub struct DarkMachinesToyOptions {
    /// The channel whose selection every event passes (default 3).
    pub channel: Channel,
    /// Number of background events (default 100 000).
    pub background: usize,
    /// Number of signal events (default 1 000).
    pub signal: usize,
    /// The signal (default `gluino_jets_met`).
    pub signal_model: SignalModel,
    /// The seed of the random streams.
    pub seed: u64,
}

impl Default for DarkMachinesToyOptions {
    fn default() -> Self {
        Self {
            channel: Channel::Ch3,
            background: 100_000,
            signal: 1_000,
            signal_model: SignalModel::GluinoJetsMet,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

/// Generates `opts.background` background and `opts.signal` signal events that pass the
/// selection of `opts.channel`, as the flat object layout plus `label`, `weight` and
/// `process` columns (see the module documentation). Deterministic in `opts.seed` and
/// independent of the number of threads.
pub fn darkmachines_toy(opts: &DarkMachinesToyOptions) -> Result<NamedColumns> {
    darkmachines_toy_interruptible(opts, None)
}

/// [`darkmachines_toy`], stopping with [`Error::Interrupted`] soon after `interrupt` is
/// triggered.
pub fn darkmachines_toy_interruptible(
    opts: &DarkMachinesToyOptions,
    interrupt: Option<&Interrupt>,
) -> Result<NamedColumns> {
    validate(opts)?;
    let setup = opts.channel.setup();
    let background = generate(
        (opts.seed, 0),
        opts.background,
        &setup,
        Source::Background,
        interrupt,
    )?;
    let signal = generate(
        (opts.seed, SIGNAL_STREAMS),
        opts.signal,
        &setup,
        Source::Signal(opts.signal_model),
        interrupt,
    )?;
    let (mut events, mut codes) = background;
    events.extend(signal.0);
    codes.extend(signal.1);
    let n_background = opts.background;
    let label = (0..events.len())
        .map(|i| if i < n_background { 0.0 } else { 1.0 })
        .collect();
    let extra = vec![
        ("label".to_string(), label),
        ("weight".to_string(), vec![1.0; events.len()]),
        ("process".to_string(), codes),
    ];
    Ok(to_columns(&events, extra))
}

fn validate(opts: &DarkMachinesToyOptions) -> Result<()> {
    let total = opts.background.saturating_add(opts.signal);
    if total == 0 {
        return Err(Error::invalid(
            "background",
            "background + signal is 0; ask for at least one event",
        ));
    }
    if total > MAX_EVENTS {
        return Err(Error::invalid(
            "background",
            format!(
                "background + signal = {total} is more than the {MAX_EVENTS} events one call may generate"
            ),
        ));
    }
    // Measured: 200 000 events held 274 MB while generated and turned into columns.
    crate::memory::check(
        &format!("{total} generated events"),
        total as f64 * BYTES_PER_EVENT,
    )?;
    let model = opts.signal_model;
    if opts.signal > 0 && !model.channels().contains(&opts.channel) {
        let fitting: Vec<&str> = SignalModel::ALL
            .iter()
            .filter(|m| m.channels().contains(&opts.channel))
            .map(|m| m.name())
            .collect();
        return Err(Error::invalid(
            "signal_model",
            format!(
                "'{}' (almost) never passes channel {}'s selection; for channel {} use one of: {}",
                model.name(),
                opts.channel.name(),
                opts.channel.name(),
                fitting.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Where an event comes from.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// A background process drawn from the channel's mix.
    Background,
    /// The signal model.
    Signal(SignalModel),
}

/// Generator-level settings of a channel (see [`Channel::setup`]).
#[derive(Clone, Copy, Debug)]
struct Setup {
    channel: Channel,
    /// Minimum pT of W, Z and diboson systems.
    vector_min: f64,
    /// Minimum pT of the top quarks.
    top_min: f64,
    /// Minimum pT of the QCD dijet system.
    jet_min: f64,
    /// Minimum pT of the photon in photon + jets.
    photon_min: f64,
    /// Whether W and Z decays are forced to leptons.
    leptonic: bool,
}

/// `n` selected events from the streams `first_stream + k` of `seed` (see [`in_chunks`]),
/// with their process codes.
fn generate(
    (seed, first_stream): (u64, u64),
    n: usize,
    setup: &Setup,
    source: Source,
    interrupt: Option<&Interrupt>,
) -> Result<(Vec<ObjectEvent>, Vec<f64>)> {
    let chunks = in_chunks(n, seed, first_stream, interrupt, |rng, len| {
        generate_chunk(rng, len, setup, source)
    })?;
    let mut events = Vec::with_capacity(n);
    let mut codes = Vec::with_capacity(n);
    for (e, c) in chunks {
        events.extend(e);
        codes.extend(c);
    }
    Ok((events, codes))
}

fn generate_chunk(
    rng: &mut Rng,
    len: usize,
    setup: &Setup,
    source: Source,
) -> Result<(Vec<ObjectEvent>, Vec<f64>)> {
    let mut events = Vec::with_capacity(len);
    let mut codes = Vec::with_capacity(len);
    for _ in 0..len {
        let (event, code) = match source {
            Source::Background => {
                let process = pick(rng, setup.channel.background_mix());
                (
                    selected_event(
                        rng,
                        setup,
                        |r| background_truth(r, process, setup),
                        process.name(),
                    )?,
                    process.code(),
                )
            }
            Source::Signal(model) => (
                selected_event(rng, setup, |r| signal_truth(r, model, setup), model.name())?,
                model.process_id(),
            ),
        };
        events.push(event);
        codes.push(f64::from(code));
    }
    Ok((events, codes))
}

/// Draws events from `truth` until one passes the channel's selection.
fn selected_event(
    rng: &mut Rng,
    setup: &Setup,
    truth: impl Fn(&mut Rng) -> Vec<Particle>,
    name: &str,
) -> Result<ObjectEvent> {
    for _ in 0..MAX_ATTEMPTS {
        let particles = truth(rng);
        let event = reconstruct(rng, &particles);
        if setup.channel.passes(&event) {
            return Ok(event);
        }
    }
    Err(Error::invalid(
        "channel",
        format!(
            "'{name}' events pass channel {}'s selection too rarely to be generated",
            setup.channel.name()
        ),
    ))
}

fn pick(rng: &mut Rng, mix: &[(Process, f64)]) -> Process {
    let total: f64 = mix.iter().map(|(_, f)| f).sum();
    let mut u = rng.random::<f64>() * total;
    for &(process, fraction) in mix {
        if u < fraction {
            return process;
        }
        u -= fraction;
    }
    mix[mix.len() - 1].0
}

// ---------------------------------------------------------------------------------------------
// Kinematics

/// A four-momentum (GeV).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct P4 {
    e: f64,
    px: f64,
    py: f64,
    pz: f64,
}

impl P4 {
    /// From transverse momentum, rapidity, azimuth and mass.
    fn from_pt_y_phi_m(pt: f64, y: f64, phi: f64, m: f64) -> Self {
        let mt = pt.hypot(m);
        P4 {
            e: mt * y.cosh(),
            px: pt * phi.cos(),
            py: pt * phi.sin(),
            pz: mt * y.sinh(),
        }
    }

    fn pt(&self) -> f64 {
        self.px.hypot(self.py)
    }

    fn p(&self) -> f64 {
        (self.px * self.px + self.py * self.py + self.pz * self.pz).sqrt()
    }

    /// Pseudorapidity; infinite along the beam.
    fn eta(&self) -> f64 {
        let pt = self.pt();
        if pt > 0.0 {
            (self.pz / pt).asinh()
        } else {
            f64::INFINITY
        }
    }

    fn phi(&self) -> f64 {
        self.py.atan2(self.px)
    }

    fn mass(&self) -> f64 {
        let p = self.p();
        ((self.e - p) * (self.e + p)).max(0.0).sqrt()
    }

    fn add(self, o: P4) -> P4 {
        P4 {
            e: self.e + o.e,
            px: self.px + o.px,
            py: self.py + o.py,
            pz: self.pz + o.pz,
        }
    }

    fn scale(self, f: f64) -> P4 {
        P4 {
            e: self.e * f,
            px: self.px * f,
            py: self.py * f,
            pz: self.pz * f,
        }
    }

    /// The velocity of a frame moving with this four-momentum.
    fn velocity(&self) -> [f64; 3] {
        [self.px / self.e, self.py / self.e, self.pz / self.e]
    }

    /// This four-momentum seen from a frame moving with velocity `-b` (i.e. boosted by `b`).
    fn boost(self, b: [f64; 3]) -> P4 {
        let b2 = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
        if b2 <= 0.0 || b2 >= 1.0 {
            return self;
        }
        let gamma = 1.0 / (1.0 - b2).sqrt();
        let bp = b[0] * self.px + b[1] * self.py + b[2] * self.pz;
        let g2 = (gamma - 1.0) / b2;
        let k = g2 * bp + gamma * self.e;
        P4 {
            e: gamma * (self.e + bp),
            px: self.px + k * b[0],
            py: self.py + k * b[1],
            pz: self.pz + k * b[2],
        }
    }
}

fn uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

fn normal(rng: &mut Rng) -> f64 {
    rng.sample(StandardNormal)
}

fn azimuth(rng: &mut Rng) -> f64 {
    uniform(rng, -PI, PI)
}

/// The collision energy, 13 TeV.
const SQRT_S: f64 = 13_000.0;

/// The power of the parton-luminosity fall-off `(1 - 2 pT / sqrt(s))^p` of every spectrum.
const KINEMATIC_POWER: f64 = 10.0;

/// A falling spectrum above `min`: density proportional to
/// `(1 + (x - min)/scale)^-index (1 - 2x/sqrt(s))^10`, a power law of index `index` far above
/// `min + scale` that vanishes at the kinematic limit x = sqrt(s)/2, as parton luminosities
/// make it (drawn from the power law, kept with probability given by the second factor).
fn falling(rng: &mut Rng, min: f64, scale: f64, index: f64) -> f64 {
    loop {
        let u = 1.0 - rng.random::<f64>();
        let x = min + scale * (u.powf(-1.0 / (index - 1.0)) - 1.0);
        let x_t = 2.0 * x / SQRT_S;
        if x_t < 1.0 && rng.random::<f64>() < (1.0 - x_t).powf(KINEMATIC_POWER) {
            return x;
        }
    }
}

/// A Breit-Wigner (Cauchy) mass restricted to `[lo, hi]`, by inverting its distribution
/// function between the limits.
fn breit_wigner(rng: &mut Rng, mass: f64, width: f64, lo: f64, hi: f64) -> f64 {
    let cdf = |m: f64| (2.0 * (m - mass) / width).atan();
    let angle = uniform(rng, cdf(lo), cdf(hi));
    (mass + 0.5 * width * angle.tan()).clamp(lo, hi)
}

/// A Poisson count of mean `mean` (small means only), at most 12.
fn poisson(rng: &mut Rng, mean: f64) -> usize {
    let limit = (-mean).exp();
    let mut product = rng.random::<f64>();
    let mut k = 0;
    while product > limit && k < 12 {
        product *= rng.random::<f64>();
        k += 1;
    }
    k
}

/// Two-body decay of `parent` into masses `m1`, `m2`, isotropic in the parent's rest frame.
fn decay2(rng: &mut Rng, parent: P4, m1: f64, m2: f64) -> (P4, P4) {
    let m = parent.mass();
    let lambda = (m * m - (m1 + m2).powi(2)) * (m * m - (m1 - m2).powi(2));
    let p = if m > 0.0 {
        lambda.max(0.0).sqrt() / (2.0 * m)
    } else {
        0.0
    };
    let cos = uniform(rng, -1.0, 1.0);
    let sin = (1.0 - cos * cos).max(0.0).sqrt();
    let phi = azimuth(rng);
    let (dx, dy, dz) = (p * sin * phi.cos(), p * sin * phi.sin(), p * cos);
    let d1 = P4 {
        e: p.hypot(m1),
        px: dx,
        py: dy,
        pz: dz,
    };
    let d2 = P4 {
        e: p.hypot(m2),
        px: -dx,
        py: -dy,
        pz: -dz,
    };
    let b = parent.velocity();
    (d1.boost(b), d2.boost(b))
}

/// Two particles of masses `m1`, `m2` back to back in the transverse plane with transverse
/// momentum `pt` each, rapidities Gaussian with width `y_sigma`.
fn pair(rng: &mut Rng, pt: f64, m1: f64, m2: f64, y_sigma: f64) -> (P4, P4) {
    let phi = azimuth(rng);
    let y1 = y_sigma * normal(rng);
    let y2 = y_sigma * normal(rng);
    (
        P4::from_pt_y_phi_m(pt, y1, phi, m1),
        P4::from_pt_y_phi_m(pt, y2, phi + PI, m2),
    )
}

/// The hard scale of a pair of masses `m1`, `m2` produced with transverse momentum `pt`.
fn hard_scale(pt: f64, m1: f64, m2: f64) -> f64 {
    pt.hypot(0.5 * (m1 + m2))
}

// ---------------------------------------------------------------------------------------------
// Truth particles

/// What a truth particle looks like to the detector.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
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
struct Particle {
    kind: Kind,
    p: P4,
}

fn parton(p: P4, b: bool) -> Particle {
    Particle {
        kind: Kind::Parton { b },
        p,
    }
}

fn invisible(p: P4) -> Particle {
    Particle {
        kind: Kind::Invisible,
        p,
    }
}

fn lepton(p: P4, muon: bool, positive: bool) -> Particle {
    Particle {
        kind: Kind::Lepton { muon, positive },
        p,
    }
}

/// A lepton pair (e+e- or mu+mu-, equally often) from the decay of `parent`.
fn dilepton(rng: &mut Rng, parent: P4) -> Vec<Particle> {
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
enum WDecay {
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
    fn for_setup(setup: &Setup) -> Self {
        if setup.leptonic {
            WDecay::Leptonic
        } else {
            WDecay::Natural
        }
    }
}

fn decay_w(rng: &mut Rng, w: P4, positive: bool, mode: WDecay) -> Vec<Particle> {
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
enum ZDecay {
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

fn decay_z(rng: &mut Rng, z: P4, mode: ZDecay) -> Vec<Particle> {
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
fn decay_top(rng: &mut Rng, top: P4, positive: bool, mode: WDecay) -> Vec<Particle> {
    let m_w = w_mass(rng);
    let (b, w) = decay2(rng, top, M_B, m_w);
    let mut out = vec![parton(b, true)];
    out.extend(decay_w(rng, w, positive, mode));
    out
}

fn w_mass(rng: &mut Rng) -> f64 {
    breit_wigner(rng, M_W, W_WIDTH, 60.0, 100.0)
}

fn z_mass(rng: &mut Rng) -> f64 {
    breit_wigner(rng, M_Z, Z_WIDTH, 70.0, 110.0)
}

fn top_mass(rng: &mut Rng) -> f64 {
    breit_wigner(rng, M_TOP, TOP_WIDTH, 160.0, 185.0)
}

// ---------------------------------------------------------------------------------------------
// Processes

fn background_truth(rng: &mut Rng, process: Process, setup: &Setup) -> Vec<Particle> {
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

fn z_jets(rng: &mut Rng, setup: &Setup, mode: ZDecay) -> Vec<Particle> {
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

fn signal_truth(rng: &mut Rng, model: SignalModel, setup: &Setup) -> Vec<Particle> {
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
fn with_isr(rng: &mut Rng, mut hard: Vec<Particle>, q: f64) -> Vec<Particle> {
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

// ---------------------------------------------------------------------------------------------
// Detector

/// Smears the visible particles, computes the missing transverse momentum and keeps the
/// identified objects, ordered by type then decreasing pT.
fn reconstruct(rng: &mut Rng, particles: &[Particle]) -> ObjectEvent {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::encode::object_events;
    use crate::seed::rng_for;

    fn column<'a>(cols: &'a NamedColumns, name: &str) -> &'a [f64] {
        &cols.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn options(
        channel: Channel,
        background: usize,
        signal: usize,
        model: SignalModel,
    ) -> DarkMachinesToyOptions {
        DarkMachinesToyOptions {
            channel,
            background,
            signal,
            signal_model: model,
            seed: 11,
        }
    }

    /// The events of `cols` split into background and signal.
    fn split(cols: &NamedColumns) -> (Vec<ObjectEvent>, Vec<ObjectEvent>) {
        let events = object_events(cols).unwrap();
        let label = column(cols, "label");
        let (mut bg, mut sig) = (Vec::new(), Vec::new());
        for (event, &l) in events.into_iter().zip(label) {
            if l == 1.0 {
                sig.push(event)
            } else {
                bg.push(event)
            }
        }
        (bg, sig)
    }

    fn mean(values: impl Iterator<Item = f64>) -> f64 {
        let (sum, n) = values.fold((0.0, 0), |(s, n), v| (s + v, n + 1));
        sum / n as f64
    }

    /// The selection of the Deep Set VAE paper, section 2, written out again independently.
    fn passes_independently(channel: Channel, event: &ObjectEvent) -> bool {
        let mut ht = 0.0;
        let (mut jets50, mut jets200, mut leptons) = (0, 0, 0);
        for o in &event.objects {
            match o.kind.code() {
                1 | 2 => {
                    ht += o.pt;
                    jets50 += usize::from(o.pt >= 50.0);
                    jets200 += usize::from(o.pt >= 200.0);
                }
                3..=6 => leptons += usize::from(o.pt >= 15.0),
                _ => {}
            }
        }
        let met = event.met;
        match channel.name() {
            "1" => ht >= 600.0 && met >= 200.0 && met / ht >= 0.2 && jets50 >= 4 && jets200 >= 1,
            "2a" => leptons >= 3 && met >= 50.0,
            "2b" => leptons >= 2 && met >= 50.0 && ht >= 50.0,
            _ => ht >= 600.0 && met >= 100.0,
        }
    }

    /// Whether an opposite-sign same-flavour lepton pair has its invariant mass in `window`.
    fn ossf_mass(event: &ObjectEvent, window: (f64, f64)) -> bool {
        let p4 = |o: &Object| {
            [
                o.e,
                o.pt * o.phi.cos(),
                o.pt * o.phi.sin(),
                o.pt * o.eta.sinh(),
            ]
        };
        let pairs = [
            (ObjectType::Electron, ObjectType::Positron),
            (ObjectType::Muon, ObjectType::AntiMuon),
        ];
        event.objects.iter().any(|a| {
            event.objects.iter().any(|b| {
                pairs.contains(&(a.kind, b.kind)) && {
                    let (x, y) = (p4(a), p4(b));
                    let s: Vec<f64> = (0..4).map(|i| x[i] + y[i]).collect();
                    let m = (s[0] * s[0] - s[1] * s[1] - s[2] * s[2] - s[3] * s[3])
                        .max(0.0)
                        .sqrt();
                    (window.0..window.1).contains(&m)
                }
            })
        })
    }

    #[test]
    fn names_parse_and_errors_list_the_allowed_values() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.name()).unwrap(), c);
        }
        for m in SignalModel::ALL {
            assert_eq!(SignalModel::parse(m.name()).unwrap(), m);
        }
        let err = Channel::parse("4").unwrap_err().to_string();
        assert!(
            err.contains("'4'") && err.contains("\"2a\"") && err.contains("\"3\""),
            "{err}"
        );
        let err = SignalModel::parse("wprime").unwrap_err().to_string();
        assert!(
            err.contains("wprime")
                && err.contains("\"stop_bjets\"")
                && err.contains("\"zprime_ll\""),
            "{err}"
        );
    }

    #[test]
    fn bad_options_are_errors() {
        let err = darkmachines_toy(&options(Channel::Ch1, 0, 0, SignalModel::StopBjets))
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least one event"), "{err}");
        let err = darkmachines_toy(&options(Channel::Ch1, 10, 10, SignalModel::ZprimeLl))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("zprime_ll") && err.contains("gluino_jets_met, stop_bjets"),
            "{err}"
        );
        let err = darkmachines_toy(&options(
            Channel::Ch3,
            MAX_EVENTS,
            1,
            SignalModel::StopBjets,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
        // Without signal events the model does not matter.
        assert!(darkmachines_toy(&options(Channel::Ch1, 10, 0, SignalModel::ZprimeLl)).is_ok());
    }

    #[test]
    fn deterministic_and_independent_of_the_thread_count() {
        let opts = options(Channel::Ch2b, CHUNK + 300, 200, SignalModel::StopBjets);
        let parallel = darkmachines_toy(&opts).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let serial = pool.install(|| darkmachines_toy(&opts).unwrap());
        assert!(parallel == serial);
        let other = darkmachines_toy(&DarkMachinesToyOptions {
            seed: 12,
            ..opts.clone()
        })
        .unwrap();
        assert!(column(&other, "met") != column(&parallel, "met"));
        // The background does not depend on the number of signal events.
        let fewer = darkmachines_toy(&DarkMachinesToyOptions { signal: 0, ..opts }).unwrap();
        assert_eq!(
            column(&fewer, "obj0_pt"),
            &column(&parallel, "obj0_pt")[..CHUNK + 300]
        );
    }

    #[test]
    fn events_pass_their_channel_and_follow_the_layout() {
        for (channel, model) in [
            (Channel::Ch1, SignalModel::GluinoJetsMet),
            (Channel::Ch2a, SignalModel::CharginoNeutralino3l),
            (Channel::Ch2b, SignalModel::ZprimeLl),
            (Channel::Ch3, SignalModel::StopBjets),
        ] {
            let cols = darkmachines_toy(&options(channel, 600, 200, model)).unwrap();
            assert_eq!(cols.len(), 3 + 5 * MAX_OBJECTS + 3);
            let events = object_events(&cols).unwrap();
            assert_eq!(events.len(), 800);
            let label = column(&cols, "label");
            let process = column(&cols, "process");
            assert!(column(&cols, "weight").iter().all(|&w| w == 1.0));
            for (i, event) in events.iter().enumerate() {
                assert!(
                    passes_independently(channel, event),
                    "channel {}: {event:?}",
                    channel.name()
                );
                assert_eq!(label[i], if i < 600 { 0.0 } else { 1.0 });
                let code = process[i] as u32;
                if i < 600 {
                    assert!(
                        channel
                            .background_mix()
                            .iter()
                            .any(|(p, _)| p.code() == code)
                    );
                } else {
                    assert_eq!(code, model.process_id());
                }
                check_objects(event);
            }
        }
    }

    fn check_objects(event: &ObjectEvent) {
        assert!(event.objects.len() <= MAX_OBJECTS);
        assert!(event.met >= 0.0 && event.met_phi.abs() <= PI);
        for pair in event.objects.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(
                a.kind < b.kind || (a.kind == b.kind && a.pt >= b.pt),
                "order: {event:?}"
            );
        }
        for o in &event.objects {
            let cosh = o.pt * o.eta.cosh();
            assert!(o.phi.abs() <= PI);
            if is_jet(o.kind) {
                assert!(o.pt >= JET_PT_MIN && o.eta.abs() < JET_ETA_MAX && o.e >= cosh);
                assert!(o.e <= 1.01 * cosh + M_B, "jets are light: {o:?}");
            } else {
                let pt_min = if o.kind == ObjectType::Photon {
                    PHOTON_PT_MIN
                } else {
                    LEPTON_PT_MIN
                };
                assert!(o.pt >= pt_min && o.eta.abs() < LEPTON_ETA_MAX);
                assert!((o.e - cosh).abs() <= 1e-9 * o.e, "massless: {o:?}");
            }
            if o.kind == ObjectType::BJet {
                assert!(o.eta.abs() < BTAG_ETA_MAX);
            }
        }
    }

    #[test]
    fn the_background_follows_the_channel_mix() {
        let cols =
            darkmachines_toy(&options(Channel::Ch3, 5000, 0, SignalModel::StopBjets)).unwrap();
        let process = column(&cols, "process");
        for &(p, fraction) in Channel::Ch3.background_mix() {
            let found = process
                .iter()
                .filter(|&&c| c == f64::from(p.code()))
                .count() as f64
                / 5000.0;
            assert!(
                (found - fraction).abs() < 0.03,
                "{}: {found} vs {fraction}",
                p.name()
            );
        }
    }

    #[test]
    fn z_bosons_peak_at_the_z_mass() {
        let setup = Channel::Ch2b.setup();
        let mut rng = rng_for(4, 0);
        let (mut pairs, mut peak) = (0, 0);
        for _ in 0..2000 {
            let truth = z_jets(&mut rng, &setup, ZDecay::Charged);
            let event = reconstruct(&mut rng, &truth);
            pairs += usize::from(ossf_mass(&event, (0.0, f64::INFINITY)));
            peak += usize::from(ossf_mass(&event, (81.0, 101.0)));
        }
        assert!(
            pairs > 1500 && peak as f64 > 0.9 * pairs as f64,
            "{pairs} pairs, {peak} in the peak"
        );
    }

    #[test]
    fn zprime_is_a_dilepton_resonance() {
        let cols =
            darkmachines_toy(&options(Channel::Ch2b, 3000, 500, SignalModel::ZprimeLl)).unwrap();
        let (bg, sig) = split(&cols);
        let fraction = |events: &[ObjectEvent]| {
            events
                .iter()
                .filter(|e| ossf_mass(e, (900.0, 1100.0)))
                .count() as f64
                / events.len() as f64
        };
        let (f_bg, f_sig) = (fraction(&bg), fraction(&sig));
        assert!(
            f_sig > 0.8 && f_bg < 0.01,
            "signal {f_sig}, background {f_bg}"
        );
    }

    #[test]
    fn gluinos_give_many_jets_and_large_met() {
        let cols = darkmachines_toy(&options(
            Channel::Ch1,
            3000,
            500,
            SignalModel::GluinoJetsMet,
        ))
        .unwrap();
        let (bg, sig) = split(&cols);
        let jets = |events: &[ObjectEvent]| mean(events.iter().map(|e| count_jets(e, 50.0) as f64));
        let met = |events: &[ObjectEvent]| mean(events.iter().map(|e| e.met));
        assert!(
            jets(&sig) > jets(&bg) + 1.0,
            "jets: signal {}, background {}",
            jets(&sig),
            jets(&bg)
        );
        assert!(
            met(&sig) > 1.5 * met(&bg),
            "MET: signal {}, background {}",
            met(&sig),
            met(&bg)
        );
    }

    #[test]
    fn stops_give_b_jets_and_leptons_with_large_met() {
        let cols =
            darkmachines_toy(&options(Channel::Ch2b, 3000, 500, SignalModel::StopBjets)).unwrap();
        let (bg, sig) = split(&cols);
        let met = |events: &[ObjectEvent]| mean(events.iter().map(|e| e.met));
        let tagged = |events: &[ObjectEvent]| {
            mean(events.iter().map(|e| {
                f64::from(u8::from(
                    e.objects.iter().any(|o| o.kind == ObjectType::BJet),
                ))
            }))
        };
        assert!(
            met(&sig) > 2.0 * met(&bg),
            "MET: signal {}, background {}",
            met(&sig),
            met(&bg)
        );
        assert!(
            tagged(&sig) > 0.7 && tagged(&sig) > tagged(&bg) + 0.2,
            "b-tagged: {} vs {}",
            tagged(&sig),
            tagged(&bg)
        );
    }

    #[test]
    fn charginos_give_three_leptons_with_more_met_than_wz() {
        let cols = darkmachines_toy(&options(
            Channel::Ch2a,
            3000,
            500,
            SignalModel::CharginoNeutralino3l,
        ))
        .unwrap();
        let (bg, sig) = split(&cols);
        let met = |events: &[ObjectEvent]| mean(events.iter().map(|e| e.met));
        assert!(
            met(&sig) > 1.5 * met(&bg),
            "MET: signal {}, background {}",
            met(&sig),
            met(&bg)
        );
    }

    #[test]
    fn four_vectors_and_decays_conserve_momentum() {
        let mut rng = rng_for(1, 2);
        let parent = P4::from_pt_y_phi_m(0.0, 0.7, 1.0, M_TOP);
        let (a, b) = decay2(&mut rng, parent, M_B, M_W);
        let sum = a.add(b);
        for (x, y) in [
            (sum.e, parent.e),
            (sum.px, parent.px),
            (sum.py, parent.py),
            (sum.pz, parent.pz),
        ] {
            assert!((x - y).abs() < 1e-9 * parent.e);
        }
        assert!((a.mass() - M_B).abs() < 1e-6 && (b.mass() - M_W).abs() < 1e-6);
        // ISR keeps the whole event balanced in the transverse plane.
        let hard = vec![parton(a, true), parton(b, false)];
        let hard_mass = sum.mass();
        let all = with_isr(&mut rng, hard, 2000.0);
        let total = all.iter().fold(P4::default(), |s, p| s.add(p.p));
        assert!(total.pt() < 1e-6 * total.e, "{total:?}");
        assert!((all[0].p.add(all[1].p).mass() - hard_mass).abs() < 1e-6 * hard_mass);
    }

    #[test]
    fn spectra_follow_their_density_up_to_the_kinematic_limit() {
        let (min, scale, index) = (200.0, 80.0, 4.0);
        let density = |x: f64| {
            (1.0 + (x - min) / scale).powf(-index) * (1.0 - 2.0 * x / SQRT_S).powf(KINEMATIC_POWER)
        };
        // P(x > c) by the midpoint rule on a fine grid up to sqrt(s)/2.
        let steps = 200_000;
        let dx = (SQRT_S / 2.0 - min) / steps as f64;
        let mass_above = |c: f64| -> f64 {
            (0..steps)
                .map(|i| min + (i as f64 + 0.5) * dx)
                .filter(|&x| x > c)
                .map(density)
                .sum::<f64>()
        };
        let total = mass_above(min);
        let mut rng = rng_for(8, 0);
        let n = 400_000;
        let draws: Vec<f64> = (0..n)
            .map(|_| falling(&mut rng, min, scale, index))
            .collect();
        assert!(draws.iter().all(|&x| (min..SQRT_S / 2.0).contains(&x)));
        for c in [300.0, 600.0, 1200.0, 2500.0] {
            let p = mass_above(c) / total;
            let seen = draws.iter().filter(|&&x| x > c).count() as f64 / n as f64;
            let sigma = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (seen - p).abs() < 5.0 * sigma + 1e-6,
                "P(x > {c}) = {seen}, want {p}"
            );
        }
        // Without the fall-off, a pure power law puts (1 + 2300/80)^-3 = 4e-5 above 2.5 TeV;
        // the kinematic factor removes most of it.
        assert!(mass_above(2500.0) / total < 0.2 * (1.0 + 2300.0 / 80.0f64).powf(-3.0));
    }

    /// The selection efficiencies of `docs/darkmachines.md` (20 000 truth events of every
    /// process and channel, seed 5); prints the table:
    /// `cargo test --release --lib selection_efficiencies -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn selection_efficiencies() {
        let n = 20_000;
        let efficiency = |channel: Channel, truth: &dyn Fn(&mut Rng, &Setup) -> Vec<Particle>| {
            let setup = channel.setup();
            let mut rng = rng_for(5, 0);
            let passed = (0..n)
                .filter(|_| {
                    let particles = truth(&mut rng, &setup);
                    channel.passes(&reconstruct(&mut rng, &particles))
                })
                .count();
            format!("{:.1}%", 100.0 * passed as f64 / n as f64)
        };
        for process in Process::ALL {
            let row: Vec<String> = Channel::ALL
                .iter()
                .map(|&c| {
                    if c.background_mix().iter().any(|(p, _)| *p == process) {
                        efficiency(c, &|r, s| background_truth(r, process, s))
                    } else {
                        String::new()
                    }
                })
                .collect();
            eprintln!("| {} | {} |", process.name(), row.join(" | "));
        }
        for model in SignalModel::ALL {
            let row: Vec<String> = Channel::ALL
                .iter()
                .map(|&c| {
                    let e = efficiency(c, &|r, s| signal_truth(r, model, s));
                    if model.channels().contains(&c) {
                        e
                    } else {
                        format!("({e})")
                    }
                })
                .collect();
            eprintln!("| {} | {} |", model.name(), row.join(" | "));
        }
    }
}
