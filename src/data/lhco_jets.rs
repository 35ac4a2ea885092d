//! The LHC Olympics features table from raw particles: each event's particles (the raw
//! layout's `pt_i, eta_i, phi_i`, massless, zero-padded) are clustered into jets, and the two
//! leading jets by pT give the columns of the organisers' features file
//! (`pxj1, pyj1, pzj1, mj1, tau1j1, tau2j1, tau3j1`, the same for jet 2, and `label`), which
//! [`super::lhco_features::derive`] turns into the papers' high-level columns.
//!
//! Events are computed in parallel, in order; a large file is read in row windows
//! ([`file_features`]) so that its thousands of raw columns are never all in memory.

use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;

use super::NamedColumns;
use super::jets::{self, JetDefinition, NsubOptions, Particle};
use super::lhco_features::REQUIRED;
use super::lhco_h5::{self, LhcoLayout};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::progress::Progress;

/// Events computed between two looks at the interrupt flag and the progress bar.
const CHUNK: usize = 512;

/// How jets and their substructure are made from the particles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JetFeatureOptions {
    /// The jet algorithm and radius (the LHC Olympics: anti-kT, R = 1).
    pub jets: JetDefinition,
    /// Jets below this pT (GeV) are ignored when picking the two leading ones.
    pub ptmin: f64,
    /// N-subjettiness options (β = 1, exclusive-kT axes).
    pub nsub: NsubOptions,
    /// Rows read from a file at a time by [`file_features`].
    pub window: usize,
}

impl Default for JetFeatureOptions {
    fn default() -> Self {
        JetFeatureOptions {
            jets: JetDefinition {
                algorithm: jets::Algorithm::AntiKt,
                r: 1.0,
            },
            ptmin: 0.0,
            nsub: NsubOptions::default(),
            window: 10_000,
        }
    }
}

/// The raw layout's particle columns: for each slot `i`, the indices of `pt_i`, `eta_i` and
/// `phi_i` in `columns`, and the index of `label` if there is one.
struct RawLayout {
    slots: Vec<[usize; 3]>,
    label: Option<usize>,
}

impl RawLayout {
    /// Finds the particle slots `0, 1, ...` (as many as have all three columns).
    fn of(columns: &NamedColumns) -> Result<RawLayout> {
        let index = |name: &str| columns.iter().position(|(n, _)| n == name);
        let mut slots = Vec::new();
        while let (Some(pt), Some(eta), Some(phi)) = (
            index(&format!("pt_{}", slots.len())),
            index(&format!("eta_{}", slots.len())),
            index(&format!("phi_{}", slots.len())),
        ) {
            slots.push([pt, eta, phi]);
        }
        if slots.is_empty() {
            return Err(Error::invalid(
                "jet_features",
                "these events are not a raw-particle table: there are no columns pt_0, eta_0, \
                 phi_0 (read_lhco gives them for the LHC Olympics raw files)",
            ));
        }
        Ok(RawLayout {
            slots,
            label: index("label"),
        })
    }

    /// The particles (pT > 0) of row `row`; errors name it as event `event`.
    fn particles(&self, columns: &NamedColumns, row: usize, event: usize) -> Result<Vec<Particle>> {
        let mut out = Vec::new();
        for (slot, &[pt, eta, phi]) in self.slots.iter().enumerate() {
            let pt = columns[pt].1[row];
            if pt == 0.0 {
                continue;
            }
            let particle = Particle::from_pt_eta_phi(pt, columns[eta].1[row], columns[phi].1[row])
                .map_err(|e| {
                    Error::invalid(format!("event {event}, particle {slot}"), e.to_string())
                })?;
            out.push(particle);
        }
        Ok(out)
    }
}

