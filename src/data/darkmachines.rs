//! Reader for the Dark Machines anomaly score challenge CSV files.
//!
//! Each line is one event:
//!
//! ```text
//! event_id;process_id;weight;MET;METphi;type,E,pt,eta,phi;type,E,pt,eta,phi;...
//! ```
//!
//! with up to [`MAX_OBJECTS`] objects whose type is one of `j b e- e+ m- m+ g` (light jet,
//! b-jet, electron, positron, muon, anti-muon, photon). A trailing `;` and blank lines are
//! allowed; fields may be surrounded by spaces. The challenge files give energies and momenta
//! in **MeV**; the reader converts E, pT and MET to GeV, the unit of the rest of bumplab.
//!
//! The result is the flat layout of [`crate::data::objects`] (objects in file order) followed
//! by three columns: `event_id` (the file's ids when every one of them is a number, otherwise
//! the line numbers), `weight`, and `process`, a code 0, 1, 2, ... for the `process_id`
//! strings in order of first appearance ([`read_darkmachines_with_processes`] returns the
//! names). A malformed line is an error naming the file, the line and the field.

use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::data::NamedColumns;
use crate::data::objects::{MAX_OBJECTS, Object, ObjectEvent, ObjectType, to_columns};
use crate::error::quoted;
use crate::{Error, Result};

/// MeV per GeV: the challenge files are in MeV.
pub const MEV_PER_GEV: f64 = 1000.0;

/// The fields before the objects.
const HEADER_FIELDS: [&str; 5] = ["event_id", "process_id", "weight", "MET", "METphi"];

/// Reads a Dark Machines CSV file into the flat object layout plus `event_id`, `weight` and
/// `process` columns (see the module documentation).
pub fn read_darkmachines(path: &Path) -> Result<NamedColumns> {
    Ok(read_darkmachines_with_processes(path)?.0)
}

/// Like [`read_darkmachines`], also returning the process names: `names[c]` is the
/// `process_id` string of the events whose `process` column holds `c`.
pub fn read_darkmachines_with_processes(path: &Path) -> Result<(NamedColumns, Vec<String>)> {
    // A line's numbers (8 bytes each) take at least two characters each.
    let file = super::input::open_within_memory(path, 4.0)?.file;
    let mut parsed = Parsed::default();
    for (index, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line_number = index + 1;
        let bytes = line.map_err(|e| Error::io("read", path, e))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            Error::format(
                path,
                format!("line {line_number}"),
                "the line is not valid UTF-8 text",
            )
        })?;
        if !text.trim().is_empty() {
            let record = parse_line(text).map_err(|e| e.into_error(path, line_number))?;
            parsed.push(record, line_number);
        }
    }
    parsed.finish(path)
}

/// One parsed event line.
#[derive(Debug, PartialEq)]
struct Record<'a> {
    id: &'a str,
    process: &'a str,
    weight: f64,
    event: ObjectEvent,
}

/// What is wrong with a line: the field (1-based) and its description, and the problem.
#[derive(Debug)]
struct LineError {
    field: Option<(usize, String)>,
    problem: String,
}

impl LineError {
    fn line(problem: String) -> Self {
        LineError {
            field: None,
            problem,
        }
    }

    fn field(index: usize, name: impl Into<String>, problem: String) -> Self {
        LineError {
            field: Some((index + 1, name.into())),
            problem,
        }
    }

    fn into_error(self, path: &Path, line: usize) -> Error {
        let location = match self.field {
            Some((field, name)) => format!("line {line}, field {field} ({name})"),
            None => format!("line {line}"),
        };
        Error::format(path, location, self.problem)
    }
}

