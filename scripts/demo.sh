#!/usr/bin/env bash
# Set up the mlflow 3 stack and run the MLOps demo against an emulated workspace.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="$("$root/scripts/setup-env.sh" mlflow3)"
exec "$py" "$root/demo/demo.py" "$@"
