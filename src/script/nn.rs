//! The `nn` domain: networks, training and prediction on event sets, checkpoints, devices.

use candle_core::{Device, Tensor};
use rhai::plugin::*;
use rhai::{Array, Map};

use super::domain::Domain;
use super::options::{Options, floats, strings};
use super::values::Out;
use crate::data::{EventSet, Role};
use crate::error::Error;
use crate::nn::layers::matrix;
use crate::nn::network::Network;
use crate::nn::train::{Dataset, Goal, TrainOptions, Validation};

/// The `nn` domain.
pub const DOMAIN: Domain = Domain {
    name: "nn",
    about: "neural networks: MLP classifiers, training with validation and early stopping, prediction, checkpoints, devices",
    module: || {
        use crate::nn::train::History;
        let mut module = exported_module!(nn_api);
        module.set_custom_type_with_comments::<Network>(
            "Network",
            &["/// A neural network (weights shared between copies)."],
        );
        module.set_custom_type_with_comments::<History>(
            "History",
            &["/// Per-epoch losses and metrics of a training."],
        );
        module
    },
};

/// The training options every `fit` accepts besides the data options.
const TRAIN_KEYS: [&str; 11] = [
    "epochs",
    "batch_size",
    "lr",
    "optimizer",
    "validation",
    "patience",
    "monitor",
    "mode",
    "reduce_lr",
    "restore_best",
    "seed",
];

/// The inputs [events, features] of `events` for the columns `features`.
fn event_matrix(events: &EventSet, features: &[String], device: &Device) -> Out<Tensor> {
    if events.is_empty() {
        return Err(Error::invalid("events", "the event set is empty").into());
    }
    Ok(matrix(
        events.matrix_f32(features)?,
        features.len(),
        device,
    )?)
}

/// A one-dimensional f32 tensor of `values`.
fn vector(values: &[f64], device: &Device) -> Out<Tensor> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Ok(Tensor::from_vec(v, values.len(), device).map_err(Error::from)?)
}

/// Rows of numbers (an array of arrays) as a matrix.
fn rows_matrix(rows: &Array, device: &Device) -> Out<Tensor> {
    let mut cols = None;
    let mut values = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let row = row.clone().into_array().map_err(|t| {
            Error::invalid(
                "inputs",
                format!("row {i} is a {t}, not an array of numbers"),
            )
        })?;
        let row = floats(&format!("row {i}"), &row)?;
        match cols {
            None => cols = Some(row.len()),
            Some(c) if c != row.len() => {
                return Err(Error::invalid(
                    "inputs",
                    format!("row {i} has {} values, row 0 has {c}", row.len()),
                )
                .into());
            }
            _ => {}
        }
        values.extend(row.iter().map(|&x| x as f32));
    }
    let cols = cols.ok_or_else(|| Error::invalid("inputs", "no rows given"))?;
    Ok(matrix(values, cols, device)?)
}

/// The event-set part of `fit`'s options: features, target, weights and validation events.
struct EventOptions {
    features: Vec<String>,
    target: Option<String>,
    weights: Option<String>,
    validation: Option<EventSet>,
}

