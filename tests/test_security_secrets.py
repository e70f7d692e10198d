"""A key typed into a prompt is masked at one boundary, and so everywhere it is kept or shown
(issue 12, item 5): results, revised prompts, the client's sidecar JSON, the session's store,
exports, history, reprs and errors. Against the offline server over loopback, with a key set."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from imagewidgets import APIError, Client, Session
from tests.fixtures_offline import offline_server  # noqa: F401

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

KEY = "sk-proj-TESTKEY0123456789abcdefSECRET"
PROMPT = f"a poster that says {KEY} in big letters"


def _no_key_under(folder: Path) -> None:
    """No file we write holds the key. The pictures are left out: they are the server's bytes,
    kept exactly as they arrived (the offline renderer writes the prompt it was sent, key and all,
    into the picture and its PNG text chunk, as a server may)."""
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix not in (".png", ".jpg", ".webp", ".gif"):
            assert KEY.encode() not in path.read_bytes(), path


@pytest.fixture
def keyed(offline_server, tmp_path):
    server = offline_server()
    return Client(api_key=KEY, base_url=server.base_url, save_dir=tmp_path / "saved")


def test_client_results_and_their_sidecars_are_masked(keyed, tmp_path):
    img = keyed.generate(PROMPT, model="dall-e-3")  # dall-e-3 answers with a revised prompt that quotes it
    assert KEY not in img.prompt and "***" in img.prompt
    assert img.revised_prompt and KEY not in img.revised_prompt and "***" in img.revised_prompt
    assert KEY not in repr(img) and KEY not in img.html()
    _no_key_under(tmp_path / "saved")


def test_streamed_results_are_masked(keyed, tmp_path):
    with keyed.generate(PROMPT, model="gpt-image-1.5", quality="low", stream=True, partial_images=1) as stream:
        results = [e.result for e in stream if e.type == "completed"]
    assert results and all(KEY not in (r.prompt or "") for r in results)
    _no_key_under(tmp_path / "saved")


@pytest.mark.parametrize("api", ["images", "responses"])
def test_a_session_keeps_and_shows_only_the_masked_text(keyed, tmp_path, api):
    s = Session("harbour", folder=tmp_path / "store", client=keyed)
    model = "dall-e-3" if api == "images" else "gpt-image-1.5"
    s.imagine(PROMPT, model=model, api=api, **({} if api == "images" else {"quality": "low"}))
    turn = s.current
    assert KEY not in (turn.prompt or "") and KEY not in (turn.revised_prompt or "")
    assert KEY not in repr(turn) and KEY not in turn._repr_html_()
    assert KEY not in repr(s.history()) and KEY not in s.history()._repr_html_() and KEY not in repr(s.lineage())
    assert KEY not in json.dumps(s.history().rows, default=str)
    s.export(tmp_path / "exports" / "report.html")
    s.export(tmp_path / "exports" / "session.json")
    reopened = Session("harbour", folder=tmp_path / "store", client=keyed)
    assert all(KEY not in (img.prompt or "") for t in reopened.turns for img in t.images)
    s.store.close()  # the WAL is checkpointed into index.db: both are scanned
    for folder in ("store", "exports", "saved"):
        if (tmp_path / folder).exists():
            _no_key_under(tmp_path / folder)


def test_an_error_that_quotes_the_key_is_masked(tmp_path):
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(401, json={"error": {"message": f"Incorrect API key provided: {KEY}.",
                                                    "type": "invalid_request_error", "code": "invalid_api_key"}})

    client = Client(api_key=KEY, base_url="http://api.test/v1", transport=httpx2.MockTransport(answer),
                    save_dir=None, max_retries=0)
    with pytest.raises(APIError) as info:
        client.generate("a fox")
    assert KEY not in str(info.value) and KEY not in repr(info.value) and KEY not in json.dumps(info.value.body)
    assert KEY not in info.value._repr_html_()
