"""Fixtures for browser tests: `lab` (JupyterLab server), `notebook7` (Notebook 7 server),
`browser` (Chromium), `page` (a page on the lab).

Browser tests are marked `@pytest.mark.browser`. Without /usr/bin/chromium they are skipped,
except under CI (env `CI` set), where they fail: CI must never skip them silently.
A failing browser test leaves a full-page screenshot in tests/browser/screenshots/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from . import harness

SCREENSHOTS = Path(__file__).parent / "screenshots"


def _browser_unavailable() -> str | None:
    if not Path(harness.CHROMIUM).exists():
        # no absolute path in a skip reason: it reads the same on every machine and leaks no folder names
        return "Debian's Chromium is not installed (sudo apt-get install chromium, or bash .ci/install-chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") is None:
        return
    reason = _browser_unavailable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def lab(tmp_path_factory):
    """A JupyterLab server isolated in a temporary folder, shared by the session."""
    with harness.start_lab(tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest.fixture(scope="package")
def notebook7(tmp_path_factory):
    """A Notebook 7 server (`jupyter notebook`), isolated like `lab`, shared by the session."""
    with harness.start_notebook(tmp_path_factory.mktemp("notebook7")) as running:
        yield running


@pytest.fixture(scope="package")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    state = tmp_path_factory.mktemp("chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**harness.chromium_launch_options(state))
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, lab):
    """A fresh browser context and page; the lab's kernels are stopped afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(harness.DEFAULT_TIMEOUT * 1000)
    page = context.new_page()
    yield page
    context.close()
    lab.shutdown_kernels()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    # a test's page is `page`, or another fixture whose name ends in "_page"
    pages = [v for k, v in item.funcargs.items() if k == "page" or k.endswith("_page")]
    page = pages[0] if pages else None
    if page is not None and not page.is_closed():
        SCREENSHOTS.mkdir(exist_ok=True)
        target = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.name)}.png"
        try:
            page.screenshot(path=str(target), full_page=True)
            report.sections.append(("browser screenshot", str(target)))
        except Exception as error:  # the page may have crashed: keep the original failure
            report.sections.append(("browser screenshot", f"not saved: {error}"))
    for name in ("lab", "notebook7"):
        server = item.funcargs.get(name)
        if server is not None:
            report.sections.append((f"jupyter {server.app} log (tail)", server.log_tail()))
