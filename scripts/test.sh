#!/usr/bin/env bash
# Set up both client stacks (mlflow 3.x and 2.22.x) and run the whole test suite on each.
#
# What it installs: two virtual environments in this checkout, .venv-mlflow3 and .venv-mlflow2
# (mlemu editable, the clients, scikit-learn, the optional engines and the test tools from
# requirements/, by uv (scripts/setup-env.sh); about 1.5 GB each, 1-3 minutes with an empty cache,
# seconds when current).
# Nothing is installed system-wide unless you ask: with MLEMU_INSTALL_BROWSER=1 (what CI sets)
# it also installs Debian's chromium for the MLflow UI smoke test (needs root and apt-get);
# without it that test skips with the reason.
#
# Extra arguments go to pytest (e.g. scripts/test.sh -x -k tracking). The two stacks run at the
# same time, each in MLEMU_TEST_WORKERS pytest-xdist workers (default 2; 0 runs a stack's tests
# in its own process); their output is prefixed [mlflow3] / [mlflow2], and each stack's summary
# is printed again at the end. Running them together keeps both cores busy while one stack is
# down to its last long tests. MLEMU_TEST_STACKS=sequential runs them one after the other.
# The mlflow 2.22 stack runs the tests that involve the mlflow client: the docs' code blocks
# (tests/test_docs_code.py: the user's examples, not client-version checks) and the server-only
# tests (SERVER_ONLY in tests/conftest.py: raw HTTP, the SQL engine, the transports; both stacks
# pin the same databricks-sdk) run on the mlflow 3 stack only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
started=$SECONDS
say() { echo "== [$((SECONDS - started))s] $*"; }

say "setting up .venv-mlflow3 and .venv-mlflow2 (the installer's output is prefixed by the stack)"
# Install both stacks in parallel (installs are network-bound).
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
MLEMU_PIP_VERBOSE=1 "$root/scripts/setup-env.sh" mlflow3 > "$tmp/py3" 2> >(sed -u 's/^/  [mlflow3] /' >&2) &
p3=$!
MLEMU_PIP_VERBOSE=1 "$root/scripts/setup-env.sh" mlflow2 > "$tmp/py2" 2> >(sed -u 's/^/  [mlflow2] /' >&2) &
p2=$!
pb=""
if [ "${MLEMU_INSTALL_BROWSER:-0}" = "1" ]; then
  say "installing the UI smoke test's browser (MLEMU_INSTALL_BROWSER=1)"
  "$root/scripts/install-browser.sh" > /dev/null 2> >(sed -u 's/^/  [browser] /' >&2) &
  pb=$!
fi
wait $p3; wait $p2
if [ -n "$pb" ]; then
  wait $pb || echo "install-browser failed: the UI smoke test will skip" >&2
fi
py3="$(cat "$tmp/py3")"; py2="$(cat "$tmp/py2")"
say "stacks ready"
status=0
workers=(-n "${MLEMU_TEST_WORKERS:-2}")
v3="$("$py3" -c 'from importlib.metadata import version; print(version("mlflow"))')"
v2="$("$py2" -c 'from importlib.metadata import version; print(version("mlflow"))')"
stack3() { MLEMU_OTHER_MLFLOW_PYTHON="$py2" "$py3" -m pytest -q -rs "${workers[@]}" "$@"; }
stack2() {  # exit 5 (nothing collected: the arguments chose server-only tests) is no failure
  local rc=0
  MLEMU_SECOND_STACK=1 MLEMU_OTHER_MLFLOW_PYTHON="$py3" "$py2" -m pytest -q -rs "${workers[@]}" \
    --ignore=tests/test_docs_code.py "$@" || rc=$?
  [ "$rc" = 5 ] && rc=0
  return "$rc"
}
# -rs prints every skip with its reason.
if [ "${MLEMU_TEST_STACKS:-together}" = sequential ]; then
  say "mlflow $v3"
  stack3 "$@" || status=$?
  say "mlflow $v2"
  stack2 "$@" || status=$?
else
  say "mlflow $v3 [mlflow3] and mlflow $v2 [mlflow2], at the same time"
  (stack3 "$@" > >(tee "$tmp/log3" | sed -u 's/^/[mlflow3] /') 2>&1; echo $? > "$tmp/rc3") &
  p3=$!
  (stack2 "$@" > >(tee "$tmp/log2" | sed -u 's/^/[mlflow2] /') 2>&1; echo $? > "$tmp/rc2") &
  p2=$!
  wait $p3 $p2
  sleep 1  # the output pipes drain
  for s in 3 2; do
    rc="$(cat "$tmp/rc$s" 2>/dev/null || echo 1)"
    [ "$rc" = 0 ] || status=$rc
    say "mlflow$s: $(grep -E '(passed|failed|error)' "$tmp/log$s" | tail -1) (exit $rc)"
  done
fi
say "done (exit $status)"
exit $status
