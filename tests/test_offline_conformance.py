"""The offline backend serves the official ``openai`` SDK, unchanged: ``imagewidgets serve`` runs in
a real subprocess on a free loopback port, and every body and stream event the SDK receives also
validates *strictly* against the SDK's own pydantic types (the SDK itself is lenient)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import openai
import pytest
from openai.types import Batch, FileDeleted, FileObject, ImageEditStreamEvent, ImageGenStreamEvent, ImagesResponse, Model
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from imagewidgets.api.models import MODELS, model_names

from .fixtures_offline import decode, mask_png, picture, png

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

_READY_TIMEOUT_S = 20


def _serve_command() -> list[str]:
    script = Path(sys.executable).with_name("imagewidgets")
    if script.exists():
        return [str(script), "serve"]
    found = shutil.which("imagewidgets")
    return [found, "serve"] if found else [sys.executable, "-m", "imagewidgets.cli", "serve"]


@contextlib.contextmanager
def serving(home: Path, *flags: str, ready_timeout_s: float = _READY_TIMEOUT_S) -> Iterator[str]:
    """``imagewidgets serve --port 0 FLAGS`` in a subprocess with its own ``IMAGEWIDGETS_HOME``;
    yields its base URL once its banner (which says it is a procedural renderer) is out; killed after."""
    env = {**os.environ, "IMAGEWIDGETS_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("IMAGEWIDGETS_OFFLINE_")}
    proc = subprocess.Popen([*_serve_command(), "--port", "0", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        try:
            banner = lines.get(timeout=ready_timeout_s)
        except queue.Empty:
            pytest.fail(f"imagewidgets serve printed nothing in {ready_timeout_s}s")
        assert "offline renderer (procedural, not AI)" in banner, banner
        yield next(word for word in banner.split() if word.startswith("http://"))
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``imagewidgets serve --port 0`` in a subprocess; yields its base URL; killed at the end."""
    home = tmp_path_factory.mktemp("serve-home")
    with serving(home, "--calendar", "off", "--state-dir", str(home / "state")) as url:
        yield url


@pytest.fixture
def client(served):
    return openai.OpenAI(base_url=served, api_key="test", max_retries=0, timeout=60)


def strict(tp, raw):
    """Validate ``raw`` (JSON data) strictly against an SDK type: missing required fields fail."""
    return TypeAdapter(tp).validate_python(raw, strict=True)


def _file(name: str, data: bytes) -> tuple[str, bytes, str]:
    return (name, data, "image/png")


def _size_for(name: str) -> str:
    spec = MODELS[name]
    return "256x256" if "256x256" in spec.sizes else "1024x1024"


@pytest.mark.parametrize("name", model_names("generations"))
def test_generate_with_every_model_that_generates(client, name):
    spec = MODELS[name]
    kwargs = {"quality": "low"} if "low" in spec.qualities else {}
    if spec.response_formats:
        kwargs["response_format"] = "b64_json"
    raw = client.images.with_raw_response.generate(model=name, prompt="a paper boat on a pond",
                                                   size=_size_for(name), **kwargs)
    assert raw.headers["x-request-id"] and raw.headers["x-imagewidgets-backend"] == "offline-renderer"
    body = strict(ImagesResponse, raw.http_response.json())
    assert raw.parse().data[0].b64_json == body.data[0].b64_json
    assert body.data and body.data[0].b64_json
    assert decode(body.data[0].b64_json).size == tuple(int(x) for x in _size_for(name).split("x"))
    if spec.family == "gpt-image":
        assert None not in (body.usage, body.size, body.quality, body.output_format, body.background)
        assert body.usage.total_tokens == body.usage.input_tokens + body.usage.output_tokens
    if spec.revised_prompt:
        assert "no language model" in body.data[0].revised_prompt


def test_dalle_urls_are_fetchable(client, served):
    result = client.images.generate(model="dall-e-3", prompt="a lighthouse")
    assert result.data[0].url.startswith(served.rsplit("/v1", 1)[0])
    import httpx2

    assert httpx2.get(result.data[0].url).content.startswith(b"\x89PNG")


