"""Shared test set-up.

For the whole run (and so for every kernel nbval or the browser tests start): no OpenAI
credentials, and imagewidgets' data folders in a temporary directory, never the home folder.
Each test also gets its own ``IMAGEWIDGETS_HOME`` / ``IMAGEWIDGETS_STORE`` (autouse fixture).
"""

from __future__ import annotations

import os
import tempfile

import pytest

# the browser tests' fixture notebooks are run by the browser tests, not collected by nbval
collect_ignore_glob = ["browser/notebooks/*.ipynb"]

#: the date every test runs on unless it pins its own (``@pytest.mark.today("YYYY-MM-DD")``, or
#: ``IMAGEWIDGETS_TODAY`` / ``api.lifecycle.clock`` in the test): the day this round's model news was
#: read. The whole run (kernels, servers and CLIs it starts included) sees it through IMAGEWIDGETS_TODAY,
#: so saved notebook outputs and help texts never change with the real calendar.
PINNED_TODAY = __import__("datetime").date(2026, 12, 2)

_RUN_DIR = tempfile.mkdtemp(prefix="imagewidgets-tests-")


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API keeps an event loop in the main thread while it
    runs, which would break the anyio/asyncio tests that come after it. The tutorial notebooks
    (run top to bottom by nbval) are ``slow``: the quick run, ``-m "not browser and not slow"``,
    leaves them out."""
    slow = _slow_ids()
    for item in items:
        if str(getattr(item, "path", "")).endswith(".ipynb") or item.nodeid in slow \
                or item.nodeid.split("[", 1)[0] in slow:
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def _slow_ids() -> set[str]:
    """The test ids listed in tests/slow_tests.txt (measured to take more than about 2 s each)."""
    listed = os.path.join(os.path.dirname(__file__), "slow_tests.txt")
    with open(listed, encoding="utf-8") as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


def pytest_configure(config):
    config.addinivalue_line("markers", "today(day): run the test on this date (YYYY-MM-DD) instead of the pinned one")
    config.addinivalue_line("markers", "calendar_off: the offline twin serves every model, shut down or not "
                            "(tests of retired models' features: dall-e variations and style, input fidelity)")
    os.environ["IMAGEWIDGETS_TODAY"] = PINNED_TODAY.isoformat()
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        os.environ.pop(var, None)
    os.environ.setdefault("IMAGEWIDGETS_HOME", os.path.join(_RUN_DIR, "home"))
    os.environ.setdefault("IMAGEWIDGETS_STORE", os.path.join(_RUN_DIR, "store"))


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch, request):
    """Per-test data folders and no credentials."""
    monkeypatch.setenv("IMAGEWIDGETS_HOME", str(tmp_path / "iw-home"))
    monkeypatch.setenv("IMAGEWIDGETS_STORE", str(tmp_path / "iw-store"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(var, raising=False)
    from imagewidgets.session.session import reset_settings

    # configure() settings (set_preview()'s too) and the default session never leak into the next test
    reset_settings()
    # lifecycle: "today" is pinned (tests never depend on the real date) and no models list or
    # once-only warning is carried from one test into the next. The one clock reads
    # IMAGEWIDGETS_TODAY, so this pins the package, the embedded twin's calendar and every process
    # the test starts; a test about another day says so with @pytest.mark.today("YYYY-MM-DD").
    from imagewidgets.api import lifecycle

    marker = request.node.get_closest_marker("today")
    monkeypatch.setenv("IMAGEWIDGETS_TODAY", str(marker.args[0]) if marker else PINNED_TODAY.isoformat())
    monkeypatch.setattr(lifecycle, "clock", lifecycle._configured_today)
    lifecycle.clear_cache()
    if request.node.get_closest_marker("calendar_off"):
        # what `serve --calendar off` does, for every twin of the test (the embedded one included)
        from imagewidgets.offline.config import OfflineConfig

        monkeypatch.setenv("IMAGEWIDGETS_OFFLINE_CALENDAR", "off")
        monkeypatch.setattr(OfflineConfig, "calendar_day", lambda self: None)
    yield tmp_path
    reset_settings()


@pytest.fixture
def wire():
    """A transport to the real backend that records every request (``wire.calls``); closed after
    the test, so its pooled connections do not warn later, inside another test's ``pytest.warns``."""
    from tests.wire import RecordingTransport

    transport = RecordingTransport()
    yield transport
    transport.close()


@pytest.fixture
def session(wire, tmp_path):
    """A session on the embedded offline backend, its store in this test's folder, the wire recorded."""
    from imagewidgets import Client, Session

    return Session("test", folder=tmp_path / "store", client=Client(transport=wire))


# --- offline backend fixtures (owned by the offline-backend tests; see tests/fixtures_offline.py) ---
from tests.fixtures_offline import offline_server  # noqa: E402,F401  (a loopback OfflineServer factory)
from tests.fixtures_offline import offline_pictures  # noqa: E402,F401  (autouse: @pytest.mark.pictures("realistic"))
# --- end offline backend fixtures ---
