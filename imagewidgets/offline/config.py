"""Switches of the offline image API: latency, rate limits, failures, moderation, auth, state.

Every switch is a field of :class:`OfflineConfig`, settable three ways (later wins): the
defaults below, environment variables ``IMAGEWIDGETS_OFFLINE_<FIELD>`` (read by
``OfflineConfig.from_env()``, used by ``imagewidgets serve`` and the embedded server), and the
flags of ``imagewidgets serve``:

=============================  ===========================================  ======================
field                          environment variable                         ``serve`` flag
=============================  ===========================================  ======================
``latency_s``                  ``IMAGEWIDGETS_OFFLINE_LATENCY_S``           ``--latency``
``partial_interval_s``         ``IMAGEWIDGETS_OFFLINE_PARTIAL_INTERVAL_S``  ``--partial-interval``
``rate_limit``                 ``IMAGEWIDGETS_OFFLINE_RATE_LIMIT``          ``--rate-limit``
``rate_window_s``              ``IMAGEWIDGETS_OFFLINE_RATE_WINDOW_S``       ``--rate-window``
``images_per_minute``          ``IMAGEWIDGETS_OFFLINE_IMAGES_PER_MINUTE``   ``--images-per-minute``
``fail_rate``                  ``IMAGEWIDGETS_OFFLINE_FAIL_RATE``           ``--fail-rate``
``fail_first``                 ``IMAGEWIDGETS_OFFLINE_FAIL_FIRST``          ``--fail-first``
``seed``                       ``IMAGEWIDGETS_OFFLINE_SEED``                ``--seed``
``cut_stream_after``           ``IMAGEWIDGETS_OFFLINE_CUT_STREAM_AFTER``    ``--cut-stream-after``
``moderation``                 ``IMAGEWIDGETS_OFFLINE_MODERATION``          ``--no-moderation``
``blocked_words``              ``IMAGEWIDGETS_OFFLINE_BLOCKED_WORDS``       ``--blocked-words``
``low_allowed_words``          ``IMAGEWIDGETS_OFFLINE_LOW_ALLOWED_WORDS``   ``--low-allowed-words``
``output_blocked_words``       ``IMAGEWIDGETS_OFFLINE_OUTPUT_BLOCKED_WORDS`` (environment only)
``require_api_key``            ``IMAGEWIDGETS_OFFLINE_REQUIRE_API_KEY``     ``--require-api-key``
``state_dir``                  ``IMAGEWIDGETS_OFFLINE_STATE_DIR``           ``--state-dir``
``memory_limit_mb``            ``IMAGEWIDGETS_OFFLINE_MEMORY_LIMIT_MB``     ``--memory-limit``
``state_ttl_days``             ``IMAGEWIDGETS_OFFLINE_STATE_TTL_DAYS``      ``--state-ttl``
``max_body_mb``                ``IMAGEWIDGETS_OFFLINE_MAX_BODY_MB``         ``--max-body``
``max_header_kb``              ``IMAGEWIDGETS_OFFLINE_MAX_HEADER_KB``       ``--max-header``
``body_timeout_s``             ``IMAGEWIDGETS_OFFLINE_BODY_TIMEOUT_S``      ``--body-timeout``
``batch_rate``                 ``IMAGEWIDGETS_OFFLINE_BATCH_RATE``          ``--batch-rate``
``batch_fail_rate``            ``IMAGEWIDGETS_OFFLINE_BATCH_FAIL_RATE``     ``--batch-fail-rate``
``as_of``                      ``IMAGEWIDGETS_OFFLINE_AS_OF``               ``--as-of``
``calendar``                   ``IMAGEWIDGETS_OFFLINE_CALENDAR``            ``--calendar on|off``
``background_s``               ``IMAGEWIDGETS_OFFLINE_BACKGROUND_S``        ``--background-wait``
``pictures``                   ``IMAGEWIDGETS_OFFLINE_PICTURES``            ``--pictures``
=============================  ===========================================  ======================

Word lists are comma-separated in the environment and on the command line; booleans take
``1/0``, ``true/false``, ``yes/no``, ``on/off``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

__all__ = ["OfflineConfig", "ENV_PREFIX", "default_state_dir", "parse_day"]

ENV_PREFIX = "IMAGEWIDGETS_OFFLINE_"


def default_state_dir() -> Path:
    """``$IMAGEWIDGETS_HOME/offline-state`` (``IMAGEWIDGETS_HOME`` defaults to ``~/.imagewidgets``)."""
    home = os.environ.get("IMAGEWIDGETS_HOME") or os.path.join("~", ".imagewidgets")
    return Path(home).expanduser() / "offline-state"


@dataclass(frozen=True)
class OfflineConfig:
    """How the offline server behaves. The defaults answer at once, never fail and keep state in memory."""

    #: seconds to wait before answering each API request (a slow network or a busy model)
    latency_s: float = 0.0
    #: at least this many seconds between streamed frames, so a client sees partial images arrive one
    #: by one (the embedded server, the default backend, uses 0.3 unless the environment sets it)
    partial_interval_s: float = 0.0
    #: at most this many API requests per ``rate_window_s``, then 429 with Retry-After (None: no limit)
    rate_limit: int | None = None
    rate_window_s: float = 60.0
    #: at most this many images (``n`` of each request, 1 for a Responses call) per ``rate_window_s``,
    #: then 429 with Retry-After and ``x-ratelimit-*-images`` headers, as the API's images-per-minute
    #: limit answers (None: no limit). A shorter window compresses the minute for tests and rehearsals.
    images_per_minute: int | None = None
    #: share of API requests answered with 500, drawn from a RNG seeded with ``seed``
    fail_rate: float = 0.0
    #: the first k API requests are answered with 503 (for retry tests)
    fail_first: int = 0
    seed: int = 0
    #: end every stream after this many events, without its completed event (None: never)
    cut_stream_after: int | None = None
    #: block prompts containing ``blocked_words`` (400 moderation_blocked)
    moderation: bool = True
    blocked_words: tuple[str, ...] = ("forbidden", "gore", "bloodshed")
    #: words that ``moderation="low"`` lets through (a subset of ``blocked_words``)
    low_allowed_words: tuple[str, ...] = ("gore",)
    #: blocked words refused at the output stage (the picture made is withheld), as a Responses image
    #: call's ``moderation_details.moderation_stage`` says; the others are refused at the input stage
    output_blocked_words: tuple[str, ...] = ("bloodshed",)
    #: the API key clients must send as ``Authorization: Bearer KEY`` (None: any or none)
    require_api_key: str | None = None
    #: folder where responses, image calls and files persist (None: in memory)
    state_dir: str | None = None
    #: in memory, keep at most this many MB of records and images; the least recently used go
    #: first, and a forgotten response id is answered like an expired one (0: no limit)
    memory_limit_mb: float = 512.0
    #: in a state folder, forget records not written for this many days when the server starts
    #: (OpenAI keeps responses 30 days; 0: keep everything)
    state_ttl_days: float = 30.0
    #: a request body larger than this is answered 413 before it is read (the API takes edit
    #: images below 50 MB; sent as base64 JSON one is about 67 MB: 100 MB leaves room for a mask)
    max_body_mb: float = 100.0
    #: the request line and headers together may be at most this many KB (431/400 beyond); the
    #: API's requests carry a few hundred bytes of headers
    max_header_kb: int = 64
    #: a request body must arrive within this many seconds of the headers, else 408 (a client
    #: that stalls mid-upload does not hold the server's memory and a connection for ever)
    body_timeout_s: float = 60.0
    #: batches: requests processed per second in the background (0: as fast as they render)
    batch_rate: float = 0.0
    #: batches: share of requests that fail (500 in the error file); None: ``fail_rate``
    batch_fail_rate: float | None = None
    #: the twin keeps api.openai.com's calendar: models past their shutdown date are answered 404
    #: ``model_not_found`` (naming the replacement), as the live API does. The day is ``as_of``
    #: (``YYYY-MM-DD``, to rehearse another day), else today (``api.lifecycle.today()``, asked at
    #: each request, so a server left running moves with the date)
    as_of: str | None = None
    #: False (``--calendar off``): serve every model in the table, whatever the date (old notebooks)
    calendar: bool = True
    #: background Responses turns wait this many seconds ``queued`` before they are drawn (time to cancel)
    background_s: float = 0.5
    #: "drawn": the renderer's flat pictures (small files); "realistic": with grain, files the size
    #: and entropy of the API's (a 1024x1024 PNG 1.5-2.5 MB; JPEG/WebP by output_compression), for
    #: tests and rehearsals of what real pictures cost in bandwidth, disk and memory
    pictures: str = "drawn"

    def __post_init__(self) -> None:
        if self.pictures not in ("drawn", "realistic"):
            raise ValueError(f"pictures={str(self.pictures)[:40]!r}: expected drawn or realistic")
        if self.as_of is not None:
            object.__setattr__(self, "as_of", parse_day(self.as_of))

    def calendar_day(self) -> str | None:
        """The day (``YYYY-MM-DD``) whose calendar the twin plays, or None with the calendar off."""
        if not self.calendar:
            return None
        if self.as_of is not None:
            return self.as_of
        from ..api.lifecycle import today

        return today().isoformat()

    def replace(self, **changes: Any) -> "OfflineConfig":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "OfflineConfig":
        """The defaults, overridden by ``IMAGEWIDGETS_OFFLINE_*`` variables, then by ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


