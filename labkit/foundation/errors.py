"""The base class of labkit's user errors.

A user error is a wrong argument, file or setting that the user can fix. Its message says
what was wrong and what to do. It subclasses `ValueError`, so ``except ValueError`` (and the
command line's error boundary) catches it.
"""

from __future__ import annotations

__all__ = ["LabkitError"]


class LabkitError(ValueError):
    """A user error: the message says what was wrong and how to fix it."""
