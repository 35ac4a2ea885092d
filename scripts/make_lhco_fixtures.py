#!/usr/bin/env python3
"""Write the small LHC Olympics HDF5 fixtures read by `src/data/lhco_h5.rs` tests.

Requirements (not installed by this script):

    pip install pandas tables numpy

Run from the repository root:

    python3 scripts/make_lhco_fixtures.py

It writes, under `tests/fixtures/lhco/`, DataFrames saved the way the LHC Olympics 2020
files were saved (`DataFrame.to_hdf`), in every layout the Rust reader supports:

- `features_fixed.h5`       high-level features, 50 events, pandas "fixed" format
                            (two blocks: 14 float64 columns and an int64 `label`)
- `features_table.h5`       the same DataFrame in "table" format (PyTables compound table)
- `features_fixed_zlib.h5`  the same DataFrame, fixed format, complevel=5 complib=zlib
                            (chunked arrays with shuffle + deflate)
- `features_table_zlib.h5`  the same DataFrame, table format, complevel=5 complib=zlib
- `raw_fixed.h5`            raw particles, 20 events x 2101 integer-named columns
                            (700 x (pT, eta, phi) then the truth bit), fixed format
- `raw_fixed_zlib.h5`       the same raw particles, fixed format, zlib (several chunks)
- `mixed.h5`                generic DataFrames with float32/bool/uint8/int32/float64 columns
                            under three keys: `grp/mix` (fixed), `other` (table),
                            `dc` (table with data_columns=True)
- `features_blosc.h5`       the features in table format compressed with blosc (only
                            written when PyTables has it; every blosc codec and shuffle is
                            covered by `make_blosc_fixtures.py`)
- `expected.json`           what the Rust tests compare against: for every file and key,
                            the column names, the number of rows, some cells, some column
                            sums and the sum of all values

The data are seeded, so running the script again gives the same values.
"""

import json
import os

import numpy as np
import pandas as pd
import tables

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "lhco")

FEATURE_COLUMNS = [
    "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
    "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2",
]


def features_frame(rng, n):
    """High-level features like events_anomalydetection_v2.features.h5 (int label)."""
    data = {}
    for jet in ("j1", "j2"):
        data["px" + jet] = rng.normal(0.0, 1200.0, n)
        data["py" + jet] = rng.normal(0.0, 1200.0, n)
        data["pz" + jet] = rng.normal(0.0, 2000.0, n)
        data["m" + jet] = rng.gamma(2.0, 120.0, n)
        tau1 = rng.uniform(0.1, 0.9, n)
        tau2 = tau1 * rng.uniform(0.2, 1.0, n)
        data["tau1" + jet] = tau1
        data["tau2" + jet] = tau2
        data["tau3" + jet] = tau2 * rng.uniform(0.3, 1.0, n)
    frame = pd.DataFrame({name: data[name] for name in FEATURE_COLUMNS})
    frame["label"] = (rng.uniform(size=n) < 0.2).astype(np.int64)
    return frame


def raw_frame(rng, n, max_particles=40):
    """Raw particles like events_anomalydetection.h5: mostly zero-padded particle slots
    (3 to `max_particles` - 1 particles per event)."""
    values = np.zeros((n, 2101))
    for event in range(n):
        count = int(rng.integers(3, max_particles))
        pt = np.sort(rng.exponential(30.0, count))[::-1] + 1.0
        values[event, 0:3 * count:3] = pt
        values[event, 1:3 * count:3] = rng.uniform(-2.5, 2.5, count)
        values[event, 2:3 * count:3] = rng.uniform(-np.pi, np.pi, count)
        values[event, 2100] = float(event % 3 == 0)
    return pd.DataFrame(values)  # integer column names 0..2100, as in the real file


