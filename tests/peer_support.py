"""The field's libraries that the interop tests run against (snnTorch, Norse, SpikingJelly, NeuroBench).

scripts/setup.sh installs every one of them, so `make test` and CI run these tests in full. Run
elsewhere without one, a test that needs it is skipped with a message, except when CI=true (as in
tests/test_loihi.py and the browser tests), where a missing library fails the test instead of
silently skipping it.
"""

from __future__ import annotations

import importlib
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def import_peer(module: str, install: str):
    """``importlib.import_module(module)``; skip (in CI: fail) with how to install it when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        message = (f"{module} is not importable ({error}); scripts/setup.sh installs it: {install} "
                   "(with -c <(echo torch==2.13.0), so that torch is not replaced)")
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
