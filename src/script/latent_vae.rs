//! The latent-space VAE's built-ins (part of the `anomaly` domain): `latent_vae(events, #{...})`,
//! `latent_map(vae, #{...})` and the methods of their results.

use rhai::Map;
use rhai::plugin::*;

use crate::methods::latent_map::LatentMapOptions;
use crate::methods::latent_vae::{LatentScore, LatentVaeOptions};
use crate::nn::layers::Activation;
use crate::nn::optim::Kind;
use crate::nn::train::{TrainOptions, Validation};
use crate::script::options::widths;
use crate::script::options::{Options, number_pair, strings};
use crate::script::options::{array_option, pair_option};
use crate::script::state::session_state;
use crate::script::values::Out;

/// The keys `latent_vae` accepts.
const LATENT_VAE_KEYS: [&str; 16] = [
    "features",
    "mass",
    "latent",
    "hidden",
    "activation",
    "recon_weight",
    "beta",
    "runs",
    "score",
    "epochs",
    "batch_size",
    "lr",
    "optimizer",
    "validation",
    "stop_at_peak",
    "seed",
];

/// The keys `latent_map` accepts.
const LATENT_MAP_KEYS: [&str; 12] = [
    "run",
    "mass_resolution",
    "hidden",
    "draws",
    "epochs",
    "batch_size",
    "lr",
    "patience",
    "grid",
    "z_range",
    "mass_range",
    "seed",
];

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

/// Latent VAE options from a Rhai map.
fn latent_vae_options(ctx: &NativeCallContext, mut opts: Map) -> Out<LatentVaeOptions> {
    let d = LatentVaeOptions::default();
    let features = match array_option("latent_vae", "features", opts.remove("features"))? {
        Some(a) => strings("features", &a)?,
        None => d.features.clone(),
    };
    let hidden = widths("latent_vae", opts.remove("hidden"), &d.vae.hidden)?;
    let peak = opts.remove("stop_at_peak");
    let o = Options::new("latent_vae", opts, &LATENT_VAE_KEYS)?;
    let stop_at_peak = match peak {
        None => d.training.stop_at_peak,
        Some(v) if v.is_unit() => None,
        Some(v) => match number_pair("option 'stop_at_peak' of latent_vae", v, "[rise, fall]")? {
            (rise, fall) if rise >= 1.0 && fall >= 1.0 => Some((rise as usize, fall as usize)),
            _ => {
                return Err(crate::Error::invalid(
                    "option 'stop_at_peak' of latent_vae",
                    "give [rise, fall], both at least 1 epoch, or () for no peak rule",
                )
                .into());
            }
        },
    };
    let validation = o.float("validation", 0.2)?;
    let seed = o.seed_or_session(ctx)?;
    Ok(LatentVaeOptions {
        vae: crate::nn::vae::VaeConfig {
            inputs: features.len(),
            latent: o.count("latent", d.vae.latent)?,
            hidden,
            activation: Activation::parse(&o.string("activation", "selu")?)?,
            beta: o.float("beta", d.vae.beta)?,
            recon_weight: o.float("recon_weight", d.vae.recon_weight)?,
            ..d.vae.clone()
        },
        features,
        mass: o.string("mass", &d.mass)?,
        training: TrainOptions {
            epochs: o.count("epochs", d.training.epochs)?,
            batch_size: o.count("batch_size", d.training.batch_size)?,
            lr: o.float("lr", d.training.lr)?,
            optimizer: Kind::parse(&o.string("optimizer", d.training.optimizer.name())?)?,
            validation: Validation::Fraction(validation),
            stop_at_peak,
            ..d.training.clone()
        },
        runs: o.count("runs", d.runs)?,
        score: LatentScore::parse(&o.string("score", d.score.name())?)?,
        device: session_state(ctx)?.device(),
        seed,
    })
}

