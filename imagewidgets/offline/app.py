"""The offline image API as a starlette ASGI app: OpenAI's image endpoints, answered by a procedural
renderer on this machine (no key, no network, no AI).

    >>> from imagewidgets.offline.app import create_app
    >>> app = create_app()                  # serve it with uvicorn, or see imagewidgets.offline.server

Routes (all under ``/v1`` as on api.openai.com):

- ``POST /v1/images/generations``, ``POST /v1/images/edits`` (multipart or JSON), ``POST /v1/images/variations``
- ``POST /v1/responses`` (the ``image_generation`` tool; ``background=true`` too), ``GET /v1/responses/{id}``
  (``?stream=true`` replays and follows its events), ``DELETE /v1/responses/{id}``,
  ``POST /v1/responses/{id}/cancel``, ``GET /v1/responses/{id}/input_items``
- ``POST /v1/content_provenance_checks``: the C2PA manifest the twin signs its images with, read back
- ``POST /v1/files``, ``GET /v1/files``, ``GET /v1/files/{id}``, ``GET /v1/files/{id}/content``, ``DELETE /v1/files/{id}``
- ``POST /v1/batches``, ``GET /v1/batches``, ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``
  (run in the background at ``batch_rate`` requests a second; see ``batch_runner``)
- ``GET /v1/models``, ``GET /v1/models/{id}``
- ``GET /offline/images/{name}``: the images of ``response_format="url"`` (no key needed, like signed URLs)

Every answer carries ``x-request-id`` and ``x-imagewidgets-backend: offline-renderer``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..api.batches import MAX_BYTES_PER_FILE

from ..api.endpoints import API_PREFIX, Endpoint, endpoints, route
from ..api.images import MIME_TYPES, sniff_format
from ..api.lifecycle import lifecycle_of
from ..api.models import DEFAULT_RESPONSES_MODEL, MODELS, RESPONSES_MODEL_SHUTDOWNS
from .batch_runner import BatchRunner
from .batches_api import cancel_batch, create_batch, list_batches, list_files, one_batch, public_file
from .common import Backend, api, backend_of, failure_response, model_not_found, new_id, request_id, shut_down
from .config import OfflineConfig
from .images_api import edits, generations, served_image, variations
from .middleware import Gate
from .parse import APIFailure, file_form, form_to_dict, upload_bytes
from .provenance_api import content_provenance_check
from .responses_api import create_response
from .responses_stored import cancel_response, delete_response, list_input_items, retrieve_response
from .state import open_state

__all__ = ["create_app", "BANNER"]

_log = logging.getLogger("imagewidgets.offline")

#: How the server introduces itself: it is never presented as a model.
BANNER = "offline renderer (procedural, not AI)"

#: exactly the SDK's upload purposes (openai 3.57 ``FilePurpose``; the *_output/-results ones are
#: set by the server, never uploaded)
FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
_FILE_PURPOSES = FILE_PURPOSES
_MODEL_CREATED = 1735689600  # a fixed date (2025-01-01): the table has no creation dates


def create_app(config: OfflineConfig | None = None) -> Starlette:
    """The ASGI app. ``config`` holds the switches (latency, failures, state folder...); see ``OfflineConfig``."""
    config = config or OfflineConfig()
    routes = [
        # one route per declared endpoint (api/endpoints.py), answered by its handler below
        *(Route(route(e), HANDLERS.get(e.name) or _not_implemented(e), methods=[e.method]) for e in endpoints()),
        Route("/offline/images/{name}", served_image, methods=["GET"]),
        Route("/", about, methods=["GET"]),
    ]
    app = _OfflineApp(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _server_error})
    state = open_state(config.state_dir, memory_limit_mb=config.memory_limit_mb, ttl_days=config.state_ttl_days)
    app.state.backend = Backend(config=config, state=state)
    app.state.backend.batches = BatchRunner(app)
    app.state.config = config
    return app


class _OfflineApp(Starlette):
    """Starlette with the ``Gate`` outermost, so even a crash's 500 carries ``x-request-id``."""

    def build_middleware_stack(self) -> Any:
        return Gate(super().build_middleware_stack(), self.state.config)


