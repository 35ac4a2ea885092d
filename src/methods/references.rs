//! The two references of the weakly supervised benchmark frame (LHC Olympics R&D; CATHODE,
//! Hallin et al. 2022), on samples whose truth is known, both through the same k-fold
//! classifier ([`kfold_scores`]) as the searches they bound:
//! - the **supervised** classifier: signal against background by their truth labels in the
//!   signal region, the upper limit of any method;
//! - the **idealized anomaly detector**: signal-region data against an independent,
//!   background-only sample of the same region, the limit of a method whose background
//!   model is perfect (CWoLa's ideal, CATHODE's target).
//!
//! Both score each signal-region event of the evaluated sample out of sample, and are judged
//! by the ROC of those scores against the events' truth labels: the AUC, the maximum of the
//! regulated SIC and the SIC at a signal efficiency of 0.3.

use std::fmt;
use std::time::Instant;

use serde::Serialize;

use super::inputs::{InputSpec, Inputs};
use super::kfold_classifier::{KfoldClassifier, kfold_scores};
use super::window::Window;
use crate::data::eventset::{EventSet, Role};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::stats::metrics::{Roc, SIC_REGULATOR, check_efficiency, roc};

/// Options of [`supervised_reference`] and [`idealized_reference`].
#[derive(Clone, Debug)]
pub struct ReferenceOptions {
    /// The signal region, range and features (see [`Window`]); only signal-region events are
    /// classified.
    pub window: Window,
    /// The classifier and its k-folding.
    pub classifier: KfoldClassifier,
}

impl Default for ReferenceOptions {
    fn default() -> Self {
        Self {
            window: Window::new(&["mj1", "dmj", "tau21_1", "tau21_2"]),
            classifier: KfoldClassifier::default(),
        }
    }
}

/// Which reference a [`Reference`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceKind {
    /// Signal against background by truth label.
    Supervised,
    /// Data against an independent background-only sample.
    Idealized,
}

impl ReferenceKind {
    /// "supervised" or "idealized".
    pub fn name(self) -> &'static str {
        match self {
            Self::Supervised => "supervised",
            Self::Idealized => "idealized",
        }
    }
}

/// A reference classifier's out-of-sample scores of the evaluated signal-region events and
/// what their ROC says.
#[derive(Clone, Debug, Serialize)]
pub struct Reference {
    /// Which reference.
    pub kind: ReferenceKind,
    /// Where it classified.
    pub window: Window,
    /// Events of each class it trained on: [class 1, class 0] (supervised: signal and
    /// background; idealized: data and the background sample).
    pub counts: [usize; 2],
    /// The evaluated events' truth: [signal, background].
    pub truth: [usize; 2],
    /// The area under the ROC curve.
    pub auc: f64,
    /// The largest regulated SIC.
    pub max_sic: f64,
    /// The regulated SIC at a signal efficiency of 0.3.
    pub sic_at_03: f64,
    /// Wall-clock seconds (shown, not saved).
    #[serde(skip)]
    pub seconds: f64,
    /// The ROC curve of the scores against the truth labels.
    #[serde(skip)]
    pub roc: Roc,
    /// Each evaluated event's score, by the member that did not train on it.
    #[serde(skip)]
    pub scores: Vec<f64>,
    /// Each evaluated event's truth label.
    #[serde(skip)]
    pub labels: Vec<f64>,
    /// The evaluated events' positions in their event set.
    #[serde(skip)]
    pub positions: Vec<usize>,
}

impl Reference {
    /// The regulated SIC at signal efficiency `eps_s` in (0, 1], the background efficiency
    /// linearly interpolated along the ROC curve.
    pub fn sic_at(&self, eps_s: f64) -> Result<f64> {
        sic_at(&self.roc, eps_s)
    }

    /// Everything `save` writes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "reference": self })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} reference ({})",
            self.kind.name(),
            self.window.describe()
        )?;
        writeln!(
            f,
            "  trained on {} against {} events; evaluated on {} signal and {} background events",
            self.counts[0], self.counts[1], self.truth[0], self.truth[1]
        )?;
        write!(
            f,
            "  AUC {:.4}, max SIC {:.2}, SIC at eps_S 0.3 {:.2} ({:.1} s)",
            self.auc, self.max_sic, self.sic_at_03, self.seconds
        )
    }
}

