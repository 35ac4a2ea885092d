//! SALAD's built-ins (part of the `methods` domain): `salad(data, sim, #{...})` and the
//! methods of its result.

use rhai::plugin::*;
use rhai::{Dynamic, Map};

use crate::methods::estimate::Estimate;
use crate::methods::salad::{Closure, SaladOptions, Systematic};
use crate::nn::layers::Activation;
use crate::script::declared::{Declared, Opt};
use crate::script::domain::OptionTable;
use crate::script::search_options::window_opts;

/// The module of SALAD's functions and its result type.
pub fn module() -> Module {
    let mut module = exported_module!(salad_api);
    module.set_custom_type_with_comments::<crate::methods::salad::Salad>(
        "Salad",
        &["/// The result of SALAD: DCTR reweighting closure, the signal-region classifier and the background estimate per data efficiency."],
    );
    module
}

/// The declared options of this module's built-ins, for the `methods` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![Box::new(salad_options())]
}

/// The declared options of `salad`.
fn salad_options() -> Declared<SaladOptions> {
    let window = window_opts(|o: &mut SaladOptions| &mut o.window);
    Declared::new(
        "salad",
        SaladOptions::default,
        window.into_iter().chain(vec![
            Opt::custom(
                "features",
                "strings",
                "the networks' inputs (the DCTR networks also see the mass)",
                |o: &SaladOptions| o.window.features.clone().into(),
                |o, opts| {
                    let features = opts.strings("features")?;
                    o.network.inputs = features.len();
                    o.dctr_network.inputs = features.len() + 1;
                    o.logarithm = SaladOptions::default()
                        .logarithm
                        .into_iter()
                        .filter(|f| features.contains(f))
                        .collect();
                    o.window.features = features;
                    Ok(())
                },
            ),
            Opt::field(
                "logarithm",
                "features the networks see as ln(1 + value); when absent, mj1 and mj2 among the features",
                |o| &mut o.logarithm,
            ),
            Opt::field(
                "folds",
                "folds of the signal-region classifier's cross-validation",
                |o| &mut o.folds,
            ),
            Opt::field("dctr_members", "DCTR networks averaged", |o| {
                &mut o.dctr_members
            }),
            Opt::field(
                "dctr_holdout",
                "share of the sideband events DCTR early-stops on and does not train on",
                |o| &mut o.dctr_holdout,
            ),
            Opt::field(
                "closure_share",
                "share of the sideband events held out of DCTR for the closure systematic",
                |o| &mut o.closure_share,
            ),
            Opt::field(
                "validation_width",
                "width of each validation window of the interpolation test, in signal-region widths",
                |o| &mut o.validation_width,
            ),
            Opt::widths(
                "dctr_hidden",
                "the DCTR networks' hidden layer widths",
                |o| &mut o.dctr_network.hidden,
            ),
            Opt::field(
                "dctr_epochs",
                "the DCTR networks' passes over the sidebands",
                |o| &mut o.dctr_training.epochs,
            ),
            Opt::widths(
                "hidden",
                "the signal-region classifiers' hidden layer widths",
                |o| &mut o.network.hidden,
            ),
            Opt::custom(
                "activation",
                &format!("one of {}", Activation::NAMES.join(", ")),
                "hidden layers' activation, of both the DCTR networks and the classifiers",
                |o: &SaladOptions| o.network.activation.name().into(),
                |o, opts| {
                    let activation = opts.choice("activation", Activation::parse)?;
                    o.network.activation = activation;
                    o.dctr_network.activation = activation;
                    Ok(())
                },
            ),
            Opt::field(
                "epochs",
                "the signal-region classifiers' passes over the training data",
                |o| &mut o.training.epochs,
            ),
            Opt::custom(
                "batch_size",
                "count",
                "events per gradient step, of both the DCTR networks and the classifiers",
                |o: &SaladOptions| Dynamic::from_int(o.training.batch_size as rhai::INT),
                |o, opts| {
                    let batch_size = opts.count("batch_size", 0)?;
                    o.training.batch_size = batch_size;
                    o.dctr_training.batch_size = batch_size;
                    Ok(())
                },
            ),
            Opt::custom(
                "lr",
                "number",
                "learning rate, of both the DCTR networks and the classifiers",
                |o: &SaladOptions| Dynamic::from_float(o.training.lr),
                |o, opts| {
                    let lr = opts.float("lr", 0.0)?;
                    o.training.lr = lr;
                    o.dctr_training.lr = lr;
                    Ok(())
                },
            ),
            Opt::field(
                "patience",
                "the DCTR networks' epochs without a better hold-out loss before training stops",
                |o| &mut o.dctr_training.patience,
            ),
            Opt::field(
                "efficiencies",
                "signal-region data efficiencies at which the background estimate is tested",
                |o| &mut o.efficiencies,
            ),
            Opt::session_seed(|o| &mut o.seed),
        ]).collect(),
    )
}

