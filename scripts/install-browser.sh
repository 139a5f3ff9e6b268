#!/usr/bin/env bash
# Install the browser of the MLflow UI smoke test (tests/server/ui/test_browser.py): Debian's
# `chromium` package, driven by playwright-python with executable_path (playwright's own
# browser download is not used). Idempotent; installs nothing when Chromium is already
# there, or when not root or without apt-get (the smoke test then skips with the reason).
# Usage: scripts/install-browser.sh   (prints the browser's path when there is one)
set -euo pipefail
browser="${MLEMU_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  echo "$browser"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no Chromium at $browser and cannot install it (needs root and apt-get);" \
       "the UI smoke test will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends chromium >&2
fi
echo "$browser"
