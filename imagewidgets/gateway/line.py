"""The proxy's way through the class's line (``queue.FairQueue``): a request waits its turn, is sent,
and goes back in line (never to the participant) when the upstream still answers 429 for its rate.

A streamed request that has to wait is answered at once with a stream whose first lines are SSE
comments saying its place, then the upstream's frames::

    : imagewidgets.queue {"position": 3, "eta_s": 40, "text": "3rd in line, about 40 s"}

Comments are skipped by every SSE reader (the openai SDK just waits); ``imagewidgets`` shows them.
A request that did not stream carries ``x-imagewidgets-queue: waited=12.3; position=3`` on its answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import TYPE_CHECKING, Any

import anyio
from starlette.responses import StreamingResponse

from ..api import _http
from ..api.endpoints import api_path
from .queue import QUEUE_HEADER, FairQueue, Ticket, place_text
from .relay import Call, RelayResponse
from .rules import Refusal

if TYPE_CHECKING:
    from starlette.requests import Request

    from .proxy import Gateway

__all__ = ["ticket_for", "send_in_line", "QueuedStream", "queue_header", "place_comment", "KEEPALIVE_S"]

log = logging.getLogger("imagewidgets.gateway")

#: a waiting stream says something at least this often, so proxies and clients keep it open
KEEPALIVE_S = 10.0


def ticket_for(queue: FairQueue, call: Call) -> Ticket:
    """What one request costs of the key's limits: a request, its images (``n``), its tokens (an upper
    bound: every character of text a token, the output image tokens of the size and quality asked)."""
    fields, q = call.fields, call.quote
    n = fields.get("n", 1) if q.endpoint != "responses" else 1
    try:
        n = max(1, min(10, int(n)))
    except (TypeError, ValueError):
        n = 1
    return queue.ticket(call.participant.id, call.participant.label, images=n, tokens=_tokens(call, n))


def _tokens(call: Call, n: int) -> int:
    from ..api.cost import output_tokens_for

    q = call.quote
    quality = q.asked.get("quality") if isinstance(q.asked.get("quality"), str) else None
    size = q.asked.get("size") if isinstance(q.asked.get("size"), str) else None
    try:
        out, _ = output_tokens_for(q.model or "gpt-image-2", quality if quality not in (None, "auto") else "high",
                                   size if size not in (None, "auto") else "1024x1536")
    except Exception:  # an unknown model or size: the text alone
        out = 0
    return q.text_chars + out * n


async def send_in_line(gateway: "Gateway", call: Call, ticket: Ticket, request: "Request", body: bytes,
                       on_place: Any = None) -> Any:
    """Wait in line, send, and on an upstream 429 for its rate go back in line; the upstream's answer
    (status and headers read, body not). Raises ``Refusal`` when the wait would pass ``max_wait_s``,
    and the connection errors of ``_http``."""
    queue = gateway.queue
    while True:
        call.stage = "before"  # in line: nothing sent, nothing to charge if the participant leaves
        await queue.wait(ticket, on_place)
        call.stage = "sending"
        upstream = await _http.open_upstream(gateway.client, "POST", api_path(request.url.path), content=body,
                                             headers=gateway.upstream_headers(request))
        call.stage = "answered"
        if upstream.status_code == 429 and await _is_rate_limit(upstream):
            log.info("%s %s: the image service answered 429; back in line", call.participant.label,
                     call.quote.endpoint)
            queue.requeue(ticket, 429, upstream.headers)  # refused for its rate: not made, not billed
            continue
        queue.answered(ticket, upstream.status_code, upstream.headers)
        return upstream


async def _is_rate_limit(upstream: Any) -> bool:
    """A 429 for the key's rate (worth waiting for), not for its money (``insufficient_quota``). The
    body is read here; a rate-limit answer is closed, a quota one is left readable for the participant."""
    try:
        content = await upstream.aread()
    except _http.CONNECTION_ERRORS:
        content = b""
    try:
        code = (json.loads(content).get("error") or {}).get("code")
    except (ValueError, AttributeError):
        code = None
    if code == "insufficient_quota":
        return False
    await upstream.aclose()
    return True


def queue_header(ticket: Ticket) -> dict[str, str]:
    """``x-imagewidgets-queue`` for an answer whose request waited (nothing for one that did not)."""
    if not ticket.first_position:
        return {}
    return {QUEUE_HEADER: f"waited={ticket.waited_s:.1f}; position={ticket.first_position}"}


def place_comment(position: int, eta_s: float) -> bytes:
    said = {"position": position, "eta_s": max(1, math.ceil(eta_s)), "text": place_text(position, eta_s)}
    return f": imagewidgets.queue {json.dumps(said)}\n\n".encode()


class QueuedStream(StreamingResponse):
    """A streamed request that waits in line: its place as SSE comments now, the upstream's frames (or
    an ``error`` event, the participant not charged) once it was sent. Ends exactly once."""

    def __init__(self, gateway: "Gateway", call: Call, ticket: Ticket, request: "Request", body: bytes) -> None:
        self.gateway, self.call, self.ticket = gateway, call, ticket
        self._args = (request, body)
        self.relay: RelayResponse | None = None
        self._sending: asyncio.Future | None = None
        self._ended = False
        super().__init__(self._stream(), status_code=200, media_type="text/event-stream",
                         headers={"x-imagewidgets-gateway": "class", "cache-control": "no-store"})

    async def _stream(self):
        places: asyncio.Queue = asyncio.Queue()
        sending = self._sending = asyncio.ensure_future(send_in_line(
            self.gateway, self.call, self.ticket, *self._args, on_place=lambda p, eta: places.put_nowait((p, eta))))
        try:
            while not sending.done():
                said = asyncio.ensure_future(places.get())
                done, _ = await asyncio.wait({sending, said}, timeout=KEEPALIVE_S,
                                             return_when=asyncio.FIRST_COMPLETED)
                if said in done:
                    yield place_comment(*said.result())
                else:
                    said.cancel()
                    if not done:
                        yield b": imagewidgets.queue waiting\n\n"
            try:
                upstream = sending.result()
            except Refusal as r:
                yield self._end(None, r.code or "refused", r.body()["error"])
                return
            except _http.CONNECTION_ERRORS as e:
                yield self._end(None, "upstream_unreachable", {
                    "message": f"The gateway could not reach the image service ({type(e).__name__}). You were "
                    "not charged; try again in a moment.", "type": "server_error", "param": None,
                    "code": "upstream_unreachable"})
                return
            if upstream.status_code >= 400:
                yield await self._upstream_error(upstream)
                return
            self.relay = RelayResponse(self.gateway, self.call, upstream)
            self._ended = True  # from here the relay's pump settles, releases or charges a cut stream
            self.gateway.spawn(self.relay.pump())
            async for chunk in self.relay.relay_chunks():
                yield chunk
        finally:
            if not sending.done():
                sending.cancel()

    async def _upstream_error(self, upstream: Any) -> bytes:
        content = await _http.read_error_body(upstream)
        try:
            error = json.loads(self.gateway.scrub(content)).get("error")
        except (ValueError, AttributeError):
            error = None
        if not isinstance(error, dict):
            error = {"message": f"The image service answered {upstream.status_code}.", "type": "server_error",
                     "param": None, "code": None}
        self.gateway.note_moderation(self.call, {"error": error})
        return self._end(upstream.status_code, f"upstream answered {upstream.status_code}", error)

    def _end(self, status: int | None, note: str, error: dict) -> bytes:
        """Release the reservation and the participant's slot; the ``error`` event that says why."""
        if self._ended:
            return b""
        self._ended = True
        self.gateway.store.release(self.call.ledger_id, status, note)
        self.gateway.limiter.release(self.call.participant.id)
        if self.call.quote.endpoint == "responses":
            data = {"type": "error", "code": error.get("code"), "message": error.get("message"),
                    "param": error.get("param"), "sequence_number": 0}
        else:
            data = {"type": "error", "error": error}
        return f"event: error\ndata: {json.dumps(data)}\n\n".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.relay is not None:
                self.relay.leave()  # the pump reads on for the usage, as for any stream cut (relay.py)
            elif not self._ended:
                # left in line: out of it, released; left as it was sent: the upstream may bill it,
                # charged the reservation (the proxy's rule for a request abandoned after forwarding)
                self._ended = True
                sending = self._sending
                if sending is not None and not sending.done():
                    sending.cancel()  # FairQueue.wait takes the ticket out of the line on cancel
                elif sending is not None and not sending.cancelled() and sending.exception() is None:
                    with anyio.CancelScope(shield=True):
                        await sending.result().aclose()
                self.gateway.abandon(self.call, asyncio.CancelledError())
                self.gateway.limiter.release(self.call.participant.id)
