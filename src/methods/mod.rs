//! The papers' workflows, assembled from the data, statistics and neural layers: each goes
//! from an event set to a result with local and look-elsewhere-aware significances.
//!
//! - [`anode`]: ANODE, conditional flows for data and sideband densities (LHC Olympics 2020 §3.2).
//! - [`anode_report`]: ANODE's table and figures.
//! - [`cathode`]: CATHODE, a classifier of data against a sideband flow's samples (Hallin et al. 2022).
//! - [`cwola`]: CWoLa hunting and SA-CWoLa (LHC Olympics 2020 §4.1, §4.5).
//! - [`deep_set_vae`]: the Deep Set VAE anomaly score on object-level events (Ostdiek 2021).
//! - [`estimate`]: cut-and-count against a weighted reference sample (SALAD, ANODE).
//! - [`estimate_report`]: the mass figure of such an estimate, data against the reference.
//! - [`flow_preprocessing`]: the space a sideband flow models its features in (CATHODE's logit map).
//! - [`injection_scan`]: the signal-injection scan of the benchmark frame.
//! - [`inputs`]: the events in a mass range as standardised feature rows.
//! - [`kfold_classifier`]: one k-fold classifier of events against events, each scored out of sample.
//! - [`latent_vae`]: bump hunting in latent space, a VAE's KL as anomaly score (Bortolato et al. 2021).
//! - [`latent_vae_report`]: the latent VAE's table and figures.
//! - [`latent_map`]: the latent space characterised by a mass-aware decoder (Bortolato et al. 2021 §V).
//! - [`rare_and_different`]: Deep SVDD ensemble + autoregressive flow (Caron et al. 2021).
//! - [`rare_and_different_report`]: its summary and correlation heat map.
//! - [`references`]: the benchmark frame's supervised and idealized reference classifiers.
//! - [`salad`]: SALAD, DCTR-reweighted simulation against data (Andreassen et al. 2020).
//! - [`sideband_flow`]: the sideband density of ANODE and CATHODE and its background-model systematic.
//! - [`salad_report`]: SALAD's table and closure figures (Andreassen et al. 2020 Figs. 4–7, 9).
//! - [`regions`]: sliding signal regions and sidebands, CWoLa's sideband weights.
//! - [`window`]: the signal region, range and features of SALAD and ANODE.
//! - [`window_significance`]: the sideband fit and local p-value every resonant search ends with.
//! - [`cwola_report`]: the hunt's summary table and figures.

pub mod anode;
pub mod anode_report;
pub mod cathode;
pub mod cwola;
pub mod cwola_report;
pub mod deep_set_vae;
pub mod estimate;
pub mod estimate_report;
pub mod flow_preprocessing;
pub mod injection_scan;
pub(crate) mod inputs;
pub mod kfold_classifier;
pub mod latent_map;
pub mod latent_vae;
pub mod latent_vae_report;
pub mod rare_and_different;
pub mod rare_and_different_report;
pub mod references;
pub mod regions;
pub mod salad;
pub mod salad_report;
pub mod sideband_flow;
pub mod window;
pub mod window_significance;

/// A number saved by serde_json, where NaN becomes null: null reads back as NaN (for the
/// results of plan units, src/batch.rs).
pub(crate) fn nan_from_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<f64, D::Error> {
    use serde::Deserialize;
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Reads a list of numbers saved with NaN as null (serde_json writes NaN as null).
pub(crate) fn nans_from_nulls<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<f64>, D::Error> {
    use serde::Deserialize;
    Ok(Vec::<Option<f64>>::deserialize(d)?
        .into_iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// Asserts that the events `kept`, a selection of `scored`, hold more than `factor` times
/// the signal share (the mean `label`) of `scored`: the check that a search's top-scored
/// events are enriched in signal.
#[cfg(test)]
pub(crate) fn assert_enriched_in_signal(
    scored: &crate::data::EventSet,
    kept: &crate::data::EventSet,
    factor: f64,
) {
    let share = |events: &crate::data::EventSet| {
        let label = events.column("label").unwrap();
        label.iter().sum::<f64>() / label.len() as f64
    };
    let (kept_share, all_share) = (share(kept), share(scored));
    assert!(
        kept_share > factor * all_share,
        "{kept_share} vs {all_share}"
    );
}
