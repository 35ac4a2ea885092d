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

/// A multiplier applied to whole parameters: one number, or one per ensemble member
/// (a [members, 1, ..., 1] tensor broadcast over each member's slice).
enum Scale {
    All(f64),
    Members(Vec<f64>),
}

impl Scale {
    /// `t` times the factor (for one number exactly `t.affine(f, 0)`, as before ensembles).
    fn apply(&self, t: &Tensor) -> Result<Tensor> {
        match self {
            Self::All(f) => Ok(t.affine(*f, 0.0)?),
            Self::Members(f) => {
                let mut shape = vec![1; t.rank()];
                shape[0] = f.len();
                let f: Vec<f32> = f.iter().map(|&v| v as f32).collect();
                Ok(t.broadcast_mul(&Tensor::from_vec(f, shape, t.device())?)?)
            }
        }
    }

    /// The factor computed from each member's (learning rate, step count).
    fn from(members: &[(f64, i32)], f: impl Fn(f64, i32) -> f64) -> Self {
        match members {
            [(lr, steps)] => Self::All(f(*lr, *steps)),
            _ => Self::Members(members.iter().map(|&(lr, t)| f(lr, t.max(1))).collect()),
        }
    }
}

/// An optimizer over a fixed list of parameters.
///
/// For an ensemble ([`Optimizer::for_members`]) the first dimension of every parameter
/// indexes the members, and each member has its own learning rate and step count (Adam's bias
/// correction), so that a member updated on a subset of the steps follows exactly the
/// trajectory it would follow alone.
pub struct Optimizer {
    kind: Kind,
    vars: Vec<Var>,
    /// Per parameter: first and second state tensors (meaning depends on the kind).
    state: Vec<(Tensor, Tensor)>,
    /// Per member (one for a single model): learning rate and number of updates so far.
    members: Vec<(f64, i32)>,
}

fn check_lr(lr: f64) -> Result<()> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            "lr",
            format!("the learning rate must be positive, not {lr}"),
        ))
    }
}

