//! The interactive REPL: reedline in front of a [`Session`].
//!
//! Each accepted input is evaluated in the session; the value of an expression is printed
//! (a trailing `;` suppresses it, as in IPython), errors are printed with their position and
//! the session carries on. Ctrl-C at the prompt clears the line; during an evaluation it
//! triggers the session's interrupt flag (the caller installs the signal handler).

mod commands;
mod editor;

use std::sync::{Arc, Mutex};

use reedline::Signal;
use rhai::Dynamic;

use crate::script::{ScriptError, Session};

pub use editor::history_path;

/// Runs the REPL on `session` until `:quit` or Ctrl-D.
pub fn run(mut session: Session) -> std::io::Result<()> {
    let context = Arc::new(Mutex::new(session.completion_context()));
    let mut editor = editor::build(session.state().catalog.clone(), context.clone());
    println!(
        "bumplab {} — help() lists the built-ins, :help the REPL commands, Ctrl-D quits.",
        env!("CARGO_PKG_VERSION")
    );
    loop {
        match editor.read_line(&editor::ReplPrompt)? {
            Signal::Success(line) if line.trim().is_empty() => {}
            Signal::Success(line) if line.trim_start().starts_with(':') => {
                if commands::run(&mut session, &line) == commands::Flow::Quit {
                    break;
                }
            }
            Signal::Success(line) => {
                let outcome = session.eval("<repl>", &line);
                show_outcome(&session, &line, outcome);
            }
            Signal::CtrlD => break,
            _ => continue,
        }
        *context.lock().unwrap_or_else(|e| e.into_inner()) = session.completion_context();
    }
    Ok(())
}

/// Prints an evaluation's value (unless it is unit or `code` ends with `;`) or its error.
fn show_outcome(session: &Session, code: &str, outcome: Result<Dynamic, ScriptError>) {
    match outcome {
        Ok(value) if value.is_unit() || code.trim_end().ends_with(';') => {}
        Ok(value) => println!("{}", session.display(&value)),
        Err(err) => eprintln!("{err}"),
    }
}
