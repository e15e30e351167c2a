"""Helpers shared by tests/test_book.py, tests/test_browser.py and scripts/screenshot_dashboard.py.

* `build_book_once()` builds the book from the repository's notebooks into book/_build/html,
  once per process, and returns the result (so both test files share one build).
* `chromium_or_skip()`, `launch_chromium()`: Debian's chromium driven by Playwright (Playwright's
  own browser download does not work offline). Without chromium the browser tests skip, unless
  CI=true, where they fail.
* `serve_directory()`: a static HTTP server on a free local port.
* `jupyterlab()`: a JupyterLab server on a free port with a random token and isolated
  settings, runtime and data folders; `open_notebook`, `run_all_cells`, `drive_dashboard`
  operate it through the page like a student would.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import http.server
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The chapter notebooks under test; LABKIT_NOTEBOOKS_DIR points the tests at another folder
# (used while developing the tests against stand-in notebooks).
NOTEBOOKS = Path(os.environ.get("LABKIT_NOTEBOOKS_DIR", ROOT / "notebooks")).resolve()
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

sys.path.insert(0, str(ROOT / "scripts"))
import build_book  # noqa: E402  (scripts/build_book.py)


# --------------------------------------------------------------------------- the book


def toc_chapter_notebooks() -> list[str]:
    """The notebooks book/_toc.yml sequences, in order, as docnames ("notebooks/01_lif_neuron")."""
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    return [name for name in build_book._toc_files(toc) if name.startswith("notebooks/")]


@dataclass
class BookBuild:
    html: Path
    returncode: int
    log: str
    chapters: list[str] = field(default_factory=list)  # docnames of the chapter notebooks present

    def page(self, docname: str) -> Path:
        return self.html / f"{docname}.html"


@functools.lru_cache(maxsize=1)
def build_book_once() -> BookBuild:
    """Build the book (strict, every page read) once per process, as `make book` does.

    The build goes to book/_build/html, so a test run leaves the book there; with
    LABKIT_NOTEBOOKS_DIR set (other notebooks than the repository's) it goes to a temporary folder.
    """
    if NOTEBOOKS == (ROOT / "notebooks").resolve():
        out = ROOT / "book" / "_build"
    else:
        out = Path(tempfile.mkdtemp(prefix="labkit-book-"))
        atexit.register(shutil.rmtree, out, ignore_errors=True)
    cmd = [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--build-dir", str(out),
           "--notebooks", str(NOTEBOOKS)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    present = [f"notebooks/{p.stem}" for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))]
    return BookBuild(out / "html", proc.returncode, proc.stdout + proc.stderr, present)


# --------------------------------------------------------------------------- browser


def chromium_or_skip() -> str:
    """Path of Debian's chromium; skips the test when absent (fails instead when CI=true)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None
    if path is None:
        problem = "chromium not found on PATH (install it with: sudo apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the Python package playwright is not installed (make setup installs it)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests must run in CI, but {problem}")
        pytest.skip(problem)
    return path


def launch_chromium(playwright, executable: str):
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@contextlib.contextmanager
def serve_directory(directory: Path):
    """Serve `directory` over HTTP on a free local port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def screenshot_on_failure(page, name: str):
    """Save test-artifacts/<name>.png (full page) if the block raises, then re-raise."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"), full_page=True)
        raise


# --------------------------------------------------------------------------- JupyterLab


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def tree_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?token={self.token}"


