#!/usr/bin/env bash
# Training speed, side by side: PyTorch (CPU, 2 threads) and bumplab (2 threads) on the same
# network and data size (benches/training.rs, scripts/bench_training.py): 6 inputs, hidden
# [64, 64, 64], one logit (four dense layers), 500 000 events, batch 512, Adam lr 1e-3.
# Prints both timings, the per-epoch ratios (bumplab with 2 threads and with 1), and the
# ensemble speed-up (12 networks trained together against 12 one after another).
#
# Usage: scripts/bench_training.sh [EVENTS] [EPOCHS] [MEMBERS]   (defaults 500000 3 12)
# Needs python3 and network access to PyPI the first time: a virtual environment with torch
# (a large download) is made under ~/.cache/bumplab/pyenv-torch.
# The machine should be otherwise idle: both sides are sensitive to other load on the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-500000}"
epochs="${2:-3}"
members="${3:-12}"
venv="$HOME/.cache/bumplab/pyenv-torch"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bumplab/target}"
export RAYON_NUM_THREADS=2
cargo build --release --bench training --quiet
py="$("$venv/bin/python" scripts/bench_training.py "$events" "$epochs" "$members")"
rs="$(cargo bench --bench training --quiet -- "$events" "$epochs" "$members" 2>/dev/null | grep '^bumplab:')"
# The single network again with one thread: its products are small enough that gemm's
# split over two threads costs more than it saves.
rs1="$(RAYON_NUM_THREADS=1 cargo bench --bench training --quiet -- "$events" "$epochs" 0 2>/dev/null | grep '^bumplab:')"
echo "$py"
echo "$rs"
echo "$rs1"
# Median seconds per epoch of the single network on each side.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
per_epoch() { grep ' single ' | sed 's/.*seconds=\([0-9.]*\).*/\1/' | median; }
py_epoch=$(echo "$py" | per_epoch)
rs_epoch=$(echo "$rs" | per_epoch)
rs1_epoch=$(echo "$rs1" | per_epoch)
awk -v p="$py_epoch" -v r="$rs_epoch" -v r1="$rs1_epoch" 'BEGIN {
    printf "one network, median s/epoch: PyTorch (2 threads) %.3f, bumplab (2 threads) %.3f, bumplab (1 thread) %.3f\n", p, r, r1
    printf "bumplab/PyTorch: %.2f with 2 threads, %.2f with 1 thread\n", r / p, r1 / p
}'
if [ "$members" -gt 0 ]; then
    field() { grep " $1 " | sed 's/.*seconds=\([0-9.]*\).*/\1/'; }
    py_seq=$(echo "$py" | field sequential)
    rs_seq=$(echo "$rs" | field sequential)
    rs_tog=$(echo "$rs" | field together)
    awk -v ps="$py_seq" -v rs="$rs_seq" -v rt="$rs_tog" -v k="$members" 'BEGIN {
        printf "%d networks, one epoch: PyTorch one after another %.2f s, bumplab one after another %.2f s, bumplab together %.2f s\n", k, ps, rs, rt
        printf "ensemble speed-up: %.2fx against bumplab one after another, %.2fx against PyTorch one after another\n", rs / rt, ps / rt
    }'
fi
