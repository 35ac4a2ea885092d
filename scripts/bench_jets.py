#!/usr/bin/env python3
"""FastJet's Python package (vectorised multi-event interface) on the benchmark events of
benches/jets.rs: anti-kT R = 1.0 on the 700-particle events of
tests/fixtures/jets/reference.json, repeated to 4000 events, jets above 20 GeV.
Prints one line in the format of benches/jets.rs."""

import json
import time

import awkward as ak
import fastjet
import numpy as np

EVENTS = 4000

with open("tests/fixtures/jets/reference.json") as f:
    ref = json.load(f)
big = [np.array(e["particles"]) for e in ref["events"] if len(e["particles"]) == 700]
events = [big[i % len(big)] for i in range(EVENTS)]
flat = np.concatenate(events)
counts = np.array([len(e) for e in events])
array = ak.unflatten(
    ak.zip({"px": flat[:, 0], "py": flat[:, 1], "pz": flat[:, 2], "E": flat[:, 3]}, with_name="Momentum4D"),
    counts,
)
jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, 1.0)
started = time.perf_counter()
cluster = fastjet.ClusterSequence(array, jetdef)
jets = cluster.inclusive_jets(min_pt=20.0)
n_jets = int(ak.sum(ak.num(jets)))
seconds = time.perf_counter() - started
print(
    f"fastjet {fastjet.__version__}: cluster threads=1 events={EVENTS} seconds={seconds:.3f} "
    f"events_per_s={EVENTS / seconds:.0f} jets={n_jets}"
)
