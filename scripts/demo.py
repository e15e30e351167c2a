"""Serve the A-STDP dashboard as a standalone page for a classroom (`make demo`): Voilà, no code shown.

    .venv/bin/python scripts/demo.py [--port 8866] [--ip 127.0.0.1] [--fast]

Runs Voilà (PyPI ``voila``) on demo/dashboard.ipynb, a notebook that only shows the chapter-5
dashboard in its presentation mode (large controls and figure, for a projector). Voilà executes
the notebook in a fresh kernel for every visitor and sends only the outputs, never the code.
Like JupyterLab, the page is protected by a token: a fresh random one is generated at every
start and printed with the URL; a request without it is refused. ``--ip 0.0.0.0`` serves the
room's network (then anyone who has the printed URL can train networks on this machine).
``--fast`` uses the test suite's small sizes (fast mode), for a quick check.

Every page load starts a kernel (~290 MB), so the server is bounded: a kernel idle for
``--cull-after`` seconds (default 900) is shut down (checked every minute; Jupyter's
``MappingKernelManager.cull_idle_timeout`` and ``cull_interval``), and at most ``--max-kernels``
run at once (default 12; `CappedKernelManager`): the next visitor is told to try again in a few
minutes instead of the machine running out of memory.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "demo" / "dashboard.ipynb"

#: Defaults of the bounds: kernels at once, seconds a kernel may stay idle, seconds between two checks.
MAX_KERNELS, CULL_AFTER, CULL_INTERVAL = 12, 900, 60


def voila_command(*, port: int, token: str, ip: str = "127.0.0.1", notebook: Path = NOTEBOOK,
                  max_kernels: int = MAX_KERNELS, cull_after: int = CULL_AFTER) -> list[str]:
    """The Voilà command line of the demo (used by `make demo` and by tests/test_demo.py): token, no code shown,
    idle kernels culled after ``cull_after`` seconds, at most ``max_kernels`` kernels at once."""
    for name, value in (("max_kernels", max_kernels), ("cull_after", cull_after)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return [
        sys.executable, "-m", "voila", str(notebook),
        f"--port={port}", f"--Voila.ip={ip}", "--no-browser", f"--token={token}",
        "--strip_sources=True", "--show_tracebacks=False", "--theme=light",
        "--Voila.port_retries=0",
        f"--MappingKernelManager.cull_idle_timeout={cull_after}",
        f"--MappingKernelManager.cull_interval={min(CULL_INTERVAL, cull_after)}",
        "--MappingKernelManager.cull_connected=False",
        "--VoilaConfiguration.multi_kernel_manager_class=demo.CappedKernelManager",
        f"--CappedKernelManager.max_kernels={max_kernels}",
    ]


def _capped_kernel_manager():
    """Jupyter's kernel manager with a cap: `start_kernel` answers 503 (try again later) while ``max_kernels``
    kernels run. Built on first use, so importing this script needs no Jupyter server."""
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from tornado import web
    from traitlets import Integer

    class CappedKernelManager(AsyncMappingKernelManager):
        max_kernels = Integer(MAX_KERNELS, config=True, help="kernels (dashboards) running at once, at most")

        async def start_kernel(self, *args, **kwargs):
            if kwargs.get("kernel_id") is None and len(self.list_kernel_ids()) >= self.max_kernels:
                raise web.HTTPError(503, f"the demo already runs {self.max_kernels} dashboard(s), its limit: try "
                                         "again in a few minutes (idle dashboards are closed after a while)")
            return await super().start_kernel(*args, **kwargs)

    return CappedKernelManager


def __getattr__(name: str):
    if name == "CappedKernelManager":  # the server imports it by name (demo.CappedKernelManager)
        return _capped_kernel_manager()
    raise AttributeError(name)


def demo_environment(*, fast: bool) -> dict:
    """The server's environment: the repository's labkit on the path, fast mode on or off."""
    env = dict(os.environ)
    # scripts/ first: the server imports this file as `demo` for its capped kernel manager
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "scripts"), str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["LABKIT_FAST"] = "1" if fast else "0"
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--fast", action="store_true", help="small sizes (fast mode), for a quick check")
    parser.add_argument("--max-kernels", type=int, default=MAX_KERNELS,
                        help=f"dashboards running at once, at most (default {MAX_KERNELS}; each takes ~290 MB)")
    parser.add_argument("--cull-after", type=int, default=CULL_AFTER,
                        help=f"seconds after which an idle dashboard's kernel is shut down (default {CULL_AFTER})")
    args = parser.parse_args(argv)
    for option, value in (("--max-kernels", args.max_kernels), ("--cull-after", args.cull_after)):
        if value < 1:
            parser.error(f"{option} must be >= 1, got {value}")
    if not NOTEBOOK.is_file():
        print(f"{NOTEBOOK} is missing", file=sys.stderr)
        return 2
    token = secrets.token_hex(24)
    host = "localhost" if args.ip in ("127.0.0.1", "localhost") else args.ip
    print(f"The A-STDP dashboard, for the room: http://{host}:{args.port}/?token={token}\n"
          "(open it on the projector's browser; Ctrl-C stops the server)", flush=True)
    command = voila_command(port=args.port, token=token, ip=args.ip, max_kernels=args.max_kernels,
                            cull_after=args.cull_after)
    os.execve(command[0], command, demo_environment(fast=args.fast))


if __name__ == "__main__":
    sys.exit(main())
