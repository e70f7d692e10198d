"""The API's November 2026 additions, served by ``imagewidgets serve`` to the official SDK (issue 30):
content provenance checks, background Responses turns (retrieve, cancel), streamed retrieval,
delete and ``input_items``. Every answer also validates strictly against the SDK's own types."""

from __future__ import annotations

import base64
import io
import json
import time

import httpx2
import openai
import pytest
from openai.types import ContentProvenanceCheck
from openai.types.responses import Response, ResponseItemList, ResponseStreamEvent
from PIL import Image
from pydantic import TypeAdapter

from .test_offline_conformance import serving

pytest.importorskip("c2pa")

BACKGROUND_WAIT_S = 1.0  # the server keeps background turns queued this long: time to cancel one
TOOL = [{"type": "image_generation", "model": "gpt-image-2", "size": "1024x1024", "quality": "low"}]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("serve-home"), "--quiet", "--background-wait", str(BACKGROUND_WAIT_S),
                 ready_timeout_s=30) as url:
        yield url


@pytest.fixture
def client(served):
    return openai.OpenAI(base_url=served, api_key="test", max_retries=0, timeout=60)


def strict(tp, raw):
    return TypeAdapter(tp).validate_python(raw, strict=True)


def _checked(client, data: bytes, name: str = "picture.png") -> dict:
    """The raw JSON of a provenance check, after the SDK's own call parsed it too."""
    parsed = client.content_provenance_checks.create(file=(name, data))
    assert isinstance(parsed, ContentProvenanceCheck)
    raw = client.content_provenance_checks.with_raw_response.create(file=(name, data)).http_response.json()
    strict(ContentProvenanceCheck, raw)
    return raw


def _c2pa(raw: dict) -> dict:
    return next(r for r in raw["results"] if r["type"] == "c2pa")


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_a_generated_image_carries_a_manifest_the_check_finds(client, fmt):
    made = client.images.generate(model="gpt-image-2", prompt="a lighthouse", size="1024x1024", quality="low",
                                  output_format=fmt)
    data = base64.b64decode(made.data[0].b64_json)
    found = _c2pa(_checked(client, data, f"picture.{fmt}"))
    assert found["outcome"] == "detected"
    assert found["validation_state"] == "valid"  # signed by the twin's own test certificate, not trusted
    assert found["model"] == "gpt-image-2"
    assert "imagewidgets offline twin" in found["issuer"]
    assert found["generated_at"].endswith("Z")


def test_re_encoding_drops_the_manifest(client):
    made = client.images.generate(model="gpt-image-2", prompt="a lighthouse", size="1024x1024", quality="low")
    data = base64.b64decode(made.data[0].b64_json)
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, "PNG")  # same pixels, new file: no manifest
    raw = _checked(client, out.getvalue())
    assert _c2pa(raw) == {"type": "c2pa", "outcome": "not_detected", "validation_state": "not_present",
                          "issuer": None, "model": None, "generated_at": None}
    assert next(r for r in raw["results"] if r["type"] == "synthid")["outcome"] == "not_detected"


def test_a_tampered_manifest_is_invalid(client):
    made = client.images.generate(model="gpt-image-2", prompt="a lighthouse", size="1024x1024", quality="low",
                                  output_format="png")
    data = bytearray(base64.b64decode(made.data[0].b64_json))
    idat = data.index(b"IDAT") + 40
    data[idat] ^= 0xFF  # one pixel byte changed: the manifest's hash of the image no longer holds
    found = _c2pa(_checked(client, bytes(data)))
    assert found["validation_state"] == "invalid" and found["outcome"] == "not_detected"


