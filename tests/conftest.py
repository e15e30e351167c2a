"""Shared test configuration: small thread count, headless plotting, fast chapters."""

import os

os.environ.setdefault("LABKIT_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
