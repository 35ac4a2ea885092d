//! The Dark Machines evaluation of an anomaly score (Ostdiek 2021 §4.1, Caron et al. 2021 §VI): for every
//! signal and channel the AUC and the signal efficiency eps_S at fixed background
//! efficiencies eps_B (1e-2, 1e-3, 1e-4), the significance improvement
//! SI = max over those cuts of eps_S / sqrt(eps_B); per signal the best channel's SI (the
//! signal's total-improvement entry, "the largest significance improvement across the
//! channels for that signal"); and the total improvement: the minimum, median and maximum of
//! those over the signals.
//!
//! The input is, per channel, the scores of named samples, one of them the background (a
//! higher score is more anomalous). eps_S at a cut is read off the ROC curve with
//! [`Roc::eps_s_at`] (linear interpolation between cuts); where the background sample has
//! fewer than 1/eps_B events the value rests on a single event and the table marks it.

use std::fmt;

use serde::Serialize;

use super::metrics::{IMPROVEMENT_EPS_B, Roc, Spread, roc, total_improvement};
use crate::error::{Error, Result};

/// The scores of one channel: (sample name, scores), one sample the background.
pub type ChannelScores = Vec<(String, Vec<f64>)>;

/// Options of [`dm_evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub struct DmOptions {
    /// The name of the background sample in every channel ("background").
    pub background: String,
    /// The background efficiencies of the cuts ([1e-2, 1e-3, 1e-4]).
    pub eps_b: Vec<f64>,
}

impl Default for DmOptions {
    fn default() -> Self {
        Self {
            background: "background".into(),
            eps_b: IMPROVEMENT_EPS_B.to_vec(),
        }
    }
}

/// One signal in one channel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DmRow {
    /// The signal sample.
    pub signal: String,
    /// The channel.
    pub channel: String,
    /// Area under the ROC curve of the signal against the channel's background.
    pub auc: f64,
    /// eps_S at each background efficiency of the evaluation.
    pub eps_s: Vec<f64>,
    /// The significance improvement: max over the cuts of eps_S / sqrt(eps_B).
    pub si: f64,
    /// Signal events.
    pub n_signal: usize,
    /// Background events of the channel.
    pub n_background: usize,
}

/// The best channel of one signal: its entry in the total improvement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignalBest {
    /// The signal sample.
    pub signal: String,
    /// The channel with the largest SI.
    pub channel: String,
    /// That SI.
    pub si: f64,
}

/// The result of [`dm_evaluate`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DmEvaluation {
    /// The background sample's name.
    pub background: String,
    /// The background efficiencies of the cuts.
    pub eps_b: Vec<f64>,
    /// One row per (signal, channel), channels in input order, signals in input order.
    pub rows: Vec<DmRow>,
    /// One entry per signal (in order of first appearance): its best channel.
    pub per_signal: Vec<SignalBest>,
    /// The total improvement: min, median and max of the per-signal SIs.
    pub total: Spread,
}

impl DmEvaluation {
    /// The per-signal SIs, the values behind [`DmEvaluation::total`] and the box plot.
    pub fn improvements(&self) -> Vec<f64> {
        self.per_signal.iter().map(|s| s.si).collect()
    }

    /// Everything `save` writes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "dm_evaluation": self })
    }
}

/// Evaluates anomaly scores the Dark Machines way (see the module documentation). `channels`
/// holds per channel the scores of its samples; each channel needs the background sample
/// (`opts.background`) and at least one other. Errors name the channel and sample: a missing
/// background, a channel without signal, an empty sample, a non-finite score, a bad eps_B.
pub fn dm_evaluate(channels: &[(String, ChannelScores)], opts: &DmOptions) -> Result<DmEvaluation> {
    check_options(opts)?;
    if channels.is_empty() {
        return Err(Error::invalid("dm_evaluate", "no channels given"));
    }
    let mut rows = Vec::new();
    for (channel, samples) in channels {
        let background = background_of(channel, samples, &opts.background)?;
        let signals: Vec<&(String, Vec<f64>)> = samples
            .iter()
            .filter(|(name, _)| *name != opts.background)
            .collect();
        if signals.is_empty() {
            return Err(Error::invalid(
                format!("channel '{channel}'"),
                format!(
                    "it holds only the background sample '{}'; give at least one signal sample",
                    opts.background
                ),
            ));
        }
        for (name, scores) in signals {
            check_scores(channel, name, scores)?;
            rows.push(row(channel, name, scores, background, &opts.eps_b)?);
        }
    }
    let per_signal = best_per_signal(&rows);
    let si: Vec<f64> = per_signal.iter().map(|s| s.si).collect();
    Ok(DmEvaluation {
        background: opts.background.clone(),
        eps_b: opts.eps_b.clone(),
        total: total_improvement(&si)?,
        rows,
        per_signal,
    })
}

