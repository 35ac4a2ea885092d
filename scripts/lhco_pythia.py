#!/usr/bin/env python3
"""Generate LHC Olympics R&D-like events with Pythia 8 in the LHCO raw-particle layout.

Run it through `scripts/lhco-pythia`, which creates the Python environment it needs
(`scripts/pythia-env`: pythia8mc, numpy, pandas, PyTables) and passes the arguments on:

    scripts/lhco-pythia qcd    --events 2000 --out qcd.h5
    scripts/lhco-pythia signal --events 500  --out sig.h5 --mz 3500 --mx 500 --my 100
    scripts/lhco-pythia qcd    --events 2000 --out qcd_sim.h5 --variant sim --jobs 4

Each output row is one event: 700 particles x (pT, eta, phi), the hardest first, zero
padded, then the label (1 signal, 0 background): 2101 float64 columns named 0..2100,
saved with pandas `to_hdf` (key `df`) as the organisers saved the R&D file, so that
bumplab's `read_lhco` reads it as the raw layout. The settings, the selection and what
differs from the R&D set are in docs/realistic-samples.md.

`--jobs N` runs N processes, job i seeded with `--seed` + i, each generating its share of
the events into a part file; the parts are merged (in job order) into `--out`, written
through a temporary file and renamed, with a JSON summary beside it (`--out` + `.json`).
A progress line goes to stderr. The parts and Pythia's own output (one log per job) are
in `--out` + `.parts/`, removed after the merge and kept when something fails.
"""

import argparse
import json
import math
import multiprocessing
import os
import queue
import shutil
import sys
import time

PARTICLES = 700          # particle slots per event in the raw layout
COLUMNS = 3 * PARTICLES + 1
X_ID = 9000005           # the heavier daughter X of the W' (charged, so W' -> X Y conserves charge)
Y_ID = 9000006           # the lighter daughter Y (neutral)
MAX_SEED = 900_000_000   # Pythia's largest Random:seed


def physics_settings(args):
    """The Pythia settings of the process and variant asked for, as readString lines."""
    lines = [
        "Beams:eCM = 13000.",
        "Next:numberCount = 0",
        "Next:numberShowEvent = 0",
        "Next:numberShowProcess = 0",
        "Next:numberShowInfo = 0",
        "PartonLevel:MPI = off",  # the R&D set has no multiparton interactions, no pileup
    ]
    if args.process == "qcd":
        lines += ["HardQCD:all = on", f"PhaseSpace:pTHatMin = {args.pthat_min:g}"]
    else:
        lines += signal_settings(args.mz, args.mx, args.my)
    lines += VARIANT_SETTINGS[args.variant]
    return lines


# The variants. "data" is the R&D set's: Pythia's defaults (Monash tune, PDF:pSet 13).
# "sim" is Black Box 1's Pythia settings (LHC Olympics 2020, table 1: another tune and
# PDF, lower alpha_s, other scale factors), which differ from the R&D ones the way the
# organisers made their background differ. "vincia": Vincia's antenna shower instead of the
# default one, everything else as "data" (another shower algorithm, closer to how Herwig
# differs from Pythia; about ten times slower per event).
# Tune:pp comes first: selecting a tune resets the parameters the others set.
VARIANT_SETTINGS = {
    "data": [],
    "sim": [
        "Tune:pp = 3",
        "PDF:pSet = 12",
        "TimeShower:alphaSvalue = 0.118",
        "SpaceShower:alphaSvalue = 0.118",
        "TimeShower:renormMultFac = 0.5",
        "SpaceShower:renormMultFac = 0.5",
        "TimeShower:factorMultFac = 1.5",
        "SpaceShower:factorMultFac = 1.5",
        "TimeShower:pTmaxMatch = 2",
        "SpaceShower:pTmaxMatch = 2",
    ],
    "vincia": ["PartonShowers:model = 2"],
}


