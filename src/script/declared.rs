//! Each built-in's options declared once: key, kind, default and a one-line doc, so that the
//! key check, the defaults a call starts from and the options table `help` prints all come
//! from the same declaration.
//!
//! A declaration [`Opt`] reaches into the built-in's options struct `T` through an accessor
//! (`|o| &mut o.training.epochs`): the default shown by `help` is read through it from the
//! struct's `Default`, and a given value is written through it. A [`Declared`] list parses a
//! Rhai map by starting from that default and applying the keys the map has.

use std::fmt::Debug;

use rhai::{Dynamic, Map, NativeCallContext};

use super::domain::OptionTable;
use super::options::Options;
use crate::error::{Error, Result};
use crate::script::values::Out;

/// A value an option can hold, read from a Rhai map and shown back as a Rhai value.
pub trait OptionValue: Sized + 'static {
    /// The kind `help` shows ("count", "number", "[low, high]", ...).
    fn kind() -> String;
    /// The value of option `key`, which the map has.
    fn read(o: &Options, key: &str) -> Result<Self>;
    /// The value as a script writes it; `()` for "no value" (the doc says what that means).
    fn show(&self) -> Dynamic;
}

impl OptionValue for usize {
    fn kind() -> String {
        "count".into()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        o.count(key, 0)
    }
    fn show(&self) -> Dynamic {
        Dynamic::from_int(*self as rhai::INT)
    }
}

impl OptionValue for f64 {
    fn kind() -> String {
        "number".into()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        o.float(key, 0.0)
    }
    fn show(&self) -> Dynamic {
        Dynamic::from_float(*self)
    }
}

impl OptionValue for f32 {
    fn kind() -> String {
        "number".into()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        Ok(o.float(key, 0.0)? as f32)
    }
    fn show(&self) -> Dynamic {
        Dynamic::from_float(f64::from(*self))
    }
}

impl OptionValue for bool {
    fn kind() -> String {
        "flag".into()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        o.flag(key, false)
    }
    fn show(&self) -> Dynamic {
        Dynamic::from_bool(*self)
    }
}

impl OptionValue for String {
    fn kind() -> String {
        "string".into()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        o.string(key, "")
    }
    fn show(&self) -> Dynamic {
        self.clone().into()
    }
}

impl OptionValue for Vec<f64> {
    fn kind() -> String {
        "numbers".into()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        o.numbers(key)
    }
    fn show(&self) -> Dynamic {
        self.iter()
            .map(|&x| Dynamic::from_float(x))
            .collect::<rhai::Array>()
            .into()
    }
}

impl OptionValue for Vec<String> {
    fn kind() -> String {
        "strings".into()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        o.strings(key)
    }
    fn show(&self) -> Dynamic {
        self.iter()
            .map(|s| Dynamic::from(s.clone()))
            .collect::<rhai::Array>()
            .into()
    }
}

impl OptionValue for Vec<usize> {
    fn kind() -> String {
        "counts".into()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        o.counts(key)
    }
    fn show(&self) -> Dynamic {
        self.iter()
            .map(|&n| Dynamic::from_int(n as rhai::INT))
            .collect::<rhai::Array>()
            .into()
    }
}

impl OptionValue for (f64, f64) {
    fn kind() -> String {
        "[low, high]".into()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        o.pair(key)
    }
    fn show(&self) -> Dynamic {
        vec![Dynamic::from_float(self.0), Dynamic::from_float(self.1)].into()
    }
}

impl<V: OptionValue> OptionValue for Option<V> {
    fn kind() -> String {
        V::kind()
    }
    fn read(o: &Options, key: &str) -> Result<Self> {
        V::read(o, key).map(Some)
    }
    fn show(&self) -> Dynamic {
        self.as_ref().map_or(Dynamic::UNIT, V::show)
    }
}

/// A value named by one of a fixed list of strings (an activation, an optimizer).
pub trait Choice: Sized + 'static {
    /// Every name `parse` accepts.
    fn names() -> Vec<&'static str>;
    /// The value's name.
    fn name(&self) -> &'static str;
    /// The value called `name`.
    fn parse(name: &str) -> Result<Self>;
}

impl Choice for crate::methods::flow_preprocessing::FlowPreprocessing {
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|p| p.name()).collect()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> Result<Self> {
        Self::parse(name)
    }
}

