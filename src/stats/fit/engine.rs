//! The binned Poisson likelihood of a log-linear function, ln f = θ · φ(m), and its
//! minimisation, for a fixed number of parameters `K`: fixed-size arrays keep the Newton
//! steps allocation-free (BumpHunter references and the hunts' window tests fit thousands of
//! times). Each bin's expectation is the Gauss–Legendre integral of f over the bin, so the
//! gradient and Hessian in θ are analytic.

use crate::stats::quadrature::gauss_legendre;

/// Quadrature points per bin.
pub(super) const NODES_PER_BIN: usize = 8;

/// The quadrature points of one bin: (weight, φ) pairs.
type BinRule<const K: usize> = Vec<(f64, [f64; K])>;

/// a · b.
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The bins a fit uses: their quadrature rules and counts.
pub(super) struct Problem<const K: usize> {
    rules: Vec<BinRule<K>>,
    counts: Vec<f64>,
    /// (count, width, φ at the centre) of each bin, for the linear starts.
    centres: Vec<(f64, f64, [f64; K])>,
}

/// The outcome of one minimisation.
pub(super) struct Minimum<const K: usize> {
    /// The θ at the minimum.
    pub theta: [f64; K],
    /// -ln L there (up to a constant).
    pub nll: f64,
    /// The Hessian of -ln L there.
    pub hessian: [[f64; K]; K],
    /// Newton iterations used.
    pub iterations: usize,
}

/// The least expected count of a group of bins in Pearson's χ² (Cochran's rule).
pub(super) const MIN_GROUP_EXPECTED: f64 = 5.0;

/// Goodness of fit at a point (see [`Problem::quality`]).
pub(super) struct Quality {
    /// The Poisson deviance over the bins.
    pub deviance: f64,
    /// Pearson's χ² over the groups.
    pub chi2: f64,
    /// The number of groups.
    pub groups: usize,
}

/// The expectation of a bin, its gradient and Hessian in θ.
fn bin_moments<const K: usize>(
    rule: &BinRule<K>,
    theta: &[f64; K],
) -> (f64, [f64; K], [[f64; K]; K]) {
    let mut mu = 0.0;
    let mut grad = [0.0; K];
    let mut hess = [[0.0; K]; K];
    for (w, phi) in rule {
        let f = w * dot(theta, phi).exp();
        mu += f;
        for j in 0..K {
            grad[j] += f * phi[j];
            for k in 0..K {
                hess[j][k] += f * phi[j] * phi[k];
            }
        }
    }
    (mu, grad, hess)
}

