//! A plan's units as a Slurm job array (docs/batch.md): [`submit`] runs `sbatch --array`
//! over the units still pending, each task `bumplab run-unit PLAN` (a task's array index is
//! its unit); [`wait`] follows the plan's directory until every submitted unit has its result
//! or the job has left the queue.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::batch::Plan;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::progress::Progress;

/// What each task of the array asks Slurm for, and how it is started.
#[derive(Clone, Debug, Default)]
pub struct SlurmOptions {
    /// CPUs per task (`--cpus-per-task`).
    pub cpus: usize,
    /// Memory per task (`--mem`, e.g. "8G"); Slurm's default when `None`.
    pub memory: Option<String>,
    /// Time limit per task (`--time`, e.g. "02:00:00"); the partition's when `None`.
    pub time: Option<String>,
    /// The partition (`--partition`); the cluster's default when `None`.
    pub partition: Option<String>,
    /// The account charged (`--account`).
    pub account: Option<String>,
    /// At most this many tasks at once (`--array=...%N`).
    pub max_running: Option<usize>,
    /// The job's name (`--job-name`); "bumplab-" and the plan directory's name when `None`.
    pub job_name: Option<String>,
    /// Further `sbatch` arguments, as they are (e.g. "--qos=short", "--gres=gpu:1").
    pub extra: Vec<String>,
    /// The bumplab executable the tasks run (it must be reachable from the compute nodes);
    /// this process's own when `None`.
    pub executable: Option<PathBuf>,
}

/// A submitted job array.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    /// Slurm's job id.
    pub job: String,
    /// The units submitted (those pending at submission), in order.
    pub units: Vec<usize>,
    /// The `--array` index list, e.g. "0-3,7,9-11".
    pub array: String,
    /// Where the tasks' output goes (`unit-N.out`, N the unit).
    pub logs: PathBuf,
}

