"""How a request becomes a stored turn: replay lookup, budget, sending, streaming, storing.

The part of ``Session`` that both the one-at-a-time verbs and the concurrent sweep share
(``_begin`` -> send -> ``_finish`` / ``_fail``); only sending differs between them.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any, Callable

from ..api.cost import estimate
from ..api.errors import APIError, BudgetExceededError, NotFoundError
from .replay import replay_key, request_inputs, request_params
from ..api.requests import EditRequest, GenerateRequest, ImageInput, ResponsesRequest, VariationRequest
from ..api.results import CompletedEvent, ImageResult, ImageSet, PartialImageEvent
from ..api.streams import ImageStream
from .turns import Turn, new_turn_id, redact, this_process

__all__ = ["TurnRecorder"]

_KIND = {GenerateRequest: "generate", EditRequest: "edit", VariationRequest: "vary", ResponsesRequest: "respond"}


class TurnRecorder:
    """Mixin of ``Session``: expects ``name``, ``store``, ``client``, ``backend``, ``budget_usd``,
    ``spent_usd``, ``_lock``, ``_reserved``, ``_turns``, ``_by_id``, ``_callbacks``."""

    def _reserve(self, req: Any) -> float:
        """Refuse, before anything is sent, a request whose estimate exceeds what is left."""
        return self._reserve_usd(estimate(req).usd)

    def _reserve_usd(self, usd: float) -> float:
        """Hold ``usd`` against the budget (refused with ``BudgetExceededError`` when it does not fit)."""
        with self._lock:
            if self.budget_usd is not None:
                left = self.budget_usd - self.spent_usd - self._reserved
                if usd > left + 1e-12:
                    raise BudgetExceededError(usd, max(0.0, left), self.budget_usd)
            self._reserved += usd
        return usd


    def _send(self, req: Any, turn: Turn, parent: Turn | None) -> Any:
        try:
            return self.client.run(req)
        except APIError as e:
            # OpenAI answers 400 previous_response_not_found (some servers 404) for an expired response
            if not (isinstance(e, NotFoundError) or e.code == "previous_response_not_found"):
                raise
            retry = self._without_previous(req, turn, parent)
            if retry is None:
                raise
            return self.client.run(retry)

    def _without_previous(self, req: Any, turn: Turn, parent: Turn | None) -> Any:
        """The server no longer knows the previous response (expired, or a fresh offline server):
        continue by sending the parent's image instead."""
        if not isinstance(req, ResponsesRequest) or not req.previous_response_id or parent is None:
            return None
        img = parent.image
        if img is None:
            return None
        turn.note = (f"previous response {req.previous_response_id} was not found on the server; "
                     "continued by sending the parent turn's image")
        return req.replace(previous_response_id=None, input_images=(ImageInput.coerce(img),) + req.input_images)

    def _secrets(self) -> tuple[str, ...]:
        key = getattr(getattr(self.client, "config", None), "api_key", None)
        return (key.reveal(),) if key else ()

    def _begin(self, req: Any, parent: Turn | None, kind: str | None, refresh: bool,
               make_current: bool = True) -> tuple[Turn, float]:
        """Validate; answer from the store when possible; else check the budget and record a running turn."""
        req.validate()
        turn = self._new_turn(req, parent, kind)
        hit = None if refresh else self.store.find_replay(turn.replay_key)
        if hit is not None:
            return self._replay(turn, hit, make_current), 0.0
        usd = self._reserve(req)
        try:
            self.store.save_turn(turn)
        except BaseException:
            self._release(usd)
            raise
        self._add(turn)
        return turn, usd

    def _new_turn(self, req: Any, parent: Turn | None, kind: str | None, turn_id: str | None = None) -> Turn:
        """The running turn ``req`` becomes (not stored yet); the secrets cut out of what it records."""
        secrets = self._secrets()
        return Turn(
            id=turn_id or new_turn_id(), session=self.name, kind=kind or _KIND.get(type(req), "generate"),
            api="responses" if isinstance(req, ResponsesRequest) else "images",
            prompt=redact(getattr(req, "prompt", "") or None, secrets), parent_id=parent.id if parent else None,
            model=req.model, params=redact(request_params(req), secrets), inputs=request_inputs(req),
            created=time.time(), replay_key=replay_key(req, self.backend), backend=self.backend, owner=this_process(),
        )

    def _replay(self, turn: Turn, hit: Turn, make_current: bool = True) -> Turn:
        turn.status, turn.replayed_from, turn.cost, turn.elapsed_s = "replayed", hit.id, 0.0, 0.0
        turn.response_id, turn.call_id, turn.revised_prompt, turn.usage = (
            hit.response_id, hit.call_id, hit.revised_prompt, hit.usage)
        self.store.save_turn(turn)
        self.store.link_images(turn, hit)
        turn.images = [img.with_meta(cost=0.0) for img in self.store.load_images(turn)]
        self._add(turn)
        if make_current:
            self._made_current(turn)
        return turn

    def _emit_replay(self, turn: Turn, on_event: Callable | None) -> None:
        if on_event is not None:
            for img in turn.images:
                on_event(CompletedEvent(result=img))
        self._notify(turn)

    def _add(self, turn: Turn) -> None:
        with self._lock:
            if turn.id not in self._by_id:
                self._turns.append(turn)
                self._by_id[turn.id] = turn

    def _release(self, usd: float) -> None:
        with self._lock:
            self._reserved = max(0.0, self._reserved - usd)

    def _made_current(self, turn: Turn) -> None:
        self._current_id = turn.id
        self.store.set_current(self.name, turn.id)

    def _store_result(self, turn: Turn, result: ImageResult, index: int, partial: bool = False) -> ImageResult:
        result = result.with_meta(params=redact(result.params, self._secrets()))
        return self.store.save_image(turn, result, index, partial=partial)

    def _consume(self, stream: ImageStream, turn: Turn, on_event: Callable | None,
                 cancel: threading.Event | None) -> tuple[list[ImageResult], str]:
        """Iterate a stream, storing each partial frame and completed image as it arrives."""
        completed: list[ImageResult] = []
        done = threading.Event()
        if cancel is not None:  # close the connection as soon as cancel is set, even mid-read
            def watch() -> None:
                while not done.wait(0.05):
                    if cancel.is_set():
                        stream.close()
                        return
            threading.Thread(target=watch, name=f"cancel-{turn.id}", daemon=True).start()
        finished = False
        try:
            for ev in stream:
                if cancel is not None and cancel.is_set():
                    break
                if isinstance(ev, PartialImageEvent):
                    frame = ev.as_result(model=turn.model, prompt=turn.prompt)
                    self._store_result(turn, frame, 0, partial=True)
                elif isinstance(ev, CompletedEvent):
                    stored = self._store_result(turn, ev.result, len(completed))
                    completed.append(stored)
                    ev = CompletedEvent(result=stored, raw=ev.raw)
                else:
                    continue
                if on_event is not None:
                    on_event(ev)
            else:
                finished = True
        except Exception:
            if cancel is None or not cancel.is_set():
                raise
        finally:
            done.set()
            stream.close()
        if finished or (cancel is None or not cancel.is_set()):
            return completed, "completed"
        return completed, "cancelled"

    def _finish(self, turn: Turn, results: list[ImageResult], status: str, usd: float, elapsed: float,
                make_current: bool = True) -> Turn:
        try:
            # streamed images were stored as they arrived; a plain answer's images are stored now
            results = [r if r.path is not None else self._store_result(turn, r, i) for i, r in enumerate(results)]
            images = self.store.load_images(turn) if status == "cancelled" else results
            first = images[0] if images else None
            turn.status = status
            turn.elapsed_s = elapsed
            turn.response_id = first.response_id if first else turn.response_id
            turn.call_id = first.call_id if first else turn.call_id
            turn.revised_prompt = first.revised_prompt if first else None
            full = [r for r in images if not r.partial]
            turn.usage = ImageSet(full).usage if full else None
            turn.cost = ImageSet(full).cost if full else None
            if status == "cancelled" and turn.cost is None:
                turn.cost = usd
                turn.note = "cost estimated: the stream was cancelled before usage was reported"
            turn.images = images
            self.store.save_turn(turn)
            if status == "completed" and images:
                self.store.drop_partial(turn)
        finally:
            self._release(usd)
        if turn.images and make_current:
            self._made_current(turn)
        self._notify(turn)
        return turn

    def _fail(self, turn: Turn, err: BaseException, usd: float, elapsed: float) -> None:
        turn.status = "failed"
        turn.error = redact(f"{type(err).__name__}: {err}", self._secrets())
        turn.elapsed_s = elapsed
        try:
            # a stream cut mid-way: every frame that arrived is on disk; the turn keeps them
            turn.images = self.store.load_images(turn)
            if turn.images:
                turn.note = "the stream failed: the newest partial frame is kept"
            self.store.save_turn(turn)
        finally:
            self._release(usd)
        self._notify(turn)

    def _notify(self, turn: Turn) -> None:
        for cb in list(self._callbacks):
            try:
                cb(turn)
            except Exception as e:  # a display callback must not lose the user's image
                warnings.warn(f"on_turn callback {cb!r} failed: {e!r}", RuntimeWarning, stacklevel=2)
