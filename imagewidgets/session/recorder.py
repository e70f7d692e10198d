"""How a request becomes a stored turn: replay lookup, budget, storing images as they arrive, the outcome.

``TurnRecorder`` is the session's collaborator for this: the session's verbs (``SessionCore.run``)
and the concurrent sweep both call its public ``begin`` -> ``save`` / ``consume`` -> ``finish`` or
``fail``; only sending differs between them.

    >>> turn = session.recorder.begin(req)                 # doctest: +SKIP
    >>> if turn.status != "replayed":
    ...     turn = session.recorder.finish(turn, client.run(req))
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable

from ..api.cost import estimate
from ..api.endpoints import endpoints
from ..api.requests import ImageRequest, ResponsesRequest
from ..api.results import CompletedEvent, ImageResult, ImageSet, PartialImageEvent, QueueEvent, StreamEvent
from ..api.streams import ImageStream
from ..api.validation import validate
from .budget import Budget
from .replay import replay_key, request_inputs, request_params
from .fidelity import EditCheck, checked
from .turns import Turn, new_turn_id, redact, this_process

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store
    from .tree import TurnTree

__all__ = ["TurnRecorder"]

#: endpoint name -> the kind of turn its requests record, from the endpoints' declarations
_KIND = {e.name: e.kind for e in endpoints() if e.kind}

OnEvent = Callable[[StreamEvent], object]


class TurnRecorder:
    """Records one session's requests as turns in its store and its tree, and keeps its budget:
    what requests in flight may cost is held from ``begin`` until ``finish`` or ``fail``."""

    def __init__(self, store: "Store", tree: "TurnTree", budget: Budget, *, name: str, backend: str,
                 secrets: Callable[[], tuple[str, ...]] = tuple) -> None:
        """``store`` and ``tree``: where turns go; ``budget``: what requests may hold; ``name`` and
        ``backend``: the session's; ``secrets``: what must never be stored (the client's key)."""
        self.store, self.tree, self.budget = store, tree, budget
        self.name, self.backend = name, backend
        self._secrets = secrets
        #: False: every request asks the API, even one the store could answer (``Session(replay=False)``)
        self.replay = True
        self._held: dict[str, tuple[float, float]] = {}  # turn id -> (dollars held, when it was sent)

    # -- the public steps ---------------------------------------------------------------------
    def begin(self, req: ImageRequest, parent: Turn | None = None, *, kind: str | None = None,
              refresh: bool = False, make_current: bool = True, on_event: OnEvent | None = None,
              reserved: float | None = None, group_id: str | None = None, key_extra: dict | None = None) -> Turn:
        """Validate; answer from the store when possible (a "replayed" turn, its images handed to
        ``on_event``); else check the budget and store a "running" turn. Nothing is sent here.

        ``reserved``: dollars already held for it (``reserve_all``); ``group_id``: the variants of one
        call share it; ``key_extra``: what the session does to the answer (part of the replay key)."""
        validate(req)
        key = replay_key(req, self.backend, key_extra)
        secrets = self.secrets()
        turn = Turn(
            id=new_turn_id(), session=self.name, kind=kind or _KIND.get(req.endpoint, "generate"),
            api="responses" if isinstance(req, ResponsesRequest) else "images",
            prompt=redact(getattr(req, "prompt", "") or None, secrets), parent_id=parent.id if parent else None,
            model=req.model, params=redact(request_params(req), secrets), inputs=request_inputs(req),
            created=time.time(), replay_key=key, backend=self.backend, owner=this_process(), group_id=group_id,
        )
        hit = self.stored_answer(req, key_extra, refresh=refresh, key=key)
        if hit is not None:
            if reserved:
                self._release(reserved)
            return self._replay(turn, hit, make_current, on_event)
        usd = self._reserve(req) if reserved is None else reserved
        try:
            self.store.save_turn(turn)
        except BaseException:
            self._release(usd)
            raise
        self.tree.add(turn)
        self._held[turn.id] = (usd, time.perf_counter())
        return turn

    def new_turn(self, req: ImageRequest, parent: Turn | None = None, *, kind: str | None = None,
                 turn_id: str | None = None) -> Turn:
        """The "running" turn ``req`` becomes, secrets cut out (not stored, nothing held)."""
        secrets = self.secrets()
        return Turn(
            id=turn_id or new_turn_id(), session=self.name, kind=kind or _KIND.get(req.endpoint, "generate"),
            api="responses" if isinstance(req, ResponsesRequest) else "images",
            prompt=redact(getattr(req, "prompt", "") or None, secrets), parent_id=parent.id if parent else None,
            model=req.model, params=redact(request_params(req), secrets), inputs=request_inputs(req),
            created=time.time(), replay_key=replay_key(req, self.backend), backend=self.backend, owner=this_process(),
        )

    def hold(self, usd: float) -> float:
        """Hold ``usd`` against the budget for work sent elsewhere (a batch job's whole estimate);
        ``BudgetExceededError`` when it does not fit. ``track`` hands each part to a turn."""
        return self.budget.hold(usd)

    @property
    def reserved(self) -> float:
        """Dollars held for requests in flight (``Budget.reserved``)."""
        return self.budget.reserved

    def track(self, turn: Turn, usd: float, sent_at: float) -> Turn:
        """A turn whose request went out another way (a line of a batch, sent at ``sent_at``, wall
        clock) and whose ``usd`` is already held: ``finish`` / ``fail`` record it and release it."""
        self.tree.add(turn)
        self._held[turn.id] = (usd, time.perf_counter() - max(0.0, time.time() - sent_at))
        return turn

    def save(self, turn: Turn, result: ImageResult, index: int, partial: bool = False) -> ImageResult:
        """Store one image of ``turn`` (atomically, with its metadata, secrets cut out) and return it stored."""
        secrets = self.secrets()
        result = result.with_meta(params=redact(result.params, secrets), prompt=redact(result.prompt, secrets),
                                  revised_prompt=redact(result.revised_prompt, secrets))
        return self.store.save_image(turn, result, index, partial=partial)

    def consume(self, turn: Turn, stream: ImageStream, on_event: OnEvent | None = None,
                cancel: threading.Event | None = None) -> tuple[list[ImageResult], str]:
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
                    self.save(turn, frame, 0, partial=True)
                elif isinstance(ev, CompletedEvent):
                    stored = self.save(turn, ev.result, len(completed))
                    completed.append(stored)
                    ev = CompletedEvent(result=stored, raw=ev.raw)
                elif not isinstance(ev, QueueEvent):  # the class's line is shown; other events are not
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

    def finish(self, turn: Turn, results: list[ImageResult], status: str = "completed", *,
               make_current: bool = True, check: EditCheck | None = None) -> Turn:
        """The outcome of a sent request: its images stored (those a stream stored already are kept),
        usage and cost from the answer, the budget hold released, the callbacks told. ``check``: a
        masked edit's fidelity check (``outside_mask_change``, ``keep_outside_mask``)."""
        usd, started = self._held.pop(turn.id, (0.0, time.perf_counter()))
        try:
            if check is not None and status == "completed":
                results = [checked(self, turn, r, i, check) for i, r in enumerate(results)]
            # streamed images were stored as they arrived; a plain answer's images are stored now
            results = [r if r.path is not None else self.save(turn, r, i) for i, r in enumerate(results)]
            images = self.store.load_images(turn) if status == "cancelled" else results
            first = images[0] if images else None
            turn.status = status
            turn.elapsed_s = time.perf_counter() - started
            turn.response_id = first.response_id if first else turn.response_id
            turn.call_id = first.call_id if first else turn.call_id
            turn.revised_prompt = redact(first.revised_prompt, self.secrets()) if first else None
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
            self.tree.make_current(turn)
        self.tree.notify(turn)
        return turn

    def park(self, turn: Turn, response_id: str) -> Turn:
        """A background Responses turn the server has queued: its response id stored (status
        ``background``) before anything waits for it, so a restarted kernel finds it (``Session.pending``)."""
        turn.response_id = response_id
        turn.status = "background"
        self.store.save_turn(turn)
        return turn

    def settle(self, turn: Turn, status: str, *, note: str | None = None, cost: float | None = None) -> Turn:
        """A turn that ended without images (a background turn cancelled on the server): its status,
        note and cost stored, the budget hold released, the callbacks told."""
        usd, started = self._held.pop(turn.id, (0.0, time.perf_counter()))
        turn.status, turn.note, turn.cost = status, note, cost
        try:
            self.store.save_turn(turn)
        finally:
            self._release(usd)
        self.tree.notify(turn)
        return turn

    def fail(self, turn: Turn, err: BaseException) -> None:
        """A request that failed: the error (secrets cut out) on the turn, any frames a stream
        stored kept, the budget hold released, the callbacks told."""
        usd, started = self._held.pop(turn.id, (0.0, time.perf_counter()))
        if _unreached(err) and self.store.has_packed() and not self.store.load_images(turn):
            # an unpacked notebook re-run where its backend cannot be reached: nothing was sent or
            # paid, and a shared store is not filled with failed turns (the error is still raised)
            try:
                self.store.forget_turn(turn.id)
                self.tree.discard(turn)
            finally:
                self._release(usd)
            return
        turn.status = "failed"
        turn.error = redact(f"{type(err).__name__}: {err}", self.secrets())
        turn.elapsed_s = time.perf_counter() - started
        try:
            # a stream cut mid-way: every frame that arrived is on disk; the turn keeps them
            turn.images = self.store.load_images(turn)
            if turn.images:
                turn.note = "the stream failed: the newest partial frame is kept"
            self.store.save_turn(turn)
        finally:
            self._release(usd)
        self.tree.notify(turn)

    def secrets(self) -> tuple[str, ...]:
        """What must never be stored: the API key of the session's client."""
        return self._secrets()

    # -- the budget and replays -----------------------------------------------------------------
    def reserve_all(self, reqs: list[ImageRequest], refresh: bool = False) -> list[float]:
        """Hold the estimate of every request that will be sent (replays are free) at once, or refuse
        them all before anything is sent; pass each share to ``begin(reserved=...)``."""
        usds = [0.0 if self.stored_answer(r, refresh=refresh) is not None else estimate(r).usd for r in reqs]
        self.budget.hold(sum(usds))
        return usds

    def stored_answer(self, req: ImageRequest, key_extra: dict | None = None, *, refresh: bool = False,
                      key: str | None = None) -> Turn | None:
        """The stored turn that answers ``req`` for free: one made by the identical request on this
        backend, else one restored from a pack (a shared notebook shows its pictures on any backend).
        None when ``refresh`` (or the session's ``replay=False``) asks for fresh pictures."""
        if refresh or not self.replay:
            return None
        hit = self.store.find_replay(key or replay_key(req, self.backend, key_extra))
        if hit is not None:
            return hit
        for backend in self.store.packed_backends():
            if backend != self.backend:
                hit = self.store.find_replay(replay_key(req, backend, key_extra), packed_only=True)
                if hit is not None:
                    return hit
        return None

    def release(self, usd: float) -> None:
        """Give back dollars held by ``reserve_all`` for a request that was never begun."""
        self._release(usd)

    def _reserve(self, req: ImageRequest) -> float:
        """Refuse, before anything is sent, a request whose estimate exceeds what is left."""
        return self.hold(estimate(req).usd)

    def _release(self, usd: float) -> None:
        self.budget.release(usd)

    def _replay(self, turn: Turn, hit: Turn, make_current: bool, on_event: OnEvent | None) -> Turn:
        turn.status, turn.replayed_from, turn.cost, turn.elapsed_s = "replayed", hit.id, 0.0, 0.0
        turn.response_id, turn.call_id, turn.revised_prompt, turn.usage = (
            hit.response_id, hit.call_id, hit.revised_prompt, hit.usage)
        self.store.save_turn(turn)
        self.store.link_images(turn, hit)
        turn.images = [img.with_meta(cost=0.0) for img in self.store.load_images(turn)]
        self.tree.add(turn)
        if make_current:
            self.tree.make_current(turn)
        if on_event is not None:
            for img in turn.images:
                on_event(CompletedEvent(result=img))
        self.tree.notify(turn)
        return turn


def _unreached(err: BaseException) -> bool:
    """A request that never reached its server: no connection (a timeout after sending may have been billed)."""
    from ..api.errors import APIConnectionError, APITimeoutError

    return isinstance(err, APIConnectionError) and not (isinstance(err, APITimeoutError) and err.sent)