/// The 14 feature values of one event (see [`REQUIRED`]); a missing second (or first) jet
/// gives zeros, as in the organisers' features.
fn event_features(particles: &[Particle], options: &JetFeatureOptions) -> Result<[f64; 14]> {
    let mut row = [0.0; 14];
    if particles.is_empty() {
        return Ok(row);
    }
    let sequence = jets::cluster(particles, &options.jets)?;
    for (k, jet) in sequence
        .inclusive_jets(options.ptmin)
        .iter()
        .take(2)
        .enumerate()
    {
        let constituents = sequence.constituents(jet)?;
        let s = jets::substructure(&constituents, &options.nsub)?;
        let p = jet.momentum;
        row[7 * k..7 * k + 7].copy_from_slice(&[
            p.px,
            p.py,
            p.pz,
            p.mass(),
            s.tau1,
            s.tau2,
            s.tau3,
        ]);
    }
    Ok(row)
}

/// The features table of the raw-particle `columns` (rows `0..n`), `label` copied when present.
/// `first_row` numbers the rows in errors (the file row of the first one).
pub fn raw_features(
    columns: &NamedColumns,
    options: &JetFeatureOptions,
    first_row: usize,
    progress: &Progress,
    interrupt: Option<&Interrupt>,
) -> Result<NamedColumns> {
    let layout = RawLayout::of(columns)?;
    let n = columns.first().map_or(0, |(_, v)| v.len());
    let rows: Vec<[f64; 14]> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            if let Some(interrupt) = interrupt {
                interrupt.check()?;
            }
            let range = c * CHUNK..(c * CHUNK + CHUNK).min(n);
            let chunk = range
                .clone()
                .map(|row| {
                    let event = first_row + row;
                    let particles = layout.particles(columns, row, event)?;
                    event_features(&particles, options).map_err(|e| jets::in_event(e, event))
                })
                .collect::<Result<Vec<_>>>();
            progress.advance(range.len() as u64);
            chunk
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let mut out: NamedColumns = REQUIRED
        .iter()
        .enumerate()
        .map(|(j, name)| (name.to_string(), rows.iter().map(|r| r[j]).collect()))
        .collect();
    if let Some(label) = layout.label {
        out.push(("label".to_string(), columns[label].1.clone()));
    }
    Ok(out)
}

