"""The door of the offline server: request ids, the honesty header, the demo switches that act
before any route (API key, rate limits of requests and of images, scripted failures, latency), and
the request-body limits
(413 above ``max_body_mb``, 408 when the body has not arrived in ``body_timeout_s``). Pure ASGI,
so streams pass through untouched.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import threading
import time
import uuid
from collections import deque
from typing import Any

import anyio

from ..api.endpoints import endpoint, endpoints, is_api_url
from .config import OfflineConfig
from .parse import APIFailure

__all__ = ["Gate", "BACKEND_HEADER", "new_request_id", "ACCESS_LOG"]

BACKEND_HEADER = (b"x-imagewidgets-backend", b"offline-renderer")
#: one INFO line per answered request: method, path, status, milliseconds (to the last byte), request id.
#: ``imagewidgets serve`` prints it (unless --quiet); elsewhere nobody listens.
ACCESS_LOG = logging.getLogger("imagewidgets.offline.access")
_MAX_LOGGED_PATH = 200
#: the routes whose answers are images, counted by ``images_per_minute``
_IMAGE_PATHS = {e.url for e in endpoints() if e.cost}  # the priced endpoints (api/endpoints.py)
_N_FIELD = re.compile(rb'name="n"\r\n(?:[^\r\n]*\r\n)*\r\n(\d{1,3})\r\n')


def _printable(path: str) -> str:
    """A client's path as one safe log field: control characters escaped, long paths cut."""
    text = "".join(c if c.isprintable() and c != " " else f"\\x{ord(c):02x}" for c in path)
    return text if len(text) <= _MAX_LOGGED_PATH else text[:_MAX_LOGGED_PATH] + "…"


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex


def _redact(key: str) -> str:
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


