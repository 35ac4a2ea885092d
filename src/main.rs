//! The `bumplab` command: the REPL (no arguments), the script runner (`run`) and the Jupyter
//! kernel (`kernel`).
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
    /// Where the tensor work runs from the start: "cpu" (the default), "cuda" (the first GPU)
    /// or "cuda:N", as if the script or the REPL began with `device(NAME)`. Without it, the
    /// environment variable BUMPLAB_DEVICE, if set, names the device (REPL and `run`; a
    /// notebook says `device("cuda")` in a cell).
    #[arg(long, global = true, value_name = "NAME")]
    device: Option<String>,
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
    /// Run one unit of a plan (written by `scan_plan` in a script) and write its result
    /// into the plan's directory; a unit already done is skipped.
    RunUnit {
        /// The plan: its directory or its plan.json.
        plan: PathBuf,
        /// The unit (0 to units - 1); without it, the Slurm array task's own index
        /// (SLURM_ARRAY_TASK_ID).
        index: Option<u64>,
    },
    /// Merge the results of a plan's units: print the result and save it to OUT (JSON, or
    /// a Parquet table when OUT ends in .parquet; default: merged.json in the plan's
    /// directory).
    Merge {
        /// The plan: its directory or its plan.json.
        plan: PathBuf,
        /// Where to save the merged result.
        #[arg(long, value_name = "OUT")]
        out: Option<PathBuf>,
    },
    /// The Jupyter kernel for Rhai cells: `kernel install` writes its kernelspec; Jupyter
    /// then starts it as `kernel --connection-file F`.
    Kernel {
        /// The connection file Jupyter wrote (Jupyter passes it; not for typing by hand).
        #[arg(long, value_name = "F")]
        connection_file: Option<PathBuf>,
        #[command(subcommand)]
        action: Option<KernelAction>,
    },
}

#[derive(Subcommand)]
enum KernelAction {
    /// Installs the kernelspec, so that Jupyter offers "bumplab (Rhai)".
    Install {
        /// Into the user's Jupyter data directory (the default).
        #[arg(long, conflicts_with = "prefix")]
        user: bool,
        /// Into PREFIX/share/jupyter (e.g. a virtual environment: --prefix "$VIRTUAL_ENV").
        #[arg(long, value_name = "P")]
        prefix: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Kernel {
        connection_file,
        action,
    }) = cli.command
    {
        if cli.device.is_some() {
            eprintln!(
                "error: the kernel does not take --device: a notebook chooses its device in a \
                 cell, device(\"cuda\")"
            );
            return ExitCode::FAILURE;
        }
        return kernel(connection_file, action);
    }
    let mut session = Session::new();
    let interrupt = session.interrupt();
    if let Err(err) = ctrlc::set_handler(move || interrupt.trigger()) {
        eprintln!("warning: Ctrl-C will not interrupt evaluations: {err}");
    }
    // After the Ctrl-C handler: opening a GPU takes a moment that Ctrl-C must not end.
    if let Some(name) = cli.device.or_else(|| std::env::var("BUMPLAB_DEVICE").ok()) {
        if let Err(err) = session.set_device(&name) {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
        // The session clears its flag when an evaluation starts: a Ctrl-C meanwhile ends here.
        if session.interrupt().is_triggered() {
            eprintln!("interrupted");
            return ExitCode::from(130);
        }
    }
    match cli.command {
        None => match bumplab::repl::run(session) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: the terminal failed: {err}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Kernel { .. }) => unreachable!("handled above"),
        Some(Command::Run { file, seed, args }) => {
            if let Some(seed) = seed {
                session.set_seed(seed);
            }
            session.set_args(args);
            exit_code(session.run_file(&file))
        }
        Some(Command::RunUnit { plan, index }) => {
            let index = match index.map(Ok).unwrap_or_else(slurm_task) {
                Ok(index) => index,
                Err(why) => {
                    eprintln!("error: {why}");
                    return ExitCode::FAILURE;
                }
            };
            session.set_args(vec![plan.display().to_string(), index.to_string()]);
            exit_code(session.eval(
                "run-unit",
                "let i = parse_int(ARGS[1]);\n\
                 let ran = run_unit(plan(ARGS[0]), i);\n\
                 print(if ran { `unit ${i} done` } else { `unit ${i} was already done` });",
            ))
        }
        Some(Command::Merge { plan, out }) => {
            let mut args = vec![plan.display().to_string()];
            args.extend(out.map(|o| o.display().to_string()));
            session.set_args(args);
            exit_code(session.eval(
                "merge",
                "let p = plan(ARGS[0]);\n\
                 let out = if ARGS.len() > 1 { ARGS[1] } else { p.dir + \"/merged.json\" };\n\
                 print(merge_plan(p, out));\n\
                 print(`saved ${out}`);",
            ))
        }
    }
}

/// The process's exit code after an evaluation: 0, 130 when interrupted, else 1 with the
/// error printed.
fn exit_code<T>(outcome: Result<T, bumplab::script::errors::ScriptError>) -> ExitCode {
    match outcome {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(if err.is_interrupted() { 130 } else { 1 })
        }
    }
}

/// The unit of a Slurm job array's task: its SLURM_ARRAY_TASK_ID.
fn slurm_task() -> Result<u64, String> {
    let id = std::env::var("SLURM_ARRAY_TASK_ID").map_err(|_| {
        "give the unit's index, or run inside a Slurm job array (SLURM_ARRAY_TASK_ID)".to_string()
    })?;
    id.parse()
        .map_err(|_| format!("SLURM_ARRAY_TASK_ID '{id}' is not a unit index"))
}

/// `bumplab kernel`: installs the kernelspec or runs the kernel.
fn kernel(connection_file: Option<PathBuf>, action: Option<KernelAction>) -> ExitCode {
    use bumplab::kernel::install::{InstallTarget, install};
    let outcome = match (action, connection_file) {
        (Some(KernelAction::Install { prefix, .. }), _) => {
            let target = prefix.map_or(InstallTarget::User, InstallTarget::Prefix);
            std::env::current_exe()
                .map_err(|err| bumplab::Error::io("locate", "the bumplab executable", err))
                .and_then(|program| install(&target, &program))
                .map(|dir| println!("installed the bumplab kernelspec in {}", dir.display()))
                .map_err(|err| err.to_string())
        }
        (None, Some(file)) => bumplab::kernel::run(&file).map_err(|err| err.to_string()),
        (None, None) => {
            Err("give --connection-file F (Jupyter does), or `bumplab kernel install`".into())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
