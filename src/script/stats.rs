//! The `stats` domain: histograms, background fits, p-values and significances, BumpHunter.

use rhai::plugin::*;

use super::declared::{Declared, Opt};
use super::domain::Domain;
use super::domain::OptionTable;
use crate::error::Error;
use crate::stats::fit::{FamilyOptions, FitOptions, Function};

/// The `stats` domain.
pub const DOMAIN: Domain = Domain {
    name: "stats",
    about: "histograms, the background fits (dijet family, UA2, nested selection), p-values and significances, BumpHunter with the look-elsewhere effect",
    options: tables,
    module: || {
        use crate::stats::bumphunter::{BumpHunter2DResult, BumpHunterResult, InjectionResult};
        use crate::stats::hist::{Hist1D, Hist2D};
        let mut module = exported_module!(stats_api);
        module.combine_flatten(super::bumphunter::module());
        module.set_custom_type_with_comments::<Hist1D>(
            "Hist1D",
            &["/// A one-dimensional histogram."],
        );
        module.set_custom_type_with_comments::<Hist2D>(
            "Hist2D",
            &["/// A two-dimensional histogram."],
        );
        module.set_custom_type_with_comments::<BumpHunterResult>(
            "BumpHunterResult",
            &["/// The outcome of a BumpHunter scan."],
        );
        module.set_custom_type_with_comments::<BumpHunter2DResult>(
            "BumpHunter2DResult",
            &["/// The outcome of a 2D BumpHunter scan."],
        );
        module.set_custom_type_with_comments::<crate::stats::fit::DijetFit>(
            "DijetFit",
            &["/// A background fit: a dijet function (3, 4 or 5 parameters; 4 is LHC Olympics 2020 eq. 4.3) or UA2."],
        );
        module.set_custom_type_with_comments::<crate::stats::fit::FitFamily>(
            "FitFamily",
            &["/// The fits of a nested selection among the dijet functions, its Wilks tests and the choice."],
        );
        module.set_custom_type_with_comments::<InjectionResult>(
            "InjectionResult",
            &["/// The outcome of a signal-injection test."],
        );
        module.set_custom_type_with_comments::<crate::stats::calibration::NullCalibration>(
            "NullCalibration",
            &["/// How a search's p-values on background-only runs compare with uniform ones."],
        );
        module
    },
};

/// The options of a fit but its function: `range`, `exclude`, `sqrt_s`, `max_iterations`.
fn fit_window_opts() -> Vec<Opt<FitOptions>> {
    vec![
        Opt::field(
            "range",
            "only bins whose centre lies inside are fitted; every bin when absent",
            |o: &mut FitOptions| &mut o.range,
        ),
        Opt::field(
            "exclude",
            "bins whose centre lies inside are left out (e.g. the signal region); none when absent",
            |o| &mut o.exclude,
        ),
        Opt::field(
            "sqrt_s",
            "the collision energy, in the histogram's units: the fit is in y = m/sqrt_s",
            |o| &mut o.sqrt_s,
        ),
        Opt::field(
            "max_iterations",
            "the most Newton iterations before the fit reports non-convergence",
            |o| &mut o.max_iterations,
        ),
    ]
}

/// The declared options of `fit_dijet`.
fn fit_dijet_options() -> Declared<FitOptions> {
    Declared::new(
        "fit_dijet",
        FitOptions::default,
        vec![Opt::choice(
            "function",
            "the function fitted (see the doc above)",
            |o: &mut FitOptions| &mut o.function,
        )],
    )
    .with(fit_window_opts())
}

/// The declared options of `fit_family`.
fn fit_family_options() -> Declared<FamilyOptions> {
    Declared::new(
        "fit_family",
        FamilyOptions::default,
        vec![
            Opt::custom(
                "functions",
                &format!(
                    "strings among {}",
                    Function::ALL.map(Function::name).join(", ")
                ),
                "the functions fitted; \"ua2\" is fitted beside the nested chain and never chosen",
                |o: &FamilyOptions| {
                    o.functions
                        .iter()
                        .map(|f| rhai::Dynamic::from(f.name().to_string()))
                        .collect::<rhai::Array>()
                        .into()
                },
                |o, opts| {
                    let what = "option 'functions' of fit_family";
                    let names = opts.strings("functions").map_err(|e| match e {
                        Error::InvalidArgument { problem, .. } => opts.invalid(
                            "functions",
                            problem.replacen("an array", "an array of names", 1),
                        ),
                        other => other,
                    })?;
                    o.functions = names
                        .iter()
                        .map(|name| Function::parse(name, what))
                        .collect::<crate::Result<_>>()?;
                    Ok(())
                },
            ),
            Opt::field(
                "threshold",
                "the Wilks p-value below which the next larger function is taken",
                |o| &mut o.threshold,
            ),
        ],
    )
    .with(
        fit_window_opts()
            .into_iter()
            .map(|o| o.lift(|f: &mut FamilyOptions| &mut f.fit))
            .collect(),
    )
}

