"""The client against a spec-shaped transport: bytes on the wire, typed results, streams, retries."""

from __future__ import annotations

import json
import random

import anyio
import pytest

from imagewidgets.api import client as client_mod
from imagewidgets.api.client import AsyncClient, Client, RetryPolicy
from imagewidgets.api.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ParamError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from imagewidgets.api.results import CompletedEvent, ImageResult, ImageSet, PartialImageEvent

from .spec_server import SpecServer, png

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py.
#: real-size pictures (a 1024x1024 PNG ~2.2 MB) from every twin these tests talk to: a limit that
#: real pictures break (an event cap, memory per turn) fails here (tests/fixtures_offline.py)
pytestmark = [pytest.mark.calendar_off, pytest.mark.pictures("realistic")]


def make(server: SpecServer, sleeps: list | None = None, **kw) -> Client:
    retry = RetryPolicy(max_retries=kw.pop("max_retries", 3), sleep=(sleeps.append if sleeps is not None else None))
    return Client(api_key=kw.pop("api_key", "sk-test-SECRET"), base_url="http://test/v1",
                  transport=server.transport(), retry=retry, **kw)


def test_generate_sends_json_and_returns_an_image_with_usage_and_cost():
    server = SpecServer()
    img = make(server).generate("a red kite", model="gpt-image-1.5", size="1536x1024", quality="low")
    sent = server.body_json()
    assert sent == {"model": "gpt-image-1.5", "prompt": "a red kite", "size": "1536x1024", "quality": "low"}
    assert server.requests[0].url.path == "/v1/images/generations"
    assert isinstance(img, ImageResult)
    assert (img.format, img.width, img.height) == ("png", 64, 48)
    assert img.image.getpixel((0, 0)) == (200, 30, 30, 255)
    assert img.usage.output_tokens == 272 and img.usage.input_image_tokens == 40
    # gpt-image-1.5: $5/M text in, $8/M image in, $32/M out
    assert img.cost == pytest.approx((10 * 5 + 40 * 8 + 272 * 32) / 1e6)
    assert img.request_id == "req_1" and img.revised_prompt == "revised"


def test_n_above_one_returns_an_image_set():
    server = SpecServer()
    out = make(server).generate("three cats", n=3, model="gpt-image-1")
    assert isinstance(out, ImageSet) and len(out) == 3
    assert out.usage.output_tokens == 272  # one request, one usage, counted once
    one_request = (10 * 5 + 40 * 10 + 272 * 40) / 1e6  # gpt-image-1 prices
    assert out[0].cost == pytest.approx(one_request / 3)  # each image carries its share
    assert out.cost == pytest.approx(one_request)
    assert "<img" in out._repr_html_()


def test_dalle_asks_for_base64_by_default_and_downloads_urls_when_asked():
    server = SpecServer()
    c = make(server)
    c.generate("a fox", model="dall-e-3")
    assert server.body_json()["response_format"] == "b64_json"
    img = c.generate("a fox", model="dall-e-2", response_format="url", size="256x256")
    assert img.data == server.image and img.url == "http://test/img/0.png"
    assert server.requests[-1].method == "GET"


def test_edit_sends_multipart_with_several_images_and_a_mask(tmp_path):
    server = SpecServer()
    first = tmp_path / "a.png"
    first.write_bytes(png(32, 32))
    from PIL import Image

    mask = Image.new("RGBA", (32, 32), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 8, 8))  # alpha 0: edit here (an opaque mask is refused)
    make(server).edit("merge them", image=[first, png(32, 32, (0, 0, 255, 255))], mask=mask,
                      model="gpt-image-1.5", input_fidelity="high", quality="low")
    req = server.requests[0]
    body = req.content
    assert req.url.path == "/v1/images/edits"
    assert req.headers["content-type"].startswith("multipart/form-data")
    assert body.count(b'name="image[]"') == 2 and b'filename="a.png"' in body
    assert b'name="mask"' in body
    assert b'name="input_fidelity"\r\n\r\nhigh' in body and b'name="model"\r\n\r\ngpt-image-1.5' in body


