"""What the offline routes share: the ``Backend`` (config, state, stream log), error answers,
image-reference resolution, and server-sent-event streams that really stream.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import time
import uuid
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..api.errors import ParamError
from ..api.models import ModelSpec, get_model, model_names
from ..api.inputs import ImageInput
from ..api.requests import ImageRequest
from ..api.validation import validate
from .config import OfflineConfig
from .parse import APIFailure, decode_data_url, from_param_error, image_from_upload
from .state import MemoryState, FolderState

__all__ = ["Backend", "api", "known_model", "validated", "json_body", "b64", "new_id", "sse_response", "Frame"]

_log = logging.getLogger("imagewidgets.offline")

#: Where this server serves the images of ``response_format="url"`` (outside /v1: no key needed, like signed URLs).
IMAGE_URL_PATH = "/offline/images/"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def read_bytes(images: Any) -> list[bytes]:
    """The bytes of input images the resolver has read (file ids, URLs and data URLs are read first)."""
    out = []
    for img in images:
        if img.data is None:
            raise APIFailure(400, "An input image could not be read.", param="image", code="invalid_image")
        out.append(img.data)
    return out


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


@dataclass
class Backend:
    """The state of one offline app: its switches, its memory, and a log of when stream events left."""

    config: OfflineConfig
    state: MemoryState | FolderState
    #: one entry per streamed event as it is handed to the server: request_id, type, index, sent_at (time.time())
    stream_log: deque = field(default_factory=lambda: deque(maxlen=2000))
    #: the background worker that runs batches (``batch_runner.BatchRunner``), set by ``create_app``
    batches: Any = None
    #: response id -> the asyncio task drawing a background response (``responses_api``)
    tasks: dict = field(default_factory=dict)

    def resolve(self, img: ImageInput, param: str) -> ImageInput:
        """An image reference (file id, call id, data URL, one of our image URLs) as bytes."""
        if img.data is not None:
            return img
        if img.file_id:
            rec = self.state.get("files", img.file_id)
            data = self.state.blob("files", img.file_id) if rec else None
            if data is None or rec is None:
                raise APIFailure(400, f"No file found with id '{img.file_id}'.", param=param, code="image_file_not_found")
            return image_from_upload(data, rec.get("filename"), param)
        if img.call_id:
            data = self.state.blob("calls", img.call_id)
            if data is None:
                raise APIFailure(400, f"No image generation call found with id '{img.call_id}'.", param=param,
                                 code="image_generation_call_not_found")
            return image_from_upload(data, f"{img.call_id}.png", param)
        url = img.url or ""
        if url.startswith("data:"):
            return decode_data_url(url, param)
        if IMAGE_URL_PATH in url:
            image_id = url.split(IMAGE_URL_PATH, 1)[1].split("?", 1)[0].rsplit(".", 1)[0]
            data = self.state.blob("images", image_id)
            if data is not None:
                return image_from_upload(data, None, param)
        raise APIFailure(400, f"The offline backend does not download images ({param}): send a data URL, "
                         "a file_id, or the bytes.", param=param, code="failed_to_download_image")

    def log_event(self, request_id: str, type: str, index: int | None) -> None:
        self.stream_log.append({"request_id": request_id, "type": type, "index": index, "sent_at": time.time()})


def backend_of(request: Request) -> Backend:
    return request.app.state.backend


def request_id(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "")


def failure_response(failure: APIFailure) -> JSONResponse:
    return JSONResponse(failure.body(), status_code=failure.status, headers=failure.headers)


def api(func: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A route whose ``ParamError`` and ``APIFailure`` become the API's error answers."""

    @functools.wraps(func)
    async def route(request: Request) -> Response:
        try:
            return await func(request)
        except ParamError as e:
            return failure_response(from_param_error(e))
        except APIFailure as e:
            return failure_response(e)

    return route


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"{}")
    except RecursionError:  # nested deeper than the parser's stack: no API body is
        raise APIFailure(400, "The JSON body is nested too deeply.", code="invalid_json") from None
    except ValueError:
        raise APIFailure(400, "We could not parse the JSON body of your request. The offline backend expects "
                         "JSON (or multipart/form-data where the API takes files).", code="invalid_json") from None


def shut_down(name: str, day: str | None) -> bool:
    """Whether, on ``day`` (``OfflineConfig.calendar_day()``; None: no calendar), api.openai.com
    no longer serves ``name``."""
    if day is None:
        return False
    from ..api.lifecycle import lifecycle_of

    end = lifecycle_of(name).shutdown_date
    return end is not None and day >= end


def model_not_found(name: Any, param: str = "model") -> APIFailure:
    """The live API's answer for a model it does not serve (or no longer serves: then the message
    names the shutdown date and the replacement, as the API's does for retired models)."""
    from ..api.lifecycle import lifecycle_of

    text = str(name)[:100]
    message = f"The model `{text}` does not exist or you do not have access to it."
    life = lifecycle_of(text) if isinstance(name, str) else None
    if life is not None and life.shutdown_date:
        message = (f"The model `{text}` was shut down on {life.shutdown_date} and is no longer served. "
                   f"Use {life.replacement or 'a current model'} instead.")
    return APIFailure(404, message, param=param, code="model_not_found")