_INT_FIELDS = {"rate_limit", "images_per_minute", "fail_first", "seed", "cut_stream_after", "max_header_kb"}
_FLOAT_FIELDS = {"latency_s", "partial_interval_s", "rate_window_s", "fail_rate", "memory_limit_mb", "state_ttl_days",
                 "max_body_mb", "body_timeout_s", "batch_rate", "batch_fail_rate",
                 "background_s"}
_WORD_FIELDS = {"blocked_words", "low_allowed_words", "output_blocked_words"}
_BOOL_FIELDS = {"moderation", "calendar"}


def _convert(name: str, raw: str) -> Any:
    try:
        if name in _INT_FIELDS:
            return int(raw)
        if name in _FLOAT_FIELDS:
            return float(raw)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a number") from None
    if name in _WORD_FIELDS:
        return words(raw)
    if name in _BOOL_FIELDS:
        low = raw.strip().lower()
        if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw[:40]!r} is not a boolean (1/0, true/false, on/off)")
        return low in ("1", "true", "yes", "on")
    return raw


def parse_day(raw: str) -> str:
    """``"2026-12-02"`` -> itself; anything else is a ValueError naming the expected form."""
    from datetime import date

    try:
        return date.fromisoformat(str(raw).strip()).isoformat()
    except ValueError:
        raise ValueError(f"as_of={str(raw)[:40]!r} is not a date like 2026-12-02") from None


def words(raw: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")`` (lower case)."""
    return tuple(w.strip().lower() for w in raw.split(",") if w.strip())
