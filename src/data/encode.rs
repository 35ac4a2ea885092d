//! Event encodings for the object-level models, computed from the flat object layout of
//! [`crate::data::objects`] (columns `met`, `met_phi`, `n_obj`, `obj{i}_type/e/pt/eta/phi`).
//!
//! - [`fixed_vector`]: the fixed-length vector of the Deep SVDD models of *Rare and Different*
//!   (Caron, Hendriks, Verheyen, section on the data set): objects sorted by type into a fixed
//!   number of slots per type (the most objects of that type in any event), a class part of
//!   ones and zeros marking the occupied slots, then a continuous part holding E, pT, eta, phi
//!   of each slot (zeros for empty ones) followed by MET and MET phi.
//! - [`flow_encoding`]: the input of the autoregressive flow of *Rare and Different*: MET,
//!   MET phi, the number of objects of each type, then (type, E, pT, eta, phi) of the
//!   [`FLOW_JETS`] hardest jets or b-jets and the [`FLOW_LEPTONS`] hardest leptons (zeros for
//!   absent ones); [`FlowEncoding::dequantise`] spreads its discrete entries (types and
//!   counts) uniformly over ±0.5, as the paper does for the flow.
//! - [`set_encoding`]: the set of the Deep Set VAE (Ostdiek, section 3.1): per object
//!   (log10 E, log10 pT, eta, phi, type id), the missing transverse momentum as one more
//!   object, padded to [`MAX_OBJECTS`] with a mask.
//!
//! Neither encoding rescales: standardise the result (e.g. with `data::scaler`) before
//! training, as both papers' networks expect inputs of order one. `docs/darkmachines.md` gives
//! the exact definitions.

use crate::data::NamedColumns;
use crate::data::objects::{MAX_OBJECTS, Object, ObjectEvent, ObjectType, object_columns};
use rand_xoshiro::rand_core::SeedableRng;

use crate::{Error, Result};

/// Number of object types (the length of a [`TypeSlots`]).
pub const TYPE_COUNT: usize = ObjectType::ALL.len();

/// Slots per object type, indexed in [`ObjectType::ALL`] order (j, b, e-, e+, m-, m+, g).
pub type TypeSlots = [usize; TYPE_COUNT];

/// Features per object in the set encoding: log10 E, log10 pT, eta, phi, type id.
pub const SET_FEATURES: usize = 5;

/// The type id of the missing-transverse-momentum object in the set encoding (the object
/// types use their codes 1 to 7; MET is the eighth particle id of the Deep Set VAE).
pub const MET_TYPE_ID: f32 = 8.0;

/// Energies and momenta below this (GeV) are raised to it before taking log10 in the set
/// encoding, so that a zero MET encodes as -3 instead of minus infinity.
pub const LOG_FLOOR_GEV: f64 = 1e-3;

/// Short ASCII names of the types in [`ObjectType::ALL`] order, used in feature names.
const TYPE_NAMES: [&str; TYPE_COUNT] = ["j", "b", "em", "ep", "mm", "mp", "g"];

/// The fixed-length encoding of *Rare and Different*, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct FixedVector {
    /// Slots per object type.
    pub slots: TypeSlots,
    /// Feature names, `width` of them: `{t}{k}_class` for every slot, then `{t}{k}_e`,
    /// `{t}{k}_pt`, `{t}{k}_eta`, `{t}{k}_phi` for every slot, then `met`, `met_phi`; `t` is
    /// one of `j b em ep mm mp g` and `k` counts from 0 in decreasing pT.
    pub names: Vec<String>,
    /// Number of events (rows).
    pub n_events: usize,
    /// Values per event: `5 * (total slots) + 2`.
    pub width: usize,
    /// `n_events * width` values, event after event.
    pub values: Vec<f32>,
}

/// The set encoding of the Deep Set VAE.
#[derive(Clone, Debug, PartialEq)]
pub struct SetEncoding {
    /// Number of events.
    pub n_events: usize,
    /// Set elements per event: [`MAX_OBJECTS`] (20).
    pub max_objects: usize,
    /// Features per element: [`SET_FEATURES`] (5).
    pub features: usize,
    /// Row-major `[event][element][feature]` values; padding elements are all zero.
    pub values: Vec<f32>,
    /// Row-major `[event][element]`: 1 for a present element, 0 for padding.
    pub mask: Vec<f32>,
}

