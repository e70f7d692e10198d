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
    "Response",
    "DEFAULT_TIMEOUT",
    "TIMEOUT_ERRORS",
    "SENT_TIMEOUT_ERRORS",
    "CONNECTION_ERRORS",
    "new_client",
    "new_async_client",
    "parse_retry_after",
    "sse_events",
    "asse_events",
    "QUEUE_EVENT",
    "new_upstream_client",
    "open_upstream",
    "read_error_body",
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
    """A server-sent event grew past ``MAX_EVENT_BYTES`` (raised by ``sse_events`` / ``asse_events``)."""


def _too_large(limit: int) -> EventTooLarge:
    return EventTooLarge(f"a server-sent event was larger than {limit:,} bytes ({limit / 2**20:.0f} MiB), "
                         "more than any image the API makes (3840x2160 as base64 is at most 44.2 MB)")


def _bounded(e: Exception, limit: int) -> Exception:
    # httpx2 says "Server-sent event exceeded the N byte limit."; its other SSEError is the content type
    return _too_large(limit) if "exceeded" in str(e) else e


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


async def read_error_body(response: httpx.Response) -> bytes:
    """An error answer's body, read whole and closed; empty when the connection broke while it was
    read (the error is reported whatever its body held)."""
    try:
        return await response.aread()
    except CONNECTION_ERRORS:
        return b""
    finally:
        await response.aclose()


async def passthrough(response: httpx.Response):
    """The body chunk by chunk, as the socket delivers it: nothing is collected before it is yielded.
    (Raw bytes: the gateway asks its upstream for ``Accept-Encoding: identity``.)"""
    async for chunk in response.aiter_raw():
        yield chunk


#: the name given to the class gateway's ``: imagewidgets.queue {...}`` comments (its line, gateway/line.py)
QUEUE_EVENT = "imagewidgets.queue"
_QUEUE_COMMENT = ": imagewidgets.queue {"


class _QueueComments:
    """Lets every line through to the SSE parser, the gateway's queue comments turned into events of
    their own (``event: imagewidgets.queue``): other readers drop comments, as SSE says."""

    def __init__(self, limit: int) -> None:
        self._tail: list[str] = []
        self._held = 0
        self._limit = limit

    def __call__(self, text: str) -> str:
        if "\n" not in text:  # a piece of a long line (a frame's base64): held until its end arrives
            self._tail.append(text)
            self._held += len(text)
            if self._held > self._limit:  # a line that never ends is bounded here, before the parser
                raise _too_large(self._limit)
            return ""
        self._held = 0
        head, _, rest = ("".join(self._tail) + text).rpartition("\n")
        self._tail = [rest] if rest else []
        if _QUEUE_COMMENT in head:
            head = "\n".join(f"event: {QUEUE_EVENT}\ndata: {line[len(_QUEUE_COMMENT) - 1:]}"
                             if line.startswith(_QUEUE_COMMENT) else line for line in head.split("\n"))
        return head + "\n"

    def flush(self) -> str:
        return "".join(self._tail)


def sse_events(response: Response, max_event_size: int | None = None):
    """The server-sent events of ``response``, the gateway's queue comments among them (``QUEUE_EVENT``);
    an event larger than ``max_event_size`` bytes (default ``MAX_EVENT_BYTES``) is ``EventTooLarge``."""
    limit = MAX_EVENT_BYTES if max_event_size is None else max_event_size
    comments = _QueueComments(limit)

    def text():
        for chunk in response.iter_text():
            passed = comments(chunk)
            if passed:
                yield passed
        yield comments.flush()

    def events():
        try:
            yield from EventSource(_TextOnly(response, text()), max_event_size=limit)
        except httpx.SSEError as e:
            raise _bounded(e, limit) from e

    return events()


def asse_events(response: Response, max_event_size: int | None = None):
    """``sse_events`` for an async response."""
    limit = MAX_EVENT_BYTES if max_event_size is None else max_event_size
    comments = _QueueComments(limit)

    async def text():
        async for chunk in response.aiter_text():
            passed = comments(chunk)
            if passed:
                yield passed
        yield comments.flush()

    async def events():
        try:
            async for sse in EventSource(_TextOnly(response, text()), max_event_size=limit):
                yield sse
        except httpx.SSEError as e:
            raise _bounded(e, limit) from e

    return events()


class _TextOnly:
    """The response as ``EventSource`` reads it (headers, request, text), its text filtered first."""

    def __init__(self, response: Response, text) -> None:
        self._response, self._text = response, text
        self.headers, self.request = response.headers, response.request

    def iter_text(self):
        return self._text

    def aiter_text(self):
        return self._text


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
