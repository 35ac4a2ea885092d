//! The latent-space VAE's built-ins (part of the `anomaly` domain): `latent_vae(events, #{...})`,
//! `latent_map(vae, #{...})` and the methods of their results.

use rhai::plugin::*;

use crate::methods::latent_map::LatentMapOptions;
use crate::methods::latent_vae::{LatentScore, LatentVaeOptions};
use crate::nn::train::Validation;
use crate::script::declared::{Choice, Declared, Opt};
use crate::script::domain::OptionTable;
use crate::script::options::number_pair;

/// The module of the latent VAE's functions and its result types.
pub fn module() -> Module {
    let mut module = exported_module!(latent_vae_api);
    module.set_custom_type_with_comments::<crate::methods::latent_vae::LatentVae>(
        "LatentVae",
        &["/// The result of latent_vae: the trained VAE runs and every event's KL, |z| and reconstruction scores."],
    );
    module.set_custom_type_with_comments::<crate::methods::latent_map::LatentMap>(
        "LatentMap",
        &["/// The jet observables decoded over the (z, m_jj) plane by a mass-aware decoder (Bortolato et al. 2021 §V)."],
    );
    module
}

/// The declared options of this module's built-ins, for the `anomaly` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![
        Box::new(latent_vae_options()),
        Box::new(latent_map_options()),
    ]
}

impl Choice for LatentScore {
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|s| s.name()).collect()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> crate::Result<Self> {
        Self::parse(name)
    }
}

/// The declared options of `latent_vae`.
fn latent_vae_options() -> Declared<LatentVaeOptions> {
    Declared::new(
        "latent_vae",
        LatentVaeOptions::default,
        vec![
            Opt::custom(
                "features",
                "strings",
                "the VAE's inputs, MaxAbs-scaled",
                |o: &LatentVaeOptions| o.features.clone().into(),
                |o, opts| {
                    o.features = opts.strings("features")?;
                    o.vae.inputs = o.features.len();
                    Ok(())
                },
            ),
            Opt::field(
                "mass",
                "the resonant mass column, never an input",
                |o: &mut LatentVaeOptions| &mut o.mass,
            ),
            Opt::field("latent", "latent dimensions", |o| &mut o.vae.latent),
            Opt::widths("hidden", "hidden layer widths", |o| &mut o.vae.hidden),
            Opt::choice("activation", "hidden layers' activation", |o| {
                &mut o.vae.activation
            }),
            Opt::field(
                "recon_weight",
                "α, the reconstruction error's weight in the loss",
                |o| &mut o.vae.recon_weight,
            ),
            Opt::field("beta", "the KL divergence's weight in the loss", |o| {
                &mut o.vae.beta
            }),
            Opt::field("runs", "VAEs trained and averaged (the paper: 20)", |o| {
                &mut o.runs
            }),
            Opt::choice(
                "score",
                "what `selected` cuts on: \"kl\", \"latent\" for |z̄|, \"recon\" for the reconstruction error",
                |o| &mut o.score,
            ),
            Opt::field("epochs", "most passes over the training data", |o| {
                &mut o.training.epochs
            }),
            Opt::field("batch_size", "events per gradient step", |o| {
                &mut o.training.batch_size
            }),
            Opt::field("lr", "learning rate", |o| &mut o.training.lr),
            Opt::choice(
                "optimizer",
                "the optimizer (Adadelta was found more stable than Adam)",
                |o| &mut o.training.optimizer,
            ),
            Opt::custom(
                "validation",
                "number",
                "fraction of the events held out to validate on",
                |o: &LatentVaeOptions| match o.training.validation {
                    Validation::Fraction(f) => Dynamic::from_float(f),
                    _ => Dynamic::UNIT,
                },
                |o, opts| {
                    o.training.validation = Validation::Fraction(opts.float("validation", 0.0)?);
                    Ok(())
                },
            ),
            Opt::custom(
                "stop_at_peak",
                "[rise, fall] or ()",
                "stop once the validation KL rose `rise` epochs in a row and then fell `fall`, keeping the peak epoch; () to train all epochs and keep the largest KL",
                |o: &LatentVaeOptions| {
                    o.training
                        .stop_at_peak
                        .map_or(Dynamic::UNIT, |(rise, fall)| {
                            vec![
                                Dynamic::from_int(rise as rhai::INT),
                                Dynamic::from_int(fall as rhai::INT),
                            ]
                            .into()
                        })
                },
                |o, opts| {
                    let name = "option 'stop_at_peak' of latent_vae";
                    let v = opts.value("stop_at_peak").cloned().unwrap_or_default();
                    o.training.stop_at_peak = if v.is_unit() {
                        None
                    } else {
                        match number_pair(name, v, "[rise, fall]")? {
                            (rise, fall) if rise >= 1.0 && fall >= 1.0 => {
                                Some((rise as usize, fall as usize))
                            }
                            _ => {
                                return Err(opts.invalid(
                                    "stop_at_peak",
                                    "give [rise, fall], both at least 1 epoch, or () for no peak rule",
                                ));
                            }
                        }
                    };
                    Ok(())
                },
            ),
            Opt::session_seed(|o| &mut o.seed),
        ],
    )
}

