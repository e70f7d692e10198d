"""Background Responses turns through a session (issue 30): the response id is stored before the
session waits; a killed kernel's turn is picked up by the next one (``Session.pending()``); a turn
can be cancelled; the ledger takes the tool's own usage. The server is the offline twin over loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from imagewidgets import Client, Session
from imagewidgets.api.cost import estimate
from imagewidgets.api.errors import ParamError
from imagewidgets.api.requests import ResponsesRequest
from imagewidgets.api.validation import validate
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer

_TIMEOUT_S = 60
OPTIONS = {"api": "responses", "model": "gpt-image-2", "size": "1024x1024", "quality": "low"}

_KERNEL = textwrap.dedent("""
    import sys
    from imagewidgets import Client, Session
    s = Session("bg", folder=sys.argv[2], client=Client(base_url=sys.argv[1]))
    s.imagine("a lighthouse at dusk", api="responses", model="gpt-image-2", size="1024x1024", quality="low",
              completion_window="2h")   # waits: the parent kills this process meanwhile
    print("finished", flush=True)
""")


@pytest.fixture
def slow_server(tmp_path):
    """A twin that keeps background turns queued 3 s (time to kill a kernel, or to cancel)."""
    with OfflineServer(OfflineConfig(state_dir=str(tmp_path / "state"), background_s=3.0)) as srv:
        yield srv


def _session(server, folder) -> Session:
    return Session("bg", folder=folder, client=Client(base_url=server.base_url))


def test_a_killed_kernel_s_background_turn_is_finished_by_the_next_one(slow_server, tmp_path):
    folder = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEWIDGETS_OFFLINE_")}
    proc = subprocess.Popen([sys.executable, "-c", _KERNEL, slow_server.base_url, str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + _TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            if folder.exists() and _session(slow_server, folder).pending():
                break  # the response id is stored: the kernel is waiting for the server
            time.sleep(0.1)
        assert proc.poll() is None, proc.stdout.read()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)

    s = _session(slow_server, folder)
    (job,) = s.pending()
    assert job.turn.response_id.startswith("resp_") and job.turn.status == "background"
    img = job.wait(timeout_s=_TIMEOUT_S, poll_s=(0.1, 0.5))
    assert img.size == "1024x1024" and img.path.read_bytes() == img.data
    assert s.pending() == [] and s.turns[0].status == "completed"
    assert _session(slow_server, folder).turns[0].status == "completed"  # stored, not only in memory


def test_cancel_a_pending_turn(slow_server, tmp_path):
    s = _session(slow_server, tmp_path / "store")
    job = s.imagine("a harbour", completion_window="8h", wait=False, **OPTIONS)
    assert job.refresh() == "queued" and [p.id for p in s.pending()] == [job.id]
    turn = job.cancel()
    assert turn.status == "cancelled" and turn.cost == 0.0 and not turn.images
    assert s.pending() == [] and s.spent_usd == 0.0
    assert s.client.retrieve_response(turn.response_id)["status"] == "cancelled"


def test_a_background_turn_records_the_tool_usage_as_its_cost(tmp_path):
    with OfflineServer(OfflineConfig(background_s=0.1)) as server:
        s = _session(server, tmp_path / "store")
        img = s.imagine("a lighthouse at dusk", completion_window="soonest", **OPTIONS)
        turn = s.current
        body = s.client.retrieve_response(turn.response_id)
    tool = body["tool_usage"]["image_gen"]
    assert turn.usage.output_tokens == tool["output_tokens"] and turn.usage.input_tokens == tool["input_tokens"]
    assert turn.cost == pytest.approx(img.cost) and turn.cost > 0
    assert s.spent_usd == pytest.approx(turn.cost)


def test_a_background_turn_that_streams_is_refused_before_it_is_sent(tmp_path):
    with pytest.raises(ParamError) as e:
        validate(ResponsesRequest("a kite", model="gpt-image-2", completion_window="2h", stream=True))
    assert e.value.param == "stream"
    with pytest.raises(ParamError):
        validate(ResponsesRequest("a kite", model="gpt-image-2", completion_window="1h"))


def test_the_estimate_says_no_background_discount_is_assumed():
    req = ResponsesRequest("a kite", model="gpt-image-2", size="1024x1024", quality="low", completion_window="8h")
    plain = ResponsesRequest("a kite", model="gpt-image-2", size="1024x1024", quality="low")
    assert estimate(req).usd == estimate(plain).usd
    assert "no discount assumed" in estimate(req).explain()
    json.dumps(estimate(req).explain())
