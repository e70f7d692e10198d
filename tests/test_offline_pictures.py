"""The pictures themselves, not just the statuses: sizes, formats, alpha, masks, partial frames that
converge, chains that continue, and frames that really arrive one by one over loopback."""

from __future__ import annotations

import base64
import io
import time

import httpx2
import numpy as np
import pytest
from PIL import Image

from .fixtures_offline import asgi_client, decode, make_offline_app, mask_png, offline_server, picture, sse_events  # noqa: F401

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = [pytest.mark.anyio, pytest.mark.calendar_off]

GEN = "/images/generations"
LOW = {"quality": "low"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _pixels(im: Image.Image, mode: str = "RGB") -> np.ndarray:
    return np.asarray(im.convert(mode), dtype=np.int16)


def _diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two images (RGB, 0-255)."""
    if a.size != b.size:
        b = b.resize(a.size)
    return float(np.abs(_pixels(a) - _pixels(b)).mean())


async def _generate(**body) -> dict:
    async with asgi_client(make_offline_app()) as c:
        r = await c.post(GEN, json=body)
    assert r.status_code == 200, r.text
    return r.json()


SIZES = [
    ("gpt-image-1.5", "1536x1024", "1536x1024"),
    ("gpt-image-1.5", "1024x1536", "1024x1536"),
    ("gpt-image-2", "640x384", "640x384"),  # the free WxH rule
    ("gpt-image-2.6-sunburst", "1280x720", "1536x1024"),  # a size the server decides: nearest standard one
    ("dall-e-2", "512x512", "512x512"),
    ("dall-e-3", "1792x1024", "1792x1024"),
]


@pytest.mark.parametrize("model,size,made", SIZES, ids=[f"{m}-{s}" for m, s, _ in SIZES])
async def test_the_image_has_the_size_asked_for(model, size, made):
    extra = {"response_format": "b64_json"} if model.startswith("dall-e") else LOW
    body = await _generate(prompt="a harbour at dawn", model=model, size=size, **extra)
    im = decode(body["data"][0]["b64_json"])
    assert im.size == tuple(int(x) for x in made.split("x"))
    if not model.startswith("dall-e"):
        assert body["size"] == made


async def test_size_auto_follows_the_prompt_and_is_reported():
    wide = await _generate(prompt="a wide panorama of hills", model="gpt-image-1.5", **LOW)
    assert wide["size"] == "1536x1024" and decode(wide["data"][0]["b64_json"]).size == (1536, 1024)


@pytest.mark.parametrize("fmt,pil", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
async def test_the_image_is_encoded_in_the_format_asked_for(fmt, pil):
    body = await _generate(prompt="a kite", model="gpt-image-1.5", output_format=fmt, **LOW)
    assert body["output_format"] == fmt and decode(body["data"][0]["b64_json"]).format == pil


async def test_compression_makes_jpeg_smaller():
    def size(body: dict) -> int:
        return len(base64.b64decode(body["data"][0]["b64_json"]))

    small = await _generate(prompt="a kite", model="gpt-image-1.5", output_format="jpeg", output_compression=10, **LOW)
    large = await _generate(prompt="a kite", model="gpt-image-1.5", output_format="jpeg", output_compression=100, **LOW)
    assert size(small) < size(large)


async def test_gif_has_the_frames_asked_for():
    body = await _generate(prompt="a spinning top", model="gpt-image-2", output_format="gif", frame_count=4,
                           size="256x256", **LOW)
    im = decode(body["data"][0]["b64_json"])
    assert im.format == "GIF" and im.n_frames == 4


async def test_svg_is_an_svg_document():
    body = await _generate(prompt="a flat icon of a boat", model="gpt-image-2", output_format="svg", **LOW)
    assert base64.b64decode(body["data"][0]["b64_json"]).lstrip().startswith((b"<svg", b"<?xml"))


@pytest.mark.parametrize("fmt", ["png", "webp"])
async def test_transparent_background_has_alpha(fmt):
    body = await _generate(prompt="a sticker of a cat", model="gpt-image-1.5", background="transparent",
                           output_format=fmt, **LOW)
    im = decode(body["data"][0]["b64_json"])
    alpha = np.asarray(im.convert("RGBA"))[..., 3]
    assert body["background"] == "transparent" and "A" in im.mode
    assert alpha.min() == 0 and alpha.max() == 255  # see-through background, solid subject


async def test_opaque_background_has_no_transparent_pixel():
    body = await _generate(prompt="a cat", model="gpt-image-1.5", background="opaque", **LOW)
    alpha = np.asarray(decode(body["data"][0]["b64_json"]).convert("RGBA"))[..., 3]
    assert body["background"] == "opaque" and alpha.min() == 255


async def test_n_images_are_different_pictures():
    body = await _generate(prompt="a kite", model="gpt-image-1.5", n=3, size="1024x1024", **LOW)
    ims = [decode(d["b64_json"]) for d in body["data"]]
    assert len(ims) == 3 and min(_diff(ims[0], ims[1]), _diff(ims[1], ims[2]), _diff(ims[0], ims[2])) > 1


async def test_dalle2_edit_keeps_every_pixel_outside_the_mask():
    base = picture(256, 256)
    box = (64, 64, 192, 192)
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/edits", data={"prompt": "a golden sun", "model": "dall-e-2", "size": "256x256",
                                                "response_format": "b64_json"},
                         files=[("image", ("base.png", base, "image/png")),
                                ("mask", ("mask.png", mask_png(256, 256, box), "image/png"))])
    assert r.status_code == 200, r.text
    out, src = _pixels(decode(r.json()["data"][0]["b64_json"])), _pixels(decode(base))
    keep = np.ones((256, 256), bool)
    keep[box[1]:box[3], box[0]:box[2]] = False
    assert np.array_equal(out[keep], src[keep])
    assert np.abs(out[~keep] - src[~keep]).mean() > 5  # and the masked area was redrawn


async def test_gpt_edit_is_derived_from_the_input_image():
    base = picture(1024, 1024)
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/edits", data={"prompt": "a small boat", "model": "gpt-image-1.5", **LOW},
                         files={"image": ("base.png", base, "image/png")})
    fresh = await _generate(prompt="a small boat", model="gpt-image-1.5", size="1024x1024", **LOW)
    edited = decode(r.json()["data"][0]["b64_json"])
    assert _diff(edited, decode(base)) < _diff(decode(fresh["data"][0]["b64_json"]), decode(base))


async def test_partial_frames_converge_to_the_final_image():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post(GEN, json={"prompt": "a river of owl feathers", "model": "gpt-image-1.5", "stream": True,
                                    "partial_images": 3, "size": "1024x1024", **LOW})
        plain = (await c.post(GEN, json={"prompt": "a river of owl feathers", "model": "gpt-image-1.5",
                                         "size": "1024x1024", **LOW})).json()
    events = [d for _, d in sse_events(r.text.splitlines())]
    final = decode(events[-1]["b64_json"])
    diffs = [_diff(decode(e["b64_json"]), final) for e in events[:-1]]
    assert len(diffs) == 3 and diffs[0] > diffs[1] > diffs[2] > 0
    # streaming draws the same final picture (the same pixels: each file has its own C2PA manifest)
    assert _diff(final, decode(plain["data"][0]["b64_json"])) == 0


TOOL = {"type": "image_generation", "quality": "low", "size": "1024x1024", "model": "gpt-image-1.5"}


async def _respond(c, **body) -> dict:
    r = await c.post("/responses", json={"model": "gpt-5", "tools": [TOOL], **body})
    assert r.status_code == 200, r.text
    return r.json()


def _result(response: dict) -> Image.Image:
    return decode(response["output"][0]["result"])


async def test_a_previous_response_id_turn_continues_the_previous_image():
    async with asgi_client(make_offline_app()) as c:
        first = await _respond(c, input="a red lighthouse on a cliff")
        second = await _respond(c, input="add a full moon", previous_response_id=first["id"])
        fresh = await _respond(c, input="add a full moon")
    before = _result(first)
    assert _diff(_result(second), before) < _diff(_result(fresh), before)
    assert _diff(_result(second), before) > 0  # and it did change


async def test_an_image_generation_call_item_continues_that_image():
    async with asgi_client(make_offline_app()) as c:
        first = await _respond(c, input="a blue kite over a field")
        second = await _respond(c, input=[{"role": "user", "content": "make the sky stormy"},
                                          {"type": "image_generation_call", "id": first["output"][0]["id"]}])
        fresh = await _respond(c, input="make the sky stormy")
    before = _result(first)
    assert _diff(_result(second), before) < _diff(_result(fresh), before)


def test_frames_arrive_one_by_one_over_loopback(offline_server):
    """Frame k reaches the client before the server even sends frame k+1 (no buffering anywhere)."""
    server = offline_server(partial_interval_s=0.4)
    received: list[tuple[str, float]] = []
    with httpx2.stream("POST", server.base_url + "/images/generations", timeout=30, json={
            "prompt": "a lantern festival", "model": "gpt-image-1.5", "stream": True, "partial_images": 3, **LOW}) as r:
        request_id = r.headers["x-request-id"]
        event = None
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                received.append((event, time.time()))
    sent = [(e["type"], e["sent_at"]) for e in server.app.state.backend.stream_log if e["request_id"] == request_id]
    assert [k for k, _ in received] == [k for k, _ in sent] == [
        "image_generation.partial_image"] * 3 + ["image_generation.completed"]
    for k in range(len(sent) - 1):
        assert received[k][1] < sent[k + 1][1], f"frame {k} arrived after frame {k + 1} was sent"


def test_responses_partial_images_arrive_one_by_one_over_loopback(offline_server):
    server = offline_server(partial_interval_s=0.4)
    received: list[tuple[str, float]] = []
    with httpx2.stream("POST", server.base_url + "/responses", timeout=30, json={
            "model": "gpt-5", "input": "a lantern festival", "stream": True,
            "tools": [{**TOOL, "partial_images": 2}]}) as r:
        request_id = r.headers["x-request-id"]
        for line in r.iter_lines():
            if line.startswith("event:"):
                received.append((line[6:].strip(), time.time()))
    sent = [(e["type"], e["sent_at"]) for e in server.app.state.backend.stream_log if e["request_id"] == request_id]
    assert [k for k, _ in received] == [k for k, _ in sent]
    frames = [i for i, (k, _) in enumerate(sent) if k.startswith("response.image_generation_call.")
              and k.endswith(("partial_image", "completed"))]
    assert len(frames) == 3
    for a, b in zip(frames, frames[1:]):
        assert received[a][1] < sent[b][1]


def test_the_embedded_server_spaces_frames_by_default_and_the_environment_overrides(monkeypatch):
    from imagewidgets.offline import server as server_module

    monkeypatch.delenv("IMAGEWIDGETS_OFFLINE_PARTIAL_INTERVAL_S", raising=False)
    assert server_module._embedded_interval() == server_module.EMBEDDED_PARTIAL_INTERVAL_S == 0.3
    monkeypatch.setenv("IMAGEWIDGETS_OFFLINE_PARTIAL_INTERVAL_S", "0")
    assert server_module._embedded_interval() is None  # OfflineConfig.from_env reads 0 from the environment


def test_partial_frames_leave_spaced_and_the_first_before_the_final_is_drawn(offline_server, monkeypatch):
    """Frame 0 is on the wire before the final picture exists; image events leave at least the interval apart."""
    from imagewidgets.offline import render as render_module

    server = offline_server(partial_interval_s=0.25)
    finals: list[float] = []
    real = render_module._Generation.frame
    monkeypatch.setattr(render_module._Generation, "frame", lambda self, t: finals.append(time.time()) or real(self, t))
    with httpx2.stream("POST", server.base_url + "/images/generations", timeout=30, json={
            "prompt": "a lantern festival", "model": "gpt-image-1.5", "stream": True, "partial_images": 2, **LOW}) as r:
        request_id = r.headers["x-request-id"]
        for _ in r.iter_lines():
            pass
    sent = [e["sent_at"] for e in server.app.state.backend.stream_log if e["request_id"] == request_id]
    assert len(sent) == 3 and len(finals) == 1
    assert sent[0] < finals[0]  # partial 0 left before the final image was even started
    assert all(b - a >= 0.24 for a, b in zip(sent, sent[1:]))