class Gate:
    """Wraps the app: every answer gets ``x-request-id`` and ``x-imagewidgets-backend``; ``/v1/``
    requests first meet the API-key check, the rate limit, ``fail_first``/``fail_rate`` and the latency."""

    def __init__(self, app: Any, config: OfflineConfig) -> None:
        self.app = app
        self.config = config
        self._lock = threading.Lock()
        self._count = 0
        self._times: deque[float] = deque()
        self._images: deque[tuple[float, int]] = deque()  # (when, how many) inside the images window
        self._rng = random.Random(config.seed)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        extra = [(b"x-request-id", rid.encode()), BACKEND_HEADER]
        limit_headers: list[tuple[bytes, bytes]] = []
        started = time.perf_counter()
        status = [500]
        logged = [False]

        def log() -> None:
            if not logged[0] and ACCESS_LOG.isEnabledFor(logging.INFO):
                ms = (time.perf_counter() - started) * 1000
                ACCESS_LOG.info("%s %s %d %.0f ms %s", scope.get("method", "?"), _printable(scope.get("path", "")),
                                status[0], ms, rid)
            logged[0] = True

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *extra, *limit_headers]}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                log()  # a stream is logged when its last byte has left

        try:
            # uvicorn's h11 refuses a head that arrives in pieces beyond the limit; one that
            # arrives whole is measured here
            if _head_size(scope) > self.config.max_header_kb * 1024:
                await _send_failure(APIFailure(431, "The request line and headers are larger than this server "
                                               f"accepts ({self.config.max_header_kb} KB; imagewidgets serve "
                                               "--max-header).", code="request_header_fields_too_large",
                                               headers={"connection": "close"}), send_with_headers)
                return
            if is_api_url(scope["path"]):
                failure, limit_headers = self._admit(scope)
                if failure is not None:
                    await _send_failure(failure, send_with_headers)
                    return
            # the whole body is read here, within its limits, before any route sees it: a route
            # never meets a half-read body, and a refused one closes the connection cleanly
            body, failure = await _read_body(scope, receive, self.config)
            if failure is not None:
                await _send_failure(failure, send_with_headers)
                return
            if body is None:  # the client went away
                return
            if (self.config.images_per_minute is not None and scope.get("method") == "POST"
                    and scope["path"] in _IMAGE_PATHS):
                failure, image_headers = self._admit_images(_images_asked(scope["path"], body))
                limit_headers.extend(image_headers)
                if failure is not None:
                    await _send_failure(failure, send_with_headers)
                    return
            if is_api_url(scope["path"]) and self.config.latency_s > 0:
                await anyio.sleep(self.config.latency_s)
            await self.app(scope, _replay(body, receive), send_with_headers)
        finally:
            log()  # also when the client went away mid-stream or the app failed

    def _admit(self, scope: dict) -> tuple[APIFailure | None, list[tuple[bytes, bytes]]]:
        cfg = self.config
        if cfg.require_api_key is not None:
            auth = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            if not key:
                return APIFailure(
                    401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", code=None), []
            if key != cfg.require_api_key:
                return APIFailure(401, f"Incorrect API key provided: {_redact(key)}. The offline backend was "
                                  "started with --require-api-key.", code="invalid_api_key"), []
        with self._lock:
            headers: list[tuple[bytes, bytes]] = []
            if cfg.rate_limit is not None:
                now = time.monotonic()
                while self._times and self._times[0] <= now - cfg.rate_window_s:
                    self._times.popleft()
                reset = (self._times[0] + cfg.rate_window_s - now) if self._times else cfg.rate_window_s
                if len(self._times) >= cfg.rate_limit:
                    wait = max(1, math.ceil(reset))
                    headers = _limit_headers(cfg.rate_limit, 0, reset)
                    return APIFailure(
                        429, f"Rate limit reached for requests on the offline backend: limit {cfg.rate_limit} "
                        f"per {cfg.rate_window_s:g}s, used {len(self._times)}. Please try again in {wait}s.",
                        type="requests", code="rate_limit_exceeded",
                        headers={"retry-after": str(wait), "retry-after-ms": str(max(1, round(reset * 1000)))}), headers
                self._times.append(now)
                headers = _limit_headers(cfg.rate_limit, cfg.rate_limit - len(self._times), reset)
            self._count += 1
            count = self._count
            unlucky = cfg.fail_rate > 0 and self._rng.random() < cfg.fail_rate
        if count <= cfg.fail_first:
            return APIFailure(503, "The server is overloaded or not ready yet (offline backend: "
                              f"fail_first={cfg.fail_first}, this is request {count}).",
                              type="server_error", code="service_unavailable"), headers
        if unlucky:
            return APIFailure(500, "The server had an error while processing your request. Sorry about that! "
                              f"(offline backend: fail_rate={cfg.fail_rate:g})", type="server_error",
                              code=None), headers
        return None, headers


    def _admit_images(self, asked: int) -> tuple[APIFailure | None, list[tuple[bytes, bytes]]]:
        """Count ``asked`` images into the window, or refuse them as the API's images-per-minute limit does."""
        limit, window = self.config.images_per_minute or 0, self.config.rate_window_s
        with self._lock:
            now = time.monotonic()
            while self._images and self._images[0][0] <= now - window:
                self._images.popleft()
            used = sum(k for _, k in self._images)
            if used + asked > limit:
                # the wait until enough of the window's images have aged out to make room for these
                freed, wait = used, window
                for when, k in self._images:
                    freed -= k
                    if freed + asked <= limit:
                        wait = when + window - now
                        break
                wait = max(0.001, wait)
                headers = _limit_headers(limit, limit - used, wait, "images")
                return APIFailure(
                    429, f"Rate limit reached for images per minute (IPM) on the offline backend: Limit {limit}, "
                    f"Used {used}, Requested {asked}. Please try again in {wait:.3f}s.", type="images",
                    code="rate_limit_exceeded",
                    headers={"retry-after": str(max(1, math.ceil(wait))),
                             "retry-after-ms": str(max(1, math.ceil(wait * 1000)))}), headers
            self._images.append((now, asked))
            reset = (self._images[0][0] + window - now) if self._images else window
            return None, _limit_headers(limit, limit - used - asked, reset, "images")


def _images_asked(path: str, body: bytes) -> int:
    """How many images a request asks for: ``n`` of an Images API body (JSON or multipart), else 1."""
    if path == endpoint("responses").url:
        return 1
    n: Any = None
    if body[:1] == b"{":
        try:
            n = json.loads(body).get("n")
        except (ValueError, AttributeError):
            n = None
    else:
        found = _N_FIELD.search(body)
        n = int(found.group(1)) if found else None
    return n if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 10 else 1


def _head_size(scope: dict) -> int:
    """Bytes of the request line and headers, about as they came on the wire."""
    line = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string") or b"") + 16
    return line + sum(len(k) + len(v) + 4 for k, v in scope.get("headers") or [])


async def _read_body(scope: dict, receive: Any, cfg: OfflineConfig) -> tuple[bytes | None, APIFailure | None]:
    """The request body, or the failure that refuses it: 413 when it is (or says it will be)
    larger than ``max_body_mb``, 408 when it has not all arrived after ``body_timeout_s``."""
    limit = int(cfg.max_body_mb * 1024 * 1024)
    too_large = APIFailure(413, f"The request body is larger than this server accepts ({cfg.max_body_mb:g} MB; "
                           "imagewidgets serve --max-body raises it).", code="request_too_large",
                           headers={"connection": "close"})
    declared = dict(scope.get("headers") or []).get(b"content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            return None, APIFailure(400, "The Content-Length header is not a number.", code="invalid_request",
                                    headers={"connection": "close"})
        if int(declared) > limit:
            return None, too_large
    chunks: list[bytes] = []
    total = 0
    with anyio.move_on_after(cfg.body_timeout_s):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None, None
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                return None, too_large
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks), None
    return None, APIFailure(408, f"The request body did not arrive within {cfg.body_timeout_s:g} seconds.",
                            code="request_timeout", headers={"connection": "close"})


def _replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` that hands the app the body read already, then waits for the disconnect."""
    given = False

    async def replay() -> dict:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _limit_headers(limit: int, remaining: int, reset_s: float, what: str = "requests") -> list[tuple[bytes, bytes]]:
    return [
        (f"x-ratelimit-limit-{what}".encode(), str(limit).encode()),
        (f"x-ratelimit-remaining-{what}".encode(), str(max(0, remaining)).encode()),
        (f"x-ratelimit-reset-{what}".encode(), f"{max(0.0, reset_s):.3f}s".encode()),
    ]


async def _send_failure(failure: APIFailure, send: Any) -> None:
    body = json.dumps(failure.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in failure.headers.items()]
    await send({"type": "http.response.start", "status": failure.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
