"""Serve the A-STDP dashboard as a standalone page for a classroom (`make demo`): Voilà, no code shown.

    .venv/bin/python scripts/demo.py [--port 8866] [--ip 127.0.0.1] [--fast]

Runs Voilà (PyPI ``voila``) on demo/dashboard.ipynb, a notebook that only shows the chapter-5
dashboard in its presentation mode (large controls and figure, for a projector). Voilà executes
the notebook in a fresh kernel for every visitor and sends only the outputs, never the code.
Like JupyterLab, the page is protected by a token: a fresh random one is generated at every
start and printed with the URL; a request without it is refused. ``--ip 0.0.0.0`` serves the
room's network (then anyone who has the printed URL can train networks on this machine).
``--fast`` uses the test suite's small sizes (fast mode), for a quick check.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "demo" / "dashboard.ipynb"


def voila_command(*, port: int, token: str, ip: str = "127.0.0.1", notebook: Path = NOTEBOOK) -> list[str]:
    """The Voilà command line of the demo (used by `make demo` and by tests/test_demo.py)."""
    return [
        sys.executable, "-m", "voila", str(notebook),
        f"--port={port}", f"--Voila.ip={ip}", "--no-browser", f"--token={token}",
        "--strip_sources=True", "--show_tracebacks=False", "--theme=light",
        "--Voila.port_retries=0",
    ]


def demo_environment(*, fast: bool) -> dict:
    """The server's environment: the repository's labkit on the path, fast mode on or off."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["LABKIT_FAST"] = "1" if fast else "0"
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--fast", action="store_true", help="small sizes (fast mode), for a quick check")
    args = parser.parse_args(argv)
    if not NOTEBOOK.is_file():
        print(f"{NOTEBOOK} is missing", file=sys.stderr)
        return 2
    token = secrets.token_hex(24)
    host = "localhost" if args.ip in ("127.0.0.1", "localhost") else args.ip
    print(f"The A-STDP dashboard, for the room: http://{host}:{args.port}/?token={token}\n"
          "(open it on the projector's browser; Ctrl-C stops the server)", flush=True)
    command = voila_command(port=args.port, token=token, ip=args.ip)
    os.execve(command[0], command, demo_environment(fast=args.fast))


if __name__ == "__main__":
    sys.exit(main())
