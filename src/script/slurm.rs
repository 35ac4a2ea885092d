//! `submit_plan(plan, #{ ... })`: a plan's pending units as a Slurm job array
//! (`crate::slurm`), with its resources as options, waiting with a progress bar or not.

use std::time::Duration;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use super::declared::{Declared, Opt};
use super::domain::OptionTable;
use crate::batch::Plan;
use crate::error::Error;
use crate::script::state::session_state;
use crate::script::values::Out;
use crate::slurm::{SlurmOptions, Submission, submit, wait};

/// The module of `submit_plan`.
pub fn module() -> Module {
    exported_module!(slurm_api)
}

/// The option tables of this module's built-ins.
pub(super) fn tables() -> Vec<Box<dyn OptionTable>> {
    vec![Box::new(submit_options())]
}

/// What `submit_plan` takes: the array's resources, and whether and how often to wait.
#[derive(Clone, Debug)]
struct SubmitArgs {
    slurm: SlurmOptions,
    executable: String,
    wait: bool,
    poll: f64,
}

impl Default for SubmitArgs {
    fn default() -> Self {
        Self {
            slurm: SlurmOptions {
                cpus: 1,
                ..SlurmOptions::default()
            },
            executable: String::new(),
            wait: false,
            poll: 10.0,
        }
    }
}

/// The declared options of `submit_plan`.
fn submit_options() -> Declared<SubmitArgs> {
    Declared::new(
        "submit_plan",
        SubmitArgs::default,
        vec![
            Opt::field(
                "cpus",
                "CPUs per task (--cpus-per-task)",
                |a: &mut SubmitArgs| &mut a.slurm.cpus,
            ),
            Opt::field("memory", "memory per task (--mem), e.g. \"8G\"", |a| {
                &mut a.slurm.memory
            }),
            Opt::field(
                "time",
                "time limit per task (--time), e.g. \"02:00:00\"",
                |a| &mut a.slurm.time,
            ),
            Opt::field("partition", "the partition (--partition)", |a| {
                &mut a.slurm.partition
            }),
            Opt::field("account", "the account charged (--account)", |a| {
                &mut a.slurm.account
            }),
            Opt::field(
                "max_running",
                "at most this many tasks at once (--array=...%N)",
                |a| &mut a.slurm.max_running,
            ),
            Opt::field(
                "job_name",
                "the job's name; bumplab-<plan directory> when absent",
                |a| &mut a.slurm.job_name,
            ),
            Opt::field(
                "extra",
                "further sbatch arguments as they are, e.g. [\"--qos=short\", \"--gres=gpu:1\"]",
                |a| &mut a.slurm.extra,
            ),
            Opt::field(
                "executable",
                "the bumplab the tasks run (reachable from the compute nodes); this one when empty",
                |a| &mut a.executable,
            ),
            Opt::field(
                "wait",
                "wait for every unit with a progress bar (Ctrl-C stops the waiting, not the job)",
                |a| &mut a.wait,
            ),
            Opt::field(
                "poll",
                "seconds between looks at the plan's directory while waiting",
                |a| &mut a.poll,
            ),
        ],
    )
}

/// A submission as the map `submit_plan` returns.
fn submission_map(s: &Submission) -> Map {
    let mut map = Map::new();
    map.insert("job".into(), s.job.clone().into());
    map.insert(
        "units".into(),
        Dynamic::from_array(
            s.units
                .iter()
                .map(|&u| Dynamic::from_int(u as rhai::INT))
                .collect::<Array>(),
        ),
    );
    map.insert("array".into(), s.array.clone().into());
    map.insert("logs".into(), s.logs.display().to_string().into());
    map
}

#[export_module]
mod slurm_api {
    use super::*;

    /// Submits the units of `plan` without a result as one Slurm job array (`sbatch
    /// --array`; each task runs `bumplab run-unit PLAN`, its array index the unit) and
    /// returns `#{ job, units, array, logs }`. Options: `cpus`, `memory`, `time`,
    /// `partition`, `account`, `max_running`, `job_name`, `extra` (further sbatch arguments),
    /// `executable`; with `wait: true` it follows the plan's directory with a progress bar
    /// until every unit has its result (an error naming the units without one, and where
    /// their output is, when the job ends first). Then `merge_plan(plan)`. Run it on a
    /// machine of the cluster, with the plan on a filesystem the compute nodes share.
    #[rhai_fn(name = "submit_plan", return_raw)]
    pub fn submit_plan(ctx: NativeCallContext, plan: Plan, opts: Map) -> Out<Map> {
        let mut args = submit_options().parse_in(&ctx, opts)?;
        if !(args.poll.is_finite() && args.poll > 0.0) {
            return Err(Error::invalid(
                "option 'poll' of submit_plan",
                format!("{} is not a number of seconds > 0", args.poll),
            )
            .into());
        }
        if !args.executable.is_empty() {
            args.slurm.executable = Some(args.executable.clone().into());
        }
        let submission = submit(&plan, &args.slurm)?;
        if args.wait {
            let interrupt = session_state(&ctx)?.interrupt.clone();
            wait(
                &plan,
                &submission,
                Duration::from_secs_f64(args.poll),
                Some(&interrupt),
            )?;
        }
        Ok(submission_map(&submission))
    }

    /// `submit_plan(plan, #{})`: one CPU per task, the cluster's defaults, not waiting.
    #[rhai_fn(name = "submit_plan", return_raw)]
    pub fn submit_plan_defaults(ctx: NativeCallContext, plan: Plan) -> Out<Map> {
        submit_plan(ctx, plan, Map::new())
    }
}