/// Reads the events of the flat object layout back, checking it: every layout column present,
/// equal lengths, `n_obj` a whole number in 0..=20, type codes 1..=7 for the present objects,
/// finite values, and no negative E, pT or MET.
pub fn object_events(cols: &NamedColumns) -> Result<Vec<ObjectEvent>> {
    let layout = Layout::find(cols)?;
    (0..layout.len).map(|row| layout.event(row)).collect()
}

/// The most objects of each type in any event of `cols`: the slots of [`fixed_vector`].
pub fn max_type_counts(cols: &NamedColumns) -> Result<TypeSlots> {
    Ok(type_counts(&object_events(cols)?))
}

/// The fixed-length vector of *Rare and Different* with one slot per object of each type up
/// to the most found in any event of `cols` (see [`FixedVector`]).
pub fn fixed_vector(cols: &NamedColumns) -> Result<FixedVector> {
    let events = object_events(cols)?;
    let slots = type_counts(&events);
    Ok(encode_fixed(&events, slots))
}

/// The fixed-length vector with given `slots`, e.g. those of the training sample
/// ([`FixedVector::slots`], [`max_type_counts`]), so that other samples get the same width.
/// Objects beyond a type's slots are dropped, softest first.
pub fn fixed_vector_with_slots(cols: &NamedColumns, slots: &TypeSlots) -> Result<FixedVector> {
    let events = object_events(cols)?;
    Ok(encode_fixed(&events, *slots))
}

/// The set encoding of the Deep Set VAE (see [`SetEncoding`]). Element 0 is the missing
/// transverse momentum, `(0, log10 MET, 0, MET phi, 8)`: the paper gives it zero energy and no
/// eta, and log10 of zero energy is written as 0. The objects follow in their stored order as
/// `(log10 E, log10 pT, eta, phi, type code)`. An event with 20 objects keeps its 19 hardest
/// (the softest object is dropped to make room for MET).
pub fn set_encoding(cols: &NamedColumns) -> Result<SetEncoding> {
    let events = object_events(cols)?;
    let n = events.len();
    let stride = MAX_OBJECTS * SET_FEATURES;
    let mut values = vec![0.0f32; n * stride];
    let mut mask = vec![0.0f32; n * MAX_OBJECTS];
    for (i, event) in events.iter().enumerate() {
        let elements = set_elements(event);
        for (k, element) in elements.iter().enumerate() {
            values[i * stride + k * SET_FEATURES..][..SET_FEATURES].copy_from_slice(element);
            mask[i * MAX_OBJECTS + k] = 1.0;
        }
    }
    Ok(SetEncoding {
        n_events: n,
        max_objects: MAX_OBJECTS,
        features: SET_FEATURES,
        values,
        mask,
    })
}

/// Jets or b-jets (hardest first) kept in the flow encoding (7, Caron et al. 2021).
pub const FLOW_JETS: usize = 7;

/// Leptons (e-, e+, mu-, mu+; hardest first) kept in the flow encoding (4, Caron et al. 2021).
pub const FLOW_LEPTONS: usize = 4;

/// The counts in the flow encoding, in this order: jets, b-jets, photons, e-, e+, mu-, mu+.
const FLOW_COUNTED: [ObjectType; 7] = [
    ObjectType::Jet,
    ObjectType::BJet,
    ObjectType::Photon,
    ObjectType::Electron,
    ObjectType::Positron,
    ObjectType::Muon,
    ObjectType::AntiMuon,
];

/// The flow's event encoding of *Rare and Different* (section V), row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowEncoding {
    /// Feature names, `width` of them: `met`, `met_phi`, `n_j`, `n_b`, `n_g`, `n_em`, `n_ep`,
    /// `n_mm`, `n_mp`, then `jet{k}_type/e/pt/eta/phi` for k < [`FLOW_JETS`] and
    /// `lep{k}_type/e/pt/eta/phi` for k < [`FLOW_LEPTONS`] (k counts in decreasing pT; the
    /// type is the object code of `data::objects`, 0 for an absent object).
    pub names: Vec<String>,
    /// Whether each feature is discrete (a count or a type): the ones dequantised.
    pub discrete: Vec<bool>,
    /// Number of events (rows).
    pub n_events: usize,
    /// Values per event: 2 + 7 + 5 ([`FLOW_JETS`] + [`FLOW_LEPTONS`]) = 64.
    pub width: usize,
    /// `n_events * width` values, event after event.
    pub values: Vec<f32>,
}

