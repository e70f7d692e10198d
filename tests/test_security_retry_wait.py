"""A long ``Retry-After`` wait is announced before it starts and can be capped (issue 12, item 10):
a warning in a script, a line in the cell's output with the magics; above the cap the error
comes at once instead of a silent minute."""

from __future__ import annotations

import sys
import warnings

import httpx2
import pytest

from imagewidgets import Client, RateLimitError, RetryPolicy, Session
from imagewidgets.api.errors import RetryWaitWarning
from tests.spec_server import SpecServer

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


class LimitedFirst(httpx2.BaseTransport):
    """Answers the first ``times`` requests 429 with ``Retry-After: seconds``, then the real server."""

    def __init__(self, seconds: int, times: int = 1) -> None:
        self.seconds, self.times = seconds, times
        self.inner = httpx2.HTTPTransport()
        self.count = 0

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.count += 1
        if self.count <= self.times:
            return httpx2.Response(429, headers={"retry-after": str(self.seconds)},
                                   json={"error": {"message": "Rate limit reached", "type": "requests",
                                                   "param": None, "code": "rate_limit_exceeded"}})
        return self.inner.handle_request(request)


def _client(server: SpecServer, events: list, **policy) -> Client:
    retry = RetryPolicy(sleep=lambda s: events.append(("sleep", s)), **policy)
    return Client(base_url="http://api.test/v1", transport=server.transport(), retry=retry, save_dir=None)


def test_a_long_wait_is_announced_before_it_starts():
    events: list = []
    client = _client(SpecServer(failures=[(429, {"retry-after": "30"})]), events)

    def show(message, *args, **kwargs):
        events.append(("warning", str(message)))

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        client.generate("a fox", model="gpt-image-1.5")
    assert [e[0] for e in events] == ["warning", "sleep"] and events[1][1] == 30.0
    assert "waiting 30 s" in events[0][1] and "retry_after_max" in events[0][1]


def test_a_short_wait_is_not_announced(recwarn):
    events: list = []
    _client(SpecServer(failures=[(429, {"retry-after": "2"})]), events).generate("a fox", model="gpt-image-1.5")
    assert events == [("sleep", 2.0)] and not [w for w in recwarn if w.category is RetryWaitWarning]


def test_on_wait_takes_the_announcement():
    events: list = []
    policy = dict(on_wait=lambda seconds, err: events.append(("announce", seconds, err.status)))
    _client(SpecServer(failures=[(503, {"retry-after": "12"})]), events, **policy).generate("a fox",
                                                                                             model="gpt-image-1.5")
    assert events == [("announce", 12.0, 503), ("sleep", 12.0)]


def test_a_wait_above_the_cap_is_not_waited_for():
    events: list = []
    server = SpecServer(failures=[(429, {"retry-after": "55"})])
    with pytest.raises(RateLimitError) as info:
        _client(server, events, retry_after_max=10).generate("a fox", model="gpt-image-1.5")
    assert events == [] and len(server.requests) == 1
    assert "55 s" in str(info.value) and "retry_after_max=10" in str(info.value)


def test_the_magics_print_the_wait_at_once(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    seen_when_sleeping: list[str] = []
    retry = RetryPolicy(sleep=lambda s: seen_when_sleeping.append(sys.stderr.getvalue()))
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=Config())
    with capture_output():
        ip.extension_manager.load_extension("imagewidgets")
    try:
        ip.user_ns["s"] = Session("waits", folder=tmp_path / "store",
                                  client=Client(transport=LimitedFirst(20), retry=retry, save_dir=None))
        with capture_output():
            ip.run_line_magic("imagine_config", "--session s")
        with capture_output() as cap:
            ip.run_cell("%imagine a fox -q low --no-display")
        assert len(seen_when_sleeping) == 1 and "%imagine: note: waiting 20 s" in seen_when_sleeping[0]
        assert cap.stderr.count("waiting 20 s") == 1 and ip.user_ns["s"].current.status == "completed"
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()