def test_edit_with_file_ids_uses_the_json_form():
    server = SpecServer()
    make(server).edit("x", image=["file-one", "file-two"], model="gpt-image-1")
    assert server.body_json()["images"] == [{"file_id": "file-one"}, {"file_id": "file-two"}]


def test_variation_is_multipart_for_dalle2():
    server = SpecServer()
    make(server).vary(png(64, 64), n=2, size="256x256")
    body = server.requests[0].content
    assert server.requests[0].url.path == "/v1/images/variations"
    assert b'name="n"\r\n\r\n2' in body and b'name="model"\r\n\r\ndall-e-2' in body


def test_respond_builds_a_responses_turn_with_the_image_tool():
    server = SpecServer()
    c = make(server)
    first = c.respond("a watercolour fox", size="1024x1024", quality="low", model="gpt-image-1.5")
    assert first.response_id == "resp_1" and first.call_id == "ig_1"
    assert first.revised_prompt == "a revised prompt"
    c.respond("make it night", previous_response_id=first.response_id, images=[first.call_id, "file-x"])
    body = server.body_json()
    assert body["previous_response_id"] == "resp_1"
    assert body["tools"][0]["type"] == "image_generation"
    assert body["input"][0]["content"] == [{"type": "input_text", "text": "make it night"},
                                           {"type": "input_image", "file_id": "file-x"}]
    assert body["input"][1] == {"type": "image_generation_call", "id": "ig_1"}
    assert body["model"] == "gpt-5.5"  # DEFAULT_RESPONSES_MODEL: gpt-5 shuts down 2026-12-11


def test_upload_returns_a_file_object_usable_as_input():
    server = SpecServer()
    f = make(server).upload(png())
    assert f.id == "file-abc"
    assert b'name="purpose"\r\n\r\nvision' in server.requests[0].content


# -- streaming ----------------------------------------------------------------------------


def _random_chunks(seed: int):
    def chunk(raw: bytes) -> list[bytes]:
        rng = random.Random(seed)
        out, i = [], 0
        while i < len(raw):
            step = rng.randint(1, 40)
            out.append(raw[i:i + step])
            i += step
        return out
    return chunk


@pytest.mark.parametrize("seed", range(5))
def test_stream_events_survive_arbitrary_chunk_boundaries(seed):
    server = SpecServer(chunker=_random_chunks(seed))
    with make(server).generate("owl", stream=True, partial_images=2, model="gpt-image-1") as stream:
        events = list(stream)
    assert [e.type for e in events] == ["partial_image", "partial_image", "completed"]
    assert [e.index for e in events[:2]] == [0, 1]
    assert events[0].data == server.image  # the encoded bytes as they arrived
    assert stream.result.usage.output_tokens == 272


def test_a_stream_of_photograph_sized_frames_is_read_whole():
    # the API's frames are photographs: 1.5-2.5 MB of PNG, more than 3 MB of base64 in one event
    # (the SSE parser's default limit, 1 MiB, cut such streams)
    from .photos import photo_png

    big = photo_png(3)
    assert len(big) > 1_500_000
    server = SpecServer(image=big, chunker=lambda raw: [raw[i:i + 65536] for i in range(0, len(raw), 65536)])
    with make(server).generate("owl", stream=True, partial_images=2, model="gpt-image-2") as stream:
        events = list(stream)
    assert [e.type for e in events] == ["partial_image", "partial_image", "completed"]
    assert events[0].data == big and stream.result.data == big


def test_stream_split_inside_the_crlf_free_newlines():
    # one byte per chunk: the worst case for a line decoder
    server = SpecServer(chunker=lambda raw: [raw[i:i + 1] for i in range(len(raw))])
    stream = make(server).edit("x", image=png(), stream=True, partial_images=1, model="gpt-image-1")
    result = stream.until_done()
    assert [p.index for p in stream.partials] == [0] and result.data == server.image


def test_responses_stream_gives_partials_then_the_image_with_ids():
    server = SpecServer()
    stream = make(server).respond("a fox", stream=True, partial_images=3)
    events = list(stream)
    partials = [e for e in events if isinstance(e, PartialImageEvent)]
    done = [e for e in events if isinstance(e, CompletedEvent)]
    assert [p.index for p in partials] == [0, 1, 2]
    assert partials[0].call_id == "ig_1"
    assert done[0].result.response_id == "resp_1" and done[0].result.call_id == "ig_1"


