"""Watching the wire in tests: transports that forward to the real server and record each request.

    rec = RecordingTransport()
    client = Client(transport=rec)          # the offline backend, over real HTTP
    ...
    rec.calls[-1].json()["previous_response_id"]
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import httpx2


@dataclass
class Call:
    method: str
    path: str
    content_type: str
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def endpoint(self) -> str:
        return self.path.rsplit("/v1", 1)[-1]


def _call(request: httpx2.Request) -> Call:
    return Call(request.method, request.url.path, request.headers.get("content-type", ""), request.content)


class RecordingTransport(httpx2.HTTPTransport):
    """A real HTTP transport that keeps a copy of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.calls.append(_call(request))
        return super().handle_request(request)


class AsyncRecordingTransport(httpx2.AsyncHTTPTransport):
    """The async twin; also tracks how many requests were in flight at once (``max_in_flight``)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        self.calls.append(_call(request))
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await super().handle_async_request(request)
            await response.aread()  # count the whole exchange as in flight
            return response
        finally:
            with self._lock:
                self.in_flight -= 1
