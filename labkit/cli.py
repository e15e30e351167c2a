"""The ``labkit`` command.

    labkit data fetch mnist        download and verify full MNIST into data/mnist/
    labkit train --rule adaptive   train one network and print its test accuracy

Further commands (``reproduce``, ``deploy``, ``tune``, ``student``) are contributed by the
modules that implement them: each defines ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: command name → (module, one-line help). Modules are imported only when present.
COMMANDS = {
    "reproduce": ("labkit.experiments", "run the paper's experiments and write the reproduction report"),
    "deploy": ("labkit.loihi.deploy", "quantise a trained network and run it in Lava's Loihi simulation"),
    "tune": ("labkit.tune", "sweep η1, η2 (and κ) with Optuna"),
    "student": ("labkit.exercises", "write the student edition of the notebooks"),
}


def _data(args: argparse.Namespace) -> int:
    from . import data

    if args.dataset == "mnist":
        folder = data.fetch_mnist(args.root, quiet=args.quiet)
        if not args.quiet:
            print(f"MNIST ready in {folder} (4 files, SHA-256 verified)")
        return 0
    fetch = getattr(data, "fetch_nmnist", None)
    if fetch is None:
        print("N-MNIST support is not available in this version of labkit", file=sys.stderr)
        return 2
    fetch(args.root)
    return 0


def _train(args: argparse.Namespace) -> int:
    from .data import mnist_data
    from .models import ANNBaseline, SpikingMLP
    from .training import train

    data = mnist_data(args.source, train_limit=args.train_limit, test_limit=args.test_limit)
    model = ANNBaseline(seed=args.seed) if args.rule == "ann" else SpikingMLP(seed=args.seed)
    rule = "bp" if args.rule == "ann" else args.rule
    params = {k: v for k, v in (("eta1", args.eta1), ("eta2", args.eta2)) if v is not None}
    history = train(model, rule, data, args.epochs, seed=args.seed, device=args.device,
                    checkpoint=args.checkpoint, resume=args.checkpoint is not None, **params)
    print(f"{args.rule} on {data.name}: test accuracy {history.test_acc[-1]:.4f} after {history.epochs} epochs")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description="The bio-hybrid SNN lab's command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("data", help="fetch datasets")
    p.add_argument("action", choices=["fetch"])
    p.add_argument("dataset", choices=["mnist", "nmnist"])
    p.add_argument("--root", default=None, help="data folder (default: $LABKIT_DATA or the repository's data/)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_data)

    p = sub.add_parser("train", help="train one network")
    p.add_argument("--rule", default="bp", choices=["bp", "stdp", "sum", "adaptive", "ann"])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eta1", type=float, default=None, help="STDP learning rate η1 (default 0.01)")
    p.add_argument("--eta2", type=float, default=None, help="Adam learning rate η2 (default 0.001)")
    p.add_argument("--source", default="auto", choices=["auto", "full", "bundled"])
    p.add_argument("--train-limit", type=int, default=None)
    p.add_argument("--test-limit", type=int, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--checkpoint", default=None, help="checkpoint file; an existing one is resumed")
    p.set_defaults(func=_train)

    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"labkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"labkit {args.command}: interrupted; finished work is saved", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