impl Choice for crate::nn::layers::Activation {
    fn names() -> Vec<&'static str> {
        Self::NAMES.to_vec()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> Result<Self> {
        Self::parse(name)
    }
}

impl Choice for crate::nn::optim::Kind {
    fn names() -> Vec<&'static str> {
        Self::NAMES.to_vec()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> Result<Self> {
        Self::parse(name)
    }
}

impl Choice for crate::methods::inputs::Rescaling {
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|r| r.name()).collect()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> Result<Self> {
        Self::parse(name)
    }
}

impl Choice for crate::stats::fit::Function {
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|f| f.name()).collect()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> Result<Self> {
        Self::parse(name, "function")
    }
}

type Apply<T> = Box<dyn Fn(&mut T, &Options) -> Result<()>>;
type Absent<T> = Box<dyn Fn(&mut T, &mut dyn FnMut() -> u64)>;

/// One option of a built-in whose options are the struct `T`.
pub struct Opt<T> {
    key: &'static str,
    kind: String,
    doc: &'static str,
    default: Box<dyn Fn(&T) -> Dynamic>,
    apply: Apply<T>,
    absent: Option<Absent<T>>,
}

impl<T: Clone + 'static> Opt<T> {
    /// The option `key` held in the field `access` reaches.
    pub fn field<V: OptionValue + Clone>(
        key: &'static str,
        doc: &'static str,
        access: fn(&mut T) -> &mut V,
    ) -> Self {
        Self {
            key,
            kind: V::kind(),
            doc,
            default: Box::new(move |t| access(&mut t.clone()).show()),
            apply: Box::new(move |t, o| {
                *access(t) = V::read(o, key)?;
                Ok(())
            }),
            absent: None,
        }
    }

    /// The option `key` naming one of `C`'s values, held in the field `access` reaches.
    pub fn choice<C: Choice>(
        key: &'static str,
        doc: &'static str,
        access: fn(&mut T) -> &mut C,
    ) -> Self {
        Self {
            key,
            kind: format!("one of {}", C::names().join(", ")),
            doc,
            default: Box::new(move |t| access(&mut t.clone()).name().into()),
            apply: Box::new(move |t, o| {
                *access(t) = o.choice(key, C::parse)?;
                Ok(())
            }),
            absent: None,
        }
    }

    /// The option `key` naming several of `C`'s values, held in the field `access` reaches.
    pub fn choices<C: Choice + Clone>(
        key: &'static str,
        doc: &'static str,
        access: fn(&mut T) -> &mut Vec<C>,
    ) -> Self {
        Self {
            key,
            kind: format!("strings among {}", C::names().join(", ")),
            doc,
            default: Box::new(move |t| {
                access(&mut t.clone())
                    .iter()
                    .map(|c| Dynamic::from(c.name().to_string()))
                    .collect::<rhai::Array>()
                    .into()
            }),
            apply: Box::new(move |t, o| {
                *access(t) = o
                    .strings(key)?
                    .iter()
                    .map(|name| {
                        C::parse(name).map_err(|e| match e {
                            Error::InvalidArgument { problem, .. } => o.invalid(key, problem),
                            other => other,
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok(())
            }),
            absent: None,
        }
    }

    /// The option `key` giving layer widths (whole numbers of at least 1).
    pub fn widths(
        key: &'static str,
        doc: &'static str,
        access: fn(&mut T) -> &mut Vec<usize>,
    ) -> Self {
        Self {
            kind: "widths".into(),
            apply: Box::new(move |t, o| {
                *access(t) = o.widths(key)?;
                Ok(())
            }),
            ..Self::field(key, doc, access)
        }
    }

    /// The option `seed` held in the field `access` reaches: when absent, the session's next
    /// random stream, so that a script is reproducible from `seed(n)` alone.
    pub fn session_seed(access: fn(&mut T) -> &mut u64) -> Self {
        Self {
            key: "seed",
            kind: "count".into(),
            doc: "seed of the random numbers; the session's next random stream when absent",
            default: Box::new(|_| Dynamic::UNIT),
            apply: Box::new(move |t, o| {
                *access(t) = o.seed("seed")?.unwrap_or_default();
                Ok(())
            }),
            absent: Some(Box::new(move |t, next_stream| *access(t) = next_stream())),
        }
    }

    /// An option read by `apply` (called when the map has `key`), whose default `default`
    /// shows; `kind` is what `help` says it takes.
    pub fn custom(
        key: &'static str,
        kind: &str,
        doc: &'static str,
        default: impl Fn(&T) -> Dynamic + 'static,
        apply: impl Fn(&mut T, &Options) -> Result<()> + 'static,
    ) -> Self {
        Self {
            key,
            kind: kind.into(),
            doc,
            default: Box::new(default),
            apply: Box::new(apply),
            absent: None,
        }
    }

    /// The same option, of the struct `S` that holds this one's `T` where `access` reaches.
    pub fn lift<S: Clone + 'static>(self, access: fn(&mut S) -> &mut T) -> Opt<S> {
        let Opt {
            key,
            kind,
            doc,
            default,
            apply,
            absent,
        } = self;
        Opt {
            key,
            kind,
            doc,
            default: Box::new(move |s| default(access(&mut s.clone()))),
            apply: Box::new(move |s, o| apply(access(s), o)),
            absent: absent
                .map(|absent| -> Absent<S> { Box::new(move |s, next| absent(access(s), next)) }),
        }
    }
}

/// The declared options of one built-in: its name, its defaults and its [`Opt`]s, in the
/// order they are applied (an option may depend on one declared before it).
pub struct Declared<T> {
    function: &'static str,
    receiver: Option<&'static str>,
    defaults: fn() -> T,
    opts: Vec<Opt<T>>,
}

impl<T: Clone + Debug + 'static> Declared<T> {
    /// The options `opts` of the built-in `function`, starting from `defaults()`.
    pub fn new(function: &'static str, defaults: fn() -> T, opts: Vec<Opt<T>>) -> Self {
        Self {
            function,
            receiver: None,
            defaults,
            opts,
        }
    }

    /// The same options, as those of the method `function` called on a `receiver` (a type
    /// name, e.g. "Hist1D"), where one name has several receivers with options of their own.
    pub fn on(self, receiver: &'static str) -> Self {
        Self {
            receiver: Some(receiver),
            ..self
        }
    }

    /// The same options with `more` declared after them.
    pub fn with(mut self, more: Vec<Opt<T>>) -> Self {
        self.opts.extend(more);
        self
    }

    /// The declarations, to lift into a larger built-in's (see [`Opt::lift`]).
    pub fn into_opts(self) -> Vec<Opt<T>> {
        self.opts
    }

    /// The same options under another built-in's name.
    pub fn named(self, function: &'static str) -> Self {
        Self { function, ..self }
    }

    /// The options `map` gives, from the defaults; random streams of options left out come from
    /// `next_stream`. An unknown key or a wrong type is an error naming the key.
    pub fn parse(&self, map: Map, next_stream: &mut dyn FnMut() -> u64) -> Result<T> {
        let keys: Vec<&str> = self.opts.iter().map(|o| o.key).collect();
        let o = Options::new(self.function, map, &keys)?;
        let mut value = (self.defaults)();
        for opt in &self.opts {
            if o.has(opt.key) {
                (opt.apply)(&mut value, &o)?;
            } else if let Some(absent) = &opt.absent {
                absent(&mut value, next_stream);
            }
        }
        Ok(value)
    }

    /// [`Self::parse`] in the session of the built-in called with `ctx`.
    pub fn parse_in(&self, ctx: &NativeCallContext, map: Map) -> Out<T> {
        let state = super::state::session_state(ctx)?;
        Ok(self.parse(map, &mut || state.next_stream())?)
    }
}

impl<T: Clone + Debug + 'static> OptionTable for Declared<T> {
    fn function(&self) -> &'static str {
        self.function
    }

    fn receiver(&self) -> Option<&'static str> {
        self.receiver
    }

    fn table(&self) -> String {
        let defaults = (self.defaults)();
        let mut out = String::new();
        for opt in &self.opts {
            let default = (opt.default)(&defaults);
            let shown = if default.is_unit() {
                opt.kind.clone()
            } else {
                format!("{}, default {}", opt.kind, rhai_literal(&default))
            };
            out.push_str(&format!("  {} ({shown}): {}\n", opt.key, opt.doc));
        }
        out
    }

    fn check_defaults(&self) -> std::result::Result<(), String> {
        let untouched = self
            .parse(Map::new(), &mut || 0)
            .map_err(|e| format!("{}: {e}", self.function))?;
        let defaults = format!("{untouched:?}");
        for opt in &self.opts {
            let default = (opt.default)(&(self.defaults)());
            if default.is_unit() {
                continue;
            }
            let map: Map = [(opt.key.into(), default.clone())].into_iter().collect();
            let parsed = self
                .parse(map, &mut || 0)
                .map_err(|e| format!("{}: {} = {default}: {e}", self.function, opt.key))?;
            if format!("{parsed:?}") != defaults {
                return Err(format!(
                    "{}: giving option {} its shown default {} changes the options",
                    self.function,
                    opt.key,
                    rhai_literal(&default)
                ));
            }
        }
        Ok(())
    }
}

