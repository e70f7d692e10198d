"""Session: turns, chains through both APIs, branches, restarts, budget, streaming, exports.

Everything runs against the offline backend over real HTTP; ``wire`` records what was sent.
"""

from __future__ import annotations

import hashlib
import html.parser
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from imagewidgets import BudgetExceededError, Client, ParamError, Session, Turn, configure
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer, embedded_server
from imagewidgets.session.session import default_session
from tests.wire import RecordingTransport

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py.
#: real-size pictures (a 1024x1024 PNG ~2.2 MB) from every twin these tests talk to: a limit that
#: real pictures break (an event cap, memory per turn) fails here (tests/fixtures_offline.py)
pytestmark = [pytest.mark.calendar_off, pytest.mark.pictures("realistic")]

LOW = {"size": "1024x1024", "quality": "low"}
REPO = Path(__file__).resolve().parents[1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- a turn ------------------------------------------------------------------------------------


def test_imagine_returns_an_image_already_stored_with_its_turn(session):
    img = session.imagine("a lighthouse at dusk", **LOW)
    turn = session.current
    assert isinstance(turn, Turn) and session.turns == [turn]
    assert img.path is not None and img.path.read_bytes() == img.data
    assert img.path.is_relative_to(session.store.folder)
    assert (turn.kind, turn.api, turn.status, turn.parent_id) == ("generate", "responses", "completed", None)
    assert turn.response_id and turn.call_id and turn.revised_prompt
    assert turn.usage.output_tokens > 0 and turn.cost > 0 and turn.elapsed_s > 0
    assert turn.params["size"] == "1024x1024" and turn.replay_key
    assert session.turn(turn.id) is turn and turn.image.data == img.data


def test_default_api_is_responses_for_gpt_image_models_and_images_for_dall_e(session, wire):
    session.imagine("a red kite", **LOW)
    session.imagine("a blue kite", model="dall-e-2", size="256x256")
    assert [c.endpoint for c in wire.calls] == ["/responses", "/images/generations"]
    assert [t.api for t in session.turns] == ["responses", "images"]


def test_session_defaults_apply_to_every_call_and_options_win(wire, tmp_path):
    s = Session("d", folder=tmp_path, client=Client(transport=wire), api="images", size="1536x1024", quality="low")
    s.imagine("a boat")
    s.imagine("a boat", size="1024x1024")
    sent = [c.json() for c in wire.calls]
    assert [b["size"] for b in sent] == ["1536x1024", "1024x1024"] and sent[0]["quality"] == "low"


# -- chains and branches -----------------------------------------------------------------------


def test_chain_through_the_responses_api_sends_each_parents_response_id(session, wire):
    session.imagine("a lighthouse at dusk", **LOW)
    session.edit("add a red sailing boat", **LOW)
    session.edit("make it night", **LOW)
    t0, t1, t2 = session.turns
    assert (t1.parent_id, t2.parent_id) == (t0.id, t1.id)
    bodies = [c.json() for c in wire.calls]
    assert "previous_response_id" not in bodies[0]
    assert bodies[1]["previous_response_id"] == t0.response_id
    assert bodies[2]["previous_response_id"] == t1.response_id
    assert len({t0.response_id, t1.response_id, t2.response_id}) == 3
    assert all(t.kind == "edit" and t.api == "responses" for t in (t1, t2))


def test_chain_through_the_image_api_sends_the_parent_image(wire, tmp_path):
    s = Session("img", folder=tmp_path, client=Client(transport=wire), api="images")
    first = s.imagine("a lighthouse at dusk", **LOW)
    second = s.edit("add a red sailing boat", **LOW)
    s.edit("make it night", **LOW)
    assert [c.endpoint for c in wire.calls] == ["/images/generations", "/images/edits", "/images/edits"]
    assert first.data in wire.calls[1].body and second.data in wire.calls[2].body
    assert [t.parent_id for t in s.turns] == [None, s.turns[0].id, s.turns[1].id]
    assert s.turns[1].inputs == [{"role": "image", "fingerprint": "sha256:" + sha(first.data)}]


def test_responses_edit_with_explicit_images_sends_them_as_input_images(session, wire, tmp_path):
    ref = session.imagine("a cat", **LOW)
    path = tmp_path / "ref.png"
    path.write_bytes(ref.data)
    session.edit("the cat in a hat", image=str(path), **LOW)
    body = wire.calls[-1].json()
    assert "previous_response_id" not in body
    images = [c for c in body["input"][0]["content"] if c["type"] == "input_image"]
    assert len(images) == 1 and images[0]["image_url"].startswith("data:image/png;base64,")
    assert session.turns[-1].parent_id is None


def test_edit_with_a_turn_continues_from_that_turn(session, wire):
    session.imagine("a cat", **LOW)
    first = session.current
    session.imagine("a dog", **LOW)
    session.edit("add a hat", image=first, **LOW)
    assert session.current.parent_id == first.id
    assert wire.calls[-1].json()["previous_response_id"] == first.response_id


def test_checkout_makes_a_branch(session, wire):
    session.imagine("a lighthouse", **LOW)
    root = session.current
    session.edit("add a boat", **LOW)
    assert session.checkout(root) is root and session.current is root
    session.edit("make it winter", **LOW)
    assert wire.calls[-1].json()["previous_response_id"] == root.response_id
    assert [t.prompt for t in session.children(root)] == ["add a boat", "make it winter"]
    assert [t.id for t in session.lineage().roots] == [root.id]


def test_edit_without_anything_to_continue_from_says_what_is_missing(wire, tmp_path):
    s = Session("empty", folder=tmp_path, client=Client(transport=wire), api="images")
    with pytest.raises(ParamError, match="needs an image"):
        s.edit("add a boat")
    assert wire.calls == []


def test_a_forgotten_previous_response_is_continued_by_sending_the_parent_image(tmp_path):
    # two servers, two memories
    with OfflineServer(OfflineConfig.from_env()) as first, OfflineServer(OfflineConfig.from_env()) as second:
        s = Session("gone", folder=tmp_path, client=Client(base_url=first.base_url))
        parent = s.imagine("a lighthouse", **LOW)
        rec = RecordingTransport()
        s.client = Client(base_url=second.base_url, transport=rec)
        s.edit("add a boat", **LOW)
    turn = s.current
    assert turn.status == "completed" and "not found" in turn.note
    retry = rec.calls[-1].json()
    assert "previous_response_id" not in retry
    assert any(c["type"] == "input_image" for c in retry["input"][0]["content"])
    assert rec.calls[0].json()["previous_response_id"] == s.turns[0].response_id
    assert turn.parent_id == s.turns[0].id and parent.path.is_file()


_RESTART = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[2])
    from imagewidgets import Client, Session
    from tests.wire import RecordingTransport
    rec = RecordingTransport()
    s = Session("test", folder=sys.argv[1], client=Client(transport=rec))
    restored = [[t.id, t.parent_id, t.response_id, t.status] for t in s.turns]
    current = s.current.id
    s.edit("now add a moon", size="1024x1024", quality="low")
    print(json.dumps({"restored": restored, "current": current, "sent": [c.json() for c in rec.calls],
                      "new": [s.current.id, s.current.parent_id, s.current.response_id]}))
