//! Bin edges and simple counting.

use crate::error::{Error, Result};

/// `n` bins of equal width from `lo` to `hi`: `n + 1` edges.
pub fn linear_bins(lo: f64, hi: f64, n: usize) -> Result<Vec<f64>> {
    check(lo, hi, n)?;
    Ok((0..=n)
        .map(|i| {
            if i == n {
                hi
            } else {
                lo + (hi - lo) * i as f64 / n as f64
            }
        })
        .collect())
}

/// `n` bins of equal width in log(x) from `lo` to `hi` (both > 0): `n + 1` edges, as the
/// CWoLa hunt's mjj binning (2632-6000 GeV in 16 bins).
pub fn log_bins(lo: f64, hi: f64, n: usize) -> Result<Vec<f64>> {
    check(lo, hi, n)?;
    if lo <= 0.0 {
        return Err(Error::invalid(
            "log_bins",
            format!("lo = {lo} must be positive for logarithmic bins"),
        ));
    }
    let (a, b) = (lo.ln(), hi.ln());
    Ok((0..=n)
        .map(|i| match i {
            0 => lo,
            _ if i == n => hi,
            _ => (a + (b - a) * i as f64 / n as f64).exp(),
        })
        .collect())
}

/// Checks that `edges` are finite and strictly increasing, with at least one bin.
pub fn check_edges(edges: &[f64]) -> Result<()> {
    if edges.len() < 2 {
        return Err(Error::invalid(
            "bin edges",
            format!("need at least 2 edges, got {}", edges.len()),
        ));
    }
    if let Some(i) = edges
        .windows(2)
        .position(|w| !(w[0] < w[1]) || !w[0].is_finite() || !w[1].is_finite())
    {
        return Err(Error::invalid(
            "bin edges",
            format!(
                "edges must be finite and increasing; edge {} ({}) is not below edge {} ({})",
                i,
                edges[i],
                i + 1,
                edges[i + 1]
            ),
        ));
    }
    Ok(())
}

/// The bin of `x` among `edges` (`lo <= x < hi`, the last bin closed on the right), or `None`
/// outside. `edges` must be sorted.
pub fn find_bin(edges: &[f64], x: f64) -> Option<usize> {
    let last = edges.len() - 1;
    if x.is_nan() || x < edges[0] || x > edges[last] {
        return None;
    }
    if x == edges[last] {
        return Some(last - 1);
    }
    Some(edges.partition_point(|&e| e <= x) - 1)
}

/// Weighted counts of `values` in the bins of `edges`, plus the underflow and overflow.
/// A NaN value is an error naming its position.
pub fn count(
    values: &[f64],
    weights: Option<&[f64]>,
    edges: &[f64],
) -> Result<(Vec<f64>, f64, f64)> {
    check_edges(edges)?;
    let mut counts = vec![0.0; edges.len() - 1];
    let (mut under, mut over) = (0.0, 0.0);
    for (i, &x) in values.iter().enumerate() {
        if x.is_nan() {
            return Err(Error::invalid("values", format!("value {i} is NaN")));
        }
        let w = weights.map_or(1.0, |w| w[i]);
        match find_bin(edges, x) {
            Some(b) => counts[b] += w,
            None if x < edges[0] => under += w,
            None => over += w,
        }
    }
    Ok((counts, under, over))
}

fn check(lo: f64, hi: f64, n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::invalid("number of bins", "must be at least 1"));
    }
    crate::memory::check(&format!("{n} bins"), (n as f64 + 1.0) * 8.0)?;
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::invalid(
            "bin range",
            format!("[{lo}, {hi}] must be finite with lo < hi"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_and_log_edges() {
        assert_eq!(
            linear_bins(0.0, 1.0, 4).unwrap(),
            vec![0.0, 0.25, 0.5, 0.75, 1.0]
        );
        let e = log_bins(2632.0, 6000.0, 16).unwrap();
        assert_eq!(e.len(), 17);
        assert_eq!((e[0], e[16]), (2632.0, 6000.0));
        let ratio = e[1] / e[0];
        assert!(e.windows(2).all(|w| (w[1] / w[0] - ratio).abs() < 1e-12));
        assert!(log_bins(0.0, 1.0, 3).is_err());
        assert!(linear_bins(1.0, 1.0, 3).is_err());
        assert!(linear_bins(0.0, 1.0, 0).is_err());
    }

    #[test]
    fn counting_respects_bin_edges() {
        let edges = [0.0, 1.0, 2.0];
        let (c, u, o) = count(&[-1.0, 0.0, 0.5, 1.0, 2.0, 2.5], None, &edges).unwrap();
        assert_eq!(c, vec![2.0, 2.0]);
        assert_eq!((u, o), (1.0, 1.0));
        assert!(
            count(&[0.5, f64::NAN], None, &edges)
                .unwrap_err()
                .to_string()
                .contains("value 1 is NaN")
        );
        let (c, _, _) = count(&[0.5, 1.5], Some(&[2.0, 3.0]), &edges).unwrap();
        assert_eq!(c, vec![2.0, 3.0]);
        assert!(check_edges(&[0.0, 0.0]).is_err());
        assert!(check_edges(&[0.0]).is_err());
    }
}
