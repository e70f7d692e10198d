"""The class's line in front of the teacher's key: requests beyond the key's limits wait here and are
forwarded when there is room, one participant at a time round-robin, so one burst cannot starve others.

    >>> line = FairQueue(lambda: KeyLimits(images_per_minute=20))
    >>> ticket = line.ticket(participant_id=7, label="p07", images=1)
    >>> await line.wait(ticket)          # returns at once while there is room   # doctest: +SKIP
    >>> line.answered(ticket, upstream.status_code, upstream.headers)             # doctest: +SKIP

The limits are the teacher's (``--images-per-minute``, ``--key-requests-per-minute``,
``--tokens-per-minute``) and what the upstream says of the key: ``x-ratelimit-limit-*`` lower them,
``x-ratelimit-remaining-* = 0`` with ``x-ratelimit-reset-*`` and a 429's ``Retry-After`` stop the line
until then. A request the upstream still answers 429 goes back to the head of its participant's line
(the proxy asks ``requeue``): the participant never sees the upstream's 429, only a wait. A wait
beyond ``max_wait_s`` is refused at once with an API-shaped 429 naming it (``Refusal``).

With no limit known and nobody waiting, ``wait`` returns without awaiting anything: the line costs a
request a few dictionary look-ups.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from ..api.results import QueueEvent, ordinal
from .rules import Refusal

__all__ = ["KeyLimits", "FairQueue", "Ticket", "QUEUE_HEADER", "ordinal", "place_text"]

#: the answer's header saying how long a request waited in line (``waited=12.3; position=3``)
QUEUE_HEADER = "x-imagewidgets-queue"
_KINDS = ("requests", "images", "tokens")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
#: dispatches remembered for the dashboard and the fairness test
_LOG_SIZE = 10_000
#: the upstream counts a request when it arrives, somewhat after it was sent: a slot counts from when
#: its answer's headers came (the arrival was before), up to this share of the window after sending
#: (a long render must not hold a slot for its whole length); without it the next round, sent the
#: moment the window frees here, reaches the upstream before its own window has freed
_ARRIVAL_SHARE = 0.1
#: a change of the teacher's settings acts within this many seconds
_SETTINGS_TTL_S = 0.5


@dataclass(frozen=True)
class KeyLimits:
    """The teacher's limits of the key (None: not set; the upstream's headers may still set one)."""

    images_per_minute: int | None = None
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    #: a participant waits at most this long; beyond it the answer is a 429 naming the wait
    max_wait_s: float = 120.0
    #: the length of the "minute" (shorter only to rehearse or test with a compressed clock)
    window_s: float = 60.0

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict | None) -> "KeyLimits":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (d or {}).items() if k in known})

    def set(self) -> dict[str, int]:
        given = {"requests": self.requests_per_minute, "images": self.images_per_minute,
                 "tokens": self.tokens_per_minute}
        return {k: v for k, v in given.items() if v}


@dataclass(eq=False)
class Ticket:
    """One request in line: who, what it costs of each limit, and since when it waits."""

    participant_id: int
    label: str
    cost: dict[str, int]
    entered: float = field(default_factory=time.monotonic)
    seq: int = 0
    #: set when the line lets the request go
    granted: asyncio.Future | None = None
    #: where it stood when it first had to wait (1: next), and how long it waited in all
    first_position: int | None = None
    waited_s: float = 0.0
    #: called with (position, eta seconds) whenever either changes while waiting
    on_place: Callable[[int, float], Any] | None = None
    _last_place: tuple[int, int] | None = None
    #: back in line after an upstream 429: at the head of its participant's line
    front: bool = False


@dataclass
class _Slot:
    at: float
    cost: dict[str, int]


class FairQueue:
    """Round-robin over participants, within the key's limits (teacher's and learned). One event loop."""

    def __init__(self, limits: Callable[[], KeyLimits]) -> None:
        self._read_limits = limits
        self._cfg: KeyLimits | None = None
        self._cfg_at = -math.inf
        self._seq = itertools.count()
        self._window: deque[_Slot] = deque()        # what was sent in the last window_s ...
        self._in_window = dict.fromkeys(_KINDS, 0)   # ... and its sums, kept as slots come and go
        self._waiting: dict[int, deque[Ticket]] = {}
        self._rotation: deque[int] = deque()        # participants with someone waiting, next first
        self._served: dict[int, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        #: limits the upstream's headers told (x-ratelimit-limit-*)
        self.learned: dict[str, int] = {}
        #: no request goes before this (monotonic): a 429's Retry-After, or remaining 0 until reset
        self.blocked_until = 0.0
        self.blocked_why = ""
        #: the participants' ids in the order their requests were let go, newest last
        self.dispatched: deque[int] = deque(maxlen=_LOG_SIZE)
        self.upstream_429s = 0
        self.refused_too_long = 0
        self.waits: deque[float] = deque(maxlen=200)  # seconds waited by the latest requests that waited

    # -- the limits --------------------------------------------------------------------------------
    def _limits(self) -> KeyLimits:
        """The teacher's settings, read again at most every ``_SETTINGS_TTL_S`` (they live in SQLite)."""
        now = time.monotonic()
        if self._cfg is None or now - self._cfg_at > _SETTINGS_TTL_S:
            self._cfg, self._cfg_at = self._read_limits(), now
        return self._cfg

    def limits(self, cfg: KeyLimits | None = None) -> dict[str, int]:
        """Each limit in force: the lower of the teacher's and the upstream's."""
        out = dict((cfg or self._limits()).set())
        for kind, value in self.learned.items():
            out[kind] = min(value, out.get(kind, value))
        return out

    def _used(self, now: float, window: float) -> dict[str, int]:
        while self._window and self._window[0].at <= now - window:
            self._count(self._window.popleft(), -1)
        return self._in_window

    def _count(self, slot: _Slot, sign: int) -> None:
        for kind, k in slot.cost.items():
            self._in_window[kind] += sign * k

    def _fits(self, cost: dict[str, int], used: dict[str, int], limits: dict[str, int]) -> bool:
        # a request larger than a whole limit could never fit: it goes when the window is empty
        return all(used.get(k, 0) + cost.get(k, 0) <= limit or used.get(k, 0) == 0 for k, limit in limits.items())

    # -- a participant's side ---------------------------------------------------------------------
    def ticket(self, participant_id: int, label: str, *, images: int = 1, tokens: int = 0) -> Ticket:
        return Ticket(participant_id, label, {"requests": 1, "images": max(1, images), "tokens": max(0, tokens)},
                      seq=next(self._seq))

    def would_wait(self, ticket: Ticket) -> bool:
        """Whether ``wait`` would have to wait for this ticket now (someone ahead, no room, a block)."""
        return self._would_wait(ticket, time.monotonic(), self._limits())

    def _would_wait(self, ticket: Ticket, now: float, cfg: KeyLimits) -> bool:
        if self._rotation or ticket.front or now < self.blocked_until:
            return True
        limits = self.limits(cfg)
        return bool(limits) and not self._fits(ticket.cost, self._used(now, cfg.window_s), limits)

    async def wait(self, ticket: Ticket, on_place: Callable[[int, float], Any] | None = None) -> None:
        """Return when the request may go; raise ``Refusal`` (429) when the wait would pass ``max_wait_s``."""
        now, cfg = time.monotonic(), self._limits()
        if not self._would_wait(ticket, now, cfg):
            self._go(ticket, now, cfg.window_s)  # the fast path: room, and nobody ahead
            return
        ticket.on_place = on_place
        ticket.granted = asyncio.get_running_loop().create_future()
        self._enqueue(ticket, front=ticket.front)
        ticket.front = False
        self._pump()
        if not ticket.granted.done():
            position, eta = self.place(ticket)
            ticket.first_position = ticket.first_position or position
            max_wait = self._limits().max_wait_s
            if (now - ticket.entered) + eta > max_wait:
                self._leave(ticket)
                raise self._too_long(ticket, position, eta, max_wait)
            self._tell(ticket)
        try:
            left = max(0.0, self._limits().max_wait_s - (time.monotonic() - ticket.entered))
            await asyncio.wait_for(asyncio.shield(ticket.granted), timeout=left)
        except asyncio.TimeoutError:
            self._leave(ticket)
            position, eta = self.place(ticket)
            raise self._too_long(ticket, position, eta, self._limits().max_wait_s) from None
        except BaseException:  # the participant left: the place goes to the next one
            self._leave(ticket)
            raise

    def requeue(self, ticket: Ticket, status: int, headers: Any) -> None:
        """After an upstream 429 for a rate limit: learn from it, and count the request as not served;
        the next ``wait`` puts it back at the head of its participant's line, its wait so far kept."""
        self.upstream_429s += 1
        self._undo(ticket)
        ticket.front = True
        self.answered(ticket, status, headers)

    def answered(self, ticket: Ticket, status: int, headers: Any) -> None:
        """Learn the key's limits from an upstream answer's headers (any status)."""
        now = time.monotonic()
        for slot in reversed(self._window):
            if slot.cost is ticket.cost:
                slot.at = min(now, slot.at + _ARRIVAL_SHARE * self._limits().window_s)
                break
        for kind in _KINDS:
            limit = _int(headers.get(f"x-ratelimit-limit-{kind}"))
            if limit is not None and limit > 0:
                self.learned[kind] = limit
            remaining = _int(headers.get(f"x-ratelimit-remaining-{kind}"))
            reset = parse_duration(headers.get(f"x-ratelimit-reset-{kind}"))
            if remaining == 0 and reset is not None and status != 429:
                self._block(now + reset, f"the key's {kind} limit is used up")
        if status == 429:
            from ..api._http import parse_retry_after

            wait = parse_retry_after(headers)
            self._block(now + (wait if wait is not None else 1.0), "the image service asked to wait")
        self._pump()

    # -- what the line looks like ---------------------------------------------------------------------
    def place(self, ticket: Ticket) -> tuple[int, float]:
        """(position, seconds until it goes, about) of a waiting ticket: 1 is next."""
        order = self._order()
        try:
            position = order.index(ticket) + 1
        except ValueError:
            return 0, 0.0
        return position, self._eta(order[:position])

    def snapshot(self) -> dict:
        """For the dashboard: who waits where, the limits (set and learned), the latest waits."""
        now = time.monotonic()
        order = self._order()
        cfg = self._limits()
        used = dict(self._used(now, cfg.window_s))
        return {
            "waiting": [{"position": i + 1, "label": t.label, "participant_id": t.participant_id,
                         "waited_s": round(now - t.entered, 1), "eta_s": round(self._eta(order[:i + 1]), 1)}
                        for i, t in enumerate(order)],
            "limits": self.limits(), "learned": dict(self.learned), "set": cfg.set(),
            "used": {k: v for k, v in used.items() if k in self.limits()},
            "window_s": cfg.window_s, "max_wait_s": cfg.max_wait_s,
            "blocked_for_s": round(max(0.0, self.blocked_until - now), 1),
            "blocked_why": self.blocked_why if self.blocked_until > now else "",
            "waits": {"count": len(self.waits), "longest_s": round(max(self.waits, default=0.0), 1),
                      "mean_s": round(sum(self.waits) / len(self.waits), 1) if self.waits else 0.0},
            "upstream_429s": self.upstream_429s, "refused_too_long": self.refused_too_long,
        }

    # -- the works --------------------------------------------------------------------------------------
    def _enqueue(self, ticket: Ticket, front: bool = False) -> None:
        pid = ticket.participant_id
        if pid not in self._rotation:
            # one who comes (back) to the line ranks by what they were served, within one round of the
            # least-served of those waiting: a request put back after an upstream 429, or a first
            # request, goes before others' next ones; a long absence banks one round of credit at
            # most, and what one made earlier costs at most one round
            floor = min((self._served.get(p, 0) for p in self._rotation), default=None)
            if floor is not None:
                self._served[pid] = min(max(self._served.get(pid, 0), floor - 1), floor + 1)
            self._rotation.append(pid)
        line = self._waiting.setdefault(pid, deque())
        line.appendleft(ticket) if front else line.append(ticket)

    def _leave(self, ticket: Ticket) -> None:
        line = self._waiting.get(ticket.participant_id)
        if line is not None and ticket in line:
            line.remove(ticket)
            if not line:
                del self._waiting[ticket.participant_id]
                self._rotation.remove(ticket.participant_id)
        self._pump()

    def _undo(self, ticket: Ticket) -> None:
        """A request the upstream refused for its rate: not served, and its slot is not the key's."""
        for slot in self._window:
            if slot.cost is ticket.cost:
                self._window.remove(slot)
                self._count(slot, -1)
                break
        self._served[ticket.participant_id] = max(0, self._served.get(ticket.participant_id, 0) - 1)
        if self.dispatched and ticket.participant_id in self.dispatched:
            # the newest mention of this participant is the refused one
            for i in range(len(self.dispatched) - 1, -1, -1):
                if self.dispatched[i] == ticket.participant_id:
                    del self.dispatched[i]
                    break

    def _order(self) -> list[Ticket]:
        """Waiting tickets in the order they will go: the least-served participant first, ties in
        rotation order; each participant's own requests in the order they came."""
        rank = {pid: i for i, pid in enumerate(self._rotation)}
        heads = {pid: list(line) for pid, line in self._waiting.items()}
        keyed = []
        for pid, tickets in heads.items():
            served = self._served.get(pid, 0)
            for k, t in enumerate(tickets):
                keyed.append(((served + k, rank[pid]), t))
        keyed.sort(key=lambda kt: kt[0])
        return [t for _, t in keyed]

    def _eta(self, ahead: list[Ticket]) -> float:
        """Seconds until the last of ``ahead`` can go, from the window's slots and the block."""
        now = time.monotonic()
        cfg = self._limits()
        start = max(0.0, self.blocked_until - now)
        limits = self.limits()
        if not limits:
            return start
        used = self._used(now, cfg.window_s)
        eta = start
        for kind, limit in limits.items():
            need = used[kind] + sum(t.cost.get(kind, 0) for t in ahead) - limit
            if need <= 0:
                continue
            expiries, k = [], 0
            for slot in self._window:  # the window's slots age out in order
                k += slot.cost.get(kind, 0)
                expiries.append((k, slot.at + cfg.window_s - now))
            cycles, rest = divmod(need - 1, max(1, limit))
            wait = next((t for freed, t in expiries if freed > rest), cfg.window_s)
            eta = max(eta, wait + cycles * cfg.window_s)
        return eta

    def _go(self, ticket: Ticket, now: float, window: float) -> None:
        self._used(now, window)  # the window holds one window's slots, limit or none
        slot = _Slot(now, ticket.cost)
        self._window.append(slot)
        self._count(slot, +1)
        self._served[ticket.participant_id] = self._served.get(ticket.participant_id, 0) + 1
        self.dispatched.append(ticket.participant_id)
        ticket.waited_s = now - ticket.entered
        if ticket.granted is not None:
            self.waits.append(ticket.waited_s)
            if not ticket.granted.done():
                ticket.granted.set_result(None)

    def _pump(self) -> None:
        """Let go whoever fits now, in order; then wake up when the next room appears."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._rotation:
            return
        now = time.monotonic()
        cfg = self._limits()
        limits = self.limits()
        if now >= self.blocked_until:
            for ticket in self._order():
                if limits and not self._fits(ticket.cost, self._used(now, cfg.window_s), limits):
                    break  # strict order: nobody overtakes the one whose turn it is
                line = self._waiting[ticket.participant_id]
                line.popleft()
                if not line:
                    del self._waiting[ticket.participant_id]
                    self._rotation.remove(ticket.participant_id)
                else:  # served: to the back of the rotation
                    self._rotation.remove(ticket.participant_id)
                    self._rotation.append(ticket.participant_id)
                self._go(ticket, now, cfg.window_s)
        if not self._rotation:
            return
        for ticket in self._order():
            self._tell(ticket)
        wake = self.blocked_until if now < self.blocked_until else (
            self._window[0].at + cfg.window_s if self._window else now + 0.05)
        self._timer = asyncio.get_running_loop().call_at(
            asyncio.get_running_loop().time() + max(0.001, wake - now), self._pump)

    def _tell(self, ticket: Ticket) -> None:
        if ticket.on_place is None:
            return
        position, eta = self.place(ticket)
        said = (position, math.ceil(eta))
        if said != ticket._last_place:
            ticket._last_place = said
            try:
                ticket.on_place(position, eta)
            except Exception:  # a participant's connection is their own business
                pass

    def _block(self, until: float, why: str) -> None:
        if until > self.blocked_until:
            self.blocked_until, self.blocked_why = until, why

    def _too_long(self, ticket: Ticket, position: int, eta: float, max_wait: float) -> Refusal:
        self.refused_too_long += 1
        waited = time.monotonic() - ticket.entered
        wait = math.ceil(max(eta, 1.0))
        return Refusal(429, f"The class is waiting in line for the image service: you are {ordinal(position)} in "
                       f"line and your request would go in about {wait} s (you have waited {waited:.0f} s); the "
                       f"teacher lets a request wait at most {max_wait:g} s. You were not charged. Run the "
                       "cell again in a while.", code="queue_wait_too_long", type="requests",
                       headers={"retry-after": str(wait), "x-should-retry": "false"})


def place_text(position: int, eta_s: float) -> str:
    """'3rd in line, about 40 s' (what a participant reads; the package's ``QueueEvent`` says the same)."""
    return QueueEvent.at(position, eta_s).text


def parse_duration(value: str | None) -> float | None:
    """The API's reset durations: '1s', '6m0s', '0.5s', '120ms', '1h2m3.5s' -> seconds."""
    if not value:
        return None
    text = value.strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        try:
            return max(0.0, float(text))
        except ValueError:
            return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