/// The declared options of `latent_map`.
fn latent_map_options() -> Declared<LatentMapOptions> {
    Declared::new(
        "latent_map",
        LatentMapOptions::default,
        vec![
            Opt::field(
                "run",
                "the run whose encoder is used (0-based)",
                |o: &mut LatentMapOptions| &mut o.run,
            ),
            Opt::field(
                "mass_resolution",
                "relative smearing of the mass, σ_m / m_jj",
                |o| &mut o.mass_resolution,
            ),
            Opt::widths("hidden", "hidden layer widths of the new decoder", |o| {
                &mut o.hidden
            }),
            Opt::field("draws", "latent and mass draws per training event", |o| {
                &mut o.draws
            }),
            Opt::field("epochs", "most passes over the training data", |o| {
                &mut o.training.epochs
            }),
            Opt::field("batch_size", "events per gradient step", |o| {
                &mut o.training.batch_size
            }),
            Opt::field("lr", "learning rate (Adam)", |o| &mut o.training.lr),
            Opt::field(
                "patience",
                "epochs without a better validation loss before training stops",
                |o| &mut o.training.patience,
            ),
            Opt::custom(
                "grid",
                "[points along z, points along the mass]",
                "grid points of the decoded plane",
                |o: &LatentMapOptions| {
                    vec![
                        Dynamic::from_int(o.grid.0 as rhai::INT),
                        Dynamic::from_int(o.grid.1 as rhai::INT),
                    ]
                    .into()
                },
                |o, opts| {
                    o.grid = match opts.pair("grid")? {
                        (nz, nm)
                            if nz >= 2.0 && nm >= 2.0 && nz.fract() == 0.0 && nm.fract() == 0.0 =>
                        {
                            (nz as usize, nm as usize)
                        }
                        _ => {
                            return Err(opts.invalid(
                                "grid",
                                "give [points along z, points along the mass], whole numbers of at least 2",
                            ));
                        }
                    };
                    Ok(())
                },
            ),
            Opt::field(
                "z_range",
                "the z range of the grid; when absent, the 0.5 % to 99.5 % quantiles of the events' z̄",
                |o| &mut o.z_range,
            ),
            Opt::field(
                "mass_range",
                "the mass range of the grid; when absent, the 1 % to 99 % quantiles of the events' masses",
                |o| &mut o.mass_range,
            ),
            Opt::session_seed(|o| &mut o.seed),
        ],
    )
}

#[export_module]
mod latent_vae_api {
    use std::path::Path;

    use rhai::{Array, Dynamic, FLOAT, INT, Map};

    use super::{latent_map_options, latent_vae_options};
    use crate::data::EventSet;
    use crate::methods::latent_map::{LatentMap, latent_map as run_latent_map};
    use crate::methods::latent_vae::{
        LatentScore, LatentVae, latent_vae as run_latent_vae, with_score_columns,
    };
    use crate::script::state::session_state;
    use crate::script::values::{Out, array, save_json};

