"""Model lifecycle: until when a server serves a model, and what to use instead.

The server says so first: its models list (``GET /v1/models``; the SDK's ``Model`` has
``shutdown_date``) is read once per base URL and kept about a day, in memory and under
``$IMAGEWIDGETS_HOME/cache``. The model table (``api/models.py``) is the fallback when the
list is unavailable or silent about a model — on api.openai.com only: other servers serve
what they serve, so only their own list's dates apply there ("unknown servers stay permissive").

A model past its shutdown date is refused before anything is sent (``ModelShutDownError``,
naming the replacement); ``allow_shut_down`` lets it through. One within 30 days warns once
per process with the date.

    >>> from datetime import date
    >>> from imagewidgets.api.lifecycle import lifecycle_of
    >>> lifecycle_of("gpt-image-1.5").status_on(date(2026, 12, 2))
    'shut down'
    >>> lifecycle_of("gpt-5").shutdown_date, lifecycle_of("gpt-5").replacement
    ('2026-12-11', 'gpt-5.5')

**One clock.** ``today()`` is the package's only way to learn the date: the lifecycle, its
warnings, the studio's notes, the magics' help, ``imagewidgets models`` and the offline twin's
calendar all ask it. It is ``IMAGEWIDGETS_TODAY`` (``YYYY-MM-DD``) when that is set — to rehearse
another day, or to pin one — else today's date in UTC. Only ``_utc_today`` reads the system
clock; tests pin the date by setting ``IMAGEWIDGETS_TODAY`` or replacing ``clock``.

    >>> import os; os.environ["IMAGEWIDGETS_TODAY"] = "2027-01-15"
    >>> today()
    datetime.date(2027, 1, 15)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable

from ._warn import warn
from .config import data_home
from .models import DEFAULT_RESPONSES_MODEL, MODELS, RESPONSES_MODEL_SHUTDOWNS, get_model, model_names

__all__ = [
    "TODAY_ENV",
    "WARN_DAYS",
    "CACHE_TTL_S",
    "Lifecycle",
    "LifecycleGate",
    "RetiredModelWarning",
    "clock",
    "today",
    "lifecycle_of",
    "parse_models_list",
    "lifecycle_table",
    "is_live",
    "live_model_names",
    "live_takers",
    "nobody_takes",
]

#: warn this many days before a model's shutdown
WARN_DAYS = 30
#: how long a models list is trusted (memory and disk)
CACHE_TTL_S = 24 * 3600.0


#: the environment variable that sets "today" for the whole package (and the processes it starts)
TODAY_ENV = "IMAGEWIDGETS_TODAY"


def _utc_today() -> date:
    """The system clock's date in UTC: the one place in the package that reads it."""
    return datetime.now(timezone.utc).date()


def _configured_today() -> date:
    """``IMAGEWIDGETS_TODAY`` when set, else the system clock's date (UTC)."""
    raw = os.environ.get(TODAY_ENV, "").strip()
    if not raw:
        return _utc_today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        # a hostile or mistyped value is never half-used: it is refused, naming the variable
        raise ValueError(f"{TODAY_ENV}={raw[:40]!r} is not a date like 2026-12-02 "
                         f"(unset it to use today's date)") from None


#: the seam tests may replace to pin "today" (``monkeypatch.setattr(lifecycle, "clock", lambda: d)``);
#: the suite's conftest pins it for every test, and sets ``IMAGEWIDGETS_TODAY`` for the processes it starts
clock: Callable[[], date] = _configured_today


def today() -> date:
    """Today's date for the package: ``IMAGEWIDGETS_TODAY``, else the UTC date (through ``clock``)."""
    return clock()


class RetiredModelWarning(UserWarning):
    """The model shuts down soon (or has, and ``allow_shut_down`` let it through)."""


@dataclass(frozen=True)
class Lifecycle:
    """One model's lifecycle as far as we know it, and where that knowledge comes from."""

    model: str
    shutdown_date: str | None = None
    replacement: str | None = None
    source: str = "none"  # "server", "table" or "none"

    def status_on(self, day: date) -> str:
        """``"live"``, ``"shutting down"`` or ``"shut down"`` on ``day``."""
        if not self.shutdown_date:
            return "live"
        return "shut down" if day.isoformat() >= self.shutdown_date else "shutting down"

    def days_left(self, day: date) -> int | None:
        if not self.shutdown_date:
            return None
        return (date.fromisoformat(self.shutdown_date) - day).days

    def instead(self) -> str:
        return f"use {self.replacement} instead" if self.replacement else "choose a current model"


