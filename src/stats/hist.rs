//! Histograms: [`Hist1D`] and [`Hist2D`] with weighted counts, sums of squared weights,
//! under- and overflow, and arithmetic between histograms of the same binning.

use std::fmt;

use crate::data::binning::{check_edges, find_bin};
use crate::error::{Error, Result};

/// A one-dimensional histogram.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Hist1D {
    edges: Vec<f64>,
    counts: Vec<f64>,
    sumw2: Vec<f64>,
    underflow: f64,
    overflow: f64,
}

impl Hist1D {
    /// An empty histogram with bin `edges` (at least two, strictly increasing).
    pub fn new(edges: Vec<f64>) -> Result<Self> {
        check_edges(&edges)?;
        let n = edges.len() - 1;
        Ok(Self {
            edges,
            counts: vec![0.0; n],
            sumw2: vec![0.0; n],
            underflow: 0.0,
            overflow: 0.0,
        })
    }

    /// The histogram of `values` (with per-value `weights` if given). NaN values and weights
    /// are errors naming their position.
    pub fn fill(edges: Vec<f64>, values: &[f64], weights: Option<&[f64]>) -> Result<Self> {
        let mut h = Self::new(edges)?;
        if let Some(w) = weights
            && w.len() != values.len()
        {
            return Err(Error::invalid(
                "weights",
                format!("{} weights for {} values", w.len(), values.len()),
            ));
        }
        for (i, &x) in values.iter().enumerate() {
            let w = weights.map_or(1.0, |w| w[i]);
            if x.is_nan() || w.is_nan() {
                return Err(Error::invalid(
                    "values",
                    format!("value {i} or its weight is NaN"),
                ));
            }
            match find_bin(&h.edges, x) {
                Some(b) => {
                    h.counts[b] += w;
                    h.sumw2[b] += w * w;
                }
                None if x < h.edges[0] => h.underflow += w,
                None => h.overflow += w,
            }
        }
        Ok(h)
    }

    /// The histogram of column `column` of `events` in the bins `edges`, weighted by the
    /// events' weight role when one is set.
    pub fn from_events(
        events: &crate::data::EventSet,
        column: &str,
        edges: Vec<f64>,
    ) -> Result<Self> {
        let values = events.column(column)?;
        let weights = events
            .role_column(crate::data::Role::Weight)
            .map(|_| events.weights())
            .transpose()?;
        Self::fill(edges, &values, weights.as_deref())
    }

    /// A histogram with given bin `counts` (Poisson: the sum of squared weights equals the
    /// counts).
    pub fn from_counts(edges: Vec<f64>, counts: Vec<f64>) -> Result<Self> {
        let h = Self::new(edges)?;
        if counts.len() != h.counts.len() {
            return Err(Error::invalid(
                "counts",
                format!("{} counts for {} bins", counts.len(), h.counts.len()),
            ));
        }
        if let Some(i) = counts.iter().position(|c| !c.is_finite()) {
            return Err(Error::invalid("counts", format!("count {i} is not finite")));
        }
        let sumw2 = counts.iter().map(|c| c.abs()).collect();
        Ok(Self { counts, sumw2, ..h })
    }