def mixed_frame():
    """A generic DataFrame with one column per dtype pandas stores in its own block."""
    return pd.DataFrame({
        "a": np.array([0.5, 1.5, -2.25, 4.0, 8.125, -0.0], dtype=np.float32),
        "b": np.array([True, False, True, True, False, False]),
        "c": np.array([0, 1, 2, 3, 250, 255], dtype=np.uint8),
        "d": np.array([0, -1, -2, 7, 1 << 30, -(1 << 31)], dtype=np.int32),
        "e": np.linspace(0.0, 1.0, 6),
    })


def description(frame, cells, summed=None):
    """What the Rust tests check for one DataFrame: names, row count, cells, the sums of
    the `summed` column positions (default: all) and the sum of every value."""
    columns = [str(c) for c in frame.columns]
    as_float = frame.astype(np.float64)
    summed = range(len(columns)) if summed is None else summed
    return {
        "columns": columns,
        "rows": len(frame),
        "cells": [
            {"row": r, "column": columns[c], "value": float(as_float.iat[r, c])}
            for r, c in cells
        ],
        "sums": {columns[i]: float(as_float.iloc[:, i].sum()) for i in summed},
        "total": float(as_float.to_numpy().sum()),
    }


def raw_names():
    """The column names the Rust reader gives the raw-particle layout."""
    names = []
    for i in range(700):
        names += [f"pt_{i}", f"eta_{i}", f"phi_{i}"]
    return names + ["label"]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20200101)
    expected = {}

    features = features_frame(rng, 50)
    feature_cells = [(0, 0), (0, 14), (7, 3), (10, 5), (19, 13), (25, 11), (49, 14), (49, 0)]
    for name, options in [
        ("features_fixed.h5", {}),
        ("features_table.h5", {"format": "table"}),
        ("features_fixed_zlib.h5", {"complevel": 5, "complib": "zlib"}),
        ("features_table_zlib.h5", {"format": "table", "complevel": 5, "complib": "zlib"}),
    ]:
        features.to_hdf(os.path.join(OUT, name), key="df", mode="w", **options)
        expected[name] = {"df": dict(description(features, feature_cells), layout="Features")}

    raw = raw_frame(rng, 20)
    raw_cells = [(0, 0), (0, 1), (0, 2), (0, 2100), (3, 2100), (5, 30), (19, 3), (19, 2099)]
    for name, options in [
        ("raw_fixed.h5", {}),
        ("raw_fixed_zlib.h5", {"complevel": 5, "complib": "zlib"}),
    ]:
        raw.to_hdf(os.path.join(OUT, name), key="df", mode="w", **options)
        entry = description(raw, raw_cells, summed=[0, 1, 2, 3, 4, 5, 2098, 2099, 2100])
        renamed = raw_names()
        by_old = dict(zip(entry["columns"], renamed))
        entry["columns"] = renamed
        entry["cells"] = [dict(c, column=by_old[c["column"]]) for c in entry["cells"]]
        entry["sums"] = {by_old[k]: v for k, v in entry["sums"].items()}
        expected[name] = {"df": dict(entry, layout="RawParticles")}

    mixed = mixed_frame()
    mixed_path = os.path.join(OUT, "mixed.h5")
    mixed_cells = [(0, 0), (2, 0), (0, 1), (1, 1), (4, 2), (5, 2), (4, 3), (5, 3), (5, 4)]
    mixed.to_hdf(mixed_path, key="grp/mix", mode="w")
    mixed.to_hdf(mixed_path, key="other", mode="a", format="table", index=False)
    mixed.to_hdf(mixed_path, key="dc", mode="a", format="table", data_columns=True, index=False)
    expected["mixed.h5"] = {
        key: dict(description(mixed, mixed_cells), layout="Features")
        for key in ("grp/mix", "other", "dc")
    }

    if tables.which_lib_version("blosc") is not None:
        features.to_hdf(os.path.join(OUT, "features_blosc.h5"), key="df", mode="w",
                        format="table", complevel=5, complib="blosc", index=False)

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):>9}  {name}")


if __name__ == "__main__":
    main()
