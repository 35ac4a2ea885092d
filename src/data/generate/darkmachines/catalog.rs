//! The Dark Machines channels (names, selections, background mixes, generator settings), the
//! background processes and the signal models of the toy.

use crate::data::objects::{ObjectEvent, ObjectType};
use crate::{Error, Result};

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
    pub(super) fn setup(self) -> Setup {
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
pub(super) fn ht(event: &ObjectEvent) -> f64 {
    event
        .objects
        .iter()
        .filter(|o| is_jet(o.kind))
        .map(|o| o.pt)
        .sum()
}

pub(super) fn is_jet(kind: ObjectType) -> bool {
    matches!(kind, ObjectType::Jet | ObjectType::BJet)
}

fn is_lepton(kind: ObjectType) -> bool {
    matches!(
        kind,
        ObjectType::Electron | ObjectType::Positron | ObjectType::Muon | ObjectType::AntiMuon
    )
}

pub(super) fn count_jets(event: &ObjectEvent, pt_min: f64) -> usize {
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

/// Generator-level settings of a channel (see [`Channel::setup`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Setup {
    pub(super) channel: Channel,
    /// Minimum pT of W, Z and diboson systems.
    pub(super) vector_min: f64,
    /// Minimum pT of the top quarks.
    pub(super) top_min: f64,
    /// Minimum pT of the QCD dijet system.
    pub(super) jet_min: f64,
    /// Minimum pT of the photon in photon + jets.
    pub(super) photon_min: f64,
    /// Whether W and Z decays are forced to leptons.
    pub(super) leptonic: bool,
}