/// Takes the event-set options out of `opts`.
fn event_options(net: &Network, events: &EventSet, opts: &mut Map) -> Out<EventOptions> {
    let features = match opts.remove("features") {
        Some(v) => {
            let a = v.into_array().map_err(|t| {
                Error::invalid(
                    "option 'features'",
                    format!("must be an array of column names, not {t}"),
                )
            })?;
            strings("features", &a)?
        }
        None => net.features.clone().ok_or_else(|| {
            Error::invalid(
                "option 'features'",
                "name the input columns, e.g. #{ features: [\"mj1\", \"dmj\"] }",
            )
        })?,
    };
    if features.len() != net.inputs() {
        return Err(Error::invalid(
            "option 'features'",
            format!(
                "{} columns for a network with {} inputs",
                features.len(),
                net.inputs()
            ),
        )
        .into());
    }
    let target = match opts.remove("target") {
        Some(v) => Some(v.into_string().map_err(|t| {
            Error::invalid("option 'target'", format!("must be a column name, not {t}"))
        })?),
        None => events.role_column(Role::Label).map(str::to_string),
    };
    let weights = match opts.remove("weights") {
        None => events.role_column(Role::Weight).map(str::to_string),
        Some(v) if v.is_bool() => {
            if v.as_bool().unwrap_or(false) {
                Some(
                    events
                        .role_column(Role::Weight)
                        .ok_or_else(|| {
                            Error::invalid("option 'weights'", "the event set has no weight role")
                        })?
                        .to_string(),
                )
            } else {
                None
            }
        }
        Some(v) => Some(v.into_string().map_err(|t| {
            Error::invalid(
                "option 'weights'",
                format!("must be a column name or true/false, not {t}"),
            )
        })?),
    };
    let validation = match opts.get("validation") {
        Some(v) if v.is::<EventSet>() => {
            let set = v.clone().cast::<EventSet>();
            opts.remove("validation");
            Some(set)
        }
        _ => None,
    };
    Ok(EventOptions {
        features,
        target,
        weights,
        validation,
    })
}

/// The tensors of `events` for training.
fn dataset(events: &EventSet, o: &EventOptions, device: &Device) -> Out<Dataset> {
    let x = event_matrix(events, &o.features, device)?;
    let y = o
        .target
        .as_ref()
        .map(|t| {
            events
                .column(t)
                .map_err(Box::from)
                .and_then(|v| vector(&v, device))
        })
        .transpose()?;
    let weights = o
        .weights
        .as_ref()
        .map(|w| {
            events
                .column(w)
                .map_err(Box::from)
                .and_then(|v| vector(&v, device))
        })
        .transpose()?;
    Ok(Dataset {
        x,
        y,
        weights,
        context: None,
    })
}

/// The training options in `opts` (the data options already taken out).
fn train_options(
    ctx: &NativeCallContext,
    opts: Map,
    validation: Option<Dataset>,
) -> Out<TrainOptions> {
    let val = opts.get("validation").cloned();
    let reduce = opts.get("reduce_lr").cloned();
    let o = Options::new("fit", opts, &TRAIN_KEYS)?;
    let d = TrainOptions::default();
    let validation = match (validation, val) {
        (Some(data), _) => Validation::Data(data),
        (None, None) => d.validation,
        (None, Some(v)) if v.is_unit() => Validation::None,
        (None, Some(_)) => {
            let f = o.float("validation", 0.2)?;
            if f == 0.0 {
                Validation::None
            } else {
                Validation::Fraction(f)
            }
        }
    };
    let reduce_lr = match reduce {
        None => None,
        Some(v) => {
            let a = v.into_array().map_err(|t| {
                Error::invalid(
                    "option 'reduce_lr'",
                    format!("must be [factor, patience], not {t}"),
                )
            })?;
            match floats("reduce_lr", &a)?.as_slice() {
                [factor, patience] if *factor > 0.0 && *factor < 1.0 && *patience >= 1.0 => {
                    Some((*factor, *patience as usize))
                }
                _ => {
                    return Err(Error::invalid(
                        "option 'reduce_lr'",
                        "give [factor in (0, 1), patience >= 1 epochs]",
                    )
                    .into());
                }
            }
        }
    };
    let goal = match o.string("mode", "min")?.as_str() {
        "min" => Goal::Minimise,
        "max" => Goal::Maximise,
        other => {
            return Err(Error::invalid(
                "option 'mode' of fit",
                format!("'{other}': use \"min\" or \"max\""),
            )
            .into());
        }
    };
    let seed = match o.seed("seed")? {
        Some(s) => s,
        None => super::state::session_state(ctx)?.next_stream(),
    };
    Ok(TrainOptions {
        epochs: o.count("epochs", d.epochs)?,
        batch_size: o.count("batch_size", d.batch_size)?,
        lr: o.float("lr", d.lr)?,
        optimizer: crate::nn::optim::Kind::parse(&o.string("optimizer", d.optimizer.name())?)?,
        validation,
        patience: if o.has("patience") {
            Some(o.count("patience", 0)?)
        } else {
            None
        },
        monitor: o.string("monitor", &d.monitor)?,
        goal,
        reduce_lr,
        restore_best: o.flag("restore_best", d.restore_best)?,
        seed,
    })
}

