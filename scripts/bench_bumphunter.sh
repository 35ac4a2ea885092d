#!/usr/bin/env bash
# BumpHunter speed, side by side: pyBumpHunter 0.5.1 (one worker) and bumplab on the same
# 40-bin histograms, widths 2-7 (benches/bumphunter.rs). Prints both timings and the ratio of
# pseudo-experiments per second.
#
# Usage: scripts/bench_bumphunter.sh [PYTHON_NPE]   (default 10000)
# Needs python3 and network access to PyPI the first time (a virtual environment is made
# under ~/.cache/bumplab/pyenv).
set -euo pipefail
cd "$(dirname "$0")/.."
npe="${1:-10000}"
venv="$HOME/.cache/bumplab/pyenv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pyBumpHunter==0.5.1
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bumplab/target}"
cargo build --release --bench bumphunter --quiet
py="$("$venv/bin/python" scripts/bench_bumphunter.py "$npe")"
rs="$(cargo bench --bench bumphunter --quiet 2>/dev/null | grep '^bumplab:')"
echo "$py"
echo "$rs"
# Pseudo-experiments per second, per configuration (excess 12 and 60).
for excess in 12 60; do
    py_rate=$(echo "$py" | awk -v e="excess=$excess" '$0 ~ e { split($3, n, "="); split($4, s, "="); print n[2] / s[2] }')
    rs_rate=$(echo "$rs" | awk -v e="excess=$excess" '$0 ~ e && /npe=1000000/ { split($3, n, "="); split($4, s, "="); print n[2] / s[2] }')
    awk -v p="$py_rate" -v r="$rs_rate" -v e="$excess" \
        'BEGIN { printf "excess %s: pyBumpHunter %.0f PE/s, bumplab %.0f PE/s, ratio %.0fx\n", e, p, r, r / p }'
done
