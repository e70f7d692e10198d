"""Streams of typed events (partial images, then completed images) from either API.

    >>> with client.generate("an owl made of river water", stream=True, partial_images=2) as stream:
    ...     for event in stream:                        # doctest: +SKIP
    ...         print(event.type, getattr(event, "index", ""))
    partial_image 0
    partial_image 1
    completed
    >>> stream.result                                  # doctest: +SKIP
    <ImageResult 1024x1024 png ...>

A stream always closes its connection (``with``, or when exhausted); an error event in the
middle raises (``StreamError``, or ``ModerationError`` for a moderation block).

Any image the API makes fits in a stream: each event may be up to ``MAX_EVENT_BYTES`` (64 MiB,
above the base64 of an incompressible 3840x2160 picture); a larger event is a ``StreamError``
that names the bound.
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Callable, Iterator

from ._http import CONNECTION_ERRORS, MAX_EVENT_BYTES, QUEUE_EVENT, EventTooLarge, Response, asse_events, sse_events
from .decode import stream_events
from .errors import APIConnectionError, ModerationError, StreamError
from .refusals import REFUSED
from .results import CompletedEvent, ImageResult, ImageSet, PartialImageEvent, QueueEvent, StreamEvent

#: writes a completed image to disk and returns it with its path (the client's ``save``)
Saver = Callable[[ImageResult], ImageResult]

__all__ = ["ImageStream", "AsyncImageStream", "MAX_EVENT_BYTES"]


class _StreamState:
    """What both stream classes share: decoding each server-sent event, saving, keeping the results."""

    def __init__(self, meta: dict[str, Any], total: int | None, saver: Saver | None = None):
        self.meta = meta
        self.total = total
        self.saver = saver
        self.results: list[ImageResult] = []
        self.partials: list[PartialImageEvent] = []
        self.done = False

    def events(self, sse: Any) -> list[StreamEvent]:
        if not sse.data or sse.data == "[DONE]":
            return []
        try:
            data = json.loads(sse.data)
        except ValueError as e:
            raise StreamError(f"the server sent an event that is not JSON: {sse.data[:80]!r}") from e
        if sse.event == QUEUE_EVENT:  # the class gateway's line, before the image service has the request
            return [_queue_event(data)] if isinstance(data, dict) else []
        try:
            evs = stream_events(sse.event, data, self.meta, self.total)
        except ModerationError as e:  # the very same request is not sent again (api/refusals.py)
            REFUSED.remember(self.meta.get("_refusal_key"), e)
            raise
        if self.saver is not None:  # each completed image is on disk before anyone sees it
            evs = [CompletedEvent(result=self.saver(ev.result), raw=ev.raw) if isinstance(ev, CompletedEvent) else ev
                   for ev in evs]
        for ev in evs:
            if isinstance(ev, CompletedEvent):
                self.results.append(ev.result)
            elif isinstance(ev, PartialImageEvent):
                self.partials.append(ev)
        return evs

    def finish(self) -> None:
        self.done = True
        if not self.results:
            raise StreamError("the stream ended before any image was completed"
                              + (f" ({len(self.partials)} partial images arrived)" if self.partials else ""))

    @property
    def result(self) -> ImageResult | ImageSet:
        if not self.results:
            raise StreamError("no image has completed yet; iterate the stream first")
        return self.results[0] if len(self.results) == 1 else ImageSet(self.results)


def _queue_event(data: dict) -> QueueEvent:
    """The gateway's place in line, its numbers checked (a server's text is shown, never trusted)."""
    def whole(value: object) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**6 else 0

    return QueueEvent.at(whole(data.get("position")), whole(data.get("eta_s")))


class _StreamView:
    """What both stream classes show once events have arrived."""

    _state: _StreamState

    @property
    def result(self) -> ImageResult | ImageSet:
        """The final image, or an ``ImageSet`` when the request made several."""
        return self._state.result

    @property
    def results(self) -> list[ImageResult]:
        return list(self._state.results)

    @property
    def partials(self) -> list[PartialImageEvent]:
        """The partial frames that arrived, in order."""
        return list(self._state.partials)


class ImageStream(_StreamView):
    """Iterate it for events; ``.result`` is the final image (or ``ImageSet``) once it is done."""

    def __init__(self, response: Response, meta: dict[str, Any], total: int | None,
                 saver: Saver | None = None):
        self._response = response
        self._state = _StreamState(meta, total, saver)

    def __iter__(self) -> Iterator[StreamEvent]:
        try:
            for sse in sse_events(self._response):
                yield from self._state.events(sse)
            self._state.finish()
        except EventTooLarge as e:
            raise StreamError(f"the stream was refused: {e}") from None
        except CONNECTION_ERRORS as e:
            raise APIConnectionError(f"the stream was cut: {e}") from e
        finally:
            self.close()

    def until_done(self) -> ImageResult | ImageSet:
        """Consume the stream and return the final image(s)."""
        if not self._state.done:
            for _ in self:
                pass
        return self.result


    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> "ImageStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncImageStream(_StreamView):
    """The async twin of ``ImageStream``: ``async for event in stream``."""

    def __init__(self, response: Response, meta: dict[str, Any], total: int | None,
                 saver: Saver | None = None):
        self._response = response
        self._state = _StreamState(meta, total, saver)

    async def __aiter__(self) -> AsyncIterator[StreamEvent]:
        try:
            async for sse in asse_events(self._response):
                for ev in self._state.events(sse):
                    yield ev
            self._state.finish()
        except EventTooLarge as e:
            raise StreamError(f"the stream was refused: {e}") from None
        except CONNECTION_ERRORS as e:
            raise APIConnectionError(f"the stream was cut: {e}") from e
        finally:
            await self.aclose()

    async def until_done(self) -> ImageResult | ImageSet:
        """Consume the stream and return the final image(s)."""
        if not self._state.done:
            async for _ in self:
                pass
        return self.result


    async def aclose(self) -> None:
        await self._response.aclose()

    async def __aenter__(self) -> "AsyncImageStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