impl FlowEncoding {
    /// Adds U(-0.5, 0.5) noise, drawn from `seed`, to every discrete entry (types, absent
    /// objects' 0 included, and counts), so that the flow sees a density instead of point
    /// masses: a count of 1 becomes a number in [0.5, 1.5). Continuous entries are unchanged.
    pub fn dequantise(&mut self, seed: u64) {
        use rand::RngExt;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        for row in self.values.chunks_mut(self.width.max(1)) {
            for (v, &d) in row.iter_mut().zip(&self.discrete) {
                if d {
                    *v += rng.random::<f32>() - 0.5;
                }
            }
        }
    }
}

/// The object groups of the flow encoding (photons are only counted).
#[derive(Clone, Copy, PartialEq, Eq)]
enum FlowGroup {
    Jets,
    Leptons,
}

impl FlowGroup {
    fn of(kind: ObjectType) -> Option<FlowGroup> {
        match kind {
            ObjectType::Jet | ObjectType::BJet => Some(FlowGroup::Jets),
            ObjectType::Photon => None,
            _ => Some(FlowGroup::Leptons),
        }
    }
}

/// The flow encoding of the events of `cols` (see [`FlowEncoding`]), not yet dequantised.
pub fn flow_encoding(cols: &NamedColumns) -> Result<FlowEncoding> {
    let events = object_events(cols)?;
    let mut names: Vec<String> = vec!["met".into(), "met_phi".into()];
    names.extend(
        FLOW_COUNTED
            .iter()
            .map(|&t| format!("n_{}", TYPE_NAMES[type_index(t)])),
    );
    let counted = names.len();
    for (prefix, n) in [("jet", FLOW_JETS), ("lep", FLOW_LEPTONS)] {
        for k in 0..n {
            names.extend(["type", "e", "pt", "eta", "phi"].map(|f| format!("{prefix}{k}_{f}")));
        }
    }
    let width = names.len();
    let discrete = (0..width)
        .map(|i| (2..counted).contains(&i) || (i >= counted && (i - counted).is_multiple_of(5)))
        .collect();
    let mut values = Vec::with_capacity(events.len() * width);
    for event in &events {
        values.extend([event.met as f32, event.met_phi as f32]);
        for t in FLOW_COUNTED {
            values.push(event.objects.iter().filter(|o| o.kind == t).count() as f32);
        }
        for (group, n) in [
            (FlowGroup::Jets, FLOW_JETS),
            (FlowGroup::Leptons, FLOW_LEPTONS),
        ] {
            let mut chosen: Vec<&Object> = event
                .objects
                .iter()
                .filter(|o| FlowGroup::of(o.kind) == Some(group))
                .collect();
            chosen.sort_by(|a, b| b.pt.total_cmp(&a.pt));
            for k in 0..n {
                match chosen.get(k) {
                    Some(o) => values.extend([
                        f32::from(o.kind.code()),
                        o.e as f32,
                        o.pt as f32,
                        o.eta as f32,
                        o.phi as f32,
                    ]),
                    None => values.extend([0.0; 5]),
                }
            }
        }
    }
    Ok(FlowEncoding {
        names,
        discrete,
        n_events: events.len(),
        width,
        values,
    })
}

/// The set elements of one event: MET first, then at most `MAX_OBJECTS - 1` objects.
fn set_elements(event: &ObjectEvent) -> Vec<[f32; SET_FEATURES]> {
    let mut elements = Vec::with_capacity(MAX_OBJECTS);
    elements.push([
        0.0,
        log10_floor(event.met),
        0.0,
        event.met_phi as f32,
        MET_TYPE_ID,
    ]);
    let kept = hardest(&event.objects, MAX_OBJECTS - 1);
    elements.extend(kept.iter().map(|o| {
        [
            log10_floor(o.e),
            log10_floor(o.pt),
            o.eta as f32,
            o.phi as f32,
            f32::from(o.kind.code()),
        ]
    }));
    elements
}

/// The `n` hardest of `objects` in their original order.
fn hardest(objects: &[Object], n: usize) -> Vec<Object> {
    if objects.len() <= n {
        return objects.to_vec();
    }
    let mut by_pt: Vec<usize> = (0..objects.len()).collect();
    by_pt.sort_by(|&a, &b| objects[b].pt.total_cmp(&objects[a].pt));
    let mut keep = by_pt[..n].to_vec();
    keep.sort_unstable();
    keep.into_iter().map(|i| objects[i]).collect()
}

