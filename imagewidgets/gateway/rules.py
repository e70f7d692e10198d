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

from ..api.models import DEFAULT_RESPONSES_MODEL

__all__ = ["ClassRules", "Limiter", "Refusal"]

#: the mainline model a class may use unless the teacher allows others (``--mainline-models``)
DEFAULT_MAINLINE_MODELS = (DEFAULT_RESPONSES_MODEL,)
#: the Responses tools a class may use unless the teacher allows others (``--tools``): the image
#: tool only; web search, code interpreter, file search and the like bill per call, outside the estimate
DEFAULT_TOOLS = ("image_generation",)
#: a Responses turn's mainline output, reasoning included, at most (``--max-output-tokens``)
DEFAULT_MAX_OUTPUT_TOKENS = 2000
_TUPLES = ("models", "sizes", "qualities", "mainline_models", "tools")


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
    #: the Responses API's mainline models (the ``model`` of ``/v1/responses``); empty: any
    mainline_models: tuple[str, ...] = DEFAULT_MAINLINE_MODELS
    #: the Responses tools (their ``type``) a request may list; empty: any
    tools: tuple[str, ...] = DEFAULT_TOOLS
    #: a Responses turn's ``max_output_tokens`` is set to at most this, so its cost has a ceiling
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict | None) -> "ClassRules":
        d = dict(d or {})
        for k in _TUPLES:  # a key a stored rule set lacks keeps its default (deny-by-default lists)
            if k in d:
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


    def check_response(self, fields: dict) -> Refusal | None:
        """A Responses body's mainline model and tools against the allow-lists."""
        model = fields.get("model")
        if self.mainline_models and model not in self.mainline_models:
            asked_for = repr(model) if model is not None else "no model"
            return Refusal(400, f"This class may use the mainline model {_listing(self.mainline_models)} in the "
                           f"Responses API; your request asked for {asked_for}. Change model and run it again.",
                           code="model_not_allowed", param="model")
        for i, tool in enumerate(fields.get("tools") or []):
            kind = tool.get("type") if isinstance(tool, dict) else None
            if self.tools and kind not in self.tools:
                return Refusal(400, f"This class may use the tool(s) {_listing(self.tools)}; your request "
                               f"lists {kind!r}. Remove tools[{i}] and run it again.",
                               code="tool_not_allowed", param=f"tools[{i}].type")
        return None

    def bound_response(self, fields: dict) -> dict:
        """The body with its ceilings set: ``max_output_tokens`` at most the class's, one image-tool call
        (a turn the model could stretch to five images would cost five reservations)."""
        out = dict(fields)
        asked = out.get("max_output_tokens")
        if not isinstance(asked, int) or isinstance(asked, bool) or asked > self.max_output_tokens:
            out["max_output_tokens"] = self.max_output_tokens
        calls = out.get("max_tool_calls")
        if not isinstance(calls, int) or isinstance(calls, bool) or calls > 1:
            out["max_tool_calls"] = 1
        return out


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
