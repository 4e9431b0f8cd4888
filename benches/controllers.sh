#!/usr/bin/env bash
# The cost of an external controller (issue 8): a benchmark, not a test. Prints, for one
# replication-year of scenarios/masakari.toml's fleet and failures, the wall time and the
# controller steps per second under
#   builtin   the Rust masakari policy            (scenarios/masakari.toml)
#   sdk       the SDK example controller          (scenarios/custom_controller.toml)
#   upstream  upstream Masakari 22.0.0 in the loop (scenarios/masakari_upstream.toml)
# and the bare pipe round trip beside the SDK's per-step cost (benches/pipe_roundtrip.rs).
#
# usage: bash benches/controllers.sh [REPLICATIONS] [ROUND_TRIPS]   (defaults 1, 100000)
# Needs a release build and, for "upstream", scenarios/controllers/setup-masakari.sh's venv.
# Run it on an idle machine: every figure is wall-clock time.
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-1}"
trips="${2:-100000}"
hasim=target/release/hasim
[[ -x $hasim ]] || cargo build --release
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(python3 --version)"
rustc -O --edition 2021 benches/pipe_roundtrip.rs -o "$out/pipe_roundtrip"
"$out/pipe_roundtrip" "$trips" python3 scenarios/controllers | sed 's/^/round trip µs: /'

run() { # name scenario
    local t0 t1
    t0=$(date +%s.%N)
    "$hasim" run "$2" -n "$reps" --threads 1 --out "$out/$1" > /dev/null
    t1=$(date +%s.%N)
    local steps
    steps=$(cat "$out/$1"/controllers/rep-*/stderr.log 2>/dev/null \
        | sed -n 's/^hasim_controller: \([0-9]*\) steps.*/\1/p' | paste -sd+ | bc)
    local wall
    wall=$(echo "$t1 - $t0" | bc)
    if [[ -n $steps ]]; then
        printf '%-9s %8.1f s wall  %9d steps  %8.0f steps/s\n' "$1" "$wall" "$steps" \
            "$(echo "$steps / $wall" | bc -l)"
    else
        printf '%-9s %8.1f s wall  (in-process policy)\n' "$1" "$wall"
    fi
}
echo "one year x $reps replication(s), --threads 1:"
run builtin scenarios/masakari.toml
run sdk scenarios/custom_controller.toml
if [[ -x target/masakari-venv/bin/python ]]; then
    run upstream scenarios/masakari_upstream.toml
else
    echo "upstream  skipped: run scenarios/controllers/setup-masakari.sh"
fi
