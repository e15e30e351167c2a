"""The paper's experiments as resumable runs, and the reproduction report.

Every run is one (dataset, model/rule, seed) and lives in its own folder::

    results/<dataset>/runs/<rule>_s<seed>/
        checkpoint.pt   written atomically after every epoch while the run is unfinished (its
                        resume point; committed, so a killed run continues); deleted when it finishes
        history.json    per-epoch loss, accuracy, time, spike rates (labkit.training.History)
        model.pt        final weights (a plain state_dict)
        eval.json       the loss and readout of the run; test accuracy of every readout, the
                        fractions of silent and tied test digits (labkit.readout), and the same
                        under input noise σ ∈ NOISE_LEVELS; hidden-layer sparsity, the command and
                        wall time; its presence marks the run as finished

Runs (Table I, the ablations, the noise sweep and the convergence curves all come from them):

* ``stdp_only``  unsupervised competitive STDP layer + label assignment (labkit.competitive)
* ``bp``         surrogate-gradient BPTT (= the hybrid with STDP disabled)
* ``stdp``       the hybrid with backprop disabled (η2 = 0)
* ``sum``        the paper's literal hybrid rule
* ``adaptive``   A-STDP
* ``ann``        ReLU MLP 784-500-10

`reproduce` runs what is missing (finished runs are reused, killed runs resume from their
checkpoint) and then writes ``summary.json``, CSV tables, figures and ``report.md``.

The package: :mod:`~labkit.experiments.runs` (one run: train, resume or reuse, evaluate),
:mod:`~labkit.experiments.statistics` (over seeds), :mod:`~labkit.experiments.report` (tables and
verdicts), :mod:`~labkit.experiments.figures`, :mod:`~labkit.experiments.claims` (the paper's
figures the report compares with), :mod:`~labkit.experiments.command` (``labkit reproduce``),
:mod:`~labkit.experiments.noise_study` (every run under each noise protocol of `labkit.noise`,
``scripts/noise_study.py``, and where the noise is put and what it costs),
:mod:`~labkit.experiments.noise_report` (the report's section on it, Holm-corrected),
:mod:`~labkit.experiments.digits` (which test digits each run gets right, ``digits.json``),
:mod:`~labkit.experiments.verdicts` (every claim's verdict and the interval that decides it) and
:mod:`~labkit.experiments.energy_study` (the modelled energy table and accuracy and energy against T).
"""

from __future__ import annotations

from ..readout import DEFAULT_LOSS

from .runs import (
    FINISHED_FILES,
    GRADIENT_RULES,
    NOISE_LEVELS,
    RunSpec,
    STDP_ONLY_EPOCHS,
    code_version,
    load_history,
    prune_finished,
    recorded_loss,
    run_one,
    run_stdp_only,
)
from .statistics import (
    EQUIVALENCE_MARGIN,
    VERDICT_TEST_SIZE,
    bootstrap_difference,
    claim_verdict,
    difference_verdict,
    holm,
    tost,
    paired_comparison,
    paired_differences,
    statistic,
    seed_stats,
    summarize,
    t95,
    verdict,
)
from .digits import DIGITS_FILE, load_correct, record_digits
from .verdicts import CLAIMS, absolute_verdict, claim_records
from .energy_study import energy_rows, read_steps_sweep, steps_sweep
from .report import SECTIONS, ReportContext, claim_verdicts, markdown_table, report_tables, write_report
from .figures import convergence_figure, noise_figure, raster_figure, write_figures, write_raster_figure
from .claims import DEFAULT_EPOCHS, EARLIER_READOUT, LABELS, PAPER_ABLATION, PAPER_NOISE, PAPER_TABLE1, RUN_ORDER
from .command import add_arguments, reproduce, run

__all__ = [
    "DEFAULT_LOSS",
    "FINISHED_FILES",
    "GRADIENT_RULES",
    "NOISE_LEVELS",
    "RunSpec",
    "STDP_ONLY_EPOCHS",
    "code_version",
    "load_history",
    "prune_finished",
    "recorded_loss",
    "run_one",
    "run_stdp_only",
    "EQUIVALENCE_MARGIN",
    "VERDICT_TEST_SIZE",
    "bootstrap_difference",
    "claim_verdict",
    "holm",
    "tost",
    "difference_verdict",
    "paired_comparison",
    "paired_differences",
    "statistic",
    "seed_stats",
    "summarize",
    "t95",
    "verdict",
    "DIGITS_FILE",
    "load_correct",
    "record_digits",
    "CLAIMS",
    "absolute_verdict",
    "claim_records",
    "energy_rows",
    "read_steps_sweep",
    "steps_sweep",
    "SECTIONS",
    "ReportContext",
    "claim_verdicts",
    "markdown_table",
    "report_tables",
    "write_report",
    "convergence_figure",
    "noise_figure",
    "raster_figure",
    "write_figures",
    "write_raster_figure",
    "DEFAULT_EPOCHS",
    "EARLIER_READOUT",
    "LABELS",
    "PAPER_ABLATION",
    "PAPER_NOISE",
    "PAPER_TABLE1",
    "RUN_ORDER",
    "add_arguments",
    "reproduce",
    "run",
]
