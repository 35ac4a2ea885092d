//! The latent-space characterisation of Bortolato et al. 2021 §V: with a trained VAE's encoder frozen, a
//! second decoder learns to reconstruct the jet observables from the latent point z and the
//! dijet mass, and evaluating it on a grid of (z, m_jj) draws each observable as a heat map
//! (the paper's Figs. 7–8). A signal shows up as a localised feature in the mass direction.
//!
//! The decoder's inputs per training event are z ~ N(z̄, σ_z) from the frozen encoder and
//! m ~ N(m_jj, 0.025 m_jj), the mass standardised (StandardScaler); it is trained with Adam
//! on the reconstruction error alone until the validation loss stops improving, as the paper
//! found Adam better than Adadelta for this step. The map needs a one-dimensional latent
//! space (the paper's choice); the sign of z is arbitrary from run to run, so the map uses one
//! run (`run`, default the first).

use std::path::Path;

use candle_core::{DType, Tensor};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use super::latent_vae::{LatentVae, scaled_inputs};
use crate::data::describe::quantile_sorted;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::nn::Trainable;
use crate::nn::batching::batched_along;
use crate::nn::layers::Activation;
use crate::nn::mlp::{Mlp, MlpConfig, Output};
use crate::nn::model::Step;
use crate::nn::train::{Dataset, History, TrainOptions, Validation, fit};
use crate::plot::{HeatmapOptions, plot_heatmap};
use crate::seed::stream_seed;
use crate::stats::hist::Hist2D;

/// Options of [`latent_map`].
#[derive(Clone, Debug)]
pub struct LatentMapOptions {
    /// The run whose encoder is used (0).
    pub run: usize,
    /// Relative smearing of the mass, σ_m / m_jj (0.025).
    pub mass_resolution: f64,
    /// Hidden widths of the new decoder ([64, 64, 64], SELU like the VAE's).
    pub hidden: Vec<usize>,
    /// Latent and mass draws per training event (2).
    pub draws: usize,
    /// Training: at most 30 epochs, batch 1000, Adam 1e-3, 20 % validation, patience 5.
    pub training: TrainOptions,
    /// Grid points along z and along the mass (40, 40).
    pub grid: (usize, usize),
    /// The z range of the grid (default: the 0.5 % to 99.5 % quantiles of the events' z̄).
    pub z_range: Option<(f64, f64)>,
    /// The mass range of the grid (default: the 1 % to 99 % quantiles of the events' masses).
    pub mass_range: Option<(f64, f64)>,
    /// Seed of the draws and the decoder.
    pub seed: u64,
}

impl Default for LatentMapOptions {
    fn default() -> Self {
        Self {
            run: 0,
            mass_resolution: 0.025,
            hidden: vec![64, 64, 64],
            draws: 2,
            training: TrainOptions {
                epochs: 30,
                batch_size: 1000,
                lr: 1e-3,
                validation: Validation::Fraction(0.2),
                patience: Some(5),
                ..TrainOptions::default()
            },
            grid: (40, 40),
            z_range: None,
            mass_range: None,
            seed: crate::seed::DEFAULT_SEED,
        }
    }
}

/// The reconstructed observables over the (z, m) plane.
#[derive(Clone, Debug, Serialize)]
pub struct LatentMap {
    /// The observables, in the VAE's input order.
    pub features: Vec<String>,
    /// The mass column.
    pub mass: String,
    /// Grid points along z.
    pub z: Vec<f64>,
    /// Grid points along the mass.
    pub masses: Vec<f64>,
    /// Per feature, the decoded value in the original units at every grid point,
    /// `values[f][iz * masses.len() + im]`.
    pub values: Vec<Vec<f64>>,
    /// The second decoder's training record.
    pub history: History,
}

