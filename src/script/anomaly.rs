//! The `anomaly` domain: unsupervised anomaly scores trained on background-dominated data
//! (the latent-space VAE of Bortolato et al. 2021, rare and different of Caron et al. 2021, the Deep Set VAE of
//! Ostdiek 2021) and the Dark Machines evaluation of such scores. Each workflow registers its
//! functions in a module of its own, merged here.

use rhai::Module;

use super::domain::Domain;

/// The `anomaly` domain.
pub const DOMAIN: Domain = Domain {
    name: "anomaly",
    about: "unsupervised anomaly scores: latent-space VAE, rare and different, Deep Set VAE, Dark Machines evaluation",
    options: || {
        super::latent_vae::tables()
            .into_iter()
            .chain(super::deep_set_vae::tables())
            .chain(super::dm_evaluate::tables())
            .chain(super::rare_and_different::tables())
            .collect()
    },
    module: || {
        let mut module = Module::new();
        module.combine_flatten(super::latent_vae::module());
        module.combine_flatten(super::deep_set_vae::module());
        module.combine_flatten(super::dm_evaluate::module());
        module.combine_flatten(super::rare_and_different::module());
        module
    },
};
