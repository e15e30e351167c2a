"""Screenshot the A-STDP dashboard after a training run, for the README.

    .venv/bin/python scripts/screenshot_dashboard.py [--out docs/astdp_dashboard.png] [--epochs 5] [--fast]
    .venv/bin/python scripts/screenshot_dashboard.py --demo [--seeds 3] [--fast]

Does what a student does (and what tests/test_browser.py checks): starts JupyterLab on a
temporary copy of notebooks/, opens 05_astdp.ipynb, runs all cells, moves the η1 slider, sets
the number of epochs, presses "Train", waits until the run has finished, and saves the
dashboard's output area as a PNG. The chapter runs in normal mode (the dashboard's default
subset sizes) unless --fast is given; a run takes a few minutes on a laptop CPU.

``--demo`` does what a lecturer does instead: serves the classroom page of `make demo` (Voilà,
scripts/demo.py), sets the number of seeds, moves η1, presses Train, and when the run has ended
saves the whole page (docs/demo_dashboard.png, ``--demo-out``) and the dashboard alone (``--out``).
Needs Debian's chromium (`sudo apt-get install chromium`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from book_support import (  # noqa: E402  (tests/book_support.py)
    NOTEBOOKS,
    drive_dashboard,
    jupyterlab,
    launch_chromium,
    open_notebook,
    press_slider,
    run_all_cells,
    voila_demo,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "astdp_dashboard.png")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="folder holding 05_astdp.ipynb")
    parser.add_argument("--scale", type=float, default=1.5, help="device pixel ratio of the screenshot")
    parser.add_argument("--epochs", type=int, default=5, help="epochs for the dashboard's run")
    parser.add_argument("--fast", action="store_true", help="run the chapter in fast mode (LABKIT_FAST=1)")
    parser.add_argument("--demo", action="store_true", help="screenshot the classroom page of `make demo` instead")
    parser.add_argument("--demo-out", type=Path, default=ROOT / "docs" / "demo_dashboard.png")
    parser.add_argument("--seeds", type=int, default=3, help="--demo: seeds of the run (default 3)")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium not found: install it with `sudo apt-get install chromium`", file=sys.stderr)
        return 2
    if not (args.notebooks / "05_astdp.ipynb").is_file():
        print(f"{args.notebooks / '05_astdp.ipynb'} does not exist", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    if args.demo:
        return demo_screenshots(args, chromium)
    with sync_playwright() as playwright, jupyterlab(args.notebooks, fast=args.fast) as lab:
        browser = launch_chromium(playwright, chromium)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=args.scale)
        open_notebook(page, lab, "notebooks/05_astdp.ipynb")
        run_all_cells(page, timeout_ms=900_000)
        epochs = "?"
        if page.locator(".labkit-epochs").count():
            press_slider(page, "labkit-epochs", "Home")
            epochs = press_slider(page, "labkit-epochs", "ArrowRight", args.epochs - 1)
        run, dashboard = drive_dashboard(page, timeout_ms=900_000)
        # The result text changes when the run starts reporting; wait for the run to end
        # (Stop is disabled again) and for the last redraw of the live plot.
        if page.locator(".labkit-stop").count():
            page.wait_for_selector("button.labkit-stop[disabled]", state="attached", timeout=900_000)
        page.wait_for_timeout(2000)
        result = dashboard.locator(".labkit-result").first.inner_text()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        dashboard.screenshot(path=str(args.out))
        browser.close()
    _with_margin(args.out, args.scale)
    print(f"{args.out}: η1 {run.eta1_before} → {run.eta1_after}, {epochs} epochs; result: {result}")
    return 0


def _with_margin(path: Path, scale: float) -> None:
    """A white margin, so the controls at the left edge do not touch the picture's border."""
    image = Image.open(path).convert("RGB")
    ImageOps.expand(image, border=round(12 * scale), fill="white").save(path, optimize=True)


def demo_screenshots(args, chromium: str) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, voila_demo(fast=args.fast, timeout=180) as server:
        browser = launch_chromium(playwright, chromium)
        page = browser.new_page(viewport={"width": 1500, "height": 1150}, device_scale_factor=args.scale / 1.5)
        page.goto(server.page_url, wait_until="domcontentloaded", timeout=600_000)
        page.locator(".labkit-eta1").first.wait_for(timeout=600_000)
        press_slider(page, "labkit-seeds", "Home")
        seeds = press_slider(page, "labkit-seeds", "ArrowRight", args.seeds - 1)
        eta1 = press_slider(page, "labkit-eta1", "ArrowRight")
        result = page.locator(".labkit-result").first
        before = result.inner_text()
        page.locator("button.labkit-train").first.click()
        page.wait_for_function("([el, before]) => el.textContent !== before && /accuracy/i.test(el.textContent)",
                               arg=[result.element_handle(), before], timeout=900_000, polling=500)
        page.wait_for_timeout(1500)
        args.demo_out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.demo_out), full_page=True)
        page.locator(".labkit-dashboard").first.screenshot(path=str(args.out))
        text = result.inner_text()
        browser.close()
    for path in (args.demo_out, args.out):
        _with_margin(path, args.scale)
    print(f"{args.demo_out}, {args.out}: η1 {eta1}, {seeds} seeds; result: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
