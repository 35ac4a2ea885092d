//! The Rhai scripting layer: the engine, one registration module per domain, and the pieces
//! every front end (script runner, REPL, notebook kernel) shares — sessions, errors with
//! positions, help, completion and input analysis.
//!
//! Nothing below this layer knows Rhai exists; this layer holds no numerics of its own.

mod anode;
mod anomaly;
mod batch;
mod bumphunter;
pub mod catalog;
mod cathode;
pub mod complete;
mod core;
mod cwola_options;
pub mod declared;
mod deep_set_vae;
mod dm_evaluate;
pub mod domain;
pub mod errors;
mod events;
mod flow_systematics;
mod hunt_plan;
mod injection_scan;
mod inline;
pub mod input;
mod latent_vae;
mod lazy_events;
pub mod limits;
mod methods;
mod metrics;
mod nn;
mod nn_inputs;
mod nn_options;
pub mod options;
mod plan_spec;
mod plot;
mod plot_options;
mod rare_and_different;
mod references;
mod resolver;
mod salad;
mod samples;
mod search_options;
mod session;
mod slurm;
mod stack;
pub mod state;
mod stats;
pub mod stdlib;
mod values;

pub use errors::{ErrorKind, ScriptError};
pub use session::{Session, Variable};
