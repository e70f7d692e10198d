"""The door of the offline server: request ids, the honesty header, and the demo switches that act
before any route (API key, rate limit, scripted failures, latency). Pure ASGI, so streams pass
through untouched.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
import uuid
from collections import deque
from typing import Any

import anyio

from .config import OfflineConfig
from .parse import APIFailure

__all__ = ["Gate", "BACKEND_HEADER", "new_request_id", "ACCESS_LOG"]

BACKEND_HEADER = (b"x-imagewidgets-backend", b"offline-renderer")
#: one INFO line per answered request: method, path, status, milliseconds (to the last byte), request id.
#: ``imagewidgets serve`` prints it (unless --quiet); elsewhere nobody listens.
ACCESS_LOG = logging.getLogger("imagewidgets.offline.access")
_MAX_LOGGED_PATH = 200


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
            if scope["path"].startswith("/v1/"):
                failure, limit_headers = self._admit(scope)
                if failure is not None:
                    await _send_failure(failure, send_with_headers)
                    return
                if self.config.latency_s > 0:
                    await anyio.sleep(self.config.latency_s)
            await self.app(scope, receive, send_with_headers)
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


def _limit_headers(limit: int, remaining: int, reset_s: float) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-ratelimit-limit-requests", str(limit).encode()),
        (b"x-ratelimit-remaining-requests", str(max(0, remaining)).encode()),
        (b"x-ratelimit-reset-requests", f"{max(0.0, reset_s):.3f}s".encode()),
    ]


async def _send_failure(failure: APIFailure, send: Any) -> None:
    body = json.dumps(failure.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in failure.headers.items()]
    await send({"type": "http.response.start", "status": failure.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
