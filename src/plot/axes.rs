//! Axis scales and tick placement: linear axes get "nice" steps (1, 2 or 5 times a power of
//! ten) with minor ticks between, log axes get decades labelled 10ⁿ (or 1-2-5 ticks when the
//! range spans less than a decade).

/// The largest magnitude an axis end may have (and, on log axes, the smallest): every tick
/// and position computed from the range stays finite.
const LIMIT: f64 = 1e307;

/// How values map onto an axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scale {
    /// Equal steps for equal differences.
    Linear,
    /// Equal steps for equal ratios; only positive values can be shown.
    Log,
}

/// An axis: a scale and the visible range `[lo, hi]` in data units (`0 < lo` on log axes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Axis {
    /// Linear or logarithmic.
    pub scale: Scale,
    /// The lower end.
    pub lo: f64,
    /// The upper end.
    pub hi: f64,
}

/// Tick positions (data units) and labels.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ticks {
    /// Labelled ticks.
    pub major: Vec<(f64, String)>,
    /// Unlabelled ticks.
    pub minor: Vec<f64>,
    /// A common factor taken out of the labels ("×10⁵"), shown at the end of the axis.
    pub multiplier: Option<String>,
}

impl Axis {
    /// An axis over `[lo, hi]`; a degenerate or non-finite range is widened to something
    /// drawable (around the value, or `[0, 1]` / `[1, 10]`), and ends are kept within
    /// ±1e307 (log axes: within [1e-307, 1e307]).
    pub fn new(scale: Scale, lo: f64, hi: f64) -> Axis {
        match scale {
            Scale::Linear => {
                let clamp = |v: f64| v.clamp(-LIMIT, LIMIT);
                let (lo, hi) = if lo.is_finite() && hi.is_finite() {
                    (clamp(lo.min(hi)), clamp(lo.max(hi)))
                } else {
                    (0.0, 1.0)
                };
                if hi > lo {
                    Axis { scale, lo, hi }
                } else {
                    let half = if lo == 0.0 { 1.0 } else { 0.5 * lo.abs() };
                    Axis {
                        scale,
                        lo: lo - half,
                        hi: hi + half,
                    }
                }
            }
            Scale::Log => {
                let ok = |v: f64| v.is_finite() && v > 0.0;
                let clamp = |v: f64| v.clamp(1.0 / LIMIT, LIMIT);
                let (lo, hi) = match (ok(lo), ok(hi)) {
                    (true, true) => (clamp(lo.min(hi)), clamp(lo.max(hi))),
                    (true, false) => (clamp(lo), clamp(lo * 10.0)),
                    (false, true) => (clamp(hi / 10.0), clamp(hi)),
                    (false, false) => (1.0, 10.0),
                };
                if hi > lo {
                    Axis { scale, lo, hi }
                } else {
                    Axis {
                        scale,
                        lo: lo / 10f64.sqrt(),
                        hi: hi * 10f64.sqrt(),
                    }
                }
            }
        }
    }

    /// Where `v` lies along the axis: 0 at `lo`, 1 at `hi` (outside for values beyond). `None`
    /// for values the axis cannot show (NaN, infinite, non-positive on a log axis).
    pub fn fraction(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        match self.scale {
            Scale::Linear => Some((v - self.lo) / (self.hi - self.lo)),
            // Differences of logarithms: the ratio v / lo can overflow.
            Scale::Log if v > 0.0 => {
                let lo = self.lo.log10();
                Some((v.log10() - lo) / (self.hi.log10() - lo))
            }
            Scale::Log => None,
        }
    }

    /// The axis on which the current range `[lo, hi]` covers the fractions `[a, b]`, e.g.
    /// `(0, 0.7)` to leave the top 30% free for a legend (within the limits of [`Axis::new`]).
    pub fn stretched(&self, a: f64, b: f64) -> Axis {
        let (f_lo, f_hi) = (-a / (b - a), (1.0 - a) / (b - a));
        match self.scale {
            Scale::Linear => {
                let span = self.hi - self.lo;
                Axis::new(self.scale, self.lo + f_lo * span, self.lo + f_hi * span)
            }
            Scale::Log => {
                // In exponents: the stretched ends may lie beyond the float range.
                let (e_lo, span) = (self.lo.log10(), self.hi.log10() - self.lo.log10());
                let end = |f: f64| 10f64.powf((e_lo + f * span).clamp(-307.0, 307.0));
                Axis::new(self.scale, end(f_lo), end(f_hi))
            }
        }
    }

    /// Ticks with at most about `max_major` labels.
    pub fn ticks(&self, max_major: usize) -> Ticks {
        let max_major = max_major.max(2);
        match self.scale {
            Scale::Linear => linear_ticks(self.lo, self.hi, max_major),
            Scale::Log => log_ticks(self.lo, self.hi, max_major),
        }
    }
}

/// A small tolerance for "is this tick inside the range".
fn inside(v: f64, lo: f64, hi: f64) -> bool {
    let eps = 1e-9 * (hi - lo).abs().max(f64::MIN_POSITIVE);
    v >= lo - eps && v <= hi + eps
}