def lifecycle_of(model: str, listing: dict[str, str | None] | None = None, *,
                 table: bool = True) -> Lifecycle:
    """The lifecycle of an image or mainline model: the server's ``listing`` (id -> shutdown
    date) when it names a date, else the table's (when ``table``), else nothing known."""
    spec = get_model(model)
    replacement = spec.replacement if spec else RESPONSES_MODEL_SHUTDOWNS.get(model, (None, None))[1]
    if listing and listing.get(model):
        return Lifecycle(model, str(listing[model]), replacement, "server")
    if table:
        if spec and spec.shutdown_date:
            return Lifecycle(model, spec.shutdown_date, spec.replacement, "table")
        if model in RESPONSES_MODEL_SHUTDOWNS:
            day, repl = RESPONSES_MODEL_SHUTDOWNS[model]
            return Lifecycle(model, day, repl, "table")
    return Lifecycle(model, None, replacement, "none")


def parse_models_list(body: Any) -> dict[str, str | None] | None:
    """``{"data": [{"id", "shutdown_date"}, ...]}`` -> ``{id: date or None}``; None when the body
    is not a models list. Dates that are not ``YYYY-MM-DD`` are dropped (a server's strings
    never become more than a date)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    out: dict[str, str | None] = {}
    for item in body["data"]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        day = item.get("shutdown_date")
        try:
            day = date.fromisoformat(day[:10]).isoformat() if isinstance(day, str) and day else None
        except ValueError:
            day = None
        out[item["id"][:200]] = day
    return out if out else None


# -- the models-list cache: memory, then disk -------------------------------------------------
_memory: dict[str, tuple[float, dict[str, str | None] | None]] = {}
_warned: set[tuple[str, str]] = set()


def _cache_file(base_url: str):
    key = hashlib.sha256(base_url.encode()).hexdigest()[:24]  # the URL never becomes a path
    return data_home() / "cache" / f"models-{key}.json"


def _cached(base_url: str, ttl: float) -> tuple[bool, dict[str, str | None] | None]:
    now = time.time()
    hit = _memory.get(base_url)
    if hit and now - hit[0] < ttl:
        return True, hit[1]
    try:
        saved = json.loads(_cache_file(base_url).read_text())
        if saved.get("base_url") == base_url and now - float(saved["fetched_at"]) < ttl:
            listing = parse_models_list({"data": saved["data"]})
            _memory[base_url] = (float(saved["fetched_at"]), listing)
            return True, listing
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return False, None


def _remember(base_url: str, listing: dict[str, str | None] | None) -> None:
    now = time.time()
    _memory[base_url] = (now, listing)
    if listing is None:  # an unavailable list is retried by the next process, not kept a day
        return
    path = _cache_file(base_url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"base_url": base_url, "fetched_at": now,
                                   "data": [{"id": k, "shutdown_date": v} for k, v in listing.items()]}))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs a re-read next time


def clear_cache() -> None:
    """Forget the models lists and the warnings given in this process (not the disk cache)."""
    _memory.clear()
    _warned.clear()


@dataclass
class LifecycleGate:
    """The check a client runs before sending: refuse shut-down models, warn about ending ones.

    ``is_openai``: the table's dates apply (api.openai.com); elsewhere only the server's list's.
    ``allow_shut_down``: True, or model names, sent even past their shutdown date. Which servers
    are checked at all is the client's choice (``Client(check_lifecycle=...)``)."""

    base_url: str
    is_openai: bool
    allow_shut_down: bool | Iterable[str] = False
    ttl_s: float = CACHE_TTL_S

    def cached_listing(self) -> tuple[bool, dict[str, str | None] | None]:
        """(known, listing): whether the list was read within the TTL, and what it said."""
        return _cached(self.base_url, self.ttl_s)

    def store_listing(self, body: Any) -> dict[str, str | None] | None:
        listing = parse_models_list(body)
        _remember(self.base_url, listing)
        return listing

    def _allowed(self, model: str) -> bool:
        if self.allow_shut_down is True:
            return True
        if not self.allow_shut_down:
            return False
        return model in set(self.allow_shut_down)

    def check(self, models: Iterable[str], listing: dict[str, str | None] | None,
              day: date | None = None) -> None:
        """Raise ``ModelShutDownError`` for a model past its date; warn once for one within
        ``WARN_DAYS``. ``models``: the image model and, for Responses turns, the mainline one."""
        from .errors import ModelShutDownError

        day = day or today()
        where = "api.openai.com" if self.is_openai else self.base_url
        for model in models:
            life = lifecycle_of(model, listing, table=self.is_openai)
            status = life.status_on(day)
            said = "per the server's models list" if life.source == "server" else "per imagewidgets' model table"
            if status == "shut down":
                if not self._allowed(model):
                    raise ModelShutDownError(model, life.shutdown_date or "", life.replacement, where, said)
                self._warn_once(model, f"{model} shut down on {where} on {life.shutdown_date} ({said}); "
                                       f"sent anyway because allow_shut_down lets it through")
            elif status == "shutting down":
                left = life.days_left(day)
                if left is not None and left <= WARN_DAYS:
                    self._warn_once(model, f"{model} shuts down on {where} on {life.shutdown_date} "
                                           f"(in {left} day{'s' if left != 1 else ''}, {said}); {life.instead()}")

    def _warn_once(self, model: str, message: str) -> None:
        key = (self.base_url, model)
        if key in _warned:
            return
        _warned.add(key)
        warn(message, RetiredModelWarning)  # attributed to the user's line


