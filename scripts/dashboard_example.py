"""Record the example runs the chapter-5 dashboard draws before its first run (what static readers see).

    .venv/bin/python scripts/dashboard_example.py [--out results/dashboard/example_runs.json] [--seeds 3]

Trains, with the dashboard's default settings (the full course's, not fast mode: 784-200-10,
2,000 training and 500 test digits of the bundled subset, 2 epochs, batch 64, η1 = 0.01,
η2 = 0.001, κ = 0.05), `bp` and `adaptive` for seeds 0, 1, 2 each through the same
`labkit.training.live.LiveRun` the Train button uses, and writes both runs' curves and final
accuracies as JSON (`labkit.training.live.RecordedRun.to_dict`). Deterministic: the same
machine and thread count give the same file.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.pop("LABKIT_FAST", None)  # the full course's defaults

from tqdm.auto import tqdm  # noqa: E402

from labkit.foundation.io import write_json  # noqa: E402
from labkit.training.live import LiveRun, RecordedRun  # noqa: E402
from labkit.widgets import EXAMPLE_RUNS, hybrid_dashboard  # noqa: E402
from labkit.widgets.astdp_view import run_label  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=EXAMPLE_RUNS)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per rule (default 3: 0, 1, 2)")
    parser.add_argument("--rules", nargs="+", default=["bp", "adaptive"])
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bundled subset is what the dashboard uses
        dashboard = hybrid_dashboard(example=False, device="cpu", n_seeds=args.seeds)
    records = []
    for rule in args.rules:
        dashboard.rule.value = rule
        settings = dashboard.settings()
        live = LiveRun(dashboard.data, settings, device="cpu")
        with tqdm(total=live.batches_per_seed() * len(settings.seeds), desc=rule) as bar:
            live.callbacks.append(lambda e: bar.update(1) if e["kind"] == "progress" else None)
            live.run()
        if live.error is not None:
            raise live.error
        record = RecordedRun.of(live, "example: " + run_label(settings))
        summary = record.summary()
        tqdm.write(f"{record.label}: clean {100 * summary.clean_mean:.1f} ± {100 * summary.clean_sd:.1f} %, "
                   f"noisy {100 * summary.noisy_mean:.1f} ± {100 * summary.noisy_sd:.1f} %")
        records.append(record.to_dict())
    command = "python scripts/dashboard_example.py " + " ".join(argv if argv is not None else sys.argv[1:])
    write_json(args.out, {"command": command.strip(), "runs": records})
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