/// The nice step (1, 2 or 5 times a power of ten) giving at most `max_major` ticks, and the
/// number of minor intervals per step.
fn nice_step(span: f64, max_major: usize) -> (f64, usize) {
    let raw = span / max_major as f64;
    let mag = 10f64.powf(raw.log10().floor());
    for (m, minor) in [(1.0, 5), (2.0, 4), (5.0, 5), (10.0, 5)] {
        if m * mag >= raw * (1.0 - 1e-9) {
            return (m * mag, minor);
        }
    }
    (10.0 * mag, 5)
}

fn linear_ticks(lo: f64, hi: f64, max_major: usize) -> Ticks {
    let (step, n_minor) = nice_step(hi - lo, max_major);
    if !(step.is_finite() && step > 0.0) {
        return Ticks {
            major: Vec::new(),
            minor: Vec::new(),
            multiplier: None,
        };
    }
    let biggest = lo.abs().max(hi.abs());
    let exponent = biggest.log10().floor();
    let factor_out = !(1e-2..1e5).contains(&biggest);
    let (unit, multiplier) = if factor_out {
        (
            10f64.powf(exponent),
            Some(format!("×10{}", superscript(exponent as i32))),
        )
    } else {
        (1.0, None)
    };
    let decimals = (-(step / unit).log10().floor()).max(0.0) as usize;
    let first = (lo / step).ceil() as i64 - 1;
    let last = (hi / step).floor() as i64 + 1;
    let mut major = Vec::new();
    let mut minor = Vec::new();
    for k in first..=last {
        let v = k as f64 * step;
        if inside(v, lo, hi) {
            major.push((v, plain(v / unit, decimals)));
        }
        for j in 1..n_minor {
            let m = v + j as f64 * step / n_minor as f64;
            if inside(m, lo, hi) {
                minor.push(m);
            }
        }
    }
    Ticks {
        major,
        minor,
        multiplier,
    }
}

fn log_ticks(lo: f64, hi: f64, max_major: usize) -> Ticks {
    let (dlo, dhi) = (lo.log10(), hi.log10());
    let first = dlo.floor() as i32;
    let last = dhi.ceil() as i32;
    // Compare exponents: a tolerance on the values themselves would span decades.
    let shown = |v: f64| inside(v.log10(), dlo, dhi);
    let decades: Vec<i32> = (first..=last).filter(|&k| shown(10f64.powi(k))).collect();
    let mut major = Vec::new();
    let mut minor = Vec::new();
    if decades.len() >= 2 {
        let stride = decades.len().div_ceil(max_major);
        for &k in &decades {
            let v = 10f64.powi(k);
            if k.rem_euclid(stride as i32) == 0 {
                major.push((v, format!("10{}", superscript(k))));
            } else if stride <= 4 {
                // Beyond that, unlabelled decades would be a solid bar of ticks.
                minor.push(v);
            }
        }
        if stride == 1 {
            for k in first..=last {
                for m in 2..=9 {
                    let v = m as f64 * 10f64.powi(k);
                    if shown(v) {
                        minor.push(v);
                    }
                }
            }
        }
    } else {
        // Less than a decade: label 1, 2, 5 (or every digit when that gives too few).
        let candidates = |digits: &[u32]| -> Vec<(f64, i32)> {
            (first..=last)
                .flat_map(|k| digits.iter().map(move |&m| (m as f64 * 10f64.powi(k), k)))
                .filter(|&(v, _)| shown(v))
                .collect()
        };
        let mut labelled = candidates(&[1, 2, 5]);
        if labelled.len() < 3 {
            labelled = candidates(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        }
        if labelled.len() < 2 {
            return linear_ticks(lo, hi, max_major);
        }
        let stride = labelled.len().div_ceil(max_major);
        for (i, &(v, k)) in labelled.iter().enumerate() {
            if i % stride == 0 {
                major.push((v, plain(v, (-k).max(0) as usize)));
            } else {
                minor.push(v);
            }
        }
        for (v, _) in candidates(&[1, 2, 3, 4, 5, 6, 7, 8, 9]) {
            if !labelled.iter().any(|&(l, _)| l == v) {
                minor.push(v);
            }
        }
    }
    Ticks {
        major,
        minor,
        multiplier: None,
    }
}

/// `v` with `decimals` digits after the point, without a negative zero; the minus sign is
/// the typographic one (U+2212).
pub(crate) fn plain(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let negative_zero = s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.');
    if negative_zero {
        s[1..].to_string()
    } else {
        s.replace('-', "\u{2212}")
    }
}

/// A number in a short readable form for annotations (3 significant digits, or a power of
/// ten for very large and small magnitudes).
pub(crate) fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let e = v.abs().log10().floor() as i32;
    if (-3..6).contains(&e) {
        plain(v, (2 - e).max(0) as usize)
    } else {
        let m = v / 10f64.powi(e);
        format!("{}×10{}", plain(m, 2), superscript(e))
    }
}