/// The regulated SIC eps_S / sqrt(eps_B + [`SIC_REGULATOR`]) of `roc` at signal efficiency
/// `eps_s` in (0, 1], eps_B linearly interpolated between the curve's points.
pub fn sic_at(roc: &Roc, eps_s: f64) -> Result<f64> {
    check_efficiency("signal efficiency", eps_s)?;
    let j = roc.eps_s.partition_point(|&e| e < eps_s);
    if j == 0 || j >= roc.eps_s.len() {
        return Err(Error::invalid(
            "roc",
            "the curve does not reach that signal efficiency",
        ));
    }
    let (s0, b0) = (roc.eps_s[j - 1], roc.eps_b[j - 1]);
    let (s1, b1) = (roc.eps_s[j], roc.eps_b[j]);
    let eps_b = if s1 > s0 {
        b0 + (b1 - b0) * (eps_s - s0) / (s1 - s0)
    } else {
        b1
    };
    Ok(eps_s / (eps_b + SIC_REGULATOR).sqrt())
}

/// The signal-region rows of `inputs`.
fn signal_region(inputs: &Inputs) -> Vec<usize> {
    (0..inputs.len()).filter(|&r| inputs.bin[r] == 1).collect()
}

/// The inputs of `events` in `opts`'s window, standardised with `scaling` if given.
fn window_inputs(
    events: &EventSet,
    opts: &ReferenceOptions,
    scaling: Option<&[(f64, f64)]>,
) -> Result<Inputs> {
    let edges = opts.window.edges()?;
    Inputs::new(
        events,
        &InputSpec {
            mass: &opts.window.mass,
            features: &opts.window.features,
            rescale: &[],
            logarithm: &[],
            edges: &edges,
        },
        scaling,
        &opts.classifier.device,
    )
}

/// The truth labels (the label role) of `events` at the rows `rows` of `inputs`.
fn truth(events: &EventSet, inputs: &Inputs, rows: &[usize], what: &str) -> Result<Vec<f64>> {
    let labels = events
        .role_values(Role::Label)
        .map_err(|e| Error::invalid(what, format!("a reference is judged by truth labels: {e}")))?;
    Ok(rows.iter().map(|&r| labels[inputs.positions[r]]).collect())
}

/// The reference from the out-of-sample `scores` of the evaluated events.
#[allow(clippy::too_many_arguments)]
fn judged(
    kind: ReferenceKind,
    opts: &ReferenceOptions,
    counts: [usize; 2],
    scores: Vec<f64>,
    labels: Vec<f64>,
    positions: Vec<usize>,
    started: Instant,
) -> Result<Reference> {
    let curve = roc(&scores, &labels, None)?;
    let signal = labels.iter().filter(|&&l| l == 1.0).count();
    Ok(Reference {
        kind,
        window: opts.window.clone(),
        counts,
        truth: [signal, labels.len() - signal],
        auc: curve.auc(),
        max_sic: curve.max_sic(),
        sic_at_03: sic_at(&curve, 0.3)?,
        seconds: started.elapsed().as_secs_f64(),
        roc: curve,
        scores,
        labels,
        positions,
    })
}

