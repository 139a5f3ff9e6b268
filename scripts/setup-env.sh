#!/usr/bin/env bash
# Create (or reuse) .venv-<flavour> with mlemu (editable) and the user's client stack.
# Usage: scripts/setup-env.sh mlflow3|mlflow2   -> prints the venv's python path
set -euo pipefail
flavour="${1:-mlflow3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-$flavour"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv" >&2
fi
stamp="$venv/.mlemu-installed"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ] || [ "$root/requirements/$flavour.txt" -nt "$stamp" ]; then
  # MLEMU_PIP_VERBOSE=1 (scripts/test.sh) shows pip's progress; otherwise it is quiet.
  quiet=(-q)
  [ "${MLEMU_PIP_VERBOSE:-0}" = "1" ] && quiet=(--progress-bar off)
  "$venv/bin/python" -m pip install "${quiet[@]}" --disable-pip-version-check -e "$root" -r "$root/requirements/$flavour.txt" >&2
  touch "$stamp"
fi
echo "$venv/bin/python"
