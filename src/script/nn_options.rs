//! The declared options of the `nn` built-ins (see `declared.rs`): the network constructors'
//! shapes, `fit`'s data and training options, `sample`'s and `load_model`'s. Each table is
//! also what `help` shows for the built-in.

use std::fmt::Debug;

use rhai::Dynamic;

use super::declared::{Choice, Declared, Opt};
use super::domain::OptionTable;
use super::options::{Options, number_pair};
use crate::data::EventSet;
use crate::error::Error;
use crate::nn::flow::FlowConfig;
use crate::nn::mlp::{MlpConfig, Output};
use crate::nn::svdd::SvddConfig;
use crate::nn::torch::StateDictOptions;
use crate::nn::train::{Goal, TrainOptions, Validation};
use crate::nn::vae::VaeConfig;

/// The tables of the `nn` domain's built-ins.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![
        Box::new(mlp_options("mlp")),
        Box::new(mlp_options("ensemble")),
        Box::new(vae_options()),
        Box::new(svdd_options()),
        Box::new(flow_options()),
        Box::new(fit_options(FitForm::Ensemble)),
        Box::new(sample_options()),
        Box::new(load_model_options()),
    ]
}

impl Choice for Output {
    fn names() -> Vec<&'static str> {
        vec!["sigmoid", "linear"]
    }
    fn name(&self) -> &'static str {
        match self {
            Output::Sigmoid => "sigmoid",
            Output::Linear => "linear",
        }
    }
    fn parse(name: &str) -> crate::Result<Self> {
        Output::parse(name)
    }
}

/// A network constructor's options: the shape `C`, the required number of inputs and the
/// seed of the weights.
#[derive(Clone, Debug)]
pub(super) struct NetOptions<C> {
    /// The number of inputs, which must be given.
    pub(super) inputs: Option<usize>,
    /// The shape, its inputs not set.
    pub(super) config: C,
    /// The seed of the weights.
    pub(super) seed: u64,
}

