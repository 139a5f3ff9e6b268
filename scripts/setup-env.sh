#!/usr/bin/env bash
# Create (or reuse) .venv-<flavour> with mlemu (editable) and the user's client stack.
# Usage: scripts/setup-env.sh mlflow3|mlflow2   -> prints the venv's python path
#
# The venv is made by the standard library's venv (so it has pip); the packages are installed by
# uv (from PyPI, into the venv itself) because it resolves and unpacks the ~120 packages in under a
# minute where pip takes two to four, CPU-bound, on 2 cores. MLEMU_INSTALLER=pip, or a machine
# where uv cannot be installed, uses pip: the same requirement files, the same versions.
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
  # MLEMU_PIP_VERBOSE=1 (scripts/test.sh) shows the installer's progress; otherwise it is quiet.
  verbose="${MLEMU_PIP_VERBOSE:-0}"
  pip=("$venv/bin/python" -m pip --disable-pip-version-check)
  installer="${MLEMU_INSTALLER:-uv}"
  if [ "$installer" = uv ] && [ ! -x "$venv/bin/uv" ]; then
    "${pip[@]}" install -q uv >&2 || installer=pip
  fi
  if [ "$installer" = uv ]; then
    quiet=(-q); [ "$verbose" = "1" ] && quiet=()
    "$venv/bin/uv" pip install "${quiet[@]}" --python "$venv/bin/python" -e "$root" \
      -r "$root/requirements/$flavour.txt" >&2
  else
    quiet=(-q); [ "$verbose" = "1" ] && quiet=(--progress-bar off)
    "${pip[@]}" install "${quiet[@]}" -e "$root" -r "$root/requirements/$flavour.txt" >&2
  fi
  touch "$stamp"
fi
echo "$venv/bin/python"