/// The features table of the raw-particle DataFrame under `key` of the LHCO HDF5 file `path`,
/// read `options.window` rows at a time, with a progress bar; Ctrl-C stops it between chunks.
pub fn file_features(
    path: &Path,
    key: Option<&str>,
    options: &JetFeatureOptions,
    interrupt: Option<&Interrupt>,
) -> Result<NamedColumns> {
    if options.window == 0 {
        return Err(Error::invalid("window", "read at least one row at a time"));
    }
    let total = lhco_h5::lhco_rows(path, key)?;
    // A window of raw columns is decoded next to its stored bytes.
    crate::memory::check(
        &format!("a window of {} raw events", options.window),
        options.window.min(total) as f64 * lhco_h5::RAW_COLUMNS as f64 * 16.0,
    )?;
    let progress = Progress::new("jet features", total as u64);
    let mut out: Option<NamedColumns> = None;
    for start in (0..total.max(1)).step_by(options.window) {
        let rows: Range<usize> = start..(start + options.window).min(total);
        let (layout, columns) = lhco_h5::read_lhco(path, key, Some(rows.clone()))?;
        if layout != LhcoLayout::RawParticles {
            return Err(Error::format(
                path,
                "raw particles",
                "this is not an LHC Olympics raw-particle table (2101 columns: 700 x pT, eta, \
                 phi, then the label); a features table needs no clustering",
            ));
        }
        let part = raw_features(&columns, options, rows.start, &progress, interrupt)?;
        match out.as_mut() {
            None => out = Some(part),
            Some(all) => {
                for ((_, values), (_, more)) in all.iter_mut().zip(part) {
                    values.extend(more);
                }
            }
        }
    }
    Ok(out.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::lhco_h5::tests::fixture;

    /// A raw table of `events`, each a list of (pT, eta, phi), in `slots` particle slots.
    fn raw(events: &[Vec<(f64, f64, f64)>], slots: usize, label: bool) -> NamedColumns {
        let mut columns: NamedColumns = Vec::new();
        for i in 0..slots {
            for (q, name) in ["pt", "eta", "phi"].iter().enumerate() {
                let values = events
                    .iter()
                    .map(|e| e.get(i).map_or(0.0, |p| [p.0, p.1, p.2][q]))
                    .collect();
                columns.push((format!("{name}_{i}"), values));
            }
        }
        if label {
            columns.push((
                "label".into(),
                (0..events.len()).map(|i| i as f64).collect(),
            ));
        }
        columns
    }

    fn column<'a>(columns: &'a NamedColumns, name: &str) -> &'a [f64] {
        &columns.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn two_back_to_back_prongs_give_the_jets_and_their_substructure() {
        // Jet A: one particle (tau_1 = 0); jet B: two particles 0.2 apart (tau_1 > 0, tau_2 = 0).
        let event = vec![(1500.0, 0.0, 0.0), (700.0, 0.1, 3.0), (500.0, -0.1, 3.0)];
        let out = raw_features(
            &raw(&[event, vec![]], 4, true),
            &JetFeatureOptions::default(),
            0,
            &Progress::hidden(),
            None,
        )
        .unwrap();
        let px1 = column(&out, "pxj1");
        assert!((px1[0] - 1500.0).abs() < 1e-9, "{px1:?}");
        assert_eq!(column(&out, "mj1")[0], 0.0);
        assert_eq!(column(&out, "tau1j1")[0], 0.0);
        // The second jet: two massless particles, m² = 2 pT1 pT2 (cosh Δη - cos Δφ).
        let m2 = 2.0 * 700.0 * 500.0 * ((0.2f64).cosh() - 1.0);
        assert!((column(&out, "mj2")[0] - m2.sqrt()).abs() < 1e-6);
        assert!(column(&out, "tau1j2")[0] > 0.0);
        assert_eq!(column(&out, "tau2j2")[0], 0.0);
        // The empty event has no jets: zeros, as in the organisers' features.
        assert!(REQUIRED.iter().all(|n| column(&out, n)[1] == 0.0));
        assert_eq!(column(&out, "label"), [0.0, 1.0]);
    }

    #[test]
    fn a_file_read_in_windows_gives_the_same_features_as_at_once() {
        for file in [
            "raw_fixed.h5",
            "raw_fixed_zlib.h5",
            "blosc/raw_blosclz_shuffle.h5",
        ] {
            let path = fixture(file);
            let (_, columns) = lhco_h5::read_lhco(&path, None, None).unwrap();
            let options = JetFeatureOptions::default();
            let whole = raw_features(&columns, &options, 0, &Progress::hidden(), None).unwrap();
            let windowed = file_features(
                &path,
                None,
                &JetFeatureOptions {
                    window: 5,
                    ..options
                },
                None,
            )
            .unwrap();
            assert_eq!(whole, windowed, "{file}");
            assert!(column(&whole, "mj1").iter().any(|&m| m > 0.0), "{file}");
        }
    }

    #[test]
    fn tables_without_particles_are_refused_naming_what_is_missing() {
        let features = vec![("mjj".to_string(), vec![1.0])];
        let err = raw_features(
            &features,
            &JetFeatureOptions::default(),
            0,
            &Progress::hidden(),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no columns pt_0, eta_0, phi_0"), "{err}");
        let err = file_features(
            &fixture("features_fixed.h5"),
            None,
            &JetFeatureOptions::default(),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("not an LHC Olympics raw-particle table"),
            "{err}"
        );
        let bad = raw(&[vec![(-1.0, 0.0, 0.0)]], 1, false);
        let err = raw_features(
            &bad,
            &JetFeatureOptions::default(),
            7,
            &Progress::hidden(),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("event 7, particle 0"), "{err}");
    }
}
