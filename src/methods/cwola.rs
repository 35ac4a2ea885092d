//! CWoLa hunting (LHC Olympics 2020 §4.1): for each signal region of a sliding scan, classifiers learn
//! to tell signal-region events from sideband events with features that carry no mass
//! information; a signal localised in mass and different in those features is what they can
//! learn. Each event is scored by classifiers that never saw it (nested cross-validation), the
//! highest-scoring fraction is kept, and the kept events' mass spectrum is tested for a bump in
//! the signal region ([`window_significance`]).
//!
//! Nested cross-validation, as the paper does it:
//! - **k** — every event in the hunt range is dealt into `folds` folds. Events of fold k are
//!   scored by the ensemble trained on the other folds.
//! - **l** — that ensemble has one member per remaining fold l, validated on fold l and trained
//!   on the rest (so `folds - 2` folds).
//! - **i** — each member is the best of `inits` networks trained on the same events, judged on
//!   the validation fold by the signal-region efficiency at a threshold that keeps `eps_cut` of
//!   the sideband events.
//!
//! All `(folds - 1) × inits` networks of one k are trained together as one batched
//! [`Ensemble`] with per-member data and early stopping.
//!
//! The test assumes the selection does not sculpt the background's mass spectrum. Features
//! that depend on the mass break that: the classifiers learn the background's own signal
//! region/sideband difference, and the selected spectrum grows a bump (or a dip) that the
//! sideband fit reads as a signal. Dividing the jet masses by the mass
//! ([`Rescaling::Ratio`], the default) is the guard; LHC Olympics 2020's eq. 4.2 ([`Rescaling::Eq42`])
//! leaves the jet-mass difference dependent on the mass near its lower edge (docs/cwola.md).
//!
//! [`sa_cwola`] is the simulation-augmented variant (LHC Olympics 2020 §4.5): background simulation
//! joins every member's training set with its labels reversed (signal region 0, sidebands 1),
//! so a classifier that learns the background's own difference between signal region and
//! sidebands is penalised. Eq. 4.11 adds λ times the simulation's log-likelihood to the loss;
//! taken literally that term is unbounded below (a classifier can push it to −∞), so the
//! bounded form with reversed labels is used: it has the same aim — no gain from telling the
//! signal region from the sidebands in signal-free simulation — and for λ = 1 and a perfect
//! simulation its optimum ignores the background's dependence on the mass exactly.

use std::time::Instant;

use candle_core::{Device, Tensor};
use serde::Serialize;

use super::estimate::Significance;
pub use super::inputs::Rescaling;
use super::inputs::{InputSpec, Inputs};
use super::regions::{Region, Side, cwola_weights, sliding_regions};
use super::window_significance::{
    WindowSignificance, WindowSignificanceOptions, window_significance,
};
use crate::data::binning::log_bins;
use crate::data::eventset::EventSet;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::ensemble::{Ensemble, MemberData, fit_ensemble};
use crate::nn::mlp::MlpConfig;
use crate::nn::train::{Dataset, TrainOptions, Validation};
use crate::progress::Progress;
use crate::seed::stream_seed;
use crate::stats::metrics::{check_efficiency, threshold_for_efficiency};

/// Options of [`cwola_hunt`]; the defaults follow LHC Olympics 2020 §4.1 where the paper is specific,
/// and are chosen to finish a 1M-event hunt in minutes on a laptop where it is not.
#[derive(Clone, Debug)]
pub struct CwolaOptions {
    /// The resonant variable ("mjj").
    pub mass: String,
    /// The classifier's inputs (mj1, dmj, tau21_1, tau21_2: the original CWoLa hunting set).
    pub features: Vec<String>,
    /// Features divided by the mass as `rescaling` says, to take away their dependence on it
    /// (those of [`RESCALED_BY_DEFAULT`] among the default features: mj1, dmj).
    pub rescale: Vec<String>,
    /// How `rescale`'s features are divided by the mass: m/m_JJ ([`Rescaling::Ratio`], the
    /// default) or LHC Olympics 2020's eq. 4.2 ([`Rescaling::Eq42`]).
    pub rescaling: Rescaling,
    /// Bin edges of the mass (16 log-spaced bins over 2632–6000 GeV).
    pub edges: Vec<f64>,
    /// Bins per signal region (3).
    pub sr_bins: usize,
    /// Bins per sideband, on each side (2).
    pub sb_bins: usize,
    /// Outer folds k (5); each ensemble has `folds - 1` members.
    pub folds: usize,
    /// Networks trained per member, of which the best is kept (3).
    pub inits: usize,
    /// The sideband efficiency at which members are compared (0.01).
    pub eps_cut: f64,
    /// Selection efficiencies tested (10 %, 1 %, 0.2 %).
    pub efficiencies: Vec<f64>,
    /// Which signal regions to scan, by index (`None`: all).
    pub regions: Option<Vec<usize>>,
    /// The window tests' background fit (the nested dijet family) and fit-quality threshold.
    pub window_significance: WindowSignificanceOptions,
    /// How many (region, outer fold) ensembles train together as one larger ensemble. `None`
    /// chooses: on a GPU, whose small networks would otherwise leave it mostly idle, all of
    /// them (or as many as half the free memory holds), and on the CPU, whose cores one
    /// ensemble already keeps busy, one at a time. The results do not depend on it (to float
    /// rounding): every network keeps its own seeds.
    pub ensembles_at_once: Option<usize>,
    /// The members' shape (`inputs` is set from `features`): 3 × 32, ReLU (the paper: 4 × 128).
    pub network: MlpConfig,
    /// Training (the seed is derived from `seed`): 10 epochs, batch 2048, Adam 1e-3,
    /// patience 3 on the validation loss (the paper: batch 5000, patience 250).
    pub training: TrainOptions,
    /// Where the networks live (CPU).
    pub device: Device,
    /// Seed of the folds, the initial weights and the shuffles.
    pub seed: u64,
}

