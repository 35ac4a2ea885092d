//! The Deep Set VAE's built-ins (part of the `anomaly` domain): `deep_set_vae(events, #{...})`
//! and the methods of its result.

use rhai::plugin::*;

use crate::methods::deep_set_vae::DeepSetVaeOptions;
use crate::nn::sets::PoolPadding;
use crate::nn::train::Validation;
use crate::script::declared::{Choice, Declared, Opt};
use crate::script::domain::OptionTable;

/// The module of the Deep Set VAE's functions and its result type.
pub fn module() -> Module {
    let mut module = exported_module!(deep_set_vae_api);
    module.set_custom_type_with_comments::<crate::methods::deep_set_vae::DeepSetVae>(
        "DeepSetVae",
        &["/// A trained Deep Set VAE (Ostdiek 2021): the network, the standardisation of its training events and the training history; `score(events)` gives the anomaly score."],
    );
    module
}

/// The declared options of this module's built-ins, for the `anomaly` domain.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![Box::new(options())]
}

impl Choice for PoolPadding {
    fn names() -> Vec<&'static str> {
        vec![Self::Zeros.name(), Self::Excluded.name()]
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> crate::Result<Self> {
        Self::parse(name)
    }
}

/// The declared options of `deep_set_vae`.
fn options() -> Declared<DeepSetVaeOptions> {
    Declared::new(
        "deep_set_vae",
        DeepSetVaeOptions::default,
        vec![
            Opt::field(
                "beta",
                "the KL term's weight in the loss and score, the Chamfer term's 1 - beta; 1: no decoder",
                |o: &mut DeepSetVaeOptions| &mut o.model.beta,
            ),
            Opt::field("w", "weight of the Chamfer loss's class term", |o| {
                &mut o.model.w
            }),
            Opt::field("latent", "latent dimensions", |o| &mut o.model.latent),
            Opt::widths(
                "hidden",
                "hidden layer widths of the per-object network",
                |o| &mut o.model.hidden,
            ),
            Opt::widths(
                "decoder",
                "hidden layer widths of the dense decoder (beta < 1)",
                |o| &mut o.model.decoder,
            ),
            Opt::field(
                "pieces",
                "pieces of the sort pooling's weight functions",
                |o| &mut o.model.pieces,
            ),
            Opt::choice(
                "padding",
                "\"zeros\": the pooling sees all 20 slots, empty ones as zeros (the paper's networks); \"excluded\": the present objects only",
                |o| &mut o.model.padding,
            ),
            Opt::field("epochs", "most passes over the training data", |o| {
                &mut o.training.epochs
            }),
            Opt::field("batch_size", "events per gradient step", |o| {
                &mut o.training.batch_size
            }),
            Opt::field("lr", "Adam's initial learning rate", |o| &mut o.training.lr),
            Opt::custom(
                "validation",
                "number",
                "fraction of the events held out to validate on; 0 for none",
                |o: &DeepSetVaeOptions| match o.training.validation {
                    Validation::Fraction(f) => Dynamic::from_float(f),
                    _ => Dynamic::from_float(0.0),
                },
                |o, opts| {
                    let validation = opts.float("validation", 0.0)?;
                    (o.training.validation, o.training.monitor) = if validation == 0.0 {
                        (Validation::None, "loss".into())
                    } else {
                        (Validation::Fraction(validation), "val_loss".into())
                    };
                    Ok(())
                },
            ),
            Opt::custom(
                "patience",
                "count",
                "epochs without improvement before training stops; 0: never",
                |o: &DeepSetVaeOptions| {
                    Dynamic::from_int(o.training.patience.unwrap_or(0) as rhai::INT)
                },
                |o, opts| {
                    let patience = opts.count("patience", 0)?;
                    o.training.patience = (patience > 0).then_some(patience);
                    Ok(())
                },
            ),
            Opt::session_seed(|o| &mut o.seed),
        ],
    )
}

#[export_module]
mod deep_set_vae_api {
    use std::path::Path;

    use rhai::{Array, FLOAT, INT, Map};

