//! The high-level features the papers use, derived from the LHC Olympics features table
//! (`pxj1, pyj1, pzj1, mj1, tau1j1, tau2j1, tau3j1`, the same for jet 2, and `label`).

use super::NamedColumns;
use crate::error::{Error, Result};

/// The columns of the LHC Olympics features table that [`derive`] needs.
pub const REQUIRED: [&str; 14] = [
    "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1", "pxj2", "pyj2", "pzj2", "mj2",
    "tau1j2", "tau2j2", "tau3j2",
];

/// Whether `columns` hold the LHC Olympics features table.
pub fn is_features_table(columns: &NamedColumns) -> bool {
    REQUIRED
        .iter()
        .all(|name| columns.iter().any(|(n, _)| n == name))
}

/// The columns `mjj, mj1, mj2, tau21_1, tau21_2, tau32_1, tau32_2, dmj` (jets ordered by mass,
/// `mj1 >= mj2`, as `lhco_toy` produces them), followed by `label` when present. `mjj` is the
/// invariant mass of the two jets; an N-subjettiness ratio with a zero denominator is 0.
pub fn derive(columns: &NamedColumns) -> Result<NamedColumns> {
    let get = |name: &str| {
        columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .ok_or_else(|| Error::invalid("LHCO features", format!("column '{name}' is missing")))
    };
    let jet = |k: usize| -> Result<[&[f64]; 7]> {
        Ok([
            get(&format!("pxj{k}"))?,
            get(&format!("pyj{k}"))?,
            get(&format!("pzj{k}"))?,
            get(&format!("mj{k}"))?,
            get(&format!("tau1j{k}"))?,
            get(&format!("tau2j{k}"))?,
            get(&format!("tau3j{k}"))?,
        ])
    };
    let (a, b) = (jet(1)?, jet(2)?);
    let n = a[0].len();
    let mut out: Vec<Vec<f64>> = (0..8).map(|_| Vec::with_capacity(n)).collect();
    for i in 0..n {
        let (e1, e2) = (energy(a, i), energy(b, i));
        let (px, py, pz) = (a[0][i] + b[0][i], a[1][i] + b[1][i], a[2][i] + b[2][i]);
        let mjj = ((e1 + e2).powi(2) - px * px - py * py - pz * pz)
            .max(0.0)
            .sqrt();
        let (heavy, light) = if a[3][i] >= b[3][i] { (a, b) } else { (b, a) };
        let row = [
            mjj,
            heavy[3][i],
            light[3][i],
            ratio(heavy[5][i], heavy[4][i]),
            ratio(light[5][i], light[4][i]),
            ratio(heavy[6][i], heavy[5][i]),
            ratio(light[6][i], light[5][i]),
            heavy[3][i] - light[3][i],
        ];
        for (column, value) in out.iter_mut().zip(row) {
            column.push(value);
        }
    }
    let names = [
        "mjj", "mj1", "mj2", "tau21_1", "tau21_2", "tau32_1", "tau32_2", "dmj",
    ];
    let mut derived: NamedColumns = names.iter().map(|s| s.to_string()).zip(out).collect();
    if let Ok(label) = get("label") {
        derived.push(("label".to_string(), label.to_vec()));
    }
    Ok(derived)
}

fn energy(jet: [&[f64]; 7], i: usize) -> f64 {
    (jet[0][i].powi(2) + jet[1][i].powi(2) + jet[2][i].powi(2) + jet[3][i].powi(2)).sqrt()
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 { num / den } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_to_back_jets_give_the_expected_mass_and_order() {
        // Two jets of |p| = 1500 GeV back to back, masses 100 and 500 GeV.
        let mut cols: NamedColumns = vec![
            ("pxj1".into(), vec![1500.0]),
            ("pyj1".into(), vec![0.0]),
            ("pzj1".into(), vec![0.0]),
            ("mj1".into(), vec![100.0]),
            ("tau1j1".into(), vec![0.5]),
            ("tau2j1".into(), vec![0.25]),
            ("tau3j1".into(), vec![0.2]),
            ("pxj2".into(), vec![-1500.0]),
            ("pyj2".into(), vec![0.0]),
            ("pzj2".into(), vec![0.0]),
            ("mj2".into(), vec![500.0]),
            ("tau1j2".into(), vec![0.4]),
            ("tau2j2".into(), vec![0.1]),
            ("tau3j2".into(), vec![0.0]),
        ];
        assert!(!is_features_table(&cols[..3].to_vec()));
        cols.push(("label".into(), vec![1.0]));
        assert!(is_features_table(&cols));
        let d = derive(&cols).unwrap();
        let get = |name: &str| d.iter().find(|(n, _)| n == name).unwrap().1[0];
        let expected =
            (1500f64.powi(2) + 100f64.powi(2)).sqrt() + (1500f64.powi(2) + 500f64.powi(2)).sqrt();
        assert!((get("mjj") - expected).abs() < 1e-9);
        assert_eq!((get("mj1"), get("mj2"), get("dmj")), (500.0, 100.0, 400.0));
        assert_eq!((get("tau21_1"), get("tau21_2")), (0.25, 0.5));
        assert_eq!((get("tau32_1"), get("tau32_2")), (0.0, 0.8));
        assert_eq!(get("label"), 1.0);
    }
}