def signal_settings(mz, mx, my):
    """W'(mz) -> X(mx) Y(my), X -> u dbar / c sbar, Y -> q qbar (u, d, s, c, b alike).

    X and Y are new spin-0 resonances with a width of 1% of their mass; the W' width is set
    to 1% of its mass too and its mass is kept within 10% of mz, so that the dijet mass
    peaks near mz without the low-mass tail parton luminosities would give a broad W'.
    """
    lines = [
        "NewGaugeBoson:ffbar2Wprime = on",
        f"{X_ID}:new = X X_bar 1 3 0 {mx:g} {0.01 * mx:g} {0.9 * mx:g} {1.1 * mx:g} 0.",
        f"{X_ID}:isResonance = on",
        f"{X_ID}:oneChannel = 1 0.5 100 2 -1",
        f"{X_ID}:addChannel = 1 0.5 100 4 -3",
        f"{Y_ID}:new = Y void 1 0 0 {my:g} {0.01 * my:g} {0.9 * my:g} {1.1 * my:g} 0.",
        f"{Y_ID}:isResonance = on",
        f"{Y_ID}:oneChannel = 1 0.2 100 1 -1",
    ]
    lines += [f"{Y_ID}:addChannel = 1 0.2 100 {q} -{q}" for q in (2, 3, 4, 5)]
    lines += [
        f"34:m0 = {mz:g}",
        f"34:mWidth = {0.01 * mz:g}",
        "34:doForceWidth = on",
        f"34:mMin = {0.9 * mz:g}",
        f"34:mMax = {1.1 * mz:g}",
        "34:onMode = off",
        f"34:addChannel = 1 1.0 100 {X_ID} {Y_ID}",
    ]
    return lines


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="lhco-pythia",
        description="Pythia 8 events in the LHC Olympics raw-particle layout "
        "(docs/realistic-samples.md).",
    )
    parser.add_argument("process", choices=["qcd", "signal"],
                        help="qcd: dijets (label 0); signal: W' -> X Y -> 4 quarks (label 1)")
    parser.add_argument("--events", type=int, required=True,
                        help="number of selected events to write")
    parser.add_argument("--out", required=True, help="output HDF5 file (pandas, key 'df')")
    parser.add_argument("--variant", choices=list(VARIANT_SETTINGS), default="data",
                        help="data: Pythia's defaults (the R&D set's); sim: Black Box 1's "
                        "Pythia settings; vincia: Vincia's shower (default: data)")
    parser.add_argument("--jobs", type=int, default=1, help="processes in parallel (default 1)")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of job 0; job i uses seed + i (default 1)")
    parser.add_argument("--mz", type=float, default=3500.0, help="W' mass in GeV (default 3500)")
    parser.add_argument("--mx", type=float, default=500.0, help="X mass in GeV (default 500)")
    parser.add_argument("--my", type=float, default=100.0, help="Y mass in GeV (default 100)")
    parser.add_argument("--pthat-min", type=float, default=800.0,
                        help="qcd: PhaseSpace:pTHatMin in GeV (default 800: about 3%% of "
                        "the selected events have a lower pTHat)")
    parser.add_argument("--jet-pt-min", type=float, default=1200.0,
                        help="keep events with an anti-kT R=1 jet above this pT in GeV, "
                        "|eta| < --eta-max; 0 keeps every event (default 1200)")
    parser.add_argument("--eta-max", type=float, default=2.5,
                        help="particles (and the selection jet) within |eta| < this (default 2.5)")
    parser.add_argument("--particle-pt-min", type=float, default=0.5,
                        help="particles above this pT in GeV (default 0.5)")
    parser.add_argument("--format", choices=["fixed", "table"], default="fixed",
                        help="pandas HDF5 format: fixed (as the organisers' files; the merge "
                        "holds all events in memory, 17 kB each) or table (merged part by "
                        "part) (default fixed)")
    parser.add_argument("--complevel", type=int, default=5,
                        help="zlib compression level 0-9 (default 5)")
    args = parser.parse_args(argv)
    problems = []
    if args.events < 1:
        problems.append("--events must be at least 1")
    if args.jobs < 1:
        problems.append("--jobs must be at least 1")
    if args.jobs > args.events:
        problems.append(f"--jobs {args.jobs} is more than --events {args.events}")
    if not 0 <= args.seed or args.seed + args.jobs - 1 > MAX_SEED:
        problems.append(f"--seed must lie in 0..{MAX_SEED - args.jobs + 1} for {args.jobs} jobs")
    if not (0 < args.mx and 0 < args.my and 1.1 * (args.mx + args.my) < 0.9 * args.mz < 13000):
        problems.append("masses need 0 < --mx, 0 < --my, 1.1 (--mx + --my) < 0.9 --mz < 13000")
    if not 0 < args.pthat_min < 6500.0:
        problems.append("--pthat-min must lie in (0, 6500)")
    if not (0 <= args.jet_pt_min and 0 < args.eta_max and 0 <= args.particle_pt_min):
        problems.append("--jet-pt-min and --particle-pt-min must be >= 0, --eta-max > 0")
    if not 0 <= args.complevel <= 9:
        problems.append("--complevel must lie in 0..9")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        problems.append(f"the directory of --out does not exist: {out_dir}")
    elif os.path.lexists(args.out) and not os.path.isfile(args.out):
        problems.append(f"--out exists and is not a regular file: {args.out}")
    if problems:
        parser.error("; ".join(problems))
    return args


