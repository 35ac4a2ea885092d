//! Option maps (`#{ epochs: 50, lr: 1e-3 }`) read with a clear error for an unknown key or a
//! wrong type, naming the key and the allowed ones. Each built-in declares its options once
//! (`declared.rs`); this is the reader those declarations use.

use rhai::{Array, Dynamic, Map};

use crate::error::{Error, Result};

/// The options passed to the built-in `function`, checked against its allowed keys.
pub struct Options<'a> {
    function: &'a str,
    map: Map,
}

impl<'a> Options<'a> {
    /// Checks that every key of `map` is in `allowed`.
    pub fn new(function: &'a str, map: Map, allowed: &[&str]) -> Result<Self> {
        if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::invalid(
                format!("option '{key}' of {function}"),
                format!("unknown option; the options are {}", allowed.join(", ")),
            ));
        }
        Ok(Self { function, map })
    }

    /// An integer option that must be >= 0, or `default` when absent.
    pub fn count(&self, key: &str, default: usize) -> Result<usize> {
        match self.map.get(key) {
            None => Ok(default),
            Some(v) => {
                let n = v
                    .as_int()
                    .map_err(|t| self.wrong_type(key, "an integer", t))?;
                usize::try_from(n).map_err(|_| self.invalid(key, format!("{n} is negative")))
            }
        }
    }

    /// A number option (integers accepted), or `default` when absent.
    pub fn float(&self, key: &str, default: f64) -> Result<f64> {
        self.map
            .get(key)
            .map_or(Ok(default), |v| self.to_float(key, v))
    }

    /// A string option, or `default` when absent.
    pub fn string(&self, key: &str, default: &str) -> Result<String> {
        match self.map.get(key) {
            None => Ok(default.to_string()),
            Some(v) => v
                .clone()
                .into_string()
                .map_err(|t| self.wrong_type(key, "a string", t)),
        }
    }

    /// A true/false option, or `default` when absent.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool> {
        self.map.get(key).map_or(Ok(default), |v| {
            v.as_bool()
                .map_err(|t| self.wrong_type(key, "true or false", t))
        })
    }

    /// A seed option (integer >= 0), or `None` when absent.
    pub fn seed(&self, key: &str) -> Result<Option<u64>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => {
                let n = v
                    .as_int()
                    .map_err(|t| self.wrong_type(key, "an integer", t))?;
                u64::try_from(n)
                    .map(Some)
                    .map_err(|_| self.invalid(key, format!("{n} is negative")))
            }
        }
    }

    /// Whether the option `key` was given.
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// An array-of-numbers option (integers accepted); empty when absent.
    pub fn numbers(&self, key: &str) -> Result<Vec<f64>> {
        match self.array(key)? {
            None => Ok(Vec::new()),
            Some(a) => floats(&self.name(key), &a),
        }
    }

    /// An array-of-strings option; empty when absent.
    pub fn strings(&self, key: &str) -> Result<Vec<String>> {
        match self.array(key)? {
            None => Ok(Vec::new()),
            Some(a) => strings(&self.name(key), &a),
        }
    }

    /// An array of whole numbers >= 0 (indices); empty when absent.
    pub fn counts(&self, key: &str) -> Result<Vec<usize>> {
        self.whole_numbers(key, 0, "whole numbers >= 0")
    }

    /// Layer widths: an array of whole numbers >= 1; empty when absent.
    pub fn widths(&self, key: &str) -> Result<Vec<usize>> {
        self.whole_numbers(key, 1, "whole numbers of at least 1")
    }

    /// A `[low, high]` option (two numbers); `(0, 0)` when absent.
    pub fn pair(&self, key: &str) -> Result<(f64, f64)> {
        match self.map.get(key) {
            None => Ok((0.0, 0.0)),
            Some(v) => number_pair(&self.name(key), v.clone(), "[low, high]"),
        }
    }

    /// A string option read by `parse` (a name among a fixed list), whose errors are
    /// reworded to name the option; `parse("")` is not called when absent: use with
    /// [`Self::has`].
    pub fn choice<C>(&self, key: &str, parse: fn(&str) -> Result<C>) -> Result<C> {
        let name = self.string(key, "")?;
        parse(&name).map_err(|e| match e {
            Error::InvalidArgument { problem, .. } => self.invalid(key, problem),
            other => other,
        })
    }

    /// An error for option `key` saying `problem`.
    pub fn invalid(&self, key: &str, problem: impl Into<String>) -> Error {
        Error::invalid(self.name(key), problem.into())
    }

    /// "option 'key' of function", as errors name an option.
    fn name(&self, key: &str) -> String {
        format!("option '{key}' of {}", self.function)
    }

    fn array(&self, key: &str) -> Result<Option<Array>> {
        self.map
            .get(key)
            .map(|v| {
                v.clone()
                    .into_array()
                    .map_err(|t| self.wrong_type(key, "an array", t))
            })
            .transpose()
    }

    fn whole_numbers(&self, key: &str, min: usize, what: &str) -> Result<Vec<usize>> {
        let values = self.numbers(key)?;
        values
            .iter()
            .map(|&x| {
                if x.fract() == 0.0 && x >= min as f64 && x < 2f64.powi(53) {
                    Ok(x as usize)
                } else {
                    Err(self.invalid(key, format!("{x} is not among {what}")))
                }
            })
            .collect()
    }

    fn to_float(&self, key: &str, v: &Dynamic) -> Result<f64> {
        v.as_float()
            .or_else(|_| v.as_int().map(|i| i as f64))
            .map_err(|t| self.wrong_type(key, "a number", t))
    }

    fn wrong_type(&self, key: &str, wanted: &str, got: &str) -> Error {
        self.invalid(key, format!("must be {wanted}, not {got}"))
    }

    /// The value of option `key` as the script gave it, for an option of several shapes (a
    /// fraction or an event set, a column name or a flag, `()` meaning "none"); `None` when
    /// absent. Its errors name the option through [`Self::invalid`].
    pub fn value(&self, key: &str) -> Option<&Dynamic> {
        self.map.get(key)
    }
}

