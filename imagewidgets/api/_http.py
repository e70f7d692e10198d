"""The one module that imports the HTTP library.

We use **httpx2**, the maintained continuation of httpx (httpx has had no release since
0.28.1, Dec 2024) and the HTTP layer of the official openai SDK 3.x, so a notebook that has
both shares one stack. It carries httpx-sse's server-sent-events parser built in
(``httpx2.EventSource``), which is what we parse streams with. Switching back to httpx is
this file: ``import httpx`` and ``httpx_sse.EventSource``.
"""

from __future__ import annotations

import email.utils
import socket
import time

import httpx2 as httpx
from httpx2 import EventSource

__all__ = [
    "httpx",
    "EventSource",
    "MAX_EVENT_BYTES",
    "EventTooLarge",
    "event_source",
    "Response",
    "DEFAULT_TIMEOUT",
    "TIMEOUT_ERRORS",
    "SENT_TIMEOUT_ERRORS",
    "CONNECTION_ERRORS",
    "new_client",
    "new_async_client",
    "parse_retry_after",
    "new_upstream_client",
    "open_upstream",
    "passthrough",
]

#: An HTTP answer (the type the clients and streams hold).
Response = httpx.Response

#: Image generation can take up to two minutes: a generous read timeout, quick connects.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=180.0, write=60.0, pool=10.0)
TIMEOUT_ERRORS = (httpx.TimeoutException,)
#: the request went out whole and no answer came in time (connect/write/pool timeouts are before)
SENT_TIMEOUT_ERRORS = (httpx.ReadTimeout,)
CONNECTION_ERRORS = (httpx.TransportError,)  # connect errors, resets, protocol errors (timeouts checked first)

#: The largest server-sent event a stream may carry (64 MiB; ``api.streams`` re-exports it). One
#: event carries a whole image as base64, and the API's are photographs: a 1024x1024 PNG is
#: 1.5-2.5 MB; the largest picture, 3840x2160, even incompressible (4 bytes a pixel, 33.2 MB) is
#: 44.2 MB as base64, plus a few hundred bytes of JSON. httpx2's default (1 MiB) cut every stream
#: whose image was over ~786 KB. Still bounded: a server that never ends an event cannot fill the
#: memory; above the bound an event is not an image and is refused, naming it.
MAX_EVENT_BYTES = 64 * 1024 * 1024


class EventTooLarge(Exception):
    """A server-sent event grew past ``MAX_EVENT_BYTES`` (raised by the iterators of ``event_source``)."""


class _BoundedEvents:
    """``EventSource`` with ``MAX_EVENT_BYTES``, its size error raised as ``EventTooLarge``."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self._source = EventSource(response, max_event_size=limit)
        self.limit = limit

    def _too_large(self, e: Exception) -> Exception:
        # httpx2 says "Server-sent event exceeded the N byte limit."; its other SSEError is the content type
        if "exceeded" in str(e):
            return EventTooLarge(f"a server-sent event was larger than {self.limit:,} bytes "
                                 f"({self.limit / 2**20:.0f} MiB), more than any image the API makes "
                                 "(3840x2160 as base64 is at most 44.2 MB)")
        return e

    def __iter__(self):
        try:
            yield from self._source
        except httpx.SSEError as e:
            raise self._too_large(e) from e

    async def __aiter__(self):
        try:
            async for sse in self._source.__aiter__():
                yield sse
        except httpx.SSEError as e:
            raise self._too_large(e) from e


def event_source(response: httpx.Response, limit: int | None = None) -> _BoundedEvents:
    """The events of a ``text/event-stream`` answer, each at most ``limit`` bytes (default
    ``MAX_EVENT_BYTES``: the one bound every stream reader here uses)."""
    return _BoundedEvents(response, MAX_EVENT_BYTES if limit is None else limit)


#: The headers that identify the account: sent to the configured API origin and nowhere else.
CREDENTIAL_HEADERS = ("authorization", "openai-organization", "openai-project")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _credentials_hook(base_url: str, credentials: dict[str, str]):
    """A request hook (it runs for every hop, redirects included) that adds the credentials to
    requests for the API's own origin and strips them from any other: an image URL on a CDN or
    a redirect to another host never receives the key."""
    home = _origin(httpx.URL(base_url))

    def hook(request: httpx.Request) -> None:
        if _origin(request.url) == home:
            request.headers.update(credentials)
        else:
            for name in CREDENTIAL_HEADERS:
                request.headers.pop(name, None)

    return hook


def new_client(base_url: str, headers: dict, timeout, transport=None,
               credentials: dict[str, str] | None = None) -> httpx.Client:
    hook = _credentials_hook(base_url, credentials or {})
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=transport,
                        follow_redirects=True, event_hooks={"request": [hook]})


def new_async_client(base_url: str, headers: dict, timeout, transport=None,
                     credentials: dict[str, str] | None = None) -> httpx.AsyncClient:
    hook = _credentials_hook(base_url, credentials or {})

    async def async_hook(request: httpx.Request) -> None:
        hook(request)

    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, transport=transport,
                             follow_redirects=True, event_hooks={"request": [async_hook]})


def new_upstream_client(base_url: str, timeout=DEFAULT_TIMEOUT, max_connections: int = 100) -> httpx.AsyncClient:
    """The classroom gateway's client to its upstream: redirects not followed (a redirect must not
    carry the key elsewhere), no proxy settings from the environment, a pool sized for a class."""
    # idle connections are dropped after 2 s, before a server's own keep-alive timeout (uvicorn: 5 s)
    # closes them under a request that is just being sent
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections,
                          keepalive_expiry=2.0)
    # TCP_NODELAY: a request goes out as headers then body; with Nagle's algorithm the body waits for
    # the ACK of the headers, which the upstream delays (~40 ms a request on Linux)
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False,
                                         socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, follow_redirects=False, trust_env=False,
                             transport=transport)


async def open_upstream(client: httpx.AsyncClient, method: str, path: str, *, headers: dict[str, str],
                        content: bytes | None = None, params: dict | None = None) -> httpx.Response:
    """Send a request and return as soon as the status line and headers arrive; read the body with
    ``passthrough`` (or ``aread``), then ``aclose`` it."""
    request = client.build_request(method, path, headers=headers, content=content, params=params)
    try:
        return await client.send(request, stream=True)
    except httpx.RemoteProtocolError:
        # a kept-alive connection the server had just closed: it answered nothing, so nothing was
        # done; once more on a fresh connection
        return await client.send(request, stream=True)


async def passthrough(response: httpx.Response):
    """The body chunk by chunk, as the socket delivers it: nothing is collected before it is yielded.
    (Raw bytes: the gateway asks its upstream for ``Accept-Encoding: identity``.)"""
    async for chunk in response.aiter_raw():
        yield chunk


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
