"""The Batch API of the offline server, and the Files API's list: ``POST /v1/batches``,
``GET /v1/batches``, ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``, ``GET /v1/files``.

The work itself is done by ``batch_runner.BatchRunner`` in the background; these routes create,
show and cancel batch records with the API's shapes (SDK ``types/batch.py``).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..api.batches import BATCH_ENDPOINTS
from .batch_runner import BatchRunner, public_batch
from .common import api, backend_of, json_body, new_id
from .parse import APIFailure

__all__ = ["create_batch", "list_batches", "one_batch", "cancel_batch", "list_files", "public_file"]

_WINDOW_S = 24 * 3600
_METADATA_KEYS, _METADATA_KEY_LEN, _METADATA_VALUE_LEN = 16, 64, 512


def runner_of(request: Request) -> BatchRunner:
    runner = backend_of(request).batches
    runner.ensure_running()  # after a restart, the first look at a batch carries on with it
    return runner


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > _METADATA_KEYS:
        raise APIFailure(400, f"metadata must be an object of at most {_METADATA_KEYS} key-value pairs.",
                         param="metadata", code="invalid_value")
    for k, v in value.items():
        if not isinstance(v, str) or len(k) > _METADATA_KEY_LEN or len(v) > _METADATA_VALUE_LEN:
            raise APIFailure(400, f"metadata keys are strings of at most {_METADATA_KEY_LEN} characters and "
                             f"values strings of at most {_METADATA_VALUE_LEN}.", param="metadata",
                             code="invalid_value")
    return dict(value)


@api
async def create_batch(request: Request) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise APIFailure(400, "The body must be a JSON object.", code="invalid_json")
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise APIFailure(400, f"Missing required parameter: '{name}'.", param=name,
                             code="missing_required_parameter")
    if body["endpoint"] not in BATCH_ENDPOINTS:
        raise APIFailure(400, f"Invalid value for 'endpoint': the offline backend batches "
                         f"{' and '.join(BATCH_ENDPOINTS)}.", param="endpoint", code="invalid_value")
    if body["completion_window"] != "24h":
        raise APIFailure(400, "Invalid value for 'completion_window': only '24h' is supported.",
                         param="completion_window", code="invalid_value")
    backend = backend_of(request)
    file = backend.state.get("files", body["input_file_id"])
    if file is None or file.get("object") != "file":
        raise APIFailure(404, f"No such File object: {body['input_file_id']}", param="input_file_id")
    if file.get("purpose") != "batch":
        raise APIFailure(400, f"The input file must be uploaded with purpose 'batch', not {file.get('purpose')!r}.",
                         param="input_file_id", code="invalid_value")
    now = int(time.time())
    rec = {
        "id": new_id("batch_"), "object": "batch", "endpoint": body["endpoint"], "errors": None,
        "input_file_id": body["input_file_id"], "completion_window": "24h", "status": "validating",
        "output_file_id": None, "error_file_id": None, "created_at": now, "in_progress_at": None,
        "expires_at": now + _WINDOW_S, "finalizing_at": None, "completed_at": None, "failed_at": None,
        "expired_at": None, "cancelling_at": None, "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": _metadata(body.get("metadata")), "model": None, "usage": None,
        # the worker's own: where the output and error lines go while they are written
        "_output_file": new_id("file-"), "_error_file": new_id("file-"),
    }
    backend.state.put("batches", rec["id"], rec)
    backend.batches.ensure_running()
    return JSONResponse(public_batch(rec))


def _batch(request: Request) -> dict:
    batch_id = request.path_params["batch_id"]
    rec = backend_of(request).state.get("batches", batch_id)
    if rec is None:
        raise APIFailure(404, f"No batch found with id '{batch_id}'.", param="batch_id")
    return rec


def _limit(request: Request, default: int, most: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise APIFailure(400, f"Invalid value for 'limit': {raw!r}; an integer from 1 to {most}.", param="limit",
                         code="invalid_value")
    return int(raw)


def _page(items: list[dict], after: str | None, limit: int) -> dict:
    """A cursor page as the API lists objects: newest first, ``after`` an id of the previous page."""
    if after:
        ids = [i["id"] for i in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    page = items[:limit]
    return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None, "has_more": len(items) > limit}


@api
async def list_batches(request: Request) -> Response:
    runner = runner_of(request)
    records = sorted(runner.state.records("batches"), key=lambda r: (r.get("created_at") or 0, r["id"]), reverse=True)
    limit = _limit(request, 20, 100)
    return JSONResponse(_page([public_batch(r) for r in records], request.query_params.get("after"), limit))


@api
async def one_batch(request: Request) -> Response:
    runner_of(request)
    return JSONResponse(public_batch(_batch(request)))


@api
async def cancel_batch(request: Request) -> Response:
    runner = runner_of(request)
    with runner.lock:
        rec = _batch(request)
        if rec["status"] in ("validating", "in_progress"):
            rec = runner.update(rec["id"], status="cancelling", cancelling_at=int(time.time()))
        elif rec["status"] != "cancelling":
            raise APIFailure(400, f"Cannot cancel a batch with status '{rec['status']}'.", param="batch_id",
                             code="invalid_request")
    runner.ensure_running()
    return JSONResponse(public_batch(rec))


def public_file(rec: dict | None) -> dict | None:
    """A file record, or None for one the batch worker is still writing."""
    return rec if rec is not None and rec.get("object") == "file" else None


@api
async def list_files(request: Request) -> Response:
    purpose = request.query_params.get("purpose")
    order = request.query_params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise APIFailure(400, f"Invalid value for 'order': {order!r}; 'asc' or 'desc'.", param="order",
                         code="invalid_value")
    files = [r for r in backend_of(request).state.records("files")
             if public_file(r) and (purpose is None or r.get("purpose") == purpose)]
    files.sort(key=lambda r: (r.get("created_at") or 0, r["id"]), reverse=order == "desc")
    return JSONResponse(_page(files, request.query_params.get("after"), _limit(request, 10000, 10000)))