/// A prediction tensor as a Rhai array (one number per event, or one array per event).
fn to_array(t: &candle_core::Tensor) -> Out<Array> {
    let t = t
        .to_device(&candle_core::Device::Cpu)
        .map_err(Error::from)?;
    if t.rank() == 1 {
        let v: Vec<f32> = t.to_vec1().map_err(Error::from)?;
        Ok(v.into_iter()
            .map(|x| Dynamic::from_float(f64::from(x)))
            .collect())
    } else {
        let rows: Vec<Vec<f32>> = t.to_vec2().map_err(Error::from)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                Dynamic::from_array(
                    r.into_iter()
                        .map(|x| Dynamic::from_float(f64::from(x)))
                        .collect(),
                )
            })
            .collect())
    }
}

/// `fit` for an ensemble: every member trains on its own events (`folds: k`: member i
/// validates on fold i and trains on the others; otherwise every member trains on all events
/// with its own hold-out) with per-member early stopping. Returns the members' histories.
fn fit_ensemble_events(
    ctx: &NativeCallContext,
    net: &mut Network,
    events: EventSet,
    mut opts: Map,
) -> Out<Dynamic> {
    use crate::nn::ensemble::{MemberData, fit_ensemble};
    let folds = opts.remove("folds");
    let eo = event_options(net, &events, &mut opts)?;
    if eo.validation.is_some() {
        return Err(Error::invalid(
            "option 'validation'",
            "an ensemble validates each member on its own events: use `folds: k` or a hold-out fraction",
        )
        .into());
    }
    let device = net.device().clone();
    let data = dataset(&events, &eo, &device)?;
    let options = train_options(ctx, opts, None)?;
    let Some(ensemble) = net.ensemble() else {
        return Err(Error::invalid("fit", "this network is not an ensemble").into());
    };
    let k = ensemble.members();
    let members = match folds {
        None => MemberData::all(data.len(), k),
        Some(f) => {
            let f = f.as_int().map_err(|t| {
                Error::invalid("option 'folds'", format!("must be an integer, not {t}"))
            })?;
            if f != k as rhai::INT {
                return Err(Error::invalid(
                    "option 'folds'",
                    format!(
                        "{f} folds for an ensemble of {k} members: give folds equal to the members"
                    ),
                )
                .into());
            }
            MemberData::k_folds(
                data.len(),
                k,
                crate::seed::stream_seed(options.seed, u64::MAX),
            )?
        }
    };
    let interrupt = super::state::session_state(ctx)?.interrupt.clone();
    let histories = fit_ensemble(ensemble, &data, &members, &options, Some(&interrupt))?;
    net.features = Some(eo.features);
    Ok(Dynamic::from_array(
        histories.into_iter().map(Dynamic::from).collect(),
    ))
}

#[export_module]
mod nn_api {
    use rhai::{Array, FLOAT, INT, Map};

    use super::{
        EventOptions, dataset, event_matrix, event_options, fit_ensemble_events, rows_matrix,
        to_array, train_options, vector,
    };
    use crate::data::EventSet;
    use crate::error::Error;
    use crate::nn::layers::Activation;
    use crate::nn::mlp::{MlpConfig, Output};
    use crate::nn::network::{Architecture, Network};
    use crate::nn::train::{Dataset, History, fit};
    use crate::script::options::{Options, floats};
    use crate::script::state::session_state;
    use crate::script::values::{Out, array, save_json};