/// The declared options of the `stats` domain's built-ins, BumpHunter's included.
fn tables() -> Vec<Box<dyn OptionTable>> {
    let mut tables: Vec<Box<dyn OptionTable>> = vec![
        Box::new(fit_dijet_options()),
        Box::new(fit_family_options()),
    ];
    tables.extend(super::bumphunter::tables());
    tables
}

#[export_module]
mod stats_api {
    use rhai::{Array, FLOAT, INT, Map};

    use super::{fit_dijet_options, fit_family_options};
    use crate::data::EventSet;
    use crate::error::Error;
    use crate::script::options::floats;
    use crate::script::values::{Out, array, save_json};
    use crate::stats::calibration::{self, NullCalibration};
    use crate::stats::fit::{DijetFit, FitFamily, Function, WilksStep};
    use crate::stats::hist::{Hist1D, Hist2D};
    use crate::stats::special;

    /// The histogram of `values` in the bins `edges`, e.g. `hist(xs, linear_bins(0.0, 1.0, 20))`.
    #[rhai_fn(return_raw)]
    pub fn hist(values: Array, edges: Array) -> Out<Hist1D> {
        Ok(Hist1D::fill(
            floats("bin edges", &edges)?,
            &floats("values", &values)?,
            None,
        )?)
    }

    /// The weighted histogram of `values` in the bins `edges`.
    #[rhai_fn(name = "hist", return_raw)]
    pub fn hist_weighted(values: Array, edges: Array, weights: Array) -> Out<Hist1D> {
        let w = floats("weights", &weights)?;
        Ok(Hist1D::fill(
            floats("bin edges", &edges)?,
            &floats("values", &values)?,
            Some(&w),
        )?)
    }

    /// The histogram of column `col` in the bins `edges`, weighted by the weight role if set.
    #[rhai_fn(name = "hist", pure, return_raw)]
    pub fn events_hist(events: &mut EventSet, col: &str, edges: Array) -> Out<Hist1D> {
        Ok(Hist1D::from_events(
            events,
            col,
            floats("bin edges", &edges)?,
        )?)
    }

    /// A histogram with given bin `counts` (Poisson uncertainties), e.g. a reference shape.
    #[rhai_fn(return_raw)]
    pub fn hist_from_counts(edges: Array, counts: Array) -> Out<Hist1D> {
        Ok(Hist1D::from_counts(
            floats("bin edges", &edges)?,
            floats("counts", &counts)?,
        )?)
    }

    /// A histogram from a table of bins, as HEPData publishes spectra: bin `i` spans
    /// [`lo[i]`, `hi[i]`) and holds `counts[i]` (Poisson uncertainties). The bins must be
    /// contiguous (each `hi` is the next `lo`) and the three arrays equally long; an error
    /// names the first row that breaks this. E.g. from a CSV table:
    /// `let t = read_csv(path); hist_from_bins(t.col("lo"), t.col("hi"), t.col("events"))`.
    #[rhai_fn(return_raw)]
    pub fn hist_from_bins(lo: Array, hi: Array, counts: Array) -> Out<Hist1D> {
        let (lo, hi) = (floats("bin lows", &lo)?, floats("bin highs", &hi)?);
        let counts = floats("counts", &counts)?;
        if lo.len() != hi.len() || lo.len() != counts.len() {
            return Err(Error::invalid(
                "hist_from_bins",
                format!(
                    "{} bin lows, {} bin highs and {} counts: give one of each per bin",
                    lo.len(),
                    hi.len(),
                    counts.len()
                ),
            )
            .into());
        }
        if let Some(i) = (1..lo.len()).find(|&i| hi[i - 1] != lo[i]) {
            return Err(Error::invalid(
                "hist_from_bins",
                format!(
                    "bin {} ends at {} but bin {i} starts at {}: the bins must be contiguous",
                    i - 1,
                    hi[i - 1],
                    lo[i]
                ),
            )
            .into());
        }
        let mut edges = lo;
        edges.extend(hi.last());
        Ok(Hist1D::from_counts(edges, counts)?)
    }

