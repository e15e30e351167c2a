"""Tests for scripts/full_runs.py: the plan of the full-MNIST runs and its shards."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "full_runs.py"


@pytest.fixture(scope="module")
def full_runs():
    spec = importlib.util.spec_from_file_location("full_runs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plan_holds_ten_paired_seeds_of_every_compared_rule(full_runs):
    for rule in ("bp", "sum", "adaptive", "ann"):
        entries = [(seed, epochs) for r, seed, epochs in full_runs.PLAN if r == rule]
        assert entries == [(seed, 15) for seed in range(10)], f"{rule}: seeds 0-9, 15 epochs each"


@pytest.mark.parametrize("count", [1, 2, 3])
def test_shards_are_disjoint_cover_the_plan_and_share_the_work(full_runs, count):
    shards = [full_runs.shard(full_runs.PLAN, i, count) for i in range(1, count + 1)]
    flat = [entry for part in shards for entry in part]
    assert sorted(flat) == sorted(full_runs.PLAN) and len(flat) == len(set(flat)), "every entry in exactly one shard"
    work = [sum(full_runs.COST[r] * e for r, _, e in part) for part in shards]
    assert max(work) - min(work) <= max(full_runs.COST[r] * e for r, _, e in full_runs.PLAN), \
        "the shards' expected work differs by at most one run"


def test_list_prints_the_shard_and_a_bad_shard_is_refused():
    listed = subprocess.run([sys.executable, str(SCRIPT), "--list", "--shard", "2/2"], capture_output=True,
                            text=True, check=True).stdout.split("\n")
    assert listed[0].startswith("adaptive:0"), "shard 2 of 2 starts with the hybrid of seed 0"
    bad = subprocess.run([sys.executable, str(SCRIPT), "--list", "--shard", "3/2"], capture_output=True, text=True)
    assert bad.returncode == 2 and "1 <= i <= n" in bad.stderr