async def _server_error(request: Request, exc: Exception) -> Response:
    # the traceback goes to the server's log; the answer says only that it failed, and which
    # request, so that the two can be matched (exception text could carry paths or data)
    rid = request_id(request)
    _log.error("offline request %s failed", rid, exc_info=exc)
    return failure_response(APIFailure(500, f"The offline backend had an error while processing your request "
                                       f"({rid}). Its log has the details.", type="server_error"))


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    message = {404: f"Unknown request URL: {request.method} {request.url.path}. The offline backend serves the "
                    "image endpoints of the API.",
               405: f"Method {request.method} is not allowed on {request.url.path}."}.get(status, str(exc))
    return failure_response(APIFailure(status, message, code="unknown_url" if status == 404 else None))


def _not_implemented(e: Endpoint) -> Any:
    """The answer of a declared endpoint the twin has no handler for yet: a clear 501, not a 404."""
    async def answer(request: Request) -> Response:
        return failure_response(APIFailure(501, f"The offline backend does not implement {e.method} {e.url} "
                                           f"({e.name}) yet.", type="server_error", code="not_implemented"))
    return answer


async def about(request: Request) -> Response:
    return JSONResponse({"backend": "imagewidgets offline image API", "renderer": BANNER, "api": API_PREFIX})


# --- models ------------------------------------------------------------------------------------


def _model_object(name: str) -> dict[str, Any]:
    """The SDK's ``Model``: id, object, created, owned_by, shutdown_date (the table's date)."""
    return {"id": name, "object": "model", "created": _MODEL_CREATED, "owned_by": "imagewidgets-offline",
            "shutdown_date": lifecycle_of(name).shutdown_date, "backend": "offline-renderer"}


def _served(request: Request) -> list[str]:
    """The image models, then the mainline models we know dates of; on a calendar
    (today's, or ``--as-of``'s; ``--calendar off`` keeps all) without those already shut down, as
    the live list drops them."""
    day = backend_of(request).config.calendar_day()
    names = list(MODELS) + sorted(set(RESPONSES_MODEL_SHUTDOWNS) | {DEFAULT_RESPONSES_MODEL})
    return [n for n in names if not shut_down(n, day)]


async def list_models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [_model_object(name) for name in _served(request)]})


@api
async def one_model(request: Request) -> Response:
    name = request.path_params["model"]
    if name not in _served(request):
        raise model_not_found(name)
    return JSONResponse(_model_object(name))


# --- files -------------------------------------------------------------------------------------


@api
async def upload_file(request: Request) -> Response:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise APIFailure(400, "Files are uploaded as multipart/form-data with 'file' and 'purpose'.",
                         code="invalid_multipart")
    # a batch input file may hold 200 MB (starlette spools big parts to disk)
    async with request.form(max_files=2, max_part_size=MAX_BYTES_PER_FILE + 2**20) as form:  # closes the uploads
        body = form_to_dict(form.multi_items())
        upload = file_form(body, _UPLOAD_FIELDS)
        purpose = body.get("purpose")
        if purpose not in _FILE_PURPOSES:
            raise APIFailure(400, f"Invalid value for 'purpose': {purpose!r}. Supported: "
                             + ", ".join(_FILE_PURPOSES) + ".", param="purpose",
                             code="invalid_value" if purpose else "missing_required_parameter")
        data = await upload_bytes(upload)
        seconds = _expires_after(body.get("expires_after"), purpose)
    now = int(time.time())
    record = {
        "id": new_id("file-"), "object": "file", "bytes": len(data), "created_at": now,
        "filename": getattr(upload, "filename", None) or "upload", "purpose": purpose, "status": "processed",
    }
    if seconds is not None:  # the File object has no expires_at at all when the file does not expire
        record["expires_at"] = now + seconds
    backend_of(request).state.put("files", record["id"], record, data)
    return JSONResponse(record)


