//! The `samples` domain: the synthetic generators with known truth, the challenge file
//! formats (LHC Olympics HDF5, Dark Machines CSV) and the object-level encodings.

use rhai::plugin::*;

use super::declared::{Choice, Declared, Opt};
use super::domain::Domain;
use super::domain::OptionTable;
use crate::data::generate::darkmachines::{Channel, DarkMachinesToyOptions, SignalModel};
use crate::data::generate::lhco::{LhcoToyOptions, Preset, Variant};
use crate::data::jets::{Algorithm, Axes};
use crate::data::lhco_jets::JetFeatureOptions;
use crate::error::{Error, Result};

/// The `samples` domain.
pub const DOMAIN: Domain = Domain {
    name: "samples",
    about: "generated samples with known truth, LHC Olympics and Dark Machines files, encodings",
    options: tables,
    module: || {
        let mut module = exported_module!(samples_api);
        module.set_custom_type_with_comments::<crate::data::encode::SetEncoding>(
            "SetEncoding",
            &["/// Events as padded sets of objects with a mask (the Deep Set VAE input)."],
        );
        module
    },
};

/// What a built-in returns: a value or a Rhai error.
type Out<T> = std::result::Result<T, Box<EvalAltResult>>;

/// Columns to an event set, with `label` etc. taking their roles.
fn events(columns: crate::data::NamedColumns) -> Out<crate::data::EventSet> {
    Ok(crate::data::EventSet::from_columns(columns)?)
}

/// The encoded columns as an event set, with `source`'s label and weight carried along.
fn vector_events(
    source: &crate::data::EventSet,
    encoded: crate::data::encode::FixedVector,
) -> Out<crate::data::EventSet> {
    let mut columns: crate::data::NamedColumns = encoded
        .names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let values = (0..encoded.n_events)
                .map(|i| f64::from(encoded.values[i * encoded.width + j]))
                .collect();
            (name.clone(), values)
        })
        .collect();
    for keep in ["label", "weight"] {
        if let Ok(values) = source.column(keep) {
            columns.push((keep.to_string(), values));
        }
    }
    events(columns)
}

/// A features table as an event set: with `derive`, the papers' high-level columns
/// (`lhco_features::derive`) first, then the table's own columns not among them.
fn features_events(columns: crate::data::NamedColumns, derive: bool) -> Out<crate::data::EventSet> {
    use crate::data::lhco_features;
    if derive && lhco_features::is_features_table(&columns) {
        let mut derived = lhco_features::derive(&columns)?;
        let names: Vec<String> = derived.iter().map(|(n, _)| n.clone()).collect();
        derived.extend(columns.into_iter().filter(|(n, _)| !names.contains(n)));
        return events(derived);
    }
    events(columns)
}

impl Choice for Preset {
    fn names() -> Vec<&'static str> {
        Self::ALL.map(Self::name).to_vec()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> Result<Self> {
        Self::parse(name)
    }
}

impl Choice for Variant {
    fn names() -> Vec<&'static str> {
        Self::ALL.map(Self::name).to_vec()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> Result<Self> {
        Self::parse(name)
    }
}

impl Choice for Channel {
    fn names() -> Vec<&'static str> {
        Self::ALL.map(Self::name).to_vec()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> Result<Self> {
        Self::parse(name)
    }
}

impl Choice for SignalModel {
    fn names() -> Vec<&'static str> {
        Self::ALL.map(Self::name).to_vec()
    }
    fn name(&self) -> &'static str {
        Self::name(*self)
    }
    fn parse(name: &str) -> Result<Self> {
        Self::parse(name)
    }
}

impl Choice for Algorithm {
    fn names() -> Vec<&'static str> {
        vec!["anti_kt", "kt", "cambridge_aachen", "ca"]
    }
    fn name(&self) -> &'static str {
        match self {
            Algorithm::AntiKt => "anti_kt",
            Algorithm::Kt => "kt",
            Algorithm::CambridgeAachen => "cambridge_aachen",
        }
    }
    fn parse(name: &str) -> Result<Self> {
        match name {
            "anti_kt" => Ok(Algorithm::AntiKt),
            "kt" => Ok(Algorithm::Kt),
            "cambridge_aachen" | "ca" => Ok(Algorithm::CambridgeAachen),
            other => Err(Error::invalid(
                "algorithm",
                format!("'{other}' is not one of anti_kt, kt, cambridge_aachen (ca)"),
            )),
        }
    }
}

