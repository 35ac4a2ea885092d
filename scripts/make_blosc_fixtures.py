#!/usr/bin/env python3
"""Write the blosc-compressed LHC Olympics fixtures read by the `src/data/lhco_h5.rs` tests.

Run from anywhere (it creates its own virtual environment with pinned pandas, PyTables and
numpy on first use, under ~/.cache/bumplab/blosc-venv, and re-runs itself there):

    python3 scripts/make_blosc_fixtures.py

It writes, under `tests/fixtures/lhco/blosc/`, the same two DataFrames saved with every inner
codec PyTables' blosc filter (HDF5 filter 32001) offers, with byte shuffle, bit shuffle and
no shuffle, in pandas' fixed and table formats:

- `features_<layout>_<codec>_<shuffle>.h5`  a features-like table, 203 events x 15 columns
- `raw_<codec>_<shuffle>.h5`                 a raw-layout-like wide table, 24 events x 2101
                                             integer-named columns, mostly zero padding
- `features.json`, `raw.json`                the values pandas reads back from every file
                                             (checked identical across the files), as
                                             column names plus row-major values given by the
                                             bits of their float64 (exact, whatever the JSON
                                             parser; `raw.json`: only the non-zero cells)
- `files.json`                               which frame, format, codec and shuffle each file has
- `unsupported_bzip2.h5`                     the features compressed with bzip2 (HDF5 filter
                                             307), a filter the reader refuses by name

The data are seeded, so running the script again gives the same values.
"""

import json
import os
import subprocess
import sys

VENV = os.path.expanduser(os.environ.get("BUMPLAB_BLOSC_VENV", "~/.cache/bumplab/blosc-venv"))
PACKAGES = ["numpy==2.2.6", "pandas==2.2.3", "tables==3.10.2"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "lhco",
                   "blosc")


def ensure_venv():
    """Re-runs this script inside the pinned virtual environment, creating it if needed."""
    python = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.prefix) == os.path.abspath(VENV):
        return
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([python, "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", *PACKAGES])
    os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])


CODECS = ["blosclz", "lz4", "lz4hc", "zlib", "zstd"]


def write(pd, tables, frame, path, fmt, codec, shuffle):
    """Saves `frame` as pandas does, with blosc:`codec` and the given shuffle."""
    filters = tables.Filters(complevel=5, complib="blosc:" + codec,
                             shuffle=shuffle == "shuffle", bitshuffle=shuffle == "bitshuffle")
    with pd.HDFStore(path, mode="w", complevel=5, complib="blosc:" + codec) as store:
        store._filters = filters  # pandas only offers PyTables' default (byte) shuffle
        store.put("df", frame, format=fmt, index=False)
    with tables.open_file(path) as h5:
        leaves = [n for n in h5.walk_nodes("/df", "Leaf") if n.filters.complevel > 0]
        assert leaves, f"{path}: nothing was compressed"
        for leaf in leaves:
            assert leaf.filters.complib == "blosc:" + codec, (path, leaf.filters)


def main():
    import numpy as np
    import pandas as pd
    import tables

    # The frames of the plain LHCO fixtures, with more particles per raw event.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_lhco_fixtures import features_frame, raw_frame

    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20200119)
    frames = {"features": features_frame(rng, 203), "raw": raw_frame(rng, 24, max_particles=60)}
    plan = []
    for codec in CODECS:
        plan.append(("features", "table", codec, "shuffle"))
        plan.append(("features", "fixed", codec, "noshuffle"))
        plan.append(("features", "table", codec, "bitshuffle"))
    plan.append(("raw", "fixed", "blosclz", "shuffle"))  # as the organisers saved it
    plan.append(("raw", "fixed", "zstd", "bitshuffle"))
    plan.append(("raw", "fixed", "lz4", "noshuffle"))

    files = {}
    read_back = {}
    for name, fmt, codec, shuffle in plan:
        stem = (f"features_{fmt}_{codec}_{shuffle}" if name == "features"
                else f"raw_{codec}_{shuffle}")
        path = os.path.join(OUT, stem + ".h5")
        write(pd, tables, frames[name], path, fmt, codec, shuffle)
        back = pd.read_hdf(path, "df")
        pd.testing.assert_frame_equal(back, frames[name], check_exact=True)
        values = back.astype(np.float64).to_numpy()
        if name in read_back:
            assert np.array_equal(read_back[name], values), path
        read_back[name] = values
        files[stem + ".h5"] = {"frame": name, "format": fmt, "codec": codec,
                               "shuffle": shuffle}

    for name, values in read_back.items():
        columns = [str(c) for c in frames[name].columns]
        entry = {"columns": columns, "rows": int(values.shape[0])}
        bits = values.view(np.uint64)
        if name == "raw":
            rows, cols = np.nonzero(values)
            entry["nonzero"] = [[int(r), int(c), int(bits[r, c])]
                                for r, c in zip(rows, cols)]
        else:
            entry["values"] = [[int(v) for v in row] for row in bits]
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(entry, f)
            f.write("\n")
    frames["features"].to_hdf(os.path.join(OUT, "unsupported_bzip2.h5"), key="df", mode="w",
                              format="table", complevel=5, complib="bzip2", index=False)
    with open(os.path.join(OUT, "files.json"), "w") as f:
        json.dump(files, f, indent=1, sort_keys=True)
        f.write("\n")
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):>9}  {name}")


if __name__ == "__main__":
    ensure_venv()
    main()