/// The jet-mass features (GeV) that are rescaled when they are among a hunt's features and
/// no `rescale` list is given: both jet masses and their difference.
pub const RESCALED_BY_DEFAULT: [&str; 3] = ["mj1", "mj2", "dmj"];

impl Default for CwolaOptions {
    fn default() -> Self {
        let features: Vec<String> = ["mj1", "dmj", "tau21_1", "tau21_2"]
            .map(String::from)
            .into();
        Self {
            mass: "mjj".into(),
            rescale: features
                .iter()
                .filter(|f| RESCALED_BY_DEFAULT.contains(&f.as_str()))
                .cloned()
                .collect(),
            rescaling: Rescaling::default(),
            features,
            edges: log_bins(2632.0, 6000.0, 16).expect("valid default bins"),
            sr_bins: 3,
            sb_bins: 2,
            folds: 5,
            inits: 3,
            eps_cut: 0.01,
            efficiencies: vec![0.1, 0.01, 0.002],
            regions: None,
            window_significance: WindowSignificanceOptions::default(),
            ensembles_at_once: None,
            network: MlpConfig {
                hidden: vec![32, 32, 32],
                ..MlpConfig::new(4)
            },
            training: TrainOptions {
                epochs: 10,
                batch_size: 2048,
                patience: Some(3),
                validation: Validation::None,
                ..TrainOptions::default()
            },
            device: Device::Cpu,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

/// The result of one signal region.
#[derive(Clone, Debug, Serialize)]
pub struct RegionResult {
    /// The region.
    pub region: Region,
    /// Events in the lower sideband, the signal region and the upper sideband.
    pub counts: [usize; 3],
    /// The test without any selection (the inclusive bump hunt).
    pub inclusive: WindowSignificance,
    /// One test per selection efficiency, in the order of the options.
    pub tests: Vec<WindowSignificance>,
    /// Per outer fold, the kept members' mean validation signal-region efficiency at
    /// `eps_cut` sideband efficiency (about `eps_cut` when nothing was learned); for SA-CWoLa
    /// less the same efficiency on the simulation (about 0 when nothing beyond the simulated
    /// background was learned).
    pub validation_efficiency: Vec<f64>,
    /// Per efficiency, the selected events (positions in the hunted event set), in order.
    #[serde(skip)]
    pub selected: Vec<Vec<usize>>,
    /// Per event in the hunt range (positions in `CwolaHunt::in_range`), its score.
    #[serde(skip)]
    pub scores: Vec<f32>,
}

/// The result of [`cwola_hunt`].
#[derive(Clone, Debug, Serialize)]
pub struct CwolaHunt {
    /// What was run: "CWoLa hunt", or "SA-CWoLa hunt (λ = …)".
    pub method: String,
    /// The mass variable.
    pub mass: String,
    /// The bin edges.
    pub edges: Vec<f64>,
    /// The selection efficiencies.
    pub efficiencies: Vec<f64>,
    /// The classifiers' features and how the jet masses among them were rescaled, in words.
    pub inputs: String,
    /// The scanned regions, lowest first.
    pub regions: Vec<RegionResult>,
    /// Tests whose sideband fit has a χ² p-value below this are flagged, not ranked.
    pub min_fit_pvalue: f64,
    /// Events in the hunt range.
    pub events_in_range: usize,
    /// Wall-clock seconds the hunt took (shown, not saved: result files are reproducible).
    #[serde(skip)]
    pub seconds: f64,
    /// Positions (in the hunted set) of the events in the hunt range.
    #[serde(skip)]
    pub in_range: Vec<usize>,
    /// The hunted events.
    #[serde(skip)]
    pub events: EventSet,
}

/// The most significant test of a hunt, and what the look-elsewhere effect makes of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GlobalSignificance {
    /// The region of the smallest local p-value (index into `CwolaHunt::regions`).
    pub region: usize,
    /// That test with Šidák's correction over regions × efficiencies.
    #[serde(flatten)]
    pub test: Significance,
}

impl CwolaHunt {
    /// The most significant selected test (the inclusive tests are not counted) with its
    /// trials-corrected global p-value over every selected test; tests with a poor sideband
    /// fit count as trials but are not ranked ([`WindowSignificance::is_ranked`]). `None` if no test
    /// can be ranked.
    pub fn global(&self) -> Option<GlobalSignificance> {
        let mut best: Option<(usize, &WindowSignificance)> = None;
        let mut trials = 0;
        for (r, region) in self.regions.iter().enumerate() {
            for t in &region.tests {
                trials += 1;
                if t.is_ranked() && best.is_none_or(|(_, b)| t.p_value < b.p_value) {
                    best = Some((r, t));
                }
            }
        }
        let (region, t) = best?;
        Some(GlobalSignificance {
            region,
            test: Significance::sidak(t.efficiency, t.p_value, t.significance, trials),
        })
    }

    /// Everything `save` writes: the hunt (regions, counts, tests with their fits) and the
    /// global statement.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "hunt": self, "global": self.global() })
    }

    /// The index of `efficiency` among the tested ones (matched to 1e-9 relative).
    pub fn efficiency_index(&self, efficiency: f64) -> Result<usize> {
        self.efficiencies
            .iter()
            .position(|&e| (e - efficiency).abs() <= 1e-9 * e)
            .ok_or_else(|| {
                Error::invalid(
                    "efficiency",
                    format!(
                        "{efficiency} was not tested; the hunt tested {:?}",
                        self.efficiencies
                    ),
                )
            })
    }

    /// The region at scan position `index`, or an error listing the valid ones.
    pub fn region(&self, index: usize) -> Result<&RegionResult> {
        self.regions
            .iter()
            .find(|r| r.region.index == index)
            .ok_or_else(|| {
                let valid: Vec<usize> = self.regions.iter().map(|r| r.region.index).collect();
                Error::invalid(
                    "region",
                    format!("{index} was not scanned; the hunt has regions {valid:?}"),
                )
            })
    }

    /// The region of the most significant test (see [`CwolaHunt::global`]), or the first
    /// region if no fit succeeded.
    pub fn most_significant(&self) -> &RegionResult {
        match self.global() {
            Some(g) => &self.regions[g.region],
            None => &self.regions[0],
        }
    }

    /// The region with the most significant test at `efficiency`.
    pub fn best_region(&self, efficiency: f64) -> Result<&RegionResult> {
        let e = self.efficiency_index(efficiency)?;
        self.regions
            .iter()
            .filter(|r| r.tests[e].is_ranked())
            .min_by(|a, b| a.tests[e].p_value.total_cmp(&b.tests[e].p_value))
            .ok_or_else(|| {
                Error::invalid(
                    "efficiency",
                    format!(
                        "no region has a ranked test at efficiency {efficiency} (every fit failed, \
                         was untested or described its sidebands poorly)"
                    ),
                )
            })
    }

    /// The events selected at `efficiency` for `region` (all of its folds), as a view of the
    /// hunted events.
    pub fn selected(&self, efficiency: f64, region: &RegionResult) -> Result<EventSet> {
        let e = self.efficiency_index(efficiency)?;
        self.events.take(&region.selected[e])
    }

    /// The scores of every event in the hunt range for `region`, as a view of those events
    /// with a `score` column added.
    pub fn scored(&self, region: &RegionResult) -> Result<EventSet> {
        self.events.take(&self.in_range)?.with_column(
            "score",
            region.scores.iter().map(|&s| f64::from(s)).collect(),
        )
    }
}

/// Runs CWoLa hunting on `events` (see the module documentation). Errors before any training:
/// a missing column, NaN in a feature or the mass, invalid options, and a region whose signal
/// region or sidebands are empty. Ctrl-C (`interrupt`) stops between batches.
pub fn cwola_hunt(
    events: &EventSet,
    opts: &CwolaOptions,
    interrupt: Option<&Interrupt>,
) -> Result<CwolaHunt> {
    hunt(events, None, opts, interrupt)
}

/// Runs SA-CWoLa hunting (LHC Olympics 2020 §4.5, see the module documentation): CWoLa hunting on
/// `data` whose classifiers are also trained on the background simulation `sim` with reversed
/// labels, weighted so that the simulation's total weight is `lambda` times the data's (the
/// paper: λ = 0.5). Only data events are scored and tested. `sim` needs the mass and feature
/// columns; its features are standardised with the data's parameters.
pub fn sa_cwola(
    data: &EventSet,
    sim: &EventSet,
    lambda: f64,
    opts: &CwolaOptions,
    interrupt: Option<&Interrupt>,
) -> Result<CwolaHunt> {
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(Error::invalid(
            "lambda",
            format!("{lambda} is not a finite number >= 0"),
        ));
    }
    hunt(data, Some((sim, lambda)), opts, interrupt)
}