/// Trains the mass-aware decoder on `vae`'s training events with the encoder of run
/// `opts.run` frozen and decodes the (z, m) grid (see the module documentation).
pub fn latent_map(
    vae: &LatentVae,
    opts: &LatentMapOptions,
    interrupt: Option<&Interrupt>,
) -> Result<LatentMap> {
    let encoder = &vae.run(opts.run)?.vae;
    if encoder.config().latent != 1 {
        return Err(Error::invalid(
            "latent_map",
            format!(
                "the (z, m) map needs a one-dimensional latent space; this VAE has {}",
                encoder.config().latent
            ),
        ));
    }
    check_options(opts)?;
    let device = encoder.params().device().clone();
    let x = scaled_inputs(&vae.scaler, &vae.events, &vae.features, &device)?;
    let (mu, logvar) = {
        let both = batched_along(0, &x, None, |c, _| {
            let (m, l) = encoder.encode(c)?;
            Ok(Tensor::cat(&[m, l], 1)?)
        })?
        .to_dtype(DType::F64)?
        .to_vec2::<f64>()?;
        both.into_iter()
            .map(|r| (r[0], r[1]))
            .unzip::<_, _, Vec<f64>, Vec<f64>>()
    };
    let mass = vae.events.column(&vae.mass)?;
    if let Some(i) = mass.iter().position(|m| !m.is_finite() || *m <= 0.0) {
        return Err(Error::invalid(
            &vae.mass,
            format!("event {i} has mass {}: masses must be positive", mass[i]),
        ));
    }
    let (mass_mean, mass_std) = mean_std(&mass);

    // Training pairs: (z, standardised m) drawn around every event, the scaled observables.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(stream_seed(opts.seed, 1));
    let n = mass.len();
    let targets: Vec<f32> = x.flatten_all()?.to_vec1()?;
    let width = vae.features.len();
    let mut inputs = Vec::with_capacity(2 * n * opts.draws);
    let mut outputs = Vec::with_capacity(width * n * opts.draws);
    for _ in 0..opts.draws {
        for i in 0..n {
            let eps: f64 = StandardNormal.sample(&mut rng);
            let z = mu[i] + (0.5 * logvar[i]).exp() * eps;
            let m = Normal::new(mass[i], opts.mass_resolution * mass[i])
                .map_err(|e| Error::invalid("mass_resolution", e.to_string()))?
                .sample(&mut rng);
            inputs.extend([z as f32, ((m - mass_mean) / mass_std) as f32]);
            outputs.extend_from_slice(&targets[i * width..(i + 1) * width]);
        }
    }
    let rows = n * opts.draws;
    let decoder = Mlp::new(
        MlpConfig {
            inputs: 2,
            hidden: opts.hidden.clone(),
            activation: Activation::Selu,
            dropout: 0.0,
            outputs: width,
            output: Output::Linear,
        },
        &device,
        stream_seed(opts.seed, 2),
    )?;
    let data = Dataset {
        x: Tensor::from_vec(inputs, (rows, 2), &device)?,
        y: Some(Tensor::from_vec(outputs, (rows, width), &device)?),
        weights: None,
        context: None,
    };
    let training = TrainOptions {
        seed: stream_seed(opts.seed, 3),
        ..opts.training.clone()
    };
    let history = fit(&decoder, &data, &training, interrupt)?;

    // The grid.
    let z_range = match opts.z_range {
        Some(r) => r,
        None => quantile_range(&mu, 0.005, 0.995),
    };
    let mass_range = match opts.mass_range {
        Some(r) => r,
        None => quantile_range(&mass, 0.01, 0.99),
    };
    let z = grid(z_range, opts.grid.0);
    let masses = grid(mass_range, opts.grid.1);
    let points: Vec<f32> = z
        .iter()
        .flat_map(|&zi| {
            masses
                .iter()
                .flat_map(move |&m| [zi as f32, ((m - mass_mean) / mass_std) as f32])
        })
        .collect();
    let points = Tensor::from_vec(points, (z.len() * masses.len(), 2), &device)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let decoded = decoder
        .predict(
            &points,
            &mut Step {
                training: false,
                rng: &mut rng,
            },
        )?
        .reshape((z.len() * masses.len(), width))?
        .to_dtype(DType::F64)?
        .to_vec2::<f64>()?;
    let values = (0..width)
        .map(|f| {
            decoded
                .iter()
                .map(|row| vae.scaler.inverse_value(f, row[f]))
                .collect()
        })
        .collect();
    Ok(LatentMap {
        features: vae.features.clone(),
        mass: vae.mass.clone(),
        z,
        masses,
        values,
        history,
    })
}

impl LatentMap {
    /// The decoded values of `feature` over the grid, one row per z point.
    pub fn feature_grid(&self, feature: &str) -> Result<Vec<Vec<f64>>> {
        let f = self.feature_index(feature)?;
        Ok(self.values[f]
            .chunks(self.masses.len())
            .map(<[f64]>::to_vec)
            .collect())
    }

    /// Draws `feature` over the (m, z) plane as a heat map to `path` (.png or .svg).
    pub fn plot(&self, feature: &str, path: &Path) -> Result<()> {
        let f = self.feature_index(feature)?;
        let (nz, nm) = (self.z.len(), self.masses.len());
        // The heat map's x axis is the mass, its y axis z: counts[im * nz + iz].
        let counts: Vec<f64> = (0..nm)
            .flat_map(|im| (0..nz).map(move |iz| (im, iz)))
            .map(|(im, iz)| self.values[f][iz * nm + im])
            .collect();
        let h = Hist2D::from_counts(cell_edges(&self.masses), cell_edges(&self.z), counts)?;
        plot_heatmap(
            path,
            &h,
            &HeatmapOptions {
                title: format!("Decoded {feature} over the latent space"),
                x_label: self.mass.clone(),
                y_label: "z".into(),
                z_label: feature.to_string(),
                ..HeatmapOptions::default()
            },
        )
    }