    /// The 2D histogram of the points `(x[i], y[i])`.
    #[rhai_fn(return_raw)]
    pub fn hist2d(x: Array, y: Array, x_edges: Array, y_edges: Array) -> Out<Hist2D> {
        Ok(Hist2D::fill(
            floats("x edges", &x_edges)?,
            floats("y edges", &y_edges)?,
            &floats("x", &x)?,
            &floats("y", &y)?,
            None,
        )?)
    }

    /// The 2D histogram of columns `x` and `y` (weighted by the weight role if set).
    #[rhai_fn(name = "hist2d", pure, return_raw)]
    pub fn events_hist2d(
        events: &mut EventSet,
        x: &str,
        y: &str,
        x_edges: Array,
        y_edges: Array,
    ) -> Out<Hist2D> {
        let weights = events
            .role_column(crate::data::Role::Weight)
            .map(|_| events.weights())
            .transpose()?;
        let (xs, ys) = (events.column(x)?, events.column(y)?);
        Ok(Hist2D::fill(
            floats("x edges", &x_edges)?,
            floats("y edges", &y_edges)?,
            &xs,
            &ys,
            weights.as_deref(),
        )?)
    }

    /// The bin counts.
    #[rhai_fn(get = "counts", pure)]
    pub fn counts(h: &mut Hist1D) -> Array {
        array(h.counts())
    }

    /// The bin edges.
    #[rhai_fn(get = "edges", pure)]
    pub fn edges(h: &mut Hist1D) -> Array {
        array(h.edges())
    }

    /// The weight below the first edge.
    #[rhai_fn(get = "underflow", pure)]
    pub fn underflow(h: &mut Hist1D) -> FLOAT {
        h.underflow()
    }

    /// The weight at or above the last edge.
    #[rhai_fn(get = "overflow", pure)]
    pub fn overflow(h: &mut Hist1D) -> FLOAT {
        h.overflow()
    }

    /// The number of bins.
    #[rhai_fn(name = "len", pure)]
    pub fn n_bins(h: &mut Hist1D) -> INT {
        h.n_bins() as INT
    }

    /// The bin centres.
    #[rhai_fn(pure)]
    pub fn bin_centers(h: &mut Hist1D) -> Array {
        array(&h.bin_centers())
    }

    /// The statistical uncertainty per bin, sqrt(sum of squared weights).
    #[rhai_fn(pure)]
    pub fn errors(h: &mut Hist1D) -> Array {
        array(&h.errors())
    }

    /// The sum of all bins.
    #[rhai_fn(pure)]
    pub fn total(h: &mut Hist1D) -> FLOAT {
        h.total()
    }

    /// The content between `lo` and `hi` (partly covered bins count in proportion).
    #[rhai_fn(pure, return_raw)]
    pub fn integral(h: &mut Hist1D, lo: FLOAT, hi: FLOAT) -> Out<FLOAT> {
        Ok(h.integral(lo, hi)?)
    }

    /// The histogram multiplied by `factor` (uncertainties scale along).
    #[rhai_fn(pure)]
    pub fn scale(h: &mut Hist1D, factor: FLOAT) -> Hist1D {
        h.scale(factor)
    }

    /// The histogram with every `k` adjacent bins merged.
    #[rhai_fn(pure, return_raw)]
    pub fn rebin(h: &mut Hist1D, k: INT) -> Out<Hist1D> {
        let k = usize::try_from(k).map_err(|_| Error::invalid("rebin", "k must be positive"))?;
        Ok(h.rebin(k)?)
    }

    /// Bin-wise sum of two histograms with the same binning.
    #[rhai_fn(name = "+", return_raw)]
    pub fn add(a: Hist1D, b: Hist1D) -> Out<Hist1D> {
        Ok(a.add(&b)?)
    }

    /// Bin-wise difference of two histograms with the same binning.
    #[rhai_fn(name = "-", return_raw)]
    pub fn sub(a: Hist1D, b: Hist1D) -> Out<Hist1D> {
        Ok(a.sub(&b)?)
    }

