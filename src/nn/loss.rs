//! Per-event losses (shape [batch]); the training loop averages them, with event weights.

use candle_core::{D, Tensor};

use crate::error::{Error, Result};

/// Binary cross-entropy of `logits` against targets `y` in [0, 1], per event, computed in
/// the stable form max(z, 0) - z y + ln(1 + exp(-|z|)), which neither overflows nor loses
/// precision for large |z| (candle-nn 0.11's version returns NaN there).
pub fn bce_with_logits(logits: &Tensor, y: &Tensor) -> Result<Tensor> {
    let (z, y) = (flat(logits)?, flat(y)?.to_dtype(logits.dtype())?);
    if z.dims() != y.dims() {
        return Err(Error::invalid(
            "targets",
            format!("{:?} targets for {:?} outputs", y.dims(), z.dims()),
        ));
    }
    let softplus = z.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    Ok(((z.relu()? - z.mul(&y)?)? + softplus)?)
}

/// Squared error per event, summed over output columns.
pub fn mse(prediction: &Tensor, y: &Tensor) -> Result<Tensor> {
    let y = y.to_dtype(prediction.dtype())?;
    if prediction.elem_count() != y.elem_count() {
        return Err(Error::invalid(
            "targets",
            format!("{:?} targets for {:?} outputs", y.dims(), prediction.dims()),
        ));
    }
    let diff = (prediction.reshape(((), per_event(prediction)))?
        - y.reshape(((), per_event(prediction)))?)?;
    Ok(diff.sqr()?.sum(D::Minus1)?)
}

/// KL(N(mu, exp(logvar)) || N(0, 1)) per event, summed over latent dimensions:
/// -1/2 Σ (1 + logvar - mu² - exp(logvar)).
pub fn gaussian_kl(mu: &Tensor, logvar: &Tensor) -> Result<Tensor> {
    let terms = ((logvar.affine(1.0, 1.0)? - mu.sqr()?)? - logvar.exp()?)?;
    Ok(terms.sum(D::Minus1)?.affine(-0.5, 0.0)?)
}

/// The mean of per-event `values`, weighted by `weights` when given (Σ w l / Σ w).
pub fn weighted_mean(values: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
    match weights {
        None => Ok(values.mean_all()?),
        Some(w) => {
            let w = flat(w)?.to_dtype(values.dtype())?;
            Ok(values.mul(&w)?.sum_all()?.div(&w.sum_all()?)?)
        }
    }
}

/// A tensor as one value per event: [batch, 1] and [batch] both become [batch].
fn flat(t: &Tensor) -> Result<Tensor> {
    Ok(t.flatten_all()?)
}

/// The number of values per event of a [batch, ...] tensor.
fn per_event(t: &Tensor) -> usize {
    t.dims().iter().skip(1).product::<usize>().max(1)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn t(v: &[f32]) -> Tensor {
        Tensor::new(v, &Device::Cpu).unwrap()
    }

    #[test]
    fn bce_matches_the_hand_computation_and_is_stable() {
        let z = t(&[0.0, 2.0, -1.0, 80.0, -80.0]);
        let y = t(&[1.0, 0.0, 1.0, 1.0, 1.0]);
        let l = bce_with_logits(&z, &y).unwrap().to_vec1::<f32>().unwrap();
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let want = [
            -(sig(0.0).ln()),
            -((1.0 - sig(2.0)).ln()),
            -(sig(-1.0).ln()),
            0.0,
            80.0,
        ];
        for (a, b) in l.iter().zip(want) {
            assert!((*a as f64 - b).abs() < 1e-5, "{l:?}");
        }
        // Weighted mean: (2 l0 + 0 l1 + 1 l2) / 3 on the first three events.
        let w = t(&[2.0, 0.0, 1.0]);
        let first =
            bce_with_logits(&z.narrow(0, 0, 3).unwrap(), &y.narrow(0, 0, 3).unwrap()).unwrap();
        let m = weighted_mean(&first, Some(&w))
            .unwrap()
            .to_scalar::<f32>()
            .unwrap() as f64;
        assert!((m - (2.0 * want[0] + want[2]) / 3.0).abs() < 1e-6);
        assert!(bce_with_logits(&z, &t(&[1.0])).is_err());
    }

    #[test]
    fn kl_and_mse_closed_forms() {
        let mu = Tensor::new(&[[1.0f32, 0.0], [0.0, 0.0]], &Device::Cpu).unwrap();
        let logvar = Tensor::new(&[[0.0f32, 2.0f32.ln()], [0.0, 0.0]], &Device::Cpu).unwrap();
        let kl = gaussian_kl(&mu, &logvar).unwrap().to_vec1::<f32>().unwrap();
        // 1/2 (mu² + var - 1 - ln var) per dimension.
        let want = 0.5 * (1.0 + (2.0 - 1.0 - 2.0f32.ln()));
        assert!((kl[0] - want).abs() < 1e-6 && kl[1].abs() < 1e-7, "{kl:?}");
        let p = Tensor::new(&[[1.0f32, 2.0], [0.0, 0.0]], &Device::Cpu).unwrap();
        let y = Tensor::new(&[[0.0f32, 0.0], [1.0, 1.0]], &Device::Cpu).unwrap();
        assert_eq!(mse(&p, &y).unwrap().to_vec1::<f32>().unwrap(), [5.0, 2.0]);
    }
}
