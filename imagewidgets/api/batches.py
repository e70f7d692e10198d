"""The Files and Batch APIs: upload a JSONL file of requests, run it as a batch at half price, read
the output file back line by line.

    >>> from imagewidgets import Client
    >>> client = Client()                                                     # doctest: +SKIP
    >>> f = client.files.upload(b'{"custom_id": "c0", "method": "POST", ...}\\n',
    ...                         filename="sweep.jsonl", purpose="batch")      # doctest: +SKIP
    >>> job = client.batches.create(f.id, "/v1/images/generations", metadata={"session": "grid"})
    >>> client.batches.retrieve(job.id).status            # validating, in_progress, ... completed
    >>> for line in client.files.lines(job.output_file_id): ...   # one JSON line at a time

``Files`` and ``Batches`` are thin resources of the synchronous ``Client`` (``client.files``,
``client.batches``) in the spirit of the official SDK; every call goes through the client's one
transport loop. Ids that come back from a server are checked before they are put in a URL.
``request_line`` and ``split_lines`` build the input file within the limits the API states.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from . import requests as _requests
from .endpoints import batch_urls, checked_id, endpoint, endpoints
from .errors import ParamError
from .registry import delivery_fields
from .validation import validate
from .wire import encode

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client, FileObject
    from .requests import ImageRequest

__all__ = ["Batch", "BatchCounts", "Files", "Batches", "OutputLine", "request_line", "split_lines",
           "MAX_REQUESTS_PER_FILE", "MAX_BYTES_PER_FILE", "BATCH_ENDPOINTS", "TERMINAL", "BATCHABLE"]

#: The limits the API states for one batch input file.
MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200 * 1024 * 1024
#: The image endpoints a batch may target (the API's list has more: chat, embeddings, ...): the
#: endpoints declared ``batchable`` (``api/endpoints.py``).
BATCH_ENDPOINTS = batch_urls()
#: Statuses after which a batch changes no more.
TERMINAL = ("completed", "failed", "expired", "cancelled")
#: Request types that can go in a batch (those of the endpoints declared ``batchable``).
BATCHABLE = tuple(getattr(_requests, e.request) for e in endpoints() if e.batchable and e.request)



@dataclass(frozen=True)
class BatchCounts:
    total: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Batch:
    """A ``Batch`` object as the API returns it (``raw`` keeps every field)."""

    id: str
    status: str
    endpoint: str
    input_file_id: str
    output_file_id: str | None = None
    error_file_id: str | None = None
    request_counts: BatchCounts = BatchCounts()
    created_at: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    errors: tuple[dict, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def from_api(cls, body: dict) -> "Batch":
        counts = body.get("request_counts") or {}
        errors = (body.get("errors") or {}).get("data") or ()
        return cls(id=checked_id(body.get("id"), "batch id"), status=str(body.get("status")),
                   endpoint=str(body.get("endpoint")), input_file_id=str(body.get("input_file_id")),
                   output_file_id=body.get("output_file_id"), error_file_id=body.get("error_file_id"),
                   request_counts=BatchCounts(int(counts.get("total") or 0), int(counts.get("completed") or 0),
                                              int(counts.get("failed") or 0)),
                   created_at=body.get("created_at"), metadata=dict(body.get("metadata") or {}),
                   errors=tuple(e for e in errors if isinstance(e, dict)), raw=body)


@dataclass(frozen=True)
class OutputLine:
    """One line of a batch's output or error file: ``custom_id`` and the request's answer."""

    custom_id: str
    status_code: int | None
    body: dict
    request_id: str | None = None
    error: dict | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and self.status_code < 400

    @property
    def message(self) -> str:
        """What went wrong, in the API's words."""
        err = self.error or (self.body.get("error") if isinstance(self.body, dict) else None) or {}
        code = f" ({err.get('code')})" if err.get("code") else ""
        return f"{err.get('message') or 'the request failed'}{code} [status {self.status_code}]"

    @classmethod
    def parse(cls, line: str | bytes) -> "OutputLine":
        """One line as the server wrote it; ``ValueError`` when it is not the API's line shape."""
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("a batch output line is a JSON object")
        response: dict = data["response"] if isinstance(data.get("response"), dict) else {}
        code = response.get("status_code")
        request_id = response.get("request_id")
        return cls(custom_id=str(data.get("custom_id")),
                   status_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                   body=response["body"] if isinstance(response.get("body"), dict) else {},
                   request_id=request_id if isinstance(request_id, str) else None,
                   error=data.get("error") if isinstance(data.get("error"), dict) else None)


