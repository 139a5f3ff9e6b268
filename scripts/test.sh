#!/usr/bin/env bash
# Set up both client stacks (mlflow 3.x and 2.22.x) and run the whole test suite on each.
# Extra arguments go to pytest (e.g. scripts/test.sh -x -k tracking). Tests run in
# MLEMU_TEST_WORKERS pytest-xdist workers (default 2; 0 runs them in this process).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# Install both stacks in parallel (installs are network-bound).
"$root/scripts/setup-env.sh" mlflow3 > /tmp/mlemu-py3.$$ &
p3=$!
"$root/scripts/setup-env.sh" mlflow2 > /tmp/mlemu-py2.$$ &
p2=$!
# The MLflow UI smoke test's browser (Debian chromium; the test skips with a reason without it).
"$root/scripts/install-browser.sh" > /dev/null &
pb=$!
wait $p3; wait $p2
wait $pb || echo "install-browser failed: the UI smoke test will skip" >&2
py3="$(cat /tmp/mlemu-py3.$$)"; py2="$(cat /tmp/mlemu-py2.$$)"; rm -f /tmp/mlemu-py3.$$ /tmp/mlemu-py2.$$
status=0
echo "== mlflow $("$py3" -c 'import mlflow; print(mlflow.__version__)')"
workers=(-n "${MLEMU_TEST_WORKERS:-2}")
MLEMU_OTHER_MLFLOW_PYTHON="$py2" "$py3" -m pytest -q "${workers[@]}" "$@" || status=$?
echo "== mlflow $("$py2" -c 'import mlflow; print(mlflow.__version__)')"
MLEMU_OTHER_MLFLOW_PYTHON="$py3" "$py2" -m pytest -q "${workers[@]}" "$@" || status=$?
exit $status