def test_an_error_event_mid_stream_raises():
    server = SpecServer()

    def handler(request):
        server.requests.append(request)
        from .spec_server import sse
        import httpx2

        raw = sse([("image_generation.partial_image", {"type": "image_generation.partial_image",
                                                       "b64_json": "", "partial_image_index": 0}),
                   ("error", {"type": "error", "error": {"message": "boom", "code": "server_error"}})])
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=raw)

    import httpx2

    c = Client(base_url="http://test/v1", transport=httpx2.MockTransport(handler))
    from imagewidgets.api.errors import StreamError

    with pytest.raises(StreamError, match="boom"):
        list(c.generate("x", stream=True, partial_images=1))


# -- retries ------------------------------------------------------------------------------


def test_retries_429_with_retry_after_then_503_then_reset_then_succeeds():
    sleeps: list[float] = []
    server = SpecServer(failures=[(429, {"retry-after": "7"}), 503, "reset"])
    img = make(server, sleeps).generate("x", model="gpt-image-1")
    assert isinstance(img, ImageResult)
    assert len(server.requests) == 4
    assert sleeps[0] == 7.0  # Retry-After honoured
    assert 0.5 * 2 * 0.75 <= sleeps[1] <= 0.5 * 2  # exponential backoff with jitter (attempt 1)
    assert 0.5 * 4 * 0.75 <= sleeps[2] <= 0.5 * 4


def test_gives_up_after_max_retries_with_the_last_error():
    sleeps: list[float] = []
    server = SpecServer(failures=[500, 502, 503])
    with pytest.raises(ServerError) as e:
        make(server, sleeps, max_retries=2).generate("x")
    assert e.value.status == 503 and len(server.requests) == 3 and len(sleeps) == 2


@pytest.mark.parametrize("status, cls", [(400, BadRequestError), (401, AuthenticationError),
                                         (403, PermissionDeniedError)])
def test_no_retry_on_other_4xx(status, cls):
    sleeps: list[float] = []
    server = SpecServer(failures=[status, status])
    with pytest.raises(cls) as e:
        make(server, sleeps).generate("x")
    assert len(server.requests) == 1 and sleeps == []
    assert e.value.request_id == "req_1" and str(e.value).startswith(f"{status} scripted")


def test_rate_limit_error_carries_retry_after_and_advice():
    server = SpecServer(failures=[(429, {"retry-after": "2"})])
    with pytest.raises(RateLimitError) as e:
        make(server, [], max_retries=0).generate("x")
    assert e.value.retry_after == 2.0 and "retry in 2s" in str(e.value)


def test_connection_refused_is_an_api_connection_error():
    c = Client(base_url="http://127.0.0.1:9/v1", retry=RetryPolicy(max_retries=1, sleep=lambda s: None))
    with pytest.raises(APIConnectionError):
        c.generate("x")


# -- validation before I/O, secrets, config -----------------------------------------------


def test_invalid_requests_never_reach_the_server():
    server = SpecServer()
    c = make(server)
    with pytest.raises(ParamError, match="output_compression applies only to jpeg and webp; output_format is png"):
        c.generate("x", output_compression=50)
    with pytest.raises(ParamError, match="unknown option 'colour'"):
        c.generate("x", colour="red")
    assert server.requests == []


def test_the_key_never_shows(monkeypatch):
    server = SpecServer(failures=[401])
    c = make(server, api_key="sk-live-TOPSECRET")
    assert "TOPSECRET" not in repr(c) and "TOPSECRET" not in repr(c.config)
    with pytest.raises(AuthenticationError) as e:
        c.generate("x")
    assert "TOPSECRET" not in str(e.value) and "TOPSECRET" not in repr(e.value.__dict__)
    assert server.requests[0].headers["authorization"] == "Bearer sk-live-TOPSECRET"  # only on the wire
    assert "TOPSECRET" not in repr(server.requests[0].headers)