/// One estimate as a Rhai map.
pub(super) fn estimate_map(e: &Estimate) -> Dynamic {
    let mut m = Map::new();
    for (k, v) in [
        ("efficiency", e.efficiency),
        ("threshold", e.threshold),
        ("observed", e.observed),
        ("predicted", e.predicted),
        ("predicted_error", e.predicted_error),
        ("systematic_error", e.systematic_error),
        ("ratio", e.efficiency_ratio),
        ("ratio_error", e.efficiency_ratio_error),
        ("reference_events", e.reference_events),
        ("p_value", e.p_value),
        ("significance", e.significance),
    ] {
        m.insert(k.into(), v.into());
    }
    let untested = e.untested.clone().map_or(Dynamic::UNIT, Dynamic::from);
    m.insert("untested".into(), untested);
    m.into()
}

/// A float as a Rhai value, unit when missing.
fn float_or_unit(v: Option<f64>) -> Dynamic {
    v.map_or(Dynamic::UNIT, Dynamic::from)
}

/// One estimate's systematic parts as a Rhai map.
fn systematic_map(s: &Systematic) -> Dynamic {
    let mut m = Map::new();
    for (k, v) in [
        ("efficiency", s.efficiency),
        ("holdout_ratio", s.holdout.ratio),
        ("holdout_ratio_error", s.holdout.error),
    ] {
        m.insert(k.into(), v.into());
    }
    let window = |i: usize, f: fn(&Closure) -> f64| float_or_unit(s.windows.map(|w| f(&w[i])));
    m.insert("lower_ratio".into(), window(0, |c| c.ratio));
    m.insert("lower_ratio_error".into(), window(0, |c| c.error));
    m.insert("upper_ratio".into(), window(1, |c| c.ratio));
    m.insert("upper_ratio_error".into(), window(1, |c| c.error));
    m.insert("holdout".into(), float_or_unit(s.holdout_part));
    m.insert("validation".into(), float_or_unit(s.validation_part));
    m.insert("total".into(), float_or_unit(s.total));
    m.into()
}

#[export_module]
mod salad_api {
    use std::path::Path;

    use rhai::{Array, Dynamic, FLOAT, INT, Map};

    use super::{estimate_map, float_or_unit, salad_options, systematic_map};
    use crate::data::EventSet;
    use crate::methods::salad::{Part, Salad, salad as run_salad};
    use crate::methods::salad_report::{
        plot_closure_estimate, plot_mass as draw_mass, plot_reweighting as draw_reweighting,
    };
    use crate::script::state::session_state;
    use crate::script::values::significance_map;
    use crate::script::values::{Out, save_json};

