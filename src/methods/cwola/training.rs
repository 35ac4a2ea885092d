//! Training and scoring of CWoLa's (region, outer fold) ensembles: each region's data, the
//! members of nested cross-validation, several ensembles trained as one, the best
//! initialisation per inner fold and the out-of-fold scores.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use super::CwolaOptions;
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::methods::inputs::Inputs;
use crate::methods::regions::{Region, Side, cwola_weights};
use crate::nn::ensemble::{Ensemble, MemberData, fit_ensemble};
use crate::nn::mlp::MlpConfig;
use crate::nn::train::{Dataset, TrainOptions, Validation};
use crate::seed::stream_seed;
use crate::stats::metrics::threshold_for_efficiency;

/// One region's training data: the signal region (label 1) and sidebands (label 0) with
/// CWoLa's weights, then for SA-CWoLa the simulated events with reversed labels.
pub(super) struct RegionData {
    pub(super) region: Region,
    /// The data events, as rows of [`Inputs`]; they are the first positions of `data`.
    pub(super) rows: Vec<usize>,
    /// The labels of every position of `data`.
    pub(super) labels: Vec<f32>,
    /// The positions of the simulated events in `data` (after the data events; empty
    /// without simulation). Every member trains on all of them; none is scored.
    pub(super) simulated: std::ops::Range<u32>,
    /// The inner fold of each simulated event (they are never scored, so only the
    /// validation folds l matter for them).
    pub(super) sim_fold: Vec<usize>,
    pub(super) data: Dataset,
}

/// The rows of `inputs` in `region`'s signal region or sidebands, each with its side
/// (0 lower, 1 signal, 2 upper), and the events per side.
fn region_rows(inputs: &Inputs, region: &Region) -> (Vec<usize>, Vec<usize>, [usize; 3]) {
    let side_index = |side| match side {
        Side::Lower => 0,
        Side::Signal => 1,
        Side::Upper => 2,
    };
    let (rows, sides): (Vec<usize>, Vec<usize>) = inputs
        .bin
        .iter()
        .enumerate()
        .filter_map(|(row, &b)| region.side(b).map(|side| (row, side_index(side))))
        .unzip();
    let mut counts = [0; 3];
    for &side in &sides {
        counts[side] += 1;
    }
    (rows, sides, counts)
}

/// The events in the lower sideband, signal region and upper sideband of `region`.
pub(super) fn region_counts(inputs: &Inputs, region: &Region) -> [usize; 3] {
    region_rows(inputs, region).2
}

impl RegionData {
    /// The region's events; an empty signal region or sideband is an error naming it. With
    /// `sim` (its inputs and λ), the simulated events are appended with reversed labels and
    /// CWoLa's weights scaled to a total of λ times the data's.
    pub(super) fn new(
        inputs: &Inputs,
        region: Region,
        sim: Option<(&Inputs, f64)>,
        folds: usize,
        seed: u64,
    ) -> Result<Self> {
        let (rows, sides, counts) = region_rows(inputs, &region);
        let weights = cwola_weights(&region, counts)?;
        let mut labels: Vec<f32> = sides
            .iter()
            .map(|&s| if s == 1 { 1.0 } else { 0.0 })
            .collect();
        let mut w: Vec<f32> = sides.iter().map(|&s| weights[s] as f32).collect();
        let mut x = inputs.tensor(&rows)?;
        let mut simulated = 0..0;
        let mut sim_fold = Vec::new();
        if let Some((sim, lambda)) = sim {
            let (sim_rows, sim_sides, sim_counts) = region_rows(sim, &region);
            let sim_weights =
                cwola_weights(&region, sim_counts).map_err(|e| e.in_sample("simulation"))?;
            // Both samples weigh twice their signal region in total (the sidebands together
            // weigh as much as it).
            let scale = lambda * counts[1] as f64 / sim_counts[1] as f64;
            labels.extend(sim_sides.iter().map(|&s| if s == 1 { 0.0 } else { 1.0 }));
            w.extend(sim_sides.iter().map(|&s| (scale * sim_weights[s]) as f32));
            simulated = rows.len() as u32..(rows.len() + sim_rows.len()) as u32;
            sim_fold = MemberData::fold_of_each(sim_rows.len(), folds.min(sim_rows.len()), seed)?;
            x = Tensor::cat(&[&x, &sim.tensor(&sim_rows)?], 0)?;
        }
        let n = labels.len();
        let data = Dataset {
            x,
            y: Some(Tensor::from_vec(labels.clone(), n, &inputs.device)?),
            weights: Some(Tensor::from_vec(w, n, &inputs.device)?),
            context: None,
        };
        Ok(Self {
            region,
            rows,
            labels,
            simulated,
            sim_fold,
            data,
        })
    }
}