    /// Bin-wise product of two histograms with the same binning.
    #[rhai_fn(name = "*", return_raw)]
    pub fn mul(a: Hist1D, b: Hist1D) -> Out<Hist1D> {
        Ok(a.mul(&b)?)
    }

    /// Bin-wise ratio of two histograms with the same binning (0 where the denominator is 0).
    #[rhai_fn(name = "/", return_raw)]
    pub fn div(a: Hist1D, b: Hist1D) -> Out<Hist1D> {
        Ok(a.div(&b)?)
    }

    /// The histogram scaled by a number.
    #[rhai_fn(name = "*")]
    pub fn mul_number(a: Hist1D, factor: FLOAT) -> Hist1D {
        a.scale(factor)
    }

    /// The bin counts of a 2D histogram, as an array of rows (one per x bin).
    #[rhai_fn(get = "counts", pure)]
    pub fn counts_2d(h: &mut Hist2D) -> Array {
        let (_, ny) = h.shape();
        h.counts()
            .chunks(ny)
            .map(|row| Dynamic::from_array(array(row)))
            .collect()
    }

    /// The sum of all bins of a 2D histogram.
    #[rhai_fn(name = "total", pure)]
    pub fn total_2d(h: &mut Hist2D) -> FLOAT {
        h.total()
    }

    /// One-sided significance of a p-value, Z = Φ⁻¹(1 - p); exact for tiny p-values.
    #[rhai_fn(return_raw)]
    pub fn z_from_p(p: FLOAT) -> Out<FLOAT> {
        Ok(special::z_from_p(p)?)
    }

    /// One-sided p-value of a significance, p = 1 - Φ(Z).
    #[rhai_fn(return_raw)]
    pub fn p_from_z(z: FLOAT) -> Out<FLOAT> {
        Ok(special::p_from_z(z)?)
    }

    /// The central (Garwood) 68.27 % confidence interval `[lo, hi]` of a Poisson mean given
    /// `n` observed events: the error bar the figures draw on counts (n = 0: [0, 1.841];
    /// n = 1: [0.173, 3.300]).
    #[rhai_fn(return_raw)]
    pub fn poisson_interval(n: FLOAT) -> Out<Array> {
        poisson_interval_cl(n, special::one_sigma_cl())
    }

    /// The central (Garwood) confidence interval `[lo, hi]` of a Poisson mean given `n`
    /// observed events at confidence level `cl` (in (0, 1), e.g. 0.95).
    #[rhai_fn(name = "poisson_interval", return_raw)]
    pub fn poisson_interval_cl(n: FLOAT, cl: FLOAT) -> Out<Array> {
        let (lo, hi) = special::poisson_interval(n, cl)?;
        Ok(vec![Dynamic::from_float(lo), Dynamic::from_float(hi)])
    }

    /// One-sided p-value of observing at least `n_obs` events over a background `b` with
    /// Gaussian uncertainty `sigma_b` (the Poisson tail averaged over the background's
    /// prior, truncated at zero); `sigma_b = 0` gives the plain Poisson tail. Use with
    /// `fit.predict(lo, hi)` for a signal region: `poisson_pvalue(n, pred[0], pred[1])`.
    #[rhai_fn(return_raw)]
    pub fn poisson_pvalue(n_obs: FLOAT, b: FLOAT, sigma_b: FLOAT) -> Out<FLOAT> {
        Ok(crate::stats::pvalue::poisson_pvalue(n_obs, b, sigma_b)?)
    }

    /// The calibration of a search from the global p-values of its background-only runs
    /// (leave out runs that gave none, and say how many): for each cut 0.01, 0.05, 0.2, 0.5
    /// the fraction at or below it with its Clopper–Pearson interval (68 %), the one-sided
    /// 95 % upper limit these runs put on it, and the binomial probability of at least that
    /// many if the p-values were uniform (below 0.01: the search overstates significance).
    /// `print` shows the table; `.rows` has it as maps; `.save(path)` writes JSON.
    #[rhai_fn(name = "null_calibration", return_raw)]
    pub fn null_calibration_default(p_values: Array) -> Out<NullCalibration> {
        Ok(calibration::null_calibration(
            &floats("p_values", &p_values)?,
            &calibration::DEFAULT_CUTS,
        )?)
    }

