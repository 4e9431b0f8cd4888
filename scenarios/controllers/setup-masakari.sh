#!/usr/bin/env bash
# Creates the Python venv that scenarios/controllers/masakari_upstream/ runs in: upstream
# masakari==22.0.0 and masakari-monitors==22.0.0 from PyPI, every transitive version pinned in
# masakari_upstream/requirements.txt (installed with --no-deps: nothing else is resolved).
#
# usage: scenarios/controllers/setup-masakari.sh [VENV_DIR]    (default: target/masakari-venv)
# Re-running is cheap: a venv whose stamp matches requirements.txt is left as it is.
# Needs python3 (3.11, the version the pins were taken on) with venv, and PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${1:-$root/target/masakari-venv}"
req="$here/masakari_upstream/requirements.txt"
py="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1) $("$py" -c 'import sys; print(sys.version.split()[0])')"
if [[ -f "$venv/.hasim-stamp" && "$(cat "$venv/.hasim-stamp")" == "$want" ]]; then
    echo "setup-masakari: $venv is up to date"
    exit 0
fi
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req"
"$venv/bin/pip" check --disable-pip-version-check >/dev/null
# One import each: both register options on oslo's global CONF, so they cannot share a process.
"$venv/bin/python" -W ignore -c 'import masakari.engine.manager'
"$venv/bin/python" -W ignore -c 'import masakarimonitors.hostmonitor.host_handler.handle_host'
echo "$want" > "$venv/.hasim-stamp"
echo "setup-masakari: created $venv ($(wc -l < "$req") lines of pins)"
