#!/usr/bin/env bash
# Freeze Edgestore with PyInstaller into build/dist/edgestore/ (one folder), then prove the result runs:
# --version must print "edgestore <version>", and --self-check must start the virtual camera through the
# frozen executable itself and talk to it over HTTP.
#
# Usage: bash packaging/build.sh            (from any directory)
#        PYTHON=/path/to/python bash packaging/build.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
APP_DIR="build/dist/edgestore"
APP="$APP_DIR/edgestore"

fail() {
  echo "build.sh: FAILED: $*" >&2
  exit 1
}

[ -x "$PYTHON" ] || command -v "$PYTHON" >/dev/null || fail "no Python at $PYTHON (set PYTHON=...)"
"$PYTHON" -c "import PyInstaller" 2>/dev/null \
  || fail "PyInstaller is missing; install it with: $PYTHON -m pip install -e '.[packaging]'"

started=$SECONDS
echo "==> freezing with $("$PYTHON" -m PyInstaller --version 2>/dev/null | sed 's/^/PyInstaller /')"
"$PYTHON" -m PyInstaller --noconfirm --clean --distpath build/dist --workpath build/pyinstaller \
  packaging/edgestore.spec
echo "==> froze in $((SECONDS - started)) s: $APP_DIR ($(du -sh "$APP_DIR" | cut -f1))"
[ -x "$APP" ] || fail "$APP was not built"

echo "==> $APP --version"
version="$("$APP" --version)" || fail "--version exited with status $?"
echo "$version"
[[ "$version" == "edgestore "* ]] || fail "--version printed '$version', expected 'edgestore <version>'"

echo "==> $APP --self-check"
check_log="$(mktemp)"
trap 'rm -f "$check_log"' EXIT
status=0
"$APP" --self-check 2>&1 | tee "$check_log" || status=$?
[ "$status" -eq 0 ] || fail "--self-check exited with status $status"
grep -q "^self-check OK$" "$check_log" || fail "--self-check did not print 'self-check OK'"

echo "frozen app OK: $(pwd)/$APP"