def test_a_check_refuses_what_is_not_an_image(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.content_provenance_checks.create(file=("notes.txt", b"just some text"))
    assert e.value.body["param"] == "file"


def test_a_background_turn_is_queued_then_completed(client):
    made = client.responses.create(model="gpt-5.5", input="a red kite", tools=TOOL, background=True,
                                   background_options={"completion_window": "2h"})
    assert made.status == "queued" and made.background is True
    deadline = time.monotonic() + 30
    got = client.responses.retrieve(made.id)
    while got.status in ("queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.2)
        got = client.responses.retrieve(made.id)
    assert got.status == "completed"
    raw = client.responses.with_raw_response.retrieve(made.id).http_response.json()
    strict(Response, raw)
    call = raw["output"][0]
    assert call["type"] == "image_generation_call" and Image.open(io.BytesIO(base64.b64decode(call["result"]))).size \
        == (1024, 1024)
    assert raw["tool_usage"]["image_gen"]["output_tokens"] > 0


def test_cancelling_a_queued_background_turn(client):
    made = client.responses.create(model="gpt-5.5", input="a red kite", tools=TOOL, background=True)
    cancelled = client.responses.cancel(made.id)
    assert cancelled.status == "cancelled"
    time.sleep(BACKGROUND_WAIT_S + 0.5)  # past the time it would have been drawn
    assert client.responses.retrieve(made.id).status == "cancelled"
    assert client.responses.cancel(made.id).status == "cancelled"  # idempotent


def test_only_background_turns_can_be_cancelled(client):
    made = client.responses.create(model="gpt-5.5", input="a red kite", tools=TOOL)
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(made.id)


def test_the_2h_window_needs_background(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model="gpt-5.5", input="a kite", tools=TOOL,
                                background_options={"completion_window": "8h"})
    assert e.value.body["param"] == "background_options.completion_window"


def _streamed(client, response_id: str, **kw) -> list:
    with client.responses.retrieve(response_id, stream=True, **kw) as stream:
        return list(stream)


def test_retrieve_with_stream_replays_a_finished_turn(client, served):
    made = client.responses.create(model="gpt-5.5", input="a red kite", tools=TOOL)
    events = _streamed(client, made.id)
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert "response.image_generation_call.completed" in types
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].response.output[0].result == made.output[0].result
    later = _streamed(client, made.id, starting_after=3)
    assert [e.sequence_number for e in later] == list(range(4, len(events)))
    with httpx2.stream("GET", f"{served}/responses/{made.id}?stream=true") as r:  # each event strictly typed
        for line in r.iter_lines():
            if line.startswith("data: "):
                strict(ResponseStreamEvent, json.loads(line[6:]))


def test_retrieve_with_stream_follows_a_background_turn_to_its_end(client):
    made = client.responses.create(model="gpt-5.5", input="a red kite", tools=TOOL, background=True)
    events = _streamed(client, made.id)
    assert [e.type for e in events][:2] == ["response.created", "response.queued"]
    assert events[-1].type == "response.completed"
    assert events[-1].response.output[0].result


def test_delete_a_response(client):
    made = client.responses.create(model="gpt-5.5", input="a red kite", tools=TOOL)
    assert client.responses.delete(made.id) is None
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(made.id)


def test_input_items_list_the_request(client, served):
    made = client.responses.create(model="gpt-5.5", tools=TOOL, input=[
        {"role": "user", "content": [{"type": "input_text", "text": "first"}]},
        {"role": "user", "content": "second"}])
    items = list(client.responses.input_items.list(made.id, order="asc"))
    assert [i.content[0].text for i in items] == ["first", "second"]
    raw = httpx2.get(f"{served}/responses/{made.id}/input_items", params={"limit": 1}).json()
    strict(ResponseItemList, raw)
    assert raw["has_more"] is True and raw["data"][0]["content"][0]["text"] == "second"  # newest first


def test_input_items_show_image_urls_only_when_included(client, served):
    url = "data:image/png;base64," + base64.b64encode(_png()).decode()
    made = client.responses.create(model="gpt-5.5", tools=TOOL, input=[{"role": "user", "content": [
        {"type": "input_text", "text": "paint it blue"}, {"type": "input_image", "image_url": url}]}])
    plain = client.responses.input_items.list(made.id).data[0].content[1]
    assert plain.type == "input_image" and plain.image_url is None
    full = client.responses.input_items.list(made.id, include=["message.input_image.image_url"]).data[0].content[1]
    assert full.image_url == url


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (30, 90, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("path, query, param", [
    ("", {"stream": "maybe"}, "stream"),
    ("", {"starting_after": "x"}, "starting_after"),
    ("", {"include": "everything"}, "include"),
    ("/input_items", {"limit": "ten"}, "limit"),
    ("/input_items", {"limit": "0"}, "limit"),
    ("/input_items", {"order": "sideways"}, "order"),
])
def test_wrong_query_parameters_are_400(client, served, path, query, param):
    made = client.responses.create(model="gpt-5.5", input="a kite", tools=TOOL)
    r = httpx2.get(f"{served}/responses/{made.id}{path}", params=query)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_background_turn_queued_when_the_server_stopped_is_drawn_by_the_next_one(tmp_path, anyio_backend):
    """A state folder keeps the queued turn's request: the next server draws it when asked about it."""
    from .fixtures_offline import asgi_client, make_offline_app, sse_events

    state = str(tmp_path / "state")
    first = make_offline_app(state_dir=state, background_s=60.0)
    async with asgi_client(first) as c:
        made = (await c.post("/responses", json={"model": "gpt-5.5", "input": "a red kite", "tools": TOOL,
                                                 "background": True})).json()
    first.state.backend.tasks[made["id"]].cancel()  # the process ends: its task with it
    second = make_offline_app(state_dir=state, background_s=0.0)
    async with asgi_client(second) as c:
        assert (await c.get(f"/responses/{made['id']}")).json()["status"] == "queued"  # a plain GET starts it too
        r = await c.get(f"/responses/{made['id']}", params={"stream": "true"})
        events = [d for _, d in sse_events(r.text.splitlines())]
        assert events[-1]["type"] == "response.completed"
        done = (await c.get(f"/responses/{made['id']}")).json()
    assert done["status"] == "completed" and done["id"] == made["id"] and done["output"][0]["result"]
    strict(Response, done)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_queued_turn_whose_input_is_gone_after_a_restart_fails_with_a_typed_error(tmp_path, anyio_backend):
    from .fixtures_offline import asgi_client, make_offline_app

    state = str(tmp_path / "state")
    first = make_offline_app(state_dir=state, background_s=60.0)
    async with asgi_client(first) as c:
        up = (await c.post("/files", data={"purpose": "vision"}, files={"file": ("a.png", _png(), "image/png")})).json()
        made = (await c.post("/responses", json={"model": "gpt-5.5", "tools": TOOL, "background": True, "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "paint it blue"},
                                         {"type": "input_image", "file_id": up["id"]}]}]})).json()
        await c.delete(f"/files/{up['id']}")
    first.state.backend.tasks[made["id"]].cancel()
    async with asgi_client(make_offline_app(state_dir=state)) as c:
        done = (await c.get(f"/responses/{made['id']}")).json()
    assert done["status"] == "failed" and done["error"]["code"] == "image_file_not_found"
    strict(Response, done)