def test_environment_configuration(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    c = Client()
    assert c.base_url == "https://api.openai.com/v1" and "OpenAI" in c.backend
    h = c.config.headers()
    assert h["OpenAI-Organization"] == "org-1" and h["OpenAI-Project"] == "proj-1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:1234/v1/")
    assert Client().base_url == "http://localhost:1234/v1"
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert Client().config.offline and "offline renderer" in Client().backend


def test_unknown_models_pass_through_with_a_warning():
    server = SpecServer()
    from imagewidgets.api.validation import UnknownModelWarning

    with pytest.warns(UnknownModelWarning):
        make(server).generate("x", model="my-local-diffusion", size="777x333")
    assert server.body_json()["model"] == "my-local-diffusion"


# -- async --------------------------------------------------------------------------------


def test_async_client_generates_streams_and_retries():
    async def main():
        sleeps: list[float] = []

        async def record(s):
            sleeps.append(s)

        server = SpecServer(failures=[(429, {"retry-after": "1"})], chunker=_random_chunks(3))
        c = AsyncClient(api_key="k", base_url="http://test/v1", transport=server.transport(),
                        retry=RetryPolicy(async_sleep=record))
        img = await c.generate("x", model="gpt-image-1")
        assert isinstance(img, ImageResult) and sleeps == [1.0]
        stream = await c.generate("x", stream=True, partial_images=2, model="gpt-image-1")
        types = [e.type async for e in stream]
        assert types == ["partial_image", "partial_image", "completed"]
        turn = await c.respond("fox")
        assert turn.response_id
        img = await c.generate("x", model="dall-e-2", response_format="url", size="256x256")
        assert img.data == server.image
        await c.aclose()

    anyio.run(main)


def test_client_module_keeps_http_in_one_place():
    import pathlib

    pkg = pathlib.Path(client_mod.__file__).parent
    users = sorted(p.name for p in pkg.rglob("*.py")
                   if "import httpx" in p.read_text() and "offline" not in p.parts)
    assert users == ["_http.py"]
    assert json  # keep the import used


# -- timeouts after sending are not retried by default (issue 13, item 9) --------------------


def test_a_read_timeout_after_sending_is_not_retried_by_default():
    from imagewidgets.api.errors import APITimeoutError

    server = SpecServer(failures=["read_timeout"])
    sleeps: list = []
    with pytest.raises(APITimeoutError) as e:
        make(server, sleeps).generate("a kite", model="gpt-image-2")
    assert len(server.requests) == 1 and sleeps == []  # one request: never billed twice silently
    assert e.value.sent and "may have been made and billed" in str(e.value)
    assert "retry_sent_timeouts=True" in str(e.value)


def test_retry_sent_timeouts_opts_in():
    server = SpecServer(failures=["read_timeout"])
    c = Client(api_key="sk", base_url="http://test/v1", transport=server.transport(),
               retry=RetryPolicy(retry_sent_timeouts=True, sleep=lambda s: None))
    assert c.edit("add a boat", png(), model="gpt-image-2").width == 64
    assert len(server.requests) == 2


def test_timeouts_before_sending_429_and_5xx_are_still_retried():
    server = SpecServer(failures=["connect_timeout", 429, 503, "reset"])
    make(server, [], max_retries=4).respond("a fox")
    assert len(server.requests) == 5


def test_a_read_timeout_on_a_free_get_is_retried():
    server = SpecServer(failures=["read_timeout"])
    c = make(server, [])
    c.retrieve_response("resp_1")
    assert len(server.requests) == 2


def test_async_read_timeout_after_sending_is_not_retried():
    from imagewidgets.api.errors import APITimeoutError

    server = SpecServer(failures=["read_timeout"])

    async def main():
        c = AsyncClient(api_key="sk", base_url="http://test/v1", transport=server.transport(),
                        retry=RetryPolicy(async_sleep=_no_sleep))
        with pytest.raises(APITimeoutError):
            await c.generate("x", model="gpt-image-2")
        await c.aclose()

    anyio.run(main)
    assert len(server.requests) == 1


async def _no_sleep(_s: float) -> None:
    return None
