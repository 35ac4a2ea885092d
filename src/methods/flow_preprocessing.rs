//! The space a sideband flow models its features in. Standardised features keep their hard
//! edges and long tails: a jet-mass difference is densest at its lower bound 0, a jet mass
//! has a tail ten standard deviations long, and a flow whose splines act on
//! [-bound, bound] spreads density across the edge and misses the tail. A classifier of
//! data against the flow's samples (CATHODE) then finds those deficits as readily as a
//! signal. The CATHODE paper's remedy, [`FlowPreprocessing::Logit`]: each feature mapped
//! from its training range into (0, 1), through the logit, and standardised again; a hard
//! edge goes to an exponentially falling tail, and samples mapped back always lie within
//! the training range.

use candle_core::{DType, Tensor};

use crate::error::{Error, Result};

/// How a sideband flow's input features are transformed before it learns them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlowPreprocessing {
    /// The standardised features as they are.
    #[default]
    Standard,
    /// Each feature's training range (widened by [`LogitMap::MARGIN`] of its width on each
    /// side) mapped onto (0, 1), then the logit, then standardised ([`LogitMap`]).
    Logit,
}

impl FlowPreprocessing {
    /// Every preprocessing, in the order error messages list them.
    pub const ALL: [FlowPreprocessing; 2] = [FlowPreprocessing::Standard, FlowPreprocessing::Logit];

    /// The name scripts use: `"standard"` or `"logit"`.
    pub fn name(self) -> &'static str {
        match self {
            FlowPreprocessing::Standard => "standard",
            FlowPreprocessing::Logit => "logit",
        }
    }

    /// The preprocessing called `name`; an [`Error::InvalidArgument`] naming
    /// `flow_preprocessing` and the allowed names otherwise.
    pub fn parse(name: &str) -> Result<Self> {
        Error::choose(
            "flow_preprocessing",
            "preprocessing",
            name,
            &Self::ALL,
            Self::name,
        )
    }

    /// The map fitted on the training features `x` [rows, features]; `None` for
    /// [`FlowPreprocessing::Standard`].
    pub(crate) fn fit(self, x: &Tensor) -> Result<Option<LogitMap>> {
        match self {
            FlowPreprocessing::Standard => Ok(None),
            FlowPreprocessing::Logit => LogitMap::fit(x).map(Some),
        }
    }
}

/// The logit map of features [rows, features] fitted on training rows:
/// u = (logit((x − lo) / width) − mean) / sd per feature, where [lo, lo + width] is the
/// training range widened by [`LogitMap::MARGIN`] of its width on each side and mean and sd
/// standardise the training rows' logits.
#[derive(Clone, Debug)]
pub(crate) struct LogitMap {
    /// Lower end of each feature's widened range, [1, features].
    lo: Tensor,
    /// Width of each feature's widened range, [1, features].
    width: Tensor,
    /// Mean of each feature's logit over the training rows, [1, features].
    mean: Tensor,
    /// Standard deviation of each feature's logit over the training rows, [1, features].
    sd: Tensor,
}

impl LogitMap {
    /// The widening of each side of a feature's training range, as a fraction of its width.
    /// The density at a hard edge reappears in logit space as a step of about this fraction
    /// of its height, at a logit of about ln(MARGIN).
    pub const MARGIN: f64 = 1e-4;

    /// The map of the training features `x` [rows, features]. A feature without spread
    /// (every row the same) is an error naming it by position.
    pub(crate) fn fit(x: &Tensor) -> Result<Self> {
        let x = x.to_dtype(DType::F32)?;
        let min = x.min_keepdim(0)?;
        let max = x.max_keepdim(0)?;
        let range = (&max - &min)?;
        let ranges: Vec<f32> = range.flatten_all()?.to_vec1()?;
        if let Some(j) = ranges.iter().position(|r| !(*r > 0.0)) {
            return Err(Error::invalid(
                "flow_preprocessing",
                format!(
                    "feature {j} takes one value on all {} training rows: no range to map",
                    x.dims()[0]
                ),
            ));
        }
        let lo = (&min - (&range * Self::MARGIN)?)?;
        let width = (&range * (1.0 + 2.0 * Self::MARGIN))?;
        let logits = logit(&x, &lo, &width)?;
        let mean = logits.mean_keepdim(0)?;
        let centred = logits.broadcast_sub(&mean)?;
        let sd = centred.sqr()?.mean_keepdim(0)?.sqrt()?;
        Ok(Self {
            lo,
            width,
            mean,
            sd,
        })
    }

