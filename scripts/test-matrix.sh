#!/usr/bin/env bash
# The client matrix: every mlflow a supported Databricks Runtime ML ships, with its companion set.
#
# Usage: scripts/test-matrix.sh [all | VERSION...]       (default: all)
#   Builds .venv-matrix/<version>/ from requirements/matrix/<version>.txt (pinned by
#   <version>.lock when present), several at once from the pip cache, runs the matrix core
#   (tests/matrix-core.txt: a few tests of every service) on each, and writes the results into
#   docs/compatibility.md (scripts/matrix_report.py).
# Environment:
#   MATRIX_BUILD_JOBS  venvs built at once (default 2: the resolver is CPU-bound)
#   MATRIX_JOBS        versions tested at once (default 1; each run is one process)
#   MATRIX_LOCK=1      rewrite requirements/matrix/<version>.lock from what pip resolved
#   MATRIX_RUN=0       build the venvs only
#   MATRIX_REPORT=0    do not touch docs/compatibility.md
#   MATRIX_PYTEST_ARGS extra pytest arguments (e.g. "-x")
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
req="$root/requirements/matrix"
out="$root/.venv-matrix"
python="${PYTHON:-python3}"

all_versions() {
  ls "$req" | sed -n 's/^\([0-9][0-9.]*[^/]*\)\.txt$/\1/p' | sort -V
}

if [ $# -eq 0 ] || [ "$1" = all ]; then
  mapfile -t versions < <(all_versions)
else
  versions=("$@")
fi
for v in "${versions[@]}"; do
  [ -f "$req/$v.txt" ] || { echo "no requirements/matrix/$v.txt (known: $(all_versions | tr '\n' ' '))" >&2; exit 2; }
done
mkdir -p "$out"

build() {  # build VERSION: create or refresh .venv-matrix/VERSION (log in .venv-matrix/VERSION.build.log)
  local v="$1" venv="$out/$1" lock="$req/$1.lock" args=()
  [ -f "$lock" ] && [ "${MATRIX_LOCK:-0}" != 1 ] && args=(-c "$lock")
  local stamp="$venv/.mlemu-matrix"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$req/$v.txt" ] && [ "$stamp" -nt "$root/pyproject.toml" ] \
      && { [ ! -f "$lock" ] || [ "$stamp" -nt "$lock" ]; } && [ "${MATRIX_LOCK:-0}" != 1 ]; then
    return 0
  fi
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  (cd "$req" && "$venv/bin/python" -m pip install -q --disable-pip-version-check \
      -e "$root" -r "$req/$v.txt" "${args[@]}")
  if [ "${MATRIX_LOCK:-0}" = 1 ]; then
    { echo "# What pip resolved for requirements/matrix/$v.txt (scripts/test-matrix.sh, MATRIX_LOCK=1)."
      "$venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^-e '; } > "$lock"
  fi
  touch "$stamp"
}

run_core() {  # run_core VERSION: the matrix core on that venv, results in .venv-matrix/VERSION.xml
  local v="$1" venv="$out/$1"
  local paths
  mapfile -t paths < <(grep -v '^\s*#' "$root/tests/matrix-core.txt" | sed '/^\s*$/d')
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pytest -q -p no:cacheprovider --continue-on-collection-errors "${paths[@]}" -rs \
      --junitxml "$out/$v.xml" ${MATRIX_PYTEST_ARGS:-} > "$out/$v.log" 2>&1
}

echo "== building ${#versions[@]} venvs under .venv-matrix/ (${MATRIX_BUILD_JOBS:-2} at once)"
failed_builds=()
running=0
declare -A pids=()
for v in "${versions[@]}"; do
  ( build "$v" > "$out/$v.build.log" 2>&1 ) &
  pids[$v]=$!
  running=$((running + 1))
  if [ "$running" -ge "${MATRIX_BUILD_JOBS:-2}" ]; then wait -n || true; running=$((running - 1)); fi
done
for v in "${versions[@]}"; do
  if ! wait "${pids[$v]}"; then
    failed_builds+=("$v"); echo "   $v: build FAILED (see .venv-matrix/$v.build.log)" >&2
  fi
done

[ "${MATRIX_RUN:-1}" = 0 ] && exit $(( ${#failed_builds[@]} > 0 ))
echo "== running the matrix core (tests/matrix-core.txt), ${MATRIX_JOBS:-1} version(s) at once"
status=0
running=0
declare -A tpids=()
for v in "${versions[@]}"; do
  if printf '%s\n' "${failed_builds[@]:-}" | grep -qx "$v"; then status=1; continue; fi
  rm -f "$out/$v.xml"
  commit="$(git -C "$root" rev-parse --short HEAD)"
  [ -n "$(git -C "$root" status --porcelain --untracked-files=no -- mlemu tests)" ] && commit="$commit+changes"
  echo "$commit" > "$out/$v.commit"
  ( run_core "$v" ) &
  tpids[$v]=$!
  running=$((running + 1))
  if [ "$running" -ge "${MATRIX_JOBS:-1}" ]; then wait -n || true; running=$((running - 1)); fi
done
for v in "${!tpids[@]}"; do
  wait "${tpids[$v]}" || true
done
for v in "${versions[@]}"; do
  [ -f "$out/$v.log" ] || continue
  echo "   $v: $(tail -n 1 "$out/$v.log")"
  grep -qE '(^| )[0-9]+ (failed|error)' <(tail -n 1 "$out/$v.log") && status=1
  [ -f "$out/$v.xml" ] || status=1
done

if [ "${MATRIX_REPORT:-1}" != 0 ]; then
  "$python" "$root/scripts/matrix_report.py" --results "$out" --doc "$root/docs/compatibility.md" "${versions[@]}"
fi
exit $status