def test_edit_with_a_mask(client):
    raw = client.images.with_raw_response.edit(
        model="gpt-image-1.5", prompt="a sun in the corner", quality="low",
        image=_file("base.png", png(1024, 1024)), mask=_file("mask.png", mask_png(1024, 1024, (0, 0, 512, 512))))
    body = strict(ImagesResponse, raw.http_response.json())
    assert body.data[0].b64_json and body.usage.input_tokens_details.image_tokens > 0


def test_edit_with_several_images(client):
    one = strict(ImagesResponse, client.images.with_raw_response.edit(
        model="gpt-image-1.5", prompt="a gift basket", quality="low",
        image=[_file("a.png", png(1024, 1024))]).http_response.json())
    three = strict(ImagesResponse, client.images.with_raw_response.edit(
        model="gpt-image-1.5", prompt="a gift basket", quality="low",
        image=[_file(f"{i}.png", png(1024, 1024, (i * 80, 40, 90))) for i in range(3)]).http_response.json())
    assert three.usage.input_tokens_details.image_tokens == 3 * one.usage.input_tokens_details.image_tokens


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK marks variations deprecated
def test_create_variation_with_dalle_2(client):
    raw = client.images.with_raw_response.create_variation(image=_file("a.png", picture(256, 256)), n=2, size="256x256",
                                                           response_format="b64_json")
    body = strict(ImagesResponse, raw.http_response.json())
    assert len(body.data) == 2 and all(decode(d.b64_json).size == (256, 256) for d in body.data)


def test_generate_stream_sends_the_partials_then_completed(client):
    events = list(client.images.generate(model="gpt-image-1.5", prompt="a river of owl feathers", quality="low",
                                         stream=True, partial_images=2))
    checked = [strict(ImageGenStreamEvent, e.to_dict()) for e in events]
    assert [e.type for e in checked] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert [e.partial_image_index for e in checked[:2]] == [0, 1]
    assert checked[-1].usage.output_tokens > 200 and checked[-1].b64_json


def test_edit_stream_sends_the_partials_then_completed(client):
    events = list(client.images.edit(model="gpt-image-1.5", prompt="add a hat", quality="low", stream=True,
                                     partial_images=3, image=_file("a.png", png(1024, 1024))))
    checked = [strict(ImageEditStreamEvent, e.to_dict()) for e in events]
    assert [e.type for e in checked] == ["image_edit.partial_image"] * 3 + ["image_edit.completed"]
    assert checked[-1].usage.input_tokens_details.image_tokens > 0


TOOL = {"type": "image_generation", "quality": "low", "size": "1024x1024"}


def _image_calls(response: Response) -> list:
    return [item for item in response.output if item.type == "image_generation_call"]


def test_responses_two_turns_with_previous_response_id(client):
    raw = client.responses.with_raw_response.create(model="gpt-5", input="a cat hugging an otter", tools=[TOOL])
    first = strict(Response, raw.http_response.json())
    call = _image_calls(first)[0]
    assert first.status == "completed" and call.status == "completed" and call.result and call.id.startswith("ig_")
    # image usage lives in Response.tool_usage.image_gen; the default tool model (gpt-image-2.6-sunburst)
    # is billed by the gpt-image-2+ formula: 196 tokens for low 1024x1024
    assert first.tool_usage.image_gen.output_tokens == 196
    second = strict(Response, client.responses.with_raw_response.create(
        model="gpt-5", input="now give it an orange scarf", previous_response_id=first.id,
        tools=[TOOL]).http_response.json())
    call2 = _image_calls(second)[0]
    assert second.previous_response_id == first.id and call2.action == "edit"
    assert "a cat hugging an otter" in call2.revised_prompt and "orange scarf" in call2.revised_prompt
    assert second.tool_usage.image_gen.input_tokens_details.image_tokens > 0
    retrieved = client.responses.with_raw_response.retrieve(second.id)
    assert strict(Response, retrieved.http_response.json()).id == second.id


