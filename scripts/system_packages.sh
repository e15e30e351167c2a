#!/usr/bin/env bash
# The system packages that only the test suite needs, installed where they are missing:
#   chromium, chromium-driver   the browser tests (Playwright drives Debian's chromium)
#   postgresql                  the sweep tests (Optuna storage on a real PostgreSQL server)
#   libjs-mathjax, npm          the book's offline equations and widget renderer (book tests)
# `make test` runs this before scripts/setup.sh; `make lab`, `make demo` and `make setup` never do,
# so a student needs no root. As root on a Debian-like machine (CI) it installs them with apt-get;
# otherwise it prints the apt-get line, and the tests that need them skip (except under CI=true).
# Idempotent: nothing happens when everything is there.
set -euo pipefail
say() { printf '\033[1m[system]\033[0m %s\n' "$*"; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
[ -f /usr/share/javascript/mathjax/MathJax.js ] || need_apt+=(libjs-mathjax)  # the book's equations, offline
command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need_apt+=(postgresql)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ ${#need_apt[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing the test suite's system packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
else
  say "system packages for the tests missing: ${need_apt[*]}"
  say "  (browser, PostgreSQL and some book tests will skip; install with: sudo apt-get install ${need_apt[*]})"
fi