/// CWoLa hunting, with simulation and its weight λ for SA-CWoLa.
fn hunt(
    events: &EventSet,
    sim: Option<(&EventSet, f64)>,
    opts: &CwolaOptions,
    interrupt: Option<&Interrupt>,
) -> Result<CwolaHunt> {
    let started = Instant::now();
    check_options(opts)?;
    let all_regions = sliding_regions(&opts.edges, opts.sr_bins, opts.sb_bins)?;
    let regions = chosen_regions(&all_regions, opts.regions.as_deref())?;
    let spec = InputSpec {
        mass: &opts.mass,
        features: &opts.features,
        rescale: &opts.rescale,
        logarithm: &[],
        edges: &opts.edges,
    };
    let inputs = Inputs::with_rescaling(events, &spec, opts.rescaling, None, &opts.device)?;
    let tasks: Vec<(usize, usize)> = (0..regions.len())
        .flat_map(|r| (0..opts.folds).map(move |k| (r, k)))
        .collect();
    // One ensemble: (folds - 1) x inits members, each with its event indices, weights,
    // gradients and optimizer moments.
    let network = MlpConfig {
        inputs: opts.features.len(),
        ..opts.network.clone()
    }
    .parameter_count();
    let per_ensemble = (opts.folds.saturating_sub(1) * opts.inits) as f64
        * (inputs.len() as f64 * 8.0 + network * 4.0 * 6.0);
    let at_once = match opts.ensembles_at_once {
        Some(0) => {
            return Err(Error::invalid(
                "ensembles_at_once",
                "train at least one ensemble at a time",
            ));
        }
        Some(n) => n.min(tasks.len()),
        // On a GPU as many as half the free host memory holds (their indices live there).
        None if inputs.device.is_cuda() => {
            let fit = (crate::memory::available_bytes() / 2.0 / per_ensemble).floor();
            (fit as usize).clamp(1, tasks.len())
        }
        None => 1,
    };
    crate::memory::check(
        &format!("{at_once} region × fold ensembles trained at once"),
        at_once as f64 * per_ensemble,
    )?;
    let sim = sim
        .map(|(s, lambda)| {
            Inputs::with_rescaling(
                s,
                &spec,
                opts.rescaling,
                Some(&inputs.scaling),
                &opts.device,
            )
            .map(|i| (i, lambda))
            .map_err(|e| e.in_sample("simulation"))
        })
        .transpose()?;
    let folds = MemberData::fold_of_each(inputs.len(), opts.folds, stream_seed(opts.seed, 0))?;
    let prepared = regions
        .into_iter()
        .map(|region| {
            let seed = stream_seed(opts.seed, u64::MAX - region.index as u64);
            RegionData::new(
                &inputs,
                region,
                sim.as_ref().map(|(s, l)| (s, *l)),
                opts.folds,
                seed,
            )
        })
        .collect::<Result<Vec<_>>>()?;

    // One ensemble per (region, outer fold), trained `at_once` at a time. On the CPU one at a
    // time: two at a time on this process's two threads took longer (98–102 s against 83 s
    // for a quick 1M-event hunt) although two processes side by side each keep full speed.
    let method = match &sim {
        None => "CWoLa hunt".to_string(),
        Some((_, lambda)) => format!("SA-CWoLa hunt (λ = {lambda})"),
    };
    let progress = Progress::new(
        format!("{method} (region × fold ensembles)"),
        tasks.len() as u64,
    );
    let mut scored = Vec::with_capacity(tasks.len());
    for group in tasks.chunks(at_once) {
        let group: Vec<(&RegionData, usize)> =
            group.iter().map(|&(r, k)| (&prepared[r], k)).collect();
        scored.extend(score_folds(&inputs, &folds, &group, opts, interrupt)?);
        progress.advance(group.len() as u64);
    }
    drop(progress);

    let mut results = Vec::new();
    for (r, region) in prepared.into_iter().enumerate() {
        let mut scores = vec![f32::NAN; inputs.len()];
        let mut validation_efficiency = Vec::new();
        for fold_scores in &scored[r * opts.folds..(r + 1) * opts.folds] {
            for (&row, &score) in fold_scores.rows.iter().zip(&fold_scores.scores) {
                scores[row] = score;
            }
            validation_efficiency.push(fold_scores.validation_efficiency);
        }
        results.push(test_region(
            &inputs,
            &folds,
            region.region,
            region.counts,
            scores,
            validation_efficiency,
            opts,
        )?);
    }
    Ok(CwolaHunt {
        method,
        mass: opts.mass.clone(),
        edges: opts.edges.clone(),
        efficiencies: opts.efficiencies.clone(),
        inputs: inputs_in_words(opts),
        regions: results,
        min_fit_pvalue: opts.window_significance.min_fit_pvalue,
        events_in_range: inputs.len(),
        seconds: started.elapsed().as_secs_f64(),
        in_range: inputs.positions,
        events: events.clone(),
    })
}

