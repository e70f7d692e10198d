"""The offline server under hostile input (issue 12, item 7): wrong JSON types, deep nesting,
corrupt images and decompression bombs are 400s naming the parameter; a 5xx carries no exception
text; bodies above the limit are 413, bodies that stall are 408, oversized headers are refused;
and none of it disturbs the next request."""

from __future__ import annotations

import base64
import json
import socket
import struct
import time
import zlib

import httpx2
import pytest

from .fixtures_offline import make_offline_app, offline_server, png  # noqa: F401

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = [pytest.mark.anyio, pytest.mark.calendar_off]


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _client(app) -> httpx2.AsyncClient:
    # raise_app_exceptions=False: a crash must show as the 500 a real client would get
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app, raise_app_exceptions=False),
                              base_url="http://offline.test/v1", timeout=60)


def _error(r: httpx2.Response) -> dict:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid-looking PNG of a hundred bytes that declares ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


CORRUPT_PNG = png(64, 64)[:60]  # a PNG cut short: the header reads, the pixels do not

WRONG_TYPES = [
    ({"prompt": "x", "size": 1024}, "size"),
    ({"prompt": "x", "size": [None, None]}, "size"),
    ({"prompt": "x", "n": "2"}, "n"),
    ({"prompt": "x", "n": 2.5}, "n"),
    ({"prompt": "x", "quality": 5}, "quality"),
    ({"prompt": "x", "background": {}}, "background"),
    ({"prompt": "x", "moderation": [1]}, "moderation"),
    ({"prompt": "x", "output_format": True}, "output_format"),
    ({"prompt": "x", "stream": "yes"}, "stream"),
    ({"prompt": "x", "model": 5}, "model"),
    ({"prompt": ["x"]}, "prompt"),
    ({"prompt": "x", "user": 5}, "user"),
]


@pytest.mark.parametrize("body,param", WRONG_TYPES, ids=[json.dumps(b)[:40] for b, _ in WRONG_TYPES])
async def test_a_wrong_json_type_is_400_naming_the_param(body, param):
    if "model" not in body:  # a generation without a model is refused as such (the API requires it)
        body = {"model": "gpt-image-1.5", **body}
    async with _client(make_offline_app()) as c:
        r = await c.post("/images/generations", json=body)
    assert r.status_code == 400, r.text
    assert _error(r)["param"] == param


RESPONSES_WRONG_TYPES = [
    ({"previous_response_id": 5}, "previous_response_id"),
    ({"tools": [{"type": "image_generation", "size": 1024}]}, "size"),
    ({"tools": [{"type": "image_generation", "partial_images": "2"}]}, "partial_images"),
    ({"stream": "true"}, "stream"),
    ({"input": 5}, "input"),
]


@pytest.mark.parametrize("extra,param", RESPONSES_WRONG_TYPES, ids=[p for _, p in RESPONSES_WRONG_TYPES])
async def test_a_wrong_json_type_in_a_response_request_is_400(extra, param):
    body = {"model": "gpt-5", "input": "a fox", "tools": [{"type": "image_generation"}], **extra}
    async with _client(make_offline_app()) as c:
        r = await c.post("/responses", json=body)
    assert r.status_code == 400, r.text
    assert param in (_error(r)["param"] or "")


async def test_deeply_nested_json_is_400_not_a_crash():
    nested = b"[" * 200_000 + b"]" * 200_000
    async with _client(make_offline_app()) as c:
        r = await c.post("/images/generations", content=nested, headers={"content-type": "application/json"})
        again = await c.post("/images/generations", json={"model": "gpt-image-1.5", "prompt": "a fox", "quality": "low"})
    assert r.status_code == 400 and _error(r)["code"] == "invalid_json"
    assert again.status_code == 200


@pytest.mark.parametrize("bad", [CORRUPT_PNG, bomb_png()], ids=["corrupt", "bomb"])
@pytest.mark.parametrize("part", ["image", "mask"])
async def test_a_corrupt_or_bomb_upload_to_edits_is_400_naming_the_part(bad, part):
    files = {"image": ("a.png", png(64, 64, mode="RGBA"), "image/png")}
    files[part] = ("x.png", bad, "image/png")
    async with _client(make_offline_app()) as c:
        t0 = time.monotonic()
        r = await c.post("/images/edits", data={"prompt": "x", "model": "gpt-image-1.5"}, files=files)
    assert r.status_code == 400, r.text
    assert _error(r)["param"] == part
    assert time.monotonic() - t0 < 30  # the bomb was refused by its header, not decoded


