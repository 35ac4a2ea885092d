//! Optimizers: SGD (with momentum), Adam, AdamW, Adagrad and Adadelta, with PyTorch's update
//! rules and default hyper-parameters. Each keeps its per-parameter state as tensors on the
//! parameters' device.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use crate::error::{Error, Result};

/// Which update rule, with its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// θ -= lr · v, v = momentum · v + g.
    Sgd {
        /// Momentum (0: plain gradient descent).
        momentum: f64,
    },
    /// Adam with β = (0.9, 0.999), ε = 1e-8.
    Adam,
    /// Adam with decoupled weight decay: θ -= lr · decay · θ before the Adam step.
    AdamW {
        /// The decay rate (PyTorch's default 0.01).
        weight_decay: f64,
    },
    /// Adagrad: θ -= lr · g / (sqrt(Σ g²) + 1e-10).
    Adagrad,
    /// Adadelta with ρ = 0.9, ε = 1e-6 (lr 1.0 in PyTorch), as the latent-space VAE paper used.
    Adadelta,
}

impl Kind {
    /// Every optimizer's name, as options spell them.
    pub const NAMES: [&'static str; 5] = ["adam", "adamw", "sgd", "adagrad", "adadelta"];

    /// The optimizer called `name`, with default hyper-parameters.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "adam" => Ok(Self::Adam),
            "adamw" => Ok(Self::AdamW { weight_decay: 0.01 }),
            "sgd" => Ok(Self::Sgd { momentum: 0.0 }),
            "adagrad" => Ok(Self::Adagrad),
            "adadelta" => Ok(Self::Adadelta),
            other => Err(Error::invalid(
                "optimizer",
                format!("'{other}': use one of {}", Self::NAMES.join(", ")),
            )),
        }
    }

    /// The name `parse` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sgd { .. } => "sgd",
            Self::Adam => "adam",
            Self::AdamW { .. } => "adamw",
            Self::Adagrad => "adagrad",
            Self::Adadelta => "adadelta",
        }
    }
}

/// An optimizer over a fixed list of parameters.
pub struct Optimizer {
    kind: Kind,
    lr: f64,
    vars: Vec<Var>,
    /// Per parameter: first and second state tensors (meaning depends on the kind).
    state: Vec<(Tensor, Tensor)>,
    steps: i32,
}

