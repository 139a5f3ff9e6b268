#!/usr/bin/env bash
# The long hostile-input campaign: every route, SQL text and monitor definitions, many random
# examples each (tests/fuzz).
# Usage: scripts/fuzz.sh [examples-per-route (default 500)] [extra pytest args...]
# The normal test run uses a short, derandomized budget (12 per route).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
examples="${1:-500}"
shift || true
python="$("$root/scripts/setup-env.sh" "${MLEMU_FLAVOUR:-mlflow3}")"
start=$(date +%s)
MLEMU_FUZZ_EXAMPLES="$examples" MLEMU_FUZZ_RANDOM=1 "$python" -m pytest -q -p no:randomly tests/fuzz "$@"
echo "fuzz: $examples examples per route in $(( $(date +%s) - start )) s"
