//! Rhai views of a sideband flow's background-model systematic, shared by the results of
//! ANODE and CATHODE (see `methods::sideband_flow`).

use rhai::{Array, Dynamic, FLOAT, INT, Map};

use super::salad::estimate_map;
use super::values::Out;
use crate::methods::estimate::Estimate;
use crate::methods::sideband_flow::Systematics;

/// `#{ closure, spread, relative, events, statistical }` at data efficiency `eff`: the
/// validation windows' relative non-closure (⊕ its precision), the sideband flows' relative
/// spread, their quadrature sum, that times the prediction in events, and the prediction's
/// statistical error in events. NaN where unmeasured.
pub(super) fn systematic_errors(
    systematics: &Systematics,
    estimates: &[Estimate],
    eff: FLOAT,
) -> Out<Map> {
    let (closure, spread, relative, events) = systematics.at(estimates, eff)?;
    let statistical = estimates
        .iter()
        .find(|e| e.efficiency == eff)
        .map_or(FLOAT::NAN, |e| e.predicted_error);
    Ok([
        ("closure", closure),
        ("spread", spread),
        ("relative", relative),
        ("events", events),
        ("statistical", statistical),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into()))
    .collect())
}

/// The closure tests in the validation windows, one map per test in the order the summary
/// letters them: `#{ name, estimates }`, the estimates one map per data efficiency (observed
/// and predicted in the windows; no systematic of their own). Empty without windows.
pub(super) fn closure_tests(systematics: &Systematics) -> Array {
    systematics
        .closure_tests
        .iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("name".into(), t.name.clone().into());
            m.insert(
                "estimates".into(),
                Dynamic::from_array(t.estimates.iter().map(estimate_map).collect()),
            );
            Dynamic::from_map(m)
        })
        .collect()
}

/// The first closure test's estimates (the search's own procedure repeated in the windows),
/// one map per data efficiency; empty without windows.
pub(super) fn validation(systematics: &Systematics) -> Array {
    systematics
        .closure_tests
        .first()
        .map_or_else(Array::new, |t| {
            t.estimates.iter().map(estimate_map).collect()
        })
}

/// The validation windows, `#{ lower: [lo, hi], upper: [lo, hi] }`, or () where they do not
/// fit in the range.
pub(super) fn validation_windows(systematics: &Systematics) -> Dynamic {
    systematics.windows.map_or(Dynamic::UNIT, |w| {
        let pair =
            |(lo, hi): (f64, f64)| -> Dynamic { vec![Dynamic::from(lo), Dynamic::from(hi)].into() };
        let mut m = Map::new();
        m.insert("lower".into(), pair(w.lower));
        m.insert("upper".into(), pair(w.upper));
        m.into()
    })
}

/// Why the estimates carry no systematic (and so no p-value), or ().
pub(super) fn systematic_missing(systematics: &Systematics) -> Dynamic {
    systematics
        .missing
        .clone()
        .map_or(Dynamic::UNIT, Dynamic::from)
}

/// The events per part, `#{ sidebands, signal_region }`, of `[sidebands, signal region]`.
pub(super) fn counts(counts: [usize; 2]) -> Map {
    let mut m = Map::new();
    m.insert("sidebands".into(), (counts[0] as INT).into());
    m.insert("signal_region".into(), (counts[1] as INT).into());
    m
}