/// `units` (ascending) as a Slurm array index list: runs of consecutive units as ranges,
/// e.g. [0, 1, 2, 3, 7, 9, 10, 11] as "0-3,7,9-11".
pub fn array_ranges(units: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < units.len() {
        let mut j = i;
        while j + 1 < units.len() && units[j + 1] == units[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            units[i].to_string()
        } else {
            format!("{}-{}", units[i], units[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// The `sbatch` arguments that submit `units` of the plan in `dir` (an absolute path) with
/// `opts`, logs under `logs`, running `executable`.
pub fn sbatch_arguments(
    dir: &Path,
    units: &[usize],
    opts: &SlurmOptions,
    executable: &Path,
    logs: &Path,
) -> Vec<String> {
    let name = opts.job_name.clone().unwrap_or_else(|| {
        let plan = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        format!("bumplab-{}", plan.unwrap_or_else(|| "plan".into()))
    });
    let mut array = array_ranges(units);
    if let Some(n) = opts.max_running {
        array.push_str(&format!("%{n}"));
    }
    let mut args = vec![
        "--parsable".to_string(),
        format!("--job-name={name}"),
        format!("--array={array}"),
        format!("--cpus-per-task={}", opts.cpus.max(1)),
        format!("--output={}", logs.join("unit-%a.out").display()),
        format!("--chdir={}", dir.display()),
    ];
    for (flag, value) in [
        ("--mem", &opts.memory),
        ("--time", &opts.time),
        ("--partition", &opts.partition),
        ("--account", &opts.account),
    ] {
        if let Some(v) = value {
            args.push(format!("{flag}={v}"));
        }
    }
    args.extend(opts.extra.iter().cloned());
    args.push("--wrap".into());
    args.push(format!(
        "{} run-unit {}",
        shell_quoted(&executable.display().to_string()),
        shell_quoted(&dir.display().to_string())
    ));
    args
}

/// `text` quoted for the shell that runs `--wrap`'s command.
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Submits the units of `plan` without a result as one Slurm job array; an error when every
/// unit is done, when `sbatch` is missing, or with what `sbatch` said when it refuses.
pub fn submit(plan: &Plan, opts: &SlurmOptions) -> Result<Submission> {
    let units = plan.pending();
    if units.is_empty() {
        return Err(Error::invalid(
            "plan",
            format!(
                "every unit of the plan in {} has its result: nothing to submit (merge_plan)",
                plan.dir.display()
            ),
        ));
    }
    let dir = std::fs::canonicalize(&plan.dir).map_err(|e| Error::io("find", &plan.dir, e))?;
    let executable = match &opts.executable {
        Some(e) => e.clone(),
        None => {
            std::env::current_exe().map_err(|e| Error::io("find", "the bumplab executable", e))?
        }
    };
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| Error::io("create", &logs, e))?;
    let args = sbatch_arguments(&dir, &units, opts, &executable, &logs);
    let out = Command::new("sbatch").args(&args).output().map_err(|e| {
        Error::invalid(
            "Slurm",
            format!("cannot run sbatch ({e}): submit from a machine of the Slurm cluster"),
        )
    })?;
    if !out.status.success() {
        return Err(Error::invalid(
            "Slurm",
            format!(
                "sbatch refused the array ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    // `--parsable` prints "id" or "id;cluster".
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job = stdout
        .trim()
        .split(';')
        .next()
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| {
            Error::invalid(
                "Slurm",
                format!("sbatch printed no job id: '{}'", stdout.trim()),
            )
        })?
        .to_string();
    Ok(Submission {
        job,
        array: array_ranges(&units),
        units,
        logs,
    })
}

/// Whether job `job` still has tasks in Slurm's queue (pending, running or completing).
fn in_queue(job: &str) -> Result<bool> {
    let out = Command::new("squeue")
        .args(["-h", "-j", job, "-o", "%i"])
        .output()
        .map_err(|e| Error::invalid("Slurm", format!("cannot run squeue: {e}")))?;
    // squeue fails on a job id it has already forgotten: out of the queue.
    Ok(out.status.success() && !String::from_utf8_lossy(&out.stdout).trim().is_empty())
}

/// Follows `submission` of `plan` with a progress bar, checking every `poll`: returns when
/// every submitted unit has its result; an error naming the units without one (and their
/// logs) when the job has left the queue before. Ctrl-C (`interrupt`) stops the waiting,
/// not the job.
pub fn wait(
    plan: &Plan,
    submission: &Submission,
    poll: Duration,
    interrupt: Option<&Interrupt>,
) -> Result<()> {
    let missing = || -> Vec<usize> {
        submission
            .units
            .iter()
            .copied()
            .filter(|&u| !plan.is_done(u))
            .collect()
    };
    let progress = Progress::new(
        format!(
            "Slurm job {} ({} units of the plan in {})",
            submission.job,
            submission.units.len(),
            plan.dir.display()
        ),
        submission.units.len() as u64,
    );
    loop {
        let left = missing();
        let done = (submission.units.len() - left.len()) as u64;
        progress.advance(done.saturating_sub(progress.done()));
        if left.is_empty() {
            return Ok(());
        }
        if !in_queue(&submission.job)? {
            // A unit may have finished between the two looks.
            let left = missing();
            if left.is_empty() {
                return Ok(());
            }
            let shown: Vec<String> = left.iter().take(10).map(|u| u.to_string()).collect();
            return Err(Error::invalid(
                "Slurm",
                format!(
                    "job {} left the queue with {} of {} units without a result (units {}{}); their output is in {}/unit-N.out",
                    submission.job,
                    left.len(),
                    submission.units.len(),
                    shown.join(", "),
                    if left.len() > 10 { ", ..." } else { "" },
                    submission.logs.display()
                ),
            ));
        }
        let started = Instant::now();
        while started.elapsed() < poll {
            if let Some(i) = interrupt {
                i.check()?;
            }
            std::thread::sleep(Duration::from_millis(100).min(poll));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_become_compact_array_ranges() {
        assert_eq!(array_ranges(&[0, 1, 2, 3, 7, 9, 10, 11]), "0-3,7,9-11");
        assert_eq!(array_ranges(&[5]), "5");
        assert_eq!(array_ranges(&[2, 4]), "2,4");
        assert_eq!(array_ranges(&[]), "");
    }

    #[test]
    fn the_sbatch_line_carries_every_resource_and_quotes_the_command() {
        let opts = SlurmOptions {
            cpus: 4,
            memory: Some("8G".into()),
            time: Some("02:00:00".into()),
            partition: Some("short".into()),
            max_running: Some(10),
            extra: vec!["--qos=low".into()],
            ..SlurmOptions::default()
        };
        let args = sbatch_arguments(
            Path::new("/data/my plan"),
            &[0, 1, 2, 5],
            &opts,
            Path::new("/opt/bumplab"),
            Path::new("/data/my plan/logs"),
        );
        for expected in [
            "--parsable",
            "--job-name=bumplab-my plan",
            "--array=0-2,5%10",
            "--cpus-per-task=4",
            "--mem=8G",
            "--time=02:00:00",
            "--partition=short",
            "--qos=low",
            "--output=/data/my plan/logs/unit-%a.out",
            "--chdir=/data/my plan",
        ] {
            assert!(args.iter().any(|a| a == expected), "{expected} in {args:?}");
        }
        assert!(!args.iter().any(|a| a.starts_with("--account")));
        assert_eq!(
            args[args.len() - 2..],
            ["--wrap", "'/opt/bumplab' run-unit '/data/my plan'"]
        );
    }
}