""")


def test_a_new_process_restores_the_tree_and_continues_the_chain(session, tmp_path):
    session.imagine("a lighthouse", **LOW)
    session.edit("add a boat", **LOW)
    session.checkout(session.turns[0])
    session.edit("make it winter", **LOW)
    before = [[t.id, t.parent_id, t.response_id, t.status] for t in session.turns]
    env = {**os.environ, "IMAGEWIDGETS_OFFLINE_STATE_DIR": str(embedded_server().config.state_dir)}
    out = subprocess.run([sys.executable, "-c", _RESTART, str(session.store.folder), str(REPO)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["restored"] == before and got["current"] == session.turns[2].id
    assert [b["previous_response_id"] for b in got["sent"]] == [session.turns[2].response_id]
    new_id, new_parent, new_response = got["new"]
    assert new_parent == session.turns[2].id and new_response not in {b[2] for b in before}
    reopened = Session("test", folder=session.store.folder, client=session.client)
    assert reopened.current.id == new_id and len(reopened.turns) == 4


# -- the ledger ---------------------------------------------------------------------------------


def test_the_ledger_adds_up_tokens_and_dollars(session):
    session.imagine("a cat", **LOW)
    session.imagine("a dog", **LOW)
    assert session.spent_usd == pytest.approx(sum(t.cost for t in session.turns))
    assert session.tokens["output_tokens"] == sum(t.usage.output_tokens for t in session.turns)
    assert session.remaining_usd is None


def test_budget_refuses_a_request_before_it_reaches_the_server(wire, tmp_path):
    s = Session("b", folder=tmp_path, client=Client(transport=wire), budget_usd=0.02)
    s.imagine("a cat", **LOW)  # about a cent
    assert len(wire.calls) == 1 and 0 < s.remaining_usd < 0.02
    with pytest.raises(BudgetExceededError) as err:
        s.imagine("a dog", size="1024x1024", quality="high")
    assert len(wire.calls) == 1  # nothing was sent
    assert err.value.budget_usd == 0.02 and err.value.estimate_usd > err.value.remaining_usd
    assert len(s.turns) == 1 and len(Session("b", folder=tmp_path, client=s.client).turns) == 1


# -- streaming ----------------------------------------------------------------------------------


def test_streaming_hands_each_frame_to_on_event_after_storing_it(session):
    seen = []

    def on_event(ev):
        rows = session.store.image_rows(session.turns[-1].id)
        seen.append((ev.type, len(rows)))
        if ev.type == "completed":
            assert ev.result.path.read_bytes() == ev.result.data

    img = session.imagine("an owl", partial_images=2, on_event=on_event, **LOW)
    assert [s[0] for s in seen] == ["partial_image", "partial_image", "completed"]
    assert all(n >= 1 for _, n in seen)  # the frame was on disk before the callback saw it
    assert session.current.status == "completed" and not img.partial
    assert [r["partial"] for r in session.store.image_rows(session.current.id)] == [0]


@pytest.mark.parametrize("api", ["images", "responses"])
def test_cancel_mid_stream_keeps_the_newest_partial_frame(tmp_path, api):
    with OfflineServer(OfflineConfig.from_env(partial_interval_s=0.3)) as server:
        s = Session("c", folder=tmp_path, client=Client(base_url=server.base_url), api=api)
        cancel = threading.Event()
        frames = []

        def on_event(ev):
            frames.append(ev)
            if ev.type == "partial_image" and ev.index == 1:
                cancel.set()

        img = s.imagine("a slow fox", partial_images=3, on_event=on_event, cancel=cancel, **LOW)
    turn = s.current
    assert turn.status == "cancelled" and img.partial and img.data == frames[-1].data
    assert img.path.read_bytes() == img.data and "estimated" in turn.note
    assert [ev.type for ev in frames] == ["partial_image", "partial_image"]
    again = Session("c", folder=tmp_path, client=s.client).turn(turn.id)
    assert again.status == "cancelled" and again.image.data == img.data


def test_on_turn_is_called_after_each_stored_turn(session):
    got = []
    session.on_turn(lambda t: got.append((t.id, t.image.path.is_file())))
    session.imagine("a cat", **LOW)
    session.imagine("a cat", **LOW)  # replayed
    assert got == [(t.id, True) for t in session.turns]


# -- configure and the default session -----------------------------------------------------------


def test_configure_sets_the_default_sessions_settings(tmp_path):
    configure(folder=str(tmp_path / "cfg"), model="gpt-image-1.5", size="1024x1024", quality="low", api="images")
    s = default_session()
    assert s is default_session() and s.store.folder == (tmp_path / "cfg").resolve()
    assert (s.model, s.api, s.defaults) == ("gpt-image-1.5", "images", {"size": "1024x1024", "quality": "low"})
    configure(quality="medium", budget_usd=1.0)
    assert default_session() is s and s.defaults["quality"] == "medium" and s.budget_usd == 1.0
    configure(session="other")
    assert default_session().name == "other"


def test_the_default_session_lives_in_the_one_settings_object(tmp_path):
    """``api.config.settings`` holds the settings and the default session: any write reaches it (not
    only ``configure``), a new store or backend makes a new one, a display setting leaves it be, and
    a reset forgets it."""
    from imagewidgets.api.config import settings
    from imagewidgets.api.preview import set_preview
    from imagewidgets.session.session import reset_settings

    assert settings.made_default_session() is None  # nothing made until it is used
    configure(folder=str(tmp_path / "a"), quality="low")
    s = default_session()
    assert settings.made_default_session() is s
    settings["size"] = "1024x1024"  # written directly, as the studio and %imagine_config do
    assert s.defaults == {"quality": "low", "size": "1024x1024"}
    s.defaults["background"] = "opaque"
    set_preview(512)  # how outputs are shown: the session's request defaults are untouched
    assert s.defaults["background"] == "opaque" and default_session() is s
    configure(folder=str(tmp_path / "b"))
    t = default_session()
    assert t is not s and t.store.folder == (tmp_path / "b").resolve() and t.defaults["quality"] == "low"
    reset_settings()
    assert settings.made_default_session() is None and default_session().defaults == {}


def test_configure_keeps_the_api_key_out_of_sight(tmp_path):
    shown = configure(api_key="sk-test-not-a-real-key-123456", base_url="http://127.0.0.1:9/v1")
    assert shown["api_key"] == "***" and "sk-test" not in repr(shown)
    assert "sk-test" not in repr(Client())


def test_api_must_be_images_or_responses():
    with pytest.raises(ParamError):
        Session("x", api="chat")


# -- exports ------------------------------------------------------------------------------------


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        self.links += [v for k, v in attrs if k in ("src", "href") and v is not None]


def _tree(session):
    session.imagine("a <lighthouse> & sea", **LOW)
    session.edit("add a boat", **LOW)
    session.checkout(session.turns[0])
    session.edit("make it winter", api="images", **LOW)
    session.imagine("a <lighthouse> & sea", **LOW)  # replayed


def test_html_report_is_one_self_contained_file_with_every_prompt_and_image(session, tmp_path):
    _tree(session)
    path = session.export(tmp_path / "report.html")
    text = path.read_text("utf-8")
    parser = _Links()
    parser.feed(text)
    assert parser.links and all(v.startswith(("data:", "#")) for v in parser.links)
    assert "<link" not in text and "<script" not in text and "@import" not in text
    for turn in session.turns:
        assert turn.id in text and html_escape(turn.prompt) in text
        assert turn.image.data_url() in text
    assert html_escape(session.turns[0].revised_prompt) in text and "$" in text


def html_escape(s: str) -> str:
    import html

    return html.escape(s)


def test_json_export_round_trips(session, tmp_path):
    _tree(session)
    path = session.export(tmp_path / "session.json")
    doc = json.loads(path.read_text())
    assert doc["name"] == "test" and len(doc["turns"]) == 4
    copy = Session.from_json(path, folder=tmp_path / "elsewhere", client=session.client)
    assert copy.store.folder != session.store.folder
    assert [t.to_dict() | {"images": None} for t in copy.turns] == [
        t.to_dict() | {"images": None} for t in session.turns]
    assert [[i.data for i in t.images] for t in copy.turns] == [[i.data for i in t.images] for t in session.turns]
    assert copy.current.id == session.current.id
    assert copy.export(tmp_path / "again.json").read_text() != ""  # and it exports again


def test_history_is_a_table_of_turns(session):
    _tree(session)
    table = session.history()
    assert [r["id"] for r in table.rows] == [t.id for t in session.turns]
    assert table.rows[-1]["status"] == "replayed" and table.rows[0]["cost_usd"] > 0
    assert "<table>" in table._repr_html_() and "data:image" in table._repr_html_()
    pytest.importorskip("pandas")
    assert len(table.to_pandas()) == 4


def test_lineage_shows_the_tree_with_thumbnails(session):
    _tree(session)
    lin = session.lineage()
    root = session.turns[0]
    assert [t.id for t in lin.children[root.id]] == [session.turns[1].id, session.turns[2].id]
    markup = lin._repr_html_()
    assert markup.count("<img") == 4 and "iw-current" in markup
    assert root.id in repr(lin)


def test_a_call_that_does_not_stream_still_hands_its_stored_images_to_on_event(session):
    session.imagine("a square cat", model="dall-e-2", size="256x256")
    events = []
    img = session.vary(on_event=events.append, api="responses", n=2, size="256x256")  # api: ignored by vary
    assert [e.type for e in events] == ["completed", "completed"] and len(img) == 2
    assert all(e.result.path.is_file() for e in events) and session.current.kind == "vary"
    assert session.current.parent_id == session.turns[0].id


def test_an_image_the_session_returned_is_sent_as_itself_and_its_turn_is_the_parent(session, wire):
    cat = session.imagine("a cat", **LOW)
    session.imagine("a dog", **LOW)
    session.edit("the cat in a hat", image=cat, **LOW)
    body = wire.calls[-1].json()
    assert "previous_response_id" not in body
    assert any(c["type"] == "input_image" for c in body["input"][0]["content"])
    assert session.current.parent_id == session.turns[0].id


def test_a_cut_stream_fails_the_turn_but_keeps_the_newest_frame(tmp_path):
    from imagewidgets import Client, Session
    from imagewidgets.api.errors import StreamError
    from imagewidgets.offline.config import OfflineConfig
    from imagewidgets.offline.server import OfflineServer

    with OfflineServer(OfflineConfig.from_env(cut_stream_after=2)) as server:
        s = Session("cut", folder=tmp_path / "store", client=Client(base_url=server.base_url))
        with pytest.raises(StreamError):
            s.imagine("a paper lantern", stream=True, partial_images=3, quality="low", size="1024x1024",
                      api="images")
        turn = s.turns[-1]
        assert turn.status == "failed" and "newest partial frame is kept" in turn.note
        assert len(turn.images) == 1 and turn.images[0].partial and turn.images[0].path.exists()
        again = Session("cut", folder=tmp_path / "store", client=Client(base_url=server.base_url))
        assert again.turns[-1].images[0].data == turn.images[0].data  # it survives a restart


# -- one spelling of the store folder, and no silently dropped keywords (issue 15) -------------------


def test_session_accepts_store_as_a_spelling_of_folder(tmp_path):
    from imagewidgets.session.session import Session as PublicSession

    s = PublicSession("spelled", store=tmp_path / "by-store", client=Client(base_url="offline"))
    assert Path(s.store.folder) == tmp_path / "by-store"
    assert PublicSession("same", folder=tmp_path / "a", store=tmp_path / "a").store.folder == s.store.folder.parent / "a"
    with pytest.raises(ParamError, match="two spellings of one setting"):
        PublicSession("both", folder=tmp_path / "a", store=tmp_path / "b")


@pytest.mark.parametrize("kwargs, named", [({"qualty": "low"}, "did you mean 'quality'"),
                                           ({"stor": "x"}, "did you mean 'store'"),
                                           ({"colour": "red"}, "'colour'")])
def test_session_and_configure_refuse_unknown_keywords_instead_of_dropping_them(tmp_path, kwargs, named):
    from imagewidgets.session.session import Session as PublicSession, configure, settings

    with pytest.raises(ParamError, match="unknown keyword argument") as caught:
        PublicSession("typo", folder=tmp_path, **kwargs)
    assert named in str(caught.value)
    before = settings()
    with pytest.raises(ParamError, match="configure\\(\\) got an unknown keyword argument") as caught:
        configure(**kwargs)
    assert named in str(caught.value) and settings() == before  # nothing was set


def test_request_options_and_settings_are_still_accepted(tmp_path):
    from imagewidgets.session.session import Session as PublicSession, configure

    s = PublicSession("opts", folder=tmp_path, size="1536x1024", quality="low", output_format="webp",
                      input_fidelity="high", n=2, partial_images=1)
    assert s.defaults["quality"] == "low" and s.defaults["n"] == 2
    configure(store=str(tmp_path / "st"), quality="low", budget_usd=1.0)