impl Optimizer {
    /// An optimizer of `kind` with learning rate `lr` over `vars`.
    pub fn new<'a>(kind: Kind, lr: f64, vars: impl IntoIterator<Item = &'a Var>) -> Result<Self> {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::invalid(
                "lr",
                format!("the learning rate must be positive, not {lr}"),
            ));
        }
        let vars: Vec<Var> = vars.into_iter().cloned().collect();
        let state = vars
            .iter()
            .map(|v| Ok((v.as_tensor().zeros_like()?, v.as_tensor().zeros_like()?)))
            .collect::<Result<_>>()?;
        Ok(Self {
            kind,
            lr,
            vars,
            state,
            steps: 0,
        })
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Changes the learning rate (schedules).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// One update from the gradients in `grads` (parameters without a gradient are left alone).
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.steps += 1;
        let lr = self.lr;
        for (var, (s1, s2)) in self.vars.iter().zip(self.state.iter_mut()) {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            // candle's gradients of variables still reference the forward pass (e.g. the
            // inputs of a matmul); without detaching, the optimizer state built from them
            // would chain every step's graph together and memory would grow without bound.
            let g = &g.detach();
            let theta = var.as_tensor();
            let next = match self.kind {
                Kind::Sgd { momentum } => {
                    let v = if momentum > 0.0 {
                        (s1.affine(momentum, 0.0)? + g)?
                    } else {
                        g.clone()
                    };
                    *s1 = v.clone();
                    (theta - v.affine(lr, 0.0)?)?
                }
                Kind::Adam | Kind::AdamW { .. } => {
                    let (b1, b2, eps) = (0.9, 0.999, 1e-8);
                    let theta = match self.kind {
                        Kind::AdamW { weight_decay } => {
                            theta.affine(1.0 - lr * weight_decay, 0.0)?
                        }
                        _ => theta.clone(),
                    };
                    *s1 = (s1.affine(b1, 0.0)? + g.affine(1.0 - b1, 0.0)?)?;
                    *s2 = (s2.affine(b2, 0.0)? + g.sqr()?.affine(1.0 - b2, 0.0)?)?;
                    let m_hat = s1.affine(1.0 / (1.0 - b1.powi(self.steps)), 0.0)?;
                    let v_hat = s2.affine(1.0 / (1.0 - b2.powi(self.steps)), 0.0)?;
                    (theta
                        - m_hat
                            .div(&v_hat.sqrt()?.affine(1.0, eps)?)?
                            .affine(lr, 0.0)?)?
                }
                Kind::Adagrad => {
                    *s1 = (&*s1 + g.sqr()?)?;
                    (theta - g.div(&s1.sqrt()?.affine(1.0, 1e-10)?)?.affine(lr, 0.0)?)?
                }
                Kind::Adadelta => {
                    let (rho, eps) = (0.9, 1e-6);
                    *s1 = (s1.affine(rho, 0.0)? + g.sqr()?.affine(1.0 - rho, 0.0)?)?;
                    let delta = s2
                        .affine(1.0, eps)?
                        .sqrt()?
                        .div(&s1.affine(1.0, eps)?.sqrt()?)?
                        .mul(g)?;
                    *s2 = (s2.affine(rho, 0.0)? + delta.sqr()?.affine(1.0 - rho, 0.0)?)?;
                    (theta - delta.affine(lr, 0.0)?)?
                }
            };
            var.set(&next)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};

    use super::*;

    /// Minimises the convex loss Σ (θ - 3)² from θ = 0 and returns the losses.
    fn descend(kind: Kind, lr: f64, steps: usize) -> Vec<f32> {
        let theta = Var::from_tensor(&Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap()).unwrap();
        let mut opt = Optimizer::new(kind, lr, [&theta]).unwrap();
        (0..steps)
            .map(|_| {
                let loss = theta
                    .as_tensor()
                    .affine(1.0, -3.0)
                    .unwrap()
                    .sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap();
                opt.step(&loss.backward().unwrap()).unwrap();
                loss.to_scalar::<f32>().unwrap()
            })
            .collect()
    }

    #[test]
    fn every_optimizer_decreases_a_convex_loss() {
        // Adadelta's steps start tiny (its update scale is learnt), so it gets more of them.
        for (kind, lr, steps) in [
            (Kind::Sgd { momentum: 0.0 }, 0.1, 200),
            (Kind::Sgd { momentum: 0.9 }, 0.01, 200),
            (Kind::Adam, 0.1, 200),
            (Kind::AdamW { weight_decay: 0.01 }, 0.1, 200),
            (Kind::Adagrad, 0.5, 200),
            (Kind::Adadelta, 1.0, 1000),
        ] {
            let losses = descend(kind, lr, steps);
            assert!(
                losses.iter().all(|l| *l <= losses[0]),
                "{kind:?} climbs above its start"
            );
            let (first, last) = (losses[0], *losses.last().unwrap());
            assert!(last < 0.5 * first, "{kind:?}: {first} -> {last}");
        }
        // Plain gradient descent on (θ-3)² with lr 0.1 contracts by 0.8 per step: exact.
        let sgd = descend(Kind::Sgd { momentum: 0.0 }, 0.1, 3);
        assert!((sgd[1] / sgd[0] - 0.64).abs() < 1e-5 && (sgd[2] / sgd[1] - 0.64).abs() < 1e-5);
    }

    #[test]
    fn names_and_bad_learning_rates() {
        for name in Kind::NAMES {
            assert_eq!(Kind::parse(name).unwrap().name(), name);
        }
        assert!(
            Kind::parse("lbfgs")
                .unwrap_err()
                .to_string()
                .contains("adadelta")
        );
        let v = Var::from_tensor(&Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap()).unwrap();
        assert!(Optimizer::new(Kind::Adam, 0.0, [&v]).is_err());
    }
}
