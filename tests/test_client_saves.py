"""Every image the public Client methods return is on disk, with its metadata, before the
caller sees it; a Session's own calls are not written twice."""

from __future__ import annotations

import json
import os

import anyio

from imagewidgets import AsyncClient, Client, Session
from imagewidgets.api.results import CompletedEvent

from .spec_server import SpecServer, png
import pytest

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


def test_generate_writes_the_image_and_its_metadata_before_returning(tmp_path):
    server = SpecServer()
    c = Client(api_key="sk-SAVE-SECRET", base_url="http://test/v1", transport=server.transport(),
               save_dir=tmp_path / "saved")
    out = c.generate("a kite", n=2, model="gpt-image-1")
    for img in out:
        assert img.path.parent == tmp_path / "saved" and img.path.read_bytes() == img.data
        meta = json.loads(img.path.with_suffix(".json").read_text())
        assert meta["prompt"] == "a kite" and meta["model"] == "gpt-image-1" and meta["usage"]["output_tokens"] == 272
    assert len({img.path for img in out}) == 2
    assert not any(b"SAVE-SECRET" in p.read_bytes() for p in (tmp_path / "saved").iterdir())
    assert not [p for p in (tmp_path / "saved").iterdir() if p.name.endswith(".tmp")]


def test_a_streamed_image_is_on_disk_when_its_completed_event_arrives(tmp_path):
    server = SpecServer()
    c = Client(base_url="http://test/v1", transport=server.transport(), save_dir=tmp_path)
    seen = []
    for event in c.edit("x", png(), stream=True, partial_images=1, model="gpt-image-1"):
        if isinstance(event, CompletedEvent):
            seen.append(event.result.path is not None and event.result.path.read_bytes() == event.result.data)
    assert seen == [True]


def test_the_default_folder_is_under_imagewidgets_home_and_none_turns_it_off(tmp_path):
    server = SpecServer()
    img = Client(base_url="http://test/v1", transport=server.transport()).generate("x", model="gpt-image-1")
    assert img.path.parent == __import__("pathlib").Path(os.environ["IMAGEWIDGETS_HOME"]) / "images"
    off = Client(base_url="http://test/v1", transport=server.transport(), save_dir=None).generate("x")
    assert off.path is None


def test_the_async_client_saves_too(tmp_path):
    async def main():
        server = SpecServer()
        c = AsyncClient(base_url="http://test/v1", transport=server.transport(), save_dir=tmp_path)
        img = await c.generate("x", model="gpt-image-1")
        assert img.path.read_bytes() == img.data
        stream = await c.generate("x", stream=True, partial_images=1, model="gpt-image-1")
        paths = [e.result.path async for e in stream if isinstance(e, CompletedEvent)]
        assert paths[0].exists()

    anyio.run(main)


def test_a_session_stores_its_images_once(tmp_path):
    saved = tmp_path / "client-folder"
    s = Session("once", folder=tmp_path / "store", client=Client(save_dir=saved))
    img = s.imagine("a lantern", quality="low", size="1024x1024")
    assert img.path.is_relative_to(tmp_path / "store")
    assert not saved.exists()