impl Choice for Axes {
    fn names() -> Vec<&'static str> {
        vec!["kt", "cambridge_aachen", "ca"]
    }
    fn name(&self) -> &'static str {
        match self {
            Axes::ExclusiveKt => "kt",
            Axes::ExclusiveCa => "cambridge_aachen",
        }
    }
    fn parse(name: &str) -> Result<Self> {
        match name {
            "kt" => Ok(Axes::ExclusiveKt),
            "cambridge_aachen" | "ca" => Ok(Axes::ExclusiveCa),
            other => Err(Error::invalid(
                "axes",
                format!("'{other}' is not one of kt, cambridge_aachen (ca)"),
            )),
        }
    }
}

/// The options of `lhco_toy`: the preset the others start from, and the generator's.
#[derive(Clone, Debug)]
struct LhcoToyArgs {
    preset: Preset,
    toy: LhcoToyOptions,
}

impl Default for LhcoToyArgs {
    fn default() -> Self {
        let preset = Preset::Rnd;
        Self {
            preset,
            toy: LhcoToyOptions::preset(preset),
        }
    }
}

/// The declared options of `lhco_toy`.
fn lhco_toy_options() -> Declared<LhcoToyArgs> {
    let toy = vec![
        Opt::field(
            "background",
            "QCD background events",
            |t: &mut LhcoToyOptions| &mut t.background,
        ),
        Opt::field("signal", "signal events Z' -> X(qq) Y(qq)", |t| {
            &mut t.signal
        }),
        Opt::field("mz", "Z' mass in GeV: where the signal's mjj peaks", |t| {
            &mut t.mz
        }),
        Opt::field(
            "mx",
            "X mass in GeV: where one signal jet mass peaks",
            |t| &mut t.mx,
        ),
        Opt::field(
            "my",
            "Y mass in GeV: where the other signal jet mass peaks",
            |t| &mut t.my,
        ),
        Opt::choice(
            "variant",
            "the shower imitated: \"data\", or \"sim\" with Herwig-like differences",
            |t| &mut t.variant,
        ),
        Opt::field(
            "mj_mjj_slope",
            "adds slope × mjj to the jet masses; 0.1 for the SA-CWoLa study",
            |t| &mut t.mj_mjj_slope,
        ),
        Opt::field(
            "mj_mjj_power",
            "multiplies the background jet masses by (mjj / 3500 GeV)^power; 0.93 makes them proportional to mjj, the sample on which CWoLa's features are checked",
            |t| &mut t.mj_mjj_power,
        ),
        Opt::session_seed(|t| &mut t.seed),
    ];
    Declared::new(
        "lhco_toy",
        LhcoToyArgs::default,
        std::iter::once(Opt::custom(
            "preset",
            &format!("one of {}", Preset::ALL.map(Preset::name).join(", ")),
            "\"rnd\": 1M background + 1000 signal at 3500/500/100 GeV; \"bb1\": 834 signal at 3823/732/378 GeV in 1M events; \"bb2\": background only, alternative shower; the other options' defaults are the preset's (shown: rnd's)",
            |a: &LhcoToyArgs| a.preset.name().into(),
            |a, o| {
                a.preset = o.choice("preset", Preset::parse)?;
                a.toy = LhcoToyOptions::preset(a.preset);
                Ok(())
            },
        ))
        .chain(toy.into_iter().map(|o| o.lift(|a: &mut LhcoToyArgs| &mut a.toy)))
        .collect(),
    )
}

/// The declared options of `darkmachines_toy`.
fn darkmachines_toy_options() -> Declared<DarkMachinesToyOptions> {
    Declared::new(
        "darkmachines_toy",
        DarkMachinesToyOptions::default,
        vec![
            Opt::choice(
                "channel",
                "the Dark Machines channel whose selection every event passes",
                |t: &mut DarkMachinesToyOptions| &mut t.channel,
            ),
            Opt::field("background", "background events", |t| &mut t.background),
            Opt::field("signal", "signal events", |t| &mut t.signal),
            Opt::choice(
                "signal_model",
                "the signal (see docs/darkmachines.md)",
                |t| &mut t.signal_model,
            ),
            Opt::session_seed(|t| &mut t.seed),
        ],
    )
}

/// The options of `read_lhco`.
#[derive(Clone, Debug)]
struct ReadLhcoArgs {
    key: Option<String>,
    start: Option<usize>,
    stop: Option<usize>,
    derive: bool,
}

impl Default for ReadLhcoArgs {
    fn default() -> Self {
        Self {
            key: None,
            start: None,
            stop: None,
            derive: true,
        }
    }
}

