"""The ``labkit`` command (also ``python -m labkit``).

    labkit data fetch mnist        download and verify full MNIST into data/mnist/
    labkit train --rule adaptive   train one network and print its test accuracy

Further commands (``reproduce``, ``deploy``, ``tune``, ``student``) are contributed by the
modules that implement them: each defines ``add_arguments(parser)`` and ``run(args) -> int``.

One error boundary, `main`, serves every command: a user error (labkit's `ValueError`
subclasses, a file that cannot be read or written) prints one line ``labkit: error: …`` that
says what was wrong and what to do, and exits with status 2; Ctrl-C says what was saved and
exits with 130. Output paths are checked before any work starts, so a typo in ``--out`` costs
seconds, not a training run.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable

from .foundation.io import check_free_space, write_text
from .foundation.secrets import hide_secrets

#: command name → (module, one-line help). A module is imported only when its command runs (`build_parser`).
COMMANDS = {
    "reproduce": ("labkit.experiments", "run the paper's experiments and write the reproduction report"),
    "deploy": ("labkit.loihi.deploy", "quantise a trained network and run it in Lava's Loihi simulation"),
    "tune": ("labkit.tune", "sweep η1, η2 (and κ) with Optuna"),
    "student": ("labkit.exercises", "write the student edition of the notebooks"),
    "campaign": ("labkit.campaign", "run the plasticity study's plans (dose, few labels, shifted inputs) and report"),
    "export": ("labkit.interop.snntorch", "write a trained run folder as an snnTorch model that loads without labkit"),
}

#: command → the options naming what it writes: (attribute, option, "file" or "folder").
OUTPUTS = {
    "data": (("root", "--root", "folder"),),
    "train": (("checkpoint", "--checkpoint", "file"), ("history", "--history", "file")),
    "reproduce": (("out", "--out", "folder"),),
    "deploy": (("out", "--out", "folder"),),
    "tune": (("out", "--out", "folder"),),
    "student": (("out", "--out", "folder"),),
    "campaign": (("out", "--out", "folder"),),
    "export": (("out", "--out", "folder"),),
}

#: The largest seed torch's generators take (they hold an unsigned 64-bit seed; labkit mixes in
#: stream and epoch offsets modulo 2**63).
MAX_SEED = 2**63 - 1


class _Parser(argparse.ArgumentParser):
    """argparse with every command's usage errors printed as ``labkit: error: …`` (exit status 2)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"labkit: error: {message}\n")