fn parse_line(line: &str) -> std::result::Result<Record<'_>, LineError> {
    let mut fields: Vec<&str> = line.split(';').map(str::trim).collect();
    if fields.len() > 1 && fields.last() == Some(&"") {
        fields.pop();
    }
    if fields.len() < HEADER_FIELDS.len() {
        return Err(LineError::line(format!(
            "too few fields: found {}, expected at least 5 ({}) separated by ';'",
            fields.len(),
            HEADER_FIELDS.join(";")
        )));
    }
    for (i, name) in HEADER_FIELDS.iter().enumerate().take(2) {
        if fields[i].is_empty() {
            return Err(LineError::field(i, *name, "the field is empty".to_string()));
        }
    }
    let weight = number(fields[2]).map_err(|p| LineError::field(2, "weight", p))?;
    let met = non_negative(fields[3]).map_err(|p| LineError::field(3, "MET", p))? / MEV_PER_GEV;
    let met_phi = number(fields[4]).map_err(|p| LineError::field(4, "METphi", p))?;
    let object_fields = &fields[HEADER_FIELDS.len()..];
    if object_fields.len() > MAX_OBJECTS {
        return Err(LineError::line(format!(
            "{} objects; the format holds at most {MAX_OBJECTS} per event",
            object_fields.len()
        )));
    }
    let objects = object_fields
        .iter()
        .enumerate()
        .map(|(k, field)| {
            parse_object(field).map_err(|(what, p)| {
                LineError::field(
                    HEADER_FIELDS.len() + k,
                    format!("object {}{what}", k + 1),
                    p,
                )
            })
        })
        .collect::<std::result::Result<_, _>>()?;
    Ok(Record {
        id: fields[0],
        process: fields[1],
        weight,
        event: ObjectEvent {
            met,
            met_phi,
            objects,
        },
    })
}

/// Parses `type,E,pt,eta,phi`; on error, the part concerned (`", pt"`, or empty for the whole
/// object) and the problem.
fn parse_object(field: &str) -> std::result::Result<Object, (&'static str, String)> {
    let parts: Vec<&str> = field.split(',').map(str::trim).collect();
    let [symbol, e, pt, eta, phi] = parts[..] else {
        return Err((
            "",
            format!(
                "{} has {} comma-separated values; an object is type,E,pt,eta,phi",
                quoted(field),
                parts.len()
            ),
        ));
    };
    let kind = ObjectType::from_symbol(symbol).ok_or_else(|| {
        let allowed: Vec<&str> = ObjectType::ALL.iter().map(|t| t.symbol()).collect();
        (
            ", type",
            format!(
                "unknown object type {}; allowed: {}",
                quoted(symbol),
                allowed.join(", ")
            ),
        )
    })?;
    Ok(Object {
        kind,
        e: non_negative(e).map_err(|p| (", E", p))? / MEV_PER_GEV,
        pt: non_negative(pt).map_err(|p| (", pt", p))? / MEV_PER_GEV,
        eta: number(eta).map_err(|p| (", eta", p))?,
        phi: number(phi).map_err(|p| (", phi", p))?,
    })
}

/// A finite number.
fn number(text: &str) -> std::result::Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{} is not a number", quoted(text)))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!("{} is not a finite number", quoted(text)))
    }
}

/// A finite number >= 0 (an energy or a momentum).
fn non_negative(text: &str) -> std::result::Result<f64, String> {
    let value = number(text)?;
    if value >= 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "{} is negative; energies and momenta are >= 0",
            quoted(text)
        ))
    }
}

/// The events read so far.
#[derive(Default)]
struct Parsed {
    events: Vec<ObjectEvent>,
    /// Numeric ids while every id so far is a number.
    ids: Option<Vec<f64>>,
    line_numbers: Vec<f64>,
    weights: Vec<f64>,
    codes: Vec<f64>,
    processes: Vec<String>,
}