/// The declared options of `read_lhco`.
fn read_lhco_options() -> Declared<ReadLhcoArgs> {
    Declared::new(
        "read_lhco",
        ReadLhcoArgs::default,
        vec![
            Opt::field(
                "key",
                "the pandas key of the table; the first table when absent",
                |a: &mut ReadLhcoArgs| &mut a.key,
            ),
            Opt::field("start", "first row read (with stop); 0 when absent", |a| {
                &mut a.start
            }),
            Opt::field(
                "stop",
                "end of the rows read, to read part of a large file; the whole file when absent",
                |a| &mut a.stop,
            ),
            Opt::field(
                "derive",
                "add the high-level columns to a features table; false keeps the file's columns only",
                |a| &mut a.derive,
            ),
        ],
    )
}

/// The options of `jet_features`: the clustering's and N-subjettiness', with the
/// normalisation as two options, and the file form's `key`.
#[derive(Clone, Debug)]
struct JetFeatureArgs {
    jets: JetFeatureOptions,
    r0: f64,
    normalise: bool,
    derive: bool,
    key: Option<String>,
}

impl Default for JetFeatureArgs {
    fn default() -> Self {
        let jets = JetFeatureOptions::default();
        Self {
            jets,
            r0: jets.nsub.r0.unwrap_or(1.0),
            normalise: jets.nsub.r0.is_some(),
            derive: true,
            key: None,
        }
    }
}

impl JetFeatureArgs {
    /// The options of the jet features, the normalisation set.
    fn options(&self) -> JetFeatureOptions {
        let mut jets = self.jets;
        jets.nsub.r0 = self.normalise.then_some(self.r0);
        jets
    }
}

/// The declared options of `jet_features`, with the file form's `key` and `window` when
/// `file`.
fn jet_features_options(file: bool) -> Declared<JetFeatureArgs> {
    let declared = Declared::new(
        "jet_features",
        JetFeatureArgs::default,
        vec![
            Opt::choice(
                "algorithm",
                "the jet algorithm",
                |a: &mut JetFeatureArgs| &mut a.jets.jets.algorithm,
            ),
            Opt::field("r", "the jet radius R", |a| &mut a.jets.jets.r),
            Opt::field(
                "ptmin",
                "jets below this pT (GeV) are not considered",
                |a| &mut a.jets.ptmin,
            ),
            Opt::field("beta", "N-subjettiness' angular exponent β", |a| {
                &mut a.jets.nsub.beta
            }),
            Opt::field("r0", "R0 of the normalisation", |a| &mut a.r0),
            Opt::field(
                "normalise",
                "tau_N divided by sum pT R0^beta; false leaves it in units of pT",
                |a| &mut a.normalise,
            ),
            Opt::choice(
                "axes",
                "N-subjettiness' axes: exclusive kT or Cambridge/Aachen jets",
                |a| &mut a.jets.nsub.axes,
            ),
            Opt::field(
                "derive",
                "derive the papers' columns mjj, mj1, ..., dmj from the jets",
                |a| &mut a.derive,
            ),
        ],
    );
    if !file {
        return declared;
    }
    declared.with(vec![
        Opt::field(
            "key",
            "a file only: the pandas key of the table; the first table when absent",
            |a| &mut a.key,
        ),
        Opt::field("window", "a file only: rows read at a time", |a| {
            &mut a.jets.window
        }),
    ])
}

/// The declared options of the `samples` domain's built-ins.
fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![
        Box::new(lhco_toy_options()),
        Box::new(darkmachines_toy_options()),
        Box::new(read_lhco_options()),
        Box::new(jet_features_options(true)),
    ]
}

#[export_module]
mod samples_api {
    use std::path::Path;

    use rhai::{INT, Map};

    use super::{
        Out, darkmachines_toy_options, events, features_events, jet_features_options,
        lhco_toy_options, read_lhco_options, vector_events,
    };
    use crate::data::EventSet;
    use crate::data::encode::{self, SetEncoding};
    use crate::data::generate::darkmachines::darkmachines_toy_interruptible as generate_dm;
    use crate::data::generate::lhco::lhco_toy_interruptible as generate_lhco;
    use crate::data::{darkmachines, lhco_h5, lhco_jets};
    use crate::error::Error;
    use crate::script::state::session_state;

    /// An LHC-Olympics-like dijet sample with known truth, with the default options. See
    /// `lhco_toy(opts)` and docs/generators.md.
    #[rhai_fn(name = "lhco_toy", return_raw)]
    pub fn lhco_toy_default(ctx: NativeCallContext) -> Out<EventSet> {
        lhco_toy(ctx, Map::new())
    }

