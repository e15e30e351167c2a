"""The classroom demo (`make demo`, scripts/demo.py) in a real browser: Debian's chromium driven by Playwright.

Voilà serves demo/dashboard.ipynb behind a token; the page shows the dashboard, large, and no
code; moving η1 and pressing Train gives an accuracy. Without chromium this skips with a message,
except when CI=true, where it fails. On failure a screenshot is saved under test-artifacts/.
"""

from __future__ import annotations

import re
import sys
import urllib.error
import urllib.request

import pytest

from book_support import ARTIFACTS, ROOT, chromium_or_skip, launch_chromium, screenshot_on_failure, voila_demo

pytestmark = [pytest.mark.browser]

sys.path.insert(0, str(ROOT / "scripts"))
import demo  # noqa: E402  (scripts/demo.py)


def test_demo_command_is_token_protected_and_strips_the_code():
    command = demo.voila_command(port=1234, token="abc")
    assert "--token=abc" in command and "--strip_sources=True" in command, "a token, and no code in the page"
    assert str(demo.NOTEBOOK) in command and demo.NOTEBOOK.is_file()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_demo_page_trains_from_the_browser():
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with voila_demo(fast=True) as server, sync_playwright() as playwright:
        status, body = _get(server.url + "/")
        assert status in (200, 302, 401, 403) and "labkit-eta1" not in body and "hybrid_dashboard" not in body, \
            "without the token the server shows no dashboard"
        browser = launch_chromium(playwright, executable)
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        with screenshot_on_failure(page, "voila-demo"):
            page.goto(server.page_url, wait_until="domcontentloaded", timeout=300_000)
            slider = page.locator(".labkit-eta1").first
            slider.wait_for(timeout=300_000)
            text = page.locator("body").inner_text()
            assert "hybrid_dashboard" not in text and "import" not in text, "no code is visible on the page"
            font = page.eval_on_selector(".labkit-result", "e => parseFloat(getComputedStyle(e).fontSize)")
            assert font >= 18, f"the result text is large enough for a projector ({font} px)"
            result = page.locator(".labkit-result").first
            before = result.inner_text()
            handle = slider.locator(".noUi-handle").first
            readout = slider.locator(".widget-readout").first
            eta_before = readout.inner_text()
            handle.focus()
            handle.press("ArrowRight")
            assert readout.inner_text() != eta_before, "η1 moved one notch"
            page.locator("button.labkit-train").first.click()
            page.wait_for_function(
                "([el, before]) => el.textContent !== before && /accuracy/i.test(el.textContent) && /\\d %/.test(el.textContent)",
                arg=[result.element_handle(), before], timeout=300_000, polling=250)
            after = result.inner_text()
            assert re.search(r"η1=1\.26e-2", after), f"the run used the moved η1: {after!r}"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "voila_demo.png"), full_page=True)
            assert not errors, "the page reported script errors:\n" + "\n".join(errors)
        browser.close()
