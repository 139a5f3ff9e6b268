#!/usr/bin/env bash
# The long hostile-input campaign: every route, SQL text, monitor definitions and every
# control-plane (/__mlemu__) route, many random examples each (tests/fuzz), hostile --state-dir
# files (tests/fuzz/test_wal_fuzz.py), and the --state-dir replay property test with a large budget.
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
# --state-dir replay: random interleavings of every service's writes and reads, killed at random
# points (tests/toolkit/test_state_dir_replay.py; the normal run does 3 runs of 40 requests).
MLEMU_REPLAY_RUNS="${MLEMU_REPLAY_RUNS:-$(( examples / 10 + 1 ))}" MLEMU_REPLAY_STEPS="${MLEMU_REPLAY_STEPS:-200}" \
  MLEMU_FUZZ_RANDOM=1 "$python" -m pytest -q -p no:randomly tests/toolkit/test_state_dir_replay.py -k rebuilds "$@"
echo "fuzz: $examples examples per route in $(( $(date +%s) - start )) s"
