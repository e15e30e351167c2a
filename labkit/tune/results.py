"""A study's results: the best parameters, their test accuracy over three seeds, and plots."""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict
from pathlib import Path

import torch

from ..data import mnist_data
from ..foundation.io import write_text
from ..models import SpikingMLP
from ..training import train
from .config import DATASETS, DEFAULT_PARAMS, TuneConfig, tuning_data

__all__ = ["finalize", "save_plots", "study_summary"]


def study_summary(study) -> dict:
    """Counts by state and the best trial (``None`` before the first completed trial)."""
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    try:
        best = study.best_trial
    except ValueError:
        best = None
    return {
        "study": study.study_name,
        "trials": counts,
        "best_trial": None if best is None else best.number,
        "best_validation_accuracy": None if best is None else best.value,
        "params": None if best is None else dict(best.params),
    }


def _test_runs(config: TuneConfig, params: dict, seeds, device: str) -> dict:

    source = DATASETS[config.dataset]
    data = mnist_data(source, train_limit=config.train_limit)
    accuracy = []
    for seed in seeds:
        model = SpikingMLP((784, config.hidden, 10), seed=seed)
        history = train(model, config.rule, data, config.epochs, seed=seed, device=device,
                        num_steps=config.num_steps, progress=False, eval_train=False, **params)
        accuracy.append(history.test_acc[-1])
    t = torch.tensor(accuracy, dtype=torch.float64)
    return {"params": params, "seeds": list(seeds), "test_accuracy": accuracy, "mean": t.mean().item(),
            "std": t.std().item() if len(t) > 1 else 0.0}


def finalize(
    study,
    config: TuneConfig,
    *,
    seeds=(0, 1, 2),
    out: str | Path = "results/tune",
    device: str = "auto",
    compare_default: bool = True,
) -> dict:
    """Retrain the best parameters on the whole training split (training + validation digits) once per
    seed, measure the **test** accuracy, and write ``<out>/best.json``.

    With ``compare_default`` the paper's η1 = 0.01, η2 = 0.001 (κ = 0.05) are trained on the same
    seeds, so the gain of tuning is read against the seed-to-seed spread.
    """
    summary = study_summary(study)
    if summary["params"] is None:
        raise ValueError(f"study {study.study_name!r} has no completed trial yet: run some trials first")
    names = ("eta1", "eta2", "kappa") if config.rule == "adaptive" else ("eta1", "eta2")
    n_train = len(tuning_data(config).train_x)
    result = {
        **summary,
        "config": asdict(config),
        "validation": f"last {config.val_fraction:.0%} of each class of the training split; trained on the other "
                      f"{n_train:,} digits",
        "test": _test_runs(config, summary["params"], seeds, device),
    }
    if compare_default:
        result["default"] = _test_runs(config, {k: DEFAULT_PARAMS[k] for k in names}, seeds, device)
    write_text(Path(out) / "best.json", json.dumps(result, indent=1) + "\n")
    return result


def _importance_evaluator():
    """fANOVA (Hutter, Hoos and Leyton-Brown, ICML 2014) needs scikit-learn; PED-ANOVA
    (Watanabe, Bansal and Hutter, IJCAI 2023) needs nothing beyond Optuna."""
    import optuna

    try:
        import sklearn  # noqa: F401
    except ImportError:
        return optuna.importance.PedAnovaImportanceEvaluator(), "PED-ANOVA"
    return optuna.importance.FanovaImportanceEvaluator(seed=0), "fANOVA"


def save_plots(study, out: str | Path = "results/tune") -> list[Path]:
    """Optimisation history, η1 × η2 contour and parameter importances as PNG files in ``out``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as ovm

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    completed = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    if len(completed) < 2:
        raise ValueError("plots need at least 2 completed trials")
    evaluator, evaluator_name = _importance_evaluator()
    saved = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for name, draw, title in (
            ("history", lambda: ovm.plot_optimization_history(study, target_name="validation accuracy"),
             "validation accuracy per trial"),
            ("contour_eta1_eta2", lambda: ovm.plot_contour(study, params=["eta1", "eta2"],
                                                         target_name="validation accuracy"),
             "validation accuracy over η1 × η2"),
            ("importances", lambda: ovm.plot_param_importances(study, evaluator=evaluator,
                                                               target_name="validation accuracy"),
             f"parameter importances ({evaluator_name})"),
        ):
            ax = draw()
            ax = ax.flat[0] if hasattr(ax, "flat") else ax
            for loc in ("left", "center", "right"):  # replace Optuna's own title
                ax.set_title("", loc=loc)
            ax.set_title(title)
            if name == "contour_eta1_eta2":
                ax.set_xlabel("η1 (STDP learning rate)")
                ax.set_ylabel("η2 (Adam learning rate)")
            fig = ax.figure
            fig.set_size_inches(6.4, 4.2)
            path = folder / f"{name}.png"
            fig.savefig(path, dpi=100, bbox_inches="tight")
            plt.close(fig)
            saved.append(path)
    return saved
