//! Forward passes over many events, in batches of bounded size.

use candle_core::Tensor;

use crate::error::{Error, Result};

/// Events per forward pass when predicting.
pub(crate) const PREDICT_BATCH: usize = 65_536;

/// `f` applied to `x` (and `context`, if given) in batches of [`PREDICT_BATCH`] events, the
/// results concatenated along dimension `axis` (where they hold the events). No events is an
/// error.
pub(crate) fn batched_along(
    axis: usize,
    x: &Tensor,
    context: Option<&Tensor>,
    f: impl Fn(&Tensor, Option<&Tensor>) -> Result<Tensor>,
) -> Result<Tensor> {
    let n = x.dims().first().copied().unwrap_or(0);
    if let Some(c) = context
        && c.dims().first() != Some(&n)
    {
        return Err(Error::invalid(
            "context",
            format!(
                "{} context rows for {n} events",
                c.dims().first().unwrap_or(&0)
            ),
        ));
    }
    let parts = (0..n)
        .step_by(PREDICT_BATCH)
        .map(|start| {
            let len = PREDICT_BATCH.min(n - start);
            let ctx = context.map(|c| c.narrow(0, start, len)).transpose()?;
            f(&x.narrow(0, start, len)?, ctx.as_ref())
        })
        .collect::<Result<Vec<_>>>()?;
    if parts.is_empty() {
        return Err(Error::invalid("inputs", "there are no events to predict"));
    }
    Ok(Tensor::cat(&parts, axis)?)
}
