"""The one module that imports the HTTP library.

We use **httpx2**, the maintained continuation of httpx (httpx has had no release since
0.28.1, Dec 2024) and the HTTP layer of the official openai SDK 3.x, so a notebook that has
both shares one stack. It carries httpx-sse's server-sent-events parser built in
(``httpx2.EventSource``), which is what we parse streams with. Switching back to httpx is
this file: ``import httpx`` and ``httpx_sse.EventSource``.
"""

from __future__ import annotations

import email.utils
import time

import httpx2 as httpx
from httpx2 import EventSource

__all__ = [
    "httpx",
    "EventSource",
    "Response",
    "DEFAULT_TIMEOUT",
    "TIMEOUT_ERRORS",
    "SENT_TIMEOUT_ERRORS",
    "CONNECTION_ERRORS",
    "new_client",
    "new_async_client",
    "parse_retry_after",
]

#: An HTTP answer (the type the clients and streams hold).
Response = httpx.Response

#: Image generation can take up to two minutes: a generous read timeout, quick connects.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=180.0, write=60.0, pool=10.0)
TIMEOUT_ERRORS = (httpx.TimeoutException,)
#: the request went out whole and no answer came in time (connect/write/pool timeouts are before)
SENT_TIMEOUT_ERRORS = (httpx.ReadTimeout,)
CONNECTION_ERRORS = (httpx.TransportError,)  # connect errors, resets, protocol errors (timeouts checked first)


def new_client(base_url: str, headers: dict, timeout, transport=None) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=transport,
                        follow_redirects=True)


def new_async_client(base_url: str, headers: dict, timeout, transport=None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, transport=transport,
                             follow_redirects=True)


def parse_retry_after(headers) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms``."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())