    /// The histogram with its per-bin variances (squared errors) replaced by `variances`,
    /// e.g. a fit's prediction with the fit's uncertainty.
    pub fn with_variances(self, variances: Vec<f64>) -> Result<Self> {
        if variances.len() != self.counts.len() {
            return Err(Error::invalid(
                "variances",
                format!(
                    "{} variances for {} bins",
                    variances.len(),
                    self.counts.len()
                ),
            ));
        }
        if let Some(i) = variances.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::invalid(
                "variances",
                format!("variance {i} is negative or not finite"),
            ));
        }
        Ok(Self {
            sumw2: variances,
            ..self
        })
    }

    /// The bin edges.
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// The (weighted) counts per bin.
    pub fn counts(&self) -> &[f64] {
        &self.counts
    }

    /// The sums of squared weights per bin.
    pub fn sumw2(&self) -> &[f64] {
        &self.sumw2
    }

    /// Number of bins.
    pub fn n_bins(&self) -> usize {
        self.counts.len()
    }

    /// The weight below the first edge.
    pub fn underflow(&self) -> f64 {
        self.underflow
    }

    /// The weight at or above the last edge (the last bin includes its upper edge).
    pub fn overflow(&self) -> f64 {
        self.overflow
    }

    /// The bin centres.
    pub fn bin_centers(&self) -> Vec<f64> {
        self.edges.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect()
    }

    /// The statistical uncertainty per bin, sqrt(sum of squared weights).
    pub fn errors(&self) -> Vec<f64> {
        self.sumw2.iter().map(|s| s.sqrt()).collect()
    }

    /// The sum of all bins (under- and overflow excluded).
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }

    /// The content between `lo` and `hi`: whole bins inside, plus the overlapping fraction of
    /// partly covered bins (counts taken as uniform within a bin).
    pub fn integral(&self, lo: f64, hi: f64) -> Result<f64> {
        if !(lo < hi) {
            return Err(Error::invalid(
                "integral range",
                format!("[{lo}, {hi}) is empty"),
            ));
        }
        Ok(self
            .edges
            .windows(2)
            .zip(&self.counts)
            .map(|(w, c)| {
                let overlap = (hi.min(w[1]) - lo.max(w[0])).max(0.0);
                c * overlap / (w[1] - w[0])
            })
            .sum())
    }

    /// The histogram with every bin (and the under/overflow) multiplied by `factor`.
    pub fn scale(&self, factor: f64) -> Hist1D {
        Hist1D {
            edges: self.edges.clone(),
            counts: self.counts.iter().map(|c| c * factor).collect(),
            sumw2: self.sumw2.iter().map(|s| s * factor * factor).collect(),
            underflow: self.underflow * factor,
            overflow: self.overflow * factor,
        }
    }

    /// The histogram with every `k` adjacent bins merged; `k` must divide the number of bins.
    pub fn rebin(&self, k: usize) -> Result<Hist1D> {
        if k == 0 || !self.n_bins().is_multiple_of(k) {
            return Err(Error::invalid(
                "rebin",
                format!("{k} does not divide the {} bins", self.n_bins()),
            ));
        }
        let merge = |v: &[f64]| v.chunks(k).map(|c| c.iter().sum()).collect();
        Ok(Hist1D {
            edges: self.edges.iter().step_by(k).copied().collect(),
            counts: merge(&self.counts),
            sumw2: merge(&self.sumw2),
            underflow: self.underflow,
            overflow: self.overflow,
        })
    }

    /// Checks that `other` has the same bin edges (to 1e-9 relative); the error names the
    /// first edge that differs.
    pub fn check_same_binning(&self, other: &Hist1D) -> Result<()> {
        first_edge_difference(&self.edges, &other.edges, "")
    }

    /// Bin-by-bin combination with `other`: counts combined by `value`, uncertainties by
    /// `variance(a, va, b, vb)`.
    fn combine(
        &self,
        other: &Hist1D,
        value: impl Fn(f64, f64) -> f64,
        variance: impl Fn(f64, f64, f64, f64) -> f64,
    ) -> Result<Hist1D> {
        self.check_same_binning(other)?;
        let n = self.n_bins();
        let counts = (0..n)
            .map(|i| value(self.counts[i], other.counts[i]))
            .collect();
        let sumw2 = (0..n)
            .map(|i| {
                variance(
                    self.counts[i],
                    self.sumw2[i],
                    other.counts[i],
                    other.sumw2[i],
                )
            })
            .collect();
        Ok(Hist1D {
            edges: self.edges.clone(),
            counts,
            sumw2,
            underflow: value(self.underflow, other.underflow),
            overflow: value(self.overflow, other.overflow),
        })
    }

    /// The bin-wise sum (uncertainties added in quadrature).
    pub fn add(&self, other: &Hist1D) -> Result<Hist1D> {
        self.combine(other, |a, b| a + b, |_, va, _, vb| va + vb)
    }

    /// The bin-wise difference (uncertainties added in quadrature).
    pub fn sub(&self, other: &Hist1D) -> Result<Hist1D> {
        self.combine(other, |a, b| a - b, |_, va, _, vb| va + vb)
    }

    /// The bin-wise product (relative uncertainties added in quadrature).
    pub fn mul(&self, other: &Hist1D) -> Result<Hist1D> {
        self.combine(other, |a, b| a * b, |a, va, b, vb| b * b * va + a * a * vb)
    }

    /// The bin-wise ratio (relative uncertainties added in quadrature; 0 where the
    /// denominator is 0).
    pub fn div(&self, other: &Hist1D) -> Result<Hist1D> {
        self.combine(
            other,
            |a, b| if b != 0.0 { a / b } else { 0.0 },
            |a, va, b, vb| {
                if b != 0.0 {
                    (va + a * a * vb / (b * b)) / (b * b)
                } else {
                    0.0
                }
            },
        )
    }
}

