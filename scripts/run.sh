#!/usr/bin/env bash
# README command 1: install Edgestore on Debian and start it on its embedded virtual camera.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/os-packages.sh
apt_install "${RUNTIME_PACKAGES[@]}"
make_venv ""
exec .venv/bin/edgestore "$@"