/// The features of `opts` and their rescaling, e.g. "features mj1, dmj, tau21_1, tau21_2; mj1,
/// dmj rescaled "ratio": m/mjj".
fn inputs_in_words(opts: &CwolaOptions) -> String {
    let features = format!("features {}", opts.features.join(", "));
    if opts.rescale.is_empty() {
        format!("{features}; none rescaled")
    } else {
        format!(
            "{features}; {} rescaled \"{}\": {}",
            opts.rescale.join(", "),
            opts.rescaling.name(),
            opts.rescaling.formula()
        )
    }
}

fn check_options(opts: &CwolaOptions) -> Result<()> {
    if opts.features.is_empty() {
        return Err(Error::invalid(
            "features",
            "name at least one feature column",
        ));
    }
    if let Some(r) = opts.rescale.iter().find(|r| !opts.features.contains(r)) {
        return Err(Error::invalid(
            "rescale",
            format!("'{r}' is not one of the features {:?}", opts.features),
        ));
    }
    if opts.folds < 3 {
        return Err(Error::invalid(
            "folds",
            format!(
                "{} folds leave no training data for the inner cross-validation; use at least 3",
                opts.folds
            ),
        ));
    }
    if opts.inits == 0 {
        return Err(Error::invalid(
            "inits",
            "train at least one network per member",
        ));
    }
    if !(opts.eps_cut > 0.0 && opts.eps_cut < 1.0) {
        return Err(Error::invalid(
            "eps_cut",
            format!("{} is not in (0, 1)", opts.eps_cut),
        ));
    }
    if opts.efficiencies.is_empty() {
        return Err(Error::invalid(
            "efficiencies",
            "give at least one selection efficiency",
        ));
    }
    for &e in &opts.efficiencies {
        check_efficiency("efficiencies", e)?;
    }
    opts.window_significance.check()
}

fn chosen_regions(all: &[Region], chosen: Option<&[usize]>) -> Result<Vec<Region>> {
    let Some(chosen) = chosen else {
        return Ok(all.to_vec());
    };
    if chosen.is_empty() {
        return Err(Error::invalid(
            "regions",
            "choose at least one signal region",
        ));
    }
    let mut picked = Vec::new();
    for &i in chosen {
        let region = all.get(i).ok_or_else(|| {
            Error::invalid(
                "regions",
                format!(
                    "there is no signal region {i}: these bins give regions 0 to {}",
                    all.len() - 1
                ),
            )
        })?;
        if !picked.contains(region) {
            picked.push(region.clone());
        }
    }
    picked.sort_by_key(|r: &Region| r.index);
    Ok(picked)
}

/// One region's training data: the signal region (label 1) and sidebands (label 0) with
/// CWoLa's weights, then for SA-CWoLa the simulated events with reversed labels.
struct RegionData {
    region: Region,
    counts: [usize; 3],
    /// The data events, as rows of [`Inputs`]; they are the first positions of `data`.
    rows: Vec<usize>,
    /// The labels of every position of `data`.
    labels: Vec<f32>,
    /// The positions of the simulated events in `data` (after the data events; empty
    /// without simulation). Every member trains on all of them; none is scored.
    simulated: std::ops::Range<u32>,
    /// The inner fold of each simulated event (they are never scored, so only the
    /// validation folds l matter for them).
    sim_fold: Vec<usize>,
    data: Dataset,
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

impl RegionData {
    /// The region's events; an empty signal region or sideband is an error naming it. With
    /// `sim` (its inputs and λ), the simulated events are appended with reversed labels and
    /// CWoLa's weights scaled to a total of λ times the data's.
    fn new(
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
            counts,
            rows,
            labels,
            simulated,
            sim_fold,
            data,
        })
    }
}