    /// Selects where new networks and their data live: "cpu" (default), "cuda" or
    /// "cuda:N" (needs a binary built with `--features cuda`).
    #[rhai_fn(name = "device", return_raw)]
    pub fn set_device(ctx: NativeCallContext, name: &str) -> Out<()> {
        let device = crate::nn::device::parse_device(name)?;
        *session_state(&ctx)?
            .device
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = device;
        Ok(())
    }

    /// The session's device name.
    #[rhai_fn(name = "device", return_raw)]
    pub fn get_device(ctx: NativeCallContext) -> Out<String> {
        Ok(crate::nn::device::device_name(
            &session_state(&ctx)?.device(),
        ))
    }

    /// A multilayer perceptron, e.g. the CWoLa classifier `mlp(#{ inputs: 4 })`. Options:
    /// `inputs` (required), `hidden` ([64, 64, 64]), `activation` ("relu", "leaky_relu",
    /// "elu", "selu", "tanh"), `dropout` (0), `outputs` (1), `output` ("sigmoid": a
    /// probability trained with cross-entropy; "linear": trained with squared error),
    /// `seed` (weights; default from the session).
    #[rhai_fn(return_raw)]
    pub fn mlp(ctx: NativeCallContext, opts: Map) -> Out<Network> {
        let hidden = opts.get("hidden").cloned();
        let o = Options::new(
            "mlp",
            opts,
            &[
                "inputs",
                "hidden",
                "activation",
                "dropout",
                "outputs",
                "output",
                "seed",
            ],
        )?;
        if !o.has("inputs") {
            return Err(Error::invalid(
                "option 'inputs' of mlp",
                "give the number of input features, e.g. #{ inputs: 4 }",
            )
            .into());
        }
        let d = MlpConfig::new(o.count("inputs", 0)?);
        let hidden = match hidden {
            None => d.hidden.clone(),
            Some(v) => {
                let a = v.into_array().map_err(|t| {
                    Error::invalid(
                        "option 'hidden' of mlp",
                        format!("must be an array of widths, not {t}"),
                    )
                })?;
                floats("hidden", &a)?.iter().map(|&w| w as usize).collect()
            }
        };
        let config = MlpConfig {
            hidden,
            activation: Activation::parse(&o.string("activation", "relu")?)?,
            dropout: o.float("dropout", 0.0)?,
            outputs: o.count("outputs", 1)?,
            output: Output::parse(&o.string("output", "sigmoid")?)?,
            ..d
        };
        let state = session_state(&ctx)?;
        let seed = match o.seed("seed")? {
            Some(s) => s,
            None => state.next_stream(),
        };
        Ok(Network::new(
            &Architecture::Mlp { config },
            &state.device(),
            seed,
        )?)
    }

    /// Trains the network on an event set. Data options: `features` (input columns; after a
    /// first fit the network remembers them), `target` (default: the label role), `weights`
    /// (a column, or true for the weight role; default the weight role if set), `validation`
    /// (a fraction held out, 0.2; 0 or () for none; or an event set). Training options:
    /// `epochs` (50), `batch_size` (512), `lr` (1e-3), `optimizer` ("adam", "adamw", "sgd",
    /// "adagrad", "adadelta"), `patience` (early stopping, off), `monitor` ("val_loss"),
    /// `mode` ("min"/"max"), `reduce_lr` ([factor, patience]), `restore_best` (true), `seed`.
    /// Returns the history; Ctrl-C stops between batches and keeps the best weights.
    /// For an ensemble: `folds: k` (k = members) trains member i on every fold but i and
    /// validates it on fold i; without it every member trains on all events with its own
    /// hold-out. Members stop early one by one; returns an array of their histories.
    #[rhai_fn(name = "fit", return_raw)]
    pub fn fit_events(
        ctx: NativeCallContext,
        net: &mut Network,
        events: EventSet,
        opts: Map,
    ) -> Out<Dynamic> {
        if net.ensemble().is_some() {
            return fit_ensemble_events(&ctx, net, events, opts);
        }
        let mut opts = opts;
        let eo: EventOptions = event_options(net, &events, &mut opts)?;
        let device = net.device().clone();
        let data = dataset(&events, &eo, &device)?;
        let validation = eo
            .validation
            .as_ref()
            .map(|v| dataset(v, &eo, &device))
            .transpose()?;
        let options = train_options(&ctx, opts, validation)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        let history = fit(net.trainable(), &data, &options, Some(&interrupt))?;
        net.features = Some(eo.features);
        Ok(Dynamic::from(history))
    }