#: the fields of a file upload (the SDK's ``files.create``: file, purpose, expires_after)
_UPLOAD_FIELDS = {"file", "purpose", "expires_after"}
_EXPIRY_S = (3600, 30 * 24 * 3600)  # the API's bounds for expires_after.seconds: one hour to 30 days


def _expires_after(value: Any, purpose: str) -> int | None:
    """Seconds until the upload expires, from ``expires_after`` (``expires_after[anchor]`` /
    ``[seconds]`` fields as the SDK sends them, or one JSON part); batch files expire after
    30 days by default, others never."""
    if value is None:
        return _EXPIRY_S[1] if purpose == "batch" else None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict) or set(value) - {"anchor", "seconds"}:
        raise APIFailure(400, "Invalid value for 'expires_after': expected an object with 'anchor' and 'seconds'.",
                         param="expires_after", code="invalid_type")
    if value.get("anchor") != "created_at":
        raise APIFailure(400, f"Invalid value for 'expires_after.anchor': {value.get('anchor')!r}. Supported: "
                         "created_at.", param="expires_after.anchor", code="invalid_value")
    seconds = value.get("seconds")
    if isinstance(seconds, str) and seconds.isascii() and seconds.isdigit():
        seconds = int(seconds)  # multipart fields are text
    lo, hi = _EXPIRY_S
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not lo <= seconds <= hi:
        raise APIFailure(400, f"Invalid value for 'expires_after.seconds': {seconds!r}. It must be a whole number "
                         f"from {lo} to {hi}.", param="expires_after.seconds", code="invalid_value")
    return seconds


def _file_record(request: Request) -> dict:
    file_id = request.path_params["file_id"]
    rec = public_file(backend_of(request).state.get("files", file_id))
    if rec is None:
        raise APIFailure(404, f"No such File object: {file_id}", param="id", code=None)
    return rec


@api
async def file_object(request: Request) -> Response:
    rec = _file_record(request)
    if request.method == "DELETE":
        backend_of(request).state.delete("files", rec["id"])
        return JSONResponse({"id": rec["id"], "object": "file", "deleted": True})
    return JSONResponse(rec)


@api
async def file_content(request: Request) -> Response:
    rec = _file_record(request)
    blob = backend_of(request).state.open_blob("files", rec["id"])
    if blob is None:
        return Response(b"", media_type="application/octet-stream")
    head = blob.read(64)
    blob.seek(0)
    if rec.get("purpose") in ("batch", "batch_output"):
        media_type = "application/jsonl"
    else:
        media_type = MIME_TYPES.get(sniff_format(head) or "", "application/octet-stream")
    return StreamingResponse(_chunks(blob), media_type=media_type, headers={"content-length": str(_size(blob))})


def _size(blob: Any) -> int:
    blob.seek(0, 2)
    size = blob.tell()
    blob.seek(0)
    return size


async def _chunks(blob: Any, size: int = 1 << 20):
    """A file's content in 1 MB pieces: a batch's output file of gigabytes never sits in memory whole."""
    try:
        while chunk := blob.read(size):
            yield chunk
    finally:
        blob.close()


#: endpoint name (api/endpoints.py) -> the twin's handler
HANDLERS: dict[str, Any] = {
    "generations": generations, "edits": edits, "variations": variations,
    "responses": create_response, "retrieve_response": retrieve_response, "delete_response": delete_response,
    "cancel_response": cancel_response, "list_input_items": list_input_items,
    "check_provenance": content_provenance_check,
    "upload_file": upload_file, "list_files": list_files, "retrieve_file": file_object, "delete_file": file_object,
    "file_content": file_content, "create_batch": create_batch, "list_batches": list_batches,
    "retrieve_batch": one_batch, "cancel_batch": cancel_batch, "list_models": list_models, "retrieve_model": one_model,
}
