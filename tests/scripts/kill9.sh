#!/usr/bin/env bash
# Issue #11: kill -9 a `-n 200` run at random moments into a directory holding an older set.
# After every kill the directory must hold exactly one complete set (the old one byte for byte,
# or the new one with every row), and no temporary or staging file may survive the next run.
#   bash tests/scripts/kill9.sh [KILLS]    (default 100; builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
hasim=$PWD/target/release/hasim
kills=${1:-100}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/o
"$hasim" run scenarios/quickstart.toml -n 1 --out "$out" > /dev/null 2>&1
# How long one whole run takes here: the kills land at random moments within it.
start=$(date +%s%N)
"$hasim" run scenarios/quickstart.toml -n 200 --out "$work/timed" > /dev/null 2>&1
run_ms=$(( ($(date +%s%N) - start) / 1000000 ))
rm -rf "$work/timed"
old_sum=$(sha256sum < "$out/summary.json")
old_names=$(ls -A "$out")
n_old=0 n_new=0
for i in $(seq "$kills"); do
    "$hasim" run scenarios/quickstart.toml -n 200 --out "$out" > /dev/null 2>&1 &
    pid=$!
    at_ms=$(( (RANDOM * 32768 + RANDOM) % (run_ms + 1) ))
    sleep "$((at_ms / 1000)).$(printf '%03d' $((at_ms % 1000)))"
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    if [ "$(ls -A "$out")" != "$old_names" ]; then
        echo "kill $i: files differ from a whole set:"; ls -A "$out"; exit 1
    fi
    if [ "$(sha256sum < "$out/summary.json")" = "$old_sum" ]; then
        n_old=$((n_old + 1))
    else
        grep -q '"replications": 200' "$out/summary.json" || { echo "kill $i: mixed summary"; exit 1; }
        rows=$(wc -l < "$out/vms.csv")
        [ "$rows" -eq 240001 ] || { echo "kill $i: vms.csv has $rows lines, not 240001"; exit 1; }
        n_new=$((n_new + 1))
        # Back to the old set for the next kill.
        "$hasim" run scenarios/quickstart.toml -n 1 --out "$out" > /dev/null 2>&1
    fi
done
"$hasim" run scenarios/quickstart.toml -n 1 --out "$out" > /dev/null 2>&1
left=$(cd "$work" && find . -name '.*' ! -name . | head -5)
if [ -n "$left" ]; then echo "left behind after the next run: $left"; exit 1; fi
echo "$kills kills within a ${run_ms} ms run: $n_old left the old set, $n_new the new set, 0 mixed; nothing left behind"
