//! Feature scalers fitted on one event set and applied to others, as the papers use them:
//! max-abs (the latent-space VAE), standard and min-max.

use std::fmt;

use super::eventset::EventSet;
use crate::error::{Error, Result};

/// How a scaler maps a value: `x' = (x - offset) / scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalerKind {
    /// `x / max|x|`: values in [-1, 1].
    MaxAbs,
    /// `(x - mean) / std` (population standard deviation, as scikit-learn).
    Standard,
    /// `(x - min) / (max - min)`: values in [0, 1].
    MinMax,
}

impl ScalerKind {
    /// The scaler's name as the built-ins spell it.
    pub fn name(self) -> &'static str {
        match self {
            ScalerKind::MaxAbs => "max_abs",
            ScalerKind::Standard => "standard",
            ScalerKind::MinMax => "min_max",
        }
    }
}

/// A fitted scaler for a list of columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaler {
    kind: ScalerKind,
    columns: Vec<String>,
    offset: Vec<f64>,
    scale: Vec<f64>,
}

impl Scaler {
    /// Fits a scaler of `kind` to `columns` of `events`. A constant column gets scale 1 (it is
    /// only shifted), as in scikit-learn.
    pub fn fit(kind: ScalerKind, events: &EventSet, columns: &[String]) -> Result<Scaler> {
        if events.is_empty() {
            return Err(Error::invalid("scaler", "cannot fit on an empty event set"));
        }
        if columns.is_empty() {
            return Err(Error::invalid("scaler", "no columns to scale"));
        }
        let mut offset = Vec::with_capacity(columns.len());
        let mut scale = Vec::with_capacity(columns.len());
        for name in columns {
            let values = events.column(name)?;
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    "scaler",
                    format!("column '{name}' has a non-finite value at event {i}"),
                ));
            }
            let (o, s) = fitted_parameters(kind, &values);
            if !s.is_finite() {
                return Err(Error::invalid(
                    "scaler",
                    format!("column '{name}' spans more than the float range; rescale it first"),
                ));
            }
            offset.push(o);
            scale.push(s);
        }
        Ok(Scaler {
            kind,
            columns: columns.to_vec(),
            offset,
            scale,
        })
    }

    /// The scaler's kind.
    pub fn kind(&self) -> ScalerKind {
        self.kind
    }

    /// The columns it scales.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// `events` with the scaler's columns replaced by their scaled values.
    pub fn transform(&self, events: &EventSet) -> Result<EventSet> {
        self.apply(events, |x, o, s| (x - o) / s)
    }

    /// The value `x` of the `index`-th scaled column mapped back to the original units.
    pub fn inverse_value(&self, index: usize, x: f64) -> f64 {
        x * self.scale[index] + self.offset[index]
    }

    /// `events` with the scaler's columns mapped back to the original units.
    pub fn inverse(&self, events: &EventSet) -> Result<EventSet> {
        self.apply(events, |x, o, s| x * s + o)
    }

    fn apply(&self, events: &EventSet, f: impl Fn(f64, f64, f64) -> f64) -> Result<EventSet> {
        let mut out = events.clone();
        for (i, name) in self.columns.iter().enumerate() {
            let values: Vec<f64> = events
                .column(name)?
                .into_iter()
                .map(|x| f(x, self.offset[i], self.scale[i]))
                .collect();
            if let Some(e) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    "scaler",
                    format!(
                        "column '{name}', event {e}: the scaled value is {} (the input is \
                         non-finite or too far outside the fitted range)",
                        values[e]
                    ),
                ));
            }
            out = out.with_column(name, values)?;
        }
        Ok(out)
    }
}

/// The (offset, scale) a scaler of `kind` fits to `values`, with scale 1 for a constant column
/// (it is only shifted), as in scikit-learn.
pub(crate) fn fitted_parameters(kind: ScalerKind, values: &[f64]) -> (f64, f64) {
    let (offset, scale) = parameters(kind, values);
    (offset, if scale > 0.0 { scale } else { 1.0 })
}

fn parameters(kind: ScalerKind, values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    match kind {
        ScalerKind::MaxAbs => (0.0, values.iter().fold(0.0_f64, |m, v| m.max(v.abs()))),
        ScalerKind::Standard => {
            // In units of the largest magnitude, so that sums of values near 1e300 stay finite.
            let unit = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let unit = if unit > 0.0 { unit } else { 1.0 };
            let mean = values.iter().map(|v| v / unit).sum::<f64>() / n;
            let var = values
                .iter()
                .map(|v| (v / unit - mean).powi(2))
                .sum::<f64>()
                / n;
            (mean * unit, var.sqrt() * unit)
        }
        ScalerKind::MinMax => {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (min, max - min)
        }
    }
}