    /// Trains the network on rows of inputs `x` (an array of arrays) and targets `y`. Options
    /// as for `fit(events, opts)` without the data options.
    #[rhai_fn(name = "fit", return_raw)]
    pub fn fit_arrays(
        ctx: NativeCallContext,
        net: &mut Network,
        x: Array,
        y: Array,
        opts: Map,
    ) -> Out<History> {
        let device = net.device().clone();
        let data = Dataset {
            x: rows_matrix(&x, &device)?,
            y: Some(vector(&floats("targets", &y)?, &device)?),
            weights: None,
            context: None,
        };
        let options = train_options(&ctx, opts, None)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(fit(net.trainable(), &data, &options, Some(&interrupt))?)
    }

    /// An ensemble of `members` MLPs of one shape, trained together with stacked weights
    /// (one batched matmul per layer), e.g. `ensemble(#{ inputs: 4 }, 5)`; options as for
    /// `mlp`. `fit(events, #{ features, folds: 5 })` trains member i on all folds but i;
    /// `predict` averages the members, `predict_members` gives each member's predictions.
    #[rhai_fn(return_raw)]
    pub fn ensemble(ctx: NativeCallContext, opts: Map, members: INT) -> Out<Network> {
        if members < 1 {
            return Err(Error::invalid(
                "ensemble",
                format!("an ensemble needs at least one member, not {members}"),
            )
            .into());
        }
        let seed = opts.get("seed").cloned();
        let state = session_state(&ctx)?;
        let template = mlp(ctx, opts)?;
        let Architecture::Mlp { config } = template.architecture() else {
            unreachable!("mlp() makes an MLP");
        };
        // mlp() has checked the seed option (an integer >= 0).
        let seed = match seed.and_then(|v| v.as_int().ok()) {
            Some(n) => n as u64,
            None => state.next_stream(),
        };
        Ok(Network::new(
            &Architecture::Ensemble {
                config,
                members: members as usize,
            },
            &state.device(),
            seed,
        )?)
    }

    /// Each member's predictions for every event (an array per member), from the columns the
    /// ensemble was trained on.
    #[rhai_fn(name = "predict_members", pure, return_raw)]
    pub fn predict_members(net: &mut Network, events: EventSet) -> Out<Array> {
        let features = net.features.clone().ok_or_else(|| {
            Error::invalid(
                "predict_members",
                "the ensemble has not been trained on an event set",
            )
        })?;
        let x = event_matrix(&events, &features, net.device())?;
        to_array(&net.predict_members(&x)?)
    }

    /// The number of members of an ensemble (1 for a single network).
    #[rhai_fn(get = "members", pure)]
    pub fn members(net: &mut Network) -> INT {
        net.ensemble().map_or(1, |e| e.members() as INT)
    }

    /// Predictions for every event, from the columns the network was trained on.
    #[rhai_fn(name = "predict", pure, return_raw)]
    pub fn predict_events(net: &mut Network, events: EventSet) -> Out<Array> {
        let features = net.features.clone().ok_or_else(|| Error::invalid("predict", "the network has not been trained on an event set; pass the columns: predict(events, [\"a\", \"b\"])"))?;
        predict_columns(net, events, features.into_iter().map(Into::into).collect())
    }

