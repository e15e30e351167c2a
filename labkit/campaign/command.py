"""``labkit campaign``: run a plan of the plasticity study, collect it, or write its report section."""

from __future__ import annotations

import argparse

from .plans import PLANS
from .runner import collect, missing_points, run_plan
from .verdicts import write_report

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Plans: " + "; ".join(f"{name} ({len(p.points)} points: {p.notes})" for name, p in PLANS.items()) + ". "
        "Several workers share a plan through one database: run `labkit campaign run PLAN --storage URL` on "
        "each machine (one thread each: OMP_NUM_THREADS=1), then `labkit campaign collect PLAN --storage URL`."
    )
    parser.add_argument("action", choices=["run", "collect", "report", "status"],
                        help="run a plan's missing points, collect results stored by other machines, write the "
                             "report section, or list what is done")
    parser.add_argument("plan", nargs="?", default=None, choices=list(PLANS), metavar="PLAN",
                        help=f"one of {', '.join(PLANS)} (run, collect, status)")
    parser.add_argument("--out", default=None,
                        help="results folder (default results/plasticity for run, collect and status; `report` needs "
                             "it named)")
    parser.add_argument("--storage", default=None,
                        help="SQLAlchemy URL of the shared study database (default sqlite:///OUT/campaign.db)")
    parser.add_argument("--max-points", type=int, default=None, help="stop after running this many points")
    parser.add_argument("--heartbeat", type=int, default=60,
                        help="seconds between a worker's heartbeats; a point silent for twice as long is re-queued")
    parser.add_argument("--allow-mixed", action="store_true",
                        help="add to a plan folder whose results another labkit commit made (normally refused)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    args.out_given = args.out is not None
    args.out = "results/plasticity" if args.out is None else args.out
    if args.action in ("run", "collect", "status") and args.plan is None:
        raise ValueError(f"`labkit campaign {args.action}` needs a PLAN: one of {', '.join(PLANS)}")
    if args.max_points is not None and args.max_points < 1:
        raise ValueError(f"--max-points must be >= 1, got {args.max_points}")
    if args.action == "run":
        n = run_plan(args.plan, out=args.out, storage=args.storage, max_points=args.max_points,
                     heartbeat=args.heartbeat, allow_mixed=args.allow_mixed, progress=not args.quiet)
        left = len(missing_points(args.out, PLANS[args.plan]))
        print(f"{args.plan}: ran {n} point(s) here; {left} of {len(PLANS[args.plan].points)} still missing")
        return 0
    if args.action == "collect":
        if args.storage is None:
            raise ValueError("`labkit campaign collect` needs --storage URL (the database the workers shared)")
        print(f"{args.plan}: wrote {collect(args.plan, out=args.out, storage=args.storage)} result(s) into {args.out}")
        return 0
    if args.action == "status":
        plan = PLANS[args.plan]
        left = missing_points(args.out, plan)
        print(f"{args.plan}: {len(plan.points) - len(left)} of {len(plan.points)} points done")
        return 0
    if not args.out_given:
        raise ValueError("`labkit campaign report` rewrites the report inside the results folder: name it, e.g. "
                         "--out results/plasticity (a committed report is rewritten only when you say so)")
    path = write_report(args.out)
    print(f"wrote {path}")
    return 0
