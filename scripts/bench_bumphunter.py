#!/usr/bin/env python3
"""Times pyBumpHunter 0.5.1 on the histograms of `benches/bumphunter.rs` (one worker).

Run through `scripts/bench_bumphunter.sh`, which also runs the Rust benchmark and prints the
ratio. Prints one line per configuration: `pyBumpHunter: excess=E npe=N seconds=S ...`.
"""

import contextlib
import io
import sys
import time

import numpy as np
import pyBumpHunter as BH


def main():
    npe = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    edges = np.arange(41, dtype=float)
    reference = 1000.0 * np.exp(-np.arange(40) / 10.0)
    for excess in (12.0, 60.0):
        data = np.round(reference)
        data[20:24] += excess
        hunter = BH.BumpHunter1D(rang=[0.0, 40.0], bins=edges, width_min=2, width_max=7,
                                 npe=npe, nworker=1, seed=1)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            hunter.bump_scan(data, reference, is_hist=True)
        seconds = time.perf_counter() - started
        print(f"pyBumpHunter: excess={excess:g} npe={npe} seconds={seconds:.3f} "
              f"(global p {hunter.global_Pval:.4f})")


if __name__ == "__main__":
    main()