impl Optimizer {
    /// An optimizer of `kind` with learning rate `lr` over `vars`.
    pub fn new<'a>(kind: Kind, lr: f64, vars: impl IntoIterator<Item = &'a Var>) -> Result<Self> {
        Self::for_members(kind, lr, vars, 1)
    }

    /// An optimizer over the stacked parameters of `members` networks: every variable's
    /// first dimension has length `members`, and [`Optimizer::step_members`] updates the
    /// members it is told to.
    pub fn for_members<'a>(
        kind: Kind,
        lr: f64,
        vars: impl IntoIterator<Item = &'a Var>,
        members: usize,
    ) -> Result<Self> {
        check_lr(lr)?;
        let vars: Vec<Var> = vars.into_iter().cloned().collect();
        if members > 1
            && let Some(v) = vars.iter().find(|v| v.dims().first() != Some(&members))
        {
            return Err(Error::invalid(
                "optimizer",
                format!(
                    "a parameter of shape {:?} is not stacked over {members} members",
                    v.dims()
                ),
            ));
        }
        let state = vars
            .iter()
            .map(|v| Ok((v.as_tensor().zeros_like()?, v.as_tensor().zeros_like()?)))
            .collect::<Result<_>>()?;
        Ok(Self {
            kind,
            vars,
            state,
            members: vec![(lr, 0); members.max(1)],
        })
    }

    /// The current learning rate (of the first member).
    pub fn lr(&self) -> f64 {
        self.members[0].0
    }

    /// Changes the learning rate (schedules), of every member.
    pub fn set_lr(&mut self, lr: f64) {
        for m in &mut self.members {
            m.0 = lr;
        }
    }

    /// The learning rate of `member`.
    pub fn member_lr(&self, member: usize) -> f64 {
        self.members[member].0
    }

    /// Changes the learning rate of `member` alone.
    pub fn set_member_lr(&mut self, member: usize, lr: f64) {
        self.members[member].0 = lr;
    }

    /// One update from the gradients in `grads` (parameters without a gradient are left alone).
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step_members(grads, None)
    }

    /// One update of the members flagged in `active` (all when `None`); the others keep their
    /// parameters, optimizer state and step count.
    pub fn step_members(&mut self, grads: &GradStore, active: Option<&[bool]>) -> Result<()> {
        let k = self.members.len();
        let active: Vec<bool> = match active {
            Some(a) if a.len() != k => {
                return Err(Error::invalid(
                    "optimizer",
                    format!("{} member flags for {k} members", a.len()),
                ));
            }
            Some(a) => a.to_vec(),
            None => vec![true; k],
        };
        if !active.iter().any(|&a| a) {
            return Ok(());
        }
        for (m, &a) in self.members.iter_mut().zip(&active) {
            if a {
                m.1 += 1;
            }
        }
        let everyone = active.iter().all(|&a| a);
        let lr = Scale::from(&self.members, |lr, _| lr);
        for (var, (s1, s2)) in self.vars.iter().zip(self.state.iter_mut()) {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            // candle's gradients of variables still reference the forward pass (e.g. the
            // inputs of a matmul); without detaching, the optimizer state built from them
            // would chain every step's graph together and memory would grow without bound.
            let g = &g.detach();
            let theta = var.as_tensor();
            let (next, n1, n2) = match self.kind {
                Kind::Sgd { momentum } => {
                    let v = if momentum > 0.0 {
                        (s1.affine(momentum, 0.0)? + g)?
                    } else {
                        g.clone()
                    };
                    ((theta - lr.apply(&v)?)?, v, s2.clone())
                }
                Kind::Adam | Kind::AdamW { .. } => {
                    let (b1, b2, eps) = (0.9, 0.999, 1e-8);
                    let theta = match self.kind {
                        Kind::AdamW { weight_decay } => {
                            Scale::from(&self.members, |lr, _| 1.0 - lr * weight_decay)
                                .apply(theta)?
                        }
                        _ => theta.clone(),
                    };
                    let m = (s1.affine(b1, 0.0)? + g.affine(1.0 - b1, 0.0)?)?;
                    let v = (s2.affine(b2, 0.0)? + g.sqr()?.affine(1.0 - b2, 0.0)?)?;
                    let m_hat =
                        Scale::from(&self.members, |_, t| 1.0 / (1.0 - b1.powi(t))).apply(&m)?;
                    let v_hat =
                        Scale::from(&self.members, |_, t| 1.0 / (1.0 - b2.powi(t))).apply(&v)?;
                    let update = m_hat.div(&v_hat.sqrt()?.affine(1.0, eps)?)?;
                    ((theta - lr.apply(&update)?)?, m, v)
                }
                Kind::Adagrad => {
                    let sum = (&*s1 + g.sqr()?)?;
                    let update = g.div(&sum.sqrt()?.affine(1.0, 1e-10)?)?;
                    ((theta - lr.apply(&update)?)?, sum, s2.clone())
                }
                Kind::Adadelta => {
                    let (rho, eps) = (0.9, 1e-6);
                    let sq = (s1.affine(rho, 0.0)? + g.sqr()?.affine(1.0 - rho, 0.0)?)?;
                    let delta = s2
                        .affine(1.0, eps)?
                        .sqrt()?
                        .div(&sq.affine(1.0, eps)?.sqrt()?)?
                        .mul(g)?;
                    let acc = (s2.affine(rho, 0.0)? + delta.sqr()?.affine(1.0 - rho, 0.0)?)?;
                    ((theta - lr.apply(&delta)?)?, sq, acc)
                }
            };
            if everyone {
                var.set(&next)?;
                *s1 = n1;
                *s2 = n2;
            } else {
                // Inactive members keep their values exactly (a select, not a blend).
                let mut shape = vec![1; theta.rank()];
                shape[0] = k;
                let mask: Vec<u8> = active.iter().map(|&a| u8::from(a)).collect();
                let mask =
                    Tensor::from_vec(mask, shape, theta.device())?.broadcast_as(theta.shape())?;
                var.set(&mask.where_cond(&next, theta)?)?;
                *s1 = mask.where_cond(&n1, s1)?;
                *s2 = mask.where_cond(&n2, s2)?;
            }
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