    /// `null_calibration(p_values)` at the cuts `cuts` (each in (0, 1)).
    #[rhai_fn(name = "null_calibration", return_raw)]
    pub fn null_calibration_at(p_values: Array, cuts: Array) -> Out<NullCalibration> {
        Ok(calibration::null_calibration(
            &floats("p_values", &p_values)?,
            &floats("cuts", &cuts)?,
        )?)
    }

    /// One map per cut: `cut`, `below`, `runs`, `fraction`, `low` and `high` (the 68 %
    /// interval), `upper_95`, `excess_pvalue` (P(at least `below` | uniform)).
    #[rhai_fn(get = "rows", pure)]
    pub fn calibration_rows(c: &mut NullCalibration) -> Array {
        c.rows
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("cut".into(), r.cut.into());
                m.insert("below".into(), (r.below as INT).into());
                m.insert("runs".into(), (r.runs as INT).into());
                m.insert("fraction".into(), r.fraction.into());
                m.insert("low".into(), r.interval.0.into());
                m.insert("high".into(), r.interval.1.into());
                m.insert("upper_95".into(), r.upper_95.into());
                m.insert("excess_pvalue".into(), r.excess_pvalue.into());
                Dynamic::from_map(m)
            })
            .collect()
    }

    /// True where some cut has P(at least that many | uniform) below 0.01: the p-values are
    /// smaller than uniform.
    #[rhai_fn(get = "overstated", pure)]
    pub fn calibration_overstated(c: &mut NullCalibration) -> bool {
        !c.overstated(0.01).is_empty()
    }

    /// Writes the p-values and the table as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_calibration(c: &mut NullCalibration, path: &str) -> Out<()> {
        save_json(c, path)
    }

    /// The table of fractions below each cut.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn calibration_to_string(c: &mut NullCalibration) -> String {
        c.to_string()
    }

    /// The dijet function (4 parameters, LHC Olympics 2020 eq. 4.3) fitted to `h` with the
    /// default options. See `fit_dijet(h, opts)`.
    #[rhai_fn(name = "fit_dijet", return_raw)]
    pub fn fit_dijet_default(h: Hist1D) -> Out<DijetFit> {
        fit_dijet(h, Map::new())
    }

    /// Fits a background function of y = m/sqrt_s to the histogram by a binned Poisson
    /// likelihood. `function`: "dijet4" (LHC Olympics 2020 eq. 4.3: p0 (1-y)^p1 /
    /// y^(p2 + p3 ln y)), "dijet3" (p3 = 0), "dijet5" (adds p4 ln^2 y to the exponent) or
    /// "ua2" (p0 y^-p1 exp(-p2 y - p3 y^2)). Start the binning or the `range` above the
    /// trigger turn-on. A fit that does not converge is an error. See docs/fits.md.
    #[rhai_fn(return_raw)]
    pub fn fit_dijet(h: Hist1D, opts: Map) -> Out<DijetFit> {
        let options = fit_dijet_options().parse(opts, &mut || 0)?;
        Ok(crate::stats::fit::fit_dijet_hist(&h, &options)?)
    }

    /// The nested selection with the default options. See `fit_family(h, opts)`.
    #[rhai_fn(name = "fit_family", return_raw)]
    pub fn fit_family_default(h: Hist1D) -> Out<FitFamily> {
        fit_family(h, Map::new())
    }

    /// Fits the nested dijet functions to `h` and chooses among them as the ATLAS dijet
    /// searches do: from the smallest, take the next larger function while Wilks' test
    /// (2 dlnL, chi2 with 1 dof per added parameter) gives a p-value below `threshold`.
    /// `range`, `exclude`, `sqrt_s` and `max_iterations` are as for `fit_dijet`. A function
    /// that fails is reported, not raised.
    /// `.chosen` is the chosen fit; `.predict(lo, hi)` adds the function-choice uncertainty.
    #[rhai_fn(return_raw)]
    pub fn fit_family(h: Hist1D, opts: Map) -> Out<FitFamily> {
        let options = fit_family_options().parse(opts, &mut || 0)?;
        Ok(crate::stats::fit::fit_family_hist(&h, &options)?)
    }

    /// The function fitted: "dijet3", "dijet4", "dijet5" or "ua2".
    #[rhai_fn(get = "function", pure)]
    pub fn fit_function(f: &mut DijetFit) -> String {
        f.function.name().into()
    }

    /// The fit range [lo, hi], or () when every bin was in range.
    #[rhai_fn(get = "range", pure)]
    pub fn fit_range(f: &mut DijetFit) -> Dynamic {
        f.range.map_or(Dynamic::UNIT, |(lo, hi)| {
            Dynamic::from_array(array(&[lo, hi]))
        })
    }

    /// The fitted parameters [p0, p1, ...] of the function's formula.
    #[rhai_fn(get = "params", pure)]
    pub fn fit_params(f: &mut DijetFit) -> Array {
        array(&f.params)
    }

    /// The parameters' 1-sigma uncertainties.
    #[rhai_fn(get = "errors", pure)]
    pub fn fit_errors(f: &mut DijetFit) -> Array {
        array(&f.param_errors())
    }

    /// The parameters' covariance matrix, as an array of rows.
    #[rhai_fn(get = "covariance", pure)]
    pub fn fit_covariance(f: &mut DijetFit) -> Array {
        f.covariance
            .iter()
            .map(|row| Dynamic::from_array(array(row)))
            .collect()
    }

    /// The Poisson deviance, -2 ln L up to a constant.
    #[rhai_fn(get = "neg2_log_l", pure)]
    pub fn fit_neg2_log_l(f: &mut DijetFit) -> FLOAT {
        f.neg2_log_l
    }

    /// Pearson's chi2 over the fitted bins.
    #[rhai_fn(get = "chi2", pure)]
    pub fn fit_chi2(f: &mut DijetFit) -> FLOAT {
        f.chi2
    }

    /// Degrees of freedom of `chi2`: groups of bins (adjacent bins merged until each
    /// expects at least 5 events) minus the number of parameters.
    #[rhai_fn(get = "ndf", pure)]
    pub fn fit_ndf(f: &mut DijetFit) -> INT {
        f.ndf as INT
    }

    /// The number of bins in the likelihood (those in the range and outside the excluded
    /// window).
    #[rhai_fn(get = "fitted_bins", pure)]
    pub fn fit_fitted_bins(f: &mut DijetFit) -> INT {
        f.fitted.iter().filter(|f| **f).count() as INT
    }

    /// The chi2 probability of the fit.
    #[rhai_fn(get = "chi2_pvalue", pure)]
    pub fn fit_chi2_pvalue(f: &mut DijetFit) -> FLOAT {
        f.chi2_pvalue
    }

    /// The fitted density dN/dm at `m`.
    #[rhai_fn(pure)]
    pub fn density(f: &mut DijetFit, m: FLOAT) -> FLOAT {
        f.density(m)
    }

    /// The expected count in [lo, hi) and its propagated 1-sigma uncertainty, as
    /// `[value, error]`.
    #[rhai_fn(pure, return_raw)]
    pub fn predict(f: &mut DijetFit, lo: FLOAT, hi: FLOAT) -> Out<Array> {
        let (value, error) = f.predict(lo, hi)?;
        Ok(array(&[value, error]))
    }

    /// The fit's prediction as a histogram on `edges` (errors: the fit uncertainty), e.g. the
    /// reference of `bump_hunter(data, fit.prediction(data.edges))`.
    #[rhai_fn(pure, return_raw)]
    pub fn prediction(f: &mut DijetFit, edges: Array) -> Out<Hist1D> {
        Ok(f.prediction(&floats("bin edges", &edges)?)?)
    }

    /// Writes the fit (parameters, covariance, quality) as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_fit(f: &mut DijetFit, path: &str) -> Out<()> {
        save_json(f, path)
    }

    /// Parameters with errors and the fit quality.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn fit_to_string(f: &mut DijetFit) -> String {
        f.to_string()
    }

    /// The converged fits, in the order of the chain (dijet3, dijet4, dijet5), then UA2.
    #[rhai_fn(get = "fits", pure)]
    pub fn family_fits(r: &mut FitFamily) -> Array {
        r.members
            .iter()
            .filter_map(|m| m.fit.clone().map(Dynamic::from))
            .collect()
    }

    /// The functions that failed, each with why: `#{ dijet5: "..." }`.
    #[rhai_fn(get = "failures", pure)]
    pub fn family_failures(r: &mut FitFamily) -> Map {
        r.members
            .iter()
            .filter_map(|m| Some((m.function.name().into(), m.error.clone()?.into())))
            .collect()
    }

    /// The chosen fit.
    #[rhai_fn(get = "chosen", pure)]
    pub fn family_chosen(r: &mut FitFamily) -> DijetFit {
        r.chosen_fit().clone()
    }

    /// The chosen function's name.
    #[rhai_fn(get = "chosen_function", pure)]
    pub fn family_chosen_function(r: &mut FitFamily) -> String {
        r.chosen.name().into()
    }

    /// The fit the choice uncertainty compares with (the next function of the chain, or the
    /// previous one when the largest was chosen), or () when only one function converged.
    #[rhai_fn(get = "alternative", pure)]
    pub fn family_alternative(r: &mut FitFamily) -> Dynamic {
        r.alternative_fit()
            .cloned()
            .map_or(Dynamic::UNIT, Dynamic::from)
    }

    /// The Wilks tests made, in order, each `#{ from, to, statistic, dof, p_value, accepted }`
    /// (statistic: 2 dlnL; accepted: p_value < threshold, the larger function is taken).
    #[rhai_fn(get = "steps", pure)]
    pub fn family_steps(r: &mut FitFamily) -> Array {
        let step = |s: &WilksStep| {
            let mut m = Map::new();
            m.insert("from".into(), s.from.name().into());
            m.insert("to".into(), s.to.name().into());
            m.insert("statistic".into(), Dynamic::from_float(s.statistic));
            m.insert("dof".into(), Dynamic::from_int(s.dof as INT));
            m.insert("p_value".into(), Dynamic::from_float(s.p_value));
            m.insert("accepted".into(), Dynamic::from_bool(s.accepted));
            Dynamic::from_map(m)
        };
        r.steps.iter().map(step).collect()
    }

    /// The Wilks p-value threshold.
    #[rhai_fn(get = "threshold", pure)]
    pub fn family_threshold(r: &mut FitFamily) -> FLOAT {
        r.threshold
    }

    /// The fit of the function called `name`; an error if it was not requested or failed.
    #[rhai_fn(name = "fit", pure, return_raw)]
    pub fn family_fit(r: &mut FitFamily, name: &str) -> Out<DijetFit> {
        let function = Function::parse(name, "function")?;
        let member = r.members.iter().find(|m| m.function == function);
        match member {
            None => Err(Error::invalid(
                "function",
                format!("{name} was not among the functions fitted"),
            )
            .into()),
            Some(m) => m.fit.clone().ok_or_else(|| {
                Error::invalid(
                    "function",
                    format!(
                        "the {name} fit failed: {}",
                        m.error.as_deref().unwrap_or("unknown reason")
                    ),
                )
                .into()
            }),
        }
    }

    /// The function-choice uncertainty of the expected count in [lo, hi): |chosen -
    /// alternative|. An error when only one function of the chain converged.
    #[rhai_fn(pure, return_raw)]
    pub fn choice_uncertainty(r: &mut FitFamily, lo: FLOAT, hi: FLOAT) -> Out<FLOAT> {
        Ok(r.choice_uncertainty(lo, hi)?)
    }

    /// The chosen fit's expected count in [lo, hi) with its fit and function-choice
    /// uncertainties, as `[value, fit_error, choice_error]`; add the errors in quadrature for
    /// `poisson_pvalue`.
    #[rhai_fn(name = "predict", pure, return_raw)]
    pub fn family_predict(r: &mut FitFamily, lo: FLOAT, hi: FLOAT) -> Out<Array> {
        let p = r.predict(lo, hi)?;
        Ok(array(&[p.value, p.fit_error, p.choice_error]))
    }

    /// Writes every fit, the tests and the choice as JSON, atomically.
    #[rhai_fn(name = "save", pure, return_raw)]
    pub fn save_family(r: &mut FitFamily, path: &str) -> Out<()> {
        save_json(r, path)
    }

    /// A table of the fits, the tests and the choice.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn family_to_string(r: &mut FitFamily) -> String {
        r.to_string()
    }

    /// A summary table.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn hist_to_string(h: &mut Hist1D) -> String {
        h.to_string()
    }

    /// A summary line.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn hist2d_to_string(h: &mut Hist2D) -> String {
        h.to_string()
    }
}
