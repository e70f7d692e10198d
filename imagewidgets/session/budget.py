"""A session's spending limit, checked in one place: what its turns spent, what requests in flight
hold, and whether more fits.

    >>> s = Session("poster", budget_usd=2.0)                      # doctest: +SKIP
    >>> s.budget.left                                              # dollars not spent nor held
    2.0
    >>> s.budget.hold(0.5)        # BudgetExceededError when it does not fit; release() gives it back
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api.errors import BudgetExceededError

if TYPE_CHECKING:  # pragma: no cover
    from .tree import TurnTree

__all__ = ["Budget"]


class Budget:
    """``limit_usd`` (None: no limit) against what the tree's turns spent and ``reserved``, the
    estimates held for requests in flight (a sweep's, a batch job's). Held under the tree's lock, so
    concurrent requests cannot together exceed the limit."""

    def __init__(self, limit_usd: float | None, tree: "TurnTree") -> None:
        self.limit_usd = limit_usd
        self.reserved = 0.0
        self._tree = tree

    @property
    def spent_usd(self) -> float:
        return self._tree.spent_usd

    @property
    def left(self) -> float | None:
        """Dollars neither spent nor held (None: no limit)."""
        if self.limit_usd is None:
            return None
        return max(0.0, self.limit_usd - self.spent_usd - self.reserved)

    def check(self, need: float) -> None:
        """``BudgetExceededError`` when ``need`` does not fit in what is left (nothing is held)."""
        if self.limit_usd is None:
            return
        left = self.limit_usd - self.spent_usd - self.reserved
        if need > left + 1e-12:
            raise BudgetExceededError(need, max(0.0, left), self.limit_usd)

    def hold(self, usd: float) -> float:
        """Hold ``usd`` for a request about to be sent, or refuse it before anything is sent."""
        with self._tree.lock:
            self.check(usd)
            self.reserved += usd
        return usd

    def release(self, usd: float) -> None:
        """Give back what a request held (its answer is recorded, or it was never sent)."""
        with self._tree.lock:
            self.reserved = max(0.0, self.reserved - usd)
