"""Differences from the SDK 3.57 types found by comparing them with the code (issue 13, item 6):
each fixed, checked on the client (zero requests for a refusal) and on the offline backend."""

from __future__ import annotations

import base64
import io
import warnings

import pytest
from PIL import Image

from imagewidgets.api.client import Client
from imagewidgets.api.errors import ParamError
from imagewidgets.api.requests import GenerateRequest, ResponsesRequest
from imagewidgets.api.validation import validate

from .fixtures_offline import asgi_client, make_offline_app
from .spec_server import SpecServer

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


def client(server: SpecServer) -> Client:
    return Client(api_key="sk", base_url="http://test/v1", transport=server.transport())


def test_gif_does_not_stream_on_the_image_api():
    server = SpecServer()
    with pytest.raises(ParamError, match="gif output does not stream") as e:
        client(server).generate("x", model="gpt-image-2", output_format="gif", stream=True)
    assert e.value.param == "stream" and server.requests == []
    # the Responses API still streams its lifecycle events for gif (the SDK's tool docstring)
    validate(ResponsesRequest("x", model="gpt-image-2", output_format="gif", stream=True))


@pytest.mark.anyio
async def test_the_offline_backend_does_not_stream_gif():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/generations", json={"model": "gpt-image-2", "prompt": "x", "output_format": "gif",
                                                       "stream": True, "quality": "low", "size": "256x256"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "stream"
    assert not r.headers["content-type"].startswith("text/event-stream")


def test_frame_duration_accepts_what_the_sdk_accepts():
    for ms in (1, 125, 60_001, 655_350, 1_000_000):
        validate(GenerateRequest("x", model="gpt-image-2", output_format="gif", frame_duration_ms=ms))
    for bad in (0, -10, 2.5, True):
        with pytest.raises(ParamError) as e:
            validate(GenerateRequest("x", model="gpt-image-2", output_format="gif", frame_duration_ms=bad))
        assert e.value.param == "frame_duration_ms"


@pytest.mark.anyio
@pytest.mark.parametrize("asked, encoded", [(125, 130), (1_000_000, 655_350)])
async def test_offline_gif_rounds_to_10ms_and_caps(asked, encoded):
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/generations", json={
            "model": "gpt-image-2", "prompt": "a spinning top", "output_format": "gif", "frame_count": 2,
            "frame_duration_ms": asked, "quality": "low", "size": "256x256"})
    assert r.status_code == 200, r.text
    im = Image.open(io.BytesIO(base64.b64decode(r.json()["data"][0]["b64_json"])))
    durations = []
    for k in range(im.n_frames):
        im.seek(k)
        durations.append(im.info["duration"])
    # two distinct frames, or one shown for both (identical frames are merged), never beyond the cap
    assert durations in ([encoded, encoded], [min(2 * encoded, 655_350)])


def test_complexity_is_not_refused_on_models_the_sdk_does_not_exclude():
    server = SpecServer()
    for model in ("gpt-image-1.5", "gpt-image-1-mini", "gpt-image-2", "gpt-image-2.6-flare"):
        client(server).generate("x", model=model, complexity="high")
        assert server.body_json()["complexity"] == "high"