impl<C> NetOptions<C> {
    /// The defaults of the shape `config` (its inputs not given yet).
    fn of(config: C) -> Self {
        Self {
            inputs: None,
            config,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

/// The options of the constructor `function`: `inputs`, those of the shape and `seed`.
fn net_options<C: Clone + Debug + 'static>(
    function: &'static str,
    defaults: fn() -> NetOptions<C>,
    shape: Vec<Opt<NetOptions<C>>>,
) -> Declared<NetOptions<C>> {
    let inputs = Opt::field(
        "inputs",
        "the number of input features; required",
        |o: &mut NetOptions<C>| &mut o.inputs,
    );
    let seed = Opt::session_seed(|o: &mut NetOptions<C>| &mut o.seed);
    Declared::new(
        function,
        defaults,
        std::iter::once(inputs).chain(shape).chain([seed]).collect(),
    )
}

/// The declared options of `mlp`, or of `ensemble` (its members' shape).
pub(super) fn mlp_options(function: &'static str) -> Declared<NetOptions<MlpConfig>> {
    net_options(
        function,
        || NetOptions::of(MlpConfig::new(0)),
        vec![
            Opt::widths("hidden", "hidden layer widths", |o| &mut o.config.hidden),
            Opt::choice("activation", "activation after each hidden layer", |o| {
                &mut o.config.activation
            }),
            Opt::field(
                "dropout",
                "dropout probability after each hidden activation",
                |o| &mut o.config.dropout,
            ),
            Opt::field("outputs", "output units", |o| &mut o.config.outputs),
            Opt::choice(
                "output",
                "\"sigmoid\": a probability trained with cross-entropy; \"linear\": a value trained with the squared error",
                |o| &mut o.config.output,
            ),
        ],
    )
}

/// The declared options of `vae`.
pub(super) fn vae_options() -> Declared<NetOptions<VaeConfig>> {
    net_options(
        "vae",
        || NetOptions::of(VaeConfig::new(0)),
        vec![
            Opt::field("latent", "latent dimensions", |o| &mut o.config.latent),
            Opt::widths("hidden", "encoder widths; the decoder mirrors them", |o| {
                &mut o.config.hidden
            }),
            Opt::choice("activation", "activation after every hidden layer", |o| {
                &mut o.config.activation
            }),
            Opt::field("beta", "weight of the KL term", |o| &mut o.config.beta),
            Opt::field(
                "recon_weight",
                "weight of the squared reconstruction error (Bortolato et al. 2021 use 5000)",
                |o| &mut o.config.recon_weight,
            ),
            Opt::field(
                "conditional_decoder_inputs",
                "extra decoder inputs; name their columns with fit's context option",
                |o| &mut o.config.conditional_decoder_inputs,
            ),
        ],
    )
}

/// The options of `deep_svdd`: a network's and its target.
#[derive(Clone, Debug)]
pub(super) struct SvddOptions {
    /// The shape and seed.
    pub(super) net: NetOptions<SvddConfig>,
    /// Every coordinate of the target; `None`: set from the first training data.
    pub(super) target: Option<f64>,
}

/// The declared options of `deep_svdd`.
pub(super) fn svdd_options() -> Declared<SvddOptions> {
    let net = net_options(
        "deep_svdd",
        || NetOptions::of(SvddConfig::new(0)),
        vec![
            Opt::widths(
                "hidden",
                "hidden layer widths",
                |o: &mut NetOptions<SvddConfig>| &mut o.config.hidden,
            ),
            Opt::choice("activation", "activation after each hidden layer", |o| {
                &mut o.config.activation
            }),
            Opt::field("out_dim", "output dimensions", |o| &mut o.config.out_dim),
        ],
    );
    let mut opts: Vec<Opt<SvddOptions>> = net
        .into_opts()
        .into_iter()
        .map(|o| o.lift(|s: &mut SvddOptions| &mut s.net))
        .collect();
    // `target` before `seed`, as the options were always listed.
    let seed = opts.pop();
    opts.push(Opt::field(
        "target",
        "a number n: the target is (n, ..., n); when absent, the mean output of the untrained network over the first training data, set by fit",
        |s: &mut SvddOptions| &mut s.target,
    ));
    opts.extend(seed);
    Declared::new(
        "deep_svdd",
        || SvddOptions {
            net: NetOptions::of(SvddConfig::new(0)),
            target: None,
        },
        opts,
    )
}

/// The declared options of `flow`.
pub(super) fn flow_options() -> Declared<NetOptions<FlowConfig>> {
    net_options(
        "flow",
        || NetOptions::of(FlowConfig::new(0, 0)),
        vec![
            Opt::field(
                "context",
                "conditioning inputs; 0: an unconditional density",
                |o| &mut o.config.context,
            ),
            Opt::field("layers", "autoregressive transforms", |o| {
                &mut o.config.layers
            }),
            Opt::field(
                "hidden",
                "units in each of the two hidden layers of every MADE",
                |o| &mut o.config.hidden,
            ),
            Opt::field("knots", "spline bins per dimension", |o| {
                &mut o.config.knots
            }),
            Opt::field(
                "bound",
                "the splines act on [-bound, bound] and are the identity outside, so standardise the inputs",
                |o| &mut o.config.bound,
            ),
            Opt::choice("activation", "activation of the hidden units", |o| {
                &mut o.config.activation
            }),
        ],
    )
}

/// The options of `sample`: the context as given and the seed.
#[derive(Clone, Debug, Default)]
pub(super) struct SampleOptions {
    /// The context as the script gave it, read once the flow and `n` are known.
    pub(super) context: Option<Dynamic>,
    /// The seed of the draws.
    pub(super) seed: u64,
}

/// The declared options of `sample`.
pub(super) fn sample_options() -> Declared<SampleOptions> {
    Declared::new(
        "sample",
        SampleOptions::default,
        vec![
            Opt::custom(
                "context",
                "number or array",
                "a conditional flow's context: a number, an array with one value per context column, or an array of n such arrays; the context columns are added to the result",
                |_: &SampleOptions| Dynamic::UNIT,
                |s, o| {
                    s.context = o.value("context").cloned();
                    Ok(())
                },
            ),
            Opt::session_seed(|s| &mut s.seed),
        ],
    )
}

/// The declared options of `load_model` for a PyTorch `state_dict`.
pub(super) fn load_model_options() -> Declared<StateDictOptions> {
    Declared::new(
        "load_model",
        StateDictOptions::default,
        vec![
            Opt::choice(
                "activation",
                "activation between layers",
                |o: &mut StateDictOptions| &mut o.activation,
            ),
            Opt::choice(
                "output",
                "\"sigmoid\": the last layer gives logits, predictions are probabilities; \"linear\"",
                |o| &mut o.output,
            ),
            Opt::custom(
                "features",
                "strings",
                "the input columns, so that predict(events) works; none when absent",
                |_: &StateDictOptions| Dynamic::UNIT,
                |s, o| {
                    s.features = Some(column_names(o, "features")?);
                    Ok(())
                },
            ),
        ],
    )
}

/// How `fit` weights the events (option `weights`).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Weights {
    /// The weight role's column, if the event set has one (the option left out).
    RoleIfSet,
    /// The weight role's column, which the event set must have (`true`).
    Role,
    /// Every event weighs 1 (`false`).
    Unweighted,
    /// This column.
    Column(String),
}

/// Validation events given to `fit` as its `validation` option.
#[derive(Clone)]
pub(super) struct HeldOut(pub(super) EventSet);

impl std::fmt::Debug for HeldOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HeldOut({} events)", self.0.len())
    }
}

