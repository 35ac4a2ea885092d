//! The monotone rational-quadratic spline of Durkan et al., *Neural Spline Flows*
//! (arXiv:1906.04032): an elementwise bijection of [-bound, bound] onto itself made of `K`
//! rational-quadratic pieces, continued as the identity outside the interval ("linear tails",
//! as in nflows' `unconstrained_rational_quadratic_spline`), with derivative 1 at both ends so
//! the whole map is continuously differentiable.
//!
//! Every dimension of every event has its own spline, given by `3K - 1` unconstrained numbers
//! (the layout of [`RqSpline::params_per_dim`]): `K` bin widths and `K` bin heights (softmax,
//! with a floor), then `K - 1` derivatives at the interior knots (softplus, with a floor).
//! The functions work in the dtype of their inputs (f32 for training, f64 for precise tests).

use candle_core::{D, DType, Tensor};

use crate::error::{Error, Result};

/// The smallest bin width, as a fraction of the interval (nflows' default).
const MIN_BIN_WIDTH: f64 = 1e-3;
/// The smallest bin height, as a fraction of the interval.
const MIN_BIN_HEIGHT: f64 = 1e-3;
/// The smallest derivative at a knot.
const MIN_DERIVATIVE: f64 = 1e-3;

/// A rational-quadratic spline with `knots` bins on [-bound, bound], the identity outside.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RqSpline {
    /// The number of bins K (at least 2).
    pub knots: usize,
    /// Half-width of the interval the spline acts on.
    pub bound: f64,
}

/// The knots of the splines of one batch, gathered at each input's bin.
struct Bins {
    /// Left edge of the input bin.
    x0: Tensor,
    /// Width of the input bin.
    w: Tensor,
    /// Lower edge of the output bin.
    y0: Tensor,
    /// Height of the output bin.
    h: Tensor,
    /// Derivative at the left knot.
    d0: Tensor,
    /// Derivative at the right knot.
    d1: Tensor,
}

impl RqSpline {
    /// A spline with `knots` bins on [-bound, bound]; `knots` >= 2 and a finite `bound` > 0.
    pub fn new(knots: usize, bound: f64) -> Result<Self> {
        if knots < 2 {
            return Err(Error::invalid(
                "knots",
                format!("a spline needs at least 2 bins, not {knots}"),
            ));
        }
        if !(bound.is_finite() && bound > 0.0) {
            return Err(Error::invalid(
                "bound",
                format!("must be a positive number, not {bound}"),
            ));
        }
        Ok(Self { knots, bound })
    }

    /// The unconstrained numbers per transformed dimension: 3K - 1.
    pub fn params_per_dim(&self) -> usize {
        3 * self.knots - 1
    }

    /// Checks `params` against `x` [batch, dims]: shape [batch, dims, 3K - 1].
    fn check(&self, x: &Tensor, params: &Tensor) -> Result<()> {
        let (b, d) = x.dims2()?;
        if params.dims() != [b, d, self.params_per_dim()] {
            return Err(Error::invalid(
                "spline parameters",
                format!(
                    "expected shape [{b}, {d}, {}], got {:?}",
                    self.params_per_dim(),
                    params.dims()
                ),
            ));
        }
        Ok(())
    }

    /// Knot positions [.., K + 1] from unnormalised bin sizes [.., K]: a softmax with a floor
    /// of `min` per bin, accumulated and mapped onto [-bound, bound] with exact end points.
    fn knot_positions(&self, unnormalised: &Tensor, min: f64) -> Result<Tensor> {
        let k = self.knots;
        let sizes =
            candle_nn::ops::softmax(unnormalised, D::Minus1)?.affine(1.0 - min * k as f64, min)?;
        let inner = sizes.cumsum(D::Minus1)?.narrow(D::Minus1, 0, k - 1)?;
        let zeros = inner.narrow(D::Minus1, 0, 1)?.zeros_like()?;
        let ones = zeros.ones_like()?;
        Ok(Tensor::cat(&[&zeros, &inner, &ones], D::Minus1)?
            .affine(2.0 * self.bound, -self.bound)?)
    }

    /// The derivatives at all K + 1 knots: softplus with a floor, 1 at both ends.
    fn derivatives(&self, unnormalised: &Tensor) -> Result<Tensor> {
        // softplus(c) = 1 - MIN_DERIVATIVE, so the end derivatives are exactly 1.
        let end = (1.0 - MIN_DERIVATIVE).exp_m1().ln();
        let pad = unnormalised
            .narrow(D::Minus1, 0, 1)?
            .zeros_like()?
            .affine(0.0, end)?;
        let full = Tensor::cat(&[&pad, unnormalised, &pad], D::Minus1)?;
        Ok(softplus(&full)?.affine(1.0, MIN_DERIVATIVE)?)
    }

