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

mod catalog;
mod decays;
mod detector;
mod kinematics;
mod processes;
#[cfg(test)]
mod tests;

pub use self::catalog::{Channel, Process, SignalModel};

use self::catalog::Setup;
use self::decays::Particle;
use self::detector::reconstruct;
use self::kinematics::Rng;
use self::processes::{background_truth, signal_truth};
use super::in_chunks;
use crate::data::NamedColumns;
use crate::data::objects::{ObjectEvent, to_columns};
use crate::interrupt::Interrupt;
use crate::{Error, Result};
use rand::RngExt;

/// The most events one call may generate (background plus signal), to keep memory bounded.
pub const MAX_EVENTS: usize = 20_000_000;

/// Memory per generated event (objects, then 106 columns of f64), with some room.
const BYTES_PER_EVENT: f64 = 1500.0;

/// Attempts per event before a process is declared unable to reach a channel (never reached
/// with the built-in mixes; a guard against an endless loop).
const MAX_ATTEMPTS: usize = 200_000;

/// First stream of the signal chunks (background chunk `k` uses stream `k`).
const SIGNAL_STREAMS: u64 = 1 << 32;

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