def known_model(name: Any, param: str = "model", day: str | None = None) -> ModelSpec:
    """The table's entry for ``name``, or the 404 ``model_not_found`` the API sends for a model it does not serve."""
    if not isinstance(name, str):
        raise APIFailure(400, f"Invalid type for '{param}': expected a string, but got {_json_type(name)}.",
                         param=param, code="invalid_type")
    spec = get_model(name)
    if spec is not None and shut_down(spec.name, day):
        raise model_not_found(name, param)
    if spec is None:
        raise APIFailure(
            404, f"The model `{name}` does not exist or you do not have access to it. The offline backend serves: "
            + ", ".join(model_names()) + ".", param=param, code="model_not_found")
    return spec


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
             dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def validated(req: ImageRequest) -> Any:
    """Run the client's validation (warnings are the client's business, not the server log's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        validate(req)
    return req


@dataclass(frozen=True)
class Frame:
    """One server-sent event; ``image`` events leave at least ``partial_interval_s`` apart."""

    data: dict
    image: bool = False
    index: int | None = None


def sse_response(request: Request, frames: AsyncIterator[Frame], error_shape: str = "images") -> StreamingResponse:
    """A real stream: each event is written when it is made, image events at least ``partial_interval_s`` apart,
    the stream cut after ``cut_stream_after`` events; a failure mid-stream becomes an ``error`` event."""
    backend = backend_of(request)
    cfg = backend.config
    rid = request_id(request)

    async def body() -> AsyncIterator[bytes]:
        sent = 0
        last_image = None  # when the previous image event left
        try:
            async for frame in frames:
                if frame.image:
                    # at least partial_interval_s between image events; time spent drawing counts
                    if last_image is not None and cfg.partial_interval_s > 0:
                        await anyio.sleep(max(0.0, last_image + cfg.partial_interval_s - time.monotonic()))
                    last_image = time.monotonic()
                kind = frame.data.get("type", "message")
                backend.log_event(rid, kind, frame.index)
                yield f"event: {kind}\ndata: {json.dumps(frame.data)}\n\n".encode()
                sent += 1
                if cfg.cut_stream_after is not None and sent >= cfg.cut_stream_after:
                    return
        except (ParamError, APIFailure) as e:
            failure = from_param_error(e) if isinstance(e, ParamError) else e
            yield _error_event(failure, error_shape, sent)
        except Exception as e:  # the status line is sent already: say it in the stream, and log it
            _log.exception("offline stream %s failed", rid)  # the details go to the log, not to the client
            yield _error_event(APIFailure(500, f"The offline backend had an error while streaming ({rid}). "
                                          "Its log has the details.", type="server_error"), error_shape, sent)
        finally:
            aclose = getattr(frames, "aclose", None)
            if aclose is not None:
                await aclose()

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


def _error_event(failure: APIFailure, shape: str, sequence_number: int) -> bytes:
    if shape == "responses":
        data: dict = {"type": "error", "code": failure.code, "message": failure.message, "param": failure.param,
                      "sequence_number": sequence_number}
    else:
        data = {"type": "error", "error": failure.body()["error"]}
    return f"event: error\ndata: {json.dumps(data)}\n\n".encode()


#: what a query parameter may be: ``bool`` (true/false), ``int`` (a whole number), ``str``, or a tuple of
#: allowed words (an enum; ``list:`` first for a repeated parameter such as ``include``)
QuerySpec = dict[str, Any]


def query(request: Request, spec: QuerySpec) -> dict[str, Any]:
    """The query parameters of ``spec`` typed, or a 400 naming the first wrong one (as the API answers
    ``?stream=maybe``, not a quiet default). Parameters the endpoint does not take are ignored, as the API does."""
    out: dict[str, Any] = {}
    for name, kind in spec.items():
        values = request.query_params.getlist(name) or request.query_params.getlist(f"{name}[]")
        if not values:
            continue
        if isinstance(kind, tuple) and kind and kind[0] == "list:":
            bad = next((v for v in values if v not in kind[1:]), None)
            if bad is not None:
                raise _bad_query(name, bad, "one of " + ", ".join(kind[1:]))
            out[name] = values
            continue
        raw = values[-1]
        if kind == "bool":
            if raw not in ("true", "false"):
                raise _bad_query(name, raw, "a boolean (true or false)")
            out[name] = raw == "true"
        elif kind == "int":
            digits = raw[1:] if raw[:1] == "-" else raw
            if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
                raise _bad_query(name, raw, "an integer")
            out[name] = int(raw)
        elif isinstance(kind, tuple):
            if raw not in kind:
                raise _bad_query(name, raw, "one of " + ", ".join(kind))
            out[name] = raw
        else:
            out[name] = raw
    return out


def _bad_query(name: str, raw: str, expected: str) -> APIFailure:
    return APIFailure(400, f"Invalid value for query parameter '{name}': {raw[:40]!r}. Expected {expected}.",
                      param=name, code="invalid_type")