/// The options of `fit`: its data options (for an event set), an ensemble's folds and the
/// training options.
#[derive(Clone, Debug)]
pub(super) struct FitOptions {
    /// The input columns; those of the network's last fit when `None`.
    pub(super) features: Option<Vec<String>>,
    /// The context columns; those of the network's last fit when `None`.
    pub(super) context: Option<Vec<String>>,
    /// The target column; the label role (if the network needs targets) when `None`.
    pub(super) target: Option<String>,
    /// The weights.
    pub(super) weights: Weights,
    /// Validation events; otherwise `train.validation` says.
    pub(super) validation_events: Option<HeldOut>,
    /// An ensemble's folds (as many as its members); `None`: every member trains on all.
    pub(super) folds: Option<usize>,
    /// The training options, validation by fraction or none.
    pub(super) train: TrainOptions,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            features: None,
            context: None,
            target: None,
            weights: Weights::RoleIfSet,
            validation_events: None,
            folds: None,
            train: TrainOptions::default(),
        }
    }
}

/// Which `fit` reads the options: they differ in the keys they accept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FitForm {
    /// `fit(x, opts)`, `fit(x, y, opts)`: the training options only.
    Rows,
    /// `fit(events, opts)` of one network: the data options too.
    Events,
    /// `fit(events, opts)` of an ensemble: the data options and `folds`.
    Ensemble,
}

impl Choice for Goal {
    fn names() -> Vec<&'static str> {
        vec!["min", "max"]
    }
    fn name(&self) -> &'static str {
        match self {
            Goal::Minimise => "min",
            Goal::Maximise => "max",
        }
    }
    fn parse(name: &str) -> crate::Result<Self> {
        match name {
            "min" => Ok(Goal::Minimise),
            "max" => Ok(Goal::Maximise),
            other => Err(Error::invalid(
                "mode",
                format!("'{other}': use \"min\" or \"max\""),
            )),
        }
    }
}

/// The column names given as option `key` of `fit` or `load_model`.
pub(super) fn column_names(o: &Options, key: &str) -> crate::Result<Vec<String>> {
    match o.value(key) {
        Some(v) if !v.is_array() => Err(o.invalid(
            key,
            format!("must be an array of column names, not {}", v.type_name()),
        )),
        _ => o.strings(key),
    }
}

/// The two numbers given as option `key` of `fit`, written `shape` in its errors.
fn epoch_pair(o: &Options, key: &str, shape: &str) -> crate::Result<(f64, f64)> {
    let value = o.value(key).cloned().unwrap_or_default();
    number_pair(&format!("option '{key}' of fit"), value, shape)
}