    /// Predictions for every event from the columns `features` (in input order).
    #[rhai_fn(name = "predict", pure, return_raw)]
    pub fn predict_columns(net: &mut Network, events: EventSet, features: Array) -> Out<Array> {
        let features = crate::script::options::strings("features", &features)?;
        if features.len() != net.inputs() {
            return Err(Error::invalid(
                "features",
                format!(
                    "{} columns for a network with {} inputs",
                    features.len(),
                    net.inputs()
                ),
            )
            .into());
        }
        let x = event_matrix(&events, &features, net.device())?;
        to_array(&net.predict(&x)?)
    }

    /// Predictions for rows of inputs (an array of arrays).
    #[rhai_fn(name = "predict", pure, return_raw)]
    pub fn predict_rows(net: &mut Network, x: Array) -> Out<Array> {
        let x = rows_matrix(&x, net.device())?;
        to_array(&net.predict(&x)?)
    }

    /// The number of trainable parameters.
    #[rhai_fn(get = "parameters", pure)]
    pub fn parameters(net: &mut Network) -> INT {
        net.parameter_count() as INT
    }

    /// The input columns the network reads, or () before it was trained on an event set.
    #[rhai_fn(get = "features", pure)]
    pub fn features(net: &mut Network) -> Dynamic {
        net.features.as_ref().map_or(Dynamic::UNIT, |f| {
            Dynamic::from_array(f.iter().map(|s| s.clone().into()).collect())
        })
    }

    /// Writes the weights to `path` (*.safetensors) and the architecture and input columns
    /// to the .json beside it, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_network(net: &mut Network, path: &str) -> Out<()> {
        Ok(net.save(std::path::Path::new(path))?)
    }

    /// Loads a network saved with `save` onto the session's device.
    #[rhai_fn(return_raw)]
    pub fn load_model(ctx: NativeCallContext, path: &str) -> Out<Network> {
        Ok(Network::load(
            std::path::Path::new(path),
            &session_state(&ctx)?.device(),
        )?)
    }

    /// The training loss of each epoch.
    #[rhai_fn(get = "loss", pure)]
    pub fn history_loss(h: &mut History) -> Array {
        array(&h.epochs.iter().map(|e| e.loss).collect::<Vec<_>>())
    }

    /// The validation loss of each epoch (empty without validation).
    #[rhai_fn(get = "val_loss", pure)]
    pub fn history_val_loss(h: &mut History) -> Array {
        array(
            &h.epochs
                .iter()
                .filter_map(|e| e.val_loss)
                .collect::<Vec<_>>(),
        )
    }

    /// The monitored quantity of each epoch.
    #[rhai_fn(get = "monitored", pure)]
    pub fn history_monitored(h: &mut History) -> Array {
        array(&h.monitored())
    }

    /// The number of epochs run.
    #[rhai_fn(name = "len", pure)]
    pub fn history_len(h: &mut History) -> INT {
        h.epochs.len() as INT
    }

    /// The best epoch (1-based), whose weights the network keeps.
    #[rhai_fn(get = "best_epoch", pure)]
    pub fn history_best_epoch(h: &mut History) -> INT {
        h.best_epoch as INT + 1
    }

    /// Whether early stopping ended the training.
    #[rhai_fn(get = "stopped_early", pure)]
    pub fn history_stopped_early(h: &mut History) -> bool {
        h.stopped_early
    }

    /// The learning rate of each epoch.
    #[rhai_fn(get = "lr", pure)]
    pub fn history_lr(h: &mut History) -> Array {
        array(&h.epochs.iter().map(|e| e.lr).collect::<Vec<FLOAT>>())
    }

    /// Writes the history as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_history(h: &mut History, path: &str) -> Out<()> {
        save_json(h, path)
    }

    /// The per-epoch table.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn history_to_string(h: &mut History) -> String {
        h.to_string()
    }

    /// The architecture, size and device.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn network_to_string(net: &mut Network) -> String {
        net.to_string()
    }
}
