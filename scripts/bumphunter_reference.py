#!/usr/bin/env python3
"""Reference numbers from pyBumpHunter 0.5.1 for `tests/bumphunter_reference.rs`.

Requirements (a virtual environment is enough; not installed by this script):

    python3 -m venv ~/.cache/bumplab/pyenv
    ~/.cache/bumplab/pyenv/bin/pip install pyBumpHunter==0.5.1

Run from the repository root:

    ~/.cache/bumplab/pyenv/bin/python scripts/bumphunter_reference.py

For each case below it builds the data and reference histograms with NumPy (fixed seeds),
runs pyBumpHunter's `BumpHunter1D` / `BumpHunter2D` on them as histograms (`is_hist=True`)
with one worker, and writes `tests/fixtures/bumphunter/<case>.json` holding the inputs (edges,
counts, options) and pyBumpHunter's results: the chosen window (first bin and width), its
edges, the local p-value, the test statistic, the signal estimate, the number of
pseudo-experiments at least as extreme and the global p-value and significance.

The local results are deterministic functions of the histograms and must be matched exactly;
the global p-value depends on the random pseudo-experiments (NumPy's stream here, another one
in bumplab), so the Rust test compares it within binomial errors.
"""

import contextlib
import io
import json
import os
import sys

import numpy as np
import pyBumpHunter as BH

OUT = os.path.join("tests", "fixtures", "bumphunter")


def falling(edges, norm, slope):
    """Expected counts of an exponentially falling spectrum, integrated over each bin."""
    lo, hi = edges[:-1], edges[1:]
    return norm * (np.exp(-lo / slope) - np.exp(-hi / slope))


def gaussian(edges, total, mean, sigma):
    """Expected counts of a Gaussian bump, integrated over each bin."""
    from scipy.stats import norm as gauss

    return total * np.diff(gauss.cdf(edges, loc=mean, scale=sigma))


def cases_1d():
    """The 1D cases: (name, edges, data, reference, options)."""
    rng = np.random.default_rng(20261123)
    out = []

    # A 40-bin falling spectrum (the benchmark's shape) with a clear bump.
    edges = np.linspace(0.0, 40.0, 41)
    ref = falling(edges, 40000.0, 8.0)
    data = rng.poisson(ref + gaussian(edges, 250.0, 22.0, 1.5)).astype(float)
    out.append(("falling_bump", edges, data, ref,
                dict(mode="excess", width_min=2, width_max=7, width_step=1, scan_step=1, npe=10000)))

    # The same spectrum without a signal (its own stream): a global p-value far from 0 and 1.
    data = np.random.default_rng(11).poisson(ref).astype(float)
    out.append(("falling_null", edges, data, ref,
                dict(mode="excess", width_min=2, width_max=7, width_step=1, scan_step=1, npe=10000)))

    # A deficit in a flat spectrum, default widths (1 .. nbins // 2).
    edges = np.linspace(100.0, 200.0, 31)
    ref = np.full(30, 400.0)
    expected = ref.copy()
    expected[12:16] *= 0.85
    data = rng.poisson(expected).astype(float)
    out.append(("flat_deficit", edges, data, ref,
                dict(mode="deficit", width_min=1, width_max=None, width_step=1, scan_step=1, npe=5000)))

    # Variable-width bins, a reference scaled from a larger sample (non-integer counts),
    # windows 2..8 in steps of 2 shifted by half their width.
    edges = np.concatenate([np.linspace(0.0, 10.0, 21), np.linspace(11.0, 20.0, 10)])
    big = rng.poisson(5.0 * (falling(edges, 30000.0, 5.0) + 10.0)).astype(float)
    ref = big / 5.0
    data = rng.poisson(ref + gaussian(edges, 120.0, 6.0, 0.6)).astype(float)
    out.append(("variable_bins_half_step", edges, data, ref,
                dict(mode="excess", width_min=2, width_max=8, width_step=2, scan_step="half", npe=5000)))

    # Windows moved by their own width.
    out.append(("variable_bins_full_step", edges, data, ref,
                dict(mode="excess", width_min=3, width_max=6, width_step=1, scan_step="full", npe=5000)))

    # Empty reference bins at both ends (the scan range starts and stops at them) and a
    # reference normalised to the data outside each window (sidebands of 2 bins).
    edges = np.linspace(0.0, 50.0, 51)
    ref = falling(edges, 20000.0, 10.0)
    ref[:3] = 0.0
    ref[-2:] = 0.0
    shape = ref / ref.sum()
    data = rng.poisson(1.3 * ref + gaussian(edges, 200.0, 25.0, 2.0) * (ref > 0)).astype(float)
    out.append(("sideband", edges, data, shape * 1000.0,
                dict(mode="excess", width_min=2, width_max=6, width_step=1, scan_step=1, npe=5000,
                     use_sideband=True, sideband_width=2)))
    return out


