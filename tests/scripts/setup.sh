#!/usr/bin/env bash
# Sets up what the tests need beyond Rust, once (README: "Two commands on a fresh machine"):
# upstream Masakari's pinned venv from PyPI, for the external-controller tests, and the pinned
# pandas/polars venv the table-loading test reads hasim's tables with. (The Slurm test needs a
# running Slurm; .ci/run installs and starts a one-node one as root.)
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scenarios/controllers/setup-masakari.sh
bash tests/scripts/setup-data-venv.sh
