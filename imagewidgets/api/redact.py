"""Masking the API key: one function, used wherever text enters a result, a turn, a file or an error.

    >>> redact({"prompt": "use sk-abc123 here", "api_key": "x"}, ("sk-abc123",))
    {'prompt': 'use *** here', 'api_key': '***'}

The client masks what it builds results from (the prompt, the parameters, the server's revised
prompt, error bodies), so everything downstream (saved metadata, the session's store, exports,
history, reprs) holds only masked text. The session masks its turn records with the same function.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["redact", "MASK"]

MASK = "***"

#: dict keys whose values are secrets whatever they hold
_SECRET_KEY = re.compile(r"(api[_-]?key|secret|token(?!s)|password|authorization|bearer)", re.I)


def redact(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """A JSON-ready copy of ``value`` without secrets: keys that name one are masked, and any
    known secret string (the API key) is cut out wherever it appears."""
    if isinstance(value, dict):
        return {str(k): (MASK if _SECRET_KEY.search(str(k)) else redact(v, secrets)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        for s in secrets:
            if s and s in value:
                value = value.replace(s, MASK)
        return value
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value), secrets)
