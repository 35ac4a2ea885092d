//! The `metrics` domain: how well a selection separates signal from background — ROC and SIC
//! curves, efficiencies at fixed background efficiency, significance improvements,
//! correlations, and the combination of several scores.

use rhai::plugin::*;

use super::domain::Domain;

/// The `metrics` domain.
pub const DOMAIN: Domain = Domain {
    name: "metrics",
    about: "ROC/SIC curves, efficiencies, significance improvement, score uniformisation and combination",
    options: Vec::new,
    module: || {
        use crate::stats::metrics::{Improvement, Roc, SicCurve};
        let mut module = exported_module!(metrics_api);
        module.set_custom_type_with_comments::<Roc>(
            "Roc",
            &["/// A ROC curve: signal and background efficiencies for every cut on a score."],
        );
        module.set_custom_type_with_comments::<SicCurve>(
            "SicCurve",
            &["/// A significance-improvement curve, eps_S / sqrt(eps_B + 1e-4) against eps_S."],
        );
        module.set_custom_type_with_comments::<Improvement>(
            "Improvement",
            &["/// Significance improvements eps_S / sqrt(eps_B) at eps_B = 1e-2, 1e-3, 1e-4."],
        );
        module
    },
};

#[export_module]
mod metrics_api {
    use rhai::{Array, FLOAT, Map};

    use crate::script::options::floats;
    use crate::script::values::{Out, array, save_json};
    use crate::stats::metrics::{self, Combination, Improvement, Roc, SicCurve};

    /// The ROC curve of `scores` (higher = more signal-like) against truth `labels`
    /// (1 signal, 0 background), e.g. `roc(model.predict(test), test.col("label"))`.
    /// Tied scores form one point; print it for the AUC and efficiencies.
    #[rhai_fn(return_raw)]
    pub fn roc(scores: Array, labels: Array) -> Out<Roc> {
        Ok(metrics::roc(
            &floats("scores", &scores)?,
            &floats("labels", &labels)?,
            None,
        )?)
    }

    /// The ROC curve of weighted events (efficiencies are fractions of the summed weights).
    #[rhai_fn(name = "roc", return_raw)]
    pub fn roc_weighted(scores: Array, labels: Array, weights: Array) -> Out<Roc> {
        let w = floats("weights", &weights)?;
        Ok(metrics::roc(
            &floats("scores", &scores)?,
            &floats("labels", &labels)?,
            Some(&w),
        )?)
    }

    /// The area under the ROC curve (0.5: no separation, 1: perfect).
    #[rhai_fn(pure)]
    pub fn auc(r: &mut Roc) -> FLOAT {
        r.auc()
    }

    /// The signal efficiency of each point of the curve.
    #[rhai_fn(get = "eps_s", pure)]
    pub fn roc_eps_s(r: &mut Roc) -> Array {
        array(&r.eps_s)
    }

    /// The background efficiency of each point of the curve.
    #[rhai_fn(get = "eps_b", pure)]
    pub fn roc_eps_b(r: &mut Roc) -> Array {
        array(&r.eps_b)
    }

    /// The score cut of each point (select `score >= threshold`; the first is +inf).
    #[rhai_fn(get = "thresholds", pure)]
    pub fn roc_thresholds(r: &mut Roc) -> Array {
        array(&r.thresholds)
    }

    /// The signal efficiency at background efficiency `eps_b`, interpolated on the curve.
    #[rhai_fn(name = "eps_s_at", pure, return_raw)]
    pub fn roc_eps_s_at(r: &mut Roc, eps_b: FLOAT) -> Out<FLOAT> {
        Ok(r.eps_s_at(eps_b)?)
    }

    /// eps_S / sqrt(eps_B) at background efficiency `eps_b`.
    #[rhai_fn(name = "significance_improvement_at", pure, return_raw)]
    pub fn roc_significance_improvement_at(r: &mut Roc, eps_b: FLOAT) -> Out<FLOAT> {
        Ok(r.significance_improvement_at(eps_b)?)
    }

    /// The SIC curve of this ROC curve.
    #[rhai_fn(name = "sic", pure)]
    pub fn roc_sic(r: &mut Roc) -> SicCurve {
        r.sic_curve()
    }

    /// The background rejection 1/eps_B against eps_S, as a map `#{ eps_s, rejection }`
    /// (points with eps_B = 0 are left out).
    #[rhai_fn(pure)]
    pub fn rejection(r: &mut Roc) -> Map {
        let (eps_s, rejection) = r.rejection();
        let mut map = Map::new();
        map.insert("eps_s".into(), Dynamic::from_array(array(&eps_s)));
        map.insert("rejection".into(), Dynamic::from_array(array(&rejection)));
        map
    }

    /// The significance-improvement characteristic of `scores` against `labels`: the
    /// regulated eps_S / sqrt(eps_B + 1e-4) of Andreassen et al. 2020 at every cut.
    #[rhai_fn(return_raw)]
    pub fn sic(scores: Array, labels: Array) -> Out<SicCurve> {
        Ok(metrics::sic(
            &floats("scores", &scores)?,
            &floats("labels", &labels)?,
            None,
        )?)
    }

    /// The largest SIC on the curve.
    #[rhai_fn(name = "max", pure)]
    pub fn sic_max(c: &mut SicCurve) -> FLOAT {
        c.max()
    }