fn check_options(opts: &DmOptions) -> Result<()> {
    if opts.eps_b.is_empty() {
        return Err(Error::invalid(
            "eps_b",
            "give at least one background efficiency",
        ));
    }
    if let Some(e) = opts.eps_b.iter().find(|e| !(**e > 0.0 && **e <= 1.0)) {
        return Err(Error::invalid(
            "eps_b",
            format!("{e} is not a background efficiency in (0, 1]"),
        ));
    }
    Ok(())
}

/// The checked background scores of a channel.
fn background_of<'a>(channel: &str, samples: &'a ChannelScores, name: &str) -> Result<&'a [f64]> {
    let Some((_, scores)) = samples.iter().find(|(n, _)| n == name) else {
        let names: Vec<&str> = samples.iter().map(|(n, _)| n.as_str()).collect();
        return Err(Error::invalid(
            format!("channel '{channel}'"),
            format!(
                "no background sample '{name}' (samples: {}); name it with the `background` option",
                names.join(", ")
            ),
        ));
    };
    check_scores(channel, name, scores)?;
    Ok(scores)
}

fn check_scores(channel: &str, sample: &str, scores: &[f64]) -> Result<()> {
    let what = format!("channel '{channel}', sample '{sample}'");
    if scores.is_empty() {
        return Err(Error::invalid(what, "no scores"));
    }
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(Error::invalid(
            what,
            format!("score {i} is {} (scores must be finite numbers)", scores[i]),
        ));
    }
    Ok(())
}

fn row(
    channel: &str,
    signal: &str,
    scores: &[f64],
    background: &[f64],
    eps_b: &[f64],
) -> Result<DmRow> {
    let all: Vec<f64> = scores.iter().chain(background).copied().collect();
    let labels: Vec<f64> = (0..all.len())
        .map(|i| if i < scores.len() { 1.0 } else { 0.0 })
        .collect();
    let curve: Roc = roc(&all, &labels, None)?;
    let eps_s = eps_b
        .iter()
        .map(|&e| curve.eps_s_at(e))
        .collect::<Result<Vec<f64>>>()?;
    let si = eps_s
        .iter()
        .zip(eps_b)
        .map(|(s, b)| s / b.sqrt())
        .fold(f64::NEG_INFINITY, f64::max);
    Ok(DmRow {
        signal: signal.to_string(),
        channel: channel.to_string(),
        auc: curve.auc(),
        eps_s,
        si,
        n_signal: scores.len(),
        n_background: background.len(),
    })
}

/// Per signal, in order of first appearance, the row with the largest SI (the first channel
/// on a tie).
fn best_per_signal(rows: &[DmRow]) -> Vec<SignalBest> {
    let mut best: Vec<SignalBest> = Vec::new();
    for r in rows {
        match best.iter_mut().find(|b| b.signal == r.signal) {
            Some(b) if r.si > b.si => {
                b.channel = r.channel.clone();
                b.si = r.si;
            }
            Some(_) => {}
            None => best.push(SignalBest {
                signal: r.signal.clone(),
                channel: r.channel.clone(),
                si: r.si,
            }),
        }
    }
    best
}

/// eps_B written compactly: 1e-2, 0.05.
fn eps_label(e: f64) -> String {
    let exp = e.log10();
    if (exp - exp.round()).abs() < 1e-9 {
        format!("1e{}", exp.round() as i64)
    } else {
        format!("{e}")
    }
}

