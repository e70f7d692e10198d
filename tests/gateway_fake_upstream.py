"""A fake upstream for the class gateway's money tests: the image API's shapes (JSON and SSE, Images and
Responses), each answer reporting a *random* usage that an honest service could report for that
request, never more:

- text input tokens at most the request's UTF-8 bytes (plus, on a Responses chain, what the earlier
  turns held: their text and their output);
- image output tokens at most the published figure for the model, quality and size it drew
  (``imagewidgets.api.cost.output_tokens_for``, "auto" drawn as a random allowed choice);
- mainline output tokens at most the ``max_output_tokens`` the request carried (none: up to 200k,
  as the security review saw).

It can also fail on purpose, per request, by a word in the prompt / input: ``[fail500]`` answers 500,
``[nousage]`` reports no usage, ``[garbage]`` reports a usage the gateway cannot read,
``[upcut]`` breaks the stream off after two events. ``log`` records every request it answered.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from imagewidgets.api.cost import output_tokens_for
from imagewidgets.api.models import DEFAULT_MODEL, DEFAULT_TOOL_MODEL, get_model

__all__ = ["FakeUpstream"]

_SIZES = ("1024x1024", "1536x1024", "1024x1536")
_QUALITIES = ("low", "medium", "high")


def _tiny_png() -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@dataclass
class FakeUpstream:
    key: str
    seed: int = 0
    #: seconds between stream events (so a participant can cut a stream in its middle)
    pace_s: float = 0.004
    #: report the most an honest service could (else a random figure up to it)
    always_max: bool = False
    log: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.contexts: dict[str, int] = {}  # response id -> tokens its context held (for chains)
        self.png = _tiny_png()
        self._lock = threading.Lock()
        self._n = 0
        self.server: Any = None
        self.thread: threading.Thread | None = None
        self.base_url = ""

    # -- serving ------------------------------------------------------------------------------------
    def start(self) -> "FakeUpstream":
        from imagewidgets.gateway.server import bind, uvicorn_server

        app = Starlette(routes=[Route("/v1/images/generations", _lenient(self.images), methods=["POST"]),
                                Route("/v1/images/edits", _lenient(self.images), methods=["POST"]),
                                Route("/v1/responses", _lenient(self.responses), methods=["POST"]),
                                Route("/v1/files/{file_id}", self.file, methods=["GET"])])
        sock = bind("127.0.0.1", 0)
        ready = threading.Event()
        self.server = uvicorn_server(app, ready.set)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        assert ready.wait(10), "the fake upstream did not start"
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(5)

    def _id(self, prefix: str) -> str:
        with self._lock:
            self._n += 1
            return f"{prefix}_{self._n:06d}{self.rng.randrange(10**6):06d}"

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.key}"

    def _some(self, bound: int) -> int:
        """A random usage figure an honest service could report: 0..bound, the bound itself a third of the time."""
        return bound if self.always_max or self.rng.random() < 0.34 else self.rng.randint(0, max(0, bound))

    async def file(self, request: Request) -> Response:
        fid = request.path_params["file_id"]
        return JSONResponse({"id": fid, "object": "file", "bytes": 1, "created_at": 0, "filename": "x.png",
                             "purpose": "vision"})

    # -- the Images API ------------------------------------------------------------------------------
    async def images(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error": {"message": "bad key", "type": "invalid_request_error", "param": None,
                                           "code": "invalid_api_key"}}, status_code=401)
        raw = await request.body()
        body = json.loads(raw)
        prompt = str(body.get("prompt", ""))
        entry = {"endpoint": "images", "prompt": prompt, "bytes": len(raw), "body": body}
        self.log.append(entry)
        if "[fail500]" in prompt:
            return JSONResponse({"error": {"message": "boom", "type": "server_error", "param": None, "code": None}},
                                status_code=500)
        model = body.get("model") or DEFAULT_MODEL
        n = int(body.get("n") or 1)
        partials = int(body.get("partial_images") or 0) if body.get("stream") else 0
        text = _text_bytes(body)
        usages = [self._image_usage(model, body.get("quality"), body.get("size"), partials, text if i == 0 else 0,
                                    prompt) for i in range(n)]  # the prompt is read once
        if not body.get("stream"):
            answer = {"created": 0, "data": [{"b64_json": self.png}] * n}
            if usages[0] is not None:
                answer["usage"] = _sum_usages(usages) if "[garbage]" not in prompt else {"input_tokens": "lots"}
            return JSONResponse(answer)

        async def events():
            k = 0
            for i in range(n):
                for p in range(partials):
                    yield _sse("image_generation.partial_image", {"type": "image_generation.partial_image",
                                                                  "b64_json": self.png, "partial_image_index": p})
                    k += 1
                    if "[upcut]" in prompt and k >= 2:
                        await asyncio.sleep(0.3)   # (a participant who leaves first is seen leaving)
                        raise ConnectionResetError("cut by the fake upstream")
                    await asyncio.sleep(self.pace_s)
                done = {"type": "image_generation.completed", "b64_json": self.png}
                if usages[i] is not None:
                    done["usage"] = usages[i] if "[garbage]" not in prompt else {"output_tokens": [1]}
                yield _sse("image_generation.completed", done)
                await asyncio.sleep(self.pace_s)

        return StreamingResponse(events(), media_type="text/event-stream")

    def _image_usage(self, model: str, quality: Any, size: Any, partials: int, text_bytes: int,
                     prompt: str) -> dict | None:
        if "[nousage]" in prompt:
            return None
        spec = get_model(model)
        quality = quality if quality in _QUALITIES else self.rng.choice(_QUALITIES)
        size = size if isinstance(size, str) and size in _SIZES else self.rng.choice(
            [s for s in (spec.sizes if spec else _SIZES) if s in _SIZES] or list(_SIZES))
        out, _ = output_tokens_for(model, quality, size, partials)
        text = self._some(text_bytes)
        return {"input_tokens": text, "output_tokens": self._some(out), "total_tokens": 0,
                "input_tokens_details": {"text_tokens": text, "image_tokens": 0}}

    # -- the Responses API ---------------------------------------------------------------------------
    async def responses(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error": {"message": "bad key", "type": "invalid_request_error", "param": None,
                                           "code": "invalid_api_key"}}, status_code=401)
        raw = await request.body()
        body = json.loads(raw)
        words = json.dumps(body.get("input"))
        entry = {"endpoint": "responses", "prompt": words, "bytes": len(raw), "body": body}
        self.log.append(entry)
        if "[fail500]" in words:
            return JSONResponse({"error": {"message": "boom", "type": "server_error", "param": None, "code": None}},
                                status_code=500)
        tool = next((t for t in body.get("tools") or [] if t.get("type") == "image_generation"), {})
        model = tool.get("model") or DEFAULT_TOOL_MODEL  # as the API: the tool's default model
        partials = int(tool.get("partial_images") or 0) if body.get("stream") else 0
        context = _text_bytes(body) + self.contexts.get(body.get("previous_response_id") or "", 0)
        cap = body.get("max_output_tokens") or 200_000
        main_out = self._some(cap)
        image = self._image_usage(model, tool.get("quality"), tool.get("size"), partials, context + main_out, words)
        rid, call_id = self._id("resp"), self._id("ig")
        self.contexts[rid] = context + main_out
        response = {"id": rid, "object": "response", "status": "completed", "model": body.get("model"),
                    "output": [{"id": call_id, "type": "image_generation_call", "status": "completed",
                                "result": self.png}]}
        if image is not None:
            response["usage"] = {"input_tokens": self._some(context), "output_tokens": main_out, "total_tokens": 0}
            response["tool_usage"] = {"image_gen": image}
            if "[garbage]" in words:
                response["usage"] = {"input_tokens": {"x": 1}, "output_tokens": "many"}
        entry["response_id"] = rid
        if not body.get("stream"):
            return JSONResponse(response)

        async def events():
            seq = 0
            yield _sse("response.created", {"type": "response.created", "sequence_number": seq,
                                            "response": {"id": rid, "status": "in_progress"}})
            for p in range(partials):
                seq += 1
                yield _sse("response.image_generation_call.partial_image",
                           {"type": "response.image_generation_call.partial_image", "sequence_number": seq,
                            "item_id": call_id, "partial_image_b64": self.png, "partial_image_index": p})
                if "[upcut]" in words and seq >= 2:
                    await asyncio.sleep(0.3)
                    raise ConnectionResetError("cut by the fake upstream")
                await asyncio.sleep(self.pace_s)
            seq += 1
            yield _sse("response.output_item.done", {"type": "response.output_item.done", "sequence_number": seq,
                                                     "item": response["output"][0]})
            await asyncio.sleep(self.pace_s)
            yield _sse("response.completed", {"type": "response.completed", "sequence_number": seq + 1,
                                              "response": response})

        return StreamingResponse(events(), media_type="text/event-stream")


def _lenient(handler):
    """A body the fake cannot read is a 400, as the API would answer (the gateway's own answers are tested)."""
    async def handle(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as e:
            return JSONResponse({"error": {"message": f"fake upstream: {type(e).__name__}",
                                           "type": "invalid_request_error", "param": None, "code": "fake_bad"}},
                                status_code=400)
    return handle


def _text_bytes(value: Any) -> int:
    """UTF-8 bytes of the text a request carries (its string values): more than its tokens can be."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, dict):
        return sum(_text_bytes(v) for v in value.values())
    if isinstance(value, list):
        return sum(_text_bytes(v) for v in value)
    return 0


def _sse(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _sum_usages(usages: list[dict | None]) -> dict:
    out = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
           "input_tokens_details": {"text_tokens": 0, "image_tokens": 0}}
    for u in usages:
        if u:
            out["input_tokens"] += u["input_tokens"]
            out["output_tokens"] += u["output_tokens"]
            out["input_tokens_details"]["text_tokens"] += u["input_tokens_details"]["text_tokens"]
    return out