    /// The knots of each spline gathered at the bin of `v` (clamped into the interval), where
    /// bins are searched along the input axis (`by_output` false) or the output axis.
    fn bins(&self, v: &Tensor, params: &Tensor, by_output: bool) -> Result<Bins> {
        let k = self.knots;
        let xs = self.knot_positions(&params.narrow(D::Minus1, 0, k)?, MIN_BIN_WIDTH)?;
        let ys = self.knot_positions(&params.narrow(D::Minus1, k, k)?, MIN_BIN_HEIGHT)?;
        let ds = self.derivatives(&params.narrow(D::Minus1, 2 * k, k - 1)?)?;
        let search = if by_output { &ys } else { &xs };
        // The bin index is the number of interior knots at or below the value: 0..K-1.
        let interior = search.narrow(D::Minus1, 1, k - 1)?;
        let index = v
            .unsqueeze(D::Minus1)?
            .broadcast_ge(&interior)?
            .to_dtype(DType::U32)?
            .sum_keepdim(D::Minus1)?
            .contiguous()?;
        let at = |t: &Tensor, start: usize| -> Result<Tensor> {
            Ok(t.narrow(D::Minus1, start, k)?
                .contiguous()?
                .gather(&index, D::Minus1)?
                .squeeze(D::Minus1)?)
        };
        let (x0, x1) = (at(&xs, 0)?, at(&xs, 1)?);
        let (y0, y1) = (at(&ys, 0)?, at(&ys, 1)?);
        Ok(Bins {
            w: (x1 - &x0)?,
            x0,
            h: (y1 - &y0)?,
            y0,
            d0: at(&ds, 0)?,
            d1: at(&ds, 1)?,
        })
    }

    /// y = f(x) and log|df/dx| for `x` [batch, dims] and unconstrained `params`
    /// [batch, dims, 3K - 1]; both results have the shape of `x`.
    pub fn forward(&self, x: &Tensor, params: &Tensor) -> Result<(Tensor, Tensor)> {
        self.check(x, params)?;
        let inside = x.abs()?.le(self.bound)?;
        let xc = x.clamp(-self.bound, self.bound)?;
        let b = self.bins(&xc, params, false)?;
        let delta = (&b.h / &b.w)?;
        let theta = ((&xc - &b.x0)? / &b.w)?;
        let one_minus = theta.affine(-1.0, 1.0)?;
        let tomt = (&theta * &one_minus)?;
        let theta2 = theta.sqr()?;
        let numerator = (&b.h * ((&delta * &theta2)? + (&b.d0 * &tomt)?)?)?;
        let slope_sum = ((&b.d0 + &b.d1)? - (&delta * 2.0)?)?;
        let denominator = (&delta + (&slope_sum * &tomt)?)?;
        let y = (&b.y0 + (numerator / &denominator)?)?;
        let dnum = (delta.sqr()?
            * (((&b.d1 * &theta2)? + (&delta * &tomt)?.affine(2.0, 0.0)?)?
                + (&b.d0 * one_minus.sqr()?)?)?)?;
        let logdet = (dnum.log()? - denominator.log()?.affine(2.0, 0.0)?)?;
        Ok((
            inside.where_cond(&y, x)?,
            inside.where_cond(&logdet, &x.zeros_like()?)?,
        ))
    }

    /// x = f⁻¹(y) and log|dx/dy| (the negative of the forward log-determinant at x), for
    /// the same `params` as [`RqSpline::forward`].
    pub fn inverse(&self, y: &Tensor, params: &Tensor) -> Result<(Tensor, Tensor)> {
        self.check(y, params)?;
        let inside = y.abs()?.le(self.bound)?;
        let yc = y.clamp(-self.bound, self.bound)?;
        let b = self.bins(&yc, params, true)?;
        let delta = (&b.h / &b.w)?;
        let dy = (&yc - &b.y0)?;
        let slope_sum = ((&b.d0 + &b.d1)? - (&delta * 2.0)?)?;
        // Solve a θ² + b θ + c = 0 for θ in [0, 1] (the numerically stable root).
        let qa = ((&dy * &slope_sum)? + (&b.h * (&delta - &b.d0)?)?)?;
        let qb = ((&b.h * &b.d0)? - (&dy * &slope_sum)?)?;
        let qc = (&delta * &dy)?.neg()?;
        let disc = (qb.sqr()? - (&qa * &qc)?.affine(4.0, 0.0)?)?.relu()?;
        let root = ((&qc * 2.0)? / (qb.neg()? - disc.sqrt()?)?)?;
        let x = ((&root * &b.w)? + &b.x0)?;
        let one_minus = root.affine(-1.0, 1.0)?;
        let tomt = (&root * &one_minus)?;
        let denominator = (&delta + (&slope_sum * &tomt)?)?;
        let dnum = (delta.sqr()?
            * (((&b.d1 * root.sqr()?)? + (&delta * &tomt)?.affine(2.0, 0.0)?)?
                + (&b.d0 * one_minus.sqr()?)?)?)?;
        let logdet = (denominator.log()?.affine(2.0, 0.0)? - dnum.log()?)?;
        Ok((
            inside.where_cond(&x, y)?,
            inside.where_cond(&logdet, &y.zeros_like()?)?,
        ))
    }
}