def event_row(event, label, eta_max, pt_min):
    """One event's raw-layout row: the visible final-state particles within |eta| < eta_max
    and above pt_min, hardest first, at most PARTICLES of them, zero padded, then label."""
    import numpy as np

    found = [
        (p.pT(), p.eta(), p.phi())
        for p in event
        if p.isFinal() and p.isVisible() and p.pT() > pt_min and abs(p.eta()) < eta_max
    ]
    found.sort(reverse=True)
    row = np.zeros(COLUMNS)
    kept = np.asarray(found[:PARTICLES], dtype=np.float64).reshape(-1)
    row[: kept.size] = kept
    row[-1] = label
    return row, len(found)


def run_job(args, job, count, part_path, log_path, reports):
    """Generates `count` selected events with seed args.seed + job into part_path
    (an .npy file), sending (job, generated, selected) to reports as it goes."""
    try:
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)  # Pythia writes to the C++ standard output
        os.dup2(log, 2)
        import numpy as np
        import pythia8mc

        pythia = pythia8mc.Pythia("", False)
        settings = physics_settings(args) + [
            "Random:setSeed = on",
            f"Random:seed = {args.seed + job}",
        ]
        for line in settings:
            if not pythia.readString(line):
                raise RuntimeError(f"Pythia refused the setting '{line}'")
        if not pythia.init():
            raise RuntimeError("Pythia's initialisation failed")
        jets = pythia8mc.SlowJet(-1, 1.0, max(args.jet_pt_min, 1.0), args.eta_max, 2, 2)
        label = 1.0 if args.process == "signal" else 0.0
        rows = np.zeros((count, COLUMNS))
        generated = selected = failures = truncated = 0
        last = time.monotonic()
        while selected < count:
            if not pythia.next():
                failures += 1
                if failures > 100 + count:
                    raise RuntimeError(f"Pythia failed {failures} times (see its log)")
                continue
            generated += 1
            if args.jet_pt_min > 0:
                jets.analyze(pythia.event)
                if not any(
                    jets.pT(i) > args.jet_pt_min and abs(jets.p(i).eta()) < args.eta_max
                    for i in range(jets.sizeJet())
                ):
                    continue
            rows[selected], found = event_row(
                pythia.event, label, args.eta_max, args.particle_pt_min
            )
            truncated += found > PARTICLES
            selected += 1
            now = time.monotonic()
            if now - last > 0.5 or selected == count:
                reports.put(("progress", job, generated, selected))
                last = now
        np.save(part_path, rows)
        info = pythia.infoPython()
        pythia.stat()
        reports.put(("done", job, {
            "seed": args.seed + job,
            "generated": generated,
            "selected": selected,
            "failed_next": failures,
            "truncated_to_700": truncated,
            "sigma_gen_mb": info.sigmaGen(),
            "sigma_err_mb": info.sigmaErr(),
        }))
    except BaseException as error:  # reported to the parent, which stops the run
        reports.put(("error", job, f"{type(error).__name__}: {error}"))