def test_transparent_preview_warns_only_on_gpt_image_2():
    with pytest.warns(UserWarning, match="in preview on gpt-image-2"):
        validate(GenerateRequest("x", model="gpt-image-2", background="transparent"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for model in ("gpt-image-2.5-sunburst", "gpt-image-2.6-flare", "gpt-image-1.5"):
            validate(GenerateRequest("x", model=model, background="transparent"))


def test_svg_model_and_effort_are_validated():
    ok = GenerateRequest("x", model="gpt-image-2", output_format="svg",
                         svg={"model": "gpt-5.5", "reasoning": {"effort": "xhigh"}})
    validate(ok)
    for svg, param in (({"model": ""}, "svg.model"), ({"model": 5}, "svg.model"),
                       ({"model": "gpt-5.5", "reasoning": {"effort": "extreme"}}, "svg.reasoning.effort"),
                       ({"model": "gpt-5.5", "reasoning": "high"}, "svg.reasoning"),
                       ({"model": "gpt-5.5", "author": "me"}, "svg")):
        server = SpecServer()
        with pytest.raises(ParamError) as e:
            client(server).generate("x", model="gpt-image-2", output_format="svg", svg=svg)
        assert e.value.param == param and server.requests == []


@pytest.mark.anyio
async def test_offline_answers_carry_safety_identifier_and_svg_usage_as_the_types_have_them():
    from openai.types.images_response import ImagesResponse

    async with asgi_client(make_offline_app()) as c:
        plain = await c.post("/images/generations", json={"model": "gpt-image-2", "prompt": "a kite",
                                                          "quality": "low", "safety_identifier": "user-hash-1"})
        svg = await c.post("/images/generations", json={
            "model": "gpt-image-2", "prompt": "a kite", "output_format": "svg",
            "svg": {"model": "gpt-5.5", "reasoning": {"effort": "high"}}})
        legacy = await c.post("/images/generations", json={"model": "gpt-image-2", "prompt": "a kite",
                                                           "quality": "low", "user": "old-user"})
    assert plain.json()["safety_identifier"] == "user-hash-1" and "svg_usage" not in plain.json()
    assert legacy.json()["safety_identifier"] == "old-user"  # the deprecated user, when no identifier
    body = svg.json()
    parsed = ImagesResponse.model_validate(body)
    assert parsed.svg_usage is not None and parsed.svg_usage.model == "gpt-5.5"
    assert set(body["svg_usage"]) == set(type(parsed.svg_usage).model_fields)
    u = parsed.svg_usage
    assert u.total_tokens == u.input_tokens + u.output_tokens + u.reasoning_tokens


@pytest.mark.anyio
async def test_offline_refuses_a_generation_without_model_and_takes_the_sdks_file_purposes():
    from typing import get_args

    from openai.types.file_purpose import FilePurpose

    from imagewidgets.offline.app import FILE_PURPOSES

    assert set(FILE_PURPOSES) == set(get_args(FilePurpose))
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/generations", json={"prompt": "a kite"})
        evals = await c.post("/files", data={"purpose": "evals"}, files={"file": ("a.png", png_bytes(), "image/png")})
        output = await c.post("/files", data={"purpose": "batch_output"},
                              files={"file": ("a.png", png_bytes(), "image/png")})
    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_required_parameter"
    assert r.json()["error"]["param"] == "model"
    assert evals.status_code == 200 and output.status_code == 400 and output.json()["error"]["param"] == "purpose"


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, format="PNG")
    return buf.getvalue()


def _with_orientation(w: int, h: int, orientation: int, fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.new("RGB", (w, h), (90, 120, 200)).save(buf, format=fmt, exif=exif)
    return buf.getvalue()


def _transparent_png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), (0, 0, 4, 4))
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_masks_and_markup_match_the_image_after_exif_orientation():
    from imagewidgets.api.requests import EditRequest

    photo = _with_orientation(64, 32, 6)  # stored 64x32, shown 32x64 (rotated)
    validate(EditRequest("x", images=photo, mask=_transparent_png(32, 64), model="gpt-image-1.5"))
    with pytest.raises(ParamError, match="the image it edits is 32x64"):  # as shown, after EXIF
        validate(EditRequest("x", images=photo, mask=_transparent_png(64, 32), model="gpt-image-1.5"))
    validate(EditRequest("x", images=photo, markup=_transparent_png(32, 64), model="gpt-image-2.5-flare"))
    server = SpecServer()
    with pytest.raises(ParamError, match="transparent pixel") as e:
        client(server).edit("x", photo, markup=_opaque_rgba(32, 64), model="gpt-image-2.5-flare")
    assert e.value.param == "markup" and server.requests == []


def _opaque_rgba(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (w, h), (1, 2, 3, 255)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.anyio
@pytest.mark.parametrize("model, size", [("gpt-image-2.6-flare", "1536x864"), ("gpt-image-2", "1536x864"),
                                         ("gpt-image-2.6-sunburst", "1024x1024")])
async def test_offline_answers_with_the_size_it_drew(model, size):
    """Free WxH only where the SDK documents it (2 and 2.5); for 2.6 the server decides, and the
    offline one says what it decided: the answer's size is the picture's."""
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/generations", json={"model": model, "prompt": "a kite", "quality": "low",
                                                       "size": size})
    body = r.json()
    im = Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"])))
    assert body["size"] == f"{im.width}x{im.height}"
    if model == "gpt-image-2":
        assert body["size"] == size


def test_edits_take_no_moderation_and_a_session_default_is_not_applied_to_them(session, wire):
    session.defaults["moderation"] = "low"
    session.imagine("a harbour", model="gpt-image-1.5", quality="low", size="1024x1024", api="images")
    assert wire.calls[-1].json()["moderation"] == "low"
    session.edit("add a boat", model="gpt-image-1.5", quality="low", size="1024x1024", api="images")
    assert wire.calls[-1].endpoint == "/images/edits" and b'name="moderation"' not in wire.calls[-1].body
    sent = len(wire.calls)
    with pytest.raises(ParamError, match="no moderation parameter"):
        session.edit("add a gull", moderation="low", api="images", model="gpt-image-1.5")
    assert len(wire.calls) == sent


@pytest.mark.anyio
async def test_offline_edits_reject_moderation_as_an_unknown_parameter():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/edits", data={"model": "gpt-image-1.5", "prompt": "x", "moderation": "low"},
                         files={"image": ("a.png", png_bytes(), "image/png")})
    assert r.status_code == 400 and r.json()["error"]["param"] == "moderation"
