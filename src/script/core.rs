//! The `core` domain: session seed, help and version.

use rhai::plugin::*;

use super::domain::Domain;

/// The `core` domain.
pub const DOMAIN: Domain = Domain {
    name: "core",
    about: "session seed, help, checks and version",
    options: Vec::new,
    module: || exported_module!(core_api),
};

#[export_module]
mod core_api {
    use crate::error::Error;
    use crate::script::state::session_state;
    use rhai::INT;

    /// Sets the session seed. Every random built-in draws its own stream from this seed in
    /// the order it is called, so a script that starts with `seed(n)` gives the same numbers
    /// on every run. `n` must be a non-negative integer.
    ///
    /// Example: `seed(7);`
    #[rhai_fn(return_raw)]
    pub fn seed(ctx: NativeCallContext, n: INT) -> Result<(), Box<EvalAltResult>> {
        let seed = u64::try_from(n)
            .map_err(|_| Error::invalid("seed", format!("{n} is negative; use a seed >= 0")))?;
        session_state(&ctx)?
            .seeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reseed(seed);
        Ok(())
    }

    /// Returns the current session seed (set by `seed(n)`; a fixed default otherwise, so
    /// scripts are reproducible even without it).
    #[rhai_fn(name = "seed", return_raw)]
    pub fn current_seed(ctx: NativeCallContext) -> Result<INT, Box<EvalAltResult>> {
        let seed = session_state(&ctx)?
            .seeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seed();
        Ok(seed as INT)
    }

    /// Lists the built-ins grouped by domain, one line each.
    ///
    /// `help("name")` shows the signature and documentation of one of them.
    #[rhai_fn(return_raw)]
    pub fn help(ctx: NativeCallContext) -> Result<(), Box<EvalAltResult>> {
        let state = session_state(&ctx)?;
        state.print(state.catalog.index_text().trim_end());
        Ok(())
    }

    /// Shows the signature(s) and documentation of the built-in `name`, e.g. `help("seed")`.
    #[rhai_fn(name = "help", return_raw)]
    pub fn help_for(ctx: NativeCallContext, name: &str) -> Result<(), Box<EvalAltResult>> {
        let state = session_state(&ctx)?;
        match state.catalog.help_text(name) {
            Some(text) => {
                state.print(text.trim_end());
                Ok(())
            }
            None => {
                let close = state.catalog.suggestions(name);
                let hint = if close.is_empty() {
                    "help() lists every built-in".to_string()
                } else {
                    format!("did you mean {}?", close.join(", "))
                };
                Err(Error::invalid(
                    "help topic",
                    format!("no built-in is called '{name}'; {hint}"),
                )
                .into())
            }
        }
    }

    /// Stops the script with an error unless `condition` is true: a sanity check in an
    /// analysis, e.g. `assert(events.len() > 0, "the selection kept no events")`.
    #[rhai_fn(return_raw)]
    pub fn assert(condition: bool, message: &str) -> Result<(), Box<EvalAltResult>> {
        if condition {
            Ok(())
        } else {
            Err(format!("assertion failed: {message}").into())
        }
    }

    /// Stops the script with an error unless `condition` is true.
    #[rhai_fn(name = "assert", return_raw)]
    pub fn assert_plain(condition: bool) -> Result<(), Box<EvalAltResult>> {
        if condition {
            Ok(())
        } else {
            Err("assertion failed".into())
        }
    }

    /// Returns the bumplab version, e.g. "0.1.0".
    pub fn version() -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }
}
