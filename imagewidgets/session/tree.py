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
    """The turns of session ``name`` in ``store``, in the order they started."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        self.lock = threading.RLock()  # a sweep adds turns from several tasks at once
        self.turns: list[Turn] = store.turns(name)
        self.by_id: dict[str, Turn] = {t.id: t for t in self.turns}
        self.current_id: str | None = store.current_id(name)
        self.callbacks: list[Callable[[Turn], Any]] = []

    def add(self, turn: Turn) -> None:
        """A turn that has started (or was replayed) joins the tree."""
        with self.lock:
            if turn.id not in self.by_id:
                self.turns.append(turn)
                self.by_id[turn.id] = turn

    def get(self, turn_id: str) -> Turn | None:
        return self.by_id.get(turn_id)

    def make_current(self, turn: Turn) -> None:
        """The next edit continues from ``turn`` (remembered in the store, for the next process too)."""
        self.current_id = turn.id
        self.store.set_current(self.name, turn.id)

    @property
    def current(self) -> Turn | None:
        return self.by_id.get(self.current_id) if self.current_id else None

    @property
    def spent_usd(self) -> float:
        """Dollars spent by the turns (replayed turns cost nothing)."""
        with self.lock:
            return sum(t.cost or 0.0 for t in self.turns if t.status != "replayed")

    def notify(self, turn: Turn) -> None:
        """Tell every ``on_turn`` callback that ``turn`` is stored (completed, replayed, cancelled or failed)."""
        for cb in list(self.callbacks):
            try:
                cb(turn)
            except Exception as e:  # a display callback must not lose the user's image
                warnings.warn(f"on_turn callback {cb!r} failed: {e!r}", RuntimeWarning, stacklevel=2)