/// What the ensemble of one region and outer fold gives: the scores of that fold's events and
/// the kept members' mean validation efficiency. It is what a unit of a hunt's plan saves
/// ([`hunt_unit`](super::hunt_unit)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldScores {
    /// Rows of the hunt range (positions in `CwolaHunt::in_range`) in the fold, in order.
    pub rows: Vec<usize>,
    /// Their scores.
    pub scores: Vec<f32>,
    /// The kept members' mean validation efficiency (see `RegionResult::validation_efficiency`).
    #[serde(deserialize_with = "crate::methods::nan_from_null")]
    pub validation_efficiency: f64,
}

/// The members of outer fold `k`'s ensemble, `inits` per inner fold l ≠ k: validated on
/// fold l and trained on the folds other than k and l. `rows` are the region's data events
/// (rows of [`Inputs`], whose folds `fold` gives); the members name positions in `rows`, then
/// the simulated ones (`simulated`, of folds `sim_fold`), which train on every fold but l
/// and validate on l (they are never scored).
pub(super) fn fold_members(
    rows: &[usize],
    simulated: std::ops::Range<u32>,
    sim_fold: &[usize],
    fold: &[usize],
    k: usize,
    folds: usize,
    inits: usize,
) -> Vec<MemberData> {
    let positions = |keep: &dyn Fn(usize) -> bool| -> Vec<u32> {
        (0..rows.len() as u32)
            .filter(|&p| keep(fold[rows[p as usize]]))
            .collect()
    };
    let mut members = Vec::new();
    for l in (0..folds).filter(|&l| l != k) {
        let mut train = positions(&|f| f != k && f != l);
        let mut validation = positions(&|f| f == l);
        for (p, &f) in simulated.clone().zip(sim_fold) {
            if f == l {
                validation.push(p);
            } else {
                train.push(p);
            }
        }
        for _ in 0..inits {
            members.push(MemberData {
                train: train.clone(),
                validation: Some(validation.clone()),
                shuffle_seed: None,
            });
        }
    }
    members
}

/// Trains the ensembles of `tasks` (a region and an outer fold `k` each) together as one and
/// scores each task's fold with [`score_fold`]. Every network keeps the seeds it has when its
/// task trains alone (initial weights and shuffles from the task's seed), so that how many
/// tasks train together changes nothing but the speed.
pub(super) fn score_folds(
    inputs: &Inputs,
    fold: &[usize],
    tasks: &[(&RegionData, usize)],
    opts: &CwolaOptions,
    interrupt: Option<&Interrupt>,
) -> Result<Vec<FoldScores>> {
    // The tasks' regions one after another in one data set (a lone region is used as it is).
    let mut regions: Vec<&RegionData> = Vec::new();
    let mut starts = Vec::new();
    let mut offset = 0;
    for &(region, _) in tasks {
        if !regions.iter().any(|r| std::ptr::eq(*r, region)) {
            regions.push(region);
            starts.push(offset);
            offset += region.data.len() as u32;
        }
    }
    let joint;
    let data = if let [region] = regions[..] {
        &region.data
    } else {
        joint = joined(&regions)?;
        &joint
    };

    let mut members = Vec::new();
    let mut seeds = Vec::new();
    let mut spans = Vec::new();
    for &(region, k) in tasks {
        let start = starts[regions
            .iter()
            .position(|r| std::ptr::eq(*r, region))
            .unwrap_or(0)];
        let seed = task_seed(opts, region, k);
        let shuffles = stream_seed(seed, u64::MAX);
        let first = members.len();
        for (j, member) in task_members(region, fold, k, opts).into_iter().enumerate() {
            let shift = |v: Vec<u32>| v.into_iter().map(|p| p + start).collect::<Vec<_>>();
            members.push(MemberData {
                train: shift(member.train),
                validation: member.validation.map(shift),
                shuffle_seed: Some(Ensemble::member_seed(shuffles, j)),
            });
            seeds.push(Ensemble::member_seed(seed, j));
        }
        spans.push(first..members.len());
    }
    let config = MlpConfig {
        inputs: inputs.features,
        ..opts.network.clone()
    };
    let ensemble = Ensemble::with_seeds(config, &seeds, &inputs.device)?;
    let train_opts = TrainOptions {
        validation: Validation::None,
        monitor: "val_loss".into(),
        seed: stream_seed(task_seed(opts, tasks[0].0, tasks[0].1), u64::MAX),
        // Many ensembles at once take long enough to show their progress.
        quiet: tasks.len() == 1,
        ..opts.training.clone()
    };
    fit_ensemble(&ensemble, data, &members, &train_opts, interrupt)?;
    tasks
        .iter()
        .zip(spans)
        .map(|(&(region, k), span)| {
            score_fold(inputs, fold, region, k, &ensemble.select(span)?, opts)
        })
        .collect()
}

/// The seed of the ensemble of `region` and outer fold `k`.
fn task_seed(opts: &CwolaOptions, region: &RegionData, k: usize) -> u64 {
    stream_seed(opts.seed, 1 + (region.region.index * opts.folds + k) as u64)
}

