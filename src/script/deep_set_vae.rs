//! The Deep Set VAE's built-ins (part of the `anomaly` domain): `deep_set_vae(events, #{...})`
//! and the methods of its result.

use rhai::Map;
use rhai::plugin::*;

use crate::error::Error;
use crate::methods::deep_set_vae::DeepSetVaeOptions;
use crate::nn::set_vae::SetVaeConfig;
use crate::nn::sets::PoolPadding;
use crate::nn::train::{TrainOptions, Validation};
use crate::script::options::{Options, floats};
use crate::script::state::session_state;
use crate::script::values::Out;

/// The keys `deep_set_vae` accepts.
const KEYS: [&str; 13] = [
    "beta",
    "w",
    "latent",
    "hidden",
    "decoder",
    "pieces",
    "padding",
    "epochs",
    "batch_size",
    "lr",
    "validation",
    "patience",
    "seed",
];

/// The module of the Deep Set VAE's functions and its result type.
pub fn module() -> Module {
    let mut module = exported_module!(deep_set_vae_api);
    module.set_custom_type_with_comments::<crate::methods::deep_set_vae::DeepSetVae>(
        "DeepSetVae",
        &["/// A trained Deep Set VAE (Ostdiek 2021): the network, the standardisation of its training events and the training history; `score(events)` gives the anomaly score."],
    );
    module
}

/// Layer widths from the array option `key` of deep_set_vae, or `default`.
fn take_widths(opts: &mut Map, key: &str, default: &[usize]) -> Out<Vec<usize>> {
    let Some(value) = opts.remove(key) else {
        return Ok(default.to_vec());
    };
    let name = format!("option '{key}' of deep_set_vae");
    let array = value
        .into_array()
        .map_err(|t| Error::invalid(&name, format!("must be an array of widths, not {t}")))?;
    let w = floats(&name, &array)?;
    if w.iter().any(|&x| !(x >= 1.0 && x.fract() == 0.0)) {
        return Err(Error::invalid(&name, "widths must be whole numbers of at least 1").into());
    }
    Ok(w.iter().map(|&x| x as usize).collect())
}

/// Deep Set VAE options from a Rhai map.
fn options(ctx: &NativeCallContext, mut opts: Map) -> Out<DeepSetVaeOptions> {
    let d = DeepSetVaeOptions::default();
    let hidden = take_widths(&mut opts, "hidden", &d.model.hidden)?;
    let decoder = take_widths(&mut opts, "decoder", &d.model.decoder)?;
    let o = Options::new("deep_set_vae", opts, &KEYS)?;
    let seed = o.seed_or_session(ctx)?;
    let validation = o.float("validation", 0.2)?;
    let patience = o.count("patience", d.training.patience.unwrap_or(4))?;
    Ok(DeepSetVaeOptions {
        model: SetVaeConfig {
            beta: o.float("beta", d.model.beta)?,
            w: o.float("w", d.model.w)?,
            latent: o.count("latent", d.model.latent)?,
            pieces: o.count("pieces", d.model.pieces)?,
            padding: PoolPadding::parse(&o.string("padding", d.model.padding.name())?)?,
            hidden,
            decoder,
            ..d.model.clone()
        },
        training: TrainOptions {
            epochs: o.count("epochs", d.training.epochs)?,
            batch_size: o.count("batch_size", d.training.batch_size)?,
            lr: o.float("lr", d.training.lr)?,
            validation: if validation == 0.0 {
                Validation::None
            } else {
                Validation::Fraction(validation)
            },
            monitor: if validation == 0.0 {
                "loss".into()
            } else {
                "val_loss".into()
            },
            patience: (patience > 0).then_some(patience),
            ..d.training.clone()
        },
        device: session_state(ctx)?.device(),
        seed,
    })
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
    /// events' statistics. A per-object network (`hidden` [264, 264, 264], ReLU) and
    /// featurewise sort pooling (`pieces` 20) give the event's Gaussian latent posterior
    /// (`latent` 8 dimensions); the pooling sees all 20 slots with empty ones as zeros, as the
    /// paper's networks do (`padding` "zeros"), or the present objects only ("excluded").
    /// With `beta` < 1 a dense decoder (`decoder` [256, 256]) outputs 20 objects
    /// (four-vector and class, including "absent"), compared with the input by the
    /// modified Chamfer loss whose class term is weighted by `w` (1.0). Loss and score per
    /// event: beta KL + (1 - beta) Chamfer. `beta` = 1.0 (the default) has no decoder and the
    /// score is the KL alone: the paper's best detector, a "fixed target" method that maps
    /// background events onto a unit Gaussian so that events unlike the background land far
    /// from it. Training: Adam (`lr` 1e-3, `batch_size` 500), a `validation` hold-out (0.2; 0
    /// for none), the learning rate ÷ 10 after 2 epochs without improvement, stop after
    /// `patience` (4; 0: never) such epochs, at most `epochs` (50); `seed` (from the session). Ctrl-C
    /// stops it.
    #[rhai_fn(return_raw)]
    pub fn deep_set_vae(ctx: NativeCallContext, events: EventSet, opts: Map) -> Out<DeepSetVae> {
        let options = options(&ctx, opts)?;
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
