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
    batched_by(PREDICT_BATCH, axis, x, context, f)
}

/// [`batched_along`] for a model that runs `copies` networks on every event (an ensemble):
/// batches of `PREDICT_BATCH / copies` events (at least 1024), so that the memory a batch
/// takes does not grow with the number of networks.
pub(crate) fn batched_for_copies(
    copies: usize,
    axis: usize,
    x: &Tensor,
    f: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let rows = (PREDICT_BATCH / copies.max(1)).max(1024);
    batched_by(rows, axis, x, None, |chunk, _| f(chunk))
}

/// `f` applied to `x` (and `context`) in batches of `rows` events (see [`batched_along`]).
fn batched_by(
    rows: usize,
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
        .step_by(rows)
        .map(|start| {
            let len = rows.min(n - start);
            let ctx = context.map(|c| c.narrow(0, start, len)).transpose()?;
            // Detached: a batch's result would otherwise keep every intermediate tensor of
            // its forward pass alive (the autograd graph of the weights) until all batches
            // are done, memory that grows with the events predicted.
            Ok(f(&x.narrow(0, start, len)?, ctx.as_ref())?.detach())
        })
        .collect::<Result<Vec<_>>>()?;
    if parts.is_empty() {
        return Err(Error::invalid("inputs", "there are no events to predict"));
    }
    Ok(Tensor::cat(&parts, axis)?)
}
