//! The flat layout of object-level events (Dark Machines style).
//!
//! An event holds up to [`MAX_OBJECTS`] reconstructed objects plus missing transverse
//! energy. In an `EventSet` it is stored as plain numeric columns so that it round-trips
//! through CSV and Parquet and filters like any other sample:
//!
//! | column | meaning |
//! | --- | --- |
//! | `met`, `met_phi` | missing transverse energy (GeV) and its azimuth |
//! | `n_obj` | number of objects present (0..=20) |
//! | `obj{i}_type` | [`ObjectType`] code of object `i`, 0 when absent |
//! | `obj{i}_e`, `obj{i}_pt`, `obj{i}_eta`, `obj{i}_phi` | its four-vector (GeV, GeV, -, rad); 0 when absent |
//!
//! Objects are stored in the order of the source (generators and the challenge files order
//! them by type, then by decreasing pT), present objects first.

/// The most objects an event holds (the Dark Machines files keep at most 20).
pub const MAX_OBJECTS: usize = 20;

/// The kinds of reconstructed objects, with their integer codes in `obj{i}_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectType {
    /// Light jet (`j`).
    Jet = 1,
    /// b-tagged jet (`b`).
    BJet = 2,
    /// Electron (`e-`).
    Electron = 3,
    /// Positron (`e+`).
    Positron = 4,
    /// Muon (`m-`).
    Muon = 5,
    /// Anti-muon (`m+`).
    AntiMuon = 6,
    /// Photon (`g`).
    Photon = 7,
}

impl ObjectType {
    /// Every type in code order.
    pub const ALL: [ObjectType; 7] = [
        ObjectType::Jet,
        ObjectType::BJet,
        ObjectType::Electron,
        ObjectType::Positron,
        ObjectType::Muon,
        ObjectType::AntiMuon,
        ObjectType::Photon,
    ];

    /// The integer code stored in `obj{i}_type`.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The type with integer `code`, if any (0 means "no object").
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The symbol used in the Dark Machines CSV files: `j`, `b`, `e-`, `e+`, `m-`, `m+`, `g`.
    pub fn symbol(self) -> &'static str {
        match self {
            ObjectType::Jet => "j",
            ObjectType::BJet => "b",
            ObjectType::Electron => "e-",
            ObjectType::Positron => "e+",
            ObjectType::Muon => "m-",
            ObjectType::AntiMuon => "m+",
            ObjectType::Photon => "g",
        }
    }

    /// The type written as `symbol` in a Dark Machines CSV file.
    pub fn from_symbol(symbol: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.symbol() == symbol)
    }
}

/// The names of the per-object columns of object `i`: type, E, pT, eta, phi.
pub fn object_columns(i: usize) -> [String; 5] {
    [
        format!("obj{i}_type"),
        format!("obj{i}_e"),
        format!("obj{i}_pt"),
        format!("obj{i}_eta"),
        format!("obj{i}_phi"),
    ]
}

/// One reconstructed object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Object {
    /// What it is.
    pub kind: ObjectType,
    /// Energy (GeV).
    pub e: f64,
    /// Transverse momentum (GeV).
    pub pt: f64,
    /// Pseudorapidity.
    pub eta: f64,
    /// Azimuth (rad).
    pub phi: f64,
}

/// One object-level event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectEvent {
    /// Missing transverse energy (GeV).
    pub met: f64,
    /// Its azimuth (rad).
    pub met_phi: f64,
    /// The objects, at most [`MAX_OBJECTS`].
    pub objects: Vec<Object>,
}

/// Lays `events` out as the flat columns described in the module documentation, followed by
/// the `extra` columns (e.g. `label`, `weight`), which must have one value per event.
pub fn to_columns(events: &[ObjectEvent], extra: super::NamedColumns) -> super::NamedColumns {
    let n = events.len();
    let mut columns: super::NamedColumns = Vec::with_capacity(3 + 5 * MAX_OBJECTS + extra.len());
    columns.push(("met".into(), events.iter().map(|e| e.met).collect()));
    columns.push(("met_phi".into(), events.iter().map(|e| e.met_phi).collect()));
    columns.push((
        "n_obj".into(),
        events
            .iter()
            .map(|e| e.objects.len().min(MAX_OBJECTS) as f64)
            .collect(),
    ));
    for i in 0..MAX_OBJECTS {
        let [t, e, pt, eta, phi] = object_columns(i);
        let mut cols = [
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
        ];
        for (row, event) in events.iter().enumerate() {
            if let Some(o) = event.objects.get(i) {
                cols[0][row] = f64::from(o.kind.code());
                cols[1][row] = o.e;
                cols[2][row] = o.pt;
                cols[3][row] = o.eta;
                cols[4][row] = o.phi;
            }
        }
        let [ct, ce, cpt, ceta, cphi] = cols;
        columns.extend([(t, ct), (e, ce), (pt, cpt), (eta, ceta), (phi, cphi)]);
    }
    columns.extend(extra);
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_symbols_round_trip() {
        for t in ObjectType::ALL {
            assert_eq!(ObjectType::from_code(t.code()), Some(t));
            assert_eq!(ObjectType::from_symbol(t.symbol()), Some(t));
        }
        assert_eq!(ObjectType::from_code(0), None);
        assert_eq!(ObjectType::from_symbol("tau"), None);
    }

    #[test]
    fn flat_layout_pads_absent_objects_with_zeros() {
        let jet = Object {
            kind: ObjectType::Jet,
            e: 100.0,
            pt: 80.0,
            eta: 0.5,
            phi: 1.0,
        };
        let events = vec![
            ObjectEvent {
                met: 50.0,
                met_phi: 0.1,
                objects: vec![jet],
            },
            ObjectEvent {
                met: 10.0,
                met_phi: -1.0,
                objects: vec![],
            },
        ];
        let cols = to_columns(&events, vec![("label".into(), vec![1.0, 0.0])]);
        assert_eq!(cols.len(), 3 + 5 * MAX_OBJECTS + 1);
        let get = |name: &str| &cols.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(get("n_obj"), &vec![1.0, 0.0]);
        assert_eq!(get("obj0_type"), &vec![1.0, 0.0]);
        assert_eq!(get("obj0_pt"), &vec![80.0, 0.0]);
        assert_eq!(get("obj1_type"), &vec![0.0, 0.0]);
        assert_eq!(get("label"), &vec![1.0, 0.0]);
    }
}