impl fmt::Display for Scaler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} scaler", self.kind.name())?;
        for (i, c) in self.columns.iter().enumerate() {
            write!(
                f,
                "\n  {c}: (x - {:.6}) / {:.6}",
                self.offset[i], self.scale[i]
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> EventSet {
        EventSet::from_columns(vec![
            ("a".into(), vec![-2.0, 0.0, 4.0, 2.0]),
            ("b".into(), vec![5.0, 5.0, 5.0, 5.0]),
        ])
        .unwrap()
    }

    #[test]
    fn each_kind_maps_to_its_range_and_back() {
        let ev = events();
        let cols = vec!["a".to_string(), "b".to_string()];
        let max_abs = Scaler::fit(ScalerKind::MaxAbs, &ev, &cols).unwrap();
        assert_eq!(
            max_abs.transform(&ev).unwrap().column("a").unwrap(),
            vec![-0.5, 0.0, 1.0, 0.5]
        );
        let min_max = Scaler::fit(ScalerKind::MinMax, &ev, &cols).unwrap();
        let t = min_max.transform(&ev).unwrap();
        assert_eq!(t.column("a").unwrap(), vec![0.0, 1.0 / 3.0, 1.0, 2.0 / 3.0]);
        assert_eq!(
            t.column("b").unwrap(),
            vec![0.0; 4],
            "constant columns are shifted, not divided by 0"
        );
        let standard = Scaler::fit(ScalerKind::Standard, &ev, &cols).unwrap();
        let t = standard.transform(&ev).unwrap();
        let a = t.column("a").unwrap();
        let mean = a.iter().sum::<f64>() / 4.0;
        let var = a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12);
        let back = standard.inverse(&t).unwrap();
        for (x, y) in back
            .column("a")
            .unwrap()
            .iter()
            .zip(ev.column("a").unwrap())
        {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn fitted_on_one_set_applied_to_another() {
        let train = events();
        let other =
            EventSet::from_columns(vec![("a".into(), vec![8.0]), ("b".into(), vec![1.0])]).unwrap();
        let s = Scaler::fit(ScalerKind::MaxAbs, &train, &["a".to_string()]).unwrap();
        assert_eq!(s.transform(&other).unwrap().column("a").unwrap(), vec![2.0]);
        assert!(
            s.transform(&other.select(&["b".to_string()]).unwrap())
                .is_err()
        );
    }

    #[test]
    fn bad_input_is_rejected() {
        let ev = events();
        assert!(Scaler::fit(ScalerKind::MaxAbs, &ev, &["zz".to_string()]).is_err());
        assert!(Scaler::fit(ScalerKind::MaxAbs, &ev, &[]).is_err());
        let nan = EventSet::from_columns(vec![("a".into(), vec![1.0, f64::NAN])]).unwrap();
        let err = Scaler::fit(ScalerKind::Standard, &nan, &["a".to_string()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("non-finite value at event 1"), "{err}");
    }

    #[test]
    fn values_near_the_float_range_scale_or_are_refused() {
        let a = vec!["a".to_string()];
        let huge =
            EventSet::from_columns(vec![("a".into(), vec![1e308, 1.5e308, 1.7e308])]).unwrap();
        // The sum overflowed: the mean was inf and every scaled value NaN.
        let standard = Scaler::fit(ScalerKind::Standard, &huge, &a).unwrap();
        let scaled = standard.transform(&huge).unwrap().column("a").unwrap();
        assert!(scaled.iter().all(|v| v.is_finite()), "{scaled:?}");
        assert!(scaled.iter().sum::<f64>().abs() < 1e-12);
        // max - min overflows.
        let wide = EventSet::from_columns(vec![("a".into(), vec![-1e308, 1e308])]).unwrap();
        let err = Scaler::fit(ScalerKind::MinMax, &wide, &a)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column 'a' spans more than the float range"),
            "{err}"
        );
        // An event far outside the fitted range cannot become an infinity silently.
        let small = EventSet::from_columns(vec![("a".into(), vec![0.0, 1e-300])]).unwrap();
        let tiny = Scaler::fit(ScalerKind::MinMax, &small, &a).unwrap();
        let err = tiny.transform(&huge).unwrap_err().to_string();
        assert!(
            err.contains("column 'a', event 0: the scaled value is inf"),
            "{err}"
        );
    }
}