    /// SALAD (Andreassen et al. 2020): `salad(data, sim, #{ signal_region: [3300.0, 3700.0], ... })`.
    /// 1) DCTR: classifiers f(x, m) parameterised in the mass learn data (1) against background
    /// simulation `sim` (0) in the sidebands (the rest of `range`), trained on
    /// `1 - dctr_holdout - closure_share` (0.6 by default) of them, early-stopped on
    /// `dctr_holdout`, `closure_share` held out of both; `dctr_members` networks are averaged;
    /// w = f/(1-f) reweights the simulation to the data and, evaluated at signal-region
    /// masses, interpolates into the signal region. 2) A classifier g(x) learns signal-region
    /// data against the reweighted simulation (eq. 2.2), every event scored out of sample
    /// (`folds`). 3) For each data efficiency of `efficiencies` the reweighted simulation
    /// predicts the data passing the cut (eq. 2.4, normalised to the signal-region data):
    /// observed vs predicted ± stat. ± syst., local p-value, and predicted/observed efficiency
    /// (Andreassen et al. 2020 Fig. 9), also without reweighting. The systematic (`systematics`) is, in
    /// quadrature, the same cut's non-closure on the `closure_share` hold-out and in two
    /// validation windows `validation_width` signal-region widths wide beside the signal
    /// region, where a second DCTR trained only outside them reweights the simulation (the
    /// interpolation test); each non-closure ⊕ its statistical error, the larger window's.
    /// Where the windows do not fit in `range`, no estimate gets a p-value. Ctrl-C stops it.
    #[rhai_fn(return_raw)]
    pub fn salad(ctx: NativeCallContext, data: EventSet, sim: EventSet, opts: Map) -> Out<Salad> {
        let mut options = salad_options().parse_in(&ctx, opts)?;
        options.device = session_state(&ctx)?.device();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(run_salad(&data, &sim, &options, Some(&interrupt))?)
    }