def _lab_settings(settings: Path) -> None:
    """User settings of the isolated JupyterLab: no news toasts, every cell kept in the DOM,
    the notebook's kernel started without asking."""
    values = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
            "windowingMode": "none",
            "autoStartDefaultKernel": True,
        },
    }
    for rel, value in values.items():
        path = settings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, name: str, timeout: float, *,
                   accept_http_error: bool = False) -> None:
    """Poll ``url`` until the server ``process`` answers it; ``accept_http_error``: an HTTP error status counts as
    an answer. A `RuntimeError` with the end of the server's ``log`` when it exits or stays silent for ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            if accept_http_error:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


@contextlib.contextmanager
def jupyterlab(notebooks: Path = NOTEBOOKS, *, fast: bool = True, timeout: float = 90.0):
    """Start JupyterLab on a copy of `notebooks`; yields a LabServer, shuts it down after.

    The server root is a temporary folder holding a copy of the notebooks in notebooks/ and
    links to the repository's data/ and results/, so relative paths in the chapters work
    and running them never writes into the repository. The kernel is this interpreter's
    (the .venv's); `fast` runs the chapters in fast mode (LABKIT_FAST=1, what the tests use).
    """
    tmp = Path(tempfile.mkdtemp(prefix="labkit-lab-"))
    root = tmp / "root"
    shutil.copytree(notebooks, root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name in ("data", "results", "docs"):
        if (ROOT / name).exists():
            (root / name).symlink_to(ROOT / name)
    _lab_settings(tmp / "settings")
    token = secrets.token_hex(16)
    port = free_port()
    env = dict(os.environ)
    env.update({
        "LABKIT_FAST": "1" if fast else "0",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "IPYTHONDIR": str(tmp / "ipython"),
    })
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI and containers run as root
    log = tmp / "jupyterlab.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=root)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, process, log)
    try:
        _wait_until_up(f"{server.url}/api/status?token={token}", process, log, "JupyterLab", timeout)
        yield server
    finally:
        with contextlib.suppress(OSError):
            req = urllib.request.Request(f"{server.url}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(req, timeout=5)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(tmp, ignore_errors=True)


_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def open_notebook(page, server: LabServer, path: str, *, timeout_ms: float = 90_000) -> None:
    """Open `path` (relative to the server root) and wait until its kernel is idle."""
    page.goto(server.tree_url(path), wait_until="domcontentloaded", timeout=timeout_ms)
    page.wait_for_selector(f"{_PANEL} .jp-Notebook .jp-Cell", timeout=timeout_ms)
    # Should JupyterLab still ask which kernel to start, take the one it proposes (the notebook's).
    with contextlib.suppress(Exception):
        page.locator(".jp-Dialog .jp-mod-accept").click(timeout=3_000)
    wait_kernel_idle(page, timeout_ms=timeout_ms)


def wait_kernel_idle(page, *, timeout_ms: float) -> None:
    page.wait_for_selector(f"{_PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout_ms)


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")).click()


# Prompts of code cells whose input is shown: a collapsed solution cell (jupyter.source_hidden) shows a
# placeholder instead, whose prompt never displays an execution count.
_PROMPTS = (f"[...document.querySelectorAll('{_PANEL} .jp-CodeCell .jp-InputPrompt')]"
            ".filter(e => e.offsetParent !== null && !e.classList.contains('jp-Placeholder-prompt'))")


def run_all_cells(page, *, timeout_ms: float = 180_000) -> None:
    """Edit → Clear Outputs of All Cells, then Run → Run All Cells; returns when every cell has run.

    Clearing first makes completion observable: saved outputs come with execution counts, so
    only after clearing does "every prompt shows a number" mean "every cell has run now".
    """
    _menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(f"() => {_PROMPTS}.every(p => !/\\[\\d+\\]/.test(p.textContent))", timeout=10_000)
    _menu(page, "Run", "Run All Cells")
    # A prompt shows "[*]" while its cell is queued or running, its execution count when done.
    page.wait_for_function(
        f"() => {{ const p = {_PROMPTS}; return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }}",
        timeout=timeout_ms,
        polling=500,
    )
    wait_kernel_idle(page, timeout_ms=timeout_ms)


def cell_errors(page) -> list[str]:
    """Texts of error outputs (tracebacks) in the open notebook."""
    return page.eval_on_selector_all(
        f"{_PANEL} .jp-RenderedText[data-mime-type='application/vnd.jupyter.error']",
        "els => els.map(e => e.textContent.slice(0, 2000))",
    )


@dataclass
class DashboardRun:
    eta1_before: str
    eta1_after: str
    result_before: str
    result_after: str


def press_slider(page, css_class: str, key: str, times: int = 1) -> str:
    """Press `key` (ArrowRight, ArrowLeft, End, ...) on the handle of the slider with `css_class`;
    returns the slider's readout afterwards."""
    slider = page.locator(f".{css_class}").first
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(times):
        handle.press(key)
    readout = slider.locator(".widget-readout").first
    return readout.inner_text() if readout.count() else ""


def drive_dashboard(page, *, timeout_ms: float = 120_000) -> tuple[DashboardRun, object]:
    """Move the η1 slider one notch, press Train, wait for the result text to change.

    Returns the texts seen and the dashboard's output area (a Locator, for a screenshot).
    Works on the first output that contains a `.labkit-eta1` control.
    """
    slider = page.locator(".labkit-eta1").first
    slider.scroll_into_view_if_needed()
    area = page.locator(".jp-OutputArea-output", has=page.locator(".labkit-eta1")).first
    result = area.locator(".labkit-result").first
    readout = slider.locator(".widget-readout").first
    eta_before = readout.inner_text() if readout.count() else ""
    result_before = result.inner_text()
    handle = slider.locator(".noUi-handle").first
    if handle.count():  # ipywidgets 8 sliders: noUiSlider, keyboard-operable handle
        handle.focus()
        handle.press("ArrowRight")
        if readout.count() and readout.inner_text() == eta_before:  # it was at its right end
            handle.press("ArrowLeft")
            handle.press("ArrowLeft")
    else:  # a dropdown or a text box standing in for the slider
        slider.locator("select, input").first.press("ArrowDown")
    eta_after = readout.inner_text() if readout.count() else ""
    # The button's text, not its accessible name: an icon's glyph would be part of the name.
    area.locator("button", has_text=re.compile(r"^\W*Train\W*$")).first.click()
    page.wait_for_function(
        """([el, before]) => el.textContent !== before && /accuracy/i.test(el.textContent) && /\\d/.test(el.textContent)""",
        arg=[result.element_handle(), result_before],
        timeout=timeout_ms,
        polling=250,
    )
    return DashboardRun(eta_before, eta_after, result_before, result.inner_text()), area


# --------------------------------------------------------------------------- the classroom demo (Voilà)


@dataclass
class DemoServer:
    url: str
    token: str
    process: subprocess.Popen
    log: Path

    @property
    def page_url(self) -> str:
        return f"{self.url}/?token={self.token}"


@contextlib.contextmanager
def voila_demo(*, fast: bool = True, timeout: float = 90.0):
    """Start `make demo`'s Voilà server (scripts/demo.py's command) on a free port with a random token."""
    import demo  # scripts/demo.py (scripts/ is on sys.path above)

    tmp = Path(tempfile.mkdtemp(prefix="labkit-demo-"))
    token, port = secrets.token_hex(16), free_port()
    env = demo.demo_environment(fast=fast)
    env.update({"MPLBACKEND": "module://matplotlib_inline.backend_inline", "JUPYTER_CONFIG_DIR": str(tmp / "config"),
                "JUPYTER_DATA_DIR": str(tmp / "data"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
                "IPYTHONDIR": str(tmp / "ipython")})
    log = tmp / "voila.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(demo.voila_command(port=port, token=token), stdout=log_file,
                                   stderr=subprocess.STDOUT, env=env, cwd=tmp)
    server = DemoServer(f"http://127.0.0.1:{port}", token, process, log)
    try:
        # any HTTP answer means the server is up (Voilà serves no status API; the page itself starts a kernel)
        _wait_until_up(f"{server.url}/voila/static/labkit-readiness-probe", process, log, "Voilà", timeout,
                       accept_http_error=True)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
