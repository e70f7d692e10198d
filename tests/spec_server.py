"""A tiny spec-shaped replayer for client tests: an httpx2 MockTransport handler that answers
like the API (ImagesResponse, Response, SSE events) and records every request it saw.

It is not the offline backend (that is tested on its own); it lets the client's tests look at
bytes on the wire without depending on the renderer.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import httpx2
from PIL import Image


def png(width: int = 64, height: int = 48, color=(200, 30, 30, 255)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


USAGE = {"input_tokens": 50, "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
         "output_tokens": 272, "total_tokens": 322}


def sse(events: list[tuple[str, dict]]) -> bytes:
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


class ChunkStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body delivered in the given chunks (to test SSE split across boundaries)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def __aiter__(self):
        for c in self.chunks:
            yield c


@dataclass
class SpecServer:
    """Handler with a script: ``failures`` answered first (status codes, or "reset" for a
    connection error), then spec-shaped successes."""

    failures: list[Any] = field(default_factory=list)
    chunker: Callable[[bytes], list[bytes]] | None = None
    requests: list[httpx2.Request] = field(default_factory=list)
    image: bytes = field(default_factory=png)
    n_partials_default: int = 2
    #: the models list ``GET /v1/models`` answers (None: 404, as a server without one); its
    #: reads are kept in ``model_reads``, apart from ``requests``
    models: list[dict] | None = None
    model_reads: list[httpx2.Request] = field(default_factory=list)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def body_json(self, i: int = -1) -> dict:
        return json.loads(self.requests[i].content)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        if request.method == "GET" and request.url.path.endswith("/models"):
            self.model_reads.append(request)
            if self.models is None:
                return httpx2.Response(404, json={"error": {"message": "Unknown request URL", "type":
                                                            "invalid_request_error", "param": None, "code": None}})
            return httpx2.Response(200, json={"object": "list", "data": self.models})
        self.requests.append(request)
        hdr = {"x-request-id": f"req_{len(self.requests)}"}
        if self.failures:
            f = self.failures.pop(0)
            if f == "reset":
                raise httpx2.RemoteProtocolError("connection reset by peer", request=request)
            if f == "read_timeout":  # the request went out whole; no answer in time
                raise httpx2.ReadTimeout("timed out", request=request)
            if f == "connect_timeout":  # nothing was sent
                raise httpx2.ConnectTimeout("timed out", request=request)
            status, extra = (f, {}) if isinstance(f, int) else f
            return httpx2.Response(status, headers={**hdr, **extra},
                                   json={"error": {"message": f"scripted {status}", "type": "server_error",
                                                   "param": None, "code": None}})
        path = request.url.path
        if request.method == "GET" and path.startswith("/img/"):
            return httpx2.Response(200, headers=hdr, content=self.image)
        if path.endswith("/files"):
            return httpx2.Response(200, headers=hdr, json={"id": "file-abc", "object": "file", "bytes": 10,
                                                           "filename": "a.png", "purpose": "vision",
                                                           "created_at": 1})
        is_json = request.headers.get("content-type", "").startswith("application/json")
        body = json.loads(request.content) if is_json else {}
        stream = body.get("stream") is True or b'name="stream"\r\n\r\ntrue' in request.content
        if path.endswith("/responses"):
            return self._responses(body, stream, hdr)
        prefix = "image_edit" if path.endswith("/edits") else "image_generation"
        if stream:
            if is_json:
                k = body.get("partial_images", self.n_partials_default)
            else:
                m = re.search(rb'name="partial_images"\r\n\r\n(\d)', request.content)
                k = int(m.group(1)) if m else self.n_partials_default
            events = [(f"{prefix}.partial_image", {"type": f"{prefix}.partial_image", "b64_json": b64(self.image),
                                                    "partial_image_index": i, "created_at": 1, "size": "64x48",
                                                    "quality": "low", "background": "opaque",
                                                    "output_format": "png"}) for i in range(k)]
            events.append((f"{prefix}.completed", {"type": f"{prefix}.completed", "b64_json": b64(self.image),
                                                   "created_at": 1, "size": "64x48", "quality": "low",
                                                   "background": "opaque", "output_format": "png",
                                                   "usage": USAGE}))
            return self._sse(events, hdr)
        n = int(body.get("n", 1) or 1)
        if body.get("response_format") == "url":
            data = [{"url": f"http://test/img/{i}.png"} for i in range(n)]
        else:
            data = [{"b64_json": b64(self.image), "revised_prompt": "revised"} for _ in range(n)]
        return httpx2.Response(200, headers=hdr, json={"created": 1, "data": data, "usage": USAGE,
                                                       "size": "1024x1024", "quality": "low",
                                                       "output_format": "png", "background": "opaque"})

    def _sse(self, events, hdr) -> httpx2.Response:
        raw = sse(events)
        chunks = self.chunker(raw) if self.chunker else [raw]
        return httpx2.Response(200, headers={**hdr, "content-type": "text/event-stream"},
                               stream=ChunkStream(chunks))

    def _responses(self, body: dict, stream: bool, hdr) -> httpx2.Response:
        rid = f"resp_{len(self.requests)}"
        call = {"type": "image_generation_call", "id": f"ig_{len(self.requests)}", "status": "completed",
                "result": b64(self.image), "revised_prompt": "a revised prompt", "size": "1024x1024",
                "quality": "low", "background": "opaque", "output_format": "png"}
        resp = {"id": rid, "object": "response", "created_at": 1, "status": "completed",
                "model": body.get("model"), "output": [call], "usage": USAGE,
                "previous_response_id": body.get("previous_response_id")}
        if not stream:
            return httpx2.Response(200, headers=hdr, json=resp)
        k = body["tools"][0].get("partial_images", 0)
        ev = [("response.created", {"type": "response.created", "sequence_number": 0,
                                    "response": {**resp, "status": "in_progress", "output": []}})]
        ev += [("response.image_generation_call.partial_image",
                {"type": "response.image_generation_call.partial_image", "item_id": call["id"], "output_index": 0,
                 "partial_image_b64": b64(self.image), "partial_image_index": i, "sequence_number": i + 1})
               for i in range(k)]
        ev.append(("response.completed", {"type": "response.completed", "sequence_number": k + 1,
                                          "response": resp}))
        return self._sse(ev, hdr)
