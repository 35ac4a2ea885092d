//! The `methods` domain: the papers' searches as built-ins, from events to significances.

use rhai::plugin::*;

use super::cwola_options::cwola_options;
use super::declared::{Declared, Opt};
use super::domain::Domain;
use super::domain::OptionTable;
use rhai::{Array, INT};

use crate::error::Error;
use crate::methods::cwola::{CwolaHunt, CwolaOptions, RegionResult};
use crate::methods::window_significance::WindowSignificance;
use crate::script::values::{Out, array, significance_fields};
use crate::stats::fit::DijetFit;

/// The `methods` domain.
pub const DOMAIN: Domain = Domain {
    name: "methods",
    about: "resonant anomaly searches end to end: CWoLa hunting, SA-CWoLa, SALAD, ANODE, CATHODE, the supervised and idealized references and the signal-injection scan",
    module: || {
        let mut module = exported_module!(methods_api);
        module.set_custom_type_with_comments::<crate::methods::cwola::CwolaHunt>(
            "CwolaHunt",
            &["/// The result of a CWoLa hunt: per signal region and efficiency, observed and fitted counts and local p-values."],
        );
        module.combine_flatten(super::salad::module());
        module.combine_flatten(super::anode::module());
        module.combine_flatten(super::cathode::module());
        module.combine_flatten(super::references::module());
        module.combine_flatten(super::injection_scan::module());
        module.combine_flatten(super::batch::module());
        module.combine_flatten(super::slurm::module());
        module
    },
    options: || {
        let tables: Vec<Box<dyn OptionTable>> = vec![
            Box::new(cwola_options("cwola_hunt")),
            Box::new(cwola_options(super::hunt_plan::FUNCTION)),
            Box::new(cwola_options(super::hunt_plan::TOYS_FUNCTION)),
            Box::new(sa_cwola_options()),
        ];
        tables
            .into_iter()
            .chain(super::salad::tables())
            .chain(super::anode::tables())
            .chain(super::cathode::tables())
            .chain(super::references::tables())
            .chain(super::injection_scan::tables())
            .chain(super::slurm::tables())
            .collect()
    },
};

/// The options of `sa_cwola`: a hunt's and the simulation's weight.
#[derive(Clone, Debug)]
struct SaCwolaOptions {
    hunt: CwolaOptions,
    lambda: f64,
}

impl Default for SaCwolaOptions {
    fn default() -> Self {
        Self {
            hunt: CwolaOptions::default(),
            lambda: 0.5,
        }
    }
}

/// The declared options of `sa_cwola`.
fn sa_cwola_options() -> Declared<SaCwolaOptions> {
    let hunt = cwola_options("sa_cwola");
    Declared::new(
        "sa_cwola",
        SaCwolaOptions::default,
        hunt.into_opts()
            .into_iter()
            .map(|o| o.lift(|s: &mut SaCwolaOptions| &mut s.hunt))
            .chain([Opt::field(
                "lambda",
                "weight of the simulation, times the data's total weight",
                |s: &mut SaCwolaOptions| &mut s.lambda,
            )])
            .collect(),
    )
}

/// A whole number ≥ 0 from a Rhai integer, for `what`.
fn index(what: &str, i: INT) -> Out<usize> {
    usize::try_from(i)
        .map_err(|_| Error::invalid(what, format!("{i} is not a whole number >= 0")).into())
}

fn per_region(h: &CwolaHunt, eff: f64, value: impl Fn(&WindowSignificance) -> f64) -> Out<Array> {
    if eff == 1.0 {
        return Ok(array(
            &h.regions
                .iter()
                .map(|r| value(&r.inclusive))
                .collect::<Vec<_>>(),
        ));
    }
    let e = h.efficiency_index(eff)?;
    Ok(array(
        &h.regions
            .iter()
            .map(|r| value(&r.tests[e]))
            .collect::<Vec<_>>(),
    ))
}

fn fit_of(h: &CwolaHunt, region: &RegionResult, eff: f64) -> Out<DijetFit> {
    let test = if eff == 1.0 {
        &region.inclusive
    } else {
        &region.tests[h.efficiency_index(eff)?]
    };
    test.fit().cloned().ok_or_else(|| {
        Error::invalid(
            "background_fit",
            format!(
                "the fit of region {} at efficiency {eff} failed: {}",
                region.region.index,
                test.fit_error.as_deref().unwrap_or("unknown reason")
            ),
        )
        .into()
    })
}

