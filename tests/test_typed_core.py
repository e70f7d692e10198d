"""The typed core: ``run(req)`` returns results or a stream, streams yield the ``StreamEvent``
union told apart by ``type``, and the sync and async clients are twins with the same methods."""

from __future__ import annotations

import inspect
import typing

import anyio

from imagewidgets.api.client import AsyncClient, Client
from imagewidgets.api.requests import GenerateRequest, ImageRequest, ResponsesRequest
from imagewidgets.api.results import CompletedEvent, ImageResult, PartialImageEvent, ResponseEvent, StreamEvent
from imagewidgets.api.streams import AsyncImageStream, ImageStream
import pytest

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

PUBLIC = ("generate", "edit", "vary", "respond", "upload", "retrieve_response", "send", "run")


def test_run_is_typed_from_request_to_results_or_stream():
    hints = typing.get_type_hints(Client.run)
    assert hints["req"] == ImageRequest and hints["return"] == list[ImageResult] | ImageStream
    ahints = typing.get_type_hints(AsyncClient.run)
    assert ahints["req"] == ImageRequest and ahints["return"] == list[ImageResult] | AsyncImageStream
    assert typing.get_type_hints(ImageStream.__iter__)["return"] == typing.Iterator[StreamEvent]


def test_the_async_client_mirrors_every_public_method_with_a_docstring():
    for name in PUBLIC:
        sync, twin = getattr(Client, name), getattr(AsyncClient, name)
        assert inspect.iscoroutinefunction(twin), name
        assert list(inspect.signature(sync).parameters) == list(inspect.signature(twin).parameters), name
        assert sync.__doc__ and twin.__doc__, name


def test_a_stream_yields_events_told_apart_by_type(wire):
    with Client(transport=wire) as client:
        req = ResponsesRequest("a paper crane", quality="low", size="1024x1024", stream=True, partial_images=2)
        with client.run(req) as stream:
            events = list(stream)
    kinds = {e.type: type(e) for e in events}
    assert kinds == {"partial_image": PartialImageEvent, "completed": CompletedEvent, "response_event": ResponseEvent}
    assert [e.index for e in events if e.type == "partial_image"] == [0, 1]


def test_both_clients_decode_the_same_answer_the_same_way(wire):
    req = GenerateRequest("a tin robot", quality="low", size="1024x1024", model="gpt-image-1.5")
    with Client(transport=wire, save_dir=None) as client:
        (sync,) = client.run(req)

    async def main():
        async with AsyncClient(save_dir=None) as aclient:
            return await aclient.run(req)

    (twin,) = anyio.run(main)
    assert (sync.model, sync.size, sync.params, sync.cost) == (twin.model, twin.size, twin.params, twin.cost)
