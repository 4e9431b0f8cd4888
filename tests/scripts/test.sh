#!/usr/bin/env bash
# The whole test suite on a fresh machine, with everything the tests need set up first (README:
# "Two commands on a fresh machine"): upstream Masakari's pinned venv (from PyPI) for the
# external-controller tests, a one-node Slurm for the Slurm test when run as root (Debian's
# packages, installed and started here, its daemons stopped by PID when this ends), then the
# Rust tests and the Python tests. `cargo test --release` alone runs the same Rust tests and
# skips, loudly, the ones whose venv or Slurm is missing (unless HASIM_CI=1, which fails them).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scenarios/controllers/setup-masakari.sh
if [ "$(id -u)" = 0 ]; then
    bash tests/scripts/slurm.sh install
    trap 'bash tests/scripts/slurm.sh down' EXIT
    bash tests/scripts/slurm.sh up
else
    echo "test.sh: not root: no Slurm is installed or started (the Slurm test skips)"
fi
cargo test --release
python3 -m unittest discover -s tests/python
