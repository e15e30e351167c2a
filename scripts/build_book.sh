#!/usr/bin/env bash
# Build the book into book/_build/html from the notebooks' committed outputs (nothing is
# executed). Warnings are errors: broken cross-references, missing files or images and
# unknown citations fail the build. Run through `make book`, which sets everything up first.
#   bash scripts/build_book.sh [--incremental] [--no-strict] [--notebooks DIR] [--build-dir DIR]
# See scripts/build_book.py for how the chapters in notebooks/ are staged into the book.
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice -n 10 .venv/bin/python scripts/build_book.py "$@"
