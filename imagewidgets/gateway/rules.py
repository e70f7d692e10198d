"""What the class may do (``ClassRules``), how fast each participant may go (``Limiter``), and the
refusals a participant reads (``Refusal``: the API's error shape, in words a participant understands).

    >>> rules = ClassRules(models=("gpt-image-2",), qualities=("low", "medium"), total_cap_usd=50)
    >>> print(rules.check({"model": "gpt-image-2", "quality": "high"}).message)
    This class may use quality 'low' or 'medium'; your request asked for 'high'. Change quality and run it again.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ClassRules", "Limiter", "Refusal"]


@dataclass
class Refusal(Exception):
    """An answer the gateway gives instead of forwarding: status + the API's ``{"error": {...}}`` body."""

    status: int
    message: str
    code: str | None = None
    type: str = "invalid_request_error"
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def content(self) -> bytes:
        return json.dumps(self.body()).encode()


def _listing(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


@dataclass(frozen=True)
class ClassRules:
    """The teacher's rules. Empty allow-lists allow everything; limits of None are off."""

    models: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    qualities: tuple[str, ...] = ()
    #: the whole class may spend at most this much (USD), all participants together
    total_cap_usd: float | None = None
    #: each participant: at most this many requests a minute ...
    requests_per_minute: int | None = 10
    #: ... and this many at the same time
    concurrent: int | None = 2
    #: reservations are the estimate times this (1.0: the estimate, already an upper bound)
    reserve_margin: float = 1.0

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict | None) -> "ClassRules":
        d = dict(d or {})
        for k in ("models", "sizes", "qualities"):
            d[k] = tuple(d.get(k) or ())
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(cls)}})

    def check(self, asked: dict[str, Any]) -> Refusal | None:
        """``asked``: the image model, size and quality of a request (as on the wire, a param name for each)."""
        for name, allowed in (("model", self.models), ("size", self.sizes), ("quality", self.qualities)):
            value = asked.get(name)
            if not allowed:
                continue
            param = asked.get(f"{name}_param", name)
            if value is None and name != "model":
                continue  # the model's default: the estimate covers it; the teacher can list it
            if value not in allowed:
                what = {"model": "the model", "size": "size", "quality": "quality"}[name]
                asked_for = repr(value) if value is not None else "no model (the server's default)"
                return Refusal(400, f"This class may use {what} {_listing(allowed)}; your request asked for "
                               f"{asked_for}. Change {param} and run it again.",
                               code=f"{name}_not_allowed", param=param)
        return None


class Limiter:
    """Per participant: requests in the last minute and requests in flight, in memory (they reset
    with the gateway, the money does not)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: dict[int, deque[float]] = {}
        self._active: dict[int, int] = {}

    def acquire(self, participant_id: int, rules: ClassRules) -> None:
        """Count a request in, or raise ``Refusal`` (429 with Retry-After)."""
        now = time.monotonic()
        with self._lock:
            active = self._active.get(participant_id, 0)
            if rules.concurrent is not None and active >= rules.concurrent:
                raise Refusal(429, f"You already have {active} request(s) running (this class allows "
                              f"{rules.concurrent} at a time). Wait for one to finish.",
                              code="too_many_concurrent_requests", type="requests", headers={"retry-after": "1"})
            recent = self._recent.setdefault(participant_id, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if rules.requests_per_minute is not None and len(recent) >= rules.requests_per_minute:
                wait = max(1, math.ceil(recent[0] + 60 - now))
                raise Refusal(429, f"Slow down: this class allows {rules.requests_per_minute} requests a minute "
                              f"each. Try again in {wait}s.", code="rate_limit_exceeded", type="requests",
                              headers={"retry-after": str(wait)})
            recent.append(now)
            self._active[participant_id] = active + 1

    def release(self, participant_id: int) -> None:
        with self._lock:
            self._active[participant_id] = max(0, self._active.get(participant_id, 0) - 1)

    def active(self, participant_id: int) -> int:
        return self._active.get(participant_id, 0)
