r"""Tuning η1, η2 (and κ) of the hybrid rule with Optuna.

A study samples the STDP learning rate η1, the Adam learning rate η2 and, for ``adaptive``,
the coefficient step κ, each **log-uniformly** (a learning rate is a scale: 10⁻⁴ → 10⁻³ is as
large a step as 10⁻³ → 10⁻²), with the tree-structured Parzen estimator (Bergstra, Bardenet,
Bengio and Kégl, NeurIPS 2011) and maximises

.. math::  \text{objective}(\eta_1, \eta_2, \kappa) = \text{accuracy on the validation digits}

Validation digits: the **last 20 % of every class of the training split**, in the files' own
order (`split_validation`); the network trains on the other 80 %. The test split is never seen
while tuning: it is used once, by `finalize`, to report the best parameters' test accuracy over
three seeds (tuning on the test set would make that number optimistic). Every trial uses the same
training seed (network initialisation, batch order, rate-code spikes), so trials differ only in
their parameters.

Poor trials stop early: after each epoch but the last, the validation accuracy is reported to the
study, and a trial in the worst quarter of the earlier trials at the same epoch is stopped (Optuna's
``PercentilePruner`` at the 25th percentile, after 5 unpruned start-up trials; the median pruner
stopped three trials in four here, leaving too few complete ones for the contour and importance
plots). A run that diverges counts as pruned.

Several processes or machines can run one study together: they share it through any SQLAlchemy
database URL (default: an SQLite file ``results/tune/<study>.db``; for several machines a
PostgreSQL server). Each worker runs the same command, e.g.::

    labkit tune --trials 60 --storage postgresql+psycopg2://user:password@dbhost/labkit

and ``--trials`` is the number of finished trials the *study* should reach, not per worker.
Workers send a heartbeat; a trial whose worker stopped sending it (killed, machine lost) is
marked failed by the next worker that starts a trial and re-queued once with the same parameters
(Optuna's ``RetryHeartbeatStaleTrialCallback``). Ctrl-C marks the current trial failed and leaves the
study as it was.

Akiba, Sano, Yanase, Ohta and Koyama, "Optuna: a next-generation hyperparameter optimization
framework", KDD 2019.

The package: :mod:`~labkit.tune.config` (search space, configuration, validation split),
:mod:`~labkit.tune.study` (shared studies, trials, pruning), :mod:`~labkit.tune.results` (best
parameters on the test set, plots), :mod:`~labkit.tune.command` (the command line).
"""

from __future__ import annotations

from .config import DEFAULT_PARAMS, SearchSpace, TuneConfig, split_validation, tuning_data
from .study import default_storage, fail_orphaned_trials, open_study, optimize
from .results import finalize, save_plots, study_summary
from .command import add_arguments, main, run

__all__ = [
    "DEFAULT_PARAMS",
    "SearchSpace",
    "TuneConfig",
    "split_validation",
    "tuning_data",
    "default_storage",
    "fail_orphaned_trials",
    "open_study",
    "optimize",
    "finalize",
    "save_plots",
    "study_summary",
    "add_arguments",
    "main",
    "run",
]