/// The supervised reference: in the signal region of `events`, a k-fold classifier of the
/// signal events against the background events by their truth labels (the label role),
/// every event scored out of sample. `extra_signal`, a further sample of signal alone (every
/// event of it counts as signal; standardised as `events`), adds its signal-region events to
/// the training, spread over the folds, so that the ceiling does not depend on how little
/// signal `events` hold (Hallin et al. train the supervised classifier on a large signal
/// sample); only the events of `events` are scored and judged. Errors: no label role, a class
/// missing in the signal region, an extra sample with background labels, too few events for
/// the folds, a missing column or NaN.
pub fn supervised_reference(
    events: &EventSet,
    extra_signal: Option<&EventSet>,
    opts: &ReferenceOptions,
    interrupt: Option<&Interrupt>,
) -> Result<Reference> {
    let started = Instant::now();
    let inputs = window_inputs(events, opts, None)?;
    let sr = signal_region(&inputs);
    let labels = truth(events, &inputs, &sr, "events")?;
    let signal = labels.iter().filter(|&&l| l == 1.0).count();
    if signal == 0 || signal == labels.len() {
        return Err(Error::invalid(
            "events",
            format!(
                "{signal} signal and {} background events in the signal region ({}): the supervised reference needs both",
                labels.len() - signal,
                opts.window.describe()
            ),
        ));
    }
    let mut x = inputs.tensor(&sr)?;
    let mut y: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
    if let Some(extra) = extra_signal {
        if let Ok(extra_labels) = extra.role_values(Role::Label)
            && let Some(i) = extra_labels.iter().position(|&l| l != 1.0)
        {
            return Err(Error::invalid(
                "signal",
                format!(
                    "event {i} of the extra signal sample is labelled {}: give signal events only",
                    extra_labels[i]
                ),
            ));
        }
        let extra_inputs = window_inputs(extra, opts, Some(&inputs.scaling))?;
        let extra_sr = signal_region(&extra_inputs);
        x = candle_core::Tensor::cat(&[&x, &extra_inputs.tensor(&extra_sr)?], 0)?;
        y.extend(std::iter::repeat_n(1.0, extra_sr.len()));
    }
    let trained_signal = y.iter().filter(|&&l| l == 1.0).count();
    let mut scores = kfold_scores(&x, &y, None, &opts.classifier, interrupt)?.scores;
    scores.truncate(sr.len());
    let positions = sr.iter().map(|&r| inputs.positions[r]).collect();
    judged(
        ReferenceKind::Supervised,
        opts,
        [trained_signal, labels.len() - signal],
        scores,
        labels,
        positions,
        started,
    )
}

