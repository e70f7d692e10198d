"""No string from a server forms a path (issue 12, item 2): request ids, response ids, call ids,
revised prompts and timestamps a hostile server sends never steer where images are written."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx2
import pytest

from imagewidgets import Client, Session
from tests.spec_server import png

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

EVIL = "/../../outside/X"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def hostile(request: httpx2.Request) -> httpx2.Response:
    """A server that puts paths everywhere a string can go."""
    image = base64.b64encode(png()).decode()
    headers = {"x-request-id": EVIL, "content-type": "application/json"}
    if request.url.path.endswith("/responses"):
        body = {"id": "../../outside/resp", "object": "response", "created_at": "../../outside/t",
                "output": [{"type": "image_generation_call", "id": "../../outside/call", "status": "completed",
                            "result": image, "revised_prompt": "../../outside/revised"}]}
    else:
        body = {"created": "../../outside/created",
                "data": [{"b64_json": image, "revised_prompt": "../../../outside/revised"}]}
    return httpx2.Response(200, headers=headers, content=json.dumps(body).encode())


@pytest.fixture
def evil_client(tmp_path):
    return Client(base_url="http://hostile.test/v1", api_key="sk-test", transport=httpx2.MockTransport(hostile),
                  save_dir=tmp_path / "saved" / "here")


@pytest.mark.parametrize("call", ["generate", "respond"])
def test_server_strings_never_leave_save_dir(evil_client, tmp_path, call):
    img = getattr(evil_client, call)("a fox", model="gpt-image-1.5")
    save_dir = (tmp_path / "saved" / "here").resolve()
    written = _files(tmp_path)
    assert written and all(p.resolve().is_relative_to(save_dir) for p in written), written
    assert not (tmp_path / "saved" / "outside").exists() and not (tmp_path / "outside").exists()
    assert img.path.resolve().parent == save_dir
    for p in written:  # and the names hold none of the server's words
        assert "outside" not in p.name and "X" not in p.name.split("-")[-1]
    assert json.loads(img.path.with_suffix(".json").read_text())["request_id"] == EVIL  # kept as data only


def test_saving_a_result_into_a_folder_ignores_server_timestamps(evil_client, tmp_path):
    img = evil_client.generate("a fox", model="gpt-image-1.5")
    target = tmp_path / "mine"
    target.mkdir()
    written = img.save(target)
    assert written.parent == target and written.name.startswith("image-0-0.")


def test_a_session_stores_hostile_answers_under_its_own_names(evil_client, tmp_path):
    s = Session("harbour", folder=tmp_path / "store", client=evil_client)
    s.imagine("a fox", model="gpt-image-1.5", api="responses")
    s.imagine("a hen", model="gpt-image-1.5", api="images")
    store = (tmp_path / "store").resolve()
    images = [p for p in _files(tmp_path / "store") if p.suffix == ".png"]
    assert len(images) == 2 and all(p.resolve().is_relative_to(store / "images" / "harbour") for p in images)
    assert all(p.name.startswith(t.id) for p, t in zip(sorted(images), sorted(s.turns, key=lambda t: t.id)))


def test_a_format_from_the_server_never_names_a_file(tmp_path):
    from imagewidgets.api.results import ImageResult

    img = ImageResult.from_bytes(png(), format="../../x")
    assert img.format == "png" and img.extension == "png"
    odd = ImageResult(data=b"x", format="../../evil")
    assert odd.extension == "bin" and odd.save(tmp_path).parent == tmp_path