    /// The summary table: counts, DCTR closure, and per data efficiency observed, predicted,
    /// predicted/observed efficiency and Z, with the no-reweighting comparison.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn salad_to_string(s: &mut Salad) -> String {
        s.to_string()
    }

    /// The background estimates with DCTR reweighting, one map per data efficiency:
    /// `efficiency`, `threshold`, `observed`, `predicted` (simulation normalised to the
    /// signal-region data), `predicted_error` (statistical), `systematic_error` (`total` of
    /// `systematics` times `predicted`), `ratio` (predicted/observed efficiency),
    /// `ratio_error`, `reference_events` (effective simulated events passing), `p_value`,
    /// `significance`, `untested` (why there is no p-value — fewer than 10 effective
    /// reference events, an undefined closure, an untested interpolation — or ()).
    #[rhai_fn(get = "estimates", pure)]
    pub fn estimates(s: &mut Salad) -> Array {
        s.reweighted.estimates.iter().map(estimate_map).collect()
    }

    /// The systematic's parts, one map per data efficiency: `efficiency`, `holdout_ratio` ±
    /// `holdout_ratio_error` (the cut's predicted/observed efficiency on the sideband
    /// hold-out), `lower_ratio` ± `lower_ratio_error` and `upper_ratio` ± `upper_ratio_error`
    /// (the same in the validation windows, the simulation weighted by the DCTR trained
    /// outside them), and the relative uncertainties `holdout` (sqrt((holdout_ratio − 1)² +
    /// error²)), `validation` (the larger window's) and `total` (both in quadrature). A part
    /// that was not measured is ().
    #[rhai_fn(get = "systematics", pure)]
    pub fn systematics(s: &mut Salad) -> Array {
        s.reweighted
            .systematics
            .iter()
            .map(systematic_map)
            .collect()
    }

    /// The interpolation test: `#{ lower: [lo, hi], upper: [lo, hi], data: [n lower, n upper],
    /// sim: [n lower, n upper], untested, dctr_loss }` — the validation windows (() where they
    /// do not fit), their events, why the test was not made (() when it was) and the
    /// validation loss of the DCTR trained outside them.
    #[rhai_fn(get = "validation", pure)]
    pub fn validation(s: &mut Salad) -> Map {
        let mut m = Map::new();
        let interval = |(a, b): (f64, f64)| -> Dynamic {
            let v: Array = vec![a.into(), b.into()];
            v.into()
        };
        let w = s.validation_windows;
        m.insert(
            "lower".into(),
            w.map_or(Dynamic::UNIT, |w| interval(w.lower)),
        );
        m.insert(
            "upper".into(),
            w.map_or(Dynamic::UNIT, |w| interval(w.upper)),
        );
        let [dl, du, sl, su] = s.validation_counts;
        let pair = |a: usize, b: usize| -> Dynamic {
            let v: Array = vec![(a as INT).into(), (b as INT).into()];
            v.into()
        };
        m.insert("data".into(), pair(dl, du));
        m.insert("sim".into(), pair(sl, su));
        let why = s
            .validation_untested
            .clone()
            .map_or(Dynamic::UNIT, Dynamic::from);
        m.insert("untested".into(), why);
        m.insert(
            "dctr_loss".into(),
            float_or_unit(Some(s.validation_dctr_loss).filter(|l| l.is_finite())),
        );
        m
    }

    /// The same estimates without reweighting (simulation normalised to the signal-region
    /// data): what SALAD corrects.
    #[rhai_fn(get = "unweighted", pure)]
    pub fn unweighted(s: &mut Salad) -> Array {
        s.unweighted.estimates.iter().map(estimate_map).collect()
    }

    /// Σ w over the signal-region simulation divided by the signal-region data count: how
    /// well the interpolated weights carry the normalisation (1 where they close).
    #[rhai_fn(get = "normalisation", pure)]
    pub fn normalisation(s: &mut Salad) -> FLOAT {
        s.normalisation
    }

    /// The events per part: `#{ data_sb, data_sr, sim_sb, sim_sr }`.
    #[rhai_fn(get = "counts", pure)]
    pub fn counts(s: &mut Salad) -> Map {
        let mut m = Map::new();
        for (k, v) in ["data_sb", "data_sr", "sim_sb", "sim_sr"]
            .iter()
            .zip(s.counts)
        {
            m.insert((*k).into(), (v as INT).into());
        }
        m
    }

    /// The most significant estimate and Šidák's correction over the efficiencies, as a map:
    /// `efficiency`, `local_p`, `local_z`, `trials`, `global_p`, `global_z`. Unit if none.
    #[rhai_fn(get = "global", pure)]
    pub fn global(s: &mut Salad) -> Dynamic {
        significance_map(s.global())
    }

    /// The signal-region data events the classifier keeps at data efficiency `eff`.
    #[rhai_fn(pure, return_raw)]
    pub fn selected(s: &mut Salad, eff: FLOAT) -> Out<EventSet> {
        Ok(s.selected(eff)?)
    }

    /// The signal-region data with the classifier output as a `score` column.
    #[rhai_fn(pure, return_raw)]
    pub fn scored(s: &mut Salad) -> Out<EventSet> {
        Ok(s.scored()?)
    }

    /// The signal-region simulation with its DCTR weights (`dctr_weight`) and classifier
    /// output (`score`).
    #[rhai_fn(pure, return_raw)]
    pub fn reweighted_simulation(s: &mut Salad) -> Out<EventSet> {
        Ok(s.reweighted_simulation()?)
    }

    /// Plots predicted/observed efficiency against the data efficiency with and without
    /// reweighting (Andreassen et al. 2020 Fig. 9) to `path` (.png or .svg).
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot(s: &mut Salad, path: &str) -> Out<()> {
        Ok(plot_closure_estimate(s, Path::new(path))?)
    }

    /// Plots the background estimate in the mass to `path`: at each tested efficiency the
    /// signal-region data passing the classifier's cut (points with Poisson errors) against
    /// the reweighted simulation passing it (line), and the same cut on the sideband closure
    /// hold-out, with pulls.
    #[rhai_fn(pure, return_raw)]
    pub fn plot_mass(s: &mut Salad, path: &str) -> Out<()> {
        Ok(draw_mass(s, Path::new(path))?)
    }

    /// Plots the reweighting closure (Andreassen et al. 2020 Figs. 4–7): the distribution of `what` (a
    /// feature, or "dctr" for the DCTR output) for data, simulation and reweighted simulation
    /// in `part`, "sb" (held-out sidebands) or "sr" (signal region), with the ratio to data.
    #[rhai_fn(pure, return_raw)]
    pub fn plot_reweighting(s: &mut Salad, path: &str, what: &str, part: &str) -> Out<()> {
        Ok(draw_reweighting(
            s,
            what,
            Part::parse(part)?,
            Path::new(path),
        )?)
    }

    /// Writes the result (counts, DCTR closure, estimates with and without reweighting, the
    /// global statement) as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save(s: &mut Salad, path: &str) -> Out<()> {
        save_json(&s.to_json(), path)
    }
}