impl fmt::Display for DmEvaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Dark Machines evaluation: {} signals in {} rows, background sample '{}'",
            self.per_signal.len(),
            self.rows.len(),
            self.background
        )?;
        let signal_w = self
            .rows
            .iter()
            .map(|r| r.signal.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let channel_w = self
            .rows
            .iter()
            .map(|r| r.channel.len())
            .max()
            .unwrap_or(7)
            .max(7);
        write!(
            f,
            "  {:<signal_w$}  {:<channel_w$}  {:>6}",
            "signal", "channel", "AUC"
        )?;
        for &e in &self.eps_b {
            write!(f, "  {:>11}", format!("eS@{}", eps_label(e)))?;
        }
        writeln!(f, "  {:>8}", "SI")?;
        let mut unresolved = false;
        for r in &self.rows {
            write!(
                f,
                "  {:<signal_w$}  {:<channel_w$}  {:>6.3}",
                r.signal, r.channel, r.auc
            )?;
            for (&s, &e) in r.eps_s.iter().zip(&self.eps_b) {
                let mark = if (r.n_background as f64) * e < 1.0 - 1e-9 {
                    unresolved = true;
                    "*"
                } else {
                    " "
                };
                write!(f, "  {s:>10.4}{mark}")?;
            }
            writeln!(f, "  {:>8.3}", r.si)?;
        }
        let best: Vec<String> = self
            .per_signal
            .iter()
            .map(|s| format!("{} {:.3} ({})", s.signal, s.si, s.channel))
            .collect();
        writeln!(f, "  best channel per signal: {}", best.join(", "))?;
        write!(f, "  total improvement: {}", self.total)?;
        if unresolved {
            write!(
                f,
                "\n  (*) fewer than 1/eps_B background events: interpolated, rests on one event"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(name: &str, samples: &[(&str, Vec<f64>)]) -> (String, ChannelScores) {
        (
            name.to_string(),
            samples
                .iter()
                .map(|(n, s)| (n.to_string(), s.clone()))
                .collect(),
        )
    }

    /// Background 0, 1, ..., n-1 (each score distinct), so the cut at eps_B = k/n passes the
    /// k highest background events.
    fn ramp(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64).collect()
    }

    #[test]
    fn efficiencies_and_improvements_are_exact_on_a_hand_made_case() {
        // 1000 background events 0..999; eps_B = 1e-2 passes scores >= 990, 1e-3 passes 999.
        // Signal: 4 events above every background, 4 at 995.5 (inside the 1e-2 cut only),
        // 12 at -1 (below everything): eps_S = 8/20 at 1e-2; at 1e-3 the 4 top events, and
        // the curve reaches 4/20 at eps_B = 0, so 4/20.
        let mut signal = vec![2000.0; 4];
        signal.extend([995.5; 4]);
        signal.extend([-1.0; 12]);
        let opts = DmOptions {
            eps_b: vec![1e-2, 1e-3],
            ..Default::default()
        };
        let e = dm_evaluate(
            &[channel(
                "ch1",
                &[("background", ramp(1000)), ("sig", signal)],
            )],
            &opts,
        )
        .unwrap();
        let r = &e.rows[0];
        assert!((r.eps_s[0] - 0.4).abs() < 1e-12, "{:?}", r.eps_s);
        assert!((r.eps_s[1] - 0.2).abs() < 1e-12, "{:?}", r.eps_s);
        // SI = max(0.4 / 0.1, 0.2 / sqrt(1e-3)) = max(4, 6.3246).
        assert!((r.si - 0.2 / 1e-3f64.sqrt()).abs() < 1e-9, "{}", r.si);
        // AUC, the probability that a signal event outscores a background one: 4 beat all
        // 1000, 4 beat the 996 below 995.5, 12 beat none.
        assert!(
            (r.auc - (4.0 * 1000.0 + 4.0 * 996.0) / 20_000.0).abs() < 1e-12,
            "{}",
            r.auc
        );
        assert_eq!((r.n_signal, r.n_background), (20, 1000));
        assert_eq!(e.total.median, r.si);
        let shown = e.to_string();
        assert!(
            shown.contains("eS@1e-2") && shown.contains("total improvement"),
            "{shown}"
        );
    }

    #[test]
    fn the_best_channel_of_each_signal_enters_the_total() {
        // A signal with k of its 10 events above every background and the rest below it has
        // eps_S = k/10 at every cut, so its SI is that at the tightest, eps_B = 1e-4:
        // (k/10) / sqrt(1e-4).
        let sig = |k: usize| {
            let mut s = vec![1e6; k];
            s.extend(vec![-1.0; 10 - k]);
            s
        };
        let opts = DmOptions::default();
        let e = dm_evaluate(
            &[
                channel(
                    "a",
                    &[("background", ramp(100)), ("s1", sig(1)), ("s2", sig(5))],
                ),
                channel(
                    "b",
                    &[("background", ramp(100)), ("s1", sig(3)), ("s3", sig(9))],
                ),
            ],
            &opts,
        )
        .unwrap();
        assert_eq!(e.rows.len(), 4);
        let si = |k: usize| k as f64 / 10.0 / 1e-4f64.sqrt();
        let best: Vec<(&str, &str, f64)> = e
            .per_signal
            .iter()
            .map(|b| (b.signal.as_str(), b.channel.as_str(), b.si))
            .collect();
        assert_eq!(best.len(), 3);
        assert_eq!((best[0].0, best[0].1), ("s1", "b"));
        assert_eq!((best[1].0, best[1].1), ("s2", "a"));
        assert_eq!((best[2].0, best[2].1), ("s3", "b"));
        for (got, k) in best.iter().zip([3, 5, 9]) {
            assert!((got.2 - si(k)).abs() < 1e-9, "{got:?}");
        }
        assert!((e.total.min - si(3)).abs() < 1e-9);
        assert!((e.total.median - si(5)).abs() < 1e-9);
        assert!((e.total.max - si(9)).abs() < 1e-9);
        assert_eq!(e.improvements().len(), 3);
        assert!(
            e.to_string().contains('*'),
            "100 background events cannot resolve 1e-3"
        );
        let json = e.to_json().to_string();
        assert!(
            json.contains("per_signal") && json.contains("\"median\""),
            "{json}"
        );
    }

    #[test]
    fn errors_name_the_channel_and_sample() {
        let opts = DmOptions::default();
        let err = |channels: &[(String, ChannelScores)], opts: &DmOptions| {
            dm_evaluate(channels, opts).unwrap_err().to_string()
        };
        let e = err(
            &[channel("ch2a", &[("bkg", ramp(10)), ("s", ramp(5))])],
            &opts,
        );
        assert!(
            e.contains("ch2a") && e.contains("'background'") && e.contains("bkg"),
            "{e}"
        );
        let e = err(&[channel("ch1", &[("background", ramp(10))])], &opts);
        assert!(e.contains("ch1") && e.contains("signal"), "{e}");
        let e = err(
            &[channel("ch1", &[("background", ramp(10)), ("zp", vec![])])],
            &opts,
        );
        assert!(
            e.contains("ch1") && e.contains("zp") && e.contains("no scores"),
            "{e}"
        );
        let e = err(
            &[channel(
                "ch3",
                &[("background", ramp(10)), ("zp", vec![1.0, f64::NAN])],
            )],
            &opts,
        );
        assert!(
            e.contains("ch3") && e.contains("zp") && e.contains("NaN"),
            "{e}"
        );
        let e = err(
            &[channel(
                "ch3",
                &[("background", vec![f64::NAN]), ("zp", vec![1.0])],
            )],
            &opts,
        );
        assert!(e.contains("'background'") && e.contains("NaN"), "{e}");
        let bad = DmOptions {
            eps_b: vec![0.0],
            ..Default::default()
        };
        let e = err(
            &[channel("c", &[("background", ramp(10)), ("s", ramp(3))])],
            &bad,
        );
        assert!(e.contains("eps_b"), "{e}");
        assert!(err(&[], &opts).contains("no channels"));
    }
}
