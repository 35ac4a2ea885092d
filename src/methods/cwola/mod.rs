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
//! [`Ensemble`](crate::nn::ensemble::Ensemble) with per-member data and early stopping, and `ensembles_at_once` such
//! ensembles (of any regions) together again as one (`training.rs`).
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

use candle_core::Device;
use serde::Serialize;

use super::estimate::Significance;
pub use super::inputs::Rescaling;
use super::inputs::{InputSpec, Inputs};
use super::regions::{Region, sliding_regions};
use super::window_significance::{
    WindowSignificance, WindowSignificanceOptions, window_significance,
};
use crate::data::binning::log_bins;
use crate::data::eventset::EventSet;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::ensemble::MemberData;
use crate::nn::mlp::MlpConfig;
use crate::nn::train::{TrainOptions, Validation};
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

impl CwolaOptions {
    /// The classifiers' inputs: the mass, the features and which of them are rescaled, over
    /// the hunt's bins.
    pub(crate) fn input_spec(&self) -> InputSpec<'_> {
        InputSpec {
            mass: &self.mass,
            features: &self.features,
            rescale: &self.rescale,
            logarithm: &[],
            edges: &self.edges,
        }
    }

    /// The signal regions hunted: the sliding regions of the bins, or the chosen ones.
    fn hunted_regions(&self) -> Result<Vec<Region>> {
        let all_regions = sliding_regions(&self.edges, self.sr_bins, self.sb_bins)?;
        chosen_regions(&all_regions, self.regions.as_deref())
    }

    /// These options narrowed to the one signal region `[lo, hi)` (a fixed-window CWoLa, as
    /// in the weakly supervised benchmark frame): `sr_bins` log-spaced bins make the region
    /// exactly, bins of the same width are repeated outwards as far as the hunt's range
    /// (the first and last of `edges`) holds whole ones, and only that region is trained and
    /// tested, with its `sb_bins`-bin sidebands; the bins beyond them serve the background
    /// fit. An error if the range cannot hold the sidebands on both sides.
    pub fn at_window(&self, (lo, hi): (f64, f64)) -> Result<Self> {
        let (Some(&first), Some(&last)) = (self.edges.first(), self.edges.last()) else {
            return Err(Error::invalid("bins", "give the hunt's bin edges"));
        };
        if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo < hi) || self.sr_bins == 0 {
            return Err(Error::invalid(
                "signal_region",
                format!("[{lo}, {hi}] is not a range 0 < low < high of at least one bin"),
            ));
        }
        let width = (hi / lo).ln() / self.sr_bins as f64;
        let whole = |span: f64| (span.ln() / width + 1e-9).floor().max(0.0) as usize;
        let (below, above) = (whole(lo / first), whole(last / hi));
        if below < self.sb_bins || above < self.sb_bins || lo < first || hi > last {
            return Err(Error::invalid(
                "signal_region",
                format!(
                    "[{lo}, {hi}] with {}-bin sidebands of its bins' width does not fit in the range {first}–{last}",
                    self.sb_bins
                ),
            ));
        }
        let edges = (0..=below + self.sr_bins + above)
            .map(|j| match j {
                j if j == below => lo,
                j if j == below + self.sr_bins => hi,
                j => lo * ((j as f64 - below as f64) * width).exp(),
            })
            .collect();
        Ok(Self {
            edges,
            regions: Some(vec![below - self.sb_bins]),
            ..self.clone()
        })
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
    /// The most significant tests of hunts of background-only pseudo-datasets with every
    /// network retrained ([`CwolaHunt::with_toys`], [`hunt_toy`]); empty without.
    #[serde(skip)]
    pub toys: Vec<HuntToy>,
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
    /// Its global p-value from retrained toys, when the hunt has them: the proper
    /// look-elsewhere correction, which the Šidák bound only approximates (not conservatively
    /// in the tail: docs/cwola.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toys: Option<ToyGlobal>,
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
            toys: (!self.toys.is_empty())
                .then(|| ToyGlobal::new(t.p_value, &self.toys).ok())
                .flatten(),
        })
    }

    /// This hunt with the most significant tests of `toys`, hunts of its background-only
    /// pseudo-datasets ([`hunt_toy`]): its global p-value becomes the fraction of them at
    /// least as significant (the Šidák bound stays beside it).
    pub fn with_toys(&self, toys: Vec<HuntToy>) -> CwolaHunt {
        CwolaHunt {
            toys,
            ..self.clone()
        }
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

/// The number of units of a hunt with `opts` split into independent work: one per signal
/// region and outer fold, region by region (what [`hunt_unit`] takes).
pub fn hunt_units(opts: &CwolaOptions) -> Result<usize> {
    check_options(opts)?;
    Ok(opts.hunted_regions()?.len() * opts.folds)
}

/// Trains and scores unit `unit` of the hunt of `events` (region `unit / folds` of the
/// chosen regions, outer fold `unit % folds`; SA-CWoLa with `sim` and its λ) alone: the
/// same numbers as inside the whole hunt with the same options and seed, which
/// [`merge_hunt`] assembles from every unit's result.
pub fn hunt_unit(
    events: &EventSet,
    sim: Option<(&EventSet, f64)>,
    opts: &CwolaOptions,
    unit: usize,
    interrupt: Option<&Interrupt>,
) -> Result<FoldScores> {
    let setup = Setup::new(events, sim, opts)?;
    let count = setup.regions.len() * opts.folds;
    if unit >= count {
        return Err(Error::invalid(
            "unit",
            format!("{unit} is not a unit of this hunt (0 to {})", count - 1),
        ));
    }
    let region = setup.region_data(unit / opts.folds, opts)?;
    let mut scored = score_folds(
        &setup.inputs,
        &setup.folds,
        &[(&region, unit % opts.folds)],
        opts,
        interrupt,
    )?;
    Ok(scored.remove(0))
}

/// The hunt of `events` assembled from the results of its units ([`hunt_unit`], in unit
/// order): the same result as [`cwola_hunt`] (or [`sa_cwola`] with `sim`) gives in one
/// process. A unit whose events are not its fold's (another hunt's unit) is an error.
pub fn merge_hunt(
    events: &EventSet,
    sim: Option<(&EventSet, f64)>,
    opts: &CwolaOptions,
    scored: Vec<FoldScores>,
) -> Result<CwolaHunt> {
    let setup = Setup::new(events, sim, opts)?;
    let count = setup.regions.len() * opts.folds;
    if scored.len() != count {
        return Err(Error::invalid(
            "units",
            format!("{} unit results for a hunt of {count} units", scored.len()),
        ));
    }
    let mut fold_sizes = vec![0; opts.folds];
    for &f in &setup.folds {
        fold_sizes[f] += 1;
    }
    for (unit, s) in scored.iter().enumerate() {
        let k = unit % opts.folds;
        let expected = fold_sizes[k];
        if s.rows.len() != expected
            || s.scores.len() != expected
            || s.rows.iter().any(|&r| setup.folds.get(r) != Some(&k))
        {
            return Err(Error::invalid(
                format!("unit {unit}"),
                format!(
                    "its {} scored events are not outer fold {k} of these events and options",
                    s.rows.len()
                ),
            ));
        }
    }
    setup.assemble(events, opts, scored, 0.0)
}

/// A hunt's events, regions and folds: everything but its classifiers, built alike for the
/// whole hunt, one unit and the merge of units.
struct Setup {
    inputs: Inputs,
    sim: Option<(Inputs, f64)>,
    regions: Vec<Region>,
    /// The outer fold of each row of `inputs`.
    folds: Vec<usize>,
    method: String,
}

impl Setup {
    fn new(events: &EventSet, sim: Option<(&EventSet, f64)>, opts: &CwolaOptions) -> Result<Self> {
        check_options(opts)?;
        let regions = opts.hunted_regions()?;
        let spec = opts.input_spec();
        let inputs = Inputs::with_rescaling(events, &spec, opts.rescaling, None, &opts.device)?;
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
        let method = match &sim {
            None => "CWoLa hunt".to_string(),
            Some((_, lambda)) => format!("SA-CWoLa hunt (λ = {lambda})"),
        };
        Ok(Self {
            inputs,
            sim,
            regions,
            folds,
            method,
        })
    }

    /// The training data of region `r` (an index into `regions`).
    fn region_data(&self, r: usize, opts: &CwolaOptions) -> Result<RegionData> {
        let region = self.regions[r].clone();
        let seed = stream_seed(opts.seed, u64::MAX - region.index as u64);
        RegionData::new(
            &self.inputs,
            region,
            self.sim.as_ref().map(|(s, l)| (s, *l)),
            opts.folds,
            seed,
        )
    }

    /// The hunt from the scores of every (region, outer fold), region by region.
    fn assemble(
        self,
        events: &EventSet,
        opts: &CwolaOptions,
        scored: Vec<FoldScores>,
        seconds: f64,
    ) -> Result<CwolaHunt> {
        let mut results = Vec::new();
        for (region, per_fold) in self.regions.iter().zip(scored.chunks(opts.folds)) {
            let mut scores = vec![f32::NAN; self.inputs.len()];
            let mut validation_efficiency = Vec::new();
            for fold_scores in per_fold {
                for (&row, &score) in fold_scores.rows.iter().zip(&fold_scores.scores) {
                    scores[row] = score;
                }
                validation_efficiency.push(fold_scores.validation_efficiency);
            }
            results.push(test_region(
                &self.inputs,
                &self.folds,
                region.clone(),
                region_counts(&self.inputs, region),
                scores,
                validation_efficiency,
                opts,
            )?);
        }
        Ok(CwolaHunt {
            method: self.method,
            mass: opts.mass.clone(),
            edges: opts.edges.clone(),
            efficiencies: opts.efficiencies.clone(),
            inputs: inputs_in_words(opts),
            regions: results,
            min_fit_pvalue: opts.window_significance.min_fit_pvalue,
            events_in_range: self.inputs.len(),
            toys: Vec::new(),
            seconds,
            in_range: self.inputs.positions,
            events: events.clone(),
        })
    }
}

/// CWoLa hunting, with simulation and its weight λ for SA-CWoLa.
fn hunt(
    events: &EventSet,
    sim: Option<(&EventSet, f64)>,
    opts: &CwolaOptions,
    interrupt: Option<&Interrupt>,
) -> Result<CwolaHunt> {
    let started = Instant::now();
    let setup = Setup::new(events, sim, opts)?;
    let tasks: Vec<(usize, usize)> = (0..setup.regions.len())
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
        * (setup.inputs.len() as f64 * 8.0 + network * 4.0 * 6.0);
    let at_once = match opts.ensembles_at_once {
        Some(0) => {
            return Err(Error::invalid(
                "ensembles_at_once",
                "train at least one ensemble at a time",
            ));
        }
        Some(n) => n.min(tasks.len()),
        // On a GPU as many as half the free host memory holds (their indices live there).
        None if setup.inputs.device.is_cuda() => {
            let fit = (crate::memory::available_bytes() / 2.0 / per_ensemble).floor();
            (fit as usize).clamp(1, tasks.len())
        }
        None => 1,
    };
    crate::memory::check(
        &format!("{at_once} region × fold ensembles trained at once"),
        at_once as f64 * per_ensemble,
    )?;
    let prepared = (0..setup.regions.len())
        .map(|r| setup.region_data(r, opts))
        .collect::<Result<Vec<_>>>()?;

    // One ensemble per (region, outer fold), trained `at_once` at a time. On the CPU one at a
    // time: two at a time on this process's two threads took longer (98–102 s against 83 s
    // for a quick 1M-event hunt) although two processes side by side each keep full speed.
    let progress = Progress::new(
        format!("{} (region × fold ensembles)", setup.method),
        tasks.len() as u64,
    );
    let mut scored = Vec::with_capacity(tasks.len());
    for group in tasks.chunks(at_once) {
        let group: Vec<(&RegionData, usize)> =
            group.iter().map(|&(r, k)| (&prepared[r], k)).collect();
        scored.extend(score_folds(
            &setup.inputs,
            &setup.folds,
            &group,
            opts,
            interrupt,
        )?);
        progress.advance(group.len() as u64);
    }
    drop(progress);
    drop(prepared);
    setup.assemble(events, opts, scored, started.elapsed().as_secs_f64())
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

mod diagnostics;
mod toys;
mod training;

pub use diagnostics::tail_pulls;
pub use toys::{HuntToy, ToyGlobal, hunt_toy, null_pseudo_data};
pub use training::FoldScores;
use training::{RegionData, region_counts, score_folds};

#[cfg(test)]
mod tests;
