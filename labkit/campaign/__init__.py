"""The plasticity study: where (if anywhere) a local rule adds something a gradient does not.

``labkit campaign run PLAN`` works through a plan's grid (`labkit.campaign.plans`) on one machine or
many (`labkit.campaign.runner`); ``labkit campaign report --out results/plasticity`` writes the section "Where local
plasticity helps" and its figures from the committed results (`labkit.campaign.verdicts`).
"""

from __future__ import annotations

from .command import add_arguments, run
from .plans import PLANS, Plan, point_id
from .runner import collect, missing_points, run_plan

__all__ = ["PLANS", "Plan", "add_arguments", "collect", "missing_points", "point_id", "run", "run_plan"]