def test_responses_image_generation_call_item_references_an_earlier_image(client):
    first = client.responses.create(model="gpt-5", input="a red kite", tools=[TOOL])
    ig = _image_calls(first)[0].id
    second = client.responses.with_raw_response.create(model="gpt-5", tools=[TOOL], input=[
        {"role": "user", "content": [{"type": "input_text", "text": "make it blue"}]},
        {"type": "image_generation_call", "id": ig}])
    call = _image_calls(strict(Response, second.http_response.json()))[0]
    assert call.action == "edit" and call.result


def test_responses_stream_with_partial_images(client):
    events = list(client.responses.create(model="gpt-5", input="a lighthouse at dusk", stream=True,
                                          tools=[{**TOOL, "partial_images": 2}]))
    checked = [strict(ResponseStreamEvent, e.to_dict()) for e in events]
    kinds = [e.type for e in checked]
    assert kinds == [
        "response.created", "response.in_progress", "response.output_item.added",
        "response.image_generation_call.in_progress", "response.image_generation_call.generating",
        "response.image_generation_call.partial_image", "response.image_generation_call.partial_image",
        "response.image_generation_call.completed", "response.output_item.done", "response.completed"]
    assert [e.sequence_number for e in checked] == list(range(len(checked)))
    partials = [e for e in checked if e.type.endswith("partial_image")]
    assert [p.partial_image_index for p in partials] == [0, 1] and all(p.partial_image_b64 for p in partials)
    done = checked[-1].response
    assert done.status == "completed" and _image_calls(done)[0].result
    assert done.tool_usage.image_gen.output_tokens == 196 + 200
    assert client.responses.retrieve(done.id).id == done.id


def test_file_id_as_an_input_image_in_responses_and_edits(client):
    raw = client.files.with_raw_response.create(file=_file("photo.png", png(1024, 1024, (200, 60, 60))),
                                               purpose="vision")
    f = strict(FileObject, raw.http_response.json())
    assert f.id.startswith("file-") and f.status == "processed"
    response = client.responses.create(model="gpt-5", tools=[TOOL], input=[{"role": "user", "content": [
        {"type": "input_text", "text": "put this in a frame"}, {"type": "input_image", "file_id": f.id}]}])
    call = _image_calls(response)[0]
    assert call.status == "completed" and call.action == "edit"
    # the SDK's images.edit only uploads files; the JSON form with file ids goes through its generic post
    edited = client.post("/images/edits", cast_to=ImagesResponse, body={
        "model": "gpt-image-1.5", "prompt": "frame it", "quality": "low", "images": [{"file_id": f.id}]})
    assert edited.data[0].b64_json and edited.usage.input_tokens_details.image_tokens > 0


def test_responses_with_a_data_url_input_image(client):
    data_url = "data:image/png;base64," + base64.b64encode(png(1024, 1024)).decode()
    response = client.responses.create(model="gpt-5", tools=[TOOL], input=[{"role": "user", "content": [
        {"type": "input_text", "text": "a frame around it"}, {"type": "input_image", "image_url": data_url}]}])
    assert _image_calls(response)[0].action == "edit"


def test_models_list_and_retrieve(client):
    raw = client.models.with_raw_response.list()
    listed = [strict(Model, m) for m in raw.http_response.json()["data"]]
    assert [m.id for m in listed][:len(MODELS)] == list(MODELS)  # then the mainline models with dates
    assert {m.id: m.shutdown_date for m in listed}["gpt-image-1.5"] == "2026-12-01"
    assert client.models.retrieve("gpt-image-2").id == "gpt-image-2"


def test_sdk_errors_map_to_its_exception_classes(client):
    with pytest.raises(openai.BadRequestError) as bad:
        client.images.generate(model="dall-e-3", prompt="x", n=2)
    assert bad.value.body["param"] == "n" and bad.value.request_id
    with pytest.raises(openai.NotFoundError):
        client.images.generate(model="gpt-image-99", prompt="x")
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_nope")
    with pytest.raises(openai.BadRequestError) as blocked:
        client.images.generate(model="gpt-image-1.5", prompt="something forbidden", quality="low")
    assert blocked.value.code == "moderation_blocked"


