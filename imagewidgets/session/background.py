"""``BackgroundTurn``: a Responses turn sent in background mode (``completion_window`` soonest, 2h or
8h). The server answers ``queued`` at once; the turn's response id is stored (status
``background``) before anything waits, so a restarted kernel picks it up where it was.

    >>> img = s.imagine("a lighthouse at dusk", api="responses", completion_window="2h")  # doctest: +SKIP
    >>> job = s.imagine("a harbour", api="responses", completion_window="8h", wait=False)  # returns at once
    >>> job.refresh()           # 'queued', 'in_progress', ... ; the images are stored when it completes
    >>> job.cancel()            # stop it on the server
    >>> Session("harbour").pending()          # after a restart: the background turns still out
    >>> Session("harbour").pending()[0].wait()

Cost: OpenAI's background guide prices the 2h and 8h windows 30% and 40% below standard model
token rates, but does not say that the image tool's tokens get the discount; none is assumed
(``Estimate.explain()`` says so) and the ledger records what ``tool_usage.image_gen`` reports.
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any

from ..api.decode import responses_response
from ..api.errors import APIError, NotFoundError
from ..api.results import ImageResult, ImageSet
from .turns import Turn

if TYPE_CHECKING:  # pragma: no cover
    from ..api.requests import ResponsesRequest
    from .core import SessionCore as Session

__all__ = ["BackgroundTurn", "POLL_S"]

#: polling: the first look after ``POLL_S[0]`` seconds, then each wait 1.5 times longer, at most ``POLL_S[1]``
POLL_S = (0.25, 10.0)
#: the server's statuses of a response that is still on its way
_WAITING = ("queued", "in_progress")


class BackgroundTurn:
    """One background Responses turn of a session: ``.refresh() .wait() .cancel()``, ``.turn``."""

    def __init__(self, session: "Session", turn: Turn, meta: dict | None = None) -> None:
        self.session = session
        self.turn = turn
        # what decoding the finished response needs; after a restart it is read from the stored turn
        self._meta = meta or {"model": turn.model, "prompt": turn.prompt, "params": dict(turn.params)}
        self.server_status = "queued" if turn.status == "background" else turn.status

    @classmethod
    def submit(cls, session: "Session", req: "ResponsesRequest", turn: Turn) -> "BackgroundTurn":
        """Send ``req`` (already begun as ``turn``) and store the response id the server answers with."""
        try:
            body, meta = session.client.submit(req)
            response_id = body.get("id") if isinstance(body, dict) else None
            if not isinstance(response_id, str):
                raise APIError("the server answered a background turn without a response id", body=body)
        except BaseException as e:
            session.recorder.fail(turn, e)
            raise
        session.recorder.park(turn, response_id)
        job = cls(session, turn, meta)
        job._settle(body)  # a server may answer completed at once
        return job

    @property
    def id(self) -> str:
        return self.turn.id

    @property
    def response_id(self) -> str | None:
        return self.turn.response_id

    @property
    def _rid(self) -> str:
        if not self.turn.response_id:  # a background turn is stored with its id: never sent without one
            raise APIError(f"turn {self.turn.id} has no response id to ask the server about")
        return self.turn.response_id

    @property
    def done(self) -> bool:
        return self.turn.status != "background"

    def refresh(self) -> str:
        """Ask the server once; store the images when it has completed. Returns the server's status."""
        if self.done:
            return self.server_status
        try:
            body = self.session.client.retrieve_response(self._rid)
        except NotFoundError as e:  # the server forgot it (expired, or an offline server without a state folder)
            self.session.recorder.fail(self.turn, e)
            self.server_status = "failed"
            return self.server_status
        self._settle(body)
        return self.server_status

    def wait(self, *, timeout_s: float | None = None, poll_s: tuple[float, float] = POLL_S) -> ImageResult | ImageSet | None:
        """Poll until the turn ends (waits grow from ``poll_s[0]`` to ``poll_s[1]`` seconds); its image(s),
        or None when it was cancelled. ``TimeoutError`` after ``timeout_s`` (the turn stays pending)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        pause = poll_s[0]
        while not self.done:
            if self.refresh() not in _WAITING:
                break
            if deadline is not None and time.monotonic() + pause > deadline:
                raise TimeoutError(f"background turn {self.turn.id} is still {self.server_status} after {timeout_s}s; "
                                   "it stays pending: wait() again later, or Session.pending()")
            time.sleep(pause)
            pause = min(poll_s[1], pause * 1.5)
        if self.turn.status == "failed":
            raise APIError(self.turn.error or f"background turn {self.turn.id} failed")
        return self.turn.result if self.turn.images else None

    def cancel(self) -> Turn:
        """Cancel it on the server (a turn that has already ended there is read and stored instead)."""
        if not self.done:
            self._settle(self.session.client.cancel_response(self._rid))
        return self.turn

    def _settle(self, body: dict[str, Any]) -> None:
        status = body.get("status") if isinstance(body, dict) else None
        self.server_status = status if isinstance(status, str) else "unknown"
        rec = self.session.recorder
        if status == "completed":
            try:
                results = responses_response(body, self._meta)
            except Exception as e:  # a blocked call, or a response without an image: a failed turn
                rec.fail(self.turn, e)
                return
            rec.finish(self.turn, results)
        elif status == "cancelled":
            rec.settle(self.turn, "cancelled", cost=0.0,
                       note="cancelled on the server before it finished: no image, nothing billed for it")
        elif status in ("failed", "incomplete"):
            found = body.get("error")
            err: dict = found if isinstance(found, dict) else {}
            rec.fail(self.turn, APIError(str(err.get("message") or f"the background response ended {status}")[:500],
                                         code=err.get("code") if isinstance(err.get("code"), str) else None))
        elif status not in _WAITING:
            rec.fail(self.turn, APIError(f"the server answered an unknown status {str(status)[:40]!r}"))

    def __repr__(self) -> str:
        return (f"<BackgroundTurn {self.turn.id} {self.server_status} response={self.turn.response_id} "
                f"prompt={(self.turn.prompt or '')[:40]!r}>")

    def _repr_html_(self) -> str:
        return (f"<div><b>background turn</b> {html.escape(self.turn.id)}: {html.escape(self.server_status)} "
                f"<span style='color:#777'>({html.escape(self.turn.prompt or '')[:80]})</span></div>")