    /// Bump hunting in latent space (Bortolato et al. 2021): `latent_vae(events, #{ ... })` trains `runs`
    /// VAEs on the jet observables and scores every event by the KL divergence of its latent
    /// posterior to the prior, averaged over the runs. The mass is never an input (a score
    /// that knows m_jj would sculpt the spectrum the bump hunt reads). The defaults are the
    /// paper's recipe, but for `runs`. Ctrl-C stops it.
    #[rhai_fn(return_raw)]
    pub fn latent_vae(ctx: NativeCallContext, events: EventSet, opts: Map) -> Out<LatentVae> {
        let mut options = latent_vae_options().parse_in(&ctx, opts)?;
        options.device = session_state(&ctx)?.device();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(run_latent_vae(&events, &options, Some(&interrupt))?)
    }

    /// `latent_vae(events)` with the default options.
    #[rhai_fn(name = "latent_vae", return_raw)]
    pub fn latent_vae_default(ctx: NativeCallContext, events: EventSet) -> Out<LatentVae> {
        latent_vae(ctx, events, Map::new())
    }

    /// The runs, their KL peaks and, with truth labels, each score's AUC and SIC at
    /// ε_S = 0.5.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn latent_vae_to_string(v: &mut LatentVae) -> String {
        v.to_string()
    }

    /// The training events' scores of `kind` ("kl", "latent", "recon"), averaged over the
    /// runs, in event order.
    #[rhai_fn(name = "scores", pure, return_raw)]
    pub fn scores(v: &mut LatentVae, kind: &str) -> Out<Array> {
        Ok(array(v.scores.of(LatentScore::parse(kind)?)))
    }

    /// The spread (standard deviation over the runs) of every training event's KL.
    #[rhai_fn(get = "kl_spread", pure)]
    pub fn kl_spread(v: &mut LatentVae) -> Array {
        array(&v.scores.kl_spread)
    }

    /// The training events with `kl_score`, `latent_score`, `recon_score` and `score` (the
    /// selected kind) columns.
    #[rhai_fn(pure, return_raw)]
    pub fn scored(v: &mut LatentVae) -> Out<EventSet> {
        Ok(v.scored()?)
    }

    /// Other events (e.g. a test sample) scored by the trained runs with the training
    /// scaling, with the same score columns as `scored()`.
    #[rhai_fn(name = "score", pure, return_raw)]
    pub fn score_events(v: &mut LatentVae, events: EventSet) -> Out<EventSet> {
        let scores = v.score_events(&events)?;
        Ok(with_score_columns(&events, &scores, v.score)?)
    }

    /// The training events with the highest score, a fraction `eff` of them: histogram
    /// their mass to see a bump.
    #[rhai_fn(pure, return_raw)]
    pub fn selected(v: &mut LatentVae, eff: FLOAT) -> Out<EventSet> {
        Ok(v.selected(eff)?)
    }

    /// The posterior mean z̄ (first latent coordinate) of every training event in run `run`
    /// (0-based), e.g. for `hist2d(events.col("mjj"), vae.latent_means(0), ...)` beside
    /// `latent_map`'s heat maps (where signal and background sit in the (m, z) plane).
    #[rhai_fn(pure, return_raw)]
    pub fn latent_means(v: &mut LatentVae, run: INT) -> Out<Array> {
        let run = usize::try_from(run)
            .map_err(|_| crate::Error::invalid("run", format!("{run} is not a run number")))?;
        Ok(array(&v.latent_means(run)?))
    }

    /// The training history of every run (each with the validation KL as its monitor).
    #[rhai_fn(get = "histories", pure)]
    pub fn histories(v: &mut LatentVae) -> Array {
        v.runs
            .iter()
            .map(|r| Dynamic::from(r.history.clone()))
            .collect()
    }

    /// With truth labels of both classes, per score kind a map `score`, `auc`,
    /// `sic_at_half` (ε_S/sqrt(ε_B) at ε_S = 0.5); unit otherwise.
    #[rhai_fn(get = "performance", pure)]
    pub fn performance(v: &mut LatentVae) -> Dynamic {
        match v.truth_performance() {
            None => Dynamic::UNIT,
            Some(perf) => perf
                .into_iter()
                .map(|p| {
                    let mut m = Map::new();
                    m.insert("score".into(), p.score.name().into());
                    m.insert("auc".into(), p.auc.into());
                    m.insert("sic_at_half".into(), p.sic_at_half.into());
                    Dynamic::from_map(m)
                })
                .collect::<Array>()
                .into(),
        }
    }

    /// Plots the selected score's distribution (signal and background apart with truth
    /// labels) to `path` (.png or .svg).
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn plot(v: &mut LatentVae, path: &str) -> Out<()> {
        Ok(v.plot(Path::new(path))?)
    }

    /// Plots every run's validation KL per epoch to `path`: the KL-peak rule at work.
    #[rhai_fn(pure, return_raw)]
    pub fn plot_training(v: &mut LatentVae, path: &str) -> Out<()> {
        Ok(v.plot_training(Path::new(path))?)
    }

    /// Plots ε_S/sqrt(ε_B) against ε_S for the KL, |z̄| and reconstruction scores to `path`
    /// (needs truth labels).
    #[rhai_fn(pure, return_raw)]
    pub fn plot_sic(v: &mut LatentVae, path: &str) -> Out<()> {
        Ok(v.plot_sic(Path::new(path))?)
    }

    /// Writes the runs' histories and settings as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save(v: &mut LatentVae, path: &str) -> Out<()> {
        save_json(&v.to_json(), path)
    }

    /// The latent-space characterisation of Bortolato et al. 2021 §V: `latent_map(vae, #{ ... })` freezes
    /// the encoder of run `run`, trains a second decoder on (z ~ N(z̄, σ_z), m ~ N(m_jj,
    /// `mass_resolution` × m_jj)), `draws` per event, to reconstruct the observables, and
    /// decodes a grid over the (z, m) plane. Needs a one-dimensional latent space.
    #[rhai_fn(return_raw)]
    pub fn latent_map(ctx: NativeCallContext, vae: LatentVae, opts: Map) -> Out<LatentMap> {
        let options = latent_map_options().parse_in(&ctx, opts)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(run_latent_map(&vae, &options, Some(&interrupt))?)
    }

    /// `latent_map(vae)` with the default options.
    #[rhai_fn(name = "latent_map", return_raw)]
    pub fn latent_map_default(ctx: NativeCallContext, vae: LatentVae) -> Out<LatentMap> {
        latent_map(ctx, vae, Map::new())
    }

    /// The grid points along z.
    #[rhai_fn(get = "z", pure)]
    pub fn map_z(m: &mut LatentMap) -> Array {
        array(&m.z)
    }

    /// The grid points along the mass.
    #[rhai_fn(get = "masses", pure)]
    pub fn map_masses(m: &mut LatentMap) -> Array {
        array(&m.masses)
    }

    /// The observables the map decodes.
    #[rhai_fn(get = "features", pure)]
    pub fn map_features(m: &mut LatentMap) -> Array {
        m.features
            .iter()
            .map(|f| Dynamic::from(f.clone()))
            .collect()
    }

    /// The decoded `feature` over the grid: one array per z point, one value per mass.
    #[rhai_fn(name = "values", pure, return_raw)]
    pub fn map_values(m: &mut LatentMap, feature: &str) -> Out<Array> {
        Ok(m.feature_grid(feature)?
            .iter()
            .map(|row| Dynamic::from_array(array(row)))
            .collect())
    }

    /// Draws the decoded `feature` over the (m, z) plane as a heat map to `path`.
    #[rhai_fn(name = "plot", pure, return_raw)]
    pub fn map_plot(m: &mut LatentMap, feature: &str, path: &str) -> Out<()> {
        Ok(m.plot(feature, Path::new(path))?)
    }

    /// The grid size, `#{ z: .., masses: .. }`.
    #[rhai_fn(get = "shape", pure)]
    pub fn map_shape(m: &mut LatentMap) -> Map {
        let mut s = Map::new();
        s.insert("z".into(), (m.z.len() as INT).into());
        s.insert("masses".into(), (m.masses.len() as INT).into());
        s
    }

    /// A one-line description of the map.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn map_to_string(m: &mut LatentMap) -> String {
        format!(
            "LatentMap of {} over z in [{:.2}, {:.2}] × {} in [{:.0}, {:.0}] ({} × {} points)",
            m.features.join(", "),
            m.z[0],
            m.z[m.z.len() - 1],
            m.mass,
            m.masses[0],
            m.masses[m.masses.len() - 1],
            m.z.len(),
            m.masses.len()
        )
    }

    /// Writes the map (grid and decoded values) as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn map_save(m: &mut LatentMap, path: &str) -> Out<()> {
        save_json(&m.to_json(), path)
    }
}