#[export_module]
mod methods_api {
    use std::path::Path;

    use rhai::{Array, Dynamic, FLOAT, INT, Map};

    use super::significance_fields;
    use super::{SaCwolaOptions, cwola_options, fit_of, index, per_region, sa_cwola_options};
    use crate::data::EventSet;
    use crate::methods::cwola::{CwolaHunt, cwola_hunt as run_hunt, sa_cwola as run_sa_cwola};
    use crate::methods::cwola_report::{plot_mass as draw_mass, plot_scan};
    use crate::script::state::session_state;
    use crate::script::values::{Out, array, save_json};
    use crate::stats::fit::DijetFit;

    /// CWoLa hunting (LHC Olympics 2020 §4.1) with the paper's layout: `cwola_hunt(events, #{ ... })`.
    /// For each signal region (`sr_bins` bins) of a sliding scan over the `bins` of `mass`,
    /// classifiers learn signal region (1) against sidebands (`sb_bins` bins each side,
    /// weighted to equal halves of the SR's weight) on `features` with nested cross-validation
    /// (`folds` outer folds; per fold an ensemble of `folds - 1` members, each the best of
    /// `inits` networks judged by the SR efficiency at `eps_cut` SB efficiency). Every event
    /// is scored by the ensemble that did not see it; for each of `efficiencies` the
    /// highest-scoring fraction of each fold is kept and the dijet function fitted outside the
    /// SR predicts the background inside: observed, predicted ± error, local p-value and Z per
    /// region. The fit is the nested dijet family (`fit_functions`, chosen by Wilks' test) and
    /// the error includes the function choice; a test whose chosen fit has a χ² p-value below
    /// `min_fit_pvalue` is marked "!" and not ranked (`fit_p_values(eff)` lists them). For a
    /// quick look: `#{ folds: 3, inits: 1, epochs: 5 }`. Ctrl-C stops it.
    /// Features that depend on the mass (jet masses not rescaled) let the classifiers learn
    /// the background's own signal-region/sideband difference: the selection then sculpts the
    /// mass spectrum and the sideband fit's significance is not valid (a jet-mass slope of
    /// 0.1 × mjj gave 5σ from background alone). Keep `rescale`, or use `sa_cwola`.
    #[rhai_fn(return_raw)]
    pub fn cwola_hunt(ctx: NativeCallContext, events: EventSet, opts: Map) -> Out<CwolaHunt> {
        let mut options = cwola_options("cwola_hunt").parse_in(&ctx, opts)?;
        options.device = session_state(&ctx)?.device();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(run_hunt(&events, &options, Some(&interrupt))?)
    }

    /// SA-CWoLa hunting (LHC Olympics 2020 §4.5): `sa_cwola(data, sim, #{ lambda: 0.5, ... })` is
    /// `cwola_hunt(data, ...)` whose classifiers also train on the background simulation `sim`
    /// with reversed labels (signal region 0, sidebands 1), weighted to `lambda` times
    /// the data's total weight: a classifier that tells signal region from sidebands in
    /// signal-free simulation — the background's own dependence on the mass — is penalised.
    /// Use it when the features depend on the mass too strongly for CWoLa (e.g. jet masses
    /// not rescaled). Eq. 4.11's literal sign makes the loss unbounded below, so the bounded
    /// reversed-label form is used; with `lambda: 0` it is `cwola_hunt`. Only data events are
    /// scored and tested; the result is a hunt like `cwola_hunt`'s. Takes every option of
    /// `cwola_hunt` and `lambda`. Measured on 1M events with jet masses + 0.1 mjj (signal
    /// 0.3 % of the SR; SIC at 50 % signal efficiency): CWoLa 1.1, SA-CWoLa λ = 0.5: 6.0,
    /// λ = 0.75: 42 (CWoLa without the slope: 36). The selection can still sculpt the mass
    /// spectrum (a dip in the SR), so check the selected spectrum before trusting a Z.
    #[rhai_fn(return_raw)]
    pub fn sa_cwola(
        ctx: NativeCallContext,
        data: EventSet,
        sim: EventSet,
        opts: Map,
    ) -> Out<CwolaHunt> {
        let SaCwolaOptions { mut hunt, lambda } = sa_cwola_options().parse_in(&ctx, opts)?;
        hunt.device = session_state(&ctx)?.device();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(run_sa_cwola(&data, &sim, lambda, &hunt, Some(&interrupt))?)
    }