    /// An LHC-Olympics-like dijet sample with known truth: columns mjj, mj1, mj2 (mj1 >= mj2),
    /// tau21_1, tau21_2, tau32_1, tau32_2, dmj and label (1 signal Z' -> X(qq) Y(qq), 0 QCD).
    /// A `preset` after the LHC Olympics data sets sets every other option's default. The
    /// model, tuned to Pythia 8 events (signal jets that miss a prong, tau up to 1.5), is
    /// documented in docs/generators.md.
    #[rhai_fn(return_raw)]
    pub fn lhco_toy(ctx: NativeCallContext, opts: Map) -> Out<EventSet> {
        let toy = lhco_toy_options().parse_in(&ctx, opts)?.toy;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        events(generate_lhco(&toy, Some(&interrupt))?)
    }

    /// A Dark-Machines-like object-level sample: up to 20 objects (jets, b-jets, electrons,
    /// muons, photons with E, pt, eta, phi) and MET per event, in the flat layout
    /// (met, met_phi, n_obj, obj{i}_type/e/pt/eta/phi) plus label, weight and process (a code per physics process, see docs/darkmachines.md).
    #[rhai_fn(return_raw)]
    pub fn darkmachines_toy(ctx: NativeCallContext, opts: Map) -> Out<EventSet> {
        let toy = darkmachines_toy_options().parse_in(&ctx, opts)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        events(generate_dm(&toy, Some(&interrupt))?)
    }

    /// Reads a Dark Machines challenge CSV file (`event_id;process_id;weight;MET;METphi;`
    /// then `type,E,pt,eta,phi;` per object) into the flat object layout; the process names
    /// become codes in the `process` column, in order of first appearance.
    #[rhai_fn(return_raw)]
    pub fn read_darkmachines(path: &str) -> Out<EventSet> {
        events(darkmachines::read_darkmachines(Path::new(path))?)
    }

    /// Reads an LHC Olympics HDF5 file (as pandas writes it). The features table gains the
    /// papers' high-level columns mjj, mj1, mj2 (ordered by mass: mj1 >= mj2), tau21_1,
    /// tau21_2, tau32_1, tau32_2, dmj, followed by the file's own columns (its pT-ordered
    /// mj1/mj2 are replaced by the mass-ordered ones); the raw-particle table has pt_i,
    /// eta_i, phi_i (i < 700) and label.
    #[rhai_fn(name = "read_lhco", return_raw)]
    pub fn read_lhco_default(path: &str) -> Out<EventSet> {
        read_lhco(path, Map::new())
    }

    /// Reads an LHC Olympics HDF5 file, or the rows `start..stop` of it, as `read_lhco(path)`
    /// does.
    #[rhai_fn(return_raw)]
    pub fn read_lhco(path: &str, opts: Map) -> Out<EventSet> {
        let args = read_lhco_options().parse(opts, &mut || 0)?;
        let rows = match (args.start, args.stop) {
            (None, None) => None,
            (start, Some(stop)) => Some(start.unwrap_or(0)..stop),
            (Some(_), None) => {
                return Err(Error::invalid(
                    "option 'start' of read_lhco",
                    "give 'stop' too: the range is start..stop",
                )
                .into());
            }
        };
        let (_, columns) = lhco_h5::read_lhco(Path::new(path), args.key.as_deref(), rows)?;
        features_events(columns, args.derive)
    }

    /// The LHC Olympics features of raw-particle events (`read_lhco` of a raw file): each
    /// event's particles (massless, from pt_i, eta_i, phi_i) are clustered into jets and the
    /// two leading jets by pT give pxj1, pyj1, pzj1, mj1, tau1j1, tau2j1, tau3j1 (and the
    /// same for jet 2; zeros for a missing jet), from which the papers' columns mjj, mj1, mj2,
    /// tau21_1, ..., dmj are derived as `read_lhco` derives them; `label` is kept. Events run
    /// in parallel. `key` and `window` are for a file only.
    #[rhai_fn(name = "jet_features", return_raw)]
    pub fn jet_features(ctx: NativeCallContext, raw: EventSet, opts: Map) -> Out<EventSet> {
        let args = jet_features_options(false).parse(opts, &mut || 0)?;
        let options = args.options();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        let columns = raw.numeric_columns();
        let progress = crate::progress::Progress::new("jet features", raw.len() as u64);
        let features = lhco_jets::raw_features(&columns, &options, 0, &progress, Some(&interrupt))?;
        features_events(features, args.derive)
    }

    /// `jet_features(raw, #{})`: the jets and substructure of the default options.
    #[rhai_fn(name = "jet_features", return_raw)]
    pub fn jet_features_default(ctx: NativeCallContext, raw: EventSet) -> Out<EventSet> {
        jet_features(ctx, raw, Map::new())
    }