/// log(1 + eˣ), computed without overflow.
pub fn softplus(x: &Tensor) -> Result<Tensor> {
    Ok((x.relu()? + x.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;
    use rand::RngExt;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;

    use super::*;

    /// Random f64 parameters [batch, dims, 3K - 1] with a spread wide enough for uneven bins.
    fn random_params(spline: &RqSpline, batch: usize, dims: usize, seed: u64) -> Tensor {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let n = batch * dims * spline.params_per_dim();
        let v: Vec<f64> = (0..n)
            .map(|_| 3.0 * (2.0 * rng.random::<f64>() - 1.0))
            .collect();
        Tensor::from_vec(v, (batch, dims, spline.params_per_dim()), &Device::Cpu).unwrap()
    }

    fn points(values: &[f64], dims: usize) -> Tensor {
        let batch = values.len() / dims;
        Tensor::from_vec(values.to_vec(), (batch, dims), &Device::Cpu).unwrap()
    }

    fn flat(t: &Tensor) -> Vec<f64> {
        t.flatten_all().unwrap().to_vec1::<f64>().unwrap()
    }

    #[test]
    fn inverse_undoes_forward_inside_and_outside_the_bound() {
        let spline = RqSpline::new(8, 3.0).unwrap();
        let values: Vec<f64> = (0..200).map(|i| -4.0 + 8.0 * i as f64 / 199.0).collect();
        let x = points(&values, 2);
        let params = random_params(&spline, 100, 2, 1);
        let (y, ld) = spline.forward(&x, &params).unwrap();
        let (back, ld_inv) = spline.inverse(&y, &params).unwrap();
        for (a, b) in flat(&x).iter().zip(flat(&back)) {
            assert!((a - b).abs() < 1e-9, "{a} -> {b}");
        }
        for ((a, b), x) in flat(&ld).iter().zip(flat(&ld_inv)).zip(flat(&x)) {
            assert!((a + b).abs() < 1e-9, "log-dets {a} and {b}");
            if x.abs() > 3.0 {
                assert_eq!(*a, 0.0, "identity tails");
            }
        }
        for (y, x) in flat(&y).iter().zip(flat(&x)) {
            if x.abs() > 3.0 {
                assert_eq!(*y, x);
            } else {
                assert!(y.abs() <= 3.0 + 1e-12);
            }
        }
        assert!(RqSpline::new(1, 3.0).is_err() && RqSpline::new(4, 0.0).is_err());
        assert!(
            spline
                .forward(&x, &params.narrow(2, 0, 5).unwrap())
                .is_err()
        );
    }

    #[test]
    fn log_det_is_the_log_derivative_and_the_map_is_monotone() {
        let spline = RqSpline::new(6, 2.0).unwrap();
        let n = 401;
        // A grid that avoids the bound itself (where the second derivative jumps).
        let values: Vec<f64> = (0..n)
            .map(|i| -2.5 + 5.0 * i as f64 / (n - 1) as f64 + 1e-3 * std::f64::consts::PI)
            .collect();
        // The same spline for every point: repeat one parameter row.
        let one = random_params(&spline, 1, 1, 7);
        let params = one
            .broadcast_as((n, 1, spline.params_per_dim()))
            .unwrap()
            .contiguous()
            .unwrap();
        let h = 1e-7;
        let at = |shift: f64| {
            let x = points(&values.iter().map(|v| v + shift).collect::<Vec<_>>(), 1);
            spline.forward(&x, &params).unwrap()
        };
        let (y, ld) = at(0.0);
        let (yp, _) = at(h);
        let (ym, _) = at(-h);
        let (y, ld, yp, ym) = (flat(&y), flat(&ld), flat(&yp), flat(&ym));
        for i in 0..n {
            let numeric = ((yp[i] - ym[i]) / (2.0 * h)).ln();
            // Knots are kinks of the second derivative only; central differences stay accurate.
            assert!(
                (numeric - ld[i]).abs() < 1e-5,
                "x = {}: {numeric} vs {}",
                values[i],
                ld[i]
            );
            if i > 0 {
                assert!(y[i] > y[i - 1], "monotone at x = {}", values[i]);
            }
        }
        // At the bound the derivative is 1 from inside, as in the identity tails.
        let edge = points(&[-2.0 + 1e-12], 1);
        let (_, ld_edge) = spline.forward(&edge, &one).unwrap();
        assert!(flat(&ld_edge)[0].abs() < 1e-6);
    }

    #[test]
    fn softplus_is_stable() {
        let x = Tensor::new(&[-100.0f32, 0.0, 100.0], &Device::Cpu).unwrap();
        let v = softplus(&x).unwrap().to_vec1::<f32>().unwrap();
        assert!(v[0] >= 0.0 && v[0] < 1e-30);
        assert!((v[1] - 2f32.ln()).abs() < 1e-6);
        assert_eq!(v[2], 100.0);
    }
}