/// The declared options of `fit` in its `form`; the ensemble's are all of them, the table
/// `help("fit")` shows.
pub(super) fn fit_options(form: FitForm) -> Declared<FitOptions> {
    let data = vec![
        Opt::custom(
            "features",
            "strings",
            "fit(events, opts): the input columns; when absent, those of the network's last fit on events",
            |_: &FitOptions| Dynamic::UNIT,
            |o, opts| {
                o.features = Some(column_names(opts, "features")?);
                Ok(())
            },
        ),
        Opt::custom(
            "context",
            "strings",
            "fit(events, opts): the columns a conditional flow or a conditional VAE decoder reads, e.g. [\"mjj\"]; when absent, those of the network's last fit on events",
            |_: &FitOptions| Dynamic::UNIT,
            |o, opts| {
                o.context = Some(column_names(opts, "context")?);
                Ok(())
            },
        ),
        Opt::custom(
            "target",
            "string",
            "fit(events, opts): the target column; when absent, the label role (flows, VAEs and Deep SVDD need none)",
            |_: &FitOptions| Dynamic::UNIT,
            |o, opts| {
                let v = opts.value("target").cloned().unwrap_or_default();
                o.target = Some(v.into_string().map_err(|t| {
                    opts.invalid("target", format!("must be a column name, not {t}"))
                })?);
                Ok(())
            },
        ),
        Opt::custom(
            "weights",
            "string or flag",
            "fit(events, opts): the weight column, true for the weight role, false for none; when absent, the weight role if the event set has one",
            |_: &FitOptions| Dynamic::UNIT,
            |o, opts| {
                let v = opts.value("weights").cloned().unwrap_or_default();
                o.weights = match v.as_bool() {
                    Ok(true) => Weights::Role,
                    Ok(false) => Weights::Unweighted,
                    Err(_) => Weights::Column(v.into_string().map_err(|t| {
                        opts.invalid(
                            "weights",
                            format!("must be a column name or true/false, not {t}"),
                        )
                    })?),
                };
                Ok(())
            },
        ),
    ];
    let folds = Opt::field(
        "folds",
        "an ensemble's fit(events, opts): k = its members; member i validates on fold i and trains on the others; when absent, every member trains on all events with its own hold-out",
        |o: &mut FitOptions| &mut o.folds,
    );
    let events = form != FitForm::Rows;
    let training = vec![
        Opt::field(
            "epochs",
            "passes over the training data",
            |o: &mut FitOptions| &mut o.train.epochs,
        ),
        Opt::field("batch_size", "events per gradient step", |o| {
            &mut o.train.batch_size
        }),
        Opt::field("lr", "learning rate", |o| &mut o.train.lr),
        Opt::choice("optimizer", "the update rule", |o| &mut o.train.optimizer),
        Opt::custom(
            "validation",
            if events {
                "fraction, () or event set"
            } else {
                "fraction or ()"
            },
            "the fraction of the events held out for validation, 0 or () for none; fit(events, opts) of one network also takes validation events",
            |o: &FitOptions| match o.train.validation {
                Validation::Fraction(f) => Dynamic::from_float(f),
                _ => Dynamic::UNIT,
            },
            move |o, opts| {
                match opts.value("validation") {
                    Some(v) if events && v.is::<EventSet>() => {
                        o.validation_events = Some(HeldOut(v.clone().cast::<EventSet>()));
                    }
                    Some(v) if v.is_unit() => o.train.validation = Validation::None,
                    _ => {
                        let f = opts.float("validation", 0.0)?;
                        o.train.validation = if f == 0.0 {
                            Validation::None
                        } else {
                            Validation::Fraction(f)
                        };
                    }
                }
                Ok(())
            },
        ),
        Opt::field(
            "patience",
            "epochs without improvement of the monitor before training stops; never when absent",
            |o| &mut o.train.patience,
        ),
        Opt::custom(
            "stop_at_peak",
            "[rise, fall]",
            "stop once the monitor improved rise epochs in a row and then worsened fall in a row, e.g. [5, 5] with monitor \"val_kl\" and mode \"max\" for the KL peak of Bortolato et al. 2021; never when absent",
            |_: &FitOptions| Dynamic::UNIT,
            |o, opts| {
                o.train.stop_at_peak = match epoch_pair(opts, "stop_at_peak", "[rise, fall]")? {
                    (rise, fall) if rise >= 1.0 && fall >= 1.0 => {
                        Some((rise as usize, fall as usize))
                    }
                    _ => {
                        return Err(opts
                            .invalid("stop_at_peak", "give [rise, fall], both at least 1 epoch"));
                    }
                };
                Ok(())
            },
        ),
        Opt::field(
            "monitor",
            "what early stopping, restore_best and reduce_lr watch: \"val_loss\" (\"loss\" without validation), or a model metric such as \"val_kl\"",
            |o| &mut o.train.monitor,
        ),
        Opt::choice(
            "mode",
            "whether the monitor should fall (\"min\") or rise (\"max\")",
            |o| &mut o.train.goal,
        ),
        Opt::custom(
            "reduce_lr",
            "[factor, patience]",
            "multiply the learning rate by factor after patience epochs without improvement of the monitor; constant when absent",
            |_: &FitOptions| Dynamic::UNIT,
            |o, opts| {
                o.train.reduce_lr = match epoch_pair(opts, "reduce_lr", "[factor, patience]")? {
                    (factor, patience) if factor > 0.0 && factor < 1.0 && patience >= 1.0 => {
                        Some((factor, patience as usize))
                    }
                    _ => {
                        return Err(opts.invalid(
                            "reduce_lr",
                            "give [factor in (0, 1), patience >= 1 epochs]",
                        ));
                    }
                };
                Ok(())
            },
        ),
        Opt::field(
            "restore_best",
            "keep the weights of the best epoch at the end",
            |o| &mut o.train.restore_best,
        ),
        Opt::session_seed(|o| &mut o.train.seed),
    ];
    let opts = match form {
        FitForm::Rows => training,
        FitForm::Events => data.into_iter().chain(training).collect(),
        FitForm::Ensemble => data.into_iter().chain([folds]).chain(training).collect(),
    };
    Declared::new("fit", FitOptions::default, opts)
}