# ----------------------------------------------------------------------------- argument types


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (argparse names the option in its message)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def seed_int(text: str) -> int:
    """argparse type: a seed, an integer in [0, 2**63 - 1]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**63 - 1, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**63 - 1, got {value}")
    return value


# ----------------------------------------------------------------------------- output paths


class OutputPathError(ValueError):
    """An output path that cannot be written: it names the option and the path."""


def check_output_path(path: str | os.PathLike, option: str, kind: str = "file") -> None:
    """Raise `OutputPathError` unless ``path`` can be written as a ``kind`` ("file" or "folder").

    Checked before the work starts: nothing is created. The nearest existing ancestor must be a
    folder in which a file can be created (tried for real, so it holds for root and read-only
    file systems alike); an existing ``path`` must be of the right kind.
    """
    path = Path(path)
    if path.exists():
        if kind == "file" and path.is_dir():
            raise OutputPathError(f"{option} {path} is a folder; pass a file name, e.g. {path / 'checkpoint.pt'}")
        if kind == "folder" and not path.is_dir():
            raise OutputPathError(f"{option} {path} is a file, not a folder: pass a folder, or move the file away")
    parent = path if kind == "folder" else path.parent
    ancestor = parent
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise OutputPathError(
            f"{option} {path}: {ancestor} is a file where a folder is expected; pass another path, "
            "or move the file away"
        )
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as exc:
        raise OutputPathError(
            f"{option} {path} cannot be written ({exc.strerror or exc} in {ancestor}); pass a path in a "
            "folder you can write to"
        ) from None


def _check_outputs(args: argparse.Namespace) -> None:
    for attribute, option, kind in OUTPUTS.get(args.command, ()):
        value = getattr(args, attribute, None)
        if value is not None:
            if str(value).strip() == "":
                raise OutputPathError(f"{option} is empty: pass a {kind} name (an empty {option} would mean the "
                                      "current folder, which is never assumed)")
            check_output_path(value, option, kind)
            check_free_space(value if kind == "folder" else Path(value).parent, f"{option} {value}")


# ----------------------------------------------------------------------------- commands


def _data(args: argparse.Namespace) -> int:
    from . import data

    if args.dataset == "mnist":
        folder = data.fetch_mnist(args.root, quiet=args.quiet)
        if not args.quiet:
            print(f"MNIST ready in {folder} (4 files, SHA-256 verified)")
        return 0
    fetch = getattr(data, "fetch_nmnist", None)
    if fetch is None:
        print("labkit: error: N-MNIST support is not available in this version of labkit", file=sys.stderr)
        return 2
    fetch(args.root)
    return 0


def _train(args: argparse.Namespace) -> int:
    from .data import mnist_data
    from .models import ANNBaseline, SpikingMLP
    from .training import checkpoint_lock, train

    if args.history is not None and Path(args.history).exists():
        raise ValueError(f"--history {args.history} exists already: pass another file name, or move it away "
                         "(labkit never writes over a record it did not just make)")
    data = mnist_data(args.source, train_limit=args.train_limit, test_limit=args.test_limit)
    model = ANNBaseline(seed=args.seed) if args.rule == "ann" else SpikingMLP(seed=args.seed)
    rule = "bp" if args.rule == "ann" else args.rule
    params = {k: v for k, v in (("eta1", args.eta1), ("eta2", args.eta2), ("reading", args.reading),
                                ("direction", args.direction)) if v is not None}
    with checkpoint_lock(args.checkpoint):  # a second run on the same checkpoint refuses at once
        history = train(model, rule, data, args.epochs, seed=args.seed, device=args.device,
                        checkpoint=args.checkpoint, **params)
    print(f"{args.rule} on {data.name}: test accuracy {history.test_acc[-1]:.4f} after {history.epochs} epochs")
    doses = {k: v for k, v in (history.rule_stats[-1] if history.rule_stats else {}).items() if k.startswith("dose")}
    if doses:  # the measured STDP dose of the last epoch (labkit.rules): how much the local rule could act
        print("STDP dose ρ = ‖η1·c·ΔW_stdp‖ / ‖gradient step‖ in the last epoch: "
              + ", ".join(f"layer {int(k[4:]) + 1} {v:.3g}" for k, v in sorted(doses.items())))
    if args.history is not None:
        write_text(args.history, history.to_json())
        print(f"history (per epoch: loss, accuracies, spike rates, the rule's dose, cosine and coefficients) "
              f"written to {args.history}")
    return 0


def _command_of(argv: list[str]) -> str | None:
    """The command ``argv`` names: its first word that is not an option (the top level takes only ``-h``)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(load: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line. ``load``: the contributed commands (`COMMANDS`) whose module is imported
    to add its options (default: all); the others are listed with their one-line help only, so that
    ``labkit --help`` and ``labkit train`` import none of them (several import torch or nbformat)."""
    load = set(COMMANDS) if load is None else set(load)
    parser = _Parser(prog="labkit", description="The bio-hybrid SNN lab's command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("data", help="fetch datasets")
    p.add_argument("action", choices=["fetch"])
    p.add_argument("dataset", choices=["mnist", "nmnist"])
    p.add_argument("--root", default=None, help="data folder (default: $LABKIT_DATA or the repository's data/)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_data)

    p = sub.add_parser("train", help="train one network")
    p.add_argument("--rule", default="bp", choices=["bp", "stdp", "sum", "adaptive", "ann"])
    p.add_argument("--epochs", type=positive_int, default=1)
    p.add_argument("--seed", type=seed_int, default=0, help="seed of the weights, batch order and rate code")
    p.add_argument("--eta1", type=float, default=None, help="STDP learning rate η1 (default 0.01)")
    p.add_argument("--eta2", type=float, default=None, help="Adam learning rate η2 (default 0.001)")
    p.add_argument("--source", default="auto", choices=["auto", "full", "bundled"])
    p.add_argument("--train-limit", type=positive_int, default=None, help="use only the first n training digits")
    p.add_argument("--test-limit", type=positive_int, default=None, help="use only the first n test digits")
    p.add_argument("--device", default="auto")
    p.add_argument("--checkpoint", default=None, help="checkpoint file; an existing one is resumed")
    p.add_argument("--history", default=None,
                   help="write the run's history as JSON to this new file (per epoch: loss, accuracies, and for "
                        "rules with STDP the measured dose ρ and cosine of each layer)")
    p.add_argument("--reading", default=None, choices=["mean", "batch_sum", "adam", "sgd"],
                   help="how η1·STDP and η2·backprop combine (labkit.rules; default mean)")
    p.add_argument("--direction", default=None, choices=["stdp", "random", "decay"],
                   help="the STDP term, or a control of the same norm: random direction or weight decay")
    p.set_defaults(func=_train)

    for name, (module_name, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:  # imports the parent packages only
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name in load:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            p.set_defaults(func=module.run)
    return parser


# ----------------------------------------------------------------------------- the error boundary


def _interrupted(args: argparse.Namespace) -> str:
    """What Ctrl-C leaves behind, per command: said honestly, never "saved" when nothing was."""
    if args.command == "train":
        if args.checkpoint is None:
            return "nothing was saved (pass --checkpoint FILE to keep each finished epoch)"
        if Path(args.checkpoint).is_file():
            return (f"the epochs finished before the interrupt are in {args.checkpoint}; "
                    "run the same command to resume")
        return f"no epoch had finished, so {args.checkpoint} was not written"
    if args.command == "reproduce":
        return f"finished runs are saved under {args.out}; run the same command to continue with the rest"
    if args.command == "data":
        return "no half-written file was left under a final name; run the same command to fetch what is missing"
    if args.command == "student":
        return f"some notebooks of {args.out} may be missing; run the same command again"
    if args.command == "deploy":
        return ("deploy writes its results (deploy.json, bundle.npz, model.nir) only when every mode has run, so "
                "none was written; the Lava processes are stopped with it")
    return "work in progress was not saved"


def _user_error_message(exc: BaseException) -> str | None:
    """The one-line message for a user error, or None for anything else (a bug: let it show)."""
    if isinstance(exc, ValueError):  # LabkitError and its subclasses (a LabkitError is a ValueError)
        return str(exc)
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        what = exc.strerror or str(exc)
        if exc.errno == errno.ENOSPC:
            return f"{what} ({exc.filename})" if where and "free some space" in what else (
                f"no space left on the device{' for' + where if where else ''}; free some space there or pass "
                "another output path")
        return f"{what}:{where}; check the path and its permissions" if where else f"{what}"
    return None


def _hide_secrets(text: str, args: argparse.Namespace | None) -> str:
    """``text`` with the password of a ``--storage`` URL hidden (`labkit.foundation.secrets`)."""
    return hide_secrets(text, getattr(args, "storage", None))


def main(argv: list[str] | None = None) -> int:
    """Run the ``labkit`` command; returns the exit status (0 done, 2 user error, 130 interrupted)."""
    args = None
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(load=[_command_of(argv)]).parse_args(argv)
        _check_outputs(args)
        return args.func(args)
    except SystemExit as exc:  # usage errors (already printed as `labkit: error: …`) and --help
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        if args is None:
            return 130
        print(f"labkit {args.command}: interrupted; {_interrupted(args)}", file=sys.stderr)
        return 130
    except Exception as exc:
        message = _user_error_message(exc)
        if message is None:
            raise
        print(f"labkit: error: {_hide_secrets(message, args)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
