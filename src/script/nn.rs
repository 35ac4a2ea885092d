//! The `nn` domain: networks, training and prediction on event sets, checkpoints, devices.

use rhai::plugin::*;

use super::domain::Domain;
use super::nn_inputs::{
    EventOptions, context_matrix, dataset, ensure_svdd_target, event_matrix, event_options,
    fit_ensemble_events, new_network, remember_columns, required_inputs, rows_matrix,
    sample_context, to_array, trained_inputs, vector,
};
use super::nn_options::{
    FitForm, SvddOptions, fit_options, flow_options, load_model_options, mlp_options,
    sample_options, svdd_options, vae_options,
};

/// The `nn` domain.
pub const DOMAIN: Domain = Domain {
    name: "nn",
    about: "neural networks: MLP classifiers, spline flows (densities, sampling), VAEs and Deep SVDD anomaly detectors, training with validation and early stopping, prediction, checkpoints, devices",
    options: super::nn_options::tables,
    module: || {
        use crate::nn::network::Network;
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

#[export_module]
mod nn_api {
    use rhai::{Array, FLOAT, INT, Map};

    use super::{
        EventOptions, FitForm, SvddOptions, context_matrix, dataset, ensure_svdd_target,
        event_matrix, event_options, fit_ensemble_events, fit_options, flow_options,
        load_model_options, mlp_options, new_network, required_inputs, rows_matrix, sample_context,
        sample_options, svdd_options, to_array, trained_inputs, vae_options, vector,
    };
    use crate::data::EventSet;
    use crate::error::Error;
    use crate::nn::network::{Architecture, Network};
    use crate::nn::train::{Dataset, History, Validation, fit};
    use crate::script::options::floats;
    use crate::script::state::session_state;
    use crate::script::values::{Out, array, save_json};

    /// Selects where the tensor work of the session runs from now on: "cpu" (the default),
    /// "cuda" (the first GPU) or "cuda:N". Said once, it holds for every later network
    /// (`mlp`, `ensemble`, `flow`, `vae`, `deep_svdd`, `load_model`) and every search
    /// (`cwola_hunt`, `sa_cwola`, `salad`, `anode`, `latent_vae`, `deep_set_vae`,
    /// `rare_and_different`); a network keeps the device it was made on. A GPU needs a
    /// bumplab built with the `cuda` feature (`cargo build --release --features cuda`); a
    /// GPU that runs out of memory is an error suggesting a smaller batch.
    #[rhai_fn(name = "device", return_raw)]
    pub fn set_device(ctx: NativeCallContext, name: &str) -> Out<()> {
        session_state(&ctx)?.set_device(crate::nn::device::parse_device(name)?);
        Ok(())
    }

    /// The session's device: "cpu", "cuda" or "cuda:N", as `device(name)` set it.
    #[rhai_fn(name = "device", return_raw)]
    pub fn get_device(ctx: NativeCallContext) -> Out<String> {
        Ok(crate::nn::device::device_name(
            &session_state(&ctx)?.device(),
        ))
    }

    /// A multilayer perceptron, e.g. the CWoLa classifier `mlp(#{ inputs: 4 })`.
    #[rhai_fn(return_raw)]
    pub fn mlp(ctx: NativeCallContext, opts: Map) -> Out<Network> {
        let o = mlp_options("mlp").parse_in(&ctx, opts)?;
        let mut config = o.config;
        config.inputs = required_inputs("mlp", o.inputs)?;
        new_network(&ctx, Architecture::Mlp { config }, o.seed)
    }

    /// A variational autoencoder for anomaly detection in latent space (Bortolato et al. 2021), e.g.
    /// `vae(#{ inputs: 4, latent: 1 })`. Loss per event: recon_weight * recon + beta * KL.
    /// Train it with `fit(events, #{ features: [...], monitor: "val_kl", mode: "max", patience:
    /// 5 })` to stop at the peak of the validation KL; score events with `kl(events)` or
    /// `predict`.
    #[rhai_fn(return_raw)]
    pub fn vae(ctx: NativeCallContext, opts: Map) -> Out<Network> {
        let o = vae_options().parse_in(&ctx, opts)?;
        let mut config = o.config;
        config.inputs = required_inputs("vae", o.inputs)?;
        new_network(&ctx, Architecture::Vae { config }, o.seed)
    }

    /// A Deep SVDD anomaly detector (Caron et al. 2021): a dense network without biases trained to map
    /// every event onto a fixed target point; the distance to it is the anomaly score
    /// (`score(events)` or `predict`).
    #[rhai_fn(return_raw)]
    pub fn deep_svdd(ctx: NativeCallContext, opts: Map) -> Out<Network> {
        let SvddOptions { net: o, target } = svdd_options().parse_in(&ctx, opts)?;
        let mut config = o.config;
        config.inputs = required_inputs("deep_svdd", o.inputs)?;
        let out_dim = config.out_dim;
        let net = new_network(&ctx, Architecture::DeepSvdd { config }, o.seed)?;
        if let (Some(n), Some(svdd)) = (target, net.as_svdd()) {
            svdd.set_target(&vec![n as f32; out_dim])?;
        }
        Ok(net)
    }

    /// The per-event KL divergence of a VAE's latent posterior to the unit Gaussian (its
    /// anomaly score in Bortolato et al. 2021), from the columns it was trained on.
    #[rhai_fn(name = "kl", pure, return_raw)]
    pub fn kl_events(net: &mut Network, events: EventSet) -> Out<Array> {
        net.vae("kl")?;
        let x = trained_inputs(net, &events, "kl")?;
        to_array(&net.kl(&x)?)
    }

    /// A VAE's per-event squared reconstruction error (summed over the inputs, decoded from
    /// the latent means), from the columns it was trained on (and its context columns).
    #[rhai_fn(name = "reconstruction_loss", pure, return_raw)]
    pub fn reconstruction_loss_events(net: &mut Network, events: EventSet) -> Out<Array> {
        net.vae("reconstruction_loss")?;
        let x = trained_inputs(net, &events, "reconstruction_loss")?;
        let context = context_matrix(net, &events)?;
        to_array(&net.reconstruction_loss(&x, context.as_ref())?)
    }

    /// A VAE's latent means, one array of `latent` numbers per event.
    #[rhai_fn(name = "latent", pure, return_raw)]
    pub fn latent_events(net: &mut Network, events: EventSet) -> Out<Array> {
        net.vae("latent")?;
        let x = trained_inputs(net, &events, "latent")?;
        to_array(&net.latent(&x)?)
    }

    /// A Deep SVDD network's anomaly score per event: the distance of its output to the
    /// target, from the columns it was trained on.
    #[rhai_fn(name = "score", pure, return_raw)]
    pub fn score_events(net: &mut Network, events: EventSet) -> Out<Array> {
        net.svdd("score")?;
        let x = trained_inputs(net, &events, "score")?;
        to_array(&net.score(&x)?)
    }

    /// Trains an unsupervised network (VAE, Deep SVDD) on rows of inputs `x` (an array of
    /// arrays), without targets. Options as for `fit(events, opts)` without the data options.
    #[rhai_fn(name = "fit", return_raw)]
    pub fn fit_rows(
        ctx: NativeCallContext,
        net: &mut Network,
        x: Array,
        opts: Map,
    ) -> Out<History> {
        if net.trainable().needs_targets() || net.context_inputs() > 0 {
            return Err(Error::invalid(
                "fit",
                format!(
                    "{} needs targets or context columns: use fit(x, y, opts) or fit(events, opts)",
                    net.kind_name()
                ),
            )
            .into());
        }
        let data = Dataset {
            x: rows_matrix(&x, net.device())?,
            y: None,
            weights: None,
            context: None,
        };
        ensure_svdd_target(net, &data.x)?;
        let options = fit_options(FitForm::Rows).parse_in(&ctx, opts)?.train;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(fit(net.trainable(), &data, &options, Some(&interrupt))?)
    }

    /// Trains the network on an event set: the data options (marked fit(events, opts) below)
    /// say which columns are inputs, context, target and weights; after a first fit the
    /// network remembers its input and context columns. A Deep SVDD network without a target
    /// gets the mean output over these training events as its target. Returns the history;
    /// Ctrl-C stops between batches and keeps the best weights. An ensemble's members stop
    /// early one by one, and it returns an array of their histories.
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
        let o = fit_options(FitForm::Events).parse_in(&ctx, opts)?;
        let eo: EventOptions = event_options(net, &events, &o)?;
        let device = net.device().clone();
        let data = dataset(&events, &eo, &device)?;
        let mut options = o.train;
        if let Some(v) = &eo.validation {
            options.validation = Validation::Data(dataset(v, &eo, &device)?);
        }
        ensure_svdd_target(net, &data.x)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        let outcome = fit(net.trainable(), &data, &options, Some(&interrupt));
        Ok(Dynamic::from(remember_columns(net, eo, outcome)?))
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
        ensure_svdd_target(net, &data.x)?;
        let options = fit_options(FitForm::Rows).parse_in(&ctx, opts)?.train;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        Ok(fit(net.trainable(), &data, &options, Some(&interrupt))?)
    }

    /// A density model: a masked autoregressive flow with rational-quadratic spline
    /// transforms (Neural Spline Flows), conditional on `context` inputs if > 0 (ANODE's
    /// p(x | mjj)). Train it with `fit(events, #{ features: [...], context: [...] })`, then
    /// `log_prob(events)` and `sample(n, #{ context })`.
    #[rhai_fn(return_raw)]
    pub fn flow(ctx: NativeCallContext, opts: Map) -> Out<Network> {
        let o = flow_options().parse_in(&ctx, opts)?;
        let mut config = o.config;
        config.inputs = required_inputs("flow", o.inputs)?;
        new_network(&ctx, Architecture::Flow { config }, o.seed)
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
        let seeded = opts.contains_key("seed");
        let o = mlp_options("ensemble").parse_in(&ctx, opts)?;
        let mut config = o.config;
        config.inputs = required_inputs("ensemble", o.inputs)?;
        // Without a seed, the stream drawn by the parse once seeded a template MLP that was
        // thrown away; the ensemble takes the next one, as it always has, so that a script's
        // results under `seed(n)` stay the same.
        let seed = if seeded {
            o.seed
        } else {
            session_state(&ctx)?.next_stream()
        };
        let architecture = Architecture::Ensemble {
            config,
            members: members as usize,
        };
        new_network(&ctx, architecture, seed)
    }

    /// The log density ln p(x | context) of every event under a trained flow, from the
    /// feature (and context) columns it was trained on.
    #[rhai_fn(name = "log_prob", pure, return_raw)]
    pub fn log_prob_events(net: &mut Network, events: EventSet) -> Out<Array> {
        let x = trained_inputs(net, &events, "log_prob")?;
        let context = context_matrix(net, &events)?;
        to_array(&net.log_prob(&x, context.as_ref())?)
    }

    /// `n` events drawn from an unconditional flow, as an event set with the flow's feature
    /// columns (x0, x1, ... before it was trained on events); the seed comes from the session.
    #[rhai_fn(name = "sample", pure, return_raw)]
    pub fn sample_plain(ctx: NativeCallContext, net: &mut Network, n: INT) -> Out<EventSet> {
        sample_with(ctx, net, n, Map::new())
    }

    /// `n` events drawn from a flow, as an event set with the flow's feature columns.
    #[rhai_fn(name = "sample", pure, return_raw)]
    pub fn sample_with(
        ctx: NativeCallContext,
        net: &mut Network,
        n: INT,
        opts: Map,
    ) -> Out<EventSet> {
        let o = sample_options().parse_in(&ctx, opts)?;
        let n = usize::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| {
            Error::invalid("sample", format!("ask for at least one event, not {n}"))
        })?;
        let c = net.context_inputs();
        // The samples pass through f32 tensors, their transposes and f64 columns.
        crate::memory::check(
            &format!("{n} samples of {} columns", net.inputs() + c),
            n as f64 * (net.inputs() + c) as f64 * 32.0,
        )?;
        let context = match (o.context, c) {
            (None, 0) => None,
            (Some(_), 0) => {
                return Err(Error::invalid(
                    "option 'context' of sample",
                    "this flow is unconditional; it takes no context",
                )
                .into());
            }
            (None, _) => {
                return Err(Error::invalid(
                    "option 'context' of sample",
                    format!("this flow is conditional; give its {c} context value(s)"),
                )
                .into());
            }
            (Some(v), _) => Some(sample_context(v, n, c, net.device())?),
        };
        let interrupt = session_state(&ctx)?.interrupt.clone();
        let x = net.sample(n, context.as_ref(), o.seed, Some(&interrupt))?;
        let names = net
            .features
            .clone()
            .unwrap_or_else(|| (0..net.inputs()).map(|i| format!("x{i}")).collect());
        let to_columns = |t: &candle_core::Tensor| -> Out<Vec<Vec<f32>>> {
            Ok(t.to_device(&candle_core::Device::Cpu)
                .and_then(|t| t.to_dtype(candle_core::DType::F32))
                .and_then(|t| t.t())
                .and_then(|t| t.to_vec2())
                .map_err(Error::from)?)
        };
        let mut columns: Vec<(String, Vec<f64>)> = names
            .into_iter()
            .zip(to_columns(&x)?)
            .map(|(name, v)| (name, v.into_iter().map(f64::from).collect()))
            .collect();
        if let (Some(context), Some(context_names)) = (&context, &net.context) {
            let context = context
                .broadcast_as((n, c))
                .and_then(|t| t.contiguous())
                .map_err(Error::from)?;
            for (name, v) in context_names.iter().zip(to_columns(&context)?) {
                if !columns.iter().any(|(n, _)| n == name) {
                    columns.push((name.clone(), v.into_iter().map(f64::from).collect()));
                }
            }
        }
        Ok(EventSet::from_columns(columns)?)
    }

    /// The conditioning columns of a conditional flow, or () before it was trained on events.
    #[rhai_fn(get = "context", pure)]
    pub fn context_columns(net: &mut Network) -> Dynamic {
        net.context.as_ref().map_or(Dynamic::UNIT, |f| {
            Dynamic::from_array(f.iter().map(|s| s.clone().into()).collect())
        })
    }

    /// Each member's predictions for every event (an array per member), from the columns the
    /// ensemble was trained on.
    #[rhai_fn(name = "predict_members", pure, return_raw)]
    pub fn predict_members(net: &mut Network, events: EventSet) -> Out<Array> {
        let x = trained_inputs(net, &events, "predict_members")?;
        to_array(&net.predict_members(&x)?)
    }

    /// The number of members of an ensemble (1 for a single network).
    #[rhai_fn(get = "members", pure)]
    pub fn members(net: &mut Network) -> INT {
        net.ensemble().map_or(1, |e| e.members() as INT)
    }

    /// Predictions for every event, from the columns the network was trained on: an MLP's
    /// outputs (an ensemble's: the members' average), a VAE's total loss per event (its
    /// anomaly score), a Deep SVDD network's distance to its target.
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
        let context = context_matrix(net, &events)?;
        to_array(&net.predict_with(&x, context.as_ref())?)
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

    /// Writes the network to `path` (*.safetensors) in one atomic write: the weights with the
    /// architecture and input columns in the file's metadata (a readable copy of the latter
    /// goes to the .json beside it).
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_network(net: &mut Network, path: &str) -> Out<()> {
        Ok(net.save(std::path::Path::new(path))?)
    }

    /// Loads a network saved with `save` (by this or an earlier bumplab) onto the session's
    /// device, or a PyTorch MLP's `state_dict` saved as safetensors
    /// (`safetensors.torch.save_file(model.state_dict(), path)`), read as a ReLU network
    /// with a sigmoid output (see `load_model(path, options)` for the key mapping and other
    /// activations).
    #[rhai_fn(return_raw)]
    pub fn load_model(ctx: NativeCallContext, path: &str) -> Out<Network> {
        Ok(Network::load(
            std::path::Path::new(path),
            &session_state(&ctx)?.device(),
        )?)
    }

    /// Loads a PyTorch MLP's `state_dict` saved as safetensors, e.g.
    /// `load_model("torch.safetensors", #{ activation: "tanh", output: "linear" })`. Every
    /// key must be `{prefix}{i}.weight` ([outputs, inputs]) or `{prefix}{i}.bias` of linear
    /// layer `i`, one prefix for all: `0.weight`, `0.bias`, `2.weight`, … of an
    /// `nn.Sequential(Linear, ReLU, Linear, …)`, or `net.0.weight`, `layers.0.weight`,
    /// `fc1.weight`, bumplab's `layer0.weight`. Layers are taken in index order and their
    /// shapes give the inputs, hidden widths and outputs; anything else (no bias, batch
    /// norm) is an error naming the key. The options say what a state_dict does not. A
    /// bumplab checkpoint takes no options (an empty map is fine).
    #[rhai_fn(name = "load_model", return_raw)]
    pub fn load_model_with(ctx: NativeCallContext, path: &str, opts: Map) -> Out<Network> {
        if opts.is_empty() {
            return load_model(ctx, path);
        }
        let options = load_model_options().parse_in(&ctx, opts)?;
        Ok(Network::load_with(
            std::path::Path::new(path),
            &session_state(&ctx)?.device(),
            Some(&options),
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

    /// The device the network lives on ("cpu", "cuda", "cuda:N"): the session's device
    /// when it was made or loaded.
    #[rhai_fn(get = "device", pure)]
    pub fn network_device(net: &mut Network) -> String {
        crate::nn::device::device_name(net.device())
    }

    /// The architecture, size and device.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn network_to_string(net: &mut Network) -> String {
        net.to_string()
    }
}