/// `x` as a script writes a number, to at most 6 significant digits.
fn float_literal(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.1}");
    }
    let exact = format!("{x}");
    if exact.len() <= 8 || !x.is_finite() {
        return exact;
    }
    let decimals = (5 - x.abs().log10().floor() as i32).max(0) as usize;
    let rounded = format!("{x:.decimals$}");
    let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
    if trimmed.contains('.') {
        trimmed.to_string()
    } else {
        format!("{trimmed}.0")
    }
}

/// `value` as a script writes it, long arrays shortened.
fn rhai_literal(value: &Dynamic) -> String {
    if let Ok(s) = value.clone().into_string() {
        return format!("{s:?}");
    }
    if let Ok(x) = value.as_float() {
        return float_literal(x);
    }
    if let Some(array) = value.read_lock::<rhai::Array>() {
        let items: Vec<String> = array.iter().map(rhai_literal).collect();
        return if items.len() > 6 {
            format!(
                "[{}, …, {}] ({} values)",
                items[..3].join(", "),
                items[items.len() - 1],
                items.len()
            )
        } else {
            format!("[{}]", items.join(", "))
        };
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, Default)]
    struct Toy {
        epochs: usize,
        lr: f64,
        hidden: Vec<usize>,
        cut: Option<(f64, f64)>,
        seed: u64,
    }

    #[derive(Clone, Debug, Default)]
    struct Outer {
        toy: Toy,
        extra: bool,
    }

    fn toy_defaults() -> Toy {
        Toy {
            epochs: 10,
            lr: 1e-3,
            hidden: vec![8, 8],
            ..Toy::default()
        }
    }

    fn declared() -> Declared<Toy> {
        Declared::new(
            "toy",
            toy_defaults,
            vec![
                Opt::field("epochs", "passes", |t: &mut Toy| &mut t.epochs),
                Opt::field("lr", "learning rate", |t| &mut t.lr),
                Opt::widths("hidden", "widths", |t| &mut t.hidden),
                Opt::field("cut", "a window; none when absent", |t| &mut t.cut),
                Opt::session_seed(|t| &mut t.seed),
            ],
        )
    }

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    #[test]
    fn absent_keys_keep_the_defaults_and_seeds_come_from_the_session() {
        let t = declared()
            .parse(map(&[("epochs", Dynamic::from_int(3))]), &mut || 42)
            .unwrap();
        assert_eq!((t.epochs, t.lr, t.seed), (3, 1e-3, 42));
        assert_eq!(t.hidden, [8, 8]);
        assert_eq!(t.cut, None);
        let given = map(&[
            ("seed", Dynamic::from_int(7)),
            (
                "cut",
                vec![Dynamic::from_int(1), Dynamic::from_float(2.5)].into(),
            ),
        ]);
        let t = declared()
            .parse(given, &mut || -> u64 {
                panic!("no stream is drawn when a seed is given")
            })
            .unwrap();
        assert_eq!((t.seed, t.cut), (7, Some((1.0, 2.5))));
    }

    #[test]
    fn errors_name_the_option_and_the_allowed_ones() {
        let err = |m: Map| declared().parse(m, &mut || 0).unwrap_err().to_string();
        assert_eq!(
            err(map(&[("epoch", Dynamic::from_int(3))])),
            "invalid option 'epoch' of toy: unknown option; the options are epochs, lr, hidden, cut, seed"
        );
        assert!(
            err(map(&[("hidden", vec![Dynamic::from_int(0)].into())]))
                .contains("option 'hidden' of toy")
        );
        assert!(err(map(&[("lr", "fast".into())])).contains("must be a number, not string"));
        assert!(err(map(&[("cut", vec![Dynamic::from_int(1)].into())])).contains("two numbers"));
    }

    #[test]
    fn the_table_shows_the_defaults_and_they_parse_back() {
        let table = declared().table();
        assert!(
            table.contains("  epochs (count, default 10): passes\n"),
            "{table}"
        );
        assert!(table.contains("  lr (number, default 0.001): learning rate\n"));
        assert!(table.contains("  hidden (widths, default [8, 8]): widths\n"));
        assert!(table.contains("  cut ([low, high]): a window; none when absent\n"));
        declared().check_defaults().unwrap();
    }

    #[test]
    fn a_default_that_is_not_the_one_read_is_caught() {
        let wrong = Declared::new(
            "toy",
            toy_defaults,
            vec![Opt::custom(
                "epochs",
                "count",
                "passes",
                |_| Dynamic::from_int(5),
                |t: &mut Toy, o| {
                    t.epochs = o.count("epochs", 0)?;
                    Ok(())
                },
            )],
        );
        let err = wrong.check_defaults().unwrap_err();
        assert!(err.contains("option epochs its shown default 5"), "{err}");
    }

    #[test]
    fn lifted_options_reach_into_the_larger_struct() {
        let outer = Declared::new(
            "outer",
            || Outer {
                toy: toy_defaults(),
                extra: false,
            },
            declared()
                .into_opts()
                .into_iter()
                .map(|o| o.lift(|s: &mut Outer| &mut s.toy))
                .chain([Opt::field("extra", "a flag", |s: &mut Outer| &mut s.extra)])
                .collect(),
        );
        let o = outer
            .parse(
                map(&[("lr", Dynamic::from_float(0.5)), ("extra", true.into())]),
                &mut || 9,
            )
            .unwrap();
        assert_eq!((o.toy.lr, o.toy.seed, o.extra), (0.5, 9, true));
        assert!(outer.table().contains("  epochs (count, default 10)"));
        outer.check_defaults().unwrap();
    }

    #[test]
    fn numbers_are_shown_as_scripts_write_them() {
        assert_eq!(float_literal(3.0), "3.0");
        assert_eq!(float_literal(0.002), "0.002");
        assert_eq!(float_literal(2771.1017351631745), "2771.1");
        assert_eq!(float_literal(1e-5), "0.00001");
        let long: rhai::Array = (0..10).map(Dynamic::from_int).collect();
        assert_eq!(rhai_literal(&long.into()), "[0, 1, 2, …, 9] (10 values)");
    }

    /// Every built-in's declared defaults are the ones it starts from, and `help` shows them.
    #[test]
    fn every_declared_table_is_true_and_shown_by_help() {
        let session = crate::script::Session::new();
        let catalog = session.catalog();
        for domain in crate::script::session::DOMAINS {
            for table in (domain.options)() {
                table.check_defaults().unwrap();
                let help = catalog.help_text(table.function()).unwrap_or_default();
                for line in table.table().lines() {
                    assert!(
                        help.lines().any(|l| l.trim() == line.trim()),
                        "help({}) lacks the line {line:?}",
                        table.function()
                    );
                }
            }
        }
    }

    /// Every built-in that takes an options map declares its options, so `help` shows them.
    #[test]
    fn every_built_in_taking_options_declares_them() {
        use crate::script::catalog::canonical_type;
        let session = crate::script::Session::new();
        let declared: Vec<(&str, Option<String>)> = crate::script::session::DOMAINS
            .iter()
            .flat_map(|d| (d.options)())
            .map(|t| (t.function(), t.receiver().map(canonical_type)))
            .collect();
        let mut missing: Vec<String> = session
            .catalog()
            .domains()
            .iter()
            .flat_map(|d| &d.functions)
            .filter(|f| f.signature.contains("opts: map"))
            .filter(|f| {
                !declared
                    .iter()
                    .any(|(name, on)| *name == f.name && (on.is_none() || *on == f.receiver))
            })
            .map(|f| f.signature.clone())
            .collect();
        missing.dedup();
        assert!(missing.is_empty(), "options not declared: {missing:#?}");
    }
}
