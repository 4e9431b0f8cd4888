#!/usr/bin/env bash
# Creates the venv with pandas and polars (tests/scripts/data-requirements.txt, every version
# pinned, installed with --no-deps) that tests/python/test_tables.py loads hasim's tables with.
#
# usage: tests/scripts/setup-data-venv.sh [VENV_DIR]    (default: target/data-venv)
# Re-running is cheap: a venv whose stamp matches the requirements is left as it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-$root/target/data-venv}"
req="$root/tests/scripts/data-requirements.txt"
py="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1) $("$py" -c 'import sys; print(sys.version.split()[0])')"
if [[ -f "$venv/.hasim-stamp" && "$(cat "$venv/.hasim-stamp")" == "$want" ]]; then
    echo "setup-data-venv: $venv is up to date"
    exit 0
fi
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req"
"$venv/bin/pip" check --disable-pip-version-check >/dev/null
"$venv/bin/python" -c 'import pandas, polars, jsonschema'
echo "$want" > "$venv/.hasim-stamp"
echo "setup-data-venv: created $venv"
