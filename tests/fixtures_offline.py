"""Fixtures and helpers for tests that talk to the offline backend.

- ``make_offline_app(**switches)``: the ASGI app with those ``OfflineConfig`` switches.
- ``offline_server``: a factory starting ``OfflineServer``s on loopback (real sockets, real streaming),
  stopped at the end of the test.
- ``asgi_client(app)``: an ``httpx2.AsyncClient`` on the app through ``ASGITransport`` (bodies buffered:
  for content checks, not for arrival timing).
- ``png(...)``, ``picture(...)``, ``mask_png(...)``, ``decode(...)``, ``sse_events(...)``: picture and stream helpers.
- ``offline_pictures`` (autouse, via conftest): the twin's picture mode for the test. A test or module
  marked ``@pytest.mark.pictures("realistic")`` gets pictures the size of the API's (a 1024x1024 PNG
  ~2.2 MB) from every twin it talks to: the embedded server, ``offline_server``, ``make_offline_app``
  and the gateway tests' ``serve`` upstreams. The tests that stream, store, pack, export and relay
  are marked, so a limit real pictures break (an SSE event cap, memory per turn) fails the day it
  is introduced. ``IMAGEWIDGETS_OFFLINE_PICTURES=realistic`` makes it the mode of a whole run.
"""

from __future__ import annotations

import base64
import io
import json
import os
from typing import Any, Iterable

import httpx2
import pytest
from PIL import Image

__all__ = ["make_offline_app", "offline_server", "asgi_client", "png", "picture", "mask_png", "decode", "sse_events",
           "offline_pictures", "PICTURES_VAR", "pictures_mode"]

#: the environment variable the twin (embedded or ``serve``) reads its picture mode from
PICTURES_VAR = "IMAGEWIDGETS_OFFLINE_PICTURES"


def pictures_mode() -> str:
    """The picture mode twins started now get: the marked test's, else the run's (drawn by default)."""
    return os.environ.get(PICTURES_VAR) or "drawn"


@pytest.fixture(autouse=True)
def offline_pictures(request, monkeypatch):
    """The test's picture mode (see the module docstring); the embedded server follows it."""
    marker = request.node.get_closest_marker("pictures")
    if marker is not None:
        monkeypatch.setenv(PICTURES_VAR, marker.args[0])
    mode = pictures_mode()
    from imagewidgets.offline import server

    running = server._embedded
    if running is not None and running.running and running.config.pictures != mode:
        server.stop_embedded()  # the next use starts one in this test's mode
    return mode


def make_offline_app(**switches: Any):
    from imagewidgets.offline.app import create_app
    from imagewidgets.offline.config import OfflineConfig

    switches.setdefault("pictures", pictures_mode())
    return create_app(OfflineConfig(**switches))


def asgi_client(app: Any) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://offline.test/v1",
                              timeout=60)


@pytest.fixture
def offline_server():
    """``offline_server(**switches)`` -> a started ``OfflineServer``; all are stopped after the test."""
    from imagewidgets.offline.config import OfflineConfig
    from imagewidgets.offline.server import OfflineServer

    started: list = []

    def start(**switches: Any) -> OfflineServer:
        switches.setdefault("pictures", pictures_mode())
        server = OfflineServer(OfflineConfig(**switches)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def png(width: int = 64, height: int = 64, color: tuple = (40, 120, 200), mode: str = "RGB") -> bytes:
    """A plain PNG of one colour."""
    buf = io.BytesIO()
    fill = tuple(color) + ((255,) if mode == "RGBA" and len(color) == 3 else ())
    Image.new(mode, (width, height), fill[: len(mode)]).save(buf, format="PNG")
    return buf.getvalue()


def picture(width: int = 256, height: int = 256, mode: str = "RGB") -> bytes:
    """A PNG with structure (a gradient and a disc): pixels that can be told apart."""
    import numpy as np

    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 // max(1, width - 1)).astype(np.uint8)
    g = (y * 255 // max(1, height - 1)).astype(np.uint8)
    disc = ((x - width / 2) ** 2 + (y - height / 2) ** 2) < (min(width, height) / 4) ** 2
    b = np.where(disc, 220, 40).astype(np.uint8)
    channels = [r, g, b] + ([np.full_like(r, 255)] if mode == "RGBA" else [])
    buf = io.BytesIO()
    Image.fromarray(np.stack(channels, axis=-1), mode).save(buf, format="PNG")
    return buf.getvalue()


def mask_png(width: int, height: int, box: tuple[int, int, int, int]) -> bytes:
    """An RGBA mask, opaque everywhere except ``box`` (alpha 0: "edit here")."""
    im = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    im.paste((0, 0, 0, 0), box)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def decode(data: bytes | str) -> Image.Image:
    """A loaded PIL image from bytes or base64 text."""
    if isinstance(data, str):
        data = base64.b64decode(data)
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def sse_events(lines: Iterable[str]) -> list[tuple[str, dict]]:
    """``(event, data)`` pairs of a server-sent-event body given as lines."""
    out: list[tuple[str, dict]] = []
    event, data = None, []
    for line in lines:
        if line == "":
            if data:
                out.append((event or "message", json.loads("\n".join(data))))
            event, data = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    if data:
        out.append((event or "message", json.loads("\n".join(data))))
    return out