def shares(total, jobs):
    """Events per job: as even as possible, the first jobs taking the remainder."""
    return [total // jobs + (i < total % jobs) for i in range(jobs)]


def format_seconds(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m{seconds % 60:02d}s"


class ProgressLine:
    """Events done / selected, the selection fraction, rate and ETA on stderr: redrawn in
    place on a terminal, otherwise one line every 10 s."""

    def __init__(self, what, total):
        self.what, self.total = what, total
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last_line = 0.0

    def show(self, generated, selected, final=False):
        now = time.monotonic()
        if not (self.tty or final or now - self.last_line >= 10):
            return
        self.last_line = now
        elapsed = max(now - self.start, 1e-9)
        rate = selected / elapsed
        eta = (self.total - selected) / rate if rate > 0 else math.inf
        fraction = 100.0 * selected / generated if generated else 0.0
        line = (f"{self.what}: {selected}/{self.total} selected of {generated} generated "
                f"({fraction:.1f}%), {rate:.1f} selected/s, "
                f"{'took ' + format_seconds(elapsed) if final else 'ETA ' + format_seconds(eta)}")
        if self.tty:
            sys.stderr.write("\r\033[K" + line + ("\n" if final else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def write_output(args, part_paths, path):
    """Merges the parts, in job order, into the pandas HDF5 file `path`."""
    import numpy as np
    import pandas as pd

    columns = pd.RangeIndex(COLUMNS)  # integer column names 0..2100, as in the R&D file
    options = {"complevel": args.complevel, "complib": "zlib"} if args.complevel else {}
    if args.format == "fixed":
        rows = np.concatenate([np.load(p) for p in part_paths])
        frame = pd.DataFrame(rows, columns=columns, copy=False)
        frame.to_hdf(path, key="df", mode="w", **options)
        return
    with pd.HDFStore(path, mode="w", **options) as store:
        start = 0
        for part in part_paths:
            rows = np.load(part)
            index = pd.RangeIndex(start, start + len(rows))
            store.append("df", pd.DataFrame(rows, columns=columns, index=index, copy=False),
                         format="table", index=False)
            start += len(rows)


def write_json(path, value):
    """Writes JSON through a temporary file and a rename."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")
    os.replace(temporary, os.path.realpath(path))


def main(argv):
    args = parse_args(argv)
    target = os.path.realpath(args.out)
    work = f"{target}.parts"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    counts = shares(args.events, args.jobs)
    parts = [os.path.join(work, f"job{i}.npy") for i in range(args.jobs)]
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    workers = [
        context.Process(target=run_job, daemon=True, args=(
            args, i, counts[i], parts[i], os.path.join(work, f"job{i}.log"), reports))
        for i in range(args.jobs)
    ]
    what = f"{args.process} ({args.variant})"
    print(f"{what}: {args.events} events in {args.jobs} job(s), seeds {args.seed}.."
          f"{args.seed + args.jobs - 1}", file=sys.stderr)
    for worker in workers:
        worker.start()
    progress = ProgressLine(what, args.events)
    state = [(0, 0)] * args.jobs
    summaries = [None] * args.jobs
    failure = None
    try:
        while failure is None and any(s is None for s in summaries):
            try:
                message = reports.get(timeout=1.0)
            except queue.Empty:
                dead = [i for i, w in enumerate(workers)
                        if not w.is_alive() and summaries[i] is None]
                if dead and reports.empty():
                    failure = f"job {dead[0]} ended without a result"
                continue
            kind, job = message[0], message[1]
            if kind == "progress":
                state[job] = message[2:]
            elif kind == "done":
                summaries[job] = message[2]
                state[job] = (message[2]["generated"], message[2]["selected"])
            else:
                failure = f"job {job} failed: {message[2]}"
            progress.show(sum(g for g, _ in state), sum(s for _, s in state))
    except KeyboardInterrupt:
        failure = "interrupted"
    if failure is not None:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        print(f"\nlhco-pythia: {failure}; Pythia's logs are in {work}/", file=sys.stderr)
        return 1
    for worker in workers:
        worker.join()
    progress.show(sum(g for g, _ in state), sum(s for _, s in state), final=True)
    elapsed = time.monotonic() - progress.start
    temporary = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{os.getpid()}.tmp")
    try:
        write_output(args, parts, temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    generated = sum(s["generated"] for s in summaries)
    write_json(f"{target}.json", {
        "process": args.process,
        "variant": args.variant,
        "events": args.events,
        "generated": generated,
        "selection_efficiency": args.events / generated,
        "jobs": summaries,
        "options": {k: v for k, v in vars(args).items() if k not in ("out", "jobs")},
        "pythia_settings": physics_settings(args),
        "wall_seconds": round(elapsed, 1),
        "selected_per_second_per_job": round(args.events / elapsed / args.jobs, 2),
    })
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {args.out} ({args.events} events, {os.path.getsize(target) / 1e6:.1f} MB) "
          f"and {args.out}.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