fn log10_floor(x: f64) -> f32 {
    x.max(LOG_FLOOR_GEV).log10() as f32
}

/// The position of `kind` in [`ObjectType::ALL`] (codes run from 1 in that order).
fn type_index(kind: ObjectType) -> usize {
    usize::from(kind.code()) - 1
}

fn type_counts(events: &[ObjectEvent]) -> TypeSlots {
    let mut max = [0; TYPE_COUNT];
    for event in events {
        let mut counts = [0; TYPE_COUNT];
        for o in &event.objects {
            counts[type_index(o.kind)] += 1;
        }
        for (m, c) in max.iter_mut().zip(counts) {
            *m = (*m).max(c);
        }
    }
    max
}

fn fixed_names(slots: &TypeSlots) -> Vec<String> {
    let slot_names: Vec<String> = TYPE_NAMES
        .iter()
        .zip(slots)
        .flat_map(|(t, &n)| (0..n).map(move |k| format!("{t}{k}")))
        .collect();
    let mut names: Vec<String> = slot_names.iter().map(|s| format!("{s}_class")).collect();
    for s in &slot_names {
        names.extend(["e", "pt", "eta", "phi"].map(|f| format!("{s}_{f}")));
    }
    names.extend(["met".to_string(), "met_phi".to_string()]);
    names
}

fn encode_fixed(events: &[ObjectEvent], slots: TypeSlots) -> FixedVector {
    let total: usize = slots.iter().sum();
    let width = 5 * total + 2;
    let first_slot: Vec<usize> = slots
        .iter()
        .scan(0, |acc, &n| {
            let first = *acc;
            *acc += n;
            Some(first)
        })
        .collect();
    let mut values = vec![0.0f32; events.len() * width];
    for (row, event) in events.iter().enumerate() {
        let out = &mut values[row * width..(row + 1) * width];
        let mut by_type: Vec<&Object> = event.objects.iter().collect();
        by_type.sort_by(|a, b| a.kind.cmp(&b.kind).then(b.pt.total_cmp(&a.pt)));
        let mut used = [0; TYPE_COUNT];
        for o in by_type {
            let t = type_index(o.kind);
            if used[t] == slots[t] {
                continue;
            }
            let slot = first_slot[t] + used[t];
            used[t] += 1;
            out[slot] = 1.0;
            out[total + 4 * slot..][..4].copy_from_slice(&[
                o.e as f32,
                o.pt as f32,
                o.eta as f32,
                o.phi as f32,
            ]);
        }
        out[width - 2] = event.met as f32;
        out[width - 1] = event.met_phi as f32;
    }
    FixedVector {
        slots,
        names: fixed_names(&slots),
        n_events: events.len(),
        width,
        values,
    }
}

/// The layout columns of a [`NamedColumns`], found by name.
struct Layout<'a> {
    len: usize,
    met: &'a [f64],
    met_phi: &'a [f64],
    n_obj: &'a [f64],
    /// Per object slot: type, E, pT, eta, phi.
    objects: Vec<[&'a [f64]; 5]>,
}

