//! How the `nn` built-ins read their inputs: event sets and arrays as tensors, the data
//! options of `fit` (features, target, weights, validation, context) resolved for a network
//! and their checks, and the networks they make. The options themselves are declared in
//! `nn_options.rs`.

use candle_core::{Device, Tensor};
use rhai::{Array, Dynamic, Map, NativeCallContext};

use super::nn_options::{FitForm, FitOptions, Weights, fit_options};
use super::options::floats;
use super::values::Out;
use crate::data::{EventSet, Role};
use crate::error::Error;
use crate::nn::layers::matrix;
use crate::nn::network::{Architecture, Network};
use crate::nn::train::Dataset;

/// The inputs [events, features] of `events` for the columns `features`.
pub(super) fn event_matrix(events: &EventSet, features: &[String], device: &Device) -> Out<Tensor> {
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
pub(super) fn vector(values: &[f64], device: &Device) -> Out<Tensor> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Ok(Tensor::from_vec(v, values.len(), device).map_err(Error::from)?)
}

/// Rows of numbers (an array of arrays) as a matrix.
pub(super) fn rows_matrix(rows: &Array, device: &Device) -> Out<Tensor> {
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

/// The event-set part of `fit`'s options: features, target, weights, context columns and
/// validation events.
pub(super) struct EventOptions {
    pub(super) features: Vec<String>,
    pub(super) target: Option<String>,
    pub(super) weights: Option<String>,
    pub(super) context: Option<Vec<String>>,
    pub(super) validation: Option<EventSet>,
}

/// The context columns of `net` (a flow's conditioning inputs, a conditional VAE decoder's
/// extra inputs): `given` if the caller named them, else those remembered from training;
/// checked against the network.
pub(super) fn context_columns(
    net: &Network,
    given: Option<Vec<String>>,
) -> Out<Option<Vec<String>>> {
    let columns = given.or_else(|| net.context.clone());
    let want = net.context_inputs();
    match &columns {
        Some(_) if want == 0 => Err(Error::invalid(
            "option 'context'",
            format!("{} takes no context columns", net.kind_name()),
        )
        .into()),
        None if want > 0 => Err(Error::invalid(
            "option 'context'",
            format!(
                "{} reads {want} context inputs: name their columns, e.g. #{{ context: [\"mjj\"] }}",
                net.kind_name()
            ),
        )
        .into()),
        Some(c) if c.len() != want => Err(Error::invalid(
            "option 'context'",
            format!(
                "{} context columns for a network that reads {want}",
                c.len()
            ),
        )
        .into()),
        _ => Ok(columns),
    }
}

/// The context tensor [events, c] of `events` for `net`, if it reads one.
pub(super) fn context_matrix(net: &Network, events: &EventSet) -> Out<Option<Tensor>> {
    context_columns(net, None)?
        .map(|c| event_matrix(events, &c, net.device()))
        .transpose()
}

/// The inputs of `events` for `net`, from the columns it was trained on (for `what`).
pub(super) fn trained_inputs(net: &Network, events: &EventSet, what: &str) -> Out<Tensor> {
    let features = net.features.clone().ok_or_else(|| {
        Error::invalid(
            what,
            "the network has not been trained on an event set, so it does not know its input columns",
        )
    })?;
    event_matrix(events, &features, net.device())
}

/// Sets a Deep SVDD network's target from its training inputs `x` if it has none yet.
pub(super) fn ensure_svdd_target(net: &Network, x: &Tensor) -> Out<()> {
    if let Some(svdd) = net.as_svdd()
        && svdd.target()?.is_none()
    {
        svdd.set_target_from(x)?;
    }
    Ok(())
}

/// The event-set options of `fit` resolved for `net` and `events`: the columns remembered
/// from an earlier fit, the label and weight roles, where `o` leaves them out.
pub(super) fn event_options(net: &Network, events: &EventSet, o: &FitOptions) -> Out<EventOptions> {
    let features = match &o.features {
        Some(f) => f.clone(),
        None => net.features.clone().ok_or_else(|| {
            Error::invalid(
                "option 'features' of fit",
                "name the input columns, e.g. #{ features: [\"mj1\", \"dmj\"] }",
            )
        })?,
    };
    if features.len() != net.inputs() {
        return Err(Error::invalid(
            "option 'features' of fit",
            format!(
                "{} columns for a network with {} inputs",
                features.len(),
                net.inputs()
            ),
        )
        .into());
    }
    let target = match &o.target {
        Some(t) => Some(t.clone()),
        // Density models (flows) train without targets: the label role is not read.
        None if !net.trainable().needs_targets() => None,
        None => events.role_column(Role::Label).map(str::to_string),
    };
    let weights = match &o.weights {
        Weights::RoleIfSet => events.role_column(Role::Weight).map(str::to_string),
        Weights::Role => Some(
            events
                .role_column(Role::Weight)
                .ok_or_else(|| {
                    Error::invalid(
                        "option 'weights' of fit",
                        "the event set has no weight role",
                    )
                })?
                .to_string(),
        ),
        Weights::Unweighted => None,
        Weights::Column(c) => Some(c.clone()),
    };
    let context = context_columns(net, o.context.clone())?;
    Ok(EventOptions {
        features,
        target,
        weights,
        context,
        validation: o.validation_events.clone().map(|v| v.0),
    })
}

/// The tensors of `events` for training.
pub(super) fn dataset(events: &EventSet, o: &EventOptions, device: &Device) -> Out<Dataset> {
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
    let context = o
        .context
        .as_ref()
        .map(|c| event_matrix(events, c, device))
        .transpose()?;
    Ok(Dataset {
        x,
        y,
        weights,
        context,
    })
}

/// The context [1, c] or [n, c] for sampling `n` events from a flow with `c` context inputs:
/// a number (c = 1), an array of c numbers (shared by every event), or an array of n arrays
/// of c numbers (one per event).
pub(super) fn sample_context(value: Dynamic, n: usize, c: usize, device: &Device) -> Out<Tensor> {
    let bad = || {
        Error::invalid(
            "option 'context' of sample",
            format!(
                "give a number (one context value), an array of {c} numbers, or {n} arrays of {c} numbers"
            ),
        )
    };
    if let Ok(x) = value
        .as_float()
        .or_else(|_| value.as_int().map(|i| i as f64))
    {
        if c != 1 {
            return Err(bad().into());
        }
        return Ok(matrix(vec![x as f32], 1, device)?);
    }
    let a = value.into_array().map_err(|_| bad())?;
    if a.first().is_some_and(|v| v.is_array()) {
        let t = rows_matrix(&a, device)?;
        if t.dims() != [n, c] {
            return Err(bad().into());
        }
        return Ok(t);
    }
    let v = floats("context", &a)?;
    if v.len() != c {
        return Err(bad().into());
    }
    Ok(matrix(v.iter().map(|&x| x as f32).collect(), c, device)?)
}

/// A prediction tensor as a Rhai array (one number per event, or one array per event).
pub(super) fn to_array(t: &candle_core::Tensor) -> Out<Array> {
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
pub(super) fn fit_ensemble_events(
    ctx: &NativeCallContext,
    net: &mut Network,
    events: EventSet,
    opts: Map,
) -> Out<Dynamic> {
    use crate::nn::ensemble::{MemberData, fit_ensemble};
    let o = fit_options(FitForm::Ensemble).parse_in(ctx, opts)?;
    let eo = event_options(net, &events, &o)?;
    if eo.validation.is_some() {
        return Err(Error::invalid(
            "option 'validation' of fit",
            "an ensemble validates each member on its own events: use `folds: k` or a hold-out fraction",
        )
        .into());
    }
    let device = net.device().clone();
    let data = dataset(&events, &eo, &device)?;
    let options = o.train;
    let Some(ensemble) = net.ensemble() else {
        return Err(Error::invalid("fit", "this network is not an ensemble").into());
    };
    let k = ensemble.members();
    let members = match o.folds {
        None => MemberData::all(data.len(), k),
        Some(f) => {
            if f != k {
                return Err(Error::invalid(
                    "option 'folds' of fit",
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
    let outcome = fit_ensemble(ensemble, &data, &members, &options, Some(&interrupt));
    let histories = remember_columns(net, eo, outcome)?;
    Ok(Dynamic::from_array(
        histories.into_iter().map(Dynamic::from).collect(),
    ))
}

/// The outcome of training `net` on the columns of `eo`, having recorded those columns as
/// the network's inputs whenever its weights now come from that training: after success, and
/// after Ctrl-C (the best weights so far are kept, so `predict` must read these columns).
pub(super) fn remember_columns<T>(
    net: &mut Network,
    eo: EventOptions,
    outcome: crate::Result<T>,
) -> Out<T> {
    if matches!(outcome, Ok(_) | Err(Error::Interrupted)) {
        net.features = Some(eo.features);
        net.context = eo.context;
    }
    Ok(outcome?)
}

/// The required `inputs` option of the constructor `function`, given as `inputs`.
pub(super) fn required_inputs(function: &str, inputs: Option<usize>) -> Out<usize> {
    inputs.ok_or_else(|| {
        Error::invalid(
            format!("option 'inputs' of {function}"),
            "give the number of input features, e.g. #{ inputs: 4 }",
        )
        .into()
    })
}

/// A new network of `architecture` on the session's device, its weights drawn from `seed`.
pub(super) fn new_network(
    ctx: &NativeCallContext,
    architecture: Architecture,
    seed: u64,
) -> Out<Network> {
    let state = super::state::session_state(ctx)?;
    Ok(Network::new(&architecture, &state.device(), seed)?)
}
