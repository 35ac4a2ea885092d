//! The `samples` domain: the synthetic generators with known truth, the challenge file
//! formats (LHC Olympics HDF5, Dark Machines CSV) and the object-level encodings.

use rhai::plugin::*;

use super::domain::Domain;

/// The `samples` domain.
pub const DOMAIN: Domain = Domain {
    name: "samples",
    about: "generated samples with known truth, LHC Olympics and Dark Machines files, encodings",
    options: Vec::new,
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
type Out<T> = Result<T, Box<EvalAltResult>>;

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

/// The options of `jet_features` (all but `key`, which only the file form takes).
fn jet_feature_options(
    o: &super::options::Options,
) -> crate::error::Result<crate::data::lhco_jets::JetFeatureOptions> {
    use crate::data::jets::{Algorithm, Axes};
    use crate::error::Error;
    let defaults = crate::data::lhco_jets::JetFeatureOptions::default();
    let algorithm = match o.string("algorithm", "anti_kt")?.as_str() {
        "anti_kt" => Algorithm::AntiKt,
        "kt" => Algorithm::Kt,
        "cambridge_aachen" | "ca" => Algorithm::CambridgeAachen,
        other => {
            return Err(Error::invalid(
                "option 'algorithm' of jet_features",
                format!("'{other}' is not one of anti_kt, kt, cambridge_aachen (ca)"),
            ));
        }
    };
    let axes = match o.string("axes", "kt")?.as_str() {
        "kt" => Axes::ExclusiveKt,
        "cambridge_aachen" | "ca" => Axes::ExclusiveCa,
        other => {
            return Err(Error::invalid(
                "option 'axes' of jet_features",
                format!("'{other}' is not one of kt, cambridge_aachen (ca)"),
            ));
        }
    };
    let r0 = o.float("r0", defaults.nsub.r0.unwrap_or(1.0))?;
    Ok(crate::data::lhco_jets::JetFeatureOptions {
        jets: crate::data::jets::JetDefinition {
            algorithm,
            r: o.float("r", defaults.jets.r)?,
        },
        ptmin: o.float("ptmin", defaults.ptmin)?,
        nsub: crate::data::jets::NsubOptions {
            beta: o.float("beta", defaults.nsub.beta)?,
            r0: o.flag("normalise", true)?.then_some(r0),
            axes,
        },
        window: o.count("window", defaults.window)?,
    })
}

/// The keys `jet_features` takes (the file form also `key` and `window`).
const JET_FEATURE_KEYS: [&str; 8] = [
    "algorithm",
    "r",
    "ptmin",
    "beta",
    "r0",
    "normalise",
    "axes",
    "derive",
];

#[export_module]
mod samples_api {
    use std::path::Path;

    use rhai::{INT, Map};

    use super::{JET_FEATURE_KEYS, Out, events, features_events, vector_events};
    use crate::data::EventSet;
    use crate::data::encode::{self, SetEncoding};
    use crate::data::generate::darkmachines::{
        Channel, DarkMachinesToyOptions, SignalModel, darkmachines_toy_interruptible as generate_dm,
    };
    use crate::data::generate::lhco::{
        LhcoToyOptions, Preset, Variant, lhco_toy_interruptible as generate_lhco,
    };
    use crate::data::{darkmachines, lhco_h5, lhco_jets};
    use crate::error::Error;
    use crate::script::options::Options;
    use crate::script::state::session_state;

    /// An LHC-Olympics-like dijet sample with known truth (R&D-like preset). See
    /// `lhco_toy(opts)` and docs/generators.md.
    #[rhai_fn(name = "lhco_toy", return_raw)]
    pub fn lhco_toy_default(ctx: NativeCallContext) -> Out<EventSet> {
        lhco_toy(ctx, Map::new())
    }

    /// An LHC-Olympics-like dijet sample with known truth: columns mjj, mj1, mj2 (mj1 >= mj2),
    /// tau21_1, tau21_2, tau32_1, tau32_2, dmj and label (1 signal Z' -> X(qq) Y(qq), 0 QCD).
    /// Options (defaults from the preset): `preset` ("rnd": 1M background + 1000 signal at
    /// 3500/500/100 GeV; "bb1": 834 signal at 3823/732/378 GeV in 1M events; "bb2": background
    /// only, alternative shower), `background`, `signal`, `mz`, `mx`, `my` (GeV), `variant`
    /// ("data" or "sim": Herwig-like shower differences), `mj_mjj_slope` (adds slope * mjj to
    /// the jet masses; 0.1 for the SA-CWoLa study), `mj_mjj_power` (0: multiplies the
    /// background jet masses by (mjj / 3500 GeV)^power; 0.93 makes them proportional to mjj,
    /// the sample on which CWoLa's features are checked), `seed` (default: the session seed).
    /// The model, tuned to Pythia 8 events (signal jets that miss a prong, tau up to 1.5), is
    /// documented in docs/generators.md.
    #[rhai_fn(return_raw)]
    pub fn lhco_toy(ctx: NativeCallContext, opts: Map) -> Out<EventSet> {
        let allowed = [
            "preset",
            "background",
            "signal",
            "mz",
            "mx",
            "my",
            "variant",
            "mj_mjj_slope",
            "mj_mjj_power",
            "seed",
        ];
        let o = Options::new("lhco_toy", opts, &allowed)?;
        let mut toy = LhcoToyOptions::preset(Preset::parse(&o.string("preset", "rnd")?)?);
        toy.background = o.count("background", toy.background)?;
        toy.signal = o.count("signal", toy.signal)?;
        toy.mz = o.float("mz", toy.mz)?;
        toy.mx = o.float("mx", toy.mx)?;
        toy.my = o.float("my", toy.my)?;
        if let Some(v) = o.optional_string("variant")? {
            toy.variant = Variant::parse(&v)?;
        }
        toy.mj_mjj_slope = o.float("mj_mjj_slope", toy.mj_mjj_slope)?;
        toy.mj_mjj_power = o.float("mj_mjj_power", toy.mj_mjj_power)?;
        toy.seed = o.seed_or_session(&ctx)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        events(generate_lhco(&toy, Some(&interrupt))?)
    }

    /// A Dark-Machines-like object-level sample: up to 20 objects (jets, b-jets, electrons,
    /// muons, photons with E, pt, eta, phi) and MET per event, in the flat layout
    /// (met, met_phi, n_obj, obj{i}_type/e/pt/eta/phi) plus label, weight and process (a code per physics process, see docs/darkmachines.md).
    /// Options: `channel` ("1", "2a", "2b", "3"; default "3"), `background` (100000),
    /// `signal` (1000), `signal_model` (see docs/darkmachines.md), `seed` (default: the
    /// session seed).
    #[rhai_fn(return_raw)]
    pub fn darkmachines_toy(ctx: NativeCallContext, opts: Map) -> Out<EventSet> {
        let o = Options::new(
            "darkmachines_toy",
            opts,
            &["channel", "background", "signal", "signal_model", "seed"],
        )?;
        let mut toy = DarkMachinesToyOptions::default();
        if let Some(c) = o.optional_string("channel")? {
            toy.channel = Channel::parse(&c)?;
        }
        toy.background = o.count("background", toy.background)?;
        toy.signal = o.count("signal", toy.signal)?;
        if let Some(m) = o.optional_string("signal_model")? {
            toy.signal_model = SignalModel::parse(&m)?;
        }
        toy.seed = o.seed_or_session(&ctx)?;
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

    /// Reads an LHC Olympics HDF5 file with options: `key` (the pandas key; default the
    /// first table), `start` and `stop` (a row range, to read part of a large file),
    /// `derive` (default true: add the high-level columns to a features table; false keeps
    /// the file's columns only).
    #[rhai_fn(return_raw)]
    pub fn read_lhco(path: &str, opts: Map) -> Out<EventSet> {
        let o = Options::new("read_lhco", opts, &["key", "start", "stop", "derive"])?;
        let key = o.optional_string("key")?;
        let rows = match (o.has("start"), o.has("stop")) {
            (false, false) => None,
            (_, true) => Some(o.count("start", 0)?..o.count("stop", 0)?),
            (true, false) => {
                return Err(Error::invalid(
                    "option 'start' of read_lhco",
                    "give 'stop' too: the range is start..stop",
                )
                .into());
            }
        };
        let (_, columns) = lhco_h5::read_lhco(Path::new(path), key.as_deref(), rows)?;
        features_events(columns, o.flag("derive", true)?)
    }

    /// The LHC Olympics features of raw-particle events (`read_lhco` of a raw file): each
    /// event's particles (massless, from pt_i, eta_i, phi_i) are clustered into jets and the
    /// two leading jets by pT give pxj1, pyj1, pzj1, mj1, tau1j1, tau2j1, tau3j1 (and the
    /// same for jet 2; zeros for a missing jet), from which the papers' columns mjj, mj1, mj2,
    /// tau21_1, ..., dmj are derived as `read_lhco` derives them; `label` is kept. Options:
    /// `algorithm` ("anti_kt", "kt", "ca"), `r` (1.0), `ptmin` (0 GeV: jets considered),
    /// `beta` (1), `axes` ("kt": exclusive-kT axes, or "ca"), `r0` (1) and `normalise`
    /// (true: tau_N divided by sum pT R0^beta), `derive` (true). Events run in parallel.
    #[rhai_fn(name = "jet_features", return_raw)]
    pub fn jet_features(ctx: NativeCallContext, raw: EventSet, opts: Map) -> Out<EventSet> {
        let o = Options::new("jet_features", opts, &JET_FEATURE_KEYS)?;
        let options = super::jet_feature_options(&o)?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        let columns = raw.numeric_columns();
        let progress = crate::progress::Progress::new("jet features", raw.len() as u64);
        let features = lhco_jets::raw_features(&columns, &options, 0, &progress, Some(&interrupt))?;
        features_events(features, o.flag("derive", true)?)
    }

    /// `jet_features(raw, #{})`: anti-kT R = 1 jets, tau_N with beta = 1 on exclusive-kT axes.
    #[rhai_fn(name = "jet_features", return_raw)]
    pub fn jet_features_default(ctx: NativeCallContext, raw: EventSet) -> Out<EventSet> {
        jet_features(ctx, raw, Map::new())
    }

    /// The features of the raw-particle LHC Olympics file at `path` (HDF5, as published),
    /// read `window` rows at a time (default 10 000) so that a file of a million events never
    /// holds its 2101 raw columns in memory at once; with a progress bar. Takes the options
    /// of `jet_features(raw, opts)` and `key` (the pandas key, default the first table).
    #[rhai_fn(name = "jet_features", return_raw)]
    pub fn jet_features_file(ctx: NativeCallContext, path: &str, opts: Map) -> Out<EventSet> {
        let mut allowed = JET_FEATURE_KEYS.to_vec();
        allowed.extend(["key", "window"]);
        let o = Options::new("jet_features", opts, &allowed)?;
        let options = super::jet_feature_options(&o)?;
        let key = o.optional_string("key")?;
        let interrupt = session_state(&ctx)?.interrupt.clone();
        let features =
            lhco_jets::file_features(Path::new(path), key.as_deref(), &options, Some(&interrupt))?;
        features_events(features, o.flag("derive", true)?)
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
