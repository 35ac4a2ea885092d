//! Whether a hunt's features depend on the mass: the check that CWoLa hunting's sideband fit
//! needs, made on background before any classifier is trained.

use super::CwolaOptions;
use crate::data::eventset::EventSet;
use crate::error::{Error, Result};
use crate::methods::inputs::Inputs;
use crate::methods::regions::sliding_regions;

/// Per feature of the hunt's inputs (rescaled as `opts` says), in signal region `index` of
/// the scan: a cut on the feature alone at the signal region's `q` quantile (keeping the
/// signal-region events below it) keeps a fraction `f_sb` of the sideband events; the pull
/// is (f_sb − q) / σ with the binomial σ of both samples. Without signal, and with features
/// whose background distribution does not depend on the mass, the pulls are standard normal;
/// a large pull means the classifiers can learn the background's own signal-region/sideband
/// difference, which sculpts the selected mass spectrum.
pub fn tail_pulls(
    events: &EventSet,
    opts: &CwolaOptions,
    index: usize,
    q: f64,
) -> Result<Vec<(String, f64)>> {
    if !(q > 0.0 && q < 1.0) {
        return Err(Error::invalid("quantile", format!("{q} is not in (0, 1)")));
    }
    let inputs = Inputs::with_rescaling(
        events,
        &opts.input_spec(),
        opts.rescaling,
        None,
        &opts.device,
    )?;
    let mut regions = sliding_regions(&opts.edges, opts.sr_bins, opts.sb_bins)?;
    if index >= regions.len() {
        return Err(Error::invalid(
            "region",
            format!("{index} is not among the {} signal regions", regions.len()),
        ));
    }
    let region = regions.swap_remove(index);
    let rows: Vec<usize> = (0..inputs.len()).collect();
    let x = inputs.tensor(&rows)?.to_vec2::<f32>()?;
    let (mut sr, mut sb) = (Vec::new(), Vec::new());
    for (r, &m) in inputs.mass.iter().enumerate() {
        if region.lo <= m && m < region.hi {
            sr.push(r);
        } else if region.sb_lo <= m && m < region.sb_hi {
            sb.push(r);
        }
    }
    if sr.is_empty() || sb.is_empty() {
        return Err(Error::invalid(
            "region",
            format!("signal region {index} or its sidebands hold no events"),
        ));
    }
    let (n_sr, n_sb) = (sr.len() as f64, sb.len() as f64);
    let sigma = (q * (1.0 - q) * (1.0 / n_sr + 1.0 / n_sb)).sqrt();
    Ok(opts
        .features
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let mut in_sr: Vec<f32> = sr.iter().map(|&r| x[r][j]).collect();
            in_sr.sort_unstable_by(f32::total_cmp);
            let cut = in_sr[((q * n_sr) as usize).min(in_sr.len() - 1)];
            let f_sr = in_sr.iter().filter(|&&v| v < cut).count() as f64 / n_sr;
            let f_sb = sb.iter().filter(|&&r| x[r][j] < cut).count() as f64 / n_sb;
            (name.clone(), (f_sb - f_sr) / sigma)
        })
        .collect())
}