    use super::options;
    use crate::data::EventSet;
    use crate::methods::deep_set_vae::{DeepSetVae, deep_set_vae as run};
    use crate::nn::train::History;
    use crate::script::state::session_state;
    use crate::script::values::{Out, array, save_json};

    /// The Deep Set VAE (Ostdiek 2021): `deep_set_vae(events, #{ beta: 1.0, epochs: 30 })` trains
    /// on `events` (background in the Dark Machines object layout, e.g. from
    /// `darkmachines_toy` or `read_darkmachines`; labels are ignored) and returns a
    /// `DeepSetVae` whose `score(events)` is the anomaly score. Each event is a set: MET and
    /// up to 19 objects as (log10 E, log10 pT, eta, phi, type), standardised with the training
    /// events' statistics. A per-object network (`hidden`, ReLU) and featurewise sort pooling
    /// (`pieces`) give the event's Gaussian latent posterior (`latent` dimensions); the
    /// pooling sees all 20 slots with empty ones as zeros, as the paper's networks do
    /// (`padding` "zeros"), or the present objects only ("excluded").
    /// With `beta` < 1 a dense decoder (`decoder`) outputs 20 objects
    /// (four-vector and class, including "absent"), compared with the input by the
    /// modified Chamfer loss whose class term is weighted by `w`. Loss and score per
    /// event: beta KL + (1 - beta) Chamfer. `beta` = 1.0 (the default) has no decoder and the
    /// score is the KL alone: the paper's best detector, a "fixed target" method that maps
    /// background events onto a unit Gaussian so that events unlike the background land far
    /// from it. Training: Adam, a `validation` hold-out, the learning rate ÷ 10 after 2
    /// epochs without improvement, stop after `patience` such epochs, at most `epochs`.
    /// Ctrl-C stops it.
    #[rhai_fn(return_raw)]
    pub fn deep_set_vae(ctx: NativeCallContext, events: EventSet, opts: Map) -> Out<DeepSetVae> {
        let mut options = options().parse_in(&ctx, opts)?;
        options.device = session_state(&ctx)?.device();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(run(&events, &options, Some(&interrupt))?)
    }

    /// The anomaly score of every event of `events` (same object layout): its total loss with
    /// the latent means, beta KL + (1 - beta) Chamfer (with beta = 1, the KL). Higher is more
    /// anomalous.
    #[rhai_fn(pure, return_raw)]
    pub fn score(r: &mut DeepSetVae, events: EventSet) -> Out<Array> {
        Ok(array(&r.score(&events)?))
    }

    /// The training history (per-epoch `loss`, `val_loss`, `lr`, `best_epoch`, ...).
    #[rhai_fn(get = "history", pure)]
    pub fn history(r: &mut DeepSetVae) -> History {
        r.history.clone()
    }

    /// The training loss per epoch.
    #[rhai_fn(get = "losses", pure)]
    pub fn losses(r: &mut DeepSetVae) -> Array {
        let l: Vec<f64> = r.history.epochs.iter().map(|e| e.loss).collect();
        array(&l)
    }

    /// The KL weight beta of the loss.
    #[rhai_fn(get = "beta", pure)]
    pub fn beta(r: &mut DeepSetVae) -> FLOAT {
        r.config.beta
    }

    /// The number of events trained on (training and validation).
    #[rhai_fn(get = "events", pure)]
    pub fn events(r: &mut DeepSetVae) -> INT {
        r.events as INT
    }

    /// The architecture, the training summary and what the score is.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(r: &mut DeepSetVae) -> String {
        r.to_string()
    }

    /// Plots the training and validation loss per epoch to `path` (.png or .svg).
    #[rhai_fn(pure, return_raw)]
    pub fn plot_losses(r: &mut DeepSetVae, path: &str) -> Out<()> {
        Ok(r.plot_losses(Path::new(path))?)
    }

    /// Writes the configuration, the standardisation and the history as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save(r: &mut DeepSetVae, path: &str) -> Out<()> {
        save_json(&r.to_json(), path)
    }
}
