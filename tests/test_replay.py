"""Replay: an identical request is answered from the store, with no HTTP call and the same bytes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from imagewidgets import Client, EditRequest, GenerateRequest, ResponsesRequest, Session
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer
from imagewidgets.session.replay import replay_key
from tests.spec_server import png
from tests.wire import RecordingTransport

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py.
#: real-size pictures (a 1024x1024 PNG ~2.2 MB) from every twin these tests talk to: a limit that
#: real pictures break (an event cap, memory per turn) fails here (tests/fixtures_offline.py)
pytestmark = [pytest.mark.calendar_off, pytest.mark.pictures("realistic")]

LOW = {"size": "1024x1024", "quality": "low"}
REPO = Path(__file__).resolve().parents[1]


def notebook(s: Session) -> list:
    """What a notebook would run: a chain through both APIs, a branch, a stream and a variation."""
    out = [s.imagine("a lighthouse at dusk", **LOW)]
    root = s.current
    out.append(s.edit("add a red sailing boat", **LOW))
    out.append(s.edit("make it night", api="images", **LOW))
    s.checkout(root)
    out.append(s.edit("make it winter", **LOW))
    out.append(s.imagine("an owl", partial_images=2, on_event=lambda ev: None, **LOW))
    out.append(s.vary(model="dall-e-2", size="256x256"))
    return out


def test_a_second_run_makes_no_http_call_and_gives_byte_identical_images(wire, tmp_path):
    first = Session("nb", folder=tmp_path, client=Client(transport=wire))
    images = notebook(first)
    first_turns = first.turns
    assert len(wire.calls) == 6
    again = RecordingTransport()
    second = Session("nb", folder=tmp_path, client=Client(transport=again))
    replayed = notebook(second)
    assert again.calls == []
    assert [i.data for i in replayed] == [i.data for i in images]
    new = second.turns[len(first_turns):]
    assert [t.status for t in new] == ["replayed"] * 6
    assert [t.replayed_from for t in new] == [t.id for t in first_turns]
    assert all(t.cost == 0 for t in new) and second.spent_usd == first.spent_usd
    assert [t.response_id for t in new] == [t.response_id for t in first.turns]  # the chain's ids carry over
    assert new[1].parent_id == new[0].id and new[3].parent_id == new[0].id


def test_replay_hands_the_stored_image_to_on_event(session, wire):
    session.imagine("an owl", partial_images=2, on_event=lambda ev: None, **LOW)
    events = []
    img = session.imagine("an owl", partial_images=2, on_event=events.append, **LOW)
    assert len(wire.calls) == 1
    assert [e.type for e in events] == ["completed"] and events[0].result.data == img.data


def test_refresh_sends_the_request_again(session, wire):
    session.imagine("a cat", **LOW)
    session.imagine("a cat", refresh=True, **LOW)
    assert len(wire.calls) == 2 and [t.status for t in session.turns] == ["completed", "completed"]
    session.imagine("a cat", **LOW)
    assert len(wire.calls) == 2 and session.current.replayed_from == session.turns[1].id  # the newest


def test_replay_works_across_sessions_of_one_folder(wire, tmp_path):
    Session("a", folder=tmp_path, client=Client(transport=wire)).imagine("a cat", **LOW)
    Session("b", folder=tmp_path, client=Client(transport=wire)).imagine("a cat", **LOW)
    assert len(wire.calls) == 1


def test_failed_and_cancelled_turns_are_not_replayed(tmp_path):
    with OfflineServer(OfflineConfig.from_env(partial_interval_s=0.2)) as server:
        rec = RecordingTransport()
        s = Session("c", folder=tmp_path, client=Client(base_url=server.base_url, transport=rec))
        cancel = threading.Event()
        s.imagine("a fox", partial_images=3, on_event=lambda ev: cancel.set(), cancel=cancel, **LOW)
        assert s.current.status == "cancelled"
        s.imagine("a fox", partial_images=3, on_event=lambda ev: None, **LOW)
    assert len(rec.calls) == 2 and s.current.status == "completed"


def test_offline_images_are_never_replayed_against_another_backend(session, wire, tmp_path):
    session.imagine("a cat", **LOW)
    with OfflineServer(OfflineConfig.from_env()) as other:  # stands in for OpenAI: any base URL is another backend
        rec = RecordingTransport()
        s = Session("test", folder=session.store.folder, client=Client(base_url=other.base_url, transport=rec))
        s.imagine("a cat", **LOW)
    assert len(rec.calls) == 1 and s.current.status == "completed"
    assert s.current.backend == other.base_url and session.turns[0].backend == "offline"


def test_the_key_covers_what_shapes_the_image_and_only_that():
    base = GenerateRequest("a cat", **LOW)
    key = replay_key(base, "offline")
    assert key == replay_key(GenerateRequest("a cat", **LOW), "offline")
    assert key == replay_key(base.replace(stream=True, partial_images=2), "offline")  # streaming: same picture
    assert key != replay_key(base.replace(quality="high"), "offline")
    assert key != replay_key(base.replace(prompt="a dog"), "offline")
    assert key != replay_key(base, "https://api.openai.com/v1")
    red, blue = png(color=(255, 0, 0, 255)), png(color=(0, 0, 255, 255))
    assert replay_key(EditRequest("x", images=[red]), "offline") != replay_key(EditRequest("x", images=[blue]), "offline")
    assert replay_key(EditRequest("x", images=[red]), "offline") == replay_key(EditRequest("x", images=[bytes(red)]), "offline")
    assert (replay_key(EditRequest("x", images=[red], mask=blue), "offline")
            != replay_key(EditRequest("x", images=[red]), "offline"))
    r1 = ResponsesRequest("x", previous_response_id="resp_1")
    assert replay_key(r1, "offline") != replay_key(r1.replace(previous_response_id="resp_2"), "offline")
    assert replay_key(r1, "offline") != replay_key(r1.replace(responses_model="gpt-4.1"), "offline")
    assert replay_key(r1, "offline") != replay_key(GenerateRequest("x"), "offline")  # the endpoint counts


_SHIPPED = textwrap.dedent("""
    import hashlib, json, sys
    sys.path.insert(0, sys.argv[2])
    from imagewidgets import Client, Session
    from tests.test_replay import notebook
    from tests.wire import RecordingTransport
    rec = RecordingTransport()
    s = Session("nb", folder=sys.argv[1], client=Client(transport=rec))
    images = notebook(s)
    print(json.dumps({"calls": len(rec.calls), "sha": [hashlib.sha256(i.data).hexdigest() for i in images],
                      "status": [t.status for t in s.turns[-len(images):]]}))
""")


def _run(folder: Path, home: Path) -> dict:
    env = {**os.environ, "IMAGEWIDGETS_HOME": str(home)}
    env.pop("IMAGEWIDGETS_OFFLINE_STATE_DIR", None)
    out = subprocess.run([sys.executable, "-c", _SHIPPED, str(folder), str(REPO)], capture_output=True, text=True,
                         env=env, timeout=120, cwd=str(REPO))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_notebook_shipped_with_its_store_reruns_with_the_same_outputs(tmp_path):
    made = _run(tmp_path / "author" / "imagewidgets-data", tmp_path / "author-home")
    assert made["calls"] == 6 and made["status"] == ["completed"] * 6
    shutil.copytree(tmp_path / "author" / "imagewidgets-data", tmp_path / "reader" / "imagewidgets-data")
    rerun = _run(tmp_path / "reader" / "imagewidgets-data", tmp_path / "reader-home")  # fresh offline server state
    assert rerun["calls"] == 0 and rerun["status"] == ["replayed"] * 6
    assert rerun["sha"] == made["sha"]
    assert len(set(made["sha"])) == 6 and all(hashlib.sha256(b"").hexdigest() != h for h in made["sha"])