    /// The signal efficiency of each point.
    #[rhai_fn(get = "eps_s", pure)]
    pub fn sic_eps_s(c: &mut SicCurve) -> Array {
        array(&c.eps_s)
    }

    /// The SIC value of each point.
    #[rhai_fn(get = "sic", pure)]
    pub fn sic_values(c: &mut SicCurve) -> Array {
        array(&c.sic)
    }

    /// The signal efficiency of the cut on `scores` that keeps a fraction `eps_b` of the
    /// background, e.g. `eff_at(scores, labels, 1e-3)`.
    #[rhai_fn(return_raw)]
    pub fn eff_at(scores: Array, labels: Array, eps_b: FLOAT) -> Out<FLOAT> {
        Ok(metrics::eff_at(
            &floats("scores", &scores)?,
            &floats("labels", &labels)?,
            eps_b,
        )?)
    }

    /// The significance improvement eps_S / sqrt(eps_B) at eps_B = 1e-2, 1e-3 and 1e-4
    /// (Ostdiek 2021, Caron et al. 2021); fields `at_1e2`, `at_1e3`, `at_1e4`, and `best()`. Values where the
    /// background sample has fewer than 1/eps_B events are interpolated and marked (*).
    #[rhai_fn(return_raw)]
    pub fn significance_improvement(scores: Array, labels: Array) -> Out<Improvement> {
        Ok(metrics::significance_improvements(
            &floats("scores", &scores)?,
            &floats("labels", &labels)?,
        )?)
    }

    /// At eps_B = 1e-2.
    #[rhai_fn(get = "at_1e2", pure)]
    pub fn at_1e2(i: &mut Improvement) -> FLOAT {
        i.at_1e2
    }

    /// At eps_B = 1e-3.
    #[rhai_fn(get = "at_1e3", pure)]
    pub fn at_1e3(i: &mut Improvement) -> FLOAT {
        i.at_1e3
    }

    /// At eps_B = 1e-4.
    #[rhai_fn(get = "at_1e4", pure)]
    pub fn at_1e4(i: &mut Improvement) -> FLOAT {
        i.at_1e4
    }

    /// The best of the three, as the papers quote it.
    #[rhai_fn(name = "best", pure)]
    pub fn best(i: &mut Improvement) -> FLOAT {
        i.best()
    }

    /// The minimum, median and maximum of `values` (e.g. significance improvements over a set
    /// of signals, Caron et al. 2021's total improvement) as `#{ min, median, max }`.
    #[rhai_fn(return_raw)]
    pub fn total_improvement(values: Array) -> Out<Map> {
        let spread = metrics::total_improvement(&floats("values", &values)?)?;
        let mut map = Map::new();
        map.insert("min".into(), Dynamic::from_float(spread.min));
        map.insert("median".into(), Dynamic::from_float(spread.median));
        map.insert("max".into(), Dynamic::from_float(spread.max));
        Ok(map)
    }

    /// The Pearson correlation coefficient of two equally long arrays.
    #[rhai_fn(return_raw)]
    pub fn pearson(a: Array, b: Array) -> Out<FLOAT> {
        Ok(metrics::pearson(&floats("a", &a)?, &floats("b", &b)?)?)
    }

    /// Each score mapped to its cumulative fraction on `reference` scores (usually the
    /// background's): uniform in [0, 1] for background, ready for `combine`.
    #[rhai_fn(return_raw)]
    pub fn uniformize(scores: Array, reference: Array) -> Out<Array> {
        Ok(array(&metrics::uniformize(
            &floats("scores", &scores)?,
            &floats("reference", &reference)?,
        )?))
    }

    /// Combines uniformised scores event by event: "and" (minimum), "or" (maximum), "prod"
    /// (product) or "avg" (mean), as Caron et al. 2021 does, e.g.
    /// `combine([uniformize(a, a_bkg), uniformize(b, b_bkg)], "prod")`.
    #[rhai_fn(return_raw)]
    pub fn combine(scores: Array, how: &str) -> Out<Array> {
        let columns = scores
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let a = s.clone().into_array().map_err(|t| {
                    crate::Error::invalid(
                        "combine",
                        format!("score {i} is a {t}, not an array of numbers"),
                    )
                })?;
                Ok(floats(&format!("score {i}"), &a)?)
            })
            .collect::<Out<Vec<Vec<f64>>>>()?;
        Ok(array(&metrics::combine(
            &columns,
            Combination::parse(how)?,
        )?))
    }

    /// The cut on `scores` that keeps a fraction `eff` of them (`score >= cut`).
    #[rhai_fn(return_raw)]
    pub fn threshold_for_efficiency(scores: Array, eff: FLOAT) -> Out<FLOAT> {
        Ok(metrics::threshold_for_efficiency(
            &floats("scores", &scores)?,
            eff,
        )?)
    }

    /// Writes the curve as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_roc(r: &mut Roc, path: &str) -> Out<()> {
        save_json(r, path)
    }

    /// Writes the curve as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_sic(c: &mut SicCurve, path: &str) -> Out<()> {
        save_json(c, path)
    }

    /// Points, AUC, efficiencies at eps_B = 1e-2/1e-3/1e-4 and the maximum SIC.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn roc_to_string(r: &mut Roc) -> String {
        r.to_string()
    }

    /// The maximum SIC and where it is.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn sic_to_string(c: &mut SicCurve) -> String {
        c.to_string()
    }

    /// The three improvements and the best.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn improvement_to_string(i: &mut Improvement) -> String {
        i.to_string()
    }
}