/// The value of the option `name` (e.g. "option 'size'") as the two numbers written `shape`
/// (e.g. "[width, height]"), for options too structured for [`Options`].
pub fn number_pair(name: &str, value: Dynamic, shape: &str) -> Result<(f64, f64)> {
    let array = value
        .into_array()
        .map_err(|t| Error::invalid(name, format!("must be {shape}, not {t}")))?;
    match floats(name, &array)?.as_slice() {
        [a, b] => Ok((*a, *b)),
        _ => Err(Error::invalid(name, format!("give two numbers {shape}"))),
    }
}

/// The numbers in a Rhai array (integers accepted), naming the first element that is not one.
pub fn floats(what: &str, array: &rhai::Array) -> Result<Vec<f64>> {
    array
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_float()
                .or_else(|_| v.as_int().map(|n| n as f64))
                .map_err(|t| Error::invalid(what, format!("element {i} is a {t}, not a number")))
        })
        .collect()
}

/// The strings in a Rhai array, naming the first element that is not one.
pub fn strings(what: &str, array: &rhai::Array) -> Result<Vec<String>> {
    array
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.clone()
                .into_string()
                .map_err(|t| Error::invalid(what, format!("element {i} is a {t}, not a string")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    #[test]
    fn unknown_keys_name_the_allowed_ones() {
        let err = Options::new(
            "lhco_toy",
            map(&[("sgnal", Dynamic::from(3_i64))]),
            &["signal", "background"],
        )
        .err()
        .unwrap()
        .to_string();
        assert_eq!(
            err,
            "invalid option 'sgnal' of lhco_toy: unknown option; the options are signal, background"
        );
    }

    #[test]
    fn values_are_type_checked() {
        let o = Options::new(
            "f",
            map(&[
                ("n", Dynamic::from(3_i64)),
                ("x", Dynamic::from(2_i64)),
                ("s", Dynamic::from("hi")),
                ("neg", Dynamic::from(-1_i64)),
            ]),
            &["n", "x", "s", "neg", "absent"],
        )
        .unwrap();
        assert_eq!(o.count("n", 0).unwrap(), 3);
        assert_eq!(o.float("x", 0.0).unwrap(), 2.0);
        assert_eq!(o.string("s", "").unwrap(), "hi");
        assert_eq!(o.count("absent", 7).unwrap(), 7);
        assert!(
            o.count("s", 0)
                .unwrap_err()
                .to_string()
                .contains("must be an integer, not string")
        );
        assert!(
            o.count("neg", 0)
                .unwrap_err()
                .to_string()
                .contains("-1 is negative")
        );
        assert!(o.seed("neg").is_err());
        assert!(o.string("n", "").is_err());
    }

    #[test]
    fn arrays_convert_with_positions() {
        let a: rhai::Array = vec![Dynamic::from(1_i64), Dynamic::from(2.5_f64)];
        assert_eq!(floats("values", &a).unwrap(), vec![1.0, 2.5]);
        let bad: rhai::Array = vec![Dynamic::from(1_i64), Dynamic::from("x")];
        assert!(
            floats("values", &bad)
                .unwrap_err()
                .to_string()
                .contains("element 1 is a string")
        );
        assert!(strings("names", &a).is_err());
    }
}