    fn feature_index(&self, feature: &str) -> Result<usize> {
        self.features
            .iter()
            .position(|f| f == feature)
            .ok_or_else(|| {
                Error::invalid(
                    "feature",
                    format!(
                        "'{feature}' is not an observable of this map; it has {}",
                        self.features.join(", ")
                    ),
                )
            })
    }

    /// Everything `save` writes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "latent_map": self })
    }
}

fn check_options(opts: &LatentMapOptions) -> Result<()> {
    if opts.grid.0 < 2 || opts.grid.1 < 2 {
        return Err(Error::invalid(
            "grid",
            "give at least 2 points along z and along the mass",
        ));
    }
    // Decoder inputs and outputs (a few f32 and f64 per point) for every grid point.
    crate::memory::check(
        &format!("a grid of {} x {} points", opts.grid.0, opts.grid.1),
        opts.grid.0 as f64 * opts.grid.1 as f64 * 64.0,
    )?;
    if opts.draws == 0 {
        return Err(Error::invalid("draws", "draw at least once per event"));
    }
    if !(opts.mass_resolution.is_finite() && opts.mass_resolution >= 0.0) {
        return Err(Error::invalid(
            "mass_resolution",
            "must be a non-negative fraction",
        ));
    }
    for (name, range) in [("z_range", opts.z_range), ("mass_range", opts.mass_range)] {
        if let Some((lo, hi)) = range
            && !(lo.is_finite() && hi.is_finite() && lo < hi)
        {
            return Err(Error::invalid(
                name,
                format!("[{lo}, {hi}] is not an increasing pair of numbers"),
            ));
        }
    }
    Ok(())
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
}

fn quantile_range(v: &[f64], lo: f64, hi: f64) -> (f64, f64) {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (a, b) = (quantile_sorted(&sorted, lo), quantile_sorted(&sorted, hi));
    if b > a { (a, b) } else { (a - 0.5, a + 0.5) }
}

/// `n` evenly spaced points from `lo` to `hi`.
fn grid((lo, hi): (f64, f64), n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect()
}

/// Cell edges around evenly spaced grid points.
fn cell_edges(points: &[f64]) -> Vec<f64> {
    let half = (points[1] - points[0]) / 2.0;
    std::iter::once(points[0] - half)
        .chain(points.iter().map(|p| p + half))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::eventset::EventSet;
    use crate::data::generate::lhco::{LhcoToyOptions, Preset, lhco_toy};
    use crate::methods::latent_vae::{LatentVaeOptions, latent_vae};

    #[test]
    fn the_map_follows_the_jet_mass_scaling_with_the_dijet_mass() {
        // In the toy the jet masses grow with m_jj; a decoder that reads m must reproduce that.
        let events = EventSet::from_columns(
            lhco_toy(&LhcoToyOptions {
                background: 4000,
                signal: 0,
                seed: 8,
                ..LhcoToyOptions::preset(Preset::Rnd)
            })
            .unwrap(),
        )
        .unwrap();
        let d = LatentVaeOptions::default();
        let vae = latent_vae(
            &events,
            &LatentVaeOptions {
                runs: 1,
                training: TrainOptions {
                    epochs: 3,
                    batch_size: 200,
                    ..d.training.clone()
                },
                seed: 1,
                ..d
            },
            None,
        )
        .unwrap();
        let opts = LatentMapOptions {
            grid: (5, 8),
            training: TrainOptions {
                epochs: 25,
                batch_size: 200,
                lr: 3e-3,
                ..LatentMapOptions::default().training
            },
            seed: 2,
            ..LatentMapOptions::default()
        };
        let map = latent_map(&vae, &opts, None).unwrap();
        assert_eq!((map.z.len(), map.masses.len()), (5, 8));
        let mj1 = map.feature_grid("mj1").unwrap();
        assert_eq!(mj1.len(), 5);
        let middle = &mj1[2];
        assert!(
            middle[7] > middle[0],
            "decoded mj1 should grow with the mass: {middle:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.png");
        map.plot("tau21_1", &path).unwrap();
        assert!(path.exists());
        assert!(
            map.plot("mjj", &path)
                .unwrap_err()
                .to_string()
                .contains("mj1")
        );
        let bad = LatentMapOptions {
            run: 3,
            ..opts.clone()
        };
        assert!(
            latent_map(&vae, &bad, None)
                .unwrap_err()
                .to_string()
                .contains("run")
        );
        let bad = LatentMapOptions {
            z_range: Some((1.0, -1.0)),
            ..opts
        };
        assert!(latent_map(&vae, &bad, None).is_err());
    }
}