def request_line(custom_id: str, req: ImageRequest) -> bytes:
    """One line of a batch input file for ``req`` (generations, or edits whose images are file ids
    or URLs: a batch line is JSON, it cannot carry a multipart upload)."""
    if not isinstance(req, BATCHABLE):
        raise ParamError("batch", type(req).__name__, "image generations and edits (the batchable endpoints)")
    validate(req)
    call = encode(req)
    if call.json is None:
        raise ParamError("images", "bytes", "file ids or URLs in a batch (upload the images first)")
    body = {k: v for k, v in call.json.items() if k not in delivery_fields()}  # batch answers are not streamed
    line = {"custom_id": custom_id, "method": call.method, "url": endpoint(req.endpoint).url, "body": body}
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def split_lines(sizes: Iterable[int], max_requests: int | None = None, max_bytes: int | None = None) -> list[range]:
    """Split lines of the given byte sizes into consecutive parts, each within the per-file limits."""
    max_requests = max_requests or MAX_REQUESTS_PER_FILE
    max_bytes = max_bytes or MAX_BYTES_PER_FILE
    parts: list[range] = []
    start = count = size = 0
    for i, n in enumerate(sizes):
        if n > max_bytes:
            raise ParamError("batch", f"{n} bytes", f"lines of at most {max_bytes} bytes (one request is too big)")
        if count and (count + 1 > max_requests or size + n > max_bytes):
            parts.append(range(start, i))
            start, count, size = i, 0, 0
        count += 1
        size += n
    if count:
        parts.append(range(start, start + count))
    return parts


class Files:
    """``client.files``: upload, list, retrieve, read and delete files."""

    def __init__(self, client: "Client") -> None:
        self._client = client

    def upload(self, data: bytes, *, filename: str, purpose: str = "batch",
               mime: str = "application/jsonl") -> "FileObject":
        """``POST /files`` with raw bytes (for images, ``Client.upload`` takes any image)."""
        resp = self._client.call("upload_file", data={"purpose": purpose}, files=[("file", (filename, data, mime))])
        return self._client.file_object(resp.json())

    def list(self, purpose: str | None = None) -> list["FileObject"]:
        params = {"purpose": purpose} if purpose else {}
        body = self._client.call("list_files", params=params).json()
        return [self._client.file_object(f) for f in body.get("data") or []]

    def retrieve(self, file_id: str) -> "FileObject":
        return self._client.file_object(self._client.call("retrieve_file", ids={"file_id": file_id}).json())

    def content(self, file_id: str) -> bytes:
        """The whole file in memory; for a batch's output prefer ``lines``."""
        return self._client.call("file_content", ids={"file_id": file_id}).content

    def lines(self, file_id: str) -> Iterator[str]:
        """The file's non-empty lines, streamed: one line in memory at a time, the connection closed
        when the loop ends or is left."""
        resp = self._client.call("file_content", ids={"file_id": file_id}, stream=True)
        try:
            for line in resp.iter_lines():
                if line.strip():
                    yield line
        finally:
            resp.close()

    def delete(self, file_id: str) -> bool:
        return bool(self._client.call("delete_file", ids={"file_id": file_id}).json().get("deleted"))


class Batches:
    """``client.batches``: create, retrieve, list and cancel batches."""

    def __init__(self, client: "Client") -> None:
        self._client = client

    def create(self, input_file_id: str, endpoint: str, *, completion_window: str = "24h",
               metadata: dict[str, str] | None = None) -> Batch:
        """``POST /batches``. Never retried automatically: a lost answer may hide a batch that was
        created, so the caller looks for it (``find``) before trying again."""
        if endpoint not in BATCH_ENDPOINTS:
            raise ParamError("endpoint", endpoint, ", ".join(BATCH_ENDPOINTS))
        body: dict[str, Any] = {"input_file_id": checked_id(input_file_id, "input_file_id"), "endpoint": endpoint,
                "completion_window": completion_window}
        if metadata:
            body["metadata"] = {str(k): str(v) for k, v in metadata.items()}
        return Batch.from_api(self._client.call("create_batch", json=body, retry=False).json())

    def retrieve(self, batch_id: str) -> Batch:
        return Batch.from_api(self._client.call("retrieve_batch", ids={"batch_id": batch_id}).json())

    def cancel(self, batch_id: str) -> Batch:
        return Batch.from_api(self._client.call("cancel_batch", ids={"batch_id": batch_id}).json())

    def list(self, *, limit: int = 100) -> Iterator[Batch]:
        """Every batch, newest first, page by page."""
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit}
            if after:
                params["after"] = after
            body = self._client.call("list_batches", params=params).json()
            data = body.get("data") or []
            for item in data:
                yield Batch.from_api(item)
            if not body.get("has_more") or not data:
                return
            after = data[-1].get("id")

    def find(self, **metadata: str) -> Batch | None:
        """The newest batch whose metadata holds all of ``metadata`` (to adopt one whose creation
        answer was lost), or None."""
        for batch in self.list():
            if all(batch.metadata.get(k) == str(v) for k, v in metadata.items()):
                return batch
        return None
