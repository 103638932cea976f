#!/usr/bin/env bash
# README command 2: install everything the tests need on Debian (OS packages included) and run the suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k params`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/os-packages.sh
apt_install "${RUNTIME_PACKAGES[@]}" "${TESTING_PACKAGES[@]}"
make_venv "[test]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
export QT_QPA_PLATFORM=offscreen
export EDGESTORE_FULL_RUN=1  # tests/test_tools.py: a missing peer program fails the run instead of skipping
exec .venv/bin/python -m pytest "$@"
