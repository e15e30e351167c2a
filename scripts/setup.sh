#!/usr/bin/env bash
# Set up everything the lab needs, idempotently, without root and without system packages:
#   1. the main environment .venv (Python 3.11) with labkit installed in editable mode
#   2. the Lava sidecar .venv-lava (Python 3.10, numpy<2, lava-nc 0.10.0)
#   3. full MNIST in data/mnist/ (checksummed)
# Each step is skipped when its inputs have not changed, so a second run takes a second or two.
# (The system packages that only the test suite needs are installed by scripts/system_packages.sh, which
# only `make test` runs.)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STAMPS=.venv/.stamps
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
# pip, minus the notices about unused local index folders that some machines configure
pip_quiet() {
  set +o pipefail
  "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
  local rc=${PIPESTATUS[0]}
  set -o pipefail
  return "$rc"
}

# ---------------------------------------------------------------- 1. main environment
PY=${LABKIT_PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "setup: no Python >= 3.10 found; install Python 3.11 and rerun" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
mkdir -p "$STAMPS"
deps_hash=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat $STAMPS/main 2>/dev/null)" != "$deps_hash" ]; then
  say "installing the main environment (torch, snntorch, tonic, jupyterlab, ...)"
  pip_quiet .venv/bin/python -m pip install -q --upgrade pip
  # torch is pinned here, not in pyproject: 2.13.0 is the CPU build this course is tested with.
  pip_quiet .venv/bin/python -m pip install -q "torch==2.13.0"
  pip_quiet .venv/bin/python -m pip install -q -c <(echo "torch==2.13.0") -e ".[dev]"
  # Voilà serves the classroom demo (make demo); pinned, and torch held at 2.13.0 by the constraint
  pip_quiet .venv/bin/python -m pip install -q -c <(echo "torch==2.13.0") "voila==0.5.13"
  # SpikingJelly 2.0, a peer of benchmarks/bench_training.py; the constraint keeps torch at 2.13.0
  pip_quiet .venv/bin/python -m pip install -q -c <(echo "torch==2.13.0") "spikingjelly==2.0.0"
  # The NIR readers and NeuroBench of tests/test_interop_*.py, torch held at 2.13.0: nirtorch and
  # torchvision 0.28.0 (the build matching torch 2.13.0) normally; norse and neurobench pin other
  # torch/torchaudio versions, so they go in without their dependencies (all they import is here)
  pip_quiet .venv/bin/python -m pip install -q -c <(echo "torch==2.13.0") "nirtorch==2.6" "torchvision==0.28.0"
  pip_quiet .venv/bin/python -m pip install -q --no-deps "norse==1.1.0" "neurobench==2.3.0"
  .venv/bin/python -c 'import torch, sys; sys.exit(not torch.__version__.startswith("2.13.0"))' \
    || { echo "setup: torch was replaced (expected 2.13.0); rerun after: .venv/bin/python -m pip install torch==2.13.0" >&2; exit 1; }
  echo "$deps_hash" > "$STAMPS/main"
fi

# ---------------------------------------------------------------- 2. Lava sidecar
find_py310() {
  if python3.10 -c 'pass' >/dev/null 2>&1; then command -v python3.10; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    local v; v=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | tail -n1)
    [ -n "$v" ] && [ -x "$(pyenv root)/versions/$v/bin/python3.10" ] && echo "$(pyenv root)/versions/$v/bin/python3.10"
  fi
}
if [ "${LABKIT_SKIP_LAVA:-0}" != 1 ]; then
  PY310=$(find_py310 || true)
  if [ -z "$PY310" ]; then
    say "python3.10 not found: the Lava sidecar is skipped. Lava (archived; its last release, 0.10.0, runs only"
    say "  on Python 3.10) simulates Loihi in chapter 8; every other chapter, and chapter 8's other cells, work"
    say "  without it. For Lava: 'pyenv install 3.10' or 'sudo apt-get install python3.10-venv', or environment.yml"
  else
    lava_hash=$(echo "numpy<2 lava-nc==0.10.0" | sha256sum | cut -c1-16)
    if [ ! -x .venv-lava/bin/python ] || [ "$(cat $STAMPS/lava 2>/dev/null)" != "$lava_hash" ]; then
      say "creating the Lava sidecar .venv-lava with $($PY310 --version)"
      "$PY310" -m venv .venv-lava
      pip_quiet .venv-lava/bin/python -m pip install -q "numpy<2" "lava-nc==0.10.0"
      echo "$lava_hash" > "$STAMPS/lava"
    fi
  fi
fi

# ---------------------------------------------------------------- 3. data
.venv/bin/labkit data fetch mnist --quiet
say "ready: $ROOT"