def lifecycle_table(listing: dict[str, str | None] | None = None, day: date | None = None,
                    *, is_openai: bool = True) -> list[dict[str, Any]]:
    """Every model the table names (image and mainline) with its date, status on ``day`` and
    the source of the date — what the README's model section and ``imagewidgets models`` show."""
    day = day or today()
    names = model_names() + sorted(set(RESPONSES_MODEL_SHUTDOWNS) | {DEFAULT_RESPONSES_MODEL})
    if listing:
        names += sorted(n for n in listing if n not in names and listing[n])
    rows = []
    for name in names:
        life = lifecycle_of(name, listing, table=is_openai)
        rows.append({"model": name, "kind": "image" if get_model(name) else "mainline",
                     "status": life.status_on(day), "shutdown_date": life.shutdown_date,
                     "replacement": life.replacement, "source": life.source})
    return rows


def is_live(model: str, day: date | None = None) -> bool:
    """Whether api.openai.com serves ``model`` on ``day`` (default today) per the table's dates; a
    model the table does not know is live (the server decides). The table states the dates, the
    calendar holds the clock: this is where the two meet.

        >>> is_live("gpt-image-1.5", date(2026, 11, 30)), is_live("gpt-image-1.5", date(2026, 12, 1))
        (True, False)
    """
    return lifecycle_of(model).status_on(day or today()) != "shut down"


def live_model_names(endpoint: str | None = None, day: date | None = None) -> list[str]:
    """The table's model names (serving ``endpoint`` when given) that are not shut down on ``day``
    (default today): what help texts and choosers offer."""
    return [name for name in model_names(endpoint) if is_live(name, day)]


def live_takers(accepts: Callable[[Any], bool], day: date | None = None) -> tuple[list[str], list[str]]:
    """``(live, replacements)``: the table's image models that ``accepts`` and are not shut down on
    ``day`` (default today), and — for those that are — their replacements that are live, so a text
    never offers a model the API no longer serves."""
    day = day or today()
    live: list[str] = []
    gone: list[str] = []
    for name, spec in MODELS.items():
        if accepts(spec):
            (gone if spec.status_on(day) == "shut down" else live).append(name)
    replacements: list[str] = []
    for name in gone:
        repl = MODELS[name].replacement
        while repl and repl in MODELS and MODELS[repl].status_on(day) == "shut down":
            repl = MODELS[repl].replacement  # a replacement that shut down in turn: follow the chain
        if repl and repl not in replacements and repl not in live:
            replacements.append(repl)
    return live, replacements


def nobody_takes(what: str, replacements: Iterable[str]) -> str:
    """"no current model takes --input-fidelity: the models that took it are shut down, replaced by
    gpt-image-2.6-sunburst": the words for an option only retired models took."""
    repl = list(replacements)
    if not repl:
        return f"no current model takes {what}"
    return f"no current model takes {what}: the models that took it are shut down, replaced by {' or '.join(repl)}"
