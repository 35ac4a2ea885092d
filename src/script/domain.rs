//! Domains: the unit in which built-ins are registered, documented and listed by `help()`.
//!
//! Adding built-ins for a new area of the product means writing one module under
//! `src/script/` with a `#[export_module]` Rhai module (each function's Rust doc comment is its
//! `help` text) and a [`Domain`] constant, and adding that constant to the session's list
//! (`session::DOMAINS`).

use rhai::Module;

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

/// What `help` and the tests need of a built-in's declared options, whatever its struct.
pub trait OptionTable {
    /// The built-in's name.
    fn function(&self) -> &'static str;
    /// The type of the value the built-in is called on, where its options depend on it
    /// (see `Declared::on`).
    fn receiver(&self) -> Option<&'static str>;
    /// The table `help` appends to the built-in's doc (after a heading): a line per option
    /// with its kind, default and doc.
    fn table(&self) -> String;
    /// Checks that each option's shown default, given back as the option, parses to what no
    /// option at all parses to: that the default shown is the one the built-in starts from.
    fn check_defaults(&self) -> std::result::Result<(), String>;
}