def test_edit_nested_form_fields_as_the_sdk_sends_them(client):
    raw = client.images.with_raw_response.edit(
        model="gpt-image-2", prompt="a flat icon", output_format="svg", image=_file("a.png", png(256, 256)),
        svg={"model": "gpt-5", "reasoning": {"effort": "low"}})
    body = strict(ImagesResponse, raw.http_response.json())
    assert body.output_format == "svg" and base64.b64decode(body.data[0].b64_json).lstrip().startswith((b"<svg", b"<?xml"))


def test_a_blocked_image_call_is_a_failed_item_with_the_moderation_error(client):
    raw = client.responses.with_raw_response.create(model="gpt-5", input="something forbidden", tools=[TOOL])
    call = _image_calls(strict(Response, raw.http_response.json()))[0]
    assert call.status == "failed" and call.result is None and call.error.code == "moderation_blocked"
    events = [strict(ResponseStreamEvent, e.to_dict()) for e in client.responses.create(
        model="gpt-5", input="something forbidden", tools=[TOOL], stream=True)]
    assert events[-2].type == "response.output_item.done" and events[-2].item.status == "failed"
    assert not [e for e in events if e.type.endswith("partial_image")]


def _batch_input(n: int) -> bytes:
    return b"".join(json.dumps({"custom_id": f"c{i}", "method": "POST", "url": "/v1/images/generations", "body": {
        "model": "dall-e-2", "prompt": f"a lantern {i}", "size": "256x256", "response_format": "b64_json"}}).encode()
        + b"\n" for i in range(n))


def test_batches_and_files_through_the_sdk(client):
    raw = client.files.with_raw_response.create(file=("in.jsonl", _batch_input(3), "application/jsonl"), purpose="batch")
    f = strict(FileObject, raw.http_response.json())
    assert f.purpose == "batch" and client.files.content(f.id).content == _batch_input(3)
    raw = client.batches.with_raw_response.create(input_file_id=f.id, endpoint="/v1/images/generations",
                                                  completion_window="24h", metadata={"sweep": "lanterns"})
    batch = strict(Batch, raw.http_response.json())
    assert batch.status == "validating" and batch.metadata == {"sweep": "lanterns"}
    deadline = time.monotonic() + 60
    while batch.status not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)
        batch = strict(Batch, client.batches.with_raw_response.retrieve(batch.id).http_response.json())
    assert batch.status == "completed" and batch.request_counts.completed == 3 and batch.completed_at
    assert batch.id in [b.id for b in client.batches.list()]
    lines = client.files.content(batch.output_file_id).text.splitlines()
    assert sorted(json.loads(line)["custom_id"] for line in lines) == ["c0", "c1", "c2"]
    for line in lines:
        body = strict(ImagesResponse, json.loads(line)["response"]["body"])
        assert decode(body.data[0].b64_json).size == (256, 256)
    listed = client.files.with_raw_response.list(purpose="batch_output").http_response.json()
    assert batch.output_file_id in [strict(FileObject, x).id for x in listed["data"]]
    deleted = strict(FileDeleted, client.files.with_raw_response.delete(f.id).http_response.json())
    assert deleted.deleted and deleted.id == f.id


def test_cancelling_a_batch_through_the_sdk(client):
    f = client.files.create(file=("many.jsonl", _batch_input(20)), purpose="batch")
    batch = client.batches.create(input_file_id=f.id, endpoint="/v1/images/generations", completion_window="24h")
    cancelling = strict(Batch, client.batches.with_raw_response.cancel(batch.id).http_response.json())
    assert cancelling.status == "cancelling" and cancelling.cancelling_at
    deadline = time.monotonic() + 60
    while client.batches.retrieve(batch.id).status == "cancelling" and time.monotonic() < deadline:
        time.sleep(0.1)
    done = client.batches.retrieve(batch.id)
    assert done.status == "cancelled" and done.request_counts.completed < 20
