//! The REPL's colon commands: `:help`, `:vars`, `:time`, `:load`, `:save`, `:quit`.

use std::path::Path;
use std::time::Instant;

use rhai::Dynamic;

use crate::script::{ScriptError, Session};

/// Every command with a one-line description, as `:help` and completion show them.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        ":help",
        "this list of REPL commands (help() lists the built-ins)",
    ),
    (":vars", "variables in scope with their types and values"),
    (
        ":time",
        ":time EXPR — evaluate EXPR and report how long it took",
    ),
    (
        ":load",
        ":load FILE — run a script into the current session",
    ),
    (
        ":save",
        ":save FILE — write this session's accepted inputs as a script",
    ),
    (":quit", "leave the REPL (Ctrl-D does too)"),
];

/// What the REPL should do after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read the next line.
    Continue,
    /// Leave the REPL.
    Quit,
}

/// Runs the command line `line` (starting with `:`), printing its output.
pub fn run(session: &mut Session, line: &str) -> Flow {
    let line = line.trim();
    let (command, argument) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (line, ""),
    };
    match command {
        ":help" => {
            for (name, about) in COMMANDS {
                println!("  {name:<7} {about}");
            }
        }
        ":vars" => list_variables(session),
        ":time" if !argument.is_empty() => {
            let started = Instant::now();
            let outcome = session.eval("<repl>", argument);
            let elapsed = started.elapsed();
            super::show_outcome(session, argument, outcome);
            println!("time: {}", format_duration(elapsed.as_secs_f64()));
        }
        ":load" if !argument.is_empty() => match load(session, Path::new(argument)) {
            Ok(outcome) => super::show_outcome(session, ";", outcome),
            Err(err) => eprintln!("error: {err}"),
        },
        ":save" if !argument.is_empty() => match save(session, Path::new(argument)) {
            Ok(count) => println!("saved {count} inputs to {argument}"),
            Err(err) => eprintln!("error: {err}"),
        },
        ":quit" | ":q" | ":exit" => return Flow::Quit,
        ":time" | ":load" | ":save" => {
            eprintln!("error: {command} needs an argument; :help shows the usage")
        }
        _ => eprintln!("error: unknown command {command}; :help lists the commands"),
    }
    Flow::Continue
}

fn list_variables(session: &Session) {
    let vars = session.variables();
    if vars.is_empty() {
        println!("no variables defined");
        return;
    }
    let name_width = vars.iter().map(|v| v.name.len()).max().unwrap_or(4).max(4);
    let type_width = vars
        .iter()
        .map(|v| v.type_name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:<name_width$}  {:<type_width$}  value", "name", "type");
    for v in vars {
        println!(
            "{:<name_width$}  {:<type_width$}  {}",
            v.name, v.type_name, v.preview
        );
    }
}

/// Runs the script at `path` in `session`. The file is read here, through
/// [`crate::data::input`], so that a named pipe or a device is refused at once rather than
/// waited on (opening a pipe with no writer blocked the REPL, deaf to Ctrl-C).
fn load(session: &mut Session, path: &Path) -> crate::Result<Result<Dynamic, ScriptError>> {
    let code = crate::data::input::read_text(path)?;
    Ok(session.eval(&path.display().to_string(), &code))
}

/// Writes the session's accepted inputs to `path` atomically; returns how many were written.
fn save(session: &Session, path: &Path) -> crate::Result<usize> {
    let inputs = session.accepted_inputs();
    let mut text = String::from("// saved from a bumplab REPL session\n");
    for input in inputs {
        text.push_str(input.trim_end());
        if !input.trim_end().ends_with([';', '}']) {
            text.push(';');
        }
        text.push('\n');
    }
    crate::fsutil::write_atomic(path, text.as_bytes())?;
    Ok(inputs.len())
}

fn format_duration(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.3} s")
    } else if seconds >= 1e-3 {
        format!("{:.3} ms", seconds * 1e3)
    } else {
        format!("{:.1} µs", seconds * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(format_duration(2.5), "2.500 s");
        assert_eq!(format_duration(0.0125), "12.500 ms");
        assert_eq!(format_duration(3e-6), "3.0 µs");
    }

    #[test]
    fn save_writes_accepted_inputs_as_a_runnable_script() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.rhai");
        let mut session = Session::with_output(std::sync::Arc::new(|_: &str| {}));
        let _ = session.eval("<repl>", "let x = 2").unwrap();
        assert!(session.eval("<repl>", "undefined_thing").is_err());
        let _ = session.eval("<repl>", "fn f(a) { a + 1 }").unwrap();
        let _ = session.eval("<repl>", "x = f(x)").unwrap();
        assert_eq!(save(&session, &path).unwrap(), 3);
        let mut replay = Session::with_output(std::sync::Arc::new(|_: &str| {}));
        let _ = replay.run_file(&path).unwrap();
        assert_eq!(replay.eval("<test>", "x").unwrap().as_int().unwrap(), 3);
        let mut loaded = Session::with_output(std::sync::Arc::new(|_: &str| {}));
        let _ = load(&mut loaded, &path).unwrap().unwrap();
        assert_eq!(loaded.eval("<test>", "x").unwrap().as_int().unwrap(), 3);
    }

    #[cfg(unix)]
    #[test]
    fn load_refuses_a_named_pipe_at_once() {
        // `:load zf.rhai` on a pipe with no writer blocked the REPL forever.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("zf.rhai");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let mut session = Session::with_output(std::sync::Arc::new(|_: &str| {}));
        let err = load(&mut session, &fifo).unwrap_err().to_string();
        assert!(err.contains("zf.rhai': it is a named pipe"), "{err}");
    }
}