impl fmt::Display for Hist1D {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Hist1D: {} bins on [{}, {}], total {} (underflow {}, overflow {})",
            self.n_bins(),
            number(self.edges[0]),
            number(self.edges[self.n_bins()]),
            number(self.total()),
            number(self.underflow),
            number(self.overflow)
        )?;
        write!(
            f,
            "{:>12} {:>12} {:>12} {:>10}",
            "lo", "hi", "count", "error"
        )?;
        let rows: Vec<usize> = if self.n_bins() <= 24 {
            (0..self.n_bins()).collect()
        } else {
            (0..10).chain(self.n_bins() - 10..self.n_bins()).collect()
        };
        for (k, &i) in rows.iter().enumerate() {
            if k > 0 && i != rows[k - 1] + 1 {
                write!(f, "\n{:>12}", "...")?;
            }
            write!(
                f,
                "\n{:>12} {:>12} {:>12} {:>10}",
                number(self.edges[i]),
                number(self.edges[i + 1]),
                number(self.counts[i]),
                number(self.sumw2[i].sqrt())
            )?;
        }
        Ok(())
    }
}

/// A number in a short readable form.
fn number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e12 {
        format!("{v}")
    } else if (1e-3..1e6).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

/// A two-dimensional histogram; `counts[ix * ny + iy]`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Hist2D {
    x_edges: Vec<f64>,
    y_edges: Vec<f64>,
    counts: Vec<f64>,
    sumw2: Vec<f64>,
    outside: f64,
}

impl Hist2D {
    /// The histogram of the points `(x[i], y[i])` (weighted if `weights`).
    pub fn fill(
        x_edges: Vec<f64>,
        y_edges: Vec<f64>,
        x: &[f64],
        y: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<Self> {
        check_edges(&x_edges)?;
        check_edges(&y_edges)?;
        if x.len() != y.len() || weights.is_some_and(|w| w.len() != x.len()) {
            return Err(Error::invalid(
                "hist2d",
                "x, y (and weights) must have the same length",
            ));
        }
        let (nx, ny) = (x_edges.len() - 1, y_edges.len() - 1);
        check_cells(nx, ny)?;
        let mut h = Hist2D {
            counts: vec![0.0; nx * ny],
            sumw2: vec![0.0; nx * ny],
            x_edges,
            y_edges,
            outside: 0.0,
        };
        for i in 0..x.len() {
            let w = weights.map_or(1.0, |w| w[i]);
            if x[i].is_nan() || y[i].is_nan() || w.is_nan() {
                return Err(Error::invalid("hist2d", format!("point {i} has a NaN")));
            }
            match (find_bin(&h.x_edges, x[i]), find_bin(&h.y_edges, y[i])) {
                (Some(bx), Some(by)) => {
                    h.counts[bx * ny + by] += w;
                    h.sumw2[bx * ny + by] += w * w;
                }
                _ => h.outside += w,
            }
        }
        Ok(h)
    }

    /// A histogram with given counts, row-major `[ix][iy]`.
    pub fn from_counts(x_edges: Vec<f64>, y_edges: Vec<f64>, counts: Vec<f64>) -> Result<Self> {
        check_edges(&x_edges)?;
        check_edges(&y_edges)?;
        check_cells(x_edges.len() - 1, y_edges.len() - 1)?;
        let n = (x_edges.len() - 1) * (y_edges.len() - 1);
        if counts.len() != n || counts.iter().any(|c| !c.is_finite()) {
            return Err(Error::invalid(
                "counts",
                format!("need {n} finite counts, got {}", counts.len()),
            ));
        }
        let sumw2 = counts.iter().map(|c| c.abs()).collect();
        Ok(Hist2D {
            x_edges,
            y_edges,
            counts,
            sumw2,
            outside: 0.0,
        })
    }

    /// The x bin edges.
    pub fn x_edges(&self) -> &[f64] {
        &self.x_edges
    }

    /// The y bin edges.
    pub fn y_edges(&self) -> &[f64] {
        &self.y_edges
    }

    /// Counts, row-major `[ix][iy]`.
    pub fn counts(&self) -> &[f64] {
        &self.counts
    }

    /// Sums of squared weights, row-major `[ix][iy]`.
    pub fn sumw2(&self) -> &[f64] {
        &self.sumw2
    }

    /// Number of bins along x and y.
    pub fn shape(&self) -> (usize, usize) {
        (self.x_edges.len() - 1, self.y_edges.len() - 1)
    }

    /// The count in bin (ix, iy).
    pub fn get(&self, ix: usize, iy: usize) -> Option<f64> {
        let (nx, ny) = self.shape();
        (ix < nx && iy < ny).then(|| self.counts[ix * ny + iy])
    }

    /// The sum of all bins.
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }

    /// The weight outside the binned area.
    pub fn outside(&self) -> f64 {
        self.outside
    }

    /// The histogram scaled by `factor`.
    pub fn scale(&self, factor: f64) -> Hist2D {
        Hist2D {
            counts: self.counts.iter().map(|c| c * factor).collect(),
            sumw2: self.sumw2.iter().map(|s| s * factor * factor).collect(),
            outside: self.outside * factor,
            ..self.clone()
        }
    }

    /// Checks that `other` has the same binning; the error names the axis and the first edge
    /// that differs.
    pub fn check_same_binning(&self, other: &Hist2D) -> Result<()> {
        first_edge_difference(&self.x_edges, &other.x_edges, "x ")?;
        first_edge_difference(&self.y_edges, &other.y_edges, "y ")
    }
}

/// Refuses a 2D binning whose cells (counts and squared weights) do not fit in memory.
fn check_cells(nx: usize, ny: usize) -> Result<()> {
    crate::memory::check(&format!("{nx} x {ny} bins"), nx as f64 * ny as f64 * 16.0)
}

/// Fails naming the first of `axis` edges `a` and `b` that differ (to 1e-9 relative), or
/// their numbers when one binning is longer.
fn first_edge_difference(a: &[f64], b: &[f64], axis: &str) -> Result<()> {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
    let problem = match a.iter().zip(b).position(|(&x, &y)| !close(x, y)) {
        Some(i) => format!(
            "{axis}edge {i} is {} in one and {} in the other",
            a[i], b[i]
        ),
        None if a.len() != b.len() => format!(
            "{} {axis}bins against {}; the first {} edges agree",
            a.len() - 1,
            b.len() - 1,
            a.len().min(b.len())
        ),
        None => return Ok(()),
    };
    Err(Error::invalid(
        "histograms",
        format!("binnings differ: {problem}; use the same edges"),
    ))
}

