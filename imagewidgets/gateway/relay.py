"""A stream forwarded chunk by chunk as the upstream sends it, watched on the side by an ``SSETap``, and
settled (or released, with an ``error`` event for the participant) exactly once at its end."""

from __future__ import annotations

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

__all__ = ["Call", "RelayResponse"]

log = logging.getLogger("imagewidgets.gateway")


@dataclass
class Call:
    """One metered request in flight: who, what was quoted, the ledger row."""

    participant: Participant
    quote: Quote
    ledger_id: int
    fields: dict
    started: float = field(default_factory=time.monotonic)


class RelayResponse(StreamingResponse):
    """A stream forwarded chunk by chunk. Whatever happens (end, break, participant gone), ``_finish``
    runs exactly once: settle if an image was completed, else release and tell the participant."""

    def __init__(self, gateway: "Gateway", call: Call, upstream: Any) -> None:
        self.gateway = gateway
        self.call = call
        self.upstream = upstream
        self.tap = SSETap()
        self._done = False
        super().__init__(self._relay(), status_code=upstream.status_code, headers=gateway._answer_headers(upstream),
                         media_type=None)

    async def _relay(self):
        broke = None
        try:
            async for chunk in _http.passthrough(self.upstream):
                self.tap.feed(chunk)
                yield self.gateway._scrub(chunk)
        except _http.CONNECTION_ERRORS as e:
            broke = type(e).__name__
        tail = self._finish(broke or "the stream ended")
        if tail:
            yield tail

    def _finish(self, why: str) -> bytes | None:
        """Settle or release; for a stream that broke off, the error event to send last."""
        if self._done:
            return None
        self._done = True
        gw, call, tap = self.gateway, self.call, self.tap
        gw.limiter.release(call.participant.id)
        gw.note_moderation(call, tap.response if tap.response is not None else {"error": tap.error})
        if tap.finished:  # an image was delivered: charge what the usage says
            gw._settle(call, {"quality": call.fields.get("quality"), "size": call.fields.get("size")},
                       tap.response, self.upstream.status_code, tap)
            return None
        if tap.error is not None:  # the upstream said what went wrong, and the participant has read it
            gw.store.release(call.ledger_id, self.upstream.status_code, "upstream error event")
            return None
        gw.store.release(call.ledger_id, self.upstream.status_code, f"stream broke off ({why})")
        log.info("%s %s stream broke off: not charged", call.participant.label, call.quote.endpoint)
        message = ("The image service's stream broke off before your image was finished. You were not "
                   "charged; run the cell again.")
        if call.quote.endpoint == "responses":
            data = {"type": "error", "code": "stream_interrupted", "message": message, "param": None,
                    "sequence_number": tap.last_sequence_number + 1}
        else:
            data = {"type": "error", "error": {"message": message, "type": "server_error", "param": None,
                                               "code": "stream_interrupted"}}
        return f"event: error\ndata: {json.dumps(data)}\n\n".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._finish("the participant left")  # no-op when the stream already finished
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()