    /// The flow's inputs of features `x` [rows, features]. Values outside the widened
    /// training range are first clamped into it.
    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let u = logit(&x.to_dtype(DType::F32)?, &self.lo, &self.width)?;
        Ok(u.broadcast_sub(&self.mean)?.broadcast_div(&self.sd)?)
    }

    /// The features of the flow's values `u` [rows, features]: within the widened training
    /// range whatever `u` is.
    pub(crate) fn inverse(&self, u: &Tensor) -> Result<Tensor> {
        let logits = u
            .to_dtype(DType::F32)?
            .broadcast_mul(&self.sd)?
            .broadcast_add(&self.mean)?;
        let p = crate::nn::layers::sigmoid(&logits)?;
        Ok(p.broadcast_mul(&self.width)?.broadcast_add(&self.lo)?)
    }
}

/// logit((x − lo) / width), the fraction clamped to [ε, 1 − ε] with ε = MARGIN / 10 so that
/// values at or beyond the ends stay finite.
fn logit(x: &Tensor, lo: &Tensor, width: &Tensor) -> Result<Tensor> {
    let eps = LogitMap::MARGIN / 10.0;
    let p = x
        .broadcast_sub(lo)?
        .broadcast_div(width)?
        .clamp(eps, 1.0 - eps)?;
    let q = p.affine(-1.0, 1.0)?;
    Ok((p.log()? - q.log()?)?)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn columns(t: &Tensor) -> Vec<Vec<f32>> {
        let rows: Vec<Vec<f32>> = t.to_vec2().unwrap();
        (0..rows[0].len())
            .map(|j| rows.iter().map(|r| r[j]).collect())
            .collect()
    }

    #[test]
    fn the_map_standardises_the_logits_and_inverts_within_the_range() {
        // A bounded feature and a long-tailed one.
        let rows: Vec<f32> = (0..1000)
            .flat_map(|i| {
                let t = (i as f32 + 0.5) / 1000.0;
                [t * t, (-(1.0 - t).ln()).powi(2)]
            })
            .collect();
        let x = Tensor::from_vec(rows, (1000, 2), &Device::Cpu).unwrap();
        let map = LogitMap::fit(&x).unwrap();
        let u = map.forward(&x).unwrap();
        for column in columns(&u) {
            let n = column.len() as f64;
            let mean = column.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let var = column
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n;
            assert!(
                mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3,
                "{mean} {var}"
            );
        }
        let back = columns(&map.inverse(&u).unwrap());
        for (j, (back, x)) in back.iter().zip(columns(&x)).enumerate() {
            let width = x.iter().copied().fold(f32::MIN, f32::max) - x[0];
            for (b, v) in back.iter().zip(&x) {
                assert!(
                    (b - v).abs() < 1e-4 * width.max(1.0),
                    "feature {j}: {b} vs {v}"
                );
            }
        }
        // Any flow value maps back within the widened range, the extremes to its ends.
        let wild = Tensor::new(&[[-60f32, 60.0], [60.0, -60.0], [0.0, 0.0]], &Device::Cpu).unwrap();
        for (j, column) in columns(&map.inverse(&wild).unwrap()).iter().enumerate() {
            let x = &columns(&x)[j];
            let (lo, hi) = (x[0], x[999]);
            let margin = (hi - lo) * 1.01e-4;
            assert!(
                column
                    .iter()
                    .all(|v| *v >= lo - margin && *v <= hi + margin),
                "feature {j}: {column:?} vs [{lo}, {hi}]"
            );
            assert!(column.iter().any(|v| *v < lo) && column.iter().any(|v| *v > hi));
        }
    }

    #[test]
    fn a_feature_without_spread_and_an_unknown_name_are_errors() {
        let x = Tensor::new(&[[1f32, 0.0], [2.0, 0.0]], &Device::Cpu).unwrap();
        let err = LogitMap::fit(&x).unwrap_err().to_string();
        assert!(err.contains("feature 1 takes one value"), "{err}");
        assert!(FlowPreprocessing::Standard.fit(&x).unwrap().is_none());
        let err = FlowPreprocessing::parse("log").unwrap_err().to_string();
        assert!(
            err.contains("flow_preprocessing") && err.contains("\"standard\", \"logit\""),
            "{err}"
        );
        assert_eq!(
            FlowPreprocessing::parse("logit").unwrap(),
            FlowPreprocessing::Logit
        );
    }
}
