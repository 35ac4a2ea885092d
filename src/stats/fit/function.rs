//! The fit functions: the dijet family with 3, 4 and 5 parameters and the UA2 form, each
//! log-linear in its parameters, ln f = θ · φ(y) with y = m / √s, so that one likelihood
//! machinery ([`super::engine`]) fits them all.

use std::fmt;

use crate::error::{Error, Result};

/// The most parameters a fit function has.
pub const MAX_PARAMS: usize = 5;

/// A background fit function of y = m / √s.
///
/// The dijet family keeps the sign convention of LHC Olympics 2020 eq. 4.3, a power of 1/y:
///
/// - `Dijet3`: f = p0 (1 - y)^p1 / y^p2
/// - `Dijet4`: f = p0 (1 - y)^p1 / y^(p2 + p3 ln y)
/// - `Dijet5`: f = p0 (1 - y)^p1 / y^(p2 + p3 ln y + p4 ln² y)
///
/// so p2, p3 and p4 are the negatives of the ATLAS convention
/// p0 (1 - y)^p1 y^(p2 + p3 ln y + p4 ln² y). Each is the next one with its last parameter
/// at 0: the family is nested. `Ua2` is f = p0 y^-p1 exp(-p2 y - p3 y²), not nested with
/// the dijet family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Function {
    /// The 3-parameter dijet function.
    Dijet3,
    /// The 4-parameter dijet function of LHC Olympics 2020 eq. 4.3 (the default).
    #[default]
    Dijet4,
    /// The 5-parameter dijet function.
    Dijet5,
    /// The UA2 function p0 y^-p1 exp(-p2 y - p3 y²).
    Ua2,
}

impl Function {
    /// Every function, in the order the names are listed to a user.
    pub const ALL: [Function; 4] = [
        Function::Dijet3,
        Function::Dijet4,
        Function::Dijet5,
        Function::Ua2,
    ];

    /// The name a script uses: "dijet3", "dijet4", "dijet5" or "ua2".
    pub fn name(self) -> &'static str {
        match self {
            Function::Dijet3 => "dijet3",
            Function::Dijet4 => "dijet4",
            Function::Dijet5 => "dijet5",
            Function::Ua2 => "ua2",
        }
    }

    /// The function called `name`; otherwise an error for the argument `what` (e.g.
    /// "option 'function' of fit_dijet") listing the names.
    pub fn parse(name: &str, what: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
                Error::invalid(
                    what,
                    format!(
                        "unknown function '{name}'; the functions are {}",
                        names.join(", ")
                    ),
                )
            })
    }

    /// The number of parameters.
    pub fn n_params(self) -> usize {
        match self {
            Function::Dijet3 => 3,
            Function::Dijet4 | Function::Ua2 => 4,
            Function::Dijet5 => 5,
        }
    }

    /// Whether the function belongs to the nested dijet family.
    pub fn is_dijet(self) -> bool {
        self != Function::Ua2
    }

    /// The formula, in the parameters the fit reports.
    pub fn formula(self) -> &'static str {
        match self {
            Function::Dijet3 => "dN/dm = p0 (1-y)^p1 / y^p2",
            Function::Dijet4 => "dN/dm = p0 (1-y)^p1 / y^(p2 + p3 ln y)",
            Function::Dijet5 => "dN/dm = p0 (1-y)^p1 / y^(p2 + p3 ln y + p4 ln^2 y)",
            Function::Ua2 => "dN/dm = p0 y^-p1 exp(-p2 y - p3 y^2)",
        }
    }

    /// φ(m) with ln f = θ · φ, θ = (ln p0, p1, p2, ...); the first [`Self::n_params`]
    /// entries are used. Dijet: (1, ln(1 - y), -ln y, -ln² y, -ln³ y); UA2: (1, -ln y, -y,
    /// -y²).
    pub(super) fn features(self, m: f64, sqrt_s: f64) -> [f64; MAX_PARAMS] {
        let y = m / sqrt_s;
        let l = y.ln();
        match self {
            Function::Dijet3 | Function::Dijet4 | Function::Dijet5 => {
                [1.0, (1.0 - y).ln(), -l, -l * l, -l * l * l]
            }
            Function::Ua2 => [1.0, -l, -y, -y * y, 0.0],
        }
    }

    /// The first `K` features, for the fit's fixed-size arithmetic.
    pub(super) fn basis<const K: usize>(self, m: f64, sqrt_s: f64) -> [f64; K] {
        let all = self.features(m, sqrt_s);
        std::array::from_fn(|i| all[i])
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_allowed_ones() {
        for f in Function::ALL {
            assert_eq!(Function::parse(f.name(), "function").unwrap(), f);
        }
        let err = Function::parse("dijet6", "option 'function' of f")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid option 'function' of f: unknown function 'dijet6'")
                && err.contains("dijet3, dijet4, dijet5, ua2"),
            "{err}"
        );
        assert_eq!(Function::default(), Function::Dijet4);
    }

    #[test]
    fn the_features_give_the_formulas() {
        let (m, s) = (3900.0, 13000.0);
        let y: f64 = m / s;
        let ln_f = |f: Function, theta: &[f64]| -> f64 {
            let phi = f.features(m, s);
            theta.iter().zip(&phi).map(|(t, p)| t * p).sum()
        };
        let p = [2.0, 10.0, 5.0, 0.1, 0.02];
        let dijet = |k: usize| {
            let exponent = p[2]
                + if k > 3 { p[3] * y.ln() } else { 0.0 }
                + if k > 4 { p[4] * y.ln().powi(2) } else { 0.0 };
            p[0] * (1.0 - y).powf(p[1]) / y.powf(exponent)
        };
        let theta = [p[0].ln(), p[1], p[2], p[3], p[4]];
        for (f, k) in [
            (Function::Dijet3, 3),
            (Function::Dijet4, 4),
            (Function::Dijet5, 5),
        ] {
            let want = dijet(k);
            assert!(
                (ln_f(f, &theta[..k]).exp() - want).abs() < 1e-12 * want,
                "{f}"
            );
        }
        let ua2 = p[0] * y.powf(-p[1]) * (-p[2] * y - p[3] * y * y).exp();
        assert!((ln_f(Function::Ua2, &theta[..4]).exp() - ua2).abs() < 1e-12 * ua2);
    }
}
