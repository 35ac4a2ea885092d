//! Gauss–Legendre quadrature: the integrals behind bin predictions and p-values with a
//! background uncertainty.

/// The nodes and weights of the `n`-point Gauss–Legendre rule on [-1, 1], found by Newton
/// iteration on the Legendre polynomial P_n (accurate to rounding for n up to a few hundred).
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        // Tricomi's approximation of the i-th root, refined by Newton's method.
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        for _ in 0..100 {
            let (p, dp) = legendre(n, x);
            let step = p / dp;
            x -= step;
            if step.abs() < 1e-15 {
                break;
            }
        }
        let derivative = legendre(n, x).1;
        let w = 2.0 / ((1.0 - x * x) * derivative * derivative);
        nodes[i] = -x;
        nodes[n - 1 - i] = x;
        weights[i] = w;
        weights[n - 1 - i] = w;
    }
    (nodes, weights)
}

/// P_n(x) and its derivative, by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let k = k as f64;
        let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
    }
    let n = n as f64;
    (p1, n * (x * p1 - p0) / (x * x - 1.0))
}

/// A Gauss–Legendre rule applied on `panels` equal sub-intervals of an interval.
#[derive(Clone, Debug)]
pub struct Composite {
    nodes: Vec<f64>,
    weights: Vec<f64>,
    panels: usize,
}

impl Composite {
    /// `panels` panels of the `order`-point rule.
    pub fn new(order: usize, panels: usize) -> Self {
        let (nodes, weights) = gauss_legendre(order);
        Self {
            nodes,
            weights,
            panels: panels.max(1),
        }
    }

    /// The points and weights at which to evaluate an integrand over [a, b].
    pub fn points(&self, a: f64, b: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
        let h = (b - a) / self.panels as f64;
        (0..self.panels).flat_map(move |k| {
            let mid = a + (k as f64 + 0.5) * h;
            self.nodes
                .iter()
                .zip(&self.weights)
                .map(move |(x, w)| (mid + 0.5 * h * x, 0.5 * h * w))
        })
    }

    /// The integral of `f` over [a, b].
    pub fn integrate(&self, a: f64, b: f64, mut f: impl FnMut(f64) -> f64) -> f64 {
        self.points(a, b).map(|(x, w)| w * f(x)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_integrate_polynomials_exactly() {
        for n in [1, 2, 5, 8, 16] {
            let (x, w) = gauss_legendre(n);
            assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-13, "n={n}");
            // Exact for degree 2n - 1: the integral of x^(2n-2) over [-1, 1] is 2/(2n-1).
            let k = 2 * n - 2;
            let integral: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(k as i32)).sum();
            assert!(
                (integral - 2.0 / (k as f64 + 1.0)).abs() < 1e-13,
                "n={n}: {integral}"
            );
            assert!(x.windows(2).all(|p| p[0] < p[1]), "nodes ascend");
        }
    }

    #[test]
    fn composite_rules_integrate_smooth_functions() {
        let rule = Composite::new(8, 4);
        let integral = rule.integrate(0.0, std::f64::consts::PI, f64::sin);
        assert!((integral - 2.0).abs() < 1e-13);
        let gauss = Composite::new(8, 16).integrate(-8.0, 8.0, |x| (-0.5 * x * x).exp());
        assert!(
            (gauss - (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-10,
            "{gauss}"
        );
    }
}
