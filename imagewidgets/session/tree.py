"""``TurnTree``: one session's turns in memory, which one is current, and who hears of each stored turn.

The session core reads it (``turns``, ``current``, ``on_turn``); the recorder adds to it as turns
start, and tells it when a turn is stored or becomes current.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any, Callable

from .store import Store
from .turns import Turn

__all__ = ["TurnTree"]


class TurnTree:
    """The turns of session ``name`` in ``store``, in the order they started.

    The turns are read from the store when first asked for (``turns``), so opening a session of
    10,000 turns reads none of them; ``get`` reads one. ``by_id`` holds every turn met so far, one
    object per turn."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        self.lock = threading.RLock()  # a sweep adds turns from several tasks at once
        self._turns: list[Turn] = []
        self._loaded = False
        self.by_id: dict[str, Turn] = {}
        self.current_id: str | None = store.current_id(name)
        self.callbacks: list[Callable[[Turn], Any]] = []

    @property
    def turns(self) -> list[Turn]:
        """Every turn (read from the store on first use; sessions of the same name see each other's)."""
        with self.lock:
            if not self._loaded:
                self._turns = [self.by_id.setdefault(t.id, t) for t in self.store.turns(self.name)]
                self._loaded = True
            return self._turns

    def add(self, turn: Turn) -> None:
        """A turn that has started (or was replayed) joins the tree."""
        with self.lock:
            if turn.id not in self.by_id:
                self.by_id[turn.id] = turn
                if self._loaded:  # else the store has it, and ``turns`` reads it from there
                    self._turns.append(turn)

    def discard(self, turn: Turn) -> None:
        """A turn that is not kept (it never reached its server) leaves the tree."""
        with self.lock:
            self.by_id.pop(turn.id, None)
            if turn in self._turns:
                self._turns.remove(turn)

    def get(self, turn_id: str | None) -> Turn | None:
        """The turn with this id in this session (read from the store once when not met yet)."""
        if not turn_id:
            return None
        with self.lock:
            hit = self.by_id.get(turn_id)
            if hit is None and not self._loaded:
                found = self.store.turn(turn_id)
                if found is not None and found.session == self.name:
                    hit = self.by_id.setdefault(turn_id, found)
            return hit

    def make_current(self, turn: Turn) -> None:
        """The next edit continues from ``turn`` (remembered in the store, for the next process too)."""
        self.current_id = turn.id
        self.store.set_current(self.name, turn.id)

    @property
    def current(self) -> Turn | None:
        return self.get(self.current_id)

    @property
    def spent_usd(self) -> float:
        """Dollars spent by the turns (replayed turns cost nothing): one SQL sum over the store."""
        return self.store.ledger(self.name)[1]

    def notify(self, turn: Turn) -> None:
        """Tell every ``on_turn`` callback that ``turn`` is stored (completed, replayed, cancelled or failed)."""
        for cb in list(self.callbacks):
            try:
                cb(turn)
            except Exception as e:  # a display callback must not lose the user's image
                warnings.warn(f"on_turn callback {cb!r} failed: {e!r}", RuntimeWarning, stacklevel=2)