impl<'a> Layout<'a> {
    fn find(cols: &'a NamedColumns) -> Result<Self> {
        let len = cols.first().map_or(0, |(_, v)| v.len());
        if let Some((name, v)) = cols.iter().find(|(_, v)| v.len() != len) {
            return Err(Error::invalid(
                "columns",
                format!(
                    "column '{name}' has {} values but '{}' has {len}; all columns need one value per event",
                    v.len(),
                    cols[0].0
                ),
            ));
        }
        let get = |name: &str| -> Result<&'a [f64]> {
            cols.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice()).ok_or_else(|| {
                Error::invalid(
                    "columns",
                    format!("missing column '{name}'; the object layout needs met, met_phi, n_obj and obj{{i}}_type/e/pt/eta/phi for i = 0..{}", MAX_OBJECTS - 1),
                )
            })
        };
        let mut objects = Vec::with_capacity(MAX_OBJECTS);
        for i in 0..MAX_OBJECTS {
            let [t, e, pt, eta, phi] = object_columns(i);
            objects.push([get(&t)?, get(&e)?, get(&pt)?, get(&eta)?, get(&phi)?]);
        }
        Ok(Layout {
            len,
            met: get("met")?,
            met_phi: get("met_phi")?,
            n_obj: get("n_obj")?,
            objects,
        })
    }

    fn event(&self, row: usize) -> Result<ObjectEvent> {
        let bad = |problem: String| Error::invalid("columns", format!("event {row}: {problem}"));
        let met = self.met[row];
        let met_phi = self.met_phi[row];
        if !met.is_finite() || met < 0.0 || !met_phi.is_finite() {
            return Err(bad(format!(
                "met = {met}, met_phi = {met_phi}: need a finite met >= 0 and a finite met_phi"
            )));
        }
        let n = self.n_obj[row];
        if !(n.fract() == 0.0 && (0.0..=MAX_OBJECTS as f64).contains(&n)) {
            return Err(bad(format!(
                "n_obj = {n} is not a whole number from 0 to {MAX_OBJECTS}"
            )));
        }
        let objects = (0..n as usize)
            .map(|i| self.object(row, i).map_err(bad))
            .collect::<Result<_>>()?;
        Ok(ObjectEvent {
            met,
            met_phi,
            objects,
        })
    }

    fn object(&self, row: usize, i: usize) -> std::result::Result<Object, String> {
        let [t, e, pt, eta, phi] = self.objects[i].map(|c| c[row]);
        let kind = (t.fract() == 0.0 && (0.0..=255.0).contains(&t))
            .then(|| ObjectType::from_code(t as u8))
            .flatten()
            .ok_or_else(|| format!("obj{i}_type = {t} is not an object type code (1 to 7)"))?;
        if ![e, pt, eta, phi].iter().all(|v| v.is_finite()) || e < 0.0 || pt < 0.0 {
            return Err(format!(
                "obj{i} has e = {e}, pt = {pt}, eta = {eta}, phi = {phi}: need finite values and e, pt >= 0"
            ));
        }
        Ok(Object {
            kind,
            e,
            pt,
            eta,
            phi,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::objects::to_columns;

    fn obj(kind: ObjectType, pt: f64, eta: f64, phi: f64) -> Object {
        Object {
            kind,
            e: pt * eta.cosh(),
            pt,
            eta,
            phi,
        }
    }

    /// Two hand-made events: two jets, a muon and a photon; one electron.
    fn sample() -> NamedColumns {
        let a = ObjectEvent {
            met: 100.0,
            met_phi: 0.5,
            objects: vec![
                obj(ObjectType::Jet, 50.0, 0.0, 1.0),
                obj(ObjectType::Jet, 200.0, 1.0, -1.0),
                obj(ObjectType::Muon, 30.0, -0.5, 2.0),
                obj(ObjectType::Photon, 25.0, 0.2, -2.0),
            ],
        };
        let b = ObjectEvent {
            met: 10.0,
            met_phi: -3.0,
            objects: vec![obj(ObjectType::Electron, 40.0, 0.0, 0.0)],
        };
        to_columns(&[a, b], vec![("label".into(), vec![0.0, 1.0])])
    }

    fn set(cols: &mut NamedColumns, name: &str, row: usize, value: f64) {
        cols.iter_mut().find(|(n, _)| n == name).unwrap().1[row] = value;
    }

    #[test]
    fn flow_encoding_orders_objects_and_dequantises_only_discrete_entries() {
        let enc = flow_encoding(&sample()).unwrap();
        assert_eq!(enc.width, 2 + 7 + 5 * (FLOW_JETS + FLOW_LEPTONS));
        assert_eq!(
            (enc.names.len(), enc.discrete.len()),
            (enc.width, enc.width)
        );
        assert_eq!(enc.n_events, 2);
        let row = |r: usize| &enc.values[r * enc.width..(r + 1) * enc.width];
        let at = |name: &str| enc.names.iter().position(|n| n == name).unwrap();
        let a = row(0);
        assert_eq!((a[at("met")], a[at("met_phi")]), (100.0, 0.5));
        // Counts: 2 jets, 0 b, 1 photon, 0 e-, 0 e+, 1 mu-, 0 mu+.
        assert_eq!(&a[2..9], &[2.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
        // Jets by decreasing pT: the 200 GeV one first.
        assert_eq!(a[at("jet0_type")], 1.0);
        assert_eq!((a[at("jet0_pt")], a[at("jet0_phi")]), (200.0, -1.0));
        assert_eq!(a[at("jet1_pt")], 50.0);
        assert_eq!(&a[at("jet2_type")..at("lep0_type")], &[0.0; 25][..]);
        // The muon is the only lepton; the photon is only counted.
        assert_eq!((a[at("lep0_type")], a[at("lep0_pt")]), (5.0, 30.0));
        assert_eq!(a[at("lep1_type")], 0.0);
        let b = row(1);
        assert_eq!(&b[2..9], &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!((b[at("lep0_type")], b[at("lep0_pt")]), (3.0, 40.0));
        assert_eq!(b[at("jet0_type")], 0.0);

        let mut noisy = enc.clone();
        noisy.dequantise(7);
        let mut again = enc.clone();
        again.dequantise(7);
        assert_eq!(noisy, again, "seeded");
        for (i, (&v, &w)) in enc.values.iter().zip(&noisy.values).enumerate() {
            if enc.discrete[i % enc.width] {
                assert!(
                    (w - v).abs() <= 0.5 && w != v,
                    "{}: {v} -> {w}",
                    enc.names[i % enc.width]
                );
            } else {
                assert_eq!(v, w, "{}", enc.names[i % enc.width]);
            }
        }
        let discrete: Vec<&str> = enc
            .names
            .iter()
            .zip(&enc.discrete)
            .filter(|(_, d)| **d)
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(discrete.len(), 7 + FLOW_JETS + FLOW_LEPTONS);
        assert!(
            discrete
                .iter()
                .all(|n| n.starts_with("n_") || n.ends_with("_type"))
        );
    }

    #[test]
    fn object_events_inverts_to_columns() {
        let events = object_events(&sample()).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].objects.len(), 4);
        assert_eq!(events[0].objects[1].pt, 200.0);
        assert_eq!(events[1].objects[0].kind, ObjectType::Electron);
        assert_eq!(
            to_columns(&events, vec![("label".into(), vec![0.0, 1.0])]),
            sample()
        );
    }

    #[test]
    fn layout_errors_name_the_problem() {
        let mut cols = sample();
        cols.retain(|(n, _)| n != "obj7_eta");
        let err = object_events(&cols).unwrap_err().to_string();
        assert!(err.contains("missing column 'obj7_eta'"), "{err}");

        let mut cols = sample();
        set(&mut cols, "obj0_type", 1, 9.0);
        let err = object_events(&cols).unwrap_err().to_string();
        assert!(
            err.contains("event 1") && err.contains("obj0_type = 9"),
            "{err}"
        );

        let mut cols = sample();
        set(&mut cols, "n_obj", 0, 2.5);
        assert!(
            object_events(&cols)
                .unwrap_err()
                .to_string()
                .contains("n_obj = 2.5")
        );

        let mut cols = sample();
        set(&mut cols, "obj2_pt", 0, f64::NAN);
        assert!(
            object_events(&cols)
                .unwrap_err()
                .to_string()
                .contains("obj2")
        );

        let mut cols = sample();
        set(&mut cols, "met", 1, -1.0);
        assert!(
            object_events(&cols)
                .unwrap_err()
                .to_string()
                .contains("met = -1")
        );

        let mut cols = sample();
        cols[5].1.pop();
        assert!(
            object_events(&cols)
                .unwrap_err()
                .to_string()
                .contains("one value per event")
        );
    }

    #[test]
    fn fixed_vector_follows_rare_and_different() {
        let fv = fixed_vector(&sample()).unwrap();
        // Slots: 2 jets, 0 b, 1 e-, 0 e+, 1 m-, 0 m+, 1 photon = 5 slots.
        assert_eq!(fv.slots, [2, 0, 1, 0, 1, 0, 1]);
        assert_eq!(fv.width, 5 * 5 + 2);
        assert_eq!(fv.names.len(), fv.width);
        assert_eq!(fv.values.len(), 2 * fv.width);
        assert_eq!(
            &fv.names[..5],
            &["j0_class", "j1_class", "em0_class", "mm0_class", "g0_class"]
        );
        assert_eq!(&fv.names[5..9], &["j0_e", "j0_pt", "j0_eta", "j0_phi"]);
        assert_eq!(&fv.names[25..], &["met", "met_phi"]);

        let row0 = &fv.values[..fv.width];
        assert_eq!(&row0[..5], &[1.0, 1.0, 0.0, 1.0, 1.0]);
        // Jets in decreasing pT: the 200 GeV jet first.
        let e200 = (200.0 * 1f64.cosh()) as f32;
        assert_eq!(
            &row0[5..13],
            &[e200, 200.0, 1.0, -1.0, 50.0, 50.0, 0.0, 1.0]
        );
        assert_eq!(&row0[13..17], &[0.0; 4]);
        assert_eq!(&row0[25..], &[100.0, 0.5]);

        let row1 = &fv.values[fv.width..];
        assert_eq!(&row1[..5], &[0.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(&row1[13..17], &[40.0, 40.0, 0.0, 0.0]);
        assert_eq!(&row1[25..], &[10.0, -3.0]);
    }

    #[test]
    fn fixed_vector_with_fewer_slots_drops_the_softest() {
        let fv = fixed_vector_with_slots(&sample(), &[1, 0, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(fv.width, 7);
        assert_eq!(
            fv.names,
            [
                "j0_class", "j0_e", "j0_pt", "j0_eta", "j0_phi", "met", "met_phi"
            ]
        );
        assert_eq!(fv.values[2], 200.0);
        assert_eq!(&fv.values[7..], &[0.0, 0.0, 0.0, 0.0, 0.0, 10.0, -3.0]);
        assert_eq!(max_type_counts(&sample()).unwrap(), [2, 0, 1, 0, 1, 0, 1]);
    }

    #[test]
    fn set_encoding_puts_met_first_and_pads_with_a_mask() {
        let enc = set_encoding(&sample()).unwrap();
        assert_eq!((enc.n_events, enc.max_objects, enc.features), (2, 20, 5));
        assert_eq!(enc.values.len(), 2 * 20 * 5);
        assert_eq!(enc.mask.len(), 2 * 20);
        let mut mask0 = vec![1.0; 5];
        mask0.resize(20, 0.0);
        assert_eq!(&enc.mask[..20], mask0.as_slice());
        let mut mask1 = vec![1.0; 2];
        mask1.resize(20, 0.0);
        assert_eq!(&enc.mask[20..], mask1.as_slice());

        let ev0 = &enc.values[..100];
        assert_eq!(&ev0[..5], &[0.0, 2.0, 0.0, 0.5, 8.0]);
        let jet = &ev0[10..15];
        assert_eq!(
            jet,
            &[
                (200.0 * 1f64.cosh()).log10() as f32,
                200f64.log10() as f32,
                1.0,
                -1.0,
                1.0
            ]
        );
        let e_muon = (30.0 * 0.5f64.cosh()).log10() as f32;
        assert_eq!(
            &ev0[15..20],
            &[e_muon, 30f64.log10() as f32, -0.5, 2.0, 5.0]
        );
        assert!(ev0[25..].iter().all(|&v| v == 0.0));
        let ev1 = &enc.values[100..];
        assert_eq!(&ev1[..5], &[0.0, 1.0, 0.0, -3.0, 8.0]);
        assert_eq!(
            &ev1[5..10],
            &[40f64.log10() as f32, 40f64.log10() as f32, 0.0, 0.0, 3.0]
        );
        assert!(ev1[10..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn set_encoding_of_a_full_event_drops_the_softest_object() {
        let objects: Vec<Object> = (0..20)
            .map(|i| obj(ObjectType::Jet, 100.0 - i as f64, 0.0, 0.0))
            .collect();
        let event = ObjectEvent {
            met: 0.0,
            met_phi: 0.0,
            objects,
        };
        let enc = set_encoding(&to_columns(&[event], vec![])).unwrap();
        assert!(enc.mask.iter().all(|&m| m == 1.0));
        assert_eq!(enc.values[1], -3.0, "zero MET is floored at 1 MeV");
        let pts: Vec<f32> = (1..20).map(|k| enc.values[k * 5 + 1]).collect();
        let expected: Vec<f32> = (0..19).map(|i| (100.0 - i as f64).log10() as f32).collect();
        assert_eq!(pts, expected);
    }

    #[test]
    fn empty_columns_encode_to_nothing() {
        let cols = to_columns(&[], vec![]);
        assert_eq!(set_encoding(&cols).unwrap().values.len(), 0);
        let fv = fixed_vector(&cols).unwrap();
        assert_eq!((fv.n_events, fv.width), (0, 2));
    }
}
