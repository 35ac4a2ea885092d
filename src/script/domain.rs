//! Domains: the unit in which built-ins are registered, documented and listed by `help()`.
//!
//! Adding built-ins for a new area of the product means writing one module under
//! `src/script/` with a `#[export_module]` Rhai module (each function's Rust doc comment is its
//! `help` text) and a [`Domain`] constant, and adding that constant to the session's list
//! (`session::DOMAINS`).

use rhai::Module;

use super::declared::OptionTable;

/// A group of related built-ins.
pub struct Domain {
    /// Short name shown as a heading by `help()`, e.g. `core`.
    pub name: &'static str,
    /// One line saying what the domain is for.
    pub about: &'static str,
    /// Builds the Rhai module holding the domain's types and functions.
    pub module: fn() -> Module,
    /// The declared options of its built-ins that take an options map; `help` shows each
    /// table after the built-in's doc comment.
    pub options: fn() -> Vec<Box<dyn OptionTable>>,
}
