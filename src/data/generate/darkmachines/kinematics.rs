//! Four-momenta and the random draws of the toy: spectra, Breit-Wigner masses, two-body
//! decays and back-to-back pairs.

use std::f64::consts::PI;

use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

pub(super) type Rng = Xoshiro256PlusPlus;

/// A four-momentum (GeV).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct P4 {
    pub(super) e: f64,
    pub(super) px: f64,
    pub(super) py: f64,
    pub(super) pz: f64,
}

impl P4 {
    /// From transverse momentum, rapidity, azimuth and mass.
    pub(super) fn from_pt_y_phi_m(pt: f64, y: f64, phi: f64, m: f64) -> Self {
        let mt = pt.hypot(m);
        P4 {
            e: mt * y.cosh(),
            px: pt * phi.cos(),
            py: pt * phi.sin(),
            pz: mt * y.sinh(),
        }
    }

    pub(super) fn pt(&self) -> f64 {
        self.px.hypot(self.py)
    }

    pub(super) fn p(&self) -> f64 {
        (self.px * self.px + self.py * self.py + self.pz * self.pz).sqrt()
    }

    /// Pseudorapidity; infinite along the beam.
    pub(super) fn eta(&self) -> f64 {
        let pt = self.pt();
        if pt > 0.0 {
            (self.pz / pt).asinh()
        } else {
            f64::INFINITY
        }
    }

    pub(super) fn phi(&self) -> f64 {
        self.py.atan2(self.px)
    }

    pub(super) fn mass(&self) -> f64 {
        let p = self.p();
        ((self.e - p) * (self.e + p)).max(0.0).sqrt()
    }

    pub(super) fn add(self, o: P4) -> P4 {
        P4 {
            e: self.e + o.e,
            px: self.px + o.px,
            py: self.py + o.py,
            pz: self.pz + o.pz,
        }
    }

    pub(super) fn scale(self, f: f64) -> P4 {
        P4 {
            e: self.e * f,
            px: self.px * f,
            py: self.py * f,
            pz: self.pz * f,
        }
    }

    /// The velocity of a frame moving with this four-momentum.
    pub(super) fn velocity(&self) -> [f64; 3] {
        [self.px / self.e, self.py / self.e, self.pz / self.e]
    }

    /// This four-momentum seen from a frame moving with velocity `-b` (i.e. boosted by `b`).
    pub(super) fn boost(self, b: [f64; 3]) -> P4 {
        let b2 = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
        if b2 <= 0.0 || b2 >= 1.0 {
            return self;
        }
        let gamma = 1.0 / (1.0 - b2).sqrt();
        let bp = b[0] * self.px + b[1] * self.py + b[2] * self.pz;
        let g2 = (gamma - 1.0) / b2;
        let k = g2 * bp + gamma * self.e;
        P4 {
            e: gamma * (self.e + bp),
            px: self.px + k * b[0],
            py: self.py + k * b[1],
            pz: self.pz + k * b[2],
        }
    }
}

pub(super) fn uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

pub(super) fn normal(rng: &mut Rng) -> f64 {
    rng.sample(StandardNormal)
}

pub(super) fn azimuth(rng: &mut Rng) -> f64 {
    uniform(rng, -PI, PI)
}

/// The collision energy, 13 TeV.
pub(super) const SQRT_S: f64 = 13_000.0;

/// The power of the parton-luminosity fall-off `(1 - 2 pT / sqrt(s))^p` of every spectrum.
pub(super) const KINEMATIC_POWER: f64 = 10.0;

/// A falling spectrum above `min`: density proportional to
/// `(1 + (x - min)/scale)^-index (1 - 2x/sqrt(s))^10`, a power law of index `index` far above
/// `min + scale` that vanishes at the kinematic limit x = sqrt(s)/2, as parton luminosities
/// make it (drawn from the power law, kept with probability given by the second factor).
pub(super) fn falling(rng: &mut Rng, min: f64, scale: f64, index: f64) -> f64 {
    loop {
        let u = 1.0 - rng.random::<f64>();
        let x = min + scale * (u.powf(-1.0 / (index - 1.0)) - 1.0);
        let x_t = 2.0 * x / SQRT_S;
        if x_t < 1.0 && rng.random::<f64>() < (1.0 - x_t).powf(KINEMATIC_POWER) {
            return x;
        }
    }
}

/// A Breit-Wigner (Cauchy) mass restricted to `[lo, hi]`, by inverting its distribution
/// function between the limits.
pub(super) fn breit_wigner(rng: &mut Rng, mass: f64, width: f64, lo: f64, hi: f64) -> f64 {
    let cdf = |m: f64| (2.0 * (m - mass) / width).atan();
    let angle = uniform(rng, cdf(lo), cdf(hi));
    (mass + 0.5 * width * angle.tan()).clamp(lo, hi)
}

/// A Poisson count of mean `mean` (small means only), at most 12.
pub(super) fn poisson(rng: &mut Rng, mean: f64) -> usize {
    let limit = (-mean).exp();
    let mut product = rng.random::<f64>();
    let mut k = 0;
    while product > limit && k < 12 {
        product *= rng.random::<f64>();
        k += 1;
    }
    k
}

/// Two-body decay of `parent` into masses `m1`, `m2`, isotropic in the parent's rest frame.
pub(super) fn decay2(rng: &mut Rng, parent: P4, m1: f64, m2: f64) -> (P4, P4) {
    let m = parent.mass();
    let lambda = (m * m - (m1 + m2).powi(2)) * (m * m - (m1 - m2).powi(2));
    let p = if m > 0.0 {
        lambda.max(0.0).sqrt() / (2.0 * m)
    } else {
        0.0
    };
    let cos = uniform(rng, -1.0, 1.0);
    let sin = (1.0 - cos * cos).max(0.0).sqrt();
    let phi = azimuth(rng);
    let (dx, dy, dz) = (p * sin * phi.cos(), p * sin * phi.sin(), p * cos);
    let d1 = P4 {
        e: p.hypot(m1),
        px: dx,
        py: dy,
        pz: dz,
    };
    let d2 = P4 {
        e: p.hypot(m2),
        px: -dx,
        py: -dy,
        pz: -dz,
    };
    let b = parent.velocity();
    (d1.boost(b), d2.boost(b))
}

/// Two particles of masses `m1`, `m2` back to back in the transverse plane with transverse
/// momentum `pt` each, rapidities Gaussian with width `y_sigma`.
pub(super) fn pair(rng: &mut Rng, pt: f64, m1: f64, m2: f64, y_sigma: f64) -> (P4, P4) {
    let phi = azimuth(rng);
    let y1 = y_sigma * normal(rng);
    let y2 = y_sigma * normal(rng);
    (
        P4::from_pt_y_phi_m(pt, y1, phi, m1),
        P4::from_pt_y_phi_m(pt, y2, phi + PI, m2),
    )
}

/// The hard scale of a pair of masses `m1`, `m2` produced with transverse momentum `pt`.
pub(super) fn hard_scale(pt: f64, m1: f64, m2: f64) -> f64 {
    pt.hypot(0.5 * (m1 + m2))
}