impl fmt::Display for Hist2D {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (nx, ny) = self.shape();
        write!(
            f,
            "Hist2D: {nx} x {ny} bins on [{}, {}] x [{}, {}], total {} (outside {})",
            number(self.x_edges[0]),
            number(self.x_edges[nx]),
            number(self.y_edges[0]),
            number(self.y_edges[ny]),
            number(self.total()),
            number(self.outside)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filling_counts_weights_and_overflow() {
        let h = Hist1D::fill(
            vec![0.0, 1.0, 2.0],
            &[-1.0, 0.5, 0.5, 1.0, 2.0, 3.0],
            Some(&[1.0, 2.0, 1.0, 3.0, 1.0, 4.0]),
        )
        .unwrap();
        assert_eq!(h.counts(), &[3.0, 4.0]);
        assert_eq!(h.sumw2(), &[5.0, 10.0]);
        assert_eq!((h.underflow(), h.overflow()), (1.0, 4.0));
        assert_eq!(h.bin_centers(), vec![0.5, 1.5]);
        assert!(Hist1D::fill(vec![0.0, 1.0], &[f64::NAN], None).is_err());
        assert!(Hist1D::fill(vec![1.0, 0.0], &[0.5], None).is_err());
        assert!(Hist1D::fill(vec![0.0, 1.0], &[0.5], Some(&[1.0, 2.0])).is_err());
    }

    #[test]
    fn arithmetic_propagates_uncertainties() {
        let a = Hist1D::from_counts(vec![0.0, 1.0, 2.0], vec![4.0, 9.0]).unwrap();
        let b = Hist1D::from_counts(vec![0.0, 1.0, 2.0], vec![1.0, 0.0]).unwrap();
        let s = a.add(&b).unwrap();
        assert_eq!((s.counts(), s.sumw2()), (&[5.0, 9.0][..], &[5.0, 9.0][..]));
        let d = a.sub(&b).unwrap();
        assert_eq!(d.counts(), &[3.0, 9.0]);
        let r = a.div(&b).unwrap();
        assert_eq!(r.counts(), &[4.0, 0.0]);
        assert!((r.sumw2()[0] - (4.0 + 16.0)).abs() < 1e-12);
        let p = a.mul(&b).unwrap();
        assert_eq!(p.sumw2()[0], 1.0 * 4.0 + 16.0 * 1.0);
        // The message names the first edge that differs (it once read "2 bins on [0, 2] vs
        // 2 bins on [0, 2]" for edges differing inside).
        let other = Hist1D::from_counts(vec![0.0, 1.5, 2.0], vec![1.0, 1.0]).unwrap();
        let err = a.add(&other).unwrap_err().to_string();
        assert!(
            err.contains("binnings differ: edge 1 is 1 in one and 1.5 in the other"),
            "{err}"
        );
        let longer = Hist1D::from_counts(vec![0.0, 1.0, 2.0, 3.0], vec![1.0; 3]).unwrap();
        let err = a.add(&longer).unwrap_err().to_string();
        assert!(err.contains("2 bins against 3"), "{err}");
        assert_eq!(a.scale(2.0).sumw2(), &[16.0, 36.0]);
    }

    #[test]
    fn rebin_and_integral() {
        let h =
            Hist1D::from_counts(vec![0.0, 1.0, 2.0, 3.0, 4.0], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let r = h.rebin(2).unwrap();
        assert_eq!(
            (r.edges(), r.counts()),
            (&[0.0, 2.0, 4.0][..], &[3.0, 7.0][..])
        );
        assert!(h.rebin(3).is_err());
        assert_eq!(h.integral(1.0, 3.0).unwrap(), 5.0);
        assert_eq!(h.integral(0.5, 1.5).unwrap(), 1.5);
        assert!(h.integral(2.0, 1.0).is_err());
    }

    #[test]
    fn two_dimensional_filling() {
        let h = Hist2D::fill(
            vec![0.0, 1.0, 2.0],
            vec![0.0, 10.0],
            &[0.5, 1.5, 1.5, 5.0],
            &[1.0, 2.0, 20.0, 1.0],
            None,
        )
        .unwrap();
        assert_eq!(h.shape(), (2, 1));
        assert_eq!(
            (h.get(0, 0), h.get(1, 0), h.outside()),
            (Some(1.0), Some(1.0), 2.0)
        );
        assert!(Hist2D::from_counts(vec![0.0, 1.0], vec![0.0, 1.0], vec![1.0, 2.0]).is_err());
    }

    #[test]
    fn display_is_a_compact_table() {
        let h = Hist1D::from_counts(vec![0.0, 1.0, 2.0], vec![4.0, 9.0]).unwrap();
        let text = h.to_string();
        assert!(
            text.starts_with("Hist1D: 2 bins on [0, 2], total 13"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 4);
    }
}