/// An integer in Unicode superscript digits.
pub(crate) fn superscript(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<&str> {
        t.major.iter().map(|(_, s)| s.as_str()).collect()
    }

    #[test]
    fn linear_ticks_are_nice() {
        let t = Axis::new(Scale::Linear, 0.0, 1.0).ticks(6);
        assert_eq!(labels(&t), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(t.minor.len(), 15);
        let t = Axis::new(Scale::Linear, 2632.0, 6000.0).ticks(6);
        assert_eq!(labels(&t), ["3000", "4000", "5000", "6000"]);
        let t = Axis::new(Scale::Linear, -3.2, 4.1).ticks(8);
        assert_eq!(
            labels(&t),
            [
                "\u{2212}3",
                "\u{2212}2",
                "\u{2212}1",
                "0",
                "1",
                "2",
                "3",
                "4"
            ]
        );
        let t = Axis::new(Scale::Linear, 0.0, 3e5).ticks(6);
        assert_eq!(t.multiplier.as_deref(), Some("×10⁵"));
        assert_eq!(
            labels(&t),
            ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0"]
        );
    }

    #[test]
    fn log_ticks_label_decades() {
        let t = Axis::new(Scale::Log, 1e-4, 1.0).ticks(8);
        assert_eq!(labels(&t), ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"]);
        assert_eq!(t.minor.len(), 4 * 8);
        let t = Axis::new(Scale::Log, 1e-12, 1e6).ticks(6);
        assert!(t.major.len() <= 6 && t.major.len() >= 4, "{:?}", labels(&t));
        let t = Axis::new(Scale::Log, 30.0, 400.0).ticks(6);
        assert_eq!(labels(&t), ["50", "100", "200"]);
        let t = Axis::new(Scale::Log, 0.4, 3e17).ticks(6);
        assert!(
            t.minor
                .iter()
                .chain(t.major.iter().map(|m| &m.0))
                .all(|&v| (0.4..=3e17).contains(&v)),
            "{t:?}"
        );
        let t = Axis::new(Scale::Log, 0.31, 0.39).ticks(6);
        assert!(t.major.len() >= 2, "{t:?}");
    }

    #[test]
    fn degenerate_ranges_are_widened() {
        let a = Axis::new(Scale::Linear, 5.0, 5.0);
        assert!(a.lo < 5.0 && a.hi > 5.0);
        assert_eq!(
            Axis::new(Scale::Linear, f64::NAN, 1.0),
            Axis {
                scale: Scale::Linear,
                lo: 0.0,
                hi: 1.0
            }
        );
        let l = Axis::new(Scale::Log, 0.0, 0.0);
        assert_eq!((l.lo, l.hi), (1.0, 10.0));
        assert_eq!(l.fraction(0.0), None);
        assert!((l.fraction(10f64.sqrt()).unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn stretching_keeps_the_data_where_asked() {
        let a = Axis::new(Scale::Linear, 0.0, 10.0).stretched(0.0, 0.5);
        assert_eq!((a.lo, a.hi), (0.0, 20.0));
        let l = Axis::new(Scale::Log, 1.0, 100.0).stretched(0.0, 0.5);
        assert!((l.hi - 1e4).abs() < 1e-6);
    }

    #[test]
    fn ranges_near_the_float_range_are_shown_whole() {
        // The ends were clamped to 1e300, hiding data at 2e300.
        let a = Axis::new(Scale::Linear, 0.0, 2e300);
        assert_eq!((a.lo, a.hi), (0.0, 2e300));
        let l = Axis::new(Scale::Log, 1e-305, 1e305);
        assert_eq!((l.lo, l.hi), (1e-305, 1e305));
        assert!(a.ticks(6).major.len() >= 2);
    }

    #[test]
    fn ranges_beyond_the_float_range_stay_finite_and_few_ticked() {
        // A log histogram from 1e-150 to 1e150, stretched for a legend: the stretched top
        // would be 10^428 (infinite), and the tick loop then never ended.
        for axis in [
            Axis::new(Scale::Log, 1e-150, 1e150).stretched(0.0, 0.7),
            Axis::new(Scale::Log, f64::MIN_POSITIVE, f64::MAX).stretched(0.1, 0.5),
            Axis::new(Scale::Linear, -f64::MAX, f64::MAX).stretched(0.0, 0.7),
            Axis::new(Scale::Linear, 1e300, 1e300),
        ] {
            assert!(
                axis.lo.is_finite() && axis.hi.is_finite() && axis.lo < axis.hi,
                "{axis:?}"
            );
            let t = axis.ticks(6);
            assert!(
                t.major.len() <= 12 && t.minor.len() <= 100,
                "{axis:?}: {t:?}"
            );
            assert!(axis.fraction(1.0).is_some_and(f64::is_finite), "{axis:?}");
            for (v, _) in &t.major {
                let f = axis.fraction(*v).unwrap();
                assert!((-1e-9..=1.0 + 1e-9).contains(&f), "{axis:?}: {v} at {f}");
            }
        }
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(plain(-0.0001, 2), "0.00");
        assert_eq!(short(4.56789), "4.57");
        assert_eq!(short(3300.0), "3300");
        assert_eq!(short(1.5e-7), "1.50×10⁻⁷");
        assert_eq!(superscript(-12), "⁻¹²");
    }
}
