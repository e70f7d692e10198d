"""Real-size pictures: streams carry any image the API makes, the twin draws files the size of the
API's, and a session holds paths, not pictures (memory flat in the number of turns)."""

from __future__ import annotations

import asyncio
import base64
import gc
import json

import httpx2
import numpy as np
import pytest

from imagewidgets import AsyncClient, Client, Session
from imagewidgets.api import _http
from imagewidgets.api.errors import StreamError
from imagewidgets.api.results import ImageResult, clear_read_cache
from tests.fixtures_offline import decode, sse_events
from tests.gateway_fixtures import UPSTREAM_KEY

pytestmark = [pytest.mark.pictures("realistic"), pytest.mark.timeout(300),
              pytest.mark.filterwarnings("ignore:sizes above 2560x1440 are experimental")]

MODEL = "gpt-image-2"
#: a 1024x1024 PNG at high quality is ~2.2 MB in realistic mode; 2400x2400 is ~12 MB
SIZES = {"2.3 MB": ("1024x1024", 2_000_000, 3_000_000), "12 MB": ("2400x2400", 11_000_000, 14_000_000)}


def _ask(size: str) -> dict:
    return {"model": MODEL, "size": size, "quality": "high", "output_format": "png"}


class _Tee(httpx2.HTTPTransport):
    """A real transport that keeps a copy of every answer's body as it arrived on the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytearray] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = super().handle_request(request)
        inner, body = response.stream, bytearray()
        self.bodies.append(body)

        class Copy(httpx2.SyncByteStream):
            def __iter__(self):
                for chunk in inner:
                    body.extend(chunk)
                    yield chunk

            def close(self) -> None:
                inner.close()

        response.stream = Copy()
        return response


class _AsyncTee(httpx2.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytearray] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        inner, body = response.stream, bytearray()
        self.bodies.append(body)

        class Copy(httpx2.AsyncByteStream):
            async def __aiter__(self):
                async for chunk in inner:
                    body.extend(chunk)
                    yield chunk

            async def aclose(self) -> None:
                await inner.aclose()

        response.stream = Copy()
        return response


def _on_the_wire(body: bytes) -> tuple[list[bytes], bytes]:
    """(partial frames, final image) exactly as a stream's body carried them."""
    events = sse_events(body.decode().split("\n"))
    partials = [base64.b64decode(d["b64_json"]) for e, d in events if e.endswith("partial_image")]
    [final] = [base64.b64decode(d["b64_json"]) for e, d in events if e.endswith("completed")]
    return partials, final


def _pixels(data: bytes):
    return np.asarray(decode(data))


def _same_picture(streamed: bytes, asked: bytes) -> None:
    """The streamed final is the picture asked for without streaming (the twin draws the same pixels;
    each answer's C2PA manifest is its own), and its manifest's hashes still hold: not a byte changed."""
    assert np.array_equal(_pixels(streamed), _pixels(asked))
    from imagewidgets.offline import provenance

    if provenance.available():
        assert provenance.check(streamed)["results"][0]["validation_state"] == "valid"


def _asked(base_url: str, key: str, prompt: str, size: str) -> bytes:
    with Client(base_url=base_url, api_key=key, save_dir=None, max_retries=0) as c:
        return c.generate(prompt, **_ask(size)).data


@pytest.mark.parametrize("label", list(SIZES))
def test_client_and_async_client_stream_api_size_finals_and_three_partials_whole(offline_server, label):
    size, low, high = SIZES[label]
    server = offline_server()
    assert server.config.pictures == "realistic"
    prompt = f"a lighthouse at dusk, {label}"
    asked = _asked(server.base_url, "k", prompt, size)

    tee = _Tee()
    with Client(base_url=server.base_url, api_key="k", save_dir=None, max_retries=0, transport=tee) as c:
        with c.generate(prompt, stream=True, partial_images=3, **_ask(size)) as stream:
            kinds = [ev.type for ev in stream]
    assert kinds == ["partial_image"] * 3 + ["completed"]
    partials, final = _on_the_wire(bytes(tee.bodies[-1]))
    assert low < len(final) < high                    # a real picture's size, far above httpx2's 1 MiB default
    assert stream.result.data == final and [p.data for p in stream.partials] == partials
    assert all(len(p) > low * 0.8 for p in partials)  # partials are full-size pictures too
    _same_picture(final, asked)

    async def run():
        atee = _AsyncTee()
        async with AsyncClient(base_url=server.base_url, api_key="k", save_dir=None, max_retries=0,
                               transport=atee) as ac:
            stream = await ac.generate(prompt, stream=True, partial_images=3, **_ask(size))
            async with stream:
                kinds = [ev.type async for ev in stream]
        return kinds, stream, bytes(atee.bodies[-1])

    kinds, stream, body = asyncio.run(run())
    partials, final = _on_the_wire(body)
    assert kinds == ["partial_image"] * 3 + ["completed"]
    assert stream.result.data == final and [p.data for p in stream.partials] == partials
    _same_picture(final, asked)


