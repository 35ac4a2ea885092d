//! The functions a condition may call, by name, with their polars expressions.

use polars::prelude::*;

/// A function of a condition: one argument or two.
#[derive(Clone, Copy)]
pub enum Function {
    /// `f(x)`.
    One(fn(Expr) -> Expr),
    /// `f(x, y)`.
    Two(fn(Expr, Expr) -> Expr),
}

impl Function {
    pub(super) fn arity(self) -> usize {
        match self {
            Function::One(_) => 1,
            Function::Two(_) => 2,
        }
    }
}

/// `x` as a 64-bit float, the type the functions compute in.
fn float(x: Expr) -> Expr {
    x.cast(DataType::Float64)
}

/// The functions a condition may call, by name.
pub const FUNCTIONS: &[(&str, Function)] = &[
    ("abs", Function::One(|x| x.abs())),
    ("sqrt", Function::One(|x| float(x).sqrt())),
    ("exp", Function::One(|x| float(x).exp())),
    (
        "ln",
        Function::One(|x| float(x).log(lit(std::f64::consts::E))),
    ),
    ("log10", Function::One(|x| float(x).log(lit(10.0)))),
    ("pow", Function::Two(|x, y| float(x).pow(y))),
    ("sin", Function::One(|x| float(x).sin())),
    ("cos", Function::One(|x| float(x).cos())),
    ("tan", Function::One(|x| float(x).tan())),
    ("asin", Function::One(|x| float(x).arcsin())),
    ("acos", Function::One(|x| float(x).arccos())),
    ("atan", Function::One(|x| float(x).arctan())),
    ("atan2", Function::Two(|y, x| float(y).arctan2(float(x)))),
    ("sinh", Function::One(|x| float(x).sinh())),
    ("cosh", Function::One(|x| float(x).cosh())),
    ("tanh", Function::One(|x| float(x).tanh())),
    ("floor", Function::One(|x| float(x).floor())),
    ("ceil", Function::One(|x| float(x).ceil())),
    (
        "round",
        Function::One(|x| float(x).round(0, RoundMode::HalfAwayFromZero)),
    ),
    // -1, 0 or 1 (NaN stays NaN); polars' own `sign` needs its decimal types compiled in.
    (
        "sign",
        Function::One(|x| {
            let x = float(x);
            when(x.clone().gt(lit(0.0)))
                .then(lit(1.0))
                .when(x.clone().lt(lit(0.0)))
                .then(lit(-1.0))
                .otherwise(x)
        }),
    ),
    (
        "least",
        Function::Two(|x, y| when(x.clone().lt_eq(y.clone())).then(x).otherwise(y)),
    ),
    (
        "greatest",
        Function::Two(|x, y| when(x.clone().gt_eq(y.clone())).then(x).otherwise(y)),
    ),
];
