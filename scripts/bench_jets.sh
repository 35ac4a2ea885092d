#!/usr/bin/env bash
# Jet clustering speed, side by side: FastJet 3.5.2's Python package (vectorised
# multi-event interface, one thread) and bumplab (benches/jets.rs, one thread and all
# threads) on the same 4000 events of 700 particles, anti-kT R = 1.0, jets above 20 GeV.
# Prints both lines and the events per second of each.
#
# Usage: scripts/bench_jets.sh   (PyPI access the first time, for scripts/jets-env)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(scripts/jets-env)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bumplab/target}"
cargo build --release --bench jets --quiet
"$bin/python" scripts/bench_jets.py 2>/dev/null | grep '^fastjet'
cargo bench --bench jets --quiet 2>/dev/null | grep '^bumplab:'