    /// The features of the raw-particle LHC Olympics file at `path` (HDF5, as published),
    /// read `window` rows at a time so that a file of a million events never holds its 2101
    /// raw columns in memory at once; with a progress bar. Takes the options of
    /// `jet_features(raw, opts)`, `key` and `window`.
    #[rhai_fn(name = "jet_features", return_raw)]
    pub fn jet_features_file(ctx: NativeCallContext, path: &str, opts: Map) -> Out<EventSet> {
        let args = jet_features_options(true).parse(opts, &mut || 0)?;
        let options = args.options();
        let interrupt = session_state(&ctx)?.interrupt.clone();
        let features = lhco_jets::file_features(
            Path::new(path),
            args.key.as_deref(),
            &options,
            Some(&interrupt),
        )?;
        features_events(features, args.derive)
    }

    /// `jet_features(path, #{})` for a raw-particle LHC Olympics file.
    #[rhai_fn(name = "jet_features", return_raw)]
    pub fn jet_features_file_default(ctx: NativeCallContext, path: &str) -> Out<EventSet> {
        jet_features_file(ctx, path, Map::new())
    }

    /// The fixed-length event vector of "Rare and Different" (class bits for the object
    /// slots of each type, then E, pt, eta, phi per slot, then MET and MET phi), as an event
    /// set of those columns plus label/weight if present. Slots per type: the most objects of
    /// that type in any event here.
    #[rhai_fn(pure, return_raw)]
    pub fn fixed_vector(events_in: &mut EventSet) -> Out<EventSet> {
        let cols = events_in.numeric_columns();
        let encoded = encode::fixed_vector(&cols)?;
        vector_events(events_in, encoded)
    }

    /// The fixed-length event vector with the slots of `reference` (e.g. the training
    /// sample), so that both have the same columns; extra objects are dropped, softest first.
    #[rhai_fn(name = "fixed_vector", pure, return_raw)]
    pub fn fixed_vector_like(events_in: &mut EventSet, reference: EventSet) -> Out<EventSet> {
        let slots = encode::max_type_counts(&reference.numeric_columns())?;
        let encoded = encode::fixed_vector_with_slots(&events_in.numeric_columns(), &slots)?;
        vector_events(events_in, encoded)
    }

    /// The set encoding of the Deep Set VAE: per object (log10 E, log10 pT, eta, phi, type),
    /// MET as the first element, padded to 20 elements with a mask.
    #[rhai_fn(pure, return_raw)]
    pub fn set_encoding(events_in: &mut EventSet) -> Out<SetEncoding> {
        Ok(encode::set_encoding(&events_in.numeric_columns())?)
    }

    /// The number of encoded events.
    #[rhai_fn(name = "len", pure)]
    pub fn set_len(encoding: &mut SetEncoding) -> INT {
        encoding.n_events as INT
    }

    /// The encoding's shape and how full the sets are.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn set_to_string(encoding: &mut SetEncoding) -> String {
        let present: f32 = encoding.mask.iter().sum();
        let mean = if encoding.n_events > 0 {
            present / encoding.n_events as f32
        } else {
            0.0
        };
        format!(
            "SetEncoding: {} events x {} elements x {} features (log10 E, log10 pT, eta, phi, type); {mean:.2} elements present per event",
            encoding.n_events, encoding.max_objects, encoding.features
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::{Dynamic, Map};

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    #[test]
    fn a_preset_sets_the_defaults_the_other_options_override() {
        let a = lhco_toy_options()
            .parse(
                map(&[("signal", Dynamic::from_int(5)), ("preset", "bb2".into())]),
                &mut || 9,
            )
            .unwrap();
        let bb2 = LhcoToyOptions::preset(Preset::Bb2);
        assert_eq!(
            (a.toy.signal, a.toy.variant, a.toy.seed),
            (5, bb2.variant, 9)
        );
        assert_eq!(a.toy.background, bb2.background);
    }

    #[test]
    fn jet_features_normalisation_and_the_file_only_options() {
        let a = jet_features_options(false)
            .parse(map(&[("normalise", false.into())]), &mut || 0)
            .unwrap();
        assert_eq!(a.options().nsub.r0, None);
        assert_eq!(
            JetFeatureArgs::default().options(),
            JetFeatureOptions::default()
        );
        let err = jet_features_options(false)
            .parse(map(&[("window", Dynamic::from_int(10))]), &mut || 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option"), "{err}");
        let a = jet_features_options(true)
            .parse(map(&[("window", Dynamic::from_int(10))]), &mut || 0)
            .unwrap();
        assert_eq!(a.options().window, 10);
    }
}