impl Parsed {
    fn push(&mut self, record: Record<'_>, line_number: usize) {
        if self.events.is_empty() {
            self.ids = Some(Vec::new());
        }
        let numeric_id = record.id.parse::<f64>().ok().filter(|v| v.is_finite());
        self.ids = match (self.ids.take(), numeric_id) {
            (Some(mut ids), Some(id)) => {
                ids.push(id);
                Some(ids)
            }
            _ => None,
        };
        let code = match self.processes.iter().position(|p| p == record.process) {
            Some(code) => code,
            None => {
                self.processes.push(record.process.to_string());
                self.processes.len() - 1
            }
        };
        self.codes.push(code as f64);
        self.line_numbers.push(line_number as f64);
        self.weights.push(record.weight);
        self.events.push(record.event);
    }

    fn finish(self, path: &Path) -> Result<(NamedColumns, Vec<String>)> {
        if self.events.is_empty() {
            return Err(Error::format(
                path,
                "whole file",
                "no events: the file is empty or holds only blank lines",
            ));
        }
        let extra = vec![
            (
                "event_id".to_string(),
                self.ids.unwrap_or(self.line_numbers),
            ),
            ("weight".to_string(), self.weights),
            ("process".to_string(), self.codes),
        ];
        Ok((to_columns(&self.events, extra), self.processes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::encode::object_events;
    use crate::data::generate::darkmachines::{
        Channel, DarkMachinesToyOptions, SignalModel, darkmachines_toy,
    };
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/darkmachines")
            .join(name)
    }

    fn column<'a>(cols: &'a NamedColumns, name: &str) -> &'a [f64] {
        &cols.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn error_of(name: &str) -> String {
        read_darkmachines(&fixture(name)).unwrap_err().to_string()
    }

    #[test]
    fn reads_the_challenge_format() {
        let (cols, processes) = read_darkmachines_with_processes(&fixture("events.csv")).unwrap();
        assert_eq!(processes, ["ttbar", "njets", "wjets"]);
        assert_eq!(column(&cols, "event_id"), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(column(&cols, "process"), &[0.0, 1.0, 0.0, 2.0]);
        assert_eq!(column(&cols, "weight"), &[1.0, 1.0, 0.5, 2.0]);
        assert_eq!(column(&cols, "met"), &[62.8035, 10.0, 150.0, 0.0]);
        assert_eq!(column(&cols, "n_obj"), &[4.0, 2.0, 0.0, 1.0]);
        let events = object_events(&cols).unwrap();
        let first = &events[0];
        assert_eq!(first.met_phi, -2.35092);
        let kinds: Vec<ObjectType> = first.objects.iter().map(|o| o.kind).collect();
        assert_eq!(
            kinds,
            [
                ObjectType::Jet,
                ObjectType::BJet,
                ObjectType::Electron,
                ObjectType::AntiMuon
            ]
        );
        assert_eq!(
            first.objects[0],
            Object {
                kind: ObjectType::Jet,
                e: 335.11,
                pt: 132.17,
                eta: 1.34596,
                phi: 1.5673
            }
        );
        assert_eq!(events[1].objects[1].kind, ObjectType::Photon);
        assert_eq!(events[3].objects[0].kind, ObjectType::Positron);
        assert_eq!(events[3].objects[0].pt, 20.0);
    }

    #[test]
    fn non_numeric_ids_become_line_numbers() {
        let cols = read_darkmachines(&fixture("string_ids.csv")).unwrap();
        assert_eq!(column(&cols, "event_id"), &[1.0, 3.0]);
        assert_eq!(column(&cols, "process"), &[0.0, 0.0]);
    }

    #[test]
    fn bad_files_name_file_line_and_problem() {
        let cases = [
            ("too_few_fields.csv", "line 2", "too few fields: found 4"),
            (
                "not_a_number.csv",
                "line 1, field 4 (MET)",
                "'abc' is not a number",
            ),
            (
                "nan.csv",
                "line 2, field 7 (object 2, eta)",
                "'nan' is not a finite number",
            ),
            (
                "unknown_type.csv",
                "line 1, field 6 (object 1, type)",
                "unknown object type 'tau'",
            ),
            (
                "object_fields.csv",
                "line 1, field 7 (object 2)",
                "has 4 comma-separated values",
            ),
            ("too_many_objects.csv", "line 1", "21 objects"),
            (
                "negative_pt.csv",
                "line 1, field 6 (object 1, pt)",
                "negative",
            ),
            ("empty_id.csv", "line 1, field 1 (event_id)", "empty"),
            ("blank.csv", "whole file", "no events"),
        ];
        for (file, location, problem) in cases {
            let err = error_of(file);
            assert!(err.contains(file), "{file}: {err}");
            assert!(err.contains(&format!("{location}:")), "{file}: {err}");
            assert!(err.contains(problem), "{file}: {err}");
        }
    }

    #[test]
    fn every_spelling_of_a_non_finite_number_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        for value in ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"] {
            std::fs::write(
                &path,
                format!("1;ttbar;1;1000;0;j,1,1,0.5,0\n2;ttbar;1;1000;0;j,1,1,{value},0\n"),
            )
            .unwrap();
            let err = read_darkmachines(&path).unwrap_err().to_string();
            assert!(
                err.ends_with(&format!(
                    "bad.csv: line 2, field 6 (object 1, eta): '{value}' is not a finite number"
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn a_huge_field_makes_a_short_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        let big = "9".repeat(1 << 20) + "x";
        for line in [
            format!("1;ttbar;1;{big};0;\n"),
            format!("1;ttbar;1;1000;0;{big}\n"),
            format!("1;ttbar;1;1000;0;{big},1,1,1,1\n"),
        ] {
            std::fs::write(&path, line).unwrap();
            let err = read_darkmachines(&path).unwrap_err().to_string();
            assert!(err.len() < 400 && err.contains("(1048577 bytes)"), "{err}");
        }
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = read_darkmachines(&fixture("no_such_file.csv")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }

    #[test]
    fn invalid_utf8_is_a_format_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, b"1;ttbar;1;1000;0;\n2;tt\xffbar;1;1000;0;\n").unwrap();
        let err = read_darkmachines(&path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("UTF-8"), "{err}");
    }

    /// Writes generated events in the challenge format (MeV) and reads them back.
    #[test]
    fn generated_events_round_trip_through_the_format() {
        let opts = DarkMachinesToyOptions {
            channel: Channel::Ch2b,
            background: 300,
            signal: 50,
            signal_model: SignalModel::ZprimeLl,
            seed: 3,
        };
        let cols = darkmachines_toy(&opts).unwrap();
        let events = object_events(&cols).unwrap();
        let mut text = String::new();
        for (i, event) in events.iter().enumerate() {
            let process = column(&cols, "process")[i];
            text += &format!(
                "{i};p{process};1;{};{};",
                event.met * MEV_PER_GEV,
                event.met_phi
            );
            for o in &event.objects {
                let (e, pt) = (o.e * MEV_PER_GEV, o.pt * MEV_PER_GEV);
                text += &format!("{},{e},{pt},{},{};", o.kind.symbol(), o.eta, o.phi);
            }
            text += "\n";
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("toy.csv");
        std::fs::write(&path, text).unwrap();
        let (read, processes) = read_darkmachines_with_processes(&path).unwrap();
        let back = object_events(&read).unwrap();
        assert_eq!(back.len(), events.len());
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(1.0);
        for (a, b) in events.iter().zip(&back) {
            assert!(close(a.met, b.met) && a.met_phi == b.met_phi);
            assert_eq!(a.objects.len(), b.objects.len());
            for (x, y) in a.objects.iter().zip(&b.objects) {
                assert!(
                    x.kind == y.kind
                        && close(x.e, y.e)
                        && close(x.pt, y.pt)
                        && x.eta == y.eta
                        && x.phi == y.phi
                );
            }
        }
        assert_eq!(processes.len(), 4, "{processes:?}");
        assert_eq!(column(&read, "event_id")[349], 349.0);
    }
}