/// Latent map options from a Rhai map.
fn latent_map_options(ctx: &NativeCallContext, mut opts: Map) -> Out<LatentMapOptions> {
    let d = LatentMapOptions::default();
    let hidden = widths("latent_map", opts.remove("hidden"), &d.hidden)?;
    let range = |opts: &mut Map, key: &str| -> Out<Option<(f64, f64)>> {
        opts.remove(key)
            .map(|v| pair_option("latent_map", key, Some(v), (0.0, 0.0)))
            .transpose()
    };
    let z_range = range(&mut opts, "z_range")?;
    let mass_range = range(&mut opts, "mass_range")?;
    let grid = opts
        .remove("grid")
        .map(|v| pair_option("latent_map", "grid", Some(v), (0.0, 0.0)))
        .transpose()?;
    let o = Options::new("latent_map", opts, &LATENT_MAP_KEYS)?;
    let grid = match grid {
        None => d.grid,
        Some((nz, nm)) if nz >= 2.0 && nm >= 2.0 && nz.fract() == 0.0 && nm.fract() == 0.0 => {
            (nz as usize, nm as usize)
        }
        Some(_) => {
            return Err(crate::Error::invalid(
                "option 'grid' of latent_map",
                "give [points along z, points along the mass], whole numbers of at least 2",
            )
            .into());
        }
    };
    let seed = o.seed_or_session(ctx)?;
    Ok(LatentMapOptions {
        run: o.count("run", d.run)?,
        mass_resolution: o.float("mass_resolution", d.mass_resolution)?,
        hidden,
        draws: o.count("draws", d.draws)?,
        training: TrainOptions {
            epochs: o.count("epochs", d.training.epochs)?,
            batch_size: o.count("batch_size", d.training.batch_size)?,
            lr: o.float("lr", d.training.lr)?,
            patience: Some(o.count("patience", d.training.patience.unwrap_or(5))?),
            ..d.training.clone()
        },
        grid,
        z_range,
        mass_range,
        seed,
    })
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
    /// that knows m_jj would sculpt the spectrum the bump hunt reads). Options and defaults
    /// (the paper's recipe): `features` (["mj1", "mj2", "tau21_1", "tau21_2", "tau32_1",
    /// "tau32_2"], MaxAbs-scaled), `mass` ("mjj"), `latent` (1), `hidden` ([64, 64, 64]),
    /// `activation` ("selu"), `recon_weight` (α = 5000), `beta` (1, the KL weight), `runs`
    /// (5; the paper 20), `score` ("kl", or "latent" for |z̄|, "recon" for the
    /// reconstruction error: what `selected` cuts on), `epochs` (at most 100), `batch_size`
    /// (1000), `optimizer` ("adadelta", found more stable than Adam), `lr` (1.0),
    /// `validation` (0.2), `stop_at_peak` ([5, 5]: stop once the validation KL rose 5 epochs
    /// in a row and then fell 5, keeping the peak epoch; () to train all epochs and keep the
    /// largest KL), `seed` (from the session). Ctrl-C stops it.
    #[rhai_fn(return_raw)]
    pub fn latent_vae(ctx: NativeCallContext, events: EventSet, opts: Map) -> Out<LatentVae> {
        let options = latent_vae_options(&ctx, opts)?;
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
    /// the encoder of one run, trains a second decoder on (z ~ N(z̄, σ_z), m ~ N(m_jj,
    /// 0.025 m_jj)) to reconstruct the observables, and decodes a grid over the (z, m) plane.
    /// Options: `run` (0), `mass_resolution` (0.025), `hidden` ([64, 64, 64]), `draws` (2 per
    /// event), `epochs` (30), `batch_size` (1000), `lr` (1e-3, Adam), `patience` (5), `grid`
    /// ([40, 40] points along z and m), `z_range` (0.5–99.5 % of z̄), `mass_range` (1–99 % of
    /// the masses), `seed`. Needs a one-dimensional latent space.
    #[rhai_fn(return_raw)]
    pub fn latent_map(ctx: NativeCallContext, vae: LatentVae, opts: Map) -> Out<LatentMap> {
        let options = latent_map_options(&ctx, opts)?;
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
