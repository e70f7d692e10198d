"""A stream forwarded chunk by chunk as the upstream sends it, watched on the side by an ``SSETap``, and
settled (or released, with an ``error`` event for the participant) exactly once at its end.

A stream the participant cuts (closes it, loses the connection) is not free: the upstream has the
request and bills it. The upstream is read by its own task (the *pump*), which goes on after the
participant has left, up to ``DRAIN_S``: the stream is charged from the usage the upstream reports
when its last word (the completed Response, every image asked for) arrives, or the whole
reservation when it does not (it breaks off, or takes longer)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from starlette.responses import StreamingResponse

from ..api import _http
from .pricing import Quote
from .store import Participant
from .tap import SSETap

if TYPE_CHECKING:
    from .proxy import Gateway

__all__ = ["Call", "RelayResponse", "DRAIN_S"]

#: how long the upstream of a stream the participant left is still read, for its usage
DRAIN_S = 120.0
#: chunks held for a participant who reads slower than the upstream sends (then the upstream waits)
_QUEUE_CHUNKS = 64

log = logging.getLogger("imagewidgets.gateway")


@dataclass
class Call:
    """One metered request in flight: who, what was quoted, the ledger row."""

    participant: Participant
    quote: Quote
    ledger_id: int
    fields: dict
    #: what the ledger row holds against the budget (the quote times the class's margin)
    reserved_usd: float = 0.0
    #: "before" forwarding, "sending" (the upstream may have it), "answered" (its status line came)
    stage: str = "before"
    started: float = field(default_factory=time.monotonic)


class RelayResponse(StreamingResponse):
    """A stream forwarded chunk by chunk. The pump reads the upstream into a small queue the
    participant's response drains; whatever happens (end, break, participant gone), ``_finish`` runs
    exactly once, when the upstream is done: settle if an image was completed; if the participant
    left before the end arrived, charge the reservation; if the upstream broke off, release and
    tell the participant."""

    def __init__(self, gateway: "Gateway", call: Call, upstream: Any) -> None:
        self.gateway = gateway
        self.call = call
        self.upstream = upstream
        self.tap = SSETap()
        self._done = False
        self._left = False
        self._left_at = 0.0
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(_QUEUE_CHUNKS)
        super().__init__(self.relay_chunks(), status_code=upstream.status_code, headers=gateway.answer_headers(upstream),
                         media_type=None)

    async def relay_chunks(self):
        while (chunk := await self._queue.get()) is not None:
            yield chunk

    async def pump(self) -> None:
        """Read the upstream to its end (or ``DRAIN_S`` after the participant left), feeding the tap;
        the chunks go to the participant while they are there."""
        why, tail = "the stream ended", None
        try:
            try:
                async for chunk in _http.passthrough(self.upstream):
                    self.tap.feed(chunk)
                    if not self._left:
                        await self._queue.put(self.gateway.scrub(chunk))
                    elif time.monotonic() > self._left_at + DRAIN_S:
                        why = f"no end within {DRAIN_S:g} s after the participant left"
                        break
            except _http.CONNECTION_ERRORS as e:
                why = type(e).__name__
            tail = self._finish(why, cut=self._left)
        finally:  # a cancellation (the gateway stops) or a crash closes the row too: the reservation
            self._finish("the gateway stopped the stream", cut=True)
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()
                if not self._left:  # the participant is still reading: the last words, then the end
                    if tail:
                        await self._queue.put(tail)
                    await self._queue.put(None)

    def leave(self) -> None:
        """The participant is gone: the pump stops queueing (and is not kept waiting on a full queue)."""
        if not self._left:
            self._left, self._left_at = True, time.monotonic()
            while not self._queue.empty():
                self._queue.get_nowait()

    def _complete(self) -> bool:
        """The upstream's last word arrived: the completed Response, or every image asked for."""
        if self.call.quote.endpoint == "responses":
            return self.tap.response is not None
        n = self.call.fields.get("n", 1)
        try:
            wanted = max(1, int(n))
        except (TypeError, ValueError):
            wanted = 1
        return self.tap.completed_images >= wanted

    def _finish(self, why: str, *, cut: bool = False) -> bytes | None:
        """Settle or release; for a stream that broke off, the error event to send last."""
        if self._done:
            return None
        self._done = True
        gw, call, tap = self.gateway, self.call, self.tap
        gw.limiter.release(call.participant.id)
        gw.note_moderation(call, tap.response if tap.response is not None else {"error": tap.error})
        if tap.error is not None and not tap.finished:  # the upstream said what went wrong: not billed
            gw.store.release(call.ledger_id, self.upstream.status_code, "upstream error event")
            return None
        if cut and not self._complete():  # the upstream had it and gave no end: the reservation is the charge
            if tap.response_id and isinstance(tap.response_id, str):
                gw.store.own(call.participant.id, "response", tap.response_id,
                             {"text_chars": call.quote.text_chars, "images": call.quote.images})
            gw.store.settle(call.ledger_id, call.reserved_usd, self.upstream.status_code,
                            f"stream cut before its end ({why}): charged the reservation")
            log.info("%s %s stream cut: charged the reservation $%.4f", call.participant.label,
                     call.quote.endpoint, call.reserved_usd)
            return None
        if tap.finished:  # an image was delivered: charge what the usage says
            gw.settle(call, {"quality": call.fields.get("quality"), "size": call.fields.get("size")},
                       tap.response, self.upstream.status_code, tap)
            return None
        gw.store.release(call.ledger_id, self.upstream.status_code, f"stream broke off ({why})")
        log.info("%s %s stream broke off: not charged", call.participant.label, call.quote.endpoint)
        message = ("The image service's stream broke off before your image was finished. You were not "
                   "charged; run the cell again.")
        data: dict[str, Any]
        if call.quote.endpoint == "responses":
            data = {"type": "error", "code": "stream_interrupted", "message": message, "param": None,
                    "sequence_number": tap.last_sequence_number + 1}
        else:
            data = {"type": "error", "error": {"message": message, "type": "server_error", "param": None,
                                               "code": "stream_interrupted"}}
        return f"event: error\ndata: {json.dumps(data)}\n\n".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.gateway.spawn(self.pump())
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.leave()  # after the end too: nothing more is queued for anyone