@pytest.mark.parametrize("bad", [CORRUPT_PNG, bomb_png()], ids=["corrupt", "bomb"])
async def test_a_corrupt_or_bomb_image_elsewhere_is_400(bad):
    url = "data:image/png;base64," + base64.b64encode(bad).decode()
    async with _client(make_offline_app()) as c:
        variation = await c.post("/images/variations", data={"model": "dall-e-2"},
                                 files={"image": ("a.png", bad, "image/png")})
        as_json = await c.post("/images/edits", json={"prompt": "x", "model": "gpt-image-1.5",
                                                      "images": [{"image_url": url}]})
        tool = await c.post("/responses", json={
            "model": "gpt-5", "tools": [{"type": "image_generation"}],
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "x"},
                                                   {"type": "input_image", "image_url": url}]}]})
    for r, params in ((variation, ["image"]), (as_json, ["image", "images"]),
                      (tool, ["input_images", "input[0].content[1]"])):
        assert r.status_code == 400, r.text
        assert _error(r)["param"] in params


async def test_a_server_error_carries_no_exception_text(monkeypatch):
    from imagewidgets.offline import imaging

    async def broken(*args, **kwargs):
        raise RuntimeError("secret detail /home/someone/private.txt")

    monkeypatch.setattr(imaging, "render_images", broken)
    async with _client(make_offline_app()) as c:
        r = await c.post("/images/generations", json={"model": "gpt-image-1.5", "prompt": "a fox", "quality": "low"})
    assert r.status_code == 500
    err = _error(r)
    assert err["type"] == "server_error" and r.headers["x-request-id"] in err["message"]
    assert "RuntimeError" not in r.text and "secret" not in r.text and "private" not in r.text


def _raw(port: int, data: bytes, *, then_wait: float = 0.0) -> bytes:
    """Send ``data`` on a fresh connection and return everything the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        if then_wait:
            time.sleep(then_wait)
        chunks = []
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                chunks.append(got)
        except (ConnectionResetError, socket.timeout):
            pass
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_body_above_the_limit_is_413_before_it_is_read(offline_server):
    server = offline_server(max_body_mb=0.01)  # 10 KB
    big = json.dumps({"prompt": "x" * 20_000}).encode()
    with httpx2.Client(base_url=server.base_url, timeout=30) as c:
        declared = c.post("/images/generations", content=big, headers={"content-type": "application/json"})

        def chunks():
            yield big[:5000]
            yield big[5000:]

        undeclared = c.post("/images/generations", content=chunks(), headers={"content-type": "application/json"})
        ok = c.post("/images/generations", json={"model": "gpt-image-1.5", "prompt": "a fox", "quality": "low"})
    for r in (declared, undeclared):
        assert r.status_code == 413 and _error(r)["code"] == "request_too_large"
    assert ok.status_code == 200


def test_a_body_that_stalls_is_408(offline_server):
    server = offline_server(body_timeout_s=0.5)
    head = (b"POST /v1/images/generations HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            b"content-length: 100\r\n\r\n{\"prompt\": ")
    answer = _raw(server.port, head)
    assert _status(answer) == 408 and b"request_timeout" in answer


def test_oversized_headers_are_refused_and_the_server_keeps_serving(offline_server):
    server = offline_server(max_header_kb=8)
    head = (b"GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: " + b"a" * 20_000 + b"\r\n\r\n")
    assert _status(_raw(server.port, head)) in (400, 431)
    with httpx2.Client(base_url=server.base_url, timeout=30) as c:
        assert c.get("/models").status_code == 200


def test_a_refused_upload_does_not_disturb_the_next_request_on_the_connection(offline_server):
    server = offline_server()
    with httpx2.Client(base_url=server.base_url, timeout=30) as c:  # one keep-alive connection
        for bad in (CORRUPT_PNG, bomb_png()):
            r = c.post("/images/edits", data={"prompt": "x", "model": "gpt-image-1.5"},
                       files={"image": ("a.png", bad, "image/png")})
            assert r.status_code == 400
            assert c.post("/images/generations", json={"model": "gpt-image-1.5", "prompt": "a fox", "quality": "low"}).status_code == 200


def test_serve_documents_the_limits():
    from imagewidgets.offline.cli import build_parser, config_from_args

    text = build_parser().format_help()
    for flag in ("--max-body", "--max-header", "--body-timeout"):
        assert flag in text
    cfg = config_from_args(build_parser().parse_args(["--max-body", "5", "--max-header", "16", "--body-timeout", "9"]))
    assert (cfg.max_body_mb, cfg.max_header_kb, cfg.body_timeout_s) == (5, 16, 9)