/// The idealized anomaly detector: a k-fold classifier of the signal-region events of
/// `data` against those of `background`, an independent background-only sample (its
/// features standardised as the data's), every event scored out of sample; judged by the
/// data events' scores against their truth labels. Errors: no label role in `data`, an
/// empty signal region, too few events, a missing column or NaN.
pub fn idealized_reference(
    data: &EventSet,
    background: &EventSet,
    opts: &ReferenceOptions,
    interrupt: Option<&Interrupt>,
) -> Result<Reference> {
    let started = Instant::now();
    let data_inputs = window_inputs(data, opts, None)?;
    let background_inputs = window_inputs(background, opts, Some(&data_inputs.scaling))?;
    let (sr, sr_background) = (
        signal_region(&data_inputs),
        signal_region(&background_inputs),
    );
    if sr.is_empty() || sr_background.is_empty() {
        return Err(Error::invalid(
            "signal_region",
            format!(
                "{} data and {} background-sample events in the signal region ({})",
                sr.len(),
                sr_background.len(),
                opts.window.describe()
            ),
        ));
    }
    let labels = truth(data, &data_inputs, &sr, "data")?;
    let x = candle_core::Tensor::cat(
        &[
            &data_inputs.tensor(&sr)?,
            &background_inputs.tensor(&sr_background)?,
        ],
        0,
    )?;
    let y: Vec<f32> = (0..sr.len() + sr_background.len())
        .map(|i| if i < sr.len() { 1.0 } else { 0.0 })
        .collect();
    let mut scores = kfold_scores(&x, &y, None, &opts.classifier, interrupt)?.scores;
    scores.truncate(sr.len());
    let positions = sr.iter().map(|&r| data_inputs.positions[r]).collect();
    judged(
        ReferenceKind::Idealized,
        opts,
        [sr.len(), sr_background.len()],
        scores,
        labels,
        positions,
        started,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::generate::lhco::toy_events as sample;

    fn quick() -> ReferenceOptions {
        let mut opts = ReferenceOptions::default();
        opts.classifier.folds = 3;
        opts.classifier.network.hidden = vec![16, 16];
        opts.classifier.training.epochs = 12;
        opts.classifier.training.batch_size = 64;
        opts.classifier.seed = 5;
        opts
    }

    #[test]
    fn the_supervised_reference_separates_the_toy_signal() {
        let events = sample(20_000, 600, 1);
        let r = supervised_reference(&events, None, &quick(), None).unwrap();
        assert_eq!(r.kind, ReferenceKind::Supervised);
        assert!(r.truth[0] > 100 && r.truth[1] > 1000, "{r}");
        assert_eq!(r.counts, r.truth);
        // The toy's signal-region classes overlap: about 0.90 at convergence.
        assert!(r.auc > 0.85, "{r}");
        assert!(r.max_sic > 2.5, "{r}");
        // Every scored event is in the signal region.
        let mjj = events.column("mjj").unwrap();
        assert!(
            r.positions
                .iter()
                .all(|&p| (3300.0..3700.0).contains(&mjj[p]))
        );
        assert!((r.sic_at(0.3).unwrap() - r.sic_at_03).abs() < 1e-12);
    }

    #[test]
    fn the_idealized_reference_is_below_the_supervised_one_and_learns_something() {
        let data = sample(20_000, 600, 2);
        let background = sample(20_000, 0, 3);
        let opts = quick();
        let ideal = idealized_reference(&data, &background, &opts, None).unwrap();
        let supervised = supervised_reference(&data, None, &opts, None).unwrap();
        assert_eq!(ideal.kind, ReferenceKind::Idealized);
        assert!(ideal.auc > 0.6, "{ideal}");
        assert!(
            ideal.max_sic <= supervised.max_sic * 1.2,
            "{ideal}\n{supervised}"
        );
    }

    #[test]
    fn missing_truth_or_classes_are_errors_naming_the_sample() {
        let events = sample(3_000, 0, 4);
        let err = supervised_reference(&events, None, &quick(), None).unwrap_err();
        assert!(err.to_string().contains("needs both"), "{err}");
        let unlabelled = events
            .select(&["mjj", "mj1", "dmj", "tau21_1", "tau21_2"].map(String::from))
            .unwrap();
        let err = supervised_reference(&unlabelled, None, &quick(), None).unwrap_err();
        assert!(err.to_string().contains("truth labels"), "{err}");
    }

    #[test]
    fn an_extra_signal_sample_trains_the_supervised_reference_but_is_not_judged() {
        // 60 signal events in 20 000: too few to learn from on their own.
        let events = sample(20_000, 60, 8);
        let extra = sample(0, 3_000, 9);
        let opts = quick();
        let alone = supervised_reference(&events, None, &opts, None).unwrap();
        let helped = supervised_reference(&events, Some(&extra), &opts, None).unwrap();
        assert_eq!(helped.truth, alone.truth);
        assert_eq!(helped.positions, alone.positions);
        assert_eq!(helped.scores.len(), alone.truth[0] + alone.truth[1]);
        let mjj = extra.column("mjj").unwrap();
        let extra_sr = mjj.iter().filter(|m| (3300.0..3700.0).contains(*m)).count();
        assert_eq!(helped.counts[0], alone.counts[0] + extra_sr);
        // The toy's 55 signal-region events teach a little; 2 500 more teach more.
        assert!(
            helped.auc > alone.auc + 0.02 && helped.max_sic > 1.2 * alone.max_sic,
            "{alone}\n{helped}"
        );
        // Background in the extra sample is refused, naming the event.
        let err = supervised_reference(&events, Some(&events), &opts, None).unwrap_err();
        assert!(err.to_string().contains("labelled 0"), "{err}");
    }

    #[test]
    fn sic_at_interpolates_the_background_efficiency() {
        let curve = Roc {
            thresholds: vec![f64::INFINITY, 0.5, 0.0],
            eps_s: vec![0.0, 0.5, 1.0],
            eps_b: vec![0.0, 0.01, 1.0],
        };
        let expected = 0.3 / (0.006f64 + SIC_REGULATOR).sqrt();
        assert!((sic_at(&curve, 0.3).unwrap() - expected).abs() < 1e-12);
        assert!(sic_at(&curve, 0.0).is_err());
    }
}