def run_1d(name, edges, data, ref, opts):
    """Runs BumpHunter1D and returns the fixture dictionary."""
    hunter = BH.BumpHunter1D(
        rang=[edges[0], edges[-1]],
        bins=edges,
        mode=opts["mode"],
        width_min=opts["width_min"],
        width_max=opts["width_max"],
        width_step=opts["width_step"],
        scan_step=opts["scan_step"],
        npe=opts["npe"],
        nworker=1,
        seed=1234,
        use_sideband=opts.get("use_sideband", False),
        sideband_width=opts.get("sideband_width"),
    )
    with contextlib.redirect_stdout(io.StringIO()):
        hunter.bump_scan(data, ref, is_hist=True)
    loc = int(hunter.min_loc_ar[0])
    width = int(hunter.min_width_ar[0])
    t = hunter.t_ar
    n_extreme = int((t[1:] >= t[0]).sum())
    return {
        "name": name,
        "edges": [float(x) for x in edges],
        "data": [float(x) for x in data],
        "reference": [float(x) for x in ref],
        "options": opts,
        "expected": {
            "start": loc,
            "width": width,
            "window_edges": [float(edges[loc]), float(edges[loc + width])],
            "local_p": float(hunter.min_Pval_ar[0]),
            "t": float(t[0]),
            "signal": float(hunter.signal_eval),
            "n_extreme": n_extreme,
            "global_p": float(hunter.global_Pval),
            "global_z": float(hunter.significance),
        },
    }


def case_2d():
    """A 2D bump on a falling 2D reference."""
    rng = np.random.default_rng(7)
    ex = np.linspace(0.0, 20.0, 21)
    ey = np.linspace(0.0, 10.0, 11)
    fx = falling(ex, 1.0, 6.0)
    fy = falling(ey, 1.0, 4.0)
    ref = 30000.0 * np.outer(fx / fx.sum(), fy / fy.sum())
    sig = np.outer(gaussian(ex, 1.0, 12.0, 1.0), gaussian(ey, 1.0, 3.0, 0.8))
    data = rng.poisson(ref + 150.0 * sig).astype(float)
    opts = dict(mode="excess", width_min=[2, 2], width_max=[4, 3], width_step=[1, 1],
                scan_step=[1, 1], npe=2000)
    hunter = BH.BumpHunter2D(
        rang=[[ex[0], ex[-1]], [ey[0], ey[-1]]],
        bins=[ex, ey],
        mode=opts["mode"],
        width_min=opts["width_min"],
        width_max=opts["width_max"],
        width_step=opts["width_step"],
        scan_step=opts["scan_step"],
        npe=opts["npe"],
        nworker=1,
        seed=4321,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        hunter.bump_scan(data, ref, is_hist=True)
    loc = [int(v) for v in hunter.min_loc_ar[0]]
    width = [int(v) for v in hunter.min_width_ar[0]]
    t = hunter.t_ar
    return {
        "name": "falling_bump_2d",
        "x_edges": [float(x) for x in ex],
        "y_edges": [float(y) for y in ey],
        # Row-major in x: counts[ix][iy].
        "data": data.tolist(),
        "reference": ref.tolist(),
        "options": opts,
        "expected": {
            "start": loc,
            "width": width,
            "local_p": float(hunter.min_Pval_ar[0]),
            "t": float(t[0]),
            "signal": float(hunter.signal_eval),
            "n_extreme": int((t[1:] >= t[0]).sum()),
            "global_p": float(hunter.global_Pval),
        },
    }


def main():
    if BH.__version__ != "0.5.1":
        sys.exit(f"pyBumpHunter 0.5.1 is required, found {BH.__version__}")
    os.makedirs(OUT, exist_ok=True)
    fixtures = [run_1d(*case) for case in cases_1d()] + [case_2d()]
    for fixture in fixtures:
        path = os.path.join(OUT, fixture["name"] + ".json")
        with open(path, "w") as f:
            json.dump(fixture, f, indent=1)
            f.write("\n")
        e = fixture["expected"]
        print(f"{path}: window {e['start']}+{e['width']} local p {e['local_p']:.4g} "
              f"signal {e['signal']:.4g} global p {e['global_p']:.4g}")


if __name__ == "__main__":
    main()