def test_the_gateway_relays_api_size_streams_whole(offline_server, tmp_path):
    from imagewidgets.gateway import ClassRules, GatewayServer

    upstream = offline_server(require_api_key=UPSTREAM_KEY)
    with GatewayServer(upstream.base_url, api_key=UPSTREAM_KEY, db=tmp_path / "g.sqlite3",
                       rules=ClassRules(requests_per_minute=None)) as gw:
        [(who, token)] = gw.store.add_participants(1, budget_usd=10.0)
        for label, (size, low, high) in SIZES.items():
            prompt = f"an owl of river water, {label}"
            asked = _asked(upstream.base_url, UPSTREAM_KEY, prompt, size)
            tee = _Tee()
            with Client(base_url=gw.base_url, api_key=token, save_dir=None, max_retries=0, transport=tee) as c:
                with c.generate(prompt, stream=True, partial_images=3, **_ask(size)) as stream:
                    kinds = [ev.type for ev in stream]
            assert kinds == ["partial_image"] * 3 + ["completed"], label
            partials, final = _on_the_wire(bytes(tee.bodies[-1]))
            assert low < len(final) < high and stream.result.data == final, label
            assert [p.data for p in stream.partials] == partials, label
            _same_picture(final, asked)  # the upstream's signed bytes, through the relay unchanged
        rows = gw.store.ledger(who.id)
        assert [r["state"] for r in rows] == ["settled", "settled"]  # each relayed image was charged


def _sse(payload_bytes: int) -> bytes:
    b64 = base64.b64encode(b"\0" * payload_bytes).decode()
    data = {"type": "image_generation.completed", "b64_json": b64, "size": "1024x1024", "output_format": "png"}
    return f"event: image_generation.completed\ndata: {json.dumps(data)}\n\n".encode()


def test_an_event_above_the_documented_bound_is_a_stream_error_naming_it(monkeypatch):
    """No hidden limit below real pictures, and a clear error above the bound (shrunk here to 1 MiB
    so the test sends 1.5 MB, not 64 MiB)."""
    assert _http.MAX_EVENT_BYTES >= 44_300_000  # the base64 of an incompressible 3840x2160 RGBA picture
    monkeypatch.setattr(_http, "MAX_EVENT_BYTES", 1 << 20)
    body = _sse(1_100_000)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    with Client(base_url="http://api.test/v1", api_key="k", transport=httpx2.MockTransport(handler),
                save_dir=None, max_retries=0) as c:
        with pytest.raises(StreamError) as err:
            with c.generate("x", model=MODEL, stream=True) as stream:
                list(stream)
    assert "1,048,576 bytes" in str(err.value) and "1 MiB" in str(err.value)

    def endless(request: httpx2.Request) -> httpx2.Response:  # one line that never ends
        pieces = (b"data: " + b"A" * 65536 for _ in range(40))
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=pieces)

    with Client(base_url="http://api.test/v1", api_key="k", transport=httpx2.MockTransport(endless),
                save_dir=None, max_retries=0) as c:
        with pytest.raises(StreamError, match="larger than 1,048,576 bytes"):
            with c.generate("x", model=MODEL, stream=True) as stream:
                list(stream)


def _live_image_bytes() -> int:
    """Bytes of pictures held by live ImageResults (the read cache cleared first)."""
    clear_read_cache()
    gc.collect()
    return sum(len(o.__dict__["_data"]) for o in gc.get_objects()
               if isinstance(o, ImageResult) and o.__dict__.get("_data") is not None)


def test_a_session_holds_paths_not_pictures(tmp_path):
    """After many turns, the live image bytes are at most one picture's; every image still reads,
    saves, displays and replays from the store."""
    s = Session("long", folder=tmp_path / "store", model=MODEL, quality="high", size="1024x1024")
    results = [s.imagine(f"a lighthouse, take {k}") for k in range(12)]
    one = len(results[-1].data)
    assert one > 1_500_000
    assert not any(r.in_memory for r in results)          # the returned results hold paths
    assert not any(img.in_memory for t in s.tree.turns for img in t.images)
    assert _live_image_bytes() <= one

    # ...and everything a user relies on still works from the files
    first = results[0]
    assert first.image.size == (1024, 1024)
    assert first.data == first.path.read_bytes() and first.sha256
    saved = first.save(tmp_path / "copy.png")
    assert saved.read_bytes() == first.path.read_bytes()
    bundle, meta = first.display_bundle()
    assert meta["imagewidgets"]["bytes"] == len(first.data)
    again = s.imagine("a lighthouse, take 0")                # replayed from the store, $0
    assert again.data == first.data and not again.in_memory
    assert _live_image_bytes() <= one


def test_a_sweep_holds_paths_not_pictures(tmp_path):
    s = Session("grid", folder=tmp_path / "store", model=MODEL, quality="low", size="1024x1024")
    sweep = s.sweep(["a kite", "a boat"], quality=["low", "medium"])
    assert len(sweep.turns) == 4
    assert _live_image_bytes() <= max(len(t.image.data) for t in sweep.turns)