/// The members of the ensemble of `region` and outer fold `k` (see [`fold_members`]).
fn task_members(
    region: &RegionData,
    fold: &[usize],
    k: usize,
    opts: &CwolaOptions,
) -> Vec<MemberData> {
    fold_members(
        &region.rows,
        region.simulated.clone(),
        &region.sim_fold,
        fold,
        k,
        opts.folds,
        opts.inits,
    )
}

/// The data sets of `regions` one after another.
fn joined(regions: &[&RegionData]) -> Result<Dataset> {
    let cat = |pick: &dyn Fn(&Dataset) -> Option<&Tensor>| -> Result<Option<Tensor>> {
        let parts: Option<Vec<&Tensor>> = regions.iter().map(|r| pick(&r.data)).collect();
        parts.map(|p| Ok(Tensor::cat(&p, 0)?)).transpose()
    };
    Ok(Dataset {
        x: cat(&|d| Some(&d.x))?.expect("every data set has inputs"),
        y: cat(&|d| d.y.as_ref())?,
        weights: cat(&|d| d.weights.as_ref())?,
        context: None,
    })
}

/// Keeps the best of the `inits` trained networks of each inner fold of `ensemble` (the
/// ensemble of `region` and outer fold `k`) and scores fold `k`'s events (the whole hunt
/// range) with the kept members' mean.
fn score_fold(
    inputs: &Inputs,
    fold: &[usize],
    region: &RegionData,
    k: usize,
    ensemble: &Ensemble,
    opts: &CwolaOptions,
) -> Result<FoldScores> {
    let members = task_members(region, fold, k, opts);
    // Keep the best of the `inits` networks of each inner fold.
    let mut kept = Vec::new();
    let mut kept_efficiency = 0.0;
    for (l, group) in members.chunks(opts.inits).enumerate() {
        let validation = group[0].validation.as_deref().unwrap_or_default();
        let index = Tensor::from_slice(validation, validation.len(), &inputs.device)?;
        let predictions = ensemble.member_predictions(&region.data.x.index_select(&index, 0)?)?;
        let mut best = (l * opts.inits, f64::NEG_INFINITY);
        let first = l * opts.inits;
        for (m, p) in predictions.iter().enumerate().skip(first).take(opts.inits) {
            let eff = selection_gain(p, validation, region, opts.eps_cut);
            if eff > best.1 {
                best = (m, eff);
            }
        }
        kept.push(best.0);
        kept_efficiency += best.1.max(0.0);
    }

    // Score fold k with the kept members' mean.
    let rows: Vec<usize> = (0..inputs.len()).filter(|&r| fold[r] == k).collect();
    let predictions = ensemble.member_predictions(&inputs.tensor(&rows)?)?;
    let scores = (0..rows.len())
        .map(|j| kept.iter().map(|&m| predictions[m][j]).sum::<f32>() / kept.len() as f32)
        .collect();
    Ok(FoldScores {
        rows,
        scores,
        validation_efficiency: kept_efficiency / kept.len() as f64,
    })
}

/// How well a network selects on validation `positions` of `region`: the data's
/// signal-region efficiency at the threshold keeping `eps_cut` of the data's sidebands, less
/// the same for the simulation (SA-CWoLa: a network that selects simulated signal-region
/// events as much as data ones learned the background, not a signal).
fn selection_gain(scores: &[f32], positions: &[u32], region: &RegionData, eps_cut: f64) -> f64 {
    let (mut data, mut sim) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for (&s, &p) in scores.iter().zip(positions) {
        let simulated = region.simulated.contains(&p);
        // Simulated events carry reversed labels: 0 marks their signal region.
        let in_sr = (region.labels[p as usize] == 1.0) != simulated;
        let (sr, sb) = if simulated {
            (&mut sim.0, &mut sim.1)
        } else {
            (&mut data.0, &mut data.1)
        };
        if in_sr {
            sr.push(f64::from(s));
        } else {
            sb.push(f64::from(s));
        }
    }
    let data_eff = sr_efficiency(&data.0, &data.1, eps_cut);
    if sim.0.is_empty() || sim.1.is_empty() {
        return data_eff;
    }
    data_eff - sr_efficiency(&sim.0, &sim.1, eps_cut).max(0.0)
}

/// The fraction of signal-region scores `sr` passing the threshold that keeps `eps_cut` of the
/// sideband scores `sb`; -∞ when a side has no events.
pub(super) fn sr_efficiency(sr: &[f64], sb: &[f64], eps_cut: f64) -> f64 {
    let Ok(threshold) = threshold_for_efficiency(sb, eps_cut) else {
        return f64::NEG_INFINITY;
    };
    if sr.is_empty() {
        return f64::NEG_INFINITY;
    }
    sr.iter().filter(|&&s| s >= threshold).count() as f64 / sr.len() as f64
}
