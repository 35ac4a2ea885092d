//! The papers' workflows, assembled from the data, statistics and neural layers: each goes
//! from an event set to a result with local and look-elsewhere-aware significances.
//!
//! - [`anode`]: ANODE, conditional flows for data and sideband densities (seed 002 §3.2).
//! - [`anode_report`]: ANODE's table and figures.
//! - [`cwola`]: CWoLa hunting and SA-CWoLa (seed 002 §4.1, §4.5).
//! - [`deep_set_vae`]: the Deep Set VAE anomaly score on object-level events (seed 000).
//! - [`estimate`]: cut-and-count against a weighted reference sample (SALAD, ANODE).
//! - [`estimate_report`]: the mass figure of such an estimate, data against the reference.
//! - [`inputs`]: the events in a mass range as standardised feature rows.
//! - [`latent_vae`]: bump hunting in latent space, a VAE's KL as anomaly score (seed 003).
//! - [`latent_vae_report`]: the latent VAE's table and figures.
//! - [`latent_map`]: the latent space characterised by a mass-aware decoder (seed 003 §V).
//! - [`rare_and_different`]: Deep SVDD ensemble + autoregressive flow (seed 001).
//! - [`rare_and_different_report`]: its summary and correlation heat map.
//! - [`salad`]: SALAD, DCTR-reweighted simulation against data (seed 004).
//! - [`salad_report`]: SALAD's table and closure figures (seed 004 Figs. 4–7, 9).
//! - [`regions`]: sliding signal regions and sidebands, CWoLa's sideband weights.
//! - [`window`]: the signal region, range and features of SALAD and ANODE.
//! - [`window_test`]: the sideband fit and local p-value every resonant search ends with.
//! - [`cwola_report`]: the hunt's summary table and figures.

pub mod anode;
pub mod anode_report;
pub mod cwola;
pub mod cwola_report;
pub mod deep_set_vae;
pub mod estimate;
pub mod estimate_report;
pub(crate) mod inputs;
pub mod latent_map;
pub mod latent_vae;
pub mod latent_vae_report;
pub mod rare_and_different;
pub mod rare_and_different_report;
pub mod regions;
pub mod salad;
pub mod salad_report;
pub mod window;
pub mod window_test;