def test_realistic_pictures_have_the_api_sizes_and_shrink_with_compression():
    """Sizes and entropy of the API's output, by format, and the same bytes run after run."""
    import io

    from PIL import Image

    from imagewidgets.offline.render import RenderSpec, render

    def size(fmt: str, quality: str = "high", compression: int | None = None) -> int:
        spec = RenderSpec("a harbour at noon", 1024, 1024, quality=quality, output_format=fmt,
                          output_compression=compression, pictures="realistic")
        return len(render(spec))

    assert 1_500_000 <= size("png", "low") < size("png", "high") <= 2_500_000
    drawn = len(render(RenderSpec("a harbour at noon", 1024, 1024, quality="high")))
    assert drawn < 1_000_000                                   # what the drawn pictures weigh
    for fmt in ("jpeg", "webp"):
        assert size(fmt, compression=100) > 4 * size(fmt, compression=50) > 0
    assert 400_000 < size("jpeg", compression=100) < 1_500_000
    spec = RenderSpec("a harbour at noon", 512, 512, background="transparent", pictures="realistic")
    assert render(spec) == render(spec)
    im = Image.open(io.BytesIO(render(spec)))
    assert im.mode == "RGBA" and im.getchannel("A").getextrema()[0] == 0  # transparency kept under the grain


def test_serve_and_the_environment_choose_the_picture_mode(monkeypatch):
    from imagewidgets.offline.cli import build_parser, config_from_args
    from imagewidgets.offline.config import OfflineConfig

    monkeypatch.delenv("IMAGEWIDGETS_OFFLINE_PICTURES", raising=False)
    assert config_from_args(build_parser().parse_args([])).pictures == "drawn"
    assert config_from_args(build_parser().parse_args(["--pictures", "realistic"])).pictures == "realistic"
    monkeypatch.setenv("IMAGEWIDGETS_OFFLINE_PICTURES", "realistic")
    assert OfflineConfig.from_env().pictures == "realistic"
    with pytest.raises(ValueError, match="expected drawn or realistic"):
        OfflineConfig(pictures="photo")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--pictures", "photo"])


def test_a_result_left_on_disk_reads_its_file_and_says_so_when_it_is_gone(tmp_path):
    from tests.photos import photo_png

    data = photo_png(2, 256)
    path = tmp_path / "a.png"
    path.write_bytes(data)
    held = ImageResult.from_bytes(data, path=path, prompt="a kite")
    light = held.on_disk()
    assert held.in_memory and not light.in_memory
    assert light.data == data and light.sha256 == held.sha256 and light.size == "256x256"
    priced = light.with_meta(cost=0.0)                       # new metadata, the same file: nothing read
    assert not priced.in_memory and priced.cost == 0.0 and priced.data == data
    moved = light.with_meta(path=tmp_path / "elsewhere.png")  # another path: the bytes come along
    assert moved.in_memory and moved.data == data
    assert ImageResult.from_bytes(data).on_disk().in_memory  # no file to leave it in
    path.unlink()
    clear_read_cache()
    with pytest.raises(FileNotFoundError, match="a.png' is gone"):
        light.data


def test_the_gateway_tap_reads_api_size_events_and_never_holds_more_than_the_bound(monkeypatch):
    from imagewidgets.gateway import tap as tap_mod

    big = _sse(9_000_000)                                     # a 12 MB event, fed in socket-sized chunks
    t = tap_mod.SSETap()
    for k in range(0, len(big), 65536):
        t.feed(big[k:k + 65536])
    assert t.completed_images == 1 and len(t.images[0]) == 12_000_000 and t.oversized == 0

    monkeypatch.setattr(tap_mod, "MAX_EVENT_BYTES", 1 << 20)  # shrunk: a 1.5 MB event is over it
    t = tap_mod.SSETap()
    over = _sse(1_100_000)
    for k in range(0, len(over), 65536):
        t.feed(over[k:k + 65536])
        assert len(t._buf) <= (1 << 20) + 65536
    t.feed(b'event: error\ndata: {"type": "error", "error": {"message": "later"}}\n\n')
    assert t.oversized == 1 and t.completed_images == 0 and t.error == {"message": "later"}


def test_the_gateway_takes_the_largest_edit_the_api_takes_and_refuses_more():
    """An edit image just under the API's 50 MB, sent as base64 JSON (67 MB), fits; above 100 MB is 413."""
    from starlette.requests import Request

    from imagewidgets.gateway.bodies import MAX_BODY_BYTES, read_body
    from imagewidgets.gateway.rules import Refusal

    def request(length: int, body: bytes = b"") -> Request:
        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        return Request({"type": "http", "method": "POST", "path": "/v1/responses",
                        "headers": [(b"content-length", str(length).encode())]}, receive)

    largest_edit = base64.b64encode(b"\0" * (50 * 2**20 - 1))  # as base64 JSON: 67 MB
    assert len(largest_edit) < MAX_BODY_BYTES
    assert asyncio.run(read_body(request(len(largest_edit), largest_edit))) == largest_edit
    with pytest.raises(Refusal) as refused:
        asyncio.run(read_body(request(MAX_BODY_BYTES + 1)))
    assert refused.value.status == 413 and "100 MB" in str(refused.value.message)
