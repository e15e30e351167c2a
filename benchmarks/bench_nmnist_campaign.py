"""What the ``nmnist-sim`` campaign costs: the memory of a training process and one epoch of each variant.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_nmnist_campaign.py --memory packed
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_nmnist_campaign.py --memory float --load 6000,2000
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_nmnist_campaign.py --epoch-cost [--train 6000]

``--memory MODE`` loads ``--load N_TRAIN,N_TEST`` simulated digits from the cache (default all
60,000 + 10,000) stored as ``MODE`` (``float``: float32 frames; ``packed``: the cache's bits,
unpacked batch by batch), trains bp for one epoch on the first ``--train`` of them and tests on the
loaded test digits, then prints the process's peak resident memory (ru_maxrss) and, for float, the
frames' bytes per digit to extrapolate to the full set (70,000 digits of float32 frames do not fit
this machine).

``--epoch-cost`` runs each variant of the plan (`labkit.campaign.nmnist.VARIANTS`) as the campaign
does (`run_nmnist`, 1 epoch) on the first ``--train`` training digits and all 10,000 test digits,
times a second test pass on its own, and extrapolates one epoch on 60,000 digits (training part x
60,000 / N, plus one test pass) and the whole plan (its points x its epochs). CPU seconds are
process time of one thread; wall time on a shared machine is longer.
"""

from __future__ import annotations

import argparse
import resource
import time


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def memory(mode: str, n_train: int, n_test: int, train_on: int) -> None:
    from labkit.campaign.nmnist import make_model
    from labkit.data import nmnist_sim_data
    from labkit.training import train

    started = time.perf_counter()
    data = nmnist_sim_data(n_train, n_test, 25, seed=0, source="full", frames=mode)
    loaded = _peak_mb()
    per_digit = data.train_x[0].numel() * data.train_x.element_size()
    print(f"{mode}: {n_train:,} + {n_test:,} digits loaded in {time.perf_counter() - started:.1f} s, "
          f"{per_digit:,} bytes per digit, peak RSS {loaded:,.0f} MB", flush=True)
    part = data._replace(train_x=data.train_x[:train_on], train_y=data.train_y[:train_on])
    train(make_model("bp", False, part, 0), "bp", part, 1, seed=0, progress=False)
    peak = _peak_mb()
    print(f"{mode}: after one bp epoch on {train_on:,} digits and the test pass: peak RSS {peak:,.0f} MB")
    if mode == "float":
        full = peak + (70_000 - n_train - n_test) * per_digit / 2**20
        print(f"{mode}: extrapolated to 60,000 + 10,000 digits: {full:,.0f} MB "
              f"(+ {per_digit:,} bytes for each further digit)")


def epoch_cost(train_on: int, variants: list[str] | None = None) -> None:
    from labkit.campaign import PLANS
    from labkit.campaign.nmnist import VARIANTS, make_model, load_nmnist_sim, run_nmnist
    from labkit.training import evaluate

    data = load_nmnist_sim()
    part = data._replace(train_x=data.train_x[:train_on], train_y=data.train_y[:train_on])
    plan = PLANS["nmnist-sim"]
    total = 0.0
    for variant, (rule, recurrent) in VARIANTS.items():
        if variants and variant not in variants:
            continue
        cpu = time.process_time()
        run_nmnist({"variant": variant, "seed": 0}, part, 1)
        both = time.process_time() - cpu
        model = make_model(rule, recurrent, data, 0)
        cpu = time.process_time()
        evaluate(model, data.test_x, data.test_y, encoder=data.encoder)  # the same forward passes as the loop's
        test = time.process_time() - cpu
        epoch = (both - test) * 60_000 / train_on + test
        points = sum(p["variant"] == variant for p in plan.points)
        total += points * plan.epochs * epoch
        print(f"{variant:>13}: {train_on:,} digits + test pass {both:.1f} CPU-s (test pass {test:.1f}); one epoch "
              f"on 60,000: {epoch / 60:.2f} CPU-min; {points} points x {plan.epochs} epochs = "
              f"{points * plan.epochs * epoch / 3600:.2f} CPU-h", flush=True)
    print(f"these variants' share of the plan ({plan.epochs} epochs each): {total / 3600:.2f} CPU-hours")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", choices=["float", "packed"])
    parser.add_argument("--load", default="60000,10000", help="N_TRAIN,N_TEST digits to load for --memory")
    parser.add_argument("--epoch-cost", action="store_true")
    parser.add_argument("--variants", nargs="+", default=None, help="time only these variants (default: all)")
    parser.add_argument("--train", type=int, default=6000, help="training digits of the timed epoch")
    args = parser.parse_args(argv)
    if args.memory:
        n_train, n_test = (int(n) for n in args.load.split(","))
        memory(args.memory, n_train, n_test, min(args.train, n_train))
    if args.epoch_cost:
        epoch_cost(args.train, args.variants)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