/// Solves the symmetric K×K system `a x = b` by Gaussian elimination with partial pivoting;
/// `None` when `a` is singular.
fn solve<const K: usize>(a: &[[f64; K]; K], b: &[f64; K]) -> Option<[f64; K]> {
    let mut m = *a;
    let mut x = *b;
    for col in 0..K {
        let pivot = (col..K).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[pivot][col].abs() < 1e-300 || !m[pivot][col].is_finite() {
            return None;
        }
        m.swap(col, pivot);
        x.swap(col, pivot);
        for row in col + 1..K {
            let factor = m[row][col] / m[col][col];
            let pivot_row = m[col];
            for (target, source) in m[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *target -= factor * source;
            }
            x[row] -= factor * x[col];
        }
    }
    for col in (0..K).rev() {
        let tail: f64 = (col + 1..K).map(|k| m[col][k] * x[k]).sum();
        x[col] = (x[col] - tail) / m[col][col];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The inverse of a symmetric positive-definite K×K matrix; `None` when it is singular or
/// not positive definite.
pub(super) fn invert<const K: usize>(a: &[[f64; K]; K]) -> Option<[[f64; K]; K]> {
    let mut inv = [[0.0; K]; K];
    for j in 0..K {
        let mut e = [0.0; K];
        e[j] = 1.0;
        let col = solve(a, &e)?;
        for i in 0..K {
            inv[i][j] = col[i];
        }
    }
    (0..K).all(|i| inv[i][i] > 0.0).then_some(inv)
}

impl<const K: usize> Problem<K> {
    /// The bins of `edges` marked in `fitted`, with `features` giving φ(m).
    pub(super) fn new(
        edges: &[f64],
        counts: &[f64],
        fitted: &[bool],
        features: impl Fn(f64) -> [f64; K],
    ) -> Self {
        let (nodes, weights) = gauss_legendre(NODES_PER_BIN);
        let mut problem = Self {
            rules: Vec::new(),
            counts: Vec::new(),
            centres: Vec::new(),
        };
        for ((e, &n), _) in edges
            .windows(2)
            .zip(counts)
            .zip(fitted)
            .filter(|(_, f)| **f)
        {
            let (mid, half) = (0.5 * (e[0] + e[1]), 0.5 * (e[1] - e[0]));
            problem.rules.push(
                nodes
                    .iter()
                    .zip(&weights)
                    .map(|(x, w)| (half * w, features(mid + half * x)))
                    .collect(),
            );
            problem.counts.push(n);
            problem.centres.push((n, e[1] - e[0], features(mid)));
        }
        problem
    }

    /// -ln L (up to a constant), its gradient and Hessian in θ.
    fn objective(&self, theta: &[f64; K]) -> (f64, [f64; K], [[f64; K]; K]) {
        let mut nll = 0.0;
        let mut grad = [0.0; K];
        let mut hess = [[0.0; K]; K];
        for (rule, &n) in self.rules.iter().zip(&self.counts) {
            let (mu, g, h) = bin_moments(rule, theta);
            nll += mu - if n > 0.0 { n * mu.ln() } else { 0.0 };
            let a = 1.0 - n / mu;
            let b = n / (mu * mu);
            for j in 0..K {
                grad[j] += a * g[j];
                for k in 0..K {
                    hess[j][k] += a * h[j][k] + b * g[j] * g[k];
                }
            }
        }
        (nll, grad, hess)
    }

    /// The goodness of fit at θ: the Poisson deviance 2 Σ [μ - n + n ln(n/μ)] over the bins,
    /// and Pearson's χ² = Σ (n - μ)² / μ over groups of adjacent bins, each expecting at
    /// least [`MIN_GROUP_EXPECTED`] events (a remainder joins the last group), with the
    /// number of groups. Grouping keeps χ² near its asymptotic distribution where bins
    /// expect few events: a bin expecting 0.01 that holds one event alone adds 98.
    pub(super) fn quality(&self, theta: &[f64; K]) -> Quality {
        let mut deviance = 0.0;
        let mut groups: Vec<(f64, f64)> = Vec::new();
        let mut open = (0.0, 0.0);
        for (rule, &n) in self.rules.iter().zip(&self.counts) {
            let mu = bin_moments(rule, theta).0;
            deviance += 2.0 * (mu - n + if n > 0.0 { n * (n / mu).ln() } else { 0.0 });
            open = (open.0 + n, open.1 + mu);
            if open.1 >= MIN_GROUP_EXPECTED {
                groups.push(std::mem::take(&mut open));
            }
        }
        match groups.last_mut() {
            Some(last) => *last = (last.0 + open.0, last.1 + open.1),
            None => groups.push(open),
        }
        let chi2 = groups
            .iter()
            .filter(|(_, mu)| *mu > 0.0)
            .map(|(n, mu)| (n - mu).powi(2) / mu)
            .sum();
        Quality {
            deviance,
            chi2,
            groups: groups.len(),
        }
    }

    /// A weighted least-squares fit of ln(n / Δm) on φ at the bin centres (weights n, the
    /// inverse variance of ln n), over the non-empty bins, with the parameters past the first
    /// `free` held at 0.
    fn linear_start(&self, free: usize) -> Option<[f64; K]> {
        let mut ata = [[0.0; K]; K];
        let mut atb = [0.0; K];
        for (n, width, phi) in self.centres.iter().filter(|(n, _, _)| *n > 0.0) {
            let target = (n / width).ln();
            for j in 0..free {
                atb[j] += n * phi[j] * target;
                for k in 0..free {
                    ata[j][k] += n * phi[j] * phi[k];
                }
            }
        }
        for (j, row) in ata.iter_mut().enumerate().skip(free) {
            row[j] = 1.0;
        }
        solve(&ata, &atb)
    }

    /// Damped Newton (Levenberg–Marquardt) minimisation of -ln L from `start`.
    fn minimise(&self, start: [f64; K], max_iterations: usize) -> Option<Minimum<K>> {
        let mut theta = start;
        let (mut nll, mut grad, mut hess) = self.objective(&theta);
        if !nll.is_finite() {
            return None;
        }
        let mut damping = 1e-3;
        for iteration in 1..=max_iterations {
            let mut accepted = false;
            while damping < 1e12 {
                let mut damped = hess;
                for (j, row) in damped.iter_mut().enumerate() {
                    row[j] += damping * hess[j][j].abs().max(1e-12);
                }
                let Some(step) = solve(&damped, &grad) else {
                    damping *= 10.0;
                    continue;
                };
                let trial: [f64; K] = std::array::from_fn(|j| theta[j] - step[j]);
                let (t_nll, t_grad, t_hess) = self.objective(&trial);
                if t_nll.is_finite() && t_nll <= nll {
                    let decrease = nll - t_nll;
                    theta = trial;
                    (nll, grad, hess) = (t_nll, t_grad, t_hess);
                    damping = (damping * 0.1).max(1e-12);
                    accepted = true;
                    // Converged when the Newton decrement is negligible.
                    let newton = solve(&hess, &grad).map(|s| dot(&s, &grad));
                    if decrease <= 1e-10 * (1.0 + nll.abs())
                        && newton.is_some_and(|d| d.abs() < 1e-8)
                    {
                        return Some(Minimum {
                            theta,
                            nll,
                            hessian: hess,
                            iterations: iteration,
                        });
                    }
                    break;
                }
                damping *= 10.0;
            }
            if !accepted {
                // No step lowers -ln L: at a minimum if the gradient vanishes there.
                let newton = solve(&hess, &grad).map(|s| dot(&s, &grad));
                return newton.is_some_and(|d| d.abs() < 1e-6).then_some(Minimum {
                    theta,
                    nll,
                    hessian: hess,
                    iterations: iteration,
                });
            }
        }
        None
    }

    /// The lowest minimum reached from the linear starts with all `K`, `K - 1` and `K - 2`
    /// parameters free (at least one), and from `extra` if given (a nested fit's minimum);
    /// `None` when no start converges in `max_iterations`.
    pub(super) fn fit(&self, extra: Option<[f64; K]>, max_iterations: usize) -> Option<Minimum<K>> {
        (K.saturating_sub(2).max(1)..=K)
            .rev()
            .map(|free| self.linear_start(free))
            .chain([extra])
            .flatten()
            .filter_map(|start| self.minimise(start, max_iterations))
            .min_by(|a, b| a.nll.total_cmp(&b.nll))
    }
}
