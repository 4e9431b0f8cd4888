#!/usr/bin/env bash
# Regenerates every committed result in results/ from the bundled scenarios (fixed seeds, so
# the files only change when the model does). Run from the repository root:
#   bash results/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
hasim=target/release/hasim
for scenario in scenarios/*.toml; do
    name=$(basename "$scenario" .toml)
    # Upstream Masakari in the loop needs its venv and minutes per replication-year: its
    # results are not committed (README: upstream Masakari).
    [ "$name" = masakari_upstream ] && continue
    "$hasim" run "$scenario" --out "results/$name" > /dev/null
done
"$hasim" sweep scenarios/quickstart.toml -n 20 --out results/quickstart/sweep \
    --set nova.resume_guests_state_on_host_boot=true \
    --grid failures.host.time_between.mean=2000h,4380h,8760h,17520h \
    --grid workloads.web.boot_time=45s,30m \
    --metric vm_availability --metric downtime_min_per_vm_year_mean > /dev/null
"$hasim" compare scenarios/ha_comparison.toml --policy masakari --policy instance-ha \
    --out results/ha_comparison/compare-masakari-vs-instance-ha > /dev/null
"$hasim" compare scenarios/rack_outages.toml --policy none --policy none \
    --out results/rack_outages/compare-none-vs-none > /dev/null
# Per-VM and per-host tables are large and reproducible: they are not committed.
rm -f results/*/vms.csv results/*/hosts.csv
# External controllers' logs (controllers/) are reproducible and not results: not committed.
rm -rf results/*/controllers
echo "results regenerated"
