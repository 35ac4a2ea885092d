//! The retrained-toy global p-value of a CWoLa hunt: background-only pseudo-datasets made
//! from the data themselves, each hunted with every network retrained, and the fraction of
//! them whose most significant test is at least as significant as the data's.
//!
//! A pseudo-dataset ([`null_pseudo_data`]) has in each mass bin a Poisson number of events
//! around the dijet fit to the data's spectrum over the hunt range (the fit family and Wilks
//! choice of the hunt's own tests); each event takes a data mass from its bin and the features
//! of a data event drawn from the whole hunt range, whatever its mass. A signal localised in
//! mass therefore lends its features evenly to every mass (diluted to its share of the whole
//! range), and the toys hold no dependence of the features on the mass: they are the null
//! CWoLa's test assumes (a selection that does not sculpt the spectrum), and their spread
//! of most significant tests is the look-elsewhere effect of the hunt's regions and
//! efficiencies. Borrowing from nearby masses instead keeps that dependence but moves it
//! (and any signal) by the borrowing distance: toys built that way on background alone found
//! 5–8σ "bumps" where one-sided borrowing at the range's ends changed the feature mix
//! (docs/cwola.md). Rescaled jet masses are carried over as their rescaled value (e.g.
//! m/mjj), so that a ratio keeps its meaning at the new mass.

use rand::RngExt;
use rand_distr::{Distribution, Poisson};
use serde::{Deserialize, Serialize};

use super::{CwolaOptions, check_options, cwola_hunt};
use crate::data::binning::find_bin;
use crate::data::eventset::EventSet;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::seed::{rng_for, stream_seed};
use crate::stats::bumphunter::global_statistics;
use crate::stats::fit::fit_family;

/// One pseudo-dataset's hunt: its most significant ranked test (NaN when no test could be
/// ranked: no excess to count).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HuntToy {
    /// The smallest local p-value of the toy's selected tests.
    #[serde(deserialize_with = "crate::methods::nan_from_null")]
    pub local_p: f64,
    /// Its significance.
    #[serde(deserialize_with = "crate::methods::nan_from_null")]
    pub local_z: f64,
}

/// The global p-value of a hunt's most significant test from retrained toys.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToyGlobal {
    /// Pseudo-datasets hunted.
    pub toys: usize,
    /// Those whose smallest local p-value is at most the data's.
    pub at_least_as_extreme: usize,
    /// Their fraction: the global p-value.
    pub global_p: f64,
    /// Its binomial uncertainty, sqrt(p (1 - p) / toys).
    pub global_p_error: f64,
    /// The global significance; with no toy as extreme, that of 1/toys, a lower limit.
    pub global_z: f64,
    /// Whether `global_z` is a lower limit.
    pub lower_limit: bool,
}

impl ToyGlobal {
    /// The global statement of a most significant test of local p-value `local_p` among
    /// `toys`; an error without toys.
    pub fn new(local_p: f64, toys: &[HuntToy]) -> Result<Self> {
        let extreme = toys.iter().filter(|t| t.local_p <= local_p).count();
        let (global_p, global_z, lower_limit, global_p_error) =
            global_statistics(extreme, toys.len())?;
        Ok(Self {
            toys: toys.len(),
            at_least_as_extreme: extreme,
            global_p,
            global_p_error,
            global_z,
            lower_limit,
        })
    }

    /// "global p = … ± … (Z = …) from N retrained toys (k as extreme)", for summaries.
    pub fn summary(&self) -> String {
        let z = if self.lower_limit {
            format!(">= {:.2}", self.global_z)
        } else {
            format!("{:.2}", self.global_z)
        };
        format!(
            "global p = {:.3} ± {:.3} (Z = {z}) from {} retrained toys ({} as extreme)",
            self.global_p, self.global_p_error, self.toys, self.at_least_as_extreme
        )
    }
}

/// A background-only pseudo-dataset of the hunt of `events` with `opts` (see the module
/// documentation), drawn from `seed`: the mass and feature columns of `opts`, in the hunt
/// range. Errors: a missing column, no events in the range, a spectrum the fit family cannot
/// fit.
pub fn null_pseudo_data(events: &EventSet, opts: &CwolaOptions, seed: u64) -> Result<EventSet> {
    check_options(opts)?;
    let edges = &opts.edges;
    let bins = edges.len() - 1;
    let mass = events.column(&opts.mass)?;
    let features = opts
        .features
        .iter()
        .map(|f| events.column(f))
        .collect::<Result<Vec<_>>>()?;
    let mut by_bin: Vec<Vec<usize>> = vec![Vec::new(); bins];
    for (i, &m) in mass.iter().enumerate() {
        if let Some(b) = find_bin(edges, m) {
            by_bin[b].push(i);
        }
    }
    let donors: Vec<usize> = by_bin.iter().flatten().copied().collect();
    if donors.is_empty() {
        return Err(Error::invalid(
            "pseudo-data",
            format!(
                "no events with {} in the hunt range {}–{}",
                opts.mass, edges[0], edges[bins]
            ),
        ));
    }
    let counts: Vec<f64> = by_bin.iter().map(|b| b.len() as f64).collect();
    let family = fit_family(edges, &counts, &opts.window_significance.family).map_err(|e| {
        Error::invalid(
            "pseudo-data",
            format!("the fit to the data's spectrum: {e}"),
        )
    })?;
    let expected = family.chosen_fit().bin_predictions(edges)?;
    let rescaled: Vec<bool> = opts
        .features
        .iter()
        .map(|f| opts.rescale.contains(f))
        .collect();
    let mut rng = rng_for(seed, 0);
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); features.len() + 1];
    for b in 0..bins {
        let n = if expected[b] > 0.0 {
            let poisson = Poisson::new(expected[b]).map_err(|e| {
                Error::invalid(
                    "pseudo-data",
                    format!("bin {b} expects {}: {e}", expected[b]),
                )
            })?;
            poisson.sample(&mut rng) as usize
        } else {
            0
        };
        for _ in 0..n {
            let m = if by_bin[b].is_empty() {
                rng.random_range(edges[b]..edges[b + 1])
            } else {
                mass[by_bin[b][rng.random_range(0..by_bin[b].len())]]
            };
            let donor = donors[rng.random_range(0..donors.len())];
            columns[0].push(m);
            for (f, values) in features.iter().enumerate() {
                let v = values[donor];
                columns[f + 1].push(if rescaled[f] {
                    opts.rescaling.transfer(v, mass[donor], m)
                } else {
                    v
                });
            }
        }
    }
    let names = std::iter::once(opts.mass.clone()).chain(opts.features.iter().cloned());
    EventSet::from_columns(names.zip(columns).collect())
}

/// Pseudo-dataset `toy` of the hunt of `events` (drawn from `seed` and `toy`) hunted with
/// `opts`, every network retrained with a seed of its own: its most significant test.
pub fn hunt_toy(
    events: &EventSet,
    opts: &CwolaOptions,
    seed: u64,
    toy: usize,
    interrupt: Option<&Interrupt>,
) -> Result<HuntToy> {
    let data = null_pseudo_data(events, opts, stream_seed(seed, 2 * toy as u64))?;
    let toy_opts = CwolaOptions {
        seed: stream_seed(seed, 2 * toy as u64 + 1),
        ..opts.clone()
    };
    let hunt = cwola_hunt(&data, &toy_opts, interrupt)?;
    Ok(match hunt.global() {
        Some(g) => HuntToy {
            local_p: g.test.local_p,
            local_z: g.test.local_z,
        },
        None => HuntToy {
            local_p: f64::NAN,
            local_z: f64::NAN,
        },
    })
}