/// What the ensemble of one outer fold gives: the scores of that fold's events and the kept
/// members' mean validation efficiency.
struct FoldScores {
    /// Rows of [`Inputs`] in the fold, and their scores.
    rows: Vec<usize>,
    scores: Vec<f32>,
    validation_efficiency: f64,
}

/// The members of outer fold `k`'s ensemble, `inits` per inner fold l ≠ k: validated on
/// fold l and trained on the folds other than k and l. `rows` are the region's data events
/// (rows of [`Inputs`], whose folds `fold` gives); the members name positions in `rows`, then
/// the simulated ones (`simulated`, of folds `sim_fold`), which train on every fold but l
/// and validate on l (they are never scored).
fn fold_members(
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
fn score_folds(
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
fn sr_efficiency(sr: &[f64], sb: &[f64], eps_cut: f64) -> f64 {
    let Ok(threshold) = threshold_for_efficiency(sb, eps_cut) else {
        return f64::NEG_INFINITY;
    };
    if sr.is_empty() {
        return f64::NEG_INFINITY;
    }
    sr.iter().filter(|&&s| s >= threshold).count() as f64 / sr.len() as f64
}

/// Selects each efficiency's highest-scoring events fold by fold and tests the region.
fn test_region(
    inputs: &Inputs,
    fold: &[usize],
    region: Region,
    counts: [usize; 3],
    scores: Vec<f32>,
    validation_efficiency: Vec<f64>,
    opts: &CwolaOptions,
) -> Result<RegionResult> {
    let inclusive = window_significance(
        &opts.edges,
        &region,
        &inputs.mass,
        1.0,
        &opts.window_significance,
    )?;
    let mut by_fold: Vec<Vec<usize>> = vec![Vec::new(); opts.folds];
    for (r, &f) in fold.iter().enumerate() {
        by_fold[f].push(r);
    }
    let mut tests = Vec::new();
    let mut selected = Vec::new();
    for &eff in &opts.efficiencies {
        let mut rows = Vec::new();
        for members in &by_fold {
            let s: Vec<f64> = members.iter().map(|&r| f64::from(scores[r])).collect();
            let t = threshold_for_efficiency(&s, eff)?;
            rows.extend(
                members
                    .iter()
                    .zip(&s)
                    .filter(|&(_, &v)| v >= t)
                    .map(|(&r, _)| r),
            );
        }
        rows.sort_unstable();
        let masses: Vec<f64> = rows.iter().map(|&r| inputs.mass[r]).collect();
        tests.push(window_significance(
            &opts.edges,
            &region,
            &masses,
            eff,
            &opts.window_significance,
        )?);
        selected.push(rows.iter().map(|&r| inputs.positions[r]).collect());
    }
    Ok(RegionResult {
        region,
        counts,
        inclusive,
        tests,
        validation_efficiency,
        selected,
        scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::generate::lhco::{LhcoToyOptions, MJ_PROPORTIONAL_POWER, lhco_toy};

    /// A small LHCO-like sample with a strong signal at 3.8 TeV.
    fn sample(background: usize, signal: usize, seed: u64) -> EventSet {
        let columns = lhco_toy(&LhcoToyOptions {
            background,
            signal,
            mz: 3800.0,
            seed,
            ..LhcoToyOptions::default()
        })
        .unwrap();
        EventSet::from_columns(columns).unwrap()
    }

    /// Options that train for a moment: 3 folds, one small network per member, 2 epochs.
    fn quick(regions: Vec<usize>) -> CwolaOptions {
        let defaults = CwolaOptions::default();
        CwolaOptions {
            folds: 3,
            inits: 2,
            regions: Some(regions),
            network: MlpConfig {
                hidden: vec![16, 16],
                ..defaults.network.clone()
            },
            training: TrainOptions {
                epochs: 2,
                batch_size: 1024,
                ..defaults.training.clone()
            },
            seed: 11,
            ..defaults
        }
    }

    #[test]
    fn no_member_sees_the_fold_it_scores() {
        let rows: Vec<usize> = (0..50).map(|i| 2 * i).collect();
        let fold: Vec<usize> = (0..100).map(|i| (i * 7) % 5).collect();
        for k in 0..5 {
            let members = fold_members(&rows, 0..0, &[], &fold, k, 5, 3);
            assert_eq!(members.len(), 12);
            for (m, member) in members.iter().enumerate() {
                let l = (0..5).filter(|&l| l != k).nth(m / 3).unwrap();
                let validation = member.validation.as_ref().unwrap();
                assert!(!validation.is_empty() && !member.train.is_empty());
                for &p in &member.train {
                    let f = fold[rows[p as usize]];
                    assert!(
                        f != k && f != l,
                        "member {m} of fold {k} trains on fold {f}"
                    );
                }
                assert!(validation.iter().all(|&p| fold[rows[p as usize]] == l));
                // Training and validation together cover every fold but k.
                assert_eq!(
                    member.train.len() + validation.len(),
                    rows.iter().filter(|&&r| fold[r] != k).count()
                );
            }
        }
    }

    #[test]
    fn every_event_is_scored_once_and_the_selection_keeps_its_share_per_fold() {
        let events = sample(40_000, 400, 3);
        let opts = quick(vec![4]);
        let hunt = cwola_hunt(&events, &opts, None).unwrap();
        let region = &hunt.regions[0];
        assert_eq!(region.scores.len(), hunt.events_in_range);
        assert!(
            region
                .scores
                .iter()
                .all(|s| s.is_finite() && (0.0..=1.0).contains(s))
        );
        assert_eq!(region.validation_efficiency.len(), 3);
        let spec = InputSpec {
            mass: &opts.mass,
            features: &opts.features,
            rescale: &opts.rescale,
            logarithm: &[],
            edges: &opts.edges,
        };
        let inputs =
            Inputs::with_rescaling(&events, &spec, opts.rescaling, None, &opts.device).unwrap();
        let folds = MemberData::fold_of_each(inputs.len(), 3, stream_seed(opts.seed, 0)).unwrap();
        for (e, &eff) in opts.efficiencies.iter().enumerate() {
            let selected = &region.selected[e];
            assert_eq!(region.tests[e].selected, selected.len());
            // Per fold, the kept share is the efficiency (up to ties and rounding).
            for k in 0..3 {
                let in_fold = folds.iter().filter(|&&f| f == k).count();
                let kept = selected
                    .iter()
                    .filter(|&&p| folds[inputs.positions.binary_search(&p).unwrap()] == k)
                    .count();
                let want = (eff * in_fold as f64).round().max(1.0);
                assert!(
                    (kept as f64 - want).abs() <= 2.0,
                    "fold {k}: {kept} vs {want}"
                );
            }
            // The observed count is the selected events in the signal region.
            let masses = events.column("mjj").unwrap();
            let inside = selected
                .iter()
                .filter(|&&p| masses[p] >= region.region.lo && masses[p] < region.region.hi)
                .count();
            assert_eq!(region.tests[e].observed, inside as f64);
        }
        let again = cwola_hunt(&events, &opts, None).unwrap();
        assert_eq!(
            again.regions[0].scores, region.scores,
            "same seed, same scores"
        );
        let scored = hunt.scored(region).unwrap();
        assert_eq!(scored.len(), hunt.events_in_range);
        let selected = hunt.selected(0.01, region).unwrap();
        assert_eq!(selected.len(), region.selected[1].len());
    }

    /// How many ensembles train together (all at once on a GPU) changes nothing but the
    /// speed: every network keeps its seeds, so the scores agree to float rounding, with and
    /// without simulation (whose events sit after the data's in each region's set).
    #[test]
    fn ensembles_trained_together_score_as_ensembles_trained_alone() {
        let events = sample(30_000, 300, 5);
        let sim = sample(30_000, 0, 6);
        let alone = quick(vec![3, 4]);
        assert_eq!(alone.ensembles_at_once, None, "one at a time on the CPU");
        let hunts = |opts: &CwolaOptions| {
            [
                cwola_hunt(&events, opts, None).unwrap(),
                sa_cwola(&events, &sim, 0.5, opts, None).unwrap(),
            ]
        };
        let reference = hunts(&alone);
        for at_once in [2, 6, 100] {
            let together = CwolaOptions {
                ensembles_at_once: Some(at_once),
                ..alone.clone()
            };
            for (a, b) in reference.iter().zip(&hunts(&together)) {
                for (ra, rb) in a.regions.iter().zip(&b.regions) {
                    let worst = ra
                        .scores
                        .iter()
                        .zip(&rb.scores)
                        .map(|(x, y)| (x - y).abs())
                        .fold(0.0f32, f32::max);
                    assert!(worst < 1e-4, "{at_once} at once: scores differ by {worst}");
                    for (x, y) in ra
                        .validation_efficiency
                        .iter()
                        .zip(&rb.validation_efficiency)
                    {
                        assert!((x - y).abs() < 0.01, "{at_once} at once: {x} vs {y}");
                    }
                }
            }
        }
        let none = CwolaOptions {
            ensembles_at_once: Some(0),
            ..alone
        };
        let err = cwola_hunt(&events, &none, None).unwrap_err().to_string();
        assert!(err.contains("ensembles_at_once"), "{err}");
    }

    #[test]
    fn a_strong_signal_is_found_in_its_region_and_not_beside_it() {
        // 1500 signal events over 60k background: even two epochs of small networks learn
        // the signal's jet masses, and the tight selections show the bump.
        let events = sample(60_000, 1500, 5);
        let mut opts = quick(vec![1, 4]);
        opts.training.epochs = 6;
        let hunt = cwola_hunt(&events, &opts, None).unwrap();
        let global = hunt.global().unwrap();
        let best = &hunt.regions[global.region].region;
        assert!(best.lo <= 3800.0 && 3800.0 < best.hi, "{hunt}");
        assert!(global.test.local_z > 5.0, "{hunt}");
        assert!(global.test.global_p >= global.test.local_p);
        assert_eq!(global.test.trials, 2 * 3);
        // Far below the signal the selection shows nothing.
        let low = &hunt.regions[0];
        assert!(low.tests.iter().all(|t| !(t.significance > 3.0)), "{hunt}");
        let text = hunt.to_string();
        assert!(
            text.contains("most significant") && text.contains("Šidák"),
            "{text}"
        );
    }

    /// Background only, with the jet masses shifted by `slope` × mjj.
    fn sloped(background: usize, slope: f64, seed: u64) -> EventSet {
        let columns = lhco_toy(&LhcoToyOptions {
            background,
            signal: 0,
            mj_mjj_slope: slope,
            seed,
            ..LhcoToyOptions::default()
        })
        .unwrap();
        EventSet::from_columns(columns).unwrap()
    }

    /// Background only, with the jet masses proportional to mjj (the toy's
    /// `mj_mjj_power` = [`MJ_PROPORTIONAL_POWER`]).
    fn mass_scaling(background: usize, seed: u64) -> EventSet {
        let columns = lhco_toy(&LhcoToyOptions {
            background,
            signal: 0,
            mj_mjj_power: MJ_PROPORTIONAL_POWER,
            seed,
            ..LhcoToyOptions::default()
        })
        .unwrap();
        EventSet::from_columns(columns).unwrap()
    }

    /// Per feature of the hunt's inputs (rescaled as `opts` says) and region `index`: a cut
    /// on the feature alone at the signal region's `q` quantile (keeping the SR events below
    /// it) keeps a fraction `f_sb` of the sideband events; the pull (f_sb - q) / σ with the
    /// binomial σ of both samples. Without signal and with features whose background
    /// distribution does not depend on the mass, the pulls are standard normal.
    pub(crate) fn tail_pulls(
        events: &EventSet,
        opts: &CwolaOptions,
        index: usize,
        q: f64,
    ) -> Vec<(String, f64)> {
        let spec = InputSpec {
            mass: &opts.mass,
            features: &opts.features,
            rescale: &opts.rescale,
            logarithm: &[],
            edges: &opts.edges,
        };
        let inputs =
            Inputs::with_rescaling(events, &spec, opts.rescaling, None, &opts.device).unwrap();
        let region = sliding_regions(&opts.edges, opts.sr_bins, opts.sb_bins)
            .unwrap()
            .swap_remove(index);
        let rows: Vec<usize> = (0..inputs.len()).collect();
        let x = inputs.tensor(&rows).unwrap().to_vec2::<f32>().unwrap();
        let (mut sr, mut sb) = (Vec::new(), Vec::new());
        for (r, &m) in inputs.mass.iter().enumerate() {
            if region.lo <= m && m < region.hi {
                sr.push(r);
            } else if region.sb_lo <= m && m < region.sb_hi {
                sb.push(r);
            }
        }
        let (n_sr, n_sb) = (sr.len() as f64, sb.len() as f64);
        let sigma = (q * (1.0 - q) * (1.0 / n_sr + 1.0 / n_sb)).sqrt();
        opts.features
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let mut in_sr: Vec<f32> = sr.iter().map(|&r| x[r][j]).collect();
                in_sr.sort_unstable_by(f32::total_cmp);
                let cut = in_sr[((q * n_sr) as usize).min(in_sr.len() - 1)];
                let f_sr = in_sr.iter().filter(|&&v| v < cut).count() as f64 / n_sr;
                let f_sb = sb.iter().filter(|&&r| x[r][j] < cut).count() as f64 / n_sb;
                (name.clone(), (f_sb - f_sr) / sigma)
            })
            .collect()
    }

    #[test]
    fn the_default_features_do_not_depend_on_the_mass_where_jet_masses_scale_with_it() {
        let events = mass_scaling(300_000, 31);
        let ratio = CwolaOptions::default();
        assert_eq!(ratio.rescaling, Rescaling::Ratio, "the default");
        assert_eq!(
            ratio.rescale,
            ["mj1", "dmj"],
            "the default features' jet masses"
        );
        let eq42 = CwolaOptions {
            rescaling: Rescaling::Eq42,
            ..CwolaOptions::default()
        };
        // The lowest signal region (most events) and one in the middle of the scan; both
        // tails of every feature.
        for index in [0, 4] {
            for q in [0.1, 0.9] {
                for (name, pull) in tail_pulls(&events, &ratio, index, q) {
                    assert!(
                        pull.abs() < 4.0,
                        "ratio: {name} in region {index} at q = {q}: pull {pull}"
                    );
                }
            }
        }
        // Eq. 4.2's dmj, cut at its lower end, keeps a different share of the sidebands.
        let pulls = tail_pulls(&events, &eq42, 0, 0.1);
        let dmj = pulls.iter().find(|(n, _)| n == "dmj").unwrap().1;
        assert!(dmj.abs() > 8.0, "eq4.2 dmj pull {dmj}: {pulls:?}");
        // mj2 (not among the default features) is rescaled when it is a feature.
        let with_mj2 = CwolaOptions {
            features: vec!["mj1".into(), "mj2".into(), "dmj".into()],
            rescale: RESCALED_BY_DEFAULT.map(String::from).into(),
            ..CwolaOptions::default()
        };
        for (name, pull) in tail_pulls(&events, &with_mj2, 0, 0.1) {
            assert!(pull.abs() < 4.0, "ratio: {name}: pull {pull}");
        }
    }

    /// The measurement of docs/cwola.md: on 1M background-only events of the toy with jet
    /// masses proportional to mjj (and, for comparison, today's toy), each rescaling's feature
    /// tail pulls and the global p-value of a background-only CWoLa hunt (3 folds, one
    /// initialisation, `CWOLA_EPOCHS` epochs, default 5: the layout of scripts/pythia_study.rhai).
    /// Slow (two hunts of 1M events): `nice cargo test --release --lib
    /// cwola_rescaling_measurement -- --ignored --nocapture`.
    #[test]
    #[ignore = "slow: two 1M-event CWoLa hunts"]
    fn cwola_rescaling_measurement() {
        let epochs: usize = std::env::var("CWOLA_EPOCHS")
            .ok()
            .map_or(5, |e| e.parse().unwrap());
        for (label, power) in [
            ("today's toy", 0.0),
            ("mass-scaling toy", MJ_PROPORTIONAL_POWER),
        ] {
            let events = EventSet::from_columns(
                lhco_toy(&LhcoToyOptions {
                    background: 1_000_000,
                    signal: 0,
                    mj_mjj_power: power,
                    seed: 41,
                    ..LhcoToyOptions::default()
                })
                .unwrap(),
            )
            .unwrap();
            for rescaling in Rescaling::ALL {
                let opts = CwolaOptions {
                    rescaling,
                    ..CwolaOptions::default()
                };
                let mut worst: Vec<(String, f64)> =
                    opts.features.iter().map(|f| (f.clone(), 0.0f64)).collect();
                for index in 0..10 {
                    for q in [0.1, 0.9] {
                        for (j, (_, pull)) in
                            tail_pulls(&events, &opts, index, q).into_iter().enumerate()
                        {
                            if pull.abs() > worst[j].1.abs() {
                                worst[j].1 = pull;
                            }
                        }
                    }
                }
                println!(
                    "{label} (mj_mjj_power {power}), {}: largest tail pulls over 10 regions x \
                     (10 %, 90 %): {worst:?}",
                    rescaling.name()
                );
            }
            if power == 0.0 {
                continue;
            }
            for rescaling in Rescaling::ALL {
                let mut opts = CwolaOptions {
                    rescaling,
                    folds: 3,
                    inits: 1,
                    ..CwolaOptions::default()
                };
                opts.training.epochs = epochs;
                let hunt = cwola_hunt(&events, &opts, None).unwrap();
                let g = hunt.global().unwrap();
                println!(
                    "{label}, {}: {epochs} epochs, {:.0} s; global p {:.3e} (Z {:.2}), local Z \
                     {:.2} in region {} at efficiency {}",
                    rescaling.name(),
                    hunt.seconds,
                    g.test.global_p,
                    g.test.global_z,
                    g.test.local_z,
                    g.region,
                    g.test.efficiency
                );
                println!("{hunt}");
            }
        }
    }

    #[test]
    fn simulation_with_reversed_labels_removes_what_the_background_alone_teaches() {
        // With jet masses rising steeply with mjj (and not rescaled), the background's signal
        // region differs from its sidebands: CWoLa learns that. Signal-free simulation with
        // reversed labels and λ = 1 takes the gain away.
        let data = sloped(40_000, 1.0, 21);
        let sim = sloped(40_000, 1.0, 22);
        let mut opts = CwolaOptions {
            features: vec!["mj1".into(), "mj2".into()],
            rescale: vec![],
            eps_cut: 0.1,
            ..quick(vec![4])
        };
        opts.training.epochs = 8;
        opts.training.batch_size = 256;
        // The signal-region efficiency of the out-of-sample scores at 10 % sideband
        // efficiency: how much of the background's mass dependence the classifiers learned.
        let validation = |h: &CwolaHunt| {
            let region = &h.regions[0];
            let masses = h.events.column("mjj").unwrap();
            let (mut sr, mut sb) = (Vec::new(), Vec::new());
            for (&p, &score) in h.in_range.iter().zip(&region.scores) {
                let m = masses[p];
                if region.region.lo <= m && m < region.region.hi {
                    sr.push(f64::from(score));
                } else if region.region.sb_lo <= m && m < region.region.sb_hi {
                    sb.push(f64::from(score));
                }
            }
            sr_efficiency(&sr, &sb, 0.1)
        };
        let plain = cwola_hunt(&data, &opts, None).unwrap();
        let augmented = sa_cwola(&data, &sim, 1.0, &opts, None).unwrap();
        let (p, a) = (validation(&plain), validation(&augmented));
        assert!(p > 0.25, "CWoLa learns the mass dependence: {p}");
        assert!(a < 0.15, "SA-CWoLa does not: {a} (CWoLa {p})");
        assert!(augmented.method.contains("SA-CWoLa") && augmented.to_string().contains("λ = 1"));
        // Only data events are scored.
        assert_eq!(augmented.regions[0].scores.len(), augmented.events_in_range);
        // With λ = 0 the simulation weighs nothing: CWoLa again.
        let zero = validation(&sa_cwola(&data, &sim, 0.0, &opts, None).unwrap());
        assert!(zero > 0.25, "λ = 0: {zero}");

        let err = |sim: &EventSet, lambda: f64| {
            sa_cwola(&data, sim, lambda, &opts, None)
                .unwrap_err()
                .to_string()
        };
        assert!(err(&sim, -1.0).contains("lambda"));
        let no_mj2 = sim.select(&["mjj".into(), "mj1".into()]).unwrap();
        let e = err(&no_mj2, 0.5);
        assert!(e.contains("mj2") && e.contains("simulation"), "{e}");
    }

    #[test]
    fn bad_input_is_an_error_before_any_training() {
        let events = sample(5_000, 0, 1);
        let check = |opts: CwolaOptions, want: &str| {
            let err = cwola_hunt(&events, &opts, None).unwrap_err().to_string();
            assert!(err.contains(want), "{want:?} not in {err:?}");
        };
        check(
            CwolaOptions {
                features: vec!["nope".into()],
                rescale: vec![],
                ..quick(vec![0])
            },
            "nope",
        );
        check(
            CwolaOptions {
                folds: 2,
                ..quick(vec![0])
            },
            "at least 3",
        );
        check(
            CwolaOptions {
                regions: Some(vec![10]),
                ..quick(vec![0])
            },
            "no signal region 10",
        );
        check(
            CwolaOptions {
                efficiencies: vec![0.0],
                ..quick(vec![0])
            },
            "not in (0, 1]",
        );
        check(
            CwolaOptions {
                eps_cut: 1.5,
                ..quick(vec![0])
            },
            "eps_cut",
        );
        // Above 6.5 TeV 5000 events leave the upper bins empty.
        check(
            CwolaOptions {
                edges: log_bins(5000.0, 9000.0, 16).unwrap(),
                regions: None,
                ..quick(vec![0])
            },
            "has no events",
        );
        let with_nan = events
            .with_column("tau21_1", {
                let mut v = events.column("tau21_1").unwrap();
                v[7] = f64::NAN;
                v
            })
            .unwrap();
        let err = cwola_hunt(&with_nan, &quick(vec![0]), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("tau21_1") && err.contains("NaN"), "{err}");
    }
}