#[cfg(test)]
mod tests {
    use rhai::Map;

    use super::*;

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    fn parse(form: FitForm, pairs: &[(&str, Dynamic)]) -> crate::Result<FitOptions> {
        fit_options(form).parse(map(pairs), &mut || 42)
    }

    #[test]
    fn each_form_of_fit_takes_its_own_keys() {
        let features = [("features", vec![Dynamic::from("a".to_string())].into())];
        let err = parse(FitForm::Rows, &features).unwrap_err().to_string();
        assert!(err.contains("unknown option"), "{err}");
        let o = parse(FitForm::Events, &features).unwrap();
        assert_eq!(o.features, Some(vec!["a".to_string()]));
        let folds = [("folds", Dynamic::from_int(3))];
        let err = parse(FitForm::Events, &folds).unwrap_err().to_string();
        assert!(err.contains("'folds' of fit: unknown option"), "{err}");
        assert_eq!(parse(FitForm::Ensemble, &folds).unwrap().folds, Some(3));
    }

    #[test]
    fn fit_reads_weights_validation_and_schedules() {
        let weights = |v: Dynamic| parse(FitForm::Events, &[("weights", v)]).unwrap().weights;
        assert_eq!(weights(true.into()), Weights::Role);
        assert_eq!(weights(false.into()), Weights::Unweighted);
        assert_eq!(weights("w".into()), Weights::Column("w".into()));
        assert_eq!(FitOptions::default().weights, Weights::RoleIfSet);
        let validation = |v: Dynamic| {
            parse(FitForm::Rows, &[("validation", v)])
                .unwrap()
                .train
                .validation
        };
        assert!(matches!(validation(Dynamic::UNIT), Validation::None));
        assert!(matches!(validation(Dynamic::from_int(0)), Validation::None));
        assert!(
            matches!(validation(Dynamic::from_float(0.3)), Validation::Fraction(f) if f == 0.3)
        );
        let pair = |a: f64, b: f64| -> Dynamic {
            vec![Dynamic::from_float(a), Dynamic::from_float(b)].into()
        };
        let o = parse(
            FitForm::Rows,
            &[
                ("reduce_lr", pair(0.5, 2.0)),
                ("stop_at_peak", pair(5.0, 3.0)),
                ("mode", "max".into()),
            ],
        )
        .unwrap();
        assert_eq!(o.train.reduce_lr, Some((0.5, 2)));
        assert_eq!(o.train.stop_at_peak, Some((5, 3)));
        assert_eq!((o.train.goal, o.train.seed), (Goal::Maximise, 42));
        let err = parse(FitForm::Rows, &[("reduce_lr", pair(2.0, 1.0))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("option 'reduce_lr' of fit"), "{err}");
    }

    #[test]
    fn constructors_start_from_their_shapes_defaults() {
        let o = mlp_options("mlp").parse(Map::new(), &mut || 7).unwrap();
        assert_eq!((o.inputs, o.seed), (None, 7));
        assert_eq!(o.config, MlpConfig::new(0));
        let o = svdd_options()
            .parse(
                map(&[
                    ("inputs", Dynamic::from_int(4)),
                    ("target", Dynamic::from_int(2)),
                    ("seed", Dynamic::from_int(3)),
                ]),
                &mut || panic!("a given seed draws no stream"),
            )
            .unwrap();
        assert_eq!(
            (o.net.inputs, o.target, o.net.seed),
            (Some(4), Some(2.0), 3)
        );
        assert_eq!(o.net.config, SvddConfig::new(0));
        let keys = svdd_options().table();
        assert!(keys.find("  target").unwrap() < keys.find("  seed").unwrap());
    }
}