    /// The summary table: per region the observed / predicted ± error and Z at each efficiency,
    /// and the most significant test with its trials-corrected global significance.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn hunt_to_string(h: &mut CwolaHunt) -> String {
        h.to_string()
    }

    /// The signal regions' centres (geometric mean of their edges), lowest first.
    #[rhai_fn(get = "centres", pure)]
    pub fn centres(h: &mut CwolaHunt) -> Array {
        array(
            &h.regions
                .iter()
                .map(|r| r.region.centre())
                .collect::<Vec<_>>(),
        )
    }

    /// The tested selection efficiencies.
    #[rhai_fn(get = "efficiencies", pure)]
    pub fn efficiencies(h: &mut CwolaHunt) -> Array {
        array(&h.efficiencies)
    }

    /// The local p-values per region at selection efficiency `eff` (1.0: no selection); NaN
    /// where the sideband fit failed.
    #[rhai_fn(pure, return_raw)]
    pub fn p_values(h: &mut CwolaHunt, eff: FLOAT) -> Out<Array> {
        per_region(h, eff, |t| t.p_value)
    }

    /// The local significances Z per region at selection efficiency `eff` (1.0: no selection).
    #[rhai_fn(pure, return_raw)]
    pub fn significances(h: &mut CwolaHunt, eff: FLOAT) -> Out<Array> {
        per_region(h, eff, |t| t.significance)
    }

    /// The observed signal-region counts per region at efficiency `eff` (1.0: no selection).
    #[rhai_fn(pure, return_raw)]
    pub fn observed(h: &mut CwolaHunt, eff: FLOAT) -> Out<Array> {
        per_region(h, eff, |t| t.observed)
    }

    /// The fitted background predictions per region at efficiency `eff` (1.0: no selection).
    #[rhai_fn(pure, return_raw)]
    pub fn expected(h: &mut CwolaHunt, eff: FLOAT) -> Out<Array> {
        per_region(h, eff, |t| t.expected)
    }

    /// The predictions' total uncertainties per region at efficiency `eff` (1.0: no
    /// selection): the chosen fit's statistical error and the function-choice error in
    /// quadrature.
    #[rhai_fn(pure, return_raw)]
    pub fn expected_errors(h: &mut CwolaHunt, eff: FLOAT) -> Out<Array> {
        per_region(h, eff, |t| t.expected_error)
    }

    /// The sideband fits' χ² p-values per region at efficiency `eff` (1.0: no selection); a
    /// test below the hunt's `min_fit_pvalue` is shown but not ranked. NaN where the fit
    /// failed.
    #[rhai_fn(pure, return_raw)]
    pub fn fit_p_values(h: &mut CwolaHunt, eff: FLOAT) -> Out<Array> {
        per_region(h, eff, |t| t.fit_pvalue)
    }

    /// The most significant test and its look-elsewhere correction, as a map: `region` (scan
    /// index), `centre`, `efficiency`, `local_p`, `local_z`, `trials`, `sidak_p`, `sidak_z`
    /// (Šidák over regions × efficiencies: it counts overlapping regions as independent, yet
    /// retrained toys had a heavier tail, docs/cwola.md), and
    /// `global_p`, `global_z`: with retrained toys (`with_toys`) the fraction of toys at least
    /// as significant (and `toys`, `global_p_error`, `global_z_lower_limit`), else Šidák's.
    /// Unit if no fit succeeded.
    #[rhai_fn(get = "global", pure)]
    pub fn global(h: &mut CwolaHunt) -> Dynamic {
        let Some(g) = h.global() else {
            return Dynamic::UNIT;
        };
        let region = &h.regions[g.region].region;
        let mut m = significance_fields(&g.test);
        m.insert("region".into(), (region.index as INT).into());
        m.insert("centre".into(), region.centre().into());
        m.insert("sidak_p".into(), g.test.global_p.into());
        m.insert("sidak_z".into(), g.test.global_z.into());
        if let Some(t) = &g.toys {
            m.insert("global_p".into(), t.global_p.into());
            m.insert("global_z".into(), t.global_z.into());
            m.insert("global_p_error".into(), t.global_p_error.into());
            m.insert("global_z_lower_limit".into(), t.lower_limit.into());
            m.insert("toys".into(), (t.toys as INT).into());
        }
        m.into()
    }

    /// The hunt with the most significant tests of its retrained toys (`merge_plan` of a
    /// `hunt_toys_plan` of the same events and options: an array of `#{ local_p, local_z }`):
    /// its global p-value becomes the fraction of toys at least as significant as its most
    /// significant test, shown beside the Šidák bound.
    #[rhai_fn(name = "with_toys", pure, return_raw)]
    pub fn with_toys(h: &mut CwolaHunt, toys: Array) -> Out<CwolaHunt> {
        Ok(h.with_toys(super::super::hunt_plan::toys_of(toys)?))
    }

    /// The mass variable the hunt scanned.
    #[rhai_fn(get = "mass", pure)]
    pub fn mass(h: &mut CwolaHunt) -> String {
        h.mass.clone()
    }

    /// The edges `[low, high]` of signal region `region` (scan index) in the mass.
    #[rhai_fn(pure, return_raw)]
    pub fn signal_region(h: &mut CwolaHunt, region: INT) -> Out<Array> {
        let r = &h.region(index("region", region)?)?.region;
        Ok(vec![Dynamic::from_float(r.lo), Dynamic::from_float(r.hi)])
    }

    /// The scan index of the most significant region at efficiency `eff`.
    #[rhai_fn(pure, return_raw)]
    pub fn best_region(h: &mut CwolaHunt, eff: FLOAT) -> Out<INT> {
        Ok(h.best_region(eff)?.region.index as INT)
    }

    /// The events selected at efficiency `eff` in the most significant region at that
    /// efficiency (every fold's share), e.g. to look at their jet masses.
    #[rhai_fn(pure, return_raw)]
    pub fn selected(h: &mut CwolaHunt, eff: FLOAT) -> Out<EventSet> {
        let region = h.best_region(eff)?;
        Ok(h.selected(eff, region)?)
    }

    /// The events selected at efficiency `eff` for signal region `region` (scan index).
    #[rhai_fn(name = "selected", pure, return_raw)]
    pub fn selected_in(h: &mut CwolaHunt, eff: FLOAT, region: INT) -> Out<EventSet> {
        let r = h.region(index("region", region)?)?;
        Ok(h.selected(eff, r)?)
    }

    /// The events in the hunt range with a `score` column: region `region`'s classifier
    /// output, each event scored by the ensemble that did not train on it.
    #[rhai_fn(pure, return_raw)]
    pub fn scored(h: &mut CwolaHunt, region: INT) -> Out<EventSet> {
        let r = h.region(index("region", region)?)?;
        Ok(h.scored(r)?)
    }

    /// The sideband fit at efficiency `eff` (1.0: no selection) of the most significant region
    /// at that efficiency.
    #[rhai_fn(pure, return_raw)]
    pub fn background_fit(h: &mut CwolaHunt, eff: FLOAT) -> Out<DijetFit> {
        let region = if eff == 1.0 {
            h.most_significant()
        } else {
            h.best_region(eff)?
        };
        fit_of(h, region, eff)
    }

    /// The sideband fit at efficiency `eff` (1.0: no selection) of region `region`.
    #[rhai_fn(name = "background_fit", pure, return_raw)]
    pub fn background_fit_in(h: &mut CwolaHunt, eff: FLOAT, region: INT) -> Out<DijetFit> {
        let r = h.region(index("region", region)?)?;
        fit_of(h, r, eff)
    }

    /// Plots the local p-value against the signal-region centre, one line per efficiency
    /// (LHC Olympics 2020 Fig. 34), to `path` (.png or .svg).
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot(h: &mut CwolaHunt, path: &str) -> Out<()> {
        Ok(plot_scan(h, Path::new(path))?)
    }

    /// Plots the mass spectra of the most significant region with no selection and after
    /// each efficiency's, with their sideband fits (LHC Olympics 2020 Fig. 35), to `path`.
    #[rhai_fn(pure, return_raw)]
    pub fn plot_mass(h: &mut CwolaHunt, path: &str) -> Out<()> {
        Ok(draw_mass(h, h.most_significant(), Path::new(path))?)
    }

    /// Plots the mass spectra of region `region` (scan index) like `plot_mass(path)`.
    #[rhai_fn(name = "plot_mass", pure, return_raw)]
    pub fn plot_mass_in(h: &mut CwolaHunt, path: &str, region: INT) -> Out<()> {
        let r = h.region(index("region", region)?)?;
        Ok(draw_mass(h, r, Path::new(path))?)
    }

    /// Writes the hunt (regions, counts, fits' predictions, p-values, global statement) as
    /// JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save(h: &mut CwolaHunt, path: &str) -> Out<()> {
        save_json(&h.to_json(), path)
    }
}
