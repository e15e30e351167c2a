#!/usr/bin/env bash
# The whole test suite: library tests, every notebook under nbval (fast mode), the book build
# and the browser tests. Run through `make test`, which sets everything up first.
set -euo pipefail
cd "$(dirname "$0")/.."
export LABKIT_FAST=1 MPLBACKEND=Agg PYTHONHASHSEED=0
exec .venv/bin/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider "$@"
