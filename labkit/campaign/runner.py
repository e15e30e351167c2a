"""Running a plan: one worker or many, on one machine or many, through one Optuna study.

Every point of a plan is one cell of Optuna's grid sampler over a study in shared storage (the
same storage the tuner uses: ``sqlite:///…`` on one machine, a PostgreSQL URL across many). A
worker asks the study for a point no one has started, runs it, writes its result atomically to
``<out>/<plan>/<point>.json`` and stores it in the trial as well, so that results made on another
machine can be collected from the database (`collect`). A worker that is killed stops sending
heartbeats; its trial is then failed and queued again, and the next worker re-runs that point.
A point whose result file already exists is never run again: the command resumes.

Each result records the point, the plan's settings, the labkit commit that made it and the CPU
time it took. A plan never mixes code versions: a worker refuses to add to a plan folder whose
results were made by another commit (start a new ``--out``, or pass ``--allow-mixed`` knowingly).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from ..experiments.runs import code_version
from ..foundation.errors import LabkitError
from ..foundation.io import read_json, write_json
from ..tune.study import open_storage
from .nmnist import run_nmnist
from .plans import PLANS, Plan, point_id
from .regimes import NOISE_CHECK, choose_label_eta1, load_data, run_dose, run_labels, run_shift

__all__ = ["collect", "missing_points", "result_path", "run_plan"]


def result_path(out: str | os.PathLike, plan: Plan, point: dict) -> Path:
    return Path(out) / plan.name / f"{point_id(point)}.json"


def missing_points(out: str | os.PathLike, plan: Plan) -> list[int]:
    """Indices of the plan's points that have no result file yet."""
    return [i for i, p in enumerate(plan.points) if not result_path(out, plan, p).is_file()]


def _check_version(out: Path, plan: Plan, allow_mixed: bool) -> str | None:
    version = code_version()
    if allow_mixed:
        return version
    folder = out / plan.name
    for path in sorted(folder.glob("*.json"))[:50] if folder.is_dir() else []:
        made = read_json(path, what="campaign result").get("commit")
        if made is not None and version is not None and made.split("+")[0] != version.split("+")[0]:
            raise LabkitError(
                f"{folder} holds results made by labkit {made}, this is {version}: one plan must not mix code "
                "versions whose arithmetic may differ. Pass another --out to start the plan afresh, or "
                "--allow-mixed if you know the two versions compute the same"
            )
    return version


def _run_point(plan: Plan, point: dict, data, out: Path) -> dict:
    if plan.regime == "nmnist":
        return run_nmnist(point, data, plan.epochs)
    if plan.regime == "dose":
        return run_dose(point, data, plan.epochs, NOISE_CHECK if plan.data == "mnist" else ())
    if plan.regime == "labels":
        def choose(variant: str, n: int, data) -> dict:
            """Seed 0's choice, read from its result when that exists (it is the same computation)."""
            first = {**point, "seed": 0}
            path = result_path(out, plan, first)
            if path.is_file():
                made = read_json(path, what="campaign result")
                return {"validation": made["validation"], "chosen": made["chosen"]}
            return choose_label_eta1(variant, n, data)

        return run_labels(point, data, choose)
    return run_shift(point, data)


def run_plan(plan: str | Plan, *, out: str | os.PathLike = "results/plasticity", storage: str | None = None,
             max_points: int | None = None, heartbeat: int = 60, allow_mixed: bool = False,
             progress: bool = True, data=None) -> int:
    """Work on ``plan`` (a name of `PLANS`, or a `Plan`) until no point is left (or ``max_points`` are done);
    returns the number of points run here. ``data``: the plan's data, if already loaded."""
    import optuna
    from tqdm.auto import tqdm

    if isinstance(plan, str):
        if plan not in PLANS:
            raise LabkitError(f"unknown plan {plan!r}: choose one of {', '.join(PLANS)}")
        plan = PLANS[plan]
    out = Path(out)
    version = _check_version(out, plan, allow_mixed)
    (out / plan.name).mkdir(parents=True, exist_ok=True)
    url = storage or f"sqlite:///{(out / 'campaign.db').as_posix()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=open_storage(url, heartbeat), study_name=plan.name, direction="maximize", load_if_exists=True,
        sampler=optuna.samplers.GridSampler({"point": list(range(len(plan.points)))}, seed=0),
    )
    todo = missing_points(out, plan)
    if not todo:
        return 0
    if not study.get_trials(deepcopy=False):  # the first worker queues the grid in the plan's order (seed by seed)
        for i in todo:
            study.enqueue_trial({"point": i})
    # A grid whose cells were all started once (some by workers that died, or ran elsewhere and were not
    # collected) gives no new cell: queue what is still missing, each once.
    running = {t.params.get("point") for t in study.get_trials(deepcopy=False)
               if t.state in (optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.WAITING)}
    started = {t.params.get("point") for t in study.get_trials(deepcopy=False)}
    for i in todo:
        if i in started and i not in running:
            study.enqueue_trial({"point": i}, skip_if_exists=False)
    data = load_data(plan.data) if data is None else data
    done = 0
    bar = tqdm(total=len(plan.points), initial=len(plan.points) - len(todo), desc=plan.name, disable=not progress)

    def objective(trial: optuna.Trial) -> float:
        nonlocal done
        point = plan.points[trial.suggest_categorical("point", list(range(len(plan.points))))]
        path = result_path(out, plan, point)
        if path.is_file():
            return float(read_json(path, what="campaign result")["test_acc"])
        cpu, wall = time.process_time(), time.perf_counter()
        result = _run_point(plan, point, data, out)
        record = {"plan": plan.name, "point": point, "id": point_id(point), "epochs": plan.epochs,
                  "data": plan.data, "notes": plan.notes, "commit": version, "machine": platform.machine(),
                  "threads": int(os.environ.get("OMP_NUM_THREADS", "0") or 0),
                  "cpu_seconds": round(time.process_time() - cpu, 1),
                  "wall_seconds": round(time.perf_counter() - wall, 1), **result}
        trial.set_user_attr("result", json.dumps(record))
        write_json(path, record)
        done += 1
        bar.update(1)
        return float(result["test_acc"])

    idle = 0  # optimize calls in a row that ran nothing new: the rest is held by workers elsewhere
    while missing_points(out, plan) and (max_points is None or done < max_points) and idle < 3:
        before = done
        study.optimize(objective, n_trials=1)
        idle = idle + 1 if done == before else 0
    bar.close()
    return done


def collect(name: str, *, out: str | os.PathLike = "results/plasticity", storage: str) -> int:
    """Write the results that workers on other machines stored in the study into ``out``; returns how many."""
    import optuna

    plan, out = PLANS[name], Path(out)
    study = optuna.load_study(study_name=plan.name, storage=open_storage(storage, 60))
    written = 0
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        text = t.user_attrs.get("result")
        if text is None:
            continue
        record = json.loads(text)
        path = Path(out) / plan.name / f"{record['id']}.json"
        if not path.is_file():
            write_json(path, record)
            written += 1
    return written
