//! The `bumplab` command: the REPL (no arguments) and the script runner (`run`).
//! Argument parsing and wiring only; everything else lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use bumplab::script::Session;
use clap::{Parser, Subcommand};

/// An interactive lab for model-agnostic searches for new physics at the LHC.
///
/// Without a command, opens the interactive REPL.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a Rhai script.
    Run {
        /// The script to run.
        file: PathBuf,
        /// The session seed (as if the script started with `seed(N)`).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Arguments for the script, given after `--`; the script sees them as the array ARGS.
        #[arg(last = true, value_name = "ARGS")]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut session = Session::new();
    let interrupt = session.interrupt();
    if let Err(err) = ctrlc::set_handler(move || interrupt.trigger()) {
        eprintln!("warning: Ctrl-C will not interrupt evaluations: {err}");
    }
    match cli.command {
        None => match bumplab::repl::run(session) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: the terminal failed: {err}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Run { file, seed, args }) => {
            if let Some(seed) = seed {
                session.set_seed(seed);
            }
            session.set_args(args);
            match session.run_file(&file) {
                Ok(_) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("{err}");
                    ExitCode::from(if err.is_interrupted() { 130 } else { 1 })
                }
            }
        }
    }
}
